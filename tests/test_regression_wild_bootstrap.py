"""Wild cluster restricted bootstrap: fast algorithm vs a brute-force refit loop and vs the
``wildboottest`` package (run on the model with the FEs as dummies), on the same weight draws."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from test_regression_fe import small_panel

from analysis.errors import SpecificationError
from analysis.regression import fe
from analysis.regression.fe import _estimate
from analysis.regression.wild_bootstrap import _WCRCore, draw_weights, wild_bootstrap


def _core(d, formula, j, h0=0.0, cluster="county"):
    _, inn = _estimate(formula, d, cluster=cluster)
    return _WCRCore(inn["X"], inn["y"], j, h0, inn["fe_codes"], inn["cluster_codes"][0], inn["info"]["factor"])


@pytest.mark.parametrize("cluster,h0", [("county", 0.0), ("province", -0.3)])
def test_fast_equals_brute_force_refit(cluster, h0):
    """Refit fe() on every bootstrap sample y* = y_r + u~ v: the t*'s must be identical."""
    d = small_panel(n=14, T=6, seed=2)
    core = _core(d, "y ~ x1 + x2", 1, h0, cluster)
    G = d[cluster].nunique()
    V = draw_weights(G, 40, "webb", np.random.default_rng(5))
    fast = core.t_boot(V)
    # restricted model in the original space: y - h0 x2 on x1 with the same FEs
    r = fe("y_r ~ x1", d.assign(y_r=d.y - h0 * d.x2), cluster=cluster)
    ut = r.resid.to_numpy()
    y_fit = d.y.to_numpy() - ut  # includes h0 * x2
    codes = pd.factorize(d[cluster], sort=True)[0]
    slow = []
    for b in range(V.shape[1]):
        f = fe("y ~ x1 + x2", d.assign(y=y_fit + ut * V[codes, b]), cluster=cluster)
        slow.append((f.params["x2"] - h0) / f.std_errors["x2"])
    np.testing.assert_allclose(fast, np.array(slow), rtol=1e-9, atol=1e-12)
    p_fast = np.mean(np.abs(fast) > abs(core.t_obs))
    p_slow = np.mean(np.abs(np.array(slow)) > abs(core.t_obs))
    assert p_fast == p_slow


def wildboottest_and_core(d, regressors, tested, n_draws):
    """wildboottest's WCR (Rademacher, WCR-11, null imposed; Roodman et al. 2019 boottest) on
    ``y ~ regressors`` with county and year dummies, clustered by county, and our ``_WCRCore`` on
    the same model. Returns (wildboottest object, core, scale): ``scale`` turns our t into theirs
    (wildboottest counts every FE dummy in k)."""
    import wildboottest.wildboottest as wbt  # test dependency (pyproject [test])

    _, inn = _estimate("y ~ " + " + ".join(regressors), d)
    cl = pd.factorize(d.county, sort=True)[0]
    X = np.column_stack([*(d[r] for r in regressors), pd.get_dummies(d.county).to_numpy(float),
                         pd.get_dummies(d.year, drop_first=True).to_numpy(float)])
    R = np.zeros(X.shape[1])
    R[tested] = 1.0
    wb = wbt.WildboottestCL(X=X, Y=d.y.to_numpy(), cluster=cl, R=R, B=n_draws, seed=3, parallel=False)
    wb.get_weights("rademacher")
    wb.get_scores(bootstrap_type="11", impose_null=True)
    wb.get_numer()
    wb.get_denom()
    wb.get_tboot()
    wb.get_vcov()
    wb.get_tstat()
    wb.get_pvalue("two-tailed")
    core = _WCRCore(inn["X"], inn["y"], tested, 0.0, inn["fe_codes"], inn["cluster_codes"][0], inn["info"]["factor"])
    return wb, core, np.sqrt(inn["info"]["factor"] / wb.ssc)


def test_matches_wildboottest_on_same_weights():
    d = small_panel(n=15, T=6, seed=4)
    wb, core, scale = wildboottest_and_core(d, ["x1", "x2"], 1, 999)
    tb = core.t_boot(wb.v)
    np.testing.assert_allclose(tb * scale, wb.t_boot, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(core.t_obs * scale, float(np.ravel(wb.t_stat)[0]), rtol=1e-10)
    assert np.mean(np.abs(tb) > abs(core.t_obs)) == wb.pvalue


def test_public_api_seed_batches_and_enumeration():
    d = small_panel(n=30, T=6, seed=8)
    a = wild_bootstrap("y ~ x1 + x2", d, "x2", n_draws=999, seed=11)
    b = wild_bootstrap("y ~ x1 + x2", d, "x2", n_draws=999, seed=11, batch_size=37)
    assert a.p_value == b.p_value  # same draws whatever the batch size (BLAS may differ in the last bit)
    np.testing.assert_allclose(a.t_boot, b.t_boot, rtol=1e-12)
    assert a.t_stat == pytest.approx(fe("y ~ x1 + x2", d).tstats["x2"], rel=1e-10)
    assert 0 <= a.p_value <= 1 and a.n_draws == 999 and not a.enumerated
    assert "WCR" in a.settings["bootstrap"] and a.settings["nested_fe"] == "county"
    # few clusters: Rademacher draws are enumerated (2^7 = 128 < 999)
    e = wild_bootstrap("y ~ x1 + x2", d, "x2", n_draws=999, seed=1, cluster="province")
    assert e.enumerated and e.n_draws == 2 ** 7
    w = wild_bootstrap("y ~ x1 + x2", d, "x2", n_draws=199, seed=1, weights_type="webb", cluster="province")
    assert not w.enumerated and w.n_draws == 199
    assert list(a.boot_frame().columns)[:3] == ["term", "estimate", "std_error"]


def test_null_true_gives_roughly_uniform_p_values():
    """Size check on a few simulated panels where H0 holds (beta_x2 = -0.4)."""
    ps = [wild_bootstrap("y ~ x1 + x2", small_panel(n=40, T=5, seed=s), "x2", h0=-0.4, n_draws=199,
                         seed=s).p_value for s in range(12)]
    assert np.mean(np.array(ps) < 0.05) <= 0.25 and np.mean(ps) > 0.25


def test_errors():
    d = small_panel(n=20, T=5)
    with pytest.raises(SpecificationError, match="x9"):
        wild_bootstrap("y ~ x1 + x2", d, "x9")
    with pytest.raises(SpecificationError):
        wild_bootstrap("y ~ x1 + x2", d, "x2", cluster=("county", "year"))
    with pytest.raises(SpecificationError):
        wild_bootstrap("y ~ x1 + x2", d, "x2", weights_type="mammen")
    with pytest.raises(SpecificationError):
        wild_bootstrap("y ~ x1 + x2", d, "x2", n_draws=10)


@pytest.mark.parametrize("fes", [("year",), None, ("province", "year")], ids=["year-only", "no-FE", "province+year"])
def test_fast_equals_brute_force_other_fixed_effects(fes):
    """FEs not nested in the county clusters (year, province) and no FEs at all."""
    d = small_panel(n=14, T=6, seed=2)
    _, inn = _estimate("y ~ x1 + x2", d, fe=fes)
    j = inn["names"].index("x2")
    core = _WCRCore(inn["X"], inn["y"], j, 0.0, inn["fe_codes"], inn["cluster_codes"][0], inn["info"]["factor"])
    V = draw_weights(14, 20, "rademacher", np.random.default_rng(1))
    r = fe("y ~ x1", d, fe=fes)
    ut = r.resid.to_numpy()
    y_fit = d.y.to_numpy() - ut
    codes = pd.factorize(d.county, sort=True)[0]
    slow = [fe("y ~ x1 + x2", d.assign(y=y_fit + ut * V[codes, b]), fe=fes).tstats["x2"] for b in range(20)]
    np.testing.assert_allclose(core.t_boot(V), slow, rtol=1e-9, atol=1e-12)


def test_webb_weights_follow_their_definition():
    """Webb (2014) / MacKinnon and Webb (2018): six points -sqrt(3/2), -1, -sqrt(1/2), sqrt(1/2), 1,
    sqrt(3/2), each with probability 1/6 (so E w = 0, E w^2 = 1, E w^4 = 7/6)."""
    pts = np.array([-np.sqrt(1.5), -1.0, -np.sqrt(0.5), np.sqrt(0.5), 1.0, np.sqrt(1.5)])
    V = draw_weights(4, 60_000, "webb", np.random.default_rng(9))
    vals, counts = np.unique(V, return_counts=True)
    np.testing.assert_allclose(vals, pts, atol=1e-15)  # exactly these six numbers
    # 240,000 draws: sd of a share is sqrt(1/6 * 5/6 / 240000) = 0.00076; 0.004 is over 5 sd
    np.testing.assert_allclose(counts / V.size, 1 / 6, atol=0.004)
    assert abs(V.mean()) < 0.01  # sd of the mean: 1 / sqrt(240000) = 0.002
    assert (V ** 2).mean() == pytest.approx(1.0, abs=0.01)
    assert (V ** 4).mean() == pytest.approx(7 / 6, abs=0.02)
    # the mapping from uniforms: u in [k/6, (k+1)/6) -> the k-th point (draw, cluster) row-major
    u = np.random.default_rng(3).random((5, 4))
    np.testing.assert_array_equal(draw_weights(4, 5, "webb", np.random.default_rng(3)),
                                  pts[np.floor(u * 6).astype(int)].T)
    R = draw_weights(4, 5, "rademacher", np.random.default_rng(3))
    np.testing.assert_array_equal(R, np.where(u < 0.5, -1.0, 1.0).T)
