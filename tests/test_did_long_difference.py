"""Long difference (two-period DiD) used for the census counterparts of notebook 09.

(a) an independent computation: statsmodels OLS on explicit province dummies with prefecture-clustered
    and HC1 standard errors; (b) recovery of a known effect on simulated two-period data, with interval
    coverage; (c) the REAL 2010/2020 census: numbers computed by hand here with pandas from the raw CSV
    files (not through analysis.datasets), pinned.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import datasets
from analysis.did import long_difference
from analysis.errors import ColumnError, NonNumericError, SpecificationError, YearRangeError

ROOT = Path(__file__).resolve().parents[1]


def _census_with_pilots() -> pd.DataFrame:
    c = datasets.load_census()
    pilots = set(datasets.load_land_reform_pilots()["adcode_current"])
    return c.assign(pilot=c["county"].isin(pilots).astype(int))


@pytest.fixture(scope="module")
def census():
    return _census_with_pilots()


def _statsmodels_long_difference(census, y, controls=(), cov="cluster"):
    """The same regression written out: change on pilot + province dummies + 2010 controls."""
    a = census[census["year"] == 2010].set_index("county")
    b = census[census["year"] == 2020].set_index("county")
    cs = a[["pilot", "province", "prefecture_adcode", *controls]].copy()
    cs["dy"] = b[y].reindex(cs.index) - a[y]
    cs = cs.dropna()
    X = pd.concat([cs[["pilot", *controls]].astype(float),
                   pd.get_dummies(cs["province"], drop_first=True, dtype=float)], axis=1)
    X = sm.add_constant(X)
    if cov == "cluster":
        fit = sm.OLS(cs["dy"], X).fit(cov_type="cluster",
                                      cov_kwds={"groups": pd.factorize(cs["prefecture_adcode"])[0]})
    else:
        fit = sm.OLS(cs["dy"], X).fit(cov_type="HC1")
    return fit, len(cs)


# --------------------------------------------------------------------------------------------
# (a) independent implementation
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("y,controls", [("urbanization_rate", ()),
                                        ("nonfarm_emp_share", ("urbanization_rate", "edu_years"))])
@pytest.mark.parametrize("cov", ["cluster", "hetero"])
def test_matches_statsmodels_with_province_dummies(census, y, controls, cov):
    """Same point estimate; same SE. With province FE and prefecture clusters the provinces are not
    nested in the clusters, so reghdfe counts them in K exactly as statsmodels counts the dummies:
    statsmodels' cluster correction G/(G-1)(N-1)/(N-K) and HC1's N/(N-K) are then reghdfe's.
    Tolerance 1e-8 relative: two least-squares solves of the same system."""
    res = long_difference(census, y, "pilot", controls=controls,
                          vcov=None if cov == "cluster" else "hetero",
                          cluster="prefecture_adcode" if cov == "cluster" else None)
    fit, n = _statsmodels_long_difference(census, y, controls, cov)
    assert res.n_used == n
    assert res.params["did"] == pytest.approx(fit.params["pilot"], rel=1e-8)
    assert res.std_errors["did"] == pytest.approx(fit.bse["pilot"], rel=1e-8)
    for c in controls:
        assert res.params[c] == pytest.approx(fit.params[c], rel=1e-8)


def test_two_period_twfe_equivalence():
    """Without controls or FE, the long difference equals the D x post coefficient of the stacked
    two-period TWFE regression (unit and period FE): an algebraic identity (1e-10)."""
    rng = np.random.default_rng(5)
    n = 120
    d = pd.DataFrame({"county": np.repeat(np.arange(n).astype(str), 2), "year": np.tile([2010, 2020], n)})
    d["pilot"] = np.repeat(rng.integers(0, 2, n), 2)
    d["y"] = rng.normal(size=2 * n) + 0.3 * d["pilot"] * (d["year"] == 2020)
    ld = long_difference(d, "y", "pilot", fe=None, cluster=None, vcov="hetero")
    d["dpost"] = d["pilot"] * (d["year"] == 2020)
    X = sm.add_constant(pd.concat([d[["dpost"]].astype(float), pd.get_dummies(d["county"], drop_first=True, dtype=float),
                                   (d["year"] == 2020).astype(float).rename("post")], axis=1))
    twfe = sm.OLS(d["y"], X).fit()
    assert ld.params["did"] == pytest.approx(twfe.params["dpost"], abs=1e-10)


# --------------------------------------------------------------------------------------------
# (b) recovery of a known effect on simulated two-period data
# --------------------------------------------------------------------------------------------
def _simulate(rng, effect, n_prov=20, per_prov=40):
    n = n_prov * per_prov
    prov = np.repeat(np.arange(n_prov), per_prov)
    pref = prov * 10 + rng.integers(0, 5, n)               # 5 prefectures per province
    alpha = rng.normal(0, 1, n)                            # unit levels (cancel in the difference)
    trend = rng.normal(0, 0.1, n_prov)[prov]               # province-specific change (absorbed by FE)
    shock = rng.normal(0, 0.05, n_prov * 10)[pref]         # prefecture shocks: clustered errors
    pscore = 1 / (1 + np.exp(-(trend * 10)))                # selection on the province trend
    pilot = (rng.uniform(size=n) < 0.15 * pscore).astype(int)
    y0 = alpha + rng.normal(0, 0.05, n)
    y1 = alpha + 0.1 + trend + shock + effect * pilot + rng.normal(0, 0.05, n)
    d = pd.DataFrame({"county": np.tile(np.arange(n).astype(str), 2), "year": np.repeat([2010, 2020], n),
                      "y": np.r_[y0, y1], "pilot": np.tile(pilot, 2), "province": np.tile(prov, 2),
                      "prefecture_adcode": np.tile(pref, 2)})
    return d


def test_recovers_known_effect_with_coverage():
    """200 simulated samples, true effect 0.05, selection on province trends (removed by the province
    FE, not by a plain intercept). Mean estimate within 0.004 of the truth (MC sd of the mean about
    0.0015); 95% intervals cover in [0.90, 0.99] of the samples (binomial 200 draws: sd 0.015)."""
    rng = np.random.default_rng(20261206)
    est, cover, naive = [], [], []
    for _ in range(200):
        d = _simulate(rng, 0.05)
        r = long_difference(d, "y", "pilot")
        lo, hi = r.conf_int().loc["did"]
        est.append(r.params["did"])
        cover.append(lo <= 0.05 <= hi)
        naive.append(long_difference(d, "y", "pilot", fe=None).params["did"])
    assert abs(np.mean(est) - 0.05) < 0.004
    assert 0.90 <= np.mean(cover) <= 0.99
    assert np.mean(naive) - 0.05 > 0.01  # without the province FE the selection biases it upwards


@pytest.mark.filterwarnings("ignore::analysis.regression.fe.FewClustersWarning")
@settings(max_examples=25, deadline=None)
@given(shift=st.floats(-5, 5), bump=st.floats(-2, 2), seed=st.integers(0, 10_000))
def test_invariants(shift, bump, seed):
    """Adding a constant to every post value leaves the DiD unchanged; adding ``bump`` to the treated
    units' post values moves it by exactly ``bump`` (1e-9)."""
    d = _simulate(np.random.default_rng(seed), 0.0, n_prov=6, per_prov=20)
    if d["pilot"].nunique() < 2:
        return
    base = long_difference(d, "y", "pilot").params["did"]
    post = d["year"] == 2020
    shifted = d.assign(y=d["y"] + shift * post)
    bumped = d.assign(y=d["y"] + bump * post * d["pilot"])
    assert long_difference(shifted, "y", "pilot").params["did"] == pytest.approx(base, abs=1e-9)
    assert long_difference(bumped, "y", "pilot").params["did"] == pytest.approx(base + bump, abs=1e-9)


def test_log_transform_is_growth():
    d = _simulate(np.random.default_rng(2), 0.0, n_prov=5, per_prov=20)
    d["pop"] = np.exp(d["y"])
    a = long_difference(d, "pop", "pilot", transform="log").params["did"]
    b = long_difference(d, "y", "pilot").params["did"]
    assert a == pytest.approx(b, abs=1e-10)


# --------------------------------------------------------------------------------------------
# (c) the real census, by hand from the raw files
# --------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def raw():
    """The shipped CSV files read with plain pandas (no analysis.datasets)."""
    c = pd.read_csv(ROOT / "data" / "real" / "census_county_2010_2020.csv.gz", dtype={"county": str, "province": str,
                                                                                      "prefecture_adcode": str})
    p = pd.read_csv(ROOT / "data" / "policies" / "land_reform_pilots_2015.csv", dtype={"adcode_current": str})
    c["pilot"] = c["county"].isin(p["adcode_current"]).astype(int)
    wide = c[c["matched_both_years"] == 1].pivot(index="county", columns="year", values="urbanization_rate")
    info = c[c["year"] == 2010].set_index("county")[["pilot", "province"]]
    hand = info.join((wide[2020] - wide[2010]).rename("dy"), how="inner").dropna()
    return c, hand


def test_census_counts_and_means_by_hand(census, raw):
    c, hand = raw
    r = long_difference(census[census["matched_both_years"] == 1], "urbanization_rate", "pilot")
    # by hand: 33 pilots (all 33 of 2015 are matched in both censuses), 2771 other counties
    assert (r.stats["n_treated"], r.stats["n_control"]) == (int(hand["pilot"].sum()), int((hand["pilot"] == 0).sum()))
    assert (r.stats["n_treated"], r.stats["n_control"]) == (33, 2771)
    m = hand.groupby("pilot")["dy"].mean()
    assert r.stats["mean_change_treated"] == pytest.approx(m[1], abs=1e-12)
    assert r.stats["mean_change_control"] == pytest.approx(m[0], abs=1e-12)
    # pinned from the hand computation (CSV stores 6 significant digits; 1e-6 absolute)
    assert m[1] == pytest.approx(0.114413, abs=1e-6) and m[0] == pytest.approx(0.113603, abs=1e-6)
    # without FE the DiD is the difference of the two means
    plain = long_difference(census[census["matched_both_years"] == 1], "urbanization_rate", "pilot", fe=None)
    assert plain.params["did"] == pytest.approx(m[1] - m[0], abs=1e-12)


def test_census_province_fe_by_hand(census, raw):
    """Frisch-Waugh by hand: demean the change and the pilot dummy within provinces, then
    b = sum(d~ y~) / sum(d~^2). Pinned: 0.006949 (1e-6)."""
    _, hand = raw
    yt = hand["dy"] - hand.groupby("province")["dy"].transform("mean")
    dt = hand["pilot"] - hand.groupby("province")["pilot"].transform("mean")
    b = float((dt * yt).sum() / (dt * dt).sum())
    r = long_difference(census[census["matched_both_years"] == 1], "urbanization_rate", "pilot")
    assert r.params["did"] == pytest.approx(b, abs=1e-10)
    assert b == pytest.approx(0.006949, abs=1e-6)
    assert r.n_clusters == 340


def test_census_rows_report_missing_periods(census, raw):
    """Counties of today's frame without a 2010 census unit are reported, not silently dropped."""
    c, _ = raw
    has10 = set(c.loc[(c["year"] == 2010) & c["pop_resident"].notna(), "county"])
    has20 = set(c.loc[(c["year"] == 2020) & c["pop_resident"].notna(), "county"])
    allc = set(c["county"])
    r = long_difference(census, "pop_resident", "pilot", transform="log")
    assert r.rows.n_input == len(allc)
    assert r.rows.dropped["no pre-period value"] == len(allc - has10)
    assert r.rows.dropped["no post-period value"] == len((allc & has10) - has20)
    assert r.n_used == len(has10 & has20)


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------
def test_bad_input(census):
    with pytest.raises(ColumnError):
        long_difference(census, "no_such_column", "pilot")
    with pytest.raises(YearRangeError):
        long_difference(census, "urbanization_rate", "pilot", pre=2015)
    with pytest.raises(YearRangeError):
        long_difference(census, "urbanization_rate", "pilot", pre=2020, post=2010)
    with pytest.raises(NonNumericError, match="0/1"):
        long_difference(census.assign(pilot=census["pilot"] * 2), "urbanization_rate", "pilot")
    with pytest.raises(NonNumericError, match="> 0"):
        long_difference(census.assign(z=0.0), "z", "pilot", transform="log")
    with pytest.raises(SpecificationError, match="more than once"):
        long_difference(pd.concat([census, census.iloc[:1]]), "urbanization_rate", "pilot")
    with pytest.raises(SpecificationError, match="treated"):
        long_difference(census.assign(pilot=0), "urbanization_rate", "pilot")
