"""Traditional and spatial Markov chains of a panel variable (giddy underneath).

Rey, S. J. (2001) Spatial empirics for economic growth and convergence, *Geographical Analysis*
33(3); Bickenbach & Bode (2003) for the homogeneity tests. PySAL ``giddy.markov.Markov`` and
``Spatial_Markov`` do the counting; this module prepares the classes the way Chinese papers do and
guards against the usual pitfalls:

* W is row-standardized here (giddy uses whatever transform W carries);
* ``lag_cutoffs="state"`` reuses the state cut-offs for the neighbourhood classes (the common
  convention in Chinese papers); ``"lag"`` uses the lag's own quantiles (giddy's default);
* the homogeneity tests assume m = k, so m is k;
* states are quantiles of values relative to the yearly mean (``relative=True``), pooled over all
  years (``fixed=True``), with upper-inclusive bins as mapclassify.Quantiles.
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..errors import ColumnError, MissingValueError, UnbalancedPanelError, WeightsMatrixError, describe_rows
from ..results import RowReport, TidyResult

__all__ = ["MarkovResult", "markov_chain", "spatial_markov", "panel_matrix"]


def panel_matrix(data: pd.DataFrame, value: str, entity: str = "county", time: str = "year") -> pd.DataFrame:
    """Wide (units x years) matrix of ``value``; a balanced panel without missing cells is required."""
    for col in (value, entity, time):
        if col not in data.columns:
            raise ColumnError(f"column {col!r} is not in the data.")
    wide = data.pivot(index=entity, columns=time, values=value)
    holes = wide.isna().any(axis=1)
    if holes.any():
        raise UnbalancedPanelError(
            f"Markov chains need every unit in every year; {int(holes.sum())} units have gaps in {value!r} "
            f"({describe_rows(wide.index[holes])}). Fill them (analysis.panel.interpolate) or restrict the sample.")
    return wide


def _states(wide: pd.DataFrame, k: int, relative: bool, fixed: bool, cutoffs=None):
    y = wide.to_numpy(float)
    if relative:
        y = y / y.mean(axis=0, keepdims=True)
    if cutoffs is None:
        if fixed:
            cutoffs = np.quantile(y, np.linspace(0, 1, k + 1)[1:-1])
            classes = np.searchsorted(cutoffs, y, side="left")
        else:
            cutoffs = np.column_stack([np.quantile(y[:, t], np.linspace(0, 1, k + 1)[1:-1]) for t in range(y.shape[1])])
            classes = np.column_stack([np.searchsorted(cutoffs[:, t], y[:, t], side="left") for t in range(y.shape[1])])
    else:
        cutoffs = np.asarray(cutoffs, dtype=float)
        classes = np.searchsorted(cutoffs, y, side="left")
    return y, np.asarray(cutoffs), classes


REFERENCE = ("Quah (1993) and Rey (2001), Geographical Analysis 33(1) (spatial Markov); transition counts as "
             "PySAL giddy.markov")


@dataclass
class MarkovResult(TidyResult):
    """Transition counts and probabilities, steady state(s), and (spatial) homogeneity tests."""

    counts: pd.DataFrame
    probabilities: pd.DataFrame
    steady_state: np.ndarray
    cutoffs: np.ndarray
    states: pd.DataFrame
    conditional_counts: dict = field(default_factory=dict)
    conditional_probabilities: dict = field(default_factory=dict)
    lag_cutoffs: np.ndarray | None = None
    tests: pd.DataFrame | None = None

    def to_frame(self) -> pd.DataFrame:
        """Long table: lag class (or 'all'), from, to, count, probability."""
        frames = [(("all",), self.counts, self.probabilities)]
        frames += [((lag,), self.conditional_counts[lag], self.conditional_probabilities[lag])
                   for lag in self.conditional_counts]
        rows = []
        for (lag,), c, p in frames:
            for i in c.index:
                for j in c.columns:
                    rows.append({"lag_class": lag, "from": i, "to": j, "count": int(c.loc[i, j]),
                                 "probability": float(p.loc[i, j])})
        return pd.DataFrame(rows)


def _undefined_rows(counts: pd.DataFrame, probs: pd.DataFrame, where: str) -> list[str]:
    """Set to NaN the probability rows of states never observed as an origin (no transitions out of them).

    A transition probability out of a state with no observations is undefined (0/0), not 0: giddy
    returns a row of zeros there. Returns the names of those rows (``where`` prefixes them).
    """
    empty = counts.sum(axis=1).to_numpy() == 0
    probs.loc[empty, :] = np.nan
    return [f"{where}{s}" for s in counts.index[empty]]


def _warn_undefined(rows: list[str]) -> None:
    if rows:
        warnings.warn(f"transition probabilities out of {', '.join(rows)} are undefined (no observation starts "
                      "there) and are NaN; use fewer states (k) or pooled cut-offs to fill them.",
                      RuntimeWarning, stacklevel=3)


def _labels(k: int) -> list[str]:
    return [f"S{i + 1}" for i in range(k)]


def markov_chain(data: pd.DataFrame, value: str, k: int = 4, entity: str = "county", time: str = "year",
                 relative: bool = True, fixed: bool = True, cutoffs=None) -> MarkovResult:
    """Traditional Markov chain of ``value`` discretized into ``k`` states (S1 lowest).

    Examples
    --------
    Four counties over three years, two states split at the pooled median (4, upper-inclusive);
    county 1 jumps from 2 to 5, the only move out of S1:

    >>> import pandas as pd
    >>> df = pd.DataFrame({"county": [0] * 3 + [1] * 3 + [2] * 3 + [3] * 3, "year": [2010, 2011, 2012] * 4,
    ...                    "y": [1.0, 1.0, 1.0, 2.0, 2.0, 5.0, 4.0, 4.0, 4.0, 6.0, 6.0, 6.0]})
    >>> res = markov_chain(df, "y", k=2, relative=False)
    >>> res.cutoffs.tolist(), res.counts.values.tolist()
    ([4.0], [[5, 1], [0, 2]])
    >>> res.probabilities.round(3).values.tolist()
    [[0.833, 0.167], [0.0, 1.0]]
    """
    import giddy.markov

    wide = panel_matrix(data, value, entity, time)
    _, cut, classes = _states(wide, k, relative, fixed, cutoffs)
    m = giddy.markov.Markov(classes, classes=np.arange(k), summary=False)
    lab = _labels(k)
    counts = pd.DataFrame(np.asarray(m.transitions, dtype=int), index=lab, columns=lab)
    # giddy divides by row_sum + (row_sum == 0): an empty row is 0, never 0/0 (flagged just below)
    probs = pd.DataFrame(np.asarray(m.p, dtype=float), index=lab, columns=lab)
    _warn_undefined(_undefined_rows(counts, probs, ""))
    return MarkovResult(counts, probs, np.asarray(m.steady_state), cut,
                        pd.DataFrame(classes, index=wide.index, columns=wide.columns),
                        settings={"k": k, "relative": relative, "fixed": fixed},
                        model="Markov chain (classic)", rows=RowReport(wide.size, wide.size), reference=REFERENCE)


def _row_standardized(w, ids) -> "object":
    import libpysal

    w = getattr(w, "w", w)  # accept analysis.spatial.SpatialWeights as well as a libpysal W
    if not isinstance(w, libpysal.weights.W):
        raise WeightsMatrixError("w must be a libpysal W (see analysis.spatial for the county weights).")
    ids = list(ids)
    if set(w.id_order) != set(ids):
        missing = sorted(set(ids) - set(w.id_order))[:8]
        extra = sorted(set(w.id_order) - set(ids))[:8]
        raise WeightsMatrixError(f"W ids do not match the panel's units (in panel not W: {missing}; in W not panel: {extra}).")
    if w.islands:
        raise WeightsMatrixError(f"W has islands {w.islands[:8]}: attach them to their nearest neighbour first.")
    w = libpysal.weights.W(w.neighbors, w.weights, id_order=ids, silence_warnings=True)
    w.transform = "r"
    return w


def spatial_markov(data: pd.DataFrame, value: str, w, k: int = 4, entity: str = "county", time: str = "year",
                   relative: bool = True, fixed: bool = True, lag_cutoffs: str = "state") -> MarkovResult:
    """Spatial Markov chain: transitions conditional on the neighbours' class at the start year.

    ``w`` is an :class:`analysis.spatial.SpatialWeights` or a libpysal W over the panel's units (row-standardized here). ``lag_cutoffs="state"``
    classifies the spatial lag with the state cut-offs; ``"lag"`` with the lag's own quantiles.
    m = k lag classes, so the LR and Q homogeneity tests (Bickenbach & Bode 2003) have their stated
    degrees of freedom.

    Examples
    --------
    Sixteen counties on a 4 x 4 rook lattice over eight years of independent draws: 16 x 7
    transitions, split by the neighbours' class, and no spatial dependence to detect:

    >>> import numpy as np
    >>> import pandas as pd
    >>> from libpysal.weights import lat2W
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"county": np.repeat(np.arange(16), 8), "year": np.tile(np.arange(2010, 2018), 16),
    ...                    "y": rng.lognormal(size=128)})
    >>> res = spatial_markov(df, "y", lat2W(4, 4), k=2)
    >>> int(res.counts.values.sum()), {lag: c.values.tolist() for lag, c in res.conditional_counts.items()}
    (112, {'L1': [[8, 8], [8, 13]], 'L2': [[22, 18], [20, 15]]})
    >>> res.tests["dof"].tolist(), bool((res.tests["p_value"] > 0.05).all())
    ([2, 2], True)
    """
    import giddy.markov

    wide = panel_matrix(data, value, entity, time)
    w = _row_standardized(w, wide.index)
    y, cut, _ = _states(wide, k, relative, fixed)
    if not fixed:
        raise MissingValueError("spatial_markov supports pooled (fixed=True) cut-offs only.")
    lag_cut = cut if lag_cutoffs == "state" else None
    sm = giddy.markov.Spatial_Markov(y, w, k=k, m=k, fixed=True, cutoffs=cut, lag_cutoffs=lag_cut,
                                     fill_empty_classes=False)
    lab = _labels(k)
    counts = pd.DataFrame(np.asarray(sm.transitions, dtype=int), index=lab, columns=lab)
    # giddy divides by row_sum + (row_sum == 0): an empty row is 0, never 0/0 (flagged just below)
    probs = pd.DataFrame(np.asarray(sm.p, dtype=float), index=lab, columns=lab)
    cond_c = {f"L{i + 1}": pd.DataFrame(np.asarray(sm.T[i], dtype=int), index=lab, columns=lab) for i in range(k)}
    cond_p = {f"L{i + 1}": pd.DataFrame(np.asarray(sm.P[i], dtype=float), index=lab, columns=lab) for i in range(k)}
    _warn_undefined(_undefined_rows(counts, probs, "") + [
        r for name in cond_c for r in _undefined_rows(cond_c[name], cond_p[name], f"{name}:")])
    tests = pd.DataFrame({"test": ["LR", "Q"], "statistic": [sm.LR, sm.Q],
                          "dof": [sm.dof_hom, sm.dof_hom], "p_value": [sm.LR_p_value, sm.Q_p_value]})
    return MarkovResult(counts, probs, np.asarray(sm.s), cut,
                        pd.DataFrame(sm.class_ids, index=wide.index, columns=wide.columns),
                        conditional_counts=cond_c, conditional_probabilities=cond_p,
                        lag_cutoffs=np.asarray(sm.lag_cutoffs), tests=tests,
                        settings={"k": k, "m": k, "relative": relative, "fixed": True, "lag_cutoffs": lag_cutoffs,
                                  "w": "row-standardized"},
                        model="spatial Markov chain", rows=RowReport(wide.size, wide.size), reference=REFERENCE)
