"""Deprecated spellings kept for one release (see the vocabulary in ``docs/CONVENTIONS.md``).

:func:`renamed_kwargs` lets a function accept an old keyword name, warns with a
:class:`DeprecationWarning` that names the new one, and passes the value on under the new name.
:func:`deprecated_alias` does the same for a renamed attribute of a result class.

Examples
--------
>>> import warnings
>>> @renamed_kwargs(n_boot="n_draws")
... def draws(n_draws=10):
...     return n_draws
>>> with warnings.catch_warnings(record=True) as caught:
...     warnings.simplefilter("always")
...     draws(n_boot=5), caught[0].category.__name__
(5, 'DeprecationWarning')
>>> draws(n_boot=5, n_draws=6)
Traceback (most recent call last):
...
analysis.errors.SpecificationError: draws() got n_boot= and n_draws=, the same argument under its old and its new name; pass n_draws= only.
"""
from __future__ import annotations

import functools
import warnings
from typing import Callable, Mapping

import pandas as pd

from .errors import SpecificationError

__all__ = ["renamed_kwargs", "deprecated_alias", "renamed_term", "TermAliasSeries", "TermAliasFrame"]


def renamed_kwargs(**old_to_new: str) -> Callable:
    """Decorator: accept ``old=`` keywords as deprecated aliases of ``new=`` (one release).

    The mapping is kept on the wrapper as ``__renamed_kwargs__`` so that tests and docs can list it.
    """

    def decorate(fn: Callable) -> Callable:
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            for old, new in old_to_new.items():
                if old in kwargs:
                    if new in kwargs:
                        raise SpecificationError(
                            f"{fn.__name__}() got {old}= and {new}=, the same argument under its old and its "
                            f"new name; pass {new}= only.")
                    warnings.warn(f"{fn.__name__}({old}=...) is deprecated and will be removed in the next "
                                  f"release; use {new}=.", DeprecationWarning, stacklevel=2)
                    kwargs[new] = kwargs.pop(old)
            return fn(*args, **kwargs)

        wrapper.__renamed_kwargs__ = {**getattr(fn, "__renamed_kwargs__", {}), **old_to_new}
        return wrapper

    return decorate


def deprecated_alias(new: str, old: str) -> property:
    """A read-only property ``old`` that returns ``self.<new>`` with a DeprecationWarning."""

    def get(self):
        warnings.warn(f"{type(self).__name__}.{old} is deprecated; use .{new}.", DeprecationWarning, stacklevel=2)
        return getattr(self, new)

    return property(get, doc=f"Deprecated alias of :attr:`{new}`.")


def renamed_term(key, aliases: Mapping[str, str], index, owner: str = "result"):
    """``aliases[key]`` with a DeprecationWarning if ``key`` is an old term name not in ``index``."""
    if isinstance(key, str) and key in aliases and key not in index:
        new = aliases[key]
        warnings.warn(f"the term {key!r} of this {owner} is now {new!r} (docs/CONVENTIONS.md); {key!r} is "
                      f"deprecated and will be removed in the next release.", DeprecationWarning, stacklevel=3)
        return new
    return key


class _TermAliases:
    """Mixin: the ``term_aliases`` mapping ``{old: new}`` carried by a pandas object (pandas metadata)."""

    _metadata = ["term_aliases"]

    def __init__(self, *args, term_aliases: Mapping[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.term_aliases = dict(term_aliases or {})


class TermAliasSeries(_TermAliases, pd.Series):
    """A Series indexed by term whose ``s[old]`` reads ``s[new]`` with a DeprecationWarning.

    ``term_aliases`` maps old term names to new ones (one release). Anything computed from it is a
    plain Series, so the alias lives only on the stored ``params`` / ``std_errors``.

    Examples
    --------
    >>> import warnings
    >>> s = TermAliasSeries({"did": 0.5}, term_aliases={"ATT": "did"})
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     float(s["ATT"]), caught[0].category.__name__
    (0.5, 'DeprecationWarning')
    """

    @property
    def _constructor(self):
        return pd.Series

    def __getitem__(self, key):
        return super().__getitem__(renamed_term(key, self.term_aliases, self.index, "Series"))


class TermAliasFrame(_TermAliases, pd.DataFrame):
    """A DataFrame indexed by term whose ``.loc[old]`` reads ``.loc[new]`` with a DeprecationWarning."""

    @property
    def _constructor(self):
        return pd.DataFrame

    @property
    def loc(self):
        base, frame = super().loc, self

        class _Loc:
            def __getitem__(self, key):
                if isinstance(key, tuple) and key:
                    key = (renamed_term(key[0], frame.term_aliases, frame.index, "table"), *key[1:])
                else:
                    key = renamed_term(key, frame.term_aliases, frame.index, "table")
                return base[key]

            def __setitem__(self, key, value):
                base[key] = value

        return _Loc()
