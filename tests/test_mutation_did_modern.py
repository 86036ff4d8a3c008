"""Mutation-testing follow-up for the modern DiD estimators (issue 15): Callaway-Sant'Anna
(``analysis/did/callaway_santanna/*``), Sun-Abraham, the BJS imputation estimator and HonestDiD.

Each test pins a behaviour that a surviving mutmut mutant changed (the review is in
``tests/README.md``). Expected values come from the definitions, computed here independently of the
package (numpy formulas written out again), or from the package's own documented identities
(e.g. the default aggregation is ``"group"``); never from a stored run of the package.
"""
from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.did.callaway_santanna import callaway_santanna
from analysis.errors import SpecificationError

#: identities between two calls of the same code path hold to rounding of sums of ~2,500 terms
EPS = 1e-12


@pytest.fixture(scope="module")
def mpdta():
    from analysis.datasets import load_reference

    return load_reference("mpdta")


@pytest.fixture(scope="module")
def cs_reg(mpdta):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return callaway_santanna(mpdta, "lemp", "first.treat", entity="countyreal", time="year", method="reg")


def _same(a: pd.DataFrame, b: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(a.reset_index(drop=True), b.reset_index(drop=True), rtol=EPS, atol=EPS)


# ---- CallawaySantAnnaResult methods (results.py) -------------------------------------------------
def test_cs_result_method_defaults(cs_reg):
    r = cs_reg
    # aggregate() defaults to the group aggregation (R aggte's default is "group")
    d = r.aggregate()
    assert d.kind == "group"
    _same(d.table, r.aggregate("group").table)
    # the default event-time window is everything: every event time of the ATT(g,t) cells appears
    dyn = r.aggregate("dynamic")
    assert dyn.table["event_time"].tolist() == sorted(r.att_gt["event_time"].unique().tolist())
    assert dyn.table["event_time"].tolist() == [-3, -2, -1, 0, 1, 2, 3]
    # max_e default (inf) keeps every post cell in the simple aggregation: the share-weighted mean
    # of all post ATT(g,t), written out here (weights = cohort sizes, each cell of a cohort alike)
    post = r.att_gt[r.att_gt["post"]]
    size = pd.Series(r.unit_group).value_counts()
    w = post["group"].map(lambda g: size[float(g)]).to_numpy(dtype=float)
    simple = float(post["att"].to_numpy() @ w / w.sum())
    assert abs(r.aggregate("simple").overall["estimate"].iloc[0] - simple) < EPS
    # the defaults of the estimation are reused: analytic SEs, no draws
    assert r.aggregate("simple").settings["se"] == "analytic influence function"
    # event_time_table() is the dynamic table
    _same(r.event_time_table(), dyn.table)
    _same(r.event_time_table(max_e=1), r.aggregate("dynamic", max_e=1).table)
    # event_study(): overall defaults to "simple" (not the dynamic average)
    es = r.event_study()
    assert es.overall["estimate"] == pytest.approx(r.aggregate("simple").overall["estimate"].iloc[0], abs=EPS)
    assert abs(r.aggregate("simple").overall["estimate"].iloc[0]
               - r.aggregate("dynamic").overall["estimate"].iloc[0]) > 1e-3  # the two differ on mpdta
    es_d = r.event_study(overall="dynamic", max_e=2)
    assert es_d.overall["estimate"] == pytest.approx(r.aggregate("dynamic", max_e=2).overall["estimate"].iloc[0],
                                                     abs=EPS)


def test_cs_result_alpha_passed_on(cs_reg):
    from scipy import stats

    g = cs_reg.aggregate("group", alpha=0.10)
    z = stats.norm.ppf(0.95)
    t = g.table
    np.testing.assert_allclose(t["ci_high"] - t["estimate"], z * t["std_error"], rtol=1e-12)
    assert g.alpha == 0.10


def test_cs_result_na_rm_default_raises(cs_reg):
    r = cs_reg
    tab = r.att_gt.copy()
    tab.loc[0, "att"] = np.nan
    broken = dataclasses.replace(r, att_gt=tab)
    with pytest.raises(SpecificationError, match="na_rm=True"):
        broken.aggregate("simple")
    ok = broken.aggregate("simple", na_rm=True)
    assert np.isfinite(ok.overall["estimate"].iloc[0])


def test_cs_result_deprecated_bootstrap_keyword(cs_reg):
    r = cs_reg
    new = r.aggregate("dynamic", n_draws=199, seed=3)
    with pytest.warns(DeprecationWarning, match="n_draws"):
        old = r.aggregate("dynamic", bootstrap=199, seed=3)
    _same(old.table, new.table)
    assert old.settings["se"] == "multiplier bootstrap (Mammen)"
    with pytest.warns(DeprecationWarning, match="n_draws"):
        es_old = r.event_study(bootstrap=199, seed=3)
    es_new = r.event_study(n_draws=199, seed=3)
    np.testing.assert_allclose(es_old.event_time["std_error"], es_new.event_time["std_error"], rtol=EPS)


# ---- multiplier bootstrap (bootstrap.py), written out again from R did::mboot ------------------
def _mboot_by_hand(psi, n_draws, alpha, seed, cluster=None):
    """R ``did::mboot``: Mammen weights, R = sqrt(n) mean(V psi), IQR/1.349 SEs, sup-t critical value."""
    from scipy import stats

    psi = np.asarray(psi, float).reshape(len(psi), -1)
    if cluster is not None:
        psi = np.vstack([psi[cluster == c].mean(axis=0) for c in np.unique(cluster)])
    n = psi.shape[0]
    rng = np.random.default_rng(seed)
    p = (1 + np.sqrt(5)) / (2 * np.sqrt(5))
    V = np.where(rng.random((n_draws, n)) <= p, (1 - np.sqrt(5)) / 2, (1 + np.sqrt(5)) / 2)
    R = V @ psi / np.sqrt(n)
    q = np.quantile(R, [0.25, 0.75], axis=0, method="inverted_cdf")
    sig = (q[1] - q[0]) / (stats.norm.ppf(0.75) - stats.norm.ppf(0.25))
    crit = np.quantile(np.max(np.abs(R / sig), axis=1), 1 - alpha, method="inverted_cdf")
    return sig / np.sqrt(n), float(crit), R


def test_multiplier_bootstrap_by_hand():
    from analysis.did.callaway_santanna import multiplier_bootstrap

    rng = np.random.default_rng(11)
    psi = rng.normal(size=(150, 3)) * np.array([1.0, 2.0, 0.5]) + rng.normal(size=(150, 1))
    for alpha, cl in ((0.05, None), (0.10, None), (0.05, rng.integers(0, 17, 150))):
        se, crit, R = _mboot_by_hand(psi, 301, alpha, 4, cl)
        out = multiplier_bootstrap(psi, 301, alpha, seed=4, cluster=cl)
        np.testing.assert_allclose(out["bres"], R, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(out["se"], se, rtol=1e-12)
        assert abs(out["crit_val"] - crit) < 1e-12
    # batches of 7 draws give the same stream as one block
    small = multiplier_bootstrap(psi, 301, 0.05, seed=4, batch_bytes=8 * 150 * 7)
    np.testing.assert_allclose(small["bres"], multiplier_bootstrap(psi, 301, seed=4)["bres"], rtol=0, atol=1e-12)
    # a single influence function (1-D) is one column
    one = multiplier_bootstrap(psi[:, 0], 301, seed=4)
    assert one["bres"].shape == (301, 1)
    assert one["se"][0] == pytest.approx(_mboot_by_hand(psi[:, :1], 301, 0.05, 4)[0][0], rel=1e-12)


def test_multiplier_bootstrap_nan_and_degenerate_columns():
    from analysis.did.callaway_santanna import multiplier_bootstrap

    rng = np.random.default_rng(12)
    psi = rng.normal(size=(120, 4))
    psi[5, 1] = np.nan       # a missing influence function: that column is NA, the others untouched
    psi[:, 2] = 0.0          # a fixed cell (universal base period): SE undefined
    out = multiplier_bootstrap(psi, 199, seed=2)
    assert np.isnan(out["se"][1]) and np.isnan(out["se"][2])
    assert np.all(np.isnan(out["bres"][:, 1]))
    keep = [0, 3]
    se, crit, _ = _mboot_by_hand(psi[:, keep], 199, 0.05, 2)
    np.testing.assert_allclose(out["se"][keep], se, rtol=1e-12)
    assert abs(out["crit_val"] - crit) < 1e-12   # the critical value uses the defined columns only
    # nothing defined: NaN SEs and critical value
    none = multiplier_bootstrap(np.zeros((50, 2)), 99, seed=1)
    assert np.all(np.isnan(none["se"])) and np.isnan(none["crit_val"])


def test_mammen_draws_two_point_law():
    from analysis.did.callaway_santanna.bootstrap import mammen_draws

    v = mammen_draws(np.random.default_rng(0), (400, 500))
    k1, k2 = (1 - np.sqrt(5)) / 2, (1 + np.sqrt(5)) / 2
    assert set(np.unique(v)) == {k1, k2}
    # P(V = k1) = (1 + sqrt5) / (2 sqrt5) = 0.7236; 200,000 draws: sd 0.001, tolerance 5 sd
    assert abs(np.mean(v == k1) - (1 + np.sqrt(5)) / (2 * np.sqrt(5))) < 0.005
    assert abs(v.mean()) < 0.005 and abs(v.var() - 1) < 0.01


# ---- HonestDiD result: breakdown, to_frame, plot (honest.py) -----------------------------------
def _honest_small(method="smoothness", m_values=(0.0, 0.1, 0.2)):
    from analysis.did.honest import honest_did

    b = np.array([0.01, -0.02, 0.0, 0.5, 0.6])
    S = np.diag([0.01, 0.01, 0.01, 0.02, 0.02]) ** 2 * 100
    return honest_did(betahat=b, sigma=S, n_pre=3, method=method, m_values=list(m_values))


def test_honest_result_breakdown_and_frame():
    from analysis.did.honest import HonestDiDResult

    tab = pd.DataFrame({"M": [0.0, 0.5, 1.0, 1.5], "lb": [0.1, 0.0, -0.2, 0.3], "ub": [0.4, 0.5, 0.6, 0.9],
                        "method": "FLCI", "Delta": "DeltaSD"})
    r = HonestDiDResult(method="smoothness", table=tab, original={})
    # lb > 0 at M = 0 and 1.5; lb = 0 does not exclude zero
    assert r.breakdown() == 1.5
    neg = HonestDiDResult(method="smoothness", table=tab.assign(lb=-tab["ub"], ub=[-0.1, 0.0, 0.2, -0.3]),
                          original={})
    assert neg.breakdown() == 1.5   # ub < 0 at M = 0 and 1.5; ub = 0 does not exclude zero
    none = HonestDiDResult(method="smoothness", table=tab.assign(lb=-1.0, ub=1.0), original={})
    assert np.isnan(none.breakdown())
    f = r.to_frame()
    assert list(f.columns) == ["M", "ci_low", "ci_high", "method", "Delta"]
    assert f["ci_low"].tolist() == tab["lb"].tolist() and f["ci_high"].tolist() == tab["ub"].tolist()


def test_honest_plot_elements():
    import matplotlib.pyplot as plt

    for method, xlabel, tag in (("smoothness", "M (smoothness bound on the trend violation)", "FLCI"),
                                ("relative_magnitude", "Mbar (relative-magnitudes bound)", "C-LF")):
        h = _honest_small(method, (0.0, 0.5, 1.0) if method == "relative_magnitude" else (0.0, 0.1, 0.2))
        fig = h.plot(lang="en")
        ax = fig.axes[0]
        assert tuple(np.round(fig.get_size_inches(), 6)) == (6.0, 3.6)
        assert ax.get_xlabel() == xlabel
        assert ax.get_ylabel() == "Effect (95% CI)"
        assert ax.get_title() == "HonestDiD sensitivity"
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Original CI", f"Robust CI ({tag})"]
        Ms, lb, ub = h.table["M"].to_numpy(), h.table["lb"].to_numpy(), h.table["ub"].to_numpy()
        orig, robust = ax.containers[0], ax.containers[1]
        # the original CI sits one grid step left of the first M, drawn at its midpoint
        step = (Ms.max() - Ms.min()) / (len(Ms) - 1)
        x0, y0 = orig.lines[0].get_data()
        assert np.allclose(x0, [Ms.min() - step]) and np.allclose(y0, [h.original["estimate"]], atol=1e-12)
        seg = orig.lines[2][0].get_segments()[0]
        assert np.allclose(seg[:, 1], [h.original["lb"], h.original["ub"]], atol=1e-12)
        segs = robust.lines[2][0].get_segments()
        assert np.allclose([s[0, 0] for s in segs], Ms)
        assert np.allclose([sorted(s[:, 1]) for s in segs], np.c_[lb, ub], atol=1e-12)
        assert orig.lines[1][0].get_markersize() == 6   # capsize 3 -> cap markers of size 2 * 3
        hl = [ln for ln in ax.lines if np.allclose(ln.get_ydata(), 0)]
        assert len(hl) == 1 and hl[0].get_linewidth() == 0.8
        plt.close(fig)
    # on a given axis the same figure is returned; a one-point grid uses a unit step
    fig, ax = plt.subplots()
    one = _honest_small("smoothness", (0.1,))
    assert one.plot(lang="en", ax=ax) is fig
    assert np.allclose(ax.containers[0].lines[0].get_xdata(), [0.1 - 1.0])
    plt.close(fig)


# ---- aggregation.event_study and the aggregate table (aggregation.py) --------------------------
def test_cs_event_study_covariance_and_pretrend(cs_reg):
    r = cs_reg
    es = r.event_study()
    dyn = r.aggregate("dynamic")
    n = dyn.influence.shape[0]
    psi = dyn.influence[:, :-1]
    V = psi.T @ psi / n**2
    # analytic: the event-time covariance is Psi'Psi / n^2 and its diagonal the table's SEs
    np.testing.assert_allclose(es.event_vcov.to_numpy(), V, rtol=1e-10, atol=1e-16)
    np.testing.assert_allclose(np.sqrt(np.diag(V)), dyn.table["std_error"], rtol=1e-10)
    assert es.event_time["event_time"].tolist() == [-3, -2, -1, 0, 1, 2, 3]
    assert es.reference_period is None        # varying base: no fixed reference period
    assert es.estimator == "Callaway-Sant'Anna (reg, never)"
    assert es.overall["description"] == "ATT over all treated unit-periods (aggte simple)"
    assert r.event_study(overall="dynamic").overall["description"] == ("average of the event-time effects e >= 0 "
                                                                       "(aggte dynamic)")
    # pre-trend entry: the analytic Wald test of the pre-period ATT(g,t), F = chi2 / df
    assert es.pretrend["stat"] == r.wald["stat"] and es.pretrend["df"] == r.wald["df"] == 5
    assert es.pretrend["F"] == pytest.approx(r.wald["stat"] / 5, rel=1e-12)
    assert es.pretrend["p_value"] == es.pretrend["F_p_value"] == r.wald["p_value"]
    # overall: the simple aggregation, normal interval
    simple = r.aggregate("simple").overall.iloc[0]
    for k in ("estimate", "std_error", "ci_low", "ci_high"):
        assert es.overall[k] == pytest.approx(float(simple[k]), abs=1e-12)
    assert es.extra["dynamic"]["estimate"].iloc[0] == dyn.overall["estimate"].iloc[0]
    # with the bootstrap: bootstrap SEs on the diagonal, the analytic correlations off it
    esb = r.event_study(n_draws=299, seed=8)
    dynb = r.aggregate("dynamic", n_draws=299, seed=8)
    Vb = esb.event_vcov.to_numpy()
    np.testing.assert_allclose(np.sqrt(np.diag(Vb)), dynb.table["std_error"], rtol=1e-10)
    d = np.sqrt(np.diag(V))
    np.testing.assert_allclose(Vb / np.outer(np.sqrt(np.diag(Vb)), np.sqrt(np.diag(Vb))), V / np.outer(d, d),
                               rtol=1e-9, atol=1e-12)
    # the uniform band's critical value is the bootstrap one (not 1.96)
    t = esb.event_time
    np.testing.assert_allclose((t["ci_high"] - t["estimate"]) / t["std_error"], dynb.crit_val, rtol=1e-10)
    assert dynb.crit_val > 2.0


def test_cs_universal_base_reference_row(mpdta):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = callaway_santanna(mpdta, "lemp", "first.treat", entity="countyreal", time="year", method="reg",
                              base_period="universal")
    dyn = r.aggregate("dynamic")
    ref = dyn.table.set_index("event_time").loc[-1]
    assert ref["estimate"] == 0.0 and np.isnan(ref["std_error"])    # the normalisation, SE reported NA
    assert np.all(np.isfinite(dyn.table.loc[dyn.table["event_time"] != -1, "std_error"]))
    es = r.event_study()
    assert es.reference_period == -1
    assert -1 not in es.event_time["event_time"].tolist()
    assert es.event_time["event_time"].tolist() == [-4, -3, -2, 0, 1, 2, 3]


def test_cs_aggregate_terms_and_settings(cs_reg):
    r = cs_reg
    for kind, prefix, key in (("dynamic", "e", "event_time"), ("group", "g", "group"), ("calendar", "t", "time")):
        a = r.aggregate(kind)
        assert list(a.params.index) == ["did"] + [f"{prefix}={v}" for v in a.table[key]]
        np.testing.assert_array_equal(a.params.to_numpy()[1:], a.table["estimate"].to_numpy())
        np.testing.assert_array_equal(a.std_errors.to_numpy()[1:], a.table["std_error"].to_numpy())
        assert a.params["did"] == a.overall["estimate"].iloc[0]
        assert a.settings["aggregation"] == kind and a.vcov_type == "cluster"
        assert a.model == f"Callaway-Sant'Anna aggregation: {kind}"
        assert a.influence.shape == (r.influence.shape[0], len(a.table) + 1)
    assert r.aggregate("group").table["group"].tolist() == [2004, 2006, 2007]
    assert r.aggregate("calendar").table["time"].tolist() == [2004, 2005, 2006, 2007]
    s = r.aggregate("simple")
    assert s.table is None and list(s.params.index) == ["did"]
    b = r.aggregate("simple", n_draws=99, seed=1)
    assert b.vcov_type == "bootstrap" and b.settings["se"] == "multiplier bootstrap (Mammen)"


# ---- the 2x2 estimators (two_by_two.py) -----------------------------------------------------------
def test_two_by_two_trimming_keeps_treated_units():
    """DRDID trims comparison units with propensity score >= 0.995 but keeps every treated unit
    (``trim.ps[D == 0] <- ps < trim.level``). Here 13 treated units have scores in [0.995, 0.997):
    ATT and influence function equal moderndid's ``std_ipw_did_panel`` / ``drdid_panel`` / ``reg_did_panel``
    (a port of R DRDID) to 1e-7 (its logit stops at a looser tolerance: observed differences 6e-9)."""
    md = pytest.importorskip("moderndid")
    from analysis.did.callaway_santanna.two_by_two import _logit, _two_by_two

    n = 300
    x1 = np.linspace(-2.5, 3.2, n)
    rng = np.random.default_rng(5)
    d = (rng.random(n) < 1 / (1 + np.exp(-(-1 + 2.2 * x1)))).astype(float)
    x = np.c_[np.ones(n), x1]
    y0 = x1 + rng.normal(size=n)
    y1 = y0 + 0.5 * x1 + 1.0 * d + rng.normal(size=n)
    ps = _logit(d, x, np.ones(n))
    assert np.sum((d == 1) & (ps >= 0.995)) == 13 and ps.max() < 0.999
    for meth, f in (("ipw", md.std_ipw_did_panel), ("dr", md.drdid_panel), ("reg", md.reg_did_panel)):
        att, psi = _two_by_two(y1 - y0, d, x, np.ones(n), meth)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = f(y1, y0, d, x, influence_func=True)
        assert abs(att - m.att) < 1e-7, meth
        assert np.max(np.abs(psi - m.att_inf_func)) < 1e-7, meth


# ---- Callaway-Sant'Anna input checks and row report (estimation.py) -----------------------------
def _csq(d, **kw):
    return callaway_santanna(d, "lemp", "first.treat", entity="countyreal", time="year", **kw)


def test_cs_input_errors_name_the_problem(mpdta):
    from analysis.errors import ColumnError, MissingValueError, NonNumericError, TreatmentTimingError

    with pytest.raises(SpecificationError, match="pandas DataFrame"):
        _csq(mpdta.to_numpy())
    bad = mpdta.astype({"lemp": object})
    bad.loc[bad.index[4], "lemp"] = "n/a"
    with pytest.raises(NonNumericError, match=r"'lemp' has non-numeric values in row 4;"):
        _csq(bad)
    with pytest.raises(MissingValueError, match="data has no rows"):
        _csq(mpdta.iloc[:0])
    with pytest.raises(MissingValueError, match="missing in every row"):
        _csq(mpdta.assign(lemp=np.nan))
    nokey = mpdta.copy()
    nokey.loc[nokey.index[2], "year"] = np.nan
    with pytest.raises(ColumnError, match="row 2;"):
        _csq(nokey)
    for bad_w, err, msg in ((np.nan, MissingValueError, "'w' is missing in row 0;"),
                            (-1.0, SpecificationError, "negative values in rows 0, 1, 2, 3, 4")):
        d = mpdta.assign(w=1.0)
        d.loc[d.index[:5] if bad_w == -1.0 else d.index[:1], "w"] = bad_w
        with pytest.raises(err, match=msg):
            _csq(d, weights="w")
    vary = mpdta.assign(w=1.0)
    vary.loc[vary.index[0], "w"] = 2.0
    with pytest.raises(SpecificationError, match="'w' varies within row 8001;"):
        _csq(vary, weights="w")
    for a in (-1, 0.5):
        with pytest.raises(SpecificationError, match="non-negative integer"):
            _csq(mpdta, anticipation=a)
    with pytest.raises(TreatmentTimingError, match="no treated units"):
        _csq(mpdta.assign(**{"first.treat": 0}))
    with pytest.raises(TreatmentTimingError, match="varies within"):
        b2 = mpdta.copy()
        b2.loc[b2.index[0], "first.treat"] = 2006
        _csq(b2)


def test_cs_row_report_and_sample_rules(mpdta):
    # numeric strings are converted, not rejected
    s = _csq(mpdta.astype({"lemp": str}), method="reg")
    ref = _csq(mpdta, method="reg")
    np.testing.assert_allclose(s.att_gt["att"], ref.att_gt["att"], rtol=1e-12)
    assert ref.stats == {"N_units": 500, "N_periods": 5, "N_cohorts": 3, "pretrend_wald": ref.wald["stat"],
                         "pretrend_df": 5, "pretrend_p": ref.wald["p_value"]}
    assert ref.settings["cluster"] == "countyreal" and ref.cluster == ("countyreal",)
    assert ref.settings["n_draws"] == 0 and ref.vcov_type == "cluster"
    assert ref.rows.n_input == 2500 and ref.rows.n_used == 2500 and ref.rows.dropped == {}
    assert ref.settings["panel"] == "balanced (units not observed in every period dropped)"
    assert list(ref.std_errors.index) == [f"ATT({g},{t})" for g, t in zip(ref.att_gt["group"], ref.att_gt["time"])]
    assert ref.std_errors.index[0] == "ATT(2004,2004)"
    # a missing control drops that row (then the unit, for balance) and says so
    mx = mpdta.copy()
    mx.loc[mx.index[10], "lpop"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = _csq(mx, controls=["lpop"])
    assert r.rows.dropped == {"missing control": 1, "unit not observed in every period (balancing)": 4}
    # a unit treated in the first period is dropped with a warning
    early = mpdta.copy()
    first = early["countyreal"] == early["countyreal"].iloc[0]
    early.loc[first, "first.treat"] = 2003
    with pytest.warns(UserWarning, match="dropped 1 units already treated in the first period"):
        r = _csq(early, method="reg")
    assert r.rows.dropped == {"unit treated in the first period": 5} and r.stats["N_units"] == 499
    # with anticipation = 1, adoption in the second period is also "already treated"
    early.loc[first, "first.treat"] = 2004
    n04 = early.loc[early["first.treat"] == 2004, "countyreal"].nunique()
    with pytest.warns(UserWarning, match=f"dropped {n04} units already treated"):
        r = _csq(early, method="reg", anticipation=1)
    assert r.rows.dropped == {"unit treated in the first period": 5 * n04} and n04 == 21
    # adoption after the last period: never treated in the sample (the shared rule), noted in settings
    late = mpdta.copy()
    late.loc[first, "first.treat"] = 2009
    r = _csq(late, method="reg")
    assert r.settings["adoption after last period"] == ("1 countyreal(s) adopting after the last period (2007) treated "
                                                        "as never treated within the sample (adoption years [2009])")
    assert r.unit_group[0] == np.inf and r.att_gt["n_control"].iloc[0] == ref.att_gt["n_control"].iloc[0] + 1


def test_cs_no_never_treated_uses_last_cohort(mpdta):
    d = mpdta[mpdta["first.treat"] > 0]
    with pytest.warns(UserWarning, match=r"last cohort \(2007\) serves as the comparison group and periods from "
                                         r"2007 on are dropped"):
        r = _csq(d, method="reg")
    n07 = int((d["year"] >= 2007).sum())
    assert r.rows.dropped == {"period at or after the last cohort's adoption (no never-treated units)": n07}
    assert r.att_gt["time"].max() == 2006 and sorted(r.att_gt["group"].unique()) == [2004, 2006]
    # by hand: ATT(2004, 2004) = mean change 2003->2004 of cohort 2004 minus that of cohort 2007
    w = d.pivot(index="countyreal", columns="year", values="lemp")
    g = d.groupby("countyreal")["first.treat"].first()
    dy = w[2004] - w[2003]
    by_hand = dy[g == 2004].mean() - dy[g == 2007].mean()
    assert abs(r.att_gt.set_index(["group", "time"]).loc[(2004, 2004), "att"] - by_hand) < 1e-12
    # with not-yet-treated controls the last cohort stays treated; periods from 2007 on still dropped
    with warnings.catch_warnings():
        warnings.simplefilter("error")   # no warning about the comparison group
        rn = _csq(d, method="reg", control="notyet")
    assert rn.att_gt["time"].max() == 2006


# ---- Sun-Abraham and imputation: input rules, row report, assembled outputs ----------------------
def _stag(n=120, T=8, seed=3, never=True):
    """Staggered panel: cohorts 2013/2015 (and never treated), effect 1 + 0.5 e."""
    rng = np.random.default_rng(seed)
    years = np.arange(2010, 2010 + T)
    g = rng.choice([0, 2013, 2015] if never else [2013, 2015], size=n)
    G, yr = np.repeat(g, T), np.tile(years, n)
    te = np.where((G > 0) & (yr >= G), 1.0 + 0.5 * (yr - G), 0.0)
    y = np.repeat(rng.normal(size=n), T) + 0.1 * (yr - 2010) + te + rng.normal(0, 0.3, n * T)
    return pd.DataFrame({"county": np.repeat([f"c{i:03d}" for i in range(n)], T), "year": yr, "g": G, "y": y,
                         "prov": np.repeat([f"p{i % 9}" for i in range(n)], T)})


def test_sun_abraham_rules_and_outputs():
    from analysis.did.sun_abraham import sun_abraham
    from analysis.errors import MissingValueError, TreatmentTimingError

    d = _stag()
    bad = d.copy()
    bad.loc[3, "prov"] = None
    with pytest.raises(MissingValueError, match="cluster column 'prov' is missing in row 3;"):
        sun_abraham(bad, "y", "g", cluster="prov")
    with pytest.raises(TreatmentTimingError, match="no treated units"):
        sun_abraham(d.assign(g=0), "y", "g")
    one = d.assign(g=np.where(d["g"] == 2015, 2013, d["g"]))
    with pytest.raises(TreatmentTimingError, match="at least two treated cohorts"):
        sun_abraham(one, "y", "g", control="last")
    # always-treated units (adoption in the first period) are dropped and counted
    at = d.copy()
    at.loc[at["county"] == "c000", "g"] = 2010
    r = sun_abraham(at, "y", "g")
    assert r.rows.dropped == {"always-treated unit (adopted in or before the first period)": 8}
    assert r.rows.n_used == len(d) - 8
    # no never-treated units: the last cohort is the control; its periods from adoption on dropped
    nv = d[d["g"] > 0]
    r = sun_abraham(nv, "y", "g")
    assert r.settings["control"] == "last-treated cohort (2015)"
    assert r.rows.dropped == {"period at or after the control cohort's adoption": int((nv["year"] >= 2015).sum())}
    # the overall ATT: post-period cells weighted by their observation counts (fixest agg = "att")
    r = sun_abraham(d, "y", "g", cluster="prov")
    ce = r.extra["cohort_effects"]
    post = ce[ce["rel"] >= 0]
    w = post["n_obs"] / post["n_obs"].sum()
    assert r.overall["estimate"] == pytest.approx(float(w @ post["estimate"]), abs=1e-12)
    V = r.extra["cohort_vcov"].to_numpy()[np.ix_(post.index, post.index)]
    assert r.overall["std_error"] == pytest.approx(float(np.sqrt(w @ V @ w)), rel=1e-12)
    # IW weights: shares of each cohort's observations at each relative period
    for rel, grp in ce.groupby("rel"):
        assert grp["weight"].to_numpy() == pytest.approx((grp["n_obs"] / grp["n_obs"].sum()).to_numpy(), abs=1e-15)
    assert r.stats["N_cells"] == len(ce) and r.stats["N_clusters"] == 9 and r.settings["cluster"] == "prov"
    assert r.stats["N"] == len(d) and r.estimator == "Sun-Abraham (IW)" and r.reference_period == -1
    assert r.overall["description"] == "post-period cells weighted by observations (fixest agg='att')"
    assert r.settings["se"] == "CRV1 (reghdfe small-sample rules), t(G-1) inference"
    assert r.settings["control"] == "never-treated units" and r.settings["variance"] == "fixed"
    names = [f"cohort={c:g}:rel={int(e)}" for c, e in zip(ce["cohort"], ce["rel"])]
    assert list(r.extra["cohort_vcov"].index) == names and list(r.extra["cohort_vcov"].columns) == names
    assert r.rows.n_input == len(d) and r.rows.n_used == len(d)
    np.testing.assert_allclose(ce["std_error"], np.sqrt(np.diag(r.extra["cohort_vcov"].to_numpy())), rtol=1e-12)
    # t(G - 1) intervals for the overall estimate (9 clusters: t(8))
    from scipy import stats

    tq = stats.t(r.df_resid).ppf(0.975)
    assert r.df_resid == 8
    assert r.overall["ci_low"] == pytest.approx(r.overall["estimate"] - tq * r.overall["std_error"], abs=1e-12)
    assert r.overall["ci_high"] == pytest.approx(r.overall["estimate"] + tq * r.overall["std_error"], abs=1e-12)
    # event-time estimates: the IW average of the cohort effects with those weights
    ev = r.event_time.set_index("event_time")
    for rel, grp in ce.groupby("rel"):
        if rel != -1:
            assert ev.loc[int(rel), "estimate"] == pytest.approx(float(grp["weight"] @ grp["estimate"]), abs=1e-12)
    assert r.settings["ref_periods"] == [-1]
    # window: only these event times are reported (their cells are still estimated)
    rw = sun_abraham(d, "y", "g", window=(-2, 1))
    assert rw.event_time["event_time"].tolist() == [-2, 0, 1]
    assert np.isnan(rw.extra["cohort_effects"].set_index(["cohort", "rel"]).loc[(2013, 3), "weight"])
    # more reference periods: -1 always, plus the ones given
    r2 = sun_abraham(d, "y", "g", ref_periods=(-3,))
    assert r2.settings["ref_periods"] == [-3, -1]
    assert -3 not in r2.event_time["event_time"].tolist() and -1 not in r2.event_time["event_time"].tolist()
    # pre-trend test: the pre-period event times (below the smallest reference period)
    assert r2.pretrend["df"] == int((r2.event_time["event_time"] < -3).sum())


def test_imputation_rules_and_outputs():
    from analysis.did.imputation import imputation
    from analysis.errors import MissingValueError, TreatmentTimingError

    d = _stag()
    bad = d.copy()
    bad.loc[5, "prov"] = None
    with pytest.raises(MissingValueError, match="cluster column 'prov' is missing in row 5;"):
        imputation(bad, "y", "g", cluster="prov")
    with pytest.raises(TreatmentTimingError, match="no treated units"):
        imputation(d.assign(g=0), "y", "g")
    with pytest.raises(SpecificationError, match=r"horizons \[9\] have no imputed treated observations"):
        imputation(d, "y", "g", horizons=[0, 9])
    from analysis.errors import ColumnError

    for kw, miss in (({"y": "nope"}, "nope"), ({"cluster": "state"}, "state"), ({"controls": ["x9"]}, "x9")):
        args = {"y": "y", **kw}
        with pytest.raises(ColumnError, match=f"column\\(s\\) \\['{miss}'\\] not found"):
            imputation(d, args.pop("y"), "g", **args)
    # anticipation: treated observations start one period before adoption (h = -1); the default
    # horizons are still h >= 0 even when h = 0 is the only one
    last = d[(d["g"] == 0) | (d["g"] == 2015)].assign(g=lambda f: np.where(f["g"] > 0, 2017, 0))
    ra = imputation(last, "y", "g", anticipation=1)
    assert ra.event_time["event_time"].tolist() == [0]
    assert sorted(ra.extra["tau_it"]["horizon"].unique()) == [-1, 0]
    assert ra.overall["description"] == "ATT over all imputed treated observations"
    # without never-treated units, periods from 2015 on have no untreated observation: not imputable
    nv = d[d["g"] > 0]
    with pytest.warns(UserWarning, match=f"{int((nv['year'] >= 2015).sum())} treated observations cannot be imputed"):
        r = imputation(nv, "y", "g")
    assert r.rows.dropped == {"treated observation not imputable (no untreated obs. of its unit or period)":
                              int((nv["year"] >= 2015).sum())}
    r = imputation(d, "y", "g", pretrends=2)
    tau = r.extra["tau_it"]
    assert list(tau.columns) == ["county", "year", "cohort", "horizon", "tau"]
    assert len(tau) == r.stats["N_treated"] == int(((d["g"] > 0) & (d["year"] >= d["g"])).sum())
    assert r.stats["N_untreated"] + r.stats["N_treated"] == r.stats["N"] == len(d)
    # overall: equal weights on every imputed treated observation; horizons: equal weights within h
    assert r.overall["estimate"] == pytest.approx(float(tau["tau"].mean()), abs=1e-12)
    ev = r.event_time.set_index("event_time")
    for h, grp in tau.groupby("horizon"):
        assert ev.loc[h, "estimate"] == pytest.approx(float(grp["tau"].mean()), abs=1e-12)
        assert r.extra["horizon_counts"][h] == len(grp)
    # the leads of the pre-trend test at negative event times, uncorrelated with the horizons
    assert r.event_time["event_time"].tolist() == [-2, -1, 0, 1, 2, 3, 4]
    assert np.all(r.event_vcov.loc[[-2, -1], [0, 1, 2, 3, 4]].to_numpy() == 0)
    assert r.pretrend["df"] == 2 and r.reference_period is None
    assert r.settings["se"].endswith("cohort x horizon residual groups, leave-out; normal inference")
    r0 = imputation(d, "y", "g", leave_out=False)
    assert "leave-out" not in r0.settings["se"] and r0.settings["leave_out"] is False
    # normal (not t) intervals
    from scipy import stats

    z = stats.norm.ppf(0.975)
    assert r.overall["ci_high"] == pytest.approx(r.overall["estimate"] + z * r.overall["std_error"], abs=1e-12)
    # a singleton cohort x horizon group: its residual is not leave-out adjusted, with a warning
    single = d[~((d["g"] == 2015) & (d["year"] == 2017) & (d["county"] != d.loc[d["g"] == 2015, "county"].iloc[0]))]
    with pytest.warns(UserWarning, match="alone in their cohort x horizon group"):
        imputation(single, "y", "g")


# ---- HonestDiD building blocks and argument handling (honest.py) --------------------------------
@pytest.mark.parametrize("n_pre,n_post", [(1, 1), (2, 3), (4, 2), (3, 1)])
def test_honest_sd_matrices_second_differences(n_pre, n_post):
    """delta = s d + L u: L maps the second differences u of the path (0 at the reference period 0,
    0 at period 1) to delta; s is the event time."""
    from analysis.did.honest import _sd_matrices

    s, L = _sd_matrices(n_pre, n_post)
    assert s.tolist() == list(range(-n_pre, 0)) + list(range(1, n_post + 1))
    assert L.shape == (n_pre + n_post, n_pre + n_post - 1)
    u = np.random.default_rng(n_pre * 10 + n_post).normal(size=L.shape[1])
    delta = L @ u
    path = np.r_[delta[:n_pre], 0.0, delta[n_pre:]]
    np.testing.assert_allclose(np.diff(path, 2), u, atol=1e-12)
    assert delta[n_pre] == 0.0     # period 1: the slope is carried by s, not by L


def test_folded_normal_quantile_by_definition():
    from scipy import stats

    from analysis.did.honest import folded_normal_quantile

    for b, alpha in ((0.0, 0.05), (-2.0, 0.05), (0.7, 0.10), (5.0, 0.01)):
        c = folded_normal_quantile(b, alpha)
        assert stats.norm.cdf(c - abs(b)) - stats.norm.cdf(-c - abs(b)) == pytest.approx(1 - alpha, abs=1e-12)
    assert folded_normal_quantile(0.0, 0.10) == pytest.approx(stats.norm.ppf(0.95), abs=1e-12)


def test_honest_arguments_and_defaults():
    from scipy import stats

    from analysis.did.honest import flci, honest_did, rm_confidence_set

    b = np.array([0.01, -0.02, 0.0, 0.5, 0.6])
    S = np.diag([1.0, 1.0, 1.0, 4.0, 4.0]) * 1e-2
    with pytest.raises(SpecificationError, match="n_pre \\+ n_post elements"):
        flci(b, S, 2, 2, 0.1)
    with pytest.raises(SpecificationError, match="at least one pre-period"):
        flci(b[3:], S[3:, 3:], 0, 2, 0.1)
    with pytest.raises(SpecificationError, match="at least two pre-period"):
        rm_confidence_set(b[2:], S[2:, 2:], 1, 2, 0.5)
    with pytest.raises(SpecificationError, match="betahat=, sigma= and n_pre="):
        honest_did(betahat=b, sigma=S)
    with pytest.raises(SpecificationError, match="l_vec has 3 elements; there are 2 post periods"):
        honest_did(betahat=b, sigma=S, n_pre=3, l_vec=[1, 0, 0])
    h = honest_did(betahat=b, sigma=S, n_pre=3)
    sd0 = 0.2   # sqrt(4e-2), first post period
    z = stats.norm.ppf(0.975)
    assert h.original["estimate"] == 0.5 and h.original["std_error"] == pytest.approx(sd0, rel=1e-12)
    assert h.original["ci_low"] == pytest.approx(0.5 - z * sd0, rel=1e-12) == h.original["lb"]
    assert h.original["ub"] == pytest.approx(0.5 + z * sd0, rel=1e-12) and h.original["se"] == h.original["std_error"]
    np.testing.assert_allclose(h.table["M"], np.linspace(0, 2 * sd0, 6), rtol=1e-12)
    assert h.table["method"].eq("FLCI").all() and h.table["Delta"].eq("DeltaSD").all()
    assert h.settings["n_pre"] == 3 and h.settings["n_post"] == 2 and h.settings["l_vec"] == [1.0, 0.0]
    assert h.seed is None and h.rows.n_input == 5
    # alpha is passed on: a 90% FLCI at M = 0 is the normal 90% interval of the trend-adjusted estimate
    h90 = honest_did(betahat=b, sigma=S, n_pre=3, m_values=[0.0], alpha=0.10)
    r0 = flci(b, S, 3, 2, 0.0, alpha=0.10)
    assert h90.table["ub"].iloc[0] - h90.table["lb"].iloc[0] == pytest.approx(2 * stats.norm.ppf(0.95) * r0["sd"],
                                                                               rel=1e-10)
    hr = honest_did(betahat=b, sigma=S, n_pre=3, method="relative_magnitude", seed=4)
    assert hr.table["M"].tolist() == [0.5, 1.0, 1.5, 2.0]
    assert hr.table["method"].eq("C-LF").all() and hr.table["Delta"].eq("DeltaRM").all() and hr.seed == 4
    # l_vec weights the post periods
    ha = honest_did(betahat=b, sigma=S, n_pre=3, l_vec=[0.5, 0.5], m_values=[0.0])
    assert ha.original["estimate"] == pytest.approx(0.55, abs=1e-15)
    assert ha.original["std_error"] == pytest.approx(np.sqrt(0.25 * 0.04 * 2), rel=1e-12)


def test_cs_skipped_cells_and_non_integer_periods(mpdta):
    # a covariate that separates cohort 2004 from the never treated: its cells cannot be estimated by
    # ipw/dr (overlap), are reported with the reason, and are NA (aggregation then needs na_rm=True)
    d = mpdta.assign(sep=np.where(mpdta["first.treat"] == 2004, 5.0, 0.0) + 0.01 * mpdta["countyreal"] % 7)
    with pytest.warns(UserWarning, match=r"ATT\(2004,2004\) not estimated: "):
        r = _csq(d, controls=["sep"], method="ipw")
    sk = r.settings["skipped_cells"]
    assert [(g, t) for g, t, _ in sk] == [(2004.0, t) for t in (2004.0, 2005.0, 2006.0, 2007.0)]
    tab = r.att_gt.set_index(["group", "time"])
    assert tab.loc[2004, "att"].isna().all() and tab.loc[2006, "att"].notna().all()
    assert np.all(np.isnan(r.influence[:, (r.att_gt["group"] == 2004).to_numpy()]))
    with pytest.raises(SpecificationError, match="na_rm=True"):
        r.aggregate("simple")
    # the outcome regression is still defined there (it does not use the propensity score)
    rr = _csq(d, controls=["sep"], method="reg")
    assert "skipped_cells" not in rr.settings and rr.att_gt["att"].notna().all()
    # periods that are not whole numbers stay as they are (no rounding to int)
    h = mpdta.assign(year=mpdta["year"] + 0.5,
                     **{"first.treat": np.where(mpdta["first.treat"] > 0, mpdta["first.treat"] + 0.5, 0)})
    rh = _csq(h, method="reg")
    assert rh.att_gt["time"].tolist()[:4] == [2004.5, 2005.5, 2006.5, 2007.5]
    assert rh.att_gt["group"].iloc[0] == 2004.5 and rh.att_gt["event_time"].iloc[0] == 0.0
    np.testing.assert_allclose(rh.att_gt["att"], _csq(mpdta, method="reg").att_gt["att"], rtol=1e-12)


def test_cs_bootstrap_alpha_reaches_the_critical_value(mpdta):
    """With n_draws, the uniform band's critical value is the (1 - alpha) quantile of the sup-t
    statistic for the alpha given (not 0.05): the bootstrap of the influence functions, seed alike."""
    from analysis.did.callaway_santanna import multiplier_bootstrap

    r = _csq(mpdta, method="reg", n_draws=299, seed=6, alpha=0.10)
    bt = multiplier_bootstrap(r.influence, 299, 0.10, seed=6)
    assert r.crit_val == pytest.approx(bt["crit_val"], rel=1e-12)
    np.testing.assert_allclose(r.att_gt["std_error"], bt["se"], rtol=1e-12)
    assert r.crit_val < multiplier_bootstrap(r.influence, 299, 0.05, seed=6)["crit_val"]
    t = r.att_gt
    np.testing.assert_allclose((t["band_high"] - t["att"]) / t["std_error"], bt["crit_val"], rtol=1e-10)


def test_honest_event_study_moments():
    from analysis.did._common import EventStudyResult
    from analysis.did.honest import event_study_moments

    rel = np.array([-3, -2, -1, 0, 1])
    est = np.array([0.1, 0.2, 0.0, 0.5, 0.7])
    A = np.random.default_rng(1).normal(size=(5, 5))
    V = A @ A.T / 10
    V[2, :] = V[:, 2] = 0.0            # the reference period: a fixed zero
    es = EventStudyResult.from_estimates("x", rel, est, vcov=V)
    b, S, npre, npost, r = event_study_moments(es)
    keep = [0, 1, 3, 4]
    np.testing.assert_array_equal(b, est[keep])
    np.testing.assert_array_equal(S, V[np.ix_(keep, keep)])
    assert (npre, npost, r.tolist()) == (2, 2, [-3, -2, 0, 1])
    # another reference period: -2 excluded, -1 is then a post period
    es2 = EventStudyResult.from_estimates("x", rel, est, vcov=V + np.eye(5))
    b2, _, npre2, npost2, r2 = event_study_moments(es2, reference_period=-2)
    assert (npre2, npost2, r2.tolist()) == (1, 3, [-3, -1, 0, 1]) and b2.tolist() == [0.1, 0.0, 0.5, 0.7]
    with pytest.raises(SpecificationError, match="event-time table and its covariance"):
        event_study_moments(EventStudyResult.from_estimates("x", rel, est, se=np.ones(5)))
    gap = EventStudyResult.from_estimates("x", [-3, -1, 0, 2], est[:4], vcov=np.eye(4))
    with pytest.raises(SpecificationError, match=r"consecutive around the reference period -1; got \[-3, 0, 2\]"):
        event_study_moments(gap)
    with pytest.raises(SpecificationError, match="pre-period"):
        event_study_moments(EventStudyResult.from_estimates("x", [-1, 0, 1], est[:3], vcov=np.eye(3)))


def test_rm_confidence_set_empty_and_given_grid():
    """A grid far from the estimate: nothing accepted, bounds NA, the grid and its (all False) flags
    returned; a grid around it: the accepted points' min and max are the bounds."""
    from analysis.did.honest import rm_confidence_set

    b = np.array([0.01, -0.02, 0.0, 0.5, 0.6])
    S = np.diag([1.0, 1.0, 1.0, 4.0, 4.0]) * 1e-4
    far = rm_confidence_set(b, S, 3, 2, 0.5, grid=np.linspace(5.0, 6.0, 11), sims=200)
    assert np.isnan(far["lb"]) and np.isnan(far["ub"])
    assert far["accept"].dtype == bool and not far["accept"].any() and len(far["grid"]) == 11
    near = rm_confidence_set(b, S, 3, 2, 0.5, grid=np.linspace(0.0, 1.0, 101), sims=200)
    acc = near["grid"][near["accept"]]
    assert near["lb"] == acc.min() and near["ub"] == acc.max() and near["lb"] < 0.5 < near["ub"]


# ---- confirmatory sample, seed 20261207 (helper mutmodern2) --------------------------------------
def test_multiplier_bootstrap_batches_bound_memory(monkeypatch):
    """The draws are made in batches of floor(batch_bytes / (8 n)) rows (at least one), so the
    (draws x n) multiplier matrix never exceeds batch_bytes; the results do not depend on the batch."""
    from analysis.did.callaway_santanna import bootstrap as bs

    shapes = []
    real = bs.mammen_draws

    def spy(rng, size):
        shapes.append(size)
        return real(rng, size)

    monkeypatch.setattr(bs, "mammen_draws", spy)
    psi = np.random.default_rng(3).normal(size=(150, 2))
    full = bs.multiplier_bootstrap(psi, 30, seed=1)
    assert shapes == [(30, 150)]          # default budget (64 MiB): one batch
    shapes.clear()
    out = bs.multiplier_bootstrap(psi, 30, seed=1, batch_bytes=8 * 150 * 7)
    assert shapes == [(7, 150)] * 4 + [(2, 150)]
    np.testing.assert_allclose(out["bres"], full["bres"], rtol=0, atol=1e-12)
    shapes.clear()
    bs.multiplier_bootstrap(psi, 3, seed=1, batch_bytes=8)   # below one row: one row at a time
    assert shapes == [(1, 150)] * 3


def test_multiplier_bootstrap_missing_column_stays_missing_with_clusters():
    """A column with a missing influence-function value is NA with or without clustering (before the
    fix the cluster means replaced the NaN by 0 and the column got a finite SE)."""
    from analysis.did.callaway_santanna import multiplier_bootstrap

    rng = np.random.default_rng(12)
    psi = rng.normal(size=(120, 3))
    psi[5, 1] = np.nan
    cl = np.arange(120) % 10
    out = multiplier_bootstrap(psi, 199, seed=2, cluster=cl)
    assert np.isnan(out["se"][1]) and np.all(np.isnan(out["bres"][:, 1]))
    keep = [0, 2]
    se, crit, _ = _mboot_by_hand(psi[:, keep], 199, 0.05, 2, cl)
    np.testing.assert_allclose(out["se"][keep], se, rtol=1e-12)
    assert abs(out["crit_val"] - crit) < 1e-12


def test_cs_group_aggregation_with_a_cohort_without_post_cells(cs_reg):
    """na_rm=True after every post cell of cohort 2006 is missing: that cohort keeps its pre cells,
    so it is listed with an NA effect (mean of no cells) and the overall group ATT is the cohort-share
    weighted mean of the other cohorts' effects (CS 2021 eq. 3.8 over the defined theta(g))."""
    r = cs_reg
    tab = r.att_gt.copy()
    gone = (tab["group"] == 2006) & tab["post"]
    tab.loc[gone, "att"] = np.nan
    a = dataclasses.replace(r, att_gt=tab).aggregate("group", na_rm=True)
    t = a.table.set_index("group")
    assert np.isnan(t.loc[2006, "estimate"]) and np.isnan(t.loc[2006, "std_error"])
    post = tab[tab["post"] & tab["att"].notna()]
    theta = post.groupby("group")["att"].mean()
    assert t.loc[[2004, 2007], "estimate"].to_numpy() == pytest.approx(theta.loc[[2004, 2007]].to_numpy(), abs=EPS)
    size = pd.Series(r.unit_group).value_counts()
    share = np.array([size[2004.0], size[2007.0]], dtype=float)
    overall = float(theta.loc[[2004, 2007]].to_numpy() @ share / share.sum())
    assert a.overall["estimate"].iloc[0] == pytest.approx(overall, abs=EPS)
    assert np.isfinite(a.overall["std_error"].iloc[0])


def test_cs_uniform_band_is_the_default_when_cband_is_not_recorded(cs_reg):
    """R did's cband defaults to TRUE: a result whose settings do not record cband gets the bootstrap
    sup-t band, not the pointwise one."""
    r = cs_reg
    settings = {k: v for k, v in r.settings.items() if k != "cband"}
    a = dataclasses.replace(r, settings=settings).aggregate("dynamic", n_draws=299, seed=8)
    b = r.aggregate("dynamic", n_draws=299, seed=8)
    assert a.crit_val == b.crit_val > 2.0
    t = a.table
    np.testing.assert_allclose((t["band_high"] - t["estimate"]) / t["std_error"], b.crit_val, rtol=1e-10)
    off = dataclasses.replace(r, settings={**r.settings, "cband": False}).aggregate("dynamic", n_draws=299, seed=8)
    from scipy import stats

    assert off.crit_val == pytest.approx(stats.norm.ppf(0.975), abs=1e-12)


def test_cs_event_study_universal_base_drops_undefined_rows_too(mpdta):
    """Universal base: the event-study view leaves out the reference period AND any event time whose
    SE is undefined (here e = -4 made degenerate by zeroing its influence function)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = callaway_santanna(mpdta, "lemp", "first.treat", entity="countyreal", time="year", method="reg",
                              base_period="universal")
    psi = r.influence.copy()
    psi[:, (r.att_gt["event_time"] == -4).to_numpy()] = 0.0
    es = dataclasses.replace(r, influence=psi).event_study()
    assert es.event_time["event_time"].tolist() == [-3, -2, 0, 1, 2, 3]
    assert np.all(np.isfinite(es.event_time["std_error"]))


def test_cs_cell_without_comparison_units_is_reported(mpdta):
    """Not-yet-treated comparison without never-treated units (R did: periods from the last cohort's
    adoption dropped): ATT(2007, 2006) has no comparison unit (every other cohort is treated by 2006),
    so it is NA with an NA influence function and listed under skipped_cells with its (g, t); the
    universal base period's cells are a fixed zero with a zero influence function."""
    nv = mpdta[mpdta["first.treat"] > 0]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = _csq(nv, method="reg", control="notyet")
    assert r.settings["skipped_cells"] == [(2007.0, 2006.0, "no treated or no comparison units")]
    gone = ((r.att_gt["group"] == 2007) & (r.att_gt["time"] == 2006)).to_numpy()
    assert r.att_gt.loc[gone, "n_control"].tolist() == [0] and np.isnan(r.att_gt.loc[gone, "att"]).all()
    # n_treated: the cohort's units, counted from the data
    size = nv.groupby("first.treat")["countyreal"].nunique()
    assert r.att_gt["n_treated"].tolist() == [int(size[g]) for g in r.att_gt["group"]]
    assert np.isnan(r.influence[:, gone]).all() and np.isfinite(r.influence[:, ~gone]).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        u = _csq(mpdta, method="reg", base_period="universal")
    fixed = (u.att_gt["time"] == u.att_gt["base_period"]).to_numpy()
    assert fixed.sum() == 3 and np.all(u.att_gt.loc[fixed, "att"] == 0.0)
    assert np.all(u.influence[:, fixed] == 0.0)


def test_cs_singular_propensity_model_is_named(mpdta, monkeypatch):
    """When the logit fit fails (singular Hessian, numpy LinAlgError) the ipw cells are skipped with
    that reason; the failure is forced here so the test does not depend on LAPACK's pivot rounding."""
    from analysis.did.callaway_santanna import estimation

    def singular(*args, **kwargs):
        raise np.linalg.LinAlgError("Singular matrix")

    monkeypatch.setattr(estimation, "_logit", singular)
    with pytest.warns(UserWarning, match=r"ATT\(2004,2004\) not estimated: propensity score model singular\."):
        r = _csq(mpdta.assign(x=mpdta["countyreal"] % 7), method="ipw", controls=["x"])
    assert r.settings["skipped_cells"] == [(g, t, "propensity score model singular")
                                           for g, t in zip(r.att_gt["group"], r.att_gt["time"])]
    assert r.att_gt["att"].isna().all()


def test_cs_bad_choices_name_the_argument(mpdta):
    for kw, msg in (({"control": "nevertreated"}, "control='nevertreated' is not one of 'never', 'notyet'"),
                    ({"method": "ols"}, "method='ols' is not one of 'dr', 'ipw', 'reg'"),
                    ({"base_period": "fixed"}, "base_period='fixed' is not one of 'varying', 'universal'")):
        with pytest.raises(SpecificationError, match=f"^{msg}"):
            _csq(mpdta, **kw)


def test_imputation_missing_cluster_message_says_the_fix():
    from analysis.did.imputation import imputation
    from analysis.errors import MissingValueError

    bad = _stag()
    bad.loc[7, "prov"] = None
    with pytest.raises(MissingValueError, match=r"^cluster column 'prov' is missing in row 7; give every row a "
                                                r"cluster id\.$"):
        imputation(bad, "y", "g", cluster="prov")


def test_imputation_late_adopters_are_never_treated():
    """Units adopting after the last sample period (2018 > 2017) are never treated in the sample (the
    shared rule, R did): with one period of anticipation their 2017 row is NOT a treated observation,
    so the results equal those with the units coded 0, and the recoding is noted in settings."""
    from analysis.did._common import LATE_ADOPTION_KEY
    from analysis.did.imputation import imputation

    d = _stag()
    never = d.loc[d["g"] == 0, "county"].unique()[:5]
    late = d.assign(g=np.where(d["county"].isin(never), 2018, d["g"]))
    r_late = imputation(late, "y", "g", anticipation=1)
    r_zero = imputation(d, "y", "g", anticipation=1)
    assert r_late.settings[LATE_ADOPTION_KEY].startswith("5 county(s) adopting after the last period (2017)")
    assert LATE_ADOPTION_KEY not in r_zero.settings
    assert r_late.stats["N_treated"] == r_zero.stats["N_treated"] == int(((d["g"] > 0) & (d["year"] >= d["g"] - 1)).sum())
    np.testing.assert_allclose(r_late.event_time["estimate"], r_zero.event_time["estimate"], rtol=0, atol=1e-12)
    assert r_late.overall["estimate"] == pytest.approx(r_zero.overall["estimate"], abs=1e-12)


def test_imputation_period_with_a_single_untreated_observation_is_imputable():
    """BJS step 3 needs one untreated observation of the unit and of the period. Without
    never-treated units, 2014 has exactly one untreated observation (the lone 2015 adopter): the
    2013 cohort's 2014 rows are imputed; only the rows from 2015 on (no untreated observation) are
    dropped."""
    from analysis.did.imputation import imputation

    d = _stag(never=False)
    keep15 = d.loc[d["g"] == 2015, "county"].unique()[0]
    d = d[(d["g"] == 2013) | (d["county"] == keep15)].reset_index(drop=True)
    n_drop = int(((d["year"] >= 2015)).sum())       # every unit is treated from 2015 on
    with pytest.warns(UserWarning, match=f"^{n_drop} treated observations cannot be imputed"):
        r = imputation(d, "y", "g")
    assert r.rows.dropped == {"treated observation not imputable (no untreated obs. of its unit or period)": n_drop}
    tau = r.extra["tau_it"]
    assert sorted(tau["year"].unique()) == [2013, 2014]
    assert r.stats["N_treated"] == int(((d["g"] == 2013) & d["year"].isin([2013, 2014])).sum())


def test_imputation_names_and_settings():
    from analysis.did.imputation import imputation

    d = _stag()
    d["x"] = np.random.default_rng(4).normal(size=len(d))
    r = imputation(d, "y", "g", controls=["x"], anticipation=1, pretrends=2, cluster="prov")
    assert r.estimator == "Imputation (BJS)"
    s = r.settings
    assert (s["anticipation"], s["leave_out"], s["cluster"], s["controls"], s["pretrends"]) == (1, True, "prov", ["x"], 2)


def test_sun_abraham_panel_keys_named_like_pandas_index_columns():
    """Keys named ``index`` and ``level_0`` (what pandas calls a reset index) are ordinary columns:
    the results equal those with the usual names (the estimation sample's index is dropped, not
    inserted as a column)."""
    from analysis.did.sun_abraham import sun_abraham

    d = _stag()
    r = sun_abraham(d, "y", "g")
    ri = sun_abraham(d.rename(columns={"county": "index", "year": "level_0"}), "y", "g", entity="index",
                     time="level_0")
    np.testing.assert_allclose(ri.event_time["estimate"], r.event_time["estimate"], rtol=0, atol=1e-12)
    np.testing.assert_allclose(ri.event_time["std_error"], r.event_time["std_error"], rtol=1e-10)


def test_sun_abraham_provenance_fields():
    from analysis.did.sun_abraham import sun_abraham

    r = sun_abraham(_stag(), "y", "g", cluster="prov")
    assert r.vcov_type == "cluster" and r.cluster == ("prov",) and r.n_clusters == 9
    assert r.outcome == "y" and r.fixed_effects == ("county", "year")
