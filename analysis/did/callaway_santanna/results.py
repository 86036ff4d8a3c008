"""The result of :func:`~analysis.did.callaway_santanna`: group-time ATTs and their aggregations."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..._compat import renamed_kwargs
from ...results import EstimationResult
from . import aggregation
from .aggregation import AggregateResult

__all__ = ["CallawaySantAnnaResult"]


@dataclass
class CallawaySantAnnaResult(EstimationResult):
    """Group-time ATTs with everything needed to aggregate and bootstrap them.

    Attributes
    ----------
    att_gt : DataFrame
        ``group, time, event_time, base_period, post, att, std_error, ci_low, ci_high, band_low,
        band_high, n_treated, n_control``.
    influence : ndarray (n_units x n_cells)
        Influence functions of the cells (rows = units in ``units`` order).
    wald : dict
        Pre-trend Wald test: ``stat``, ``df``, ``p_value`` (None when not computable).
    """

    att_gt: pd.DataFrame | None = None
    influence: np.ndarray | None = None
    units: np.ndarray | None = None
    unit_group: np.ndarray | None = None  # G_i, np.inf for never treated
    unit_weight: np.ndarray | None = None
    cluster_codes: np.ndarray | None = None
    wald: dict | None = None
    crit_val: float = np.nan

    @renamed_kwargs(bootstrap="n_draws")
    def aggregate(
        self,
        type: str = "group",  # noqa: A002 - the R argument name
        balance_e: int | None = None,
        min_e: float = -np.inf,
        max_e: float = np.inf,
        na_rm: bool = False,
        n_draws: int | None = None,
        seed=None,
        alpha: float | None = None,
    ) -> AggregateResult:
        """Aggregate ATT(g,t) as R ``did::aggte`` (with the weight influence-function term).

        Parameters
        ----------
        type : {"simple", "dynamic", "group", "calendar"}
        balance_e : keep only cohorts observed for at least ``balance_e`` periods after
            treatment, and event times up to ``balance_e`` (dynamic only).
        min_e, max_e : event-time window (dynamic; ``max_e`` also limits simple/group).
        na_rm : drop cells whose ATT is missing instead of raising.
        n_draws : multiplier-bootstrap draws (R ``biters``; old keyword ``bootstrap=``); default:
            as in the ATT(g,t) estimation.
        seed : default: the seed used for the ATT(g,t) estimation.
        """
        return aggregation.aggregate(self, type, balance_e=balance_e, min_e=min_e, max_e=max_e, na_rm=na_rm,
                                     n_draws=n_draws, seed=seed, alpha=alpha)

    @renamed_kwargs(bootstrap="n_draws")
    def event_study(self, overall: str = "simple", **kwargs):
        """The dynamic aggregation as the shared :class:`~analysis.did._common.EventStudyResult`.

        Event-time estimates with their covariance ``Psi'Psi / n^2`` (analytic; the same matrix
        R's ``honest_did.AGGTEobj`` builds), pointwise or uniform-band critical value, the overall
        (average over e >= 0) estimate and the analytic pre-trend Wald test of the ATT(g,t).
        With ``base_period="universal"`` the reference period -1 is a fixed zero and is dropped
        from the table (it is drawn as the reference). Keyword arguments go to :meth:`aggregate`
        (``balance_e``, ``min_e``, ``max_e``, ...).

        ``overall="simple"`` (default) reports the simple aggregation (ATT over all treated
        unit-periods, weights proportional to cohort size: the estimand of the imputation
        estimator's overall ATT and of Sun-Abraham's ``agg="att"``); ``overall="dynamic"`` the
        average of the event-time effects e >= 0 (aggte dynamic overall). Both are kept in
        ``extra``.
        """
        return aggregation.event_study(self, overall, **kwargs)

    def event_time_table(self, **kwargs) -> pd.DataFrame:
        """Event-time table (dynamic aggregation) with ``event_time`` column."""
        return self.aggregate("dynamic", **kwargs).table
