"""The SIMULATED county panel: :func:`county_panel` draws it, with its truth and true effects.

The panel is generated three times from the same draws (everything on; land reform off; digital
pilot off, see :mod:`analysis.simulate.dgp`) and the worlds are differenced, so
``observed - effects`` is the exact counterfactual panel at the published rounding.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from ..errors import SpecificationError
from .columns import COVARIATES, DECIMALS, DEFAULT_SEED, MISSING_COLUMNS, RAW_INDICATORS
from .dgp import _round, draw, generate
from .inputs import load_inputs, pilot_table, zone_members
from .truth import ground_truth
from .weights import contiguity_matrix

__all__ = ["county_panel"]


def county_panel(seed: int | np.random.Generator = DEFAULT_SEED, start: int = 2010,
                 end: int = 2022, *, counties: pd.DataFrame | None = None,
                 edges: pd.DataFrame | None = None, pilots: pd.DataFrame | None = None
                 ) -> tuple[pd.DataFrame, dict, pd.DataFrame]:
    """Simulate the county panel, its ground truth and the county-year true effects.

    Parameters
    ----------
    seed : int or numpy Generator
        Everything is drawn from ``np.random.default_rng(seed)``.
    start, end : int
        First and last year (inclusive). Must cover 2013-2020 so that every programme has
        pre- and post-periods.
    counties, edges, pilots : DataFrame, optional
        The county frame, queen edges and land-reform pilots (default: the shipped real ones,
        :mod:`analysis.datasets`). Other frames are for tests only.

    Returns
    -------
    panel : DataFrame
        One row per county-year; columns as in ``docs/simulation.md``, at yearbook rounding.
    truth : dict
        JSON-ready ground truth (``truth.json``).
    effects : DataFrame
        ``county``, ``year`` and the additive effect of each programme on each affected column
        (``te_land_*``, ``te_digital_*``) plus the spillover parts ``spill_land_*`` (the part of
        ``te_land_*`` in county-years not treated themselves; already inside ``te_land_*``).

    Notes
    -----
    SIMULATED data. The DGP (see ``data/README.md``): latent development from region, district
    status, province effects and SAR fields on the queen graph; land reform on
    ``land_transfer_rate`` (a path) and log rural income (b path and direct c'), growing with
    exposure, by region and moderated by ``digital_gov`` of 2014, with spillovers to neighbours; a
    staggered digital pilot on ``nonfarm_emp_share``; a Hansen (1999) threshold in the slope of
    ``loans_gdp`` on log rural income; log GDP per capita from a two-way FE spatial Durbin model
    (LeSage and Pace 2009 effects stored).

    Examples
    --------
    Not run as a doctest: the draw takes several seconds (a dense eigendecomposition of the
    2,851-county W). With the default seed it reproduces the shipped panel exactly:

    >>> from analysis.datasets import load_county_panel
    >>> from analysis.simulate import county_panel
    >>> panel, truth, effects = county_panel()  # doctest: +SKIP
    >>> panel.shape, effects.shape  # doctest: +SKIP
    ((37063, 39), (37063, 14))
    >>> truth["n_counties"], truth["n_years"], round(truth["land_reform"]["att_log_rural_income"], 4)  # doctest: +SKIP
    (2851, 13, 0.082)
    >>> shipped = load_county_panel()  # gdp_pc and rural_income (whole yuan) are read back as int64
    >>> panel.equals(shipped.astype(panel.dtypes.to_dict()))  # doctest: +SKIP
    True
    """
    if not (start <= 2013 and end >= 2020):
        raise SpecificationError(
            f"start={start}, end={end}: the panel must cover 2013-2020 so that every programme "
            "(land reform 2015-2017, digital cohorts 2014-2020) has pre- and post-periods.")
    rng = np.random.default_rng(seed)
    c, edges, pilots = load_inputs(counties, edges, pilots)
    ids = pd.Index(c["adcode"])
    n = len(c)
    years = np.arange(start, end + 1)
    T = len(years)
    w = contiguity_matrix(ids, edges)
    eye = sp.identity(n, format="csc")
    lu_field = splu((eye - 0.85 * w).tocsc())
    d = draw(rng, c, w, lu_field, T)
    ptab = pilot_table(pilots, ids)
    world = {}
    for key, land_on, dig_on in [("obs", True, True), ("noland", False, True),
                                 ("nodig", True, False)]:
        world[key] = generate(c, w, d, years, ptab, land_on, dig_on)
    panel, truth, effects = _assemble(c, w, d, years, ptab, world, seed)
    return panel, truth, effects


def _assemble(c, w, d, years, ptab, world, seed):
    """The panel, the effects table and the truth from the three worlds (observed, no land, no digital)."""
    n, T = len(c), len(years)
    obs, nol, nod = world["obs"], world["noland"], world["nodig"]
    rep = lambda a: np.repeat(np.asarray(a), T)
    til = lambda a: np.tile(np.asarray(a), n)
    flat = lambda a: np.asarray(a, dtype=float).reshape(-1)

    panel = pd.DataFrame({
        "county": rep(c["adcode"].to_numpy()), "year": til(years).astype(int),
        "name": rep(c["name"]), "prefecture": rep(c["prefecture"]),
        "province": rep(c["province"]), "region": rep(c["region"]),
        "county_type": rep(c["county_type"]),
    })
    for col in RAW_INDICATORS + COVARIATES:
        panel[col] = flat(obs[col])
    # missing cells (missing completely at random, only in the *m* columns)
    for col in MISSING_COLUMNS:
        mask = np.asarray(d.missing_u[col] < d.missing_rate[col]).reshape(-1)
        panel.loc[mask, col] = np.nan
    D = obs["_D_land"]
    panel["land_reform"] = flat(D).astype(int)
    ptype = pd.Series(ptab["type"].to_numpy(), index=ptab["adcode"]).reindex(c["adcode"])
    panel["land_reform_year"] = pd.array(rep(obs["_pilot_year"]), dtype="Float64").astype("Int64")
    panel["land_reform_type"] = pd.Series(rep(ptype.to_numpy()), dtype="str")
    coh = obs["_digital_cohort"]
    panel["digital_pilot"] = (np.isfinite(rep(coh)) & (panel["year"].to_numpy() >= np.nan_to_num(
        rep(coh), nan=9999))).astype(int)
    panel["digital_pilot_year"] = pd.array(rep(coh), dtype="Float64").astype("Int64")
    zone, members = zone_members(c, w)
    panel["integration_zone"] = rep(zone).astype(int)

    # effects
    eff = pd.DataFrame({"county": panel["county"], "year": panel["year"]})
    land_cols = ["land_transfer_rate", "rural_income", "income_ratio", "gdp_pc"]
    for col in land_cols:
        eff[f"te_land_{col}"] = _round(flat(obs[col]) - flat(nol[col]), DECIMALS[col])
    eff["te_land_log_rural_income"] = flat(np.log(obs["rural_income"]) - np.log(nol["rural_income"]))
    eff["te_land_log_gdp_pc"] = flat(np.log(obs["gdp_pc"]) - np.log(nol["gdp_pc"]))
    untreated = flat(D) == 0
    for col in ["rural_income", "income_ratio", "gdp_pc", "log_rural_income", "log_gdp_pc"]:
        eff[f"spill_land_{col}"] = np.where(untreated, eff[f"te_land_{col}"], 0.0)
    eff["te_digital_nonfarm_emp_share"] = _round(
        flat(obs["nonfarm_emp_share"]) - flat(nod["nonfarm_emp_share"]), 1)
    # sanity: programmes touch nothing else
    for col in RAW_INDICATORS + COVARIATES:
        if col not in land_cols and not np.array_equal(obs[col], nol[col]):
            raise AssertionError(f"land reform leaked into {col}")
        if col != "nonfarm_emp_share" and not np.array_equal(obs[col], nod[col]):
            raise AssertionError(f"digital pilot leaked into {col}")

    truth = ground_truth(c, w, years, ptab, obs, panel, eff, seed, members)
    return panel, truth, eff
