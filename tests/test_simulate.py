"""Tests of the SIMULATED county panel (analysis.simulate, scripts/build_synthetic.py).

Recovery checks use tolerances derived from the noise level: each estimate must lie within
``Z_TOL`` county-clustered standard errors of the truth (a 4-sigma band fails by chance with
probability about 6e-5 per check), and the standard errors must be small enough for the check to
bite (stated per test).
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import datasets
from analysis.errors import SpecificationError
from analysis.simulate import (
    COVARIATES,
    DECIMALS,
    MISSING_COLUMNS,
    RAW_INDICATORS,
    contiguity_matrix,
    counterfactual,
    county_panel,
    true_effect,
)

ROOT = Path(__file__).resolve().parent.parent
SYN = ROOT / "data" / "synthetic"
SEED = 20261128
Z_TOL = 4.0


@pytest.fixture(scope="module")
def built():
    return county_panel(seed=SEED)


@pytest.fixture(scope="module")
def panel(built):
    return built[0]


@pytest.fixture(scope="module")
def truth(built):
    return built[1]


@pytest.fixture(scope="module")
def effects(built):
    return built[2]


# --- helpers ----------------------------------------------------------------------------------

def _within(df: pd.DataFrame, cols: list[str]) -> np.ndarray:
    """Two-way (county, year) demeaning; exact for a balanced panel."""
    x = df[cols].to_numpy(float)
    g_c = df.groupby("county")[cols].transform("mean").to_numpy(float)
    g_t = df.groupby("year")[cols].transform("mean").to_numpy(float)
    return x - g_c - g_t + x.mean(axis=0)


def _ols_cluster(y: np.ndarray, X: np.ndarray, cluster: np.ndarray, n_fe: int):
    """OLS with CRV1 (reghdfe small-sample factor; FEs nested in clusters not counted)."""
    xtx_inv = np.linalg.inv(X.T @ X)
    b = xtx_inv @ X.T @ y
    u = y - X @ b
    codes, _ = pd.factorize(cluster)
    G = codes.max() + 1
    s = np.zeros((G, X.shape[1]))
    np.add.at(s, codes, X * u[:, None])
    n, k = X.shape
    k_eff = k + n_fe
    factor = G / (G - 1) * (n - 1) / (n - k_eff)
    V = factor * xtx_inv @ (s.T @ s) @ xtx_inv
    return b, np.sqrt(np.diag(V))


# --- determinism and shipped files ------------------------------------------------------------

def test_same_seed_identical_different_seed_differs(built):
    # an int seed and a Generator made from it give the same draws
    p2, t2, e2 = county_panel(seed=np.random.default_rng(SEED))
    pd.testing.assert_frame_equal(built[0], p2)
    pd.testing.assert_frame_equal(built[2], e2)
    t2["seed"] = built[1]["seed"]          # a Generator has no int seed to record
    assert built[1] == t2
    p3, t3, _ = county_panel(seed=SEED + 1)
    assert not np.allclose(p3["rural_income"], built[0]["rural_income"])
    assert t3["digital_pilot"]["att_overall"] != t2["digital_pilot"]["att_overall"]
    # the frame and the real pilots do not depend on the seed
    assert (p3["land_reform"] == built[0]["land_reform"]).all()


def test_bad_years_raise():
    with pytest.raises(SpecificationError):
        county_panel(start=2015)


def test_shipped_files_equal_fresh_build(panel, truth, effects):
    shipped = datasets.load_county_panel()
    assert list(shipped.columns) == list(panel.columns)
    assert len(shipped) == len(panel)
    for col in panel.columns:
        a, b = shipped[col], panel[col]
        if col in DECIMALS:
            tol = 0.5 * 10 ** -DECIMALS[col]
            assert (a.isna() == b.isna()).all(), col
            ok = a.notna()
            assert np.allclose(a[ok].to_numpy(float), b[ok].to_numpy(float), atol=tol, rtol=0), col
        elif col in ("land_reform_year", "digital_pilot_year"):
            assert a.astype("Float64").fillna(-1).eq(b.astype("Float64").fillna(-1)).all(), col
        else:
            assert a.astype(str).fillna("").equals(b.astype(str).fillna("")), col
    assert datasets.load_truth() == truth
    eff = pd.read_csv(SYN / "truth_effects.csv.gz", dtype={"county": str})
    assert list(eff.columns) == list(effects.columns)
    assert (eff["county"] == effects["county"]).all()
    num = [c for c in effects.columns if c not in ("county", "year")]
    assert np.allclose(eff[num].to_numpy(float), effects[num].to_numpy(float), atol=1e-9, rtol=0)
    cb = pd.read_csv(SYN / "codebook.csv")
    assert set(RAW_INDICATORS + COVARIATES) <= set(cb["column"])
    for f in ("county_panel.csv.gz", "truth_effects.csv.gz", "truth.json", "codebook.csv"):
        assert (SYN / f).stat().st_size < 5 * 2 ** 20, f


def test_build_is_byte_reproducible(built, tmp_path):
    """Writing a fresh build gives the shipped files byte for byte (gzip mtime=0)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import build_synthetic
    build_synthetic.write(tmp_path, *built)
    for f in ("county_panel.csv.gz", "truth_effects.csv.gz", "truth.json", "codebook.csv"):
        assert (tmp_path / f).read_bytes() == (SYN / f).read_bytes(), f


# --- schema, keys, ranges, missing ------------------------------------------------------------

def test_keys_balanced_and_schema(panel, effects):
    counties = datasets.load_counties()
    assert panel["county"].str.fullmatch(r"\d{6}").all()
    assert not panel.duplicated(["county", "year"]).any()
    assert set(panel["county"]) == set(counties["adcode"])
    assert (panel.groupby("county")["year"].nunique() == 13).all()
    assert sorted(panel["year"].unique()) == list(range(2010, 2023))
    assert len(RAW_INDICATORS) == 20
    for col in RAW_INDICATORS + COVARIATES:
        assert col in panel.columns
    assert (effects[["county", "year"]].to_numpy() == panel[["county", "year"]].to_numpy()).all()


def test_missing_only_where_allowed(panel):
    for col in panel.columns:
        share = panel[col].isna().mean()
        if col in MISSING_COLUMNS:
            assert 0.005 <= share <= 0.06, (col, share)
        elif col in ("land_reform_year", "land_reform_type", "digital_pilot_year"):
            continue
        else:
            assert share == 0, col


#: plausible yearbook ranges (min, max) for every cell, and for the median of 2010 and 2022
RANGES = {
    "urbanization_rate": (0, 100), "nonfarm_emp_share": (0, 100), "pension_coverage": (0, 100),
    "road_density": (0, 10), "builtup_share": (0, 100), "broadband_rate": (0, 100),
    "gdp_pc": (3_000, 500_000), "rural_income": (1_500, 80_000), "income_ratio": (1.0, 5.0),
    "nonagri_share": (30, 100), "ag_productivity": (3_000, 300_000), "hospital_beds": (0.5, 16),
    "teachers_per10k": (40, 250), "consumption_ratio": (0.8, 4.0), "fiscal_exp_pc": (1_000, 300_000),
    "fertilizer_intensity": (5, 1_600), "forest_cover": (0, 90), "sewage_treatment": (0, 100),
    "sanitary_toilet": (0, 100), "pm25": (2, 200), "population": (0.3, 800),
    "loans_gdp": (0.05, 5), "land_transfer_rate": (0, 100), "fiscal_selfsuff": (0, 1.5),
    "digital_gov": (0, 100),
}
MEDIANS = {  # column: ((lo, hi) median 2010, (lo, hi) median 2022)
    "urbanization_rate": ((25, 50), (40, 65)),
    "rural_income": ((4_000, 9_000), (14_000, 26_000)),
    "income_ratio": ((2.2, 3.0), (1.7, 2.4)),
    "gdp_pc": ((15_000, 35_000), (45_000, 90_000)),
    "hospital_beds": ((2.5, 4.5), (4.5, 8)),
    "land_transfer_rate": ((8, 20), (25, 45)),
    "pm25": ((35, 70), (20, 40)),
}


def test_ranges_and_trends(panel):
    for col, (lo, hi) in RANGES.items():
        v = panel[col].dropna()
        assert v.min() >= lo and v.max() <= hi, (col, v.min(), v.max())
    med = panel.groupby("year").median(numeric_only=True)
    for col, ((a0, b0), (a1, b1)) in MEDIANS.items():
        assert a0 <= med.loc[2010, col] <= b0, (col, med.loc[2010, col])
        assert a1 <= med.loc[2022, col] <= b1, (col, med.loc[2022, col])
    growth = np.log(med.loc[2022, "rural_income"] / med.loc[2010, "rural_income"]) / 12
    assert 0.07 <= growth <= 0.095
    urb_pp = (med.loc[2022, "urbanization_rate"] - med.loc[2010, "urbanization_rate"]) / 12
    assert 0.6 <= urb_pp <= 1.6
    # 5-95% range of gdp_pc inside 10k-200k, districts richer, east > central > west
    q = panel["gdp_pc"].quantile([0.05, 0.95])
    assert q.iloc[0] >= 10_000 and q.iloc[1] <= 200_000
    by_type = panel.groupby(panel["county_type"] == "district")[["gdp_pc", "urbanization_rate"]].median()
    assert (by_type.loc[True] > by_type.loc[False]).all()
    by_reg = panel.groupby("region")["rural_income"].median()
    assert by_reg["east"] > by_reg["central"] > by_reg["west"]
    assert by_reg["east"] > by_reg["northeast"] > by_reg["west"]


def test_spatially_correlated(panel):
    """County effects are spatially correlated on the queen graph (Moran's I of 2010 values)."""
    counties = datasets.load_counties().sort_values("adcode")
    w = contiguity_matrix(counties["adcode"], datasets.load_county_edges())
    y = panel[panel["year"] == 2010].set_index("county").loc[counties["adcode"]]
    for col in ("gdp_pc", "rural_income", "forest_cover", "pm25"):
        z = np.log1p(y[col].to_numpy(float))
        ok = np.isfinite(z)
        z = np.where(ok, z, np.nanmean(z)) - np.nanmean(z)
        moran = z @ (w @ z) / (z @ z)
        assert moran > 0.3, (col, moran)


# --- policies ---------------------------------------------------------------------------------

def test_land_reform_pilots(panel, truth):
    pilots = datasets.load_land_reform_pilots()
    expected = dict(zip(pilots["adcode_current"], np.where(
        pilots["initial_pilot_type_en"] == "collective_construction_land_market_entry", 2015,
        pilots["all_three_reforms_from"])))
    assert len(expected) == 33
    got = panel.dropna(subset=["land_reform_year"]).groupby("county")["land_reform_year"].first()
    assert got.astype(int).to_dict() == {k: int(v) for k, v in expected.items()}
    assert sorted(set(expected.values())) == [2015, 2016, 2017]
    assert sum(v == 2015 for v in expected.values()) == 15
    on = panel["year"] >= panel["land_reform_year"].fillna(9999)
    assert (panel["land_reform"] == on.astype(int)).all()
    assert truth["land_reform"]["n_pilots"] == 33
    types = panel.dropna(subset=["land_reform_year"]).groupby("county")["land_reform_type"].first()
    assert set(types) == {"market_entry", "homestead", "expropriation"}


def test_digital_pilot_design(panel, truth):
    coh = panel.groupby("county")["digital_pilot_year"].first().dropna().astype(int)
    assert set(coh) == {2014, 2016, 2018, 2020}
    assert 300 <= len(coh) <= 1500
    on = panel["year"] >= panel["digital_pilot_year"].astype("Float64").fillna(9999)
    assert (panel["digital_pilot"] == on.astype(int)).all()
    assert {int(k): v for k, v in truth["digital_pilot"]["cohort_sizes"].items()} == \
        coh.value_counts().sort_index().to_dict()
    # selection correlated with development: treated counties richer in 2010
    p10 = panel[panel["year"] == 2010].set_index("county")
    tr = p10.index.isin(coh.index)
    assert p10.loc[tr, "gdp_pc"].median() > p10.loc[~tr, "gdp_pc"].median()


def test_integration_zone(panel, truth):
    z = panel.groupby("county")["integration_zone"].first()
    assert 40 <= z.sum() <= 150
    assert len(truth["integration_zone"]["zones"]) == 11
    assert all(len(v) >= 3 for v in truth["integration_zone"]["zones"].values())


# --- effects, counterfactual, true_effect ----------------------------------------------------

def test_effects_only_where_programmes_act(panel, effects):
    treated_or_neigh = effects["te_land_rural_income"] != 0
    assert (effects.loc[panel["land_reform"].to_numpy() == 0, "te_land_land_transfer_rate"] == 0).all()
    never = panel["digital_pilot_year"].isna().to_numpy()
    assert (effects.loc[never, "te_digital_nonfarm_emp_share"] == 0).all()
    assert (effects.loc[panel["digital_pilot"].to_numpy() == 0, "te_digital_nonfarm_emp_share"] == 0).all()
    assert treated_or_neigh.sum() > 33 * 6  # pilots and spillovers to neighbours
    # urban income is unaffected: income_ratio * rural_income is the same in both worlds
    cf = counterfactual(panel, effects, "land_reform")
    urban_obs = panel["income_ratio"] * panel["rural_income"]
    urban_cf = cf["income_ratio"] * cf["rural_income"]
    rel = (urban_obs / urban_cf - 1).abs()
    # only the 2-decimal rounding of the two ratios and the rounding of rural income to 1 yuan
    bound = 0.005 / panel["income_ratio"] + 0.005 / cf["income_ratio"] + 1.0 / cf["rural_income"]
    assert (rel <= bound + 1e-12).all()


def test_counterfactual_and_true_effect(panel, effects):
    cf = counterfactual(panel, effects)
    assert np.allclose(cf["rural_income"] + effects["te_land_rural_income"], panel["rural_income"])
    assert np.allclose(cf["nonfarm_emp_share"] + effects["te_digital_nonfarm_emp_share"],
                       panel["nonfarm_emp_share"])
    untouched = [c for c in panel.columns if c not in
                 ("rural_income", "income_ratio", "gdp_pc", "land_transfer_rate", "nonfarm_emp_share")]
    pd.testing.assert_frame_equal(cf[untouched], panel[untouched])
    te = true_effect(panel, effects, lambda p: np.log(p["rural_income"]), "land_reform")
    assert np.allclose(te["effect"], effects["te_land_log_rural_income"], atol=1e-12)
    # derived outcome: an index with fixed bounds and weights
    def index(p):
        return 0.5 * (p["nonfarm_emp_share"] / 100) + 0.5 * (p["land_transfer_rate"] / 100)
    both = true_effect(panel, effects, index, ["land_reform", "digital_pilot"])
    parts = (true_effect(panel, effects, index, "land_reform")["effect"]
             + true_effect(panel, effects, index, "digital_pilot")["effect"])
    assert np.allclose(both["effect"], parts, atol=1e-12)
    with pytest.raises(SpecificationError):
        counterfactual(panel, effects, "nonsense")
    # the contract's forms: counterfactual(panel, truth) and true_effect(panel, fn, programme)
    # use the shipped effects table
    pd.testing.assert_frame_equal(counterfactual(panel, datasets.load_truth()), cf)
    te2 = true_effect(panel, lambda p: np.log(p["rural_income"]), "land_reform")
    assert np.allclose(te2["effect"], te["effect"], atol=1e-9)


# --- recovery checks --------------------------------------------------------------------------

def test_a_att_gt_equals_cell_means(panel, effects, truth):
    df = pd.DataFrame({"g": panel["digital_pilot_year"], "year": panel["year"],
                       "te": effects["te_digital_nonfarm_emp_share"]}).dropna(subset=["g"])
    cell = df.groupby(["g", "year"])["te"].agg(["mean", "size"])
    att = pd.DataFrame(truth["digital_pilot"]["att_gt"]).set_index(["cohort", "year"])
    cell.index = cell.index.set_levels(cell.index.levels[0].astype(int), level=0)
    assert np.allclose(att.loc[cell.index, "att"], cell["mean"], atol=1e-12)
    assert (att.loc[cell.index, "n"] == cell["size"]).all()
    # pre-periods are zero; effects grow with exposure in every cohort
    assert (att.loc[att["event_time"] < 0, "att"] == 0).all()
    for g, sub in att[att["event_time"] >= 0].groupby(level=0):
        assert sub["att"].is_monotonic_increasing, g
    post = df[panel.loc[df.index, "digital_pilot"] == 1]
    assert np.isclose(truth["digital_pilot"]["att_overall"], post["te"].mean(), atol=1e-12)


def test_b_twfe_land_reform_recovers_att(panel, truth):
    """TWFE of log rural income on the land-reform dummy, on the sample without spillover-
    contaminated controls (the 33 pilots plus counties not adjacent to any pilot).

    Tolerance: Z_TOL county-clustered SEs; the SE must be below 0.01 (the ATT is ~0.08),
    so the check bites. The TWFE estimand given the true effects differs from the simple ATT
    only by its weighting of event times; that gap is also checked to be below one SE.
    """
    counties = datasets.load_counties().sort_values("adcode")
    w = contiguity_matrix(counties["adcode"], datasets.load_county_edges())
    pil = panel.groupby("county")["land_reform_year"].first().reindex(counties["adcode"]).notna()
    adj = (w @ pil.to_numpy(float)) > 0
    drop = set(counties["adcode"][adj & ~pil.to_numpy()])
    df = panel[~panel["county"].isin(drop)].assign(ly=lambda d: np.log(d["rural_income"]))
    Z = _within(df, ["ly", "land_reform"])
    b, se = _ols_cluster(Z[:, 0], Z[:, [1]], df["county"].to_numpy(), 0)
    att = truth["land_reform"]["att_log_rural_income"]
    estimand = truth["land_reform"]["twfe_static_estimand_clean_sample"]
    assert se[0] < 0.01
    assert abs(b[0] - att) < Z_TOL * se[0], (b[0], att, se[0])
    assert abs(estimand - att) < se[0]
    # the a path (effect on the mediator) likewise
    Z = _within(df, ["land_transfer_rate", "land_reform"])
    b, se = _ols_cluster(Z[:, 0], Z[:, [1]], df["county"].to_numpy(), 0)
    assert abs(b[0] - truth["land_reform"]["mediation"]["a"]) < Z_TOL * se[0] + 0.3


def test_c_threshold_slopes_at_true_gamma(panel, truth):
    """OLS of the within-transformed threshold model at the true gamma.

    Regressors: loans_gdp x 1[log gdp_pc <= gamma], loans_gdp x 1[>gamma], land_transfer_rate,
    land_reform. With sigma_e = 0.035 and ~37,000 county-years the SEs are ~0.003; tolerance
    Z_TOL SEs, and the SE must be below a quarter of |beta_high - beta_low| so that the two
    regimes are told apart.
    """
    th = truth["threshold"]
    low = np.log(panel["gdp_pc"]) <= th["gamma"]
    assert 0.3 <= low.mean() <= 0.7
    df = panel.assign(ly=np.log(panel["rural_income"]), xl=panel["loans_gdp"] * low,
                      xh=panel["loans_gdp"] * ~low)
    Z = _within(df, ["ly", "xl", "xh", "land_transfer_rate", "land_reform"])
    b, se = _ols_cluster(Z[:, 0], Z[:, 1:], df["county"].to_numpy(), 0)
    diff = abs(th["beta_high"] - th["beta_low"])
    assert se[0] < diff / 4 and se[1] < diff / 4
    assert abs(b[0] - th["beta_low"]) < Z_TOL * se[0], (b[0], se[0])
    assert abs(b[1] - th["beta_high"]) < Z_TOL * se[1], (b[1], se[1])
    assert abs(b[2] - truth["land_reform"]["mediation"]["b"]) < Z_TOL * se[2]


def test_d_lesage_pace_effects_dense(truth):
    """Effects in truth (closed form from the eigenvalues) against the explicit dense S_k on a W
    rebuilt here independently from the edge list."""
    ids = sorted(datasets.load_counties()["adcode"])
    pos = {a: i for i, a in enumerate(ids)}
    edges = datasets.load_county_edges()
    n = len(ids)
    W = np.zeros((n, n))
    for a, b in zip(edges["adcode_a"], edges["adcode_b"]):
        W[pos[a], pos[b]] = W[pos[b], pos[a]] = 1.0
    W /= W.sum(axis=1, keepdims=True)
    w = contiguity_matrix(ids, edges)
    assert np.array_equal(w.toarray(), W)
    assert truth["spatial"]["n_links"] == int((W > 0).sum())
    sp_t = truth["spatial"]
    Ainv = np.linalg.inv(np.eye(n) - sp_t["rho"] * W)
    for k in sp_t["regressors"]:
        S = Ainv @ (sp_t["beta"][k] * np.eye(n) + sp_t["theta"][k] * W)
        direct = np.trace(S) / n
        total = S.sum() / n
        eff = sp_t["effects"][k]
        assert abs(eff["direct"] - direct) < 1e-10
        assert abs(eff["total"] - total) < 1e-10
        assert abs(eff["indirect"] - (total - direct)) < 1e-10


def test_e_sdm_holds_in_the_data(panel, truth):
    """log(gdp_pc) - rho W y - X beta - W X theta is two-way FE plus iid noise of sd sigma_e."""
    counties = datasets.load_counties().sort_values("adcode")
    w = contiguity_matrix(counties["adcode"], datasets.load_county_edges())
    s = truth["spatial"]
    df = panel.sort_values(["year", "county"])
    n = len(counties)
    y = np.log(df["gdp_pc"].to_numpy(float)).reshape(-1, n).T      # N x T
    X = {k: df[k].to_numpy(float).reshape(-1, n).T for k in s["regressors"]}
    r = y - s["rho"] * (w @ y)
    for k in s["regressors"]:
        r = r - s["beta"][k] * X[k] - s["theta"][k] * (w @ X[k])
    r = r - r.mean(axis=1, keepdims=True) - r.mean(axis=0, keepdims=True) + r.mean()
    T = y.shape[1]
    sd = r.std() / np.sqrt((n - 1) * (T - 1) / (n * T))
    assert abs(sd / s["sigma_e"] - 1) < 0.03, sd


def test_digital_twfe_is_biased(panel, effects, truth):
    """The static TWFE coefficient sits near its estimand given the true effects, which is
    visibly below the true overall ATT (forbidden comparisons with growing effects)."""
    Z = _within(panel, ["nonfarm_emp_share", "digital_pilot"])
    b, se = _ols_cluster(Z[:, 0], Z[:, [1]], panel["county"].to_numpy(), 0)
    d = truth["digital_pilot"]
    assert abs(b[0] - d["twfe_static_estimand"]) < Z_TOL * se[0]
    assert d["att_overall"] - d["twfe_static_estimand"] > 4 * se[0]


def test_dgp_weights_equal_the_spatial_module_weights():
    """The W that generated the data is the W the estimators use."""
    from analysis.spatial import queen_weights as spatial_queen

    counties = datasets.load_counties()
    ids = sorted(counties["adcode"])
    ours = contiguity_matrix(ids, datasets.load_county_edges())
    theirs = spatial_queen()
    order = pd.Index(theirs.ids).get_indexer(ids)
    assert (order >= 0).all()
    theirs_sorted = theirs.sparse[order][:, order]
    assert abs(ours - theirs_sorted).max() < 1e-15
