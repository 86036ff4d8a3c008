"""analysis.notebook: sections skip with a sentence and a record; tables go out as CSV, Word, Excel, LaTeX."""
from __future__ import annotations

import json

import pandas as pd
import pytest

from analysis.notebook import open_notebook, sections_report
from analysis.regression import fe


@pytest.fixture()
def results(tmp_path, monkeypatch):
    monkeypatch.setenv("COUNTYFUSION_RESULTS", str(tmp_path))
    return tmp_path


def test_sections_run_or_skip_with_a_record(results):
    nb = open_notebook("98", lang="en")
    assert nb.simulated and nb.panel["county"].nunique() > 2800
    assert nb.section("base", {"zh": "基准", "en": "Baseline"}, needs=["policy", "outcome"])
    assert not nb.section("mech", {"zh": "机制", "en": "Mechanisms"}, needs=["mediators"])
    assert not nb.section("cols", "Columns", columns=["no_such_column"])
    rec = json.loads((results / "sections" / "98.json").read_text(encoding="utf-8"))
    assert rec["ran"] == ["base"] and [s["section"] for s in rec["skipped"]] == ["mech", "cols"]
    assert "mediators" in rec["skipped"][0]["reason"] and "no_such_column" in rec["skipped"][1]["reason"]
    rep = sections_report(results / "sections")
    assert list(rep["section"]) == ["mech", "cols"]


def test_tables_of_results_in_four_formats_and_names_checked(results):
    nb = open_notebook("98", lang="zh")
    sub = nb.panel[nb.panel["year"].between(2012, 2019)]
    m = fe("rural_income ~ land_reform", sub)
    path = nb.table(m, "98_fe", title={"zh": "基准回归", "en": "Baseline"})
    for ext in ("csv", "docx", "xlsx", "tex"):
        assert (results / "tables" / f"98_fe.{ext}").exists()
    frame = pd.read_csv(path)
    assert frame.loc[frame["term"] == "land_reform", "estimate"].item() == pytest.approx(m.params["land_reform"], rel=1e-9)
    with pytest.raises(ValueError, match="notebook number"):
        nb.table(pd.DataFrame({"a": [1]}), "01_wrong")
    assert "数据" in nb.say({"zh": "数据 {n} 行", "en": "{n} rows"}, n=len(sub))


def test_sentences_print_as_text_outside_a_notebook(results, capsys):
    """Outside a running kernel (a script, pytest) a sentence and a skip print as plain text, not as
    the repr of an IPython Markdown object."""
    nb = open_notebook("98", lang="en")
    capsys.readouterr()
    nb.say({"zh": "共 {n} 个县", "en": "{n} counties in all"}, n=3)
    nb.section("mech", {"zh": "机制", "en": "Mechanisms"}, needs=["mediators"])
    out = capsys.readouterr().out
    assert "3 counties in all" in out and "Mechanisms" in out
    assert "IPython.core.display.Markdown object" not in out
