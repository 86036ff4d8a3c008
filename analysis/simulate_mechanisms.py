"""The mechanism layer of the SIMULATED panel; moved to :mod:`analysis.simulate.mechanisms`.

This module stays importable (``from analysis.simulate_mechanisms import mechanism_panel``) and
re-exports the same objects.
"""
from __future__ import annotations

from .simulate import mechanisms as _mechanisms
from .simulate.mechanisms import *  # noqa: F403 - the same public names, listed in __all__

__all__ = list(_mechanisms.__all__)
