"""Within transformations: sweep out any number of fixed effects, once, and reuse.

Hot loops (placebo draws, bootstraps, threshold grids, specification curves) demean the outcome and
controls once with :class:`FixedEffects` and then only the columns that change. The method is the
alternating projections of Guimaraes and Portugal (2010) / Gaure (2013), as used by reghdfe and
pyfixest; for one factor it is exact in one sweep, for a balanced two-way panel it converges in one
sweep too.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .errors import MissingValueError

__all__ = ["FixedEffects", "demean"]


class FixedEffects:
    """Factorised fixed effects for repeated demeaning of many columns.

    Parameters
    ----------
    factors
        A DataFrame (or 2-D array) with one column per fixed effect, one row per observation.
        Missing levels are not allowed.
    weights
        Optional observation weights.
    """

    def __init__(self, factors, weights=None, tol: float = 1e-12, maxiter: int = 10_000):
        frame = pd.DataFrame(factors)
        if frame.isna().any().any():
            bad = frame.columns[frame.isna().any()].tolist()
            raise MissingValueError(f"fixed-effect columns {bad} have missing values; drop or fill those rows first.")
        self.n = len(frame)
        self.codes = [pd.factorize(frame[c], sort=True)[0] for c in frame.columns]
        self.names = list(frame.columns)
        self.n_levels = [int(c.max()) + 1 if len(c) else 0 for c in self.codes]
        self.weights = None if weights is None else np.asarray(weights, dtype=float)
        w = np.ones(self.n) if self.weights is None else self.weights
        self._counts = [np.bincount(c, weights=w, minlength=k) for c, k in zip(self.codes, self.n_levels)]
        self.tol = tol
        self.maxiter = maxiter
        self.balanced_two_way = (
            len(self.codes) == 2
            and self.weights is None
            and self.n == self.n_levels[0] * self.n_levels[1]
            and len(set(zip(self.codes[0], self.codes[1]))) == self.n
        )

    def _sweep(self, x: np.ndarray, which: int) -> np.ndarray:
        c, k, cnt = self.codes[which], self.n_levels[which], self._counts[which]
        xw = x if self.weights is None else x * self.weights[:, None]
        sums = np.column_stack([np.bincount(c, weights=xw[:, j], minlength=k) for j in range(x.shape[1])])
        return x - (sums / cnt[:, None])[c]

    def demean(self, x) -> np.ndarray:
        """Return ``x`` (n, or n x p) with every fixed effect swept out."""
        arr = np.asarray(x, dtype=float)
        one_d = arr.ndim == 1
        arr = arr.reshape(self.n, -1).copy()
        if not self.codes:
            return arr.ravel() if one_d else arr
        if len(self.codes) == 1 or self.balanced_two_way:  # exact in one sweep
            for j in range(len(self.codes)):
                arr = self._sweep(arr, j)
            return arr.ravel() if one_d else arr
        for _ in range(self.maxiter):
            before = arr
            for j in range(len(self.codes)):
                arr = self._sweep(arr, j)
            if np.max(np.abs(arr - before)) < self.tol * (1 + np.max(np.abs(arr))):
                break
        return arr.ravel() if one_d else arr


def demean(x, factors, weights=None) -> np.ndarray:
    """One-off convenience wrapper around :class:`FixedEffects`."""
    return FixedEffects(factors, weights=weights).demean(x)
