"""Placebo tests for a TWFE DiD: randomization inference, fake timing and placebo outcomes.

Randomization (permutation) inference: reassign the treatment at random many times, re-estimate the
TWFE coefficient each time, and locate the actual estimate in that distribution (安慰剂检验/随机抽样
处理组). Fisher (1935); for DiD with fixed effects as Stata ``ritest`` (Heß 2017, Stata Journal
17(3):630-651), which reports the two-sided p = c/B. We also report the finite-sample-exact
(1 + c)/(B + 1) and the Monte Carlo error.

Speed: the outcome and controls are demeaned once; each coefficient is one Frisch-Waugh-Lovell
ratio beta_b = r_b'y_W / r_b'r_b with r_b = D~_b - W~ (P D~_b). Because y_W and W~ are already
two-way demeaned, r_b'y_W = D_b'y_W and W~'D~_b = W~'D_b, and D~_b'D~_b has a closed form (below),
so a draw costs O(treated units x periods) whether or not the panel is balanced.

Unbalanced panels (the closed form used by ``engine="closed_form"``): the two-way annihilator is
M = M_u - Z (Z'Z)^+ Z' with M_u the within-unit demeaning and Z = M_u T the within-unit demeaned
period dummies (Frisch-Waugh-Lovell; the unit effects are swept exactly, the few period effects
are partialled out by one small regression). For a unit i observed n_i times, of which k_i at or
after its pseudo adoption, D'M_u D = sum_i (k_i - k_i^2/n_i) and (Z'D)_t = sum_i obs_it
(1[t >= G_i] - k_i/n_i), hence D'MD = D'M_u D - (Z'D)'(Z'Z)^+ (Z'D).
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..demean import FixedEffects
from ..errors import SpecificationError, check_choice
from ..plots import new_figure, tr
from ..results import EstimationResult, RowReport
from ._common import (
    TREATMENT_TERM,
    check_columns,
    check_keys,
    check_pre_period,
    drop_missing,
    fe_ols,
    resolve_adoption,
)

__all__ = ["placebo_test", "fake_timing_test", "placebo_outcome_test", "PlaceboResult", "SCHEMES"]

SCHEMES = ("units", "units_and_years", "within_province")


@dataclass(repr=False)
class PlaceboResult(EstimationResult):
    """Actual TWFE estimate (``params``) and its randomization distribution.

    Attributes
    ----------
    draws
        The B placebo coefficients.
    actual
        The TWFE coefficient with the real treatment.
    p_value
        Two-sided ``c/B`` with ``c = #{|beta_b| >= |beta|}`` (Stata ``ritest``).
    p_value_exact
        ``(1 + c)/(B + 1)``, counting the actual assignment as one draw (recommended).
    assignments
        B x n_units array of pseudo adoption years (0 = never treated), columns in ``units``
        order, so any draw can be refitted elsewhere.
    """

    draws: np.ndarray = field(default_factory=lambda: np.empty(0))
    actual: float = np.nan
    count: int = 0
    p_value: float = np.nan
    p_value_exact: float = np.nan
    p_value_lower: float = np.nan
    p_value_upper: float = np.nan
    mc_error: float = np.nan
    scheme: str = "units"
    assignments: np.ndarray | None = None
    units: pd.Index | None = None

    def summary(self) -> str:
        return (f"{super().summary()}\nrandomization inference ({self.scheme}, B = {len(self.draws)}): "
                f"actual {self.actual:.6g}; c = {self.count}; two-sided p = c/B = {self.p_value:.4g} "
                f"(exact (1+c)/(B+1) = {self.p_value_exact:.4g}; MC error {self.mc_error:.2g}); "
                f"placebo mean {self.draws.mean():.4g}, sd {self.draws.std(ddof=1):.4g}")

    def table(self) -> pd.DataFrame:
        """One-row summary for a paper's table."""
        q = np.quantile(self.draws, [0.025, 0.975])
        return pd.DataFrame([{
            "actual": self.actual, "placebo_mean": self.draws.mean(), "placebo_sd": self.draws.std(ddof=1),
            "placebo_q025": q[0], "placebo_q975": q[1], "n_draws": len(self.draws), "count_abs_ge": self.count,
            "p_two_sided": self.p_value, "p_exact": self.p_value_exact, "mc_error": self.mc_error,
            "scheme": self.scheme,
        }])

    def plot(self, lang: str = "zh", ax=None, title: str | None = None, truth: float | None = None):
        """Density (histogram and kernel density) of the placebo estimates, actual estimate marked."""
        if ax is None:
            fig, ax = new_figure(lang, figsize=(6.2, 3.8))
        else:
            fig = ax.figure
        d = self.draws
        ax.hist(d, bins=40, density=True, color="0.75", edgecolor="white", label=tr("Placebo draws", "安慰剂估计", lang))
        if len(d) > 2 and np.std(d) > 0:
            grid = np.linspace(min(d.min(), self.actual), max(d.max(), self.actual), 300)
            ax.plot(grid, stats.gaussian_kde(d)(grid), color="C0", lw=1.4, label=tr("Kernel density", "核密度", lang))
        ax.axvline(self.actual, color="C3", lw=1.5,
                   label=tr(f"Actual estimate = {self.actual:.4f} (p = {self.p_value_exact:.3f})",
                            f"真实估计值 = {self.actual:.4f}（p = {self.p_value_exact:.3f}）", lang))
        if truth is not None:
            ax.axvline(truth, color="C2", lw=1.2, ls=":", label=tr(f"Simulated truth = {truth:.4f}", f"模拟真值 = {truth:.4f}", lang))
        ax.axvline(0, color="0.4", lw=0.6)
        ax.set_xlabel(tr("Placebo coefficient", "安慰剂回归系数", lang))
        ax.set_ylabel(tr("Density", "密度", lang))
        if title:
            ax.set_title(title)
        ax.legend(loc="upper left")
        return fig


def _prepare(data, y, treat, adoption, entity, time, controls, extra_cols=()):
    controls = list(controls)
    check_columns(data, [y, entity, time, treat, adoption, *controls, *extra_cols])
    check_keys(data, entity, time)
    g = resolve_adoption(data, entity, time, treat=treat, adoption=adoption)
    cols = list(dict.fromkeys([c for c in [entity, time, y, treat, adoption, *controls, *extra_cols] if c]))
    frame, dropped = drop_missing(data[cols], [y, *controls])
    check_pre_period(g, frame, entity, time)
    return frame, dropped, g, controls


class _TwoWayFWL:
    """Exact two-way (unit + period) annihilator for an unbalanced panel, by Frisch-Waugh-Lovell.

    ``annihilate(x)`` returns M x with M = M_u - Z (Z'Z)^+ Z' (module docstring): the unit effects
    are swept by group means, the period effects by one regression on the within-unit demeaned
    period dummies Z (the last period dropped: its column is minus the sum of the others). No
    iteration, so no convergence tolerance; cost O(n x T) per column.
    """

    def __init__(self, ucode: np.ndarray, tcode: np.ndarray, n_units: int, n_periods: int):
        self.ucode, self.tcode = ucode, tcode
        self.n_units, self.T = n_units, n_periods
        self.n_i = np.bincount(ucode, minlength=n_units).astype(float)
        obs = np.zeros((n_units, n_periods))
        np.add.at(obs, (ucode, tcode), 1.0)
        self.obs = obs  # units x periods, 1 where observed
        share = obs[:, :-1] / self.n_i[:, None]
        Z = -share[ucode]
        keep = tcode < n_periods - 1
        Z[np.flatnonzero(keep), tcode[keep]] += 1.0
        self.Z = Z
        self.ZZ_inv = np.linalg.pinv(Z.T @ Z, rcond=1e-12, hermitian=True)

    def annihilate(self, x) -> np.ndarray:
        arr = np.asarray(x, dtype=float)
        one_d = arr.ndim == 1
        arr = arr.reshape(len(self.ucode), -1)
        sums = np.column_stack([np.bincount(self.ucode, weights=arr[:, j], minlength=self.n_units)
                                for j in range(arr.shape[1])])
        xu = arr - (sums / self.n_i[:, None])[self.ucode]
        out = xu - self.Z @ (self.ZZ_inv @ (self.Z.T @ xu))
        return out.ravel() if one_d else out


#: Above this many periods the unbalanced closed form (dense n x T dummies) gives way to batch demeaning.
MAX_CLOSED_FORM_PERIODS = 200


def _rng(seed):
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def placebo_test(
    data: pd.DataFrame,
    y: str,
    treat: str | None = None,
    adoption: str | None = None,
    entity: str = "county",
    time: str = "year",
    n_draws: int = 1000,
    scheme: str = "units",
    controls: Sequence[str] = (),
    strata: str = "province",
    seed: int | np.random.Generator | None = None,
    batch_size: int = 250,
    progress: bool = True,
    engine: str = "auto",
) -> PlaceboResult:
    """Randomization-inference placebo test of a TWFE DiD coefficient.

    Long because the closed-form and regression paths, the cluster SE and the batched draws share one demeaned
    design; the inner helpers are closures over it.

    Parameters
    ----------
    data
        Long panel.
    y
        Outcome.
    treat, adoption
        The real treatment: a 0/1 absorbing column and/or the adoption year per unit.
    n_draws
        Number of random reassignments B.
    scheme
        ``"units"``: permute the units' adoption years across all units (as many pseudo-treated
        units as treated ones, each carrying a real adoption year; the cohort sizes are kept).
        ``"units_and_years"``: draw as many pseudo-treated units as treated ones and give each an
        adoption year drawn uniformly from the sample years after the first (so each has a
        pre-period). ``"within_province"``: permute adoption years within each ``strata`` group
        (same number of pseudo-treated units and years per province).
    controls
        Time-varying covariates (partialled out once).
    strata
        Column defining the groups for ``"within_province"``.
    seed
        Integer or Generator; same seed, same draws.
    batch_size
        Draws demeaned together (memory: n_obs x batch_size floats).
    progress
        Show a tqdm progress bar.
    engine
        ``"demean"``: build the pseudo-treatment columns of a batch, demean them together with the
        stored fixed effects, then one FWL ratio per draw (any panel). ``"closed_form"``: the
        two-way demeaned treatment in closed form, so each draw costs O(treated units) on a balanced
        panel and O(treated units x periods) on an unbalanced one (module docstring; at most
        ``MAX_CLOSED_FORM_PERIODS`` periods); same numbers as ``"demean"``. ``"auto"`` (default):
        closed form whenever it applies. On unbalanced panels the outcome and controls are
        two-way demeaned exactly (no iteration) by the same Frisch-Waugh-Lovell step.

    Returns
    -------
    PlaceboResult
        ``params`` = actual TWFE coefficient with county-clustered SE; ``draws``; ``p_value``
        (c/B, Stata ``ritest``), ``p_value_exact`` ((1+c)/(B+1)), one-sided p-values and MC error.

    Notes
    -----
    About 140 lines of code in one function: the draw schemes (units, within province), the
    closed-form and demeaning engines and the batching share the demeaned design computed once at the
    top (the speed of the placebo loop depends on it); splitting it is left for a later change.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    >>> d["treat"] = ((d["adoption"] > 0) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> res = placebo_test(d, "y", treat="treat", n_draws=99, seed=0, progress=False)
    >>> round(float(res.actual), 2), len(res.draws)
    (0.5, 99)
    >>> round(float(res.p_value_exact), 2)  # no permuted assignment beats the true one: 1/(99+1)
    0.01
    """
    check_choice("scheme", scheme, SCHEMES)
    if n_draws < 1:
        raise SpecificationError(f"n_draws={n_draws} must be at least 1.")
    extra = (strata,) if scheme == "within_province" else ()
    n_input = len(data)
    frame, dropped, g, controls = _prepare(data, y, treat, adoption, entity, time, controls, extra)
    rng = _rng(seed)
    units = pd.Index(pd.unique(frame[entity]))
    ucode = units.get_indexer(frame[entity])
    G = g.reindex(units).to_numpy(dtype=float)  # NaN = never
    if not np.isfinite(G).any():
        raise SpecificationError("no treated units: nothing to permute.")
    tvals = frame[time].to_numpy(dtype=float)
    fe = FixedEffects(frame[[entity, time]])
    yrs = np.sort(frame[time].unique())
    T, n_u = len(yrs), len(units)
    tcode = np.searchsorted(yrs, tvals)
    check_choice("engine", engine, ("auto", "closed_form", "demean"))
    twfwl = None
    if not fe.balanced_two_way and T <= MAX_CLOSED_FORM_PERIODS:
        twfwl = _TwoWayFWL(ucode, tcode, n_u, T)
    annihilate = fe.demean if twfwl is None else twfwl.annihilate
    yW = annihilate(np.column_stack([frame[y].to_numpy(dtype=float)] + [frame[c].to_numpy(dtype=float) for c in controls]))
    yt, Wt = yW[:, 0], yW[:, 1:]
    if controls:
        P = np.linalg.pinv(Wt.T @ Wt) @ Wt.T
        y_w = yt - Wt @ (P @ yt)
    else:
        P, y_w = None, yt

    closed_ok = fe.balanced_two_way or twfwl is not None
    closed = engine == "closed_form" or (engine == "auto" and closed_ok)
    if closed and not closed_ok:
        raise SpecificationError(f"engine='closed_form' handles unbalanced panels with at most "
                                 f"{MAX_CLOSED_FORM_PERIODS} periods; this one has {T}. Use engine='auto'.")
    if closed:
        # D~'y_W and W~'D are sums over the pseudo-treated units of reverse cumulative sums (over
        # periods t >= G_i) of y_W and W~; D~'D~ follows from the treated-period counts per unit and
        # per period (balanced: two-way demeaning in closed form; unbalanced: module docstring).
        stack = np.zeros((n_u, T, 1 + Wt.shape[1]))
        stack[ucode, tcode, 0] = y_w
        if controls:
            stack[ucode, tcode, 1:] = Wt
            WtW_inv = np.linalg.pinv(Wt.T @ Wt)
        rcum = np.zeros((n_u, T + 1, stack.shape[2]))
        rcum[:, :T] = np.flip(np.cumsum(np.flip(stack, axis=1), axis=1), axis=1)
        if twfwl is not None:
            kcum = np.zeros((n_u, T + 1))
            kcum[:, :T] = np.flip(np.cumsum(np.flip(twfwl.obs, axis=1), axis=1), axis=1)
            periods = np.arange(T - 1)

    def dtd_unbalanced(nb, bb, ii, s):
        """D'MD per draw on an unbalanced panel (module docstring)."""
        k = kcum[ii, s]
        dbar = k / twfwl.n_i[ii]
        within = np.bincount(bb, weights=k - k * dbar, minlength=nb)
        A = twfwl.obs[ii, :-1] * ((periods[None, :] >= s[:, None]) - dbar[:, None])
        q = np.column_stack([np.bincount(bb, weights=A[:, t], minlength=nb) for t in range(T - 1)])
        return within - np.einsum("bi,ij,bj->b", q, twfwl.ZZ_inv, q)

    def betas(Gmat: np.ndarray) -> np.ndarray:
        """FWL coefficients for adoption-year matrix Gmat (B x n_units, NaN = never)."""
        if closed:
            nb = Gmat.shape[0]
            bb, ii = np.nonzero(np.isfinite(Gmat))
            s = np.searchsorted(yrs, Gmat[bb, ii], side="left")  # first treated period (T = after sample)
            sums = np.zeros((nb, stack.shape[2]))
            np.add.at(sums, bb, rcum[ii, s])
            if twfwl is not None:
                dtd = dtd_unbalanced(nb, bb, ii, s)
            else:
                a = (T - s).astype(float)
                sum_a = np.bincount(bb, weights=a, minlength=nb)
                sum_a2 = np.bincount(bb, weights=a * a, minlength=nb)
                c = np.cumsum(np.bincount(bb * (T + 1) + s, minlength=nb * (T + 1)).reshape(nb, T + 1), axis=1)[:, :T]
                dtd = sum_a - sum_a2 / T - (c.astype(float) ** 2).sum(1) / n_u + sum_a ** 2 / (n_u * T)
            if controls:
                q = sums[:, 1:]
                dtd = dtd - np.einsum("bi,ij,bj->b", q, WtW_inv, q)
            return sums[:, 0] / dtd
        Gobs = np.nan_to_num(Gmat, nan=np.inf)[:, ucode].T  # n_obs x B
        D = (tvals[:, None] >= Gobs).astype(float)
        Dt = annihilate(D)
        R = Dt - Wt @ (P @ Dt) if controls else Dt
        return (R.T @ y_w) / np.einsum("ij,ij->j", R, R)

    actual = float(betas(G[None, :])[0])
    # clustered SE of the actual estimate (demean the real treatment with the same FEs)
    Dreal = annihilate((tvals >= np.nan_to_num(G, nan=np.inf)[ucode]).astype(float))
    X = np.column_stack([Dreal, Wt]) if controls else Dreal[:, None]
    fit = fe_ols(yt, X, [TREATMENT_TERM, *controls], fe, frame[entity].to_numpy(), demeaned=True)

    treated_years = G[np.isfinite(G)]
    n_treated = len(treated_years)
    year_pool = np.sort(frame[time].unique())[1:]
    if scheme == "within_province":
        sv = frame.groupby(entity, sort=False)[strata].first().reindex(units)
        if sv.isna().any():
            raise SpecificationError(f"strata column {strata!r} is missing for some units; fill it.")
        strata_idx = [np.flatnonzero(sv.to_numpy() == s) for s in pd.unique(sv)]

    def draw(nb: int) -> np.ndarray:
        base = np.tile(G, (nb, 1))
        if scheme == "units":
            return rng.permuted(base, axis=1)
        if scheme == "within_province":
            out = base.copy()
            for idx in strata_idx:
                out[:, idx] = rng.permuted(base[:, idx], axis=1)
            return out
        out = np.full((nb, len(units)), np.nan)
        for b in range(nb):
            chosen = rng.choice(len(units), size=n_treated, replace=False)
            out[b, chosen] = rng.choice(year_pool, size=n_treated, replace=True)
        return out

    from tqdm import tqdm

    draws = np.empty(n_draws)
    assignments = np.zeros((n_draws, len(units)), dtype=np.int16)
    bar = tqdm(total=n_draws, desc=f"placebo ({scheme})", disable=not progress, file=sys.stderr, leave=False)
    for start in range(0, n_draws, batch_size):
        nb = min(batch_size, n_draws - start)
        Gb = draw(nb)
        draws[start:start + nb] = betas(Gb)
        assignments[start:start + nb] = np.nan_to_num(Gb, nan=0).astype(np.int16)
        bar.update(nb)
    bar.close()

    B = n_draws
    c = int(np.sum(np.abs(draws) >= np.abs(actual) - 1e-12 * max(1.0, abs(actual))))
    p = c / B
    res = PlaceboResult(
        params=pd.Series({TREATMENT_TERM: actual}),
        std_errors=pd.Series({TREATMENT_TERM: float(np.sqrt(fit.cov.iloc[0, 0]))}),
        model="Randomization-inference placebo test (TWFE DiD)",
        df_resid=fit.df_resid,
        rows=RowReport(n_input=n_input, n_used=len(frame), dropped=dropped),
        settings={"y": y, "treatment": treat or adoption, "scheme": scheme, "n_draws": B, "seed": seed
                  if not isinstance(seed, np.random.Generator) else "Generator", "controls": controls,
                  "fixed effects": f"{entity} + {time}", "strata": strata if scheme == "within_province" else None,
                  "p-value": "two-sided c/B (ritest) and (1+c)/(B+1)",
                  "engine": "closed_form" if closed else "demean"},
        reference="Fisher randomization inference; Stata ritest (Hess 2017)",
        outcome=y, fixed_effects=(entity, time), vcov_type="cluster", cluster=(entity,), n_clusters=fit.n_clusters,
        seed=seed if isinstance(seed, (int, np.integer)) else None,
        stats={"N": len(frame), "treated units": n_treated, "units": len(units)},
        draws=draws,
        actual=actual,
        count=c,
        p_value=p,
        p_value_exact=(1 + c) / (B + 1),
        p_value_lower=float((1 + np.sum(draws <= actual)) / (B + 1)),
        p_value_upper=float((1 + np.sum(draws >= actual)) / (B + 1)),
        mc_error=float(np.sqrt(p * (1 - p) / B)),
        scheme=scheme,
        assignments=assignments,
        units=units,
    )
    return res


def _twfe(frame, y, d, controls, entity, time, cluster):
    fe = FixedEffects(frame[[entity, time]])
    X = np.column_stack([d] + [frame[c].to_numpy(dtype=float) for c in controls])
    return fe_ols(frame[y].to_numpy(dtype=float), X, [TREATMENT_TERM, *controls], fe, frame[cluster].to_numpy())


def fake_timing_test(
    data: pd.DataFrame,
    y: str,
    treat: str | None = None,
    adoption: str | None = None,
    shift: int = -2,
    entity: str = "county",
    time: str = "year",
    controls: Sequence[str] = (),
) -> EstimationResult:
    """Fake-timing placebo: move every adoption ``-shift`` years earlier and re-estimate.

    Every treated unit's actual post-treatment rows (``time >= adoption``) are dropped, so the fake
    treatment only covers years in which nobody was treated; a significant coefficient signals
    anticipation or pre-trends. ``shift`` must be negative (``shift=-2``: two years earlier).
    Treated units left with no fake pre-period (fake adoption at or before their first year) keep
    their rows, all fake-treated; they are absorbed by the unit fixed effect.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    >>> d["treat"] = ((d["adoption"] > 0) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> res = fake_timing_test(d, "y", treat="treat", shift=-2)  # pretend the pilot started 2 years early
    >>> abs(round(float(res.params["did"]), 2))
    0.0
    """
    if shift >= 0:
        raise SpecificationError(f"shift={shift}: give a negative shift (years earlier), e.g. shift=-2.")
    n_input = len(data)
    frame, dropped, g, controls = _prepare(data, y, treat, adoption, entity, time, controls)
    ga = frame[entity].map(g).astype(float)
    post = ga.notna() & (frame[time] >= ga)
    if post.any():
        dropped["actual post-treatment rows of treated units"] = int(post.sum())
        frame, ga = frame.loc[~post], ga.loc[~post]
    fake = (ga.notna() & (frame[time] >= ga + shift)).astype(float).to_numpy()
    if fake.sum() == 0:
        raise SpecificationError(f"shift={shift} leaves no fake-treated rows inside the sample; use a larger shift.")
    fit = _twfe(frame, y, fake, controls, entity, time, entity)
    return EstimationResult(
        params=fit.params, std_errors=pd.Series(np.sqrt(np.diag(fit.cov)), index=fit.params.index),
        model=f"Fake-timing placebo (adoption {shift} years)", cov=fit.cov,
        df_resid=fit.df_resid, rows=RowReport(n_input=n_input, n_used=len(frame), dropped=dropped),
        settings={"y": y, "shift": shift, "controls": controls, "fixed effects": f"{entity} + {time}",
                  "se": f"CRV1 clustered by {entity}, reghdfe small-sample factor"},
        reference="fake-timing (pre-dated treatment) placebo (Stata reghdfe with a pre-dated treatment dummy)",
        stats={"N": fit.nobs, "clusters": fit.n_clusters},
        outcome=y, fixed_effects=(entity, time), vcov_type="cluster", cluster=(entity,), n_clusters=fit.n_clusters,
    )


def placebo_outcome_test(
    data: pd.DataFrame,
    outcomes: Sequence[str],
    treat: str | None = None,
    adoption: str | None = None,
    entity: str = "county",
    time: str = "year",
    controls: Sequence[str] = (),
) -> EstimationResult:
    """TWFE DiD of the real treatment on outcomes it should not affect (placebo outcomes).

    Returns one coefficient per outcome (term = outcome name). Rows with a missing value in an
    outcome are dropped for that outcome only; ``extra["rows"]`` holds a RowReport per outcome.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    >>> d["treat"] = ((d["adoption"] > 0) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> d["unrelated"] = rng.normal(size=len(d))
    >>> res = placebo_outcome_test(d, ["unrelated"], treat="treat")
    >>> res.to_frame()["term"].tolist(), bool(res.to_frame()["p_value"].iloc[0] > 0.05)
    (['unrelated'], True)
    """
    outcomes = list(outcomes)
    if not outcomes:
        raise SpecificationError("give at least one placebo outcome.")
    params, ses, reports, dfs = {}, {}, {}, []
    for out in outcomes:
        frame, dropped, g, ctrl = _prepare(data, out, treat, adoption, entity, time, controls)
        ga = frame[entity].map(g).astype(float)
        d = (ga.notna() & (frame[time] >= ga)).astype(float).to_numpy()
        fit = _twfe(frame, out, d, ctrl, entity, time, entity)
        params[out], ses[out] = fit.params[TREATMENT_TERM], float(np.sqrt(fit.cov.iloc[0, 0]))
        reports[out] = RowReport(n_input=len(data), n_used=len(frame), dropped=dropped)
        dfs.append(fit.df_resid)
    return EstimationResult(
        params=pd.Series(params), std_errors=pd.Series(ses), model="Placebo-outcome DiD", df_resid=min(dfs),
        settings={"treatment": treat or adoption, "controls": list(controls), "fixed effects": f"{entity} + {time}",
                  "se": f"CRV1 clustered by {entity}, reghdfe small-sample factor"},
        reference="placebo outcomes (outcomes the policy cannot affect)",
        rows=max(reports.values(), key=lambda r: r.n_used), extra={"rows": reports},
        outcome=", ".join(outcomes), fixed_effects=(entity, time), vcov_type="cluster", cluster=(entity,),
    )
