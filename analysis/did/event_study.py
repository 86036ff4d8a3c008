"""Two-way fixed-effects event study (dynamic DiD, 事件研究法) with endpoint bins.

y_it = a_i + l_t + sum_{k != -1} b_k 1{t - G_i = k} + X_it'g + e_it, with the period before
adoption (k = -1) as reference, never-treated units as the base group (all dummies zero), the
outermost lead and lag optionally binned (k <= -leads, k >= lags; Schmidheiny and Siegloch 2023,
J. Applied Econometrics 38:695-713), standard errors clustered by county with Stata ``reghdfe``
small-sample rules, and a joint Wald (F) test of the leads. Matches pyfixest
``feols("y ~ i(rel, ref=-1) | county + year", vcov={"CRV1": "county"})`` and Stata
``reghdfe y lead* lag*, absorb(county year) vce(cluster county)`` followed by ``testparm lead*``.

With staggered adoption and heterogeneous effects the TWFE event-study coefficients mix effects
across cohorts (Sun and Abraham 2021); compare with the heterogeneity-robust estimators.
"""
from __future__ import annotations

from typing import Sequence

import numpy as np
import pandas as pd

from ..demean import FixedEffects
from ..errors import SpecificationError, TreatmentTimingError
from ..results import RowReport
from ._common import (
    LATE_ADOPTION_KEY,
    EventStudyResult,
    adoption_per_unit,
    check_columns,
    check_keys,
    check_pre_period,
    drop_missing,
    fe_ols,
    recode_late_adopters,
    relative_time,
    wald_test,
)
from ._treatment import treatment_input

__all__ = ["event_study", "event_time_dummies"]


def event_time_dummies(rel: pd.Series, leads: int, lags: int, bin_endpoints: bool = True,
                       reference: int = -1) -> tuple[pd.DataFrame, list[int], list[str]]:
    """Relative-time dummies for the window [-leads, lags] without the reference period.

    Never-treated rows (``rel`` NaN) are zero in every column. With ``bin_endpoints`` the first
    column is ``1{rel <= -leads}`` and the last ``1{rel >= lags}``; otherwise each is ``1{rel == k}``
    and rows outside the window must be dropped by the caller.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rel = pd.Series([-3, -2, -1, 0, 1, 2, np.nan])  # last row: a never-treated county
    >>> D, times, names = event_time_dummies(rel, leads=2, lags=1)
    >>> times, names
    ([-2, 0, 1], ['event_time<=-2', 'event_time=0', 'event_time>=1'])
    >>> D.to_numpy().astype(int).tolist()
    [[1, 0, 0], [1, 0, 0], [0, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1], [0, 0, 0]]
    """
    ks = [k for k in range(-leads, lags + 1) if k != reference]
    cols, labels = {}, []
    r = rel.to_numpy(dtype=float)
    for k in ks:
        if bin_endpoints and k == -leads:
            d, lab = r <= k, f"event_time<={k}"
        elif bin_endpoints and k == lags:
            d, lab = r >= k, f"event_time>={k}"
        else:
            d, lab = r == k, f"event_time={k}"
        cols[lab] = d.astype(float)  # a never-treated row (r NaN) compares False with every k: 0
        labels.append(lab)
    return pd.DataFrame(cols, index=rel.index), ks, labels


@treatment_input("adoption")
def event_study(
    data: pd.DataFrame,
    y: str,
    adoption: str,
    entity: str = "county",
    time: str = "year",
    leads: int | None = None,
    lags: int | None = None,
    bin_endpoints: bool = True,
    controls: Sequence[str] = (),
    cluster: str | None = "county",
    alpha: float = 0.05,
) -> EventStudyResult:
    """TWFE event study around the adoption year, reference period -1, never-treated base.

    Parameters
    ----------
    data
        Long panel, one row per unit-year.
    y
        Outcome column.
    adoption
        First treated year of each unit, repeated on its rows (empty, 0 or inf = never treated).
        Or give ``treat=`` (a 0/1 absorbing column) instead;
        given both, they must agree (``docs/CONVENTIONS.md``).
    entity, time
        Unit and period columns (fixed effects for both are absorbed).
    leads, lags
        Window of event times [-leads, lags]. ``None`` uses every event time in the data. The
        reference period -1 is omitted, so ``leads >= 2`` gives at least one pre-period estimate.
    bin_endpoints
        True: the first and last event-time dummies also cover every earlier / later event time
        (``rel <= -leads``, ``rel >= lags``); no treated row leaves the sample. False: treated rows
        outside the window are dropped (reported in ``rows``).
    controls
        Time-varying covariates.
    cluster
        Cluster variable for CRV1 standard errors (default the county); ``None`` clusters by
        ``entity``.

    Returns
    -------
    EventStudyResult
        Event-time table (event_time, estimate, std_error, ci_low, ci_high), covariance, the joint test of
        the leads in ``pretrend`` (F with (q, G-1) degrees of freedom, as Stata ``testparm``), and
        ``overall`` = the simple average of the post-period coefficients with its SE.

    Raises
    ------
    TreatmentTimingError
        Adoption years missing on some rows of a unit or varying within a unit; treated units
        without a pre-period; no never-treated units (the base group).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    >>> d["treat"] = ((d["adoption"] > 0) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> res = event_study(d, "y", "adoption")
    >>> res.event_table()["event_time"].tolist()
    [-3, -2, -1, 0, 1, 2]
    >>> post = res.event_table().query("event_time >= 0")
    >>> np.round(post["estimate"], 2).tolist()
    [0.49, 0.5, 0.5]
    """
    controls = list(controls)
    cluster = entity if cluster is None else cluster
    check_columns(data, [y, adoption, entity, time, cluster, *controls])
    check_keys(data, entity, time)
    n_input = len(data)
    keep_cols = list(dict.fromkeys([entity, time, cluster, adoption, y, *controls]))
    g = adoption_per_unit(data, adoption, entity)
    frame, dropped = drop_missing(data[keep_cols], [y, *controls])
    if frame[cluster].isna().any():
        miss = frame[cluster].isna()
        dropped[f"missing {cluster}"] = int(miss.sum())
        frame = frame.loc[~miss]
    g, late_note = recode_late_adopters(g, float(frame[time].max()), entity)
    check_pre_period(g, frame, entity, time)
    if not g.reindex(pd.unique(frame[entity])).isna().any():
        raise TreatmentTimingError(
            f"no never-treated {entity} in the sample: the event study uses never-treated units as the base group. "
            "Use a heterogeneity-robust estimator with not-yet-treated controls (e.g. callaway_santanna) instead."
        )
    rel = relative_time(frame, g, entity, time)
    rmin, rmax = np.nanmin(rel), np.nanmax(rel)
    leads = int(-rmin) if leads is None else int(leads)
    lags = int(rmax) if lags is None else int(lags)
    if leads < 2:
        raise SpecificationError(f"leads={leads}: need leads >= 2 (event time -1 is the reference period).")
    if lags < 0:
        raise SpecificationError(f"lags={lags} must be >= 0.")
    if not bin_endpoints:
        outside = rel.notna() & ((rel < -leads) | (rel > lags))
        if outside.any():
            dropped["treated rows outside the event window (bin_endpoints=False)"] = int(outside.sum())
            frame, rel = frame.loc[~outside], rel.loc[~outside]
    dummies, ks, labels = event_time_dummies(rel, leads, lags, bin_endpoints)
    empty = [lab for lab in labels if dummies[lab].sum() == 0]
    if empty:
        raise SpecificationError(
            f"no observations for {empty}: narrow the window (leads={leads}, lags={lags}); event times in the data run "
            f"from {int(rmin)} to {int(rmax)}."
        )
    names = labels + controls
    X = np.column_stack([dummies.to_numpy(), frame[controls].to_numpy(dtype=float)]) if controls else dummies.to_numpy()
    fe = FixedEffects(frame[[entity, time]])
    yX = fe.demean(np.column_stack([frame[y].to_numpy(dtype=float), X]))
    fit = fe_ols(yX[:, 0], yX[:, 1:], names, fe, frame[cluster].to_numpy(), demeaned=True,
                 raw_scale=np.max(np.abs(X), axis=0))
    b = fit.params[labels].to_numpy()
    V = fit.cov.loc[labels, labels].to_numpy()
    pre = [i for i, k in enumerate(ks) if k < -1]
    post = [i for i, k in enumerate(ks) if k >= 0]
    pretrend = wald_test(b[pre], V[np.ix_(pre, pre)], fit.df_resid)
    pretrend["terms"] = [labels[i] for i in pre]
    w = np.zeros(len(ks))
    w[post] = 1.0 / len(post)
    overall = {"estimate": float(w @ b), "std_error": float(np.sqrt(w @ V @ w)),
               "description": "simple average of the post-period event-time coefficients"}
    ssr = float(fit.resid @ fit.resid)
    sst = float(yX[:, 0] @ yX[:, 0])
    res = EventStudyResult.from_estimates(
        "TWFE event study",
        ks,
        b,
        vcov=V,
        labels=labels,
        overall=overall,
        reference_period=-1,
        df_resid=fit.df_resid,
        alpha=alpha,
        pretrend=pretrend,
        rows=RowReport(n_input=n_input, n_used=len(frame), dropped=dropped),
        settings={"y": y, "adoption": adoption, "window": f"[-{leads}, {lags}]", "reference period": -1,
                  "endpoints": "binned" if bin_endpoints else "treated rows outside the window dropped",
                  "base group": "never-treated units", "fixed effects": f"{entity} + {time}",
                  "controls": controls, "se": f"CRV1 clustered by {cluster}, reghdfe small-sample factor "
                                               "G/(G-1)(N-1)/(N-K), t(G-1) inference"},
        reference="TWFE event study (Schmidheiny and Siegloch 2023); matches pyfixest feols i(rel, ref=-1) and "
                  "Stata reghdfe + testparm",
        outcome=y, fixed_effects=(entity, time), vcov_type="cluster", cluster=(cluster,), n_clusters=fit.n_clusters,
        stats={"N": fit.nobs, "clusters": fit.n_clusters, "r2_within": 1 - ssr / sst if sst > 0 else np.nan,
               "treated units": int(g.reindex(pd.unique(frame[entity])).notna().sum())},
    )
    if late_note:
        res.settings[LATE_ADOPTION_KEY] = late_note
    if fit.dropped:
        res.settings["collinear_dropped"] = "; ".join(f"{k} ({v})" for k, v in fit.dropped.items())
    res.extra["controls"] = fit.params[controls] if controls else pd.Series(dtype=float)
    res.extra["controls_se"] = np.sqrt(np.diag(fit.cov.loc[controls, controls])) if controls else np.array([])
    return res
