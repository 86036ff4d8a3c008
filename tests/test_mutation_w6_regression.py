"""Wave-6 mutation review of the regression modules (issue 15; survivors listed in
tests/README.mutation-mutreg6.md): moderation, hausman, fe, heterogeneity, mediation and the
threshold search and result.

Each test pins what a user sees (a coefficient, a covariance, a message, a setting, a plot element)
to an independent computation or to its definition; tolerances are stated where not exact.
"""
from __future__ import annotations

import importlib
import warnings

import matplotlib
import numpy as np
import pandas as pd
import pytest
from test_regression_mechanisms import mech_panel

from analysis.errors import DuplicateKeyError
from analysis.regression import fe, moderation
from analysis.regression.moderation import plot_marginal_effects

matplotlib.use("Agg")


# --------------------------------------------------------------------------- moderation
def _centred(d: pd.DataFrame, x: str = "policy", z: str = "z") -> pd.DataFrame:
    """The centred interaction regressors of Aiken and West (1991), built by hand."""
    return d.assign(**{f"{x}_c": d[x] - d[x].mean(), f"{z}_c": d[z] - d[z].mean()})


def test_moderation_driscoll_kraay_with_a_renamed_time_column_and_one_way_effects():
    """vcov='driscoll-kraay' needs the time column even when it is not a fixed effect: the fit
    equals fe() on the centred variables with the same (renamed) time column and county effects
    only. Before the fix moderation() dropped the time column from the sample and fe() refused the
    call ("column 'year' ... is not in data") although the column was there. Same OLS and the same
    Driscoll-Kraay formula: rtol 1e-10."""
    d = mech_panel(seed=5).rename(columns={"year": "t"})
    r = moderation(d, "out2", "policy", "z", time="t", fe=("county",), vcov="driscoll-kraay", grid=5)
    ref = fe("out2 ~ policy_c + z_c + policy_c:z_c", _centred(d), time="t", fe=("county",),
             vcov="driscoll-kraay")
    np.testing.assert_allclose(r.params[ref.params.index], ref.params, rtol=1e-10)
    np.testing.assert_allclose(r.std_errors[ref.params.index], ref.std_errors, rtol=1e-10)
    assert r.settings["vcov"] == ref.settings["vcov"] and f"T = {d.t.nunique()} periods" in ref.settings["vcov"]
    assert r.df_resid == ref.df_resid == d.t.nunique() - 1  # t(T-1), as xtscc
    assert r.rows.n_used == len(d)


def test_moderation_refuses_duplicate_keys_when_time_is_not_a_fixed_effect():
    """Duplicate (county, year) keys are refused even when the year is neither a fixed effect
    nor the cluster (the fit then never sees the year column, so moderation's own check is the
    only one)."""
    d = mech_panel(seed=5)
    dup = pd.concat([d, d.iloc[[0]]], ignore_index=True)
    with pytest.raises(DuplicateKeyError, match=r"share a \(county, year\) key"):
        moderation(dup, "out2", "policy", "z", fe=("county",), grid=5)


def test_plot_marginal_effects_english_labels_layering_and_a_given_axis():
    """English title and axis labels; the curve's axis drawn above the histogram's with its
    background hidden (so the histogram shows through); the histogram axis without ticks or its
    top/right spines; ``ax=`` draws into the caller's axes and returns its figure."""
    import matplotlib.pyplot as plt

    r = moderation(mech_panel(seed=5), "out2", "policy", "z", grid=9)
    fig = plot_marginal_effects(r, "en")
    ax, ax2 = fig.axes
    assert ax.get_title() == "Marginal effect of policy by z"
    assert ax.get_ylabel() == "effect of policy" and ax.get_xlabel() == "z"
    assert ax.get_zorder() == ax2.get_zorder() + 1
    assert ax.patch.get_visible() is False  # set_visible takes a bool
    assert list(ax2.get_yticks()) == []
    assert ax2.spines["right"].get_visible() is False and ax2.spines["top"].get_visible() is False
    plt.close(fig)
    fig0, ax0 = plt.subplots()
    got = plot_marginal_effects(r, "en", ax=ax0)
    assert got is fig0 and ax0.get_title() == "Marginal effect of policy by z"
    assert [t.get_text() for t in ax0.get_legend().get_texts()] == ["95% CI", "marginal effect"]
    plt.close(fig0)


def test_moderation_result_fields_and_missing_column_messages():
    """The result's descriptive fields are the fit's (outcome, fixed effects, clusters, alpha) or
    name the model; interaction and its SE are the fit's b3 exactly; effect_at returns the same row
    as the curve at that value; a missing x, moderator or control is named in the error."""
    from analysis.errors import ColumnError

    d = mech_panel(seed=5)
    r = moderation(d, "out2", "policy", "z", controls=["x1"], at=[25.0], alpha=0.1)
    assert r.model == "Moderation of policy by z (centred)"
    assert r.reference.startswith("Aiken and West (1991)") and "Brambor, Clark and Golder (2006)" in r.reference
    assert r.outcome == "out2" and r.fixed_effects == ("county", "year") and r.alpha == 0.1 == r.fit.alpha
    assert r.n_clusters == r.fit.n_clusters == d.county.nunique() and r.cluster == ("county",)
    assert r.x == "policy" and r.moderator == "z"
    assert r.interaction == float(r.fit.params["policy_c:z_c"])
    assert r.interaction_se == float(r.fit.std_errors["policy_c:z_c"])
    np.testing.assert_array_equal(r.moderator_values, d.z.to_numpy())
    row = r.effect_at(25.0)
    curve = r.marginal_effects.iloc[0]
    for k in ("moderator", "effect", "std_error", "ci_low", "ci_high"):
        assert row[k] == pytest.approx(curve[k], rel=1e-14)
    for args, missing in ((("nox", "z", ["x1"]), "nox"), (("policy", "noz", ["x1"]), "noz"),
                          (("policy", "z", ["x1", "noc"]), "noc")):
        with pytest.raises(ColumnError, match=rf"^column '{missing}' is not in data\.$"):
            moderation(d, "out2", *args)


# --------------------------------------------------------------------------- hausman
def _grunfeld() -> pd.DataFrame:
    from analysis.datasets import load_reference

    return load_reference("grunfeld")


def test_hausman_defaults_coefficient_table_settings_and_messages():
    """Default panel keys (county, year) and methods (classic, robust); the coefficient table by its
    definition (difference = FE - RE; sqrt(diag(V_FE - V_RE)) = sqrt(FE_se^2 - RE_se^2) with the
    conventional SEs, clipped at 0); every settings key, the model name and the row count; the
    messages of the '| fe' and method= errors. rtol 1e-12: the same numbers squared back."""
    from analysis.errors import SpecificationError
    from analysis.regression import hausman

    g = _grunfeld()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # 10 firms: the few-clusters warning of the robust row
        r = hausman("inv ~ value + capital", g.rename(columns={"firm": "county"}))
        ref = hausman("inv ~ value + capital", g, entity="firm")
    pd.testing.assert_frame_equal(r.tests.drop(columns="note"), ref.tests.drop(columns="note"))
    assert r.tests.note.tolist() == ["", "clustered by county"]
    pd.testing.assert_frame_equal(r.coefficients, ref.coefficients)
    assert list(r.tests.method) == ["classic (Hausman 1978; Stata hausman, plm phtest)",
                                    "robust (auxiliary regression, Wooldridge 10.7.3; Stata xtoverid)"]
    c = r.coefficients.loc[["value", "capital"]]
    np.testing.assert_allclose(c["difference"], c["FE"] - c["RE"], rtol=1e-12)
    np.testing.assert_allclose(c["sqrt(diag(V_FE - V_RE))"],
                               np.sqrt(np.clip(c["FE_se"] ** 2 - c["RE_se"] ** 2, 0, None)), rtol=1e-9)
    assert (c["sqrt(diag(V_FE - V_RE))"] < 0.1).all()  # small here: a floor of 1 would show
    assert r.settings == {
        "formula": "inv ~ value + capital", "entity": "county", "time": "year",
        "tested_regressors": "value, capital", "time_effects": "none",
        "random_effects": "Swamy-Arora GLS (linearmodels RandomEffects = plm 'random', Stata xtreg, re)",
    }
    assert r.model == "Hausman test: fixed vs random effects"
    assert r.reference.startswith("Hausman (1978) Econometrica 46(6)") and "Mundlak (1978)" in r.reference
    assert r.rows.n_input == r.rows.n_used == len(g) == 200
    with pytest.raises(SpecificationError, match=r"^hausman\(\) tests the entity effect itself; write the "
                                                 r"formula without '\| fe'\.$"):
        hausman("inv ~ value | firm", g, entity="firm")
    with pytest.raises(SpecificationError, match=r"^method='sargan' is not one of 'classic', 'robust', 'mundlak'"):
        hausman("inv ~ value", g, entity="firm", method=("classic", "sargan"))


# --------------------------------------------------------------------------- fe
def test_check_cluster_variance_se_exactly_at_the_floor_is_degenerate():
    """The rule is "SE <= 1e-8 x the iid scale is (numerically) zero": at the floor itself the
    variance is refused. X a column of ones and u = (1, -1, 1, -1) give the iid scale
    sqrt((X'X)^-1 u'u / N) = sqrt(0.25 * 4 / 4) = 0.5 exactly, so the floor is 5e-9 in floating point."""
    from analysis.errors import SpecificationError
    fe_mod = importlib.import_module("analysis.regression.fe")

    X = np.ones((4, 1))
    u = np.array([1.0, -1.0, 1.0, -1.0])
    floor = 1e-8 * 0.5
    with pytest.raises(SpecificationError, match=r"standard errors of a are \(numerically\) zero"):
        fe_mod._check_cluster_variance(X, u, np.array([floor]), ["a"], {"G": 50}, ("c",))
    fe_mod._check_cluster_variance(X, u, np.array([np.nextafter(floor, 1.0)]), ["a"], {"G": 50}, ("c",))


def test_check_cluster_variance_messages_in_full():
    """Both texts of _check_cluster_variance word for word: the degenerate-variance error ends by
    naming the remedies, the few-clusters warning by naming the wild cluster bootstrap call."""
    import re

    from analysis.errors import SpecificationError
    from analysis.regression.fe import FewClustersWarning

    fe_mod = importlib.import_module("analysis.regression.fe")
    X = np.ones((4, 1))
    u = np.array([1.0, -1.0, 1.0, -1.0])
    err = ("the cluster-robust variance is degenerate with 3 clusters (c and d): the standard errors of a are "
           "(numerically) zero, because the cluster score sums cancel (with G = 3 they can span at most 2 "
           "dimension(s)). No valid cluster-robust inference is possible; cluster at a finer level, use "
           "vcov='hetero', or use randomization inference.")
    with pytest.raises(SpecificationError, match="^" + re.escape(err) + "$"):
        fe_mod._check_cluster_variance(X, u, np.array([0.0]), ["a"], {"G": 3}, ("c", "d"))
    warn = ("only 3 clusters (c and d): cluster-robust (CRV1) t-tests over-reject with fewer than about 42 "
            "clusters (Cameron, Gelbach and Miller 2008; MacKinnon and Webb 2017). Report wild cluster bootstrap "
            "p-values: analysis.regression.wild_bootstrap(formula, data, param, cluster=...) (Webb weights for "
            "fewer than about 12 clusters).")
    with pytest.warns(FewClustersWarning, match="^" + re.escape(warn) + "$"):
        fe_mod._check_cluster_variance(X, u, np.array([1.0]), ["a"], {"G": 3}, ("c", "d"))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # warn=False: silent
        fe_mod._check_cluster_variance(X, u, np.array([1.0]), ["a"], {"G": 3}, ("c", "d"), warn=False)


# --------------------------------------------------------------------------- heterogeneity
def test_heterogeneity_keys_alpha_bar_formula_cluster_none_and_messages():
    """Options reach every subgroup fit, checked against fe() on the subgroup: renamed panel keys,
    alpha (the estimates' CIs), FEs written after '|' in the formula (they replace fe=), cluster=None
    (HC1; no suest warning); group labels that are not identifiers become safe coefficient names;
    the two input messages word for word. Same OLS on the same rows: rtol 1e-10."""
    from analysis.errors import SpecificationError
    from analysis.regression import heterogeneity
    from analysis.regression.heterogeneity import _safe

    d = mech_panel(n=60, seed=8)
    d["area"] = d.region.map({"east": "north-east", "west": "south west", "central": "central"})
    k = d.rename(columns={"county": "cid", "year": "yr"})
    r = heterogeneity("out ~ policy + x1 | cid + yr", k, by="area", entity="cid", time="yr", cluster="cid",
                      alpha=0.1, test="both")
    assert r.settings["fixed_effects"] == "cid, yr"
    assert list(r.groups) == ["central", "north-east", "south west"]
    for g, fit in r.groups.items():
        ref = fe("out ~ policy + x1", k[k.area == g], entity="cid", time="yr", fe=("cid", "yr"), cluster="cid",
                 alpha=0.1)
        np.testing.assert_allclose(fit.params, ref.params, rtol=1e-10)
        blk = r.estimates[r.estimates.group == g].set_index("term")
        ci = ref.conf_int()
        np.testing.assert_allclose(blk.ci_low, ci.iloc[:, 0], rtol=1e-10)
        np.testing.assert_allclose(blk.ci_high, ci.iloc[:, 1], rtol=1e-10)
        assert r.interacted.params[f"policy__{_safe(g)}"] == pytest.approx(ref.params["policy"], rel=1e-9)
    assert _safe("north-east") == "north_east" and _safe("south west") == "south_west" and _safe("") == "g"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # cluster=None: no suest warning about crossing clusters
        h = heterogeneity("out ~ policy", d.assign(grp=np.where(d.year % 2 == 0, "even", "odd")), by="grp",
                          cluster=None, test="suest")
    assert h.settings["cluster"] is None and h.settings["interacted_fixed_effects"] == "-"
    pooled = heterogeneity("out ~ policy", d, by="region", fe=None, test="both")
    assert pooled.settings["fixed_effects"] == "none" and pooled.settings["interacted_fixed_effects"] == ""
    assert all(f.fixed_effects == () for f in pooled.groups.values())
    assert h.settings["vcov"].startswith("heteroskedasticity-robust (HC1)")
    with pytest.raises(SpecificationError, match=r"^data must be a pandas DataFrame\.$"):
        heterogeneity("out ~ policy", d.to_dict("list"), by="region")
    with pytest.raises(SpecificationError, match=r"^'region' has fewer than two groups with at least 500 rows "
                                                 r"\(\{'east': 160, 'west': 160, 'central': 160\}\); "
                                                 r"nothing to compare\.$"):
        heterogeneity("out ~ policy", d, by="region", min_group_size=500)


# --------------------------------------------------------------------------- mediation
def test_mediation_result_fields_settings_and_generator_seed():
    """mediation(): every settings key, model name, reference, the result's fit fields (those of
    the total-effect equation), the three equations equal fe() on the common sample (rtol 1e-10:
    the same OLS), and a Generator seed is used but not recorded as an integer seed."""
    from analysis.regression import mediation
    from analysis.regression.mediation import CAUSAL_NOTE, REFERENCE

    d = mech_panel(n=40, T=6, seed=3)
    r = mediation(d, "np.log(out + 10)", "policy", "med", controls=["x1"], n_draws=20,
                  seed=np.random.default_rng(5))
    dl = d.assign(_y_=np.log(d.out + 10))
    refs = {"total": fe("_y_ ~ policy + x1", dl), "a": fe("med ~ policy + x1", dl),
            "b": fe("_y_ ~ policy + med + x1", dl)}
    for k, ref in refs.items():
        np.testing.assert_allclose(r.equations[k].params, ref.params, rtol=1e-10)
    s = r.settings
    assert s["outcome"] == "np.log(out + 10)" and s["treatment"] == "policy" and s["mediator"] == "med"
    assert s["vcov"] == refs["total"].settings["vcov"] and s["note"] == CAUSAL_NOTE
    assert s["indirect_se"] == "Sobel (1982) delta method with the clustered SEs of a and b; z test"
    assert s["bootstrap"].startswith("county-cluster pairs bootstrap, 20 draws, percentile CIs, seed=Generator(")
    assert r.model == "Mediation with fixed effects (three equations)" and r.reference == REFERENCE
    assert r.outcome == "np.log(out + 10)" and r.fixed_effects == ("county", "year")
    assert r.vcov_type == refs["total"].vcov_type == "cluster" and r.cluster == ("county",)
    assert r.n_clusters == 40 and r.seed is None and r.n_draws == 20
    assert r.df_resid == refs["total"].df_resid
    assert r.std_errors["total"] == pytest.approx(refs["total"].std_errors["policy"], rel=1e-10)
    assert r.std_errors["direct"] == pytest.approx(refs["b"].std_errors["policy"], rel=1e-10)
    assert r.std_errors["b"] == pytest.approx(refs["b"].std_errors["med"], rel=1e-10)


def test_multiple_mediation_messages_stats_table_and_summary_lines():
    """multiple_mediation(): its three own messages word for word; stats (N, identity gap,
    proportion mediated) by definition; table() percentile columns from the returned draws; each
    warning printed on its own "  WARNING: " line after the coefficient table."""
    from analysis.errors import SpecificationError
    from analysis.regression import multiple_mediation
    from analysis.regression.mediation import MULTI_WARNINGS

    d = mech_panel(n=40, T=6, seed=3)
    d["med2"] = 0.5 * d.med + np.random.default_rng(1).normal(size=len(d))
    with pytest.raises(SpecificationError, match=r"^multiple_mediation needs two or more mediators; for one use "
                                                 r"mediation\(\)\.$"):
        multiple_mediation(d, "out", "policy", ["med"])
    with pytest.raises(SpecificationError, match=r"^n_boot must be an integer >= 50 for percentile intervals, "
                                                 r"got 49\.$"):
        multiple_mediation(d, "out", "policy", ["med", "med2"], n_draws=49)
    with pytest.raises(SpecificationError, match=r"^n_boot must be an integer >= 50 for percentile intervals, "
                                                 r"got 60\.0\.$"):
        multiple_mediation(d, "out", "policy", ["med", "med2"], n_draws=60.0)
    with pytest.raises(SpecificationError, match=r"^model='chain' is not one of 'parallel', 'serial'"):
        multiple_mediation(d, "out", "policy", ["med", "med2"], model="chain")
    r = multiple_mediation(d, "out", "policy", ["med", "med2"], model="serial", n_draws=50, seed=2, alpha=0.1)
    p = r.params
    ind = p["ind: policy->med->out"] + p["ind: policy->med2->out"] + p["ind: policy->med->med2->out"]
    assert p["total_indirect"] == pytest.approx(ind, rel=1e-12)
    assert r.stats["N"] == len(d)
    assert r.stats["identity_gap"] == pytest.approx(p["total"] - p["direct"] - ind, abs=1e-12)
    assert r.stats["proportion_mediated"] == pytest.approx(ind / p["total"], rel=1e-12)
    t = r.table().set_index("path")
    for path in ("total", "ind: policy->med->med2->out", "d[med2<-med]"):
        draws = r.boot[path].to_numpy()
        assert t.loc[path, "boot_ci_low"] == pytest.approx(np.quantile(draws, 0.05), rel=1e-12)
        assert t.loc[path, "boot_ci_high"] == pytest.approx(np.quantile(draws, 0.95), rel=1e-12)
        assert r.std_errors[path] == pytest.approx(np.std(draws, ddof=1), rel=1e-12)
    lines = r.summary().split("\n")
    k = lines.index("Read before interpreting the indirect effects:")
    assert lines[k - 1] == "" and lines[k + 1:] == [f"  WARNING: {w}" for w in MULTI_WARNINGS]
    assert "\n".join(lines[:k - 1]) == super(type(r), r).summary()
    assert r.fixed_effects == ("county", "year") and r.cluster == ("county",) and r.alpha == 0.1


@pytest.mark.parametrize("formula", ["y ~ np.log(x1 - 1000)", "np.log(y - 1000) ~ x1",
                                     "y ~ x2 + x1:np.log(x2 - 1000)"])
def test_fe_formula_that_leaves_no_rows_is_an_error_not_a_crash(formula):
    """A transformation that is undefined on every row (log of values <= 0) leaves no rows. With
    fixed effects pyfixest 0.60 then aborted the Python process (a panic in its Rust demeaning);
    fe() now refuses the formula with a message naming it. A transformation that leaves some rows
    still runs and counts the rows it lost."""
    import re

    from test_regression_fe import small_panel

    from analysis.errors import SpecificationError

    d = small_panel(seed=1)
    with pytest.raises(SpecificationError, match=r"^no rows left to estimate " + re.escape(repr(formula))
                       + r": every row has a missing or infinite value after the transformations"):
        fe(formula, d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pyfixest's note on the NaN rows it drops
        part = fe("y ~ x1 + np.log(x2)", d)
    n_bad = int((d.x2 <= 0).sum())
    assert 0 < n_bad < len(d) and part.rows.dropped["missing after transformations in the formula"] == n_bad


def test_fe_forwards_pyfixest_notes_but_not_library_chatter(monkeypatch):
    """Of the warnings raised inside pyfixest's fit, fe() re-issues the substantive ones prefixed
    "pyfixest: " (a user note, a numpy RankWarning, a RuntimeWarning) in order, and drops
    deprecation notices and pandas/numpy chatter (PerformanceWarning, VisibleDeprecationWarning), whatever
    their order: a notice first must not stop the rest."""
    import pyfixest

    real = pyfixest.feols

    def noisy(*args, **kwargs):
        warnings.warn("old keyword", FutureWarning)
        warnings.warn("slow path", pd.errors.PerformanceWarning)
        warnings.warn("note one", UserWarning)
        warnings.warn("rank deficient", np.exceptions.RankWarning)
        warnings.warn("visible", np.exceptions.VisibleDeprecationWarning)
        warnings.warn("old call", DeprecationWarning)
        warnings.warn("overflow", RuntimeWarning)
        return real(*args, **kwargs)

    monkeypatch.setattr(pyfixest, "feols", noisy)
    d = mech_panel(n=60, seed=2)
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fe("out ~ policy + x1", d)
    got = [(w.category, str(w.message)) for w in rec if str(w.message).startswith("pyfixest: ")]
    assert got == [(UserWarning, "pyfixest: note one"), (np.exceptions.RankWarning, "pyfixest: rank deficient"),
                   (RuntimeWarning, "pyfixest: overflow")]


def test_mediation_bootstrap_does_not_depend_on_the_row_order():
    """The cluster bootstrap numbers the clusters in sorted order before drawing their
    multiplicities, so the same seed gives the same draws whatever the order of the rows (here the
    counties appear in reverse order). Same sums in another order: rtol 1e-9."""
    from analysis.regression import mediation

    d = mech_panel(n=40, T=6, seed=3)
    rev = d.iloc[::-1].reset_index(drop=True)
    assert rev.county.iloc[0] != sorted(d.county.unique())[0]
    a = mediation(d, "out", "policy", "med", controls=["x1"], n_draws=25, seed=11)
    b = mediation(rev, "out", "policy", "med", controls=["x1"], n_draws=25, seed=11)
    np.testing.assert_allclose(b.boot.to_numpy(), a.boot.to_numpy(), rtol=1e-9)
    from analysis.regression import multiple_mediation

    d["med2"] = 0.5 * d.med + np.random.default_rng(1).normal(size=len(d))
    rev = d.iloc[::-1].reset_index(drop=True)
    ma = multiple_mediation(d, "out", "policy", ["med", "med2"], model="serial", n_draws=50, seed=11)
    mb = multiple_mediation(rev, "out", "policy", ["med", "med2"], model="serial", n_draws=50, seed=11)
    np.testing.assert_allclose(mb.boot.to_numpy(), ma.boot.to_numpy(), rtol=1e-9)


def test_mediation_common_sample_check_names_the_equation(monkeypatch):
    """If an equation were fitted on fewer rows than the common sample, the error names that
    equation as the result does ('b' for the outcome equation with the mediator)."""
    from analysis.errors import SpecificationError
    from analysis.regression import mediation
    from analysis.regression.mediation import _MediationInputs

    real = _MediationInputs.fit

    def short_b(self, formula):
        if "+ med" in formula:  # y ~ x + m: fit it on all rows but one
            return fe(formula, self.frame.iloc[1:], **self.fe_kw)
        return real(self, formula)

    monkeypatch.setattr(_MediationInputs, "fit", short_b)
    d = mech_panel(n=40, T=6, seed=3)
    with pytest.raises(SpecificationError, match=r"^equation 'b' used 239 rows, not the common 240; "):
        mediation(d, "out", "policy", "med", n_draws=0)


# --------------------------------------------------------------------------- threshold search
def _threshold_model(trims, n=20, T=4, seed=21, max_cache=16):
    """A _Model on Hansen's design (q-sorted rows, as threshold() passes them) and its grid."""
    from test_threshold import hansen_panel

    from analysis.regression.threshold._search import _Model

    df = hansen_panel(n=n, T=T, seed=seed).sort_values("q", kind="stable")
    ids = pd.factorize(df.county, sort=True)[0]
    grid = np.quantile(df.q, np.linspace(0.1, 0.9, 9))
    m = _Model(df.y.to_numpy(), df[["x0"]].to_numpy(), df[["r0"]].to_numpy(), df.q.to_numpy(), ids,
               np.full(len(df), float(T)), np.zeros((len(df), 0)), "right", grid, trims)
    m.max_cache = max_cache
    return m, df, grid


def test_threshold_model_searcher_cache_trims_by_stage_and_pinning():
    """_Model.searcher: one searcher per (sorted fixed thresholds, minimum regime size, grid); the
    trim of a stage beyond the list is the last one; the cache holds at most max_cache searchers and
    evicts the oldest one not pinned (the estimation's own searchers stay); an evicted searcher is
    rebuilt with the same SSR. The minimum regime size is max(ceil(trim N), k_r + 1) rows."""
    from analysis.regression.threshold._grid import share_mask

    m, df, grid = _threshold_model([0.05, 0.3], max_cache=2)
    N = len(df)
    lin = m.searcher((), 1, pin=True)
    assert m.searcher((), 1) is lin
    s2 = m.searcher((), 2)
    assert m.searcher((), 3) is s2 and s2 is not lin  # stage 3 uses the last trim, 0.3
    min2 = max(int(np.ceil(0.3 * N)), 2)
    g1 = float(grid[4])
    a = m.searcher((g1,), 2)  # cache full (lin, s2): s2 evicted, lin pinned
    assert set(m._cache) == {((), max(int(np.ceil(0.05 * N)), 2), True, 9), ((g1,), min2, True, 9)}
    assert m.searcher((), 1) is lin
    np.testing.assert_array_equal(a.ok, share_mask(grid, np.sort(df.q.to_numpy()), (g1,), min2, "right")
                                  & a.ok)  # candidates too close to g1 masked
    assert not a.ok[4]
    e_lin = lin.residualise(m.Yd)
    s2_again = m.searcher((), 2)  # rebuilt after eviction (a evicted now: lin stays pinned)
    assert s2_again is not s2 and len(m._cache) == 2 and ((), min2, True, 9) in m._cache
    assert ((g1,), min2, True, 9) not in m._cache
    np.testing.assert_allclose(s2_again.ssr(s2_again.residualise(m.Yd)), s2.ssr(s2.residualise(m.Yd)), rtol=1e-12)
    # the key is the sorted set of fixed thresholds; an explicit grid is cached apart from the default one
    g0, g2 = float(grid[1]), float(grid[7])
    assert m.searcher((g2, g0), 3) is m.searcher((g0, g2), 3)
    own = m.searcher((), 1, grid=grid)
    assert own is not lin
    np.testing.assert_allclose(own.ssr(own.residualise(m.Yd)), lin.ssr(e_lin), rtol=1e-12)


# --------------------------------------------------------------------------- threshold result
def test_threshold_result_last_regime_label_default_language_and_plot_styles():
    """regime_labels: the last regime is "q > the largest threshold" (three thresholds, so the
    largest is not the second); ThresholdResult.plot() is Chinese by default; plot_lr draws the LR
    curve 1.2 wide in C0, the critical value dashed in C3 and the estimate dotted in grey 0.4."""
    import copy

    import matplotlib.colors as mcolors
    import matplotlib.pyplot as plt
    from test_threshold import hansen_panel

    from analysis.regression.threshold import threshold

    res = threshold(hansen_panel(n=30, T=4, seed=4), "y", "q", "r0", controls=["x0"], n_draws=0, grid=20)
    three = copy.copy(res)
    three.thresholds = np.array([-1.0, 0.0, 1.0])
    lab = three.regime_labels(digits=1)
    assert lab["r0_regime3"] == "r0 × I(q > 1.0)" and lab["r0_regime0"] == "r0 × I(q ≤ -1.0)"
    assert lab["r0_regime1"] == "r0 × I(-1.0 < q ≤ 0.0)" and lab["r0_regime2"] == "r0 × I(0.0 < q ≤ 1.0)"
    fig = res.plot()
    ax = fig.axes[0]
    assert ax.get_title() == "似然比统计量（Th-1）"
    curve = next(ln for ln in ax.get_lines() if ln.get_label() == "LR(γ)")
    assert curve.get_linewidth() == 1.2 and mcolors.to_hex(curve.get_color()) == mcolors.to_hex("C0")
    crit = next(ln for ln in ax.get_lines() if ln.get_linestyle() == "--")
    assert mcolors.to_hex(crit.get_color()) == mcolors.to_hex("C3")
    est = next(ln for ln in ax.get_lines() if ln.get_linestyle() == ":")
    assert mcolors.to_hex(est.get_color()) == mcolors.to_hex("0.4")
    assert list(est.get_xdata()) == [res.thresholds[0]] * 2
    plt.close(fig)


def test_fe_result_names_its_outcome_and_a_two_way_cluster():
    """The result carries the formula's outcome and the clustering as the user gave it, two-way
    clusters joined by ", " (the settings line a table prints)."""
    from analysis.regression.fe import FewClustersWarning

    with pytest.warns(FewClustersWarning, match=r"only 8 clusters \(county and year\)"):
        res = fe("out ~ policy + x1", mech_panel(n=60, seed=2), cluster=("county", "year"))
    assert res.outcome == "out"
    assert res.settings["cluster"] == "county, year"


def test_fe_keeps_other_pyfixest_notes_when_a_regressor_is_collinear(monkeypatch):
    """With a collinear regressor only pyfixest's collinearity note is replaced (by the
    CollinearityWarning naming the variable); any other note of the same fit still reaches the user."""
    import pyfixest

    from analysis.regression.fe import CollinearityWarning

    real = pyfixest.feols

    def noisy(*args, **kwargs):
        warnings.warn("note one", UserWarning)
        return real(*args, **kwargs)

    monkeypatch.setattr(pyfixest, "feols", noisy)
    d = mech_panel(n=60, seed=2)
    d["twice_x1"] = 2.0 * d["x1"]
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        res = fe("out ~ policy + x1 + twice_x1", d)
    msgs = [str(w.message) for w in rec]
    assert "pyfixest: note one" in msgs
    assert [m for m in msgs if m.startswith("pyfixest:") and "collinearity" in m] == []
    collinear = [m for w, m in zip(rec, msgs) if w.category is CollinearityWarning]
    assert len(collinear) == 1 and "twice_x1" in collinear[0]
    assert "twice_x1" not in res.params.index


def test_threshold_result_plot_draws_the_stages_it_is_given():
    """ThresholdResult.plot(stages=...) passes the stages to plot_lr: one panel per stage given, in
    that order (a stage may be drawn twice), titled by it; without stages, one panel per stage fitted."""
    import matplotlib.pyplot as plt

    from analysis.regression import threshold

    rng = np.random.default_rng(0)
    d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    d["x"] = rng.normal(size=len(d))
    d["q"] = rng.uniform(size=len(d))
    d["y"] = np.where(d["q"] <= 0.5, 0.5, 1.0) * d["x"] + rng.normal(scale=0.1, size=len(d))
    res = threshold(d, "y", "q", "x", grid=15, n_draws=19, seed=0)
    fig = res.plot(lang="en", stages=["Th-1", "Th-1"])
    assert [ax.get_title() for ax in fig.axes] == ["LR statistic, Th-1", "LR statistic, Th-1"]
    plt.close(fig)
    fig = res.plot(lang="en")
    assert [ax.get_title() for ax in fig.axes] == [f"LR statistic, {s}" for s in dict.fromkeys(res.lr_curve["stage"])]
    plt.close(fig)


def test_fe_log_of_negative_values_warns_once_through_pyfixest():
    """fe()'s own pre-check of numpy terms (rows left after ``np.log(x)``) evaluates quietly: the user
    sees numpy's invalid-value note once, forwarded from pyfixest's fit with its prefix, not twice."""
    d = mech_panel(n=60, seed=2)
    d.loc[d.index[:5], "x1"] = -1.0
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        fe("out ~ policy + np.log(x1)", d)
    runtime = [str(w.message) for w in rec if issubclass(w.category, RuntimeWarning)]
    assert runtime == ["pyfixest: invalid value encountered in log"]
