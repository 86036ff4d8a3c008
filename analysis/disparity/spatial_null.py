"""Moran spectral randomization (MSR): null draws that keep a variable's spatial autocorrelation.

Wagner, H.H. and Dray, S. (2015), Generating spatially constrained null models for irregularly
spaced data using Moran spectral randomization, Methods in Ecology and Evolution 6(10): 1169-1178;
R ``adespatial::msr(..., method="singleton")``.

The Moran eigenvector maps (MEM) are the eigenvectors U of the doubly centred, symmetrised weights
H (W + W')/2 H (H = I - 11'/n), an orthonormal basis of the vectors orthogonal to the constant. A
centred variable y - ybar = U a is redrawn as U (s * a) with independent random signs s: every
draw has exactly the variance, the power spectrum (a_k^2 on every MEM) and hence Moran's I of y,
but no link to any other variable. Used as the null of the geographical detector's q (Y redrawn,
strata fixed), it keeps the spatial autocorrelation that makes the one-way ANOVA F test over-reject
on county data.
"""
from __future__ import annotations

import hashlib

import numpy as np
from scipy import sparse

from ..errors import SpecificationError, WeightsMatrixError

__all__ = ["mem_basis", "msr_draws", "subset_weights"]

_MEM_CACHE: dict = {}


def subset_weights(sw, ids) -> sparse.csr_matrix:
    """The weights among ``ids`` (a subset of ``sw.ids``, any order), row-standardised again.

    Raises WeightsMatrixError naming ids absent from W, or units left without a neighbour.
    """
    ids = [str(i) for i in ids]
    pos = {u: i for i, u in enumerate(sw.ids)}
    unknown = [u for u in ids if u not in pos]
    if unknown:
        raise WeightsMatrixError(
            f"{len(unknown)} ids of the data are not in W ({unknown[:8]}{' ...' if len(unknown) > 8 else ''}); "
            "build W for the same counties (e.g. analysis.spatial.queen_weights()).")
    if len(set(ids)) != len(ids):
        raise WeightsMatrixError("the id column has duplicates; the spatial null needs one row per unit.")
    idx = np.array([pos[u] for u in ids])
    base = sw.base if sw.base is not None else sw.sparse
    A = sparse.csr_matrix(base, dtype=float)[idx][:, idx]
    rs = np.asarray(A.sum(axis=1)).ravel()
    if (rs == 0).any():
        lonely = [ids[i] for i in np.flatnonzero(rs == 0)][:8]
        raise WeightsMatrixError(
            f"{int((rs == 0).sum())} units have no neighbour among the rows used ({lonely}); the spatial null "
            "needs every unit linked. Attach islands when building W or drop them.")
    return sparse.diags(1.0 / rs) @ A


def mem_basis(W) -> tuple[np.ndarray, np.ndarray]:
    """Moran eigenvector maps of W: (eigenvalues, U) with U n x (n-1), orthonormal, U'1 = 0.

    Eigenvalues are those of H (W + W')/2 H, largest first (positive = positive autocorrelation).
    Cached by the sparsity pattern and values of W (one O(n^3) eigendecomposition per W).
    """
    W = sparse.csr_matrix(W, dtype=float)
    W.sum_duplicates()
    W.sort_indices()
    n = W.shape[0]
    if n < 3:
        raise SpecificationError("the spatial null needs at least 3 units.")
    # rounded values: the same W row-standardised by different code paths shares one decomposition
    key = hashlib.sha1(W.indptr.tobytes() + W.indices.tobytes() + np.round(W.data, 12).tobytes()).hexdigest()
    if key in _MEM_CACHE:
        return _MEM_CACHE[key]
    S = ((W + W.T) / 2).toarray()
    S -= S.mean(axis=0, keepdims=True)
    S -= S.mean(axis=1, keepdims=True)
    # the constant is an eigenvector of eigenvalue 0: lift it out of the spectrum before eigh so it
    # cannot mix with other zero-eigenvalue vectors
    lift = 2.0 * (np.abs(S).sum(axis=1).max() + 1.0)
    S += lift / n
    lam, U = np.linalg.eigh(S)
    top = int(np.argmax(lam))  # the constant
    keep = np.ones(n, dtype=bool)
    keep[top] = False
    lam, U = lam[keep][::-1], U[:, keep][:, ::-1]
    if len(_MEM_CACHE) > 4:
        _MEM_CACHE.pop(next(iter(_MEM_CACHE)))
    _MEM_CACHE[key] = (lam, U)
    return lam, U


def msr_draws(y, U, n_draws: int, rng) -> np.ndarray:
    """``n_draws`` MSR (singleton) replicates of y as columns (n x n_draws); see the module docstring."""
    y = np.asarray(y, dtype=float)
    a = U.T @ (y - y.mean())
    signs = rng.choice(np.array([-1.0, 1.0]), size=(len(a), int(n_draws)))
    return y.mean() + U @ (signs * a[:, None])
