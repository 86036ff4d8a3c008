"""Mutation-testing follow-up for analysis/disparity (issue 15): tests that kill the mutants mutmut
found surviving in theil.py, dagum.py, markov.py, convergence.py and geodetector.py.

Every expected number is computed here independently (plain loops over the textbook formulas) or
is an exact value of the definition; tolerances are written as numbers with their reason.
"""
from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from analysis.disparity import bandwidth, dagum_gini, dagum_gini_panel, kde_panel, plot_kde_ridges, theil
from analysis.errors import ColumnError, MissingValueError, NegativeValueError, SpecificationError, WeightsMatrixError

# 1e-12: sums of at most a few dozen terms of order 1 (rounding only)
TOL = 1e-12


# --- Theil -------------------------------------------------------------------------------------
def theil_loops(y, p, index):
    """Theil T / L by explicit loops: T = sum s_y ln(s_y/s_p) (0 ln 0 = 0), L = sum s_p ln(s_p/s_y)."""
    ty, tp = sum(y), sum(p)
    total = 0.0
    for yi, pi in zip(y, p):
        sy, sp = yi / ty, pi / tp
        if index == "T":
            total += sy * math.log(sy / sp) if sy > 0 else 0.0
        else:
            total += sp * math.log(sp / sy)
    return total


@pytest.mark.parametrize("index", ["T", "L"])
@pytest.mark.parametrize("weighted", [False, True])
def test_theil_group_table_against_loops(index, weighted):
    y = [5.0, 3.0, 1.2, 0.8, 2.0, 7.5]
    g = ["b", "b", "a", "a", "c", "c"]
    pop = [10.0, 15.0, 9.0, 11.0, 4.0, 20.0] if weighted else None
    p = pop if weighted else [1.0] * len(y)
    res = theil(y, g, population=pop, index=index)
    ty, tp = sum(y), sum(p)
    assert list(res.groups.index) == ["a", "b", "c"]
    assert res.groups.index.name == "group"
    assert list(res.groups.columns) == ["unit_share", "value_share", "theil", "within_contribution"]
    between_terms = {}
    for lab in ["a", "b", "c"]:
        yy = [v for v, k in zip(y, g) if k == lab]
        pp = [v for v, k in zip(p, g) if k == lab]
        row = res.groups.loc[lab]
        assert row["unit_share"] == pytest.approx(sum(pp) / tp, abs=TOL)
        assert row["value_share"] == pytest.approx(sum(yy) / ty, abs=TOL)
        own = theil_loops(yy, pp, index)
        assert row["theil"] == pytest.approx(own, abs=TOL)
        w = sum(yy) / ty if index == "T" else sum(pp) / tp
        assert row["within_contribution"] == pytest.approx(w * own, abs=TOL)
        between_terms[lab] = (sum(yy), sum(pp))
    between = theil_loops([v[0] for v in between_terms.values()], [v[1] for v in between_terms.values()], index)
    assert res.between == pytest.approx(between, abs=TOL)
    assert res.within == pytest.approx(res.groups["within_contribution"].sum(), abs=TOL)
    assert res.total == pytest.approx(theil_loops(y, p, index), abs=TOL)
    assert res.index == index
    assert res.model == f"Theil {index} index"
    assert res.settings == {"index": index, "weights": "population" if weighted else "equal"}
    assert (res.rows.n_input, res.rows.n_used) == (6, 6)
    assert "Theil (1967)" in res.reference


def test_theil_to_frame_values_and_shares():
    res = theil([1.0, 2.0, 3.0, 6.0], ["a", "a", "b", "b"])
    f = res.to_frame()
    assert list(f.columns) == ["quantity", "value", "index"]
    assert f["quantity"].tolist() == ["total", "between", "within", "between_share", "within_share"]
    expected = [res.total, res.between, res.within, res.between / res.total, res.within / res.total]
    np.testing.assert_allclose(f["value"].to_numpy(), expected, rtol=0, atol=TOL)
    assert (f["index"] == "T").all()
    assert 0 < res.between / res.total < 1


def test_theil_of_equal_values_is_zero_and_its_shares_undefined():
    res = theil([2.0, 2.0, 2.0, 2.0], ["a", "a", "b", "b"], index="L")
    assert res.total == 0.0
    f = res.to_frame().set_index("quantity")["value"]
    assert np.isnan(f["between_share"]) and np.isnan(f["within_share"])
    assert (f["index"] if "index" in f else "L") == "L"


def test_theil_without_groups_and_zero_values():
    # 0 ln 0 = 0: T of (0, 1, 1) = 2 * 0.5 ln(0.5 / (1/3)) = ln 1.5
    res = theil([0.0, 1.0, 1.0])
    assert res.total == pytest.approx(math.log(1.5), abs=TOL)
    assert np.isnan(res.between) and np.isnan(res.within)
    assert res.groups.empty
    assert res.settings["weights"] == "equal"


def test_theil_without_groups_keeps_index_and_weights():
    pop = [3.0, 1.0, 2.0]
    res = theil([1.0, 2.0, 4.0], population=pop, index="L")
    assert res.index == "L" and (res.to_frame()["index"] == "L").all()
    assert res.model == "Theil L index"
    assert res.settings == {"index": "L", "weights": "population"}
    sy = np.array([1.0, 2.0, 4.0]) / 7
    sp = np.array(pop) / 6
    assert res.total == pytest.approx(float(np.sum(sp * np.log(sp / sy))), abs=TOL)


def test_theil_nullable_and_missing_inputs():
    with pytest.raises(MissingValueError, match="row 1"):
        theil(pd.Series([1, None, 3], dtype="Int64"))
    assert theil(pd.Series([1, 2, 3], dtype="Int64")).total == pytest.approx(theil([1.0, 2.0, 3.0]).total, abs=TOL)
    # a missing population is not a weight: error, never a NaN index
    with pytest.raises(SpecificationError, match="one positive weight per value"):
        theil([1.0, 2.0, 3.0], population=[1.0, np.nan, 2.0])
    with pytest.raises(SpecificationError, match="one positive weight per value"):
        theil([1.0, 2.0, 3.0], population=pd.Series([1, None, 2], dtype="Int64"))
    # values equal to 1 are fine for Theil L (only zeros are not)
    assert theil([1.0, 2.0, 4.0], index="L").total > 0


def test_theil_error_messages_name_the_rows():
    with pytest.raises(MissingValueError, match=r"values missing at rows 1, 3\."):
        theil([1.0, np.nan, 2.0, np.nan])
    with pytest.raises(NegativeValueError, match=r"needs non-negative values; negative at row 3\.$"):
        theil([0.0, 0.5, 2.0, -3.0])  # zero and a value below 1 are not named
    with pytest.raises(NegativeValueError, match=r"Theil L \(GE\(0\)\) needs positive values; zero at row 0\. "
                                                 r"Use index='T'\."):
        theil([0.0, 2.0, 3.0], index="L")
    with pytest.raises(SpecificationError, match="^population must have one positive weight per value\\.$"):
        theil([1.0, 2.0, 3.0], population=[1.0, 2.0])
    with pytest.raises(SpecificationError, match="one positive weight per value"):
        theil([1.0, 2.0, 3.0], population=[1.0, 0.0, 2.0])
    with pytest.raises(SpecificationError, match="index='X'"):
        theil([1.0, 2.0], index="X")
    # L with a zero value is an error even with T allowed: T accepts it
    assert theil([0.0, 1.0, 2.0], index="T").total > 0


# --- Dagum Gini ----------------------------------------------------------------------------------
def mad_loops(a, b):
    return sum(abs(x - z) for x in a for z in b) / (len(a) * len(b))


G1 = {"east": [0.62, 0.55, 0.71, 0.48, 0.66], "central": [0.41, 0.52, 0.38, 0.45],
      "west": [0.30, 0.44, 0.27, 0.35, 0.50, 0.33]}


def _g1():
    values = sum(G1.values(), [])
    groups = sum(([k] * len(v) for k, v in G1.items()), [])
    return values, groups


def test_dagum_tables_against_loops():
    values, groups = _g1()
    res = dagum_gini(values, groups)
    order = ["west", "central", "east"]  # ascending means
    n, ybar = len(values), float(np.mean(values))
    assert list(res.groups.columns) == ["n", "mean", "p", "s"]
    assert res.groups.index.name == "group"
    for k in order:
        v = G1[k]
        row = res.groups.loc[k]
        assert row["n"] == len(v)
        assert row["mean"] == pytest.approx(np.mean(v), abs=TOL)
        assert row["p"] == pytest.approx(len(v) / n, abs=TOL)
        assert row["s"] == pytest.approx(sum(v) / (n * ybar), abs=TOL)
        assert res.within[k] == pytest.approx(mad_loops(v, v) / (2 * np.mean(v)), abs=TOL)
    assert res.within.name == "gini_within"
    assert list(res.between.index) == order and list(res.between.columns) == order
    for a in order:
        for b in order:
            ma, mb = np.mean(G1[a]), np.mean(G1[b])
            exp = mad_loops(G1[a], G1[b]) / (ma + mb) if a != b else mad_loops(G1[a], G1[a]) / (2 * ma)
            assert res.between.loc[a, b] == pytest.approx(exp, abs=TOL)
    # affluence: defined below the diagonal only (richer row group), NaN elsewhere
    for i, a in enumerate(order):
        for j, b in enumerate(order):
            d = res.affluence.loc[a, b]
            if i > j:
                gross = np.mean([max(x - z, 0) for x in G1[a] for z in G1[b]])
                trans = np.mean([max(z - x, 0) for x in G1[a] for z in G1[b]])
                assert d == pytest.approx((gross - trans) / (gross + trans), abs=TOL)
            else:
                assert np.isnan(d)
    c = res.contributions
    assert list(c.index) == ["within", "net_between", "transvariation"]
    assert list(c.columns) == ["value", "share"]
    np.testing.assert_allclose(c["share"], c["value"] / res.total, rtol=0, atol=TOL)
    assert res.model == "Dagum Gini decomposition"
    assert res.settings == {"groups": "west, central, east"}
    assert (res.rows.n_input, res.rows.n_used) == (n, n)
    assert "Dagum (1997)" in res.reference


def test_dagum_total_against_loops_with_ties_and_zeros():
    # ties across and within groups, and zeros, exercise the sorted pairwise sums
    values = [0.0, 0.5, 0.5, 1.0, 0.5, 2.0, 0.0, 1.0]
    groups = ["a", "a", "b", "b", "c", "c", "c", "a"]
    res = dagum_gini(values, groups)
    ybar = np.mean(values)
    assert res.total == pytest.approx(mad_loops(values, values) / (2 * ybar), abs=TOL)
    for k in "abc":
        v = [x for x, g in zip(values, groups) if g == k]
        assert res.within[k] == pytest.approx(mad_loops(v, v) / (2 * np.mean(v)), abs=TOL)
    assert res.contributions["value"].sum() == pytest.approx(res.total, abs=TOL)


def test_dagum_equal_group_means_order_is_stable_and_affluence_zero_without_overlap():
    # two groups with identical constant values: mad = 0, D = 0 by convention (no affluence)
    res = dagum_gini([1.0, 1.0, 1.0, 1.0, 3.0], ["b", "b", "a", "a", "c"])
    assert list(res.groups.index) == ["a", "b", "c"]  # tie a/b kept in label order (stable sort)
    assert res.affluence.loc["b", "a"] == 0.0
    assert res.between.loc["b", "a"] == 0.0
    # c is richer than both: every pair has c above, so D = 1 (no transvariation)
    assert res.affluence.loc["c", "a"] == pytest.approx(1.0, abs=TOL)
    assert res.contributions.loc["transvariation", "value"] == pytest.approx(0.0, abs=TOL)


def test_dagum_to_frame_rows():
    values, groups = _g1()
    res = dagum_gini(values, groups)
    f = res.to_frame()
    assert list(f.columns) == ["quantity", "group", "value"]
    q = f["quantity"].tolist()
    assert q == (["total"] + ["within"] * 3 + ["between"] * 3
                 + ["contribution_within", "share_within", "contribution_net_between", "share_net_between",
                    "contribution_transvariation", "share_transvariation"])
    assert f["group"].tolist()[:7] == ["", "west", "central", "east", "central-west", "east-west", "east-central"]
    assert (f["group"].iloc[7:] == "").all()
    exp = ([res.total] + list(res.within) + [res.between.loc["central", "west"], res.between.loc["east", "west"],
                                             res.between.loc["east", "central"]])
    for name in ["within", "net_between", "transvariation"]:
        exp += [res.contributions.loc[name, "value"], res.contributions.loc[name, "share"]]
    np.testing.assert_allclose(f["value"].to_numpy(dtype=float), exp, rtol=0, atol=0)


def test_dagum_error_messages():
    # anchored patterns: the whole message is the contract
    with pytest.raises(SpecificationError, match=r"^values and groups must be one-dimensional and of the same length\.$"):
        dagum_gini([1.0, 2.0, 3.0], ["a", "b"])
    with pytest.raises(SpecificationError, match="one-dimensional"):
        dagum_gini([[1.0, 2.0], [3.0, 4.0]], [["a", "b"], ["a", "b"]])
    with pytest.raises(MissingValueError, match=r"^values are missing at row 1; drop or fill them before the Gini "
                                                r"decomposition\.$"):
        dagum_gini([1.0, np.nan, 3.0], ["a", "b", "b"])
    with pytest.raises(NegativeValueError, match=r"non-negative values; negative at row 2\. Shift or rescale"):
        dagum_gini([0.0, 2.0, -3.0], ["a", "b", "b"])  # the zero in row 0 is not named
    with pytest.raises(SpecificationError, match=r"^all values are zero: the Gini coefficient is undefined\.$"):
        dagum_gini([0.0, 0.0, 0.0], ["a", "b", "b"])
    with pytest.raises(SpecificationError, match=r"^the Dagum decomposition needs at least two groups\.$"):
        dagum_gini([1.0, 2.0, 3.0], ["a", "a", "a"])
    # zeros are allowed (a positive value in every group keeps each G_jj defined)
    v = [0.0, 1.0, 0.0, 2.0]
    assert dagum_gini(v, ["a", "a", "b", "b"]).total == pytest.approx(mad_loops(v, v) / (2 * np.mean(v)), abs=TOL)


def test_dagum_missing_cell_of_a_nullable_integer_column_is_named():
    # a pandas Int64 column with <NA>: converted to float NaN, so the missing row is reported
    s = pd.Series([1, None, 3, 4], dtype="Int64")
    with pytest.raises(MissingValueError, match="row 1"):
        dagum_gini(s, ["a", "a", "b", "b"])
    r = dagum_gini(pd.Series([1, 2, 3, 6], dtype="Int64"), ["a", "a", "b", "b"])
    assert r.total == pytest.approx(1 / 3, abs=TOL)  # docstring example: mean |diff| 2 / (2 * 3)
    assert r.groups["n"].dtype.kind == "i"


def test_dagum_groups_with_tied_means_keep_label_order():
    # 17 one-county groups with tied means: more than 16 elements, where numpy's default sort is
    # not stable, so ties must be broken by the (sorted) label explicitly
    means = [2.0, 1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 2.0, 1.0, 2.0, 1.0, 1.0, 2.0, 2.0, 1.0]
    labels = [f"g{i:02d}" for i in range(17)]
    res = dagum_gini([m + 1.0 for m in means], labels)
    expected = [labels[i] for i in sorted(range(17), key=lambda i: (means[i], i))]
    assert list(res.groups.index) == expected


def test_dagum_panel_tidy_and_errors():
    d = pd.DataFrame({"t": [1, 1, 1, 1, 2, 2, 2, 2],
                      "v": [1.0, 2.0, 3.0, 6.0, 2.0, 2.0, 1.0, 5.0],
                      "r": ["a", "a", "b", "b", "a", "b", "a", "b"]}, index=range(10, 18))
    out = dagum_gini_panel(d, "v", "r", time="t")
    f = out.to_frame()
    assert list(f.columns) == ["t", "quantity", "group", "value"]
    for year in (1, 2):
        sub = d[d["t"] == year]
        ref = dagum_gini(sub["v"].to_numpy(), sub["r"].to_numpy()).to_frame()
        got = f[f["t"] == year].drop(columns="t").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, ref, check_exact=True)
    assert out.settings == {"value": "v", "group": "r", "time": "t"}
    assert "Dagum (1997)" in out.reference
    assert out.table.index.equals(pd.RangeIndex(len(out.table)))
    assert out["value"].index.is_unique
    # years come out sorted whatever the row order
    rev = dagum_gini_panel(d.iloc[::-1], "v", "r", time="t").to_frame()
    assert rev["t"].tolist() == sorted(rev["t"].tolist())
    assert out.model == "Dagum Gini decomposition by year"
    assert (out.rows.n_input, out.rows.n_used) == (8, 8)
    bad = d.copy()
    bad.loc[12, "r"] = None
    with pytest.raises(MissingValueError, match=r"'v' or 'r' is missing at row 12; fill"):
        dagum_gini_panel(bad, "v", "r", time="t")
    with pytest.raises(ColumnError, match=r"\['year'\] needed by the Dagum decomposition are not in the data"):
        dagum_gini_panel(d, "v", "r")  # no 'year' column


# --- Markov chains ---------------------------------------------------------------------------------
from analysis.disparity import markov_chain, spatial_markov  # noqa: E402
from analysis.disparity.markov import panel_matrix  # noqa: E402
from analysis.errors import UnbalancedPanelError  # noqa: E402


def lognormal_panel(n=30, years=6, seed=3):
    rng = np.random.default_rng(seed)
    return pd.DataFrame([(f"u{i:02d}", 2000 + t, float(rng.lognormal(0, 0.5))) for i in range(n) for t in range(years)],
                        columns=["county", "year", "v"])


def classes_by_hand(y, cuts):
    """Upper-inclusive bins: class = number of cut-offs strictly below the value."""
    return np.array([[sum(c < v for c in cuts) for v in row] for row in y])


def test_markov_states_counts_and_probabilities_by_hand():
    panel = lognormal_panel()
    wide = panel.pivot(index="county", columns="year", values="v")
    rel = wide / wide.mean(axis=0)
    cuts = np.quantile(rel.to_numpy().ravel(), [0.25, 0.5, 0.75])
    res = markov_chain(panel, "v", k=4)
    np.testing.assert_allclose(res.cutoffs, cuts, rtol=0, atol=TOL)
    states = classes_by_hand(rel.to_numpy(), cuts)
    assert (res.states.to_numpy() == states).all()
    assert list(res.states.index) == list(wide.index) and list(res.states.columns) == list(wide.columns)
    counts = np.zeros((4, 4), int)
    for row in states:
        for a, b in zip(row[:-1], row[1:]):
            counts[a, b] += 1
    assert res.counts.to_numpy().tolist() == counts.tolist()
    assert list(res.counts.index) == ["S1", "S2", "S3", "S4"] == list(res.probabilities.columns)
    np.testing.assert_allclose(res.probabilities.to_numpy(), counts / counts.sum(axis=1, keepdims=True), rtol=0, atol=TOL)
    # steady state of this irreducible chain: pi P = pi, sum pi = 1
    P = counts / counts.sum(axis=1, keepdims=True)
    vals, vecs = np.linalg.eig(P.T)
    pi = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    np.testing.assert_allclose(res.steady_state, pi / pi.sum(), rtol=0, atol=1e-10)  # 1e-10: eigen solver
    assert res.settings == {"k": 4, "relative": True, "fixed": True}
    assert res.model == "Markov chain (classic)"
    assert (res.rows.n_input, res.rows.n_used) == (180, 180)
    assert "Rey (2001)" in res.reference
    # tidy form: one row per (from, to), lag class 'all'
    f = res.to_frame()
    assert list(f.columns) == ["lag_class", "from", "to", "count", "probability"]
    assert len(f) == 16 and (f["lag_class"] == "all").all()
    assert f["from"].tolist()[:5] == ["S1", "S1", "S1", "S1", "S2"] and f["to"].tolist()[:5] == ["S1", "S2", "S3", "S4", "S1"]
    np.testing.assert_array_equal(f["count"].to_numpy(), counts.ravel())
    np.testing.assert_allclose(f["probability"].to_numpy(), P.ravel(), rtol=0, atol=TOL)


def test_markov_absolute_per_year_and_given_cutoffs():
    panel = lognormal_panel(seed=5)
    wide = panel.pivot(index="county", columns="year", values="v").to_numpy()
    res = markov_chain(panel, "v", k=3, relative=False, fixed=False)
    per_year = np.column_stack([np.quantile(wide[:, t], [1 / 3, 2 / 3]) for t in range(wide.shape[1])])
    np.testing.assert_allclose(res.cutoffs, per_year, rtol=0, atol=TOL)
    states = np.column_stack([classes_by_hand(wide[:, [t]], per_year[:, t]).ravel() for t in range(wide.shape[1])])
    assert (res.states.to_numpy() == states).all()
    assert res.settings == {"k": 3, "relative": False, "fixed": False}
    # user cut-offs on absolute values; a value equal to a cut-off belongs to the lower class
    cut = [1.0, 1.5]
    d = pd.DataFrame({"county": ["a", "a", "b", "b"], "year": [1, 2, 1, 2], "v": [1.0, 1.2, 1.5, 2.0]})
    r = markov_chain(d, "v", k=3, relative=False, cutoffs=cut)
    assert r.states.to_numpy().tolist() == [[0, 1], [1, 2]]
    np.testing.assert_allclose(r.cutoffs, cut, rtol=0, atol=0)


def test_panel_matrix_errors():
    d = lognormal_panel(n=4, years=3)
    with pytest.raises(ColumnError, match=r"column 'w' is not in the data\."):
        panel_matrix(d, "w")
    with pytest.raises(ColumnError, match=r"column 'id' is not in the data\."):
        panel_matrix(d, "v", entity="id")
    with pytest.raises(UnbalancedPanelError, match=r"1 units have gaps in 'v' \(row u02\)\. Fill them"):
        markov_chain(d.drop(index=7), "v", k=2)
    assert panel_matrix(d, "v").shape == (4, 3)


def _ring_w(ids):
    import libpysal
    n = len(ids)
    return libpysal.weights.W({ids[i]: [ids[(i - 1) % n], ids[(i + 1) % n], ids[(i + 2) % n]] for i in range(n)})


def test_spatial_markov_conditional_counts_by_hand():
    panel = lognormal_panel(n=24, years=5, seed=8)
    ids = sorted(panel["county"].unique())
    w = _ring_w(ids[::-1])  # another id order than the panel's: must be realigned
    res = spatial_markov(panel, "v", w, k=3)
    wide = panel.pivot(index="county", columns="year", values="v")
    y = (wide / wide.mean(axis=0)).to_numpy()
    cuts = np.quantile(y.ravel(), [1 / 3, 2 / 3])
    np.testing.assert_allclose(res.cutoffs, cuts, rtol=0, atol=TOL)
    np.testing.assert_allclose(res.lag_cutoffs, cuts, rtol=0, atol=TOL)  # "state": the same cut-offs
    pos = {c: i for i, c in enumerate(wide.index)}
    lag = np.zeros_like(y)
    for c in ids:
        nb = w.neighbors[c]
        lag[pos[c]] = sum(y[pos[j]] for j in nb) / len(nb)  # row-standardized
    s, ls = classes_by_hand(y, cuts), classes_by_hand(lag, cuts)
    T = np.zeros((3, 3, 3), int)
    for i in range(len(ids)):
        for t in range(4):
            T[ls[i, t], s[i, t], s[i, t + 1]] += 1
    for L in range(3):
        assert res.conditional_counts[f"L{L + 1}"].to_numpy().tolist() == T[L].tolist()
        rows = T[L].sum(axis=1, keepdims=True)
        with np.errstate(invalid="ignore"):
            np.testing.assert_allclose(res.conditional_probabilities[f"L{L + 1}"].to_numpy(), T[L] / rows,
                                       rtol=0, atol=TOL)
    assert res.counts.to_numpy().tolist() == T.sum(axis=0).tolist()
    assert (res.states.to_numpy() == s).all()
    assert res.settings == {"k": 3, "m": 3, "relative": True, "fixed": True, "lag_cutoffs": "state",
                            "w": "row-standardized"}
    assert res.model == "spatial Markov chain" and "giddy" in res.reference
    t = res.tests
    assert list(t.columns) == ["test", "statistic", "dof", "p_value"] and t["test"].tolist() == ["LR", "Q"]
    assert t["dof"].iloc[0] == t["dof"].iloc[1]
    f = res.to_frame()
    assert f["lag_class"].tolist() == ["all"] * 9 + ["L1"] * 9 + ["L2"] * 9 + ["L3"] * 9
    assert f["count"].tolist()[9:] == T.ravel().tolist()
    # the same W wrapped as analysis.spatial.SpatialWeights-like object (attribute .w)
    import types
    again = spatial_markov(panel, "v", types.SimpleNamespace(w=w), k=3)
    assert again.counts.equals(res.counts)
    lagq = spatial_markov(panel, "v", w, k=3, lag_cutoffs="lag")
    np.testing.assert_allclose(lagq.lag_cutoffs, np.quantile(lag.ravel(), [1 / 3, 2 / 3]), rtol=0, atol=TOL)
    assert lagq.settings["lag_cutoffs"] == "lag"


def test_spatial_markov_weight_errors():
    import libpysal
    panel = lognormal_panel(n=6, years=3)
    ids = sorted(panel["county"].unique())
    with pytest.raises(WeightsMatrixError, match=r"^w must be a libpysal W"):
        spatial_markov(panel, "v", np.eye(6), k=2)
    w = _ring_w(ids[:5] + ["zz"])
    with pytest.raises(WeightsMatrixError, match=r"in panel not W: \['u05'\]; in W not panel: \['zz'\]"):
        spatial_markov(panel, "v", w, k=2)
    nb = {c: [ids[(i + 1) % 5]] for i, c in enumerate(ids[:5])}
    nb[ids[5]] = []
    wi = libpysal.weights.W(nb, silence_warnings=True)
    with pytest.raises(WeightsMatrixError, match=r"W has islands \['u05'\]: attach them"):
        spatial_markov(panel, "v", wi, k=2)
    with pytest.raises(MissingValueError, match="pooled"):
        spatial_markov(panel, "v", _ring_w(ids), k=2, fixed=False)


# --- convergence -----------------------------------------------------------------------------------
from analysis.disparity import beta_convergence, sigma_convergence  # noqa: E402
from analysis.disparity.convergence import convergence_speed  # noqa: E402


def sd(v, ddof):
    m = sum(v) / len(v)
    return math.sqrt(sum((x - m) ** 2 for x in v) / (len(v) - ddof))


def test_sigma_convergence_by_hand_with_missing_values():
    d = pd.DataFrame({"t": [2021, 2021, 2021, 2020, 2020, 2020],
                      "v": [2.0, np.nan, 8.0, 1.0, 3.0, 9.0]}, index=[5, 6, 7, 8, 9, 10])
    for log in (True, False):
        for ddof in (0, 1):
            res = sigma_convergence(d, "v", time="t", log=log, ddof=ddof)
            f = res.to_frame()
            assert list(f.columns) == ["t", "sigma", "cv", "n", "n_missing"]
            assert f["t"].tolist() == [2020, 2021]
            for year, vals in ((2020, [1.0, 3.0, 9.0]), (2021, [2.0, 8.0])):
                row = f.set_index("t").loc[year]
                x = [math.log(v) for v in vals] if log else vals
                assert row["sigma"] == pytest.approx(sd(x, ddof), abs=TOL)
                assert row["cv"] == pytest.approx(sd(vals, ddof) / (sum(vals) / len(vals)), abs=TOL)
                assert row["n"] == len(vals)
            assert f["n_missing"].tolist() == [0, 1]
            assert res.table.attrs == {"log": log, "ddof": ddof}
            assert res.settings == {"value": "v", "log": log, "ddof": ddof}
            assert (res.rows.n_input, res.rows.n_used, res.rows.dropped) == (6, 5, {"missing v": 1})
            assert res.model == "σ-convergence" and "Barro and Sala-i-Martin (1992)" in res.reference


def test_sigma_convergence_errors_and_zero_in_levels():
    d = pd.DataFrame({"year": [1, 1, 2, 2], "v": [0.0, 2.0, np.nan, -1.0]})
    with pytest.raises(NegativeValueError, match=r"^ln\(v\) needs positive values; not positive at rows 0, 3\. "
                                                 r"Use log=False"):
        sigma_convergence(d, "v")
    f = sigma_convergence(d, "v", log=False).to_frame()
    assert f["sigma"].iloc[0] == pytest.approx(1.0, abs=TOL)
    with pytest.raises(ColumnError, match="needed by the convergence analysis"):
        sigma_convergence(d, "v", time="t")
    empty = sigma_convergence(d.iloc[:0], "v")
    assert len(empty.to_frame()) == 0 and empty.rows.n_input == 0


def test_convergence_speed_definition():
    theta, half = convergence_speed(-0.2, 1.0)
    assert theta == pytest.approx(-math.log(0.8), abs=TOL)
    assert half == pytest.approx(math.log(2) / -math.log(0.8), abs=TOL)
    theta, half = convergence_speed(-0.05, 10.0)
    assert theta == pytest.approx(-math.log(0.5) / 10, abs=TOL)
    assert half == pytest.approx(10.0, abs=1e-9)  # ln2 / (ln2 / 10)
    assert all(math.isnan(v) for v in convergence_speed(-1.0, 1.0))  # 1 + beta = 0 exactly
    assert all(math.isnan(v) for v in convergence_speed(-0.2, 5.0))
    theta, half = convergence_speed(0.1, 1.0)  # divergence: negative speed, no half-life
    assert theta == pytest.approx(-math.log(1.1), abs=TOL) and math.isnan(half)
    theta, half = convergence_speed(0.0)
    assert theta == 0.0 and math.isnan(half)


def conv_panel(seed=4, n=45, years=12):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        ln = rng.normal(1.0, 0.5)
        for t in range(years):
            rows.append((f"c{i:02d}", 2000 + t, math.exp(ln), rng.normal()))
            ln = ln + 0.3 - 0.2 * ln + rng.normal(0, 0.05)
    return pd.DataFrame(rows, columns=["county", "year", "v", "x"])


def test_beta_cross_section_by_hand():
    import statsmodels.api as sm

    d = conv_panel()
    d.loc[(d["county"] == "c03") & (d["year"] == 2011), "v"] = np.nan  # no final value: dropped, counted
    res = beta_convergence(d, "v", kind="cross_section")
    w = d.pivot(index="county", columns="year", values="v")
    ok = w[[2000, 2011]].notna().all(axis=1)
    g = (np.log(w.loc[ok, 2011]) - np.log(w.loc[ok, 2000])) / 11
    X = np.column_stack([np.ones(ok.sum()), np.log(w.loc[ok, 2000])])
    beta = np.linalg.lstsq(X, g.to_numpy(), rcond=None)[0]
    assert res.stats["beta"] == pytest.approx(beta[1], abs=1e-10)  # 1e-10: two least-squares solvers
    assert res.params["constant"] == pytest.approx(beta[0], abs=1e-10)
    theta = -math.log(1 + beta[1] * 11) / 11
    assert res.stats["speed"] == pytest.approx(theta, abs=1e-10)
    assert res.stats["half_life"] == pytest.approx(math.log(2) / theta, abs=1e-8)
    hc1 = sm.OLS(g.to_numpy(), X).fit(cov_type="HC1").bse
    np.testing.assert_allclose(res.std_errors.to_numpy(), hc1, rtol=1e-10)
    assert res.stats["N"] == 44 and res.rows.n_input == 45 and res.rows.n_used == 44
    assert res.rows.dropped == {"county without v in 2000 and 2011": 1}
    assert res.settings["span_years"] == 11


def test_beta_panel_gaps_controls_and_warnings():
    d = conv_panel()
    d = d.drop(index=d.index[(d["county"] == "c05") & (d["year"] == 2004)])  # a gap: 2003 -> 2005 is not a growth
    ln = np.log(d.set_index(["county", "year"])["v"])
    rows = []
    for (c, t), v in ln.items():
        if (c, t + 1) in ln.index:
            rows.append((ln[(c, t + 1)] - v, v, d.set_index(["county", "year"]).loc[(c, t), "x"]))
    g, lnl, x = map(np.array, zip(*rows))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # 12 years >= 10: no Nickell warning
        pooled = beta_convergence(d, "v", fe=(), controls=["x"])
    b = np.linalg.lstsq(np.column_stack([np.ones(len(g)), lnl, x]), g, rcond=None)[0]
    assert pooled.stats["beta"] == pytest.approx(b[1], abs=1e-10)
    assert pooled.params["ln_v"] == pytest.approx(b[1], abs=1e-10)
    assert "_ln" not in pooled.params.index and "ln_v" in pooled.std_errors.index
    assert pooled.model == "conditional β-convergence (annual panel)"
    assert pooled.stats["speed"] == pytest.approx(-math.log(1 + b[1]), abs=1e-10)
    absolute = beta_convergence(d, "v", fe=())
    assert absolute.model == "absolute β-convergence (annual panel)"
    short = d[d["year"] < 2005]
    with pytest.warns(UserWarning, match=r"^only 5 years: the within \(county FE\) estimate"):
        beta_convergence(short, "v", fe=("county",))
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no county FE: no Nickell warning even with 5 years
        beta_convergence(short, "v", fe=())
    with pytest.raises(SpecificationError, match="kind='long'"):
        beta_convergence(d, "v", kind="long")
    with pytest.raises(NegativeValueError, match=r"^β-convergence uses ln\(v\); not positive at row 3\.$"):
        beta_convergence(d.assign(v=lambda f: np.where(f.index == 3, 0.0, f["v"])), "v")
    with pytest.raises(ColumnError, match="needed by the convergence analysis"):
        beta_convergence(d, "v", controls=["z"])


# --- geographical detector (numeric core: discretize, q, F, p, interaction, risk, ecological) -------
from scipy import stats as sps  # noqa: E402

from analysis.disparity import (  # noqa: E402
    discretize,
    ecological_detector,
    factor_detector,
    interaction_detector,
    risk_detector,
)
from analysis.disparity.geodetector import _interaction_type, _q_stats  # noqa: E402


def geo_frame(seed=2, n=60):
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 3, n)
    b = rng.integers(0, 4, n)
    y = 1.0 + 0.8 * a - 0.5 * (b == 2) + rng.normal(0, 0.7, n)
    return pd.DataFrame({"y": y, "a": a, "b": np.array(list("pqrs"))[b], "c": rng.integers(0, 2, n)})


def q_loops(y, codes):
    y = list(y)
    n = len(y)
    m = sum(y) / n
    sst = sum((v - m) ** 2 for v in y)
    ssw = 0.0
    strata = {}
    for v, c in zip(y, codes):
        strata.setdefault(c, []).append(v)
    for vals in strata.values():
        mh = sum(vals) / len(vals)
        ssw += sum((v - mh) ** 2 for v in vals)
    return 1 - ssw / sst, strata, sst, ssw


def test_q_statistic_f_and_p_values_by_hand():
    d = geo_frame()
    codes = pd.factorize(d["b"], sort=True)[0]
    q, strata, sst, ssw = q_loops(d["y"], codes)
    n, L = len(d), len(strata)
    s = _q_stats(d["y"].to_numpy(), codes)
    assert s["q"] == pytest.approx(q, abs=TOL)
    assert (s["ssw"], s["sst"]) == (pytest.approx(ssw, abs=1e-10), pytest.approx(sst, abs=1e-10))
    assert s["n_strata"] == L == 4
    F = (n - L) / (L - 1) * q / (1 - q)
    assert s["F"] == pytest.approx(F, rel=1e-12)
    assert s["F"] == pytest.approx(sps.f_oneway(*strata.values()).statistic, rel=1e-10)
    assert s["p_anova"] == pytest.approx(sps.f.sf(F, L - 1, n - L), rel=1e-10)
    # CRAN geodetector's noncentrality: [sum Ybar_h^2 - (sum sqrt(N_h) Ybar_h)^2 / N] / s^2 (s^2 with ddof 1)
    means = [np.mean(v) for v in strata.values()]
    sizes = [len(v) for v in strata.values()]
    for ddof in (0, 1):
        lam = (sum(m * m for m in means) - sum(math.sqrt(k) * m for k, m in zip(sizes, means)) ** 2 / n) / (sst / (n - ddof))
        s = _q_stats(d["y"].to_numpy(), codes, lambda_var_ddof=ddof)
        assert s["lambda_"] == pytest.approx(lam, rel=1e-10)
        assert s["p_compat"] == pytest.approx(sps.ncf.sf(F, L - 1, n - L, lam), rel=1e-9)
    # a perfect partition: q = 1, F infinite
    s = _q_stats(np.array([1.0, 1.0, 2.0, 2.0]), np.array([0, 0, 1, 1]))
    assert s["q"] == 1.0 and s["F"] == np.inf and s["p_anova"] == 0.0
    # empty code values (a code without rows) are not strata
    s = _q_stats(np.array([1.0, 2.0, 4.0, 5.0]), np.array([0, 0, 2, 2]))
    assert s["n_strata"] == 2


def test_factor_detector_anova_and_compat_columns():
    d = geo_frame()
    for pv in ("anova", "geodetector_compat"):
        out = factor_detector(d, "y", ["a", "b"], pvalue=pv)
        assert list(out.columns) == ["factor", "q", "strata", "F", "p_value", "q_adj", "q_null_mean", "p_anova"]
        assert out["factor"].tolist() == ["a", "b"]
        n = len(d)
        for _, row in out.iterrows():
            codes = pd.factorize(d[row["factor"]], sort=True)[0]
            s = _q_stats(d["y"].to_numpy(), codes)
            L = s["n_strata"]
            assert row["q"] == pytest.approx(s["q"], abs=TOL)
            assert row["q_adj"] == pytest.approx(1 - (1 - s["q"]) * (n - 1) / (n - L), abs=TOL)
            assert row["q_null_mean"] == pytest.approx((L - 1) / (n - 1), abs=TOL)
            assert row["p_value"] == pytest.approx(s["p_anova"] if pv == "anova" else s["p_compat"], rel=1e-12)
            assert row["strata"] == L
        assert out.attrs["pvalue"] == pv and out.attrs["n_perm"] is None and out.attrs["seed"] is None
        assert out.attrs["rows"].n_used == n
    one = factor_detector(d, "y", "a", pvalue="anova")
    assert one["factor"].tolist() == ["a"]
    with pytest.raises(SpecificationError, match=r"^the default p-value \(pvalue='msr', Moran spectral "
                                                 r"randomization\) needs the spatial weights"):
        factor_detector(d.assign(adcode=range(len(d))), "y", ["a"])
    with pytest.raises(SpecificationError, match="pvalue='x'"):
        factor_detector(d, "y", ["a"], pvalue="x")


def test_prepare_errors_and_row_report():
    d = geo_frame()
    d.loc[3, "y"] = np.nan
    d.loc[7, "a"] = np.nan
    out = factor_detector(d, "y", ["a"], pvalue="anova")
    rep = out.attrs["rows"]
    assert (rep.n_input, rep.n_used, rep.dropped) == (60, 58, {"missing y or factor": 2})
    full = factor_detector(d.drop(index=[3, 7]), "y", ["a"], pvalue="anova")
    assert out["q"].iloc[0] == pytest.approx(full["q"].iloc[0], abs=TOL)
    assert factor_detector(geo_frame(), "y", ["a"], pvalue="anova").attrs["rows"].dropped == {}
    with pytest.raises(ColumnError, match=r"^columns \['z'\] are not in the data\.$"):
        factor_detector(d, "y", ["z"], pvalue="anova")
    with pytest.raises(SpecificationError, match=r"^y column 'b' must be numeric\.$"):
        factor_detector(d, "b", ["a"], pvalue="anova")
    with pytest.raises(SpecificationError, match=r"^y column 'y' has infinite values\.$"):
        factor_detector(d.assign(y=np.where(d.index == 5, np.inf, d["y"])), "y", ["a"], pvalue="anova")
    with pytest.raises(SpecificationError, match=r"^factor 'a' has 1 stratum; it needs at least 2\.$"):
        factor_detector(d.assign(a=1), "y", ["a"], pvalue="anova")
    cont = d.assign(x=np.linspace(0, 1, len(d)))
    with pytest.raises(SpecificationError, match=r"^factor 'x' looks continuous \(59 distinct values for 59 rows\); "
                                                 r"stratify it first"):
        factor_detector(cont, "y", ["x"], pvalue="anova")
    # a float factor with few levels (at most half the rows) is a stratification
    half = geo_frame().assign(x=np.repeat(np.arange(30.0), 2))
    assert factor_detector(half, "y", ["x"], pvalue="anova")["strata"].iloc[0] == 30


def test_interaction_types_at_their_boundaries():
    t = 1e-9
    assert _interaction_type(0.2, 0.3, 0.5, t) == "independent"
    assert _interaction_type(0.2, 0.3, 0.5 + 5e-10, t) == "independent"
    assert _interaction_type(0.2, 0.3, 0.1, t) == "weaken, nonlinear"
    assert _interaction_type(0.2, 0.3, 0.2 - 2e-9, t) == "weaken, nonlinear"
    assert _interaction_type(0.3, 0.2, 0.2, t) == "weaken, uni-"  # = min: within tol of lo
    assert _interaction_type(0.2, 0.3, 0.25, t) == "weaken, uni-"
    assert _interaction_type(0.3, 0.2, 0.3, t) == "enhance, bi-"  # = max (nested factors)
    assert _interaction_type(0.2, 0.3, 0.4, t) == "enhance, bi-"
    assert _interaction_type(0.2, 0.3, 0.6, t) == "enhance, nonlinear"
    assert _interaction_type(0.2, 0.3, 0.5 + 2e-9, t) == "enhance, nonlinear"
    assert _interaction_type(0.2, 0.3, 0.5 - 2e-9, t) == "enhance, bi-"


def test_interaction_detector_by_hand():
    d = geo_frame()
    out = interaction_detector(d, "y", ["a", "b", "c"])
    assert list(out.columns) == ["factor_1", "factor_2", "q_1", "q_2", "q_12", "interaction"]
    assert list(zip(out["factor_1"], out["factor_2"])) == [("a", "b"), ("a", "c"), ("b", "c")]
    for _, row in out.iterrows():
        f1, f2 = row["factor_1"], row["factor_2"]
        overlay = [f"{u}|{v}" for u, v in zip(d[f1], d[f2])]
        q12 = q_loops(d["y"], overlay)[0]
        assert row["q_12"] == pytest.approx(q12, abs=TOL)
        assert row["q_1"] == pytest.approx(q_loops(d["y"], d[f1])[0], abs=TOL)
        assert row["q_2"] == pytest.approx(q_loops(d["y"], d[f2])[0], abs=TOL)
        assert row["interaction"] == _interaction_type(row["q_1"], row["q_2"], q12, 1e-9)
    zh = interaction_detector(d, "y", ["a", "b", "c"], lang="zh")
    assert zh["interaction"].tolist() == [{"enhance, bi-": "双因子增强", "enhance, nonlinear": "非线性增强",
                                           "independent": "独立"}[k] for k in out["interaction"]]
    assert out.attrs["rows"].n_used == 60
    # overlay labels must not collide: "1" + "11" vs "11" + "1"
    e = pd.DataFrame({"y": [1.0, 2.0, 3.0, 4.0, 1.5, 3.5], "f": ["1", "11", "1", "11", "1", "11"],
                      "g": ["11", "1", "11", "1", "1", "11"]})
    r = interaction_detector(e, "y", ["f", "g"])
    assert r["q_12"].iloc[0] == pytest.approx(q_loops(e["y"], list(zip(e["f"], e["g"])))[0], abs=TOL)
    with pytest.raises(SpecificationError, match=r"^the interaction detector needs at least two factors\.$"):
        interaction_detector(d, "y", ["a"])


def test_risk_detector_welch_by_hand():
    d = geo_frame()
    d = pd.concat([d, pd.DataFrame({"y": [9.0], "a": [7], "b": ["p"], "c": [0]})], ignore_index=True)
    res = risk_detector(d, "y", "a")
    m = res["means"]
    assert list(m.columns) == ["stratum", "n", "mean"] and m["stratum"].tolist() == [0, 1, 2, 7]
    for _, row in m.iterrows():
        v = d.loc[d["a"] == row["stratum"], "y"]
        assert row["n"] == len(v) and row["mean"] == pytest.approx(v.mean(), abs=TOL)
    assert res["singletons"] == [7]
    t = res["tests"]
    assert list(zip(t["stratum_1"], t["stratum_2"])) == [(0, 1), (0, 2), (1, 2)]
    for _, row in t.iterrows():
        va = d.loc[d["a"] == row["stratum_1"], "y"].to_numpy()
        vb = d.loc[d["a"] == row["stratum_2"], "y"].to_numpy()
        ref = sps.ttest_ind(va, vb, equal_var=False)
        assert row["t"] == pytest.approx(ref.statistic, rel=1e-10)
        assert row["p_value"] == pytest.approx(ref.pvalue, rel=1e-8)
        sa, sb = va.var(ddof=1) / len(va), vb.var(ddof=1) / len(vb)
        assert row["df"] == pytest.approx((sa + sb) ** 2 / (sa**2 / (len(va) - 1) + sb**2 / (len(vb) - 1)), rel=1e-12)
        assert row["significant"] == (ref.pvalue < 0.05)
    assert "p_adjusted" not in t.columns
    cran = risk_detector(d, "y", "a", compat="cran")["tests"]
    np.testing.assert_array_equal(cran["df"], np.round(t["df"]))
    for _, row in cran.iterrows():
        assert row["p_value"] == pytest.approx(2 * sps.t.sf(abs(row["t"]), row["df"]), rel=1e-10)
    holm = risk_detector(d, "y", "a", adjust="holm", alpha=0.01)["tests"]
    p = t["p_value"].to_numpy()
    order = np.argsort(p)
    adj = np.empty(3)
    running = 0.0
    for rank, i in enumerate(order):  # Holm step-down: max over earlier of (m - rank) p, capped at 1
        running = max(running, min(1.0, (3 - rank) * p[i]))
        adj[i] = running
    np.testing.assert_allclose(holm["p_adjusted"], adj, rtol=1e-12)
    assert holm["significant"].tolist() == list(adj < 0.01)
    assert res["rows"].n_used == 61
    # only singletons: no tests, no columns to flag
    s = pd.DataFrame({"y": [1.0, 2.0, 3.0], "a": [0, 1, 2]})
    r = risk_detector(s, "y", "a", adjust="holm")
    assert r["tests"].empty and r["singletons"] == [0, 1, 2]


def test_ecological_detector_by_hand():
    d = geo_frame()
    out = ecological_detector(d, "y", ["a", "b", "c"])
    assert list(out.columns) == ["factor_1", "factor_2", "F", "p_value", "significant"]
    n = len(d)
    for _, row in out.iterrows():
        ssw1 = q_loops(d["y"], d[row["factor_1"]])[3]
        ssw2 = q_loops(d["y"], d[row["factor_2"]])[3]
        F = ssw1 / ssw2
        assert row["F"] == pytest.approx(F, rel=1e-12)
        p = 2 * min(sps.f.sf(F, n - 1, n - 1), sps.f.cdf(F, n - 1, n - 1))
        assert row["p_value"] == pytest.approx(p, rel=1e-10)
        assert row["significant"] == (p < 0.05)
    assert ecological_detector(d, "y", ["a", "b"], alpha=0.999)["significant"].iloc[0] == bool(out["p_value"].iloc[0] < 0.999)
    cran = ecological_detector(d, "y", ["a", "b", "c"], compat="cran")
    crit = sps.f.ppf(0.9, n - 1, n - 1)
    for _, row in cran.iterrows():
        q1 = q_loops(d["y"], d[row["factor_1"]])[0]
        q2 = q_loops(d["y"], d[row["factor_2"]])[0]
        assert row["F"] == pytest.approx(q2 / q1, rel=1e-12)
        assert np.isnan(row["p_value"])
        assert row["significant"] == bool(q2 / q1 > crit or q1 / q2 > crit)
    assert out.attrs["rows"].n_used == n


def test_discretize_methods_by_hand():
    x = np.array([5.0, 1.0, 3.0, 9.0, 7.0, 2.0, 8.0, 4.0, 6.0, 10.0])
    q = discretize(x, "quantile", k=4)
    cuts = np.quantile(x, [0.25, 0.5, 0.75])
    assert q.tolist() == [sum(c < v for c in cuts) for v in x]  # upper-inclusive
    e = discretize(x, "equal", k=3)
    edges = [1.0 + 3.0, 1.0 + 6.0]
    assert e.tolist() == [sum(c < v for c in edges) for v in x]
    assert discretize(x, k=5).max() == 4 and discretize(x).tolist() == discretize(x, "quantile", 5).tolist()
    import mapclassify

    nat = discretize(x, "natural", k=3)
    bins = mapclassify.FisherJenks(x, k=3).bins[:-1]
    assert nat.tolist() == [sum(c < v for c in bins) for v in x]
    sd_ = discretize(x, "sd")
    sb = mapclassify.StdMean(x).bins[:-1]
    assert sd_.tolist() == [sum(c < v for c in np.unique(sb)) for v in x]
    # tied cut-offs are merged (cut-offs 1, 1, 1.75 -> 1, 1.75)
    t = discretize(np.array([1.0, 1.0, 1.0, 1.0, 2.0, 3.0]), "quantile", k=4)
    assert t.tolist() == [0, 0, 0, 0, 2, 2]
    with pytest.raises(SpecificationError, match=r"^cannot discretize missing values \(row 1\)\.$"):
        discretize([1.0, np.nan, 2.0])
    with pytest.raises(SpecificationError, match=r"^k must be at least 2\.$"):
        discretize(x, k=1)
    discretize(x, k=2)
    with pytest.raises(SpecificationError, match="method='jenks'"):
        discretize(x, "jenks")


def test_spatial_markov_weighted_w_labels_empty_rows_and_names():
    import libpysal

    panel = lognormal_panel(n=12, years=3, seed=0).rename(columns={"county": "id", "year": "t"})
    ids = sorted(panel["id"].unique())
    n = len(ids)
    nb = {ids[i]: [ids[(i - 1) % n], ids[(i + 1) % n], ids[(i + 2) % n]] for i in range(n)}
    wt = {ids[i]: [1.0, 2.0, 5.0] for i in range(n)}  # not binary: the lag is a weighted mean
    w = libpysal.weights.W(nb, wt)
    with pytest.warns(RuntimeWarning, match=r"transition probabilities out of L\d:S\d.* are undefined"):
        res = spatial_markov(panel, "v", w, k=3, entity="id", time="t")
    wide = panel.pivot(index="id", columns="t", values="v")
    y = (wide / wide.mean(axis=0)).to_numpy()
    pos = {c: i for i, c in enumerate(wide.index)}
    lag = np.array([[sum(wv * y[pos[j], t] for j, wv in zip(nb[c], wt[c])) / 8.0 for t in range(3)] for c in wide.index])
    cuts = np.quantile(y.ravel(), [1 / 3, 2 / 3])
    s, ls = classes_by_hand(y, cuts), classes_by_hand(lag, cuts)
    T = np.zeros((3, 3, 3), int)
    for i in range(n):
        for t in range(2):
            T[ls[i, t], s[i, t], s[i, t + 1]] += 1
    assert any((T[L].sum(axis=1) == 0).any() for L in range(3)), "the example needs an empty row"
    for L in range(3):
        c = res.conditional_counts[f"L{L + 1}"]
        assert c.to_numpy().tolist() == T[L].tolist()
        assert list(c.index) == ["S1", "S2", "S3"] == list(c.columns)
        rows = T[L].sum(axis=1, keepdims=True)
        # a state never seen under this lag class has no transition probabilities: NaN (giddy's own
        # output is a row of zeros; its fill option would put 1 on the diagonal, inventing a transition)
        expected = np.where(rows > 0, T[L] / np.where(rows > 0, rows, 1), np.nan)
        p = res.conditional_probabilities[f"L{L + 1}"]
        np.testing.assert_allclose(p.to_numpy(), expected, rtol=0, atol=TOL)
        assert list(p.index) == ["S1", "S2", "S3"]
    assert list(res.counts.index) == ["S1", "S2", "S3"] and (res.counts.dtypes == np.int64).all()
    assert all((c.dtypes == np.int64).all() for c in res.conditional_counts.values())
    total = T.sum(axis=0)
    P = total / total.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(res.probabilities.to_numpy(), P, rtol=0, atol=TOL)
    vals, vecs = np.linalg.eig(P.T)
    pi = np.real(vecs[:, np.argmin(np.abs(vals - 1))])
    np.testing.assert_allclose(np.ravel(res.steady_state), pi / pi.sum(), rtol=0, atol=1e-10)  # 1e-10: eigen solver
    assert (res.rows.n_input, res.rows.n_used) == (36, 36)
    assert list(res.states.index) == list(wide.index) and list(res.states.columns) == [2000, 2001, 2002]
    assert (res.states.to_numpy() == s).all()
    f = res.to_frame()
    assert f["from"].tolist()[:4] == ["S1", "S1", "S1", "S2"] and f["to"].tolist()[:4] == ["S1", "S2", "S3", "S1"]
    # the default k is 4 (quartiles)
    big = lognormal_panel(n=24, years=4, seed=9)
    bids = sorted(big["county"].unique())
    r4 = spatial_markov(big, "v", _ring_w(bids))
    assert r4.counts.shape == (4, 4) and len(r4.cutoffs) == 3 and r4.settings["k"] == 4
    assert len(r4.conditional_counts) == 4


def test_spatial_markov_messages_list_at_most_eight():
    import libpysal

    panel = lognormal_panel(n=10, years=3)
    ids = sorted(panel["county"].unique())
    other = [f"x{i}" for i in range(10)]
    w = _ring_w(other)
    with pytest.raises(WeightsMatrixError, match=r"in panel not W: \['u00', 'u01', 'u02', 'u03', 'u04', 'u05', 'u06', "
                                                 r"'u07'\]; in W not panel: \['x0', 'x1', 'x2', 'x3', 'x4', 'x5', "
                                                 r"'x6', 'x7'\]\)\.$"):
        spatial_markov(panel, "v", w, k=2)
    nb = {c: [] for c in ids}
    nb[ids[0]] = [ids[1]]
    nb[ids[1]] = [ids[0]]
    wi = libpysal.weights.W(nb, silence_warnings=True)
    with pytest.raises(WeightsMatrixError, match=r"^W has islands \['u02', 'u03', 'u04', 'u05', 'u06', 'u07', 'u08', "
                                                 r"'u09'\]: attach them to their nearest neighbour first\.$"):
        spatial_markov(panel, "v", wi, k=2)
    with pytest.raises(MissingValueError, match=r"^spatial_markov supports pooled \(fixed=True\) cut-offs only\.$"):
        spatial_markov(panel, "v", _ring_w(ids), k=2, fixed=False)


def test_ecological_f_above_one_and_discretize_none():
    d = geo_frame()
    out = ecological_detector(d, "y", ["c", "a"])  # 2 strata vs 3: SSW_c > SSW_a, so F > 1 (upper tail)
    n = len(d)
    F = q_loops(d["y"], d["c"])[3] / q_loops(d["y"], d["a"])[3]
    assert F > 1 and out["F"].iloc[0] == pytest.approx(F, rel=1e-12)
    p = 2 * min(sps.f.sf(F, n - 1, n - 1), sps.f.cdf(F, n - 1, n - 1))
    assert p == pytest.approx(2 * sps.f.sf(F, n - 1, n - 1), rel=1e-12)
    assert out["p_value"].iloc[0] == pytest.approx(p, rel=1e-10)
    with pytest.raises(SpecificationError, match=r"^cannot discretize missing values \(row 1\)\.$"):
        discretize([1.0, None, 2.0])


def test_sigma_convergence_more_edges():
    d = pd.DataFrame({"year": [1, 1, 2, 2], "v": [0.0, 0.5, 2.0, -1.0]})
    with pytest.raises(NegativeValueError, match=r"not positive at rows 0, 3\. "):  # 0.5 is positive
        sigma_convergence(d, "v")
    with pytest.raises(NegativeValueError, match=r"not positive at row 0\. "):  # a zero alone
        sigma_convergence(pd.DataFrame({"year": [1, 1], "v": [0.0, 2.0]}), "v")
    with pytest.raises(ColumnError, match=r"\['w'\] needed by the convergence analysis"):
        sigma_convergence(d, "w")
    empty = sigma_convergence(d.iloc[:0], "v")
    assert (empty.rows.n_used, empty.rows.dropped) == (0, {"missing v": 0})
    theta, _ = convergence_speed(-0.2)  # default: annual (years = 1)
    assert theta == pytest.approx(-math.log(0.8), abs=TOL)


def test_risk_detector_small_strata_default_alpha_and_adjusted_flags():
    d = pd.DataFrame({"y": [0.0, 1.0, 0.2, 1.2, 0.5, 5.0, 6.0, 5.5], "f": list("AABBBCCC")})
    res = risk_detector(d, "y", "f")
    t = res["tests"]
    assert list(zip(t["stratum_1"], t["stratum_2"])) == [("A", "B"), ("A", "C"), ("B", "C")]  # A has 2 units
    assert res["singletons"] == []
    assert t["significant"].tolist() == (t["p_value"] < 0.05).tolist()  # default alpha 0.05
    assert not t["significant"].all() and t["significant"].any()
    holm_ref = risk_detector(d, "y", "f", adjust="holm")["tests"]
    i = int(np.argmax(holm_ref["p_adjusted"].to_numpy() > holm_ref["p_value"].to_numpy()))
    alpha = float(holm_ref["p_value"].iloc[i] + holm_ref["p_adjusted"].iloc[i]) / 2  # between raw and adjusted
    flagged = risk_detector(d, "y", "f", adjust="holm", alpha=alpha)["tests"]
    assert flagged["significant"].tolist() == (flagged["p_adjusted"] < alpha).tolist()
    assert not flagged["significant"].iloc[i]


def test_markov_chain_defaults_names_and_unused_states():
    panel = lognormal_panel(n=20, years=4, seed=12).rename(columns={"county": "id", "year": "t"})
    res = markov_chain(panel, "v", entity="id", time="t")  # default k = 4
    assert res.counts.shape == (4, 4) and len(res.cutoffs) == 3 and res.settings["k"] == 4
    assert (res.counts.dtypes == np.int64).all()
    # user cut-offs that leave the top state empty: it still gets its (zero) row and column
    d = pd.DataFrame({"county": ["a", "a", "b", "b"], "year": [1, 2, 1, 2], "v": [1.0, 1.2, 1.5, 1.1]})
    with pytest.warns(RuntimeWarning, match=r"out of S3 are undefined"):
        r = markov_chain(d, "v", k=3, relative=False, cutoffs=[1.0, 5.0])
    assert r.counts.to_numpy().tolist() == [[0, 1, 0], [0, 1, 0], [0, 0, 0]]
    # S1 and S2 are origins (a: 1.0 -> 1.2, b: 1.5 -> 1.1); S3 is none: its row is NaN, not 0
    assert r.probabilities.loc["S3"].isna().all() and r.probabilities.loc["S1"].tolist() == [0.0, 1.0, 0.0]
    assert list(r.counts.index) == ["S1", "S2", "S3"]


def test_spatial_markov_lists_eight_of_nine_islands():
    import libpysal

    panel = lognormal_panel(n=11, years=3)
    ids = sorted(panel["county"].unique())
    nb = {c: [] for c in ids}
    nb[ids[0]], nb[ids[1]] = [ids[1]], [ids[0]]
    wi = libpysal.weights.W(nb, silence_warnings=True)  # 9 islands, 8 listed
    with pytest.raises(WeightsMatrixError, match=r"^W has islands \['u02', 'u03', 'u04', 'u05', 'u06', 'u07', 'u08', "
                                                 r"'u09'\]: attach"):
        spatial_markov(panel, "v", wi, k=2)


# --- kernel density (kde.py) ----------------------------------------------------------------------
def _kde_panel_data():
    return pd.DataFrame({"year": [2010, 2010, 2010, 2020, 2020, 2020, 2020],
                         "v": [0.1, 0.4, 0.5, 0.3, 0.7, 0.8, 1.2]})


def test_kde_messages_default_grid_and_index():
    with pytest.raises(SpecificationError, match="^a numeric bandwidth must be positive\\.$"):
        bandwidth([1.0, 2.0], 0.0)
    with pytest.raises(SpecificationError,
                       match="^bandwidth rule 'normal' is not 'silverman', 'scott' or a number\\.$"):
        bandwidth([1.0, 2.0, 4.0], "normal")
    df = _kde_panel_data()
    bad = df.assign(v=[0.1, np.nan, 0.5, 0.3, 0.7, 0.8, 1.2])
    with pytest.raises(MissingValueError, match="^'v' is missing at .*1.*; fill or drop first\\.$"):
        kde_panel(bad, "v")
    out = kde_panel(df, "v")
    # default grid: 200 points per year from min - 3h to max + 3h; one RangeIndex over the years
    assert out.groupby("year").size().tolist() == [200, 200]
    h = bandwidth(df["v"])
    assert out["x"].iloc[0] == pytest.approx(0.1 - 3 * h, abs=1e-15)
    assert out["x"].iloc[199] == pytest.approx(1.2 + 3 * h, abs=1e-15)
    pd.testing.assert_index_equal(out.index, pd.RangeIndex(400))


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_plot_kde_ridges_draws_each_year_at_its_offset(lang):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba

    dens = kde_panel(_kde_panel_data(), "v", n_grid=50)
    h = dens.attrs["bandwidth"]
    fig = plot_kde_ridges(dens, lang=lang, overlap=0.25)
    try:
        ax = fig.axes[0]
        np.testing.assert_array_equal(fig.get_size_inches(), [6.5, 5.0])
        step = dens["density"].max() * (1 - 0.25)
        cmap = matplotlib.colormaps["viridis"]
        assert len(ax.lines) == 2 and len(ax.collections) == 2 and len(ax.texts) == 2
        for i, year in enumerate([2010, 2020]):
            d = dens[dens["year"] == year]
            line = ax.lines[i]
            np.testing.assert_array_equal(line.get_xdata(), d["x"].to_numpy())
            np.testing.assert_allclose(line.get_ydata(), i * step + d["density"].to_numpy(), rtol=0, atol=1e-15)
            assert to_rgba(line.get_color()) == (0.0, 0.0, 0.0, 1.0) and line.get_linewidth() == 0.5
            band = ax.collections[i]
            verts = band.get_paths()[0].vertices
            # the band runs from the baseline i * step up to the curve: lowest point on the baseline,
            # highest on the peak of that year's curve, and spans the grid in x
            assert verts[:, 1].min() == pytest.approx(i * step, abs=1e-15)
            assert verts[:, 1].max() == pytest.approx(i * step + d["density"].max(), abs=1e-15)
            assert verts[:, 0].min() == d["x"].min() and verts[:, 0].max() == d["x"].max()
            np.testing.assert_allclose(band.get_facecolor()[0], [*cmap(float(i))[:3], 0.7], atol=1e-12)
            assert band.get_linewidth()[0] == 0
            txt = ax.texts[i]
            assert txt.get_text() == str(year) and txt.get_fontsize() == 8 and txt.get_va() == "bottom"
            assert txt.get_position() == pytest.approx((d["x"].min(), i * step + step * 0.1), abs=1e-15)
        assert list(ax.get_yticks()) == []
        title = {"en": f"Kernel density by year (Gaussian kernel, h = {h:.4f})",
                 "zh": f"核密度演进（高斯核，带宽 h = {h:.4f}）"}[lang]
        assert ax.get_title() == title
        assert ax.get_xlabel() == {"en": "value", "zh": "数值"}[lang]
        # three years: the middle colour is the middle of the map (i / (years - 1))
        three = pd.concat([dens, dens[dens["year"] == 2020].assign(year=2030)], ignore_index=True)
        fig3 = plot_kde_ridges(three, lang=lang, label="U")
        np.testing.assert_allclose(fig3.axes[0].collections[1].get_facecolor()[0], [*cmap(0.5)[:3], 0.7],
                                   atol=1e-12)
        assert fig3.axes[0].get_xlabel() == "U"
        plt.close(fig3)
        # no bandwidth recorded: the title says nan
        bare = dens.copy()
        bare.attrs = {}
        fig4 = plot_kde_ridges(bare, lang="en")
        assert fig4.axes[0].get_title() == "Kernel density by year (Gaussian kernel, h = nan)"
        plt.close(fig4)
    finally:
        plt.close(fig)


# --- Moran spectral randomization (spatial_null.py) ------------------------------------------------
def _lattice3():
    """Queen contiguity on a 3 x 3 lattice, ids u0..u8 row by row (u4 the centre)."""
    from libpysal.weights import lat2W

    from analysis.spatial import weights_from_matrix

    w = lat2W(3, 3, rook=False)
    return weights_from_matrix(sparse.csr_matrix(w.full()[0]), [f"u{i}" for i in range(9)], kind="queen")


def test_subset_weights_rows_order_and_messages():
    from analysis.disparity.spatial_null import subset_weights
    from analysis.spatial.weights import SpatialWeights

    sw = _lattice3()
    # the centre touches both corners, the corners do not touch: rows re-standardised on the subset
    want = np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])
    np.testing.assert_array_equal(subset_weights(sw, ["u4", "u0", "u8"]).toarray(), want)
    # without the unstandardised base, the row-standardised matrix is subset (same result)
    nobase = SpatialWeights(w=sw.w, ids=sw.ids, kind="queen", base=None)
    np.testing.assert_allclose(subset_weights(nobase, ["u4", "u0", "u8"]).toarray(), want, atol=1e-15)
    unknown = [f"z{i}" for i in range(9)]
    with pytest.raises(WeightsMatrixError, match="^" + re.escape(
            f"9 ids of the data are not in W ({unknown[:8]} ...); build W for the same counties "
            "(e.g. analysis.spatial.queen_weights()).") + "$"):
        subset_weights(sw, unknown)
    with pytest.raises(WeightsMatrixError, match=re.escape("1 ids of the data are not in W (['z0']); build")):
        subset_weights(sw, ["u0", "z0"])
    with pytest.raises(WeightsMatrixError, match="^the id column has duplicates; the spatial null needs one "
                                                 "row per unit\\.$"):
        subset_weights(sw, ["u0", "u1", "u0"])
    with pytest.raises(WeightsMatrixError, match="^" + re.escape(
            "2 units have no neighbour among the rows used (['u0', 'u8']); the spatial null needs every "
            "unit linked. Attach islands when building W or drop them.") + "$"):
        subset_weights(sw, ["u0", "u8"])


class _Signs:
    """A generator stand-in whose ``choice`` returns one fixed sign for every MEM and draw."""

    def __init__(self, sign):
        self.sign = sign

    def choice(self, values, size):
        assert sorted(values.tolist()) == [-1.0, 1.0]
        return np.full(size, self.sign)


def test_msr_draws_with_fixed_signs_and_mem_basis_spectrum():
    from analysis.disparity.spatial_null import mem_basis, msr_draws

    sw = _lattice3()
    y = np.array([3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0])
    lam, U = mem_basis(sw.base)
    # all signs +1 give y back; all -1 mirror y about its mean (y = ybar + U a exactly)
    np.testing.assert_allclose(msr_draws(y, U, 2, _Signs(1.0)), np.column_stack([y, y]), atol=1e-12)
    np.testing.assert_allclose(msr_draws(y, U, 1, _Signs(-1.0))[:, 0], 2 * y.mean() - y, atol=1e-12)
    assert msr_draws(y, U, 3, np.random.default_rng(0)).shape == (9, 3)
    # the eigenvalues are those of H (W + W')/2 H without the constant's, largest first
    B = sw.base.toarray()
    H = np.eye(9) - 1 / 9
    ev = np.sort(np.linalg.eigvalsh(H @ (B + B.T) / 2 @ H))[::-1]
    const = int(np.argmin(np.abs(ev)))  # the constant has eigenvalue 0 ...
    other = np.delete(ev, const)        # ... remove one zero (others may be zero too)
    np.testing.assert_allclose(lam, other, atol=1e-10)
    assert list(lam) == sorted(lam, reverse=True)
    np.testing.assert_allclose(U.T @ U, np.eye(8), atol=1e-10)
    np.testing.assert_allclose(U.sum(axis=0), 0, atol=1e-10)
    np.testing.assert_allclose(U @ np.diag(lam) @ U.T, H @ (B + B.T) / 2 @ H, atol=1e-10)
    with pytest.raises(SpecificationError, match="^the spatial null needs at least 3 units\\.$"):
        mem_basis(sparse.csr_matrix(np.array([[0.0, 1.0], [1.0, 0.0]])))


def test_mem_basis_small_and_many_matrices_through_the_cache():
    from analysis.disparity.spatial_null import mem_basis

    def path(n):  # units on a line, binary contiguity
        A = np.zeros((n, n))
        i = np.arange(n - 1)
        A[i, i + 1] = A[i + 1, i] = 1.0
        return A

    first = mem_basis(sparse.csr_matrix(path(3)))   # 3 units are enough
    for rounds in range(2):  # seven matrices: more than the cache holds, then all again
        for n in range(3, 10):
            A = path(n)
            lam, U = mem_basis(sparse.csr_matrix(A))
            H = np.eye(n) - 1 / n
            assert U.shape == (n, n - 1)
            np.testing.assert_allclose(U @ np.diag(lam) @ U.T, H @ A @ H, atol=1e-10)
    again = mem_basis(sparse.csr_matrix(path(3)))
    np.testing.assert_allclose(again[0], first[0], atol=1e-12)


def test_factor_detector_msr_p_value_counts_the_draws_at_or_above_q():
    from analysis.disparity import msr_q_test

    sw = _lattice3()
    ids = [f"u{i}" for i in range(9)]
    # a weak factor: some null draws reach its q, so p = (1 + #{q* >= q}) / (B + 1) is above 1/(B + 1)
    d = pd.DataFrame({"adcode": ids, "y": [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0],
                      "x": [0, 1, 0, 1, 0, 1, 0, 1, 1]})
    B = 99
    out = factor_detector(d, "y", ["x"], w=sw, n_perm=B, seed=4)
    q_obs, q_null = msr_q_test(d["y"].to_numpy(), [d["x"].to_numpy()], sw.sparse, B, 4)
    reach = int(np.sum(q_null[0] >= q_obs[0] - 1e-12))
    assert 0 < reach < B
    assert out["p_value"].iloc[0] == (1 + reach) / (B + 1)
    assert out["q"].iloc[0] == pytest.approx(q_loops(d["y"], d["x"])[0], abs=TOL)
    assert out.attrs["n_perm"] == B and out.attrs["seed"] == 4 and out.attrs["pvalue"] == "msr"


def test_beta_cross_section_result_labels():
    res = beta_convergence(conv_panel(), "v", kind="cross_section")
    assert res.vcov_type == "hetero"          # HC1, stated in the result
    assert res.model == "absolute β-convergence (cross-section)" and res.outcome == "growth of ln v"
    assert res.reference == "Barro & Sala-i-Martin (1992), J. Political Economy 100(2)"
    assert list(res.params.index) == ["constant", "ln_initial"] and res.df_resid == 45 - 2


def test_beta_panel_nickell_warning_below_ten_years_only():
    d = conv_panel()
    for last, warned in ((2009, False), (2008, True)):  # 10 years: no warning; 9 years: warning
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            beta_convergence(d[d["year"] <= last], "v", fe=("county",), cluster=None)
        nickell = [w for w in rec if "Nickell" in str(w.message)]
        assert bool(nickell) is warned
        if warned:
            assert str(nickell[0].message) == (
                "only 9 years: the within (county FE) estimate of β in a dynamic panel is biased towards −1 "
                "(Nickell 1981), so the convergence speed is overstated. Prefer the cross-section form, long "
                "differences or system GMM.")
    # the panel keys reach the regression: a repeated county-year is an error, not a silent extra row
    from analysis.errors import DuplicateKeyError

    with pytest.raises(DuplicateKeyError, match=r"^2 rows share a \(county, year\) key, e\.g\. \(c00, 2005\)"):
        beta_convergence(pd.concat([d, d.iloc[[5]]], ignore_index=True), "v")
    dt = pd.concat([d, d.iloc[[5]]], ignore_index=True).rename(columns={"year": "t"})
    with pytest.raises(DuplicateKeyError, match=r"^2 rows share a \(county, t\) key"):
        beta_convergence(dt, "v", time="t", fe=("county", "t"))
    # cluster=None reaches the regression (no clustering), the default clusters by county
    iid = beta_convergence(d, "v", fe=(), cluster=None)
    clustered = beta_convergence(d, "v", fe=())
    assert iid.cluster == () and clustered.cluster == ("county",)
    assert iid.std_errors["ln_v"] != clustered.std_errors["ln_v"]


@pytest.mark.stack_frames  # mutmut's trampoline adds a frame: deselected under mutmut
def test_beta_panel_warnings_point_at_the_caller():
    d = conv_panel()
    with pytest.warns(UserWarning, match="Nickell") as rec:
        beta_convergence(d[d["year"] <= 2004], "v", fe=("county",), cluster=None)
    assert [w.filename for w in rec if "Nickell" in str(w.message)] == [__file__]


def _overshooting_panel():
    """ln y_t+1 = 0.5 - 0.2 ln y_t exactly: growth = 0.5 - 1.2 ln y_t, so beta = -1.2 <= -1."""
    rows = []
    for i, start in enumerate([0.1, 0.6, 1.3, 2.0]):
        ln = start
        for t in range(2000, 2006):
            rows.append({"county": f"c{i}", "year": t, "v": math.exp(ln)})
            ln = 0.5 - 0.2 * ln
    return pd.DataFrame(rows)


def test_beta_panel_half_life_and_undefined_speed():
    d = conv_panel()
    res = beta_convergence(d, "v", fe=(), cluster=None)
    theta = -math.log(1 + res.stats["beta"])
    assert res.stats["half_life"] == pytest.approx(math.log(2) / theta, rel=1e-12)
    with pytest.warns(UserWarning, match=r"^β = -1\.2000 ≤ −1, so the speed θ = −ln\(1 \+ β\) is undefined: the "
                                         r"short-T bias of the within estimator at work\.$"):
        over = beta_convergence(_overshooting_panel(), "v", fe=(), cluster=None)
    assert over.stats["beta"] == pytest.approx(-1.2, abs=1e-12)
    assert math.isnan(over.stats["speed"]) and math.isnan(over.stats["half_life"])


@pytest.mark.stack_frames  # mutmut's trampoline adds a frame: deselected under mutmut
def test_beta_undefined_speed_warning_points_at_the_caller():
    with pytest.warns(UserWarning, match="undefined") as rec:
        beta_convergence(_overshooting_panel(), "v", fe=(), cluster=None)
    assert [w.filename for w in rec if "undefined" in str(w.message)] == [__file__]
