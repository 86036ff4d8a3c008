"""Fixed-effects SAC panel (spatial lag and spatial error, one W) by maximum likelihood.

    y_t = rho W y_t + X_t beta + mu + alpha_t + u_t,   u_t = lambda W u_t + e_t

Elhorst (2014, ch. 3); Belotti, Hughes and Piano Mortari (2017) xsmle ``model(sac)`` with
``wmat = emat``; R ``splm::spml(lag=TRUE, spatial.error="b")``. With the data demeaned (spatial lags
formed from the raw data first), e(rho, lambda, beta) = (y~ - rho Wy~) - lambda (Wy~ - rho WWy~)
- (X~ - lambda WX~) beta; beta is concentrated out by least squares on the lambda-filtered data and

    LogL_c(rho, lambda) = -(NT/2) ln(2 pi e'e/NT) - NT/2 + T sum ln(1 - rho w) + T sum ln(1 - lambda w)

is maximised over the box of eigenvalue bounds with L-BFGS-B (xsmle loosens its tolerances for SAC
for the same reason: the surface is flat along a ridge when rho and lambda trade off). The variance
is the inverse of the numerical (central-difference) Hessian of the full log-likelihood in
(beta, rho, lambda, sigma2), i.e. xsmle's ``vce(oim)``. Effects are the SAR ones,
S_k = (I - rho W)^-1 beta_k, with SEs from parameter draws. No Lee-Yu correction is offered for
SAC (neither Elhorst's code nor xsmle has one); ``lee_yu=True`` is refused with that reason.
"""
from __future__ import annotations

import numpy as np
from scipy.optimize import minimize

__all__ = ["fit_sac", "sac_loglik"]


def _beta(yd, yld, yll, Z, ZL, rho, lam):
    ys = (yd - rho * yld) - lam * (yld - rho * yll)
    Zs = Z - lam * ZL
    beta = np.linalg.lstsq(Zs, ys, rcond=None)[0]
    e = ys - Zs @ beta
    return beta, e


def _logdet(r, ev):
    return float(np.sum(np.log(np.abs(1.0 - r * ev))))


def sac_loglik(theta, yd, yld, yll, Z, ZL, ev, T):
    """Full log-likelihood at theta = (beta..., rho, lambda, sigma2).

    Examples
    --------
    At the estimates of :func:`fit_sac` it is the maximised log-likelihood, and lower elsewhere:

    >>> import numpy as np
    >>> from analysis.spatial import weights_from_matrix
    >>> from analysis.spatial.sac_panel import fit_sac, sac_loglik
    >>> r, c = np.divmod(np.arange(36), 6)  # a 6 x 6 lattice with rook neighbours
    >>> A = (np.abs(r[:, None] - r) + np.abs(c[:, None] - c) == 1).astype(float)
    >>> w = weights_from_matrix(A, range(36))
    >>> M = np.linalg.inv(np.eye(36) - 0.3 * w.full())  # (I - 0.3 W)^-1 for both the lag and the error
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(10, 36))  # 10 periods x 36 units
    >>> y = np.stack([M @ (x[t] + M @ rng.normal(scale=0.1, size=36)) for t in range(10)])
    >>> dm = lambda a: (a - a.mean(0) - a.mean(1, keepdims=True) + a.mean()).ravel()  # two-way demeaning
    >>> Wt = w.full().T  # rows of y are periods: the spatial lag of y is y @ W'
    >>> data = (dm(y), dm(y @ Wt), dm(y @ Wt @ Wt), dm(x)[:, None], dm(x @ Wt)[:, None], w.eigenvalues(), 10)
    >>> beta, rho, lam, sigma2, loglik, cov = fit_sac(*data, bounds=(-0.99, 0.99))
    >>> theta = np.r_[beta, rho, lam, sigma2]
    >>> bool(np.isclose(sac_loglik(theta, *data), loglik)), bool(sac_loglik(theta * 0.9, *data) < loglik)
    (True, True)
    """
    p = Z.shape[1]
    beta, rho, lam, s2 = theta[:p], theta[p], theta[p + 1], theta[p + 2]
    e = (yd - rho * yld) - lam * (yld - rho * yll) - (Z - lam * ZL) @ beta
    n = len(yd)
    return -0.5 * n * np.log(2 * np.pi * s2) - (e @ e) / (2 * s2) + T * (_logdet(rho, ev) + _logdet(lam, ev))


def fit_sac(yd, yld, yll, Z, ZL, ev, T, bounds, tol=1e-10):
    """Concentrated ML; returns (beta, rho, lambda, sigma2, loglik, cov) with cov = inverse numerical OIM.

    Examples
    --------
    A SAC panel with beta = 1 and rho = lambda = 0.3, two-way demeaned (lags formed first);
    lambda is the least precise (0.22, SE 0.07):

    >>> import numpy as np
    >>> from analysis.spatial import weights_from_matrix
    >>> from analysis.spatial.sac_panel import fit_sac, sac_loglik
    >>> r, c = np.divmod(np.arange(36), 6)  # a 6 x 6 lattice with rook neighbours
    >>> A = (np.abs(r[:, None] - r) + np.abs(c[:, None] - c) == 1).astype(float)
    >>> w = weights_from_matrix(A, range(36))
    >>> M = np.linalg.inv(np.eye(36) - 0.3 * w.full())  # (I - 0.3 W)^-1 for both the lag and the error
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(10, 36))  # 10 periods x 36 units
    >>> y = np.stack([M @ (x[t] + M @ rng.normal(scale=0.1, size=36)) for t in range(10)])
    >>> dm = lambda a: (a - a.mean(0) - a.mean(1, keepdims=True) + a.mean()).ravel()  # two-way demeaning
    >>> Wt = w.full().T  # rows of y are periods: the spatial lag of y is y @ W'
    >>> data = (dm(y), dm(y @ Wt), dm(y @ Wt @ Wt), dm(x)[:, None], dm(x @ Wt)[:, None], w.eigenvalues(), 10)
    >>> beta, rho, lam, sigma2, loglik, cov = fit_sac(*data, bounds=(-0.99, 0.99))
    >>> round(float(beta[0]), 2), round(rho, 2), round(lam, 2), round(float(np.sqrt(cov[2, 2])), 2)
    (1.0, 0.3, 0.22, 0.07)
    """
    n = len(yd)

    def negll(v):
        rho, lam = v
        _, e = _beta(yd, yld, yll, Z, ZL, rho, lam)
        return 0.5 * n * np.log(2 * np.pi * (e @ e) / n) + 0.5 * n - T * (_logdet(rho, ev) + _logdet(lam, ev))

    lo, hi = bounds
    best = None
    for start in ([0.0, 0.0], [0.4, 0.0], [0.0, 0.4], [0.4, 0.4], [-0.3, 0.3], [0.3, -0.3]):
        r = minimize(negll, np.array(start), method="L-BFGS-B", bounds=[(lo, hi), (lo, hi)],
                     options={"ftol": tol, "gtol": 1e-9, "maxiter": 2000})
        if best is None or r.fun < best.fun:
            best = r
    rho, lam = map(float, best.x)
    beta, e = _beta(yd, yld, yll, Z, ZL, rho, lam)
    s2 = float(e @ e) / n
    theta = np.r_[beta, rho, lam, s2]
    H = _num_hessian(lambda t: sac_loglik(t, yd, yld, yll, Z, ZL, ev, T), theta)
    cov = np.linalg.inv(-H)
    return beta, rho, lam, s2, float(sac_loglik(theta, yd, yld, yll, Z, ZL, ev, T)), cov


def _num_hessian(f, x):
    """Central-difference Hessian with steps scaled to each parameter."""
    k = len(x)
    h = 1e-4 * np.maximum(np.abs(x), 1e-2)
    H = np.empty((k, k))
    for i in range(k):
        for j in range(i, k):
            ei, ej = np.zeros(k), np.zeros(k)
            ei[i], ej[j] = h[i], h[j]
            v = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h[i] * h[j])
            H[i, j] = H[j, i] = v
    return H
