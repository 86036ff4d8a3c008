"""The parameters of the SIMULATED data-generating process: the numbers the truth is made of.

:data:`DGP_PARAMS` holds every structural parameter (land-reform paths, digital-pilot cohorts,
the threshold, the spatial Durbin model); the data generator (:mod:`analysis.simulate.dgp`) and the
truth (:mod:`analysis.simulate.truth`) both read them from here. The province development offsets
and the pilot-zone membership are invented for the simulation (loosely ordered like the real
provinces) and are not data.

Examples
--------
>>> from analysis.simulate.parameters import DGP_PARAMS, exposure
>>> DGP_PARAMS["rho"], round(float(exposure(0)), 2)
(0.4, 0.4)
"""
from __future__ import annotations

import numpy as np

__all__ = ["DGP_PARAMS", "exposure"]

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

# --- DGP parameters (the truth) -------------------------------------------------------------
DGP_PARAMS = dict(
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

_P = DGP_PARAMS   # the short name the generator and the truth use


def exposure(e: np.ndarray) -> np.ndarray:
    """Share of the full effect reached ``e`` years after adoption (0 before adoption).

    ``1 - 0.6 * 0.7**e`` for ``e >= 0``: 40% in the adoption year, rising towards 1.

    Examples
    --------
    >>> from analysis.simulate.parameters import exposure
    >>> exposure([-1, 0, 1, 10]).round(3).tolist()
    [0.0, 0.4, 0.58, 0.983]
    """
    e = np.asarray(e, dtype=float)
    return np.where(e >= 0, 1.0 - 0.6 * 0.7 ** np.clip(e, 0, None), 0.0)


_exposure = exposure
