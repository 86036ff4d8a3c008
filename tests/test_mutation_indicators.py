"""Mutation-testing follow-up for analysis/indicators (issue 15): tests that kill the mutants mutmut
found surviving in weights.py, normalize.py, topsis.py and index.py.

Expected numbers are computed here by explicit loops over the published definitions (entropy:
Shannon; CRITIC: Diakoulaki et al. 1995; CV; game-theory combination; min-max; TOPSIS: Hwang & Yoon
1981), never taken from the module under test. Tolerances are numbers with their reason.
"""
from __future__ import annotations

import math
import types
import warnings

import numpy as np
import pandas as pd
import pytest

from analysis.errors import (ColumnError, ConstantColumnError, MissingValueError, NegativeValueError,
                             SpecificationError)
from analysis.indicators import (ConstantColumnWarning, combine_weights, critic, critic_weights, cv,
                                 cv_weights, entropy, entropy_weights)
from analysis.indicators.weights import check_weights, equal_weights, fixed_weights

# 1e-12: sums over a few dozen terms of order 1 (rounding only)
TOL = 1e-12

Z = pd.DataFrame({"a": [0.0, 0.2, 0.5, 1.0, 0.7],
                  "b": [1.0, 0.0, 0.3, 0.3, 0.9],
                  "c": [0.4, 0.6, 0.0, 1.0, 0.1]}, index=list("vwxyz"))


def col(df, c):
    return [float(v) for v in df[c]]


def mean(v):
    return sum(v) / len(v)


def sd1(v):
    m = mean(v)
    return math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - 1))


def corr(u, v):
    mu, mv = mean(u), mean(v)
    num = sum((a - mu) * (b - mv) for a, b in zip(u, v))
    return num / math.sqrt(sum((a - mu) ** 2 for a in u) * sum((b - mv) ** 2 for b in v))


# --- entropy -------------------------------------------------------------------------------------
def entropy_loops(df):
    n = len(df)
    e = {}
    for c in df.columns:
        v = col(df, c)
        s = sum(v)
        e[c] = -sum((x / s) * math.log(x / s) for x in v if x > 0) / math.log(n)
    d = {c: 1 - e[c] for c in e}
    return e, d, {c: d[c] / sum(d.values()) for c in d}


def test_entropy_against_loops_with_zero_cells():
    res = entropy(Z)
    e, d, w = entropy_loops(Z)
    assert list(res.columns) == ["e", "d", "weight"]
    assert list(res.index) == ["a", "b", "c"]
    for c in Z.columns:
        assert res.loc[c, "e"] == pytest.approx(e[c], abs=TOL)
        assert res.loc[c, "d"] == pytest.approx(d[c], abs=TOL)
        assert res.loc[c, "weight"] == pytest.approx(w[c], abs=TOL)
    pd.testing.assert_series_equal(entropy_weights(Z), res["weight"])


def test_entropy_of_an_array_and_k_uses_all_rows():
    arr = Z.to_numpy()
    res = entropy(arr)
    assert list(res.index) == [0, 1, 2]
    # k = 1 / ln N with N = 5 rows: a column with one non-zero cell has e = 0, d = 1
    one = pd.DataFrame({"p": [0.0, 0.0, 0.0, 0.0, 1.0], "q": [1.0, 1.0, 1.0, 1.0, 2.0]})
    r = entropy(one)
    assert r.loc["p", "e"] == 0.0
    q = [1 / 6] * 4 + [2 / 6]
    assert r.loc["q", "e"] == pytest.approx(-sum(x * math.log(x) for x in q) / math.log(5), abs=TOL)


def test_entropy_constant_columns_warn_and_get_zero():
    z = Z.assign(k=0.3, zero=0.0)
    with pytest.warns(ConstantColumnWarning, match=r"entropy weights: column\(s\) k, zero are constant and get weight 0\."):
        res = entropy(z)
    assert res.loc["k", "e"] == 1.0 and res.loc["zero", "e"] == 1.0
    assert res.loc["k", "weight"] == 0.0 and res.loc["zero", "weight"] == 0.0
    _, _, w = entropy_loops(Z)
    for c in Z.columns:
        assert res.loc[c, "weight"] == pytest.approx(w[c], abs=TOL)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        entropy(Z)  # no constant column: no warning


def test_entropy_tiny_d_is_zero_and_errors():
    # nearly uniform column: d of order 1e-17 is rounding noise and is set to exactly 0
    z = pd.DataFrame({"u": [0.5, 0.5 + 1e-9, 0.5], "v": [0.0, 0.5, 1.0]})
    res = entropy(z)
    assert res.loc["u", "d"] == 0.0 and res.loc["u", "weight"] == 0.0
    assert res.loc["v", "weight"] == 1.0
    with pytest.raises(NegativeValueError, match=r"need z >= 0; column\(s\) \['b'\] have negative values\. "
                                                 r"Normalize with min-max"):
        entropy(Z.assign(b=[0.1, -0.2, 0.3, 0.0, 0.5]))
    with pytest.warns(ConstantColumnWarning):
        with pytest.raises(ConstantColumnError, match="every column is constant; no weight"):
            entropy(pd.DataFrame({"a": [1.0, 1.0], "b": [0.0, 0.0]}))


def test_matrix_checks_name_columns_and_rows():
    z = Z.copy()
    z.loc["w", "b"] = np.nan
    z.loc["y", "c"] = np.nan
    with pytest.raises(MissingValueError, match=r"entropy weights needs complete columns: missing cells in b, c "
                                                r"at rows w, y\. Interpolate first"):
        entropy(z)
    with pytest.raises(MissingValueError, match=r"CRITIC weights: column\(s\) \['c'\] are entirely missing; drop"):
        critic(Z.assign(c=np.nan))
    with pytest.raises(SpecificationError, match=r"CRITIC weights needs at least 3 rows \(got 2\)\."):
        critic(Z.iloc[:2])
    with pytest.raises(SpecificationError, match=r"CV weights needs at least 2 rows \(got 1\)\."):
        cv(Z.iloc[:1] + 1)
    critic(Z.iloc[:3])  # exactly the minimum
    entropy(Z.iloc[:2])


# --- CRITIC --------------------------------------------------------------------------------------
def test_critic_against_loops():
    res = critic(Z)
    cols = list(Z.columns)
    info = {}
    for c in cols:
        conflict = sum(1 - corr(col(Z, c), col(Z, k)) for k in cols)
        s = sd1(col(Z, c))
        assert res.loc[c, "sigma"] == pytest.approx(s, abs=TOL)
        assert res.loc[c, "conflict"] == pytest.approx(conflict, abs=TOL)
        info[c] = s * conflict
        assert res.loc[c, "information"] == pytest.approx(info[c], abs=TOL)
    for c in cols:
        assert res.loc[c, "weight"] == pytest.approx(info[c] / sum(info.values()), abs=TOL)
    assert list(res.columns) == ["sigma", "conflict", "information", "weight"]
    pd.testing.assert_series_equal(critic_weights(Z), res["weight"])
    assert list(critic(Z.to_numpy()).index) == [0, 1, 2]


def test_critic_constant_column_is_left_out_of_the_correlations():
    z = Z.assign(k=0.5)
    with pytest.warns(ConstantColumnWarning, match=r"CRITIC weights: column\(s\) k are constant"):
        res = critic(z)
    ref = critic(Z)
    assert res.loc["k", "weight"] == 0.0 and res.loc["k", "conflict"] == 0.0
    np.testing.assert_allclose(res.loc[["a", "b", "c"], "weight"], ref["weight"], rtol=0, atol=TOL)
    with pytest.warns(ConstantColumnWarning):
        with pytest.raises(ConstantColumnError, match="no column carries information"):
            critic(pd.DataFrame({"a": [1.0, 2.0, 4.0], "k": [1.0, 1.0, 1.0]}))
    with pytest.warns(ConstantColumnWarning):
        with pytest.raises(ConstantColumnError, match="CRITIC weights: every column is constant"):
            critic(pd.DataFrame({"a": [1.0, 1.0, 1.0], "k": [2.0, 2.0, 2.0]}))


# --- coefficient of variation -----------------------------------------------------------------------
def test_cv_against_loops_and_errors():
    x = Z + 1.0
    res = cv(x)
    v = {c: sd1(col(x, c)) / mean(col(x, c)) for c in x.columns}
    for c in x.columns:
        assert res.loc[c, "mean"] == pytest.approx(mean(col(x, c)), abs=TOL)
        assert res.loc[c, "sd"] == pytest.approx(sd1(col(x, c)), abs=TOL)
        assert res.loc[c, "cv"] == pytest.approx(v[c], abs=TOL)
        assert res.loc[c, "weight"] == pytest.approx(v[c] / sum(v.values()), abs=TOL)
    assert list(res.columns) == ["mean", "sd", "cv", "weight"]
    pd.testing.assert_series_equal(cv_weights(x), res["weight"])
    with pytest.warns(ConstantColumnWarning, match=r"CV weights: column\(s\) k are constant"):
        assert cv(x.assign(k=2.0)).loc["k", "weight"] == 0.0
    with pytest.raises(NegativeValueError, match=r"column\(s\) \['b'\] have negative values or a non-positive mean"):
        cv(x.assign(b=[1.0, -0.5, 2.0, 1.0, 1.0]))  # negative cell, positive mean
    with pytest.raises(NegativeValueError, match=r"\['a'\]"):
        cv(x.assign(a=0.0))  # zero mean
    assert list(cv(x.to_numpy()).index) == [0, 1, 2]


# --- equal, fixed, check ----------------------------------------------------------------------------
def test_equal_and_check_weights():
    e = equal_weights(["a", "b", "c", "d"])
    assert list(e.index) == ["a", "b", "c", "d"] and (e == 0.25).all()
    w = check_weights({"b": 0.25, "a": 0.75}, ["a", "b"])
    assert list(w.index) == ["a", "b"] and w.tolist() == [0.75, 0.25]
    with pytest.raises(SpecificationError, match=r"weights: missing weights for \['c'\]; unknown entries \['d'\]\."):
        check_weights({"a": 0.5, "b": 0.5, "d": 0.0}, ["a", "b", "c"])
    with pytest.raises(SpecificationError, match=r"w contain missing or infinite values"):
        check_weights(pd.Series({"a": np.nan, "b": 1.0}), what="w")
    with pytest.raises(SpecificationError, match=r"w must be non-negative: \{'a': -0\.5\}"):
        check_weights(pd.Series({"a": -0.5, "b": 1.5}), what="w")
    with pytest.raises(SpecificationError, match=r"w sum to 0\.9, not 1\. Divide them by their sum\."):
        check_weights({"a": 0.5, "b": 0.4}, what="w")
    # default tolerance 1e-6: 1 + 5e-7 accepted, 1 + 2e-6 rejected
    check_weights({"a": 0.5, "b": 0.5 + 5e-7})
    with pytest.raises(SpecificationError):
        check_weights({"a": 0.5, "b": 0.5 + 2e-6})
    check_weights({"a": 0.5, "b": 0.51}, tol=0.02)
    check_weights({"a": 0.0, "b": 1.0})  # zero is allowed


def test_fixed_weights():
    sysw = types.SimpleNamespace(name="s", fixed_weights=pd.Series({"b": 0.4, "a": 0.6}), columns=["a", "b"])
    assert fixed_weights(sysw).tolist() == [0.6, 0.4]
    assert fixed_weights(sysw, ["b", "a"]).tolist() == [0.4, 0.6]
    bad = types.SimpleNamespace(name="s", fixed_weights=pd.Series({"a": 0.6, "b": 0.6}), columns=["a", "b"])
    with pytest.raises(SpecificationError, match="fixed weights sum to"):
        fixed_weights(bad)
    none = types.SimpleNamespace(name="mine", fixed_weights=None, columns=["a"])
    with pytest.raises(SpecificationError, match=r"weights='fixed' but indicator system 'mine' gives no 'weight'"):
        fixed_weights(none)


# --- combinations ----------------------------------------------------------------------------------
W1 = pd.Series({"a": 0.5, "b": 0.3, "c": 0.2})
W2 = pd.Series({"a": 0.2, "b": 0.2, "c": 0.6})
W3 = pd.Series({"a": 0.1, "b": 0.7, "c": 0.2})


def test_linear_combination():
    out = combine_weights([W1, W2], "linear")
    np.testing.assert_allclose(out, (W1 + W2) / 2, rtol=0, atol=TOL)
    assert out.attrs["alpha"] == [0.5, 0.5]
    assert list(out.index) == ["a", "b", "c"]
    out = combine_weights({"x": W1, "y": W2}, "linear", alpha=0.3)
    np.testing.assert_allclose(out, 0.3 * W1 + 0.7 * W2, rtol=0, atol=TOL)
    assert out.attrs["alpha"] == pytest.approx([0.3, 0.7], abs=TOL)
    out = combine_weights([W1, W2, W3], "linear", alpha=[0.2, 0.3, 0.5])
    np.testing.assert_allclose(out, 0.2 * W1 + 0.3 * W2 + 0.5 * W3, rtol=0, atol=TOL)
    out = combine_weights([W1, W2, W3], "linear")
    np.testing.assert_allclose(out, (W1 + W2 + W3) / 3, rtol=0, atol=TOL)
    for bad in ([0.5, 0.6], [-0.2, 1.2], [0.5, 0.25, 0.25], 0.3):
        with pytest.raises(SpecificationError, match="non-negative coefficients summing to one"):
            combine_weights([W1, W2] if bad != 0.3 else [W1, W2, W3], "linear", alpha=bad)
    # weights given in another order are aligned by column
    out = combine_weights([W1, W2[["c", "a", "b"]]], "linear")
    np.testing.assert_allclose(out, (W1 + W2) / 2, rtol=0, atol=TOL)


def test_multiplicative_combination():
    out = combine_weights([W1, W2, W3], "multiplicative")
    prod = W1 * W2 * W3
    np.testing.assert_allclose(out, prod / prod.sum(), rtol=0, atol=TOL)
    assert list(out.index) == ["a", "b", "c"]
    z1 = pd.Series({"a": 1.0, "b": 0.0})
    z2 = pd.Series({"a": 0.0, "b": 1.0})
    with pytest.raises(SpecificationError, match="products of the weights are all 0"):
        combine_weights([z1, z2], "multiplicative")


def game_loops(ws):
    """Game theory by the normal equations written out: sum_k a_k (w_j . w_k) = w_j . w_j."""
    m = len(ws)
    S = [[float((ws[j] * ws[k]).sum()) for k in range(m)] for j in range(m)]
    rhs = [S[j][j] for j in range(m)]
    return np.linalg.lstsq(np.array(S), np.array(rhs), rcond=None)[0]


G1 = pd.Series({"a": 0.4, "b": 0.3, "c": 0.2, "d": 0.1})
G2 = pd.Series({"a": 0.1, "b": 0.2, "c": 0.3, "d": 0.4})
G3 = pd.Series({"a": 0.5, "b": 0.2, "c": 0.2, "d": 0.1})


def test_game_theory_combination_abs_and_clip():
    raw = game_loops([G1, G2, G3])  # (-1.84, 0.82, 2.22): condition number of W'W about 100
    assert (raw < 0).any(), "the example needs a negative coefficient to tell abs from clip"
    out = combine_weights([G1, G2, G3], "game")
    a = np.abs(raw) / np.abs(raw).sum()
    # 1e-10: a 3x3 solve with condition number 100
    np.testing.assert_allclose(out.attrs["alpha_raw"], raw, rtol=0, atol=1e-10)
    np.testing.assert_allclose(out.attrs["alpha"], a, rtol=0, atol=1e-10)
    np.testing.assert_allclose(out, a[0] * G1 + a[1] * G2 + a[2] * G3, rtol=0, atol=1e-10)
    assert list(out.index) == ["a", "b", "c", "d"]
    clipped = combine_weights([G1, G2, G3], "game", negative="clip")
    c = np.clip(raw, 0, None) / np.clip(raw, 0, None).sum()
    np.testing.assert_allclose(clipped.attrs["alpha"], c, rtol=0, atol=1e-10)
    np.testing.assert_allclose(clipped, c[0] * G1 + c[1] * G2 + c[2] * G3, rtol=0, atol=1e-10)
    assert combine_weights([W1, W2]).attrs["alpha"] == pytest.approx(
        list(np.abs(game_loops([W1, W2])) / np.abs(game_loops([W1, W2])).sum()), abs=1e-10)
    # identical vectors: W'W is singular only in exact arithmetic (e.g. one-hot weights); otherwise
    # any coefficients give the same combined weights, which must then equal the input
    np.testing.assert_allclose(combine_weights([W1, W1], "game"), W1, rtol=0, atol=1e-10)
    onehot = pd.Series({"a": 1.0, "b": 0.0})
    with pytest.raises(SpecificationError, match=r"linearly dependent \(identical\?\); nothing to combine"):
        combine_weights([onehot, onehot], "game")


def test_combination_option_errors():
    with pytest.raises(SpecificationError, match="combine='sum'"):
        combine_weights([W1, W2], "sum")
    with pytest.raises(SpecificationError, match="negative='drop'"):
        combine_weights([W1, W2], "game", negative="drop")
    with pytest.raises(SpecificationError, match="needs at least two weight vectors"):
        combine_weights([W1], "linear")
    with pytest.raises(SpecificationError, match="weights to combine"):
        combine_weights([W1, pd.Series({"a": 0.5, "b": 0.5})], "linear")
