"""Tests written for the confirmatory mutation review of the threshold modules and of
``regression/_sample.py`` (issue 15; seed 20261207, tests/README.md).

Each test pins what a user sees (a label, a row count, an F statistic, an error message) to its
definition (Hansen 1999, "Threshold effects in non-dynamic panels", J. Econometrics 93) or to an
independent computation written here; tolerances are stated where they are not exact.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest
from test_threshold import hansen_panel

from analysis.results import EstimationResult


@pytest.fixture(scope="module")
def loans_fit():
    """A two-threshold fit whose threshold variable is not called "q" (so the default name shows)."""
    from analysis.regression.threshold import threshold

    df = hansen_panel(n=30, T=4, seed=4).rename(columns={"q": "loans"})
    return threshold(df, "y", "loans", "r0", controls=["x0"], n_thresholds=2, n_draws=0, grid=20)


# --------------------------------------------------------------------------- threshold/_result.py
def test_threshold_summary_is_the_coefficient_summary_then_the_two_tables(loans_fit):
    """summary() = EstimationResult.summary(), a blank line, the threshold table, a blank line, the
    F table, one item per line (nothing else between them)."""
    res = loans_fit
    fmt = lambda v: f"{v:.6g}"  # noqa: E731
    want = "\n".join([EstimationResult.summary(res), "",
                      f"thresholds (LR confidence set, c(alpha) = {res.critical_value:.4f}):",
                      res.threshold_table.to_string(index=False, float_format=fmt), "",
                      "threshold-effect tests (bootstrap p-values):",
                      res.f_table.to_string(index=False, float_format=fmt)])
    assert res.summary() == want


def test_threshold_labels_fall_back_to_q_and_no_regimes_without_settings(loans_fit):
    """A result whose settings lack the threshold variable's name labels it "q" (the docstring's
    ``I(q <= gamma)``), and one without regime regressors has no regime labels (not an error)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = loans_fit
    a, b = (f"{g:.3f}" for g in res.thresholds)
    assert res.regime_labels()["r0_regime0"] == f"r0 × I(loans ≤ {a})"
    bare = copy.copy(res)
    bare.settings = {k: v for k, v in res.settings.items() if k != "q"}
    assert bare.regime_labels() == {"r0_regime0": f"r0 × I(q ≤ {a})", "r0_regime1": f"r0 × I({a} < q ≤ {b})",
                                    "r0_regime2": f"r0 × I(q > {b})"}
    no_regime = copy.copy(res)
    no_regime.settings = {k: v for k, v in res.settings.items() if k != "regime"}
    assert no_regime.regime_labels() == {}
    for lang, label in (("en", "threshold γ (q)"), ("zh", "门槛值 γ（q）")):
        fig = bare.plot(lang=lang, stages=["Th-1"])
        assert fig.axes[0].get_xlabel() == label
        plt.close(fig)
    fig = res.plot(lang="zh", stages=["Th-1"])
    assert fig.axes[0].get_xlabel() == "门槛值 γ（loans）"
    plt.close(fig)


def test_threshold_result_plot_passes_the_language_on(loans_fit):
    """ThresholdResult.plot(lang="en") draws the English panels (default is Chinese)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = loans_fit.plot(lang="en")
    assert [ax.get_title() for ax in fig.axes] == [f"LR statistic, {s}" for s in ("Th-1", "Th-21", "Th-22")]
    assert fig.axes[0].get_xlabel() == "threshold γ (loans)"
    plt.close(fig)


# --------------------------------------------------------------------------- threshold/_grid.py
def test_threshold_grid_names_the_grid_method_option():
    """An unknown grid method names the option the user set (threshold(grid_method=...)) and the choices."""
    from analysis.errors import SpecificationError
    from analysis.regression.threshold import threshold
    from analysis.regression.threshold._grid import threshold_grid

    msg = r"^grid_method='octiles' is not one of 'quantile', 'hansen'\.$"
    with pytest.raises(SpecificationError, match=msg):
        threshold_grid(np.arange(10.0), method="octiles")
    with pytest.raises(SpecificationError, match=msg):
        threshold(hansen_panel(n=6, T=3), "y", "q", "r0", n_draws=0, grid_method="octiles")


# --------------------------------------------------------------------------- threshold/_search.py
def test_threshold_second_stage_keeps_at_least_kr_plus_one_observations_per_regime():
    """With trim=0 the share rule still needs k_r + 1 observations in every regime (a regime slope
    from one observation is not identified after the within transform): the second search skips
    every candidate that leaves a regime with a single observation (counted here directly)."""
    from analysis.regression.threshold import threshold

    df = hansen_panel(n=12, T=4, seed=14)
    q = df["q"].to_numpy()
    grid = np.sort(q)  # every observed value is a candidate
    res = threshold(df, "y", "q", "r0", controls=["x0"], n_thresholds=2, n_draws=0, trim=0.0, grid=grid,
                    refine=False, ci_grid="search")
    g1 = res.threshold_table.estimate.iloc[0]

    def counts(c):
        lo, hi = min(g1, c), max(g1, c)
        return [int((q <= lo).sum()), int(((q > lo) & (q <= hi)).sum()), int((q > hi).sum())]

    got = set(res.lr_curve.loc[res.lr_curve.stage == "Th-2", "gamma"])
    singles = [c for c in grid if c != g1 and min(counts(c)) == 1]
    assert len(singles) >= 2  # the rule is exercised: such candidates exist in this grid
    assert got.isdisjoint(singles)
    assert all(min(counts(c)) >= 2 for c in got)
    # and every candidate with >= 2 observations in each regime is searched
    assert got == {c for c in grid if c != g1 and min(counts(c)) >= 2}


def test_threshold_reestimating_bootstrap_redoes_the_first_search_in_every_draw():
    """bootstrap_null="reestimate", second threshold (Hansen 1999, section 3.1; pdR): every draw
    re-searches the first threshold on y*, then the second given it, F* = (S1* - S2*) / (S2* / n(T-1)),
    here by explicit OLS per candidate; draws rng.integers(0, n, (B, n)), regressors held fixed."""
    from test_threshold import brute_ssr

    from analysis.regression.threshold import threshold

    n, T, B = 20, 4, 4
    df = hansen_panel(n=n, T=T, seed=17, b_low=1.0, b_high=2.0)
    res = threshold(df, "y", "q", "r0", controls=["x0"], n_thresholds=2, n_draws=[0, B], grid=12, seed=3,
                    bootstrap_null="reestimate", batch_size=B, ci_grid="search", refine=False)
    g1 = res.threshold_table.estimate.iloc[0]
    grid = res.extra["search_grid"]
    q = df.q.to_numpy()
    min_obs = max(int(np.ceil(0.05 * n * T)), 2)  # trim 0.05 of the rows, at least k_r + 1
    g = df["county"].to_numpy()
    code = (q > g1).astype(int)
    X = np.column_stack([df.x0, df.r0 * (code == 0), df.r0 * (code == 1)])
    Xd = X - pd_group_mean(X, g)
    yd = df.y.to_numpy() - pd_group_mean(df.y.to_numpy()[:, None], g)[:, 0]
    fit = Xd @ np.linalg.lstsq(Xd, yd, rcond=None)[0]
    e_null = (yd - fit).reshape(n, T)
    F_loop = []
    for d_ in np.random.default_rng(3).integers(0, n, size=(B, n)):
        dd = df.assign(ys=fit + e_null[d_].ravel())
        s1 = [brute_ssr(dd, "ys", ["r0"], ["x0"], "q", [c]) for c in grid]
        h1 = grid[int(np.argmin(s1))]
        ok = [c for c in grid if c != h1 and min(int((q <= min(h1, c)).sum()),
                                                 int(((q > min(h1, c)) & (q <= max(h1, c))).sum()),
                                                 int((q > max(h1, c)).sum())) >= min_obs]
        S2 = min(brute_ssr(dd, "ys", ["r0"], ["x0"], "q", [h1, c]) for c in ok)
        F_loop.append((min(s1) - S2) / (S2 / (n * (T - 1))))
    np.testing.assert_allclose(res.boot_F["Double"], F_loop, rtol=1e-9)  # rounding of two algebras


def pd_group_mean(a, g):
    """Unit means of the columns of ``a`` on every row (the within transform's subtrahend)."""
    import pandas as pd

    return pd.DataFrame(a).groupby(g).transform("mean").to_numpy()


# --------------------------------------------------------------------------- threshold/_estimate.py
def test_threshold_variable_without_two_candidates_is_refused_with_its_name():
    """A threshold variable with one value inside the trimmed range cannot split the sample: the
    error names it and says why (explicit grid of one point, or a constant q)."""
    from analysis.errors import SpecificationError
    from analysis.regression.threshold import threshold

    df = hansen_panel(n=8, T=3, seed=2).rename(columns={"q": "loans"})
    msg = (r"^the threshold variable 'loans' has fewer than 2 distinct values inside the trimmed range; "
           r"it cannot split the sample\.$")
    with pytest.raises(SpecificationError, match=msg):
        threshold(df.assign(loans=1.0), "y", "loans", "r0", n_draws=0)
    with pytest.raises(SpecificationError, match=msg):
        threshold(df, "y", "loans", "r0", n_draws=0, grid=[0.1, 0.1])


def test_threshold_covariance_matrix_is_the_within_ols_one():
    """vcov="iid": cov = s^2 (X~'X~)^{-1}, s^2 = SSR / (nT - n - K) (xtreg, fe), X~ the within-demeaned
    controls and regime blocks at the estimated threshold; built here by explicit OLS, the full matrix
    (off-diagonal terms too) with the parameter names on both axes."""
    from analysis.regression.threshold import threshold

    n, T = 25, 4
    df = hansen_panel(n=n, T=T, seed=12)
    res = threshold(df, "y", "q", "r0", controls=["x0"], n_draws=0, grid=15, vcov="iid")
    g1 = res.thresholds[0]
    code = (df.q.to_numpy() > g1).astype(int)
    X = np.column_stack([df.x0, df.r0 * (code == 0), df.r0 * (code == 1)])
    ids = df["county"].to_numpy()
    Xd = X - pd_group_mean(X, ids)
    yd = df.y.to_numpy() - pd_group_mean(df.y.to_numpy()[:, None], ids)[:, 0]
    beta = np.linalg.lstsq(Xd, yd, rcond=None)[0]
    e = yd - Xd @ beta
    V = (e @ e) / (n * T - n - 3) * np.linalg.inv(Xd.T @ Xd)
    names = ["x0", "r0_regime0", "r0_regime1"]
    assert list(res.cov.index) == names and list(res.cov.columns) == names
    np.testing.assert_allclose(res.cov.to_numpy(), V, rtol=1e-9)  # two OLS algebras: round-off only
    np.testing.assert_allclose(res.std_errors.to_numpy(), np.sqrt(np.diag(V)), rtol=1e-9)


# --------------------------------------------------------------------------- regression/_sample.py
def test_parse_formula_without_tilde_says_how_to_write_it():
    from analysis.errors import SpecificationError
    from analysis.regression._sample import parse_formula

    with pytest.raises(SpecificationError) as err:
        parse_formula("y x1")
    assert str(err.value) == ("formula='y x1' is not a formula; write it as 'y ~ x1 + x2' (fixed effects go in "
                              "fe=, or after a bar: 'y ~ x1 + x2 | county + year').")


def test_drop_singletons_without_fixed_effects_is_an_empty_boolean_mask():
    """No fixed effects: an empty *boolean* mask (a float array of length 0 is not a valid row mask)."""
    import pandas as pd

    from analysis.regression._sample import drop_singletons

    keep = drop_singletons([])
    assert keep.dtype == np.bool_ and keep.shape == (0,)
    assert pd.DataFrame({"a": []})[keep].shape == (0, 1)
