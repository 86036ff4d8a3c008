"""Coupling coordination, classes, relative development and obstacle degree (indices.md §4-5)."""
from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis.coupling import (
    C_STAGES,
    D_CLASSES,
    D_CLASSES_XU2020,
    ClassTable,
    TraditionalCouplingWarning,
    coupling_coordination,
    coupling_degree,
    obstacle_degree,
    relative_development,
)
from analysis.errors import CountyFusionError, ScaleError, SpecificationError

REF = Path(__file__).parent / "reference" / "indices"
TOL = 1e-6


def cc1() -> pd.DataFrame:
    return pd.read_csv(REF / "coupling_cc1.csv")


def _u(s: str) -> np.ndarray:
    return np.array([float(v) for v in s.split(";")])


def _cd(U, model, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", TraditionalCouplingWarning)
        return coupling_coordination(U, model=model, **kw)


# ---- CC1: every worked number of §4.4 -------------------------------------------------------------
@pytest.mark.parametrize("i", range(12))
def test_cc1_table(i):
    row = cc1().iloc[i]
    U = _u(row["U"])
    for model, ccol, dcol in [("traditional", "C_traditional", "D_traditional"),
                              ("wang", "C_wang", "D_wang"), ("fan", "C_fan", None)]:
        f = _cd(U, model).frame.iloc[0]
        if pd.notna(row[ccol]):
            assert abs(f["C"] - row[ccol]) <= TOL, (model, row["U"], f["C"], row[ccol])
        assert abs(f["T"] - row["T"]) <= TOL
        if dcol is not None:
            assert abs(f["D"] - row[dcol]) <= TOL, (model, row["U"], f["D"], row[dcol])


def test_cc1_hand_check_three_subsystems():
    """indices.md §4.4 hand check of C_wang for (0.2, 0.5, 0.8), written out step by step."""
    first = 1 - (0.3 + 0.6 + 0.3) / 3            # 1 - mean pairwise |difference| = 0.6
    second = (0.2 / 0.8 * 0.5 / 0.8 * 1.0) ** (1 / 2)  # 0.395285
    assert abs(_cd(np.array([0.2, 0.5, 0.8]), "wang").C.iloc[0] - np.sqrt(first * second)) < 1e-12


def test_monte_carlo_concentration():
    """indices.md §4.4 Monte Carlo (uniform U, 100,000 draws, seed 0), reported to 4 decimals."""
    ref = pd.read_csv(REF / "coupling_montecarlo.csv")
    U = np.random.default_rng(0).random((100_000, 2))
    for model, grp in ref.groupby("model"):
        C = coupling_degree(U, model)
        got = {"mean": C.mean(), "median": np.median(C), "share_above_0.8": (C > 0.8).mean(),
               "share_below_0.5": (C < 0.5).mean()}
        for _, r in grp.iterrows():
            assert abs(got[r["statistic"]] - r["value"]) <= 0.5 * 10 ** -r["decimals"] + 1e-12


def test_wang2021_table8_examples_consistent():
    """Back-solve U from the published (original, modified) C pairs (indices.md §4.3) and check that
    U reproduces both published values, and that it matches the implied U given there (3 dp)."""
    ref = pd.read_csv(REF / "coupling_wang2021_table8.csv")
    for _, r in ref.iterrows():
        c0, c1 = r["C_original"], r["C_modified"]
        sr = (1 - np.sqrt(1 - c0 ** 2)) / c0     # sqrt(r), r = Umin/Umax, from C = 2 sqrt(r)/(1+r)
        ratio = sr ** 2
        umax = (1 - c1 ** 2 / ratio) / (1 - ratio)  # from C_mod^2 = (1 - (Umax - Umin)) r
        umin = ratio * umax
        assert abs(umax - r["U_max_implied"]) < 5e-4 + 1e-9 and abs(umin - r["U_min_implied"]) < 5e-4 + 1e-9
        f_t = _cd(np.array([umin, umax]), "traditional").C.iloc[0]
        f_w = _cd(np.array([umin, umax]), "wang").C.iloc[0]
        assert abs(f_t - c0) < 1e-9 and abs(f_w - c1) < 1e-9


# ---- independent implementation: the n = 2 closed form derived by hand ----------------------------
def wang_n2_by_hand(u1: float, u2: float) -> float:
    """Corrected C for two subsystems, derived by hand from the general formula:
    sum_{m=1}^{1} m = 1, sum_{i>j}|U_i - U_j| = |U1 - U2|, prod U_i / max = min/max (the max's ratio
    is 1) to the power 1/(n-1) = 1, so C = sqrt((1 - |U1 - U2|) * min/max); C = 0 if both are 0."""
    lo, hi = min(u1, u2), max(u1, u2)
    if hi == 0:
        return 0.0
    return float(np.sqrt((1 - (hi - lo)) * lo / hi))


@settings(max_examples=300, deadline=None)
@given(st.floats(0, 1), st.floats(0, 1))
def test_wang_n2_matches_closed_form(u1, u2):
    got = _cd(np.array([u1, u2]), "wang").C.iloc[0]
    assert abs(got - wang_n2_by_hand(u1, u2)) < 1e-12


# ---- properties -------------------------------------------------------------------------------
u_rows = st.tuples(st.integers(1, 6), st.integers(2, 6)).flatmap(
    lambda shape: arrays(np.float64, shape, elements=st.floats(0, 1, allow_nan=False)))


@settings(max_examples=200, deadline=None)
@given(u_rows, st.sampled_from(["wang", "traditional", "fan"]))
def test_c_and_d_in_unit_interval(U, model):
    f = _cd(U, model).frame
    assert ((f["C"] >= 0) & (f["C"] <= 1)).all()
    assert ((f["D"] >= 0) & (f["D"] <= 1)).all()
    assert ((f["T"] >= 0) & (f["T"] <= 1 + 1e-12)).all()


@settings(max_examples=100, deadline=None)
@given(st.integers(2, 7), st.floats(1e-6, 1), st.sampled_from(["wang", "traditional", "fan"]))
def test_c_is_one_when_all_equal(n, u, model):
    assert abs(_cd(np.full(n, u), model).C.iloc[0] - 1) < 1e-9


@settings(max_examples=150, deadline=None)
@given(u_rows, st.sampled_from(["wang", "traditional", "fan"]), st.randoms())
def test_order_of_subsystems_does_not_matter(U, model, rnd):
    perm = list(range(U.shape[1]))
    rnd.shuffle(perm)
    w = np.arange(1, U.shape[1] + 1, dtype=float)
    w /= w.sum()
    a = _cd(U, model, weights=w).frame
    b = _cd(U[:, perm], model, weights=w[perm]).frame
    np.testing.assert_allclose(a[["C", "T", "D"]], b[["C", "T", "D"]], atol=1e-12)


def test_zero_conventions():
    f = _cd(np.array([[0.0, 0.0, 0.0], [0.0, 0.5, 0.5]]), "wang").frame
    assert f["C"].tolist() == [0.0, 0.0] and f["D"].iloc[0] == 0.0
    assert _cd(np.array([0.0, 0.0]), "traditional").C.iloc[0] == 0.0
    assert _cd(np.array([0.0, 0.0]), "fan").D.iloc[0] == 0.0
    # all-zero rows are counted in the settings, and put in the lowest class
    r = _cd(np.zeros((2, 2)), "wang")
    assert r.settings["rows_all_zero"] == 2 and r.frame["level"].tolist() == [1, 1]


def test_missing_u_gives_nan_and_warns():
    with pytest.warns(RuntimeWarning, match="missing U"):
        r = coupling_coordination(np.array([[0.2, np.nan], [0.3, 0.4]]))
    assert np.isnan(r.D.iloc[0]) and np.isfinite(r.D.iloc[1]) and r.settings["rows_missing_U"] == 1
    assert pd.isna(r.frame["class_zh"].iloc[0])


def test_traditional_warns():
    with pytest.warns(TraditionalCouplingWarning, match="near 1"):
        coupling_coordination(np.array([0.3, 0.6]), model="traditional")


# ---- bad input ------------------------------------------------------------------------------------
def test_bad_input_errors():
    with pytest.raises(ScaleError, match="0-100"):
        coupling_coordination(pd.DataFrame({"urban": [45.0, 60.0], "rural": [30.0, 52.0]}))
    with pytest.raises(ScaleError, match="negative"):
        coupling_coordination(np.array([-0.1, 0.5]))
    with pytest.raises(ScaleError, match="Rescale"):
        coupling_coordination(np.array([150.0, 0.5]))
    with pytest.raises(SpecificationError, match="at least two subsystems"):
        coupling_coordination(pd.DataFrame({"only": [0.2, 0.3]}))
    with pytest.raises(SpecificationError, match="sum to"):
        coupling_coordination(np.array([0.2, 0.3]), weights=[0.6, 0.6])
    with pytest.raises(SpecificationError, match="non-negative"):
        coupling_coordination(np.array([0.2, 0.3]), weights=[1.2, -0.2])
    with pytest.raises(SpecificationError, match="model"):
        coupling_coordination(np.array([0.2, 0.3]), model="liao")
    with pytest.raises(CountyFusionError):
        coupling_coordination(np.array([0.2, 0.3]), closure="both")


def test_weights_by_name_and_in_t_only():
    U = pd.DataFrame({"urban": [0.2, 0.6], "rural": [0.8, 0.3]})
    r = coupling_coordination(U, weights={"rural": 0.25, "urban": 0.75})
    np.testing.assert_allclose(r.T, 0.75 * U["urban"] + 0.25 * U["rural"])
    np.testing.assert_allclose(r.C, coupling_coordination(U).C)  # weights never enter C


# ---- classes ------------------------------------------------------------------------------------
def test_class_tables_match_tian2021():
    ref = pd.read_csv(REF / "coupling_classes.csv")
    for table, ours in [("D", D_CLASSES), ("C", C_STAGES)]:
        r = ref[ref["table"] == table]
        np.testing.assert_allclose(ours.edges, list(r["lower"]) + [r["upper"].iloc[-1]])
        for zh_ref, zh in zip(r["label_zh"], ours.labels_zh):
            assert zh.startswith(zh_ref)


def test_rounding_before_binning_and_closure():
    d = np.array([0.1 + 0.2, 0.3, 0.0, 1.0, 0.35, 0.7])  # 0.1 + 0.2 = 0.30000000000000004
    right = D_CLASSES.classify(d)
    assert right["level"].tolist() == [3, 3, 1, 10, 4, 7]
    assert right["class_zh"].iloc[0] == "中度失调"
    raw = D_CLASSES.classify(d, decimals=None)
    assert raw["level"].iloc[0] == 4  # without rounding, 0.1 + 0.2 falls into the next class
    left = D_CLASSES.classify(d, closure="left")
    assert left["level"].tolist() == [4, 4, 1, 10, 4, 8]
    out = D_CLASSES.classify(np.array([np.nan, 1.5]))
    assert out["level"].isna().all()


def test_custom_class_table():
    xu = coupling_coordination(np.array([[0.45, 0.46], [0.2, 0.3]]), classes=D_CLASSES_XU2020).frame
    assert xu["class_zh"].tolist() == ["中级协调", "濒临失调"]
    t = ClassTable.from_frame(pd.DataFrame({"lower": [0, 0.5], "upper": [0.5, 1],
                                            "label_zh": ["低", "高"], "label_en": ["low", "high"]}))
    assert t.classify(np.array([0.5, 0.51]))["class_en"].tolist() == ["low", "high"]
    with pytest.raises(SpecificationError):
        ClassTable((0, 0.5, 0.4), ("a", "b"), ("a", "b"))


# ---- relative development ------------------------------------------------------------------------
def test_relative_development_difference_and_ratio():
    U = pd.DataFrame({"urban": [0.70, 0.55, 0.60, 0.30], "rural": [0.55, 0.70, 0.65, 0.0]})
    labels = {"urban": ("urban", "城镇"), "rural": ("rural", "乡村")}
    r = coupling_coordination(U, labels=labels)
    rd = r.relative_development()
    assert rd["type_zh"].tolist() == ["乡村滞后", "城镇滞后", "同步发展", "乡村滞后"]
    d_cls = r.frame["class_zh"].iloc[0]
    assert rd["label_zh"].iloc[0] == f"{d_cls}—乡村滞后"
    assert rd["label_en"].iloc[1].endswith("urban lagging")
    with pytest.warns(RuntimeWarning, match="U_b = 0"):
        rr = relative_development(U, rule="ratio", ratio_bounds=(0.8, 1.2), labels=labels)
    # E = 0.70/0.55 = 1.27 >= 1.2 -> rural lags; 0.786 <= 0.8 -> urban lags; 0.923 -> synchronous
    assert rr["lagging"].tolist() == ["rural", "urban", "", "rural"]
    rr9 = relative_development(U.iloc[:3], rule="ratio", ratio_bounds=(0.9, 1.1), labels=labels)
    assert rr9["lagging"].tolist() == ["rural", "urban", ""]
    tight = relative_development(U.iloc[:3], threshold=0.2)
    assert tight["lagging"].tolist() == ["", "", ""]


def test_relative_development_primary_label_example():
    """The label format of the brief and of 徐维祥 et al. 2020: 初级协调—乡村滞后."""
    U = pd.DataFrame({"urban": [0.80], "rural": [0.50]})
    r = coupling_coordination(U, labels={"urban": ("urban", "城镇"), "rural": ("rural", "乡村")})
    assert r.frame["class_zh"].iloc[0] == "初级协调"  # D = 0.6374
    assert r.relative_development()["label_zh"].iloc[0] == "初级协调—乡村滞后"


def test_relative_development_many_subsystems():
    U = np.array([[0.5, 0.2, 0.6], [0.5, 0.45, 0.52], [0.3, 0.3, 0.6]])
    rd = relative_development(U)
    assert rd["lagging"].tolist() == ["U2", "", "U1,U2"]


# ---- obstacle degree ----------------------------------------------------------------------------
def test_obstacle_rows_sum_to_one_and_ideal_nan():
    z = pd.DataFrame({"a": [0.0, 1.0, 0.5, 1.2], "b": [0.5, 1.0, 0.5, 0.0], "c": [1.0, 1.0, 0.5, 0.4]})
    w = pd.Series({"a": 0.5, "b": 0.3, "c": 0.2})
    with pytest.warns(RuntimeWarning, match="ideal"):
        o = obstacle_degree(z, w, subsystems={"a": "s1", "b": "s1", "c": "s2"}, top_k=2)
    s = o.indicator.sum(axis=1, min_count=1)
    assert np.isnan(s.iloc[1]) and np.allclose(s.drop(1), 1.0)
    assert o.settings["cells_clipped"] == 1 and (o.indicator.fillna(0) >= 0).all().all()
    np.testing.assert_allclose(o.subsystem.sum(axis=1).drop(1), 1.0)
    assert o.subsystem.iloc[1].isna().all()
    # row 2: all deviations 0.5, obstacles proportional to weights; ties flagged
    top2 = o.top[o.top["row"] == 2]
    assert top2["indicator"].tolist() == ["a", "b"] and not top2["tied"].any()
    z2 = pd.DataFrame({"a": [0.0], "b": [0.0], "c": [0.5]})
    o2 = obstacle_degree(z2, pd.Series({"a": 0.4, "b": 0.4, "c": 0.2}), top_k=2)
    assert o2.top["indicator"].tolist() == ["a", "b"] and o2.top["tied"].all()


def test_obstacle_subsystem_factor():
    z = pd.DataFrame({"a": [0.2], "b": [0.6], "c": [0.1]})
    within = pd.Series({"a": 0.5, "b": 0.5, "c": 1.0})
    o = obstacle_degree(z, within, subsystems={"a": "s1", "b": "s1", "c": "s2"},
                        subsystem_weights={"s1": 0.6, "s2": 0.4})
    F = np.array([0.3, 0.3, 0.4])
    I = 1 - z.to_numpy()[0]
    np.testing.assert_allclose(o.indicator.to_numpy()[0], F * I / (F * I).sum())


def test_scale_error_messages_name_the_likely_cause():
    with pytest.raises(ScaleError, match="shift"):
        coupling_coordination(np.array([1.0001, 0.5]))
    with pytest.raises(SpecificationError, match="not the keys"):
        coupling_coordination(pd.DataFrame({"county": ["110101", "110102"], "a": [0.1, 0.2],
                                            "b": [0.3, 0.4]}))


# ---- mutation-testing follow-up (tests/README.md): boundaries, messages, index handling -------
@pytest.mark.parametrize("kwargs,match", [
    ({"ratio_bounds": (0.0, 1.2)}, r"ratio_bounds=\(0.0, 1.2\) must satisfy 0 < lower <= 1 <= upper"),
    ({"ratio_bounds": (1.01, 1.2)}, "must satisfy 0 < lower <= 1 <= upper"),
    ({"ratio_bounds": (0.8, 0.99)}, "must satisfy 0 < lower <= 1 <= upper"),
    ({"threshold": -0.1}, r"threshold=-0.1 must be non-negative"),
    ({"rule": "share"}, r"rule='share' is not one of"),
])
def test_relative_development_option_errors(kwargs, match):
    with pytest.raises(SpecificationError, match=match):
        relative_development(np.array([[0.5, 0.4]]), **kwargs)


def test_relative_development_boundaries_are_exact():
    # the inclusive ends are allowed: lower = upper = 1 and threshold = 0
    assert relative_development(np.array([[0.5, 0.5]]), rule="ratio", ratio_bounds=(1.0, 1.0))["lagging"].iloc[0] in ("U1", "U2")
    assert relative_development(np.array([[0.5, 0.4]]), threshold=0.0)["lagging"].iloc[0] == "U2"
    # difference rule: |U_a - U_b| = threshold (within 1e-12) is synchronous, a hair beyond is not
    U = np.array([[0.6, 0.5], [0.5, 0.6], [0.6 + 5e-13, 0.5], [0.5, 0.6 + 5e-13], [0.6 + 1e-9, 0.5], [0.5, 0.6 + 1e-9]])
    rd = relative_development(U, threshold=0.1)
    assert rd["lagging"].tolist() == ["", "", "", "", "U2", "U1"]
    # ratio rule: E exactly at the bounds lags (<= lower, >= upper)
    rr = relative_development(np.array([[0.8, 1.0], [0.9, 1.0], [0.6, 0.5]]), rule="ratio", ratio_bounds=(0.8, 1.2))
    assert rr["lagging"].tolist() == ["U1", "", "U2"]
    assert rr["value"].tolist() == pytest.approx([0.8, 0.9, 1.2], abs=1e-15)


def test_relative_development_ratio_zeros_and_default_labels():
    import warnings

    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        rr = relative_development(pd.DataFrame({"a": [0.5, 0.0, 0.5], "b": [0.0, 0.0, 0.5]}), rule="ratio")
    ours = [r for r in rec if "ratio rule" in str(r.message)]
    assert len(rec) == 1 and len(ours) == 1  # no numpy divide/invalid warnings leak out
    assert str(ours[0].message) == ("ratio rule: some U_b = 0 (E infinite or undefined); the difference "
                                    "rule handles zeros.")
    assert not ours[0].filename.endswith(os.path.join("analysis", "coupling.py"))  # points at a caller, not at the library
    assert np.isinf(rr["value"].iloc[0]) and np.isnan(rr["value"].iloc[1]) and rr["value"].iloc[2] == 1.0
    assert rr["lagging"].tolist()[0] == "b" and pd.isna(rr["lagging"].iloc[1])
    # without labels, both languages use the column names
    assert rr["type_en"].iloc[0] == "b lagging" and rr["type_zh"].iloc[0] == "b滞后"
    with warnings.catch_warnings(record=True) as rec2:
        warnings.simplefilter("always")
        relative_development(pd.DataFrame({"a": [0.5], "b": [0.4]}), rule="ratio")
    assert not rec2  # no zero, no warning


def test_coupling_result_relative_development_passes_the_rule():
    U = pd.DataFrame({"urban": [0.70], "rural": [0.66]})
    r = coupling_coordination(U)
    assert r.relative_development(rule="ratio")["lagging"].iloc[0] == ""  # E = 1.06: synchronous
    assert r.relative_development(rule="ratio", ratio_bounds=(0.8, 1.05))["lagging"].iloc[0] == "rural"


@pytest.mark.parametrize("call,match", [
    (lambda z: obstacle_degree(z, pd.Series({"a": 1.0, "b": 1.0, "c": 1.0}), top_k=0), "top_k=0 must be at least 1"),
    (lambda z: obstacle_degree(z, pd.Series({"a": 1.0, "b": 1.0})), r"obstacle degree: no weight for \['c'\]"),
    (lambda z: obstacle_degree(z, pd.Series({"a": -0.1, "b": 1.0, "c": 1.0})),
     "^obstacle degree: weights must be non-negative.$"),
    (lambda z: obstacle_degree(z, pd.Series({"a": 1.0, "b": 1.0, "c": 1.0}), subsystem_weights={"s": 1.0}),
     r"^subsystem_weights needs subsystems= \(column -> subsystem\).$"),
])
def test_obstacle_degree_errors(call, match):
    z = pd.DataFrame({"a": [0.2], "b": [0.5], "c": [0.9]})
    with pytest.raises(SpecificationError, match=match):
        call(z)


def test_obstacle_degree_index_order_defaults_and_per_row_weights():
    import warnings

    z = pd.DataFrame({"a": [0.2, 1.0, 0.9999], "b": [0.5, 1.0, 1.0], "c": [0.9, 1.0, 1.0], "d": [0.0, 1.0, 1.0]},
                     index=["r1", "r2", "r3"])
    w = pd.Series({"a": 0.4, "b": 0.0, "c": 0.3, "d": 0.3})  # a zero weight is allowed
    subs = {"a": "s2", "b": "s1", "c": "s2", "d": "s1"}
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        o = obstacle_degree(z, w, subsystems=subs)
    assert len(rec) == 1 and not rec[0].filename.endswith(os.path.join("analysis", "coupling.py"))
    assert str(rec[0].message) == ("obstacle degree: 1 row(s) are at the ideal on every weighted indicator "
                                   "(no obstacle); their obstacle degrees are NaN.")
    assert list(o.indicator.index) == ["r1", "r2", "r3"] and list(o.indicator.columns) == ["a", "b", "c", "d"]
    assert list(o.subsystem.columns) == ["s2", "s1"]  # order of first appearance
    num = w.to_numpy() * (1 - z.loc["r1"].to_numpy())
    np.testing.assert_allclose(o.indicator.loc["r1"], num / num.sum(), atol=1e-15)
    assert o.indicator.loc["r2"].isna().all()
    np.testing.assert_allclose(o.indicator.loc["r3"], [1.0, 0.0, 0.0, 0.0], atol=1e-12)  # tiny deviation, still defined
    assert (o.top.groupby("row").size() == pd.Series({"r1": 3, "r3": 3})).all()  # default top_k = 3, ideal row left out
    assert o.top.loc[o.top["row"] == "r1", "indicator"].tolist() == ["a", "d", "c"]  # 0.32, 0.30, 0.03
    assert o.settings == {"top_k": 3, "clip": True, "cells_clipped": 0, "rows_at_ideal": 1, "factor": "w_j"}
    one = obstacle_degree(z.iloc[:1], w, top_k=1)
    assert one.top["indicator"].tolist() == ["a"]
    # per-row weights (DataFrame) are aligned by index and columns, not by position
    W = pd.DataFrame([[0.3, 0.3, 0.0, 0.4], [0.1, 0.2, 0.3, 0.4]], index=["r3", "r1"], columns=["d", "c", "b", "a"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ow = obstacle_degree(z.loc[["r1", "r3"]], W)
    F1 = np.array([0.4, 0.3, 0.2, 0.1])  # r1's weights for a, b, c, d
    n1 = F1 * (1 - z.loc["r1"].to_numpy())
    np.testing.assert_allclose(ow.indicator.loc["r1"], n1 / n1.sum(), atol=1e-15)


def test_relative_development_three_subsystems_ratio_ties_and_labels():
    U = pd.DataFrame({"u": [0.4, 0.7, 0.0, 0.8, 0.3], "r": [0.5, 0.72, 0.0, 1.0, 0.3], "e": [0.8, 0.75, 0.0, 0.9, 0.6]},
                     index=["p", "q", "s", "t", "v"])
    labels = {"u": ("Urban area", "城镇"), "r": ("Rural area", "乡村"), "e": ("Ecology", "生态")}
    rr = relative_development(U, rule="ratio", ratio_bounds=(0.8, 1.2), labels=labels)
    assert list(rr.index) == ["p", "q", "s", "t", "v"]
    np.testing.assert_allclose(rr["value"].to_numpy(), [0.5, 0.7 / 0.75, np.nan, 0.8, 0.5], atol=1e-15)
    assert rr["lagging"].iloc[[0, 1, 3, 4]].tolist() == ["u", "", "u", "u,r"]  # 0.8 exactly lags
    assert pd.isna(rr["lagging"].iloc[2]) and pd.isna(rr["type_zh"].iloc[2]) and pd.isna(rr["type_en"].iloc[2])
    assert rr["type_en"].iloc[4] == "Urban area & Rural area lagging" and rr["type_zh"].iloc[4] == "城镇、乡村滞后"
    assert rr["type_en"].iloc[1] == "synchronous" and rr["type_zh"].iloc[1] == "同步发展"
    # difference rule, n = 3: max - min = threshold is synchronous, a hair beyond lags
    dd = relative_development(np.array([[0.5, 0.6, 0.55], [0.5, 0.6 + 5e-13, 0.55], [0.5, 0.6 + 1e-9, 0.55]]))
    assert dd["lagging"].tolist() == ["", "", "U1"]


def test_relative_development_labels_with_class_frame():
    U = pd.DataFrame({"a": [0.7, np.nan, 0.5], "b": [0.5, 0.5, 0.5]}, index=["x", "y", "z"])
    classes = pd.DataFrame({"class_zh": [None, "中", "高"], "class_en": [None, "mid", "high"]}, index=["y", "x", "z"])
    out = relative_development(U, d_classes=classes)
    assert out.loc["x", "label_zh"] == "中—b滞后" and out.loc["x", "label_en"] == "mid – b lagging"
    assert pd.isna(out.loc["y", "label_zh"]) and pd.isna(out.loc["y", "label_en"])  # undefined type
    assert out.loc["z", "label_en"] == "high – synchronous"


def test_obstacle_top_table_columns_labels_keys_and_ties():
    z = pd.DataFrame({"a": [0.5, 0.2], "b": [0.5, 0.6], "c": [0.2, 0.5]}, index=[10, 11])
    w = pd.Series({"a": 1 / 3, "b": 1 / 3, "c": 1 / 3})
    keys = pd.DataFrame({"county": ["110101", "110102"], "year": [2020, 2020]}, index=[10, 11])
    labels = {"a": ("alpha", "甲"), "b": ("beta", "乙"), "c": ("gamma", "丙")}
    o = obstacle_degree(z, w, subsystems={"a": "s1", "b": "s1", "c": "s2"}, subsystem_weights={"s1": 0.5, "s2": 0.5},
                        top_k=2, keys=keys, labels=labels)
    assert list(o.top.columns) == ["county", "year", "row", "rank", "indicator", "obstacle", "tied", "label",
                                   "label_zh", "subsystem"]
    assert list(o.top.index) == [0, 1, 2, 3]
    assert o.top["county"].tolist() == ["110101", "110101", "110102", "110102"]
    assert o.top["rank"].tolist() == [1, 2, 1, 2]
    assert o.top["indicator"].astype(str).tolist() == ["c", "a", "a", "c"]
    assert o.top["label"].astype(str).tolist() == ["gamma", "alpha", "alpha", "gamma"]
    assert o.top["label_zh"].astype(str).tolist() == ["丙", "甲", "甲", "丙"]
    assert o.top["subsystem"].astype(str).tolist() == ["s2", "s1", "s1", "s2"]
    # row 10: a and b tie (0.5 deviations); row 11: c's 0.5 equals row 10's values but not its own row's
    assert o.top["tied"].tolist() == [False, True, False, False]
    assert o.settings["factor"] == "w_j * W_k"
    # keys in another row order are aligned by index; weights in another order by name; no subsystems -> None
    o2 = obstacle_degree(z, pd.Series({"c": 0.6, "b": 0.3, "a": 0.1}), top_k=1, keys=keys.iloc[::-1])
    assert o2.top["county"].tolist() == ["110101", "110102"] and o2.subsystem is None
    F = np.array([0.1, 0.3, 0.6])
    n2 = F * (1 - z.to_numpy())
    np.testing.assert_allclose(o2.indicator.to_numpy(), n2 / n2.sum(axis=1, keepdims=True), atol=1e-15)
