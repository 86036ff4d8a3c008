"""Covariance estimators for fixed-effects regressions, with Stata reghdfe's small-sample rules.

The point estimates come from pyfixest; the covariance matrices are computed here from the
demeaned regressors and residuals, so that the small-sample factor is exactly the one we state:

- ``"cluster"`` (CRV1, one- or multi-way): ``V = q · A (Σ_g s_g s_g') A`` with ``A = (X̃'X̃)⁻¹``,
  ``s_g`` the cluster score sums and ``q = G/(G-1) · (N-1)/(N-K)``, ``G`` the smallest number of
  clusters, ``K = rank(X̃) + df_a``; ``df_a`` counts the absorbed fixed-effect parameters, with FEs
  nested in a cluster variable counted as fully redundant (reghdfe's ``dof(all)`` default, as in
  ``reghdfe_common.mata::reghdfe_cluster``). When every FE is nested (``df_a = 0``), reghdfe adds
  one back for the constant: ``(N-1)/(N-1-K)``, matching ``xtreg, fe vce(cluster)``. Multi-way
  clustering uses the inclusion-exclusion sum of Cameron, Gelbach and Miller (2011).
- ``"hetero"`` (HC1): ``q = N/(N-K)`` (reghdfe ``vce(robust)``).
- ``"iid"``: ``σ² = RSS/(N-K)``.
- ``"driscoll-kraay"``: Driscoll and Kraay (1998), Bartlett kernel on the cross-sectional sums of
  the scores, lag ``m = floor(4 (T/100)^(2/9))`` by default (the rule of Stata ``xtscc``, Hoechle
  2007), ``q = (N-1)/(N-K)``, t-distribution with ``T-1`` degrees of freedom.

Absorbed degrees of freedom (``df_a``) follow reghdfe: the first FE counts all its levels, the
second loses one level per connected component of the bipartite graph between the first two FEs
(exact for two FEs), every further FE loses one level (conservative), and an FE nested in any
cluster variable counts zero.
"""
from __future__ import annotations

from itertools import combinations
from typing import Sequence

import numpy as np
import pandas as pd
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

__all__ = [
    "VCOV_TYPES",
    "dk_default_lag",
    "is_nested",
    "absorbed_dof",
    "cluster_meat",
    "compute_vcov",
]

VCOV_TYPES = ("cluster", "hetero", "iid", "driscoll-kraay")


def dk_default_lag(n_periods: int) -> int:
    """Newey-West plug-in lag ``floor(4 (T/100)^(2/9))`` used by Stata ``xtscc`` (Hoechle 2007)."""
    return int(np.floor(4 * (n_periods / 100.0) ** (2.0 / 9.0)))


def is_nested(inner: np.ndarray, outer: np.ndarray) -> bool:
    """True if every level of integer codes ``inner`` lies within one level of ``outer``."""
    inner = np.asarray(inner, dtype=np.int64)
    outer = np.asarray(outer, dtype=np.int64)
    if inner.size == 0:
        return True
    pairs = np.unique(inner * (int(outer.max()) + 1) + outer)
    return pairs.size == np.unique(inner).size


def _n_components(a: np.ndarray, b: np.ndarray) -> int:
    # re-code so that levels absent from this sample do not count as isolated components
    a = pd.factorize(np.asarray(a))[0]
    b = pd.factorize(np.asarray(b))[0]
    na, nb = int(a.max()) + 1, int(b.max()) + 1
    graph = coo_matrix((np.ones(a.size), (a, b + na)), shape=(na + nb, na + nb))
    n, _ = connected_components(graph, directed=False)
    return int(n)


def absorbed_dof(
    fe_codes: Sequence[np.ndarray], fe_names: Sequence[str], cluster_codes: Sequence[np.ndarray] = ()
) -> pd.DataFrame:
    """Reghdfe's table of absorbed degrees of freedom.

    Returns one row per FE: ``categories``, ``redundant``, ``num_coefs`` (= categories - redundant)
    and ``nested`` (nested in a cluster variable, hence counted as fully redundant).
    """
    rows = []
    for j, (codes, name) in enumerate(zip(fe_codes, fe_names)):
        cats = int(np.unique(codes).size)
        nested = any(is_nested(codes, cl) for cl in cluster_codes)
        if nested:
            red = cats
        elif j == 0:
            red = 0
        elif j == 1:
            red = _n_components(np.asarray(fe_codes[0]), np.asarray(codes))
        else:
            red = 1
        rows.append({"fe": name, "categories": cats, "redundant": red, "num_coefs": cats - red,
                     "nested": nested})
    return pd.DataFrame(rows, columns=["fe", "categories", "redundant", "num_coefs", "nested"])


def cluster_meat(scores: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """``Σ_g s_g s_g'`` with ``s_g`` the column sums of ``scores`` within cluster ``g``."""
    codes = pd.factorize(codes)[0] if codes.dtype.kind not in "iu" else codes
    k = scores.shape[1]
    g = int(codes.max()) + 1
    sums = np.zeros((g, k))
    np.add.at(sums, codes, scores)
    return sums.T @ sums


def _combine_codes(arrays: Sequence[np.ndarray]) -> np.ndarray:
    frame = pd.DataFrame({i: a for i, a in enumerate(arrays)})
    return frame.groupby(list(frame.columns), sort=False).ngroup().to_numpy()


def compute_vcov(
    kind: str,
    X: np.ndarray,
    resid: np.ndarray,
    *,
    rank: int,
    df_a_nonnested: int,
    df_a_clustered: int | None = None,
    clusters: Sequence[np.ndarray] = (),
    cluster_names: Sequence[str] = (),
    time_codes: np.ndarray | None = None,
    lag: int | None = None,
    has_fe: bool = True,
) -> tuple[np.ndarray, float | None, dict]:
    """Covariance of the coefficients of a demeaned (and weight-scaled) regression.

    Parameters
    ----------
    kind
        One of :data:`VCOV_TYPES`.
    X, resid
        Demeaned regressors (N x k) and residuals, already multiplied by ``sqrt(weights)``.
    rank
        Number of estimated slope coefficients (including the intercept when there are no FEs).
    df_a_nonnested
        Absorbed FE parameters counting every FE (used by iid, hetero and Driscoll-Kraay).
    df_a_clustered
        Absorbed FE parameters with FEs nested in a cluster variable counted as zero.

    Returns
    -------
    (V, df_t, info)
        ``df_t`` is the t-distribution's degrees of freedom; ``info`` holds N, K, G, the factor.
    """
    N = X.shape[0]
    bread = np.linalg.pinv(X.T @ X)
    scores = X * resid[:, None]
    info: dict = {"N": N}
    if kind == "iid":
        K = rank + df_a_nonnested
        sigma2 = float(resid @ resid) / (N - K)
        info.update(K=K, factor=1.0, sigma2=sigma2)
        return sigma2 * bread, float(N - K), info
    if kind == "hetero":
        K = rank + df_a_nonnested
        q = N / (N - K)
        info.update(K=K, factor=q)
        return q * bread @ (scores.T @ scores) @ bread, float(N - K), info
    if kind == "driscoll-kraay":
        if time_codes is None:
            raise ValueError("Driscoll-Kraay needs the time codes")
        tcodes = pd.factorize(time_codes, sort=True)[0]
        T = int(tcodes.max()) + 1
        m = dk_default_lag(T) if lag is None else int(lag)
        h = np.zeros((T, X.shape[1]))
        np.add.at(h, tcodes, scores)
        S = h.T @ h
        for j in range(1, m + 1):
            w = 1.0 - j / (m + 1.0)
            gamma = h[j:].T @ h[:-j]
            S += w * (gamma + gamma.T)
        K = rank + df_a_nonnested
        q = (N - 1) / (N - K)
        info.update(K=K, factor=q, lag=m, T=T)
        return q * bread @ S @ bread, float(T - 1), info
    if kind == "cluster":
        if not clusters:
            raise ValueError("cluster covariance needs at least one cluster variable")
        df_a = df_a_nonnested if df_a_clustered is None else df_a_clustered
        K = rank + df_a
        codes = [pd.factorize(c)[0] for c in clusters]
        G_list = [int(c.max()) + 1 for c in codes]
        meat = np.zeros((X.shape[1], X.shape[1]))
        for r in range(1, len(codes) + 1):
            sign = 1.0 if r % 2 else -1.0
            for combo in combinations(range(len(codes)), r):
                cc = codes[combo[0]] if r == 1 else _combine_codes([codes[i] for i in combo])
                meat += sign * cluster_meat(scores, cc)
        G = min(G_list)
        nested_adj = 1 if (has_fe and df_a == 0) else 0
        q = (N - 1) / (N - nested_adj - K) * G / (G - 1)
        info.update(K=K, factor=q, G=G, G_list=dict(zip(cluster_names, G_list)), nested_adj=nested_adj)
        V = q * bread @ meat @ bread
        info["psd_fix"] = False
        if len(codes) > 1:  # Cameron-Gelbach-Miller (2011) fix, as reghdfe_fix_psd
            V = (V + V.T) / 2
            lam, U = np.linalg.eigh(V)
            if lam.min() < 0:
                V = (U * np.clip(lam, 0, None)) @ U.T
                info["psd_fix"] = True
        return V, float(min(G - 1, N - K)), info
    raise ValueError(f"unknown covariance type {kind!r}")
