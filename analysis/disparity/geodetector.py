"""Geographical detector (地理探测器): factor, interaction, risk and ecological detectors.

Wang, J.-F. et al. (2010) IJGIS 24(1):107-127; Wang, Zhang & Fu (2016) Ecol. Indic. 67:250-256;
王劲峰, 徐成东 (2017) 地理学报 72(1):116-134. The R package of record is CRAN ``geodetector``
(Xu & Wang, v1.0-4); ``compat="cran"`` reproduces its numbers.

Two documented departures from the R package:

* **p-value of the factor detector.** CRAN computes ``pf(F, L-1, N-L, ncp=λ)`` with
  λ = [Σ Ȳ_h² − (Σ √N_h Ȳ_h)²/N] / s². That λ is not zero when q = 0 and strata sizes differ, and
  it changes when a constant is added to Y (q does not), so it is not a valid test of q = 0.
  ``pvalue="geodetector_compat"`` gives the CRAN value for reproducing published tables. The
  one-way ANOVA F test (``pvalue="anova"``) assumes independent units; on spatially autocorrelated
  county data it over-rejects (on two independent SAR(0.85) fields on the county contiguity, five
  quantile strata, it rejects about a third of the time at 5%). The **default** (``pvalue="msr"``,
  needs ``w``) is a Moran spectral randomization test (Wagner and Dray 2015, R
  ``adespatial::msr`` "singleton"): Y is redrawn with its exact variance and Moran spectrum, the
  strata held fixed, and p = (1 + #{q* >= q}) / (B + 1).
* **OPGD** (:func:`opgd`; Song, Wang, Ge and Xu 2020, GIScience & Remote Sensing 57(5): 593-610;
  R ``GD::optidisc``): each continuous factor is discretised by the method and class count with the
  largest q. Choosing the maximum inflates q, so the null repeats the same search in every MSR draw
  (the null statistic is the maximum q over the same candidate discretisations).
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
from scipy import sparse, stats

from .._compat import renamed_kwargs
from ..errors import ColumnError, SpecificationError, check_choice, describe_rows
from ..results import EstimationResult, RowReport
from .spatial_null import mem_basis, subset_weights

__all__ = ["discretize", "factor_detector", "interaction_detector", "risk_detector", "ecological_detector",
           "geodetector", "opgd", "msr_q_test", "msr_q_test_fields", "GeoDetectorResult", "INTERACTION_LABELS", "PVALUE_METHODS"]

PVALUE_METHODS = ("msr", "anova", "geodetector_compat")

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
    ``"equal"`` (equal intervals), ``"natural"`` (Jenks natural breaks, the exact Fisher-Jenks optimum
    via mapclassify.FisherJenks, as R ``classInt`` style "fisher"/"jenks" used by ``GD``), ``"sd"``
    (mean ± multiples of the SD, mapclassify.StdMean).
    The choice of method and k changes q (q rises mechanically with k); state both in a paper.

    Examples
    --------
    >>> discretize([1, 2, 3, 4, 5, 6], k=3).tolist()
    [0, 0, 1, 1, 2, 2]
    >>> discretize([1, 2, 3, 4, 10, 11], "equal", k=2).tolist()  # break at 6, the midpoint
    [0, 0, 0, 0, 1, 1]
    >>> discretize([1, 2, 3, 10, 11, 12], "natural", k=2).tolist()
    [0, 0, 0, 1, 1, 1]
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
            bins = mapclassify.FisherJenks(x, k=k).bins[:-1]
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


def _prepare(data: pd.DataFrame, y: str, factors, extra=()) -> tuple[pd.DataFrame, RowReport]:
    factors = [factors] if isinstance(factors, str) else list(factors)
    extra = [c for c in extra if c not in (y, *factors)]
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
    clean = data.loc[~incomplete, [y, *factors, *extra]]
    for f in factors:
        levels = clean[f].nunique()
        if levels < 2:
            raise SpecificationError(f"factor {f!r} has {levels} stratum; it needs at least 2.")
        if pd.api.types.is_float_dtype(clean[f]) and levels > len(clean) / 2:
            raise SpecificationError(
                f"factor {f!r} looks continuous ({levels} distinct values for {len(clean)} rows); "
                "stratify it first with analysis.disparity.discretize(x, method=..., k=...).")
    return clean, report


def msr_q_test(y, code_list, W, n_perm: int = 999, seed=None, chunk: int = 250):
    """q of each candidate stratification and its Moran-spectral-randomization null.

    Parameters
    ----------
    y
        Outcome (n), rows aligned with W.
    code_list
        Integer stratum codes (n each), one array per candidate discretisation.
    W
        n x n weights (any scale; symmetrised inside :func:`~analysis.disparity.spatial_null.mem_basis`).
    n_perm
        Number of MSR draws B.

    Returns
    -------
    (q_obs, q_null)
        ``q_obs`` (C,) and ``q_null`` (C, B). With U the MEM basis and a = U'(y - ybar), a draw's
        stratum sums are M U (s * a), M the stacked stratum indicators, so all candidates and draws
        cost one (rows x n) @ (n x B) product: no loop over draws or strata.

    Examples
    --------
    Twenty-five counties on a 5 x 5 lattice; ``y`` is the row ("zone") plus noise, so ``zone``
    explains almost all of its variance and the random ``noise`` factor almost none:

    >>> import numpy as np
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"adcode": np.arange(25), "zone": np.repeat(np.arange(5), 5),
    ...                    "noise": rng.integers(0, 3, 25)})
    >>> df["y"] = df["zone"] + rng.normal(scale=0.3, size=25)
    >>> from libpysal.weights import lat2W
    >>> w = lat2W(5, 5)  # rook contiguity; its ids 0..24 are the adcodes
    >>> W = w.full()[0]
    >>> q, q_null = msr_q_test(df["y"], [df["zone"], df["noise"]], W, n_perm=199, seed=1)
    >>> np.round(q, 3).tolist(), q_null.shape
    ([0.987, 0.046], (2, 199))
    >>> p = (1 + (q_null >= q[:, None]).sum(axis=1)) / 200
    >>> float(p[0]), bool(p[1] > 0.05)
    (0.005, True)
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    _, U = mem_basis(W)
    a = U.T @ (y - y.mean())
    sst = float(a @ a)
    rows, cols, seg, n_h = [], [], [], []
    start = 0
    for c, codes in enumerate(code_list):
        codes = pd.factorize(np.asarray(codes), sort=True)[0]
        L = int(codes.max()) + 1
        rows.append(start + codes)
        cols.append(np.arange(n))
        seg.append(np.full(L, c))
        n_h.append(np.bincount(codes, minlength=L))
        start += L
    M = sparse.csr_matrix((np.ones(n * len(code_list)), (np.concatenate(rows), np.concatenate(cols))),
                          shape=(start, n))
    P = np.asarray(M @ U)  # (sum of strata) x (n-1)
    seg = np.concatenate(seg)
    inv_n = 1.0 / np.concatenate(n_h)
    C = len(code_list)

    def q_of(G):  # G: strata x B sums of centred y
        ssb = np.zeros((C, G.shape[1]))
        np.add.at(ssb, seg, G**2 * inv_n[:, None])
        return ssb / sst

    q_obs = q_of((P @ a)[:, None])[:, 0]
    Pa = P * a[None, :]  # M U diag(a): a draw's stratum sums are Pa @ s
    rng = np.random.default_rng(seed)
    q_null = np.empty((C, int(n_perm)))
    for b0 in range(0, int(n_perm), chunk):
        nb = min(chunk, int(n_perm) - b0)
        signs = rng.choice(np.array([-1.0, 1.0]), size=(len(a), nb))
        q_null[:, b0 : b0 + nb] = q_of(Pa @ signs)
    return q_obs, q_null


def msr_q_test_fields(Y, codes, W, n_perm: int = 999, seed=None, chunk: int = 250):
    """:func:`msr_q_test` for many outcome fields at once, each with its own stratification.

    ``Y`` and ``codes`` are n x R (column r: an outcome and its stratum codes). One sign matrix is
    shared by all fields (each field's test is exactly the one-field test with those signs), so
    the whole study costs one U'Y product, one sparse (strata x n) @ U product and one
    (strata x n) @ (n x B) product. Used for size studies and the benchmark.

    Returns (q_obs (R,), q_null (R, B)).

    Examples
    --------
    Two outcome fields on a 5 x 5 lattice stratified by row: one driven by the rows, one pure noise.

    >>> import numpy as np
    >>> from libpysal.weights import lat2W
    >>> rng = np.random.default_rng(0)
    >>> rows = np.repeat(np.arange(5), 5)
    >>> Y = np.column_stack([rows + rng.normal(scale=0.3, size=25), rng.normal(size=25)])
    >>> q, q_null = msr_q_test_fields(Y, np.column_stack([rows, rows]), lat2W(5, 5).full()[0],
    ...                               n_perm=199, seed=1)
    >>> q_null.shape, bool(q[0] > 0.9), bool(q[1] < 0.5)
    ((2, 199), True, True)
    """
    Y = np.asarray(Y, dtype=float)
    codes = np.asarray(codes)
    n, R = Y.shape
    _, U = mem_basis(W)
    A = U.T @ (Y - Y.mean(axis=0))
    sst = np.einsum("kr,kr->r", A, A)
    row_ids, seg, n_h = [], [], []
    start = 0
    for r in range(R):
        c = pd.factorize(codes[:, r], sort=True)[0]
        L = int(c.max()) + 1
        row_ids.append(start + c)
        seg.append(np.full(L, r))
        n_h.append(np.bincount(c, minlength=L))
        start += L
    M = sparse.csr_matrix((np.ones(n * R), (np.concatenate(row_ids), np.tile(np.arange(n), R))), shape=(start, n))
    seg = np.concatenate(seg)
    inv_n = 1.0 / np.concatenate(n_h)
    Pa = np.asarray(M @ U) * A[:, seg].T  # row (field r, stratum h): sum over h of U, times a_r

    def q_of(G):
        ssb = np.zeros((R, G.shape[1]))
        np.add.at(ssb, seg, G**2 * inv_n[:, None])
        return ssb / sst[:, None]

    q_obs = q_of(Pa.sum(axis=1)[:, None])[:, 0]
    rng = np.random.default_rng(seed)
    q_null = np.empty((R, int(n_perm)))
    for b0 in range(0, int(n_perm), chunk):
        nb = min(chunk, int(n_perm) - b0)
        signs = rng.choice(np.array([-1.0, 1.0]), size=(A.shape[0], nb))
        q_null[:, b0 : b0 + nb] = q_of(Pa @ signs)
    return q_obs, q_null


def _weights_for(clean: pd.DataFrame, w, id_col: str):
    if w is None:
        raise SpecificationError(
            "the default p-value (pvalue='msr', Moran spectral randomization) needs the spatial weights: "
            "pass w=analysis.spatial.queen_weights() and id_col (the county id column). Counties are "
            "spatially autocorrelated, so the one-way ANOVA p-value (pvalue='anova', independent units) "
            "over-rejects; choose it explicitly only for non-spatial units.")
    if id_col not in clean.columns:
        raise ColumnError(f"id column {id_col!r} is not in the data; it links rows to the units of w.")
    from ..spatial.weights import as_spatial_weights

    return subset_weights(as_spatial_weights(w), clean[id_col].astype(str).tolist())


def factor_detector(data: pd.DataFrame, y: str, factors, pvalue: str = "msr", lambda_var_ddof: int = 1, *,
                    w=None, id_col: str = "adcode", n_perm: int = 999, seed=None) -> pd.DataFrame:
    """q statistic of each factor, its F and p-value.

    ``pvalue="msr"`` (default): Moran spectral randomization (Wagner and Dray 2015; R
    ``adespatial::msr``, "singleton"), ``n_perm`` draws of Y with its spatial autocorrelation kept,
    p = (1 + #{q* >= q})/(B + 1); needs ``w`` (spatial weights) and ``id_col`` (one row per unit).
    ``pvalue="anova"``: central F(L−1, N−L), the one-way ANOVA test of equal stratum means, valid
    for independent units only. ``pvalue="geodetector_compat"``: the noncentral-F value of CRAN
    ``geodetector`` (``lambda_var_ddof=1`` as CRAN; 0 reproduces the PyPI ``geodetector`` package).
    Not a valid test (see the module docstring); use it only to reproduce published numbers.
    Also returns q_adj = 1 − (1 − q)(N − 1)/(N − L), E[q | H0] = (L − 1)/(N − 1) and the ANOVA p.

    Examples
    --------
    Twenty-five counties on a 5 x 5 lattice; ``y`` is the row ("zone") plus noise, so ``zone``
    explains almost all of its variance and the random ``noise`` factor almost none:

    >>> import numpy as np
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"adcode": np.arange(25), "zone": np.repeat(np.arange(5), 5),
    ...                    "noise": rng.integers(0, 3, 25)})
    >>> df["y"] = df["zone"] + rng.normal(scale=0.3, size=25)
    >>> from libpysal.weights import lat2W
    >>> w = lat2W(5, 5)  # rook contiguity; its ids 0..24 are the adcodes
    >>> tab = factor_detector(df, "y", ["zone", "noise"], w=w, n_perm=199, seed=1)
    >>> tab[["factor", "q", "strata"]].round(3).to_dict("list")
    {'factor': ['zone', 'noise'], 'q': [0.987, 0.046], 'strata': [5, 3]}
    >>> float(tab["p_value"].iloc[0]), bool(tab["p_value"].iloc[1] > 0.05)  # 1/200: no draw reaches q
    (0.005, True)
    """
    check_choice("pvalue", pvalue, PVALUE_METHODS)
    flist = [factors] if isinstance(factors, str) else list(factors)
    extra = [id_col] if pvalue == "msr" and id_col in data.columns else []
    clean, report = _prepare(data, y, flist, extra)
    yv = clean[y].to_numpy(float)
    n = len(yv)
    if pvalue == "msr":
        W = _weights_for(clean, w, id_col)
        q_obs, q_null = msr_q_test(yv, [_codes(clean[f]) for f in flist], W, n_perm, seed)
    rows = []
    for j, f in enumerate(flist):
        s = _q_stats(yv, _codes(clean[f]), lambda_var_ddof)
        if pvalue == "msr":
            p = (1 + np.sum(q_null[j] >= q_obs[j] - 1e-12)) / (n_perm + 1)
        else:
            p = s["p_anova"] if pvalue == "anova" else s["p_compat"]
        rows.append({"factor": f, "q": s["q"], "strata": s["n_strata"], "F": s["F"], "p_value": float(p),
                     "q_adj": 1 - (1 - s["q"]) * (n - 1) / (n - s["n_strata"]),
                     "q_null_mean": (s["n_strata"] - 1) / (n - 1), "p_anova": s["p_anova"]})
    out = pd.DataFrame(rows)
    out.attrs.update({"pvalue": pvalue, "rows": report, "n_perm": n_perm if pvalue == "msr" else None,
                      "seed": seed})
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

    Examples
    --------
    Twenty-five counties on a 5 x 5 lattice; ``y`` is the row ("zone") plus noise, so ``zone``
    explains almost all of its variance and the random ``noise`` factor almost none:

    >>> import numpy as np
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"adcode": np.arange(25), "zone": np.repeat(np.arange(5), 5),
    ...                    "noise": rng.integers(0, 3, 25)})
    >>> df["y"] = df["zone"] + rng.normal(scale=0.3, size=25)
    >>> tab = interaction_detector(df, "y", ["zone", "noise"])
    >>> tab[["q_1", "q_2", "q_12"]].round(3).values.tolist(), tab["interaction"].tolist()
    ([[0.987, 0.046, 0.991]], ['enhance, bi-'])
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

    Examples
    --------
    Twenty-five counties on a 5 x 5 lattice; ``y`` is the row ("zone") plus noise, so ``zone``
    explains almost all of its variance and the random ``noise`` factor almost none:

    >>> import numpy as np
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"adcode": np.arange(25), "zone": np.repeat(np.arange(5), 5),
    ...                    "noise": rng.integers(0, 3, 25)})
    >>> df["y"] = df["zone"] + rng.normal(scale=0.3, size=25)
    >>> risk = risk_detector(df, "y", "zone")
    >>> risk["means"]["mean"].round(2).tolist()  # about 0, 1, 2, 3, 4
    [-0.18, 1.12, 1.98, 2.9, 4.02]
    >>> len(risk["tests"]), int(risk["tests"]["significant"].sum())  # all 10 pairs differ
    (10, 10)
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

    Examples
    --------
    Twenty-five counties on a 5 x 5 lattice; ``y`` is the row ("zone") plus noise, so ``zone``
    explains almost all of its variance and the random ``noise`` factor almost none:

    >>> import numpy as np
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"adcode": np.arange(25), "zone": np.repeat(np.arange(5), 5),
    ...                    "noise": rng.integers(0, 3, 25)})
    >>> df["y"] = df["zone"] + rng.normal(scale=0.3, size=25)
    >>> tab = ecological_detector(df, "y", ["zone", "noise"])
    >>> round(float(tab["F"].iloc[0]), 3), bool(tab["significant"].iloc[0])  # SSW_zone / SSW_noise
    (0.013, True)
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


@dataclass(repr=False)
class GeoDetectorResult(EstimationResult):
    """Result of :func:`geodetector` and :func:`opgd` in the package's result contract.

    ``params`` are the q statistics by factor (``to_frame()``: estimate = q, statistic = F,
    p_value = the chosen p-value, no standard error or interval: q has no sampling SE here).
    The detector tables are attributes: ``factor``, ``interaction``, ``ecological``, ``risk``
    and, for OPGD, ``candidates`` (q of every method and class count tried).
    """

    factor: pd.DataFrame | None = None
    interaction: pd.DataFrame | None = None
    ecological: pd.DataFrame | None = None
    risk: dict = field(default_factory=dict)
    candidates: pd.DataFrame | None = None

    @property
    def tstats(self) -> pd.Series:
        return self.factor.set_index("factor")["F"].reindex(self.params.index)

    @property
    def pvalues(self) -> pd.Series:
        return self.factor.set_index("factor")["p_value"].reindex(self.params.index)

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        nan = np.full(len(self.params), np.nan)
        return pd.DataFrame({"ci_low": nan, "ci_high": nan}, index=self.params.index)


def _result(factor_tab, report, settings, interaction=None, ecological=None, risk=None, candidates=None, model=""):
    q = factor_tab.set_index("factor")["q"]
    ref = ("Wang et al. (2010) IJGIS 24(1): 107-127; CRAN geodetector; p-value: "
           + {"msr": "Moran spectral randomization, Wagner and Dray (2015) MEE 6: 1169-1178 (adespatial::msr)",
              "anova": "one-way ANOVA F (independent units)",
              "geodetector_compat": "CRAN geodetector noncentral F (compatibility only)"}[settings["pvalue"]])
    if candidates is not None:
        ref = "Song et al. (2020) GIScience & Remote Sensing 57(5): 593-610 (OPGD, R GD::optidisc); " + ref
    return GeoDetectorResult(
        params=q, std_errors=pd.Series(np.nan, index=q.index), model=model, df_resid=None, statistic_name="F",
        rows=report, settings=settings, reference=ref,
        outcome=settings["y"], vcov_type="randomization" if settings["pvalue"] == "msr" else "iid",
        seed=settings.get("seed") if isinstance(settings.get("seed"), (int, np.integer)) else None,
        stats={"N": report.n_used}, factor=factor_tab,
        interaction=interaction if interaction is not None else pd.DataFrame(),
        ecological=ecological if ecological is not None else pd.DataFrame(),
        risk=risk or {}, candidates=candidates)


@renamed_kwargs(n_perm="n_draws")
def geodetector(data: pd.DataFrame, y: str, factors, pvalue: str = "msr", lang: str = "en", *, w=None,
                id_col: str = "adcode", n_draws: int = 999, seed=None) -> GeoDetectorResult:
    """All four detectors on one complete-case sample; factor p-values as :func:`factor_detector`.

    Examples
    --------
    Twenty-five counties on a 5 x 5 lattice; ``y`` is the row ("zone") plus noise, so ``zone``
    explains almost all of its variance and the random ``noise`` factor almost none:

    >>> import numpy as np
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"adcode": np.arange(25), "zone": np.repeat(np.arange(5), 5),
    ...                    "noise": rng.integers(0, 3, 25)})
    >>> df["y"] = df["zone"] + rng.normal(scale=0.3, size=25)
    >>> from libpysal.weights import lat2W
    >>> w = lat2W(5, 5)  # rook contiguity; its ids 0..24 are the adcodes
    >>> res = geodetector(df, "y", ["zone", "noise"], w=w, n_draws=199, seed=1)
    >>> type(res).__name__, res.params.round(3).to_dict()
    ('GeoDetectorResult', {'zone': 0.987, 'noise': 0.046})
    >>> res.interaction["interaction"].tolist(), sorted(res.risk)
    (['enhance, bi-'], ['noise', 'zone'])
    """
    n_perm = n_draws  # the body's name for the number of draws (vocabulary: n_draws)
    factors = list(factors)
    extra = [id_col] if id_col in data.columns else []
    clean, report = _prepare(data, y, factors, extra)
    tab = factor_detector(clean, y, factors, pvalue=pvalue, w=w, id_col=id_col, n_perm=n_perm, seed=seed)
    return _result(
        tab, report,
        {"y": y, "factors": factors, "pvalue": pvalue, "n_perm": n_perm if pvalue == "msr" else None, "seed": seed},
        interaction=interaction_detector(clean, y, factors, lang=lang) if len(factors) > 1 else pd.DataFrame(),
        ecological=ecological_detector(clean, y, factors) if len(factors) > 1 else pd.DataFrame(),
        risk={f: risk_detector(clean, y, f) for f in factors},
        model="Geographical detector (factor, interaction, risk, ecological)",
    )


OPGD_METHODS = ("equal", "natural", "quantile")


@renamed_kwargs(n_perm="n_draws")
def opgd(data: pd.DataFrame, y: str, factors, *, w=None, id_col: str = "adcode",
         methods=OPGD_METHODS, k=range(3, 8), pvalue: str = "msr", n_draws: int = 999,
         seed=None) -> GeoDetectorResult:
    """Optimal-parameters geographical detector (OPGD; Song et al. 2020, R ``GD::optidisc``).

    Every continuous factor is discretised by each method in ``methods`` (see :func:`discretize`)
    with each class count in ``k`` (R GD's defaults are 3-7 classes; the "geometric" and "sd"
    methods of GD are not offered); the discretisation with the largest q is kept (ties: first in
    method, then k order). Taking the maximum inflates q, so with ``pvalue="msr"`` (default) each
    null draw repeats the search: the null statistic is max_c q*_c over the same candidates, and
    p = (1 + #{max q* >= max q}) / (B + 1). ``pvalue="anova"`` gives the naive F p-value of the
    chosen discretisation (ignores both the search and the spatial dependence).

    Returns a :class:`GeoDetectorResult`; ``factor`` has the chosen ``method`` and ``k``,
    ``candidates`` the q of every candidate.

    Examples
    --------
    A continuous factor ``x`` that steps by 10 from one lattice row to the next; 3 methods x 5
    class counts are tried:

    >>> import numpy as np
    >>> import pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"adcode": np.arange(25), "zone": np.repeat(np.arange(5), 5),
    ...                    "noise": rng.integers(0, 3, 25)})
    >>> df["y"] = df["zone"] + rng.normal(scale=0.3, size=25)
    >>> from libpysal.weights import lat2W
    >>> w = lat2W(5, 5)  # rook contiguity; its ids 0..24 are the adcodes
    >>> df["x"] = df["zone"] * 10 + rng.uniform(size=25)
    >>> res = opgd(df, "y", ["x"], w=w, n_draws=199, seed=1)
    >>> res.factor[["method", "k", "q", "n_candidates", "p_value"]].round(3).to_dict("records")
    [{'method': 'natural', 'k': 7, 'q': 0.987, 'n_candidates': 15, 'p_value': 0.005}]
    >>> res.candidates.shape
    (15, 4)
    """
    n_perm = n_draws  # the body's name for the number of draws (vocabulary: n_draws)
    check_choice("pvalue", pvalue, ("msr", "anova"))
    factors = [factors] if isinstance(factors, str) else list(factors)
    for m in methods:
        check_choice("methods", m, ("quantile", "equal", "natural", "sd"))
    extra = [id_col] if id_col in data.columns else []
    miss = [c for c in [y, *factors] if c not in data.columns]
    if miss:
        raise ColumnError(f"columns {miss} are not in the data.")
    incomplete = data[[y, *factors]].isna().any(axis=1)
    report = RowReport(len(data), int((~incomplete).sum()),
                       {"missing y or factor": int(incomplete.sum())} if incomplete.any() else {})
    clean = data.loc[~incomplete, [y, *factors, *extra]]
    yv = clean[y].to_numpy(float)
    W = _weights_for(clean, w, id_col) if pvalue == "msr" else None
    rows, cand_rows = [], []
    rng = np.random.default_rng(seed)
    for f in factors:
        x = clean[f].to_numpy(float)
        cands, labels = [], []
        for m in methods:
            for kk in k:
                codes = discretize(x, m, int(kk))
                if len(np.unique(codes)) < 2:
                    continue
                cands.append(codes)
                labels.append((m, int(kk)))
        if not cands:
            raise SpecificationError(f"factor {f!r}: no discretisation gives at least 2 classes.")
        qs = np.array([_q_stats(yv, c)["q"] for c in cands])
        best = int(np.argmax(qs))
        s = _q_stats(yv, cands[best])
        if pvalue == "msr":
            q_obs, q_null = msr_q_test(yv, cands, W, n_perm, rng)
            p = (1 + np.sum(q_null.max(axis=0) >= q_obs.max() - 1e-12)) / (n_perm + 1)
        else:
            p = s["p_anova"]
        rows.append({"factor": f, "method": labels[best][0], "k": labels[best][1], "q": s["q"],
                     "strata": s["n_strata"], "F": s["F"], "p_value": float(p), "p_anova": s["p_anova"],
                     "n_candidates": len(cands)})
        cand_rows += [{"factor": f, "method": m, "k": kk, "q": q} for (m, kk), q in zip(labels, qs)]
    return _result(pd.DataFrame(rows), report,
                   {"y": y, "factors": factors, "pvalue": pvalue, "methods": list(methods), "k": list(k),
                    "n_perm": n_perm if pvalue == "msr" else None, "seed": seed},
                   candidates=pd.DataFrame(cand_rows), model="Optimal-parameters geographical detector (OPGD)")
