"""Aggregations of ATT(g,t) as R ``did::aggte`` (simple, dynamic, group, calendar), with the
influence-function term for the estimated group shares, and the event-study view.

Reference: Callaway and Sant'Anna (2021), *Journal of Econometrics* 225(2), section 3.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from ...errors import SpecificationError, check_choice, describe_rows
from ...results import EstimationResult
from .._common import TREATMENT_TERM
from .bootstrap import EPS_SE, multiplier_bootstrap

__all__ = ["AggregateResult", "aggregate", "event_study"]

#: the overall aggregated ATT's term name (``params["did"]``, the DiD treatment term of every estimator;
#: ``"ATT"``, its name before, is read with a DeprecationWarning for one release)
OVERALL_TERM = TREATMENT_TERM
_OLD_OVERALL_TERM = "ATT"


@dataclass
class AggregateResult(EstimationResult):
    """An ``aggte``-style aggregation of ATT(g,t).

    ``params`` holds the overall estimate (term ``"did"``; ``"ATT"`` still read, deprecated) followed by the per-event-time /
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
        """Per-element table: ``event_time`` (or ``group``/``time``), estimate, std_error, CI, band."""
        return self.table.copy()


@dataclass
class _Cells:
    """The ATT(g,t) cells being aggregated, with cohort shares and the recoded time scale."""

    att: np.ndarray
    grp: np.ndarray
    tim: np.ndarray
    psi: np.ndarray
    G: np.ndarray
    w: np.ndarray

    def __post_init__(self) -> None:
        self.n = self.psi.shape[0]
        self.glist = np.unique(self.grp)
        self.pg_g = np.array([np.mean(self.w * (self.G == g)) for g in self.glist])
        self.pg = self.pg_g[np.searchsorted(self.glist, self.grp)]
        # event time on the recoded (consecutive) scale, as aggte does for irregular periods
        allv = np.unique(np.concatenate([np.unique(self.tim), self.glist]))
        self.rec = {v: i + 1 for i, v in enumerate(allv)}
        self.grp_r = np.array([self.rec[v] for v in self.grp])
        self.tim_r = np.array([self.rec[v] for v in self.tim])
        self.e_orig = self.tim - self.grp

    def wif(self, keep_idx: np.ndarray) -> np.ndarray:
        """Influence function of the estimated group-share weights."""
        pk = self.pg[keep_idx]
        s = pk.sum()
        ind = np.column_stack([self.w * (self.G == self.grp[k]) for k in keep_idx]) - pk[None, :]
        return ind / s - np.outer(ind.sum(axis=1) / s**2, pk)

    def agg_if(self, keep_idx, weights, with_wif: bool) -> np.ndarray:
        out = self.psi[:, keep_idx] @ weights
        if with_wif:
            out = out + self.wif(keep_idx) @ self.att[keep_idx]
        return out

    def share_weighted(self, keep):
        """Cohort-share weighted average of the cells ``keep`` and its influence function."""
        wts = self.pg[keep] / self.pg[keep].sum()
        return float(self.att[keep] @ wts), self.agg_if(keep, wts, True)


def _label(v):
    return int(v) if float(v).is_integer() else v


def _simple(c: _Cells, max_e: float):
    keep = np.where((c.grp_r <= c.tim_r) & (c.tim_r <= c.grp_r + max_e))[0]
    overall, overall_if = c.share_weighted(keep)
    return [], [], [], overall, overall_if


def _group(c: _Cells, max_e: float):
    labels, ests, ifs = [], [], []
    for g in c.glist:
        gr = c.rec[g]
        keep = np.where((c.grp_r == gr) & (gr <= c.tim_r) & (c.tim_r <= gr + max_e))[0]
        labels.append(_label(g))
        if len(keep):
            wts = np.full(len(keep), 1.0 / len(keep))
            ests.append(float(c.att[keep] @ wts))
            ifs.append(c.agg_if(keep, wts, False))
        else:
            ests.append(np.nan)
            ifs.append(np.zeros(c.n))
    est = np.array(ests)
    valid = ~np.isnan(est)
    pv = c.pg_g[valid]
    overall = float(np.sum(est[valid] * pv) / pv.sum())
    ind = np.column_stack([c.w * (c.G == g) for g in c.glist[valid]]) - pv[None, :]
    s = pv.sum()
    wif_g = ind / s - np.outer(ind.sum(axis=1) / s**2, pv)
    overall_if = np.column_stack(ifs)[:, valid] @ (pv / s) + wif_g @ est[valid]
    return labels, ests, ifs, overall, overall_if


def _dynamic(c: _Cells, balance_e, min_e: float, max_e: float):
    include = np.ones(len(c.att), dtype=bool)
    evs = np.unique(c.e_orig)
    if balance_e is not None:
        tmax, tmin = c.tim.max(), c.tim.min()
        include = (tmax - c.grp) >= balance_e
        evs = np.unique(c.e_orig[include])
        evs = evs[(evs >= balance_e - tmax + tmin) & (evs <= balance_e)]
    evs = evs[(evs >= min_e) & (evs <= max_e)]
    labels, ests, ifs = [], [], []
    for e in evs:
        est_e, if_e = c.share_weighted(np.where((c.e_orig == e) & include)[0])
        labels.append(_label(e))
        ests.append(est_e)
        ifs.append(if_e)
    est = np.array(ests)
    post = np.asarray(evs) >= 0
    if post.any():
        overall = float(np.nanmean(est[post]))
        overall_if = np.column_stack(ifs)[:, post] @ np.full(post.sum(), 1.0 / post.sum())
    else:
        overall, overall_if = np.nan, np.zeros(c.n)
    return labels, ests, ifs, overall, overall_if


def _calendar(c: _Cells):
    labels, ests, ifs = [], [], []
    for t in np.unique(c.tim):
        tr_ = c.rec[t]
        if tr_ < c.grp_r.min():
            continue
        est_t, if_t = c.share_weighted(np.where((c.tim_r == tr_) & (c.grp_r <= tr_))[0])
        labels.append(_label(t))
        ests.append(est_t)
        ifs.append(if_t)
    est = np.array(ests)
    valid = ~np.isnan(est)
    overall = float(np.nanmean(est))
    overall_if = np.column_stack(ifs)[:, valid] @ np.full(valid.sum(), 1.0 / valid.sum())
    return labels, ests, ifs, overall, overall_if


def _standard_errors(psi_el, overall_if, n, n_draws, alpha, seed, cluster):
    """Bootstrap (``n_draws > 0``) or analytic SEs of the elements and the overall estimate."""
    z = stats.norm.ppf(1 - alpha / 2)
    if n_draws:
        bt_el = multiplier_bootstrap(psi_el, n_draws, alpha, seed=seed, cluster=cluster) if psi_el.shape[1] else None
        bt_ov = multiplier_bootstrap(overall_if, n_draws, alpha, seed=seed, cluster=cluster)
        se_el = bt_el["se"] if bt_el is not None else np.array([])
        crit = bt_el["crit_val"] if bt_el is not None else np.nan
        se_ov = float(bt_ov["se"][0])
    else:
        se_el = np.sqrt(np.mean(psi_el**2, axis=0) / n)
        se_ov = float(np.sqrt(np.mean(overall_if**2) / n))
        crit = z
    se_el = np.where(se_el <= EPS_SE, np.nan, se_el)
    if se_ov <= EPS_SE:
        se_ov = np.nan
    return se_el, se_ov, crit, z


def _cells_of(res, na_rm: bool) -> _Cells:
    tab = res.att_gt
    att = tab["att"].to_numpy(dtype=float)
    grp = tab["group"].to_numpy(dtype=float)
    tim = tab["time"].to_numpy(dtype=float)
    psi = res.influence
    if np.isnan(att).any():
        if not na_rm:
            raise SpecificationError(
                "some ATT(g,t) are missing (cells skipped for lack of overlap or control "
                f"units: {describe_rows(tab.index[np.isnan(att)])}); pass na_rm=True to drop them."
            )
        keep = ~np.isnan(att)
        att, grp, tim, psi = att[keep], grp[keep], tim[keep], psi[:, keep]
    return _Cells(att, grp, tim, psi, res.unit_group, res.unit_weight)


def aggregate(res, type: str = "group", balance_e: int | None = None, min_e: float = -np.inf,  # noqa: A002
              max_e: float = np.inf, na_rm: bool = False, n_draws: int | None = None, seed=None,
              alpha: float | None = None) -> AggregateResult:
    """Aggregate the ATT(g,t) of ``res`` (see :meth:`CallawaySantAnnaResult.aggregate`)."""
    check_choice("type", type, ("simple", "dynamic", "group", "calendar"))
    alpha = res.alpha if alpha is None else alpha
    n_draws = res.settings.get("n_draws", 0) if n_draws is None else int(n_draws)
    seed = res.settings.get("seed") if seed is None else seed
    c = _cells_of(res, na_rm)
    if type == "simple":
        labels, ests, ifs, overall, overall_if = _simple(c, max_e)
    elif type == "group":
        labels, ests, ifs, overall, overall_if = _group(c, max_e)
    elif type == "dynamic":
        labels, ests, ifs, overall, overall_if = _dynamic(c, balance_e, min_e, max_e)
    else:
        labels, ests, ifs, overall, overall_if = _calendar(c)
    psi_el = np.column_stack(ifs) if ifs else np.zeros((c.n, 0))
    est_el = np.array(ests, dtype=float)
    se_el, se_ov, crit, z = _standard_errors(psi_el, overall_if, c.n, n_draws, alpha, seed, res.cluster_codes)
    if not res.settings.get("cband", True) or not np.isfinite(crit):
        crit = z
    if type == "dynamic" and res.settings.get("base_period") == "universal":
        # universal base: e = -1 is a normalisation, report SE NA
        se_el = np.where(np.array(labels) == -1 - res.settings.get("anticipation", 0), np.nan, se_el)
    ov = pd.DataFrame({"estimate": [overall], "std_error": [se_ov], "ci_low": [overall - z * se_ov],
                       "ci_high": [overall + z * se_ov]})
    key = {"dynamic": "event_time", "group": "group", "calendar": "time", "simple": None}[type]
    table = None
    params, ses = {OVERALL_TERM: overall}, {OVERALL_TERM: se_ov}
    if key is not None:
        table = pd.DataFrame({key: labels, "estimate": est_el, "std_error": se_el, "ci_low": est_el - z * se_el,
                              "ci_high": est_el + z * se_el, "band_low": est_el - crit * se_el,
                              "band_high": est_el + crit * se_el})
        prefix = {"event_time": "e", "group": "g", "time": "t"}[key]
        for lab, e_, s_ in zip(labels, est_el, se_el):
            params[f"{prefix}={lab}"] = e_
            ses[f"{prefix}={lab}"] = s_
    return AggregateResult(
        params=pd.Series(params), std_errors=pd.Series(ses), model=f"Callaway-Sant'Anna aggregation: {type}",
        statistic_name="z", rows=res.rows,
        settings={**res.settings, "aggregation": type, "balance_e": balance_e,
                  "se": "multiplier bootstrap (Mammen)" if n_draws else "analytic influence function"},
        reference="Callaway and Sant'Anna (2021); R did::aggte", stats={"N_units": c.n},
        outcome=res.outcome, vcov_type="bootstrap" if n_draws else "cluster", cluster=res.cluster, seed=res.seed,
        term_aliases={_OLD_OVERALL_TERM: OVERALL_TERM}, kind=type, table=table, overall=ov,
        influence=np.column_stack([psi_el, overall_if]), crit_val=float(crit),
        alpha=alpha,
    )


def event_study(res, overall: str = "simple", **kwargs):
    """The dynamic aggregation of ``res`` as an EventStudyResult (see
    :meth:`CallawaySantAnnaResult.event_study`).
    """
    from .._common import EventStudyResult

    check_choice("overall", overall, ("simple", "dynamic"))
    agg = aggregate(res, "dynamic", **kwargs)
    tab = agg.table
    n = agg.influence.shape[0]
    psi = agg.influence[:, :len(tab)]
    V = psi.T @ psi / n**2
    ref = -1 - int(res.settings.get("anticipation", 0))
    keep = np.isfinite(tab["std_error"].to_numpy(dtype=float))
    if res.settings.get("base_period") == "universal":
        keep &= tab["event_time"].to_numpy() != ref
    rel = tab["event_time"].to_numpy()[keep]
    Vk = V[np.ix_(keep, keep)]
    se = tab["std_error"].to_numpy()[keep]
    # bootstrap SEs when the aggregation ran the bootstrap: n_draws of the estimation, or n_draws= given here
    boot = agg.vcov_type == "bootstrap"
    if boot:
        # bootstrap SEs on the diagonal, analytic correlations off it
        d = np.sqrt(np.diag(Vk))
        with np.errstate(invalid="ignore", divide="ignore"):
            Vk = Vk / np.outer(d, d) * np.outer(se, se)
    simple = aggregate(res, "simple", **{k_: v for k_, v in kwargs.items() if k_ in ("max_e", "n_draws", "seed", "alpha")})
    ov = (simple if overall == "simple" else agg).overall.iloc[0]
    desc = ("ATT over all treated unit-periods (aggte simple)" if overall == "simple"
            else "average of the event-time effects e >= 0 (aggte dynamic)")
    pre = {}
    if res.wald is not None:
        pre = {"stat": res.wald["stat"], "df": res.wald["df"], "p_value": res.wald["p_value"],
               "F": res.wald["stat"] / res.wald["df"], "F_p_value": res.wald["p_value"],
               "note": "analytic Wald test of all pre-treatment ATT(g,t) (R did)"}
    return EventStudyResult.from_estimates(
        f"Callaway-Sant'Anna ({res.settings.get('method')}, {res.settings.get('control')})",
        event_times=rel.astype(int),
        estimates=tab["estimate"].to_numpy()[keep],
        vcov=Vk,
        overall={"estimate": float(ov["estimate"]), "std_error": float(ov["std_error"]),
                 "ci_low": float(ov["ci_low"]), "ci_high": float(ov["ci_high"]), "description": desc},
        reference_period=ref if res.settings.get("base_period") == "universal" else None,
        alpha=agg.alpha,
        crit=agg.crit_val if boot else None,
        pretrend=pre,
        rows=res.rows,
        settings=dict(agg.settings),
        reference=res.reference,
        stats=dict(res.stats),
        outcome=res.outcome, vcov_type=agg.vcov_type, cluster=res.cluster, seed=res.seed,
        extra={"aggregate": agg, "simple": simple.overall, "dynamic": agg.overall},
    )
