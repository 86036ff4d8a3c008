"""Input checks shared by the spatial statistics and models (finite weights)."""
from __future__ import annotations

import numpy as np

from ..errors import WeightsMatrixError, describe_rows

__all__ = ["check_finite_weights"]


def check_finite_weights(w) -> None:
    """Raise :class:`WeightsMatrixError` if W (a :class:`SpatialWeights`) has a NaN or infinite entry.

    A NaN weight would otherwise propagate silently (the row sums ``<= 0`` island test is False for
    NaN), giving NaN or wrong statistics that look like numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from analysis.spatial import weights_from_matrix
    >>> from analysis.spatial._checks import check_finite_weights
    >>> w = weights_from_matrix(np.array([[0.0, 1.0], [1.0, 0.0]]), ["a", "b"])
    >>> check_finite_weights(w) is None
    True
    """
    mats = [w.sparse] + ([w.base] if getattr(w, "base", None) is not None else [])
    for m in mats:
        m = m.tocsr()
        bad = ~np.isfinite(m.data)
        if bad.any():
            rows = np.repeat(np.arange(m.shape[0]), np.diff(m.indptr))[bad]
            units = [w.ids[i] for i in np.unique(rows)]
            raise WeightsMatrixError(
                f"W has {int(bad.sum())} NaN or infinite weight(s) in the rows of {describe_rows(units)} "
                "(unit ids). Spatial weights must be finite numbers: fix the matrix (a missing distance or "
                "GDP value?) or set those entries to 0.")
