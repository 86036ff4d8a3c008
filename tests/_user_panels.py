"""User-style panels built from the shipped simulated panel (issue 14's test matrix).

A new user brings a county yearbook file, not our simulated panel. Each builder below turns the
shipped panel (:func:`analysis.datasets.load_county_panel`) into one such file:

* ``stripped``: without the simulated-only columns (:data:`analysis.study.SIMULATED_ONLY_COLUMNS`);
* ``unbalanced``: 2% of county-years removed (seeded);
* ``county_yearbook``: county-yearbook scope, no 市辖区 (``county_type == "district"`` in
  ``data/counties.csv``);
* ``names``: county name + province + prefecture columns instead of codes;
* ``xlsx_zh``: an .xlsx with Chinese yearbook headers (inverse of ``data/templates/column_mapping.csv``);
* ``codes_2010``: 2010-vintage codes (the inverse of the county-code crosswalk,
  :func:`analysis.codes.codes_in_year`); frame units that were several units in 2010 (merged
  since) or did not exist yet are left out, since their 2010 rows cannot be made from frame data.

:func:`build` writes the file and returns a :class:`UserPanel` with the path, the matching
:class:`analysis.study.Study` and the source rows the file keeps (canonical names, for comparison).
Every variant is stripped of the simulated-only columns.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.datasets import load_counties, load_county_panel
from analysis.panel import column_mapping
from analysis.study import SIMULATED_ONLY_COLUMNS, Study

VARIANTS = ("stripped", "unbalanced", "county_yearbook", "names", "xlsx_zh", "codes_2010")
FRAME_COLUMNS = ("name", "prefecture", "province", "region", "county_type")


@dataclass
class UserPanel:
    variant: str
    path: Path
    study: Study
    expected: pd.DataFrame  # canonical names, the rows the file keeps, sorted by county, year


def source_panel(provinces: tuple[str, ...] | None = None) -> pd.DataFrame:
    """The shipped panel stripped of simulated-only columns, optionally a few provinces only (speed)."""
    p = load_county_panel().drop(columns=list(SIMULATED_ONLY_COLUMNS))
    if provinces is not None:
        p = p[p["province"].isin(provinces)]
    return p.sort_values(["county", "year"]).reset_index(drop=True)


def stripped(panel: pd.DataFrame) -> pd.DataFrame:
    return panel.drop(columns=[c for c in SIMULATED_ONLY_COLUMNS if c in panel])


def unbalanced(panel: pd.DataFrame, share: float = 0.02, seed: int = 20261206) -> pd.DataFrame:
    """Remove a seeded ``share`` of county-years (at least one)."""
    rng = np.random.default_rng(seed)
    n_drop = max(1, int(round(share * len(panel))))
    drop = rng.choice(panel.index.to_numpy(), size=n_drop, replace=False)
    return panel.drop(index=drop).reset_index(drop=True)


def county_yearbook(panel: pd.DataFrame) -> pd.DataFrame:
    """County-yearbook scope: the units with ``county_yearbook_scope == 1`` in data/counties.csv (no 市辖区,
    no prefecture-level city without counties, no special statistical unit)."""
    frame = load_counties()
    outside = set(frame.loc[frame["county_yearbook_scope"].astype(int) == 0, "adcode"].astype(str))
    return panel[~panel["county"].isin(outside)].reset_index(drop=True)


def names(panel: pd.DataFrame) -> pd.DataFrame:
    """Names instead of codes: the county column removed, name + province + prefecture kept."""
    return panel.drop(columns=["county"])


def chinese_headers() -> dict[str, str]:
    """Canonical -> a Chinese yearbook header (the first scale-1 Chinese name in the mapping)."""
    table = column_mapping()
    zh = table[table["source_name"].str.contains(r"[\u4e00-\u9fff]") & (table["scale"] == 1.0)]
    return zh.drop_duplicates("canonical").set_index("canonical")["source_name"].to_dict()


def codes_2010(panel: pd.DataFrame) -> pd.DataFrame:
    """The panel under 2010-vintage codes: each frame code replaced by the one 2010 code that lands
    on it (inverse of the crosswalk); frame units with none or several 2010 codes are left out."""
    from analysis.codes import codes_in_year

    inv = codes_in_year(sorted(panel["county"].unique()), 2010)
    one = {f: c[0] for f, c in inv.items() if len(c) == 1}
    out = panel[panel["county"].isin(one)].copy()
    out["county"] = out["county"].map(one)
    return out.reset_index(drop=True)


def build(variant: str, folder: Path, provinces: tuple[str, ...] | None = ("北京市", "海南省", "宁夏回族自治区")
          ) -> UserPanel:
    """Write one user-style panel into ``folder`` and return it with its Study and expected rows."""
    folder = Path(folder)
    src = source_panel(provinces)
    if variant == "stripped":
        out, expected = src, src
        study = Study(data_path=str(folder / "stripped.csv"))
    elif variant == "unbalanced":
        out = unbalanced(src)
        expected = out
        study = Study(data_path=str(folder / "unbalanced.csv"))
    elif variant == "county_yearbook":
        out = county_yearbook(src)
        expected = out
        study = Study(data_path=str(folder / "county_yearbook.csv"), scope="county_yearbook")
    elif variant == "names":
        out = names(src)
        expected = src
        study = Study(data_path=str(folder / "names.csv"), id_column="name", id_kind="names",
                      province_column="province", prefecture_column="prefecture")
    elif variant == "xlsx_zh":
        heads = chinese_headers()
        out = src.rename(columns=heads)
        expected = src
        study = Study(data_path=str(folder / "xlsx_zh.xlsx"), id_column=heads["county"], time_column=heads["year"])
    elif variant == "codes_2010":
        out = codes_2010(src)
        from analysis.codes import frame_code_map

        back = frame_code_map(2010)
        expected = src[src["county"].isin({back[c] for c in out["county"].unique()})]
        study = Study(data_path=str(folder / "codes_2010.csv"), code_year=2010)
    else:
        raise ValueError(f"unknown variant {variant!r}; use one of {VARIANTS}.")
    path = Path(study.data_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".xlsx":
        out.to_excel(path, index=False)
    else:
        out.to_csv(path, index=False, encoding="utf-8")
    return UserPanel(variant, path, study, expected.sort_values(["county", "year"]).reset_index(drop=True))
