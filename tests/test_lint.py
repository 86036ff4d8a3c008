"""`ruff check analysis tests scripts benchmarks` passes (pyflakes, pycodestyle, import order, numpy docstring convention).

The configuration is in pyproject.toml (``[tool.ruff]``); the docstring examples of analysis/ run as
doctests through ``--doctest-modules`` in the pytest options.
"""
from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_ruff_check_passes_on_the_library_tests_scripts_and_benchmarks():
    out = subprocess.run([sys.executable, "-m", "ruff", "check", "analysis", "tests", "scripts", "benchmarks",
                          "--output-format", "concise"], cwd=ROOT, capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr


def test_doctests_and_numpy_docstrings_are_configured():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text())
    pytest_cfg = cfg["tool"]["pytest"]["ini_options"]
    assert "--doctest-modules" in pytest_cfg["addopts"] and "analysis" in pytest_cfg["testpaths"]
    assert cfg["tool"]["ruff"]["lint"]["pydocstyle"]["convention"] == "numpy"
    assert "D" in cfg["tool"]["ruff"]["lint"]["select"]
