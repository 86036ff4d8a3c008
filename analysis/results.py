"""The result type every CountyFusion estimator returns.

Modelled on linearmodels' split between model and result: estimators compute, this class holds and
presents. A result carries its numbers (``params``, ``std_errors`` ...), the rows it used and dropped
with the reasons, the settings used (SE convention, seed, ...) and the reference it matches.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

__all__ = ["RowReport", "EstimationResult", "TIDY_COLUMNS"]

TIDY_COLUMNS = ["term", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]


@dataclass
class RowReport:
    """Rows used by an estimator and rows dropped, each drop with its reason.

    ``dropped`` maps a reason (e.g. ``"missing y"``, ``"singleton county"``) to a count.
    """

    n_input: int
    n_used: int
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def n_dropped(self) -> int:
        return int(sum(self.dropped.values()))

    def __post_init__(self) -> None:
        if self.n_input != self.n_used + self.n_dropped:
            raise AssertionError(
                f"row accounting does not add up: {self.n_input} input rows, {self.n_used} used, "
                f"{self.n_dropped} dropped ({self.dropped})"
            )

    def __str__(self) -> str:
        if not self.dropped:
            return f"rows used: {self.n_used} of {self.n_input} (none dropped)"
        reasons = "; ".join(f"{k}: {v}" for k, v in self.dropped.items() if v)
        return f"rows used: {self.n_used} of {self.n_input}; dropped {self.n_dropped} ({reasons})"


@dataclass
class EstimationResult:
    """Coefficients with their inference, plus provenance.

    Parameters
    ----------
    params, std_errors
        Series indexed by term name.
    df_resid
        Degrees of freedom for t-based p-values and intervals; ``None`` means normal.
    statistic_name
        ``"t"`` or ``"z"``.
    rows
        :class:`RowReport` of the estimation sample.
    settings
        Everything the user chose (and defaults applied), e.g. SE convention, fixed effects, seed.
    reference
        The paper and the Stata/R command the numbers match.
    stats
        Scalar fit statistics for tables, e.g. ``{"N": 37050, "r2_within": 0.12}``.
    extra
        Estimator-specific objects (event-time tables, bootstrap draws, ...).
    """

    params: pd.Series
    std_errors: pd.Series
    model: str = ""
    df_resid: float | None = None
    statistic_name: str = "t"
    rows: RowReport | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    reference: str = ""
    stats: dict[str, Any] = field(default_factory=dict)
    cov: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    alpha: float = 0.05

    def __post_init__(self) -> None:
        self.params = pd.Series(self.params, dtype=float)
        self.std_errors = pd.Series(self.std_errors, dtype=float).reindex(self.params.index)

    # inference ---------------------------------------------------------------------------
    def _dist(self):
        return stats.norm if self.df_resid is None else stats.t(self.df_resid)

    @property
    def tstats(self) -> pd.Series:
        return self.params / self.std_errors

    @property
    def pvalues(self) -> pd.Series:
        return pd.Series(2 * self._dist().sf(np.abs(self.tstats)), index=self.params.index)

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        a = self.alpha if alpha is None else alpha
        q = self._dist().ppf(1 - a / 2)
        return pd.DataFrame(
            {"ci_low": self.params - q * self.std_errors, "ci_high": self.params + q * self.std_errors}
        )

    # presentation ------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """Tidy table: term, estimate, std_error, statistic, p_value, ci_low, ci_high."""
        ci = self.conf_int()
        out = pd.DataFrame(
            {
                "term": self.params.index,
                "estimate": self.params.values,
                "std_error": self.std_errors.values,
                "statistic": self.tstats.values,
                "p_value": self.pvalues.values,
                "ci_low": ci["ci_low"].values,
                "ci_high": ci["ci_high"].values,
            }
        )
        return out.reset_index(drop=True)

    def summary(self) -> str:
        lines = [self.model or type(self).__name__]
        if self.reference:
            lines.append(f"reference: {self.reference}")
        for key, value in self.settings.items():
            lines.append(f"{key}: {value}")
        if self.rows is not None:
            lines.append(str(self.rows))
        for key, value in self.stats.items():
            lines.append(f"{key}: {value:.6g}" if isinstance(value, float) else f"{key}: {value}")
        lines.append(self.to_frame().to_string(index=False, float_format=lambda v: f"{v:.6g}"))
        return "\n".join(lines)

    def __repr__(self) -> str:  # pragma: no cover - display only
        return self.summary()

    def __getitem__(self, term: str) -> float:
        return float(self.params[term])

    def with_settings(self, **more: Mapping) -> "EstimationResult":
        self.settings.update(more)
        return self
