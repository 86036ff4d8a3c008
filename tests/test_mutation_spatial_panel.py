"""Issue 15 (mutation coverage): tests that kill the surviving mutants of ``analysis/spatial/panel_models.py``
in its confirmatory mutation sample (seed 20261207, 30 mutants).

Expected values come from the definitions (Elhorst 2014, "Spatial Econometrics: From Cross-Sectional
Data to Spatial Panels", ch. 3: the fixed-effects SEM log-likelihood; its observed information is minus
the Hessian), computed here densely and independently of the module, tolerances written beside them.
"""
from __future__ import annotations

import numpy as np
import pytest
from _spatial_support import lattice_weights, numerical_hessian, simulate_sdm

from analysis.errors import ConstantColumnError, NonNumericError, SpecificationError
from analysis.spatial import spatial_panel


def _sem_loglik(params, yd, yld, Z, ZL, Wd, n_obs, t_mult):
    """Elhorst (2014) eq. (3.18)-type SEM log-likelihood of the entity-demeaned panel:
    -n/2 ln(2 pi s2) + T ln|I - lam W| - e'e / (2 s2), e = (y - lam Wy) - (X - lam WX) beta."""
    p = Z.shape[1]
    beta, lam, s2 = params[:p], params[p], params[p + 1]
    e = (yd - lam * yld) - (Z - lam * ZL) @ beta
    return (-n_obs / 2 * np.log(2 * np.pi * s2) - e @ e / (2 * s2)
            + t_mult * np.linalg.slogdet(np.eye(Wd.shape[0]) - lam * Wd)[1])


def test_sem_observed_information_is_minus_the_numerical_hessian():
    """vcov='oim' for the SEM (entity FE, no Lee-Yu correction): the covariance is the inverse of minus
    the Hessian of the log-likelihood at the estimates, the Hessian differenced numerically here on a
    dense W (relative error below 1e-4: central differences with steps 1e-4 |theta|)."""
    w = lattice_weights(6, 5)
    T = 8
    df = simulate_sdm(w, T=T, seed=17)
    r = spatial_panel(df, "y", ["x1", "x2"], w, model="sem", effects="entity", lee_yu=False, vcov="oim",
                      n_draws=0)
    assert list(r.params.index) == ["x1", "x2", "lambda", "sigma2"]
    N = w.n
    Wd = w.full()
    Y = df["y"].to_numpy().reshape(T, N)          # rows are periods (simulate_sdm's order)
    X = df[["x1", "x2"]].to_numpy().reshape(T, N, 2)
    WY = Y @ Wd.T
    WX = np.einsum("ij,tjk->tik", Wd, X)

    def within(a):                                  # entity demeaning: each unit's mean over periods
        return (a - a.mean(axis=0, keepdims=True)).reshape(T * N, -1).squeeze()

    yd, yld, Z, ZL = within(Y), within(WY), within(X), within(WX)
    th = r.params.to_numpy()
    h = 1e-4 * np.maximum(np.abs(th), 1e-2)
    H = numerical_hessian(lambda v: _sem_loglik(v, yd, yld, Z, ZL, Wd, N * T, T), th, h)
    cov = np.linalg.inv(-H)
    rel = np.abs(r.cov.to_numpy() - cov) / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    assert rel.max() < 1e-4
    assert r.settings["vcov"] == "inverse observed information (xsmle vce(oim))"


def test_sac_covariance_draws_record_and_settings():
    """SAC: the reported covariance is the one the SEs come from (sqrt of its diagonal, symmetric,
    positive definite); without draws the settings say 'none' and extra['draws'] is empty, with
    draws both record their number and seed."""
    w = lattice_weights(5, 5)
    df = simulate_sdm(w, T=6, seed=19)
    r = spatial_panel(df, "y", ["x1", "x2"], w, model="sac", effects="entity", lee_yu=False, n_draws=0)
    V = r.cov.to_numpy(dtype=float)
    assert list(r.cov.index) == list(r.cov.columns) == ["x1", "x2", "rho", "lambda", "sigma2"]
    assert np.all(np.isfinite(V)) and np.allclose(V, V.T, atol=1e-12)
    assert np.all(np.linalg.eigvalsh(V) > 0)
    assert np.allclose(np.sqrt(np.diag(V)), r.std_errors.to_numpy(), rtol=1e-12, atol=0)
    assert r.settings["effects draws"] == "none" and r.extra["draws"] == {} and r.effects is None
    d = spatial_panel(df, "y", ["x1", "x2"], w, model="sac", effects="entity", lee_yu=False, n_draws=20, seed=3)
    assert d.extra["draws"]["n_draws"] == 20
    assert d.settings["effects draws"] == "20 (seed=3, point=plugin)"


def test_bounds_fallback_when_w_has_no_negative_eigenvalue():
    """The rho search interval is (1/omega_min + eps, 1/omega_max - eps); without a negative
    eigenvalue (1/omega_min = -inf) the lower end falls back to -1 + eps, inside (-1, 1)."""
    from analysis.spatial.panel_models import _bounds

    class _W:
        def __init__(self, lo, hi):
            self._b = (lo, hi)

        def rho_bounds(self):
            return self._b

    assert _bounds(_W(-np.inf, 1.0), eps=1e-7) == (-1.0 + 1e-7, 1.0 - 1e-7)
    assert _bounds(_W(-2.5, 1.0), eps=1e-7) == (-2.5 + 1e-7, 1.0 - 1e-7)
    assert _bounds(_W(-5e3, 1.0), eps=1e-7) == (-1e3 + 1e-7, 1.0 - 1e-7)


def test_fixed_effects_and_elhorst_correction_are_recorded():
    """The result names its fixed effects with the user's column names (entity, time or both), and
    the two-way Elhorst correction is recorded with Elhorst's own option names (model=3, bc=1)."""
    w = lattice_weights(5, 5)
    df = simulate_sdm(w, T=6, seed=1).rename(columns={"county": "cty", "year": "yr"})
    kw = dict(entity="cty", time="yr", n_draws=0)
    assert spatial_panel(df, "y", ["x1", "x2"], w, model="sar", effects="time", **kw).fixed_effects == ("yr",)
    assert spatial_panel(df, "y", ["x1", "x2"], w, model="sar", effects="entity", **kw).fixed_effects == ("cty",)
    tw = spatial_panel(df, "y", ["x1", "x2"], w, model="sar", effects="twoways", lee_yu_method="elhorst", **kw)
    assert tw.fixed_effects == ("cty", "yr")
    assert tw.settings["correction"] == ("Lee-Yu (2010) two-way analytic correction as in Elhorst "
                                         "sar_panel_FE/sem_panel_FE (model=3, bc=1)")


def test_sem_effects_settings_and_statistic_name():
    """In the SEM the spatial dependence is in the error only, so a regressor has no spillover
    (Elhorst 2014, section 2.3 / LeSage and Pace 2009): direct = total = beta with beta's SE,
    indirect = 0. Settings record the Durbin terms ([] here, ['x1'] for an SDM with durbin=['x1']);
    the statistics are z (ML, asymptotic normal)."""
    w = lattice_weights(5, 5)
    df = simulate_sdm(w, T=6, seed=23)
    r = spatial_panel(df, "y", ["x1", "x2"], w, model="sem", effects="entity", lee_yu=False, n_draws=0)
    eff = r.effects.set_index(["variable", "effect"])
    for v in ("x1", "x2"):
        assert eff.loc[(v, "direct"), "estimate"] == r.params[v] == eff.loc[(v, "total"), "estimate"]
        assert eff.loc[(v, "direct"), "std_error"] == r.std_errors[v] == eff.loc[(v, "total"), "std_error"]
        assert eff.loc[(v, "indirect"), "estimate"] == 0.0 and eff.loc[(v, "indirect"), "std_error"] == 0.0
    assert r.settings["durbin"] == [] and r.statistic_name == "z"
    sdm = spatial_panel(df, "y", ["x1", "x2"], w, model="sdm", effects="entity", n_draws=0, durbin=["x1"])
    assert sdm.settings["durbin"] == ["x1"] and sdm.statistic_name == "z"


# ------------------------------------------------------------------- third sample (seed 20261208, after the tests above)
def test_elhorst_lee_yu_scales_sigma2_by_t_over_t_minus_1_and_leaves_the_rest():
    """lee_yu_method="elhorst" with entity effects (Elhorst's sar_panel_FE, bc=1; Lee and Yu 2010):
    the same rho and beta as direct ML (same likelihood, NT obs), sigma2 multiplied by T/(T-1)
    exactly (rtol 1e-10: one multiplication)."""
    w = lattice_weights(5, 5)
    T = 6
    df = simulate_sdm(w, T=T, seed=23)
    plain = spatial_panel(df, "y", ["x1", "x2"], w, model="sar", effects="entity", lee_yu=False, n_draws=0)
    elh = spatial_panel(df, "y", ["x1", "x2"], w, model="sar", effects="entity", lee_yu=True,
                        lee_yu_method="elhorst", n_draws=0)
    np.testing.assert_allclose(elh.params[["x1", "x2", "rho"]], plain.params[["x1", "x2", "rho"]], rtol=1e-10)
    assert elh.params["sigma2"] == pytest.approx(plain.params["sigma2"] * T / (T - 1), rel=1e-10)


def test_sac_statistics_carry_the_loglik_under_its_name():
    """SAC stats: 'loglik' is the log-likelihood the result reports, and AIC = -2 ll + 2 k with k the
    number of parameters (coefficients, rho, lambda, sigma2): the definition, to 1e-10."""
    w = lattice_weights(5, 5)
    r = spatial_panel(simulate_sdm(w, T=6, seed=19), "y", ["x1", "x2"], w, model="sac", effects="entity",
                      lee_yu=False, n_draws=0)
    assert r.stats["loglik"] == pytest.approx(r.loglik, rel=1e-12)
    assert r.stats["aic"] == pytest.approx(-2 * r.loglik + 2 * 5, rel=1e-10)


def test_spatial_panel_input_errors_name_the_argument_the_column_and_its_role():
    w = lattice_weights(4, 4)
    df = simulate_sdm(w, T=4, seed=2)
    with pytest.raises(SpecificationError, match=r"^model='probit' is not one of 'sdm', 'sar'"):
        spatial_panel(df, "y", ["x1"], w, model="probit", n_draws=0)
    bad = df.assign(x1=np.where(np.arange(len(df)) == 3, np.inf, df["x1"]))
    with pytest.raises(NonNumericError, match=r"column 'x1' has infinite values in .*replace them by a finite value"):
        spatial_panel(bad, "y", ["x1"], w, n_draws=0)
    with pytest.raises(ConstantColumnError, match=r"column 'x1' \(a regressor\) is constant"):
        spatial_panel(df.assign(x1=2.0), "y", ["x1"], w, n_draws=0)
