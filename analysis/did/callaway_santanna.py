"""Callaway and Sant'Anna (2021) group-time average treatment effects for staggered adoption.

Implements ``ATT(g,t)`` with never-treated or not-yet-treated comparison units, the outcome
regression, normalized IPW and (traditional, locally efficient) doubly robust 2x2 estimators of
Sant'Anna and Zhao (2020), varying or universal base periods, anticipation, analytic
influence-function standard errors, the Mammen multiplier bootstrap with uniform bands, the
pre-trend Wald test, and the four aggregations of ``aggte`` (simple, dynamic, group, calendar)
including the influence-function term for the estimated group shares.

References
----------
Callaway, B. and Sant'Anna, P. H. C. (2021). "Difference-in-Differences with multiple time
periods." *Journal of Econometrics* 225(2), 200-230.
Sant'Anna, P. H. C. and Zhao, J. (2020). "Doubly robust difference-in-differences estimators."
*Journal of Econometrics* 219(1), 101-122.

Matches R ``did::att_gt()`` / ``did::aggte()`` (with ``bstrap = FALSE`` for analytic SEs;
``est_method = "dr"`` is ``DRDID::drdid_panel``), Stata ``csdid`` with ``method(dripw)``/
``method(reg)``/``method(stdipw)`` and the Python port ``moderndid.att_gt`` 0.2.0.

Panel handling (stated, as the issue asks): the estimator needs a balanced panel. Like R ``did``
with ``allow_unbalanced_panel = FALSE`` (its default), units that are not observed in every period
(after dropping rows with a missing outcome or covariate) are dropped; every drop is reported in
``result.rows`` with its reason. Units already treated in the first period (``G <= t_1 + delta``)
are dropped as in ``did``. Units first treated after the last period are never-treated.

Clustering: with ``cluster=`` (a variable constant within unit) the multiplier bootstrap runs on
cluster *means* of the influence function with sqrt(G) scaling and ``se = IQR-sigma / sqrt(G)``,
the convention of CRAN ``did`` 2.1.x and ``moderndid`` 0.2.0 (it requires the bootstrap).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import (
    ColumnError,
    DuplicateKeyError,
    MissingValueError,
    NonNumericError,
    SpecificationError,
    TreatmentTimingError,
    check_choice,
    describe_rows,
)
from ..results import EstimationResult, RowReport
from ._common import LATE_ADOPTION_KEY, parse_adoption, recode_late_adopters

__all__ = [
    "callaway_santanna",
    "CallawaySantAnnaResult",
    "AggregateResult",
    "multiplier_bootstrap",
    "mammen_draws",
]

_EPS_SE = np.sqrt(np.finfo(float).eps) * 10
_Z_IQR = stats.norm.ppf(0.75) - stats.norm.ppf(0.25)
_K1 = 0.5 * (1 - np.sqrt(5))
_K2 = 0.5 * (1 + np.sqrt(5))
_P_K1 = 0.5 * (1 + np.sqrt(5)) / np.sqrt(5)  # P(V = k1)


# ------------------------------------------------------------------------------------------
# multiplier bootstrap
# ------------------------------------------------------------------------------------------
def mammen_draws(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """Mammen (1993) two-point multipliers: (1-sqrt5)/2 w.p. (1+sqrt5)/(2 sqrt5), else (1+sqrt5)/2.

    The indicator of the first value is ``rng.random(size) <= p``: numpy's ``binomial(1, p)`` for
    p > 1/2 is exactly this comparison on one uniform draw, so the stream is the one ``moderndid``
    uses (``rng.binomial(1, p, size)``; the same seed gives the same draws) at a third of the cost.
    Mean 0, variance 1.
    """
    return np.where(rng.random(size) <= _P_K1, _K1, _K2)


def multiplier_bootstrap(
    inf_func: np.ndarray,
    biters: int,
    alpha: float = 0.05,
    seed=None,
    cluster: np.ndarray | None = None,
    batch_bytes: int = 1 << 26,
) -> dict[str, Any]:
    """Multiplier bootstrap of an influence-function matrix, as R ``did::mboot``.

    ``R_b = sqrt(n) * mean_i(V_ib * Psi_i)`` computed in batches as the matrix product of the
    (batch x n) Mammen draws with the (n x k) influence functions. Standard errors are the
    IQR of ``R`` over 1.349 (type-1 quantiles) divided by sqrt(n); the uniform critical value is
    the (1 - alpha) quantile of ``max_j |R_bj / sigma_j|``.

    Parameters
    ----------
    inf_func : (n, k) array
    biters : number of draws
    cluster : optional length-n cluster codes; the bootstrap then runs on cluster means of the
        influence function with n replaced by the number of clusters.

    Returns
    -------
    dict with ``se`` (k), ``crit_val`` (float), ``bres`` (biters x k).
    """
    psi = np.asarray(inf_func, dtype=float)
    if psi.ndim == 1:
        psi = psi[:, None]
    rng = np.random.default_rng(seed)
    if cluster is not None:
        codes, inv = np.unique(np.asarray(cluster), return_inverse=True)
        counts = np.bincount(inv)
        sums = np.zeros((len(codes), psi.shape[1]))
        np.add.at(sums, inv, np.nan_to_num(psi))
        psi = sums / counts[:, None]
    n, k = psi.shape
    psi_c = np.nan_to_num(psi)
    bres = np.empty((biters, k))
    batch = int(max(1, min(biters, batch_bytes // (8 * max(n, 1)))))
    for start in range(0, biters, batch):
        stop = min(start + batch, biters)
        v = mammen_draws(rng, (stop - start, n))
        bres[start:stop] = v @ psi_c
    bres *= np.sqrt(n) / n
    bres[:, np.isnan(psi).any(axis=0)] = np.nan
    col_ss = np.sum(bres**2, axis=0)
    ok = (~np.isnan(col_ss)) & (col_ss > _EPS_SE)
    se = np.full(k, np.nan)
    crit = np.nan
    if ok.any():
        q75 = np.quantile(bres[:, ok], 0.75, axis=0, method="inverted_cdf")
        q25 = np.quantile(bres[:, ok], 0.25, axis=0, method="inverted_cdf")
        sig = (q75 - q25) / _Z_IQR
        se[ok] = sig / np.sqrt(n)
        with np.errstate(divide="ignore", invalid="ignore"):
            bt = np.max(np.abs(bres[:, ok] / sig), axis=1)
        bt = bt[np.isfinite(bt)]
        if len(bt):
            crit = float(np.quantile(bt, 1 - alpha, method="inverted_cdf"))
    return {"se": se, "crit_val": crit, "bres": bres}


# ------------------------------------------------------------------------------------------
# the three 2x2 estimators (Sant'Anna and Zhao 2020; DRDID panel versions)
# ------------------------------------------------------------------------------------------
def _logit(d: np.ndarray, x: np.ndarray, w: np.ndarray, maxiter: int = 100) -> np.ndarray:
    """Weighted logit MLE by Newton-Raphson (IRLS); returns fitted probabilities."""
    beta = np.zeros(x.shape[1])
    # start from the intercept-only solution for stability
    pbar = np.clip(np.sum(w * d) / np.sum(w), 1e-10, 1 - 1e-10)
    beta_start = np.linalg.lstsq(x, np.full(len(d), np.log(pbar / (1 - pbar))), rcond=None)[0]
    beta = beta_start
    for _ in range(maxiter):
        eta = x @ beta
        p = 1.0 / (1.0 + np.exp(-eta))
        wt = w * p * (1 - p)
        grad = x.T @ (w * (d - p))
        hess = (x * wt[:, None]).T @ x
        step = np.linalg.solve(hess, grad)
        beta = beta + step
        if np.max(np.abs(step)) < 1e-13 * (1 + np.max(np.abs(beta))):
            break
    return 1.0 / (1.0 + np.exp(-(x @ beta)))


def _two_by_two(dy: np.ndarray, d: np.ndarray, x: np.ndarray, w: np.ndarray, method: str):
    """ATT and influence function (on the subset) of one 2x2 panel DiD.

    ``d`` 0/1, ``x`` includes the intercept, ``w`` normalized to mean one on the subset.
    Formulas: DRDID ``drdid_panel``, ``std_ipw_did_panel``, ``reg_did_panel``.
    """
    m = len(d)
    if method == "reg":
        c = (1 - d) * w
        xtx = (x * c[:, None]).T @ x
        beta = np.linalg.solve(xtx, x.T @ (c * dy))
        mhat = x @ beta
        wd = w * d
        mean_wd = wd.mean()
        eta1 = np.mean(wd * dy) / mean_wd
        eta0 = np.mean(wd * mhat) / mean_wd
        att = eta1 - eta0
        lin_ols = (c * (dy - mhat))[:, None] * x @ np.linalg.inv(xtx / m)
        m1 = np.mean(wd[:, None] * x, axis=0)
        psi = (wd * dy - wd * eta1) / mean_wd - (wd * mhat - wd * eta0 + lin_ols @ m1) / mean_wd
        return att, psi

    ps = _logit(d, x, w)
    ps = np.clip(ps, 1e-6, 1 - 1e-6)
    trim = np.where(d == 1, True, ps < 0.995)
    hess_ps = np.linalg.inv((x * (w * ps * (1 - ps))[:, None]).T @ x) * m
    lin_ps = (w * (d - ps))[:, None] * x @ hess_ps
    w1 = trim * w * d
    w0 = trim * w * ps * (1 - d) / (1 - ps)
    mw1, mw0 = w1.mean(), w0.mean()
    if method == "ipw":
        a1 = np.mean(w1 * dy) / mw1
        a0 = np.mean(w0 * dy) / mw0
        att = a1 - a0
        mvec = np.mean((w0 * (dy - a0))[:, None] * x, axis=0) / mw0
        psi = (w1 * dy - w1 * a1) / mw1 - ((w0 * dy - w0 * a0) / mw0 + lin_ps @ mvec)
        return att, psi
    # dr (traditional, locally efficient)
    c = (1 - d) * w
    xtx = (x * c[:, None]).T @ x
    beta = np.linalg.solve(xtx, x.T @ (c * dy))
    mhat = x @ beta
    r = dy - mhat
    eta1 = np.mean(w1 * r) / mw1
    eta0 = np.mean(w0 * r) / mw0
    att = eta1 - eta0
    lin_ols = (c * r)[:, None] * x @ np.linalg.inv(xtx / m)
    psi_t = (w1 * r - w1 * eta1 - lin_ols @ np.mean(w1[:, None] * x, axis=0)) / mw1
    psi_c = (
        w0 * r
        - w0 * eta0
        + lin_ps @ np.mean((w0 * (r - eta0))[:, None] * x, axis=0)
        - lin_ols @ np.mean(w0[:, None] * x, axis=0)
    ) / mw0
    return att, psi_t - psi_c


# ------------------------------------------------------------------------------------------
# results
# ------------------------------------------------------------------------------------------
@dataclass
class AggregateResult(EstimationResult):
    """An ``aggte``-style aggregation of ATT(g,t).

    ``params`` holds the overall estimate (term ``"ATT"``) followed by the per-event-time /
    per-group / per-period estimates (terms ``"e=-1"``, ``"g=2004"``, ``"t=2006"``);
    ``table`` is the tidy per-element table with pointwise CIs and uniform bands; ``overall``
    a one-row table; ``influence`` the (n x k) influence functions (overall last).
    """

    kind: str = ""
    table: pd.DataFrame | None = None
    overall: pd.DataFrame | None = None
    influence: np.ndarray | None = None
    crit_val: float = np.nan

    def event_time_table(self) -> pd.DataFrame:
        """Per-element table: ``event_time`` (or ``group``/``time``), estimate, se, CI, band."""
        return self.table.copy()


@dataclass
class CallawaySantAnnaResult(EstimationResult):
    """Group-time ATTs with everything needed to aggregate and bootstrap them.

    Attributes
    ----------
    att_gt : DataFrame
        ``group, time, event_time, base_period, post, att, se, ci_low, ci_high, band_low,
        band_high, n_treated, n_control``.
    influence : ndarray (n_units x n_cells)
        Influence functions of the cells (rows = units in ``units`` order).
    wald : dict
        Pre-trend Wald test: ``stat``, ``df``, ``p_value`` (None when not computable).
    """

    att_gt: pd.DataFrame | None = None
    influence: np.ndarray | None = None
    units: np.ndarray | None = None
    unit_group: np.ndarray | None = None  # G_i, np.inf for never treated
    unit_weight: np.ndarray | None = None
    cluster_codes: np.ndarray | None = None
    wald: dict | None = None
    crit_val: float = np.nan

    # -------------------------------------------------------------------------------------
    def aggregate(
        self,
        type: str = "group",  # noqa: A002 - the R argument name
        balance_e: int | None = None,
        min_e: float = -np.inf,
        max_e: float = np.inf,
        na_rm: bool = False,
        bootstrap: int | None = None,
        seed=None,
        alpha: float | None = None,
    ) -> AggregateResult:
        """Aggregate ATT(g,t) as R ``did::aggte`` (with the weight influence-function term).

        Parameters
        ----------
        type : {"simple", "dynamic", "group", "calendar"}
        balance_e : keep only cohorts observed for at least ``balance_e`` periods after
            treatment, and event times up to ``balance_e`` (dynamic only).
        min_e, max_e : event-time window (dynamic; ``max_e`` also limits simple/group).
        na_rm : drop cells whose ATT is missing instead of raising.
        bootstrap : multiplier-bootstrap draws; default: as in the ATT(g,t) estimation.
        seed : default: the seed used for the ATT(g,t) estimation.
        """
        check_choice("type", type, ("simple", "dynamic", "group", "calendar"))
        alpha = self.alpha if alpha is None else alpha
        biters = self.settings.get("bootstrap", 0) if bootstrap is None else int(bootstrap)
        seed = self.settings.get("seed") if seed is None else seed
        tab = self.att_gt
        att = tab["att"].to_numpy(dtype=float)
        grp = tab["group"].to_numpy(dtype=float)
        tim = tab["time"].to_numpy(dtype=float)
        psi = self.influence
        if np.isnan(att).any():
            if not na_rm:
                raise SpecificationError(
                    "some ATT(g,t) are missing (cells skipped for lack of overlap or control "
                    f"units: {describe_rows(tab.index[np.isnan(att)])}); pass na_rm=True to drop them."
                )
            keep = ~np.isnan(att)
            att, grp, tim, psi = att[keep], grp[keep], tim[keep], psi[:, keep]
        n = psi.shape[0]
        G = self.unit_group
        w = self.unit_weight
        glist = np.unique(grp)
        pg_g = np.array([np.mean(w * (G == g)) for g in glist])
        pg = pg_g[np.searchsorted(glist, grp)]
        # event time on the recoded (consecutive) scale, as aggte does for irregular periods
        allv = np.unique(np.concatenate([np.unique(tim), glist]))
        rec = {v: i + 1 for i, v in enumerate(allv)}
        grp_r = np.array([rec[v] for v in grp])
        tim_r = np.array([rec[v] for v in tim])
        e_orig = tim - grp

        def wif(keep_idx: np.ndarray) -> np.ndarray:
            pk = pg[keep_idx]
            s = pk.sum()
            ind = np.column_stack([w * (G == grp[k]) for k in keep_idx]) - pk[None, :]
            return ind / s - np.outer(ind.sum(axis=1) / s**2, pk)

        def agg_if(keep_idx, weights, with_wif):
            out = psi[:, keep_idx] @ weights
            if with_wif:
                out = out + wif(keep_idx) @ att[keep_idx]
            return out

        labels: list = []
        ests: list[float] = []
        ifs: list[np.ndarray] = []
        key = {"dynamic": "event_time", "group": "group", "calendar": "time", "simple": None}[type]
        if type == "simple":
            keep = np.where((grp_r <= tim_r) & (tim_r <= grp_r + max_e))[0]
            wts = pg[keep] / pg[keep].sum()
            overall = float(att[keep] @ wts)
            overall_if = agg_if(keep, wts, True)
        elif type == "group":
            for g in glist:
                gr = rec[g]
                keep = np.where((grp_r == gr) & (gr <= tim_r) & (tim_r <= gr + max_e))[0]
                labels.append(int(g) if float(g).is_integer() else g)
                if len(keep):
                    wts = np.full(len(keep), 1.0 / len(keep))
                    ests.append(float(att[keep] @ wts))
                    ifs.append(agg_if(keep, wts, False))
                else:
                    ests.append(np.nan)
                    ifs.append(np.zeros(n))
            est = np.array(ests)
            valid = ~np.isnan(est)
            pv = pg_g[valid]
            overall = float(np.sum(est[valid] * pv) / pv.sum())
            ind = np.column_stack([w * (G == g) for g in glist[valid]]) - pv[None, :]
            s = pv.sum()
            wif_g = ind / s - np.outer(ind.sum(axis=1) / s**2, pv)
            overall_if = np.column_stack(ifs)[:, valid] @ (pv / s) + wif_g @ est[valid]
        elif type == "dynamic":
            include = np.ones(len(att), dtype=bool)
            evs = np.unique(e_orig)
            if balance_e is not None:
                tmax, tmin = tim.max(), tim.min()
                include = (tmax - grp) >= balance_e
                evs = np.unique(e_orig[include])
                evs = evs[(evs >= balance_e - tmax + tmin) & (evs <= balance_e)]
            evs = evs[(evs >= min_e) & (evs <= max_e)]
            for e in evs:
                keep = np.where((e_orig == e) & include)[0]
                labels.append(int(e) if float(e).is_integer() else e)
                wts = pg[keep] / pg[keep].sum()
                ests.append(float(att[keep] @ wts))
                ifs.append(agg_if(keep, wts, True))
            est = np.array(ests)
            post = np.asarray(evs) >= 0
            if post.any():
                overall = float(np.nanmean(est[post]))
                overall_if = np.column_stack(ifs)[:, post] @ np.full(post.sum(), 1.0 / post.sum())
            else:
                overall, overall_if = np.nan, np.zeros(n)
        else:  # calendar
            for t in np.unique(tim):
                tr_ = rec[t]
                if tr_ < grp_r.min():
                    continue
                keep = np.where((tim_r == tr_) & (grp_r <= tr_))[0]
                labels.append(int(t) if float(t).is_integer() else t)
                wts = pg[keep] / pg[keep].sum()
                ests.append(float(att[keep] @ wts))
                ifs.append(agg_if(keep, wts, True))
            est = np.array(ests)
            valid = ~np.isnan(est)
            overall = float(np.nanmean(est))
            overall_if = np.column_stack(ifs)[:, valid] @ np.full(valid.sum(), 1.0 / valid.sum())

        psi_el = np.column_stack(ifs) if ifs else np.zeros((n, 0))
        est_el = np.array(ests, dtype=float)
        cluster = self.cluster_codes
        z = stats.norm.ppf(1 - alpha / 2)
        if biters:
            bt_el = multiplier_bootstrap(psi_el, biters, alpha, seed=seed, cluster=cluster) if len(ests) else None
            bt_ov = multiplier_bootstrap(overall_if, biters, alpha, seed=seed, cluster=cluster)
            se_el = bt_el["se"] if bt_el is not None else np.array([])
            crit = bt_el["crit_val"] if bt_el is not None else np.nan
            se_ov = float(bt_ov["se"][0])
        else:
            se_el = np.sqrt(np.mean(psi_el**2, axis=0) / n)
            se_ov = float(np.sqrt(np.mean(overall_if**2) / n))
            crit = z
        se_el = np.where(se_el <= _EPS_SE, np.nan, se_el)
        if se_ov <= _EPS_SE:
            se_ov = np.nan
        if not self.settings.get("cband", True) or not np.isfinite(crit):
            crit = z
        # universal base: e = -1 is a normalisation, report SE NA
        if type == "dynamic" and self.settings.get("base_period") == "universal":
            se_el = np.where(np.array(labels) == -1 - self.settings.get("anticipation", 0), np.nan, se_el)
        ov = pd.DataFrame(
            {
                "estimate": [overall],
                "std_error": [se_ov],
                "ci_low": [overall - z * se_ov],
                "ci_high": [overall + z * se_ov],
            }
        )
        table = None
        params = {"ATT": overall}
        ses = {"ATT": se_ov}
        if key is not None:
            table = pd.DataFrame(
                {
                    key: labels,
                    "estimate": est_el,
                    "std_error": se_el,
                    "ci_low": est_el - z * se_el,
                    "ci_high": est_el + z * se_el,
                    "band_low": est_el - crit * se_el,
                    "band_high": est_el + crit * se_el,
                }
            )
            prefix = {"event_time": "e", "group": "g", "time": "t"}[key]
            for lab, e_, s_ in zip(labels, est_el, se_el):
                params[f"{prefix}={lab}"] = e_
                ses[f"{prefix}={lab}"] = s_
        return AggregateResult(
            params=pd.Series(params),
            std_errors=pd.Series(ses),
            model=f"Callaway-Sant'Anna aggregation: {type}",
            statistic_name="z",
            rows=self.rows,
            settings={**self.settings, "aggregation": type, "balance_e": balance_e,
                      "se": "multiplier bootstrap (Mammen)" if biters else "analytic influence function"},
            reference="Callaway and Sant'Anna (2021); R did::aggte",
            stats={"N_units": n},
            kind=type,
            table=table,
            overall=ov,
            influence=np.column_stack([psi_el, overall_if]),
            crit_val=float(crit),
            alpha=alpha,
        )

    def event_study(self, overall: str = "simple", **kwargs):
        """The dynamic aggregation as the shared :class:`~analysis.did._common.EventStudyResult`.

        Event-time estimates with their covariance ``Psi'Psi / n^2`` (analytic; the same matrix
        R's ``honest_did.AGGTEobj`` builds), pointwise or uniform-band critical value, the overall
        (average over e >= 0) estimate and the analytic pre-trend Wald test of the ATT(g,t).
        With ``base_period="universal"`` the reference period -1 is a fixed zero and is dropped
        from the table (it is drawn as the reference). Keyword arguments go to :meth:`aggregate`
        (``balance_e``, ``min_e``, ``max_e``, ...).

        ``overall="simple"`` (default) reports the simple aggregation (ATT over all treated
        unit-periods, weights proportional to cohort size: the estimand of the imputation
        estimator's overall ATT and of Sun-Abraham's ``agg="att"``); ``overall="dynamic"`` the
        average of the event-time effects e >= 0 (aggte dynamic overall). Both are kept in
        ``extra``.
        """
        from ._common import EventStudyResult

        check_choice("overall", overall, ("simple", "dynamic"))

        agg = self.aggregate("dynamic", **kwargs)
        tab = agg.table
        n = agg.influence.shape[0]
        k = len(tab)
        psi = agg.influence[:, :k]
        V = psi.T @ psi / n**2
        ref = -1 - int(self.settings.get("anticipation", 0))
        keep = np.isfinite(tab["std_error"].to_numpy(dtype=float))
        if self.settings.get("base_period") == "universal":
            keep &= tab["event_time"].to_numpy() != ref
        rel = tab["event_time"].to_numpy()[keep]
        Vk = V[np.ix_(keep, keep)]
        se = tab["std_error"].to_numpy()[keep]
        if self.settings.get("bootstrap"):
            # bootstrap SEs on the diagonal, analytic correlations off it
            d = np.sqrt(np.diag(Vk))
            with np.errstate(invalid="ignore", divide="ignore"):
                Vk = Vk / np.outer(d, d) * np.outer(se, se)
        simple = self.aggregate("simple", **{k_: v for k_, v in kwargs.items() if k_ in ("max_e", "bootstrap", "seed", "alpha")})
        ov = (simple if overall == "simple" else agg).overall.iloc[0]
        desc = ("ATT over all treated unit-periods (aggte simple)" if overall == "simple"
                else "average of the event-time effects e >= 0 (aggte dynamic)")
        pre = {}
        if self.wald is not None:
            pre = {"stat": self.wald["stat"], "df": self.wald["df"], "p_value": self.wald["p_value"],
                   "F": self.wald["stat"] / self.wald["df"], "F_p_value": self.wald["p_value"],
                   "note": "analytic Wald test of all pre-treatment ATT(g,t) (R did)"}
        return EventStudyResult.from_estimates(
            f"Callaway-Sant'Anna ({self.settings.get('method')}, {self.settings.get('control')})",
            rel_time=rel.astype(int),
            estimates=tab["estimate"].to_numpy()[keep],
            vcov=Vk,
            overall={"estimate": float(ov["estimate"]), "se": float(ov["std_error"]),
                     "ci_low": float(ov["ci_low"]), "ci_high": float(ov["ci_high"]),
                     "description": desc},
            reference_period=ref if self.settings.get("base_period") == "universal" else None,
            alpha=agg.alpha,
            crit=agg.crit_val if self.settings.get("bootstrap") else None,
            pretrend=pre,
            rows=self.rows,
            settings=dict(agg.settings),
            reference=self.reference,
            stats=dict(self.stats),
            extra={"aggregate": agg, "simple": simple.overall, "dynamic": agg.overall},
        )

    def event_time_table(self, **kwargs) -> pd.DataFrame:
        """Event-time table (dynamic aggregation) with ``event_time`` column."""
        return self.aggregate("dynamic", **kwargs).table


# ------------------------------------------------------------------------------------------
# input handling
# ------------------------------------------------------------------------------------------
def _prepare(data, y, adoption, entity, time, covariates, weights, cluster, anticipation, control):
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError("data must be a pandas DataFrame in long format (one row per unit and period).")
    cols = [entity, time, y, adoption, *covariates]
    cols += [c for c in (weights, cluster) if c is not None]
    missing = [c for c in dict.fromkeys(cols) if c not in data.columns]
    if missing:
        raise ColumnError(
            f"column(s) {missing} not in data; available columns: {list(data.columns)[:20]}. "
            "Pass the names with y=, adoption=, entity=, time=, covariates=."
        )
    df = data[list(dict.fromkeys(cols))].copy()
    n_input = len(df)
    dropped: dict[str, int] = {}
    for c in [y, *covariates, time]:
        if not pd.api.types.is_numeric_dtype(df[c]):
            conv = pd.to_numeric(df[c], errors="coerce")
            bad = df.index[conv.isna() & df[c].notna()]
            if len(bad):
                raise NonNumericError(f"column {c!r} has non-numeric values in {describe_rows(bad)}; convert or clean them.")
            df[c] = conv
    if df.empty:
        raise MissingValueError("data has no rows; pass the long panel (one row per unit and period).")
    if df[y].isna().all():
        raise MissingValueError(
            f"outcome column {y!r} is missing in every row ({describe_rows(df.index)}); nothing to estimate. "
            "Check the column name and how the file was read.")
    df["_G"] = parse_adoption(df, adoption).fillna(0).astype(float)
    if df[entity].isna().any() or df[time].isna().any():
        bad = df.index[df[entity].isna() | df[time].isna()]
        raise ColumnError(f"missing {entity!r} or {time!r} in {describe_rows(bad)}; every row needs its keys.")
    dup = df.duplicated([entity, time], keep=False)
    if dup.any():
        raise DuplicateKeyError(
            f"({entity}, {time}) keys are duplicated in {describe_rows(df.index[dup])}; "
            "keep one row per unit and period."
        )
    # timing constant within unit
    nuniq = df.groupby(entity, sort=False)["_G"].nunique()
    if (nuniq > 1).any():
        bad = nuniq.index[nuniq > 1]
        raise TreatmentTimingError(
            f"adoption period {adoption!r} varies within {describe_rows(bad)} ({entity}); it must be "
            "the unit's first treatment period, the same in every row (staggered absorbing treatment)."
        )
    for c in (weights, cluster):
        if c is not None:
            if df[c].isna().any():
                raise MissingValueError(
                    f"column {c!r} is missing in {describe_rows(df.index[df[c].isna()])}; sampling weights and "
                    "cluster ids must be given for every row."
                )
            nu = df.groupby(entity, sort=False)[c].nunique(dropna=False)
            if (nu > 1).any():
                raise SpecificationError(
                    f"column {c!r} varies within {describe_rows(nu.index[nu > 1])}; sampling weights and "
                    "cluster variables must be constant within each unit."
                )
    if weights is not None and (df[weights] < 0).any():
        raise SpecificationError(f"weights column {weights!r} has negative values in {describe_rows(df.index[df[weights] < 0])}.")
    # missing outcome / covariates
    miss_y = df[y].isna()
    if miss_y.any():
        dropped["missing outcome"] = int(miss_y.sum())
        df = df[~miss_y]
    if covariates:
        miss_x = df[list(covariates)].isna().any(axis=1)
        if miss_x.any():
            dropped["missing covariate"] = int(miss_x.sum())
            df = df[~miss_x]
    tlist = np.sort(df[time].unique()).astype(float)
    # units treated after the last period are never treated within the sample (the shared rule)
    g_unit = df.groupby(entity, sort=False)["_G"].first()
    _, late_note = recode_late_adopters(g_unit.where(g_unit > 0), float(tlist.max()), entity)
    df.loc[df["_G"] > tlist.max(), "_G"] = 0.0
    early = (df["_G"] > 0) & (df["_G"] <= tlist[0] + anticipation)
    if early.any():
        n_u = df.loc[early, entity].nunique()
        warnings.warn(f"dropped {n_u} units already treated in the first period ({tlist[0]:g}).", stacklevel=3)
        dropped["unit treated in the first period"] = int(early.sum())
        df = df[~early]
    if not (df["_G"] == 0).any():
        last = df["_G"].max()
        cut = last - anticipation
        out = df[time] >= cut
        if control == "never":
            warnings.warn(
                f"no never-treated units: the last cohort ({last:g}) serves as the comparison group and "
                f"periods from {cut:g} on are dropped (as R did).",
                stacklevel=3,
            )
            df.loc[df["_G"] == last, "_G"] = 0.0
        dropped["period at or after the last cohort's adoption (no never-treated units)"] = int(out.sum())
        df = df[~out]
        tlist = np.sort(df[time].unique()).astype(float)
    # balance
    counts = df.groupby(entity, sort=False)[time].transform("size")
    unb = counts < len(tlist)
    if unb.any():
        n_u = df.loc[unb, entity].nunique()
        warnings.warn(
            f"dropped {n_u} units not observed in all {len(tlist)} periods (balanced panel required, as "
            "R did with allow_unbalanced_panel = FALSE).",
            stacklevel=3,
        )
        dropped["unit not observed in every period (balancing)"] = int(unb.sum())
        df = df[~unb]
    if df.empty:
        raise SpecificationError("no rows left after removing missing values and balancing the panel.")
    rows = RowReport(n_input=n_input, n_used=len(df), dropped=dropped)
    return df, tlist, rows, late_note


# ------------------------------------------------------------------------------------------
# the estimator
# ------------------------------------------------------------------------------------------
def callaway_santanna(
    data: pd.DataFrame,
    y: str,
    adoption: str,
    entity: str = "county",
    time: str = "year",
    covariates: Sequence[str] = (),
    control: str = "never",
    method: str = "dr",
    base_period: str = "varying",
    anticipation: int = 0,
    weights: str | None = None,
    cluster: str | None = None,
    bootstrap: int = 0,
    seed=None,
    alpha: float = 0.05,
    cband: bool = True,
) -> CallawaySantAnnaResult:
    """Group-time average treatment effects ATT(g,t) of Callaway and Sant'Anna (2021).

    Parameters
    ----------
    data : long panel, one row per unit and period.
    y : outcome column.
    adoption : first treatment period of each unit (0 or missing = never treated); constant
        within unit.
    entity, time : unit and period columns.
    covariates : pre-treatment covariates (values of the earlier of the two periods of each
        2x2 comparison are used, as in R ``did``); an intercept is always included.
    control : ``"never"`` (never-treated units) or ``"notyet"`` (not-yet-treated units, plus the
        never-treated) -- R ``control_group = "nevertreated" | "notyettreated"``.
    method : ``"dr"`` (doubly robust, DRDID ``drdid_panel``; Stata csdid ``dripw``), ``"ipw"``
        (normalized IPW, ``std_ipw_did_panel``; csdid ``stdipw``) or ``"reg"`` (outcome regression,
        ``reg_did_panel``; csdid ``reg``).
    base_period : ``"varying"`` (R default) or ``"universal"``.
    anticipation : number of periods of anticipation (delta).
    weights : optional sampling-weight column (constant within unit).
    cluster : optional cluster column (constant within unit) for the bootstrap.
    bootstrap : 0 for analytic influence-function SEs (R ``bstrap = FALSE``), or the number of
        Mammen multiplier-bootstrap draws (R ``biters``); with the bootstrap, SEs are bootstrap SEs
        and ``band_low/band_high`` are uniform (simultaneous) bands when ``cband``.
    seed : int or ``np.random.Generator`` for the bootstrap.
    alpha : 1 - confidence level.

    Returns
    -------
    CallawaySantAnnaResult
        ``.att_gt`` table, ``.aggregate(type)``, ``.wald`` pre-trend test, ``.influence``.

    Notes
    -----
    Cells are estimated from precomputed unit-by-period arrays (outcome n x T, covariates); without
    covariates all cells are computed at once as weighted differences of mean changes. The
    bootstrap is one matrix product per batch of draws (draws x units) @ (units x cells).
    """
    check_choice("control", control, ("never", "notyet"))
    check_choice("method", method, ("dr", "ipw", "reg"))
    check_choice("base_period", base_period, ("varying", "universal"))
    covariates = tuple(covariates)
    if anticipation < 0 or int(anticipation) != anticipation:
        raise SpecificationError(f"anticipation={anticipation!r} must be a non-negative integer.")
    bootstrap = int(bootstrap or 0)
    if cluster is not None and cluster != entity and bootstrap == 0:
        raise SpecificationError(
            f"cluster={cluster!r}: clustering beyond the unit needs the multiplier bootstrap; pass "
            "bootstrap=999 (or more), as R did does."
        )
    df, tlist, rows, late_note = _prepare(data, y, adoption, entity, time, covariates, weights, cluster, anticipation,
                                          control)

    # unit-level arrays ------------------------------------------------------------------
    units, uinv = np.unique(df[entity].to_numpy(), return_inverse=True)
    tpos = np.searchsorted(tlist, df[time].to_numpy(dtype=float))
    n, T = len(units), len(tlist)
    Y = np.full((n, T), np.nan)
    Y[uinv, tpos] = df[y].to_numpy(dtype=float)
    G = np.zeros(n)
    G[uinv] = df["_G"].to_numpy(dtype=float)
    G = np.where(G == 0, np.inf, G)
    w = np.ones(n)
    if weights is not None:
        w[uinv] = df[weights].to_numpy(dtype=float)
    w = w / w.mean()
    cl_codes = None
    if cluster is not None and cluster != entity:
        cl = np.empty(n, dtype=object)
        cl[uinv] = df[cluster].to_numpy()
        cl_codes = pd.factorize(cl)[0]
    k = len(covariates)
    if k:
        X = np.ones((T, n, k + 1))
        for j, c in enumerate(covariates):
            arr = np.full((n, T), np.nan)
            arr[uinv, tpos] = df[c].to_numpy(dtype=float)
            X[:, :, j + 1] = arr.T
    glist = np.unique(G[np.isfinite(G)])
    if len(glist) == 0:
        raise TreatmentTimingError(f"no treated units: {adoption!r} is 0/missing for every unit.")

    # cells ------------------------------------------------------------------------------
    cells = []
    skipped = []
    t_start = 1 if base_period == "varying" else 0
    for g in glist:
        pre_idx = np.where(tlist < g - anticipation)[0]
        if len(pre_idx) == 0:
            warnings.warn(f"cohort {g:g} has no pre-treatment period and is dropped.", stacklevel=2)
            continue
        gb = pre_idx[-1]
        for ti in range(t_start, T):
            t = tlist[ti]
            post = g <= t
            if base_period == "universal":
                b = gb
            else:
                b = gb if post else ti - 1
            cells.append((g, ti, b, post))

    J = len(cells)
    att = np.full(J, np.nan)
    psi = np.zeros((n, J))
    n_tr = np.zeros(J, dtype=int)
    n_co = np.zeros(J, dtype=int)
    DY = np.empty((n, J))
    Dm = np.zeros((n, J), dtype=bool)
    Cm = np.zeros((n, J), dtype=bool)
    for j, (g, ti, b, post) in enumerate(cells):
        DY[:, j] = Y[:, ti] - Y[:, b]
        Dm[:, j] = G == g
        if control == "never":
            Cm[:, j] = ~np.isfinite(G)
        else:
            lim = tlist[max(ti, b)] + anticipation
            Cm[:, j] = (~np.isfinite(G)) | ((G > lim) & (G != g))
    n_tr = Dm.sum(axis=0)
    n_co = Cm.sum(axis=0)
    fixed0 = np.array([base_period == "universal" and ti == b for (_, ti, b, _) in cells])
    ok = (n_tr > 0) & (n_co > 0) & ~fixed0
    for j in np.where(~ok & ~fixed0)[0]:
        g, ti = cells[j][0], cells[j][1]
        skipped.append((g, tlist[ti], "no treated or no comparison units"))

    if k == 0:
        # all cells at once: weighted difference of mean changes
        wD = w[:, None] * Dm
        wC = w[:, None] * Cm
        sD = wD.sum(axis=0)
        sC = wC.sum(axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            eta1 = (wD * DY).sum(axis=0) / sD
            eta0 = (wC * DY).sum(axis=0) / sC
            att_all = eta1 - eta0
            psi_all = n * (wD * (DY - eta1) / sD - wC * (DY - eta0) / sC)
        att[ok] = att_all[ok]
        psi[:, ok] = psi_all[:, ok]
    else:
        for j in np.where(ok)[0]:
            g, ti, b, post = cells[j]
            S = Dm[:, j] | Cm[:, j]
            m = int(S.sum())
            d = Dm[S, j].astype(float)
            x = X[min(ti, b)][S]
            ws = w[S] / w[S].mean()
            dy = DY[S, j]
            reason = None
            if method in ("dr", "ipw"):
                try:
                    p_pre = _logit(d, x, np.ones(m))
                    if np.max(p_pre) >= 0.999:
                        reason = "overlap violated (propensity score >= 0.999)"
                except np.linalg.LinAlgError:
                    reason = "propensity score model singular"
            if reason is None and method in ("dr", "reg"):
                xc = x[d == 0]
                if xc.shape[0] == 0 or np.linalg.cond(xc.T @ xc) > 1 / np.finfo(float).eps:
                    reason = "not enough control units for the outcome regression"
            if reason is None:
                try:
                    a, ps_ = _two_by_two(dy, d, x, ws, method)
                except np.linalg.LinAlgError:
                    reason = "singular design in the 2x2 estimator"
            if reason is not None:
                warnings.warn(f"ATT({g:g},{tlist[ti]:g}) not estimated: {reason}.", stacklevel=2)
                skipped.append((g, tlist[ti], reason))
                att[j] = np.nan
                psi[:, j] = np.nan
                continue
            att[j] = a
            psi[S, j] = (n / m) * ps_
    att[fixed0] = 0.0
    psi[:, fixed0] = 0.0
    for j in np.where(~ok & ~fixed0)[0]:
        psi[:, j] = np.nan

    # inference ---------------------------------------------------------------------------
    z = stats.norm.ppf(1 - alpha / 2)
    se_an = np.sqrt(np.sum(psi**2, axis=0)) / n
    se_an = np.where(se_an <= _EPS_SE, np.nan, se_an)
    crit = z
    if bootstrap:
        bt = multiplier_bootstrap(psi, bootstrap, alpha, seed=seed, cluster=cl_codes)
        se = np.where(bt["se"] <= _EPS_SE, np.nan, bt["se"])
        if cband and np.isfinite(bt["crit_val"]):
            crit = bt["crit_val"]
    else:
        se = se_an

    # pre-trend Wald test (analytic)
    wald = None
    pre = np.array([not c[3] for c in cells]) & np.isfinite(se_an) & np.isfinite(att)
    if pre.any() and cl_codes is None:
        th = att[pre]
        V = psi[:, pre].T @ psi[:, pre] / n
        try:
            if np.linalg.cond(V) < 1 / np.finfo(float).eps:
                W = float(n * th @ np.linalg.solve(V, th))
                q = int(pre.sum())
                wald = {"stat": W, "df": q, "p_value": float(stats.chi2.sf(W, q))}
        except np.linalg.LinAlgError:
            wald = None

    tab = pd.DataFrame(
        {
            "group": [c[0] for c in cells],
            "time": [tlist[c[1]] for c in cells],
            "base_period": [tlist[c[2]] for c in cells],
            "post": [bool(c[3]) for c in cells],
            "att": att,
            "se": se,
            "ci_low": att - z * se,
            "ci_high": att + z * se,
            "band_low": att - crit * se,
            "band_high": att + crit * se,
            "n_treated": n_tr,
            "n_control": n_co,
        }
    )
    if np.all(np.mod(tab["group"], 1) == 0) and np.all(np.mod(tab["time"], 1) == 0):
        for c in ("group", "time", "base_period"):
            tab[c] = tab[c].astype(int)
    tab.insert(2, "event_time", tab["time"] - tab["group"])
    terms = [f"ATT({g},{t})" for g, t in zip(tab["group"], tab["time"])]
    settings = {
        "control": control,
        "method": method,
        "base_period": base_period,
        "anticipation": anticipation,
        "covariates": list(covariates),
        "weights": weights,
        "cluster": cluster or entity,
        "bootstrap": bootstrap,
        "seed": seed if not isinstance(seed, np.random.Generator) else "Generator",
        "cband": cband,
        "se": "multiplier bootstrap (Mammen)" if bootstrap else "analytic influence function",
        "panel": "balanced (units not observed in every period dropped)",
    }
    if skipped:
        settings["skipped_cells"] = skipped
    if late_note:
        settings[LATE_ADOPTION_KEY] = late_note
    stats_ = {"N_units": n, "N_periods": T, "N_cohorts": len(glist)}
    if wald is not None:
        stats_.update({"pretrend_wald": wald["stat"], "pretrend_df": wald["df"], "pretrend_p": wald["p_value"]})
    return CallawaySantAnnaResult(
        params=pd.Series(att, index=terms),
        std_errors=pd.Series(se, index=terms),
        model="Callaway-Sant'Anna ATT(g,t)",
        statistic_name="z",
        rows=rows,
        settings=settings,
        reference=(
            "Callaway and Sant'Anna (2021, J. Econometrics 225(2)); R did::att_gt / Stata csdid; "
            "2x2 estimators of Sant'Anna and Zhao (2020)"
        ),
        stats=stats_,
        att_gt=tab,
        influence=psi,
        units=units,
        unit_group=G,
        unit_weight=w,
        cluster_codes=cl_codes,
        wald=wald,
        crit_val=float(crit),
        alpha=alpha,
    )
