"""Specification curves and design power: every fast-path estimate equals a from-scratch fit with
analysis.regression.fe; results do not depend on the backend or worker count; the power simulation
has its nominal size and its closed-form TWFE equals a refit."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import SpecificationError
from analysis.regression import fe
from analysis.robustness import design_power, expand_grid, specification_curve
from analysis.robustness.power import _effect_pattern, _twfe_all_effects


def toy_panel(seed=0, n=120, years=range(2010, 2020)):
    rng = np.random.default_rng(seed)
    years = np.array(list(years))
    county = np.array([f"{110000 + i:06d}" for i in range(n)])
    province = np.array([f"p{i % 7}" for i in range(n)])
    ctype = np.where(np.arange(n) % 4 == 0, "district", "county")
    adopt = np.where(rng.random(n) < 0.3, rng.choice([2014, 2016], n), 0)
    d = pd.DataFrame({"county": np.repeat(county, len(years)), "year": np.tile(years, n),
                      "province": np.repeat(province, len(years)), "county_type": np.repeat(ctype, len(years)),
                      "adopt": np.repeat(adopt, len(years))})
    d["treat"] = ((d["adopt"] > 0) & (d["year"] >= d["adopt"])).astype(float)
    d["x1"] = rng.normal(size=len(d))
    d["x2"] = rng.normal(size=len(d))
    mu = np.repeat(rng.normal(size=n), len(years))
    d["a"] = rng.normal(size=len(d))
    d["b"] = 0.5 * d["a"] + rng.normal(size=len(d))
    d["y"] = 0.3 * d["treat"] + 0.2 * d["x1"] + mu + 0.1 * (d["year"] - 2010) + rng.normal(size=len(d))
    d.loc[rng.choice(len(d), 15, replace=False), "x2"] = np.nan  # missing cells: a different sample
    return d


def stub_builder(calls):
    def build(data, weights="equal", scope="pooled"):
        calls.append((weights, scope))
        w = {"equal": (0.5, 0.5), "skew": (0.8, 0.2)}[weights]
        return w[0] * data["a"] + w[1] * data["b"] + 0.3 * data["treat"]
    return build


BASE = {"outcome": "y", "treatment": "treat", "controls": "x1", "sample": "full", "fe": ("county", "year"),
        "cluster": "county", "estimator": "twfe",
        "control_sets": {"none": (), "x1": ("x1",), "both": ("x1", "x2")},
        "samples": {"full": None, "no_districts": "county_type != 'district'", "end_2017": "year <= 2017"}}
VARIATIONS = {"controls": ["none", "x1", "both"], "sample": ["full", "no_districts", "end_2017"],
              "cluster": ["county", "province", ("county", "year")]}


def test_every_specification_equals_a_fit_from_scratch():
    data = toy_panel()
    curve = specification_curve(data, BASE, VARIATIONS, progress=False, index_builder=None)
    assert len(curve.table) == 27 and curve.table["number"].tolist() == list(range(27))
    sets, samples = BASE["control_sets"], BASE["samples"]
    for _, row in curve.table.iterrows():
        sub = data if samples[row["sample"]] is None else data.query(samples[row["sample"]])
        ctrl = sets[row["controls"]]
        cluster = tuple(row["cluster"].split("+"))
        ref = fe("y ~ " + " + ".join(["treat", *ctrl]), sub, cluster=cluster)
        assert row["estimate"] == pytest.approx(ref.params["treat"], abs=1e-10)
        assert row["std_error"] == pytest.approx(ref.std_errors["treat"], rel=1e-9)
        assert row["n_obs"] == ref.rows.n_used
    base = curve.table.iloc[0]
    assert (base["controls"], base["sample"], base["cluster"]) == ("x1", "full", "county")


def test_index_built_once_per_setting_and_matches_direct_fit():
    data = toy_panel(1)
    calls = []
    base = {**BASE, "outcome": "index", "index.weights": "equal", "index.scope": "pooled"}
    curve = specification_curve(data, base, {"index.weights": ["equal", "skew"], "controls": ["none", "x1"],
                                             "sample": ["full", "end_2017"]},
                                progress=False, index_builder=stub_builder(calls))
    assert sorted(calls) == [("equal", "pooled"), ("skew", "pooled")]
    row = curve.table.query("`index.weights` == 'skew' and controls == 'none' and sample == 'end_2017'").iloc[0]
    direct = data.assign(idx=0.8 * data["a"] + 0.2 * data["b"] + 0.3 * data["treat"]).query("year <= 2017")
    assert row["estimate"] == pytest.approx(fe("idx ~ treat", direct).params["treat"], abs=1e-10)


def test_random_subset_is_reproducible_and_keeps_the_base():
    a = expand_grid(BASE, VARIATIONS, n_specs=10, seed=7)
    b = expand_grid(BASE, VARIATIONS, n_specs=10, seed=7)
    c = expand_grid(BASE, VARIATIONS, n_specs=10, seed=8)
    assert [s.choices for s in a] == [s.choices for s in b]
    assert [s.choices for s in a] != [s.choices for s in c]
    assert len(a) == 10 and a[0].choices["controls"] == "x1" and a[0].choices["sample"] == "full"


@pytest.mark.slow
def test_results_identical_across_backends_and_workers():
    data = toy_panel(2)
    serial = specification_curve(data, BASE, VARIATIONS, progress=False, index_builder=None).table
    loky = specification_curve(data, BASE, VARIATIONS, n_jobs=2, backend="loky", progress=False, index_builder=None).table
    dask = specification_curve(data, BASE, VARIATIONS, n_jobs=2, backend="dask", progress=False, index_builder=None).table
    pd.testing.assert_frame_equal(serial, loky)
    pd.testing.assert_frame_equal(serial, dask)


def test_bad_specifications_are_named():
    data = toy_panel()
    with pytest.raises(SpecificationError, match="unknown dimensions"):
        specification_curve(data, BASE, {"weights": ["a"]}, progress=False)
    with pytest.raises(SpecificationError, match="no_such_sample"):
        specification_curve(data, BASE, {"sample": ["no_such_sample"]}, progress=False, index_builder=None)


def test_closed_form_power_twfe_equals_refit():
    rng = np.random.default_rng(3)
    years = np.arange(2010, 2020)
    n = 80
    adopt = np.where(rng.random(n) < 0.25, rng.choice([2013, 2016], n), 0)
    D, R = _effect_pattern(adopt, years, "ramp", 3)
    E = rng.normal(size=(n, len(years)))
    effects = np.array([0.0, 0.5])
    est, se, _ = _twfe_all_effects(E, D, R, effects, 0.05)
    for j, tau in enumerate(effects):
        d = pd.DataFrame({"county": np.repeat(np.arange(n), len(years)), "year": np.tile(years, n),
                          "y": (E + tau * R).ravel(), "d": D.ravel()})
        ref = fe("y ~ d", d)
        assert est[j] == pytest.approx(ref.params["d"], abs=1e-10)
        assert se[j] == pytest.approx(ref.std_errors["d"], rel=1e-9)


def test_power_has_nominal_size_and_rises_with_the_effect():
    data = toy_panel(4, n=300)
    res = design_power({"n_treated": 40, "selection": "random", "adoption": [2014, 2016], "years": (2010, 2019)},
                       effect_sizes=[0.0, 0.2, 0.5], n_sims=400, seed=5, panel=data, outcome="y")
    t = res.table.set_index("effect")
    size = t.loc[0.0, "rejection_rate"]
    # 400 draws: MC SE of a 5% rate is 0.011; allow 3 SE, the cluster-robust t being slightly liberal
    assert abs(size - 0.05) < 3 * np.sqrt(0.05 * 0.95 / 400) + 0.01
    assert t.loc[0.2, "rejection_rate"] < t.loc[0.5, "rejection_rate"]
    assert t.loc[0.5, "rejection_rate"] > 0.9
    assert t.loc[0.5, "mean_estimate"] == pytest.approx(0.5, abs=0.02)
    again = design_power({"n_treated": 40, "selection": "random", "adoption": [2014, 2016], "years": (2010, 2019)},
                         effect_sizes=[0.0, 0.2, 0.5], n_sims=400, seed=5, panel=data, outcome="y")
    pd.testing.assert_frame_equal(res.table, again.table)


def test_callaway_santanna_specifications_equal_direct_calls():
    from analysis.did import callaway_santanna
    from analysis.robustness.engine import spec_seed

    data = toy_panel(6, n=150)
    base = {**BASE, "adoption": "adopt", "estimator": "callaway_santanna", "controls": "none"}
    curve = specification_curve(data, base, {"controls": ["none", "x1"], "cluster": ["county", "province"]},
                                progress=False, index_builder=None, seed=11)
    for _, row in curve.table.iterrows():
        ctrl = BASE["control_sets"][row["controls"]]
        clustered = row["cluster"] == "province"
        ref = callaway_santanna(data, "y", "adopt", covariates=ctrl, control="never", method="dr",
                                cluster="province" if clustered else None, bootstrap=499 if clustered else 0,
                                seed=spec_seed(11, row["number"])).aggregate("simple")
        assert row["estimate"] == pytest.approx(ref.params["ATT"], abs=1e-12)
        assert row["std_error"] == pytest.approx(ref.std_errors["ATT"], rel=1e-12)
    # the clustered bootstrap SE differs from the analytic one: the cluster choice is not ignored
    t = curve.table.set_index(["controls", "cluster"])
    assert t.loc[("none", "province"), "std_error"] != t.loc[("none", "county"), "std_error"]


# ------------------------------------------------------------------------------------------
# design_power with the wild cluster bootstrap and randomization inference
# ------------------------------------------------------------------------------------------
def _toy_design(seed=2, n=60, k=6, years=np.arange(2010, 2020)):
    rng = np.random.default_rng(seed)
    adopt = np.zeros(n, dtype=int)
    adopt[rng.choice(n, k, replace=False)] = rng.choice([2014, 2016], k)
    D = ((adopt[:, None] > 0) & (years[None, :] >= adopt[:, None])).astype(float)
    y = rng.normal(size=(n, len(years))) + rng.normal(size=(n, 1)) + 0.3 * D
    d = pd.DataFrame({"county": np.repeat([f"{110000 + i:06d}" for i in range(n)], len(years)),
                      "year": np.tile(years, n), "y": y.ravel(), "d": D.ravel()})
    return d, D, y, adopt, years


def test_power_wild_bootstrap_equals_package_wild_bootstrap():
    """The closed-form WCR of design_power = analysis.regression.wild_bootstrap with the same Webb weights."""
    from analysis.regression import wild_bootstrap
    from analysis.regression.wild_bootstrap import draw_weights
    from analysis.robustness.power_inference import demean2, wild_p

    d, D, y, _, _ = _toy_design()
    ref = wild_bootstrap("y ~ d", d, "d", B=199, weights_type="webb", seed=42)
    V = draw_weights(D.shape[0], 199, "webb", np.random.default_rng(42))
    p, t_star = wild_p(demean2(D), demean2(y), V)
    ratio = t_star / ref.t_boot  # ours omits the small-sample factor sqrt(q), which cancels in p
    np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
    assert p == ref.p_value


def test_power_randomization_equals_refits_of_permuted_designs():
    """RI draws of design_power = TWFE refits (analysis.regression.fe) on the permuted adoption years."""
    from analysis.robustness.power_inference import demean2, randomization_p

    d, D, y, adopt, years = _toy_design(seed=4)
    p, b_star = randomization_p(D, demean2(y), adopt, years, 49, np.random.default_rng(9))
    treated = np.flatnonzero(adopt > 0)
    idx = np.argsort(np.random.default_rng(9).random((49, len(adopt))), axis=1)[:, : len(treated)]
    for r in range(3):
        a = np.zeros_like(adopt)
        a[idx[r]] = adopt[treated]
        Dp = ((a[:, None] > 0) & (years[None, :] >= a[:, None])).astype(float)
        assert b_star[r] == pytest.approx(fe("y ~ d", d.assign(d=Dp.ravel())).params["d"], abs=1e-10)
    b = fe("y ~ d", d).params["d"]
    assert p == pytest.approx((1 + np.sum(np.abs(b_star) >= abs(b) - 1e-14)) / 50)


def test_wild_bootstrap_and_ri_hold_size_with_few_treated_clusters():
    """8 treated of 150 counties, 400 simulated panels: the clustered t over-rejects, the wild bootstrap
    (Webb weights) and randomization inference stay within the binomial 99% band of 5%,
    0.05 +- 2.576 sqrt(0.05 0.95 / 400) = +- 0.028."""
    data = toy_panel(4, n=150)
    res = design_power({"n_treated": 8, "selection": "random", "adoption": [2014, 2016], "years": (2010, 2019)},
                       effect_sizes=[0.0, 0.6], n_sims=400, seed=11, panel=data, outcome="y",
                       inference=("cluster_t", "wild_bootstrap", "randomization"), n_draws=199)
    t = res.table.set_index(["inference", "effect"])["rejection_rate"]
    band = 2.576 * np.sqrt(0.05 * 0.95 / 400)
    assert abs(t[("wild_bootstrap", 0.0)] - 0.05) <= band, t
    assert abs(t[("randomization", 0.0)] - 0.05) <= band, t
    assert t[("cluster_t", 0.0)] > 0.05 + band, t
    assert t[("wild_bootstrap", 0.6)] > 2 * band + 0.05  # and it has power
    with pytest.raises(SpecificationError, match="inference"):
        design_power({"n_treated": 8}, [0.0], n_sims=2, panel=data, outcome="y", inference=("bayes",))


def test_undefined_callaway_santanna_specification_is_nan_with_its_reason():
    # a sample without any treated county: Callaway-Sant'Anna is undefined there; the curve keeps the
    # specification as NaN with the estimator's reason instead of failing, and the other sample still runs
    data = toy_panel(6, n=150)
    data["adopt"] = data["adopt"].replace(0, np.nan)
    data["ever"] = data["adopt"].notna().astype(int)
    base = {**BASE, "adoption": "adopt", "controls": "none", "estimator": "callaway_santanna",
            "samples": {"full": None, "never_treated": "ever == 0"}}
    curve = specification_curve(data, base, {"sample": ["full", "never_treated"], "controls": ["none", "x1"]},
                                progress=False, index_builder=None, seed=11)
    t = curve.table
    bad, good = t[t["sample"] == "never_treated"], t[t["sample"] == "full"]
    assert len(bad) == 2 and bad["estimate"].isna().all() and bad["std_error"].isna().all()
    assert bad["note"].str.startswith("Callaway-Sant'Anna undefined").all()
    assert good["estimate"].notna().all() and good["note"].isna().all()
    ov = curve.overview()
    assert ov["n_undefined"] == 2 and ov["n_specifications"] == 4
    assert ov["share_positive"] == pytest.approx(float((good["estimate"] > 0).mean()))
    assert ov["median_estimate"] == pytest.approx(float(good["estimate"].median()))
