"""Recovery of the simulated panel's spatial Durbin truth (data/synthetic, truth.json key `spatial`)."""
from __future__ import annotations

import numpy as np
import pytest

pytestmark = pytest.mark.slow



@pytest.fixture(scope="module")
def fitted():
    from analysis.datasets import load_county_panel, load_truth
    from analysis.spatial import queen_weights, spatial_panel

    panel = load_county_panel()
    panel["log_gdp_pc"] = np.log(panel["gdp_pc"])
    truth = load_truth()["spatial"]
    w = queen_weights()
    res = spatial_panel(panel, "log_gdp_pc", truth["regressors"], w, model="sdm", effects="twoways",
                        lee_yu=True, n_draws=1000, seed=20261128)
    return res, truth, w


def test_sdm_parameters_recovered(fitted):
    res, truth, _ = fitted
    true = {**truth["beta"], **{f"W*{k}": v for k, v in truth["theta"].items()}, "rho": truth["rho"]}
    for term, value in true.items():
        assert abs(res.params[term] - value) < 3.5 * res.std_errors[term], term
    # the Lee-Yu corrected sigma2 is close to the simulated error variance
    assert res.sigma2 == pytest.approx(truth["sigma_e"] ** 2, rel=0.05)


def test_effects_recovered(fitted):
    res, truth, _ = fitted
    eff = res.effects.set_index(["variable", "effect"])
    for v, d in truth["effects"].items():
        for e in ("direct", "indirect", "total"):
            row = eff.loc[(v, e)]
            assert abs(row["estimate"] - d[e]) < 3.5 * row["std_error"], (v, e)


def test_truth_effects_reproduced_on_our_w(fitted):
    """truth.json effects use the same W: our eigenvalue closed form gives the same numbers."""
    from analysis.spatial import effects_point

    _, truth, w = fitted
    names = truth["regressors"]
    d, i, t = effects_point(np.array([truth["beta"][k] for k in names]), np.array([truth["theta"][k] for k in names]),
                            truth["rho"], w.eigenvalues())
    for j, k in enumerate(names):
        assert d[j] == pytest.approx(truth["effects"][k]["direct"], abs=1e-10)
        assert t[j] == pytest.approx(truth["effects"][k]["total"], abs=1e-10)
