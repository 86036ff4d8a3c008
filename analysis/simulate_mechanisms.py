"""The mechanism layer of the SIMULATED panel; moved to :mod:`analysis.simulate.mechanisms`.

This module stays importable (``from analysis.simulate_mechanisms import mechanism_panel``) and
re-exports the same objects.
"""
from __future__ import annotations

from .simulate.mechanisms import (
    MECHANISM_CODEBOOK,
    MECHANISM_COLUMNS,
    MECHANISM_PARAMS,
    mechanism_columns,
    mechanism_panel,
    mechanism_truth,
)

__all__ = ["MECHANISM_PARAMS", "MECHANISM_CODEBOOK", "mechanism_columns", "mechanism_panel",
           "mechanism_truth", "MECHANISM_COLUMNS"]
