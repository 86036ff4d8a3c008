"""Issue 15 (mutation coverage), wave 6: tests for the survivors of the seed-20261209 samples of the
DiD design modules (psm, placebo, synthetic_did, did_compare, bacon, long_difference) and for the
rest of the same class in the same function (every settings key, every stats key, every option).

Each test calls the estimator itself (no module-scoped fixture): mutmut maps a test to the functions
it calls while it runs, so a test that only reads a fixture built by another test is never run
against that function's mutants. Expected values come from the definition, computed here
independently (dummy-variable least squares with numpy, explicit loops), tolerances written next to
them with their reason. The review of every survivor is in ``tests/README.md`` (mutation section).
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from _did_synth import staggered_panel  # noqa: E402


def _dummy_wls(y, X, unit, period, w=None):
    """(Weighted) least squares of y on X + unit dummies + period dummies (numpy lstsq): X's coefficients."""
    U = pd.get_dummies(pd.Series(unit), dtype=float).to_numpy()
    T = pd.get_dummies(pd.Series(period), dtype=float).to_numpy()[:, 1:]
    Z = np.column_stack([X, U, T])
    sw = np.ones(len(y)) if w is None else np.sqrt(np.asarray(w, dtype=float))
    beta = np.linalg.lstsq(Z * sw[:, None], np.asarray(y, dtype=float) * sw, rcond=None)[0]
    return beta[: X.shape[1]]


# --------------------------------------------------------------------------------------------
# PSM-DID
# --------------------------------------------------------------------------------------------
def test_psm_nearest_options_reach_the_fit_and_every_settings_and_stats_key():
    """Nearest 1:2 with caliper, no common support, a control and another cluster column: the DiD is the
    unweighted dummy regression on the rows of the matched units (numpy lstsq, 1e-8: lstsq vs
    demeaning rounding); every settings and stats key and the result fields by definition."""
    from analysis.did import psm_did

    d = staggered_panel(n_units=80, seed=5)
    res = psm_did(d, "y", "treat", ["x1"], method="nearest", k=2, caliper=0.05, common=False,
                  controls=["x2"], cluster="province", seed=3)
    s = res.scores
    first = int(d["adoption"].min())
    st = res.settings
    assert st == {
        "y": "y", "treat": "treat", "covariates": ["x1"], "method": "nearest", "k": 2, "caliper": 0.05,
        "replacement": True, "matching": f"pooled, covariates averaged over years < {first}",
        "common support": False, "kernel": None, "DiD weights": "none (rows of matched units)",
        "fixed effects": "county + year", "controls": ["x2"], "seed": 3,
        "se": "CRV1 clustered by province, reghdfe small-sample factor",
    }
    assert res.model == "PSM-DID (psmatch2 + reghdfe)"
    assert res.reference == ("psmatch2 (Leuven and Sianesi 2003) + reghdfe; pstest standardized bias "
                             "(Rosenbaum and Rubin 1985)")
    assert res.outcome == "y" and res.fixed_effects == ("county", "year") and res.vcov_type == "cluster"
    assert res.cluster == ("province",) and res.seed == 3
    used = d[d["county"].isin(s.loc[s["matched"], "county"])]
    assert res.n_clusters == res.stats["clusters"] == used["province"].nunique()
    assert res.stats["N"] == res.rows.n_used == len(used)
    assert res.stats["treated matched"] == int(((s["group"] == 1) & s["matched"]).sum()) > 0
    assert res.stats["treated off support"] == 0 and s["on_support"].all()  # common=False
    assert res.stats["controls matched"] == int(((s["group"] == 0) & s["matched"]).sum()) > 0
    # caliper 0.05 leaves some treated units unmatched: their rows are reported, not dropped silently
    n_unmatched_t = int(((s["group"] == 1) & ~s["matched"]).sum())
    assert n_unmatched_t > 0
    assert res.rows.dropped["county not matched"] == len(d) - len(used)
    did = (used["treat"]).to_numpy(dtype=float)
    beta = _dummy_wls(used["y"].to_numpy(), np.column_stack([did, used["x2"]]), used["county"], used["year"])
    assert res.params["did"] == pytest.approx(beta[0], abs=1e-8)
    assert res.params["x2"] == pytest.approx(beta[1], abs=1e-8)


def test_psm_by_year_radius_weighted_did_and_generator_seed():
    """Year-by-year radius matching: the DiD is weighted by psmatch2 _weight of each unit-year
    (numpy weighted lstsq, 1e-8); settings say so; a Generator seed is reported as "Generator"."""
    from analysis.did import psm_did

    d = staggered_panel(n_units=80, seed=5)
    res = psm_did(d, "y", "treat", ["x1", "x2"], method="radius", caliper=0.1, by_year=True,
                  seed=np.random.default_rng(2))
    st = res.settings
    assert st["matching"] == "year by year" and st["replacement"] == "n/a" and st["kernel"] is None
    assert st["DiD weights"] == "psmatch2 _weight" and st["seed"] == "Generator" and res.seed is None
    assert st["method"] == "radius" and st["caliper"] == 0.1 and st["common support"] is True
    s = res.scores
    assert sorted(res.logit.index) == sorted(int(t) for t in d["year"].unique())
    key = s.loc[s["matched"], ["county", "year", "weight"]]
    used = d.merge(key, on=["county", "year"], how="inner")
    assert res.rows.n_used == len(used) == res.stats["N"]
    beta = _dummy_wls(used["y"].to_numpy(), used[["treat"]].to_numpy(dtype=float), used["county"], used["year"],
                      w=used["weight"])
    assert res.params["did"] == pytest.approx(beta[0], abs=1e-8)
    assert res.stats["treated off support"] == int(((s["group"] == 1) & ~s["on_support"]).sum())


def test_psm_density_plot_skips_a_group_whose_scores_do_not_vary():
    """A group with one score repeated has no density (gaussian_kde of a constant is singular): that
    curve is left out and the other drawn, in both panels."""
    from analysis.did.psm import PSMDiDResult

    scores = pd.DataFrame({"group": [1, 1, 1, 0, 0, 0], "pscore": [0.2, 0.5, 0.7, 0.25, 0.25, 0.25],
                           "weight": [1.0, 1.0, 1.0, 1.0, 1.0, 1.0]})
    res = PSMDiDResult(params=pd.Series({"did": 0.0}), std_errors=pd.Series({"did": 1.0}), scores=scores)
    fig = res.plot_density("en")
    for ax in fig.axes:
        assert [ln.get_color() for ln in ax.get_lines()] == ["C3"]  # treated only
    plt.close("all")
