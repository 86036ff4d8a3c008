"""A non-editable install works outside the repository: the wheel carries the shipped data.

The wheel is built offline from a clean copy of the sources (``pip wheel --no-deps
--no-build-isolation``; a build in the checkout itself would reuse a stale ``build/`` folder, which
can hide a file missing from the package configuration), then installed with ``--no-deps
--no-index`` into a fresh virtual environment. The dependencies come from the test interpreter's
own site-packages, appended *after* the fresh environment's through a ``.pth`` file so the
installed ``analysis`` package (not the checkout, not an editable install) is the one imported. The
library and the ``countyfusion`` entry point then run from a temporary folder outside the
repository.
"""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
MAX_FILE = 5 * 1024 * 1024  # the project's limit for one file (COMMON rules: no file over 5 MiB)
SOURCES = ("analysis", "data", "setup.py", "pyproject.toml", "README.md", "LICENSE")


def _ignore(_dir, names):
    return [n for n in names if n in ("__pycache__", ".ipynb_checkpoints") or n.endswith(".pyc")]


def _repo_files(folder: str, suffix: str = "") -> set[str]:
    base = ROOT / folder
    return {p.relative_to(base).as_posix() for p in base.rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.name.endswith(suffix)
            and not p.name.endswith(".pyc")}


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    assert importlib.util.find_spec("setuptools") is not None, (
        "building the wheel offline needs setuptools in this environment (pinned in requirements.lock)")
    tmp = tmp_path_factory.mktemp("wheel")
    src = tmp / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).is_dir():
            shutil.copytree(ROOT / name, src / name, ignore=_ignore)
        else:
            shutil.copy2(ROOT / name, src / name)
    out = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                          "--no-index", "-q", "-w", str(tmp / "dist"), str(src)],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    wheels = list((tmp / "dist").glob("countyfusion-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> Path:
    """A fresh venv with the wheel installed; returns its bin/ folder."""
    venv = tmp_path_factory.mktemp("venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, capture_output=True)
    bindir = venv / ("Scripts" if os.name == "nt" else "bin")
    out = subprocess.run([str(bindir / "python"), "-m", "pip", "install", "--no-deps", "--no-index", "-q",
                          str(wheel)], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    purelib = subprocess.run([str(bindir / "python"), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # dependencies only: the test interpreter's site-packages, searched after the fresh venv's own
    deps = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(purelib) / "zz_countyfusion_test_deps.pth").write_text("\n".join(sorted(deps)) + "\n")
    return bindir


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    env["MPLBACKEND"] = "Agg"
    return env


def test_wheel_carries_the_shipped_data(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    data = {n.removeprefix("analysis/_data/") for n in names if n.startswith("analysis/_data/")}
    # every file of data/ is in the wheel (the loaders, the indicator systems, the templates, the
    # study examples, the policy list and the provenance files), under 5 MiB each
    expected = _repo_files("data")
    assert expected - data == set(), f"missing from the wheel: {sorted(expected - data)}"
    for folder in ("real", "synthetic", "policies", "indicators", "templates", "studies"):
        assert any(n.startswith(folder + "/") for n in data), folder
    for info in zipfile.ZipFile(wheel).infolist():
        assert info.file_size <= MAX_FILE, (info.filename, info.file_size)
    # every module of the library, subpackages included
    modules = {"analysis/" + p for p in _repo_files("analysis", ".py")}
    assert modules - names == set(), f"modules missing from the wheel: {sorted(modules - names)}"
    entry = zipfile.ZipFile(wheel).read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "countyfusion = analysis.cli:main" in entry


CHECK = r"""
import json, sys
from pathlib import Path
import analysis
from analysis import datasets
from analysis.indicators import load_system, shipped_systems
from analysis.panel.schema import column_mapping
from analysis.study import Study

panel = datasets.load_county_panel()
study = Study.default()
print(json.dumps({
    "analysis": analysis.__file__,
    "data_dir": str(datasets.data_dir()),
    "counties": len(datasets.load_counties()),
    "edges": len(datasets.load_county_edges()),
    "pilots": len(datasets.load_land_reform_pilots()),
    "panel": list(panel.shape),
    "census": len(datasets.load_census()),
    "systems": shipped_systems(),
    "indicators": len(load_system("county_uri").indicators),
    "mapping": len(column_mapping()),
    "study_indicators": str(study._path(study.indicators)),
}))
"""


def test_installed_wheel_runs_outside_the_repo(installed, tmp_path):
    out = subprocess.run([str(installed / "python"), "-c", CHECK], capture_output=True, text=True,
                         cwd=tmp_path, env=_env(), check=False)
    assert out.returncode == 0, out.stderr
    got = json.loads(out.stdout.strip().splitlines()[-1])
    venv = installed.parent.resolve()
    # the installed copy is the one imported, and it reads the data it carries
    assert Path(got["analysis"]).resolve().is_relative_to(venv), got["analysis"]
    assert Path(got["data_dir"]).resolve().is_relative_to(venv), got["data_dir"]
    assert Path(got["study_indicators"]).resolve().is_relative_to(venv), got["study_indicators"]
    assert Path(got["study_indicators"]).name == "county_uri.yaml"
    # the same data as the checkout (sizes read here from the repository's files)
    assert got["counties"] == len(pd.read_csv(ROOT / "data" / "counties.csv"))
    assert got["edges"] == len(pd.read_csv(ROOT / "data" / "county_queen_edges.csv"))
    assert got["pilots"] == len(pd.read_csv(ROOT / "data" / "policies" / "land_reform_pilots_2015.csv")) == 33
    assert got["panel"] == list(pd.read_csv(ROOT / "data" / "synthetic" / "county_panel.csv.gz").shape)
    assert got["census"] == len(pd.read_csv(ROOT / "data" / "real" / "census_county_2010_2020.csv.gz"))
    assert got["systems"] == sorted(p.stem for p in (ROOT / "data" / "indicators").glob("*.yaml"))
    assert got["indicators"] > 0 and got["mapping"] > 0


SAVE = r"""
import pandas as pd
from analysis.reporting import save_table
print(save_table(pd.DataFrame({"a": [1.5]}), "00_check"))
"""


def test_installed_package_writes_results_beside_the_user(installed, tmp_path):
    # not into site-packages (the package's parent folder), which may not even be writable
    out = subprocess.run([str(installed / "python"), "-c", SAVE], capture_output=True, text=True,
                         cwd=tmp_path, env={k: v for k, v in _env().items() if k != "COUNTYFUSION_RESULTS"},
                         check=False)
    assert out.returncode == 0, out.stderr
    written = Path(out.stdout.strip().splitlines()[-1]).resolve()
    assert written == (tmp_path / "results" / "tables" / "00_check.csv").resolve(), written
    assert pd.read_csv(written)["a"].tolist() == [1.5]


def test_installed_command_writes_the_template(installed, tmp_path):
    out = subprocess.run([str(installed / "countyfusion"), "template", "-o", "x.xlsx"], capture_output=True,
                         text=True, cwd=tmp_path, env=_env(), check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    book = openpyxl.load_workbook(tmp_path / "x.xlsx")
    shipped = openpyxl.load_workbook(ROOT / "data" / "templates" / "county_panel_template.xlsx")
    header = [c.value for c in next(book.worksheets[0].iter_rows(max_row=1))]
    shipped_header = [c.value for c in next(shipped.worksheets[0].iter_rows(max_row=1))]
    assert header == shipped_header and len(header) > 5


def test_installed_reproduce_needs_the_checkout(installed, tmp_path):
    # the wheel has no notebooks: a clear message and the bad-input status, not an empty "0/0 ran"
    out = subprocess.run([str(installed / "countyfusion"), "reproduce", "--fast"], capture_output=True, text=True,
                         cwd=tmp_path, env=_env(), check=False)
    assert out.returncode == 2, out.stdout + out.stderr
    assert "notebooks/" in out.stderr and "Traceback" not in out.stderr
    assert not (tmp_path / "results").exists()


def test_installed_command_builds_an_index(installed, tmp_path):
    # a small panel (20 counties) cut from the shipped simulated panel, in the yearbook layout of the template
    panel = pd.read_csv(ROOT / "data" / "synthetic" / "county_panel.csv.gz", dtype={"county": str})
    keep = sorted(panel["county"].unique())[:20]
    panel[panel["county"].isin(keep)].to_csv(tmp_path / "my.csv", index=False)
    out = subprocess.run([str(installed / "countyfusion"), "index", "my.csv", "--system", "county_uri",
                          "--missing", "interpolate", "--lang", "en", "-o", "result.xlsx"],
                         capture_output=True, text=True, cwd=tmp_path, env=_env(), check=False)
    assert out.returncode == 0, out.stdout + out.stderr
    book = pd.read_excel(tmp_path / "result.xlsx", sheet_name=None, dtype={"county": str})
    assert set(book["index"]["county"]) == set(keep)
    assert abs(book["weights"]["weight"].sum() - 1.0) < 1e-9  # weights sum to one (Excel keeps doubles)
