"""Build the real county census file (2010 and 2020) on the current county frame.

Source: the county tables of the 6th (2010) and 7th (2020) population censuses digitized by
Dong, Du and Liu (2022), "Mapping Evolving Population Geography in China", SSRN 4049338,
MIT licence (``census_county_2010_v1.xlsx``, ``census_county_2020_v1.xlsx``).

Usage::

    python scripts/build_census.py [SOURCE_DIR]

``SOURCE_DIR`` defaults to ``../shared/data/census`` relative to the repository root.
Writes ``data/real/census_county_2010_2020.csv.gz`` (one row per frame county and census year),
``data/real/census_codebook.csv``, ``data/real/census_build_log.json`` and copies the source
licence to ``data/real/LICENSE-census``.

Steps
-----
1. Read each sheet; tidy the headers (line breaks and spaces removed).
2. Classify every row: ``county`` (a county-level unit with its own code), ``aggregate``
   (national, province, prefecture, 市辖区, 县 and 省直辖县级行政区划 totals), ``zone`` (2020
   statistical codes of development zones and other functional areas, 5th digit ``7``, and
   zones without codes: their people are in the province total but in no frame county),
   ``named`` (county-level units without a code in the source, assigned a frame code by name in
   ``NAMED_UNITS``), ``junk`` (a footer line). Every non-county row is listed in the build log.
3. Compute COUNTS with tidy English names (see ``codebook()``); rates are never carried through
   the code mapping.
4. Map the census codes of each year onto the current frame (``to_frame``), summing counts of
   units that merged.
5. Recompute every rate from the summed counts (``add_rates``).
"""
from __future__ import annotations

import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

def default_source() -> Path:
    """``../shared/data/census`` relative to the repository root (or to a parent folder of it)."""
    for base in ROOT.parents:
        cand = base / "shared" / "data" / "census"
        if cand.exists():
            return cand
    return ROOT.parent / "shared" / "data" / "census"


DEFAULT_SOURCE = default_source()
OUT_DIR = ROOT / "data" / "real"
FILES = {2010: "census_county_2010_v1.xlsx", 2020: "census_county_2020_v1.xlsx"}
CITATION = ("Dong, L., Du, R., Liu, Y. (2022). Mapping Evolving Population Geography in China. "
            "SSRN Working Paper 4049338. https://ssrn.com/abstract=4049338")

# county-level units without a code in the source, assigned to a frame unit by name
# (name -> (frame adcode, reason)); every use is listed in the build log
NAMED_UNITS = {
    "平桂管理区": ("451103", "贺州市平桂管理区, made 平桂区 (451103) in 2016 on the same territory"),
    "芒崖行委": ("632803", "海西州茫崖行委, made 茫崖市 (632803) in 2018 together with 冷湖行委"),
    "冷湖行委": ("632803", "海西州冷湖行委, merged into 茫崖市 (632803) in 2018"),
    "柴旦行委": ("632857", "海西州大柴旦行委, the frame unit 大柴旦行政委员会 (632857)"),
    "西沙群岛": ("460321", "西沙群岛, 三沙市西沙区 (460321) since 2020; 中沙 is administered by 西沙区"),
    "中沙群岛的岛礁及其海域": ("460321", "中沙群岛, administered by 三沙市西沙区 (460321)"),
    "南沙群岛": ("460322", "南沙群岛, 三沙市南沙区 (460322)"),
}
AGGREGATE_CODES_2020 = {"460300": "三沙市: total of the 西沙群岛, 南沙群岛, 中沙群岛 rows that follow it"}
AGGREGATE_NAMES = {"市辖区", "县", "省直辖县级行政区划", "自治区直辖县级行政区划", "全国"}


def _tidy(header) -> str:
    return re.sub(r"\s+", "", str(header))


# ---------------------------------------------------------------------------------------------
# reading and row classification
# ---------------------------------------------------------------------------------------------

def read_sheet(source: Path, year: int) -> pd.DataFrame:
    """Read one census sheet with tidy headers; ``code`` as a 6-digit str ('' when absent)."""
    path = Path(source) / FILES[year]
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: pass the folder of the census files as the argument.")
    raw = pd.read_excel(path, sheet_name=0, dtype={"区划代码": str})
    raw.columns = [_tidy(c) for c in raw.columns]
    code = raw["区划代码"].fillna("").astype(str).str.strip()
    code = code.where(code.str.fullmatch(r"\d{6}"), "")
    if year == 2010:
        name = raw["地区"].fillna("").astype(str).str.strip()
    else:
        name = raw["区县"].fillna("").astype(str).str.strip()
    out = raw.copy()
    out.insert(0, "source_row", np.arange(2, len(raw) + 2))  # Excel row number (header is row 1)
    out.insert(1, "code", code)
    out.insert(2, "unit_name", name)
    return out


def classify_rows(sheet: pd.DataFrame, year: int) -> pd.Series:
    """Kind of each row: county, aggregate, zone, named, no_code, junk (blank separator or footer)."""
    code, name = sheet["code"], sheet["unit_name"]
    total = sheet["合计"] if year == 2010 else sheet["人口数_合计"]
    has_code = code != ""
    kind = pd.Series("county", index=sheet.index, dtype=object)
    leaf = has_code & ~code.str.endswith("00")
    zone = leaf & (code.str[4] == "7") if year == 2020 else pd.Series(False, index=sheet.index)
    # prefectures that have county rows of their own
    pref_with_children = set(code[leaf & ~zone].str[:4])
    province = has_code & code.str.endswith("0000")
    prefecture = has_code & code.str.endswith("00") & ~province
    kind[province] = "aggregate"
    # a prefecture row is a total unless the prefecture has no counties (不设区的地级市: 东莞, 中山 ...)
    kind[prefecture & code.str[:4].isin(pref_with_children)] = "aggregate"
    kind[zone] = "zone"
    no_code = ~has_code
    kind[no_code & name.isin(AGGREGATE_NAMES)] = "aggregate"
    kind[no_code & name.isin(NAMED_UNITS)] = "named"
    rest = no_code & ~name.isin(AGGREGATE_NAMES) & ~name.isin(NAMED_UNITS)
    kind[rest & total.isna()] = "junk"
    kind[rest & total.notna()] = "no_code"
    if year == 2020:
        # 市辖区 rows of municipalities carry codes (110100): they are totals
        kind[has_code & (name == "市辖区")] = "aggregate"
        # 三沙市 (460300) is the total of the 西沙/南沙/中沙 rows that follow it
        kind[code.isin(AGGREGATE_CODES_2020)] = "aggregate"
        # functional zones without a code: like the coded zones, in no frame county
        kind[rest & total.notna()] = "zone"
    # 不设区的地级市 (东莞, 中山, 嘉峪关 ...): the prefecture row is kept as the county unit and
    # its 市辖区 row (2010) is the duplicate total
    return kind


# ---------------------------------------------------------------------------------------------
# variables: counts first, rates recomputed from counts
# ---------------------------------------------------------------------------------------------

def _age_bins(columns, year):
    """{(lower age, sex): column} of the five-year age bins."""
    bins = {}
    for c in columns:
        if year == 2010:
            m = re.fullmatch(r"(\d+)(?:-(\d+))?岁(?:及以上)?（(男|女)[）)]", c)
            if m:
                bins[(int(m.group(1)), m.group(3))] = c
        else:
            m = re.fullmatch(r"(男|女)_(\d+)(?:到(\d+))?岁(?:以上)?", c)
            if m:
                bins[(int(m.group(2)), m.group(1))] = c
    return bins


# tidy name -> (2010 header, 2020 header, unit, definition, harmonization note); None = not in that year
SIMPLE = {
    "pop_resident": ("合计", "人口数_合计", "persons", "resident (常住) population, census day", ""),
    "pop_male": ("男", "人口数_男", "persons", "resident males", ""),
    "pop_female": ("女", "人口数_女", "persons", "resident females", ""),
    "pop_hukou": ("户籍人口", None, "persons", "household-registered (户籍) population (2010 yearbook, from the public-security registers)",
                  "not in the 2020 table"),
    "pop_urban": ("城镇人口", "城镇人口", "persons", "urban (城镇) residents, NBS urban-rural classification of the census year", ""),
    "pop_rural": ("乡村人口", "乡村人口", "persons", "rural (乡村) residents", "blank cells with urban = total read as 0"),
    "pop_urban_core": (None, "城区人口", "persons", "城区 population (city-proper residents), 2020 only",
                       "reported only for some units (mostly prefecture seats); NaN elsewhere"),
    "households": ("户数", "家庭户数", "households", "family households (家庭户), short form", ""),
    "household_pop": ("人口数", "家庭户人口数", "persons", "persons in family households", ""),
    "migrants_within_county": ("迁入人口（人）-本县（市）/本市市区", "户口登记地在外乡镇街道人口_本县",
                               "persons", "residents whose hukou is in another township of the same county "
                               "(人户分离, 2010: 本县（市）/本市市区)",
                               "same concept in both years: residents registered in another township/street, by place of registration"),
    "migrants_other_county": ("迁入人口（人）-本省其他县（市）、市区", "户口登记地在外乡镇街道人口_本省其他县",
                              "persons", "residents whose hukou is in another county of the same province", ""),
    "migrants_other_province": ("迁入人口（人）-外省", "户口登记地在外乡镇街道人口_省外",
                                "persons", "residents whose hukou is in another province", ""),
    "illiterate_15plus": ("15岁及以上文盲人口-合计", "15岁及以上文盲人口", "persons", "illiterate residents aged 15+", ""),
    "pop_15plus": ("15岁及以上人口-合计", "十五岁以上人口", "persons", "residents aged 15+ of the marital-status table (long form, 10% sample)",
                   "long-form sample count: not the denominator of illiteracy_rate"),
    "employed_occ_total": ("各种职业人口总计", "各种职业人口总计", "persons (10% sample)", "employed persons by occupation, long form", ""),
    "occ_agri": ("农、林、牧、渔、水利业生产人员", "农林牧渔业生产及辅助人员", "persons (10% sample)",
                 "farm occupations: 2010 农林牧渔水利业生产人员 (GB/T 6565-2009 major group 5); "
                 "2020 农林牧渔业生产及辅助人员 (2015 大典 group 5)",
                 "major group 5 in both classifications"),
    "occ_production": ("生产、运输设备操作人员及有关人员", "生产制造及有关人员", "persons (10% sample)",
                       "2010 生产、运输设备操作人员; 2020 生产制造及有关人员",
                       "NOT comparable: transport-equipment operators (drivers) moved to group 4 (services) in the 2015 大典"),
    "occ_services": ("商业、服务业人员", "社会生产服务和生活服务人员", "persons (10% sample)",
                     "2010 商业、服务业人员; 2020 社会生产服务和生活服务人员",
                     "NOT comparable: group 4 of 2015 also takes transport operators and some production services"),
    "employed_ind_total": ("各种行业人口总计", "各种行业人口总计", "persons (10% sample)", "employed persons by industry, long form", ""),
    "ind_agri": ("农林牧渔业", "农林牧渔业", "persons (10% sample)", "section A, agriculture, forestry, animal husbandry, fishery",
                 "GB/T 4754-2002 (2010) and -2017 (2020) section A"),
    "ind_mining": ("采矿业", "采矿业", "persons (10% sample)", "section B, mining", ""),
    "ind_manufacturing": ("制造业", "制造业", "persons (10% sample)", "section C, manufacturing",
                          "2011/2017 revisions moved equipment repair into C (small)"),
    "ind_utilities": ("电力、燃气及水的生产和供应业", "电力热力燃气及水生产和供应业", "persons (10% sample)", "section D, utilities", ""),
    "ind_construction": ("建筑业", "建筑业", "persons (10% sample)", "section E, construction", ""),
    "hh_long_form": ("长表数据-家庭户", "家庭户户数_长表", "households (10% sample)", "family households of the long form (housing tables)", ""),
    "hh_tap_water": ("住房内有无管道自来水-有", "住房內有管道自来水", "households (10% sample)", "dwelling has piped running water", ""),
    "hh_kitchen": ("住房内有无厨房-有", "住房內有厨房", "households (10% sample)", "dwelling has a kitchen", ""),
    "hh_toilet": ("住房内有无厕所-有", "住房內有厕所", "households (10% sample)", "dwelling has a toilet", ""),
    "hh_bath": ("住房内有无洗澡设施-有", "住房内有洗澡设施", "households (10% sample)", "dwelling has bathing facilities", ""),
    "hh_car": (None, "拥有家用汽车", "households (10% sample)", "household owns a car, 2020 only", ""),
}
EDU = {  # 6+ population by highest attainment (both sexes), used as the weight of average years
    2010: ["未上过学", "小学", "初中", "高中", "大学专科", "大学本科及以上"],
    2020: ["未上过学", "学前教育", "小学", "初中", "高中", "大学专科", "本科及以上"],
}
EDU_TERTIARY = {2010: ["大学专科", "大学本科及以上"], 2020: ["大学专科", "本科及以上"]}
SERVICES_EXCLUDED = {"各种行业人口总计", "农林牧渔业", "采矿业", "制造业", "电力、燃气及水的生产和供应业",
                     "电力热力燃气及水生产和供应业", "建筑业"}
INDUSTRY_FIRST = {2010: "农林牧渔业", 2020: "农林牧渔业"}
INDUSTRY_LAST = {2010: "国际组织", 2020: "国际组织"}


def _num(s: pd.Series) -> pd.Series:
    return pd.to_numeric(s.replace({"NA": np.nan, "-": np.nan, "—": np.nan}), errors="coerce")


def _edu_cols(sheet, year, cats):
    cols = []
    for cat in cats:
        for sex in ("男", "女"):
            c = f"{cat}-{sex}" if year == 2010 else f"{cat}_{sex}"
            if c not in sheet.columns:
                raise KeyError(f"{year}: education column {c!r} not found")
            cols.append(c)
    return cols


def counts(sheet: pd.DataFrame, year: int, log: dict) -> pd.DataFrame:
    """Count variables of one year (one row per source row)."""
    out = pd.DataFrame({"code": sheet["code"], "unit_name": sheet["unit_name"], "source_row": sheet["source_row"]})
    filled = {}
    for name, (h10, h20, *_rest) in SIMPLE.items():
        h = h10 if year == 2010 else h20
        if h is None:
            out[name] = np.nan
            continue
        if h not in sheet.columns:
            raise KeyError(f"{year}: column {h!r} (for {name}) not found in the source")
        out[name] = _num(sheet[h])
    # rural blank where urban == total: 0 (yearbook prints nothing for zero)
    blank = out["pop_rural"].isna() & out["pop_urban"].notna() & out["pop_resident"].notna()
    out.loc[blank, "pop_rural"] = out.loc[blank, "pop_resident"] - out.loc[blank, "pop_urban"]
    filled["pop_rural (total - urban)"] = int(blank.sum())
    blank = out["pop_urban"].isna() & out["pop_rural"].notna() & out["pop_resident"].notna()
    out.loc[blank, "pop_urban"] = out.loc[blank, "pop_resident"] - out.loc[blank, "pop_rural"]
    filled["pop_urban (total - rural)"] = int(blank.sum())
    # age groups from the five-year bins (both sexes)
    bins = _age_bins(sheet.columns, year)
    if len(bins) != 38:
        raise KeyError(f"{year}: expected 19 age bins x 2 sexes, found {len(bins)}")
    ages = {lo: sum(_num(sheet[bins[(lo, s)]]).fillna(0) for s in ("男", "女")) for lo in sorted({k[0] for k in bins})}
    def agesum(lo, hi):
        return sum(v for a, v in ages.items() if lo <= a <= hi)
    out["age_0_14"] = agesum(0, 14)
    out["age_15_59"] = agesum(15, 59)
    out["age_15_64"] = agesum(15, 64)
    out["age_60plus"] = agesum(60, 200)
    out["age_65plus"] = agesum(65, 200)
    out["age_total"] = agesum(0, 200)
    # education of the 6+ population (counts; average years carried as person-years)
    edu_cols = _edu_cols(sheet, year, EDU[year])
    edu = sheet[edu_cols].apply(_num)
    out["edu_pop"] = edu.sum(axis=1, min_count=1)
    out["edu_tertiary"] = sheet[_edu_cols(sheet, year, EDU_TERTIARY[year])].apply(_num).sum(axis=1, min_count=1)
    avg = _num(sheet["平均受教育年限（年）-合计" if year == 2010 else "平均受教育年限_合计"])
    out["edu_person_years"] = avg * out["edu_pop"]
    # occupation and industry blocks: blank category cells where the block total exists are 0
    for total_col in ("employed_occ_total", "employed_ind_total"):
        block = [c for c in out.columns if c.startswith("occ_" if total_col.startswith("employed_occ") else "ind_")]
        for c in block:
            m = out[c].isna() & out[total_col].notna()
            filled[c] = int(m.sum())
            out.loc[m, c] = 0.0
    cols = list(sheet.columns)
    ind = cols[cols.index(INDUSTRY_FIRST[year]): cols.index(INDUSTRY_LAST[year]) + 1]
    serv = [c for c in ind if c not in SERVICES_EXCLUDED]
    if len(serv) != 15:
        raise KeyError(f"{year}: expected 15 service sections (F-T), found {len(serv)}: {serv}")
    out["ind_services"] = sheet[serv].apply(_num).fillna(0).sum(axis=1).where(out["employed_ind_total"].notna())
    for c in ("hh_tap_water", "hh_kitchen", "hh_toilet", "hh_bath", "hh_car"):
        m = out[c].isna() & out["hh_long_form"].notna() & (year == 2020 or c != "hh_car")
        filled[c] = int(m.sum())
        out.loc[m, c] = 0.0
    log.setdefault("blank_cells_read_as_zero", {})[str(year)] = {k: v for k, v in filled.items() if v}
    log.setdefault("service_sections", {})[str(year)] = serv
    return out


COUNT_COLUMNS = [
    *SIMPLE.keys(), "age_0_14", "age_15_59", "age_15_64", "age_60plus", "age_65plus", "age_total",
    "edu_pop", "edu_tertiary", "edu_person_years", "ind_services",
]


def add_rates(df: pd.DataFrame) -> pd.DataFrame:
    """Rates recomputed from counts (so merged units are weighted by their counts)."""
    d = df.copy()

    def ratio(a, b):
        with np.errstate(divide="ignore", invalid="ignore"):
            return (a / b.where(b > 0)).astype(float)
    d["urbanization_rate"] = ratio(d["pop_urban"], d["pop_urban"] + d["pop_rural"])
    d["urban_core_share"] = ratio(d["pop_urban_core"], d["pop_resident"])
    d["hukou_gap_rate"] = ratio(d["pop_resident"] - d["pop_hukou"], d["pop_resident"])
    d["migrant_share"] = ratio(d["migrants_other_county"] + d["migrants_other_province"], d["pop_resident"])
    d["interprovincial_migrant_share"] = ratio(d["migrants_other_province"], d["pop_resident"])
    d["separated_share"] = ratio(d["migrants_within_county"] + d["migrants_other_county"] + d["migrants_other_province"],
                                 d["pop_resident"])
    for a in ("0_14", "15_59", "15_64", "60plus", "65plus"):
        d[f"age_{a}_share"] = ratio(d[f"age_{a}"], d["age_total"])
    d["edu_years"] = ratio(d["edu_person_years"], d["edu_pop"])
    d["tertiary_share"] = ratio(d["edu_tertiary"], d["edu_pop"])
    d["illiteracy_rate"] = ratio(d["illiterate_15plus"], d["age_total"] - d["age_0_14"])
    d["nonfarm_emp_share"] = 1 - ratio(d["ind_agri"], d["employed_ind_total"])
    d["manufacturing_emp_share"] = ratio(d["ind_manufacturing"], d["employed_ind_total"])
    d["secondary_emp_share"] = ratio(d["ind_mining"] + d["ind_manufacturing"] + d["ind_utilities"] + d["ind_construction"],
                                     d["employed_ind_total"])
    d["services_emp_share"] = ratio(d["ind_services"], d["employed_ind_total"])
    d["farm_occupation_share"] = ratio(d["occ_agri"], d["employed_occ_total"])
    for c in ("tap_water", "kitchen", "toilet", "bath", "car"):
        d[f"{c}_share"] = ratio(d[f"hh_{c}"], d["hh_long_form"])
    d["household_size"] = ratio(d["household_pop"], d["households"])
    d["sex_ratio"] = 100 * ratio(d["pop_male"], d["pop_female"])
    return d


RATES = {
    # name: (unit, definition, numerator/denominator note)
    "urbanization_rate": ("ratio 0-1", "pop_urban / (pop_urban + pop_rural)"),
    "urban_core_share": ("ratio 0-1", "pop_urban_core / pop_resident (2020 only, where reported)"),
    "hukou_gap_rate": ("ratio", "(pop_resident - pop_hukou) / pop_resident: >0 net inflow of non-registered residents (2010 only)"),
    "migrant_share": ("ratio 0-1", "(migrants_other_county + migrants_other_province) / pop_resident: inflow from other counties"),
    "interprovincial_migrant_share": ("ratio 0-1", "migrants_other_province / pop_resident"),
    "separated_share": ("ratio 0-1", "all residents registered in another township (人户分离) / pop_resident"),
    "age_0_14_share": ("ratio 0-1", "age_0_14 / age_total"),
    "age_15_59_share": ("ratio 0-1", "age_15_59 / age_total"),
    "age_15_64_share": ("ratio 0-1", "age_15_64 / age_total"),
    "age_60plus_share": ("ratio 0-1", "age_60plus / age_total"),
    "age_65plus_share": ("ratio 0-1", "age_65plus / age_total"),
    "edu_years": ("years", "edu_person_years / edu_pop: average years of schooling of the 6+ population, weighted"),
    "tertiary_share": ("ratio 0-1", "edu_tertiary / edu_pop (junior college or higher among the 6+ population)"),
    "illiteracy_rate": ("ratio 0-1", "illiterate_15plus / (age_total - age_0_14): both full counts (pop_15plus is a 10% long-form count)"),
    "nonfarm_emp_share": ("ratio 0-1", "1 - ind_agri / employed_ind_total (industry, section A vs the rest)"),
    "manufacturing_emp_share": ("ratio 0-1", "ind_manufacturing / employed_ind_total"),
    "secondary_emp_share": ("ratio 0-1", "(ind_mining + ind_manufacturing + ind_utilities + ind_construction) / employed_ind_total"),
    "services_emp_share": ("ratio 0-1", "ind_services / employed_ind_total (sections F-T)"),
    "farm_occupation_share": ("ratio 0-1", "occ_agri / employed_occ_total"),
    "tap_water_share": ("ratio 0-1", "hh_tap_water / hh_long_form"),
    "kitchen_share": ("ratio 0-1", "hh_kitchen / hh_long_form"),
    "toilet_share": ("ratio 0-1", "hh_toilet / hh_long_form"),
    "bath_share": ("ratio 0-1", "hh_bath / hh_long_form"),
    "car_share": ("ratio 0-1", "hh_car / hh_long_form (2020 only)"),
    "household_size": ("persons per household", "household_pop / households"),
    "sex_ratio": ("males per 100 females", "100 * pop_male / pop_female"),
}


# ---------------------------------------------------------------------------------------------
# codes onto the current frame: the ONE place where the mapping is done
# ---------------------------------------------------------------------------------------------

# The code list each census is read in: every 2010 county code is valid in the 2009 list (崇文区 and
# 宣武区, merged in July 2010, are still census units); the 2020 census mixes codes of the 2019 and 2020
# lists (港闸区 320611 and 三山区 340208, retired in the 2020 list, are still census units), so each of
# its codes is read in the years in which it was valid.
CODE_LIST_YEAR = {2010: 2009, 2020: None}

# Census units whose successor the change list does not record (status "successor missing"); the
# successor below is RECALLED from the State Council approvals of the merger, not read from a primary
# text here (verify before relying on it): census code -> (frame code, event)
SUPPLEMENT = {
    "370802": ("370811", "2013 济宁 市中区 and 任城区 merged into the new 任城区 (recalled)"),
    "140402": ("140403", "2018 长治 城区 and 郊区 merged into 潞州区 (recalled)"),
    "140411": ("140403", "2018 长治 城区 and 郊区 merged into 潞州区 (recalled)"),
    "410306": ("410308", "2021 吉利区 and 孟津县 merged into 孟津区 (recalled)"),
}
# Census units divided between several frame units: the frame units that received a part have no
# comparable value in that census year (set missing, with the reason); census code -> (receivers, event)
PARTIAL = {
    "130103": (("130102", "130104"), "2014 石家庄 桥东区 divided between 长安区 and 桥西区"),
    "140202": (("140213", "140214"), "2018 大同 城区, 矿区, 南郊区 recut into 平城区 and 云冈区"),
    "140203": (("140213", "140214"), "2018 大同 城区, 矿区, 南郊区 recut into 平城区 and 云冈区"),
    "140211": (("140213", "140214"), "2018 大同 城区, 矿区, 南郊区 recut into 平城区 and 云冈区"),
    "320304": (("320302", "320311", "320312"), "2010 徐州 九里区 divided between 鼓楼区, 泉山区 and 铜山区"),
    "340208": (("340202", "340207", "340209"), "2020 芜湖 三山区 abolished, its area given to 弋江区; urban districts 镜湖/鸠江/弋江 recut"),
    "460200": (("460202", "460203", "460204", "460205"), "2014 三亚市 (no districts in 2010) divided into 4 districts"),
}


def to_frame(units: pd.DataFrame, year: int, frame_codes: set[str]) -> tuple[pd.DataFrame, pd.DataFrame, list]:
    """Map the census codes of ``year`` onto frame codes and sum counts of merged units.

    Codes go through :func:`analysis.codes.harmonize_codes` (``CODE_LIST_YEAR``, rule ``"sum"`` for
    every count, ``unplaced="drop"``). Units without a code (``NAMED_UNITS``) already carry their
    frame code; units the change list cannot place and whose successor is a whole frame unit are
    placed by ``SUPPLEMENT``; units divided between frame units (``PARTIAL``) are left out and
    their receiving frame units set missing for that year.

    Returns ``(data, unmatched, report)``: ``data`` one row per frame code with summed counts,
    ``source_codes`` and ``source_names``; ``unmatched`` the census units left out with the reason;
    ``report`` the code mapping (one record per census code recoded or aggregated).
    """
    from analysis.codes import harmonize_codes, lineage

    lin = lineage()
    units = units.copy()
    units["census_code"] = units["code"]
    coded = units["kind"] == "county"
    placeable = coded & units["code"].map(
        lambda c: bool(lin.valid_years(c) or c in lin.frame) and not (c in SUPPLEMENT or c in PARTIAL))
    cols = ["frame_code", "census_code", "unit_name", *COUNT_COLUMNS]
    if CODE_LIST_YEAR[year] is None:  # each code read in its own years of validity
        h = harmonize_codes(units.loc[placeable, cols].assign(census_year=year), code="frame_code",
                            year="census_year", rules="sum", unplaced="drop")
        h.data = h.data.drop(columns="census_year")
    else:
        h = harmonize_codes(units.loc[placeable, cols], code="frame_code", year=None,
                            code_year=CODE_LIST_YEAR[year], rules="sum", unplaced="drop")
    report = h.report.assign(year=year).to_dict("records")
    report += [{"note": n, "year": year} for n in h.notes]
    report += [{"old_code": c, "old_name": units.loc[units["code"] == c, "unit_name"].iloc[0], "frame_code": fc,
                "events": ev, "action": "recoded (census supplement)", "year": year}
               for c, (fc, ev) in SUPPLEMENT.items() if (units["code"] == c).any()]
    manual = units[(~coded) | units["code"].isin(SUPPLEMENT)].copy()
    manual.loc[manual["code"].isin(SUPPLEMENT), "frame_code"] = manual["code"].map(lambda c: SUPPLEMENT.get(c, (None,))[0])
    parts = [h.data[cols], manual[cols]]
    dropped = h.dropped
    unmatched = []
    if len(dropped):
        unmatched.append(units.loc[units["code"].isin(dropped["frame_code"]) & placeable].merge(
            dropped[["frame_code", "reason"]], on="frame_code", how="left"))
    rest = units[coded & ~placeable & ~units["code"].isin(SUPPLEMENT)]
    for c in rest["code"]:
        if c in PARTIAL:
            why = PARTIAL[c][1] + f"; receiving frame units {', '.join(PARTIAL[c][0])} set missing in {year}"
        elif not (lin.valid_years(c) or c in lin.frame):
            why = "census code unknown to the code change list"
        else:
            t = lin.target(c, year)
            why = t.problem or "no place on the frame"
        unmatched.append(rest[rest["code"] == c].assign(reason=why))
    mapped = pd.concat(parts, ignore_index=True)
    mapped = mapped[mapped["frame_code"].isin(frame_codes)]
    data = _sum_by_frame(mapped.rename(columns={"census_code": "code"}))
    # frame units that received part of a divided census unit: no comparable value this year
    receivers = {r: (c, PARTIAL[c][1]) for c in rest["code"] if c in PARTIAL for r in PARTIAL[c][0]}
    hit = data["county"].isin(receivers)
    for r in data[hit].itertuples():
        codes = r.source_codes.split()
        c, ev = receivers[r.county]
        unmatched.append(units[units["code"].isin(codes)].assign(
            reason=f"frame unit {r.county} also received part of census unit {c} ({ev}); not separable"))
    data = data[~hit]
    cols_out = ["code", "unit_name", "source_row", "pop_resident", "reason"]
    unmatched = (pd.concat(unmatched)[cols_out].assign(year=year) if unmatched
                 else pd.DataFrame(columns=cols_out + ["year"]))
    unmatched = unmatched.drop_duplicates(["code", "unit_name"])
    return data, unmatched, report


def _sum_by_frame(mapped: pd.DataFrame) -> pd.DataFrame:
    """Sum counts by frame code (``min_count=1``: all-missing stays missing); list the census units."""
    g = mapped.groupby("frame_code", sort=True)
    data = g[COUNT_COLUMNS].sum(min_count=1)

    def pieces(s):
        return [p for v in s for p in str(v).split("+") if p]
    data["source_codes"] = g["code"].agg(lambda s: " ".join(sorted(set(pieces(s)))))
    data["source_names"] = g["unit_name"].agg(lambda s: " ".join(pieces(s)))
    data["n_source_units"] = g["unit_name"].agg(lambda s: len(pieces(s)))
    return data.reset_index().rename(columns={"frame_code": "county"})


# ---------------------------------------------------------------------------------------------
# build
# ---------------------------------------------------------------------------------------------

def _province_checks(sheet, kinds, cnt, year):
    """Province totals: sum of county + named + zone rows against the province row."""
    code = sheet["code"]
    prov_rows = sheet[code.str.endswith("0000")]
    tot = cnt["pop_resident"]
    # province of each row: the last province row above it
    prov = code.where(code.str.endswith("0000")).replace("", np.nan).ffill()
    keep = kinds.isin(["county", "named", "zone", "no_code"])
    sums = tot[keep].groupby(prov[keep]).sum()
    res = []
    for _, r in prov_rows.iterrows():
        p = r["code"]
        stated = float(_num(pd.Series([r["合计" if year == 2010 else "人口数_合计"]])).iloc[0])
        res.append({"province_code": p, "name": r["unit_name"], "stated_total": stated,
                    "sum_of_units": float(sums.get(p, np.nan)), "difference": float(sums.get(p, np.nan) - stated)})
    return res, prov


def build(source: Path = DEFAULT_SOURCE, out_dir: Path = OUT_DIR) -> dict:
    from analysis.datasets import load_counties

    frame = load_counties()
    frame_codes = set(frame["adcode"])
    log: dict = {"source": str(Path(source).name), "citation": CITATION, "years": {}}
    tidy = []
    for year in (2010, 2020):
        sheet = read_sheet(source, year)
        kinds = classify_rows(sheet, year)
        cnt = counts(sheet, year, log)
        checks, prov = _province_checks(sheet, kinds, cnt, year)
        cnt["kind"] = kinds
        cnt["province_code"] = prov
        named = cnt["unit_name"].map(lambda n: NAMED_UNITS.get(n, (None, None))[0])
        cnt["frame_code"] = np.where(kinds == "named", named, cnt["code"])
        units = cnt[kinds.isin(["county", "named"])].copy()
        empty = units["pop_resident"].isna()
        no_data = units.loc[empty, ["code", "unit_name", "source_row", "pop_resident"]].assign(
            year=year, reason="no population in the source (row present, cells empty)")
        data, unmatched, mapping = to_frame(units[~empty], year, frame_codes)
        unmatched = pd.concat([no_data, unmatched], ignore_index=True)
        # province totals before/after the mapping, for the rows kept
        before = units[~units["source_row"].isin(unmatched["source_row"])]
        data["year"] = year
        tidy.append(data)
        ylog = {
            "rows": int(len(sheet)),
            "rows_by_kind": {k: int(v) for k, v in kinds.value_counts().items()},
            "aggregate_rows": cnt.loc[kinds == "aggregate", ["source_row", "code", "unit_name"]].to_dict("records"),
            "zone_rows": cnt.loc[kinds == "zone", ["source_row", "code", "unit_name", "pop_resident"]].to_dict("records"),
            "named_units": [{"source_row": int(r.source_row), "unit_name": r.unit_name, "frame_code": r.frame_code,
                             "reason": NAMED_UNITS[r.unit_name][1]} for r in cnt[kinds == "named"].itertuples()],
            "no_code_rows": cnt.loc[kinds == "no_code", ["source_row", "unit_name", "pop_resident"]].assign(
                reason="county-level unit without a code in the source and not a unit of the frame "
                       "(大兴安岭 zones 加格达奇/松岭/新林/呼中 lie on land of 内蒙古 鄂伦春自治旗)").to_dict("records"),
            "blank_or_footer_rows": cnt.loc[kinds == "junk", ["source_row", "unit_name"]].to_dict("records"),
            "province_totals": checks,
            "unmatched_units": unmatched.to_dict("records"),
            "code_mapping": mapping,
            "population_kept": float(before["pop_resident"].sum()),
            "population_on_frame": float(data["pop_resident"].sum()),
        }
        log["years"][str(year)] = ylog
    tidy = pd.concat(tidy, ignore_index=True)
    # one row per frame county and census year
    grid = pd.MultiIndex.from_product([sorted(frame_codes), [2010, 2020]], names=["county", "year"]).to_frame(index=False)
    out = grid.merge(tidy, on=["county", "year"], how="left")
    out = add_rates(out)
    info = frame.set_index("adcode")[["name", "prefecture", "province", "region", "prefecture_adcode"]]
    out = out.join(info, on="county")
    out["n_source_units"] = out["n_source_units"].fillna(0).astype(int)
    out["in_census"] = (out["n_source_units"] > 0).astype(int)
    both = out.groupby("county")["in_census"].transform("sum") == 2
    out["matched_both_years"] = both.astype(int)
    # units created between the censuses (no 2010 unit, a 2020 unit) were carved out of other units
    # of their prefecture, whose 2010 territory was therefore larger: flag the whole prefecture
    # (and units created after 2020, or receivers of divided units: any frame unit without a census unit
    # in one of the years means the census territories of its neighbours differ from the frame's)
    wide = out.pivot(index="county", columns="year", values="in_census")
    new_units = wide.index[(wide[2010] == 0) & (wide[2020] == 1)]
    incomplete = wide.index[(wide[2010] == 0) | (wide[2020] == 0)]
    pref = frame.set_index("adcode")["prefecture_adcode"]
    gained = set(pref.reindex(incomplete))
    out["prefecture_gained_unit"] = out["county"].map(pref).isin(gained).astype(int)
    log["units_created_between_censuses"] = [{"county": c, "name": frame.set_index("adcode").loc[c, "name"]}
                                             for c in new_units]
    lead = ["county", "year", "name", "province", "prefecture", "prefecture_adcode", "region", "in_census",
            "matched_both_years", "prefecture_gained_unit", "n_source_units", "source_codes", "source_names"]
    out = out[lead + COUNT_COLUMNS + list(RATES)]
    # frame counties not in one of the censuses
    missing = out.loc[out["in_census"] == 0, ["county", "year", "name", "province"]]
    log["frame_counties_without_census_row"] = missing.to_dict("records")
    log["n_frame_counties"] = len(frame_codes)
    log["n_matched_both_years"] = int(out.loc[out["year"] == 2010, "matched_both_years"].sum())
    out_dir.mkdir(parents=True, exist_ok=True)
    for c in COUNT_COLUMNS:
        if c != "edu_person_years":
            out[c] = out[c].round(0).astype("Int64")
    out["edu_person_years"] = out["edu_person_years"].round(2)
    out.to_csv(out_dir / "census_county_2010_2020.csv.gz", index=False, float_format="%.6g",
               compression={"method": "gzip", "mtime": 0})
    codebook().to_csv(out_dir / "census_codebook.csv", index=False)
    with open(out_dir / "census_build_log.json", "w", encoding="utf-8") as fh:
        json.dump(log, fh, ensure_ascii=False, indent=1, default=_json_default)
    lic = Path(source) / "LICENSE"
    if lic.exists():
        shutil.copyfile(lic, out_dir / "LICENSE-census")
    return log


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return None if np.isnan(o) else float(o)
    if o is pd.NA:
        return None
    return str(o)


def codebook() -> pd.DataFrame:
    """One row per column of the census file: source headers, unit, definition, note."""
    rows = [
        ("county", "区划代码 (mapped)", "", "text", "6-digit adcode of the current frame (data/counties.csv)", ""),
        ("year", "", "", "year", "census year (2010: 6th census, 1 Nov 2010; 2020: 7th census, 1 Nov 2020)", ""),
        ("name", "", "", "text", "frame name of the county", ""),
        ("province", "", "", "text", "frame province", ""),
        ("prefecture", "", "", "text", "frame prefecture", ""),
        ("prefecture_adcode", "", "", "text", "frame prefecture code (for clustering)", ""),
        ("region", "", "", "text", "NBS four regions", ""),
        ("in_census", "", "", "0/1", "1 when at least one census unit of that year maps onto this county", ""),
        ("matched_both_years", "", "", "0/1", "1 when the county has census rows in 2010 and in 2020", ""),
        ("prefecture_gained_unit", "", "", "0/1",
         "1 when a frame unit of the county's prefecture has no census unit in 2010 or 2020 (created after the "
         "census, e.g. carved out of other units, or received part of a divided unit): census territories of "
         "other units of that prefecture may differ from the frame's",
         "use matched_both_years == 1 and prefecture_gained_unit == 0 for strictly comparable changes"),
        ("n_source_units", "", "", "count", "census units summed into this row", ">1: units that merged between the census year and today"),
        ("source_codes", "区划代码", "区划代码", "text", "census codes summed into this row", ""),
        ("source_names", "地区", "区县", "text", "census names summed into this row", ""),
    ]
    for name, (h10, h20, unit, definition, note) in SIMPLE.items():
        rows.append((name, h10 or "", h20 or "", unit, definition, note or "summed over merged units"))
    rows += [
        ("age_0_14", "0岁...10-14岁（男/女）", "男_0岁...女_10到14岁", "persons", "residents aged 0-14, sum of five-year bins", ""),
        ("age_15_59", "15-19岁...55-59岁", "15到19岁...55到59岁", "persons", "residents aged 15-59", ""),
        ("age_15_64", "15-19岁...60-64岁", "15到19岁...60到64岁", "persons", "residents aged 15-64", ""),
        ("age_60plus", "60-64岁...85岁及以上", "60到64岁...85岁以上", "persons", "residents aged 60+", ""),
        ("age_65plus", "65-69岁...85岁及以上", "65到69岁...85岁以上", "persons", "residents aged 65+", ""),
        ("age_total", "all age bins", "all age bins", "persons", "sum of the age bins (denominator of age shares)", ""),
        ("edu_pop", "未上过学...大学本科及以上（男+女）", "未上过学、学前教育...本科及以上（男+女）", "persons",
         "population aged 6+ by attainment (sum of the categories)", "2020 adds 学前教育 (pre-school); same 6+ universe"),
        ("edu_tertiary", "大学专科 + 大学本科及以上", "大学专科 + 本科及以上", "persons", "junior college or higher", ""),
        ("edu_person_years", "平均受教育年限（年）-合计 x edu_pop", "平均受教育年限_合计 x edu_pop", "person-years",
         "average years of schooling times edu_pop, so merged units can be summed", "weight = edu_pop"),
        ("ind_services", "sections F-T (15 columns)", "sections F-T (15 columns)", "persons (10% sample)",
         "employed in services (GB/T 4754 sections F to T)",
         "2002 and 2017 sections F-T are the same 15 sections (renamed/recut inside services); the 2010 source "
         "headers of three service columns are scrambled (交通运输/信息传输/批发零售), irrelevant for the sum"),
    ]
    for name, (unit, definition) in RATES.items():
        rows.append((name, "", "", unit, definition, "recomputed from summed counts after code mapping"))
    return pd.DataFrame(rows, columns=["column", "header_2010", "header_2020", "unit", "definition", "harmonization_note"])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    source = Path(argv[0]) if argv else DEFAULT_SOURCE
    log = build(source)
    for y, yl in log["years"].items():
        print(y, yl["rows_by_kind"], "unmatched", len(yl["unmatched_units"]),
              "kept", yl["population_kept"], "on frame", yl["population_on_frame"])
    print("matched both years:", log["n_matched_both_years"], "of", log["n_frame_counties"])


if __name__ == "__main__":
    main()
