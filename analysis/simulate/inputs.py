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
    """The county frame (adcodes as 6-digit strings, sorted), edges and pilots; defaults shipped.

    Examples
    --------
    >>> from analysis.simulate.inputs import load_inputs
    >>> counties, edges, pilots = load_inputs(None, None, None)
    >>> counties.shape[0], len(pilots), bool(counties["adcode"].is_monotonic_increasing)
    (2851, 33, True)
    """
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
    """One row per pilot county: ``adcode``, reform ``year`` (2015 for market entry), ``type``.

    Examples
    --------
    The 33 land-reform pilots of 2015:

    >>> import pandas as pd
    >>> from analysis.simulate.inputs import load_inputs, pilot_table
    >>> counties, _, pilots = load_inputs(None, None, None)
    >>> table = pilot_table(pilots, pd.Index(counties["adcode"]))
    >>> table.columns.tolist(), sorted(table["type"].value_counts().items())
    (['adcode', 'year', 'type'], [('expropriation', 3), ('homestead', 15), ('market_entry', 15)])
    >>> sorted(int(y) for y in table.loc[table["type"] == "market_entry", "year"].unique())
    [2015]
    """
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
    """0/1 flag per county of the frame ``c`` and ``{zone: [adcodes]}`` of the 2019 pilot zones.

    Examples
    --------
    >>> from analysis.simulate import contiguity_matrix
    >>> from analysis.simulate.inputs import load_inputs, zone_members
    >>> counties, edges, _ = load_inputs(None, None, None)
    >>> flag, members = zone_members(counties, contiguity_matrix(counties["adcode"], edges))
    >>> flag.shape, len(members), int(flag.sum()) == sum(len(v) for v in members.values())
    ((2851,), 11, True)
    """
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
