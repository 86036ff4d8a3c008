"""Issue 14's matrix of user-style panels: each variant loads back to the source values."""
from __future__ import annotations

import _user_panels as up
import numpy as np
import pandas as pd
import pytest

from analysis.panel import read_panel
from analysis.study import SIMULATED_ONLY_COLUMNS

NUMERIC = ["urbanization_rate", "rural_income", "gdp_pc", "pension_coverage", "broadband_rate", "population",
           "loans_gdp", "fiscal_selfsuff", "land_transfer_rate", "pm25"]


def _same_values(got: pd.DataFrame, expected: pd.DataFrame):
    got = got.sort_values(["county", "year"]).reset_index(drop=True)
    assert got[["county", "year"]].equals(expected[["county", "year"]].astype({"year": got["year"].dtype}))
    for c in NUMERIC:
        a, b = got[c].to_numpy(dtype=float), expected[c].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(a), np.isnan(b)), c  # missing cells stay missing
        # 1e-9 relative: CSV/xlsx round trips of decimal numbers are exact up to float parsing
        assert np.allclose(a[~np.isnan(a)], b[~np.isnan(b)], rtol=1e-9, atol=0), c
    for c in ("name", "province", "prefecture"):
        assert (got[c].astype(str).to_numpy() == expected[c].astype(str).to_numpy()).all(), c


@pytest.mark.parametrize("variant", up.VARIANTS)
def test_variant_loads_back_through_read_panel_and_study(variant, tmp_path):
    u = up.build(variant, tmp_path)
    assert not set(SIMULATED_ONLY_COLUMNS) & set(pd.read_csv(u.path, nrows=0).columns if u.path.suffix == ".csv"
                                                  else [])
    if variant not in ("names", "codes_2010"):  # ids that need analysis.codes go through the Study
        _same_values(read_panel(u.path, entity="county", columns="yearbook") if variant != "xlsx_zh"
                     else read_panel(u.path, columns="yearbook"), u.expected)
    loaded = u.study.load()
    _same_values(loaded.panel, u.expected)
    rep = loaded.policy_report
    assert rep.n_found + len(rep.missing) == 33
    expected_found = sorted(set(up.load_county_panel().query("land_reform == 1")["county"]) & set(u.expected["county"]))
    assert rep.found == expected_found


def test_variants_have_the_issue_properties(tmp_path):
    src = up.source_panel(("北京市", "海南省", "宁夏回族自治区"))
    ub = up.unbalanced(src)
    assert len(src) - len(ub) == round(0.02 * len(src))
    assert ub.equals(up.unbalanced(src))  # seeded
    cy = up.county_yearbook(src)
    frame = up.load_counties().assign(adcode=lambda f: f["adcode"].astype(str))
    districts = set(frame.loc[frame["county_type"] == "district", "adcode"])
    assert not set(cy["county"]) & districts and set(src["county"]) & districts
    assert "county" not in up.names(src)
    heads = up.chinese_headers()
    assert heads["rural_income"] == "农村居民人均可支配收入(元)" and heads["county"] == "行政区划代码"
    old = up.codes_2010(src)
    assert len(old) > 0.9 * len(src) and old[["county", "year"]].duplicated().sum() == 0
    changed = set(old["county"]) - set(src["county"])
    assert changed  # some codes really are of another vintage (e.g. Beijing's 密云县 110228 -> 密云区 110118)


def test_unbalanced_user_panel_runs_the_placebo_fast_path(tmp_path):
    # a user's unbalanced yearbook file -> Study -> policy attached -> randomization inference on the
    # unbalanced closed form, equal to the iterative batch-demeaning engine (1e-9: its tolerance)
    from analysis.did import placebo_test

    u = up.build("unbalanced", tmp_path)
    panel, roles = u.study.load()
    assert panel.groupby("county").size().nunique() > 1  # really unbalanced
    panel["log_rural_income"] = np.log(panel["rural_income"])
    kw = dict(adoption=roles["adoption"], n_draws=60, seed=3, progress=False)
    fast = placebo_test(panel, "log_rural_income", **kw)
    slow = placebo_test(panel, "log_rural_income", engine="demean", **kw)
    assert fast.settings["engine"] == "closed_form" and fast.stats["treated units"] == u.study.load().policy_report.n_found
    assert np.max(np.abs(fast.draws - slow.draws)) < 1e-9
