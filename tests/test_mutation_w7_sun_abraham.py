"""Wave-7 mutation review of ``analysis/did/sun_abraham.py`` (seed 20261213; the review is in
``tests/README.mutation-mutsa7.md``, spliced into ``tests/README.md``).

Pins what the surviving mutants changed: the exact text of every error the function raises (the
name of the bad argument in the choice errors, the fix each message states), and every settings
key of the result, with the ``controls=`` option checked against an independent dense OLS with
unit and year dummies (the Sun-Abraham saturated regression written out again with numpy).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from test_mutation_did_modern import _stag

from analysis.did._common import LATE_ADOPTION_KEY
from analysis.did.sun_abraham import sun_abraham
from analysis.errors import MissingValueError, SpecificationError, TreatmentTimingError


def _with_control(seed=11):
    """``_stag`` panel plus a time-varying control x that moves y (coefficient 0.7)."""
    d = _stag()
    rng = np.random.default_rng(seed)
    x = rng.normal(size=len(d))
    return d.assign(x=x, y=d["y"] + 0.7 * x)


# ---- the choice errors name the argument (mutants 10, 16: control; 22: variance) ----------------
def test_bad_choices_name_the_argument_exactly():
    d = _stag()
    with pytest.raises(SpecificationError, match=r"^control='notyet' is not one of 'never', 'last'\.$"):
        sun_abraham(d, "y", "g", control="notyet")
    with pytest.raises(SpecificationError, match=r"^variance='bootstrap' is not one of 'fixed', 'delta'\.$"):
        sun_abraham(d, "y", "g", variance="bootstrap")


# ---- every message of the function, in full (mutants 59, 116 and the rest of the class) ----------
def test_error_messages_in_full():
    d = _stag()
    bad = d.copy()
    bad.loc[3, "prov"] = None
    with pytest.raises(MissingValueError,
                       match=r"^cluster column 'prov' is missing in row 3; give every row a cluster id\.$"):
        sun_abraham(bad, "y", "g", cluster="prov")
    with pytest.raises(TreatmentTimingError, match=r"^no treated units in 'g'\.$"):
        sun_abraham(d.assign(g=0), "y", "g")
    one = d.assign(g=np.where(d["g"] == 2015, 2013, d["g"]))
    msg = r"^a last-treated control cohort needs at least two treated cohorts\.$"
    with pytest.raises(TreatmentTimingError, match=msg):
        sun_abraham(one, "y", "g", control="last")
    # the same rule reached the other way: one cohort and no never-treated units
    with pytest.raises(TreatmentTimingError, match=msg):
        sun_abraham(one[one["g"] > 0], "y", "g")
    # every relative period of the treated rows (2010-2017 minus 2013 / 2015: -5..4) a reference
    # period: nothing left to estimate
    with pytest.raises(SpecificationError, match=r"^no cohort x relative-period cells to estimate\.$"):
        sun_abraham(d, "y", "g", ref_periods=range(-5, 5))


# ---- settings keys (mutant 482: "controls") and the controls option itself ---------------------
def _dense_sa(d, y="y", controls=(), refs=(-1,)):
    """Saturated SA regression by dense OLS: cohort x relative-period dummies (rel not in ``refs``,
    units with g > 0 only), the controls, unit and year dummies (first year dropped).
    Returns ({(g, rel): b}, control coefficients)."""
    G = d["g"].where(d["g"] > 0).to_numpy(float)
    rel = d["year"].to_numpy(float) - G
    cells = sorted({(g, r) for g, r in zip(G, rel) if not np.isnan(r) and r not in refs})
    D = np.column_stack([((G == g) & (rel == r)).astype(float) for g, r in cells])
    units = pd.get_dummies(d["county"]).to_numpy(float)
    years = pd.get_dummies(d["year"]).to_numpy(float)[:, 1:]
    Z = np.column_stack([D, *(d[c].to_numpy(float) for c in controls), units, years])
    b = np.linalg.lstsq(Z, d[y].to_numpy(float), rcond=None)[0]
    return dict(zip(cells, b[:len(cells)])), b[len(cells):len(cells) + len(controls)]


def test_controls_setting_and_estimates_against_dense_ols():
    d = _with_control()
    r = sun_abraham(d, "y", "g", controls=["x"])
    assert r.settings["controls"] == ["x"]
    assert sun_abraham(d, "y", "g").settings["controls"] == []
    by_hand, gamma = _dense_sa(d, controls=["x"])
    ce = r.extra["cohort_effects"]
    assert len(ce) == len(by_hand)
    # two least-squares solutions of the same 960-row problem: agree to rounding (1e-9 is far
    # above the ~1e-13 seen, far below the 0.7 * x shift that ignoring the control would leave)
    for g, rel, est in zip(ce["cohort"], ce["rel"], ce["estimate"]):
        assert abs(est - by_hand[(g, rel)]) < 1e-9
    # the control is in the regression (without it, the cohort effects differ from the dense fit)
    no_x = sun_abraham(d, "y", "g").extra["cohort_effects"]
    assert np.max(np.abs(no_x["estimate"].to_numpy() - ce["estimate"].to_numpy())) > 1e-3
    assert abs(gamma[0] - 0.7) < 0.1  # sanity of the by-hand fit: recovers the planted 0.7 (SE ~0.01)
    # the deprecated keyword covariates= gives the same result, with a DeprecationWarning
    with pytest.warns(DeprecationWarning, match=r"^sun_abraham\(covariates=\.\.\.\) is deprecated"):
        rc = sun_abraham(d, "y", "g", covariates=["x"])
    assert rc.settings["controls"] == ["x"]
    np.testing.assert_array_equal(rc.event_time["estimate"], r.event_time["estimate"])


def test_every_settings_key():
    d = _with_control()
    r = sun_abraham(d, "y", "g", controls=["x"], cluster="prov", variance="delta", ref_periods=(-3,))
    assert r.settings == {
        "control": "never-treated units", "ref_periods": [-3, -1], "variance": "delta", "cluster": "prov",
        "controls": ["x"], "se": "CRV1 (reghdfe small-sample rules), t(G-1) inference",
    }
    # the cluster defaults to the unit, the control cohort to the last one when asked
    r = sun_abraham(d, "y", "g", control="last")
    assert r.settings["cluster"] == "county" and r.settings["control"] == "last-treated cohort (2015)"
    assert r.settings["variance"] == "fixed" and r.settings["ref_periods"] == [-1]
    # late adopters (after the last period) are never treated, and the note says so
    late = d.copy()
    late.loc[late["county"] == "c000", "g"] = 2020
    r = sun_abraham(late, "y", "g")
    assert r.settings[LATE_ADOPTION_KEY] == ("1 county(s) adopting after the last period (2017) treated as never "
                                             "treated within the sample (adoption years [2020])")
    # a control collinear with the unit effects is dropped and named
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = sun_abraham(d.assign(z=np.repeat(np.arange(120.0), 8)), "y", "g", controls=["x", "z"])
    assert r.settings["collinear_dropped"] == "z (constant within the fixed effects (zero after demeaning))"
    assert "collinear_dropped" not in sun_abraham(d, "y", "g", controls=["x"]).settings


def test_control_last_and_ref_periods_against_dense_ols():
    """``control="last"``: the 2015 cohort is the control, never-treated units and the years from
    2015 on are left out (Sun and Abraham 2021, sec. 4.2); ``ref_periods``: more relative periods
    left out of the interactions. Both written out again as a dense OLS on the subsample."""
    d = _stag()
    r = sun_abraham(d, "y", "g", control="last")
    sub = d[(d["g"] > 0) & (d["year"] < 2015)]
    by_hand, _ = _dense_sa(sub.assign(g=sub["g"].where(sub["g"] != 2015, 0)))
    ce = r.extra["cohort_effects"]
    assert sorted(zip(ce["cohort"], ce["rel"])) == sorted(by_hand)  # cohort 2013, rel -3..1 except -1
    assert sorted(by_hand) == [(2013.0, -3.0), (2013.0, -2.0), (2013.0, 0.0), (2013.0, 1.0)]
    for g, rel, est in zip(ce["cohort"], ce["rel"], ce["estimate"]):
        assert abs(est - by_hand[(g, rel)]) < 1e-9  # same least-squares problem, rounding only
    assert r.rows.n_used == len(sub)
    assert r.rows.dropped == {"never-treated unit (control = last-treated cohort)": int((d["g"] == 0).sum()),
                              "period at or after the control cohort's adoption": int(((d["g"] > 0)
                                                                                       & (d["year"] >= 2015)).sum())}
    r2 = sun_abraham(d, "y", "g", ref_periods=(-4, 2))
    by_hand, _ = _dense_sa(d, refs=(-4, -1, 2))
    ce = r2.extra["cohort_effects"]
    assert not ce["rel"].isin([-4, -1, 2]).any() and len(ce) == len(by_hand)
    for g, rel, est in zip(ce["cohort"], ce["rel"], ce["estimate"]):
        assert abs(est - by_hand[(g, rel)]) < 1e-9


def test_alpha_sets_both_interval_widths():
    """``alpha=0.10``: 90% t(G-1) intervals for the event times and for the overall ATT."""
    from scipy import stats

    r = sun_abraham(_stag(), "y", "g", cluster="prov", alpha=0.10)
    tq = stats.t(8).ppf(0.95)  # 9 provinces -> t(8)
    assert r.df_resid == 8
    ev = r.event_time
    np.testing.assert_allclose(ev["ci_high"] - ev["estimate"], tq * ev["std_error"], rtol=1e-12)
    np.testing.assert_allclose(ev["estimate"] - ev["ci_low"], tq * ev["std_error"], rtol=1e-12)
    o = r.overall
    assert o["ci_high"] - o["estimate"] == pytest.approx(tq * o["std_error"], rel=1e-12)
    assert o["estimate"] - o["ci_low"] == pytest.approx(tq * o["std_error"], rel=1e-12)
