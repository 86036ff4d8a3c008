"""Theil T (GE(1)) and Theil L (GE(0)) with the between/within decomposition.

Theil, H. (1967) *Economics and Information Theory*; Shorrocks (1980) for the decomposition.
Matches PySAL ``inequality.theil.Theil`` / ``TheilD`` (unweighted T) and Stata ``ineqdeco``
(GE(0), GE(1)). The population-weighted form (regional GDP Y_i with population P_i), common in
Chinese papers, is T = Σ (Y_i/Y) ln[(Y_i/Y)/(P_i/P)].
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import MissingValueError, NegativeValueError, SpecificationError, check_choice, describe_rows
from ..results import RowReport, TidyResult

__all__ = ["TheilResult", "theil"]


REFERENCE = ("Theil (1967) Economics and Information Theory; between/within split as Shorrocks (1980), "
             "Econometrica 48(3); Stata ineqdeco")


@dataclass
class TheilResult(TidyResult):
    """Theil index and, when groups are given, its exact split T = between + within.

    ``groups`` lists per group: share of units (or population), share of the total, the group's own
    index and its contribution to the within term.
    """

    index: str
    total: float
    between: float
    within: float
    groups: pd.DataFrame

    def to_frame(self) -> pd.DataFrame:
        """Long form: quantity (total, between, within and their shares), value, index."""
        return pd.DataFrame(
            {"quantity": ["total", "between", "within", "between_share", "within_share"],
             "value": [self.total, self.between, self.within,
                       self.between / self.total if self.total else np.nan,
                       self.within / self.total if self.total else np.nan]}
        ).assign(index=self.index)


def _prov(n: int, index: str, population) -> dict:
    return {"model": f"Theil {index} index", "rows": RowReport(n, n), "reference": REFERENCE,
            "settings": {"index": index, "weights": "population" if population is not None else "equal"}}


def _t(shares_y: np.ndarray, shares_p: np.ndarray) -> float:
    """Σ s_y ln(s_y / s_p) with 0 ln 0 = 0."""
    pos = shares_y > 0
    return float(np.sum(shares_y[pos] * np.log(shares_y[pos] / shares_p[pos])))


def _l(shares_y: np.ndarray, shares_p: np.ndarray) -> float:
    """Σ s_p ln(s_p / s_y) (mean log deviation when s_p = 1/n)."""
    return float(np.sum(shares_p * np.log(shares_p / shares_y)))


def theil(values, groups=None, population=None, index: str = "T") -> TheilResult:
    """Theil T or L, optionally population-weighted, with between/within decomposition.

    Parameters
    ----------
    values
        Non-negative values (T) or positive values (L). With ``population`` these are group totals
        (e.g. GDP) and the index compares income shares with population shares.
    groups
        Optional group labels for the decomposition.
    population
        Optional weights (population); default: every unit weighs the same.
    index
        ``"T"`` (GE(1), Theil T) or ``"L"`` (GE(0), mean log deviation).

    Examples
    --------
    >>> r = theil([1.0, 2.0, 3.0, 6.0], ["a", "a", "b", "b"])
    >>> round(r.total, 4) == round(r.between + r.within, 4)
    True
    >>> r.to_frame()["quantity"].tolist()[:3]
    ['total', 'between', 'within']
    """
    check_choice("index", index, ("T", "L"))
    y = np.asarray(values, dtype=float)
    if np.isnan(y).any():
        raise MissingValueError(f"values missing at {describe_rows(np.flatnonzero(np.isnan(y)))}.")
    if (y < 0).any():
        raise NegativeValueError(f"the Theil index needs non-negative values; negative at "
                                 f"{describe_rows(np.flatnonzero(y < 0))}.")
    if index == "L" and (y == 0).any():
        raise NegativeValueError(f"Theil L (GE(0)) needs positive values; zero at "
                                 f"{describe_rows(np.flatnonzero(y == 0))}. Use index='T'.")
    p = np.ones_like(y) if population is None else np.asarray(population, dtype=float)
    if p.shape != y.shape or not np.isfinite(p).all() or (p <= 0).any():
        raise SpecificationError("population must have one positive weight per value.")
    sy = y / y.sum()  # with population, y are group totals (e.g. GDP)
    sp = p / p.sum()
    fn = _t if index == "T" else _l
    total = fn(sy, sp)
    if groups is None:
        return TheilResult(index, total, np.nan, np.nan, pd.DataFrame(), **_prov(len(y), index, population))
    g = np.asarray(groups)
    labels, codes = np.unique(g, return_inverse=True)
    gy = np.bincount(codes, weights=sy)
    gp = np.bincount(codes, weights=sp)
    between = fn(gy, gp)
    own = np.array([fn(sy[codes == j] / gy[j], sp[codes == j] / gp[j]) for j in range(len(labels))])
    weight = gy if index == "T" else gp
    within = float(np.sum(weight * own))
    table = pd.DataFrame({"unit_share": gp, "value_share": gy, "theil": own, "within_contribution": weight * own},
                         index=pd.Index(labels, name="group"))
    return TheilResult(index, total, between, within, table, **_prov(len(y), index, population))
