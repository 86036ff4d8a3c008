"""County identity across vintages (analysis.codes), proven on the real 2010 and 2020 census tables.

The census tables (Dong, Du & Liu 2022, MIT) are read from ``../shared/data/census`` beside the
repository, as in CI.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.codes import (
    codes_in_year,
    frame_code_map,
    harmonize_codes,
    lineage,
    load_code_changes,
    match_names,
    normalize_codes,
    policy_codes,
)
from analysis.datasets import load_counties, load_land_reform_pilots
from analysis.errors import (
    AmbiguousNameError,
    CodeFormatError,
    DuplicateKeyError,
    MergeRuleError,
    NameFormatError,
    UnknownAdcodeError,
    UnmatchedNameError,
    WeightsMatrixError,
)
from analysis.spatial import queen_weights

CENSUS = Path(__file__).resolve().parents[2] / "shared" / "data" / "census"

# 2010 census codes whose unit the change list cannot place on today's frame, and why (checked by hand
# against the events of data/county_code_changes.csv):
UNPLACEABLE_2010 = {
    "130103": "石家庄 桥东区: abolished 2014 and split between 长安区 and 桥西区; the source's successor "
              "(邢台 桥东区 130502) is another unit of the same name and was rejected",
    "140202": "大同 城区: abolished 2018 (平城区/云冈区 created); successor not in the source",
    "140203": "大同 矿区: abolished 2018; the source's successor (阳泉 矿区 140303) is another unit, rejected",
    "140402": "长治 城区: abolished 2018 (潞州区 created); successor not in the source",
    "140411": "长治 郊区: abolished 2018; successor not in the source",
    "370802": "济宁 市中区: abolished 2013 (任城区 reorganised); successor not in the source",
    "410306": "洛阳 吉利区: merged into 孟津区 in 2021; the source has no event for it",
}


@pytest.fixture(scope="module")
def census2010() -> pd.DataFrame:
    x = pd.read_excel(CENSUS / "census_county_2010_v1.xlsx", dtype=str)
    x = x[x["区划代码"].notna() & ~x["区划代码"].str.endswith("00")].copy()
    return pd.DataFrame({"county": x["区划代码"].str.strip(), "year": 2010, "name": x["地区"].str.strip(),
                         "pop": pd.to_numeric(x["合计"]), "urban": pd.to_numeric(x["城镇人口"])})


@pytest.fixture(scope="module")
def census2020() -> pd.DataFrame:
    x = pd.read_excel(CENSUS / "census_county_2020_v1.xlsx", dtype=str)
    return x[x["区划代码"].notna()].copy()


# ---- the real census as the proving ground ------------------------------------------------------

def test_the_2010_census_is_on_the_2009_code_list():
    # all 2,857 county codes of the 2010 census are valid in the reconstructed 2009 list (崇文区 and
    # 宣武区, merged into 东城/西城 in mid-2010, are still there); six are not in the 2010 list
    x = pd.read_excel(CENSUS / "census_county_2010_v1.xlsx", dtype=str)["区划代码"].dropna().str.strip()
    x = x[~x.str.endswith("00")]
    lin = lineage()
    assert len(x) == 2857 and all(lin.is_valid(c, 2009) for c in x)
    assert sorted(c for c in x if not lin.is_valid(c, 2010)) == [
        "110103", "110104", "320304", "320323", "532522", "532621"]


def test_every_2010_census_code_lands_on_the_frame_or_is_a_listed_exception(census2010):
    h = harmonize_codes(census2010[["county", "year", "pop"]], rules={"pop": "sum"}, code_year=2009,
                        unplaced="drop")
    assert sorted(h.dropped["county"]) == sorted(UNPLACEABLE_2010)
    assert h.rows_in == len(census2010) == 2857
    assert set(h.data["county"]) <= set(load_counties()["adcode"])
    # one row per frame county: merged units were aggregated, nothing duplicated
    assert not h.data.duplicated(["county", "year"]).any()


def test_province_totals_identical_before_and_after_harmonization(census2010):
    kept = census2010[~census2010["county"].isin(UNPLACEABLE_2010)]
    h = harmonize_codes(kept[["county", "year", "pop", "urban"]], rules={"pop": "sum", "urban": "sum"},
                        code_year=2009)
    before = kept.groupby(kept["county"].str[:2])["pop"].sum()
    after = h.data.groupby(h.data["county"].str[:2])["pop"].sum()
    # exact integers: 重庆 (50) and 海南 (46) kept their province codes since 1997/1988
    pd.testing.assert_series_equal(before, after, check_names=False)
    assert after.sum() == kept["pop"].sum()


def test_2020_census_names_match_the_files_own_codes(census2020):
    truth = census2020["区划代码"].map(frame_code_map(2020))
    counties = census2020[truth.notna()].assign(truth=truth[truth.notna()])
    assert len(counties) >= 2800
    m = match_names(counties, name="区县", province="省", prefecture="市", year=2020)
    same = (m.data["county"] == m.data["truth"]).mean()
    assert same >= 0.995          # the bar; measured: 1.0 (2,844 of 2,844)
    assert (m.data["county"] != m.data["truth"]).sum() == 0  # and no wrong code at all


# ---- named cases ----------------------------------------------------------------------------------

@pytest.mark.parametrize("code, year, frame, event", [
    ("130621", 2010, "130607", "2015 撤县设区"),      # 满城县 -> 满城区
    ("370181", 2010, "370114", "2016 撤市设区"),      # 章丘市 -> 章丘区
    ("341402", 2010, "340181", "2011 撤销"),          # 居巢区 -> 县级巢湖市 (巢湖 split 2011)
    ("341421", 2010, "340124", "2011 同名改码"),      # 庐江县 to 合肥
    ("341422", 2010, "340281", "2011 同名改码"),      # 无为县 to 芜湖, then 无为市 2019
    ("341424", 2010, "340523", "2011 同名改码"),      # 和县 to 马鞍山
    ("371202", 2017, "370116", "2018 撤销"),          # 莱城区 -> 莱芜区 (莱芜 into 济南)
    ("371203", 2017, "370117", "2018 同名改码"),      # 钢城区 to 济南
    ("120225", 2010, "120119", "2016 撤销"),          # 蓟县 -> 蓟州区
    ("510124", 2010, "510117", "2016 撤县设区"),      # 郫县 -> 郫都区
    ("512122", 1981, "510117", "1982 码位改派"),      # 郫县's code handed to 合川县 in 1982
    ("522201", 2010, "520602", "2011 撤销"),          # 县级铜仁市 -> 碧江区 (derived: the one new district)
])
def test_named_cases(code, year, frame, event):
    t = lineage().target(code, year)
    assert t.frame == (frame,)
    assert t.path[0].startswith(event)


def test_liangjiang_new_area_2025_is_a_split_of_two_frame_units():
    df = pd.DataFrame({"county": ["500157"], "year": [2026], "pop": [100.0]})
    with pytest.raises(MergeRuleError, match="500105|500112"):
        harmonize_codes(df, rules={"pop": "sum"})
    h = harmonize_codes(df, rules={"pop": "sum"}, splits={"500157": {"500105": 0.4, "500112": 0.6}})
    assert dict(zip(h.data["county"], h.data["pop"])) == {"500105": 40.0, "500112": 60.0}
    assert set(h.report["action"]) == {"split-allocated"}


def test_merger_aggregates_by_rule_and_matches_a_hand_computation():
    # 2019: 邢台县 130521 and 桥西区 130503 became 信都区 130503 in 2020
    df = pd.DataFrame({"county": ["130521", "130503", "130621"], "year": [2019, 2019, 2019],
                       "pop": [30.0, 20.0, 40.0], "rate": [0.1, 0.5, 0.3], "name": ["邢台县", "桥西区", "满城县"]})
    h = harmonize_codes(df, rules={"pop": "sum", "rate": "mean:pop"})
    row = h.data.set_index("county").loc["130503"]
    assert row["pop"] == 50.0
    assert row["rate"] == pytest.approx((0.1 * 30 + 0.5 * 20) / 50, abs=1e-15)
    assert row["name"] == "邢台县+桥西区"
    assert set(h.report.loc[h.report["frame_code"] == "130503", "action"]) == {"aggregated"}
    with pytest.raises(MergeRuleError, match="rate"):
        harmonize_codes(df, rules={"pop": "sum"})
    with pytest.raises(MergeRuleError, match="refuse"):
        harmonize_codes(df, rules={"pop": "refuse", "rate": "mean"})


def test_one_county_under_two_codes_in_one_year_is_refused_not_summed():
    df = pd.DataFrame({"county": ["130621", "130607"], "year": [2016, 2016], "pop": [40.0, 40.0]})
    with pytest.raises(DuplicateKeyError, match="with itself under an old and a new code"):
        harmonize_codes(df, rules="sum")
    # but a unit absorbed by another and still reported under its last code is a merger: 港闸区 320611
    # (abolished in the 2020 list, still a unit of the 2020 census) and 崇川区 under its 2020 code
    both = pd.DataFrame({"county": ["320611", "320613"], "year": [2020, 2020], "pop": [30.0, 70.0]})
    h = harmonize_codes(both, rules="sum")
    assert h.data["pop"].tolist() == [100.0] and h.data["county"].tolist() == ["320613"]


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from(sorted(frame_code_map(2010))), min_size=1, max_size=40, unique=True),
       st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_sum_rule_preserves_totals_and_frame_codes_are_fixed_points(codes, value):
    df = pd.DataFrame({"county": codes, "year": 2010, "pop": value})
    h = harmonize_codes(df, code_year=2010, rules={"pop": "sum"})
    assert h.data["pop"].sum() == pytest.approx(value * len(codes), rel=1e-12)
    again = harmonize_codes(h.data, code_year=None, rules={"pop": "sum"})
    assert again.data["county"].tolist() == h.data["county"].tolist()
    assert len(again.report) == 0


def test_policy_list_in_the_codes_of_2010():
    p = policy_codes(load_land_reform_pilots(), 2010)
    got = dict(zip(p["adcode_current"], p["code_2010"]))
    assert got["120119"] == "120225" and got["510117"] == "510124" and got["410783"] == "410728"
    assert got["500111"] == "500111+500225"  # 大足区 = 双桥区 + 大足县 of 2010
    assert codes_in_year(["130607"], 2014) == {"130607": ["130621"]}


def test_change_list_has_provenance_and_lists_what_it_could_not_resolve():
    ev = load_code_changes()
    assert len(ev) > 4900 and ev["source"].notna().all()
    assert (ev["status"] != "ok").sum() > 100               # unresolved events are listed, not guessed
    assert ev.loc[ev["status"] == "ok", "successor_code"].notna().sum() > 3500


# ---- names -------------------------------------------------------------------------------------

def test_names_historical_suffix_variants_and_padding():
    df = pd.DataFrame({"n": ["满城县", "满城", "通　州", "郫县"], "p": ["河北", "河北省", "北京市", "四川"]})
    m = match_names(df, name="n", province="p", year=2010)
    assert m.data["county"].tolist() == ["130607", "130607", "110112", "510117"]
    with pytest.raises(NameFormatError, match="通　州"):
        match_names(df, name="n", province="p", normalize=False)


def test_recurring_name_without_province_is_ambiguous_and_lists_candidates():
    with pytest.raises(AmbiguousNameError, match="110105.*211321|211321.*110105"):
        match_names(pd.DataFrame({"n": ["朝阳"]}), name="n")
    m = match_names(pd.DataFrame({"n": ["朝阳县"], "p": ["辽宁"]}), name="n", province="p")
    assert m.data["county"].item() == "211321"


def test_totals_and_unknown_names():
    df = pd.DataFrame({"n": ["市辖区", "满城县"], "p": ["河北", "河北"]})
    with pytest.raises(UnmatchedNameError, match="total rows"):
        match_names(df, name="n", province="p")
    m = match_names(df, name="n", province="p", aggregates="drop")
    assert len(m.dropped) == 1 and m.data["county"].tolist() == ["130607"]
    with pytest.raises(UnmatchedNameError, match="不存在县"):
        match_names(pd.DataFrame({"n": ["不存在县"]}), name="n")


# ---- bad input -----------------------------------------------------------------------------------

@pytest.mark.parametrize("codes, match", [
    ([130621.0, 130607.0], "decimal numbers"),
    (["13062"], "not 6- or 12-digit"),
    (["130621001001"], "below the county level"),
])
def test_bad_codes(codes, match):
    with pytest.raises(CodeFormatError, match=match):
        normalize_codes(pd.Series(codes))


def test_mixed_vintages_with_a_declared_code_year():
    df = pd.DataFrame({"county": ["130621", "370114"], "year": [2010, 2010]})
    with pytest.raises(CodeFormatError, match="mixes code vintages.*370114"):
        harmonize_codes(df, code_year=2010)


def test_unknown_code_and_functional_zone():
    with pytest.raises(UnknownAdcodeError, match="999999"):
        harmonize_codes(pd.DataFrame({"county": ["999999"], "year": [2010]}))
    with pytest.raises(UnknownAdcodeError, match="functional-zone"):
        harmonize_codes(pd.DataFrame({"county": ["130171"], "year": [2020]}))


# ---- scope and weights ----------------------------------------------------------------------------

def test_county_yearbook_scope_and_its_contiguity():
    fr = load_counties()
    scope = fr.loc[fr["county_yearbook_scope"] == 1, "adcode"]
    assert len(scope) == 1866 and (fr.loc[fr["county_yearbook_scope"] == 1, "unit_type"] != "市辖区").all()
    w = queen_weights()
    with pytest.raises(WeightsMatrixError, match="no neighbour within the subset"):
        w.subset(scope)
    attached = w.subset(scope, islands="attach")
    assert attached.n == len(scope) and len(attached.islands) == 9
    rows = np.asarray(attached.sparse.sum(axis=1)).ravel()
    np.testing.assert_allclose(rows, 1.0, atol=1e-12)
    dropped = w.subset(scope, islands="drop")
    assert dropped.n == len(scope) - 9 and len(dropped.params["dropped_islands"]) == 9
    # earlier island links of the full W are not carried into the subset: 长海县 210224 was attached to
    # 普兰店区 (a district) in the full W and is re-attached within the scope
    assert attached.islands.set_index("island").loc["210224", "attached_to"] != "210214"


def test_read_panel_loads_a_2010_coded_file_and_a_names_only_file(tmp_path):
    from analysis.panel import read_panel

    f = tmp_path / "y.csv"
    pd.DataFrame({"行政区划代码": ["130621", "130621", "370181"], "年份": [2010, 2011, 2010],
                  "常住人口(万人)": [40, 41, 100]}).to_csv(f, index=False)
    df = read_panel(f, columns="yearbook", harmonize=True)
    assert df["county"].tolist() == ["130607", "130607", "370114"]
    assert "130621 满城县 -> 130607" in str(df.attrs["read_report"])
    g = tmp_path / "n.xlsx"
    pd.DataFrame({"省份": ["河北", "北京"], "县名": ["满城县", "市辖区"], "年份": [2010, 2010],
                  "常住人口(万人)": [40, 1]}).to_excel(g, index=False)
    df = read_panel(g, columns="yearbook", names={"name": "县名", "province": "省份"})
    assert df["county"].tolist() == ["130607"]
    assert df.attrs["read_report"].rows.n_dropped == 1
