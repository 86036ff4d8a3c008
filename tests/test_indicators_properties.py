"""Property tests (hypothesis) of normalization, weights, TOPSIS and the composite index."""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from analysis.indicators import build_index, combine_weights, critic_weights, cv_weights, entropy_weights, normalize

COLS = ["a", "b", "c", "d"]
DIRS = ["+", "-", "+", "-"]
SYS = {"name": "p", "subsystems": [
    {"key": "s1", "label": "S1", "label_zh": "一", "indicators": [
        {"column": "a", "label": "a", "label_zh": "a", "direction": "+"},
        {"column": "b", "label": "b", "label_zh": "b", "direction": "-"}]},
    {"key": "s2", "label": "S2", "label_zh": "二", "indicators": [
        {"column": "c", "label": "c", "label_zh": "c", "direction": "+"},
        {"column": "d", "label": "d", "label_zh": "d", "direction": "-"}]}]}

# well-scaled values: distinct enough that no column is (numerically) constant
vals = st.floats(0.5, 1000, allow_nan=False, allow_infinity=False)
matrices = st.integers(6, 12).flatmap(lambda n: arrays(np.float64, (n, 4), elements=vals))


def varied(m: np.ndarray) -> bool:
    return bool((np.ptp(m, axis=0) > 1e-3 * np.abs(m).max(axis=0)).all())


def panel(m: np.ndarray) -> pd.DataFrame:
    n = len(m)
    return pd.DataFrame(m, columns=COLS).assign(county=[f"{i // 2:06d}" for i in range(n)],
                                                year=[2020 + i % 2 for i in range(n)])


@settings(max_examples=60, deadline=None)
@given(matrices)
def test_weights_sum_to_one_and_are_non_negative(m):
    assume(varied(m))
    z = normalize(pd.DataFrame(m, columns=COLS), dict(zip(COLS, DIRS)))
    ws = [entropy_weights(z), critic_weights(z), cv_weights(pd.DataFrame(m, columns=COLS))]
    ws += [combine_weights(ws[:2], "game"), combine_weights(ws[:2], "linear"),
           combine_weights(ws, "multiplicative")]
    for w in ws:
        assert abs(w.sum() - 1) < 1e-9
        assert (w >= -1e-15).all()


@settings(max_examples=60, deadline=None)
@given(matrices)
def test_normalized_values_in_unit_interval(m):
    assume(varied(m))
    z = normalize(pd.DataFrame(m, columns=COLS), dict(zip(COLS, DIRS)))
    assert z.min().min() >= 0 and z.max().max() <= 1
    np.testing.assert_allclose(z.min(), 0, atol=1e-12)
    np.testing.assert_allclose(z.max(), 1, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(matrices, st.integers(0, 3), st.floats(0.01, 100), st.floats(-500, 500),
       st.sampled_from(["entropy", "critic", "equal"]), st.sampled_from(["weighted_sum", "topsis"]),
       st.sampled_from(["pooled", "year"]))
def test_scores_invariant_to_positive_affine_change_of_units(m, j, scale, offset, w, method, scope):
    """Changing an indicator's unit (x -> a x + b, a > 0: yuan -> 10k yuan, Celsius -> Fahrenheit)
    leaves z, the weights and every score unchanged (not true for CV weights, which use raw data)."""
    assume(varied(m) if scope == "pooled" else varied(m[0::2]) and varied(m[1::2]))
    d1 = panel(m)
    d2 = d1.copy()
    d2[COLS[j]] = d2[COLS[j]] * scale + offset
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r1 = build_index(d1, SYS, weights=w, method=method, scope=scope)
        r2 = build_index(d2, SYS, weights=w, method=method, scope=scope)
    np.testing.assert_allclose(r1.weight, r2.weight, atol=1e-8)
    np.testing.assert_allclose(r1.score, r2.score, atol=1e-8)
    np.testing.assert_allclose(r1.U, r2.U, atol=1e-8)


@settings(max_examples=50, deadline=None)
@given(matrices, st.sampled_from(["entropy", "critic", "cv", "equal"]),
       st.sampled_from(["weighted_sum", "topsis"]))
def test_scores_in_unit_interval(m, w, method):
    assume(varied(m))
    r = build_index(panel(m), SYS, weights=w, method=method)
    assert r.score.between(-1e-12, 1 + 1e-12).all()
    assert r.U.stack().between(-1e-12, 1 + 1e-12).all()


@settings(max_examples=30, deadline=None)
@given(matrices, st.permutations(range(4)))
def test_column_order_does_not_matter(m, perm):
    assume(varied(m))
    d = panel(m)
    sys_perm = {"name": "p2", "subsystems": [
        {"key": "all", "label": "All", "label_zh": "全部", "indicators": [
            {"column": COLS[k], "label": COLS[k], "label_zh": COLS[k], "direction": DIRS[k]}
            for k in perm]}]}
    sys_id = dict(sys_perm, subsystems=[dict(sys_perm["subsystems"][0], indicators=sorted(
        sys_perm["subsystems"][0]["indicators"], key=lambda i: i["column"]))])
    for w in ["entropy", "critic"]:
        a = build_index(d, sys_perm, weights=w)
        b = build_index(d, sys_id, weights=w)
        np.testing.assert_allclose(a.score, b.score, atol=1e-12)
        np.testing.assert_allclose(a.weight.sort_index(), b.weight.sort_index(), atol=1e-12)
