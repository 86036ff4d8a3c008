"""Reading, validating and preparing county-year panels.

:func:`read_panel` reads a user's panel (CSV, Excel ``.xlsx``, Stata ``.dta``, Parquet), maps
yearbook column names (Chinese or English, e.g. ``农村居民人均可支配收入(元)``) to the canonical names
of ``docs/simulation.md`` through ``data/templates/column_mapping.csv``, reads county ids as 6-digit
strings and validates the result. Every input problem raises an :mod:`analysis.errors` class that
names the column, the rows and the fix; nothing is dropped silently -- what was done is recorded in
``df.attrs["read_report"]`` (a :class:`ReadReport`).

The helpers :func:`check_panel`, :func:`balance`, :func:`interpolate`, :func:`winsorize` and
:func:`add_lags` prepare a panel for estimation (the usual ``xtset`` / ``ipolate`` / ``winsor2`` /
``L.`` steps of Stata, ``plm::pdata.frame`` / ``zoo::na.approx`` / ``DescTools::Winsorize`` in R).
"""
from __future__ import annotations

from ..errors import UnknownAdcodeError, YearRangeError
from .prepare import add_lags, balance, check_panel, interpolate, winsorize
from .reading import ReadReport, read_panel
from .schema import (
                     _TEMPLATES,  # noqa: F401  (the template folder, used by tests and scripts)
                     CANONICAL_COLUMNS,
                     MISSING_MARKERS,
                     NUMERIC_COLUMNS,
                     TEXT_COLUMNS,
                     adcode_changes,
                     column_mapping,
                     map_columns,
)
from .template import write_template

__all__ = [
    "CANONICAL_COLUMNS",
    "NUMERIC_COLUMNS",
    "TEXT_COLUMNS",
    "MISSING_MARKERS",
    "UnknownAdcodeError",
    "YearRangeError",
    "ReadReport",
    "column_mapping",
    "adcode_changes",
    "map_columns",
    "read_panel",
    "check_panel",
    "balance",
    "interpolate",
    "winsorize",
    "add_lags",
    "write_template",
]
