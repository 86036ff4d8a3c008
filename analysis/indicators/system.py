"""Indicator systems (指标体系): subsystems of indicators with bilingual labels, read from YAML.

An indicator system is the first table of every 城乡融合 paper: dimensions (subsystems, 准则层)
holding indicators (指标层), each with a direction (正向 ``+`` / 负向 ``-`` / 适度 ``moderate`` with
a target value) and, optionally, a fixed weight. :func:`load_system` reads one from YAML and
validates it; :meth:`IndicatorSystem.check_columns` checks it against a data frame.

YAML layout (see ``data/indicators/county_uri.yaml``)::

    name: county_uri
    label: County urban-rural integration
    label_zh: 县域城乡融合
    subsystems:
      - key: population
        label: Population
        label_zh: 人口
        indicators:
          - {column: urbanization_rate, label: Urbanization rate, label_zh: 城镇化率,
             unit: "%", direction: "+"}
          - {column: pm25, label: PM2.5, label_zh: PM2.5浓度, unit: µg/m³, direction: "-"}
          - {column: x, label: ..., label_zh: ..., unit: ..., direction: moderate, target: 50}

Quote ``"+"`` and ``"-"``: an unquoted ``-`` is YAML's list marker.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping

import pandas as pd
import yaml

from ..errors import ColumnError, NonNumericError, SpecificationError, describe_rows

__all__ = [
    "Indicator",
    "Subsystem",
    "IndicatorSystem",
    "load_system",
    "system_from_dict",
    "shipped_systems",
    "DIRECTIONS",
]

#: canonical directions; aliases accepted on load map onto these
DIRECTIONS = ("+", "-", "moderate")
_DIRECTION_ALIASES = {
    "+": "+", "positive": "+", "benefit": "+", "正向": "+", "正": "+", "1": "+", "+1": "+",
    "-": "-", "−": "-", "negative": "-", "cost": "-", "负向": "-", "负": "-", "-1": "-",
    "moderate": "moderate", "target": "moderate", "适度": "moderate", "适度指标": "moderate",
}


_INDICATOR_KEYS = ("column", "label", "label_zh", "unit", "direction", "target", "weight", "note")


def _indicators_dir() -> Path:
    from ..datasets import data_dir

    return data_dir() / "indicators"


def shipped_systems() -> list[str]:
    """Names of the indicator systems shipped in ``data/indicators/``.

    Examples
    --------
    >>> shipped_systems()
    ['county_uri', 'urban_rural_two']
    """
    return sorted(p.stem for p in _indicators_dir().glob("*.yaml"))


@dataclass(frozen=True)
class Indicator:
    """One indicator: a data column with its labels, unit, direction and optional fixed weight."""

    column: str
    label: str
    label_zh: str
    unit: str
    direction: str
    subsystem: str
    target: float | None = None
    weight: float | None = None

    def name(self, lang: str = "en") -> str:
        return self.label_zh if lang == "zh" else self.label


@dataclass(frozen=True)
class Subsystem:
    """A dimension (subsystem, 子系统/准则层) and its indicators."""

    key: str
    label: str
    label_zh: str
    indicators: tuple[Indicator, ...]

    @property
    def columns(self) -> list[str]:
        return [i.column for i in self.indicators]

    def name(self, lang: str = "en") -> str:
        return self.label_zh if lang == "zh" else self.label


@dataclass(frozen=True)
class IndicatorSystem:
    """A validated indicator system. Build it with :func:`load_system` or :func:`system_from_dict`."""

    name: str
    label: str
    label_zh: str
    subsystems: tuple[Subsystem, ...]
    source: str = ""
    meta: Mapping[str, Any] = field(default_factory=dict)

    # ---- views -------------------------------------------------------------------------------
    @property
    def indicators(self) -> list[Indicator]:
        return [i for s in self.subsystems for i in s.indicators]

    @property
    def columns(self) -> list[str]:
        return [i.column for i in self.indicators]

    @property
    def subsystem_keys(self) -> list[str]:
        return [s.key for s in self.subsystems]

    @property
    def directions(self) -> dict[str, str]:
        return {i.column: i.direction for i in self.indicators}

    @property
    def targets(self) -> dict[str, float]:
        return {i.column: float(i.target) for i in self.indicators if i.direction == "moderate"}

    @property
    def subsystem_of(self) -> dict[str, str]:
        return {i.column: i.subsystem for i in self.indicators}

    @property
    def fixed_weights(self) -> pd.Series | None:
        """Fixed weights from the YAML (None when no indicator has one)."""
        ws = {i.column: i.weight for i in self.indicators}
        if all(w is None for w in ws.values()):
            return None
        missing = [c for c, w in ws.items() if w is None]
        if missing:
            raise SpecificationError(
                f"indicator system {self.name!r}: fixed weights are given for some indicators but "
                f"not for {', '.join(missing)}. Give a weight for every indicator or for none."
            )
        return pd.Series(ws, dtype=float)

    def subsystem_labels(self) -> dict[str, tuple[str, str]]:
        """``{subsystem key: (label, label_zh)}``."""
        return {s.key: (s.label, s.label_zh) for s in self.subsystems}

    def to_frame(self) -> pd.DataFrame:
        """One row per indicator: subsystem, its labels, column, labels, unit, direction, target, weight."""
        labels = self.subsystem_labels()
        rows = []
        for i in self.indicators:
            rows.append(
                {
                    "subsystem": i.subsystem,
                    "subsystem_label": labels[i.subsystem][0],
                    "subsystem_label_zh": labels[i.subsystem][1],
                    "column": i.column,
                    "label": i.label,
                    "label_zh": i.label_zh,
                    "unit": i.unit,
                    "direction": i.direction,
                    "target": i.target,
                    "fixed_weight": i.weight,
                }
            )
        return pd.DataFrame(rows)

    def subset(self, subsystems: Iterable[str]) -> "IndicatorSystem":
        """The same system restricted to some subsystems (in the order given)."""
        keys = list(subsystems)
        unknown = [k for k in keys if k not in self.subsystem_keys]
        if unknown:
            raise SpecificationError(
                f"unknown subsystem(s) {unknown} in system {self.name!r}; "
                f"it has {self.subsystem_keys}."
            )
        by_key = {s.key: s for s in self.subsystems}
        return IndicatorSystem(self.name, self.label, self.label_zh,
                               tuple(by_key[k] for k in keys), self.source, self.meta)

    # ---- checks against data -----------------------------------------------------------------
    def check_columns(self, data: pd.DataFrame) -> None:
        """Raise unless every indicator column is in ``data`` and numeric."""
        missing = [c for c in self.columns if c not in data.columns]
        if missing:
            raise ColumnError(
                f"indicator system {self.name!r} names column(s) {', '.join(missing)} that are not "
                f"in the data. Rename the data columns (the data has e.g. "
                f"{', '.join(map(str, list(data.columns)[:12]))}) or edit the YAML's 'column' entries."
            )
        for c in self.columns:
            s = data[c]
            if pd.api.types.is_bool_dtype(s) or not pd.api.types.is_numeric_dtype(s):
                coerced = pd.to_numeric(s, errors="coerce")
                bad = s.index[coerced.isna() & s.notna()]
                raise NonNumericError(
                    f"indicator column {c!r} is not numeric (dtype {s.dtype}); "
                    f"{describe_rows(bad)} hold non-numbers (e.g. {s.loc[bad[:3]].tolist()!r}). "
                    "Clean them or convert with pd.to_numeric(..., errors='coerce') and decide how "
                    "to handle the resulting missing cells."
                )

    def __repr__(self) -> str:  # pragma: no cover - display only
        parts = ", ".join(f"{s.key}({len(s.indicators)})" for s in self.subsystems)
        return f"IndicatorSystem({self.name!r}: {parts})"


# ---- construction ------------------------------------------------------------------------------
def _direction(raw: Any, where: str) -> str:
    if raw is None or (isinstance(raw, list)):
        raise SpecificationError(
            f"{where}: direction is missing or not a string (got {raw!r}). Use \"+\" (larger is "
            "better), \"-\" (smaller is better) or moderate with a target; quote the signs in YAML."
        )
    key = str(raw).strip().lower()
    if key not in _DIRECTION_ALIASES:
        raise SpecificationError(
            f"{where}: invalid direction {raw!r}. Use \"+\", \"-\" or \"moderate\" (with target:)."
        )
    return _DIRECTION_ALIASES[key]


def _req_str(d: Mapping, key: str, where: str, default: str | None = None) -> str:
    v = d.get(key, default)
    if v is None or (isinstance(v, str) and not v.strip()):
        raise SpecificationError(f"{where}: '{key}' is missing; every entry needs {key}.")
    return str(v)


def system_from_dict(spec: Mapping[str, Any], name: str | None = None) -> IndicatorSystem:
    """Build and validate an :class:`IndicatorSystem` from the YAML structure (a dict).

    Examples
    --------
    >>> gdp = {"column": "gdp", "label": "GDP", "label_zh": "GDP", "direction": "+"}
    >>> pm = {"column": "pm25", "label": "PM2.5", "label_zh": "PM2.5", "direction": "-"}
    >>> spec = {"subsystems": [
    ...     {"key": "economy", "label": "Economy", "label_zh": "经济", "indicators": [gdp]},
    ...     {"key": "ecology", "label": "Ecology", "label_zh": "生态", "indicators": [pm]}]}
    >>> system = system_from_dict(spec, name="toy")
    >>> system.columns, system.directions, system.subsystem_of["pm25"]
    (['gdp', 'pm25'], {'gdp': '+', 'pm25': '-'}, 'ecology')
    """
    if not isinstance(spec, Mapping):
        raise SpecificationError("an indicator system must be a mapping with a 'subsystems' list.")
    sname = str(spec.get("name") or name or "custom")
    subs_raw = spec.get("subsystems", spec.get("dimensions"))
    if not isinstance(subs_raw, list) or not subs_raw:
        raise SpecificationError(
            f"indicator system {sname!r}: 'subsystems' must be a non-empty list of "
            "{key, label, label_zh, indicators: [...]} entries."
        )
    seen_cols: dict[str, str] = {}
    seen_keys: set[str] = set()
    subsystems = []
    for si, sub in enumerate(subs_raw):
        if not isinstance(sub, Mapping):
            raise SpecificationError(f"indicator system {sname!r}: subsystem #{si + 1} is not a mapping.")
        key = _req_str(sub, "key", f"{sname}: subsystem #{si + 1}", sub.get("name"))
        where = f"indicator system {sname!r}, subsystem {key!r}"
        if key in seen_keys:
            raise SpecificationError(f"{where}: duplicate subsystem key {key!r}.")
        seen_keys.add(key)
        label = _req_str(sub, "label", where)
        label_zh = _req_str(sub, "label_zh", where)
        inds_raw = sub.get("indicators") or []
        if not isinstance(inds_raw, list) or not inds_raw:
            raise SpecificationError(
                f"{where} has no indicator. Every subsystem needs at least one indicator "
                "(or remove the subsystem)."
            )
        inds = []
        for ii, ind in enumerate(inds_raw):
            if not isinstance(ind, Mapping):
                raise SpecificationError(f"{where}: indicator #{ii + 1} is not a mapping.")
            col = _req_str(ind, "column", f"{where}, indicator #{ii + 1}")
            iw = f"{where}, indicator {col!r}"
            unknown = [k for k in ind if k not in _INDICATOR_KEYS]
            if unknown:
                raise SpecificationError(
                    f"{iw}: unknown key(s) {unknown}; allowed: {', '.join(_INDICATOR_KEYS)}. "
                    "In YAML flow style {...}, quote values that contain commas (\"beds per 1,000\")."
                )
            if col in seen_cols:
                raise SpecificationError(
                    f"indicator system {sname!r}: duplicate indicator {col!r} (in subsystems "
                    f"{seen_cols[col]!r} and {key!r}). Each column may appear once."
                )
            seen_cols[col] = key
            direction = _direction(ind.get("direction"), iw)
            target = ind.get("target")
            if direction == "moderate":
                if target is None:
                    raise SpecificationError(f"{iw}: direction 'moderate' needs a numeric 'target'.")
                try:
                    target = float(target)
                except (TypeError, ValueError):
                    raise SpecificationError(f"{iw}: target {target!r} is not a number.") from None
            elif target is not None:
                raise SpecificationError(
                    f"{iw}: a target is only meaningful for direction 'moderate' (got direction "
                    f"{direction!r} with target {target!r})."
                )
            weight = ind.get("weight")
            if weight is not None:
                try:
                    weight = float(weight)
                except (TypeError, ValueError):
                    raise SpecificationError(f"{iw}: weight {weight!r} is not a number.") from None
                if weight < 0:
                    raise SpecificationError(f"{iw}: weight {weight} is negative.")
            inds.append(
                Indicator(
                    column=col,
                    label=_req_str(ind, "label", iw),
                    label_zh=_req_str(ind, "label_zh", iw),
                    unit=str(ind.get("unit", "") or ""),
                    direction=direction,
                    subsystem=key,
                    target=target,
                    weight=weight,
                )
            )
        subsystems.append(Subsystem(key, label, label_zh, tuple(inds)))
    system = IndicatorSystem(
        name=sname,
        label=str(spec.get("label", sname)),
        label_zh=str(spec.get("label_zh", spec.get("label", sname))),
        subsystems=tuple(subsystems),
        source=str(spec.get("source", "") or ""),
        meta={k: v for k, v in spec.items() if k not in {"name", "label", "label_zh", "subsystems",
                                                         "dimensions", "source"}},
    )
    fw = system.fixed_weights  # validates all-or-none
    if fw is not None and abs(fw.sum() - 1.0) > 1e-6:
        raise SpecificationError(
            f"indicator system {sname!r}: fixed weights sum to {fw.sum():.6g}, not 1. "
            "Rescale them so that they sum to one."
        )
    return system


def load_system(path_or_name: "str | Path | IndicatorSystem | Mapping",
                data: pd.DataFrame | None = None) -> IndicatorSystem:
    """Read and validate an indicator system.

    Parameters
    ----------
    path_or_name
        A YAML path, the name of a shipped system (``"county_uri"``, ``"urban_rural_two"``; see
        :func:`shipped_systems`), a dict with the YAML structure, or an :class:`IndicatorSystem`.
    data
        Optional data frame: when given, every indicator column must exist and be numeric.

    Raises
    ------
    SpecificationError
        Missing or invalid directions, duplicate indicators, a subsystem with no indicator,
        a moderate indicator without target, fixed weights that do not sum to one, bad YAML.
    ColumnError, NonNumericError
        When checked against ``data``: unknown or non-numeric columns.

    Examples
    --------
    >>> system = load_system("urban_rural_two")
    >>> system.subsystem_keys, len(system.columns)
    (['urban', 'rural'], 20)
    >>> system.directions["pm25"]
    '-'
    """
    if isinstance(path_or_name, IndicatorSystem):
        system = path_or_name
    elif isinstance(path_or_name, Mapping):
        system = system_from_dict(path_or_name)
    else:
        p = Path(path_or_name)
        if not p.exists():
            shipped = _indicators_dir() / f"{path_or_name}.yaml"
            if shipped.exists():
                p = shipped
            else:
                raise SpecificationError(
                    f"no indicator system file {str(path_or_name)!r}: give a YAML path or one of the "
                    f"shipped names {shipped_systems()}."
                )
        try:
            spec = yaml.safe_load(p.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise SpecificationError(
                f"{p}: not valid YAML ({exc}). Note that directions must be quoted: direction: \"-\"."
            ) from None
        system = system_from_dict(spec, name=p.stem)
    if data is not None:
        system.check_columns(data)
    return system
