"""From raw yearbook indicators to subsystem scores U and a composite integration index.

:func:`build_index` chains the steps of the 城乡融合 literature: validate the indicator system
against the data, handle missing cells explicitly, min-max normalize (pooled by default), weight
(entropy by default; CRITIC, CV, equal, fixed, explicit or a combination), and score (weighted sum
or TOPSIS). It returns an :class:`IndexResult` holding the weights table with bilingual labels, the
subsystem scores U (ready for :func:`analysis.coupling.coupling_coordination`), the composite score,
the settings and the rows used and dropped.

Subsystem scores use the global weights renormalized within each subsystem,
U_k = sum_{j in k} w_j z_j / W_k with W_k = sum_{j in k} w_j, so U_k lies in [0, 1] and the composite
weighted-sum index is sum_k W_k U_k = sum_j w_j z_j. For entropy weights this is identical to
running the entropy method separately within each subsystem (w_j is proportional to d_j).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import ColumnError, DuplicateKeyError, MissingValueError, SpecificationError, check_choice, describe_rows
from ..results import RowReport
from .normalize import SCOPES, NormalizationBounds, normalize
from .system import IndicatorSystem, load_system
from .topsis import topsis, topsis_vector
from .weights import (
    COMBINATIONS,
    WEIGHT_METHODS,
    check_weights,
    combine_weights,
    critic,
    cv,
    entropy,
    equal_weights,
    fixed_weights,
)

__all__ = ["build_index", "integration_index", "IndexResult", "METHODS", "MISSING"]

METHODS = ("weighted_sum", "topsis")
MISSING = ("raise", "interpolate", "drop")
REFERENCE = ("Entropy-weighted comprehensive index with pooled (global) min-max normalization, "
             "the panel entropy method of 杨丽 & 孙之淳 (2015); "
             "cross-checked against zhjx19/mathmodels R/eval_weights.R and R/eval_algorithms.R.")


@dataclass
class IndexResult:
    """The integration index and everything needed to read, reuse and report it.

    Attributes
    ----------
    weights : DataFrame
        One row per indicator: subsystem (key and labels), column, label, label_zh, unit,
        direction, ``weight`` (global, sums to one), ``subsystem_weight`` W_k, ``weight_within``
        (w_j / W_k, sums to one within each subsystem) and method details (entropy e and d,
        CRITIC sigma ...; per-year weights in columns ``weight_<year>`` for ``scope="year"``).
    U : DataFrame
        Subsystem scores, one column per subsystem key, indexed like the input rows used.
    score : Series
        Composite score (``integration_index``) per county-year.
    z : DataFrame
        Normalized indicators used (with the shift/rescale applied).
    keys : DataFrame
        ``entity`` and ``time`` of each row used.
    rows : RowReport
        Rows used and dropped with the reason.
    settings : dict
        Everything chosen: system, weights, scope, method, shift, missing handling and counts.
    """

    system: IndicatorSystem
    weights: pd.DataFrame
    U: pd.DataFrame
    score: pd.Series
    z: pd.DataFrame
    keys: pd.DataFrame
    rows: RowReport
    settings: dict[str, Any]
    bounds: NormalizationBounds
    weight_matrix: pd.DataFrame | None = None  # per-year weights (scope="year")
    ideal: dict = field(default_factory=dict)
    reference: str = REFERENCE

    # ---- views ------------------------------------------------------------------------------
    @property
    def weight(self) -> pd.Series:
        """Global indicator weights (Series indexed by column)."""
        return self.weights.set_index("column")["weight"]

    @property
    def subsystem_weights(self) -> pd.Series:
        """W_k = sum of the weights of the indicators in each subsystem."""
        return self.weights.groupby("subsystem", sort=False)["weight"].sum().reindex(
            self.system.subsystem_keys)

    @property
    def subsystem_labels(self) -> dict[str, tuple[str, str]]:
        return self.system.subsystem_labels()

    def to_frame(self) -> pd.DataFrame:
        """Tidy scores: entity, time, one column per subsystem, ``score``."""
        out = pd.concat([self.keys, self.U, self.score.rename("score")], axis=1)
        return out.reset_index(drop=True)

    def weights_table(self, lang: str = "zh") -> pd.DataFrame:
        """Weights table for a paper: subsystem, indicator, unit, direction, weights, in ``lang``."""
        check_choice("lang", lang, ("zh", "en"))
        w = self.weights
        zh = lang == "zh"
        out = pd.DataFrame({
            ("子系统" if zh else "subsystem"): w["subsystem_label_zh" if zh else "subsystem_label"],
            ("指标" if zh else "indicator"): w["label_zh" if zh else "label"],
            ("单位" if zh else "unit"): w["unit"],
            ("方向" if zh else "direction"): w["direction"],
            ("权重" if zh else "weight"): w["weight"],
            ("子系统内权重" if zh else "weight within subsystem"): w["weight_within"],
            ("子系统权重" if zh else "subsystem weight"): w["subsystem_weight"],
        })
        return out.reset_index(drop=True)

    def summary(self) -> str:
        lines = [f"Integration index ({self.settings['method']}, weights={self.settings['weights']}, "
                 f"scope={self.settings['scope']}) on indicator system {self.system.name!r}",
                 f"reference: {self.reference}", str(self.rows)]
        lines.append(self.weights[["subsystem", "column", "direction", "weight", "weight_within"]]
                     .to_string(index=False, float_format=lambda v: f"{v:.6f}"))
        lines.append(self.score.describe().to_string())
        return "\n".join(lines)

    def __repr__(self) -> str:  # pragma: no cover - display only
        return self.summary()

    # ---- reuse ------------------------------------------------------------------------------
    def unshifted_z(self) -> pd.DataFrame:
        """Z without the shift / [a, 1-a] rescale (what obstacle degrees need)."""
        a = self.settings.get("rescale")
        if a is not None:
            return (self.z - a) / (1 - 2 * a)
        return self.z - self.settings.get("shift", 0.0)

    def transform(self, data: pd.DataFrame) -> pd.Series:
        """Score other data with THIS result's normalization bounds and weights (fixed index).

        Use it for counterfactual panels (``analysis.simulate.counterfactual``): the index of
        observed and counterfactual data is then on one scale. Weighted-sum and min-max TOPSIS with
        pooled scope only; values outside the original bounds give z outside [0, 1].
        """
        if self.settings["scope"] != "pooled" or self.settings.get("topsis_variant") == "vector":
            raise SpecificationError("transform() needs scope='pooled' and min-max normalization.")
        self.system.check_columns(data)
        z = normalize(data, self.bounds.directions, self.bounds.targets, bounds=self.bounds,
                      time=self.settings["time"])
        w = self.weight.reindex(z.columns)
        if self.settings["method"] == "weighted_sum":
            out = z.to_numpy() @ w.to_numpy()
            return pd.Series(out, index=data.index, name="integration_index")
        res = topsis(z.dropna(), w, ideal=self.ideal["composite"])
        return res["closeness"].reindex(data.index).rename("integration_index")

    def obstacles(self, top_k: int = 3, by_subsystem_weight: bool | Mapping[str, float] = False):
        """Obstacle degrees (障碍度) of this index; see :func:`analysis.coupling.obstacle_degree`.

        Parameters
        ----------
        by_subsystem_weight
            ``False`` (default): factor contribution F_j = w_j, the global indicator weight.
            ``True``: F_j = (weight of j within its subsystem) x (1 / number of subsystems), the
            variant of papers that weight the subsystems equally (as the coupling model's default
            equal T weights). A mapping ``{subsystem: W_k}``: F_j = (within weight) x W_k.
            (With W_k = the subsystem's share of the global weights this equals the default,
            since w_j = within weight x W_k; so only equal or user-given W_k change the result.)
            The factor used is stated in ``result.settings["factor"]``.
        """
        from ..coupling import obstacle_degree

        w = self.weight_matrix if self.weight_matrix is not None else self.weight
        subsystems = self.system.subsystem_of
        if by_subsystem_weight is False or by_subsystem_weight is None:
            return obstacle_degree(self.unshifted_z(), w, subsystems=subsystems,
                                   top_k=top_k, keys=self.keys, labels=self._indicator_labels())
        cols = list(self.unshifted_z().columns)
        groups = list(dict.fromkeys(subsystems[c] for c in cols))
        if by_subsystem_weight is True:
            sw = {k: 1.0 / len(groups) for k in groups}
            how = "equal subsystem weights 1/K"
        elif isinstance(by_subsystem_weight, Mapping):
            sw = {str(k): float(v) for k, v in by_subsystem_weight.items()}
            missing = [k for k in groups if k not in sw]
            if missing:
                raise SpecificationError(
                    f"by_subsystem_weight has no weight for subsystem(s) {missing}; give one weight per "
                    f"subsystem ({groups}).")
            how = "user-given subsystem weights"
        else:
            raise SpecificationError(
                f"by_subsystem_weight={by_subsystem_weight!r} must be False, True (equal subsystem weights) "
                "or a mapping {subsystem: weight}.")
        # within-subsystem weights: w_j / W_k (per row when the weights vary by year)
        if isinstance(w, pd.DataFrame):
            wf = w.reindex(columns=cols)
            tot = wf.T.groupby(np.array([subsystems[c] for c in cols])).transform("sum").T
            within = wf / tot.where(tot > 0)
        else:
            ws = pd.Series(w, dtype=float).reindex(cols)
            tot = ws.groupby(np.array([subsystems[c] for c in cols])).transform("sum")
            within = ws / tot.where(tot > 0)
        res = obstacle_degree(self.unshifted_z(), within.fillna(0.0), subsystems=subsystems,
                              subsystem_weights=sw, top_k=top_k, keys=self.keys,
                              labels=self._indicator_labels())
        res.settings["factor"] = f"within-subsystem weight x W_k ({how}: {sw})"
        return res

    def coupling(self, model: str = "wang", **kwargs):
        """Coupling coordination of the subsystem scores U (equal T weights unless given)."""
        from ..coupling import coupling_coordination

        kwargs.setdefault("labels", self.subsystem_labels)
        res = coupling_coordination(self.U, model=model, **kwargs)
        return res

    def _indicator_labels(self) -> dict[str, tuple[str, str]]:
        return {i.column: (i.label, i.label_zh) for i in self.system.indicators}


# ---- missing cells ----------------------------------------------------------------------------
def _missing_error(frame: pd.DataFrame, cols: list[str], entity: str | None, time: str | None):
    na = frame[cols].isna()
    counts = na.sum()
    counts = counts[counts > 0]
    bad = na.any(axis=1)
    if entity and time:
        keys = [f"{e}/{t}" for e, t in zip(frame.loc[bad, entity], frame.loc[bad, time])]
    else:
        keys = list(frame.index[bad])
    per_col = ", ".join(f"{c} ({n})" for c, n in counts.items())
    raise MissingValueError(
        f"{int(bad.sum())} of {len(frame)} rows have missing indicator cells: {per_col}; "
        f"{describe_rows(keys)} ({entity}/{time}). The entropy method needs complete data. Fix: "
        "interpolate within county first (analysis.panel.interpolate), or pass "
        "missing='interpolate' (linear in time within each county, ends carried from the nearest "
        "observed year; counts reported) or missing='drop' (listwise deletion; counts reported)."
    )


def _interpolate(frame: pd.DataFrame, cols: list[str], entity: str, time: str):
    """Delegate to :func:`analysis.panel.interpolate` (linear in time within county, edges carried)."""
    from ..panel import interpolate

    out = interpolate(frame, cols, entity=entity, time=time, extrapolate="carry")
    rep = out.attrs.get("interpolate_report")
    out.attrs = {}  # do not carry the report through every later pandas operation
    if isinstance(rep, pd.DataFrame) and "column" in rep.columns:
        rep = rep.set_index("column").to_dict(orient="index")
    rep = rep if isinstance(rep, Mapping) else {}
    report = {"interpolated": {}, "edge_filled": {}, "unfillable": {}}
    for c, r in rep.items():
        report["interpolated"][c] = int(r.get("interior", 0))
        report["edge_filled"][c] = int(r.get("edge", 0))
        report["unfillable"][c] = int(r.get("still_missing", 0))
    # whatever the report says, recount what is still missing ourselves
    for c in cols:
        report["unfillable"][c] = int(out[c].isna().sum())
    return out, report


# ---- weights ------------------------------------------------------------------------------------
def _weights(spec, z: pd.DataFrame, raw: pd.DataFrame, system: IndicatorSystem, combine: str,
             alpha) -> tuple[pd.Series, pd.DataFrame]:
    """Weights and a details table (indexed by column) for one block of rows."""
    cols = list(z.columns)
    if isinstance(spec, (pd.Series, Mapping)):
        w = check_weights(pd.Series(spec, dtype=float), cols, "explicit weights")
        return w, pd.DataFrame(index=cols)
    if isinstance(spec, (list, tuple)):
        parts, details = {}, []
        for m in spec:
            w_m, d_m = _weights(m, z, raw, system, combine, alpha)
            name = m if isinstance(m, str) else f"w{len(parts) + 1}"
            parts[name] = w_m
            details.append(w_m.rename(f"weight_{name}"))
        w = combine_weights(parts, method=combine, alpha=alpha)
        det = pd.concat(details, axis=1)
        if "alpha" in w.attrs:
            det.attrs["alpha"] = w.attrs["alpha"]
        return w, det
    check_choice("weights", spec, WEIGHT_METHODS)
    if spec == "entropy":
        d = entropy(z)
        return d["weight"], d[["e", "d"]].rename(columns={"e": "entropy_e", "d": "entropy_d"})
    if spec == "critic":
        d = critic(z)
        return d["weight"], d[["sigma", "conflict"]].add_prefix("critic_")
    if spec == "cv":
        d = cv(raw)
        return d["weight"], d[["cv"]].rename(columns={"cv": "cv_raw"})
    if spec == "equal":
        return equal_weights(cols), pd.DataFrame(index=cols)
    return fixed_weights(system, cols), pd.DataFrame(index=cols)


def _scores(z, raw, w: pd.Series, system: IndicatorSystem, method: str, variant: str):
    """Subsystem scores and composite for one block (rows) with weights w."""
    U = {}
    ideal = {}
    for s in system.subsystems:
        cols = s.columns
        W = float(w[cols].sum())
        if W <= 0:
            warnings.warn(f"subsystem {s.key!r}: all its indicators have weight 0 (constant?); "
                          "its score U is NaN.", RuntimeWarning, stacklevel=4)
            U[s.key] = np.full(len(z), np.nan)
            continue
        wk = w[cols] / W
        if method == "weighted_sum":
            U[s.key] = z[cols].to_numpy() @ wk.to_numpy()
        elif variant == "minmax":
            r, ideal[s.key] = topsis(z[cols], wk, return_ideal=True)
            U[s.key] = r["closeness"].to_numpy()
        else:
            U[s.key] = topsis_vector(raw[cols], wk, system.directions)["closeness"].to_numpy()
    U = pd.DataFrame(U, index=z.index)
    if method == "weighted_sum":
        comp = pd.Series(z.to_numpy() @ w.to_numpy(), index=z.index)
    elif variant == "minmax":
        r, ideal["composite"] = topsis(z, w, return_ideal=True)
        comp = r["closeness"]
    else:
        comp = topsis_vector(raw, w, system.directions)["closeness"]
    return U, comp, ideal


# ---- main entry -------------------------------------------------------------------------------
def build_index(
    data: pd.DataFrame,
    system: "str | IndicatorSystem | Mapping" = "county_uri",
    weights: "str | Sequence[str] | pd.Series | Mapping" = "entropy",
    scope: str = "pooled",
    method: str = "weighted_sum",
    entity: str | None = "county",
    time: str | None = "year",
    shift: float = 0.0,
    rescale: float | None = None,
    missing: str = "raise",
    combine: str = "game",
    alpha: float | Sequence[float] | None = None,
    topsis_variant: str = "minmax",
) -> IndexResult:
    """Build a composite integration index (综合指数) and subsystem scores from raw indicators.

    Long because it checks every option and reports missing cells before the few lines that compute the index;
    normalisation and weighting live in their own modules.

    Parameters
    ----------
    data
        Long panel, one row per county-year, with the indicator columns of ``system``.
    system
        Indicator system: shipped name (``"county_uri"``, ``"urban_rural_two"``), YAML path, dict
        or :class:`~analysis.indicators.IndicatorSystem`.
    weights
        ``"entropy"`` (default; k = 1/ln N over all county-years used), ``"critic"``, ``"cv"`` (on
        raw values), ``"equal"``, ``"fixed"`` (from the YAML), an explicit Series/dict, or a list of
        methods combined with ``combine`` (``"game"`` default, ``"linear"`` with ``alpha``,
        ``"multiplicative"``).
    scope
        ``"pooled"`` (default): normalization bounds and weights over all county-years, so scores
        are comparable over time. ``"year"``: bounds and weights within each year (warns on a
        panel: scores then only rank counties within a year).
    method
        ``"weighted_sum"`` (sum_j w_j z_j) or ``"topsis"`` (closeness with the pooled ideal;
        ``topsis_variant="minmax"`` on z, or ``"vector"`` for classic vector normalization).
    entity, time
        Key columns (``None`` for a cross-section without keys). Duplicated keys raise.
    shift, rescale
        z + shift, or z mapped to [rescale, 1 - rescale] (for replication; 0 ln 0 = 0 makes a
        shift unnecessary for the entropy method).
    missing
        ``"raise"`` (default): error naming columns and rows. ``"interpolate"``:
        :func:`analysis.panel.interpolate` (linear in time within county, leading/trailing gaps
        carried from the nearest observed year); rows of counties without any observation of an
        indicator are dropped; counts in ``settings["missing_report"]`` and ``rows``.
        ``"drop"``: listwise deletion, reported in ``rows``.

    Returns
    -------
    IndexResult

    References
    ----------
    Entropy weights with pooled normalization: the panel entropy method of 杨丽 & 孙之淳 (2015);
    TOPSIS: Hwang & Yoon (1981); R counterpart ``mathmodels::entropy_weight`` / ``topsis`` (zhjx19/mathmodels).

    Examples
    --------
    Three counties over two years, one indicator per subsystem, equal weights:

    >>> import pandas as pd
    >>> gdp = {"column": "gdp", "label": "GDP", "label_zh": "GDP", "direction": "+"}
    >>> pm = {"column": "pm25", "label": "PM2.5", "label_zh": "PM2.5", "direction": "-"}
    >>> spec = {"subsystems": [
    ...     {"key": "economy", "label": "Economy", "label_zh": "经济", "indicators": [gdp]},
    ...     {"key": "ecology", "label": "Ecology", "label_zh": "生态", "indicators": [pm]}]}
    >>> df = pd.DataFrame({"county": [1, 1, 2, 2, 3, 3], "year": [2010, 2011] * 3,
    ...                    "gdp": [10.0, 12.0, 20.0, 22.0, 30.0, 30.0],
    ...                    "pm25": [60.0, 55.0, 40.0, 40.0, 30.0, 35.0]})
    >>> res = build_index(df, spec, weights="equal")
    >>> res.weights["weight"].tolist(), res.U.columns.tolist()
    ([0.5, 0.5], ['economy', 'ecology'])
    >>> res.score.round(3).tolist()  # 0.5 * z_gdp + 0.5 * z_pm25
    [0.0, 0.133, 0.583, 0.633, 1.0, 0.917]
    """
    check_choice("scope", scope, SCOPES)
    check_choice("method", method, METHODS)
    check_choice("missing", missing, MISSING)
    check_choice("combine", combine, COMBINATIONS)
    check_choice("topsis_variant", topsis_variant, ("minmax", "vector"))
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError("build_index needs a pandas DataFrame (one row per county-year).")
    system = load_system(system, data=data)
    cols = system.columns
    keycols = [k for k in (entity, time) if k is not None]
    for k in keycols:
        if k not in data.columns:
            raise ColumnError(f"key column {k!r} is not in the data; pass entity=/time= "
                              "(or None for a cross-section).")
    if scope == "year" and time is None:
        raise SpecificationError("scope='year' needs a time column.")
    if keycols:
        dup = data.duplicated(keycols, keep=False)
        if dup.any():
            d = data.loc[dup, keycols].drop_duplicates()
            raise DuplicateKeyError(
                f"{int(dup.sum())} rows share a {'/'.join(keycols)} key, e.g. "
                f"{describe_rows(d.astype(str).agg('/'.join, axis=1))}. Keep one row per "
                "county-year (aggregate or drop duplicates) before building the index."
            )
    if method == "topsis" and topsis_variant == "vector" and (shift or rescale is not None):
        raise SpecificationError("shift/rescale apply to min-max normalization, not to vector TOPSIS.")

    frame = data[keycols + cols].copy()
    for c in cols:
        frame[c] = pd.to_numeric(frame[c]).astype(float)
    n_input = len(frame)
    dropped: dict[str, int] = {}
    missing_report: dict[str, Any] = {}
    na_any = frame[cols].isna().any(axis=1)
    allna = [c for c in cols if frame[c].isna().all()]
    if allna:
        raise MissingValueError(f"indicator column(s) {allna} are entirely missing; drop them from the "
                                "indicator system or fill them from another source.")
    if na_any.any():
        if missing == "raise":
            _missing_error(frame, cols, entity, time)
        missing_report["cells_missing"] = {c: int(n) for c, n in frame[cols].isna().sum().items() if n}
        if missing == "interpolate":
            if entity is None or time is None:
                raise SpecificationError("missing='interpolate' needs entity and time columns.")
            frame, rep = _interpolate(frame, cols, entity, time)
            missing_report.update({k: {c: n for c, n in v.items() if n} for k, v in rep.items()})
            still = frame[cols].isna().any(axis=1)
            if still.any():
                dropped["county has no observed value of an indicator (after interpolation)"] = int(still.sum())
                frame = frame.loc[~still]
        else:
            dropped["missing indicator cell (listwise)"] = int(na_any.sum())
            frame = frame.loc[~na_any]
    rows = RowReport(n_input=n_input, n_used=len(frame), dropped=dropped)
    if len(frame) < 2:
        raise SpecificationError(f"only {len(frame)} usable rows: an index needs at least two.")

    raw = frame[cols]
    z, bounds = normalize(frame, system.directions, system.targets, scope=scope,
                          time=time or "year", shift=shift, rescale=rescale, return_bounds=True)
    wmatrix = None
    ideal: dict = {}
    if scope == "pooled":
        w, details = _weights(weights, z, raw, system, combine, alpha)
        U, comp, ideal = _scores(z, raw, w, system, method, topsis_variant)
    else:
        tv = frame[time]
        per_w, Us, comps = {}, [], []
        for y in sorted(pd.unique(tv)):
            m = (tv == y).to_numpy()
            w_y, _ = _weights(weights, z.loc[m], raw.loc[m], system, combine, alpha)
            per_w[y] = w_y
            U_y, c_y, _ = _scores(z.loc[m], raw.loc[m], w_y, system, method, topsis_variant)
            Us.append(U_y)
            comps.append(c_y)
        wdf = pd.DataFrame(per_w)  # columns = years
        w = wdf.mean(axis=1)
        details = wdf.add_prefix("weight_")
        U = pd.concat(Us).reindex(frame.index)
        comp = pd.concat(comps).reindex(frame.index)
        wmatrix = wdf.T.loc[tv.to_numpy()].set_axis(frame.index)

    table = system.to_frame().drop(columns=["fixed_weight"])
    table["weight"] = w.reindex(cols).to_numpy()
    W = table.groupby("subsystem", sort=False)["weight"].transform("sum")
    table["subsystem_weight"] = W.to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        table["weight_within"] = np.where(W > 0, table["weight"] / W.where(W > 0, 1.0), np.nan)
    table = table.join(details, on="column") if len(details.columns) else table

    n_used = len(frame)
    settings = {
        "system": system.name,
        "weights": weights if isinstance(weights, (str, list, tuple)) else "explicit",
        "combine": combine if isinstance(weights, (list, tuple)) else None,
        "combine_alpha": details.attrs.get("alpha") if isinstance(weights, (list, tuple)) else None,
        "scope": scope,
        "method": method,
        "topsis_variant": topsis_variant if method == "topsis" else None,
        "shift": float(shift),
        "rescale": rescale,
        "missing": missing,
        "missing_report": missing_report,
        "entity": entity,
        "time": time,
        "n_rows": n_used,
        "entropy_k": (1 / np.log(n_used)) if scope == "pooled" else "1/ln(n) within each year",
    }
    keys = frame[keycols].copy() if keycols else pd.DataFrame(index=frame.index)
    return IndexResult(system=system, weights=table, U=U, score=comp.rename("integration_index"),
                       z=z, keys=keys, rows=rows, settings=settings, bounds=bounds,
                       weight_matrix=wmatrix, ideal=ideal)


def integration_index(panel: pd.DataFrame, system="county_uri", **kwargs) -> pd.Series:
    """Composite integration index per county-year, aligned with ``panel``'s rows (a shortcut).

    ``panel["uri"] = integration_index(panel, missing="interpolate")`` gives a DiD outcome.
    Rows dropped by the missing-value rule are NaN. Keyword arguments go to :func:`build_index`.

    Examples
    --------
    >>> import pandas as pd
    >>> gdp = {"column": "gdp", "label": "GDP", "label_zh": "GDP", "direction": "+"}
    >>> pm = {"column": "pm25", "label": "PM2.5", "label_zh": "PM2.5", "direction": "-"}
    >>> spec = {"subsystems": [
    ...     {"key": "economy", "label": "Economy", "label_zh": "经济", "indicators": [gdp]},
    ...     {"key": "ecology", "label": "Ecology", "label_zh": "生态", "indicators": [pm]}]}
    >>> df = pd.DataFrame({"county": [1, 1, 2, 2], "year": [2010, 2011] * 2,
    ...                    "gdp": [10.0, None, 20.0, 30.0], "pm25": [60.0, 50.0, 40.0, 30.0]})
    >>> uri = integration_index(df, spec, weights="equal", missing="interpolate")
    >>> uri.name, uri.round(3).tolist()  # county 1's 2011 gdp carried from 2010
    ('integration_index', [0.0, 0.167, 0.583, 1.0])
    """
    res = build_index(panel, system, **kwargs)
    return res.score.reindex(panel.index).rename("integration_index")
