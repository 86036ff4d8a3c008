"""Tests of analysis.tables: regression and descriptive tables in every output format.

Models come from pyfixest (feols), statsmodels (OLS) and EstimationResult objects built directly, so
these tests depend on no other CountyFusion estimator. Word output is checked in its XML: the
three-line rules (1.5 pt top and bottom = w:sz 12, 0.75 pt under the header = w:sz 6, no other
borders) and the fonts (w:eastAsia = 宋体/SimSun, w:ascii = w:hAnsi = Times New Roman).
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pyfixest as pf
import pytest
import statsmodels.formula.api as smf
from docx import Document
from docx.oxml.ns import qn
from openpyxl import load_workbook

from analysis.errors import ColumnError, NonNumericError, SpecificationError
from analysis.results import EstimationResult
from analysis.tables import descriptive_table, regression_table, summarize_model


@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(0)
    n, T = 60, 6
    county = np.repeat([f"{130100 + i:06d}" for i in range(n)], T)
    year = np.tile(np.arange(2015, 2015 + T), n)
    mu = rng.normal(size=n).repeat(T)
    x = rng.normal(size=n * T) + 0.5 * mu
    z = rng.normal(size=n * T)
    y = mu + 0.5 * x - 0.02 * z + rng.normal(size=n * T)
    return pd.DataFrame({"county": county, "year": year, "y": y, "loans_gdp": x, "z": z})


@pytest.fixture(scope="module")
def models(panel):
    m_pf = pf.feols("y ~ loans_gdp + z | county + year", data=panel, vcov={"CRV1": "county"})
    m_sm = smf.ols("y ~ loans_gdp + z", data=panel).fit()
    m_cf = EstimationResult(
        params=pd.Series({"loans_gdp": 0.4321, "z": -0.0123}),
        std_errors=pd.Series({"loans_gdp": 0.1000, "z": 0.0500}),
        df_resid=59,
        stats={"N": 360, "r2_within": 0.25},
        settings={"fixed_effects": ["county", "year"], "vcov": "cluster", "cluster": "county"},
    )
    return m_pf, m_sm, m_cf


def _stars(p):
    return "*" * sum(p < s for s in (0.1, 0.05, 0.01))


def test_frame_numbers_stars_and_rows(models):
    m_pf, m_sm, m_cf = models
    t = regression_table([m_pf, m_sm, m_cf], labels=["FE", "OLS", "ours"], keep=["loans_gdp", "z"], lang="zh")
    f = t.to_frame()
    assert list(f.columns.get_level_values(0)) == ["(1)", "(2)", "(3)"]
    b, se, p = m_pf.coef()["loans_gdp"], m_pf.se()["loans_gdp"], m_pf.pvalue()["loans_gdp"]
    assert f.iloc[0, 0] == f"{b:.3f}{_stars(p)}"
    assert f.iloc[1, 0] == f"({se:.3f})"
    assert f.iloc[0, 1] == f"{m_sm.params['loans_gdp']:.3f}{_stars(m_sm.pvalues['loans_gdp'])}"
    # EstimationResult: t = 4.321 with 59 df -> p < 0.01 -> ***; z: t = -0.246 -> no star
    assert f.iloc[0, 2] == "0.432***" and f.iloc[1, 2] == "(0.100)"
    assert f.iloc[2, 2] == "-0.012" and f.iloc[3, 2] == "(0.050)"
    assert f.loc["县域固定效应"].tolist() == ["是", "否", "是"]
    assert f.loc["年份固定效应"].tolist() == ["是", "否", "是"]
    assert f.loc["观测值"].tolist() == [str(m_pf._N), str(int(m_sm.nobs)), "360"]
    assert f.loc["组内R²"].tolist()[1] == ""  # OLS has no within R²
    assert "Intercept" not in f.index
    assert "聚类到县域层面的稳健标准误" in t.notes[0] and "1%" in t.notes[0]


def test_english_labels_rename_and_brackets(models):
    m_pf, _, m_cf = models
    t = regression_table({"A": m_pf, "B": m_cf}, lang="en", rename={"loans_gdp": "Loans/GDP"}, se_in="brackets",
                         stats=("N", "r2_within", "r2"))
    f = t.to_frame()
    assert "Loans/GDP" in f.index and "County FE" in f.index and "Year FE" in f.index
    assert f.loc["County FE"].tolist() == ["Yes", "Yes"]
    assert f.iloc[1, 0].startswith("[") and f.iloc[1, 0].endswith("]")
    assert f.loc["Observations"].tolist()[1] == "360"
    assert t.notes[0].startswith("Notes: Standard errors clustered by county in brackets.")
    assert "*, ** and *** denote significance at the 10%, 5% and 1% levels." in t.notes[0]


def test_latex_booktabs(models):
    tex = regression_table(list(models), title="基准回归", lang="zh").to_latex(label="tab:base")
    for cmd in (r"\toprule", r"\midrule", r"\bottomrule", r"\begin{tabular}{lccc}", r"\caption{基准回归}"):
        assert cmd in tex
    assert tex.index(r"\toprule") < tex.index(r"\midrule") < tex.index(r"\bottomrule")
    assert r"loans\_gdp" in tex and "组内R$^2$" in tex and r"1\%" in tex


def test_docx_three_line_table_and_fonts(models, tmp_path):
    m_pf, m_sm, m_cf = models
    path = tmp_path / "table.docx"
    regression_table([m_pf, m_sm, m_cf], labels=["固定效应", "OLS", "ours"], keep=["loans_gdp", "z"], lang="zh",
                     title="表1 基准回归").to_docx(path)
    doc = Document(str(path))
    assert len(doc.tables) == 1
    tab = doc.tables[0]
    cells = [[c.text for c in row.cells] for row in tab.rows]
    labels = [r[0] for r in cells]
    b = m_pf.coef()["loans_gdp"]
    row_b = labels.index("loans_gdp")
    assert cells[row_b][1] == f"{b:.3f}{_stars(m_pf.pvalue()['loans_gdp'])}"
    assert cells[row_b + 1][1] == f"({m_pf.se()['loans_gdp']:.3f})"
    assert cells[labels.index("观测值")][3] == "360"
    assert cells[labels.index("县域固定效应")][1:] == ["是", "否", "是"]
    assert cells[0][1:] == ["(1)", "(2)", "(3)"] and cells[1][1:] == ["固定效应", "OLS", "ours"]
    # three lines: table top/bottom 1.5 pt (sz 12), no vertical or inner borders
    borders = tab._tbl.tblPr.find(qn("w:tblBorders"))
    assert borders.find(qn("w:top")).get(qn("w:sz")) == "12"
    assert borders.find(qn("w:bottom")).get(qn("w:sz")) == "12"
    for edge in ("left", "right", "insideH", "insideV"):
        assert borders.find(qn(f"w:{edge}")).get(qn("w:val")) in ("nil", "none")
    # the header rule: 0.75 pt (sz 6) under the last header row, and nowhere else
    ruled = []
    for i, row in enumerate(tab.rows):
        for c in row.cells:
            tcb = c._tc.tcPr.find(qn("w:tcBorders"))
            if tcb is not None and tcb.find(qn("w:bottom")) is not None:
                assert tcb.find(qn("w:bottom")).get(qn("w:sz")) == "6"
                ruled.append(i)
            if tcb is not None:
                assert tcb.find(qn("w:left")) is None and tcb.find(qn("w:right")) is None
    assert set(ruled) == {1}
    # fonts on every run: East-Asian 宋体 (SimSun), Latin Times New Roman
    runs = [r for row in tab.rows for c in row.cells for p in c.paragraphs for r in p.runs]
    runs += [r for p in doc.paragraphs for r in p.runs]
    assert runs
    for r in runs:
        rf = r._element.rPr.find(qn("w:rFonts"))
        assert rf.get(qn("w:eastAsia")) in ("宋体", "SimSun")
        assert rf.get(qn("w:ascii")) == "Times New Roman" and rf.get(qn("w:hAnsi")) == "Times New Roman"
    texts = [p.text for p in doc.paragraphs]
    assert texts[0] == "表1 基准回归"
    assert any(t.startswith("注：") and "聚类到县域层面" in t for t in texts)


def test_docx_tblborders_schema_order(models, tmp_path):
    """w:tblBorders must come before w:tblLook in w:tblPr (OOXML sequence), or Word flags the file."""
    doc = regression_table(list(models)).to_docx()
    tags = [el.tag.split("}")[1] for el in doc.tables[0]._tbl.tblPr]
    assert tags.index("tblBorders") < tags.index("tblLook")


def test_excel_content_and_rules(models, tmp_path):
    m_pf, m_sm, m_cf = models
    path = tmp_path / "table.xlsx"
    regression_table([m_pf, m_sm, m_cf], keep=["loans_gdp", "z"], lang="en").to_excel(path, sheet_name="baseline")
    ws = load_workbook(path)["baseline"]
    rows = [[c.value for c in r] for r in ws.iter_rows()]
    labels = [r[0] for r in rows]
    i = labels.index("loans_gdp")
    assert rows[i][1] == f"{m_pf.coef()['loans_gdp']:.3f}{_stars(m_pf.pvalue()['loans_gdp'])}"
    assert rows[i + 1][1] == f"({m_pf.se()['loans_gdp']:.3f})"
    assert rows[labels.index("Observations")][3] == "360"
    assert ws.cell(row=1, column=1).border.top.style == "medium"
    assert ws.cell(row=1, column=1).border.bottom.style == "thin"  # header rule
    last = labels.index("Within R²") + 1
    assert ws.cell(row=last, column=2).border.bottom.style == "medium"
    assert ws.cell(row=i, column=2).font.name == "Times New Roman"
    # a second table goes to another sheet of the same workbook
    descriptive_table(pd.DataFrame({"a": [1.0, 2.0]}), ["a"], labels={"a": "变量甲"}).to_excel(path, sheet_name="desc")
    wb = load_workbook(path)
    assert wb.sheetnames == ["baseline", "desc"]
    assert wb["desc"].cell(row=2, column=1).font.name == "宋体"


def test_html_and_markdown(models):
    t = regression_table(list(models), lang="zh", title="基准回归")
    html = t.to_html()
    assert "基准回归" in html and "县域固定效应" in html and "(1)" in html
    md = t.to_markdown()
    assert md.splitlines()[2].startswith("| 变量 |") and "| 是 |" in md.replace(" 是 | 否", " 是 |")


def test_linearmodels_result(panel):
    from linearmodels.panel import PanelOLS

    d = panel.set_index(["county", "year"])
    res = PanelOLS.from_formula("y ~ loans_gdp + z + EntityEffects + TimeEffects", data=d).fit(
        cov_type="clustered", cluster_entity=True
    )
    ms = summarize_model(res)
    assert ms.fixed_effects == ["entity", "time"] and ms.vcov == "cluster" and ms.cluster == ["entity"]
    t = regression_table(res, lang="zh", fe_labels={"entity": "县域固定效应", "time": "年份固定效应"})
    f = t.to_frame()
    assert f.loc["县域固定效应"].tolist() == ["是"]
    assert f.iloc[0, 0].startswith(f"{res.params['loans_gdp']:.3f}")
    assert f.loc["观测值"].tolist() == [str(int(res.nobs))]
    # linearmodels and pyfixest agree on the two-way FE slope (a sanity check of the adapters)
    m_pf = pf.feols("y ~ loans_gdp + z | county + year", data=panel)
    assert res.params["loans_gdp"] == pytest.approx(m_pf.coef()["loans_gdp"], rel=1e-8)


def test_keep_regex_and_errors(models):
    m_pf, m_sm, m_cf = models
    t = regression_table([m_sm], keep=["^loan"], stats=("N", "adj_r2"))
    assert list(t.to_frame().index[:2]) == ["loans_gdp", ""]
    with pytest.raises(SpecificationError):
        regression_table([m_sm], labels=["a", "b"])
    with pytest.raises(SpecificationError):
        regression_table([m_sm], lang="fr")
    with pytest.raises(SpecificationError):
        regression_table([object()])


def test_descriptive_table(panel, tmp_path):
    d = panel.copy()
    d.loc[[0, 5], "z"] = np.nan
    t = descriptive_table(d, ["y", "z"], labels=["农村居民收入", "控制变量"], lang="zh")
    f = t.to_frame()
    assert list(f.columns) == ["观测值", "均值", "标准差", "最小值", "最大值"]
    assert f.loc["控制变量", "观测值"] == str(len(d) - 2)
    assert f.loc["农村居民收入", "均值"] == f"{d.y.mean():.3f}"
    assert f.loc["控制变量", "标准差"] == f"{d.z.std():.3f}"
    en = descriptive_table(d, ["y"], lang="en", stats=("N", "mean", "median"))
    assert list(en.to_frame().columns) == ["N", "Mean", "Median"]
    assert r"\toprule" in t.to_latex()
    t.to_docx(tmp_path / "desc.docx")
    tab = Document(str(tmp_path / "desc.docx")).tables[0]
    assert tab.rows[0].cells[1].text == "观测值" and tab.rows[2].cells[0].text == "控制变量"
    with pytest.raises(ColumnError):
        descriptive_table(d, ["nope"])
    with pytest.raises(NonNumericError, match="county"):
        descriptive_table(d, ["county"])


def test_countyfusion_fe_results_if_available(panel):
    """The FE wrapper of analysis.regression (another module) feeds the table: FE rows and SE note."""
    from analysis.regression import fe
    m1 = fe("y ~ loans_gdp + z", panel)  # county + year FE, clustered by county (its defaults)
    m2 = fe("y ~ loans_gdp + z", panel, fe=None, cluster=None, vcov="iid")
    f = regression_table([m1, m2], lang="zh", stats=("N", "r2")).to_frame()
    assert f.loc["县域固定效应"].tolist() == ["是", "否"] and f.loc["年份固定效应"].tolist() == ["是", "否"]
    assert "常数项" in f.index
    t = regression_table([m1], lang="en")
    assert t.notes[0].startswith("Notes: Standard errors clustered by county in parentheses.")


def test_vcov_descriptions_are_read():
    from analysis.tables.adapters import _norm_vcov

    assert _norm_vcov({"CRV1": "county+year"}) == ("cluster", ["county", "year"])
    assert _norm_vcov("heteroskedasticity-robust (HC1)")[0] == "hetero"
    assert _norm_vcov("Driscoll-Kraay, lag 2")[0] == "driscoll_kraay"
    assert _norm_vcov("conventional (xtreg, fe; xthreg default)")[0] == "iid"
    assert _norm_vcov("nonrobust")[0] == "iid"


def test_psm_did_beside_fe_reports_both_fixed_effects():
    """Regression test (issue 16): a PSM-DID stored its settings as "fixed effects"/"se" while the
    table writer read "fixed_effects"/"vcov", so the FE rows said "No" for a model absorbing county
    and year. The writer now reads the typed fields every estimator sets."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parent))
    from _did_synth import staggered_panel

    from analysis.did import psm_did
    from analysis.regression import fe

    d = staggered_panel(n_units=80, seed=4)
    m_fe = fe("y ~ treat + x2", d)
    m_psm = psm_did(d, "y", "treat", ["x1", "x2"], seed=1)
    assert m_psm.fixed_effects == ("county", "year") and m_psm.cluster == ("county",)
    assert m_psm.vcov_type == "cluster" and m_psm.outcome == "y" and m_psm.n_clusters > 0
    zh = regression_table([m_fe, m_psm], lang="zh").to_frame()
    assert zh.loc["县域固定效应"].tolist() == ["是", "是"] and zh.loc["年份固定效应"].tolist() == ["是", "是"]
    en = regression_table([m_fe, m_psm], lang="en")
    f = en.to_frame()
    assert f.loc["County FE"].tolist() == ["Yes", "Yes"] and f.loc["Year FE"].tolist() == ["Yes", "Yes"]
    assert en.notes[0].startswith("Notes: Standard errors clustered by county in parentheses.")


def test_descriptive_table_on_an_estimation_sample(panel):
    """descriptive_table(sample=result) describes the rows the estimator used (its outcome and
    regressors by default): here the rows left after fe() drops missing values."""
    from analysis.regression import fe

    d = panel.copy()
    d.loc[d.index[:7], "z"] = np.nan
    res = fe("y ~ loans_gdp + z", d)
    t = descriptive_table(d, sample=res, lang="en")
    assert list(t.values.index) == ["y", "loans_gdp", "z"]
    assert (t.values["N"] == res.n_used).all()
    used = d.loc[res.extra["sample_index"], "y"]
    assert t.values.loc["y", "mean"] == pytest.approx(used.mean(), rel=1e-12)
    with pytest.raises(SpecificationError, match="sample_index"):
        descriptive_table(d, sample=EstimationResult(pd.Series({"a": 1.0}), pd.Series({"a": 0.1})))


def test_heterogeneity_result_gives_one_column_per_group(panel):
    from analysis.regression import heterogeneity

    d = panel.assign(region=np.where(panel["county"].astype(str).str[-1].isin(list("01234")), "east", "west"))
    h = heterogeneity("y ~ loans_gdp + z", d, by="region", min_group_size=10)
    f = regression_table(h, lang="en").to_frame()
    assert list(f.columns) == ["(1)", "(2)"] or len(f.columns) == 2
    est = h.to_frame().set_index(["group", "term"])["estimate"]
    assert f.loc["loans_gdp"].iloc[0].startswith(f"{est[('east', 'loans_gdp')]:.3f}")
