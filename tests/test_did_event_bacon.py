"""Event study and Goodman-Bacon decomposition: published numbers, pyfixest, identities, errors."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from _did_synth import staggered_panel

from analysis.datasets import load_reference
from analysis.did import EventStudyResult, bacon_decomposition, event_study
from analysis.errors import TreatmentTimingError, UnbalancedPanelError

REF = Path(__file__).parent / "reference" / "did"


def castle() -> pd.DataFrame:
    """Castle-doctrine panel with bacondecomp's `post` (law in effect; see reference/did/README.md)."""
    d = load_reference("castle")[["sid", "year", "l_homicide", "post"]].copy()
    first_post = d.loc[d["post"] == 1].groupby("sid")["year"].min()
    d["adoption"] = d["sid"].map(first_post - 1)
    d["post_effective"] = ((d["year"] >= d["adoption"]) & d["adoption"].notna()).astype(int)
    return d


def pyfixest_fit(fml, data, cluster):
    """pyfixest coefficients and CRV1 SEs with reghdfe's factor (see reference/did/README.md)."""
    import pyfixest as pf

    m = pf.feols(fml, data, vcov={"CRV1": cluster}, ssc=pf.ssc(k_adj=False, G_adj=False), fixef_tol=1e-12)
    n, G = m._N, data[cluster].nunique()
    K = len(m.coef()) + data["year"].nunique() - 1  # reghdfe: regressors + year FE parameters (T - 1)
    return m.coef().to_numpy(), m.se().to_numpy() * np.sqrt(G / (G - 1) * (n - 1) / (n - K))


# --------------------------------------------------------------------------------------------
# Goodman-Bacon
# --------------------------------------------------------------------------------------------
def test_bacon_reproduces_bacondecomp_castle():
    ref = pd.read_csv(REF / "bacon_castle.csv")
    assert ref["source"].str.len().gt(0).all()
    res = bacon_decomposition(castle(), "l_homicide", "post_effective", entity="sid")
    by = res.by_type().set_index("type")
    worst = 0.0
    for row in ref.itertuples():
        if row.quantity in ("weight", "avg_est"):
            ours = by.loc[row.type, row.quantity]
        elif row.quantity == "weighted_sum":
            ours = res.weighted_sum()
        else:
            ours = res.twfe
        assert round(ours, int(row.decimals)) == pytest.approx(row.value, abs=1e-12), (row.quantity, row.type, ours)
        worst = max(worst, abs(ours - row.value))
    assert worst < 5e-5  # printed precision (half a unit in the 5th decimal)


def test_bacon_identity_and_pyfixest_castle():
    d = castle()
    res = bacon_decomposition(d, "l_homicide", "post_effective", entity="sid")
    dec = res.decomposition
    assert dec["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    assert abs(res.weighted_sum() - res.twfe) < 1e-10
    b, se = pyfixest_fit("l_homicide ~ post_effective | sid + year", d, "sid")
    assert abs(res.twfe - b[0]) < 1e-10
    assert abs(res.std_errors.iloc[0] - se[0]) < 1e-10
    assert set(dec["type"]) == {"Treated vs Untreated", "Earlier vs Later Treated", "Later vs Earlier Treated"}
    assert len(dec) == 5 + 2 * 10  # 5 cohorts vs never, 10 timing pairs in both directions


def test_bacon_always_treated_cohort():
    d = staggered_panel(n_units=60, seed=4)
    first = d["year"].min()
    always = d["county"].unique()[:5]
    d.loc[d["county"].isin(always), "adoption"] = first
    d["treat"] = ((d["year"] >= d["adoption"]) & d["adoption"].notna()).astype(int)
    res = bacon_decomposition(d, "y", "treat")
    assert "Later vs Always Treated" in set(res.decomposition["type"])
    assert res.decomposition["weight"].sum() == pytest.approx(1.0, abs=1e-12)
    assert abs(res.weighted_sum() - res.twfe) < 1e-10
    b, _ = pyfixest_fit("y ~ treat | county + year", d, "county")
    assert abs(res.twfe - b[0]) < 1e-10


def test_bacon_errors():
    d = staggered_panel(n_units=40, seed=5)
    with pytest.raises(UnbalancedPanelError, match="unbalanced"):
        bacon_decomposition(d.drop(index=[3, 50]), "y", "treat")
    d2 = d.copy()
    d2.loc[7, "y"] = np.nan
    with pytest.raises(UnbalancedPanelError, match="missing"):
        bacon_decomposition(d2, "y", "treat")
    d3 = d.copy()
    treated = d3.loc[d3["treat"] == 1, "county"].iloc[0]
    last = d3.loc[d3["county"] == treated, "year"].max()
    d3.loc[(d3["county"] == treated) & (d3["year"] == last), "treat"] = 0
    with pytest.raises(TreatmentTimingError, match="switches off"):
        bacon_decomposition(d3, "y", "treat")


def test_bacon_plot_and_summary():
    res = bacon_decomposition(castle(), "l_homicide", "post_effective", entity="sid")
    for lang in ("en", "zh"):
        fig = res.plot(lang=lang)
        assert fig.axes and len(fig.axes[0].collections) == 3
    assert "Treated vs Untreated" in res.summary()
    assert res.rows.n_used == 550 and res.rows.n_dropped == 0


# --------------------------------------------------------------------------------------------
# event study
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("leads,lags", [(5, 4), (3, 2)])
def test_event_study_matches_pyfixest_binned(leads, lags):
    d = castle()
    res = event_study(d, "l_homicide", "adoption", entity="sid", cluster="sid", leads=leads, lags=lags)
    d["rel"] = (d["year"] - d["adoption"]).clip(-leads, lags).fillna(-1).astype(int)
    b, se = pyfixest_fit("l_homicide ~ i(rel, ref=-1) | sid + year", d, "sid")
    assert np.max(np.abs(res.params.to_numpy() - b)) < 1e-10
    assert np.max(np.abs(res.std_errors.to_numpy() - se)) < 1e-10
    assert list(res.event_time["event_time"]) == [k for k in range(-leads, lags + 1) if k != -1]


def test_event_study_controls_unbinned_matches_pyfixest():
    d = staggered_panel(n_units=150, seed=7)
    d.loc[[4, 99, 200], "x2"] = np.nan
    res = event_study(d, "y", "adoption", leads=3, lags=3, bin_endpoints=False, controls=["x1", "x2"])
    rel = d["year"] - d["adoption"]
    keep = d["x2"].notna() & ~(rel.notna() & ((rel < -3) | (rel > 3)))
    assert res.rows.dropped == {"missing x2": 3,
                                "treated rows outside the event window (bin_endpoints=False)": int((d["x2"].notna() & ~keep).sum())}
    dd = d.loc[keep].copy()
    dd["rel"] = (dd["year"] - dd["adoption"]).fillna(-1).astype(int)
    b, se = pyfixest_fit("y ~ i(rel, ref=-1) + x1 + x2 | county + year", dd, "county")
    ours = np.r_[res.params.to_numpy(), res.extra["controls"].to_numpy()]
    ours_se = np.r_[res.std_errors.to_numpy(), res.extra["controls_se"]]
    assert np.max(np.abs(ours - b)) < 1e-10
    assert np.max(np.abs(ours_se - se)) < 1e-10


def test_event_study_pretrend_wald_and_recovery():
    d = staggered_panel(n_units=400, seed=11, effect=0.5)
    res = event_study(d, "y", "adoption", leads=4, lags=4)
    pre = res.event_time[res.event_time["event_time"] < -1]
    b = pre["estimate"].to_numpy()
    V = res.event_vcov.loc[pre["event_time"], pre["event_time"]].to_numpy()
    assert res.pretrend["stat"] == pytest.approx(float(b @ np.linalg.solve(V, b)), rel=1e-10)
    assert res.pretrend["df"] == 3
    post = res.event_time[res.event_time["event_time"] >= 0]
    assert np.all(np.abs(post["estimate"] - 0.5) < 4 * post["std_error"])  # truth 0.5 inside 4 SE
    assert isinstance(res, EventStudyResult)
    tab = res.event_table()
    assert (tab.loc[tab["event_time"] == -1, "estimate"] == 0).all()
    fig = res.plot(lang="zh", truth={k: 0.5 for k in range(0, 5)})
    assert fig.axes


def test_event_study_errors():
    d = staggered_panel(n_units=50, seed=2)
    bad = d.copy()
    c = bad.loc[bad["adoption"].notna(), "county"].iloc[0]
    bad.loc[(bad["county"] == c) & (bad["year"] == 2012), "adoption"] = np.nan
    with pytest.raises(TreatmentTimingError, match="missing on some rows"):
        event_study(bad, "y", "adoption")
    early = d.copy()
    early.loc[early["county"] == c, "adoption"] = early["year"].min()
    with pytest.raises(TreatmentTimingError, match="no pre-treatment period"):
        event_study(early, "y", "adoption")
    allt = d.copy()
    allt["adoption"] = allt["adoption"].fillna(2019)
    with pytest.raises(TreatmentTimingError, match="never-treated"):
        event_study(allt, "y", "adoption")


def test_event_study_equals_project_fe_wrapper():
    """Same dummies through analysis.regression.fe (pyfixest + reghdfe vcov): identical numbers."""
    from analysis.did.event_study import event_time_dummies
    from analysis.regression import fe

    d = staggered_panel(n_units=200, seed=21)
    for cluster in ("county", "province"):
        res = event_study(d, "y", "adoption", leads=4, lags=3, controls=["x1"], cluster=cluster)
        dummies, ks, _ = event_time_dummies(d["year"] - d["adoption"], 4, 3)
        names = [f"e{k + 10}" for k in ks]
        frame = pd.concat([d, dummies.set_axis(names, axis=1)], axis=1)
        ref = fe("y ~ " + " + ".join(names + ["x1"]), frame, cluster=cluster)
        assert np.max(np.abs(res.params.to_numpy() - ref.params[names].to_numpy())) < 1e-12
        assert np.max(np.abs(res.std_errors.to_numpy() - ref.std_errors[names].to_numpy())) < 1e-12
        assert res.df_resid == ref.df_resid


# ---- issue 15: static TWFE rows and options, the shared regression's rank check, Wald df -----
def test_static_twfe_reports_dropped_rows_and_matches_fe():
    from analysis.did import static_twfe
    from analysis.regression import fe

    df = staggered_panel(n_units=80, years=range(2010, 2018), cohorts=(2013, 2015), seed=3)
    df.loc[df.index[[3, 50, 51]], "y"] = np.nan
    r = static_twfe(df, "y", "adoption")
    assert r.rows.n_used == len(df) - 3 and r.rows.dropped == {"missing y": 3}
    # independent computation: fe() (pyfixest point estimates, reghdfe CRV1) on D = treat
    ref = fe("y ~ treat", df.dropna(subset=["y"]))
    assert r["estimate"] == pytest.approx(ref.params["treat"], abs=1e-10)  # same OLS: rounding only
    assert r["se"] == pytest.approx(ref.std_errors["treat"], rel=1e-8)
    assert list(r.to_frame()["term"]) == ["did"]
    # cluster= and controls= are used
    rp = static_twfe(df, "y", "adoption", cluster="province", controls=["x1"])
    ref_p = fe("y ~ treat + x1", df.dropna(subset=["y"]), cluster="province")
    assert rp["se"] == pytest.approx(ref_p.std_errors["treat"], rel=1e-8)


def test_run_estimators_passes_twfe_kwargs_to_static_twfe():
    from analysis.did import run_estimators, static_twfe

    df = staggered_panel(n_units=80, years=range(2010, 2018), cohorts=(2013, 2015), seed=4)
    out = run_estimators(df, "y", "adoption", which=("TWFE",), twfe_kwargs={"cluster": "province"})
    want = static_twfe(df, "y", "adoption", cluster="province")
    assert out["TWFE"].overall["se"] == pytest.approx(want["se"], rel=1e-12)
    assert out["TWFE"].overall["se"] != pytest.approx(static_twfe(df, "y", "adoption")["se"], rel=1e-3)


def test_run_estimators_imputation_has_three_leads_by_default_and_imp_kwargs_override_them():
    from analysis.did import imputation, run_estimators

    df = staggered_panel(n_units=80, years=range(2010, 2018), cohorts=(2013, 2015), seed=6)
    out = run_estimators(df, "y", "adoption", which=("Imputation",))["Imputation"]
    want = imputation(df, "y", "adoption", pretrends=3)
    assert out.settings["pretrends"] == 3
    pd.testing.assert_frame_equal(out.to_frame(), want.to_frame())
    assert [t for t in out.to_frame()["term"] if t.startswith("event_time=-")] == [
        "event_time=-3", "event_time=-2", "event_time=-1"]
    none = run_estimators(df, "y", "adoption", which=("Imputation",), imp_kwargs={"pretrends": 0})["Imputation"]
    assert not any(t.startswith("event_time=-") for t in none.to_frame()["term"])


def test_shared_regression_drops_collinear_columns_and_keeps_the_rest_exact():
    from analysis.demean import FixedEffects
    from analysis.did._common import fe_ols
    from analysis.regression.fe import CollinearityWarning

    df = staggered_panel(n_units=60, years=range(2010, 2018), cohorts=(2013, 2015), seed=5)
    fx = FixedEffects(df[["county", "year"]])
    size = df["county"].str[-2:].astype(float).to_numpy()  # constant within county
    X = np.column_stack([df["treat"], df["x1"], size, 2 * df["x1"]])
    with pytest.warns(CollinearityWarning, match="size .*constant within.*x1x2 .*collinear with treat, x1"):
        fit = fe_ols(df["y"].to_numpy(), X, ["treat", "x1", "size", "x1x2"], fx, df["county"].to_numpy())
    ref = fe_ols(df["y"].to_numpy(), X[:, :2], ["treat", "x1"], fx, df["county"].to_numpy())
    assert set(fit.dropped) == {"size", "x1x2"}
    assert np.isnan(fit.params["size"]) and np.isnan(fit.params["x1x2"])
    np.testing.assert_allclose(fit.params[["treat", "x1"]], ref.params, rtol=1e-10)
    np.testing.assert_allclose(fit.cov.loc[["treat", "x1"], ["treat", "x1"]], ref.cov, rtol=1e-8)
    assert fit.k == ref.k  # dropped columns do not count in K


def test_wald_df_is_the_rank_of_the_tested_covariance():
    from analysis.did._common import wald_test

    b = np.array([1.0, 2.0, np.nan])
    V = np.array([[1.0, 1.0, np.nan], [1.0, 1.0, np.nan], [np.nan, np.nan, np.nan]])  # rank 1, one dropped
    out = wald_test(b, V, df_denom=30)
    assert out["df"] == 1
    # pinv of [[1,1],[1,1]] is [[.25,.25],[.25,.25]]: chi2 = .25 * (1 + 2)^2
    assert out["stat"] == pytest.approx(2.25, abs=1e-12)
    full = wald_test(np.array([1.0, 2.0]), np.eye(2), df_denom=30)
    assert full["df"] == 2 and full["stat"] == pytest.approx(5.0, abs=1e-12)


def test_collinearity_check_is_scale_free():
    """A control in yuan (1e12) next to event dummies must not make the dummies look 'constant'."""
    import warnings

    df = staggered_panel(n_units=80, years=range(2010, 2018), cohorts=(2013, 2015), seed=6)
    big = df.assign(gdp=df["x1"] * 1e12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no CollinearityWarning
        a = event_study(big, "y", "adoption", controls=["gdp"])
    b = event_study(df, "y", "adoption", controls=["x1"])
    assert "collinear_dropped" not in a.settings
    np.testing.assert_allclose(a.event_time["estimate"], b.event_time["estimate"], rtol=1e-7)
