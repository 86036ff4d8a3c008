"""Preparing a panel for estimation: keys, balance, interpolation, winsorizing, lags."""
from __future__ import annotations

import numpy as np
import pandas as pd

from ..errors import (
    ColumnError,
    MissingValueError,
    NonNumericError,
    SpecificationError,
    check_choice,
    describe_rows,
)
from ..results import RowReport
from ..validation import check_unique_keys
from .io import check_group_keys

# ---------------------------------------------------------------------------------------------
# panel helpers
# ---------------------------------------------------------------------------------------------

def _need_columns(df: pd.DataFrame, cols, what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ColumnError(f"{what}: columns {missing} are not in the frame "
                          f"(it has {list(df.columns)[:15]}...).")


def _check_keys(df: pd.DataFrame, entity: str, time: str) -> None:
    _need_columns(df, [entity, time], "panel keys")
    nk = df[[entity, time]].isna().any(axis=1)
    if nk.any():
        raise MissingValueError(f"missing {entity}/{time} in {describe_rows(df.index[nk])}.")
    check_unique_keys(df, entity, time)


def check_panel(df: pd.DataFrame, entity: str = "county", time: str = "year") -> dict:
    """Check that (entity, time) keys are present and unique; summarise the balance.

    Like Stata ``xtset`` + ``xtdescribe``.

    Returns
    -------
    dict
        ``n_obs``, ``n_units``, ``n_periods``, ``first``, ``last``, ``balanced`` (every unit
        observed in every period of the panel), ``n_incomplete`` (units missing some period),
        ``obs_per_unit`` (min, median, max) and ``gaps`` (units with a hole between their first
        and last year).

    Examples
    --------
    >>> from analysis.panel import check_panel
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"county": ["110101"] * 3 + ["110102"] * 2,
    ...                    "year": [2010, 2011, 2012, 2010, 2012],
    ...                    "y": [1.0, np.nan, 3.0, 2.0, 4.0]})
    >>> info = check_panel(df)
    >>> info["n_units"], info["n_periods"], info["balanced"], info["gaps"]
    (2, 3, False, 1)
    """
    _check_keys(df, entity, time)
    periods = np.sort(df[time].unique())
    counts = df.groupby(entity, sort=False)[time].agg(["size", "min", "max"])
    span = counts["max"] - counts["min"] + 1
    if pd.api.types.is_integer_dtype(df[time]):
        gaps = int((counts["size"] < span).sum())
    else:
        gaps = 0
    return {
        "n_obs": int(len(df)),
        "n_units": int(len(counts)),
        "n_periods": int(len(periods)),
        "first": periods[0].item() if len(periods) else None,
        "last": periods[-1].item() if len(periods) else None,
        "balanced": bool((counts["size"] == len(periods)).all()),
        "n_incomplete": int((counts["size"] < len(periods)).sum()),
        "obs_per_unit": (int(counts["size"].min()), float(counts["size"].median()),
                         int(counts["size"].max())) if len(counts) else (0, 0.0, 0),
        "gaps": gaps,
    }


def balance(df: pd.DataFrame, entity: str = "county", time: str = "year", periods=None,
            action: str = "report"):
    """Which units are incomplete, and optionally balance the panel.

    Parameters
    ----------
    periods : sequence, optional
        The periods every unit should have (default: all periods present in ``df``).
    action : {"report", "drop", "fill"}
        ``"report"`` returns a DataFrame of the incomplete units (``entity``, ``n_periods``,
        ``missing_periods``, ``first``, ``last``); ``"drop"`` returns the panel without them and
        ``"fill"`` returns the full unit x period grid with NaN rows added. For ``drop`` and
        ``fill`` the report is in ``result.attrs["balance_report"]`` (list of records) and the row
        accounting in
        ``result.attrs["rows"]`` (:class:`~analysis.results.RowReport`).

    Examples
    --------
    >>> from analysis.panel import balance
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"county": ["110101"] * 3 + ["110102"] * 2,
    ...                    "year": [2010, 2011, 2012, 2010, 2012],
    ...                    "y": [1.0, np.nan, 3.0, 2.0, 4.0]})
    >>> balance(df)[["county", "missing_periods"]].values.tolist()
    [['110102', '2011']]
    >>> full = balance(df, action="fill")
    >>> full.shape, full.attrs["rows_added"]
    ((6, 3), 1)
    >>> balance(df, action="drop")["county"].unique().tolist()
    ['110101']
    """
    check_choice("action", action, ("report", "drop", "fill"))
    _check_keys(df, entity, time)
    periods = np.sort(pd.unique(df[time])) if periods is None else np.sort(np.asarray(periods))
    pset = set(periods.tolist())
    rows = []
    for unit, t in df.groupby(entity, sort=True)[time]:
        have = set(t.tolist())
        miss = sorted(pset - have)
        if miss:
            rows.append({entity: unit, "n_periods": len(have & pset),
                         "missing_periods": ", ".join(str(m) for m in miss),
                         "first": min(have), "last": max(have)})
    rep = pd.DataFrame(rows, columns=[entity, "n_periods", "missing_periods", "first", "last"])
    if action == "report":
        return rep
    if action == "drop":
        bad = df[entity].isin(rep[entity]) | ~df[time].isin(periods)
        out = df.loc[~bad].reset_index(drop=True)
        out.attrs["rows"] = RowReport(len(df), len(out), {
            "unit not observed in every period": int(df[entity].isin(rep[entity]).sum()),
            "period outside the requested periods": int((bad & ~df[entity].isin(rep[entity]))
                                                        .sum())})
    else:
        grid = pd.MultiIndex.from_product([pd.unique(df[entity]), periods],
                                          names=[entity, time]).to_frame(index=False)
        out = grid.merge(df, on=[entity, time], how="left", validate="one_to_one")
        extra = int((~df[time].isin(periods)).sum())
        if extra:
            out = pd.concat([out, df[~df[time].isin(periods)]], ignore_index=True)
        out = out.sort_values([entity, time], kind="stable").reset_index(drop=True)
        out.attrs["rows"] = RowReport(len(df), len(df))
        out.attrs["rows_added"] = int(len(out) - len(df))
    out.attrs["balance_report"] = rep.to_dict("records")
    return out


def interpolate(df: pd.DataFrame, columns, entity: str = "county", time: str = "year",
                extrapolate: str = "carry") -> pd.DataFrame:
    """Fill missing cells by linear interpolation in time within each county.

    Like Stata ``ipolate y year, by(county) epolate`` but with the edge values carried (not
    extrapolated linearly) before the first and after the last observed year, as is usual for
    yearbook gaps. Interpolation is on the year *values*, so uneven spacing is respected.
    Non-missing cells are never changed; counties where a column is entirely missing stay missing.

    Parameters
    ----------
    columns : str or list of str
    extrapolate : {"carry", "none"}
        ``"carry"`` carries the first/last observed value to the edges; ``"none"`` fills only
        interior gaps.

    Returns
    -------
    DataFrame
        A copy; ``attrs["interpolate_report"]`` is a dict ``{column: {"missing", "interior",
        "edge", "still_missing"}}``: the cells that were missing, filled between observations,
        filled at the edges and left missing (counties with no observation of the column).
        ``pd.DataFrame(out.attrs["interpolate_report"]).T`` shows it as a table. (Reports are
        plain dicts because pandas compares ``attrs`` when concatenating.)

    Examples
    --------
    >>> from analysis.panel import interpolate
    >>> import numpy as np, pandas as pd
    >>> df = pd.DataFrame({"county": ["110101"] * 3 + ["110102"] * 2,
    ...                    "year": [2010, 2011, 2012, 2010, 2012],
    ...                    "y": [1.0, np.nan, 3.0, 2.0, 4.0]})
    >>> out = interpolate(df, "y")
    >>> out["y"].tolist()
    [1.0, 2.0, 3.0, 2.0, 4.0]
    >>> out.attrs["interpolate_report"]["y"]
    {'missing': 1, 'interior': 1, 'edge': 0, 'still_missing': 0}
    """
    check_choice("extrapolate", extrapolate, ("carry", "none"))
    columns = [columns] if isinstance(columns, str) else list(columns)
    _need_columns(df, columns, "interpolate")
    _check_keys(df, entity, time)
    out = df.copy()
    # vectorized over counties: sort once, then the previous and next observed value (and year)
    # of every cell within its county come from grouped forward/backward fills
    order = np.lexsort((pd.to_numeric(out[time]).to_numpy(dtype=float), pd.factorize(out[entity])[0]))
    key = pd.Series(pd.factorize(out[entity])[0][order])
    t_sorted = pd.to_numeric(out[time]).to_numpy(dtype=float)[order]
    stats: dict[str, dict[str, int]] = {}
    for col in columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            raise NonNumericError(f"interpolate: column {col!r} is not numeric "
                                  f"(dtype {out[col].dtype}).")
        y = out[col].to_numpy(dtype=float, na_value=np.nan)[order]
        miss = np.isnan(y)
        t_obs = pd.Series(np.where(miss, np.nan, t_sorted))
        y_obs = pd.Series(y)
        prev_y = y_obs.groupby(key).ffill().to_numpy()
        prev_t = t_obs.groupby(key).ffill().to_numpy()
        next_y = y_obs.groupby(key).bfill().to_numpy()
        next_t = t_obs.groupby(key).bfill().to_numpy()
        inside = miss & ~np.isnan(prev_y) & ~np.isnan(next_y)
        with np.errstate(invalid="ignore", divide="ignore"):
            linear = prev_y + (t_sorted - prev_t) * (next_y - prev_y) / (next_t - prev_t)
        filled = np.where(inside, linear, y)
        at_edge = miss & ~inside & (~np.isnan(prev_y) | ~np.isnan(next_y))
        if extrapolate == "carry":
            filled = np.where(at_edge & np.isnan(prev_y), next_y, filled)
            filled = np.where(at_edge & np.isnan(next_y), prev_y, filled)
        result = np.empty_like(filled)
        result[order] = filled
        out[col] = result
        stats[col] = {"missing": int(miss.sum()), "interior": int(inside.sum()),
                      "edge": int(at_edge.sum()) if extrapolate == "carry" else 0,
                      "still_missing": int(np.isnan(result).sum())}
    out.attrs["interpolate_report"] = stats
    return out


def winsorize(df: pd.DataFrame, columns, limits=(0.01, 0.99), by=None) -> pd.DataFrame:
    """Clip columns at their quantiles (Stata ``winsor2 ..., cuts(1 99)``).

    Parameters
    ----------
    columns : str or list of str
    limits : (float, float)
        Lower and upper quantiles in [0, 1] (``None`` for one side); default 1% and 99%.
    by : str or list of str, optional
        Winsorize within groups (e.g. ``"year"``), like ``winsor2 ..., by(year)``.

    Returns
    -------
    DataFrame
        A copy; missing cells stay missing. ``attrs["winsorize_report"]`` is a dict
        ``{column: {"clipped_low", "clipped_high"}}`` counting the cells clipped at each end. The
        transform is monotone: it never reverses the order of two values within a group.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.panel import winsorize
    >>> df = pd.DataFrame({"x": np.arange(1.0, 11.0)})
    >>> out = winsorize(df, "x", limits=(0.1, 0.9))
    >>> np.round(out["x"].to_numpy(), 3).tolist()
    [1.9, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 9.1]
    >>> out.attrs["winsorize_report"]["x"]
    {'clipped_low': 1, 'clipped_high': 1}
    """
    columns = [columns] if isinstance(columns, str) else list(columns)
    _need_columns(df, columns + ([by] if isinstance(by, str) else list(by or [])), "winsorize")
    lo, hi = limits
    for q in (lo, hi):
        if q is not None and not 0 <= q <= 1:
            raise SpecificationError(f"limits={limits!r}: quantiles must be in [0, 1].")
    if lo is not None and hi is not None and lo > hi:
        raise SpecificationError(f"limits={limits!r}: the lower quantile exceeds the upper.")
    if by is not None:
        check_group_keys(df, [by] if isinstance(by, str) else list(by), "winsorize(by=...)")
    out = df.copy()
    stats: dict[str, dict[str, int]] = {}
    for col in columns:
        if not pd.api.types.is_numeric_dtype(out[col]):
            raise NonNumericError(f"winsorize: column {col!r} is not numeric "
                                  f"(dtype {out[col].dtype}).")
        x = out[col].astype(float)
        if by is None:
            qlo = x.quantile(lo) if lo is not None else -np.inf
            qhi = x.quantile(hi) if hi is not None else np.inf
        else:
            g = x.groupby([out[b] for b in ([by] if isinstance(by, str) else by)])
            qlo = g.transform(lambda s: s.quantile(lo)) if lo is not None else -np.inf
            qhi = g.transform(lambda s: s.quantile(hi)) if hi is not None else np.inf
        clipped = x.clip(lower=qlo, upper=qhi)
        stats[col] = {"clipped_low": int((x < qlo).sum()), "clipped_high": int((x > qhi).sum())}
        out[col] = clipped
    out.attrs["winsorize_report"] = stats
    return out


def add_lags(df: pd.DataFrame, columns, lags=1, entity: str = "county", time: str = "year",
             suffix: str = "_lag{k}") -> pd.DataFrame:
    """Add lagged columns by time *value* within each county (Stata ``L.x`` after ``xtset``).

    A lag is missing where the earlier year is not in the panel (gaps are not bridged).

    Parameters
    ----------
    columns : str or list of str
    lags : int or sequence of int
        Positive integers are lags, negative ones leads.
    suffix : str
        Name pattern, ``{k}`` is the lag (default ``x_lag1``; leads are ``x_lead1``).

    Returns
    -------
    DataFrame
        A copy with the new columns, rows in the original order.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.panel import add_lags
    >>> df = pd.DataFrame({"county": ["110101"] * 3 + ["110102"] * 2,
    ...                    "year": [2010, 2011, 2012, 2010, 2012],
    ...                    "y": [1.0, 2.0, 3.0, 5.0, 6.0]})
    >>> out = add_lags(df, "y", lags=[1, -1])
    >>> out["y_lag1"].tolist()  # 110102 has no 2011, so its 2012 lag is missing
    [nan, 1.0, 2.0, nan, nan]
    >>> out["y_lead1"].tolist()
    [2.0, 3.0, nan, nan, nan]
    """
    columns = [columns] if isinstance(columns, str) else list(columns)
    lags = [lags] if isinstance(lags, (int, np.integer)) else list(lags)
    _need_columns(df, columns, "add_lags")
    _check_keys(df, entity, time)
    if any(int(k) != k or k == 0 for k in lags):
        raise SpecificationError(f"lags={lags!r}: use non-zero integers.")
    out = df.copy()
    base = df[[entity, time] + columns]
    for k in lags:
        k = int(k)
        shifted = base.copy()
        shifted[time] = shifted[time] + k
        name = (lambda c: f"{c}{suffix.format(k=k)}") if k > 0 else (
            lambda c: f"{c}_lead{-k}")
        shifted = shifted.rename(columns={c: name(c) for c in columns})
        clash = [name(c) for c in columns if name(c) in out.columns]
        if clash:
            raise ColumnError(f"add_lags would overwrite existing columns {clash}.")
        merged = out[[entity, time]].merge(shifted, on=[entity, time], how="left",
                                           validate="one_to_one")
        for c in columns:
            out[name(c)] = merged[name(c)].to_numpy()
    return out
