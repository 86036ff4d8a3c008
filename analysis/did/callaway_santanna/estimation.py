"""Estimation of ATT(g,t): input checks, the unit-by-period arrays, the 2x2 cells and their
analytic or multiplier-bootstrap inference (Callaway and Sant'Anna 2021, R ``did::att_gt``).
"""
from __future__ import annotations

import warnings
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..._compat import renamed_kwargs
from ...errors import (
    ColumnError,
    MissingValueError,
    NonNumericError,
    SpecificationError,
    TreatmentTimingError,
    check_choice,
    describe_rows,
)
from ...results import RowReport
from ...validation import check_unique_keys, require_columns
from .._common import LATE_ADOPTION_KEY, parse_adoption, recode_late_adopters
from .._treatment import treatment_input
from .bootstrap import EPS_SE, multiplier_bootstrap
from .results import CallawaySantAnnaResult
from .two_by_two import _logit, _two_by_two

__all__ = ["callaway_santanna"]

REFERENCE = ("Callaway and Sant'Anna (2021, J. Econometrics 225(2)); R did::att_gt / Stata csdid; "
             "2x2 estimators of Sant'Anna and Zhao (2020)")


# ------------------------------------------------------------------------------------------
# input handling
# ------------------------------------------------------------------------------------------
def _prepare(data, y, adoption, entity, time, controls, weights, cluster, anticipation, control):
    """Check the panel and return (rows used, sorted periods, RowReport); every drop is counted."""
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError("data must be a pandas DataFrame in long format (one row per unit and period).")
    cols = [entity, time, y, adoption, *controls]
    cols += [c for c in (weights, cluster) if c is not None]
    require_columns(data, cols, what="callaway_santanna() (y=, adoption=, entity=, time=, controls=)")
    df = data[list(dict.fromkeys(cols))].copy()
    n_input = len(df)
    dropped: dict[str, int] = {}
    for c in [y, *controls, time]:
        if not pd.api.types.is_numeric_dtype(df[c]):
            conv = pd.to_numeric(df[c], errors="coerce")
            bad = df.index[conv.isna() & df[c].notna()]
            if len(bad):
                raise NonNumericError(f"column {c!r} has non-numeric values in {describe_rows(bad)}; convert or clean them.")
            df[c] = conv
    if df.empty:
        raise MissingValueError("data has no rows; pass the long panel (one row per unit and period).")
    if df[y].isna().all():
        raise MissingValueError(
            f"outcome column {y!r} is missing in every row ({describe_rows(df.index)}); nothing to estimate. "
            "Check the column name and how the file was read.")
    df["_G"] = parse_adoption(df, adoption).fillna(0).astype(float)
    if df[entity].isna().any() or df[time].isna().any():
        bad = df.index[df[entity].isna() | df[time].isna()]
        raise ColumnError(f"missing {entity!r} or {time!r} in {describe_rows(bad)}; every row needs its keys.")
    check_unique_keys(df, entity, time)
    # timing constant within unit
    nuniq = df.groupby(entity, sort=False)["_G"].nunique()
    if (nuniq > 1).any():
        bad = nuniq.index[nuniq > 1]
        raise TreatmentTimingError(
            f"adoption period {adoption!r} varies within {describe_rows(bad)} ({entity}); it must be "
            "the unit's first treatment period, the same in every row (staggered absorbing treatment)."
        )
    for c in (weights, cluster):
        if c is not None:
            if df[c].isna().any():
                raise MissingValueError(
                    f"column {c!r} is missing in {describe_rows(df.index[df[c].isna()])}; sampling weights and "
                    "cluster ids must be given for every row."
                )
            nu = df.groupby(entity, sort=False)[c].nunique(dropna=False)
            if (nu > 1).any():
                raise SpecificationError(
                    f"column {c!r} varies within {describe_rows(nu.index[nu > 1])}; sampling weights and "
                    "cluster variables must be constant within each unit."
                )
    if weights is not None and (df[weights] < 0).any():
        raise SpecificationError(f"weights column {weights!r} has negative values in {describe_rows(df.index[df[weights] < 0])}.")
    # missing outcome / covariates
    miss_y = df[y].isna()
    if miss_y.any():
        dropped["missing outcome"] = int(miss_y.sum())
        df = df[~miss_y]
    if controls:
        miss_x = df[list(controls)].isna().any(axis=1)
        if miss_x.any():
            dropped["missing control"] = int(miss_x.sum())
            df = df[~miss_x]
    tlist = np.sort(df[time].unique()).astype(float)
    # units treated after the last period are never treated within the sample (the shared rule)
    g_unit = df.groupby(entity, sort=False)["_G"].first()
    _, late_note = recode_late_adopters(g_unit.where(g_unit > 0), float(tlist.max()), entity)
    df.loc[df["_G"] > tlist.max(), "_G"] = 0.0
    early = (df["_G"] > 0) & (df["_G"] <= tlist[0] + anticipation)
    if early.any():
        n_u = df.loc[early, entity].nunique()
        warnings.warn(f"dropped {n_u} units already treated in the first period ({tlist[0]:g}).", stacklevel=3)
        dropped["unit treated in the first period"] = int(early.sum())
        df = df[~early]
    if not (df["_G"] == 0).any():
        last = df["_G"].max()
        cut = last - anticipation
        out = df[time] >= cut
        if control == "never":
            warnings.warn(
                f"no never-treated units: the last cohort ({last:g}) serves as the comparison group and "
                f"periods from {cut:g} on are dropped (as R did).",
                stacklevel=3,
            )
            df.loc[df["_G"] == last, "_G"] = 0.0
        dropped["period at or after the last cohort's adoption (no never-treated units)"] = int(out.sum())
        df = df[~out]
        tlist = np.sort(df[time].unique()).astype(float)
    # balance
    counts = df.groupby(entity, sort=False)[time].transform("size")
    unb = counts < len(tlist)
    if unb.any():
        n_u = df.loc[unb, entity].nunique()
        warnings.warn(
            f"dropped {n_u} units not observed in all {len(tlist)} periods (balanced panel required, as "
            "R did with allow_unbalanced_panel = FALSE).",
            stacklevel=3,
        )
        dropped["unit not observed in every period (balancing)"] = int(unb.sum())
        df = df[~unb]
    if df.empty:
        raise SpecificationError("no rows left after removing missing values and balancing the panel.")
    rows = RowReport(n_input=n_input, n_used=len(df), dropped=dropped)
    return df, tlist, rows, late_note


# ------------------------------------------------------------------------------------------
# unit-by-period arrays and the list of 2x2 cells
# ------------------------------------------------------------------------------------------
def _unit_arrays(df, y, entity, time, tlist, weights, cluster, controls):
    """Outcome (n x T), cohort G (inf = never), normalised weights, cluster codes, controls (T x n x k+1)."""
    units, uinv = np.unique(df[entity].to_numpy(), return_inverse=True)
    tpos = np.searchsorted(tlist, df[time].to_numpy(dtype=float))
    n, T = len(units), len(tlist)
    Y = np.full((n, T), np.nan)
    Y[uinv, tpos] = df[y].to_numpy(dtype=float)
    G = np.zeros(n)
    G[uinv] = df["_G"].to_numpy(dtype=float)
    G = np.where(G == 0, np.inf, G)
    w = np.ones(n)
    if weights is not None:
        w[uinv] = df[weights].to_numpy(dtype=float)
    w = w / w.mean()
    cl_codes = None
    if cluster is not None and cluster != entity:
        cl = np.empty(n, dtype=object)
        cl[uinv] = df[cluster].to_numpy()
        cl_codes = pd.factorize(cl)[0]
    X = None
    if controls:
        X = np.ones((T, n, len(controls) + 1))
        for j, c in enumerate(controls):
            arr = np.full((n, T), np.nan)
            arr[uinv, tpos] = df[c].to_numpy(dtype=float)
            X[:, :, j + 1] = arr.T
    return units, Y, G, w, cl_codes, X


def _cell_list(glist, tlist, base_period, anticipation):
    """(g, t index, base-period index, post) of every ATT(g,t), varying or universal base."""
    cells = []
    t_start = 1 if base_period == "varying" else 0
    for g in glist:
        pre_idx = np.where(tlist < g - anticipation)[0]
        if len(pre_idx) == 0:
            warnings.warn(f"cohort {g:g} has no pre-treatment period and is dropped.", stacklevel=3)
            continue
        gb = pre_idx[-1]
        for ti in range(t_start, len(tlist)):
            post = g <= tlist[ti]
            b = gb if (base_period == "universal" or post) else ti - 1
            cells.append((g, ti, b, post))
    return cells


def _masks(cells, Y, G, tlist, control, anticipation):
    """Outcome changes, treated and comparison masks (n x cells)."""
    n, J = Y.shape[0], len(cells)
    DY = np.empty((n, J))
    Dm = np.zeros((n, J), dtype=bool)
    Cm = np.zeros((n, J), dtype=bool)
    for j, (g, ti, b, _post) in enumerate(cells):
        DY[:, j] = Y[:, ti] - Y[:, b]
        Dm[:, j] = G == g
        if control == "never":
            Cm[:, j] = ~np.isfinite(G)
        else:
            lim = tlist[max(ti, b)] + anticipation
            Cm[:, j] = (~np.isfinite(G)) | ((G > lim) & (G != g))
    return DY, Dm, Cm


# ------------------------------------------------------------------------------------------
# the cells
# ------------------------------------------------------------------------------------------
def _cells_without_controls(DY, Dm, Cm, w, ok, att, psi):
    """All cells at once: weighted difference of mean changes and its influence function."""
    n = DY.shape[0]
    wD = w[:, None] * Dm
    wC = w[:, None] * Cm
    sD = wD.sum(axis=0)
    sC = wC.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        eta1 = (wD * DY).sum(axis=0) / sD
        eta0 = (wC * DY).sum(axis=0) / sC
        att_all = eta1 - eta0
        psi_all = n * (wD * (DY - eta1) / sD - wC * (DY - eta0) / sC)
    att[ok] = att_all[ok]
    psi[:, ok] = psi_all[:, ok]


def _cell_with_controls(dy, d, x, ws, method):
    """One 2x2 cell with controls: (att, influence) or (None, reason it cannot be estimated)."""
    m = len(d)
    if method in ("dr", "ipw"):
        try:
            if np.max(_logit(d, x, np.ones(m))) >= 0.999:
                return None, "overlap violated (propensity score >= 0.999)"
        except np.linalg.LinAlgError:
            return None, "propensity score model singular"
    if method in ("dr", "reg"):
        xc = x[d == 0]
        if xc.shape[0] == 0 or np.linalg.cond(xc.T @ xc) > 1 / np.finfo(float).eps:
            return None, "not enough control units for the outcome regression"
    try:
        return _two_by_two(dy, d, x, ws, method), None
    except np.linalg.LinAlgError:
        return None, "singular design in the 2x2 estimator"


def _estimate_cells(cells, Y, G, w, X, tlist, control, anticipation, base_period, method):
    """ATT(g,t) and influence functions (n x cells) of every cell; skipped cells with the reason."""
    n, J = Y.shape[0], len(cells)
    DY, Dm, Cm = _masks(cells, Y, G, tlist, control, anticipation)
    att = np.full(J, np.nan)
    psi = np.zeros((n, J))
    n_tr, n_co = Dm.sum(axis=0), Cm.sum(axis=0)
    fixed0 = np.array([base_period == "universal" and ti == b for (_, ti, b, _) in cells], dtype=bool)
    ok = (n_tr > 0) & (n_co > 0) & ~fixed0
    skipped = [(cells[j][0], tlist[cells[j][1]], "no treated or no comparison units") for j in np.where(~ok & ~fixed0)[0]]
    if X is None:
        _cells_without_controls(DY, Dm, Cm, w, ok, att, psi)
    else:
        for j in np.where(ok)[0]:
            g, ti, b, _post = cells[j]
            S = Dm[:, j] | Cm[:, j]
            out, reason = _cell_with_controls(DY[S, j], Dm[S, j].astype(float), X[min(ti, b)][S],
                                              w[S] / w[S].mean(), method)
            if reason is not None:
                warnings.warn(f"ATT({g:g},{tlist[ti]:g}) not estimated: {reason}.", stacklevel=3)
                skipped.append((g, tlist[ti], reason))
                att[j] = np.nan
                psi[:, j] = np.nan
                continue
            att[j] = out[0]
            psi[S, j] = (n / int(S.sum())) * out[1]
    att[fixed0] = 0.0
    psi[:, fixed0] = 0.0
    for j in np.where(~ok & ~fixed0)[0]:
        psi[:, j] = np.nan
    return att, psi, n_tr, n_co, skipped


# ------------------------------------------------------------------------------------------
# inference and the table
# ------------------------------------------------------------------------------------------
def _inference(att, psi, cells, alpha, n_draws, seed, cl_codes, cband):
    """SEs (analytic or bootstrap), critical value of the bands, and the pre-trend Wald test."""
    n = psi.shape[0]
    z = stats.norm.ppf(1 - alpha / 2)
    se_an = np.sqrt(np.sum(psi**2, axis=0)) / n
    se_an = np.where(se_an <= EPS_SE, np.nan, se_an)
    crit = z
    if n_draws:
        bt = multiplier_bootstrap(psi, n_draws, alpha, seed=seed, cluster=cl_codes)
        se = np.where(bt["se"] <= EPS_SE, np.nan, bt["se"])
        if cband and np.isfinite(bt["crit_val"]):
            crit = bt["crit_val"]
    else:
        se = se_an
    wald = None
    pre = np.array([not c[3] for c in cells], dtype=bool) & np.isfinite(se_an) & np.isfinite(att)
    if pre.any() and cl_codes is None:
        th = att[pre]
        V = psi[:, pre].T @ psi[:, pre] / n
        try:
            if np.linalg.cond(V) < 1 / np.finfo(float).eps:
                W = float(n * th @ np.linalg.solve(V, th))
                q = int(pre.sum())
                wald = {"stat": W, "df": q, "p_value": float(stats.chi2.sf(W, q))}
        except np.linalg.LinAlgError:
            wald = None
    return se, z, crit, wald


def _att_table(cells, tlist, att, se, z, crit, n_tr, n_co) -> pd.DataFrame:
    tab = pd.DataFrame({
        "group": [c[0] for c in cells],
        "time": [tlist[c[1]] for c in cells],
        "base_period": [tlist[c[2]] for c in cells],
        "post": [bool(c[3]) for c in cells],
        "att": att,
        "std_error": se,
        "ci_low": att - z * se,
        "ci_high": att + z * se,
        "band_low": att - crit * se,
        "band_high": att + crit * se,
        "n_treated": n_tr,
        "n_control": n_co,
    })
    if np.all(np.mod(tab["group"], 1) == 0) and np.all(np.mod(tab["time"], 1) == 0):
        for c in ("group", "time", "base_period"):
            tab[c] = tab[c].astype(int)
    tab.insert(2, "event_time", tab["time"] - tab["group"])
    return tab


# ------------------------------------------------------------------------------------------
# the estimator
# ------------------------------------------------------------------------------------------
@renamed_kwargs(covariates="controls", bootstrap="n_draws")
@treatment_input("adoption")
def callaway_santanna(
    data: pd.DataFrame,
    y: str,
    adoption: str,
    entity: str = "county",
    time: str = "year",
    controls: Sequence[str] = (),
    control: str = "never",
    method: str = "dr",
    base_period: str = "varying",
    anticipation: int = 0,
    weights: str | None = None,
    cluster: str | None = None,
    n_draws: int = 0,
    seed=None,
    alpha: float = 0.05,
    cband: bool = True,
) -> CallawaySantAnnaResult:
    """Group-time average treatment effects ATT(g,t) of Callaway and Sant'Anna (2021).

    Parameters
    ----------
    data : long panel, one row per unit and period.
    y : outcome column.
    adoption : first treatment period of each unit (0 or missing = never treated); constant
        within unit.
        Or give ``treat=`` (a 0/1 absorbing column) instead;
        given both, they must agree (``docs/CONVENTIONS.md``).
    entity, time : unit and period columns.
    controls : pre-treatment covariates (R ``xformla``; values of the earlier of the two periods of
        each 2x2 comparison are used, as in R ``did``); an intercept is always included. The old
        keyword ``covariates=`` is a deprecated alias.
    control : ``"never"`` (never-treated units) or ``"notyet"`` (not-yet-treated units, plus the
        never-treated) -- R ``control_group = "nevertreated" | "notyettreated"``.
    method : ``"dr"`` (doubly robust, DRDID ``drdid_panel``; Stata csdid ``dripw``), ``"ipw"``
        (normalized IPW, ``std_ipw_did_panel``; csdid ``stdipw``) or ``"reg"`` (outcome regression,
        ``reg_did_panel``; csdid ``reg``).
    base_period : ``"varying"`` (R default) or ``"universal"``.
    anticipation : int
        Number of periods of anticipation (delta).
    weights : optional sampling-weight column (constant within unit).
    cluster : optional cluster column (constant within unit) for the bootstrap.
    n_draws : 0 for analytic influence-function SEs (R ``bstrap = FALSE``), or the number of
        Mammen multiplier-bootstrap draws (R ``biters``; old keyword ``bootstrap=``); with the
        bootstrap, SEs are bootstrap SEs and ``band_low/band_high`` are uniform (simultaneous)
        bands when ``cband``.
    seed : int or ``np.random.Generator`` for the bootstrap.
    alpha : 1 - confidence level.

    Returns
    -------
    CallawaySantAnnaResult
        ``.att_gt`` table, ``.aggregate(type)``, ``.wald`` pre-trend test, ``.influence``.

    Notes
    -----
    Cells are estimated from precomputed unit-by-period arrays (outcome n x T, controls); without
    controls all cells are computed at once as weighted differences of mean changes. The
    bootstrap is one matrix product per batch of draws (draws x units) @ (units x cells).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    >>> d["y"] = 0.5 * ((d["adoption"] > 0) & (d["year"] >= 2013)) + rng.normal(scale=0.01, size=len(d))
    >>> res = callaway_santanna(d, "y", "adoption")
    >>> round(float(res.aggregate("simple").params["did"]), 2)
    0.5
    """
    check_choice("control", control, ("never", "notyet"))
    check_choice("method", method, ("dr", "ipw", "reg"))
    check_choice("base_period", base_period, ("varying", "universal"))
    controls = tuple(controls)
    if anticipation < 0 or int(anticipation) != anticipation:
        raise SpecificationError(f"anticipation={anticipation!r} must be a non-negative integer.")
    n_draws = int(n_draws or 0)
    if cluster is not None and cluster != entity and n_draws == 0:
        raise SpecificationError(
            f"cluster={cluster!r}: clustering beyond the unit needs the multiplier bootstrap; pass "
            "n_draws=999 (or more), as R did does."
        )
    df, tlist, rows, late_note = _prepare(data, y, adoption, entity, time, controls, weights, cluster, anticipation,
                                          control)
    units, Y, G, w, cl_codes, X = _unit_arrays(df, y, entity, time, tlist, weights, cluster, controls)
    glist = np.unique(G[np.isfinite(G)])
    if len(glist) == 0:
        raise TreatmentTimingError(f"no treated units: {adoption!r} is 0/missing for every unit.")
    cells = _cell_list(glist, tlist, base_period, anticipation)
    att, psi, n_tr, n_co, skipped = _estimate_cells(cells, Y, G, w, X, tlist, control, anticipation,
                                                    base_period, method)
    se, z, crit, wald = _inference(att, psi, cells, alpha, n_draws, seed, cl_codes, cband)
    tab = _att_table(cells, tlist, att, se, z, crit, n_tr, n_co)
    settings = {
        "control": control, "method": method, "base_period": base_period, "anticipation": anticipation,
        "controls": list(controls), "weights": weights, "cluster": cluster or entity, "n_draws": n_draws,
        "seed": seed if not isinstance(seed, np.random.Generator) else "Generator", "cband": cband,
        "se": "multiplier bootstrap (Mammen)" if n_draws else "analytic influence function",
        "panel": "balanced (units not observed in every period dropped)",
    }
    if skipped:
        settings["skipped_cells"] = skipped
    if late_note:
        settings[LATE_ADOPTION_KEY] = late_note
    stats_ = {"N_units": len(units), "N_periods": len(tlist), "N_cohorts": len(glist)}
    if wald is not None:
        stats_.update({"pretrend_wald": wald["stat"], "pretrend_df": wald["df"], "pretrend_p": wald["p_value"]})
    return CallawaySantAnnaResult(
        params=pd.Series(att, index=[f"ATT({g},{t})" for g, t in zip(tab["group"], tab["time"])]),
        std_errors=pd.Series(se, index=[f"ATT({g},{t})" for g, t in zip(tab["group"], tab["time"])]),
        model="Callaway-Sant'Anna ATT(g,t)", statistic_name="z", rows=rows, settings=settings,
        reference=REFERENCE, stats=stats_,
        outcome=y, vcov_type="bootstrap" if n_draws else "cluster", cluster=(cluster or entity,),
        seed=seed if isinstance(seed, (int, np.integer)) else None,
        att_gt=tab, influence=psi, units=units, unit_group=G, unit_weight=w, cluster_codes=cl_codes,
        wald=wald, crit_val=float(crit), alpha=alpha,
    )
