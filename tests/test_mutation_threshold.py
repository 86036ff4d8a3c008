"""Tests written for the confirmatory mutation review of the threshold modules and of
``regression/_sample.py`` (issue 15; seed 20261207, tests/README.md).

Each test pins what a user sees (a label, a row count, an F statistic, an error message) to its
definition (Hansen 1999, "Threshold effects in non-dynamic panels", J. Econometrics 93) or to an
independent computation written here; tolerances are stated where they are not exact.
"""
from __future__ import annotations

import copy

import numpy as np
import pytest
from test_threshold import hansen_panel

from analysis.results import EstimationResult


@pytest.fixture(scope="module")
def loans_fit():
    """A two-threshold fit whose threshold variable is not called "q" (so the default name shows)."""
    from analysis.regression.threshold import threshold

    df = hansen_panel(n=30, T=4, seed=4).rename(columns={"q": "loans"})
    return threshold(df, "y", "loans", "r0", controls=["x0"], n_thresholds=2, n_draws=0, grid=20)


# --------------------------------------------------------------------------- threshold/_result.py
def test_threshold_summary_is_the_coefficient_summary_then_the_two_tables(loans_fit):
    """summary() = EstimationResult.summary(), a blank line, the threshold table, a blank line, the
    F table, one item per line (nothing else between them)."""
    res = loans_fit
    fmt = lambda v: f"{v:.6g}"  # noqa: E731
    want = "\n".join([EstimationResult.summary(res), "",
                      f"thresholds (LR confidence set, c(alpha) = {res.critical_value:.4f}):",
                      res.threshold_table.to_string(index=False, float_format=fmt), "",
                      "threshold-effect tests (bootstrap p-values):",
                      res.f_table.to_string(index=False, float_format=fmt)])
    assert res.summary() == want


def test_threshold_labels_fall_back_to_q_and_no_regimes_without_settings(loans_fit):
    """A result whose settings lack the threshold variable's name labels it "q" (the docstring's
    ``I(q <= gamma)``), and one without regime regressors has no regime labels (not an error)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    res = loans_fit
    a, b = (f"{g:.3f}" for g in res.thresholds)
    assert res.regime_labels()["r0_regime0"] == f"r0 × I(loans ≤ {a})"
    bare = copy.copy(res)
    bare.settings = {k: v for k, v in res.settings.items() if k != "q"}
    assert bare.regime_labels() == {"r0_regime0": f"r0 × I(q ≤ {a})", "r0_regime1": f"r0 × I({a} < q ≤ {b})",
                                    "r0_regime2": f"r0 × I(q > {b})"}
    no_regime = copy.copy(res)
    no_regime.settings = {k: v for k, v in res.settings.items() if k != "regime"}
    assert no_regime.regime_labels() == {}
    for lang, label in (("en", "threshold γ (q)"), ("zh", "门槛值 γ（q）")):
        fig = bare.plot(lang=lang, stages=["Th-1"])
        assert fig.axes[0].get_xlabel() == label
        plt.close(fig)
    fig = res.plot(lang="zh", stages=["Th-1"])
    assert fig.axes[0].get_xlabel() == "门槛值 γ（loans）"
    plt.close(fig)


def test_threshold_result_plot_passes_the_language_on(loans_fit):
    """ThresholdResult.plot(lang="en") draws the English panels (default is Chinese)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig = loans_fit.plot(lang="en")
    assert [ax.get_title() for ax in fig.axes] == [f"LR statistic, {s}" for s in ("Th-1", "Th-21", "Th-22")]
    assert fig.axes[0].get_xlabel() == "threshold γ (loans)"
    plt.close(fig)


# --------------------------------------------------------------------------- threshold/_grid.py
def test_threshold_grid_names_the_grid_method_option():
    """An unknown grid method names the option the user set (threshold(grid_method=...)) and the choices."""
    from analysis.errors import SpecificationError
    from analysis.regression.threshold import threshold
    from analysis.regression.threshold._grid import threshold_grid

    msg = r"^grid_method='octiles' is not one of 'quantile', 'hansen'\.$"
    with pytest.raises(SpecificationError, match=msg):
        threshold_grid(np.arange(10.0), method="octiles")
    with pytest.raises(SpecificationError, match=msg):
        threshold(hansen_panel(n=6, T=3), "y", "q", "r0", n_draws=0, grid_method="octiles")
