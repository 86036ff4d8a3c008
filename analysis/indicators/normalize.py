"""Min-max normalization (无量纲化) with directions, moderate indicators, scope and shift.

Formulas (cross-checked with the R package ``mathmodels``, zhjx19/mathmodels
``R/eval_preprocess.R``):

* positive ``+``: z = (x - min) / (max - min)
* negative ``-``: z = (max - x) / (max - min)
* moderate (target x*): z = 1 - |x - x*| / max |x - x*|  (``rescale_middle`` in mathmodels)
* optional translation z' = z + A (``shift=A``) or rescale to [a, 1 - a] (``rescale=a``).

``scope="pooled"`` (default; the panel / "global" entropy method) takes min and max over all
county-years so that the index is comparable over time; ``scope="year"`` recomputes them within each
year (the cross-section method), which destroys the time trend and warns on a panel.
Missing cells stay missing (min and max use the available data); decide about them before weighting.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Mapping

import numpy as np
import pandas as pd

from ..errors import ColumnError, MissingValueError, SpecificationError, check_choice

__all__ = ["normalize", "NormalizationBounds", "SCOPES", "PerYearScopeWarning",
           "ConstantColumnWarning"]

SCOPES = ("pooled", "year")


class PerYearScopeWarning(UserWarning):
    """Per-year normalization on a panel: scores are not comparable across years."""


class ConstantColumnWarning(UserWarning):
    """An indicator has no variation; it is set to z = 0 (plus shift) and gets weight 0."""


@dataclass
class NormalizationBounds:
    """The bounds used, so the same transformation can be applied to other data.

    ``lower``/``upper``: min and max per column (for moderate columns: 0 and the largest distance
    to the target). Indexed by column (pooled) or by (time, column) via a DataFrame (per-year).
    """

    lower: pd.Series | pd.DataFrame
    upper: pd.Series | pd.DataFrame
    directions: dict
    targets: dict
    scope: str
    shift: float
    rescale: float | None


def _as_float_frame(data: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ColumnError(f"columns {missing} are not in the data.")
    return data[columns].apply(pd.to_numeric, errors="raise").astype(float)


def _core(x: np.ndarray, lower: np.ndarray, upper: np.ndarray, dirs: list[str],
          targets: np.ndarray) -> np.ndarray:
    """Vectorized min-max on a 2-D array; lower/upper broadcast (1, k) or (N, k)."""
    z = np.empty_like(x)
    rng = upper - lower
    const = rng == 0
    with np.errstate(invalid="ignore", divide="ignore"):
        for j, d in enumerate(dirs):
            r = rng[..., j]
            if d == "+":
                z[:, j] = (x[:, j] - lower[..., j]) / r
            elif d == "-":
                z[:, j] = (upper[..., j] - x[:, j]) / r
            else:  # moderate: lower = 0, upper = max distance to target
                z[:, j] = 1.0 - np.abs(x[:, j] - targets[j]) / r
    zc = np.broadcast_to(const, z.shape)
    z = np.where(zc & ~np.isnan(x), 0.0, z)
    return z


def normalize(
    data: pd.DataFrame,
    directions: Mapping[str, str],
    targets: Mapping[str, float] | None = None,
    scope: str = "pooled",
    time: str = "year",
    shift: float = 0.0,
    rescale: float | None = None,
    bounds: NormalizationBounds | None = None,
    return_bounds: bool = False,
):
    """Min-max normalize indicator columns.

    Parameters
    ----------
    data
        Long panel (one row per county-year) holding the indicator columns (and ``time`` when
        ``scope="year"``).
    directions
        ``{column: "+" | "-" | "moderate"}``, e.g. ``system.directions``.
    targets
        ``{column: target}`` for moderate indicators (``system.targets``).
    scope
        ``"pooled"`` (default): min/max over all rows. ``"year"``: within each ``time`` value.
    shift
        Translation A added after normalization (0.0001 is common before entropy logs).
    rescale
        ``a`` maps z to [a, 1 - a] (mathmodels uses 0.002). Not together with ``shift``.
    bounds
        Bounds returned by an earlier call: apply the same transformation (fixed normalization,
        e.g. for counterfactual panels). Values outside the bounds give z outside [0, 1].
    return_bounds
        Also return the :class:`NormalizationBounds`.

    Returns
    -------
    DataFrame of z with the same index and the indicator columns (and the bounds if asked).

    Notes
    -----
    A constant column (max = min) is set to 0 (plus shift) with a :class:`ConstantColumnWarning`;
    any weight method then gives it weight 0. An all-missing column raises
    :class:`~analysis.errors.MissingValueError`.

    Examples
    --------
    A benefit (+), a cost (-) and a moderate indicator with target 50 (z = 1 at the target):

    >>> import pandas as pd
    >>> df = pd.DataFrame({"gdp": [10.0, 20.0, 30.0], "debt": [1.0, 2.0, 5.0],
    ...                    "ratio": [40.0, 50.0, 70.0]})
    >>> z = normalize(df, {"gdp": "+", "debt": "-", "ratio": "moderate"}, targets={"ratio": 50})
    >>> z.round(3).to_dict("list")
    {'gdp': [0.0, 0.5, 1.0], 'debt': [1.0, 0.75, 0.0], 'ratio': [0.5, 1.0, 0.0]}
    """
    check_choice("scope", scope, SCOPES)
    targets = dict(targets or {})
    columns = list(directions)
    dirs = []
    for c in columns:
        d = directions[c]
        check_choice(f"direction of {c!r}", d, ("+", "-", "moderate"))
        if d == "moderate" and c not in targets:
            raise SpecificationError(f"moderate indicator {c!r} needs a target value (targets={{...}}).")
        dirs.append(d)
    if shift and rescale is not None:
        raise SpecificationError("use either shift= or rescale=, not both (shifting and then "
                                 "re-normalizing is a common mistake).")
    if rescale is not None and not 0 <= rescale < 0.5:
        raise SpecificationError(f"rescale={rescale} must be in [0, 0.5): z is mapped to [a, 1 - a].")
    if shift < 0:
        raise SpecificationError(f"shift={shift} must be non-negative.")
    x_df = _as_float_frame(data, columns)
    all_missing = [c for c in columns if x_df[c].isna().all()]
    if all_missing:
        raise MissingValueError(
            f"indicator column(s) {', '.join(all_missing)} are entirely missing: nothing to "
            "normalize. Fill them from another source or drop them from the indicator system."
        )
    x = x_df.to_numpy()
    tg = np.array([float(targets.get(c, np.nan)) for c in columns])
    is_mod = np.array([d == "moderate" for d in dirs])

    if bounds is None:
        if scope == "pooled":
            lo, hi = _bounds(x, tg, is_mod)
            lower = pd.Series(lo, index=columns)
            upper = pd.Series(hi, index=columns)
        else:
            if time not in data.columns:
                raise ColumnError(f"scope='year' needs the time column {time!r} in the data.")
            tvals = data[time].to_numpy()
            years = pd.unique(tvals)
            if len(years) > 1:
                warnings.warn(
                    "scope='year' recomputes min and max every year: the best county in each year "
                    "gets z = 1, so scores are NOT comparable across years (the time trend is "
                    "destroyed). Use scope='pooled' for panel trends.",
                    PerYearScopeWarning, stacklevel=2,
                )
            lo_rows, hi_rows = {}, {}
            for y in years:
                m = tvals == y
                lo_rows[y], hi_rows[y] = _bounds(x[m], tg, is_mod)
            lower = pd.DataFrame(lo_rows, index=columns).T
            upper = pd.DataFrame(hi_rows, index=columns).T
    else:
        if list(bounds.directions) != columns:
            raise SpecificationError("bounds were computed for other columns: "
                                     f"{list(bounds.directions)} vs {columns}.")
        lower, upper, scope = bounds.lower, bounds.upper, bounds.scope
        shift, rescale = bounds.shift, bounds.rescale

    if isinstance(lower, pd.DataFrame):
        if time not in data.columns:
            raise ColumnError(f"per-year bounds need the time column {time!r} in the data.")
        tv = data[time]
        unknown = set(pd.unique(tv)) - set(lower.index)
        if unknown:
            raise SpecificationError(f"no per-year bounds for {sorted(unknown)}.")
        lo_arr = lower.loc[tv.to_numpy()].to_numpy()
        hi_arr = upper.loc[tv.to_numpy()].to_numpy()
    else:
        lo_arr = lower.to_numpy()[None, :]
        hi_arr = upper.to_numpy()[None, :]

    const_cols = [c for j, c in enumerate(columns) if np.any(hi_arr[..., j] == lo_arr[..., j])]
    if const_cols and bounds is None:
        warnings.warn(
            f"indicator(s) {', '.join(const_cols)} are constant"
            f"{' in some year' if scope == 'year' else ''} (max = min): set to z = 0 and they get "
            "weight 0. Drop them from the indicator system if that is not intended.",
            ConstantColumnWarning, stacklevel=2,
        )
    z = _core(x, lo_arr, hi_arr, dirs, tg)
    if rescale is not None:
        z = rescale + (1 - 2 * rescale) * z
    elif shift:
        z = z + shift
    out = pd.DataFrame(z, index=data.index, columns=columns)
    if return_bounds:
        return out, NormalizationBounds(lower, upper, dict(zip(columns, dirs)),
                                        {c: targets[c] for c in columns if c in targets},
                                        scope, float(shift), rescale)
    return out


def _bounds(x: np.ndarray, tg: np.ndarray, is_mod: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN slices in one year
        lo = np.nanmin(x, axis=0)
        hi = np.nanmax(x, axis=0)
        if is_mod.any():
            dev = np.nanmax(np.abs(x - tg[None, :]), axis=0)
            lo = np.where(is_mod, 0.0, lo)
            hi = np.where(is_mod, dev, hi)
    return lo, hi
