"""Notebooks on users' own panels, and their prose against their outputs (issues 14 and 18).

The matrix: every notebook in :data:`NOTEBOOKS` runs in fast mode (papermill) on each user-style panel
of ``tests/_user_panels.py`` (the shipped indicators without the simulated-only columns: as they are,
unbalanced, county-yearbook scope, names instead of codes, an .xlsx with Chinese headers, 2010-vintage
codes) and on a ``partial`` panel that lacks some indicators and has no policy list. Each run must finish
and write its CSV tables; on the full variants that is every table the notebook writes on the shipped data
(``results/expected``), on ``partial`` the sections without their inputs are recorded as skipped. The
main tables also go out as Word (three-line), Excel and LaTeX.

The prose check: on the shipped data, in Chinese and in English, no markdown cell of an executed notebook
may state a number that no output holds (:func:`_prose.assert_prose_matches_outputs`); the committed
notebooks' markdown states no result numbers at all, and their code names no simulated-only column.

To add a notebook to the matrix, add its number to :data:`NOTEBOOKS`.
"""
from __future__ import annotations

import dataclasses
import json
import re
from pathlib import Path

import _user_panels as up
import pandas as pd
import pytest
import yaml
from _prose import assert_prose_matches_outputs, stated_numbers

from analysis.reporting import project_root
from analysis.reproduce import run_notebook
from analysis.study import SIMULATED_ONLY_COLUMNS

#: Notebooks that run on users' panels and whose prose is rendered from numbers (must equal OWN_DATA_NOTEBOOKS
#: of tests/test_notebooks.py, which runs the others; 08 is the real census and
#: 90 the published replications: neither takes a user's panel).
NOTEBOOKS = ["00", "01", "02", "03", "04", "05", "06", "07", "09"]

#: Notebooks held to the strict checks on the full variants (no section skipped, every expected table
#: written). The others may skip sections a small user panel cannot carry (e.g. regional heterogeneity with
#: two treated counties, mechanisms without mediators in the study); each skip must show its sentence.
STRICT = {"00", "01", "02", "03", "06"}

#: Variants run for the notebooks outside the first three (the loading paths xlsx_zh and codes_2010 are
#: notebook-independent and run with 00-02), to keep the matrix within CI's time.
VARIANTS_LATER = ["stripped", "unbalanced", "county_yearbook", "names"]

#: User-style panels (tests/_user_panels.py) plus "partial": some indicators absent, no policy.
PANEL_VARIANTS = list(up.VARIANTS) + ["partial"]

#: What "partial" lacks: two ecology indicators and one economy indicator, and the policy list.
PARTIAL_DROPS = ["pm25", "sanitary_toilet", "income_ratio"]

#: Sections each notebook must skip (with a recorded sentence) on the "partial" panel.
PARTIAL_SKIPS = {"00": {"policy", "region_profile"}, "02": {"relative"}}

EXPECTED = project_root() / "results" / "expected"


def _path(number: str) -> Path:
    found = sorted((project_root() / "notebooks").glob(f"{number}_*.ipynb"))
    assert len(found) == 1, f"notebook {number}: found {found}"
    return found[0]


def _cells(number: str) -> list[dict]:
    return json.loads(_path(number).read_text(encoding="utf-8"))["cells"]


def _source(cell: dict) -> str:
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def _study_yaml(study, path: Path) -> Path:
    raw = {f.name: getattr(study, f.name) for f in dataclasses.fields(study)}
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def panels(tmp_path_factory) -> dict[str, tuple[Path, Path]]:
    """(data file, study YAML) of every variant, built once for the module."""
    folder = tmp_path_factory.mktemp("user_panels")
    out = {}
    for v in up.VARIANTS:
        u = up.build(v, folder)
        out[v] = (u.path, _study_yaml(u.study, folder / f"{v}.yaml"))
    partial = up.source_panel(("北京市", "海南省", "宁夏回族自治区")).drop(columns=PARTIAL_DROPS)
    partial.to_csv(folder / "partial.csv", index=False)
    (folder / "partial.yaml").write_text("policy: null\n", encoding="utf-8")
    out["partial"] = (folder / "partial.csv", folder / "partial.yaml")
    return out


def _run(number: str, tmp_path: Path, **parameters) -> tuple[dict, Path]:
    results = tmp_path / "results"
    executed = run_notebook(_path(number), tmp_path / "executed", {"fast": True, **parameters}, results=results,
                            timeout=900)
    return json.loads(executed.read_text(encoding="utf-8")), results


def _expected_tables(number: str) -> set[str]:
    return {p.stem for p in EXPECTED.glob(f"{number}_*.csv")}


def _outputs_text(notebook: dict) -> str:
    parts = []
    for c in notebook["cells"]:
        for o in c.get("outputs", []):
            parts.append("".join(o.get("text", "")))
            for key, val in o.get("data", {}).items():
                if key.startswith("text/"):
                    parts.append("".join(val) if isinstance(val, list) else val)
    return "\n".join(parts)


def _assert_formats(folder: Path) -> None:
    """Main tables go out as Word (three-line), Excel and LaTeX beside their CSV, and the Word file opens."""
    import docx

    docs = sorted(folder.glob("*.docx"))
    assert docs, f"no Word table in {folder}"
    for d in docs:
        for ext in ("csv", "xlsx", "tex"):
            assert d.with_suffix(f".{ext}").exists(), f"{d.stem}: no .{ext} beside the .docx"
        assert docx.Document(str(d)).tables, f"{d.name} holds no table"


# ------------------------------------------------------------------------------------------ static
@pytest.mark.parametrize("number", NOTEBOOKS)
def test_markdown_states_no_result_numbers(number):
    """Results are said by nb.say from the numbers; a markdown cell may state none (method text only)."""
    stated = [(i, n[0], n[4]) for i, c in enumerate(_cells(number)) if c["cell_type"] == "markdown"
              for n in stated_numbers(_source(c))]
    assert not stated, f"notebook {number}: markdown states numbers {stated}; render them with nb.say"


@pytest.mark.parametrize("number", NOTEBOOKS)
def test_code_names_no_simulated_only_column(number):
    code = "\n".join(_source(c) for c in _cells(number) if c["cell_type"] == "code")
    # the simulated truth names its programmes ("land_reform" in truth.json): keys of the truth, not columns,
    # used only when the panel is the simulated one
    columns_code = "\n".join(line for line in code.splitlines() if "truth" not in line and "programme=" not in line)
    named = [c for c in SIMULATED_ONLY_COLUMNS if re.search(rf"[\"']{c}[\"']", columns_code)]
    assert not named, f"notebook {number} names simulated-only columns {named}; read roles from the study"
    assert "open_notebook(" in code, f"notebook {number} does not load through analysis.notebook.open_notebook"
    params = _source(next(c for c in _cells(number) if c["cell_type"] == "code"))
    assert re.search(r"^study_path\s*=", params, re.M) and re.search(r"^lang\s*=\s*\"zh\"", params, re.M), (
        f"notebook {number}: the parameters cell needs study_path and lang = \"zh\" (Chinese first)")


# ------------------------------------------------------------------------------------------ runs
MATRIX = [(n, v) for n in NOTEBOOKS for v in (PANEL_VARIANTS if n in ("00", "01", "02") else VARIANTS_LATER)]


@pytest.mark.notebook
@pytest.mark.parametrize("number,variant", MATRIX)
def test_notebook_runs_on_user_panel(number, variant, panels, tmp_path):
    data, study = panels[variant]
    executed, results = _run(number, tmp_path, data_path=str(data), study_path=str(study))
    written = {p.stem for p in (results / "tables").glob("*.csv")}
    assert written and all(t.startswith(number) for t in written), sorted(written)
    for t in written:  # every table has rows (a list of dropped or attached units may be empty: none were)
        assert t.endswith(("_dropped", "_attached")) or len(pd.read_csv(results / "tables" / f"{t}.csv")) > 0, t
    record = json.loads((results / "sections" / f"{number}.json").read_text(encoding="utf-8"))
    skipped = {s["section"] for s in record["skipped"]}
    text = _outputs_text(executed)
    for s in record["skipped"]:
        assert s["reason"] in text, f"the skip sentence of {s['section']} is not shown"
    if variant == "partial" and number in PARTIAL_SKIPS | {n: set() for n in ("01",)}:
        assert skipped == PARTIAL_SKIPS.get(number, set()), record["skipped"]
    elif number in STRICT and variant != "partial":
        assert not skipped, record["skipped"]
        missing = _expected_tables(number) - written
        assert not missing, f"{variant}: notebook {number} did not write {sorted(missing)}"
    assert str(data) in text, "the data line does not name the user's file"
    if number in STRICT or list((results / "tables").glob("*.docx")):
        _assert_formats(results / "tables")
    assert_prose_matches_outputs(executed)


@pytest.mark.notebook
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("number", NOTEBOOKS)
def test_prose_held_by_outputs_on_shipped_data(number, lang, tmp_path):
    executed, results = _run(number, tmp_path, lang=lang)
    said = [c for c in executed["cells"] for o in c.get("outputs", []) if "text/markdown" in o.get("data", {})]
    assert said, f"notebook {number} rendered no sentence from numbers"
    sentences = "".join("".join(o["data"]["text/markdown"]) for c in said for o in c["outputs"]
                        if "text/markdown" in o.get("data", {}))
    cjk_share = len(re.findall(r"[\u4e00-\u9fff]", sentences)) / max(1, len(re.findall(r"\w", sentences)))
    # English sentences may quote a Chinese yearbook name (土地流转率(%)); Chinese ones are mostly Chinese
    assert (cjk_share > 0.3) if lang == "zh" else (cjk_share < 0.3), f"lang={lang}: sentences in the other language"
    assert {p.stem for p in (results / "tables").glob("*.csv")} == _expected_tables(number)
    assert all(t.stem.startswith(number) for t in (results / "tables").glob("*.csv"))
    if number in STRICT or list((results / "tables").glob("*.docx")):
        _assert_formats(results / "tables")
    assert_prose_matches_outputs(executed, tables=sorted((results / "tables").glob("*.csv")))


def test_the_two_notebook_lists_agree():
    from test_notebooks import OWN_DATA_NOTEBOOKS

    assert set(NOTEBOOKS) == OWN_DATA_NOTEBOOKS
