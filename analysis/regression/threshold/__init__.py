"""Fixed-effect panel threshold regression (Hansen 1999), as Stata ``xthreg`` (Wang 2015) computes it.

Model (balanced panel, i = 1..n, t = 1..T, m thresholds g_1 < ... < g_m)::

    y_it = mu_i + x_it' b + sum_j r_it' b_j 1{q_it in regime j} + e_it,
    regime 0 = {q <= g_1}, regime j = {g_j < q <= g_{j+1}}, regime m = {q > g_m}.

Estimation follows Hansen (1999, J. Econometrics 93: 345-368) and Stata ``xthreg`` (Wang 2015,
Stata Journal 15(1): 121-134):

* within transformation over all T periods (``xtreg, fe``), threshold regressors formed before
  demeaning;
* the threshold minimises the SSR over a grid of observed values of q; every grid point is
  evaluated at once with cumulative sums over the observations sorted by q (a Frisch-Waugh-Lovell
  update), so the cost is
  O(nT k^2 + G k^3) instead of G regressions;
* F test of m-1 against m thresholds with the bootstrap p-value of Hansen (1999, section 3):
  regressors fixed, the null model's residuals resampled by county (whole length-T blocks), the whole
  sequential search redone on every draw; draws are evaluated in batches (a matrix of pseudo
  outcomes), never with a Python loop over grid points;
* LR(g) = (S(g) - S(g_hat)) / sigma2_hat with sigma2_hat = S(g_hat) / (n(T-1)); the confidence set is
  the hull of grid points with LR(g) < c(alpha) = -2 ln(1 - sqrt(1 - alpha));
* sequential double and triple thresholds with Hansen's refinement (xthreg rows Th-1, Th-21, Th-22,
  Th-3);
* regime coefficients from the within regression at the estimated thresholds, the regression that
  xthreg runs with ``xtreg depvar indepvars i._cat#c.(rx), fe``: ``vcov="iid"`` is xthreg's default
  (conventional ``xtreg, fe`` SEs, s^2 = SSR / (nT - n - K)); ``vcov="cluster"`` (our default, the
  project's county clustering) is ``xthreg ..., vce(robust)`` = ``xtreg, fe vce(cluster county)``
  with Stata's factor G/(G-1) (N-1)/(N-K-1). As in Hansen (1999) and xthreg, the SEs ignore the
  uncertainty of the estimated thresholds.

Two transforms (``transform=``), which give different numbers on the same data:

* ``"xthreg"`` (default): the within transformation over all periods and the regime convention
  q <= gamma of Stata ``xthreg``; cite Wang (2015) and Hansen (1999) and say "xthreg convention".
* ``"hansen"``: Hansen's own GAUSS code (ported as R ``pdR::ptm``), which reproduces the published
  tables of Hansen (1999): demean within unit over all periods, then drop each unit's last period
  (one row per unit), split at q < gamma, grid of ``qn`` quantiles of the unique values of q,
  later stages trimmed in grid-index units, sigma2 = S/(n(T-1)). Cite Hansen (1999).

The gamma confidence set is evaluated on every observed value of q in the search range
(``ci_grid="full"``), because SSR(gamma) only changes at observed values; a coarse search grid
otherwise leaves one point below c(alpha). Unbalanced panels are accepted for estimation and the
LR interval (the within transform takes each unit's own mean); the bootstrap F test needs a
balanced panel because it gives each unit another unit's whole residual vector.

Conventions that are not documented for xthreg (its Mata code is not public) are options:
``closed`` (q <= g, xthreg/Hansen paper, or q < g, Hansen's GAUSS code / R ``pdR::ptm``),
``grid_method`` ("quantile": ``grid`` quantiles of q between the ``trim`` and ``1-trim`` quantiles,
snapped to observed values; "hansen": Hansen's quantiles of the unique values), ``df`` (denominator
n(T-1) of Hansen 1999, or nT of ``pdR``). Later stages require every regime to hold at least
``trim`` of the observations (Hansen's trimming read as a minimum regime share).
"""
from __future__ import annotations

from ._estimate import REFERENCE, threshold
from ._grid import ci_grid, lr_critical_value, threshold_grid
from ._result import ThresholdResult, plot_lr
from ._search import _Model, _Searcher  # noqa: F401  (tests compare the search with a loop)

__all__ = ["threshold", "ThresholdResult", "lr_critical_value", "threshold_grid", "ci_grid", "plot_lr", "REFERENCE"]
