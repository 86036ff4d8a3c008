"""Mutation-testing follow-up for analysis.regression.vcov: each covariance against its definition.

The reference values are computed here by explicit loops over clusters / periods (no shared code
with the package) or taken from statsmodels (``OLS.fit(cov_type=...)``), on small simulated data.
Tolerances: 1e-10 relative for two computations of the same matrix product in floating point
(differences are round-off of order 1e-15 times the condition number of X'X, here below 1e2).
"""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.regression import vcov as vc

RTOL = 1e-10  # same formula, different summation order: round-off only


def _data(n=40, k=3, seed=1, n_cl=8, n_t=5):
    rng = np.random.default_rng(seed)
    X = np.column_stack([np.ones(n), rng.normal(size=(n, k - 1))])
    u = rng.normal(size=n) * (1 + np.abs(X[:, 1]))
    cl = rng.integers(0, n_cl, size=n)
    t = rng.integers(0, n_t, size=n)
    return X, u, cl, t


def _bread(X):
    return np.linalg.inv(X.T @ X)


# ---------------------------------------------------------------- small helpers

@pytest.mark.parametrize("T, lag", [(1, 0), (3, 1), (5, 2), (10, 2), (100, 4), (1000, 6), (10_000, 11)])
def test_dk_default_lag_values(T, lag):
    # floor(4 (T/100)^(2/9)) evaluated by hand: T=3 -> 1.83, T=5 -> 2.06, T=10 -> 2.40,
    # T=100 -> 4, T=1000 -> 6.67, T=10000 -> 11.1, T=1 -> 1.42 ... (T=1: 4*0.01^(2/9) = 1.43 -> 1)
    expected = math.floor(4 * (T / 100) ** (2 / 9))
    assert vc.dk_default_lag(T) == expected
    if T != 1:
        assert expected == lag
    assert isinstance(vc.dk_default_lag(T), int)


def test_is_nested_cases():
    assert vc.is_nested(np.array([], dtype=int), np.array([], dtype=int)) is True
    inner = np.array([0, 0, 1, 1, 2, 2])
    outer = np.array([0, 0, 0, 0, 1, 1])
    assert vc.is_nested(inner, outer) is True
    assert vc.is_nested(outer, inner) is False  # outer level 0 spans inner 0 and 1
    assert vc.is_nested(np.array([0, 0, 1]), np.array([0, 1, 1])) is False
    # codes where a too-small multiplier would alias pairs: inner*(max+1)+outer must be unique per pair
    assert vc.is_nested(np.array([0, 1]), np.array([1, 0])) is True
    assert vc.is_nested(np.array([0, 0, 1, 1]), np.array([2, 2, 0, 0])) is True
    assert vc.is_nested(np.array([0, 0, 1]), np.array([2, 0, 0])) is False
    # pairs (0,0), (0,1), (2,0): inner level 0 spans two outer levels (a pair code that is not
    # one-to-one, e.g. inner / (max+1) + outer, would merge (0,1) and (2,0))
    assert vc.is_nested(np.array([0, 0, 2]), np.array([0, 1, 0])) is False


def test_n_components_counts_bipartite_components():
    # FE a levels {0,1,2,3}, FE b levels {0,1,2}; edges (0,0),(1,0) | (2,1) | (3,2): 3 components
    a = np.array([0, 1, 2, 3])
    b = np.array([0, 0, 1, 2])
    assert vc._n_components(a, b) == 3
    # levels absent in the sample are not isolated components (codes 5 and 9 only)
    assert vc._n_components(np.array([5, 5, 9]), np.array([7, 8, 8])) == 1
    # fully connected grid: 1 component
    a2 = np.repeat(np.arange(4), 3)
    b2 = np.tile(np.arange(3), 4)
    assert vc._n_components(a2, b2) == 1


def test_absorbed_dof_table():
    # two FEs in two disconnected blocks, a third FE, and a cluster in which the first is nested
    county = np.array([0, 0, 1, 1, 2, 2, 3, 3])
    year = np.array([0, 1, 0, 1, 2, 3, 2, 3])
    other = np.array([0, 1, 2, 0, 1, 2, 0, 1])
    prov = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    tab = vc.absorbed_dof([county, year, other], ["county", "year", "other"])
    assert list(tab.columns) == ["fe", "categories", "redundant", "num_coefs", "nested"]
    assert tab["fe"].tolist() == ["county", "year", "other"]
    assert tab["categories"].tolist() == [4, 4, 3]
    assert tab["redundant"].tolist() == [0, 2, 1]  # 2 connected components; 1 for a third FE
    assert tab["num_coefs"].tolist() == [4, 2, 2]
    assert tab["nested"].tolist() == [False, False, False]
    year2 = np.array([0, 1, 0, 1, 0, 1, 0, 1])  # not nested in prov; one component with county
    tab_cl = vc.absorbed_dof([county, year2], ["county", "year"], [prov])
    assert tab_cl["nested"].tolist() == [True, False]
    assert tab_cl["redundant"].tolist() == [4, 1]
    assert tab_cl["num_coefs"].tolist() == [0, 1]
    # nested in the second of two cluster variables still counts ("any")
    tab_cl2 = vc.absorbed_dof([county], ["county"], [year, prov])
    assert tab_cl2["nested"].tolist() == [True]
    assert tab_cl2["num_coefs"].tolist() == [0]
    # no FE: an empty table that still has the columns
    empty = vc.absorbed_dof([], [])
    assert list(empty.columns) == ["fe", "categories", "redundant", "num_coefs", "nested"] and len(empty) == 0


@pytest.mark.parametrize("as_str", [False, True])
def test_cluster_meat_by_loop(as_str):
    X, u, cl, _ = _data()
    scores = X * u[:, None]
    codes = np.array([f"g{c}" for c in cl], dtype=object) if as_str else cl
    ref = np.zeros((3, 3))
    for g in np.unique(cl):
        s = scores[cl == g].sum(axis=0)
        ref += np.outer(s, s)
    np.testing.assert_allclose(vc.cluster_meat(scores, codes), ref, rtol=RTOL)


def test_combine_codes_one_per_pair():
    a = np.array([0, 0, 1, 1, 0])
    b = np.array([0, 1, 0, 1, 0])
    c = vc._combine_codes([a, b])
    assert c.tolist() == [0, 1, 2, 3, 0]


# ---------------------------------------------------------------- compute_vcov

def test_iid_against_definition_and_statsmodels():
    X, u0, _, _ = _data()
    y = X @ np.array([1.0, 2.0, -1.0]) + u0
    fit = sm.OLS(y, X).fit()
    u = fit.resid
    V, df, info = vc.compute_vcov("iid", X, u, rank=3, df_a_nonnested=2)
    N, K = 40, 5
    s2 = float(u @ u) / (N - K)
    np.testing.assert_allclose(V, s2 * _bread(X), rtol=RTOL)
    assert df == N - K and info["K"] == K and info["N"] == N and info["factor"] == 1.0
    np.testing.assert_allclose(info["sigma2"], s2, rtol=RTOL)
    V0, df0, _ = vc.compute_vcov("iid", X, u, rank=3, df_a_nonnested=0)
    np.testing.assert_allclose(V0, fit.cov_params(), rtol=RTOL)
    assert df0 == fit.df_resid


def test_hetero_against_statsmodels_hc1():
    X, u0, _, _ = _data()
    y = X @ np.array([1.0, 2.0, -1.0]) + u0
    fit = sm.OLS(y, X).fit(cov_type="HC1")
    V, df, info = vc.compute_vcov("hetero", X, fit.resid, rank=3, df_a_nonnested=0)
    np.testing.assert_allclose(V, fit.cov_params(), rtol=RTOL)
    assert df == 37.0 and info["factor"] == pytest.approx(40 / 37, rel=1e-14) and info["K"] == 3
    V2, df2, info2 = vc.compute_vcov("hetero", X, fit.resid, rank=3, df_a_nonnested=4)
    np.testing.assert_allclose(V2, V * (40 / 33) / (40 / 37), rtol=RTOL)
    assert df2 == 33.0 and info2["K"] == 7


def test_cluster_one_way_against_statsmodels_and_loop():
    X, u0, cl, _ = _data()
    y = X @ np.array([1.0, 2.0, -1.0]) + u0
    fit = sm.OLS(y, X).fit(cov_type="cluster", cov_kwds={"groups": cl, "use_correction": True,
                                                          "df_correction": True})
    u = fit.resid
    G = len(np.unique(cl))
    V, df, info = vc.compute_vcov("cluster", X, u, rank=3, df_a_nonnested=0, clusters=[cl],
                                  cluster_names=["c"], has_fe=False)
    np.testing.assert_allclose(V, fit.cov_params(), rtol=RTOL)
    assert df == G - 1 and info["G"] == G and info["G_list"] == {"c": G}
    assert info["nested_adj"] == 0 and info["psd_fix"] is False and info["K"] == 3
    # absorbed parameters: df_a_clustered is used, not df_a_nonnested; df = min(G-1, N-K)
    N = 40
    V2, df2, info2 = vc.compute_vcov("cluster", X, u, rank=3, df_a_nonnested=30, df_a_clustered=2,
                                     clusters=[cl], cluster_names=["c"], has_fe=True)
    B = _bread(X)
    S = X * u[:, None]
    meat = sum(np.outer(S[cl == g].sum(0), S[cl == g].sum(0)) for g in np.unique(cl))
    q = G / (G - 1) * (N - 1) / (N - 5)
    np.testing.assert_allclose(V2, q * B @ meat @ B, rtol=RTOL)
    assert info2["K"] == 5 and info2["nested_adj"] == 0 and df2 == G - 1
    np.testing.assert_allclose(info2["factor"], q, rtol=1e-14)
    # df_a_clustered None falls back to df_a_nonnested
    _, _, info3 = vc.compute_vcov("cluster", X, u, rank=3, df_a_nonnested=4, clusters=[cl], has_fe=True)
    assert info3["K"] == 7
    # every FE nested (df_a = 0 with FEs): one more parameter for the constant, as xtreg
    V4, _, info4 = vc.compute_vcov("cluster", X, u, rank=3, df_a_nonnested=9, df_a_clustered=0,
                                   clusters=[cl], has_fe=True)
    q4 = G / (G - 1) * (N - 1) / (N - 1 - 3)
    np.testing.assert_allclose(V4, q4 * B @ meat @ B, rtol=RTOL)
    assert info4["nested_adj"] == 1
    # has_fe defaults to True (the caller absorbed FEs): the same +1 without passing it
    _, _, info4b = vc.compute_vcov("cluster", X, u, rank=3, df_a_nonnested=9, df_a_clustered=0, clusters=[cl])
    assert info4b["nested_adj"] == 1 and info4b["factor"] == info4["factor"]
    # df = N - K when that is smaller than G - 1 (many clusters)
    many = np.arange(40)
    _, df5, info5 = vc.compute_vcov("cluster", X, u, rank=3, df_a_nonnested=0, df_a_clustered=6,
                                    clusters=[many], has_fe=True)
    assert df5 == 40 - 9 and info5["G"] == 40


def test_cluster_two_way_inclusion_exclusion_by_loop():
    X, u, c1, c2 = _data(n=60, n_cl=10, n_t=6, seed=3)
    B = _bread(X)
    S = X * u[:, None]

    def meat(codes):
        out = np.zeros((3, 3))
        for g in np.unique(codes):
            s = S[codes == g].sum(0)
            out += np.outer(s, s)
        return out

    inter = np.array([f"{a}_{b}" for a, b in zip(c1, c2)])
    M = meat(c1) + meat(c2) - meat(inter)
    G = min(len(np.unique(c1)), len(np.unique(c2)))
    N, K = 60, 3
    q = G / (G - 1) * (N - 1) / (N - K)
    ref = q * B @ M @ B
    ref = (ref + ref.T) / 2
    lam, U = np.linalg.eigh(ref)
    V, df, info = vc.compute_vcov("cluster", X, u, rank=3, df_a_nonnested=0, clusters=[c1, c2],
                                  cluster_names=["a", "b"], has_fe=False)
    if lam.min() < 0:
        ref = (U * np.clip(lam, 0, None)) @ U.T
    np.testing.assert_allclose(V, ref, rtol=RTOL, atol=1e-14 * np.abs(ref).max())
    assert info["G"] == G == 6 and info["G_list"] == {"a": 10, "b": 6}
    assert df == G - 1
    assert info["psd_fix"] is bool(lam.min() < 0)


def test_three_way_cluster_sign_pattern():
    # with three cluster variables the triple intersection enters with a plus sign
    X, u, c1, c2 = _data(n=50, n_cl=6, n_t=4, seed=5)
    c3 = np.random.default_rng(9).integers(0, 5, size=50)
    S = X * u[:, None]

    def meat(codes):
        codes = pd.factorize(pd.Series(codes))[0]
        return vc.cluster_meat(S, codes)

    key = lambda *cs: np.array(["_".join(map(str, t)) for t in zip(*cs)])  # noqa: E731
    M = (meat(c1) + meat(c2) + meat(c3) - meat(key(c1, c2)) - meat(key(c1, c3)) - meat(key(c2, c3))
         + meat(key(c1, c2, c3)))
    G = min(len(np.unique(c)) for c in (c1, c2, c3))
    q = G / (G - 1) * 49 / 47
    B = _bread(X)
    ref = q * B @ M @ B
    ref = (ref + ref.T) / 2
    lam, U = np.linalg.eigh(ref)
    if lam.min() < 0:
        ref = (U * np.clip(lam, 0, None)) @ U.T
    V, _, info = vc.compute_vcov("cluster", X, u, rank=3, df_a_nonnested=0, clusters=[c1, c2, c3],
                                 has_fe=False)
    np.testing.assert_allclose(V, ref, rtol=RTOL, atol=1e-14 * np.abs(ref).max())
    assert info["G"] == G


def test_psd_fix_applied_and_reported():
    # search a seed (deterministically) whose two-way meat is not PSD; the fix must clip it
    for seed in range(200):
        rng = np.random.default_rng(seed)
        X = np.column_stack([np.ones(12), rng.normal(size=(12, 2))])
        u = rng.normal(size=12)
        c1 = np.repeat(np.arange(3), 4)
        c2 = np.tile(np.arange(4), 3)
        V, _, info = vc.compute_vcov("cluster", X, u, rank=3, df_a_nonnested=0, clusters=[c1, c2],
                                     has_fe=False)
        if info["psd_fix"]:
            break
    assert info["psd_fix"], "no non-PSD two-way example found in 200 seeds"
    lam = np.linalg.eigvalsh(V)
    assert lam.min() >= -1e-12 * lam.max()
    np.testing.assert_allclose(V, V.T, rtol=0, atol=1e-15 * np.abs(V).max())
    # and equals the eigen-clipped symmetrised matrix computed by hand
    S = X * u[:, None]
    inter = c1 * 4 + c2
    M = sum(vc.cluster_meat(S, c) * s for c, s in ((c1, 1), (c2, 1), (inter, -1)))
    B = _bread(X)
    raw = 3 / 2 * 11 / 9 * B @ M @ B
    raw = (raw + raw.T) / 2
    lam_r, U = np.linalg.eigh(raw)
    assert lam_r.min() < 0
    np.testing.assert_allclose(V, (U * np.clip(lam_r, 0, None)) @ U.T, rtol=RTOL, atol=1e-14 * np.abs(raw).max())


def test_one_way_never_psd_fixed():
    # one-way CRV1 is PSD by construction; the fix (and its flag) is for multi-way only. With two
    # clusters and three regressors the meat has rank 1, so round-off gives eigenvalues of about
    # -1e-17: a seed where that happens must still be returned untouched.
    X, u, cl, _ = _data(n=12, n_cl=3, seed=2)
    _, _, info = vc.compute_vcov("cluster", X, u, rank=3, df_a_nonnested=0, clusters=[cl], has_fe=False)
    assert info["psd_fix"] is False
    for seed in range(200):
        X, u, _, _ = _data(n=10, seed=seed)
        cl2 = np.repeat([0, 1], 5)
        V, _, info = vc.compute_vcov("cluster", X, u, rank=3, df_a_nonnested=0, clusters=[cl2], has_fe=False)
        if np.linalg.eigh((V + V.T) / 2)[0].min() < 0:  # eigh, as the package (eigvalsh rounds differently)
            break
    assert np.linalg.eigh((V + V.T) / 2)[0].min() < 0, "no round-off negative eigenvalue in 200 seeds"
    assert info["psd_fix"] is False
    S = X * u[:, None]
    B = _bread(X)
    M = sum(np.outer(S[cl2 == g].sum(0), S[cl2 == g].sum(0)) for g in (0, 1))
    np.testing.assert_allclose(V, 2 / 1 * 9 / 7 * B @ M @ B, rtol=RTOL, atol=1e-15 * np.abs(V).max())


@pytest.mark.parametrize("lag", [None, 0, 1, 3])
def test_driscoll_kraay_by_loop(lag):
    X, u, _, t = _data(n=60, n_t=12, seed=4)
    years = 2000 + t
    B = _bread(X)
    S = X * u[:, None]
    periods = np.unique(years)
    T = len(periods)
    h = np.array([S[years == p].sum(0) for p in periods])  # sorted by period
    m = math.floor(4 * (T / 100) ** (2 / 9)) if lag is None else lag
    Om = h.T @ h
    for j in range(1, m + 1):
        w = 1 - j / (m + 1)
        for s in range(j, T):
            Om += w * (np.outer(h[s], h[s - j]) + np.outer(h[s - j], h[s]))
    N, K = 60, 3 + 2
    ref = (N - 1) / (N - K) * B @ Om @ B
    V, df, info = vc.compute_vcov("driscoll-kraay", X, u, rank=3, df_a_nonnested=2,
                                  time_codes=years[::-1][::-1], lag=lag)
    np.testing.assert_allclose(V, ref, rtol=RTOL)
    assert df == T - 1 and info["T"] == T and info["lag"] == m and info["K"] == K
    np.testing.assert_allclose(info["factor"], (N - 1) / (N - K), rtol=1e-14)


def test_driscoll_kraay_period_order_matters():
    # the Bartlett kernel pairs adjacent periods: codes must follow the calendar, not appearance
    X, u, _, t = _data(n=60, n_t=12, seed=4)
    years = 2000 + t
    perm = np.random.default_rng(0).permutation(60)
    V1, _, _ = vc.compute_vcov("driscoll-kraay", X, u, rank=3, df_a_nonnested=0, time_codes=years, lag=2)
    V2, _, _ = vc.compute_vcov("driscoll-kraay", X[perm], u[perm], rank=3, df_a_nonnested=0,
                               time_codes=years[perm], lag=2)
    np.testing.assert_allclose(V1, V2, rtol=RTOL)


def test_driscoll_kraay_against_statsmodels_groupsum():
    # statsmodels' 'hac-groupsum' is Driscoll-Kraay without small-sample factor (balanced panel)
    rng = np.random.default_rng(7)
    n, T = 15, 10
    years = np.tile(np.arange(T), n)
    X = np.column_stack([np.ones(n * T), rng.normal(size=(n * T, 2))])
    y = X @ np.array([0.5, 1.0, -2.0]) + rng.normal(size=n * T)
    fit = sm.OLS(y, X).fit(cov_type="hac-groupsum", cov_kwds={"time": years, "maxlags": 2,
                                                               "use_correction": False})
    V, _, info = vc.compute_vcov("driscoll-kraay", X, fit.resid, rank=3, df_a_nonnested=0,
                                 time_codes=years, lag=2)
    np.testing.assert_allclose(V / info["factor"], fit.cov_params(), rtol=1e-8)


def test_errors():
    X, u, cl, _ = _data()
    with pytest.raises(ValueError, match="^Driscoll-Kraay needs the time codes$"):
        vc.compute_vcov("driscoll-kraay", X, u, rank=3, df_a_nonnested=0)
    with pytest.raises(ValueError, match="^cluster covariance needs at least one cluster variable$"):
        vc.compute_vcov("cluster", X, u, rank=3, df_a_nonnested=0)
    with pytest.raises(ValueError, match="^unknown covariance type 'hc3'$"):
        vc.compute_vcov("hc3", X, u, rank=3, df_a_nonnested=0)
