"""Reading a user's county panel: :func:`read_panel` and its report."""
from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import (
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
from ..results import RowReport
from .io import apply_units, check_title_row, excel_cell_audit, excel_error_lines, read_raw, uncached_error
from .io import check_units as panel_io_check_units
from .schema import (
    _FORMATS,
    MISSING_MARKERS,
    NUMERIC_COLUMNS,
    TEXT_COLUMNS,
    _norm,
    _split_unit,
    adcode_changes,
    map_columns,
)


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
# reading
# ---------------------------------------------------------------------------------------------

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
    units: dict | None = None,
    check_units: bool = True,
    **read_kwargs,
) -> pd.DataFrame:
    """Read a county-year panel from CSV, Excel (.xlsx), Stata (.dta) or Parquet and validate it.

    Long because its steps (names, label row, keys, types, adcodes, duplicates) write into one row report and
    one list of notes; each step is a marked block.

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

    units : dict, optional
        Units of value columns whose header gives none or the wrong one, by file header or canonical
        name, e.g. ``{"地区生产总值": "亿元", "常住人口城镇化率": "0-1"}``; values are converted to the
        package's unit (GDP in 万元, per-capita values in 元, population in 万人, rates in %).
    check_units : bool
        Raise :class:`ScaleError` when a column's numbers do not fit its unit (a county GDP median
        below 1 亿 in 万元, a percentage column entirely within [0, 1], ...). Default True.
    **read_kwargs
        Passed to the reader, e.g. ``header=1`` when a title row sits above the header (row numbers
        in messages then count from the real sheet row).

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

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from analysis.panel import read_panel
    >>> raw = pd.DataFrame({"行政区划代码": ["110101", "110101", "110102"],
    ...                     "year": [2015, 2016, 2015],
    ...                     "人均地区生产总值(万元)": [1.5, 1.6, 2.0]})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     path = os.path.join(folder, "panel.csv")
    ...     raw.to_csv(path, index=False)
    ...     panel = read_panel(path, columns="yearbook")
    >>> panel.columns.tolist()
    ['county', 'year', 'gdp_pc']
    >>> panel["gdp_pc"].tolist()  # 万元 rescaled to 元
    [15000.0, 16000.0, 20000.0]
    >>> panel.attrs["read_report"].scaled
    {'gdp_pc': 10000.0}
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
    header = read_kwargs.get("header", 0)
    header = header if isinstance(header, int) else 0
    raw = read_raw(path, fmt, sheet_name, **read_kwargs)
    if fmt in ("csv", "excel"):
        check_title_row(raw, header)
    raw.columns = [str(c).replace("\ufeff", "").strip() for c in raw.columns]
    n_input = len(raw)
    report = ReadReport(path=str(path), format=fmt, rows=RowReport(n_input, n_input))
    file_row = _file_row_fn(fmt, header + 1)
    excel_errors: dict = {}
    if fmt == "excel":
        excel_errors, uncached = excel_cell_audit(path, sheet_name, header, list(raw.columns))
        uncached_error(uncached, path)

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
    converted = apply_units(df, units or {}, rename)
    report.scaled = {**scales, **converted}
    if check_units:
        header_units = {}
        if columns == "yearbook":
            header_units = {rename[h]: _split_unit(_norm(h))[1] for h in rename if rename[h] in df}
        given = {rename.get(k, k) for k in (units or {})}
        report.notes += panel_io_check_units(df, header_units, given)
    report.notes += excel_error_lines({rename.get(c, c): v for c, v in excel_errors.items()})
    report.missing_cells = {c: int(n) for c, n in df.isna().sum().items() if n}

    # ---- adcodes --------------------------------------------------------------------------------
    harmonized = None
    if harmonize:
        from ..codes import harmonize_codes

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
    from ..codes import match_names

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
    from ..datasets import load_counties

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
    from ..codes import lineage

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
