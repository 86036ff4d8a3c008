"""Wave 7 (issue 15): tests for the survivors of the last mutation samples, one per class.

Each test names the mutant it was written for and failed with that mutant planted by hand.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from analysis.did import compare_estimators, plot_comparison  # noqa: E402
from analysis.did._common import EventStudyResult  # noqa: E402


def _uniform_band_result(overall=None) -> EventStudyResult:
    """Event times -2..2, estimates 0, 0, 0.5, 0.6 (no -1: the reference), SE 0.1, a uniform-band
    critical value 3.0 (as from a multiplier bootstrap), so ci = estimate -/+ 0.3, not -/+ 1.96 SE."""
    return EventStudyResult.from_estimates("CS", [-2, 0, 1, 2], [0.0, 0.5, 0.6, 0.55], se=[0.1] * 4, crit=3.0,
                                           overall=overall)


def test_compare_estimators_overall_row_is_nan_float_when_an_estimator_has_no_overall():
    """compare.py ``compare_estimators`` 60 (S3): a result without an overall estimate gave ``None``, and
    the ``estimate`` column became an object column; it must be a float NaN beside the other rows."""
    tab = compare_estimators({"with": _uniform_band_result({"estimate": 0.5, "std_error": 0.1}),
                              "without": _uniform_band_result()})
    assert tab["estimate"].dtype == np.float64
    over = tab[tab["term"] == "overall"].set_index("estimator")
    assert over.loc["with", "estimate"] == pytest.approx(0.5)
    assert np.isnan(over.loc["without", "estimate"]) and np.isnan(over.loc["without", "std_error"])


def test_plot_comparison_with_event_times_keeps_each_estimators_own_interval_and_legend_place():
    """compare.py ``plot_comparison`` 55 (S1): with ``event_times=`` the upper end of each interval was
    recomputed as estimate + 1.96 SE, which is wrong for a uniform band; 148: the legend left its
    documented place (upper left, away from the post-period estimates)."""
    fig = plot_comparison({"CS": _uniform_band_result()}, event_times=[0, 1], lang="en")
    ax = fig.axes[0]
    bars = ax.containers[0].lines[2][0].get_segments()
    ends = sorted((float(s[0][0]), float(min(s[0][1], s[1][1])), float(max(s[0][1], s[1][1]))) for s in bars)
    ends = [e for e in ends if e[0] in (0.0, 1.0)]  # the reference period -1 is drawn as a point at 0
    assert len(ends) == 2
    np.testing.assert_allclose([e[1] for e in ends], [0.5 - 0.3, 0.6 - 0.3], atol=1e-12)
    np.testing.assert_allclose([e[2] for e in ends], [0.5 + 0.3, 0.6 + 0.3], atol=1e-12)
    assert ax.get_legend()._loc == 2  # matplotlib's code for "upper left"
    plt.close(fig)


def test_event_study_summary_prints_nan_for_overall_and_pretrend_keys_it_was_not_given():
    """_common.py ``EventStudyResult.summary`` 21 (S3): an overall estimate without a standard error
    made ``summary()`` raise (``None`` formatted as a number); every missing key prints ``nan``."""
    res = EventStudyResult.from_estimates("CS", [-2, 0], [0.01, 0.5], se=[0.1, 0.1], overall={"estimate": 0.5},
                                          pretrend={"df": 2})
    text = res.summary()
    assert "overall (): 0.5 (std_error nan)" in text
    assert "pre-trend joint test: F = nan, p = nan (chi2 = nan, df = 2)" in text


def test_late_adopter_note_lists_the_first_five_adoption_years():
    """_common.py ``recode_late_adopters`` 13 (S3): the note lists at most five of the late adoption years
    (sorted), however many there are, and counts every late unit."""
    from analysis.did._common import recode_late_adopters

    g = pd.Series([2030, 2026, 2025, 2027, 2028, 2029, 2029, 2015, np.nan])
    out, note = recode_late_adopters(g, 2020)
    assert note == ("7 county(s) adopting after the last period (2020) treated as never treated within the sample "
                    "(adoption years [2025, 2026, 2027, 2028, 2029])")
    assert out.isna().sum() == 8 and out.iloc[7] == 2015


def test_event_study_plot_marks_the_reference_period_with_a_hollow_marker_of_size_5():
    """_common.py ``plot_event_study`` 101 (S3): the reference period is a white-filled marker of size 5,
    one point larger than the estimates' (4), at event time -1 and estimate 0."""
    res = EventStudyResult.from_estimates("TWFE", [-2, 0, 1], [0.01, 0.5, 0.6], se=[0.1] * 3)
    fig = res.plot(lang="en")
    hollow = [ln for ln in fig.axes[0].get_lines() if ln.get_markerfacecolor() in ("white", "w", (1, 1, 1, 1))]
    assert len(hollow) == 1
    assert hollow[0].get_markersize() == 5 and list(hollow[0].get_xdata()) == [-1]
    assert list(hollow[0].get_ydata()) == [0]
    plt.close(fig)


def test_placebo_outcome_test_without_outcomes_says_what_to_give():
    """placebo.py ``placebo_outcome_test`` 10 (S4): the message for an empty outcome list."""
    from analysis.did import placebo_outcome_test
    from analysis.errors import SpecificationError

    d = pd.DataFrame({"county": [1, 1, 2, 2], "year": [1, 2, 1, 2], "y": [0.0, 1.0, 0.0, 0.5],
                      "adoption": [2, 2, 0, 0]})
    with pytest.raises(SpecificationError, match=r"^give at least one placebo outcome\.$"):
        placebo_outcome_test(d, [], adoption="adoption")


def _staggered_panel(seed: int = 0) -> pd.DataFrame:
    """60 counties x 2010-2017: cohorts 2013 and 2015 (20 each), 20 never treated (adoption 0);
    effect 0.5 from adoption on, county and year effects, noise SD 0.1."""
    rng = np.random.default_rng(seed)
    n, years = 60, np.arange(2010, 2018)
    d = pd.DataFrame({"county": np.repeat(np.arange(n), len(years)), "year": np.tile(years, n)})
    d["adoption"] = np.repeat(np.select([np.arange(n) < 20, np.arange(n) < 40], [2013, 2015], 0), len(years))
    treated = (d["adoption"] > 0) & (d["year"] >= d["adoption"])
    d["y"] = (0.5 * treated + np.repeat(rng.normal(size=n), len(years)) + 0.05 * (d["year"] - 2010)
              + rng.normal(scale=0.1, size=len(d)))
    return d


def test_event_study_settings_name_the_endpoint_rule_of_each_option():
    """event_study.py ``event_study`` 278 (wave 7): ``settings["endpoints"]`` said "binned" whatever
    ``bin_endpoints`` was."""
    from analysis.did import event_study

    d = _staggered_panel()
    assert event_study(d, "y", "adoption", leads=2, lags=1).settings["endpoints"] == "binned"
    res = event_study(d, "y", "adoption", leads=2, lags=1, bin_endpoints=False)
    assert res.settings["endpoints"] == "treated rows outside the window dropped"


def test_callaway_santanna_universal_base_with_anticipation_normalises_e_minus_2_and_keeps_rows():
    """callaway_santanna/aggregation.py ``aggregate`` 135, 142 (wave 7): with a universal base and one
    period of anticipation the normalised event time is e = -1 - 1 = -2 (R ``did``: its SE is NA), not
    e = -1 or e = 0; ``event_study`` 172, 174: the event-study result keeps the estimation's row report
    and reference."""
    from analysis.did import callaway_santanna

    cs = callaway_santanna(_staggered_panel(), "y", "adoption", base_period="universal", anticipation=1)
    tab = cs.aggregate("dynamic").table.set_index("event_time")
    assert np.isnan(tab.loc[-2, "std_error"]) and tab.loc[-2, "estimate"] == pytest.approx(0.0, abs=1e-12)
    assert np.isfinite(tab.drop(index=-2)["std_error"]).all() and len(tab) == 10
    es = cs.event_study()
    assert es.reference_period == -2 and -2 not in es.event_time["event_time"].tolist()
    assert es.rows is cs.rows and es.rows.n_used == cs.rows.n_used
    assert es.reference == cs.reference and "Callaway" in es.reference


# --------------------------------------------------------------------------------------------------
# did/honest.py (wave 7 sample: 20/30; every survivor below)
# --------------------------------------------------------------------------------------------------
_B4 = np.array([-0.05, 0.0, 0.5, 0.45])  # two pre-period, two post-period coefficients
_S4 = np.eye(4) * 0.01 + 0.002


@pytest.mark.parametrize("M", [0.05, 1.0])
@pytest.mark.parametrize("l_vec", [[1.0, 0.0], [0.5, 0.5], [1.0, -1.0]])
def test_flci_of_minus_theta_is_minus_the_flci_of_theta(M, l_vec):
    """honest.py ``flci`` 129 (wave 7): the minimum-bias LP must leave the pre-period weights free;
    with the default bounds w >= 0 the LP is infeasible for a negative target (``lp.fun`` None) and
    truncated for mixed signs. The FLCI is equivariant: the interval for -l'tau is minus the one for l'tau."""
    from analysis.did.honest import flci

    pos = flci(_B4, _S4, 2, 2, M, l_vec=l_vec)
    neg = flci(_B4, _S4, 2, 2, M, l_vec=[-v for v in l_vec])
    assert neg["lb"] == pytest.approx(-pos["ub"], abs=1e-6) and neg["ub"] == pytest.approx(-pos["lb"], abs=1e-6)
    assert neg["bias"] == pytest.approx(pos["bias"], abs=1e-6)


def test_flci_with_m_zero_reports_no_bias_and_the_normal_half_length():
    """honest.py ``flci`` 96 (wave 7): with M = 0 the result's ``bias`` is 0 and the half length is
    z * sd of the minimum-variance weights (the key was renamed by the mutant)."""
    from scipy import stats

    from analysis.did.honest import flci

    r = flci(_B4, _S4, 2, 2, 0.0)
    assert r["bias"] == 0.0
    assert r["half_length"] == pytest.approx(stats.norm.ppf(0.975) * r["sd"], rel=1e-12)
    assert r["ub"] - r["lb"] == pytest.approx(2 * r["half_length"], rel=1e-12)


@pytest.mark.parametrize("method", ["smoothness", "relative_magnitude"])
def test_honest_did_passes_alpha_to_both_methods(method):
    """honest.py ``honest_did`` 170 (wave 7): ``alpha=`` was not passed to the relative-magnitudes
    confidence set (always 95%). Each row equals the direct call at the same alpha."""
    from analysis.did.honest import flci, honest_did, rm_confidence_set

    b = np.array([0.02, -0.01, 0.0, 0.5, 0.45])  # three pre, two post
    S = np.eye(5) * 0.004 + 0.001
    res = honest_did(betahat=b, sigma=S, n_pre=3, method=method, m_values=[0.5], alpha=0.2)
    row = res.table.iloc[0]
    direct = (flci(b, S, 3, 2, 0.5, None, 0.2) if method == "smoothness"
              else rm_confidence_set(b, S, 3, 2, 0.5, None, 0.2, seed=0))
    assert row["lb"] == pytest.approx(direct["lb"], abs=1e-9) and row["ub"] == pytest.approx(direct["ub"], abs=1e-9)
    wide = honest_did(betahat=b, sigma=S, n_pre=3, method=method, m_values=[0.5]).table.iloc[0]
    assert wide["ub"] - wide["lb"] > row["ub"] - row["lb"]


def test_relative_magnitudes_names_the_number_of_bases_it_refuses_to_enumerate():
    """honest.py ``_dual_vertices`` 15, 19 (wave 7): the message gives C(k, m) bases, k moments and
    m - 1 nuisance parameters."""
    from analysis.did.honest import _dual_vertices
    from analysis.errors import SpecificationError

    with pytest.raises(SpecificationError, match=r"^relative magnitudes: 593775 candidate bases for 30 moments "
                       r"and 5 nuisance parameters is too many"):
        _dual_vertices(np.ones(30), np.zeros((30, 5)))


def test_arp_hybrid_test_with_a_degenerate_moment_combination_accepts_exactly_where_it_holds():
    """honest.py ``_arp_hybrid_accept`` 85 (wave 7): when the maximising combination g of the moments has
    no variance (g'SigY g = 0: here Y1 and Y2 perfectly negatively correlated and g = (1/2, 1/2)), the
    test is deterministic: theta is accepted iff g'(Y - a1 theta) <= 0, i.e. theta >= 0 here."""
    from analysis.did.honest import _arp_hybrid_accept

    theta = np.array([-1.0, -0.5, 0.0, 0.5, 1.0])
    acc = _arp_hybrid_accept(np.zeros(2), np.ones(2), np.array([[1.0], [-1.0]]),
                             np.array([[1.0, -1.0], [-1.0, 1.0]]), theta, 0.05, 0.005, 200,
                             np.random.default_rng(0))
    assert acc.tolist() == [False, False, True, True, True]


def test_honest_plot_labels_in_chinese():
    """honest.py ``HonestDiDResult.plot`` 67, 149 (wave 7): the Chinese legend entry of the original
    interval and the x label of the relative-magnitudes plot."""
    from analysis.did.honest import honest_did

    b = np.array([0.02, -0.01, 0.0, 0.5, 0.45])
    S = np.eye(5) * 0.004 + 0.001
    res = honest_did(betahat=b, sigma=S, n_pre=3, method="relative_magnitude", m_values=[0.5, 1.0])
    fig = res.plot(lang="zh")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Mbar（相对幅度约束）"
    assert "原始置信区间" in ax.get_legend_handles_labels()[1]
    plt.close(fig)


# --------------------------------------------------------------------------------------------------
# regression/wild_bootstrap.py (wave 7 sample: 25/30)
# --------------------------------------------------------------------------------------------------
def test_nested_check_does_not_merge_distinct_fe_cluster_pairs():
    """wild_bootstrap.py ``_nested`` 4 (wave 7): the (FE, cluster) pair code is fe * C + cl; with fe / C + cl
    the pairs (0, 1) and (2, 0) collide (C = 2) and an FE spread over two clusters reads as nested."""
    from analysis.regression.wild_bootstrap import _nested

    assert not _nested(np.array([0, 0, 2]), np.array([0, 1, 0]))
    assert _nested(np.array([0, 0, 2, 2, 3]), np.array([1, 1, 0, 0, 0]))


def test_wild_bootstrap_result_fields():
    """wild_bootstrap.py ``wild_bootstrap`` 237 (model name), 238 (``df_resid`` of the fe() fit: the t
    reference of the printed table), 273 (``extra["fe_result"]``), 233 (cluster)."""
    from test_regression_fe import small_panel

    from analysis.regression import fe, wild_bootstrap

    d = small_panel(n=14, T=5, seed=3)
    res = wild_bootstrap("y ~ x1 + x2", d, "x2", n_draws=99, seed=1)
    base = fe("y ~ x1 + x2", d)
    assert res.model == "Wild cluster restricted bootstrap"
    assert res.df_resid == base.df_resid and res.df_resid is not None
    assert res.extra["fe_result"].params["x2"] == pytest.approx(base.params["x2"], rel=1e-12)
    assert res.cluster == ("county",)


def test_frank_wolfe_weights_fit_with_an_intercept_by_default_as_r_sc_weight_fw():
    """_synth_core.py ``fw_weights`` 1 (wave 7): R ``synthdid::sc.weight.fw`` has ``intercept = TRUE`` by
    default, so a target that is a donor plus a constant is matched exactly (weight 1 on that donor) by
    the default call; without the intercept the level shift pulls weight elsewhere."""
    from analysis.did._synth_core import fw_weights

    rng = np.random.default_rng(4)
    donors = rng.normal(size=(12, 3))
    Y = np.column_stack([donors, donors[:, 1] + 5.0])
    w_default, _ = fw_weights(Y, 1e-6)
    w_int, _ = fw_weights(Y, 1e-6, intercept=True)
    w_none, _ = fw_weights(Y, 1e-6, intercept=False)
    np.testing.assert_array_equal(w_default, w_int)
    assert w_default[1] == pytest.approx(1.0, abs=1e-3)
    assert abs(w_none[1] - 1.0) > 0.01


def test_synthetic_control_passes_its_seed_to_the_placebo_draws():
    """synthetic_control.py ``synthetic_control`` 53 (wave 7): ``seed=`` was not passed on, so the placebo
    standard error was always that of seed 0. It equals ``synthetic_did(method="sc")``'s at the same seed."""
    from test_did_synthetic import _sim_panel

    from analysis.did import synthetic_control, synthetic_did

    df = _sim_panel(seed=3, n_treat=2, tau=-4.0)
    a = synthetic_control(df, "y", "d", se="placebo", replications=5, seed=5)
    ref = synthetic_did(df, "y", "d", method="sc", se="placebo", n_draws=5, seed=5)
    assert a.std_errors["ATT"] == pytest.approx(ref.std_errors["ATT"], rel=1e-12)
    other = synthetic_did(df, "y", "d", method="sc", se="placebo", n_draws=5, seed=0)
    assert abs(other.std_errors["ATT"] - a.std_errors["ATT"]) > 1e-6


def test_threshold_single_period_unit_message():
    """threshold/_inputs.py ``_prepare`` 73, 74 (wave 7): the whole message for units seen once."""
    from analysis.errors import UnbalancedPanelError
    from analysis.regression.threshold import threshold

    rng = np.random.default_rng(0)
    d = pd.DataFrame({"county": np.repeat(np.arange(6), 4), "year": np.tile(np.arange(4), 6)})
    d[["y", "x", "q"]] = rng.normal(size=(len(d), 3))
    d = d[~((d.county == 5) & (d.year > 0))]
    with pytest.raises(UnbalancedPanelError, match=r"^1 county value\(s\) are observed in a single period \(.*5.*\); the "
                       r"within transformation removes them entirely\. Drop those units \(they carry no within "
                       r"variation\)\.$"):
        threshold(d, "y", "q", "x", n_draws=10)


def test_normalize_with_stored_bounds_of_a_constant_indicator_gives_zero_without_numpy_warnings():
    """normalize.py ``_core`` 9 (wave 7): bounds stored from data where an indicator is constant
    (max = min), applied to new data where it is not, divide by a zero range; the result is z = 0 for
    that indicator (no information in the base), with the package's ConstantColumnWarning and no numpy
    divide-by-zero RuntimeWarning."""
    import warnings

    from analysis.indicators.normalize import normalize

    base = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [5.0, 5.0, 5.0]})
    with pytest.warns(UserWarning, match="constant"):
        _, bounds = normalize(base, {"a": "+", "b": "-"}, return_bounds=True)
    new = pd.DataFrame({"a": [1.5, 4.0], "b": [6.0, 5.0]})
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        z = normalize(new, {"a": "+", "b": "-"}, bounds=bounds)
    np.testing.assert_allclose(z.to_numpy(), [[0.25, 0.0], [1.5, 0.0]], atol=1e-15)


def test_formula_with_two_tildes_is_refused_before_estimation():
    """regression/_sample.py ``parse_formula`` 25 (wave 7): a second '~' was left in the right-hand side
    (and reached pyfixest); it is now refused by the parser with the count and the fix."""
    from analysis.errors import SpecificationError
    from analysis.regression._sample import parse_formula

    with pytest.raises(SpecificationError, match=r"^formula 'y ~ x ~ z' has 2 '~'; write one: 'y ~ x1 \+ x2'\.$"):
        parse_formula("y ~ x ~ z")
    assert parse_formula(" y ~ x + z | county ").lhs == "y"


def test_prepare_sample_checks_county_year_keys_by_default():
    """regression/_sample.py ``prepare_sample`` 4 (wave 7): the default panel keys are ``county`` and
    ``year``; a duplicated county-year row is an error without naming them."""
    from analysis.errors import DuplicateKeyError
    from analysis.regression._sample import prepare_sample

    d = pd.DataFrame({"county": [1, 1, 2, 2], "year": [1, 2, 1, 2], "y": [1.0, 2.0, 3.0, 4.5], "x": [0.0, 1.0, 0.0, 1.0]})
    with pytest.raises(DuplicateKeyError, match=r"share a \(county, year\) key"):
        prepare_sample(pd.concat([d, d.iloc[[0]]]), "y ~ x", ("county",))
    assert prepare_sample(d, "y ~ x", ("county",)).rows.n_used == 4


def test_honest_did_names_the_method_argument_when_it_is_unknown():
    """honest.py ``honest_did`` 5 (W7b): the message names ``method=`` and both choices."""
    from analysis.did.honest import honest_did
    from analysis.errors import SpecificationError

    with pytest.raises(SpecificationError, match=r"^method='bogus' is not one of 'smoothness', 'relative_magnitude'\.$"):
        honest_did(betahat=np.zeros(4), sigma=np.eye(4), n_pre=2, method="bogus")


# --------------------------------------------------------------------------------------------------
# did/psm.py (W7: 25/30)
# --------------------------------------------------------------------------------------------------
def test_balance_table_matched_columns_by_definition():
    """psm.py ``balance_table`` 131 (W7): the matched-sample columns by name, the matched means as the
    weighted means over rows with weight > 0."""
    from analysis.did.psm import balance_table

    rng = np.random.default_rng(5)
    X = pd.DataFrame({"a": rng.normal(size=40)})
    g = np.r_[np.ones(15, int), np.zeros(25, int)]
    w = np.r_[np.ones(15), rng.uniform(0, 2, 20), np.zeros(5)]
    tab = balance_table(X, g, w)
    assert list(tab.columns) == ["covariate", "mean_treated_U", "mean_control_U", "bias_U", "t_U", "p_U",
                                 "mean_treated_M", "mean_control_M", "bias_M", "bias_reduction", "t_M", "p_M"]
    a = X["a"].to_numpy()
    assert tab.loc[0, "mean_treated_M"] == pytest.approx(a[:15].mean(), rel=1e-12)
    assert tab.loc[0, "mean_control_M"] == pytest.approx(np.average(a[15:35], weights=w[15:35]), rel=1e-12)


def test_kernel_matching_caliper_drops_controls_inside_the_bandwidth_but_beyond_the_caliper():
    """psm.py ``match_on_score`` 236 (W7): kernel matching with a caliper (psmatch2 ``kernel caliper()``)
    crashed; controls beyond the caliper get no weight, the rest Epanechnikov weights, normalised."""
    from analysis.did.psm import match_on_score

    pc = np.array([0.45, 0.48, 0.52, 0.58])
    m = match_on_score(np.array([0.5]), pc, "kernel", caliper=0.06, bandwidth=0.2)
    d = np.abs(0.5 - pc[:3])
    k = 0.75 * (1 - (d / 0.2) ** 2)
    got = m.set_index("control")["weight"].sort_index()
    assert list(got.index) == [0, 1, 2]
    np.testing.assert_allclose(got.to_numpy(), k / k.sum(), rtol=1e-12)
    assert len(match_on_score(np.array([0.5]), pc, "kernel", bandwidth=0.2)) == 4  # no caliper: all four


def test_psm_did_passes_k_and_reads_a_covariate_named_weight():
    """psm.py ``psm_did`` 193 (W7): ``k=`` was not passed to the matching (always one neighbour); 320:
    the by-year DiD sample was merged on every shared column, so a covariate named ``weight`` (the
    matching weight's name) changed the sample. ``plot`` 1: the default language is Chinese."""
    from test_did_psm import staggered_panel

    from analysis.did import psm_did

    d = staggered_panel(n_units=120, seed=2)
    two = psm_did(d, "y", "treat", ["x1"], method="nearest", k=2, seed=1)
    per_treated = two.matches.groupby("treated_id").size()
    assert (per_treated == 2).all() and len(per_treated) > 0
    a = psm_did(d, "y", "treat", ["x1", "x2"], by_year=True, seed=1)
    b = psm_did(d.rename(columns={"x2": "weight"}), "y", "treat", ["x1", "weight"], by_year=True, seed=1)
    assert b.params["did"] == pytest.approx(a.params["did"], rel=1e-12) and b.rows.n_used == a.rows.n_used
    fig = a.plot()
    zh = a.plot_density("zh")
    assert fig.axes[0].get_title() == zh.axes[0].get_title() and fig.axes[0].get_xlabel() == zh.axes[0].get_xlabel()
    plt.close(fig)
    plt.close(zh)


def test_classic_hausman_row_is_scale_free():
    """hausman.py ``_classic_row`` 14 (W7): the rank tolerance is relative to the largest eigenvalue of
    V_FE - V_RE; with an absolute floor of 1e-10 a difference in small units (variances ~1e-14) had rank 0
    and the test was declared not valid. The statistic and df do not depend on the units."""
    from analysis.regression.hausman import _classic_row

    d = pd.Series([0.3, -0.2], index=["a", "b"])
    Vd = pd.DataFrame([[0.04, 0.01], [0.01, 0.09]], index=d.index, columns=d.index)
    big = _classic_row(d, Vd, ["a", "b"], 0.05, "classic")
    small = _classic_row(d * 1e-7, Vd * 1e-14, ["a", "b"], 0.05, "classic")
    assert small["valid"] and small["df"] == big["df"] == 2
    assert small["statistic"] == pytest.approx(big["statistic"], rel=1e-9)
    assert big["statistic"] == pytest.approx(float(d @ np.linalg.solve(Vd, d)), rel=1e-12)


def test_adoption_per_unit_keeps_the_order_units_first_appear_in():
    """_common.py ``adoption_per_unit`` 21 (W7): one adoption year per unit, units in the order they
    first appear in the data (not sorted), also in the message listing units whose year varies."""
    from analysis.did._common import adoption_per_unit
    from analysis.errors import TreatmentTimingError

    d = pd.DataFrame({"county": ["c", "c", "a", "a", "b", "b"], "adoption": [2015, 2015, 0, 0, 2017, 2017]})
    out = adoption_per_unit(d, "adoption")
    assert list(out.index) == ["c", "a", "b"]
    assert np.isnan(out["a"]) and out["c"] == 2015.0 and out["b"] == 2017.0
    d.loc[[1, 5], "adoption"] = [2016, 2018]
    with pytest.raises(TreatmentTimingError, match=r"varies within 2 county\(s\): c, b\. It must be"):
        adoption_per_unit(d, "adoption")


def test_event_study_plot_size_and_interval_caps():
    """_common.py ``plot_event_study`` 12, 70 (W7): the figure is 6.4 x 3.8 inches and each interval has
    caps (two cap markers per estimate, of size 2.5 points)."""
    res = EventStudyResult.from_estimates("TWFE", [-2, 0, 1], [0.01, 0.5, 0.6], se=[0.1] * 3)
    fig = res.plot(lang="en")
    assert tuple(fig.get_size_inches()) == pytest.approx((6.4, 3.8))
    caps = fig.axes[0].containers[0].lines[1]
    assert len(caps) == 2 and caps[0].get_markersize() == pytest.approx(2 * 2.5)
    plt.close(fig)


# --------------------------------------------------------------------------------------------------
# regression/fe.py, did/synthetic_did.py (W7)
# --------------------------------------------------------------------------------------------------
def test_fe_collinearity_warning_without_fixed_effects_says_none():
    """fe.py ``_estimate`` 178 (W7): the collinearity warning of a model without fixed effects says
    "constant within the fixed effects (none)"."""
    from test_regression_fe import small_panel

    from analysis.regression import fe
    from analysis.regression.fe import CollinearityWarning

    d = small_panel(n=20, T=4, seed=1).assign(x3=lambda t: 2.0 * t["x1"])
    with pytest.warns(CollinearityWarning, match=r"constant within the fixed effects \(none\): x3\. They have"):
        fe("y ~ x1 + x3", d, fe=None)


def test_fe_internals_check_county_year_keys_by_default():
    """fe.py ``_estimate`` 4 (W7): the internal estimator other routines call with the default panel keys
    refuses a duplicated county-year row."""
    from test_regression_fe import small_panel

    from analysis.errors import DuplicateKeyError
    from analysis.regression.fe import _estimate

    d = small_panel(n=10, T=3, seed=2)
    with pytest.raises(DuplicateKeyError, match=r"share a \(county, year\) key"):
        _estimate("y ~ x1", pd.concat([d, d.iloc[[0]]]))


def test_fe_wald_of_named_terms_against_nonzero_values():
    """fe.py ``FEResult.wald`` 18 (W7): with named terms and ``r=``, the hypothesis is beta_t = r_t (the
    selection matrix has ones); scaling it tests 2 beta = r instead. By hand from params and cov."""
    from test_regression_fe import small_panel

    from analysis.regression import fe

    res = fe("y ~ x1 + x2", small_panel(n=30, T=5, seed=3))
    w = res.wald(["x1", "x2"], r=[0.8, -0.4])
    d = res.params[["x1", "x2"]].to_numpy() - np.array([0.8, -0.4])
    V = res.cov.loc[["x1", "x2"], ["x1", "x2"]].to_numpy()
    assert w["chi2"] == pytest.approx(float(d @ np.linalg.solve(V, d)), rel=1e-12)
    assert w["F"] == pytest.approx(w["chi2"] / 2, rel=1e-12)


def test_synthetic_did_unbalanced_message_counts_only_the_units_with_holes():
    """synthetic_did.py ``prepare_synth_panel`` 55 (W7): the message counts and names the units that
    lack a period, not every unit."""
    from test_did_synthetic import _sim_panel

    from analysis.did import synthetic_did
    from analysis.errors import UnbalancedPanelError

    df = _sim_panel(seed=3, n_treat=2, T=8, t_adopt=6)
    df = df[~((df["county"].isin(["c03", "c07"])) & (df["year"] == df["year"].min() + 1))]
    with pytest.raises(UnbalancedPanelError, match=r"^2 county\(s\) lack some years \(e\.g\. c03, c07\); the panel has 8 years\."):
        synthetic_did(df, "y", "d")


def test_synthetic_did_records_an_integer_seed_only():
    """synthetic_did.py ``synthetic_did`` 312 (W7): a Generator is not a reproducible seed: the result's
    ``seed`` is None for it and the integer for an integer."""
    from test_did_synthetic import _sim_panel

    from analysis.did import synthetic_did

    df = _sim_panel(seed=3, n_treat=2, T=8, t_adopt=6)
    assert synthetic_did(df, "y", "d", se="placebo", n_draws=3, seed=np.random.default_rng(1)).seed is None
    assert synthetic_did(df, "y", "d", se="placebo", n_draws=3, seed=4).seed == 4


def test_spatial_panel_names_the_log_determinant_route_for_both_kinds_of_w():
    """panel_models.py ``_estimate`` 676 (W7): settings say which eigenvalues gave ln|I - rho W|: the
    symmetric similar form (eigvalsh) for a row-standardised symmetric W, the plain eigenvalues for an
    asymmetric one (here a row-standardised directed ring: each unit's neighbour is the next one)."""
    from _spatial_support import lattice_weights, simulate_sdm

    from analysis.spatial import spatial_panel, weights_from_matrix

    w = lattice_weights(5, 4)
    df = simulate_sdm(w, T=5, seed=3)
    sym = spatial_panel(df, "y", ["x1", "x2"], w, model="sar", effects="entity", n_draws=0)
    assert sym.settings["log-determinant"] == "eigenvalues of W (symmetric similar form, eigvalsh)"
    ring = np.roll(np.eye(w.n), 1, axis=1) * 0.7 + np.roll(np.eye(w.n), -1, axis=1) * 0.3
    wr = weights_from_matrix(ring, ids=w.ids)
    assert not wr.is_symmetric_similar
    asym = spatial_panel(df, "y", ["x1", "x2"], wr, model="sar", effects="entity", n_draws=0)
    assert asym.settings["log-determinant"] == "eigenvalues of W"


def test_psm_balance_plot_draws_the_zero_bias_line():
    """psm.py ``PSMDiDResult.plot_balance`` 79 (W7b): the reference line at zero standardised bias, thin
    (0.8 pt) and grey, behind the unmatched (red circles) and matched (blue crosses) biases."""
    from test_did_psm import staggered_panel

    from analysis.did import psm_did

    res = psm_did(staggered_panel(n_units=80, seed=2), "y", "treat", ["x1", "x2"], seed=1)
    fig = res.plot_balance("en")
    zero = [ln for ln in fig.axes[0].get_lines() if list(ln.get_xdata()) == [0, 0]]
    assert len(zero) == 1 and zero[0].get_linewidth() == 0.8 and zero[0].get_color() == "0.4"
    plt.close(fig)


def test_bacon_plot_layout_and_summary_table_without_an_index():
    """bacon.py ``BaconResult.plot`` 10, 57 (W7): a 6.2 x 4.0 inch figure, markers of size 30 with the
    Chinese type names in the legend; ``summary`` 4: the by-type table is printed without the row index."""
    from _did_synth import staggered_panel

    from analysis.did import bacon_decomposition

    res = bacon_decomposition(staggered_panel(n_units=40, seed=4), "y", "treat")
    fig = res.plot()
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == pytest.approx((6.2, 4.0))
    assert all(c.get_sizes().tolist() == [30.0] for c in ax.collections)
    assert "处理组 vs 从未处理组" in ax.get_legend_handles_labels()[1]
    plt.close(fig)
    lines = res.summary().split("\n")
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["type"])
    rows = lines[header + 1:]
    assert len(rows) == res.decomposition["type"].nunique()
    assert all(r.split()[0] in ("Treated", "Earlier", "Later") for r in rows)  # no row index in front


def test_fe_checks_keys_on_the_entity_it_is_given():
    """fe.py ``_estimate`` 57 (W7b): the entity name was not passed to the sample preparation, so a
    panel keyed by another column (``firm``) was checked as if keyed by ``county``: a duplicated firm-year
    went through."""
    from test_regression_fe import small_panel

    from analysis.errors import DuplicateKeyError
    from analysis.regression import fe

    d = small_panel(n=12, T=3, seed=2).rename(columns={"county": "firm"})
    with pytest.raises(DuplicateKeyError, match=r"share a \(firm, year\) key"):
        fe("y ~ x1", pd.concat([d, d.iloc[[0]]]), entity="firm", fe=("firm", "year"), cluster="firm")


def test_long_difference_bad_period_message_lists_the_first_ten_periods():
    """long_difference.py ``long_difference`` 62 (W7): the message lists at most ten of the periods."""
    from analysis.did import long_difference
    from analysis.errors import YearRangeError

    rng = np.random.default_rng(0)
    d = pd.DataFrame({"county": np.repeat(np.arange(8), 12), "year": np.tile(np.arange(2001, 2013), 8)})
    d["treated"] = np.repeat((np.arange(8) < 4).astype(int), 12)
    d["y"] = rng.normal(size=len(d))
    with pytest.raises(YearRangeError, match=r"^pre=1999 is not a value of column 'year' \(periods: \[2001, 2002, "
                       r"2003, 2004, 2005, 2006, 2007, 2008, 2009, 2010\]\); pass one of them\.$"):
        long_difference(d, "y", "treated", pre=1999, fe=None, cluster=None)


# --------------------------------------------------------------------------------------------------
# regression/moderation.py, regression/heterogeneity.py, did/callaway_santanna/estimation.py (W7)
# --------------------------------------------------------------------------------------------------
def test_moderation_plot_draws_on_the_axes_it_is_given_in_c0():
    """moderation.py ``ModerationResult.plot`` 5 (W7): ``ax=`` was not passed on (a new figure was drawn).
    The marginal-effect line is in C0, the colour of its band."""
    from matplotlib.colors import to_rgba
    from test_regression_mechanisms import mech_panel

    from analysis.regression import moderation

    r = moderation(mech_panel(seed=5), "out2", "policy", "z", grid=10)
    fig, ax = plt.subplots()
    out = r.plot(lang="en", ax=ax)
    assert out is fig and len(ax.get_lines()) >= 1
    line = next(ln for ln in ax.get_lines() if ln.get_label() == "marginal effect")
    assert to_rgba(line.get_color()) == to_rgba("C0")
    plt.close(fig)


def test_heterogeneity_reports_no_missing_group_rows_when_there_are_none():
    """heterogeneity.py ``heterogeneity`` 239 (W7): a "missing <by>: 0" entry was added to the dropped rows
    when no row lacks the group; the row report lists only what was dropped."""
    from test_regression_mechanisms import mech_panel

    from analysis.regression import heterogeneity

    d = mech_panel(seed=5)
    r = heterogeneity("out ~ policy + x1", d, by="region")
    assert "missing region" not in r.rows.dropped and r.rows.n_dropped == 0
    d.loc[d.index[:3], "region"] = np.nan
    assert heterogeneity("out ~ policy + x1", d, by="region").rows.dropped["missing region"] == 3


def test_callaway_santanna_message_when_no_row_is_left():
    """callaway_santanna/estimation.py ``_prepare`` 246 (W7): the whole message when balancing leaves no
    row (every county lacks its outcome in one year)."""
    from analysis.did import callaway_santanna
    from analysis.errors import SpecificationError

    d = _staggered_panel()
    d.loc[d["year"] == 2010 + d["county"] % 8, "y"] = np.nan
    with pytest.raises(SpecificationError, match=r"^no rows left after removing missing values and balancing the panel\.$"):
        callaway_santanna(d, "y", "adoption")


def test_spatial_did_treatment_column_messages_and_default_draws():
    """spatial_did.py ``spatial_did`` 18 (W7): the missing-column message names spatial_did's treatment
    column; 25: a text treatment value is a TreatmentTimingError naming its row, not a bare ValueError;
    4: 1,000 effect draws by default (recorded in the SDM settings)."""
    from _spatial_support import lattice_weights
    from test_spatial_did import _did_panel

    from analysis.errors import ColumnError, TreatmentTimingError
    from analysis.spatial import spatial_did

    w = lattice_weights(4, 4)
    df = _did_panel(w, T=6, seed=1)
    with pytest.raises(ColumnError, match=r"needed by spatial_did\(\) \(the treatment column\) are not in the data"):
        spatial_did(df.drop(columns="treat"), "y", "treat", w, n_draws=0)
    text = df.astype({"treat": object})
    text.loc[text.index[5], "treat"] = "yes"
    with pytest.raises(TreatmentTimingError, match=r"must be 0/1; other values in row 5"):
        spatial_did(text, "y", "treat", w, n_draws=0)
    assert spatial_did(df, "y", "treat", w, seed=1).settings["effects draws"].startswith("1000 (seed=1")


def test_moran_eigenvector_cache_tells_apart_two_w_with_one_sparsity_pattern():
    """spatial_null.py ``mem_basis`` 20 (W7): the cache key rounds W's values to 12 decimals; rounded to
    whole numbers, two rings with one sparsity pattern (weight 0.4 forward for every unit, and 0.30 to
    0.45 varying by unit) shared a key, and the second call got the first W's basis. Each W's basis must
    diagonalise its own H (W + W')/2 H, computed here."""
    from analysis.disparity.spatial_null import _MEM_CACHE, mem_basis

    n = 9
    nxt, prv = np.roll(np.eye(n), 1, axis=1), np.roll(np.eye(n), -1, axis=1)
    H = np.eye(n) - 1.0 / n
    _MEM_CACHE.clear()
    for a in (np.full(n, 0.4), np.linspace(0.30, 0.45, n)):
        W = a[:, None] * nxt + (1 - a)[:, None] * prv
        lam, U = mem_basis(W)
        S = H @ ((W + W.T) / 2) @ H
        np.testing.assert_allclose(U.T @ S @ U, np.diag(lam), atol=1e-10)


def test_geodetector_result_carries_the_ecological_detector():
    """geodetector.py ``geodetector`` 45 (W7): the result's ``ecological`` table (two factors or more) is
    the ecological detector on the same complete-case sample; with one factor it is empty."""
    from analysis.disparity.geodetector import ecological_detector, geodetector

    rng = np.random.default_rng(3)
    d = pd.DataFrame({"x": rng.integers(0, 3, 60), "z": rng.integers(0, 4, 60)})
    d["y"] = 0.8 * d["x"] + rng.normal(size=60)
    res = geodetector(d, "y", ["x", "z"], pvalue="anova")
    pd.testing.assert_frame_equal(res.ecological.reset_index(drop=True),
                                  ecological_detector(d, "y", ["x", "z"]).reset_index(drop=True))
    assert len(res.ecological) == 1
    assert geodetector(d, "y", ["x"], pvalue="anova").ecological.empty


def test_subset_weights_names_at_most_eight_lonely_units():
    """spatial_null.py ``subset_weights`` 43 (W7c): with more than eight units left without a neighbour
    in the subset, the message counts them all and names the first eight."""
    from _spatial_support import lattice_weights

    from analysis.disparity.spatial_null import subset_weights
    from analysis.errors import WeightsMatrixError

    sw = lattice_weights(1, 30)  # a path: every other unit of it has no neighbour left
    ids = sw.ids[::2][:10]
    with pytest.raises(WeightsMatrixError, match=r"^10 units have no neighbour among the rows used \(\['u00', 'u02', "
                       r"'u04', 'u06', 'u08', 'u10', 'u12', 'u14'\]\); the spatial null"):
        subset_weights(sw, ids)


@pytest.mark.stack_frames
def test_fe_warnings_point_at_the_callers_line():
    """fe.py ``_check_cluster_variance`` 61 and ``_estimate`` 166 (W7c): the few-clusters warning and the
    pyfixest notes fe() forwards point at the user's call (this file), not inside the package. (Marked
    ``stack_frames``: mutmut's trampoline adds a frame, so this runs outside mutation runs.)"""
    import warnings

    from test_regression_fe import small_panel
    from test_regression_mechanisms import mech_panel

    from analysis.regression import fe
    from analysis.regression.fe import FewClustersWarning

    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fe("y ~ x1", small_panel(n=20, T=4, seed=1))
    few = [w for w in rec if issubclass(w.category, FewClustersWarning)]
    assert len(few) == 1 and few[0].filename == __file__
    d = mech_panel(n=60, seed=2)
    d.loc[d.index[:5], "x1"] = -1.0
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fe("out ~ policy + np.log(x1)", d)
    notes = [w for w in rec if str(w.message).startswith("pyfixest:")]
    assert notes and all(w.filename == __file__ for w in notes)
