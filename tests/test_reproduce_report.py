"""results/REPORT.md lists skipped sections, and a run on a user's data writes tables without comparing them."""
from __future__ import annotations

import json

from analysis.reproduce import TableCheck, _write_report


def test_report_lists_skipped_sections_and_user_data(tmp_path):
    (tmp_path / "sections").mkdir()
    (tmp_path / "sections" / "05.json").write_text(json.dumps({"notebook": "05", "ran": ["base"], "skipped": [
        {"notebook": "05", "section": "mech", "title": "机制", "reason": "缺少 mediators：请在研究设定中加入"}]},
        ensure_ascii=False), encoding="utf-8")
    report = tmp_path / "REPORT.md"
    _write_report(report, [("05_mechanisms.ipynb", "ok", 3.0, "")], [TableCheck("05_x.csv", "written", "your data")],
                  {"data_path": "my.xlsx"})
    text = report.read_text(encoding="utf-8")
    assert "| 05 | 机制 | 缺少 mediators：请在研究设定中加入 |" in text
    assert "the data are the user's: my.xlsx" in text and "| 05_x.csv | written | your data |" in text
    (tmp_path / "sections" / "05.json").unlink()
    _write_report(report, [], [], {})
    text = report.read_text(encoding="utf-8")
    assert "none: every section had its inputs." in text and "SIMULATED" in text
