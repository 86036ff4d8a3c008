"""Mutation-testing follow-up for ``analysis/coupling.py`` (issue 15).

Each test pins a behaviour that a surviving mutmut mutant changed: the class-table checks and their
messages, ``ClassTable.from_frame``/``to_frame``, ``classify`` at every edge, the T weights,
``CouplingResult.summary``/``class_counts``, ``ObstacleResult.frequency``, the input checks of
``_as_frame`` and the three coupling formulas written out again from their published definitions
(Wang et al. 2021, 自然资源学报 36(3):793-810; Fan, Ke & Cao 2024, 统计与决策 40(22):41-46).
Expected values are written by hand or computed here from the definitions, never by the package.
"""
from __future__ import annotations

import itertools
import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.coupling import (
    C_STAGES,
    D_CLASSES,
    ClassTable,
    TraditionalCouplingWarning,
    coupling_coordination,
    coupling_degree,
    obstacle_degree,
    relative_development,
)
from analysis.errors import ScaleError, SpecificationError

#: the formulas below are evaluated in a different order than the package (sums of pairs, products
#: of ratios), so agreement is to rounding: 1e-12 on numbers of order 1
EPS = 1e-12


def _exact(msg: str) -> str:
    return "^" + re.escape(msg) + "$"


# ---- ClassTable construction ----------------------------------------------------------------------
def test_class_table_edge_checks_and_messages():
    with pytest.raises(SpecificationError, match=_exact(
            "class table 'bad': edges must increase, got (0, 0.5, 0.4).")):
        ClassTable((0, 0.5, 0.4), ("a", "b"), ("a", "b"), name="bad")
    with pytest.raises(SpecificationError, match="edges must increase"):   # equal edges
        ClassTable((0.0, 0.5, 0.5, 1.0), ("a", "b", "c"), ("a", "b", "c"))
    with pytest.raises(SpecificationError, match="edges must increase"):   # one edge, no interval
        ClassTable((0.5,), (), ())
    with pytest.raises(SpecificationError, match="edges must increase"):   # 2-D edges
        ClassTable(((0.0, 0.5), (0.5, 1.0)), ("a",), ("a",))
    # the smallest valid table: two edges, one interval; edges with gaps above 1 are fine
    one = ClassTable((0.0, 1.0), ("全",), ("all",))
    assert one.classify(np.array([0.0, 0.4, 1.0]))["level"].tolist() == [1, 1, 1]
    wide = ClassTable((0.0, 5.0, 20.0), ("低", "高"), ("low", "high"))
    assert wide.classify(np.array([3.0, 6.0]))["level"].tolist() == [1, 2]


def test_class_table_label_count_message():
    with pytest.raises(SpecificationError, match=_exact(
            "class table 't': 2 intervals need as many zh and en labels (got 1 and 2).")):
        ClassTable((0.0, 0.5, 1.0), ("a",), ("a", "b"), name="t")
    with pytest.raises(SpecificationError, match=r"\(got 3 and 3\)"):
        ClassTable((0.0, 0.5, 1.0), ("a", "b", "c"), ("a", "b", "c"))


def _frame3() -> pd.DataFrame:
    # rows deliberately out of order: from_frame sorts them by ``lower``
    return pd.DataFrame({"lower": [0.6, 0.0, 0.3], "upper": [1.0, 0.3, 0.6],
                         "label_zh": ["高", "低", "中"], "label_en": ["high", "low", "mid"]})


def test_from_frame_sorts_and_keeps_everything():
    t = ClassTable.from_frame(_frame3())
    assert t.edges == (0.0, 0.3, 0.6, 1.0)
    assert t.labels_zh == ("低", "中", "高") and t.labels_en == ("low", "mid", "high")
    assert t.name == "custom" and t.source == ""
    t2 = ClassTable.from_frame(_frame3(), name="mine", source="my paper")
    assert (t2.name, t2.source) == ("mine", "my paper")


def test_from_frame_rejects_gaps():
    msg = _exact("class table rows must be contiguous (each lower = previous upper).")
    gap2 = pd.DataFrame({"lower": [0.0, 0.6], "upper": [0.5, 1.0], "label_zh": ["a", "b"],
                         "label_en": ["a", "b"]})
    with pytest.raises(SpecificationError, match=msg):
        ClassTable.from_frame(gap2)
    gap3 = _frame3().assign(lower=[0.65, 0.0, 0.3])   # gap between 0.6 and 0.65
    with pytest.raises(SpecificationError, match=msg):
        ClassTable.from_frame(gap3)


def test_to_frame_round_trip():
    expected = pd.DataFrame({"level": [1, 2, 3, 4], "lower": [0.0, 0.3, 0.5, 0.8],
                             "upper": [0.3, 0.5, 0.8, 1.0],
                             "label_zh": ["低水平耦合", "拮抗阶段", "磨合阶段", "高水平耦合"],
                             "label_en": ["low-level coupling", "antagonistic stage", "running-in stage",
                                          "high-level coupling"]})
    pd.testing.assert_frame_equal(C_STAGES.to_frame(), expected, check_dtype=False)
    back = ClassTable.from_frame(C_STAGES.to_frame())
    assert back.edges == C_STAGES.edges and back.labels_en == C_STAGES.labels_en


# ---- classify -------------------------------------------------------------------------------------
def test_classify_every_edge_both_closures():
    e = C_STAGES.edges                       # (0, 0.3, 0.5, 0.8, 1)
    v = np.array([-1e-9, 0.0, 0.15, 0.3, 0.4, 0.5, 0.6, 0.8, 0.9, 1.0, 1.0 + 1e-9, np.nan])
    # (a, b]: the lowest interval also holds 0
    right = [None, 1, 1, 1, 2, 2, 3, 3, 4, 4, None, None]
    # [a, b): the highest interval also holds 1
    left = [None, 1, 1, 2, 2, 3, 3, 4, 4, 4, None, None]
    for closure, want in [("right", right), ("left", left)]:
        got = C_STAGES.classify(v, closure=closure)
        assert [None if pd.isna(x) else int(x) for x in got["level"]] == want, closure
        zh = [None if w is None else C_STAGES.labels_zh[w - 1] for w in want]
        en = [None if w is None else C_STAGES.labels_en[w - 1] for w in want]
        assert [None if pd.isna(x) else x for x in got["class_zh"]] == zh
        assert [None if pd.isna(x) else x for x in got["class_en"]] == en
    assert e[0] == 0.0 and e[-1] == 1.0


def test_classify_types_index_and_categories():
    s = pd.Series([0.2, 0.95, np.nan], index=["a", "b", "c"])
    out = C_STAGES.classify(s)
    assert list(out.index) == ["a", "b", "c"]
    assert list(out.columns) == ["level", "class_zh", "class_en"]
    assert str(out["level"].dtype) == "Int64"
    assert out["level"].iloc[0] == 1 and out["level"].iloc[1] == 4 and pd.isna(out["level"].iloc[2])
    assert out["class_en"].cat.ordered and list(out["class_en"].cat.categories) == list(C_STAGES.labels_en)
    assert out["class_zh"].cat.ordered and list(out["class_zh"].cat.categories) == list(C_STAGES.labels_zh)
    assert isinstance(C_STAGES.classify(np.array([0.2])).index, pd.RangeIndex)


def test_classify_rounding_default_is_ten_decimals():
    # 0.3 + 3e-11 is 0.3 at 10 decimals (class 1, right-closed) but not at 11 or without rounding
    v = np.array([0.3 + 3e-11])
    assert C_STAGES.classify(v)["level"].tolist() == [1]
    assert C_STAGES.classify(v, decimals=11)["level"].tolist() == [2]
    assert C_STAGES.classify(v, decimals=None)["level"].tolist() == [2]
    # rounding also brings a value just above the top edge back into the table
    assert C_STAGES.classify(np.array([1.0 + 1e-12]))["level"].tolist() == [4]


def test_classify_closure_message():
    with pytest.raises(SpecificationError, match=_exact("closure='both' is not one of 'right', 'left'.")):
        C_STAGES.classify(np.array([0.2]), closure="both")


# ---- T weights ------------------------------------------------------------------------------------
U2 = pd.DataFrame({"urban": [0.2, 0.6], "rural": [0.8, 0.3]})


def test_t_weights_default_series_and_list():
    r = coupling_coordination(U2)
    np.testing.assert_allclose(r.T, (U2["urban"] + U2["rural"]) / 2, rtol=0, atol=EPS)
    assert r.settings["weights"] == {"urban": 0.5, "rural": 0.5}
    ser = coupling_coordination(U2, weights=pd.Series({"rural": 0.25, "urban": 0.75}))
    np.testing.assert_allclose(ser.T, 0.75 * U2["urban"] + 0.25 * U2["rural"], rtol=0, atol=EPS)
    assert ser.settings["weights"] == {"urban": 0.75, "rural": 0.25}
    lst = coupling_coordination(U2, weights=[1.0, 0.0])      # a zero weight is allowed
    np.testing.assert_allclose(lst.T, U2["urban"], rtol=0, atol=EPS)
    three = np.array([[0.3, 0.6, 0.9]])
    np.testing.assert_allclose(coupling_coordination(three).T, [0.6], rtol=0, atol=EPS)


def test_t_weights_messages():
    with pytest.raises(SpecificationError, match=_exact("T weights miss subsystem(s) ['rural'].")):
        coupling_coordination(U2, weights={"urban": 1.0})
    with pytest.raises(SpecificationError, match=_exact("T weights: 3 values for 2 subsystems.")):
        coupling_coordination(U2, weights=[0.2, 0.3, 0.5])
    with pytest.raises(SpecificationError, match=_exact(
            "T weights must be finite and non-negative: [nan, 1.0].")):
        coupling_coordination(U2, weights=[np.nan, 1.0])
    with pytest.raises(SpecificationError, match=_exact(
            "T weights sum to 1.2, not 1 (T weights must sum to one). Divide them by their sum.")):
        coupling_coordination(U2, weights=[0.6, 0.6])
    with pytest.raises(SpecificationError, match="sum to 0.9,"):
        coupling_coordination(U2, weights=[0.45, 0.45])
    coupling_coordination(U2, weights=[0.5, 0.5 + 5e-7])       # within the 1e-6 tolerance


# ---- CouplingResult methods ---------------------------------------------------------------------
def test_summary_text():
    r = coupling_coordination(U2)
    lines = r.summary().split("\n")
    assert lines[0] == "Coupling coordination, model='wang' (2 subsystems: urban, rural)"
    assert lines[1] == "T weights: {'urban': 0.5, 'rural': 0.5}"
    assert lines[2].split() == ["C", "T", "D"]
    assert lines[3].split() == ["count", "2.000000", "2.000000", "2.000000"]
    # min of T = min(mean(0.2, 0.8), mean(0.6, 0.3)) = 0.45; C by hand: sqrt((1 - 0.6) * 0.2 / 0.8)
    assert lines[6].split() == ["min", f"{math.sqrt(0.4 * 0.25):.6f}", "0.450000", lines[6].split()[3]]
    assert len(lines) == 3 + 8           # header + count, mean, std, min, 25%, 50%, 75%, max


def test_class_counts_zh_en_with_zero_classes():
    # D by hand: U = (0.5, 0.5): C = 1, T = 0.5, D = sqrt(0.5) = 0.7071 -> level 8 (0.7, 0.8];
    # U = (0, 0): D = 0 -> level 1 (twice)
    r = coupling_coordination(np.array([[0.5, 0.5], [0.0, 0.0], [0.0, 0.0]]))
    zh = r.class_counts()
    assert list(zh.index) == list(D_CLASSES.labels_zh)
    assert zh.tolist() == [2, 0, 0, 0, 0, 0, 0, 1, 0, 0]
    assert zh.dtype.kind == "i"
    en = r.class_counts("en")
    assert list(en.index) == list(D_CLASSES.labels_en) and en.tolist() == zh.tolist()
    with pytest.raises(SpecificationError, match=_exact("lang='fr' is not one of 'zh', 'en'.")):
        r.class_counts("fr")


def test_obstacle_frequency():
    # equal weights; O_ij = I_ij / sum_j I_ij with I = 1 - z:
    # row 0 I = (1, .5, 0) -> a, b; row 1 I = (.5, 1, 0) -> b, a; row 2 I = (1, .4, .8) -> a, c
    z = pd.DataFrame({"a": [0.0, 0.5, 0.0], "b": [0.5, 0.0, 0.6], "c": [1.0, 1.0, 0.2]})
    res = obstacle_degree(z, {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}, top_k=2)
    assert res.frequency().to_dict() == {"a": 3, "b": 2, "c": 1}
    assert res.frequency(rank=1).to_dict() == {"a": 2, "b": 1}
    assert res.frequency(rank=2).sort_index().to_dict() == {"a": 1, "b": 1, "c": 1}


# ---- input checks (_as_frame) -----------------------------------------------------------------------
def test_as_frame_shapes_and_names():
    r = coupling_coordination(np.array([0.2, 0.4, 0.6]))           # 1-D: one observation
    assert list(r.U.columns) == ["U1", "U2", "U3"] and len(r.frame) == 1
    assert r.settings["n_subsystems"] == 3
    with pytest.raises(SpecificationError, match=_exact(
            "U must be a DataFrame or a 2-D array (rows x subsystems).")):
        coupling_coordination(np.zeros((2, 2, 2)))
    with pytest.raises(SpecificationError, match=_exact(
            "coupling needs at least two subsystems (got 1: ['only']); with one subsystem there is "
            "nothing to couple (C is undefined).")):
        coupling_coordination(pd.DataFrame({"only": [0.2, 0.3]}))
    with pytest.raises(SpecificationError, match=r"\(got 1: \['U1'\]\)"):
        coupling_coordination(np.array([[0.2], [0.3]]))


def test_as_frame_non_numeric_columns():
    msg = ("U must be numeric, one column of scores per subsystem; column(s) {} are not. Pass only "
           "the subsystem columns (e.g. build_index(...).U), not the keys.")
    with pytest.raises(SpecificationError, match=_exact(msg.format("['county']"))):
        coupling_coordination(pd.DataFrame({"county": ["a", "b"], "u": [0.1, 0.2], "r": [0.3, 0.4]}))
    with pytest.raises(SpecificationError, match=_exact(msg.format("['flag']"))):
        coupling_coordination(pd.DataFrame({"flag": [True, False], "u": [0.1, 0.2]}))
    ints = coupling_coordination(pd.DataFrame({"u": [0, 1], "r": [1, 1]}))   # integer 0/1 is numeric
    assert ints.U.dtypes.tolist() == [np.float64, np.float64]


def test_as_frame_scale_messages_and_boundaries():
    with pytest.raises(ScaleError, match=_exact("U contains infinite values.")):
        coupling_coordination(np.array([np.inf, 0.5]))
    with pytest.raises(ScaleError, match=_exact(
            "U must lie in [0, 1]; column(s) ['r'] have negative values (min -0.25). "
            "Use min-max normalized subsystem scores.")):
        coupling_coordination(pd.DataFrame({"u": [0.0, 0.2], "r": [-0.25, np.nan]}))  # 0 is fine
    tail = (" The corrected (Wang) model uses absolute differences and is meaningless on another "
            "scale.")
    shift = (" Slightly above 1: scores built from shifted z (shift=0.0001)? Build the index without "
             "shift (0 ln 0 = 0 needs none) or use rescale= (maps z into [a, 1 - a]).")
    with pytest.raises(ScaleError, match=_exact(
            "U must lie in [0, 1]; column(s) ['r'] exceed 1 (max 1.01)." + shift + tail)):
        coupling_coordination(pd.DataFrame({"u": [1.0, 0.2], "r": [1.01, 0.3]}))  # 1 is fine
    with pytest.raises(ScaleError, match=_exact(
            "U must lie in [0, 1]; column(s) ['u', 'r'] exceed 1 (max 100). They look like a 0-100 "
            "scale: divide U by 100." + tail)):
        coupling_coordination(pd.DataFrame({"u": [2.0, 0.2], "r": [100.0, 0.3]}))
    with pytest.raises(ScaleError, match=r"\(max 1\.0101\)\. They look like a 0-100"):
        coupling_coordination(np.array([1.0101, 0.5]))
    with pytest.raises(ScaleError, match=r"\(max 100\.5\)\. Rescale them to \[0, 1\] \(min-max\) first\."):
        coupling_coordination(np.array([100.5, 0.5]))
    # exactly 0 and 1 (and 1 + 1e-13, below the 1e-12 tolerance) are accepted
    ok = coupling_coordination(np.array([[0.0, 1.0], [1.0 + 1e-13, 0.5]]))
    assert np.isfinite(ok.D).all()


# ---- the formulas, written out from the published definitions -----------------------------------------
def wang_by_definition(u) -> float:
    """C = sqrt{[1 - sum_{i>j}|U_i - U_j| / sum_{m=1}^{n-1} m] * (prod_i U_i / max U)^(1/(n-1))}."""
    n = len(u)
    if max(u) == 0:
        return 0.0
    pairs = sum(abs(a - b) for a, b in itertools.combinations(u, 2))
    first = 1 - pairs / sum(range(1, n))
    second = math.prod(x / max(u) for x in u) ** (1 / (n - 1))
    return math.sqrt(max(first, 0.0) * second)


def traditional_by_definition(u) -> float:
    """C = [prod U_i / (mean U)^n]^(1/n)."""
    n = len(u)
    if max(u) == 0:
        return 0.0
    return (math.prod(u) / (sum(u) / n) ** n) ** (1 / n)


def fan_by_definition(u) -> float:
    """C = 1 - 2 * population SD of U (all-zero row: C = 0, the convention of stscl/coupling)."""
    n = len(u)
    if max(u) == 0:
        return 0.0
    m = sum(u) / n
    return 1 - 2 * math.sqrt(sum((x - m) ** 2 for x in u) / n)


ROWS = [(0.2, 0.5, 0.8), (0.9, 0.1, 0.4), (0.35, 0.35, 0.7), (0.6, 0.0, 0.3), (0.05, 0.95, 0.5),
        (0.0, 0.0, 0.0), (1.0, 1.0, 1.0), (0.25, 0.5, 0.75)]
ROWS4 = [(0.1, 0.2, 0.3, 0.9), (0.5, 0.5, 0.4, 0.6), (0.0, 0.3, 0.6, 0.9)]


@pytest.mark.parametrize("model,ref", [("wang", wang_by_definition),
                                       ("traditional", traditional_by_definition),
                                       ("fan", fan_by_definition)])
def test_coupling_degree_matches_definition(model, ref):
    for rows in (ROWS, ROWS4, [(0.3, 0.7), (0.0, 0.4), (0.8, 0.8)]):
        arr = np.array(rows)
        want = np.clip([ref(r) for r in rows], 0, 1)
        np.testing.assert_allclose(coupling_degree(arr, model), want, rtol=0, atol=EPS)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TraditionalCouplingWarning)
            res = coupling_coordination(arr, model=model)
        T = arr.mean(axis=1)
        np.testing.assert_allclose(res.C, want, rtol=0, atol=EPS)
        np.testing.assert_allclose(res.T, T, rtol=0, atol=EPS)
        np.testing.assert_allclose(res.D, np.sqrt(want * T), rtol=0, atol=EPS)


def test_wang_clips_negative_first_factor():
    # n = 2 with U = (0, 1) has first factor 1 - 1 = 0; n = 3 with (0, 0, 1): first = 1 - 2/3 and a
    # zero product, so C = 0; fan with (0, 1): 1 - 2 * 0.5 = 0 (not below)
    assert coupling_degree(np.array([[0.0, 1.0]]), "wang").tolist() == [0.0]
    assert coupling_degree(np.array([[0.0, 0.0, 1.0]]), "wang").tolist() == [0.0]
    assert coupling_degree(np.array([[0.0, 1.0]]), "fan").tolist() == [0.0]
    assert coupling_degree(np.array([[0.0, 1.0]]), "traditional").tolist() == [0.0]


def test_coupling_coordination_frame_settings_and_warnings():
    U = pd.DataFrame({"urban": [0.5, np.nan, 0.0], "rural": [0.5, 0.4, 0.0]}, index=[10, 11, 12])
    with pytest.warns(RuntimeWarning) as rec:
        r = coupling_coordination(U, labels={"urban": ("urban", "城镇")})
    assert [str(w.message) for w in rec] == ["1 row(s) have a missing U: their C, T and D are NaN."]
    assert list(r.frame.index) == [10, 11, 12]
    assert list(r.frame.columns) == ["C", "T", "D", "level", "class_zh", "class_en", "stage_level",
                                     "stage_zh", "stage_en"]
    assert r.frame["C"].iloc[0] == 1.0 and r.frame["T"].iloc[0] == 0.5
    assert np.isnan(r.frame["T"].iloc[1]) and np.isnan(r.frame["C"].iloc[1])
    assert r.frame["stage_level"].tolist()[0] == 4 and r.frame["stage_en"].iloc[0] == "high-level coupling"
    assert r.frame["stage_level"].iloc[2] == 1 and r.frame["level"].iloc[2] == 1
    s = r.settings
    assert s == {"model": "wang", "weights": {"urban": 0.5, "rural": 0.5}, "classes": D_CLASSES,
                 "stages": C_STAGES, "closure": "right", "decimals": 10, "n_subsystems": 2,
                 "rows_missing_U": 1, "rows_all_zero": 1,
                 "all_zero_convention": "C = T = D = 0 (as stscl/coupling)"}
    assert r.model == "wang" and r.labels == {"urban": ("urban", "城镇")}
    assert coupling_coordination(U2).labels == {}
    # warn=False silences both warnings
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        coupling_coordination(U, model="traditional", warn=False)
    with pytest.warns(TraditionalCouplingWarning) as rec:
        coupling_coordination(U2, model="traditional")
    assert str(rec[0].message) == (
        "the traditional coupling degree C = geometric mean / arithmetic mean piles up near 1 "
        "(median 0.94 for uniform U; U = (0.3, 0.6) gives 0.94), so D mostly measures T and its "
        "classes are not comparable with the corrected model. Prefer model='wang' (Wang et al. "
        "2021, 自然资源学报 36(3)).")


def test_coupling_coordination_options_reach_the_classes():
    U = np.array([[0.3, 0.3]])             # C = 1, T = 0.3, D = sqrt(0.3) = 0.5477
    left = coupling_coordination(U, closure="left", decimals=None)
    assert left.settings["closure"] == "left" and left.settings["decimals"] is None
    assert left.frame["stage_level"].iloc[0] == 4 and left.frame["level"].iloc[0] == 6
    # D exactly at an edge: U = (0.49, 0.49) gives D = 0.7 -> (0.6, 0.7] right, [0.7, 0.8) left
    U7 = np.array([[0.49, 0.49]])
    assert coupling_coordination(U7).frame["level"].iloc[0] == 7
    assert coupling_coordination(U7, closure="left").frame["level"].iloc[0] == 8
    with pytest.raises(SpecificationError, match=_exact("model='x' is not one of 'wang', 'traditional', 'fan'.")):
        coupling_coordination(U, model="x")
    with pytest.raises(SpecificationError, match=_exact("closure='x' is not one of 'right', 'left'.")):
        coupling_coordination(U, closure="x")
    custom = ClassTable((0.0, 0.5, 1.0), ("低", "高"), ("low", "high"))
    r = coupling_coordination(U, classes=custom, stages=custom)
    assert r.frame["class_en"].iloc[0] == "high" and r.frame["stage_en"].iloc[0] == "high"


# ---- obstacle degree: the two open mutants of the first review ------------------------------------
def test_obstacle_ties_broken_by_indicator_order_beyond_16_indicators():
    # 20 indicators, equal weights; indicator i10 has I = 1, the others I = 0.5, so
    # O(i10) = 1 / (1 + 19 * 0.5) = 2/21 and every other O = 1/21 (19 ties). numpy's default sort is
    # not stable for rows of more than 16 elements; the ties must come in column order.
    cols = [f"i{j:02d}" for j in range(20)]
    z = pd.DataFrame([[0.0 if j == 10 else 0.5 for j in range(20)]], columns=cols)
    res = obstacle_degree(z, {c: 1 / 20 for c in cols}, top_k=20)
    want = ["i10"] + [c for c in cols if c != "i10"]
    assert res.top["indicator"].astype(str).tolist() == want
    np.testing.assert_allclose(res.top["obstacle"], [2 / 21] + [1 / 21] * 19, rtol=0, atol=EPS)
    assert res.top["tied"].tolist() == [False] + [True] * 19


def test_obstacle_ties_counted_within_a_row_only():
    # row 0: I = (1, .6, .4) / 2 -> O = (.5, .3, .2), no ties; row 1: I = (1, .5, .5) / 2 ->
    # O = (.5, .25, .25): the .5 of row 0 equals a value of row 1 but is not tied in its own row
    z = pd.DataFrame({"a": [0.0, 0.0], "b": [0.4, 0.5], "c": [0.6, 0.5]})
    res = obstacle_degree(z, {"a": 1 / 3, "b": 1 / 3, "c": 1 / 3}, top_k=3)
    np.testing.assert_allclose(res.top["obstacle"], [0.5, 0.3, 0.2, 0.5, 0.25, 0.25], rtol=0, atol=EPS)
    assert res.top["tied"].tolist() == [False, False, False, False, True, True]


def test_closure_and_decimals_reach_both_tables():
    # fan, n = 2: C = 1 - 2 * |a - b| / 2 = 1 - |a - b|.
    # U = (0.25, 0.75): C = 0.5 and D = sqrt(0.5 * 0.5) = 0.5, both exactly on an edge
    edge = coupling_coordination(np.array([0.25, 0.75]), model="fan", closure="left").frame.iloc[0]
    assert (edge["C"], edge["D"]) == (0.5, 0.5)
    assert edge["stage_level"] == 3 and edge["level"] == 6          # [0.5, 0.8) and [0.5, 0.6)
    right = coupling_coordination(np.array([0.25, 0.75]), model="fan").frame.iloc[0]
    assert right["stage_level"] == 2 and right["level"] == 5        # (0.3, 0.5] and (0.4, 0.5]
    # U = (0.1, 0.58): C = 0.52, T = 0.34, D = sqrt(0.1768) = 0.4205; at 1 decimal C -> 0.5 and
    # D -> 0.4, which moves both down one class
    U = np.array([0.1, 0.58])
    f1 = coupling_coordination(U, model="fan", decimals=1).frame.iloc[0]
    f10 = coupling_coordination(U, model="fan").frame.iloc[0]
    assert abs(f10["C"] - 0.52) < EPS and abs(f10["D"] - math.sqrt(0.52 * 0.34)) < EPS
    assert (f1["stage_level"], f1["level"]) == (2, 4)
    assert (f10["stage_level"], f10["level"]) == (3, 5)


def test_wang_first_factor_clipped_at_zero_and_weights_rounded_in_settings():
    # U = (1e-13, 1 + 1e-12) is accepted (1e-12 tolerance above 1); 1 - |U1 - U2| is then about
    # -9e-13 and the product with the positive ratio 1e-13 would be negative under the square root:
    # the first factor is clipped at 0, so C = 0, not NaN
    U = np.array([[1e-13, 1 + 1e-12]])
    assert coupling_degree(U, "wang").tolist() == [0.0]
    assert coupling_coordination(U).C.tolist() == [0.0]
    # the settings record the T weights rounded to 12 decimals
    r = coupling_coordination(np.array([0.2, 0.4]), weights=[1 / 3, 2 / 3])
    assert r.settings["weights"] == {"U1": 0.333333333333, "U2": 0.666666666667}


def test_coupling_degree_default_model_and_final_clip():
    U = np.array([[0.2, 0.5, 0.8], [0.3, 0.9, 0.1]])
    np.testing.assert_array_equal(coupling_degree(U), coupling_degree(U, "wang"))
    # fan with (0, 1 + 1e-12): 1 - 2 * SD = -1e-12, clipped to 0
    assert coupling_degree(np.array([[0.0, 1 + 1e-12]]), "fan").tolist() == [0.0]
    # traditional with equal U = 0.01: exp(mean log U) / mean U = 1 + 4e-16 in floating point,
    # clipped to 1
    assert coupling_degree(np.array([[0.01, 0.01]]), "traditional").tolist() == [1.0]


# ---- _as_frame: non-numeric arrays (the open mutants 4 and 6 of the first review) ----------------
@pytest.mark.parametrize("U, bad", [
    (np.array([[True, False], [False, True]]), "['U1', 'U2']"),       # boolean scores
    (np.array([["0.2", "0.4"], ["0.3", "0.5"]]), "['U1', 'U2']"),     # numeric strings
    (np.array([[0.2, "x"], [0.3, 0.5]], dtype=object), "['U2']"),     # one text column
])
def test_array_input_that_is_not_numeric_is_rejected_naming_the_column(U, bad):
    # a DataFrame with a bool or str column is rejected; a plain array of the same cells must not be
    # converted silently (True -> 1.0 would be a top score, "0.2" a string parsed behind the user's back)
    with pytest.raises(SpecificationError, match=re.escape(f"column(s) {bad}")):
        coupling_coordination(U)
    with pytest.raises(SpecificationError, match=re.escape(f"column(s) {bad}")):
        relative_development(U)


def test_array_input_numeric_object_and_int_arrays_still_accepted():
    # None in an object array is a missing score (NaN row, as for np.nan); integer 0/1 are numbers
    obj = np.array([[0.2, None], [0.3, 0.5]], dtype=object)
    ref = np.array([[0.2, np.nan], [0.3, 0.5]])
    with pytest.warns(RuntimeWarning, match="1 row"):
        got = coupling_coordination(obj).frame["D"].to_numpy()
    with pytest.warns(RuntimeWarning, match="1 row"):
        want = coupling_coordination(ref).frame["D"].to_numpy()
    assert np.isnan(got[0]) and np.isnan(want[0])
    assert got[1] == want[1]
    ints = coupling_coordination(np.array([[0, 1], [1, 1]])).frame
    floats = coupling_coordination(np.array([[0.0, 1.0], [1.0, 1.0]])).frame
    pd.testing.assert_frame_equal(ints, floats)


def test_traditional_c_with_a_zero_and_a_subnormal_score_is_zero():
    # found by hypothesis (test_c_and_d_in_unit_interval): the mean of (5e-324, 0) underflows to 0,
    # so gm / mean was 0/0 = NaN; a zero score makes the geometric mean, and so C, exactly 0
    with pytest.warns(TraditionalCouplingWarning):
        f = coupling_coordination(np.array([[5e-324, 0.0], [0.0, 0.3]]), model="traditional").frame
    assert f["C"].tolist() == [0.0, 0.0] and f["D"].tolist() == [0.0, 0.0]
    # both subnormal and equal: perfectly coupled
    assert coupling_degree(np.array([[5e-324, 5e-324]]), "traditional").tolist() == [1.0]
