"""Coupling coordination (耦合协调度), relative development and obstacle degree (障碍度).

Models for n >= 2 subsystem scores U_1..U_n in [0, 1]:

* ``"wang"`` (default), the corrected model of Wang Shujia, Kong Wei, Ren Liang, Zhi Dandan & Dai
  Bingtao (2021), 中国国内耦合协调度模型的误区及修正, 自然资源学报 36(3):793-810,
  doi:10.31497/zrzyxb.20210319:
  C = sqrt{ [1 - sum_{i>j}|U_i - U_j| / sum_{m=1}^{n-1} m] * (prod_i U_i / max U)^(1/(n-1)) }.
  R: ``coupling::ccd(method = "wang")`` (stscl/coupling), ``mathmodels`` ``type = "adjusted"``.
* ``"traditional"``: C = [prod U_i / (mean U)^n]^(1/n) (geometric / arithmetic mean); its C piles
  up near 1 (median 0.94 for uniform U), so D mostly measures T. ``coupling::ccd(method="standard")``.
* ``"fan"`` (Fan, Ke & Cao 2024, 统计与决策 40(22):41-46): C = 1 - 2 * SD_pop(U).
  ``coupling::ccd(method = "fan")``.

T = sum_i alpha_i U_i (equal alpha by default, sum to one), D = sqrt(C * T). D is put in the 10-level
table of 田深圳 et al. (2021, 地理学报 76(4):781, Table 1), C in its four coupling stages; both after
rounding (default 10 decimals) so that 0.1 + 0.2 lands in the class of 0.3.

Conventions: rows with a missing U give NaN C/T/D (counted in ``settings``); an all-zero row gives
C = T = D = 0 (as ``stscl/coupling``); U outside [0, 1], n = 1 and T weights that do not sum to one
raise errors from :mod:`analysis.errors`.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .errors import ScaleError, SpecificationError, check_choice

__all__ = [
    "coupling_coordination",
    "coupling_degree",
    "CouplingResult",
    "ClassTable",
    "D_CLASSES",
    "C_STAGES",
    "D_CLASSES_XU2020",
    "relative_development",
    "obstacle_degree",
    "ObstacleResult",
    "MODELS",
    "TraditionalCouplingWarning",
]

MODELS = ("wang", "traditional", "fan")
CLOSURES = ("right", "left")


class TraditionalCouplingWarning(UserWarning):
    """The traditional coupling degree is concentrated near 1; prefer model='wang'."""


@dataclass(frozen=True)
class ClassTable:
    """A classification table: ``edges`` (k + 1 increasing cut points) and k bilingual labels.

    Pass one as ``classes=`` or ``stages=`` of :func:`coupling_coordination` to use another
    paper's classes.

    Examples
    --------
    A value on a cut point falls in the lower class with the default right-closed intervals
    (a, b], in the upper one with ``closure="left"``:

    >>> table = ClassTable((0.0, 0.5, 1.0), ("失调", "协调"), ("disorder", "coordination"))
    >>> table.classify([0.2, 0.5, 0.9])["class_en"].tolist()
    ['disorder', 'disorder', 'coordination']
    >>> table.classify([0.2, 0.5, 0.9], closure="left")["level"].tolist()
    [1, 2, 2]
    """

    edges: tuple[float, ...]
    labels_zh: tuple[str, ...]
    labels_en: tuple[str, ...]
    name: str = ""
    source: str = ""

    def __post_init__(self) -> None:
        e = np.asarray(self.edges, dtype=float)
        if e.ndim != 1 or len(e) < 2 or np.any(np.diff(e) <= 0):
            raise SpecificationError(f"class table {self.name!r}: edges must increase, got {self.edges}.")
        if not (len(self.labels_zh) == len(self.labels_en) == len(e) - 1):
            raise SpecificationError(
                f"class table {self.name!r}: {len(e) - 1} intervals need as many zh and en labels "
                f"(got {len(self.labels_zh)} and {len(self.labels_en)})."
            )

    @classmethod
    def from_frame(cls, table: pd.DataFrame, name: str = "custom", source: str = "") -> "ClassTable":
        """From a frame with columns ``lower``, ``upper``, ``label_zh``, ``label_en`` (contiguous)."""
        t = table.sort_values("lower")
        lo, up = t["lower"].to_numpy(float), t["upper"].to_numpy(float)
        if not np.allclose(lo[1:], up[:-1]):
            raise SpecificationError("class table rows must be contiguous (each lower = previous upper).")
        return cls(tuple(lo) + (up[-1],), tuple(t["label_zh"]), tuple(t["label_en"]), name, source)

    def classify(self, values, closure: str = "right", decimals: int | None = 10) -> pd.DataFrame:
        """Level (1..k), ``class_zh`` and ``class_en`` of each value.

        ``closure="right"``: intervals (a, b], the lowest one also holds its lower edge (D = 0);
        ``"left"``: [a, b), the highest one also holds its upper edge. Values are rounded to
        ``decimals`` first (None: no rounding). Values outside the table or NaN give NaN.
        """
        check_choice("closure", closure, CLOSURES)
        v = np.asarray(values, dtype=float)
        if decimals is not None:
            v = np.round(v, decimals)
        e = np.asarray(self.edges, dtype=float)
        side = "left" if closure == "right" else "right"
        idx = np.searchsorted(e[1:-1], v, side=side)
        ok = (v >= e[0]) & (v <= e[-1]) & ~np.isnan(v)
        codes = np.where(ok, idx, -1)
        index = values.index if isinstance(values, pd.Series) else None
        return pd.DataFrame({
            "level": pd.arrays.IntegerArray(np.where(ok, idx + 1, 0).astype("int64"), ~ok),
            "class_zh": pd.Categorical.from_codes(codes, categories=list(self.labels_zh), ordered=True),
            "class_en": pd.Categorical.from_codes(codes, categories=list(self.labels_en), ordered=True),
        }, index=index)

    def to_frame(self) -> pd.DataFrame:
        e = self.edges
        return pd.DataFrame({"level": range(1, len(e)), "lower": e[:-1], "upper": e[1:],
                             "label_zh": self.labels_zh, "label_en": self.labels_en})


D_CLASSES = ClassTable(
    edges=tuple(np.round(np.linspace(0, 1, 11), 10)),
    labels_zh=("极度失调", "严重失调", "中度失调", "轻度失调", "濒临失调",
               "勉强协调", "初级协调", "中级协调", "良好协调", "优质协调"),
    labels_en=("extreme disorder", "serious disorder", "moderate disorder", "mild disorder",
               "on the verge of disorder", "barely coordinated", "primary coordination",
               "intermediate coordination", "good coordination", "high-quality coordination"),
    name="tian2021_D10",
    source="田深圳 et al. (2021), 地理学报 76(4):781, Table 1",
)

C_STAGES = ClassTable(
    edges=(0.0, 0.3, 0.5, 0.8, 1.0),
    labels_zh=("低水平耦合", "拮抗阶段", "磨合阶段", "高水平耦合"),
    labels_en=("low-level coupling", "antagonistic stage", "running-in stage", "high-level coupling"),
    name="tian2021_C4",
    source="田深圳 et al. (2021), 地理学报 76(4):781, Table 1",
)

D_CLASSES_XU2020 = ClassTable(
    edges=(0.0, 0.5, 0.6, 0.7, 1.0),
    labels_zh=("濒临失调", "初级协调", "中级协调", "高级协调"),
    labels_en=("on the verge of disorder", "primary coordination", "intermediate coordination",
               "advanced coordination"),
    name="xu2020_D4",
    source="徐维祥, 李露, 周建平, 刘程军 (2020), 自然资源学报 35(9):2044, Table 2",
)


# ---- input checks ------------------------------------------------------------------------------
def _as_frame(U) -> pd.DataFrame:
    if isinstance(U, pd.DataFrame):
        frame = U
    else:
        # no dtype=float: booleans and (numeric) strings are rejected below, as in a DataFrame,
        # instead of silently becoming 1.0/0.0 or parsed numbers; None in an object array is NaN
        arr = np.asarray(U)
        if arr.ndim == 1:
            arr = arr[None, :]
        if arr.ndim != 2:
            raise SpecificationError("U must be a DataFrame or a 2-D array (rows x subsystems).")
        frame = pd.DataFrame(arr, columns=[f"U{i + 1}" for i in range(arr.shape[1])]).infer_objects()
    if frame.shape[1] < 2:
        raise SpecificationError(
            f"coupling needs at least two subsystems (got {frame.shape[1]}: {list(frame.columns)}); "
            "with one subsystem there is nothing to couple (C is undefined)."
        )
    bad = [c for c in frame.columns
           if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])]
    if bad:
        raise SpecificationError(
            f"U must be numeric, one column of scores per subsystem; column(s) {bad} are not. "
            "Pass only the subsystem columns (e.g. build_index(...).U), not the keys."
        )
    frame = frame.astype(float)
    arr = frame.to_numpy()
    if np.isinf(arr).any():
        raise ScaleError("U contains infinite values.")
    finite = arr[~np.isnan(arr)]
    if finite.size and finite.min() < 0:
        cols = [c for c, v in zip(frame.columns, np.nanmin(arr, axis=0)) if v < 0]
        raise ScaleError(f"U must lie in [0, 1]; column(s) {cols} have negative values "
                         f"(min {finite.min():.6g}). Use min-max normalized subsystem scores.")
    if finite.size and finite.max() > 1 + 1e-12:
        cols = [c for c, v in zip(frame.columns, np.nanmax(arr, axis=0)) if v > 1]
        if finite.max() <= 1.01:
            hint = (" Slightly above 1: scores built from shifted z (shift=0.0001)? Build the index "
                    "without shift (0 ln 0 = 0 needs none) or use rescale= (maps z into [a, 1 - a]).")
        elif finite.max() <= 100:
            hint = " They look like a 0-100 scale: divide U by 100."
        else:
            hint = " Rescale them to [0, 1] (min-max) first."
        raise ScaleError(f"U must lie in [0, 1]; column(s) {cols} exceed 1 "
                         f"(max {finite.max():.6g}).{hint} The corrected (Wang) model uses "
                         "absolute differences and is meaningless on another scale.")
    return frame


def _t_weights(weights, columns: Sequence) -> np.ndarray:
    n = len(columns)
    if weights is None:
        return np.full(n, 1.0 / n)
    if isinstance(weights, Mapping) or isinstance(weights, pd.Series):
        w = pd.Series(weights, dtype=float)
        missing = [c for c in columns if c not in w.index]
        if missing:
            raise SpecificationError(f"T weights miss subsystem(s) {missing}.")
        w = w.reindex(list(columns)).to_numpy()
    else:
        w = np.asarray(weights, dtype=float).ravel()
    if w.size != n:
        raise SpecificationError(f"T weights: {w.size} values for {n} subsystems.")
    if not np.isfinite(w).all() or (w < 0).any():
        raise SpecificationError(f"T weights must be finite and non-negative: {w.tolist()}.")
    if abs(w.sum() - 1) > 1e-6:
        raise SpecificationError(f"T weights sum to {w.sum():.8g}, not 1 (T weights must "
                                 "sum to one). Divide them by their sum.")
    return w


# ---- the models ---------------------------------------------------------------------------------
def coupling_degree(arr: np.ndarray, model: str = "wang") -> np.ndarray:
    """Coupling degree C of each row of ``arr`` (validated, in [0, 1], no NaN); all-zero rows -> 0.

    The low-level kernel of :func:`coupling_coordination` (``model`` is one of :data:`MODELS`).

    Examples
    --------
    Two subsystems at 0.2 and 0.4: Wang et al.'s C = sqrt((1 - 0.2) * 0.2 / 0.4) = 0.632, the
    traditional 2 sqrt(U1 U2) / (U1 + U2) = 0.943 and Fan et al.'s 1 - 2 sd = 0.8; equal scores
    couple perfectly:

    >>> import numpy as np
    >>> U = np.array([[0.2, 0.4], [0.4, 0.4]])
    >>> [np.round(coupling_degree(U, m), 3).tolist() for m in ("wang", "traditional", "fan")]
    [[0.632, 1.0], [0.943, 1.0], [0.8, 1.0]]
    """
    n = arr.shape[1]
    zero = ~(arr > 0).any(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        if model == "traditional":
            gm = np.exp(np.log(np.where(arr > 0, arr, 1.0)).mean(axis=1))
            gm = np.where((arr > 0).all(axis=1), gm, 0.0)
            # gm > 0 only: a zero score gives C = 0 (the mean of a subnormal and 0 underflows to 0)
            C = np.where(gm > 0, gm / arr.mean(axis=1), 0.0)
        elif model == "wang":
            s = np.sort(arr, axis=1)
            coef = 2 * np.arange(n) - n + 1
            pair_sum = s @ coef  # sum_{i>j} |U_i - U_j|
            first = 1.0 - pair_sum / (n * (n - 1) / 2)
            mx = s[:, -1]
            ratio = np.prod(arr / mx[:, None], axis=1) ** (1.0 / (n - 1))
            C = np.sqrt(np.clip(first, 0, None) * ratio)
        else:  # fan
            # sqrt{[n sum U^2 - (sum U)^2] / n^2} = population SD; two-pass form avoids the
            # cancellation of the textbook expression (equal U would give C = 1 - 2e-8)
            C = 1.0 - 2.0 * arr.std(axis=1, ddof=0)
    C = np.where(zero, 0.0, C)
    return np.clip(C, 0.0, 1.0)


@dataclass
class CouplingResult:
    """Coupling degree C, development index T, coordination degree D and their classes.

    ``frame`` has columns C, T, D, level (1-10), class_zh, class_en, stage_level, stage_zh, stage_en,
    indexed like the input U. ``settings`` records the model, T weights, class tables, closure,
    rounding and the counts of NaN and all-zero rows.
    """

    frame: pd.DataFrame
    U: pd.DataFrame
    model: str
    settings: dict[str, Any]
    labels: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def C(self) -> pd.Series:
        return self.frame["C"]

    @property
    def T(self) -> pd.Series:
        return self.frame["T"]

    @property
    def D(self) -> pd.Series:
        return self.frame["D"]

    def to_frame(self) -> pd.DataFrame:
        return self.frame.copy()

    def class_counts(self, lang: str = "zh") -> pd.Series:
        """Number of rows in each D class, in the table's order."""
        check_choice("lang", lang, ("zh", "en"))
        col = "class_zh" if lang == "zh" else "class_en"
        table = self.settings["classes"]
        labels = table.labels_zh if lang == "zh" else table.labels_en
        return self.frame[col].value_counts().reindex(list(labels), fill_value=0)

    def relative_development(self, rule: str = "difference", **kwargs) -> pd.DataFrame:
        """Relative development labels appended to this result's D classes."""
        kwargs.setdefault("labels", self.labels)
        return relative_development(self.U, rule=rule, d_classes=self.frame, **kwargs)

    def summary(self) -> str:
        lines = [f"Coupling coordination, model={self.model!r} ({len(self.U.columns)} subsystems: "
                 f"{', '.join(map(str, self.U.columns))})",
                 f"T weights: {self.settings['weights']}",
                 self.frame[["C", "T", "D"]].describe().to_string()]
        return "\n".join(lines)

    def __repr__(self) -> str:  # pragma: no cover
        return self.summary()


def coupling_coordination(
    U,
    model: str = "wang",
    weights=None,
    classes: ClassTable = D_CLASSES,
    stages: ClassTable = C_STAGES,
    closure: str = "right",
    decimals: int | None = 10,
    labels: Mapping[str, tuple[str, str]] | None = None,
    warn: bool = True,
) -> CouplingResult:
    """Coupling coordination degree model (耦合协调度模型) for n >= 2 subsystems.

    Parameters
    ----------
    U
        Subsystem scores in [0, 1]: DataFrame with one column per subsystem (e.g.
        ``build_index(...).U``), a 2-D array (rows x subsystems) or a 1-D array (one observation).
    model
        ``"wang"`` (default; Wang et al. 2021 corrected model), ``"traditional"`` or ``"fan"``.
    weights
        Contribution coefficients alpha of T = sum alpha_i U_i (sum to one; equal by default).
        Weights enter T only, never C (the "weight misuse" of Wang et al. 2021).
    classes, stages
        Class tables for D and C (default: 田深圳 et al. 2021 Table 1). See :class:`ClassTable`.
    closure
        ``"right"``: (a, b] intervals (default, as the cited table); ``"left"``: [a, b).
    decimals
        Round D and C to this many decimals before binning (None: no rounding).
    labels
        ``{column: (label_en, label_zh)}`` for relative-development labels.
    warn
        Warn about the traditional model's concentration near 1.

    Returns
    -------
    CouplingResult

    References
    ----------
    Wang, Kong, Ren, Zhi & Dai (2021), 自然资源学报 36(3):793-810; Fan, Ke & Cao (2024), 统计与决策
    40(22):41-46; R package ``coupling`` (stscl/coupling) ``ccd()``; classes from 田深圳 et al.
    (2021), 地理学报 76(4):781.

    Examples
    --------
    D = sqrt(C T) with T the mean of the subsystem scores:

    >>> import pandas as pd
    >>> U = pd.DataFrame({"urban": [0.2, 0.4, 0.9], "rural": [0.4, 0.4, 0.8]})
    >>> res = coupling_coordination(U)
    >>> res.frame[["C", "T", "D"]].round(3).to_dict("list")
    {'C': [0.632, 1.0, 0.894], 'T': [0.3, 0.4, 0.85], 'D': [0.436, 0.632, 0.872]}
    >>> res.frame["class_en"].tolist()
    ['on the verge of disorder', 'primary coordination', 'good coordination']
    """
    check_choice("model", model, MODELS)
    check_choice("closure", closure, CLOSURES)
    frame = _as_frame(U)
    alpha = _t_weights(weights, list(frame.columns))
    arr = frame.to_numpy()
    nan_rows = np.isnan(arr).any(axis=1)
    C = np.full(len(arr), np.nan)
    ok = ~nan_rows
    C[ok] = coupling_degree(arr[ok], model)
    T = np.where(ok, np.where(np.isnan(arr), 0, arr) @ alpha, np.nan)
    D = np.sqrt(C * T)
    zero_rows = int((ok & ~(np.where(np.isnan(arr), 0, arr) > 0).any(axis=1)).sum())
    if model == "traditional" and warn:
        warnings.warn(
            "the traditional coupling degree C = geometric mean / arithmetic mean piles up near 1 "
            "(median 0.94 for uniform U; U = (0.3, 0.6) gives 0.94), so D mostly measures T and its "
            "classes are not comparable with the corrected model. Prefer model='wang' (Wang et al. "
            "2021, 自然资源学报 36(3)).", TraditionalCouplingWarning, stacklevel=2)
    if nan_rows.any() and warn:
        warnings.warn(f"{int(nan_rows.sum())} row(s) have a missing U: their C, T and D are NaN.",
                      RuntimeWarning, stacklevel=2)
    out = pd.DataFrame({"C": C, "T": T, "D": D}, index=frame.index)
    dc = classes.classify(out["D"], closure=closure, decimals=decimals)
    cs = stages.classify(out["C"], closure=closure, decimals=decimals)
    out = pd.concat([out, dc, cs.rename(columns={"level": "stage_level", "class_zh": "stage_zh",
                                                 "class_en": "stage_en"})], axis=1)
    settings = {
        "model": model,
        "weights": dict(zip(map(str, frame.columns), alpha.round(12).tolist())),
        "classes": classes,
        "stages": stages,
        "closure": closure,
        "decimals": decimals,
        "n_subsystems": frame.shape[1],
        "rows_missing_U": int(nan_rows.sum()),
        "rows_all_zero": zero_rows,
        "all_zero_convention": "C = T = D = 0 (as stscl/coupling)",
    }
    return CouplingResult(out, frame, model, settings, dict(labels or {}))


# ---- relative development -------------------------------------------------------------------------
def relative_development(
    U,
    rule: str = "difference",
    threshold: float = 0.1,
    ratio_bounds: tuple[float, float] = (0.8, 1.2),
    labels: Mapping[str, tuple[str, str]] | None = None,
    d_classes: pd.DataFrame | None = None,
    tol: float = 1e-12,
) -> pd.DataFrame:
    """Relative development (相对发展度) and lagging-subsystem labels.

    Two subsystems a, b (the first two columns):

    * ``rule="difference"`` (徐维祥 et al. 2020, 自然资源学报 35(9):2044, Table 2): U_a - U_b >
      ``threshold`` -> b lags; U_b - U_a > threshold -> a lags; otherwise synchronous.
    * ``rule="ratio"``: E = U_a / U_b; E <= lower -> a lags, E >= upper -> b lags, else synchronous
      (``ratio_bounds``, default (0.8, 1.2); 0.9/1.1 also appears). U_b = 0 gives E = inf (b lags)
      unless U_a = 0 too (NaN); prefer the difference rule when zeros occur.

    n >= 3 subsystems: the lowest subsystem lags when max - min > threshold (difference) or
    min / max <= lower bound (ratio); ties at the minimum are all named.

    Returns
    -------
    DataFrame with ``value`` (U_a - U_b or E; for n >= 3 max - min or min / max), ``lagging``
    (subsystem key(s), "" when synchronous), ``type_zh`` / ``type_en`` (e.g. 乡村滞后 / rural lagging,
    同步发展 / synchronous) and, when ``d_classes`` (a coupling result frame with class_zh/class_en)
    is given, ``label_zh`` / ``label_en`` such as "初级协调—乡村滞后" / "primary coordination – rural
    lagging".

    Examples
    --------
    >>> import pandas as pd
    >>> U = pd.DataFrame({"urban": [0.6, 0.45, 0.3], "rural": [0.3, 0.4, 0.5]})
    >>> rd = relative_development(U, labels={"urban": ("urban", "城镇"), "rural": ("rural", "乡村")})
    >>> rd["value"].round(3).tolist(), rd["lagging"].tolist()
    ([0.3, 0.05, -0.2], ['rural', '', 'urban'])
    >>> rd["type_en"].tolist()
    ['rural lagging', 'synchronous', 'urban lagging']
    """
    check_choice("rule", rule, ("difference", "ratio"))
    lo, hi = ratio_bounds
    if not 0 < lo <= 1 <= hi:
        raise SpecificationError(f"ratio_bounds={ratio_bounds} must satisfy 0 < lower <= 1 <= upper.")
    if threshold < 0:
        raise SpecificationError(f"threshold={threshold} must be non-negative.")
    frame = _as_frame(U)
    cols = list(frame.columns)
    labels = dict(labels or {})
    en = {c: labels.get(c, (str(c), str(c)))[0] for c in cols}
    zh = {c: labels.get(c, (str(c), str(c)))[1] for c in cols}
    arr = frame.to_numpy()
    n = arr.shape[1]
    lag_sets: list[list[str] | None] = []
    if n == 2:
        a, b = arr[:, 0], arr[:, 1]
        if rule == "difference":
            value = a - b
            lag_a, lag_b = value < -threshold - tol, value > threshold + tol
            undefined = np.isnan(value)
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.where(b > 0, a / np.where(b > 0, b, 1), np.where(a > 0, np.inf, np.nan))
            undefined = np.isnan(value)
            if (b == 0).any():
                warnings.warn("ratio rule: some U_b = 0 (E infinite or undefined); the difference "
                              "rule handles zeros.", RuntimeWarning, stacklevel=2)
            lag_a, lag_b = value <= lo + tol, value >= hi - tol
        for i in range(len(arr)):
            if undefined[i]:
                lag_sets.append(None)
            elif lag_a[i]:
                lag_sets.append([cols[0]])
            elif lag_b[i]:
                lag_sets.append([cols[1]])
            else:
                lag_sets.append([])
    else:
        mn, mx = np.min(arr, axis=1), np.max(arr, axis=1)
        if rule == "difference":
            value = mx - mn
            lagging = value > threshold + tol
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                value = np.where(mx > 0, mn / np.where(mx > 0, mx, 1), np.nan)
            lagging = value <= lo + tol
        for i in range(len(arr)):
            if np.isnan(value[i]):
                lag_sets.append(None)
            elif lagging[i]:
                lag_sets.append([c for c, u in zip(cols, arr[i]) if u <= mn[i] + tol])
            else:
                lag_sets.append([])
    out = pd.DataFrame(index=frame.index)
    out["value"] = value
    out["lagging"] = [None if s is None else ",".join(map(str, s)) for s in lag_sets]
    out["type_zh"] = [None if s is None else ("同步发展" if not s else "、".join(zh[c] for c in s) + "滞后")
                      for s in lag_sets]
    out["type_en"] = [None if s is None else ("synchronous" if not s else
                                              " & ".join(en[c] for c in s) + " lagging")
                      for s in lag_sets]
    if d_classes is not None:
        dc = d_classes.reindex(frame.index)
        out["label_zh"] = [None if (t is None or pd.isna(c)) else f"{c}—{t}"
                           for c, t in zip(dc["class_zh"], out["type_zh"])]
        out["label_en"] = [None if (t is None or pd.isna(c)) else f"{c} – {t}"
                           for c, t in zip(dc["class_en"], out["type_en"])]
    return out


# ---- obstacle degree ----------------------------------------------------------------------------
@dataclass
class ObstacleResult:
    """Obstacle degrees (障碍度), shares in [0, 1] summing to one per row.

    ``indicator``: rows x indicators; ``subsystem``: rows x subsystems (sums of the indicators);
    ``top``: long table of the ``top_k`` obstacles per row (keys, rank, indicator, labels,
    subsystem, obstacle, ``tied`` = the value equals another indicator's in that row; ties are
    ranked by the indicator order of the system). Rows at the ideal on every indicator are NaN.
    """

    indicator: pd.DataFrame
    subsystem: pd.DataFrame | None
    top: pd.DataFrame
    settings: dict[str, Any]

    def frequency(self, rank: int | None = None) -> pd.Series:
        """How often each indicator is among the top-k obstacles (or at a given rank)."""
        t = self.top if rank is None else self.top[self.top["rank"] == rank]
        return t["indicator"].astype(str).value_counts()


def obstacle_degree(
    z: pd.DataFrame,
    weights,
    subsystems: Mapping[str, str] | None = None,
    subsystem_weights: Mapping[str, float] | None = None,
    top_k: int = 3,
    keys: pd.DataFrame | None = None,
    labels: Mapping[str, tuple[str, str]] | None = None,
    clip: bool = True,
) -> ObstacleResult:
    """Obstacle degree model (障碍度模型); R ``mathmodels::obstacle_degree``.

    F_j = w_j (factor contribution; with ``subsystem_weights`` F_j = w_j * W_k, ``weights`` then
    being within-subsystem weights), I_ij = 1 - z_ij (deviation), O_ij = F_j I_ij / sum_j F_j I_ij.
    Subsystem obstacle = sum of O_ij over its indicators.

    Parameters
    ----------
    z
        UNSHIFTED min-max normalized indicators (``IndexResult.unshifted_z()``) with the same
        scope as the weights.
    weights
        Series over z's columns, or a DataFrame aligned with z (per-row weights, e.g. per year).
    clip
        Clip I at 0 where z > 1 (shifted or out-of-bounds z; counted in ``settings``).

    Rows with z = 1 on every indicator (sum F I = 0) are NaN with a warning, never 0/0.

    Examples
    --------
    County a is at the ideal on ``gdp`` so its whole obstacle is ``pm25``; county b is halfway on
    both, so the equal weights split its obstacle evenly:

    >>> import pandas as pd
    >>> z = pd.DataFrame({"gdp": [1.0, 0.5], "pm25": [0.0, 0.5]}, index=["a", "b"])
    >>> res = obstacle_degree(z, pd.Series({"gdp": 0.5, "pm25": 0.5}), top_k=1)
    >>> res.indicator.round(3).to_dict("index")
    {'a': {'gdp': 0.0, 'pm25': 1.0}, 'b': {'gdp': 0.5, 'pm25': 0.5}}
    >>> res.top["indicator"].tolist()
    ['pm25', 'gdp']
    """
    if top_k < 1:
        raise SpecificationError(f"top_k={top_k} must be at least 1.")
    cols = list(z.columns)
    zz = z.to_numpy(dtype=float)
    if isinstance(weights, pd.DataFrame):
        F = weights.reindex(index=z.index, columns=cols).to_numpy(dtype=float)
    else:
        w = pd.Series(weights, dtype=float)
        missing = [c for c in cols if c not in w.index]
        if missing:
            raise SpecificationError(f"obstacle degree: no weight for {missing}.")
        F = np.broadcast_to(w.reindex(cols).to_numpy(), zz.shape)
    if (F < 0).any():
        raise SpecificationError("obstacle degree: weights must be non-negative.")
    if subsystem_weights is not None:
        if subsystems is None:
            raise SpecificationError("subsystem_weights needs subsystems= (column -> subsystem).")
        sw = pd.Series(subsystem_weights, dtype=float)
        F = F * np.array([sw[subsystems[c]] for c in cols])[None, :]
    I = 1.0 - zz
    n_clipped = int((I < 0).sum())
    if clip:
        I = np.clip(I, 0, None)
    num = F * I
    den = num.sum(axis=1)
    ideal = ~(den > 0) & ~np.isnan(den)
    with np.errstate(invalid="ignore", divide="ignore"):
        O = num / np.where(den > 0, den, np.nan)[:, None]
    if ideal.any():
        warnings.warn(f"obstacle degree: {int(ideal.sum())} row(s) are at the ideal on every weighted "
                      "indicator (no obstacle); their obstacle degrees are NaN.", RuntimeWarning,
                      stacklevel=2)
    ind = pd.DataFrame(O, index=z.index, columns=cols)
    sub = None
    if subsystems is not None:
        order = list(dict.fromkeys(subsystems[c] for c in cols))
        sub = ind.T.groupby(np.array([subsystems[c] for c in cols])).sum(min_count=1).T.reindex(
            columns=order)
    # top-k, ties broken by indicator order (stable sort on -O)
    k = min(top_k, len(cols))
    fill = np.where(np.isnan(O), -np.inf, O)
    order_idx = np.argsort(-fill, axis=1, kind="stable")[:, :k]
    vals = np.take_along_axis(O, order_idx, axis=1)
    nrow = len(O)
    rows = np.repeat(np.arange(nrow), k)
    flat_idx = order_idx.ravel()
    flat_val = vals.ravel()
    # tied: value occurs more than once in its row (NaN compares False: never tied)
    tied = np.zeros(nrow * k, dtype=bool)
    for r_ in range(k):
        v = vals[:, r_]
        cnt = (np.abs(O - v[:, None]) <= 1e-12).sum(axis=1)
        tied[r_::k] = cnt > 1
    labels = dict(labels or {})

    def cat(values: list) -> pd.Categorical:  # fast: codes into a small set of categories
        cats = list(dict.fromkeys(values))
        codes = np.array([cats.index(v) for v in values])[flat_idx]
        return pd.Categorical.from_codes(codes, categories=cats)

    top = pd.DataFrame({
        "row": np.asarray(z.index)[rows],
        "rank": np.tile(np.arange(1, k + 1), nrow),
        "indicator": pd.Categorical.from_codes(flat_idx, categories=cols),
        "obstacle": flat_val,
        "tied": tied,
    })
    top["label"] = cat([labels.get(c, (c, c))[0] for c in cols])
    top["label_zh"] = cat([labels.get(c, (c, c))[1] for c in cols])
    if subsystems is not None:
        top["subsystem"] = cat([subsystems[c] for c in cols])
    if keys is not None and len(keys.columns):
        kk = keys.reindex(z.index)
        for j, name in enumerate(keys.columns):
            top.insert(j, name, kk[name].to_numpy()[rows])
    top = top[~np.isnan(top["obstacle"].to_numpy(dtype=float))].reset_index(drop=True)
    settings = {"top_k": k, "clip": clip, "cells_clipped": n_clipped, "rows_at_ideal": int(ideal.sum()),
                "factor": "w_j * W_k" if subsystem_weights is not None else "w_j"}
    return ObstacleResult(ind, sub, top, settings)
