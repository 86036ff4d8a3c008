"""Express frame codes (and the shipped policy lists) in the codes of any year."""
from __future__ import annotations

from collections import defaultdict

import pandas as pd

from ..errors import ColumnError
from .harmonize import frame_code_map

__all__ = ["codes_in_year", "policy_codes"]


def codes_in_year(frame_codes, year: int) -> dict[str, list[str]]:
    """``{frame code: [codes of year that land on it]}``: usually one code; several where units were
    merged later (e.g. 邢台县 130521 and 桥西区 130503 of 2019 both land on 信都区 130503).

    >>> codes_in_year(["130607", "510117"], 2010)
    {'130607': ['130621'], '510117': ['510124']}
    """
    inverse = defaultdict(list)
    for code, frame in frame_code_map(int(year)).items():
        inverse[frame].append(code)
    return {f: sorted(inverse.get(str(f), [])) for f in frame_codes}


def policy_codes(policy: pd.DataFrame, year: int, code: str = "adcode_current") -> pd.DataFrame:
    """A policy list (one row per county, frame codes in ``code``) with the codes of ``year`` added.

    Adds ``code_<year>`` (the codes of that year joined with ``+`` where a county was then several
    units; empty where the county did not exist yet).

    >>> from analysis.datasets import load_land_reform_pilots
    >>> p = policy_codes(load_land_reform_pilots(), 2010)
    >>> p.loc[p["adcode_current"] == "120119", "code_2010"].item()
    '120225'
    """
    if code not in policy.columns:
        raise ColumnError(f"policy list has no column {code!r}; columns are {list(policy.columns)}.")
    m = codes_in_year(policy[code].astype(str), year)
    out = policy.copy()
    out[f"code_{int(year)}"] = [("+".join(m[c]) if m[c] else "") for c in policy[code].astype(str)]
    return out
