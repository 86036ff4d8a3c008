"""The reproduction report's table comparison: it must say 'differs' when a number moves."""
import pandas as pd

from analysis.reproduce import ATOL, RTOL, compare_table


def _write(path, frame):
    frame.to_csv(path, index=False)
    return path


def test_identical_tables_match(tmp_path):
    t = pd.DataFrame({"term": ["a", "b"], "estimate": [0.123456789, -2.5]})
    check = compare_table(_write(tmp_path / "x.csv", t), _write(tmp_path / "e.csv", t))
    assert check.status == "match"


def test_difference_within_tolerance_matches(tmp_path):
    t = pd.DataFrame({"estimate": [1.0, 100.0]})
    u = t.assign(estimate=t["estimate"] * (1 + RTOL / 10))
    assert compare_table(_write(tmp_path / "x.csv", u), _write(tmp_path / "e.csv", t)).status == "match"


def test_difference_beyond_tolerance_differs(tmp_path):
    t = pd.DataFrame({"term": ["a", "b"], "estimate": [1.0, 100.0]})
    u = t.assign(estimate=[1.0, 100.0 * (1 + 10 * RTOL) + ATOL])
    check = compare_table(_write(tmp_path / "x.csv", u), _write(tmp_path / "e.csv", t))
    assert check.status == "differs" and "row 1" in check.detail


def test_text_change_differs(tmp_path):
    t = pd.DataFrame({"term": ["a", "b"], "estimate": [1.0, 2.0]})
    u = t.assign(term=["a", "c"])
    assert compare_table(_write(tmp_path / "x.csv", u), _write(tmp_path / "e.csv", t)).status == "differs"


def test_missing_and_unexpected_tables(tmp_path):
    t = pd.DataFrame({"estimate": [1.0]})
    assert compare_table(tmp_path / "none.csv", _write(tmp_path / "e.csv", t)).status == "missing"
    assert compare_table(_write(tmp_path / "x.csv", t), tmp_path / "none.csv").status == "no expected copy"


def test_shape_change_differs(tmp_path):
    t = pd.DataFrame({"estimate": [1.0, 2.0]})
    check = compare_table(_write(tmp_path / "x.csv", t.iloc[:1]), _write(tmp_path / "e.csv", t))
    assert check.status == "differs"
