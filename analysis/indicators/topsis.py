"""TOPSIS closeness (逼近理想解法) with a global (pooled) ideal (Hwang & Yoon 1981).

Two variants, which give different numbers, so the variant is a parameter:

* ``topsis(z, w)`` (``variant="minmax"``, the CN entropy-TOPSIS): v = w * z on min-max normalized z
  (every indicator "larger is better"); ideal V+ = max over ALL rows (pooled over years, so scores are
  comparable across years), anti-ideal V- = min; D+/D- Euclidean; closeness D- / (D+ + D-).
* ``topsis_vector(x, w, directions)`` (Hwang & Yoon 1981, classic): r = x / sqrt(sum x^2) on raw data,
  v = w * r, ideal = max for "+" and min for "-" indicators. Matches
  ``mathmodels::topsis(X, w, index = c("+", "-", ...))`` (``R/eval_algorithms.R``).

Rows where D+ + D- = 0 (every row identical) get closeness NaN with a warning.
"""
from __future__ import annotations

import warnings
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import SpecificationError
from .weights import _matrix, check_weights

__all__ = ["topsis", "topsis_vector"]


def _closeness(v: np.ndarray, vplus: np.ndarray, vminus: np.ndarray, index) -> pd.DataFrame:
    dp = np.sqrt(((v - vplus) ** 2).sum(axis=1))
    dm = np.sqrt(((v - vminus) ** 2).sum(axis=1))
    den = dp + dm
    c = np.where(den > 0, dm / np.where(den > 0, den, 1.0), np.nan)  # the divisor is never 0
    if (den == 0).any():
        warnings.warn(f"TOPSIS: {(den == 0).sum()} row(s) have D+ = D- = 0 (all rows identical); "
                      "their closeness is NaN.", RuntimeWarning, stacklevel=3)
    return pd.DataFrame({"d_plus": dp, "d_minus": dm, "closeness": c}, index=index)


def topsis(z: pd.DataFrame, weights: pd.Series, ideal: tuple | None = None,
           return_ideal: bool = False):
    """Entropy-TOPSIS on min-max normalized ``z`` with a pooled ideal.

    Parameters
    ----------
    z
        Normalized indicators (larger is better), complete, one row per county-year.
    weights
        Weights over ``z``'s columns (sum to one; scaling all weights does not change closeness).
    ideal
        Optional ``(V+, V-)`` arrays to use instead of the max/min of ``w*z`` over the rows given,
        e.g. to score new data against a fixed ideal.
    return_ideal
        Also return the ``(V+, V-)`` used.

    Returns
    -------
    DataFrame with ``d_plus``, ``d_minus``, ``closeness`` (in [0, 1]) [, (V+, V-)].

    Examples
    --------
    The best county on both indicators has closeness 1, the worst 0:

    >>> import pandas as pd
    >>> z = pd.DataFrame({"a": [0.0, 0.5, 1.0], "b": [0.0, 0.2, 1.0]}, index=["x", "y", "w"])
    >>> out = topsis(z, pd.Series({"a": 0.5, "b": 0.5}))
    >>> out.columns.tolist(), out["closeness"].round(3).tolist()
    (['d_plus', 'd_minus', 'closeness'], [0.0, 0.363, 1.0])
    """
    arr = _matrix(z, "TOPSIS", min_rows=1)
    w = check_weights(weights, list(z.columns), "TOPSIS weights").to_numpy()
    v = arr * w
    if ideal is None:
        vplus, vminus = v.max(axis=0), v.min(axis=0)
    else:
        vplus, vminus = (np.asarray(a, dtype=float) for a in ideal)
    out = _closeness(v, vplus, vminus, z.index)
    return (out, (vplus, vminus)) if return_ideal else out


def topsis_vector(x: pd.DataFrame, weights: pd.Series, directions: Mapping[str, str]) -> pd.DataFrame:
    """Classic vector-normalized TOPSIS on RAW data (Hwang & Yoon), pooled ideal.

    ``directions`` maps each column to ``"+"`` or ``"-"``; moderate indicators are not defined in
    this variant (convert them with :func:`~analysis.indicators.normalize` and use :func:`topsis`).

    Examples
    --------
    >>> import pandas as pd
    >>> x = pd.DataFrame({"gdp": [10.0, 20.0, 30.0], "pm25": [60.0, 40.0, 30.0]})
    >>> out = topsis_vector(x, pd.Series({"gdp": 0.5, "pm25": 0.5}), {"gdp": "+", "pm25": "-"})
    >>> out["closeness"].round(3).tolist()  # the richest, cleanest county is the ideal
    [0.0, 0.555, 1.0]
    """
    cols = list(x.columns)
    arr = _matrix(x, "TOPSIS (vector)", min_rows=1)
    w = check_weights(weights, cols, "TOPSIS weights").to_numpy()
    dirs = []
    for c in cols:
        d = directions.get(c)
        if d not in ("+", "-"):
            raise SpecificationError(
                f"vector-normalized TOPSIS needs direction '+' or '-' for {c!r} (got {d!r}); "
                "use variant='minmax' for moderate indicators."
            )
        dirs.append(d)
    norm = np.sqrt((arr ** 2).sum(axis=0))
    if (norm == 0).any():
        raise SpecificationError(f"vector-normalized TOPSIS: column(s) "
                                 f"{[c for c, n in zip(cols, norm) if n == 0]} are all zero.")
    v = arr / norm * w
    pos = np.array([d == "+" for d in dirs])
    vplus = np.where(pos, v.max(axis=0), v.min(axis=0))
    vminus = np.where(pos, v.min(axis=0), v.max(axis=0))
    return _closeness(v, vplus, vminus, x.index)
