"""Synthetic control (合成控制法) for a single county case study or a small treated group.

Abadie, Diamond and Hainmueller (2010), "Synthetic Control Methods for Comparative Case Studies",
JASA 105(490): 493-505. The weights are the outcome-matching synthetic control of the R package
``synthdid`` (``sc_estimate``: non-negative donor weights summing to one that fit the treated
units' average pre-period outcomes, ridge penalty 1e-6 times the noise level, no intercept), so the
point estimate equals R ``sc_estimate`` and the placebo / jackknife standard errors equal R
``vcov(sc_estimate(...), method = ...)``.

On top of that it reports the inference of Abadie, Diamond and Hainmueller (2010, Section 2.4 and
Figure 7): the in-space placebo study. Each donor in turn is treated as if it had adopted, synthesised
from the other donors, and the ratio of post- to pre-treatment root mean squared prediction error
(RMSPE) is compared with the treated unit's ratio; the permutation p-value is the treated unit's rank
divided by the number of units (Stata ``synth_runner``, R ``Synth`` placebo loop).

Covariate (predictor) matching with the nested V-matrix search of R ``Synth`` / Stata ``synth`` is
not implemented: pass pre-period outcomes only (as synthdid does).
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from .._compat import renamed_kwargs
from ..errors import SpecificationError
from ..results import EstimationResult
from . import _synth_core as core
from ._treatment import treatment_input
from .synthetic_did import SEMethod, period_label, prepare_synth_panel, synthetic_did

__all__ = ["synthetic_control", "rmspe_placebo"]


def _gaps(Y: np.ndarray, n0: int, omega: np.ndarray) -> np.ndarray:
    return Y[n0:].mean(axis=0) - omega @ Y[:n0]


def rmspe_placebo(Y: np.ndarray, n0: int, t0: int, omega: np.ndarray) -> pd.DataFrame:
    """In-space placebo study of ADH (2010): gap paths and post/pre RMSPE ratios of every unit.

    Row ``n0`` ("treated") is the actual treated average with its weights ``omega``; rows 0..n0-1
    treat each donor in turn, synthesised by ``sc_estimate`` from the other donors.
    """
    rows = []
    treated_gap = _gaps(Y, n0, omega)
    donors = Y[:n0]
    for j in range(n0):
        idx = [i for i in range(n0) if i != j] + [j]
        Yj = donors[idx]
        fit = core.fit_block(Yj, n0 - 1, t0, core.sc_options(Yj, n0 - 1, t0))
        rows.append(_gaps(Yj, n0 - 1, fit.omega))
    rows.append(treated_gap)
    gaps = np.vstack(rows)
    pre = np.sqrt(np.mean(gaps[:, :t0] ** 2, axis=1))
    post = np.sqrt(np.mean(gaps[:, t0:] ** 2, axis=1))
    out = pd.DataFrame({"pre_rmspe": pre, "post_rmspe": post})
    out["ratio"] = np.where(pre > 0, post / np.where(pre > 0, pre, 1.0), np.nan)
    out["gaps"] = list(gaps)
    out["unit"] = list(range(n0)) + ["treated"]
    return out


@renamed_kwargs(replications="n_draws")
@treatment_input("treat")
def synthetic_control(
    data: pd.DataFrame,
    y: str,
    treat: str,
    entity: str = "county",
    time: str = "year",
    se: SEMethod = "placebo",
    n_draws: int = 200,
    seed: int = 0,
    permutation: bool = True,
    alpha: float = 0.05,
) -> EstimationResult:
    """Synthetic control estimate of the ATT with placebo/jackknife SEs and the ADH permutation test.

    Parameters
    ----------
    data, y, treat, entity, time
        Balanced long panel; ``treat`` is 0/1 and absorbing; all treated units must adopt in the same
        period (a single county case study is the typical use).
        Or give ``adoption=`` (the first treated year) instead;
        given both, they must agree (``docs/CONVENTIONS.md``).
    se
        ``"placebo"`` (R synthdid Algorithm 4), ``"jackknife"`` (undefined with one treated unit),
        ``"bootstrap"`` or ``"none"``.
    permutation
        Run the ADH (2010) in-space placebo study (one synthetic control per donor).

    Returns
    -------
    EstimationResult
        term ``"did"`` (``"ATT"`` still read, deprecated). ``extra["gaps"]`` (treated minus synthetic, per period), ``extra["omega"]``,
        and with ``permutation``: ``extra["placebo_study"]`` (per unit pre/post RMSPE and ratio) and
        ``stats["permutation_p"]`` = rank of the treated ratio / (donors + 1).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> s = pd.DataFrame({"county": np.repeat(np.arange(10), 8), "year": np.tile(np.arange(2010, 2018), 10)})
    >>> s["y"] = np.repeat(rng.normal(size=10), 8) + 0.1 * (s["year"] - 2010) + rng.normal(scale=0.01, size=80)
    >>> s.loc[s["county"] == 0, "y"] = s.groupby("year")["y"].transform("mean")  # county 0 = average of all
    >>> s["treat"] = ((s["county"] == 0) & (s["year"] >= 2015)).astype(int)
    >>> s["y"] += 0.5 * s["treat"]
    >>> res = synthetic_control(s, "y", "treat", se="none")
    >>> round(float(res.params["did"]), 2), round(res.stats["permutation_p"], 2)  # rank 1 of 10 units
    (0.5, 0.1)
    """
    replications = n_draws  # the body's name for the number of draws (vocabulary: n_draws)
    panel = prepare_synth_panel(data, y, entity, time, treat)
    if len(panel.cohorts) > 1:
        raise SpecificationError(
            f"synthetic_control needs all treated {entity}s to adopt in the same {time} (found cohorts "
            f"{', '.join(map(period_label, panel.cohorts))}); run it per cohort (or for one case-study {entity}), or use "
            "synthetic_did(..., method='sc'), which averages cohort by cohort."
        )
    res = synthetic_did(data, y, treat, entity, time, method="sc", se=se, n_draws=replications,
                        seed=seed, alpha=alpha)
    a = panel.cohorts[0]
    controls = panel.controls
    Y = panel.Y.to_numpy(dtype=float)
    n0 = len(controls)
    t0 = int((panel.Y.columns < a).sum())
    omega = res.extra["omega"].to_numpy()
    res.extra["gaps"] = pd.Series(_gaps(Y, n0, omega), index=panel.Y.columns, name="gap")
    res.extra["synthetic"] = pd.Series(omega @ Y[:n0], index=panel.Y.columns, name="synthetic")
    res.extra["treated_mean"] = pd.Series(Y[n0:].mean(axis=0), index=panel.Y.columns, name="treated")
    if permutation:
        study = rmspe_placebo(Y, n0, t0, omega)
        study["unit"] = list(controls) + ["treated"]
        ratio_t = study["ratio"].iloc[-1]
        rank = int(np.sum(study["ratio"].to_numpy() >= ratio_t))
        res.extra["placebo_study"] = study
        res.stats["permutation_p"] = rank / len(study)
        res.stats["rmspe_ratio"] = float(ratio_t)
        res.stats["pre_rmspe"] = float(study["pre_rmspe"].iloc[-1])
    res.model = "Synthetic control (Abadie, Diamond and Hainmueller 2010)"
    res.reference = (
        "Abadie, Diamond and Hainmueller (2010) JASA 105(490):493-505 (in-space placebo, RMSPE ratio); "
        "weights and SEs as R synthdid sc_estimate / vcov (Arkhangelsky et al. 2021)"
    )
    return res
