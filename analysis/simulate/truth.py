"""The ground truth of the SIMULATED panel: what each estimator run on it should recover.

:func:`ground_truth` computes, from the generated worlds and the effects table, the target of
every design the notebooks run: the land-reform ATT (overall, by event time, by region), its
mediation split (a, b, direct, indirect), the moderation slope, the spillover on neighbours and the
static TWFE estimand; the digital pilot's ATT(g, t), event-time and overall ATTs and the biased
TWFE estimand (Goodman-Bacon 2021); the Hansen (1999) threshold; the spatial Durbin parameters
and their LeSage-Pace (2009) effects. The result is ``data/synthetic/truth.json``.

Examples
--------
>>> import numpy as np
>>> from analysis.simulate.truth import twfe_estimand
>>> d = np.array([0, 1, 0, 0.0]); te = np.array([0, 2.0, 0, 0])
>>> round(twfe_estimand(d, te, ["a", "a", "b", "b"], [1, 2, 1, 2]), 6)
2.0
"""
from __future__ import annotations

import json

import numpy as np
import pandas as pd

from .columns import MISSING_COLUMNS
from .parameters import _P, _exposure
from .weights import _w_eigenvalues, lesage_pace_effects

__all__ = ["ground_truth", "twfe_estimand"]


def twfe_estimand(dvec, te, county, year):
    """sum(d~ te)/sum(d~^2): the static TWFE coefficient's expectation given true effects.

    Examples
    --------
    A constant effect of 0.5 in the treated cells is what TWFE estimates:

    >>> import numpy as np
    >>> from analysis.simulate.truth import twfe_estimand
    >>> county, year = np.repeat([1, 2, 3, 4], 3), np.tile([2014, 2015, 2016], 4)
    >>> d = ((county <= 2) & (year >= 2015)).astype(float)
    >>> round(twfe_estimand(d, 0.5 * d, county, year), 6)
    0.5
    """
    df = pd.DataFrame({"d": dvec, "c": county, "y": year})
    dt = df["d"] - df.groupby("c")["d"].transform("mean") - df.groupby("y")["d"].transform("mean") \
        + df["d"].mean()
    dt = dt.to_numpy()
    return float(np.sum(dt * te) / np.sum(dt * dt))


_twfe_estimand = twfe_estimand


def ground_truth(c, w, years, ptab, obs, panel, eff, seed, zone_members) -> dict:
    """The JSON-ready truth of one build (``truth.json``): one block per design, then the metadata."""
    from .. import __version__
    n, T = len(c), len(years)
    land = _land_truth(c, w, years, ptab, obs, panel, eff)
    digital = _digital_truth(years, obs, panel, eff)
    truth = {
        "simulated": True,
        "seed": int(seed) if isinstance(seed, (int, np.integer)) else None,
        "start": int(years[0]), "end": int(years[-1]),
        "version": __version__,
        "n_counties": int(n), "n_years": int(T),
        "land_reform": land,
        "digital_pilot": digital,
        "threshold": _threshold_truth(obs),
        "spatial": _spatial_truth(w),
        "integration_zone": {"simulated": True, "zones": zone_members,
                             "n_counties": int(sum(len(v) for v in zone_members.values()))},
        "missing_share": {col: float(panel[col].isna().mean()) for col in MISSING_COLUMNS},
    }
    # make it exactly JSON round-trippable
    return json.loads(json.dumps(truth))


def _land_truth(c, w, years, ptab, obs, panel, eff) -> dict:
    """Land reform: ATT on log rural income, by event time and region, mediation, moderation, spillover."""
    P = _P
    T = len(years)
    flat = lambda a: np.asarray(a, dtype=float).reshape(-1)
    ev = flat(obs["_ev_land"])
    D = flat(obs["_D_land"]) == 1
    te_log = eff["te_land_log_rural_income"].to_numpy()
    region = panel["region"].to_numpy()
    direct = flat(obs["_direct"])
    g = flat(obs["_g"])
    a_mean = float(eff.loc[D, "te_land_land_transfer_rate"].mean())
    att = float(te_log[D].mean())
    direct_mean = float(direct[D].mean())
    ev_tab = {str(int(k)): float(te_log[D & (ev == k)].mean()) for k in sorted(set(ev[D]))}
    n_ev = {str(int(k)): int((D & (ev == k)).sum()) for k in sorted(set(ev[D]))}
    het = {r: float(te_log[D & (region == r)].mean()) for r in ["east", "central", "northeast", "west"]
           if (D & (region == r)).any()}
    # spillover on never-treated neighbours
    wD = np.asarray((w @ np.asarray(obs["_D_land"]))).reshape(-1)
    ever = np.isfinite(np.repeat(obs["_pilot_year"], T))
    neigh = (~ever) & (wD > 0)
    neigh_c = (~np.isfinite(obs["_pilot_year"])) & (np.asarray((w @ np.isfinite(obs["_pilot_year"]).astype(float))) > 0)
    clean = ~np.repeat(neigh_c, T)          # pilots + counties not adjacent to any pilot
    y = panel["year"].to_numpy()
    lr_twfe = _twfe_estimand(D[clean].astype(float), te_log[clean], panel["county"].to_numpy()[clean],
                             y[clean])
    land = {
        "att_log_rural_income": att,
        "att_by_event_time": ev_tab,
        "n_by_event_time": n_ev,
        "mediation": {
            "a": a_mean, "b": P["b"], "direct": direct_mean, "indirect": a_mean * P["b"],
            "other": att - direct_mean - a_mean * P["b"],
            "a_full_exposure": P["a_full"],
            "note": "a = mean effect on land_transfer_rate (pp) over treated county-years; b = "
                    "structural slope of log rural income on land_transfer_rate (all variation); "
                    "direct = mean c' over treated county-years; indirect = a*b; other = the rest "
                    "of the ATT (regime switches through gdp_pc, spillovers between pilots, "
                    "rounding).",
        },
        "heterogeneity": het,
        "heterogeneity_n_counties": {r: int(ptab.merge(c[["adcode", "region"]], on="adcode")
                                            ["region"].eq(r).sum()) for r in het},
        "direct_full_exposure_by_region": dict(P["c_region"]),
        "moderation": {
            "per_10_points": float(P["kappa"] * g[D].mean()),
            "per_10_points_full_exposure": P["kappa"],
            "centre": P["dg_centre"],
            "moderator": f"digital_gov in {P['dg_base_year']} (the year before the reform)",
            "note": "shift of the effect on log rural income of 10 more points of the county's "
                    f"digital_gov in {P['dg_base_year']} (fixed per county; the time-varying score "
                    "trends with exposure and would confound the interaction); per_10_points "
                    "averages the exposure profile over treated county-years, "
                    "per_10_points_full_exposure is the structural kappa.",
        },
        "exposure_profile": {str(k): float(_exposure(k)) for k in range(8)},
        "spillover": {
            "phi": P["phi_spill"],
            "att_neighbours_log_rural_income": float(te_log[neigh].mean()),
            "n_neighbour_county_years": int(neigh.sum()),
            "n_neighbour_counties": int(neigh_c.sum()),
            "note": "log rural income of every county rises by phi * sum_j w_ij * g_jt "
                    "(g = exposure profile of treated neighbours).",
        },
        "twfe_static_estimand_clean_sample": lr_twfe,
        "clean_sample": "pilots plus counties not adjacent to any pilot (drops neighbours "
                        "contaminated by spillovers)",
        "pilots": [{"county": a, "year": int(yv), "type": tp}
                   for a, yv, tp in ptab[["adcode", "year", "type"]].itertuples(index=False)],
        "n_pilots": int(len(ptab)),
    }
    return land


def _digital_truth(years, obs, panel, eff) -> dict:
    """Digital pilot: ATT(g, t), event-time and overall ATT, and the static TWFE estimand."""
    P = _P
    n, T = len(obs["_digital_cohort"]), len(years)
    y = panel["year"].to_numpy()
    coh = np.repeat(obs["_digital_cohort"], T)
    te_d = eff["te_digital_nonfarm_emp_share"].to_numpy()
    att_gt = []
    for gy in sorted(P["dig_cohort_share"]):
        m = coh == gy
        for yr in years:
            cell = m & (y == yr)
            att_gt.append({"cohort": int(gy), "year": int(yr), "event_time": int(yr - gy),
                           "att": float(te_d[cell].mean()), "n": int(cell.sum())})
    agt = pd.DataFrame(att_gt)
    sizes = {int(gy): int((obs["_digital_cohort"] == gy).sum()) for gy in P["dig_cohort_share"]}
    ev_d = {}
    for e_ in range(0, int(years[-1] - min(sizes)) + 1):
        sub = agt[(agt["event_time"] == e_)]
        wts = np.array([sizes[k] for k in sub["cohort"]], dtype=float)
        ev_d[str(e_)] = float(np.sum(wts * sub["att"]) / wts.sum())
    Dd = panel["digital_pilot"].to_numpy() == 1
    att_all = float(te_d[Dd].mean())
    twfe_d = _twfe_estimand(Dd.astype(float), te_d, panel["county"].to_numpy(), y)
    digital = {
        "att_gt": att_gt,
        "att_by_event_time": ev_d,
        "att_overall": att_all,
        "cohort_sizes": {str(k): v for k, v in sizes.items()},
        "n_treated": int(sum(sizes.values())),
        "n_never_treated": int(n - sum(sizes.values())),
        "effect_parameters": {"alpha": {str(k): v for k, v in P["dig_alpha"].items()},
                              "growth_per_year": {str(k): v for k, v in P["dig_growth"].items()},
                              "unit_heterogeneity_sd_log": 0.25},
        "twfe_static_estimand": twfe_d,
        "twfe_bias_expected": (
            "negative: effects grow with exposure, so the static TWFE coefficient uses "
            "already-treated early cohorts as controls for later ones (Goodman-Bacon 2021) and "
            f"its expectation given the true effects is {twfe_d:.3f} pp against an overall ATT of "
            f"{att_all:.3f} pp (bias {twfe_d - att_all:+.3f} pp)."),
        "outcome": "nonfarm_emp_share",
        "parallel_trends": "hold in the untreated potential outcome (common year trend, county "
                           "effects, AR(1) noise); selection depends on development and region.",
    }
    return digital


def _threshold_truth(obs) -> dict:
    """The Hansen (1999) threshold in the slope of loans_gdp on log rural income."""
    P = _P
    flat = lambda a: np.asarray(a, dtype=float).reshape(-1)  # noqa: E731
    low = flat(obs["_low"]).astype(bool)
    threshold = {
        "gamma": float(np.log(P["gamma_yuan"])),
        "gamma_gdp_pc_yuan": P["gamma_yuan"],
        "beta_low": P["beta_low"], "beta_high": P["beta_high"],
        "share_low_regime": float(low.mean()),
        "threshold_variable": "log(gdp_pc)",
        "regressor": "loans_gdp",
        "dependent": "log(rural_income)",
        "sigma_e": P["sigma_r"],
        "other_regressors": ["land_transfer_rate (slope b)", "land-reform effects"],
        "note": "log(rural_income) = mu_i + lambda_t + b*land_transfer_rate + beta_low*loans_gdp*"
                "1[log(gdp_pc) <= gamma] + beta_high*loans_gdp*1[log(gdp_pc) > gamma] + land "
                "reform + e, e iid N(0, sigma_e^2); no intercept shift at gamma.",
    }
    return threshold


def _spatial_truth(w) -> dict:
    """The spatial Durbin model of log GDP per capita and its LeSage-Pace effects on the DGP's W."""
    P = _P
    eig = _w_eigenvalues(w)
    effects = lesage_pace_effects(P["rho"], P["beta_sdm"], P["theta_sdm"], eig)
    spatial = {
        "dependent": "log(gdp_pc)",
        "rho": P["rho"],
        "beta": dict(P["beta_sdm"]), "theta": dict(P["theta_sdm"]),
        "regressors": list(P["beta_sdm"]),
        "effects": effects,
        "sigma_e": P["sigma_g"],
        "fixed_effects": "county and year (two-way)",
        "W": "row-standardized queen contiguity of data/county_queen_edges.csv (islands attached "
             "to their nearest county), counties ordered by sorted adcode",
        "n_links": int(w.nnz),
        "note": "y_t = rho W y_t + X_t beta + W X_t theta + mu + lambda_t + e_t, solved per year "
                "with a sparse LU of (I - rho W); effects = LeSage-Pace on that W.",
    }
    return spatial
