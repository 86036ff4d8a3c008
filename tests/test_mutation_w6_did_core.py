"""Mutation-testing follow-up, wave 6 (issue 15): Callaway-Sant'Anna estimation, the BJS imputation
estimator, the treat=/adoption= wrapper and the shared DiD pieces (``analysis/did/_common.py``).

Each test pins a behaviour that a surviving mutmut mutant of the wave-6 samples changed, and the rest
of the same class in the same function (every message, every ``settings`` key, every option); the
review is in ``tests/README.md``. Expected values come from the definitions written out here (numpy),
from an independent computation, or from the documented text of a message; never from a stored run.
"""
from __future__ import annotations

import sys
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.did.callaway_santanna import callaway_santanna
from analysis.errors import (
    ColumnError,
    MissingValueError,
    NonNumericError,
    SpecificationError,
    TreatmentTimingError,
    describe_rows,
)

#: identities between two calls of the same code path hold to rounding of sums of ~2,500 terms
EPS = 1e-12


@pytest.fixture(scope="module")
def mpdta():
    from analysis.datasets import load_reference

    return load_reference("mpdta")


def _csq(d, **kw):
    return callaway_santanna(d, "lemp", "first.treat", entity="countyreal", time="year", **kw)


def _raises(exc, fn, *args, **kw) -> str:
    with pytest.raises(exc) as info:
        fn(*args, **kw)
    return str(info.value)


# ---- Callaway-Sant'Anna: every message of the input checks, settings and fields ----------------------
def test_cs_every_input_message_in_full(mpdta):
    """Each message of ``_prepare``/``callaway_santanna`` names the column, the rows and the fix (the
    whole text: a mutant that garbles any part of it is caught)."""
    assert _raises(SpecificationError, _csq, mpdta.to_numpy()) == (
        "data must be a pandas DataFrame in long format (one row per unit and period).")
    bad = mpdta.astype({"lemp": object})
    bad.loc[bad.index[4], "lemp"] = "n/a"
    assert _raises(NonNumericError, _csq, bad) == (
        "column 'lemp' has non-numeric values in row 4; convert or clean them.")
    assert _raises(MissingValueError, _csq, mpdta.iloc[:0]) == (
        "data has no rows; pass the long panel (one row per unit and period).")
    assert _raises(MissingValueError, _csq, mpdta.assign(lemp=np.nan)) == (
        f"outcome column 'lemp' is missing in every row ({describe_rows(mpdta.index)}); nothing to estimate. "
        "Check the column name and how the file was read.")
    nokey = mpdta.astype({"countyreal": float})
    nokey.loc[nokey.index[7], "countyreal"] = np.nan
    assert _raises(ColumnError, _csq, nokey) == (
        "missing 'countyreal' or 'year' in row 7; every row needs its keys.")
    vary = mpdta.copy()
    vary.loc[vary.index[0], "first.treat"] = 2006
    assert _raises(TreatmentTimingError, _csq, vary) == (
        "adoption period 'first.treat' varies within row 8001 (countyreal); it must be the unit's first "
        "treatment period, the same in every row (staggered absorbing treatment).")
    for col, kw in (("w", {"weights": "w"}), ("st", {"cluster": "st", "n_draws": 9, "seed": 1})):
        d = mpdta.assign(**{col: 1.0})
        d.loc[d.index[3], col] = np.nan
        assert _raises(MissingValueError, _csq, d, **kw) == (
            f"column {col!r} is missing in row 3; sampling weights and cluster ids must be given for every row.")
        d.loc[d.index[3], col] = 2.0
        assert _raises(SpecificationError, _csq, d, **kw) == (
            f"column {col!r} varies within row 8001; sampling weights and cluster variables must be constant "
            "within each unit.")
    neg = mpdta.assign(w=1.0)
    neg.loc[neg.index[5:10], "w"] = -2.0
    assert _raises(SpecificationError, _csq, neg, weights="w") == (
        "weights column 'w' has negative values in rows 5, 6, 7, 8, 9.")
    assert _raises(SpecificationError, _csq, mpdta, anticipation=1.5) == (
        "anticipation=1.5 must be a non-negative integer.")
    assert _raises(TreatmentTimingError, _csq, mpdta.assign(**{"first.treat": 0})) == (
        "no treated units: 'first.treat' is 0/missing for every unit.")
    assert _raises(SpecificationError, _csq, mpdta.assign(st=mpdta["countyreal"] // 1000), cluster="st") == (
        "cluster='st': clustering beyond the unit needs the multiplier bootstrap; pass n_draws=999 (or more), "
        "as R did does.")
    # clustering by the unit itself needs no bootstrap; anticipation 0 is allowed
    r = _csq(mpdta, method="reg", cluster="countyreal", anticipation=0)
    assert r.settings["cluster"] == "countyreal" and r.wald is not None
    # an integer-valued float anticipation is accepted as that integer
    assert _csq(mpdta, method="reg", anticipation=1.0).settings["anticipation"] == 1.0


def test_cs_balancing_and_no_never_treated_warnings_in_full(mpdta):
    """The balancing warning counts the units and the periods; with anticipation the last cohort's
    comparison window ends ``anticipation`` periods earlier (R did), and the count of dropped rows follows."""
    d = mpdta.drop(index=mpdta.index[[1, 7, 8]])  # rows of two units (8001: 1 row, 8019: 2 rows)
    with pytest.warns(UserWarning) as rec:
        r = _csq(d, method="reg")
    msgs = [str(w.message) for w in rec]
    assert ("dropped 2 units not observed in all 5 periods (balanced panel required, as R did with "
            "allow_unbalanced_panel = FALSE).") in msgs
    assert r.rows.dropped == {"unit not observed in every period (balancing)": 4 + 3}
    assert r.rows.n_input == len(d) and r.rows.n_used == len(d) - 7 and r.stats["N_units"] == 498
    nv = mpdta[mpdta["first.treat"] > 0]
    with pytest.warns(UserWarning) as rec:
        r1 = _csq(nv, method="reg", anticipation=1)
    msgs = [str(w.message) for w in rec]
    assert ("no never-treated units: the last cohort (2007) serves as the comparison group and periods from "
            "2006 on are dropped (as R did).") in msgs
    assert r1.rows.dropped["period at or after the last cohort's adoption (no never-treated units)"] == int(
        (nv.loc[nv["first.treat"] > 2004, "year"] >= 2006).sum())
    assert r1.att_gt["time"].max() == 2005


def test_cs_settings_stats_and_fields_name_every_option(mpdta):
    """Every settings key and result field against the options given (bootstrap, clustered, weighted,
    not-yet-treated, ipw, universal base, no uniform band) and against the defaults."""
    d = mpdta.assign(w=1.0 + (mpdta["countyreal"] % 3), st=mpdta["countyreal"] // 1000)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = _csq(d, controls=["lpop"], control="notyet", method="ipw", base_period="universal", weights="w",
                 cluster="st", n_draws=49, seed=5, alpha=0.10, cband=False)
    assert r.settings == {
        "control": "notyet", "method": "ipw", "base_period": "universal", "anticipation": 0, "controls": ["lpop"],
        "weights": "w", "cluster": "st", "n_draws": 49, "seed": 5, "cband": False,
        "se": "multiplier bootstrap (Mammen)", "panel": "balanced (units not observed in every period dropped)"}
    assert r.stats == {"N_units": 500, "N_periods": 5, "N_cohorts": 3}  # no analytic Wald with clusters
    assert r.wald is None and r.vcov_type == "bootstrap" and r.cluster == ("st",) and r.seed == 5
    assert r.statistic_name == "z" and r.model == "Callaway-Sant'Anna ATT(g,t)" and r.outcome == "lemp"
    assert r.alpha == 0.10 and r.reference.startswith("Callaway and Sant'Anna (2021, J. Econometrics 225(2))")
    # no uniform band: the band is the pointwise interval, z_{1 - alpha/2}
    z = stats.norm.ppf(0.95)
    assert r.crit_val == pytest.approx(z, rel=EPS)
    t = r.att_gt
    np.testing.assert_allclose(t["band_high"], t["att"] + z * t["std_error"], rtol=EPS)
    np.testing.assert_allclose(t["ci_low"], t["att"] - z * t["std_error"], rtol=EPS)
    # unit arrays: sorted units, weights normalised to mean 1, cluster codes in order of first appearance
    per_unit = d.groupby("countyreal").first()
    np.testing.assert_array_equal(r.units, per_unit.index.to_numpy())
    np.testing.assert_allclose(r.unit_weight, per_unit["w"] / per_unit["w"].mean(), rtol=EPS)
    np.testing.assert_array_equal(r.cluster_codes, pd.factorize(per_unit["st"])[0])
    np.testing.assert_array_equal(r.unit_group, per_unit["first.treat"].replace(0, np.inf).to_numpy(float))
    # defaults; a Generator seed is recorded as "Generator" and not as the result's seed
    g = _csq(mpdta, seed=np.random.default_rng(1))
    assert g.settings == {
        "control": "never", "method": "dr", "base_period": "varying", "anticipation": 0, "controls": [],
        "weights": None, "cluster": "countyreal", "n_draws": 0, "seed": "Generator", "cband": True,
        "se": "analytic influence function", "panel": "balanced (units not observed in every period dropped)"}
    assert g.seed is None and g.vcov_type == "cluster" and g.cluster == ("countyreal",) and g.alpha == 0.05
    assert g.cluster_codes is None and np.all(g.unit_weight == 1.0)
    assert g.crit_val == pytest.approx(stats.norm.ppf(0.975), rel=EPS)
    assert list(g.params.index) == list(g.std_errors.index) == [
        f"ATT({a},{b})" for a, b in zip(g.att_gt["group"], g.att_gt["time"])]


def test_cs_skipped_cell_reasons_in_full(mpdta, monkeypatch):
    """Each reason a 2x2 cell with controls cannot be estimated, in the warning and in settings."""
    from analysis.did.callaway_santanna import estimation

    # overlap: a unit covariate shifted by 3 SD in cohort 2004 (overlapping tails, so the logit converges,
    # but some fitted scores reach 0.999) -- ipw and dr check it, reg does not use the score
    units = mpdta.groupby("countyreal")["first.treat"].first()
    x = np.random.default_rng(0).normal(size=len(units)) + np.where(units == 2004, 3.0, 0.0)
    sep = mpdta.assign(sep=mpdta["countyreal"].map(dict(zip(units.index, x))))
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)
        assert "skipped_cells" not in _csq(sep, controls=["sep"], method="reg").settings
    for method in ("ipw", "dr"):
        with pytest.warns(UserWarning) as rec:
            r = _csq(sep, controls=["sep"], method=method)
        reason = "overlap violated (propensity score >= 0.999)"
        assert f"ATT(2004,2004) not estimated: {reason}." in [str(w.message) for w in rec]
        assert r.settings["skipped_cells"] == [(2004.0, float(t), reason) for t in range(2004, 2008)]
    # a covariate constant among the comparison units: the outcome regression is singular (with dr the
    # logit already fails on such a covariate: quasi-separation)
    flat = mpdta.assign(x=np.where(mpdta["first.treat"] == 0, 1.0, (mpdta["countyreal"] % 5).astype(float)))
    with pytest.warns(UserWarning) as rec:
        r = _csq(flat, controls=["x"], method="reg")
    reason = "not enough control units for the outcome regression"
    assert f"ATT(2004,2004) not estimated: {reason}." in [str(w.message) for w in rec]
    assert r.settings["skipped_cells"] == [(g, t, reason) for g, t in zip(r.att_gt["group"], r.att_gt["time"])]
    assert r.att_gt["att"].isna().all()

    def singular(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(estimation, "_two_by_two", singular)
    with pytest.warns(UserWarning, match=r"^ATT\(2004,2004\) not estimated: singular design in the 2x2 "
                                         r"estimator\.$"):
        r = _csq(mpdta, controls=["lpop"], method="reg")
    assert {c[2] for c in r.settings["skipped_cells"]} == {"singular design in the 2x2 estimator"}


# ---- BJS imputation: every field of the result, every message ----------------------------------------
def _stag(n=120, T=8, seed=3, never=True):
    from test_mutation_did_modern import _stag as stag

    return stag(n=n, T=T, seed=seed, never=never)


def test_imputation_result_fields_and_settings_in_full():
    """The assembled result against its definition: settings, stats, rows, provenance fields, the
    overall dict (equal weights on the imputed effects, normal interval) and the extra tables."""
    from analysis.did.imputation import imputation

    d = _stag()
    r = imputation(d, "y", "g", cluster="prov", pretrends=1, alpha=0.10)
    assert r.settings == {
        "anticipation": 0, "leave_out": True, "cluster": "prov", "controls": [], "pretrends": 1,
        "se": "BJS conservative variance (Theorem 3), cohort x horizon residual groups, leave-out; normal inference"}
    assert r.reference == "Borusyak, Jaravel and Spiess (2024, REStud 91(6)); Stata did_imputation; R didimputation"
    treated = (d["g"] > 0) & (d["year"] >= d["g"])
    assert r.stats == {"N": len(d), "N_untreated": int((~treated).sum()), "N_treated": int(treated.sum()),
                       "N_clusters": d["prov"].nunique()}
    assert (r.rows.n_input, r.rows.n_used, r.rows.dropped) == (len(d), len(d), {})
    assert r.outcome == "y" and r.fixed_effects == ("county", "year") and r.vcov_type == "cluster"
    assert r.cluster == ("prov",) and r.n_clusters == 9 and r.alpha == 0.10 and r.model == "Imputation (BJS)"
    tau = r.extra["tau_it"]
    z = stats.norm.ppf(0.95)
    o = r.overall
    assert set(o) == {"estimate", "std_error", "se", "ci_low", "ci_high", "description"}
    assert o["description"] == "ATT over all imputed treated observations"
    assert o["estimate"] == pytest.approx(tau["tau"].mean(), abs=EPS) and o["se"] == o["std_error"] > 0
    assert o["ci_low"] == pytest.approx(o["estimate"] - z * o["std_error"], abs=EPS)
    assert o["ci_high"] == pytest.approx(o["estimate"] + z * o["std_error"], abs=EPS)
    # the imputed effects: one row per treated observation, keyed like the data
    want = d.loc[treated, ["county", "year", "g"]].rename(columns={"g": "cohort"})
    want["horizon"] = want["year"] - want["cohort"]
    got = tau.sort_values(["county", "year"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(got[["county", "year", "cohort", "horizon"]],
                                  want.sort_values(["county", "year"]).reset_index(drop=True),
                                  check_dtype=False)
    counts = want.groupby("horizon").size()
    assert r.extra["horizon_counts"].to_dict() == {int(h): int(c) for h, c in counts.items()}
    # the unit default of the cluster, leave_out off: settings say so
    r0 = imputation(d, "y", "g", leave_out=False)
    assert r0.settings["cluster"] == "county" and r0.cluster == ("county",) and r0.n_clusters == d["county"].nunique()
    assert r0.settings["se"] == ("BJS conservative variance (Theorem 3), cohort x horizon residual groups; "
                                 "normal inference")
    assert r0.stats["N_clusters"] == d["county"].nunique() and r0.settings["pretrends"] == 0 and r0.pretrend == {}


def test_imputation_messages_in_full():
    """The horizon error lists the missing and the available horizons; the two warnings count the
    observations concerned."""
    from analysis.did.imputation import imputation

    d = _stag()
    assert _raises(SpecificationError, imputation, d, "y", "g", horizons=[9, 0, 12]) == (
        "horizons [9, 12] have no imputed treated observations; available: [0, 1, 2, 3, 4].")
    assert _raises(TreatmentTimingError, imputation, d.assign(g=0), "y", "g") == "no treated units in 'g'."
    nv = d[d["g"] > 0]
    n_bad = int((nv["year"] >= 2015).sum())
    with pytest.warns(UserWarning) as rec:
        imputation(nv, "y", "g")
    assert (f"{n_bad} treated observations cannot be imputed (no untreated observation of the unit or period) "
            "and are dropped.") in [str(w.message) for w in rec]
    first15 = d.loc[d["g"] == 2015, "county"].iloc[0]
    single = d[~((d["g"] == 2015) & (d["year"] == 2017) & (d["county"] != first15))]
    with pytest.warns(UserWarning) as rec:
        imputation(single, "y", "g")
    # the lone (2015, h=2) observation, once per estimand whose weights reach it (overall and h = 2)
    assert ("leave-out variance: 2 treated observations are alone in their cohort x horizon group; their "
            "residual is not leave-out adjusted.") in [str(w.message) for w in rec]
    # horizons given out of order are reported sorted, each the mean of its imputed effects
    r = imputation(d, "y", "g", horizons=[3, 0])
    assert r.event_time["event_time"].tolist() == [0, 3]
    tau = r.extra["tau_it"]
    np.testing.assert_allclose(r.event_time["estimate"], [tau.loc[tau["horizon"] == h, "tau"].mean() for h in (0, 3)],
                               rtol=0, atol=EPS)


# ---- EventStudyResult.from_estimates: every argument reaches the result ---------------------------
def test_from_estimates_every_argument_reaches_the_result():
    """labels, crit, reference_period, alpha, df_resid, pretrend, model and extra keywords are stored as
    given; the interval is estimate -/+ crit x SE with crit the t(df) or normal quantile unless given;
    the deprecated ``rel_time=`` still works; no covariance and no SEs is an error."""
    from analysis.did._common import EventStudyResult

    V = np.array([[0.04, 0.01], [0.01, 0.09]])
    pre = {"stat": 3.0, "df": 2}
    res = EventStudyResult.from_estimates(
        "est", [-3, 2], [0.5, -1.0], vcov=V, labels=["<=-3", ">=2"], crit=2.5, reference_period=-2,
        alpha=0.10, df_resid=7.0, pretrend=pre, model="my model", outcome="y",
        overall={"estimate": 1.0, "std_error": 0.2, "ci_low": -9.0, "ci_high": 9.0, "description": "d"})
    tab = res.event_time
    assert list(tab.columns) == ["event_time", "estimate", "std_error", "ci_low", "ci_high", "label"]
    assert tab["event_time"].tolist() == [-3, 2] and tab["event_time"].dtype.kind == "i"
    assert tab["label"].tolist() == ["<=-3", ">=2"]
    np.testing.assert_allclose(tab["std_error"], [0.2, 0.3], rtol=1e-15)
    np.testing.assert_allclose(tab["ci_low"], [0.5 - 2.5 * 0.2, -1.0 - 2.5 * 0.3], rtol=1e-15)
    np.testing.assert_allclose(tab["ci_high"], [0.5 + 2.5 * 0.2, -1.0 + 2.5 * 0.3], rtol=1e-15)
    assert list(res.params.index) == list(res.std_errors.index) == ["<=-3", ">=2"]
    assert res.params.tolist() == [0.5, -1.0]
    assert (res.reference_period, res.alpha, res.df_resid, res.model, res.outcome) == (-2, 0.10, 7.0, "my model", "y")
    assert res.pretrend == pre and res.pretrend is not pre  # a copy
    # an overall interval given is kept; "se" is filled in from "std_error"
    assert res.overall == {"estimate": 1.0, "std_error": 0.2, "se": 0.2, "ci_low": -9.0, "ci_high": 9.0,
                           "description": "d"}
    # the default critical value: t(df_resid) at alpha given, else the normal quantile
    t = EventStudyResult.from_estimates("t", [0], [1.0], se=[0.5], df_resid=12, alpha=0.10,
                                        overall={"estimate": 2.0, "std_error": 0.4})
    q = stats.t(12).ppf(0.95)
    assert t.event_time["ci_high"].iloc[0] == pytest.approx(1.0 + q * 0.5, rel=1e-14)
    assert t.overall["ci_low"] == pytest.approx(2.0 - q * 0.4, rel=1e-14)
    assert t.cov is None and t.event_vcov is None and t.model == "t" and t.reference_period == -1
    assert t.pretrend == {} and t.event_time["label"].tolist() == ["event_time=0"]
    n = EventStudyResult.from_estimates("n", [0], [1.0], se=[0.5], alpha=0.10)
    assert n.event_time["ci_high"].iloc[0] == pytest.approx(1.0 + stats.norm.ppf(0.95) * 0.5, rel=1e-14)
    assert n.df_resid is None and n.overall == {}
    # both spellings of the overall SE given: each kept as given; without an SE no interval is made
    both = EventStudyResult.from_estimates("b", [0], [1.0], se=[1.0], overall={"estimate": 1.0, "std_error": 0.3,
                                                                               "se": 0.4})
    assert (both.overall["std_error"], both.overall["se"]) == (0.3, 0.4)
    bare = EventStudyResult.from_estimates("b", [0], [1.0], se=[1.0], overall={"estimate": 1.0})
    assert bare.overall == {"estimate": 1.0}
    # vcov wins over se when both are given
    vs = EventStudyResult.from_estimates("v", [0], [1.0], vcov=[[4.0]], se=[1.0])
    assert vs.std_errors.tolist() == [2.0]
    with pytest.warns(DeprecationWarning, match=r"from_estimates\(rel_time=\.\.\.\) is deprecated"):
        old = EventStudyResult.from_estimates("o", rel_time=[1, 2], estimates=[0.1, 0.2], se=[1.0, 1.0])
    assert old.event_time["event_time"].tolist() == [1, 2]
    assert _raises(SpecificationError, EventStudyResult.from_estimates, "x", [0], [1.0]) == (
        "give vcov= or se= for the event-time estimates.")


# ---- the shared input checks of analysis/did/_common.py: every message in full ---------------------
def test_common_checks_every_message_in_full():
    from analysis.did import _common as c

    wide = pd.DataFrame({f"c{i}": [1.0] for i in range(31)})
    assert _raises(ColumnError, c.check_columns, wide, ["c0", "y", None, "z"], what="my table") == (
        f"column(s) ['y', 'z'] not found in my table; available columns: {[f'c{i}' for i in range(30)]} .... "
        "Pass the right names (entity=, time=, y=, ...).")
    assert _raises(ColumnError, c.check_columns, wide.iloc[:, :2], ["y"]) == (
        "column(s) ['y'] not found in the data; available columns: ['c0', 'c1']. Pass the right names "
        "(entity=, time=, y=, ...).")
    assert _raises(SpecificationError, c.check_columns, {"a": 1}, ["a"]) == (
        "data must be a pandas DataFrame (one row per unit-year), got dict.")
    c.check_columns(wide, ["c0", None])  # present columns (and None) pass
    keys = pd.DataFrame({"county": ["a", "a", "b", None], "year": [1.0, np.nan, 1.0, 2.0]})
    assert _raises(MissingValueError, c.check_keys, keys, "county", "year") == (
        "column 'year' (time) is missing in row 1; fill or drop those rows.")
    assert _raises(MissingValueError, c.check_keys, keys.dropna(subset=["year"]), "county", "year") == (
        "column 'county' (entity) is missing in row 3; fill or drop those rows.")
    text_time = pd.DataFrame({"county": ["a", "b"], "year": ["2001", "2002"]})
    assert _raises(NonNumericError, c.check_keys, text_time, "county", "year") == (
        f"column 'year' (time) must be numeric years, got dtype {text_time['year'].dtype}.")
    c.check_keys(pd.DataFrame({"county": ["a", "b"], "year": [1, 1]}), "county", "year")
    # drop_missing: numbers in text converted, missing and infinite values counted under the first column
    d = pd.DataFrame({"y": ["1", "2", None, "4", "5"], "x": [1.0, np.inf, 3.0, np.nan, 5.0], "b": [True] * 5})
    out, dropped = c.drop_missing(d, ["y", "x", "b"])
    assert dropped == {"missing y": 1, "missing x": 2} and out.index.tolist() == [0, 4]
    assert out["y"].tolist() == [1.0, 5.0] and out["b"].dtype == float and d["y"].iloc[0] == "1"
    assert _raises(NonNumericError, c.drop_missing, pd.DataFrame({"y": [1, "abc", "x"]}, index=[5, 6, 7]), ["y"]) == (
        "column 'y' has non-numeric values in rows 6, 7 (e.g. 'abc'); convert it to numbers.")
    # treatment and adoption columns
    t = pd.DataFrame({"county": list("aabb"), "year": [1, 2, 1, 2], "d": [0, 2, 0, 0.5]})
    assert _raises(NonNumericError, c.adoption_from_treatment, t, "d") == (
        "treatment column 'd' must be 0/1; found [0.5, 2.0] in rows 1, 3.")
    assert _raises(NonNumericError, c.parse_adoption, t.assign(g=True), "g") == (
        "adoption column 'g' is boolean; give the first treated year (or 0 / empty for never treated), or pass "
        "the 0/1 column as treat=.")
    txt = pd.DataFrame({"g": ["2001", " ", "0", None, "x1", "2002.0"]})
    assert _raises(NonNumericError, c.parse_adoption, txt, "g") == (
        "adoption column 'g' has non-numeric values in row 4 (e.g. 'x1'); give the first treated year, and 0 or "
        "empty for never treated.")
    parsed = c.parse_adoption(txt.drop(index=4), "g")
    assert parsed.iloc[0] == 2001.0 and parsed.iloc[-1] == 2002.0 and parsed.iloc[1:4].isna().all()
    assert c.parse_adoption(pd.DataFrame({"g": [0.0, np.inf, 3.0]}), "g").iloc[:2].isna().all()
    g = pd.Series([2005.0, np.nan, 2012.0, 2011.0, 2003.0], index=list("abcde"))
    rec, note = c.recode_late_adopters(g, 2010.0, entity="prefecture")
    assert note == ("2 prefecture(s) adopting after the last period (2010) treated as never treated within the "
                    "sample (adoption years [2011, 2012])")
    assert rec.isna().tolist() == [False, True, True, True, False]
    same, none = c.recode_late_adopters(g, 2012.0)  # nobody adopts after 2012: unchanged, no note
    assert same is g and none is None
    part = pd.DataFrame({"county": list("aabbcc"), "g": [2.0, np.nan, 3.0, 3.0, 1.5, 1.5]})
    assert _raises(TreatmentTimingError, c.adoption_per_unit, part, "g") == (
        "adoption year 'g' is missing on some rows but not others for 1 county(s): a. Fill the adoption year on "
        "every row of a treated unit (it is a unit-level attribute), or leave it empty on all rows of "
        "never-treated units.")
    assert _raises(NonNumericError, c.adoption_per_unit, part.iloc[2:], "g") == (
        "adoption year 'g' must hold whole years; found 1.5.")
    # resolve_adoption with both forms: treated units lacking a year, then rows disagreeing
    both = pd.DataFrame({"county": list("aabb"), "year": [1, 2, 1, 2], "d": [0, 1, 0, 1], "g": [2, 2, 0, 0]})
    assert _raises(TreatmentTimingError, c.resolve_adoption, both, treat="d", adoption="g") == (
        "1 county(s) are treated (d=1) but have no adoption year in 'g' (missing adoption years): b. "
        "Fill the adoption year.")
    off = both.assign(g=[2, 2, 1, 1], d=[0, 1, 0, 1])
    assert _raises(TreatmentTimingError, c.resolve_adoption, off, treat="d", adoption="g") == (
        "'d' disagrees with 1{year >= g} in row 2; fix one of the two columns (the treatment must switch on in "
        "the adoption year and stay on).")
    panel = pd.DataFrame({"county": ["a", "a", "b", "b"], "year": [2010, 2011, 2010, 2011]})
    assert _raises(TreatmentTimingError, c.check_pre_period, pd.Series({"a": 2011.0, "b": 2009.0}), panel) == (
        "1 treated county(s) have no pre-treatment period in the sample (adopted in or before their first observed "
        "year): b. Their treatment effect is not identified against a pre-period; drop them or extend the "
        "sample backwards.")
    c.check_pre_period(pd.Series({"a": 2011.0, "b": np.nan}), panel)


# ---- treatment_input: the adoption-native path with other entity/time columns ----------------------
def test_treatment_input_adoption_native_reads_the_entity_and_time_given():
    """Given only treat= to an estimator written for adoption=, the adoption year is derived per unit of
    the entity column given, from the time column given (by keyword or by position), and passed under
    ``<treat>_adoption``; the wrapped function sees the other arguments unchanged."""
    from analysis.did._treatment import adoption_column, treatment_input

    @treatment_input("adoption")
    def a_est(data, y, adoption=None, entity="county", time="year", alpha=0.05):
        return data, y, adoption, entity, time, alpha

    d = pd.DataFrame({"unit": list("aaabbbccc"), "yr": [2010, 2011, 2012] * 3, "d": [0, 1, 1, 0, 0, 0, 0, 0, 1],
                      "y": np.arange(9.0)})
    # decoys under the default names: reading them would give other adoption years
    e = d.assign(county=list("abcabcabc"), year=[2012, 2011, 2010] * 3)
    want = adoption_column(d, "d", "unit", "yr")

    np.testing.assert_array_equal(want.to_numpy(), [2011.0] * 3 + [np.nan] * 3 + [2012.0] * 3)
    for call in (lambda: a_est(e, "y", treat="d", entity="unit", time="yr", alpha=0.1),
                 lambda: a_est(e, "y", None, "unit", "yr", 0.1, treat="d")):
        data, y, name, entity, time, alpha = call()
        assert (y, name, entity, time, alpha) == ("y", "d_adoption", "unit", "yr", 0.1)
        np.testing.assert_array_equal(data["d_adoption"].to_numpy(), want.to_numpy())
        assert list(data.columns) == [*e.columns, "d_adoption"]
    # adoption given (positionally) and treat= as well: checked with the entity and time given, passed on
    data, y, name, entity, time, alpha = a_est(e.assign(g=want), "y", "g", "unit", "yr", treat="d")
    assert (name, entity, time) == ("g", "unit", "yr") and "d_adoption" not in data.columns
    with pytest.raises(TreatmentTimingError, match=r"^'d' disagrees with 1\{yr >= g\} in row 0;"):
        a_est(e.assign(g=want.replace(2011.0, 2010.0)), "y", "g", "unit", "yr", treat="d")


# ---- EventStudyResult: event_table, summary and the plot, every element ----------------------------
def _es(estimator="TWFE event study", reference_period=-1, labels=None, pretrend=None):
    from analysis.did._common import EventStudyResult

    return EventStudyResult.from_estimates(
        estimator, [-3, -2, 0, 1], [0.1, -0.2, 0.5, 0.7], se=[0.1, 0.2, 0.3, 0.4], labels=labels,
        reference_period=reference_period, pretrend=pretrend,
        overall={"estimate": 0.6, "std_error": 0.1, "description": "mean of post"})


def test_event_table_summary_and_plot_every_element():
    import matplotlib.pyplot as plt

    res = _es(labels=["<=-3", "event_time=-2", "event_time=0", ">=1"],
              pretrend={"F": 2.5, "F_p_value": 0.0812, "stat": 5.0, "df": 2})
    # event_table: the reference row only when asked for and when not already estimated
    assert res.event_table(include_reference=False)["event_time"].tolist() == [-3, -2, 0, 1]
    assert res.event_table()["event_time"].tolist() == [-3, -2, -1, 0, 1]
    assert _es(reference_period=0).event_table()["event_time"].tolist() == [-3, -2, 0, 1]
    assert _es(reference_period=None).event_table()["event_time"].tolist() == [-3, -2, 0, 1]
    text = res.summary()
    assert text.endswith("overall (mean of post): 0.6 (std_error 0.1)\n"
                         "pre-trend joint test: F = 2.5, p = 0.0812 (chi2 = 5, df = 2)")
    assert "pre-trend" not in _es().summary()
    # the Chinese plot: labels, legend name of a known estimator, ticks from the labels, lines
    fig = res.plot(lang="zh", title="标题")
    ax = fig.axes[0]
    assert ax.get_xlabel() == "相对政策实施的年份" and ax.get_ylabel() == "估计系数（95%置信区间）"
    assert ax.get_title() == "标题"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["双向固定效应事件研究"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["≤-3", "-2", "-1", "0", "≥1"]
    np.testing.assert_array_equal(ax.get_xticks(), [-3, -2, -1, 0, 1])
    hz = [ln for ln in ax.lines if list(ln.get_ydata()) == [0, 0]]
    vt = [ln for ln in ax.lines if list(ln.get_xdata()) == [-0.5, -0.5]]
    assert len(hz) == 1 and hz[0].get_color() == "0.3" and hz[0].get_linewidth() == 0.8
    assert len(vt) == 1 and vt[0].get_linestyle() == "--" and vt[0].get_color() == "0.5"
    # error bars: estimate -/+ the CI half-widths (normal 95%), the reference period at zero
    bars = ax.containers[0]
    np.testing.assert_allclose(bars.lines[0].get_ydata(), [0.1, -0.2, 0.0, 0.5, 0.7])
    seg = bars.lines[2][0].get_segments()
    z = stats.norm.ppf(0.975)
    np.testing.assert_allclose([s[1][1] - s[0][1] for s in seg], 2 * z * np.array([0.1, 0.2, 0.0, 0.3, 0.4]),
                               rtol=1e-12)
    plt.close(fig)
    # an unknown estimator keeps its name in Chinese; a given label wins; offset dodges; the axes given are used
    fig2, ax2 = plt.subplots()
    out = _es(estimator="BJS").plot(lang="zh", ax=ax2, color="C2")
    assert out is fig2 and [t.get_text() for t in ax2.get_legend().get_texts()] == ["BJS"]
    from analysis.did._common import plot_event_study

    plot_event_study(_es(), lang="en", ax=ax2, offset=0.2, label="mine")
    assert [t.get_text() for t in ax2.get_legend().get_texts()] == ["BJS", "mine"]
    np.testing.assert_allclose(ax2.containers[1].lines[0].get_xdata(), [-2.8, -1.8, -0.8, 0.2, 1.2])
    assert [t.get_text() for t in ax2.get_xticklabels()] == ["-3", "-2", "-1", "0", "1"]
    ref = [ln for ln in ax2.lines if ln.get_markerfacecolor() == "white"]
    assert [list(r.get_xdata()) for r in ref] == [[-1.0], [-0.8]]
    plt.close(fig2)
    fig3 = _es(estimator="TWFE event study").plot(lang="en")
    assert [t.get_text() for t in fig3.axes[0].get_legend().get_texts()] == ["TWFE event study"]
    plt.close(fig3)


# ---- wald_test and collinear_columns by definition ---------------------------------------------------
def test_wald_test_by_definition_rank_nan_terms_and_f_form():
    from analysis.did._common import wald_test

    b = np.array([1.0, -2.0, 0.5])
    V = np.array([[2.0, 0.3, 0.1], [0.3, 1.0, 0.2], [0.1, 0.2, 0.5]])
    chi2 = float(b @ np.linalg.inv(V) @ b)
    out = wald_test(b, V, df_denom=25)
    assert set(out) == {"stat", "df", "p_value", "F", "F_p_value"}
    assert out["stat"] == pytest.approx(chi2, rel=1e-12) and out["df"] == 3
    assert out["p_value"] == pytest.approx(stats.chi2.sf(chi2, 3), rel=1e-12)
    assert out["F"] == pytest.approx(chi2 / 3, rel=1e-12)
    assert out["F_p_value"] == pytest.approx(stats.f.sf(chi2 / 3, 3, 25), rel=1e-12)
    # a NaN (dropped) term is not tested: the same as the test of the other two
    bn = b.copy()
    bn[1] = np.nan
    sub = wald_test(b[[0, 2]], V[np.ix_([0, 2], [0, 2])], df_denom=25)
    assert wald_test(bn, V, df_denom=25) == pytest.approx(sub, rel=1e-12)
    # a singular covariance (third = first + second) tests its rank, 2 restrictions, with the pseudo-inverse
    L = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    Vs = L @ np.array([[1.0, 0.2], [0.2, 0.5]]) @ L.T
    bs = L @ np.array([0.4, -0.3])
    s = wald_test(bs, Vs)
    assert s["df"] == 2 and s["stat"] == pytest.approx(float(bs @ np.linalg.pinv(Vs) @ bs), rel=1e-10)
    empty = wald_test(np.array([]), np.zeros((0, 0)))
    assert empty["df"] == 0 and all(np.isnan(empty[k]) for k in ("stat", "p_value", "F", "F_p_value"))


def test_collinear_columns_reasons_in_column_order():
    from analysis.did._common import collinear_columns

    rng = np.random.default_rng(2)
    a, b, c = rng.normal(size=50), rng.normal(size=50), rng.normal(size=50)
    X = np.column_stack([a, np.zeros(50), b, a - 2 * b, 1e-13 * c])
    out = collinear_columns(X, ["a", "zero", "b", "a_minus_2b", "tiny"])
    assert out == {"zero": "constant within the fixed effects (zero after demeaning)",
                   "a_minus_2b": "collinear with a, b",
                   "tiny": "constant within the fixed effects (zero after demeaning)"}
    # with the raw scale of each column, a column in tiny units is kept (it was not constant)
    kept = collinear_columns(X[:, [0, 4]], ["a", "tiny"], raw_scale=[np.abs(a).max(), 1e-13 * np.abs(c).max()])
    assert kept == {}
    assert collinear_columns(np.zeros((5, 0)), []) == {}


@pytest.mark.stack_frames  # mutmut's trampoline adds a frame: deselected under mutmut
def test_fe_ols_collinearity_warning_points_at_the_estimators_caller():
    """fe_ols is called by an estimator; its CollinearityWarning (stacklevel 3) names the line that called
    that estimator, not a line inside the package."""
    from analysis.did._common import fe_ols
    from analysis.regression.fe import CollinearityWarning

    rng = np.random.default_rng(0)
    x = rng.normal(size=40)

    def estimator():  # stands for a DiD estimator calling fe_ols
        return fe_ols(rng.normal(size=40), np.column_stack([x, 2 * x]), ["x", "x2"], None, np.arange(40) % 8)

    with pytest.warns(CollinearityWarning) as rec:
        line = sys._getframe().f_lineno + 1  # the next line of this file
        fit = estimator()
    assert rec[0].filename == __file__ and rec[0].lineno == line
    assert str(rec[0].message) == ("1 regressor(s) dropped as collinear: x2 (collinear with x). Their estimates are "
                                   "NaN and they do not count in K or in joint tests.")
    assert fit.dropped == {"x2": "collinear with x"} and np.isnan(fit.params["x2"]) and np.isfinite(fit.params["x"])


def test_fe_ols_without_fixed_effects_is_ols_with_crv1_by_hand():
    """``fe=None``: plain OLS of y on X (no demeaning) with the CRV1 covariance written out,
    V = G/(G-1) (N-1)/(N-K) (X'X)^-1 (sum_g X_g'u_g u_g'X_g) (X'X)^-1, and t(G-1) degrees of freedom."""
    from analysis.did._common import fe_ols

    rng = np.random.default_rng(5)
    n, G = 60, 12
    X = np.column_stack([np.ones(n), rng.normal(size=n), rng.normal(size=n)])
    y = X @ np.array([1.0, 0.5, -0.3]) + rng.normal(size=n) + 3.0
    cl = np.repeat(np.arange(G), n // G)
    fit = fe_ols(y, X, ["one", "a", "b"], None, cl)
    b = np.linalg.lstsq(X, y, rcond=None)[0]
    u = y - X @ b
    bread = np.linalg.inv(X.T @ X)
    meat = sum(np.outer(X[cl == g].T @ u[cl == g], X[cl == g].T @ u[cl == g]) for g in range(G))
    V = G / (G - 1) * (n - 1) / (n - 3) * bread @ meat @ bread
    np.testing.assert_allclose(fit.params.to_numpy(), b, rtol=1e-10)  # two least-squares solvers: rounding
    np.testing.assert_allclose(fit.cov.to_numpy(), V, rtol=1e-8)
    np.testing.assert_allclose(fit.resid, u, atol=1e-10)
    assert (fit.nobs, fit.n_clusters, fit.k, fit.df_resid, fit.dropped) == (n, G, 3, G - 1, {})


def test_fe_ols_with_no_regressor_returns_the_outcome_as_residual():
    """No regressor left (e.g. every one dropped): no coefficient, the residual is y itself, K = 0."""
    from analysis.did._common import fe_ols

    y = np.random.default_rng(0).normal(size=20)
    fit = fe_ols(y, np.zeros((20, 0)), [], None, np.arange(20) % 5)
    assert fit.params.empty and fit.cov.shape == (0, 0) and (fit.nobs, fit.n_clusters, fit.k) == (20, 5, 0)
    np.testing.assert_array_equal(fit.resid, y)


def test_unit_lists_in_messages_show_eight_and_mark_the_ninth():
    """Every message that lists units names at most 8 and adds ' ...' only when there are more than 8."""
    from analysis.did import _common as c

    for n_units, tail in ((8, ""), (9, " ...")):
        ids = list(range(n_units))
        shown = ", ".join(map(str, ids[:8])) + tail
        part = pd.DataFrame({"county": np.repeat(ids, 2), "g": [2.0, np.nan] * n_units})
        assert _raises(TreatmentTimingError, c.adoption_per_unit, part, "g").startswith(
            f"adoption year 'g' is missing on some rows but not others for {n_units} county(s): {shown}. Fill")
        vary = pd.DataFrame({"county": np.repeat(ids, 2), "g": [2.0, 3.0] * n_units})
        assert _raises(TreatmentTimingError, c.adoption_per_unit, vary, "g").startswith(
            f"adoption year 'g' varies within {n_units} county(s): {shown}. It must")
        off = pd.DataFrame({"county": np.repeat(ids, 3), "year": [1, 2, 3] * n_units, "d": [0, 1, 0] * n_units})
        assert f"switches off (1 then 0) in {n_units} county(s): {shown}. These" in _raises(
            TreatmentTimingError, c.adoption_from_treatment, off, "d")
        lack = off.assign(d=[0, 1, 1] * n_units, g=0)
        assert f"(missing adoption years): {shown}. Fill" in _raises(
            TreatmentTimingError, c.resolve_adoption, lack, treat="d", adoption="g")
        panel = pd.DataFrame({"county": np.repeat(ids, 2), "year": [2010, 2011] * n_units})
        assert f"first observed year): {shown}. Their" in _raises(
            TreatmentTimingError, c.check_pre_period, pd.Series(2010.0, index=ids), panel)
