"""Panel regression: the fixed-effects wrapper and SE presets, Hausman, heterogeneity, moderation,
mediation, the wild cluster restricted bootstrap and Hansen's panel threshold model.

One file per job; the public entry points are re-exported here:

- :func:`fe` (``fe.py``): FE regression with Stata reghdfe conventions -> :class:`FEResult`.
- ``vcov.py``: the covariance estimators (CRV1 one/multi-way, HC1, iid, Driscoll-Kraay).
- :func:`hausman` (``hausman.py``): FE vs RE, classic, robust (xtoverid-style) and Mundlak.
- :func:`heterogeneity` (``heterogeneity.py``): subgroup fits and equality tests.
- :func:`moderation` (``moderation.py``): centred interaction, marginal effects, plot.
- :func:`mediation` (``mediation.py``): three equations, Sobel, county-cluster bootstrap.
- :func:`wild_bootstrap` (``wild_bootstrap.py``): fast WCR bootstrap p-values at 2,800+ clusters.
- :func:`threshold` (``threshold.py``): Hansen (1999) panel threshold.
"""
from __future__ import annotations

from .fe import FEResult, fe
from .hausman import HausmanResult, hausman
from .heterogeneity import HeterogeneityResult, heterogeneity
from .mediation import MediationResult, MultipleMediationResult, mediation, multiple_mediation
from .moderation import ModerationResult, moderation, plot_marginal_effects
from .threshold import ThresholdResult, plot_lr, threshold
from .wild_bootstrap import WildBootstrapResult, wild_bootstrap

__all__ = [
    "FEResult", "fe",
    "HausmanResult", "hausman",
    "HeterogeneityResult", "heterogeneity",
    "MediationResult", "mediation", "MultipleMediationResult", "multiple_mediation",
    "ModerationResult", "moderation", "plot_marginal_effects",
    "WildBootstrapResult", "wild_bootstrap",
    "ThresholdResult", "plot_lr", "threshold",
]
