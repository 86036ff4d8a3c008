"""Candidate thresholds, trimming rules and the LR critical value (Hansen 1999, sections 3-4)."""
from __future__ import annotations

import math

import numpy as np

from ...errors import SpecificationError, check_choice

__all__ = ["lr_critical_value", "threshold_grid", "ci_grid", "regime_codes", "share_mask", "hansen_trim_mask"]


def lr_critical_value(alpha: float = 0.05) -> float:
    """Hansen's (1999) critical value c(alpha) = -2 ln(1 - sqrt(1 - alpha)) for the LR(gamma) set.

    7.3523 at alpha = 0.05 (the reference line of the xthreg LR plot), 5.9395 at 0.10, 10.5916 at 0.01.

    Examples
    --------
    >>> round(lr_critical_value(0.05), 4), round(lr_critical_value(0.10), 4)
    (7.3523, 5.9395)
    """
    if not 0 < alpha < 1:
        raise SpecificationError(f"alpha={alpha!r} must lie strictly between 0 and 1, e.g. 0.05.")
    return float(-2.0 * math.log(1.0 - math.sqrt(1.0 - alpha)))


def threshold_grid(q, trim: float = 0.05, grid: int = 300, method: str = "quantile") -> np.ndarray:
    """Candidate thresholds: sorted, unique, observed values of ``q``.

    ``method="quantile"``: ``grid`` quantiles of q at probabilities ``linspace(trim, 1-trim, grid)``,
    each snapped to an observed value (inverted-CDF quantile), duplicates removed; the reading of
    xthreg's ``grid(#)``/``trim()`` in Wang (2015). ``method="hansen"``: Hansen's GAUSS code /
    ``pdR::ptm``, ``grid`` is the number of quantiles ``qn`` (Hansen used 400), points
    ``dd[floor(sq * m)]`` of the m sorted unique values dd at sq = trim, trim + 1/qn, ..., 1 - trim.

    Examples
    --------
    >>> import numpy as np
    >>> threshold_grid(np.arange(1, 101), trim=0.1, grid=5).tolist()
    [10.0, 31.0, 50.0, 70.0, 90.0]
    """
    check_choice("grid_method", method, ("quantile", "hansen"))
    q = np.asarray(q, dtype=float)
    if not 0 <= trim < 0.5:
        raise SpecificationError(f"trim={trim!r} must be in [0, 0.5), e.g. 0.05 or 0.01 (xthreg default).")
    if int(grid) < 2:
        raise SpecificationError(f"grid={grid!r}: at least 2 grid points are needed (xthreg default 300).")
    if method == "quantile":
        probs = np.linspace(trim, 1 - trim, int(grid))
        values = np.quantile(q, probs, method="inverted_cdf")
    else:
        dd = np.unique(q)
        qn = int(grid)
        npts = int(round(qn * (1 - 2 * trim))) + 1
        sq = trim + np.arange(npts) / qn
        idx = np.floor(sq * len(dd)).astype(int) - 1  # R is 1-based
        idx = idx[(idx >= 0) & (idx < len(dd))]
        values = dd[idx]
    return np.unique(values)


def ci_grid(q, search_grid) -> np.ndarray:
    """Every distinct observed value of ``q`` between the first and last search-grid point.

    SSR(g) is a step function that only changes at observed values of q, so the LR confidence set
    evaluated on these points is exact (Hansen 1999, section 3.2); a coarse search grid can leave a
    single point below c(alpha) and collapse the interval.

    Examples
    --------
    >>> import numpy as np
    >>> q = np.arange(1, 101)
    >>> pts = ci_grid(q, threshold_grid(q, trim=0.1, grid=5))  # every observed q from 10 to 90
    >>> float(pts[0]), float(pts[-1]), len(pts)
    (10.0, 90.0, 81)
    """
    u = np.unique(np.asarray(q, dtype=float))
    lo, hi = float(np.min(search_grid)), float(np.max(search_grid))
    return u[(u >= lo) & (u <= hi)]


def regime_codes(q, thresholds, closed):
    """Regime index of every observation: #{g_j < q} (closed="right") or #{g_j <= q} ("left")."""
    th = np.sort(np.asarray(thresholds, dtype=float))
    side = "left" if closed == "right" else "right"
    return np.searchsorted(th, q, side=side) if th.size else np.zeros(len(q), dtype=int)


def share_mask(grid, qs_sorted, fixed, min_obs, closed):
    """Grid points that keep every regime (after adding g to ``fixed``) at >= min_obs observations."""
    if not len(fixed):
        return np.ones(len(grid), dtype=bool)
    side = "right" if closed == "right" else "left"
    cnt = lambda v: np.searchsorted(qs_sorted, v, side=side)  # noqa: E731  #{obs in regimes <= v}
    fx = np.sort(np.asarray(fixed, dtype=float))
    N = len(qs_sorted)
    bounds_lo = np.concatenate([[-np.inf], fx])
    pos = np.searchsorted(fx, grid, side="left")  # fixed thresholds below g
    lo = bounds_lo[pos]
    hi = np.concatenate([fx, [np.inf]])[pos]
    c_lo = np.where(np.isfinite(lo), cnt(lo), 0)
    c_hi = np.where(np.isfinite(hi), cnt(hi), N)
    c_g = cnt(grid)
    return ((c_g - c_lo) >= min_obs) & ((c_hi - c_g) >= min_obs) & ~np.isin(grid, fx)


def hansen_trim_mask(grid, fixed, qn, trim):
    """Hansen's (1999) GAUSS trimming of later stages, in grid-index units (as ``pdR::ptm``).

    With nn = #{grid points < r} for a fixed threshold r, the 1-based grid indices i with
    nn - qn*trim <= i < nn + qn*trim are excluded.
    """
    grid = np.asarray(grid, dtype=float)
    keep = np.ones(len(grid), dtype=bool)
    i = np.arange(1, len(grid) + 1)
    for r in np.atleast_1d(np.asarray(fixed, dtype=float)):
        nn = int(np.sum(grid < r))
        keep &= ~((i < nn + qn * trim) & (i >= nn - qn * trim))
    return keep
