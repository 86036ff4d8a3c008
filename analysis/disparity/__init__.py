"""Regional disparity and distribution dynamics: Dagum Gini, Theil, kernel density, Markov chains,
convergence and the geographical detector.

Each module's docstring carries its formulas and the paper it follows.
"""
from .convergence import beta_convergence, convergence_speed, sigma_convergence
from .dagum import DagumResult, dagum_gini, dagum_gini_panel
from .geodetector import (
    GeoDetectorResult,
    discretize,
    ecological_detector,
    factor_detector,
    geodetector,
    interaction_detector,
    msr_q_test,
    msr_q_test_fields,
    opgd,
    risk_detector,
)
from .kde import bandwidth, kde, kde_panel, plot_kde_ridges
from .markov import MarkovResult, markov_chain, spatial_markov
from .theil import TheilResult, theil

__all__ = [
    "DagumResult", "dagum_gini", "dagum_gini_panel", "TheilResult", "theil", "bandwidth", "kde", "kde_panel",
    "plot_kde_ridges", "MarkovResult", "markov_chain", "spatial_markov", "sigma_convergence", "beta_convergence",
    "convergence_speed", "discretize", "factor_detector", "interaction_detector", "risk_detector",
    "ecological_detector", "geodetector", "opgd", "msr_q_test", "msr_q_test_fields", "GeoDetectorResult",
]
