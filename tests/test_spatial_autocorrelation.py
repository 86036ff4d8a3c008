"""Moran's I by year, LISA clusters and Getis-Ord Gi* against esda."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _spatial_support import lattice_weights, simulate_sdm
from analysis.errors import MissingValueError, WeightsMatrixError
from analysis.spatial import getis_ord, local_moran, moran_by_year
from analysis.spatial.autocorrelation import moran


def test_moran_matches_esda_statistic_and_by_hand():
    import esda

    w = lattice_weights(8, 8)
    rng = np.random.default_rng(0)
    y = rng.standard_normal(w.n) + w.lag(rng.standard_normal(w.n)) * 2
    r = moran(y, w, permutations=199, seed=1)
    m = esda.Moran(y, w.w, permutations=0)
    assert r["I"] == pytest.approx(m.I, abs=1e-14)
    z = y - y.mean()
    assert r["I"] == pytest.approx(w.n / w.sparse.sum() * (z @ w.lag(z)) / (z @ z), abs=1e-14)
    assert r["p_norm"] == pytest.approx(m.p_norm)
    assert 0 < r["p_sim"] <= 1


def test_moran_by_year_is_reproducible():
    w = lattice_weights(6, 6)
    df = simulate_sdm(w, T=4, seed=3)
    a = moran_by_year(df, "y", w, permutations=99, seed=5)
    b = moran_by_year(df, "y", w, permutations=99, seed=5)
    pd.testing.assert_frame_equal(a, b)
    assert list(a["year"]) == sorted(df["year"].unique())
    assert (a["I"] > 0).all()  # spatial lag process with rho = 0.45


def test_local_moran_labels_match_esda_quadrants():
    import esda

    w = lattice_weights(7, 7)
    rng = np.random.default_rng(2)
    y = pd.Series(rng.standard_normal(w.n), index=w.ids)
    out = local_moran(y, w, permutations=199, seed=3, alpha=0.1)
    lm = esda.Moran_Local(y.to_numpy(), w.w, permutations=199, seed=3, n_jobs=1)
    assert np.allclose(out["Is"], lm.Is)
    assert np.allclose(out["p_sim"], lm.p_sim)
    q = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
    assert (out["quadrant"].to_numpy() == np.vectorize(q.get)(lm.q)).all()
    sig = out["p_sim"] < 0.1
    assert (out.loc[sig, "cluster"] == out.loc[sig, "quadrant"]).all()
    assert (out.loc[~sig, "cluster"] == "ns").all()
    # a high value surrounded by high values is HH
    hh = out[(out["z"] > 0) & (out["lag"] > 0)]
    assert (hh["quadrant"] == "HH").all()


def test_getis_ord_star_matches_esda():
    import esda

    w = lattice_weights(6, 6)
    y = np.arange(w.n, dtype=float)
    out = getis_ord(y, w, permutations=99, seed=1, star=True)
    g = esda.G_Local(y, w.w, transform="B", permutations=99, star=True, seed=1, n_jobs=1)
    assert np.allclose(out["G"], g.Gs)
    assert np.allclose(out["z"], g.Zs)
    assert set(out["hotspot"]) <= {"hot", "cold", "ns"}


def test_moran_input_errors():
    w = lattice_weights(4, 4)
    with pytest.raises(MissingValueError):
        moran(pd.Series(np.r_[np.nan, np.ones(15)], index=w.ids), w, permutations=0)
    with pytest.raises(WeightsMatrixError):
        moran(pd.Series(np.ones(15), index=w.ids[:15]), w, permutations=0)
