"""Reading a yearbook file safely: encodings, empty files, title rows, Excel error cells and units.

Used by :func:`analysis.panel.read_panel`. Each check turns a quiet failure into a clear error or a
line in the read report:

- a 0-byte file and a UTF-16 export (Excel's "Unicode text") are recognised;
- a merged title row above the header (``2015年各县主要指标``) gives a header of ``Unnamed: k``
  columns: the error names the row that holds the real header and suggests ``header=``;
- Excel error cells (``#DIV/0!``, ``#REF!``, ``#VALUE!``, ``#NAME?``, ``#N/A``, ``#NUM!``,
  ``#NULL!``) are read as missing and counted per column in the report; formula cells with no
  saved value (files written by programs that do not compute formulas) are an error, since their
  values are unknown rather than missing;
- value columns whose numbers do not fit their unit (a GDP in 亿元 under a header without a unit, an
  urbanization rate given as a 0-1 share) are an error that names the column and the fix
  (``units=``), and every unit assumed for a header without one is stated.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

from ..errors import ColumnError, MissingValueError, ScaleError, SpecificationError, describe_rows

__all__ = ["read_raw", "excel_cell_audit", "check_title_row", "check_units", "apply_units", "UNIT_FACTORS",
           "PERCENT_COLUMNS"]

EXCEL_ERRORS = ("#DIV/0!", "#REF!", "#VALUE!", "#NAME?", "#N/A", "#NUM!", "#NULL!", "#SPILL!", "#CALC!")

#: Columns in percent (0-100) in the canonical schema.
PERCENT_COLUMNS = ("urbanization_rate", "nonfarm_emp_share", "pension_coverage", "builtup_share", "nonagri_share",
                   "forest_cover", "sewage_treatment", "sanitary_toilet", "land_transfer_rate")

#: canonical column -> {unit a file may use: factor to the canonical unit}
UNIT_FACTORS = {
    "gdp": {"万元": 1.0, "亿元": 1e4, "元": 1e-4},
    "gdp_pc": {"元": 1.0, "万元": 1e4},
    "rural_income": {"元": 1.0, "万元": 1e4},
    "fiscal_exp_pc": {"元": 1.0, "万元": 1e4},
    "ag_productivity": {"元": 1.0, "万元": 1e4},
    "population": {"万人": 1.0, "人": 1e-4},
    **{c: {"%": 1.0, "0-1": 100.0, "share": 100.0, "比例": 100.0} for c in PERCENT_COLUMNS},
}

#: canonical column -> (canonical unit, the unit that a median below ``low`` or above ``high`` suggests)
_PLAUSIBLE = {
    "gdp": ("万元", 1e4, "亿元", None, None),           # county GDP: 1e5-1e8 万元; below 1e4 it is 亿元
    "gdp_pc": ("元", 500.0, "万元", None, None),
    "rural_income": ("元", 200.0, "万元", None, None),
    "fiscal_exp_pc": ("元", 100.0, "万元", None, None),
    "population": ("万人", None, None, 1e4, "人"),       # counties have 1-400 万人; above 1e4 it is 人
}


def read_raw(path: Path, fmt: str, sheet_name, **kwargs) -> pd.DataFrame:
    """The file as text cells (CSV: UTF-8, GB18030 or UTF-16; Excel as objects)."""
    if path.stat().st_size == 0:
        raise SpecificationError(f"{path.name} is empty (0 bytes): export the sheet again.")
    if fmt == "csv":
        head = path.open("rb").read(4)
        if head[:2] in (b"\xff\xfe", b"\xfe\xff"):  # Excel "Unicode text" / UTF-16 export
            text = path.read_text(encoding="utf-16")
            sep = "\t" if text.split("\n", 1)[0].count("\t") > text.split("\n", 1)[0].count(",") else ","
            kwargs.setdefault("sep", sep)
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-16", **kwargs)
        try:
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig", **kwargs)
        except UnicodeDecodeError:  # Chinese Excel exports are often GBK
            return pd.read_csv(path, dtype=str, keep_default_na=False, encoding="gb18030", **kwargs)
        except pd.errors.EmptyDataError:
            raise SpecificationError(f"{path.name} has no header and no rows: export the sheet again.") from None
    if fmt == "excel":
        return pd.read_excel(path, sheet_name=sheet_name, dtype=object, keep_default_na=False, **kwargs)
    if fmt == "stata":
        return pd.read_stata(path, convert_categoricals=False, **kwargs)
    return pd.read_parquet(path, **kwargs)


def check_title_row(raw: pd.DataFrame, header: int) -> None:
    """Most header cells ``Unnamed: k``: a title row sits above the header. Name the header row."""
    unnamed = [c for c in raw.columns if str(c).startswith("Unnamed:")]
    if raw.shape[1] >= 3 and len(unnamed) >= 0.5 * raw.shape[1]:
        filled = raw.apply(lambda r: sum(isinstance(v, str) and v.strip() != "" or
                                         (not isinstance(v, str) and pd.notna(v)) for v in r), axis=1)
        full = filled[filled >= 0.8 * raw.shape[1]]
        guess = int(full.index[0]) + header + 1 if len(full) else None
        hint = (f" The first full row is sheet row {guess + 1}: pass header={guess} (0-based) to read_panel."
                if guess is not None else " Pass header= with the 0-based row number of the real header.")
        raise ColumnError(
            f"the header row has {len(unnamed)} empty cells of {raw.shape[1]} ({', '.join(map(str, raw.columns[:3]))} "
            f"...): the sheet seems to start with a title row (often merged across the columns).{hint}")


def excel_cell_audit(path: Path, sheet_name, header: int, columns: list[str]) -> tuple[dict, dict]:
    """Error cells and uncached formulas of an .xlsx sheet.

    Returns ``({column: {error text: count}}, {column: [sheet rows of formulas with no saved value]})``.
    """
    import openpyxl

    if path.suffix.lower() not in (".xlsx", ".xlsm"):
        return {}, {}
    wb_f = openpyxl.load_workbook(path, read_only=True, data_only=False)
    wb_v = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        name = wb_f.sheetnames[sheet_name] if isinstance(sheet_name, int) else sheet_name
        ws_f, ws_v = wb_f[name], wb_v[name]
        errors: dict[str, dict[str, int]] = {}
        uncached: dict[str, list[int]] = {}
        first = header + 2  # 1-based sheet row of the first data row
        rows_f = ws_f.iter_rows(min_row=first)
        rows_v = ws_v.iter_rows(min_row=first, values_only=True)
        for r, (cf, cv) in enumerate(zip(rows_f, rows_v), start=first):
            for j, cell in enumerate(cf[: len(columns)]):
                kind = getattr(cell, "data_type", None)
                if kind == "e" or (isinstance(cell.value, str) and cell.value in EXCEL_ERRORS):
                    errors.setdefault(columns[j], {}).setdefault(str(cell.value), 0)
                    errors[columns[j]][str(cell.value)] += 1
                elif kind == "f" and (j >= len(cv) or cv[j] is None):
                    uncached.setdefault(columns[j], []).append(r)
    finally:
        wb_f.close()
        wb_v.close()
    return errors, uncached


def check_units(df: pd.DataFrame, header_units: dict[str, str | None], given: dict[str, str]) -> list[str]:
    """Raise :class:`ScaleError` for value columns whose numbers do not fit their unit; return notes."""
    notes = []
    for col, (unit, low, low_unit, high, high_unit) in _PLAUSIBLE.items():
        if col not in df or col in given:
            continue
        x = pd.to_numeric(df[col], errors="coerce").dropna()
        if len(x) < 5:
            continue
        med = float(x.median())
        bad = (low is not None and 0 < med < low and low_unit) or (high is not None and med > high and high_unit)
        if bad:
            src = header_units.get(col)
            raise ScaleError(
                f"column {col!r} (file header {src or col!r}) has a median of {med:,.4g}, which is not plausible in "
                f"{unit}, the unit the package uses; it looks like {bad}. Pass units={{{col!r}: {bad!r}}} to "
                f"read_panel (the values are then converted to {unit}), or fix the header's unit.")
    for col in PERCENT_COLUMNS:
        if col not in df or col in given:
            continue
        x = pd.to_numeric(df[col], errors="coerce").dropna()
        if len(x) >= 5 and x.max() <= 1.0 and x.max() > 0:
            raise ScaleError(
                f"column {col!r} is a percentage (0-100) but all its values lie in [0, 1] (max {x.max():.4g}): it "
                f"looks like a share. Pass units={{{col!r}: '0-1'}} to read_panel to convert it to %, or check the "
                "column.")
    for col, unit in header_units.items():
        if unit is None and col in UNIT_FACTORS and col not in given:
            canon = next(k for k, v in UNIT_FACTORS[col].items() if v == 1.0)
            notes.append(f"unit assumed for {col!r}: {canon} (the header gives none; values checked for plausibility)")
    return notes


def apply_units(df: pd.DataFrame, units: dict[str, str], rename: dict[str, str]) -> dict[str, float]:
    """Convert the columns named in ``units`` (file header or canonical name) to the canonical unit."""
    done = {}
    for name, unit in (units or {}).items():
        col = rename.get(name, name)
        if col not in df:
            raise ColumnError(f"units= names {name!r}, which is not a column of the panel.")
        table = UNIT_FACTORS.get(col)
        if table is None or unit not in table:
            known = ", ".join(f"{c}: {sorted(t)}" for c, t in UNIT_FACTORS.items() if c == col) or \
                "gdp, gdp_pc, rural_income, fiscal_exp_pc, ag_productivity, population and percent columns"
            raise SpecificationError(f"units[{name!r}]={unit!r}: convertible units are {known}.")
        df[col] = df[col] * table[unit]
        done[col] = table[unit]
    return done


def check_group_keys(df: pd.DataFrame, by: list[str], what: str) -> None:
    """Rows whose group key is missing cannot be handled by a by-group operation: name them."""
    miss = df[by].isna().any(axis=1)
    if miss.any():
        raise MissingValueError(
            f"{what}: {int(miss.sum())} rows have a missing {by} ({describe_rows(df.index[miss])}); they would be "
            "left untouched. Fill the group column or drop those rows first.")


def excel_error_lines(errors: dict) -> list[str]:
    return ["Excel error cells read as missing: " + "; ".join(
        f"{c}: {sum(v.values())} ({', '.join(f'{k} x{n}' for k, n in v.items())})" for c, v in errors.items())] \
        if errors else []


def uncached_error(uncached: dict, path: Path) -> None:
    if uncached:
        parts = "; ".join(f"{c}: sheet rows {', '.join(map(str, rows[:6]))}{' ...' if len(rows) > 6 else ''}"
                          for c, rows in uncached.items())
        raise MissingValueError(
            f"{path.name} has formula cells with no saved value ({parts}): the program that wrote the file did not "
            "compute them, so their values are unknown. Open the file in Excel, WPS or LibreOffice and save it "
            "(values are then stored), or paste the values.")


__all__ += ["check_group_keys", "excel_error_lines", "uncached_error", "EXCEL_ERRORS"]
