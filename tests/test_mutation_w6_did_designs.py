"""Issue 15 (mutation coverage), wave 6: tests for the survivors of the seed-20261209 samples of the
DiD design modules (psm, placebo, synthetic_did, did_compare, bacon, long_difference) and for the
rest of the same class in the same function (every settings key, every stats key, every option).

Each test calls the estimator itself (no module-scoped fixture): mutmut maps a test to the functions
it calls while it runs, so a test that only reads a fixture built by another test is never run
against that function's mutants. Expected values come from the definition, computed here
independently (dummy-variable least squares with numpy, explicit loops), tolerances written next to
them with their reason. The review of every survivor is in ``tests/README.md`` (mutation section).
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from _did_synth import staggered_panel  # noqa: E402
from test_mutation_did_core import _compare_panel  # noqa: E402


def _dummy_wls(y, X, unit, period, w=None):
    """(Weighted) least squares of y on X + unit dummies + period dummies (numpy lstsq): X's coefficients."""
    U = pd.get_dummies(pd.Series(unit), dtype=float).to_numpy()
    T = pd.get_dummies(pd.Series(period), dtype=float).to_numpy()[:, 1:]
    Z = np.column_stack([X, U, T])
    sw = np.ones(len(y)) if w is None else np.sqrt(np.asarray(w, dtype=float))
    beta = np.linalg.lstsq(Z * sw[:, None], np.asarray(y, dtype=float) * sw, rcond=None)[0]
    return beta[: X.shape[1]]


# --------------------------------------------------------------------------------------------
# PSM-DID
# --------------------------------------------------------------------------------------------
def test_psm_nearest_options_reach_the_fit_and_every_settings_and_stats_key():
    """Nearest 1:2 with caliper, no common support, a control and another cluster column: the DiD is the
    unweighted dummy regression on the rows of the matched units (numpy lstsq, 1e-8: lstsq vs
    demeaning rounding); every settings and stats key and the result fields by definition."""
    from analysis.did import psm_did

    d = staggered_panel(n_units=80, seed=5)
    res = psm_did(d, "y", "treat", ["x1"], method="nearest", k=2, caliper=0.05, common=False,
                  controls=["x2"], cluster="province", seed=3)
    s = res.scores
    first = int(d["adoption"].min())
    st = res.settings
    assert st == {
        "y": "y", "treat": "treat", "covariates": ["x1"], "method": "nearest", "k": 2, "caliper": 0.05,
        "replacement": True, "matching": f"pooled, covariates averaged over years < {first}",
        "common support": False, "kernel": None, "DiD weights": "none (rows of matched units)",
        "fixed effects": "county + year", "controls": ["x2"], "seed": 3,
        "se": "CRV1 clustered by province, reghdfe small-sample factor",
    }
    assert res.model == "PSM-DID (psmatch2 + reghdfe)"
    assert res.reference == ("psmatch2 (Leuven and Sianesi 2003) + reghdfe; pstest standardized bias "
                             "(Rosenbaum and Rubin 1985)")
    assert res.outcome == "y" and res.fixed_effects == ("county", "year") and res.vcov_type == "cluster"
    assert res.cluster == ("province",) and res.seed == 3
    used = d[d["county"].isin(s.loc[s["matched"], "county"])]
    assert res.n_clusters == res.stats["clusters"] == used["province"].nunique()
    assert res.stats["N"] == res.rows.n_used == len(used)
    assert res.stats["treated matched"] == int(((s["group"] == 1) & s["matched"]).sum()) > 0
    assert res.stats["treated off support"] == 0 and s["on_support"].all()  # common=False
    assert res.stats["controls matched"] == int(((s["group"] == 0) & s["matched"]).sum()) > 0
    # caliper 0.05 leaves some treated units unmatched: their rows are reported, not dropped silently
    n_unmatched_t = int(((s["group"] == 1) & ~s["matched"]).sum())
    assert n_unmatched_t > 0
    assert res.rows.dropped["county not matched"] == len(d) - len(used)
    did = (used["treat"]).to_numpy(dtype=float)
    beta = _dummy_wls(used["y"].to_numpy(), np.column_stack([did, used["x2"]]), used["county"], used["year"])
    assert res.params["did"] == pytest.approx(beta[0], abs=1e-8)
    assert res.params["x2"] == pytest.approx(beta[1], abs=1e-8)


def test_psm_by_year_radius_weighted_did_and_generator_seed():
    """Year-by-year radius matching: the DiD is weighted by psmatch2 _weight of each unit-year
    (numpy weighted lstsq, 1e-8); settings say so; a Generator seed is reported as "Generator"."""
    from analysis.did import psm_did

    d = staggered_panel(n_units=80, seed=5)
    res = psm_did(d, "y", "treat", ["x1", "x2"], method="radius", caliper=0.1, by_year=True,
                  seed=np.random.default_rng(2))
    st = res.settings
    assert st["matching"] == "year by year" and st["replacement"] == "n/a" and st["kernel"] is None
    assert st["DiD weights"] == "psmatch2 _weight" and st["seed"] == "Generator" and res.seed is None
    assert st["method"] == "radius" and st["caliper"] == 0.1 and st["common support"] is True
    s = res.scores
    assert sorted(res.logit.index) == sorted(int(t) for t in d["year"].unique())
    key = s.loc[s["matched"], ["county", "year", "weight"]]
    used = d.merge(key, on=["county", "year"], how="inner")
    assert res.rows.n_used == len(used) == res.stats["N"]
    beta = _dummy_wls(used["y"].to_numpy(), used[["treat"]].to_numpy(dtype=float), used["county"], used["year"],
                      w=used["weight"])
    assert res.params["did"] == pytest.approx(beta[0], abs=1e-8)
    assert res.stats["treated off support"] == int(((s["group"] == 1) & ~s["on_support"]).sum())


def test_psm_density_plot_skips_a_group_whose_scores_do_not_vary():
    """A group with one score repeated has no density (gaussian_kde of a constant is singular): that
    curve is left out and the other drawn, in both panels."""
    from analysis.did.psm import PSMDiDResult

    scores = pd.DataFrame({"group": [1, 1, 1, 0, 0, 0], "pscore": [0.2, 0.5, 0.7, 0.25, 0.25, 0.25],
                           "weight": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]})
    res = PSMDiDResult(params=pd.Series({"did": 0.0}), std_errors=pd.Series({"did": 1.0}), scores=scores)
    fig = res.plot_density("en")
    for ax in fig.axes:
        assert [ln.get_color() for ln in ax.get_lines()] == ["C3"]  # treated only
    plt.close("all")


# --------------------------------------------------------------------------------------------
# placebo
# --------------------------------------------------------------------------------------------
def _placebo_panel(seed=4):
    d = staggered_panel(n_units=30, years=range(2010, 2017), cohorts=(2013, 2015), seed=seed, n_provinces=3)
    return d


@pytest.mark.parametrize("engine", ["demean", "closed_form"])
def test_placebo_test_every_settings_key_and_the_actual_estimate_by_dummy_ols(engine):
    """Within-province draws with a control and a Generator seed, then units draws with an integer seed:
    the settings dict in full, the result fields, and the actual coefficient against dummy OLS with the
    control (numpy lstsq, 1e-8: lstsq vs demeaning rounding)."""
    from analysis.did import placebo_test

    d = _placebo_panel()
    res = placebo_test(d, "y", treat="treat", n_draws=20, scheme="within_province", controls=["x2"],
                       seed=np.random.default_rng(1), progress=False, engine=engine)
    assert res.settings == {
        "y": "y", "treatment": "treat", "scheme": "within_province", "n_draws": 20, "seed": "Generator",
        "controls": ["x2"], "fixed effects": "county + year", "strata": "province",
        "p-value": "two-sided c/B (ritest) and (1+c)/(B+1)", "engine": engine,
    }
    assert res.scheme == "within_province" and res.seed is None and res.vcov_type == "cluster"
    assert res.cluster == ("county",) and res.n_clusters == d["county"].nunique()
    assert res.rows.n_used == len(d) and res.rows.n_input == len(d)
    assert res.stats == {"N": len(d), "treated units": int(d["adoption"].notna().groupby(d["county"]).first().sum()),
                         "units": d["county"].nunique()}
    beta = _dummy_wls(d["y"].to_numpy(), d[["treat", "x2"]].to_numpy(dtype=float), d["county"], d["year"])
    assert res.actual == pytest.approx(beta[0], abs=1e-8) and res.params["did"] == res.actual
    # within province: each draw keeps every province's adoption years (as a multiset)
    prov = d.groupby("county", sort=False)["province"].first().reindex(res.units).to_numpy()
    real = d.groupby("county", sort=False)["adoption"].first().reindex(res.units).fillna(0).to_numpy()
    for row in res.assignments:
        for p in np.unique(prov):
            assert sorted(row[prov == p]) == sorted(real[prov == p])
    r2 = placebo_test(d, "y", adoption="adoption", n_draws=5, seed=7, progress=False)
    assert r2.settings["seed"] == 7 and r2.settings["strata"] is None and r2.settings["treatment"] == "adoption"
    assert r2.settings["engine"] == "closed_form" and r2.seed == 7 and r2.scheme == "units"


def test_placebo_test_errors_name_the_argument_and_the_fix():
    from analysis.did import placebo_test
    from analysis.errors import SpecificationError

    d = _placebo_panel()
    with pytest.raises(SpecificationError, match=r"^engine='fast' is not one of 'auto', 'closed_form', 'demean'\.$"):
        placebo_test(d, "y", treat="treat", n_draws=5, progress=False, engine="fast")
    with pytest.raises(SpecificationError, match=r"^n_draws=0 must be at least 1\.$"):
        placebo_test(d, "y", treat="treat", n_draws=0, progress=False)
    with pytest.raises(SpecificationError, match=r"^scheme='years' is not one of 'units', 'units_and_years', "
                                                 r"'within_province'\.$"):
        placebo_test(d, "y", treat="treat", n_draws=5, progress=False, scheme="years")
    holes = d.copy()
    holes["province"] = holes["province"].where(holes["county"] != holes["county"].iloc[0])
    with pytest.raises(SpecificationError, match=r"^strata column 'province' is missing for some units; fill it\.$"):
        placebo_test(holes, "y", treat="treat", n_draws=5, progress=False, scheme="within_province")
    with pytest.raises(SpecificationError, match=r"^no treated units: nothing to permute\.$"):
        placebo_test(d.assign(treat=0), "y", treat="treat", n_draws=5, progress=False)


def test_placebo_units_and_years_draws_years_with_replacement_after_the_first_year():
    """units_and_years: as many pseudo-treated units as treated ones, years drawn with replacement from
    the sample years after the first (6 here, for 6 treated units): some draw repeats a year (without
    replacement every draw would use each year once; fixed seed)."""
    from analysis.did import placebo_test

    d = _placebo_panel()
    res = placebo_test(d, "y", treat="treat", n_draws=10, scheme="units_and_years", seed=3, progress=False)
    n_tr = res.stats["treated units"]
    repeats = 0
    for row in res.assignments:
        yrs = row[row > 0]
        assert len(yrs) == n_tr and set(yrs) <= set(range(2011, 2017))
        repeats += len(set(yrs)) < len(yrs)
    assert repeats > 0


def test_fake_timing_and_placebo_outcome_fields_and_coefficients_by_dummy_ols():
    """fake_timing_test: the actual post rows dropped, adoption moved 2 years earlier, dummy OLS (1e-8);
    placebo_outcome_test: one coefficient per outcome, each by dummy OLS; settings, stats, model, reference."""
    from analysis.did import fake_timing_test, placebo_outcome_test

    d = _placebo_panel()
    r = fake_timing_test(d, "y", treat="treat", shift=-2, controls=["x2"])
    pre = d[d["treat"] == 0]
    fake = (pre["adoption"].notna() & (pre["year"] >= pre["adoption"] - 2)).astype(float)
    beta = _dummy_wls(pre["y"].to_numpy(), np.column_stack([fake, pre["x2"]]), pre["county"], pre["year"])
    assert r.params["did"] == pytest.approx(beta[0], abs=1e-8)
    assert r.rows.dropped["actual post-treatment rows of treated units"] == int(d["treat"].sum())
    assert r.rows.n_used == len(pre)
    assert r.stats == {"N": len(pre), "clusters": pre["county"].nunique()}
    assert r.settings == {"y": "y", "shift": -2, "controls": ["x2"], "fixed effects": "county + year",
                          "se": "CRV1 clustered by county, reghdfe small-sample factor"}
    assert r.model == "Fake-timing placebo (adoption -2 years)"
    assert r.reference == ("fake-timing (pre-dated treatment) placebo (Stata reghdfe with a pre-dated treatment "
                           "dummy)")
    assert r.vcov_type == "cluster" and r.cluster == ("county",) and r.n_clusters == pre["county"].nunique()

    d2 = d.assign(z=d["x1"] * 2.0 + d["x2"])
    d2.loc[d2.index[:3], "z"] = np.nan
    po = placebo_outcome_test(d2, ["x2", "z"], adoption="adoption", controls=["x1"])
    for out in ("x2", "z"):
        sub = d2[d2[out].notna()]
        b = _dummy_wls(sub[out].to_numpy(), sub[["treat", "x1"]].to_numpy(dtype=float), sub["county"], sub["year"])
        assert po.params[out] == pytest.approx(b[0], abs=1e-8)
    assert list(po.params.index) == ["x2", "z"]
    assert po.settings == {"treatment": "adoption", "controls": ["x1"], "fixed effects": "county + year",
                           "se": "CRV1 clustered by county, reghdfe small-sample factor"}
    assert po.model == "Placebo-outcome DiD"
    assert po.reference == "placebo outcomes (outcomes the policy cannot affect)"
    assert po.extra["rows"]["z"].n_used == len(d2) - 3 and po.rows.n_used == len(d2)


# --------------------------------------------------------------------------------------------
# bacon
# --------------------------------------------------------------------------------------------
def _bacon_panel(seed=2):
    d = staggered_panel(n_units=30, years=range(2010, 2018), cohorts=(2012, 2015), seed=seed)
    always = d["county"].unique()[:3]
    d.loc[d["county"].isin(always), "adoption"] = 2008  # adopted before the sample: always treated
    d["treat"] = ((d["year"] >= d["adoption"]) & d["adoption"].notna()).astype(int)
    return d.rename(columns={"county": "cid", "year": "yr"})


def test_bacon_every_settings_and_stats_key_under_other_column_names():
    """entity/time given other names: the settings dict in full, the stats dict in full (V_D and the
    TWFE coefficient by dummy least squares, 1e-10: lstsq rounding), rows, model and reference; the
    by-type table and the weighted sum by definition from the decomposition (1e-12)."""
    from analysis.did import bacon_decomposition

    d = _bacon_panel()
    res = bacon_decomposition(d, "y", "treat", entity="cid", time="yr")
    assert res.settings == {
        "y": "y", "treat": "treat", "entity": "cid", "time": "yr", "fixed effects": "cid + yr",
        "se": "CRV1 clustered by cid, reghdfe small-sample factor",
        "always-treated units": "kept as a cohort treated in the first period (R bacondecomp convention)",
    }
    U = pd.get_dummies(d["cid"], dtype=float).to_numpy()
    T = pd.get_dummies(d["yr"], dtype=float).to_numpy()[:, 1:]
    Z = np.column_stack([U, T])
    D = d["treat"].to_numpy(float)
    d_res = D - Z @ np.linalg.lstsq(Z, D, rcond=None)[0]
    twfe = float(d_res @ d["y"].to_numpy(float) / (d_res @ d_res))
    assert set(res.stats) == {"N", "units", "periods", "V_D", "weight_sum"}
    assert (res.stats["N"], res.stats["units"], res.stats["periods"]) == (len(d), 30, 8)
    assert res.stats["V_D"] == pytest.approx(float((d_res ** 2).mean()), rel=1e-10)
    dec = res.decomposition
    assert res.stats["weight_sum"] == pytest.approx(float(dec["weight"].sum()), abs=1e-15)
    assert res.twfe == pytest.approx(twfe, rel=1e-10) and res.params["did"] == res.twfe
    assert res.weighted_sum() == pytest.approx(float((dec["weight"] * dec["estimate"]).sum()), abs=1e-15)
    assert res.weighted_sum() == pytest.approx(twfe, rel=1e-10)
    assert res.rows.n_input == res.rows.n_used == len(d) and res.rows.dropped == {}
    # units adopted in 2008, before the sample, form the cohort of the first year 2010 (R bacondecomp)
    lva = dec[dec["type"] == "Later vs Always Treated"]
    assert sorted(lva["treated"]) == [2012, 2015] and (lva["control"] == 2010).all()
    assert res.cluster == ("cid",) and res.fixed_effects == ("cid", "yr") and res.n_clusters == 30
    assert res.model == "Goodman-Bacon decomposition of TWFE"
    assert res.reference == "Goodman-Bacon (2021, J. Econometrics 225:254-277); R bacondecomp::bacon(), Stata bacondecomp"
    by = res.by_type().set_index("type")
    assert sorted(by.index) == sorted(set(dec["type"]))
    for typ, grp in dec.groupby("type"):
        assert by.loc[typ, "weight"] == pytest.approx(grp["weight"].sum(), abs=1e-15)
        assert by.loc[typ, "avg_est"] == pytest.approx((grp["weight"] * grp["estimate"]).sum() / grp["weight"].sum(),
                                                        rel=1e-12)
        assert by.loc[typ, "n_comparisons"] == len(grp)
    text = res.summary()
    assert f"Goodman-Bacon decomposition (weights sum to {dec['weight'].sum():.12g}; weighted sum " \
           f"{res.weighted_sum():.12g})" in text


def test_bacon_error_messages_name_the_units_and_the_fix():
    from analysis.did import bacon_decomposition
    from analysis.errors import SpecificationError, UnbalancedPanelError

    d = _bacon_panel()
    units = d["cid"].unique()
    short = d[~((d["cid"].isin(units[:10])) & (d["yr"] == 2013))]
    with pytest.raises(UnbalancedPanelError) as e:
        bacon_decomposition(short, "y", "treat", entity="cid", time="yr")
    assert str(e.value) == (f"the panel is unbalanced: 10 cid(s) lack some of the 8 periods "
                            f"({', '.join(map(str, units[:8]))} ...). The decomposition is an identity only "
                            "for a balanced panel: keep units observed in every period.")
    few = d[~((d["cid"].isin(units[:2])) & (d["yr"] == 2013))]
    with pytest.raises(UnbalancedPanelError) as e:
        bacon_decomposition(few, "y", "treat", entity="cid", time="yr")
    assert f"({units[0]}, {units[1]}). The decomposition" in str(e.value)
    flat = d.assign(treat=1)
    with pytest.raises(SpecificationError, match=r"^treatment 'treat' has no within-unit, within-period variation; "
                                                 r"nothing to decompose\.$"):
        bacon_decomposition(flat, "y", "treat", entity="cid", time="yr")


def test_bacon_missing_values_message_lists_every_reason_and_row():
    """Missing outcome in two rows and missing treatment in one: the message counts both reasons,
    comma-separated, and names the rows (nothing is dropped silently)."""
    from analysis.did import bacon_decomposition
    from analysis.errors import UnbalancedPanelError

    d = _bacon_panel()
    d.loc[[3, 50], "y"] = np.nan
    d.loc[[7], "treat"] = np.nan
    with pytest.raises(UnbalancedPanelError) as e:
        bacon_decomposition(d, "y", "treat", entity="cid", time="yr")
    assert str(e.value) == ("the Goodman-Bacon decomposition needs a balanced panel without missing values; 3 rows "
                            "have missing values (missing y: 2, missing treat: 1; rows 3, 7, 50). Drop those units "
                            "entirely (or impute) before decomposing.")


# --------------------------------------------------------------------------------------------
# long_difference
# --------------------------------------------------------------------------------------------
def _ld_panel(seed=0, n=40):
    """n counties in 4 provinces, 8 prefectures, years 2000/2010/2020; pilot on every other county."""
    rng = np.random.default_rng(seed)
    units = [f"c{i:02d}" for i in range(n)]
    d = pd.DataFrame({"county": np.repeat(units, 3), "year": np.tile([2000, 2010, 2020], n)})
    d["province"] = np.repeat([f"P{i % 4}" for i in range(n)], 3)
    d["prefecture_adcode"] = np.repeat([f"F{i % 8}" for i in range(n)], 3)
    d["pilot"] = np.repeat([int(i % 3 == 0) for i in range(n)], 3)
    d["x"] = rng.normal(size=len(d))
    d["y"] = np.exp(rng.normal(size=len(d)) * 0.3 + 0.5 * d["pilot"] * (d["year"] == 2020) + 2.0)
    return d


def test_long_difference_with_fe_control_and_middle_periods_by_dummy_ols():
    """pre=2010, post=2020 of three periods, province FE, the pre value of a control, clustered by the
    default prefecture column: the coefficients are dummy least squares on the unit changes (numpy,
    1e-10: rounding); the stats, settings, model, reference and outcome in full."""
    from analysis.did import long_difference

    d = _ld_panel()
    r = long_difference(d, "y", "pilot", pre=2010, post=2020, controls=["x"], transform="log")
    a = d[d["year"] == 2010].set_index("county")
    b = d[d["year"] == 2020].set_index("county")
    dy = np.log(b["y"]) - np.log(a["y"])
    P = pd.get_dummies(a["province"], dtype=float).to_numpy()
    X = np.column_stack([a["pilot"].to_numpy(float), a["x"].to_numpy(), P])
    beta = np.linalg.lstsq(X, dy.to_numpy(), rcond=None)[0]
    assert r.params["did"] == pytest.approx(beta[0], abs=1e-10)
    assert r.params["x"] == pytest.approx(beta[1], abs=1e-10)
    assert r.model == "Long difference 2010->2020 (log): change regressed on the treatment dummy"
    assert r.reference.startswith("Long difference (two-period DiD): Angrist and Pischke (2009)")
    assert r.outcome == "d_y"
    tr = a["pilot"] == 1
    assert r.stats["mean_change_treated"] == pytest.approx(dy[tr].mean(), abs=1e-12)
    assert r.stats["mean_change_control"] == pytest.approx(dy[~tr].mean(), abs=1e-12)
    assert (r.stats["n_treated"], r.stats["n_control"], r.stats["pre"], r.stats["post"]) == (14, 26, 2010, 2020)
    assert {k: r.settings[k] for k in ("pre", "post", "transform", "treat", "controls", "rows")} == {
        "pre": 2010, "post": 2020, "transform": "log", "treat": "pilot", "controls": ["x"],
        "rows": "units (one change per unit)"}
    assert r.cluster == ("prefecture_adcode",) and r.n_clusters == 8
    assert r.rows.n_input == 40 and r.rows.n_used == 40
    assert r.rows.dropped == {"no pre-period value": 0, "no post-period value": 0}
    ch = r.extra["changes"].set_index("county")
    assert list(ch.columns) == ["d_y", "did", "x", "province", "prefecture_adcode", "year"]
    assert (ch["year"] == 2020).all()
    np.testing.assert_allclose(ch["x"].to_numpy(), a.loc[ch.index, "x"].to_numpy(), rtol=0, atol=0)


def test_long_difference_period_order_and_group_errors():
    from analysis.did import long_difference
    from analysis.errors import SpecificationError, YearRangeError

    d = _ld_panel()
    kw = dict(fe=None, cluster=None, vcov="hetero")
    with pytest.raises(YearRangeError, match=r"^pre=2020 must come before post=2010\.$"):
        long_difference(d, "y", "pilot", pre=2020, post=2010, **kw)
    with pytest.raises(YearRangeError, match=r"^post=2030 is not a value of column 'year'"):
        long_difference(d, "y", "pilot", post=2030, **kw)
    none = d.assign(pilot=0)
    with pytest.raises(SpecificationError) as e:
        long_difference(none, "y", "pilot", **kw)
    assert str(e.value) == ("the long difference needs treated and control units with 'y' in both 2000 and 2020: "
                            "0 treated, 40 control countys. Check 'pilot'.")


def test_long_difference_log_message_lists_at_most_five_units():
    """Seven units with a zero outcome: transform='log' names the first five and the fix, in full."""
    from analysis.did import long_difference
    from analysis.errors import NonNumericError

    d = _ld_panel()
    zero = d["county"].isin([f"c{i:02d}" for i in range(7)]) & (d["year"] == 2000)
    with pytest.raises(NonNumericError) as e:
        long_difference(d.assign(y=d["y"].where(~zero, 0.0)), "y", "pilot", transform="log", fe=None, cluster=None,
                        vcov="hetero")
    assert str(e.value) == ("transform='log' needs 'y' > 0; county ['c00', 'c01', 'c02', 'c03', 'c04'] have values "
                            "<= 0. Use transform='level'.")


# --------------------------------------------------------------------------------------------
# compare (did_compare): no seed-20261209 sample was run in wave 6 (time); these cover the class of
# the earlier survivors (settings, messages, options passed on) in static_twfe and run_estimators
# --------------------------------------------------------------------------------------------
def test_static_twfe_every_field_with_a_control_and_another_cluster():
    """static_twfe with a control and cluster=province: coefficients = dummy least squares (numpy,
    1e-8: lstsq vs demeaning rounding); the settings dict in full, stats, model, reference, description,
    the dict-style access and its KeyError."""
    from analysis.did import static_twfe

    d = _compare_panel()
    rng = np.random.default_rng(0)
    d["x"] = rng.normal(size=len(d))
    d["prov"] = d["county"] % 5
    r = static_twfe(d, "y", "adoption", cluster="prov", controls=["x"], alpha=0.1)
    D = ((d["adoption"] > 0) & (d["year"] >= d["adoption"])).to_numpy(float)
    U = pd.get_dummies(d["county"], dtype=float).to_numpy()
    T = pd.get_dummies(d["year"], dtype=float).to_numpy()[:, 1:]
    beta = np.linalg.lstsq(np.column_stack([D, d["x"], U, T]), d["y"].to_numpy(), rcond=None)[0]
    assert r.params["did"] == pytest.approx(beta[0], abs=1e-8) and r.params["x"] == pytest.approx(beta[1], abs=1e-8)
    assert r.settings == {"y": "y", "adoption": "adoption", "fixed effects": "county + year", "cluster": "prov",
                          "controls": ["x"],
                          "se": "CRV1 clustered by prov, reghdfe small-sample factor, t(G-1) inference"}
    assert r.stats == {"N": len(d), "clusters": 5} and r.n_clusters == 5 and r.cluster == ("prov",)
    assert r.model == "Static TWFE DiD" and r.vcov_type == "cluster" and r.fixed_effects == ("county", "year")
    assert r.reference == "two-way fixed-effects DiD; Stata reghdfe y D, absorb(county year) vce(cluster county)"
    assert r.description == "static TWFE coefficient on D = 1{year >= adoption} (CRV1, reghdfe rules)"
    assert list(r.cov.index) == ["did", "x"] and r.rows.n_used == len(d) and r.rows.dropped == {}
    assert np.allclose(np.sqrt(np.diag(r.cov.to_numpy())), r.std_errors.to_numpy(), rtol=1e-14, atol=0)
    ov = r.as_overall()
    assert ov["description"] == r.description and r["did"] == r.params["did"] and r["x"] == r.params["x"]
    assert r["se"] == r["std_error"] == r.std_errors["did"] and r["ci_low"] < r["did"] < r["ci_high"]
    with pytest.raises(KeyError, match=r"'nope': use one of \['estimate', 'std_error', 'se', 'ci_low', 'ci_high', "
                                       r"'description'\] or a term \['did', 'x'\]"):
        r["nope"]


def test_run_estimators_passes_twfe_options_to_the_static_fit_and_names_unknown_estimators():
    from analysis.did import run_estimators, static_twfe
    from analysis.errors import SpecificationError

    d = _compare_panel()
    d["prov"] = d["county"] % 5
    out = run_estimators(d, "y", "adoption", which=("TWFE",), twfe_kwargs={"cluster": "prov", "alpha": 0.1})
    es = out["TWFE"]
    st = static_twfe(d, "y", "adoption", cluster="prov", alpha=0.1)
    assert es.extra["static_twfe"].settings == st.settings
    assert es.overall == st.as_overall()
    assert set(es.extra["event_average"]) >= {"estimate"}
    with pytest.raises(SpecificationError, match=r"^unknown estimator 'OLS'; use TWFE, Callaway-Sant'Anna, "
                                                 r"Sun-Abraham, Imputation\.$"):
        run_estimators(d, "y", "adoption", which=("OLS",))


def test_as_event_study_refuses_other_results_by_name():
    from analysis.did import as_event_study, static_twfe
    from analysis.errors import SpecificationError

    r = static_twfe(_compare_panel(), "y", "adoption")
    with pytest.raises(SpecificationError, match=r"^cannot compare a StaticTWFEResult: pass an EventStudyResult "
                                                 r"\(event_study, sun_abraham, imputation\) or a Callaway-Sant'Anna "
                                                 r"result\.$"):
        as_event_study(r)


def test_long_difference_unit_without_a_post_row_is_counted_and_log_message_with_a_missing_value():
    """A unit whose post row is absent (not NaN: no row) is reported under "no post-period value" and
    left out of the change table; a nullable (Float64) outcome with <NA> in one unit and 0 in another:
    transform='log' names the unit with 0 (the missing one is not an error)."""
    from analysis.did import long_difference
    from analysis.errors import NonNumericError

    d = _ld_panel()
    gone = d[~((d["county"] == "c05") & (d["year"] == 2020))]
    r = long_difference(gone, "y", "pilot", fe=None, cluster=None, vcov="hetero")
    assert r.rows.dropped == {"no pre-period value": 0, "no post-period value": 1}
    assert r.rows.n_input == 40 and r.rows.n_used == 39
    assert "c05" not in set(r.extra["changes"]["county"]) and len(r.extra["changes"]) == 39
    nd = d.assign(y=d["y"].astype("Float64"))
    nd.loc[(nd["county"] == "c01") & (nd["year"] == 2000), "y"] = pd.NA
    nd.loc[(nd["county"] == "c03") & (nd["year"] == 2020), "y"] = 0.0
    with pytest.raises(NonNumericError, match=r"^transform='log' needs 'y' > 0; county \['c03'\] have values <= 0\."):
        long_difference(nd, "y", "pilot", transform="log", fe=None, cluster=None, vcov="hetero")


def test_bacon_plot_on_given_axes_returns_their_figure():
    from analysis.did import bacon_decomposition

    res = bacon_decomposition(_bacon_panel(), "y", "treat", entity="cid", time="yr")
    fig, ax = plt.subplots()
    assert res.plot(lang="en", ax=ax, title="T") is fig and ax.get_title() == "T"
    plt.close(fig)


def test_placebo_table_columns_plot_label_and_outcome_test_df():
    """PlaceboResult.table() by its definition (column names and values from the draws), the actual
    estimate's legend entry in both languages, and placebo_outcome_test's residual df: the smallest of
    its fits' (CRV1 by county: G - 1)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.did import placebo_outcome_test, placebo_test

    d = _placebo_panel()
    res = placebo_test(d, "y", treat="treat", n_draws=12, seed=5, progress=False)
    t = res.table()
    dr = np.asarray(res.draws, dtype=float)
    assert list(t.columns) == ["actual", "placebo_mean", "placebo_sd", "placebo_q025", "placebo_q975", "n_draws",
                               "count_abs_ge", "p_two_sided", "p_exact", "mc_error", "scheme"]
    row = t.iloc[0]
    assert row["placebo_mean"] == pytest.approx(dr.mean(), abs=1e-12)
    assert row["placebo_sd"] == pytest.approx(dr.std(ddof=1), abs=1e-12)
    assert (row["placebo_q025"], row["placebo_q975"]) == pytest.approx(tuple(np.quantile(dr, [0.025, 0.975])), abs=1e-12)
    assert row["n_draws"] == 12 and row["actual"] == res.actual
    for lang, text in (("en", f"Actual estimate = {res.actual:.4f} (p = {res.p_value_exact:.3f})"),
                       ("zh", f"真实估计值 = {res.actual:.4f}（p = {res.p_value_exact:.3f}）")):
        fig = res.plot(lang=lang)
        assert text in [line.get_label() for ax in fig.axes for line in ax.get_lines()]
        plt.close(fig)
    po = placebo_outcome_test(d, ["x2", "x1"], adoption="adoption")
    assert po.df_resid == d["county"].nunique() - 1


def _one_cohort_panel(seed):
    """40 counties x 2010-2015, half adopting in 2013 (0 = never), effect 0.5, noise sd 0.01."""
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    d["treat"] = ((d["adoption"] > 0) & (d["year"] >= 2013)).astype(int)
    d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    return d


def test_run_estimators_with_other_key_names_and_plot_comparison_layout():
    """run_estimators passes the user's entity column to the imputation estimator (a panel keyed by
    "cid" fits, with the same estimate as the panel keyed by "county"); plot_comparison draws on a
    7.2 x 4.0 inch figure, labels the axes in the language asked, and ticks every event time including
    the reference period."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.did import plot_comparison, run_estimators

    d = _one_cohort_panel(seed=0)
    base = run_estimators(d, "y", "adoption", which=("Imputation",))
    renamed = run_estimators(d.rename(columns={"county": "cid"}), "y", "adoption", entity="cid", which=("Imputation",))
    np.testing.assert_allclose(renamed["Imputation"].params.to_numpy(), base["Imputation"].params.to_numpy(), atol=1e-12)
    fig = plot_comparison(run_estimators(d, "y", "adoption", which=("TWFE", "Sun-Abraham")), lang="en")
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == pytest.approx((7.2, 4.0))
    assert ax.get_xlabel() == "Years relative to adoption"
    assert {-1, 0} <= {int(t) for t in ax.get_xticks()}
    plt.close(fig)


def test_compare_estimators_overall_interval_and_plot_comparison_labels():
    """compare_estimators' overall row carries each estimator's overall interval (both ends); and
    plot_comparison names each estimator in the legend, draws the truth in black, and titles the
    figure in Chinese by default."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba

    from analysis.did import as_event_study, compare_estimators, plot_comparison, run_estimators

    d = _one_cohort_panel(seed=1)
    res = run_estimators(d, "y", "adoption", which=("TWFE", "Sun-Abraham"))
    tab = compare_estimators(res).set_index(["estimator", "term"])
    for name, r in res.items():
        ov = as_event_study(r).overall
        assert tab.loc[(name, "overall"), "ci_low"] == pytest.approx(ov["ci_low"], abs=1e-12)
        assert tab.loc[(name, "overall"), "ci_high"] == pytest.approx(ov["ci_high"], abs=1e-12)
    fig = plot_comparison(res, truth_event={-2: 0.0, 0: 0.5, 1: 0.5})
    ax = fig.axes[0]
    assert ax.get_title() == "不同估计量的事件研究估计"
    assert {"TWFE", "Sun-Abraham"} <= set(ax.get_legend_handles_labels()[1])
    truth = [line for line in ax.get_lines() if line.get_label() == "模拟真值"]
    assert len(truth) == 1 and to_rgba(truth[0].get_color()) == to_rgba("k")
    plt.close(fig)
