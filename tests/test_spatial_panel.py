"""Spatial panel ML (SAR/SDM/SEM): against spreg, published splm output, and independent dense
implementations of the formula sheet (methods/threshold-spatial-formulas.md, Part B)."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from _spatial_support import (
    PRODUC_X,
    REF,
    demean_twoway,
    lattice_weights,
    numerical_hessian,
    produc_and_w,
    simulate_sdm,
)
from scipy.optimize import minimize_scalar

from analysis.errors import (
    DuplicateKeyError,
    MissingValueError,
    SpecificationError,
    UnbalancedPanelError,
    WeightsMatrixError,
)
from analysis.spatial import as_spatial_weights, knn_weights, spatial_panel, weights_from_matrix


@pytest.fixture(scope="module")
def produc():
    d, w = produc_and_w()
    return d, as_spatial_weights(w)


def _spreg_fit(d, w_pysal, model):
    import spreg

    warnings.filterwarnings("ignore")
    w_pysal.transform = "r"
    pos = {s: i for i, s in enumerate(w_pysal.id_order)}
    ds = d.assign(_p=d["state"].map(pos)).sort_values(["year", "_p"])
    y, X = ds[["ln_gsp"]].to_numpy(), ds[PRODUC_X].to_numpy()
    cls = spreg.Panel_FE_Lag if model == "sar" else spreg.Panel_FE_Error
    m = cls(y, X, w_pysal)
    return m.betas.ravel(), np.sqrt(np.diag(m.vm))


@pytest.mark.parametrize("model", ["sar", "sem"])
def test_produc_entity_fe_matches_spreg_live(produc, model):
    d, w = produc
    _, wp = produc_and_w()
    b_ref, se_ref = _spreg_fit(d, wp, model)
    r = spatial_panel(d, "ln_gsp", PRODUC_X, w, model=model, effects="entity", lee_yu=False, entity="state",
                      n_draws=0)
    sp = "rho" if model == "sar" else "lambda"
    ours = r.params[PRODUC_X + [sp]].to_numpy()
    ours_se = r.std_errors[PRODUC_X + [sp]].to_numpy()
    assert np.max(np.abs(ours - b_ref)) < 1e-5
    assert np.max(np.abs(ours_se - se_ref) / se_ref) < 1e-5


@pytest.mark.parametrize("model", ["sar", "sem"])
def test_produc_entity_fe_matches_stored_spreg(produc, model):
    d, w = produc
    ref = pd.read_csv(REF / "spreg_produc_entity.csv").query("model == @model").set_index("term")
    r = spatial_panel(d, "ln_gsp", PRODUC_X, w, model=model, effects="entity", lee_yu=False, entity="state",
                      n_draws=0)
    assert np.max(np.abs(r.params[ref.index] - ref["estimate"])) < 1e-5
    assert np.max(np.abs(r.std_errors[ref.index] - ref["std_error"]) / ref["std_error"]) < 1e-5


@pytest.mark.parametrize("model", ["sar", "sem"])
def test_produc_entity_fe_matches_published_splm(produc, model):
    """splm spml(model='within') printed output; tolerance = half a unit of the last printed digit."""
    d, w = produc
    ref = pd.read_csv(REF / "splm_produc_within.csv").query("model == @model").set_index("term")
    r = spatial_panel(d, "ln_gsp", PRODUC_X, w, model=model, effects="entity", lee_yu=False, entity="state",
                      n_draws=0)
    for term, row in ref.iterrows():
        digits = len(f"{row['estimate']:.7f}".rstrip("0").split(".")[1])
        tol = 0.5 * 10 ** (-max(digits, 6)) + 1e-12
        assert abs(r.params[term] - row["estimate"]) <= max(tol, 5e-7), term
        assert abs(r.std_errors[term] - row["std_error"]) <= 5e-7, term


def test_sdm_entity_fe_matches_spreg_lag_with_wx():
    """An SDM is a SAR with [X, WX]; spreg.Panel_FE_Lag on the augmented X is the reference."""
    import spreg
    from libpysal.weights import full2W

    warnings.filterwarnings("ignore")
    w = lattice_weights(7, 6)
    df = simulate_sdm(w, T=8, effects="entity", seed=3)
    r = spatial_panel(df, "y", ["x1", "x2"], w, model="sdm", effects="entity", lee_yu=False, n_draws=0)
    Wd = w.full()
    T = df["year"].nunique()
    X = df[["x1", "x2"]].to_numpy().reshape(T, w.n, 2)
    WX = np.einsum("ij,tjk->tik", Wd, X).reshape(-1, 2)
    wp = full2W(Wd, ids=w.ids)
    m = spreg.Panel_FE_Lag(df[["y"]].to_numpy(), np.column_stack([X.reshape(-1, 2), WX]), wp)
    ours = r.params[["x1", "x2", "W*x1", "W*x2", "rho"]].to_numpy()
    assert np.max(np.abs(ours - m.betas.ravel())) < 1e-5
    se = np.sqrt(np.diag(m.vm))
    assert np.max(np.abs(r.std_errors[["x1", "x2", "W*x1", "W*x2", "rho"]].to_numpy() - se) / se) < 1e-5


def _dense_lag_ml(yd, yld, Z, Wd, n_obs, t_mult):
    """Independent concentrated ML with slogdet (no eigenvalues)."""
    b0 = np.linalg.lstsq(Z, yd, rcond=None)[0]
    b1 = np.linalg.lstsq(Z, yld, rcond=None)[0]
    e0, e1 = yd - Z @ b0, yld - Z @ b1
    N = Wd.shape[0]

    def nll(r):
        e = e0 - r * e1
        return 0.5 * n_obs * np.log(e @ e / n_obs) - t_mult * np.linalg.slogdet(np.eye(N) - r * Wd)[1]

    r = minimize_scalar(nll, bounds=(-0.99, 0.99), method="bounded", options={"xatol": 1e-12}).x
    beta = b0 - r * b1
    e = e0 - r * e1
    return beta, r, e @ e


def _dense_eim(Z, beta, r, s2, Wd, T, n_obs, t_mult):
    N = Wd.shape[0]
    G = Wd @ np.linalg.inv(np.eye(N) - r * Wd)
    GT = np.kron(np.eye(T), G)
    eta = GT @ (Z @ beta)
    p = Z.shape[1]
    I = np.zeros((p + 2, p + 2))
    I[:p, :p] = Z.T @ Z / s2
    I[:p, p] = I[p, :p] = Z.T @ eta / s2
    I[p, p] = eta @ eta / s2 + t_mult * np.trace(G @ G + G.T @ G)
    I[p, p + 1] = I[p + 1, p] = t_mult * np.trace(G) / s2
    I[p + 1, p + 1] = n_obs / (2 * s2 ** 2)
    return I


def _stack(df, w, T):
    Wd = w.full()
    Y = df["y"].to_numpy().reshape(T, w.n)
    X = df[["x1", "x2"]].to_numpy().reshape(T, w.n, 2)
    WX = np.einsum("ij,tjk->tik", Wd, X)
    WY = Y @ Wd.T
    return Wd, Y, WY, np.concatenate([X, WX], axis=2)


def test_twoway_lee_yu_matches_dense_elhorst_correction():
    """Elhorst sar_panel_FE.m model=3, bc=1, written out densely here (formula sheet B.6 c)."""
    w = lattice_weights(6, 5)
    T = 10
    df = simulate_sdm(w, T=T, seed=11)
    r = spatial_panel(df, "y", ["x1", "x2"], w, model="sdm", effects="twoways", lee_yu=True, n_draws=0)
    Wd, Y, WY, Z = _stack(df, w, T)
    N = w.n
    yd, yld = demean_twoway(Y).ravel(), demean_twoway(WY).ravel()
    Zd = demean_twoway(Z).reshape(-1, 4)
    beta, rho, ssr = _dense_lag_ml(yd, yld, Zd, Wd, N * T, T)
    s2 = ssr / (N * T)
    I = _dense_eim(Zd, beta, rho, s2, Wd, T, N * T, T)
    phi = np.r_[beta, rho, s2] + np.linalg.solve(I / (N * T), np.r_[np.zeros(4), 1 / (1 - rho), 1 / (2 * s2)]) / N
    phi[-1] *= T / (T - 1)
    cov = np.linalg.inv(_dense_eim(Zd, phi[:4], phi[4], phi[5], Wd, T, N * T, T))
    terms = ["x1", "x2", "W*x1", "W*x2", "rho", "sigma2"]
    assert np.max(np.abs(r.params[terms].to_numpy() - phi)) < 1e-7
    assert np.max(np.abs(r.cov.loc[terms, terms].to_numpy() - cov) / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))) < 1e-6
    # uncorrected estimates are the direct ML
    assert np.max(np.abs(r.extra["uncorrected"][terms[:5]].to_numpy() - np.r_[beta, rho])) < 1e-7


def test_entity_lee_yu_equals_explicit_transformation():
    """xsmle type(ind, leeyu): transform with the orthonormal F_{T,T-1} and run plain ML on N(T-1) obs."""
    w = lattice_weights(6, 5)
    T = 8
    df = simulate_sdm(w, T=T, effects="entity", seed=5)
    r = spatial_panel(df, "y", ["x1", "x2"], w, model="sdm", effects="entity", lee_yu=True, n_draws=0)
    Wd, Y, WY, Z = _stack(df, w, T)
    N = w.n
    # Helmert-type orthonormal complement of iota_T: columns of F are orthonormal and F'iota = 0
    Q, _ = np.linalg.qr(np.column_stack([np.ones(T), np.random.default_rng(0).standard_normal((T, T - 1))]))
    F = Q[:, 1:]
    yt = (F.T @ Y).ravel()
    ylt = (F.T @ WY).ravel()
    Zt = np.einsum("ts,tnk->snk", F, Z).reshape(-1, 4)
    beta, rho, ssr = _dense_lag_ml(yt, ylt, Zt, Wd, N * (T - 1), T - 1)
    s2 = ssr / (N * (T - 1))
    cov = np.linalg.inv(_dense_eim(Zt, beta, rho, s2, Wd, T - 1, N * (T - 1), T - 1))
    terms = ["x1", "x2", "W*x1", "W*x2", "rho", "sigma2"]
    assert np.max(np.abs(r.params[terms].to_numpy() - np.r_[beta, rho, s2])) < 1e-7
    assert np.max(np.abs(r.std_errors[terms].to_numpy() - np.sqrt(np.diag(cov))) / np.sqrt(np.diag(cov))) < 1e-6


def test_time_lee_yu_scales_sigma2():
    w = lattice_weights(6, 5)
    df = simulate_sdm(w, T=6, effects="time", seed=2)
    a = spatial_panel(df, "y", ["x1", "x2"], w, model="sar", effects="time", lee_yu=False, n_draws=0)
    b = spatial_panel(df, "y", ["x1", "x2"], w, model="sar", effects="time", lee_yu=True, n_draws=0)
    assert np.allclose(a.params[["x1", "x2", "rho"]], b.params[["x1", "x2", "rho"]])
    assert b.sigma2 == pytest.approx(a.sigma2 * w.n / (w.n - 1), rel=1e-12)


def _lee_yu_twoway_fit(model, T, seed):
    """Two-way Lee-Yu transformation fit of ``model`` on a simulated 6 x 5 lattice panel, with the
    two-way-demeaned y and Wy, the stacked regressors [X, WX] (T x N x 4) and N."""
    w = lattice_weights(6, 5)
    df = simulate_sdm(w, T=T, seed=seed)
    r = spatial_panel(df, "y", ["x1", "x2"], w, model=model, effects="twoways", lee_yu=True,
                      lee_yu_method="transformation", n_draws=0)
    Wd, Y, WY, Z = _stack(df, w, T)
    return r, Wd, demean_twoway(Y).ravel(), demean_twoway(WY).ravel(), Z, w.n


def _lee_yu_twoway_maximum(ssr, Wd, N, T):
    """Maximiser and maximum of the two-way Lee-Yu concentrated log-likelihood (sheet B.6 c):
    (N-1)(T-1) effective observations and (T-1)[ln|I - p W| - ln(1 - p)], ``ssr(p)`` the concentrated SSR."""
    n = (N - 1) * (T - 1)

    def ll(p):
        return (-n / 2 * np.log(2 * np.pi * ssr(p) / n) - n / 2
                + (T - 1) * (np.linalg.slogdet(np.eye(N) - p * Wd)[1] - np.log(1 - p)))

    best = minimize_scalar(lambda p: -ll(p), bounds=(-0.9, 0.95), method="bounded", options={"xatol": 1e-12}).x
    return best, ll(best)


def test_twoway_transformation_maximises_lee_yu_likelihood():
    """lee_yu_method='transformation' maximises the displayed two-way Lee-Yu likelihood (sheet B.6 c)."""
    T = 10
    r, Wd, yd, yld, Z, N = _lee_yu_twoway_fit("sdm", T, seed=13)
    Zd = demean_twoway(Z).reshape(-1, 4)
    e0 = yd - Zd @ np.linalg.lstsq(Zd, yd, rcond=None)[0]
    e1 = yld - Zd @ np.linalg.lstsq(Zd, yld, rcond=None)[0]
    best, top = _lee_yu_twoway_maximum(lambda rr: (e0 - rr * e1) @ (e0 - rr * e1), Wd, N, T)
    assert r.rho == pytest.approx(best, abs=1e-7)
    assert r.loglik == pytest.approx(top, abs=1e-6)


def test_twoway_transformation_sem_maximises_lee_yu_error_likelihood():
    """The SEM counterpart: lee_yu_method='transformation' maximises the two-way Lee-Yu likelihood of the
    error model, with beta(lambda) by GLS on the spatially filtered two-way-demeaned data; the reported
    log-likelihood is that maximum."""
    T = 9
    r, Wd, yd, yld, Z, N = _lee_yu_twoway_fit("sem", T, seed=17)
    Xd, WXd = demean_twoway(Z[..., :2]).reshape(-1, 2), demean_twoway(Z[..., 2:]).reshape(-1, 2)

    def ssr(lam):
        ys, Xs = yd - lam * yld, Xd - lam * WXd
        e = ys - Xs @ np.linalg.lstsq(Xs, ys, rcond=None)[0]
        return e @ e

    best, top = _lee_yu_twoway_maximum(ssr, Wd, N, T)
    assert r.params["lambda"] == pytest.approx(best, abs=1e-7)
    assert r.loglik == pytest.approx(top, abs=1e-6)


def _full_loglik(params, yd, yld, Z, Wd, n_obs, t_mult):
    p = Z.shape[1]
    beta, rho, s2 = params[:p], params[p], params[p + 1]
    e = yd - rho * yld - Z @ beta
    return (-n_obs / 2 * np.log(2 * np.pi * s2) - e @ e / (2 * s2)
            + t_mult * np.linalg.slogdet(np.eye(Wd.shape[0]) - rho * Wd)[1])


def test_oim_is_inverse_numerical_hessian():
    w = lattice_weights(6, 5)
    T = 8
    df = simulate_sdm(w, T=T, seed=7)
    r = spatial_panel(df, "y", ["x1", "x2"], w, model="sdm", effects="twoways", lee_yu=False, vcov="oim",
                      n_draws=0)
    Wd, Y, WY, Z = _stack(df, w, T)
    yd, yld = demean_twoway(Y).ravel(), demean_twoway(WY).ravel()
    Zd = demean_twoway(Z).reshape(-1, 4)
    th = r.params.to_numpy()
    h = 1e-4 * np.maximum(np.abs(th), 1e-2)
    H = numerical_hessian(lambda v: _full_loglik(v, yd, yld, Zd, Wd, w.n * T, T), th, h)
    cov = np.linalg.inv(-H)
    rel = np.abs(r.cov.to_numpy() - cov) / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    assert rel.max() < 1e-4


def test_logdet_from_eigenvalues_equals_slogdet():
    from analysis.spatial.panel_models import _logdet

    w = lattice_weights(6, 5)
    Wd = w.full()
    for r in np.linspace(-0.9, 0.95, 9):
        assert _logdet(r, w.eigenvalues()) == pytest.approx(np.linalg.slogdet(np.eye(w.n) - r * Wd)[1], abs=1e-12)
    wk = knn_weights(pd.DataFrame({"adcode": w.ids, "lon": np.repeat(np.arange(6), 5) * 0.5 + 100,
                                   "lat": np.tile(np.arange(5), 6) * 0.4 + 30}), k=3)
    Wk = wk.full()
    for r in (-0.5, 0.3, 0.8):
        assert _logdet(r, wk.eigenvalues()) == pytest.approx(np.linalg.slogdet(np.eye(wk.n) - r * Wk)[1], abs=1e-10)


def test_trace_gtg_matches_dense():
    w = lattice_weights(6, 5)
    Wd = w.full()
    for r in (-0.4, 0.2, 0.7):
        G = Wd @ np.linalg.inv(np.eye(w.n) - r * Wd)
        assert w.trace_gtg(r) == pytest.approx(np.sum(G * G), rel=1e-12)


# ---- effects ---------------------------------------------------------------------------------

@pytest.mark.parametrize("model", ["sdm", "sar"])
def test_effects_match_dense_lesage_pace(model):
    w = lattice_weights(6, 5)
    df = simulate_sdm(w, T=8, seed=21)
    r = spatial_panel(df, "y", ["x1", "x2"], w, model=model, effects="twoways", lee_yu=True, n_draws=200,
                      seed=1, point="plugin")
    Wd = w.full()
    N = w.n
    inv = np.linalg.inv(np.eye(N) - r.rho * Wd)
    eff = r.effects.set_index(["variable", "effect"])["estimate"]
    for v in ["x1", "x2"]:
        th = r.params.get(f"W*{v}", 0.0) if model == "sdm" else 0.0
        S = inv @ (r.params[v] * np.eye(N) + th * Wd)
        direct, total = np.trace(S) / N, S.sum() / N
        assert eff[(v, "direct")] == pytest.approx(direct, abs=1e-12)
        assert eff[(v, "total")] == pytest.approx(total, abs=1e-12)
        assert eff[(v, "indirect")] == pytest.approx(total - direct, abs=1e-12)


def test_effects_with_nonsymmetric_knn_match_dense():
    from analysis.spatial import effects_point

    lon = np.repeat(np.arange(7), 6) * 0.5 + 100
    lat = np.tile(np.arange(6), 7) * 0.4 + 30
    wk = knn_weights(pd.DataFrame({"adcode": [f"{i:06d}" for i in range(42)], "lon": lon, "lat": lat}), k=4)
    assert not wk.is_symmetric_similar
    Wd = wk.full()
    beta, theta, rho = np.array([0.8, -0.3]), np.array([0.5, 0.1]), 0.55
    d, i, t = effects_point(beta, theta, rho, wk.eigenvalues())
    inv = np.linalg.inv(np.eye(42) - rho * Wd)
    for k in range(2):
        S = inv @ (beta[k] * np.eye(42) + theta[k] * Wd)
        assert d[k] == pytest.approx(np.trace(S) / 42, abs=1e-12)
        assert t[k] == pytest.approx(S.sum() / 42, abs=1e-12)


def test_effect_draws_are_seeded_and_sd_based():
    w = lattice_weights(6, 5)
    df = simulate_sdm(w, T=8, seed=4)
    a = spatial_panel(df, "y", ["x1", "x2"], w, n_draws=300, seed=99)
    b = spatial_panel(df, "y", ["x1", "x2"], w, n_draws=300, seed=99)
    c = spatial_panel(df, "y", ["x1", "x2"], w, n_draws=300, seed=100)
    pd.testing.assert_frame_equal(a.effects, b.effects)
    assert not np.allclose(a.effects["std_error"], c.effects["std_error"])
    # plug-in point estimates do not depend on the seed; simmean ones do
    assert np.allclose(a.effects["estimate"], c.effects["estimate"])
    s = spatial_panel(df, "y", ["x1", "x2"], w, n_draws=300, seed=99, point="simmean")
    assert np.allclose(s.effects["estimate"], s.effects["draw_mean"])
    # independent re-draw: SD of the closed-form effects over N(phi, V) draws
    rng = np.random.default_rng(99)
    V = a.cov.to_numpy()
    phi = a.params.to_numpy()
    L = np.linalg.cholesky(V)
    draws = phi + rng.standard_normal((300, len(phi))) @ L.T
    Wd = w.full()
    tot = (draws[:, 0] + draws[:, 2]) / (1 - draws[:, 4])
    se_tot = a.effects.set_index(["variable", "effect"]).loc[("x1", "total"), "std_error"]
    assert se_tot == pytest.approx(np.std(tot, ddof=1), rel=1e-10)
    assert Wd.shape == (w.n, w.n)


def test_recovers_simulated_sdm():
    w = lattice_weights(15, 14)
    df = simulate_sdm(w, T=15, rho=0.4, beta=(1.0, -0.5), theta=(0.5, 0.3), seed=8)
    r = spatial_panel(df, "y", ["x1", "x2"], w, effects="twoways", lee_yu=True, n_draws=500, seed=1)
    truth = {"x1": 1.0, "x2": -0.5, "W*x1": 0.5, "W*x2": 0.3, "rho": 0.4}
    for k, v in truth.items():
        assert abs(r.params[k] - v) < 4 * r.std_errors[k], k


# ---- input errors ----------------------------------------------------------------------------

def test_errors_name_the_problem():
    w = lattice_weights(4, 4)
    df = simulate_sdm(w, T=4, seed=1)
    with pytest.raises(UnbalancedPanelError, match="unbalanced"):
        spatial_panel(df.iloc[1:], "y", ["x1"], w, n_draws=0)
    bad = df.copy()
    bad.loc[5, "x1"] = np.nan
    with pytest.raises(MissingValueError, match="x1"):
        spatial_panel(bad, "y", ["x1"], w, n_draws=0)
    with pytest.raises(DuplicateKeyError):
        spatial_panel(pd.concat([df, df.iloc[:1]]), "y", ["x1"], w, n_draws=0)
    other = df.assign(county=df["county"].replace({"u00": "zz"}))
    with pytest.raises(WeightsMatrixError, match="not in W"):
        spatial_panel(other, "y", ["x1"], w, n_draws=0)
    with pytest.raises(WeightsMatrixError, match="square"):
        weights_from_matrix(np.ones((3, 4)), ["a", "b", "c"])
    with pytest.raises(SpecificationError):
        spatial_panel(df, "y", ["x1"], w, model="sac", n_draws=0)
    with pytest.raises(SpecificationError, match="durbin"):
        spatial_panel(df, "y", ["x1"], w, durbin=["x2"], n_draws=0)
    # a regressor that is constant within units is swept out by the FE
    with pytest.raises(SpecificationError, match="collinear"):
        spatial_panel(df.assign(c=df["county"].str[1:].astype(int)), "y", ["x1", "c"], w, n_draws=0)


def test_panel_order_does_not_matter():
    w = lattice_weights(5, 4)
    df = simulate_sdm(w, T=5, seed=6)
    a = spatial_panel(df, "y", ["x1", "x2"], w, n_draws=0)
    b = spatial_panel(df.sample(frac=1.0, random_state=1), "y", ["x1", "x2"], w, n_draws=0)
    pd.testing.assert_series_equal(a.params, b.params)


def test_result_shape_and_rows():
    w = lattice_weights(5, 4)
    df = simulate_sdm(w, T=5, seed=6)
    r = spatial_panel(df, "y", ["x1", "x2"], w, n_draws=50, seed=1)
    tidy = r.to_frame()
    assert list(tidy.columns) == ["term", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]
    assert r.rows.n_used == len(df) and r.rows.n_dropped == 0
    assert set(r.effects["effect"]) == {"direct", "indirect", "total"}
    assert "SDM" in r.summary()


def test_sdem_entity_fe_matches_spreg_error_with_wx():
    """An SDEM is a SEM with [X, WX]; spreg.Panel_FE_Error on the augmented X is the reference.
    Tolerances as for the SEM against spreg (optimizer tolerance 1e-5 absolute, SEs 1e-5 relative)."""
    import spreg
    from libpysal.weights import full2W

    warnings.filterwarnings("ignore")
    w = lattice_weights(7, 6)
    df = simulate_sdm(w, T=8, rho=0.0, effects="entity", seed=5)
    r = spatial_panel(df, "y", ["x1", "x2"], w, model="sdem", effects="entity", lee_yu=False, n_draws=0)
    Wd = w.full()
    T = df["year"].nunique()
    X = df[["x1", "x2"]].to_numpy().reshape(T, w.n, 2)
    WX = np.einsum("ij,tjk->tik", Wd, X).reshape(-1, 2)
    m = spreg.Panel_FE_Error(df[["y"]].to_numpy(), np.column_stack([X.reshape(-1, 2), WX]), full2W(Wd, ids=w.ids))
    terms = ["x1", "x2", "W*x1", "W*x2", "lambda"]
    assert np.max(np.abs(r.params[terms].to_numpy() - m.betas.ravel())) < 1e-5
    se = np.sqrt(np.diag(m.vm))
    assert np.max(np.abs(r.std_errors[terms].to_numpy() - se) / se) < 1e-5
    eff = r.effects.set_index(["variable", "effect"])
    assert eff.loc[("x1", "indirect"), "estimate"] == pytest.approx(r.params["W*x1"], abs=1e-12)
    V = r.cov
    se_tot = np.sqrt(V.loc["x2", "x2"] + V.loc["W*x2", "W*x2"] + 2 * V.loc["x2", "W*x2"])
    assert eff.loc[("x2", "total"), "std_error"] == pytest.approx(se_tot, rel=1e-12)


def test_sdem_recovers_simulated_spillovers():
    """SDEM data (two-way effects, lambda 0.5): beta and theta within 4 SEs of the truth."""
    w = lattice_weights(12, 12)
    rng = np.random.default_rng(7)
    T, N = 10, w.n
    Wd = w.full()
    X = rng.normal(size=(T, N, 1))
    u = np.stack([np.linalg.solve(np.eye(N) - 0.5 * Wd, rng.normal(size=N)) for _ in range(T)])
    mu, al = rng.normal(size=N), rng.normal(size=T)
    y = X[:, :, 0] * 1.0 + (Wd @ X[:, :, 0].T).T * 0.6 + mu[None, :] + al[:, None] + u
    df = pd.DataFrame({"county": np.tile(w.ids, T), "year": np.repeat(np.arange(2000, 2000 + T), N),
                       "y": y.ravel(), "x": X[:, :, 0].ravel()})
    r = spatial_panel(df, "y", ["x"], w, model="sdem", effects="twoways", n_draws=0)
    for term, truth in [("x", 1.0), ("W*x", 0.6), ("lambda", 0.5)]:
        assert abs(r.params[term] - truth) <= 4 * r.std_errors[term], (term, r.params[term], r.std_errors[term])


def _dense_sac_loglik(v, y, X, Wd, T, N):
    """Independent SAC log-likelihood with entity FE: explicit (I - rho W), (I - lambda W) per period,
    slogdet, demeaning by unit after filtering (both filters commute with the unit means)."""
    rho, lam, s2 = v[0], v[1], np.exp(v[2])
    beta = v[3:]
    A, B = np.eye(N) - rho * Wd, np.eye(N) - lam * Wd
    Y, Xs = y.reshape(T, N), X.reshape(T, N, -1)
    u = np.stack([A @ Y[t] - Xs[t] @ beta for t in range(T)])
    e = np.stack([B @ u[t] for t in range(T)])
    e = e - e.mean(axis=0, keepdims=True)  # entity demeaning of the filtered residuals
    n = N * T
    return (-0.5 * n * np.log(2 * np.pi * s2) - (e ** 2).sum() / (2 * s2)
            + T * (np.linalg.slogdet(A)[1] + np.linalg.slogdet(B)[1]))


def test_sac_entity_fe_matches_dense_likelihood_and_recovers_truth():
    """SAC (entity FE): the estimate maximises an independent dense likelihood (Nelder-Mead from our
    optimum does not improve it by more than 1e-6) and lies within 4 SEs of the simulated truth."""
    from scipy.optimize import minimize

    w = lattice_weights(10, 10)
    rng = np.random.default_rng(12)
    T, N = 8, w.n
    Wd = w.full()
    X = rng.normal(size=(T, N, 2))
    mu = rng.normal(size=N)
    Ainv, Binv = np.linalg.inv(np.eye(N) - 0.4 * Wd), np.linalg.inv(np.eye(N) - 0.3 * Wd)
    Y = np.stack([Ainv @ (X[t] @ np.array([1.0, -0.5]) + mu + Binv @ rng.normal(size=N)) for t in range(T)])
    df = pd.DataFrame({"county": np.tile(w.ids, T), "year": np.repeat(np.arange(2000, 2000 + T), N),
                       "y": Y.ravel(), "x1": X[:, :, 0].ravel(), "x2": X[:, :, 1].ravel()})
    r = spatial_panel(df, "y", ["x1", "x2"], w, model="sac", effects="entity", lee_yu=False, n_draws=200, seed=1)
    v0 = np.r_[r.params["rho"], r.params["lambda"], np.log(r.params["sigma2"]), r.params[["x1", "x2"]]]
    f = lambda v: -_dense_sac_loglik(v, Y.ravel(), X.reshape(-1, 2), Wd, T, N)  # noqa: E731
    # our log-likelihood (demeaned data) equals the dense one at our estimate
    assert -f(v0) == pytest.approx(r.loglik, abs=1e-6)
    better = minimize(f, v0, method="Nelder-Mead", options={"xatol": 1e-9, "fatol": 1e-10, "maxiter": 4000})
    assert f(v0) - better.fun < 1e-6
    for term, truth in [("x1", 1.0), ("x2", -0.5), ("rho", 0.4), ("lambda", 0.3)]:
        assert abs(r.params[term] - truth) <= 4 * r.std_errors[term], (term, r.params[term], r.std_errors[term])
    assert set(r.effects.effect) == {"direct", "indirect", "total"}
    with pytest.raises(SpecificationError, match="Lee-Yu"):
        spatial_panel(df, "y", ["x1", "x2"], w, model="sac", effects="entity")
