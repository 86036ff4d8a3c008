"""Unit types in Chinese and the county-yearbook scope of the county frame.

The 中国县域统计年鉴（县市卷）of the National Bureau of Statistics covers county-level units that are
not urban districts: counties (县), county-level cities (县级市), banners (旗), autonomous counties and
banners (自治县, 自治旗), the forest district 神农架林区 and the special district 六枝特区. It does not
cover urban districts (市辖区), the prefecture-level cities without counties (东莞, 中山, 儋州, 嘉峪关,
which have their own prefecture-level data), nor the special statistical units of 甘肃 and 青海
(中农发山丹马场, 莲花山/太子山 nature reserves, 大柴旦行政委员会).
"""
from __future__ import annotations

import pandas as pd

__all__ = ["UNIT_TYPES_ZH", "unit_type_zh", "in_county_yearbook_scope", "PREFECTURE_CITIES_WITHOUT_COUNTIES",
           "SPECIAL_UNITS"]

UNIT_TYPES_ZH = {
    "district": "市辖区",
    "county": "县",
    "county-level city": "县级市",
    "banner": "旗",
    "autonomous county": "自治县",
    "autonomous banner": "自治旗",
    "forest district": "林区",
    "special district": "特区",
}
PREFECTURE_CITIES_WITHOUT_COUNTIES = {"441900", "442000", "460400", "620200"}
SPECIAL_UNITS = {"629700", "629800", "629900", "632857"}


def unit_type_zh(adcode: str, county_type: str) -> str:
    """Chinese unit type of a frame unit (市辖区, 县, 县级市, 旗, 自治县, 自治旗, 林区, 特区,
    不设区的地级市, 特殊统计单元).

    >>> unit_type_zh("441900", "county-level city"), unit_type_zh("130607", "district")
    ('不设区的地级市', '市辖区')
    """
    if adcode in PREFECTURE_CITIES_WITHOUT_COUNTIES:
        return "不设区的地级市"
    if adcode in SPECIAL_UNITS:
        return "特殊统计单元"
    return UNIT_TYPES_ZH[county_type]


def in_county_yearbook_scope(adcode: str, county_type: str) -> int:
    """1 if the 中国县域统计年鉴（县市卷）covers the unit (not a 市辖区, not a prefecture-level city,
    not a special statistical unit), else 0.

    >>> in_county_yearbook_scope("130621", "county"), in_county_yearbook_scope("130607", "district")
    (1, 0)
    """
    return int(unit_type_zh(adcode, county_type) not in ("市辖区", "不设区的地级市", "特殊统计单元"))


def add_scope_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """``unit_type`` and ``county_yearbook_scope`` for a frame with ``adcode`` and ``county_type``."""
    out = frame.copy()
    out["unit_type"] = [unit_type_zh(a, t) for a, t in zip(out["adcode"], out["county_type"])]
    out["county_yearbook_scope"] = [in_county_yearbook_scope(a, t) for a, t in zip(out["adcode"], out["county_type"])]
    return out
