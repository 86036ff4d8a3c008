"""Issue 15 (mutation coverage): tests that kill the surviving mutants of the core DiD modules.

Modules: ``did/bacon.py``, ``did/_common.py``, ``did/event_study.py``, ``did/_treatment.py``,
``did/compare.py``, ``did/placebo.py``, ``did/long_difference.py``. Each test pins what a user can
see (result fields, settings, plot labels, error messages) against an independent computation or
the definition; the review of every sampled survivor is in ``tests/README.md`` (mutation section).
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from _did_synth import staggered_panel  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402
from matplotlib.markers import MarkerStyle  # noqa: E402

from analysis.did import bacon_decomposition  # noqa: E402
from analysis.errors import UnbalancedPanelError  # noqa: E402


def _dummies_ols(y, d, unit, period):
    """OLS of y on d + unit dummies + period dummies (lstsq): the TWFE coefficient and residualised d."""
    U = pd.get_dummies(pd.Series(unit), dtype=float).to_numpy()
    T = pd.get_dummies(pd.Series(period), dtype=float).to_numpy()[:, 1:]
    Z = np.column_stack([U, T])
    d_res = d - Z @ np.linalg.lstsq(Z, d, rcond=None)[0]
    return float(d_res @ y / (d_res @ d_res)), d_res


# --------------------------------------------------------------------------------------------
# bacon
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def bacon_always():
    """Staggered panel (60 units, 2010-2020) with 5 always-treated units: all four comparison types."""
    d = staggered_panel(n_units=60, seed=4)
    always = d["county"].unique()[:5]
    d.loc[d["county"].isin(always), "adoption"] = d["year"].min()
    d["treat"] = ((d["year"] >= d["adoption"]) & d["adoption"].notna()).astype(int)
    return d, bacon_decomposition(d, "y", "treat")


def test_bacon_result_fields_against_dummy_regression(bacon_always):
    d, res = bacon_always
    twfe, d_res = _dummies_ols(d["y"].to_numpy(float), d["treat"].to_numpy(float), d["county"], d["year"])
    # V_D = mean squared two-way residualised treatment (Goodman-Bacon 2021, eq. 10); lstsq rounding only
    assert res.stats["V_D"] == pytest.approx(float((d_res ** 2).mean()), rel=1e-10)
    assert res.twfe == pytest.approx(twfe, rel=1e-10)
    assert res.stats["N"] == len(d) and res.stats["units"] == 60 and res.stats["periods"] == 11
    assert res.stats["weight_sum"] == pytest.approx(1.0, abs=1e-12)
    assert res.n_clusters == 60
    assert res.model == "Goodman-Bacon decomposition of TWFE"
    assert res.settings["se"] == "CRV1 clustered by county, reghdfe small-sample factor"
    assert res.settings["always-treated units"] == ("kept as a cohort treated in the first period "
                                                    "(R bacondecomp convention)")
    dec = res.decomposition
    assert list(dec.columns) == ["type", "treated", "control", "estimate", "weight"]
    # treated/control are adoption years; always-treated units form the cohort of the first year
    adopt = d.groupby("county")["adoption"].first()
    cohorts = sorted(set(adopt.dropna()))
    tvu = dec[dec["type"] == "Treated vs Untreated"]
    assert sorted(tvu["treated"]) == cohorts[1:] and tvu["control"].isna().all()
    lva = dec[dec["type"] == "Later vs Always Treated"]
    assert (lva["control"] == 2010).all() and sorted(lva["treated"]) == cohorts[1:]
    # one 2x2 estimate by hand: cohort k against never treated, means before/after k
    k = cohorts[1]
    g = d["county"].map(adopt)
    post = d["year"] >= k
    m = lambda mask: d.loc[mask, "y"].mean()  # noqa: E731
    kk, nn = g == k, g.isna()
    want = (m(kk & post) - m(kk & ~post)) - (m(nn & post) - m(nn & ~post))
    assert tvu.loc[tvu["treated"] == k, "estimate"].iloc[0] == pytest.approx(want, abs=1e-12)


def test_bacon_missing_value_message_names_the_fix():
    d = staggered_panel(n_units=20, seed=5)
    d.loc[7, "y"] = np.nan
    with pytest.raises(UnbalancedPanelError, match=r"Drop those units entirely \(or impute\) before decomposing\."):
        bacon_decomposition(d, "y", "treat")


def test_bacon_plot_markers_colours_labels(bacon_always):
    _, res = bacon_always
    order = list(pd.unique(res.decomposition["type"]))  # order of appearance, not alphabetical
    assert len(order) == 4
    fig = res.plot(lang="en", title="Bacon")
    ax = fig.axes[0]
    assert ax.get_title() == "Bacon" and ax.get_xlabel() == "Weight" and ax.get_ylabel() == "2x2 DiD estimate"
    markers = dict(zip(("Treated vs Untreated", "Earlier vs Later Treated", "Later vs Earlier Treated",
                        "Later vs Always Treated"), ["o", "^", "s", "D"]))
    for i, (coll, typ) in enumerate(zip(ax.collections, order)):
        assert coll.get_label() == typ
        np.testing.assert_allclose(coll.get_facecolor()[0], to_rgba(f"C{i}", 0.85))
        ms = MarkerStyle(markers[typ])
        want = ms.get_path().transformed(ms.get_transform()).vertices
        np.testing.assert_allclose(coll.get_paths()[0].vertices, want)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[:4] == order and labels[4] == f"TWFE = {res.twfe:.4f}"
    zero = [ln for ln in ax.lines if np.allclose(ln.get_ydata(), 0)]
    assert zero and zero[0].get_color() == "0.4" and zero[0].get_linewidth() == 0.6
    plt.close(fig)
    fig = res.plot(lang="zh")
    assert fig.axes[0].get_xlabel() == "权重" and fig.axes[0].get_title() == ""
    plt.close(fig)
    # on an axes that already holds a scatter the types still get C0..C3 (colours are set, not cycled)
    fig, ax = plt.subplots()
    ax.scatter([0.0], [0.0])
    res.plot(lang="en", ax=ax)
    for i, coll in enumerate(ax.collections[1:5]):
        np.testing.assert_allclose(coll.get_facecolor()[0], to_rgba(f"C{i}", 0.85))
    plt.close(fig)


# --------------------------------------------------------------------------------------------
# event_study
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def es_panel():
    return staggered_panel(n_units=80, years=range(2010, 2018), cohorts=(2013, 2015), seed=12)


def test_event_study_overall_settings_stats_by_definition(es_panel):
    from analysis.did import event_study

    d = es_panel
    res = event_study(d, "y", "adoption", leads=3, lags=2)
    post = res.event_time[res.event_time["event_time"] >= 0]
    # overall = simple average of the post coefficients; its SE = sqrt(w'Vw), w = 1/3 on each
    assert res.overall["estimate"] == pytest.approx(post["estimate"].mean(), abs=1e-12)
    V = res.event_vcov.loc[post["event_time"], post["event_time"]].to_numpy()
    assert res.overall["std_error"] == pytest.approx(np.sqrt(V.sum()) / 3, rel=1e-12)
    assert res.overall["description"] == "simple average of the post-period event-time coefficients"
    assert res.vcov_type == "cluster"
    assert res.reference.startswith("TWFE event study (Schmidheiny and Siegloch 2023); matches pyfixest")
    assert res.settings == {
        "y": "y", "adoption": "adoption", "window": "[-3, 2]", "reference period": -1, "endpoints": "binned",
        "base group": "never-treated units", "fixed effects": "county + year", "controls": [],
        "se": "CRV1 clustered by county, reghdfe small-sample factor G/(G-1)(N-1)/(N-K), t(G-1) inference"}
    assert res.stats["clusters"] == 80 and res.stats["N"] == len(d)
    assert res.stats["treated units"] == int(d.groupby("county")["adoption"].first().notna().sum())
    # within R2 = 1 - SSR / SST of the two-way demeaned outcome, by dummy regressions (lstsq)
    U = pd.get_dummies(d["county"], dtype=float).to_numpy()
    T = pd.get_dummies(d["year"], dtype=float).to_numpy()[:, 1:]
    Z = np.column_stack([U, T])
    y = d["y"].to_numpy(float)
    rel = d["year"] - d["adoption"]
    E = np.column_stack([np.where(rel.isna(), 0.0, (rel <= -3) if k == -3 else (rel >= 2) if k == 2 else rel == k)
                         for k in (-3, -2, 0, 1, 2)])
    ZE = np.column_stack([Z, E])
    ssr = float(np.sum((y - ZE @ np.linalg.lstsq(ZE, y, rcond=None)[0]) ** 2))
    sst = float(np.sum((y - Z @ np.linalg.lstsq(Z, y, rcond=None)[0]) ** 2))
    assert res.stats["r2_within"] == pytest.approx(1 - ssr / sst, rel=1e-8)  # lstsq vs demeaning rounding
    # scale-free: an outcome in small units (SST < 1) has the same within R2
    small = event_study(d.assign(y=d["y"] * 1e-3), "y", "adoption", leads=3, lags=2)
    assert small.stats["r2_within"] == pytest.approx(res.stats["r2_within"], rel=1e-8)


def test_event_study_window_errors_and_lags_zero(es_panel):
    from analysis.did import event_study
    from analysis.errors import SpecificationError, TreatmentTimingError

    d = es_panel
    with pytest.raises(SpecificationError, match=r"no observations for \['event_time<=-6'\]: narrow the window"):
        event_study(d, "y", "adoption", leads=6, lags=2)
    with pytest.raises(SpecificationError, match=r"lags=-1 must be >= 0\."):
        event_study(d, "y", "adoption", leads=3, lags=-1)
    r0 = event_study(d, "y", "adoption", leads=3, lags=0)  # lags=0: one binned post dummy
    assert list(r0.event_time["event_time"]) == [-3, -2, 0]
    allt = d.assign(adoption=d["adoption"].fillna(2017))
    with pytest.raises(TreatmentTimingError, match=r"Use a heterogeneity-robust estimator with not-yet-treated "
                                                   r"controls \(e\.g\. callaway_santanna\) instead\.$"):
        event_study(allt, "y", "adoption")


def test_event_study_reports_collinear_control(es_panel):
    from analysis.did import event_study
    from analysis.regression.fe import CollinearityWarning

    d = es_panel.assign(size=es_panel["county"].str[-2:].astype(float))  # constant within county
    with pytest.warns(CollinearityWarning):
        res = event_study(d, "y", "adoption", leads=3, lags=2, controls=["x1", "size"])
    assert res.settings["collinear_dropped"] == "size (constant within the fixed effects (zero after demeaning))"
    assert res.settings["controls"] == ["x1", "size"]


def test_event_time_dummies_keep_the_index():
    from analysis.did.event_study import event_time_dummies

    rel = pd.Series([-2.0, 0.0, np.nan, 1.0], index=[10, 11, 12, 13])
    D, ks, labels = event_time_dummies(rel, leads=2, lags=1)
    assert list(D.index) == [10, 11, 12, 13]
    assert D.to_numpy().tolist() == [[1, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 1]]


# --------------------------------------------------------------------------------------------
# long_difference
# --------------------------------------------------------------------------------------------
def _ld_frame():
    """8 units in 2 provinces, 2010 and 2020, pilot on units b, d, f, h."""
    units = list("abcdefgh")
    d = pd.DataFrame({"county": np.repeat(units, 2), "year": [2010, 2020] * 8})
    d["y"] = [1.0, 2.0, 1.0, 3.5, 2.0, 2.5, 1.0, 1.4, 3.0, 3.1, 2.0, 2.9, 1.5, 1.7, 1.2, 2.2]
    d["pilot"] = np.repeat([0, 1] * 4, 2)
    d["province"] = np.repeat(["P1"] * 4 + ["P2"] * 4, 2)
    return d


def test_long_difference_bad_input_messages():
    from analysis.did import long_difference
    from analysis.errors import NonNumericError, SpecificationError, YearRangeError

    d = _ld_frame()
    kw = dict(fe=None, cluster=None, vcov="hetero")
    with pytest.raises(SpecificationError, match=r"^transform='growth' is not one of 'level', 'log'\.$"):
        long_difference(d, "y", "pilot", transform="growth", **kw)
    with pytest.raises(YearRangeError, match=r"^pre=2015 is not a value of column 'year' .*pass one of them\.$"):
        long_difference(d, "y", "pilot", pre=2015, **kw)
    # text in the 0/1 column: the same 0/1 error (not a pandas parsing error); at most 5 values listed
    bad = d.assign(pilot=d["pilot"].astype(object))
    bad.loc[:5, "pilot"] = ["yes", "no", "2", "3", "4", "5"]
    with pytest.raises(NonNumericError, match=r"must be 0/1; found \['2', '3', '4', '5', 'no'\] in"):
        long_difference(bad, "y", "pilot", **kw)
    dup_post = pd.concat([d, d.iloc[[1]]], ignore_index=True)
    with pytest.raises(SpecificationError, match=r"appear more than once in the post period \(year = 2020\)"):
        long_difference(dup_post, "y", "pilot", **kw)
    dup_pre = pd.concat([d, d.iloc[[0]]], ignore_index=True)
    with pytest.raises(SpecificationError, match=r"appear more than once in the pre period \(year = 2010\)"):
        long_difference(dup_pre, "y", "pilot", **kw)
    zero_post = d.copy()
    zero_post.loc[3, "y"] = 0.0  # unit b, 2020: log(0) is undefined
    with pytest.raises(NonNumericError, match=r"needs 'y' > 0; county \['b'\] have values <= 0"):
        long_difference(zero_post, "y", "pilot", transform="log", **kw)


def test_long_difference_text_outcome_is_reported_as_missing():
    """A non-numeric outcome value ('n/a' in a CSV) is a missing value: the unit is dropped and counted."""
    from analysis.did import long_difference

    d = _ld_frame()
    d["y"] = d["y"].astype(object)
    d.loc[0, "y"] = "n/a"  # unit a, pre
    d.loc[5, "y"] = "n/a"  # unit c, post
    r = long_difference(d, "y", "pilot", fe=None, cluster=None, vcov="hetero")
    assert r.rows.dropped["no pre-period value"] == 1 and r.rows.dropped["no post-period value"] == 1
    assert r.rows.n_used == 6
    ch = {"b": 2.5, "d": 0.4, "f": 0.9, "h": 1.0, "e": 0.1, "g": 0.2}
    want = np.mean([ch[u] for u in "bdfh"]) - np.mean([ch[u] for u in "eg"])
    assert r.params["did"] == pytest.approx(want, abs=1e-12)
    # vcov="hetero" is passed on: HC1 of the change regression (statsmodels, same OLS: rounding only)
    import statsmodels.api as sm

    units = list("bdfheg")
    X = sm.add_constant(np.array([1.0 if u in "bdfh" else 0.0 for u in units]))
    hc1 = sm.OLS(np.array([ch[u] for u in units]), X).fit(cov_type="HC1").bse[1]
    assert r.std_errors["did"] == pytest.approx(hc1, rel=1e-10)
    r_iid = long_difference(d, "y", "pilot", fe=None, cluster=None, vcov="iid")
    iid = sm.OLS(np.array([ch[u] for u in units]), X).fit().bse[1]
    assert r_iid.std_errors["did"] == pytest.approx(iid, rel=1e-10)


def test_long_difference_log_with_nullable_missing_value():
    """A nullable (Float64) outcome with <NA> in a unit's pre row: that unit is dropped and counted, not an error."""
    from analysis.did import long_difference

    d = _ld_frame()
    d["y"] = d["y"].astype("Float64")
    d.loc[0, "y"] = pd.NA
    r = long_difference(d, "y", "pilot", transform="log", fe=None, cluster=None, vcov="hetero")
    assert r.rows.dropped["no pre-period value"] == 1 and r.rows.n_used == 7


def test_long_difference_period_error_lists_plain_years():
    """Bug fixed (issue 15 review): the message listed numpy scalars, '[np.int64(2010), np.int64(2020)]'."""
    from analysis.did import long_difference
    from analysis.errors import YearRangeError

    with pytest.raises(YearRangeError, match=r"\(periods: \[2010, 2020\]\); pass one of them\.$"):
        long_difference(_ld_frame(), "y", "pilot", post=2021, fe=None, cluster=None, vcov="hetero")


def test_long_difference_settings_changes_and_text_periods():
    from analysis.did import long_difference

    d = _ld_frame()
    r = long_difference(d, "y", "pilot", fe=None, cluster=None, vcov="hetero")
    assert {k: r.settings[k] for k in ("pre", "post", "transform", "treat", "controls", "rows")} == {
        "pre": 2010, "post": 2020, "transform": "level", "treat": "pilot", "controls": [],
        "rows": "units (one change per unit)"}
    ch = r.extra["changes"].set_index("county")
    np.testing.assert_allclose(ch["d_y"].to_numpy(), d.groupby("county")["y"].diff().dropna().to_numpy(), atol=1e-12)
    assert ch["did"].tolist() == [0.0, 1.0] * 4
    # periods written as text ('2010', '2020') stay text in stats
    rt = long_difference(d.assign(year=d["year"].astype(str)), "y", "pilot", fe=None, cluster=None, vcov="hetero")
    assert rt.stats["pre"] == "2010" and rt.stats["post"] == "2020"
    assert rt.params["did"] == pytest.approx(r.params["did"], abs=1e-12)


# --------------------------------------------------------------------------------------------
# placebo
# --------------------------------------------------------------------------------------------
def test_fake_timing_without_fake_treated_rows_raises():
    """Every treated unit's last pre year is missing: a one-year shift leaves no fake-treated row."""
    from analysis.did import fake_timing_test
    from analysis.errors import SpecificationError

    d = staggered_panel(n_units=40, cohorts=(2014,), seed=3)
    d.loc[d["adoption"].notna() & (d["year"] == 2013), "y"] = np.nan
    with pytest.raises(SpecificationError, match=r"^shift=-1 leaves no fake-treated rows inside the sample"):
        fake_timing_test(d, "y", adoption="adoption", shift=-1)
    r = fake_timing_test(d, "y", adoption="adoption", shift=-2)  # 2012 rows are fake treated
    assert np.isfinite(r.params["did"])


def test_fake_timing_and_placebo_outcome_result_fields():
    from analysis.did import fake_timing_test, placebo_outcome_test

    d = staggered_panel(n_units=60, seed=8)
    r = fake_timing_test(d, "y", adoption="adoption", shift=-2, controls=["x1"])
    assert r.model == "Fake-timing placebo (adoption -2 years)"
    assert r.vcov_type == "cluster" and r.cluster == ("county",) and r.n_clusters == 60
    assert r.settings["shift"] == -2 and r.settings["controls"] == ["x1"]
    assert r.settings["fixed effects"] == "county + year"
    assert r.settings["se"] == "CRV1 clustered by county, reghdfe small-sample factor"
    # the covariance is kept: its diagonal gives the reported standard errors
    assert list(r.cov.index) == ["did", "x1"]
    np.testing.assert_allclose(np.sqrt(np.diag(r.cov.to_numpy())), r.std_errors.to_numpy(), rtol=1e-14)
    p = placebo_outcome_test(d, ["x2"], treat="treat", controls=["x1"])
    assert p.settings == {"treatment": "treat", "controls": ["x1"], "fixed effects": "county + year",
                          "se": "CRV1 clustered by county, reghdfe small-sample factor"}
    assert p.model == "Placebo-outcome DiD" and p.vcov_type == "cluster"


def test_placebo_plot_labels_and_truth_line():
    from analysis.did import placebo_outcome_test, placebo_test

    d = staggered_panel(n_units=40, seed=9)
    r = placebo_test(d, "y", adoption="adoption", n_draws=60, seed=1, progress=False)
    fig = r.plot(lang="en", truth=0.5)
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Kernel density" in labels and "Simulated truth = 0.5000" in labels
    truth = [ln for ln in ax.lines if np.allclose(ln.get_xdata(), 0.5)]
    assert len(truth) == 1 and truth[0].get_linestyle() == ":" and truth[0].get_color() == "C2"
    assert ax.get_ylabel() == "Density" and ax.get_xlabel() == "Placebo coefficient"
    plt.close(fig)
    fig = r.plot(lang="zh", truth=0.5)
    ax = fig.axes[0]
    assert "模拟真值 = 0.5000" in [t.get_text() for t in ax.get_legend().get_texts()]
    assert ax.get_ylabel() == "密度"
    plt.close(fig)
    fig = r.plot(lang="en")  # no truth: no truth line
    assert not any(t.get_text().startswith("Simulated truth") for t in fig.axes[0].get_legend().get_texts())
    plt.close(fig)
    p = placebo_outcome_test(d, ["x2"], adoption="adoption")
    assert p.reference == "placebo outcomes (outcomes the policy cannot affect)"


def test_placebo_one_sided_pvalues_and_settings():
    from analysis.did import placebo_test

    d = staggered_panel(n_units=40, seed=9, effect=0.0)
    r = placebo_test(d, "y", adoption="adoption", n_draws=99, seed=3, progress=False)
    # one-sided randomization p-values by definition, counting the actual assignment as one draw
    assert r.p_value_lower == (1 + int(np.sum(r.draws <= r.actual))) / 100
    assert r.p_value_upper == (1 + int(np.sum(r.draws >= r.actual))) / 100
    assert r.settings["p-value"] == "two-sided c/B (ritest) and (1+c)/(B+1)"
    assert r.settings["scheme"] == "units" and r.settings["n_draws"] == 99 and r.settings["seed"] == 3


# --------------------------------------------------------------------------------------------
# did/_common: resolve_adoption, EventStudyResult table/summary/plot
# --------------------------------------------------------------------------------------------
def test_resolve_adoption_needs_a_treatment_and_uses_entity_and_time():
    from analysis.did._common import resolve_adoption
    from analysis.errors import SpecificationError

    d = pd.DataFrame({"unit": list("aaabbbccc"), "period": [1, 2, 3] * 3, "adopt": [2] * 3 + [0] * 3 + [3] * 3})
    d["d"] = ((d["period"] >= d["adopt"]) & (d["adopt"] > 0)).astype(int)
    with pytest.raises(SpecificationError, match=r"^give the treatment: treat="):
        resolve_adoption(d, "unit", "period")
    only = resolve_adoption(d, "unit", "period", adoption="adopt")
    both = resolve_adoption(d, "unit", "period", treat="d", adoption="adopt")
    want = {"a": 2.0, "b": np.nan, "c": 3.0}
    for g in (only, both):
        assert g.to_dict()["a"] == 2.0 and np.isnan(g.to_dict()["b"]) and g.to_dict()["c"] == 3.0
    assert set(both.index) == set(want)


def _es_result(estimator="TWFE event study"):
    from analysis.did._common import EventStudyResult

    V = np.diag([0.01, 0.04, 0.09])
    return EventStudyResult.from_estimates(
        estimator, [-2, 0, 1], [0.1, 0.5, 0.7], vcov=V, df_resid=30,
        overall={"estimate": 0.6, "std_error": 0.1, "description": "mean of post"})


def test_event_table_reference_row_and_summary():
    res = _es_result()
    tab = res.event_table()
    assert list(tab.columns) == ["event_time", "estimate", "std_error", "ci_low", "ci_high", "label"]
    assert tab["event_time"].tolist() == [-2, -1, 0, 1] and list(tab.index) == [0, 1, 2, 3]
    ref = tab[tab["event_time"] == -1].iloc[0]
    assert ref["estimate"] == 0.0 and ref["std_error"] == 0.0 and ref["label"] == "reference"
    assert "overall (mean of post): 0.6 (std_error 0.1)" in res.summary()


def test_plot_event_study_elements():
    res = _es_result(estimator="")
    fig = res.plot(lang="en", color="C5", truth={-2: 0.0, 0: 0.5, 1: 0.6})
    ax = fig.axes[0]
    assert ax.get_xlabel() == "Years relative to adoption" and ax.get_ylabel() == "Estimated effect (95% CI)"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "Estimate" in labels and "Simulated truth" in labels
    data_line = ax.containers[0].lines[0]
    assert data_line.get_linestyle() == "None" and data_line.get_marker() == "o"
    assert data_line.get_linewidth() == 1.2 and data_line.get_color() == "C5"
    np.testing.assert_allclose(data_line.get_xdata(), [-2, -1, 0, 1])  # the reference period is drawn
    ref = [ln for ln in ax.lines if ln.get_markerfacecolor() == "white"]
    assert len(ref) == 1 and ref[0].get_color() == "C5" and list(ref[0].get_xdata()) == [-1.0]
    truth = [ln for ln in ax.lines if ln.get_color() == "C3"]
    assert len(truth) == 1 and list(truth[0].get_xdata()) == [-2.0, 0.0, 1.0]
    plt.close(fig)


def test_common_input_checks_messages():
    from analysis.did._common import (
        adoption_from_treatment,
        adoption_per_unit,
        check_columns,
        check_pre_period,
        drop_missing,
        relative_time,
    )
    from analysis.errors import NonNumericError, SpecificationError, TreatmentTimingError

    with pytest.raises(SpecificationError, match=r"^data must be a pandas DataFrame .*got list\.$"):
        check_columns([1, 2], ["a"])
    with pytest.raises(NonNumericError, match=r"column 'y' has non-numeric values in "):
        drop_missing(pd.DataFrame({"y": ["1", "abc"]}), ["y"])
    # 9 units switching off: 8 listed then ' ...'
    d = pd.DataFrame({"county": np.repeat(np.arange(9), 3), "year": np.tile([1, 2, 3], 9), "d": [0, 1, 0] * 9})
    with pytest.raises(TreatmentTimingError, match=r"0, 1, 2, 3, 4, 5, 6, 7 \.\.\.\. These .*or drop those units\.$"):
        adoption_from_treatment(d, "d")
    ok = d.assign(d=[0, 1, 1] * 9)
    assert adoption_from_treatment(ok, "d").name == "adoption"
    vary = pd.DataFrame({"county": ["a", "a"], "year": [1, 2], "g": [2, 3]})
    with pytest.raises(TreatmentTimingError, match=r"varies within 1 county\(s\): a\. It must be one year"):
        adoption_per_unit(vary, "g")
    # default time column 'year'; 9 treated units adopting in their first year: 8 listed then ' ...'
    panel = pd.DataFrame({"county": np.repeat(np.arange(9), 2), "year": np.tile([2010, 2011], 9)})
    g = pd.Series(2010.0, index=np.arange(9))
    with pytest.raises(TreatmentTimingError, match=r"first observed year\): 0, 1, 2, 3, 4, 5, 6, 7 \.\.\.\. Their"):
        check_pre_period(g, panel)
    assert relative_time(panel, g).name == "event_time"


def test_fe_ols_keeps_a_small_scale_column_and_wald_without_df():
    import warnings

    from scipy import stats as sst

    from analysis.demean import FixedEffects
    from analysis.did._common import fe_ols, wald_test

    df = staggered_panel(n_units=40, years=range(2010, 2016), cohorts=(2013,), seed=7)
    X = np.column_stack([df["treat"], df["x1"] * 1e-12])  # a control in tiny units is not 'constant'
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        fit = fe_ols(df["y"].to_numpy(), X, ["treat", "x1_small"], FixedEffects(df[["county", "year"]]),
                     df["county"].to_numpy())
    assert not fit.dropped and np.isfinite(fit.params).all()
    out = wald_test(np.array([1.0, 2.0]), np.eye(2))
    assert out["F_p_value"] == pytest.approx(sst.chi2.sf(5.0, 2), rel=1e-12)


# --------------------------------------------------------------------------------------------
# compare (compare_estimators, plot_comparison, static_twfe): survivors of the lead's 20-mutant sample
# --------------------------------------------------------------------------------------------
def _compare_panel(seed=3):
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    d["y"] = 0.5 * ((d["adoption"] > 0) & (d["year"] >= 2013)) + rng.normal(scale=0.1, size=len(d))
    return d


def test_compare_estimators_keeps_the_event_times_asked_and_float_truth():
    from analysis.did import compare_estimators, run_estimators

    results = run_estimators(_compare_panel(), "y", "adoption", which=("TWFE", "Sun-Abraham"))
    full = compare_estimators(results)
    tab = compare_estimators(results, truth_event={0: 0.5, 1: 0.5}, truth_overall=0.5, event_times=[0, 1])
    events = tab[tab["term"] != "overall"]
    assert sorted(set(events["event_time"])) == [0.0, 1.0] and len(events) == 4  # 2 estimators x 2 event times
    assert len(full[full["term"] != "overall"]) > len(events)
    assert tab["truth"].dtype == np.float64 and tab["truth"].tolist() == [0.5] * len(tab)
    # truth for event times only: the overall rows' truth is NaN (a float column), not None
    ev_only = compare_estimators(results, truth_event={0: 0.5})
    assert ev_only["truth"].dtype == np.float64
    assert ev_only.loc[ev_only["term"] == "overall", "truth"].isna().all()
    assert ev_only.loc[ev_only["term"] == "overall", "covered"].isna().all()
    # the kept rows are the full table's rows, unchanged
    key = ["estimator", "term"]
    merged = events.merge(full, on=key, suffixes=("", "_full"))
    assert np.array_equal(merged["estimate"], merged["estimate_full"])


def test_plot_comparison_draws_on_the_given_axes_with_english_title_and_window():
    from analysis.did import plot_comparison, run_estimators

    results = run_estimators(_compare_panel(), "y", "adoption", which=("TWFE", "Sun-Abraham"))
    fig, ax = plt.subplots()
    out = plot_comparison(results, lang="en", ax=ax)  # no event_times: the full window, no x-limits set
    assert out is fig and len(ax.lines) + len(ax.collections) > 0
    assert ax.get_title() == "Event-study estimates by estimator"
    plt.close(fig)
    fig, ax = plt.subplots()
    plot_comparison(results, lang="en", ax=ax, event_times=[-2, -1, 0, 1])
    assert ax.get_xlim() == pytest.approx((-2.6, 1.6), abs=1e-12)
    plt.close(fig)


def test_static_twfe_drops_rows_with_a_missing_cluster_and_reports_them():
    from analysis.did import static_twfe

    d = _compare_panel()
    d["prefecture"] = (d["county"] // 4).astype(float)
    d.loc[[0, 7, 100], "prefecture"] = np.nan
    res = static_twfe(d, "y", "adoption", cluster="prefecture")
    kept = static_twfe(d.drop(index=[0, 7, 100]), "y", "adoption", cluster="prefecture")
    assert res.rows.n_used == len(d) - 3 and res.rows.dropped == {"missing prefecture": 3}
    assert float(res.params["did"]) == float(kept.params["did"])
    assert res.settings["controls"] == [] and res.settings["cluster"] == "prefecture"
    # t(G-1) inference (reghdfe with a cluster): G = 10 prefectures, all with a kept row
    assert res.df_resid == d["prefecture"].nunique() - 1 == 9
    overall = res.as_overall()
    ci = res.conf_int().loc["did"]
    assert (overall["ci_low"], overall["ci_high"]) == (float(ci["ci_low"]), float(ci["ci_high"]))


# --------------------------------------------------------------------------------------------
# _treatment (the treat=/adoption= converters): survivors of the lead's full run (99 mutants)
# --------------------------------------------------------------------------------------------
def _treatment_frame():
    return pd.DataFrame({"county": list("aaabbbccc"), "year": [2010, 2011, 2012] * 3,
                         "adoption": [2011.0] * 3 + [np.nan] * 3 + [2012.0] * 3})


def test_treatment_column_by_definition_with_default_names():
    from analysis.did._treatment import treatment_column

    d = _treatment_frame()
    got = treatment_column(d, "adoption")  # default entity="county", time="year"
    # 1{year >= adoption}; 0 for the never-treated county b
    assert got.dtype == np.float64 and got.tolist() == [0, 1, 1, 0, 0, 0, 0, 0, 1]
    d2 = d.astype({"year": object})
    d2.loc[4, "year"] = "n/a"  # a year that is not a number: the row's treatment is unknown (NaN), not 0
    out = treatment_column(d2.iloc[[0, 1, 2, 4]], "adoption")
    assert out.dtype == np.float64 and out.iloc[:3].tolist() == [0, 1, 1] and np.isnan(out.iloc[3])


def test_adoption_column_by_definition_with_default_names():
    from analysis.did._treatment import adoption_column

    d = _treatment_frame()
    d["d"] = ((d["year"] >= d["adoption"]) & d["adoption"].notna()).astype(int)
    got = adoption_column(d, "d")  # default entity="county", time="year"
    assert got.dtype == np.float64
    assert got.iloc[[0, 6]].tolist() == [2011.0, 2012.0] and got.iloc[3:6].isna().all()


def test_free_name_appends_underscores_until_unused():
    from analysis.did._treatment import _free_name

    d = pd.DataFrame(columns=["adoption_treated", "adoption_treated_"])
    assert _free_name(d, "adoption_treated") == "adoption_treated__"
    assert _free_name(d, "other") == "other"


def test_treatment_converters_use_the_time_column_given():
    from analysis.did._treatment import adoption_column, treatment_column

    d = _treatment_frame().rename(columns={"county": "unit", "year": "yr"})
    d["year"] = 1999  # a column named like the default must not be read
    assert treatment_column(d, "adoption", entity="unit", time="yr").tolist() == [0, 1, 1, 0, 0, 0, 0, 0, 1]
    d["d"] = treatment_column(d, "adoption", entity="unit", time="yr")
    assert adoption_column(d, "d", entity="unit", time="yr").iloc[[0, 6]].tolist() == [2011.0, 2012.0]


# --------------------------------------------------------------------------------------------
# EventStudyResult.from_estimates (mutated since scripts/mutation.py rewrites @classmethod +
# @renamed_kwargs): survivors of the sample of 30 (seed 20261207)
# --------------------------------------------------------------------------------------------
def test_from_estimates_fields_by_definition():
    from scipy import stats

    from analysis.did._common import EventStudyResult

    # a covariance with a tiny negative diagonal entry (rounding in a difference of covariances): SE 0, not NaN
    V = np.array([[-1e-18, 0.0, 0.0], [0.0, 4.0, 1.0], [0.0, 1.0, 9.0]])
    res = EventStudyResult.from_estimates("my estimator", [-1, 0, 1], [0.0, 1.0, 2.0], vcov=V, df_resid=20,
                                          overall={"estimate": 1.5, "se": 0.5})
    assert res.estimator == "my estimator"
    assert res.std_errors.tolist() == [0.0, 2.0, 3.0] and res.event_time["std_error"].tolist() == [0.0, 2.0, 3.0]
    labels = ["event_time=-1", "event_time=0", "event_time=1"]
    assert list(res.cov.index) == labels and list(res.cov.columns) == labels
    np.testing.assert_array_equal(res.cov.to_numpy(), V)
    assert list(res.event_vcov.index) == [-1, 0, 1] and list(res.event_vcov.columns) == [-1, 0, 1]
    # the overall number given with the deprecated "se": std_error filled in, and its t(20) interval
    crit = stats.t(20).ppf(0.975)
    ov = res.overall
    assert ov["std_error"] == ov["se"] == 0.5
    assert ov["ci_low"] == pytest.approx(1.5 - crit * 0.5, rel=1e-12)  # same formula, rounding only
    assert ov["ci_high"] == pytest.approx(1.5 + crit * 0.5, rel=1e-12)
    # standard errors given as integers are stored as floats, like those from a covariance
    res2 = EventStudyResult.from_estimates("x", [0, 1], [1, 2], se=[1, 2])
    assert res2.std_errors.dtype == np.float64 and res2.event_time["std_error"].dtype == np.float64
    assert res2.event_time["ci_low"].tolist() == pytest.approx([1 - stats.norm.ppf(0.975), 2 - 2 * stats.norm.ppf(0.975)],
                                                               rel=1e-12)
