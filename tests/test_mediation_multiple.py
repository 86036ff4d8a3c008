"""Parallel and serial mediation with FE: statsmodels OLS with explicit dummies and an own bootstrap
loop on the same draws (independent implementation), recovery of a simulated truth, warnings."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from analysis.errors import SpecificationError
from analysis.regression import mediation, multiple_mediation

A1, A2, D21, B1, B2, CP = 0.8, 0.3, 0.5, 0.6, 0.4, 0.2


def _panel(seed=0, n=30, T=6, noise=1.0):
    rng = np.random.default_rng(seed)
    cty = np.repeat(np.arange(n), T)
    yr = np.tile(np.arange(2015, 2015 + T), n)
    adopt = rng.choice([2017, 2018, 9999], size=n)[cty]
    x = (yr >= adopt).astype(float)
    ai, lt = rng.normal(size=n)[cty], rng.normal(size=T)[yr - 2015]
    w = rng.normal(size=n * T)
    m1 = A1 * x + 0.5 * ai + lt + 0.3 * w + noise * rng.normal(size=n * T)
    m2 = A2 * x + D21 * m1 + ai - lt + noise * rng.normal(size=n * T)
    y = CP * x + B1 * m1 + B2 * m2 + ai + 0.5 * lt + 0.2 * w + noise * rng.normal(size=n * T)
    return pd.DataFrame(dict(county=cty, year=yr, x=x, m1=m1, m2=m2, y=y, w=w))


def _ols_dummies(df, dep, regs):
    X = pd.concat([df[regs], pd.get_dummies(df["county"], prefix="c", dtype=float),
                   pd.get_dummies(df["year"], prefix="t", drop_first=True, dtype=float)], axis=1)
    return sm.OLS(df[dep].to_numpy(float), X.to_numpy(float)).fit().params[: len(regs)]


def _effects(df, model):
    c = _ols_dummies(df, "y", ["x", "w"])[0]
    a1 = _ols_dummies(df, "m1", ["x", "w"])[0]
    if model == "serial":
        a2, d = _ols_dummies(df, "m2", ["x", "m1", "w"])[:2]
    else:
        a2, d = _ols_dummies(df, "m2", ["x", "w"])[0], 0.0
    cp, b1, b2 = _ols_dummies(df, "y", ["x", "m1", "m2", "w"])[:3]
    return {"total": c, "direct": cp, "ind: x->m1->y": a1 * b1, "ind: x->m2->y": a2 * b2,
            "ind: x->m1->m2->y": a1 * d * b2}


@pytest.mark.parametrize("model", ["parallel", "serial"])
def test_matches_statsmodels_dummies_and_own_bootstrap(model):
    df = _panel()
    r = multiple_mediation(df, "y", "x", ["m1", "m2"], model=model, controls=["w"], n_draws=50, seed=11)
    ref = _effects(df, model)
    for k in ["total", "direct", "ind: x->m1->y", "ind: x->m2->y"]:
        assert abs(r.params[k] - ref[k]) < 1e-9, k
    if model == "serial":
        assert abs(r.params["ind: x->m1->m2->y"] - ref["ind: x->m1->m2->y"]) < 1e-9
    else:
        assert "ind: x->m1->m2->y" not in r.params.index
    assert abs(r.stats["identity_gap"]) < 1e-10
    # own bootstrap loop on the same draws: each copy of a county becomes its own unit (idcluster)
    G = df["county"].nunique()
    K = np.random.default_rng(11).multinomial(G, np.full(G, 1 / G), size=50)
    ids = np.sort(df["county"].unique())
    own = []
    for row in K[:12]:  # 12 draws keep the test fast; they must equal the first 12 of the 50
        parts = []
        for g, times in zip(ids, row):
            for copy in range(times):
                parts.append(df[df["county"] == g].assign(county=f"{g}_{copy}"))
        own.append(_effects(pd.concat(parts, ignore_index=True), model))
    own = pd.DataFrame(own)
    for k in own.columns:
        if k in r.boot.columns:
            assert np.max(np.abs(own[k].to_numpy() - r.boot[k].to_numpy()[:12])) < 1e-8, k
    # SE is the SD of the 50 draws
    assert abs(r.std_errors["total_indirect"] - r.boot["total_indirect"].std(ddof=1)) < 1e-12


def test_single_mediator_case_agrees_with_existing_mediation():
    df = _panel(seed=2)
    one = mediation(df, "y", "x", "m1", controls=["w", "m2"], n_draws=0)
    two = multiple_mediation(df, "y", "x", ["m1", "m2"], controls=["w"], n_draws=50, seed=0)
    # total effects agree only when m2 is not a control; a-path of m1 agrees (same equation)
    assert abs(two.params["a[m1]"] - _ols_dummies(df, "m1", ["x", "w"])[0]) < 1e-9
    assert abs(one.params["b"] - two.params["b[m1]"]) < 1e-9  # y on x, m1, m2, w in both


def test_recovers_simulated_serial_truth():
    """Mean over 20 panels of 200 counties x 6 years within 4 Monte Carlo SEs (SD/sqrt(20), 0.006-0.03
    here) of each true path effect; percentile CIs of the chain effect cover the truth at least 17 times
    in 20."""
    truth = {"ind: x->m1->y": A1 * B1, "ind: x->m2->y": A2 * B2, "ind: x->m1->m2->y": A1 * D21 * B2,
             "direct": CP, "total": CP + A1 * B1 + A2 * B2 + A1 * D21 * B2}
    est, cover = [], 0
    for s in range(20):
        r = multiple_mediation(_panel(seed=100 + s, n=200), "y", "x", ["m1", "m2"], model="serial",
                               controls=["w"], n_draws=200, seed=s)
        est.append(r.params)
        t = r.table().set_index("path")
        cover += t.loc["ind: x->m1->m2->y", "boot_ci_low"] <= truth["ind: x->m1->m2->y"] <= \
            t.loc["ind: x->m1->m2->y", "boot_ci_high"]
    frame = pd.DataFrame(est)
    mean, mcse = frame.mean(), frame.std(ddof=1) / np.sqrt(len(frame))
    for k, v in truth.items():
        assert abs(mean[k] - v) < 4 * mcse[k], (k, mean[k], v, mcse[k])
    assert cover >= 17


def test_warnings_printed_beside_numbers_and_total_first():
    r = multiple_mediation(_panel(), "y", "x", ["m1", "m2"], model="serial", n_draws=50, seed=1)
    text = r.summary()
    assert "Imai, Keele and Tingley 2010" in text and "Hayes" in text and "Report the total effect first" in text
    assert r.to_frame()["term"].iloc[0] == "total"


def test_bad_input():
    df = _panel()
    with pytest.raises(SpecificationError, match="two or more"):
        multiple_mediation(df, "y", "x", ["m1"])
    with pytest.raises(SpecificationError):
        multiple_mediation(df, "y", "x", ["m1", "m2"], model="chain-ish")
    with pytest.raises(SpecificationError, match="n_boot"):
        multiple_mediation(df, "y", "x", ["m1", "m2"], n_draws=10)


def test_shared_argument_checks_of_both_estimators():
    """mediation() and multiple_mediation() check their arguments in one helper: same errors, same y expressions."""
    df = _panel()
    for call in (lambda **k: mediation(df, "y", "x", "m1", n_draws=0, **k),
                 lambda **k: multiple_mediation(df, "y", "x", ["m1", "m2"], n_draws=50, seed=1, **k)):
        with pytest.raises(SpecificationError, match="resamples one cluster variable"):
            call(cluster=["county", "year"])
    with pytest.raises(SpecificationError, match="must be distinct"):
        mediation(df, "y", "x", "x", n_draws=0)
    with pytest.raises(SpecificationError, match="must be distinct"):
        multiple_mediation(df, "y", "x", ["m1", "m1"], n_draws=50)
    with pytest.raises(SpecificationError, match="could not evaluate the outcome"):
        multiple_mediation(df, "np.log(nope)", "x", ["m1", "m2"], n_draws=50)
    # an outcome expression works in both, and equals the precomputed column
    dfe = df.assign(y=df["y"] + 10.0, ly=np.log(df["y"] + 10.0))
    by_expr = multiple_mediation(dfe, "np.log(y)", "x", ["m1", "m2"], controls=["w"], n_draws=50, seed=2)
    by_col = multiple_mediation(dfe, "ly", "x", ["m1", "m2"], controls=["w"], n_draws=50, seed=2)
    np.testing.assert_allclose(by_expr.params.to_numpy(), by_col.params.to_numpy(), rtol=1e-12)
    assert by_expr.outcome == "np.log(y)" and any("np.log(y)" in t for t in by_expr.params.index)
    one = mediation(dfe, "np.log(y)", "x", "m1", controls=["w"], n_draws=0)
    assert one.params["total"] == pytest.approx(by_expr.params["total"], rel=1e-12)
