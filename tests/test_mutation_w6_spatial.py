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
from _spatial_support import demean_twoway, lattice_weights, lm_tests_by_hand, simulate_sdm
from scipy import stats

from analysis.errors import SpecificationError, TreatmentTimingError
from analysis.spatial import lm_tests, sdm_tests, spatial_did, spatial_panel
from analysis.spatial.lm_tests import LM_REFERENCE, SDM_REFERENCE


# ================================================================ lm_tests
@pytest.mark.parametrize("effects", ["entity", "time", "none"])
def test_lm_tests_each_effects_option_against_the_formula_by_hand(effects):
    """Each fixed-effects option (two-way is in test_spatial_lm.py) against the dense formula with its
    own within transformation; 1e-9 relative: the same algebra, sparse against dense products."""
    w = lattice_weights(5, 4)
    T = 5
    df = simulate_sdm(w, T=T, seed=31, effects="twoways")
    out = lm_tests(df, "y", ["x1", "x2"], w, effects=effects)
    want = lm_tests_by_hand(df, w, T, effects)
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


# ================================================================ panel_models
def _wd_lag(W, A):
    """W applied per period to an array shaped (T, N[, k]) (dense)."""
    return np.einsum("ij,tj...->ti...", W, A)


def test_spatial_panel_every_result_field_of_an_sdm():
    """Two-way SDM with Elhorst's correction and draws: every settings key, the model name, reference,
    stats (AIC/BIC with k = 6 parameters), extra (names, periods, ids, the residuals e = y~ - rho Wy~ -
    Z~ b at the reported estimates, by dense algebra: 1e-10), rows, fixed effects, vcov type, seed."""
    w = lattice_weights(4, 4)
    T = 5
    df = simulate_sdm(w, T=T, seed=41).rename(columns={"county": "cty", "year": "yr"})
    r = spatial_panel(df, "y", ["x1", "x2"], w, n_draws=30, seed=7, entity="cty", time="yr")
    assert r.settings == {
        "model": "SDM", "fixed effects": "two-way (spatial and time-period) fixed effects", "lee_yu": True,
        "correction": "Lee-Yu (2010) two-way analytic correction as in Elhorst sar_panel_FE/sem_panel_FE (model=3, bc=1)",
        "vcov": "inverse expected information (Elhorst)",
        "W": "queen (n=16, islands attached=0, row-standardised)",
        "log-determinant": "eigenvalues of W (symmetric similar form, eigvalsh)",
        "effects draws": "30 (seed=7, point=plugin)", "durbin": ["x1", "x2"]}
    assert r.model == "Spatial panel SDM (two-way (spatial and time-period) fixed effects)"
    assert r.reference.startswith("Elhorst (2014) ch. 3; Lee and Yu (2010); LeSage and Pace (2009) effects")
    assert r.fixed_effects == ("cty", "yr") and r.vcov_type == "iid" and r.seed == 7
    assert r.statistic_name == "z" and r.spatial_param == "rho"
    assert (r.rows.n_input, r.rows.n_used) == (80, 80)
    terms = ["x1", "x2", "W*x1", "W*x2", "rho", "sigma2"]
    assert list(r.params.index) == terms and list(r.cov.index) == terms and list(r.cov.columns) == terms
    ll = r.loglik
    assert set(r.stats) == {"N", "T", "n_obs", "loglik", "aic", "bic", "rho", "sigma2"}
    assert (r.stats["N"], r.stats["T"], r.stats["n_obs"]) == (16, T, 80)
    assert r.stats["aic"] == pytest.approx(-2 * ll + 12, rel=1e-12)
    assert r.stats["bic"] == pytest.approx(-2 * ll + np.log(80) * 6, rel=1e-12)
    assert r.stats["rho"] == r.rho and r.stats["sigma2"] == r.sigma2
    ex = r.extra
    assert (ex["y"], ex["x"], ex["durbin"], list(ex["periods"]), ex["ids"]) == (
        "y", ["x1", "x2"], ["x1", "x2"], list(range(2000, 2000 + T)), w.ids)
    assert ex["draws"]["n_draws"] == 30 and ex["draws"]["seed"] == 7
    Wd = w.full()
    Y = df["y"].to_numpy().reshape(T, 16)
    X = df[["x1", "x2"]].to_numpy().reshape(T, 16, 2)
    Z = np.concatenate([X, _wd_lag(Wd, X)], axis=2)
    yd, yld, Zd = demean_twoway(Y), demean_twoway(_wd_lag(Wd, Y)), demean_twoway(Z)
    e = yd - r.rho * yld - Zd @ r.params[terms[:4]].to_numpy()
    np.testing.assert_allclose(ex["residuals"], e, atol=1e-10)
    assert ex["residuals"].shape == (T, 16)
    assert list(ex["uncorrected"].index) == terms


def test_spatial_panel_effects_wide_and_summary():
    """effects_wide: one row per regressor (in the order of the effects table) and the columns
    direct, direct_se, indirect, indirect_se, total, total_se, read from the long table; the summary
    prints it under its title; without effects an empty frame and no title."""
    w = lattice_weights(4, 4)
    df = simulate_sdm(w, T=5, seed=42)
    r = spatial_panel(df, "y", ["x2", "x1"], w, model="sar", n_draws=20, seed=1)
    wide = r.effects_wide()
    assert list(wide.index) == ["x2", "x1"]
    assert list(wide.columns) == ["direct", "direct_se", "indirect", "indirect_se", "total", "total_se"]
    long = r.effects.set_index(["variable", "effect"])
    for v in ("x1", "x2"):
        for eff in ("direct", "indirect", "total"):
            assert wide.loc[v, eff] == long.loc[(v, eff), "estimate"]
            assert wide.loc[v, f"{eff}_se"] == long.loc[(v, eff), "std_error"]
    text = r.summary()
    assert "LeSage-Pace effects (SEs from parameter draws):" in text
    assert wide.to_string(float_format=lambda v: f"{v:.6g}") in text
    bare = spatial_panel(df, "y", ["x2", "x1"], w, model="sar", n_draws=0)
    assert bare.effects is None and bare.effects_wide().empty and "LeSage-Pace" not in bare.summary()


@pytest.mark.parametrize("effects, method", [("entity", "transformation"), ("entity", "elhorst"), ("time", None)])
def test_spatial_panel_lee_yu_branches_against_their_definitions(effects, method):
    """Lee and Yu (2010) as the reference codes do it: the estimates of beta and rho are the
    uncorrected ML ones; sigma2 = SSR/(N(T-1)) with N(T-1) observations and T-1 periods in the
    likelihood (xsmle type(ind, leeyu)), or SSR/NT x T/(T-1) (Elhorst model=1), or SSR/NT x N/(N-1)
    (time effects, Elhorst model=2). The log-likelihood is the one at the reported values on that
    sample size, written out densely (1e-10)."""
    w = lattice_weights(4, 4)
    N, T = 16, 5
    df = simulate_sdm(w, T=T, seed=43)
    kw = dict(model="sar", effects=effects, n_draws=0)
    plain = spatial_panel(df, "y", ["x1", "x2"], w, lee_yu=False, **kw)
    r = spatial_panel(df, "y", ["x1", "x2"], w, lee_yu=True, lee_yu_method=method, **kw)
    np.testing.assert_allclose(r.params[["x1", "x2", "rho"]], plain.params[["x1", "x2", "rho"]], rtol=1e-12)
    ssr = plain.sigma2 * N * T
    n_obs, t_mult, s2, note = {
        ("entity", "transformation"): (N * (T - 1), T - 1, ssr / (N * (T - 1)),
                                       "Lee-Yu (2010) transformation approach: N(T-1) obs, sigma2 = SSR/(N(T-1)) (xsmle type(ind, leeyu))"),
        ("entity", "elhorst"): (N * T, T, ssr / (N * T) * T / (T - 1),
                                "Lee-Yu (2010) sigma2 x T/(T-1), information with NT and T (Elhorst sar_panel_FE model=1 bc=1)"),
        ("time", None): (N * T, T, ssr / (N * T) * N / (N - 1), "Lee-Yu (2010) sigma2 x N/(N-1) (Elhorst model=2 bc=1)"),
    }[(effects, method)]
    assert r.sigma2 == pytest.approx(s2, rel=1e-10)
    assert r.settings["correction"] == note and r.settings["lee_yu"] is True
    assert plain.settings["correction"] == "direct ML (no bias correction)" and plain.settings["lee_yu"] is False
    assert r.stats["n_obs"] == n_obs
    ld = np.linalg.slogdet(np.eye(N) - r.rho * w.full())[1]
    assert r.loglik == pytest.approx(-0.5 * n_obs * np.log(2 * np.pi * s2) - ssr / (2 * s2) + t_mult * ld, rel=1e-10)


def test_spatial_panel_two_way_transformation_reports_its_sample_and_note():
    """lee_yu_method='transformation' with two-way effects: (N-1)(T-1) observations, T-1 periods and
    the eigenvalues without the unit one in the likelihood; the log-likelihood reported is that
    likelihood at the estimates, written out here (1e-10)."""
    w = lattice_weights(4, 4)
    N, T = 16, 5
    df = simulate_sdm(w, T=T, seed=44)
    r = spatial_panel(df, "y", ["x1", "x2"], w, model="sar", lee_yu_method="transformation", n_draws=0)
    n_eff = (N - 1) * (T - 1)
    assert r.stats["n_obs"] == n_eff
    assert r.settings["correction"] == "Lee-Yu (2010) two-way transformation approach, (N-1)(T-1) obs"
    e = r.extra["residuals"].ravel()
    ssr = e @ e
    assert r.sigma2 == pytest.approx(ssr / n_eff, rel=1e-10)
    ev = np.sort(np.linalg.eigvals(w.full()).real)[:-1]  # the unit eigenvalue removed
    ll = -0.5 * n_eff * np.log(2 * np.pi * r.sigma2) - ssr / (2 * r.sigma2) + (T - 1) * np.sum(np.log(1 - r.rho * ev))
    assert r.loglik == pytest.approx(ll, rel=1e-10)


def test_spatial_panel_option_and_input_messages():
    """Each refused option or input names the argument or column, what is wrong and the fix."""
    from analysis.errors import ColumnError, MissingValueError, NonNumericError, UnbalancedPanelError
    from analysis.spatial import prepare_spatial_panel

    w = lattice_weights(3, 3)
    df = simulate_sdm(w, T=3, seed=45)
    for kw, pat in ((dict(effects="both"), r"^effects='both' is not one of 'twoways', 'entity', 'time'\.$"),
                    (dict(vcov="opg"), r"^vcov='opg' is not one of 'eim', 'oim'\.$"),
                    (dict(point="mean"), r"^point='mean' is not one of 'plugin', 'simmean'\.$"),
                    (dict(lee_yu_method="lsdv"), r"^lee_yu_method='lsdv' is not one of 'elhorst', 'transformation'\.$"),
                    (dict(durbin=["x9"]), r"^durbin variables \['x9'\] are not among the regressors \['x1', 'x2'\]\.$")):
        with pytest.raises(SpecificationError, match=pat):
            spatial_panel(df, "y", ["x1", "x2"], w, n_draws=0, **kw)
    with pytest.raises(SpecificationError, match=r"^spatial_panel needs at least one regressor in x\.$"):
        spatial_panel(df, "y", [], w, n_draws=0)
    # durbin is ignored outside the SDM (a SAR with durbin= fits the SAR)
    sar = spatial_panel(df, "y", ["x1", "x2"], w, model="sar", durbin=["x9"], n_draws=0)
    assert list(sar.params.index) == ["x1", "x2", "rho", "sigma2"] and sar.settings["durbin"] == []
    col = df.assign(c=np.repeat(np.arange(3.0), 9))  # varies only over periods: swept out by the time FE
    with pytest.raises(SpecificationError, match=(r"^the regressors \['x1', 'c', 'W\*x1', 'W\*c'\] are collinear after "
                                                  r"removing the twoways fixed effects \(rank 2 < 4\); drop variables")):
        spatial_panel(col, "y", ["x1", "c"], w, n_draws=0)
    with pytest.raises(SpecificationError, match=r"^data must be a pandas DataFrame"):
        prepare_spatial_panel(df.to_numpy(), "y", ["x1"], w)
    with pytest.raises(ColumnError, match=r"^columns \['x9'\] are not in the data; available: \['county', 'year', 'y', 'x1', 'x2'\]\.$"):
        prepare_spatial_panel(df, "y", ["x1", "x9"], w)
    with pytest.raises(SpecificationError, match=r"^regressors \['x1', 'x1'\] repeat a name or include the outcome 'y'\.$"):
        prepare_spatial_panel(df, "y", ["x1", "x1"], w)
    with pytest.raises(SpecificationError, match=r"^regressors \['x1', 'y'\] repeat a name or include the outcome 'y'\.$"):
        prepare_spatial_panel(df, "y", ["x1", "y"], w)
    txt = df.assign(x1=df["x1"].astype(object))
    txt.loc[4, "x1"] = "n/a"
    with pytest.raises(NonNumericError, match=r"^column 'x1' has non-numeric values in .*4.*; convert them to numbers\.$"):
        prepare_spatial_panel(txt, "y", ["x1"], w)
    gap = df.copy()
    gap.loc[[2, 7], "y"] = np.nan
    with pytest.raises(MissingValueError, match=(r"^missing values in \['y'\] \(.*2.*7.*\)\. Spatial panel ML needs a "
                                                 r"balanced panel with complete data.*rebuild W on the remaining units\)\.$")):
        prepare_spatial_panel(gap, "y", ["x1"], w)
    with pytest.raises(UnbalancedPanelError, match=(r"^the panel is unbalanced: 2 units lack some of the 3 periods "
                                                    r"\(.*u00.*u01.*\)\. Spatial panel ML needs every unit")):
        prepare_spatial_panel(df.drop(index=[0, 1]), "y", ["x1"], w)


def test_prepare_spatial_panel_converts_booleans_and_numeric_text():
    """A boolean regressor enters as 0/1 and numbers stored as text as numbers: the arrays equal those
    of the float columns (exact)."""
    from analysis.spatial import prepare_spatial_panel

    w = lattice_weights(3, 3)
    df = simulate_sdm(w, T=3, seed=46)
    df["b"] = df["x1"] > 0
    ref = prepare_spatial_panel(df.assign(b=df["b"].astype(float)), "y", ["x1", "b"], w)
    got = prepare_spatial_panel(df.assign(x1=df["x1"].astype(str)), "y", ["x1", "b"], w)
    np.testing.assert_array_equal(got.X, ref.X)
    assert got.X.dtype == float and got.n_input == 27 and got.x_names == ["x1", "b"] and got.y_name == "y"
    assert (got.entity, got.time, got.periods) == ("county", "year", [2000, 2001, 2002])


# ================================================================ spatial_did
def _sdid_data(seed=51):
    from test_spatial_did import _did_panel

    w = lattice_weights(5, 5)
    return w, _did_panel(w, T=6, seed=seed, starts=(2, 4, 99), probs=(0.3, 0.3, 0.4))


def test_spatial_did_passes_its_options_to_the_sdm():
    """Every option of spatial_did reaches the SDM: the result equals spatial_panel's SDM of y on D, X
    (and their lags) with the same options (exact: the same computation), with the user's column
    names, lee_yu, effect draws, seed and keyword options (vcov, point)."""
    w, df = _sdid_data()
    df = df.rename(columns={"county": "cty", "year": "yr"})
    opts = dict(lee_yu=False, n_draws=25, seed=3, vcov="oim", point="simmean")
    r = spatial_did(df, "y", "treat", w, controls=["x"], entity="cty", time="yr", **opts)
    ref = spatial_panel(df, "y", ["treat", "x"], w, model="sdm", effects="twoways", durbin=["treat", "x"],
                        entity="cty", time="yr", **opts)
    pd.testing.assert_series_equal(r.sdm.params, ref.params, check_exact=True)
    pd.testing.assert_frame_equal(r.sdm.cov, ref.cov, check_exact=True)
    pd.testing.assert_frame_equal(r.sdm.effects, ref.effects, check_exact=True)
    assert r.fixed_effects == ("cty", "yr") and r.seed == 3 and r.vcov_type == "iid"
    assert r.settings == {**ref.settings, "treatment": "treat", "treated share": float(df["treat"].mean())}
    assert r.settings["vcov"] == "inverse observed information (xsmle vce(oim))"
    assert r.settings["effects draws"] == "25 (seed=3, point=simmean)"
    assert r.model == "Spatial DID (SDM) SDM (two-way (spatial and time-period) fixed effects)"  # "Spatial panel " dropped
    assert r.stats == ref.stats and r.rows.n_used == len(df)
    eff = ref.effects[ref.effects["variable"] == "treat"].set_index("effect")
    assert r.params.tolist() == eff.loc[["direct", "indirect", "total"], "estimate"].tolist()


def test_spatial_did_plugin_effects_table_without_draws():
    """n_draws=0: the SDM's effects table holds the plug-in effects of the treatment only, with the
    long-table columns and NaN SEs (no draws)."""
    w, df = _sdid_data(seed=52)
    r = spatial_did(df, "y", "treat", w, controls=["x"], n_draws=0)
    eff = r.effects
    assert list(eff.columns) == ["variable", "effect", "estimate", "std_error", "statistic", "p_value"]
    assert eff["variable"].tolist() == ["treat"] * 3 and eff["effect"].tolist() == ["direct", "indirect", "total"]
    assert eff[["std_error", "statistic", "p_value"]].isna().all().all()
    assert r.std_errors.isna().all() and r.vcov_type == "iid"
    # the SDM fit carries the policy table too (the same object as the result's)
    assert r.sdm.extra["did"] is r.extra["did"] and set(r.sdm.extra) >= {"did", "uncorrected", "draws"}


def test_spatial_did_treatment_messages_and_coercion():
    """Messages name the column, the rows or units and the fix; a 0/1 column stored as text or bool is
    read as numbers (the same fit, exact)."""
    from analysis.errors import ColumnError

    w, df = _sdid_data(seed=53)
    ref = spatial_did(df, "y", "treat", w, n_draws=0)
    for conv in (df["treat"].astype(int).astype(str), df["treat"].astype(bool)):
        got = spatial_did(df.assign(treat=conv), "y", "treat", w, n_draws=0)
        pd.testing.assert_series_equal(got.params, ref.params, check_exact=True)
    bad = df.copy()
    bad.loc[[3, 8], "treat"] = [2.0, -1.0]
    with pytest.raises(TreatmentTimingError, match=r"^'treat' must be 0/1; other values in rows 3, 8\.$"):
        spatial_did(bad, "y", "treat", w, n_draws=0)
    with pytest.raises(TreatmentTimingError, match=r"^'treat' does not vary; nobody or everybody is treated\.$"):
        spatial_did(df.assign(treat=1), "y", "treat", w, n_draws=0)
    off = df.copy()
    for u in w.ids[:2]:
        off.loc[off["county"] == u, "treat"] = [0, 1, 0, 0, 1, 1]
    with pytest.raises(TreatmentTimingError, match=rf"^'treat' switches off within 2 units \(rows {w.ids[0]}, {w.ids[1]}\); "):
        spatial_did(off, "y", "treat", w, n_draws=0)
    with pytest.raises(ColumnError, match="treat"):
        spatial_did(df.drop(columns="treat"), "y", "treat", w, n_draws=0)


# ================================================================ SAC branch of spatial_panel
def test_sac_result_fields_and_provenance():
    """SAC: every settings key, model, reference, stats (AIC/BIC with k = 5), extra, and the provenance
    the other models carry (bug found in wave 6: the SAC result had no outcome, its fixed effects were
    guessed from the settings label instead of the user's columns, and its seed was lost)."""
    w = lattice_weights(4, 4)
    df = simulate_sdm(w, T=5, seed=61).rename(columns={"county": "cty", "year": "yr"})
    r = spatial_panel(df, "y", ["x1", "x2"], w, model="sac", effects="time", lee_yu=False, n_draws=10, seed=2,
                      entity="cty", time="yr")
    assert r.settings == {
        "model": "SAC", "fixed effects": "time-period fixed effects", "lee_yu": False,
        "correction": "direct ML (no bias correction available for SAC)",
        "vcov": "inverse numerical observed information (xsmle vce(oim))",
        "W": "queen (n=16, islands attached=0, row-standardised; also the error W)",
        "effects draws": "10 (seed=2, point=plugin)", "durbin": []}
    assert r.model == "Spatial panel SAC (time-period fixed effects)"
    assert r.reference == ("Elhorst (2014) ch. 3; xsmle model(sac) (Belotti et al. 2017); "
                           "LeSage and Pace (2009) effects")
    assert (r.outcome, r.fixed_effects, r.seed, r.vcov_type) == ("y", ("yr",), 2, "iid")
    assert r.statistic_name == "z" and r.spatial_param == "rho"
    ll = r.loglik
    assert set(r.stats) == {"N", "T", "n_obs", "loglik", "aic", "bic", "rho", "lambda", "sigma2"}
    assert (r.stats["N"], r.stats["T"], r.stats["n_obs"]) == (16, 5, 80)
    assert r.stats["bic"] == pytest.approx(-2 * ll + np.log(80) * 5, rel=1e-12)
    assert (r.stats["rho"], r.stats["lambda"], r.stats["sigma2"]) == (r.params["rho"], r.params["lambda"], r.sigma2)
    ex = r.extra
    assert (ex["y"], ex["x"], ex["durbin"], list(ex["periods"]), ex["ids"]) == (
        "y", ["x1", "x2"], [], list(range(2000, 2005)), w.ids)
    assert ex["draws"]["n_draws"] == 10 and (r.rows.n_input, r.rows.n_used) == (80, 80)
    # the effects are the SAR ones of rho (no W x terms): total = beta / (1 - rho) at the estimates
    tot = r.effects.set_index(["variable", "effect"]).loc[("x1", "total"), "estimate"]
    assert tot == pytest.approx(r.params["x1"] / (1 - r.params["rho"]), rel=1e-12)
    for fe, want in (("entity", ("cty",)), ("twoways", ("cty", "yr"))):
        got = spatial_panel(df, "y", ["x1", "x2"], w, model="sac", effects=fe, lee_yu=False, n_draws=0,
                            entity="cty", time="yr")
        assert got.fixed_effects == want and got.seed is None


def test_sac_messages():
    w = lattice_weights(3, 3)
    df = simulate_sdm(w, T=3, seed=62)
    with pytest.raises(SpecificationError, match=(r"^no Lee-Yu \(2010\) bias correction is available for the SAC panel "
                                                  r"\(neither Elhorst's code nor xsmle offers one\); pass lee_yu=False")):
        spatial_panel(df, "y", ["x1"], w, model="sac", n_draws=0)
    col = df.assign(c=np.repeat(np.arange(3.0), 9))
    with pytest.raises(SpecificationError, match=(r"^the regressors \['x1', 'c'\] are collinear after removing the "
                                                  r"twoways fixed effects\.$")):
        spatial_panel(col, "y", ["x1", "c"], w, model="sac", lee_yu=False, n_draws=0)


# ================================================================ weights: every message names the problem and the fix
def _frame4():
    return pd.DataFrame({"adcode": ["a", "b", "c", "d"], "lon": [100.0, 101.0, 102.0, 110.0], "lat": [30.0] * 4})


def test_weights_from_matrix_messages():
    from analysis.errors import WeightsMatrixError
    from analysis.spatial import weights_from_matrix

    A = np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 1.0], [0.0, 1.0, 0.0]])
    cases = (
        ((np.ones(3), ["a", "b", "c"]), r"^W must be square \(N x N\); got shape \(3,\)\.$"),
        ((A, ["a", "b"]), r"^W is 3 x 3 but 2 ids were given\.$"),
        ((A, ["a", "b", "a"]), r"^duplicated ids in W: row a\.$"),
        ((-A, ["a", "b", "c"]), r"^W has negative weights; spatial weights must be non-negative\.$"),
        ((A + np.diag([0.0, 2.0, 3.0]), ["a", "b", "c"]),
         r"^W has nonzero diagonal entries \(units rows b, c\); set w_ii = 0\.$"),
        ((np.diag([0.0, 0.0, 0.0]) + np.array([[0, 1.0, 0], [1.0, 0, 0], [0, 0, 0]]), ["a", "b", "c"]),
         r"^W has 1 islands \(units without neighbours: row c\)\. Spatial panel models need every unit to have a "
         r"neighbour: attach them \(attach_islands=True, which links each to its nearest unit and reports it\) or drop them\.$"),
    )
    for (m, ids), pat in cases:
        with pytest.raises(WeightsMatrixError, match=pat):
            weights_from_matrix(m, ids)
    lone = np.array([[0, 1.0, 0], [1.0, 0, 0], [0, 0, 0]])
    with pytest.raises(WeightsMatrixError, match=(r"^W has 1 islands \(row c\) and no coordinates to attach them; "
                                                  r"pass lon/lat or attach_islands=False\.$")):
        weights_from_matrix(lone, ["a", "b", "c"], attach_islands=True)


def test_weights_builders_messages():
    from analysis.errors import ColumnError, MissingValueError, WeightsMatrixError
    from analysis.spatial import (
        as_spatial_weights,
        distance_weights,
        economic_weights,
        knn_weights,
        weights_from_edges,
    )

    fr = _frame4()
    with pytest.raises(SpecificationError, match=r"^k=0 must be a positive integer\.$"):
        knn_weights(fr, k=0)
    with pytest.raises(SpecificationError, match=r"^k=4 must be smaller than the number of units \(4\)\.$"):
        knn_weights(fr, k=4)
    assert knn_weights(fr, k=3).params == {"k": 3}  # k = N - 1 is allowed
    with pytest.raises(SpecificationError, match=r"^cutoff_km=0 must be positive\.$"):
        distance_weights(fr, cutoff_km=0)
    with pytest.raises(ColumnError, match=r"^the county frame lacks columns \['lat'\]; it needs \['adcode', 'lon', 'lat'\]\.$"):
        knn_weights(fr.drop(columns="lat"), k=1)
    with pytest.raises(WeightsMatrixError, match=r"^duplicated ids in the county frame: row b\.$"):
        knn_weights(pd.concat([fr, fr.iloc[[1]]]), k=1)
    gap = fr.copy()
    gap.loc[2, "lon"] = np.nan
    with pytest.raises(MissingValueError, match=r"^missing lon/lat for row c; fill the centroids\.$"):
        knn_weights(gap, k=1)
    with pytest.raises(MissingValueError, match=r"^gdp is missing for 2 counties \(rows b, d\)\.$"):
        economic_weights(pd.Series({"a": 1.0, "b": np.nan, "c": 3.0}), fr)
    edges = pd.DataFrame({"adcode_a": ["a", "x"], "adcode_b": ["y", "b"]})
    with pytest.raises(WeightsMatrixError, match=r"^2 edge endpoints are not in the county frame \(rows x, y\)\.$"):
        weights_from_edges(edges, fr)
    with pytest.raises(WeightsMatrixError, match=r"^W must be a SpatialWeights, a libpysal W, or a \(matrix, ids\) pair; "
                                                 r"a bare matrix needs ids to be aligned with the panel\.$"):
        as_spatial_weights(np.eye(2))
    w = knn_weights(fr, k=2)
    with pytest.raises(WeightsMatrixError, match=r"^ids not in W: row z\.$"):
        w.subset(["a", "z"])
    with pytest.raises(SpecificationError, match=r"^islands='keep' is not one of 'raise', 'attach', 'drop'\.$"):
        w.subset(["a", "b"], islands="keep")
    with pytest.raises(WeightsMatrixError, match=r"^W is not similar to a symmetric matrix \(e\.g\. k-nearest neighbours\)\.$"):
        w.symmetric_form()
    # without attachment, a unit beyond the cutoff is refused by name (distance and economic weights)
    for build in (lambda: distance_weights(fr, cutoff_km=150, attach_islands=False),
                  lambda: economic_weights(pd.Series({"a": 1.0, "b": 2.0, "c": 3.0, "d": 4.0}), fr, cutoff_km=150,
                                           attach_islands=False)):
        with pytest.raises(WeightsMatrixError, match=r"^W has 1 islands \(units without neighbours: row d\)"):
            build()


def test_sdem_effects_are_the_coefficients_with_delta_method_ses():
    """SDEM (LeSage and Pace 2009, ch. 2): local spillovers, direct = beta_k, indirect = theta_k,
    total = beta_k + theta_k; the SEs are exact for these linear functions: sqrt(a' V a) with
    a = (1, 0), (0, 1), (1, 1) on (beta_k, theta_k) (1e-12: the same arithmetic)."""
    w = lattice_weights(4, 4)
    df = simulate_sdm(w, T=5, seed=63)
    r = spatial_panel(df, "y", ["x1", "x2"], w, model="sdem", effects="entity", lee_yu=False, n_draws=0)
    eff = r.effects
    assert eff["effect"].tolist() == ["direct", "indirect", "total"] * 2
    assert eff["variable"].tolist() == ["x1"] * 3 + ["x2"] * 3
    eff = eff.set_index(["variable", "effect"])
    for v in ("x1", "x2"):
        names = [v, f"W*{v}"]
        V = r.cov.loc[names, names].to_numpy()
        b, t = r.params[v], r.params[f"W*{v}"]
        for effect, a, est in (("direct", [1, 0], b), ("indirect", [0, 1], t), ("total", [1, 1], b + t)):
            a = np.asarray(a, float)
            assert eff.loc[(v, effect), "estimate"] == pytest.approx(est, rel=1e-12, abs=1e-15), (v, effect)
            assert eff.loc[(v, effect), "std_error"] == pytest.approx(np.sqrt(a @ V @ a), rel=1e-12), (v, effect)
    assert r.cov.loc["x1", "W*x1"] != 0  # the covariance term matters for the total's SE


@pytest.mark.parametrize("model", ["sar", "sdm", "sac"])
def test_compute_effects_false_skips_the_draws(model):
    """compute_effects=False: no effects and no draws even when n_draws > 0 (sdm_tests relies on it);
    the estimates are those of the fit with effects (exact)."""
    w = lattice_weights(4, 4)
    df = simulate_sdm(w, T=5, seed=64)
    kw = dict(model=model, lee_yu=False)
    off = spatial_panel(df, "y", ["x1", "x2"], w, n_draws=20, seed=1, compute_effects=False, **kw)
    on = spatial_panel(df, "y", ["x1", "x2"], w, n_draws=20, seed=1, **kw)
    assert off.effects is None and off.extra["draws"] == {} and off.settings["effects draws"] == "none"
    assert on.effects is not None and on.extra["draws"]["n_draws"] == 20
    pd.testing.assert_series_equal(off.params, on.params, check_exact=True)


def test_constant_column_message_with_a_single_finite_value():
    """A regressor observed in one row only (the rest missing) is constant on its finite values: the
    message names the column, its role and that value as a plain number (it printed numpy's
    ``np.float64(2.5)``)."""
    from analysis.errors import ConstantColumnError

    w = lattice_weights(3, 3)
    df = simulate_sdm(w, T=3, seed=46)
    one = df.assign(x2=np.nan)
    one.loc[5, "x2"] = 2.5
    with pytest.raises(ConstantColumnError, match=r"^column 'x2' \(a regressor\) is constant \(2\.5 in every non-missing row\); a spatial panel "
                                                  r"model cannot estimate anything from it\. Check the column, or drop it\.$"):
        spatial_panel(one, "y", ["x1", "x2"], w, n_draws=0)


def test_clip_draws_uses_the_weights_own_rho_bounds(monkeypatch):
    """spatial_panel(clip_draws=True) clips the effect draws to W's stability interval (1/omega_min, 1),
    not to the (-inf, 1) default of simulate_effects; the reported counts are those of that interval."""
    from analysis.spatial import effects as effects_module
    from analysis.spatial import panel_models

    seen = {}

    def spy(*args, **kwargs):
        seen.update(kwargs)
        return effects_module.simulate_effects(*args, **kwargs)

    monkeypatch.setattr(panel_models, "simulate_effects", spy)
    w = lattice_weights(3, 3)
    df = simulate_sdm(w, T=4, seed=47)
    res = spatial_panel(df, "y", ["x1", "x2"], w, n_draws=300, seed=3, clip_draws=True)
    lo, hi = w.rho_bounds()
    assert np.isfinite(lo) and lo < -1.0 and hi == pytest.approx(1.0, abs=1e-12)
    assert seen["clip"] is True and seen["rho_bounds"] == (lo, hi)
    info = res.extra["draws"]
    assert info["n_draws"] == 300 and info["n_used"] + info["n_dropped_rho"] == 300


def test_fit_sac_default_tolerance_is_the_tight_one():
    """fit_sac called directly (its documented use) converges as tightly by default as with tol=1e-10,
    the tolerance spatial_panel passes: same rho and lambda to 1e-8 on the documented 6 x 6 example."""
    from analysis.spatial import weights_from_matrix
    from analysis.spatial.sac_panel import fit_sac

    r, c = np.divmod(np.arange(36), 6)
    w = weights_from_matrix((np.abs(r[:, None] - r) + np.abs(c[:, None] - c) == 1).astype(float), range(36))
    M = np.linalg.inv(np.eye(36) - 0.3 * w.full())
    rng = np.random.default_rng(0)
    x = rng.normal(size=(10, 36))
    y = np.stack([M @ (x[t] + M @ rng.normal(scale=0.1, size=36)) for t in range(10)])

    def dm(a):
        return (a - a.mean(0) - a.mean(1, keepdims=True) + a.mean()).ravel()

    Wt = w.full().T
    data = (dm(y), dm(y @ Wt), dm(y @ Wt @ Wt), dm(x)[:, None], dm(x @ Wt)[:, None], w.eigenvalues(), 10)
    default = fit_sac(*data, bounds=(-0.99, 0.99))
    tight = fit_sac(*data, bounds=(-0.99, 0.99), tol=1e-10)
    assert default[1] == pytest.approx(tight[1], abs=1e-8) and default[2] == pytest.approx(tight[2], abs=1e-8)


def test_economic_weights_attach_an_island_and_distance_weights_kind():
    """economic_weights (attach_islands=True, the default) links a county beyond the cutoff to its
    nearest county and lists it in ``islands`` with the great-circle distance; distance_weights is
    labelled "inverse_distance"."""
    from analysis.spatial import distance_weights, economic_weights, great_circle_km

    counties = pd.DataFrame({"adcode": ["a", "b", "c", "d"], "lon": [100.0, 100.5, 101.0, 110.0], "lat": [30.0] * 4})
    w = economic_weights(pd.Series({"a": 1.0, "b": 2.0, "c": 4.0, "d": 8.0}), counties, cutoff_km=150.0)
    assert w.islands[["island", "attached_to"]].values.tolist() == [["d", "c"]]
    assert w.islands["distance_km"].iloc[0] == pytest.approx(great_circle_km(110.0, 30.0, 101.0, 30.0), rel=1e-9)
    assert w.full()[3].tolist() == pytest.approx([0.0, 0.0, 1.0, 0.0], abs=1e-12)
    assert distance_weights(counties.iloc[:3], cutoff_km=150.0).kind == "inverse_distance"
