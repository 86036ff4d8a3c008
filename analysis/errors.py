"""One home for every error CountyFusion raises on bad input.

Every error is a subclass of :class:`ValueError`, so ``except ValueError`` still works for users
who do not know our names. Each message says what is wrong, where (column and rows) and how to fix
it; use :func:`describe_rows` to name rows consistently.
"""
from __future__ import annotations

from typing import Iterable, Sequence

__all__ = [
    "CountyFusionError",
    "ColumnError",
    "DuplicateKeyError",
    "NonNumericError",
    "ConstantColumnError",
    "NegativeValueError",
    "MissingValueError",
    "ScaleError",
    "TreatmentTimingError",
    "UnbalancedPanelError",
    "SpecificationError",
    "WeightsMatrixError",
    "UnknownAdcodeError",
    "UnknownCodeError",
    "CodeFormatError",
    "MergeRuleError",
    "AmbiguousNameError",
    "UnmatchedNameError",
    "NameFormatError",
    "YearRangeError",
    "describe_rows",
    "check_choice",
]


class CountyFusionError(ValueError):
    """Base class of every input error raised by CountyFusion."""


class ColumnError(CountyFusionError, KeyError):
    """A required column is missing, unknown or of the wrong kind."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class DuplicateKeyError(CountyFusionError):
    """The same (entity, time) key appears more than once."""


class NonNumericError(CountyFusionError):
    """Cells that must be numbers are not."""


class ConstantColumnError(CountyFusionError):
    """A column carries no variation where the method needs some."""


class NegativeValueError(CountyFusionError):
    """Values below zero where the method needs non-negative or positive values."""


class MissingValueError(CountyFusionError):
    """Missing values where the method cannot use them (e.g. an all-missing indicator)."""


class ScaleError(CountyFusionError):
    """Values on the wrong scale (for example 0-100 where 0-1 is expected)."""


class TreatmentTimingError(CountyFusionError):
    """Treatment that switches off, varies within a unit, or leaves no pre-period."""


class UnbalancedPanelError(CountyFusionError):
    """The estimator needs a balanced panel and this one is not."""


class SpecificationError(CountyFusionError):
    """Options that do not fit together or are not one of the allowed values."""


class UnknownAdcodeError(CountyFusionError):
    """County codes that are not in the county frame (``data/counties.csv``)."""


#: The name used by :mod:`analysis.codes` for the same error.
UnknownCodeError = UnknownAdcodeError


class CodeFormatError(CountyFusionError):
    """County codes in a form that cannot be read safely (floats, wrong length, mixed vintages)."""


class MergeRuleError(CountyFusionError):
    """Units merged or split across years, and no rule says how to combine or allocate their values."""


class AmbiguousNameError(CountyFusionError):
    """A county name that fits several counties (朝阳, 通州, 鼓楼 ...); the message lists the candidates."""


class UnmatchedNameError(CountyFusionError):
    """County names that fit no county of any year."""


class NameFormatError(CountyFusionError):
    """County names with spaces or full-width characters where normalisation was switched off."""


class YearRangeError(CountyFusionError):
    """Years that are not whole numbers or fall outside the allowed range."""


class WeightsMatrixError(CountyFusionError):
    """A spatial weights matrix that does not fit the data (ids, shape, islands)."""


def describe_rows(index: Iterable, limit: int = 8) -> str:
    """Name up to ``limit`` rows (or keys) and say how many more there are.

    >>> describe_rows([3, 7, 9])
    'rows 3, 7, 9'
    """
    items: Sequence = list(index)
    shown = ", ".join(str(i) for i in items[:limit])
    more = len(items) - limit
    suffix = f" and {more} more" if more > 0 else ""
    noun = "row" if len(items) == 1 else "rows"
    return f"{noun} {shown}{suffix}"


def check_choice(name: str, value, allowed: Iterable) -> None:
    """Raise :class:`SpecificationError` unless ``value`` is one of ``allowed``."""
    allowed = tuple(allowed)
    if value not in allowed:
        raise SpecificationError(
            f"{name}={value!r} is not one of {', '.join(repr(a) for a in allowed)}."
        )
