"""SIMULATED truths for the seed paper's mechanisms (H2 people, H3 money, H4 industry chain,
H5 governance, H6 the county hub), layered on the simulated county panel.

The base panel (:func:`analysis.simulate.county_panel`, ``data/synthetic/county_panel.csv.gz``) is
left untouched: this module adds *new* columns only, in their own file
``data/synthetic/mechanisms.csv.gz`` keyed by (county, year), drawn from a separate generator
``np.random.default_rng([seed, 17])``, so every existing column and every existing expected table stays
as it was. :func:`mechanism_panel` returns the base panel with the new columns merged in.

Data-generating process (all linear with county and year effects, so each design has an exact target):

* mediators moved by the land-reform pilot ``D`` (column ``land_reform``):

  - H2 people: ``migrant_share`` (外来常住人口占比, %) = a_people D + county + year + noise;
    and ``hukou_urbanization`` (户籍人口城镇化率, %) = urbanization_rate - gap, with the
    户籍-常住 gap unaffected (the reform moves residents, not hukou: a testable null);
  - H3 money: ``agri_loans_gdp`` (涉农贷款余额/GDP, ratio) = a_money D + d_chain land_transfer_rate
    + county + year + noise: a direct path and the chain land -> capital inflow;
  - H4 industry: ``agro_processing_ratio`` (农产品加工业产值与农业总产值之比) = a_industry D + ...;
  - H6 hub: ``county_seat_pop_share`` (城区人口占常住人口比重, %) = a_hub D + ...;
* moderators / groups (time-invariant draws):

  - ``arable_pc`` (人均耕地面积, mu per rural resident); high land pressure = below the median;
  - ``gov_online_rate`` (政务服务事项网上可办率, %, the 一网通办 share): rises over time; its 2014 value
    moderates the effect;
* outcome ``integration_score`` (城乡融合发展指数, 0-100, SIMULATED composite):

  y = county + year + c' D + b_people migrant_share + b_money agri_loans_gdp
      + b_industry agro_processing_ratio + ddd D x high_pressure + kappa D x (gov_online_2014 - 50)/10
      + theta (W D) + noise

  with W the row-standardized queen contiguity of the simulator. So the true indirect effects are
  a_people b_people, a_money b_money (direct capital path), a_L d_chain b_money (chain; a_L is the
  TWFE estimand of the land reform on land_transfer_rate, stored), a_industry b_industry; the DDD
  coefficient is ``ddd``; the moderation slope ``kappa``; the spillover ``theta``.

The data are SIMULATED: no cell is a real statistic.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .truth import twfe_estimand as _twfe_estimand
from .weights import contiguity_matrix

__all__ = ["MECHANISM_PARAMS", "MECHANISM_CODEBOOK", "mechanism_columns", "mechanism_panel",
           "mechanism_truth", "MECHANISM_COLUMNS"]

MECHANISM_PARAMS = dict(
    a_people=1.5,          # pp of migrant_share
    a_money=0.040,         # loans/GDP ratio points
    d_chain=0.004,         # loans/GDP per pp of land_transfer_rate
    a_industry=0.15,       # processing/agriculture output ratio
    a_hub=1.2,             # pp of county-seat population share
    c_direct=0.8,          # integration score points
    b_people=0.6,
    b_money=40.0,
    b_industry=6.0,
    ddd=1.5,               # extra effect in high land-pressure counties
    kappa=0.5,             # per 10 points of gov_online_rate in 2014 above 50
    theta=1.0,             # spillover: effect of the share of treated neighbours
    gov_base_year=2014,
    sigma_y=1.0,
)

# column: (label_zh, label_en, unit, hypothesis, yearbook source, decimals)
MECHANISM_CODEBOOK = {
    "migrant_share": ("外来常住人口占比", "Migrants in resident population", "%", "H2 people",
                      "第七次人口普查分县资料 / 统计公报 (常住 minus 户籍 resident inflow)", 2),
    "hukou_urbanization": ("户籍人口城镇化率", "Urbanization rate (hukou population)", "%", "H2 people",
                           "公安部门户籍统计 / 中国县域统计年鉴", 1),
    "agri_loans_gdp": ("涉农贷款余额/GDP", "Agricultural loans / GDP", "ratio", "H3 money",
                       "中国人民银行分县涉农贷款统计; 中国县域统计年鉴 (金融机构各项贷款余额)", 4),
    "agro_processing_ratio": ("农产品加工业产值与农业总产值之比", "Agro-processing / agricultural output",
                              "ratio", "H4 industry chain", "农业农村部 农产品加工业统计; 县统计公报", 3),
    "county_seat_pop_share": ("城区人口占常住人口比重", "County-seat population share", "%", "H6 hub",
                              "中国县城建设统计年鉴 (城区人口+暂住人口)", 2),
    "arable_pc": ("人均耕地面积", "Arable land per rural resident", "mu per person", "H4 / DDD group",
                  "第三次全国国土调查 / 中国县域统计年鉴 (耕地面积, 乡村人口)", 2),
    "gov_online_rate": ("政务服务事项网上可办率", "Government services available online", "%",
                        "H5 governance", "省级一体化政务服务平台评估报告 (一网通办)", 1),
    "integration_score": ("城乡融合发展指数（模拟）", "Urban-rural integration score (SIMULATED)", "0-100",
                          "outcome", "SIMULATED composite", 2),
}
MECHANISM_COLUMNS = list(MECHANISM_CODEBOOK)


def _fe_noise(rng, n, T, sd_i, sd_t, sd_e):
    return (rng.normal(0, sd_i, n)[:, None] + rng.normal(0, sd_t, T)[None, :]
            + rng.normal(0, sd_e, (n, T)))


def _wide(panel: pd.DataFrame, col: str, counties, years) -> np.ndarray:
    return panel.pivot(index="county", columns="year", values=col).reindex(index=counties,
                                                                          columns=years).to_numpy(float)


def mechanism_columns(panel: pd.DataFrame, effects: pd.DataFrame, seed: int, edges: pd.DataFrame | None = None
                      ) -> tuple[pd.DataFrame, dict]:
    """New mechanism columns (county, year, ...) for a simulated base panel, and their truth.

    ``panel`` and ``effects`` are the base panel and true-effects table of
    :func:`analysis.simulate.county_panel` (or the shipped files). Randomness comes only from
    ``np.random.default_rng([seed, 17])``.

    Examples
    --------
    Rebuilt from the shipped base panel and effects with the shipped seed, the truth is the shipped
    one; the people path's indirect effect is a_people x b_people = 1.5 x 0.6 = 0.9:

    >>> from analysis.datasets import load_county_panel, load_truth_effects
    >>> from analysis.simulate import mechanism_columns, mechanism_truth
    >>> shipped = mechanism_truth()
    >>> mech, truth = mechanism_columns(load_county_panel(), load_truth_effects(), seed=shipped["seed_stream"][0])
    >>> mech.columns.tolist()[:4]
    ['county', 'year', 'migrant_share', 'hukou_urbanization']
    >>> truth["indirect"] == shipped["indirect"], round(truth["indirect"]["people"], 3)
    (True, 0.9)
    """
    from .. import datasets

    P = MECHANISM_PARAMS
    rng = np.random.default_rng([int(seed), 17])
    counties = np.sort(panel["county"].unique())
    years = np.sort(panel["year"].unique())
    n, T = len(counties), len(years)
    D = _wide(panel, "land_reform", counties, years)
    L = _wide(panel, "land_transfer_rate", counties, years)
    urb = _wide(panel, "urbanization_rate", counties, years)
    edges = datasets.load_county_edges() if edges is None else edges
    W = contiguity_matrix(counties, edges)
    WD = np.asarray(W @ D)

    # time-invariant groups and the governance proxy
    arable = np.round(np.exp(rng.normal(np.log(2.0), 0.45, n)), 2)
    high_pressure = (arable < np.median(arable)).astype(float)
    gov0 = np.clip(rng.normal(45, 12, n), 5, 90)
    gov = np.clip(gov0[:, None] + 4.0 * (years - P["gov_base_year"])[None, :] + rng.normal(0, 2, (n, T)), 0, 100)
    gov = np.round(gov, 1)
    gov_c = (gov[:, list(years).index(P["gov_base_year"])] - 50.0) / 10.0

    migrant = np.round(np.clip(8 + P["a_people"] * D + _fe_noise(rng, n, T, 3, 0.5, 1.0), 0, 100), 2)
    gap = np.clip(15 + _fe_noise(rng, n, T, 5, 0.8, 0.8), 0, None)
    hukou = np.round(np.clip(np.where(np.isnan(urb), np.nan, urb - gap), 0, 100), 1)
    L0 = np.nan_to_num(L, nan=np.nanmean(L))
    loans = np.round(0.25 + P["a_money"] * D + P["d_chain"] * L0 + _fe_noise(rng, n, T, 0.05, 0.01, 0.02), 4)
    agro = np.round(np.clip(1.5 + P["a_industry"] * D + _fe_noise(rng, n, T, 0.4, 0.05, 0.15), 0, None), 3)
    seat = np.round(np.clip(35 + P["a_hub"] * D + _fe_noise(rng, n, T, 8, 0.3, 1.0), 0, 100), 2)
    base = 50 + _fe_noise(rng, n, T, 4, 1.0, 0.0) + 0.3 * (years - years[0])[None, :]
    y = (base + P["c_direct"] * D + P["b_people"] * migrant + P["b_money"] * loans + P["b_industry"] * agro
         + P["ddd"] * D * high_pressure[:, None] + P["kappa"] * D * gov_c[:, None] + P["theta"] * WD
         + rng.normal(0, P["sigma_y"], (n, T)))
    y = np.round(y, 2)

    rep = lambda a: np.repeat(a, T)  # noqa: E731
    out = pd.DataFrame({"county": rep(counties), "year": np.tile(years, n).astype(int)})
    for col, arr in [("migrant_share", migrant), ("hukou_urbanization", hukou), ("agri_loans_gdp", loans),
                     ("agro_processing_ratio", agro), ("county_seat_pop_share", seat),
                     ("arable_pc", np.repeat(arable[:, None], T, axis=1)), ("gov_online_rate", gov),
                     ("integration_score", y)]:
        out[col] = np.asarray(arr, float).reshape(-1)

    # truth
    eff = effects.set_index(["county", "year"]).reindex(pd.MultiIndex.from_arrays([out["county"], out["year"]]))
    te_L = eff["te_land_land_transfer_rate"].to_numpy(float)
    dvec = D.reshape(-1)
    a_L = _twfe_estimand(dvec, te_L, out["county"].to_numpy(), out["year"].to_numpy())
    treated = dvec == 1
    te_y = (P["c_direct"] + P["b_people"] * P["a_people"] + P["b_money"] * P["a_money"]
            + P["b_industry"] * P["a_industry"] + P["ddd"] * np.repeat(high_pressure, T)
            + P["kappa"] * np.repeat(gov_c, T)) * dvec + P["b_money"] * P["d_chain"] * te_L + P["theta"] * WD.reshape(-1)
    truth = {
        "simulated": True,
        "seed_stream": [int(seed), 17],
        "params": {k: v for k, v in P.items()},
        "indirect": {
            "people": P["a_people"] * P["b_people"],
            "money_direct": P["a_money"] * P["b_money"],
            "money_chain_via_land": a_L * P["d_chain"] * P["b_money"],
            "industry": P["a_industry"] * P["b_industry"],
        },
        "a_land_transfer_twfe": a_L,
        "att_integration_score": float(te_y[treated].mean()),
        "ddd": P["ddd"],
        "moderation_kappa_per_10pts": P["kappa"],
        "spillover_theta": P["theta"],
        "hub_a": P["a_hub"],
        "hukou_gap_effect": 0.0,
        "high_pressure_rule": "arable_pc below its median (time-invariant)",
        "moderator_rule": f"gov_online_rate in {P['gov_base_year']}, centred at 50, per 10 points",
        "spillover_rule": "theta x (W land_reform), W = row-standardized queen contiguity of the simulator",
        "note": "SIMULATED. integration_score = county + year + c' D + b_people migrant_share + b_money "
                "agri_loans_gdp + b_industry agro_processing_ratio + ddd D x high_pressure + kappa D x "
                "gov_c + theta W D + e.",
    }
    out["te_integration_score"] = np.round(te_y, 10)
    return out, truth


def mechanism_truth(path=None) -> dict:
    """Ground truth of the mechanism columns (``data/synthetic/mechanisms_truth.json``).

    Examples
    --------
    >>> from analysis.simulate import mechanism_truth
    >>> truth = mechanism_truth()
    >>> truth["simulated"], truth["params"]["a_people"], truth["params"]["b_people"]
    (True, 1.5, 0.6)
    >>> round(truth["indirect"]["people"], 3), truth["ddd"]
    (0.9, 1.5)
    """
    import json

    from ..datasets import DATA_DIR

    path = path or DATA_DIR / "synthetic" / "mechanisms_truth.json"
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def mechanism_panel(panel: pd.DataFrame | None = None, path=None) -> pd.DataFrame:
    """The base simulated panel with the mechanism columns merged in (left join on county, year).

    ``panel`` defaults to :func:`analysis.datasets.load_county_panel`; ``path`` to
    ``data/synthetic/mechanisms.csv.gz``. A user panel without these columns can be passed with
    ``path=None`` only if the file matches its counties; otherwise use its own yearbook columns.

    Examples
    --------
    >>> from analysis.simulate import MECHANISM_COLUMNS, mechanism_panel
    >>> panel = mechanism_panel()
    >>> panel.shape, set(MECHANISM_COLUMNS) <= set(panel.columns)
    ((37063, 48), True)
    """
    from ..datasets import DATA_DIR, load_county_panel
    from ..errors import ColumnError

    panel = load_county_panel() if panel is None else panel
    path = path or DATA_DIR / "synthetic" / "mechanisms.csv.gz"
    mech = pd.read_csv(path, dtype={"county": str})
    mech["county"] = mech["county"].str.zfill(6)
    clash = [c for c in mech.columns if c in panel.columns and c not in ("county", "year")]
    if clash:
        raise ColumnError(f"the panel already has mechanism column(s) {clash}; drop them or skip the merge.")
    out = panel.merge(mech, on=["county", "year"], how="left", validate="one_to_one")
    return out
