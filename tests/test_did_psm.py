"""PSM-DID: matching against a brute-force matcher, hypothesis properties, balance, DiD vs pyfixest."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _did_synth import staggered_panel
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.did import psm_did
from analysis.did.psm import balance_table, match_on_score
from analysis.errors import ConstantColumnError, SpecificationError, TreatmentTimingError


def brute_force(pt, pc, method, k=1, caliper=None, replacement=True, bandwidth=0.06, seed=0):
    """Loop-by-loop psmatch2 rules, written independently of the vectorised engine."""
    rng = np.random.default_rng(seed)
    corder = rng.permutation(len(pc))  # same tie-break order convention as the engine
    pairs = []
    if method == "nearest" and not replacement:
        used = set()
        for i in rng.permutation(len(pt)):
            best, bestd = None, np.inf
            for j in corder:
                dist = abs(pt[i] - pc[j])
                if j not in used and dist < bestd:
                    best, bestd = j, dist
            if best is not None and (caliper is None or bestd <= caliper):
                used.add(best)
                pairs.append((i, best, 1.0))
        return pairs
    for i in range(len(pt)):
        dists = [(abs(pt[i] - pc[j]), pos, j) for pos, j in enumerate(corder)]
        if method == "nearest":
            chosen = [(d, j) for d, _, j in sorted(dists)[:k] if caliper is None or d <= caliper]
            pairs += [(i, j, 1.0 / len(chosen)) for d, j in chosen]
        elif method == "radius":
            chosen = [j for d, _, j in dists if d <= caliper]
            pairs += [(i, j, 1.0 / len(chosen)) for j in chosen]
        else:
            kern = {j: 0.75 * (1 - (d / bandwidth) ** 2) for d, _, j in dists if d / bandwidth < 1}
            tot = sum(kern.values())
            pairs += [(i, j, w / tot) for j, w in kern.items()]
    return pairs


def as_frame(pairs):
    return pd.DataFrame(pairs, columns=["treated", "control", "weight"]).sort_values(["treated", "control"]).reset_index(drop=True)


@pytest.mark.parametrize(
    "method,kw",
    [("nearest", {}), ("nearest", {"k": 3}), ("nearest", {"k": 2, "caliper": 0.01}),
     ("nearest", {"replacement": False}), ("nearest", {"replacement": False, "caliper": 0.005}),
     ("radius", {"caliper": 0.02}), ("kernel", {}), ("kernel", {"bandwidth": 0.1})],
)
def test_matching_equals_brute_force(method, kw):
    rng = np.random.default_rng(42)
    pt, pc = rng.beta(3, 2, size=40), rng.beta(2, 3, size=150)
    ours = match_on_score(pt, pc, method=method, seed=7, **kw)
    ref = as_frame(brute_force(pt, pc, method, seed=7, **kw))
    got = ours[["treated", "control", "weight"]].sort_values(["treated", "control"]).reset_index(drop=True)
    assert len(got) == len(ref) > 0
    assert (got[["treated", "control"]].to_numpy() == ref[["treated", "control"]].to_numpy()).all()
    assert np.max(np.abs(got["weight"].to_numpy() - ref["weight"].to_numpy())) < 1e-12


scores = st.lists(st.floats(0.001, 0.999, allow_nan=False), min_size=1, max_size=25, unique=True)


@settings(max_examples=60, deadline=None)
@given(pt=scores, pc=scores, k=st.integers(1, 4), seed=st.integers(0, 10_000))
def test_nearest_with_replacement_properties(pt, pc, k, seed):
    m = match_on_score(np.array(pt), np.array(pc), "nearest", k=k, seed=seed)
    assert m.groupby("treated").size().eq(min(k, len(pc))).all() and m["treated"].nunique() == len(pt)
    assert np.allclose(m.groupby("treated")["weight"].sum(), 1.0)
    pc_arr = np.array(pc)
    for i, grp in m.groupby("treated"):
        kth = np.sort(np.abs(pt[i] - pc_arr))[min(k, len(pc)) - 1]
        assert (grp["distance"] <= kth + 1e-15).all()


@settings(max_examples=60, deadline=None)
@given(pt=scores, pc=scores, cal=st.floats(0.0, 0.5), seed=st.integers(0, 10_000))
def test_caliper_and_replacement_properties(pt, pc, cal, seed):
    pt, pc = np.array(pt), np.array(pc)
    narrow = match_on_score(pt, pc, "nearest", caliper=cal, seed=seed)
    wide = match_on_score(pt, pc, "nearest", caliper=cal + 0.1, seed=seed)
    assert narrow["treated"].nunique() <= wide["treated"].nunique()
    assert (narrow["distance"] <= cal).all()
    norepl = match_on_score(pt, pc, "nearest", replacement=False, caliper=cal, seed=seed)
    assert norepl["control"].is_unique and norepl["treated"].is_unique
    assert len(norepl) <= min(len(pt), len(pc))
    radius = match_on_score(pt, pc, "radius", caliper=cal, seed=seed)
    n_within = (np.abs(pt[:, None] - pc[None, :]) <= cal).sum()
    assert len(radius) == n_within


def test_balance_table_standardized_bias():
    rng = np.random.default_rng(0)
    X = pd.DataFrame({"a": rng.normal(size=200), "b": rng.normal(size=200)})
    g = (rng.random(200) < 0.3).astype(int)
    X.loc[g == 1, "a"] += 1.0
    tab = balance_table(X, g, np.ones(200)).set_index("covariate")
    a, ga = X["a"].to_numpy(), g.astype(bool)
    expect = 100 * (a[ga].mean() - a[~ga].mean()) / np.sqrt((a[ga].var(ddof=1) + a[~ga].var(ddof=1)) / 2)
    assert tab.loc["a", "bias_U"] == pytest.approx(expect, rel=1e-12)
    assert tab.loc["a", "bias_M"] == pytest.approx(expect, rel=1e-12)  # all weights 1: same as unmatched
    assert tab.loc["a", "t_M"] == pytest.approx(tab.loc["a", "t_U"], rel=1e-10)  # iw-regression t = pooled t-test


def test_psm_did_pooled_matches_pyfixest_and_reports_rows():
    import pyfixest as pf

    d = staggered_panel(n_units=300, seed=1)
    res = psm_did(d, "y", "treat", ["x1", "x2"], method="nearest", k=1, caliper=0.05, seed=3, controls=["x2"])
    matched = res.scores.loc[res.scores["matched"], "county"]
    dd = d[d["county"].isin(matched)]
    m = pf.feols("y ~ treat + x2 | county + year", dd, vcov={"CRV1": "county"})
    assert abs(res.params["did"] - m.coef()["treat"]) < 1e-10
    assert res.rows.n_used == len(dd) and res.rows.n_input == len(d)
    assert res.rows.n_used + res.rows.n_dropped == len(d)
    assert res.balance.set_index("covariate").loc["x1", "bias_U"] > 50  # x1 drives selection
    assert abs(res.balance.set_index("covariate").loc["x1", "bias_M"]) < abs(res.balance.set_index("covariate").loc["x1", "bias_U"])
    assert abs(res.params["did"] - 0.5) < 4 * res.std_errors["did"]
    w = res.scores.set_index("county")["weight"]
    n_t = int(((res.scores["group"] == 1) & res.scores["matched"]).sum())
    assert w[res.scores.set_index("county")["group"] == 0].sum() == pytest.approx(n_t)
    again = psm_did(d, "y", "treat", ["x1", "x2"], method="nearest", k=1, caliper=0.05, seed=3, controls=["x2"])
    assert again.params.equals(res.params)
    for lang in ("zh", "en"):
        assert res.plot_density(lang).axes and res.plot_balance(lang).axes


@pytest.mark.parametrize("method,kw", [("radius", {"caliper": 0.02}), ("kernel", {}), ("nearest", {"replacement": False})])
def test_psm_did_weighted_and_by_year(method, kw):
    import pyfixest as pf

    d = staggered_panel(n_units=200, seed=2)
    res = psm_did(d, "y", "treat", ["x1"], method=method, did_weights=True, seed=1, **kw)
    sc = res.scores.loc[res.scores["matched"], ["county", "weight"]]
    dd = d.merge(sc, on="county")
    m = pf.feols("y ~ treat | county + year", dd, weights="weight", vcov={"CRV1": "county"}, fixef_tol=1e-12)
    assert abs(res.params["did"] - m.coef()["treat"]) < 1e-8
    by = psm_did(d, "y", "treat", ["x1", "x2"], method=method, by_year=True, seed=1, **kw)
    assert set(by.logit.index) == set(range(2010, 2021))
    assert by.rows.n_used == int(by.scores["matched"].sum())


def test_psm_did_errors():
    d = staggered_panel(n_units=60, seed=3)
    with pytest.raises(SpecificationError, match="radius matching needs caliper"):
        psm_did(d, "y", "treat", ["x1"], method="radius")
    with pytest.raises(SpecificationError):
        psm_did(d, "y", "treat", ["x1"], method="mahalanobis")
    d2 = d.assign(const=1.0)
    with pytest.raises(ConstantColumnError):
        psm_did(d2, "y", "treat", ["x1", "const"])
    d3 = d.copy()
    d3.loc[d3["adoption"].notna(), "adoption"] = 2010
    d3["treat"] = d3["adoption"].notna().astype(int)
    with pytest.raises(TreatmentTimingError):
        psm_did(d3, "y", "treat", ["x1"])


def _wls_with_dummies(dd, y, w):
    """Independent implementation: statsmodels WLS of y on the DiD dummy and full county and year dummies."""
    import statsmodels.api as sm

    X = pd.concat([dd[["treat"]].astype(float),
                   pd.get_dummies(dd["county"], prefix="c", dtype=float),
                   pd.get_dummies(dd["year"], prefix="t", drop_first=True, dtype=float)], axis=1)
    return float(sm.WLS(dd[y].to_numpy(dtype=float), X, weights=w).fit().params["treat"])


@pytest.mark.parametrize("method,kw", [("kernel", {}), ("radius", {"caliper": 0.03})])
def test_kernel_and_radius_use_matching_weights_by_default(method, kw):
    # Default DiD of kernel/radius matching = WLS with psmatch2 _weight and explicit FE dummies
    # (statsmodels, no absorption): 1e-8 allows for the dummy regression's rounding on 40 units x 11 years.
    d = staggered_panel(n_units=40, seed=4)
    res = psm_did(d, "y", "treat", ["x1"], method=method, seed=2, **kw)
    assert "_weight" in res.settings["DiD weights"]
    sc = res.scores.loc[res.scores["matched"], ["county", "weight"]]
    dd = d.merge(sc, on="county")
    assert sc["weight"].nunique() > 1  # the weights are not all equal, so weighting matters
    wls = _wls_with_dummies(dd, "y", dd["weight"].to_numpy())
    assert abs(res.params["did"] - wls) < 1e-8
    ols = _wls_with_dummies(dd, "y", np.ones(len(dd)))
    assert abs(wls - ols) > 1e-6  # the weighted estimate is not the unweighted one on the same rows
    off = psm_did(d, "y", "treat", ["x1"], method=method, seed=2, did_weights=False, **kw)
    assert abs(off.params["did"] - ols) < 1e-8
    near = psm_did(d, "y", "treat", ["x1"], method="nearest", seed=2)
    assert "none" in near.settings["DiD weights"]  # nearest neighbour keeps the unweighted default


def test_kernel_psm_did_differs_from_twfe_on_shipped_panel():
    # Issue 14: the kernel row equalled plain TWFE to every digit because the weights were off.
    from analysis.datasets import load_county_panel
    from analysis.regression import fe

    p = load_county_panel()
    p["log_rural_income"] = np.log(p["rural_income"])
    p["log_gdp_pc"] = np.log(p["gdp_pc"])
    p["D"] = p["land_reform"].astype(int)
    cov = ["log_gdp_pc", "urbanization_rate", "nonagri_share", "fiscal_selfsuff"]
    res = psm_did(p, "log_rural_income", "D", cov, adoption="land_reform_year", method="kernel", seed=1)
    twfe = fe("log_rural_income ~ D", p)
    gap = abs(res.params["did"] - twfe.params["D"])
    assert gap > 1e-4 * abs(twfe.params["D"])  # clearly different, not rounding
    unweighted = psm_did(p, "log_rural_income", "D", cov, adoption="land_reform_year", method="kernel", seed=1,
                         did_weights=False)
    assert abs(unweighted.params["did"] - res.params["did"]) > 1e-4 * abs(twfe.params["D"])
def test_psm_did_standard_error_by_hand():
    """Issue 15: the PSM-DID SE was never checked. Independent computation on the matched sample:
    dummy-variable OLS (numpy lstsq), Frisch-Waugh residualised regressors, CRV1 by county with
    reghdfe's factor G/(G-1)(N-1)/(N-K), K = 2 regressors + (T - 1) year effects (county effects are
    nested in the clusters and not counted)."""
    d = staggered_panel(n_units=300, seed=1)
    res = psm_did(d, "y", "treat", ["x1", "x2"], method="nearest", k=1, caliper=0.05, seed=3, controls=["x2"])
    matched = res.scores.loc[res.scores["matched"], "county"]
    dd = d[d["county"].isin(matched)].reset_index(drop=True)
    D = pd.get_dummies(dd["county"], dtype=float).to_numpy()
    Y = pd.get_dummies(dd["year"], dtype=float).to_numpy()[:, 1:]
    Z = np.column_stack([D, Y])
    X = dd[["treat", "x2"]].to_numpy(float)
    resid = lambda v: v - Z @ np.linalg.lstsq(Z, v, rcond=None)[0]  # noqa: E731
    Xt, yt = resid(X), resid(dd["y"].to_numpy(float))
    b = np.linalg.solve(Xt.T @ Xt, Xt.T @ yt)
    u = yt - Xt @ b
    codes = pd.factorize(dd["county"])[0]
    G, N, T = codes.max() + 1, len(dd), dd["year"].nunique()
    S = np.zeros((G, 2))
    np.add.at(S, codes, Xt * u[:, None])
    bread = np.linalg.inv(Xt.T @ Xt)
    K = 2 + (T - 1)
    V = G / (G - 1) * (N - 1) / (N - K) * bread @ S.T @ S @ bread
    assert res.params["did"] == pytest.approx(b[0], abs=1e-10)  # 1e-10: same OLS, rounding only
    assert res.std_errors["did"] == pytest.approx(np.sqrt(V[0, 0]), rel=1e-8)
    assert res.std_errors["x2"] == pytest.approx(np.sqrt(V[1, 1]), rel=1e-8)
    assert res.df_resid == G - 1  # t(G-1) inference, as reghdfe
