"""Fixed-effect panel threshold regression (Hansen 1999), as Stata ``xthreg`` (Wang 2015) computes it.

Model (balanced panel, i = 1..n, t = 1..T, m thresholds g_1 < ... < g_m)::

    y_it = mu_i + x_it' b + sum_j r_it' b_j 1{q_it in regime j} + e_it,
    regime 0 = {q <= g_1}, regime j = {g_j < q <= g_{j+1}}, regime m = {q > g_m}.

Estimation follows Hansen (1999, J. Econometrics 93: 345-368) and Stata ``xthreg`` (Wang 2015,
Stata Journal 15(1): 121-134):

* within transformation over all T periods (``xtreg, fe``), threshold regressors formed before
  demeaning;
* the threshold minimises the SSR over a grid of observed values of q; every grid point is
  evaluated at once with cumulative sums over the observations sorted by q (the Frisch-Waugh-Lovell
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

Conventions that are not documented for xthreg (its Mata code is not public) are options:
``closed`` (q <= g, xthreg/Hansen paper, or q < g, Hansen's GAUSS code / R ``pdR::ptm``),
``grid_method`` ("quantile": ``grid`` quantiles of q between the ``trim`` and ``1-trim`` quantiles,
snapped to observed values; "hansen": Hansen's quantiles of the unique values), ``df`` (denominator
n(T-1) of Hansen 1999, or nT of ``pdR``). Later stages require every regime to hold at least
``trim`` of the observations (Hansen's trimming read as a minimum regime share).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd

from ..demean import FixedEffects
from ..errors import (
    ColumnError,
    ConstantColumnError,
    DuplicateKeyError,
    MissingValueError,
    NonNumericError,
    SpecificationError,
    UnbalancedPanelError,
    check_choice,
    describe_rows,
)
from ..results import EstimationResult, RowReport

__all__ = [
    "threshold",
    "ThresholdResult",
    "lr_critical_value",
    "threshold_grid",
    "plot_lr",
]

REFERENCE = (
    "Hansen, B.E. (1999), Threshold effects in non-dynamic panels, J. Econometrics 93: 345-368; "
    "Stata xthreg (Wang 2015, Stata Journal 15(1): 121-134)"
)

_STAGE_NAMES = {1: "Single", 2: "Double", 3: "Triple"}


def lr_critical_value(alpha: float = 0.05) -> float:
    """Hansen's (1999) critical value c(alpha) = -2 ln(1 - sqrt(1 - alpha)) for the LR(gamma) set.

    7.3523 at alpha = 0.05 (the reference line of the xthreg LR plot), 5.9395 at 0.10, 10.5916 at 0.01.
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


# --------------------------------------------------------------------------------------------
# the vectorised search
# --------------------------------------------------------------------------------------------
class _Searcher:
    """SSR of adding one threshold to a fixed-regime within model, for every grid point at once.

    ``W0`` (N x kw) is the within-demeaned fixed basis (controls, time dummies, r times the dummies
    of the thresholds already fixed); ``R`` (N x kr) the raw regime-dependent regressors; the added
    block is Z(g) = R * 1{q <= g} (or q < g). With e0 = M0 y (N x B):

        S(g) = S0 - c(g)' [Z~' M0 Z~]^{-1} c(g),  c(g) = Z(g)' e0,
        Z~' M0 Z~ = Z'Z - sum_i s_i s_i' / T - (Z'W0)(W0'W0)^{-1}(W0'Z).

    Everything that depends only on the regressors is computed once here (and reused by every
    bootstrap draw); :meth:`ssr` needs only one cumulative sum of r * e0 per draw.
    """

    def __init__(self, W0, R, q, ids, T, grid_values, closed="right", mask=None):
        N, kr = R.shape
        self.N, self.kr, self.T = N, kr, T
        self.W0 = W0
        self.grid = np.asarray(grid_values, dtype=float)
        G = len(self.grid)
        if W0.shape[1]:
            self.WtW_inv = np.linalg.pinv(W0.T @ W0)
        else:
            self.WtW_inv = np.zeros((0, 0))
        order = np.argsort(q, kind="stable")
        self.presorted = bool(np.all(order == np.arange(N)))  # threshold() passes q-sorted rows
        self.order = order
        qs = q[order]
        side = "right" if closed == "right" else "left"
        self.idx = np.searchsorted(qs, self.grid, side=side) - 1  # last sorted obs in Z(g)
        Rs = R[order]
        self.Rs = Rs
        Ws = W0[order]
        # per-entity running sums of r over earlier sorted observations
        run = pd.DataFrame(Rs).groupby(ids[order], sort=False).cumsum().to_numpy()
        prev = run - Rs
        dZZ = Rs[:, :, None] * Rs[:, None, :]
        dSS = (prev[:, :, None] * Rs[:, None, :] + Rs[:, :, None] * prev[:, None, :] + dZZ) / T
        dZW = Rs[:, :, None] * Ws[:, None, :]
        valid = self.idx >= 0
        gi = np.where(valid, self.idx, 0)
        ZZ = np.cumsum(dZZ - dSS, axis=0)[gi]  # Z~'Z~ at each grid point
        ZW = np.cumsum(dZW, axis=0)[gi]  # Z'W0 = Z~'W0
        A = ZZ - np.einsum("gkw,wv,glv->gkl", ZW, self.WtW_inv, ZW)
        # identification: mask grid points where Z~'M0Z~ is (near) singular
        scale = np.maximum(np.abs(np.einsum("gkk->gk", ZZ)).max(axis=1), 1e-300)
        if kr == 1:
            det_ok = A[:, 0, 0] > 1e-10 * scale
        else:
            ev = np.linalg.eigvalsh(A)
            det_ok = ev[:, 0] > 1e-10 * scale
        ok = valid & det_ok
        if mask is not None:
            ok &= np.asarray(mask, dtype=bool)
        self.ok = ok
        Ainv = np.zeros_like(A)
        if ok.any():
            Ainv[ok] = np.linalg.inv(A[ok])
        self.Ainv = Ainv
        self.gi = gi
        self.G = G

    def residualise(self, Y):
        """e0 = M0 Y for a column or a matrix of outcomes (N x B)."""
        if self.W0.shape[1] == 0:
            return Y
        return Y - self.W0 @ (self.WtW_inv @ (self.W0.T @ Y))

    def ssr(self, e0):
        """S(g) for every grid point (G x B); masked points are +inf. ``e0`` is N x B, = M0 y."""
        e0 = np.asarray(e0, dtype=float)
        one = e0.ndim == 1
        E = e0.reshape(self.N, -1)
        B = E.shape[1]
        S0 = np.einsum("nb,nb->b", E, E)
        Es = E if self.presorted else E[self.order]
        c = np.empty((self.G, self.kr, B))
        for k in range(self.kr):  # loop over regressors (kr is 1-3), not over grid points
            c[:, k, :] = np.cumsum(self.Rs[:, k, None] * Es, axis=0)[self.gi]
        quad = np.einsum("gkb,gkl,glb->gb", c, self.Ainv, c)
        S = S0[None, :] - quad
        S[~self.ok] = np.inf
        return S[:, 0] if one else S


def _regime_codes(q, thresholds, closed):
    th = np.sort(np.asarray(thresholds, dtype=float))
    side = "left" if closed == "right" else "right"
    # closed="right": regime = #{g_j < q}; closed="left": #{g_j <= q}
    return np.searchsorted(th, q, side=side) if th.size else np.zeros(len(q), dtype=int)


def _share_mask(grid, qs_sorted, fixed, min_obs, closed):
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


# --------------------------------------------------------------------------------------------
# result
# --------------------------------------------------------------------------------------------
@dataclass(repr=False)
class ThresholdResult(EstimationResult):
    """Result of :func:`threshold`: regime coefficients plus the threshold tables.

    Attributes (besides those of :class:`~analysis.results.EstimationResult`)
    ----------
    thresholds
        Estimated thresholds of the final model, sorted (len = n_thresholds).
    threshold_table
        One row per xthreg row (Th-1, Th-21, Th-22, Th-3): ``estimate``, ``ci_low``, ``ci_high``.
    f_table
        xthreg's ``e(Fstat)``: one row per test (Single, Double, Triple) with ``rss``, ``mse``,
        ``F``, ``p_value``, ``crit10``, ``crit5``, ``crit1``, ``n_boot``.
    lr_curve
        Long frame with ``stage``, ``gamma``, ``ssr``, ``lr`` for every grid point (xthreg
        ``e(LR)``, ``e(LR21)``, ``e(LR22)``, ``e(LR3)``); masked points are left out.
    regimes
        Regime code, lower and upper bound, number of observations.
    boot_F
        Bootstrap F statistics by stage (dict stage -> array).
    """

    thresholds: np.ndarray = field(default_factory=lambda: np.empty(0))
    threshold_table: pd.DataFrame | None = None
    f_table: pd.DataFrame | None = None
    lr_curve: pd.DataFrame | None = None
    regimes: pd.DataFrame | None = None
    boot_F: dict = field(default_factory=dict)
    critical_value: float = float("nan")

    def summary(self) -> str:
        """Coefficients (as EstimationResult.summary) followed by the threshold and F-test tables."""
        fmt = lambda v: f"{v:.6g}"  # noqa: E731
        parts = [super().summary(), "", "thresholds (LR confidence set, c(alpha) = "
                 f"{self.critical_value:.4f}):", self.threshold_table.to_string(index=False, float_format=fmt),
                 "", "threshold-effect tests (bootstrap p-values):",
                 self.f_table.to_string(index=False, float_format=fmt)]
        return "\n".join(parts)

    def regime_labels(self, digits: int = 3) -> dict[str, str]:
        """Readable labels of the regime coefficients, for ``regression_table(rename=...)``.

        E.g. ``{"loans_gdp_regime0": "loans_gdp × I(q ≤ 10.492)", "loans_gdp_regime1":
        "loans_gdp × I(q > 10.492)"}`` with q the threshold variable's name.
        """
        q = self.settings.get("q", "q")
        strict = self.settings.get("closed") == "q < gamma"
        le, gt = ("<", "≥") if strict else ("≤", ">")
        th = [f"{g:.{digits}f}" for g in self.thresholds]
        out = {}
        for r in self.settings.get("regime", []):
            for j in range(len(th) + 1):
                if j == 0:
                    cond = f"{q} {le} {th[0]}"
                elif j == len(th):
                    cond = f"{q} {gt} {th[-1]}"
                else:
                    cond = f"{th[j - 1]} {'≤' if strict else '<'} {q} {le} {th[j]}"
                out[f"{r}_regime{j}"] = f"{r} × I({cond})"
        return out

    def plot(self, lang: str = "zh", stages: Sequence[str] | None = None):
        """The LR(gamma) plot, see :func:`plot_lr`."""
        return plot_lr(self, lang=lang, stages=stages)


# --------------------------------------------------------------------------------------------
# input checks
# --------------------------------------------------------------------------------------------
def _as_list(v) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    return list(v)


def _prepare(data, y, q, regime, controls, entity, time):
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError("data must be a pandas DataFrame in long form (one row per county-year).")
    cols = [y, q, *regime, *controls]
    needed = [entity, time, *cols]
    missing = [c for c in dict.fromkeys(needed) if c not in data.columns]
    if missing:
        raise ColumnError(f"columns {missing} are not in the data; available: {list(data.columns)[:30]}.")
    model_cols = [y, *regime, *controls]
    dup = sorted({c for c in model_cols if model_cols.count(c) > 1})
    if dup:
        raise SpecificationError(f"columns {dup} appear more than once among y, regime and controls.")
    frame = data[list(dict.fromkeys(needed))]
    for c in dict.fromkeys(cols):
        if not (pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c])):
            bad = pd.to_numeric(frame[c], errors="coerce").isna() & frame[c].notna()
            raise NonNumericError(
                f"column {c!r} must be numeric; non-numeric cells in {describe_rows(frame.index[bad])}. "
                "Convert it with pd.to_numeric or fix those cells."
            )
    na = frame.isna()
    if na.any().any():
        parts = []
        for c in frame.columns[na.any()]:
            parts.append(f"{c!r} in {describe_rows(frame.index[na[c]])}")
        raise MissingValueError(
            "the panel threshold model needs complete data (a balanced panel); missing values: "
            + "; ".join(parts)
            + ". Impute them (e.g. analysis.panel interpolation) or drop those counties entirely."
        )
    dup = frame.duplicated([entity, time], keep=False)
    if dup.any():
        raise DuplicateKeyError(
            f"duplicated ({entity}, {time}) keys in {describe_rows(frame.index[dup])}; keep one row per county-year."
        )
    times = np.sort(frame[time].unique())
    counts = frame.groupby(entity, sort=True)[time].nunique()
    T = len(times)
    incomplete = counts[counts < T]
    if len(incomplete):
        raise UnbalancedPanelError(
            f"Hansen's (1999) threshold model (like Stata xthreg) needs a balanced panel: "
            f"{len(incomplete)} of {len(counts)} {entity} values lack some of the {T} periods "
            f"{times[0]}-{times[-1]}: {_name_units(incomplete)}. "
            "Balance the panel (keep counties observed in every year, or restrict the years)."
        )
    frame = frame.sort_values([entity, time], kind="stable")
    return frame, T


def _name_units(counts: pd.Series, limit: int = 8) -> str:
    shown = ", ".join(f"{k} ({v} periods)" for k, v in counts.iloc[:limit].items())
    more = len(counts) - limit
    return shown + (f" and {more} more" if more > 0 else "")


def _n_boot_list(n_boot, m):
    if np.isscalar(n_boot):
        lst = [int(n_boot)] * m
    else:
        lst = [int(b) for b in n_boot]
        if len(lst) != m:
            raise SpecificationError(f"n_boot has {len(lst)} entries but n_thresholds={m}; give one per threshold.")
    if any(b < 0 for b in lst):
        raise SpecificationError("n_boot must be >= 0 (0 = no bootstrap, as xthreg without bs()).")
    return lst


def _trim_list(trim, m):
    if np.isscalar(trim):
        lst = [float(trim)] * m
    else:
        lst = [float(t) for t in trim]
        if len(lst) != m:
            raise SpecificationError(f"trim has {len(lst)} entries but n_thresholds={m}; give one per threshold.")
    for t in lst:
        if not 0 <= t < 0.5:
            raise SpecificationError(f"trim={t!r} must be in [0, 0.5), e.g. 0.05 or 0.01 (xthreg default).")
    return lst


# --------------------------------------------------------------------------------------------
# the estimator
# --------------------------------------------------------------------------------------------
class _Model:
    """Arrays of one balanced panel, demeaned once; builds searchers for any set of fixed thresholds."""

    def __init__(self, Y, X, R, q, ids, T, D, closed, grid_values, trims):
        self.Y, self.X, self.R, self.q, self.ids, self.T = Y, X, R, q, ids, T
        self.N = len(Y)
        self.n = self.N // T
        self.closed = closed
        self.grid = grid_values
        self.trims = trims
        self.fe = FixedEffects(pd.DataFrame({"id": ids}))
        XD = np.column_stack([X, D])
        self.Xd = self.fe.demean(XD).reshape(self.N, -1) if XD.shape[1] else XD
        self.Yd = self.fe.demean(Y)
        self.qs = np.sort(q)
        self._cache: dict = {}
        self._pinned: set = set()  # searchers of the estimation itself, never evicted
        self.max_cache = 16

    def basis(self, fixed):
        """W0 for fixed thresholds: [x~, time dummies~, (r 1{regime j})~ for each regime]."""
        codes = _regime_codes(self.q, fixed, self.closed)
        blocks = [self.Xd]
        for j in range(len(fixed) + 1):
            blocks.append(self.R * (codes == j)[:, None])
        raw = np.column_stack(blocks[1:])
        return np.column_stack([self.Xd, self.fe.demean(raw).reshape(self.N, -1)])

    def searcher(self, fixed, stage, pin=False):
        key = tuple(np.sort(np.asarray(fixed, dtype=float)).tolist())
        trim = self.trims[stage - 1] if stage - 1 < len(self.trims) else self.trims[-1]
        min_obs = max(int(math.ceil(trim * self.N)), self.R.shape[1] + 1)
        ckey = (key, min_obs)
        if ckey not in self._cache:
            if len(self._cache) >= self.max_cache:  # bootstrap draws create many bases: keep memory bounded
                old = next((k for k in self._cache if k not in self._pinned), None)
                if old is not None:
                    self._cache.pop(old)
            mask = _share_mask(self.grid, self.qs, key, min_obs, self.closed)
            self._cache[ckey] = _Searcher(self.basis(key), self.R, self.q, self.ids, self.T, self.grid, self.closed, mask)
        if pin:
            self._pinned.add(ckey)
        return self._cache[ckey]

    def sequential(self, Yd, m):
        """Sequential search without refinement (as in the bootstrap) on outcome(s) Yd (N x B).

        Returns the SSR of stage m-1 and of stage m for every column.
        """
        B = Yd.shape[1]
        fixed = np.empty((B, 0))
        s_prev = None
        for stage in range(1, m + 1):
            S_stage = np.empty(B)
            g_stage = np.empty(B)
            S_base = np.empty(B)
            keys = [tuple(row) for row in fixed]
            for key in dict.fromkeys(keys):  # group draws sharing the same earlier thresholds
                cols = np.array([k == key for k in keys])
                srch = self.searcher(key, stage)
                e0 = srch.residualise(Yd if len(set(keys)) == 1 else Yd[:, cols])
                S = srch.ssr(e0)
                best = np.argmin(S, axis=0)
                S_stage[cols] = S[best, np.arange(S.shape[1])]
                g_stage[cols] = self.grid[best]
                S_base[cols] = np.einsum("nb,nb->b", e0, e0)
            s_prev = S_base
            fixed = np.column_stack([fixed, g_stage])
        return s_prev, S_stage


def threshold(
    data: pd.DataFrame,
    y: str,
    q: str,
    regime: str | Sequence[str],
    controls: Sequence[str] = (),
    entity: str = "county",
    time: str = "year",
    n_thresholds: int = 1,
    trim: float | Sequence[float] = 0.05,
    grid: int | Sequence[float] = 300,
    n_boot: int | Sequence[int] = 300,
    seed: int | np.random.Generator | None = None,
    alpha: float = 0.05,
    *,
    time_effects: bool = False,
    vcov: str = "cluster",
    closed: str = "right",
    grid_method: str = "quantile",
    df: str = "hansen",
    refine: bool = True,
    bootstrap_null: str = "reestimate",
    batch_size: int | None = None,
) -> ThresholdResult:
    """Fixed-effect panel threshold regression of Hansen (1999), matching Stata ``xthreg``.

    Parameters
    ----------
    data
        Balanced long panel, one row per ``entity``-``time``.
    y
        Outcome column (take logs beforehand, e.g. ``data.assign(ly=np.log(data.rural_income))``).
    q
        Threshold variable (xthreg ``qx()``).
    regime
        Regime-dependent regressor(s) (xthreg ``rx()``), whose slopes change at the thresholds.
    controls
        Regime-independent regressors (xthreg ``indepvars``).
    n_thresholds
        1, 2 or 3 (xthreg ``thnum()``); estimated sequentially, each with its own F test.
    trim
        Trimming proportion, one number or one per threshold (xthreg ``trim()``; xthreg default
        0.01, Hansen 1999 used 0.01 to 0.05).
    grid
        Number of grid points (xthreg ``grid()``, default 300); for ``grid_method="hansen"`` the
        number of quantiles ``qn``. An array gives the candidate thresholds explicitly.
    n_boot
        Bootstrap replications per threshold (xthreg ``bs()``); 0 skips the bootstrap.
    seed
        Seed or ``np.random.Generator`` for the bootstrap.
    alpha
        1 - confidence level of the threshold CIs (xthreg ``thlevel(95)`` = 0.05).
    time_effects
        Add year dummies as regime-independent controls (``xthreg y x i.year, ...``).
    vcov
        ``"cluster"`` (default): ``xthreg ..., vce(robust)``, i.e. ``xtreg, fe vce(cluster entity)``
        with factor G/(G-1) (N-1)/(N-K-1); ``"iid"``: xthreg's default conventional SEs,
        s^2 = SSR / (nT - n - K).
    closed
        ``"right"``: regime 0 is q <= g (Hansen 1999, xthreg); ``"left"``: q < g (pdR/GAUSS).
    grid_method
        ``"quantile"`` or ``"hansen"``, see :func:`threshold_grid`.
    df
        Denominator of sigma2 in F and LR: ``"hansen"`` n(T-1), or ``"nT"`` (pdR).
    refine
        Hansen's refinement of the first threshold in the double-threshold model.
    bootstrap_null
        ``"reestimate"`` (Hansen/pdR): each draw redoes the earlier stages' searches;
        ``"fixed"``: earlier thresholds held at their estimates (faster). As in pdR, the bootstrap
        re-searches the earlier thresholds without Hansen's refinement.
    batch_size
        Bootstrap draws per batch; default about 450,000 / (N k_r), at least 8.

    Returns
    -------
    ThresholdResult
        ``params`` = controls, time dummies and ``{r}_regime{j}`` (j = 0..m, xthreg's ``_cat``),
        ``thresholds``, ``threshold_table``, ``f_table``, ``lr_curve``, ``regimes``.

    References
    ----------
    Hansen (1999), J. Econometrics 93: 345-368; Wang (2015), Stata Journal 15(1): 121-134 (xthreg).
    """
    check_choice("n_thresholds", n_thresholds, (1, 2, 3))
    check_choice("vcov", vcov, ("cluster", "iid"))
    check_choice("closed", closed, ("right", "left"))
    check_choice("df", df, ("hansen", "nT"))
    check_choice("bootstrap_null", bootstrap_null, ("reestimate", "fixed"))
    c_alpha = lr_critical_value(alpha)
    m = int(n_thresholds)
    regime = _as_list(regime)
    controls = _as_list(controls)
    if not regime:
        raise SpecificationError("regime must name at least one regime-dependent regressor (xthreg rx()).")
    trims = _trim_list(trim, m)
    boots = _n_boot_list(n_boot, m)
    rng = np.random.default_rng(seed)

    frame, T = _prepare(data, y, q, regime, controls, entity, time)
    ids = pd.factorize(frame[entity], sort=True)[0]
    n = int(ids.max()) + 1
    N = len(frame)
    Y = frame[y].to_numpy(float)
    X = frame[controls].to_numpy(float).reshape(N, -1)
    R = frame[regime].to_numpy(float).reshape(N, -1)
    qv = frame[q].to_numpy(float)
    if T < 2:
        raise UnbalancedPanelError(f"the panel has a single period of {time!r}; the within estimator needs T >= 2.")
    # time-invariant variables carry no within variation (xthreg rejects them)
    for name, col in [(y, Y), *zip(regime, R.T), *zip(controls, X.T)]:
        within = col.reshape(n, T)
        if np.allclose(within, within[:, :1], rtol=0, atol=1e-12 * (1 + np.abs(col).max())):
            raise ConstantColumnError(
                f"column {name!r} does not vary over {time} within any {entity}; the fixed effects absorb "
                "it. Drop it (time-invariant variables cannot enter a within regression)."
            )
    times = np.sort(frame[time].unique())
    D = np.zeros((N, 0))
    dnames: list[str] = []
    if time_effects:
        tcode = pd.factorize(frame[time], sort=True)[0]
        D = (tcode[:, None] == np.arange(1, T)[None, :]).astype(float)
        dnames = [f"{time}={t}" for t in times[1:]]
    if np.ndim(grid) == 0:
        grid_values = threshold_grid(qv, trims[0], int(grid), grid_method)
    else:  # explicit candidate thresholds
        grid_values = np.unique(np.asarray(grid, dtype=float))
    if len(grid_values) < 2:
        raise SpecificationError(
            f"the threshold variable {q!r} has fewer than 2 distinct values inside the trimmed range; "
            "it cannot split the sample."
        )
    # rows in q-sorted order from here on: the search's cumulative sums run along this order, and
    # nothing else depends on the row order (entity codes ``ids`` and periods ``tpos`` travel along)
    tpos = np.tile(np.arange(T), n)
    perm = np.argsort(qv, kind="stable")
    Y, X, R, qv, ids, D, tpos = Y[perm], X[perm], R[perm], qv[perm], ids[perm], D[perm], tpos[perm]
    model = _Model(Y, X, R, qv, ids, T, D, closed, grid_values, trims)
    dfden = n * (T - 1) if df == "hansen" else n * T
    kr = R.shape[1]
    Yd = model.Yd

    # linear model
    s_lin = model.searcher((), 1, pin=True)
    e_lin = s_lin.residualise(Yd)
    S_lin = float(e_lin @ e_lin)

    def search(fixed, stage):
        srch = model.searcher(tuple(fixed), stage, pin=True)
        e0 = srch.residualise(Yd)
        S = srch.ssr(e0)
        if not np.isfinite(S).any():
            raise SpecificationError(
                f"no admissible grid point for threshold {stage}: every candidate leaves a regime with "
                f"fewer than trim={trims[stage - 1]} of the observations. Lower trim or n_thresholds."
            )
        b = int(np.argmin(S))
        return S, b

    lr_rows = []

    def lr_frame(stage, S, Smin):
        ok = np.isfinite(S)
        lr = (S - Smin) / (Smin / dfden)
        lr_rows.append(pd.DataFrame({"stage": stage, "gamma": grid_values[ok], "ssr": S[ok], "lr": lr[ok]}))
        inside = ok & (lr < c_alpha)
        g_in = grid_values[inside]
        return (float(g_in.min()), float(g_in.max())) if g_in.size else (np.nan, np.nan)

    th_rows = []
    ssr_stage = [S_lin]
    fixed_seq: list[float] = []
    # stage 1
    S1, b1 = search((), 1)
    g1 = float(grid_values[b1])
    ci = lr_frame("Th-1", S1, S1[b1])
    th_rows.append(("Th-1", g1, *ci))
    ssr_stage.append(float(S1[b1]))
    fixed_seq = [g1]
    final = [g1]
    if m >= 2:
        S2, b2 = search((g1,), 2)
        g2 = float(grid_values[b2])
        S2min = float(S2[b2])
        ci22 = (np.nan, np.nan)
        if refine:
            S1r, b1r = search((g2,), 2)
            g1r = float(grid_values[b1r])
            ci21 = lr_frame("Th-21", S1r, S1r[b1r])
            ci22 = lr_frame("Th-22", S2, S2min)
            th_rows.append(("Th-21", g1r, *ci21))
            th_rows.append(("Th-22", g2, *ci22))
        else:
            g1r = g1
            ci22 = lr_frame("Th-2", S2, S2min)
            th_rows.append(("Th-2", g2, *ci22))
        ssr_stage.append(S2min)
        fixed_seq = [g1, g2]
        final = sorted([g1r, g2])
        if m >= 3:
            S3, b3 = search(tuple(final), 3)
            g3 = float(grid_values[b3])
            S3min = float(S3[b3])
            # F3 compares the two-threshold model at the reported pair with the three-threshold one
            base2 = model.searcher(tuple(final), 3, pin=True)
            e2 = base2.residualise(Yd)
            ssr_null3 = float(e2 @ e2)
            ci3 = lr_frame("Th-3", S3, S3min)
            th_rows.append(("Th-3", g3, *ci3))
            ssr_stage.append(S3min)
            fixed_seq = [*final, g3]
            final = sorted([*final, g3])

    # F tests with Hansen's residual bootstrap, grouped by entity
    f_rows = []
    boot_F = {}
    # null models: stage 1 linear; stage 2 the single-threshold model at g1; stage 3 the reported pair
    null_fixed = {1: (), 2: (g1,), 3: tuple(sorted(fixed_seq[:2])) if m >= 3 else ()}
    for stage in range(1, m + 1):
        S_null, S_alt = ssr_stage[stage - 1], ssr_stage[stage]
        if stage == 3:
            S_null = ssr_null3  # the two-threshold model at the reported (refined) pair
        mse = S_alt / dfden
        F = (S_null - S_alt) / mse
        B = boots[stage - 1]
        if B > 0:
            srch0 = model.searcher(null_fixed[stage], stage, pin=True)
            e_null = srch0.residualise(Yd)
            fit_null = Yd - e_null
            E = np.empty((n, T))
            E[ids, tpos] = e_null  # residual vector of each entity, length T
            # small batches: arrays of a few MB stay cheap to allocate (measured: 12 draws per batch
            # at N = 37,063 ran 2-3x faster than one batch of 300)
            per = batch_size or max(8, int(4.5e5 // (N * kr)))
            Fb = np.empty(B)
            for start in range(0, B, per):
                nb = min(per, B - start)
                draw = rng.integers(0, n, size=(nb, n))
                # whole length-T residual blocks of the drawn entities, rows in q-sorted order
                Ystar = np.ascontiguousarray((fit_null[None, :] + E[draw[:, ids], tpos[None, :]]).T)
                if bootstrap_null == "reestimate":
                    Sp, Sa = model.sequential(Ystar, stage)
                else:
                    srch = model.searcher(null_fixed[stage], stage)
                    e0 = srch.residualise(Ystar)
                    Sp = np.einsum("nb,nb->b", e0, e0)
                    Sa = srch.ssr(e0).min(axis=0)
                Fb[start : start + nb] = (Sp - Sa) / (Sa / dfden)
            pval = float(np.mean(Fb > F))
            crit = np.quantile(Fb, [0.90, 0.95, 0.99], method="inverted_cdf")
            boot_F[_STAGE_NAMES[stage]] = Fb
        else:
            pval, crit = np.nan, [np.nan] * 3
        f_rows.append(
            {
                "test": _STAGE_NAMES[stage],
                "rss": S_alt,
                "mse": mse,
                "F": F,
                "p_value": pval,
                "crit10": crit[0],
                "crit5": crit[1],
                "crit1": crit[2],
                "n_boot": B,
            }
        )

    # final regression at the reported thresholds (xtreg y x i._cat#c.(rx), fe)
    thr = np.array(sorted(final))
    codes = _regime_codes(qv, thr, closed)
    Wf = model.basis(tuple(thr))
    names = list(controls) + dnames + [f"{r}_regime{j}" for j in range(m + 1) for r in regime]
    # basis() orders the regime blocks regime-major: for j: for r
    XtX_inv = np.linalg.pinv(Wf.T @ Wf)
    beta = XtX_inv @ (Wf.T @ Yd)
    resid = Yd - Wf @ beta
    ssr = float(resid @ resid)
    K = Wf.shape[1]
    if vcov == "iid":
        s2 = ssr / (N - n - K)
        V = s2 * XtX_inv
        df_resid = N - n - K
        vdesc = "conventional (xtreg, fe; xthreg default): s^2 = SSR/(nT-n-K)"
    else:
        scores = Wf * resid[:, None]
        G = np.zeros((n, K))
        np.add.at(G, ids, scores)
        meat = G.T @ G
        c = n / (n - 1) * (N - 1) / (N - K - 1)
        V = c * XtX_inv @ meat @ XtX_inv
        df_resid = n - 1
        vdesc = (
            f"cluster-robust by {entity} (xthreg vce(robust) = xtreg, fe vce(cluster {entity})): "
            "factor G/(G-1)*(N-1)/(N-K-1), t with G-1 df"
        )
    se = np.sqrt(np.maximum(np.diag(V), 0))
    tss_w = float(Yd @ Yd)
    lo_bounds = np.concatenate([[-np.inf], thr])
    hi_bounds = np.concatenate([thr, [np.inf]])
    regimes_df = pd.DataFrame(
        {
            "regime": np.arange(m + 1),
            "lower": lo_bounds,
            "upper": hi_bounds,
            "n_obs": np.bincount(codes, minlength=m + 1),
        }
    )
    thr_df = pd.DataFrame(th_rows, columns=["stage", "estimate", "ci_low", "ci_high"])
    res = ThresholdResult(
        params=pd.Series(beta, index=names),
        std_errors=pd.Series(se, index=names),
        model=f"Panel threshold regression (Hansen 1999), {m} threshold(s)",
        df_resid=df_resid,
        rows=RowReport(n_input=len(data), n_used=N),
        settings={
            "y": y,
            "q": q,
            "regime": regime,
            "controls": controls,
            "fixed_effects": [entity] + ([time] if time_effects else []),
            "vcov": vcov,
            "vcov_description": vdesc,
            "cluster": entity if vcov == "cluster" else None,
            "n_thresholds": m,
            "trim": trims,
            "grid": grid if np.ndim(grid) == 0 else "explicit",
            "grid_method": grid_method,
            "grid_points": int(len(grid_values)),
            "n_boot": boots,
            "seed": seed if not isinstance(seed, np.random.Generator) else "Generator",
            "alpha": alpha,
            "closed": "q <= gamma" if closed == "right" else "q < gamma",
            "df": "n(T-1)" if df == "hansen" else "nT",
            "refine": refine,
            "bootstrap_null": bootstrap_null,
        },
        reference=REFERENCE,
        stats={
            "N": N,
            "n_entities": n,
            "T": T,
            "r2_within": 1 - ssr / tss_w if tss_w > 0 else np.nan,
            "ssr": ssr,
            "ssr_linear": S_lin,
        },
        cov=pd.DataFrame(V, index=names, columns=names),
        alpha=alpha,
        thresholds=thr,
        threshold_table=thr_df,
        f_table=pd.DataFrame(f_rows),
        lr_curve=pd.concat(lr_rows, ignore_index=True),
        regimes=regimes_df,
        boot_F=boot_F,
        critical_value=c_alpha,
    )
    res.extra.update({"threshold_table": thr_df, "f_table": res.f_table, "lr_curve": res.lr_curve})
    return res


def plot_lr(result: ThresholdResult, lang: str = "zh", stages: Sequence[str] | None = None):
    """LR(gamma) curves with the critical value c(alpha) (xthreg ``_matplot e(LR)``).

    One panel per stage (Th-1, Th-21, Th-22, Th-3); the dashed line is c(alpha) (7.35 at 95%), the
    dotted vertical line the estimate. Returns the matplotlib Figure.
    """
    from ..plots import new_figure, tr

    lr = result.lr_curve
    stages = list(stages) if stages is not None else list(dict.fromkeys(lr["stage"]))
    fig, axes = new_figure(lang, nrows=1, ncols=len(stages), figsize=(4.2 * len(stages), 3.4), squeeze=False)
    est = result.threshold_table.set_index("stage")["estimate"]
    level = int(round((1 - result.alpha) * 100))
    for ax, st in zip(axes[0], stages):
        d = lr[lr["stage"] == st]
        ax.plot(d["gamma"], d["lr"], lw=1.2, color="C0", label="LR(γ)")
        ax.axhline(result.critical_value, ls="--", color="C3",
                   label=tr(f"{level}% critical value", f"{level}%临界值", lang) + f" ({result.critical_value:.2f})")
        if st in est.index:
            ax.axvline(est[st], ls=":", color="0.4")
        ax.set_title(tr(f"LR statistic, {st}", f"似然比统计量（{st}）", lang))
        ax.set_xlabel(tr(f"threshold γ ({result.settings.get('q', 'q')})", f"门槛值 γ（{result.settings.get('q', 'q')}）", lang))
        ax.set_ylabel("LR")
        ax.legend(loc="upper right")
    fig.tight_layout()
    return fig
