"""The three 2x2 panel DiD estimators of Sant'Anna and Zhao (2020), as R ``DRDID``.

``_two_by_two(dy, d, x, w, method)`` returns the ATT and its influence function for
``method = "dr"`` (``drdid_panel``, locally efficient doubly robust), ``"ipw"``
(``std_ipw_did_panel``) or ``"reg"`` (``reg_did_panel``).

Reference: Sant'Anna, P. H. C. and Zhao, J. (2020), "Doubly robust difference-in-differences
estimators", *Journal of Econometrics* 219(1), 101-122.
"""
from __future__ import annotations

import numpy as np

__all__: list[str] = []


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

