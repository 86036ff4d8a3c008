"""Tests written for the wave-7 mutation review of ``threshold/_estimate.py`` and
``threshold/_bootstrap.py`` (seed 20261213, issue 15; tests/README.md).

Each test pins what a user sees (an error message word for word, the settings of the result, the
numbers on columns of another dtype or scale) to its definition or to a second fit computed here.
Panels are small (Hansen's 1999 section-5 design from ``test_threshold.hansen_panel``), no bootstrap
unless a test is about it, so each test runs in about a second.
"""
from __future__ import annotations

import re

import numpy as np
import pytest
from test_threshold import hansen_panel

from analysis.errors import ConstantColumnError, SpecificationError
from analysis.regression.threshold import threshold

WITHIN_MSG = ("the fixed effects absorb it. Drop it (time-invariant variables cannot enter a within "
              "regression).")


# --------------------------------------------------------------------------- option checks and messages
@pytest.mark.parametrize("option, value, choices", [
    ("transform", "stata", "'xthreg', 'hansen'"),
    ("n_thresholds", 4, "1, 2, 3"),
    ("vcov", "robust", "'cluster', 'iid'"),
    ("closed", "both", "'right', 'left'"),
    ("df", "nT-1", "'hansen', 'nT'"),
    ("bootstrap_null", "wild", "'reestimate', 'fixed'"),
    ("ci_grid", "coarse", "'full', 'search'"),
])
def test_threshold_unknown_option_names_the_option_and_its_choices(option, value, choices):
    """_estimate ``threshold`` 19 (``check_choice(None, transform, ...)``) and 117 (``"DF"``): an
    unknown value is refused with a message that names the keyword the user typed, the value and the
    allowed values, for every option threshold() checks."""
    df = hansen_panel(n=6, T=3, seed=1)
    msg = f"^{re.escape(f'{option}={value!r} is not one of {choices}.')}$"
    with pytest.raises(SpecificationError, match=msg):
        threshold(df, "y", "q", "r0", n_draws=0, grid=5, **{option: value})


def test_threshold_without_regime_regressor_says_what_is_missing():
    """The other messages of threshold(): an empty regime list (the xthreg rx() option)."""
    df = hansen_panel(n=6, T=3, seed=1)
    with pytest.raises(SpecificationError, match=r"^regime must name at least one regime-dependent regressor "
                                                 r"\(xthreg rx\(\)\)\.$"):
        threshold(df, "y", "q", [], n_draws=0, grid=5)


def test_threshold_no_admissible_grid_point_names_the_stage_and_its_trim():
    """_estimate ``threshold`` 429 (``_search_stages(..., None, ...)``: the trims were not passed on, so
    this error itself failed with a TypeError). Stage 1: explicit candidates below every q leave
    regime 0 empty. Stage 2 (trim 0.45 for the second threshold): with candidates at the 30/50/70%
    quantiles, every second split leaves a regime with at most 30% of the rows (counted in the
    comment), so the second search has no admissible point and the message names threshold 2 and
    its own trim."""
    df = hansen_panel(n=20, T=4, seed=5)
    with pytest.raises(SpecificationError, match=(
            r"^no admissible grid point for threshold 1: every candidate leaves a regime with fewer than "
            r"trim=0\.05 of the observations\. Lower trim or n_thresholds\.$")):
        threshold(df, "y", "q", "r0", n_draws=0, grid=[-50.0, -40.0], ci_grid="search")
    # g1 at 30%: regime 0 holds 30% < 45%; at 50%: the other 50% split in two; at 70%: top regime 30%
    grid = np.quantile(df.q, [0.3, 0.5, 0.7], method="inverted_cdf")
    with pytest.raises(SpecificationError, match=(
            r"^no admissible grid point for threshold 2: every candidate leaves a regime with fewer than "
            r"trim=0\.45 of the observations\. Lower trim or n_thresholds\.$")):
        threshold(df, "y", "q", "r0", n_thresholds=2, trim=[0.05, 0.45], n_draws=0, grid=grid, ci_grid="search")


# --------------------------------------------------------------------------- settings
def test_threshold_settings_are_every_option_as_used():
    """_estimate ``threshold`` 698 (settings key ``"N_THRESHOLDS"``): the whole settings dict, key by
    key, for a two-threshold cluster fit with a small bootstrap and for Hansen's transform with the
    conventional covariance, year effects and an explicit grid (the transform-dependent defaults)."""
    df = hansen_panel(n=12, T=4, seed=8)
    a = threshold(df, "y", "q", "r0", controls=["x0"], n_thresholds=2, grid=10, n_draws=[5, 3], seed=2,
                  batch_size=4)
    assert a.settings == {
        "y": "y", "q": "q", "regime": ["r0"], "controls": ["x0"], "fixed_effects": ["county"],
        "vcov": "cluster",
        "vcov_description": ("cluster-robust by county (xthreg vce(robust) = xtreg, fe vce(cluster county)): "
                             "factor G/(G-1)*(N-1)/(N-K-1), t with G-1 df"),
        "cluster": "county", "n_thresholds": 2, "trim": [0.05, 0.05], "grid": 10, "grid_method": "quantile",
        "grid_points": len(a.extra["search_grid"]), "n_boot": [5, 3], "seed": 2, "alpha": 0.05,
        "closed": "q <= gamma", "df": "n(T-1)", "refine": True, "bootstrap_null": "reestimate",
        "transform": "xthreg", "ci_grid": "full", "balanced": True,
    }
    assert a.f_table.n_boot.tolist() == [5, 3] and [len(a.boot_F[k]) for k in ("Single", "Double")] == [5, 3]
    grid = np.quantile(df.q, [0.2, 0.4, 0.6, 0.8], method="inverted_cdf")
    h = threshold(df, "y", "q", "r0", n_thresholds=3, grid=grid, n_draws=0, transform="hansen", vcov="iid",
                  time_effects=True, alpha=0.1, refine=False, bootstrap_null="fixed", df="nT", trim=0.0)
    assert h.settings == {
        "y": "y", "q": "q", "regime": ["r0"], "controls": [], "fixed_effects": ["county", "year"],
        "vcov": "iid",
        "vcov_description": "conventional: s^2 = SSR/(n(T-1)-K) on Hansen's transformed rows (pdR sehomo)",
        "cluster": None, "n_thresholds": 3, "trim": [0.0, 0.0, 0.0], "grid": "explicit", "grid_method": "hansen",
        "grid_points": 4, "n_boot": [0, 0, 0], "seed": None, "alpha": 0.1, "closed": "q < gamma", "df": "nT",
        "refine": False, "bootstrap_null": "fixed", "transform": "hansen", "ci_grid": "search", "balanced": True,
    }
    assert len(h.thresholds) == 3 and list(h.f_table.test) == ["Single", "Double", "Triple"]


# --------------------------------------------------------------------------- column dtypes and scale
def test_threshold_boolean_and_integer_columns_give_the_float_fit():
    """_estimate ``threshold`` 246 (``frame[regime].to_numpy(None)``): the input check accepts boolean
    columns, and a boolean regime regressor (a 0/1 policy dummy whose slope changes at the threshold)
    must be read as 0.0/1.0; the mutant kept a boolean array and failed on ``max - min`` ("numpy
    boolean subtract"). The same for a boolean control, a boolean outcome (linear probability) and an
    integer threshold variable: every number equals the fit on the float copies (same arithmetic,
    1e-12 for the order of summation only)."""
    df = hansen_panel(n=15, T=4, seed=9)
    df["rb"] = df.r0 > 0
    df["xb"] = df.x0 > 0.3
    df["yb"] = df.y > 0
    df["qi"] = np.round(df.q * 10).astype(int)
    kw = dict(controls=["xb"], n_draws=0, grid=12)
    for y in ("y", "yb"):
        got = threshold(df, y, "qi", "rb", **kw)
        want = threshold(df.astype({"rb": float, "xb": float, "yb": float, "qi": float}), y, "qi", "rb", **kw)
        np.testing.assert_array_equal(got.thresholds, want.thresholds)
        np.testing.assert_allclose(got.params, want.params, rtol=1e-12, atol=0)
        np.testing.assert_allclose(got.std_errors, want.std_errors, rtol=1e-12, atol=0)
        np.testing.assert_allclose(got.lr_curve.ssr, want.lr_curve.ssr, rtol=1e-12, atol=0)
        assert list(got.params.index) == ["xb", "rb_regime0", "rb_regime1"]


def test_threshold_constant_column_check_is_relative_to_the_column_scale():
    """_estimate ``threshold`` 269 (the constant-column check with numpy's default atol 1e-8 instead of
    1e-12 (1 + max|col|)). A column is time-invariant when its within-unit range is rounding noise
    relative to its size, whatever its units:
    - an outcome measured on a tiny scale (y * 1e-10, within ranges ~1e-10 > 1e-12) is a valid outcome:
      the same thresholds and LR curve, slopes and SSR scaled by 1e-10 and 1e-20 (rtol 1e-8: the
      scaled data round differently);
    - a regressor of size 1e6 that varies by 1e-7 only (below 1e-12 x 1e6 = 1e-6, above the default
      1e-8) carries no within variation and is refused by name; the same for the outcome and a
      control (the message names each column, the time and the entity columns)."""
    df = hansen_panel(n=15, T=4, seed=10)
    kw = dict(controls=["x0"], n_draws=0, grid=12)
    ref = threshold(df, "y", "q", "r0", **kw)
    tiny = threshold(df.assign(y=df.y * 1e-10), "y", "q", "r0", **kw)
    np.testing.assert_array_equal(tiny.thresholds, ref.thresholds)
    np.testing.assert_allclose(tiny.params, ref.params * 1e-10, rtol=1e-8, atol=0)
    np.testing.assert_allclose(tiny.lr_curve.lr, ref.lr_curve.lr, rtol=1e-8, atol=1e-8)
    assert tiny.stats["ssr"] == pytest.approx(ref.stats["ssr"] * 1e-20, rel=1e-8)
    noise = 1e-7 * np.random.default_rng(0).uniform(size=len(df))
    big = df.assign(flat=1e6 + noise)
    for role, kwargs in [("regime", dict(y="y", q="q", regime="flat", controls=["x0"])),
                         ("control", dict(y="y", q="q", regime="r0", controls=["flat"])),
                         ("outcome", dict(y="flat", q="q", regime="r0", controls=["x0"]))]:
        with pytest.raises(ConstantColumnError, match=(
                r"^column 'flat' does not vary over year within any county; " + re.escape(WITHIN_MSG) + "$")):
            threshold(big, n_draws=0, grid=12, **kwargs)
    # the entity and time names in the message are the user's
    renamed = big.rename(columns={"county": "cty", "year": "yr"})
    with pytest.raises(ConstantColumnError, match=(
            r"^column 'flat' does not vary over yr within any cty; " + re.escape(WITHIN_MSG) + "$")):
        threshold(renamed, "y", "q", "flat", entity="cty", time="yr", n_draws=0, grid=12)
    # a varying column of the same size is accepted (the check is not simply "large = constant")
    ok = threshold(big.assign(flat=1e6 + df.r0), "y", "q", "flat", n_draws=0, grid=12)
    assert np.isfinite(ok.params).all()


def test_threshold_default_grid_size_follows_the_transform():
    """_estimate ``threshold`` 63 (W7b, seed 20261214): the default grid is Stata ``xthreg``'s
    ``grid(300)`` for the xthreg transform and qn = 400 for Hansen's transform (as documented)."""
    df = hansen_panel(n=12, T=4, seed=8)
    assert threshold(df, "y", "q", "r0", n_draws=0).settings["grid"] == 300
    assert threshold(df, "y", "q", "r0", n_draws=0, transform="hansen").settings["grid"] == 400
