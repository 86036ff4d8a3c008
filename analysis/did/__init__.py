"""Policy evaluation with difference-in-differences (双重差分).

One file per estimator, one shared event-study result type and one plot for all of them:

* :func:`event_study` - TWFE event study with endpoint bins and a joint pre-trend test;
* :func:`bacon_decomposition` - Goodman-Bacon (2021) decomposition of the TWFE coefficient;
* :func:`placebo_test`, :func:`fake_timing_test`, :func:`placebo_outcome_test` - randomization
  inference (permutation placebo), fake timing and placebo outcomes;
* :func:`psm_did` - propensity-score matching then DiD (Stata ``psmatch2`` + ``reghdfe``);
* :func:`callaway_santanna`, :func:`sun_abraham`, :func:`imputation` - heterogeneity-robust
  staggered DiD; :func:`honest_did` - Rambachan-Roth sensitivity (:func:`flci` and
  :func:`rm_confidence_set` are its two confidence sets); :func:`run_estimators` and
  :func:`compare_estimators` - all of them side by side in one table, :func:`plot_comparison` in
  one plot;
* :func:`static_twfe` - the static TWFE coefficient;
* :func:`synthetic_did` - synthetic difference-in-differences (Arkhangelsky et al. 2021; R synthdid),
  block or staggered, placebo / jackknife / bootstrap SEs; :func:`synthetic_control` - synthetic
  control with the Abadie-Diamond-Hainmueller (2010) placebo-in-space test (single-county case studies);
* :func:`triple_difference` - DDD (pilot x group x post) with group-by-year fixed effects.

Every TWFE-type DiD result names its treatment coefficient :data:`TREATMENT_TERM` (``"did"``);
event-time tables have the columns ``event_time, estimate, std_error, ci_low, ci_high``
(``docs/CONVENTIONS.md``).
"""
from __future__ import annotations

from ._common import TREATMENT_TERM, EventStudyResult, plot_event_study
from .bacon import BaconResult, bacon_decomposition
from .callaway_santanna import CallawaySantAnnaResult, callaway_santanna
from .compare import as_event_study, compare_estimators, plot_comparison, run_estimators, static_twfe
from .event_study import event_study
from .honest import HonestDiDResult, flci, honest_did, rm_confidence_set
from .imputation import imputation, imputation_did
from .placebo import PlaceboResult, fake_timing_test, placebo_outcome_test, placebo_test
from .psm import PSMDiDResult, psm_did
from .sun_abraham import sun_abraham

__all__ = [
    "TREATMENT_TERM",
    "EventStudyResult",
    "plot_event_study",
    "event_study",
    "BaconResult",
    "bacon_decomposition",
    "PlaceboResult",
    "placebo_test",
    "fake_timing_test",
    "placebo_outcome_test",
    "PSMDiDResult",
    "psm_did",
    "CallawaySantAnnaResult",
    "callaway_santanna",
    "sun_abraham",
    "imputation",
    "imputation_did",
    "HonestDiDResult",
    "honest_did",
    "flci",
    "rm_confidence_set",
    "as_event_study",
    "compare_estimators",
    "plot_comparison",
    "run_estimators",
    "static_twfe",
]

from .ddd import triple_difference  # noqa: E402
from .synthetic_control import synthetic_control  # noqa: E402
from .synthetic_did import synthetic_did  # noqa: E402

__all__ += ["synthetic_did", "synthetic_control", "triple_difference"]

from .long_difference import long_difference  # noqa: E402

__all__ += ["long_difference"]
