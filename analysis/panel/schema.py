"""Column schema of a county panel and the yearbook-name mapping (``data/templates/column_mapping.csv``)."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from pathlib import Path

import pandas as pd

from ..errors import SpecificationError

_DATA = Path(__file__).resolve().parents[2] / "data"
_TEMPLATES = _DATA / "templates"


# canonical schema of docs/simulation.md (+ ``gdp``, a common raw yearbook item)
TEXT_COLUMNS = ("name", "prefecture", "province", "region", "county_type", "land_reform_type")
RAW_INDICATORS = (
    "urbanization_rate", "nonfarm_emp_share", "pension_coverage", "road_density", "builtup_share",
    "broadband_rate", "gdp_pc", "rural_income", "income_ratio", "nonagri_share",
    "ag_productivity", "hospital_beds", "teachers_per10k", "consumption_ratio", "fiscal_exp_pc",
    "fertilizer_intensity", "forest_cover", "sewage_treatment", "sanitary_toilet", "pm25",
)
COVARIATES = ("population", "area_km2", "loans_gdp", "land_transfer_rate", "fiscal_selfsuff",
              "digital_gov", "gdp")
POLICY_COLUMNS = ("land_reform", "land_reform_year", "digital_pilot", "digital_pilot_year",
                  "integration_zone")
NUMERIC_COLUMNS = RAW_INDICATORS + COVARIATES + tuple(
    c for c in POLICY_COLUMNS if c != "land_reform_type")
CANONICAL_COLUMNS = ("county", "year") + TEXT_COLUMNS[:5] + RAW_INDICATORS + COVARIATES[:-1] + (
    "land_reform", "land_reform_year", "land_reform_type", "digital_pilot", "digital_pilot_year",
    "integration_zone")

#: cells read as missing (yearbooks use dashes, dots and blanks); counted in the report
MISSING_MARKERS = ("", "-", "--", "—", "——", "–", "…", "...", "……", "NA", "N/A", "n/a", "na",
                   "NaN", "nan", "null", "NULL", "None", ".", "/", "无", "缺失", "#N/A")

_FORMATS = {".csv": "csv", ".txt": "csv", ".gz": "csv", ".xlsx": "excel", ".xlsm": "excel",
            ".xls": "excel", ".dta": "stata", ".parquet": "parquet", ".pq": "parquet"}


def _norm(name) -> str:
    """Normalise a header: NFKC (full-width -> ASCII), lower case, no spaces, ² -> 2."""
    text = unicodedata.normalize("NFKC", str(name)).replace("²", "2").replace("³", "3")
    text = text.replace("µ", "μ")
    return re.sub(r"\s+", "", text).lower()


_UNIT = re.compile(r"^(.*?)\(([^()]*)\)$")


def _split_unit(norm: str) -> tuple[str, str | None]:
    m = _UNIT.match(norm)
    return (m.group(1), m.group(2)) if m else (norm, None)


@lru_cache(maxsize=1)
def _mapping_table() -> pd.DataFrame:
    table = pd.read_csv(_TEMPLATES / "column_mapping.csv", dtype={"source_name": str,
                                                                  "canonical": str},
                        keep_default_na=False)
    table["scale"] = pd.to_numeric(table["scale"]).astype(float)
    table["key"] = table["source_name"].map(_norm)
    dup = table["key"].duplicated(keep=False) & ~table.duplicated(["key", "canonical", "scale"],
                                                                  keep=False)
    if dup.any():  # pragma: no cover - guards the shipped file
        raise SpecificationError(f"column_mapping.csv maps the same name twice: "
                                 f"{table.loc[dup, 'source_name'].tolist()}")
    return table


def column_mapping() -> pd.DataFrame:
    """The yearbook-name -> canonical-name table (``data/templates/column_mapping.csv``)."""
    return _mapping_table().drop(columns="key").copy()


def adcode_changes() -> pd.DataFrame:
    """Known county code changes (``data/templates/adcode_changes.csv``), codes as str."""
    return pd.read_csv(_TEMPLATES / "adcode_changes.csv",
                       dtype={"old_adcode": str, "new_adcode": str}, keep_default_na=False)


def map_columns(names) -> tuple[dict[str, tuple[str, float]], list[str]]:
    """Match headers to canonical names.

    Returns ``({header: (canonical, scale)}, [unmatched headers])``. A header matches an entry of
    the mapping file when equal after normalisation (full-width brackets, case, spaces); a header
    without a unit also matches an entry by its name without unit, and so does a header whose
    unit is the entry's unit.
    """
    table = _mapping_table()
    exact = {k: (c, s) for k, c, s in zip(table["key"], table["canonical"], table["scale"])}
    by_base: dict[str, list[tuple[str, str | None, float]]] = {}
    for key, canonical, scale in zip(table["key"], table["canonical"], table["scale"]):
        base, unit = _split_unit(key)
        by_base.setdefault(base, []).append((canonical, unit, scale))
    found, missing = {}, []
    for name in names:
        key = _norm(name)
        if key in exact:
            found[name] = exact[key]
            continue
        base, unit = _split_unit(key)
        cands = by_base.get(base, [])
        hit = None
        for canonical, cunit, scale in cands:
            if unit is None and scale == 1.0:
                hit = (canonical, scale)
                break
        if hit is None:
            missing.append(name)
        else:
            found[name] = hit
    return found, missing
