"""Tests of analysis.regression.threshold (Hansen 1999 / Stata xthreg).

Validation, three ways (shared/design.md):
(a) the vectorised SSR over the grid (cumulative sums, formula sheet A.9) against an independent
    brute-force loop that re-estimates the within regression at every grid point;
(b) Monte Carlo on Hansen's (1999) design: coverage of the LR confidence interval and size of the
    bootstrap F test, with tolerances from the binomial error of the replication count;
(c) recovery of the threshold of the simulated county panel (data/synthetic/truth.json);
(d) cross-check against the third-party pyxthreg (MIT, PyPI) on its bundled data;
(e) Hansen's (1999) published Tables 2-3 on his investment panel with ``transform="hansen"``
    (tests/reference/threshold/README.md).
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.errors import (
    ColumnError,
    ConstantColumnError,
    DuplicateKeyError,
    MissingValueError,
    SpecificationError,
    UnbalancedPanelError,
)
from analysis.regression.threshold import (
    ThresholdResult,
    _Searcher,
    lr_critical_value,
    plot_lr,
    threshold,
    threshold_grid,
)

REF = Path(__file__).parent / "reference" / "threshold"


# ------------------------------------------------------------------------------------------
# data and the independent implementation
# ------------------------------------------------------------------------------------------
def hansen_panel(n=100, T=5, gamma=0.0, b_low=1.0, b_high=2.0, seed=0, kx=1, kr=1, q_decimals=None):
    """Hansen's (1999, section 5) design: y = mu_i + x'b + r'b1 1{q<=g} + r'b2 1{q>g} + e, all N(0,1)."""
    rng = np.random.default_rng(seed)
    N = n * T
    ids = np.repeat(np.arange(n), T)
    mu = rng.normal(size=n)[ids]
    q = rng.normal(size=N)
    if q_decimals is not None:
        q = np.round(q, q_decimals)  # ties
    R = rng.normal(size=(N, kr)) + 0.3 * mu[:, None]
    X = rng.normal(size=(N, kx)) + 0.3 * mu[:, None]
    slope = np.where(q <= gamma, b_low, b_high)
    y = mu + R.sum(1) * slope + 0.5 * X.sum(1) + rng.normal(size=N)
    df = pd.DataFrame({"county": [f"{110101 + i:06d}" for i in ids], "year": 2010 + np.tile(np.arange(T), n), "y": y, "q": q})
    for j in range(kr):
        df[f"r{j}"] = R[:, j]
    for j in range(kx):
        df[f"x{j}"] = X[:, j]
    return df


def brute_ssr(df, y, r_cols, x_cols, q, thresholds, closed="right"):
    """SSR of the within regression with the given thresholds, by explicit OLS (independent code)."""
    th = np.sort(np.asarray(thresholds, dtype=float))
    qv = df[q].to_numpy()
    if closed == "right":
        code = (qv[:, None] > th[None, :]).sum(1) if th.size else np.zeros(len(df), int)
    else:
        code = (qv[:, None] >= th[None, :]).sum(1) if th.size else np.zeros(len(df), int)
    cols = {c: df[c].to_numpy() for c in x_cols}
    for j in range(len(th) + 1):
        for r in r_cols:
            cols[f"{r}_{j}"] = df[r].to_numpy() * (code == j)
    X = pd.DataFrame(cols)
    g = df["county"].to_numpy()
    Xd = X - X.groupby(g).transform("mean")
    yd = df[y] - df[y].groupby(g).transform("mean")
    beta, *_ = np.linalg.lstsq(Xd.to_numpy(), yd.to_numpy(), rcond=None)
    e = yd.to_numpy() - Xd.to_numpy() @ beta
    return float(e @ e)


# ------------------------------------------------------------------------------------------
# (a) vectorised SSR == loop
# ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("closed", ["right", "left"])
def test_single_threshold_ssr_matches_loop(closed):
    df = hansen_panel(n=40, T=6, kx=2, kr=2, q_decimals=1, seed=3)  # q with many ties
    res = threshold(df, "y", "q", ["r0", "r1"], controls=["x0", "x1"], n_draws=0, grid=60, closed=closed)
    curve = res.lr_curve[res.lr_curve.stage == "Th-1"]
    loop = np.array([brute_ssr(df, "y", ["r0", "r1"], ["x0", "x1"], "q", [g], closed) for g in curve.gamma])
    diff = np.max(np.abs(curve.ssr.to_numpy() - loop))
    assert diff <= 1e-10 * max(1.0, loop.max()), diff
    # the argmin of the loop is the estimate, and the final regression's SSR is the minimum
    assert res.thresholds[0] == curve.gamma.to_numpy()[np.argmin(loop)]
    assert res.stats["ssr"] == pytest.approx(loop.min(), rel=1e-12)


def test_double_threshold_stage_curves_match_loop():
    df = hansen_panel(n=50, T=5, kx=1, kr=1, seed=11)
    res = threshold(df, "y", "q", "r0", controls=["x0"], n_thresholds=2, n_draws=0, grid=50)
    th = res.threshold_table.set_index("stage")["estimate"]
    g1 = th["Th-1"]
    c22 = res.lr_curve[res.lr_curve.stage == "Th-22"]  # second threshold given the first
    loop = np.array([brute_ssr(df, "y", ["r0"], ["x0"], "q", [g1, g]) for g in c22.gamma])
    assert np.max(np.abs(c22.ssr.to_numpy() - loop)) <= 1e-10 * loop.max()
    c21 = res.lr_curve[res.lr_curve.stage == "Th-21"]  # refinement: first given the second
    loop21 = np.array([brute_ssr(df, "y", ["r0"], ["x0"], "q", [th["Th-22"], g]) for g in c21.gamma])
    assert np.max(np.abs(c21.ssr.to_numpy() - loop21)) <= 1e-10 * loop21.max()
    # the final regression is at the refined pair
    assert res.stats["ssr"] == pytest.approx(brute_ssr(df, "y", ["r0"], ["x0"], "q", res.thresholds), rel=1e-12)


def test_batched_bootstrap_ssr_matches_loop():
    """Many pseudo-outcomes at once (the bootstrap batch) equal one-at-a-time loops."""
    df = hansen_panel(n=30, T=5, kx=1, kr=2, seed=5, q_decimals=1)
    n, T = 30, 5
    ids = np.repeat(np.arange(n), T)
    R = df[["r0", "r1"]].to_numpy()
    Xd = df[["x0"]].to_numpy() - df[["x0"]].groupby(ids).transform("mean").to_numpy()
    W0 = np.column_stack([Xd, R - pd.DataFrame(R).groupby(ids).transform("mean").to_numpy()])
    grid = threshold_grid(df.q, 0.05, 40)
    s = _Searcher(W0, R, df.q.to_numpy(), ids, T, grid)
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(n * T, 7))
    Yd = Y - pd.DataFrame(Y).groupby(ids).transform("mean").to_numpy()
    batch = s.ssr(s.residualise(Yd))
    for b in range(Y.shape[1]):
        d = df.assign(yb=Y[:, b])
        loop = np.array([brute_ssr(d, "yb", ["r0", "r1"], ["x0"], "q", [g]) for g in grid])
        ok = np.isfinite(batch[:, b])
        assert np.max(np.abs(batch[ok, b] - loop[ok])) <= 1e-10 * loop.max()


def null_fit_and_draws(df, X, n, T, B, seed):
    """Hansen (1999) bootstrap by hand: the null model fitted by within OLS (county means removed),
    its fitted values, its residuals as an (n, T) array by county, and B draws of n county indices
    (``rng.integers(0, n, (B, n))``, the order the library draws them in)."""
    g = df["county"].to_numpy()
    Xd = (X - X.groupby(g).transform("mean")).to_numpy()
    yd = (df.y - df.y.groupby(g).transform("mean")).to_numpy()
    b = np.linalg.lstsq(Xd, yd, rcond=None)[0]
    return Xd @ b, (yd - Xd @ b).reshape(n, T), np.random.default_rng(seed).integers(0, n, size=(B, n))


def test_bootstrap_f_matches_loop_with_same_draws():
    """Hansen's bootstrap: F* from the batched code equals a loop that rebuilds y* per draw.

    The loop draws the same county indices (one batch: ``rng.integers(0, n, (B, n))``), adds the
    null model's residual vector of the drawn county to each county's fitted values (regressors and
    q fixed), and re-estimates the linear and the threshold model by brute force on every grid point.
    """
    n, T, B = 20, 4, 6
    df = hansen_panel(n=n, T=T, seed=9)
    res = threshold(df, "y", "q", "r0", controls=["x0"], n_draws=B, grid=15, seed=123, batch_size=B)
    grid = res.extra["search_grid"]
    fit, e_null, draws = null_fit_and_draws(df, df[["x0", "r0"]], n, T, B, seed=123)
    F_loop = []
    for d_ in draws:
        ystar = fit + e_null[d_].ravel()
        dd = df.assign(ys=ystar)
        S0 = brute_ssr(dd, "ys", ["r0"], ["x0"], "q", [])
        S1 = min(brute_ssr(dd, "ys", ["r0"], ["x0"], "q", [gg]) for gg in grid)
        F_loop.append((S0 - S1) / (S1 / (n * (T - 1))))
    np.testing.assert_allclose(res.boot_F["Single"], F_loop, rtol=1e-9)


def test_regime_coefficients_and_iid_se_match_ols():
    """Final regression = xtreg y x i._cat#c.r, fe: coefficients and conventional SEs by hand."""
    df = hansen_panel(n=40, T=5, seed=2)
    res = threshold(df, "y", "q", "r0", controls=["x0"], n_draws=0, grid=40, vcov="iid")
    g = res.thresholds[0]
    low = (df.q <= g).to_numpy()
    X = pd.DataFrame({"x0": df.x0, "r0_regime0": df.r0 * low, "r0_regime1": df.r0 * ~low})
    Xd = (X - X.groupby(df.county).transform("mean")).to_numpy()
    yd = (df.y - df.y.groupby(df.county).transform("mean")).to_numpy()
    b = np.linalg.solve(Xd.T @ Xd, Xd.T @ yd)
    e = yd - Xd @ b
    s2 = e @ e / (len(df) - 40 - 3)  # nT - n - K (xtreg, fe)
    se = np.sqrt(np.diag(s2 * np.linalg.inv(Xd.T @ Xd)))
    np.testing.assert_allclose(res.params[["x0", "r0_regime0", "r0_regime1"]], b, rtol=1e-10)
    np.testing.assert_allclose(res.std_errors[["x0", "r0_regime0", "r0_regime1"]], se, rtol=1e-10)
    # cluster: CRV1 with xtreg's factor G/(G-1) (N-1)/(N-K-1)
    rc = threshold(df, "y", "q", "r0", controls=["x0"], n_draws=0, grid=40, vcov="cluster")
    bread = np.linalg.inv(Xd.T @ Xd)
    sc = pd.DataFrame(Xd * e[:, None]).groupby(df.county.to_numpy()).sum().to_numpy()
    N, K, G = len(df), 3, 40
    V = G / (G - 1) * (N - 1) / (N - K - 1) * bread @ sc.T @ sc @ bread
    np.testing.assert_allclose(rc.std_errors[["x0", "r0_regime0", "r0_regime1"]], np.sqrt(np.diag(V)), rtol=1e-10)


def test_lr_critical_values_match_reference():
    ref = pd.read_csv(REF / "lr_critical_values.csv")
    for a, c in zip(ref.alpha, ref.c_alpha):
        assert lr_critical_value(a) == pytest.approx(c, abs=5e-5)


def test_grids_are_observed_values():
    q = np.random.default_rng(1).normal(size=500)
    for method in ("quantile", "hansen"):
        g = threshold_grid(q, 0.05, 100, method)
        assert np.all(np.isin(g, q)) and np.all(np.diff(g) > 0)
        assert g.min() >= np.quantile(q, 0.05, method="inverted_cdf") - 1e-12
    # Hansen's grid, qn=400, trim 0.05: dd[floor(sq*m)] with sq = 0.05, ..., 0.95 (R 1-based)
    dd = np.sort(q)
    sq = 0.05 + np.arange(361) / 400
    np.testing.assert_array_equal(threshold_grid(q, 0.05, 400, "hansen"), np.unique(dd[np.floor(sq * 500).astype(int) - 1]))


# ------------------------------------------------------------------------------------------
# (b) Monte Carlo on Hansen's design
# ------------------------------------------------------------------------------------------
def test_lr_interval_coverage_near_nominal():
    """95% LR interval coverage on Hansen's design, 400 replications, n=100, T=5, slopes 1 and 2.

    Binomial standard error at 0.95 with R=400 is sqrt(.95*.05/400) = 0.0109; we accept
    |coverage - 0.95| <= 3 SE = 0.0327. (Hansen 1999 notes the interval is asymptotically
    conservative when the threshold effect is fixed; measured coverage 0.9375 at these seeds.)
    """
    R_, hits = 400, 0
    for rep in range(R_):
        df = hansen_panel(n=100, T=5, b_low=1.0, b_high=2.0, seed=10_000 + rep)
        res = threshold(df, "y", "q", "r0", controls=["x0"], n_draws=0, grid=500)
        lo, hi = res.threshold_table.loc[0, ["ci_low", "ci_high"]]
        hits += lo <= 0.0 <= hi
    cov = hits / R_
    se = math.sqrt(0.95 * 0.05 / R_)
    assert abs(cov - 0.95) <= 3 * se, cov


def test_bootstrap_f_test_size():
    """Rejection rate at 5% under no threshold, 200 replications x 99 bootstrap draws.

    Binomial SE sqrt(.05*.95/200) = 0.0154; accept rate <= 0.05 + 3 SE = 0.096 and >= 0.
    """
    R_, rej = 200, 0
    for rep in range(R_):
        df = hansen_panel(n=50, T=5, b_low=1.0, b_high=1.0, seed=20_000 + rep)
        res = threshold(df, "y", "q", "r0", controls=["x0"], n_draws=99, grid=60, seed=rep)
        rej += res.f_table.p_value.iloc[0] < 0.05
    rate = rej / R_
    assert rate <= 0.05 + 3 * math.sqrt(0.05 * 0.95 / R_), rate


def test_bootstrap_detects_threshold_and_is_reproducible():
    df = hansen_panel(n=60, T=5, b_low=1.0, b_high=2.0, seed=7)
    a = threshold(df, "y", "q", "r0", controls=["x0"], n_thresholds=2, n_draws=50, grid=60, seed=42)
    b = threshold(df, "y", "q", "r0", controls=["x0"], n_thresholds=2, n_draws=50, grid=60, seed=42)
    assert a.f_table.p_value.iloc[0] == 0.0
    pd.testing.assert_frame_equal(a.f_table, b.f_table)
    # F = (S0 - S1) / (S1 / n(T-1))
    S0, S1 = a.stats["ssr_linear"], a.f_table.rss.iloc[0]
    assert a.f_table.F.iloc[0] == pytest.approx((S0 - S1) / (S1 / (60 * 4)), rel=1e-12)
    fixed = threshold(df, "y", "q", "r0", controls=["x0"], n_thresholds=2, n_draws=50, grid=60, seed=42, bootstrap_null="fixed")
    assert fixed.f_table.F.iloc[1] == pytest.approx(a.f_table.F.iloc[1])


def test_triple_threshold_runs_and_orders():
    df = hansen_panel(n=60, T=6, seed=8)
    res = threshold(df, "y", "q", "r0", controls=["x0"], n_thresholds=3, n_draws=20, grid=50, seed=1)
    assert list(res.threshold_table.stage) == ["Th-1", "Th-21", "Th-22", "Th-3"]
    assert len(res.thresholds) == 3 and np.all(np.diff(res.thresholds) > 0)
    assert list(res.f_table.test) == ["Single", "Double", "Triple"]
    assert res.regimes.n_obs.sum() == len(df)
    assert res.stats["ssr"] == pytest.approx(brute_ssr(df, "y", ["r0"], ["x0"], "q", res.thresholds), rel=1e-12)


# ------------------------------------------------------------------------------------------
# (c) the simulated county panel
# ------------------------------------------------------------------------------------------
def test_recovers_simulated_panel_threshold():
    from analysis import datasets

    panel = datasets.load_county_panel()
    truth = datasets.load_truth()["threshold"]
    d = panel.assign(log_rural_income=np.log(panel["rural_income"]), log_gdp_pc=np.log(panel["gdp_pc"]))
    # the simulated model (truth["note"]): county and year effects, land_transfer_rate, land reform
    res = threshold(d, "log_rural_income", "log_gdp_pc", "loans_gdp", controls=["land_transfer_rate", "land_reform"],
                    n_draws=50, grid=300, seed=1, time_effects=True)
    # gamma: the LR set is the hull of grid points; with sigma_e small it shrinks to one grid point,
    # so the truth must lie within the set widened by one grid step (the grid's resolution)
    g = np.sort(res.lr_curve.loc[res.lr_curve.stage == "Th-1", "gamma"].to_numpy())
    lo, hi = res.threshold_table.loc[0, ["ci_low", "ci_high"]]
    lo_w = g[max(np.searchsorted(g, lo) - 1, 0)]
    hi_w = g[min(np.searchsorted(g, hi) + 1, len(g) - 1)]
    assert lo_w <= truth["gamma"] <= hi_w, (res.threshold_table, truth["gamma"])
    assert res.f_table.p_value.iloc[0] < 0.05  # the threshold is detected
    for j, key in enumerate(["beta_low", "beta_high"]):
        b, se = res.params[f"loans_gdp_regime{j}"], res.std_errors[f"loans_gdp_regime{j}"]
        assert abs(b - truth[key]) <= 4 * se, (key, b, se, truth[key])


# ------------------------------------------------------------------------------------------
# (d) cross-check against pyxthreg (third-party port of xthreg)
# ------------------------------------------------------------------------------------------
def test_matches_pyxthreg_reference_on_its_grid():
    import pyxthreg as pyx  # a test dependency (pyproject [test], requirements.lock)
    from pyxthreg.search import get_grid

    d = pyx.load_dataset("panel_small.dta")
    d["id"] = d["id"].astype(str)
    ref = pd.read_csv(REF / "pyxthreg_panel_small.csv").set_index("quantity")["value"]
    grid = get_grid(d["q"].to_numpy(float), 0.05, 300)  # pyxthreg's grid; ours differs by design
    res = threshold(d, "y", "q", "rx1", controls=["x1"], entity="id", time="year", grid=grid, n_draws=0, vcov="iid")
    assert res.thresholds[0] == pytest.approx(ref["threshold"], abs=1e-12)
    assert res.stats["ssr"] == pytest.approx(ref["ssr"], rel=1e-10)
    assert res.stats["ssr_linear"] == pytest.approx(ref["ssr_linear"], rel=1e-10)
    for ours, theirs in [("x1", "x1"), ("rx1_regime0", "rx1_regime0"), ("rx1_regime1", "rx1_regime1")]:
        assert res.params[ours] == pytest.approx(ref[f"beta_{theirs}"], rel=1e-8)
        assert res.std_errors[ours] == pytest.approx(ref[f"se_{theirs}"], rel=1e-8)


# ------------------------------------------------------------------------------------------
# input errors, result object, plot
# ------------------------------------------------------------------------------------------
def test_unbalanced_panel_bootstrap_names_counties():
    """The bootstrap swaps whole residual vectors between counties: refused, naming them and why."""
    df = hansen_panel(n=10, T=4).drop(index=[5, 9])
    with pytest.raises(UnbalancedPanelError, match="110102") as exc:
        threshold(df, "y", "q", "r0", n_draws=5)
    assert "110103" in str(exc.value) and "residual vector" in str(exc.value)
    with pytest.raises(UnbalancedPanelError, match="single period"):
        threshold(hansen_panel(n=10, T=4).drop(index=[4, 5, 6]), "y", "q", "r0", n_draws=0)


@pytest.mark.parametrize("transform", ["xthreg", "hansen"])
def test_unbalanced_panel_ssr_matches_loop(transform):
    """Unbalanced panels (n_draws=0): the search equals explicit OLS on each unit's own within transform."""
    df = hansen_panel(n=40, T=6, seed=13)
    df = df.drop(index=df.index[[0, 7, 8, 20, 33, 34, 35, 100]]).reset_index(drop=True)
    res = threshold(df, "y", "q", "r0", controls=["x0"], n_draws=0, grid=25, transform=transform,
                    ci_grid="search", vcov="iid")
    curve = res.lr_curve[res.lr_curve.stage == "Th-1"]
    if transform == "xthreg":
        loop = np.array([brute_ssr(df, "y", ["r0"], ["x0"], "q", [g]) for g in curve.gamma])
    else:
        loop = np.array([brute_ssr_hansen(df, "y", ["r0"], ["x0"], "q", [g]) for g in curve.gamma])
    np.testing.assert_allclose(curve.ssr.to_numpy(), loop, rtol=1e-10)
    assert res.rows.n_used == (len(df) if transform == "xthreg" else len(df) - 40)


# ------------------------------------------------------------------------------------------
# Hansen's (1999) transform and his published tables
# ------------------------------------------------------------------------------------------
def brute_ssr_hansen(df, y, r_cols, x_cols, q, thresholds):
    """Hansen's GAUSS transform by explicit OLS: demean by unit, drop each unit's last row, q < g."""
    th = np.sort(np.asarray(thresholds, dtype=float))
    qv = df[q].to_numpy()
    code = (qv[:, None] >= th[None, :]).sum(1) if th.size else np.zeros(len(df), int)
    cols = {c: df[c].to_numpy() for c in x_cols}
    for j in range(len(th) + 1):
        for r in r_cols:
            cols[f"{r}_{j}"] = df[r].to_numpy() * (code == j)
    X = pd.DataFrame(cols)
    g = df["county"].to_numpy()
    Xd = X - X.groupby(g).transform("mean")
    yd = df[y] - df[y].groupby(g).transform("mean")
    keep = df["year"].to_numpy() < df.groupby("county")["year"].transform("max").to_numpy()
    b = np.linalg.lstsq(Xd[keep].to_numpy(), yd[keep].to_numpy(), rcond=None)[0]
    e = yd[keep].to_numpy() - Xd[keep].to_numpy() @ b
    return float(e @ e)


def load_hansen_invest():
    """Hansen's (1999) investment panel: 565 firms, 1973-1987; regressors lagged one year (14 years)."""
    a = np.loadtxt(REF / "hansen1999" / "invest.dat")
    df = pd.DataFrame(a, columns=["i", "q", "c", "d"])
    df["firm"] = np.repeat(np.arange(565), 15)
    df["year"] = np.tile(np.arange(1973, 1988), 565)
    lag = df.groupby("firm")[["q", "c", "d"]].shift(1)
    df[["q1", "c1", "d1"]] = lag.to_numpy()
    df = df.dropna().reset_index(drop=True)
    df["q2"], df["q3"], df["qd1"] = df.q1**2, df.q1**3, df.q1 * df.d1
    return df


def test_hansen_transform_search_matches_loop():
    """transform="hansen" (vectorised, with the dropped-row corrections) equals explicit OLS, 2 stages."""
    df = hansen_panel(n=30, T=5, seed=21, q_decimals=1)
    res = threshold(df, "y", "q", "r0", controls=["x0"], n_thresholds=2, n_draws=0, grid=40,
                    transform="hansen", vcov="iid")
    for stage, fixed in [("Th-1", []), ("Th-22", [res.threshold_table.estimate.iloc[0]])]:
        curve = res.lr_curve[res.lr_curve.stage == stage]
        loop = np.array([brute_ssr_hansen(df, "y", ["r0"], ["x0"], "q", [*fixed, g]) for g in curve.gamma])
        np.testing.assert_allclose(curve.ssr.to_numpy(), loop, rtol=1e-10)


def test_reproduces_hansen_1999_published_tables():
    """Hansen (1999) Tables 2-3 on his data, at the printed precision (tests/reference/threshold).

    Model (his eq. 21): i_t on q_{t-1}, q^2, q^3, d_{t-1}, q_{t-1} d_{t-1}, with the cash-flow slope
    c_{t-1} switching at thresholds of debt d_{t-1}; trim 0.01, 400 quantiles (his settings).
    The xthreg convention gives different numbers on the same data (F1 32.82, gamma2 0.5407,
    F2 23.42), which is why ``transform="hansen"`` exists.
    """
    ref = pd.read_csv(REF / "hansen1999_tables.csv").set_index("quantity")
    df = load_hansen_invest()
    kw = dict(controls=["q1", "q2", "q3", "d1", "qd1"], entity="firm", time="year", n_draws=0, vcov="iid")
    res = threshold(df, "i", "d1", "c1", n_thresholds=2, transform="hansen", **kw)
    got = {
        "gamma1_single": res.threshold_table.estimate.iloc[0],
        "F1": res.f_table.F.iloc[0],
        "gamma2_double": res.threshold_table.set_index("stage").loc["Th-22", "estimate"],
        "F2": res.f_table.F.iloc[1],
    }
    for key, row in ref.iterrows():
        # printed precision: agreement to half a unit of the last printed decimal
        assert abs(got[key] - row["value"]) <= 0.5 * 10.0 ** (-int(row["decimals"])) + 1e-12, (key, got[key], row)
    assert res.rows.n_used == 565 * 13 and res.stats["N"] == 565 * 13
    xt = threshold(df, "i", "d1", "c1", n_thresholds=2, trim=0.01, grid=400, grid_method="hansen", **kw)
    assert abs(xt.f_table.F.iloc[0] - ref.loc["F1", "value"]) > 0.1  # the default differs, as documented


def test_confidence_interval_is_not_a_single_grid_point():
    """A coarse search grid used to collapse the LR set to the estimate; the full set does not.

    With a sharp threshold the LR curve rises within one coarse grid step, so the old set held only
    the estimate. On every observed q the set must contain more than one point, contain the
    estimate, and equal the hull from an explicit loop over the observed values.
    """
    df = hansen_panel(n=60, T=5, seed=1, b_low=1.0, b_high=2.2)
    res = threshold(df, "y", "q", "r0", controls=["x0"], n_draws=0, grid=12, vcov="iid")
    coarse = threshold(df, "y", "q", "r0", controls=["x0"], n_draws=0, grid=12, vcov="iid", ci_grid="search")
    lo, hi = res.threshold_table.loc[0, ["ci_low", "ci_high"]]
    g = res.thresholds[0]
    assert lo <= g <= hi and hi > lo
    assert coarse.threshold_table.ci_low.iloc[0] == coarse.threshold_table.ci_high.iloc[0]  # the old defect
    S_hat = brute_ssr(df, "y", ["r0"], ["x0"], "q", [g])
    qs = np.unique(df.q)
    qs = qs[(qs >= res.extra["search_grid"].min()) & (qs <= res.extra["search_grid"].max())]
    lr = np.array([(brute_ssr(df, "y", ["r0"], ["x0"], "q", [v]) - S_hat) / (S_hat / (60 * 4)) for v in qs])
    inside = qs[lr < lr_critical_value(0.05)]
    assert (lo, hi) == (inside.min(), inside.max())


def test_missing_values_name_rows():
    df = hansen_panel(n=10, T=4)
    df.loc[[3, 17], "r0"] = np.nan
    with pytest.raises(MissingValueError, match=r"'r0' in rows 3, 17"):
        threshold(df, "y", "q", "r0", n_draws=0)


def test_other_input_errors():
    df = hansen_panel(n=10, T=4)
    with pytest.raises(ColumnError):
        threshold(df, "y", "q", "nope", n_draws=0)
    with pytest.raises(DuplicateKeyError):
        threshold(pd.concat([df, df.iloc[:1]]), "y", "q", "r0", n_draws=0)
    with pytest.raises(ConstantColumnError):
        threshold(df.assign(c=df.county.str[-1].astype(float)), "y", "q", "r0", controls=["c"], n_draws=0)
    with pytest.raises(SpecificationError):
        threshold(df, "y", "q", "r0", n_thresholds=4)
    with pytest.raises(ValueError):  # every error is a ValueError
        threshold(df, "y", "q", "r0", trim=0.6)


def test_result_object_and_plot():
    df = hansen_panel(n=40, T=5, seed=4)
    res = threshold(df, "y", "q", "r0", controls=["x0"], n_thresholds=2, n_draws=10, grid=40, seed=0)
    assert isinstance(res, ThresholdResult)
    tidy = res.to_frame()
    assert list(tidy.term) == ["x0", "r0_regime0", "r0_regime1", "r0_regime2"]
    assert res.rows.n_used == len(df) and res.stats["N"] == len(df)
    assert res.settings["fixed_effects"] == ["county"]
    assert {"stage", "gamma", "ssr", "lr"} <= set(res.lr_curve.columns)
    # LR is measured from the search-grid estimate; the finer CI set may hold a lower SSR
    est = res.lr_curve[(res.lr_curve.stage == "Th-1") & (res.lr_curve.gamma == res.threshold_table.estimate[0])]
    assert abs(float(est.lr.iloc[0])) < 1e-9
    from analysis.tables import regression_table

    tab = regression_table(res, lang="zh").to_frame()
    assert tab.loc["县域固定效应"].tolist() == ["是"] and tab.loc["观测值"].tolist() == [str(len(df))]
    for lang in ("zh", "en"):
        fig = plot_lr(res, lang=lang)
        assert len(fig.axes) == 3
        texts = " ".join(ax.get_title() for ax in fig.axes)
        assert ("似然比" in texts) == (lang == "zh")


def test_df_convention_rescales_f_but_not_p_values():
    """A.4: the denominator n(T-1) vs nT rescales F and F* alike, so p-values are identical."""
    df = hansen_panel(n=30, T=5, b_low=1.0, b_high=1.3, seed=12)
    a = threshold(df, "y", "q", "r0", controls=["x0"], n_draws=40, grid=30, seed=5, df="hansen")
    b = threshold(df, "y", "q", "r0", controls=["x0"], n_draws=40, grid=30, seed=5, df="nT")
    assert b.f_table.F.iloc[0] == pytest.approx(a.f_table.F.iloc[0] * 5 / 4, rel=1e-12)
    assert b.f_table.p_value.iloc[0] == a.f_table.p_value.iloc[0]


def test_threshold_variable_may_be_the_regime_regressor():
    """xthreg allows rx(x) qx(x): the regressor is its own threshold variable."""
    df = hansen_panel(n=30, T=5, seed=13)
    res = threshold(df, "y", "r0", "r0", controls=["x0"], n_draws=0, grid=30)
    assert list(res.params.index) == ["x0", "r0_regime0", "r0_regime1"]
    assert res.regimes.n_obs.sum() == len(df)


def test_double_row_identical_in_double_and_triple_fits():
    """The Double test (F2) does not change when a third threshold is also estimated."""
    df = hansen_panel(n=40, T=6, seed=21)
    two = threshold(df, "y", "q", "r0", controls=["x0"], n_thresholds=2, n_draws=0, grid=40)
    three = threshold(df, "y", "q", "r0", controls=["x0"], n_thresholds=3, n_draws=0, grid=40)
    pd.testing.assert_frame_equal(two.f_table.iloc[:2], three.f_table.iloc[:2])
    S_pair = brute_ssr(df, "y", ["r0"], ["x0"], "q", two.thresholds)
    S3 = three.f_table.rss.iloc[2]
    assert three.f_table.F.iloc[2] == pytest.approx((S_pair - S3) / (S3 / (40 * 5)), rel=1e-10)
