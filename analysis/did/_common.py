"""Shared pieces of the DiD estimators: input checks, treatment timing, the FE-OLS core, the
event-study result type and its plot.

Every DiD estimator in :mod:`analysis.did` goes through the same checks so that the same bad input
raises the same error everywhere:

* required columns present, (entity, time) keys unique;
* rows with missing values are dropped *and counted* (:class:`~analysis.results.RowReport`);
* the treatment is absorbing (0/1, never switching off) and the adoption year is constant within a
  unit (a unit whose adoption year is missing in some rows and present in others is an error);
* every treated unit has at least one untreated period in the sample (a pre-period).

:class:`EventStudyResult` is the one result type for every event-study style estimator (TWFE
event study here; Callaway-Sant'Anna, Sun-Abraham and imputation estimators in sibling files): an
event-time table (event_time, estimate, std_error, ci_low, ci_high), the covariance of the event-time
estimates, an overall estimate and a ``plot(lang=...)``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .._compat import renamed_kwargs
from ..demean import FixedEffects
from ..errors import (
    ColumnError,
    MissingValueError,
    NonNumericError,
    SpecificationError,
    TreatmentTimingError,
    describe_rows,
)
from ..plots import new_figure, tr
from ..results import EstimationResult
from ..validation import check_unique_keys

__all__ = [
    "EventStudyResult",
    "TREATMENT_TERM",
    "check_columns",
    "check_keys",
    "drop_missing",
    "adoption_from_treatment",
    "adoption_per_unit",
    "resolve_adoption",
    "parse_adoption",
    "recode_late_adopters",
    "LATE_ADOPTION_KEY",
    "check_pre_period",
    "relative_time",
    "wald_test",
    "fe_ols",
    "FEOLSFit",
    "collinear_columns",
    "plot_event_study",
]


# ---------------------------------------------------------------------------------------------
# input checks
# ---------------------------------------------------------------------------------------------
def check_columns(data: pd.DataFrame, columns: Iterable[str], what: str = "the data") -> None:
    """Raise :class:`ColumnError` naming every column of ``columns`` missing from ``data``."""
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame (one row per unit-year), got {type(data).__name__}.")
    missing = [c for c in columns if c is not None and c not in data.columns]
    if missing:
        raise ColumnError(
            f"column(s) {missing} not found in {what}; available columns: {list(data.columns)[:30]}"
            f"{' ...' if data.shape[1] > 30 else ''}. Pass the right names (entity=, time=, y=, ...)."
        )


def check_keys(data: pd.DataFrame, entity: str, time: str) -> None:
    """Raise :class:`DuplicateKeyError` if an (entity, time) pair occurs more than once."""
    check_unique_keys(data, entity, time)
    if data[time].isna().any():
        raise MissingValueError(
            f"column {time!r} (time) is missing in {describe_rows(data.index[data[time].isna()])}; fill or drop those rows."
        )
    if data[entity].isna().any():
        raise MissingValueError(
            f"column {entity!r} (entity) is missing in {describe_rows(data.index[data[entity].isna()])}; fill or drop those rows."
        )
    if not pd.api.types.is_numeric_dtype(data[time]):
        raise NonNumericError(f"column {time!r} (time) must be numeric years, got dtype {data[time].dtype}.")


def _numeric(data: pd.DataFrame, col: str) -> pd.Series:
    s = data[col]
    if pd.api.types.is_bool_dtype(s):
        return s.astype(float)
    if not pd.api.types.is_numeric_dtype(s):
        conv = pd.to_numeric(s, errors="coerce")
        bad = conv.isna() & s.notna()
        if bad.any():
            raise NonNumericError(
                f"column {col!r} has non-numeric values in {describe_rows(data.index[bad])} "
                f"(e.g. {s[bad].iloc[0]!r}); convert it to numbers."
            )
        return conv.astype(float)
    return s.astype(float)


def drop_missing(data: pd.DataFrame, columns: Sequence[str]) -> tuple[pd.DataFrame, dict[str, int]]:
    """Drop rows with a missing value in any of ``columns``; count drops by the first missing column.

    Returns the kept rows (a copy, numeric columns converted to float) and ``{"missing <col>": n}``.
    """
    out = data.copy()
    dropped: dict[str, int] = {}
    for col in columns:
        out[col] = _numeric(out, col)
        miss = out[col].isna() | ~np.isfinite(out[col].to_numpy(dtype=float, na_value=np.nan))
        if miss.any():
            dropped[f"missing {col}"] = int(miss.sum())
            out = out.loc[~miss]
    return out, dropped


def adoption_from_treatment(data: pd.DataFrame, treat: str, entity: str = "county", time: str = "year") -> pd.Series:
    """First period with ``treat == 1`` for each unit (NaN for never-treated units).

    Raises
    ------
    NonNumericError
        ``treat`` is not 0/1.
    TreatmentTimingError
        The treatment switches off (1 then 0) in some unit: the staggered-adoption estimators need
        an absorbing treatment. Recode it (e.g. keep the first spell) or use an estimator for
        switching treatments.
    """
    d = _numeric(data, treat)
    bad = d.notna() & ~d.isin([0.0, 1.0])
    if bad.any():
        raise NonNumericError(
            f"treatment column {treat!r} must be 0/1; found {sorted(float(v) for v in d[bad].unique())[:5]} in "
            f"{describe_rows(data.index[bad])}."
        )
    frame = pd.DataFrame({"e": data[entity].to_numpy(), "t": data[time].to_numpy(), "d": d.to_numpy()})
    frame = frame.sort_values(["e", "t"])
    first = frame.loc[frame["d"] == 1].groupby("e", sort=True)["t"].min()
    # switching off: any untreated row after the unit's first treated year
    g = frame["e"].map(first)
    off = (frame["d"] == 0) & g.notna() & (frame["t"] > g)
    if off.any():
        units = frame.loc[off, "e"].unique()
        raise TreatmentTimingError(
            f"treatment {treat!r} switches off (1 then 0) in {len(units)} {entity}(s): "
            f"{', '.join(map(str, units[:8]))}{' ...' if len(units) > 8 else ''}. These estimators need an "
            "absorbing (staggered-adoption) treatment; recode it as on from the first treated year, or drop those units."
        )
    units = pd.Index(pd.unique(frame["e"]))
    return first.reindex(units).astype(float).rename("adoption")


#: settings key under which every DiD estimator reports adoption years after the last period
LATE_ADOPTION_KEY = "adoption after last period"


def parse_adoption(data: pd.DataFrame, adoption: str) -> pd.Series:
    """The adoption column as float years, NaN meaning never treated.

    One rule for every DiD estimator: numbers, or text holding whole years (as read from Excel or
    a CSV with a text column). Never treated is written as missing, ``0``, ``inf``, or in text as
    ``''`` / blanks / ``'0'``; anything else that is not a number is an error naming the rows.
    """
    s = data[adoption]
    if pd.api.types.is_bool_dtype(s):
        raise NonNumericError(f"adoption column {adoption!r} is boolean; give the first treated year "
                              "(or 0 / empty for never treated), or pass the 0/1 column as treat=.")
    if not pd.api.types.is_numeric_dtype(s):
        txt = s.astype("string").str.strip()
        blank = s.isna() | txt.isna() | (txt == "")
        conv = pd.to_numeric(txt.where(~blank), errors="coerce")
        bad = conv.isna() & ~blank
        if bad.any():
            raise NonNumericError(
                f"adoption column {adoption!r} has non-numeric values in {describe_rows(data.index[bad])} "
                f"(e.g. {s[bad].iloc[0]!r}); give the first treated year, and 0 or empty for never treated."
            )
        a = conv.astype(float)
    else:
        a = s.astype(float)
    return a.where(~a.isin([0.0, np.inf]))


def recode_late_adopters(g: pd.Series, last_period: float, entity: str = "county") -> tuple[pd.Series, str | None]:
    """Units adopting after ``last_period`` are not yet treated in the whole sample: never treated.

    The one rule of every DiD estimator here (event study, Callaway-Sant'Anna, Sun-Abraham,
    imputation), as R ``did`` does. Returns the recoded adoption years (NaN = never treated) and
    the note to put in ``settings[LATE_ADOPTION_KEY]`` (None if no unit adopts late).
    """
    late = g.notna() & (g > last_period)
    if not late.any():
        return g, None
    n = int(late.sum())
    note = (f"{n} {entity}(s) adopting after the last period ({last_period:g}) treated as never treated "
            f"within the sample (adoption years {sorted(set(int(v) for v in g[late]))[:5]})")
    return g.where(~late), note


def adoption_per_unit(data: pd.DataFrame, adoption: str, entity: str = "county") -> pd.Series:
    """Adoption year per unit from a column that repeats it on every row.

    NaN, 0 and +inf mean never treated (the Stata ``csdid``/R ``did`` convention uses 0); text is
    parsed by :func:`parse_adoption` (``''``/blank/``'0'`` = never treated). The value must be the
    same on every row of a unit: a unit whose adoption year is missing on some rows and filled on
    others is an error (missing adoption years), and so is one with two years.
    """
    a = parse_adoption(data, adoption)
    frame = pd.DataFrame({"e": data[entity].to_numpy(), "a": a.to_numpy()})
    grp = frame.groupby("e", sort=False)["a"]
    n_missing = frame["a"].isna().groupby(frame["e"], sort=False).sum()
    n_rows = grp.size()
    n_distinct = grp.nunique()
    partial = n_missing[(n_missing > 0) & (n_missing < n_rows)].index
    if len(partial):
        raise TreatmentTimingError(
            f"adoption year {adoption!r} is missing on some rows but not others for {len(partial)} {entity}(s): "
            f"{', '.join(map(str, partial[:8]))}{' ...' if len(partial) > 8 else ''}. Fill the adoption year on every "
            "row of a treated unit (it is a unit-level attribute), or leave it empty on all rows of never-treated units."
        )
    varying = n_distinct[n_distinct > 1].index
    if len(varying):
        raise TreatmentTimingError(
            f"adoption year {adoption!r} varies within {len(varying)} {entity}(s): "
            f"{', '.join(map(str, varying[:8]))}{' ...' if len(varying) > 8 else ''}. It must be one year per unit "
            "(the first year of treatment)."
        )
    out = grp.first()
    if (out.dropna() % 1 != 0).any():
        raise NonNumericError(f"adoption year {adoption!r} must hold whole years; found {float(out[out % 1 != 0].iloc[0])!r}.")
    return out.rename("adoption").astype(float)


def resolve_adoption(
    data: pd.DataFrame,
    entity: str = "county",
    time: str = "year",
    treat: str | None = None,
    adoption: str | None = None,
) -> pd.Series:
    """Adoption year per unit from ``adoption`` and/or ``treat``; check that the two agree.

    With both: every unit with a treated row must have an adoption year (else "missing adoption
    years"), and ``treat`` must equal ``1{time >= adoption}`` on every row.
    """
    if treat is None and adoption is None:
        raise SpecificationError("give the treatment: treat= (a 0/1 column) or adoption= (the first treated year).")
    if adoption is None:
        return adoption_from_treatment(data, treat, entity, time)
    g = adoption_per_unit(data, adoption, entity)
    if treat is not None:
        g_treat = adoption_from_treatment(data, treat, entity, time)
        lacking = g_treat.index[g_treat.notna() & g.reindex(g_treat.index).isna()]
        if len(lacking):
            raise TreatmentTimingError(
                f"{len(lacking)} {entity}(s) are treated ({treat}=1) but have no adoption year in {adoption!r} "
                f"(missing adoption years): {', '.join(map(str, lacking[:8]))}{' ...' if len(lacking) > 8 else ''}. "
                "Fill the adoption year."
            )
        implied = (data[time].to_numpy() >= data[entity].map(g).to_numpy()).astype(float)
        actual = _numeric(data, treat).to_numpy()
        mismatch = np.isfinite(actual) & (implied != actual)
        if mismatch.any():
            raise TreatmentTimingError(
                f"{treat!r} disagrees with 1{{{time} >= {adoption}}} in {describe_rows(data.index[mismatch])}; "
                "fix one of the two columns (the treatment must switch on in the adoption year and stay on)."
            )
    return g


def check_pre_period(g: pd.Series, data: pd.DataFrame, entity: str = "county", time: str = "year") -> None:
    """Raise :class:`TreatmentTimingError` if a treated unit has no untreated year in ``data``."""
    first_obs = data.groupby(entity, sort=False)[time].min()
    gg = g.reindex(first_obs.index)
    bad = gg.index[gg.notna() & (gg <= first_obs)]
    if len(bad):
        raise TreatmentTimingError(
            f"{len(bad)} treated {entity}(s) have no pre-treatment period in the sample (adopted in or before their "
            f"first observed {time}): {', '.join(map(str, bad[:8]))}{' ...' if len(bad) > 8 else ''}. "
            "Their treatment effect is not identified against a pre-period; drop them or extend the sample backwards."
        )


def relative_time(data: pd.DataFrame, g: pd.Series, entity: str = "county", time: str = "year") -> pd.Series:
    """Event time ``time - adoption`` for every row (NaN for never-treated units)."""
    return (data[time].astype(float) - data[entity].map(g).astype(float)).rename("event_time")


# ---------------------------------------------------------------------------------------------
# FE-OLS with reghdfe-style cluster-robust variance
# ---------------------------------------------------------------------------------------------
@dataclass
class FEOLSFit:
    """Coefficients and CRV1 covariance of an OLS with absorbed fixed effects (``k`` = reghdfe's K)."""

    params: pd.Series
    cov: pd.DataFrame
    nobs: int
    n_clusters: int
    df_resid: float
    k: int
    resid: np.ndarray
    dropped: dict[str, str] = field(default_factory=dict)  # collinear regressor -> reason


def collinear_columns(X: np.ndarray, names: Sequence[str], tol: float = 1e-10,
                      raw_scale: Sequence[float] | None = None) -> dict[str, str]:
    """Regressors of (already demeaned) ``X`` to drop, each with the reason, in column order.

    A column is dropped if it is zero after the fixed effects are swept out (max |x| below
    ``tol`` times the column's max |x| before demeaning, ``raw_scale``; without it, ``tol`` times
    the largest entry of ``X``: constant within the fixed effects), or if it is a linear
    combination of the columns kept before it (residual sum of squares below ``tol**0.5`` times
    its own), as Stata ``reghdfe`` / R ``fixest`` drop collinear variables.
    """
    X = np.asarray(X, dtype=float)
    names = [str(n) for n in names]
    if X.size == 0:
        return {}
    glob = float(np.max(np.abs(X)))
    scales = np.full(X.shape[1], glob) if raw_scale is None else np.asarray(raw_scale, dtype=float)
    out: dict[str, str] = {}
    kept: list[int] = []
    for j in range(X.shape[1]):
        x = X[:, j]
        scale = scales[j]
        if scale == 0 or float(np.max(np.abs(x))) <= tol * scale:
            out[names[j]] = "constant within the fixed effects (zero after demeaning)"
            continue
        if kept:
            K = X[:, kept]
            coef, *_ = np.linalg.lstsq(K, x, rcond=None)
            r = x - K @ coef
            if float(r @ r) <= np.sqrt(tol) * float(x @ x):
                out[names[j]] = f"collinear with {', '.join(names[i] for i in kept)}"
                continue
        kept.append(j)
    return out


def fe_ols(
    y: np.ndarray,
    X: np.ndarray,
    names: Sequence[str],
    fe: FixedEffects | None,
    cluster: np.ndarray,
    weights: np.ndarray | None = None,
    demeaned: bool = False,
    raw_scale: Sequence[float] | None = None,
) -> FEOLSFit:
    """OLS of ``y`` on ``X`` with the fixed effects of ``fe`` swept out, CRV1 clustered by ``cluster``.

    The covariance is :func:`analysis.regression.vcov.compute_vcov` (the one behind
    :func:`analysis.regression.fe`), so the standard errors equal ``fe(...)``'s and Stata
    ``reghdfe``'s: factor ``G/(G-1) * (N-1)/(N-K)``, ``K`` = regressors + absorbed FE parameters
    (reghdfe's redundancy rules; FEs nested in the cluster variable count zero), t(G-1) inference.
    With ``demeaned=True``, ``y`` and ``X`` are already demeaned by ``fe`` (still needed for K);
    pass ``raw_scale`` (max |x| of each column before demeaning) so that columns constant within
    the fixed effects are recognised whatever their units. Collinear columns are dropped with a
    :class:`~analysis.regression.fe.CollinearityWarning` (estimate and SE NaN, listed in ``dropped``).
    """
    from ..regression.vcov import absorbed_dof, compute_vcov

    y = np.asarray(y, dtype=float)
    X = np.asarray(X, dtype=float).reshape(len(y), -1)
    if raw_scale is None and not demeaned:
        raw_scale = np.max(np.abs(X), axis=0) if X.size else None
    if not demeaned and fe is not None:
        yX = fe.demean(np.column_stack([y, X]))
        y, X = yX[:, 0], yX[:, 1:]
    w = np.ones(len(y)) if weights is None else np.asarray(weights, dtype=float)
    sw = np.sqrt(w)
    names = [str(n) for n in names]
    dropped = collinear_columns(X * sw[:, None], names,
                                raw_scale=None if raw_scale is None else np.asarray(raw_scale) * sw.max())
    if dropped:
        import warnings

        from ..regression.fe import CollinearityWarning

        warnings.warn(
            f"{len(dropped)} regressor(s) dropped as collinear: "
            + "; ".join(f"{k} ({v})" for k, v in dropped.items())
            + ". Their estimates are NaN and they do not count in K or in joint tests.",
            CollinearityWarning, stacklevel=3)
    keep = np.array([n not in dropped for n in names], dtype=bool)
    X = X[:, keep]
    Xw, yw = X * sw[:, None], y * sw
    b = np.linalg.solve(Xw.T @ Xw, Xw.T @ yw) if X.shape[1] else np.zeros(0)
    u = y - X @ b
    codes = pd.factorize(pd.Series(cluster))[0]
    # a cluster covariance counts only the absorbed parameters not nested in the cluster (reghdfe)
    df_a_cl = int(absorbed_dof(fe.codes, [str(n) for n in fe.names], [codes])["num_coefs"].sum()) \
        if fe is not None and fe.codes else 0
    V, df_t, info = compute_vcov("cluster", Xw, u * sw, rank=X.shape[1], df_a_nonnested=df_a_cl,
                                 df_a_clustered=df_a_cl, clusters=[codes], has_fe=fe is not None and bool(fe.codes))
    b_all = np.full(len(names), np.nan)
    b_all[keep] = b
    V_all = np.full((len(names), len(names)), np.nan)
    V_all[np.ix_(keep, keep)] = V
    return FEOLSFit(
        params=pd.Series(b_all, index=names),
        cov=pd.DataFrame(V_all, index=names, columns=names),
        nobs=len(y),
        n_clusters=int(info["G"]),
        df_resid=float(df_t),
        k=int(info["K"]),
        resid=u,
        dropped=dropped,
    )


def wald_test(estimates: np.ndarray, cov: np.ndarray, df_denom: float | None = None) -> dict[str, float]:
    """Joint Wald test that every element of ``estimates`` is zero.

    Returns ``{"stat": chi2, "df": q, "p_value": chi2 p, "F": chi2/q, "F_p_value": F(q, df_denom) p}``
    (the F form is what Stata ``testparm`` prints after ``reghdfe``).
    """
    b = np.asarray(estimates, dtype=float)
    V = np.asarray(cov, dtype=float).reshape(len(b), len(b))
    ok = np.isfinite(b) & np.isfinite(np.diag(V)) if len(b) else np.zeros(0, bool)
    b, V = b[ok], V[np.ix_(ok, ok)]  # dropped (collinear) terms are not tested
    # degrees of freedom = rank of the covariance (a singular V tests fewer restrictions than terms)
    q = int(np.linalg.matrix_rank(V)) if len(b) else 0
    if q == 0:
        return {"stat": np.nan, "df": 0, "p_value": np.nan, "F": np.nan, "F_p_value": np.nan}
    chi2 = float(b @ np.linalg.pinv(V) @ b)
    out = {"stat": chi2, "df": q, "p_value": float(stats.chi2.sf(chi2, q)), "F": chi2 / q}
    out["F_p_value"] = float(stats.f.sf(chi2 / q, q, df_denom)) if df_denom else float(stats.chi2.sf(chi2, q))
    return out


# ---------------------------------------------------------------------------------------------
# the shared event-study result
# ---------------------------------------------------------------------------------------------
EVENT_COLUMNS = ["event_time", "estimate", "std_error", "ci_low", "ci_high"]
#: the name of the treatment (DiD) coefficient in every TWFE-type DiD result (psm_did, placebo_test,
#: fake_timing_test, bacon_decomposition, spatial_did)
TREATMENT_TERM = "did"
#: Chinese legend labels of known estimator names (others are shown as they are).
_ESTIMATOR_ZH = {"TWFE event study": "双向固定效应事件研究"}


@dataclass(repr=False)
class EventStudyResult(EstimationResult):
    """Event-time estimates of any event-study style estimator.

    Build it with :meth:`from_estimates`. Attributes beyond :class:`EstimationResult`:

    estimator
        Name, e.g. ``"TWFE event study"``, ``"Callaway-Sant'Anna (dynamic)"``.
    event_time
        DataFrame with columns ``event_time, estimate, std_error, ci_low, ci_high`` (plus optional extra
        columns such as ``label`` or ``binned``), one row per estimated event time.
    event_vcov
        Covariance of the event-time estimates (index and columns = event time), or None.
    overall
        ``{"estimate", "std_error", "ci_low", "ci_high", "description"}``: one summary number
        (``"se"`` is kept as a deprecated spelling of ``"std_error"``).
    reference_period
        The normalised event time (drawn at zero), or None if there is none.
    pretrend
        Joint test of the pre-period estimates (``stat``, ``df``, ``p_value``, ``F``, ...).
    """

    estimator: str = ""
    event_time: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=EVENT_COLUMNS))
    event_vcov: pd.DataFrame | None = None
    overall: dict[str, Any] = field(default_factory=dict)
    reference_period: int | None = -1
    pretrend: dict[str, Any] = field(default_factory=dict)

    @classmethod
    @renamed_kwargs(rel_time="event_times")
    def from_estimates(
        cls,
        estimator: str,
        event_times: Sequence[int],
        estimates: Sequence[float],
        vcov: np.ndarray | None = None,
        se: Sequence[float] | None = None,
        *,
        labels: Sequence[str] | None = None,
        overall: Mapping[str, Any] | None = None,
        reference_period: int | None = -1,
        df_resid: float | None = None,
        alpha: float = 0.05,
        crit: float | None = None,
        pretrend: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> "EventStudyResult":
        """Assemble a result from event times, estimates and a covariance (or SEs).

        ``crit`` overrides the critical value of the bands (e.g. a uniform-band value from a
        multiplier bootstrap); the default is the t (or normal, if ``df_resid`` is None) quantile.
        """
        rel = np.asarray(event_times, dtype=int)
        est = np.asarray(estimates, dtype=float)
        if vcov is not None:
            V = np.asarray(vcov, dtype=float)
            sev = np.sqrt(np.clip(np.diag(V), 0, None))
        elif se is not None:
            V = None
            sev = np.asarray(se, dtype=float)
        else:
            raise SpecificationError("give vcov= or se= for the event-time estimates.")
        if crit is None:
            crit = float((stats.norm if df_resid is None else stats.t(df_resid)).ppf(1 - alpha / 2))
        labels = list(labels) if labels is not None else [f"event_time={k}" for k in rel]
        table = pd.DataFrame(
            {"event_time": rel, "estimate": est, "std_error": sev, "ci_low": est - crit * sev, "ci_high": est + crit * sev,
             "label": labels}
        )
        ev = None if V is None else pd.DataFrame(V, index=rel, columns=rel)
        ov = dict(overall or {})
        if "std_error" in ov and "se" not in ov:
            ov["se"] = ov["std_error"]  # deprecated spelling, kept for one release
        elif "se" in ov and "std_error" not in ov:
            ov["std_error"] = ov["se"]
        if ov and "estimate" in ov and "std_error" in ov and "ci_low" not in ov:
            ov["ci_low"] = ov["estimate"] - crit * ov["std_error"]
            ov["ci_high"] = ov["estimate"] + crit * ov["std_error"]
        return cls(
            params=pd.Series(est, index=labels),
            std_errors=pd.Series(sev, index=labels),
            df_resid=df_resid,
            cov=None if V is None else pd.DataFrame(V, index=labels, columns=labels),
            alpha=alpha,
            estimator=estimator,
            event_time=table,
            event_vcov=ev,
            overall=ov,
            reference_period=reference_period,
            pretrend=dict(pretrend or {}),
            model=kwargs.pop("model", estimator),
            **kwargs,
        )

    def event_table(self, include_reference: bool = True) -> pd.DataFrame:
        """The event-time table; with ``include_reference`` the normalised period as a row of zeros."""
        tab = self.event_time.copy()
        if include_reference and self.reference_period is not None and self.reference_period not in set(tab["event_time"]):
            ref = pd.DataFrame({"event_time": [self.reference_period], "estimate": [0.0], "std_error": [0.0],
                                "ci_low": [0.0], "ci_high": [0.0], "label": ["reference"]})
            tab = pd.concat([tab, ref[[c for c in ref.columns if c in tab.columns]]], ignore_index=True)
        return tab.sort_values("event_time").reset_index(drop=True)

    def summary(self) -> str:
        text = super().summary()
        extra = []
        if self.overall:
            o = self.overall
            extra.append(f"overall ({o.get('description', '')}): {o.get('estimate', np.nan):.6g} (std_error {o.get('std_error', np.nan):.6g})")
        if self.pretrend:
            p = self.pretrend
            extra.append(f"pre-trend joint test: F = {p.get('F', np.nan):.4g}, p = {p.get('F_p_value', np.nan):.4g} "
                         f"(chi2 = {p.get('stat', np.nan):.4g}, df = {p.get('df')})")
        return "\n".join([text] + extra)

    def plot(self, lang: str = "zh", ax=None, truth: Mapping[int, float] | pd.Series | None = None,
             title: str | None = None, color: str = "C0", label: str | None = None):
        """Publication event-study plot; returns the Figure. See :func:`plot_event_study`."""
        return plot_event_study(self, lang=lang, ax=ax, truth=truth, title=title, color=color, label=label)


def plot_event_study(result: EventStudyResult, lang: str = "zh", ax=None,
                     truth: Mapping[int, float] | pd.Series | None = None, title: str | None = None,
                     color: str = "C0", offset: float = 0.0, label: str | None = None):
    """Point estimates with confidence intervals by event time, the reference period at zero, a
    dashed line between pre and post periods; optional ``truth`` (event time -> true effect) drawn
    as a line. Several results can share one ``ax`` (use ``offset`` to dodge).

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from analysis.did import event_study
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    >>> d["treat"] = ((d["adoption"] > 0) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> fig = plot_event_study(event_study(d, "y", "adoption"), lang="en", truth={0: 0.5, 1: 0.5, 2: 0.5})
    >>> type(fig).__name__
    'Figure'
    >>> plt.close(fig)
    """
    if ax is None:
        fig, ax = new_figure(lang, figsize=(6.4, 3.8))
    else:
        from ..plots import use_style

        use_style(lang)
        fig = ax.figure
    tab = result.event_table(include_reference=True)
    x = tab["event_time"].to_numpy(dtype=float) + offset
    est = tab["estimate"].to_numpy()
    lo, hi = tab["ci_low"].to_numpy(), tab["ci_high"].to_numpy()
    lab = label or (_ESTIMATOR_ZH.get(result.estimator, result.estimator) if lang == "zh" else result.estimator)
    lab = lab or tr("Estimate", "估计值", lang)
    ax.errorbar(x, est, yerr=[est - lo, hi - est], fmt="o", color=color, ms=4, capsize=2.5, lw=1.2, label=lab)
    if result.reference_period is not None:
        ref = tab["event_time"] == result.reference_period
        ax.plot(x[ref.to_numpy()], est[ref.to_numpy()], "o", mfc="white", color=color, ms=5)
    ax.axhline(0, color="0.3", lw=0.8)
    ax.axvline(-0.5, color="0.5", lw=0.8, ls="--")
    if truth is not None:
        t = pd.Series(truth, dtype=float).sort_index()
        ax.plot(t.index.astype(float), t.to_numpy(), "-", color="C3", lw=1.4, label=tr("Simulated truth", "模拟真值", lang))
    ax.set_xlabel(tr("Years relative to adoption", "相对政策实施的年份", lang))
    ax.set_ylabel(tr("Estimated effect (95% CI)", "估计系数（95%置信区间）", lang))
    labels = tab.get("label")
    if labels is not None:
        ticks = tab["event_time"].to_numpy()
        ticklabels = []
        for k, l in zip(ticks, labels):
            s = str(l)
            ticklabels.append(f"≤{k}" if "<=" in s else (f"≥{k}" if ">=" in s else str(k)))
        ax.set_xticks(ticks)
        ax.set_xticklabels(ticklabels)
    if title:
        ax.set_title(title)
    ax.legend(loc="upper left")
    return fig
