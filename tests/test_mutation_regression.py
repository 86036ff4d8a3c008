"""Tests written for the mutation review of the regression modules (issue 15, tests/README.md).

Each test pins a quantity a user sees (a p-value, a row count, a setting) to an independent
computation or to its definition; tolerances are stated where they are not exact.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_regression_mechanisms import mech_panel

from analysis.regression import fe, heterogeneity


# --------------------------------------------------------------------------- heterogeneity
def test_heterogeneity_suest_joint_and_p_values_by_hand():
    """suest: per-term and joint block-diagonal Wald chi2 and their p-values, recomputed from the
    subgroup fits (Weesie 1999); the interaction rows' p-values from F(df1, df2). rtol 1e-10:
    the same floating-point algebra in another order."""
    d = mech_panel(n=90, seed=7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = heterogeneity("out ~ policy + x1", d, by="region", terms=["policy", "x1"], test="both")
    levels = list(r.groups)
    assert levels == sorted(levels)  # groups in sorted order
    t = r.tests.set_index(["method", "term"])
    su = "suest (block-diagonal Wald chi2)"
    for x in ("policy", "x1"):
        row = t.loc[(su, x)]
        assert row.df1 == 2 and np.isinf(row.df2)
        assert row.p_value == pytest.approx(stats.chi2.sf(row.statistic, 2), rel=1e-10)
    # joint: stacked (policy, x1) per group, each group's own 2x2 covariance block
    b = np.concatenate([r.groups[g].params[["policy", "x1"]].to_numpy() for g in levels])
    V = np.zeros((6, 6))
    for i, g in enumerate(levels):
        V[2 * i:2 * i + 2, 2 * i:2 * i + 2] = r.groups[g].cov.loc[["policy", "x1"], ["policy", "x1"]].to_numpy()
    R = np.array([[-1, 0, 1, 0, 0, 0], [0, -1, 0, 1, 0, 0], [-1, 0, 0, 0, 1, 0], [0, -1, 0, 0, 0, 1]], float)
    W = float((R @ b) @ np.linalg.solve(R @ V @ R.T, R @ b))
    j = t.loc[(su, "(joint)")]
    assert j.statistic == pytest.approx(W, rel=1e-10)
    assert j.df1 == 4 and j.p_value == pytest.approx(stats.chi2.sf(W, 4), rel=1e-10)
    ia = "interaction (clustered Wald F)"
    for term, df1 in (("policy", 2), ("x1", 2), ("(joint)", 4)):
        row = t.loc[(ia, term)]
        assert row.df1 == df1
        assert row.p_value == pytest.approx(stats.f.sf(row.statistic, row.df1, row.df2), rel=1e-10)
    # the estimates table: one block per group with its N
    for g in levels:
        blk = r.estimates[r.estimates.group == g]
        assert list(blk.term) == ["policy", "x1"] and (blk.N == r.groups[g].nobs).all()
    assert r.to_frame().equals(r.estimates) and r.models() == r.groups


def test_heterogeneity_difference_is_lincom_of_interacted_model():
    d = mech_panel(n=90, seed=7)
    r = heterogeneity("out ~ policy + x1", d, by="region", test="interaction")
    names = list(r.interacted.params.index)
    w = np.zeros(len(names))
    w[names.index("policy__west")], w[names.index("policy__east")] = 1.0, -1.0
    est = float(w @ r.interacted.params.to_numpy())
    se = float(np.sqrt(w @ r.interacted.cov.to_numpy() @ w))
    got = r.difference("policy", "east", "west")
    assert got["estimate"] == pytest.approx(est, rel=1e-12)
    assert got["estimate"] == pytest.approx(r.groups["west"].params["policy"] - r.groups["east"].params["policy"],
                                            rel=1e-9)
    assert got["std_error"] == pytest.approx(se, rel=1e-12)
    dist = stats.t(r.interacted.df_resid)
    assert got["p_value"] == pytest.approx(2 * dist.sf(abs(est / se)), rel=1e-10)
    only_suest = heterogeneity("out ~ policy + x1", d, by="region", test="suest")
    assert only_suest.interacted is None and set(only_suest.tests.method) == {"suest (block-diagonal Wald chi2)"}
    with pytest.raises(ValueError, match="interacted model"):
        only_suest.difference("policy", "east", "west")
    # default test: interaction rows only, default term = first regressor
    assert set(r.tests.method) == {"interaction (clustered Wald F)"} and list(r.tests.term) == ["policy"]


def test_heterogeneity_row_accounting_and_settings():
    """Rows with a missing group and rows of groups below min_group_size are counted, by reason."""
    d = mech_panel(n=60, seed=8)
    d.loc[[0, 1, 2], "region"] = np.nan
    d.loc[d.county == d.county.iloc[8], "region"] = "tiny"  # one county, 8 rows
    d.loc[[30], "x1"] = np.nan  # dropped inside its group's fit
    r = heterogeneity("out ~ policy + x1", d, by="region", min_group_size=30, test="both")
    assert r.rows.n_input == len(d)
    assert r.rows.dropped["missing region"] == 3
    assert r.rows.dropped["region groups with fewer than 30 rows"] == 8
    assert r.rows.dropped["missing x1"] == 1
    assert r.rows.n_used == sum(g.nobs for g in r.groups.values())
    assert r.rows.n_used == len(d) - 3 - 8 - 1 - sum(
        v for k, v in r.rows.dropped.items() if k.startswith("singleton"))
    s = r.settings
    assert s["rows_missing_group"] == 3
    assert s["groups_left_out"] == "['tiny'] (fewer than 30 rows)"
    assert s["groups"] == "central, east, west" and s["by"] == "region"
    assert s["formula"] == "out ~ policy + x1" and s["fixed_effects"] == "county, year"
    assert s["interacted_fixed_effects"] == "county, year^region" and s["cluster"] == "county"
    # a group of exactly min_group_size rows is kept
    d2 = mech_panel(n=60, seed=8)
    keep = d2.county.isin(d2.county.unique()[:4])
    d2.loc[keep, "region"] = "edge"  # 4 counties x 8 years = 32 rows
    assert "edge" in heterogeneity("out ~ policy", d2, by="region", min_group_size=32).groups
    assert "edge" not in heterogeneity("out ~ policy", d2, by="region", min_group_size=33).groups


def test_heterogeneity_suest_warns_when_clusters_span_groups():
    d = mech_panel(n=60, seed=9)
    d["grp"] = np.where(d.year % 2 == 0, "even", "odd")  # every county in both groups
    with pytest.warns(UserWarning, match="span several 'grp' groups"):
        heterogeneity("out ~ policy", d, by="grp", test="suest")
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message="clusters .* span")  # regions nest counties: no warning
        heterogeneity("out ~ policy", mech_panel(n=60, seed=9), by="region", test="suest")


# --------------------------------------------------------------------------- threshold bootstrap
def test_threshold_bootstrap_p_value_and_critical_values_by_definition():
    """p = share of F* above F; critical values = inverted-CDF 90/95/99% quantiles of F* (xthreg's
    e(Fstat) columns); batching the draws does not change them (same generator stream), up to rounding."""
    from test_threshold import hansen_panel

    from analysis.regression.threshold import threshold

    df = hansen_panel(n=30, T=4, b_low=1.0, b_high=1.15, seed=31)
    kw = dict(controls=["x0"], n_draws=37, grid=15, seed=5)
    a = threshold(df, "y", "q", "r0", **kw)
    b = threshold(df, "y", "q", "r0", batch_size=3, **kw)
    Fb, row = a.boot_F["Single"], a.f_table.iloc[0]
    np.testing.assert_allclose(Fb, b.boot_F["Single"], rtol=1e-12)  # same draws; BLAS order in a batch
    assert len(Fb) == 37 and row.n_boot == 37
    assert 0 < row.p_value < 1
    assert row.p_value == np.mean(Fb > row.F)
    srt = np.sort(Fb)
    # inverted CDF: the smallest F* with empirical CDF >= p, i.e. srt[ceil(p B) - 1]
    for col, p in (("crit10", 0.90), ("crit5", 0.95), ("crit1", 0.99)):
        assert row[col] == srt[int(np.ceil(p * 37)) - 1]


def test_threshold_fixed_null_bootstrap_matches_loop():
    """bootstrap_null="fixed", second threshold: F* from explicit OLS per draw, the first threshold
    held at its estimate (Hansen 1999, section 3.1; the draws are rng.integers(0, n, (B, n)))."""
    from test_threshold import brute_ssr, hansen_panel, null_fit_and_draws

    from analysis.regression.threshold import threshold

    n, T, B = 20, 4, 4
    df = hansen_panel(n=n, T=T, seed=17, b_low=1.0, b_high=2.0)
    res = threshold(df, "y", "q", "r0", controls=["x0"], n_thresholds=2, n_draws=[0, B], grid=12, seed=3,
                    bootstrap_null="fixed", batch_size=B, ci_grid="search", refine=False)
    g1 = res.threshold_table.estimate.iloc[0]
    cand = res.lr_curve.loc[res.lr_curve.stage == "Th-2", "gamma"].to_numpy()  # admissible points
    code = (df.q.to_numpy() > g1).astype(int)
    X = pd.DataFrame({"x0": df.x0, "r_lo": df.r0 * (code == 0), "r_hi": df.r0 * (code == 1)})
    fit, e_null, draws = null_fit_and_draws(df, X, n, T, B, seed=3)
    F_loop = []
    for d_ in draws:
        dd = df.assign(ys=fit + e_null[d_].ravel())
        S0 = brute_ssr(dd, "ys", ["r0"], ["x0"], "q", [g1])
        S1 = min(brute_ssr(dd, "ys", ["r0"], ["x0"], "q", [g1, c]) for c in cand)
        F_loop.append((S0 - S1) / (S1 / (n * (T - 1))))
    np.testing.assert_allclose(res.boot_F["Double"], F_loop, rtol=1e-9)  # rounding of two algebras
    assert "Single" not in res.boot_F and np.isnan(res.f_table.p_value.iloc[0])
    # "reestimate" redoes the first search in every draw: same Single draws, different Double draws
    kw = dict(controls=["x0"], n_thresholds=2, n_draws=B, grid=12, seed=3, batch_size=B, refine=False)
    re_ = threshold(df, "y", "q", "r0", bootstrap_null="reestimate", **kw)
    fx = threshold(df, "y", "q", "r0", bootstrap_null="fixed", **kw)
    np.testing.assert_allclose(re_.boot_F["Single"], fx.boot_F["Single"], rtol=1e-12)
    assert np.max(np.abs(re_.boot_F["Double"] - fx.boot_F["Double"])) > 1e-3


# --------------------------------------------------------------------------- hausman
def _grunfeld():
    from analysis.datasets import load_reference

    return load_reference("grunfeld")


def test_hausman_rows_p_values_and_decisions_by_definition():
    """Each test row: p-value from its stated distribution, df, decision at alpha; the result's
    statistic/p_value are the first row's; a firm-constant regressor is reported, not tested."""
    from analysis.regression import fe, hausman

    g = _grunfeld()
    g = g.assign(size=g.groupby("firm").capital.transform("first"))  # constant within firm
    r = hausman("inv ~ value + capital + size", g, entity="firm", method=("classic", "robust", "mundlak"))
    t = r.tests
    assert r.settings["tested_regressors"] == "value, capital"
    assert r.settings["time_invariant_not_tested"] == "size"
    assert r.settings["time_effects"] == "none"
    assert list(r.coefficients.index) == ["(Intercept)", "value", "capital"]
    cl, rb, mu = t.iloc[0], t.iloc[1], t.iloc[2]
    assert r.statistic == cl.statistic and r.p_value == cl.p_value and r.to_frame().equals(t)
    for row in (cl, rb):
        assert row.df == 2 and row.distribution == "chi2(2)"
        assert row.p_value == pytest.approx(stats.chi2.sf(row.statistic, 2), rel=1e-12)
    assert rb.note == "clustered by firm" and mu.note == "clustered by firm; reghdfe factor"
    # Mundlak by hand: pooled OLS with firm means of the varying regressors, clustered F
    gm = g.assign(value__bar=g.groupby("firm").value.transform("mean"),
                  capital__bar=g.groupby("firm").capital.transform("mean"))
    m = fe("inv ~ value + capital + size + value__bar + capital__bar", gm, entity="firm", fe=None, cluster="firm")
    w = m.wald(["value__bar", "capital__bar"])
    assert mu.statistic == pytest.approx(w["F"], rel=1e-10) and mu.df == 2
    assert mu.p_value == pytest.approx(stats.f.sf(w["F"], 2, 9), rel=1e-10)  # G - 1 = 9
    assert mu.distribution == "F(2, 9)" and mu.method.startswith("Mundlak (pooled OLS on x and entity means,")
    for row in (cl, rb, mu):
        reject = row.p_value < 0.05
        assert row.decision.startswith("reject RE") == reject
        assert row.decision.startswith("do not reject RE") == (not reject)
    strict = hausman("inv ~ value + capital", _grunfeld(), entity="firm", method="robust", alpha=1e-12)
    assert strict.tests.decision.iloc[0].startswith("do not reject") and strict.tests.p_value.iloc[0] > 1e-12


def test_hausman_time_effects_robust_and_mundlak_by_hand():
    """With year dummies: the auxiliary regression adds the quasi-demeaned dummies (statsmodels,
    cluster-robust without small-sample factor), the Mundlak regression absorbs year."""
    import statsmodels.api as sm
    from linearmodels.panel import RandomEffects

    from analysis.regression import fe, hausman

    g = _grunfeld()
    r = hausman("inv ~ value + capital", g, entity="firm", time_effects=True, method=("robust", "mundlak"))
    p = g.set_index(["firm", "year"])
    yr = pd.get_dummies(p.index.get_level_values(1), prefix="_yr", drop_first=True, dtype=float)
    yr.index = p.index
    re = RandomEffects(p.inv, pd.concat([p[["value", "capital"]], yr], axis=1).assign(const=1.0)).fit()
    th = re.theta.reindex(p.index.get_level_values(0)).to_numpy().ravel()
    m = p.groupby(level=0).transform("mean")
    my = yr.groupby(level=0).transform("mean")
    Z = pd.concat([pd.DataFrame({"c": 1 - th, "v": p.value - th * m.value, "k": p.capital - th * m.capital},
                                index=p.index),
                   yr - th[:, None] * my,
                   pd.DataFrame({"dv": p.value - m.value, "dk": p.capital - m.capital}, index=p.index)], axis=1)
    ols = sm.OLS((p.inv - th * m.inv).to_numpy(), Z.to_numpy()).fit(
        cov_type="cluster", cov_kwds={"groups": p.index.get_level_values(0).to_numpy(), "use_correction": False})
    b, V = ols.params[-2:], ols.cov_params()[-2:, -2:]
    W = float(b @ np.linalg.solve(V, b))
    rb = r.tests.iloc[0]
    assert rb.statistic == pytest.approx(W, rel=1e-7)  # two solvers of the same least squares
    gm = g.assign(value__bar=g.groupby("firm").value.transform("mean"),
                  capital__bar=g.groupby("firm").capital.transform("mean"))
    mf = fe("inv ~ value + capital + value__bar + capital__bar", gm, entity="firm", fe="year", cluster="firm")
    mu = r.tests.iloc[1]
    assert mu.statistic == pytest.approx(mf.wald(["value__bar", "capital__bar"])["F"], rel=1e-10)
    assert "+ year FE" in mu.method
    assert r.settings["time_effects"] == "year dummies in both models (not tested)"


def test_hausman_input_errors_name_the_fix():
    from analysis.errors import SpecificationError
    from analysis.regression import hausman

    g = _grunfeld()
    with pytest.raises(SpecificationError, match=r"^hausman\(\) needs a bare outcome column; create it first \(e\.g\. log_y\)\.$"):
        hausman("np.log(inv) ~ value", g, entity="firm")
    with pytest.raises(SpecificationError, match="bare column names as regressors; create 'np.log"):
        hausman("inv ~ np.log(value)", g, entity="firm")
    with pytest.raises(SpecificationError, match="no regressor varies within entities"):
        hausman("inv ~ size", g.assign(size=g.firm * 2.0), entity="firm")


# --------------------------------------------------------------------------- threshold result
@pytest.fixture(scope="module")
def two_threshold_fit():
    from test_threshold import hansen_panel

    from analysis.regression.threshold import threshold

    df = hansen_panel(n=40, T=5, seed=4)
    right = threshold(df, "y", "q", "r0", controls=["x0"], n_thresholds=2, n_draws=0, grid=30)
    left = threshold(df, "y", "q", "r0", controls=["x0"], n_thresholds=2, n_draws=0, grid=30, closed="left")
    return right, left


def test_threshold_regime_labels_exact(two_threshold_fit):
    right, left = two_threshold_fit
    a, b = (f"{g:.3f}" for g in right.thresholds)
    assert right.regime_labels() == {"r0_regime0": f"r0 × I(q ≤ {a})", "r0_regime1": f"r0 × I({a} < q ≤ {b})",
                                     "r0_regime2": f"r0 × I(q > {b})"}
    a, b = (f"{g:.1f}" for g in left.thresholds)
    assert left.regime_labels(digits=1) == {"r0_regime0": f"r0 × I(q < {a})", "r0_regime1": f"r0 × I({a} ≤ q < {b})",
                                            "r0_regime2": f"r0 × I(q ≥ {b})"}


def test_threshold_summary_and_plot_contents(two_threshold_fit):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.regression.threshold import lr_critical_value, plot_lr

    res = two_threshold_fit[0]
    text = res.summary()
    assert f"thresholds (LR confidence set, c(alpha) = {lr_critical_value(0.05):.4f}):" in text
    assert res.threshold_table.to_string(index=False, float_format=lambda v: f"{v:.6g}") in text
    assert "threshold-effect tests (bootstrap p-values):" in text
    assert res.f_table.to_string(index=False, float_format=lambda v: f"{v:.6g}") in text
    with plt.rc_context():
        fig = plot_lr(res, lang="en", stages=["Th-1", "Th-22"])
        assert plt.rcParams["font.sans-serif"] == ["DejaVu Sans"]  # the English style, no CJK font
    assert len(fig.axes) == 2 and tuple(fig.get_size_inches()) == pytest.approx((8.4, 3.4))
    est = res.threshold_table.set_index("stage")["estimate"]
    for ax, st in zip(fig.axes, ["Th-1", "Th-22"]):
        assert ax.get_title() == f"LR statistic, {st}" and ax.get_xlabel() == "threshold γ (q)"
        assert ax.get_ylabel() == "LR"
        curve = res.lr_curve[res.lr_curve.stage == st]
        np.testing.assert_array_equal(ax.lines[0].get_xdata(), curve.gamma.to_numpy())
        np.testing.assert_array_equal(ax.lines[0].get_ydata(), curve.lr.to_numpy())
        assert ax.lines[1].get_ydata()[0] == res.critical_value  # dashed c(alpha)
        assert ax.lines[1].get_linestyle() == "--"
        assert ax.lines[2].get_xdata()[0] == est[st] and ax.lines[2].get_linestyle() == ":"
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert labels == ["LR(γ)", f"95% critical value ({res.critical_value:.2f})"]
    plt.close(fig)
    fig = res.plot(lang="zh")  # every stage by default
    assert [ax.get_title() for ax in fig.axes] == [f"似然比统计量（{s}）" for s in ("Th-1", "Th-21", "Th-22")]
    plt.close(fig)
    fig = plot_lr(res)  # Chinese by default
    assert fig.axes[0].get_title() == "似然比统计量（Th-1）" and fig.axes[0].get_ylabel() == "LR"
    plt.close(fig)


# --------------------------------------------------------------------------- threshold inputs and grid
def test_threshold_input_errors_exact():
    """Every input error names the column/rows/units and the fix (messages pinned end to end)."""
    from test_threshold import hansen_panel

    from analysis.errors import (
        ColumnError,
        MissingValueError,
        NonNumericError,
        SpecificationError,
        UnbalancedPanelError,
    )
    from analysis.regression.threshold import threshold
    from analysis.regression.threshold._inputs import _n_boot_list, _trim_list

    df = hansen_panel(n=12, T=4)
    with pytest.raises(SpecificationError, match=r"^data must be a pandas DataFrame in long form"):
        threshold(df.to_numpy(), "y", "q", "r0", n_draws=0)
    with pytest.raises(ColumnError, match=r"^columns \['nope'\] are not in the data; available: \['county'"):
        threshold(df, "y", "q", "nope", n_draws=0)
    with pytest.raises(SpecificationError, match=r"^columns \['x0'\] appear more than once among y, regime"):
        threshold(df, "y", "q", "r0", controls=["x0", "x0"], n_draws=0)
    bad = df.assign(r0=df.r0.astype(object))
    bad.loc[[2, 5], "r0"] = "n/a"
    with pytest.raises(NonNumericError, match=r"^column 'r0' must be numeric; non-numeric cells in rows 2, 5\. "
                       r"Convert it with pd\.to_numeric or fix those cells\.$"):
        threshold(bad, "y", "q", "r0", n_draws=0)
    miss = df.copy()
    miss.loc[[1], "y"] = np.nan
    miss.loc[[7], "q"] = np.nan
    with pytest.raises(MissingValueError, match=r"missing values: 'y' in row 1; 'q' in row 7\. Impute"):
        threshold(miss, "y", "q", "r0", n_draws=0)
    # ten units in a single period: eight named, "and 2 more"
    one = pd.concat([df, hansen_panel(n=10, T=1, seed=2).assign(county=lambda d: "x" + d.county)],
                    ignore_index=True)
    with pytest.raises(UnbalancedPanelError, match=r"^10 county value\(s\) are observed in a single period \(x110101 "
                       r"\(1 periods\), .*x110108 \(1 periods\) and 2 more\)"):
        threshold(one, "y", "q", "r0", n_draws=0)
    two = df.drop(index=[0, 1])  # a unit with two periods has within variation: kept (n_draws=0)
    assert threshold(two, "y", "q", "r0", n_draws=0, grid=10).rows.n_used == len(df) - 2
    unb = df.drop(index=[0])
    with pytest.raises(UnbalancedPanelError, match=r"The panel is unbalanced: 1 of 12 county values lack some of "
                       r"the 4 periods 2010-2013: 110101 \(3 periods\)\. Balance"):
        threshold(unb, "y", "q", "r0", n_draws=9)
    assert _n_boot_list(7, 2) == [7, 7] and _n_boot_list([3, 0], 2) == [3, 0]
    with pytest.raises(SpecificationError, match=r"^n_boot has 1 entries but n_thresholds=2"):
        _n_boot_list([3], 2)
    with pytest.raises(SpecificationError, match=r"^n_boot must be >= 0"):
        _n_boot_list([3, -1], 2)
    assert _trim_list(0.1, 2) == [0.1, 0.1] and _trim_list([0.0, 0.2], 2) == [0.0, 0.2]
    with pytest.raises(SpecificationError, match=r"^trim has 3 entries but n_thresholds=2"):
        _trim_list([0.1, 0.1, 0.1], 2)
    for t in (0.5, -0.01):
        with pytest.raises(SpecificationError, match=r"must be in \[0, 0\.5\)"):
            _trim_list(t, 1)
    assert _trim_list(0.49, 1) == [0.49]


def test_threshold_grid_helpers_by_definition():
    from analysis.errors import SpecificationError
    from analysis.regression.threshold._grid import (
        ci_grid,
        hansen_trim_mask,
        lr_critical_value,
        regime_codes,
        share_mask,
        threshold_grid,
    )

    for a in (0.05, 0.1, 0.01, 0.5):
        assert lr_critical_value(a) == pytest.approx(-2 * np.log(1 - np.sqrt(1 - a)), rel=1e-15)
    for a in (0.0, 1.0):
        with pytest.raises(SpecificationError, match="strictly between 0 and 1"):
            lr_critical_value(a)
    q = np.arange(1.0, 101.0)
    assert threshold_grid(q, trim=0.0, grid=2).tolist() == [1.0, 100.0]
    ints = threshold_grid(np.arange(1, 101), trim=0.1, grid=5)  # integer input: float candidates (docstring)
    assert ints.dtype == np.float64 and ints.tolist() == [10.0, 31.0, 50.0, 70.0, 90.0]
    pts = ci_grid(np.arange(1, 101), ints)  # every observed value from 10 to 90, as floats
    assert pts.dtype == np.float64 and pts.tolist() == [float(v) for v in range(10, 91)]
    with pytest.raises(SpecificationError, match=r"^grid=1: at least 2 grid points"):
        threshold_grid(q, grid=1)
    with pytest.raises(SpecificationError, match=r"^trim=0\.5 must be in \[0, 0\.5\)"):
        threshold_grid(q, trim=0.5)
    # Hansen's grid: qn = 10, trim 0.1 -> sq = 0.1, ..., 0.9 (9 points), dd[floor(sq * 100)] (1-based)
    assert threshold_grid(q, trim=0.1, grid=10, method="hansen").tolist() == [10.0, 20, 30, 40, 50, 60, 70, 80, 90]
    # regime codes: #{g < q} (q <= g in regime 0) or #{g <= q}
    qq = np.array([1.0, 2.0, 3.0, 4.0])
    assert regime_codes(qq, [2.0, 3.0], "right").tolist() == [0, 0, 1, 2]
    assert regime_codes(qq, [3.0, 2.0], "left").tolist() == [0, 1, 2, 2]
    assert regime_codes(qq, [], "right").tolist() == [0, 0, 0, 0]
    # share mask: every regime keeps >= min_obs observations, fixed thresholds excluded
    qs = np.arange(1.0, 11.0)
    grid = np.arange(1.0, 11.0)
    m = share_mask(grid, qs, [5.0], 2, "right")
    assert grid[m].tolist() == [2.0, 3.0, 7.0, 8.0]  # regimes (..g], (g..5], (5..] of >= 2 obs
    m = share_mask(grid, qs, [5.0], 2, "left")
    assert grid[m].tolist() == [3.0, 7.0, 8.0, 9.0]  # [..g), [g..5), [5..)
    assert share_mask(grid, qs, [], 2, "right").all()
    # Hansen's trim in grid-index units: nn = #{grid < r}; drop nn - qn*trim <= i < nn + qn*trim
    keep = hansen_trim_mask(grid, [5.0], qn=10, trim=0.2)
    assert np.flatnonzero(~keep).tolist() == [1, 2, 3, 4]  # 1-based i = 2..5 (nn = 4, 2 <= i < 6)


# --------------------------------------------------------------------------- wild bootstrap
def test_wild_bootstrap_p_values_enumeration_and_report_by_definition():
    """Symmetric p = mean(|t*| > |t|), equal-tailed p = 2 min(mean(t* <= t), mean(t* > t))
    (boottest); enumeration when 2^G < B uses every sign vector exactly once; the report."""
    import itertools

    from test_regression_fe import small_panel

    from analysis.errors import SpecificationError
    from analysis.regression.fe import _estimate
    from analysis.regression.wild_bootstrap import _WCRCore, wild_bootstrap

    d = small_panel(n=30, T=6, seed=8)
    a = wild_bootstrap("y ~ x1 + x2", d, "x2", n_draws=199, seed=11, h0=-0.3)
    tb, t = a.t_boot, a.t_stat
    assert len(tb) == 199 and a.n_draws == 199 and a.stats["n_draws"] == 199
    assert a.p_value == np.mean(np.abs(tb) > abs(t)) == a.stats["p_wcr"]
    p_eq = 2 * min(np.mean(tb <= t), np.mean(tb > t))
    assert a.p_value_equal_tailed == p_eq == a.stats["p_wcr_equal_tailed"]
    f = fe("y ~ x1 + x2", d)
    assert t == pytest.approx((f.params["x2"] + 0.3) / f.std_errors["x2"], rel=1e-10)
    assert a.std_errors["x2"] == pytest.approx(f.std_errors["x2"], rel=1e-10)
    assert a.stats["clusters"] == 30 == a.n_clusters and a.stats["N"] == len(d)
    row = a.boot_frame().iloc[0]
    assert row.term == "x2" and row.h0 == -0.3 and row.statistic == t and row.p_value_wcr == a.p_value
    assert row.p_value_wcr_equal_tailed == p_eq and row.n_draws == 199 and row.clusters == 30
    assert row.weights == "rademacher" and row.estimate == f.params["x2"]
    assert a.settings["bootstrap"] == (
        "wild cluster restricted bootstrap (WCR-11, null beta[x2] = -0.3 imposed), rademacher weights, "
        "B = 199, clusters: county (G = 30); symmetric p-value mean(|t*| > |t|)")
    assert a.settings["seed"] == 11 and a.seed == 11
    k = wild_bootstrap("y ~ x1 + x2", d, "x2", n_draws=99, seed=1, keep_draws=False, fe="year")
    assert k.t_boot is None and k.settings["nested_fe"] == "none"
    gen = wild_bootstrap("y ~ x1 + x2", d, "x2", n_draws=99, seed=np.random.default_rng(1))
    assert gen.settings["seed"] == "Generator" and gen.seed is None
    # enumeration: province has 7 clusters, 2^7 = 128 < 199
    e = wild_bootstrap("y ~ x1 + x2", d, "x2", n_draws=199, seed=1, cluster="province")
    _, inn = _estimate("y ~ x1 + x2", d, cluster="province")
    core = _WCRCore(inn["X"], inn["y"], 1, 0.0, inn["fe_codes"], inn["cluster_codes"][0], inn["info"]["factor"])
    V = np.array(list(itertools.product([-1.0, 1.0], repeat=7))).T
    np.testing.assert_allclose(e.t_boot, core.t_boot(V), rtol=1e-12)
    assert e.enumerated and e.n_draws == 128
    assert e.settings["bootstrap"].endswith("B = 128 (all 2^G sign vectors enumerated), clusters: province (G = 7); "
                                            "symmetric p-value mean(|t*| > |t|)")
    assert e.settings["nested_fe"] == "county"  # counties nest in provinces, years do not
    # 2^G == B is not enumerated (strict <), and webb weights never are
    assert not wild_bootstrap("y ~ x1 + x2", d, "x2", n_draws=128, seed=1, cluster="province").enumerated
    with pytest.raises(SpecificationError, match=r"^n_draws=98 is too small"):
        wild_bootstrap("y ~ x1 + x2", d, "x2", n_draws=98)
    assert wild_bootstrap("y ~ x1 + x2", d, "x2", n_draws=99, seed=0).n_draws == 99
    with pytest.raises(SpecificationError, match=r"^wild_bootstrap takes one cluster variable"):
        wild_bootstrap("y ~ x1 + x2", d, "x2", cluster=["county"])
    with pytest.raises(SpecificationError, match=r"^param='x9' is not a coefficient of 'y ~ x1 \+ x2'; "
                       r"coefficients: \['x1', 'x2'\]\.$"):
        wild_bootstrap("y ~ x1 + x2", d, "x9")


def test_wild_bootstrap_core_limits_non_nested_levels():
    from test_regression_fe import small_panel

    from analysis.errors import SpecificationError
    from analysis.regression.fe import _estimate
    from analysis.regression.wild_bootstrap import _nested, _WCRCore

    d = small_panel(n=14, T=6, seed=2)
    _, inn = _estimate("y ~ x1 + x2", d)
    args = (inn["X"], inn["y"], 1, 0.0, inn["fe_codes"], inn["cluster_codes"][0], inn["info"]["factor"])
    assert _WCRCore(*args, max_levels=6).L == 6  # the six years are not nested in counties
    with pytest.raises(SpecificationError, match=r"have 6 levels \(more than 5\); cluster at a level"):
        _WCRCore(*args, max_levels=5)
    assert _nested(np.array([0, 0, 1, 1]), np.array([0, 0, 1, 1]))
    assert _nested(np.array([0, 0, 0, 0]), np.array([0, 0, 1, 1])) is False
    assert _nested(np.array([0, 1, 2, 3]), np.array([0, 0, 1, 1]))


# --------------------------------------------------------------------------- moderation
def test_moderation_curve_grid_bands_and_settings():
    """Default curve: `grid` points between the 1% and 99% moderator quantiles; bands from t(df);
    the settings state the centring; a time-invariant moderator gets a note."""
    from analysis.errors import SpecificationError
    from analysis.regression import moderation

    d = mech_panel(seed=5)
    r = moderation(d, "out2", "policy", "z", controls=["x1"], grid=7)
    me = r.marginal_effects
    lo, hi = np.quantile(d.z, [0.01, 0.99])
    np.testing.assert_allclose(me.moderator, np.linspace(lo, hi, 7), rtol=1e-14)
    b, V = r.fit.params, r.fit.cov
    dz = me.moderator.to_numpy() - d.z.mean()
    est = b["policy_c"] + b["policy_c:z_c"] * dz
    var = V.loc["policy_c", "policy_c"] + dz**2 * V.loc["policy_c:z_c", "policy_c:z_c"] \
        + 2 * dz * V.loc["policy_c", "policy_c:z_c"]
    np.testing.assert_allclose(me.effect, est, rtol=1e-12)
    np.testing.assert_allclose(me.std_error, np.sqrt(var), rtol=1e-12)
    qv = stats.t(r.fit.df_resid).ppf(0.975)
    np.testing.assert_allclose(me.ci_low, est - qv * np.sqrt(var), rtol=1e-12)
    np.testing.assert_allclose(me.ci_high, est + qv * np.sqrt(var), rtol=1e-12)
    assert r.interaction_se == r.fit.std_errors["policy_c:z_c"]
    assert r.centres == {"policy": pytest.approx(d.policy.mean()), "z": pytest.approx(d.z.mean())}
    one = r.effect_at(30.0)
    assert one["moderator"] == 30.0 and one["effect"] == pytest.approx(b["policy_c"] + b["policy_c:z_c"] * (30 - d.z.mean()))
    q = moderation(d, "out2", "policy", "z", grid=3, range_quantiles=(0.25, 0.75), alpha=0.1)
    np.testing.assert_allclose(q.marginal_effects.moderator, np.linspace(*np.quantile(d.z, [0.25, 0.75]), 3),
                               rtol=1e-14)
    half = (q.marginal_effects.ci_high - q.marginal_effects.effect) / q.marginal_effects.std_error
    np.testing.assert_allclose(half, stats.t(q.fit.df_resid).ppf(0.95), rtol=1e-10)
    s = r.settings
    zbar, xbar = d.z.mean(), d.policy.mean()
    assert s["centring"] == f"policy - {xbar:.6g}, z - {zbar:.6g} (sample means)"
    assert s["marginal_effect"] == f"dout2/dpolicy = b[policy_c] + b[policy_c:z_c] * (z - {zbar:.6g}); delta-method SEs"
    assert "note" not in s and r.vcov_type == r.fit.vcov_type and r.rows.n_used == len(d)
    # a county-level moderator is absorbed by the county effects
    dc = d.assign(zc_level=d.groupby("county").z.transform("mean"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = moderation(dc, "out2", "policy", "zc_level")
    assert rc.settings["note"].startswith("zc_level is absorbed by the fixed effects")
    with pytest.raises(SpecificationError, match=r"already has a column named 'policy_c'"):
        moderation(d.assign(policy_c=d.x1), "out2", "policy", "z", controls=["policy_c"])
    with pytest.raises(SpecificationError, match=r"^the interaction pol x z could not be estimated \(collinear with "
                       r"the fixed effects\?\): coefficients \[.z_c.\]\.$"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            moderation(d.assign(pol=1.0), "out2", "pol", "z")  # x - xbar = 0: no interaction


# --------------------------------------------------------------------------- threshold report
def test_threshold_report_settings_regimes_and_rows():
    """What threshold() reports besides the estimates: settings, regime table, time dummies,
    Hansen's dropped rows, stats; F and MSE by definition for both df conventions."""
    from test_threshold import brute_ssr, hansen_panel

    from analysis.regression.threshold import threshold

    df = hansen_panel(n=30, T=5, seed=6)
    gen = np.random.default_rng(0)
    r = threshold(df, "y", "q", "r0", controls=["x0"], n_draws=0, grid=25, seed=gen, time_effects=True, vcov="iid")
    s = r.settings
    assert s["seed"] == "Generator" and s["closed"] == "q <= gamma" and s["df"] == "n(T-1)"
    assert s["fixed_effects"] == ["county", "year"] and s["cluster"] is None and s["vcov"] == "iid"
    assert s["grid"] == 25 and s["grid_method"] == "quantile" and s["grid_points"] == len(r.extra["search_grid"])
    assert s["trim"] == [0.05] and s["n_boot"] == [0] and s["transform"] == "xthreg" and s["ci_grid"] == "full"
    assert s["balanced"] is True and s["refine"] is True and s["bootstrap_null"] == "reestimate"
    assert s["vcov_description"] == "conventional (xtreg, fe; xthreg default): s^2 = SSR/(nT-n-K)"
    assert list(r.params.index) == ["x0", "year=2011", "year=2012", "year=2013", "year=2014",
                                    "r0_regime0", "r0_regime1"]
    assert r.model == "Panel threshold regression (Hansen 1999), 1 threshold(s), xthreg transform"
    assert r.df_resid == 150 - 30 - 7
    g = r.thresholds[0]
    reg = r.regimes
    assert reg.regime.tolist() == [0, 1] and reg.lower.tolist() == [-np.inf, g] and reg.upper.tolist() == [g, np.inf]
    assert reg.n_obs.tolist() == [int((df.q <= g).sum()), int((df.q > g).sum())]
    assert r.stats["n_entities"] == 30 and r.stats["T"] == 5 and r.stats["N"] == 150
    assert r.stats["ssr_linear"] == pytest.approx(brute_ssr(df.assign(**{f"d{t}": (df.year == t) * 1.0 for t in
                                                                        range(2011, 2015)}),
                                                            "y", ["r0"], ["x0", "d2011", "d2012", "d2013", "d2014"],
                                                            "q", []), rel=1e-10)
    yd = df.y - df.groupby("county").y.transform("mean")
    assert r.stats["r2_within"] == pytest.approx(1 - r.stats["ssr"] / float(yd @ yd), rel=1e-12)
    f = r.f_table.iloc[0]
    assert f.test == "Single" and f.n_boot == 0 and np.isnan(f.p_value) and np.isnan(f.crit5)
    assert f.mse == pytest.approx(f.rss / (150 - 30), rel=1e-12)
    assert f.F == pytest.approx((r.stats["ssr_linear"] - f.rss) / f.mse, rel=1e-12)
    nt = threshold(df, "y", "q", "r0", controls=["x0"], n_draws=0, grid=25, df="nT", closed="left",
                   grid_method="hansen", refine=False, n_thresholds=2, seed=4)
    assert nt.settings["df"] == "nT" and nt.settings["closed"] == "q < gamma" and nt.settings["seed"] == 4
    assert nt.f_table.mse.iloc[0] == pytest.approx(nt.f_table.rss.iloc[0] / 150, rel=1e-12)
    assert list(nt.threshold_table.stage) == ["Th-1", "Th-2"] and nt.settings["cluster"] == "county"
    assert list(nt.f_table.test) == ["Single", "Double"]
    assert nt.df_resid == 29 and nt.settings["vcov_description"].startswith("cluster-robust by county")
    h = threshold(df, "y", "q", "r0", controls=["x0"], n_draws=0, grid=[-0.5, 0.0, 0.5], transform="hansen",
                  vcov="iid")
    assert h.settings["grid"] == "explicit" and h.settings["grid_points"] == 3
    assert h.rows.n_used == 120 and h.rows.dropped == {"last period of each unit (Hansen's transform)": 30}
    assert h.df_resid == 120 - 2 - 1 and h.stats["N"] == 120
    assert h.settings["closed"] == "q < gamma" and h.settings["ci_grid"] == "search"
    assert h.settings["vcov_description"].startswith("conventional: s^2 = SSR/(n(T-1)-K) on Hansen")
    assert h.f_table.mse.iloc[0] == pytest.approx(h.f_table.rss.iloc[0] / 120, rel=1e-12)


# --------------------------------------------------------------------------- mediation
def test_mediation_table_stats_and_settings_by_definition():
    """Bootstrap columns of table() (sd with ddof 1, percentile CIs at alpha/2), Sobel z, stats and
    settings of mediation(), checked against their definitions on the returned draws."""
    from analysis.regression import mediation

    d = mech_panel(n=40, T=6, seed=3)
    r = mediation(d, "out", "policy", "med", controls=["x1"], n_draws=60, seed=7, alpha=0.1)
    t = r.table().set_index("path")
    assert list(t.index) == ["total", "a", "b", "direct", "indirect"]
    for p in t.index:
        draws = r.boot[p].to_numpy()
        assert t.loc[p, "boot_se"] == pytest.approx(np.std(draws, ddof=1), rel=1e-12)
        assert t.loc[p, "boot_ci_low"] == pytest.approx(np.quantile(draws, 0.05), rel=1e-12)
        assert t.loc[p, "boot_ci_high"] == pytest.approx(np.quantile(draws, 0.95), rel=1e-12)
    p = r.params
    assert r.sobel["z"] == pytest.approx(p["indirect"] / r.std_errors["indirect"], rel=1e-12)
    assert r.stats["proportion_mediated"] == pytest.approx(p["indirect"] / p["total"], rel=1e-12)
    assert r.proportion_mediated == pytest.approx(p["indirect"] / p["total"], rel=1e-12)
    assert r.stats["identity_gap"] == pytest.approx(p["total"] - p["direct"] - p["indirect"], abs=1e-12)
    assert r.stats["N"] == len(d) and r.n_draws == 60 and len(r.boot) == 60 and r.seed == 7
    ci = r.conf_int()
    z = stats.norm.ppf(0.95)
    assert ci.loc["indirect"].tolist() == pytest.approx([p["indirect"] - z * r.std_errors["indirect"],
                                                         p["indirect"] + z * r.std_errors["indirect"]], rel=1e-12)
    tq = stats.t(r.df_resid).ppf(0.95)
    assert ci.loc["a"].tolist() == pytest.approx([p["a"] - tq * r.std_errors["a"], p["a"] + tq * r.std_errors["a"]],
                                                 rel=1e-12)
    s = r.settings
    assert s["controls"] == "x1" and s["fixed_effects"] == "county, year" and s["treatment"] == "policy"
    assert s["bootstrap"] == ("county-cluster pairs bootstrap, 60 draws, percentile CIs, seed=7, "
                              "vectorised (per-cluster cross-products)")
    assert s["indirect_se"].startswith("Sobel (1982) delta method")
    n0 = mediation(d, "out", "policy", "med", n_draws=0)
    assert n0.settings["bootstrap"] == "not run" and n0.settings["controls"] == "none" and n0.boot is None
    assert "boot_se" not in n0.table().columns and n0.n_draws == 0


# --------------------------------------------------------------------------- estimation sample
def test_prepare_sample_parsing_and_row_accounting():
    """Formula parsing and the per-reason row report of prepare_sample (the first missing variable in
    formula order, non-finite values as missing, zero weights, singletons as reghdfe)."""
    from analysis.errors import ColumnError, NegativeValueError, NonNumericError, SpecificationError
    from analysis.regression._sample import _split_top, as_tuple, drop_singletons, parse_formula, prepare_sample

    assert as_tuple(None) == () and as_tuple(False) == () and as_tuple("a + b+0") == ("a", "b")
    assert as_tuple(["a ", 1]) == ("a", "1")
    assert _split_top("a + f(b + c) + d", "+") == ["a", "f(b + c)", "d"]
    p = parse_formula("y ~ x1 + np.log(x2) | county + year")
    assert (p.lhs, p.rhs, p.terms, p.fe, p.depvar) == ("y", "x1 + np.log(x2)", ["x1", "np.log(x2)"],
                                                       ("county", "year"), "y")
    assert parse_formula("y ~ x").fe is None
    for bad, msg in [("y x", r"^formula='y x' is not a formula"), ("y ~ x | a | b", r"has 2 '\|' parts"),
                     (" ~ x", r"has no dependent variable"), ("y ~ ", r"has no regressors right of '~'")]:
        with pytest.raises(SpecificationError, match=msg):
            parse_formula(bad)
    assert drop_singletons([]).size == 0
    # a chain: dropping the singleton county makes a year a singleton, and so on
    c = np.array([0, 0, 1, 1, 2])
    t = np.array([0, 1, 1, 2, 2])
    assert drop_singletons([c, t]).tolist() == [False, False, False, False, False]
    assert drop_singletons([np.array([0, 0, 1, 1])]).tolist() == [True] * 4
    d = mech_panel(n=10, T=4, seed=1)
    d.loc[[0], "x1"] = np.nan
    d.loc[[1], "out"] = np.inf
    d.loc[[2], "x1"] = -np.inf
    d["w"] = 1.0
    d.loc[[5, 6], "w"] = 0.0
    s = prepare_sample(d, "out ~ x1 + policy", ("county", "year"), weights="w", singletons=False)
    assert s.rows.dropped == {"missing out": 1, "missing x1": 2, "zero weight": 2}
    assert s.rows.n_input == 40 and s.rows.n_used == 35 and len(s.frame) == 35
    assert list(s.frame.columns) == ["out", "x1", "policy", "county", "year", "w"]
    assert s.variables == ["out", "x1", "policy"] and s.fe == ("county", "year")
    s1 = prepare_sample(d.drop(index=[4, 5, 6, 7]), "out ~ policy", ("county",))
    assert s1.rows.dropped == {"missing out": 1}
    d1 = d.drop(index=[5, 6, 7])  # county 1 keeps a single row: a singleton
    s2 = prepare_sample(d1, "out ~ policy", ("county",))
    assert s2.rows.dropped["singleton groups (dropped as reghdfe does)"] == 1
    assert prepare_sample(d1, "out ~ policy", ("county",), singletons=False).rows.n_used == len(d1) - 1
    with pytest.raises(NegativeValueError, match=r"^weights column 'w' is negative in row 3; weights must be >= 0\.$"):
        prepare_sample(d.assign(w=np.where(d.index == 3, -1.0, 1.0)), "out ~ x1", (), weights="w")
    with pytest.raises(ColumnError, match=r"^column 'X1' \(in the formula\) is not in data\. Did you mean 'x1'\?"):
        prepare_sample(d, "out ~ X1", ())
    with pytest.raises(ColumnError, match=r"^column 'prov' \(fixed effect, cluster, panel key or weights\)"):
        prepare_sample(d, "out ~ x1", ("prov",))
    with pytest.raises(ColumnError, match=r"^dependent variable 'np.log\(nope\)' is not a column"):
        prepare_sample(d, "np.log(nope) ~ x1", ())
    with pytest.raises(NonNumericError, match=r"^column 'region' is not numeric \(dtype \w+; non-numeric cells "
                       r"in rows 0, 1, 2, 3, 4, 5, 6, 7 and 32 more\)\. Convert it with pd\.to_numeric"):
        prepare_sample(d, "out ~ region", ())
    with pytest.raises(SpecificationError, match=r"^no rows left to estimate 'out ~ x1'"):
        prepare_sample(d.assign(x1=np.nan), "out ~ x1", ())
    with pytest.raises(SpecificationError, match=r"^data must be a pandas DataFrame"):
        prepare_sample(d.to_numpy(), "out ~ x1", ())
    fe_inter = prepare_sample(d, "out ~ x1", ("county^region",), singletons=False)
    assert fe_inter.fe_codes[0].max() + 1 == 10


# --------------------------------------------------------------------------- fe
def test_fe_names_every_collinear_regressor_and_cites_reghdfe():
    from test_regression_fe import small_panel

    from analysis.regression.fe import REFERENCE, CollinearityWarning

    d = small_panel(seed=15)
    d["c1"] = d.county.astype(int) % 5
    d["c2"] = d.county.astype(int) % 3
    with pytest.warns(CollinearityWarning, match=r"^2 regressor\(s\) dropped because .*\(county, year\): c1, c2\. "
                      r"They have no coefficient"):
        r = fe("y ~ x1 + c1 + c2", d)
    assert r.settings["collinear_dropped"] == "c1, c2" and list(r.params.index) == ["x1"]
    assert r.reference == REFERENCE and "reghdfe" in r.reference
    assert fe("y ~ x1", d, fe=None).reference == REFERENCE


def test_threshold_hansen_transform_trims_second_stage_in_grid_index_units():
    """transform="hansen": the second search drops the grid points within qn*trim grid indices of the
    first threshold (Hansen's GAUSS code, pdR::ptm), not a share of the observations."""
    from test_threshold import hansen_panel

    from analysis.regression.threshold import threshold
    from analysis.regression.threshold._grid import hansen_trim_mask

    df = hansen_panel(n=30, T=5, seed=21)
    res = threshold(df, "y", "q", "r0", controls=["x0"], n_thresholds=2, n_draws=0, grid=40, trim=0.1,
                    transform="hansen", vcov="iid", refine=False)
    grid = res.extra["search_grid"]
    g1 = res.threshold_table.estimate.iloc[0]
    keep = hansen_trim_mask(grid, [g1], 40, 0.1)
    assert (~keep).sum() == 8  # nn - 4 <= i < nn + 4
    got = set(res.lr_curve.loc[res.lr_curve.stage == "Th-2", "gamma"])
    assert got == set(grid[keep]) - {g1}


def test_threshold_alpha_sets_the_intervals_and_extra_holds_the_f_table():
    """alpha= reaches the result: the half-widths of the slope intervals for alpha 0.10 vs 0.05 are in
    the ratio q(0.95)/q(0.975) of the fit's reference distribution (t with its residual df, else normal)."""
    from scipy import stats
    from test_threshold import hansen_panel

    from analysis.regression.threshold import threshold

    df = hansen_panel(n=30, T=4, seed=8)
    kw = dict(controls=["x0"], n_draws=0, grid=12)
    a05 = threshold(df, "y", "q", "r0", **kw)
    a10 = threshold(df, "y", "q", "r0", alpha=0.10, **kw)
    assert a10.alpha == 0.10 and a05.alpha == 0.05
    t05, t10 = a05.to_frame().set_index("term"), a10.to_frame().set_index("term")
    ratio = (t10["ci_high"] - t10["estimate"]) / (t05["ci_high"] - t05["estimate"])
    dist = a05.df_resid
    want = (stats.t.ppf(0.95, dist) / stats.t.ppf(0.975, dist)) if dist else stats.norm.ppf(0.95) / stats.norm.ppf(0.975)
    np.testing.assert_allclose(ratio.to_numpy(), want, rtol=1e-9)
    assert a05.extra["f_table"] is a05.f_table


# --------------------------------------------------------------------------- hausman: sigmamore (wave 5)
def test_hausman_sigmamore_row_by_definition():
    """Grunfeld `capital ~ inv + value`: V_FE - V_RE is not positive semi-definite (chi2 < 0), so the
    classic row is flagged and Stata's `hausman fe re, sigmamore` row follows: both covariances use
    the efficient (RE) estimator's disturbance variance s2_RE, V_FE = s2_RE (X~'X~)^-1 with X~ the
    within deviations. Recomputed here with numpy: within OLS, and the RE GLS as OLS on the
    quasi-demeaned data (theta from linearmodels' Swamy-Arora components, as the robust test by hand)."""
    from linearmodels.panel import RandomEffects

    from analysis.regression import hausman

    g = _grunfeld()
    r = hausman("capital ~ inv + value", g, entity="firm", method="classic")
    p = g.set_index(["firm", "year"])
    gid = p.index.get_level_values(0).to_numpy()
    X = p[["inv", "value"]].to_numpy(float)
    y = p.capital.to_numpy(float)
    mX = pd.DataFrame(X).groupby(gid).transform("mean").to_numpy()
    my = pd.Series(y).groupby(gid).transform("mean").to_numpy()
    b_fe = np.linalg.lstsq(X - mX, y - my, rcond=None)[0]
    re = RandomEffects(p.capital, p[["inv", "value"]].assign(const=1.0)).fit()
    th = re.theta.reindex(p.index.get_level_values(0)).to_numpy().ravel()
    Z = np.column_stack([X - th[:, None] * mX, 1 - th])
    ys = y - th * my
    b_re = np.linalg.lstsq(Z, ys, rcond=None)[0]
    e = ys - Z @ b_re
    s2_re = e @ e / (len(ys) - Z.shape[1])  # linearmodels / plm RE: e'e / (n - k)
    V_re = s2_re * np.linalg.inv(Z.T @ Z)[:2, :2]
    V_fe_sm = s2_re * np.linalg.inv((X - mX).T @ (X - mX))
    d = b_fe - b_re[:2]
    H = float(d @ np.linalg.solve(V_fe_sm - V_re, d))
    assert len(r.tests) == 2
    cl, sm = r.tests.iloc[0], r.tests.iloc[1]
    assert cl.statistic < 0 and np.isnan(cl.p_value) and cl.decision.startswith("not valid")
    assert cl.note.startswith("V_FE - V_RE not positive semi-definite")
    assert sm.method == "classic, sigmamore (Stata hausman fe re, sigmamore)"
    assert sm.statistic == pytest.approx(H, rel=1e-8)  # two least-squares solvers; cond(V) ~ 1e1
    assert sm.df == 2 and sm.distribution == "chi2(2)" and sm.note == ""
    assert sm.p_value == pytest.approx(stats.chi2.sf(H, 2), rel=1e-7)
    assert sm.decision.startswith("reject RE") == (sm.p_value < 0.05)
    # alpha reaches the sigmamore row's decision
    strict = hausman("capital ~ inv + value", g, entity="firm", method="classic", alpha=1e-6)
    assert strict.tests.iloc[1].decision.startswith("do not reject RE")
    assert "valid" not in r.tests.columns
    assert list(r.coefficients.columns) == ["FE", "FE_se", "RE", "RE_se", "difference", "sqrt(diag(V_FE - V_RE))"]
    assert r.coefficients.loc["(Intercept)", "RE"] == pytest.approx(b_re[2], rel=1e-8)
    assert r.coefficients["FE"].isna().tolist() == [True, False, False]


# --------------------------------------------------------------------------- moderation (wave 5)
def test_moderation_result_t_inference_and_driscoll_kraay():
    """The result carries the fit's residual df (t inference in to_frame, as reghdfe); with
    vcov='driscoll-kraay' the fit equals fe() on the centred variables with the same covariance."""
    from analysis.regression import moderation

    d = mech_panel(seed=5)
    r = moderation(d, "out2", "policy", "z", controls=["x1"], grid=5)
    assert r.df_resid == r.fit.df_resid and r.df_resid is not None
    row = r.to_frame().set_index("term").loc["policy_c:z_c"]
    t = row.estimate / row.std_error
    assert row.p_value == pytest.approx(2 * stats.t.sf(abs(t), r.fit.df_resid), rel=1e-10)
    dk = moderation(d, "out2", "policy", "z", controls=["x1"], vcov="driscoll-kraay", grid=5)
    c = d.assign(pc=d.policy - d.policy.mean(), zc=d.z - d.z.mean())
    c["pz"] = c.pc * c.zc
    f = fe("out2 ~ pc + zc + pz + x1", c, vcov="driscoll-kraay")
    assert dk.fit.params["policy_c:z_c"] == pytest.approx(f.params["pz"], rel=1e-9)
    assert dk.fit.std_errors["policy_c:z_c"] == pytest.approx(f.std_errors["pz"], rel=1e-9)
    assert dk.fit.std_errors["policy_c:z_c"] != pytest.approx(r.fit.std_errors["policy_c:z_c"], rel=1e-3)


def test_moderation_plot_labels_bins_and_band():
    """Plot contents: default language Chinese, the CI level in the band's label, a 40-bin grey
    histogram of the moderator whose axis is stretched 4x (bars in the bottom quarter)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.regression import moderation
    from analysis.regression.moderation import plot_marginal_effects

    d = mech_panel(seed=6)
    r = moderation(d, "out2", "policy", "z", grid=20, alpha=0.1)
    fig = plot_marginal_effects(r)  # default lang: zh
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == ["90% 置信区间", "边际效应"]
    assert ax.get_ylabel() == "policy 的边际效应" and ax.get_xlabel() == "z"
    assert ax.get_title() == "policy 的边际效应随 z 的变化"
    ax2 = fig.axes[1]
    bars = ax2.patches
    assert len(bars) == 40
    counts, _ = np.histogram(r.moderator_values, bins=40)
    np.testing.assert_array_equal([b.get_height() for b in bars], counts)
    assert matplotlib.colors.to_rgb(bars[0].get_facecolor()) == pytest.approx(matplotlib.colors.to_rgb("grey"))
    top = ax2.get_ylim()[1]
    assert 4 * counts.max() <= top <= 4 * 1.05 * counts.max() + 1e-9  # autoscale margin 5%, times 4
    plt.close(fig)
    fig = plot_marginal_effects(moderation(d, "out2", "policy", "z", grid=5), lang="en")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["95% CI", "marginal effect"]
    plt.close(fig)


# --------------------------------------------------------------------------- heterogeneity (wave 5)
def test_heterogeneity_options_reach_the_fits_and_the_report():
    """fe= reaches the subgroup fits; an interacted FE `year^prov` nested in the groups is kept as
    it is (subgroup estimates = interacted coefficients); settings, reference, summary and the
    exact messages."""
    from analysis.errors import SpecificationError
    from analysis.regression.heterogeneity import REFERENCE

    d = mech_panel(n=60, seed=8)
    r = heterogeneity("out ~ policy + x1", d, by="region", fe="county", test="both")
    for g, fit in r.groups.items():
        assert fit.fixed_effects == ("county",)
        ref = fe("out ~ policy + x1", d[d.region == g], fe="county")
        assert fit.params["policy"] == pytest.approx(ref.params["policy"], rel=1e-10)
    assert r.settings["fixed_effects"] == "county"
    assert r.settings["vcov"] == "cluster-robust (CRV1) by county, 20 clusters"
    assert r.reference == REFERENCE and r.model == "Heterogeneity by region"
    assert r.summary().endswith(r.tests.to_string(index=False, float_format=lambda v: f"{v:.6g}"))
    # a two-way FE nested in the groups: year x province, provinces within regions
    d2 = d.assign(prov=d.region + (pd.factorize(d.county)[0] % 2).astype(str))
    r2 = heterogeneity("out ~ policy + x1", d2, by="region", fe=("county", "year^prov"))
    assert r2.interacted.fixed_effects == ("county", "year^prov")
    for g, fit in r2.groups.items():
        assert r2.interacted.params[f"policy__{g}"] == pytest.approx(fit.params["policy"], rel=1e-9)
    with pytest.raises(SpecificationError, match=r"^test='sur' is not one of 'interaction', 'suest', 'both'\.$"):
        heterogeneity("out ~ policy", d, by="region", test="sur")
    with pytest.raises(SpecificationError, match=r"^heterogeneity\(\) needs bare column names as regressors; "
                       r"'np\.log\(z\)' is not one\. Create the column first \(e\.g\. data\['log_x'\] = "
                       r"np\.log\(data\['x'\]\)\)\.$"):
        heterogeneity("out ~ np.log(z)", d, by="region")
    with pytest.raises(SpecificationError, match=r"^terms \['z'\] are not regressors of 'out ~ policy' \(\['policy'\]\)\.$"):
        heterogeneity("out ~ policy", d, by="region", terms="z")


def test_heterogeneity_group_at_min_size_kept_and_suest_warning_text():
    d = mech_panel(n=60, seed=8)
    d.loc[d.county.isin(d.county.unique()[:4]), "region"] = "edge"  # 4 counties x 8 years = 32 rows
    r = heterogeneity("out ~ policy", d, by="region", min_group_size=32)
    assert "edge" in r.groups and "groups_left_out" not in r.settings
    d3 = mech_panel(n=60, seed=9)
    d3["grp"] = np.where(d3.year % 2 == 0, "even", "odd")
    with pytest.warns(UserWarning) as rec:
        heterogeneity("out ~ policy", d3, by="grp", test="suest")
    msgs = [str(w.message) for w in rec if "span" in str(w.message)]
    assert msgs == ["clusters 'county' span several 'grp' groups; the 'suest' test ignores their covariance. "
                    "Use test='interaction'."]


# --------------------------------------------------------------------------- mediation (wave 5)
def test_mediation_messages_keys_and_default_alpha():
    """Exact messages of the shared argument checks, duplicate (entity, time) keys refused by both
    estimators (also with a renamed entity column), the default alpha (0.05: 95% intervals)."""
    from analysis.errors import DuplicateKeyError, SpecificationError
    from analysis.regression import mediation, multiple_mediation
    from analysis.regression.mediation import _MediationInputs

    d = mech_panel(n=40, T=6, seed=3)
    with pytest.raises(SpecificationError, match=r"^could not evaluate the outcome 'np\.log\(nope\)' \(name 'nope' is "
                       r"not defined\); give a column name or an expression of columns such as "
                       r"'np\.log\(rural_income\)'\.$"):
        mediation(d, "np.log(nope)", "policy", "med", n_draws=0)
    dup = pd.concat([d, d.iloc[[0]]], ignore_index=True)
    with pytest.raises(DuplicateKeyError, match=r"share a \(county, year\) key"):
        mediation(dup, "out", "policy", "med", n_draws=0)
    d2 = d.assign(med2=d.med + np.random.default_rng(0).normal(size=len(d))).rename(columns={"county": "cid"})
    dup2 = pd.concat([d2, d2.iloc[[0]]], ignore_index=True)
    with pytest.raises(DuplicateKeyError, match=r"share a \(cid, year\) key"):
        multiple_mediation(dup2, "out", "policy", ["med", "med2"], entity="cid", fe=("cid", "year"),
                           cluster="cid", n_draws=50, seed=0)
    r = mediation(d, "out", "policy", "med", n_draws=0)
    assert r.alpha == 0.05
    ci = r.conf_int().loc["a"]
    half = stats.t(r.df_resid).ppf(0.975) * r.std_errors["a"]
    assert ci.tolist() == pytest.approx([r.params["a"] - half, r.params["a"] + half], rel=1e-12)

    class _Eq:
        nobs = 5

    inp = _MediationInputs(frame=d, sample=None, y="out", controls=[], fe_kw={})
    with pytest.raises(SpecificationError, match=r"^equation 'a' used 5 rows, not the common 240; check for "
                       r"singletons created by the controls\.$"):
        inp.check_common({"a": _Eq()})


@pytest.mark.parametrize("model", ["parallel", "serial"])
def test_multiple_mediation_settings_reference_and_type(model):
    """What multiple_mediation() reports besides the numbers: model label (Hayes 2018 model 4 or 6),
    mediator order (an arrow chain for the serial model), reference, covariance type."""
    from analysis.regression import multiple_mediation

    d = mech_panel(n=40, T=6, seed=3)
    d["med2"] = 0.5 * d.med + np.random.default_rng(1).normal(size=len(d))
    r = multiple_mediation(d, "out", "policy", ["med", "med2"], model=model, controls=["x1"], n_draws=50, seed=4)
    s = r.settings
    assert s["model"] == {"parallel": "parallel (Hayes model 4)", "serial": "serial (Hayes model 6)"}[model]
    assert s["mediators"] == {"parallel": "med, med2", "serial": "med -> med2"}[model]
    assert s["controls"] == "x1" and s["fixed_effects"] == "county, year" and s["outcome"] == "out"
    assert s["std_errors"] == "county-cluster pairs bootstrap SE, 50 joint draws, seed=4; percentile CIs in table()"
    assert r.reference.startswith("Hayes (2018) models 4 and 6; Preacher and Hayes (2008) Behavior Research Methods 40(3); ")
    assert r.vcov_type == "bootstrap" and r.n_boot == 50 and r.seed == 4
    assert r.model == f"Multiple mediation with fixed effects ({model})"


# --------------------------------------------------------------------------- fe (wave 5, seed 20261207 sample)
def test_fe_multiway_psd_fix_warns_and_is_described():
    """Two-way clustering whose covariance is not positive semi-definite (Cameron, Gelbach and Miller
    2011): fe() warns and says so in settings['vcov']; the seed is searched as in test_mutation_vcov."""
    rng_found = None
    for seed in range(200):
        rng = np.random.default_rng(seed)
        d = pd.DataFrame({"x1": rng.normal(size=12), "x2": rng.normal(size=12), "y": rng.normal(size=12),
                          "a": np.repeat(np.arange(3), 4), "b": np.tile(np.arange(4), 3),
                          "county": np.arange(12), "year": 2000})
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            r = fe("y ~ x1 + x2", d, fe=None, cluster=("a", "b"))
        psd = [str(w.message) for w in rec if "positive semi-definite" in str(w.message)]
        if psd:
            rng_found = seed
            break
    assert rng_found is not None, "no non-PSD two-way example in 200 seeds"
    assert psd == ["the multi-way clustered covariance was not positive semi-definite; negative eigenvalues "
                   "were set to zero (Cameron, Gelbach and Miller 2011, as reghdfe)."]
    assert r.settings["vcov"].endswith("; negative eigenvalues set to zero (Cameron-Gelbach-Miller fix)")
    assert np.linalg.eigvalsh(r.cov.to_numpy()).min() >= -1e-12 * np.abs(r.cov.to_numpy()).max()


def test_fe_collinearity_reported_once_and_vcov_choice_message():
    """A collinear regressor gives one CollinearityWarning naming it, not also pyfixest's own note;
    an unknown vcov= names the argument."""
    from test_regression_fe import small_panel

    from analysis.errors import SpecificationError
    from analysis.regression.fe import CollinearityWarning

    d = small_panel(seed=15)
    d["c1"] = d.county.astype(int) % 5
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fe("y ~ x1 + c1", d)
    coll = [w for w in rec if "collinear" in str(w.message).lower()]
    assert len(coll) == 1 and coll[0].category is CollinearityWarning
    assert not [w for w in rec if str(w.message).startswith("pyfixest:")]
    with pytest.raises(SpecificationError, match=r"^vcov='hc7' is not one of "):
        fe("y ~ x1", d, vcov="hc7")


# --------------------------------------------------------------------------- wild bootstrap (wave 5, seed 20261207 sample)
def test_wild_bootstrap_single_regressor_matches_wildboottest():
    """With the tested coefficient the only regressor, the restricted residuals are y - h0 x (no
    other regressor to partial out) after the FEs: t* equal wildboottest's on the same Rademacher
    draws (its model with the FEs as dummies; scale for its small-sample factor as in
    test_regression_wild_bootstrap). rtol 1e-9: two solvers of the same least squares."""
    from test_regression_fe import small_panel
    from test_regression_wild_bootstrap import wildboottest_and_core

    d = small_panel(n=15, T=6, seed=4)
    wb, core, scale = wildboottest_and_core(d, ["x2"], 0, 199)
    np.testing.assert_allclose(core.t_boot(wb.v) * scale, wb.t_boot, rtol=1e-9, atol=1e-12)


# --------------------------------------------------------------------------- hausman (wave 5, seed 20261207 sample)
def test_hausman_generalized_inverse_note_summary_and_duplicate_keys():
    """A singular but positive semi-definite V_FE - V_RE: generalized inverse, df = rank, and the note
    says so; summary() prints the tests and then the coefficient table; duplicate (firm, year) keys
    are refused."""
    from analysis.errors import DuplicateKeyError
    from analysis.regression import hausman
    from analysis.regression.hausman import _classic_row

    d = pd.Series([0.3, 0.3], index=["a", "b"])
    Vd = pd.DataFrame([[1.0, 1.0], [1.0, 1.0]], index=d.index, columns=d.index)  # rank 1
    row = _classic_row(d, Vd, ["a", "b"], 0.05, "classic")
    assert row["valid"] and row["df"] == 1 and row["distribution"] == "chi2(1)"
    # pinv of [[1,1],[1,1]] = 2 u u' (u = (1,1)/sqrt 2) is u u' / 2 = [[1,1],[1,1]] / 4: d' pinv d = 0.6^2 / 4
    assert row["statistic"] == pytest.approx(0.09, rel=1e-12)
    assert row["note"] == "V_FE - V_RE not positive definite: generalized inverse, df = rank"
    g = _grunfeld()
    r = hausman("inv ~ value + capital", g, entity="firm")
    assert r.tests.method.tolist() == ["classic (Hausman 1978; Stata hausman, plm phtest)",
                                       "robust (auxiliary regression, Wooldridge 10.7.3; Stata xtoverid)"]
    text = r.summary()
    table = r.coefficients.to_string(float_format=lambda v: f"{v:.6g}")
    assert text.endswith("\n" + table)
    dup = pd.concat([g, g.iloc[[0]]], ignore_index=True)
    with pytest.raises(DuplicateKeyError, match=r"share a \(firm, year\) key"):
        hausman("inv ~ value + capital", dup, entity="firm")
    with pytest.raises(DuplicateKeyError, match=r"share a \(firm, yr\) key"):
        hausman("inv ~ value + capital", dup.rename(columns={"year": "yr"}), entity="firm", time="yr")


# --------------------------------------------------------------------------- moderation (wave 5, seed 20261207 sample)
def test_moderation_result_fields_at_values_cluster_rows_and_plot_details():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.errors import DuplicateKeyError
    from analysis.regression import moderation

    d = mech_panel(seed=5)
    r = moderation(d, "out2", "policy", "z", at=[10, 20])
    assert r.vcov_type == r.fit.vcov_type and r.vcov_type is not None
    assert r.stats == r.fit.stats and r.stats["N"] == len(d)
    assert r.marginal_effects.moderator.dtype == float
    dn = d.assign(cl=d.county.astype(object))
    dn.loc[[3, 4], "cl"] = None
    rc = moderation(dn, "out2", "policy", "z", cluster="cl")
    assert rc.rows.dropped["missing cl"] == 2 and rc.rows.n_used == len(d) - 2
    dup = pd.concat([d, d.iloc[[0]]], ignore_index=True).rename(columns={"year": "yr"})
    with pytest.raises(DuplicateKeyError, match=r"share a \(county, yr\) key"):
        moderation(dup, "out2", "policy", "z", time="yr", fe=("county", "yr"))
    fig = r.plot(lang="en")
    ax, ax2 = fig.axes[0], fig.axes[1]
    zero = [ln for ln in ax.get_lines() if ln.get_linestyle() == "--"]
    assert len(zero) == 1 and list(zero[0].get_ydata()) == [0, 0]
    assert matplotlib.colors.to_rgb(zero[0].get_color()) == pytest.approx(matplotlib.colors.to_rgb("grey"))
    assert ax2.patches[0].get_alpha() == 0.25
    assert not any(gl.get_visible() for gl in ax2.get_xgridlines() + ax2.get_ygridlines())
    plt.close(fig)


# ------------------------------------------------------------------- moderation, third sample (seed 20261208)
def test_moderation_uses_the_fixed_effects_given_and_reports_the_fit_it_made():
    """fe= reaches the fit (county effects only here), and the result's cov, cluster and settings['vcov']
    are those of that fit: checked against fe() on the centred variables (Aiken and West 1991), the
    same OLS, so to 1e-10."""
    from analysis.regression import moderation

    d = mech_panel(seed=5)
    r = moderation(d, "out2", "policy", "z", fe=("county",), grid=5)
    work = d.assign(policy_c=d.policy - d.policy.mean(), z_c=d.z - d.z.mean())
    ref = fe("out2 ~ policy_c + z_c + policy_c:z_c", work, fe=("county",), cluster="county")
    np.testing.assert_allclose(r.params[ref.params.index], ref.params, rtol=1e-10)
    np.testing.assert_allclose(r.cov.loc[ref.params.index, ref.params.index], ref.cov, rtol=1e-10)
    assert r.cluster == ref.cluster and r.settings["vcov"] == ref.settings["vcov"]
    two_way = moderation(d, "out2", "policy", "z", grid=5)
    assert abs(two_way.params["policy_c"] - r.params["policy_c"]) > 1e-6  # the year effects matter here


def test_plot_marginal_effects_band_over_the_moderator_rug_option_and_histogram_floor():
    import matplotlib.pyplot as plt

    from analysis.regression import moderation
    from analysis.regression.moderation import plot_marginal_effects

    r = moderation(mech_panel(seed=5), "out2", "policy", "z", grid=9)
    me = r.marginal_effects
    fig = plot_marginal_effects(r, "en")
    ax, ax2 = fig.axes
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 0].min() == pytest.approx(me.moderator.min()) and band[:, 0].max() == pytest.approx(me.moderator.max())
    line = next(ln for ln in ax.lines if ln.get_label() == "marginal effect")
    np.testing.assert_allclose(line.get_xdata(), me.moderator)
    assert line.get_linewidth() == 2
    assert ax2.get_ylim()[0] == 0  # the histogram stands on the axis
    plt.close(fig)
    no_rug = plot_marginal_effects(r, "en", rug=False)
    assert len(no_rug.axes) == 1  # rug=False draws no histogram
    plt.close(no_rug)
