"""Column schema of a county panel and the yearbook-name mapping (``data/templates/column_mapping.csv``)."""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

import pandas as pd

from ..datasets import data_dir
from ..errors import SpecificationError

_DATA = data_dir()
_TEMPLATES = _DATA / "templates"


# the canonical schema of docs/simulation.md (+ ``gdp``) lives in one place, analysis.validation
from ..validation import (  # noqa: E402, F401  (re-exported: analysis.panel.NUMERIC_COLUMNS ...)
    CANONICAL_COLUMNS,
    COVARIATES,
    NUMERIC_COLUMNS,
    POLICY_COLUMNS,
    RAW_INDICATORS,
    TEXT_COLUMNS,
)

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
    """The yearbook-name -> canonical-name table (``data/templates/column_mapping.csv``).

    Examples
    --------
    >>> from analysis.panel import column_mapping
    >>> table = column_mapping()
    >>> table.columns.tolist()
    ['source_name', 'canonical', 'scale', 'note']
    >>> table.loc[table["source_name"] == "行政区划代码", "canonical"].item()
    'county'
    """
    return _mapping_table().drop(columns="key").copy()


def adcode_changes() -> pd.DataFrame:
    """Known county code changes (``data/templates/adcode_changes.csv``), codes as str.

    Examples
    --------
    >>> from analysis.panel import adcode_changes
    >>> changes = adcode_changes()
    >>> changes.columns.tolist()[:3]
    ['old_adcode', 'new_adcode', 'year']
    >>> len(changes), bool(changes["old_adcode"].str.len().eq(6).all())
    (6, True)
    """
    return pd.read_csv(_TEMPLATES / "adcode_changes.csv",
                       dtype={"old_adcode": str, "new_adcode": str}, keep_default_na=False)


def map_columns(names) -> tuple[dict[str, tuple[str, float]], list[str]]:
    """Match headers to canonical names.

    Returns ``({header: (canonical, scale)}, [unmatched headers])``. A header matches an entry of
    the mapping file when equal after normalisation (full-width brackets, case, spaces); a header
    without a unit also matches an entry by its name without unit, and so does a header whose
    unit is the entry's unit.

    Examples
    --------
    >>> from analysis.panel import map_columns
    >>> found, missing = map_columns(["常住人口城镇化率(%)", "人均地区生产总值(万元)", "notes"])
    >>> found["常住人口城镇化率(%)"], found["人均地区生产总值(万元)"]
    (('urbanization_rate', 1.0), ('gdp_pc', 10000.0))
    >>> missing
    ['notes']
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
