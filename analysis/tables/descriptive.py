"""Descriptive statistics table (描述性统计), the first table of most empirical papers.

Rows are variables, columns the statistics (N, mean, sd, min, max by default), as Stata's
``tabstat ..., stat(n mean sd min max) col(stat)`` or ``sum2docx`` lay it out. Outputs as every
:class:`~analysis.tables.render.Table`: DataFrame, LaTeX, HTML, Markdown, Excel, Word three-line.
"""
from __future__ import annotations

from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ColumnError, NonNumericError, SpecificationError, check_choice, describe_rows
from .render import Table

__all__ = ["descriptive_table", "DescriptiveTable", "DESCRIPTIVE_STATS"]

#: statistic -> (English header, Chinese header, function of a non-missing Series)
DESCRIPTIVE_STATS = {
    "N": ("N", "观测值", lambda s: float(s.size)),
    "mean": ("Mean", "均值", lambda s: float(s.mean())),
    "sd": ("Std. dev.", "标准差", lambda s: float(s.std(ddof=1)) if s.size > 1 else np.nan),
    "min": ("Min", "最小值", lambda s: float(s.min())),
    "max": ("Max", "最大值", lambda s: float(s.max())),
    "median": ("Median", "中位数", lambda s: float(s.median())),
    "p25": ("P25", "25%分位数", lambda s: float(s.quantile(0.25))),
    "p75": ("P75", "75%分位数", lambda s: float(s.quantile(0.75))),
    "missing": ("Missing", "缺失值", None),
}


def _restrict_to_sample(data: pd.DataFrame, columns, sample):
    """Rows of ``data`` used by the result ``sample`` and, without ``columns``, its variables."""
    if sample is None:
        if columns is None:
            raise SpecificationError("give the columns to describe (or sample=<an estimation result>).")
        return data, columns
    index = getattr(sample, "extra", {}).get("sample_index")
    if index is None:
        raise SpecificationError(
            f"sample={type(sample).__name__} does not record the rows it used (extra['sample_index']); "
            "pass the estimation sample as data instead, e.g. data.loc[rows].")
    data = data.loc[index]
    if columns is None:
        terms = [t for t in getattr(sample, "params", pd.Series(dtype=float)).index if t in data.columns]
        columns = [c for c in [getattr(sample, "outcome", ""), *terms] if c and c in data.columns]
    return data, columns


class DescriptiveTable(Table):
    """A descriptive :class:`~analysis.tables.render.Table`; ``values`` holds the unrounded numbers."""

    values: pd.DataFrame | None = None


def descriptive_table(
    data: pd.DataFrame,
    columns: Sequence[str] | None = None,
    labels: Mapping[str, str] | Sequence[str] | None = None,
    lang: str = "zh",
    stats: Sequence[str] = ("N", "mean", "sd", "min", "max"),
    *,
    digits: int = 3,
    title: str = "",
    notes: Sequence[str] | str | None = None,
    sample=None,
) -> DescriptiveTable:
    """Summary statistics of ``columns`` (missing cells excluded per column; N counts the rest).

    Parameters
    ----------
    data
        Any DataFrame (e.g. the county panel).
    columns
        Numeric columns, one row each, in this order.
    labels
        Row labels: a dict {column: label} or a list parallel to ``columns`` (e.g. Chinese names).
    lang
        ``"zh"`` or ``"en"`` headers and notes.
    stats
        Any of ``N``, ``mean``, ``sd``, ``min``, ``max``, ``median``, ``p25``, ``p75``, ``missing``.
    sample
        Optional estimation result (any :class:`~analysis.results.EstimationResult` that keeps its
        sample, e.g. from :func:`~analysis.regression.fe`): describe only the rows it used. With
        ``columns=None`` the rows are its outcome and the regressors found in ``data``.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"y": [1.0, 2.0, 3.0, None], "x": [0.0, 1.0, 0.0, 1.0]})
    >>> descriptive_table(d, ["y", "x"], lang="en").values["N"].tolist()
    [3.0, 4.0]
    """
    check_choice("lang", lang, ("zh", "en"))
    data, columns = _restrict_to_sample(data, columns, sample)
    columns = [columns] if isinstance(columns, str) else list(columns)
    missing = [c for c in columns if c not in data.columns]
    if missing:
        raise ColumnError(f"columns {missing} are not in the data; available: {list(data.columns)[:30]}.")
    for s in stats:
        check_choice("stats entry", s, tuple(DESCRIPTIVE_STATS))
    if isinstance(labels, Mapping) or labels is None:
        lab = {c: (labels or {}).get(c, c) for c in columns}
    else:
        labels = list(labels)
        if len(labels) != len(columns):
            raise SpecificationError(f"labels has {len(labels)} entries for {len(columns)} columns.")
        lab = dict(zip(columns, labels))
    values = {}
    for c in columns:
        col = data[c]
        if not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            num = pd.to_numeric(col, errors="coerce")
            bad = num.isna() & col.notna()
            raise NonNumericError(
                f"column {c!r} is not numeric (non-numeric cells in {describe_rows(data.index[bad])}); "
                "convert it with pd.to_numeric or leave it out."
            )
        s = col.astype(float).dropna()
        row = {}
        for st in stats:
            if st == "missing":
                row[st] = float(col.isna().sum())
            else:
                row[st] = DESCRIPTIVE_STATS[st][2](s) if s.size else np.nan
        values[c] = row
    vals = pd.DataFrame.from_dict(values, orient="index")[list(stats)]
    stub = "变量" if lang == "zh" else "Variable"
    header = [[stub] + [DESCRIPTIVE_STATS[s][0 if lang == "en" else 1] for s in stats]]
    body = []
    for c in columns:
        cells = []
        for st in stats:
            v = vals.loc[c, st]
            if not np.isfinite(v):
                cells.append("")
            elif st in ("N", "missing"):
                cells.append(str(int(v)))
            else:
                cells.append(f"{v:.{digits}f}")
        body.append([str(lab[c])] + cells)
    note_lines = []
    if notes:
        note_lines = [notes] if isinstance(notes, str) else list(notes)
    table = DescriptiveTable(header=header, body=body, title=title, notes=note_lines, lang=lang)
    table.values = vals.rename(index=lab)
    return table
