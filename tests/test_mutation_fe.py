"""Mutation-testing follow-up for analysis.regression.fe: Wald test, vcov aliases, the description
of the covariance in words, the clustered-variance checks and the result fields.

References are computed here (Wald statistic from the definition ``(Rb - r)'(RVR')^{-1}(Rb - r)``,
scipy's F and chi-squared tails, statsmodels WLS residuals). Tolerances: 1e-10 relative for the
same quantity computed twice in floating point; 1e-8 for least-squares fits by different
algorithms (pyfixest's demeaning vs statsmodels' dummies, converged to ~1e-10).
"""
from __future__ import annotations

import importlib
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_regression_fe import small_panel

from analysis.errors import ColumnError, SpecificationError
from analysis.regression import fe
from analysis.regression.fe import FEW_CLUSTERS, CollinearityWarning, FewClustersWarning

fe_mod = importlib.import_module("analysis.regression.fe")


def _panel_with_clusters(n_cl: int, per=3, T=4, seed=0):
    rng = np.random.default_rng(seed)
    n = n_cl * per
    d = pd.DataFrame({"county": np.repeat(np.arange(n), T), "year": np.tile(np.arange(T), n),
                      "grp": np.repeat(np.arange(n) % n_cl, T)})
    d["x1"] = rng.normal(size=len(d))
    d["y"] = d.x1 + rng.normal(size=len(d))
    return d


# ---------------------------------------------------------------- wald
def test_wald_against_definition():
    d = small_panel(seed=11)
    r = fe("y ~ x1 + x2", d)
    b, V = r.params.to_numpy(), r.cov.to_numpy()
    # joint test of both slopes (default: every coefficient)
    W = float(b @ np.linalg.inv(V) @ b)
    out = r.wald()
    assert out["df1"] == 2.0 and out["df2"] == r.df_resid == 59.0
    np.testing.assert_allclose(out["chi2"], W, rtol=1e-10)
    np.testing.assert_allclose(out["F"], W / 2, rtol=1e-10)
    np.testing.assert_allclose(out["p_value"], stats.f.sf(W / 2, 2, 59), rtol=1e-10)
    np.testing.assert_allclose(out["p_value_chi2"], stats.chi2.sf(W, 2), rtol=1e-10)
    assert r.wald(["x1", "x2"]) == pytest.approx(out, rel=1e-12)
    # one named term picks that coefficient (the second, to catch an index mix-up)
    one = r.wald(["x2"])
    np.testing.assert_allclose(one["F"], b[1] ** 2 / V[1, 1], rtol=1e-10)
    # R b = r with a non-zero r: x1 - x2 = 1
    R = np.array([[1.0, -1.0]])
    dd = b[0] - b[1] - 1.0
    lin = r.wald(R=R, r=[1.0])
    np.testing.assert_allclose(lin["chi2"], dd ** 2 / (R @ V @ R.T).item(), rtol=1e-10)
    assert lin["df1"] == 1.0
    # R as a flat list works (atleast_2d)
    np.testing.assert_allclose(r.wald(R=[1.0, -1.0], r=1.0)["chi2"], lin["chi2"], rtol=1e-12)
    with pytest.raises(ColumnError, match=r"terms \['x9'\] are not coefficients of this model \(\['x1', 'x2'\]\)"):
        r.wald(["x1", "x9"])


def test_wald_without_df_uses_infinite_denominator():
    d = small_panel(seed=12)
    r = fe("y ~ x1 + x2", d)
    r.df_resid = None
    out = r.wald(["x1"])
    assert out["df2"] == np.inf
    np.testing.assert_allclose(out["p_value"], stats.chi2.sf(out["chi2"], 1), rtol=1e-9)


# ---------------------------------------------------------------- vcov names
def test_vcov_kind_aliases_and_errors():
    kind = fe_mod._vcov_kind
    assert kind(None, ("county",)) == "cluster"
    assert kind(None, ()) == "hetero"
    expected = {"cluster": ["cluster", "clustered", "crv1", "cl"],
                "hetero": ["hetero", "robust", "hc1", "white"],
                "iid": ["iid", "unadjusted", "classical", "ols"],
                "driscoll-kraay": ["driscoll-kraay", "driscoll_kraay", "dk", "dkraay", "scc"]}
    for k, names in expected.items():
        for n in names:
            assert kind(n, ()) == k
            assert kind(f"  {n.upper()} ", ()) == k
    assert sorted(fe_mod.VCOV_ALIASES) == sorted(n for v in expected.values() for n in v)
    with pytest.raises(SpecificationError, match=r"^vcov=\{'CRV1': 'county'\} must be a string: one of "
                       r"'cluster', 'hetero' \(robust\), 'iid', 'driscoll-kraay'; choose the cluster "
                       r"variables with cluster=\.$"):
        kind({"CRV1": "county"}, ())
    with pytest.raises(SpecificationError, match="hc3"):
        kind("hc3", ())


# ---------------------------------------------------------------- description in words
def test_describe_texts_exactly():
    desc = fe_mod._describe
    info = {"G": 7, "G_list": {"a": 7, "b": 9}, "factor": 1.23456789, "N": 100, "K": 12,
            "nested_adj": 0, "psd_fix": False}
    assert desc("cluster", info, ("a",), 6.0, None) == (
        "cluster-robust (CRV1) by a, 7 clusters; Stata reghdfe small-sample factor G/(G-1)*(N-1)/(N-K) = "
        "1.234568 with N = 100, K = 12 (regressors plus absorbed FE parameters not nested in the clusters); "
        "p-values and CIs from t(min(G-1, N-K)) = t(6)")
    two = desc("cluster", {**info, "nested_adj": 1, "psd_fix": True}, ("a", "b"), 6.0, "w")
    assert two == (
        "cluster-robust (CRV1) by a and b, 7 clusters; 2-way clustering (Cameron-Gelbach-Miller "
        "inclusion-exclusion), G = min over the cluster variables {'a': 7, 'b': 9}; Stata reghdfe "
        "small-sample factor G/(G-1)*(N-1)/(N-K) = 1.234568 with N = 100, K = 12 (regressors plus absorbed "
        "FE parameters not nested in the clusters) (+1 for the constant since every FE is nested in the "
        "clusters, as xtreg); p-values and CIs from t(min(G-1, N-K)) = t(6); negative eigenvalues set to "
        "zero (Cameron-Gelbach-Miller fix); weighted by 'w' (analytic weights)")
    assert desc("hetero", {"factor": 1.5, "K": 4}, (), 96.0, None) == (
        "heteroskedasticity-robust (HC1) as reghdfe vce(robust): factor N/(N-K) = 1.500000, K = 4 "
        "(regressors plus absorbed FE parameters); t(96)")
    assert desc("iid", {"K": 4}, (), 96.0, "w") == (
        "classical (iid) as reghdfe vce(unadjusted): sigma^2 = RSS/(N-K), K = 4; t(96); weighted by 'w' "
        "(analytic weights)")
    dk = {"lag": 2, "T": 12, "factor": 1.01, "K": 5, "lag_user": False}
    assert desc("driscoll-kraay", dk, (), 11.0, None) == (
        "Driscoll-Kraay (1998) with Bartlett kernel, lag 2 (rule floor(4*(T/100)^(2/9)) of Stata xtscc, "
        "Hoechle 2007; T = 12 periods); factor (N-1)/(N-K) = 1.010000, K = 5; t(T-1) = t(11)")
    assert desc("driscoll-kraay", {**dk, "lag_user": True}, (), 11.0, None).startswith(
        "Driscoll-Kraay (1998) with Bartlett kernel, lag 2 (user-set; T = 12 periods)")


# ---------------------------------------------------------------- clustered variance checks
def test_few_clusters_warning_boundary():
    below = _panel_with_clusters(FEW_CLUSTERS - 1)
    with pytest.warns(FewClustersWarning, match=r"^only 41 clusters \(grp\): cluster-robust \(CRV1\) t-tests "
                      r"over-reject with fewer than about 42 clusters"):
        r = fe("y ~ x1", below, cluster="grp")
    assert r.settings["few_clusters"] == ("41 clusters (< 42): CRV1 t-tests over-reject; "
                                          "see the wild cluster bootstrap")
    at = _panel_with_clusters(FEW_CLUSTERS)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FewClustersWarning)
        r2 = fe("y ~ x1", at, cluster="grp")
    assert "few_clusters" not in r2.settings and r2.n_clusters == 42
    # the internal entry point can silence the warning (used by estimators that warn themselves)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FewClustersWarning)
        res, _ = fe_mod._estimate("y ~ x1", below, cluster="grp", warn_few_clusters=False)
    assert res.n_clusters == 41


def test_degenerate_cluster_variance_is_an_error():
    # two counties with county and year FE: the demeaned scores of one county are minus those of
    # the other, so both cluster score sums are zero and so is the clustered SE
    d = _panel_with_clusters(2, per=1, T=10)
    with pytest.raises(SpecificationError, match=r"^the cluster-robust variance is degenerate with 2 clusters "
                       r"\(county\): the standard errors of x1 are \(numerically\) zero, because the cluster "
                       r"score sums cancel \(with G = 2 they can span at most 1 dimension\(s\)\)"):
        fe("y ~ x1", d)


def test_check_cluster_variance_direct():
    X = np.column_stack([np.linspace(-1, 1, 20), np.linspace(-1, 1, 20) ** 2])
    u = np.sin(np.arange(20.0))
    scale = np.sqrt(np.diag(np.linalg.inv(X.T @ X)) * float(u @ u) / 20)
    info = {"G": 50}
    # SE just above 1e-8 times the iid scale passes; at or below fails; NaN fails
    fe_mod._check_cluster_variance(X, u, 1.01e-8 * scale, ["a", "b"], info, ("c",))
    with pytest.raises(SpecificationError, match="standard errors of b are"):
        fe_mod._check_cluster_variance(X, u, np.array([1.0, 0.99e-8 * scale[1]]), ["a", "b"], info, ("c",))
    with pytest.raises(SpecificationError, match="standard errors of a, b are"):
        fe_mod._check_cluster_variance(X, u, np.array([np.nan, np.inf]), ["a", "b"], info, ("c",))
    # zero residuals: the scale is 0, so a zero SE is not judged degenerate
    fe_mod._check_cluster_variance(X, np.zeros(20), np.zeros(2), ["a", "b"], info, ("c",))
    with pytest.warns(FewClustersWarning, match=r"only 3 clusters \(c and d\)"):
        fe_mod._check_cluster_variance(X, u, scale, ["a", "b"], {"G": 3}, ("c", "d"))


def test_fewer_than_two_clusters_and_option_errors():
    d = _panel_with_clusters(5)
    d["one"] = 1
    with pytest.raises(SpecificationError, match=r"^cluster-robust standard errors need at least 2 clusters; "
                       r"one has 1 in the estimation sample"):
        fe("y ~ x1", d, cluster="one")
    with pytest.raises(SpecificationError, match=r"^vcov='cluster' needs cluster variables"):
        fe("y ~ x1", d, vcov="cluster", cluster=None)
    with pytest.raises(SpecificationError, match=r"^Driscoll-Kraay needs one row per \(entity, time\)"):
        fe("y ~ x1", d, vcov="dk", check_keys=False)


# ---------------------------------------------------------------- result fields
def test_result_fields_two_way_fe():
    d = small_panel(seed=13)
    r = fe("y ~ x1 + x2", d)
    T = d.year.nunique()
    assert r.settings == {
        "formula": "y ~ x1 + x2", "fixed_effects": "county, year", "vcov": r.settings["vcov"],
        "vcov_type": "cluster", "cluster": "county", "weights": None,
        "singletons": "dropped iteratively (reghdfe)"}
    assert r.settings["vcov"].startswith("cluster-robust (CRV1) by county, 60 clusters;")
    assert r.stats["N"] == 480 and r.stats["K"] == 2 + T - 1 and r.stats["df_a"] == T - 1
    assert r.stats["clusters_county"] == 60
    assert r.model == "Fixed-effects OLS (reghdfe conventions)"
    assert r.vcov_type == "cluster" and r.n_clusters == 60 and r.n_clusters_by == {"county": 60}
    assert r.absorbed["num_coefs"].tolist() == [0, T - 1]  # clustered table: county nested
    assert r.depvar == r.outcome == "y" and r.formula == "y ~ x1 + x2" and r.nobs == 480
    assert r.cluster == ("county",) and r.fixed_effects == ("county", "year")
    assert r.alpha == 0.05
    # R2 and within R2 against dummies OLS and the demeaned regression
    import statsmodels.formula.api as smf
    ols = smf.ols("y ~ x1 + x2 + C(county) + C(year)", d).fit()
    np.testing.assert_allclose(r.r2, ols.rsquared, rtol=1e-8)
    np.testing.assert_allclose(r.stats["r2"], ols.rsquared, rtol=1e-8)
    np.testing.assert_allclose(r.stats["r2_within"], r.r2_within, rtol=1e-12)
    np.testing.assert_allclose(r.resid.to_numpy(), ols.resid.to_numpy(), atol=1e-8)
    assert list(r.resid.index) == list(d.index) and r.resid.name == "resid"
    # the unclustered variants report the table with every FE counted
    h = fe("y ~ x1 + x2", d, vcov="hetero", alpha=0.1)
    assert h.absorbed["num_coefs"].tolist() == [60, T - 1] and h.stats["df_a"] == 60 + T - 1
    assert h.cluster == () and h.n_clusters is None and h.n_clusters_by == {} and h.settings["cluster"] is None
    assert "clusters_county" not in h.stats and h.alpha == 0.1
    dk = fe("y ~ x1 + x2", d, vcov="dk")
    assert dk.vcov_type == "driscoll_kraay" and dk.extra["vcov_info"]["lag_user"] is False
    assert fe("y ~ x1 + x2", d, vcov="dk", dk_lag=1).extra["vcov_info"]["lag_user"] is True


def test_result_fields_pooled_and_weighted():
    import statsmodels.formula.api as smf

    d = small_panel(seed=14)
    p = fe("y ~ x1 + x2", d, fe=None, vcov="iid", drop_singletons=False)
    assert p.model == "Pooled OLS (reghdfe conventions)"
    assert np.isnan(p.r2_within) and "r2_within" not in p.stats
    assert p.settings["fixed_effects"] == "none (pooled OLS with intercept)" and p.settings["singletons"] == "kept"
    assert p.stats["K"] == 3 and p.stats["df_a"] == 0 and p.absorbed is None
    w = fe("y ~ x1 + x2", d, weights="w", vcov="iid")
    ols = smf.wls("y ~ x1 + x2 + C(county) + C(year)", d, weights=d.w).fit()
    # residuals in the data's scale (not multiplied by sqrt(w))
    np.testing.assert_allclose(w.resid.to_numpy(), ols.resid.to_numpy(), atol=1e-8)
    assert w.settings["weights"] == "w" and w.settings["vcov"].endswith("; weighted by 'w' (analytic weights)")


def test_collinear_regressor_warns_and_is_reported():
    d = small_panel(seed=15)
    d["const_in_county"] = d.county.astype(int) % 5
    with pytest.warns(CollinearityWarning, match=r"^1 regressor\(s\) dropped because they are collinear with "
                      r"the other regressors or constant within the fixed effects \(county, year\): "
                      r"const_in_county\."):
        r = fe("y ~ x1 + const_in_county", d)
    assert r.settings["collinear_dropped"] == "const_in_county"
    assert list(r.params.index) == ["x1"]
    ok = fe("y ~ x1", d)
    np.testing.assert_allclose(r.params.to_numpy(), ok.params.to_numpy(), rtol=1e-10)
