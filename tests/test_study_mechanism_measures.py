"""The yearbook measures of the seed mechanisms (data/indicators/mechanism_measures.csv).

Every measure notebook 09 uses must be readable from a user's Chinese-headed yearbook file: its
Chinese name maps to its column through data/templates/column_mapping.csv, and read_panel renames it.
Census availability claimed in the table must match the shipped census file.
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from analysis import datasets
from analysis.panel import map_columns, read_panel

ROOT = Path(__file__).resolve().parents[1]
TABLE = pd.read_csv(ROOT / "data" / "indicators" / "mechanism_measures.csv", keep_default_na=False)
NB09 = ROOT / "notebooks" / "09_seed_mechanisms.ipynb"

#: the measure columns notebook 09 reads from the panel (its sections' `columns=` and mediators)
NB09_MEASURES = ["integration_score", "urbanization_rate", "migrant_share", "hukou_urbanization", "agri_loans_gdp",
                 "land_transfer_rate", "agro_processing_ratio", "arable_pc", "gov_online_rate", "county_seat_pop_share"]


def _notebook_code() -> str:
    nb = json.loads(NB09.read_text(encoding="utf-8"))
    return "\n".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


def test_table_layout():
    assert list(TABLE.columns) == ["hypothesis", "measure_zh", "measure_en", "unit", "source_yearbook", "column",
                                   "in_notebook_09", "census", "census_column", "census_years", "note"]
    assert set(TABLE["hypothesis"].str.split().str[0]) == {"H1", "H2", "H3", "H4", "H5", "H6"}
    assert TABLE["column"].is_unique and TABLE["measure_zh"].is_unique
    assert (TABLE[["measure_zh", "measure_en", "unit", "source_yearbook", "column"]] != "").all().all()
    assert set(TABLE["census"]) <= {"yes", "no", "2010 only", "2020 only (partial)"}


def test_every_measure_maps_from_its_chinese_name():
    found, missing = map_columns(list(TABLE["measure_zh"]))
    assert not missing, f"not in data/templates/column_mapping.csv: {missing}"
    wrong = {zh: found[zh][0] for zh, col in zip(TABLE["measure_zh"], TABLE["column"]) if found[zh][0] != col}
    assert not wrong, wrong


def test_notebook_09_measures_are_in_the_table_and_used():
    code = _notebook_code()
    flagged = set(TABLE.loc[TABLE["in_notebook_09"] == 1, "column"])
    assert flagged == set(NB09_MEASURES)
    for col in NB09_MEASURES:
        assert f'"{col}"' in code, f"{col} is flagged as a notebook 09 measure but the notebook does not use it"


def test_read_panel_maps_a_chinese_headed_file(tmp_path):
    """A yearbook-style CSV with the Chinese headers of notebook 09's measures comes back with the
    notebook's column names and the values unchanged."""
    rows = TABLE[TABLE["in_notebook_09"] == 1]
    counties = datasets.load_counties()["adcode"].astype(str).str.zfill(6).iloc[:3].tolist()
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"行政区划代码": np.repeat(counties, 2), "年份": [2014, 2015] * 3})
    values = {}
    for zh, col in zip(rows["measure_zh"], rows["column"]):
        values[col] = rng.uniform(1, 50, len(frame)).round(3)
        frame[zh] = values[col]
    path = tmp_path / "yearbook.csv"
    frame.to_csv(path, index=False, encoding="utf-8-sig")
    panel = read_panel(path, columns="yearbook")
    assert not panel.attrs["read_report"].unmapped
    for col, v in values.items():
        assert col in panel.columns, (col, list(panel.columns))
        np.testing.assert_allclose(panel[col].to_numpy(), v, rtol=1e-12)


def test_census_claims_match_the_census_file():
    census = datasets.load_census()
    for _, r in TABLE.iterrows():
        if r["census"] == "no":
            assert r["census_column"] == "" and r["census_years"] == "", r["column"]
            continue
        col = r["census_column"]
        assert col in census.columns, col
        years = sorted(int(y) for y in r["census_years"].split())
        have = sorted(int(y) for y, n in census.groupby("year")[col].count().items() if n > 0)
        assert have == years, (col, have, years)


def test_table_is_documented():
    readme = (ROOT / "data" / "README.md").read_text(encoding="utf-8")
    assert "indicators/mechanism_measures.csv" in readme
    assert "mechanism_measures.csv" in (ROOT / "README.md").read_text(encoding="utf-8")
