"""Callaway and Sant'Anna (2021) group-time average treatment effects for staggered adoption.

Implements ``ATT(g,t)`` with never-treated or not-yet-treated comparison units, the outcome
regression, normalized IPW and (traditional, locally efficient) doubly robust 2x2 estimators of
Sant'Anna and Zhao (2020), varying or universal base periods, anticipation, analytic
influence-function standard errors, the Mammen multiplier bootstrap with uniform bands, the
pre-trend Wald test, and the four aggregations of ``aggte`` (simple, dynamic, group, calendar)
including the influence-function term for the estimated group shares.

References
----------
Callaway, B. and Sant'Anna, P. H. C. (2021). "Difference-in-Differences with multiple time
periods." *Journal of Econometrics* 225(2), 200-230.
Sant'Anna, P. H. C. and Zhao, J. (2020). "Doubly robust difference-in-differences estimators."
*Journal of Econometrics* 219(1), 101-122.

Matches R ``did::att_gt()`` / ``did::aggte()`` (with ``bstrap = FALSE`` for analytic SEs;
``est_method = "dr"`` is ``DRDID::drdid_panel``), Stata ``csdid`` with ``method(dripw)``/
``method(reg)``/``method(stdipw)`` and the Python port ``moderndid.att_gt`` 0.2.0.

Panel handling: the estimator needs a balanced panel. Like R ``did``
with ``allow_unbalanced_panel = FALSE`` (its default), units that are not observed in every period
(after dropping rows with a missing outcome or covariate) are dropped; every drop is reported in
``result.rows`` with its reason. Units already treated in the first period (``G <= t_1 + delta``)
are dropped as in ``did``. Units first treated after the last period are never-treated.

Clustering: with ``cluster=`` (a variable constant within unit) the multiplier bootstrap runs on
cluster *means* of the influence function with sqrt(G) scaling and ``se = IQR-sigma / sqrt(G)``,
the convention of CRAN ``did`` 2.1.x and ``moderndid`` 0.2.0 (it requires the bootstrap).

The subpackage has one file per job: ``estimation.py`` (input checks, unit arrays, the cells,
analytic inference and :func:`callaway_santanna`), ``two_by_two.py`` (the doubly robust, IPW and
outcome-regression 2x2 estimators), ``bootstrap.py`` (the multiplier bootstrap),
``aggregation.py`` (``aggte`` and the event-study view) and ``results.py``.
"""
from __future__ import annotations

from .aggregation import AggregateResult
from .bootstrap import mammen_draws, multiplier_bootstrap
from .estimation import callaway_santanna
from .results import CallawaySantAnnaResult

__all__ = [
    "callaway_santanna",
    "CallawaySantAnnaResult",
    "AggregateResult",
    "multiplier_bootstrap",
    "mammen_draws",
]
