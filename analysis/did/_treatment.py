"""One treatment input for every DiD estimator: ``treat=`` (a 0/1 column) or ``adoption=`` (first year).

Some designs are written with a 0/1 treatment column (Goodman-Bacon, synthetic DiD and control,
DDD, PSM-DiD), others with the first treated year (event study, Callaway-Sant'Anna, Sun-Abraham,
imputation). For an absorbing (staggered-adoption) treatment the two say the same thing, so every
DiD estimator takes either: :func:`treatment_input` wraps an estimator written for one form, turns
the other into it through :func:`analysis.did._common.resolve_adoption` (the one resolver, with
one error when neither is given and one when both are given and disagree), and passes the column
on. ``docs/CONVENTIONS.md`` (vocabulary) states the rule.

Examples
--------
>>> import pandas as pd
>>> @treatment_input("adoption")
... def first_years(data, y, adoption, entity="county", time="year"):
...     return data.groupby(entity)[adoption].first().tolist()
>>> d = pd.DataFrame({"county": list("aabb"), "year": [1, 2, 1, 2], "d": [0, 1, 0, 0], "y": 0.0})
>>> first_years(d, "y", treat="d")
[2.0, nan]
"""
from __future__ import annotations

import functools
import inspect
from typing import Callable

import numpy as np
import pandas as pd

from ._common import resolve_adoption

__all__ = ["treatment_input", "adoption_column", "treatment_column"]

_OTHER = {"treat": "adoption", "adoption": "treat"}


def _free_name(data: pd.DataFrame, name: str) -> str:
    while name in data.columns:
        name += "_"
    return name


def adoption_column(data: pd.DataFrame, treat: str, entity: str = "county", time: str = "year") -> pd.Series:
    """The first treated year of each row's unit, from a 0/1 ``treat`` column (NaN = never treated).

    The treatment must be absorbing (it raises :class:`~analysis.errors.TreatmentTimingError` if it
    switches off); a row with ``treat`` missing takes its unit's adoption year (a unit attribute).
    """
    g = resolve_adoption(data, entity, time, treat=treat)
    return data[entity].map(g).astype(float)


def treatment_column(data: pd.DataFrame, adoption: str, entity: str = "county", time: str = "year") -> pd.Series:
    """The 0/1 treatment ``1{time >= adoption}`` of each row (0 for never-treated units).

    ``adoption`` follows :func:`analysis.did._common.parse_adoption` (missing, 0 or inf = never).
    """
    g = data[entity].map(resolve_adoption(data, entity, time, adoption=adoption)).to_numpy(float)
    t = pd.to_numeric(data[time], errors="coerce").to_numpy(float)
    d = np.where(np.isnan(g), 0.0, (t >= g).astype(float))
    return pd.Series(np.where(np.isnan(t), np.nan, d), index=data.index)


def treatment_input(native: str) -> Callable:
    """Decorator: let a DiD estimator written for ``native`` (``"treat"`` or ``"adoption"``) take either.

    The wrapped estimator keeps its signature (positional calls work as before) and gains the
    other keyword. Given only the other form, the native column is derived (:func:`treatment_column`
    or :func:`adoption_column`) and added to a copy of the data under a new name
    (``<adoption>_treated`` or ``<treat>_adoption``); given both, :func:`resolve_adoption` checks
    that ``treat == 1{time >= adoption}`` on every row and the native one is used; given neither,
    it raises :class:`~analysis.errors.SpecificationError`. The form the user gave is stored on the
    wrapper as ``__treatment_input__``.
    """
    if native not in _OTHER:
        raise ValueError(f"native must be 'treat' or 'adoption', not {native!r}")
    other = _OTHER[native]

    def decorate(fn: Callable) -> Callable:
        sig = inspect.signature(fn)
        other_is_native = other in sig.parameters

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            given_other = None if other_is_native else kwargs.pop(other, None)
            bound = sig.bind_partial(*args, **kwargs)
            arg = bound.arguments
            if other_is_native:
                given_other = arg.get(other)
            data = arg.get("data")
            entity = arg.get("entity", sig.parameters["entity"].default)
            time = arg.get("time", sig.parameters["time"].default)
            given_native = arg.get(native)
            if given_other is None:
                if given_native is None:
                    resolve_adoption(data, entity, time)  # raises: give treat= or adoption=
                return fn(*args, **kwargs)
            if given_native is not None:
                resolve_adoption(data, entity, time, **{native: given_native, other: given_other})
                return fn(*args, **kwargs)
            if native == "treat":
                name = _free_name(data, f"{given_other}_treated")
                col = treatment_column(data, given_other, entity, time)
            else:
                name = _free_name(data, f"{given_other}_adoption")
                col = adoption_column(data, given_other, entity, time)
            arg["data"] = data.assign(**{name: col})
            arg[native] = name
            return fn(*bound.args, **bound.kwargs)

        params = list(sig.parameters.values())
        if not other_is_native:
            extra = inspect.Parameter(other, inspect.Parameter.KEYWORD_ONLY, default=None, annotation="str | None")
            at = next((i for i, p in enumerate(params) if p.kind is inspect.Parameter.VAR_KEYWORD), len(params))
            params.insert(at, extra)
        wrapper.__signature__ = sig.replace(parameters=params)
        wrapper.__treatment_input__ = native
        return wrapper

    return decorate

