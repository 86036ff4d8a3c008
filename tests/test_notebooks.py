"""Every notebook runs end to end in fast mode, and is committed in the shape the project promises."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from analysis.reproduce import list_notebooks, run_notebook

NOTEBOOKS = list_notebooks()
REQUIRED_PARAMETERS = ("data_path", "fast", "seed", "lang")


def _cells(path: Path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def test_there_are_notebooks():
    assert any(p.name.startswith("00_") for p in NOTEBOOKS), "notebooks/00_quickstart.ipynb is missing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_committed_without_outputs(path):
    code = [c for c in _cells(path) if c["cell_type"] == "code"]
    with_output = [i for i, c in enumerate(code) if c.get("outputs") or c.get("execution_count")]
    assert not with_output, f"{path.name}: code cells {with_output} carry outputs; clear them before committing"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_has_tagged_parameters_cell(path):
    code = [c for c in _cells(path) if c["cell_type"] == "code"]
    first = code[0]
    assert "parameters" in first.get("metadata", {}).get("tags", []), f"{path.name}: first code cell not tagged"
    source = "".join(first["source"])
    missing = [p for p in REQUIRED_PARAMETERS if f"{p} =" not in source and f"{p}=" not in source]
    assert not missing, f"{path.name}: parameters cell lacks {missing}"


#: Notebooks that take a user's panel run (fast mode, shipped data, zh and en, with the prose check) in
#: tests/test_notebooks_user_panels.py; the others (08: the real census; 90: published replications) here.
OWN_DATA_NOTEBOOKS = {"00", "01", "02", "03", "04", "05", "06", "07", "09"}


@pytest.mark.notebook
@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name[:2] not in OWN_DATA_NOTEBOOKS], ids=lambda p: p.stem)
def test_notebook_runs_in_fast_mode(path, tmp_path):
    results = tmp_path / "results"
    run_notebook(path, tmp_path / "executed", {"fast": True}, results=results, timeout=900)
    tables = list((results / "tables").glob("*.csv"))
    prefix = path.name[:2]
    assert tables, f"{path.name} wrote no table"
    assert all(t.name.startswith(prefix) for t in tables), [t.name for t in tables if not t.name.startswith(prefix)]
