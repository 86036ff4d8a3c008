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
