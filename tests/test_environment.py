"""The environment files agree with each other, and the two README commands are what CI runs."""
from __future__ import annotations

import re
import sys
from pathlib import Path

import yaml

if sys.version_info >= (3, 11):
    import tomllib

ROOT = Path(__file__).resolve().parent.parent

# conda-forge splits or renames a few PyPI packages; everything else must match by name.
CONDA_ONLY = {"python", "pip", "distributed", "font-ttf-noto-cjk"}
PYPI_TO_CONDA = {"dask[distributed]": "dask"}


def _name(requirement: str) -> str:
    req = requirement.strip()
    for pypi, conda in PYPI_TO_CONDA.items():
        if req.startswith(pypi):
            return conda
    return re.split(r"[<>=!~ \[;]", req, maxsplit=1)[0].lower().replace("_", "-")


def _pyproject_names() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"])
    for extra in project.get("optional-dependencies", {}).values():
        reqs += extra
    return {_name(r) for r in reqs}


def _environment_names() -> set[str]:
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    names = set()
    for dep in env["dependencies"]:
        if isinstance(dep, dict):
            names |= {_name(d) for d in dep.get("pip", [])}
        else:
            names.add(_name(dep))
    return names - CONDA_ONLY


def _lock() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "requirements.lock").read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, version = line.partition("==")
            assert version, f"requirements.lock line {line!r} is not pinned with =="
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_environment_yml_and_pyproject_list_the_same_packages():
    py, conda = _pyproject_names(), _environment_names()
    assert py - conda == set(), f"in pyproject.toml but not environment.yml: {sorted(py - conda)}"
    assert conda - py == set(), f"in environment.yml but not pyproject.toml: {sorted(conda - py)}"


def test_lock_pins_every_dependency():
    pins = _lock()
    names = {"dask" if n == "dask" else n for n in _pyproject_names()} | {"distributed"}
    missing = sorted(n for n in names if n not in pins)
    assert not missing, f"requirements.lock lacks {missing}: run `make lock`"


def test_lock_versions_satisfy_pyproject_ranges():
    from packaging.requirements import Requirement

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    reqs = list(project["dependencies"]) + [r for e in project["optional-dependencies"].values() for r in e]
    pins = _lock()
    bad = []
    for r in map(Requirement, reqs):
        version = pins[r.name.lower().replace("_", "-")]
        if r.specifier and version not in r.specifier:
            bad.append(f"{r.name}=={version} not in {r.specifier}")
    assert not bad, bad


def test_readme_opens_with_the_two_commands_and_ci_runs_the_test_command():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    head = readme[:1500]
    assert "make reproduce" in head and "make test" in head
    assert "make test" in (ROOT / ".ci" / "run").read_text()


def test_no_tracked_file_over_5_mib():
    import subprocess

    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True).stdout.split()
    big = [f for f in files if (ROOT / f).exists() and (ROOT / f).stat().st_size > 5 * 1024 * 1024]
    assert not big, big
