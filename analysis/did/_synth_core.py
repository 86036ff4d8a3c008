"""Matrix core shared by :mod:`analysis.did.synthetic_did` and :mod:`analysis.did.synthetic_control`.

Everything here works on an N x T outcome matrix ``Y`` whose first ``N0`` rows are the control
units and first ``T0`` columns the pre-treatment periods (a treated *block*), exactly the layout of
the reference R package ``synthdid`` (Arkhangelsky, Athey, Hirshberg, Imbens and Wager 2021,
American Economic Review 111(12): 4088-4118; ``synthdid_estimate``, ``sc_estimate``,
``did_estimate``, ``vcov(method = "placebo" | "jackknife" | "bootstrap")``).

The unit weights omega and time weights lambda solve penalised least-squares problems on the simplex
(paper eqs. 2.2-2.5) by Frank-Wolfe, with the package's defaults: the noise level is the standard
deviation of the first differences of the control units' pre-period outcomes; the ridge penalty is
zeta_omega = (N1 T1)^(1/4) * noise for omega and 1e-6 * noise for lambda; 100 Frank-Wolfe iterations,
then the weights at or below max/4 are set to zero ("sparsify") and the solver is restarted from them
until the objective falls by less than (1e-5 * noise)^2 per iteration or 10,000 iterations.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable

import numpy as np

__all__ = [
    "SynthOptions",
    "SynthFit",
    "fw_weights",
    "sparsify",
    "collapsed_form",
    "noise_level",
    "fit_block",
    "sdid_options",
    "sc_options",
    "did_options",
    "placebo_draws",
    "jackknife_se",
    "bootstrap_draws",
]


@dataclass(frozen=True)
class SynthOptions:
    """Options of one estimator (fixed across placebo / jackknife / bootstrap refits, as in R)."""

    zeta_omega: float
    zeta_lambda: float
    omega_intercept: bool = True
    lambda_intercept: bool = True
    update_omega: bool = True
    update_lambda: bool = True
    min_decrease: float = 1e-5
    max_iter: int = 10_000
    max_iter_pre_sparsify: int = 100
    sparsify: bool = True


@dataclass
class SynthFit:
    """One block fit: the estimate and the weights that produced it."""

    tau: float
    omega: np.ndarray
    lambda_: np.ndarray
    options: SynthOptions
    n0: int
    t0: int
    objective_omega: float = np.nan
    objective_lambda: float = np.nan
    extra: dict = field(default_factory=dict)


def fw_step(A: np.ndarray, x: np.ndarray, b: np.ndarray, eta: float) -> np.ndarray:
    """One Frank-Wolfe step with exact line search for min ||Ax - b||^2 + eta ||x||^2 on the simplex."""
    Ax = A @ x
    half_grad = (Ax - b) @ A + eta * x
    i = int(np.argmin(half_grad))
    d_x = -x.copy()
    d_x[i] = 1.0 - x[i]
    if np.all(d_x == 0):
        return x
    d_err = A[:, i] - Ax
    step = -(half_grad @ d_x) / (d_err @ d_err + eta * (d_x @ d_x))
    step = min(1.0, max(0.0, step))
    return x + step * d_x


def fw_weights(
    Y: np.ndarray,
    zeta: float,
    intercept: bool = True,
    start: np.ndarray | None = None,
    min_decrease: float = 1e-3,
    max_iter: int = 1000,
) -> tuple[np.ndarray, float]:
    """Frank-Wolfe solution of the synthdid weight problem (R ``sc.weight.fw``).

    ``Y`` is rows x (k + 1): the last column is the target, the first k columns the donors. Minimises
    zeta^2 ||w||^2 + (1/rows) ||A w - b||^2 over the simplex, with A, b column-demeaned when
    ``intercept`` (an intercept in the fit). Returns the weights and the final objective value.
    """
    rows, cols = Y.shape
    k = cols - 1
    w = np.full(k, 1.0 / k) if start is None else np.asarray(start, dtype=float).copy()
    if intercept:
        Y = Y - Y.mean(axis=0)
    A, b = Y[:, :k], Y[:, k]
    eta = rows * zeta**2
    z2 = zeta**2
    # Same iterates as R's fw.step, computed from A'A so that one step costs O(k), not O(rows k):
    # half-gradient A'(Aw - b) + eta w = Gw - c + eta w; the scalars w'Gw, c'w, w'w are updated in place.
    G = A.T @ A
    c = A.T @ b
    bb = float(b @ b)
    Gw = G @ w
    wGw, cw, ww = float(w @ Gw), float(c @ w), float(w @ w)
    diagG = np.diag(G).copy()
    prev = cur = np.inf
    t = 0
    while t < max_iter and (t < 2 or prev - cur > min_decrease**2):
        t += 1
        hg = Gw - c + eta * w
        i = int(np.argmin(hg))
        wi = w[i]
        hg_dx = hg[i] - (wGw - cw + eta * ww)          # half_grad . (e_i - w)
        dx2 = 1.0 - 2.0 * wi + ww                        # ||e_i - w||^2
        if dx2 <= 0.0:                                   # w is already the vertex e_i
            step = 0.0
        else:
            derr2 = diagG[i] - 2.0 * Gw[i] + wGw         # ||A_i - A w||^2
            step = -hg_dx / (derr2 + eta * dx2)
            step = min(1.0, max(0.0, step))
        if step > 0.0:
            s1 = 1.0 - step
            wGw = s1 * s1 * wGw + 2.0 * step * s1 * Gw[i] + step * step * diagG[i]
            ww = s1 * s1 * ww + 2.0 * step * s1 * wi + step * step
            cw = s1 * cw + step * c[i]
            Gw *= s1
            Gw += step * G[:, i]
            w *= s1
            w[i] += step
        prev, cur = cur, z2 * ww + (wGw - 2.0 * cw + bb) / rows
    return w, cur


def sparsify(v: np.ndarray) -> np.ndarray:
    """Zero the weights at or below max/4 and renormalise (R ``sparsify_function``)."""
    v = v.copy()
    v[v <= v.max() / 4] = 0.0
    return v / v.sum()


def sum_normalize(x: np.ndarray) -> np.ndarray:
    """X / sum(x), or uniform weights when the sum is zero (R ``sum_normalize``)."""
    s = x.sum()
    return x / s if s != 0 else np.full(len(x), 1.0 / len(x))


def collapsed_form(Y: np.ndarray, n0: int, t0: int) -> np.ndarray:
    """(N0+1) x (T0+1) matrix: controls and the treated mean; pre periods and the post mean."""
    top = np.column_stack([Y[:n0, :t0], Y[:n0, t0:].mean(axis=1)])
    bot = np.concatenate([Y[n0:, :t0].mean(axis=0), [Y[n0:, t0:].mean()]])
    return np.vstack([top, bot])


def noise_level(Y: np.ndarray, n0: int, t0: int) -> float:
    """Sample SD of the first differences of the control units' pre-period outcomes."""
    if t0 < 2:
        return np.nan
    d = np.diff(Y[:n0, :t0], axis=1)
    return float(np.std(d, ddof=1))


def sdid_options(Y: np.ndarray, n0: int, t0: int) -> SynthOptions:
    """Default options of R ``synthdid_estimate``."""
    n, t = Y.shape
    noise = noise_level(Y, n0, t0)
    eta_omega = ((n - n0) * (t - t0)) ** 0.25
    return SynthOptions(
        zeta_omega=eta_omega * noise,
        zeta_lambda=1e-6 * noise,
        min_decrease=1e-5 * noise,
    )


def sc_options(Y: np.ndarray, n0: int, t0: int) -> SynthOptions:
    """Options of R ``sc_estimate``: no intercept, ridge 1e-6 * noise, lambda fixed at zero."""
    noise = noise_level(Y, n0, t0)
    return SynthOptions(
        zeta_omega=1e-6 * noise,
        zeta_lambda=1e-6 * noise,
        omega_intercept=False,
        update_lambda=False,
        min_decrease=1e-5 * noise,
    )


def did_options(Y: np.ndarray, n0: int, t0: int) -> SynthOptions:
    """Options of R ``did_estimate``: uniform weights, nothing optimised."""
    noise = noise_level(Y, n0, t0)
    return SynthOptions(
        zeta_omega=noise, zeta_lambda=1e-6 * noise, update_omega=False, update_lambda=False,
        min_decrease=1e-5 * noise,
    )


def _solve(Y: np.ndarray, zeta: float, intercept: bool, start, opt: SynthOptions):
    w, val = fw_weights(Y, zeta, intercept, start, opt.min_decrease, opt.max_iter_pre_sparsify)
    if opt.sparsify:
        w, val = fw_weights(Y, zeta, intercept, sparsify(w), opt.min_decrease, opt.max_iter)
    return w, val


def fit_block(
    Y: np.ndarray,
    n0: int,
    t0: int,
    opt: SynthOptions,
    omega: np.ndarray | None = None,
    lambda_: np.ndarray | None = None,
) -> SynthFit:
    """Estimate tau on a block design with given options (R ``synthdid_estimate`` without covariates).

    ``omega`` / ``lambda_`` are starting values when the option says update, fixed weights otherwise;
    ``None`` means uniform starting values (R's default). ``lambda_`` for ``sc_options`` defaults to
    zeros (no time weighting).
    """
    n, t = Y.shape
    Yc = collapsed_form(Y, n0, t0)
    obj_l = obj_o = np.nan
    if opt.update_lambda:
        lambda_, obj_l = _solve(Yc[:n0, :], opt.zeta_lambda, opt.lambda_intercept, lambda_, opt)
    elif lambda_ is None:
        lambda_ = np.full(t0, 1.0 / t0) if opt.update_omega is False else np.zeros(t0)
    if opt.update_omega:
        omega, obj_o = _solve(Yc[:, :t0].T, opt.zeta_omega, opt.omega_intercept, omega, opt)
    elif omega is None:
        omega = np.full(n0, 1.0 / n0)
    n1, t1 = n - n0, t - t0
    row = np.concatenate([-omega, np.full(n1, 1.0 / n1)])
    col = np.concatenate([-lambda_, np.full(t1, 1.0 / t1)])
    tau = float(row @ Y @ col)
    return SynthFit(tau, np.asarray(omega, float), np.asarray(lambda_, float), opt, n0, t0, obj_o, obj_l)


def placebo_draws(fit: SynthFit, Y: np.ndarray, replications: int, rng: np.random.Generator) -> np.ndarray:
    """Placebo estimates (paper Algorithm 4; R ``placebo_se``).

    Each draw permutes the control units, treats the last N1 of them as treated, keeps the original
    options and starts from the original weights (omega restricted to the remaining controls and
    renormalised), and re-estimates.
    """
    n0, t0 = fit.n0, fit.t0
    n1 = Y.shape[0] - n0
    out = np.empty(replications)
    for r in range(replications):
        ind = rng.permutation(n0)
        new_n0 = n0 - n1
        om = sum_normalize(fit.omega[ind[:new_n0]])
        out[r] = fit_block(Y[ind], new_n0, t0, fit.options, om, fit.lambda_).tau
    return out


def all_placebos(fit: SynthFit, Y: np.ndarray) -> np.ndarray:
    """Placebo estimate for each control unit in turn (only for N1 = 1): the exact placebo population."""
    n0, t0 = fit.n0, fit.t0
    out = np.empty(n0)
    for j in range(n0):
        ind = np.array([i for i in range(n0) if i != j] + [j])
        om = sum_normalize(fit.omega[ind[:-1]])
        out[j] = fit_block(Y[ind], n0 - 1, t0, fit.options, om, fit.lambda_).tau
    return out


def unit_contrasts(fit: SynthFit, Y: np.ndarray) -> np.ndarray:
    """d_i = mean of unit i's post-period outcomes minus its lambda-weighted pre-period outcomes.

    With weights held fixed, tau = mean over treated of d_i - sum over controls of omega_i d_i.
    """
    return Y[:, fit.t0:].mean(axis=1) - Y[:, :fit.t0] @ fit.lambda_


def leave_one_out(fit: SynthFit, Y: np.ndarray) -> np.ndarray:
    """Tau with each unit left out in turn and the weights held fixed (omega restricted to the
    remaining controls and renormalised, uniform if nothing is left; R ``jackknife_se``'s theta).

    Closed form of the refit: dropping control j gives mean_tr(d) - (omega'd - omega_j d_j)/(1 - omega_j);
    dropping treated unit k gives (sum_tr d - d_k)/(N1 - 1) - omega'd.
    """
    n = Y.shape[0]
    n0 = fit.n0
    d = unit_contrasts(fit, Y)
    dc, dt = d[:n0], d[n0:]
    om = fit.omega
    od = float(om @ dc)
    out = np.empty(n)
    rest = 1.0 - om
    with np.errstate(invalid="ignore", divide="ignore"):
        ctrl = (od - om * dc) / rest
    zero = rest <= 1e-15
    if zero.any():   # the dropped control carried all the weight: uniform over the others
        ctrl[zero] = (dc.sum() - dc[zero]) / (n0 - 1)
    out[:n0] = dt.mean() - ctrl
    n1 = n - n0
    out[n0:] = ((dt.sum() - dt) / (n1 - 1) if n1 > 1 else np.nan) - od
    return out


def jackknife_se(fit: SynthFit, Y: np.ndarray) -> tuple[float, str]:
    """Jackknife SE with the weights held fixed (paper Algorithm 3; R ``jackknife_se``).

    Returns (se, reason); se is NaN with a reason when undefined (one treated unit, or one control
    carrying all the weight).
    """
    n = Y.shape[0]
    if fit.n0 == n - 1:
        return np.nan, "jackknife undefined with a single treated unit (use placebo inference)"
    if np.sum(fit.omega != 0) == 1:
        return np.nan, "jackknife undefined: a single control unit carries all the weight"
    u = leave_one_out(fit, Y)
    return float(np.sqrt(((n - 1) / n) * (n - 1) * np.var(u, ddof=1))), ""


def jackknife_refit(fit: SynthFit, Y: np.ndarray) -> np.ndarray:
    """Leave-one-out estimates by explicit refits with fixed weights (the R loop; used in tests)."""
    n = Y.shape[0]
    n0 = fit.n0
    fixed = replace(fit.options, update_omega=False, update_lambda=False)
    u = np.empty(n)
    for i in range(n):
        keep = np.delete(np.arange(n), i)
        k0 = int(np.sum(keep < n0))
        om = sum_normalize(fit.omega[keep[keep < n0]])
        u[i] = fit_block(Y[keep], k0, fit.t0, fixed, om, fit.lambda_).tau
    return u


def bootstrap_draws(fit: SynthFit, Y: np.ndarray, replications: int, rng: np.random.Generator) -> np.ndarray:
    """Unit bootstrap (paper Algorithm 2; R ``bootstrap_se``): draws without both groups are redrawn."""
    n = Y.shape[0]
    n0 = fit.n0
    out = []
    while len(out) < replications:
        ind = np.sort(rng.integers(0, n, n))
        k0 = int(np.sum(ind < n0))
        if k0 == 0 or k0 == n:
            continue
        om = sum_normalize(fit.omega[ind[ind < n0]])
        out.append(fit_block(Y[ind], k0, fit.t0, fit.options, om, fit.lambda_).tau)
    return np.asarray(out)


def replication_se(draws: np.ndarray) -> float:
    """sqrt((B-1)/B) * sd(draws), the R package's scaling."""
    b = len(draws)
    return float(np.sqrt((b - 1) / b) * np.std(draws, ddof=1))


_ = Callable  # typing helper kept for readers
