"""Input checks shared by every estimator, and the one column schema of a county panel.

One place for the checks that estimators used to write each in their own words: duplicated
(entity, time) keys, "make it a list", required columns and numeric columns. Each raises a
subclass of :class:`~analysis.errors.CountyFusionError` that names the column, the rows and the fix.

The schema (:data:`TEXT_COLUMNS`, :data:`RAW_INDICATORS`, :data:`COVARIATES`,
:data:`POLICY_COLUMNS`, :data:`NUMERIC_COLUMNS`, :data:`CANONICAL_COLUMNS`) is the single list of
the canonical panel columns (``docs/simulation.md``); :mod:`analysis.datasets` reads its text
columns from here.

Examples
--------
>>> import pandas as pd
>>> as_list("x1"), as_list(None), as_list(("a", "b"))
(['x1'], [], ['a', 'b'])
>>> d = pd.DataFrame({"county": ["110101", "110101"], "year": [2020, 2020], "y": [1.0, 2.0]})
>>> check_unique_keys(d, "county", "year")  # doctest: +ELLIPSIS
Traceback (most recent call last):
...
analysis.errors.DuplicateKeyError: 2 rows share a (county, year) key, e.g. (110101, 2020) ...
"""
from __future__ import annotations

from typing import Iterable, Sequence

import pandas as pd

from .errors import ColumnError, DuplicateKeyError, NonNumericError, describe_rows

__all__ = [
    "as_list",
    "require_columns",
    "check_unique_keys",
    "check_numeric",
    "TEXT_COLUMNS",
    "RAW_INDICATORS",
    "COVARIATES",
    "POLICY_COLUMNS",
    "NUMERIC_COLUMNS",
    "CANONICAL_COLUMNS",
]

# ---------------------------------------------------------------------------------------------
# the column schema (one list; analysis.panel, analysis.datasets and analysis.simulate agree with it)
# ---------------------------------------------------------------------------------------------
#: text (categorical) columns; ``land_reform_type`` is text, not a number
TEXT_COLUMNS = ("name", "prefecture", "province", "region", "county_type", "land_reform_type")
#: the 20 raw yearbook indicators of the shipped indicator systems
RAW_INDICATORS = (
    "urbanization_rate", "nonfarm_emp_share", "pension_coverage", "road_density", "builtup_share",
    "broadband_rate", "gdp_pc", "rural_income", "income_ratio", "nonagri_share",
    "ag_productivity", "hospital_beds", "teachers_per10k", "consumption_ratio", "fiscal_exp_pc",
    "fertilizer_intensity", "forest_cover", "sewage_treatment", "sanitary_toilet", "pm25",
)
#: covariates; ``gdp`` is an optional raw yearbook item (read as numeric when present; the
#: simulated panel does not ship it)
COVARIATES = ("population", "area_km2", "loans_gdp", "land_transfer_rate", "fiscal_selfsuff",
              "digital_gov", "gdp")
#: numeric policy columns (``land_reform_type`` is in :data:`TEXT_COLUMNS`)
POLICY_COLUMNS = ("land_reform", "land_reform_year", "digital_pilot", "digital_pilot_year",
                  "integration_zone")
#: every column read as a number
NUMERIC_COLUMNS = RAW_INDICATORS + COVARIATES + POLICY_COLUMNS
#: the columns of the shipped simulated panel, in order (``gdp`` is optional and not among them)
CANONICAL_COLUMNS = (("county", "year") + TEXT_COLUMNS[:5] + RAW_INDICATORS
                     + tuple(c for c in COVARIATES if c != "gdp")
                     + ("land_reform", "land_reform_year", "land_reform_type", "digital_pilot",
                        "digital_pilot_year", "integration_zone"))


# ---------------------------------------------------------------------------------------------
# checks
# ---------------------------------------------------------------------------------------------
def as_list(value) -> list:
    """``None`` -> ``[]``, a string -> ``[string]``, any other iterable -> list.

    >>> as_list(["x1", "x2"])
    ['x1', 'x2']
    """
    if value is None or value is False:
        return []
    if isinstance(value, str):
        return [value]
    return list(value)


def require_columns(data: pd.DataFrame, columns: Iterable, what: str = "the estimator") -> None:
    """Raise :class:`~analysis.errors.ColumnError` naming every missing column.

    >>> import pandas as pd
    >>> require_columns(pd.DataFrame({"y": [1.0]}), ["y", "x"], what="fe()")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    analysis.errors.ColumnError: column(s) ['x'] needed by fe() are not in the data; available columns: ['y']...
    """
    cols = [c for c in dict.fromkeys(c for c in columns if c is not None)]
    missing = [c for c in cols if c not in data.columns]
    if missing:
        avail = list(data.columns)
        raise ColumnError(
            f"column(s) {missing} needed by {what} are not in the data; available columns: {avail[:30]}"
            f"{' ...' if len(avail) > 30 else ''}. Check the spelling or pass the right name "
            "(y=, entity=, time=, controls=)."
        )


def check_unique_keys(data: pd.DataFrame, entity: str, time: str) -> None:
    """Raise :class:`~analysis.errors.DuplicateKeyError` if an (entity, time) pair occurs twice.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.validation import check_unique_keys
    >>> df = pd.DataFrame({"county": ["110101", "110101"], "year": [2015, 2015]})
    >>> check_unique_keys(df, "county", "year")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    analysis.errors.DuplicateKeyError: 2 rows share a (county, year) key, e.g. (110101, 2015) ...
    >>> check_unique_keys(df.assign(year=[2015, 2016]), "county", "year") is None
    True
    """
    dup = data.duplicated([entity, time], keep=False)
    if dup.any():
        keys = data.loc[dup, [entity, time]].drop_duplicates().head(5)
        pairs = ", ".join(f"({e}, {t})" for e, t in keys.itertuples(index=False))
        raise DuplicateKeyError(
            f"{int(dup.sum())} rows share a ({entity}, {time}) key, e.g. {pairs} "
            f"({describe_rows(data.index[dup])}). Keep one row per {entity}-{time}: aggregate or "
            "drop the duplicates first."
        )


def check_numeric(data: pd.DataFrame, columns: Sequence[str]) -> None:
    """Raise :class:`~analysis.errors.NonNumericError` for a column that is not numeric.

    >>> import pandas as pd
    >>> check_numeric(pd.DataFrame({"x": ["1", "a"]}), ["x"])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    analysis.errors.NonNumericError: column 'x' is not numeric ...
    """
    for col in columns:
        s = data[col]
        if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
            continue
        bad = data.index[pd.to_numeric(s, errors="coerce").isna() & s.notna()]
        raise NonNumericError(
            f"column {col!r} is not numeric (dtype {s.dtype}; non-numeric cells in "
            f"{describe_rows(bad if len(bad) else data.index)}). Convert it with "
            "pd.to_numeric(errors='coerce') and decide what to do with the cells that fail."
        )
