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
from analysis.did import _synth_core as core
from analysis.did import triple_difference
from analysis.did.synthetic_control import synthetic_control
from analysis.did.synthetic_did import synthetic_did
from analysis.errors import ConstantColumnError, TreatmentTimingError
from analysis.spatial import spatial_did


# --------------------------------------------------------------------------------------------
# spatial DiD
# --------------------------------------------------------------------------------------------
def _sdid_panel(w, T=8, rho=0.3, delta=1.0, phi=0.6, seed=0):
    rng = np.random.default_rng(seed)
    N = w.n
    start = rng.choice([3, 5, 99], size=N, p=[0.3, 0.3, 0.4])
    D = (np.arange(T)[:, None] >= start[None, :]).astype(float)
    x = rng.standard_normal((T, N))
    Wd = w.full()
    A = np.linalg.inv(np.eye(N) - rho * Wd)
    mu, al = rng.standard_normal(N), rng.standard_normal(T)
    Y = np.array([A @ (delta * D[t] + phi * Wd @ D[t] + 0.5 * x[t] + 0.2 * Wd @ x[t] + mu + al[t]
                       + 0.3 * rng.standard_normal(N)) for t in range(T)])
    return pd.DataFrame({"county": np.tile(w.ids, T), "year": np.repeat(np.arange(2010, 2010 + T), N),
                         "y": Y.ravel(), "treat": D.ravel(), "x": x.ravel()})


@pytest.fixture(scope="module")
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
    assert "Delgado and Florax" in r.reference
    assert r.rows.n_used == len(df)


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
