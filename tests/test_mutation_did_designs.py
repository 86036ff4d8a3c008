"""Issue 15 (mutation coverage): tests that kill the surviving mutants of the DiD design modules
(psm, ddd, synthetic_did, _synth_core, synthetic_control, spatial_did).

Each expected value comes from the definition of the statistic, computed here independently of the
module (dense matrix inverses, explicit loops, statsmodels), with the tolerance written next to it.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _spatial_support import lattice_weights
from test_mutation_did_core import _compare_panel

from analysis.did import _synth_core as core
from analysis.did import triple_difference
from analysis.did.psm import balance_table
from analysis.did.synthetic_control import synthetic_control
from analysis.did.synthetic_did import synthetic_did
from analysis.errors import ConstantColumnError, MissingValueError, SpecificationError, TreatmentTimingError
from analysis.spatial import spatial_did


# --------------------------------------------------------------------------------------------
# spatial DiD
# --------------------------------------------------------------------------------------------
def _sdid_panel(w, T=8, rho=0.3, delta=1.0, phi=0.6, seed=0):
    from test_spatial_did import _did_panel

    return _did_panel(w, T=T, rho=rho, delta=delta, phi=phi, seed=seed, starts=(3, 5, 99), probs=(0.3, 0.3, 0.4))


@pytest.fixture  # function scope: each test calls spatial_did itself, so mutmut maps every test to it
def sdid_fit():
    w = lattice_weights(6, 6)
    df = _sdid_panel(w, seed=11)
    return w, df, spatial_did(df, "y", "treat", w, controls=["x"], n_draws=0)


def test_spatial_did_plugin_effects_by_dense_inverse(sdid_fit):
    """n_draws=0: the policy effects are the LeSage-Pace plug-in effects of (delta, phi, rho):
    direct = mean diag of (I - rho W)^-1 (delta I + phi W), total = mean row sum, indirect = total -
    direct; computed from a dense inverse (1e-10: the module uses W's eigenvalues, same quantity)."""
    w, df, r = sdid_fit
    sdm = r.sdm
    delta, phi, rho = sdm.params["treat"], sdm.params["W*treat"], sdm.params["rho"]
    N = w.n
    Wd = w.full()
    S = np.linalg.inv(np.eye(N) - rho * Wd) @ (delta * np.eye(N) + phi * Wd)
    direct, total = np.trace(S) / N, S.sum() / N
    assert r.params["did"] == pytest.approx(direct, abs=1e-10)
    assert r.params["did_total"] == pytest.approx(total, abs=1e-10)
    assert r.params["did_spillover"] == pytest.approx(total - direct, abs=1e-10)
    assert list(r.params.index) == ["did", "did_spillover", "did_total"]
    assert r.std_errors.isna().all()  # no draws, no SEs
    assert r.rho == rho and r.effects is sdm.effects
    eff = r.effects.set_index("effect")
    assert eff.loc["direct", "estimate"] == pytest.approx(direct, abs=1e-10)
    assert eff["std_error"].isna().all() and eff["p_value"].isna().all() and eff["statistic"].isna().all()


def test_spatial_did_policy_table_rows_are_the_sdm_coefficients(sdid_fit):
    w, df, r = sdid_fit
    sdm = r.sdm
    tab = r.extra["did"].set_index("term")
    assert list(tab.index) == ["direct", "spillover", "total", "delta (D)", "phi (W*D)"]
    for row, term in (("delta (D)", "treat"), ("phi (W*D)", "W*treat")):
        assert tab.loc[row, "estimate"] == sdm.params[term]
        assert tab.loc[row, "std_error"] == sdm.std_errors[term]
        assert tab.loc[row, "statistic"] == pytest.approx(sdm.params[term] / sdm.std_errors[term], rel=1e-12)
        assert np.isfinite(tab.loc[row, "p_value"]) and 0 < tab.loc[row, "p_value"] < 1
    # the controls enter with their spatial lag by default (lag_controls=True)
    assert "W*x" in sdm.params.index
    assert r.settings["treatment"] == "treat"
    assert r.settings["treated share"] == pytest.approx(df["treat"].mean(), abs=1e-15)
    assert r.model.startswith("Spatial DID (SDM) ")
    import importlib

    sdid_module = importlib.import_module("analysis.spatial.spatial_did")
    assert r.reference == r.sdm.reference + "; " + sdid_module._REFERENCE and "Delgado and Florax" in r.reference
    assert r.statistic_name == "z" and r.alpha == r.sdm.alpha
    assert r.rows.n_used == len(df)
    assert r.outcome == "y" and r.sdm.outcome == "y"


def test_spatial_did_with_draws_uses_the_effects_table(sdid_fit):
    """With draws the policy rows are the SDM effects rows of the treatment (SEs from the draws)."""
    w, df, _ = sdid_fit
    r = spatial_did(df, "y", "treat", w, controls=["x"], n_draws=50, seed=4)
    eff = r.sdm.effects
    eff = eff[eff["variable"] == "treat"].set_index("effect")
    for term, key in (("did", "direct"), ("did_spillover", "indirect"), ("did_total", "total")):
        assert r.params[term] == eff.loc[key, "estimate"]
        assert r.std_errors[term] == eff.loc[key, "std_error"]
        assert np.isfinite(r.std_errors[term]) and r.std_errors[term] > 0
    tab = r.extra["did"].set_index("term")
    for row, key in (("direct", "direct"), ("spillover", "indirect"), ("total", "total")):
        assert tab.loc[row, "p_value"] == eff.loc[key, "p_value"] and np.isfinite(tab.loc[row, "p_value"])
        assert tab.loc[row, "statistic"] == eff.loc[key, "statistic"]
    assert r.seed == 4


def test_spatial_did_lag_controls_and_absorbing_switches(sdid_fit):
    w, df, _ = sdid_fit
    r = spatial_did(df, "y", "treat", w, controls=["x"], n_draws=0, lag_controls=False)
    assert "W*x" not in r.sdm.params.index and "W*treat" in r.sdm.params.index
    off = df.copy()
    first = off["county"] == w.ids[0]
    off.loc[first, "treat"] = [0, 1, 1, 0, 1, 1, 1, 1]
    with pytest.raises(TreatmentTimingError, match="switches off within 1 units"):
        spatial_did(off, "y", "treat", w, n_draws=0)
    r_off = spatial_did(off, "y", "treat", w, n_draws=0, check_absorbing=False)  # allowed when asked
    assert np.isfinite(r_off.params["did"])


def test_spatial_did_rejects_non_binary_treatment_values():
    w = lattice_weights(4, 4)
    df = _sdid_panel(w, seed=2)
    with pytest.raises(TreatmentTimingError, match="0/1"):
        spatial_did(df.assign(treat=df["treat"] * 0.5), "y", "treat", w, n_draws=0)


# --------------------------------------------------------------------------------------------
# triple difference
# --------------------------------------------------------------------------------------------
def _ddd_panel(seed=0, n=50, T=6):
    rng = np.random.default_rng(seed)
    cty = np.repeat(np.arange(n), T)
    yr = np.tile(np.arange(2010, 2010 + T), n)
    pilot = (np.arange(n) < 20)[cty]
    H = (np.arange(n) % 2 == 0)[cty].astype(float)
    D = (pilot & (yr >= 2013)).astype(float)
    x = rng.normal(size=n * T)
    y = rng.normal(size=n)[cty] + 0.4 * x + 1.0 * D + 2.0 * D * H + rng.normal(size=n * T)
    return pd.DataFrame(dict(county=cty, year=yr, y=y, d=D, h=H, x=x))


def test_ddd_with_controls_equals_dummy_ols_and_reports_settings():
    """Controls enter the regression: explicit dummy OLS with x (numpy lstsq; 1e-9 = rounding)."""
    df = _ddd_panel()
    r = triple_difference(df, "y", "d", "h", controls=["x"])
    X = np.column_stack([
        df["d"] * df["h"], df["d"], df["x"],
        pd.get_dummies(df["county"]).to_numpy(float),
        pd.get_dummies(df["h"].astype(int).astype(str) + "_" + df["year"].astype(str)).to_numpy(float)[:, 1:],
    ])
    beta = np.linalg.lstsq(X, df["y"].to_numpy(), rcond=None)[0]
    assert r.params["DDD"] == pytest.approx(beta[0], abs=1e-9)
    assert r.params["DiD_low"] == pytest.approx(beta[1], abs=1e-9)
    assert r.params["x"] == pytest.approx(beta[2], abs=1e-9)
    assert r.model == "Triple difference (pilot x group x post)"
    assert "Olden and Møen (2022)" in r.reference
    assert r.settings["group"] == "h" and r.settings["fixed_effects"] == "county + h x year"


def test_ddd_alpha_sets_interval_width():
    df = _ddd_panel(seed=1)
    r = triple_difference(df, "y", "d", "h", alpha=0.10)
    ci = r.conf_int().loc["DDD"]
    half = (ci["ci_high"] - ci["ci_low"]) / 2
    from scipy import stats
    G = df["county"].nunique()
    assert half == pytest.approx(stats.t.ppf(0.95, G - 1) * r.std_errors["DDD"], rel=1e-10)


def test_ddd_group_constant_among_non_pilots():
    df = _ddd_panel()
    pilot = df["d"].groupby(df["county"]).transform("max") == 1
    const = df.assign(h=np.where(~pilot, 0.0, df["h"]))
    with pytest.raises(ConstantColumnError, match="among non-pilot county"):
        triple_difference(const, "y", "d", "h")


# --------------------------------------------------------------------------------------------
# synthetic control
# --------------------------------------------------------------------------------------------
def _sc_panel(n_units=12, T=10, t_adopt=7, tau=-3.0, seed=0):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(2, T)).cumsum(axis=1)
    load = rng.normal(size=(n_units, 2))
    Y0 = rng.normal(0, 2, n_units)[:, None] + load @ f + rng.normal(0, 0.3, (n_units, T))
    rows = []
    for i in range(n_units):
        for j in range(T):
            d = float(i == 0 and j >= t_adopt)
            rows.append((f"c{i:02d}", 2000 + j, Y0[i, j] + tau * d, d))
    return pd.DataFrame(rows, columns=["county", "year", "y", "d"])


def test_synthetic_control_paths_and_placebo_study_by_refits():
    """The ADH in-space placebo study recomputed through the public API: each donor in turn is the
    treated unit of a synthetic_did(method='sc') fit on the donors only; its gap path, pre/post RMSPE
    and ratio must equal the row of ``placebo_study`` (1e-10: the same Frank-Wolfe solve); the
    treated unit's row comes from its own weights, and p = #{ratio >= treated ratio} / (donors + 1)."""
    df = _sc_panel()
    r = synthetic_control(df, "y", "d", se="none")
    panel = r.extra["panel"]
    Y = panel.Y
    controls = list(panel.controls)
    omega = r.extra["omega"]
    synth = omega.to_numpy() @ Y.loc[controls].to_numpy()
    treated = Y.loc["c00"].to_numpy()
    assert np.allclose(r.extra["synthetic"].to_numpy(), synth, atol=1e-12, rtol=0)
    assert np.allclose(r.extra["treated_mean"].to_numpy(), treated, atol=1e-12, rtol=0)
    assert np.allclose(r.extra["gaps"].to_numpy(), treated - synth, atol=1e-12, rtol=0)
    years = list(range(2000, 2010))
    for key, name in (("synthetic", "synthetic"), ("treated_mean", "treated"), ("gaps", "gap")):
        assert list(r.extra[key].index) == years and r.extra[key].name == name
    t0 = 7
    study = r.extra["placebo_study"]
    assert list(study["unit"]) == controls + ["treated"]
    ratios = []
    for j, donor in enumerate(controls):
        sub = df[df["county"] != "c00"].copy()
        sub["d"] = ((sub["county"] == donor) & (sub["year"] >= 2000 + t0)).astype(float)
        rj = synthetic_did(sub, "y", "d", method="sc", se="none")
        om = rj.extra["omega"]
        gap = Y.loc[donor].to_numpy() - om.to_numpy() @ Y.loc[om.index].to_numpy()
        pre, post = np.sqrt(np.mean(gap[:t0] ** 2)), np.sqrt(np.mean(gap[t0:] ** 2))
        assert study["pre_rmspe"].iloc[j] == pytest.approx(pre, abs=1e-10)
        assert study["post_rmspe"].iloc[j] == pytest.approx(post, abs=1e-10)
        assert np.allclose(study["gaps"].iloc[j], gap, atol=1e-10, rtol=0)
        ratios.append(post / pre)
    gap_t = treated - synth
    pre_t, post_t = np.sqrt(np.mean(gap_t[:t0] ** 2)), np.sqrt(np.mean(gap_t[t0:] ** 2))
    ratios.append(post_t / pre_t)
    assert np.allclose(study["ratio"].to_numpy(), ratios, atol=1e-9, rtol=1e-9)
    assert r.stats["pre_rmspe"] == pytest.approx(pre_t, abs=1e-12)
    assert r.stats["rmspe_ratio"] == pytest.approx(post_t / pre_t, rel=1e-12)
    rank = sum(x >= post_t / pre_t for x in ratios)
    assert r.stats["permutation_p"] == pytest.approx(rank / len(ratios), abs=1e-15)
    assert r.model == "Synthetic control (Abadie, Diamond and Hainmueller 2010)"
    assert "in-space placebo" in r.reference


def test_synthetic_control_without_permutation_and_ties_in_the_rank():
    df = _sc_panel(seed=1)
    r = synthetic_control(df, "y", "d", se="none", permutation=False)
    assert "placebo_study" not in r.extra and "permutation_p" not in r.stats
    # rmspe_placebo directly: a donor identical to the treated average ties with it (ratio 0/0 -> NaN
    # for an exact zero pre-RMSPE); ties count in the rank ('>=')
    Y = np.array([[0.0, 1.0, 2.0, 3.0], [1.0, 1.0, 1.0, 5.0], [2.0, 0.0, 1.0, 1.0], [0.5, 0.5, 1.5, 4.0]])
    from analysis.did.synthetic_control import rmspe_placebo
    om = np.array([0.5, 0.5, 0.0])
    out = rmspe_placebo(Y, 3, 3, om)
    gap = Y[3] - om @ Y[:3]
    assert out["pre_rmspe"].iloc[-1] == pytest.approx(np.sqrt(np.mean(gap[:3] ** 2)), abs=1e-15)
    assert out["post_rmspe"].iloc[-1] == pytest.approx(abs(gap[3]), abs=1e-15)
    assert list(out["unit"]) == [0, 1, 2, "treated"]


# --------------------------------------------------------------------------------------------
# PSM-DID
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def psm_fit():
    from _did_synth import staggered_panel

    from analysis.did import psm_did

    d = staggered_panel(n_units=80, seed=5)
    return d, psm_did(d, "y", "treat", ["x1", "x2"], method="kernel", seed=1)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_psm_density_plot_shows_weighted_kdes(psm_fit, lang):
    """The density plot draws, per panel, the treated and control score densities: unweighted before
    matching, weighted by psmatch2 _weight after (scipy gaussian_kde on the stored scores; 1e-12)."""
    import matplotlib.pyplot as plt
    from scipy import stats

    _, res = psm_fit
    fig = res.plot_density(lang)
    axes = fig.axes
    assert len(axes) == 2 and tuple(fig.get_size_inches()) == (9.0, 3.6)
    s = res.scores
    grid = np.linspace(0, s["pscore"].max() * 1.05, 300)
    en = lang == "en"
    assert axes[0].get_title() == ("Before matching" if en else "匹配前")
    assert axes[1].get_title() == ("After matching" if en else "匹配后")
    assert axes[0].get_ylabel() == ("Density" if en else "密度") and axes[1].get_ylabel() == ""
    assert axes[1].get_xlabel() == ("Propensity score" if en else "倾向得分")
    assert [t.get_text() for t in axes[0].get_legend().get_texts()] == (
        ["Treated", "Control"] if en else ["处理组", "控制组"])
    for ax, matched in zip(axes, [False, True]):
        lines = ax.get_lines()
        assert len(lines) == 2
        for line, gval, color in zip(lines, [1, 0], ["C3", "C0"]):
            sel = s["group"] == gval
            w = None
            if matched:
                sel &= s["weight"].fillna(0) > 0
                w = s.loc[sel, "weight"].to_numpy()
            expect = stats.gaussian_kde(s.loc[sel, "pscore"].to_numpy(), weights=w)(grid)
            assert np.allclose(line.get_xdata(), grid, atol=1e-12, rtol=0)
            assert np.allclose(line.get_ydata(), expect, atol=1e-12, rtol=1e-12)
            assert line.get_color() == color and line.get_linewidth() == 1.5
    # the two panels differ (matching reweights the controls)
    assert not np.allclose(axes[0].get_lines()[1].get_ydata(), axes[1].get_lines()[1].get_ydata())
    fig2 = res.plot(lang)
    assert [ax.get_title() for ax in fig2.axes] == [ax.get_title() for ax in axes]
    plt.close("all")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_psm_balance_plot_points(psm_fit, lang):
    import matplotlib.pyplot as plt

    _, res = psm_fit
    b = res.balance
    fig = res.plot_balance(lang)
    ax = fig.axes[0]
    assert tuple(fig.get_size_inches()) == pytest.approx((6.0, 0.45 * len(b) + 1.6), abs=1e-12)
    pts = [c.get_offsets() for c in ax.collections]
    assert len(pts) == 2
    assert np.allclose(pts[0][:, 0], b["bias_U"]) and np.allclose(pts[0][:, 1], np.arange(len(b)))
    assert np.allclose(pts[1][:, 0], b["bias_M"]) and np.allclose(pts[1][:, 1], np.arange(len(b)))
    en = lang == "en"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == (
        ["Unmatched", "Matched"] if en else ["匹配前", "匹配后"])
    assert [t.get_text() for t in ax.get_yticklabels()] == list(b["covariate"])
    assert ax.get_xlabel() == ("Standardized bias (%)" if en else "标准化偏差（%）")
    assert list(ax.get_yticks()) == list(range(len(b)))
    plt.close("all")


# --------------------------------------------------------------------------------------------
# synthetic DiD matrix core
# --------------------------------------------------------------------------------------------
def _fw_reference(Y, zeta, intercept, start, steps):
    """R's sc.weight.fw written literally: demean, then ``steps`` calls of fw.step (A'(Ax - b) from
    scratch each time), objective zeta^2 |w|^2 + |Aw - b|^2 / rows."""
    rows, cols = Y.shape
    k = cols - 1
    if intercept:
        Y = Y - Y.mean(axis=0)
    A, b = Y[:, :k], Y[:, k]
    w = np.full(k, 1.0 / k) if start is None else np.asarray(start, float).copy()
    for _ in range(steps):
        w = core.fw_step(A, w, b, rows * zeta**2)
    return w, zeta**2 * w @ w + np.sum((A @ w - b) ** 2) / rows


@pytest.mark.parametrize("intercept", [True, False])
@pytest.mark.parametrize("steps", [1, 2, 3, 7, 25])
def test_fw_weights_iterates_equal_literal_frank_wolfe(intercept, steps):
    """The O(k) updates of fw_weights give the same iterates as the literal R step (1e-10); with
    min_decrease=0 it runs exactly max_iter steps."""
    rng = np.random.default_rng(steps)
    Y = rng.normal(size=(9, 6)).cumsum(axis=0)
    start = None if steps % 2 else rng.dirichlet(np.ones(5))
    w, val = core.fw_weights(Y, 0.3, intercept, start, min_decrease=0.0, max_iter=steps)
    w_ref, val_ref = _fw_reference(Y, 0.3, intercept, start, steps)
    assert np.allclose(w, w_ref, atol=1e-10, rtol=0)
    assert val == pytest.approx(val_ref, abs=1e-10)
    assert w.sum() == pytest.approx(1.0, abs=1e-12) and (w >= 0).all()


def test_fw_weights_stops_when_the_objective_stalls():
    """With a large min_decrease the solver stops after 2 steps (it always takes 2): the same weights
    as exactly 2 literal steps."""
    rng = np.random.default_rng(3)
    Y = rng.normal(size=(8, 5))
    w, _ = core.fw_weights(Y, 0.1, True, None, min_decrease=1e3, max_iter=50)
    assert np.allclose(w, _fw_reference(Y, 0.1, True, None, 2)[0], atol=1e-12, rtol=0)
    # start at a vertex that is optimal: w stays there
    Y2 = np.column_stack([np.arange(6.0), np.arange(6.0) ** 2, np.arange(6.0)])
    w2, v2 = core.fw_weights(Y2, 0.0, False, np.array([1.0, 0.0]), min_decrease=0.0, max_iter=5)
    assert np.array_equal(w2, [1.0, 0.0]) and v2 == pytest.approx(0.0, abs=1e-12)
    x = np.array([1.0, 0.0])
    assert np.array_equal(core.fw_step(Y2[:, :2], x, Y2[:, 2], 0.0), x)


def test_small_helpers_by_definition():
    v = np.array([0.5, 0.1, 0.125, 0.3])
    assert np.allclose(core.sparsify(v), np.array([0.5, 0.0, 0.0, 0.3]) / 0.8, atol=1e-15)
    assert v[2] == 0.125  # sparsify copies its input
    assert np.array_equal(core.sum_normalize(np.zeros(4)), np.full(4, 0.25))
    assert np.allclose(core.sum_normalize(np.array([1.0, 3.0])), [0.25, 0.75])
    Y = np.arange(20.0).reshape(4, 5) ** 1.5
    cf = core.collapsed_form(Y, 3, 2)
    expect = np.array([[Y[i, 0], Y[i, 1], Y[i, 2:].mean()] for i in range(3)]
                      + [[Y[3, 0], Y[3, 1], Y[3, 2:].mean()]])
    assert np.allclose(cf, expect, atol=1e-12)
    Y2 = np.arange(30.0).reshape(5, 6) ** 1.3
    cf2 = core.collapsed_form(Y2, 3, 4)
    assert np.allclose(cf2[3], list(Y2[3:, :4].mean(0)) + [Y2[3:, 4:].mean()], atol=1e-12)
    assert np.isnan(core.noise_level(Y2, 3, 1))
    d = np.diff(Y2[:3, :4], axis=1).ravel()
    assert core.noise_level(Y2, 3, 4) == pytest.approx(np.std(d, ddof=1), rel=1e-14)
    draws = np.array([1.0, 2.0, 4.0, 7.0])
    assert core.replication_se(draws) == pytest.approx(np.sqrt(3 / 4) * np.std(draws, ddof=1), rel=1e-14)


def test_estimator_options_are_the_r_defaults():
    rng = np.random.default_rng(0)
    Y = rng.normal(size=(10, 8)).cumsum(axis=1)
    n0, t0 = 7, 5
    noise = np.std(np.diff(Y[:n0, :t0], axis=1).ravel(), ddof=1)
    s = core.sdid_options(Y, n0, t0)
    assert s.zeta_omega == pytest.approx((3 * 3) ** 0.25 * noise, rel=1e-14)
    assert s.zeta_lambda == pytest.approx(1e-6 * noise, rel=1e-14)
    assert s.min_decrease == pytest.approx(1e-5 * noise, rel=1e-14)
    assert (s.omega_intercept, s.lambda_intercept, s.update_omega, s.update_lambda, s.sparsify) == (True,) * 5
    assert (s.max_iter, s.max_iter_pre_sparsify) == (10_000, 100)
    c = core.sc_options(Y, n0, t0)
    assert c.zeta_omega == pytest.approx(1e-6 * noise, rel=1e-14) and c.zeta_lambda == pytest.approx(1e-6 * noise)
    assert c.min_decrease == pytest.approx(1e-5 * noise, rel=1e-14)
    assert (c.omega_intercept, c.update_lambda, c.update_omega, c.lambda_intercept) == (False, False, True, True)
    d = core.did_options(Y, n0, t0)
    assert d.zeta_omega == pytest.approx(noise, rel=1e-14) and d.zeta_lambda == pytest.approx(1e-6 * noise)
    assert d.min_decrease == pytest.approx(1e-5 * noise, rel=1e-14)
    assert (d.update_omega, d.update_lambda) == (False, False)


def test_fit_block_did_and_sc_closed_forms():
    """did_estimate is the plain 2x2 DiD of means; sc_estimate has zero time weights, so tau is the
    treated post mean minus the omega-weighted control post mean (1e-12)."""
    rng = np.random.default_rng(1)
    Y = rng.normal(size=(9, 7)).cumsum(axis=1)
    n0, t0 = 6, 4
    f = core.fit_block(Y, n0, t0, core.did_options(Y, n0, t0))
    did = (Y[n0:, t0:].mean() - Y[n0:, :t0].mean()) - (Y[:n0, t0:].mean() - Y[:n0, :t0].mean())
    assert f.tau == pytest.approx(did, abs=1e-12)
    assert np.allclose(f.omega, 1 / n0) and np.allclose(f.lambda_, 1 / t0)
    assert np.isnan(f.objective_omega) and np.isnan(f.objective_lambda)
    s = core.fit_block(Y, n0, t0, core.sc_options(Y, n0, t0))
    assert np.array_equal(s.lambda_, np.zeros(t0))
    assert s.tau == pytest.approx(Y[n0:, t0:].mean() - s.omega @ Y[:n0, t0:].mean(1), abs=1e-12)
    assert np.isfinite(s.objective_omega) and np.isnan(s.objective_lambda)
    sd = core.fit_block(Y, n0, t0, core.sdid_options(Y, n0, t0))
    assert np.isfinite(sd.objective_omega) and np.isfinite(sd.objective_lambda)
    assert (sd.n0, sd.t0) == (n0, t0)
    # the sparsified restart: no weight at or below max/4 of the first pass survives unless re-grown
    assert sd.omega.sum() == pytest.approx(1.0, abs=1e-12) and sd.lambda_.sum() == pytest.approx(1.0, abs=1e-12)


def test_fit_block_without_sparsify_equals_one_solve():
    rng = np.random.default_rng(2)
    Y = rng.normal(size=(9, 7)).cumsum(axis=1)
    n0, t0 = 6, 4
    opt = core.sdid_options(Y, n0, t0)
    from dataclasses import replace
    ns = replace(opt, sparsify=False)
    f = core.fit_block(Y, n0, t0, ns)
    Yc = core.collapsed_form(Y, n0, t0)
    lam, _ = core.fw_weights(Yc[:n0, :], ns.zeta_lambda, True, None, ns.min_decrease, 100)
    om, _ = core.fw_weights(Yc[:, :t0].T, ns.zeta_omega, True, None, ns.min_decrease, 100)
    assert np.allclose(f.lambda_, lam, atol=1e-14) and np.allclose(f.omega, om, atol=1e-14)
    sp = core.fit_block(Y, n0, t0, opt)
    lam2, _ = core.fw_weights(Yc[:n0, :], opt.zeta_lambda, True, core.sparsify(lam), opt.min_decrease, 10_000)
    assert np.allclose(sp.lambda_, lam2, atol=1e-14)


def test_placebo_and_bootstrap_draws_by_explicit_loops():
    """Algorithms 4 and 2 written out: permute the controls and treat the last N1 as treated; resample
    units with replacement (sorted), redraw samples without a control or without a treated unit.
    Same random stream, so the draws agree to 1e-12."""
    rng = np.random.default_rng(6)
    Y = rng.normal(size=(7, 6)).cumsum(axis=1)
    n0, t0 = 5, 4
    fit = core.fit_block(Y, n0, t0, core.sdid_options(Y, n0, t0))
    got = core.placebo_draws(fit, Y, 6, np.random.default_rng(10))
    r2 = np.random.default_rng(10)
    exp = []
    for _ in range(6):
        ind = r2.permutation(n0)
        om = core.sum_normalize(fit.omega[ind[:3]])
        exp.append(core.fit_block(Y[ind], 3, t0, fit.options, om, fit.lambda_).tau)
    assert np.allclose(got, exp, atol=1e-12, rtol=0)
    # bootstrap: 4 units, 1 treated: about a third of the resamples hold no treated unit
    Yb = Y[[0, 1, 2, 6]]
    fb = core.fit_block(Yb, 3, t0, core.sdid_options(Yb, 3, t0))
    got = core.bootstrap_draws(fb, Yb, 12, np.random.default_rng(2))
    r3 = np.random.default_rng(2)
    exp, skipped = [], 0
    while len(exp) < 12:
        ind = np.sort(r3.integers(0, 4, 4))
        k0 = int((ind < 3).sum())
        if k0 in (0, 4):
            skipped += 1
            continue
        om = core.sum_normalize(fb.omega[ind[ind < 3]])
        exp.append(core.fit_block(Yb[ind], k0, t0, fb.options, om, fb.lambda_).tau)
    assert skipped > 0 and len(got) == 12
    assert np.allclose(got, exp, atol=1e-12, rtol=0)


def test_jackknife_undefined_cases_and_the_all_weight_control():
    rng = np.random.default_rng(7)
    Y = rng.normal(size=(6, 5)).cumsum(axis=1)
    fit1 = core.fit_block(Y, 5, 3, core.sdid_options(Y, 5, 3))
    se, why = core.jackknife_se(fit1, Y)
    assert np.isnan(se) and "single treated unit" in why
    opt = core.did_options(Y, 4, 3)
    one = core.SynthFit(0.0, np.array([0.0, 1.0, 0.0, 0.0]), np.full(3, 1 / 3), opt, 4, 3)
    se, why = core.jackknife_se(one, Y)
    assert np.isnan(se) and "single control unit carries all the weight" in why
    # leave-one-out with that control dropped falls back to uniform weights on the rest (R sum_normalize)
    assert np.allclose(core.leave_one_out(one, Y), core.jackknife_refit(one, Y), atol=1e-12, rtol=0)
    two = core.SynthFit(0.0, np.array([0.0, 0.7, 0.3, 0.0]), np.full(3, 1 / 3), opt, 4, 3)
    u = core.jackknife_refit(two, Y)
    se, why = core.jackknife_se(two, Y)
    n = 6
    assert why == "" and se == pytest.approx(np.sqrt((n - 1) / n * (n - 1) * np.var(u, ddof=1)), rel=1e-10)
    # with one treated unit the treated rows of leave-one-out are NaN (nothing left to average)
    assert np.isnan(core.leave_one_out(fit1, Y)[5])


def test_psm_errors_name_the_argument():
    from _did_synth import staggered_panel

    from analysis.did import psm_did
    from analysis.did.psm import match_on_score
    from analysis.errors import SpecificationError

    d = staggered_panel(n_units=40, seed=3)
    with pytest.raises(SpecificationError, match=r"^method='mahalanobis' is not one of 'nearest', 'radius', 'kernel'"):
        psm_did(d, "y", "treat", ["x1"], method="mahalanobis")
    with pytest.raises(SpecificationError, match=r"^method='x' is not one of"):
        match_on_score(np.array([0.1]), np.array([0.2]), method="x")
    with pytest.raises(SpecificationError, match=r"^matching without replacement is only defined for 1:1 nearest"):
        match_on_score(np.array([0.1]), np.array([0.2]), method="kernel", replacement=False)


def test_balance_reduction_undefined_when_unmatched_bias_is_zero():
    """Equal unmatched means give bias_U = 0 exactly: the % reduction is undefined (NaN), not -inf."""
    X = pd.DataFrame({"a": [1.0, 2.0, 3.0, 0.0, 2.0, 4.0]})
    g = np.array([1, 1, 1, 0, 0, 0])
    tab = balance_table(X, g, np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.0]))
    assert tab.loc[0, "bias_U"] == 0.0 and np.isnan(tab.loc[0, "bias_reduction"])


def test_psm_result_fields(psm_fit):
    """Fields a user reads off the result, each against its definition on the stored scores."""
    d, res = psm_fit
    s = res.scores
    assert list(res.balance["covariate"]) == ["x1", "x2"]
    assert res.cluster == ("county",) and res.vcov_type == "cluster" and res.fixed_effects == ("county", "year")
    assert res.n_clusters == res.stats["clusters"] == d.loc[d["county"].isin(s.loc[s["matched"], "county"]), "county"].nunique()
    assert res.stats["treated matched"] == int(((s["group"] == 1) & s["matched"]).sum())
    assert res.stats["treated off support"] == int(((s["group"] == 1) & ~s["on_support"]).sum())
    assert res.stats["controls matched"] == int(((s["group"] == 0) & s["matched"]).sum())
    assert res.stats["N"] == res.rows.n_used
    first = int(d["adoption"].min())
    st = res.settings
    assert st["matching"] == f"pooled, covariates averaged over years < {first}"
    assert st["kernel"] == "Epanechnikov, bandwidth 0.06" and st["replacement"] == "n/a"
    assert st["DiD weights"] == "psmatch2 _weight" and st["common support"] is True
    assert st["se"] == "CRV1 clustered by county, reghdfe small-sample factor" and st["seed"] == 1
    assert res.seed == 1 and res.outcome == "y" and list(res.logit.index) == ["pooled"]
    assert list(res.logit.columns) == ["const", "x1", "x2"]
    # common support: a treated unit is off support iff its score is outside the controls' range
    lo, hi = s.loc[s["group"] == 0, "pscore"].agg(["min", "max"])
    off = (s["group"] == 1) & ((s["pscore"] < lo) | (s["pscore"] > hi))
    assert (~s["on_support"]).equals(off)
    # pooled matching covariates: the unit means over the years before the first adoption
    pre = d[d["year"] < first].groupby("county")[["x1", "x2"]].mean()
    xb = pre.loc[s["county"]]
    g = s["group"].to_numpy().astype(bool)
    assert res.balance.loc[0, "mean_treated_U"] == pytest.approx(xb["x1"].to_numpy()[g].mean(), rel=1e-12)
    assert res.balance.loc[1, "mean_control_U"] == pytest.approx(xb["x2"].to_numpy()[~g].mean(), rel=1e-12)


# --------------------------------------------------------------------------------------------
# synthetic DiD: public API
# --------------------------------------------------------------------------------------------
def _syn_panel(n_units=14, n_treat=3, T=8, t_adopt=5, tau=2.0, seed=0, cohorts=None):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(2, T)).cumsum(axis=1)
    Y0 = rng.normal(0, 2, n_units)[:, None] + rng.normal(size=(n_units, 2)) @ f + rng.normal(0, 0.3, (n_units, T))
    adopt = np.full(n_units, np.nan)
    adopt[:n_treat] = t_adopt if cohorts is None else np.resize(cohorts, n_treat)
    rows = []
    for i in range(n_units):
        for j in range(T):
            d = float(not np.isnan(adopt[i]) and j >= adopt[i])
            rows.append((f"c{i:02d}", 2000 + j, Y0[i, j] + tau * d, d))
    return pd.DataFrame(rows, columns=["county", "year", "y", "d"])


def test_synthetic_did_bootstrap_and_placebo_draws_by_explicit_loops():
    """se='bootstrap' / 'placebo' through the public API: the stored draws are Algorithm 2 / 4 run by
    hand on the panel matrix with the same seed (1e-12), and the SE is sqrt((B-1)/B) sd(draws)."""
    df = _syn_panel(seed=1)
    b = synthetic_did(df, "y", "d", se="bootstrap", n_draws=5, seed=3)
    Y = b.extra["panel"].Y.to_numpy(float)
    fit = core.fit_block(Y, 11, 5, core.sdid_options(Y, 11, 5))
    assert b["did"] == pytest.approx(fit.tau, abs=1e-12)
    exp = core.bootstrap_draws(fit, Y, 5, np.random.default_rng(3))
    assert np.allclose(b.extra["draws"], exp, atol=1e-12, rtol=0)
    assert b.std_errors["did"] == pytest.approx(np.sqrt(4 / 5) * np.std(exp, ddof=1), rel=1e-12)
    assert b.vcov_type == "bootstrap" and b.settings["replications"] == 5 and b.settings["se"] == "bootstrap"
    p = synthetic_did(df, "y", "d", se="placebo", n_draws=4, seed=8)
    exp = core.placebo_draws(fit, Y, 4, np.random.default_rng(8))
    assert np.allclose(p.extra["draws"], exp, atol=1e-12, rtol=0)
    assert p.vcov_type == "randomization" and p.settings["replications"] == 4
    j = synthetic_did(df, "y", "d", se="jackknife")
    assert j.vcov_type == "other" and j.settings["replications"] is None and len(j.extra["draws"]) == 0
    assert "se_note" not in j.settings


def test_synthetic_did_result_fields():
    df = _syn_panel(seed=2)
    r = synthetic_did(df, "y", "d", se="none", seed=5)
    Y = r.extra["panel"].Y.to_numpy(float)
    opt = core.sdid_options(Y, 11, 5)
    fit = core.fit_block(Y, 11, 5, opt)
    om = r.extra["omega"]
    assert isinstance(om, pd.Series) and om.name == "omega" and np.allclose(om.to_numpy(), fit.omega, atol=1e-14)
    lam = r.extra["lambda"]
    assert lam.name == "lambda" and list(lam.index) == list(range(2000, 2005))
    assert np.allclose(lam.to_numpy(), fit.lambda_, atol=1e-14)
    st = r.stats
    assert (st["N"], st["N_units"], st["N_treated"], st["N_control"], st["T"], st["cohorts"]) == (112, 14, 3, 11, 8, 1)
    assert st["effective_N0"] == pytest.approx(1 / np.sum(fit.omega ** 2), rel=1e-12)
    assert r.settings["zeta_omega"] == pytest.approx(opt.zeta_omega, rel=1e-14)
    assert r.settings["design"] == "block" and r.settings["method"] == "sdid" and r.settings["seed"] == 5
    assert r.settings["se_note"] == "no standard error requested (se='none')" and np.isnan(r.std_errors["did"])
    assert r.seed == 5 and r.fixed_effects == ("county", "year") and r.statistic_name == "z"
    assert r.model.startswith("Synthetic difference-in-differences") and r.rows.n_used == r.rows.n_input == 112
    assert r["ATT"] == r["did"]  # the deprecated alias still reads the estimate
    tab = r.extra["cohorts"]
    assert tab.loc[0, ["n_treated", "t_pre", "t_post", "cells"]].tolist() == [3, 5, 3, 9]
    sc = synthetic_did(df, "y", "d", method="sc", se="none")
    assert sc.fixed_effects == () and sc.model.startswith("Synthetic control")
    dd = synthetic_did(df, "y", "d", method="did", se="none")
    assert dd.model.startswith("Difference-in-differences") and dd.stats["effective_N0"] == pytest.approx(11.0, rel=1e-12)


def test_synthetic_did_staggered_weights_and_placebo():
    """Staggered: the estimate is the N_a T_post(a)-weighted mean of the cohort block estimates
    (Clarke et al. 2024 eq. 3), each on the never-treated plus that cohort; the placebo draws assign
    the treated units' adoption years to the last N1 of permuted never-treated units."""
    df = _syn_panel(n_units=16, n_treat=4, cohorts=[4, 6], seed=3, tau=1.0)
    r = synthetic_did(df, "y", "d", se="placebo", n_draws=3, seed=2)
    panel = r.extra["panel"]
    taus, w = [], []
    for a, t0 in ((2004, 4), (2006, 6)):
        units = list(panel.controls) + list(panel.adoption.index[panel.adoption == a])
        Y = panel.Y.loc[units].to_numpy(float)
        taus.append(core.fit_block(Y, 12, t0, core.sdid_options(Y, 12, t0)).tau)
        w.append(2 * (8 - t0))
    w = np.array(w, float) / sum(w)
    assert r["did"] == pytest.approx(float(w @ taus), abs=1e-12)
    tab = r.extra["cohorts"]
    assert np.allclose(tab["weight"], w, atol=1e-15) and np.allclose(tab["estimate"], taus, atol=1e-12)
    assert r.settings["design"] == "staggered (cohort by cohort)" and r.stats["cohorts"] == 2
    assert isinstance(r.extra["omega"], pd.DataFrame) and list(r.extra["omega"].columns) == [2004, 2006]
    # placebo by hand
    rng = np.random.default_rng(2)
    ctrl = list(panel.controls)
    g = panel.adoption.dropna().to_numpy()
    draws = []
    for _ in range(3):
        perm = rng.permutation(len(ctrl))
        pseudo = dict(zip([ctrl[i] for i in perm[-4:]], g))
        num = den = 0.0
        for a in sorted(set(g)):
            tr = sorted([u for u, v in pseudo.items() if v == a], key=lambda u: list(pseudo).index(u))
            cc = [u for u in ctrl if u not in pseudo]
            Y = panel.Y.loc[cc + tr].to_numpy(float)
            t0 = int((panel.Y.columns < a).sum())
            tau = core.fit_block(Y, len(cc), t0, core.sdid_options(Y, len(cc), t0)).tau
            num += len(tr) * (8 - t0) * tau
            den += len(tr) * (8 - t0)
        draws.append(num / den)
    assert np.allclose(r.extra["draws"], draws, atol=1e-10, rtol=0)
    with pytest.raises(SpecificationError, match=r"^se='bootstrap' is implemented for a block design only .*"
                       r"with staggered adoption use se='placebo' or se='jackknife'\.$"):
        synthetic_did(df, "y", "d", se="bootstrap")
    with pytest.raises(SpecificationError, match="more never-treated units"):
        synthetic_did(_syn_panel(n_units=7, n_treat=4, cohorts=[4, 6], seed=3), "y", "d", se="placebo", n_draws=2)


def test_synthetic_did_staggered_jackknife_undefined_with_a_single_unit_cohort():
    df = _syn_panel(n_units=16, n_treat=3, cohorts=[4, 6, 6], seed=4)
    r = synthetic_did(df, "y", "d", se="jackknife")
    assert np.isnan(r.std_errors["did"])
    assert r.settings["se_note"] == ("jackknife undefined: cohort(s) 2004 have a single treated unit (use placebo)")


def test_synthetic_did_input_errors():
    df = _syn_panel(seed=5)
    for bad in (1, 2.5, "10"):
        with pytest.raises(SpecificationError, match="replications must be an integer >= 2"):
            synthetic_did(df, "y", "d", n_draws=bad)
    assert synthetic_did(df, "y", "d", n_draws=2, se="placebo").extra["draws"].shape == (2,)
    with pytest.raises(SpecificationError, match=r"^se='x' is not one of"):
        synthetic_did(df, "y", "d", se="x")
    with pytest.raises(SpecificationError, match=r"^method='x' is not one of 'sdid', 'sc', 'did'"):
        synthetic_did(df, "y", "d", method="x")
    many = _syn_panel(n_units=6, n_treat=3, seed=5)
    with pytest.raises(SpecificationError, match=r"placebo inference needs more control units \(3\) than treated units \(3\)"):
        synthetic_did(many, "y", "d", se="placebo")
    one = _syn_panel(n_treat=1, seed=5)
    b = synthetic_did(one, "y", "d", se="bootstrap")
    assert np.isnan(b.std_errors["did"]) and "bootstrap undefined with a single treated unit" in b.settings["se_note"]
    early = _syn_panel(seed=5, cohorts=[1, 5, 5])
    with pytest.raises(TreatmentTimingError, match="cohort adopting in 2001 has 1 pre-period"):
        synthetic_did(early, "y", "d", se="none")
    assert np.isfinite(synthetic_did(early, "y", "d", method="did", se="none")["did"])  # DiD needs no weights
    first = _syn_panel(seed=5, cohorts=[0, 5, 5])
    with pytest.raises(TreatmentTimingError, match="treated from the first year 2000"):
        synthetic_did(first, "y", "d", se="none")
    allt = _syn_panel(n_units=4, n_treat=4, seed=5)
    with pytest.raises(TreatmentTimingError, match="every county is treated"):
        synthetic_did(allt, "y", "d", se="none")
    inf = df.copy()
    inf.loc[7, "y"] = np.inf
    with pytest.raises(MissingValueError, match="not finite"):
        synthetic_did(inf, "y", "d", se="none")


def test_synthetic_control_names_the_cohort_years():
    """Adoption years print as the user wrote them (2004, not 2004.0 or np.float64(2004.0))."""
    df = _syn_panel(n_units=16, n_treat=4, cohorts=[4, 6], seed=3)
    with pytest.raises(SpecificationError, match=r"\(found cohorts 2004, 2006\)"):
        synthetic_control(df, "y", "d")


def test_ddd_other_entity_and_cluster_columns():
    """Entity and cluster columns are the user's, not the default names: the estimate equals the
    default-named run and the SEs cluster on the given column (10 provinces, not 50 counties)."""
    df = _ddd_panel(seed=2)
    base = triple_difference(df, "y", "d", "h")
    d2 = df.rename(columns={"county": "cty", "year": "yr"}).assign(prov=df["county"] // 5)
    from analysis.regression.fe import FewClustersWarning

    with pytest.warns(FewClustersWarning, match=r"only 10 clusters \(prov\)"):
        r = triple_difference(d2, "y", "d", "h", entity="cty", time="yr", cluster="prov")
    assert r.params["DDD"] == pytest.approx(base.params["DDD"], abs=1e-10)
    assert r.cluster == ("prov",) and r.n_clusters == 10
    assert r.settings["fixed_effects"] == "cty + h x yr"
    assert r.std_errors["DDD"] != pytest.approx(base.std_errors["DDD"], rel=1e-6)
    # repeated (cty, yr) keys are caught under the user's names too
    from analysis.errors import DuplicateKeyError

    with pytest.raises(DuplicateKeyError, match=r"share a \(cty, yr\) key"):
        triple_difference(pd.concat([d2, d2.iloc[[0]]]), "y", "d", "h", entity="cty", time="yr", cluster="prov")


def test_ddd_time_varying_group_names_the_units():
    df = _ddd_panel(seed=3)
    moving = df.copy()
    moving.loc[moving.index[:2], "h"] = 1 - moving.loc[moving.index[:2], "h"]  # county 0 only
    with pytest.raises(SpecificationError, match=r"^group 'h' changes within 1 county\(s\) \(e\.g\. 0\); it must be "
                                        r"time-invariant: fix it at its pre-treatment value\.$"):
        triple_difference(moving, "y", "d", "h")


# --------------------------------------------------------------------------------------------
# confirmatory sample (seed 20261207): survivors of ddd
# --------------------------------------------------------------------------------------------
def test_ddd_time_varying_group_lists_at_most_five_units():
    """Seven counties whose group changes: the message counts all 7 and names the first five
    (0-4), no more (the ``units[:5]`` of the message)."""
    df = _ddd_panel(seed=4)
    moving = df.copy()
    first_rows = moving.groupby("county").head(1).index[:7]   # first year of counties 0..6
    moving.loc[first_rows, "h"] = 1 - moving.loc[first_rows, "h"]
    with pytest.raises(SpecificationError, match=r"^group 'h' changes within 7 county\(s\) \(e\.g\. 0, 1, 2, 3, 4\); "):
        triple_difference(moving, "y", "d", "h")


def test_ddd_group_constant_among_pilots_full_message():
    """Constant group among the pilot counties: the whole message, both halves."""
    df = _ddd_panel()
    pilot = df["d"].groupby(df["county"]).transform("max") == 1
    const = df.assign(h=np.where(pilot, 1.0, df["h"]))
    with pytest.raises(ConstantColumnError, match=r"^group 'h' does not vary among pilot countys: the triple "
                                              r"difference needs high and low counties on both sides of the policy\.$"):
        triple_difference(const, "y", "d", "h")


# survivors of synthetic_did (seed 20261207)
def test_synthetic_did_cohort_table_columns_and_no_note_when_the_se_is_defined():
    """extra['cohorts'] has exactly the documented columns (one row per cohort, Clarke et al. 2024
    eq. 3 weights); a placebo SE is defined, so settings carry no 'se_note'."""
    df = _syn_panel(seed=6)
    r = synthetic_did(df, "y", "d", se="placebo", n_draws=2, seed=1)
    tab = r.extra["cohorts"]
    assert list(tab.columns) == ["cohort", "n_treated", "t_pre", "t_post", "estimate", "cells", "weight"]
    assert tab["cohort"].tolist() == [2005] and tab["weight"].tolist() == [1.0]
    assert "se_note" not in r.settings and np.isfinite(r.std_errors["did"])


def test_synthetic_did_vcov_type_of_every_se_method():
    """vcov_type is set by synthetic_did itself for every ``se`` (placebo -> randomization,
    bootstrap -> bootstrap, jackknife and none -> other), not left to be guessed from settings."""
    df = _syn_panel(seed=7)
    got = {se: synthetic_did(df, "y", "d", se=se, n_draws=2, seed=0).vcov_type
           for se in ("placebo", "bootstrap", "jackknife", "none")}
    assert got == {"placebo": "randomization", "bootstrap": "bootstrap", "jackknife": "other", "none": "other"}


def test_synth_panel_missing_outcome_in_a_nullable_boolean_column():
    """A 0/1 outcome stored as pandas' nullable 'boolean' with one <NA>: the missing row is named in a
    MissingValueError (not a numpy TypeError from the finiteness check)."""
    df = _syn_panel(seed=8)
    df["yb"] = pd.array(df["y"] > df["y"].median(), dtype="boolean")
    df.loc[9, "yb"] = pd.NA
    with pytest.raises(MissingValueError, match=r"outcome 'yb' is missing or not finite in row 9"):
        synthetic_did(df, "yb", "d", se="none")


def test_synth_panel_names_every_unit_treated_from_the_first_year():
    df = _syn_panel(seed=5, cohorts=[0, 0, 5])
    with pytest.raises(TreatmentTimingError, match=r"^2 county\(s\) are treated from the first year 2000 "
                                              r"\(e\.g\. c00, c01\): there is no pre-period"):
        synthetic_did(df, "y", "d", se="none")


# survivors of _synth_core (seed 20261207)
def test_placebo_draws_keep_a_fixed_time_weighting():
    """Algorithm 4 refits keep the original options and weights: with the time weights held fixed
    (update_lambda=False) at a non-uniform lambda, every placebo refit uses that lambda. Expected
    draws by the explicit loop of the definition (same random stream, 1e-12)."""
    from dataclasses import replace

    rng = np.random.default_rng(12)
    Y = rng.normal(size=(8, 6)).cumsum(axis=1)
    n0, t0 = 6, 4
    opt = replace(core.sdid_options(Y, n0, t0), update_lambda=False)
    lam = np.array([0.1, 0.2, 0.3, 0.4])
    fit = core.fit_block(Y, n0, t0, opt, lambda_=lam)
    assert np.array_equal(fit.lambda_, lam)
    got = core.placebo_draws(fit, Y, 4, np.random.default_rng(3))
    r2 = np.random.default_rng(3)
    exp = []
    for _ in range(4):
        ind = r2.permutation(n0)
        om = core.sum_normalize(fit.omega[ind[:4]])
        Yp = Y[ind]
        w = core.fit_block(Yp, 4, t0, opt, om, lam).omega
        # tau by definition: treated-minus-omega-weighted controls, post mean minus lam-weighted pre
        row = np.concatenate([-w, np.full(2, 0.5)])
        col = np.concatenate([-lam, np.full(2, 0.5)])
        exp.append(row @ Yp @ col)
    assert np.allclose(got, exp, atol=1e-12, rtol=0)


def test_noise_level_with_two_pre_periods():
    """Two pre-periods give one first difference per control: the noise level (R synthdid's
    sd(apply(Y[1:N0, 1:T0], 1, diff))) is the SD of those N0 differences, defined from T0 = 2
    (NaN only for T0 < 2)."""
    Y = np.array([[1.0, 2.5, 3.0], [0.0, -1.0, 2.0], [4.0, 4.5, 1.0], [2.0, 3.0, 9.0]])
    d = Y[:3, 1] - Y[:3, 0]           # 1.5, -1.0, 0.5
    assert core.noise_level(Y, 3, 2) == pytest.approx(np.sqrt(np.sum((d - d.mean()) ** 2) / 2), rel=1e-14)
    assert np.isfinite(core.sdid_options(Y, 3, 2).zeta_omega)


# survivors of synthetic_control (seed 20261207)
def test_synthetic_control_alpha_sets_the_normal_interval():
    """alpha reaches the result: the interval is estimate ± z_{1-alpha/2} SE (R synthdid's normal
    interval), here alpha = 0.10, z = scipy norm.ppf(0.95) (1e-10: rounding)."""
    from scipy import stats

    df = _sc_panel(seed=4)
    r = synthetic_control(df, "y", "d", se="placebo", n_draws=3, seed=1, permutation=False, alpha=0.10)
    assert r.alpha == 0.10
    ci = r.conf_int().loc["did"]
    half = (ci["ci_high"] - ci["ci_low"]) / 2
    assert half == pytest.approx(stats.norm.ppf(0.95) * r.std_errors["did"], rel=1e-10)
    # the reference names both sources as published (ADH 2010; R synthdid, Arkhangelsky et al. 2021)
    assert r.reference == ("Abadie, Diamond and Hainmueller (2010) JASA 105(490):493-505 (in-space placebo, "
                           "RMSPE ratio); weights and SEs as R synthdid sc_estimate / vcov (Arkhangelsky et al. 2021)")


# survivors of spatial_did (seed 20261207)
def test_spatial_did_controls_and_their_lags_enter_the_sdm(sdid_fit):
    """By definition (Delgado and Florax 2015) the spatial DiD is the two-way FE SDM of y on D, X and
    their spatial lags: the controls and W*controls are in the fit, and every coefficient equals a
    direct spatial_panel SDM fit of that specification (1e-10: same optimiser, same data)."""
    from analysis.spatial import spatial_panel

    w, df, r = sdid_fit
    assert {"treat", "x", "W*treat", "W*x"} <= set(r.sdm.params.index)
    ref = spatial_panel(df, "y", ["treat", "x"], w, model="sdm", effects="twoways", n_draws=0,
                        durbin=["treat", "x"])
    common = ref.params.index
    assert list(r.sdm.params.index) == list(common)
    assert np.allclose(r.sdm.params.to_numpy(), ref.params.to_numpy(), atol=1e-10, rtol=0)


def test_spatial_did_switch_off_message_names_the_fix(sdid_fit):
    w, df, _ = sdid_fit
    off = df.copy()
    off.loc[off["county"] == w.ids[0], "treat"] = [0, 1, 1, 0, 1, 1, 1, 1]
    with pytest.raises(TreatmentTimingError, match=r"; staggered adoption must be absorbing \(once 1, always 1\)\. "
                                                   r"Pass check_absorbing=False to allow it\.$"):
        spatial_did(off, "y", "treat", w, n_draws=0)


def test_spatial_did_entity_effects_only(sdid_fit):
    """effects='entity' (county FE only, Elhorst 2014 'spatial fixed effects') reaches the SDM: the
    fit equals a direct entity-FE SDM and differs from the two-way default (1e-10)."""
    from analysis.spatial import spatial_panel

    w, df, r2 = sdid_fit
    r = spatial_did(df, "y", "treat", w, controls=["x"], n_draws=0, effects="entity")
    ref = spatial_panel(df, "y", ["treat", "x"], w, model="sdm", effects="entity", n_draws=0,
                        durbin=["treat", "x"])
    assert np.allclose(r.sdm.params.to_numpy(), ref.params.to_numpy(), atol=1e-10, rtol=0)
    assert abs(r.sdm.params["rho"] - r2.sdm.params["rho"]) > 1e-4


# --------------------------------------------------------------------------------------------
# compare (did_compare): survivors of the confirmatory sample (seed 20261207)
# --------------------------------------------------------------------------------------------
def _cmp_panel(seed=5):
    return _compare_panel(seed)  # the same 40-county panel as the core compare tests


def test_compare_estimators_reads_the_legacy_se_key_of_overall():
    """An overall dict written with the older key ``se`` (no ``std_error``): the table's std_error is
    that value, not missing."""
    from analysis.did import compare_estimators, run_estimators

    res = run_estimators(_cmp_panel(), "y", "adoption", which=("TWFE",))
    es = res["TWFE"]
    legacy = {k: v for k, v in es.overall.items() if k != "std_error"}
    assert "se" in legacy
    es.overall = legacy
    tab = compare_estimators({"TWFE": es})
    row = tab[tab["term"] == "overall"].iloc[0]
    assert row["std_error"] == legacy["se"] and tab["std_error"].dtype == np.float64


def test_plot_comparison_window_keeps_each_reference_period_and_labels_the_truth():
    """With event_times the results are rebuilt for the window; each keeps its own reference period:
    TWFE's -1 is drawn as the one hollow marker, the imputation estimator has none (every pre-period
    is estimated, reference_period None). The truth line is labelled 'Simulated truth' (en)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from analysis.did import plot_comparison, run_estimators

    res = run_estimators(_cmp_panel(), "y", "adoption", which=("TWFE", "Imputation"))
    assert res["TWFE"].reference_period == -1 and res["Imputation"].reference_period is None
    fig, ax = plt.subplots()
    plot_comparison(res, lang="en", ax=ax, truth_event={-1: 0.0, 0: 0.5, 1: 0.5}, event_times=[-2, -1, 0, 1])
    hollow = [ln for ln in ax.lines if ln.get_markerfacecolor() in ("white", (1.0, 1.0, 1.0, 1.0))]
    assert len(hollow) == 1
    width = 0.6 / 2
    assert hollow[0].get_xdata()[0] == pytest.approx(-1 - width / 2, abs=1e-12)  # TWFE is the left of two
    labels = [ln.get_label() for ln in ax.lines]
    assert "Simulated truth" in labels
    plt.close(fig)


def test_static_twfe_alpha_sets_the_t_interval():
    """alpha reaches the result: the interval is estimate ± t_{1-alpha/2, G-1} SE (reghdfe's CRV1
    inference), alpha = 0.10, G = 40 counties (1e-10: rounding)."""
    from scipy import stats

    from analysis.did import static_twfe

    r = static_twfe(_cmp_panel(), "y", "adoption", alpha=0.10)
    assert r.alpha == 0.10
    ov = r.as_overall()
    half = (ov["ci_high"] - ov["ci_low"]) / 2
    assert half == pytest.approx(stats.t.ppf(0.95, 39) * ov["std_error"], rel=1e-10)
