"""Indicator systems, normalization, weights, TOPSIS and the composite integration index.

One file per job: :mod:`.system` (YAML indicator systems), :mod:`.normalize` (min-max with
directions and scope), :mod:`.weights` (entropy, CRITIC, CV, equal, fixed, combinations),
:mod:`.topsis` (TOPSIS closeness) and :mod:`.index` (:func:`build_index`, :func:`integration_index`).
Each module's docstring gives its formulas and the published source; the test vectors are in the
tests' reference files.
"""
from .index import METHODS, MISSING, IndexResult, build_index, integration_index
from .normalize import SCOPES, ConstantColumnWarning, NormalizationBounds, PerYearScopeWarning, normalize
from .system import DIRECTIONS, Indicator, IndicatorSystem, Subsystem, load_system, shipped_systems, system_from_dict
from .topsis import topsis, topsis_vector
from .weights import (
                        COMBINATIONS,
                        WEIGHT_METHODS,
                        check_weights,
                        combine_weights,
                        critic,
                        critic_weights,
                        cv,
                        cv_weights,
                        entropy,
                        entropy_weights,
                        equal_weights,
                        fixed_weights,
)

__all__ = [
    "IndexResult", "build_index", "integration_index", "METHODS", "MISSING",
    "ConstantColumnWarning", "NormalizationBounds", "PerYearScopeWarning", "SCOPES", "normalize",
    "DIRECTIONS", "Indicator", "IndicatorSystem", "Subsystem", "load_system", "shipped_systems",
    "system_from_dict", "topsis", "topsis_vector", "COMBINATIONS", "WEIGHT_METHODS",
    "check_weights", "combine_weights", "critic", "critic_weights", "cv", "cv_weights", "entropy",
    "entropy_weights", "equal_weights", "fixed_weights",
]
