"""The bad-input contract at a glance: input -> expected error (or warning) and a message fragment.

Each row of ``CASES`` is one borderline or wrong input a user can give. ``expect`` is the error
class that must be raised (every one a ``ValueError`` subclass from ``analysis.errors``) or the
warning class that must be issued; ``match`` is a fragment of the message (a regular expression).
Where a warning is expected, the case function also checks the numbers it returns (NaN, never a
confident value). Add a row for every new bad input the package learns to handle.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import pytest
from _did_synth import staggered_panel
from _spatial_support import lattice_weights, simulate_sdm

from analysis import errors as E
from analysis.regression.fe import CollinearityWarning, FewClustersWarning


@dataclass
class Case:
    id: str
    run: Callable[[], object]
    expect: type
    match: str


# ---- inputs ---------------------------------------------------------------------------------
def _w():
    return lattice_weights(4, 4)


def _nan_w():
    from scipy import sparse

    from analysis.spatial.weights import weights_from_matrix

    m = _w().base.toarray()
    m[0, 1] = m[1, 0] = np.nan
    return weights_from_matrix(sparse.csr_matrix(m), _w().ids)


def _panel(n_units=10, seed=0):
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"county": np.repeat([f"{i:06d}" for i in range(n_units)], 6),
                       "year": np.tile(np.arange(2010, 2016), n_units)})
    df["x"] = rng.standard_normal(len(df))
    df["y"] = df["x"] + rng.standard_normal(len(df))
    return df


def _did(n_units=60, seed=1):
    return staggered_panel(n_units=n_units, years=range(2010, 2018), cohorts=(2013, 2015), seed=seed)


def _late(df):
    """Three never-treated units get an adoption year after the sample's last period."""
    df = df.copy()
    never = df.loc[df["adoption"].isna(), "county"].unique()[:3]
    df.loc[df["county"].isin(never), "adoption"] = 2030
    return df


# ---- case functions (each returns nothing; errors and warnings are checked by the runner) ----
def moran_constant():
    from analysis.spatial import moran

    r = moran(np.full(16, 3.0), _w(), n_draws=99, seed=1)
    assert np.isnan(r["I"]) and np.isnan(r["p_sim"]) and np.isnan(r["p_norm"])
    assert "constant" in r.settings["undefined"]


def moran_by_year_zero_year():
    from analysis.spatial import moran_by_year

    w = _w()
    df = simulate_sdm(w, T=3, seed=2)
    df.loc[df["year"] == 2000, "y"] = 0.0  # a policy dummy before adoption
    tab = moran_by_year(df, "y", w, n_draws=49, seed=1)
    first = tab.iloc[0]
    assert np.isnan(first["I"]) and np.isnan(first["p_sim"]) and "constant" in first["note"]
    assert tab["I"].iloc[1:].notna().all()


def local_moran_zero():
    from analysis.spatial import local_moran

    out = local_moran(np.zeros(16), _w(), n_draws=49, seed=1)
    assert (out["cluster"] == "undefined").all() and out["p_sim"].isna().all()


def getis_ord_constant():
    from analysis.spatial import getis_ord

    out = getis_ord(np.ones(16), _w(), n_draws=49, seed=1)
    assert (out["hotspot"] == "undefined").all() and out["z"].isna().all()


def getis_ord_hub_unit():
    from analysis.spatial import getis_ord, weights_from_matrix

    r, c = np.divmod(np.arange(9), 3)  # 3 x 3 queen lattice: the centre neighbours every unit
    A = (np.maximum(np.abs(r[:, None] - r), np.abs(c[:, None] - c)) == 1).astype(float)
    out = getis_ord(np.arange(9.0) ** 1.5, weights_from_matrix(A, [f"c{i}" for i in range(9)]),
                    n_draws=49, seed=1, star=False)
    assert out.loc["c4", "hotspot"] == "undefined" and np.isnan(out.loc["c4", "p_sim"])


def moran_nan_weight():
    from analysis.spatial import moran

    moran(np.arange(16.0), _nan_w(), n_draws=0)


def fe_one_cluster():
    from analysis.regression import fe

    fe("y ~ x", _panel().assign(g="all"), cluster="g")


def fe_two_clusters():
    from analysis.regression import fe

    fe("y ~ x", _panel(n_units=2))


def fe_few_clusters():
    from analysis.regression import fe

    r = fe("y ~ x", _panel(n_units=10))
    assert "10 clusters" in r.settings["few_clusters"]


def fe_collinear():
    from analysis.regression import fe

    df = _panel(n_units=50).assign(x2=lambda d: 2 * d["x"])
    r = fe("y ~ x + x2", df)
    assert "x2" in r.settings["collinear_dropped"] and "x2" not in r.params.index


def event_study_constant_control():
    from analysis.did import event_study

    df = _did()
    df["size"] = df["county"].str[-2:].astype(float)  # constant within county: absorbed by its FE
    res = event_study(df, "y", "adoption", controls=["size"])
    assert "size" in res.settings["collinear_dropped"]
    assert np.isnan(res.extra["controls"]["size"])


def distance_islands_not_attached():
    from analysis.spatial import distance_weights

    frame = pd.DataFrame({"adcode": ["1", "2", "3"], "lon": [100.0, 100.1, 120.0], "lat": [30.0, 30.0, 40.0]})
    distance_weights(frame, cutoff_km=50, attach_islands=False)


def economic_islands_not_attached():
    from analysis.spatial import economic_weights

    frame = pd.DataFrame({"adcode": ["1", "2", "3"], "lon": [100.0, 100.1, 120.0], "lat": [30.0, 30.0, 40.0]})
    economic_weights(pd.Series([1.0, 2.0, 3.0], index=["1", "2", "3"]), frame, cutoff_km=50,
                     attach_islands=False)


def cs_empty():
    from analysis.did import callaway_santanna

    callaway_santanna(_did().iloc[:0], "y", "adoption")


def cs_all_nan_outcome():
    from analysis.did import callaway_santanna

    callaway_santanna(_did().assign(y=np.nan), "y", "adoption")


def _sp_panel():
    w = lattice_weights(4, 4)
    return simulate_sdm(w, T=4, seed=1), w


def spatial_panel_inf():
    from analysis.spatial import spatial_panel

    df, w = _sp_panel()
    df.loc[5, "y"] = np.inf
    spatial_panel(df, "y", ["x1", "x2"], w, compute_effects=False)


def spatial_panel_constant():
    from analysis.spatial import spatial_panel

    df, w = _sp_panel()
    spatial_panel(df.assign(y=1.0), "y", ["x1", "x2"], w, compute_effects=False)


def spatial_panel_nan_weights():
    from analysis.spatial import spatial_panel

    df, _ = _sp_panel()
    spatial_panel(df, "y", ["x1", "x2"], _nan_w(), compute_effects=False)


def adoption_bad_text():
    from analysis.did import event_study

    df = _did()
    df["adoption"] = df["adoption"].map(lambda v: "" if pd.isna(v) else f"{int(v)}")
    df.loc[df.index[:8], "adoption"] = "2013年"
    event_study(df, "y", "adoption")


CASES = [
    Case("moran: constant series -> NaN, not p = 0.001", moran_constant, RuntimeWarning, "constant"),
    Case("moran_by_year: an all-zero year -> NaN row with a note", moran_by_year_zero_year, RuntimeWarning,
         "undefined .* 2000"),
    Case("local_moran: all zeros -> 'undefined', not LL", local_moran_zero, RuntimeWarning, "constant"),
    Case("getis_ord: constant -> 'undefined', not cold", getis_ord_constant, RuntimeWarning, "constant"),
    Case("getis_ord: a unit neighbouring every unit -> 'undefined', not cold", getis_ord_hub_unit, RuntimeWarning,
         "neighbour every other unit"),
    Case("moran: W with a NaN entry", moran_nan_weight, E.WeightsMatrixError, "NaN"),
    Case("fe: one cluster", fe_one_cluster, E.SpecificationError, "at least 2 clusters"),
    Case("fe: two clusters (SE = 0)", fe_two_clusters, E.SpecificationError, "degenerate"),
    Case("fe: 10 clusters", fe_few_clusters, FewClustersWarning, "only 10 clusters.*wild_bootstrap"),
    Case("fe: collinear regressor", fe_collinear, CollinearityWarning, "x2"),
    Case("event_study: control constant within county", event_study_constant_control, CollinearityWarning,
         "size \\(constant within the fixed effects"),
    Case("distance_weights: island, attach_islands=False", distance_islands_not_attached, E.WeightsMatrixError,
         "islands"),
    Case("economic_weights: island, attach_islands=False", economic_islands_not_attached, E.WeightsMatrixError,
         "islands"),
    Case("callaway_santanna: empty frame", cs_empty, E.MissingValueError, "no rows"),
    Case("callaway_santanna: all-NaN outcome", cs_all_nan_outcome, E.MissingValueError, "missing in every row"),
    Case("spatial_panel: infinite outcome", spatial_panel_inf, E.NonNumericError, "infinite"),
    Case("spatial_panel: constant outcome", spatial_panel_constant, E.ConstantColumnError, "constant"),
    Case("spatial_panel: NaN weights", spatial_panel_nan_weights, E.WeightsMatrixError, "NaN"),
    Case("adoption as text with a non-year", adoption_bad_text, E.NonNumericError, "2013年"),
]


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_bad_input(case: Case):
    if issubclass(case.expect, Warning):
        with pytest.warns(case.expect, match=case.match):
            case.run()
    else:
        assert issubclass(case.expect, ValueError)  # every input error is a ValueError
        with pytest.raises(case.expect, match=case.match):
            case.run()


# ---- adoption after the last period and adoption given as text: one rule everywhere ---------
def _estimators():
    from analysis.did import callaway_santanna, event_study, imputation, static_twfe, sun_abraham

    return {
        "event_study": lambda d: event_study(d, "y", "adoption"),
        "callaway_santanna": lambda d: callaway_santanna(d, "y", "adoption"),
        "sun_abraham": lambda d: sun_abraham(d, "y", "adoption"),
        "imputation": lambda d: imputation(d, "y", "adoption"),
        "static_twfe": lambda d: static_twfe(d, "y", "adoption"),
    }


@pytest.mark.parametrize("name", list(_estimators()))
def test_adoption_after_last_period_is_never_treated_and_reported(name):
    from analysis.did._common import LATE_ADOPTION_KEY

    fit = _estimators()[name]
    base = _did()
    late = _late(base)
    r_late, r_base = fit(late), fit(base)
    assert "3 county(s) adopting after the last period (2017) treated as never treated" in r_late.settings[LATE_ADOPTION_KEY]
    assert LATE_ADOPTION_KEY not in r_base.settings
    # the same numbers as if they were coded never treated (1e-10: identical computation)
    np.testing.assert_allclose(r_late.params.to_numpy(), r_base.params.to_numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", list(_estimators()))
def test_adoption_as_text_with_blank_is_accepted_everywhere(name):
    fit = _estimators()[name]
    base = _did()
    text = base.copy()
    text["adoption"] = base["adoption"].map(lambda v: "" if pd.isna(v) else f" {int(v)} ")
    # one never-treated unit written as '0' instead of ''
    first_never = text.loc[text["adoption"] == "", "county"].iloc[0]
    text.loc[text["county"] == first_never, "adoption"] = "0"
    np.testing.assert_allclose(fit(text).params.to_numpy(), fit(base).params.to_numpy(), rtol=1e-10, atol=1e-12)
