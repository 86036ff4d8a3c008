"""Objective and combined indicator weights: entropy, CRITIC, coefficient of variation, equal, fixed.

All functions take a complete (no missing cells) matrix of normalized indicators ``z`` (CV: raw
values) with one row per county-year and return weights as a Series indexed by column that is
non-negative and sums to one. Reference implementation: the R package ``mathmodels``
(zhjx19/mathmodels) ``R/eval_weights.R``.

* entropy (熵权法): p = z / sum z, e = -k sum p ln p with k = 1/ln N over the N rows used
  (N = n*T for a pooled panel), 0 ln 0 = 0, d = 1 - e, w = d / sum d.
* CRITIC (Diakoulaki, Mavrotas & Papayannakis 1995): C_j = sigma_j * sum_k (1 - r_jk).
* coefficient of variation (变异系数法): v_j = s_j / mean_j on raw, positive data.
* combinations (组合赋权): linear, multiplicative, game theory (博弈论).

Constant columns get weight 0 with a warning; missing cells or an all-missing column raise
:class:`~analysis.errors.MissingValueError`.
"""
from __future__ import annotations

import warnings
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import (
    ConstantColumnError,
    MissingValueError,
    NegativeValueError,
    SpecificationError,
    check_choice,
    describe_rows,
)
from .normalize import ConstantColumnWarning

__all__ = [
    "entropy", "entropy_weights", "critic", "critic_weights", "cv", "cv_weights",
    "equal_weights", "fixed_weights", "combine_weights", "WEIGHT_METHODS", "COMBINATIONS",
    "check_weights",
]

WEIGHT_METHODS = ("entropy", "critic", "cv", "equal", "fixed")
COMBINATIONS = ("linear", "multiplicative", "game")


def _matrix(z: pd.DataFrame, what: str, min_rows: int = 2) -> np.ndarray:
    if not isinstance(z, pd.DataFrame):
        z = pd.DataFrame(np.asarray(z, dtype=float))
    arr = z.to_numpy(dtype=float)
    allna = [c for c, v in zip(z.columns, np.isnan(arr).all(axis=0)) if v]
    if allna:
        raise MissingValueError(f"{what}: column(s) {allna} are entirely missing; drop them from the "
                                "indicator system or fill them.")
    if np.isnan(arr).any():
        bad_cols = [c for c, v in zip(z.columns, np.isnan(arr).any(axis=0)) if v]
        bad_rows = z.index[np.isnan(arr).any(axis=1)]
        raise MissingValueError(
            f"{what} needs complete columns: missing cells in {', '.join(map(str, bad_cols))} at "
            f"{describe_rows(bad_rows)}. Interpolate first (analysis.panel.interpolate, or "
            "build_index(..., missing='interpolate')) or drop those rows (missing='drop')."
        )
    if arr.shape[0] < min_rows:
        raise SpecificationError(f"{what} needs at least {min_rows} rows (got {arr.shape[0]}).")
    return arr


def _warn_constant(cols: list, what: str) -> None:
    if cols:
        warnings.warn(f"{what}: column(s) {', '.join(map(str, cols))} are constant and get weight 0.",
                      ConstantColumnWarning, stacklevel=3)


def entropy(z: pd.DataFrame) -> pd.DataFrame:
    """Entropy method details: one row per column with ``e``, ``d`` and ``weight``.

    ``z`` must be non-negative (min-max normalized, optionally shifted). k = 1/ln N uses the number
    of rows N actually summed over (pooled panel: n*T), 0 ln 0 := 0. A constant column (all-zero or
    not) gets e = 1 and weight 0 with a warning.

    References: Shannon (1948) entropy weights; R ``mathmodels::entropy_weight``.

    Examples
    --------
    >>> import pandas as pd
    >>> z = pd.DataFrame({"a": [0.0, 0.5, 1.0, 0.2], "b": [0.9, 1.0, 0.8, 1.0]})
    >>> out = entropy(z)
    >>> out.columns.tolist()
    ['e', 'd', 'weight']
    >>> out["weight"].round(3).to_dict()  # the dispersed column "a" carries almost all weight
    {'a': 0.991, 'b': 0.009}
    """
    z = z if isinstance(z, pd.DataFrame) else pd.DataFrame(np.asarray(z, dtype=float))
    arr = _matrix(z, "entropy weights")
    if (arr < 0).any():
        bad = [c for c, v in zip(z.columns, (arr < 0).any(axis=0)) if v]
        raise NegativeValueError(f"entropy weights need z >= 0; column(s) {bad} have negative values. "
                                 "Normalize with min-max first (analysis.indicators.normalize).")
    n = arr.shape[0]
    colsum = arr.sum(axis=0)
    const = np.ptp(arr, axis=0) == 0
    with np.errstate(invalid="ignore"):  # an all-zero column: 0/0 (z >= 0 is checked, so never x/0)
        p = arr / colsum
        plogp = np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0)
    e = -plogp.sum(axis=0) / np.log(n)
    e = np.where(const, 1.0, e)
    d = 1.0 - e
    d = np.where(np.abs(d) < 1e-15, 0.0, d)
    _warn_constant([c for c, k in zip(z.columns, const) if k], "entropy weights")
    if d.sum() <= 0:
        raise ConstantColumnError("entropy weights: every column is constant; no weight can be formed.")
    return pd.DataFrame({"e": e, "d": d, "weight": d / d.sum()}, index=z.columns)


def entropy_weights(z: pd.DataFrame) -> pd.Series:
    """Entropy weights (see :func:`entropy`).

    Examples
    --------
    >>> import pandas as pd
    >>> z = pd.DataFrame({"a": [0.0, 0.5, 1.0, 0.2], "b": [0.9, 1.0, 0.8, 1.0]})
    >>> w = entropy_weights(z)
    >>> float(round(w.sum(), 12)), bool(w["a"] > w["b"])
    (1.0, True)
    """
    return entropy(z)["weight"]


def critic(z: pd.DataFrame) -> pd.DataFrame:
    """CRITIC details: ``sigma``, ``conflict`` = sum_k (1 - r_jk), ``information``, ``weight``.

    Standard deviations use ddof=1 (the choice cancels in the weights). Constant columns are left
    out of the correlations and get weight 0 with a warning. Diakoulaki, Mavrotas & Papayannakis
    (1995), Computers & Operations Research 22(7):763-770; ``mathmodels::critic_weight``.

    Examples
    --------
    >>> import pandas as pd
    >>> z = pd.DataFrame({"a": [0.0, 0.5, 1.0, 0.2], "b": [0.0, 0.4, 1.0, 0.3],
    ...                   "c": [1.0, 0.0, 0.5, 0.8]})
    >>> out = critic(z)
    >>> out.columns.tolist()
    ['sigma', 'conflict', 'information', 'weight']
    >>> out["weight"].round(3).to_dict()  # "c" conflicts with a and b, so it weighs most
    {'a': 0.264, 'b': 0.234, 'c': 0.501}
    """
    z = z if isinstance(z, pd.DataFrame) else pd.DataFrame(np.asarray(z, dtype=float))
    arr = _matrix(z, "CRITIC weights", min_rows=3)
    sd = arr.std(axis=0, ddof=1)
    const = sd == 0
    _warn_constant([c for c, k in zip(z.columns, const) if k], "CRITIC weights")
    keep = ~const
    if keep.sum() == 0:
        raise ConstantColumnError("CRITIC weights: every column is constant.")
    conflict = np.zeros(arr.shape[1])
    if keep.sum() > 1:
        r = np.corrcoef(arr[:, keep], rowvar=False)
        conflict[keep] = (1.0 - r).sum(axis=1)
    info = sd * conflict
    if info.sum() <= 0:
        raise ConstantColumnError("CRITIC weights: no column carries information (one varying column?).")
    return pd.DataFrame({"sigma": sd, "conflict": conflict, "information": info,
                         "weight": info / info.sum()}, index=z.columns)


def critic_weights(z: pd.DataFrame) -> pd.Series:
    """CRITIC weights (see :func:`critic`).

    Examples
    --------
    >>> import pandas as pd
    >>> z = pd.DataFrame({"a": [0.0, 0.5, 1.0, 0.2], "b": [0.0, 0.4, 1.0, 0.3],
    ...                   "c": [1.0, 0.0, 0.5, 0.8]})
    >>> w = critic_weights(z)
    >>> float(round(w.sum(), 12)), w.idxmax()
    (1.0, 'c')
    """
    return critic(z)["weight"]


def cv(x: pd.DataFrame) -> pd.DataFrame:
    """Coefficient-of-variation details on RAW positive data: ``mean``, ``sd``, ``cv``, ``weight``.

    Meaningful only for ratio-scale indicators with a true zero; columns with negative values or a
    non-positive mean raise :class:`~analysis.errors.NegativeValueError`. Direction is ignored
    (the method weights dispersion). ``mathmodels::cv_weight``.

    Examples
    --------
    >>> import pandas as pd
    >>> x = pd.DataFrame({"gdp": [10.0, 20.0, 30.0], "roads": [5.0, 5.5, 6.0]})
    >>> out = cv(x)
    >>> out["cv"].round(3).to_dict()  # sd / mean: 10/20 and 0.5/5.5
    {'gdp': 0.5, 'roads': 0.091}
    """
    x = x if isinstance(x, pd.DataFrame) else pd.DataFrame(np.asarray(x, dtype=float))
    arr = _matrix(x, "CV weights")
    mean = arr.mean(axis=0)
    bad = [c for c, m, neg in zip(x.columns, mean, (arr < 0).any(axis=0)) if m <= 0 or neg]
    if bad:
        raise NegativeValueError(
            f"coefficient-of-variation weights need positive raw values; column(s) {bad} have "
            "negative values or a non-positive mean. Use entropy or CRITIC weights on normalized data."
        )
    sd = arr.std(axis=0, ddof=1)
    v = sd / mean
    _warn_constant([c for c, s in zip(x.columns, sd) if s == 0], "CV weights")
    return pd.DataFrame({"mean": mean, "sd": sd, "cv": v, "weight": v / v.sum()}, index=x.columns)


def cv_weights(x: pd.DataFrame) -> pd.Series:
    """Coefficient-of-variation weights (see :func:`cv`).

    Examples
    --------
    >>> import pandas as pd
    >>> x = pd.DataFrame({"gdp": [10.0, 20.0, 30.0], "roads": [5.0, 5.5, 6.0]})
    >>> cv_weights(x).round(3).to_dict()
    {'gdp': 0.846, 'roads': 0.154}
    """
    return cv(x)["weight"]


def equal_weights(columns: Sequence[str]) -> pd.Series:
    """1/m for each of the m columns.

    Examples
    --------
    >>> equal_weights(["a", "b", "c", "d"]).to_dict()
    {'a': 0.25, 'b': 0.25, 'c': 0.25, 'd': 0.25}
    """
    columns = list(columns)
    return pd.Series(1.0 / len(columns), index=columns)


def check_weights(w, columns: Sequence[str] | None = None, what: str = "weights",
                  tol: float = 1e-6) -> pd.Series:
    """Validate a weight vector: finite, non-negative, sums to one, covers ``columns``.

    Returns the weights as a float Series in the order of ``columns``; raises
    :class:`~analysis.errors.SpecificationError` otherwise.

    Examples
    --------
    >>> check_weights({"b": 0.4, "a": 0.6}, columns=["a", "b"]).to_dict()
    {'a': 0.6, 'b': 0.4}
    >>> check_weights({"a": 0.6, "b": 0.6})
    Traceback (most recent call last):
    ...
    analysis.errors.SpecificationError: weights sum to 1.2, not 1. Divide them by their sum.
    """
    w = pd.Series(w, dtype=float) if not isinstance(w, pd.Series) else w.astype(float)
    if columns is not None:
        columns = list(columns)
        missing = [c for c in columns if c not in w.index]
        extra = [c for c in w.index if c not in columns]
        if missing or extra:
            raise SpecificationError(f"{what}: missing weights for {missing}; unknown entries {extra}.")
        w = w.reindex(columns)
    if not np.isfinite(w.to_numpy()).all():
        raise SpecificationError(f"{what} contain missing or infinite values: {w.to_dict()}.")
    if (w < 0).any():
        raise SpecificationError(f"{what} must be non-negative: {w[w < 0].to_dict()}.")
    if abs(w.sum() - 1.0) > tol:
        raise SpecificationError(f"{what} sum to {w.sum():.8g}, not 1. Divide them by their sum.")
    return w


def fixed_weights(system, columns: Sequence[str] | None = None) -> pd.Series:
    """Fixed weights from an indicator system's YAML (``weight:`` on every indicator).

    Examples
    --------
    >>> from analysis.indicators import system_from_dict
    >>> gdp = {"column": "gdp", "label": "GDP", "label_zh": "GDP", "direction": "+", "weight": 0.7}
    >>> debt = {"column": "debt", "label": "Debt", "label_zh": "债务", "direction": "-", "weight": 0.3}
    >>> spec = {"subsystems": [{"key": "urban", "label": "Urban", "label_zh": "城镇",
    ...                         "indicators": [gdp, debt]}]}
    >>> fixed_weights(system_from_dict(spec, name="toy")).to_dict()
    {'gdp': 0.7, 'debt': 0.3}
    """
    w = system.fixed_weights
    if w is None:
        raise SpecificationError(
            f"weights='fixed' but indicator system {system.name!r} gives no 'weight' for its "
            "indicators. Add weight: to every indicator in the YAML (summing to 1) or use entropy."
        )
    return check_weights(w, columns or system.columns, "fixed weights")


def combine_weights(weights: Mapping[str, pd.Series] | Sequence[pd.Series], method: str = "game",
                    alpha: float | Sequence[float] | None = None,
                    negative: str = "abs") -> pd.Series:
    """Combine several weight vectors (组合赋权): linear, multiplicative or game theory (博弈论).

    Parameters
    ----------
    weights
        Two or more weight Series over the same columns (dict name -> Series, or a list).
    method
        ``"linear"``: sum_k alpha_k w_k (default alpha equal); ``"multiplicative"``: prod_k w_k
        renormalized; ``"game"``: game-theory combination, solve (W'W) alpha = diag(W'W), then
        alpha* = |alpha| / sum |alpha| and w = W alpha*.
    alpha
        Linear coefficients (sum to one). Ignored otherwise.
    negative
        Game theory only: ``"abs"`` (take |alpha|, the common choice) or ``"clip"`` (set negative
        alpha to 0) before normalizing.

    Returns
    -------
    Series; its ``attrs["alpha"]`` holds the coefficients used (game: raw and normalized).

    Examples
    --------
    >>> import pandas as pd
    >>> w1 = pd.Series({"a": 0.5, "b": 0.3, "c": 0.2})
    >>> w2 = pd.Series({"a": 0.2, "b": 0.3, "c": 0.5})
    >>> combine_weights([w1, w2], method="linear").round(3).to_dict()  # plain average
    {'a': 0.35, 'b': 0.3, 'c': 0.35}
    >>> game = combine_weights({"entropy": w1, "critic": w2})
    >>> float(round(game.sum(), 12)), [round(a, 3) for a in game.attrs["alpha"]]
    (1.0, [0.5, 0.5])
    """
    check_choice("combine", method, COMBINATIONS)
    check_choice("negative", negative, ("abs", "clip"))
    items = list(weights.values()) if isinstance(weights, Mapping) else list(weights)
    if len(items) < 2:
        raise SpecificationError("combine_weights needs at least two weight vectors.")
    cols = list(items[0].index)
    W = np.column_stack([check_weights(w, cols, "weights to combine").to_numpy() for w in items])
    if method == "linear":
        if alpha is None:
            a = np.full(W.shape[1], 1.0 / W.shape[1])
        else:
            a = np.atleast_1d(np.asarray(alpha, dtype=float))
            if a.size == 1 and W.shape[1] == 2:
                a = np.array([a[0], 1 - a[0]])
            if a.size != W.shape[1] or (a < 0).any() or abs(a.sum() - 1) > 1e-9:
                raise SpecificationError(f"alpha={alpha!r}: need {W.shape[1]} non-negative "
                                         "coefficients summing to one.")
        out = pd.Series(W @ a, index=cols)
        out.attrs["alpha"] = a.tolist()
        return out
    if method == "multiplicative":
        prod = W.prod(axis=1)
        if prod.sum() <= 0:
            raise SpecificationError("multiplicative combination: the products of the weights are all 0.")
        return pd.Series(prod / prod.sum(), index=cols)
    S = W.T @ W
    try:
        raw = np.linalg.solve(S, np.diag(S))
    except np.linalg.LinAlgError:
        raise SpecificationError("game-theory combination: the weight vectors are linearly "
                                 "dependent (identical?); nothing to combine.") from None
    a = np.abs(raw) if negative == "abs" else np.clip(raw, 0, None)
    if a.sum() <= 0:
        raise SpecificationError("game-theory combination: all coefficients are <= 0 after clipping.")
    a = a / a.sum()
    out = pd.Series(W @ a, index=cols)
    out.attrs["alpha_raw"] = raw.tolist()
    out.attrs["alpha"] = a.tolist()
    return out
