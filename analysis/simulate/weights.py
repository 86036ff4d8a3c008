"""The spatial weights of the SIMULATED data-generating process and the true SDM effects.

:func:`contiguity_matrix` builds the row-standardized queen W the generator uses (kept separate
from :mod:`analysis.spatial` so that the shipped data do not depend on the estimation code; a test
checks that both give the same W); :func:`lesage_pace_effects` turns the spatial Durbin parameters
into the true direct, indirect and total effects (LeSage and Pace 2009, ch. 2.7).

Examples
--------
>>> import numpy as np
>>> from analysis.simulate import lesage_pace_effects
>>> eff = lesage_pace_effects(0.0, {"x": 1.0}, {"x": 0.5}, np.array([1.0, -1.0]))
>>> eff["x"]["direct"], eff["x"]["total"]
(1.0, 1.5)
"""
from __future__ import annotations

import hashlib
from typing import Iterable

import numpy as np
import pandas as pd
import scipy.sparse as sp

from ..errors import ColumnError, WeightsMatrixError

__all__ = ["contiguity_matrix", "lesage_pace_effects"]


def contiguity_matrix(adcodes: Iterable[str], edges: pd.DataFrame) -> sp.csr_matrix:
    """Row-standardized queen contiguity W (scipy.sparse CSR) ordered as ``adcodes``: the W of the
    data-generating process. It equals :func:`analysis.spatial.queen_weights` (tested); the
    simulator keeps this small builder so that the shipped data do not depend on the estimation code.

    ``edges`` has columns ``adcode_a``, ``adcode_b`` (undirected; islands already attached to
    their nearest unit, see :func:`analysis.datasets.load_county_edges`). The binary matrix is
    symmetrized before row standardization.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.simulate import contiguity_matrix
    >>> W = contiguity_matrix(["a", "b", "c"], pd.DataFrame({"adcode_a": ["a", "b"], "adcode_b": ["b", "c"]}))
    >>> W.shape, W.toarray().tolist()
    ((3, 3), [[0.0, 1.0, 0.0], [0.5, 0.0, 0.5], [0.0, 1.0, 0.0]])
    """
    ids = pd.Index(list(adcodes))
    for col in ("adcode_a", "adcode_b"):
        if col not in edges.columns:
            raise ColumnError(f"edges lacks column {col!r}; pass load_county_edges().")
    ia = ids.get_indexer(edges["adcode_a"].astype(str))
    ib = ids.get_indexer(edges["adcode_b"].astype(str))
    bad = (ia < 0) | (ib < 0)
    if bad.any():
        raise WeightsMatrixError(
            f"{int(bad.sum())} edges name counties that are not in the frame, e.g. "
            f"{edges.loc[bad, ['adcode_a', 'adcode_b']].head(3).values.tolist()}; rebuild the "
            "edges and the county frame from the same boundary layer.")
    keep = ia != ib
    ia, ib = ia[keep], ib[keep]
    n = len(ids)
    a = sp.coo_matrix((np.ones(2 * len(ia)), (np.r_[ia, ib], np.r_[ib, ia])), shape=(n, n)).tocsr()
    a.data[:] = 1.0
    deg = np.asarray(a.sum(axis=1)).ravel()
    if (deg == 0).any():
        iso = ids[deg == 0]
        raise WeightsMatrixError(
            f"{len(iso)} counties have no neighbour ({', '.join(iso[:8])}); attach islands to "
            "their nearest county in the edge list.")
    return sp.diags(1.0 / deg) @ a


_EIG_CACHE: dict = {}


def _w_eigenvalues(w: sp.csr_matrix) -> np.ndarray:
    """Eigenvalues of a row-standardized symmetric-binary W (real; via D^-1/2 A D^-1/2).

    Cached per sparsity pattern within the process (the dense eigen-solve dominates the run time).
    """
    w = w.tocsr()
    key = (w.shape, hashlib.sha1(w.indptr.tobytes() + w.indices.tobytes()).hexdigest())
    if key not in _EIG_CACHE:
        _EIG_CACHE.clear()
        _EIG_CACHE[key] = _w_eigenvalues_uncached(w)
    return _EIG_CACHE[key].copy()


def _w_eigenvalues_uncached(w: sp.csr_matrix) -> np.ndarray:
    """Eigenvalues of ``D^-1/2 A D^-1/2`` (A the binary pattern of ``w``): a dense solve."""
    a = w.copy()
    a.data[:] = 1.0
    d = np.asarray(a.sum(axis=1)).ravel()
    s = sp.diags(d ** -0.5) @ a @ sp.diags(d ** -0.5)
    return np.linalg.eigvalsh(s.toarray())


def lesage_pace_effects(rho: float, beta: dict, theta: dict,
                        eigenvalues: np.ndarray) -> dict:
    """LeSage-Pace (2009) direct, indirect and total effects of an SDM with row-standardized W.

    S_k = (I - rho W)^-1 (beta_k I + theta_k W); direct = tr(S_k)/N, total = mean row sum
    = (beta_k + theta_k)/(1 - rho), indirect = total - direct. Computed from the eigenvalues
    ``eigenvalues`` of W (closed form; exact for W similar to a symmetric matrix).

    Examples
    --------
    Two neighbours (W = [[0, 1], [1, 0]], eigenvalues 1 and -1), rho = 0.5, beta = 1, theta = 0:
    (I - 0.5 W)^-1 = [[4/3, 2/3], [2/3, 4/3]], so direct = 4/3 and total = 2.

    >>> import numpy as np
    >>> from analysis.simulate import lesage_pace_effects
    >>> eff = lesage_pace_effects(0.5, {"x": 1.0}, {"x": 0.0}, np.array([1.0, -1.0]))
    >>> {k: round(v, 4) for k, v in eff["x"].items()}
    {'direct': 1.3333, 'indirect': 0.6667, 'total': 2.0}
    """
    om = np.asarray(eigenvalues, dtype=float)
    m1 = np.mean(1.0 / (1.0 - rho * om))
    m2 = np.mean(om / (1.0 - rho * om))
    out = {}
    for k in beta:
        direct = beta[k] * m1 + theta[k] * m2
        total = (beta[k] + theta[k]) / (1.0 - rho)
        out[k] = {"direct": float(direct), "indirect": float(total - direct),
                  "total": float(total)}
    return out


