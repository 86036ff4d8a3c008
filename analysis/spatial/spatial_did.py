"""Spatial difference-in-differences: the policy dummy and its spatial lag inside a two-way FE
spatial Durbin model.

    y_it = rho sum_j w_ij y_jt + delta D_it + phi sum_j w_ij D_jt + X_it beta + (W X)_it theta
           + mu_i + alpha_t + e_it

D_it is the treatment dummy (on from the adoption year). The LeSage-Pace effects of D split the
policy effect into a *direct* effect (the average effect on a treated county of its own treatment,
including feedback through neighbours) and an *indirect* or spillover effect (the average effect on
all other counties of one county's treatment, summed), with SEs from parameter draws. With
rho = phi = 0 the direct effect is the usual TWFE DiD coefficient.

References
----------
Delgado, M.S. and Florax, R.J.G.M. (2015), "Difference-in-differences techniques for spatial data:
local autocorrelation and spatial interaction", *Economics Letters* 137: 123-126.
Chagas, A.L.S., Azzoni, C.R. and Almeida, A.N. (2016), "A spatial difference-in-differences
analysis of the impact of sugarcane production on respiratory diseases", *Regional Science and
Urban Economics* 59: 24-36.
Stata: ``xsmle y D x, fe type(both) model(sdm) wmat(W) effects``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd

from ..did._treatment import treatment_input
from ..errors import TreatmentTimingError, describe_rows
from ..results import EstimationResult
from ..validation import as_list, require_columns
from .effects import effects_point
from .panel_models import SpatialPanelResult, spatial_panel
from .weights import as_spatial_weights

__all__ = ["SpatialDiDResult", "spatial_did"]

_REFERENCE = "Delgado and Florax (2015), Economics Letters 137 (spatial DiD); Stata xsmle ..., model(sdm) effects"

#: the treatment terms of a spatial DiD: direct (the DiD coefficient), spillover and total effects
DID_TERMS = ("did", "did_spillover", "did_total")


def _w_eig(res, w):
    return as_spatial_weights(w).eigenvalues()


@dataclass(repr=False)
class SpatialDiDResult(EstimationResult):
    """Spatial DiD: ``params`` are the policy effects ``did`` (direct), ``did_spillover`` (indirect)
    and ``did_total`` with SEs from parameter draws (NaN with ``n_draws=0``).

    Attributes (besides those of :class:`~analysis.results.EstimationResult`)
    ----------
    sdm
        The full spatial Durbin fit (:class:`SpatialPanelResult`: rho, controls, W x terms, effects).
    extra["did"]
        The policy table with rows ``direct``, ``spillover``, ``total``, ``delta (D)``, ``phi (W*D)``.
    """

    sdm: SpatialPanelResult | None = None

    @property
    def rho(self) -> float:
        return self.sdm.rho

    @property
    def effects(self) -> pd.DataFrame | None:
        return self.sdm.effects


@treatment_input("treat")
def spatial_did(data: pd.DataFrame, y: str, treat: str, w, controls: Sequence[str] = (), *,
                effects: str = "twoways", lee_yu: bool = True, n_draws: int = 1000, seed=None,
                entity: str = "county", time: str = "year", lag_controls: bool = True,
                check_absorbing: bool = True, **kwargs) -> SpatialDiDResult:
    """Spatial DID: SDM with the treatment dummy, its spatial lag and controls.

    Parameters
    ----------
    treat
        0/1 treatment column (policy in force in that county-year).
    controls
        Control variables; they enter with their spatial lags too unless ``lag_controls=False``.
    check_absorbing
        Require the treatment to be 0/1 and never to switch off within a county
        (:class:`~analysis.errors.TreatmentTimingError` otherwise).
    **kwargs
        Passed to :func:`~analysis.spatial.panel_models.spatial_panel` (``vcov``, ``point`` ...).

    Returns
    -------
    SpatialDiDResult
        ``params``: ``did`` (direct effect), ``did_spillover`` and ``did_total``, each with its
        simulated SE, z and p-value; ``sdm`` is the full SDM fit; ``extra["did"]`` the policy table
        with the raw ``delta`` (D) and ``phi`` (W*D) coefficients too.

    Examples
    --------
    The top half of a 4 x 4 rook lattice adopts in 2015; the policy raises a county's own outcome
    by 0.5 and its neighbours' by 0.3 times the treated share of their neighbours (rho = 0):

    >>> import numpy as np, pandas as pd
    >>> from analysis.spatial import spatial_did, weights_from_matrix
    >>> r, c = np.divmod(np.arange(16), 4)
    >>> A = (np.abs(r[:, None] - r) + np.abs(c[:, None] - c) == 1).astype(float)
    >>> ids = [f"c{i:02d}" for i in range(16)]
    >>> w = weights_from_matrix(A, ids)
    >>> d = pd.DataFrame({"county": np.repeat(ids, 8), "year": np.tile(np.arange(2011, 2019), 16)})
    >>> d["treat"] = ((d["county"] < "c08") & (d["year"] >= 2015)).astype(int)
    >>> spill = (w.full() @ d["treat"].to_numpy().reshape(16, 8)).ravel()  # W D, county-major rows
    >>> rng = np.random.default_rng(0)
    >>> d["x"] = rng.normal(size=len(d))
    >>> d["y"] = 0.5 * d["treat"] + 0.3 * spill + d["x"] + rng.normal(scale=0.05, size=len(d))
    >>> res = spatial_did(d, "y", "treat", w, controls=["x"], n_draws=100, seed=0)
    >>> res.params.round(1).to_dict()
    {'did': 0.5, 'did_spillover': 0.3, 'did_total': 0.8}
    >>> res.extra["did"]["term"].tolist()
    ['direct', 'spillover', 'total', 'delta (D)', 'phi (W*D)']
    """
    controls = as_list(controls)
    require_columns(data, [treat], what="spatial_did() (the treatment column)")
    d = pd.to_numeric(data[treat], errors="coerce")
    bad = ~d.isin([0, 1])
    if bad.any():
        raise TreatmentTimingError(f"{treat!r} must be 0/1; other values in {describe_rows(data.index[bad])}.")
    if check_absorbing:
        order = data.assign(_d=d).sort_values([entity, time])
        switched_off = order.groupby(order[entity].astype(str))["_d"].apply(lambda s: bool((s.diff() < 0).any()))
        off = switched_off[switched_off].index.tolist()
        if off:
            raise TreatmentTimingError(
                f"{treat!r} switches off within {len(off)} units ({describe_rows(off)}); staggered "
                "adoption must be absorbing (once 1, always 1). Pass check_absorbing=False to allow it.")
    if d.nunique() < 2:
        raise TreatmentTimingError(f"{treat!r} does not vary; nobody or everybody is treated.")
    x = [treat, *controls]
    durbin = x if lag_controls else [treat]
    res = spatial_panel(data, y, x, w, model="sdm", effects=effects, lee_yu=lee_yu, n_draws=n_draws,
                        seed=seed, entity=entity, time=time, durbin=durbin, **kwargs)
    if res.effects is None:  # n_draws=0: plug-in effects without SEs
        d_, i_, t_ = effects_point(np.array([res.params[treat]]), np.array([res.params[f"W*{treat}"]]),
                                   res.rho, _w_eig(res, w))
        res.effects = pd.DataFrame({"variable": treat, "effect": ["direct", "indirect", "total"],
                                    "estimate": [d_[0], i_[0], t_[0]], "std_error": np.nan,
                                    "statistic": np.nan, "p_value": np.nan})
    eff = res.effects[res.effects["variable"] == treat].set_index("effect")
    rows = []
    for label, key in (("direct", "direct"), ("spillover", "indirect"), ("total", "total")):
        r = eff.loc[key]
        rows.append({"term": label, "estimate": r["estimate"], "std_error": r["std_error"],
                     "statistic": r["statistic"], "p_value": r["p_value"]})
    coef = res.to_frame().set_index("term")
    for label, term in (("delta (D)", treat), ("phi (W*D)", f"W*{treat}")):
        r = coef.loc[term]
        rows.append({"term": label, "estimate": r["estimate"], "std_error": r["std_error"],
                     "statistic": r["statistic"], "p_value": r["p_value"]})
    table = pd.DataFrame(rows)
    res.extra["did"] = table
    res.settings["treatment"] = treat
    res.settings["treated share"] = float(np.mean(d))
    head = table.iloc[:3]
    return SpatialDiDResult(
        params=pd.Series(head["estimate"].to_numpy(float), index=list(DID_TERMS)),
        std_errors=pd.Series(head["std_error"].to_numpy(float), index=list(DID_TERMS)),
        model="Spatial DID (SDM) " + res.model.split(" ", 2)[-1], df_resid=None, statistic_name="z",
        rows=res.rows, settings=dict(res.settings), reference=res.reference + "; " + _REFERENCE,
        stats=dict(res.stats), extra={"did": table}, alpha=res.alpha, outcome=y,
        fixed_effects=res.fixed_effects, vcov_type=res.vcov_type or "other", seed=res.seed, sdm=res)
