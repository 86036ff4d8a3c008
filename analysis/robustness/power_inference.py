"""Closed-form inference for the balanced two-way FE DiD of :func:`design_power`, one draw at a time.

The simulated panel is a counties x years matrix, the treatment D binary and absorbing; with county
and year effects the TWFE coefficient is b = sum(D~ y~) / sum(D~^2), D~, y~ two-way demeaned. Three
tests of H0: b = 0, each vectorised over its bootstrap or permutation draws:

* ``cluster_t``: CRV1 t by county with reghdfe's factor, t(G-1) critical value (as ``fe``).
* ``wild_bootstrap``: wild cluster restricted bootstrap (WCR-11; Roodman, MacKinnon, Nielsen and
  Webb 2019, Stata ``boottest``; :func:`analysis.regression.wild_bootstrap`), Webb six-point weights
  by default (MacKinnon and Webb 2018, for few treated clusters). Under H0 the restricted residuals
  are y~; for county weights v the bootstrap numerator is s'v with s_i = sum_t D~_it y~_it, and the
  bootstrap scores are v_i s_i - (D~ m)_i - b* sum_t D~_it^2 with m = y~'v / N (the year means of
  y~ * v; county means of y~ * v are zero). Cost O(N T B), nothing refitted.
  p = mean(|t*| > |t|) (boottest's symmetric p).
* ``randomization``: randomization inference (Fisher; Stata ``ritest``;
  :func:`analysis.did.placebo_test`, scheme "units"): the adoption years are permuted across
  counties; sum(D*~^2) is the same for every permutation (it depends only on the multiset of
  adoption years), and sum(D*~ y~) = sum_j C[i_j, a_j] with C the reverse cumulative sums of y~
  over years. p = (1 + #{|b*| >= |b|}) / (B + 1), exact under exchangeability.
"""
from __future__ import annotations

import numpy as np
from scipy import stats

__all__ = ["INFERENCE_METHODS", "demean2", "cluster_t_reject", "wild_p", "randomization_p", "permutation_sets"]

INFERENCE_METHODS = ("cluster_t", "wild_bootstrap", "randomization")


def demean2(a: np.ndarray) -> np.ndarray:
    """Two-way demeaning of a balanced units x periods matrix.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.robustness.power_inference import demean2
    >>> a = np.add.outer([0.0, 1.0, 2.0], [0.0, 10.0])  # unit + period effects only
    >>> bool(np.allclose(demean2(a), 0.0))
    True
    """
    return a - a.mean(axis=1, keepdims=True) - a.mean(axis=0, keepdims=True) + a.mean()


def _t(Dt, yt, sxx):
    b = float((Dt * yt).sum()) / sxx
    score = (Dt * (yt - b * Dt)).sum(axis=1)
    return b, b * sxx / np.sqrt(np.sum(score**2))  # t up to the factor sqrt(q), which cancels in p


def cluster_t_reject(Dt, yt, alpha):
    """CRV1 t with reghdfe's factor (county FE nested in the county clusters) against t(G-1).

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.robustness.power_inference import demean2, cluster_t_reject
    >>> rng = np.random.default_rng(0)
    >>> years, adopt = np.arange(2010, 2016), np.where(np.arange(20) < 5, 2013, 0)  # 5 of 20 units adopt
    >>> D = ((adopt[:, None] > 0) & (years[None, :] >= adopt[:, None])).astype(float)
    >>> y_effect = demean2(1.0 * D + rng.normal(scale=0.5, size=D.shape))  # true effect 1
    >>> y_null = demean2(rng.normal(scale=0.5, size=D.shape))  # no effect
    >>> bool(cluster_t_reject(demean2(D), y_effect, 0.05)), bool(cluster_t_reject(demean2(D), y_null, 0.05))
    (True, False)
    """
    N, T = Dt.shape
    sxx = float((Dt * Dt).sum())
    _, t = _t(Dt, yt, sxx)
    q = N / (N - 1) * (N * T - 1) / (N * T - T)
    return abs(t / np.sqrt(q)) > stats.t.ppf(1 - alpha / 2, N - 1)


def wild_p(Dt, yt, V):
    """WCR bootstrap p-value of H0: b = 0 with cluster weights V (N x B); also returns t*.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.robustness.power_inference import demean2, wild_p
    >>> rng = np.random.default_rng(0)
    >>> years, adopt = np.arange(2010, 2016), np.where(np.arange(20) < 5, 2013, 0)  # 5 of 20 units adopt
    >>> D = ((adopt[:, None] > 0) & (years[None, :] >= adopt[:, None])).astype(float)
    >>> y_effect = demean2(1.0 * D + rng.normal(scale=0.5, size=D.shape))  # true effect 1
    >>> y_null = demean2(rng.normal(scale=0.5, size=D.shape))  # no effect
    >>> from analysis.regression.wild_bootstrap import draw_weights
    >>> V = draw_weights(20, 199, "webb", rng)  # 20 clusters x 199 draws
    >>> p, t_star = wild_p(demean2(D), y_effect, V)
    >>> p < 0.05, t_star.shape, wild_p(demean2(D), y_null, V)[0] > 0.05
    (True, (199,), True)
    """
    N = Dt.shape[0]
    sxx_i = (Dt * Dt).sum(axis=1)
    sxx = float(sxx_i.sum())
    _, t = _t(Dt, yt, sxx)
    s = (Dt * yt).sum(axis=1)
    # einsum, not BLAS: these thin products (T ~ 10) are slower threaded on a busy machine
    b_star = np.einsum("n,nb->b", s, V) / sxx
    m = np.einsum("nt,nb->tb", yt, V) / N  # T x B
    score = s[:, None] * V - np.einsum("nt,tb->nb", Dt, m) - sxx_i[:, None] * b_star[None, :]
    t_star = b_star * sxx / np.sqrt(np.sum(score**2, axis=0))
    return float(np.mean(np.abs(t_star) > abs(t))), t_star


def permutation_sets(n_units, n_treated, n_perm, rng):
    """``n_perm`` uniformly random ordered draws of ``n_treated`` distinct units (n_perm x n_treated).

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.robustness.power_inference import permutation_sets
    >>> idx = permutation_sets(10, 3, 5, np.random.default_rng(0))
    >>> idx.shape, all(len(set(row)) == 3 for row in idx.tolist())
    ((5, 3), True)
    """
    return np.argsort(rng.random((int(n_perm), int(n_units))), axis=1)[:, : int(n_treated)]


def randomization_p(D, yt, adopt, years, n_perm, rng, idx=None):
    """Randomization-inference p-value of the TWFE coefficient, adoption years permuted across units.

    ``idx`` (n_perm x n_treated, from :func:`permutation_sets`) fixes the permutations, e.g. to share
    them across effect sizes; otherwise they are drawn from ``rng``.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.robustness.power_inference import demean2, randomization_p
    >>> rng = np.random.default_rng(0)
    >>> years, adopt = np.arange(2010, 2016), np.where(np.arange(20) < 5, 2013, 0)  # 5 of 20 units adopt
    >>> D = ((adopt[:, None] > 0) & (years[None, :] >= adopt[:, None])).astype(float)
    >>> y_effect = demean2(1.0 * D + rng.normal(scale=0.5, size=D.shape))  # true effect 1
    >>> y_null = demean2(rng.normal(scale=0.5, size=D.shape))  # no effect
    >>> p, b_star = randomization_p(D, y_effect, adopt, years, 199, rng)
    >>> p < 0.05, b_star.shape, randomization_p(D, y_null, adopt, years, 199, rng)[0] > 0.05
    (True, (199,), True)
    """
    Dt = demean2(D)
    sxx = float((Dt * Dt).sum())
    b = float((Dt * yt).sum()) / sxx
    treated = np.flatnonzero(adopt > 0)
    a_pos = np.searchsorted(years, adopt[treated])  # first treated period of each adoption year
    C = np.cumsum(yt[:, ::-1], axis=1)[:, ::-1]  # C[i, k] = sum_{t >= k} y~_it
    if idx is None:
        idx = permutation_sets(len(adopt), len(treated), n_perm, rng)  # random treated sets, random order
    n_perm = idx.shape[0]
    b_star = C[idx, a_pos[None, :]].sum(axis=1) / sxx
    return float((1 + np.sum(np.abs(b_star) >= abs(b) - 1e-14)) / (n_perm + 1)), b_star

