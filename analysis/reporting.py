"""Where notebooks write their tables and figures, and how they are named.

Every notebook saves its tables with :func:`save_table` and its figures with :func:`save_figure`.
Outputs go under ``results/`` at the project root, or under the folder named by the environment
variable ``COUNTYFUSION_RESULTS`` (the test suite points it at a temporary folder). Table names start
with the notebook number (``"04_twfe_baseline"``); ``make reproduce`` compares each table with its
committed copy in ``results/expected/``.
"""
from __future__ import annotations

import os
from pathlib import Path

import pandas as pd

__all__ = ["project_root", "results_dir", "save_table", "save_figure", "TABLE_DECIMALS"]

#: Tables are rounded to this many significant decimals before writing, so that the committed
#: expected copies do not carry floating-point noise from the last bits of BLAS.
TABLE_DECIMALS = 10


def project_root() -> Path:
    """The project's root folder (the one holding ``analysis/``)."""
    return Path(__file__).resolve().parent.parent


def results_dir() -> Path:
    """Root of all outputs: ``$COUNTYFUSION_RESULTS`` or ``<project>/results``."""
    env = os.environ.get("COUNTYFUSION_RESULTS")
    return Path(env) if env else project_root() / "results"


def save_table(table: pd.DataFrame, name: str, index: bool = False) -> Path:
    """Write ``table`` to ``results/tables/<name>.csv`` and return the path.

    ``table`` may also be a CountyFusion result (its ``to_frame()`` is written). Floats are
    rounded to :data:`TABLE_DECIMALS` decimals. ``name`` must start with the notebook
    number, e.g. ``"01_weights"``.
    """
    if not name or not name[:2].isdigit():
        raise ValueError(f"table name {name!r} must start with its notebook number, e.g. '01_weights'.")
    if not isinstance(table, pd.DataFrame) and hasattr(table, "to_frame"):
        table = table.to_frame()  # a CountyFusion result: its tidy table
    out = results_dir() / "tables" / f"{name}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    frame = table.reset_index() if index else table
    frame = frame.round(TABLE_DECIMALS)
    frame.to_csv(out, index=False, encoding="utf-8")
    return out


def save_figure(fig, name: str, dpi: int = 150) -> Path:
    """Write a matplotlib figure to ``results/figures/<name>.png`` and return the path."""
    out = results_dir() / "figures" / f"{name}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, bbox_inches="tight")
    return out
