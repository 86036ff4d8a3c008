"""Counterfactuals of the SIMULATED panel: the panel without a programme, and true effects.

Because the effects table holds the exact difference between the worlds with and without each
programme (:func:`analysis.simulate.county_panel`), ``observed - te_<programme>_<column>`` is the
counterfactual panel at the published rounding, and ``f(observed) - f(counterfactual)`` the true
effect on any derived outcome ``f`` (an index, a ratio).
"""
from __future__ import annotations

from typing import Callable, Iterable

import numpy as np
import pandas as pd

from ..errors import ColumnError, SpecificationError, check_choice
from .columns import DECIMALS, PROGRAMMES
from .files import load_effects

__all__ = ["counterfactual", "true_effect"]


def _programme_prefixes(programme) -> list[str]:
    """The effect-column prefixes (``land``, ``digital``) of a programme name or list of names."""
    if programme in (None, "all"):
        return list(PROGRAMMES.values())
    progs = [programme] if isinstance(programme, str) else list(programme)
    out = []
    for p in progs:
        p = {"land": "land_reform", "digital": "digital_pilot"}.get(p, p)
        check_choice("programme", p, list(PROGRAMMES) + ["all"])
        out.append(PROGRAMMES[p])
    return out


def counterfactual(panel: pd.DataFrame, effects: pd.DataFrame | None = None,
                   programme: str | Iterable[str] = "all") -> pd.DataFrame:
    """The panel without the programme(s): ``observed - te_<programme>_<column>``.

    Parameters
    ----------
    panel : DataFrame
        The simulated panel (or any subset/reordering of its rows).
    effects : DataFrame, optional
        The effects table from :func:`county_panel` (default: the shipped
        ``data/synthetic/truth_effects.csv.gz``).
    programme : "all", "land_reform", "digital_pilot" or a list of them.

    Returns
    -------
    DataFrame with the same rows and columns; affected columns replaced by their counterfactual.
    Policy columns are left as they are (they record assignment).

    Examples
    --------
    A county whose rural income the land reform raised by 500 yuan in 2016:

    >>> import numpy as np, pandas as pd
    >>> panel = pd.DataFrame({"county": ["110101", "110101"], "year": [2014, 2016],
    ...                       "rural_income": [10000.0, 12500.0]})
    >>> effects = pd.DataFrame({"county": ["110101", "110101"], "year": [2014, 2016],
    ...                         "te_land_rural_income": [0.0, 500.0]})
    >>> from analysis.simulate import counterfactual
    >>> counterfactual(panel, effects)["rural_income"].tolist()
    [10000.0, 12000.0]
    """
    effects = load_effects(effects)
    for col in ("county", "year"):
        if col not in panel.columns:
            raise ColumnError(f"panel lacks {col!r}.")
    prefixes = _programme_prefixes(programme)
    cols = [ec for ec in effects.columns
            if ec.startswith("te_") and ec.split("_", 2)[1] in prefixes
            and ec.split("_", 2)[2] in panel.columns]
    key = panel[["county", "year"]].astype({"county": str})
    m = key.merge(effects[["county", "year"] + cols].astype({"county": str}), on=["county", "year"],
                  how="left", validate="many_to_one")
    lost = m[cols].isna().any(axis=1).to_numpy() if cols else np.zeros(len(m), bool)
    if lost.any():
        raise SpecificationError(
            f"{int(lost.sum())} panel rows have no effects row (e.g. "
            f"{key[lost].head(3).values.tolist()}); use the effects table of the same build.")
    out = panel.copy()
    for ec in cols:
        col = ec.split("_", 2)[2]
        dec = DECIMALS.get(col, 10)
        out[col] = np.round(out[col].to_numpy(float) - m[ec].to_numpy(float), dec)
    return out


def true_effect(panel: pd.DataFrame, effects, outcome_fn: Callable | None = None,
                programme: str | Iterable[str] = "all") -> pd.DataFrame:
    """The true effect of a programme on any derived outcome: f(observed) - f(counterfactual).

    Call as ``true_effect(panel, effects, outcome_fn, programme)`` or, with the shipped effects,
    ``true_effect(panel, outcome_fn, programme=...)``. ``outcome_fn(panel)`` must return a Series
    (or 1-d array) aligned with the panel's rows, e.g. an integration index computed with FIXED
    normalisation bounds and weights (bounds re-estimated on the counterfactual panel would mix
    the programme's effect into the scale).

    Returns
    -------
    DataFrame: ``county``, ``year``, ``observed``, ``counterfactual``, ``effect``.

    Examples
    --------
    The true effect on log rural income of a reform that raised it from 12,000 to 12,500 yuan,
    ln(12500 / 12000) = 0.0408:

    >>> import numpy as np, pandas as pd
    >>> panel = pd.DataFrame({"county": ["110101", "110101"], "year": [2014, 2016],
    ...                       "rural_income": [10000.0, 12500.0]})
    >>> effects = pd.DataFrame({"county": ["110101", "110101"], "year": [2014, 2016],
    ...                         "te_land_rural_income": [0.0, 500.0]})
    >>> from analysis.simulate import true_effect
    >>> te = true_effect(panel, effects, lambda p: np.log(p["rural_income"]), programme="land_reform")
    >>> te.columns.tolist(), te["effect"].round(4).tolist()
    (['county', 'year', 'observed', 'counterfactual', 'effect'], [0.0, 0.0408])
    """
    if callable(effects) and not isinstance(effects, pd.DataFrame):
        if outcome_fn is not None and not callable(outcome_fn):
            programme = outcome_fn
        effects, outcome_fn = None, effects
    if outcome_fn is None or not callable(outcome_fn):
        raise SpecificationError("outcome_fn must be a function panel -> Series.")
    cf = counterfactual(panel, effects, programme)
    y1 = np.asarray(outcome_fn(panel), dtype=float).reshape(-1)
    y0 = np.asarray(outcome_fn(cf), dtype=float).reshape(-1)
    if len(y1) != len(panel) or len(y0) != len(panel):
        raise SpecificationError("outcome_fn must return one value per panel row.")
    return pd.DataFrame({"county": panel["county"].to_numpy(), "year": panel["year"].to_numpy(),
                         "observed": y1, "counterfactual": y0, "effect": y1 - y0})
