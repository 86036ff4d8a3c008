"""Specification curve (Simonsohn, Simmons & Nelson 2020, *Nature Human Behaviour* 4: 1208-1214).

:func:`specification_curve` runs every combination of the choices a researcher could defensibly
have made (or a stated random subset), and returns one row per specification with its estimate,
standard error, confidence interval and N, a summary (share of positive and of positive-and-
significant estimates, the median estimate) and the standard two-panel plot: sorted estimates with
their intervals above, the choices that produced each one below.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping

import numpy as np
import pandas as pd

from ..plots import new_figure, tr
from ..results import RowReport, TidyResult
from .engine import Runner, execute, prepare_tasks
from .specs import Specification, _label, expand_grid

__all__ = ["SpecificationCurve", "specification_curve", "default_index_builder"]


def default_index_builder(data: pd.DataFrame, system: str = "county_uri", weights: str = "entropy",
                          scope: str = "pooled", method: str = "weighted_sum") -> np.ndarray:
    """The composite integration index of :func:`analysis.indicators.build_index` for these settings
    (missing indicator cells interpolated within county, as the notebooks do).

    Examples
    --------
    The entropy-weighted index of three counties of the shipped simulated panel, one value per row:

    >>> from analysis.datasets import load_county_panel
    >>> from analysis.robustness import default_index_builder
    >>> panel = load_county_panel()
    >>> three = panel[panel["county"].isin(panel["county"].unique()[:3])]
    >>> index = default_index_builder(three)
    >>> index.shape == (len(three),), bool(((index >= 0) & (index <= 1)).all())
    (True, True)
    """
    from ..indicators import integration_index

    return np.asarray(integration_index(data, system=system, weights=weights, scope=scope, method=method,
                                        missing="interpolate"), float)


class _SharedIndexBuilder:
    """:func:`default_index_builder` that interpolates the indicators once per system, not per setting."""

    def __init__(self, data: pd.DataFrame, systems=("county_uri",)):
        from ..indicators import load_system
        from ..panel import interpolate

        self.filled: dict[str, pd.DataFrame] = {}
        for system in dict.fromkeys(systems):  # done in the driver, before the builder is shipped to workers
            columns = [i.column for i in load_system(system).indicators]
            filled = interpolate(data, columns)
            filled.attrs = {}  # the fill report is not needed here and would be compared by pandas on concat
            self.filled[system] = filled

    def __call__(self, data: pd.DataFrame, system: str = "county_uri", **settings) -> np.ndarray:
        from ..indicators import integration_index

        return np.asarray(integration_index(self.filled[system], system=system, **settings), float)


REFERENCE = ("Simonsohn, Simmons and Nelson (2020), 'Specification curve analysis', Nature Human Behaviour 4: "
             "1208-1214; R specr")


@dataclass
class SpecificationCurve(TidyResult):
    """Result of :func:`specification_curve`.

    ``table`` (= ``to_frame()``) has one row per specification: its number, one column per varied
    dimension (the choice's label), estimate, std_error, p_value, ci_low, ci_high, n_obs, n_dropped.
    Row 0 is the base. :meth:`overview` gives the headline numbers; ``rows`` counts the input rows
    (each specification reports its own used/dropped rows in ``n_obs``/``n_dropped``).
    """

    table: pd.DataFrame
    dimensions: tuple[str, ...]
    alpha: float

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def summary(self) -> str:
        lines = [self.model or "Specification curve", f"reference: {self.reference}"]
        lines += [f"{k}: {v}" for k, v in self.settings.items()]
        if self.rows is not None:
            lines.append(str(self.rows))
        lines.append(self.overview().to_string(float_format=lambda v: f"{v:.6g}"))
        return "\n".join(lines)

    def overview(self) -> pd.Series:
        """Headline numbers: count, base and median estimate, shares positive/negative and significant."""
        full = self.table
        t = full[full["estimate"].notna()]  # shares over the specifications whose estimate is defined
        sig = t["p_value"] < self.alpha
        base = full.loc[full["number"] == 0, "estimate"]
        return pd.Series({
            "n_specifications": len(full),
            "n_undefined": int(len(full) - len(t)),
            "base_estimate": float(base.iloc[0]) if len(base) else float("nan"),
            "median_estimate": float(t["estimate"].median()),
            "share_positive": float((t["estimate"] > 0).mean()),
            "share_positive_significant": float(((t["estimate"] > 0) & sig).mean()),
            "share_negative_significant": float(((t["estimate"] < 0) & sig).mean()),
            "min_estimate": float(t["estimate"].min()),
            "max_estimate": float(t["estimate"].max()),
        })

    def plot(self, lang: str = "zh", truth: float | None = None, labels: Mapping[str, str] | None = None):
        """Sorted estimates with CIs (base in red) above; the choices behind each estimate below."""
        t = self.table.sort_values("estimate").reset_index(drop=True)
        dims = list(self.dimensions)
        rows = [(d, v) for d in dims for v in dict.fromkeys(t[d])]
        fig, (top, bottom) = new_figure(lang, nrows=2, figsize=(8, 3 + 0.22 * len(rows)), sharex=True,
                                        gridspec_kw={"height_ratios": [2.2, max(1.0, 0.12 * len(rows))]})
        x = np.arange(len(t))
        sig = t["p_value"] < self.alpha
        top.vlines(x, t["ci_low"], t["ci_high"], color=np.where(sig, "#4c72b0", "#bbbbbb"), lw=0.8)
        top.scatter(x, t["estimate"], s=6, color=np.where(sig, "#1f3b73", "#888888"), zorder=3)
        base = t.index[t["number"] == 0]
        top.scatter(base, t.loc[base, "estimate"], s=30, color="#c44e52", zorder=4,
                    label=tr("base specification", "基准设定", lang))
        top.axhline(0, color="black", lw=0.6)
        if truth is not None:
            top.axhline(truth, color="#55a868", lw=1, ls="--", label=tr("simulated truth", "模拟真值", lang))
        top.set_ylabel(tr("estimate and 95% CI", "估计值及95%置信区间", lang))
        top.legend(loc="upper left")
        for i, (d, v) in enumerate(rows):
            on = (t[d] == v).to_numpy()
            bottom.scatter(x[on], np.full(on.sum(), i), s=4, marker="s", color="#333333")
        names = labels or {}
        bottom.set_yticks(range(len(rows)))
        bottom.set_yticklabels([f"{names.get(d, d)}: {v}" for d, v in rows], fontsize=7)
        bottom.invert_yaxis()
        bottom.set_xlabel(tr("specifications, sorted by estimate", "按估计值排序的设定", lang))
        bottom.grid(False)
        return fig


def specification_curve(data: pd.DataFrame, base: Mapping[str, Any], variations: Mapping[str, Any],
                        n_specs: int | None = None, seed=20261128, n_jobs: int = 1, backend: str = "loky",
                        scheduler=None, progress: bool = True, alpha: float = 0.05,
                        index_builder: Callable | None = default_index_builder, entity: str = "county",
                        time: str = "year") -> SpecificationCurve:
    """Estimate the treatment effect under every combination of ``variations`` over ``base``.

    Parameters
    ----------
    data
        The county panel.
    base
        The main specification, e.g. ``{"outcome": "index", "index.weights": "entropy",
        "treatment": "land_reform", "adoption": "land_reform_year", "controls": "baseline",
        "sample": "full", "fe": ("county", "year"), "cluster": "county", "estimator": "twfe",
        "control_sets": {"none": (), "baseline": ("loans_gdp", "fiscal_selfsuff")},
        "samples": {"full": None, "no_districts": "county_type != 'district'", "end_2019": "year <= 2019"}}``.
    variations
        Alternatives per dimension, e.g. ``{"index.weights": ["entropy", "critic", "equal"],
        "sample": ["full", "no_districts", "end_2019"], "cluster": ["county", "province"]}``.
    n_specs
        Run a random subset of this many specifications (the base always included), drawn with
        ``seed``; ``None`` runs them all.
    n_jobs, backend, scheduler
        Local cores through joblib (``backend="loky"``), or ``backend="dask"`` on a Dask cluster
        (``scheduler`` = address or Client; default a LocalCluster with ``n_jobs`` workers).
    index_builder
        ``f(data, **index_settings) -> array`` giving the outcome when ``outcome == "index"``.

    Notes
    -----
    TWFE specifications match :func:`analysis.regression.fe` (reghdfe conventions, singletons
    dropped) to machine precision; robust specifications call :func:`analysis.did.callaway_santanna`
    (doubly robust, never-treated controls, ``aggregate("simple")``; analytic SEs, or the clustered
    multiplier bootstrap when clustering above the county, seeded per specification from ``seed``).
    Randomness is per specification, so results do not depend on the backend or worker count.

    Examples
    --------
    Half of 40 counties adopt in 2013 with an effect of 0.5; two estimators x two cluster levels
    (10 counties per province) all recover it. ``index_builder=None``: the outcome is a column.

    >>> import numpy as np, pandas as pd
    >>> from analysis.robustness import specification_curve
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["province"] = d["county"] // 10
    >>> d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    >>> d["treat"] = ((d["adoption"] > 0) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> base = {"outcome": "y", "treatment": "treat", "adoption": "adoption", "estimator": "twfe",
    ...         "cluster": "county"}
    >>> curve = specification_curve(d, base, {"estimator": ["twfe", "callaway_santanna"],
    ...                                       "cluster": ["county", "province"]},
    ...                             index_builder=None, progress=False, seed=1)
    >>> curve.table[["estimator", "cluster"]].values.tolist()
    [['twfe', 'county'], ['twfe', 'province'], ['callaway_santanna', 'county'], ['callaway_santanna', 'province']]
    >>> curve.table["estimate"].round(2).tolist(), float(curve.overview()["share_positive_significant"])
    ([0.5, 0.5, 0.5, 0.5], 1.0)
    """
    specs: list[Specification] = expand_grid({**base, "seed": seed}, variations, n_specs=n_specs, seed=seed)
    if index_builder is default_index_builder:
        systems = {s.choices.get("index.system", "county_uri") for s in specs if s.get("outcome") == "index"}
        index_builder = _SharedIndexBuilder(data, sorted(systems) or ["county_uri"])
    with Runner(n_jobs, backend, scheduler) as runner:
        tasks = prepare_tasks(data, specs, base, index_builder, entity, time, runner)
        results = pd.DataFrame(execute(tasks, runner, progress=progress, alpha=alpha, entity=entity, time=time))
    dims = specs[0].varied
    choices = pd.DataFrame([{"number": s.number, **{d: _label(s.choices.get(d)) for d in dims}} for s in specs])
    table = choices.merge(results, on="number", how="left", validate="one_to_one")
    return SpecificationCurve(table, tuple(dims), alpha,
                              settings={"n_specs_run": len(specs), "backend": backend, "n_jobs": n_jobs,
                                        "seed": seed, "groups": len(tasks)},
                              model="Specification curve", rows=RowReport(len(data), len(data)),
                              reference=REFERENCE, seed=seed if isinstance(seed, (int, np.integer)) else None)
