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

import numpy as np
import pandas as pd

from ..errors import ColumnError, MissingValueError, SpecificationError, check_choice, describe_rows
from .weights import SpatialWeights, as_spatial_weights

__all__ = ["moran", "moran_by_year", "local_moran", "getis_ord", "lisa_map", "LISA_LABELS"]

LISA_LABELS = {1: "HH", 2: "LH", 3: "LL", 4: "HL"}
_LISA_ZH = {"HH": "高-高", "LH": "低-高", "LL": "低-低", "HL": "高-低", "ns": "不显著"}
_LISA_EN = {"HH": "High-High", "LH": "Low-High", "LL": "Low-Low", "HL": "High-Low", "ns": "Not significant"}


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


def moran(values, w, permutations: int = 999, seed=None, ids=None) -> dict:
    """Global Moran's I of one cross-section with a seeded permutation p-value."""
    import esda

    w = as_spatial_weights(w)
    y = _aligned(values, w, ids)
    m = esda.Moran(y, w.w, transformation="r", permutations=0)
    out = {"I": float(m.I), "EI": float(m.EI), "z_norm": float(m.z_norm), "p_norm": float(m.p_norm),
           "n": int(w.n)}
    if permutations:
        rng = np.random.default_rng(seed)
        z = y - y.mean()
        Wm = w.sparse
        s0 = Wm.sum()
        perms = np.column_stack([rng.permutation(z) for _ in range(int(permutations))])
        num = np.einsum("ij,ij->j", perms, Wm @ perms)
        sims = (w.n / s0) * num / (z @ z)
        larger = np.sum(sims >= m.I)
        if (permutations - larger) < larger:
            larger = permutations - larger
        out.update({"p_sim": float((larger + 1) / (permutations + 1)), "EI_sim": float(sims.mean()),
                    "z_sim": float((m.I - sims.mean()) / sims.std(ddof=1)), "permutations": int(permutations)})
    return out


def moran_by_year(panel: pd.DataFrame, column: str, w, permutations: int = 999, seed=None, *,
                  entity: str = "county", time: str = "year") -> pd.DataFrame:
    """Global Moran's I of ``column`` in every period, with permutation p-values.

    One seed stream is used for all years (``default_rng(seed)``), so the table is reproducible.

    Returns
    -------
    DataFrame: year, I, EI, z_norm, p_norm, p_sim, z_sim, n.
    """
    for c in (entity, time, column):
        if c not in panel.columns:
            raise ColumnError(f"column {c!r} is not in the panel.")
    w = as_spatial_weights(w)
    rng = np.random.default_rng(seed)
    rows = []
    for t, g in panel.groupby(time, sort=True):
        s = pd.Series(pd.to_numeric(g[column], errors="coerce").to_numpy(), index=g[entity].astype(str))
        r = moran(s, w, permutations=permutations, seed=rng)
        rows.append({time: t, **r})
    return pd.DataFrame(rows)


def local_moran(values, w, permutations: int = 999, seed: int | None = None, alpha: float = 0.05,
                ids=None) -> pd.DataFrame:
    """Local Moran's I (LISA) with conditional-permutation pseudo p-values and cluster labels.

    Returns
    -------
    DataFrame indexed by unit id: value, Is, z (standardised value), lag (Wz), p_sim, quadrant
    (HH/LH/LL/HL), cluster (the quadrant if p_sim < alpha, else "ns").
    """
    import esda

    if not 0 < alpha < 1:
        raise SpecificationError(f"alpha={alpha} must be in (0, 1).")
    w = as_spatial_weights(w)
    y = _aligned(values, w, ids)
    seed = _int_seed(seed)
    lm = esda.Moran_Local(y, w.w, transformation="r", permutations=permutations, seed=seed, n_jobs=1,
                          keep_simulations=False)
    quad = pd.Series(lm.q).map(LISA_LABELS).to_numpy()
    p = np.asarray(lm.p_sim, float) if permutations else np.asarray(lm.p_z_sim, float)
    z = (y - y.mean()) / y.std()
    out = pd.DataFrame({"value": y, "Is": lm.Is, "z": z, "lag": w.lag(z), "p_sim": p, "quadrant": quad},
                       index=pd.Index(w.ids, name="id"))
    out["cluster"] = np.where(out["p_sim"] < alpha, out["quadrant"], "ns")
    return out


def getis_ord(values, w, permutations: int = 999, seed: int | None = None, alpha: float = 0.05,
              star: bool = True, ids=None) -> pd.DataFrame:
    """Getis-Ord Gi* (``star=True``, the unit counted in its own neighbourhood) or Gi, on the binary
    neighbourhoods of W (w_ij = 1 for neighbours, w_ii = 1 for Gi*), as in GeoDa and ``esda.G_Local``
    with ``transform="B"``.

    Returns
    -------
    DataFrame indexed by unit id: value, G, z (Zs), p_norm, p_sim, hotspot ("hot"/"cold"/"ns" at
    ``alpha`` using the permutation p-value).
    """
    import esda

    w = as_spatial_weights(w)
    y = _aligned(values, w, ids)
    # binary neighbourhoods with the unit itself included (w_ii = 1) for Gi*: Ord and Getis (1995)
    with warnings.catch_warnings():  # esda rebuilds W with the diagonal and repeats libpysal's
        warnings.simplefilter("ignore", UserWarning)  # connectivity notes; W.summary() reports them
        g = esda.G_Local(y, w.w, transform="B", permutations=permutations, star=True if star else False,
                         seed=_int_seed(seed), n_jobs=1, keep_simulations=False)
    p_sim = np.asarray(g.p_sim, float) if permutations else np.asarray(g.p_norm, float)
    out = pd.DataFrame({"value": y, "G": g.Gs, "z": g.Zs, "p_norm": g.p_norm, "p_sim": p_sim},
                       index=pd.Index(w.ids, name="id"))
    out["hotspot"] = np.where(out["p_sim"] < alpha, np.where(out["z"] > 0, "hot", "cold"), "ns")
    return out


def _int_seed(seed):
    if seed is None or isinstance(seed, (int, np.integer)):
        return None if seed is None else int(seed)
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2 ** 31 - 1))
    raise SpecificationError("seed must be an int, None or a numpy Generator.")


def lisa_map(lisa: pd.DataFrame, lang: str = "zh", title: str | None = None, column: str = "cluster",
             frame: pd.DataFrame | None = None):
    """County map of LISA clusters (HH / LL / HL / LH / ns).

    Uses :func:`analysis.maps.county_map` (real boundaries) when available, else a centroid scatter
    from ``frame`` (``adcode``, ``lon``, ``lat``; default :func:`analysis.datasets.load_counties`).
    Returns the matplotlib Figure.
    """
    from ..plots import new_figure, tr

    check_choice("lang", lang, ("zh", "en"))
    labels = _LISA_ZH if lang == "zh" else _LISA_EN
    cats = ["HH", "LL", "HL", "LH", "ns"]
    colors = {"HH": "#d7191c", "LL": "#2c7bb6", "HL": "#fdae61", "LH": "#abd9e9", "ns": "#eeeeee"}
    data = pd.DataFrame({"county": lisa.index.astype(str),
                         "cluster": pd.Categorical(lisa[column].map(labels), [labels[c] for c in cats])})
    title = title or tr("LISA clusters", "LISA 聚类", lang)
    try:
        from ..maps import county_map
        from matplotlib.colors import ListedColormap

        # county_map colours the categories present in sorted order: build the palette to match
        inv = {labels[c]: colors[c] for c in cats}
        present = sorted(str(v) for v in pd.unique(data["cluster"].dropna()))
        data["cluster"] = data["cluster"].astype(str)
        cmap = ListedColormap([inv[v] for v in present])
        return county_map(data, "cluster", lang=lang, categorical=True, title=title, cmap=cmap,
                          legend_title=tr("cluster", "聚类类型", lang))
    except Exception:  # noqa: BLE001 - fall back to a centroid scatter (no boundaries installed)
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
