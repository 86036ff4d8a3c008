"""Wave 7 (issue 15): tests for the survivors of the last mutation samples, one per class.

Each test names the mutant it was written for and failed with that mutant planted by hand.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from analysis.did import compare_estimators, plot_comparison  # noqa: E402
from analysis.did._common import EventStudyResult  # noqa: E402


def _uniform_band_result(overall=None) -> EventStudyResult:
    """Event times -2..2, estimates 0, 0, 0.5, 0.6 (no -1: the reference), SE 0.1, a uniform-band
    critical value 3.0 (as from a multiplier bootstrap), so ci = estimate -/+ 0.3, not -/+ 1.96 SE."""
    return EventStudyResult.from_estimates("CS", [-2, 0, 1, 2], [0.0, 0.5, 0.6, 0.55], se=[0.1] * 4, crit=3.0,
                                           overall=overall)


def test_compare_estimators_overall_row_is_nan_float_when_an_estimator_has_no_overall():
    """compare.py ``compare_estimators`` 60 (S3): a result without an overall estimate gave ``None``, and
    the ``estimate`` column became an object column; it must be a float NaN beside the other rows."""
    tab = compare_estimators({"with": _uniform_band_result({"estimate": 0.5, "std_error": 0.1}),
                              "without": _uniform_band_result()})
    assert tab["estimate"].dtype == np.float64
    over = tab[tab["term"] == "overall"].set_index("estimator")
    assert over.loc["with", "estimate"] == pytest.approx(0.5)
    assert np.isnan(over.loc["without", "estimate"]) and np.isnan(over.loc["without", "std_error"])


def test_plot_comparison_with_event_times_keeps_each_estimators_own_interval_and_legend_place():
    """compare.py ``plot_comparison`` 55 (S1): with ``event_times=`` the upper end of each interval was
    recomputed as estimate + 1.96 SE, which is wrong for a uniform band; 148: the legend left its
    documented place (upper left, away from the post-period estimates)."""
    fig = plot_comparison({"CS": _uniform_band_result()}, event_times=[0, 1], lang="en")
    ax = fig.axes[0]
    bars = ax.containers[0].lines[2][0].get_segments()
    ends = sorted((float(s[0][0]), float(min(s[0][1], s[1][1])), float(max(s[0][1], s[1][1]))) for s in bars)
    ends = [e for e in ends if e[0] in (0.0, 1.0)]  # the reference period -1 is drawn as a point at 0
    assert len(ends) == 2
    np.testing.assert_allclose([e[1] for e in ends], [0.5 - 0.3, 0.6 - 0.3], atol=1e-12)
    np.testing.assert_allclose([e[2] for e in ends], [0.5 + 0.3, 0.6 + 0.3], atol=1e-12)
    assert ax.get_legend()._loc == 2  # matplotlib's code for "upper left"
    plt.close(fig)
