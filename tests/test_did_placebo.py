"""Randomization-inference placebo, fake timing, placebo outcomes: per-draw FWL vs pyfixest refits."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _did_synth import staggered_panel

from analysis.did import fake_timing_test, placebo_outcome_test, placebo_test
from analysis.errors import SpecificationError, TreatmentTimingError


def refit(data, y, d, controls=(), entity="county", se=False):
    import pyfixest as pf

    frame = data.assign(_d=d)
    rhs = " + ".join(["_d", *controls])
    m = pf.feols(f"{y} ~ {rhs} | {entity} + year", frame, vcov={"CRV1": entity}, fixef_tol=1e-12,
                 ssc=pf.ssc(k_adj=False, G_adj=False))
    if not se:
        return float(m.coef()["_d"])
    # reghdfe factor G/(G-1)(N-1)/(N-K), K = regressors + year FE parameters (see reference/did/README.md)
    n, G, K = m._N, frame[entity].nunique(), len(m.coef()) + frame["year"].nunique() - 1
    return float(m.coef()["_d"]), float(m.se()["_d"] * np.sqrt(G / (G - 1) * (n - 1) / (n - K)))


def pseudo_treatment(res, data, b, entity="county"):
    g = pd.Series(res.assignments[b], index=res.units).replace(0, np.nan)
    ga = data[entity].map(g)
    return ((data["year"] >= ga) & ga.notna()).astype(float)


@pytest.mark.parametrize("scheme", ["units", "units_and_years", "within_province"])
def test_placebo_draws_equal_pyfixest_refits(scheme):
    d = staggered_panel(n_units=80, seed=3)
    res = placebo_test(d, "y", adoption="adoption", n_draws=40, scheme=scheme, controls=["x1", "x2"], seed=12,
                       batch_size=16, progress=False)
    b, se = refit(d, "y", d["treat"], ["x1", "x2"], se=True)
    assert abs(res.actual - b) < 1e-10 and abs(res.params["did"] - b) < 1e-10
    assert abs(res.std_errors["did"] - se) < 1e-10
    for b in (0, 17, 39):
        assert abs(res.draws[b] - refit(d, "y", pseudo_treatment(res, d, b), ["x1", "x2"])) < 1e-10


def test_placebo_unbalanced_panel_and_rows():
    d = staggered_panel(n_units=70, seed=8)
    d.loc[[5, 40, 41, 300], "y"] = np.nan
    res = placebo_test(d, "y", treat="treat", n_draws=12, seed=1, progress=False)
    assert res.rows.dropped == {"missing y": 4} and res.rows.n_used == len(d) - 4
    dd = d.dropna(subset=["y"])
    for b in (0, 11):
        assert abs(res.draws[b] - refit(dd, "y", pseudo_treatment(res, dd, b))) < 1e-10


def test_placebo_schemes_keep_counts_and_seed():
    d = staggered_panel(n_units=90, seed=6)
    g = d.groupby("county")["adoption"].first()
    prov = d.groupby("county")["province"].first()
    real = g.fillna(0).value_counts().sort_index()
    r1 = placebo_test(d, "y", adoption="adoption", n_draws=30, scheme="units", seed=5, progress=False)
    for row in r1.assignments:
        assert (pd.Series(row).value_counts().sort_index().to_numpy() == real.to_numpy()).all()
    r2 = placebo_test(d, "y", adoption="adoption", n_draws=30, scheme="within_province", seed=5, progress=False)
    real_prov = (g.notna()).groupby(prov).sum()
    for row in r2.assignments:
        drawn = pd.Series(row > 0, index=r2.units).groupby(prov.reindex(r2.units)).sum()
        assert (drawn.reindex(real_prov.index) == real_prov).all()
    r3 = placebo_test(d, "y", adoption="adoption", n_draws=30, scheme="units_and_years", seed=5, progress=False)
    assert ((r3.assignments > 0).sum(1) == g.notna().sum()).all()
    assert set(np.unique(r3.assignments[r3.assignments > 0])) <= set(range(2011, 2021))
    again = placebo_test(d, "y", adoption="adoption", n_draws=30, scheme="units", seed=5, progress=False)
    assert np.array_equal(r1.draws, again.draws)
    other = placebo_test(d, "y", adoption="adoption", n_draws=30, scheme="units", seed=6, progress=False)
    assert not np.array_equal(r1.draws, other.draws)


def test_placebo_pvalues_definitions():
    d = staggered_panel(n_units=60, seed=9, effect=0.0)
    res = placebo_test(d, "y", adoption="adoption", n_draws=199, seed=2, progress=False)
    c = int(np.sum(np.abs(res.draws) >= abs(res.actual)))
    assert res.count == c
    assert res.p_value == c / 199 and res.p_value_exact == (1 + c) / 200
    assert res.mc_error == pytest.approx(np.sqrt(res.p_value * (1 - res.p_value) / 199))
    assert res.table().loc[0, "n_draws"] == 199
    fig = res.plot(lang="zh", truth=0.0)
    assert fig.axes
    strong = placebo_test(staggered_panel(n_units=60, seed=9, effect=2.0), "y", adoption="adoption", n_draws=99,
                          seed=2, progress=False)
    assert strong.count == 0 and strong.p_value_exact == pytest.approx(0.01)


def test_fake_timing_matches_pyfixest():
    d = staggered_panel(n_units=100, seed=10)
    res = fake_timing_test(d, "y", adoption="adoption", shift=-2, controls=["x1"])
    post = d["adoption"].notna() & (d["year"] >= d["adoption"])
    dd = d.loc[~post]
    fake = (dd["adoption"].notna() & (dd["year"] >= dd["adoption"] - 2)).astype(float)
    b, se = refit(dd, "y", fake, ["x1"], se=True)
    assert abs(res.params["did"] - b) < 1e-10
    assert abs(res.std_errors["did"] - se) < 1e-10
    assert res.rows.dropped == {"actual post-treatment rows of treated units": int(post.sum())}
    with pytest.raises(SpecificationError, match="negative shift"):
        fake_timing_test(d, "y", adoption="adoption", shift=1)


def test_placebo_outcome_matches_pyfixest():
    d = staggered_panel(n_units=100, seed=12)
    d.loc[[1, 2], "x2"] = np.nan
    res = placebo_outcome_test(d, ["x2", "x1"], adoption="adoption")
    assert abs(res.params["x2"] - refit(d.dropna(subset=["x2"]), "x2", d["treat"].dropna()[d["x2"].notna()])) < 1e-10
    assert res.extra["rows"]["x2"].dropped == {"missing x2": 2}


def test_placebo_errors():
    d = staggered_panel(n_units=40, seed=1)
    with pytest.raises(SpecificationError):
        placebo_test(d, "y", adoption="adoption", scheme="years", progress=False)
    with pytest.raises(SpecificationError, match="treat= .* or adoption="):
        placebo_test(d, "y", progress=False)
    bad = d.copy()
    c = bad.loc[bad["treat"] == 1, "county"].iloc[0]
    bad.loc[bad["county"] == c, "adoption"] = np.nan
    with pytest.raises(TreatmentTimingError, match="missing adoption years"):
        placebo_test(bad, "y", treat="treat", adoption="adoption", progress=False)


@pytest.mark.parametrize("scheme", ["units", "units_and_years", "within_province"])
def test_closed_form_engine_equals_batch_demeaning(scheme):
    d = staggered_panel(n_units=90, seed=13)
    d.loc[d["county"] == d["county"].iloc[0], "adoption"] = d["year"].min()  # an always-treated unit
    d.loc[d["county"] == d["county"].iloc[0], "treat"] = 1
    kw = dict(adoption="adoption", n_draws=60, scheme=scheme, controls=["x1", "x2"], seed=4, progress=False)
    with pytest.raises(TreatmentTimingError, match="no pre-treatment period"):
        placebo_test(d, "y", **kw)
    d = d[d["county"] != d["county"].iloc[0]]
    fast = placebo_test(d, "y", engine="closed_form", **kw)
    slow = placebo_test(d, "y", engine="demean", **kw)
    assert fast.settings["engine"] == "closed_form" and slow.settings["engine"] == "demean"
    assert np.array_equal(fast.assignments, slow.assignments)
    assert np.max(np.abs(fast.draws - slow.draws)) < 1e-12
    assert abs(fast.actual - slow.actual) < 1e-12


def _unbalanced(n_units, seed, share=0.08):
    """staggered_panel with a seeded share of county-years removed (an unbalanced panel)."""
    d = staggered_panel(n_units=n_units, seed=seed)
    rng = np.random.default_rng(seed + 100)
    return d.drop(index=d.index[rng.random(len(d)) < share]).reset_index(drop=True)


@pytest.mark.parametrize("controls", [(), ("x1", "x2")])
@pytest.mark.parametrize("scheme", ["units", "units_and_years"])
def test_unbalanced_closed_form_every_draw_equals_pyfixest(scheme, controls):
    # Every draw of the unbalanced fast path against a pyfixest refit (fixef_tol 1e-12): 1e-8 is the
    # issue's tolerance; both sides are exact FWL up to pyfixest's demeaning tolerance.
    d = _unbalanced(60, seed=21)
    assert len(d) < d["county"].nunique() * d["year"].nunique()
    res = placebo_test(d, "y", adoption="adoption", n_draws=25, scheme=scheme, controls=list(controls), seed=7,
                       progress=False)
    assert res.settings["engine"] == "closed_form"
    b, se = refit(d, "y", d["treat"], list(controls), se=True)
    assert abs(res.actual - b) < 1e-8 and abs(res.std_errors["did"] - se) < 1e-8
    for k in range(25):
        assert abs(res.draws[k] - refit(d, "y", pseudo_treatment(res, d, k), list(controls))) < 1e-8


def test_unbalanced_closed_form_equals_batch_demeaning():
    # Closed form vs the iterative batch demeaning (alternating projections, tol 1e-12): same draws.
    d = _unbalanced(120, seed=5, share=0.15)
    d = d[d.groupby("county")["year"].transform("size") > 1]  # drop single-year units (nothing to identify)
    kw = dict(adoption="adoption", n_draws=80, scheme="within_province", controls=["x1"], seed=3, progress=False)
    fast = placebo_test(d, "y", **kw)
    slow = placebo_test(d, "y", engine="demean", **kw)
    assert fast.settings["engine"] == "closed_form" and slow.settings["engine"] == "demean"
    assert np.max(np.abs(fast.draws - slow.draws)) < 1e-9


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=40, deadline=None)
@given(n_units=st.integers(3, 12), n_periods=st.integers(2, 7), seed=st.integers(0, 10_000),
       keep=st.floats(0.5, 1.0))
def test_two_way_fwl_annihilator_properties(n_units, n_periods, seed, keep):
    # Invariants of the exact unbalanced two-way annihilator M: M x is orthogonal to every unit and
    # period dummy, M is idempotent, and M x equals the OLS residual on the full dummy set (lstsq).
    from analysis.did.placebo import _TwoWayFWL

    rng = np.random.default_rng(seed)
    u, t = np.meshgrid(np.arange(n_units), np.arange(n_periods), indexing="ij")
    u, t = u.ravel(), t.ravel()
    sel = rng.random(len(u)) < keep
    sel[rng.integers(len(u))] = True
    u, t = u[sel], t[sel]
    u = pd.factorize(u, sort=True)[0]
    t = pd.factorize(t, sort=True)[0]
    m = _TwoWayFWL(u, t, u.max() + 1, t.max() + 1)
    x = rng.normal(size=(len(u), 3))
    mx = m.annihilate(x)
    dummies = np.column_stack([np.eye(u.max() + 1)[u], np.eye(t.max() + 1)[t]])
    resid = x - dummies @ np.linalg.lstsq(dummies, x, rcond=None)[0]
    tol = 1e-9 * (1 + np.abs(x).max())  # float rounding of a few hundred operations
    assert np.abs(dummies.T @ mx).max() < tol * len(u)
    assert np.abs(m.annihilate(mx) - mx).max() < tol
    assert np.abs(mx - resid).max() < tol
