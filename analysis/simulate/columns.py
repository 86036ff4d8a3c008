"""The codebook of the SIMULATED county panel: column names, labels, units, rounding.

Each indicator of :data:`CODEBOOK` is ``column: (label_zh, label_en, unit, dimension, direction,
may_be_missing, decimals, description)``; the lists :data:`RAW_INDICATORS`, :data:`COVARIATES`,
:data:`POLICY_COLUMNS` and :data:`MISSING_COLUMNS` are derived from it, and :func:`codebook` is the
bilingual table written to ``data/synthetic/codebook.csv``.

Examples
--------
>>> from analysis.simulate import CODEBOOK, DECIMALS
>>> CODEBOOK["rural_income"][2], DECIMALS["rural_income"]
('yuan', 0)
"""
from __future__ import annotations

import pandas as pd

__all__ = ["DEFAULT_SEED", "FRAME_COLUMNS", "CODEBOOK", "RAW_INDICATORS", "MISSING_COLUMNS",
           "COVARIATES", "POLICY_COLUMNS", "DECIMALS", "PROGRAMMES", "codebook"]

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


_DIMENSION_ZH = {"key": "键", "frame": "县域信息（真实）", "population": "人口", "space": "空间",
                 "economy": "经济", "society": "社会", "ecology": "生态", "covariate": "协变量",
                 "policy": "政策"}


def codebook(panel: pd.DataFrame | None = None) -> pd.DataFrame:
    """The bilingual codebook (one row per column of the panel).

    Examples
    --------
    >>> from analysis.simulate import codebook
    >>> cb = codebook()
    >>> cb.shape, cb.columns.tolist()[:5]
    ((39, 10), ['column', 'label_zh', 'label_en', 'unit', 'dimension'])
    >>> cb.set_index("column").loc["rural_income", ["label_en", "unit", "dimension"]].tolist()
    ['Rural per-capita disposable income', 'yuan', 'economy']
    """
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
