"""The Excel and CSV templates for users' yearbook panels."""
from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from .schema import _TEMPLATES, CANONICAL_COLUMNS, TEXT_COLUMNS, column_mapping

# ---------------------------------------------------------------------------------------------
# template
# ---------------------------------------------------------------------------------------------

def write_template(folder=None) -> list[Path]:
    """Write ``county_panel_template.xlsx`` and ``.csv`` (canonical columns, two header rows).

    Row 1 is the header (canonical English names, what :func:`read_panel` uses); row 2 holds the
    Chinese yearbook labels (from ``column_mapping.csv``), which :func:`read_panel` recognises
    and skips. Two example rows follow (大兴区 2015-2016, values are placeholders, delete them).
    The Excel file has a second sheet ``说明 notes`` with unit and description of every column.

    Examples
    --------
    >>> import tempfile
    >>> from analysis.panel import read_panel, write_template
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     paths = write_template(folder)
    ...     panel = read_panel(paths[1])  # the CSV; its Chinese label row is skipped
    >>> [p.name for p in paths]
    ['county_panel_template.xlsx', 'county_panel_template.csv']
    >>> panel.shape, panel["county"].tolist()
    ((2, 39), ['110115', '110115'])
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
