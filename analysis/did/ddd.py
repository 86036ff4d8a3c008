"""Triple difference (三重差分, DDD): policy x group x post.

Separates a channel from the policy: if land reform works through land pressure, its effect should be
larger in counties with high land pressure (or high agricultural dependence) than in low-pressure
pilot counties, relative to the same contrast among non-pilot counties. The estimating equation
(Gruber 1994; Olden and Møen 2022, "The triple difference estimator", Econometrics Journal 25(3)) is

    y_it = a_i + g_{h(i), t} + b1 D_it + b3 D_it * H_i + controls + e_it

with ``D_it`` the (possibly staggered) pilot treatment, ``H_i`` the time-invariant group (1 = high
land pressure), county fixed effects ``a_i`` and group-by-year fixed effects ``g_{h,t}`` (which absorb
year effects and H x post). ``b3`` is the DDD estimate: the extra effect of the pilot in high-H
counties; ``b1`` is the pilot's effect in low-H counties. Standard errors clustered by county as Stata
``reghdfe y D DxH, absorb(county H#year) vce(cluster county)``.

The DDD needs only one parallel-trends assumption: the *gap* between the high-H and low-H trends would
have been the same in pilot and non-pilot counties (Olden and Møen 2022, section 3).
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import ConstantColumnError, NonNumericError, SpecificationError, describe_rows
from ..regression.fe import FEResult
from ..regression.fe import fe as _fe
from ._common import adoption_from_treatment, check_columns
from ._treatment import treatment_input

__all__ = ["triple_difference"]

REFERENCE = (
    "Gruber (1994) AER 84(3); Olden and Møen (2022) Econometrics Journal 25(3); Stata reghdfe y D DxH, "
    "absorb(county group#year) vce(cluster county)"
)


@treatment_input("treat")
def triple_difference(
    data: pd.DataFrame,
    y: str,
    treat: str,
    group: str,
    entity: str = "county",
    time: str = "year",
    controls: Sequence[str] = (),
    cluster: str | Sequence[str] | None = "county",
    alpha: float = 0.05,
) -> FEResult:
    """DDD estimate of the extra pilot effect in the high group.

    Parameters
    ----------
    data
        Long panel.
    y
        Outcome.
    treat
        0/1 pilot treatment, absorbing (1 from the pilot year on); staggered timing allowed.
        Or give ``adoption=`` (the first treated year) instead;
        given both, they must agree (``docs/CONVENTIONS.md``).
    group
        0/1 time-invariant group indicator (e.g. high land pressure = above-median pre-period
        cultivated land per rural worker). Must vary among treated and among untreated counties.
    controls
        Extra regressors.

    Returns
    -------
    FEResult
        Terms ``"DDD"`` (b3: pilot x high group) and ``"DiD_low"`` (b1: pilot effect in the low
        group); ``stats["DiD_high"]`` = b1 + b3 with its SE in ``extra["did_high_se"]``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(60), 6), "year": np.tile(np.arange(2010, 2016), 60)})
    >>> d["treat"] = ((d["county"] < 30) & (d["year"] >= 2013)).astype(int)
    >>> d["group"] = d["county"] % 2  # time-invariant high/low group
    >>> d["y"] = 0.2 * d["treat"] + 0.5 * d["treat"] * d["group"] + rng.normal(scale=0.01, size=len(d))
    >>> res = triple_difference(d, "y", "treat", "group")
    >>> round(float(res.params["DDD"]), 2), round(float(res.params["DiD_low"]), 2)
    (0.5, 0.2)
    """
    check_columns(data, [y, treat, group, entity, time, *controls])
    df = data.copy()
    adoption_from_treatment(df, treat, entity, time)  # 0/1 and absorbing, else a clear error
    h = pd.to_numeric(df[group], errors="coerce")
    bad = h.notna() & ~h.isin([0.0, 1.0])
    if bad.any():
        raise NonNumericError(
            f"group column {group!r} must be 0/1 (1 = high group); found {sorted(h[bad].unique())[:5]} in "
            f"{describe_rows(df.index[bad])}. Dichotomise it first, e.g. (x > x.median()).astype(int)."
        )
    varying = h.groupby(df[entity]).nunique()
    if (varying > 1).any():
        units = varying.index[varying > 1]
        raise SpecificationError(
            f"group {group!r} changes within {len(units)} {entity}(s) (e.g. {', '.join(map(str, units[:5]))}); "
            "it must be time-invariant: fix it at its pre-treatment value."
        )
    ever = pd.to_numeric(df[treat], errors="coerce").groupby(df[entity]).transform("max")
    for label, mask in (("pilot", ever == 1), ("non-pilot", ever == 0)):
        if h[mask].nunique() < 2:
            raise ConstantColumnError(
                f"group {group!r} does not vary among {label} {entity}s: the triple difference needs high and "
                "low counties on both sides of the policy."
            )
    df["DiD_low"] = pd.to_numeric(df[treat], errors="coerce")
    df["DDD"] = df["DiD_low"] * h
    df["_grp"] = h
    rhs = " + ".join(["DDD", "DiD_low", *controls])
    res = _fe(f"{y} ~ {rhs}", df, entity=entity, time=time, fe=(entity, f"_grp^{time}"),
              cluster=cluster, alpha=alpha)
    cov = res.cov
    if cov is not None:
        v = cov.loc["DDD", "DDD"] + cov.loc["DiD_low", "DiD_low"] + 2 * cov.loc["DDD", "DiD_low"]
        res.extra["did_high_se"] = float(np.sqrt(v))
    res.stats["DiD_high"] = float(res.params["DDD"] + res.params["DiD_low"])
    res.model = "Triple difference (pilot x group x post)"
    res.reference = REFERENCE
    res.settings.update({"group": group, "fixed_effects": f"{entity} + {group} x {time}"})
    return res
