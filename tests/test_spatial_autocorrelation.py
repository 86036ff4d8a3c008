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
    r = moran(y, w, n_draws=199, seed=1)
    m = esda.Moran(y, w.w, permutations=0)
    assert r["I"] == pytest.approx(m.I, abs=1e-14)
    z = y - y.mean()
    assert r["I"] == pytest.approx(w.n / w.sparse.sum() * (z @ w.lag(z)) / (z @ z), abs=1e-14)
    assert r["p_norm"] == pytest.approx(m.p_norm)
    assert 0 < r["p_sim"] <= 1


def test_moran_by_year_is_reproducible():
    w = lattice_weights(6, 6)
    df = simulate_sdm(w, T=4, seed=3)
    a = moran_by_year(df, "y", w, n_draws=99, seed=5).to_frame()
    b = moran_by_year(df, "y", w, n_draws=99, seed=5).to_frame()
    pd.testing.assert_frame_equal(a, b)
    assert list(a["year"]) == sorted(df["year"].unique())
    assert (a["I"] > 0).all()  # spatial lag process with rho = 0.45


def test_local_moran_labels_match_esda_quadrants():
    import esda

    w = lattice_weights(7, 7)
    rng = np.random.default_rng(2)
    y = pd.Series(rng.standard_normal(w.n), index=w.ids)
    out = local_moran(y, w, n_draws=199, seed=3, alpha=0.1)
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
    out = getis_ord(y, w, n_draws=99, seed=1, star=True)
    g = esda.G_Local(y, w.w, transform="B", permutations=99, star=True, seed=1, n_jobs=1)
    assert np.allclose(out["G"], g.Gs)
    assert np.allclose(out["z"], g.Zs)
    assert set(out["hotspot"]) <= {"hot", "cold", "ns"}


def test_moran_input_errors():
    w = lattice_weights(4, 4)
    with pytest.raises(MissingValueError):
        moran(pd.Series(np.r_[np.nan, np.ones(15)], index=w.ids), w, n_draws=0)
    with pytest.raises(WeightsMatrixError):
        moran(pd.Series(np.ones(15), index=w.ids[:15]), w, n_draws=0)


# ---- issue 15: p-values and labels against esda on the same permutations ----------------------
def test_moran_p_sim_matches_esda_on_the_same_permutations():
    """esda.Moran draws its permutations with numpy's global RandomState; replaying exactly those
    draws through our statistic and p-value rule must reproduce esda's sim and p_sim."""
    import esda

    from analysis.spatial.autocorrelation import _moran_sims, _p_sim

    w = lattice_weights(6, 6)
    rng = np.random.default_rng(11)
    y = rng.standard_normal(w.n) + 0.8 * w.lag(rng.standard_normal(w.n))
    np.random.seed(123)
    m = esda.Moran(y, w.w, transformation="r", permutations=199)
    z = y - y.mean()
    np.random.seed(123)
    perms = np.column_stack([np.random.permutation(z) for _ in range(199)])
    sims = _moran_sims(z, w.sparse, perms)
    assert np.allclose(sims, m.sim[:199], atol=1e-12)  # 1e-12: same arithmetic, float rounding only
    assert _p_sim(m.I, sims) == m.p_sim  # a count ratio: exact
    # and for a negatively autocorrelated pattern (checkerboard) the rule counts the other tail
    yc = np.array([(i + j) % 2 for i in range(6) for j in range(6)], float) + 0.01 * rng.standard_normal(36)
    np.random.seed(5)
    mc = esda.Moran(yc, w.w, transformation="r", permutations=99)
    zc = yc - yc.mean()
    np.random.seed(5)
    pc = np.column_stack([np.random.permutation(zc) for _ in range(99)])
    assert _p_sim(mc.I, _moran_sims(zc, w.sparse, pc)) == mc.p_sim
    assert moran(yc, w, n_draws=99, seed=1)["I"] < 0  # the lower tail is the one counted


def test_moran_result_contract_and_dict_access():
    w = lattice_weights(5, 5)
    y = np.arange(w.n, dtype=float)
    r = moran(y, w, n_draws=99, seed=3)
    tab = r.to_frame()
    assert list(tab.columns) == ["term", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]
    assert tab.loc[0, "estimate"] == r["I"]
    assert tab.loc[0, "statistic"] == r["z_norm"]
    assert tab.loc[0, "p_value"] == r["p_sim"]
    assert r.rows.n_used == 25 and r.settings["permutations"] == 99
    assert "Moran" in r.summary() and "esda" in r.reference
    assert dict(r)["n"] == 25 and "p_sim" in r


def test_getis_ord_hot_cold_labels_match_esda():
    import esda

    w = lattice_weights(7, 7)
    rng = np.random.default_rng(4)
    y = np.exp(rng.standard_normal(w.n) + 1.5 * w.lag(rng.standard_normal(w.n)))
    out = getis_ord(y, w, n_draws=199, seed=8, alpha=0.1)
    g = esda.G_Local(y, w.w, transform="B", permutations=199, star=True, seed=8, n_jobs=1)
    assert np.allclose(out["p_sim"], g.p_sim)
    want = np.where(g.p_sim < 0.1, np.where(g.Zs > 0, "hot", "cold"), "ns")
    assert (out["hotspot"].to_numpy() == want).all()
    assert {"hot", "cold"} <= set(out["hotspot"])  # the draw has both kinds, so a swap is caught


def test_lisa_map_does_not_hide_errors(monkeypatch):
    import analysis.maps as maps
    from analysis.spatial import lisa_map

    def broken(*a, **k):
        raise ValueError("planted failure inside county_map")

    monkeypatch.setattr(maps, "county_map", broken)
    lisa = pd.DataFrame({"cluster": ["HH", "ns"]}, index=["110101", "110102"])
    with pytest.raises(ValueError, match="planted failure"):
        lisa_map(lisa, lang="en")


@pytest.mark.parametrize("star", [False, True])
def test_getis_ord_unit_that_neighbours_every_unit_is_undefined_not_significant(star):
    """On a 3 x 3 queen lattice the centre neighbours all 8 others, so its G_i is 1 for any values
    (no variance, Getis and Ord 1992). esda gives it z = -inf and p_sim = 1/(draws+1) for Gi, which
    was labelled a significant cold spot; it must be NaN and "undefined" with the reason, and every
    other unit must keep esda's numbers."""
    import esda

    from analysis.spatial import weights_from_matrix

    r, c = np.divmod(np.arange(9), 3)
    A = (np.maximum(np.abs(r[:, None] - r), np.abs(c[:, None] - c)) == 1).astype(float)
    ids = [f"c{i}" for i in range(9)]
    w = weights_from_matrix(A, ids)
    values = pd.Series(np.arange(9.0) ** 1.5, index=ids)
    with pytest.warns(RuntimeWarning, match=r"undefined for c4: they neighbour every other unit.*rook"):
        gi = getis_ord(values, w, n_draws=99, seed=1, star=star)
    t = gi.table
    assert t.loc["c4", "G"] == pytest.approx(1.0, abs=1e-12)  # G_i by definition, still reported
    assert t.loc["c4", ["z", "p_norm", "p_sim"]].isna().all() and t.loc["c4", "hotspot"] == "undefined"
    assert "c4" in gi.settings["undefined"] and "no variance" in gi.settings["undefined"]
    ref = esda.G_Local(values.to_numpy(), w.w, transform="B", permutations=99, star=star, seed=1, n_jobs=1)
    others = [i != "c4" for i in ids]
    np.testing.assert_allclose(t["z"].to_numpy()[others], np.asarray(ref.Zs)[others], rtol=1e-12)
    np.testing.assert_allclose(t["p_sim"].to_numpy()[others], np.asarray(ref.p_sim)[others], rtol=0)
    assert (t["hotspot"] != "undefined").sum() == 8
