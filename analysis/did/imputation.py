"""Borusyak, Jaravel and Spiess (2024) imputation estimator for staggered adoption.

Steps (BJS 2024, Theorem 1-3; Stata ``did_imputation``, R ``didimputation``):

1. Untreated observations Omega_0 = never-treated units and the not-yet-treated periods
   ``t < G_i - anticipation`` of eventually treated units; treated observations Omega_1 = the rest.
2. Fit ``Y_it = alpha_i + beta_t (+ X_it' gamma)`` by OLS on Omega_0 only.
3. Impute ``tau_it = Y_it - alpha_i - beta_t (- X_it' gamma)`` on Omega_1. Treated observations of
   units (periods) without any untreated observation cannot be imputed: they are dropped from the
   targets and reported.
4. Average: overall ATT (equal weights on Omega_1, Stata's default) and horizon effects
   ``h = t - G_i`` (equal weights within the horizon).

Conservative variance (BJS Theorem 3) with the implied weights ``v_it`` (``v = w`` on Omega_1,
``v = -Z_0 (Z_0'Z_0)^- Z_1'w`` on Omega_0): ``sigma^2 = sum_c (sum_{it in c} v_it e_it)^2`` over
clusters c (default: units), with ``e`` the Omega_0 residual on untreated observations and
``tau_it - tau~_g`` on treated ones, ``g`` = cohort x horizon, ``tau~_g`` the v^2-weighted mean
(BJS eq. 8); with ``leave_out=True`` (default; Stata ``leaveout``, BJS Appendix A.9) unit i's own
observation is left out of ``tau~_g``. No degrees-of-freedom factor; normal inference.

Pre-trend test (BJS Test 1; Stata ``pretrends(K)``): on Omega_0 only, regress Y on unit and period
FEs and the leads ``1{t - G_i = -k}``, k = 1..K, with unit-clustered CRV1 errors; report the
coefficients and the joint Wald test (chi2(K) as Stata; F(K, G-1) as well). These lead
coefficients are shown at negative event times in the event-time table (their covariance with
the post-period estimates is set to zero: they come from a separate regression).

References
----------
Borusyak, K., Jaravel, X. and Spiess, J. (2024). "Revisiting event-study designs: robust and
efficient estimation." *Review of Economic Studies* 91(6), 3253-3285.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from scipy import stats

from .._compat import renamed_kwargs
from ..demean import FixedEffects
from ..errors import MissingValueError, SpecificationError, TreatmentTimingError, describe_rows
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

__all__ = ["imputation", "imputation_did"]


def _fe_solve(unit: np.ndarray, B: np.ndarray, rhs_u: np.ndarray, rhs_b: np.ndarray):
    """Solve the normal equations of ``[unit dummies | B]`` by eliminating the unit block.

    ``unit`` codes 0..n-1 of the rows, ``B`` (rows x p) the other regressors (period dummies,
    covariates), ``rhs_u`` (n x r) and ``rhs_b`` (p x r) the right-hand sides Z'Y. A minimum-norm
    solution is returned for the rank-deficient (dummy) part; fitted values Z theta are unique.
    """
    nu = int(unit.max()) + 1
    cnt = np.bincount(unit, minlength=nu).astype(float)
    S_u = np.zeros((nu, B.shape[1]))
    np.add.at(S_u, unit, B)  # A'B
    inv = np.where(cnt > 0, 1.0 / np.where(cnt > 0, cnt, 1), 0.0)
    schur = B.T @ B - (S_u * inv[:, None]).T @ S_u
    rhs = rhs_b - (S_u * inv[:, None]).T @ rhs_u
    theta_b = np.linalg.lstsq(schur, rhs, rcond=1e-12)[0]
    theta_u = inv[:, None] * (rhs_u - S_u @ theta_b)
    return theta_u, theta_b


@renamed_kwargs(covariates="controls")
@treatment_input("adoption")
def imputation(
    data: pd.DataFrame,
    y: str,
    adoption: str,
    entity: str = "county",
    time: str = "year",
    controls=(),
    horizons=None,
    pretrends: int = 0,
    anticipation: int = 0,
    cluster: str | None = None,
    leave_out: bool = True,
    alpha: float = 0.05,
) -> EventStudyResult:
    """BJS imputation estimator: event-time and overall ATTs, conservative SEs, pre-trend test.

    Long because its steps (imputability, design, target and implied weights, leave-out variance, pre-trends)
    share the same projection matrices; each is a commented block in the paper's order.

    Parameters
    ----------
    data : long panel (unbalanced panels are fine).
    y, adoption, entity, time : columns; ``adoption`` is the first treated period (0/missing =
        never treated).
        Or give ``treat=`` (a 0/1 absorbing column) instead;
        given both, they must agree (``docs/CONVENTIONS.md``).
    controls : time-varying controls (old keyword ``covariates=``, deprecated) (estimated on Omega_0 with the FEs).
    horizons : iterable of non-negative horizons to report (default: every horizon observed).
    pretrends : int
        Number of leads K in the pre-trend test (0 = no test).
    anticipation : periods of anticipation (untreated sample is ``t < G - anticipation``); the
        ``anticipation`` periods before adoption are then treated observations and enter the
        overall ATT (as Stata ``did_imputation, shift()``), while ``horizons`` defaults to h >= 0.
    cluster : cluster column for the variance (default: the unit).
    leave_out : leave-out refinement of the treated residuals (Stata ``leaveout``).

    Returns
    -------
    EventStudyResult
        ``event_time`` (pre-trend leads at negative times, horizons at 0, 1, ...), ``event_vcov``,
        ``overall`` (the ATT over all imputed treated observations), ``pretrend`` (joint test),
        ``extra["tau_it"]`` (imputed effects per treated observation).

    Notes
    -----
    About 160 lines of code in one function: the steps of Borusyak, Jaravel and Spiess (2024) (fit
    on untreated observations, impute, aggregate, Theorem 3 variance) share the same design arrays
    and read top to bottom as the paper's algorithm; splitting them into step functions is left for a
    later change.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    >>> d["treat"] = ((d["adoption"] > 0) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> res = imputation(d, "y", "adoption")
    >>> res.event_table()["event_time"].tolist(), np.round(res.event_table()["estimate"], 2).tolist()
    ([0, 1, 2], [0.5, 0.5, 0.5])
    >>> round(res.overall["estimate"], 2)
    0.5
    """
    controls = list(controls)
    check_columns(data, [entity, time, y, adoption, *controls] + ([cluster] if cluster else []))
    check_keys(data, entity, time)
    if cluster and data[cluster].isna().any():
        raise MissingValueError(f"cluster column {cluster!r} is missing in {describe_rows(data.index[data[cluster].isna()])}; "
                                "give every row a cluster id.")
    n_input = len(data)
    cols = list(dict.fromkeys([c for c in [entity, time, y, adoption, *controls, cluster] if c]))
    df, dropped = drop_missing(data[cols], [y, *controls])
    g_unit = adoption_per_unit(df, adoption, entity)
    g_unit, late_note = recode_late_adopters(g_unit, float(df[time].max()), entity)  # never treated in-sample
    df = df.assign(_G=df[entity].map(g_unit).astype(float).to_numpy()).reset_index(drop=True)
    if df["_G"].notna().sum() == 0:
        raise TreatmentTimingError(f"no treated units in {adoption!r}.")
    K = (df[time] - df["_G"]).to_numpy()
    treated = ~np.isnan(K) & (K >= -anticipation)
    untreated = ~treated
    uid, ucode = np.unique(df[entity].to_numpy(), return_inverse=True)
    tid, tcode = np.unique(df[time].to_numpy(), return_inverse=True)
    # imputability: unit and period need an untreated observation
    u_has0 = np.bincount(ucode[untreated], minlength=len(uid)) > 0
    t_has0 = np.bincount(tcode[untreated], minlength=len(tid)) > 0
    bad = treated & ~(u_has0[ucode] & t_has0[tcode])
    if bad.any():
        warnings.warn(f"{int(bad.sum())} treated observations cannot be imputed (no untreated observation of the "
                      "unit or period) and are dropped.", stacklevel=2)
        dropped["treated observation not imputable (no untreated obs. of its unit or period)"] = int(bad.sum())
        keep = ~bad
        df = df.loc[keep].reset_index(drop=True)
        K, treated, untreated = K[keep], treated[keep], untreated[keep]
        uid, ucode = np.unique(df[entity].to_numpy(), return_inverse=True)
        tid, tcode = np.unique(df[time].to_numpy(), return_inverse=True)
    Yv = df[y].to_numpy(dtype=float)
    nT = len(tid)
    # design rows: period dummies + controls (unit block eliminated)
    Bfull = np.zeros((len(df), nT + len(controls)))
    Bfull[np.arange(len(df)), tcode] = 1.0
    if controls:
        Bfull[:, nT:] = df[controls].to_numpy(dtype=float)
    i0 = np.where(untreated)[0]
    i1 = np.where(treated)[0]
    nu = len(uid)
    u0, B0 = ucode[i0], Bfull[i0]
    rhs_u = np.bincount(u0, weights=Yv[i0], minlength=nu)[:, None]
    rhs_b = (B0.T @ Yv[i0])[:, None]
    th_u, th_b = _fe_solve(u0, B0, rhs_u, rhs_b)
    fitted = th_u[ucode, 0] + Bfull @ th_b[:, 0]
    resid0 = Yv[i0] - fitted[i0]
    tau = Yv[i1] - fitted[i1]
    K1 = K[i1].astype(int)
    coh1 = df["_G"].to_numpy()[i1]
    # target weights: overall + horizons
    avail = np.unique(K1)
    if horizons is None:
        hs = avail[avail >= 0] if (avail >= 0).any() else avail
    else:
        hs = np.array(sorted(int(h) for h in horizons))
        missing = set(hs) - set(avail)
        if missing:
            raise SpecificationError(f"horizons {sorted(int(h) for h in missing)} have no imputed treated observations; "
                                     f"available: {avail.tolist()}.")
    W1 = np.zeros((len(i1), 1 + len(hs)))
    W1[:, 0] = 1.0 / len(i1)
    for k, h in enumerate(hs):
        m = K1 == h
        W1[m, k + 1] = 1.0 / m.sum()
    est = W1.T @ tau
    # implied weights on Omega_0: v0 = -Z0 (Z0'Z0)^- Z1' w
    r_u = np.zeros((nu, W1.shape[1]))
    np.add.at(r_u, ucode[i1], W1)
    r_b = Bfull[i1].T @ W1
    t_u, t_b = _fe_solve(u0, B0, r_u, r_b)
    V0 = -(t_u[u0] + B0 @ t_b)  # (n0 x r)
    # residuals on Omega_1 by cohort x horizon, per estimand
    grp = pd.factorize(pd.Series(list(zip(coh1, K1))))[0]
    ng = grp.max() + 1
    E1 = np.zeros_like(W1)
    n_single = 0
    for j in range(W1.shape[1]):
        v = W1[:, j]
        saa = np.bincount(grp, weights=v**2, minlength=ng)
        sab = np.bincount(grp, weights=v**2 * tau, minlength=ng)
        with np.errstate(invalid="ignore", divide="ignore"):
            tt = np.where(saa > 0, sab / np.where(saa > 0, saa, 1), 0.0)
        e = tau - tt[grp]
        if leave_out:
            with np.errstate(invalid="ignore", divide="ignore"):
                share = np.where(saa[grp] > 0, v**2 / np.where(saa[grp] > 0, saa[grp], 1), 0.0)
            single = (share >= 1 - 1e-12) & (v != 0)
            n_single += int(single.sum())
            e = np.where(single | (v == 0), e, e / (1 - share))
        E1[:, j] = e
    if leave_out and n_single:
        warnings.warn(f"leave-out variance: {n_single} treated observations are alone in their cohort x horizon "
                      "group; their residual is not leave-out adjusted.", stacklevel=2)
    clv = df[cluster if cluster else entity].to_numpy()
    ccode = pd.factorize(pd.Series(clv))[0]
    Gc = ccode.max() + 1
    S = np.zeros((Gc, W1.shape[1]))
    np.add.at(S, ccode[i0], V0 * resid0[:, None])
    np.add.at(S, ccode[i1], W1 * E1)
    Vpost = S.T @ S
    se = np.sqrt(np.diag(Vpost))
    z = stats.norm.ppf(1 - alpha / 2)
    # pre-trend test on Omega_0
    pre_tab = None
    pre_test: dict = {}
    if pretrends:
        Kp = int(pretrends)
        d0 = df.iloc[i0]
        K0 = K[i0]
        leads = np.column_stack([(K0 == -k).astype(float) for k in range(1, Kp + 1)])
        names = [f"lead{k}" for k in range(1, Kp + 1)]
        if controls:
            leads = np.column_stack([leads, d0[controls].to_numpy(dtype=float)])
            names += controls
        fe0 = FixedEffects(d0[[entity, time]])
        fit = fe_ols(Yv[i0], leads, names, fe0, d0[cluster if cluster else entity].to_numpy())
        gam = fit.params.to_numpy()[:Kp]
        Vg = fit.cov.to_numpy()[:Kp, :Kp]
        pre_test = wald_test(gam, Vg, df_denom=fit.df_resid)
        pre_tab = pd.DataFrame({"event_time": -np.arange(1, Kp + 1), "estimate": gam, "std_error": np.sqrt(np.diag(Vg))})
    # assemble (leads at negative event times, horizons at >= 0)
    rel = list(hs.astype(int))
    ests = list(est[1:])
    Vfull = Vpost[1:, 1:]
    if pre_tab is not None:
        order = np.argsort(pre_tab["event_time"].to_numpy())
        rel = list(pre_tab["event_time"].to_numpy()[order]) + rel
        ests = list(pre_tab["estimate"].to_numpy()[order]) + ests
        Vg_o = Vg[np.ix_(order, order)]
        Vfull = np.block([[Vg_o, np.zeros((len(order), len(hs)))], [np.zeros((len(hs), len(order))), Vfull]])
    rows = RowReport(n_input=n_input, n_used=len(df), dropped=dropped)
    res = EventStudyResult.from_estimates(
        "Imputation (BJS)",
        event_times=rel,
        estimates=ests,
        vcov=Vfull,
        overall={"estimate": float(est[0]), "std_error": float(se[0]), "ci_low": float(est[0] - z * se[0]),
                 "ci_high": float(est[0] + z * se[0]), "description": "ATT over all imputed treated observations"},
        reference_period=None,
        alpha=alpha,
        pretrend=pre_test,
        rows=rows,
        settings={"anticipation": anticipation, "leave_out": leave_out, "cluster": cluster or entity,
                  "controls": controls, "pretrends": pretrends,
                  "se": "BJS conservative variance (Theorem 3), cohort x horizon residual groups"
                        + (", leave-out" if leave_out else "") + "; normal inference"},
        reference="Borusyak, Jaravel and Spiess (2024, REStud 91(6)); Stata did_imputation; R didimputation",
        stats={"N": len(df), "N_untreated": len(i0), "N_treated": len(i1), "N_clusters": int(Gc)},
        outcome=y, fixed_effects=(entity, time), vcov_type="cluster", cluster=(cluster or entity,),
        n_clusters=int(Gc),
        extra={
            "tau_it": pd.DataFrame({entity: df[entity].to_numpy()[i1], time: df[time].to_numpy()[i1],
                                    "cohort": coh1, "horizon": K1, "tau": tau}),
            "horizon_counts": pd.Series({int(h): int((K1 == h).sum()) for h in hs}),
        },
    )
    if late_note:
        res.settings[LATE_ADOPTION_KEY] = late_note
    return res


#: Alias under the name ``analysis.did.__init__`` exports.
imputation_did = imputation
