"""The estimator :func:`threshold`: input handling, sequential stages, F tests, final regression."""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..._compat import renamed_kwargs
from ...errors import ConstantColumnError, SpecificationError, check_choice
from ...results import RowReport
from ..vcov import cluster_meat
from ._bootstrap import bootstrap_f
from ._grid import ci_grid as _ci_grid
from ._grid import lr_critical_value, regime_codes, threshold_grid
from ._inputs import _as_list, _n_boot_list, _prepare, _require_balanced, _trim_list
from ._result import ThresholdResult
from ._search import _Model

__all__ = ["threshold", "REFERENCE"]

REFERENCE = (
    "Hansen, B.E. (1999), Threshold effects in non-dynamic panels, J. Econometrics 93: 345-368; "
    "Stata xthreg (Wang 2015, Stata Journal 15(1): 121-134)"
)

_STAGE_NAMES = {1: "Single", 2: "Double", 3: "Triple"}


@renamed_kwargs(n_boot="n_draws")
def threshold(
    data: pd.DataFrame,
    y: str,
    q: str,
    regime: str | Sequence[str],
    controls: Sequence[str] = (),
    entity: str = "county",
    time: str = "year",
    n_thresholds: int = 1,
    trim: float | Sequence[float] | None = None,
    grid: int | Sequence[float] | None = None,
    n_draws: int | Sequence[int] = 300,
    seed: int | np.random.Generator | None = None,
    alpha: float = 0.05,
    *,
    time_effects: bool = False,
    vcov: str = "cluster",
    closed: str | None = None,
    grid_method: str | None = None,
    df: str = "hansen",
    refine: bool = True,
    bootstrap_null: str = "reestimate",
    batch_size: int | None = None,
    transform: str = "xthreg",
    ci_grid: str | None = None,
) -> ThresholdResult:
    """Fixed-effect panel threshold regression of Hansen (1999), matching Stata ``xthreg``.

    Parameters
    ----------
    data
        Long panel, one row per ``entity``-``time``. Unbalanced panels are accepted with
        ``n_boot=0`` (the bootstrap swaps whole residual vectors between units, so it needs equal
        lengths); every unit needs at least two periods.
    y
        Outcome column (take logs beforehand, e.g. ``data.assign(ly=np.log(data.rural_income))``).
    q
        Threshold variable (xthreg ``qx()``).
    regime
        Regime-dependent regressor(s) (xthreg ``rx()``), whose slopes change at the thresholds.
    controls
        Regime-independent regressors (xthreg ``indepvars``).
    n_thresholds
        1, 2 or 3 (xthreg ``thnum()``); estimated sequentially, each with its own F test.
    trim
        Trimming proportion, one number or one per threshold (xthreg ``trim()``; xthreg default
        0.01, Hansen 1999 used 0.01 to 0.05).
    grid
        Number of grid points (xthreg ``grid()``, default 300); for ``grid_method="hansen"`` the
        number of quantiles ``qn``. An array gives the candidate thresholds explicitly.
    n_draws
        Bootstrap replications per threshold (xthreg ``bs()``); 0 skips the bootstrap.
    seed
        Seed or ``np.random.Generator`` for the bootstrap.
    alpha
        1 - confidence level of the threshold CIs (xthreg ``thlevel(95)`` = 0.05).
    time_effects
        Add year dummies as regime-independent controls (``xthreg y x i.year, ...``).
    vcov
        ``"cluster"`` (default): ``xthreg ..., vce(robust)``, i.e. ``xtreg, fe vce(cluster entity)``
        with factor G/(G-1) (N-1)/(N-K-1); ``"iid"``: xthreg's default conventional SEs,
        s^2 = SSR / (nT - n - K).
    closed
        ``"right"``: regime 0 is q <= g (xthreg); ``"left"``: q < g (Hansen's GAUSS code, pdR).
    grid_method
        ``"quantile"`` or ``"hansen"``, see :func:`threshold_grid`.
    df
        Denominator of sigma2 in F and LR: ``"hansen"`` n(T-1), or ``"nT"`` (pdR).
    refine
        Hansen's refinement of the first threshold in the double-threshold model.
    bootstrap_null
        ``"reestimate"`` (Hansen/pdR): each draw redoes the earlier stages' searches;
        ``"fixed"``: earlier thresholds held at their estimates (faster). As in pdR, the bootstrap
        re-searches the earlier thresholds without Hansen's refinement.
    batch_size
        Bootstrap draws per batch; default about 450,000 / (N k_r), at least 8.
    transform
        ``"xthreg"`` (default; within over all periods, Stata xthreg) or ``"hansen"`` (Hansen's
        GAUSS code: demean, drop each unit's last period, q < gamma, Hansen grid and trimming;
        reproduces Hansen 1999, Tables 2-3). With ``"hansen"`` the defaults of ``closed``,
        ``grid_method``, ``trim`` (0.01) and ``grid`` (qn = 400) become Hansen's.
    ci_grid
        ``"full"`` (default for ``"xthreg"``): the LR set is evaluated at every observed value of q
        in the search range; ``"search"`` (default for ``"hansen"``, as Hansen's published
        intervals): only at the search grid points.

    Returns
    -------
    ThresholdResult
        ``params`` = controls, time dummies and ``{r}_regime{j}`` (j = 0..m, xthreg's ``_cat``),
        ``thresholds``, ``threshold_table``, ``f_table``, ``lr_curve``, ``regimes``.

    Notes
    -----
    Long because it validates every option (with the transform-dependent defaults) and reports the
    rows before the sequential search; the search, bootstrap and intervals are separate functions.

    References
    ----------
    Hansen (1999), J. Econometrics 93: 345-368; Wang (2015), Stata Journal 15(1): 121-134 (xthreg).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(50), 6), "year": np.tile(np.arange(2010, 2016), 50)})
    >>> d["x"] = rng.normal(size=len(d))
    >>> d["q"] = rng.uniform(size=len(d))
    >>> d["y"] = np.where(d["q"] <= 0.5, 0.5, 1.0) * d["x"] + rng.normal(scale=0.1, size=len(d))
    >>> res = threshold(d, "y", "q", "x", grid=20, n_draws=49, seed=0)
    >>> round(float(res.thresholds[0]), 1), np.round(res.params, 1).tolist()
    (0.5, [0.5, 1.0])
    """
    n_boot = n_draws  # the body's name for the number of draws (vocabulary: n_draws)
    check_choice("transform", transform, ("xthreg", "hansen"))
    hansen = transform == "hansen"
    closed = closed or ("left" if hansen else "right")
    grid_method = grid_method or ("hansen" if hansen else "quantile")
    trim = (0.01 if hansen else 0.05) if trim is None else trim
    grid = (400 if hansen else 300) if grid is None else grid
    ci_grid = ci_grid or ("search" if hansen else "full")
    check_choice("n_thresholds", n_thresholds, (1, 2, 3))
    check_choice("vcov", vcov, ("cluster", "iid"))
    check_choice("closed", closed, ("right", "left"))
    check_choice("df", df, ("hansen", "nT"))
    check_choice("bootstrap_null", bootstrap_null, ("reestimate", "fixed"))
    check_choice("ci_grid", ci_grid, ("full", "search"))
    c_alpha = lr_critical_value(alpha)
    m = int(n_thresholds)
    regime = _as_list(regime)
    controls = _as_list(controls)
    if not regime:
        raise SpecificationError("regime must name at least one regime-dependent regressor (xthreg rx()).")
    trims = _trim_list(trim, m)
    boots = _n_boot_list(n_boot, m)
    rng = np.random.default_rng(seed)

    frame, counts = _prepare(data, y, q, regime, controls, entity, time)
    times = np.sort(frame[time].unique())
    T = len(times)
    balanced = bool((counts == T).all())
    if any(b > 0 for b in boots):
        _require_balanced(counts, entity, time, times,
                          "Hansen's (1999) bootstrap F test gives every unit the whole residual vector of "
                          "another unit, which needs equal lengths.")
    ids = pd.factorize(frame[entity], sort=True)[0]
    n = int(ids.max()) + 1
    N = len(frame)
    T_row = counts.to_numpy()[ids].astype(float)
    tpos = pd.factorize(frame[time], sort=True)[0]
    Y = frame[y].to_numpy(float)
    X = frame[controls].to_numpy(float).reshape(N, -1)
    R = frame[regime].to_numpy(float).reshape(N, -1)
    qv = frame[q].to_numpy(float)
    # time-invariant variables carry no within variation (xthreg rejects them)
    for name, col in [(y, Y), *zip(regime, R.T), *zip(controls, X.T)]:
        s = pd.Series(col).groupby(ids)
        if np.allclose((s.max() - s.min()).to_numpy(), 0, rtol=0, atol=1e-12 * (1 + np.abs(col).max())):
            raise ConstantColumnError(
                f"column {name!r} does not vary over {time} within any {entity}; the fixed effects absorb "
                "it. Drop it (time-invariant variables cannot enter a within regression)."
            )
    D = np.zeros((N, 0))
    dnames: list[str] = []
    if time_effects:
        D = (tpos[:, None] == np.arange(1, T)[None, :]).astype(float)
        dnames = [f"{time}={t}" for t in times[1:]]
    if np.ndim(grid) == 0:
        grid_values = threshold_grid(qv, trims[0], int(grid), grid_method)
    else:  # explicit candidate thresholds
        grid_values = np.unique(np.asarray(grid, dtype=float))
    if len(grid_values) < 2:
        raise SpecificationError(
            f"the threshold variable {q!r} has fewer than 2 distinct values inside the trimmed range; "
            "it cannot split the sample."
        )
    # Hansen's transform drops each unit's last observed period after demeaning
    last = pd.Series(tpos).groupby(ids).transform("max").to_numpy()
    drop = (tpos == last) if hansen else None
    # rows in q-sorted order from here on: the search's cumulative sums run along this order, and
    # nothing else depends on the row order (unit codes ``ids`` and periods ``tpos`` travel along)
    perm = np.argsort(qv, kind="stable")
    Y, X, R, qv, ids, D, tpos, T_row = (a[perm] for a in (Y, X, R, qv, ids, D, tpos, T_row))
    if drop is not None:
        drop = drop[perm]
    qn = int(grid) if (np.ndim(grid) == 0 and grid_method == "hansen") else len(grid_values)
    model = _Model(Y, X, R, qv, ids, T_row, D, closed, grid_values, trims, drop=drop,
                   trim_rule="hansen" if hansen else "share", qn=qn)
    n_rows = N if drop is None else int((~drop).sum())
    # n(T-1): the residual df of the within transform, = the rows of Hansen's transform
    dfden = (n_rows if hansen else N - n) if df == "hansen" else N
    Yd = model.Yd
    cgrid = _ci_grid(qv, grid_values) if ci_grid == "full" else None

    s_lin = model.searcher((), 1, pin=True)
    e_lin = s_lin.residualise(Yd)
    S_lin = float(e_lin @ e_lin)

    stages = _search_stages(model, Yd, m, refine, trims, grid_values, dfden, c_alpha, cgrid)

    f_rows = []
    boot_F = {}
    for stage in range(1, m + 1):
        S_null = S_lin if stage == 1 else stages["ssr_null"][stage]
        S_alt = stages["ssr_alt"][stage]
        mse = S_alt / dfden
        F = (S_null - S_alt) / mse
        B = boots[stage - 1]
        if B > 0:
            pval, crit, Fb = bootstrap_f(model, Yd, stages["null_fixed"][stage], stage, F, B, rng, ids, tpos,
                                         n, T, dfden, bootstrap_null, batch_size)
            boot_F[_STAGE_NAMES[stage]] = Fb
        else:
            pval, crit = np.nan, [np.nan] * 3
        f_rows.append({"test": _STAGE_NAMES[stage], "rss": S_alt, "mse": mse, "F": F, "p_value": pval,
                       "crit10": crit[0], "crit5": crit[1], "crit1": crit[2], "n_boot": B})

    thr = np.array(sorted(stages["final"]))
    fit = _final_regression(model, Yd, thr, ids, n, n_rows, vcov, entity)
    names = list(controls) + dnames + [f"{r}_regime{j}" for j in range(m + 1) for r in regime]
    codes = regime_codes(qv, thr, closed)
    regimes_df = pd.DataFrame({
        "regime": np.arange(m + 1),
        "lower": np.concatenate([[-np.inf], thr]),
        "upper": np.concatenate([thr, [np.inf]]),
        "n_obs": np.bincount(codes, minlength=m + 1),
    })
    thr_df = pd.DataFrame(stages["rows"], columns=["stage", "estimate", "ci_low", "ci_high"])
    V = fit["V"]
    res = ThresholdResult(
        params=pd.Series(fit["beta"], index=names),
        std_errors=pd.Series(np.sqrt(np.maximum(np.diag(V), 0)), index=names),
        model=f"Panel threshold regression (Hansen 1999), {m} threshold(s), {transform} transform",
        df_resid=fit["df_resid"],
        rows=RowReport(n_input=len(data), n_used=n_rows,
                       dropped={"last period of each unit (Hansen's transform)": N - n_rows} if hansen else {}),
        settings={
            "y": y, "q": q, "regime": regime, "controls": controls,
            "fixed_effects": [entity] + ([time] if time_effects else []),
            "vcov": vcov, "vcov_description": fit["desc"],
            "cluster": entity if vcov == "cluster" else None,
            "n_thresholds": m, "trim": trims,
            "grid": grid if np.ndim(grid) == 0 else "explicit",
            "grid_method": grid_method, "grid_points": int(len(grid_values)),
            "n_boot": boots, "seed": seed if not isinstance(seed, np.random.Generator) else "Generator",
            "alpha": alpha, "closed": "q <= gamma" if closed == "right" else "q < gamma",
            "df": "n(T-1)" if df == "hansen" else "nT", "refine": refine, "bootstrap_null": bootstrap_null,
            "transform": transform, "ci_grid": ci_grid, "balanced": balanced,
        },
        reference=REFERENCE,
        stats={"N": n_rows, "n_entities": n, "T": T, "r2_within": fit["r2"], "ssr": fit["ssr"],
               "ssr_linear": S_lin},
        cov=pd.DataFrame(V, index=names, columns=names),
        alpha=alpha,
        thresholds=thr,
        threshold_table=thr_df,
        f_table=pd.DataFrame(f_rows),
        lr_curve=pd.concat(stages["lr"], ignore_index=True),
        regimes=regimes_df,
        boot_F=boot_F,
        critical_value=c_alpha,
    )
    res.extra.update({"threshold_table": thr_df, "f_table": res.f_table, "lr_curve": res.lr_curve,
                      "search_grid": grid_values})
    return res


def _search_stages(model, Yd, m, refine, trims, grid_values, dfden, c_alpha, cgrid):
    """Sequential searches with Hansen's refinement; LR curves and confidence sets per stage."""
    lr_rows = []

    def search(fixed, stage):
        S = model.searcher(tuple(fixed), stage, pin=True).ssr(model.searcher(tuple(fixed), stage).residualise(Yd))
        if not np.isfinite(S).any():
            raise SpecificationError(
                f"no admissible grid point for threshold {stage}: every candidate leaves a regime with "
                f"fewer than trim={trims[stage - 1]} of the observations. Lower trim or n_thresholds."
            )
        b = int(np.argmin(S))
        return S, b

    def lr_set(label, fixed, stage, S, Smin):
        if cgrid is not None:  # every observed value of q: the exact LR step function
            srch = model.searcher(tuple(fixed), stage, pin=True, grid=cgrid)
            S, gv = srch.ssr(srch.residualise(Yd)), cgrid
        else:
            gv = grid_values
        ok = np.isfinite(S)
        lr = (S - Smin) / (Smin / dfden)
        lr_rows.append(pd.DataFrame({"stage": label, "gamma": gv[ok], "ssr": S[ok], "lr": lr[ok]}))
        g_in = gv[ok & (lr < c_alpha)]
        return (float(g_in.min()), float(g_in.max())) if g_in.size else (np.nan, np.nan)

    rows = []
    S1, b1 = search((), 1)
    g1 = float(grid_values[b1])
    rows.append(("Th-1", g1, *lr_set("Th-1", (), 1, S1, S1[b1])))
    ssr_alt = {1: float(S1[b1])}
    ssr_null: dict = {}
    null_fixed = {1: ()}
    final = [g1]
    if m >= 2:
        S2, b2 = search((g1,), 2)
        g2 = float(grid_values[b2])
        S2min = float(S2[b2])
        if refine:
            S1r, b1r = search((g2,), 2)
            g1r = float(grid_values[b1r])
            rows.append(("Th-21", g1r, *lr_set("Th-21", (g2,), 2, S1r, S1r[b1r])))
            rows.append(("Th-22", g2, *lr_set("Th-22", (g1,), 2, S2, S2min)))
        else:
            g1r = g1
            rows.append(("Th-2", g2, *lr_set("Th-2", (g1,), 2, S2, S2min)))
        ssr_alt[2] = S2min
        ssr_null[2] = ssr_alt[1]
        null_fixed[2] = (g1,)
        final = sorted([g1r, g2])
        if m >= 3:
            S3, b3 = search(tuple(final), 3)
            g3 = float(grid_values[b3])
            # F3 compares the two-threshold model at the reported pair with the three-threshold one
            e2 = model.searcher(tuple(final), 3, pin=True).residualise(Yd)
            ssr_null[3] = float(e2 @ e2)
            ssr_alt[3] = float(S3[b3])
            null_fixed[3] = tuple(final)
            rows.append(("Th-3", g3, *lr_set("Th-3", tuple(final), 3, S3, S3[b3])))
            final = sorted([*final, g3])
    return {"rows": rows, "lr": lr_rows, "ssr_alt": ssr_alt, "ssr_null": ssr_null, "null_fixed": null_fixed,
            "final": final}


def _final_regression(model, Yd, thr, ids, n, n_rows, vcov, entity):
    """The within regression at the reported thresholds (``xtreg y x i._cat#c.(rx), fe``)."""
    Wf = model.basis(tuple(thr))  # regime blocks regime-major: for j: for r
    XtX_inv = np.linalg.pinv(Wf.T @ Wf)
    beta = XtX_inv @ (Wf.T @ Yd)
    resid = Yd - Wf @ beta
    ssr = float(resid @ resid)
    K = Wf.shape[1]
    hansen = model.drop is not None
    if vcov == "iid":
        # after dropping one row per unit the n means are no longer estimated from the kept rows
        df_resid = n_rows - K if hansen else n_rows - n - K
        V = ssr / df_resid * XtX_inv
        desc = ("conventional: s^2 = SSR/(n(T-1)-K) on Hansen's transformed rows (pdR sehomo)" if hansen
                else "conventional (xtreg, fe; xthreg default): s^2 = SSR/(nT-n-K)")
    else:
        meat = cluster_meat(Wf * resid[:, None], ids)
        c = n / (n - 1) * (n_rows - 1) / (n_rows - K - 1)
        V = c * XtX_inv @ meat @ XtX_inv
        df_resid = n - 1
        desc = (f"cluster-robust by {entity} (xthreg vce(robust) = xtreg, fe vce(cluster {entity})): "
                "factor G/(G-1)*(N-1)/(N-K-1), t with G-1 df")
    tss_w = float(Yd @ Yd)
    return {"beta": beta, "V": V, "df_resid": df_resid, "desc": desc, "ssr": ssr,
            "r2": 1 - ssr / tss_w if tss_w > 0 else np.nan}
