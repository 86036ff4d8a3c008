"""Hausman test of fixed versus random effects, classic and cluster-robust.

- ``classic``: Hausman (1978) as Stata ``hausman fe re`` and R ``plm::phtest`` report it (the form
  in Chinese papers: "Hausman 检验 chi2 = ..., p = ..."):
  H = (b_FE - b_RE)' [V_FE - V_RE]^- (b_FE - b_RE) ~ chi2(k), over the time-varying regressors of
  the formula, with the conventional (non-robust) covariances of the within estimator and the
  Swamy-Arora random-effects GLS estimator (linearmodels ``PanelOLS`` / ``RandomEffects``, which
  reproduce plm's ``within`` and ``random``). A generalized inverse is used if the difference is
  not positive definite, and the degrees of freedom are its rank (as Stata). When the statistic
  is negative or the difference has no positive eigenvalue (common in large panels), the row is
  flagged as not valid and a ``sigmamore`` row is added: both covariances use the RE disturbance
  variance (Stata ``hausman fe re, sigmamore``), which makes the difference positive semi-definite.
- ``robust``: the auxiliary-regression form that stays valid under heteroskedasticity and serial
  correlation (Arellano 1993; Wooldridge 2010, section 10.7.3; Stata ``xtoverid`` after
  ``xtreg, re vce(cluster)``): regress the RE quasi-demeaned outcome y - theta_i ybar_i on the
  quasi-demeaned regressors (with the quasi-demeaned constant) and the within deviations
  x - xbar_i, cluster by entity, and test that the coefficients of the deviations are zero. The
  statistic is the cluster-robust Wald chi2 without small-sample factor, as ``xtoverid``
  (Sargan-Hansen) reports it.
- ``mundlak``: Mundlak (1978) / Wooldridge (2010, eq. 10.94): pooled OLS of y on x and the entity
  means xbar_i, cluster-robust Wald test that the means' coefficients are zero (F with reghdfe's
  small-sample factor and chi2).

Rejecting H0 (small p) says the random-effects assumption fails: use fixed effects.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import SpecificationError, check_choice
from ..results import TidyResult
from ._sample import _bare_names, parse_formula, prepare_sample
from .fe import fe as _fe

__all__ = ["HausmanResult", "hausman", "HAUSMAN_METHODS"]

HAUSMAN_METHODS = ("classic", "robust", "mundlak")


@dataclass(repr=False)
class HausmanResult(TidyResult):
    """Result of :func:`hausman`.

    ``tests`` has one row per method: statistic, df, p_value, distribution, decision. ``coefficients``
    sets the within (FE) and Swamy-Arora RE estimates and their conventional SEs side by side, with
    the difference and sqrt(diag(V_FE - V_RE)); row ``(Intercept)`` is the RE constant.
    """

    tests: pd.DataFrame
    coefficients: pd.DataFrame

    @property
    def statistic(self) -> float:
        return float(self.tests.iloc[0]["statistic"])

    @property
    def p_value(self) -> float:
        return float(self.tests.iloc[0]["p_value"])

    def to_frame(self) -> pd.DataFrame:
        """Long form: one row per test method (method, statistic, df, p_value, distribution, decision)."""
        return self.tests.copy()

    def summary(self) -> str:
        text = super().summary()
        return text + "\n" + self.coefficients.to_string(float_format=lambda v: f"{v:.6g}")

    def __repr__(self) -> str:  # pragma: no cover
        return self.summary()


REFERENCE = (
    "Hausman (1978) Econometrica 46(6); Stata hausman / R plm::phtest (classic); Arellano (1993), "
    "Wooldridge (2010) Econometric Analysis of Cross Section and Panel Data 10.7.3, Stata xtoverid "
    "(robust); Mundlak (1978) Econometrica 46(1)."
)


def _decision(p: float, alpha: float) -> str:
    return ("reject RE: use fixed effects (拒绝随机效应, 选择固定效应模型)" if p < alpha
            else "do not reject RE (不能拒绝随机效应)")


def _classic_row(d: pd.Series, Vd: pd.DataFrame, varying: list, alpha: float, label: str) -> dict:
    Vd_np = Vd.to_numpy()
    eig = np.linalg.eigvalsh((Vd_np + Vd_np.T) / 2)
    tol = max(abs(eig).max(), 1e-300) * 1e-10
    rank = int(np.sum(eig > tol))
    H = float(d.to_numpy() @ np.linalg.pinv(Vd_np) @ d.to_numpy())
    valid = rank > 0 and H >= 0
    p = float(stats.chi2.sf(H, rank)) if valid else float("nan")
    if not valid:
        decision = "not valid: chi2 < 0 or V_FE - V_RE has no positive eigenvalue (use sigmamore or robust)"
        note = "V_FE - V_RE not positive semi-definite; the classic test fails to meet its assumptions (Stata: see suest)"
    else:
        decision = _decision(p, alpha)
        note = "" if rank == len(varying) and eig.min() > tol else "V_FE - V_RE not positive definite: generalized inverse, df = rank"
    return {"method": label, "statistic": H, "df": rank, "p_value": p, "distribution": f"chi2({rank})",
            "decision": decision, "note": note, "valid": valid}


def hausman(
    formula: str,
    data: pd.DataFrame,
    entity: str = "county",
    time: str = "year",
    *,
    method: str | Sequence[str] = ("classic", "robust"),
    time_effects: bool = False,
    alpha: float = 0.05,
) -> HausmanResult:
    """Hausman test of FE vs RE for ``formula`` (``"y ~ x1 + x2"``, bare column names).

    Long because the FE and RE fits, Stata's sigmamore remedy for a non-positive-definite difference and the
    result share one coefficient subset.

    Parameters
    ----------
    formula
        Outcome and regressors (no ``| fe`` part: the entity effect is what is tested).
    data
        Long panel with ``entity`` and ``time`` columns.
    method
        Any of ``"classic"``, ``"robust"``, ``"mundlak"`` (one or several).
    time_effects
        Add year dummies to both models (as ``i.year`` in Stata); they are not part of the test.
    alpha
        Level for the decision text.

    Returns
    -------
    HausmanResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(50), 6), "year": np.tile(np.arange(2010, 2016), 50)})
    >>> a = np.repeat(rng.normal(size=50), 6)  # county effect, correlated with x: RE is inconsistent
    >>> d["x"] = a + rng.normal(size=len(d))
    >>> d["y"] = 0.5 * d["x"] + a + rng.normal(scale=0.1, size=len(d))
    >>> res = hausman("y ~ x", d, method="robust")
    >>> round(float(res.coefficients.loc["x", "FE"]), 2), bool(res.p_value < 0.05)
    (0.5, True)
    """
    from linearmodels.panel import PanelOLS, RandomEffects

    methods = (method,) if isinstance(method, str) else tuple(method)
    for m in methods:
        check_choice("method", m, HAUSMAN_METHODS)
    parsed = parse_formula(formula)
    if parsed.fe:
        raise SpecificationError("hausman() tests the entity effect itself; write the formula without '| fe'.")
    regs = []
    for t in parsed.terms:
        names = _bare_names(t)
        if len(names) != 1 or names[0] != t.strip():
            raise SpecificationError(f"hausman() needs bare column names as regressors; create {t!r} as a column first.")
        regs.append(t.strip())
    # one-period counties stay in both models, as in Stata's xtreg fe / xtreg re and plm: they add nothing
    # to the within estimate but enter the random-effects GLS
    sample = prepare_sample(data, formula, (entity,), extra_columns=[time], entity=entity, time=time,
                            singletons=False)
    frame = sample.frame
    y = parsed.lhs
    if y not in frame.columns:
        raise SpecificationError("hausman() needs a bare outcome column; create it first (e.g. log_y).")
    # regressors that vary within entities (the only ones FE identifies)
    within_sd = frame.groupby(entity)[regs].transform(lambda s: s - s.mean()).abs().max()
    varying = [r for r in regs if within_sd[r] > 1e-12]
    if not varying:
        raise SpecificationError("no regressor varies within entities; the Hausman test is not defined.")
    pdx = frame.set_index([entity, time])
    exog = pdx[regs].astype(float)
    tdum = None
    if time_effects:
        tdum = pd.get_dummies(pdx.index.get_level_values(1), prefix="_yr", drop_first=True, dtype=float)
        tdum.index = pdx.index
        exog = pd.concat([exog, tdum], axis=1)
    yv = pdx[y].astype(float)
    fe_fit = PanelOLS(yv, exog[[c for c in exog.columns if c in varying or c.startswith("_yr")]],
                      entity_effects=True).fit(cov_type="unadjusted")
    re_exog = exog.assign(const=1.0)
    re_fit = RandomEffects(yv, re_exog).fit(cov_type="unadjusted")
    d = fe_fit.params[varying] - re_fit.params[varying]
    Vd = fe_fit.cov.loc[varying, varying] - re_fit.cov.loc[varying, varying]
    coef = pd.DataFrame({"FE": fe_fit.params[varying], "FE_se": fe_fit.std_errors[varying],
                         "RE": re_fit.params[varying], "RE_se": re_fit.std_errors[varying], "difference": d,
                         "sqrt(diag(V_FE - V_RE))": np.sqrt(np.clip(np.diag(Vd), 0, None))})
    re_const = pd.DataFrame({"FE": [np.nan], "FE_se": [np.nan], "RE": [re_fit.params["const"]],
                             "RE_se": [re_fit.std_errors["const"]], "difference": [np.nan],
                             "sqrt(diag(V_FE - V_RE))": [np.nan]}, index=["(Intercept)"])
    coef = pd.concat([re_const, coef])
    rows = []
    if "classic" in methods:
        rows.append(_classic_row(d, Vd, varying, alpha, "classic (Hausman 1978; Stata hausman, plm phtest)"))
        if not rows[-1]["valid"]:
            # Stata's remedy: hausman fe re, sigmamore (both covariances with the RE disturbance variance)
            scale = float(re_fit.s2) / float(fe_fit.s2)
            Vd_sm = fe_fit.cov.loc[varying, varying] * scale - re_fit.cov.loc[varying, varying]
            rows.append(_classic_row(d, Vd_sm, varying, alpha,
                                     "classic, sigmamore (Stata hausman fe re, sigmamore)"))
        for r in rows:
            r.pop("valid", None)
    if "robust" in methods:
        # linearmodels gives theta per entity (a one-column frame), also on a balanced panel
        th = re_fit.theta.reindex(pdx.index.get_level_values(0)).to_numpy().ravel()
        g = pdx.index.get_level_values(0)
        means = pdx[[y] + regs].groupby(level=0).transform("mean")
        aux = pd.DataFrame(index=pdx.index)
        aux["_ys"] = pdx[y].to_numpy() - th * means[y].to_numpy()
        aux["_const"] = 1.0 - th
        names = ["_const"]
        for r in regs:
            aux[f"{r}__qd"] = pdx[r].to_numpy() - th * means[r].to_numpy()
            names.append(f"{r}__qd")
        if tdum is not None:
            tmeans = tdum.groupby(level=0).transform("mean")
            for c in tdum.columns:
                aux[f"{c}__qd"] = tdum[c].to_numpy() - th * tmeans[c].to_numpy()
                names.append(f"{c}__qd")
        dev = []
        for r in varying:
            aux[f"{r}__dev"] = pdx[r].to_numpy() - means[r].to_numpy()
            dev.append(f"{r}__dev")
        aux = aux.reset_index()
        aux[entity] = np.asarray(g)
        fit = _fe(f"_ys ~ 0 + {' + '.join(names + dev)}", aux, entity=entity, time=time, fe=None,
                  cluster=entity)
        w = fit.wald(dev)
        q = fit.extra["vcov_info"]["factor"]
        chi2 = w["chi2"] * q  # no small-sample factor, as xtoverid
        p = float(stats.chi2.sf(chi2, len(dev)))
        rows.append({"method": "robust (auxiliary regression, Wooldridge 10.7.3; Stata xtoverid)",
                     "statistic": chi2, "df": len(dev), "p_value": p, "distribution": f"chi2({len(dev)})",
                     "decision": _decision(p, alpha), "note": f"clustered by {entity}"})
    if "mundlak" in methods:
        mw = frame.copy()
        bars = []
        for r in varying:
            mw[f"{r}__bar"] = mw.groupby(entity)[r].transform("mean")
            bars.append(f"{r}__bar")
        extra = ""
        rhs = regs + bars
        if time_effects:
            fit = _fe(f"{y} ~ {' + '.join(rhs)}", mw, entity=entity, time=time, fe=(time,), cluster=entity)
            extra = " + year FE"
        else:
            fit = _fe(f"{y} ~ {' + '.join(rhs)}", mw, entity=entity, time=time, fe=None, cluster=entity)
        w = fit.wald(bars)
        rows.append({"method": f"Mundlak (pooled OLS on x and entity means{extra}, clustered Wald F)",
                     "statistic": w["F"], "df": int(w["df1"]), "p_value": w["p_value"],
                     "distribution": f"F({int(w['df1'])}, {int(w['df2'])})",
                     "decision": _decision(w["p_value"], alpha), "note": f"clustered by {entity}; reghdfe factor"})
    settings = {
        "formula": formula, "entity": entity, "time": time,
        "tested_regressors": ", ".join(varying),
        "time_effects": "year dummies in both models (not tested)" if time_effects else "none",
        "random_effects": "Swamy-Arora GLS (linearmodels RandomEffects = plm 'random', Stata xtreg, re)",
    }
    dropped = [r for r in regs if r not in varying]
    if dropped:
        settings["time_invariant_not_tested"] = ", ".join(dropped)
    return HausmanResult(tests=pd.DataFrame(rows), coefficients=coef, settings=settings, rows=sample.rows,
                         reference=REFERENCE, model="Hausman test: fixed vs random effects")
