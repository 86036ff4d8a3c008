"""LM tests (Elhorst panel versions) and Wald/LR tests of SDM against SAR and SEM."""
from __future__ import annotations

import warnings

import numpy as np
import pytest
from _spatial_support import PRODUC_X, lattice_weights, lm_tests_by_hand, produc_and_w, simulate_sdm
from scipy import stats

from analysis.spatial import as_spatial_weights, lm_tests, sdm_tests, spatial_panel


def test_lm_tests_reduce_to_spreg_cross_section():
    """T = 1 and pooled OLS with a constant: the panel LM tests are Anselin's, as in spreg.LMtests."""
    import spreg
    from libpysal.weights import full2W

    warnings.filterwarnings("ignore")
    w = lattice_weights(8, 7)
    df = simulate_sdm(w, T=1, seed=3, effects="none")
    ours = lm_tests(df, "y", ["x1", "x2"], w, effects="none")
    wp = full2W(w.full(), ids=w.ids)
    wp.transform = "r"
    ols = spreg.OLS(df[["y"]].to_numpy(), df[["x1", "x2"]].to_numpy())
    lm = spreg.LMtests(ols, wp)
    ref = {"LM_lag": lm.lml[0], "LM_error": lm.lme[0], "robust_LM_lag": lm.rlml[0], "robust_LM_error": lm.rlme[0]}
    for k, v in ref.items():
        assert ours.loc[k, "statistic"] == pytest.approx(v, rel=1e-10), k


def test_lm_tests_panel_formula_by_hand():
    w = lattice_weights(6, 5)
    T = 6
    df = simulate_sdm(w, T=T, seed=9)
    out = lm_tests(df, "y", ["x1", "x2"], w, effects="twoways")
    ref = lm_tests_by_hand(df, w, T, "twoways")
    for k in ("LM_lag", "LM_error"):
        assert out.loc[k, "statistic"] == pytest.approx(ref[k], rel=1e-10), k
    # robust versions with T > 1 (Elhorst 2014 LMsarsem_panel; Anselin et al. 1996): the T multiplies
    # tr(W'W + WW) in both denominators (issue 15: these were unchecked for T > 1)
    lml, rlml = ref["LM_lag"], ref["robust_LM_lag"]
    for k in ("robust_LM_lag", "robust_LM_error"):
        assert out.loc[k, "statistic"] == pytest.approx(ref[k], rel=1e-10), k  # same algebra: rounding
    assert abs(rlml - lml) > 1e-3 * lml  # the robust correction is not a no-op here
    assert (out["p_value"] == stats.chi2.sf(out["statistic"], 1)).all()


def test_lm_detects_a_spatial_lag():
    w = lattice_weights(10, 10)
    df = simulate_sdm(w, T=8, rho=0.5, theta=(0.0, 0.0), seed=2)
    out = lm_tests(df, "y", ["x1", "x2"], w)
    assert out.loc["LM_lag", "p_value"] < 1e-6


def test_sdm_tests_wald_and_lr():
    w = lattice_weights(8, 8)
    df = simulate_sdm(w, T=8, rho=0.4, theta=(0.6, 0.3), seed=12)
    t = sdm_tests(df, "y", ["x1", "x2"], w, effects="twoways")
    assert list(t.index) == ["Wald SDM vs SAR", "LR SDM vs SAR", "Wald SDM vs SEM", "LR SDM vs SEM"]
    assert (t["df"] == 2).all()
    assert t.loc["Wald SDM vs SAR", "p_value"] < 1e-6
    sdm = spatial_panel(df, "y", ["x1", "x2"], w, n_draws=0, lee_yu=False)
    th = sdm.params[["W*x1", "W*x2"]].to_numpy()
    V = sdm.cov.loc[["W*x1", "W*x2"], ["W*x1", "W*x2"]].to_numpy()
    assert t.loc["Wald SDM vs SAR", "statistic"] == pytest.approx(th @ np.linalg.solve(V, th), rel=1e-10)
    sar = spatial_panel(df, "y", ["x1", "x2"], w, model="sar", n_draws=0, lee_yu=False)
    assert t.loc["LR SDM vs SAR", "statistic"] == pytest.approx(2 * (sdm.loglik - sar.loglik), rel=1e-10)
    assert (t["statistic"] > 0).all()


def test_sdm_vs_sem_nonlinear_wald_jacobian():
    """Delta-method Wald of theta + rho beta = 0 equals a numerically differentiated version."""
    w = lattice_weights(7, 7)
    df = simulate_sdm(w, T=6, seed=4)
    sdm = spatial_panel(df, "y", ["x1", "x2"], w, n_draws=0, lee_yu=False)
    t = sdm_tests(sdm=sdm)
    names = ["x1", "x2", "W*x1", "W*x2", "rho"]
    phi = sdm.params[names].to_numpy()

    def g(p):
        return p[2:4] + p[4] * p[0:2]

    J = np.zeros((2, 5))
    for j in range(5):
        h = np.zeros(5)
        h[j] = 1e-6
        J[:, j] = (g(phi + h) - g(phi - h)) / 2e-6
    V = sdm.cov.loc[names, names].to_numpy()
    wald = g(phi) @ np.linalg.solve(J @ V @ J.T, g(phi))
    assert t.loc["Wald SDM vs SEM", "statistic"] == pytest.approx(wald, rel=1e-6)


def test_produc_lm_tests_run():
    d, wp = produc_and_w()
    out = lm_tests(d, "ln_gsp", PRODUC_X, as_spatial_weights(wp), effects="entity", entity="state")
    assert out.shape == (4, 3) and np.isfinite(out["statistic"]).all()
