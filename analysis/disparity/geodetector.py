"""Geographical detector (地理探测器): factor, interaction, risk and ecological detectors.

Wang, J.-F. et al. (2010) IJGIS 24(1):107-127; Wang, Zhang & Fu (2016) Ecol. Indic. 67:250-256;
王劲峰, 徐成东 (2017) 地理学报 72(1):116-134. The R package of record is CRAN ``geodetector``
(Xu & Wang, v1.0-4); ``compat="cran"`` reproduces its numbers.

Two documented departures from the R package:

* **p-value of the factor detector.** CRAN computes ``pf(F, L-1, N-L, ncp=λ)`` with
  λ = [Σ Ȳ_h² − (Σ √N_h Ȳ_h)²/N] / s². That λ is not zero when q = 0 and strata sizes differ, and
  it changes when a constant is added to Y (q does not), so it is not a valid test of q = 0. Our
  default is the ordinary one-way ANOVA F test (central F); ``pvalue="geodetector_compat"`` gives
  the CRAN value for reproducing published tables.
* **Ecological detector.** CRAN compares q₂/q₁ with qf(0.9, N−1, N−1); Wang (2010) defines
  F = [N₁(N₂−1)SSW₁]/[N₂(N₁−1)SSW₂]. We report Wang's statistic (on one common sample it is
  SSW₁/SSW₂) and CRAN's rule with ``compat="cran"``. Both SSWs come from the same Y, so the F
  reference distribution is nominal only: read the result as descriptive.

Strata are computed on one complete-case sample for all factors (rows with a missing Y or factor
are reported, never silently dropped); singleton strata are kept (they add 0 to SSW), as CRAN does.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ColumnError, SpecificationError, check_choice, describe_rows
from ..results import RowReport

__all__ = ["discretize", "factor_detector", "interaction_detector", "risk_detector", "ecological_detector",
           "geodetector", "GeoDetectorResult", "INTERACTION_LABELS"]

INTERACTION_LABELS = {
    "weaken, nonlinear": "非线性减弱",
    "weaken, uni-": "单因子非线性减弱",
    "enhance, bi-": "双因子增强",
    "independent": "独立",
    "enhance, nonlinear": "非线性增强",
}


def discretize(x, method: str = "quantile", k: int = 5) -> np.ndarray:
    """Stratify a continuous factor into ``k`` classes (integer codes 0..k-1).

    ``method``: ``"quantile"`` (equal counts; upper-inclusive bins as mapclassify.Quantiles),
    ``"equal"`` (equal intervals), ``"natural"`` (Jenks natural breaks via mapclassify.NaturalBreaks,
    deterministic k-means seeded at 0), ``"sd"`` (mean ± multiples of the SD, mapclassify.StdMean).
    The choice of method and k changes q (q rises mechanically with k); state both in a paper.
    """
    check_choice("method", method, ("quantile", "equal", "natural", "sd"))
    x = np.asarray(x, dtype=float)
    if np.isnan(x).any():
        raise SpecificationError(f"cannot discretize missing values ({describe_rows(np.flatnonzero(np.isnan(x)))}).")
    if k < 2:
        raise SpecificationError("k must be at least 2.")
    if method == "quantile":
        bins = np.quantile(x, np.linspace(0, 1, k + 1)[1:-1])
    elif method == "equal":
        bins = np.linspace(x.min(), x.max(), k + 1)[1:-1]
    else:
        import mapclassify

        if method == "natural":
            np.random.seed(0)  # mapclassify's k-means initialisation draws from the global state
            bins = mapclassify.NaturalBreaks(x, k=k).bins[:-1]
        else:
            bins = mapclassify.StdMean(x).bins[:-1]
    return np.searchsorted(np.unique(bins), x, side="left")


def _sums(y: np.ndarray, codes: np.ndarray):
    n_h = np.bincount(codes)
    s_h = np.bincount(codes, weights=y)
    ss_h = np.bincount(codes, weights=y * y)
    keep = n_h > 0
    n_h, s_h, ss_h = n_h[keep], s_h[keep], ss_h[keep]
    mean_h = s_h / n_h
    ssw = float(np.sum(ss_h - s_h * mean_h))
    return n_h, mean_h, ssw


def _q_stats(y: np.ndarray, codes: np.ndarray, lambda_var_ddof: int = 1):
    n = len(y)
    sst = float(np.sum((y - y.mean()) ** 2))
    n_h, mean_h, ssw = _sums(y, codes)
    n_strata = len(n_h)
    q = 1 - ssw / sst
    f = (n - n_strata) / (n_strata - 1) * q / (1 - q) if q < 1 else np.inf
    p_anova = float(stats.f.sf(f, n_strata - 1, n - n_strata))
    var = sst / (n - lambda_var_ddof)
    lam = (np.sum(mean_h**2) - np.sum(np.sqrt(n_h) * mean_h) ** 2 / n) / var
    p_compat = float(stats.ncf.sf(f, n_strata - 1, n - n_strata, lam))
    return dict(q=q, n_strata=n_strata, F=f, p_anova=p_anova, lambda_=lam, p_compat=p_compat, ssw=ssw, sst=sst)


def _codes(series: pd.Series) -> np.ndarray:
    return pd.factorize(series, sort=True)[0]


def _prepare(data: pd.DataFrame, y: str, factors) -> tuple[pd.DataFrame, RowReport]:
    factors = [factors] if isinstance(factors, str) else list(factors)
    missing_cols = [c for c in [y, *factors] if c not in data.columns]
    if missing_cols:
        raise ColumnError(f"columns {missing_cols} are not in the data.")
    if not pd.api.types.is_numeric_dtype(data[y]):
        raise SpecificationError(f"y column {y!r} must be numeric.")
    if not np.isfinite(data[y].dropna().to_numpy(float)).all():
        raise SpecificationError(f"y column {y!r} has infinite values.")
    incomplete = data[[y, *factors]].isna().any(axis=1)
    report = RowReport(len(data), int((~incomplete).sum()),
                       {"missing y or factor": int(incomplete.sum())} if incomplete.any() else {})
    clean = data.loc[~incomplete, [y, *factors]]
    for f in factors:
        levels = clean[f].nunique()
        if levels < 2:
            raise SpecificationError(f"factor {f!r} has {levels} stratum; it needs at least 2.")
        if pd.api.types.is_float_dtype(clean[f]) and levels > len(clean) / 2:
            raise SpecificationError(
                f"factor {f!r} looks continuous ({levels} distinct values for {len(clean)} rows); "
                "stratify it first with analysis.disparity.discretize(x, method=..., k=...).")
    return clean, report


def factor_detector(data: pd.DataFrame, y: str, factors, pvalue: str = "anova", lambda_var_ddof: int = 1) -> pd.DataFrame:
    """q statistic of each factor, its F and p-value.

    ``pvalue="anova"`` (default): central F(L−1, N−L), the one-way ANOVA test of equal stratum means.
    ``pvalue="geodetector_compat"``: the noncentral-F value of CRAN ``geodetector``
    (``lambda_var_ddof=1`` as CRAN; 0 reproduces the PyPI ``geodetector`` package). Not a valid test
    (see the module docstring); use it only to reproduce published numbers.
    Also returns q_adj = 1 − (1 − q)(N − 1)/(N − L) and E[q | H0] = (L − 1)/(N − 1).
    """
    check_choice("pvalue", pvalue, ("anova", "geodetector_compat"))
    clean, report = _prepare(data, y, factors)
    yv = clean[y].to_numpy(float)
    n = len(yv)
    rows = []
    for f in ([factors] if isinstance(factors, str) else factors):
        s = _q_stats(yv, _codes(clean[f]), lambda_var_ddof)
        rows.append({"factor": f, "q": s["q"], "strata": s["n_strata"], "F": s["F"],
                     "p_value": s["p_anova"] if pvalue == "anova" else s["p_compat"],
                     "q_adj": 1 - (1 - s["q"]) * (n - 1) / (n - s["n_strata"]),
                     "q_null_mean": (s["n_strata"] - 1) / (n - 1)})
    out = pd.DataFrame(rows)
    out.attrs.update({"pvalue": pvalue, "rows": report})
    return out


def _interaction_type(q1: float, q2: float, q12: float, tol: float) -> str:
    lo, hi = min(q1, q2), max(q1, q2)
    if abs(q12 - (q1 + q2)) <= tol:
        return "independent"
    if q12 < lo - tol:
        return "weaken, nonlinear"
    if q12 < hi - tol:
        return "weaken, uni-"
    if q12 < q1 + q2:
        return "enhance, bi-"
    return "enhance, nonlinear"


def interaction_detector(data: pd.DataFrame, y: str, factors, tol: float = 1e-9, lang: str = "en") -> pd.DataFrame:
    """q of every pair's overlay (cross-classification) and its interaction type.

    All q's are computed on one complete-case sample, so "weaken" cannot occur (refining a partition
    never raises SSW); a q12 equal to max(q1, q2) (nested factors) is classed "enhance, bi-" at the
    boundary. ``tol`` sets the band for "independent" (q12 = q1 + q2).
    """
    factors = list(factors)
    if len(factors) < 2:
        raise SpecificationError("the interaction detector needs at least two factors.")
    clean, report = _prepare(data, y, factors)
    yv = clean[y].to_numpy(float)
    single = {f: _q_stats(yv, _codes(clean[f]))["q"] for f in factors}
    rows = []
    for a, b in combinations(factors, 2):
        overlay = _codes(clean[a].astype(str) + "\u2229" + clean[b].astype(str))
        q12 = _q_stats(yv, overlay)["q"]
        kind = _interaction_type(single[a], single[b], q12, tol)
        rows.append({"factor_1": a, "factor_2": b, "q_1": single[a], "q_2": single[b], "q_12": q12,
                     "interaction": kind if lang == "en" else INTERACTION_LABELS[kind]})
    out = pd.DataFrame(rows)
    out.attrs["rows"] = report
    return out


def risk_detector(data: pd.DataFrame, y: str, factor: str, alpha: float = 0.05, adjust: str | None = None,
                  compat: str | None = None) -> dict:
    """Stratum means and pairwise Welch t-tests between strata of one factor.

    ``adjust``: None, ``"holm"`` or ``"fdr_bh"`` multiplicity correction of the pairwise p-values.
    ``compat="cran"`` rounds the Welch df as CRAN does. Strata with one unit are left out of the tests
    (their variance is undefined) and listed.
    """
    clean, report = _prepare(data, y, [factor])
    groups = {k: g[y].to_numpy(float) for k, g in clean.groupby(factor, sort=True)}
    means = pd.DataFrame({"stratum": list(groups), "n": [len(v) for v in groups.values()],
                          "mean": [v.mean() for v in groups.values()]})
    rows = []
    for a, b in combinations([k for k, v in groups.items() if len(v) > 1], 2):
        va, vb = groups[a], groups[b]
        se2a, se2b = va.var(ddof=1) / len(va), vb.var(ddof=1) / len(vb)
        t = (va.mean() - vb.mean()) / np.sqrt(se2a + se2b)
        df = (se2a + se2b) ** 2 / (se2a**2 / (len(va) - 1) + se2b**2 / (len(vb) - 1))
        if compat == "cran":
            df = np.round(df)
        rows.append({"stratum_1": a, "stratum_2": b, "t": t, "df": df, "p_value": 2 * stats.t.sf(abs(t), df)})
    tests = pd.DataFrame(rows)
    if adjust and len(tests):
        from statsmodels.stats.multitest import multipletests

        tests["p_adjusted"] = multipletests(tests["p_value"], method=adjust)[1]
    pcol = "p_adjusted" if adjust and len(tests) else "p_value"
    if len(tests):
        tests["significant"] = tests[pcol] < alpha
    return {"means": means, "tests": tests, "singletons": [k for k, v in groups.items() if len(v) == 1],
            "rows": report}


def ecological_detector(data: pd.DataFrame, y: str, factors, alpha: float = 0.05, compat: str | None = None) -> pd.DataFrame:
    """Do two factors differ in their effect on Y's spatial pattern?

    Default (Wang et al. 2010): F = [N₁(N₂−1)SSW₁]/[N₂(N₁−1)SSW₂] with df (N₁−1, N₂−1), two-sided
    at ``alpha``. ``compat="cran"``: CRAN's rule, q₂/q₁ (and q₁/q₂) against qf(0.9, N−1, N−1).
    Descriptive only (the two SSWs share Y).
    """
    factors = list(factors)
    clean, report = _prepare(data, y, factors)
    yv = clean[y].to_numpy(float)
    n = len(yv)
    s = {f: _q_stats(yv, _codes(clean[f])) for f in factors}
    rows = []
    for a, b in combinations(factors, 2):
        if compat == "cran":
            crit = stats.f.ppf(0.9, n - 1, n - 1)
            stat = s[b]["q"] / s[a]["q"]
            sig = stat > crit or (s[a]["q"] / s[b]["q"]) > crit
            rows.append({"factor_1": a, "factor_2": b, "F": stat, "p_value": np.nan, "significant": bool(sig)})
        else:
            f = s[a]["ssw"] / s[b]["ssw"]  # N1 = N2 = n on the common sample
            p = 2 * min(stats.f.sf(f, n - 1, n - 1), stats.f.cdf(f, n - 1, n - 1))
            rows.append({"factor_1": a, "factor_2": b, "F": f, "p_value": p, "significant": bool(p < alpha)})
    out = pd.DataFrame(rows)
    out.attrs["rows"] = report
    return out


@dataclass
class GeoDetectorResult:
    factor: pd.DataFrame
    interaction: pd.DataFrame
    ecological: pd.DataFrame
    risk: dict = field(default_factory=dict)
    rows: RowReport | None = None


def geodetector(data: pd.DataFrame, y: str, factors, pvalue: str = "anova", lang: str = "en") -> GeoDetectorResult:
    """All four detectors on one complete-case sample."""
    factors = list(factors)
    clean, report = _prepare(data, y, factors)
    return GeoDetectorResult(
        factor=factor_detector(clean, y, factors, pvalue=pvalue),
        interaction=interaction_detector(clean, y, factors, lang=lang) if len(factors) > 1 else pd.DataFrame(),
        ecological=ecological_detector(clean, y, factors) if len(factors) > 1 else pd.DataFrame(),
        risk={f: risk_detector(clean, y, f) for f in factors},
        rows=report,
    )
