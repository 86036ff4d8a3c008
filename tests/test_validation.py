"""analysis.validation: the shared input checks and the one column schema."""
from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis import datasets
from analysis.errors import ColumnError, DuplicateKeyError, NonNumericError
from analysis.validation import (
    CANONICAL_COLUMNS,
    NUMERIC_COLUMNS,
    TEXT_COLUMNS,
    as_list,
    check_numeric,
    check_unique_keys,
    require_columns,
)


def test_duplicate_keys_named_with_rows_and_fix():
    d = pd.DataFrame({"county": ["a", "a", "b"], "year": [1, 1, 1], "y": [1.0, 2.0, 3.0]})
    with pytest.raises(DuplicateKeyError, match=r"\(a, 1\).*rows 0, 1.*Keep one row per county-year"):
        check_unique_keys(d, "county", "year")
    check_unique_keys(d.iloc[1:], "county", "year")


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 4), st.integers(0, 3)), min_size=1, max_size=20))
def test_duplicate_check_agrees_with_pandas(keys):
    d = pd.DataFrame(keys, columns=["county", "year"])
    if d.duplicated().any():
        with pytest.raises(DuplicateKeyError):
            check_unique_keys(d, "county", "year")
    else:
        check_unique_keys(d, "county", "year")


def test_columns_and_numbers():
    d = pd.DataFrame({"y": [1.0, 2.0], "x": ["1", "b"]})
    with pytest.raises(ColumnError, match=r"\['z'\]"):
        require_columns(d, ["y", "z"])
    with pytest.raises(NonNumericError, match="'x'.*row 1"):
        check_numeric(d, ["x"])
    check_numeric(d, ["y"])
    assert as_list(None) == [] and as_list("a") == ["a"] and as_list(("a", "b")) == ["a", "b"]


def test_one_schema_agrees_with_the_shipped_panel():
    """The shipped simulated panel has exactly CANONICAL_COLUMNS; land_reform_type is text, gdp is an
    optional numeric item (in NUMERIC_COLUMNS, not in the panel)."""
    panel = datasets.load_county_panel()
    assert list(panel.columns) == list(CANONICAL_COLUMNS)
    assert "land_reform_type" in TEXT_COLUMNS and "land_reform_type" not in NUMERIC_COLUMNS
    assert "gdp" in NUMERIC_COLUMNS and "gdp" not in CANONICAL_COLUMNS
    for col in TEXT_COLUMNS:
        assert panel[col].map(lambda v: isinstance(v, str) or pd.isna(v)).all(), col
