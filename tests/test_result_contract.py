"""The result contract (docs/CONVENTIONS.md): every public estimator, run on one small panel.

Two kinds of result:

* a coefficient table -> :class:`analysis.results.EstimationResult`: ``to_frame()`` with exactly the
  tidy columns, ``summary()``, ``rows`` (a RowReport), ``reference``, the typed provenance fields
  (``outcome``, ``fixed_effects``, ``vcov_type``, ``cluster``, ``n_clusters``, ``seed``) and a place
  in ``regression_table`` whose fixed-effect rows come from the typed fields;
* anything else -> :class:`analysis.results.TidyResult`: ``to_frame()`` in long tidy form,
  ``summary()``, ``rows``, ``settings``, ``reference``.

``test_every_public_callable_is_classified`` enumerates the public callables of analysis.did,
analysis.regression, analysis.spatial, analysis.disparity and analysis.robustness: a new function
must be added to ESTIMATORS (and so run through the contract) or to NON_ESTIMATORS with a reason.
"""
from __future__ import annotations

import inspect
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from _spatial_support import lattice_weights  # noqa: E402

import analysis.did as did  # noqa: E402
import analysis.disparity as disparity  # noqa: E402
import analysis.regression as regression  # noqa: E402
import analysis.robustness as robustness  # noqa: E402
import analysis.spatial as spatial  # noqa: E402
from analysis.results import TIDY_COLUMNS, VCOV_TYPES, EstimationResult, RowReport, TidyResult  # noqa: E402
from analysis.tables import regression_table  # noqa: E402

SEED = 11
MODULES = {"did": did, "regression": regression, "spatial": spatial, "disparity": disparity,
           "robustness": robustness}


# ---------------------------------------------------------------------------------------------
# one small panel: a 6 x 5 queen lattice of counties, 10 years, staggered adoption
# ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def w():
    return lattice_weights(6, 5)


@pytest.fixture(scope="module")
def panel(w):
    rng = np.random.default_rng(3)
    ids = np.asarray(w.ids)
    n, years = len(ids), np.arange(2010, 2020)
    adopt = rng.choice([2014.0, 2016.0, np.nan, np.nan], size=n)
    d = pd.DataFrame({"county": np.repeat(ids, len(years)), "year": np.tile(years, n)})
    d["province"] = np.repeat([f"p{i % 3}" for i in range(n)], len(years))
    d["region"] = np.repeat(np.where(np.arange(n) < n // 2, "east", "west"), len(years))
    d["adoption"] = np.repeat(adopt, len(years))
    d["treat"] = ((d["year"] >= d["adoption"]) & d["adoption"].notna()).astype(float)
    d["x1"] = np.repeat(rng.normal(size=n), len(years)) + rng.normal(scale=0.5, size=len(d))
    d["x2"] = rng.normal(size=len(d))
    d["z"] = rng.uniform(0, 1, size=len(d))
    mu = np.repeat(rng.normal(size=n), len(years))
    d["y"] = (5 + mu + 0.05 * (d["year"] - 2010) + 0.4 * d["treat"] + 0.3 * d["x1"]
              + 0.2 * d["treat"] * d["z"] + rng.normal(scale=0.3, size=len(d)))
    d["m"] = 0.5 * d["treat"] + rng.normal(scale=0.3, size=len(d))
    d["q"] = rng.uniform(size=len(d))
    return d


# ---------------------------------------------------------------------------------------------
# how each public estimator is run (name -> function of (panel, w)); seed where it draws
# ---------------------------------------------------------------------------------------------
def _twice(p):
    """60 counties: the panel and a copy under other ids (design_power needs at least 50 complete counties)."""
    return pd.concat([p, p.assign(county=p["county"].astype(str) + "b")], ignore_index=True)


def _es(p, w):
    return did.event_study(p, "y", "adoption", leads=3, lags=3)


ESTIMATORS = {
    # analysis.did
    "event_study": _es,
    "bacon_decomposition": lambda p, w: did.bacon_decomposition(p, "y", "treat"),
    "placebo_test": lambda p, w: did.placebo_test(p, "y", treat="treat", n_draws=20, seed=SEED, progress=False),
    "fake_timing_test": lambda p, w: did.fake_timing_test(p, "y", treat="treat"),
    "placebo_outcome_test": lambda p, w: did.placebo_outcome_test(p, ["x2"], treat="treat"),
    "psm_did": lambda p, w: did.psm_did(p, "y", "treat", ["x1"], seed=SEED),
    "callaway_santanna": lambda p, w: did.callaway_santanna(p, "y", "adoption"),
    "callaway_santanna.aggregate": lambda p, w: did.callaway_santanna(p, "y", "adoption").aggregate("simple"),
    "sun_abraham": lambda p, w: did.sun_abraham(p, "y", "adoption"),
    "imputation": lambda p, w: did.imputation(p, "y", "adoption"),
    "honest_did": lambda p, w: did.honest_did(_es(p, w), m_values=[0.0, 0.1]),
    "static_twfe": lambda p, w: did.static_twfe(p, "y", "adoption"),
    "synthetic_did": lambda p, w: did.synthetic_did(p, "y", "treat", se="jackknife", seed=SEED),
    "synthetic_control": lambda p, w: did.synthetic_control(p[p["adoption"].fillna(2014) == 2014], "y", "treat",
                                                            n_draws=10, seed=SEED),
    "triple_difference": lambda p, w: did.triple_difference(
        p.assign(g=(p.groupby("county")["x1"].transform("mean") > 0).astype(int)), "y", "treat", "g"),
    "long_difference": lambda p, w: did.long_difference(p[p["year"].isin([2010, 2019])], "y", "treat",
                                                         fe="province", cluster=None, vcov="hetero"),
    # analysis.regression
    "fe": lambda p, w: regression.fe("y ~ treat + x1", p),
    "hausman": lambda p, w: regression.hausman("y ~ treat + x1", p),
    "heterogeneity": lambda p, w: regression.heterogeneity("y ~ treat + x1", p, by="region", min_group_size=10),
    "mediation": lambda p, w: regression.mediation(p, "y", "treat", "m", n_draws=19, seed=SEED),
    "multiple_mediation": lambda p, w: regression.multiple_mediation(p, "y", "treat", ["m", "z"], n_draws=59,
                                                                     seed=SEED),
    "moderation": lambda p, w: regression.moderation(p, "y", "treat", "z"),
    "wild_bootstrap": lambda p, w: regression.wild_bootstrap("y ~ treat + x1", p, "treat", n_draws=99, seed=SEED),
    "threshold": lambda p, w: regression.threshold(p, "y", "q", "x1", grid=20, n_draws=5, seed=SEED),
    # analysis.spatial
    "spatial_panel": lambda p, w: spatial.spatial_panel(p, "y", ["x1"], w, n_draws=20, seed=SEED),
    "spatial_did": lambda p, w: spatial.spatial_did(p, "y", "treat", w, n_draws=20, seed=SEED),
    "lm_tests": lambda p, w: spatial.lm_tests(p, "y", ["x1"], w),
    "sdm_tests": lambda p, w: spatial.sdm_tests(p, "y", ["x1"], w),
    "moran": lambda p, w: spatial.moran(p.query("year == 2015")["y"].to_numpy(), w, seed=SEED,
                                        ids=p.query("year == 2015")["county"].to_numpy()),
    "moran_by_year": lambda p, w: spatial.moran_by_year(p, "y", w, seed=SEED),
    "local_moran": lambda p, w: spatial.local_moran(p.query("year == 2015")["y"].to_numpy(), w, seed=SEED,
                                                    ids=p.query("year == 2015")["county"].to_numpy()),
    "getis_ord": lambda p, w: spatial.getis_ord(p.query("year == 2015")["y"].to_numpy(), w, seed=SEED,
                                                ids=p.query("year == 2015")["county"].to_numpy()),
    # analysis.disparity
    "dagum_gini": lambda p, w: disparity.dagum_gini(p["y"].to_numpy(), p["region"].to_numpy()),
    "dagum_gini_panel": lambda p, w: disparity.dagum_gini_panel(p, "y", "region"),
    "theil": lambda p, w: disparity.theil(p["y"].to_numpy(), p["region"].to_numpy()),
    "markov_chain": lambda p, w: disparity.markov_chain(p, "y", k=3),
    "spatial_markov": lambda p, w: disparity.spatial_markov(p, "y", w, k=3),
    "sigma_convergence": lambda p, w: disparity.sigma_convergence(p, "y"),
    "beta_convergence": lambda p, w: disparity.beta_convergence(p, "y", kind="cross_section"),
    "geodetector": lambda p, w: disparity.geodetector(p.query("year == 2015"), "y", ["region", "province"], w=w,
                                                      id_col="county", n_draws=49, seed=SEED),
    "opgd": lambda p, w: disparity.opgd(p.query("year == 2015"), "y", ["x1"], w=w, id_col="county", n_draws=49,
                                        seed=SEED, k=range(3, 5)),
    # analysis.robustness
    "specification_curve": lambda p, w: robustness.specification_curve(
        p, {"outcome": "y", "treatment": "treat", "controls": "none", "sample": "full", "fe": ("county", "year"),
            "cluster": "county", "estimator": "twfe", "control_sets": {"none": (), "x1": ("x1",)},
            "samples": {"full": None}}, {"controls": ["none", "x1"]}, progress=False, index_builder=None),
    "design_power": lambda p, w: robustness.design_power(
        {"n_treated": 8, "selection": "random", "adoption": [2014, 2016], "years": (2010, 2019)},
        effect_sizes=[0.0, 0.4], n_sims=10, seed=SEED, panel=_twice(p), outcome="y"),
}

#: estimators converted on other branches; their checks are expected to fail here until the merge
CONVERTED_ELSEWHERE: dict[str, str] = {}

#: public callables that are not estimators, with the reason
NON_ESTIMATORS = {
    "plot_event_study": "plot", "plot_comparison": "plot", "plot_marginal_effects": "plot", "plot_lr": "plot",
    "lisa_map": "map", "plot_kde_ridges": "plot",
    "flci": "building block of honest_did (returns one interval)",
    "rm_confidence_set": "building block of honest_did (returns one interval)",
    "as_event_study": "converts a result to EventStudyResult",
    "compare_estimators": "table of results computed by the estimators above",
    "run_estimators": "runs the estimators above and returns their results",
    "imputation_did": "alias of imputation",
    "as_spatial_weights": "spatial weights", "distance_weights": "spatial weights",
    "economic_weights": "spatial weights", "knn_weights": "spatial weights", "queen_weights": "spatial weights",
    "weights_from_edges": "spatial weights", "weights_from_matrix": "spatial weights",
    "great_circle_km": "distance helper",
    "effects_point": "LeSage-Pace effects of given parameters (used by spatial_panel)",
    "simulate_effects": "LeSage-Pace effect draws of given parameters (used by spatial_panel)",
    "prepare_spatial_panel": "data preparation",
    "bandwidth": "kernel bandwidth rule", "kde": "density on a grid", "kde_panel": "densities on a grid by year",
    "convergence_speed": "arithmetic on a coefficient",
    "discretize": "data preparation for geodetector",
    "msr_q_test": "building block of the geodetector's spatial null (returns arrays of q)",
    "msr_q_test_fields": "building block of the geodetector's spatial null for many fields (size studies)",
    "factor_detector": "component of geodetector (which carries the contract)",
    "interaction_detector": "component of geodetector (which carries the contract)",
    "risk_detector": "component of geodetector (which carries the contract)",
    "ecological_detector": "component of geodetector (which carries the contract)",
    "default_index_builder": "index builder passed to specification_curve",
    "expand_grid": "list of specifications for specification_curve",
}

SEEDED = {"placebo_test", "psm_did", "mediation", "wild_bootstrap", "spatial_panel", "spatial_did", "synthetic_did",
          "synthetic_control", "multiple_mediation", "geodetector", "opgd"}


def _param(name):
    marks = ()
    if name in CONVERTED_ELSEWHERE:
        marks = (pytest.mark.xfail(reason=CONVERTED_ELSEWHERE[name], strict=False),)
    return pytest.param(name, marks=marks, id=name)


# ---------------------------------------------------------------------------------------------
# the checks
# ---------------------------------------------------------------------------------------------
def check_estimation_result(name: str, res: EstimationResult) -> None:
    tidy = res.to_frame()
    assert list(tidy.columns) == TIDY_COLUMNS, (name, list(tidy.columns))
    assert len(tidy) >= 1 and tidy["term"].is_unique and isinstance(tidy.index, pd.RangeIndex)
    assert tidy["term"].map(lambda t: isinstance(t, str)).all(), name
    assert isinstance(res.summary(), str) and len(res.summary()) > 0
    assert isinstance(res.rows, RowReport), f"{name}: rows is {type(res.rows).__name__}, not a RowReport"
    assert res.n_used == res.rows.n_used > 0 and res.n_dropped == res.rows.n_dropped
    assert isinstance(res.reference, str) and res.reference.strip(), f"{name}: no reference"
    assert isinstance(res.settings, dict)
    assert isinstance(res.outcome, str) and res.outcome, f"{name}: outcome not set"
    assert res.vcov_type in VCOV_TYPES and res.vcov_type, f"{name}: vcov_type {res.vcov_type!r}"
    assert isinstance(res.fixed_effects, tuple) and all(isinstance(f, str) for f in res.fixed_effects)
    assert isinstance(res.cluster, tuple)
    if res.vcov_type == "cluster":
        assert res.cluster, f"{name}: clustered but no cluster variable"
    if res.n_clusters is not None:
        assert isinstance(res.n_clusters, int) and res.n_clusters > 0
    if name in SEEDED:
        assert res.seed == SEED, f"{name}: seed {res.seed!r}, called with {SEED}"
    # the table writer accepts it and reads the typed fields
    table = regression_table([res], lang="en").to_frame()
    for fe_name, label in (("county", "County FE"), ("year", "Year FE")):
        if label in table.index:
            assert table.loc[label].iloc[0] == ("Yes" if fe_name in res.fixed_effects else "No"), (name, label)
        else:
            assert fe_name not in res.fixed_effects, (name, label)


def check_tidy_result(name: str, res: TidyResult) -> None:
    tidy = res.to_frame()
    assert isinstance(tidy, pd.DataFrame) and len(tidy) >= 1, name
    assert isinstance(tidy.index, pd.RangeIndex), f"{name}: to_frame() is not long (index {type(tidy.index)})"
    assert not isinstance(tidy.columns, pd.MultiIndex) and tidy.columns.is_unique
    assert any(pd.api.types.is_numeric_dtype(tidy[c]) for c in tidy.columns), f"{name}: no numbers"
    assert isinstance(res.summary(), str) and len(res.summary()) > 0
    assert isinstance(res.rows, RowReport), f"{name}: rows is {type(res.rows).__name__}, not a RowReport"
    assert res.n_used == res.rows.n_used
    assert isinstance(res.reference, str) and res.reference.strip(), f"{name}: no reference"
    assert isinstance(res.settings, dict)


@pytest.mark.parametrize("name", [_param(n) for n in ESTIMATORS])
def test_contract(name, panel, w):
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # small panel: short-T and few-cluster warnings are expected
        res = ESTIMATORS[name](panel, w)
    assert isinstance(res, (EstimationResult, TidyResult)), f"{name} returns a {type(res).__name__}"
    if isinstance(res, EstimationResult):
        check_estimation_result(name, res)
    else:
        check_tidy_result(name, res)


def test_every_public_callable_is_classified():
    """A new public function must be run through the contract or declared a non-estimator."""
    unclassified = []
    for mod_name, mod in MODULES.items():
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isclass(obj) or not callable(obj):
                continue
            if name not in ESTIMATORS and name not in NON_ESTIMATORS:
                unclassified.append(f"analysis.{mod_name}.{name}")
    assert not unclassified, (f"{unclassified}: add each to ESTIMATORS in tests/test_result_contract.py (and "
                              "return an EstimationResult or TidyResult) or to NON_ESTIMATORS with a reason")
    stale = [n for n in list(ESTIMATORS) + list(NON_ESTIMATORS) if "." not in n
             and not any(n in m.__all__ for m in MODULES.values())]
    assert not stale, f"{stale} are listed here but no longer exported"


def test_lincom_matches_wald_on_fe(panel):
    """lincom on an FE result: one term reproduces the coefficient; a difference matches the
    t-statistic of the equivalent one-restriction Wald test (F = t^2)."""
    res = regression.fe("y ~ treat + x1 + x2", panel)
    one = res.lincom({"treat": 1.0}).to_frame().iloc[0]
    ref = res.to_frame().set_index("term").loc["treat"]
    assert one["estimate"] == pytest.approx(ref["estimate"], rel=1e-12)
    assert one["p_value"] == pytest.approx(ref["p_value"], rel=1e-10)
    diff = res.lincom({"x1": 1.0, "x2": -1.0}).to_frame().iloc[0]
    wald = res.wald(R=np.array([[0.0, 1.0, -1.0]]))
    assert diff["statistic"] ** 2 == pytest.approx(wald["F"], rel=1e-9)
    assert diff["p_value"] == pytest.approx(wald["p_value"], rel=1e-8)
