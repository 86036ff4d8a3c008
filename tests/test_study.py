"""Study descriptions, yearbook-name resolution, attach_policy and the 'what is missing' sentence."""
from __future__ import annotations

import _user_panels as up
import numpy as np
import pandas as pd
import pytest

from analysis.datasets import load_county_panel, load_land_reform_pilots
from analysis.errors import ColumnError, SpecificationError, UnmatchedNameError
from analysis.study import SIMULATED_ONLY_COLUMNS, Study, attach_policy, resolve_name


def test_attach_policy_reproduces_the_simulated_land_reform_columns():
    # independent check: the simulated panel codes the same 33 pilots with the same timing
    p = load_county_panel()
    out = attach_policy(p.drop(columns=list(SIMULATED_ONLY_COLUMNS)))
    assert (out["did"].to_numpy() == p["land_reform"].to_numpy()).all()
    assert np.array_equal(out["adopt_year"].fillna(0).to_numpy(), p["land_reform_year"].fillna(0).to_numpy(dtype=float))
    assert (out["treated"] == p.groupby("county")["land_reform"].transform("max")).all()
    assert (out["post"] == (p["year"] >= 2015)).all()
    rep = out.attrs["policy_report"]
    assert rep.n_found == 33 and rep.missing.empty and "33 of 33" in str(rep)


def test_attach_policy_reports_missing_pilots_and_custom_lists(tmp_path):
    p = up.county_yearbook(up.source_panel())
    out = attach_policy(p)
    rep = out.attrs["policy_report"]
    pilots = load_land_reform_pilots()
    frame = up.load_counties().assign(adcode=lambda f: f["adcode"].astype(str))
    district_pilots = set(pilots["adcode_current"]) & set(frame.loc[frame["county_type"] == "district", "adcode"])
    assert district_pilots  # e.g. 大兴区 (Beijing) is a 市辖区
    assert set(rep.missing["code"]) == district_pilots and rep.n_found == 33 - len(district_pilots)
    assert "大兴区" in str(rep) and str(len(district_pilots)) in rep.say("zh")
    csv = tmp_path / "pol.csv"
    c = p["county"].iloc[0]
    pd.DataFrame({"county": [c, "999999"], "year": [2018, 2019]}).to_csv(csv, index=False)
    out2 = attach_policy(p, str(csv), names={"did": "D"})
    assert out2.attrs["policy_report"].n_found == 1 and list(out2.attrs["policy_report"].missing["code"]) == ["999999"]
    assert out2.loc[out2["county"] == c, "D"].sum() == (p.loc[p["county"] == c, "year"] >= 2018).sum() > 0
    assert out2["D"].sum() == out2.loc[out2["county"] == c, "D"].sum()
    with pytest.raises(SpecificationError, match="already has"):
        attach_policy(out)
    with pytest.raises(SpecificationError, match="policy="):
        attach_policy(p, "land_reform_2099")
    with pytest.raises(SpecificationError, match="no valid year"):
        attach_policy(p, pd.DataFrame({"county": ["110228"], "year": [None]}))
    with pytest.raises(ColumnError, match="'cty'"):
        attach_policy(p, entity="cty")


def test_resolve_yearbook_names_and_bad_names():
    assert resolve_name("常住人口城镇化率(%)") == "urbanization_rate"
    assert resolve_name("农村居民人均可支配收入（元）") == "rural_income"  # full-width brackets
    assert resolve_name("my_own_index", columns=["county", "my_own_index"]) == "my_own_index"
    assert resolve_name("土地流转率 ") == "land_transfer_rate"  # spaces and a missing unit are forgiven
    with pytest.raises(ColumnError, match="mediator '土地流转比率'.*column_mapping.*土地流转率") as err:
        resolve_name("土地流转比率", role="mediator")
    assert isinstance(err.value, ValueError)
    with pytest.raises(ColumnError, match="not a column of the panel"):
        resolve_name("数字政府指数", columns=["county", "year"])
    s = Study(controls=["财政自给率", "常住人口(万人)"], mediators="土地流转率(%)")
    assert s.resolve() == {"outcome": "uri", "mediators": ["land_transfer_rate"], "moderators": [],
                           "controls": ["fiscal_selfsuff", "population"]}
    with pytest.raises(ColumnError, match="moderator '数字化水平'"):
        Study(moderators=["数字化水平"]).resolve()


def test_study_yaml_default_and_bad_input(tmp_path):
    d = Study.from_yaml(up.Path(__file__).resolve().parent.parent / "data" / "studies" / "default.yaml")
    assert d == Study.default()
    y = tmp_path / "s.yaml"
    y.write_text("data_path: my.csv\nscope: county_yearbook\ncontrols: [财政自给率]\n", encoding="utf-8")
    s = Study.from_yaml(y)
    assert s.data_path == str(tmp_path / "my.csv") and s.scope == "county_yearbook" and s.controls == ["财政自给率"]
    y.write_text("data_path: my.csv\ncontrol: [财政自给率]\n", encoding="utf-8")
    with pytest.raises(SpecificationError, match="unknown key.*'control'"):
        Study.from_yaml(y)
    with pytest.raises(SpecificationError, match="scope"):
        Study(scope="cities")
    with pytest.raises(SpecificationError, match="province_column"):
        Study(id_kind="names", id_column="县名")
    with pytest.raises(SpecificationError, match="code_year"):
        Study(code_year=10)


def test_study_load_scope_roles_and_unknown_names(tmp_path):
    u = up.build("stripped", tmp_path)
    s = Study(data_path=str(u.path), scope="county_yearbook", controls=["财政自给率"], outcome="农村居民人均可支配收入(元)")
    panel, roles = s.load()
    kept = up.county_yearbook(u.expected)
    assert panel[["county", "year"]].reset_index(drop=True).equals(kept[["county", "year"]])
    assert roles["outcome"] == "rural_income" and roles["controls"] == ["fiscal_selfsuff"]
    assert roles["did"] == "did" and panel["did"].sum() > 0
    notes = s.load().notes
    assert any("dropped" in n and "市辖区" in n for n in notes)
    with pytest.raises(ColumnError, match="数字政府指数"):
        Study(data_path=str(u.path), moderators=["数字政府指数"]).load()  # simulated-only: not in the file
    with pytest.raises(SpecificationError, match="yearbook name of 'county'"):
        Study(data_path=str(u.path), id_column="县代码").load()


def test_study_names_errors(tmp_path):
    src = up.source_panel(("北京市",))
    bad = up.names(src)
    bad.loc[bad.index[3], "name"] = "不存在区"
    path = tmp_path / "n.csv"
    bad.to_csv(path, index=False)
    s = Study(data_path=str(path), id_column="name", id_kind="names", province_column="province")
    with pytest.raises(UnmatchedNameError, match="不存在区"):
        s.load()


def test_missing_sentences():
    s = Study()
    assert s.missing(["outcome"]) is None
    en = s.missing(["mediators", "moderators"], section="section 3")
    assert en.startswith("Skipped section 3") and "mediators and no moderators" in en and "default.yaml" in en
    zh = s.missing(["mediators"], section="第3节", lang="zh")
    assert "中介变量" in zh and zh.startswith("已跳过第3节")
    assert "数字政府指数" in Study().missing({"moderators": ["数字政府指数"]}, columns=["county", "year"])
    assert "政策名单" in Study(policy=None).missing(["policy"], lang="zh")
    with pytest.raises(SpecificationError):
        s.missing(["mediators"], lang="fr")
