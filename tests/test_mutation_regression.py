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

from analysis.regression import heterogeneity

from test_regression_mechanisms import mech_panel


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
    from test_threshold import brute_ssr, hansen_panel

    from analysis.regression.threshold import threshold

    n, T, B = 20, 4, 4
    df = hansen_panel(n=n, T=T, seed=17, b_low=1.0, b_high=2.0)
    res = threshold(df, "y", "q", "r0", controls=["x0"], n_thresholds=2, n_draws=[0, B], grid=12, seed=3,
                    bootstrap_null="fixed", batch_size=B, ci_grid="search", refine=False)
    g1 = res.threshold_table.estimate.iloc[0]
    cand = res.lr_curve.loc[res.lr_curve.stage == "Th-2", "gamma"].to_numpy()  # admissible points
    g = df["county"].to_numpy()
    code = (df.q.to_numpy() > g1).astype(int)
    X = pd.DataFrame({"x0": df.x0, "r_lo": df.r0 * (code == 0), "r_hi": df.r0 * (code == 1)})
    Xd = (X - X.groupby(g).transform("mean")).to_numpy()
    yd = (df.y - df.y.groupby(g).transform("mean")).to_numpy()
    bnull = np.linalg.lstsq(Xd, yd, rcond=None)[0]
    e_null = (yd - Xd @ bnull).reshape(n, T)
    fit = Xd @ bnull
    draws = np.random.default_rng(3).integers(0, n, size=(B, n))
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
