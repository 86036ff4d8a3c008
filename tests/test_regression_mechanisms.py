"""Mediation, moderation and heterogeneity: exact identities and independent recomputations on a
small simulated panel (not the shipped one; recovery on that is in test_regression_recovery.py)."""
from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest
from scipy import stats
from test_regression_fe import small_panel

from analysis.errors import ColumnError, SpecificationError
from analysis.regression import fe, heterogeneity, mediation, moderation


def mech_panel(n=80, T=8, seed=0):
    d = small_panel(n=n, T=T, seed=seed)
    rng = np.random.default_rng(seed + 100)
    treated = np.repeat(rng.random(n) < 0.3, T)
    start = np.repeat(rng.integers(2012, 2016, n), T)
    d["policy"] = (treated & (d.year >= start)).astype(int)
    d["med"] = 2.0 * d.policy + 0.5 * d.x1 + rng.normal(size=len(d))
    d["out"] = 0.3 * d.policy + 0.2 * d.med + 0.4 * d.x1 + np.repeat(rng.normal(size=n), T) + rng.normal(size=len(d))
    d["z"] = rng.uniform(0, 100, len(d))
    d["out2"] = (0.5 + 0.01 * (d.z - 50)) * d.policy + 0.3 * d.x1 + rng.normal(size=len(d))
    d["region"] = np.repeat(np.array(["east", "west", "central"])[np.arange(n) % 3], T)
    return d


# --------------------------------------------------------------------------- mediation
def test_mediation_identity_sobel_and_rows():
    d = mech_panel()
    d.loc[[4, 9], "med"] = np.nan
    r = mediation(d, "out", "policy", "med", controls=["x1"], n_draws=0)
    p = r.params
    assert p["total"] == pytest.approx(p["direct"] + p["indirect"], abs=1e-12)
    se = np.sqrt(p["b"] ** 2 * r.std_errors["a"] ** 2 + p["a"] ** 2 * r.std_errors["b"] ** 2)
    assert r.std_errors["indirect"] == pytest.approx(se, rel=1e-12)
    assert r.sobel["p_value"] == pytest.approx(2 * stats.norm.sf(abs(p["indirect"] / se)))
    assert r.rows.dropped["missing med"] == 2
    for eq in r.equations.values():
        assert eq.nobs == len(d) - 2
    a = fe("med ~ policy + x1", d.dropna(subset=["med"]))
    assert p["a"] == pytest.approx(a.params["policy"], rel=1e-12)
    assert "b path" in r.settings["note"]


def test_mediation_bootstrap_equals_resampled_refits():
    """The vectorised draws equal re-estimating on the resampled panel, each copy of a county its
    own unit (Stata bootstrap, cluster(county) idcluster(newid))."""
    d = mech_panel(n=40, T=6, seed=3)
    B, seed = 6, 7
    r = mediation(d, "out", "policy", "med", controls=["x1"], n_draws=B, seed=seed)
    counties = pd.Index(sorted(d.county.unique()))
    K = np.random.default_rng(seed).multinomial(len(counties), np.full(len(counties), 1 / len(counties)), size=B)
    for b in range(B):
        parts = []
        for gi, k in enumerate(K[b]):
            for copy in range(k):
                part = d[d.county == counties[gi]].assign(county=f"{counties[gi]}_{copy}")
                parts.append(part)
        rs = pd.concat(parts, ignore_index=True)
        ea = fe("med ~ policy + x1", rs)
        eb = fe("out ~ policy + med + x1", rs)
        et = fe("out ~ policy + x1", rs)
        assert r.boot.loc[b, "a"] == pytest.approx(ea.params["policy"], rel=1e-8)
        assert r.boot.loc[b, "b"] == pytest.approx(eb.params["med"], rel=1e-8)
        assert r.boot.loc[b, "direct"] == pytest.approx(eb.params["policy"], rel=1e-8)
        assert r.boot.loc[b, "total"] == pytest.approx(et.params["policy"], rel=1e-8)


def test_mediation_seed_and_table():
    d = mech_panel(n=60, T=6, seed=4)
    a = mediation(d, "np.log(np.abs(out) + 1)", "policy", "med", n_draws=99, seed=1)
    b = mediation(d, "np.log(np.abs(out) + 1)", "policy", "med", n_draws=99, seed=1)
    pd.testing.assert_frame_equal(a.table(), b.table())
    t = a.table()
    assert {"path", "boot_ci_low", "boot_ci_high"} <= set(t.columns)
    row = t.set_index("path").loc["indirect"]
    assert row.boot_ci_low <= row.estimate <= row.boot_ci_high
    with pytest.raises(SpecificationError):
        mediation(d, "nosuchcol + 1", "policy", "med")


# --------------------------------------------------------------------------- moderation
def test_moderation_marginal_effect_equals_recentred_fit():
    """ME(z0) and its delta-method SE equal b1 and its SE when the moderator is centred at z0."""
    d = mech_panel(seed=5)
    r = moderation(d, "out2", "policy", "z", controls=["x1"], at=[20.0, 50.0, 80.0])
    for z0 in (20.0, 80.0):
        dd = d.assign(pc=d.policy - r.centres["policy"], zc=d.z - z0)
        f = fe("out2 ~ pc + zc + pc:zc + x1", dd)
        me = r.marginal_effects.set_index("moderator").loc[z0]
        assert me.effect == pytest.approx(f.params["pc"], rel=1e-9)
        assert me.std_error == pytest.approx(f.std_errors["pc"], rel=1e-9)
    assert r.interaction == pytest.approx(0.01, abs=4 * r.interaction_se)
    at_mean = r.effect_at(r.centres["z"])
    assert at_mean["effect"] == pytest.approx(r.fit.params["policy_c"], rel=1e-12)


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_moderation_plot(lang):
    d = mech_panel(seed=6)
    r = moderation(d, "out2", "policy", "z", grid=20)
    fig = r.plot(lang=lang)  # the set-up installs a CJK font; its absence is a failure
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(r.marginal_effects) == 20
    with pytest.raises(ColumnError):
        moderation(d, "out2", "policy", "nosuch")


# --------------------------------------------------------------------------- heterogeneity
def test_heterogeneity_interacted_equals_subgroups_and_tests():
    d = mech_panel(n=90, seed=7)
    r = heterogeneity("out ~ policy + x1", d, by="region", terms=["policy", "x1"], test="both")
    for g, fit in r.groups.items():
        for x in ("policy", "x1"):
            assert r.interacted.params[f"{x}__{g}"] == pytest.approx(fit.params[x], rel=1e-9)
    assert r.interacted.fixed_effects == ("county", "year^region")
    # suest by hand for one term
    levels = list(r.groups)
    b = np.array([r.groups[g].params["policy"] for g in levels])
    v = np.array([r.groups[g].std_errors["policy"] ** 2 for g in levels])
    R = np.array([[-1, 1, 0], [-1, 0, 1]], dtype=float)
    W = float((R @ b) @ np.linalg.solve(R @ np.diag(v) @ R.T, R @ b))
    t = r.tests.set_index(["method", "term"])
    assert t.loc[("suest (block-diagonal Wald chi2)", "policy"), "statistic"] == pytest.approx(W, rel=1e-10)
    # interaction test by hand from the pooled covariance
    names = list(r.interacted.params.index)
    Rf = np.zeros((2, len(names)))
    idx = [names.index(f"policy__{g}") for g in levels]
    Rf[0, idx[0]], Rf[0, idx[1]] = -1, 1
    Rf[1, idx[0]], Rf[1, idx[2]] = -1, 1
    bb = r.interacted.params.to_numpy()
    F = float((Rf @ bb) @ np.linalg.solve(Rf @ r.interacted.cov.to_numpy() @ Rf.T, Rf @ bb)) / 2
    assert t.loc[("interaction (clustered Wald F)", "policy"), "statistic"] == pytest.approx(F, rel=1e-10)
    assert ("interaction (clustered Wald F)", "(joint)") in t.index
    assert set(r.estimates.group) == set(levels)


def test_heterogeneity_errors_and_small_groups():
    d = mech_panel(n=30, seed=8)
    with pytest.raises(ColumnError):
        heterogeneity("out ~ policy", d, by="nosuch")
    with pytest.raises(SpecificationError):
        heterogeneity("out ~ np.log(z)", d, by="region")
    with pytest.raises(SpecificationError):
        heterogeneity("out ~ policy", d.assign(region="one"), by="region")
    d2 = d.copy()
    d2.loc[:5, "region"] = "tiny"
    r = heterogeneity("out ~ policy", d2, by="region", min_group_size=30)
    assert "tiny" in r.settings["groups_left_out"]


def test_mediation_indirect_uses_sobel_normal_inference():
    d = mech_panel(seed=11)
    r = mediation(d, "out", "policy", "med", n_draws=0)
    t = r.to_frame().set_index("term")
    assert t.loc["indirect", "p_value"] == pytest.approx(r.sobel["p_value"], rel=1e-12)
    half = stats.norm.ppf(0.975) * r.sobel["std_error"]
    assert t.loc["indirect", "ci_high"] - t.loc["indirect", "estimate"] == pytest.approx(half, rel=1e-12)
    assert t.loc["a", "p_value"] == pytest.approx(r.equations["a"].pvalues["policy"], rel=1e-12)


def test_mediation_slow_bootstrap_path_agrees_with_fast(monkeypatch):
    """Both bootstrap paths compute the same estimator: force the fallback and compare draw by
    draw on the same multiplicities."""
    import sys

    med_mod = sys.modules["analysis.regression.mediation"]  # the package re-exports the function
    d = mech_panel(n=40, T=6, seed=12)
    fast = mediation(d, "out", "policy", "med", controls=["x1"], n_draws=5, seed=3)
    # the vectorised path declines (returns None, before drawing) above max_levels non-nested FE levels:
    # 5 year dummies > 0. Replace it by a function that declines, so that mediation() takes the fallback
    # (patching the module attribute, not __defaults__, also works under mutmut's trampolines)
    fe_codes = [pd.factorize(d[c], sort=True)[0] for c in ("county", "year")]
    assert med_mod._fast_boot(d, "out", "policy", "med", ["x1"], fe_codes, "county", 5,
                              np.random.default_rng(3), max_levels=0) is None
    monkeypatch.setattr(med_mod, "_fast_boot", lambda *args, **kwargs: None)
    slow = mediation(d, "out", "policy", "med", controls=["x1"], n_draws=5, seed=3)
    assert "weighted demeaning" in slow.settings["bootstrap"]
    np.testing.assert_allclose(slow.boot.to_numpy(), fast.boot.to_numpy(), rtol=1e-7)
