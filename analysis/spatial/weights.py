"""Spatial weights for county panels: queen contiguity, k nearest neighbours, inverse distance,
economic distance.

Every builder returns a :class:`SpatialWeights`: a row-standardised :class:`libpysal.weights.W`
plus the county id order it uses (6-digit adcode strings), the islands that were attached to their
nearest neighbour (reported, never silent), and cached eigenvalues for the log-determinant and the
LeSage-Pace effects.

Distances are great-circle distances on a sphere of radius 6,371.0088 km (the IUGG mean Earth
radius) between county centroids (``lon``, ``lat`` in degrees).

References
----------
Anselin, L. (1988), *Spatial Econometrics: Methods and Models*, ch. 3 (weights).
Elhorst, J.P. (2014), *Spatial Econometrics: From Cross-Sectional Data to Spatial Panels*, §2.4.
Li, Q., and Song, J. (2009) and the Chinese regional literature for the economic-distance matrix
W_e = W_d ∘ 1/|ȳ_i − ȳ_j| (see :func:`economic_weights`).
Stata: ``spwmatrix`` (Jeanty) / ``spmat``; R: ``spdep::poly2nb``, ``knearneigh``, ``dnearneigh``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.spatial import cKDTree

from .._compat import renamed_kwargs
from ..errors import (
    ColumnError,
    MissingValueError,
    SpecificationError,
    WeightsMatrixError,
    check_choice,
    describe_rows,
)

__all__ = [
    "EARTH_RADIUS_KM",
    "SpatialWeights",
    "great_circle_km",
    "queen_weights",
    "knn_weights",
    "distance_weights",
    "economic_weights",
    "weights_from_edges",
    "weights_from_matrix",
    "as_spatial_weights",
]

EARTH_RADIUS_KM = 6371.0088
_SPECTRAL_CACHE: dict = {}


# ---------------------------------------------------------------------------------------------
# distances
# ---------------------------------------------------------------------------------------------

def great_circle_km(lon1, lat1, lon2, lat2) -> np.ndarray:
    """Haversine great-circle distance in km between points given in degrees (broadcasts).

    Examples
    --------
    One degree of longitude on the equator is 2 pi R / 360 with R = 6,371.0088 km:

    >>> from analysis.spatial import great_circle_km
    >>> round(float(great_circle_km(0, 0, 1, 0)), 3)
    111.195
    >>> great_circle_km([116.40, 121.47], [39.90, 31.23], 116.40, 39.90).round(1).tolist()  # Beijing, Shanghai
    [0.0, 1067.1]
    """
    lon1, lat1, lon2, lat2 = (np.radians(np.asarray(v, dtype=float)) for v in (lon1, lat1, lon2, lat2))
    a = np.sin((lat2 - lat1) / 2) ** 2 + np.cos(lat1) * np.cos(lat2) * np.sin((lon2 - lon1) / 2) ** 2
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.sqrt(np.clip(a, 0.0, 1.0)))


def _unit_xyz(lon, lat) -> np.ndarray:
    lon, lat = np.radians(np.asarray(lon, float)), np.radians(np.asarray(lat, float))
    return np.column_stack([np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat)])


def _chord_to_km(chord) -> np.ndarray:
    return 2 * EARTH_RADIUS_KM * np.arcsin(np.clip(np.asarray(chord) / 2, 0.0, 1.0))


def _km_to_chord(km: float) -> float:
    return float(2 * np.sin(min(km / (2 * EARTH_RADIUS_KM), np.pi / 2)))


# ---------------------------------------------------------------------------------------------
# the weights object
# ---------------------------------------------------------------------------------------------

@dataclass
class SpatialWeights:
    """A row-standardised spatial weights matrix with its id order and provenance.

    Attributes
    ----------
    w
        :class:`libpysal.weights.W`, ``transform="r"``; ``w.id_order == ids``.
    ids
        County ids (str) in matrix order. Panels are stacked time-major with units in this order.
    kind
        ``"queen"``, ``"knn"``, ``"inverse_distance"``, ``"economic"`` or ``"custom"``.
    islands
        DataFrame (``island``, ``attached_to``, ``distance_km``) of units that had no neighbour and
        were linked to their nearest neighbour (symmetrically). Empty if none.
    base
        The unstandardised (original) weights as a CSR matrix in ``ids`` order.
    params
        The options used (k, cutoff, power ...), for result provenance.
    """

    w: object
    ids: list
    kind: str = "custom"
    islands: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["island", "attached_to", "distance_km"]))
    base: sparse.csr_matrix | None = None
    params: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ids = [str(i) for i in self.ids]
        if list(map(str, self.w.id_order)) != self.ids:
            raise WeightsMatrixError("internal: W id_order differs from ids; build with as_spatial_weights().")
        self._sym = None
        self._sparse = None

    # basic views ---------------------------------------------------------------------------
    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def sparse(self) -> sparse.csr_matrix:
        """Row-standardised W as CSR, rows and columns in :attr:`ids` order."""
        if self._sparse is None:
            self._sparse = sparse.csr_matrix(self.w.sparse, dtype=float)
        return self._sparse

    def full(self) -> np.ndarray:
        """Dense row-standardised W (N x N)."""
        return self.sparse.toarray()

    @property
    def n_islands_attached(self) -> int:
        return int(len(self.islands))

    @property
    def n_components(self) -> int:
        """Number of connected components of the neighbour graph (islands attached to each other,
        e.g. an archipelago, form a component of their own; W stays valid, with eigenvalue 1
        repeated once per component).
        """
        from scipy.sparse.csgraph import connected_components

        return int(connected_components(self.sparse, directed=True, connection="weak")[0])

    @property
    def cardinalities(self) -> pd.Series:
        return pd.Series(np.diff(self.sparse.indptr), index=self.ids, name="n_neighbours")

    def summary(self) -> dict:
        card = self.cardinalities
        return {
            "kind": self.kind,
            "n": self.n,
            "n_links": int(self.sparse.nnz),
            "mean_neighbours": float(card.mean()),
            "min_neighbours": int(card.min()),
            "max_neighbours": int(card.max()),
            "islands_attached": self.n_islands_attached,
            "connected_components": self.n_components,
            "symmetric_similar": self.is_symmetric_similar,
            **{k: v for k, v in self.params.items() if np.isscalar(v)},
        }

    def __repr__(self) -> str:  # pragma: no cover - display
        s = self.summary()
        return (f"SpatialWeights({s['kind']}, n={s['n']}, mean neighbours={s['mean_neighbours']:.2f}, "
                f"islands attached={s['islands_attached']})")

    def lag(self, values) -> np.ndarray:
        """Spatial lag W @ values (values in :attr:`ids` order; 1-D or N x p)."""
        return self.sparse @ np.asarray(values, dtype=float)

    # spectrum ------------------------------------------------------------------------------
    @property
    def is_symmetric_similar(self) -> bool:
        """True if W = D^-1 A with A symmetric (then W is similar to D^-1/2 A D^-1/2)."""
        if self._sym is None:
            base = self.base if self.base is not None else (self.sparse > 0).astype(float)
            base = sparse.csr_matrix(base)
            sym = abs(base - base.T).max() <= 1e-12 * max(1.0, abs(base).max()) if base.nnz else True
            if sym:
                rs = np.asarray(base.sum(axis=1)).ravel()
                if np.any(rs <= 0):
                    sym = False
                else:
                    rebuilt = sparse.diags(1.0 / rs) @ base
                    sym = abs(rebuilt - self.sparse).max() <= 1e-10
            self._sym = bool(sym)
        return self._sym

    def symmetric_form(self) -> tuple[np.ndarray, np.ndarray]:
        """(S, d) with S = D^-1/2 A D^-1/2 dense and d the row sums of A; needs symmetric-similar W."""
        if not self.is_symmetric_similar:
            raise WeightsMatrixError("W is not similar to a symmetric matrix (e.g. k-nearest neighbours).")
        base = sparse.csr_matrix(self.base if self.base is not None else (self.sparse > 0).astype(float))
        d = np.asarray(base.sum(axis=1)).ravel()
        s = 1.0 / np.sqrt(d)
        S = (sparse.diags(s) @ base @ sparse.diags(s)).toarray()
        return 0.5 * (S + S.T), d

    def _key(self) -> tuple:
        m = self.sparse
        return (m.shape[0], m.nnz, hash(m.indptr.tobytes()), hash(m.indices.tobytes()),
                hash(np.round(m.data, 14).tobytes()))

    def _spectral(self) -> dict:
        """Cached spectral pieces, once per distinct W (shared by every SpatialWeights holding the
        same matrix). Symmetric-similar W: eigenvalues of S = D^-1/2 A D^-1/2 from the symmetric
        eigensolver (``scipy.linalg.eigh(eigvals_only=True)``, LAPACK ``syevd``). Otherwise complex
        eigenvalues of W (``numpy.linalg.eigvals``).
        """
        key = self._key()
        hit = _SPECTRAL_CACHE.get(key)
        if hit is None:
            if self.is_symmetric_similar:
                from scipy.linalg import eigh

                S, d = self.symmetric_form()
                hit = {"eig": eigh(S, eigvals_only=True, driver="evd", check_finite=False), "d": d}
            else:
                ev = np.linalg.eigvals(self.full())
                if np.max(np.abs(ev.imag)) < 1e-10:
                    ev = np.sort(ev.real)
                hit = {"eig": ev}
            hit["gtg"] = {}
            if len(_SPECTRAL_CACHE) >= 6:
                _SPECTRAL_CACHE.pop(next(iter(_SPECTRAL_CACHE)))
            _SPECTRAL_CACHE[key] = hit
        return hit

    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of W: real (symmetric eigensolver on D^-1/2 A D^-1/2) when W = D^-1 A with A
        symmetric, else complex (``eigvals`` of W). Computed once per distinct W and cached.
        """
        return self._spectral()["eig"]

    def trace_gtg(self, rho: float) -> float:
        """tr(G'G) = ||G||_F^2 with G = W (I - rho W)^-1 (memoised per rho).

        Symmetric-similar W: G = D^-1/2 H D^1/2 with H = (I - rho S)^-1 S = ((I - rho S)^-1 - I)/rho,
        one Cholesky inverse of the positive definite I - rho S (rho inside the eigenvalue bounds).
        Otherwise one LU solve.
        """
        sp = self._spectral()
        memo = sp["gtg"]
        key = float(rho)
        if key not in memo:
            from scipy.linalg import solve

            if self.is_symmetric_similar:
                S, d = self.symmetric_form()
                if abs(rho) > 1e-4:
                    # H = ((I - rho S)^-1 - I)/rho from a Cholesky inverse (potrf + potri, ~N^3 flops)
                    from scipy.linalg.lapack import dpotrf, dpotri

                    c, info = dpotrf(np.eye(self.n) - rho * S, lower=False, clean=False)
                    inv, info2 = dpotri(c, lower=False)
                    if info or info2:
                        raise WeightsMatrixError(f"I - rho W is not invertible at rho={rho}.")
                    inv = np.triu(inv) + np.triu(inv, 1).T
                    H = (inv - np.eye(self.n)) / rho
                else:
                    H = solve(np.eye(self.n) - rho * S, S, assume_a="pos", check_finite=False)
                s = np.sqrt(d)
                G = H * (1.0 / s)[:, None] * s[None, :]
            else:
                Wd = self.full()
                G = solve(np.eye(self.n) - rho * Wd, Wd, check_finite=False)
            memo[key] = float(np.sum(G * G))
        return memo[key]

    def rho_bounds(self) -> tuple[float, float]:
        """(1/omega_min, 1/omega_max) from the real eigenvalues (for row-standardised W, upper = 1)."""
        ev = self.eigenvalues()
        re = np.real(ev)
        lo = 1.0 / re.min() if re.min() < 0 else -np.inf
        hi = 1.0 / re.max()
        return float(lo), float(hi)

    # alignment -----------------------------------------------------------------------------
    def subset(self, ids: Sequence, islands: str = "raise") -> "SpatialWeights":
        """W restricted to ``ids`` (in that order), re-row-standardised.

        Restricting county contiguity to a county-yearbook scope (no 市辖区) leaves some units without
        a neighbour in the subset (a county ringed by districts, an island county). ``islands`` says
        what to do with them: ``"raise"`` (:class:`WeightsMatrixError` naming them), ``"attach"``
        (link each to its nearest unit of the subset by great-circle distance between the frame's
        centroids, symmetrically; listed in ``.islands``) or ``"drop"`` (leave them out of the subset;
        listed in ``.params["dropped_islands"]``; the panel must drop them too).

        >>> from analysis.spatial import queen_weights
        >>> from analysis.datasets import load_counties
        >>> fr = load_counties(); scope = fr.loc[fr["county_yearbook_scope"] == 1, "adcode"]
        >>> w = queen_weights().subset(scope, islands="attach")
        >>> w.n == len(scope), len(w.islands) > 0
        (True, True)
        """
        check_choice("islands", islands, ("raise", "attach", "drop"))
        ids = [str(i) for i in ids]
        pos = {u: i for i, u in enumerate(self.ids)}
        missing = [u for u in ids if u not in pos]
        if missing:
            raise WeightsMatrixError(f"ids not in W: {describe_rows(missing)}.")
        idx = np.array([pos[u] for u in ids])
        full = sparse.csr_matrix(self.base if self.base is not None else self.sparse)
        # the original unit-to-unit links only: earlier island attachments are redone for the subset
        if len(self.islands):
            full = full.tolil()
            for r in self.islands.itertuples():
                i, j = pos.get(str(r.island)), pos.get(str(r.attached_to))
                if i is not None and j is not None:
                    full[i, j] = 0
                    full[j, i] = 0
            full = sparse.csr_matrix(full)
            full.eliminate_zeros()
        base = full[idx][:, idx]
        rs = np.asarray(base.sum(axis=1)).ravel()
        lone = [ids[i] for i in np.where(rs <= 0)[0]]
        params = {**self.params, "subset_of": self.n, "islands": islands}
        if lone and islands == "raise":
            raise WeightsMatrixError(
                f"{len(lone)} units have no neighbour within the subset ({', '.join(lone[:10])}). Pass "
                "islands='attach' (link each to its nearest unit, reported) or islands='drop' (leave them out).")
        if lone and islands == "drop":
            keep = [u for u in ids if u not in set(lone)]
            out = self.subset(keep, islands="raise") if keep else None
            if out is None:
                raise WeightsMatrixError("no unit of the subset has a neighbour in it.")
            out.params["dropped_islands"] = lone
            out.params["islands"] = "drop"
            return out
        lon = lat = None
        if lone:
            from ..datasets import load_counties

            fr = load_counties().set_index("adcode")
            if not set(ids) <= set(fr.index):
                raise WeightsMatrixError("islands='attach' needs coordinates: the ids are not all frame counties.")
            lon, lat = fr.loc[ids, "lon"].astype(float).values, fr.loc[ids, "lat"].astype(float).values
        return weights_from_matrix(base, ids, kind=self.kind, lon=lon, lat=lat, attach_islands=bool(lone),
                                   params=params)

    def check_ids(self, ids: Iterable, what: str = "the panel") -> None:
        """Raise :class:`WeightsMatrixError` unless ``ids`` are exactly the ids of W (any order)."""
        ids = [str(i) for i in ids]
        have = set(self.ids)
        want = set(ids)
        not_in_w = sorted(want - have)
        not_in_panel = sorted(have - want)
        if not_in_w or not_in_panel:
            parts = []
            if not_in_w:
                parts.append(f"{len(not_in_w)} units of {what} are not in W ({describe_rows(not_in_w)})")
            if not_in_panel:
                parts.append(f"{len(not_in_panel)} units of W are not in {what} ({describe_rows(not_in_panel)})")
            raise WeightsMatrixError(
                "W ids do not match " + what + ": " + "; ".join(parts) + ". Fix: build W on the "
                "panel's units (e.g. `w.subset(panel_ids)`, which re-standardises rows) or drop the "
                "extra units from the panel.")


# ---------------------------------------------------------------------------------------------
# builders
# ---------------------------------------------------------------------------------------------

def _csr_to_w(mat: sparse.csr_matrix, ids: list):
    from libpysal.weights import W

    mat = sparse.csr_matrix(mat)
    neighbors, weights = {}, {}
    for i, u in enumerate(ids):
        lo, hi = mat.indptr[i], mat.indptr[i + 1]
        cols = mat.indices[lo:hi]
        neighbors[u] = [ids[j] for j in cols]
        weights[u] = [float(v) for v in mat.data[lo:hi]]
    w = W(neighbors, weights, id_order=list(ids), silence_warnings=True)
    w.transform = "r"
    return w


def _attach_islands(base: sparse.csr_matrix, ids: list, lon, lat) -> tuple[sparse.csr_matrix, pd.DataFrame]:
    """Link every unit without neighbours to its nearest unit (great-circle), symmetrically,
    with weight equal to the mean nonzero weight (1 for binary).
    """
    base = sparse.lil_matrix(base)
    rs = np.asarray(sparse.csr_matrix(base).sum(axis=1)).ravel()
    isl = np.where(rs <= 0)[0]
    rows = []
    if len(isl):
        if lon is None or lat is None:
            raise WeightsMatrixError(
                f"W has {len(isl)} islands ({describe_rows([ids[i] for i in isl])}) and no "
                "coordinates to attach them; pass lon/lat or attach_islands=False.")
        xyz = _unit_xyz(lon, lat)
        tree = cKDTree(xyz)
        nz = sparse.csr_matrix(base).data
        wval = float(nz.mean()) if nz.size else 1.0
        for i in isl:
            dist, j = tree.query(xyz[i], k=2)
            j = int(j[1]) if int(j[0]) == i else int(j[0])
            base[i, j] = wval
            if base[j, i] == 0:
                base[j, i] = wval
            rows.append({"island": ids[i], "attached_to": ids[j],
                         "distance_km": float(great_circle_km(lon[i], lat[i], lon[j], lat[j]))})
    return sparse.csr_matrix(base), pd.DataFrame(rows, columns=["island", "attached_to", "distance_km"])


def weights_from_matrix(matrix, ids: Sequence, kind: str = "custom", lon=None, lat=None,
                        attach_islands: bool = False, params: dict | None = None) -> SpatialWeights:
    """Wrap an N x N (dense or sparse) weights matrix whose rows and columns follow ``ids``.

    The diagonal must be zero. Rows are standardised to sum to one. Units without neighbours
    raise :class:`WeightsMatrixError` unless ``attach_islands=True`` (needs ``lon``/``lat``).

    Examples
    --------
    Rook contiguity of a 4 x 4 lattice: a corner has 2 neighbours (weight 1/2 each), an inner
    cell 4 (weight 1/4 each); every row sums to one.

    >>> import numpy as np
    >>> from analysis.spatial import weights_from_matrix
    >>> r, c = np.divmod(np.arange(16), 4)
    >>> A = (np.abs(r[:, None] - r) + np.abs(c[:, None] - c) == 1).astype(float)
    >>> w = weights_from_matrix(A, [f"c{i:02d}" for i in range(16)])
    >>> w.n, w.cardinalities.tolist()[:6]
    (16, [2, 3, 3, 2, 3, 4])
    >>> w.full()[0].round(2).tolist()[:5], bool(np.allclose(w.full().sum(axis=1), 1.0))
    ([0.0, 0.5, 0.0, 0.0, 0.5], True)
    """
    ids = [str(i) for i in ids]
    shape = getattr(matrix, "shape", None)
    if shape is None or len(shape) != 2 or shape[0] != shape[1]:
        raise WeightsMatrixError(f"W must be square (N x N); got shape {shape}.")
    if shape[0] != len(ids):
        raise WeightsMatrixError(f"W is {shape[0]} x {shape[1]} but {len(ids)} ids were given.")
    if len(set(ids)) != len(ids):
        dup = pd.Index(ids)[pd.Index(ids).duplicated()].unique().tolist()
        raise WeightsMatrixError(f"duplicated ids in W: {describe_rows(dup)}.")
    mat = sparse.csr_matrix(matrix, dtype=float)
    mat.eliminate_zeros()
    if mat.nnz and np.any(mat.data < 0):
        raise WeightsMatrixError("W has negative weights; spatial weights must be non-negative.")
    if np.any(mat.diagonal() != 0):
        bad = [ids[i] for i in np.where(mat.diagonal() != 0)[0]]
        raise WeightsMatrixError(f"W has nonzero diagonal entries (units {describe_rows(bad)}); set w_ii = 0.")
    islands = pd.DataFrame(columns=["island", "attached_to", "distance_km"])
    if attach_islands:
        mat, islands = _attach_islands(mat, ids, None if lon is None else np.asarray(lon, float),
                                       None if lat is None else np.asarray(lat, float))
    rs = np.asarray(mat.sum(axis=1)).ravel()
    if np.any(rs <= 0):
        bad = [ids[i] for i in np.where(rs <= 0)[0]]
        raise WeightsMatrixError(
            f"W has {len(bad)} islands (units without neighbours: {describe_rows(bad)}). Spatial "
            "panel models need every unit to have a neighbour: attach them (attach_islands=True, "
            "which links each to its nearest unit and reports it) or drop them.")
    w = _csr_to_w(mat, ids)
    return SpatialWeights(w=w, ids=ids, kind=kind, islands=islands, base=mat, params=dict(params or {}))


def as_spatial_weights(w, ids: Sequence | None = None) -> SpatialWeights:
    """Accept a :class:`SpatialWeights`, a libpysal ``W`` or (matrix, ids) and return SpatialWeights.

    Examples
    --------
    libpysal's rook lattice and the same lattice built from a matrix give the same W:

    >>> import numpy as np
    >>> from libpysal.weights import lat2W
    >>> from analysis.spatial import as_spatial_weights
    >>> r, c = np.divmod(np.arange(16), 4)
    >>> A = (np.abs(r[:, None] - r) + np.abs(c[:, None] - c) == 1).astype(float)
    >>> w = as_spatial_weights((A, [str(i) for i in range(16)]))
    >>> w_pysal = as_spatial_weights(lat2W(4, 4))
    >>> w_pysal.ids == w.ids, bool(np.allclose(w_pysal.full(), w.full()))
    (True, True)
    >>> as_spatial_weights(w) is w
    True
    """
    if isinstance(w, SpatialWeights):
        return w
    try:
        from libpysal.weights import W as _W
    except ImportError:  # pragma: no cover
        _W = ()
    if isinstance(w, _W):
        order = [str(i) for i in (w.id_order if ids is None else ids)]
        orig = w.transform
        w.transform = "o"
        base = sparse.csr_matrix(w.sparse, dtype=float)
        w.transform = orig
        pysal_order = [str(i) for i in w.id_order]
        if order != pysal_order:
            pos = {u: i for i, u in enumerate(pysal_order)}
            idx = np.array([pos[u] for u in order])
            base = base[idx][:, idx]
        return weights_from_matrix(base, order, kind="custom")
    if isinstance(w, tuple) and len(w) == 2:
        return weights_from_matrix(w[0], w[1])
    if ids is not None:
        return weights_from_matrix(w, ids)
    raise WeightsMatrixError(
        "W must be a SpatialWeights, a libpysal W, or a (matrix, ids) pair; a bare matrix needs ids "
        "to be aligned with the panel.")


def _frame(counties: pd.DataFrame | None, id_col: str) -> pd.DataFrame:
    if counties is None:
        from ..datasets import load_counties

        counties = load_counties()
    need = [id_col, "lon", "lat"]
    miss = [c for c in need if c not in counties.columns]
    if miss:
        raise ColumnError(f"the county frame lacks columns {miss}; it needs {need}.")
    frame = counties[need].copy()
    frame[id_col] = frame[id_col].astype(str)
    if frame[id_col].duplicated().any():
        dup = frame.loc[frame[id_col].duplicated(), id_col].tolist()
        raise WeightsMatrixError(f"duplicated ids in the county frame: {describe_rows(dup)}.")
    bad = frame[["lon", "lat"]].isna().any(axis=1)
    if bad.any():
        raise MissingValueError(f"missing lon/lat for {describe_rows(frame.loc[bad, id_col])}; fill the centroids.")
    return frame.reset_index(drop=True)


@renamed_kwargs(id_col="entity")
def weights_from_edges(edges: pd.DataFrame, counties: pd.DataFrame | None = None, *, entity: str = "adcode",
                       a: str = "adcode_a", b: str = "adcode_b", attach_islands: bool = True,
                       kind: str = "queen") -> SpatialWeights:
    """Binary symmetric contiguity from an edge list; units of ``counties`` without an edge are
    attached to their nearest unit and reported in ``.islands``. Edges flagged
    ``attached_island == 1`` in the file are reported too (they are links the data builder added).

    Examples
    --------
    Three counties in a chain (a-b-c) and one (d) with no edge, 770 km east of c:

    >>> import pandas as pd
    >>> from analysis.spatial import weights_from_edges
    >>> counties = pd.DataFrame({"adcode": ["a", "b", "c", "d"], "lon": [100.0, 101.0, 102.0, 110.0],
    ...                          "lat": [30.0] * 4})
    >>> edges = pd.DataFrame({"adcode_a": ["a", "b"], "adcode_b": ["b", "c"]})
    >>> w = weights_from_edges(edges, counties)
    >>> w.full().round(2).tolist()
    [[0.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.5, 0.0], [0.0, 0.5, 0.0, 0.5], [0.0, 0.0, 1.0, 0.0]]
    >>> w.islands[["island", "attached_to"]].values.tolist(), round(float(w.islands["distance_km"].iloc[0]))
    ([['d', 'c']], 770)
    """
    frame = _frame(counties, entity)
    ids = frame[entity].tolist()
    pos = {u: i for i, u in enumerate(ids)}
    ea, eb = edges[a].astype(str).to_numpy(), edges[b].astype(str).to_numpy()
    unknown = sorted({u for u in np.concatenate([ea, eb]) if u not in pos})
    if unknown:
        raise WeightsMatrixError(
            f"{len(unknown)} edge endpoints are not in the county frame ({describe_rows(unknown)}).")
    i = np.array([pos[u] for u in ea], dtype=int)
    j = np.array([pos[u] for u in eb], dtype=int)
    keep = i != j
    i, j = i[keep], j[keep]
    n = len(ids)
    mat = sparse.coo_matrix((np.ones(2 * len(i)), (np.r_[i, j], np.r_[j, i])), shape=(n, n)).tocsr()
    mat.data[:] = 1.0  # duplicates collapse to binary
    sw = weights_from_matrix(mat, ids, kind=kind, lon=frame["lon"].to_numpy(), lat=frame["lat"].to_numpy(),
                             attach_islands=attach_islands, params={"source": "edge list"})
    if "attached_island" in edges.columns:
        flagged = edges.loc[edges["attached_island"].astype(float) == 1, [a, b]].astype(str)
        if len(flagged):
            lon = frame.set_index(entity)["lon"]
            lat = frame.set_index(entity)["lat"]
            pre = pd.DataFrame({
                "island": flagged[a].to_numpy(), "attached_to": flagged[b].to_numpy(),
                "distance_km": great_circle_km(lon[flagged[a]].to_numpy(), lat[flagged[a]].to_numpy(),
                                               lon[flagged[b]].to_numpy(), lat[flagged[b]].to_numpy()),
            })
            pre["source"] = "edge file (attached_island=1)"
            isl = sw.islands.assign(source="attached here")
            sw.islands = pd.concat([pre, isl], ignore_index=True) if len(isl) else pre
    return sw


@renamed_kwargs(id_col="entity")
def queen_weights(counties: pd.DataFrame | None = None, edges: pd.DataFrame | None = None, *,
                  entity: str = "adcode", attach_islands: bool = True) -> SpatialWeights:
    """Row-standardised queen contiguity of the real counties from the shipped edge list
    (``analysis.datasets.load_county_edges()``), islands attached to their nearest county.

    This is the W of the simulated panel's spatial Durbin truth (``docs/simulation.md``).
    Matches R ``spdep::poly2nb(queen=TRUE)`` + ``nb2listw(style="W")`` on the same polygons.

    Examples
    --------
    Called without arguments it reads the shipped frame and edges (2,851 counties, about a second);
    here a frame of four counties and their edges, the last one without a neighbour:

    >>> import pandas as pd
    >>> from analysis.spatial import queen_weights
    >>> counties = pd.DataFrame({"adcode": ["a", "b", "c", "d"], "lon": [100.0, 101.0, 102.0, 110.0],
    ...                          "lat": [30.0] * 4})
    >>> edges = pd.DataFrame({"adcode_a": ["a", "b"], "adcode_b": ["b", "c"]})
    >>> w = queen_weights(counties, edges)
    >>> w.kind, w.cardinalities.tolist(), w.n_islands_attached
    ('queen', [1, 2, 2, 1], 1)
    >>> w.islands[["island", "attached_to"]].values.tolist()
    [['d', 'c']]
    """
    if edges is None:
        from ..datasets import load_county_edges

        edges = load_county_edges()
    return weights_from_edges(edges, counties, entity=entity, attach_islands=attach_islands, kind="queen")


@renamed_kwargs(id_col="entity")
def knn_weights(counties: pd.DataFrame | None = None, k: int = 5, *, entity: str = "adcode") -> SpatialWeights:
    """K nearest neighbours by great-circle distance between centroids, row-standardised.

    Not symmetric, so the log-determinant uses complex eigenvalues. R: ``knearneigh(longlat=TRUE)``.

    Examples
    --------
    Four county centroids on a parallel (a, b, c one degree apart, d eight degrees east of c);
    the two nearest neighbours of d are c and b, but d is no neighbour of a:

    >>> import pandas as pd
    >>> from analysis.spatial import knn_weights
    >>> counties = pd.DataFrame({"adcode": ["a", "b", "c", "d"], "lon": [100.0, 101.0, 102.0, 110.0],
    ...                          "lat": [30.0] * 4})
    >>> w = knn_weights(counties, k=2)
    >>> w.full().round(2).tolist()
    [[0.0, 0.5, 0.5, 0.0], [0.5, 0.0, 0.5, 0.0], [0.5, 0.5, 0.0, 0.0], [0.0, 0.5, 0.5, 0.0]]
    >>> w.is_symmetric_similar
    False
    """
    if int(k) < 1:
        raise SpecificationError(f"k={k} must be a positive integer.")
    frame = _frame(counties, entity)
    n = len(frame)
    if k >= n:
        raise SpecificationError(f"k={k} must be smaller than the number of units ({n}).")
    xyz = _unit_xyz(frame["lon"], frame["lat"])
    _, idx = cKDTree(xyz).query(xyz, k=k + 1)
    rows, cols = [], []
    for i in range(n):
        nb = [j for j in idx[i] if j != i][:k]
        rows.extend([i] * len(nb))
        cols.extend(nb)
    mat = sparse.csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(n, n))
    return weights_from_matrix(mat, frame[entity].tolist(), kind="knn", params={"k": int(k)})


def _distance_base(frame: pd.DataFrame, cutoff_km: float, power: float) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    xyz = _unit_xyz(frame["lon"], frame["lat"])
    tree = cKDTree(xyz)
    dmat = tree.sparse_distance_matrix(tree, _km_to_chord(cutoff_km), output_type="coo_matrix")
    keep = dmat.row != dmat.col
    r, c = dmat.row[keep], dmat.col[keep]
    km = _chord_to_km(dmat.data[keep])
    km = np.maximum(km, 1e-6)  # coincident centroids
    n = len(frame)
    dist = sparse.csr_matrix((km, (r, c)), shape=(n, n))
    inv = sparse.csr_matrix((km ** (-float(power)), (r, c)), shape=(n, n))
    return inv, dist


@renamed_kwargs(id_col="entity")
def distance_weights(counties: pd.DataFrame | None = None, cutoff_km: float = 150.0, power: float = 1.0, *,
                     entity: str = "adcode", attach_islands: bool = True) -> SpatialWeights:
    """Inverse great-circle distance weights w_ij = d_ij^(-power) for d_ij <= cutoff_km, else 0;
    units with nobody within the cutoff are attached to their nearest unit (weight d^-power) and
    reported; rows standardised. R: ``dnearneigh(longlat=TRUE)`` + ``nb2listwdist(type="idw")``.
    With ``attach_islands=False`` such units raise :class:`~analysis.errors.WeightsMatrixError`.

    Examples
    --------
    Centroids one degree of longitude apart at 30°N (96.4 km); d lies 770 km from c, beyond the
    150 km cutoff, so it is attached to c and reported. Row c weighs b and d as 1/96.4 : 1/770:

    >>> import pandas as pd
    >>> from analysis.spatial import distance_weights
    >>> counties = pd.DataFrame({"adcode": ["a", "b", "c", "d"], "lon": [100.0, 101.0, 102.0, 110.0],
    ...                          "lat": [30.0] * 4})
    >>> w = distance_weights(counties, cutoff_km=150)
    >>> w.full().round(3).tolist()
    [[0.0, 1.0, 0.0, 0.0], [0.5, 0.0, 0.5, 0.0], [0.0, 0.889, 0.0, 0.111], [0.0, 0.0, 1.0, 0.0]]
    >>> w.islands[["island", "attached_to"]].values.tolist()
    [['d', 'c']]
    """
    if cutoff_km <= 0:
        raise SpecificationError(f"cutoff_km={cutoff_km} must be positive.")
    frame = _frame(counties, entity)
    inv, _ = _distance_base(frame, cutoff_km, power)
    ids = frame[entity].tolist()
    if attach_islands:
        inv, islands = _attach_islands_weighted(inv, frame, power)
    else:  # weights_from_matrix raises, naming the units with nobody within the cutoff
        islands = pd.DataFrame(columns=["island", "attached_to", "distance_km"])
    sw = weights_from_matrix(inv, ids, kind="inverse_distance",
                             params={"cutoff_km": float(cutoff_km), "power": float(power)})
    sw.islands = islands
    return sw


def _attach_islands_weighted(inv: sparse.csr_matrix, frame: pd.DataFrame, power: float):
    rs = np.asarray(inv.sum(axis=1)).ravel()
    isl = np.where(rs <= 0)[0]
    rows = []
    if len(isl):
        inv = sparse.lil_matrix(inv)
        lon, lat = frame["lon"].to_numpy(float), frame["lat"].to_numpy(float)
        xyz = _unit_xyz(lon, lat)
        tree = cKDTree(xyz)
        ids = frame.iloc[:, 0].astype(str).tolist()
        for i in isl:
            _, jj = tree.query(xyz[i], k=2)
            j = int(jj[1]) if int(jj[0]) == i else int(jj[0])
            d = max(float(great_circle_km(lon[i], lat[i], lon[j], lat[j])), 1e-6)
            inv[i, j] = d ** (-power)
            if inv[j, i] == 0:
                inv[j, i] = d ** (-power)
            rows.append({"island": ids[i], "attached_to": ids[j], "distance_km": d})
        inv = sparse.csr_matrix(inv)
    return inv, pd.DataFrame(rows, columns=["island", "attached_to", "distance_km"])


@renamed_kwargs(id_col="entity")
def economic_weights(gdp, counties: pd.DataFrame | None = None, cutoff_km: float = 150.0, power: float = 1.0, *,
                     entity: str = "adcode", floor: float | None = None,
                     attach_islands: bool = True) -> SpatialWeights:
    """Economic-geographic distance weights.

    Formula (before row standardisation)::

        w_ij = d_ij^(-power) * 1 / max(|g_i - g_j|, floor)     if d_ij <= cutoff_km, else 0

    with d_ij the great-circle distance between centroids and g_i the county's mean GDP per
    capita over the sample years (pass ``gdp`` as a Series indexed by county id, e.g.
    ``panel.groupby("county")["gdp_pc"].mean()``). Counties that are close *and* economically
    similar get the largest weights. ``floor`` (default 1e-3 x the mean |g_i - g_j| over linked
    pairs) keeps equal-GDP pairs finite. Islands (nobody within the cutoff) are attached to their
    nearest county with the same formula (``attach_islands=False``: they raise
    :class:`~analysis.errors.WeightsMatrixError` instead). Rows are standardised.

    Examples
    --------
    County b lies as far from a as from c, but its GDP differs from a's by 1 and from c's by 3, so
    its row weighs them 3 : 1:

    >>> import pandas as pd
    >>> from analysis.spatial import economic_weights
    >>> counties = pd.DataFrame({"adcode": ["a", "b", "c", "d"], "lon": [100.0, 101.0, 102.0, 110.0],
    ...                          "lat": [30.0] * 4})
    >>> gdp = pd.Series({"a": 10.0, "b": 11.0, "c": 14.0, "d": 12.0})
    >>> w = economic_weights(gdp, counties, cutoff_km=150)
    >>> w.full()[1].round(2).tolist()
    [0.75, 0.0, 0.25, 0.0]
    """
    frame = _frame(counties, entity)
    g = pd.Series(gdp)
    g.index = g.index.astype(str)
    missing = [u for u in frame[entity] if u not in g.index or pd.isna(g.get(u))]
    if missing:
        raise MissingValueError(f"gdp is missing for {len(missing)} counties ({describe_rows(missing)}).")
    gv = g.reindex(frame[entity]).to_numpy(float)
    inv, _ = _distance_base(frame, cutoff_km, power)
    if attach_islands:
        inv, islands = _attach_islands_weighted(inv, frame, power)
    else:  # weights_from_matrix raises, naming the units with nobody within the cutoff
        islands = pd.DataFrame(columns=["island", "attached_to", "distance_km"])
    coo = inv.tocoo()
    diff = np.abs(gv[coo.row] - gv[coo.col])
    fl = float(floor) if floor is not None else 1e-3 * float(np.mean(diff[diff > 0])) if np.any(diff > 0) else 1.0
    vals = coo.data / np.maximum(diff, fl)
    mat = sparse.csr_matrix((vals, (coo.row, coo.col)), shape=inv.shape)
    sw = weights_from_matrix(mat, frame[entity].tolist(), kind="economic",
                             params={"cutoff_km": float(cutoff_km), "power": float(power), "floor": fl})
    sw.islands = islands
    return sw
