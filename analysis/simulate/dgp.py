"""The SIMULATED data-generating process: random draws and one world of the county panel.

:func:`draw` makes every random draw once, in a fixed order, from one generator; :func:`generate`
turns the draws into one *world* (every column as a county x year array, at yearbook rounding)
given which programmes are on. :func:`analysis.simulate.county_panel` generates three worlds from
the same draws (everything on; land reform off; digital pilot off) and differences them, so the
effects are exact. The blocks below follow the equations of ``data/README.md``: latent
development, population and finance, land-reform exposure and the land transfer rate (mediator),
the spatial Durbin model of GDP per capita, incomes with the Hansen threshold, the staggered digital
pilot, and the indicators the programmes do not touch.
"""
from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from .columns import MISSING_COLUMNS
from .parameters import _P, _PROVINCE_DEV, _exposure

__all__ = ["draw", "generate"]


def _sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def _logit(p):
    return np.log(p / (1.0 - p))


def _round(x, dec):
    return np.round(np.asarray(x, dtype=float), dec)


def _cumgrowth(years, rates_from_2011):
    """Cumulative log growth relative to 2010 (1, N=1 x T); 5%/yr after, 10%/yr before."""
    out = []
    for yv in years:
        if yv <= 2010:
            out.append(-0.10 * (2010 - yv))
        else:
            k = yv - 2010
            r = list(rates_from_2011) + [0.05] * max(0, k - len(rates_from_2011))
            out.append(float(np.sum(r[:k])))
    return np.array(out)[None, :]


def _ar1(rng, n, t, phi, sd):
    """N x T AR(1) noise, stationary start."""
    z = rng.standard_normal((n, t)) * sd
    out = np.empty((n, t))
    out[:, 0] = z[:, 0] / np.sqrt(1 - phi ** 2)
    for j in range(1, t):
        out[:, j] = phi * out[:, j - 1] + z[:, j]
    return out


class _Draws:
    """All random draws, made once, in a fixed order."""


def draw(rng: np.random.Generator, c: pd.DataFrame, w: sp.csr_matrix, lu_field, T: int):
    """Every random draw of the panel for the frame ``c``: SAR fields, unit, province and noise terms.

    The order of the draws is part of the data: changing it changes every shipped number.

    Examples
    --------
    >>> import numpy as np, pandas as pd, scipy.sparse as sp
    >>> from scipy.sparse.linalg import splu
    >>> from analysis.simulate import contiguity_matrix
    >>> from analysis.simulate.dgp import draw, generate
    >>> from analysis.simulate.inputs import load_inputs, pilot_table
    >>> c, edges, pilots = load_inputs(None, None, None)
    >>> w = contiguity_matrix(c["adcode"], edges)
    >>> lu = splu((sp.identity(len(c), format="csc") - 0.85 * w).tocsc())  # the SAR fields' (I - 0.85 W)
    >>> years = np.arange(2010, 2023)
    >>> d = draw(np.random.default_rng(20261128), c, w, lu, len(years))
    >>> d.f.shape, d.e.shape  # 10 standardised SAR fields; 24 noise series per county-year
    ((2851, 10), (2851, 13, 24))
    """
    n = len(c)
    d = _Draws()

    def field():
        f = lu_field.solve(rng.standard_normal(n))
        return (f - f.mean()) / f.std()

    d.f = np.column_stack([field() for _ in range(10)])
    d.iid = rng.standard_normal((n, 12))
    d.prov = {p: rng.normal(0, 1) for p in sorted(c["province"].unique())}
    d.ar = {k: _ar1(rng, n, T, phi, 1.0) for k, phi in
            [("loans", 0.6), ("ltr", 0.5), ("dg", 0.5), ("urb", 0.6), ("nf", 0.3), ("misc", 0.5)]}
    d.e = rng.standard_normal((n, T, 24))
    d.dig_score = rng.standard_normal(n)
    d.dig_u = rng.random(n)
    d.dig_het = rng.standard_normal(n)
    d.dig_order = rng.standard_normal(n)
    d.missing_rate = {col: rng.uniform(0.01, 0.05) for col in MISSING_COLUMNS}
    d.missing_u = {col: rng.random((n, T)) for col in MISSING_COLUMNS}
    return d


def generate(c, w, d, years, ptab, land_on, dig_on):
    """One world: all columns as N x T arrays (rounded), given which programmes are on.

    Keys starting with ``_`` are not columns but the parts the truth needs (treatment, exposure,
    cohorts, the direct effect, the threshold regime, latent development).

    Examples
    --------
    The observed world with the shipped seed is the shipped panel (counties sorted by adcode, in rows):

    >>> import numpy as np, pandas as pd, scipy.sparse as sp
    >>> from scipy.sparse.linalg import splu
    >>> from analysis.simulate import contiguity_matrix
    >>> from analysis.simulate.dgp import draw, generate
    >>> from analysis.simulate.inputs import load_inputs, pilot_table
    >>> c, edges, pilots = load_inputs(None, None, None)
    >>> w = contiguity_matrix(c["adcode"], edges)
    >>> lu = splu((sp.identity(len(c), format="csc") - 0.85 * w).tocsc())  # the SAR fields' (I - 0.85 W)
    >>> years = np.arange(2010, 2023)
    >>> d = draw(np.random.default_rng(20261128), c, w, lu, len(years))
    >>> world = generate(c, w, d, years, pilot_table(pilots, pd.Index(c["adcode"])), True, True)
    >>> from analysis.datasets import load_county_panel
    >>> world["gdp_pc"].shape, bool(np.array_equal(world["gdp_pc"].ravel(), load_county_panel()["gdp_pc"]))
    ((2851, 13), True)
    """
    x = _frame(c, d, years)
    out = {}
    _population_and_finance(x, out)
    land = _land_exposure(c, ptab, years, land_on)
    ltr0 = _land_transfer_rate(x, land, out)
    _gdp_spatial_durbin(x, w, years, land, out)
    _incomes(x, w, years, land, ltr0, out)
    _digital_pilot(x, years, dig_on, out)
    out["_D_land"] = land.D
    out["_pilot_year"] = land.pyear[:, 0]
    out["_ev_land"] = land.ev
    out["_direct"] = x.direct
    out["_g"] = land.g
    out["_low"] = x.low
    out["_dev"] = x.dev
    _untouched_indicators(x, out)
    return out


def _frame(c, d, years):
    """The terms every equation uses: draws, region, district, province, latent development."""
    x = SimpleNamespace(d=d, f=d.f, iid=d.iid, e=d.e)
    x.n, x.T = len(c), len(years)
    x.t = (years - 2010)[None, :].astype(float)
    x.region = c["region"].to_numpy()
    x.east = (x.region == "east").astype(float)[:, None]
    x.west = (x.region == "west").astype(float)[:, None]
    x.neast = (x.region == "northeast").astype(float)[:, None]
    x.dist = (c["county_type"] == "district").to_numpy(float)[:, None]
    pcode = c["adcode"].str[:2].to_numpy()
    x.remote = np.isin(pcode, ["54", "63", "65"]).astype(float)[:, None]   # Tibet, Qinghai, Xinjiang
    prov = np.array([d.prov[p] for p in c["province"]])[:, None]
    x.lat = c["lat"].to_numpy(float)[:, None]
    x.lon = c["lon"].to_numpy(float)[:, None]
    x.area = c["area_km2"].to_numpy(float)[:, None]
    prov_dev = np.array([_PROVINCE_DEV.get(code, 0.0) for code in pcode])[:, None]
    x.dev = prov_dev + 0.55 * x.dist + 0.06 * prov + 0.22 * x.f[:, [0]] + 0.15 * x.iid[:, [0]]
    return x


def _population_and_finance(x, out):
    """Population, area, the digital-government score (moderator), loans/GDP and fiscal columns."""
    d, f, iid, e, t, dev, dist = x.d, x.f, x.iid, x.e, x.t, x.dev, x.dist
    logdens = (5.5 + 0.5 * dist + 0.4 * x.east - 0.7 * x.west - 1.0 * x.remote
               - 0.7 * (np.log(x.area) - np.log(1500)) + 0.45 * f[:, [1]]
               + 0.35 * iid[:, [1]])
    pop0 = np.exp(logdens) * x.area / 1e4
    pop_tr = np.where(dist > 0, 0.010, -0.003) * t + 0.004 * e[:, :, 0]
    pop = pop0 * np.exp(pop_tr)
    out["population"] = _round(pop / np.sqrt(1 + (pop / 800) ** 2), 2)
    out["area_km2"] = _round(np.repeat(x.area, x.T, axis=1), 1)
    dens = out["population"] * 1e4 / x.area
    ldens_c = np.log(dens) - 5.5

    # digital government score (moderator)
    dg = 100 * _sigmoid(-1.1 + 0.6 * dev + 0.20 * t + 0.25 * f[:, [2]] + 0.3 * iid[:, [2]]
                        + 0.10 * d.ar["dg"])
    out["digital_gov"] = _round(dg, 1)

    # loans / GDP
    loans = np.exp(np.log(0.55) + 0.15 * dev + 0.25 * f[:, [3]] + 0.2 * iid[:, [3]]
                   + 0.035 * t + 0.08 * d.ar["loans"])
    out["loans_gdp"] = _round(np.clip(loans, 0.05, 5.0), 3)

    # fiscal
    out["fiscal_selfsuff"] = _round(1.3 * _sigmoid(-0.9 + 1.3 * dev + 0.25 * f[:, [4]]
                                                    + 0.3 * iid[:, [4]] - 0.015 * t
                                                    - 1.0 * x.remote + 0.05 * e[:, :, 1]), 3)
    fe = (8.55 + 0.20 * dev - 0.30 * ldens_c + 0.6 * x.remote + 0.15 * iid[:, [5]]
          + np.minimum(t, 5) * 0.11 + np.maximum(t - 5, 0) * 0.05 + 0.06 * e[:, :, 2])
    out["fiscal_exp_pc"] = _round(np.exp(fe), 0)


def _land_exposure(c, ptab, years, land_on):
    """Land-reform timing: event time, treatment ``D``, exposure ``g`` and their switched copies."""
    pil_year = pd.Series(ptab["year"].to_numpy(), index=ptab["adcode"]).reindex(c["adcode"])
    land = SimpleNamespace()
    land.pyear = pil_year.to_numpy(float)[:, None]
    treated = np.isfinite(land.pyear)
    land.ev = np.where(treated, years[None, :] - np.nan_to_num(land.pyear, nan=9999), -99)
    land.D = ((land.ev >= 0) & treated).astype(float)
    land.g = _exposure(land.ev) * land.D
    if not land_on:
        land.D_eff, land.g_eff = np.zeros_like(land.D), np.zeros_like(land.g)
    else:
        land.D_eff, land.g_eff = land.D, land.g
    return land


def _land_transfer_rate(x, land, out):
    """The land transfer rate (the mediator, path a); returns its latent no-reform level."""
    ltr0 = 100 * _sigmoid(_logit(0.14) + 0.30 * x.dev + 0.5 * x.neast + 0.15 * x.east - 0.2 * x.west
                          + 0.3 * x.f[:, [5]] + 0.3 * x.iid[:, [6]] + 0.09 * x.t + 0.06 * x.d.ar["ltr"])
    out["land_transfer_rate"] = _round(np.clip(ltr0 + _P["a_full"] * land.g_eff, 0, 98), 1)
    return ltr0


def _gdp_spatial_durbin(x, w, years, land, out):
    """Log GDP per capita from a two-way FE spatial Durbin model, solved with a sparse LU."""
    P = _P
    rho = P["rho"]
    A = (sp.identity(x.n, format="csc") - rho * w).tocsc()
    lu = splu(A)
    m = 10.0 + 0.75 * x.dev + 0.10 * x.iid[:, [7]]                       # intended 2010 level
    gt = _cumgrowth(years, [.15, .10, .09, .08, .06, .065, .08, .08, .07, .025, .12, .045])
    L = out["loans_gdp"]
    x.Lbar = L.mean(axis=1, keepdims=True)
    bL, tL = P["beta_sdm"]["loans_gdp"], P["theta_sdm"]["loans_gdp"]
    bD, tD = P["beta_sdm"]["land_reform"], P["theta_sdm"]["land_reform"]
    mu = (A @ m) - bL * x.Lbar - tL * (w @ x.Lbar)
    lam = (1 - rho) * gt
    rhs = (bD * land.D_eff + bL * L + w @ (tD * land.D_eff + tL * L) + mu + lam
           + P["sigma_g"] * x.e[:, :, 3])
    y = lu.solve(rhs)
    out["gdp_pc"] = _round(np.exp(y), 0)


def _incomes(x, w, years, land, ltr0, out):
    """Rural income (mediation, moderation, spillover, Hansen threshold), income and consumption ratios.

    log rural income = mu_r + lambda_t + b * ltr + beta(q) * loans + land direct + spillover + e;
    urban income is built from the no-land rural income, so it is the same in every world.
    """
    P, e, t, dev, L, ltr = _P, x.e, x.t, x.dev, out["loans_gdp"], out["land_transfer_rate"]
    q = np.log(out["gdp_pc"])
    gamma = np.log(P["gamma_yuan"])
    x.low = q <= gamma
    beta_q = np.where(x.low, P["beta_low"], P["beta_high"])
    creg = np.array([P["c_region"][r] for r in x.region])[:, None]
    dg_base = out["digital_gov"][:, list(years).index(P["dg_base_year"])][:, None]
    x.direct = land.g_eff * (creg + P["kappa"] * (dg_base - P["dg_centre"]) / 10.0)
    spill = P["phi_spill"] * (w @ land.g_eff)
    rt = _cumgrowth(years, [.105, .09, .08, .072, .06, .056, .056, .06, .064, .044, .072, .04])
    ltr_mean = ltr0.mean(axis=1, keepdims=True)
    mu_r = (8.68 + 0.50 * dev + 0.10 * x.f[:, [6]] + 0.08 * x.iid[:, [8]]
            - P["b"] * ltr_mean - 0.12 * x.Lbar)
    lr = mu_r + rt + P["b"] * ltr + beta_q * L + x.direct + spill + P["sigma_r"] * e[:, :, 4]
    out["rural_income"] = _round(np.exp(lr), 0)
    # urban income does not depend on either programme (same in every world)
    lr_base = (mu_r + rt + P["b"] * _round(np.clip(ltr0, 0, 98), 1) + 0.12 * L
               + P["sigma_r"] * e[:, :, 4])
    log_ratio0 = (np.log(2.6) - 0.10 * dev + 0.10 * x.west - 0.06 * x.dist + 0.05 * x.iid[:, [9]]
                  - 0.018 * t + 0.02 * e[:, :, 5])
    urban = np.exp(lr_base + log_ratio0)
    out["income_ratio"] = _round(urban / out["rural_income"], 2)
    out["consumption_ratio"] = _round(np.exp(0.85 * log_ratio0 - 0.04 + 0.03 * e[:, :, 6]
                                             - 0.012 * t), 2)


def _digital_pilot(x, years, dig_on, out):
    """The staggered digital pilot: selection, cohorts and its effect on ``nonfarm_emp_share``."""
    P, d = _P, x.d
    score = 0.9 * x.dev[:, 0] + 0.4 * x.east[:, 0] + d.dig_score
    p_sel = _sigmoid(-1.05 + 1.0 * (score - score.mean()) / score.std())
    sel = d.dig_u < p_sel
    idx = np.flatnonzero(sel)
    order = idx[np.argsort(-(score[idx] + 0.7 * d.dig_order[idx]),
                           kind="mergesort")]
    cohorts = np.full(x.n, np.nan)
    shares = np.array(list(P["dig_cohort_share"].values()))
    cuts = np.round(np.cumsum(shares) * len(order)).astype(int)
    for yr, lo, hi in zip(P["dig_cohort_share"], np.r_[0, cuts[:-1]], cuts):
        cohorts[order[lo:hi]] = yr
    dev_nf = 15 + 70 * _sigmoid(-0.1 + 1.5 * x.dev + 0.4 * x.f[:, [7]] + 0.35 * x.iid[:, [10]])
    nf0 = dev_nf + 0.95 * x.t + 1.0 * d.ar["nf"]
    evd = years[None, :] - np.nan_to_num(cohorts, nan=9999)[:, None]
    alpha = np.array([P["dig_alpha"].get(int(v), 0) if np.isfinite(v) else 0 for v in cohorts])
    grow = np.array([P["dig_growth"].get(int(v), 0) if np.isfinite(v) else 0 for v in cohorts])
    het = np.exp(0.25 * d.dig_het - 0.25 ** 2 / 2)
    te_d = np.where(evd >= 0, (alpha[:, None] + grow[:, None] * np.maximum(evd, 0)) * het[:, None],
                    0.0)
    out["nonfarm_emp_share"] = _round(np.clip(nf0 + (te_d if dig_on else 0.0), 1, 99.5), 1)
    out["_digital_cohort"] = cohorts


def _untouched_indicators(x, out):
    """The raw indicators neither programme affects (same in every world)."""
    d, f, iid, e, t, dev, dist, remote = x.d, x.f, x.iid, x.e, x.t, x.dev, x.dist, x.remote
    lat, lon = x.lat, x.lon
    urb_i = -0.75 + 1.45 * dev + 0.3 * f[:, [8]] + 0.25 * iid[:, [11]]
    out["urbanization_rate"] = _round(5 + 94 * _sigmoid(urb_i + 0.055 * t + 0.04 * d.ar["urb"]), 1)
    pen = 100 * _sigmoid(-0.4 + 0.3 * dev + 0.55 * np.clip(t, 0, 3) + 0.08 * np.maximum(t - 3, 0)
                         + 0.3 * f[:, [9]] + 0.15 * e[:, :, 7])
    out["pension_coverage"] = _round(np.clip(pen, 0, 100), 1)
    rd = np.exp(np.log(0.75) + 0.45 * dev + 0.5 * dist - 1.4 * remote + 0.3 * f[:, [1]]
                + 0.2 * iid[:, [2]] + 0.022 * t + 0.02 * e[:, :, 8])
    out["road_density"] = _round(np.clip(rd, 0.01, 8), 2)
    bu = np.exp(np.log(3.5) + 0.5 * dev + 1.2 * dist - 1.6 * remote + 0.45 * f[:, [1]]
                + 0.25 * iid[:, [3]] + 0.018 * t + 0.02 * e[:, :, 9])
    out["builtup_share"] = _round(95 * bu / (95 + bu), 2)
    bb = 100 * _sigmoid(-2.2 + 0.7 * dev + 0.33 * t + 0.25 * f[:, [2]] + 0.15 * e[:, :, 10])
    out["broadband_rate"] = _round(np.clip(bb, 0, 100), 1)
    ps = np.exp(np.log(20) - 0.6 * dev - 1.2 * dist + 0.2 * iid[:, [4]] - 0.02 * t
                + 0.05 * e[:, :, 11])
    out["nonagri_share"] = _round(100 - 60 * ps / (60 + ps), 1)
    ap = np.exp(np.log(19000) + 0.35 * dev + 0.3 * x.neast + 0.2 * f[:, [5]] + 0.2 * iid[:, [5]]
                + 0.075 * t + 0.05 * e[:, :, 12])
    out["ag_productivity"] = _round(ap, 0)
    hb = np.exp(np.log(3.2) + 0.15 * dev + 0.25 * dist + 0.15 * iid[:, [6]] + 0.055 * t
                + 0.04 * e[:, :, 13])
    out["hospital_beds"] = _round(np.clip(hb, 0.8, 15), 2)
    tp = np.exp(np.log(105) - 0.05 * dev + 0.12 * iid[:, [7]] + 0.15 * remote + 0.006 * t
                + 0.03 * e[:, :, 14])
    out["teachers_per10k"] = _round(tp, 1)
    fz = np.exp(np.log(400) + 0.15 * dev - 0.9 * remote + 0.2 * f[:, [6]] + 0.2 * iid[:, [8]]
                + 0.03 * np.minimum(t, 5) - 0.035 * np.maximum(t - 5, 0) + 0.05 * e[:, :, 15])
    out["fertilizer_intensity"] = _round(1800 * fz / (1800 + fz), 1)
    south = _sigmoid((33 - lat) / 3.0) * _sigmoid((lon - 103) / 3)
    fc_i = 80 * _sigmoid(-1.6 + 2.8 * south - 0.6 * (lon < 100) - 1.0 * ((lat > 38) & (lon < 110))
                          + 0.7 * f[:, [4]] + 0.35 * iid[:, [9]] - 0.4 * dist)
    out["forest_cover"] = _round(np.clip(fc_i + 0.25 * t + 0.3 * e[:, :, 16], 0, 85), 1)
    sw = 100 * _sigmoid(0.1 + 0.5 * dev + 0.25 * t + 0.2 * f[:, [3]] + 0.15 * e[:, :, 17])
    out["sewage_treatment"] = _round(np.clip(sw, 0, 100), 1)
    st = 100 * _sigmoid(0.55 + 0.6 * dev + 0.08 * t + 0.35 * f[:, [9]] + 0.1 * e[:, :, 18])
    out["sanitary_toilet"] = _round(np.clip(st, 0, 100), 1)
    hot = np.exp(-(((lon - 115.5) / 6.0) ** 2) - (((lat - 36.5) / 5.0) ** 2))
    pm_i = np.exp(np.log(46) + 0.9 * hot - 0.6 * remote - 0.35 * (lat < 25) + 0.12 * f[:, [8]]
                  + 0.08 * iid[:, [10]])
    pm_t = np.where(t <= 3, 0.02 * t, 0.06 - 0.065 * (t - 3))
    out["pm25"] = _round(np.clip(pm_i * np.exp(pm_t + 0.05 * e[:, :, 19]), 3, 200), 1)
