"""HonestDiD sensitivity analysis (Rambachan and Roth 2023) for an event-study vector.

Implemented here (our own code):

* ``method="smoothness"`` -- Delta^SD(M): the post-period violation of parallel trends may
  deviate from a linear extrapolation of the pre-trend by at most M per period (second
  differences of delta bounded by M). The confidence interval is the optimal **fixed-length
  confidence interval (FLCI)** of Rambachan and Roth (2023, Section 4.1; Armstrong and Kolesar
  2018): the affine estimator ``v'beta`` with ``v = (w, l)`` and half-length
  ``chi = sigma_v * cv_alpha(bias_v / sigma_v)`` (cv = quantile of the folded normal
  |N(b, 1)|), minimised over the pre-period weights w. The worst-case bias over Delta^SD(M)
  has the closed form ``M * ||L'v||_1`` (L maps second differences to delta) under the
  linear-trend invariance constraint ``s'v = 0``; for each bias bound h the variance is
  minimised by SLSQP and h is chosen by a grid plus bounded scalar search (HonestDiD's
  ``findOptimalFLCI`` does the same on a grid of 100 points with a simulated folded-normal
  quantile; we use the exact quantile).

* ``method="relative_magnitude"`` -- Delta^RM(Mbar): post-period changes of the violation at
  most Mbar times the largest pre-period change. Delta^RM is a finite union of polyhedra (the
  largest pre-period first difference is at period s, with sign +/-; Rambachan-Roth 2023,
  footnote 9); the confidence set is the union of the sets for each polyhedron (their Lemma 2.2),
  each obtained by inverting the **conditional-least-favourable hybrid test (C-LF)** of Andrews,
  Roth and Pakes (2023, "Inference for linear conditional moment inequalities") with the
  post-period effects other than theta as linear nuisance parameters, on a grid of theta values
  (R ``HonestDiD::computeConditionalCS_DeltaRM`` defaults: kappa = alpha/10 first-stage size,
  1,000 least-favourable simulation draws, only the moments that involve post periods, a
  1,000-point grid). The test statistic ``eta = min_tau max_j (y_j - X_j tau)/sd_j`` is computed
  through its dual, ``max`` over the vertices of ``{gamma >= 0, gamma'sd = 1, gamma'X = 0}``, which
  we enumerate once per polyhedron; the conditioning interval [v_lo, v_up] then has a closed form
  from the same vertices (instead of R's LP bisection), so the whole grid is evaluated at once.
  The least-favourable critical value is simulated (numpy stream, ``seed``), so results differ
  from R's (a different random stream) by Monte Carlo error in the hybrid's first stage.

References
----------
Rambachan, A. and Roth, J. (2023). "A More Credible Approach to Parallel Trends."
*Review of Economic Studies* 90(5), 2555-2591. R package ``HonestDiD``
(``createSensitivityResults``, ``createSensitivityResults_relativeMagnitudes``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

from ..errors import SpecificationError, check_choice
from ..plots import new_figure, tr
from ..results import RowReport, TidyResult

__all__ = ["honest_did", "HonestDiDResult", "flci", "rm_confidence_set", "folded_normal_quantile",
           "event_study_moments"]


# ------------------------------------------------------------------------------------------
def folded_normal_quantile(b: float, alpha: float = 0.05) -> float:
    """``c`` with P(|N(b,1)| <= c) = 1 - alpha (exact, by root finding).

    Examples
    --------
    >>> round(folded_normal_quantile(0.0), 3)  # b = 0: the usual two-sided normal quantile
    1.96
    >>> round(folded_normal_quantile(3.0), 3)
    4.645
    """
    b = abs(float(b))
    f = lambda c: stats.norm.cdf(c - b) - stats.norm.cdf(-c - b) - (1 - alpha)  # noqa: E731
    hi = b + stats.norm.ppf(1 - alpha / 2) + 10
    return float(optimize.brentq(f, 0.0, hi, xtol=1e-14, rtol=1e-14))


def _sd_matrices(n_pre: int, n_post: int):
    """``s`` (time index of each coefficient; reference 0 excluded) and ``L`` (delta = s d + L u)."""
    times = np.r_[np.arange(-n_pre, 0), np.arange(1, n_post + 1)]
    u_times = np.arange(-n_pre + 1, n_post)  # interior points with a second difference
    L = np.zeros((len(times), len(u_times)))
    for k, ut in enumerate(u_times):
        u = np.zeros(len(u_times))
        u[k] = 1.0
        full = {0: 0.0, 1: 0.0}
        # forward
        for tau in range(1, n_post):
            full[tau + 1] = 2 * full[tau] - full[tau - 1] + u[list(u_times).index(tau)]
        full[-1] = 2 * full[0] - full[1] + u[list(u_times).index(0)] if n_pre > 0 and 0 in u_times else 0.0
        for tau in range(-1, -n_pre, -1):
            full[tau - 1] = 2 * full[tau] - full[tau + 1] + u[list(u_times).index(tau)]
        L[:, k] = [full[t] for t in times]  # the recursions above reach every pre and post time
    return times.astype(float), L


def flci(betahat, sigma, n_pre: int, n_post: int, M: float, l_vec=None, alpha: float = 0.05,
         grid: int = 40) -> dict[str, Any]:
    """Optimal FLCI for ``theta = l' tau_post`` under Delta^SD(M).

    ``betahat`` (n_pre + n_post), ordered pre (earliest first) then post; the reference period
    (the one just before treatment) is excluded and normalised to zero.

    Examples
    --------
    >>> import numpy as np
    >>> betahat = np.array([0.0, 0.0, 0.5, 0.5])  # two pre-period, two post-period coefficients
    >>> ci = flci(betahat, np.eye(4) * 0.01, n_pre=2, n_post=2, M=0)
    >>> round(ci["estimate"], 3), round(float(ci["lb"]), 3), round(float(ci["ub"]), 3)
    (0.5, 0.285, 0.715)
    """
    b = np.asarray(betahat, dtype=float)
    S = np.asarray(sigma, dtype=float)
    if len(b) != n_pre + n_post or S.shape != (len(b), len(b)):
        raise SpecificationError("betahat must have n_pre + n_post elements and sigma be square of that size.")
    if n_pre < 1:
        raise SpecificationError("Delta^SD needs at least one pre-period coefficient.")
    lv = np.zeros(n_post)
    lv[0] = 1.0
    if l_vec is not None:
        lv = np.asarray(l_vec, dtype=float)
    s, L = _sd_matrices(n_pre, n_post)
    Spp, Spo = S[:n_pre, :n_pre], S[:n_pre, n_pre:]
    spre, spost = s[:n_pre], s[n_pre:]
    z = stats.norm.ppf(1 - alpha / 2)

    def cvec(w):
        return np.r_[w, lv]

    def var(w):
        c = cvec(w)
        return float(c @ S @ c)

    # minimum-variance w subject to the trend constraint spre'w = -spost'l (closed form KKT)
    rhs_t = -float(spost @ lv)
    K = np.block([[2 * Spp, spre[:, None]], [spre[None, :], np.zeros((1, 1))]])
    sol = np.linalg.lstsq(K, np.r_[-2 * Spo @ lv, rhs_t], rcond=None)[0]
    w_mv = sol[:n_pre]
    if M == 0:
        sd = np.sqrt(var(w_mv))
        est = float(cvec(w_mv) @ b)
        return {"lb": est - z * sd, "ub": est + z * sd, "estimate": est, "half_length": z * sd,
                "bias": 0.0, "sd": sd, "weights": cvec(w_mv)}
    nu = L.shape[1]

    def bias1(w):
        return float(np.abs(L.T @ cvec(w)).sum())

    # minimum achievable bias (LP): min sum t s.t. -t <= L'c <= t, s'c = 0
    Lp, Lo = L[:n_pre].T, L[n_pre:].T @ lv  # L'c = Lp w + Lo
    cobj = np.r_[np.zeros(n_pre), np.ones(nu)]
    A_ub = np.block([[Lp, -np.eye(nu)], [-Lp, -np.eye(nu)]])
    b_ub = np.r_[-Lo, Lo]
    A_eq = np.r_[spre, np.zeros(nu)][None, :]
    lp = optimize.linprog(cobj, A_ub=A_ub, b_ub=b_ub, A_eq=A_eq, b_eq=[rhs_t],
                          bounds=[(None, None)] * (n_pre + nu), method="highs")
    h_min = M * lp.fun
    w_minb = lp.x[:n_pre]
    h_max = M * bias1(w_mv)

    def min_var_given_h(h, w0):
        if h >= h_max - 1e-14:
            return w_mv
        x0 = np.r_[w0, np.abs(Lp @ w0 + Lo) + 1e-9]
        cons = [
            {"type": "ineq", "fun": lambda x: x[n_pre:] - (Lp @ x[:n_pre] + Lo), "jac": lambda x: np.c_[-Lp, np.eye(nu)]},
            {"type": "ineq", "fun": lambda x: x[n_pre:] + (Lp @ x[:n_pre] + Lo), "jac": lambda x: np.c_[Lp, np.eye(nu)]},
            {"type": "ineq", "fun": lambda x: h / M - x[n_pre:].sum(), "jac": lambda x: np.r_[np.zeros(n_pre), -np.ones(nu)][None, :]},
            {"type": "eq", "fun": lambda x: np.array([spre @ x[:n_pre] - rhs_t]), "jac": lambda x: np.r_[spre, np.zeros(nu)][None, :]},
        ]
        fun = lambda x: var(x[:n_pre])  # noqa: E731
        jac = lambda x: np.r_[2 * (Spp @ x[:n_pre] + Spo @ lv), np.zeros(nu)]  # noqa: E731
        r = optimize.minimize(fun, x0, jac=jac, constraints=cons, method="SLSQP",
                              options={"ftol": 1e-15, "maxiter": 500})
        return r.x[:n_pre]

    cache: dict[float, tuple[float, np.ndarray]] = {}

    def half_length(h):
        h = float(h)
        if h in cache:
            return cache[h][0]
        w0 = w_minb if not cache else min(cache.values(), key=lambda v: v[0])[1]
        w = min_var_given_h(h, w0)
        sd = np.sqrt(var(w))
        bias = M * bias1(w)
        chi = sd * folded_normal_quantile(bias / sd, alpha)
        cache[h] = (chi, w)
        return chi

    hs = np.linspace(h_min, h_max, grid)
    vals = [half_length(h) for h in hs]
    k = int(np.argmin(vals))
    lo, hi = hs[max(k - 1, 0)], hs[min(k + 1, len(hs) - 1)]
    if hi > lo:
        optimize.minimize_scalar(half_length, bounds=(lo, hi), method="bounded", options={"xatol": 1e-10 * (1 + h_max)})
    chi, w = min(cache.values(), key=lambda v: v[0])
    c = cvec(w)
    est = float(c @ b)
    return {"lb": est - chi, "ub": est + chi, "estimate": est, "half_length": chi, "bias": M * bias1(w),
            "sd": float(np.sqrt(var(w))), "weights": c}


# ------------------------------------------------------------------------------------------
# Delta^RM: ARP conditional-least-favourable hybrid test with linear nuisance parameters
# ------------------------------------------------------------------------------------------
def _rm_constraints(n_pre: int, n_post: int, mbar: float, s: int, positive: bool) -> np.ndarray:
    """``A`` with ``A delta <= 0`` for the polyhedron of Delta^RM(Mbar) whose largest pre-period
    first difference is ``delta_s - delta_{s-1}`` (s = -(n_pre-1)..0, reference 0 dropped).
    """
    T = n_pre + n_post
    At = np.zeros((T, T + 1))
    for r in range(T):
        At[r, r], At[r, r + 1] = -1.0, 1.0
    vmax = np.zeros(T + 1)
    vmax[n_pre + s - 1], vmax[n_pre + s] = -1.0, 1.0
    if not positive:
        vmax = -vmax
    ub = np.vstack([np.tile(vmax, (n_pre, 1)), np.tile(mbar * vmax, (n_post, 1))])
    A = np.vstack([At - ub, -At - ub])
    A = A[np.einsum("ij,ij->i", A, A) > 1e-10]
    return np.delete(A, n_pre, axis=1)


def _gamma_matrix(l_vec: np.ndarray) -> np.ndarray:
    """Invertible matrix with first row l' (the rest: unit vectors), so tau = Gamma^{-1}(theta, nuisance)."""
    j = int(np.argmax(np.abs(l_vec)))
    rows = [l_vec] + [np.eye(len(l_vec))[i] for i in range(len(l_vec)) if i != j]
    return np.vstack(rows)


def _dual_vertices(sd: np.ndarray, X: np.ndarray) -> np.ndarray:
    """Vertices of {g >= 0, g'sd = 1, g'X = 0} (rows), by enumerating bases."""
    from itertools import combinations
    from math import comb

    k = len(sd)
    W = np.column_stack([sd, X]) if X.size else sd[:, None]
    m = W.shape[1]
    if comb(k, m) > 300_000:
        raise SpecificationError(
            f"relative magnitudes: {comb(k, m)} candidate bases for {k} moments and {m - 1} nuisance parameters "
            "is too many to enumerate; use fewer post periods (e.g. event_study(max_e=...))."
        )
    e1 = np.zeros(m)
    e1[0] = 1.0
    out = []
    for B in combinations(range(k), m):
        WB = W[list(B)]
        if abs(np.linalg.det(WB)) < 1e-12:
            continue
        gB = np.linalg.solve(WB.T, e1)
        if np.all(gB >= -1e-10):
            g = np.zeros(k)
            g[list(B)] = np.clip(gB, 0, None)
            out.append(g)
    if not out:
        return np.zeros((0, k))
    V = np.unique(np.round(np.array(out), 12), axis=0)
    return V


def _arp_hybrid_accept(Y, a1, X, SigY, theta_grid, alpha, kappa, sims, rng) -> np.ndarray:
    """C-LF hybrid test of H0: theta = theta_grid[i] for moments ``Y - a1 theta - X tau <= 0``."""
    from scipy.stats import truncnorm

    sd = np.sqrt(np.clip(np.diag(SigY), 0, None))
    keep = sd > 1e-12
    Y, a1, X, SigY, sd = Y[keep], a1[keep], X[keep], SigY[np.ix_(keep, keep)], sd[keep]
    V = _dual_vertices(sd, X)
    if len(V) == 0:  # the nuisance can satisfy every moment: nothing is rejected
        return np.ones(len(theta_grid), dtype=bool)
    # least-favourable critical value: (1-kappa) quantile of max_v v'xi, xi ~ N(0, SigY)
    xi = rng.multivariate_normal(np.zeros(len(Y)), SigY, size=sims, method="svd")
    lf_cv = float(np.quantile((V @ xi.T).max(axis=0), 1 - kappa))
    mod_size = (alpha - kappa) / (1 - kappa)
    ys = Y[:, None] - np.outer(a1, theta_grid)  # k x G
    vals = V @ ys
    best = vals.argmax(axis=0)
    eta = vals[best, np.arange(len(theta_grid))]
    accept = np.ones(len(theta_grid), dtype=bool)
    accept[eta > lf_cv] = False
    for i in np.where(eta <= lf_cv)[0]:
        g = V[best[i]]
        s2 = float(g @ SigY @ g)
        if s2 < 1e-20:
            accept[i] = not (eta[i] > 0)
            continue
        sB = np.sqrt(s2)
        b = SigY @ g / s2
        a = V @ (ys[:, i] - b * eta[i])
        c = V @ b
        lo = c < 1 - 1e-10
        hi = c > 1 + 1e-10
        vlo = np.max(a[lo] / (1 - c[lo])) if lo.any() else -np.inf
        vup = np.min(a[hi] / (1 - c[hi])) if hi.any() else np.inf
        zlo, zup, stat = vlo / sB, min(vup, lf_cv) / sB, eta[i] / sB
        if not (zlo - 1e-9 <= stat <= zup + 1e-9):
            continue  # R HonestDiD: not rejected when the statistic falls outside its support
        if zup <= zlo:
            continue
        cval = max(0.0, float(truncnorm.ppf(1 - mod_size, zlo, zup)))
        accept[i] = not (stat > cval)
    return accept


def rm_confidence_set(betahat, sigma, n_pre: int, n_post: int, mbar: float, l_vec=None, alpha: float = 0.05,
                      grid_points: int = 1000, post_moments_only: bool = True, sims: int = 1000, seed=0,
                      grid=None) -> dict[str, Any]:
    """Robust confidence set for ``theta = l' tau_post`` under Delta^RM(Mbar) (C-LF hybrid).

    Examples
    --------
    >>> import numpy as np
    >>> betahat = np.array([0.0, 0.0, 0.5, 0.5])  # two pre-period, two post-period coefficients
    >>> cs = rm_confidence_set(betahat, np.eye(4) * 0.01, n_pre=2, n_post=2, mbar=0, grid_points=200, sims=100)
    >>> round(cs["lb"], 2), round(cs["ub"], 2), len(cs["grid"])
    (0.31, 0.69, 200)
    """
    b = np.asarray(betahat, float)
    S = np.asarray(sigma, float)
    if n_pre < 2:
        raise SpecificationError("Delta^RM needs at least two pre-period coefficients.")
    lv = np.zeros(n_post)
    lv[0] = 1.0
    if l_vec is not None:
        lv = np.asarray(l_vec, float)
    if grid is None:
        sd_theta = float(np.sqrt(lv @ S[n_pre:, n_pre:] @ lv))
        maxpre = float(np.max(np.abs(np.diff(np.r_[b[:n_pre], 0.0]))))
        off = float(lv @ b[n_pre:])
        half = mbar * float(np.arange(1, n_post + 1) @ np.abs(lv)) * maxpre + 20 * sd_theta
        grid = np.linspace(off - half, off + half, grid_points)
    grid = np.asarray(grid, float)
    Ginv = np.linalg.inv(_gamma_matrix(lv))
    rng = np.random.default_rng(seed)
    accept = np.zeros(len(grid), dtype=bool)
    kappa = alpha / 10
    for s_ in range(-(n_pre - 1), 1):
        for positive in (True, False):
            A = _rm_constraints(n_pre, n_post, mbar, s_, positive)
            rows = np.ones(len(A), dtype=bool)
            if post_moments_only and n_post > 1:
                rows = np.any(A[:, n_pre:] != 0, axis=1)
            A = A[rows]
            AG = A[:, n_pre:] @ Ginv
            acc = _arp_hybrid_accept(A @ b, AG[:, 0], AG[:, 1:], A @ S @ A.T, grid, alpha, kappa, sims, rng)
            accept |= acc
    if not accept.any():
        return {"lb": np.nan, "ub": np.nan, "grid": grid, "accept": accept}
    return {"lb": float(grid[accept].min()), "ub": float(grid[accept].max()), "grid": grid, "accept": accept}


# ------------------------------------------------------------------------------------------
def event_study_moments(result, reference_period: int = -1):
    """``(betahat, sigma, n_pre, n_post, rel_times)`` from an event-study result.

    Accepts the shared :class:`~analysis.did._common.EventStudyResult` (``event_time`` table and
    ``event_vcov``). Event times must be consecutive; the reference period (default -1) is
    excluded (it is normalised to zero).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.did import event_study
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    >>> d["y"] = 0.5 * ((d["adoption"] > 0) & (d["year"] >= 2013)) + rng.normal(scale=0.01, size=len(d))
    >>> betahat, sigma, n_pre, n_post, rel_times = event_study_moments(event_study(d, "y", "adoption"))
    >>> n_pre, n_post, rel_times.tolist(), sigma.shape
    (2, 3, [-3, -2, 0, 1, 2], (5, 5))
    """
    tab = getattr(result, "event_time", None)
    V = getattr(result, "event_vcov", None)
    if tab is None or V is None:
        raise SpecificationError("honest_did needs an event-study result with an event-time table and its covariance "
                                 "(EventStudyResult with event_vcov), or pass betahat=, sigma=, n_pre=.")
    tab = tab[tab["event_time"] != reference_period]
    tab = tab[np.isfinite(tab["std_error"].to_numpy(dtype=float))].sort_values("event_time")
    rel = tab["event_time"].to_numpy(dtype=int)
    Vm = V.loc[rel, rel].to_numpy(dtype=float)
    pre = rel < reference_period
    post = rel > reference_period
    if not pre.any() or not post.any():
        raise SpecificationError("the event study needs pre-period (before the reference) and post-period estimates.")
    exp = np.r_[np.arange(rel[pre].min(), reference_period), np.arange(reference_period + 1, rel.max() + 1)]
    if len(exp) != len(rel) or np.any(exp != rel):
        raise SpecificationError(f"event times must be consecutive around the reference period {reference_period}; got {rel.tolist()}.")
    return tab["estimate"].to_numpy(dtype=float), Vm, int(pre.sum()), int(post.sum()), rel


REFERENCE = "Rambachan and Roth (2023), Review of Economic Studies 90(5); R HonestDiD"


@dataclass
class HonestDiDResult(TidyResult):
    """Robust confidence sets over a sensitivity grid, with the original CI.

    Attributes
    ----------
    method
        ``"smoothness"`` or ``"relative_magnitude"``.
    table
        One row per M (or Mbar): ``M``, ``lb``, ``ub`` (the robust set; ``to_frame()`` names them
        ``ci_low``/``ci_high``), ``method``, ``Delta``.
    original
        The original CI of theta: ``estimate``, ``std_error`` (also ``se``), ``ci_low``/``ci_high``
        (also ``lb``/``ub``).
    """

    method: str
    table: pd.DataFrame  # M (or Mbar), lb, ub, method
    original: dict

    def to_frame(self) -> pd.DataFrame:
        """Long form: one row per M with ``M``, ``ci_low``, ``ci_high``, ``method``, ``Delta``."""
        return self.table.rename(columns={"lb": "ci_low", "ub": "ci_high"})

    def breakdown(self) -> float:
        """Largest M in the grid whose robust CI excludes zero (NaN if none)."""
        t = self.table
        ok = t[(t["lb"] > 0) | (t["ub"] < 0)]
        return float(ok["M"].max()) if len(ok) else np.nan

    def plot(self, lang: str = "zh", ax=None):
        """Sensitivity plot: original CI and robust CIs against M; returns the Figure."""
        if ax is None:
            fig, ax = new_figure(lang, figsize=(6.0, 3.6))
        else:
            fig = ax.figure
        t = self.table
        Ms = t["M"].to_numpy()
        step = (Ms.max() - Ms.min()) / max(len(Ms) - 1, 1) if len(Ms) > 1 else 1.0
        x0 = Ms.min() - step
        ax.errorbar([x0], [(self.original["lb"] + self.original["ub"]) / 2],
                    yerr=[[(self.original["ub"] - self.original["lb"]) / 2]], fmt="o", color="C3", capsize=3,
                    label=tr("Original CI", "原始置信区间", lang))
        mid = (t["lb"] + t["ub"]) / 2
        ax.errorbar(Ms, mid, yerr=[mid - t["lb"], t["ub"] - mid], fmt="none", color="C0", capsize=3,
                    label=tr("Robust CI", "稳健置信区间", lang) + f" ({self.table['method'].iloc[0]})")
        ax.axhline(0, color="0.3", lw=0.8)
        if self.method == "smoothness":
            ax.set_xlabel(tr("M (smoothness bound on the trend violation)", "M（平滑性约束）", lang))
        else:
            ax.set_xlabel(tr("Mbar (relative-magnitudes bound)", "Mbar（相对幅度约束）", lang))
        ax.set_ylabel(tr("Effect (95% CI)", "效应（95%置信区间）", lang))
        ax.set_title(tr("HonestDiD sensitivity", "HonestDiD 敏感性分析", lang))
        ax.legend(loc="best")
        return fig


def honest_did(
    event_study_result=None,
    method: str = "smoothness",
    m_values: Sequence[float] | None = None,
    alpha: float = 0.05,
    l_vec=None,
    *,
    betahat=None,
    sigma=None,
    n_pre: int | None = None,
    reference_period: int = -1,
    seed=0,
) -> HonestDiDResult:
    """Rambachan-Roth robust confidence sets for ``theta = l' tau_post``.

    Parameters
    ----------
    event_study_result : EventStudyResult with ``event_vcov`` (e.g. from ``sun_abraham``,
        ``imputation``, ``event_study``, or ``callaway_santanna(...).event_study()`` with
        ``base_period="universal"``). Alternatively pass ``betahat``, ``sigma``, ``n_pre``.
    method : ``"smoothness"`` (Delta^SD, FLCI) or ``"relative_magnitude"`` (Delta^RM, C-LF hybrid);
        see the module docstring.
    m_values : grid of M (smoothness) or Mbar (relative magnitudes).
    l_vec : weights on the post periods (default: the first post period, as HonestDiD).
    seed
        Seed of the least-favourable critical-value simulation (relative magnitudes).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    >>> d["treat"] = ((d["adoption"] > 0) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> from analysis.did import event_study
    >>> res = honest_did(event_study(d, "y", "adoption"), method="smoothness", m_values=[0, 0.01])
    >>> res.table["M"].tolist(), np.round(res.table[["lb", "ub"]], 2).values.tolist()
    ([0.0, 0.01], [[0.48, 0.5], [0.46, 0.51]])
    """
    check_choice("method", method, ("smoothness", "relative_magnitude"))
    if event_study_result is not None:
        b, S, npre, npost, rel = event_study_moments(event_study_result, reference_period)
    else:
        if betahat is None or sigma is None or n_pre is None:
            raise SpecificationError("pass an event-study result, or betahat=, sigma= and n_pre=.")
        b, S = np.asarray(betahat, float), np.asarray(sigma, float)
        npre = int(n_pre)
        npost = len(b) - npre
    lv = np.zeros(npost)
    lv[0] = 1.0
    if l_vec is not None:
        lv = np.asarray(l_vec, dtype=float)
        if len(lv) != npost:
            raise SpecificationError(f"l_vec has {len(lv)} elements; there are {npost} post periods.")
    z = stats.norm.ppf(1 - alpha / 2)
    est0 = float(lv @ b[npre:])
    sd0 = float(np.sqrt(lv @ S[npre:, npre:] @ lv))
    original = {"estimate": est0, "std_error": sd0, "ci_low": est0 - z * sd0, "ci_high": est0 + z * sd0,
                "se": sd0, "lb": est0 - z * sd0, "ub": est0 + z * sd0}  # se/lb/ub: deprecated spellings
    rows = []
    if method == "smoothness":
        if m_values is None:
            m_values = np.linspace(0, 2 * sd0, 6)
        for M in m_values:
            r = flci(b, S, npre, npost, float(M), lv, alpha)
            rows.append({"M": float(M), "lb": r["lb"], "ub": r["ub"], "method": "FLCI", "Delta": "DeltaSD"})
        engine = "CountyFusion (FLCI, Rambachan-Roth 2023 Section 4.1)"
    else:
        if m_values is None:
            m_values = [0.5, 1.0, 1.5, 2.0]
        for M in m_values:
            r = rm_confidence_set(b, S, npre, npost, float(M), lv, alpha, seed=seed)
            rows.append({"M": float(M), "lb": r["lb"], "ub": r["ub"], "method": "C-LF", "Delta": "DeltaRM"})
        engine = ("CountyFusion (ARP conditional-least-favourable hybrid, union over the Delta^RM polyhedra, "
                  "1,000-point grid, Rambachan-Roth 2023 Section 3)")
    es_rows = getattr(event_study_result, "rows", None)
    return HonestDiDResult(
        method=method,
        table=pd.DataFrame(rows),
        original=original,
        settings={"alpha": alpha, "l_vec": lv.tolist(), "n_pre": npre, "n_post": npost, "engine": engine,
                  "reference": REFERENCE},
        model=f"HonestDiD sensitivity ({method})",
        rows=es_rows if es_rows is not None else RowReport(len(b), len(b)),
        reference=REFERENCE,
        seed=seed if isinstance(seed, (int, np.integer)) and method == "relative_magnitude" else None,
    )
