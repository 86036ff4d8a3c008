"""Monte Carlo size and power of a DiD design on the real county frame.

Before a study: with 33 pilot counties, what effect could a DiD detect at all? :func:`design_power`
answers by simulation. The outcome's noise is taken from a real or simulated panel: the residuals of
a two-way fixed-effects fit of the outcome (``noise="resample"`` gives each county the residual
path of a county drawn with replacement, so serial correlation is kept; ``noise="in_place"`` keeps
every county's own path, so spatial correlation is kept as well, and only the treated set is drawn).
Each draw then picks the treated counties and their adoption years as the design says, adds the
effect, and estimates it:

* ``"twfe"``: static two-way FE with county-clustered SEs (reghdfe's small-sample factor), for every
  effect size at once (the estimator is linear in the outcome, so one fit per draw serves all sizes);
* ``"callaway_santanna"``: :func:`analysis.did.callaway_santanna` (never-treated controls, outcome
  regression, analytic SEs, simple aggregation), one fit per draw and effect size.

The TWFE coefficient can be tested three ways (``inference=``), reported side by side so that a
user with few treated counties can pick a test that holds its level (see
:mod:`analysis.robustness.power_inference`): the county-clustered t (``"cluster_t"``), the wild
cluster restricted bootstrap with Webb weights (``"wild_bootstrap"``, as
:func:`analysis.regression.wild_bootstrap`) and randomization inference (``"randomization"``, as
:func:`analysis.did.placebo_test`).

Rejection rates at effect 0 are the test's size; at other effects its power. Reported with their
Monte Carlo standard errors √(p(1−p)/n_sims).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import stats

from .._compat import renamed_kwargs
from ..errors import ColumnError, SpecificationError, UnbalancedPanelError, check_choice
from ..plots import new_figure, tr
from ..regression.wild_bootstrap import draw_weights
from ..results import RowReport, TidyResult
from .power_inference import INFERENCE_METHODS, demean2, permutation_sets, randomization_p, wild_p

__all__ = ["PowerResult", "design_power", "residual_paths"]


@dataclass
class PowerResult(TidyResult):
    """Rejection rates by estimator, inference method and effect size, with Monte Carlo SEs.

    ``to_frame()`` is the long table (estimator, inference, effect, rejection_rate, mc_se,
    mean_estimate); ``plot()`` draws the power curves. ``rows`` counts counties (the units whose
    residuals are resampled), not county-years.
    """

    table: pd.DataFrame = field(default_factory=pd.DataFrame)
    design: dict = field(default_factory=dict)

    def to_frame(self) -> pd.DataFrame:
        return self.table.reset_index(drop=True)

    def plot(self, lang: str = "zh"):
        fig, ax = new_figure(lang, figsize=(6, 4))
        names = {"twfe": tr("TWFE", "双向固定效应", lang), "callaway_santanna": "Callaway-Sant'Anna",
                 "cluster_t": tr("clustered t", "聚类t检验", lang),
                 "wild_bootstrap": tr("wild cluster bootstrap", "野自助法", lang),
                 "randomization": tr("randomization inference", "随机化推断", lang)}
        table = self.table.assign(inference=self.table.get("inference", "cluster_t"))
        for (est, inf), d in table.groupby(["estimator", "inference"], sort=False):
            label = names.get(est, est) if est != "twfe" else f"{names['twfe']}, {names.get(inf, inf)}"
            ax.plot(d["effect"], d["rejection_rate"], marker="o", label=label)
            ax.fill_between(d["effect"], d["rejection_rate"] - 1.96 * d["mc_se"],
                            d["rejection_rate"] + 1.96 * d["mc_se"], alpha=0.15)
        ax.axhline(self.settings.get("alpha", 0.05), color="grey", lw=0.8, ls=":")
        ax.axhline(0.8, color="grey", lw=0.8, ls="--")
        ax.set_ylim(0, 1.02)
        ax.set_xlabel(tr("true effect", "真实效应", lang))
        ax.set_ylabel(tr("rejection rate (size at 0, power elsewhere)", "拒绝率（效应为0时为检验水平）", lang))
        ax.set_title(tr(f"Design power: {self.design.get('n_treated')} treated counties, "
                        f"{self.settings.get('n_sims')} draws",
                        f"设计功效：{self.design.get('n_treated')}个处理县，{self.settings.get('n_sims')}次模拟", lang))
        ax.legend()
        return fig


def residual_paths(panel: pd.DataFrame, outcome: str, entity: str = "county", time: str = "year",
                   years: Sequence[int] | None = None) -> pd.DataFrame:
    """Counties x years matrix of two-way FE residuals of ``outcome`` (balanced rows only, reported).

    Examples
    --------
    An outcome that is county effect + year effect + one shock of 1 in county 0, 2010: the residuals
    are that shock two-way demeaned (1 - 1/4 - 1/60 + 1/240 = 0.7375 in its own cell).

    >>> import numpy as np, pandas as pd
    >>> from analysis.robustness.power import residual_paths
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(60), 4), "year": np.tile(np.arange(2010, 2014), 60)})
    >>> d["y"] = d["county"] * 0.1 + (d["year"] - 2010) * 0.5 + ((d["county"] == 0) & (d["year"] == 2010))
    >>> resid = residual_paths(d, "y")
    >>> resid.shape, round(float(resid.iloc[0, 0]), 4), resid.attrs["dropped_counties"]
    ((60, 4), 0.7375, [])
    """
    if outcome not in panel.columns:
        raise ColumnError(f"outcome {outcome!r} is not in the panel.")
    d = panel if years is None else panel[panel[time].isin(list(years))]
    wide = d.pivot(index=entity, columns=time, values=outcome)
    complete = wide.notna().all(axis=1)
    if complete.sum() < 50:
        raise UnbalancedPanelError(f"only {int(complete.sum())} counties have {outcome!r} in every year.")
    w = wide[complete].to_numpy(float)
    resid = w - w.mean(axis=1, keepdims=True) - w.mean(axis=0, keepdims=True) + w.mean()
    out = pd.DataFrame(resid, index=wide.index[complete], columns=wide.columns)
    out.attrs["dropped_counties"] = list(wide.index[~complete])
    return out


def _draw_design(rng, counties: pd.DataFrame, design: Mapping[str, Any], pilots: pd.DataFrame | None,
                 years: np.ndarray) -> np.ndarray:
    """Adoption year per county (0 = never treated) for one draw."""
    n = len(counties)
    k = int(design.get("n_treated", 33))
    selection = design.get("selection", "random")
    timing = design.get("adoption", [2015])
    if selection == "pilots":
        if pilots is None:
            raise SpecificationError("selection='pilots' needs the pilot list (analysis.datasets.load_land_reform_pilots).")
        pos = counties.index.get_indexer(pilots["county"])
        if (pos < 0).any():
            raise SpecificationError(f"pilot counties {list(pilots['county'][pos < 0])} are not in the noise panel.")
        chosen = pos
        adopt = pilots["adoption_year"].to_numpy()
    else:
        if selection == "random":
            chosen = rng.choice(n, size=k, replace=False)
        elif selection == "by_province":
            if pilots is None:
                raise SpecificationError("selection='by_province' draws as many counties per province as the pilots have.")
            per = pilots.groupby("province").size()
            chosen = np.concatenate([rng.choice(np.flatnonzero(counties["province"].to_numpy() == p),
                                                size=min(c, int((counties["province"] == p).sum())), replace=False)
                                     for p, c in per.items()])
        else:
            raise SpecificationError(f"selection={selection!r} is not 'random', 'by_province' or 'pilots'.")
        if timing == "pilots":
            adopt = rng.choice(pilots["adoption_year"].to_numpy(), size=len(chosen), replace=True)
        else:
            adopt = rng.choice(np.asarray(timing), size=len(chosen), replace=True)
    out = np.zeros(n, dtype=int)
    out[chosen] = adopt
    if (out[chosen] <= years.min()).any():
        raise SpecificationError("some adoption years leave no pre-period inside the design's years.")
    return out


def _effect_pattern(adopt: np.ndarray, years: np.ndarray, dynamics: str, ramp_years: int) -> tuple[np.ndarray, np.ndarray]:
    treated = (adopt[:, None] > 0) & (years[None, :] >= adopt[:, None])
    if dynamics == "constant":
        pattern = treated.astype(float)
    else:
        exposure = years[None, :] - adopt[:, None] + 1
        pattern = np.where(treated, np.minimum(exposure / ramp_years, 1.0), 0.0)
    return treated.astype(float), pattern


def _twfe_all_effects(resid: np.ndarray, D: np.ndarray, R: np.ndarray, effects: np.ndarray, alpha: float):
    """Static TWFE of (resid + τR) on D for all τ: estimates and reghdfe-clustered SEs."""
    def dm(a):
        return a - a.mean(axis=1, keepdims=True) - a.mean(axis=0, keepdims=True) + a.mean()

    Dt, Et, Rt = dm(D), dm(resid), dm(R)
    sxx = float((Dt * Dt).sum())
    b0 = float((Dt * Et).sum()) / sxx
    c = float((Dt * Rt).sum()) / sxx
    N, T = D.shape
    q = N / (N - 1) * (N * T - 1) / (N * T - T)  # reghdfe: K = 1 + (T - 1) year FE; county FE nested in cluster
    e0 = Et - b0 * Dt
    eR = Rt - c * Dt
    s0 = (Dt * e0).sum(axis=1)
    sR = (Dt * eR).sum(axis=1)
    est = b0 + effects * c
    se = np.sqrt(q * ((s0[None, :] + effects[:, None] * sR[None, :]) ** 2).sum(axis=1)) / sxx
    crit = stats.t.ppf(1 - alpha / 2, N - 1)
    return est, se, np.abs(est / se) > crit


@renamed_kwargs(n_boot="n_draws")
def design_power(design: Mapping[str, Any], effect_sizes: Sequence[float], n_sims: int = 500, seed=20261128,
                 panel: pd.DataFrame | None = None, outcome: str = "log_rural_income",
                 estimators: Sequence[str] = ("twfe",), alpha: float = 0.05, noise: str = "resample",
                 entity: str = "county", time: str = "year", progress: bool = False,
                 inference: Sequence[str] = ("cluster_t",), n_draws: int = 199,
                 weights_type: str = "webb") -> PowerResult:
    """Monte Carlo size and power of a DiD design.

    Parameters
    ----------
    design
        ``n_treated`` (default 33); ``selection``: ``"random"`` (uniform over counties),
        ``"by_province"`` (as many per province as the real pilots), ``"pilots"`` (the real 2015
        pilots, ``design["pilots"]`` a frame with county, province, adoption_year); ``adoption``: a
        list of years drawn uniformly, or ``"pilots"`` (the pilots' timing); ``years``: (first, last);
        ``dynamics``: ``"constant"`` or ``"ramp"`` (rises linearly to the full effect over
        ``ramp_years``).
    effect_sizes
        True effects on the outcome's scale (0 gives the size).
    panel, outcome
        Where the noise comes from (default: the shipped simulated panel, log rural income).
    estimators
        ``"twfe"`` and/or ``"callaway_santanna"``.
    inference
        Tests of the TWFE coefficient, any of ``"cluster_t"`` (county-clustered t),
        ``"wild_bootstrap"`` (WCR, ``weights_type`` weights, ``n_draws`` draws per simulation; Roodman
        et al. 2019, Stata ``boottest``) and ``"randomization"`` (adoption years permuted across
        counties, ``n_draws`` permutations; Stata ``ritest``). The table has one row per estimator,
        test and effect size. Callaway-Sant'Anna is tested with its analytic SE only.
    n_draws
        Bootstrap draws / permutations per simulated panel (199 keeps the level exact for
        randomization inference at 5%: (1 + c)/(B + 1)).

    Examples
    --------
    Noise from a panel of 60 counties x 8 years (sd 0.1); 10 counties adopt in 2014. The clustered
    t-test holds its level at effect 0 and detects an effect of 0.2 in every one of 40 draws:

    >>> import numpy as np, pandas as pd
    >>> from analysis.robustness import design_power
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(60), 8), "year": np.tile(np.arange(2010, 2018), 60)})
    >>> d["y"] = rng.normal(scale=0.1, size=len(d))
    >>> power = design_power({"n_treated": 10, "adoption": [2014]}, [0.0, 0.2], n_sims=40, seed=0,
    ...                      panel=d, outcome="y")
    >>> table = power.to_frame()
    >>> table[["effect", "rejection_rate"]].round(2).values.tolist(), round(float(table["mean_estimate"].iloc[1]), 2)
    ([[0.0, 0.05], [0.2, 1.0]], 0.2)
    """
    n_boot = n_draws  # the body's name for the number of draws (vocabulary: n_draws)
    for est in estimators:
        check_choice("estimator", est, ("twfe", "callaway_santanna"))
    inference = list(inference)
    for inf in inference:
        check_choice("inference", inf, INFERENCE_METHODS)
    if not inference:
        raise SpecificationError("inference needs at least one test, e.g. ('cluster_t', 'wild_bootstrap').")
    if int(n_boot) < 19 and any(i != "cluster_t" for i in inference):
        raise SpecificationError(f"n_draws={n_boot} is too small for a bootstrap or permutation p-value; use 199.")
    check_choice("noise", noise, ("resample", "in_place"))
    if panel is None:
        from ..datasets import load_county_panel

        panel = load_county_panel()
    if outcome == "log_rural_income" and outcome not in panel.columns:
        panel = panel.assign(log_rural_income=np.log(panel["rural_income"]))
    first, last = design.get("years", (int(panel[time].min()), int(panel[time].max())))
    years = np.arange(first, last + 1)
    resid = residual_paths(panel, outcome, entity, time, years)
    frame = panel.drop_duplicates(entity).set_index(entity).reindex(resid.index)
    pilots = design.get("pilots")
    if design.get("selection") == "pilots" and noise == "in_place":
        raise SpecificationError("with the real pilots fixed and the noise in place every draw is the same; "
                                 "use noise='resample'.")
    rng = np.random.default_rng(seed)
    effects = np.asarray(effect_sizes, dtype=float)
    dynamics = design.get("dynamics", "constant")
    ramp = int(design.get("ramp_years", 3))
    E = resid.to_numpy()
    keys = [("twfe", inf) for inf in inference if "twfe" in estimators]
    if "callaway_santanna" in estimators:
        keys.append(("callaway_santanna", "analytic"))
    rejections = {k: np.zeros(len(effects)) for k in keys}
    estimates = {est: [] for est in estimators}
    from tqdm.auto import tqdm

    for _ in tqdm(range(n_sims), disable=not progress, desc="draws"):
        adopt = _draw_design(rng, frame, design, pilots, years)
        noise_draw = E[rng.integers(0, len(E), len(E))] if noise == "resample" else E
        D, R = _effect_pattern(adopt, years, dynamics, ramp)
        if "twfe" in estimators:
            est, _, rej = _twfe_all_effects(noise_draw, D, R, effects, alpha)
            estimates["twfe"].append(est)
            if "cluster_t" in inference:
                rejections[("twfe", "cluster_t")] += rej
            if "wild_bootstrap" in inference or "randomization" in inference:
                Dt, Et, Rt = demean2(D), demean2(noise_draw), demean2(R)
                V = draw_weights(len(D), int(n_boot), weights_type, rng) if "wild_bootstrap" in inference else None
                idx = (permutation_sets(len(D), int((adopt > 0).sum()), int(n_boot), rng)
                       if "randomization" in inference else None)  # shared by all effect sizes
                for j, tau in enumerate(effects):
                    yt = Et + tau * Rt
                    if V is not None:
                        rejections[("twfe", "wild_bootstrap")][j] += wild_p(Dt, yt, V)[0] <= alpha
                    if "randomization" in inference:
                        p_ri = randomization_p(D, yt, adopt, years, int(n_boot), rng, idx=idx)[0]
                        rejections[("twfe", "randomization")][j] += p_ri <= alpha
        if "callaway_santanna" in estimators:
            from ..did import callaway_santanna

            long = pd.DataFrame({entity: np.repeat(resid.index.to_numpy(), len(years)),
                                 time: np.tile(years, len(resid)),
                                 "adopt": np.repeat(np.where(adopt > 0, adopt, np.nan), len(years))})
            ests, rej = [], []
            for tau in effects:
                long["y"] = (noise_draw + tau * R).ravel()
                res = callaway_santanna(long, "y", "adopt", entity=entity, time=time, control="never",
                                        method="reg", bootstrap=0)
                agg = res.aggregate("simple")
                a, s = float(agg.params["did"]), float(agg.std_errors["did"])
                ests.append(a)
                rej.append(abs(a / s) > stats.norm.ppf(1 - alpha / 2))
            rejections[("callaway_santanna", "analytic")] += np.asarray(rej, float)
            estimates["callaway_santanna"].append(np.asarray(ests))
    rows = []
    for est, inf in keys:
        rate = rejections[(est, inf)] / n_sims
        mean_est = np.mean(estimates[est], axis=0)
        for j, tau in enumerate(effects):
            rows.append({"estimator": est, "inference": inf, "effect": tau, "rejection_rate": rate[j],
                         "mc_se": np.sqrt(rate[j] * (1 - rate[j]) / n_sims), "mean_estimate": mean_est[j]})
    settings = {"n_sims": n_sims, "seed": seed, "alpha": alpha, "noise": noise, "outcome": outcome,
                "inference": inference, "n_boot": int(n_boot) if set(inference) - {"cluster_t"} else None,
                "weights_type": weights_type if "wild_bootstrap" in inference else None,
                "noise_counties": len(resid), "dropped_counties": len(resid.attrs.get("dropped_counties", []))}
    n_noise, n_drop = settings["noise_counties"], settings["dropped_counties"]
    return PowerResult(
        model="Monte Carlo design power of a staggered county DiD", table=pd.DataFrame(rows),
        design={k: v for k, v in design.items() if k != "pilots"}, settings=settings,
        rows=RowReport(n_input=n_noise + n_drop, n_used=n_noise,
                       dropped={"counties without the outcome in every year": n_drop} if n_drop else {}),
        reference=("Monte Carlo power of a staggered DiD on resampled county residuals; tests: county-clustered t, "
                   "wild cluster restricted bootstrap (Cameron, Gelbach and Miller 2008; Webb 2023 weights; Stata "
                   "boottest) and Fisher randomization inference (Stata ritest)"),
        seed=seed if isinstance(seed, (int, np.integer)) else None)
