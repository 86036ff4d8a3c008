"""Fixed-effects spatial panel models by maximum likelihood: SAR, SDM and SEM, with entity, time or
two-way effects, the Lee and Yu (2010) bias correction and LeSage-Pace effects with simulated SEs.

Model (time-major stacking, W row-standardised, N units, T periods)::

    SAR: y_t = rho W y_t + X_t beta              + mu + alpha_t + e_t
    SDM: y_t = rho W y_t + X_t beta + W X_t theta + mu + alpha_t + e_t
    SEM: y_t = X_t beta + mu + alpha_t + u_t,  u_t = lambda W u_t + e_t
    SDEM: y_t = X_t beta + W X_t theta + mu + alpha_t + u_t,  u_t = lambda W u_t + e_t

SAC (lag and error on the same W) is in :mod:`analysis.spatial.sac_panel` (2-D concentrated
likelihood, numerical observed information, no Lee-Yu correction).

SDEM is the SEM likelihood with [X, WX] as regressors (LeSage and Pace 2009, ch. 2; Elhorst 2014,
ch. 2.3; R ``spatialreg`` "SDEM", xsmle ``model(sem) durbin()``); its effects are local: direct =
beta_k, indirect = theta_k, total = beta_k + theta_k, with SEs from the covariance (linear in the
parameters, no draws). All regressors enter as W x in the SDEM.

Estimation follows Elhorst (2014, ch. 3) and Lee & Yu (2010): spatial lags are formed from the raw data, then every column is demeaned
(:class:`analysis.demean.FixedEffects`); the likelihood is concentrated in rho (lambda) and
maximised with a bounded scalar search; ln|I - rho W| = sum ln(1 - rho omega) with the eigenvalues
omega of W computed once (``eigvalsh`` of D^-1/2 A D^-1/2 when W = D^-1 A with A symmetric). The
variance is the inverse expected information of (beta, [theta], rho, sigma2) (Elhorst's analytic
formula; ``vcov="eim"``, the default) or the inverse analytic observed information
(``vcov="oim"``, what xsmle's default ``vce(oim)`` computes numerically).

Lee and Yu (2010) correction (``lee_yu=True``), as the reference implementations do it:

* ``effects="entity"``: the transformation approach (orthonormal F_{T,T-1}); same beta and rho,
  N(T-1) observations and T-1 periods in the likelihood and information, sigma2 = SSR/(N(T-1)).
  This is ``xsmle, fe type(ind, leeyu)``. ``lee_yu_method="elhorst"`` instead scales sigma2 by
  T/(T-1) and keeps NT and T in the information (Elhorst's ``sar_panel_FE.m``, model=1, bc=1).
* ``effects="time"``: sigma2 x N/(N-1) (Elhorst model=2, bc=1).
* ``effects="twoways"``: Elhorst's analytic correction (model=3, bc=1)
  theta_bc = theta + (I/NT)^-1 [0; 1/(1-rho); 1/(2 sigma2)]/N, sigma2_bc = T/(T-1) x sigma2
  component, information re-evaluated at the corrected values. ``lee_yu_method="transformation"``
  maximises Lee and Yu's two-way transformed likelihood instead (asymptotically equivalent, not
  numerically identical; its information matrix uses (N-1)(T-1), T-1 and the eigenvalues without
  the unit root, with tr(G'G) of the untransformed W, an approximation). xsmle has no two-way
  Lee-Yu: ``type(both, leeyu)`` silently becomes ``type(ind, leeyu)``; use ``effects="entity"`` to
  reproduce it.

Cost: the eigenvalues of W once per distinct W (cached; O(N^3), about 1-6 s at N = 2,851), then per
fit a few O(NT k^2) cross products, a bounded scalar search over rho, one O(N^3) Cholesky inverse for
tr(G'G) in the information matrix (two with the two-way correction; memoised per rho), and the
effect draws in O(n_draws x N) from closed forms.

References
----------
Elhorst, J.P. (2014), *Spatial Econometrics: From Cross-Sectional Data to Spatial Panels*, ch. 3.
Lee, L.-F. and Yu, J. (2010), "Estimation of spatial autoregressive panel data models with fixed
effects", *Journal of Econometrics* 154: 165-185.
Belotti, Hughes and Piano Mortari (2017), *Stata Journal* 17(1): 139-180 (``xsmle ..., fe``).
Millo, G. and Piras, G. (2012), "splm: Spatial Panel Data Models in R", *JSS* 47(1)
(``spml(..., model="within")``). PySAL ``spreg.Panel_FE_Lag`` / ``Panel_FE_Error`` (entity FE).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import minimize_scalar

from .._compat import renamed_kwargs
from ..demean import FixedEffects
from ..errors import (
    ColumnError,
    MissingValueError,
    NonNumericError,
    SpecificationError,
    UnbalancedPanelError,
    check_choice,
    describe_rows,
)
from ..results import EstimationResult, RowReport
from ..validation import as_list, check_unique_keys
from .effects import simulate_effects
from .weights import SpatialWeights, as_spatial_weights

__all__ = ["SpatialPanelResult", "spatial_panel", "prepare_spatial_panel", "SpatialPanelData",
           "MODELS", "EFFECTS"]

MODELS = ("sdm", "sar", "sem", "sdem", "sac")
EFFECTS = ("twoways", "entity", "time")
_FE_LABEL = {"entity": "individual (spatial) fixed effects", "time": "time-period fixed effects",
             "twoways": "two-way (spatial and time-period) fixed effects"}


# ---------------------------------------------------------------------------------------------
# data preparation
# ---------------------------------------------------------------------------------------------

@dataclass
class SpatialPanelData:
    """A balanced panel aligned with W: arrays shaped (T, N[, k]), units in ``w.ids`` order."""

    y: np.ndarray          # (T, N)
    X: np.ndarray          # (T, N, k)
    x_names: list
    y_name: str
    w: SpatialWeights
    periods: list
    entity: str
    time: str
    n_input: int

    @property
    def N(self) -> int:
        return self.y.shape[1]

    @property
    def T(self) -> int:
        return self.y.shape[0]

    def lag(self, arr: np.ndarray) -> np.ndarray:
        """Spatial lag per period of an array shaped (T, N) or (T, N, k)."""
        Wm = self.w.sparse
        if arr.ndim == 2:
            return (Wm @ arr.T).T
        T, N, k = arr.shape
        flat = arr.transpose(1, 0, 2).reshape(N, T * k)
        return (Wm @ flat).reshape(N, T, k).transpose(1, 0, 2)

    def fe(self, effects: str) -> FixedEffects:
        ent = np.tile(np.arange(self.N), self.T)
        per = np.repeat(np.arange(self.T), self.N)
        cols = {"entity": {"entity": ent}, "time": {"time": per},
                "twoways": {"entity": ent, "time": per}}[effects]
        return FixedEffects(pd.DataFrame(cols))




def prepare_spatial_panel(data: pd.DataFrame, y: str, x: Sequence[str], w, *, entity: str = "county",
                          time: str = "year") -> SpatialPanelData:
    """Check a long panel against W and return it as balanced (T, N) arrays in W's unit order.

    Raises
    ------
    ColumnError, NonNumericError, MissingValueError, DuplicateKeyError, UnbalancedPanelError,
    WeightsMatrixError
        Each names the column, the rows or units, and the fix.

    Examples
    --------
    The rows of a long panel, in any order, become (T, N) arrays in W's unit order:

    >>> import numpy as np, pandas as pd
    >>> from analysis.spatial import prepare_spatial_panel, weights_from_matrix
    >>> r, c = np.divmod(np.arange(16), 4)  # a 4 x 4 lattice with rook neighbours
    >>> A = (np.abs(r[:, None] - r) + np.abs(c[:, None] - c) == 1).astype(float)
    >>> ids = [f"c{i:02d}" for i in range(16)]
    >>> w = weights_from_matrix(A, ids)
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(10, 16))  # 10 years x 16 counties
    >>> fe = rng.normal(size=16) + rng.normal(size=(10, 1))  # county and year effects
    >>> y = np.linalg.solve(np.eye(16) - 0.4 * w.full(), (x + fe + rng.normal(scale=0.1, size=(10, 16))).T).T
    >>> panel = pd.DataFrame({"county": ids * 10, "year": np.repeat(np.arange(2011, 2021), 16),
    ...                       "x": x.ravel(), "y": y.ravel()})
    >>> pdata = prepare_spatial_panel(panel.sample(frac=1, random_state=0), "y", ["x"], w)
    >>> pdata.y.shape, pdata.X.shape, pdata.periods[:2]
    ((10, 16), (10, 16, 1), [2011, 2012])
    >>> bool(np.allclose(pdata.y, y)), bool(np.allclose(pdata.X[:, :, 0], x))
    (True, True)
    """
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError("data must be a pandas DataFrame (long panel, one row per unit-period).")
    x = as_list(x)
    need = [entity, time, y, *x]
    missing = [c for c in need if c not in data.columns]
    if missing:
        raise ColumnError(f"columns {missing} are not in the data; available: {list(data.columns)[:20]}.")
    if len(set(x)) != len(x) or y in x:
        raise SpecificationError(f"regressors {x} repeat a name or include the outcome {y!r}.")
    w = as_spatial_weights(w)
    frame = data[need].copy()
    frame[entity] = frame[entity].astype(str)
    for c in [y, *x]:
        if not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]):
            conv = pd.to_numeric(frame[c], errors="coerce") if not pd.api.types.is_bool_dtype(frame[c]) \
                else frame[c].astype(float)
            bad = conv.isna() & frame[c].notna()
            if bad.any():
                raise NonNumericError(f"column {c!r} has non-numeric values in {describe_rows(frame.index[bad])}; "
                                      "convert them to numbers.")
            frame[c] = conv
    nan = frame[[y, *x]].isna()
    if nan.any().any():
        cols = nan.columns[nan.any()].tolist()
        rows = frame.index[nan.any(axis=1)]
        raise MissingValueError(
            f"missing values in {cols} ({describe_rows(rows)}). Spatial panel ML needs a balanced panel "
            "with complete data, so rows cannot be dropped one by one: impute these cells or drop the "
            "affected units entirely (and rebuild W on the remaining units).")
    check_unique_keys(frame, entity, time)
    w.check_ids(frame[entity].unique(), what=f"the panel's {entity!r} units")
    periods = sorted(frame[time].unique().tolist())
    counts = frame.groupby(entity)[time].size()
    short = counts[counts != len(periods)]
    if len(short):
        raise UnbalancedPanelError(
            f"the panel is unbalanced: {len(short)} units lack some of the {len(periods)} periods "
            f"({describe_rows(short.index)}). Spatial panel ML needs every unit in every period: "
            "restrict to the common periods, impute, or drop those units and rebuild W.")
    pos = {u: i for i, u in enumerate(w.ids)}
    tpos = {t: i for i, t in enumerate(periods)}
    ii = frame[entity].map(pos).to_numpy()
    tt = frame[time].map(tpos).to_numpy()
    T, N, k = len(periods), w.n, len(x)
    Y = np.empty((T, N))
    Y[tt, ii] = frame[y].to_numpy(float)
    X = np.empty((T, N, k))
    if k:
        X[tt, ii, :] = frame[x].to_numpy(float)
    return SpatialPanelData(y=Y, X=X, x_names=x, y_name=y, w=w, periods=periods, entity=entity, time=time,
                            n_input=len(data))


# ---------------------------------------------------------------------------------------------
# result
# ---------------------------------------------------------------------------------------------

@dataclass(repr=False)
class SpatialPanelResult(EstimationResult):
    """Result of :func:`spatial_panel`. Adds ``effects`` (LeSage-Pace table), ``loglik``, ``rho``
    (or ``lambda_``), ``sigma2``, and ``extra`` with the uncorrected estimates and draw info.
    """

    effects: pd.DataFrame | None = None
    loglik: float = float("nan")
    spatial_param: str = "rho"

    @property
    def rho(self) -> float:
        return float(self.params[self.spatial_param])

    @property
    def sigma2(self) -> float:
        return float(self.params["sigma2"])

    def effects_wide(self) -> pd.DataFrame:
        """Effects as variable x (direct, indirect, total) estimates with SEs."""
        if self.effects is None:
            return pd.DataFrame()
        e = self.effects
        est = e.pivot(index="variable", columns="effect", values="estimate")
        se = e.pivot(index="variable", columns="effect", values="std_error").add_suffix("_se")
        order = list(dict.fromkeys(e["variable"]))
        out = pd.concat([est, se], axis=1).reindex(order)
        return out[["direct", "direct_se", "indirect", "indirect_se", "total", "total_se"]]

    def summary(self) -> str:
        text = super().summary()
        if self.effects is not None and len(self.effects):
            text += "\n\nLeSage-Pace effects (SEs from parameter draws):\n"
            text += self.effects_wide().to_string(float_format=lambda v: f"{v:.6g}")
        return text


# ---------------------------------------------------------------------------------------------
# likelihood pieces
# ---------------------------------------------------------------------------------------------

def _logdet(rho: float, ev: np.ndarray) -> float:
    return float(np.sum(np.log(np.abs(1.0 - rho * ev))))


def _tr_terms(rho: float, ev: np.ndarray) -> tuple[float, float]:
    """tr(G), tr(GG) with G = W (I - rho W)^-1."""
    g = ev / (1.0 - rho * ev)
    return float(np.real(np.sum(g))), float(np.real(np.sum(g * g)))


def _tr_gtg(rho: float, w: SpatialWeights) -> float:
    """tr(G'G) = ||G||_F^2, G = W (I - rho W)^-1 (see :meth:`SpatialWeights.trace_gtg`)."""
    return w.trace_gtg(rho)


def _apply_G(rho: float, w: SpatialWeights, v: np.ndarray) -> np.ndarray:
    """G v per period for v shaped (T, N): W (I - rho W)^-1 v_t."""
    from scipy.sparse.linalg import splu

    A = sparse.csc_matrix(sparse.identity(w.n) - rho * w.sparse)
    lu = splu(A)
    sol = lu.solve(np.ascontiguousarray(v.T))
    return (w.sparse @ sol).T


def _bounds(w: SpatialWeights, eps: float = 1e-7) -> tuple[float, float]:
    lo, hi = w.rho_bounds()
    lo = max(lo, -1e3) + eps if np.isfinite(lo) else -1.0 + eps
    return lo, hi - eps


# ---------------------------------------------------------------------------------------------
# core estimators on demeaned arrays
# ---------------------------------------------------------------------------------------------

def _fit_lag(yd, yld, Z, ev, n_obs, t_mult, bounds, tol):
    """Concentrated ML for SAR/SDM. yd, yld: (NT,), Z: (NT, p) demeaned. Returns rho, beta, sigma2, ll."""
    ZZ = Z.T @ Z
    b0 = np.linalg.solve(ZZ, Z.T @ yd) if Z.shape[1] else np.zeros(0)
    b1 = np.linalg.solve(ZZ, Z.T @ yld) if Z.shape[1] else np.zeros(0)
    e0 = yd - Z @ b0
    e1 = yld - Z @ b1
    s00, s01, s11 = e0 @ e0, e0 @ e1, e1 @ e1

    def negll(r):
        ssr = s00 - 2 * r * s01 + r * r * s11
        return 0.5 * n_obs * np.log(2 * np.pi * ssr / n_obs) + 0.5 * n_obs - t_mult * _logdet(r, ev)

    res = minimize_scalar(negll, bounds=bounds, method="bounded", options={"xatol": tol, "maxiter": 1000})
    rho = float(res.x)
    beta = b0 - rho * b1
    ssr = s00 - 2 * rho * s01 + rho * rho * s11
    return rho, beta, float(ssr), float(-res.fun)


def _fit_err(yd, yld, Z, ZL, ev, n_obs, t_mult, bounds, tol):
    """Profile ML for SEM. Returns lambda, beta, ssr, ll."""
    ZZ, ZZL, ZLZL = Z.T @ Z, Z.T @ ZL, ZL.T @ ZL
    Zy, ZyL, ZLy, ZLyL = Z.T @ yd, Z.T @ yld, ZL.T @ yd, ZL.T @ yld
    yy, yyl, ylyl = yd @ yd, yd @ yld, yld @ yld

    def parts(lam):
        A = ZZ - lam * (ZZL + ZZL.T) + lam * lam * ZLZL
        c = Zy - lam * (ZyL + ZLy) + lam * lam * ZLyL
        beta = np.linalg.solve(A, c)
        ss = yy - 2 * lam * yyl + lam * lam * ylyl
        ssr = ss - c @ beta
        return beta, ssr

    def negll(lam):
        _, ssr = parts(lam)
        return 0.5 * n_obs * np.log(2 * np.pi * ssr / n_obs) + 0.5 * n_obs - t_mult * _logdet(lam, ev)

    res = minimize_scalar(negll, bounds=bounds, method="bounded", options={"xatol": tol, "maxiter": 1000})
    lam = float(res.x)
    beta, ssr = parts(lam)
    # recompute ssr directly for accuracy
    e = (yd - lam * yld) - (Z - lam * ZL) @ beta
    return lam, beta, float(e @ e), float(-res.fun)


def _info_lag(Z, beta, rho, sigma2, w, ev, n_obs, t_mult, T, N, kind="eim", yd=None, yld=None):
    """Information matrix of (beta, rho, sigma2) for SAR/SDM (expected or observed)."""
    p = Z.shape[1]
    I = np.zeros((p + 2, p + 2))
    trG, trGG = _tr_terms(rho, ev)
    if kind == "eim":
        xb = (Z @ beta).reshape(T, N)
        eta = _apply_G(rho, w, xb).reshape(-1)
        trGtG = _tr_gtg(rho, w)
        I[:p, :p] = Z.T @ Z / sigma2
        I[:p, p] = I[p, :p] = Z.T @ eta / sigma2
        I[p, p] = eta @ eta / sigma2 + t_mult * (trGG + trGtG)
        I[p, p + 1] = I[p + 1, p] = t_mult * trG / sigma2
        I[p + 1, p + 1] = n_obs / (2 * sigma2 ** 2)
    else:  # observed information = -Hessian of the full log-likelihood
        e = yd - rho * yld - Z @ beta
        I[:p, :p] = Z.T @ Z / sigma2
        I[:p, p] = I[p, :p] = Z.T @ yld / sigma2
        I[p, p] = yld @ yld / sigma2 + t_mult * trGG
        I[:p, p + 1] = I[p + 1, :p] = Z.T @ e / sigma2 ** 2
        I[p, p + 1] = I[p + 1, p] = yld @ e / sigma2 ** 2
        I[p + 1, p + 1] = -n_obs / (2 * sigma2 ** 2) + (e @ e) / sigma2 ** 3
    return I


def _info_err(Z, ZL, yd, yld, beta, lam, sigma2, w, ev, n_obs, t_mult, kind="eim"):
    """Information matrix of (beta, lambda, sigma2) for SEM."""
    p = Z.shape[1]
    I = np.zeros((p + 2, p + 2))
    trG, trGG = _tr_terms(lam, ev)
    Zs = Z - lam * ZL
    if kind == "eim":
        trGtG = _tr_gtg(lam, w)
        I[:p, :p] = Zs.T @ Zs / sigma2
        I[p, p] = t_mult * (trGG + trGtG)
        I[p, p + 1] = I[p + 1, p] = t_mult * trG / sigma2
        I[p + 1, p + 1] = n_obs / (2 * sigma2 ** 2)
    else:
        e = (yd - lam * yld) - Zs @ beta
        uL = yld - ZL @ beta
        I[:p, :p] = Zs.T @ Zs / sigma2
        I[:p, p] = I[p, :p] = (ZL.T @ e + Zs.T @ uL) / sigma2
        I[p, p] = uL @ uL / sigma2 + t_mult * trGG
        I[:p, p + 1] = I[p + 1, :p] = Zs.T @ e / sigma2 ** 2
        I[p, p + 1] = I[p + 1, p] = uL @ e / sigma2 ** 2
        I[p + 1, p + 1] = -n_obs / (2 * sigma2 ** 2) + (e @ e) / sigma2 ** 3
    return I


def _twoway_transform_fit(yd, yld, Z, ZL, ev, N, T, bounds, tol, model):
    """Lee-Yu (2010) two-way transformation approach: effective (N-1)(T-1) observations and
    (T-1)[sum ln(1 - rho w) - ln(1 - rho)] (row-standardised W).
    """
    n_eff = (N - 1) * (T - 1)
    ev_t = np.asarray(ev)
    # remove one unit eigenvalue (the iota direction is projected out)
    k1 = int(np.argmin(np.abs(ev_t - 1.0)))
    ev_red = np.delete(ev_t, k1)
    if model == "sem":
        return _fit_err(yd, yld, Z, ZL, ev_red, n_eff, T - 1, bounds, tol), n_eff, ev_red
    return _fit_lag(yd, yld, Z, ev_red, n_eff, T - 1, bounds, tol), n_eff, ev_red


# ---------------------------------------------------------------------------------------------
# public entry point
# ---------------------------------------------------------------------------------------------

@renamed_kwargs(x="controls")
def spatial_panel(data: pd.DataFrame, y: str, controls: Sequence[str], w, model: str = "sdm",
                  effects: str = "twoways", lee_yu: bool = True, n_draws: int = 1000, seed=None, *,
                  entity: str = "county", time: str = "year", durbin: Sequence[str] | None = None,
                  vcov: str = "eim", lee_yu_method: str | None = None, point: str = "plugin",
                  clip_draws: bool = False, tol: float = 1e-10, compute_effects: bool = True) -> SpatialPanelResult:
    """Fixed-effects spatial panel model (SAR, SDM, SEM, SDEM or SAC) by maximum likelihood.

    Parameters
    ----------
    data
        Long balanced panel, one row per unit and period, no missing values in ``y`` and ``controls``.
    y, controls
        Outcome and regressors (no constant: the fixed effects absorb it). ``controls`` is the one
        name for explanatory variables across the library; the old keyword ``x=`` is deprecated.
    w
        :class:`~analysis.spatial.weights.SpatialWeights` (or libpysal ``W``) whose ids are exactly
        the panel's units; row-standardised.
    model
        ``"sdm"`` (spatial Durbin: W y and W x), ``"sar"`` (W y), ``"sem"`` (spatial error),
        ``"sdem"`` (spatial Durbin error: W x and W u) or ``"sac"`` (W y and W u; see
        :mod:`analysis.spatial.sac_panel`).
    effects
        ``"twoways"``, ``"entity"`` or ``"time"`` fixed effects.
    lee_yu
        Apply the Lee and Yu (2010) correction (see the module docstring for what it does under each
        ``effects``). ``lee_yu_method``: ``"transformation"`` (default for entity; xsmle) or
        ``"elhorst"`` (default for twoways and time; Elhorst's MATLAB code).
    n_draws, seed
        Parameter draws for the SEs of the direct/indirect/total effects (SAR and SDM); ``seed``
        makes them reproducible. ``n_draws=0`` skips the effects.
    durbin
        Regressors that enter as W x in the SDM (default: all of ``controls``).
    vcov
        ``"eim"`` (expected information; Elhorst, spreg) or ``"oim"`` (observed information;
        xsmle's default ``vce(oim)``).
    point
        Effects point estimate: ``"plugin"`` (at the estimates) or ``"simmean"`` (mean of draws).

    Returns
    -------
    SpatialPanelResult
        ``params``/``std_errors``/``cov`` over (x..., W*x..., rho|lambda, sigma2); ``effects`` table;
        ``loglik``; ``stats`` (N, T, n_obs, loglik, aic, bic); ``extra["uncorrected"]`` (direct
        ML before Lee-Yu); ``rows``.

    Examples
    --------
    A spatial lag panel (SAR, rho = 0.4, beta = 1, two-way effects) on a 4 x 4 rook lattice, 10 years:

    >>> import numpy as np, pandas as pd
    >>> from analysis.spatial import spatial_panel, weights_from_matrix
    >>> r, c = np.divmod(np.arange(16), 4)  # a 4 x 4 lattice with rook neighbours
    >>> A = (np.abs(r[:, None] - r) + np.abs(c[:, None] - c) == 1).astype(float)
    >>> ids = [f"c{i:02d}" for i in range(16)]
    >>> w = weights_from_matrix(A, ids)
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(10, 16))  # 10 years x 16 counties
    >>> fe = rng.normal(size=16) + rng.normal(size=(10, 1))  # county and year effects
    >>> y = np.linalg.solve(np.eye(16) - 0.4 * w.full(), (x + fe + rng.normal(scale=0.1, size=(10, 16))).T).T
    >>> panel = pd.DataFrame({"county": ids * 10, "year": np.repeat(np.arange(2011, 2021), 16),
    ...                       "x": x.ravel(), "y": y.ravel()})
    >>> res = spatial_panel(panel, "y", ["x"], w, model="sar", n_draws=100, seed=0)
    >>> round(float(res.params["x"]), 2), round(res.rho, 2)
    (0.99, 0.4)

    The LeSage-Pace effects (true total effect 1 / (1 - 0.4) = 1.67), SEs from 100 draws:

    >>> res.effects_wide()[["direct", "indirect", "total"]].round(2).values.tolist()
    [[1.05, 0.59, 1.64]]
    """
    check_choice("model", model, MODELS)
    check_choice("effects", effects, EFFECTS)
    check_choice("vcov", vcov, ("eim", "oim"))
    check_choice("point", point, ("plugin", "simmean"))
    if lee_yu_method is None:
        lee_yu_method = "transformation" if effects == "entity" else "elhorst"
    check_choice("lee_yu_method", lee_yu_method, ("elhorst", "transformation"))
    x = as_list(controls)
    if not x:
        raise SpecificationError("spatial_panel needs at least one regressor in x.")
    durbin = list(x) if durbin is None else as_list(durbin)
    if model != "sdm":
        durbin = []
    unknown = [d for d in durbin if d not in x]
    if unknown:
        raise SpecificationError(f"durbin variables {unknown} are not among the regressors {x}.")
    _check_spatial_inputs(data, y, x, w)
    pdata = prepare_spatial_panel(data, y, x, w, entity=entity, time=time)
    return _estimate(pdata, model, effects, lee_yu, lee_yu_method, durbin, vcov, n_draws, seed, point,
                     clip_draws, tol, compute_effects)


def _check_spatial_inputs(data, y, x, w) -> None:
    """Clear errors for inputs that would otherwise crash deep in the likelihood: NaN weights,
    infinite values, a constant outcome or regressor.
    """
    from ..errors import ConstantColumnError, NonNumericError, describe_rows
    from ._checks import check_finite_weights
    from .weights import SpatialWeights, as_spatial_weights

    if isinstance(w, SpatialWeights) or hasattr(w, "id_order") or isinstance(w, tuple):
        check_finite_weights(as_spatial_weights(w))
    if not isinstance(data, pd.DataFrame):
        return
    for c in [y, *x]:
        if c not in data.columns:
            continue  # prepare_spatial_panel names the missing column
        v = pd.to_numeric(data[c], errors="coerce")
        inf = np.isinf(v.to_numpy(dtype=float, na_value=np.nan))
        if inf.any():
            raise NonNumericError(
                f"column {c!r} has infinite values in {describe_rows(data.index[inf])} (a log of zero, or a "
                "division by zero?); replace them by a finite value or drop those units.")
        fin = v[np.isfinite(v.to_numpy(dtype=float, na_value=np.nan))]
        if len(fin) and np.ptp(fin.to_numpy(dtype=float)) == 0:
            role = "the outcome" if c == y else "a regressor"
            raise ConstantColumnError(
                f"column {c!r} ({role}) is constant ({fin.iloc[0].item()!r} in every non-missing row); a spatial panel model "
                "cannot estimate anything from it. Check the column, or drop it.")


def _estimate(pdata: SpatialPanelData, model, effects, lee_yu, lee_yu_method, durbin, vcov, n_draws, seed,
              point, clip_draws, tol, compute_effects) -> SpatialPanelResult:
    """Fit a prepared spatial panel (SAR/SDM/SEM) by ML and assemble the result.

    Long because the likelihood fit, the information-matrix covariance, the Lee-Yu correction and the
    effects share the transformed arrays; split, each piece would take a dozen of them as arguments.
    """
    w = pdata.w
    T, N = pdata.T, pdata.N
    ev = w.eigenvalues()
    bounds = _bounds(w)
    x = pdata.x_names
    fe = pdata.fe(effects)
    if model == "sac":
        return _estimate_sac(pdata, effects, lee_yu, n_draws, seed, point, clip_draws, tol, compute_effects)
    if model == "sdem":  # the SEM likelihood on [X, WX]
        durbin = list(x)
    # lags from raw data, then demean everything once
    yl = pdata.lag(pdata.y)
    XL = pdata.lag(pdata.X)
    didx = [x.index(d) for d in durbin]
    Xfull = np.concatenate([pdata.X, XL[:, :, didx]], axis=2) if didx else pdata.X
    names = list(x) + [f"W*{d}" for d in durbin]
    raw = np.column_stack([pdata.y.reshape(-1), yl.reshape(-1), Xfull.reshape(T * N, -1)])
    dm = fe.demean(raw)
    yd, yld, Z = dm[:, 0], dm[:, 1], dm[:, 2:]
    ZL = None
    if model == "sem":
        ZL = fe.demean(XL.reshape(T * N, -1))
    elif model == "sdem":  # W applied to [X, WX]
        ZL = fe.demean(pdata.lag(Xfull).reshape(T * N, -1))
    err_model = model in ("sem", "sdem")
    nt = N * T
    sp_name = "lambda" if err_model else "rho"
    p = Z.shape[1]
    rank = np.linalg.matrix_rank(Z)
    if rank < p:
        raise SpecificationError(
            f"the regressors {names} are collinear after removing the {effects} fixed effects (rank {rank} "
            f"< {p}); drop variables that do not vary within units/periods.")

    # ---- direct ML (always computed; it is the uncorrected estimate)
    if err_model:
        sp, beta, ssr, _ = _fit_err(yd, yld, Z, ZL, ev, nt, T, bounds, tol)
    else:
        sp, beta, ssr, _ = _fit_lag(yd, yld, Z, ev, nt, T, bounds, tol)
    sigma2 = ssr / nt
    uncorrected = pd.Series(np.r_[beta, sp, sigma2], index=names + [sp_name, "sigma2"])

    def info(beta_, sp_, s2_, n_obs, t_mult, kind, ev_=ev):
        if err_model:
            return _info_err(Z, ZL, yd, yld, beta_, sp_, s2_, w, ev_, n_obs, t_mult, kind)
        return _info_lag(Z, beta_, sp_, s2_, w, ev_, n_obs, t_mult, T, N, kind, yd, yld)

    n_obs, t_mult = nt, T
    note = "direct ML (no bias correction)"
    if lee_yu and effects == "entity":
        if lee_yu_method == "transformation":
            n_obs, t_mult = N * (T - 1), T - 1
            sigma2 = ssr / n_obs
            note = "Lee-Yu (2010) transformation approach: N(T-1) obs, sigma2 = SSR/(N(T-1)) (xsmle type(ind, leeyu))"
        else:
            sigma2 = ssr / nt * T / (T - 1)
            note = "Lee-Yu (2010) sigma2 x T/(T-1), information with NT and T (Elhorst sar_panel_FE model=1 bc=1)"
    elif lee_yu and effects == "time":
        sigma2 = ssr / nt * N / (N - 1)
        note = "Lee-Yu (2010) sigma2 x N/(N-1) (Elhorst model=2 bc=1)"
    elif lee_yu and effects == "twoways":
        if lee_yu_method == "elhorst":
            I0 = info(beta, sp, sigma2, nt, T, "eim")
            corr = np.linalg.solve(I0 / nt, np.r_[np.zeros(p), 1.0 / (1.0 - sp), 1.0 / (2.0 * sigma2)]) / N
            phi = np.r_[beta, sp, sigma2] + corr
            beta, sp = phi[:p], float(phi[p])
            sigma2 = T / (T - 1) * float(phi[p + 1])
            note = ("Lee-Yu (2010) two-way analytic correction as in Elhorst sar_panel_FE/sem_panel_FE "
                    "(model=3, bc=1)")
        else:
            (sp, beta, ssr_t, _), n_obs, ev_red = _twoway_transform_fit(yd, yld, Z, ZL, ev, N, T, bounds, tol,
                                                                        "sem" if err_model else model)
            sigma2 = ssr_t / n_obs
            t_mult = T - 1
            note = "Lee-Yu (2010) two-way transformation approach, (N-1)(T-1) obs"
    # log-likelihood at the reported estimates (on the likelihood's own n_obs / t_mult)
    if err_model:
        e = (yd - sp * yld) - (Z - sp * ZL) @ beta
    else:
        e = yd - sp * yld - Z @ beta
    ssr_rep = float(e @ e)
    if lee_yu and effects == "twoways" and lee_yu_method == "transformation":
        ll_ev = np.delete(np.asarray(ev), int(np.argmin(np.abs(np.asarray(ev) - 1.0))))
    else:
        ll_ev = ev
    loglik = (-0.5 * n_obs * np.log(2 * np.pi * sigma2) - ssr_rep / (2 * sigma2) + t_mult * _logdet(sp, ll_ev))

    I = info(beta, sp, sigma2, n_obs, t_mult, vcov, ll_ev)
    V = np.linalg.inv(I)
    terms = names + [sp_name, "sigma2"]
    params = pd.Series(np.r_[beta, sp, sigma2], index=terms)
    cov = pd.DataFrame(V, index=terms, columns=terms)
    se = pd.Series(np.sqrt(np.clip(np.diag(V), 0, None)), index=terms)

    effects_table, draw_info = None, {}
    if compute_effects and model in ("sar", "sdm") and n_draws and n_draws > 0:
        theta_names = [f"W*{v}" if v in durbin else None for v in x] if model == "sdm" else None
        effects_table, draw_info = simulate_effects(
            params, cov, x, ev, rho_name="rho", theta_names=theta_names, n_draws=n_draws, seed=seed,
            point=point, clip=clip_draws, rho_bounds=w.rho_bounds())
    elif model == "sem":
        rows = []
        for v in x:
            b, s = float(params[v]), float(se[v])
            rows += [{"variable": v, "effect": "direct", "estimate": b, "std_error": s},
                     {"variable": v, "effect": "indirect", "estimate": 0.0, "std_error": 0.0},
                     {"variable": v, "effect": "total", "estimate": b, "std_error": s}]
        effects_table = pd.DataFrame(rows)
    elif model == "sdem":  # local spillovers: linear in (beta, theta), exact delta-method SEs
        rows = []
        for v in x:
            b, t = float(params[v]), float(params[f"W*{v}"])
            vb, vt, cbt = V[terms.index(v), terms.index(v)], V[terms.index(f"W*{v}"), terms.index(f"W*{v}")], \
                V[terms.index(v), terms.index(f"W*{v}")]
            rows += [{"variable": v, "effect": "direct", "estimate": b, "std_error": float(np.sqrt(vb))},
                     {"variable": v, "effect": "indirect", "estimate": t, "std_error": float(np.sqrt(vt))},
                     {"variable": v, "effect": "total", "estimate": b + t,
                      "std_error": float(np.sqrt(vb + vt + 2 * cbt))}]
        effects_table = pd.DataFrame(rows)

    k_par = len(terms)
    n_rows = N * T
    stats_ = {"N": N, "T": T, "n_obs": n_obs, "loglik": float(loglik), "aic": float(-2 * loglik + 2 * k_par),
              "bic": float(-2 * loglik + np.log(n_obs) * k_par), sp_name: float(sp), "sigma2": float(sigma2)}
    # fit: squared correlation between demeaned y and the reduced-form prediction
    settings = {
        "model": model.upper(), "fixed effects": _FE_LABEL[effects], "lee_yu": bool(lee_yu),
        "correction": note, "vcov": "inverse expected information (Elhorst)" if vcov == "eim"
        else "inverse observed information (xsmle vce(oim))",
        "W": f"{w.kind} (n={w.n}, islands attached={w.n_islands_attached}, row-standardised)",
        "log-determinant": "eigenvalues of W" + (" (symmetric similar form, eigvalsh)" if w.is_symmetric_similar else ""),
        "effects draws": f"{draw_info.get('n_draws', 0)} (seed={seed}, point={point})" if draw_info else "none",
        "durbin": durbin,
    }
    res = SpatialPanelResult(
        params=params, std_errors=se, model=f"Spatial panel {model.upper()} ({_FE_LABEL[effects]})",
        df_resid=None, statistic_name="z", rows=RowReport(pdata.n_input, n_rows, {}), settings=settings,
        reference=("Elhorst (2014) ch. 3; Lee and Yu (2010); LeSage and Pace (2009) effects; "
                   "matches spreg.Panel_FE_Lag/Error (entity FE, no correction), xsmle / splm spml(model='within')"),
        stats=stats_, cov=cov, extra={"uncorrected": uncorrected, "draws": draw_info, "y": pdata.y_name,
                                      "x": x, "durbin": durbin, "periods": pdata.periods, "ids": w.ids,
                                      "residuals": e.reshape(T, N)},
        effects=effects_table, loglik=float(loglik), spatial_param=sp_name,
        outcome=pdata.y_name, fixed_effects={"entity": (pdata.entity,), "time": (pdata.time,),
                                             "twoways": (pdata.entity, pdata.time)}[effects],
        vcov_type="iid", seed=seed if isinstance(seed, (int, np.integer)) else None)
    return res


def _estimate_sac(pdata, effects, lee_yu, n_draws, seed, point, clip_draws, tol, compute_effects):
    """SAC branch of :func:`spatial_panel` (see :mod:`analysis.spatial.sac_panel`)."""
    from .sac_panel import fit_sac

    if lee_yu:
        raise SpecificationError(
            "no Lee-Yu (2010) bias correction is available for the SAC panel (neither Elhorst's code nor "
            "xsmle offers one); pass lee_yu=False to fit the uncorrected ML model.")
    w = pdata.w
    T, N = pdata.T, pdata.N
    ev = w.eigenvalues()
    x = pdata.x_names
    fe = pdata.fe(effects)
    yl = pdata.lag(pdata.y)
    yll = pdata.lag(yl)
    XL = pdata.lag(pdata.X)
    raw = np.column_stack([pdata.y.reshape(-1), yl.reshape(-1), yll.reshape(-1), pdata.X.reshape(T * N, -1),
                           XL.reshape(T * N, -1)])
    dm = fe.demean(raw)
    k = len(x)
    yd, yld, ylld, Z, ZL = dm[:, 0], dm[:, 1], dm[:, 2], dm[:, 3:3 + k], dm[:, 3 + k:]
    if np.linalg.matrix_rank(Z) < k:
        raise SpecificationError(f"the regressors {x} are collinear after removing the {effects} fixed effects.")
    beta, rho, lam, s2, ll, V = fit_sac(yd, yld, ylld, Z, ZL, ev, T, _bounds(w), tol)
    terms = list(x) + ["rho", "lambda", "sigma2"]
    params = pd.Series(np.r_[beta, rho, lam, s2], index=terms)
    cov = pd.DataFrame(V, index=terms, columns=terms)
    se = pd.Series(np.sqrt(np.clip(np.diag(V), 0, None)), index=terms)
    effects_table, draw_info = None, {}
    if compute_effects and n_draws and n_draws > 0:
        effects_table, draw_info = simulate_effects(params, cov, x, ev, rho_name="rho", theta_names=None,
                                                    n_draws=n_draws, seed=seed, point=point, clip=clip_draws,
                                                    rho_bounds=w.rho_bounds())
    nt = N * T
    e = (yd - rho * yld) - lam * (yld - rho * ylld) - (Z - lam * ZL) @ beta
    k_par = len(terms)
    stats_ = {"N": N, "T": T, "n_obs": nt, "loglik": ll, "aic": -2 * ll + 2 * k_par,
              "bic": -2 * ll + np.log(nt) * k_par, "rho": rho, "lambda": lam, "sigma2": s2}
    settings = {"model": "SAC", "fixed effects": _FE_LABEL[effects], "lee_yu": False,
                "correction": "direct ML (no bias correction available for SAC)",
                "vcov": "inverse numerical observed information (xsmle vce(oim))",
                "W": f"{w.kind} (n={w.n}, islands attached={w.n_islands_attached}, row-standardised; also the error W)",
                "effects draws": f"{draw_info.get('n_draws', 0)} (seed={seed}, point={point})" if draw_info else "none",
                "durbin": []}
    return SpatialPanelResult(
        params=params, std_errors=se, model=f"Spatial panel SAC ({_FE_LABEL[effects]})", df_resid=None,
        statistic_name="z", rows=RowReport(pdata.n_input, nt, {}), settings=settings,
        reference="Elhorst (2014) ch. 3; xsmle model(sac) (Belotti et al. 2017); LeSage and Pace (2009) effects",
        stats=stats_, cov=cov, extra={"draws": draw_info, "y": pdata.y_name, "x": x, "durbin": [],
                                      "periods": pdata.periods, "ids": w.ids, "residuals": e.reshape(T, N)},
        effects=effects_table, loglik=ll, spatial_param="rho",
        outcome=pdata.y_name, fixed_effects={"entity": (pdata.entity,), "time": (pdata.time,),
                                             "twoways": (pdata.entity, pdata.time)}[effects],
        vcov_type="iid", seed=seed if isinstance(seed, (int, np.integer)) else None)
