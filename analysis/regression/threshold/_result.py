"""The result of :func:`analysis.regression.threshold`: regime coefficients plus threshold tables."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ...results import EstimationResult

__all__ = ["ThresholdResult", "plot_lr"]


@dataclass(repr=False)
class ThresholdResult(EstimationResult):
    """Result of :func:`threshold`: regime coefficients plus the threshold tables.

    Attributes (besides those of :class:`~analysis.results.EstimationResult`)
    ----------
    thresholds
        Estimated thresholds of the final model, sorted (len = n_thresholds).
    threshold_table
        One row per xthreg row (Th-1, Th-21, Th-22, Th-3): ``estimate``, ``ci_low``, ``ci_high``.
    f_table
        xthreg's ``e(Fstat)``: one row per test (Single, Double, Triple) with ``rss``, ``mse``,
        ``F``, ``p_value``, ``crit10``, ``crit5``, ``crit1``, ``n_boot``.
    lr_curve
        Long frame with ``stage``, ``gamma``, ``ssr``, ``lr`` for every grid point (xthreg
        ``e(LR)``, ``e(LR21)``, ``e(LR22)``, ``e(LR3)``); masked points are left out.
    regimes
        Regime code, lower and upper bound, number of observations.
    boot_F
        Bootstrap F statistics by stage (dict stage -> array).
    """

    thresholds: np.ndarray = field(default_factory=lambda: np.empty(0))
    threshold_table: pd.DataFrame | None = None
    f_table: pd.DataFrame | None = None
    lr_curve: pd.DataFrame | None = None
    regimes: pd.DataFrame | None = None
    boot_F: dict = field(default_factory=dict)
    critical_value: float = float("nan")

    def summary(self) -> str:
        """Coefficients (as EstimationResult.summary) followed by the threshold and F-test tables."""
        fmt = lambda v: f"{v:.6g}"  # noqa: E731
        parts = [super().summary(), "", "thresholds (LR confidence set, c(alpha) = "
                 f"{self.critical_value:.4f}):", self.threshold_table.to_string(index=False, float_format=fmt),
                 "", "threshold-effect tests (bootstrap p-values):",
                 self.f_table.to_string(index=False, float_format=fmt)]
        return "\n".join(parts)

    def regime_labels(self, digits: int = 3) -> dict[str, str]:
        """Readable labels of the regime coefficients, for ``regression_table(rename=...)``.

        E.g. ``{"loans_gdp_regime0": "loans_gdp × I(q ≤ 10.492)", "loans_gdp_regime1":
        "loans_gdp × I(q > 10.492)"}`` with q the threshold variable's name.
        """
        q = self.settings.get("q", "q")
        strict = self.settings.get("closed") == "q < gamma"
        le, gt = ("<", "≥") if strict else ("≤", ">")
        th = [f"{g:.{digits}f}" for g in self.thresholds]
        out = {}
        for r in self.settings.get("regime", []):
            for j in range(len(th) + 1):
                if j == 0:
                    cond = f"{q} {le} {th[0]}"
                elif j == len(th):
                    cond = f"{q} {gt} {th[-1]}"
                else:
                    cond = f"{th[j - 1]} {'≤' if strict else '<'} {q} {le} {th[j]}"
                out[f"{r}_regime{j}"] = f"{r} × I({cond})"
        return out

    def plot(self, lang: str = "zh", stages: Sequence[str] | None = None):
        """The LR(gamma) plot, see :func:`plot_lr`."""
        return plot_lr(self, lang=lang, stages=stages)




def plot_lr(result: ThresholdResult, lang: str = "zh", stages: Sequence[str] | None = None):
    """LR(gamma) curves with the critical value c(alpha) (xthreg ``_matplot e(LR)``).

    One panel per stage (Th-1, Th-21, Th-22, Th-3); the dashed line is c(alpha) (7.35 at 95%), the
    dotted vertical line the estimate. Returns the matplotlib Figure.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from analysis.regression import threshold
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(50), 6), "year": np.tile(np.arange(2010, 2016), 50)})
    >>> d["x"] = rng.normal(size=len(d))
    >>> d["q"] = rng.uniform(size=len(d))
    >>> d["y"] = np.where(d["q"] <= 0.5, 0.5, 1.0) * d["x"] + rng.normal(scale=0.1, size=len(d))
    >>> res = threshold(d, "y", "q", "x", grid=20, n_draws=49, seed=0)
    >>> fig = plot_lr(res, lang="en")
    >>> type(fig).__name__
    'Figure'
    >>> plt.close(fig)
    """
    from ...plots import new_figure, tr

    lr = result.lr_curve
    stages = list(stages) if stages is not None else list(dict.fromkeys(lr["stage"]))
    fig, axes = new_figure(lang, nrows=1, ncols=len(stages), figsize=(4.2 * len(stages), 3.4), squeeze=False)
    est = result.threshold_table.set_index("stage")["estimate"]
    level = int(round((1 - result.alpha) * 100))
    for ax, st in zip(axes[0], stages):
        d = lr[lr["stage"] == st]
        ax.plot(d["gamma"], d["lr"], lw=1.2, color="C0", label="LR(γ)")
        ax.axhline(result.critical_value, ls="--", color="C3",
                   label=tr(f"{level}% critical value", f"{level}%临界值", lang) + f" ({result.critical_value:.2f})")
        if st in est.index:
            ax.axvline(est[st], ls=":", color="0.4")
        ax.set_title(tr(f"LR statistic, {st}", f"似然比统计量（{st}）", lang))
        ax.set_xlabel(tr(f"threshold γ ({result.settings.get('q', 'q')})", f"门槛值 γ（{result.settings.get('q', 'q')}）", lang))
        ax.set_ylabel("LR")
        ax.legend(loc="upper right")
    fig.tight_layout()
    return fig
