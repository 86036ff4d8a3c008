"""σ- and β-convergence of a panel variable.

σ-convergence: the dispersion of ln y (or the coefficient of variation) falls over time.
β-convergence (Barro & Sala-i-Martin 1992; Sala-i-Martin 1996): growth regressed on the initial level,

* cross-section ("absolute"): (1/T) ln(y_iT / y_i0) = α + β ln y_i0 + ε, speed θ = −ln(1 + βT)/T;
* panel, annual: ln(y_i,t+1 / y_it) = β ln y_it (+ X'γ) + μ_i + η_t + ε, speed θ = −ln(1 + β);
  with county and year FE and controls this is what Chinese papers call conditional β-convergence.

Half-life τ = ln 2 / θ. The within estimator of this dynamic panel is biased towards −1 when T is
short (Nickell 1981), which overstates the speed; we warn when T < 10 and report θ as undefined when
1 + β ≤ 0. The panel regression is
:func:`analysis.regression.fe` (reghdfe conventions, county-clustered SEs).
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from ..errors import NegativeValueError, check_choice, describe_rows
from ..results import EstimationResult, FrameResult, RowReport
from ..validation import require_columns

__all__ = ["sigma_convergence", "beta_convergence", "convergence_speed"]


def _check(data: pd.DataFrame, value: str, cols) -> None:
    require_columns(data, [value, *cols], what="the convergence analysis")


def sigma_convergence(data: pd.DataFrame, value: str, time: str = "year", log: bool = True,
                      ddof: int = 0) -> FrameResult:
    """Per year: σ of ln y (or of y with ``log=False``), the coefficient of variation, and N.

    ``ddof`` is stated because papers differ (0: population SD, 1: sample SD). Missing values are
    left out year by year, counted in ``n_missing`` and in ``rows``.

    Returns
    -------
    FrameResult
        ``to_frame()``: year, sigma, cv, n, n_missing (one row per year).

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"year": [2020, 2020, 2021, 2021], "v": [1.0, 4.0, 2.0, 3.0]})
    >>> sigma_convergence(d, "v", log=False).to_frame()[["year", "sigma", "n"]]
       year  sigma  n
    0  2020    1.5  2
    1  2021    0.5  2
    """
    _check(data, value, [time])
    if log and (data[value].dropna() <= 0).any():
        bad = data.index[data[value] <= 0]
        raise NegativeValueError(f"ln({value}) needs positive values; not positive at {describe_rows(bad)}. "
                                 "Use log=False (σ of levels) or the coefficient of variation.")
    rows = []
    for year, frame in data.groupby(time, sort=True):
        v = frame[value].dropna().to_numpy(float)
        x = np.log(v) if log else v
        rows.append({time: year, "sigma": np.std(x, ddof=ddof), "cv": np.std(v, ddof=ddof) / np.mean(v),
                     "n": len(v), "n_missing": int(frame[value].isna().sum())})
    out = pd.DataFrame(rows)
    out.attrs.update({"log": log, "ddof": ddof})
    n_missing = int(out["n_missing"].sum()) if len(out) else 0
    return FrameResult(table=out, model="σ-convergence", rows=RowReport(len(data), len(data) - n_missing,
                                                                         {f"missing {value}": n_missing}),
                       settings={"value": value, "log": log, "ddof": ddof},
                       reference="Barro and Sala-i-Martin (1992), J. Political Economy 100(2) (σ-convergence)")


def convergence_speed(beta: float, years: float = 1.0) -> tuple[float, float]:
    """Speed θ = −ln(1 + β·years)/years and half-life ln 2/θ; NaN when 1 + β·years ≤ 0.

    Examples
    --------
    An annual β of −0.1 closes the gap at θ = −ln 0.9 = 0.105 a year, half of it in 6.6 years:

    >>> theta, half_life = convergence_speed(-0.1)
    >>> round(theta, 3), round(half_life, 3)
    (0.105, 6.579)
    >>> convergence_speed(-0.2, years=5)  # 1 + β·years = 0: undefined
    (nan, nan)
    """
    base = 1 + beta * years
    if base <= 0:
        return float("nan"), float("nan")
    theta = -np.log(base) / years
    return float(theta), float(np.log(2) / theta) if theta > 0 else float("nan")


def beta_convergence(data: pd.DataFrame, value: str, entity: str = "county", time: str = "year",
                     kind: str = "panel", controls=(), fe=(("county", "year")), cluster: str | None = "county"
                     ) -> EstimationResult:
    """β-convergence regression with speed and half-life.

    Parameters
    ----------
    kind
        ``"cross_section"`` (absolute β over the whole span, OLS with robust SEs) or ``"panel"``
        (annual growth on the lagged level with the fixed effects ``fe``; with ``controls`` this is
        conditional β-convergence).
    fe
        Fixed effects for the panel form: ``("county", "year")`` (default), ``("county",)``, or ``()``
        for pooled OLS.

    Examples
    --------
    Four counties whose log level follows ln y_t+1 = 0.05 + 0.9 ln y_t exactly, so the annual
    β is 0.9 − 1 = −0.1 (pooled OLS, no clustering with four counties):

    >>> import numpy as np
    >>> import pandas as pd
    >>> path = [np.array([1.0, 2.0, 3.0, 4.0])]  # ln y of the four counties in 2010
    >>> for _ in range(3):
    ...     path.append(0.05 + 0.9 * path[-1])
    >>> df = pd.DataFrame({"county": np.tile(np.arange(4), 4),
    ...                    "year": np.repeat(np.arange(2010, 2014), 4),
    ...                    "y": np.exp(np.concatenate(path))})
    >>> res = beta_convergence(df, "y", fe=(), cluster=None)
    >>> round(float(res.params["ln_y"]), 3), round(res.stats["speed"], 3)
    (-0.1, 0.105)

    The cross-section over 2010-2013 has β = (0.9**3 − 1) / 3 and the same speed:

    >>> res = beta_convergence(df, "y", kind="cross_section")
    >>> round(res.stats["beta"], 4), round(res.stats["speed"], 3)
    (-0.0903, 0.105)
    """
    check_choice("kind", kind, ("cross_section", "panel"))
    controls = list(controls)
    _check(data, value, [entity, time, *controls])
    if (data[value].dropna() <= 0).any():
        raise NegativeValueError(f"β-convergence uses ln({value}); not positive at "
                                 f"{describe_rows(data.index[data[value] <= 0])}.")
    d = data[[entity, time, value, *controls]].sort_values([entity, time]).copy()
    d["_ln"] = np.log(d[value])
    years = sorted(d[time].unique())
    if kind == "cross_section":
        import statsmodels.api as sm

        first, last = years[0], years[-1]
        span = last - first
        wide = d.pivot(index=entity, columns=time, values="_ln")[[first, last]]
        usable = wide.notna().all(axis=1)
        frame = pd.DataFrame({"growth": (wide[last] - wide[first]) / span, "ln_initial": wide[first]})[usable]
        fit = sm.OLS(frame["growth"], sm.add_constant(frame["ln_initial"])).fit(cov_type="HC1")
        beta = float(fit.params["ln_initial"])
        theta, half = convergence_speed(beta, span)
        res = EstimationResult(fit.params.rename({"const": "constant"}), fit.bse.rename({"const": "constant"}),
                               model="absolute β-convergence (cross-section)", df_resid=fit.df_resid,
                               settings={"span_years": span}, vcov_type="hetero", outcome=f"growth of ln {value}",
                               rows=RowReport(len(wide), int(usable.sum()),
                                              {f"{entity} without {value} in {first} and {last}": int((~usable).sum())}),
                               reference="Barro & Sala-i-Martin (1992), J. Political Economy 100(2)",
                               stats={"N": int(usable.sum()), "beta": beta, "speed": theta, "half_life": half})
        return res
    from ..regression import fe as fe_regression

    d["_growth"] = d.groupby(entity)["_ln"].shift(-1) - d["_ln"]
    nxt = d.groupby(entity)[time].shift(-1)
    d.loc[nxt != d[time] + 1, "_growth"] = np.nan  # only consecutive years
    if len(years) < 10 and entity in fe:
        warnings.warn(f"only {len(years)} years: the within (county FE) estimate of β in a dynamic panel is "
                      "biased towards −1 (Nickell 1981), so the convergence speed is overstated. Prefer the "
                      "cross-section form, long differences or system GMM.", UserWarning, stacklevel=2)
    formula = "_growth ~ _ln" + "".join(f" + {c}" for c in controls)
    res = fe_regression(formula, d, entity=entity, time=time, fe=tuple(fe), cluster=cluster)
    beta = float(res.params["_ln"])
    theta, half = convergence_speed(beta, 1.0)
    if np.isnan(theta):
        warnings.warn(f"β = {beta:.4f} ≤ −1, so the speed θ = −ln(1 + β) is undefined: the short-T bias "
                      "of the within estimator at work.", UserWarning, stacklevel=2)
    res.params = res.params.rename({"_ln": f"ln_{value}"})
    res.std_errors = res.std_errors.rename({"_ln": f"ln_{value}"})
    res.model = ("conditional" if controls else "absolute") + " β-convergence (annual panel)"
    res.stats.update({"beta": beta, "speed": theta, "half_life": half})
    return res
