"""Prose from numbers: say()/Verdict render numbers into zh/en sentences; the markdown checker."""
from __future__ import annotations

import math

import nbformat
import numpy as np
import pandas as pd
import pytest
from _prose import assert_prose_matches_outputs, stated_numbers, unheld_numbers

from analysis.errors import SpecificationError
from analysis.reporting import Verdict, say, significance


def _notebook(markdown: str, printed: str):
    nb = nbformat.v4.new_notebook()
    code = nbformat.v4.new_code_cell("print(summary)")
    code.outputs = [nbformat.v4.new_output("stream", name="stdout", text=printed)]
    table = nbformat.v4.new_code_cell("tab")
    table.outputs = [nbformat.v4.new_output("execute_result", data={"text/plain": "   N  share\n0  336  0.4117"},
                                            execution_count=2)]
    nb.cells = [nbformat.v4.new_markdown_cell(markdown), code, table]
    return nbformat.from_dict(nb)


def test_checker_passes_when_every_number_is_held():
    nb = _notebook("## 5. Results\nThe estimate is 0.00283 (p = 0.041) on 336 counties; 41.2% are in the east. "
                   "Since 2015, see `caliper(0.05)` and $\\alpha = 0.10$.",
                   "estimate 0.0028344145, clustered p = 0.04112, randomization p = 0.023")
    assert unheld_numbers(nb) == []
    assert_prose_matches_outputs(nb)


def test_checker_fails_on_a_number_no_output_holds():
    # the examples: 173 counties where the table has 336; p ≈ 0.2–0.3 where the output has 0.041
    nb = _notebook("Answer: p ≈ 0.27, not established, on 173 counties (0.00283).",
                   "estimate 0.0028344145, clustered p = 0.04112")
    bad = unheld_numbers(nb)
    assert [b.number for b in bad] == ["0.27", "173"] and all(b.cell == 0 for b in bad)
    with pytest.raises(AssertionError, match="173"):
        assert_prose_matches_outputs(nb)
    # a table passed explicitly holds the figure
    assert [b.number for b in unheld_numbers(nb, tables=[pd.DataFrame({"n": [173], "p": [0.2712]})])] == []


def test_checker_exemptions_and_allow():
    nb = _notebook("Wang et al. (2021, 自然资源学报 36(3):793-810), see §1.2; 95% confidence bands; "
                   "a 0-100 score.", "nothing")
    assert [b.number for b in unheld_numbers(nb)] == ["100"]
    assert unheld_numbers(nb, allow={"100"}) == []


def test_stated_numbers_rules():
    got = [(t, v, d, p) for t, v, d, p, _ in stated_numbers("In 2015, 9 of 33 pilots (27.3%) and 2,851 units; 12 %.")]
    assert got == [("33", 33.0, 0, False), ("27.3%", 27.3, 1, True), ("2,851", 2851.0, 0, False), ("12 %", 12.0, 0, True)]


def test_say_and_significance():
    t = {"en": "p = {p:.3f}, {n:,} counties", "zh": "p 值为 {p:.3f}，共 {n:,} 个县"}
    assert say(t, "en", p=0.04112, n=2851) == "p = 0.041, 2,851 counties"
    assert say(t, "zh", p=0.04112, n=2851) == "p 值为 0.041，共 2,851 个县"
    assert say(t, "en", p=math.nan, n=3) == "p = n/a, 3 counties"
    with pytest.raises(KeyError, match="'n'"):
        say(t, "en", p=0.1)
    with pytest.raises(SpecificationError):
        say(t, "fr", p=0.1, n=1)
    assert significance(0.041) == "significant at the 5% level"
    assert significance(0.041, "zh") == "在5%水平上显著"
    assert significance(0.0049, "zh") == "在1%水平上显著"
    assert significance(0.23) == "not significant at the 10% level"
    assert significance(0.05) == "significant at the 10% level"  # p < alpha, as Stata's stars
    assert significance(np.nan, "zh") == "显著性无法判断"


def test_verdict_from_result_agrees_with_its_numbers():
    from analysis.results import EstimationResult

    res = EstimationResult(params=pd.Series({"D": 0.0028344145}), std_errors=pd.Series({"D": 0.0013}), model="TWFE",
                           df_resid=2850)
    v = Verdict.from_result(res, "D", "the land reform", "the integration index", treatment_zh="土地制度改革",
                            outcome_zh="城乡融合指数")
    assert v.p_value == pytest.approx(float(res.pvalues["D"]))
    en, zh = v.render("en"), v.render("zh")
    assert f"{res.pvalues['D']:.3f}" in en and f"{res.pvalues['D']:.3f}" in zh and "0.00283" in en
    assert ("positive and significant at the 5% level" in en) == (0.01 <= res.pvalues["D"] < 0.05)
    assert "土地制度改革对城乡融合指数的影响" in zh
    assert "not significant" in Verdict("x", "y", 0.1, 0.5).render("en")
