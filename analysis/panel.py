"""Reading, validating and preparing county-year panels.

:func:`read_panel` reads a user's panel (CSV, Excel ``.xlsx``, Stata ``.dta``, Parquet), maps
yearbook column names (Chinese or English, e.g. ``农村居民人均可支配收入(元)``) to the canonical names
of ``docs/simulation.md`` through ``data/templates/column_mapping.csv``, reads county ids as 6-digit
strings and validates the result. Every input problem raises an :mod:`analysis.errors` class that
names the column, the rows and the fix; nothing is dropped silently -- what was done is recorded in
``df.attrs["read_report"]`` (a :class:`ReadReport`).

The helpers :func:`check_panel`, :func:`balance`, :func:`interpolate`, :func:`winsorize` and
:func:`add_lags` prepare a panel for estimation (the usual ``xtset`` / ``ipolate`` / ``winsor2`` /
``L.`` steps of Stata, ``plm::pdata.frame`` / ``zoo::na.approx`` / ``DescTools::Winsorize`` in R).
"""
from __future__ import annotations

import datetime as _dt
import re
import unicodedata
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .errors import (
    ColumnError,
    DuplicateKeyError,
    MissingValueError,
    NonNumericError,
    SpecificationError,
    UnknownAdcodeError,
    YearRangeError,
    check_choice,
    describe_rows,
)
from .results import RowReport

__all__ = [
    "CANONICAL_COLUMNS",
    "NUMERIC_COLUMNS",
    "TEXT_COLUMNS",
    "MISSING_MARKERS",
    "UnknownAdcodeError",
    "YearRangeError",
    "ReadReport",
    "column_mapping",
    "adcode_changes",
    "map_columns",
    "read_panel",
    "check_panel",
    "balance",
    "interpolate",
    "winsorize",
    "add_lags",
    "write_template",
]

_DATA = Path(__file__).resolve().parent.parent / "data"
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


@dataclass
class ReadReport:
    """What :func:`read_panel` did to the file, so that nothing happens silently."""

    path: str
    format: str
    rows: RowReport
    renamed: dict[str, str] = field(default_factory=dict)
    scaled: dict[str, float] = field(default_factory=dict)
    unmapped: list[str] = field(default_factory=list)
    missing_markers: dict[str, int] = field(default_factory=dict)
    missing_cells: dict[str, int] = field(default_factory=dict)
    thousands_separators: dict[str, int] = field(default_factory=dict)
    text_columns: list[str] = field(default_factory=list)
    ids_padded: int = 0
    ids_truncated: int = 0
    recoded_adcodes: dict[str, str] = field(default_factory=dict)
    unknown_adcodes: list[str] = field(default_factory=list)
    label_rows: list[int] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"read_panel({self.path!r}) [{self.format}]: {self.rows}"]
        if self.renamed:
            lines.append("renamed: " + ", ".join(f"{k} -> {v}" for k, v in self.renamed.items()))
        if self.scaled:
            lines.append("rescaled: " + ", ".join(f"{k} x {v:g}" for k, v in self.scaled.items()))
        if self.unmapped:
            lines.append("kept under their own names (no canonical match): "
                         + ", ".join(self.unmapped))
        if self.label_rows:
            lines.append(f"second header (label) row skipped: file rows {self.label_rows}")
        if self.missing_markers:
            lines.append("missing markers read as NaN: " + ", ".join(
                f"{k}: {v}" for k, v in self.missing_markers.items()))
        if self.thousands_separators:
            lines.append("thousands separators removed: " + ", ".join(
                f"{k}: {v}" for k, v in self.thousands_separators.items()))
        if self.ids_padded:
            lines.append(f"county ids zero-padded to 6 digits: {self.ids_padded}")
        if self.ids_truncated:
            lines.append(f"12-digit statistical codes cut to 6 digits: {self.ids_truncated}")
        if self.recoded_adcodes:
            lines.append("adcodes recoded: " + ", ".join(
                f"{k} -> {v}" for k, v in self.recoded_adcodes.items()))
        if self.unknown_adcodes:
            lines.append("adcodes not in the county frame (kept): "
                         + ", ".join(self.unknown_adcodes[:10]))
        lines += self.notes
        return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# column names
# ---------------------------------------------------------------------------------------------

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


# ---------------------------------------------------------------------------------------------
# reading
# ---------------------------------------------------------------------------------------------

def _read_raw(path: Path, fmt: str, sheet_name, **kwargs) -> pd.DataFrame:
    if fmt == "csv":
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig",
                               **kwargs)
        except UnicodeDecodeError:  # Chinese Excel exports are often GBK
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="gb18030",
                               **kwargs)
    if fmt == "excel":
        raw = pd.read_excel(path, sheet_name=sheet_name, dtype=object, keep_default_na=False,
                            **kwargs)
        return raw
    if fmt == "stata":
        return pd.read_stata(path, convert_categoricals=False, **kwargs)
    return pd.read_parquet(path, **kwargs)


def _as_text(series: pd.Series) -> pd.Series:
    """Cells as stripped strings (NaN stays NaN); integral floats lose their ``.0``."""
    def one(v):
        if v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA:
            return np.nan
        if isinstance(v, (float, np.floating)) and float(v).is_integer():
            return str(int(v))
        text = str(v).strip()
        return text if text else np.nan
    return pd.Series([one(v) for v in series.to_numpy()], index=series.index, dtype=object)


_NUM_WITH_COMMAS = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")


def _to_numeric(series: pd.Series, col: str, report: ReadReport, file_row) -> pd.Series:
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype(float)
    text = _as_text(series)
    markers = text.isin(MISSING_MARKERS)
    if markers.any():
        report.missing_markers[col] = int(markers.sum())
    text = text.mask(markers)
    commas = text.fillna("").str.match(_NUM_WITH_COMMAS)
    if commas.any():
        report.thousands_separators[col] = int(commas.sum())
        text = text.where(~commas, text.str.replace(",", "", regex=False))
    num = pd.to_numeric(text, errors="coerce")
    bad = num.isna() & text.notna()
    if bad.any():
        idx = text.index[bad]
        vals = ", ".join(repr(v) for v in text[bad].unique()[:6])
        raise NonNumericError(
            f"column {col!r} must be numeric but has non-numeric cells in "
            f"{describe_rows(idx)} (file {describe_rows([file_row(i) for i in idx])}): {vals}. "
            "Fix the cells, or write missing values as empty cells (yearbook dashes such as "
            "'-', '—', '…' are read as missing)."
        )
    return num.astype(float)


def _file_row_fn(fmt: str, header_rows: int):
    if fmt in ("csv", "excel"):
        return lambda i: int(i) + header_rows + 1  # 1-based line in the sheet/file
    return lambda i: int(i) + 1


def read_panel(
    path,
    entity: str = "county",
    time: str = "year",
    columns=None,
    *,
    sheet_name=0,
    years: tuple[int, int] | None = None,
    numeric=None,
    unknown_adcodes: str = "raise",
    recode_adcodes: bool = False,
    check_adcodes: bool = True,
    harmonize: bool = False,
    code_year: int | None = None,
    rules=None,
    names: dict | None = None,
    **read_kwargs,
) -> pd.DataFrame:
    """Read a county-year panel from CSV, Excel (.xlsx), Stata (.dta) or Parquet and validate it.

    Parameters
    ----------
    path : str or Path
        ``.csv`` (also ``.csv.gz``, ``.txt``), ``.xlsx``, ``.dta`` or ``.parquet``.
    entity, time : str
        Names of the county-id and year columns *after* renaming (defaults ``county``, ``year``).
    columns : None, dict or "yearbook"
        ``None`` keeps the names as they are; a dict renames ``{file name: new name}``;
        ``"yearbook"`` maps yearbook names (Chinese or English, e.g. ``常住人口城镇化率(%)``,
        ``农村居民人均可支配收入（元）``, ``人均地区生产总值(万元)``) to the canonical names of
        ``docs/simulation.md`` through ``data/templates/column_mapping.csv``, rescaling where the
        file's unit differs from the canonical one (e.g. 万元 -> 元). Unmatched columns are kept
        under their own names and listed in the report.
    sheet_name : int or str
        Excel sheet (default: the first).
    years : (int, int), optional
        Allowed year range, inclusive (default 1949 to next year).
    numeric : list of str, optional
        Extra columns that must be numeric (canonical numeric columns always are).
    unknown_adcodes : {"raise", "keep"}
        What to do with county codes that are not in ``data/counties.csv``.
    recode_adcodes : bool
        Replace the six old codes of the pilot list by current ones (``data/templates/adcode_changes.csv``,
        recorded in the report). Superseded by ``harmonize=True``, which knows every change 1980-2026.
        Default False: old codes raise with a hint that names their changes.
    check_adcodes : bool
        Set False for panels whose ids are not mainland county adcodes.
    harmonize : bool
        Put codes of any year (1980-2026) onto the county frame with
        :func:`analysis.codes.harmonize_codes`: one-to-one changes are recoded, merged units are
        combined by ``rules``; the report is in ``df.attrs["harmonize_report"]`` and summarised in
        the read report. Each row's code is read in its row's year unless ``code_year`` is given.
    code_year : int, optional
        The year of the code list when all codes are of one vintage (with ``harmonize=True``).
    rules : dict or str, optional
        Merge rules per column for ``harmonize=True`` (``"sum"``, ``"mean:<weight column>"``, ...).
    names : dict, optional
        For files with names and no codes: ``{"name": <county name column>, "province": <column>,
        "prefecture": <column>}`` (province and prefecture optional; file headers). The entity
        column is created by :func:`analysis.codes.match_names` (historical names and suffix variants
        matched; ambiguous names raise with the candidates; total rows such as 市辖区 are kept out and
        reported).

    Returns
    -------
    DataFrame
        Sorted by (entity, time), ``entity`` as 6-digit str, ``time`` as int, numeric columns as
        float; ``df.attrs["read_report"]`` is a :class:`ReadReport`.

    Raises
    ------
    ColumnError
        Entity or time column missing; two file columns mapped to the same name.
    NonNumericError
        Non-numeric cells in a numeric column (names the column, rows and values).
    DuplicateKeyError
        The same (county, year) appears more than once (names the keys and rows).
    UnknownAdcodeError
        County ids that are not 6-digit codes or not in the county frame (with a code-change hint).
    YearRangeError
        Years that are not whole numbers or are out of range.
    MissingValueError
        Missing county id or year.

    Notes
    -----
    Excel and CSV templates (``data/templates/county_panel_template.*``) have the canonical
    English names in the header row (row 1) and Chinese labels in row 2; a second header row like
    that (every cell maps to the header's column) is recognised, skipped and reported.
    """
    check_choice("unknown_adcodes", unknown_adcodes, ("raise", "keep"))
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist.")
    suffix = path.suffix.lower()
    if suffix not in _FORMATS:
        raise SpecificationError(
            f"cannot read {path.name!r}: use .csv, .xlsx, .dta or .parquet "
            f"(got {path.suffix!r}).")
    fmt = _FORMATS[suffix]
    raw = _read_raw(path, fmt, sheet_name, **read_kwargs)
    raw.columns = [str(c).replace("\ufeff", "").strip() for c in raw.columns]
    n_input = len(raw)
    report = ReadReport(path=str(path), format=fmt, rows=RowReport(n_input, n_input))
    file_row = _file_row_fn(fmt, 1)

    # ---- names ------------------------------------------------------------------------------
    scales: dict[str, float] = {}
    if columns is None:
        rename = {}
    elif isinstance(columns, dict):
        unknown = [k for k in columns if k not in raw.columns]
        if unknown:
            raise ColumnError(f"columns= renames {unknown}, which are not in the file; the file "
                              f"has {list(raw.columns)}.")
        rename = dict(columns)
    elif columns == "yearbook":
        found, missing = map_columns(raw.columns)
        rename = {k: v[0] for k, v in found.items()}
        scales = {v[0]: v[1] for k, v in found.items() if v[1] != 1.0}
        report.unmapped = [c for c in missing]
    else:
        raise SpecificationError(
            f"columns={columns!r}: pass None, a dict {{file name: new name}} or 'yearbook'.")
    target = [rename.get(c, c) for c in raw.columns]
    dups = pd.Series(target)[pd.Series(target).duplicated(keep=False)]
    if len(dups):
        clash = {t: [c for c in raw.columns if rename.get(c, c) == t] for t in dups.unique()}
        raise ColumnError(
            "several file columns map to the same name: "
            + "; ".join(f"{t} <- {src}" for t, src in clash.items())
            + ". Rename or drop one of them, or pass columns= as a dict.")
    report.renamed = {k: v for k, v in rename.items() if k != v}
    raw.columns = target

    if names is not None:
        raw = _codes_from_names(raw, names, entity, time, report)
    for col, role in ((entity, "entity"), (time, "time")):
        if col not in raw.columns:
            raise ColumnError(
                f"{role} column {col!r} not found; the file has {list(raw.columns)}. Pass "
                f"{role}= with the right name, or columns='yearbook' to map yearbook names "
                "(e.g. 行政区划代码 -> county, 年份 -> year).")

    # ---- a second header row of labels (the template's row 2) ---------------------------------
    if fmt in ("csv", "excel") and n_input:
        first = raw.iloc[0]
        cells = {c: first[c] for c in raw.columns if isinstance(first[c], str) and first[c]}
        if len(cells) >= max(2, int(0.8 * raw.shape[1])):
            found, _ = map_columns(cells.values())
            head, _ = map_columns(cells.keys())
            same = sum(found.get(v, (None,))[0] in (c, head.get(c, (None,))[0])
                       for c, v in cells.items())
            if same >= 0.8 * len(cells):
                raw = raw.iloc[1:]
                report.label_rows = [2]
                report.rows = RowReport(n_input, n_input - 1,
                                        {"second header row (column labels)": 1})
                report.notes.append("(file row numbers in messages count the header as row 1)")

    df = raw.copy()
    # ---- keys ----------------------------------------------------------------------------------
    df[entity] = _clean_ids(df[entity], entity, report, file_row)
    df[time] = _clean_years(df[time], time, years, report, file_row)

    # ---- types ---------------------------------------------------------------------------------
    numeric_cols = set(NUMERIC_COLUMNS) | set(numeric or ())
    for extra in numeric or ():
        if extra not in df.columns:
            raise ColumnError(f"numeric= names {extra!r}, which is not in the panel.")
    for col in df.columns:
        if col in (entity, time):
            continue
        if col in numeric_cols:
            df[col] = _to_numeric(df[col], col, report, file_row)
        elif col in TEXT_COLUMNS:
            df[col] = _as_text(df[col])
        else:
            try:
                trial = ReadReport(path="", format="", rows=RowReport(0, 0))
                df[col] = _to_numeric(df[col], col, trial, file_row)
                for attr in ("missing_markers", "thousands_separators"):
                    getattr(report, attr).update(getattr(trial, attr))
            except NonNumericError:
                report.text_columns.append(col)
    for col, scale in scales.items():
        df[col] = df[col] * scale
    report.scaled = scales
    report.missing_cells = {c: int(n) for c, n in df.isna().sum().items() if n}

    # ---- adcodes --------------------------------------------------------------------------------
    harmonized = None
    if harmonize:
        from .codes import harmonize_codes

        harmonized = harmonize_codes(df, code=entity, year=time, rules=rules, code_year=code_year)
        df = harmonized.data
        n_merged = len(harmonized.data) != harmonized.rows_in
        if n_merged:
            report.rows = RowReport(n_input, len(df), {**report.rows.dropped,
                                                       "rows combined into merged frame units":
                                                       harmonized.rows_in - len(df)})
        report.notes.append(str(harmonized))
    elif check_adcodes:
        df[entity] = _check_adcodes(df[entity], entity, report, recode_adcodes, unknown_adcodes,
                                    file_row)

    # ---- duplicates --------------------------------------------------------------------------------
    dup = df.duplicated([entity, time], keep=False)
    if dup.any():
        keys = df.loc[dup, [entity, time]].drop_duplicates().head(6)
        keytext = ", ".join(f"({e}, {t})" for e, t in keys.itertuples(index=False))
        raise DuplicateKeyError(
            f"({entity}, {time}) must be unique but {int(dup.sum())} rows share keys: {keytext}; "
            f"{describe_rows(df.index[dup])} (file "
            f"{describe_rows([file_row(i) for i in df.index[dup]])}). "
            "Remove or aggregate the repeated county-years.")

    df = df.sort_values([entity, time], kind="stable").reset_index(drop=True)
    df.attrs["read_report"] = report
    if harmonized is not None:
        df.attrs["harmonize_report"] = harmonized.report
    return df


def _codes_from_names(raw: pd.DataFrame, names: dict, entity: str, time: str, report: "ReadReport") -> pd.DataFrame:
    """Create the entity column from county names (see ``names=`` of :func:`read_panel`)."""
    from .codes import match_names

    if not isinstance(names, dict) or "name" not in names:
        raise SpecificationError("names= takes a dict like {'name': '县名', 'province': '省份', "
                                 "'prefecture': '地市'} (province and prefecture optional).")
    if entity in raw.columns:
        raise ColumnError(f"names= would create the entity column {entity!r}, but the file already has it; "
                          "drop names= to use the codes, or pass entity= another name.")
    names = {k: report.renamed.get(v, v) for k, v in names.items()}  # file headers or their new names
    year_col = time if time in raw.columns else None
    m = match_names(raw, name=names["name"], province=names.get("province"),
                    prefecture=names.get("prefecture"), year=year_col, code=entity, aggregates="drop")
    out = m.data
    if len(m.dropped):
        report.rows = RowReport(report.rows.n_input, report.rows.n_used - len(m.dropped),
                                {**report.rows.dropped, "total rows (市辖区, 合计, province or prefecture)":
                                 len(m.dropped)})
    report.notes.append(str(m))
    return out


def _clean_ids(series: pd.Series, col: str, report: ReadReport, file_row) -> pd.Series:
    text = _as_text(series)
    text = text.mask(text.isin(MISSING_MARKERS))
    if text.isna().any():
        idx = text.index[text.isna()]
        raise MissingValueError(
            f"{col!r} is missing in {describe_rows(idx)} (file "
            f"{describe_rows([file_row(i) for i in idx])}). Every row needs a county code.")
    text = text.str.replace(r"\.0+$", "", regex=True)
    bad = ~text.str.fullmatch(r"\d{1,12}")
    if bad.any():
        idx = text.index[bad]
        raise UnknownAdcodeError(
            f"{col!r} must hold numeric county codes (6-digit adcodes) but has "
            f"{', '.join(repr(v) for v in text[bad].unique()[:6])} in {describe_rows(idx)} "
            f"(file {describe_rows([file_row(i) for i in idx])}).")
    long12 = (text.str.len() == 12) & text.str.endswith("000000")
    if long12.any():
        report.ids_truncated = int(long12.sum())
        text = text.where(~long12, text.str[:6])
    short = text.str.len() < 6
    if short.any():
        report.ids_padded = int(short.sum())
        text = text.str.zfill(6)
    wrong = text.str.len() != 6
    if wrong.any():
        idx = text.index[wrong]
        raise UnknownAdcodeError(
            f"{col!r} must be 6-digit adcodes but has "
            f"{', '.join(repr(v) for v in text[wrong].unique()[:6])} in {describe_rows(idx)} "
            f"(file {describe_rows([file_row(i) for i in idx])}).")
    return text.astype("str")


def _clean_years(series: pd.Series, col: str, years, report: ReadReport, file_row) -> pd.Series:
    lo, hi = years if years is not None else (1949, _dt.date.today().year + 1)
    text = _as_text(series)
    text = text.str.replace(r"年$", "", regex=True)  # 2015年
    num = pd.to_numeric(text, errors="coerce")
    bad = num.isna() | (num % 1 != 0)
    if bad.any():
        idx = text.index[bad]
        raise YearRangeError(
            f"{col!r} must be whole years but has "
            f"{', '.join(repr(v) for v in text[bad].unique()[:6])} in {describe_rows(idx)} "
            f"(file {describe_rows([file_row(i) for i in idx])}).")
    out = (num < lo) | (num > hi)
    if out.any():
        idx = text.index[out]
        raise YearRangeError(
            f"{col!r} has years outside {lo}-{hi}: "
            f"{', '.join(str(int(v)) for v in num[out].unique()[:6])} in {describe_rows(idx)} "
            f"(file {describe_rows([file_row(i) for i in idx])}). Fix them or pass years=(lo, hi).")
    return num.astype(int)


def _check_adcodes(ids: pd.Series, col: str, report: ReadReport, recode: bool, unknown: str,
                   file_row) -> pd.Series:
    from .datasets import load_counties

    known = set(load_counties()["adcode"])
    changes = adcode_changes()
    change_map = dict(zip(changes["old_adcode"], changes["new_adcode"]))
    notes = {r.old_adcode: f"{r.old_adcode} {r.old_name} -> {r.new_adcode} {r.new_name} "
                           f"({r.year} {r.note})" for r in changes.itertuples()}
    if recode:
        hit = ids.isin(list(change_map))
        if hit.any():
            report.recoded_adcodes = {o: change_map[o] for o in ids[hit].unique()}
            ids = ids.where(~hit, ids.map(change_map))
    missing = ~ids.isin(known)
    if not missing.any():
        return ids
    codes = list(pd.unique(ids[missing]))
    if unknown == "keep":
        report.unknown_adcodes = codes
        return ids
    idx = ids.index[missing]
    hints = [notes[c] for c in codes if c in notes]
    hint = (" Known code changes: " + "; ".join(hints)
            + ". Pass recode_adcodes=True to apply them.") if hints else ""
    from .codes import lineage

    lin = lineage()
    older = [c for c in codes if lin.valid_years(c)]
    if older:
        ex = []
        for c in older[:4]:
            last = lin.valid_years(c)[-1]
            t = lin.target(c, last)
            ex.append(f"{c} {lin.name(c, last)} (valid {lin.valid_years(c)[0]}-{last}"
                      + (f" -> {'+'.join(t.frame)}" if t.frame else "") + ")")
        hint = (f" {len(older)} of them are codes of earlier years, e.g. " + "; ".join(ex)
                + ". Pass harmonize=True (and code_year= if the whole file uses one year's codes) to put them "
                  "on the frame with a report of every change.")
    raise UnknownAdcodeError(
        f"{col!r} has codes that are not in the county frame (data/counties.csv, current codes "
        f"of 2,851 mainland county-level units): {', '.join(codes[:8])}"
        f"{' and more' if len(codes) > 8 else ''} in {describe_rows(idx)} (file "
        f"{describe_rows([file_row(i) for i in idx])}).{hint} Codes change when counties become "
        "districts or cities (撤县设区/设市); use current codes, or unknown_adcodes='keep'.")


# ---------------------------------------------------------------------------------------------
# panel helpers
# ---------------------------------------------------------------------------------------------

def _need_columns(df: pd.DataFrame, cols, what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ColumnError(f"{what}: columns {missing} are not in the frame "
                          f"(it has {list(df.columns)[:15]}...).")


def _check_keys(df: pd.DataFrame, entity: str, time: str) -> None:
    _need_columns(df, [entity, time], "panel keys")
    nk = df[[entity, time]].isna().any(axis=1)
    if nk.any():
        raise MissingValueError(f"missing {entity}/{time} in {describe_rows(df.index[nk])}.")
    dup = df.duplicated([entity, time], keep=False)
    if dup.any():
        keys = df.loc[dup, [entity, time]].drop_duplicates().head(6)
        raise DuplicateKeyError(
            f"({entity}, {time}) must be unique; repeated keys "
            + ", ".join(f"({e}, {t})" for e, t in keys.itertuples(index=False))
            + f" in {describe_rows(df.index[dup])}.")


def check_panel(df: pd.DataFrame, entity: str = "county", time: str = "year") -> dict:
    """Check that (entity, time) keys are present and unique; summarise the balance.

    Like Stata ``xtset`` + ``xtdescribe``.

    Returns
    -------
    dict
        ``n_obs``, ``n_units``, ``n_periods``, ``first``, ``last``, ``balanced`` (every unit
        observed in every period of the panel), ``n_incomplete`` (units missing some period),
        ``obs_per_unit`` (min, median, max) and ``gaps`` (units with a hole between their first
        and last year).
    """
    _check_keys(df, entity, time)
    periods = np.sort(df[time].unique())
    counts = df.groupby(entity, sort=False)[time].agg(["size", "min", "max"])
    span = counts["max"] - counts["min"] + 1
    if pd.api.types.is_integer_dtype(df[time]):
        gaps = int((counts["size"] < span).sum())
    else:
        gaps = 0
    return {
        "n_obs": int(len(df)),
        "n_units": int(len(counts)),
        "n_periods": int(len(periods)),
        "first": periods[0].item() if len(periods) else None,
        "last": periods[-1].item() if len(periods) else None,
        "balanced": bool((counts["size"] == len(periods)).all()),
        "n_incomplete": int((counts["size"] < len(periods)).sum()),
        "obs_per_unit": (int(counts["size"].min()), float(counts["size"].median()),
                         int(counts["size"].max())) if len(counts) else (0, 0.0, 0),
        "gaps": gaps,
    }


def balance(df: pd.DataFrame, entity: str = "county", time: str = "year", periods=None,
            action: str = "report"):
    """Which units are incomplete, and optionally balance the panel.

    Parameters
    ----------
    periods : sequence, optional
        The periods every unit should have (default: all periods present in ``df``).
    action : {"report", "drop", "fill"}
        ``"report"`` returns a DataFrame of the incomplete units (``entity``, ``n_periods``,
        ``missing_periods``, ``first``, ``last``); ``"drop"`` returns the panel without them and
        ``"fill"`` returns the full unit x period grid with NaN rows added. For ``drop`` and
        ``fill`` the report is in ``result.attrs["balance_report"]`` (list of records) and the row
        accounting in
        ``result.attrs["rows"]`` (:class:`~analysis.results.RowReport`).
    """
    check_choice("action", action, ("report", "drop", "fill"))
    _check_keys(df, entity, time)
    periods = np.sort(pd.unique(df[time])) if periods is None else np.sort(np.asarray(periods))
    pset = set(periods.tolist())
    rows = []
    for unit, t in df.groupby(entity, sort=True)[time]:
        have = set(t.tolist())
        miss = sorted(pset - have)
        if miss:
            rows.append({entity: unit, "n_periods": len(have & pset),
                         "missing_periods": ", ".join(str(m) for m in miss),
                         "first": min(have), "last": max(have)})
    rep = pd.DataFrame(rows, columns=[entity, "n_periods", "missing_periods", "first", "last"])
    if action == "report":
        return rep
    if action == "drop":
        bad = df[entity].isin(rep[entity]) | ~df[time].isin(periods)
        out = df.loc[~bad].reset_index(drop=True)
        out.attrs["rows"] = RowReport(len(df), len(out), {
            "unit not observed in every period": int(df[entity].isin(rep[entity]).sum()),
            "period outside the requested periods": int((bad & ~df[entity].isin(rep[entity]))
                                                        .sum())})
    else:
        grid = pd.MultiIndex.from_product([pd.unique(df[entity]), periods],
                                          names=[entity, time]).to_frame(index=False)
        out = grid.merge(df, on=[entity, time], how="left", validate="one_to_one")
        extra = int((~df[time].isin(periods)).sum())
        if extra:
            out = pd.concat([out, df[~df[time].isin(periods)]], ignore_index=True)
        out = out.sort_values([entity, time], kind="stable").reset_index(drop=True)
        out.attrs["rows"] = RowReport(len(df), len(df))
        out.attrs["rows_added"] = int(len(out) - len(df))
    out.attrs["balance_report"] = rep.to_dict("records")
    return out


def interpolate(df: pd.DataFrame, columns, entity: str = "county", time: str = "year",
                extrapolate: str = "carry") -> pd.DataFrame:
    """Fill missing cells by linear interpolation in time within each county.

    Like Stata ``ipolate y year, by(county) epolate`` but with the edge values carried (not
    extrapolated linearly) before the first and after the last observed year, as is usual for
    yearbook gaps. Interpolation is on the year *values*, so uneven spacing is respected.
    Non-missing cells are never changed; counties where a column is entirely missing stay missing.

    Parameters
    ----------
    columns : str or list of str
    extrapolate : {"carry", "none"}
        ``"carry"`` carries the first/last observed value to the edges; ``"none"`` fills only
        interior gaps.

    Returns
    -------
    DataFrame
        A copy; ``attrs["interpolate_report"]`` is a dict ``{column: {"missing", "interior",
        "edge", "still_missing"}}``: the cells that were missing, filled between observations,
        filled at the edges and left missing (counties with no observation of the column).
        ``pd.DataFrame(out.attrs["interpolate_report"]).T`` shows it as a table. (Reports are
        plain dicts because pandas compares ``attrs`` when concatenating.)
    """
    check_choice("extrapolate", extrapolate, ("carry", "none"))
    columns = [columns] if isinstance(columns, str) else list(columns)
    _need_columns(df, columns, "interpolate")
    _check_keys(df, entity, time)
    out = df.copy()
    # vectorized over counties: sort once, then the previous and next observed value (and year)
    # of every cell within its county come from grouped forward/backward fills
    order = np.lexsort((pd.to_numeric(out[time]).to_numpy(dtype=float), pd.factorize(out[entity])[0]))
    key = pd.Series(pd.factorize(out[entity])[0][order])
    t_sorted = pd.to_numeric(out[time]).to_numpy(dtype=float)[order]
    stats: dict[str, dict[str, int]] = {}
    for col in columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            raise NonNumericError(f"interpolate: column {col!r} is not numeric "
                                  f"(dtype {out[col].dtype}).")
        y = out[col].to_numpy(dtype=float, na_value=np.nan)[order]
        miss = np.isnan(y)
        t_obs = pd.Series(np.where(miss, np.nan, t_sorted))
        y_obs = pd.Series(y)
        prev_y = y_obs.groupby(key).ffill().to_numpy()
        prev_t = t_obs.groupby(key).ffill().to_numpy()
        next_y = y_obs.groupby(key).bfill().to_numpy()
        next_t = t_obs.groupby(key).bfill().to_numpy()
        inside = miss & ~np.isnan(prev_y) & ~np.isnan(next_y)
        with np.errstate(invalid="ignore", divide="ignore"):
            linear = prev_y + (t_sorted - prev_t) * (next_y - prev_y) / (next_t - prev_t)
        filled = np.where(inside, linear, y)
        at_edge = miss & ~inside & (~np.isnan(prev_y) | ~np.isnan(next_y))
        if extrapolate == "carry":
            filled = np.where(at_edge & np.isnan(prev_y), next_y, filled)
            filled = np.where(at_edge & np.isnan(next_y), prev_y, filled)
        result = np.empty_like(filled)
        result[order] = filled
        out[col] = result
        stats[col] = {"missing": int(miss.sum()), "interior": int(inside.sum()),
                      "edge": int(at_edge.sum()) if extrapolate == "carry" else 0,
                      "still_missing": int(np.isnan(result).sum())}
    out.attrs["interpolate_report"] = stats
    return out


def winsorize(df: pd.DataFrame, columns, limits=(0.01, 0.99), by=None) -> pd.DataFrame:
    """Clip columns at their quantiles (Stata ``winsor2 ..., cuts(1 99)``).

    Parameters
    ----------
    columns : str or list of str
    limits : (float, float)
        Lower and upper quantiles in [0, 1] (``None`` for one side); default 1% and 99%.
    by : str or list of str, optional
        Winsorize within groups (e.g. ``"year"``), like ``winsor2 ..., by(year)``.

    Returns
    -------
    DataFrame
        A copy; missing cells stay missing. ``attrs["winsorize_report"]`` is a dict
        ``{column: {"clipped_low", "clipped_high"}}`` counting the cells clipped at each end. The transform is monotone: it never reverses the order of two
        values within a group.
    """
    columns = [columns] if isinstance(columns, str) else list(columns)
    _need_columns(df, columns + ([by] if isinstance(by, str) else list(by or [])), "winsorize")
    lo, hi = limits
    for q in (lo, hi):
        if q is not None and not 0 <= q <= 1:
            raise SpecificationError(f"limits={limits!r}: quantiles must be in [0, 1].")
    if lo is not None and hi is not None and lo > hi:
        raise SpecificationError(f"limits={limits!r}: the lower quantile exceeds the upper.")
    out = df.copy()
    stats: dict[str, dict[str, int]] = {}
    for col in columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            raise NonNumericError(f"winsorize: column {col!r} is not numeric "
                                  f"(dtype {out[col].dtype}).")
        x = out[col].astype(float)
        if by is None:
            qlo = x.quantile(lo) if lo is not None else -np.inf
            qhi = x.quantile(hi) if hi is not None else np.inf
        else:
            g = x.groupby([out[b] for b in ([by] if isinstance(by, str) else by)])
            qlo = g.transform(lambda s: s.quantile(lo)) if lo is not None else -np.inf
            qhi = g.transform(lambda s: s.quantile(hi)) if hi is not None else np.inf
        clipped = x.clip(lower=qlo, upper=qhi)
        stats[col] = {"clipped_low": int((x < qlo).sum()), "clipped_high": int((x > qhi).sum())}
        out[col] = clipped
    out.attrs["winsorize_report"] = stats
    return out


def add_lags(df: pd.DataFrame, columns, lags=1, entity: str = "county", time: str = "year",
             suffix: str = "_lag{k}") -> pd.DataFrame:
    """Add lagged columns by time *value* within each county (Stata ``L.x`` after ``xtset``).

    A lag is missing where the earlier year is not in the panel (gaps are not bridged).

    Parameters
    ----------
    columns : str or list of str
    lags : int or sequence of int
        Positive integers are lags, negative ones leads.
    suffix : str
        Name pattern, ``{k}`` is the lag (default ``x_lag1``; leads are ``x_lead1``).

    Returns
    -------
    DataFrame
        A copy with the new columns, rows in the original order.
    """
    columns = [columns] if isinstance(columns, str) else list(columns)
    lags = [lags] if isinstance(lags, (int, np.integer)) else list(lags)
    _need_columns(df, columns, "add_lags")
    _check_keys(df, entity, time)
    if any(int(k) != k or k == 0 for k in lags):
        raise SpecificationError(f"lags={lags!r}: use non-zero integers.")
    out = df.copy()
    base = df[[entity, time] + columns]
    for k in lags:
        k = int(k)
        shifted = base.copy()
        shifted[time] = shifted[time] + k
        name = (lambda c: f"{c}{suffix.format(k=k)}") if k > 0 else (
            lambda c: f"{c}_lead{-k}")
        shifted = shifted.rename(columns={c: name(c) for c in columns})
        clash = [name(c) for c in columns if name(c) in out.columns]
        if clash:
            raise ColumnError(f"add_lags would overwrite existing columns {clash}.")
        merged = out[[entity, time]].merge(shifted, on=[entity, time], how="left",
                                           validate="one_to_one")
        for c in columns:
            out[name(c)] = merged[name(c)].to_numpy()
    return out


# ---------------------------------------------------------------------------------------------
# template
# ---------------------------------------------------------------------------------------------

def write_template(folder=None) -> list[Path]:
    """Write ``county_panel_template.xlsx`` and ``.csv`` (canonical columns, two header rows).

    Row 1 is the header (canonical English names, what :func:`read_panel` uses); row 2 holds the
    Chinese yearbook labels (from ``column_mapping.csv``), which :func:`read_panel` recognises
    and skips. Two example rows follow (大兴区 2015-2016, values are placeholders, delete them).
    The Excel file has a second sheet ``说明 notes`` with unit and description of every column.
    """
    folder = Path(folder) if folder is not None else _TEMPLATES
    folder.mkdir(parents=True, exist_ok=True)
    table = column_mapping()
    zh, en = {}, {}
    for canonical in CANONICAL_COLUMNS:
        rows = table[(table["canonical"] == canonical) & (table["scale"] == 1.0)]
        chinese = [s for s in rows["source_name"] if re.search(r"[\u4e00-\u9fff]", s)]
        english = [s for s in rows["source_name"] if not re.search(r"[\u4e00-\u9fff]", s)
                   and s != canonical]
        zh[canonical] = chinese[0] if chinese else canonical
        en[canonical] = english[-1] if english else canonical
    cols = list(CANONICAL_COLUMNS)
    header_zh = pd.DataFrame([[zh[c] for c in cols]], columns=cols)
    example = pd.DataFrame({c: [""] * 2 for c in cols})
    example["county"] = ["110115", "110115"]
    example["year"] = ["2015", "2016"]
    example["name"] = "大兴区"
    example["prefecture"] = "北京市"
    example["province"] = "北京市"
    example["region"] = "east"
    example["county_type"] = "district"
    body = pd.concat([header_zh, example], ignore_index=True)
    csv_path = folder / "county_panel_template.csv"
    body.to_csv(csv_path, index=False, encoding="utf-8-sig")
    notes = pd.DataFrame({
        "column": cols, "中文名称": [zh[c] for c in cols], "english": [en[c] for c in cols],
        "kind": ["key" if c in ("county", "year") else "text" if c in TEXT_COLUMNS
                 else "number" for c in cols],
    })
    notes["说明 note"] = ""
    notes.loc[notes["column"] == "county", "说明 note"] = (
        "6位县级行政区划代码（文本，保留前导0） / 6-digit county adcode as text")
    xlsx_path = folder / "county_panel_template.xlsx"
    with pd.ExcelWriter(xlsx_path, engine="openpyxl") as xw:
        body.to_excel(xw, sheet_name="panel", index=False)
        notes.to_excel(xw, sheet_name="说明 notes", index=False)
        sheet = xw.sheets["panel"]
        sheet.freeze_panes = "C3"
        for cell in sheet["A"][1:]:
            cell.number_format = "@"
    return [xlsx_path, csv_path]
