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

from analysis.errors import ColumnError, ConstantColumnError, MissingValueError, NegativeValueError, SpecificationError
from analysis.indicators import (
    ConstantColumnWarning,
    combine_weights,
    critic,
    critic_weights,
    cv,
    cv_weights,
    entropy,
    entropy_weights,
)
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
    with pytest.raises(NegativeValueError, match=r"need z >= 0; column\(s\) \['a'\] have negative values\. "
                                                 r"Normalize with min-max"):
        entropy(Z.assign(a=[0.1, 0.2, 0.3, -0.1, 0.5]))  # row 3: a row/column mix-up names nothing
    with pytest.warns(ConstantColumnWarning):
        with pytest.raises(ConstantColumnError, match="^entropy weights: every column is constant; no weight can be formed\\.$"):
            entropy(pd.DataFrame({"a": [1.0, 1.0], "b": [0.0, 0.0]}))


def test_entropy_rounding_noise_in_d_is_clamped_to_zero():
    # 1 - e is -2.2e-16 for this nearly constant column: without the clamp its weight is negative
    u = [0.5000000068844673, 0.5000000038892143, 0.500000001350965, 0.5000000072148834, 0.5000000052535433,
         0.5000000031024188]
    res = entropy(pd.DataFrame({"u": u, "v": [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]}))
    assert res.loc["u", "d"] == 0.0 and res.loc["u", "weight"] == 0.0 and res.loc["v", "weight"] == 1.0


def test_nullable_integer_cells_are_missing_cells():
    z = pd.DataFrame({"a": pd.array([1, None, 3], dtype="Int64"), "b": [0.1, 0.5, 0.9]})
    with pytest.raises(MissingValueError, match=r"missing cells in a at row 1\."):
        entropy(z)
    full = pd.DataFrame({"a": pd.array([1, 2, 3], dtype="Int64"), "b": [0.1, 0.5, 0.9]})
    pd.testing.assert_frame_equal(entropy(full), entropy(full.astype(float)))


def test_matrix_helper_accepts_arrays():
    from analysis.indicators.weights import _matrix

    out = _matrix([[1, 2], [3, 4]], "x")
    assert out.dtype == np.float64 and out.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    with pytest.raises(MissingValueError, match=r"^x: column\(s\) \[1\] are entirely missing; drop them from the "
                                                r"indicator system or fill them\.$"):
        _matrix(np.array([[1.0, np.nan], [2.0, np.nan]]), "x")
    with pytest.raises(MissingValueError, match=r"Interpolate first \(analysis\.panel\.interpolate, or "
                                                r"build_index\(\.\.\., missing='interpolate'\)\) or drop those rows "
                                                r"\(missing='drop'\)\.$"):
        _matrix(np.array([[1.0, np.nan], [2.0, 3.0]]), "x")


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


def test_critic_two_columns_and_scale_invariance():
    z = Z[["a", "c"]]
    res = critic(z)
    r = corr(col(z, "a"), col(z, "c"))
    info = {c: sd1(col(z, c)) * (1 - r) for c in ("a", "c")}  # sum_k (1 - r_jk): the k = j term is 0
    for c in ("a", "c"):
        assert res.loc[c, "conflict"] == pytest.approx(1 - r, abs=TOL)
        assert res.loc[c, "weight"] == pytest.approx(info[c] / sum(info.values()), abs=TOL)
    # weights do not depend on the units: sigma scales, correlations do not (information sum < 1 here)
    small = critic(Z * 0.01)
    assert small["information"].sum() < 1
    np.testing.assert_allclose(small["weight"], critic(Z)["weight"], rtol=0, atol=TOL)


def test_critic_constant_column_is_left_out_of_the_correlations():
    z = Z.assign(k=0.5)
    with pytest.warns(ConstantColumnWarning, match=r"CRITIC weights: column\(s\) k are constant"):
        res = critic(z)
    ref = critic(Z)
    assert res.loc["k", "weight"] == 0.0 and res.loc["k", "conflict"] == 0.0
    np.testing.assert_allclose(res.loc[["a", "b", "c"], "weight"], ref["weight"], rtol=0, atol=TOL)
    with pytest.warns(ConstantColumnWarning):
        with pytest.raises(ConstantColumnError, match=r"^CRITIC weights: no column carries information \(one varying column\?\)\.$"):
            critic(pd.DataFrame({"a": [1.0, 2.0, 4.0], "k": [1.0, 1.0, 1.0]}))
    with pytest.warns(ConstantColumnWarning):
        with pytest.raises(ConstantColumnError, match=r"^CRITIC weights: every column is constant\.$"):
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
    with pytest.raises(NegativeValueError, match=r"column\(s\) \['a'\] have negative values or a non-positive mean\. "
                                                 r"Use entropy or CRITIC weights on normalized data\.$"):
        cv(x.assign(a=[1.0, 2.0, 2.0, -0.5, 1.0]))  # negative cell (row 3), positive mean
    zero_cell = cv(x.assign(a=[1.0, 2.0, 2.0, 0.0, 1.0]))  # a zero cell is a valid ratio-scale value
    assert zero_cell.loc["a", "weight"] > 0
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
    with pytest.raises(SpecificationError, match=r"w must be non-negative: \{'a': -0\.5\}\.$"):
        check_weights(pd.Series({"a": -0.5, "b": 0.0, "c": 0.9, "d": 0.6}), what="w")
    with pytest.raises(SpecificationError, match=r"^weights: missing weights for \['c'\]; unknown entries \[\]\.$"):
        check_weights({"a": 0.5, "b": 0.5}, ["a", "b", "c"])
    with pytest.raises(SpecificationError, match=r"unknown entries \['c'\]\.$"):
        check_weights({"a": 0.5, "b": 0.5, "c": 0.0}, ["a", "b"])
    assert check_weights({"a": 1, "b": 0}).dtype == np.float64  # integers become float weights
    check_weights({"a": 1.0, "b": 0.5}, tol=0.5)  # |sum - 1| = tol exactly is accepted
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
    with pytest.raises(SpecificationError, match=r"^weights='fixed' but indicator system 'mine' gives no 'weight' for its "
                                                 r"indicators\. Add weight: to every indicator in the YAML \(summing to 1\) "
                                                 r"or use entropy\.$"):
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
    out = combine_weights([W1, W2], "linear", alpha=[1.0, 0.0])  # a zero coefficient is allowed
    np.testing.assert_allclose(out, W1, rtol=0, atol=0)
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
    with pytest.raises(SpecificationError, match="^multiplicative combination: the products of the weights are all 0\\.$"):
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
    with pytest.raises(SpecificationError, match="^combine_weights needs at least two weight vectors\\.$"):
        combine_weights([W1], "linear")
    with pytest.raises(SpecificationError, match=r"^weights to combine: missing weights for \['c'\]"):
        combine_weights([W1, pd.Series({"a": 0.5, "b": 0.5})], "linear")


# --- normalize ---------------------------------------------------------------------------------------
from analysis.indicators import PerYearScopeWarning, normalize  # noqa: E402
from analysis.indicators.normalize import NormalizationBounds  # noqa: E402

RAW = pd.DataFrame({"year": [2019, 2019, 2019, 2020, 2020, 2020],
                    "p": [3.0, 5.0, 9.0, 4.0, np.nan, 11.0],
                    "n": [10.0, 6.0, 8.0, 2.0, 7.0, 4.0],
                    "m": [45.0, 52.0, 60.0, 48.0, 30.0, 50.0]}, index=[10, 11, 12, 13, 14, 15])
DIRS = {"p": "+", "n": "-", "m": "moderate"}
TARGET = {"m": 50.0}


def minmax_loops(rows, dirs, targets):
    """z by the mathmodels formulas, one cell at a time, bounds over the rows given (NaN skipped)."""
    out = {}
    for c, d in dirs.items():
        v = [x for x in rows[c] if not np.isnan(x)]
        if d == "moderate":
            far = max(abs(x - targets[c]) for x in v)
            out[c] = [np.nan if np.isnan(x) else 1 - abs(x - targets[c]) / far for x in rows[c]]
        else:
            lo, hi = min(v), max(v)
            out[c] = [np.nan if np.isnan(x) else ((x - lo) if d == "+" else (hi - x)) / (hi - lo)
                      for x in rows[c]]
    return pd.DataFrame(out, index=rows.index)


def test_normalize_pooled_against_loops():
    z, b = normalize(RAW, DIRS, TARGET, return_bounds=True)
    exp = minmax_loops(RAW, DIRS, TARGET)
    assert list(z.columns) == ["p", "n", "m"] and list(z.index) == list(RAW.index)
    np.testing.assert_allclose(z.to_numpy(), exp.to_numpy(), rtol=0, atol=TOL)
    assert np.isnan(z.loc[14, "p"])  # missing stays missing
    assert isinstance(b, NormalizationBounds)
    assert b.lower.to_dict() == {"p": 3.0, "n": 2.0, "m": 0.0}
    assert b.upper.to_dict() == {"p": 11.0, "n": 10.0, "m": 20.0}
    assert b.directions == DIRS and b.targets == TARGET
    assert (b.scope, b.shift, b.rescale) == ("pooled", 0.0, None)
    assert isinstance(b.shift, float)
    # the same bounds on other data: values outside give z outside [0, 1]
    new = pd.DataFrame({"p": [1.0, 13.0], "n": [12.0, 2.0], "m": [50.0, 80.0]})
    z2 = normalize(new, DIRS, TARGET, bounds=b)
    np.testing.assert_allclose(z2.to_numpy(), [[-0.25, -0.25, 1.0], [1.25, 1.0, -0.5]], rtol=0, atol=TOL)


def test_normalize_per_year_against_loops():
    with pytest.warns(PerYearScopeWarning, match="NOT comparable across years"):
        z, b = normalize(RAW, DIRS, TARGET, scope="year", return_bounds=True)
    for year in (2019, 2020):
        rows = RAW[RAW["year"] == year]
        np.testing.assert_allclose(z.loc[rows.index].to_numpy(), minmax_loops(rows, DIRS, TARGET).to_numpy(),
                                   rtol=0, atol=TOL)
    assert list(b.lower.index) == [2019, 2020] and list(b.lower.columns) == ["p", "n", "m"]
    assert b.upper.loc[2020, "p"] == 11.0 and b.lower.loc[2020, "p"] == 4.0
    assert b.scope == "year"
    # the per-year bounds applied again reproduce z; a year without bounds is an error
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pd.testing.assert_frame_equal(normalize(RAW, DIRS, TARGET, bounds=b), z)
    with pytest.raises(SpecificationError, match=r"no per-year bounds for \[.*2021.*\]"):
        normalize(RAW.assign(year=2021), DIRS, TARGET, bounds=b)
    with pytest.raises(ColumnError, match="per-year bounds need the time column 'year'"):
        normalize(RAW.drop(columns="year"), DIRS, TARGET, bounds=b)
    with pytest.raises(ColumnError, match="scope='year' needs the time column 'yr'"):
        normalize(RAW, DIRS, TARGET, scope="year", time="yr")
    # one year only: no warning; a renamed time column is used
    one = RAW[RAW["year"] == 2019].rename(columns={"year": "t"})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        z1 = normalize(one, DIRS, TARGET, scope="year", time="t")
    np.testing.assert_allclose(z1.to_numpy(), minmax_loops(one, DIRS, TARGET).to_numpy(), rtol=0, atol=TOL)


def test_normalize_shift_and_rescale():
    base = normalize(RAW, DIRS, TARGET)
    z, b = normalize(RAW, DIRS, TARGET, shift=0.01, return_bounds=True)
    np.testing.assert_allclose(z.to_numpy(), base.to_numpy() + 0.01, rtol=0, atol=TOL)
    assert b.shift == 0.01
    z, b = normalize(RAW, DIRS, TARGET, rescale=0.1, return_bounds=True)
    np.testing.assert_allclose(z.to_numpy(), 0.1 + 0.8 * base.to_numpy(), rtol=0, atol=TOL)
    assert b.rescale == 0.1
    # bounds carry shift and rescale into a later call
    np.testing.assert_allclose(normalize(RAW, DIRS, TARGET, bounds=b).to_numpy(), z.to_numpy(), rtol=0, atol=TOL)
    z0 = normalize(RAW, DIRS, TARGET, rescale=0.0)
    np.testing.assert_allclose(z0.to_numpy(), base.to_numpy(), rtol=0, atol=TOL)


def test_normalize_constant_columns():
    d = RAW.assign(k=7.0)
    dirs = dict(DIRS, k="+")
    with pytest.warns(ConstantColumnWarning, match=r"indicator\(s\) k are constant \(max = min\): set to z = 0"):
        z = normalize(d, dirs, TARGET)
    assert (z["k"] == 0.0).all()
    with pytest.warns(ConstantColumnWarning):
        z = normalize(d.assign(k=[7.0, np.nan, 7.0, 7.0, 7.0, 7.0]), dirs, TARGET, shift=0.5)
    assert np.isnan(z["k"].iloc[1]) and (z["k"].drop(index=11) == 0.5).all()
    # constant in one year only (per-year scope) is named as such
    d2 = RAW.assign(k=[1.0, 1.0, 1.0, 1.0, 2.0, 3.0])
    with pytest.warns(ConstantColumnWarning, match=r"k are constant in some year"):
        with pytest.warns(PerYearScopeWarning):
            z = normalize(d2, dict(DIRS, k="-"), TARGET, scope="year")
    assert z["k"].tolist() == [0.0, 0.0, 0.0, 1.0, 0.5, 0.0]
    # the warning is not repeated when bounds are reused
    _, b = normalize(RAW, DIRS, TARGET, return_bounds=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        normalize(RAW.assign(p=5.0), DIRS, TARGET, bounds=b)


def test_normalize_option_errors():
    with pytest.raises(SpecificationError, match="scope='all'"):
        normalize(RAW, DIRS, TARGET, scope="all")
    with pytest.raises(SpecificationError, match=r"direction of 'p'='up'"):
        normalize(RAW, {"p": "up"})
    with pytest.raises(SpecificationError, match=r"moderate indicator 'm' needs a target value"):
        normalize(RAW, DIRS)
    with pytest.raises(SpecificationError, match="use either shift= or rescale=, not both"):
        normalize(RAW, DIRS, TARGET, shift=0.1, rescale=0.1)
    with pytest.raises(SpecificationError, match=r"rescale=0\.5 must be in \[0, 0\.5\)"):
        normalize(RAW, DIRS, TARGET, rescale=0.5)
    with pytest.raises(SpecificationError, match=r"rescale=-0\.1 must be in"):
        normalize(RAW, DIRS, TARGET, rescale=-0.1)
    with pytest.raises(SpecificationError, match=r"shift=-0\.1 must be non-negative"):
        normalize(RAW, DIRS, TARGET, shift=-0.1)
    with pytest.raises(ColumnError, match=r"columns \['q'\] are not in the data"):
        normalize(RAW, {"p": "+", "q": "+"})
    with pytest.raises(ValueError):
        normalize(RAW.assign(p="x"), {"p": "+"})
    with pytest.raises(MissingValueError, match=r"indicator column\(s\) p are entirely missing: nothing to normalize"):
        normalize(RAW.assign(p=np.nan), DIRS, TARGET)
    _, b = normalize(RAW, DIRS, TARGET, return_bounds=True)
    with pytest.raises(SpecificationError, match=r"bounds were computed for other columns"):
        normalize(RAW, {"p": "+", "n": "-"}, bounds=b)


# --- TOPSIS ----------------------------------------------------------------------------------------
from analysis.indicators import topsis, topsis_vector  # noqa: E402

WT = pd.Series({"a": 0.5, "b": 0.3, "c": 0.2})


def topsis_loops(v_rows, vplus, vminus):
    out = []
    for row in v_rows:
        dp = math.sqrt(sum((x - p) ** 2 for x, p in zip(row, vplus)))
        dm = math.sqrt(sum((x - m) ** 2 for x, m in zip(row, vminus)))
        out.append((dp, dm, dm / (dp + dm) if dp + dm > 0 else np.nan))
    return out


def test_topsis_minmax_against_loops():
    v_rows = [[Z.loc[i, c] * WT[c] for c in Z.columns] for i in Z.index]
    vplus = [max(r[j] for r in v_rows) for j in range(3)]
    vminus = [min(r[j] for r in v_rows) for j in range(3)]
    res, (vp, vm) = topsis(Z, WT, return_ideal=True)
    np.testing.assert_allclose(vp, vplus, rtol=0, atol=TOL)
    np.testing.assert_allclose(vm, vminus, rtol=0, atol=TOL)
    assert list(res.columns) == ["d_plus", "d_minus", "closeness"] and list(res.index) == list(Z.index)
    np.testing.assert_allclose(res.to_numpy(), topsis_loops(v_rows, vplus, vminus), rtol=0, atol=TOL)
    # a fixed ideal given by the caller is used as is
    fixed = ([0.5, 0.3, 0.2], [0.0, 0.0, 0.0])
    res2 = topsis(Z, WT, ideal=fixed)
    np.testing.assert_allclose(res2.to_numpy(), topsis_loops(v_rows, *fixed), rtol=0, atol=TOL)
    assert isinstance(topsis(Z, WT), pd.DataFrame)
    # weights in another order are aligned by column
    pd.testing.assert_frame_equal(topsis(Z, WT[["c", "a", "b"]]), topsis(Z, WT))
    with pytest.raises(SpecificationError, match="TOPSIS weights"):
        topsis(Z, pd.Series({"a": 0.5, "b": 0.5}))
    with pytest.raises(MissingValueError, match="TOPSIS needs complete columns"):
        topsis(Z.assign(a=[np.nan, 0.1, 0.2, 0.3, 0.4]), WT)
    one = topsis(Z.iloc[[0]], WT, ideal=fixed)  # one row is enough with a given ideal
    assert one["closeness"].iloc[0] == pytest.approx(topsis_loops([v_rows[0]], *fixed)[0][2], abs=TOL)


def test_topsis_identical_rows_are_nan_with_a_warning():
    z = pd.DataFrame({"a": [0.3, 0.3, 0.3], "b": [0.6, 0.6, 0.6]})
    with pytest.warns(RuntimeWarning, match=r"TOPSIS: 3 row\(s\) have D\+ = D- = 0 \(all rows identical\); "
                                            r"their closeness is NaN\."):
        res = topsis(z, pd.Series({"a": 0.5, "b": 0.5}))
    assert res["closeness"].isna().all() and (res["d_plus"] == 0).all()
    # one row equal to both ideals among others: only that row is NaN
    ideal = ([0.15, 0.3], [0.15, 0.3])
    with pytest.warns(RuntimeWarning, match=r"1 row\(s\)"):
        res = topsis(pd.DataFrame({"a": [0.3, 0.9], "b": [0.6, 0.1]}), pd.Series({"a": 0.5, "b": 0.5}), ideal=ideal)
    assert np.isnan(res["closeness"].iloc[0]) and res["closeness"].iloc[1] == pytest.approx(0.5, abs=TOL)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        topsis(Z, WT)


def test_topsis_vector_against_loops():
    x = Z + 1.0
    dirs = {"a": "+", "b": "-", "c": "+"}
    norms = {c: math.sqrt(sum(v * v for v in col(x, c))) for c in x.columns}
    v_rows = [[x.loc[i, c] / norms[c] * WT[c] for c in x.columns] for i in x.index]
    cols = list(x.columns)
    vplus = [(max if dirs[c] == "+" else min)(r[j] for r in v_rows) for j, c in enumerate(cols)]
    vminus = [(min if dirs[c] == "+" else max)(r[j] for r in v_rows) for j, c in enumerate(cols)]
    res = topsis_vector(x, WT, dirs)
    assert list(res.index) == list(x.index)
    np.testing.assert_allclose(res.to_numpy(), topsis_loops(v_rows, vplus, vminus), rtol=0, atol=TOL)
    with pytest.raises(SpecificationError, match=r"needs direction '\+' or '-' for 'b' \(got 'moderate'\); "
                                                 r"use variant='minmax'"):
        topsis_vector(x, WT, {"a": "+", "b": "moderate", "c": "+"})
    with pytest.raises(SpecificationError, match=r"for 'c' \(got None\)"):
        topsis_vector(x, WT, {"a": "+", "b": "-"})
    with pytest.raises(SpecificationError, match=r"vector-normalized TOPSIS: column\(s\) \['b'\] are all zero\."):
        topsis_vector(x.assign(b=0.0), WT, dirs)
    with pytest.raises(SpecificationError, match="TOPSIS weights"):
        topsis_vector(x, pd.Series({"a": 1.0}), dirs)
    with pytest.raises(MissingValueError, match=r"TOPSIS \(vector\) needs complete columns"):
        topsis_vector(x.assign(a=[np.nan, 1, 2, 3, 4]), WT, dirs)


def test_normalize_two_moderate_columns_use_their_own_distance():
    d = pd.DataFrame({"m1": [45.0, 52.0, 60.0], "m2": [0.9, 1.0, 1.4]})
    z, b = normalize(d, {"m1": "moderate", "m2": "moderate"}, {"m1": 50.0, "m2": 1.0}, return_bounds=True)
    assert b.upper.to_dict() == pytest.approx({"m1": 10.0, "m2": 0.4}, abs=TOL)
    np.testing.assert_allclose(z["m1"], [0.5, 0.8, 0.0], rtol=0, atol=TOL)
    np.testing.assert_allclose(z["m2"], [0.75, 1.0, 0.0], rtol=0, atol=TOL)


def test_normalize_messages_in_full():
    with pytest.raises(SpecificationError, match=r"^use either shift= or rescale=, not both \(shifting and then "
                                                 r"re-normalizing is a common mistake\)\.$"):
        normalize(RAW, DIRS, TARGET, shift=0.1, rescale=0.1)
    with pytest.raises(MissingValueError, match=r"^indicator column\(s\) p, n are entirely missing: nothing to "
                                                r"normalize\. Fill them from another source or drop them from the "
                                                r"indicator system\.$"):
        normalize(RAW.assign(p=np.nan, n=np.nan), DIRS, TARGET)
    with pytest.warns(PerYearScopeWarning, match=r"^scope='year' recomputes min and max every year: the best county "
                                                 r"in each year gets z = 1, so scores are NOT comparable across years "
                                                 r"\(the time trend is destroyed\)\. Use scope='pooled' for panel "
                                                 r"trends\.$"):
        normalize(RAW, DIRS, TARGET, scope="year")
    _, b = normalize(RAW, DIRS, TARGET, return_bounds=True)
    with pytest.raises(SpecificationError, match=r"^bounds were computed for other columns: \['p', 'n', 'm'\] vs "
                                                 r"\['p', 'n'\]\.$"):
        normalize(RAW, {"p": "+", "n": "-"}, bounds=b)
    with pytest.warns(ConstantColumnWarning, match=r"^indicator\(s\) k, k2 are constant \(max = min\): set to z = 0 "
                                                   r"and they get weight 0\. Drop them from the indicator system if "
                                                   r"that is not intended\.$"):
        normalize(RAW.assign(k=1.0, k2=2.0), dict(DIRS, k="+", k2="-"), TARGET)


# --- build_index (index.py) ---------------------------------------------------------------------------
from analysis.errors import DuplicateKeyError  # noqa: E402
from analysis.indicators import build_index  # noqa: E402

IND = {"label": "L", "label_zh": "标签", "unit": "u"}
SYS2 = {"name": "t", "subsystems": [
    {"key": "s1", "label": "S one", "label_zh": "一", "indicators": [
        dict(IND, column="a", direction="+", label="A", label_zh="甲"),
        dict(IND, column="b", direction="-", label="B", label_zh="乙")]},
    {"key": "s2", "label": "S two", "label_zh": "二", "indicators": [
        dict(IND, column="c", direction="+", label="C", label_zh="丙"),
        dict(IND, column="d", direction="+", label="D", label_zh="丁")]}]}
DIRS4 = {"a": "+", "b": "-", "c": "+", "d": "+"}


def panel4(seed=0, n=6, years=(2018, 2019, 2020)):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        for t in years:
            rows.append({"county": f"c{i}", "year": t, "a": rng.uniform(1, 10) + t - 2018, "b": rng.uniform(0, 5),
                         "c": rng.uniform(10, 20), "d": rng.uniform(0, 1)})
    return pd.DataFrame(rows)


def test_build_index_weighted_sum_by_hand():
    d = panel4()
    r = build_index(d, SYS2)
    z = minmax_loops(d, DIRS4, {})
    _, _, w = entropy_loops(z)
    w = pd.Series(w)
    np.testing.assert_allclose(r.z.to_numpy(), z.to_numpy(), rtol=0, atol=TOL)
    np.testing.assert_allclose(r.weight[list("abcd")], w[list("abcd")], rtol=0, atol=TOL)
    W1, W2 = w["a"] + w["b"], w["c"] + w["d"]
    np.testing.assert_allclose(r.U["s1"], (z["a"] * w["a"] + z["b"] * w["b"]) / W1, rtol=0, atol=TOL)
    np.testing.assert_allclose(r.U["s2"], (z["c"] * w["c"] + z["d"] * w["d"]) / W2, rtol=0, atol=TOL)
    np.testing.assert_allclose(r.score, z.to_numpy() @ w[list("abcd")].to_numpy(), rtol=0, atol=TOL)
    assert r.score.name == "integration_index"
    t = r.weights.set_index("column")
    np.testing.assert_allclose(t["subsystem_weight"], [W1, W1, W2, W2], rtol=0, atol=TOL)
    np.testing.assert_allclose(t["weight_within"], [w["a"] / W1, w["b"] / W1, w["c"] / W2, w["d"] / W2], rtol=0, atol=TOL)
    e, dd, _ = entropy_loops(z)
    np.testing.assert_allclose(t["entropy_e"], [e[c] for c in "abcd"], rtol=0, atol=TOL)
    np.testing.assert_allclose(t["entropy_d"], [dd[c] for c in "abcd"], rtol=0, atol=TOL)
    assert "fixed_weight" not in t.columns
    np.testing.assert_allclose(r.subsystem_weights.to_numpy(), [W1, W2], rtol=0, atol=TOL)
    assert r.settings == {"system": "t", "weights": "entropy", "combine": None, "combine_alpha": None,
                          "scope": "pooled", "method": "weighted_sum", "topsis_variant": None, "shift": 0.0,
                          "rescale": None, "missing": "raise", "missing_report": {}, "entity": "county",
                          "time": "year", "n_rows": 18, "entropy_k": pytest.approx(1 / math.log(18), abs=TOL)}
    f = r.to_frame()
    assert list(f.columns) == ["county", "year", "s1", "s2", "score"]
    assert f["county"].tolist() == d["county"].tolist()
    np.testing.assert_allclose(f["score"], r.score, rtol=0, atol=0)
    assert (r.rows.n_input, r.rows.n_used) == (18, 18)


def test_build_index_topsis_by_hand():
    d = panel4(seed=1)
    r = build_index(d, SYS2, method="topsis", weights="equal")
    z = minmax_loops(d, DIRS4, {})
    for key, cols in (("s1", ["a", "b"]), ("s2", ["c", "d"])):
        v = [[z.loc[i, c] * 0.5 for c in cols] for i in z.index]  # weights within: 1/2 each
        vp = [max(row[j] for row in v) for j in range(2)]
        vm = [min(row[j] for row in v) for j in range(2)]
        np.testing.assert_allclose(r.U[key], [x[2] for x in topsis_loops(v, vp, vm)], rtol=0, atol=TOL)
        np.testing.assert_allclose(r.ideal[key][0], vp, rtol=0, atol=TOL)
    v = [[z.loc[i, c] * 0.25 for c in "abcd"] for i in z.index]
    vp = [max(row[j] for row in v) for j in range(4)]
    vm = [min(row[j] for row in v) for j in range(4)]
    np.testing.assert_allclose(r.score, [x[2] for x in topsis_loops(v, vp, vm)], rtol=0, atol=TOL)
    np.testing.assert_allclose(r.ideal["composite"][1], vm, rtol=0, atol=TOL)
    assert r.settings["topsis_variant"] == "minmax" and r.settings["method"] == "topsis"
    rv = build_index(d, SYS2, method="topsis", weights="equal", topsis_variant="vector")
    ref = topsis_vector(d[list("abcd")], pd.Series(0.25, index=list("abcd")), DIRS4)["closeness"]
    np.testing.assert_allclose(rv.score, ref, rtol=0, atol=TOL)
    ref1 = topsis_vector(d[["a", "b"]], pd.Series(0.5, index=["a", "b"]), DIRS4)["closeness"]
    np.testing.assert_allclose(rv.U["s1"], ref1, rtol=0, atol=TOL)
    assert rv.settings["topsis_variant"] == "vector" and rv.ideal == {}
    with pytest.raises(SpecificationError, match=r"^transform\(\) needs scope='pooled' and min-max normalization\.$"):
        rv.transform(d)


def test_build_index_per_year_weights():
    d = panel4(seed=2)
    with pytest.warns(PerYearScopeWarning):
        r = build_index(d, SYS2, scope="year")
    per = {}
    for y in (2018, 2019, 2020):
        rows = d[d["year"] == y]
        z = minmax_loops(rows, DIRS4, {})
        per[y] = pd.Series(entropy_loops(z)[2])[list("abcd")]
        np.testing.assert_allclose(r.score[rows.index], z.to_numpy() @ per[y].to_numpy(), rtol=0, atol=TOL)
    mean_w = (per[2018] + per[2019] + per[2020]) / 3
    np.testing.assert_allclose(r.weight[list("abcd")], mean_w, rtol=0, atol=TOL)
    t = r.weights.set_index("column")
    np.testing.assert_allclose(t["weight_2019"], per[2019], rtol=0, atol=TOL)
    assert list(r.weight_matrix.columns) == list("abcd") and r.weight_matrix.index.equals(d.index)
    np.testing.assert_allclose(r.weight_matrix.loc[d.index[d["year"] == 2020][0]], per[2020], rtol=0, atol=TOL)
    assert r.settings["entropy_k"] == "1/ln(n) within each year" and r.settings["scope"] == "year"


def test_build_index_weight_specs_and_views():
    d = panel4(seed=3)
    r = build_index(d, SYS2, weights=["entropy", "critic"], combine="linear", alpha=0.4)
    e = build_index(d, SYS2).weight
    c = build_index(d, SYS2, weights="critic").weight
    np.testing.assert_allclose(r.weight, 0.4 * e + 0.6 * c, rtol=0, atol=TOL)
    t = r.weights.set_index("column")
    np.testing.assert_allclose(t["weight_entropy"], e, rtol=0, atol=TOL)
    np.testing.assert_allclose(t["weight_critic"], c, rtol=0, atol=TOL)
    assert r.settings["weights"] == ["entropy", "critic"] and r.settings["combine"] == "linear"
    assert r.settings["combine_alpha"] == pytest.approx([0.4, 0.6], abs=TOL)
    ex = build_index(d, SYS2, weights={"a": 0.1, "b": 0.2, "c": 0.3, "d": 0.4})
    assert ex.settings["weights"] == "explicit" and ex.settings["combine"] is None
    np.testing.assert_allclose(ex.weight, [0.1, 0.2, 0.3, 0.4], rtol=0, atol=0)
    cvr = build_index(d, SYS2, weights="cv").weights.set_index("column")
    x = d[list("abcd")]
    np.testing.assert_allclose(cvr["cv_raw"], [sd1(col(x, k)) / mean(col(x, k)) for k in "abcd"], rtol=0, atol=TOL)
    cr = build_index(d, SYS2, weights="critic").weights.set_index("column")
    np.testing.assert_allclose(cr["critic_sigma"], [sd1(col(minmax_loops(d, DIRS4, {}), k)) for k in "abcd"],
                               rtol=0, atol=TOL)
    # weights table for a paper, both languages
    en = r.weights_table("en")
    assert list(en.columns) == ["subsystem", "indicator", "unit", "direction", "weight", "weight within subsystem",
                                "subsystem weight"]
    assert en["subsystem"].tolist() == ["S one", "S one", "S two", "S two"]
    assert en["indicator"].tolist() == ["A", "B", "C", "D"] and en["direction"].tolist() == list("+-++")
    zh = r.weights_table()
    assert list(zh.columns) == ["子系统", "指标", "单位", "方向", "权重", "子系统内权重", "子系统权重"]
    assert zh["子系统"].tolist() == ["一", "一", "二", "二"] and zh["指标"].tolist() == ["甲", "乙", "丙", "丁"]
    np.testing.assert_allclose(zh["权重"], r.weight, rtol=0, atol=0)
    np.testing.assert_allclose(zh["子系统内权重"], t["weight_within"], rtol=0, atol=0)
    np.testing.assert_allclose(zh["子系统权重"], t["subsystem_weight"], rtol=0, atol=0)
    with pytest.raises(SpecificationError, match="lang='fr'"):
        r.weights_table("fr")
    s = r.summary()
    assert s.startswith("Integration index (weighted_sum, weights=['entropy', 'critic'], scope=pooled) on "
                        "indicator system 't'")
    assert "reference: " in s and "rows used: 18 of 18" in s and "weight_within" in s and "count" in s
    # shift and rescale are undone by unshifted_z
    zs = build_index(d, SYS2, shift=0.01)
    np.testing.assert_allclose(zs.unshifted_z(), build_index(d, SYS2).z, rtol=0, atol=TOL)
    assert zs.settings["shift"] == 0.01
    zr = build_index(d, SYS2, rescale=0.1)
    np.testing.assert_allclose(zr.z, 0.1 + 0.8 * build_index(d, SYS2).z, rtol=0, atol=TOL)
    np.testing.assert_allclose(zr.unshifted_z(), build_index(d, SYS2).z, rtol=0, atol=TOL)


def test_build_index_zero_weight_subsystem_and_errors():
    d = panel4(seed=4)
    with pytest.warns(RuntimeWarning, match=r"^subsystem 's2': all its indicators have weight 0 \(constant\?\); "
                                            r"its score U is NaN\.$"):
        r = build_index(d, SYS2, weights={"a": 0.5, "b": 0.5, "c": 0.0, "d": 0.0})
    assert r.U["s2"].isna().all() and r.U["s1"].notna().all()
    assert r.weights.set_index("column")["weight_within"].iloc[2:].isna().all()
    with pytest.raises(SpecificationError, match=r"^build_index needs a pandas DataFrame"):
        build_index(d.to_numpy(), SYS2)
    with pytest.raises(ColumnError, match=r"^key column 'region' is not in the data; pass entity=/time="):
        build_index(d, SYS2, entity="region")
    with pytest.raises(SpecificationError, match=r"^scope='year' needs a time column\.$"):
        build_index(d, SYS2, scope="year", time=None)
    with pytest.raises(SpecificationError, match=r"^shift/rescale apply to min-max normalization, not to vector TOPSIS\.$"):
        build_index(d, SYS2, method="topsis", topsis_variant="vector", shift=0.1)
    with pytest.raises(SpecificationError, match=r"^shift/rescale"):
        build_index(d, SYS2, method="topsis", topsis_variant="vector", rescale=0.0)
    build_index(d, SYS2, method="topsis", shift=0.1)  # min-max TOPSIS accepts a shift
    with pytest.raises(SpecificationError, match=r"^only 1 usable rows: an index needs at least two\.$"):
        build_index(d.iloc[:1], SYS2)
    with pytest.raises(DuplicateKeyError, match=r"^2 rows share a county/year key, e\.g\. row c0/2018\. Keep one row"):
        build_index(pd.concat([d, d.iloc[[0]]], ignore_index=True), SYS2)
    # a cross-section without keys: duplicates are allowed, rows named by index
    cs = build_index(d, SYS2, entity=None, time=None)
    assert cs.keys.shape == (18, 0) and cs.settings["entity"] is None
    bad = d.copy()
    bad.loc[[2, 5], "c"] = np.nan
    bad.loc[5, "a"] = np.nan
    with pytest.raises(MissingValueError, match=r"^2 of 18 rows have missing indicator cells: a \(1\), c \(2\); "
                                                r"rows c0/2020, c1/2020 \(county/year\)\. The entropy method"):
        build_index(bad, SYS2)
    with pytest.raises(MissingValueError, match=r"cells: a \(1\), c \(2\); rows 2, 5 \(None/None\)"):
        build_index(bad, SYS2, entity=None, time=None)
    with pytest.raises(SpecificationError, match=r"^missing='interpolate' needs entity and time columns\.$"):
        build_index(bad, SYS2, entity=None, time=None, missing="interpolate")
    dr = build_index(bad, SYS2, missing="drop")
    assert dr.rows.dropped == {"missing indicator cell (listwise)": 2}
    assert dr.settings["missing_report"] == {"cells_missing": {"a": 1, "c": 2}}
    with pytest.raises(MissingValueError, match=r"^indicator column\(s\) \['d'\] are entirely missing"):
        build_index(d.assign(d=np.nan), SYS2)
    for opt, val in (("scope", "all"), ("method", "ahp"), ("missing", "fill"), ("combine", "sum"),
                     ("topsis_variant", "x")):
        with pytest.raises(SpecificationError, match=f"{opt}='{val}'"):
            build_index(d, SYS2, **{opt: val})


def test_topsis_messages_and_one_row_vector():
    with pytest.raises(SpecificationError, match=r"^TOPSIS weights: missing weights for \['c'\]"):
        topsis(Z, pd.Series({"a": 0.5, "b": 0.5}))
    with pytest.raises(SpecificationError, match=r"^TOPSIS weights: missing weights for \['c'\]"):
        topsis_vector(Z + 1, pd.Series({"a": 0.5, "b": 0.5}), {"a": "+", "b": "+", "c": "+"})
    # one row is accepted; it is its own ideal and anti-ideal, so its closeness is NaN (with the warning)
    with pytest.warns(RuntimeWarning, match=r"1 row\(s\) have D\+ = D- = 0"):
        one = topsis_vector((Z + 1).iloc[[0]], WT, {"a": "+", "b": "-", "c": "+"})
    assert one["closeness"].isna().all() and len(one) == 1


SYS3 = {"name": "t3", "subsystems": [
    {"key": "s1", "label": "S one", "label_zh": "一", "indicators": [
        dict(IND, column="a", direction="+"), dict(IND, column="b", direction="-")]},
    {"key": "s2", "label": "S two", "label_zh": "二", "indicators": [
        dict(IND, column="c", direction="moderate", target=15.0), dict(IND, column="d", direction="+")]}]}


def test_transform_uses_the_stored_bounds_and_weights():
    d = panel4(seed=5)
    d.index = d.index + 100  # not a RangeIndex
    for method in ("weighted_sum", "topsis"):
        r = build_index(d, SYS3, method=method)
        part = d.iloc[:5]  # a subset has other min/max: only the stored bounds reproduce the scores
        out = r.transform(part)
        np.testing.assert_allclose(out.to_numpy(), r.score.loc[part.index].to_numpy(), rtol=0, atol=1e-12)
        assert out.index.equals(part.index) and out.name == "integration_index"
    r = build_index(d.rename(columns={"year": "t"}), SYS3, time="t")
    part = d.rename(columns={"year": "t"}).iloc[3:9]
    np.testing.assert_allclose(r.transform(part).to_numpy(), r.score.loc[part.index].to_numpy(), rtol=0, atol=1e-12)


def test_coupling_view_passes_labels_and_options():
    from analysis.coupling import coupling_coordination

    r = build_index(panel4(seed=6), SYS2)
    got = r.coupling()
    assert got.labels == {"s1": ("S one", "一"), "s2": ("S two", "二")}
    ref = coupling_coordination(r.U, model="wang", labels=r.subsystem_labels)
    pd.testing.assert_frame_equal(got.frame, ref.frame)
    w = r.coupling(weights={"s1": 0.7, "s2": 0.3})
    ref_w = coupling_coordination(r.U, model="wang", weights={"s1": 0.7, "s2": 0.3})
    pd.testing.assert_frame_equal(w.frame, ref_w.frame)
    assert not w.frame.equals(got.frame)


def test_missing_error_message_in_full_and_with_one_key():
    d = panel4(seed=7)
    d.loc[4, "b"] = np.nan
    with pytest.raises(MissingValueError, match=r"^1 of 18 rows have missing indicator cells: b \(1\); row c1/2019 "
                                                r"\(county/year\)\. The entropy method needs complete data\. Fix: "
                                                r"interpolate within county first \(analysis\.panel\.interpolate\), or "
                                                r"pass missing='interpolate' \(linear in time within each county, ends "
                                                r"carried from the nearest observed year; counts reported\) or "
                                                r"missing='drop' \(listwise deletion; counts reported\)\.$"):
        build_index(d, SYS2)
    cs = panel4(seed=7, n=8, years=(2020,))
    cs.loc[4, "b"] = np.nan
    with pytest.raises(MissingValueError, match=r"b \(1\); row 4 \(county/None\)"):
        build_index(cs, SYS2, time=None)


def test_summary_text_layout():
    r = build_index(panel4(seed=8), SYS2)
    lines = r.summary().split("\n")
    assert lines[0] == "Integration index (weighted_sum, weights=entropy, scope=pooled) on indicator system 't'"
    assert lines[1] == f"reference: {r.reference}" and lines[2] == "rows used: 18 of 18 (none dropped)"
    head = lines[3].split()
    assert head == ["subsystem", "column", "direction", "weight", "weight_within"]  # no index column
    for line, (_, row) in zip(lines[4:8], r.weights.iterrows()):
        assert line.split() == [row["subsystem"], row["column"], row["direction"], f"{row['weight']:.6f}",
                                f"{row['weight_within']:.6f}"]
    assert lines[8].split() == ["count", "18.000000"]


# --- IndexResult.obstacles / unshifted_z (index.py) -----------------------------------------------
def obstacle_loops(z, F):
    """O_ij = F_j (1 - z_ij)_+ / sum_j F_j (1 - z_ij)_+ with F per row (a DataFrame like z)."""
    num = F * (1 - z).clip(lower=0)
    return num.div(num.sum(axis=1), axis=0)


def test_unshifted_z_undoes_shift_and_rescale():
    d = panel4()
    plain = build_index(d, SYS2)
    shifted = build_index(d, SYS2, shift=0.01)
    rescaled = build_index(d, SYS2, rescale=0.1)
    np.testing.assert_allclose(shifted.z.to_numpy(), plain.z.to_numpy() + 0.01, rtol=0, atol=TOL)
    np.testing.assert_allclose(rescaled.z.to_numpy(), 0.1 + 0.8 * plain.z.to_numpy(), rtol=0, atol=TOL)
    for r in (plain, shifted, rescaled):
        np.testing.assert_allclose(r.unshifted_z().to_numpy(), plain.z.to_numpy(), rtol=0, atol=1e-12)


def test_obstacles_within_subsystem_weights_pooled_and_per_year():
    d = panel4()
    sub = {"a": "s1", "b": "s1", "c": "s2", "d": "s2"}
    labels = {"a": ("A", "甲"), "b": ("B", "乙"), "c": ("C", "丙"), "d": ("D", "丁")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # scope='year' on a panel warns
        per_year = build_index(d, SYS2, scope="year")
    for r in (build_index(d, SYS2, rescale=0.05), per_year):
        z = r.unshifted_z()
        if r.weight_matrix is not None:
            w = r.weight_matrix.reindex(columns=list("abcd"))
        else:
            w = pd.DataFrame([r.weight[list("abcd")].to_numpy()] * len(z), index=z.index, columns=list("abcd"))
        within = w.copy()
        for cols in (["a", "b"], ["c", "d"]):
            within[cols] = w[cols].div(w[cols].sum(axis=1), axis=0)
        for arg, Wk, how in [
                (False, None, None), (None, None, None),
                (True, {"s1": 0.5, "s2": 0.5}, "equal subsystem weights 1/K"),
                ({"s2": 3, "s1": 1}, {"s2": 3.0, "s1": 1.0}, "user-given subsystem weights")]:
            o = r.obstacles(top_k=2, by_subsystem_weight=arg)
            F = w if Wk is None else within * np.array([Wk[sub[c]] for c in "abcd"])
            want = obstacle_loops(z, F)
            np.testing.assert_allclose(o.indicator.to_numpy(), want.to_numpy(), rtol=0, atol=1e-12)
            np.testing.assert_allclose(o.subsystem["s1"], want["a"] + want["b"], rtol=0, atol=1e-12)
            if how is None:
                assert o.settings["factor"] == "w_j"
            else:
                assert o.settings["factor"] == f"within-subsystem weight x W_k ({how}: {Wk})"
            top = o.top
            assert list(top.columns[:2]) == ["county", "year"] and top["rank"].max() == 2
            assert len(top) == 2 * len(z)
            first = top.iloc[0]
            assert first["county"] == d["county"].iloc[0] and first["year"] == d["year"].iloc[0]
            assert (first["label"], first["label_zh"]) == labels[first["indicator"]]
            assert first["subsystem"] == sub[first["indicator"]]
    r = build_index(d, SYS2)
    with pytest.raises(SpecificationError, match=r"^by_subsystem_weight has no weight for subsystem\(s\) \['s2'\]; "
                                                 r"give one weight per subsystem \(\['s1', 's2'\]\)\.$"):
        r.obstacles(by_subsystem_weight={"s1": 1.0})
    with pytest.raises(SpecificationError, match=r"^by_subsystem_weight='yes' must be False, True \(equal subsystem "
                                                 r"weights\) or a mapping \{subsystem: weight\}\.$"):
        r.obstacles(by_subsystem_weight="yes")
    assert r.obstacles().settings["top_k"] == 3   # the default top_k


def test_obstacles_zero_weight_subsystem_gets_zero_within_weight():
    # fixed weights with a whole subsystem at 0: its within weights are 0/0 -> 0, so with W_k it adds nothing
    d = panel4()
    r = build_index(d, SYS2, weights={"a": 0.6, "b": 0.4, "c": 0.0, "d": 0.0})
    z = r.unshifted_z()
    o = r.obstacles(top_k=1, by_subsystem_weight=True)
    F = pd.DataFrame([[0.6, 0.4, 0.0, 0.0]] * len(z), index=z.index, columns=list("abcd"))
    np.testing.assert_allclose(o.indicator.to_numpy(), obstacle_loops(z, F).to_numpy(), rtol=0, atol=1e-12)


# --- indicator systems (system.py) ------------------------------------------------------------------
from analysis.errors import NonNumericError  # noqa: E402
from analysis.indicators import load_system, system_from_dict  # noqa: E402


def _ind(column, direction="+", **kw):
    return dict({"column": column, "label": column.upper(), "label_zh": "中" + column, "direction": direction}, **kw)


def _sub(key, *inds):
    return {"key": key, "label": key.title(), "label_zh": "子" + key, "indicators": list(inds)}


def _exact(msg):
    import re
    return "^" + re.escape(msg) + "$"


def test_system_dimensions_alias_views_and_subset():
    s = system_from_dict({"name": "n", "label": "Lab", "source": "paper", "extra": 1,
                          "dimensions": [_sub("s1", _ind("a"), _ind("b", "cost")),
                                         _sub("s2", _ind("c", "moderate", target="5", unit="%"))]})
    assert (s.name, s.label, s.label_zh, s.source, dict(s.meta)) == ("n", "Lab", "Lab", "paper", {"extra": 1})
    assert s.subsystem_keys == ["s1", "s2"] and s.columns == ["a", "b", "c"]
    assert repr(s) == "IndicatorSystem('n': s1(2), s2(1))"
    assert s.directions == {"a": "+", "b": "-", "c": "moderate"} and s.targets == {"c": 5.0}
    assert s.subsystem_of == {"a": "s1", "b": "s1", "c": "s2"} and s.fixed_weights is None
    assert s.subsystem_labels() == {"s1": ("S1", "子s1"), "s2": ("S2", "子s2")}
    assert s.subsystems[0].name("zh") == "子s1" and s.subsystems[0].name() == "S1"
    assert s.indicators[2].name("zh") == "中c" and s.indicators[2].name("en") == "C"
    f = s.to_frame()
    assert f.to_dict("records")[2] == {"subsystem": "s2", "subsystem_label": "S2", "subsystem_label_zh": "子s2",
                                       "column": "c", "label": "C", "label_zh": "中c", "unit": "%",
                                       "direction": "moderate", "target": 5.0, "fixed_weight": None}
    assert f["unit"].tolist() == ["", "", "%"]
    sub = s.subset(["s2", "s1"])
    assert sub.subsystem_keys == ["s2", "s1"] and sub.columns == ["c", "a", "b"] and sub.name == "n"
    with pytest.raises(SpecificationError, match=_exact("unknown subsystem(s) ['s9'] in system 'n'; it has ['s1', 's2'].")):
        s.subset(["s9"])
    # the name comes from the spec, then the argument, then "custom"; label_zh falls back to label
    assert system_from_dict({"subsystems": [_sub("s", _ind("a"))]}, name="arg").name == "arg"
    t = system_from_dict({"subsystems": [_sub("s", _ind("a"))]})
    assert (t.name, t.label, t.label_zh) == ("custom", "custom", "custom")
    assert system_from_dict({"label_zh": "中文", "subsystems": [_sub("s", _ind("a"))]}).label_zh == "中文"
    # a subsystem may give its key as name
    named = system_from_dict({"subsystems": [{"name": "k", "label": "K", "label_zh": "K", "indicators": [_ind("a")]}]})
    assert named.subsystem_keys == ["k"]


@pytest.mark.parametrize("spec, msg", [
    ([1], "an indicator system must be a mapping with a 'subsystems' list."),
    ({"name": "x", "subsystems": []}, "indicator system 'x': 'subsystems' must be a non-empty list of "
                                      "{key, label, label_zh, indicators: [...]} entries."),
    ({"name": "x", "subsystems": [_sub("s", _ind("a")), 3]}, "indicator system 'x': subsystem #2 is not a mapping."),
    ({"name": "x", "subsystems": [_sub("s", _ind("a")), _sub("s", _ind("b"))]},
     "indicator system 'x', subsystem 's': duplicate subsystem key 's'."),
    ({"name": "x", "subsystems": [{"label": "L", "label_zh": "L", "indicators": [_ind("a")]}]},
     "x: subsystem #1: 'key' is missing; every entry needs key."),
    ({"name": "x", "subsystems": [{"key": "s", "label": " ", "label_zh": "L", "indicators": [_ind("a")]}]},
     "indicator system 'x', subsystem 's': 'label' is missing; every entry needs label."),
    ({"name": "x", "subsystems": [_sub("s")]},
     "indicator system 'x', subsystem 's' has no indicator. Every subsystem needs at least one indicator "
     "(or remove the subsystem)."),
    ({"name": "x", "subsystems": [_sub("s", _ind("a"), "b")]}, "indicator system 'x', subsystem 's': indicator #2 is "
                                                              "not a mapping."),
    ({"name": "x", "subsystems": [_sub("s", _ind("a"), _ind("a"))]},
     "indicator system 'x': duplicate indicator 'a' (in subsystems 's' and 's'). Each column may appear once."),
    ({"name": "x", "subsystems": [_sub("s", _ind("a", None))]},
     "indicator system 'x', subsystem 's', indicator 'a': direction is missing or not a string (got None). Use "
     "\"+\" (larger is better), \"-\" (smaller is better) or moderate with a target; quote the signs in YAML."),
    ({"name": "x", "subsystems": [_sub("s", _ind("a", ["-"]))]},
     "indicator system 'x', subsystem 's', indicator 'a': direction is missing or not a string (got ['-']). Use "
     "\"+\" (larger is better), \"-\" (smaller is better) or moderate with a target; quote the signs in YAML."),
    ({"name": "x", "subsystems": [_sub("s", _ind("a", "up"))]},
     "indicator system 'x', subsystem 's', indicator 'a': invalid direction 'up'. Use \"+\", \"-\" or "
     "\"moderate\" (with target:)."),
    ({"name": "x", "subsystems": [_sub("s", _ind("a", "moderate"))]},
     "indicator system 'x', subsystem 's', indicator 'a': direction 'moderate' needs a numeric 'target'."),
    ({"name": "x", "subsystems": [_sub("s", _ind("a", "moderate", target="mid"))]},
     "indicator system 'x', subsystem 's', indicator 'a': target 'mid' is not a number."),
    ({"name": "x", "subsystems": [_sub("s", _ind("a", "+", target=3))]},
     "indicator system 'x', subsystem 's', indicator 'a': a target is only meaningful for direction 'moderate' "
     "(got direction '+' with target 3)."),
    ({"name": "x", "subsystems": [_sub("s", _ind("a", weight="w"))]},
     "indicator system 'x', subsystem 's', indicator 'a': weight 'w' is not a number."),
    ({"name": "x", "subsystems": [_sub("s", _ind("a", weight=-0.5), _ind("b", weight=1.5))]},
     "indicator system 'x', subsystem 's', indicator 'a': weight -0.5 is negative."),
    ({"name": "x", "subsystems": [_sub("s", _ind("a", weight=0.5), _ind("b"), _ind("c"))]},
     "indicator system 'x': fixed weights are given for some indicators but not for b, c. Give a weight for "
     "every indicator or for none."),
    ({"name": "x", "subsystems": [_sub("s", _ind("a", weight=0.5), _ind("b", weight=0.4))]},
     "indicator system 'x': fixed weights sum to 0.9, not 1. Rescale them so that they sum to one."),
])
def test_system_from_dict_messages(spec, msg):
    with pytest.raises(SpecificationError, match=_exact(msg)):
        system_from_dict(spec)


def test_system_directions_weights_and_columns_against_data(tmp_path):
    aliases = {"positive": "+", " Benefit ": "+", "正向": "+", "1": "+", "+1": "+", "negative": "-", "−": "-",
               "cost": "-", "负": "-", "-1": "-", "target": "moderate", "适度": "moderate"}
    for raw, want in aliases.items():
        kw = {"target": 1} if want == "moderate" else {}
        assert system_from_dict({"subsystems": [_sub("s", _ind("a", raw, **kw))]}).directions == {"a": want}
    # weights summing to one within 1e-6 are accepted as they are
    s = system_from_dict({"subsystems": [_sub("s", _ind("a", weight="0.3"), _ind("b", weight=0.7 + 5e-7))]})
    assert s.fixed_weights.tolist() == [0.3, 0.7 + 5e-7]
    assert system_from_dict({"subsystems": [_sub("s", _ind("a", weight=0), _ind("b", weight=1))]}).fixed_weights.tolist() == [0.0, 1.0]
    with pytest.raises(SpecificationError, match=_exact(
            "indicator system 'custom', subsystem 's', indicator 'a': unknown key(s) ['colour']; allowed: column, "
            "label, label_zh, unit, direction, target, weight, note. In YAML flow style {...}, quote values that "
            "contain commas (\"beds per 1,000\").")):
        system_from_dict({"subsystems": [_sub("s", _ind("a", colour="red"))]})
    sysd = {"name": "x", "subsystems": [_sub("s", _ind("a"), _ind("b"))]}
    data = pd.DataFrame({"a": [1.0, 2.0, 3.0, 4.0], "b": ["1", "x", None, "y"], "k": 1})
    with pytest.raises(NonNumericError, match=_exact(
            "indicator column 'b' is not numeric (dtype str); rows 1, 3 hold non-numbers (e.g. ['x', 'y']). "
            "Clean them or convert with pd.to_numeric(..., errors='coerce') and decide how to handle the "
            "resulting missing cells.")):
        load_system(sysd, data=data)
    with pytest.raises(NonNumericError, match="indicator column 'b' is not numeric \\(dtype bool\\)"):
        load_system(sysd, data=data.assign(b=True))
    with pytest.raises(ColumnError, match=_exact(
            "indicator system 'x' names column(s) b, c that are not in the data. Rename the data columns (the data "
            "has e.g. a, k) or edit the YAML's 'column' entries.")):
        load_system({"name": "x", "subsystems": [_sub("s", _ind("a"), _ind("b"), _ind("c"))]}, data=data[["a", "k"]])
    load_system(sysd, data=data.assign(b=[1, 2, 3, 4]))  # integer columns are numeric
    # YAML files: by path (name = file stem), shipped by name, errors
    p = tmp_path / "mine.yaml"
    p.write_text("subsystems:\n  - key: s\n    label: S\n    label_zh: S\n    indicators:\n"
                 "      - {column: a, label: A, label_zh: A, direction: \"-\"}\n", encoding="utf-8")
    got = load_system(p)
    assert got.name == "mine" and got.directions == {"a": "-"}
    assert load_system(str(p)).name == "mine"
    assert load_system(got) is got
    assert load_system("urban_rural_two").name == "urban_rural_two"
    with pytest.raises(SpecificationError, match=_exact(
            "no indicator system file 'nope': give a YAML path or one of the shipped names "
            "['county_uri', 'urban_rural_two'].")):
        load_system("nope")
    bad = tmp_path / "bad.yaml"
    bad.write_text("a: [1, 2\n", encoding="utf-8")
    with pytest.raises(SpecificationError, match="(?s)^" + __import__("re").escape(f"{bad}: not valid YAML (")
                       + ".*\\)\\. Note that directions must be quoted: direction: \"-\"\\.$"):
        load_system(bad)


def test_build_index_explicit_weights_in_a_list_and_nan_scores_are_float():
    d = panel4(seed=2)
    r = build_index(d, SYS2, weights=["equal", {"a": 0.4, "b": 0.3, "c": 0.2, "d": 0.1}], combine="linear",
                    alpha=[0.5, 0.5])
    t = r.weights.set_index("column")
    # a non-string member of the list is named by its position (w2: the second entry)
    np.testing.assert_allclose(t["weight_equal"], [0.25] * 4, rtol=0, atol=TOL)
    np.testing.assert_allclose(t["weight_w2"], [0.4, 0.3, 0.2, 0.1], rtol=0, atol=TOL)
    np.testing.assert_allclose(r.weight[list("abcd")], [0.325, 0.275, 0.225, 0.175], rtol=0, atol=TOL)
    with pytest.warns(RuntimeWarning, match="its score U is NaN"):
        z = build_index(d, SYS2, weights={"a": 0.5, "b": 0.5, "c": 0.0, "d": 0.0})
    assert z.U["s2"].dtype == np.float64 and z.U["s2"].isna().all()
