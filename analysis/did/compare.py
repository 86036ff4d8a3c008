"""One result interface across DiD estimators: one tidy table and one event-study plot.

Every event-study style estimator in :mod:`analysis.did` returns (or converts to) the shared
:class:`~analysis.did._common.EventStudyResult`: TWFE ``event_study``, ``sun_abraham``,
``imputation`` and ``callaway_santanna(...).event_study()``. :func:`compare_estimators` sets their
overall and event-time estimates side by side (optionally beside a known truth, e.g. the simulated
panel's), :func:`plot_comparison` draws them in one figure, and :func:`run_estimators` fits the
usual four (TWFE, Callaway-Sant'Anna, Sun-Abraham, imputation) on one panel with one call.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np
import pandas as pd

from ..errors import MissingValueError, SpecificationError
from ..plots import new_figure, tr
from ..results import EstimationResult, RowReport
from ._common import TREATMENT_TERM, EventStudyResult, plot_event_study
from ._treatment import treatment_input

__all__ = ["as_event_study", "compare_estimators", "plot_comparison", "run_estimators", "static_twfe",
           "COMPARE_COLUMNS", "StaticTWFEResult"]

COMPARE_COLUMNS = ["estimator", "term", "event_time", "estimate", "std_error", "ci_low", "ci_high"]


def as_event_study(result) -> EventStudyResult:
    """Convert a result to :class:`EventStudyResult` (Callaway-Sant'Anna via ``.event_study()``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    >>> d["treat"] = ((d["adoption"] > 0) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> from analysis.did import callaway_santanna
    >>> es = as_event_study(callaway_santanna(d, "y", "adoption"))
    >>> type(es).__name__, es.event_table().query("event_time >= 0")["event_time"].tolist()
    ('EventStudyResult', [0, 1, 2])
    """
    if isinstance(result, EventStudyResult):
        return result
    if hasattr(result, "event_study") and hasattr(result, "att_gt"):
        return result.event_study()
    raise SpecificationError(
        f"cannot compare a {type(result).__name__}: pass an EventStudyResult (event_study, sun_abraham, "
        "imputation) or a Callaway-Sant'Anna result."
    )


def compare_estimators(results: Mapping[str, Any], truth_event: Mapping[int, float] | None = None,
                       truth_overall: float | None = None, event_times=None) -> pd.DataFrame:
    """Tidy side-by-side table of overall and event-time estimates.

    Parameters
    ----------
    results : ``{"TWFE": res, "Callaway-Sant'Anna": cs, ...}``.
    truth_event, truth_overall : optional true effects (columns ``truth`` and ``error`` =
        estimate - truth, ``covered`` = truth inside the CI).
    event_times : optional subset of event times to keep.

    Returns
    -------
    DataFrame with columns ``estimator, term ("overall" | "e=k"), event_time, estimate, std_error, ci_low,
    ci_high`` (+ ``truth, error, covered``).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    >>> d["treat"] = ((d["adoption"] > 0) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> results = run_estimators(d, "y", "adoption", which=("TWFE", "Sun-Abraham"))
    >>> tab = compare_estimators(results, truth_overall=0.5)
    >>> overall = tab[tab["term"] == "overall"]
    >>> overall["estimator"].tolist(), np.round(overall["estimate"], 2).tolist(), overall["covered"].tolist()
    (['TWFE', 'Sun-Abraham'], [0.5, 0.5], [True, True])
    """
    frames = []
    for name, res in results.items():
        es = as_event_study(res)
        tab = es.event_time.copy()
        if event_times is not None:
            tab = tab[tab["event_time"].isin(list(event_times))]
        part = pd.DataFrame({
            "estimator": name,
            "term": [f"e={int(k)}" for k in tab["event_time"]],
            "event_time": tab["event_time"].astype(float).to_numpy(),
            "estimate": tab["estimate"].to_numpy(dtype=float),
            "std_error": tab["std_error"].to_numpy(dtype=float),
            "ci_low": tab["ci_low"].to_numpy(dtype=float),
            "ci_high": tab["ci_high"].to_numpy(dtype=float),
        })
        ov = es.overall or {}
        over = pd.DataFrame({"estimator": [name], "term": ["overall"], "event_time": [np.nan],
                             "estimate": [ov.get("estimate", np.nan)], "std_error": [ov.get("std_error", ov.get("se", np.nan))],
                             "ci_low": [ov.get("ci_low", np.nan)], "ci_high": [ov.get("ci_high", np.nan)]})
        frames += [over, part]
    out = pd.concat(frames, ignore_index=True)
    if truth_event is not None or truth_overall is not None:
        te = {int(k): float(v) for k, v in (truth_event or {}).items()}
        tru = [truth_overall if t == "overall" else te.get(int(r), np.nan) if np.isfinite(r) else np.nan
               for t, r in zip(out["term"], out["event_time"])]
        out["truth"] = np.array(tru, dtype=float)
        out["error"] = out["estimate"] - out["truth"]
        cov = (out["ci_low"] <= out["truth"]) & (out["truth"] <= out["ci_high"])
        out["covered"] = pd.array(np.where(out["truth"].isna(), None, cov), dtype="boolean")
    return out


def plot_comparison(results: Mapping[str, Any], lang: str = "zh", truth_event: Mapping[int, float] | None = None,
                    title: str | None = None, event_times=None, ax=None):
    """All estimators' event-time estimates with CIs in one figure (dodged), truth as a line.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    >>> d["treat"] = ((d["adoption"] > 0) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> fig = plot_comparison(run_estimators(d, "y", "adoption", which=("TWFE", "Sun-Abraham")), lang="en")
    >>> type(fig).__name__
    'Figure'
    >>> plt.close(fig)
    """
    if ax is None:
        fig, ax = new_figure(lang, figsize=(7.2, 4.0))
    else:
        fig = ax.figure
    k = len(results)
    width = 0.6 / max(k, 1)
    all_times: set[int] = set()
    for j, (name, res) in enumerate(results.items()):
        es = as_event_study(res)
        if event_times is not None:
            t = es.event_time[es.event_time["event_time"].isin(list(event_times))]
            es = EventStudyResult.from_estimates(es.estimator, t["event_time"], t["estimate"], se=t["std_error"],
                                                 reference_period=es.reference_period)
            es.event_time["ci_low"] = t["ci_low"].to_numpy()
            es.event_time["ci_high"] = t["ci_high"].to_numpy()
        plot_event_study(es, lang=lang, ax=ax, color=f"C{j}", offset=(j - (k - 1) / 2) * width, label=name)
        all_times.update(int(t) for t in es.event_table(include_reference=True)["event_time"])
    if truth_event is not None:
        t = pd.Series({int(a): float(b) for a, b in truth_event.items()}).sort_index()
        if event_times is not None:
            t = t[t.index.isin(list(event_times))]
        ax.plot(t.index, t.to_numpy(), "-", color="k", lw=1.3, label=tr("Simulated truth", "模拟真值", lang))
    ticks = sorted(all_times)
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.set_title(title or tr("Event-study estimates by estimator", "不同估计量的事件研究估计", lang))
    if event_times is not None:
        lo, hi = min(event_times), max(event_times)
        ax.set_xlim(lo - 0.6, hi + 0.6)
    ax.legend(loc="upper left", fontsize=8)
    return fig


@dataclass(repr=False)
class StaticTWFEResult(EstimationResult):
    """Result of :func:`static_twfe`: one coefficient ``did`` with rows used/dropped and settings.

    Dict-style access of the earlier API keeps working: ``res["estimate"]``, ``res["se"]``,
    ``res["ci_low"]``, ``res["ci_high"]``, ``res["description"]``; :meth:`as_overall` returns that
    dict (the ``overall`` entry of an event-study result).
    """

    description: str = ""

    def as_overall(self) -> dict[str, Any]:
        ci = self.conf_int()
        t = TREATMENT_TERM
        return {"estimate": float(self.params[t]), "std_error": float(self.std_errors[t]),
                "se": float(self.std_errors[t]),
                "ci_low": float(ci.loc[t, "ci_low"]), "ci_high": float(ci.loc[t, "ci_high"]),
                "description": self.description}

    def __getitem__(self, key: str):
        if key in self.params.index:
            return float(self.params[key])
        overall = self.as_overall()
        if key not in overall:
            raise KeyError(f"{key!r}: use one of {list(overall)} or a term {list(self.params.index)}")
        return overall[key]


@treatment_input("adoption")
def static_twfe(data: pd.DataFrame, y: str, adoption: str, entity: str = "county", time: str = "year",
                cluster: str | None = None, alpha: float = 0.05, controls=()) -> StaticTWFEResult:
    """Static TWFE DiD: ``y ~ D_it + controls | entity + time`` with ``D_it = 1{time >= adoption}``,
    CRV1 (reghdfe rules) clustered by ``cluster`` (default the entity), t(G-1) inference.

    The single coefficient papers report; under staggered adoption with dynamic effects it is a
    weighted average with possibly negative weights (Goodman-Bacon 2021). Matches Stata
    ``reghdfe y D, absorb(county year) vce(cluster county)``. The treatment is ``adoption`` (first
    treated year) or ``treat=`` (a 0/1 absorbing column); given both, they must agree
    (``docs/CONVENTIONS.md``).

    Returns
    -------
    StaticTWFEResult
        ``params["did"]`` (and the controls), ``rows`` (rows with a missing outcome, control or
        cluster id dropped and counted), ``settings`` (cluster, controls, the late-adoption rule
        of :func:`~analysis.did._common.recode_late_adopters` when it applies).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    >>> d["treat"] = ((d["adoption"] > 0) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> res = static_twfe(d, "y", "adoption")
    >>> round(float(res.params["did"]), 2)
    0.5
    """
    from ..demean import FixedEffects
    from ._common import (
        LATE_ADOPTION_KEY,
        adoption_per_unit,
        check_columns,
        check_keys,
        drop_missing,
        fe_ols,
        recode_late_adopters,
    )

    controls = list(controls)
    cl = cluster or entity
    check_columns(data, [entity, time, y, adoption, cl, *controls])
    check_keys(data, entity, time)
    n_input = len(data)
    g_unit = adoption_per_unit(data, adoption, entity)
    df, dropped = drop_missing(data[list(dict.fromkeys([entity, time, y, adoption, cl, *controls]))], [y, *controls])
    if df[cl].isna().any():
        miss = df[cl].isna()
        dropped[f"missing {cl}"] = int(miss.sum())
        df = df.loc[~miss]
    if df.empty:
        raise MissingValueError(f"no rows left for the static TWFE of {y!r} after dropping missing values ({dropped}).")
    g_unit, late_note = recode_late_adopters(g_unit, float(df[time].max()), entity)
    g = df[entity].map(g_unit).astype(float).to_numpy()
    D = (np.nan_to_num(g, nan=np.inf) <= df[time].to_numpy(dtype=float)).astype(float)
    X = np.column_stack([D] + [df[c].to_numpy(dtype=float) for c in controls])
    names = [TREATMENT_TERM, *controls]
    fit = fe_ols(df[y].to_numpy(dtype=float), X, names, FixedEffects(df[[entity, time]]), df[cl].to_numpy())
    desc = "static TWFE coefficient on D = 1{year >= adoption} (CRV1, reghdfe rules)"
    settings: dict[str, Any] = {"y": y, "adoption": adoption, "fixed effects": f"{entity} + {time}",
                                "cluster": cl, "controls": controls,
                                "se": f"CRV1 clustered by {cl}, reghdfe small-sample factor, t(G-1) inference"}
    if late_note:
        settings[LATE_ADOPTION_KEY] = late_note
    if fit.dropped:
        settings["collinear_dropped"] = "; ".join(f"{k} ({v})" for k, v in fit.dropped.items())
    return StaticTWFEResult(
        params=fit.params,
        std_errors=pd.Series(np.sqrt(np.diag(fit.cov.to_numpy())), index=names),
        model="Static TWFE DiD",
        df_resid=fit.df_resid,
        rows=RowReport(n_input=n_input, n_used=len(df), dropped=dropped),
        settings=settings,
        reference="two-way fixed-effects DiD; Stata reghdfe y D, absorb(county year) vce(cluster county)",
        stats={"N": fit.nobs, "clusters": fit.n_clusters},
        cov=fit.cov,
        alpha=alpha,
        description=desc,
        outcome=y, fixed_effects=(entity, time), vcov_type="cluster", cluster=(cl,), n_clusters=int(fit.n_clusters),
    )


@treatment_input("adoption")
def run_estimators(data: pd.DataFrame, y: str, adoption: str, entity: str = "county", time: str = "year",
                   which=("TWFE", "Callaway-Sant'Anna", "Sun-Abraham", "Imputation"), cs_kwargs=None,
                   sa_kwargs=None, imp_kwargs=None, twfe_kwargs=None) -> dict[str, EventStudyResult]:
    """Fit TWFE event study, Callaway-Sant'Anna, Sun-Abraham and imputation on one panel.

    The TWFE entry's ``overall`` is the static TWFE coefficient (:func:`static_twfe`), the number
    papers report; the average of its event-time coefficients is kept in ``extra["event_average"]``.
    Callaway-Sant'Anna runs with ``control="never"``, ``base_period="universal"`` (so its
    pre-periods are comparable with the others and HonestDiD can use them) unless ``cs_kwargs``
    says otherwise. ``twfe_kwargs`` go to :func:`event_study`; its ``cluster``, ``controls`` and
    ``alpha`` also to :func:`static_twfe` (kept in ``extra["static_twfe"]``). The imputation
    estimator runs with ``pretrends=3`` (Borusyak, Jaravel & Spiess 2024 Test 1 on three leads, so it
    has pre-period estimates to plot beside the others) unless ``imp_kwargs`` says otherwise
    (``imp_kwargs={"pretrends": 0}`` for none); a lead the panel cannot identify (e.g. one
    pre-period only) comes back NaN with a ``CollinearityWarning``. The treatment is
    ``adoption`` (first treated year) or ``treat=`` (0/1, absorbing). Returns ``{name: EventStudyResult}``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    >>> d["treat"] = ((d["adoption"] > 0) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> results = run_estimators(d, "y", "adoption", which=("TWFE", "Callaway-Sant'Anna", "Sun-Abraham"))
    >>> {name: round(r.overall["estimate"], 2) for name, r in results.items()}
    {'TWFE': 0.5, "Callaway-Sant'Anna": 0.5, 'Sun-Abraham': 0.5}
    """
    from .callaway_santanna import callaway_santanna
    from .event_study import event_study
    from .imputation import imputation
    from .sun_abraham import sun_abraham

    out: dict[str, EventStudyResult] = {}
    for name in which:
        if name == "TWFE":
            tw = dict(twfe_kwargs or {})
            es = event_study(data, y, adoption, entity=entity, time=time, **tw)
            es.extra["event_average"] = dict(es.overall)
            static_kw = {k: tw[k] for k in ("cluster", "controls", "alpha") if k in tw}
            static = static_twfe(data, y, adoption, entity=entity, time=time, **static_kw)
            es.overall = static.as_overall()
            es.extra["static_twfe"] = static
            out[name] = es
        elif name == "Callaway-Sant'Anna":
            kw = {"base_period": "universal", **(cs_kwargs or {})}
            out[name] = callaway_santanna(data, y, adoption, entity=entity, time=time, **kw).event_study()
        elif name == "Sun-Abraham":
            out[name] = sun_abraham(data, y, adoption, entity=entity, time=time, **(sa_kwargs or {}))
        elif name == "Imputation":
            kw = {"pretrends": 3, **(imp_kwargs or {})}
            out[name] = imputation(data, y, adoption, entity=entity, time=time, **kw)
        else:
            raise SpecificationError(f"unknown estimator {name!r}; use TWFE, Callaway-Sant'Anna, Sun-Abraham, Imputation.")
    return out
