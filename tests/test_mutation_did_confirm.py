"""Issue 15 (mutation coverage), confirmatory sample (seed 20261207): tests that kill survivors.

Modules: ``did/event_study.py``, ``did/placebo.py``, ``did/callaway_santanna/two_by_two.py``,
``did/psm.py``. Expected values come from the definition or an independent computation in the test;
the review of every survivor is in ``tests/README.mutation-mutdid4.md``.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _did_synth import staggered_panel


@pytest.fixture(scope="module")
def es_panel():
    return staggered_panel(n_units=80, years=range(2010, 2018), cohorts=(2013, 2015), seed=12)


# ---- event_study ---------------------------------------------------------------------------
def test_event_time_dummies_accept_object_dtype_relative_times():
    """Relative times held as objects (e.g. a column read with mixed types) are read as floats:
    dummies equal the definition 1{rel == k} (binned ends), NaN (never treated) all zero."""
    from analysis.did.event_study import event_time_dummies

    rel = pd.Series([-3, -2, 0, np.nan, 1, 2], dtype=object)
    D, ks, labels = event_time_dummies(rel, leads=2, lags=1)
    assert ks == [-2, 0, 1]
    assert D.to_numpy().tolist() == [[1, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 0], [0, 0, 1], [0, 0, 1]]


def test_event_study_drops_rows_with_missing_cluster_and_reports_them(es_panel):
    """Rows without a cluster id are dropped and counted under 'missing <cluster>'; the estimates equal
    those on the panel with those rows removed by hand."""
    from analysis.did import event_study

    d = es_panel.assign(region=es_panel["county"])
    drop_idx = d.index[[3, 50, 51]]
    d.loc[drop_idx, "region"] = np.nan
    res = event_study(d, "y", "adoption", leads=3, lags=2, cluster="region")
    assert res.rows.dropped == {"missing region": 3}
    assert res.rows.n_used == len(d) - 3
    ref = event_study(d.drop(index=drop_idx), "y", "adoption", leads=3, lags=2, cluster="region")
    np.testing.assert_allclose(res.event_time["estimate"], ref.event_time["estimate"], rtol=1e-12)
