"""CountyFusion: county-driven urban-rural integration (县域城乡融合) research in Python.

Submodules are imported lazily so that ``import analysis`` is fast; use ``analysis.did``,
``analysis.spatial`` ... as usual.
"""
from __future__ import annotations

import importlib

__version__ = "0.1.0"

_SUBMODULES = (
    "coupling",
    "datasets",
    "demean",
    "did",
    "disparity",
    "errors",
    "indicators",
    "maps",
    "panel",
    "plots",
    "regression",
    "reporting",
    "results",
    "robustness",
    "simulate",
    "spatial",
    "tables",
)

__all__ = list(_SUBMODULES) + ["__version__"]


def __getattr__(name: str):
    if name in _SUBMODULES:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'analysis' has no attribute {name!r}")
