"""Recovery of the known truth on the SIMULATED county panel (data/synthetic, truth.json), and our
wrapper against pyfixest and linearmodels on that panel.

Tolerance: an estimate passes if it is within 3 of its standard errors of the truth (about a
0.3% false-alarm rate per check if the estimator is unbiased), the bootstrap CI is used where the
estimator reports one.
"""
from __future__ import annotations

import numpy as np
import pytest

from analysis.regression import fe, heterogeneity, mediation, moderation, wild_bootstrap


@pytest.fixture(scope="module")
def panel():
    from analysis.datasets import load_county_panel

    p = load_county_panel()
    p = p.assign(log_rural_income=np.log(p.rural_income), log_gdp_pc=np.log(p.gdp_pc))
    # the income equation's other determinant in the DGP: financial depth with a slope that
    # changes at the development threshold (truth.json["threshold"]); b is identified only when
    # it is controlled (an omitted time-varying confounder of the mediator otherwise)
    from analysis.datasets import load_truth

    gamma = load_truth()["threshold"]["gamma"]
    p["loans_gdp_high"] = p.loans_gdp * (p.log_gdp_pc > gamma)
    et = (p.year - p.land_reform_year.astype(float)).where(p.land_reform == 1)
    for e in range(1, 8):
        p[f"lr_e{e}"] = (et == e).astype(float)
    return p


@pytest.fixture(scope="module")
def truth():
    from analysis.datasets import load_truth

    return load_truth()["land_reform"]


def test_wrapper_vs_pyfixest_and_linearmodels_on_simulated_panel(panel):
    import pyfixest as pf
    from linearmodels.panel import PanelOLS

    r = fe("log_rural_income ~ land_reform + loans_gdp + digital_gov", panel)
    m = pf.feols("log_rural_income ~ land_reform + loans_gdp + digital_gov | county + year", panel,
                 vcov={"CRV1": "county"})
    np.testing.assert_allclose(r.params.to_numpy(), m.coef().to_numpy(), rtol=1e-9)
    np.testing.assert_allclose(r.cov.to_numpy() / r.extra["vcov_info"]["factor"],
                               m._vcov / float(np.ravel(m._ssc)[0]), rtol=1e-7)
    pdx = panel.set_index(["county", "year"])
    lm = PanelOLS(pdx.log_rural_income, pdx[["land_reform", "loans_gdp", "digital_gov"]],
                  entity_effects=True, time_effects=True).fit(cov_type="clustered", cluster_entity=True)
    np.testing.assert_allclose(r.params.to_numpy(), lm.params.to_numpy(), rtol=1e-8)
    ratio = lm.cov.to_numpy() / r.cov.to_numpy()
    np.testing.assert_allclose(ratio, ratio[0, 0], rtol=1e-6)  # same sandwich up to the factor
    assert r.nobs == len(panel) and r.n_clusters_by["county"] == panel.county.nunique() == r.n_clusters


def test_mediation_recovers_truth(panel, truth):
    r = mediation(panel, "log_rural_income", "land_reform", "land_transfer_rate",
                  controls=["loans_gdp", "loans_gdp_high"], n_draws=299, seed=20261128)
    t = r.table().set_index("path")
    tm = truth["mediation"]
    for path, key in [("a", "a"), ("b", "b"), ("direct", "direct"), ("indirect", "indirect")]:
        est, se = t.loc[path, "estimate"], t.loc[path, "std_error"]
        assert abs(est - tm[key]) <= 3 * se, (path, est, tm[key], se)
        assert t.loc[path, "boot_ci_low"] - 1.0 * se <= tm[key] <= t.loc[path, "boot_ci_high"] + 1.0 * se


def test_heterogeneity_by_region_recovers_truth(panel, truth):
    r = heterogeneity("log_rural_income ~ land_reform", panel, by="region")
    for g, fit in r.groups.items():
        assert abs(fit.params["land_reform"] - truth["heterogeneity"][g]) <= 3 * fit.std_errors["land_reform"], g


def test_moderation_recovers_truth_with_event_time_controls(panel, truth):
    ctr = [f"lr_e{e}" for e in range(1, 8)]
    r = moderation(panel, "log_rural_income", "land_reform", "digital_gov", controls=ctr)
    per10 = 10 * r.interaction
    assert abs(per10 - truth["moderation"]["per_10_points"]) <= 3 * 10 * r.interaction_se


def test_wild_bootstrap_on_simulated_panel(panel):
    r = wild_bootstrap("log_rural_income ~ land_reform + loans_gdp", panel, "land_reform", n_draws=999, seed=1)
    assert r.n_clusters == panel.county.nunique() and r.p_value < 0.01


def test_hausman_on_simulated_panel_rejects_re_and_handles_negative_chi2(panel):
    """County effects are correlated with the regressors in the DGP: every valid test rejects RE.
    When the classic statistic is negative the sigmamore row (Stata) is added and is valid."""
    from analysis.regression import hausman

    r = hausman("log_rural_income ~ land_reform + digital_gov + loans_gdp + loans_gdp_high", panel,
                time_effects=True)
    t = r.tests.set_index("method")
    robust = t.filter(like="robust", axis=0).iloc[0]
    assert robust.p_value < 0.01
    classic = t.iloc[0]
    if classic.statistic < 0 or classic.df == 0:
        assert "not valid" in classic.decision
        sm = t.filter(like="sigmamore", axis=0).iloc[0]
        assert sm.statistic >= 0 and sm.df >= 1
    else:
        assert classic.p_value < 0.01
