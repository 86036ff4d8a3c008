"""Issue 15, wave 6: tests for the survivors of the spatial modules' mutation samples (seed 20261209)
and for the rest of each surviving mutant's class in the same function (every option against an
independent computation, every settings key, every message).

Modules: ``analysis/spatial/{lm_tests,effects,sac_panel,spatial_did,weights,panel_models}.py``.
Expected values come from the definitions written out here (Anselin, Bera, Florax and Yoon 1996 and
Elhorst 2014 for the LM tests; LeSage and Pace 2009 for the effects; Elhorst 2014 ch. 3 for the panel
likelihoods) or from a second call of the public API on an equivalent input; tolerances beside each.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _spatial_support import demean_twoway, lattice_weights, simulate_sdm
from scipy import stats

from analysis.errors import SpecificationError
from analysis.spatial import lm_tests, sdm_tests, spatial_panel
from analysis.spatial.lm_tests import LM_REFERENCE, SDM_REFERENCE


# ================================================================ lm_tests
def _demean(a, effects):
    """Within transformation of an array shaped (T, N[, k]) for the given fixed effects; 'none' adds
    nothing (the constant is a regressor then)."""
    a = np.asarray(a, float)
    if effects == "twoways":
        return demean_twoway(a)
    if effects == "entity":   # each unit's mean over the periods
        return a - a.mean(axis=0, keepdims=True)
    if effects == "time":     # each period's mean over the units
        return a - a.mean(axis=1, keepdims=True)
    return a


def _lm_by_hand(df, w, T, effects):
    """Elhorst (2014) panel LM and robust LM tests written out with dense Kronecker products."""
    N = w.n
    Wd = w.full()
    Y = df["y"].to_numpy().reshape(T, N)
    X = df[["x1", "x2"]].to_numpy().reshape(T, N, 2)
    y, Xd = _demean(Y, effects).ravel(), _demean(X, effects).reshape(-1, 2)
    if effects == "none":
        Xd = np.column_stack([np.ones(N * T), Xd])
    b = np.linalg.lstsq(Xd, y, rcond=None)[0]
    e = y - Xd @ b
    s2 = e @ e / (N * T)
    WT = np.kron(np.eye(T), Wd)
    trW = np.trace(Wd.T @ Wd + Wd @ Wd)
    M = np.eye(N * T) - Xd @ np.linalg.inv(Xd.T @ Xd) @ Xd.T
    wxb = WT @ Xd @ b
    J = (wxb @ M @ wxb + T * trW * s2) / s2
    ewy, ewe = e @ WT @ y / s2, e @ WT @ e / s2
    return {"LM_lag": ewy ** 2 / J, "LM_error": ewe ** 2 / (T * trW),
            "robust_LM_lag": (ewy - ewe) ** 2 / (J - T * trW),
            "robust_LM_error": (ewe - (T * trW / J) * ewy) ** 2 / (T * trW * (1 - T * trW / J))}


@pytest.mark.parametrize("effects", ["entity", "time", "none"])
def test_lm_tests_each_effects_option_against_the_formula_by_hand(effects):
    """Each fixed-effects option (two-way is in test_spatial_lm.py) against the dense formula with its
    own within transformation; 1e-9 relative: the same algebra, sparse against dense products."""
    w = lattice_weights(5, 4)
    T = 5
    df = simulate_sdm(w, T=T, seed=31, effects="twoways")
    out = lm_tests(df, "y", ["x1", "x2"], w, effects=effects)
    want = _lm_by_hand(df, w, T, effects)
    for k, v in want.items():
        assert out.table.loc[k, "statistic"] == pytest.approx(v, rel=1e-9), (effects, k)
    assert out.settings["effects"] == effects
    assert out.settings["note"].startswith(f"Elhorst panel LM tests on {effects} FE OLS residuals")


def test_lm_tests_result_fields():
    """Table layout (index 'test'; columns statistic, df = 1, p_value = chi2(1) upper tail), model,
    reference, settings and row report of lm_tests: every field the user reads."""
    w = lattice_weights(4, 4)
    df = simulate_sdm(w, T=3, seed=32)
    out = lm_tests(df, "y", ["x1", "x2"], w)
    t = out.table
    assert t.index.name == "test" and list(t.index) == ["LM_lag", "LM_error", "robust_LM_lag", "robust_LM_error"]
    assert list(t.columns) == ["statistic", "df", "p_value"] and (t["df"] == 1).all()
    assert list(out.to_frame().columns) == ["test", "statistic", "df", "p_value"]
    np.testing.assert_allclose(t["p_value"], stats.chi2.sf(t["statistic"], 1), rtol=1e-12)
    note = "Elhorst panel LM tests on twoways FE OLS residuals; sigma2 = e'e/NT; N=16, T=3"
    assert out.settings == {"y": "y", "controls": ["x1", "x2"], "effects": "twoways", "note": note}
    assert t.attrs["note"] == note
    assert out.reference == LM_REFERENCE and out.reference.startswith("Anselin, Bera, Florax and Yoon (1996)")
    assert out.model == "LM tests for spatial dependence"
    assert (out.rows.n_input, out.rows.n_used) == (48, 48)


def test_lm_tests_rejects_an_unknown_effects_option_by_name():
    w = lattice_weights(3, 3)
    df = simulate_sdm(w, T=3, seed=33)
    with pytest.raises(SpecificationError, match=r"^effects='both' is not one of 'twoways', 'entity', 'time', 'none'"):
        lm_tests(df, "y", ["x1", "x2"], w, effects="both")


# ---------------------------------------------------------------- sdm_tests
@pytest.fixture()
def sdm_data():
    w = lattice_weights(5, 4)
    return simulate_sdm(w, T=5, rho=0.3, theta=(0.5, 0.0), seed=34), w


def test_sdm_tests_result_fields(sdm_data):
    """Table layout (index 'test', df = number of W x terms, p_value = chi2(df) upper tail), model,
    reference, settings and rows (those of the SDM fit)."""
    df, w = sdm_data
    sdm = spatial_panel(df, "y", ["x1", "x2"], w, model="sdm", n_draws=0)
    out = sdm_tests(sdm=sdm)
    t = out.table
    assert t.index.name == "test" and list(t.index) == ["Wald SDM vs SAR", "Wald SDM vs SEM"]
    assert list(out.to_frame().columns) == ["test", "statistic", "df", "p_value"]
    assert (t["df"] == 2).all()
    np.testing.assert_allclose(t["p_value"], stats.chi2.sf(t["statistic"], 2), rtol=1e-12)
    assert out.model == "Wald and LR tests: SDM against SAR and SEM"
    assert out.reference == SDM_REFERENCE
    assert out.settings == {"tested": "W*x1, W*x2"}
    assert out.rows is sdm.rows


def test_sdm_tests_with_some_of_the_fits_and_a_partial_durbin_list(sdm_data):
    """Only the LR rows of the fits given are reported, in the fixed order; with durbin=['x1'] one W x
    term is tested (df 1): Wald = theta^2 / var(theta), and the SEM restriction theta + rho beta = 0
    by the delta method with the gradient written out (1e-10: the same algebra)."""
    df, w = sdm_data
    kw = dict(n_draws=0, lee_yu=False)
    sdm = spatial_panel(df, "y", ["x1", "x2"], w, model="sdm", durbin=["x1"], **kw)
    sem = spatial_panel(df, "y", ["x1", "x2"], w, model="sem", **kw)
    out = sdm_tests(sdm=sdm, sem=sem).table
    assert list(out.index) == ["Wald SDM vs SAR", "Wald SDM vs SEM", "LR SDM vs SEM"] and (out["df"] == 1).all()
    th, V = sdm.params["W*x1"], sdm.cov
    assert out.loc["Wald SDM vs SAR", "statistic"] == pytest.approx(th ** 2 / V.loc["W*x1", "W*x1"], rel=1e-10)
    names = ["x1", "W*x1", "rho"]
    b, rho = sdm.params["x1"], sdm.rho
    grad = np.array([rho, 1.0, b])
    g = th + rho * b
    assert out.loc["Wald SDM vs SEM", "statistic"] == pytest.approx(
        g ** 2 / (grad @ V.loc[names, names].to_numpy() @ grad), rel=1e-10)
    assert out.loc["LR SDM vs SEM", "statistic"] == pytest.approx(2 * (sdm.loglik - sem.loglik), rel=1e-12)


def test_sdm_tests_passes_effects_correction_and_vcov_to_its_fits(sdm_data):
    """Fitting from the data: each option reaches the three fits (the same statistics as the tests
    on fits made directly with that option; exact: the same computation)."""
    df, w = sdm_data
    for opts in (dict(effects="entity", lee_yu=True), dict(effects="time", vcov="oim"),
                 dict(effects="twoways", lee_yu=True, vcov="oim")):
        kw = dict(effects=opts["effects"], lee_yu=opts.get("lee_yu", False), vcov=opts.get("vcov", "eim"),
                  n_draws=0, compute_effects=False)
        fits = {m: spatial_panel(df, "y", ["x1", "x2"], w, model=m, **kw) for m in ("sdm", "sar", "sem")}
        want = sdm_tests(**fits).table
        got = sdm_tests(df, "y", ["x1", "x2"], w, **opts).table
        pd.testing.assert_frame_equal(got, want, check_exact=True, obj=str(opts))


def test_sdm_tests_messages(sdm_data):
    df, w = sdm_data
    with pytest.raises(SpecificationError, match=r"^sdm_tests needs either fitted results or data, y, controls and w\.$"):
        sdm_tests(df, "y", ["x1", "x2"])
    sar = spatial_panel(df, "y", ["x1", "x2"], w, model="sar", n_draws=0)
    with pytest.raises(SpecificationError, match=r"^the SDM has no W x terms to test\.$"):
        sdm_tests(sdm=sar)


# ================================================================ effects
def _effects_case():
    """An SDM parameter vector with a diagonal covariance and the eigenvalues of a 4-unit W."""
    params = pd.Series({"x": 1.0, "W*x": 0.5, "z": -0.4, "rho": 0.4, "sigma2": 1.0})
    cov = pd.DataFrame(np.diag([0.01, 0.02, 0.03, 0.002, 0.05]), index=params.index, columns=params.index)
    return params, cov, np.array([1.0, 0.5, -0.5, -1.0])


def _replay_draws(params, cov, n_draws, seed):
    """The parameter draws phi + L z, z ~ N(0, I) from default_rng(seed), L = chol(V) (the definition;
    the same numpy calls in the same order, so the draws are bit-identical)."""
    V = cov.to_numpy(float)
    z = np.random.default_rng(seed).standard_normal((n_draws, len(params)))
    return params.to_numpy(float)[None, :] + z @ np.linalg.cholesky(V).T


@pytest.mark.parametrize("point", ["plugin", "simmean"])
def test_simulate_effects_point_estimate_is_the_plugin_or_the_draw_mean(point):
    """point='plugin': the effects at the estimates (LeSage and Pace 2009: direct = mean diag of
    (I - rho W)^-1 (beta I + theta W), total = (beta + theta)/(1 - rho)); point='simmean': the mean
    over the draws (Elhorst's MATLAB code), recomputed from the replayed draws with the same formulas
    by dense matrices; 1e-10: dense inverse against eigenvalue sums on O(1) numbers. A regressor without
    a W x term (theta name None) gets theta = 0. rho_name names the spatial parameter."""
    from analysis.spatial import simulate_effects

    params, cov, ev = _effects_case()
    params = params.rename({"rho": "lambda_y"})
    cov = cov.rename(index={"rho": "lambda_y"}, columns={"rho": "lambda_y"})
    W = np.diag(ev)  # a symmetric W with these eigenvalues (the effects depend on W only through them)

    def dense(beta, theta, rho):
        S = np.linalg.inv(np.eye(4) - rho * W) @ (beta * np.eye(4) + theta * W)
        return np.trace(S) / 4, (beta + theta) / (1 - rho)

    tab, info = simulate_effects(params, cov, ["x", "z"], ev, rho_name="lambda_y", theta_names=["W*x", None],
                                 n_draws=40, seed=5, point=point)
    assert info["point"] == point
    draws = _replay_draws(params, cov, 40, 5)
    for var, ib, it in (("x", 0, 1), ("z", 2, None)):
        rows = tab[tab["variable"] == var].set_index("effect")
        sims = np.array([dense(d[ib], 0.0 if it is None else d[it], d[3]) for d in draws])
        plug = dense(params.iloc[ib], 0.0 if it is None else params.iloc[it], params["lambda_y"])
        mean_direct, mean_total = sims.mean(axis=0)
        assert rows.loc["direct", "draw_mean"] == pytest.approx(mean_direct, rel=1e-10)
        assert rows.loc["total", "draw_mean"] == pytest.approx(mean_total, rel=1e-10)
        want = plug if point == "plugin" else (mean_direct, mean_total)
        assert rows.loc["direct", "estimate"] == pytest.approx(want[0], rel=1e-10), var
        assert rows.loc["total", "estimate"] == pytest.approx(want[1], rel=1e-10), var
        assert rows.loc["indirect", "estimate"] == pytest.approx(want[1] - want[0], rel=1e-10, abs=1e-12), var
        assert rows.loc["direct", "std_error"] == pytest.approx(np.std(sims[:, 0], ddof=1), rel=1e-9), var


def test_simulate_effects_rejects_an_unknown_point_by_name():
    from analysis.spatial import simulate_effects

    params, cov, ev = _effects_case()
    with pytest.raises(SpecificationError, match=r"^point='median' is not one of 'plugin', 'simmean'\.$"):
        simulate_effects(params, cov, ["x"], ev, theta_names=["W*x"], n_draws=10, point="median")


def test_simulate_effects_clip_default_bounds_and_open_interval():
    """clip=True without rho_bounds keeps the draws with rho in (-inf, 1) (row-standardised W: rho = 1
    makes I - rho W singular); the interval is open: a draw exactly at the upper bound is dropped.
    Counts from the replayed draws: exact."""
    from analysis.spatial import simulate_effects

    params, cov, ev = _effects_case()
    params["rho"] = 0.9
    cov.loc["rho", "rho"] = 0.04  # rho draws spread over about (0.5, 1.3)
    draws = _replay_draws(params, cov, 200, 8)
    rho = draws[:, 3]
    above = int((rho >= 1.0).sum())
    assert 0 < above < 200 and int((rho >= 2.0).sum()) == 0  # the default bound 1 binds, a bound of 2 would not
    _, info = simulate_effects(params, cov, ["x"], ev, theta_names=["W*x", ], n_draws=200, seed=8, clip=True)
    assert (info["n_used"], info["n_dropped_rho"]) == (200 - above, above)
    # an upper bound equal to one of the draws: that draw is outside the open interval
    hi = float(np.sort(rho)[100])
    _, info = simulate_effects(params, cov, ["x"], ev, theta_names=["W*x"], n_draws=200, seed=8, clip=True,
                               rho_bounds=(-np.inf, hi))
    assert info["n_used"] == int((rho < hi).sum()) == 100
    # and a lower bound equal to a draw likewise
    lo = float(np.sort(rho)[10])
    _, info = simulate_effects(params, cov, ["x"], ev, theta_names=["W*x"], n_draws=200, seed=8, clip=True,
                               rho_bounds=(lo, np.inf))
    assert info["n_used"] == 189
