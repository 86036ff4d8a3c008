"""A study description: the user's panel file, its ids, scope, indicators, policy and roles.

A :class:`Study` names everything a notebook needs to know about a user's own data, so that no
notebook names a column of the simulated panel:

* the file (``data_path``) and what its id column holds: county codes of a given year
  (``id_kind="codes"``, ``code_year``) or county names with province/prefecture columns
  (``id_kind="names"``);
* its ``scope``: every county-level unit (``"all"``) or the units a 中国县域统计年鉴 (县市卷)
  covers (``"county_yearbook"``: no 市辖区);
* the indicator system (a YAML file, default ``data/indicators/county_uri.yaml``);
* the policy (default: the 33 real pilot counties of the 2015 rural land system reform with their
  timing, :func:`analysis.datasets.load_land_reform_pilots`), attached by :func:`attach_policy`;
* the outcome and optional mediators, moderators and controls, by yearbook name (Chinese or
  English, resolved to canonical names through ``data/templates/column_mapping.csv``, the table
  :func:`analysis.panel.read_panel` uses).

``Study.from_yaml(path)`` reads one (example: ``data/studies/default.yaml``), ``Study.default()``
is the shipped simulated panel, ``Study.load()`` returns the panel with the policy attached and a
``roles`` mapping, and ``Study.missing(...)`` says in one sentence (zh and en) what a notebook
section lacks and how to supply it.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import ColumnError, SpecificationError, check_choice

__all__ = ["Study", "LoadedStudy", "PolicyReport", "attach_policy", "resolve_name", "POLICIES",
           "SIMULATED_ONLY_COLUMNS", "SCOPES", "ID_KINDS"]

_ROOT = Path(__file__).resolve().parent.parent
SCOPES = ("all", "county_yearbook")
ID_KINDS = ("codes", "names")
POLICIES = ("land_reform_2015",)

#: Columns of the shipped simulated panel that a real yearbook file does not have: the simulated
#: digital-government score, the policy columns (attach a real policy with :func:`attach_policy`),
#: the simulated digital pilot and the approximate 2019 integration-zone membership.
SIMULATED_ONLY_COLUMNS = ("digital_gov", "land_reform", "land_reform_year", "land_reform_type",
                          "digital_pilot", "digital_pilot_year", "integration_zone")

#: Role names in :attr:`LoadedStudy.roles`.
ROLE_KEYS = ("entity", "time", "outcome", "adoption", "treated", "post", "did", "mediators",
             "moderators", "controls", "indicators")


# ---------------------------------------------------------------------------------------------
# yearbook names -> canonical names
# ---------------------------------------------------------------------------------------------
def resolve_name(name: str, columns: Sequence[str] | None = None, role: str = "variable") -> str:
    """Canonical name of a yearbook column name (``常住人口城镇化率(%)`` -> ``urbanization_rate``).

    A name resolves if ``data/templates/column_mapping.csv`` knows it (as a yearbook or canonical
    name), or if it is one of ``columns`` (the loaded panel's columns, for the user's own
    variables). Otherwise :class:`~analysis.errors.ColumnError` names it, the role it was given
    for, the closest known names and the fix.

    Examples
    --------
    >>> from analysis.study import resolve_name
    >>> resolve_name("常住人口城镇化率(%)")
    'urbanization_rate'
    >>> resolve_name("my_index", columns=["county", "year", "my_index"])  # the user's own column
    'my_index'
    """
    from .panel import column_mapping, map_columns

    if columns is not None and name in set(columns):
        return name
    found, _ = map_columns([name])
    if name in found:
        canonical, scale = found[name]
        if columns is None or canonical in set(columns):
            return canonical
        raise ColumnError(f"{role} {name!r} (canonical name {canonical!r}) is not a column of the panel; "
                          f"add it to the file or remove it from the study description.")
    table = column_mapping()
    known = sorted(set(table["source_name"]) | set(table["canonical"]) | set(columns or ()))
    close = difflib.get_close_matches(name, known, n=4, cutoff=0.4)
    hint = f" Closest known names: {close}." if close else ""
    raise ColumnError(f"{role} {name!r} is not a known yearbook or canonical column name "
                      f"(data/templates/column_mapping.csv) nor a column of the panel.{hint} "
                      f"Fix: use the file's header exactly, or add a row '{name},<canonical>,1' to the mapping.")


# ---------------------------------------------------------------------------------------------
# policies
# ---------------------------------------------------------------------------------------------
@dataclass(eq=False)  # compared by identity: pandas compares frames' attrs when concatenating
class PolicyReport:
    """What :func:`attach_policy` found: the policy's units in and not in the panel."""

    policy: str
    n_policy_units: int
    found: list[str]
    missing: pd.DataFrame  # code, name (and year) of policy units absent from the panel
    columns: dict[str, str]

    @property
    def n_found(self) -> int:
        return len(self.found)

    def __str__(self) -> str:
        miss = ", ".join(f"{r.code} {r.name}" for r in self.missing.itertuples()) or "none"
        return (f"policy {self.policy}: {self.n_found} of {self.n_policy_units} treated units found in the panel; "
                f"missing {len(self.missing)}: {miss}. Columns added: {self.columns}.")

    def say(self, lang: str = "en") -> str:
        if lang == "zh":
            return (f"政策 {self.policy}：名单中 {self.n_policy_units} 个处理单位，面板中找到 {self.n_found} 个，"
                    f"缺失 {len(self.missing)} 个。")
        return (f"Policy {self.policy}: {self.n_found} of the {self.n_policy_units} listed units are in the panel, "
                f"{len(self.missing)} missing.")


def _policy_table(policy) -> tuple[str, pd.DataFrame]:
    """(label, DataFrame with code, name, year) of a shipped policy, a CSV path or a DataFrame."""
    if isinstance(policy, str) and policy == "land_reform_2015":
        from .datasets import load_land_reform_pilots

        p = load_land_reform_pilots()
        # adoption year: 2015 for the market-entry pilots, all_three_reforms_from for the others
        # (the timing the simulated panel uses, analysis.simulate._pilot_table)
        year = np.where(p["initial_pilot_type_en"] == "collective_construction_land_market_entry", 2015,
                        p["all_three_reforms_from"].astype(int))
        return policy, pd.DataFrame({"code": p["adcode_current"].astype(str).str.zfill(6),
                                     "name": p["county_name_current"], "year": year.astype(int)})
    if isinstance(policy, pd.DataFrame):
        label, table = "custom", policy.copy()
    elif isinstance(policy, (str, Path)) and Path(policy).suffix.lower() == ".csv":
        if not Path(policy).exists():
            raise FileNotFoundError(f"policy file {policy} does not exist.")
        label, table = Path(policy).name, pd.read_csv(policy, dtype={"county": str, "code": str})
    else:
        raise SpecificationError(f"policy={policy!r}: use one of {POLICIES}, a CSV path or a DataFrame with "
                                 "columns county (frame code) and year (first treated year).")
    table = table.rename(columns={"county": "code"})
    if not {"code", "year"} <= set(table.columns):
        raise ColumnError(f"policy table needs columns county (or code) and year; it has {list(table.columns)}.")
    bad = table["year"].isna() | pd.to_numeric(table["year"], errors="coerce").isna()
    if bad.any():
        raise SpecificationError(f"policy table: rows {table.index[bad].tolist()[:10]} have no valid year; "
                                 "give the first treated year of every listed unit.")
    if table["code"].duplicated().any():
        raise SpecificationError(f"policy table lists codes twice: {sorted(table.loc[table['code'].duplicated(), 'code'])}.")
    if "name" not in table:
        table["name"] = ""
    table["code"] = table["code"].astype(str).str.zfill(6)
    return label, table[["code", "name", "year"]].assign(year=lambda t: t["year"].astype(int))


def attach_policy(panel: pd.DataFrame, policy="land_reform_2015", entity: str = "county", time: str = "year",
                  names: Mapping[str, str] | None = None) -> pd.DataFrame:
    """Attach a policy list (adoption year, treated dummy, post, DiD term) to a panel on frame codes.

    Parameters
    ----------
    panel
        Long panel whose ``entity`` column holds current county-frame codes (``data/counties.csv``;
        harmonise older codes first).
    policy
        ``"land_reform_2015"`` (the 33 pilot counties of the NPC Standing Committee decision of
        2015-02-27, adoption 2015 for the market-entry pilots and 2016/2017 when all three reforms
        started elsewhere), a CSV path or a DataFrame with columns ``county`` (or ``code``) and
        ``year`` (first treated year).
    names
        Output column names for the keys ``adoption``, ``treated``, ``post``, ``did``. Defaults:
        ``adopt_year`` (first treated year, NaN never), ``treated`` (1 for every row of a listed
        unit), ``post`` (1 from the policy's first year on, for every unit), ``did`` (1 when the
        unit is listed and ``time >= adopt_year``).

    Returns
    -------
    DataFrame
        A copy with the four columns; ``attrs["policy_report"]`` is a :class:`PolicyReport`
        (listed units found and missing).

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.study import attach_policy
    >>> panel = pd.DataFrame({"county": ["110115"] * 3 + ["110101"] * 3,
    ...                       "year": [2014, 2015, 2016] * 2})
    >>> out = attach_policy(panel)  # 110115 大兴区: market-entry pilot from 2015
    >>> out[["treated", "post", "did"]].values.tolist()
    [[1, 0, 0], [1, 1, 1], [1, 1, 1], [0, 0, 0], [0, 1, 0], [0, 1, 0]]
    >>> out.attrs["policy_report"].say()
    'Policy land_reform_2015: 1 of the 33 listed units are in the panel, 32 missing.'
    >>> own = pd.DataFrame({"county": ["110101"], "year": [2016]})  # a user's policy list
    >>> attach_policy(panel, own)["did"].tolist()
    [0, 0, 0, 0, 0, 1]
    """
    cols = {"adoption": "adopt_year", "treated": "treated", "post": "post", "did": "did"}
    if names:
        unknown = set(names) - set(cols)
        if unknown:
            raise SpecificationError(f"names: unknown keys {sorted(unknown)}; use {sorted(cols)}.")
        cols.update(names)
    for c in (entity, time):
        if c not in panel.columns:
            raise ColumnError(f"attach_policy: column {c!r} is not in the panel (columns: {list(panel.columns)[:12]}...).")
    clash = [c for c in cols.values() if c in panel.columns]
    if clash:
        raise SpecificationError(f"attach_policy: the panel already has column(s) {clash}; pass names= to choose others.")
    label, table = _policy_table(policy)
    codes = panel[entity].astype(str)
    present = set(codes)
    found = sorted(set(table["code"]) & present)
    missing = table.loc[~table["code"].isin(present)].reset_index(drop=True)
    out = panel.copy()
    adopt = codes.map(table.set_index("code")["year"]).astype(float)
    out[cols["adoption"]] = adopt
    out[cols["treated"]] = adopt.notna().astype(int)
    out[cols["post"]] = (out[time] >= table["year"].min()).astype(int)
    out[cols["did"]] = (adopt.notna() & (out[time] >= adopt)).astype(int)
    out.attrs = dict(panel.attrs)
    out.attrs["policy_report"] = PolicyReport(policy=label, n_policy_units=len(table), found=found,
                                              missing=missing.rename(columns={"year": "adopt_year"}), columns=cols)
    return out


# ---------------------------------------------------------------------------------------------
# the study
# ---------------------------------------------------------------------------------------------
@dataclass
class LoadedStudy:
    """What :meth:`Study.load` returns: the panel, the roles and what was done on the way."""

    panel: pd.DataFrame
    roles: dict
    policy_report: PolicyReport | None
    notes: list[str] = field(default_factory=list)

    def __iter__(self):  # panel, roles = study.load()
        return iter((self.panel, self.roles))


@dataclass
class Study:
    """A study on a user's county panel (see the module docstring).

    Parameters
    ----------
    data_path
        The user's file (CSV, Excel, Stata, Parquet); None = the shipped SIMULATED panel.
    id_column
        The file's id column (its header as in the file, e.g. ``行政区划代码`` or ``县(市、区)``).
    id_kind
        ``"codes"``: 6-digit county codes of ``code_year`` (None: current frame codes);
        ``"names"``: county names, disambiguated by ``province_column``/``prefecture_column``.
    time_column
        The file's year column.
    columns
        Passed to :func:`analysis.panel.read_panel` (``"yearbook"``: map yearbook headers).
    scope
        ``"all"`` county-level units or ``"county_yearbook"`` (no 市辖区).
    indicators
        Indicator-system YAML (relative paths are taken from the project root).
    policy
        ``"land_reform_2015"`` or a CSV with columns county, year; None: no policy.
    outcome
        ``"uri"`` (the composite index built from ``indicators``) or a yearbook/canonical name.
    mediators, moderators, controls
        Yearbook or canonical names (resolved through the column mapping).
    merge_rules
        With ``code_year``: how to combine value columns of units merged since then
        (:func:`analysis.codes.harmonize_codes` ``rules``, e.g. ``{"population": "sum"}``).

    Examples
    --------
    A user's file of two counties, outcome and control given by yearbook name:

    >>> import os, tempfile
    >>> import pandas as pd
    >>> from analysis.study import Study
    >>> raw = pd.DataFrame({"county": ["110101", "110101", "110115", "110115"],
    ...                     "year": [2015, 2016] * 2,
    ...                     "常住人口城镇化率(%)": [98.0, 98.5, 70.0, 72.0],
    ...                     "人均地区生产总值(元)": [2.1e5, 2.3e5, 9.0e4, 9.5e4]})
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     raw.to_csv(os.path.join(folder, "panel.csv"), index=False)
    ...     study = Study(data_path=os.path.join(folder, "panel.csv"),
    ...                   outcome="常住人口城镇化率(%)", controls=["人均地区生产总值(元)"])
    ...     panel, roles = study.load()
    >>> roles["outcome"], roles["controls"], roles["did"]
    ('urbanization_rate', ['gdp_pc'], 'did')
    >>> panel["did"].tolist()  # 110115 大兴区: land-reform pilot from 2015
    [0, 0, 1, 1]
    """

    data_path: str | None = None
    id_column: str = "county"
    id_kind: str = "codes"
    code_year: int | None = None
    province_column: str | None = None
    prefecture_column: str | None = None
    time_column: str = "year"
    columns: str | None = "yearbook"
    scope: str = "all"
    indicators: str = "data/indicators/county_uri.yaml"
    policy: str | None = "land_reform_2015"
    outcome: str = "uri"
    mediators: list[str] = field(default_factory=list)
    moderators: list[str] = field(default_factory=list)
    controls: list[str] = field(default_factory=list)
    merge_rules: dict | str | None = None

    def __post_init__(self):
        check_choice("scope", self.scope, SCOPES)
        check_choice("id_kind", self.id_kind, ID_KINDS)
        for name in ("mediators", "moderators", "controls"):
            v = getattr(self, name)
            if isinstance(v, str):
                v = [v]
            if v is None:
                v = []
            if not all(isinstance(x, str) and x for x in v):
                raise SpecificationError(f"study: {name} must be a list of column names, got {v!r}.")
            setattr(self, name, list(v))
        if self.code_year is not None and not (1980 <= int(self.code_year) <= 2100):
            raise SpecificationError(f"study: code_year={self.code_year!r} is not a year (e.g. 2010).")
        if self.id_kind == "names" and self.province_column is None and self.prefecture_column is None:
            raise SpecificationError("study: id_kind='names' needs province_column and/or prefecture_column "
                                     "(county names repeat across provinces, e.g. 朝阳区, 鼓楼区).")
        # names must be resolvable now when the mapping knows them, or later against the panel
        self._resolved: dict | None = None

    # ---- construction -----------------------------------------------------------------------
    @classmethod
    def default(cls) -> "Study":
        """The shipped SIMULATED panel with the real 2015 land-reform pilots as the policy."""
        return cls()

    @classmethod
    def from_yaml(cls, path) -> "Study":
        """Read a study description (keys = the parameters of :class:`Study`)."""
        import yaml

        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"study description {path} does not exist.")
        raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(raw, dict):
            raise SpecificationError(f"{path}: a study description is a mapping of keys to values.")
        allowed = {f.name for f in fields(cls)}
        unknown = sorted(set(raw) - allowed)
        if unknown:
            raise SpecificationError(f"{path}: unknown key(s) {unknown}; allowed keys: {sorted(allowed)}.")
        data_path = raw.get("data_path")
        if data_path and not Path(data_path).is_absolute():  # relative to the YAML file
            raw["data_path"] = str((path.parent / data_path).resolve())
        return cls(**raw)

    # ---- names ------------------------------------------------------------------------------
    def _path(self, p) -> Path:
        # relative paths are relative to the project; ``data/...`` names the shipped data, which an
        # installed wheel keeps inside the package (analysis.datasets.data_dir)
        p = Path(p)
        if p.is_absolute():
            return p
        if p.parts and p.parts[0] == "data":
            from .datasets import data_dir

            return data_dir().joinpath(*p.parts[1:])
        return _ROOT / p

    def resolve(self, columns: Sequence[str] | None = None) -> dict:
        """Canonical names of the outcome, mediators, moderators and controls (errors name the bad one)."""
        out = {"outcome": self.outcome if self.outcome == "uri" else resolve_name(self.outcome, columns, "outcome")}
        for role in ("mediators", "moderators", "controls"):
            out[role] = [resolve_name(n, columns, role[:-1]) for n in getattr(self, role)]
        return out

    # ---- loading ----------------------------------------------------------------------------
    def _read(self, notes: list[str]) -> pd.DataFrame:
        from .panel import read_panel

        if self.data_path is None:
            from .datasets import load_county_panel

            notes.append("SIMULATED panel (data/synthetic/county_panel.csv.gz).")
            return load_county_panel()
        kw = {"columns": self.columns}
        path = Path(self.data_path)
        if self.id_kind == "names":
            kw["names"] = {"name": self.id_column, "province": self.province_column,
                           "prefecture": self.prefecture_column}
        elif self.code_year is not None:
            kw.update(harmonize=True, code_year=self.code_year, rules=self.merge_rules)
        if self.columns == "yearbook":
            from .panel import map_columns

            checks = [(self.time_column, "year")] if self.id_kind == "names" else [
                (self.id_column, "county"), (self.time_column, "year")]
            for col, canon in checks:
                hit = map_columns([col])[0].get(col)
                if hit is None or hit[0] != canon:
                    raise SpecificationError(
                        f"study: with columns='yearbook' the file's column {col!r} must be a yearbook name of "
                        f"{canon!r} (e.g. 行政区划代码 / 年份); rename it in the file or set columns: null.")
        entity = "county" if self.id_kind == "names" or self.columns is not None else self.id_column
        time = self.time_column if self.columns is None else "year"
        panel = read_panel(path, entity=entity, time=time, **kw)
        if entity != "county":
            panel = panel.rename(columns={entity: "county"})
        if time != "year":
            panel = panel.rename(columns={time: "year"})
        return panel

    def load(self) -> LoadedStudy:
        """Read the panel, restrict it to the scope, attach the policy and resolve the roles.

        Returns a :class:`LoadedStudy` (unpacks as ``panel, roles``). ``roles`` holds canonical
        column names: entity, time, outcome, adoption/treated/post/did (None without a policy),
        mediators, moderators, controls and the indicator YAML path.
        """
        notes: list[str] = []
        panel = self._read(notes)
        if self.scope == "county_yearbook":
            keep = in_county_yearbook_scope(panel["county"])
            if (~keep).any():
                notes.append(f"scope county_yearbook: dropped {int((~keep).sum())} rows of "
                             f"{panel.loc[~keep, 'county'].nunique()} 市辖区 (districts).")
                panel = panel.loc[keep].reset_index(drop=True)
        report = None
        roles = {"entity": "county", "time": "year", "adoption": None, "treated": None, "post": None, "did": None,
                 "indicators": str(self._path(self.indicators))}
        if self.policy is not None:
            policy = self.policy if self.policy in POLICIES else str(self._path(self.policy))
            panel = attach_policy(panel, policy)
            report = panel.attrs["policy_report"]
            roles.update({"adoption": "adopt_year", "treated": "treated", "post": "post", "did": "did"})
            notes.append(str(report))
        roles.update(self.resolve(list(panel.columns)))
        return LoadedStudy(panel=panel, roles=roles, policy_report=report, notes=notes)

    # ---- what is missing --------------------------------------------------------------------
    def missing(self, section_inputs: Mapping[str, object] | Sequence[str], section: str = "this section",
                lang: str = "en", columns: Sequence[str] | None = None) -> str | None:
        """One plain sentence saying what a notebook section lacks and how to supply it; None if nothing.

        ``section_inputs`` lists the roles the section needs (``"mediators"``, ``"moderators"``,
        ``"controls"``, ``"policy"``, ``"outcome"``) or maps role -> value (an empty value is
        missing). With ``columns`` (the loaded panel's), named columns absent from the panel
        count as missing too.
        """
        check_choice("lang", lang, ("zh", "en"))
        if isinstance(section_inputs, Mapping):
            items = dict(section_inputs)
        else:
            items = {k: (self.policy if k == "policy" else getattr(self, k, None)) for k in section_inputs}
        lacking = []
        for role, value in items.items():
            empty = value is None or (hasattr(value, "__len__") and len(value) == 0)
            if not empty and columns is not None and role not in ("policy", "indicators"):
                vals = [value] if isinstance(value, str) else list(value)
                vals = [v for v in vals if v != "uri"]
                absent = [v for v in vals if v not in set(columns)]
                if absent:
                    lacking.append((role, absent))
                    continue
            if empty:
                lacking.append((role, None))
        if not lacking:
            return None
        how_en = {"mediators": "add `mediators: [<yearbook name>]`", "moderators": "add `moderators: [<yearbook name>]`",
                  "controls": "add `controls: [<yearbook name>, ...]`", "policy": "set `policy:` to land_reform_2015 "
                  "or a CSV with columns county, year", "outcome": "set `outcome:` to a yearbook column name"}
        how_zh = {"mediators": "添加 `mediators: [年鉴指标名]`", "moderators": "添加 `moderators: [年鉴指标名]`",
                  "controls": "添加 `controls: [年鉴指标名, ...]`", "policy": "将 `policy:` 设为 land_reform_2015 "
                  "或含 county、year 两列的 CSV", "outcome": "将 `outcome:` 设为年鉴指标名"}
        label_zh = {"mediators": "中介变量", "moderators": "调节变量", "controls": "控制变量", "policy": "政策名单",
                    "outcome": "被解释变量"}
        if lang == "en":
            parts = [f"{role} ({', '.join(a)} not in the panel)" if a else role for role, a in lacking]
            fixes = "; ".join(how_en.get(role, f"set `{role}:`") for role, _ in lacking)
            return (f"Skipped {section}: the study description gives no {' and no '.join(parts)}; to run it, "
                    f"{fixes} in your study YAML (see data/studies/default.yaml).")
        parts = [f"{label_zh.get(role, role)}（面板中没有 {'、'.join(a)}）" if a else label_zh.get(role, role)
                 for role, a in lacking]
        fixes = "；".join(how_zh.get(role, f"设置 `{role}:`") for role, _ in lacking)
        return (f"已跳过{section}：研究设定中缺少{'和'.join(parts)}；如需运行，请在研究设定 YAML 中{fixes}"
                f"（参见 data/studies/default.yaml）。")


def in_county_yearbook_scope(codes: pd.Series) -> pd.Series:
    """True for codes a 中国县域统计年鉴 (县市卷) covers: ``county_yearbook_scope`` of
    ``data/counties.csv`` when the frame has it, else every unit whose ``county_type`` is not
    ``"district"`` (市辖区).
    """
    from .datasets import load_counties

    frame = load_counties()
    key = "adcode" if "adcode" in frame else "county"
    frame = frame.assign(_code=frame[key].astype(str).str.zfill(6)).set_index("_code")
    if "county_yearbook_scope" in frame:
        flag = frame["county_yearbook_scope"].astype(int) == 1
    else:
        flag = frame["county_type"] != "district"
    return codes.astype(str).map(flag).fillna(True).astype(bool)


