"""Validation of analysis.regression.fe: published plm numbers, reghdfe's CRV1 rule by hand,
pyfixest and linearmodels on the same data, row accounting, errors and invariance properties."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.errors import (
    ColumnError,
    DuplicateKeyError,
    NonNumericError,
    SpecificationError,
)
from analysis.regression import FEResult, fe

REF = Path(__file__).parent / "reference" / "regression"


def _ref(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / name)


def half_unit(value) -> float:
    """Half a unit in the last printed digit of a published number (its rounding error)."""
    text = f"{value}" if not isinstance(value, str) else value
    decimals = len(text.split(".")[1]) if "." in text else 0
    return 0.5 * 10.0 ** -decimals + 1e-15


def _ref_str(name: str) -> pd.DataFrame:
    """Reference table with estimate/std_error kept as printed (to know their rounding)."""
    return pd.read_csv(REF / name, dtype={"estimate": str, "std_error": str, "statistic": str, "p_value": str})


def small_panel(n=60, T=8, seed=0, missing=False):
    """Two-way FE panel with county-clustered errors (for cross-checks; not the shipped panel)."""
    rng = np.random.default_rng(seed)
    county = np.repeat([f"{110100 + i:06d}" for i in range(n)], T)
    year = np.tile(np.arange(2010, 2010 + T), n)
    province = np.repeat([f"p{i % 7}" for i in range(n)], T)
    a = np.repeat(rng.normal(size=n), T)
    g = np.tile(rng.normal(size=T), n)
    x1 = 0.5 * a + rng.normal(size=n * T)
    x2 = rng.normal(size=n * T) + 0.3 * g
    e = np.repeat(rng.normal(size=n), T) * 0.5 + rng.normal(size=n * T) * (1 + 0.5 * np.abs(x1))
    y = 1.0 + 0.8 * x1 - 0.4 * x2 + a + g + e
    d = pd.DataFrame({"county": county, "year": year, "province": province, "x1": x1, "x2": x2, "y": y,
                      "w": rng.uniform(0.5, 2.0, n * T)})
    if missing:
        d.loc[[3, 17, 40], "x1"] = np.nan
        d.loc[[5, 17], "y"] = np.nan
    return d


def _within(d, cols, fes):
    """Demean by alternating projections (test-only, independent of the package)."""
    out = d[cols].astype(float).copy()
    for _ in range(500):
        before = out.copy()
        for f in fes:
            out = out - out.groupby(d[f].to_numpy()).transform("mean")
        if np.max(np.abs(out.to_numpy() - before.to_numpy())) < 1e-13:
            break
    return out.to_numpy()


def _hand_crv1(d, y, xs, fes, clusters, K):
    """CRV1 sandwich with reghdfe's factor G/(G-1)*(N-1)/(N-K), written out by hand."""
    Z = _within(d, [y] + xs, fes)
    yt, X = Z[:, 0], Z[:, 1:]
    A = np.linalg.inv(X.T @ X)
    b = A @ X.T @ yt
    u = yt - X @ b
    N = len(u)
    meat = np.zeros((len(xs), len(xs)))
    Gs = []
    from itertools import combinations
    for r in range(1, len(clusters) + 1):
        for combo in combinations(clusters, r):
            key = d[list(combo)].astype(str).agg("|".join, axis=1)
            S = pd.DataFrame(X * u[:, None]).groupby(key.to_numpy()).sum().to_numpy()
            meat += (1 if r % 2 else -1) * S.T @ S
            if r == 1:
                Gs.append(key.nunique())
    G = min(Gs)
    q = G / (G - 1) * (N - 1) / (N - K)
    return b, np.sqrt(np.diag(q * A @ meat @ A))


# --------------------------------------------------------------------------- published numbers
def test_grunfeld_within_matches_plm():
    from analysis.datasets import load_reference

    g = load_reference("grunfeld")
    ref = _ref_str("grunfeld_plm.csv").query("model == 'within'")
    res = fe("inv ~ value + capital", g, entity="firm", fe="firm", vcov="iid")
    for row in ref.itertuples():
        assert abs(res.params[row.term] - float(row.estimate)) <= half_unit(row.estimate)
        assert abs(res.std_errors[row.term] - float(row.std_error)) <= half_unit(row.std_error)
    assert res.nobs == 200 and res.r2_within == pytest.approx(0.76676, abs=5e-6)


def test_grunfeld_cluster_relates_to_plm_sss():
    """plm's 'sss' counts K = 2 slopes; reghdfe/xtreg add the constant when every FE is nested."""
    from analysis.datasets import load_reference

    g = load_reference("grunfeld")
    ref = _ref_str("grunfeld_plm.csv").query("model == 'within_cluster_sss'").set_index("term")
    res = fe("inv ~ value + capital", g, entity="firm", fe="firm", cluster="firm")
    N = 200
    ratio = np.sqrt((N - 2) / (N - 3))  # (N-1)/(N-1-2) vs (N-1)/(N-2)
    for term in ("value", "capital"):
        se = ref.loc[term, "std_error"]
        assert abs(res.std_errors[term] / ratio - float(se)) <= half_unit(se)
    assert "G/(G-1)*(N-1)/(N-K)" in res.settings["vcov"]
    assert res.df_resid == 9


def test_produc_within_matches_plm():
    from analysis.datasets import load_reference

    p = load_reference("produc")
    ref = _ref_str("produc_plm.csv")
    fml = "np.log(gsp) ~ np.log(pcap) + np.log(pc) + np.log(emp) + unemp"
    res_iid = fe(fml, p, entity="state", fe="state", vcov="iid")
    res_cl = fe(fml, p, entity="state", fe="state", cluster="state")
    q = res_cl.extra["vcov_info"]["factor"]
    names = {"log(pcap)": "np.log(pcap)", "log(pc)": "np.log(pc)", "log(emp)": "np.log(emp)", "unemp": "unemp"}
    for row in ref.itertuples():
        term = names[row.term]
        if row.model == "within":
            assert abs(res_iid.params[term] - float(row.estimate)) <= half_unit(row.estimate)
            assert abs(res_iid.std_errors[term] - float(row.std_error)) <= half_unit(row.std_error)
        else:  # Arellano HC0 = our CRV1 without the small-sample factor
            assert abs(res_cl.std_errors[term] / np.sqrt(q) - float(row.std_error)) <= half_unit(row.std_error)


# --------------------------------------------------------------------------- reghdfe rule by hand
@pytest.mark.parametrize("cluster", ["county", "province", ("county", "year")])
def test_crv1_reghdfe_rule_by_hand(cluster):
    d = small_panel()
    res = fe("y ~ x1 + x2", d, cluster=cluster)
    T = d.year.nunique()
    cl = (cluster,) if isinstance(cluster, str) else cluster
    # county FE nested in county and in province clusters; year FE nested in year clusters
    if cl == ("county", "year"):
        K, extra = 2, 1  # every FE nested: reghdfe adds one back for the constant
    else:
        K, extra = 2 + (T - 1), 0
    b, se = _hand_crv1(d, "y", ["x1", "x2"], ["county", "year"], list(cl), K + extra)
    np.testing.assert_allclose(res.params.to_numpy(), b, rtol=1e-9)
    np.testing.assert_allclose(res.std_errors.to_numpy(), se, rtol=1e-8)
    assert res.stats["K"] == K
    G = min(d[c].nunique() for c in cl)
    assert res.df_resid == G - 1


def test_matches_pyfixest_and_linearmodels_on_panel():
    import pyfixest as pf
    from linearmodels.panel import PanelOLS

    d = small_panel(n=80, T=10, seed=3)
    res = fe("y ~ x1 + x2", d)
    m = pf.feols("y ~ x1 + x2 | county + year", d, vcov={"CRV1": "county"})
    np.testing.assert_allclose(res.params.to_numpy(), m.coef().to_numpy(), rtol=1e-10)
    # same sandwich; only the small-sample factor may differ: undo both
    q_ours = res.extra["vcov_info"]["factor"]
    q_pf = float(np.ravel(m._ssc)[0])
    np.testing.assert_allclose(res.cov.to_numpy() / q_ours, m._vcov / q_pf, rtol=1e-8)
    pdx = d.set_index(["county", "year"])
    lm = PanelOLS(pdx.y, pdx[["x1", "x2"]], entity_effects=True, time_effects=True).fit(
        cov_type="clustered", cluster_entity=True, debiased=False, group_debias=False)
    np.testing.assert_allclose(res.params.to_numpy(), lm.params.to_numpy(), rtol=1e-9)
    N = len(d)
    # linearmodels scales its cluster sandwich by its own constant: the matrices must be
    # proportional (same bread and meat), whatever the small-sample factor
    ratio = lm.cov.to_numpy() / (res.cov.to_numpy() / q_ours)
    np.testing.assert_allclose(ratio, ratio[0, 0], rtol=1e-7)
    np.testing.assert_allclose(res.r2_within, lm.rsquared, rtol=1e-9)  # R2 after both FEs
    assert res.nobs == N


def test_hetero_iid_and_dk_by_hand():
    d = small_panel(n=40, T=12, seed=5)
    Z = _within(d, ["y", "x1", "x2"], ["county", "year"])
    yt, X = Z[:, 0], Z[:, 1:]
    A = np.linalg.inv(X.T @ X)
    u = yt - X @ (A @ X.T @ yt)
    N, n, T = len(u), d.county.nunique(), d.year.nunique()
    K = 2 + n + T - 1
    r_h = fe("y ~ x1 + x2", d, vcov="robust")
    Vh = N / (N - K) * A @ (X * u[:, None]).T @ (X * u[:, None]) @ A
    np.testing.assert_allclose(r_h.std_errors, np.sqrt(np.diag(Vh)), rtol=1e-8)
    r_i = fe("y ~ x1 + x2", d, vcov="iid")
    np.testing.assert_allclose(r_i.std_errors, np.sqrt(np.diag(u @ u / (N - K) * A)), rtol=1e-8)
    # Driscoll-Kraay, Bartlett kernel, xtscc lag rule floor(4 (T/100)^(2/9))
    lag = int(np.floor(4 * (T / 100) ** (2 / 9)))
    h = pd.DataFrame(X * u[:, None]).groupby(d.year.to_numpy()).sum().to_numpy()
    S = h.T @ h
    for j in range(1, lag + 1):
        G = h[j:].T @ h[:-j]
        S += (1 - j / (lag + 1)) * (G + G.T)
    r_dk = fe("y ~ x1 + x2", d, vcov="driscoll-kraay")
    np.testing.assert_allclose(r_dk.std_errors, np.sqrt(np.diag((N - 1) / (N - K) * A @ S @ A)), rtol=1e-8)
    assert f"lag {lag}" in r_dk.settings["vcov"] and r_dk.df_resid == T - 1
    r_dk3 = fe("y ~ x1 + x2", d, vcov="dk", dk_lag=3)
    assert "lag 3 (user-set" in r_dk3.settings["vcov"]


def test_dk_matches_pyfixest_meat():
    import pyfixest as pf

    d = small_panel(n=40, T=12, seed=6)
    r = fe("y ~ x1 + x2", d, vcov="dk", dk_lag=2)
    dd = d.assign(county=d.county.astype(int))  # pyfixest's DK sorts the panel id numerically
    m = pf.feols("y ~ x1 + x2 | county + year", dd, vcov="DK",
                 vcov_kwargs={"lag": 2, "time_id": "year", "panel_id": "county"})
    np.testing.assert_allclose(r.cov.to_numpy() / r.extra["vcov_info"]["factor"],
                               m._vcov / float(np.ravel(m._ssc)[0]), rtol=1e-7)


def test_weights_match_statsmodels_wls():
    import statsmodels.formula.api as smf

    d = small_panel(n=30, T=6, seed=7)
    r = fe("y ~ x1 + x2", d, weights="w", vcov="iid")
    ols = smf.wls("y ~ x1 + x2 + C(county) + C(year)", d, weights=d.w).fit()
    np.testing.assert_allclose(r.params.to_numpy(), ols.params[["x1", "x2"]].to_numpy(), rtol=1e-8)
    np.testing.assert_allclose(r.std_errors.to_numpy(), ols.bse[["x1", "x2"]].to_numpy(), rtol=1e-8)


# --------------------------------------------------------------------------- rows and syntax
def test_rows_dropped_with_reasons_and_singletons():
    d = small_panel(missing=True)
    extra = pd.DataFrame({"county": ["999999"], "year": [2010], "province": ["p0"], "x1": [0.1],
                          "x2": [0.2], "y": [1.0], "w": [1.0]})
    d = pd.concat([d, extra], ignore_index=True)
    r = fe("y ~ x1 + x2", d)
    assert r.rows.n_input == len(d)
    assert r.rows.dropped["missing y"] == 2
    assert r.rows.dropped["missing x1"] == 2  # row 17 is counted under y (first missing)
    assert r.rows.dropped["singleton groups (dropped as reghdfe does)"] == 1
    assert r.nobs == len(d) - 5
    assert r.rows.n_used + r.rows.n_dropped == r.rows.n_input
    assert len(r.resid) == r.nobs and set(r.sample_index) <= set(d.index)


def test_bar_syntax_equals_fe_argument_and_pooled():
    d = small_panel()
    a = fe("y ~ x1 + x2", d)
    b = fe("y ~ x1 + x2 | county + year", d)
    pd.testing.assert_series_equal(a.params, b.params)
    pd.testing.assert_series_equal(a.std_errors, b.std_errors)
    assert b.fixed_effects == ("county", "year") and b.cluster == ("county",) and b.depvar == "y"
    p = fe("y ~ x1 + x2", d, fe=None)
    assert "Intercept" in p.params.index and p.fixed_effects == ()
    t = p.to_frame()
    assert list(t.columns) == ["term", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]


def test_result_is_estimation_result_and_wald():
    from analysis.results import EstimationResult

    d = small_panel()
    r = fe("y ~ x1 + x2", d)
    assert isinstance(r, FEResult) and isinstance(r, EstimationResult)
    w = r.wald(["x1"])
    assert w["F"] == pytest.approx(r.tstats["x1"] ** 2)
    assert w["p_value"] == pytest.approx(r.pvalues["x1"])


def test_bad_input_errors():
    d = small_panel()
    with pytest.raises(ColumnError, match="x9"):
        fe("y ~ x1 + x9", d)
    with pytest.raises(ColumnError, match="prov"):
        fe("y ~ x1", d, cluster="prov")
    bad = d.assign(x2=d.x2.astype(str))
    with pytest.raises(NonNumericError, match="x2"):
        fe("y ~ x1 + x2", bad)
    dup = pd.concat([d, d.iloc[[0]]], ignore_index=True)
    with pytest.raises(DuplicateKeyError, match="county, year"):
        fe("y ~ x1", dup)
    assert fe("y ~ x1", dup, check_keys=False).nobs == len(dup)  # stacked / matched samples
    with pytest.raises(SpecificationError):
        fe("y ~ x1", d, vcov="bootstrap")
    with pytest.raises(SpecificationError):
        fe("y x1", d)
    with pytest.raises(ValueError):  # every error is a ValueError
        fe("y ~ x1 | county | year", d)


# --------------------------------------------------------------------------- properties
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(shift=st.floats(-1e3, 1e3, allow_nan=False), seed=st.integers(0, 2**16))
def test_coefficients_invariant_to_constant_in_y(shift, seed):
    d = small_panel(n=25, T=5, seed=seed)
    a = fe("y ~ x1 + x2", d)
    b = fe("y ~ x1 + x2", d.assign(y=d.y + shift))
    np.testing.assert_allclose(a.params, b.params, rtol=1e-7, atol=1e-9)
    np.testing.assert_allclose(a.std_errors, b.std_errors, rtol=1e-6)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@pytest.mark.filterwarnings("ignore:the multi-way")
@given(seed=st.integers(0, 2**16), perm_seed=st.integers(0, 2**16))
def test_cluster_se_invariant_to_row_order(seed, perm_seed):
    d = small_panel(n=25, T=5, seed=seed)
    perm = np.random.default_rng(perm_seed).permutation(len(d))
    a = fe("y ~ x1 + x2", d, cluster=("county", "year"))
    b = fe("y ~ x1 + x2", d.iloc[perm], cluster=("county", "year"))
    np.testing.assert_allclose(a.params, b.params, rtol=1e-9)
    np.testing.assert_allclose(a.std_errors, b.std_errors, rtol=1e-9)


def test_rows_dropped_by_formula_transformations_are_reported():
    d = small_panel(seed=9)
    d["pos"] = np.exp(d.y / 5)
    d.loc[[2, 30, 31], "pos"] = -1.0  # log of a negative number: dropped by the formula
    r = fe("np.log(pos) ~ x1 + x2", d)
    assert r.rows.dropped["missing after transformations in the formula"] == 3
    assert r.nobs == len(d) - 3 and r.rows.n_used == r.nobs
    ok = d.drop(index=[2, 30, 31])
    np.testing.assert_allclose(r.params, fe("np.log(pos) ~ x1 + x2", ok).params, rtol=1e-10)
