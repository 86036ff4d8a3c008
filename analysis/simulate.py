"""The SIMULATED county panel of CountyFusion and its ground truth.

:func:`county_panel` draws a balanced county-year panel (2010-2022 by default) on the real county
frame (``data/counties.csv``) and its queen contiguity (``data/county_queen_edges.csv``), with 20
raw indicators in yearbook units, covariates, the real 2015 land-reform pilots with simulated
effects, a simulated staggered digital-government pilot, a panel threshold in the rural-income
equation and a spatial Durbin model of GDP per capita. It returns the panel, the ground truth
(a JSON-ready dict) and the county-year table of true effects. The schema is the contract in
``docs/simulation.md``; the data-generating process is summarised in ``data/README.md``.

Everything is drawn from one ``np.random.default_rng(seed)``: the same seed gives the same output
bit for bit. The effects are computed by generating the panel three times with the same draws
(everything on; land reform off; digital pilot off) and differencing, so ``observed - effects`` is
the exact counterfactual panel at the published rounding (see :func:`counterfactual` and
:func:`true_effect`).

The data are SIMULATED. They look like yearbook data, but no cell is a real statistic.
"""
from __future__ import annotations

import hashlib
import json
from typing import Callable, Iterable

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.linalg import splu

from .errors import ColumnError, SpecificationError, WeightsMatrixError, check_choice

__all__ = [
    "county_panel",
    "counterfactual",
    "true_effect",
    "contiguity_matrix",
    "lesage_pace_effects",
    "RAW_INDICATORS",
    "MISSING_COLUMNS",
    "COVARIATES",
    "POLICY_COLUMNS",
    "FRAME_COLUMNS",
    "DECIMALS",
    "CODEBOOK",
    "codebook",
    "PROGRAMMES",
]

DEFAULT_SEED = 20261128

FRAME_COLUMNS = ["county", "year", "name", "prefecture", "province", "region", "county_type"]

# column: (label_zh, label_en, unit, dimension, direction, may_be_missing, decimals, description)
CODEBOOK: dict[str, tuple] = {
    "urbanization_rate": ("常住人口城镇化率", "Urbanization rate (resident population)", "%",
                          "population", "+", True, 1,
                          "Urban residents / resident population; logistic path rising ~1 pp/yr."),
    "nonfarm_emp_share": ("非农就业比重", "Non-farm employment share", "%", "population", "+",
                          False, 1,
                          "Non-farm employed / employed; outcome of the simulated digital pilot."),
    "pension_coverage": ("城乡居民养老保险参保率", "Resident pension insurance coverage", "%",
                         "population", "+", True, 1,
                         "Insured / eligible residents; rural pension roll-out 2009-2012."),
    "road_density": ("公路密度", "Road density", "km/km²", "space", "+", True, 2,
                     "Highway length / land area."),
    "builtup_share": ("建设用地占比", "Built-up land share", "%", "space", "+", True, 2,
                      "Construction land / land area."),
    "broadband_rate": ("农村宽带普及率", "Rural broadband penetration",
                       "households per 100 rural households", "space", "+", True, 1,
                       "Rural broadband subscriptions per 100 rural households."),
    "gdp_pc": ("人均地区生产总值", "GDP per capita", "yuan", "economy", "+", False, 0,
               "Nominal GDP / resident population; log(gdp_pc) follows a two-way FE spatial "
               "Durbin model."),
    "rural_income": ("农村居民人均可支配收入", "Rural per-capita disposable income", "yuan",
                     "economy", "+", False, 0,
                     "Nominal; outcome of the land reform (log) and of the threshold model."),
    "income_ratio": ("城乡居民收入比", "Urban/rural income ratio", "ratio", "economy", "-", False,
                     2, "Urban / rural per-capita disposable income (urban income is unaffected "
                        "by the programmes)."),
    "nonagri_share": ("非农产业增加值占比", "Non-agricultural share of GDP", "% of GDP",
                      "economy", "+", True, 1, "(Secondary + tertiary value added) / GDP."),
    "ag_productivity": ("农业劳动生产率", "Agricultural labour productivity",
                        "yuan per agricultural worker", "economy", "+", True, 0,
                        "Primary-sector value added / primary-sector employment."),
    "hospital_beds": ("每千人医疗卫生机构床位数", "Hospital beds per 1,000 persons", "beds per 1,000",
                      "society", "+", True, 2, "Beds in medical institutions per 1,000 residents."),
    "teachers_per10k": ("每万人专任教师数", "Full-time teachers per 10,000 persons",
                        "teachers per 10,000", "society", "+", True, 1,
                        "Primary and secondary full-time teachers per 10,000 residents."),
    "consumption_ratio": ("城乡居民消费比", "Urban/rural consumption ratio", "ratio", "society",
                          "-", True, 2, "Urban / rural per-capita consumption expenditure."),
    "fiscal_exp_pc": ("人均一般公共预算支出", "General budget expenditure per capita", "yuan",
                      "society", "+", True, 0, "Nominal; high in sparsely populated western "
                                               "counties because of transfers."),
    "fertilizer_intensity": ("化肥施用强度", "Fertilizer intensity", "kg/ha", "ecology", "-",
                             True, 1, "Fertilizer (pure nutrient) / sown area; peaks ~2015."),
    "forest_cover": ("森林覆盖率", "Forest cover", "%", "ecology", "+", True, 1,
                     "Forest area / land area."),
    "sewage_treatment": ("污水处理率", "Sewage treatment rate", "%", "ecology", "+", True, 1,
                         "Treated / total sewage of the county seat."),
    "sanitary_toilet": ("农村卫生厕所普及率", "Rural sanitary toilet coverage", "%", "ecology",
                        "+", True, 1, "Rural households with a sanitary toilet / all rural "
                                      "households."),
    "pm25": ("PM2.5年均浓度", "Annual mean PM2.5", "µg/m³", "ecology", "-", True, 1,
             "Annual mean PM2.5 concentration; falls from 2014 (air pollution action plan)."),
    # covariates
    "population": ("常住人口", "Resident population", "10,000 persons", "covariate", "", False, 2,
                   "Year-end resident population."),
    "area_km2": ("行政区域面积", "Land area", "km²", "covariate", "", False, 1,
                 "From the real county frame (data/counties.csv), constant."),
    "loans_gdp": ("金融机构贷款余额/GDP", "Loans / GDP (rural financial depth)", "ratio",
                  "covariate", "", False, 3,
                  "Regressor whose slope has a threshold in log(gdp_pc); regressor of the SDM."),
    "land_transfer_rate": ("土地流转率", "Farmland transfer rate",
                           "% of contracted farmland", "covariate", "", False, 1,
                           "Transferred / household-contracted farmland; mediator of the land "
                           "reform."),
    "fiscal_selfsuff": ("财政自给率", "Fiscal self-sufficiency", "ratio", "covariate", "", False,
                        3, "General budget revenue / general budget expenditure."),
    "digital_gov": ("数字政府发展指数", "Digital government score", "0-100 score", "covariate", "",
                    False, 1, "Composite score; moderates the land-reform effect."),
    # policies
    "land_reform": ("农村土地制度改革试点", "Land-reform pilot in force", "0/1", "policy", "",
                    False, 0, "1 from land_reform_year on (the 33 real 2015 pilots; effects "
                              "simulated)."),
    "land_reform_year": ("土地改革试点开始年份", "Land-reform adoption year", "year", "policy", "",
                         False, 0, "2015 market-entry pilots, 2016/2017 the others "
                                   "(all_three_reforms_from); empty for non-pilots."),
    "land_reform_type": ("土地改革试点类型", "Land-reform pilot type", "category", "policy", "",
                         False, 0, "market_entry / homestead / expropriation (first reform "
                                   "piloted); empty for non-pilots."),
    "digital_pilot": ("数字乡村试点（模拟）", "Digital pilot in force (SIMULATED)", "0/1", "policy",
                      "", False, 0, "Simulated staggered programme."),
    "digital_pilot_year": ("数字乡村试点年份（模拟）", "Digital pilot cohort (SIMULATED)", "year",
                           "policy", "", False, 0,
                           "2014/2016/2018/2020; empty for never-treated counties."),
    "integration_zone": ("国家城乡融合发展试验区（近似）", "2019 integration pilot zone "
                         "(approximate)", "0/1", "policy", "", False, 0,
                         "Membership SIMULATED/approximate: contiguous counties around the 11 "
                         "zones of 2019, for the robustness exclusion."),
}

RAW_INDICATORS = [c for c, v in CODEBOOK.items() if v[3] in
                  ("population", "space", "economy", "society", "ecology")]
MISSING_COLUMNS = [c for c in RAW_INDICATORS if CODEBOOK[c][5]]
COVARIATES = [c for c, v in CODEBOOK.items() if v[3] == "covariate"]
POLICY_COLUMNS = [c for c, v in CODEBOOK.items() if v[3] == "policy"]
DECIMALS = {c: v[6] for c, v in CODEBOOK.items() if v[3] != "policy"}

PROGRAMMES = {"land_reform": "land", "digital_pilot": "digital"}

_PILOT_TYPE = {
    "collective_construction_land_market_entry": "market_entry",
    "homestead_reform": "homestead",
    "land_expropriation_reform": "expropriation",
}

# The 11 national urban-rural integration pilot zones of 2019 (approximate membership, by name).
_ZONES = {
    "浙江嘉湖片区": ("浙江", ["嘉兴市", "湖州市"], []),
    "福建福州东部片区": ("福建", [], ["仓山区", "马尾区", "长乐区", "福清市", "闽侯县", "连江县", "罗源县"]),
    "广东广清接合区": ("广东", [], ["增城区", "花都区", "从化区", "清城区", "清新区", "佛冈县", "英德市"]),
    "江苏宁锡常接合片区": ("江苏", [], ["溧水区", "高淳区", "宜兴市", "金坛区", "溧阳市"]),
    "山东济青局部片区": ("山东", [], ["章丘区", "济阳区", "淄川区", "周村区", "即墨区", "平度市", "莱西市"]),
    "河南许昌": ("河南", ["许昌市"], []),
    "江西鹰潭": ("江西", ["鹰潭市"], []),
    "四川成都西部片区": ("四川", [], ["温江区", "郫都区", "彭州市", "都江堰市", "崇州市", "邛崃市", "大邑县", "蒲江县"]),
    "重庆西部片区": ("重庆", [], ["荣昌区", "永川区", "大足区", "铜梁区", "璧山区", "潼南区", "合川区", "江津区"]),
    "陕西西咸接合片区": ("陕西", [], ["高陵区", "鄠邑区", "泾阳县", "三原县", "兴平市", "武功县"]),
    "吉林长吉接合片区": ("吉林", [], ["九台区", "双阳区", "永吉县", "昌邑区", "船营区"]),
}

# Stylized development offsets by province (2-digit adcode prefix): an east > central/northeast >
# west gradient with the richer coastal provinces and municipalities on top. Invented for the
# simulation, loosely ordered like provincial GDP per capita; not data.
_PROVINCE_DEV = {
    "11": 0.90, "12": 0.55, "13": -0.10, "14": -0.10, "15": 0.25, "21": 0.05, "22": -0.05,
    "23": -0.15, "31": 0.90, "32": 0.70, "33": 0.65, "34": 0.00, "35": 0.50, "36": -0.05,
    "37": 0.30, "41": -0.05, "42": 0.15, "43": 0.00, "44": 0.35, "45": -0.25, "46": 0.00,
    "50": 0.15, "51": -0.05, "52": -0.30, "53": -0.30, "54": -0.40, "61": 0.05, "62": -0.45,
    "63": -0.20, "64": -0.15, "65": -0.10,
}

# --- DGP parameters (the truth) -------------------------------------------------------------
_P = dict(
    # land reform
    a_full=9.0,            # pp of land_transfer_rate at full exposure
    b=0.004,               # log rural income per pp of land_transfer_rate
    c_region={"east": 0.045, "central": 0.060, "northeast": 0.055, "west": 0.075},
    kappa=0.020,           # per 10 points of baseline digital_gov above the centre, full exposure
    dg_base_year=2014,     # the moderator is digital_gov in the year before the reform
    dg_centre=40.0,
    phi_spill=0.080,       # log rural income per unit of W(D*g) in neighbours
    # digital pilot effects on nonfarm_emp_share (pp): alpha_g + growth_g * event_time
    dig_alpha={2014: 1.0, 2016: 1.2, 2018: 1.5, 2020: 1.8},
    dig_growth={2014: 0.90, 2016: 0.70, 2018: 0.50, 2020: 0.35},
    dig_cohort_share={2014: 0.30, 2016: 0.28, 2018: 0.24, 2020: 0.18},
    # threshold
    beta_low=0.06, beta_high=0.18, gamma_yuan=36000.0,
    sigma_r=0.035,
    # spatial Durbin of log(gdp_pc)
    rho=0.40,
    beta_sdm={"land_reform": 0.030, "loans_gdp": 0.150},
    theta_sdm={"land_reform": 0.020, "loans_gdp": 0.060},
    sigma_g=0.045,
)


def _exposure(e: np.ndarray) -> np.ndarray:
    """Share of the full effect reached e years after adoption (0 before adoption)."""
    e = np.asarray(e, dtype=float)
    return np.where(e >= 0, 1.0 - 0.6 * 0.7 ** np.clip(e, 0, None), 0.0)


# --- spatial weights --------------------------------------------------------------------------

def contiguity_matrix(adcodes: Iterable[str], edges: pd.DataFrame) -> sp.csr_matrix:
    """Row-standardized queen contiguity W (scipy.sparse CSR) ordered as ``adcodes``: the W of the
    data-generating process. It equals :func:`analysis.spatial.queen_weights` (tested); the
    simulator keeps this small builder so that the shipped data do not depend on the estimation code.

    ``edges`` has columns ``adcode_a``, ``adcode_b`` (undirected; islands already attached to
    their nearest unit, see :func:`analysis.datasets.load_county_edges`). The binary matrix is
    symmetrized before row standardization.
    """
    ids = pd.Index(list(adcodes))
    for col in ("adcode_a", "adcode_b"):
        if col not in edges.columns:
            raise ColumnError(f"edges lacks column {col!r}; pass load_county_edges().")
    ia = ids.get_indexer(edges["adcode_a"].astype(str))
    ib = ids.get_indexer(edges["adcode_b"].astype(str))
    bad = (ia < 0) | (ib < 0)
    if bad.any():
        raise WeightsMatrixError(
            f"{int(bad.sum())} edges name counties that are not in the frame, e.g. "
            f"{edges.loc[bad, ['adcode_a', 'adcode_b']].head(3).values.tolist()}; rebuild the "
            "edges and the county frame from the same boundary layer.")
    keep = ia != ib
    ia, ib = ia[keep], ib[keep]
    n = len(ids)
    a = sp.coo_matrix((np.ones(2 * len(ia)), (np.r_[ia, ib], np.r_[ib, ia])), shape=(n, n)).tocsr()
    a.data[:] = 1.0
    deg = np.asarray(a.sum(axis=1)).ravel()
    if (deg == 0).any():
        iso = ids[deg == 0]
        raise WeightsMatrixError(
            f"{len(iso)} counties have no neighbour ({', '.join(iso[:8])}); attach islands to "
            "their nearest county in the edge list.")
    return sp.diags(1.0 / deg) @ a


_EIG_CACHE: dict = {}


def _w_eigenvalues(w: sp.csr_matrix) -> np.ndarray:
    """Eigenvalues of a row-standardized symmetric-binary W (real; via D^-1/2 A D^-1/2).

    Cached per sparsity pattern within the process (the dense eigen-solve dominates the run time).
    """
    w = w.tocsr()
    key = (w.shape, hashlib.sha1(w.indptr.tobytes() + w.indices.tobytes()).hexdigest())
    if key not in _EIG_CACHE:
        _EIG_CACHE.clear()
        _EIG_CACHE[key] = _w_eigenvalues_uncached(w)
    return _EIG_CACHE[key].copy()


def _w_eigenvalues_uncached(w: sp.csr_matrix) -> np.ndarray:
    a = w.copy()
    a.data[:] = 1.0
    d = np.asarray(a.sum(axis=1)).ravel()
    s = sp.diags(d ** -0.5) @ a @ sp.diags(d ** -0.5)
    return np.linalg.eigvalsh(s.toarray())


def lesage_pace_effects(rho: float, beta: dict, theta: dict,
                        eigenvalues: np.ndarray) -> dict:
    """LeSage-Pace (2009) direct, indirect and total effects of an SDM with row-standardized W.

    S_k = (I - rho W)^-1 (beta_k I + theta_k W); direct = tr(S_k)/N, total = mean row sum
    = (beta_k + theta_k)/(1 - rho), indirect = total - direct. Computed from the eigenvalues
    ``eigenvalues`` of W (closed form; exact for W similar to a symmetric matrix).
    """
    om = np.asarray(eigenvalues, dtype=float)
    m1 = np.mean(1.0 / (1.0 - rho * om))
    m2 = np.mean(om / (1.0 - rho * om))
    out = {}
    for k in beta:
        direct = beta[k] * m1 + theta[k] * m2
        total = (beta[k] + theta[k]) / (1.0 - rho)
        out[k] = {"direct": float(direct), "indirect": float(total - direct),
                  "total": float(total)}
    return out


# --- helpers ----------------------------------------------------------------------------------

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


def _load_inputs(counties, edges, pilots):
    if counties is None or edges is None or pilots is None:
        from . import datasets
        counties = datasets.load_counties() if counties is None else counties
        edges = datasets.load_county_edges() if edges is None else edges
        pilots = datasets.load_land_reform_pilots() if pilots is None else pilots
    need = ["adcode", "name", "prefecture", "province", "region", "county_type", "lon", "lat",
            "area_km2"]
    miss = [c for c in need if c not in counties.columns]
    if miss:
        raise ColumnError(f"the county frame lacks {miss}; pass analysis.datasets.load_counties().")
    counties = counties.assign(adcode=counties["adcode"].astype(str).str.zfill(6))
    counties = counties.sort_values("adcode", kind="mergesort").reset_index(drop=True)
    if counties["adcode"].duplicated().any():
        raise SpecificationError("duplicated adcodes in the county frame.")
    return counties, edges, pilots


def _pilot_table(pilots: pd.DataFrame, ids: pd.Index) -> pd.DataFrame:
    p = pilots.copy()
    p["adcode"] = p["adcode_current"].astype(str).str.zfill(6)
    p["type"] = p["initial_pilot_type_en"].map(_PILOT_TYPE)
    if p["type"].isna().any():
        raise SpecificationError(
            f"unknown initial_pilot_type_en {sorted(set(p.loc[p['type'].isna(), 'initial_pilot_type_en']))}.")
    p["year"] = np.where(p["type"] == "market_entry", 2015,
                         p["all_three_reforms_from"].astype(int))
    absent = sorted(set(p["adcode"]) - set(ids))
    if absent:
        raise SpecificationError(f"land-reform pilots {absent} are not in the county frame.")
    return p[["adcode", "year", "type"]].sort_values("adcode").reset_index(drop=True)


def _zone_members(c: pd.DataFrame, w: sp.csr_matrix) -> tuple[np.ndarray, dict]:
    flag = np.zeros(len(c), dtype=int)
    members = {}
    for zone, (prov, prefs, names) in _ZONES.items():
        inprov = c["province"].str.startswith(prov)
        sel = inprov & (c["prefecture"].isin(prefs) | c["name"].isin(names))
        flag[sel.to_numpy()] = 1
        members[zone] = c.loc[sel, "adcode"].tolist()
    return flag, members


# --- the generator ----------------------------------------------------------------------------

class _Draws:
    """All random draws, made once, in a fixed order."""


def _draw(rng: np.random.Generator, c: pd.DataFrame, w: sp.csr_matrix, lu_field, T: int):
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
    """
    if not (start <= 2013 and end >= 2020):
        raise SpecificationError(
            f"start={start}, end={end}: the panel must cover 2013-2020 so that every programme "
            "(land reform 2015-2017, digital cohorts 2014-2020) has pre- and post-periods.")
    rng = np.random.default_rng(seed)
    c, edges, pilots = _load_inputs(counties, edges, pilots)
    ids = pd.Index(c["adcode"])
    n = len(c)
    years = np.arange(start, end + 1)
    T = len(years)
    w = contiguity_matrix(ids, edges)
    eye = sp.identity(n, format="csc")
    lu_field = splu((eye - 0.85 * w).tocsc())
    d = _draw(rng, c, w, lu_field, T)
    ptab = _pilot_table(pilots, ids)
    world = {}
    for key, land_on, dig_on in [("obs", True, True), ("noland", False, True),
                                 ("nodig", True, False)]:
        world[key] = _generate(c, w, d, years, ptab, land_on, dig_on)
    panel, truth, effects = _assemble(c, w, d, years, ptab, world, seed)
    return panel, truth, effects


def _generate(c, w, d, years, ptab, land_on, dig_on):
    """One world: all columns as N x T arrays (rounded), given which programmes are on."""
    P = _P
    n, T = len(c), len(years)
    t = (years - 2010)[None, :].astype(float)
    region = c["region"].to_numpy()
    east = (region == "east").astype(float)[:, None]
    west = (region == "west").astype(float)[:, None]
    neast = (region == "northeast").astype(float)[:, None]
    dist = (c["county_type"] == "district").to_numpy(float)[:, None]
    pcode = c["adcode"].str[:2].to_numpy()
    remote = np.isin(pcode, ["54", "63", "65"]).astype(float)[:, None]   # Tibet, Qinghai, Xinjiang
    prov = np.array([d.prov[p] for p in c["province"]])[:, None]
    f, iid, e = d.f, d.iid, d.e
    lat = c["lat"].to_numpy(float)[:, None]
    lon = c["lon"].to_numpy(float)[:, None]
    area = c["area_km2"].to_numpy(float)[:, None]

    prov_dev = np.array([_PROVINCE_DEV.get(code, 0.0) for code in pcode])[:, None]
    dev = prov_dev + 0.55 * dist + 0.06 * prov + 0.22 * f[:, [0]] + 0.15 * iid[:, [0]]
    out = {}

    # population and area
    logdens = (5.5 + 0.5 * dist + 0.4 * east - 0.7 * west - 1.0 * remote
               - 0.7 * (np.log(area) - np.log(1500)) + 0.45 * f[:, [1]]
               + 0.35 * iid[:, [1]])
    pop0 = np.exp(logdens) * area / 1e4
    pop_tr = np.where(dist > 0, 0.010, -0.003) * t + 0.004 * e[:, :, 0]
    pop = pop0 * np.exp(pop_tr)
    out["population"] = _round(pop / np.sqrt(1 + (pop / 800) ** 2), 2)
    out["area_km2"] = _round(np.repeat(area, T, axis=1), 1)
    dens = out["population"] * 1e4 / area
    ldens_c = np.log(dens) - 5.5

    # digital government score (moderator)
    dg = 100 * _sigmoid(-1.1 + 0.6 * dev + 0.20 * t + 0.25 * f[:, [2]] + 0.3 * iid[:, [2]]
                        + 0.10 * d.ar["dg"])
    out["digital_gov"] = _round(dg, 1)
    dg = out["digital_gov"]

    # loans / GDP
    loans = np.exp(np.log(0.55) + 0.15 * dev + 0.25 * f[:, [3]] + 0.2 * iid[:, [3]]
                   + 0.035 * t + 0.08 * d.ar["loans"])
    out["loans_gdp"] = _round(np.clip(loans, 0.05, 5.0), 3)
    L = out["loans_gdp"]

    # fiscal
    out["fiscal_selfsuff"] = _round(1.3 * _sigmoid(-0.9 + 1.3 * dev + 0.25 * f[:, [4]]
                                                    + 0.3 * iid[:, [4]] - 0.015 * t
                                                    - 1.0 * remote + 0.05 * e[:, :, 1]), 3)
    fe = (8.55 + 0.20 * dev - 0.30 * ldens_c + 0.6 * remote + 0.15 * iid[:, [5]]
          + np.minimum(t, 5) * 0.11 + np.maximum(t - 5, 0) * 0.05 + 0.06 * e[:, :, 2])
    out["fiscal_exp_pc"] = _round(np.exp(fe), 0)

    # land reform exposure
    pil_year = pd.Series(ptab["year"].to_numpy(), index=ptab["adcode"]).reindex(c["adcode"])
    pyear = pil_year.to_numpy(float)[:, None]
    treated = np.isfinite(pyear)
    ev = np.where(treated, years[None, :] - np.nan_to_num(pyear, nan=9999), -99)
    D = ((ev >= 0) & treated).astype(float)
    g = _exposure(ev) * D
    if not land_on:
        D_eff, g_eff = np.zeros_like(D), np.zeros_like(g)
    else:
        D_eff, g_eff = D, g

    # land transfer rate (mediator)
    ltr0 = 100 * _sigmoid(_logit(0.14) + 0.30 * dev + 0.5 * neast + 0.15 * east - 0.2 * west
                          + 0.3 * f[:, [5]] + 0.3 * iid[:, [6]] + 0.09 * t + 0.06 * d.ar["ltr"])
    out["land_transfer_rate"] = _round(np.clip(ltr0 + P["a_full"] * g_eff, 0, 98), 1)
    ltr = out["land_transfer_rate"]

    # spatial Durbin model of log gdp_pc
    rho = P["rho"]
    A = (sp.identity(n, format="csc") - rho * w).tocsc()
    lu = splu(A)
    m = 10.0 + 0.75 * dev + 0.10 * iid[:, [7]]                       # intended 2010 level
    gt = _cumgrowth(years, [.15, .10, .09, .08, .06, .065, .08, .08, .07, .025, .12, .045])
    Lbar = L.mean(axis=1, keepdims=True)
    bL, tL = P["beta_sdm"]["loans_gdp"], P["theta_sdm"]["loans_gdp"]
    bD, tD = P["beta_sdm"]["land_reform"], P["theta_sdm"]["land_reform"]
    mu = (A @ m) - bL * Lbar - tL * (w @ Lbar)
    lam = (1 - rho) * gt
    rhs = (bD * D_eff + bL * L + w @ (tD * D_eff + tL * L) + mu + lam
           + P["sigma_g"] * e[:, :, 3])
    y = lu.solve(rhs)
    out["gdp_pc"] = _round(np.exp(y), 0)
    q = np.log(out["gdp_pc"])

    # rural income: mu_r + lam_r + b*ltr + beta(q)*L + land direct + spillover + e
    gamma = np.log(P["gamma_yuan"])
    low = q <= gamma
    beta_q = np.where(low, P["beta_low"], P["beta_high"])
    creg = np.array([P["c_region"][r] for r in region])[:, None]
    dg_base = dg[:, list(years).index(P["dg_base_year"])][:, None]
    direct = g_eff * (creg + P["kappa"] * (dg_base - P["dg_centre"]) / 10.0)
    spill = P["phi_spill"] * (w @ g_eff)
    rt = _cumgrowth(years, [.105, .09, .08, .072, .06, .056, .056, .06, .064, .044, .072, .04])
    ltr_mean = ltr0.mean(axis=1, keepdims=True)
    mu_r = (8.68 + 0.50 * dev + 0.10 * f[:, [6]] + 0.08 * iid[:, [8]]
            - P["b"] * ltr_mean - 0.12 * Lbar)
    lr = mu_r + rt + P["b"] * ltr + beta_q * L + direct + spill + P["sigma_r"] * e[:, :, 4]
    out["rural_income"] = _round(np.exp(lr), 0)
    # urban income: from the no-land rural income, so it is the same in every world
    # urban income does not depend on either programme (same in every world)
    lr_base = (mu_r + rt + P["b"] * _round(np.clip(ltr0, 0, 98), 1) + 0.12 * L
               + P["sigma_r"] * e[:, :, 4])
    log_ratio0 = (np.log(2.6) - 0.10 * dev + 0.10 * west - 0.06 * dist + 0.05 * iid[:, [9]]
                  - 0.018 * t + 0.02 * e[:, :, 5])
    urban = np.exp(lr_base + log_ratio0)
    out["income_ratio"] = _round(urban / out["rural_income"], 2)
    out["consumption_ratio"] = _round(np.exp(0.85 * log_ratio0 - 0.04 + 0.03 * e[:, :, 6]
                                             - 0.012 * t), 2)

    # non-farm employment share (digital pilot outcome)
    score = 0.9 * dev[:, 0] + 0.4 * east[:, 0] + d.dig_score
    p_sel = _sigmoid(-1.05 + 1.0 * (score - score.mean()) / score.std())
    sel = d.dig_u < p_sel
    idx = np.flatnonzero(sel)
    order = idx[np.argsort(-(score[idx] + 0.7 * d.dig_order[idx]),
                           kind="mergesort")]
    cohorts = np.full(n, np.nan)
    shares = np.array(list(P["dig_cohort_share"].values()))
    cuts = np.round(np.cumsum(shares) * len(order)).astype(int)
    for yr, lo, hi in zip(P["dig_cohort_share"], np.r_[0, cuts[:-1]], cuts):
        cohorts[order[lo:hi]] = yr
    dev_nf = 15 + 70 * _sigmoid(-0.1 + 1.5 * dev + 0.4 * f[:, [7]] + 0.35 * iid[:, [10]])
    nf0 = dev_nf + 0.95 * t + 1.0 * d.ar["nf"]
    evd = years[None, :] - np.nan_to_num(cohorts, nan=9999)[:, None]
    alpha = np.array([P["dig_alpha"].get(int(x), 0) if np.isfinite(x) else 0 for x in cohorts])
    grow = np.array([P["dig_growth"].get(int(x), 0) if np.isfinite(x) else 0 for x in cohorts])
    het = np.exp(0.25 * d.dig_het - 0.25 ** 2 / 2)
    te_d = np.where(evd >= 0, (alpha[:, None] + grow[:, None] * np.maximum(evd, 0)) * het[:, None],
                    0.0)
    out["nonfarm_emp_share"] = _round(np.clip(nf0 + (te_d if dig_on else 0.0), 1, 99.5), 1)
    out["_digital_cohort"] = cohorts
    out["_D_land"] = D
    out["_pilot_year"] = pyear[:, 0]
    out["_ev_land"] = ev
    out["_direct"] = direct
    out["_g"] = g
    out["_low"] = low
    out["_dev"] = dev

    # other raw indicators (not affected by the programmes)
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
    ap = np.exp(np.log(19000) + 0.35 * dev + 0.3 * neast + 0.2 * f[:, [5]] + 0.2 * iid[:, [5]]
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
    return out


def _assemble(c, w, d, years, ptab, world, seed):
    P = _P
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
    zone, zone_members = _zone_members(c, w)
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

    truth = _truth(c, w, d, years, ptab, obs, panel, eff, seed, zone_members)
    return panel, truth, eff


def _twfe_estimand(dvec, te, county, year):
    """sum(d~ te)/sum(d~^2): the static TWFE coefficient's expectation given true effects."""
    df = pd.DataFrame({"d": dvec, "c": county, "y": year})
    dt = df["d"] - df.groupby("c")["d"].transform("mean") - df.groupby("y")["d"].transform("mean") \
        + df["d"].mean()
    dt = dt.to_numpy()
    return float(np.sum(dt * te) / np.sum(dt * dt))


def _truth(c, w, d, years, ptab, obs, panel, eff, seed, zone_members):
    from . import __version__
    P = _P
    n, T = len(c), len(years)
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

    # digital pilot
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

    # threshold
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

    # spatial
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

    truth = {
        "simulated": True,
        "seed": int(seed) if isinstance(seed, (int, np.integer)) else None,
        "start": int(years[0]), "end": int(years[-1]),
        "version": __version__,
        "n_counties": int(n), "n_years": int(T),
        "land_reform": land,
        "digital_pilot": digital,
        "threshold": threshold,
        "spatial": spatial,
        "integration_zone": {"simulated": True, "zones": zone_members,
                             "n_counties": int(sum(len(v) for v in zone_members.values()))},
        "missing_share": {col: float(panel[col].isna().mean()) for col in MISSING_COLUMNS},
    }
    # make it exactly JSON round-trippable
    return json.loads(json.dumps(truth))


# --- counterfactuals --------------------------------------------------------------------------

def _programme_prefixes(programme) -> list[str]:
    if programme in (None, "all"):
        return list(PROGRAMMES.values())
    progs = [programme] if isinstance(programme, str) else list(programme)
    out = []
    for p in progs:
        p = {"land": "land_reform", "digital": "digital_pilot"}.get(p, p)
        check_choice("programme", p, list(PROGRAMMES) + ["all"])
        out.append(PROGRAMMES[p])
    return out


def _load_effects(effects):
    if effects is None:
        from . import datasets
        path = datasets.DATA_DIR / "synthetic" / "truth_effects.csv.gz"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing; run `python scripts/build_synthetic.py`.")
        effects = pd.read_csv(path, dtype={"county": str})
    if isinstance(effects, dict):
        # the truth dict of the shipped build stands for the shipped effects table
        from . import datasets
        try:
            shipped = datasets.load_truth()
        except FileNotFoundError:
            shipped = None
        if shipped is not None and effects == shipped:
            return _load_effects(None)
        raise SpecificationError(
            "pass the effects table (the third value of county_panel(), or "
            "pd.read_csv('data/synthetic/truth_effects.csv.gz', dtype={'county': str})), not the "
            "truth dict; or pass None to use the shipped file.")
    return effects


def counterfactual(panel: pd.DataFrame, effects: pd.DataFrame | None = None,
                   programme: str | Iterable[str] = "all") -> pd.DataFrame:
    """The panel without the programme(s): ``observed - te_<programme>_<column>``.

    Parameters
    ----------
    panel : DataFrame
        The simulated panel (or any subset/reordering of its rows).
    effects : DataFrame, optional
        The effects table from :func:`county_panel` (default: the shipped
        ``data/synthetic/truth_effects.csv.gz``).
    programme : "all", "land_reform", "digital_pilot" or a list of them.

    Returns
    -------
    DataFrame with the same rows and columns; affected columns replaced by their counterfactual.
    Policy columns are left as they are (they record assignment).
    """
    effects = _load_effects(effects)
    for col in ("county", "year"):
        if col not in panel.columns:
            raise ColumnError(f"panel lacks {col!r}.")
    prefixes = _programme_prefixes(programme)
    cols = [ec for ec in effects.columns
            if ec.startswith("te_") and ec.split("_", 2)[1] in prefixes
            and ec.split("_", 2)[2] in panel.columns]
    key = panel[["county", "year"]].astype({"county": str})
    m = key.merge(effects[["county", "year"] + cols].astype({"county": str}), on=["county", "year"],
                  how="left", validate="many_to_one")
    lost = m[cols].isna().any(axis=1).to_numpy() if cols else np.zeros(len(m), bool)
    if lost.any():
        raise SpecificationError(
            f"{int(lost.sum())} panel rows have no effects row (e.g. "
            f"{key[lost].head(3).values.tolist()}); use the effects table of the same build.")
    out = panel.copy()
    for ec in cols:
        col = ec.split("_", 2)[2]
        dec = DECIMALS.get(col, 10)
        out[col] = np.round(out[col].to_numpy(float) - m[ec].to_numpy(float), dec)
    return out


def true_effect(panel: pd.DataFrame, effects, outcome_fn: Callable | None = None,
                programme: str | Iterable[str] = "all") -> pd.DataFrame:
    """The true effect of a programme on any derived outcome: f(observed) - f(counterfactual).

    Call as ``true_effect(panel, effects, outcome_fn, programme)`` or, with the shipped effects,
    ``true_effect(panel, outcome_fn, programme=...)``. ``outcome_fn(panel)`` must return a Series
    (or 1-d array) aligned with the panel's rows, e.g. an integration index computed with FIXED
    normalisation bounds and weights (bounds re-estimated on the counterfactual panel would mix
    the programme's effect into the scale).

    Returns
    -------
    DataFrame: ``county``, ``year``, ``observed``, ``counterfactual``, ``effect``.
    """
    if callable(effects) and not isinstance(effects, pd.DataFrame):
        if outcome_fn is not None and not callable(outcome_fn):
            programme = outcome_fn
        effects, outcome_fn = None, effects
    if outcome_fn is None or not callable(outcome_fn):
        raise SpecificationError("outcome_fn must be a function panel -> Series.")
    cf = counterfactual(panel, effects, programme)
    y1 = np.asarray(outcome_fn(panel), dtype=float).reshape(-1)
    y0 = np.asarray(outcome_fn(cf), dtype=float).reshape(-1)
    if len(y1) != len(panel) or len(y0) != len(panel):
        raise SpecificationError("outcome_fn must return one value per panel row.")
    return pd.DataFrame({"county": panel["county"].to_numpy(), "year": panel["year"].to_numpy(),
                         "observed": y1, "counterfactual": y0, "effect": y1 - y0})


_DIMENSION_ZH = {"key": "键", "frame": "县域信息（真实）", "population": "人口", "space": "空间",
                 "economy": "经济", "society": "社会", "ecology": "生态", "covariate": "协变量",
                 "policy": "政策"}


def codebook(panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """The bilingual codebook (one row per column of the panel)."""
    rows = [
        ("county", "县级行政区划代码", "County adcode (6 digits)", "", "key", "", "Key; current code."),
        ("year", "年份", "Year", "year", "key", "", "Key."),
        ("name", "县级单位名称", "County name", "", "frame", "", "Real (data/counties.csv)."),
        ("prefecture", "地级单位", "Prefecture", "", "frame", "", "Real."),
        ("province", "省份", "Province", "", "frame", "", "Real."),
        ("region", "四大区域", "Region (east/central/west/northeast)", "", "frame", "", "NBS regions."),
        ("county_type", "县级单位类型", "County type", "", "frame", "", "district/county/..."),
    ]
    recs = [dict(column=r[0], label_zh=r[1], label_en=r[2], unit=r[3], dimension=r[4],
                 direction=r[5], description=r[6]) for r in rows]
    for col, v in CODEBOOK.items():
        recs.append(dict(column=col, label_zh=v[0], label_en=v[1], unit=v[2], dimension=v[3],
                         direction=v[4], description=v[7] + (" Real." if col == "area_km2" else
                                                     " SIMULATED.")))
    cb = pd.DataFrame(recs)
    cb.insert(5, "dimension_zh", cb["dimension"].map(_DIMENSION_ZH))
    cb["may_be_missing"] = cb["column"].isin(MISSING_COLUMNS).astype(int)
    if panel is not None:
        cb["missing_share"] = [round(float(panel[c].isna().mean()), 4) if c in panel.columns
                               and c not in ("land_reform_year", "land_reform_type",
                                             "digital_pilot_year") else 0.0
                               for c in cb["column"]]
    cb["decimals"] = [DECIMALS.get(c, "") for c in cb["column"]]
    return cb


def design_power(design, effect_sizes, n_sims: int = 500, seed=DEFAULT_SEED, **kwargs):
    """Monte Carlo size and power of a DiD design on the real county frame.

    Lives in :mod:`analysis.robustness.power` (it shares the specification-curve machinery); see
    :func:`analysis.robustness.design_power` for the parameters.
    """
    from .robustness.power import design_power as _design_power

    return _design_power(design, effect_sizes, n_sims=n_sims, seed=seed, **kwargs)


__all__.append("design_power")


# --- mechanism layer (H2-H6): new columns only, own random stream [seed, 17] --------------------
from .simulate_mechanisms import (  # noqa: E402
    MECHANISM_CODEBOOK,
    MECHANISM_COLUMNS,
    MECHANISM_PARAMS,
    mechanism_columns,
    mechanism_panel,
    mechanism_truth,
)

__all__ += ["MECHANISM_CODEBOOK", "MECHANISM_COLUMNS", "MECHANISM_PARAMS", "mechanism_columns",
            "mechanism_panel", "mechanism_truth"]
