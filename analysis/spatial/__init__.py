"""Spatial econometrics for county panels: weights, Moran/LISA, spatial panel models with effects,
LM tests and spatial DID.

One file per job:

- :mod:`.weights` -- queen / kNN / inverse-distance / economic-distance weights (:class:`SpatialWeights`)
- :mod:`.autocorrelation` -- global Moran's I by year, local Moran (LISA) clusters, Getis-Ord Gi*
- :mod:`.panel_models` -- :func:`spatial_panel` (SAR/SDM/SEM, FE, Lee-Yu)
- :mod:`.effects` -- LeSage-Pace direct/indirect/total effects with simulated SEs
- :mod:`.lm_tests` -- LM / robust LM tests on FE residuals; Wald/LR tests of SDM vs SAR/SEM
- :mod:`.spatial_did` -- spatial difference-in-differences inside an SDM
"""
from __future__ import annotations

from .autocorrelation import getis_ord, lisa_map, local_moran, moran, moran_by_year
from .effects import effects_point, simulate_effects
from .lm_tests import lm_tests, sdm_tests
from .panel_models import SpatialPanelResult, prepare_spatial_panel, spatial_panel
from .spatial_did import SpatialDiDResult, spatial_did
from .weights import (
    SpatialWeights,
    as_spatial_weights,
    distance_weights,
    economic_weights,
    great_circle_km,
    knn_weights,
    queen_weights,
    weights_from_edges,
    weights_from_matrix,
)

__all__ = [
    "SpatialWeights", "as_spatial_weights", "distance_weights", "economic_weights", "great_circle_km",
    "knn_weights", "queen_weights", "weights_from_edges", "weights_from_matrix",
    "effects_point", "simulate_effects",
    "SpatialPanelResult", "prepare_spatial_panel", "spatial_panel",
    "getis_ord", "lisa_map", "local_moran", "moran", "moran_by_year",
    "lm_tests", "sdm_tests",
    "SpatialDiDResult", "spatial_did",
]
