"""Input checks of the panel threshold model: columns, types, missing cells, panel structure."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ...errors import (
    ColumnError,
    MissingValueError,
    NonNumericError,
    SpecificationError,
    UnbalancedPanelError,
    describe_rows,
)
from ...validation import as_list, check_unique_keys

_as_list = as_list  # the shared helper (analysis.validation)


def _prepare(data, y, q, regime, controls, entity, time):
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError("data must be a pandas DataFrame in long form (one row per county-year).")
    cols = [y, q, *regime, *controls]
    needed = [entity, time, *cols]
    missing = [c for c in dict.fromkeys(needed) if c not in data.columns]
    if missing:
        raise ColumnError(f"columns {missing} are not in the data; available: {list(data.columns)[:30]}.")
    model_cols = [y, *regime, *controls]
    dup = sorted({c for c in model_cols if model_cols.count(c) > 1})
    if dup:
        raise SpecificationError(f"columns {dup} appear more than once among y, regime and controls.")
    frame = data[list(dict.fromkeys(needed))]
    for c in dict.fromkeys(cols):
        if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])):
            bad = pd.to_numeric(frame[c], errors="coerce").isna() & frame[c].notna()
            raise NonNumericError(
                f"column {c!r} must be numeric; non-numeric cells in {describe_rows(frame.index[bad])}. "
                "Convert it with pd.to_numeric or fix those cells."
            )
    na = frame.isna()
    if na.any().any():
        parts = []
        for c in frame.columns[na.any()]:
            parts.append(f"{c!r} in {describe_rows(frame.index[na[c]])}")
        raise MissingValueError(
            "the panel threshold model needs complete data (a balanced panel); missing values: "
            + "; ".join(parts)
            + ". Impute them (e.g. analysis.panel interpolation) or drop those counties entirely."
        )
    check_unique_keys(frame, entity, time)
    counts = frame.groupby(entity, sort=True)[time].nunique()
    single = counts[counts < 2]
    if len(single):
        raise UnbalancedPanelError(
            f"{len(single)} {entity} value(s) are observed in a single period ({_name_units(single)}); the "
            "within transformation removes them entirely. Drop those units (they carry no within variation)."
        )
    frame = frame.sort_values([entity, time], kind="stable")
    return frame, counts


def _require_balanced(counts: pd.Series, entity: str, time: str, times, why: str) -> None:
    """Raise UnbalancedPanelError naming the incomplete units, with the reason ``why``."""
    T = len(times)
    incomplete = counts[counts < T]
    if len(incomplete):
        raise UnbalancedPanelError(
            f"{why} The panel is unbalanced: {len(incomplete)} of {len(counts)} {entity} values lack some of "
            f"the {T} periods {times[0]}-{times[-1]}: {_name_units(incomplete)}. "
            "Balance the panel (keep units observed in every period, or restrict the periods), or use the "
            "options that allow unbalanced panels (n_boot=0)."
        )


def _name_units(counts: pd.Series, limit: int = 8) -> str:
    shown = ", ".join(f"{k} ({v} periods)" for k, v in counts.iloc[:limit].items())
    more = len(counts) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _n_boot_list(n_boot, m):
    if np.isscalar(n_boot):
        lst = [int(n_boot)] * m
    else:
        lst = [int(b) for b in n_boot]
        if len(lst) != m:
            raise SpecificationError(f"n_boot has {len(lst)} entries but n_thresholds={m}; give one per threshold.")
    if any(b < 0 for b in lst):
        raise SpecificationError("n_boot must be >= 0 (0 = no bootstrap, as xthreg without bs()).")
    return lst


def _trim_list(trim, m):
    if np.isscalar(trim):
        lst = [float(trim)] * m
    else:
        lst = [float(t) for t in trim]
        if len(lst) != m:
            raise SpecificationError(f"trim has {len(lst)} entries but n_thresholds={m}; give one per threshold.")
    for t in lst:
        if not 0 <= t < 0.5:
            raise SpecificationError(f"trim={t!r} must be in [0, 0.5), e.g. 0.05 or 0.01 (xthreg default).")
    return lst


