"""Sun and Abraham (2021) interaction-weighted (IW) event study.

Regression, on the estimation sample, of the outcome on cohort x relative-period indicators
(every treated cohort other than the control cohort, every relative period except the reference
periods) with unit and period fixed effects; the event-time estimate at relative period l is the
cohort-share weighted average of the cohort-specific coefficients,
``nu_l = sum_e w_{e,l} delta_{e,l}``, ``w_{e,l} = N_{e,l} / sum_e' N_{e',l}`` (observation counts of
cohort e at relative period l in the sample).

Variance, ``variance=`` (stated, as the issue asks):

* ``"fixed"`` (default): shares treated as fixed, ``Var(nu_l) = w_l' V_delta w_l`` with ``V_delta``
  the CRV1 covariance (reghdfe small-sample rules) of the interaction coefficients -- the R fixest
  ``sunab()`` / diff-diff convention.
* ``"delta"``: adds the sampling variance of the shares, ``delta_l' V_w delta_l`` with ``V_w`` the
  cluster-robust covariance of the share estimates (means of the cohort indicators among the
  treated observations at each relative period) -- the Sun-Abraham (2021) / Stata
  ``eventstudyinteract`` construction, with no finite-sample factor on the share term, as
  ``eventstudyinteract`` (Stata 18) reports it on ``did::mpdta``. The regression part keeps this
  package's reghdfe rule for K; ``eventstudyinteract`` and ``fixest`` count one more parameter
  there on mpdta (K = 17 against 16), so their SEs are ours times sqrt((N-16)/(N-17)).

References
----------
Sun, L. and Abraham, S. (2021). "Estimating dynamic treatment effects in event studies with
heterogeneous treatment effects." *Journal of Econometrics* 225(2), 175-199.
Stata ``eventstudyinteract`` (Sun 2021); R ``fixest::sunab``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from .._compat import renamed_kwargs
from ..demean import FixedEffects
from ..errors import MissingValueError, SpecificationError, TreatmentTimingError, check_choice, describe_rows
from ..results import RowReport
from ._common import (
    LATE_ADOPTION_KEY,
    EventStudyResult,
    adoption_per_unit,
    check_columns,
    check_keys,
    drop_missing,
    fe_ols,
    recode_late_adopters,
    wald_test,
)
from ._treatment import treatment_input

__all__ = ["sun_abraham"]


@renamed_kwargs(covariates="controls")
@treatment_input("adoption")
def sun_abraham(
    data: pd.DataFrame,
    y: str,
    adoption: str,
    entity: str = "county",
    time: str = "year",
    controls=(),
    control: str = "never",
    ref_periods=(-1,),
    window: tuple[int, int] | None = None,
    cluster: str | None = None,
    variance: str = "fixed",
    alpha: float = 0.05,
) -> EventStudyResult:
    """Sun-Abraham interaction-weighted event study.

    Long because the interaction design, the IW weights and their influence-function variance share the cohort-
    share matrices; each is a commented block.

    Parameters
    ----------
    data : long panel.
    y : outcome column.
    adoption : first treatment period per unit (0 / missing = never treated).
        Or give ``treat=`` (a 0/1 absorbing column) instead; given both, they must agree (``docs/CONVENTIONS.md``).
    controls : time-varying controls (old keyword ``covariates=``, deprecated) added linearly to the regression.
    control : ``"never"`` -- the never-treated units are the control cohort (if there are none,
        the last-treated cohort is used, as the paper does); ``"last"`` -- the last-treated
        cohort is the control cohort, never-treated units are dropped, and periods from its
        adoption on are dropped.
    ref_periods : relative periods excluded from the interactions (at least -1).
    window : optional ``(lo, hi)``; relative periods outside are not estimated (their cohort x
        period cells get their own dummies but are not reported) -- by default every relative
        period is estimated, as ``fixest::sunab``.
    cluster : cluster column (default: the unit).
    variance : ``"fixed"`` (fixest) or ``"delta"`` (eventstudyinteract share-variance term).

    Returns
    -------
    EventStudyResult
        ``event_time`` table (event_time, estimate, std_error, ci), ``event_vcov``, ``overall`` (the
        observation-weighted average of the post-period cells, fixest ``agg = "att"``), the joint
        pre-trend test, and ``extra["cohort_effects"]`` (delta_{e,l} with weights).

    Notes
    -----
    About 140 lines of code in one function: the saturated regression, the cohort-share weights
    and the delta-method variance (Sun and Abraham 2021, Proposition 6) share the cell arrays;
    splitting it is left for a later change.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    >>> d["treat"] = ((d["adoption"] > 0) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> res = sun_abraham(d, "y", "adoption")
    >>> post = res.event_table().query("event_time >= 0")
    >>> post["event_time"].tolist(), np.round(post["estimate"], 2).tolist()
    ([0, 1, 2], [0.49, 0.5, 0.5])
    >>> round(res.overall["estimate"], 2)
    0.5
    """
    check_choice("control", control, ("never", "last"))
    check_choice("variance", variance, ("fixed", "delta"))
    controls = list(controls)
    ref_periods = sorted(set(int(r) for r in ref_periods) | {-1})
    check_columns(data, [entity, time, y, adoption, *controls] + ([cluster] if cluster else []))
    check_keys(data, entity, time)
    if cluster and data[cluster].isna().any():
        raise MissingValueError(f"cluster column {cluster!r} is missing in {describe_rows(data.index[data[cluster].isna()])}; "
                                "give every row a cluster id.")
    n_input = len(data)
    df, dropped = drop_missing(data[[c for c in dict.fromkeys([entity, time, y, adoption, *controls, cluster]) if c]],
                               [y, *controls])
    g_unit = adoption_per_unit(df, adoption, entity)
    tmin, tmax = df[time].min(), df[time].max()
    g_unit, late_note = recode_late_adopters(g_unit, float(tmax), entity)  # never treated in-sample
    df = df.assign(_G=df[entity].map(g_unit).astype(float).to_numpy())
    always = df["_G"] <= tmin
    if always.any():
        dropped["always-treated unit (adopted in or before the first period)"] = int(always.sum())
        df = df.loc[~always]
    cohorts = np.sort(df["_G"].dropna().unique())
    if len(cohorts) == 0:
        raise TreatmentTimingError(f"no treated units in {adoption!r}.")
    has_never = df["_G"].isna().any()
    if control == "last" or not has_never:
        if len(cohorts) < 2:
            raise TreatmentTimingError("a last-treated control cohort needs at least two treated cohorts.")
        last = cohorts[-1]
        if has_never:
            nv = df["_G"].isna()
            dropped["never-treated unit (control = last-treated cohort)"] = int(nv.sum())
            df = df.loc[~nv]
        late = df[time] >= last
        dropped["period at or after the control cohort's adoption"] = int(late.sum())
        df = df.loc[~late]
        df.loc[df["_G"] == last, "_G"] = np.nan
        cohorts = cohorts[:-1]
        control_desc = f"last-treated cohort ({last:g})"
    else:
        control_desc = "never-treated units"
    df = df.reset_index(drop=True)
    rel = (df[time] - df["_G"]).to_numpy()
    treated_row = ~np.isnan(rel)
    # interaction columns
    cells = (
        pd.DataFrame({"cohort": df["_G"][treated_row], "rel": rel[treated_row]})
        .value_counts()
        .rename("n_obs")
        .reset_index()
        .sort_values(["cohort", "rel"])
    )
    cells = cells[~cells["rel"].isin(ref_periods)].reset_index(drop=True)
    if cells.empty:
        raise SpecificationError("no cohort x relative-period cells to estimate.")
    X = np.zeros((len(df), len(cells)))
    idx = np.where(treated_row)[0]
    key = pd.MultiIndex.from_arrays([df["_G"].to_numpy()[idx], rel[idx]])
    col = pd.Series(range(len(cells)), index=pd.MultiIndex.from_arrays([cells["cohort"], cells["rel"]]))
    j = col.reindex(key).to_numpy()
    hit = ~np.isnan(j)
    X[idx[hit], j[hit].astype(int)] = 1.0
    names = [f"cohort={c:g}:rel={int(r)}" for c, r in zip(cells["cohort"], cells["rel"])]
    if controls:
        X = np.column_stack([X, df[controls].to_numpy(dtype=float)])
        names += controls
    fe = FixedEffects(df[[entity, time]])
    cl = df[cluster if cluster else entity].to_numpy()
    fit = fe_ols(df[y].to_numpy(dtype=float), X, names, fe, cl)
    J = len(cells)
    delta = fit.params.to_numpy()[:J]
    Vd = fit.cov.to_numpy()[:J, :J]
    # IW weights
    rels = np.sort(cells["rel"].unique())
    if window is not None:
        rels = rels[(rels >= window[0]) & (rels <= window[1])]
    Wm = np.zeros((J, len(rels)))
    for k, r in enumerate(rels):
        m = (cells["rel"] == r).to_numpy()
        Wm[m, k] = cells.loc[m, "n_obs"].to_numpy() / cells.loc[m, "n_obs"].sum()
    nu = Wm.T @ delta
    V = Wm.T @ Vd @ Wm
    if variance == "delta":
        # share estimates: w_{e,l} = mean over treated rows at rel l of 1{cohort = e}; their
        # cluster-summed influence functions, combined with delta.
        codes = pd.factorize(pd.Series(cl))[0]
        Gc = codes.max() + 1
        psi = np.zeros((Gc, len(rels)))
        tr_rows = df.loc[treated_row]
        r_tr = rel[treated_row]
        c_tr = codes[treated_row]
        coh_tr = tr_rows["_G"].to_numpy()
        for k, r in enumerate(rels):
            m = r_tr == r
            Nl = m.sum()
            sel = (cells["rel"] == r).to_numpy()
            d_l = dict(zip(cells.loc[sel, "cohort"], delta[sel]))
            w_l = dict(zip(cells.loc[sel, "cohort"], Wm[sel, k]))
            # sum_e delta_e (1{G=e} - w_e) = delta_{G_i} - nu_l
            contrib = np.array([d_l.get(c, 0.0) for c in coh_tr[m]]) - sum(d_l[c] * w_l[c] for c in d_l)
            psi[:, k] = np.bincount(c_tr[m], weights=contrib / Nl, minlength=Gc)
        # no small-sample factor: eventstudyinteract's share term on mpdta equals psi'psi exactly
        V = V + psi.T @ psi
    # overall post-period ATT: cells with rel >= 0 weighted by observation counts
    post = (cells["rel"] >= 0).to_numpy()
    wpost = np.where(post, cells["n_obs"].to_numpy(dtype=float), 0.0)
    wpost = wpost / wpost.sum()
    att = float(wpost @ delta)
    att_se = float(np.sqrt(wpost @ Vd @ wpost))
    df_resid = fit.df_resid
    tq = stats.t(df_resid).ppf(1 - alpha / 2)
    pre = rels < min(ref_periods)
    pre_test = wald_test(nu[pre], V[np.ix_(pre, pre)], df_denom=df_resid) if pre.any() else {}
    cohort_tab = cells.assign(
        estimate=delta,
        std_error=np.sqrt(np.diag(Vd)),
        weight=[Wm[j, np.searchsorted(rels, r)] if r in set(rels) else np.nan for j, r in enumerate(cells["rel"])],
    )
    rows = RowReport(n_input=n_input, n_used=len(df), dropped=dropped)
    res = EventStudyResult.from_estimates(
        "Sun-Abraham (IW)",
        event_times=rels.astype(int),
        estimates=nu,
        vcov=V,
        overall={"estimate": att, "std_error": att_se, "ci_low": att - tq * att_se, "ci_high": att + tq * att_se,
                 "description": "post-period cells weighted by observations (fixest agg='att')"},
        reference_period=-1,
        df_resid=df_resid,
        alpha=alpha,
        pretrend=pre_test,
        rows=rows,
        settings={"control": control_desc, "ref_periods": ref_periods, "variance": variance,
                  "cluster": cluster or entity, "controls": controls,
                  "se": "CRV1 (reghdfe small-sample rules), t(G-1) inference"},
        reference="Sun and Abraham (2021, J. Econometrics 225(2)); Stata eventstudyinteract; R fixest::sunab",
        stats={"N": len(df), "N_clusters": fit.n_clusters, "N_cells": J},
        outcome=y, fixed_effects=(entity, time), vcov_type="cluster", cluster=(cluster or entity,),
        n_clusters=fit.n_clusters,
        extra={"cohort_effects": cohort_tab, "cohort_vcov": pd.DataFrame(Vd, index=names[:J], columns=names[:J])},
    )
    if late_note:
        res.settings[LATE_ADOPTION_KEY] = late_note
    if fit.dropped:
        res.settings["collinear_dropped"] = "; ".join(f"{k} ({v})" for k, v in fit.dropped.items())
    return res
