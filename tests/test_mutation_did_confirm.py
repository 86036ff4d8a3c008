"""Issue 15 (mutation coverage), confirmatory sample (seed 20261207): tests that kill survivors.

Modules: ``did/event_study.py``, ``did/placebo.py``, ``did/callaway_santanna/two_by_two.py``,
``did/psm.py``. Expected values come from the definition or an independent computation in the test;
the review of every survivor is in ``tests/README.mutation-mutdid4.md``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _did_synth import staggered_panel


@pytest.fixture(scope="module")
def es_panel():
    return staggered_panel(n_units=80, years=range(2010, 2018), cohorts=(2013, 2015), seed=12)


# ---- event_study ---------------------------------------------------------------------------
def test_event_time_dummies_accept_object_dtype_relative_times():
    """Relative times held as objects (e.g. a column read with mixed types) are read as floats:
    dummies equal the definition 1{rel == k} (binned ends), NaN (never treated) all zero."""
    from analysis.did.event_study import event_time_dummies

    rel = pd.Series([-3, -2, 0, np.nan, 1, 2], dtype=object)
    D, ks, labels = event_time_dummies(rel, leads=2, lags=1)
    assert ks == [-2, 0, 1]
    assert D.to_numpy().tolist() == [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 1], [0, 0, 1]]


def test_event_study_drops_rows_with_missing_cluster_and_reports_them(es_panel):
    """Rows without a cluster id are dropped and counted under 'missing <cluster>'; the estimates equal
    those on the panel with those rows removed by hand."""
    from analysis.did import event_study

    d = es_panel.assign(region=es_panel["county"])
    drop_idx = d.index[[3, 50, 51]]
    d.loc[drop_idx, "region"] = np.nan
    res = event_study(d, "y", "adoption", leads=3, lags=2, cluster="region")
    assert res.rows.dropped == {"missing region": 3}
    assert res.rows.n_used == len(d) - 3
    ref = event_study(d.drop(index=drop_idx), "y", "adoption", leads=3, lags=2, cluster="region")
    np.testing.assert_allclose(res.event_time["estimate"], ref.event_time["estimate"], rtol=1e-12)


# ---- callaway_santanna/two_by_two.py -------------------------------------------------------
def _dgp_2x2(n=400, seed=11):
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n)
    x2 = rng.uniform(-1, 1, size=n)
    d = (rng.random(n) < 1 / (1 + np.exp(-(-0.3 + 0.8 * x1 - 0.5 * x2)))).astype(float)
    x = np.c_[np.ones(n), x1, x2]
    y0 = 1 + x1 - x2 + rng.normal(size=n)
    y1 = y0 + 0.4 * x1 + 0.3 * x2 + 1.5 * d + rng.normal(size=n)
    w = rng.uniform(0.2, 3.0, size=n)
    return y1, y0, d, x, w / w.mean()


@pytest.mark.parametrize("meth", ["ipw", "dr", "reg"])
def test_two_by_two_with_sampling_weights_matches_drdid(meth):
    """Non-unit sampling weights (mean one) and two covariates: ATT and influence function equal
    moderndid's port of R DRDID (``drdid_panel`` etc. with ``i_weights``) to 1e-7 (its logit stops at a
    looser tolerance than ours; with unit weights the differences seen are 6e-9)."""
    md = pytest.importorskip("moderndid")
    import warnings

    from analysis.did.callaway_santanna.two_by_two import _two_by_two

    f = {"ipw": md.std_ipw_did_panel, "dr": md.drdid_panel, "reg": md.reg_did_panel}[meth]
    y1, y0, d, x, w = _dgp_2x2()
    att, psi = _two_by_two(y1 - y0, d, x, w, meth)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = f(y1, y0, d, x, i_weights=w, influence_func=True)
    assert abs(att - m.att) < 1e-7
    assert np.max(np.abs(psi - m.att_inf_func)) < 1e-7


def test_two_by_two_logit_is_the_weighted_mle():
    """_logit returns the weighted logit MLE: the fitted probabilities equal statsmodels GLM Binomial with
    freq_weights to 1e-8 (both converge to the unique maximum; Newton steps stop near machine precision)."""
    import statsmodels.api as sm

    from analysis.did.callaway_santanna.two_by_two import _logit

    _, _, d, x, w = _dgp_2x2(seed=3)
    p = _logit(d, x, w)
    ref = sm.GLM(d, x, family=sm.families.Binomial(), freq_weights=w).fit(tol=1e-14, maxiter=200)
    np.testing.assert_allclose(p, ref.fittedvalues, atol=1e-8)
    # score equations X'w(d - p) = 0 hold at the solution
    assert np.max(np.abs(x.T @ (w * (d - p)))) < 1e-8


def test_event_study_treated_units_counts_the_estimation_sample(es_panel):
    """stats['treated units'] counts treated counties with rows in the estimation sample: a treated county
    whose outcome is missing in every year is dropped and not counted (count by definition from the data)."""
    from analysis.did import event_study

    d = es_panel.copy()
    gone = d.loc[d["adoption"].notna(), "county"].iloc[0]
    d.loc[d["county"] == gone, "y"] = np.nan
    res = event_study(d, "y", "adoption", leads=3, lags=2)
    kept = d[d["y"].notna()]
    want = int(kept.groupby("county")["adoption"].first().notna().sum())
    assert want == int(d.groupby("county")["adoption"].first().notna().sum()) - 1
    assert res.stats["treated units"] == want


# ---- placebo -------------------------------------------------------------------------------
def _tiny_panel(seed=0):
    """4 counties x 5 years, one treated from 2013: a permutation reproduces the real assignment with
    probability 1/4, so many draws tie the actual estimate exactly."""
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"county": np.repeat(["a", "b", "c", "e"], 5), "year": np.tile(np.arange(2010, 2015), 4)})
    d["adoption"] = np.where(d["county"] == "a", 2013, np.nan)
    d["y"] = 0.8 * ((d["county"] == "a") & (d["year"] >= 2013)) + rng.normal(size=len(d))
    return d


def test_placebo_count_includes_draws_that_tie_the_actual_assignment():
    """c = #{|beta_b| >= |beta|} (ritest): a draw that reassigns the real adoption to the real county gives the
    actual estimate and must be counted. Lower bound by definition: the number of such draws in
    ``assignments``; exact count recomputed from the draws with the documented 1e-12 tie tolerance."""
    from analysis.did import placebo_test

    d = _tiny_panel()
    r = placebo_test(d, "y", adoption="adoption", n_draws=60, seed=4, progress=False)
    same = int(np.sum(r.assignments[:, list(r.units).index("a")] == 2013))
    assert same >= 5  # about 60/4 expected; the seed gives enough ties for the test to bite
    tied = np.isclose(np.abs(r.draws), abs(r.actual), rtol=0, atol=1e-9)
    assert tied.sum() >= same
    assert r.count == int(np.sum(np.abs(r.draws) >= abs(r.actual) - 1e-12 * max(1.0, abs(r.actual))))
    assert r.count >= same
    # assignments hold whole years (pseudo adoption year, 0 = never), as an integer array
    assert np.issubdtype(r.assignments.dtype, np.integer)


def test_placebo_plot_histogram_is_a_density():
    """The histogram is drawn on the density scale (it shares the axis with the kernel density): bar areas
    sum to 1 (definition of a density histogram; float rounding only)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.did import placebo_test

    r = placebo_test(_tiny_panel(), "y", adoption="adoption", n_draws=60, seed=4, progress=False)
    fig = r.plot(lang="en")
    bars = fig.axes[0].patches
    assert len(bars) == 40
    area = sum(b.get_height() * b.get_width() for b in bars)
    assert area == pytest.approx(1.0, abs=1e-9)
    assert fig.axes[0].get_xlabel() == "Placebo coefficient"
    # the reference line marks a zero effect: a vertical line at x = 0
    zero = [ln for ln in fig.axes[0].lines if list(ln.get_xdata()) == [0, 0]]
    assert len(zero) == 1 and zero[0].get_color() == "0.4"
    plt.close(fig)
    fig = r.plot(lang="zh")
    assert fig.axes[0].get_xlabel() == "安慰剂回归系数"
    plt.close(fig)


# ---- psm -----------------------------------------------------------------------------------
def test_balance_table_matched_ttest_equals_expanded_sample_ttest():
    """With whole-number matching weights, pstest's weighted (iw) regression t-test equals the two-sample
    pooled t-test on the sample with each row repeated ``weight`` times (scipy ``ttest_ind``, equal
    variances; Stata iw = frequency expansion for integer weights). The unmatched bias uses the sample
    (ddof=1) variances: 100 (mean_T - mean_C) / sqrt((s2_T + s2_C)/2). Tolerance 1e-10: float rounding."""
    from scipy import stats

    from analysis.did.psm import balance_table

    rng = np.random.default_rng(8)
    n = 30
    group = np.r_[np.ones(12), np.zeros(18)].astype(int)
    x = rng.normal(size=n) + 0.7 * group
    weight = np.r_[np.ones(12), rng.integers(0, 4, size=18)].astype(float)
    weight[12] = 0.0  # one unmatched control
    tab = balance_table(pd.DataFrame({"x": x}), group, weight).iloc[0]
    xt, xc = x[group == 1], x[group == 0]
    bias_u = 100 * (xt.mean() - xc.mean()) / np.sqrt((pd.Series(xt).var() + pd.Series(xc).var()) / 2)
    assert tab["bias_U"] == pytest.approx(bias_u, rel=1e-10)
    rep = np.repeat(np.arange(n), weight.astype(int))
    t, p = stats.ttest_ind(x[rep][group[rep] == 1], x[rep][group[rep] == 0], equal_var=True)
    assert tab["t_M"] == pytest.approx(t, rel=1e-10)
    assert tab["p_M"] == pytest.approx(p, rel=1e-10)
    assert tab["mean_control_M"] == pytest.approx(x[rep][group[rep] == 0].mean(), rel=1e-12)


def _psm_panel(seed, noise, covariates=("x",)):
    """40 counties x 2010-2015, half adopting in 2013, y = 0.5 treat + N(0, noise^2), N(0, 1) covariates."""
    rng = np.random.default_rng(seed)
    d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    d["treat"] = ((d["adoption"] > 0) & (d["year"] >= 2013)).astype(int)
    d["y"] = 0.5 * d["treat"] + rng.normal(scale=noise, size=len(d))
    for c in covariates:
        d[c] = rng.normal(size=len(d))
    return d


def test_psm_plots_label_axes_in_the_requested_language():
    """plot_density labels its y axis in the requested language; plot_balance draws the unmatched bias (C3)
    and the matched bias (C0) at each covariate's row, values from ``balance``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba

    from analysis.did import psm_did

    d = _psm_panel(0, 0.01, ("x", "z"))
    res = psm_did(d, "y", "treat", covariates=["x", "z"], seed=0)
    for lang, want in (("zh", "密度"), ("en", "Density")):
        fig = res.plot_density(lang)
        assert fig.axes[0].get_ylabel() == want
        plt.close(fig)
    fig = res.plot_balance("en")
    ax = fig.axes[0]
    u, m = ax.collections[0], ax.collections[1]
    np.testing.assert_allclose(u.get_offsets(), np.c_[res.balance["bias_U"], [0, 1]])
    np.testing.assert_allclose(m.get_offsets(), np.c_[res.balance["bias_M"], [0, 1]])
    np.testing.assert_allclose(u.get_facecolor()[0], to_rgba("C3"))
    plt.close(fig)


def test_psm_by_year_matches_carry_their_year():
    """Year-by-year matching: each match pair carries the year of its cell, and both counties of a pair are
    matched in that year (``scores`` rows with the same county and year have ``matched`` True)."""
    from analysis.did import psm_did

    d = _psm_panel(1, 0.1)
    res = psm_did(d, "y", "treat", covariates=["x"], by_year=True, seed=0)
    m = res.matches
    assert sorted(m["year"].unique()) == list(range(2010, 2016))
    matched = set(map(tuple, res.scores.loc[res.scores["matched"], ["county", "year"]].to_numpy()))
    for _, row in m.iterrows():
        assert (row["treated_id"], row["year"]) in matched and (row["control_id"], row["year"]) in matched


def test_psm_settings_and_match_counts_by_definition():
    """settings record the call (kernel bandwidth only for kernel matching); stats count matched treated and
    control units from ``scores`` (definition)."""
    from analysis.did import psm_did

    d = _psm_panel(2, 0.1)
    k = psm_did(d, "y", "treat", covariates=["x"], method="kernel", bandwidth=0.2, seed=0)
    s = k.settings
    assert (s["covariates"], s["k"], s["kernel"], s["fixed effects"]) == (["x"], 1, "Epanechnikov, bandwidth 0.2",
                                                                       "county + year")
    sc = k.scores
    assert k.stats["controls matched"] == int(((sc["group"] == 0) & sc["matched"]).sum()) > 0
    assert k.stats["treated matched"] == int(((sc["group"] == 1) & sc["matched"]).sum()) > 0
    n = psm_did(d, "y", "treat", covariates=["x"], k=2, seed=0)
    assert n.settings["kernel"] is None and n.settings["k"] == 2
