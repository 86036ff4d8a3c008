"""Moderation: centred interaction, marginal effects over the moderator, and their plot.

Model (FE as :func:`~analysis.regression.fe`, county and year by default):

    y = b1 (x - xbar) + b2 (z - zbar) + b3 (x - xbar)(z - zbar) + controls + FE

Centring (Aiken and West 1991) makes b1 the effect of x at the mean of the moderator z. The
marginal effect of x at z is ME(z) = b1 + b3 (z - zbar), with the delta-method variance
Var(b1) + (z - zbar)^2 Var(b3) + 2 (z - zbar) Cov(b1, b3) from the clustered covariance, and
t(df) confidence bands as Stata ``margins, dydx(x) at(z = (...))`` after ``reghdfe`` (Brambor,
Clark and Golder 2006 for why the whole curve, not b3 alone, should be shown).

A binary x (a policy dummy) is centred too; b1 is then the effect at the mean moderator and ME(z)
the effect of switching the policy on at moderator value z.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import ColumnError, SpecificationError
from ..results import EstimationResult
from ._sample import as_tuple, prepare_sample
from .fe import FEResult, _vcov_kind
from .fe import fe as _fe

__all__ = ["ModerationResult", "moderation", "plot_marginal_effects"]


REFERENCE = ("Aiken and West (1991), Multiple Regression: Testing and Interpreting Interactions (centring); "
             "Brambor, Clark and Golder (2006), Political Analysis 14(1) (marginal effects); Stata margins")


@dataclass(repr=False)
class ModerationResult(EstimationResult):
    """Result of :func:`moderation`: the centred interaction regression's coefficients (``params`` ...)
    plus the marginal effects.

    Attributes (besides those of :class:`~analysis.results.EstimationResult`)
    ----------
    fit : FEResult
        The centred interaction regression (terms ``<x>_c``, ``<z>_c``, ``<x>_c:<z>_c``).
    marginal_effects : pandas.DataFrame
        moderator value, marginal effect of x, std_error, ci_low, ci_high.
    interaction : float
        b3, the change in the effect of x per unit of the moderator.
    centres : dict
        Sample means used to centre x and z.
    """

    fit: FEResult | None = None
    x: str = ""
    moderator: str = ""
    marginal_effects: pd.DataFrame | None = None
    centres: dict = field(default_factory=dict)
    moderator_values: np.ndarray = field(repr=False, default=None)

    @property
    def interaction(self) -> float:
        return float(self.fit.params[self._int_name])

    @property
    def interaction_se(self) -> float:
        return float(self.fit.std_errors[self._int_name])

    @property
    def _int_name(self) -> str:
        return f"{self.x}_c:{self.moderator}_c"

    def effect_at(self, value: float) -> dict:
        """Marginal effect of x (with SE and CI) at one moderator value."""
        return _me(self.fit, self.x, self.moderator, self.centres[self.moderator], np.array([value])).iloc[0].to_dict()

    def __repr__(self) -> str:  # pragma: no cover
        return self.summary()

    def plot(self, lang: str = "zh", ax=None):
        return plot_marginal_effects(self, lang=lang, ax=ax)


def _me(fit: FEResult, x: str, z: str, zbar: float, values: np.ndarray) -> pd.DataFrame:
    b1n, b3n = f"{x}_c", f"{x}_c:{z}_c"
    b = fit.params
    V = fit.cov
    dz = np.asarray(values, dtype=float) - zbar
    est = b[b1n] + b[b3n] * dz
    var = V.loc[b1n, b1n] + dz ** 2 * V.loc[b3n, b3n] + 2 * dz * V.loc[b1n, b3n]
    se = np.sqrt(np.clip(var, 0, None))
    from scipy import stats

    qv = (stats.norm if fit.df_resid is None else stats.t(fit.df_resid)).ppf(1 - fit.alpha / 2)
    return pd.DataFrame({"moderator": values, "effect": est, "std_error": se,
                         "ci_low": est - qv * se, "ci_high": est + qv * se})


def moderation(
    data: pd.DataFrame,
    y: str,
    x: str,
    moderator: str,
    controls: Sequence[str] = (),
    *,
    entity: str = "county",
    time: str = "year",
    fe=("county", "year"),
    cluster="county",
    vcov: str | None = None,
    grid: int = 50,
    at: Sequence[float] | None = None,
    range_quantiles: tuple[float, float] = (0.01, 0.99),
    alpha: float = 0.05,
) -> ModerationResult:
    """Centred interaction model and marginal effects of ``x`` over the range of ``moderator``.

    Parameters
    ----------
    data
        Long panel.
    y, x, moderator
        Outcome (column or expression such as ``"np.log(rural_income)"``), the variable whose
        effect is moderated (e.g. ``land_reform``) and the moderator (e.g. ``digital_gov``).
    controls
        Control columns.
    fe, cluster, vcov, entity, time
        As :func:`~analysis.regression.fe`.
    grid, at, range_quantiles
        Moderator values for the marginal-effect curve: ``at`` if given, else ``grid`` points
        between the ``range_quantiles`` of the moderator on the estimation sample.

    Returns
    -------
    ModerationResult
        ``fit`` (the FE regression), ``marginal_effects`` (table), ``interaction`` (b3), ``plot()``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(50), 6), "year": np.tile(np.arange(2010, 2016), 50)})
    >>> d["x"] = rng.normal(size=len(d))
    >>> d["z"] = rng.normal(size=len(d))
    >>> d["y"] = (0.5 + 0.3 * d["z"]) * d["x"] + rng.normal(scale=0.1, size=len(d))
    >>> res = moderation(d, "y", "x", "z", grid=5)
    >>> np.round(res.params[["x_c", "x_c:z_c"]], 1).tolist()  # effect of x at mean z; interaction
    [0.5, 0.3]
    """
    for c in [x, moderator] + list(as_tuple(controls)):
        if c not in data.columns:
            raise ColumnError(f"column {c!r} is not in data.")
    controls = list(as_tuple(controls))
    # Driscoll-Kraay needs the panel keys in the fit's data even when they are not fixed effects (as fe())
    keys = [time, entity] if _vcov_kind(vcov, as_tuple(cluster)) == "driscoll-kraay" else []
    sample = prepare_sample(data, f"{y} ~ {' + '.join([x, moderator] + controls)}", fe,
                            extra_columns=[c for c in as_tuple(cluster)] + keys, entity=entity, time=time)
    frame = sample.frame
    xbar = float(frame[x].mean())
    zbar = float(frame[moderator].mean())
    xc, zc = f"{x}_c", f"{moderator}_c"
    if xc in frame.columns or zc in frame.columns:
        raise SpecificationError(f"data already has a column named {xc!r} or {zc!r}; rename it.")
    work = frame.assign(**{xc: frame[x] - xbar, zc: frame[moderator] - zbar})
    fit = _fe(f"{y} ~ {' + '.join([xc, zc, f'{xc}:{zc}'] + controls)}", work, entity=entity, time=time,
              fe=fe, cluster=cluster, vcov=vcov, alpha=alpha)
    # restore the row accounting relative to the input data
    fit.rows = sample.rows
    if f"{xc}:{zc}" not in fit.params.index or xc not in fit.params.index:
        raise SpecificationError(
            f"the interaction {x} x {moderator} could not be estimated (collinear with the fixed "
            f"effects?): coefficients {list(fit.params.index)}."
        )
    zvals = frame[moderator].to_numpy(dtype=float)
    if at is None:
        lo, hi = np.quantile(zvals, range_quantiles)
        values = np.linspace(lo, hi, int(grid))
    else:
        values = np.asarray(at, dtype=float)
    me = _me(fit, x, moderator, zbar, values)
    settings = {
        "centring": f"{x} - {xbar:.6g}, {moderator} - {zbar:.6g} (sample means)",
        "marginal_effect": f"d{y}/d{x} = b[{xc}] + b[{xc}:{zc}] * ({moderator} - {zbar:.6g}); delta-method SEs",
        "vcov": fit.settings["vcov"],
    }
    if moderator not in fit.params.index and zc not in fit.params.index:
        settings["note"] = f"{moderator} is absorbed by the fixed effects (time-invariant?); its main effect is not identified."
    return ModerationResult(
        params=fit.params, std_errors=fit.std_errors, model=f"Moderation of {x} by {moderator} (centred)",
        df_resid=fit.df_resid, rows=fit.rows, settings=settings, reference=REFERENCE, stats=dict(fit.stats),
        cov=fit.cov, alpha=fit.alpha, outcome=fit.outcome, fixed_effects=fit.fixed_effects,
        vcov_type=fit.vcov_type, cluster=fit.cluster, n_clusters=fit.n_clusters,
        fit=fit, x=x, moderator=moderator, marginal_effects=me, centres={x: xbar, moderator: zbar},
        moderator_values=zvals)


def plot_marginal_effects(result: ModerationResult, lang: str = "zh", ax=None, rug: bool = True):
    """Marginal effect of x over the moderator with its confidence band; returns the Figure.

    A histogram of the moderator on the estimation sample is drawn along the bottom so readers see
    where the data support the curve.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(50), 6), "year": np.tile(np.arange(2010, 2016), 50)})
    >>> d["x"] = rng.normal(size=len(d))
    >>> d["z"] = rng.normal(size=len(d))
    >>> d["y"] = (0.5 + 0.3 * d["z"]) * d["x"] + rng.normal(scale=0.1, size=len(d))
    >>> res = moderation(d, "y", "x", "z", grid=5)
    >>> fig = plot_marginal_effects(res, lang="en")
    >>> type(fig).__name__
    'Figure'
    >>> plt.close(fig)
    """
    from ..plots import new_figure, tr, use_style  # matplotlib only when plotting

    me = result.marginal_effects
    if ax is None:
        fig, ax = new_figure(lang, figsize=(6.4, 4.2))
    else:
        use_style(lang)
        fig = ax.figure
    level = int(round(100 * (1 - result.fit.alpha)))
    ax.fill_between(me.moderator, me.ci_low, me.ci_high, alpha=0.25, color="C0",
                    label=tr(f"{level}% CI", f"{level}% 置信区间", lang))
    ax.plot(me.moderator, me.effect, color="C0", lw=2, label=tr("marginal effect", "边际效应", lang))
    ax.axhline(0, color="grey", lw=0.8, ls="--")
    if rug and result.moderator_values is not None:
        ax2 = ax.twinx()
        ax2.hist(result.moderator_values, bins=40, color="grey", alpha=0.25)
        ax2.set_ylim(0, ax2.get_ylim()[1] * 4)
        ax2.set_yticks([])
        ax2.grid(False)
        for side in ("right", "top"):
            ax2.spines[side].set_visible(False)
        ax.set_zorder(ax2.get_zorder() + 1)  # curve and band above the histogram
        ax.patch.set_visible(False)
    ax.set_xlabel(result.moderator)
    ax.set_ylabel(tr(f"effect of {result.x}", f"{result.x} 的边际效应", lang))
    ax.set_title(tr(f"Marginal effect of {result.x} by {result.moderator}",
                    f"{result.x} 的边际效应随 {result.moderator} 的变化", lang))
    ax.legend(loc="upper left")
    return fig
