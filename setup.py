"""Build configuration that ``pyproject.toml`` cannot express on its own.

Everything else (metadata, dependencies, the ``countyfusion`` command) is in ``pyproject.toml``.
This file only adds the shipped data to the wheel: the repository's ``data/`` folder is installed
as ``analysis/_data/`` (a data-only package mapped with ``package_dir``), where
``analysis.datasets.data_dir()`` finds it. The patterns below list what the library reads;
tests/test_packaging.py builds the wheel and checks each file is inside.
"""
from setuptools import find_packages, setup

DATA_PACKAGE = "analysis._data"

#: shipped data by folder of data/ ("" = data/ itself): the patterns of the files the library
#: reads, plus the provenance files (README, build logs, licence). Each file is under 5 MiB.
DATA_FILES = {
    "": ["README.md", "*.csv", "*.json"],
    "indicators": ["*.yaml", "*.csv"],
    "policies": ["*.csv"],
    "real": ["*.csv", "*.csv.gz", "*.json", "LICENSE-census"],
    "studies": ["*.yaml"],
    "synthetic": ["*.csv", "*.csv.gz", "*.json"],
    "templates": ["*.csv", "*.xlsx"],
}
_DATA_PACKAGES = {(DATA_PACKAGE + "." + sub if sub else DATA_PACKAGE): patterns for sub, patterns in DATA_FILES.items()}

setup(
    packages=find_packages(include=["analysis", "analysis.*"]) + list(_DATA_PACKAGES),
    package_dir={DATA_PACKAGE: "data"},
    package_data=_DATA_PACKAGES,
)
