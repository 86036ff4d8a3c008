"""Synthetic difference-in-differences (合成双重差分, SDID).

Arkhangelsky, Athey, Hirshberg, Imbens and Wager (2021), "Synthetic Difference-in-Differences",
American Economic Review 111(12): 4088-4118, as implemented by the reference R package ``synthdid``
(``synthdid_estimate``, ``sc_estimate``, ``did_estimate``; ``vcov(method = "placebo" | "jackknife" |
"bootstrap")``) and, for staggered adoption, the cohort-by-cohort estimator of the paper's staggered
adoption discussion as implemented by Stata ``sdid`` (Clarke, Pailañir, Athey and Imbens 2024, Stata
Journal 24(4)).

Use it when few units are treated (the 33 land-reform pilot counties, or one county as a case study):
unit weights omega make the control group track the treated units before treatment, and time weights
lambda make the pre-period baseline look like the post period; the ATT is then a weighted 2x2 DiD.

Design handled:

* **block**: every treated unit starts in the same period. The estimate, the weights and all three
  variance estimators match R ``synthdid`` (placebo = Algorithm 4, jackknife = Algorithm 3,
  bootstrap = Algorithm 2; SE = sqrt((B-1)/B) * sd of the B replications, normal 95% interval).
* **staggered**: one block estimate per adoption cohort, each on the never-treated units plus that
  cohort (pre-periods are the years before the cohort's adoption), averaged with weights
  N_cohort * T_post(cohort) / sum over cohorts (Clarke et al. 2024, eq. 3). Inference: placebo (the
  treated units' adoption years are given to randomly chosen never-treated units, weights
  re-estimated each draw) or jackknife (weights fixed; undefined when a cohort has a single unit).
"""
from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from .._compat import renamed_kwargs
from ..errors import (
    MissingValueError,
    SpecificationError,
    TreatmentTimingError,
    UnbalancedPanelError,
    check_choice,
    describe_rows,
)
from ..results import EstimationResult, RowReport
from . import _synth_core as core
from ._common import TREATMENT_TERM, adoption_from_treatment, check_columns, check_keys
from ._treatment import treatment_input

__all__ = ["synthetic_did", "SynthPanel", "prepare_synth_panel"]

Method = Literal["sdid", "sc", "did"]
SEMethod = Literal["placebo", "jackknife", "bootstrap", "none"]

_OPTIONS = {"sdid": core.sdid_options, "sc": core.sc_options, "did": core.did_options}
_NAMES = {
    "sdid": "Synthetic difference-in-differences (Arkhangelsky et al. 2021)",
    "sc": "Synthetic control (Abadie, Diamond and Hainmueller 2010; synthdid sc_estimate)",
    "did": "Difference-in-differences (synthdid did_estimate)",
}
REFERENCE = (
    "Arkhangelsky, Athey, Hirshberg, Imbens and Wager (2021) AER 111(12):4088-4118; R synthdid "
    "synthdid_estimate/sc_estimate/did_estimate and vcov(); staggered adoption as Stata sdid "
    "(Clarke, Pailañir, Athey and Imbens 2024)"
)


class SynthPanel:
    """A balanced panel as an N x T matrix, controls first, with each unit's adoption period."""

    def __init__(self, Y: pd.DataFrame, adoption: pd.Series, n_rows: int):
        self.Y = Y                      # units x periods, never-treated units first
        self.adoption = adoption        # per unit, NaN = never treated
        self.n_rows = n_rows

    @property
    def controls(self) -> pd.Index:
        return self.adoption.index[self.adoption.isna()]

    @property
    def cohorts(self) -> list:
        return sorted(self.adoption.dropna().unique())


def prepare_synth_panel(data: pd.DataFrame, y: str, entity: str, time: str, treat: str) -> SynthPanel:
    """Check a long panel and reshape it for the synthetic estimators.

    Raises
    ------
    ColumnError, DuplicateKeyError
        Missing columns or repeated (entity, time) keys.
    MissingValueError
        Missing outcome values: these estimators need every unit in every period, so rows are not
        dropped silently; fill them or drop the unit yourself.
    UnbalancedPanelError
        Some unit lacks some period.
    TreatmentTimingError
        The treatment switches off, no unit is treated, no unit is never treated, or a cohort is
        treated from the first period (no pre-period).
    """
    check_columns(data, [y, entity, time, treat])
    check_keys(data, entity, time)
    yy = pd.to_numeric(data[y], errors="coerce")
    miss = yy.isna() | ~np.isfinite(yy.to_numpy(dtype=float, na_value=np.nan))
    if miss.any():
        raise MissingValueError(
            f"outcome {y!r} is missing or not finite in {describe_rows(data.index[miss])}. Synthetic DiD / "
            "synthetic control need a balanced panel with the outcome in every unit-period; impute those "
            f"values or drop the affected {entity}(s) before calling."
        )
    g = adoption_from_treatment(data, treat, entity, time)
    wide = data.assign(_y=yy).pivot(index=entity, columns=time, values="_y").sort_index(axis=1)
    if wide.isna().any().any():
        holes = wide.isna().sum(axis=1)
        units = holes[holes > 0].index
        raise UnbalancedPanelError(
            f"{len(units)} {entity}(s) lack some {time}s (e.g. {', '.join(map(str, units[:8]))}); the panel has "
            f"{wide.shape[1]} {time}s. These estimators need a balanced panel: keep the {time}s every unit has "
            f"or drop those {entity}(s)."
        )
    g = g.reindex(wide.index)
    if g.notna().sum() == 0:
        raise TreatmentTimingError(f"no unit is ever treated ({treat!r} is 0 everywhere).")
    if g.isna().sum() == 0:
        raise TreatmentTimingError(
            f"every {entity} is treated at some point; synthetic DiD needs never-treated {entity}s as controls."
        )
    first = wide.columns[0]
    early = g.index[g <= first]
    if len(early):
        raise TreatmentTimingError(
            f"{len(early)} {entity}(s) are treated from the first {time} {first} (e.g. "
            f"{', '.join(map(str, early[:8]))}): there is no pre-period to fit weights on. Drop them or add earlier years."
        )
    order = list(g.index[g.isna()]) + list(g.dropna().sort_values(kind="stable").index)
    return SynthPanel(wide.loc[order], g.loc[order], n_rows=len(data))


def period_label(a) -> str:
    """An adoption period as users wrote it: ``2004``, not the ``2004.0`` of a float adoption column."""
    try:
        return str(int(a)) if float(a).is_integer() else str(a)
    except (TypeError, ValueError):
        return str(a)


def _cohort_matrix(panel: SynthPanel, cohort) -> tuple[np.ndarray, int, int, pd.Index]:
    controls = panel.controls
    treated = panel.adoption.index[panel.adoption == cohort]
    units = controls.append(treated)
    Y = panel.Y.loc[units].to_numpy(dtype=float)
    t0 = int((panel.Y.columns < cohort).sum())
    return Y, len(controls), t0, units


def _fit_all(panel: SynthPanel, method: str, fixed: dict | None = None):
    """One block fit per cohort; returns (tau, fits, table). ``fixed`` maps cohort -> SynthFit (weights held)."""
    fits, rows = {}, []
    for a in panel.cohorts:
        Y, n0, t0, units = _cohort_matrix(panel, a)
        if t0 < 2 and method != "did":
            raise TreatmentTimingError(
                f"cohort adopting in {period_label(a)} has {t0} pre-period(s); unit and time weights need at least 2."
            )
        if fixed is None:
            fit = core.fit_block(Y, n0, t0, _OPTIONS[method](Y, n0, t0))
        else:
            fit = fixed[a]
        fits[a] = fit
        n1, t1 = Y.shape[0] - n0, Y.shape[1] - t0
        rows.append({"cohort": a, "n_treated": n1, "t_pre": t0, "t_post": t1, "estimate": fit.tau,
                     "cells": n1 * t1})
    table = pd.DataFrame(rows)
    table["weight"] = table["cells"] / table["cells"].sum()
    tau = float((table["weight"] * table["estimate"]).sum())
    return tau, fits, table


def _staggered_placebo(panel: SynthPanel, method: str, replications: int, rng) -> np.ndarray:
    controls = panel.controls
    treated_g = panel.adoption.dropna().to_numpy()
    n1 = len(treated_g)
    if len(controls) <= n1:
        raise SpecificationError(
            f"placebo inference needs more never-treated units ({len(controls)}) than treated units ({n1})."
        )
    out = np.empty(replications)
    for r in range(replications):
        perm = rng.permutation(len(controls))
        pseudo = pd.Series(np.nan, index=controls)
        pseudo.iloc[perm[-n1:]] = treated_g
        order = list(pseudo.index[pseudo.isna()]) + list(pseudo.dropna().sort_values(kind="stable").index)
        sub = SynthPanel(panel.Y.loc[order], pseudo.loc[order], panel.n_rows)
        out[r] = _fit_all(sub, method)[0]
    return out


def _staggered_jackknife(panel: SynthPanel, fits: dict) -> tuple[float, str]:
    """Leave-one-unit-out with every cohort's weights fixed; cohort weights N_a T_post(a) recomputed."""
    sizes = panel.adoption.value_counts()
    if (sizes < 2).any():
        return np.nan, ("jackknife undefined: cohort(s) "
                        f"{', '.join(map(period_label, sizes[sizes < 2].index))} have a single treated unit "
                        "(use placebo)")
    units = panel.Y.index
    controls = panel.controls
    n0 = len(controls)
    cohorts = list(fits)
    # per cohort: tau with each control dropped (n0), and with each own treated unit dropped
    tau_c = np.empty((len(cohorts), n0))
    tau_full = np.empty(len(cohorts))
    n1 = np.empty(len(cohorts))
    t1 = np.empty(len(cohorts))
    own = {}
    for k, a in enumerate(cohorts):
        Y, n0a, t0, cu = _cohort_matrix(panel, a)
        loo = core.leave_one_out(fits[a], Y)
        tau_c[k] = loo[:n0a]
        own[a] = pd.Series(loo[n0a:], index=cu[n0a:])
        tau_full[k] = fits[a].tau
        n1[k], t1[k] = Y.shape[0] - n0a, Y.shape[1] - t0
    u = []
    for unit in units:
        if unit in controls:
            j = controls.get_loc(unit)
            w = n1 * t1
            u.append(float(np.sum(w * tau_c[:, j]) / w.sum()))
        else:
            a = panel.adoption[unit]
            k = cohorts.index(a)
            nn = n1.copy()
            nn[k] -= 1
            taus = tau_full.copy()
            taus[k] = own[a][unit]
            w = nn * t1
            u.append(float(np.sum(w * taus) / w.sum()))
    u = np.asarray(u)
    n = len(units)
    return float(np.sqrt(((n - 1) / n) * (n - 1) * np.var(u, ddof=1))), ""


@renamed_kwargs(replications="n_draws")
@treatment_input("treat")
def synthetic_did(
    data: pd.DataFrame,
    y: str,
    treat: str,
    entity: str = "county",
    time: str = "year",
    method: Method = "sdid",
    se: SEMethod = "placebo",
    n_draws: int = 200,
    seed: int = 0,
    alpha: float = 0.05,
) -> EstimationResult:
    """Synthetic DiD (or synthetic control / DiD in the same framework) with placebo, jackknife or
    bootstrap inference.

    Parameters
    ----------
    data
        Balanced long panel, one row per ``entity``-``time``.
    y, treat
        Outcome and 0/1 absorbing treatment (1 from the adoption year on).
        Or give ``adoption=`` (the first treated year) instead;
        given both, they must agree (``docs/CONVENTIONS.md``).
    method
        ``"sdid"`` (R ``synthdid_estimate``), ``"sc"`` (R ``sc_estimate``) or ``"did"`` (R ``did_estimate``).
    se
        ``"placebo"`` (the only option with one treated unit; R default is bootstrap, which is undefined
        then), ``"jackknife"`` (weights fixed), ``"bootstrap"`` (block design only) or ``"none"``.
    n_draws, seed
        Placebo / bootstrap draws (old keyword ``replications``) and the seed of ``numpy.random.default_rng``.

    Returns
    -------
    EstimationResult
        term ``"did"`` (``"ATT"`` still read, deprecated); ``extra["omega"]`` (unit weights), ``extra["lambda"]`` (time weights),
        ``extra["cohorts"]`` (per-cohort estimates and weights), ``extra["draws"]`` (placebo /
        bootstrap estimates); z-based interval ATT ± z·SE as R ``synthdid``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame([(i, t) for i in range(20) for t in range(2010, 2020)], columns=["county", "year"])
    >>> d["treat"] = ((d["county"] < 3) & (d["year"] >= 2016)).astype(int)
    >>> d["y"] = 0.1 * d["county"] + 0.2 * (d["year"] - 2010) + 1.5 * d["treat"] + rng.normal(0, 0.01, len(d))
    >>> res = synthetic_did(d, "y", "treat", se="jackknife")
    >>> round(float(res.params["did"]), 1)
    1.5
    """
    replications = n_draws  # the body's name for the number of draws (vocabulary: n_draws)
    check_choice("method", method, tuple(_OPTIONS))
    check_choice("se", se, ("placebo", "jackknife", "bootstrap", "none"))
    if not isinstance(replications, (int, np.integer)) or replications < 2:
        raise SpecificationError(f"replications must be an integer >= 2, got {replications!r}.")
    panel = prepare_synth_panel(data, y, entity, time, treat)
    rng = np.random.default_rng(seed)
    tau, fits, table = _fit_all(panel, method)
    staggered = len(fits) > 1
    reason = ""
    draws = np.array([])
    if se == "none":
        se_val, reason = np.nan, "no standard error requested (se='none')"
    elif not staggered:
        a = panel.cohorts[0]
        Y, n0, t0, _ = _cohort_matrix(panel, a)
        fit = fits[a]
        if se == "placebo":
            if n0 <= Y.shape[0] - n0:
                raise SpecificationError(
                    f"placebo inference needs more control units ({n0}) than treated units ({Y.shape[0] - n0})."
                )
            draws = core.placebo_draws(fit, Y, replications, rng)
            se_val = core.replication_se(draws)
        elif se == "jackknife":
            se_val, reason = core.jackknife_se(fit, Y)
        else:
            if Y.shape[0] - n0 == 1:
                se_val, reason = np.nan, "bootstrap undefined with a single treated unit (use placebo inference)"
            else:
                draws = core.bootstrap_draws(fit, Y, replications, rng)
                se_val = core.replication_se(draws)
    else:
        if se == "placebo":
            draws = _staggered_placebo(panel, method, replications, rng)
            se_val = core.replication_se(draws)
        elif se == "jackknife":
            se_val, reason = _staggered_jackknife(panel, fits)
        else:
            raise SpecificationError(
                "se='bootstrap' is implemented for a block design only (all treated units adopt in the same "
                "year); with staggered adoption use se='placebo' or se='jackknife'."
            )

    controls = panel.controls
    omega = pd.DataFrame({a: pd.Series(f.omega, index=controls) for a, f in fits.items()})
    lambdas = {a: pd.Series(f.lambda_, index=panel.Y.columns[: f.t0]) for a, f in fits.items()}
    if not staggered:
        omega = omega.iloc[:, 0].rename("omega")
        lambdas = next(iter(lambdas.values())).rename("lambda")
    n_tr = int(panel.adoption.notna().sum())
    w = omega if isinstance(omega, pd.Series) else omega.iloc[:, 0]
    stats_ = {
        "N": panel.n_rows,
        "N_units": int(panel.Y.shape[0]),
        "N_treated": n_tr,
        "N_control": int(len(controls)),
        "T": int(panel.Y.shape[1]),
        "cohorts": len(fits),
        "effective_N0": float(1.0 / np.sum(np.square(w.to_numpy()))) if w.sum() > 0 else np.nan,
    }
    settings = {
        "method": method,
        "design": "staggered (cohort by cohort)" if staggered else "block",
        "se": se,
        "replications": replications if se in ("placebo", "bootstrap") else None,
        "seed": seed,
        "zeta_omega": float(next(iter(fits.values())).options.zeta_omega),
    }
    if reason:
        settings["se_note"] = reason
    return EstimationResult(
        params=pd.Series({TREATMENT_TERM: tau}),
        std_errors=pd.Series({TREATMENT_TERM: se_val}),
        term_aliases={"ATT": TREATMENT_TERM},  # the term before this release; kept one release
        model=_NAMES[method],
        df_resid=None,
        statistic_name="z",
        rows=RowReport(n_input=panel.n_rows, n_used=panel.n_rows),
        settings=settings,
        reference=REFERENCE,
        outcome=y,
        fixed_effects=() if method == "sc" else (entity, time),
        vcov_type={"placebo": "randomization", "bootstrap": "bootstrap"}.get(se, "other"),
        seed=seed if isinstance(seed, (int, np.integer)) else None,
        stats=stats_,
        extra={"omega": omega, "lambda": lambdas, "cohorts": table, "draws": draws, "panel": panel,
               "fits": fits},
        alpha=alpha,
    )
