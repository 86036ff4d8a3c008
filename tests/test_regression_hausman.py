"""Hausman FE vs RE: Grunfeld against plm (phtest, within, random), robust and Mundlak variants
against independent statsmodels computations."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from test_regression_fe import half_unit

from analysis.errors import SpecificationError
from analysis.regression import hausman

REF = Path(__file__).parent / "reference" / "regression"


@pytest.fixture(scope="module")
def grunfeld():
    from analysis.datasets import load_reference

    return load_reference("grunfeld")


@pytest.fixture(scope="module")
def grunfeld_result(grunfeld):
    return hausman("inv ~ value + capital", grunfeld, entity="firm", method=("classic", "robust", "mundlak"))


def test_classic_matches_plm_phtest(grunfeld_result):
    ref = pd.read_csv(REF / "grunfeld_hausman_plm.csv", dtype={"statistic": str, "p_value": str}).iloc[0]
    row = grunfeld_result.tests.iloc[0]
    assert abs(row.statistic - float(ref.statistic)) <= half_unit(ref.statistic)
    assert abs(row.p_value - float(ref.p_value)) <= half_unit(ref.p_value)
    assert row.df == ref.df


def test_within_and_random_effects_match_plm(grunfeld_result):
    ref = pd.read_csv(REF / "grunfeld_plm.csv", dtype={"estimate": str, "std_error": str})
    coef = grunfeld_result.coefficients
    for r in ref.query("model in ['within', 'random']").itertuples():
        col = "FE" if r.model == "within" else "RE"
        assert abs(coef.loc[r.term, col] - float(r.estimate)) <= half_unit(r.estimate), (r.term, col)
        assert abs(coef.loc[r.term, f"{col}_se"] - float(r.std_error)) <= half_unit(r.std_error), (r.term, col)


def _robust_wald_by_hand(data: pd.DataFrame) -> float:
    """xtoverid-style statistic recomputed with statsmodels: the RE quasi-demeaned regression (constant
    1 - theta_i) plus the within deviations, cluster-robust Wald of the deviations without a
    small-sample factor."""
    import statsmodels.api as sm
    from linearmodels.panel import RandomEffects

    g = data.set_index(["firm", "year"])
    re = RandomEffects(g.inv, sm.add_constant(g[["value", "capital"]])).fit()
    th = re.theta.reindex(g.index.get_level_values(0)).to_numpy().ravel()
    m = g.groupby(level=0).transform("mean")
    Z = pd.DataFrame({
        "c": 1 - th,
        "v": g.value - th * m.value, "k": g.capital - th * m.capital,
        "dv": g.value - m.value, "dk": g.capital - m.capital,
    })
    ys = g.inv - th * m.inv
    ols = sm.OLS(ys.to_numpy(), Z.to_numpy()).fit(
        cov_type="cluster", cov_kwds={"groups": g.index.get_level_values(0).to_numpy(), "use_correction": False})
    b = ols.params[3:]
    V = ols.cov_params()[3:, 3:]
    return float(b @ np.linalg.solve(V, b))


def test_robust_auxiliary_regression_by_hand(grunfeld, grunfeld_result):
    """xtoverid-style: quasi-demeaned regression plus within deviations, cluster-robust Wald (no
    small-sample factor), recomputed with statsmodels."""
    row = grunfeld_result.tests.set_index("method").filter(like="robust", axis=0).iloc[0]
    assert row.statistic == pytest.approx(_robust_wald_by_hand(grunfeld), rel=1e-8)
    assert row.df == 2


def test_robust_auxiliary_regression_by_hand_on_an_unbalanced_panel(grunfeld):
    """On an unbalanced panel theta_i differs between firms, so the quasi-demeaned constant 1 - theta_i
    is not a multiple of a constant column: its sign and form matter (a constant 1 + theta_i gives
    another statistic). Firms 9 and 10 keep 1935-1950 and 1935-1942."""
    d = grunfeld[~(((grunfeld.firm == 9) & (grunfeld.year > 1950)) | ((grunfeld.firm == 10) & (grunfeld.year > 1942)))]
    res = hausman("inv ~ value + capital", d, entity="firm", method="robust")
    assert res.statistic == pytest.approx(_robust_wald_by_hand(d), rel=1e-8)


def test_mundlak_coefficients_equal_within(grunfeld):
    """In a balanced panel the Mundlak regression reproduces the within slopes exactly."""
    from analysis.regression import fe

    g = grunfeld.assign(vbar=grunfeld.groupby("firm").value.transform("mean"),
                        kbar=grunfeld.groupby("firm").capital.transform("mean"))
    m = fe("inv ~ value + capital + vbar + kbar", g, entity="firm", fe=None, cluster="firm")
    w = fe("inv ~ value + capital", g, entity="firm", fe="firm", cluster="firm")
    np.testing.assert_allclose(m.params[["value", "capital"]], w.params, rtol=1e-9)
    res = hausman("inv ~ value + capital", g, entity="firm", method="mundlak")
    assert res.tests.iloc[0].statistic == pytest.approx(m.wald(["vbar", "kbar"])["F"], rel=1e-9)


def test_time_effects_and_errors(grunfeld):
    r = hausman("inv ~ value + capital", grunfeld, entity="firm", time_effects=True)
    assert "year dummies" in r.settings["time_effects"] and len(r.tests) == 2
    with pytest.raises(SpecificationError):
        hausman("inv ~ value | firm", grunfeld, entity="firm")
    with pytest.raises(SpecificationError):
        hausman("inv ~ value", grunfeld, entity="firm", method="sargan")


def test_classic_row_flags_non_psd_difference():
    from analysis.regression.hausman import _classic_row

    d = pd.Series([0.1, -0.2], index=["a", "b"])
    Vd = pd.DataFrame(-np.eye(2) * 0.01, index=d.index, columns=d.index)
    row = _classic_row(d, Vd, ["a", "b"], 0.05, "classic")
    assert not row["valid"] and "not valid" in row["decision"] and np.isnan(row["p_value"])
    row = _classic_row(d, -Vd, ["a", "b"], 0.05, "classic")
    assert row["valid"] and row["statistic"] == pytest.approx((0.01 + 0.04) / 0.01)


def test_one_period_firms_stay_in_both_models_as_in_xtreg_and_plm(grunfeld):
    """Stata's ``xtreg, fe`` / ``xtreg, re`` and plm keep an entity seen once: it adds nothing to the
    within estimate but enters the random-effects GLS, so the Hausman statistic depends on it. Firm 10
    is cut to one year and firm 9 to 1935-1950 (unbalanced); every row is used and the RE estimates are
    linearmodels' RandomEffects (= plm 'random') on all 177 rows, not on the 176 without the singleton."""
    from linearmodels.panel import PanelOLS, RandomEffects

    d = grunfeld[(grunfeld.firm != 10) | (grunfeld.year == 1935)]
    d = d[~((d.firm == 9) & (d.year > 1950))].reset_index(drop=True)
    assert len(d) == 177
    res = hausman("inv ~ value + capital", d, entity="firm", method="classic")
    assert res.rows.n_used == 177 and res.rows.n_dropped == 0
    p = d.set_index(["firm", "year"])
    x = p[["value", "capital"]]
    fe = PanelOLS(p["inv"], x, entity_effects=True).fit(cov_type="unadjusted")
    re = RandomEffects(p["inv"], x.assign(const=1.0)).fit(cov_type="unadjusted")
    coef = res.coefficients
    np.testing.assert_allclose(coef.loc[["value", "capital"], "FE"], fe.params[["value", "capital"]], rtol=1e-10)
    np.testing.assert_allclose(coef.loc[["value", "capital"], "RE"], re.params[["value", "capital"]], rtol=1e-10)
    assert coef.loc["(Intercept)", "RE"] == pytest.approx(re.params["const"], rel=1e-10)
    diff = (fe.params - re.params)[["value", "capital"]].to_numpy()
    v = (fe.cov - re.cov.loc[["value", "capital"], ["value", "capital"]]).to_numpy()
    assert res.statistic == pytest.approx(float(diff @ np.linalg.solve(v, diff)), rel=1e-8)
