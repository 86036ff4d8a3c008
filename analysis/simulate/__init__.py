"""The SIMULATED county panel of CountyFusion and its ground truth.

:func:`county_panel` draws a balanced county-year panel (2010-2022 by default) on the real county
frame (``data/counties.csv``) and its queen contiguity (``data/county_queen_edges.csv``), with 20
raw indicators in yearbook units, covariates, the real 2015 land-reform pilots with simulated
effects, a simulated staggered digital-government pilot, a panel threshold in the rural-income
equation and a spatial Durbin model of GDP per capita. It returns the panel, the ground truth
(a JSON-ready dict) and the county-year table of true effects. The schema is the contract in
``docs/simulation.md``; the data-generating process is summarised in ``data/README.md``.

Everything is drawn from one ``np.random.default_rng(seed)``: the same seed gives the same output
bit for bit. The effects are computed by generating the panel three times with the same draws
(everything on; land reform off; digital pilot off) and differencing, so ``observed - effects`` is
the exact counterfactual panel at the published rounding (see :func:`counterfactual` and
:func:`true_effect`).

The package, one job a module: :mod:`~analysis.simulate.columns` (the codebook: indicator
definitions, units, column names), :mod:`~analysis.simulate.parameters` (the structural parameters),
:mod:`~analysis.simulate.inputs` (the real frame, edges and pilots), :mod:`~analysis.simulate.weights`
(the DGP's W and the true SDM effects), :mod:`~analysis.simulate.dgp` (the draws and one world),
:mod:`~analysis.simulate.panel` (:func:`county_panel`), :mod:`~analysis.simulate.truth` (what each
estimator should recover), :mod:`~analysis.simulate.counterfactual`, :mod:`~analysis.simulate.files`
(writing and reading ``data/synthetic/``) and :mod:`~analysis.simulate.mechanisms` (the H2-H6 layer).

The data are SIMULATED. They look like yearbook data, but no cell is a real statistic.
"""
from __future__ import annotations

from .columns import (
    CODEBOOK,
    COVARIATES,
    DECIMALS,
    DEFAULT_SEED,
    FRAME_COLUMNS,
    MISSING_COLUMNS,
    POLICY_COLUMNS,
    PROGRAMMES,
    RAW_INDICATORS,
    codebook,
)
from .counterfactual import counterfactual, true_effect
from .mechanisms import (
    MECHANISM_CODEBOOK,
    MECHANISM_COLUMNS,
    MECHANISM_PARAMS,
    mechanism_columns,
    mechanism_panel,
    mechanism_truth,
)
from .panel import county_panel
from .weights import contiguity_matrix, lesage_pace_effects

__all__ = [
    "county_panel",
    "counterfactual",
    "true_effect",
    "contiguity_matrix",
    "lesage_pace_effects",
    "RAW_INDICATORS",
    "MISSING_COLUMNS",
    "COVARIATES",
    "POLICY_COLUMNS",
    "FRAME_COLUMNS",
    "DECIMALS",
    "CODEBOOK",
    "codebook",
    "PROGRAMMES",
    "design_power",
    "MECHANISM_CODEBOOK",
    "MECHANISM_COLUMNS",
    "MECHANISM_PARAMS",
    "mechanism_columns",
    "mechanism_panel",
    "mechanism_truth",
]


def design_power(design, effect_sizes, n_sims: int = 500, seed=DEFAULT_SEED, **kwargs):
    """Monte Carlo size and power of a DiD design on the real county frame.

    Lives in :mod:`analysis.robustness.power` (it shares the specification-curve machinery); see
    :func:`analysis.robustness.design_power` for the parameters.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.simulate import design_power
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(60), 8), "year": np.tile(np.arange(2010, 2018), 60)})
    >>> d["y"] = rng.normal(scale=0.1, size=len(d))
    >>> power = design_power({"n_treated": 10, "adoption": [2014]}, [0.0, 0.2], n_sims=40, seed=0,
    ...                      panel=d, outcome="y")
    >>> power.to_frame()[["effect", "rejection_rate"]].round(2).values.tolist()
    [[0.0, 0.05], [0.2, 1.0]]
    """
    from ..robustness.power import design_power as _design_power

    return _design_power(design, effect_sizes, n_sims=n_sims, seed=seed, **kwargs)
