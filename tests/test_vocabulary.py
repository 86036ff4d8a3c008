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
