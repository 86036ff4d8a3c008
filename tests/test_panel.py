"""analysis.panel: reading users' panels in four formats, validation errors, panel helpers."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import panel as P
from analysis.errors import (
    ColumnError,
    DuplicateKeyError,
    NonNumericError,
    SpecificationError,
)

CODES = ["110115", "120119", "330782", "469005", "650102"]  # real current adcodes


def small_panel(years=(2015, 2016, 2017)) -> pd.DataFrame:
    rng = np.random.default_rng(7)
    rows = [(c, y) for c in CODES for y in years]
    df = pd.DataFrame(rows, columns=["county", "year"])
    df["rural_income"] = rng.uniform(8000, 30000, len(df)).round(1)
    df["urbanization_rate"] = rng.uniform(20, 90, len(df)).round(2)
    df["name"] = "x"
    return df


def write(df: pd.DataFrame, path, fmt):
    if fmt == "csv":
        df.to_csv(path, index=False)
    elif fmt == "xlsx":
        df.to_excel(path, index=False)
    elif fmt == "dta":
        out = df.copy()
        out["county"] = out["county"].astype(int)  # Stata users store codes as numbers
        out.to_stata(path, write_index=False)
    else:
        df.to_parquet(path, index=False)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "dta", "parquet"])
def test_round_trip_four_formats(tmp_path, fmt):
    df = small_panel()
    path = tmp_path / f"panel.{fmt}"
    write(df, path, fmt)
    got = P.read_panel(path)
    assert got["county"].tolist() == sorted(df["county"].tolist())
    assert got["county"].map(type).eq(str).all()
    assert got["year"].dtype.kind == "i"
    exp = df.sort_values(["county", "year"]).reset_index(drop=True)
    np.testing.assert_allclose(got["rural_income"], exp["rural_income"])
    np.testing.assert_allclose(got["urbanization_rate"], exp["urbanization_rate"])
    rep = got.attrs["read_report"]
    assert rep.rows.n_input == rep.rows.n_used == len(df)


def test_zero_padding_and_12_digit_codes(tmp_path):
    df = pd.DataFrame({"county": ["10101", "010102", "110115000000"], "year": [2015] * 3,
                       "gdp_pc": [1, 2, 3]})
    path = tmp_path / "p.csv"
    df.to_csv(path, index=False)
    got = P.read_panel(path, check_adcodes=False)
    assert got["county"].tolist() == ["010101", "010102", "110115"]
    rep = got.attrs["read_report"]
    assert rep.ids_padded == 1 and rep.ids_truncated == 1


def test_yearbook_names_chinese_fullwidth_and_units(tmp_path):
    df = pd.DataFrame({
        "行政区划代码": ["110115", "110115"],
        "年份": ["2015年", "2016年"],
        "常住人口城镇化率（%）": ["65.1", "66.0"],
        "农村居民人均可支配收入(元)": ["22,310", "24,160"],
        "人均地区生产总值(万元)": [5.5, 6.0],
        "Urbanization Rate (%)x": [1, 2],  # not a known name: kept and reported
        "PM2.5浓度(μg/m³)": ["—", "40"],
    })
    path = tmp_path / "yearbook.csv"
    df.to_csv(path, index=False, encoding="gb18030")  # a GBK-style export
    got = P.read_panel(path, columns="yearbook")
    assert {"county", "year", "urbanization_rate", "rural_income", "gdp_pc", "pm25"} <= set(
        got.columns)
    assert got["year"].tolist() == [2015, 2016]
    assert got["rural_income"].tolist() == [22310.0, 24160.0]
    assert got["gdp_pc"].tolist() == [55000.0, 60000.0]  # 万元 -> 元
    assert np.isnan(got["pm25"].iloc[0])
    rep = got.attrs["read_report"]
    assert rep.scaled == {"gdp_pc": 10000.0}
    assert rep.missing_markers == {"pm25": 1}
    assert rep.thousands_separators == {"rural_income": 2}
    assert "Urbanization Rate (%)x" in rep.unmapped
    assert "常住人口城镇化率（%）" in rep.renamed


def test_english_yearbook_names(tmp_path):
    df = pd.DataFrame({"County": ["110115"], "Year": [2015],
                       "Rural per capita disposable income (yuan)": [20000],
                       "GDP per capita (yuan)": [80000]})
    path = tmp_path / "en.parquet"
    df.to_parquet(path)
    got = P.read_panel(path, columns="yearbook")
    assert {"county", "year", "rural_income", "gdp_pc"} == set(got.columns)


def test_dict_columns(tmp_path):
    df = pd.DataFrame({"id": [110115], "t": [2015], "y": [1.0]})
    path = tmp_path / "d.csv"
    df.to_csv(path, index=False)
    got = P.read_panel(path, columns={"id": "county", "t": "year"})
    assert got["county"].tolist() == ["110115"]
    with pytest.raises(ColumnError, match="not in the file"):
        P.read_panel(path, columns={"nope": "county"})


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_templates_read_back(fmt):
    got = P.read_panel(P._TEMPLATES / f"county_panel_template.{fmt}")
    assert list(got.columns) == list(P.CANONICAL_COLUMNS)
    assert got.attrs["read_report"].label_rows == [2]
    assert got.attrs["read_report"].rows.dropped == {"second header row (column labels)": 1}


def test_label_row_under_chinese_header(tmp_path):
    rows = [["行政区划代码", "年份", "农村居民人均可支配收入(元)"],
            ["county", "year", "rural_income"],
            ["110115", "2015", "20000"]]
    path = tmp_path / "zh.csv"
    pd.DataFrame(rows[1:], columns=rows[0]).to_csv(path, index=False)
    got = P.read_panel(path, columns="yearbook")
    assert got["rural_income"].tolist() == [20000.0]
    assert got.attrs["read_report"].label_rows == [2]


def test_duplicate_keys_named(tmp_path):
    df = small_panel()
    df = pd.concat([df, df.iloc[[4]]], ignore_index=True)
    path = tmp_path / "dup.csv"
    df.to_csv(path, index=False)
    with pytest.raises(DuplicateKeyError) as err:
        P.read_panel(path)
    msg = str(err.value)
    assert "(120119, 2016)" in msg and "rows 4, 15" in msg and "file rows 6, 17" in msg


def test_non_numeric_named(tmp_path):
    df = small_panel().astype({"rural_income": object})
    df.loc[3, "rural_income"] = "abc"
    df.loc[7, "rural_income"] = "12元"
    df.loc[8, "rural_income"] = "—"  # a yearbook dash is a missing value, not an error
    path = tmp_path / "bad.csv"
    df.to_csv(path, index=False)
    with pytest.raises(NonNumericError) as err:
        P.read_panel(path)
    msg = str(err.value)
    assert "'rural_income'" in msg and "rows 3, 7" in msg and "'abc'" in msg and "'12元'" in msg
    assert "file rows 5, 9" in msg


def test_non_numeric_extra_column(tmp_path):
    df = small_panel()
    df["score"] = ["1"] * 14 + ["n/a?"]
    path = tmp_path / "x.csv"
    df.to_csv(path, index=False)
    got = P.read_panel(path)  # unknown column: kept as text and reported
    assert "score" in got.attrs["read_report"].text_columns
    with pytest.raises(NonNumericError, match=r"'score'.*row 14"):
        P.read_panel(path, numeric=["score"])


def test_unknown_adcode_with_hint(tmp_path):
    df = small_panel()
    df.loc[df["county"] == "120119", "county"] = "120225"  # 蓟县's pre-2016 code
    df.loc[0, "county"] = "999999"
    df = df.drop_duplicates(["county", "year"])
    path = tmp_path / "old.csv"
    df.to_csv(path, index=False)
    with pytest.raises(P.UnknownAdcodeError) as err:
        P.read_panel(path)
    msg = str(err.value)
    assert "999999" in msg and "120225" in msg and "120119" in msg and "row" in msg
    assert "harmonize=True" in msg and "蓟县" in msg
    df2 = df[df["county"] != "999999"]
    df2.to_csv(path, index=False)
    got = P.read_panel(path, recode_adcodes=True)
    assert "120119" in set(got["county"])
    assert got.attrs["read_report"].recoded_adcodes == {"120225": "120119"}
    df.to_csv(path, index=False)
    kept = P.read_panel(path, unknown_adcodes="keep")
    assert set(kept.attrs["read_report"].unknown_adcodes) == {"999999", "120225"}


def test_bad_ids(tmp_path):
    df = small_panel()
    df["county"] = df["county"].astype(object)
    df.loc[2, "county"] = "11O115"
    path = tmp_path / "ids.csv"
    df.to_csv(path, index=False)
    with pytest.raises(P.UnknownAdcodeError, match=r"'11O115'.*row 2"):
        P.read_panel(path)


def test_years_out_of_range(tmp_path):
    df = small_panel()
    df.loc[5, "year"] = 2105
    path = tmp_path / "y.csv"
    df.to_csv(path, index=False)
    with pytest.raises(P.YearRangeError, match=r"2105.*row 5"):
        P.read_panel(path)
    df.loc[5, "year"] = 2018
    df.to_csv(path, index=False)
    with pytest.raises(P.YearRangeError, match="2010-2017"):
        P.read_panel(path, years=(2010, 2017))


def test_missing_key_column(tmp_path):
    path = tmp_path / "k.csv"
    small_panel().drop(columns="year").to_csv(path, index=False)
    with pytest.raises(ColumnError, match="'year'"):
        P.read_panel(path)


def test_unknown_format(tmp_path):
    path = tmp_path / "p.json"
    path.write_text("{}")
    with pytest.raises(SpecificationError, match=".json"):
        P.read_panel(path)


# ---- helpers ------------------------------------------------------------------------------------

def test_check_panel_and_balance():
    df = small_panel().drop(index=[1, 4, 5]).reset_index(drop=True)
    info = P.check_panel(df)
    assert info["n_units"] == 5 and info["n_periods"] == 3 and not info["balanced"]
    assert info["n_incomplete"] == 2 and info["gaps"] == 1
    rep = P.balance(df)
    assert rep["county"].tolist() == ["110115", "120119"]
    assert rep["missing_periods"].tolist() == ["2016", "2016, 2017"]
    dropped = P.balance(df, action="drop")
    assert set(dropped["county"]) == {"330782", "469005", "650102"}
    assert dropped.attrs["rows"].n_dropped == 3
    filled = P.balance(df, action="fill")
    assert len(filled) == 15 and filled.attrs["rows_added"] == 3
    with pytest.raises(DuplicateKeyError, match="110115, 2015"):
        P.check_panel(pd.concat([df, df.iloc[[0]]], ignore_index=True))


def test_interpolate_counts():
    df = pd.DataFrame({"county": ["a"] * 5 + ["b"] * 3, "year": [1, 2, 3, 5, 6, 1, 2, 3],
                       "x": [np.nan, 1.0, np.nan, 4.0, np.nan, np.nan, np.nan, np.nan]})
    out = P.interpolate(df, "x", entity="county", time="year")
    # linear in year values: year 3 lies between 2 (1.0) and 5 (4.0) -> 2.0
    assert out["x"].tolist()[:5] == [1.0, 1.0, 2.0, 4.0, 4.0]
    assert out["x"].iloc[5:].isna().all()
    rep = out.attrs["interpolate_report"]["x"]
    assert (rep["missing"], rep["interior"], rep["edge"], rep["still_missing"]) == (6, 1, 2, 3)
    assert pd.concat([out, out]).shape == (16, 3)  # reports in attrs must not break concat
    inner = P.interpolate(df, "x", extrapolate="none")
    assert np.isnan(inner["x"].iloc[0]) and inner["x"].iloc[2] == 2.0


def test_add_lags_respects_gaps():
    df = pd.DataFrame({"county": ["a", "a", "a", "b"], "year": [2015, 2016, 2018, 2016],
                       "x": [1.0, 2.0, 3.0, 9.0]})
    out = P.add_lags(df, "x", lags=[1, -1])
    lag = out["x_lag1"].to_numpy()
    assert np.isnan(lag[0]) and lag[1] == 1.0 and np.isnan(lag[2]) and np.isnan(lag[3])
    assert out["x_lead1"].iloc[0] == 2.0 and np.isnan(out["x_lead1"].iloc[1])
    with pytest.raises(ColumnError, match="overwrite"):
        P.add_lags(out, "x", lags=1)


def test_winsorize_basic_and_by():
    x = np.arange(1, 101, dtype=float)
    df = pd.DataFrame({"g": np.repeat([0, 1], 50), "x": x})
    out = P.winsorize(df, "x", limits=(0.05, 0.95))
    assert out["x"].min() == pytest.approx(np.quantile(x, 0.05))
    assert out["x"].max() == pytest.approx(np.quantile(x, 0.95))
    grouped = P.winsorize(df, "x", limits=(0.1, 0.9), by="g")
    assert grouped.loc[grouped.g == 1, "x"].min() == pytest.approx(np.quantile(x[50:], 0.1))
    with pytest.raises(SpecificationError):
        P.winsorize(df, "x", limits=(0.9, 0.1))


# ---- properties ------------------------------------------------------------------------------------

cells = st.one_of(st.none(), st.floats(-1e6, 1e6, allow_nan=False))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(cells, min_size=1, max_size=8), min_size=1, max_size=6))
def test_interpolate_never_changes_observed(units):
    rows = [(f"{u:06d}", 2000 + t, np.nan if v is None else v)
            for u, vals in enumerate(units) for t, v in enumerate(vals)]
    df = pd.DataFrame(rows, columns=["county", "year", "x"])
    out = P.interpolate(df, "x")
    seen = df["x"].notna()
    np.testing.assert_array_equal(out.loc[seen, "x"], df.loc[seen, "x"])
    # filled values stay within the unit's observed range; units with data have no gaps left
    for _, g in out.assign(orig=df["x"]).groupby("county"):
        if g["orig"].notna().any():
            assert g["x"].notna().all()
            assert g["x"].min() >= g["orig"].min() - 1e-9
            assert g["x"].max() <= g["orig"].max() + 1e-9
        else:
            assert g["x"].isna().all()
    rep = out.attrs["interpolate_report"]["x"]
    assert rep["missing"] == rep["interior"] + rep["edge"] + rep["still_missing"]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=2, max_size=60),
       st.floats(0, 0.5), st.floats(0.5, 1))
def test_winsorize_keeps_order(values, lo, hi):
    df = pd.DataFrame({"x": values})
    out = P.winsorize(df, "x", limits=(lo, hi))["x"].to_numpy()
    x = np.asarray(values)
    order = np.argsort(x, kind="stable")
    assert np.all(np.diff(out[order]) >= -1e-9)  # monotone: never reverses two values
    inside = (x >= np.quantile(x, lo)) & (x <= np.quantile(x, hi))
    np.testing.assert_array_equal(out[inside], x[inside])
