"""County names to frame codes, for yearbook tables that carry names and no codes.

Most tables of the 中国县域统计年鉴 and of provincial yearbooks list counties by name under
province and prefecture headings. :func:`match_names` matches current names, historical names from
the change events (满城县, 章丘市, 郫县 ...), and suffix variants (满城 / 满城县 / 满城区), and uses the
province and prefecture columns to tell apart names that recur (朝阳, 通州, 鼓楼 ...). A name that
still fits several counties is an error that lists the candidates; nothing is guessed.
"""
from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from ..errors import AmbiguousNameError, ColumnError, NameFormatError, UnmatchedNameError, check_choice, describe_rows
from .lineage import FRAME_VINTAGE, lineage

__all__ = ["Matched", "match_names", "normalize_names", "name_stem"]

_SUFFIXES = ("自治县", "自治旗", "林区", "特区", "县", "市", "区", "旗")
_PROV_SUFFIX = re.compile(r"(省|市|壮族自治区|回族自治区|维吾尔自治区|自治区|特别行政区)$")
_AGGREGATE = {"市辖区", "合计", "总计", "全国", "全省", "全市", "全区", "小计", "县合计", "地区合计"}


def normalize_names(series: pd.Series) -> pd.Series:
    """Names without spaces (also the full-width 　 yearbooks pad short names with) and in half-width
    form (NFKC: （ -> ( ).

    >>> normalize_names(pd.Series(["通　州", " 满城县 "])).tolist()
    ['通州', '满城县']
    """
    return series.map(lambda v: v if not isinstance(v, str)
                      else re.sub(r"\s+", "", unicodedata.normalize("NFKC", v)))


def name_stem(name: str) -> str:
    """The name without its unit suffix (满城县 -> 满城; 和县 stays 和县, a one-character stem is kept whole)."""
    for suf in _SUFFIXES:
        if name.endswith(suf) and len(name) - len(suf) >= 2:
            return name[: -len(suf)]
    return name


def _province_key(name: str) -> str:
    return _PROV_SUFFIX.sub("", name) if isinstance(name, str) else ""


@dataclass
class Matched:
    """Result of :func:`match_names`: ``.data`` with the frame code column added, ``.report`` (one row
    per distinct name: how it was matched), ``.dropped`` (aggregate rows kept out).
    """

    data: pd.DataFrame
    report: pd.DataFrame
    dropped: pd.DataFrame = field(default_factory=pd.DataFrame)
    notes: list = field(default_factory=list)

    def __str__(self) -> str:
        how = self.report["how"].value_counts().to_dict() if len(self.report) else {}
        lines = [f"match_names: {len(self.data)} rows matched to frame codes ("
                 + ", ".join(f"{k}: {v} names" for k, v in how.items()) + ")"]
        if len(self.dropped):
            lines.append(f"  aggregate rows kept out: {len(self.dropped)} "
                         f"({', '.join(map(str, self.dropped.index[:6]))}{' ...' if len(self.dropped) > 6 else ''})")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

    __repr__ = __str__


@lru_cache(maxsize=1)
def _index():
    """Name -> [(code, sorted valid years)], stem -> names, and province/prefecture lookups."""
    lin = lineage()
    by_name: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))
    for (code, year), name in lin.names.items():
        if isinstance(name, str) and name:
            by_name[normalize_names(pd.Series([name]))[0] if " " in name else name][code].append(year)
    for code, name in lin.frame_names.items():
        by_name[name][code].append(FRAME_VINTAGE)
    stems = defaultdict(set)
    for name in by_name:
        stems[name_stem(name)].add(name)
    from ..datasets import load_counties
    fr = load_counties()
    prov = {}
    for p, c in zip(fr["province"], fr["adcode"].str[:2]):
        prov[p] = c
        prov[_province_key(p)] = c
    pref = defaultdict(set)
    for p, c in zip(fr["prefecture"], fr["adcode"]):
        pref[p].add(c[:4])
    frame_pref = dict(zip(fr["adcode"], fr["prefecture"]))
    frozen = {n: {c: sorted(set(y)) for c, y in d.items()} for n, d in by_name.items()}
    return frozen, dict(stems), prov, dict(pref), frame_pref


def _candidates(name: str, year: int | None):
    by_name, stems, *_ = _index()
    lin = lineage()
    how = "exact"
    names = [name] if name in by_name else []
    if not names:
        names = sorted(stems.get(name_stem(name), ()))
        how = "suffix variant"
    out = []
    for n in names:
        for code, years in by_name[n].items():
            read = years[-1] if year is None else min(years, key=lambda y: (abs(y - year), -y))
            t = lin.target(code, read) if read <= FRAME_VINTAGE or code in lin.frame else lin.target(code, read)
            if not t.frame or len(t.frame) != 1:
                continue
            hist = n != lin.frame_names.get(t.frame[0])
            out.append({"name": n, "code": code, "frame": t.frame[0], "valid": years,
                        "in_year": year is not None and year in years,
                        "how": "historical name" if hist and how == "exact" else how})
    return out


def match_names(data: pd.DataFrame, name: str = "name", province: str | None = None,
                prefecture: str | None = None, year: str | int | None = None, code: str = "county",
                normalize: bool = True, aggregates: str = "raise") -> Matched:
    """Frame codes for county names (current or historical), using province and prefecture columns.

    Parameters
    ----------
    data : DataFrame
    name : str
        Column of county names (满城县, 满城, 满城区 and the historical 满城县 all match 130607).
    province, prefecture : str, optional
        Columns that disambiguate recurring names (朝阳区 of 北京 vs 朝阳县 of 辽宁). Short forms
        (河北, 内蒙古) are accepted. A prefecture that no longer exists (巢湖市 before 2011) is ignored
        when it excludes every candidate, and that is reported.
    year : str or int, optional
        A year column or a single year: names are read as of that year (a name valid then wins).
    code : str
        Name of the column to write the frame codes into.
    normalize : bool
        Remove spaces (the full-width 　 of printed yearbooks) and full-width forms before matching
        (reported); with False such names raise :class:`NameFormatError`.
    aggregates : {"raise", "drop"}
        Rows that are totals (市辖区, 合计, 全省, a province or prefecture name in the county column):
        raise, or keep them out and list them in ``.dropped``.

    Returns
    -------
    Matched

    Raises
    ------
    AmbiguousNameError
        A name fits several counties even with the province/prefecture given (lists the candidates).
    UnmatchedNameError
        A name fits no county of any year 1980-2026 (lists the rows).

    Examples
    --------
    >>> m = match_names(pd.DataFrame({"name": ["满城县", "章丘市"], "province": ["河北省", "山东"]}),
    ...                 province="province", year=2010)
    >>> m.data["county"].tolist()
    ['130607', '370114']
    """
    check_choice("aggregates", aggregates, ("raise", "drop"))
    for col in (name, province, prefecture):
        if col is not None and col not in data.columns:
            raise ColumnError(f"column {col!r} not in the data; columns are {list(data.columns)[:10]}.")
    df = data.copy()
    raw = df[name]
    if raw.isna().any():
        raise UnmatchedNameError(f"column {name!r} has missing names in {describe_rows(df.index[raw.isna()])}.")
    norm = normalize_names(raw.astype(str))
    changed = norm != raw.astype(str)
    notes = []
    if changed.any():
        if not normalize:
            raise NameFormatError(
                f"column {name!r} has names with spaces or full-width characters "
                f"({', '.join(raw[changed].astype(str).head(4))}) in {describe_rows(df.index[changed])}; "
                "pass normalize=True to remove them.")
        notes.append(f"{int(changed.sum())} names had spaces or full-width characters removed")
    prov_col = normalize_names(df[province].astype(str)) if province else None
    pref_col = normalize_names(df[prefecture].astype(str)) if prefecture else None

    # totals ----------------------------------------------------------------------------------
    _, _, prov_map, pref_map, frame_pref = _index()
    lin = lineage()
    is_agg = norm.isin(_AGGREGATE) | norm.map(lambda n: n in prov_map and n not in _index()[0])
    if prov_col is not None:
        is_agg |= (norm == prov_col)
    if pref_col is not None:
        is_agg |= (norm == pref_col) & ~norm.isin(set(lin.frame_names.values()))
    dropped = df[is_agg]
    if is_agg.any() and aggregates == "raise":
        raise UnmatchedNameError(
            f"column {name!r} has total rows, not counties ({', '.join(norm[is_agg].unique()[:5])}) in "
            f"{describe_rows(df.index[is_agg])}. Pass aggregates='drop' to keep them out (they are listed).")
    keep = ~is_agg
    years = None
    if isinstance(year, str):
        if year not in df.columns:
            raise ColumnError(f"year column {year!r} not in the data.")
        years = pd.to_numeric(df[year]).astype(int)
    elif year is not None:
        years = pd.Series(int(year), index=df.index)

    keys = pd.DataFrame({"n": norm, "p": prov_col if prov_col is not None else "",
                         "f": pref_col if pref_col is not None else "",
                         "y": years if years is not None else -1})[keep]
    result, report, ambiguous, unmatched = {}, [], [], []
    for n, p, f, y in keys.drop_duplicates().itertuples(index=False):
        cands = _candidates(n, None if y == -1 else int(y))
        why = []
        if p:
            pc = prov_map.get(p) or prov_map.get(_province_key(p))
            if pc is None:
                unmatched.append((n, p, f, f"province {p!r} unknown"))
                continue
            cands = [c for c in cands if pc in (c["code"][:2], c["frame"][:2])]
        if y != -1 and any(c["in_year"] for c in cands):
            cands = [c for c in cands if c["in_year"]]
        if f and len({c["frame"] for c in cands}) > 1:
            pre = pref_map.get(f, set())
            narrowed = [c for c in cands if frame_pref.get(c["frame"]) == f or c["code"][:4] in pre]
            if narrowed:
                cands = narrowed
            else:
                why.append(f"prefecture {f!r} not found among the candidates' prefectures; ignored")
        frames = sorted({c["frame"] for c in cands})
        if len(frames) == 1:
            best = sorted(cands, key=lambda c: c["how"] != "exact")[0]
            result[(n, p, f, y)] = frames[0]
            report.append({"name": n, "province": p, "prefecture": f, "county": frames[0],
                           "frame_name": lin.frame_names.get(frames[0], ""), "how": best["how"],
                           "via": f"{best['name']} {best['code']}", "note": "; ".join(why)})
        elif frames:
            ambiguous.append((n, p, f, [(c["frame"], lin.frame_names.get(c["frame"]), frame_pref.get(c["frame"]))
                                        for c in cands]))
        else:
            unmatched.append((n, p, f, "no county of this name in any year 1980-2026"))
    if ambiguous:
        parts = []
        for n, p, f, cs in ambiguous[:5]:
            uniq = list(dict.fromkeys(cs))
            parts.append(f"{n} ({p or 'no province'}{'/' + f if f else ''}): "
                         + ", ".join(f"{c} {nm} [{pf}]" for c, nm, pf in uniq[:6]))
        rows = df.index[keep & norm.isin([a[0] for a in ambiguous])]
        raise AmbiguousNameError(
            f"{len(ambiguous)} names fit several counties: " + "; ".join(parts)
            + f" (in {describe_rows(rows)}). Pass province= and prefecture= columns, or give codes for these rows.")
    if unmatched:
        rows = df.index[keep & norm.isin([u[0] for u in unmatched])]
        raise UnmatchedNameError(
            f"{len(unmatched)} names fit no county: "
            + "; ".join(f"{n} ({p or '-'}{'/' + f if f else ''}: {why})" for n, p, f, why in unmatched[:6])
            + f" in {describe_rows(rows)}. Check the spelling, or give codes for these rows.")
    out = df[keep].copy()
    out[code] = [result[k] for k in keys.itertuples(index=False, name=None)]
    return Matched(out, pd.DataFrame(report), dropped, notes)
