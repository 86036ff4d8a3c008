"""Model choice for spatial panels: LM and robust LM tests on the non-spatial fixed-effects model,
and Wald / LR tests of the spatial Durbin model against SAR and SEM.

LM tests (Anselin 1988; Anselin, Bera, Florax and Yoon 1996; panel versions of Elhorst 2010/2014,
MATLAB ``LMsarsem_panel.m``), with e the residuals of OLS of the demeaned y on the demeaned X
(no spatial term), sigma2 = e'e/NT, trW = tr(W'W + WW), M = I - X(X'X)^-1X'::

    J       = [(W X b)' M (W X b) + T trW sigma2] / sigma2
    LM_lag  = (e'(I_T x W) y / sigma2)^2 / J
    LM_err  = (e'(I_T x W) e / sigma2)^2 / (T trW)
    RLM_lag = (e'Wy - e'We)^2 / (sigma2^2 (J - T trW))
    RLM_err = (e'We - (T trW / J) e'Wy)^2 / (sigma2^2 T trW (1 - T trW / J))

each chi2(1). With T=1 and pooled OLS with a constant these are spreg's ``LMtests``. Do not use
``spreg.diagnostics_panel.panel_LM*`` as a reference: they fit pooled OLS without FE.

SDM tests (Elhorst 2014 §3.5; xsmle + ``test`` / ``testnl``): H0 theta = 0 (SDM -> SAR) and H0
theta + rho beta = 0 (SDM -> SEM), Wald with the SDM covariance and LR with all three models fitted
on the same sample and fixed effects.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .._compat import renamed_kwargs
from ..errors import SpecificationError, check_choice
from ..results import FrameResult, RowReport
from ..validation import as_list
from .panel_models import EFFECTS, SpatialPanelResult, prepare_spatial_panel, spatial_panel

__all__ = ["lm_tests", "sdm_tests"]

LM_REFERENCE = ("Anselin, Bera, Florax and Yoon (1996), Regional Science and Urban Economics 26; panel form "
                "Elhorst (2014) Spatial Econometrics, section 3.3 (R splm / Stata xsmle lmtests)")
SDM_REFERENCE = "Elhorst (2014) Spatial Econometrics, section 3.5 (Stata xsmle + test / testnl)"


@renamed_kwargs(x="controls")
def lm_tests(data: pd.DataFrame, y: str, controls: Sequence[str], w, effects: str = "twoways", *,
             entity: str = "county", time: str = "year") -> FrameResult:
    """LM and robust LM tests for a spatial lag and a spatial error on the FE panel regression.

    Parameters
    ----------
    effects
        ``"twoways"``, ``"entity"``, ``"time"`` or ``"none"`` (pooled OLS with a constant).

    Returns
    -------
    FrameResult
        ``to_frame()``: one row per test (``test`` = ``LM_lag``, ``LM_error``, ``robust_LM_lag``,
        ``robust_LM_error``) with ``statistic``, ``df``, ``p_value``; ``.table`` is indexed by test.

    Examples
    --------
    A spatial lag panel (SAR, rho = 0.4, beta = 1, two-way effects) on a 4 x 4 rook lattice, 10 years: the LM
    tests for a spatial lag reject, the LM test for a spatial error does not:

    >>> import numpy as np, pandas as pd
    >>> from analysis.spatial import lm_tests, weights_from_matrix
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
    >>> lm = lm_tests(panel, "y", ["x"], w)
    >>> lm.to_frame()["test"].tolist()
    ['LM_lag', 'LM_error', 'robust_LM_lag', 'robust_LM_error']
    >>> lm.table.loc[["LM_lag", "robust_LM_lag", "LM_error"], "p_value"].round(3).tolist()
    [0.0, 0.0, 0.215]
    """
    check_choice("effects", effects, (*EFFECTS, "none"))
    x = as_list(controls)
    pdata = prepare_spatial_panel(data, y, x, w, entity=entity, time=time)
    T, N = pdata.T, pdata.N
    Y = pdata.y.reshape(-1)
    X = pdata.X.reshape(T * N, -1)
    if effects == "none":
        X = np.column_stack([np.ones(T * N), X])
        yd, Xd = Y - 0.0, X
    else:
        fe = pdata.fe(effects)
        dm = fe.demean(np.column_stack([Y, X]))
        yd, Xd = dm[:, 0], dm[:, 1:]
    b, *_ = np.linalg.lstsq(Xd, yd, rcond=None)
    e = yd - Xd @ b
    nt = N * T
    s2 = e @ e / nt
    Wm = pdata.w.sparse
    lag = lambda v: (Wm @ v.reshape(T, N).T).T.reshape(-1)  # noqa: E731
    ev = pdata.w.eigenvalues()
    trW = float(np.real(np.sum(ev ** 2))) + float(Wm.multiply(Wm).sum())  # tr(WW) + tr(W'W)
    wxb = lag(Xd @ b)
    proj = Xd @ np.linalg.lstsq(Xd, wxb, rcond=None)[0]
    mwxb = wxb - proj
    J = (wxb @ mwxb + T * trW * s2) / s2
    ewy = e @ lag(yd)
    ewe = e @ lag(e)
    ttr = T * trW
    lm_lag = (ewy / s2) ** 2 / J
    lm_err = (ewe / s2) ** 2 / ttr
    rlm_lag = (ewy - ewe) ** 2 / (s2 ** 2 * (J - ttr))
    rlm_err = (ewe - (ttr / J) * ewy) ** 2 / (s2 ** 2 * ttr * (1 - ttr / J))
    stat = pd.Series({"LM_lag": lm_lag, "LM_error": lm_err, "robust_LM_lag": rlm_lag, "robust_LM_error": rlm_err})
    out = pd.DataFrame({"statistic": stat.astype(float), "df": 1})
    out["p_value"] = stats.chi2.sf(out["statistic"], 1)
    out.index.name = "test"
    note = f"Elhorst panel LM tests on {effects} FE OLS residuals; sigma2 = e'e/NT; N={N}, T={T}"
    out.attrs["note"] = note
    return FrameResult(table=out, model="LM tests for spatial dependence", rows=RowReport(pdata.n_input, pdata.T * pdata.N),
                       reference=LM_REFERENCE, settings={"y": y, "controls": list(x), "effects": effects, "note": note})


@renamed_kwargs(x="controls")
def sdm_tests(data: pd.DataFrame | None = None, y: str | None = None, controls: Sequence[str] | None = None, w=None,
              effects: str = "twoways", lee_yu: bool = False, *, sdm: SpatialPanelResult | None = None,
              sar: SpatialPanelResult | None = None, sem: SpatialPanelResult | None = None,
              entity: str = "county", time: str = "year", vcov: str = "eim") -> FrameResult:
    """Wald and LR tests of the SDM against SAR (theta = 0) and SEM (theta + rho beta = 0).

    Either pass fitted ``sdm``/``sar``/``sem`` results (same data, FE and correction), or the data
    and model settings and all three are fitted here (no effect draws).

    Returns
    -------
    FrameResult
        ``to_frame()``: one row per test (``test`` = ``Wald SDM vs SAR``, ``LR SDM vs SAR``,
        ``Wald SDM vs SEM``, ``LR SDM vs SEM``) with ``statistic``, ``df``, ``p_value``; ``.table`` is
        indexed by test.

    Examples
    --------
    A spatial lag panel (SAR, rho = 0.4, beta = 1, two-way effects) on a 4 x 4 rook lattice, 10 years: the SDM
    does not improve on the SAR (theta = 0 is not rejected) but does on the SEM:

    >>> import numpy as np, pandas as pd
    >>> from analysis.spatial import sdm_tests, weights_from_matrix
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
    >>> tests = sdm_tests(panel, "y", ["x"], w)
    >>> tests.to_frame()[["test", "p_value"]].round(3).values.tolist()
    [['Wald SDM vs SAR', 0.45], ['LR SDM vs SAR', 0.489], ['Wald SDM vs SEM', 0.0], ['LR SDM vs SEM', 0.0]]
    """
    if sdm is None:
        x = controls
        if data is None or y is None or x is None or w is None:
            raise SpecificationError("sdm_tests needs either fitted results or data, y, controls and w.")
        kw = dict(effects=effects, lee_yu=lee_yu, n_draws=0, entity=entity, time=time, vcov=vcov,
                  compute_effects=False)
        sdm = spatial_panel(data, y, x, w, model="sdm", **kw)
        sar = spatial_panel(data, y, x, w, model="sar", **kw)
        sem = spatial_panel(data, y, x, w, model="sem", **kw)
    xs = [v for v in sdm.extra["x"] if v in sdm.extra["durbin"]]
    if not xs:
        raise SpecificationError("the SDM has no W x terms to test.")
    k = len(xs)
    bn, tn = xs, [f"W*{v}" for v in xs]
    V = sdm.cov
    th = sdm.params[tn].to_numpy()
    wald_sar = float(th @ np.linalg.solve(V.loc[tn, tn].to_numpy(), th))
    rho = sdm.rho
    be = sdm.params[bn].to_numpy()
    g = th + rho * be
    names = bn + tn + ["rho"]
    Jm = np.hstack([rho * np.eye(k), np.eye(k), be[:, None]])
    Vs = V.loc[names, names].to_numpy()
    wald_sem = float(g @ np.linalg.solve(Jm @ Vs @ Jm.T, g))
    rows = {"Wald SDM vs SAR": wald_sar, "Wald SDM vs SEM": wald_sem}
    if sar is not None:
        rows["LR SDM vs SAR"] = 2 * (sdm.loglik - sar.loglik)
    if sem is not None:
        rows["LR SDM vs SEM"] = 2 * (sdm.loglik - sem.loglik)
    order = [r for r in ("Wald SDM vs SAR", "LR SDM vs SAR", "Wald SDM vs SEM", "LR SDM vs SEM") if r in rows]
    out = pd.DataFrame({"statistic": [rows[r] for r in order], "df": k}, index=pd.Index(order, name="test"))
    out["p_value"] = stats.chi2.sf(out["statistic"], k)
    return FrameResult(table=out, model="Wald and LR tests: SDM against SAR and SEM", rows=sdm.rows,
                       reference=SDM_REFERENCE, settings={"tested": ", ".join(tn)})
