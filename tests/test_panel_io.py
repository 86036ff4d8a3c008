"""read_panel on files as users have them: Excel errors, uncached formulas, encodings, title rows, units.

Each case failed quietly before (NaN with "none dropped", a unit assumed without a word, a crash).
"""
from __future__ import annotations

import openpyxl
import pandas as pd
import pytest

from analysis.errors import ColumnError, MissingValueError, ScaleError, SpecificationError
from analysis.panel import read_panel, winsorize

CODES = ["110101", "110102", "110105", "110106", "110107", "110108"]


def _book(path, rows, header=("行政区划代码", "年份", "地区生产总值(万元)", "常住人口城镇化率(%)"), title=None):
    wb = openpyxl.Workbook()
    ws = wb.active
    if title:
        ws.append([title])
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(header))
    ws.append(list(header))
    for r in rows:
        ws.append(list(r))
    wb.save(path)
    return path


def _rows(gdp=(1.2e6, 2.3e6, 3.1e6, 4.0e6, 5.5e6, 6.1e6), urb=(55.0, 60.0, 65.0, 70.0, 75.0, 80.0)):
    return [(c, 2020, g, u) for c, g, u in zip(CODES, gdp, urb)]


def test_excel_error_cells_are_counted_in_the_report(tmp_path):
    rows = _rows()
    rows[1] = (rows[1][0], 2020, "#DIV/0!", rows[1][3])
    rows[2] = (rows[2][0], 2020, "#REF!", rows[2][3])
    df = read_panel(_book(tmp_path / "e.xlsx", rows), columns="yearbook")
    assert df["gdp"].isna().sum() == 2
    text = str(df.attrs["read_report"])
    assert "Excel error cells read as missing: gdp: 2" in text and "#DIV/0! x1" in text and "#REF! x1" in text


def test_formulas_without_saved_values_are_an_error_naming_the_sheet_rows(tmp_path):
    rows = _rows()
    rows[3] = (rows[3][0], 2020, "=C2*2", rows[3][3])
    with pytest.raises(MissingValueError, match=r"formula cells with no saved value \(地区生产总值\(万元\): sheet rows 5\)"):
        read_panel(_book(tmp_path / "f.xlsx", rows), columns="yearbook")


def test_empty_csv_and_utf16_export(tmp_path):
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(SpecificationError, match="empty"):
        read_panel(tmp_path / "empty.csv")
    frame = pd.DataFrame(_rows(), columns=["county", "year", "gdp", "urbanization_rate"])
    (tmp_path / "u16.txt").write_text(frame.to_csv(sep="\t", index=False), encoding="utf-16")
    df = read_panel(tmp_path / "u16.txt")
    assert df["county"].tolist() == CODES and df["gdp"].iloc[0] == 1.2e6


def test_title_row_above_the_header(tmp_path):
    path = _book(tmp_path / "t.xlsx", _rows(), title="2020年各县主要指标")
    with pytest.raises(ColumnError, match="title row.*header=1"):
        read_panel(path, columns="yearbook")
    rows = _rows()
    rows[4] = (rows[4][0], 2020, "12,3x4", rows[4][3])
    path = _book(tmp_path / "t2.xlsx", rows, title="2020年各县主要指标")
    with pytest.raises(ValueError, match=r"file row 7"):  # title row 1, header row 2, data from row 3
        read_panel(path, columns="yearbook", header=1)


def test_gdp_in_yi_yuan_under_a_header_without_unit(tmp_path):
    rows = _rows(gdp=(120.0, 230.0, 310.0, 400.0, 550.0, 610.0))  # 亿元
    head = ("行政区划代码", "年份", "地区生产总值", "常住人口城镇化率(%)")
    path = _book(tmp_path / "g.xlsx", rows, header=head)
    with pytest.raises(ScaleError, match=r"'gdp'.*looks like 亿元.*units="):
        read_panel(path, columns="yearbook")
    df = read_panel(path, columns="yearbook", units={"地区生产总值": "亿元"})
    assert df["gdp"].tolist() == pytest.approx([1.2e6, 2.3e6, 3.1e6, 4.0e6, 5.5e6, 6.1e6], rel=1e-12)
    assert "gdp x 10000" in str(df.attrs["read_report"])


def test_rate_given_as_share_and_assumed_units_are_stated(tmp_path):
    rows = _rows(urb=(0.55, 0.60, 0.65, 0.70, 0.75, 0.80))
    head = ("行政区划代码", "年份", "地区生产总值", "常住人口城镇化率")
    path = _book(tmp_path / "r.xlsx", rows, header=head)
    with pytest.raises(ScaleError, match=r"'urbanization_rate'.*share.*'0-1'"):
        read_panel(path, columns="yearbook")
    df = read_panel(path, columns="yearbook", units={"常住人口城镇化率": "0-1"})
    assert df["urbanization_rate"].tolist() == pytest.approx([55, 60, 65, 70, 75, 80], rel=1e-12)
    assert "unit assumed for 'gdp': 万元" in str(df.attrs["read_report"])
    with pytest.raises(SpecificationError, match="convertible units"):
        read_panel(path, columns="yearbook", units={"常住人口城镇化率": "per mille"})


def test_winsorize_by_group_with_missing_group_names_the_rows():
    df = pd.DataFrame({"x": [1.0, 2.0, 3.0, 100.0], "g": ["a", "a", None, "b"]})
    with pytest.raises(MissingValueError, match="row 2"):
        winsorize(df, "x", by="g")
