"""PSM-DID (倾向得分匹配-双重差分) as Chinese applied papers run it: Stata ``psmatch2`` then ``reghdfe``.

1. A logit of the treated-group dummy on pre-treatment covariates (statsmodels ``Logit``), either
   pooled over units (covariates averaged over the years before the first adoption) or year by
   year (逐年匹配, one logit per year on that year's covariates).
2. Matching on the propensity score, as ``psmatch2`` (Leuven and Sianesi 2003, SSC S432001):
   nearest neighbour 1:k **with replacement** (psmatch2's default), or 1:1 **without
   replacement** (``psmatch2, noreplacement``; treated units matched greedily in a random order,
   as psmatch2 matches in the current sort order, which users randomise with ``set seed`` and
   ``sort``); optional ``caliper``; radius matching (every control within the caliper, equal
   weights); kernel matching (Epanechnikov, bandwidth 0.06 by default, as psmatch2). Ties in the
   distance are broken in a random order drawn from ``seed``. ``common=True`` imposes psmatch2's
   ``common`` (drop treated units whose score lies outside the controls' range).
3. Balance (``pstest``): means before and after matching, standardized bias
   100 (mean_T - mean_C) / sqrt((var_T + var_C)/2) with the *unmatched* variances in both rows (as
   pstest), the % reduction in |bias|, and t-tests (after matching: a regression of the covariate
   on the treatment dummy with psmatch2's ``_weight`` as weights).
4. DiD on the matched sample: ``reghdfe y did controls [pw=_weight], absorb(county year)
   vce(cluster county)`` for kernel and radius matching (their matching weights are the point of
   those methods: with common support a kernel keeps nearly every control, so without the weights
   the "matched" regression is plain TWFE on almost the whole panel), and ``reghdfe y did controls
   if _weight != .`` for nearest-neighbour matching (as most applied papers run it). ``did_weights``
   overrides either default.

Reference: Leuven, E. and Sianesi, B. (2003) PSMATCH2; Rosenbaum and Rubin (1985) for the
standardized bias; Heckman, Ichimura and Todd (1997) for matching-DiD.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..demean import FixedEffects
from ..errors import ConstantColumnError, SpecificationError, TreatmentTimingError, check_choice
from ..plots import new_figure, tr
from ..results import EstimationResult, RowReport
from ._common import check_columns, check_keys, drop_missing, fe_ols, resolve_adoption
from ._treatment import treatment_input

__all__ = ["psm_did", "PSMDiDResult", "match_on_score", "balance_table", "METHODS"]

METHODS = ("nearest", "radius", "kernel")


# ---------------------------------------------------------------------------------------------
# matching engine
# ---------------------------------------------------------------------------------------------
def match_on_score(
    p_treated: np.ndarray,
    p_control: np.ndarray,
    method: str = "nearest",
    k: int = 1,
    caliper: float | None = None,
    replacement: bool = True,
    bandwidth: float = 0.06,
    seed: int | np.random.Generator | None = None,
) -> pd.DataFrame:
    """Match treated to control units on a scalar score, psmatch2 style.

    Returns one row per (treated, control) pair: ``treated`` and ``control`` (positions in the
    input arrays), ``distance`` = |p_t - p_c| and ``weight`` (the control's weight for that treated
    unit; weights of one treated unit sum to 1). Treated units without a match (outside the
    caliper) do not appear.

    Examples
    --------
    >>> import numpy as np
    >>> m = match_on_score(np.array([0.2, 0.6]), np.array([0.1, 0.25, 0.55, 0.9]), k=2)
    >>> m["control"].tolist(), m["weight"].tolist()  # two nearest controls each, weight 1/2
    ([1, 0, 2, 3], [0.5, 0.5, 0.5, 0.5])
    """
    check_choice("method", method, METHODS)
    pt = np.asarray(p_treated, dtype=float)
    pc = np.asarray(p_control, dtype=float)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if k < 1:
        raise SpecificationError(f"k={k} must be >= 1.")
    if method == "radius" and caliper is None:
        raise SpecificationError("radius matching needs caliper= (the radius).")
    if not replacement and (method != "nearest" or k != 1):
        raise SpecificationError("matching without replacement is only defined for 1:1 nearest neighbour (as psmatch2).")
    nt, nc = len(pt), len(pc)
    cols = {"treated": [], "control": [], "distance": [], "weight": []}
    if nt == 0 or nc == 0:
        return pd.DataFrame(cols)
    corder = rng.permutation(nc)  # random tie-breaking order among controls
    dist = np.abs(pt[:, None] - pc[None, corder])  # nt x nc, columns in random order
    if method == "nearest" and replacement:
        kk = min(k, nc)
        idx = np.argsort(dist, axis=1, kind="stable")[:, :kk]
        d = np.take_along_axis(dist, idx, axis=1)
        ok = np.ones_like(d, dtype=bool) if caliper is None else d <= caliper
        n_ok = ok.sum(1)
        for i in range(nt):
            if n_ok[i] == 0:
                continue
            sel = idx[i][ok[i]]
            cols["treated"] += [i] * len(sel)
            cols["control"] += list(corder[sel])
            cols["distance"] += list(dist[i, sel])
            cols["weight"] += [1.0 / len(sel)] * len(sel)
    elif method == "nearest":
        available = np.ones(nc, dtype=bool)
        for i in rng.permutation(nt):
            drow = np.where(available, dist[i], np.inf)
            j = int(np.argmin(drow))  # first minimum = random tie-break via corder
            if not np.isfinite(drow[j]) or (caliper is not None and drow[j] > caliper):
                continue
            available[j] = False
            cols["treated"].append(int(i))
            cols["control"].append(int(corder[j]))
            cols["distance"].append(float(drow[j]))
            cols["weight"].append(1.0)
    elif method == "radius":
        for i in range(nt):
            sel = np.flatnonzero(dist[i] <= caliper)
            if len(sel) == 0:
                continue
            cols["treated"] += [i] * len(sel)
            cols["control"] += list(corder[sel])
            cols["distance"] += list(dist[i, sel])
            cols["weight"] += [1.0 / len(sel)] * len(sel)
    else:  # kernel, Epanechnikov
        u = dist / bandwidth
        kern = np.where(u < 1, 0.75 * (1 - u ** 2), 0.0)
        if caliper is not None:
            kern = np.where(dist <= caliper, kern, 0.0)
        for i in range(nt):
            sel = np.flatnonzero(kern[i] > 0)
            if len(sel) == 0:
                continue
            w = kern[i, sel] / kern[i, sel].sum()
            cols["treated"] += [i] * len(sel)
            cols["control"] += list(corder[sel])
            cols["distance"] += list(dist[i, sel])
            cols["weight"] += list(w)
    out = pd.DataFrame(cols)
    out["treated"] = out["treated"].astype(int)
    out["control"] = out["control"].astype(int)
    return out.sort_values(["treated", "distance", "control"], kind="stable").reset_index(drop=True)


def balance_table(X: pd.DataFrame, group: np.ndarray, weight: np.ndarray | None = None) -> pd.DataFrame:
    """pstest-style balance table of covariates ``X`` between ``group`` 1 and 0.

    Columns: covariate, mean_treated_U, mean_control_U, bias_U (standardized bias, %), t_U, p_U,
    mean_treated_M, mean_control_M, bias_M, bias_reduction (%), t_M, p_M. U = unmatched, M =
    matched with ``weight`` (psmatch2 ``_weight``; rows with weight 0 or NaN are not matched).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> X = pd.DataFrame({"x": [1.0, 2.0, 3.0, 1.0, 2.0, 6.0]})
    >>> group = np.array([1, 1, 1, 0, 0, 0])
    >>> tab = balance_table(X, group, weight=np.array([1, 1, 1, 1, 1, 0.0]))  # the outlier control unmatched
    >>> tab[["mean_treated_U", "mean_control_U", "mean_control_M"]].round(2).values.tolist()
    [[2.0, 3.0, 1.5]]
    """
    g = np.asarray(group).astype(bool)
    rows = []
    wm = None if weight is None else np.nan_to_num(np.asarray(weight, dtype=float))
    for col in X.columns:
        x = X[col].to_numpy(dtype=float)
        mt, mc = x[g].mean(), x[~g].mean()
        vt, vc = x[g].var(ddof=1), x[~g].var(ddof=1)
        sd = np.sqrt((vt + vc) / 2)
        bias_u = 100 * (mt - mc) / sd if sd > 0 else np.nan
        t_u, p_u = stats.ttest_ind(x[g], x[~g], equal_var=True)
        row = {"covariate": col, "mean_treated_U": mt, "mean_control_U": mc, "bias_U": bias_u, "t_U": t_u, "p_U": p_u}
        if wm is not None:
            sel = wm > 0
            xs, gs, ws = x[sel], g[sel], wm[sel]
            mtm, mcm = np.average(xs[gs], weights=ws[gs]), np.average(xs[~gs], weights=ws[~gs])
            bias_m = 100 * (mtm - mcm) / sd if sd > 0 else np.nan
            # weighted regression of x on the group dummy with importance weights (Stata iw)
            Z = np.column_stack([np.ones(len(xs)), gs.astype(float)])
            ZtW = Z.T * ws
            beta = np.linalg.solve(ZtW @ Z, ZtW @ xs)
            resid = xs - Z @ beta
            dof = ws.sum() - 2
            s2 = (ws * resid ** 2).sum() / dof if dof > 0 else np.nan
            se = np.sqrt(s2 * np.linalg.inv(ZtW @ Z)[1, 1])
            t_m = beta[1] / se if se > 0 else np.nan
            row.update({"mean_treated_M": mtm, "mean_control_M": mcm, "bias_M": bias_m,
                        "bias_reduction": 100 * (1 - abs(bias_m) / abs(bias_u)) if np.isfinite(bias_u) and bias_u != 0 else np.nan,
                        "t_M": t_m, "p_M": 2 * stats.t.sf(abs(t_m), dof) if np.isfinite(t_m) else np.nan})
        rows.append(row)
    return pd.DataFrame(rows)


# ---------------------------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------------------------
@dataclass(repr=False)
class PSMDiDResult(EstimationResult):
    """DiD coefficient on the matched sample, plus the matching that produced it.

    Attributes
    ----------
    scores
        One row per matching unit (county, or county-year with ``by_year``): group, pscore,
        on_support, matched, weight (psmatch2 ``_weight``: 1 for matched treated, the summed
        match weights for controls, NaN if unmatched).
    matches
        Pairs (treated id, control id[, year], distance, weight).
    balance
        pstest-style balance table (:func:`balance_table`).
    logit
        Coefficients of the propensity logit (per year with ``by_year``).
    """

    scores: pd.DataFrame = field(default_factory=pd.DataFrame)
    matches: pd.DataFrame = field(default_factory=pd.DataFrame)
    balance: pd.DataFrame = field(default_factory=pd.DataFrame)
    logit: pd.DataFrame = field(default_factory=pd.DataFrame)

    def plot_density(self, lang: str = "zh"):
        """Propensity-score densities of treated and control units before and after matching."""
        fig, axes = new_figure(lang, ncols=2, figsize=(9.0, 3.6), sharey=True)
        s = self.scores
        grid = np.linspace(0, max(1e-3, s["pscore"].max()) * 1.05, 300)
        for ax, matched in zip(axes, [False, True]):
            for gval, color, name in [(1, "C3", tr("Treated", "处理组", lang)), (0, "C0", tr("Control", "控制组", lang))]:
                sel = s["group"] == gval
                w = None
                if matched:
                    sel &= s["weight"].fillna(0) > 0
                    w = s.loc[sel, "weight"].to_numpy()
                x = s.loc[sel, "pscore"].to_numpy()
                if len(x) > 1 and np.std(x) > 0:
                    ax.plot(grid, stats.gaussian_kde(x, weights=w)(grid), color=color, lw=1.5, label=name)
            ax.set_title(tr("After matching", "匹配后", lang) if matched else tr("Before matching", "匹配前", lang))
            ax.set_xlabel(tr("Propensity score", "倾向得分", lang))
        axes[0].set_ylabel(tr("Density", "密度", lang))
        axes[0].legend()
        return fig

    def plot_balance(self, lang: str = "zh"):
        """Standardized bias (%) of each covariate before and after matching."""
        b = self.balance
        fig, ax = new_figure(lang, figsize=(6.0, 0.45 * len(b) + 1.6))
        yy = np.arange(len(b))
        ax.scatter(b["bias_U"], yy, marker="o", color="C3", label=tr("Unmatched", "匹配前", lang))
        if "bias_M" in b:
            ax.scatter(b["bias_M"], yy, marker="x", color="C0", label=tr("Matched", "匹配后", lang))
        ax.axvline(0, color="0.4", lw=0.8)
        ax.set_yticks(yy)
        ax.set_yticklabels(b["covariate"])
        ax.set_xlabel(tr("Standardized bias (%)", "标准化偏差（%）", lang))
        ax.legend()
        return fig

    def plot(self, lang: str = "zh"):
        return self.plot_density(lang)


# ---------------------------------------------------------------------------------------------
# main entry
# ---------------------------------------------------------------------------------------------
def _logit(group: np.ndarray, X: pd.DataFrame):
    import statsmodels.api as sm

    const = [c for c in X.columns if X[c].nunique() <= 1]
    if const:
        raise ConstantColumnError(f"covariate(s) {const} are constant in the matching sample; drop them from covariates.")
    exog = sm.add_constant(X.to_numpy(dtype=float), has_constant="add")
    model = sm.Logit(group.astype(float), exog)
    try:
        fit = model.fit(disp=0, maxiter=200)
    except Exception as exc:  # perfect separation etc.
        raise SpecificationError(f"the propensity logit failed ({exc}); drop covariates that separate the groups.") from exc
    names = ["const", *X.columns]
    return fit.predict(exog), pd.Series(fit.params, index=names)


@treatment_input("treat")
def psm_did(
    data: pd.DataFrame,
    y: str,
    treat: str,
    covariates: Sequence[str],
    method: str = "nearest",
    k: int = 1,
    caliper: float | None = None,
    replacement: bool = True,
    by_year: bool = False,
    common: bool = True,
    bandwidth: float = 0.06,
    adoption: str | None = None,
    entity: str = "county",
    time: str = "year",
    controls: Sequence[str] = (),
    did_weights: bool | None = None,
    cluster: str | None = None,
    seed: int | np.random.Generator | None = None,
) -> PSMDiDResult:
    """Propensity-score matching then TWFE DiD on the matched sample (psmatch2 + reghdfe).

    Long because matching, balance and the DiD regression share one sample and its row report; matching and
    balance themselves are in match_on_score and balance_table.

    Parameters
    ----------
    data
        Long panel.
    y
        Outcome.
    treat
        0/1 DiD treatment (on from the adoption year, never off). The matching group is the
        ever-treated units.
        Or give ``adoption=`` (the first treated year) instead;
        given both, they must agree (``docs/CONVENTIONS.md``).
    covariates
        Matching covariates. Pooled matching (``by_year=False``) averages them per county over the
        years before the first adoption year in the data (pre-treatment for every unit); year-by-year
        matching uses each year's values (as many Chinese papers do; note that post-treatment
        covariates may be affected by the policy).
    method, k, caliper, replacement, bandwidth
        ``"nearest"`` 1:k with replacement (default) or 1:1 without (``replacement=False``);
        ``"radius"`` (needs ``caliper``); ``"kernel"`` (Epanechnikov, ``bandwidth``).
    common
        Impose common support (psmatch2 ``common``).
    controls
        Time-varying controls in the DiD regression.
    did_weights
        True: the DiD is weighted by psmatch2 ``_weight`` (``[pw=_weight]``; 1 for matched treated
        units, the summed matching weights for controls). False: unweighted DiD on rows of matched
        units (``if _weight != .``). None (default): True for ``"kernel"`` and ``"radius"``,
        False for ``"nearest"``.
    cluster
        Cluster column (default ``entity``).
    seed
        Random tie-breaking and matching order; same seed, same matches.

    Returns
    -------
    PSMDiDResult
        ``params["did"]`` with its county-clustered SE; ``scores``, ``matches``, ``balance``,
        ``logit``; rows used and dropped with reasons.

    Notes
    -----
    About 140 lines of code in one function: the pooled and year-by-year matching paths share the
    score table, the row accounting and the DiD step, which must report every dropped row with its
    reason; splitting it is left for a later change.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    >>> d["treat"] = ((d["adoption"] > 0) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> d["x"] = rng.normal(size=len(d))
    >>> res = psm_did(d, "y", "treat", covariates=["x"], seed=0)
    >>> round(float(res.params["did"]), 2)
    0.5
    """
    check_choice("method", method, METHODS)
    if did_weights is None:
        did_weights = method in ("kernel", "radius")
    covariates, controls = list(covariates), list(controls)
    if not covariates:
        raise SpecificationError("give at least one matching covariate.")
    cluster = entity if cluster is None else cluster
    check_columns(data, [y, treat, entity, time, cluster, adoption, *covariates, *controls])
    check_keys(data, entity, time)
    n_input = len(data)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    g = resolve_adoption(data, entity, time, treat=treat, adoption=adoption)
    frame, dropped = drop_missing(data[list(dict.fromkeys([entity, time, cluster, y, treat, *controls, *covariates]))],
                                  [y, treat, *controls])
    units = pd.Index(pd.unique(frame[entity]))
    group_u = g.reindex(units).notna().astype(int)
    if group_u.sum() == 0 or group_u.sum() == len(units):
        raise SpecificationError("matching needs both treated and never-treated units.")
    first_adopt = float(g.min())
    years = np.sort(frame[time].unique())

    scores_parts, match_parts, logits = [], [], {}
    if not by_year:
        pre = frame[frame[time] < first_adopt]
        if pre.empty:
            raise TreatmentTimingError(
                f"no year before the first adoption ({int(first_adopt)}) in the sample: pooled matching needs "
                "pre-treatment covariates. Extend the sample backwards or use by_year=True."
            )
        Xu = pre.groupby(entity, sort=False)[covariates].mean().reindex(units)
        cells = [(None, Xu, group_u.to_numpy())]
    else:
        cells = []
        for t in years:
            sub = frame[frame[time] == t].set_index(entity)
            cells.append((t, sub[covariates], sub.index.map(group_u).to_numpy()))

    for t, X, grp in cells:
        ok = X.notna().all(axis=1).to_numpy()
        Xok, gok = X.loc[ok], grp[ok]
        if gok.sum() == 0 or gok.sum() == len(gok):
            continue
        ps, coef = _logit(gok, Xok)
        logits["pooled" if t is None else int(t)] = coef
        ids = Xok.index.to_numpy()
        sc = pd.DataFrame({entity: ids, "group": gok, "pscore": ps})
        if t is not None:
            sc[time] = t
        sc["on_support"] = True
        if common:
            lo, hi = ps[gok == 0].min(), ps[gok == 0].max()
            sc.loc[(sc["group"] == 1) & ((sc["pscore"] < lo) | (sc["pscore"] > hi)), "on_support"] = False
        tr_idx = np.flatnonzero((sc["group"] == 1) & sc["on_support"])
        co_idx = np.flatnonzero(sc["group"] == 0)
        m = match_on_score(sc["pscore"].to_numpy()[tr_idx], sc["pscore"].to_numpy()[co_idx], method=method, k=k,
                           caliper=caliper, replacement=replacement, bandwidth=bandwidth, seed=rng)
        m["treated_id"] = ids[tr_idx][m["treated"].to_numpy()] if len(m) else []
        m["control_id"] = ids[co_idx][m["control"].to_numpy()] if len(m) else []
        if t is not None:
            m[time] = t
        w = np.full(len(sc), np.nan)
        matched_t = tr_idx[np.unique(m["treated"].to_numpy())] if len(m) else np.array([], dtype=int)
        w[matched_t] = 1.0
        if len(m):
            cw = m.groupby("control")["weight"].sum()
            w[co_idx[cw.index.to_numpy()]] = cw.to_numpy()
        sc["weight"] = w
        sc["matched"] = np.isfinite(w)
        scores_parts.append(sc)
        match_parts.append(m.drop(columns=["treated", "control"]))
    if not scores_parts:
        raise SpecificationError("no cell had both treated and control units with complete covariates.")
    scores = pd.concat(scores_parts, ignore_index=True)
    matches = pd.concat(match_parts, ignore_index=True)
    if scores["matched"].sum() == 0 or not (scores.loc[scores["matched"], "group"] == 1).any():
        raise SpecificationError("no treated unit found a match; widen the caliper or change the covariates.")

    # balance on the matching sample
    if by_year:
        Xb = pd.concat([frame.loc[frame[time] == t, [entity, time, *covariates]] for t, _, _ in cells])
        Xb = scores[[entity, time]].merge(Xb, on=[entity, time], how="left")[covariates]
    else:
        Xb = Xu.loc[scores[entity]].reset_index(drop=True)
    balance = balance_table(Xb, scores["group"].to_numpy(), scores["weight"].to_numpy())

    # DiD sample: rows of matched units (pooled) or matched unit-years (by_year)
    if by_year:
        key = scores.loc[scores["matched"], [entity, time, "weight"]]
        did_frame = frame.merge(key, on=[entity, time], how="inner")
        n_unmatched = len(frame) - len(did_frame)
        if n_unmatched:
            dropped["unit-years not matched (off support, no match or missing covariates)"] = n_unmatched
    else:
        wmap = scores.set_index(entity)["weight"]
        wrow = frame[entity].map(wmap)
        miss_cov = frame[entity].isin(units.difference(scores[entity]))
        off = frame[entity].map(scores.set_index(entity)["on_support"]).eq(False)
        if miss_cov.any():
            dropped[f"{entity} missing pre-period covariates"] = int(miss_cov.sum())
        if off.any():
            dropped[f"treated {entity} off common support"] = int(off.sum())
        rest = wrow.isna() & ~miss_cov & ~off
        if rest.any():
            dropped[f"{entity} not matched"] = int(rest.sum())
        did_frame = frame.assign(weight=wrow).loc[wrow.notna()]
    ga = did_frame[entity].map(g)
    did = (ga.notna() & (did_frame[time] >= ga)).astype(float).to_numpy()
    fe = FixedEffects(did_frame[[entity, time]], weights=did_frame["weight"].to_numpy() if did_weights else None)
    X = np.column_stack([did] + [did_frame[c].to_numpy(dtype=float) for c in controls])
    fit = fe_ols(did_frame[y].to_numpy(dtype=float), X, ["did", *controls], fe, did_frame[cluster].to_numpy(),
                 weights=did_frame["weight"].to_numpy() if did_weights else None)
    return PSMDiDResult(
        params=fit.params,
        std_errors=pd.Series(np.sqrt(np.diag(fit.cov)), index=fit.params.index),
        model="PSM-DID (psmatch2 + reghdfe)",
        df_resid=fit.df_resid,
        cov=fit.cov,
        rows=RowReport(n_input=n_input, n_used=len(did_frame), dropped=dropped),
        settings={"y": y, "treat": treat, "covariates": covariates, "method": method, "k": k, "caliper": caliper,
                  "replacement": replacement if method == "nearest" else "n/a", "matching": "year by year" if by_year
                  else f"pooled, covariates averaged over years < {int(first_adopt)}", "common support": common,
                  "kernel": f"Epanechnikov, bandwidth {bandwidth}" if method == "kernel" else None,
                  "DiD weights": "psmatch2 _weight" if did_weights else "none (rows of matched units)",
                  "fixed effects": f"{entity} + {time}", "controls": controls, "seed": seed if not isinstance(
                      seed, np.random.Generator) else "Generator",
                  "se": f"CRV1 clustered by {cluster}, reghdfe small-sample factor"},
        reference="psmatch2 (Leuven and Sianesi 2003) + reghdfe; pstest standardized bias (Rosenbaum and Rubin 1985)",
        outcome=y, fixed_effects=(entity, time), vcov_type="cluster", cluster=(cluster,), n_clusters=fit.n_clusters,
        seed=seed if isinstance(seed, (int, np.integer)) else None,
        stats={"N": fit.nobs, "clusters": fit.n_clusters,
               "treated matched": int(((scores["group"] == 1) & scores["matched"]).sum()),
               "treated off support": int(((scores["group"] == 1) & ~scores["on_support"]).sum()),
               "controls matched": int(((scores["group"] == 0) & scores["matched"]).sum())},
        scores=scores,
        matches=matches,
        balance=balance,
        logit=pd.DataFrame(logits).T,
    )
