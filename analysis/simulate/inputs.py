"""The real inputs of the SIMULATED panel: the county frame, its edges and the land-reform pilots.

:func:`load_inputs` checks the county frame (default: the shipped ``data/counties.csv``,
``data/county_queen_edges.csv`` and ``data/land_reform_pilots.csv`` through
:mod:`analysis.datasets`), :func:`pilot_table` gives each pilot county its reform year and type,
and :func:`zone_members` flags the counties of the 2019 urban-rural integration pilot zones.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import ColumnError, SpecificationError
from .parameters import _PILOT_TYPE, _ZONES

__all__ = ["load_inputs", "pilot_table", "zone_members"]


def load_inputs(counties, edges, pilots):
    """The county frame (adcodes as 6-digit strings, sorted), edges and pilots; defaults shipped."""
    if counties is None or edges is None or pilots is None:
        from .. import datasets
        counties = datasets.load_counties() if counties is None else counties
        edges = datasets.load_county_edges() if edges is None else edges
        pilots = datasets.load_land_reform_pilots() if pilots is None else pilots
    need = ["adcode", "name", "prefecture", "province", "region", "county_type", "lon", "lat",
            "area_km2"]
    miss = [c for c in need if c not in counties.columns]
    if miss:
        raise ColumnError(f"the county frame lacks {miss}; pass analysis.datasets.load_counties().")
    counties = counties.assign(adcode=counties["adcode"].astype(str).str.zfill(6))
    counties = counties.sort_values("adcode", kind="mergesort").reset_index(drop=True)
    if counties["adcode"].duplicated().any():
        raise SpecificationError("duplicated adcodes in the county frame.")
    return counties, edges, pilots


def pilot_table(pilots: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    """One row per pilot county: ``adcode``, reform ``year`` (2015 for market entry), ``type``."""
    p = pilots.copy()
    p["adcode"] = p["adcode_current"].astype(str).str.zfill(6)
    p["type"] = p["initial_pilot_type_en"].map(_PILOT_TYPE)
    if p["type"].isna().any():
        raise SpecificationError(
            f"unknown initial_pilot_type_en {sorted(set(p.loc[p['type'].isna(), 'initial_pilot_type_en']))}.")
    p["year"] = np.where(p["type"] == "market_entry", 2015,
                         p["all_three_reforms_from"].astype(int))
    absent = sorted(set(p["adcode"]) - set(ids))
    if absent:
        raise SpecificationError(f"land-reform pilots {absent} are not in the county frame.")
    return p[["adcode", "year", "type"]].sort_values("adcode").reset_index(drop=True)


def zone_members(c: pd.DataFrame, w: sp.csr_matrix) -> tuple[np.ndarray, dict]:
    """0/1 flag per county of the frame ``c`` and ``{zone: [adcodes]}`` of the 2019 pilot zones."""
    flag = np.zeros(len(c), dtype=int)
    members = {}
    for zone, (prov, prefs, names) in _ZONES.items():
        inprov = c["province"].str.startswith(prov)
        sel = inprov & (c["prefecture"].isin(prefs) | c["name"].isin(names))
        flag[sel.to_numpy()] = 1
        members[zone] = c.loc[sel, "adcode"].tolist()
    return flag, members


# the names the generator used before the split
_load_inputs, _pilot_table, _zone_members = load_inputs, pilot_table, zone_members
