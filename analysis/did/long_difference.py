"""Long difference (长差分): a two-period comparison of treated and control units.

With only two observations per unit, one before and one after a policy (the 2010 and 2020 censuses
around the 2015 land-reform pilots), the usual county-by-year panel design is not available. The long
difference regresses each unit's change

    dy_i = y_i,post - y_i,pre = a_p(i) + b * D_i + x_i,pre' g + e_i

on the treatment dummy ``D_i``, optional fixed effects ``a_p`` of a coarser unit (province) and
baseline (pre-period) controls ``x_i,pre``. ``b`` is the two-period difference-in-differences
(equal to the coefficient of ``D_i x post`` in the stacked two-period TWFE regression without
controls). It is descriptive evidence: parallel trends over the whole window are assumed and cannot
be tested with two periods, and anything else that moved the treated units between the two dates
is in ``b``.

Matches Stata ``reghdfe dy D x_pre, absorb(province) vce(cluster prefecture)`` (Correia 2016) and,
with ``vcov="hetero"``, ``reghdfe ..., vce(robust)`` (HC1); the long-difference design is that of
Angrist and Pischke (2009), *Mostly Harmless Econometrics*, section 5.2, and of Card and Krueger
(1994) for two periods.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..errors import NonNumericError, SpecificationError, YearRangeError, check_choice, describe_rows
from ..regression.fe import FEResult
from ..regression.fe import fe as _fe
from ..results import RowReport
from ._common import TREATMENT_TERM, check_columns

__all__ = ["long_difference"]

REFERENCE = (
    "Long difference (two-period DiD): Angrist and Pischke (2009) Mostly Harmless Econometrics 5.2; "
    "Stata reghdfe d_y D x_pre, absorb(province) vce(cluster prefecture) (Correia 2016)"
)


def long_difference(
    data: pd.DataFrame,
    outcome: str,
    treat: str,
    *,
    entity: str = "county",
    time: str = "year",
    pre: int | None = None,
    post: int | None = None,
    controls: Sequence[str] = (),
    fe: str | Sequence[str] | None = "province",
    cluster: str | Sequence[str] | None = "prefecture_adcode",
    vcov: str | None = None,
    transform: str = "level",
    alpha: float = 0.05,
) -> FEResult:
    """Change from ``pre`` to ``post`` of treated units against control units.

    Parameters
    ----------
    data
        Long frame, one row per ``entity`` and ``time`` (e.g. :func:`analysis.datasets.load_census`
        with a pilot column added). Rows of other periods are ignored.
    outcome
        Variable whose change is compared.
    treat
        0/1 column: a unit is treated when it is 1 in either period (a time-invariant pilot dummy
        or a DiD indicator that is 1 after the policy both work).
    entity, time
        Unit and period columns.
    pre, post
        The two periods; default the first and the last value of ``time``.
    controls
        Baseline controls: their ``pre`` values enter the regression.
    fe
        Fixed effects of a coarser unit absorbed in the change regression (default ``"province"``,
        i.e. comparisons within provinces); ``None`` for a plain intercept. Its value is read from
        the ``pre`` row.
    cluster
        Cluster variable(s) (default ``"prefecture_adcode"``), read from the ``pre`` row; ``None``
        with ``vcov="hetero"`` for HC1.
    vcov
        As :func:`analysis.regression.fe`: ``None`` (clustered when ``cluster`` is given),
        ``"cluster"``, ``"hetero"`` (HC1), ``"iid"``.
    transform
        ``"level"``: ``y_post - y_pre``; ``"log"``: ``log(y_post) - log(y_pre)`` (growth of a
        count, e.g. resident population).
    alpha
        Level of the confidence intervals.

    Returns
    -------
    FEResult
        Term ``"did"`` (the long-difference DiD) plus the baseline controls; ``rows`` counts
        **units** (one change per unit): units without a ``pre`` or ``post`` value are reported as
        dropped. ``stats`` holds ``mean_change_treated``, ``mean_change_control``, ``n_treated``,
        ``n_control``, ``pre`` and ``post``; ``extra["changes"]`` the unit-level change table.

    Raises
    ------
    ColumnError
        A named column is missing.
    YearRangeError
        ``pre`` or ``post`` is not a period of the data, or ``pre >= post``.
    NonNumericError
        ``treat`` is not 0/1, or ``transform="log"`` meets a non-positive value.
    SpecificationError
        A unit appears twice in a period, or no treated or no control unit is left.

    Examples
    --------
    >>> import pandas as pd
    >>> d = pd.DataFrame({"county": list("aabbccdd"), "year": [2010, 2020] * 4,
    ...                   "y": [1.0, 2.0, 1.0, 3.5, 2.0, 2.5, 1.0, 1.4], "pilot": [0, 0, 1, 1, 0, 0, 1, 1]})
    >>> r = long_difference(d, "y", "pilot", fe=None, cluster=None, vcov="hetero")
    >>> round(float(r.params["did"]), 3)  # (2.5 + 0.4) / 2 - (1.0 + 0.5) / 2
    0.7
    """
    check_choice("transform", transform, ("level", "log"))
    fe_cols = [fe] if isinstance(fe, str) else list(fe or [])
    cl_cols = [c for c in ([cluster] if isinstance(cluster, str) else list(cluster or [])) if "+" not in c]
    check_columns(data, [outcome, treat, entity, time, *controls, *fe_cols, *cl_cols])
    periods = sorted(v.item() if isinstance(v, np.generic) else v for v in pd.unique(data[time].dropna()))
    pre = periods[0] if pre is None else pre
    post = periods[-1] if post is None else post
    for name, value in (("pre", pre), ("post", post)):
        if value not in periods:
            raise YearRangeError(f"{name}={value!r} is not a value of column {time!r} (periods: {periods[:10]}); "
                                 "pass one of them.")
    if not pre < post:
        raise YearRangeError(f"pre={pre!r} must come before post={post!r}.")
    d = pd.to_numeric(data[treat], errors="coerce")
    bad = data[treat].notna() & ~d.isin([0.0, 1.0])
    if bad.any():
        raise NonNumericError(f"treat column {treat!r} must be 0/1; found {sorted(map(str, data.loc[bad, treat].unique()))[:5]} "
                              f"in {describe_rows(data.index[bad])}. Code it 1 for treated units, 0 otherwise.")
    a = data[data[time] == pre].set_index(entity)
    b = data[data[time] == post].set_index(entity)
    for label, part in (("pre", a), ("post", b)):
        if part.index.has_duplicates:
            dup = part.index[part.index.duplicated()].unique()
            raise SpecificationError(f"{entity} {list(map(str, dup[:5]))} appear more than once in the {label} "
                                     f"period ({time} = {pre if label == 'pre' else post}); keep one row per unit.")
    units = pd.Index(pd.unique(data[entity]))
    y_pre = pd.to_numeric(a[outcome], errors="coerce").reindex(units)
    y_post = pd.to_numeric(b[outcome], errors="coerce").reindex(units)
    if transform == "log":
        nonpos = ((y_pre <= 0) | (y_post <= 0)).fillna(False)
        if nonpos.any():
            raise NonNumericError(f"transform='log' needs {outcome!r} > 0; {entity} "
                                  f"{list(map(str, units[nonpos.to_numpy()][:5]))} have values <= 0. Use transform='level'.")
        y_pre, y_post = np.log(y_pre), np.log(y_post)
    no_pre = y_pre.isna()
    no_post = ~no_pre & y_post.isna()
    keep = units[~(no_pre | no_post).to_numpy()]
    dname = f"d_{outcome}"
    cs = pd.DataFrame({entity: keep, dname: (y_post - y_pre).reindex(keep).to_numpy()})
    status = d.groupby(data[entity]).max().reindex(keep)
    cs[TREATMENT_TERM] = status.to_numpy(float)
    for col in dict.fromkeys([*controls, *fe_cols, *cl_cols]):
        cs[col] = a[col].reindex(keep).to_numpy()
    cs[time] = post
    n_t = int((cs[TREATMENT_TERM] == 1).sum())
    n_c = int((cs[TREATMENT_TERM] == 0).sum())
    if n_t == 0 or n_c == 0:
        raise SpecificationError(f"the long difference needs treated and control units with {outcome!r} in both "
                                 f"{pre} and {post}: {n_t} treated, {n_c} control {entity}s. Check {treat!r}.")
    rhs = " + ".join([TREATMENT_TERM, *controls])
    res = _fe(f"{dname} ~ {rhs}", cs, entity=entity, time=time, fe=fe_cols or None,
              cluster=cluster, vcov=vcov, alpha=alpha, check_keys=False)
    used = cs.loc[res.resid.index] if len(res.resid) else cs.iloc[:0]
    dropped = {"no pre-period value": int(no_pre.sum()), "no post-period value": int(no_post.sum())}
    dropped.update(res.rows.dropped)
    res.rows = RowReport(n_input=len(units), n_used=res.rows.n_used, dropped=dropped)
    res.model = f"Long difference {pre}->{post} ({transform}): change regressed on the treatment dummy"
    res.reference = REFERENCE
    res.outcome = dname
    res.stats.update({
        "mean_change_treated": float(used.loc[used[TREATMENT_TERM] == 1, dname].mean()),
        "mean_change_control": float(used.loc[used[TREATMENT_TERM] == 0, dname].mean()),
        "n_treated": int((used[TREATMENT_TERM] == 1).sum()), "n_control": int((used[TREATMENT_TERM] == 0).sum()),
        "pre": int(pre) if isinstance(pre, (int, np.integer)) else pre,
        "post": int(post) if isinstance(post, (int, np.integer)) else post,
    })
    res.settings.update({"pre": pre, "post": post, "transform": transform, "treat": treat,
                         "controls": list(controls), "rows": "units (one change per unit)"})
    res.extra["changes"] = cs
    return res
