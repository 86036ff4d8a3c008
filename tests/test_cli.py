"""The ``countyfusion`` command: template, index, did, reproduce, and its handling of bad input.

The command is driven with click's CliRunner on the shipped template and on a small panel cut from
the shipped SIMULATED county panel (the 33 land-reform pilots and 30 never-treated counties), and
every number it writes is compared with the library called directly (same data, same options).
"""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from analysis import cli, datasets
from analysis.coupling import coupling_coordination
from analysis.indicators import build_index
from analysis.panel import read_panel

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def small_panel(tmp_path_factory) -> Path:
    panel = datasets.load_county_panel()
    treated = sorted(panel.loc[panel["land_reform_year"].notna(), "county"].unique())
    never = np.random.default_rng(20261206).choice(
        sorted(panel.loc[panel["land_reform_year"].isna(), "county"].unique()), 30, replace=False)
    small = panel[panel["county"].isin([*treated, *never])]
    path = tmp_path_factory.mktemp("cli") / "small.xlsx"
    small.to_excel(path, index=False)
    return path


def _run(*args):
    result = CliRunner().invoke(cli.main, [str(a) for a in args], catch_exceptions=False)
    return result


def test_console_script_declared():
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["scripts"]["countyfusion"] == "analysis.cli:main"
    assert any(d.startswith("click") for d in meta["project"]["dependencies"])
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8").lower()
    assert "\nclick==" in lock


def test_help_runs_as_a_program():
    out = subprocess.run([sys.executable, "-m", "analysis.cli", "--help"], capture_output=True,
                         text=True, cwd=ROOT, check=False)
    assert out.returncode == 0
    for command in ("template", "index", "did", "reproduce"):
        assert command in out.stdout


def test_template_matches_library(tmp_path):
    from analysis.panel import write_template

    target = tmp_path / "sub" / "my.xlsx"
    result = _run("template", "-o", target)
    assert result.exit_code == 0, result.output
    lib_xlsx, _ = write_template(tmp_path / "lib")
    mine, lib = openpyxl.load_workbook(target), openpyxl.load_workbook(lib_xlsx)
    assert mine.sheetnames == lib.sheetnames == ["panel", "说明 notes"]
    rows = [[c.value for c in r] for r in mine["panel"].iter_rows()]
    assert rows == [[c.value for c in r] for r in lib["panel"].iter_rows()]
    assert rows[0][:2] == ["county", "year"]
    assert any("\u4e00" <= ch <= "\u9fff" for ch in str(rows[1]))  # the yearbook (Chinese) names
    assert target.with_suffix(".csv").exists()


def test_template_needs_xlsx(tmp_path):
    result = _run("template", "-o", tmp_path / "my.csv")
    assert result.exit_code == 2 and ".xlsx" in result.output


def test_index_on_shipped_template_is_a_clear_error(tmp_path):
    # the template's two example rows have no indicator values: the library's error, exit 2
    template = ROOT / "data" / "templates" / "county_panel_template.xlsx"
    result = _run("index", template, "-o", tmp_path / "r.xlsx", "--lang", "en")
    assert result.exit_code == 2
    assert "MissingValueError" in result.output and "urbanization_rate" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "r.xlsx").exists()


def test_index_missing_cells_hint(small_panel, tmp_path):
    result = _run("index", small_panel, "-o", tmp_path / "r.xlsx")
    assert result.exit_code == 2
    assert "--missing interpolate" in result.output and "Traceback" not in result.output


def test_index_workbook(small_panel, tmp_path):
    out = tmp_path / "result.xlsx"
    system = ROOT / "data" / "indicators" / "county_uri.yaml"
    result = _run("index", small_panel, "--system", system, "--missing", "interpolate",
                  "--lang", "en", "-o", out)
    assert result.exit_code == 0, result.output
    assert "[2/5] building the index" in result.output  # progress lines
    book = pd.read_excel(out, sheet_name=None, dtype={"county": str})
    assert list(book) == ["index", "coupling", "class_counts", "obstacles_top",
                          "obstacles_subsystem", "weights", "rows", "settings"]
    # the same numbers as the library called directly
    panel = read_panel(small_panel, columns="yearbook")
    ref = build_index(panel, str(system), missing="interpolate")
    got = book["index"]
    assert got["county"].tolist() == ref.keys["county"].tolist()
    np.testing.assert_allclose(got["score"], ref.score.to_numpy(), rtol=1e-12)  # Excel keeps doubles
    np.testing.assert_allclose(book["weights"]["weight"].sum(), 1.0, rtol=1e-12)
    np.testing.assert_allclose(book["weights"]["weight"], ref.weights["weight"], rtol=1e-12)
    cc = coupling_coordination(ref.U, model="wang", warn=False).frame
    np.testing.assert_allclose(book["coupling"]["D"], cc["D"].to_numpy(), rtol=1e-12)
    assert book["coupling"]["class_en"].tolist() == cc["class_en"].tolist()
    assert book["class_counts"]["county_years"].sum() == len(panel)
    top = book["obstacles_top"]
    assert set(top["rank"]) == {1, 2, 3}
    sub = book["obstacles_subsystem"].drop(columns=["county", "year"])
    np.testing.assert_allclose(sub.sum(axis=1), 1.0, atol=1e-9)  # shares sum to one per row
    rows = book["rows"].set_index("item")["value"]
    assert rows["rows in the file"] == rows["rows used"] == len(panel)


def test_index_chinese_sheets(small_panel, tmp_path):
    out = tmp_path / "zh.xlsx"
    result = _run("index", small_panel, "--missing", "interpolate", "--weights", "entropy+critic",
                  "-o", out)
    assert result.exit_code == 0, result.output
    names = openpyxl.load_workbook(out).sheetnames
    assert names[:2] == ["指数", "耦合协调"] and "权重" in names


def _docx_tables(path):
    import docx

    doc = docx.Document(path)
    return [[[c.text for c in row.cells] for row in t.rows] for t in doc.tables], doc


def test_did_word_tables(small_panel, tmp_path):
    out = tmp_path / "did.docx"
    result = _run("did", small_panel, "--policy", "land_reform", "--missing", "interpolate",
                  "--controls", "loans_gdp", "--lang", "en", "--digits", "7", "-o", out)
    assert result.exit_code == 0, result.output
    assert "treated counties: 33" in result.output
    tables, doc = _docx_tables(out)
    assert len(tables) == 3
    titles = [p.text for p in doc.paragraphs if p.text.startswith("Table")]
    assert titles[0].startswith("Table 1") and "Callaway" in titles[1] and "Event study" in titles[2]

    # independent: the library on the same panel
    from analysis.did import callaway_santanna, event_study
    from analysis.regression import fe

    panel = read_panel(small_panel, columns="yearbook")
    panel["index"] = build_index(panel, "county_uri", missing="interpolate").score
    panel["adopt"] = pd.to_numeric(panel["land_reform_year"])
    panel["D"] = ((panel["year"] >= panel["adopt"]) & panel["adopt"].notna()).astype(int)
    twfe = [fe("index ~ D", panel), fe("index ~ D + loans_gdp", panel)]
    row = next(r for r in tables[0] if r[0] == "policy × post")
    for cell, model in zip(row[1:], twfe):
        assert float(cell.rstrip("*")) == pytest.approx(round(model.params["D"], 7), abs=1e-12)
    cs = callaway_santanna(panel, "index", "adopt", controls=["loans_gdp"])
    att = cs.aggregate("simple").params["ATT"]
    row = next(r for r in tables[1] if r[0] == "ATT")
    assert float(row[1].rstrip("*")) == pytest.approx(round(att, 7), abs=1e-12)
    es = event_study(panel, "index", "adopt", leads=4, lags=4, controls=["loans_gdp"])
    row = next(r for r in tables[2] if r[0] == "event_time=0")
    assert float(row[1].rstrip("*")) == pytest.approx(round(es.params["event_time=0"], 7), abs=1e-12)
    # the Excel copy has the same three tables
    assert openpyxl.load_workbook(out.with_suffix(".xlsx")).sheetnames == ["Table 1", "Table 2",
                                                                          "Table 3"]


def test_did_policy_file(small_panel, tmp_path):
    panel = read_panel(small_panel, columns="yearbook")
    pol = panel.dropna(subset=["land_reform_year"]).groupby("county")["land_reform_year"].first()
    policy = tmp_path / "policy.csv"
    pol.rename("year").reset_index().to_csv(policy, index=False)
    out = tmp_path / "did.docx"
    result = _run("did", small_panel, "--policy-file", policy, "--outcome", "rural_income",
                  "--no-excel", "-o", out)
    assert result.exit_code == 0, result.output
    assert out.exists() and not out.with_suffix(".xlsx").exists()
    tables, _ = _docx_tables(out)
    assert len(tables) == 3


@pytest.mark.parametrize("args, needle", [
    (["--policy", "digital"], "'digital_year'"),
    (["--outcome", "nope"], "'nope'"),
    (["--controls", "loans_gdp,ghost"], "ghost"),
])
def test_did_bad_input_exits_2(small_panel, tmp_path, args, needle):
    result = _run("did", small_panel, "--missing", "interpolate", *args, "-o", tmp_path / "d.docx")
    assert result.exit_code == 2
    assert needle in result.output and "Traceback" not in result.output
    assert not (tmp_path / "d.docx").exists()


def test_bad_input_traceback_only_with_debug(small_panel, tmp_path):
    from analysis.errors import ColumnError

    with pytest.raises(ColumnError):
        CliRunner().invoke(cli.main, ["--debug", "did", str(small_panel), "--policy", "digital",
                                      "-o", str(tmp_path / "d.docx")], catch_exceptions=False)


def test_reproduce_passes_options(monkeypatch):
    from analysis import reproduce

    seen = {}

    def fake_main(argv=None):
        seen["argv"] = argv
        return 0

    monkeypatch.setattr(reproduce, "main", fake_main)
    result = _run("reproduce", "--fast", "--only", "00")
    assert result.exit_code == 0
    assert seen["argv"] == ["-p", "fast", "True", "--only", "00"]
    monkeypatch.setattr(reproduce, "main", lambda argv=None: 1)
    assert _run("reproduce").exit_code == 1  # a failed reproduction is a failure of the command
