"""Spatial weights: queen from edges, kNN, inverse distance, economic distance; islands; errors."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _spatial_support import lattice_weights
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import MissingValueError, WeightsMatrixError
from analysis.spatial import (
    distance_weights,
    economic_weights,
    great_circle_km,
    knn_weights,
    weights_from_edges,
    weights_from_matrix,
)


@pytest.fixture()
def frame():
    rng = np.random.default_rng(0)
    n = 40
    return pd.DataFrame({"adcode": [f"{110000 + i:06d}" for i in range(n)],
                         "lon": 110 + rng.uniform(0, 4, n), "lat": 30 + rng.uniform(0, 3, n)})


def test_great_circle_known_distance():
    # Beijing (116.4074, 39.9042) to Shanghai (121.4737, 31.2304): about 1,067 km
    assert great_circle_km(116.4074, 39.9042, 121.4737, 31.2304) == pytest.approx(1067, abs=3)
    assert great_circle_km(0, 0, 0, 1) == pytest.approx(2 * np.pi * 6371.0088 / 360, rel=1e-12)


def test_edges_row_standardised_and_islands_attached(frame):
    ids = frame["adcode"].tolist()
    edges = pd.DataFrame({"adcode_a": ids[:-2:2], "adcode_b": ids[1:-1:2]})  # pairs; the last two are islands
    edges["attached_island"] = 0
    w = weights_from_edges(edges, frame)
    rs = np.asarray(w.sparse.sum(axis=1)).ravel()
    assert np.allclose(rs, 1.0)
    assert set(w.islands["island"]) >= {ids[-2], ids[-1]}
    assert w.ids == ids and list(w.w.id_order) == ids
    assert w.is_symmetric_similar
    with pytest.raises(WeightsMatrixError, match="islands"):
        weights_from_edges(edges, frame, attach_islands=False)


def test_shipped_file_island_flags_are_reported(frame):
    ids = frame["adcode"].tolist()
    edges = pd.DataFrame({"adcode_a": ids[:-1], "adcode_b": ids[1:], "attached_island": 0})
    edges.loc[len(edges) - 1, "attached_island"] = 1
    w = weights_from_edges(edges, frame)
    assert (w.islands["source"] == "edge file (attached_island=1)").sum() == 1


def test_edges_with_unknown_ids_raise(frame):
    edges = pd.DataFrame({"adcode_a": ["999999"], "adcode_b": [frame["adcode"].iloc[0]]})
    with pytest.raises(WeightsMatrixError, match="not in the county frame"):
        weights_from_edges(edges, frame)


def test_knn_has_k_neighbours_by_great_circle(frame):
    w = knn_weights(frame, k=4)
    card = w.cardinalities
    assert (card == 4).all()
    lon, lat = frame["lon"].to_numpy(), frame["lat"].to_numpy()
    d = great_circle_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    np.fill_diagonal(d, np.inf)
    for i in range(len(frame)):
        nb = set(w.sparse[i].indices)
        assert nb == set(np.argsort(d[i])[:4])


def test_inverse_distance_weights_formula(frame):
    w = distance_weights(frame, cutoff_km=120, power=1)
    lon, lat = frame["lon"].to_numpy(), frame["lat"].to_numpy()
    d = great_circle_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    raw = np.where((d <= 120) & (d > 0), 1 / np.where(d > 0, d, 1), 0.0)
    isl = set(w.islands["island"])
    for i in range(len(frame)):
        if frame["adcode"].iloc[i] in isl:
            continue
        if raw[i].sum() == 0:
            continue
        expect = raw[i] / raw[i].sum()
        got = w.full()[i]
        # rows touched by an attached island get one extra link; compare the untouched ones
        if np.count_nonzero(got) == np.count_nonzero(expect):
            assert np.allclose(got, expect, atol=1e-12)


def test_distance_islands_attached_to_nearest():
    fr = pd.DataFrame({"adcode": ["a", "b", "c"], "lon": [100.0, 100.1, 110.0], "lat": [30.0, 30.0, 30.0]})
    w = distance_weights(fr, cutoff_km=50)
    assert w.islands["island"].tolist() == ["c"]
    assert w.islands["attached_to"].tolist() == ["b"]
    assert w.full()[2, 1] == 1.0


def test_economic_weights_formula(frame):
    rng = np.random.default_rng(1)
    gdp = pd.Series(rng.uniform(2e4, 9e4, len(frame)), index=frame["adcode"])
    w = economic_weights(gdp, frame, cutoff_km=150)
    lon, lat = frame["lon"].to_numpy(), frame["lat"].to_numpy()
    d = great_circle_km(lon[:, None], lat[:, None], lon[None, :], lat[None, :])
    g = gdp.to_numpy()
    dg = np.abs(g[:, None] - g[None, :])
    raw = np.where((d <= 150) & (d > 0), 1 / np.where(d > 0, d, 1) / np.maximum(dg, w.params["floor"]), 0.0)
    i = int(np.argmax((raw > 0).sum(axis=1)))
    assert np.allclose(w.full()[i], raw[i] / raw[i].sum(), atol=1e-12)
    with pytest.raises(MissingValueError):
        economic_weights(gdp.iloc[1:], frame)


def test_matrix_checks():
    with pytest.raises(WeightsMatrixError, match="square"):
        weights_from_matrix(np.zeros((2, 3)), ["a", "b"])
    with pytest.raises(WeightsMatrixError, match="diagonal"):
        weights_from_matrix(np.eye(2), ["a", "b"])
    with pytest.raises(WeightsMatrixError, match="islands"):
        weights_from_matrix(np.array([[0, 1, 0], [1, 0, 0], [0, 0, 0]]), ["a", "b", "c"])
    with pytest.raises(WeightsMatrixError, match="duplicated"):
        weights_from_matrix(np.array([[0, 1], [1, 0]]), ["a", "a"])


def test_subset_restandardises_and_check_ids():
    w = lattice_weights(4, 4)
    sub = w.subset(w.ids[:8])
    assert sub.n == 8 and np.allclose(sub.sparse.sum(axis=1), 1)
    with pytest.raises(WeightsMatrixError, match="not in"):
        w.check_ids(w.ids[:-1] + ["zzz"])


@settings(max_examples=25, deadline=None)
@given(st.integers(3, 7), st.integers(3, 7), st.floats(-0.9, 0.95))
def test_eigen_pieces_match_dense(r, c, rho):
    w = lattice_weights(r, c)
    Wd = w.full()
    ev = np.sort(np.real(np.linalg.eigvals(Wd)))
    assert np.allclose(np.sort(w.eigenvalues()), ev, atol=1e-10)
    G = Wd @ np.linalg.inv(np.eye(w.n) - rho * Wd)
    assert w.trace_gtg(rho) == pytest.approx(np.sum(G * G), rel=1e-9)
    lo, hi = w.rho_bounds()
    assert hi == pytest.approx(1.0)


def test_real_county_queen_if_shipped():
    from analysis.spatial import queen_weights

    w = queen_weights()
    assert w.n > 2500
    assert w.cardinalities.min() >= 1
    assert np.allclose(np.asarray(w.sparse.sum(axis=1)).ravel(), 1.0)
    assert w.is_symmetric_similar
    assert all(len(i) == 6 for i in w.ids)
