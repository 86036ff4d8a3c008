"""Formula parsing and estimation-sample bookkeeping shared by the regression modules (private).

Rows are never dropped silently: :func:`prepare_sample` returns the rows it keeps and a
:class:`~analysis.results.RowReport` with one reason per dropped row (the first missing variable
in formula order, then singleton groups as reghdfe drops them).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import (
    ColumnError,
    NegativeValueError,
    NonNumericError,
    SpecificationError,
    describe_rows,
)
from ..results import RowReport
from ..validation import check_unique_keys

__all__ = ["ParsedFormula", "parse_formula", "as_tuple", "prepare_sample", "drop_singletons", "Sample"]

_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_.]*$")
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


def as_tuple(value) -> tuple[str, ...]:
    """``None`` -> ``()``, ``"a+b"`` -> ``("a", "b")``, sequences -> tuple of str."""
    if value is None or value is False:
        return ()
    if isinstance(value, str):
        parts = [p.strip() for p in value.split("+")]
        return tuple(p for p in parts if p and p != "0")
    return tuple(str(v).strip() for v in value)


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses."""
    out, depth, cur = [], 0, []
    for ch in text:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return [s.strip() for s in out]


@dataclass
class ParsedFormula:
    lhs: str
    rhs: str
    terms: list[str]
    fe: tuple[str, ...] | None  # None when the formula has no "| fe" part

    @property
    def depvar(self) -> str:
        return self.lhs


def parse_formula(formula: str) -> ParsedFormula:
    """Parse ``"y ~ x1 + x2"`` or fixest's ``"y ~ x1 + x2 | fe1 + fe2"``."""
    if not isinstance(formula, str) or "~" not in formula:
        raise SpecificationError(
            f"formula={formula!r} is not a formula; write it as 'y ~ x1 + x2' (fixed effects go in "
            "fe=, or after a bar: 'y ~ x1 + x2 | county + year')."
        )
    parts = _split_top(formula, "|")
    if len(parts) > 2:
        raise SpecificationError(
            f"formula {formula!r} has {len(parts) - 1} '|' parts; only 'y ~ x | fe' is supported "
            "(instrumental variables are not part of fe())."
        )
    if parts[0].count("~") > 1:
        raise SpecificationError(f"formula {formula!r} has {parts[0].count('~')} '~'; write one: 'y ~ x1 + x2'.")
    lhs, rhs = (s.strip() for s in parts[0].split("~"))
    if not lhs:
        raise SpecificationError(f"formula {formula!r} has no dependent variable left of '~'.")
    if not rhs:
        raise SpecificationError(f"formula {formula!r} has no regressors right of '~'; write 'y ~ x'.")
    terms = [t for t in _split_top(rhs, "+") if t]
    fe = as_tuple(parts[1]) if len(parts) == 2 else None
    return ParsedFormula(lhs=lhs, rhs=rhs, terms=terms, fe=fe)


def _bare_names(term: str) -> list[str]:
    return [p.strip() for p in re.split(r"[:*]", term) if _NAME.match(p.strip())]


def drop_singletons(codes: Sequence[np.ndarray]) -> np.ndarray:
    """Boolean mask of rows kept after iteratively dropping singleton groups (reghdfe, Correia 2015)."""
    if not codes:
        return np.ones(0, dtype=bool)
    n = len(codes[0])
    keep = np.ones(n, dtype=bool)
    changed = True
    while changed:
        changed = False
        for c in codes:
            idx = np.flatnonzero(keep)
            counts = np.bincount(c[idx])
            single = counts[c[idx]] == 1
            if single.any():
                keep[idx[single]] = False
                changed = True
    return keep


@dataclass
class Sample:
    """The estimation sample: a clean frame (original index kept) plus its row accounting."""

    frame: pd.DataFrame
    rows: RowReport
    parsed: ParsedFormula
    fe: tuple[str, ...]
    fe_codes: list[np.ndarray] = field(default_factory=list)
    variables: list[str] = field(default_factory=list)


def _fe_codes(frame: pd.DataFrame, name: str) -> np.ndarray:
    parts = [p.strip() for p in name.split("^")]
    if len(parts) == 1:
        return pd.factorize(frame[parts[0]], sort=True)[0]
    return frame.groupby(parts, sort=True).ngroup().to_numpy()


def prepare_sample(
    data: pd.DataFrame,
    formula: str,
    fe,
    extra_columns: Sequence[str] = (),
    weights: str | None = None,
    entity: str | None = "county",
    time: str | None = "year",
    singletons: bool = True,
    check_keys: bool = True,
) -> Sample:
    """Validate columns, drop rows with missing values (reason per variable) and singletons."""
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError(f"data must be a pandas DataFrame (one row per county-year), got {type(data).__name__}.")
    parsed = parse_formula(formula)
    fe_t = parsed.fe if parsed.fe is not None else as_tuple(fe)
    cols = set(map(str, data.columns))

    # variables: bare names must be columns; other tokens are used if they are columns
    if not (_NAME.match(parsed.lhs) or any(t in cols for t in _TOKEN.findall(parsed.lhs))):
        raise ColumnError(f"dependent variable {parsed.lhs!r} is not a column of data.")
    variables: list[str] = []
    bare: list[str] = []
    for text in [parsed.lhs, *parsed.terms]:
        names = _bare_names(text)
        for nm in names:
            if nm in ("1", "0"):
                continue
            if nm not in cols:
                close = [c for c in cols if c.lower() == nm.lower()]
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ColumnError(f"column {nm!r} (in the formula) is not in data.{hint}")
            bare.append(nm)
        for tok in _TOKEN.findall(text):
            if tok in cols and tok not in variables:
                variables.append(tok)
    fe_cols = [p.strip() for f in fe_t for p in f.split("^")]
    for c in list(fe_cols) + [c for c in extra_columns if c] + ([weights] if weights else []):
        if c not in cols:
            raise ColumnError(f"column {c!r} (fixed effect, cluster, panel key or weights) is not in data.")
    for nm in dict.fromkeys(bare):
        s = data[nm]
        if not (pd.api.types.is_numeric_dtype(s) or pd.api.types.is_bool_dtype(s)):
            bad = s.index[pd.to_numeric(s, errors="coerce").isna() & s.notna()]
            raise NonNumericError(
                f"column {nm!r} is not numeric (dtype {s.dtype}; non-numeric cells in "
                f"{describe_rows(bad)}). Convert it with pd.to_numeric, or write C({nm}) in the "
                "formula to treat it as categorical."
            )

    if check_keys and entity and time and entity in cols and time in cols:
        check_unique_keys(data, entity, time)

    order = list(dict.fromkeys(variables + fe_cols + [c for c in extra_columns if c] + ([weights] if weights else [])))
    frame = data[order]
    n_input = len(frame)
    alive = np.ones(n_input, dtype=bool)
    dropped: dict[str, int] = {}
    for c in order:
        s = frame[c]
        miss = s.isna().to_numpy()
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
            miss = miss | ~np.isfinite(s.to_numpy(dtype=float, na_value=np.nan))
        new = miss & alive
        if new.any():
            dropped[f"missing {c}"] = int(new.sum())
            alive &= ~miss
    if weights:
        w = frame[weights].to_numpy(dtype=float, na_value=np.nan)
        neg = alive & (w < 0)
        if neg.any():
            raise NegativeValueError(
                f"weights column {weights!r} is negative in {describe_rows(frame.index[neg])}; "
                "weights must be >= 0."
            )
        zero = alive & (w == 0)
        if zero.any():
            dropped["zero weight"] = int(zero.sum())
            alive &= ~zero
    clean = frame[alive]
    codes = [_fe_codes(clean, f) for f in fe_t]
    if singletons and codes:
        keep = drop_singletons(codes)
        n_single = int((~keep).sum())
        if n_single:
            dropped["singleton groups (dropped as reghdfe does)"] = n_single
            clean = clean[keep]
            codes = [pd.factorize(c[keep], sort=True)[0] for c in codes]
    rows = RowReport(n_input=n_input, n_used=len(clean), dropped=dropped)
    if len(clean) == 0:
        raise SpecificationError(f"no rows left to estimate {formula!r}: {rows}.")
    return Sample(frame=clean, rows=rows, parsed=parsed, fe=fe_t, fe_codes=codes, variables=variables)
