"""The reproduction report's table comparison: it must say 'differs' when a number moves."""
import pandas as pd

from analysis.reproduce import compare_table

# Tolerances written as numbers (issue 15): the comparison promises |a - b| <= 1e-8 + 1e-6 |b|.


def _write(path, frame):
    frame.to_csv(path, index=False)
    return path


def test_identical_tables_match(tmp_path):
    t = pd.DataFrame({"term": ["a", "b"], "estimate": [0.123456789, -2.5]})
    check = compare_table(_write(tmp_path / "x.csv", t), _write(tmp_path / "e.csv", t))
    assert check.status == "match"


def test_difference_within_tolerance_matches(tmp_path):
    t = pd.DataFrame({"estimate": [1.0, 100.0]})
    u = t.assign(estimate=t["estimate"] * (1 + 1e-7))  # 1e-7 relative: inside 1e-6
    assert compare_table(_write(tmp_path / "x.csv", u), _write(tmp_path / "e.csv", t)).status == "match"


def test_difference_beyond_tolerance_differs(tmp_path):
    t = pd.DataFrame({"term": ["a", "b"], "estimate": [1.0, 100.0]})
    u = t.assign(estimate=[1.0, 100.0 * (1 + 1e-5)])  # 1e-5 relative: ten times the 1e-6 allowed
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


# ---- main()'s exit code (issue 15): a failing notebook or a differing table is status 1 -----
def _fake_project(tmp_path, monkeypatch, produce, fail=False):
    import analysis.reproduce as rep

    out = tmp_path / "results"
    (out / "expected").mkdir(parents=True)
    _write(out / "expected" / "01_table.csv", pd.DataFrame({"term": ["a"], "estimate": [1.0]}))
    nbs = [tmp_path / "01_first.ipynb"]

    def run_notebook(nb, out_dir, parameters=None, results=None):
        if fail:
            raise RuntimeError("planted failure in a notebook cell")
        (out / "tables").mkdir(parents=True, exist_ok=True)
        _write(out / "tables" / "01_table.csv", produce)
        return out_dir / nb.name

    monkeypatch.setattr(rep, "results_dir", lambda: out)
    monkeypatch.setattr(rep, "list_notebooks", lambda folder=None: nbs)
    monkeypatch.setattr(rep, "run_notebook", run_notebook)
    return rep


def test_main_exit_code_zero_when_everything_matches(tmp_path, monkeypatch):
    rep = _fake_project(tmp_path, monkeypatch, pd.DataFrame({"term": ["a"], "estimate": [1.0]}))
    assert rep.main([]) == 0
    assert "| 01_table | match |" in (tmp_path / "results" / "REPORT.md").read_text()


def test_main_exit_code_nonzero_when_a_table_differs(tmp_path, monkeypatch):
    rep = _fake_project(tmp_path, monkeypatch, pd.DataFrame({"term": ["a"], "estimate": [1.1]}))
    assert rep.main([]) == 1


def test_main_exit_code_nonzero_when_a_notebook_fails(tmp_path, monkeypatch):
    rep = _fake_project(tmp_path, monkeypatch, pd.DataFrame({"term": ["a"], "estimate": [1.0]}), fail=True)
    assert rep.main([]) == 1  # also: the expected table was then not produced ("missing")
    assert "FAILED" in (tmp_path / "results" / "REPORT.md").read_text()
