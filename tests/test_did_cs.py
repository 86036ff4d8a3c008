"""Callaway-Sant'Anna: published mpdta numbers (Stata csdid, R did), moderndid/csdid cross-checks,
bootstrap, input errors and recovery of the simulated truth.

Reference values live in tests/reference/did/*.csv with their source:
- cs_mpdta_dripw_csdid.csv: Stata csdid (dripw, lpop), analytic SEs, 7 printed decimals;
- cs_mpdta_reg_rdid_readme.csv: R did README (reg, no covariates), 4 printed decimals, bootstrap SEs.
"""
from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis.did.callaway_santanna import callaway_santanna, multiplier_bootstrap
from analysis.errors import DuplicateKeyError, SpecificationError, TreatmentTimingError

REF = Path(__file__).parent / "reference" / "did"


@pytest.fixture(scope="module")
def mpdta():
    from analysis.datasets import load_reference

    return load_reference("mpdta")


def _cs(d, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return callaway_santanna(d, "lemp", "first.treat", entity="countyreal", time="year", **kw)


def _printed_tol(values: pd.Series) -> np.ndarray:
    """Half a unit in the last printed decimal (the CSV keeps the printed text)."""
    out = []
    for v in values.astype(str):
        dec = len(v.split(".")[1]) if "." in v else 0
        out.append(0.5 * 10.0 ** (-dec) + 1e-12)
    return np.array(out)


# ---------------------------------------------------------------------------------------------
# published numbers
# ---------------------------------------------------------------------------------------------
def test_published_csdid_dripw_lpop(mpdta):
    ref = pd.read_csv(REF / "cs_mpdta_dripw_csdid.csv", dtype={"estimate": str, "std_error": str})
    r = _cs(mpdta, controls=["lpop"], method="dr")
    a = ref[ref["table"] == "att_gt"]
    ours = r.att_gt.set_index(["group", "time"]).loc[list(zip(a["group"].astype(int), a["time"].astype(int)))]
    assert np.all(np.abs(ours["att"].to_numpy() - a["estimate"].astype(float).to_numpy()) <= _printed_tol(a["estimate"]))
    assert np.all(np.abs(ours["std_error"].to_numpy() - a["std_error"].astype(float).to_numpy()) <= _printed_tol(a["std_error"]))
    # aggregations
    for kind, key in (("simple", None), ("calendar", "time"), ("group", "group"), ("dynamic", "event_time")):
        part = ref[ref["table"] == kind]
        agg = r.aggregate(kind)
        if key is None:
            est, se = agg.overall["estimate"].to_numpy(), agg.overall["std_error"].to_numpy()
        else:
            col = {"time": "time", "group": "group", "event_time": "event_time"}[key]
            tab = agg.table.set_index(key).loc[part[col].astype(int)]
            est, se = tab["estimate"].to_numpy(), tab["std_error"].to_numpy()
        assert np.all(np.abs(est - part["estimate"].astype(float).to_numpy()) <= _printed_tol(part["estimate"])), kind
        assert np.all(np.abs(se - part["std_error"].astype(float).to_numpy()) <= _printed_tol(part["std_error"])), kind
    chi2 = float(ref.loc[ref["table"] == "pretrend_chi2", "estimate"].iloc[0])
    pval = float(ref.loc[ref["table"] == "pretrend_p", "estimate"].iloc[0])
    assert r.wald["df"] == 5
    assert abs(r.wald["stat"] - chi2) < 1e-9
    assert abs(r.wald["p_value"] - pval) < 1e-9


def test_published_r_did_readme_reg(mpdta):
    ref = pd.read_csv(REF / "cs_mpdta_reg_rdid_readme.csv", dtype={"estimate": str, "std_error": str})
    r = _cs(mpdta, method="reg")
    rb = _cs(mpdta, method="reg", n_draws=1000, seed=20261128)
    a = ref[ref["table"] == "att_gt"]
    idx = list(zip(a["group"].astype(int), a["time"].astype(int)))
    ours = r.att_gt.set_index(["group", "time"]).loc[idx]
    assert np.all(np.abs(ours["att"].to_numpy() - a["estimate"].astype(float).to_numpy()) <= _printed_tol(a["estimate"]))
    # R prints bootstrap SEs: ours (another draw) must agree within Monte Carlo error (IQR-based SE
    # with 1000 draws: a few percent) -- 15% relative is a loose but informative bound
    boot = rb.att_gt.set_index(["group", "time"]).loc[idx, "std_error"].to_numpy()
    rel = np.abs(boot / a["std_error"].astype(float).to_numpy() - 1)
    assert rel.max() < 0.15, rel
    assert abs(r.wald["p_value"] - float(ref.loc[ref["table"] == "pretrend_p", "estimate"].iloc[0])) <= 5e-6
    dyn = r.aggregate("dynamic")
    d = ref[ref["table"] == "dynamic"]
    tab = dyn.table.set_index("event_time").loc[d["event_time"].astype(int)]
    assert np.all(np.abs(tab["estimate"].to_numpy() - d["estimate"].astype(float).to_numpy()) <= _printed_tol(d["estimate"]))
    ov = ref[ref["table"] == "dynamic_overall"]
    assert abs(dyn.overall["estimate"].iloc[0] - float(ov["estimate"].iloc[0])) <= _printed_tol(ov["estimate"])[0]
    grp = r.aggregate("group")
    g = ref[ref["table"] == "group"]
    tab = grp.table.set_index("group").loc[g["group"].astype(int)]
    assert np.all(np.abs(tab["estimate"].to_numpy() - g["estimate"].astype(float).to_numpy()) <= _printed_tol(g["estimate"]))
    gov = ref[ref["table"] == "group_overall"]
    assert abs(grp.overall["estimate"].iloc[0] - float(gov["estimate"].iloc[0])) <= _printed_tol(gov["estimate"])[0]
    # bootstrap SEs of the aggregations within Monte Carlo error of R's
    dynb = rb.aggregate("dynamic")
    tab_b = dynb.table.set_index("event_time").loc[d["event_time"].astype(int)]
    rel = np.abs(tab_b["std_error"].to_numpy() / d["std_error"].astype(float).to_numpy() - 1)
    assert rel.max() < 0.15, rel


# ---------------------------------------------------------------------------------------------
# cross-checks against moderndid 0.2.0 (a port of R did) and csdid (PyPI)
# ---------------------------------------------------------------------------------------------
CONFIGS = [(m, c, b) for m in ("dr", "ipw", "reg") for c in ("never", "notyet") for b in ("varying", "universal")]


@pytest.mark.parametrize("method,control,base", CONFIGS)
def test_matches_moderndid(mpdta, method, control, base):
    md = importlib.import_module("moderndid")
    r = _cs(mpdta, controls=["lpop"], method=method, control=control, base_period=base)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = md.att_gt(md.load_mpdta(), yname="lemp", tname="year", idname="countyreal", gname="first.treat",
                      xformla="~lpop", est_method=method, base_period=base, boot=False,
                      control_group={"never": "nevertreated", "notyet": "notyettreated"}[control])
    assert np.max(np.abs(r.att_gt["att"].to_numpy() - np.asarray(m.att_gt))) < 1e-8
    mse = np.asarray(m.se_gt, dtype=float)
    ok = np.isfinite(r.att_gt["std_error"].to_numpy())
    assert np.max(np.abs(r.att_gt["std_error"].to_numpy()[ok] - mse[ok])) < 1e-8
    for ty in ("simple", "dynamic", "group", "calendar"):
        a = r.aggregate(ty)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ma = md.aggte(m, type=ty)
        assert abs(a.overall["estimate"].iloc[0] - ma.overall_att) < 1e-8
        assert abs(a.overall["std_error"].iloc[0] - ma.overall_se) < 1e-8
        if a.table is not None:
            assert np.max(np.abs(a.table["estimate"].to_numpy() - np.asarray(ma.att_by_event))) < 1e-8
            se_m = np.asarray(ma.se_by_event, dtype=float)
            fin = np.isfinite(a.table["std_error"].to_numpy()) & np.isfinite(se_m)
            assert np.max(np.abs(a.table["std_error"].to_numpy()[fin] - se_m[fin])) < 1e-8


def test_matches_moderndid_without_covariates_and_wald(mpdta):
    md = importlib.import_module("moderndid")
    r = _cs(mpdta, method="dr")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = md.att_gt(md.load_mpdta(), yname="lemp", tname="year", idname="countyreal", gname="first.treat",
                      est_method="dr", boot=False)
    assert np.max(np.abs(r.att_gt["att"].to_numpy() - np.asarray(m.att_gt))) < 1e-10
    assert np.max(np.abs(r.att_gt["std_error"].to_numpy() - np.asarray(m.se_gt))) < 1e-10


def test_matches_csdid_package(mpdta):
    csdid = importlib.import_module("csdid.att_gt")
    d = mpdta.rename(columns={"first.treat": "first_treat"})
    for method in ("dr", "reg"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = csdid.ATTgt(yname="lemp", tname="year", idname="countyreal", gname="first_treat", data=d,
                            control_group=["nevertreated"], xformla="lemp ~ lpop").fit(est_method=method, bstrap=False)
        r = callaway_santanna(d, "lemp", "first_treat", entity="countyreal", time="year", controls=["lpop"], method=method)
        assert np.max(np.abs(np.asarray(m.results["att"], float) - r.att_gt["att"].to_numpy())) < 1e-8
        assert np.max(np.abs(np.asarray(m.results["se"], float) - r.att_gt["std_error"].to_numpy())) < 1e-8


def test_bootstrap_matches_moderndid_mboot(mpdta):
    importlib.import_module("moderndid")
    from moderndid.did.mboot import mboot

    r = _cs(mpdta, controls=["lpop"])
    psi = r.influence
    ours = multiplier_bootstrap(psi, 999, 0.05, seed=7)
    theirs = mboot(psi, psi.shape[0], biters=999, alp=0.05, random_state=7)
    assert np.max(np.abs(ours["se"] - theirs["se"])) < 1e-8
    assert abs(ours["crit_val"] - theirs["crit_val"]) < 1e-6
    # batching does not change the draws
    small = multiplier_bootstrap(psi, 999, 0.05, seed=7, batch_bytes=8 * psi.shape[0] * 37)
    assert np.max(np.abs(small["se"] - ours["se"])) < 1e-12
    # clustered (unequal cluster sizes): cluster means, sqrt(G) scaling (CRAN did 2.1 / moderndid)
    cl = np.repeat(np.arange(60), np.diff(np.r_[0, np.sort(np.random.default_rng(3).choice(np.arange(1, 500), 59, replace=False)), 500]))
    ours = multiplier_bootstrap(psi, 999, 0.05, seed=7, cluster=cl)
    theirs = mboot(psi, psi.shape[0], biters=999, alp=0.05, random_state=7, cluster=cl)
    assert np.max(np.abs(ours["se"] - theirs["se"])) < 1e-8


def test_bootstrap_bands_and_determinism(mpdta):
    a = _cs(mpdta, n_draws=499, seed=5)
    b = _cs(mpdta, n_draws=499, seed=5)
    pd.testing.assert_frame_equal(a.att_gt, b.att_gt)
    t = a.att_gt
    # uniform band is wider than the pointwise interval
    assert np.all((t["band_high"] - t["band_low"]) >= (t["ci_high"] - t["ci_low"]) - 1e-12)
    assert a.crit_val > 1.96
    # bootstrap SEs close to analytic ones
    an = _cs(mpdta)
    assert np.max(np.abs(t["std_error"] / an.att_gt["std_error"] - 1)) < 0.2
    e = a.aggregate("dynamic")
    assert np.all(np.isfinite(e.table["band_low"]))


def test_balance_e_and_windows(mpdta):
    r = _cs(mpdta)
    b = r.aggregate("dynamic", balance_e=1)
    assert b.table["event_time"].max() == 1
    full = r.aggregate("dynamic")
    assert set(b.table["event_time"]) <= set(full.table["event_time"])
    w = r.aggregate("dynamic", min_e=-2, max_e=2)
    assert w.table["event_time"].min() == -2 and w.table["event_time"].max() == 2


def test_event_study_interface(mpdta):
    r = _cs(mpdta, base_period="universal")
    es = r.event_study()
    assert -1 not in set(es.event_time["event_time"])
    assert es.reference_period == -1
    assert es.event_vcov.shape == (len(es.event_time), len(es.event_time))
    assert abs(es.overall["estimate"] - r.aggregate("simple").overall["estimate"].iloc[0]) < 1e-14
    np.testing.assert_allclose(np.sqrt(np.diag(es.event_vcov)), es.event_time["std_error"], rtol=1e-10)


# ---------------------------------------------------------------------------------------------
# input handling
# ---------------------------------------------------------------------------------------------
def test_errors_and_row_report(mpdta):
    dup = pd.concat([mpdta, mpdta.iloc[:1]])
    with pytest.raises(DuplicateKeyError):
        _cs(dup)
    bad = mpdta.copy()
    bad.loc[bad.index[0], "first.treat"] = 2006  # county 8001 has 2007 in its other rows
    with pytest.raises(TreatmentTimingError):
        _cs(bad)
    with pytest.raises(SpecificationError):
        _cs(mpdta, method="ols")
    d = mpdta.assign(state=mpdta["countyreal"] // 1000)
    with pytest.raises(SpecificationError):
        _cs(d, cluster="state")  # clustering beyond the unit needs the bootstrap
    # unbalanced: one row missing -> its unit dropped and reported
    unb = mpdta.drop(index=mpdta.index[3])
    r = _cs(unb)
    assert r.rows.n_input == 2499 and r.rows.n_used == 2495
    assert r.rows.dropped["unit not observed in every period (balancing)"] == 4
    miss = mpdta.copy()
    miss.loc[miss.index[7], "lemp"] = np.nan
    r = _cs(miss)
    assert r.rows.dropped == {"missing outcome": 1, "unit not observed in every period (balancing)": 4}


def test_clustered_bootstrap_runs(mpdta):
    d = mpdta.assign(state=mpdta["countyreal"] // 1000)
    r = _cs(d, cluster="state", n_draws=299, seed=1)
    assert np.all(np.isfinite(r.att_gt["std_error"]))
    assert r.wald is None  # analytic Wald not defined with clustering beyond the unit


# ---------------------------------------------------------------------------------------------
# recovery of the simulated truth (digital pilot)
# ---------------------------------------------------------------------------------------------
def _shipped():
    from analysis.datasets import load_county_panel, load_truth

    return load_county_panel(), load_truth()


def test_recovers_digital_pilot_truth():
    panel, truth = _shipped()
    dp = truth["digital_pilot"]
    r = _cs_panel(panel)
    tgt = pd.DataFrame(dp["att_gt"])
    post = r.att_gt[r.att_gt["post"]].merge(tgt, left_on=["group", "time"], right_on=["cohort", "year"])
    z = (post["att_x"] - post["att_y"]) / post["std_error"]
    # every post ATT(g,t) within 4 SE of the truth, and the z's look standard normal on average
    assert np.abs(z).max() < 4, z.describe()
    assert abs(z.mean()) < 1.0
    simple = r.aggregate("simple").overall.iloc[0]
    assert abs(simple["estimate"] - dp["att_overall"]) < 3 * simple["std_error"]
    dyn = r.aggregate("dynamic").table.set_index("event_time")
    for e, v in dp["att_by_event_time"].items():
        if int(e) in dyn.index:
            assert abs(dyn.loc[int(e), "estimate"] - v) < 4 * dyn.loc[int(e), "std_error"], e
    # pre-periods: no violation of parallel trends in the simulation
    assert r.wald["p_value"] > 0.001


def _cs_panel(panel):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return callaway_santanna(panel, "nonfarm_emp_share", "digital_pilot_year")


@pytest.mark.parametrize("kw", [dict(anticipation=1), dict(anticipation=1, base_period="universal", control="notyet"),
                                dict(control="notyet", method="ipw", controls=["lpop"], base_period="universal")])
def test_anticipation_and_more_configs_match_moderndid(mpdta, kw):
    md = importlib.import_module("moderndid")
    r = _cs(mpdta, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = md.att_gt(md.load_mpdta(), yname="lemp", tname="year", idname="countyreal", gname="first.treat",
                      xformla="~lpop" if "controls" in kw else None, est_method=kw.get("method", "dr"),
                      anticipation=kw.get("anticipation", 0), base_period=kw.get("base_period", "varying"),
                      control_group={"never": "nevertreated", "notyet": "notyettreated"}[kw.get("control", "never")],
                      boot=False)
    assert len(r.att_gt) == len(np.asarray(m.att_gt))
    assert np.max(np.abs(r.att_gt["att"].to_numpy() - np.asarray(m.att_gt))) < 1e-8
    for ty in ("simple", "dynamic", "group", "calendar"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ma = md.aggte(m, type=ty)
        a = r.aggregate(ty)
        assert abs(a.overall["estimate"].iloc[0] - ma.overall_att) < 1e-8
        assert abs(a.overall["std_error"].iloc[0] - ma.overall_se) < 1e-8


def test_sampling_weights(mpdta):
    """ATT(g,t) with unit weights match moderndid; the aggregation weights are R did's weighted
    shares mean(w 1{G=g}) (moderndid 0.2.0 drops the weights from its aggregation when the weights
    column is renamed internally, so only the cell level is compared with it)."""
    md = importlib.import_module("moderndid")
    import polars as pl

    rng = np.random.default_rng(0)
    w = dict(zip(mpdta["countyreal"].unique(), rng.uniform(0.5, 2, mpdta["countyreal"].nunique())))
    d = mpdta.assign(w=mpdta["countyreal"].map(w))
    r = _cs(d, weights="w", controls=["lpop"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = md.att_gt(pl.from_pandas(d), yname="lemp", tname="year", idname="countyreal", gname="first.treat",
                      xformla="~lpop", weightsname="w", boot=False)
    assert np.max(np.abs(r.att_gt["att"].to_numpy() - np.asarray(m.att_gt))) < 1e-8
    assert np.max(np.abs(r.att_gt["std_error"].to_numpy() - np.asarray(m.se_gt))) < 1e-8
    # weighted group shares in the simple aggregation
    G, wu = r.unit_group, r.unit_weight
    t = r.att_gt[r.att_gt["post"]]
    pg = np.array([np.mean(wu * (G == g)) for g in t["group"]])
    assert r.aggregate("simple").overall["estimate"].iloc[0] == pytest.approx(float(pg @ t["att"] / pg.sum()), abs=1e-14)


# ---------------------------------------------------------------------------------------------
# properties (hypothesis)
# ---------------------------------------------------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 10_000), a=st.floats(-50, 50), b=st.floats(0.1, 10), method=st.sampled_from(["dr", "ipw", "reg"]))
def test_affine_equivariance_and_2x2_identity(seed, a, b, method):
    rng = np.random.default_rng(seed)
    n, years = 60, np.arange(2001, 2007)
    g = rng.choice([0, 2003, 2005], size=n)
    x = rng.normal(size=n)
    d = pd.DataFrame({"id": np.repeat(np.arange(n), len(years)), "t": np.tile(years, n), "g": np.repeat(g, len(years)),
                      "x": np.repeat(x, len(years))})
    d["y"] = rng.normal(size=len(d)) + 0.5 * d["x"] + (d["g"] > 0) * (d["t"] >= d["g"]) * 1.0
    r1 = callaway_santanna(d, "y", "g", entity="id", time="t", method=method, controls=["x"])
    r2 = callaway_santanna(d.assign(y=a + b * d["y"]), "y", "g", entity="id", time="t", method=method, controls=["x"])
    np.testing.assert_allclose(r2.att_gt["att"], b * r1.att_gt["att"], rtol=1e-7, atol=1e-9 * (1 + abs(a)))
    np.testing.assert_allclose(r2.att_gt["std_error"], b * r1.att_gt["std_error"], rtol=1e-7)
    # without covariates every ATT(g,t) is the difference in mean changes (treated minus never treated)
    r0 = callaway_santanna(d, "y", "g", entity="id", time="t", method=method)
    wide = d.pivot(index="id", columns="t", values="y")
    G = d.groupby("id")["g"].first()
    for row in r0.att_gt.itertuples():
        dy = wide[row.time] - wide[row.base_period]
        manual = dy[G == row.group].mean() - dy[G == 0].mean()
        assert abs(row.att - manual) < 1e-10


@pytest.mark.parametrize("kw", [dict(balance_e=1), dict(balance_e=0), dict(min_e=-2, max_e=1),
                                dict(balance_e=1, min_e=-1, max_e=1)])
def test_dynamic_windows_match_moderndid(mpdta, kw):
    md = importlib.import_module("moderndid")
    r = _cs(mpdta, controls=["lpop"], base_period="universal")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = md.att_gt(md.load_mpdta(), yname="lemp", tname="year", idname="countyreal", gname="first.treat",
                      xformla="~lpop", base_period="universal", boot=False)
        ma = md.aggte(m, type="dynamic", **kw)
    a = r.aggregate("dynamic", **kw)
    assert np.max(np.abs(a.table["estimate"].to_numpy() - np.asarray(ma.att_by_event))) < 1e-10
    se_m = np.asarray(ma.se_by_event, dtype=float)
    fin = np.isfinite(a.table["std_error"].to_numpy())
    assert np.max(np.abs(a.table["std_error"].to_numpy()[fin] - se_m[fin])) < 1e-10
    assert abs(a.overall["estimate"].iloc[0] - ma.overall_att) < 1e-10
    assert abs(a.overall["std_error"].iloc[0] - ma.overall_se) < 1e-10


def test_clustered_bootstrap_matches_moderndid_att_gt(mpdta):
    """Clustering by state (29 clusters of unequal size): bootstrap SEs and the uniform critical value
    equal moderndid's for the same seed (cluster means, sqrt(G) scaling: CRAN did 2.1.x convention)."""
    md = importlib.import_module("moderndid")
    import polars as pl

    d = mpdta.assign(state=mpdta["countyreal"] // 1000)
    r = _cs(d, controls=["lpop"], cluster="state", n_draws=999, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = md.att_gt(pl.from_pandas(d), yname="lemp", tname="year", idname="countyreal", gname="first.treat",
                      xformla="~lpop", clustervars=["state"], boot=True, biters=999, random_state=3)
    assert np.max(np.abs(r.att_gt["std_error"].to_numpy() - np.asarray(m.se_gt))) < 1e-8
    assert abs(r.crit_val - float(m.critical_value)) < 1e-6


def test_missing_cluster_ids_raise(mpdta):
    from analysis.errors import MissingValueError

    d = mpdta.assign(state=(mpdta["countyreal"] // 1000).astype(float))
    d.loc[d.index[5], "state"] = np.nan
    with pytest.raises(MissingValueError):
        _cs(d, cluster="state", n_draws=99, seed=1)
