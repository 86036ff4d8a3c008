"""One vocabulary (docs/CONVENTIONS.md): the old keyword names still work for one release, warn with
a DeprecationWarning that names the new one, and give exactly the result of the new name."""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _did_synth import staggered_panel  # noqa: E402
from _spatial_support import lattice_weights, simulate_sdm  # noqa: E402

from analysis._compat import renamed_kwargs  # noqa: E402
from analysis.did import callaway_santanna, imputation, sun_abraham  # noqa: E402
from analysis.did._common import EventStudyResult  # noqa: E402
from analysis.errors import SpecificationError  # noqa: E402
from analysis.regression import mediation, wild_bootstrap  # noqa: E402
from analysis.spatial import knn_weights, lm_tests  # noqa: E402
from analysis.spatial.spatial_did import spatial_did  # noqa: E402


@pytest.fixture(scope="module")
def panel():
    d = staggered_panel(n_units=60, seed=2)
    d["adoption"] = d["adoption"].fillna(0)
    return d


def _old_and_new(fn, old: dict, new: dict):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        a = fn(**old)
    dep = [w for w in caught if issubclass(w.category, DeprecationWarning)]
    assert dep, f"{fn.__name__}({list(old)}) did not warn"
    for key in set(new) - set(old):
        assert any(f"use {key}=" in str(w.message) for w in dep), [str(w.message) for w in dep]
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)  # the new names never warn
        b = fn(**new)
    return a, b


def test_callaway_santanna_covariates_and_bootstrap(panel):
    base = dict(data=panel, y="y", adoption="adoption", seed=3)
    a, b = _old_and_new(callaway_santanna, {**base, "covariates": ["x1"], "bootstrap": 99},
                        {**base, "controls": ["x1"], "n_draws": 99})
    pd.testing.assert_frame_equal(a.att_gt, b.att_gt)
    assert b.settings["n_draws"] == 99 and b.settings["controls"] == ["x1"]
    with pytest.warns(DeprecationWarning, match="use n_draws="):
        agg_old = b.aggregate("simple", bootstrap=49, seed=1)
    agg_new = b.aggregate("simple", n_draws=49, seed=1)
    assert agg_old.params.equals(agg_new.params) and agg_old.std_errors.equals(agg_new.std_errors)


@pytest.mark.parametrize("fn", [sun_abraham, imputation])
def test_sun_abraham_and_imputation_covariates(panel, fn):
    base = dict(data=panel, y="y", adoption="adoption")
    a, b = _old_and_new(fn, {**base, "covariates": ["x1"]}, {**base, "controls": ["x1"]})
    pd.testing.assert_frame_equal(a.event_time, b.event_time)
    assert list(b.event_time.columns[:5]) == ["event_time", "estimate", "std_error", "ci_low", "ci_high"]
    assert b.overall["std_error"] == b.overall["se"]  # the old key is kept for one release


def test_mediation_and_wild_bootstrap_draws(panel):
    base = dict(data=panel, y="y", x="treat", m="x2", seed=5)
    a, b = _old_and_new(mediation, {**base, "n_boot": 19}, {**base, "n_draws": 19})
    pd.testing.assert_frame_equal(a.boot, b.boot)
    with pytest.warns(DeprecationWarning, match=r"\.n_draws"):
        assert b.n_boot == b.n_draws == 19
    base = dict(formula="y ~ treat + x1", data=panel, param="treat", seed=5)
    a, b = _old_and_new(wild_bootstrap, {**base, "B": 199}, {**base, "n_draws": 199})
    assert a.p_value == b.p_value and b.n_draws == 199
    with pytest.warns(DeprecationWarning):
        assert b.B == 199


def test_spatial_x_and_id_col():
    w = lattice_weights(5, 4)
    d = simulate_sdm(w, T=6, seed=1)
    a, b = _old_and_new(lm_tests, dict(data=d, y="y", x=["x1", "x2"], w=w),
                        dict(data=d, y="y", controls=["x1", "x2"], w=w))
    pd.testing.assert_frame_equal(a.to_frame(), b.to_frame())
    counties = pd.DataFrame({"code": [f"c{i}" for i in range(12)], "lon": np.arange(12.0) % 4,
                             "lat": np.arange(12.0) // 4})
    a, b = _old_and_new(knn_weights, dict(counties=counties, k=3, id_col="code"),
                        dict(counties=counties, k=3, entity="code"))
    assert a.ids == b.ids and (a.full() == b.full()).all()


def test_event_study_result_rel_time_alias():
    with pytest.warns(DeprecationWarning, match="use event_times="):
        a = EventStudyResult.from_estimates("x", rel_time=[-2, 0, 1], estimates=[0.0, 1.0, 2.0], se=[1.0, 1.0, 1.0])
    b = EventStudyResult.from_estimates("x", event_times=[-2, 0, 1], estimates=[0.0, 1.0, 2.0], se=[1.0, 1.0, 1.0])
    pd.testing.assert_frame_equal(a.event_time, b.event_time)


def test_renamed_kwargs_rejects_both_names_and_records_the_map():
    @renamed_kwargs(n_boot="n_draws")
    def f(n_draws=1):
        return n_draws

    with pytest.raises(SpecificationError, match="pass n_draws= only"):
        f(n_boot=2, n_draws=3)
    assert f.__renamed_kwargs__ == {"n_boot": "n_draws"}
    assert callaway_santanna.__renamed_kwargs__ == {"covariates": "controls", "bootstrap": "n_draws"}


# ---------------------------------------------------------------------------------------------
# one treatment input: treat= (0/1) or adoption= (first treated year) for every DiD estimator
# ---------------------------------------------------------------------------------------------
from analysis import did  # noqa: E402
from analysis.errors import TreatmentTimingError  # noqa: E402

TSEED = 11


@pytest.fixture(scope="module")
def tpanel():
    """30 counties x 10 years, cohorts 2014 and 2016 and never-treated; both treatment columns."""
    rng = np.random.default_rng(4)
    n, years = 30, np.arange(2010, 2020)
    adopt = rng.choice([2014.0, 2016.0, np.nan, np.nan], size=n)
    d = pd.DataFrame({"county": np.repeat([f"{110100 + i}" for i in range(n)], len(years)),
                      "year": np.tile(years, n)})
    d["province"] = np.repeat([f"p{i % 3}" for i in range(n)], len(years))
    d["adoption"] = np.repeat(adopt, len(years))
    d["treat"] = ((d["year"] >= d["adoption"]) & d["adoption"].notna()).astype(float)
    d["x1"] = np.repeat(rng.normal(size=n), len(years)) + rng.normal(scale=0.5, size=len(d))
    d["x2"] = rng.normal(size=len(d))
    d["g"] = np.repeat((np.arange(n) % 2).astype(float), len(years))
    mu = np.repeat(rng.normal(size=n), len(years))
    d["y"] = 5 + mu + 0.05 * (d["year"] - 2010) + 0.4 * d["treat"] + 0.3 * d["x1"] + rng.normal(scale=0.3, size=len(d))
    return d


def _frames(res):
    """The numbers of a result as a list of frames (a dict of results: each one's table)."""
    if isinstance(res, dict):
        return [r.to_frame() for r in res.values()]
    out = [res.to_frame()]
    if isinstance(res, did.CallawaySantAnnaResult):
        out += [res.att_gt, res.aggregate("simple").to_frame(), res.aggregate("dynamic").to_frame()]
    return out


def _one_cohort(p):
    return p[p["adoption"].fillna(2014) == 2014]


def _ring_weights(p):
    """Each county's two neighbours on a ring (row-standardised), for the spatial DiD case."""
    from analysis.spatial.weights import weights_from_matrix

    ids = sorted(p["county"].unique())
    n = len(ids)
    m = np.zeros((n, n))
    for i in range(n):
        m[i, (i - 1) % n] = m[i, (i + 1) % n] = 1.0
    return weights_from_matrix(m, ids)


# name -> (function of (panel, **treatment), the form the estimator was written for)
DID_ESTIMATORS = {
    "event_study": lambda p, **t: did.event_study(p, "y", leads=3, lags=3, **t),
    "callaway_santanna": lambda p, **t: did.callaway_santanna(p, "y", **t),
    "sun_abraham": lambda p, **t: did.sun_abraham(p, "y", **t),
    "imputation": lambda p, **t: did.imputation(p, "y", **t),
    "static_twfe": lambda p, **t: did.static_twfe(p, "y", **t),
    "run_estimators": lambda p, **t: did.run_estimators(p, "y", **t),
    "bacon_decomposition": lambda p, **t: did.bacon_decomposition(p, "y", **t),
    "psm_did": lambda p, **t: did.psm_did(p, "y", covariates=["x1"], seed=TSEED, **t),
    "triple_difference": lambda p, **t: did.triple_difference(p, "y", group="g", **t),
    "synthetic_did": lambda p, **t: did.synthetic_did(p, "y", se="jackknife", **t),
    "synthetic_control": lambda p, **t: did.synthetic_control(_one_cohort(p), "y", n_draws=5, **t),
    "spatial_did": lambda p, **t: spatial_did(p, "y", w=_ring_weights(p), n_draws=0, **t),
    "placebo_test": lambda p, **t: did.placebo_test(p, "y", n_draws=20, seed=TSEED, progress=False, **t),
    "fake_timing_test": lambda p, **t: did.fake_timing_test(p, "y", **t),
    "placebo_outcome_test": lambda p, **t: did.placebo_outcome_test(p, ["x2"], **t),
}


@pytest.mark.parametrize("name", sorted(DID_ESTIMATORS))
def test_treat_and_adoption_give_the_same_result(name, tpanel):
    fn = DID_ESTIMATORS[name]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small-sample warnings of some estimators; the same for both forms
        by_treat = _frames(fn(tpanel, treat="treat"))
        by_adoption = _frames(fn(tpanel, adoption="adoption"))
        by_both = _frames(fn(tpanel, treat="treat", adoption="adoption"))
    for a, b, c in zip(by_treat, by_adoption, by_both):
        assert len(a) > 0
        pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-10, atol=1e-12)
        pd.testing.assert_frame_equal(a, c, check_exact=False, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", sorted(DID_ESTIMATORS))
def test_treat_and_adoption_that_disagree_or_are_missing_raise(name, tpanel):
    fn = DID_ESTIMATORS[name]
    bad = tpanel.copy()
    # a planted mismatch: one county of the 2014 cohort switched on a year early
    row = bad.index[(bad["adoption"] == 2014) & (bad["year"] == 2013)][0]
    bad.loc[row, "treat"] = 1.0
    with pytest.raises(TreatmentTimingError, match="disagrees with"):
        fn(bad, treat="treat", adoption="adoption")
    with pytest.raises(SpecificationError, match=r"give the treatment: treat= \(a 0/1 column\) or adoption="):
        fn(tpanel)


def test_treatment_input_keeps_positional_calls_and_documents_the_other_form(tpanel):
    import inspect

    a = did.callaway_santanna(tpanel, "y", "adoption")          # positional, as before
    b = did.callaway_santanna(tpanel, "y", treat="treat")
    pd.testing.assert_frame_equal(a.att_gt, b.att_gt)
    assert "treat" in inspect.signature(did.callaway_santanna).parameters
    assert "adoption" in inspect.signature(did.bacon_decomposition).parameters
    for name in ("event_study", "callaway_santanna", "sun_abraham", "imputation", "static_twfe", "run_estimators",
                 "bacon_decomposition", "psm_did", "triple_difference", "synthetic_did", "synthetic_control"):
        assert getattr(did, name).__treatment_input__ in ("treat", "adoption"), name


def test_treatment_input_adds_the_other_form_as_an_optional_keyword_only_argument():
    """The keyword the decorator adds, by its docstring: the other form, keyword-only, default None,
    annotated ``str | None``, placed before ``**kwargs`` (where a keyword-only argument must go); a native
    form other than treat/adoption is refused with a message naming the two."""
    import inspect

    from analysis.did._treatment import treatment_input

    def est(data, y, adoption=None, entity="county", time="year", *, alpha=0.05, **kwargs):
        return adoption, kwargs

    wrapped = treatment_input("adoption")(est)
    params = inspect.signature(wrapped).parameters
    assert list(params) == ["data", "y", "adoption", "entity", "time", "alpha", "treat", "kwargs"]
    treat = params["treat"]
    assert (treat.kind, treat.default, treat.annotation) == (inspect.Parameter.KEYWORD_ONLY, None, "str | None")
    assert str(inspect.signature(wrapped)).endswith("alpha=0.05, treat: 'str | None' = None, **kwargs)")
    assert wrapped.__treatment_input__ == "adoption" and wrapped.__wrapped__ is est
    # without **kwargs the keyword goes last; a function that already takes both forms is left as it is
    last = treatment_input("treat")(lambda data, y, treat=None, entity="county", time="year": treat)
    assert list(inspect.signature(last).parameters)[-1] == "adoption"
    both = treatment_input("treat")(lambda data, y, treat=None, adoption=None, entity="county", time="year": 0)
    assert list(inspect.signature(both).parameters) == ["data", "y", "treat", "adoption", "entity", "time"]
    with pytest.raises(ValueError, match=r"native must be 'treat' or 'adoption', not 'year'"):
        treatment_input("year")


def test_treatment_input_passes_the_derived_column_under_a_new_name():
    """What the wrapped estimator receives, by the decorator's docstring: given only the other form, a copy
    of the data with the native column derived by treatment_column/adoption_column under
    ``<adoption>_treated`` / ``<treat>_adoption`` (underscores added while the name is taken), read with
    the entity and time columns given (by keyword or position); given both, the call as it was (after
    the agreement check); given neither, SpecificationError."""
    from analysis.did._treatment import adoption_column, treatment_column, treatment_input

    @treatment_input("treat")
    def t_est(data, y, treat=None, entity="county", time="year", **kwargs):
        return data, treat, entity, time, kwargs

    @treatment_input("adoption")
    def a_est(data, y, adoption=None, entity="county", time="year"):
        return data, adoption

    @treatment_input("treat")
    def both(data, y, treat=None, adoption=None, entity="county", time="year"):
        return data, treat, adoption

    d = pd.DataFrame({"county": list("aaabbbccc"), "year": [2010, 2011, 2012] * 3,
                      "g": [2011.0] * 3 + [np.nan] * 3 + [2012.0] * 3, "y": np.arange(9.0)})
    d["d"] = ((d["year"] >= d["g"]) & d["g"].notna()).astype(float)
    before = d.copy()
    data, name, *_ = t_est(d, "y", adoption="g")
    assert name == "g_treated" and data["g_treated"].tolist() == d["d"].tolist()
    pd.testing.assert_frame_equal(d, before)  # the caller's frame is not changed
    data, name, *_ = t_est(d.assign(g_treated=0, g_treated_=0), "y", adoption="g")
    assert name == "g_treated__" and data[name].tolist() == d["d"].tolist()
    data, name = a_est(d, "y", treat="d")
    pd.testing.assert_series_equal(data["d_adoption"], adoption_column(d, "d"), check_names=False)
    assert name == "d_adoption" and data["d_adoption"].iloc[[0, 6]].tolist() == [2011.0, 2012.0]
    # other entity and time columns, given by keyword and by position; other keywords passed on
    e = d.rename(columns={"county": "unit", "year": "yr"}).assign(year=1999)
    for call in (lambda: t_est(e, "y", adoption="g", entity="unit", time="yr", extra=1),
                 lambda: t_est(e, "y", None, "unit", "yr", adoption="g", extra=1)):
        data, name, entity, time, kwargs = call()
        assert (name, entity, time, kwargs) == ("g_treated", "unit", "yr", {"extra": 1})
        assert data[name].tolist() == treatment_column(e, "g", "unit", "yr").tolist() == d["d"].tolist()
    # both forms: checked against each other, then passed on unchanged
    data, name, *_ = t_est(d, "y", treat="d", adoption="g")
    assert data is d and name == "d"
    bad = d.assign(d=d["d"].where(d.index != 0, 1.0))
    with pytest.raises(TreatmentTimingError):
        t_est(bad, "y", treat="d", adoption="g")
    with pytest.raises(TreatmentTimingError):
        both(bad, "y", treat="d", adoption="g")
    with pytest.raises(SpecificationError, match="give the treatment"):
        t_est(d, "y")
    # a function written with both keywords: the other one given alone is converted all the same
    data, name, adoption = both(d, "y", adoption="g")
    assert (name, adoption) == ("g_treated", "g") and data[name].tolist() == d["d"].tolist()
    assert both(d, "y", treat="d")[1:] == ("d", None)


@pytest.mark.parametrize("name", ["callaway_santanna.aggregate", "synthetic_did", "synthetic_control"])
def test_overall_term_is_did_and_att_still_reads_it(name, tpanel):
    """The treatment term is "did" everywhere; "ATT" (its old name here) reads the same numbers with a warning."""
    res = {"callaway_santanna.aggregate": lambda: did.callaway_santanna(tpanel, "y", "adoption").aggregate("simple"),
           "synthetic_did": lambda: did.synthetic_did(tpanel, "y", "treat", se="jackknife"),
           "synthetic_control": lambda: did.synthetic_control(_one_cohort(tpanel), "y", "treat", n_draws=5)}[name]()
    assert res.to_frame()["term"].iloc[0] == did.TREATMENT_TERM == "did"
    assert "ATT" not in res.to_frame()["term"].tolist()
    ci = res.conf_int()
    with pytest.warns(DeprecationWarning, match="'ATT' .* is now 'did'"):
        assert res["ATT"] == res["did"]
    with pytest.warns(DeprecationWarning):
        assert res.params["ATT"] == res.params["did"]
    with pytest.warns(DeprecationWarning):
        assert res.std_errors["ATT"] == res.std_errors["did"] or np.isnan(res.std_errors["did"])
    with pytest.warns(DeprecationWarning):
        assert ci.loc["ATT", "ci_low"] == ci.loc["did", "ci_low"] or np.isnan(ci.loc["did", "ci_low"])
    with pytest.raises(KeyError):
        res.params["not_a_term"]
