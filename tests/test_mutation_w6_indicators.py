"""Mutation testing, wave 6 (issue 15): tests for the survivors of the independent samples
(seed 20261209) of indicators/index.py, indicators/system.py and disparity/{convergence, geodetector,
kde, spatial_null}.py, and for the rest of each survivor's function (same untested class).

Expected numbers come from an independent computation (explicit loops over the definitions,
scipy/statsmodels) or from the definition itself; every tolerance is written with its reason.
"""
from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd
import pytest
from scipy import sparse

from analysis.disparity import beta_convergence, kde_panel, plot_kde_ridges
from analysis.errors import ColumnError, NonNumericError

# 1e-12: sums of at most a few hundred terms of order 1 (rounding only)
TOL = 1e-12


# --- kernel density (kde.py) ----------------------------------------------------------------------
def _kde_frame():
    # years deliberately out of order in the rows: the output is sorted by year
    return pd.DataFrame({"year": [2020, 2010, 2020, 2010, 2020, 2010, 2020],
                         "v": [0.3, 0.1, 0.7, 0.4, 0.8, 0.5, 1.2]})


def _gauss_density_loop(values, grid, h):
    """f(x) = 1/(n h) sum_i phi((x - x_i)/h), by an explicit loop."""
    out = []
    for g in grid:
        s = 0.0
        for xi in values:
            u = (g - xi) / h
            s += math.exp(-0.5 * u * u) / math.sqrt(2 * math.pi)
        out.append(s / (len(values) * h))
    return np.array(out)


@pytest.mark.parametrize("bw", ["silverman", "scott", 0.3])
def test_kde_panel_bandwidth_rule_reaches_the_densities_and_attrs(bw):
    df = _kde_frame()
    out = kde_panel(df, "v", bw=bw, n_grid=7)
    # the pooled bandwidth of the rule given (not Silverman's whatever the rule)
    sd = float(np.std(df["v"], ddof=1))
    q75, q25 = np.percentile(df["v"], [75, 25])
    a = min(sd, (q75 - q25) / 1.349)
    h = {"silverman": 0.9 * a * 7 ** -0.2, "scott": 1.059 * a * 7 ** -0.2}.get(bw, 0.3)
    assert out.attrs["bandwidth"] == pytest.approx(h, rel=1e-13)  # rounding of a few products
    assert out.attrs["rule"] == bw
    assert set(out.attrs) == {"bandwidth", "rule"}
    assert out["year"].tolist() == [2010] * 7 + [2020] * 7
    grid = np.linspace(0.1 - 3 * h, 1.2 + 3 * h, 7)
    for year in (2010, 2020):
        d = out[out["year"] == year]
        np.testing.assert_allclose(d["x"].to_numpy(), grid, rtol=0, atol=TOL)
        vals = df.loc[df["year"] == year, "v"].tolist()
        np.testing.assert_allclose(d["density"].to_numpy(), _gauss_density_loop(vals, grid, h), rtol=1e-12)


def test_kde_panel_given_grid_and_messages():
    df = _kde_frame()
    out = kde_panel(df, "v", bw=0.25, grid=[0.0, 0.5, 1.0])
    assert out["x"].tolist() == [0.0, 0.5, 1.0, 0.0, 0.5, 1.0]
    vals = df.loc[df["year"] == 2020, "v"].tolist()
    np.testing.assert_allclose(out["density"].iloc[3:].to_numpy(),
                               _gauss_density_loop(vals, [0.0, 0.5, 1.0], 0.25), rtol=1e-12)
    # another time column name is used and kept as the first column
    out2 = kde_panel(df.rename(columns={"year": "t"}), "v", time="t", bw=0.25, grid=[0.5])
    assert out2.columns.tolist() == ["t", "x", "density"] and out2["t"].tolist() == [2010, 2020]
    with pytest.raises(ColumnError, match=r"^columns 'w' and 'year' are needed\.$"):
        kde_panel(df, "w")
    with pytest.raises(ColumnError, match=r"^columns 'v' and 'yr' are needed\.$"):
        kde_panel(df, "v", time="yr")


def test_kde_panel_rejects_a_text_column_naming_it():
    # numbers stored as text were converted silently before; a text column is now an error
    df = _kde_frame().assign(v=lambda d: d["v"].astype(str))
    with pytest.raises(NonNumericError, match=r"^'v' is not numeric \(dtype .*\); convert it with "
                                              r"pd\.to_numeric\(\.\.\.\) first\.$"):
        kde_panel(df, "v")
    # integer and boolean columns are numbers: same densities as their float version
    ints = pd.DataFrame({"year": [1, 1, 1, 2, 2, 2], "v": pd.array([1, 5, 7, 2, 9, 14], dtype="Int64")})
    pd.testing.assert_frame_equal(kde_panel(ints, "v"), kde_panel(ints.astype({"v": float}), "v"))


def test_plot_kde_ridges_default_overlap_is_0_6():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    dens = kde_panel(_kde_frame(), "v", n_grid=20)
    fig = plot_kde_ridges(dens, lang="en")
    try:
        step = dens["density"].max() * (1 - 0.6)
        d = dens[dens["year"] == 2020]
        np.testing.assert_allclose(fig.axes[0].lines[1].get_ydata(), step + d["density"].to_numpy(),
                                   rtol=0, atol=TOL)
        # another time column; the default language is Chinese
        dens_t = kde_panel(_kde_frame().rename(columns={"year": "t"}), "v", time="t", n_grid=20)
        fig_t = plot_kde_ridges(dens_t, time="t")
        ax = fig_t.axes[0]
        assert [t.get_text() for t in ax.texts] == ["2010", "2020"] and len(ax.lines) == 2
        assert ax.get_xlabel() == "数值"
        assert ax.get_title() == f"核密度演进（高斯核，带宽 h = {dens_t.attrs['bandwidth']:.4f}）"
        plt.close(fig_t)
    finally:
        plt.close(fig)


# --- Moran spectral randomization (spatial_null.py) ------------------------------------------------
def _lattice_weights():
    from test_mutation_disparity import _lattice3

    return _lattice3()


def test_subset_weights_lists_eight_unknown_ids_without_an_ellipsis():
    from analysis.disparity.spatial_null import subset_weights
    from analysis.errors import WeightsMatrixError

    sw = _lattice_weights()
    eight = [f"z{i}" for i in range(8)]
    with pytest.raises(WeightsMatrixError, match="^" + re.escape(
            f"8 ids of the data are not in W ({eight}); build W for the same counties "
            "(e.g. analysis.spatial.queen_weights()).") + "$"):
        subset_weights(sw, ["u0", *eight])
    # ids given as numbers are matched as text
    from analysis.spatial import weights_from_matrix

    num = weights_from_matrix(sparse.csr_matrix(sw.base), [str(i) for i in range(9)], kind="queen")
    np.testing.assert_array_equal(subset_weights(num, [4, 0, 8]).toarray(),
                                  [[0.0, 0.5, 0.5], [1.0, 0.0, 0.0], [1.0, 0.0, 0.0]])


def test_mem_basis_same_pattern_other_values_is_not_taken_from_the_cache():
    from analysis.disparity.spatial_null import mem_basis

    # the 3 x 3 queen lattice, binary and row-standardised: same sparsity pattern, other values
    sw = _lattice_weights()
    n = 9
    H = np.eye(n) - 1 / n
    for A in (sparse.csr_matrix(sw.base, dtype=float), sparse.csr_matrix(sw.sparse, dtype=float),
              sparse.csr_matrix(sw.base.toarray().astype(int))):
        lam, U = mem_basis(A)
        D = A.toarray().astype(float)
        S = H @ (D + D.T) / 2 @ H
        np.testing.assert_allclose(U @ np.diag(lam) @ U.T, S, atol=1e-10)  # 1e-10: eigh rounding on 9 x 9
        assert U.shape == (n, n - 1) and list(lam) == sorted(lam, reverse=True)
    # the same W up to rounding noise shares one decomposition (the cache key rounds to 12 decimals)
    A = sparse.csr_matrix(sw.sparse, dtype=float)
    B = A.copy()
    B.data = B.data * (1 + 1e-15)
    assert mem_basis(B) is mem_basis(A)


# --- beta convergence (convergence.py) -------------------------------------------------------------
def _growth_rows(d, entity="county", time="year"):
    """(county, year, growth to the next year, ln level) for consecutive years only, by a loop."""
    ln = np.log(d.set_index([entity, time])["v"])
    rows = []
    for (c, t), v in ln.items():
        if (c, t + 1) in ln.index:
            rows.append((c, t, ln[(c, t + 1)] - v, v))
    return pd.DataFrame(rows, columns=["c", "t", "g", "ln"])


def _dummies_beta(rows, county_fe, year_fe):
    """beta of growth on ln level with county and/or year dummies, by least squares."""
    cols = [rows["ln"].to_numpy(), np.ones(len(rows))]
    if county_fe:
        cols += [(rows["c"] == c).to_numpy(float) for c in sorted(rows["c"].unique())[1:]]
    if year_fe:
        cols += [(rows["t"] == t).to_numpy(float) for t in sorted(rows["t"].unique())[1:]]
    return np.linalg.lstsq(np.column_stack(cols), rows["g"].to_numpy(), rcond=None)[0][0]


def test_beta_panel_fixed_effects_against_dummies_and_renamed_keys():
    from test_mutation_disparity import conv_panel

    d = conv_panel()  # 12 years: no Nickell warning
    rows = _growth_rows(d)
    two_way = beta_convergence(d, "v")  # default: county and year effects, clustered by county
    # 1e-8: the within transformation (pyfixest) against least squares with dummies
    assert two_way.stats["beta"] == pytest.approx(_dummies_beta(rows, True, True), abs=1e-8)
    one_way = beta_convergence(d, "v", fe=("county",))
    assert one_way.stats["beta"] == pytest.approx(_dummies_beta(rows, True, False), abs=1e-8)
    assert two_way.stats["speed"] == pytest.approx(-math.log(1 + two_way.stats["beta"]), rel=1e-12)
    assert two_way.stats["half_life"] == pytest.approx(math.log(2) / two_way.stats["speed"], rel=1e-12)
    assert two_way.cluster == ("county",) and two_way.model == "absolute β-convergence (annual panel)"
    # other key names reach the regression: the same fit under renamed columns
    r = d.rename(columns={"county": "code", "year": "t"})
    renamed = beta_convergence(r, "v", entity="code", time="t", fe=("code", "t"), cluster="code")
    assert renamed.stats["beta"] == pytest.approx(two_way.stats["beta"], abs=1e-12)
    np.testing.assert_allclose(renamed.std_errors.to_numpy(), two_way.std_errors.to_numpy(), rtol=1e-10)
    assert renamed.cluster == ("code",)
    # ... and the renamed entity keys the panel: a repeated code-year is an error, not an extra row
    from analysis.errors import DuplicateKeyError

    with pytest.raises(DuplicateKeyError, match=r"^2 rows share a \(code, t\) key, e\.g\. \(c00, 2005\)"):
        beta_convergence(pd.concat([r, r.iloc[[5]]], ignore_index=True), "v", entity="code", time="t",
                         fe=("code", "t"), cluster="code")
    # with county effects and short T the Nickell warning also names the renamed entity's effect
    with pytest.warns(UserWarning, match=r"^only 5 years"):
        beta_convergence(r[r["t"] < 2005], "v", entity="code", time="t", fe=("code",), cluster=None)


# --- geographical detector (geodetector.py) --------------------------------------------------------
def _geo_lattice():
    from _spatial_support import lattice_weights

    sw = lattice_weights(5, 5)
    rng = np.random.default_rng(11)
    zone = np.repeat(np.arange(5), 5)
    d = pd.DataFrame({"adcode": sw.ids, "zone": zone, "noise": rng.integers(0, 3, 25),
                      "xc": zone * 10 + rng.uniform(size=25)})
    d["y"] = 0.4 * d["zone"] + rng.normal(scale=0.8, size=25)
    return sw, d


REF_GEO = "Wang et al. (2010) IJGIS 24(1): 107-127; CRAN geodetector; p-value: "


def test_geodetector_result_fields_settings_and_references_by_p_value():
    from analysis.disparity import geodetector, msr_q_test
    from analysis.disparity.spatial_null import subset_weights

    sw, d = _geo_lattice()
    res = geodetector(d, "y", ["zone", "noise"], w=sw, n_draws=49, seed=3)  # default id_col "adcode"
    assert res.vcov_type == "randomization" and res.seed == 3 and res.outcome == "y"
    assert res.settings == {"y": "y", "factors": ["zone", "noise"], "pvalue": "msr", "n_perm": 49, "seed": 3}
    assert res.stats == {"N": 25} and res.statistic_name == "F"
    # q has no standard error: a float NaN per factor (not None), and no interval
    assert res.std_errors.dtype == np.float64 and res.std_errors.isna().all()
    assert res.std_errors.index.tolist() == ["zone", "noise"]
    tidy = res.to_frame()
    assert tidy["std_error"].dtype == np.float64 and tidy[["std_error", "ci_low", "ci_high"]].isna().all().all()
    assert res.model == "Geographical detector (factor, interaction, risk, ecological)"
    assert res.reference == REF_GEO + ("Moran spectral randomization, Wagner and Dray (2015) MEE 6: 1169-1178 "
                                       "(adespatial::msr)")
    # p = (1 + #{q* >= q}) / (B + 1) with the draws of msr_q_test under the same seed
    W = subset_weights(sw, d["adcode"].tolist())
    q_obs, q_null = msr_q_test(d["y"].to_numpy(), [d["zone"].to_numpy(), d["noise"].to_numpy()], W, 49, 3)
    want = [(1 + int(np.sum(q_null[j] >= q_obs[j] - 1e-12))) / 50 for j in range(2)]
    assert res.factor["p_value"].tolist() == want
    assert res.factor.attrs["n_perm"] == 49
    for pv, ref in (("anova", "one-way ANOVA F (independent units)"),
                    ("geodetector_compat", "CRAN geodetector noncentral F (compatibility only)")):
        r = geodetector(d, "y", ["zone", "noise"], pvalue=pv)
        assert r.vcov_type == "iid" and r.seed is None and r.reference == REF_GEO + ref
        assert r.settings["n_perm"] is None and r.factor.attrs["n_perm"] is None
    # a seed that is not an integer (a Generator) is kept in settings, not as the result's seed
    gen = np.random.default_rng(0)
    assert geodetector(d, "y", ["zone"], w=sw, n_draws=9, seed=gen).seed is None


def test_geodetector_input_messages_in_full():
    from analysis.disparity import factor_detector, opgd
    from analysis.errors import SpecificationError

    sw, d = _geo_lattice()
    with pytest.raises(SpecificationError, match="^" + re.escape(
            "pvalue='exact' is not one of 'msr', 'anova', 'geodetector_compat'.") + "$"):
        factor_detector(d, "y", ["zone"], pvalue="exact")
    with pytest.raises(SpecificationError, match="^" + re.escape(
            "the default p-value (pvalue='msr', Moran spectral randomization) needs the spatial weights: "
            "pass w=analysis.spatial.queen_weights() and id_col (the county id column). Counties are "
            "spatially autocorrelated, so the one-way ANOVA p-value (pvalue='anova', independent units) "
            "over-rejects; choose it explicitly only for non-spatial units.") + "$"):
        factor_detector(d, "y", ["zone"])
    with pytest.raises(ColumnError, match="^" + re.escape(
            "id column 'code' is not in the data; it links rows to the units of w.") + "$"):
        factor_detector(d, "y", ["zone"], w=sw, id_col="code")
    with pytest.raises(SpecificationError, match="^" + re.escape(
            "pvalue='geodetector_compat' is not one of 'msr', 'anova'.") + "$"):
        opgd(d, "y", ["xc"], pvalue="geodetector_compat")
    with pytest.raises(SpecificationError, match="^" + re.escape(
            "methods='jenks' is not one of 'quantile', 'equal', 'natural', 'sd'.") + "$"):
        opgd(d, "y", ["xc"], methods=("natural", "jenks"), pvalue="anova")
    with pytest.raises(ColumnError, match="^" + re.escape("columns ['x2'] are not in the data.") + "$"):
        opgd(d, "y", ["xc", "x2"], pvalue="anova")
    with pytest.raises(SpecificationError, match="^" + re.escape(
            "factor 'c': no discretisation gives at least 2 classes.") + "$"):
        opgd(d.assign(c=1.0), "y", ["c"], pvalue="anova", methods=("equal",), k=[3])


def test_opgd_defaults_columns_rows_and_settings():
    from test_geodetector_spatial import _q

    from analysis.disparity import discretize, opgd

    sw, d = _geo_lattice()
    d.loc[3, "y"] = np.nan  # one row without y: used 24 of 25, reported
    res = opgd(d, "y", ["xc"], w=sw, seed=1)  # default draws, methods and class counts
    assert res.settings == {"y": "y", "factors": ["xc"], "pvalue": "msr", "methods": ["equal", "natural", "quantile"],
                            "k": [3, 4, 5, 6, 7], "n_perm": 999, "seed": 1}
    assert (res.rows.n_input, res.rows.n_used, res.rows.dropped) == (25, 24, {"missing y or factor": 1})
    f = res.factor
    assert f.columns.tolist() == ["factor", "method", "k", "q", "strata", "F", "p_value", "p_anova", "n_candidates"]
    assert f["n_candidates"].tolist() == [15] and res.candidates.shape == (15, 4)
    assert res.candidates.columns.tolist() == ["factor", "method", "k", "q"]
    best = res.candidates.loc[res.candidates["q"].idxmax()]
    assert (f["method"].iloc[0], f["k"].iloc[0]) == (best["method"], best["k"])
    keep = d["y"].notna().to_numpy()
    codes = discretize(d.loc[keep, "xc"], best["method"], int(best["k"]))
    assert f["q"].iloc[0] == pytest.approx(_q(d.loc[keep, "y"].to_numpy(), codes), abs=1e-12)  # rounding
    assert len(np.unique(codes)) == f["strata"].iloc[0]
    assert res.reference.startswith("Song et al. (2020) GIScience & Remote Sensing 57(5): 593-610 (OPGD, "
                                    "R GD::optidisc); " + REF_GEO)
    assert res.model == "Optimal-parameters geographical detector (OPGD)" and res.vcov_type == "randomization"


# --- indicator systems (indicators/system.py) ------------------------------------------------------
def test_system_meta_holds_only_unknown_top_level_keys_and_subset_keeps_them():
    from test_mutation_indicators import _ind, _sub

    from analysis.indicators.system import system_from_dict

    subs = [_sub("s1", _ind("a", unit=None)), _sub("s2", _ind("b", unit="元"))]
    s = system_from_dict({"name": "n", "label": "L", "label_zh": "中", "source": "paper (2020)",
                          "subsystems": subs, "year": 2020, "note": {"x": 1}})
    assert dict(s.meta) == {"year": 2020, "note": {"x": 1}}
    assert (s.name, s.label, s.label_zh, s.source) == ("n", "L", "中", "paper (2020)")
    assert [i.unit for i in s.indicators] == ["", "元"]  # a unit given as null is empty text
    alias = system_from_dict({"dimensions": subs, "source": None, "extra": True})
    assert dict(alias.meta) == {"extra": True} and alias.source == ""
    # a subset is the same system (name, labels, source, meta) with fewer subsystems
    sub = s.subset(["s2"])
    assert (sub.name, sub.label, sub.label_zh, sub.source, dict(sub.meta)) == (
        "n", "L", "中", "paper (2020)", {"year": 2020, "note": {"x": 1}})
    assert sub.columns == ["b"] and sub.subsystem_keys == ["s2"]


# --- composite index (indicators/index.py) ---------------------------------------------------------
def test_build_index_option_messages_in_full():
    from test_mutation_indicators import SYS2, panel4

    from analysis.errors import SpecificationError
    from analysis.indicators import build_index

    d = panel4()
    cases = (
        ("scope", "all", "'pooled', 'year'"),
        ("method", "ahp", "'weighted_sum', 'topsis'"),
        ("missing", "fill", "'raise', 'interpolate', 'drop'"),
        ("combine", "sum", "'linear', 'multiplicative', 'game'"),
        ("topsis_variant", "x", "'minmax', 'vector'"),
        ("weights", "pca", "'entropy', 'critic', 'cv', 'equal', 'fixed'"),
    )
    for opt, val, allowed in cases:
        with pytest.raises(SpecificationError, match="^" + re.escape(f"{opt}={val!r} is not one of {allowed}.") + "$"):
            build_index(d, SYS2, **{opt: val})
    res = build_index(d, SYS2)
    with pytest.raises(SpecificationError, match="^" + re.escape("lang='fr' is not one of 'zh', 'en'.") + "$"):
        res.weights_table("fr")
    with pytest.raises(SpecificationError, match="^" + re.escape(
            "transform() needs scope='pooled' and min-max normalization.") + "$"):
        build_index(d, SYS2, method="topsis", topsis_variant="vector").transform(d)


def test_bandwidth_with_zero_iqr_falls_back_to_the_sd_as_statsmodels():
    from statsmodels.nonparametric.bandwidths import bw_scott, bw_silverman

    from analysis.disparity import bandwidth

    x = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 5.0])  # IQR 0, SD > 0: A = SD, not min(SD, 0) = 0
    sd = float(np.std(x, ddof=1))
    assert bandwidth(x) == pytest.approx(0.9 * sd * 7 ** -0.2, rel=1e-13)  # rounding of a few products
    assert bandwidth(x) == pytest.approx(float(bw_silverman(x)), rel=1e-12)
    assert bandwidth(x, "scott") == pytest.approx(float(bw_scott(x)), rel=1e-12)
