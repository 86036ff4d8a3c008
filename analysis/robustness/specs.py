"""Specifications: what one estimate of a specification curve is made of, and how the grid is drawn.

A specification is a flat mapping of choices, e.g. ``{"index.weights": "critic", "sample": "end_2019",
"controls": "none", "cluster": "province", "estimator": "twfe"}`` on top of a base specification.
Dimensions with dotted names (``index.weights``, ``index.scope``) are passed to
:func:`analysis.indicators.build_index`; the others are the outcome, the treatment, controls, the
sample, fixed effects, clustering and the estimator.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np

from ..errors import SpecificationError

__all__ = ["Specification", "expand_grid", "DIMENSIONS"]

#: Dimensions a specification may vary, with what each means.
DIMENSIONS = {
    "outcome": "outcome column, or 'index' for the integration index built from the indicator system",
    "index.system": "indicator system (name or path) when outcome == 'index'",
    "index.weights": "weighting method of the index: entropy, critic, cv, equal, ...",
    "index.scope": "normalization scope: pooled or year (per-year min-max)",
    "index.method": "weighted_sum or topsis",
    "treatment": "0/1 treatment column (TWFE)",
    "adoption": "adoption-year column (robust estimators)",
    "controls": "name of a control set (a key of base['control_sets']) or a tuple of columns",
    "sample": "name of a sample (a key of base['samples']: None, a pandas query string or a callable)",
    "fe": "fixed effects, e.g. ('county', 'year') or ('county', 'province^year')",
    "cluster": "cluster variable(s) of the standard errors",
    "estimator": "twfe or callaway_santanna",
    "cs.control": "Callaway-Sant'Anna comparison group: never (default) or notyet",
    "cs.method": "Callaway-Sant'Anna 2x2 estimator: dr (default), ipw or reg",
    "cs.bootstrap": "multiplier-bootstrap draws for Callaway-Sant'Anna when clustering above the unit (default 499)",
    "seed": "the curve's seed (set by specification_curve; each specification draws from its own stream)",
}


@dataclass(frozen=True)
class Specification:
    """One specification: its position in the grid and its full set of choices."""

    number: int
    choices: Mapping[str, Any]
    varied: tuple[str, ...] = field(default=())

    def get(self, key: str, default=None):
        return self.choices.get(key, default)


def _label(value) -> str:
    if isinstance(value, (tuple, list)):
        return "+".join(map(str, value)) if value else "none"
    return str(value)


def expand_grid(base: Mapping[str, Any], variations: Mapping[str, Any], n_specs: int | None = None,
                seed=None) -> list[Specification]:
    """All combinations of the variations (or a random subset of ``n_specs`` of them) over the base.

    The base specification is always number 0. A random subset is drawn without replacement with
    ``np.random.default_rng(seed)``, so the same seed gives the same subset.

    Examples
    --------
    >>> from analysis.robustness import expand_grid
    >>> specs = expand_grid({"estimator": "twfe", "cluster": "county"},
    ...                     {"cluster": ["county", "province"], "sample": ["full", "end_2019"]})
    >>> [(s.number, s.get("cluster"), s.get("sample")) for s in specs]
    [(0, 'county', 'full'), (1, 'county', 'end_2019'), (2, 'province', 'full'), (3, 'province', 'end_2019')]
    >>> [s.number for s in expand_grid({}, {"cluster": ["county", "province"], "sample": ["full", "end_2019"]},
    ...                                n_specs=3, seed=0)]
    [0, 1, 2]
    """
    unknown = [k for k in variations if k not in DIMENSIONS]
    if unknown:
        raise SpecificationError(f"unknown dimensions {unknown}; the dimensions are {list(DIMENSIONS)}.")
    dims = list(variations)
    options = []
    for d in dims:
        values = variations[d]
        values = list(values.keys()) if isinstance(values, Mapping) else list(values)
        if not values:
            raise SpecificationError(f"variation {d!r} lists no alternatives.")
        base_value = base.get(d)
        if base_value is not None and all(_label(v) != _label(base_value) for v in values):
            values = [base_value] + values
        options.append(values)
    combos = list(itertools.product(*options)) if dims else [()]
    base_combo = tuple(base.get(d, options[i][0]) for i, d in enumerate(dims))
    base_key = tuple(_label(v) for v in base_combo)
    combos.sort(key=lambda c: tuple(_label(v) for v in c) != base_key)  # base first, order kept otherwise
    if n_specs is not None and n_specs < len(combos):
        rng = np.random.default_rng(seed)
        rest = rng.choice(np.arange(1, len(combos)), size=n_specs - 1, replace=False)
        combos = [combos[0]] + [combos[i] for i in sorted(rest)]
    specs = []
    for i, combo in enumerate(combos):
        choices = {k: v for k, v in base.items() if k in DIMENSIONS}
        choices.update(dict(zip(dims, combo)))
        specs.append(Specification(i, choices, tuple(dims)))
    return specs
