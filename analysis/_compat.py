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
from typing import Callable

from .errors import SpecificationError

__all__ = ["renamed_kwargs", "deprecated_alias"]


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
