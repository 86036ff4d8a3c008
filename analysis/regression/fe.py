"""Fixed-effects (within) regression: a thin wrapper over pyfixest with reghdfe's conventions.

:func:`fe` estimates ``y ~ x1 + x2`` with any number of absorbed fixed effects (county and year by
default) and returns a :class:`FEResult`. pyfixest (``pf.feols``, Bergé 2018 / fixest) computes the
point estimates; the covariance matrix is computed in :mod:`analysis.regression.vcov` so that the
small-sample rules are exactly Stata ``reghdfe``'s (Correia 2016) and are stated in words in
``result.settings["vcov"]``. pyfixest's objects never reach the caller.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import ColumnError, SpecificationError, check_choice
from ..results import EstimationResult
from . import vcov as _vc
from ._sample import _NAME, Sample, _split_top, as_tuple, prepare_sample

__all__ = ["FEResult", "fe", "VCOV_ALIASES", "FewClustersWarning", "CollinearityWarning", "FEW_CLUSTERS"]

#: Below this many clusters CRV1 t-tests over-reject: Cameron, Gelbach and Miller (2008, REStat
#: 90(3)) find size distortions with 5-30 clusters; MacKinnon and Webb (2017, J. Appl. Econometrics
#: 32(2)) show them even with ~50 when cluster sizes differ. 42 follows Angrist and Pischke's
#: (2009) "42 clusters" rule of thumb.
FEW_CLUSTERS = 42


class FewClustersWarning(UserWarning):
    """Cluster-robust inference with few clusters: use the wild cluster bootstrap."""


class CollinearityWarning(UserWarning):
    """Regressors dropped because they are collinear with others or with the fixed effects."""

#: Accepted spellings of ``vcov=`` and the covariance each one means.
VCOV_ALIASES = {
    "cluster": "cluster", "clustered": "cluster", "crv1": "cluster", "cl": "cluster",
    "hetero": "hetero", "robust": "hetero", "hc1": "hetero", "white": "hetero",
    "iid": "iid", "unadjusted": "iid", "classical": "iid", "ols": "iid",
    "driscoll-kraay": "driscoll-kraay", "driscoll_kraay": "driscoll-kraay", "dk": "driscoll-kraay",
    "dkraay": "driscoll-kraay", "scc": "driscoll-kraay",
}

REFERENCE = (
    "Correia (2016), 'A feasible estimator for linear models with multi-way fixed effects' "
    "(Stata reghdfe); point estimates by pyfixest feols (Bergé 2018, R fixest)."
)


@dataclass(repr=False)
class FEResult(EstimationResult):
    """Result of :func:`fe`: coefficients, covariance and everything a regression table needs.

    Attributes (besides those of :class:`~analysis.results.EstimationResult`)
    ----------
    depvar : str
        Dependent variable (as written in the formula).
    formula : str
        The formula as given.
    nobs : int
        Observations used.
    r2, r2_within : float
        R² of the full model (FEs included) and within R² (after the FEs are swept out), as
        reghdfe reports them (``e(r2)``, ``e(r2_within)``).
    n_clusters_by : dict
        Number of clusters per cluster variable (``n_clusters`` holds the smallest).
    absorbed : pandas.DataFrame
        reghdfe's table of absorbed degrees of freedom (categories, redundant, num_coefs, nested).
    """

    depvar: str = ""
    formula: str = ""
    nobs: int = 0
    r2: float = float("nan")
    r2_within: float = float("nan")
    n_clusters_by: dict = field(default_factory=dict)
    absorbed: pd.DataFrame | None = None

    @property
    def resid(self) -> pd.Series:
        """Residuals on the estimation sample (index = rows of the input data)."""
        return self.extra["resid"]

    @property
    def sample_index(self) -> pd.Index:
        """Index labels (of the input data) of the rows used."""
        return self.extra["sample_index"]

    def wald(self, terms: Sequence[str] | None = None, R=None, r=None) -> dict[str, float]:
        """Wald test of ``R β = r`` (default: the named ``terms`` are jointly zero).

        Uses this result's covariance (so clustered if the fit was); returns the F statistic with
        ``(q, df_resid)`` degrees of freedom as Stata ``test`` after reghdfe does, and the
        chi-squared form.
        """
        names = list(self.params.index)
        if R is None:
            terms = names if terms is None else list(terms)
            unknown = [t for t in terms if t not in names]
            if unknown:
                raise ColumnError(f"terms {unknown} are not coefficients of this model ({names}).")
            R = np.zeros((len(terms), len(names)))
            for i, t in enumerate(terms):
                R[i, names.index(t)] = 1.0
        R = np.atleast_2d(np.asarray(R, dtype=float))
        r = np.zeros(R.shape[0]) if r is None else np.asarray(r, dtype=float).ravel()
        b = self.params.to_numpy()
        V = self.cov.to_numpy()
        d = R @ b - r
        W = float(d @ np.linalg.solve(R @ V @ R.T, d))
        q = R.shape[0]
        F = W / q
        df2 = self.df_resid if self.df_resid is not None else np.inf
        # scipy's F(q, inf) tail is NaN: its limit is the chi-squared(q) tail of q F
        p_f = stats.f.sf(F, q, df2) if np.isfinite(df2) else stats.chi2.sf(W, q)
        return {
            "F": F, "df1": float(q), "df2": float(df2), "p_value": float(p_f),
            "chi2": W, "p_value_chi2": float(stats.chi2.sf(W, q)),
        }


def _vcov_kind(vcov, cluster) -> str:
    if vcov is None:
        return "cluster" if cluster else "hetero"
    if not isinstance(vcov, str):
        raise SpecificationError(
            f"vcov={vcov!r} must be a string: one of 'cluster', 'hetero' (robust), 'iid', "
            "'driscoll-kraay'; choose the cluster variables with cluster=."
        )
    key = vcov.strip().lower()
    if key not in VCOV_ALIASES:
        check_choice("vcov", vcov, tuple(VCOV_ALIASES))
    return VCOV_ALIASES[key]


def _describe(kind: str, info: dict, cluster: tuple, df_t: float, weights: str | None) -> str:
    w = f"; weighted by {weights!r} (analytic weights)" if weights else ""
    if kind == "cluster":
        G = info["G"]
        how = " and ".join(cluster)
        multi = (
            f"; {len(cluster)}-way clustering (Cameron-Gelbach-Miller inclusion-exclusion), "
            f"G = min over the cluster variables {info['G_list']}"
            if len(cluster) > 1 else ""
        )
        psd = "; negative eigenvalues set to zero (Cameron-Gelbach-Miller fix)" if info.get("psd_fix") else ""
        nested = " (+1 for the constant since every FE is nested in the clusters, as xtreg)" if info["nested_adj"] else ""
        return (
            f"cluster-robust (CRV1) by {how}, {G} clusters{multi}; Stata reghdfe small-sample factor "
            f"G/(G-1)*(N-1)/(N-K) = {info['factor']:.6f} with N = {info['N']}, K = {info['K']} "
            f"(regressors plus absorbed FE parameters not nested in the clusters){nested}; "
            f"p-values and CIs from t(min(G-1, N-K)) = t({int(df_t)}){psd}{w}"
        )
    if kind == "hetero":
        return (
            f"heteroskedasticity-robust (HC1) as reghdfe vce(robust): factor N/(N-K) = "
            f"{info['factor']:.6f}, K = {info['K']} (regressors plus absorbed FE parameters); "
            f"t({int(df_t)}){w}"
        )
    if kind == "iid":
        return (
            f"classical (iid) as reghdfe vce(unadjusted): sigma^2 = RSS/(N-K), K = {info['K']}; "
            f"t({int(df_t)}){w}"
        )
    return (
        f"Driscoll-Kraay (1998) with Bartlett kernel, lag {info['lag']} "
        f"({'user-set' if info.get('lag_user') else 'rule floor(4*(T/100)^(2/9)) of Stata xtscc, Hoechle 2007'}; "
        f"T = {info['T']} periods); factor (N-1)/(N-K) = {info['factor']:.6f}, K = {info['K']}; "
        f"t(T-1) = t({int(df_t)}){w}"
    )


def fe(
    formula: str,
    data: pd.DataFrame,
    entity: str = "county",
    time: str = "year",
    fe: Sequence[str] | str | None = ("county", "year"),
    cluster: Sequence[str] | str | None = "county",
    vcov: str | None = None,
    weights: str | None = None,
    *,
    dk_lag: int | None = None,
    alpha: float = 0.05,
    drop_singletons: bool = True,
    check_keys: bool = True,
) -> FEResult:
    """Linear regression with absorbed fixed effects and reghdfe-style standard errors.

    Parameters
    ----------
    formula
        ``"y ~ x1 + x2"``; fixed effects go in ``fe=``. fixest's ``"y ~ x1 + x2 | county + year"``
        is also accepted (the FEs after the bar then replace ``fe=``). Terms may use formulaic
        syntax (``np.log(x)``, ``x1:x2``, ``C(region)``).
    data
        Long panel, one row per ``entity``-``time``.
    entity, time
        Panel keys: used to check duplicated keys and by Driscoll-Kraay.
    fe
        Fixed effects to absorb, default county and year (two-way FE). ``None`` or ``()`` for
        pooled OLS with an intercept. Interacted FEs as ``"province^year"``.
    cluster
        Cluster variable(s) when ``vcov`` is clustered (the default): ``"county"`` (default),
        ``"province"``, two-way ``("county", "year")`` or ``"county+year"``.
    vcov
        ``None`` (clustered if ``cluster`` is given, else ``"hetero"``), ``"cluster"``,
        ``"hetero"``/``"robust"`` (HC1), ``"iid"``, ``"driscoll-kraay"``/``"dk"``.
    weights
        Column of analytic weights (WLS), as reghdfe ``[aweight=w]``.
    dk_lag
        Driscoll-Kraay lag; default ``floor(4 (T/100)^(2/9))`` (xtscc's rule).
    alpha
        Level of the confidence intervals.
    drop_singletons
        Drop singleton groups iteratively before estimation, as reghdfe does (default True);
        their count is reported in ``result.rows``.
    check_keys
        Raise :class:`~analysis.errors.DuplicateKeyError` if ``(entity, time)`` keys repeat (default).
        Set False for data that legitimately repeat keys (stacked DiD, matched samples).

    Returns
    -------
    FEResult
        ``params``, ``std_errors``, ``tstats``, ``pvalues``, ``conf_int()``, ``nobs``, ``r2``,
        ``r2_within``, ``fixed_effects``, ``cluster``, ``depvar``, ``rows`` (used / dropped with
        reasons) and ``settings["vcov"]`` (the SE convention in words).

    Notes
    -----
    Matches Stata ``reghdfe y x1 x2, absorb(county year) vce(cluster county)`` (Correia 2016):
    CRV1 with factor ``G/(G-1)·(N-1)/(N-K)``, ``K`` = regressors + absorbed FE parameters, FEs
    nested in the clusters not counted; singletons dropped. Point estimates equal R ``fixest::feols``
    and pyfixest; clustered SEs differ from fixest's default by the one-parameter difference in
    ``K`` (fixest counts the constant absorbed in the nested FE).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> panel = pd.DataFrame({"county": np.repeat([f"{110101 + i}" for i in range(30)], 5),
    ...                       "year": np.tile(np.arange(2016, 2021), 30)})
    >>> panel["x"] = rng.normal(size=len(panel))
    >>> panel["y"] = 2.0 * panel["x"] + rng.normal(scale=0.01, size=len(panel))
    >>> res = fe("y ~ x", panel)  # county and year FE, clustered by county (reghdfe rules)
    >>> round(float(res.params["x"]), 2), res.fixed_effects, res.vcov_type, res.n_clusters
    (2.0, ('county', 'year'), 'cluster', 30)
    >>> res_dk = fe("y ~ x", panel, vcov="driscoll-kraay")  # Driscoll-Kraay SEs instead
    """
    return _estimate(formula, data, entity=entity, time=time, fe=fe, cluster=cluster, vcov=vcov,
                     weights=weights, dk_lag=dk_lag, alpha=alpha, drop_singletons=drop_singletons,
                     check_keys=check_keys)[0]


def _check_cluster_variance(X, u, se, names, info, cluster_t, warn: bool = True) -> None:
    """Error on a degenerate clustered variance; warn with few clusters (see :data:`FEW_CLUSTERS`)."""
    G = int(info["G"])
    # the scale of an iid standard error, to judge "zero" relative to the data
    with np.errstate(all="ignore"):
        XtX_inv = np.linalg.pinv(X.T @ X)
        scale = np.sqrt(np.clip(np.diag(XtX_inv), 0, None) * float(u @ u) / max(len(u), 1))
    degenerate = [n for n, s_, sc in zip(names, se, scale) if not np.isfinite(s_) or (sc > 0 and s_ <= 1e-8 * sc)]
    if degenerate:
        raise SpecificationError(
            f"the cluster-robust variance is degenerate with {G} clusters ({' and '.join(cluster_t)}): the "
            f"standard errors of {', '.join(degenerate)} are (numerically) zero, because the cluster score sums "
            f"cancel (with G = {G} they can span at most {G - 1} dimension(s)). No valid cluster-robust inference "
            "is possible; cluster at a finer level, use vcov='hetero', or use randomization inference.")
    if warn and G < FEW_CLUSTERS:
        warnings.warn(
            f"only {G} clusters ({' and '.join(cluster_t)}): cluster-robust (CRV1) t-tests over-reject with "
            f"fewer than about {FEW_CLUSTERS} clusters (Cameron, Gelbach and Miller 2008; MacKinnon and Webb 2017). "
            "Report wild cluster bootstrap p-values: analysis.regression.wild_bootstrap(formula, data, param, cluster=...) "
            "(Webb weights for fewer than about 12 clusters).", FewClustersWarning, stacklevel=4)


def _rows_left_after_transformations(parsed, frame: pd.DataFrame) -> int | None:
    """Rows on which every numpy-transformed variable of the formula (``np.log(x)`` ...) is finite.

    None when the formula has no such term, or none that evaluates here (formulaic syntax such as
    ``C()`` or ``I()``, left to pyfixest). Used to refuse a formula that leaves no rows: pyfixest
    0.60 aborts the Python process (a panic in its Rust demeaning) instead of raising.
    """
    names = {c: frame[c].to_numpy() for c in frame.columns if str(c).isidentifier()}
    ok = None
    parts = [p.strip() for t in [parsed.lhs, *parsed.terms] for p in _split_top(t, ":") for p in _split_top(p, "*")]
    for text in parts:
        if _NAME.match(text):
            continue  # a column: complete in the sample already
        try:
            with np.errstate(all="ignore"):
                values = np.asarray(eval(text, {"np": np, "__builtins__": {}}, names), dtype=float)  # noqa: S307
        except Exception:  # formulaic syntax: pyfixest evaluates it
            continue
        if values.ndim == 0 or values.shape[0] != len(frame):
            continue
        finite = np.isfinite(values.reshape(len(frame), -1)).all(axis=1)
        ok = finite if ok is None else ok & finite
    return None if ok is None else int(ok.sum())


def _estimate(formula, data, *, entity="county", time="year", fe=("county", "year"), cluster="county",
              vcov=None, weights=None, dk_lag=None, alpha=0.05, drop_singletons=True, check_keys=True,
              warn_few_clusters=True):
    """:func:`fe` plus the internals other estimators reuse (demeaned X and y, codes, sample).

    Long because (about 130 lines of code) sample, demeaning, collinearity, covariance and the
    result share the pyfixest fit and the FE codes, which the other estimators reuse through the
    returned internals; splitting it is left for a later change.
    """
    import pyfixest as pf

    cluster_t = as_tuple(cluster)
    kind = _vcov_kind(vcov, cluster_t)
    if kind == "cluster" and not cluster_t:
        raise SpecificationError("vcov='cluster' needs cluster variables: pass cluster='county' (or a tuple).")
    if kind != "cluster":
        cluster_t = ()
    extra_cols = list(cluster_t)
    if kind == "driscoll-kraay":
        extra_cols += [time, entity]
        if not check_keys:
            raise SpecificationError("Driscoll-Kraay needs one row per (entity, time); keep check_keys=True.")
    sample: Sample = prepare_sample(
        data, formula, fe, extra_columns=extra_cols, weights=weights, entity=entity, time=time,
        singletons=drop_singletons, check_keys=check_keys,
    )
    parsed = sample.parsed
    fe_t = sample.fe
    frame = sample.frame
    work = frame.reset_index(drop=True)
    fml = f"{parsed.lhs} ~ {parsed.rhs}" + (f" | {' + '.join(fe_t)}" if fe_t else "")
    if kind == "cluster":
        G_min = min(int(pd.Series(work[c]).nunique()) for c in cluster_t)
        if G_min < 2:
            raise SpecificationError(
                f"cluster-robust standard errors need at least 2 clusters; {' and '.join(cluster_t)} has "
                f"{G_min} in the estimation sample, so the variance G/(G-1) sum_g s_g s_g' is undefined. "
                "Cluster at a finer level, or use vcov='hetero' (and say so).")
    if _rows_left_after_transformations(parsed, work) == 0:
        raise SpecificationError(
            f"no rows left to estimate {formula!r}: every row has a missing or infinite value after the "
            "transformations in the formula (e.g. np.log of a value <= 0). Check the variables' ranges.")
    with warnings.catch_warnings(record=True) as caught:  # re-issued below, collinearity as ours
        warnings.simplefilter("always")
        try:
            fit = pf.feols(fml, data=work, vcov="iid", weights=weights, fixef_rm="none",
                           copy_data=False)
        except Exception as exc:  # translate pyfixest's errors into ours
            raise SpecificationError(f"could not estimate {formula!r}: {exc}") from exc
    collinear = [str(v) for v in (getattr(fit, "_collin_vars", []) or [])]
    for rec in caught:  # pyfixest's own notes reach the user (not pandas' deprecation chatter)
        if issubclass(rec.category, (DeprecationWarning, PendingDeprecationWarning, FutureWarning)):
            continue
        if rec.category.__module__.startswith(("pandas", "numpy")) and not issubclass(rec.category, RuntimeWarning):
            continue
        msg = " ".join(str(rec.message).split())
        if collinear and "collinearity" in msg:
            continue  # replaced by the CollinearityWarning below, which names the variables
        warnings.warn(f"pyfixest: {msg}", rec.category, stacklevel=3)
    if collinear:
        warnings.warn(
            f"{len(collinear)} regressor(s) dropped because they are collinear with the other regressors or "
            f"constant within the fixed effects ({', '.join(fe_t) or 'none'}): {', '.join(collinear)}. They have "
            "no coefficient in the result (settings['collinear_dropped']).", CollinearityWarning, stacklevel=3)
    used_pos = np.asarray(fit._data.index)
    rows = sample.rows
    if fit._N != len(work):
        n_extra = len(work) - int(fit._N)
        dropped = dict(rows.dropped)
        dropped["missing after transformations in the formula"] = n_extra
        from ..results import RowReport

        rows = RowReport(n_input=rows.n_input, n_used=int(fit._N), dropped=dropped)
    used = work.iloc[used_pos]
    index_used = frame.index[used_pos]

    names = [str(c) for c in fit._coefnames]
    beta = np.asarray(fit._beta_hat, dtype=float).ravel()
    X = np.asarray(fit._X, dtype=float)
    u = np.asarray(fit._u_hat, dtype=float).ravel()
    rank = X.shape[1]
    has_fe = bool(fe_t)

    fe_codes = [pd.factorize(sample.fe_codes[j][used_pos], sort=True)[0] for j in range(len(fe_t))] if has_fe else []
    cl_codes = [pd.factorize(used[c], sort=True)[0] for c in cluster_t]
    if has_fe:
        absorbed_all = _vc.absorbed_dof(fe_codes, fe_t, ())
        absorbed_cl = _vc.absorbed_dof(fe_codes, fe_t, cl_codes) if cl_codes else absorbed_all
        df_a_all = int(absorbed_all["num_coefs"].sum())
        df_a_cl = int(absorbed_cl["num_coefs"].sum())
    else:
        absorbed_all = absorbed_cl = None
        df_a_all = df_a_cl = 0
    time_codes = used[time].to_numpy() if kind == "driscoll-kraay" else None
    V, df_t, info = _vc.compute_vcov(
        kind, X, u, rank=rank, df_a_nonnested=df_a_all, df_a_clustered=df_a_cl,
        clusters=cl_codes, cluster_names=cluster_t, time_codes=time_codes, lag=dk_lag, has_fe=has_fe,
    )
    info["lag_user"] = dk_lag is not None
    se = np.sqrt(np.clip(np.diag(V), 0, None))
    if kind == "cluster" and len(names):
        _check_cluster_variance(X, u, se, names, info, cluster_t, warn_few_clusters)
    if info.get("psd_fix"):
        warnings.warn(
            "the multi-way clustered covariance was not positive semi-definite; negative eigenvalues "
            "were set to zero (Cameron, Gelbach and Miller 2011, as reghdfe).", stacklevel=2)

    desc = _describe(kind, info, cluster_t, df_t, weights)
    settings: dict[str, Any] = {
        "formula": formula,
        "fixed_effects": ", ".join(fe_t) if fe_t else "none (pooled OLS with intercept)",
        "vcov": desc,
        "vcov_type": kind,
        "cluster": ", ".join(cluster_t) if cluster_t else None,
        "weights": weights,
        "singletons": "dropped iteratively (reghdfe)" if drop_singletons else "kept",
    }
    if collinear:
        settings["collinear_dropped"] = ", ".join(map(str, collinear))
    if kind == "cluster" and info["G"] < FEW_CLUSTERS:
        settings["few_clusters"] = (f"{info['G']} clusters (< {FEW_CLUSTERS}): CRV1 t-tests over-reject; "
                                    "see the wild cluster bootstrap")
    r2 = float(fit._r2)
    r2_within = float(fit._r2_within) if has_fe else float("nan")
    n_clusters = info.get("G_list", {})
    stat: dict[str, Any] = {"N": int(fit._N), "r2": r2}
    if has_fe:
        stat["r2_within"] = r2_within
    if n_clusters:
        stat.update({f"clusters_{k}": v for k, v in n_clusters.items()})
    stat["K"] = info["K"]
    stat["df_a"] = df_a_cl if kind == "cluster" else df_a_all
    resid_w = u / np.sqrt(np.asarray(fit._weights).ravel()) if weights else u
    result = FEResult(
        params=pd.Series(beta, index=names),
        std_errors=pd.Series(se, index=names),
        model="Fixed-effects OLS (reghdfe conventions)" if has_fe else "Pooled OLS (reghdfe conventions)",
        df_resid=df_t,
        rows=rows,
        settings=settings,
        reference=REFERENCE,
        stats=stat,
        cov=pd.DataFrame(V, index=names, columns=names),
        extra={
            "resid": pd.Series(resid_w, index=index_used, name="resid"),
            "sample_index": index_used,
            "vcov_info": info,
        },
        alpha=alpha,
        depvar=parsed.lhs,
        formula=formula,
        outcome=parsed.lhs,
        fixed_effects=tuple(fe_t),
        cluster=tuple(cluster_t) if cluster_t else (),
        vcov_type=kind.replace("-", "_"),
        n_clusters=min(n_clusters.values()) if n_clusters else None,
        nobs=int(fit._N),
        r2=r2,
        r2_within=r2_within,
        n_clusters_by=dict(n_clusters),
        absorbed=absorbed_cl if kind == "cluster" else absorbed_all,
    )
    # what the wild cluster bootstrap reuses (the rest is in the result)
    internals = {
        "X": X, "y": np.asarray(fit._Y, dtype=float).ravel(), "names": names, "fe_codes": fe_codes,
        "cluster_codes": cl_codes, "fe": tuple(fe_t), "info": info,
    }
    return result, internals
