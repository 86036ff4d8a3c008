"""Mediation analysis with fixed effects: the three-equation (Baron-Kenny) model as Chinese papers
report it (温忠麟 "中介效应检验"), with a county-cluster bootstrap CI for the indirect effect and the
Sobel test.

Equations, all with the same fixed effects (county and year by default) on one common sample:

    (1) y = c  x + controls + FE         total effect c
    (2) m = a  x + controls + FE         a path
    (3) y = c' x + b m + controls + FE   direct effect c' and b path

With OLS on the same sample and FEs, c = c' + a·b exactly (FWL), so the indirect effect is a·b.

Inference on a·b:

- Sobel (1982) test: se = sqrt(b² se_a² + a² se_b²) with the clustered SEs of (2) and (3).
- County-cluster (pairs) bootstrap: resample counties with replacement, re-estimate a and b,
  percentile CI. Vectorised: the FEs nested in the resampling cluster (county) are swept out once
  (resampling whole counties never changes a county's mean); the other FEs (year) enter as
  regressors demeaned by county; per-county cross-product matrices are accumulated once, and a
  bootstrap draw is the weighted sum of them with weights = how many times each county was drawn.
  This equals re-estimating on the resampled panel with every copy of a county as its own unit
  (Stata ``bootstrap, cluster(county) idcluster(newid)``), in O(B·G·d²) for all draws.

Caution. The b path (and hence a·b) is causal only if the mediator is as good as randomly assigned
given x, the controls and the FEs (sequential ignorability, Imai, Keele and Tingley 2010). A policy
DiD identifies c and a; b needs its own design (an instrument or a shock to m). The estimates of
b reported here are conditional associations unless the user supplies that design.

References: Baron and Kenny (1986); Sobel (1982); MacKinnon, Lockwood and Williams (2004) for the
bootstrap; 温忠麟、叶宝娟 (2014) 《中介效应分析：方法和模型发展》, 心理科学进展 22(5).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import sparse, stats

from .._compat import deprecated_alias, renamed_kwargs
from ..demean import FixedEffects
from ..errors import SpecificationError, check_choice
from ..results import EstimationResult, split_names
from ._sample import as_tuple, prepare_sample
from .fe import FEResult
from .fe import fe as _fe

__all__ = ["MediationResult", "mediation", "CAUSAL_NOTE", "MultipleMediationResult", "multiple_mediation",
           "MULTI_WARNINGS"]

#: Non-nested FE levels up to which the vectorised bootstrap is used (its cost grows with their square).
MAX_NONNESTED_LEVELS = 400

CAUSAL_NOTE = (
    "The b path is a conditional association: its causal reading (and that of a*b) needs sequential "
    "ignorability of the mediator or its own design (an instrument or a shock to the mediator); the "
    "policy design identifies c and a only (Imai, Keele and Tingley 2010)."
)

REFERENCE = (
    "Baron and Kenny (1986); Sobel (1982); MacKinnon, Lockwood and Williams (2004); 温忠麟、叶宝娟 "
    "(2014) 心理科学进展 22(5); equations as Stata reghdfe with absorb(county year) vce(cluster county)."
)


@dataclass(repr=False)
class MediationResult(EstimationResult):
    """Result of :func:`mediation`.

    ``params`` holds ``total`` (c), ``a``, ``b``, ``direct`` (c'), ``indirect`` (a·b); their SEs are
    clustered (indirect: Sobel). ``table()`` adds the bootstrap percentile CIs; ``equations`` holds
    the three :class:`FEResult` fits.
    """

    equations: dict = field(default_factory=dict)
    boot: pd.DataFrame | None = None
    sobel: dict = field(default_factory=dict)
    n_draws: int = 0

    n_boot = deprecated_alias("n_draws", "n_boot")

    def table(self) -> pd.DataFrame:
        """Tidy table: path, estimate, std_error, p_value, ci_low/ci_high (analytic; Sobel for
        indirect), boot_se, boot_ci_low, boot_ci_high.
        """
        out = self.to_frame().rename(columns={"term": "path"})
        if self.boot is not None and len(self.boot):
            a = self.alpha
            q = self.boot.quantile([a / 2, 1 - a / 2])
            out["boot_se"] = [self.boot[p].std(ddof=1) for p in out.path]
            out["boot_ci_low"] = [q.loc[a / 2, p] for p in out.path]
            out["boot_ci_high"] = [q.loc[1 - a / 2, p] for p in out.path]
        return out

    @property
    def pvalues(self) -> pd.Series:
        """t(df) p-values for the regression paths; the Sobel (normal) p-value for ``indirect``."""
        p = super().pvalues
        if "indirect" in p.index:
            p["indirect"] = float(2 * stats.norm.sf(abs(self.params["indirect"] / self.std_errors["indirect"])))
        return p

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        ci = super().conf_int(alpha)
        a = self.alpha if alpha is None else alpha
        if "indirect" in ci.index:
            q = stats.norm.ppf(1 - a / 2)
            est, se = self.params["indirect"], self.std_errors["indirect"]
            ci.loc["indirect"] = [est - q * se, est + q * se]
        return ci

    @property
    def proportion_mediated(self) -> float:
        return float(self.params["indirect"] / self.params["total"])


def _design(frame: pd.DataFrame, y: str, x: str, m: str, controls: Sequence[str]) -> np.ndarray:
    cols = [y, m, x] + list(controls)
    return frame[cols].to_numpy(dtype=float)


def _fast_boot(frame, y, x, m, controls, fe_codes, cluster, n_draws, rng, max_levels=MAX_NONNESTED_LEVELS):
    """Cluster bootstrap draws of (total, a, b, direct, indirect) via per-cluster cross-products."""
    cl = pd.factorize(frame[cluster], sort=True)[0]
    G = int(cl.max()) + 1
    nested = [bool(_is_nested(f, cl)) for f in fe_codes]
    nested_codes = [f for f, n in zip(fe_codes, nested) if n]
    other = [f for f, n in zip(fe_codes, nested) if not n]
    Z = _design(frame, y, x, m, controls)  # columns: y, m, x, controls
    if other:
        L = sum(int(f.max()) for f in other)  # one level dropped per FE
        if L > max_levels:
            return None
        F = np.hstack([np.eye(int(f.max()) + 1)[f][:, 1:] for f in other])
        Z = np.hstack([Z, F])
    if nested_codes:
        Z = FixedEffects(pd.DataFrame({i: f for i, f in enumerate(nested_codes)})).demean(Z)
    else:
        Z = np.hstack([Z, np.ones((len(Z), 1))])
    d = Z.shape[1]
    DT = sparse.csr_matrix((np.ones(len(cl)), (cl, np.arange(len(cl)))), shape=(G, len(cl)))
    M = np.empty((G, d, d))
    for j in range(d):
        M[:, :, j] = DT @ (Z * Z[:, [j]])
    Mf = M.reshape(G, d * d)
    idx_y, idx_m, idx_x = 0, 1, 2
    rest = list(range(3, d))  # controls + FE dummies (+ constant)
    out = np.full((n_draws, 5), np.nan)
    chunk = max(1, int(2e8 // (8 * d * d + 8 * G)))
    done = 0
    while done < n_draws:
        b = min(chunk, n_draws - done)
        K = rng.multinomial(G, np.full(G, 1.0 / G), size=b).astype(float)  # b x G
        S = (K @ Mf).reshape(b, d, d)
        # (2) m on x + rest ; (1) y on x + rest ; (3) y on x + m + rest
        for col, (dep, regs) in enumerate([(idx_y, [idx_x] + rest), (idx_m, [idx_x] + rest),
                                            (idx_y, [idx_x, idx_m] + rest)]):
            XX = S[:, regs][:, :, regs]
            Xy = S[:, regs, dep]
            try:
                coef = np.linalg.solve(XX, Xy[..., None])[..., 0]
            except np.linalg.LinAlgError:
                coef = np.einsum("bij,bj->bi", np.linalg.pinv(XX), Xy)
            if col == 0:
                out[done:done + b, 0] = coef[:, 0]  # total
            elif col == 1:
                out[done:done + b, 1] = coef[:, 0]  # a
            else:
                out[done:done + b, 3] = coef[:, 0]  # direct
                out[done:done + b, 2] = coef[:, 1]  # b
        done += b
    out[:, 4] = out[:, 1] * out[:, 2]
    return out


def _slow_boot(frame, y, x, m, controls, fe_codes, cluster, n_draws, rng):
    """Fallback when non-nested FEs have many levels: per draw, weighted demeaning with weights =
    cluster multiplicities (:class:`FixedEffects`), then the three weighted regressions.
    """
    cl = pd.factorize(frame[cluster], sort=True)[0]
    G = int(cl.max()) + 1
    Z = _design(frame, y, x, m, controls)
    out = np.full((n_draws, 5), np.nan)
    specs = [(0, [2] + list(range(3, Z.shape[1]))), (1, [2] + list(range(3, Z.shape[1]))),
             (0, [2, 1] + list(range(3, Z.shape[1])))]
    for b in range(n_draws):
        k = rng.multinomial(G, np.full(G, 1.0 / G)).astype(float)
        w = k[cl]
        keep = w > 0
        if fe_codes:
            fx = FixedEffects(pd.DataFrame({i: f[keep] for i, f in enumerate(fe_codes)}), weights=w[keep])
            Zd = fx.demean(Z[keep])
        else:
            Zd = np.column_stack([Z[keep], np.ones(int(keep.sum()))])
            specs = [(d, regs + [Zd.shape[1] - 1]) for d, regs in specs] if b == 0 else specs
        sw = np.sqrt(w[keep])[:, None]
        Zw = Zd * sw
        coefs = []
        for dep, regs in specs:
            coef, *_ = np.linalg.lstsq(Zw[:, regs], Zw[:, dep], rcond=None)
            coefs.append(coef)
        out[b, 0], out[b, 1] = coefs[0][0], coefs[1][0]
        out[b, 3], out[b, 2] = coefs[2][0], coefs[2][1]
    out[:, 4] = out[:, 1] * out[:, 2]
    return out


@dataclass
class _MediationInputs:
    """The checked inputs both mediation estimators share: one common sample for every equation."""

    frame: pd.DataFrame
    sample: object
    y: str
    controls: list
    fe_kw: dict

    def fit(self, formula: str) -> FEResult:
        """One equation on the common sample (the FEs, cluster and alpha of the call)."""
        return _fe(formula, self.frame, **self.fe_kw)

    def check_common(self, equations: dict) -> None:
        """Raise if an equation did not use every row of the common sample."""
        for name, eq in equations.items():
            if eq.nobs != len(self.frame):
                raise SpecificationError(
                    f"equation {name!r} used {eq.nobs} rows, not the common {len(self.frame)}; check for "
                    "singletons created by the controls.")

    def fe_codes(self) -> list[np.ndarray]:
        """Integer codes of every absorbed fixed effect (an ``a^b`` interaction coded jointly)."""
        f = self.frame
        return [pd.factorize(f[e] if "^" not in e else f[e.split("^")].astype(str).agg("|".join, axis=1),
                             sort=True)[0] for e in self.sample.fe]


def _mediation_inputs(data, y, x, mediators, controls, *, entity, time, fe, cluster, alpha) -> _MediationInputs:
    """Check and prepare the arguments of :func:`mediation` and :func:`multiple_mediation`.

    Controls as a list; one cluster variable (the bootstrap resamples it); mediators distinct and
    different from ``x`` and ``y``; a ``y`` expression such as ``"np.log(rural_income)"`` evaluated
    into a column ``_y_`` so that all equations share one sample; the common sample of the full
    outcome equation (rows dropped are counted in ``sample.rows``).
    """
    controls = list(as_tuple(controls))
    mediators = list(mediators)
    if not isinstance(cluster, str):
        raise SpecificationError("the mediation bootstrap resamples one cluster variable; pass cluster='county'.")
    if len(set(mediators)) != len(mediators) or x in mediators or y in mediators:
        raise SpecificationError(f"mediators {mediators} must be distinct and differ from x={x!r} and y={y!r}.")
    work, y_col = data, y
    if y not in data.columns:
        names = {c: data[c] for c in data.columns if str(c).isidentifier()}
        try:
            values = eval(y, {"np": np, "__builtins__": {}}, names)  # noqa: S307 - user's own expression
        except Exception as exc:
            raise SpecificationError(
                f"could not evaluate the outcome {y!r} ({exc}); give a column name or an expression "
                "of columns such as 'np.log(rural_income)'."
            ) from exc
        y_col = "_y_"
        work = data.assign(**{y_col: np.asarray(values, dtype=float)})
    full = f"{y_col} ~ {' + '.join([x] + mediators + controls)}"
    sample = prepare_sample(work, full, fe, extra_columns=[cluster], entity=entity, time=time)
    return _MediationInputs(frame=sample.frame, sample=sample, y=y_col, controls=controls,
                            fe_kw=dict(entity=entity, time=time, fe=fe, cluster=cluster, alpha=alpha))


def _generator(seed) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _is_nested(inner, outer) -> bool:
    inner = np.asarray(inner, dtype=np.int64)
    pairs = np.unique(inner * (int(outer.max()) + 1) + outer)
    return pairs.size == np.unique(inner).size


@renamed_kwargs(n_boot="n_draws")
def mediation(
    data: pd.DataFrame,
    y: str,
    x: str,
    m: str,
    controls: Sequence[str] = (),
    *,
    entity: str = "county",
    time: str = "year",
    fe=("county", "year"),
    cluster: str = "county",
    n_draws: int = 999,
    seed=None,
    alpha: float = 0.05,
) -> MediationResult:
    """Three-equation mediation with fixed effects, Sobel test and county-cluster bootstrap CI.

    Parameters
    ----------
    data
        Long panel.
    y, x, m
        Outcome, treatment (e.g. ``land_reform``) and mediator (e.g. ``land_transfer_rate``)
        columns. ``y`` may be a formula expression such as ``"np.log(rural_income)"``.
    controls
        Control columns, in all three equations.
    fe, cluster, entity, time
        As :func:`~analysis.regression.fe`; the bootstrap resamples ``cluster`` units.
    n_draws
        Bootstrap draws (0 to skip; old keyword ``n_boot=``, deprecated); ``seed`` makes them
        reproducible.

    Returns
    -------
    MediationResult
        ``params`` total/a/b/direct/indirect, ``table()`` with Sobel and bootstrap CIs,
        ``equations`` (the three fits), ``rows`` (the common sample), ``settings["note"]`` (causal
        caveat on the b path).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(50), 6), "year": np.tile(np.arange(2010, 2016), 50)})
    >>> d["x"] = rng.normal(size=len(d))
    >>> d["m"] = 0.5 * d["x"] + rng.normal(scale=0.5, size=len(d))  # a = 0.5
    >>> d["y"] = 1.0 * d["m"] + 0.2 * d["x"] + rng.normal(scale=0.1, size=len(d))  # b = 1, direct 0.2
    >>> res = mediation(d, "y", "x", "m", n_draws=99, seed=0)
    >>> tab = res.table().set_index("path")
    >>> round(float(tab.loc["indirect", "estimate"]), 1), round(float(tab.loc["direct", "estimate"]), 1)
    (0.5, 0.2)
    """
    inp = _mediation_inputs(data, y, x, [m], controls, entity=entity, time=time, fe=fe, cluster=cluster, alpha=alpha)
    frame, sample, y_col, controls = inp.frame, inp.sample, inp.y, inp.controls
    rhs_c = " + ".join([x] + controls)
    eq_total: FEResult = inp.fit(f"{y_col} ~ {rhs_c}")
    eq_a: FEResult = inp.fit(f"{m} ~ {rhs_c}")
    eq_b: FEResult = inp.fit(f"{y_col} ~ {' + '.join([x, m] + controls)}")
    inp.check_common({"total": eq_total, "a": eq_a, "b": eq_b})
    c, a = eq_total.params[x], eq_a.params[x]
    b, cp = eq_b.params[m], eq_b.params[x]
    se_a, se_b = eq_a.std_errors[x], eq_b.std_errors[m]
    ind = a * b
    se_sobel = float(np.sqrt(b ** 2 * se_a ** 2 + a ** 2 * se_b ** 2))
    z = ind / se_sobel
    sobel = {"estimate": float(ind), "std_error": se_sobel, "z": float(z),
             "p_value": float(2 * stats.norm.sf(abs(z)))}

    boot = None
    if n_draws:
        rng = _generator(seed)
        fe_codes = inp.fe_codes()
        draws = _fast_boot(frame, y_col, x, m, controls, fe_codes, cluster, int(n_draws), rng)
        boot_method = "vectorised (per-cluster cross-products)"
        if draws is None:  # many non-nested FE levels: demean every draw (slower, same estimator)
            draws = _slow_boot(frame, y_col, x, m, controls, fe_codes, cluster, int(n_draws), rng)
            boot_method = "weighted demeaning per draw"
        boot = pd.DataFrame(draws, columns=["total", "a", "b", "direct", "indirect"])
        n_bad = int(boot.isna().any(axis=1).sum())
        boot = boot.dropna()
    else:
        n_bad = 0
        boot_method = ""

    names = ["total", "a", "b", "direct", "indirect"]
    params = pd.Series([c, a, b, cp, ind], index=names, dtype=float)
    ses = pd.Series([eq_total.std_errors[x], se_a, se_b, eq_b.std_errors[x], se_sobel], index=names)
    settings = {
        "outcome": y, "treatment": x, "mediator": m, "controls": ", ".join(controls) or "none",
        "fixed_effects": ", ".join(sample.fe), "vcov": eq_total.settings["vcov"],
        "indirect_se": "Sobel (1982) delta method with the clustered SEs of a and b; z test",
        "bootstrap": (f"{cluster}-cluster pairs bootstrap, {len(boot) if boot is not None else 0} draws, "
                      f"percentile CIs, seed={seed!r}, {boot_method}" + (f"; {n_bad} singular draws dropped" if n_bad else "")
                      if n_draws else "not run"),
        "note": CAUSAL_NOTE,
    }
    res = MediationResult(
        params=params, std_errors=ses, model="Mediation with fixed effects (three equations)",
        df_resid=None, rows=sample.rows, settings=settings, reference=REFERENCE,
        stats={"N": int(len(frame)), "proportion_mediated": float(ind / c) if c != 0 else float("nan"),
               "identity_gap": float(c - cp - ind)},
        alpha=alpha, equations={"total": eq_total, "a": eq_a, "b": eq_b}, boot=boot, sobel=sobel,
        outcome=y, fixed_effects=eq_total.fixed_effects, vcov_type=eq_total.vcov_type, cluster=eq_total.cluster,
        n_clusters=eq_total.n_clusters, seed=seed if isinstance(seed, (int, np.integer)) else None,
        n_draws=0 if boot is None else len(boot),
    )
    # regression paths: t with the clustered df of the equations (all equal: same clusters);
    # the indirect effect: Sobel's normal z (see MediationResult.pvalues)
    res.df_resid = eq_total.df_resid
    return res


# ---------------------------------------------------------------------------------------------
# several mediators: parallel (Hayes model 4) and serial / chain (Hayes model 6)
# ---------------------------------------------------------------------------------------------
MULTI_WARNINGS = (
    "Report the total effect first: it is identified by the policy design; the split into paths is not.",
    "Sequential ignorability (Imai, Keele and Tingley 2010, Psychological Methods 15(4)): every b path and "
    "every indirect effect is causal only if each mediator is as good as randomly assigned given the treatment, "
    "the earlier mediators, the controls and the fixed effects. A DiD identifies the total effect and the a paths "
    "only; without a design for the mediators read the indirect effects as a decomposition, not as causal channels.",
    "Parallel model: the mediators are assumed not to affect one another (Hayes 2018, Introduction to Mediation, "
    "Moderation, and Conditional Process Analysis, 2nd ed., ch. 5, model 4); a correlated pair shares its indirect "
    "effect arbitrarily.",
    "Serial (chain) model: the causal order of the mediators is assumed, not tested (Hayes 2018, ch. 5, model 6); "
    "reversing it gives different chain effects from the same data.",
    "Bootstrap: percentile intervals from one joint county-cluster bootstrap, all paths re-estimated on the same draws "
    "(Preacher and Hayes 2008); the Sobel test is not reported for products of three or more coefficients.",
)


@dataclass(repr=False)
class MultipleMediationResult(EstimationResult):
    """Result of :func:`multiple_mediation`.

    ``params``: ``total`` first, then ``direct``, each indirect path (``ind: x->m1->y``,
    ``ind: x->m1->m2->y`` ...), ``total_indirect``, and the path coefficients (``a[m]``, ``b[m]``,
    ``d[m2<-m1]``). Standard errors are bootstrap SEs; ``table()`` adds percentile CIs.
    """

    equations: dict = field(default_factory=dict)
    boot: pd.DataFrame | None = None
    warnings_text: tuple = MULTI_WARNINGS
    n_boot: int = 0

    def table(self) -> pd.DataFrame:
        """Tidy table with bootstrap SE and percentile CIs (normal-theory columns kept for reference)."""
        out = self.to_frame().rename(columns={"term": "path"})
        if self.boot is not None and len(self.boot):
            a = self.alpha
            q = self.boot.quantile([a / 2, 1 - a / 2])
            out["boot_ci_low"] = [q.loc[a / 2, p] for p in out.path]
            out["boot_ci_high"] = [q.loc[1 - a / 2, p] for p in out.path]
        return out

    def summary(self) -> str:
        lines = [super().summary(), "", "Read before interpreting the indirect effects:"]
        lines += [f"  WARNING: {w}" for w in self.warnings_text]
        return "\n".join(lines)


def _cross_products(Z: np.ndarray, cl: np.ndarray, G: int) -> np.ndarray:
    d = Z.shape[1]
    DT = sparse.csr_matrix((np.ones(len(cl)), (cl, np.arange(len(cl)))), shape=(G, len(cl)))
    M = np.empty((G, d, d))
    for j in range(d):
        M[:, :, j] = DT @ (Z * Z[:, [j]])
    return M.reshape(G, d * d)


def _solve_specs(S: np.ndarray, specs) -> list[np.ndarray]:
    out = []
    for dep, regs in specs:
        XX = S[:, regs][:, :, regs]
        Xy = S[:, regs, dep]
        try:
            coef = np.linalg.solve(XX, Xy[..., None])[..., 0]
        except np.linalg.LinAlgError:
            coef = np.einsum("bij,bj->bi", np.linalg.pinv(XX), Xy)
        out.append(coef)
    return out


def _boot_specs(Z, fe_codes, cl, specs, n_boot, rng, max_levels=MAX_NONNESTED_LEVELS):
    """Joint cluster bootstrap of several regressions sharing one sample.

    ``Z`` holds the raw variables; ``specs`` are (dependent column, regressor columns) pairs. Each
    draw weights the clusters by their multiplicities (Stata ``bootstrap, cluster() idcluster()``):
    FEs nested in the cluster are swept out once, others enter as dummies, and each draw is a sum of
    per-cluster cross-products. Returns a list (one per spec) of n_boot x len(regs) coefficient arrays.
    """
    G = int(cl.max()) + 1
    nested = [bool(_is_nested(f, cl)) for f in fe_codes]
    nested_codes = [f for f, n in zip(fe_codes, nested) if n]
    other = [f for f, n in zip(fe_codes, nested) if not n]
    k = Z.shape[1]
    if other:
        L = sum(int(f.max()) for f in other)
        if L > max_levels:
            raise SpecificationError(
                f"the joint bootstrap supports at most {max_levels} levels of fixed effects not nested in the "
                f"cluster ({L} here); absorb fewer FEs (e.g. year only) or aggregate them."
            )
        Z = np.hstack([Z, np.hstack([np.eye(int(f.max()) + 1)[f][:, 1:] for f in other])])
    if nested_codes:
        Z = FixedEffects(pd.DataFrame({i: f for i, f in enumerate(nested_codes)})).demean(Z)
    else:
        Z = np.hstack([Z, np.ones((len(Z), 1))])
    extra = list(range(k, Z.shape[1]))
    specs = [(dep, list(regs) + extra) for dep, regs in specs]
    Mf = _cross_products(Z, cl, G)
    d = Z.shape[1]
    K = rng.multinomial(G, np.full(G, 1.0 / G), size=n_boot).astype(float)
    S = (K @ Mf).reshape(n_boot, d, d)
    return _solve_specs(S, specs), K


def _paths(mediators: list[str], model: str):
    """Indirect paths as tuples of mediator positions, in order (x -> m_s1 -> ... -> y)."""
    k = len(mediators)
    if model == "parallel":
        return [(j,) for j in range(k)]
    from itertools import combinations

    return [c for r in range(1, k + 1) for c in combinations(range(k), r)]


@renamed_kwargs(n_boot="n_draws")
def multiple_mediation(
    data: pd.DataFrame,
    y: str,
    x: str,
    mediators: Sequence[str],
    model: str = "parallel",
    controls: Sequence[str] = (),
    *,
    entity: str = "county",
    time: str = "year",
    fe=("county", "year"),
    cluster: str = "county",
    n_draws: int = 999,
    seed=None,
    alpha: float = 0.05,
) -> MultipleMediationResult:
    """Parallel or serial (chain) mediation with fixed effects and a joint county-cluster bootstrap.

    Equations (all with the same FEs and controls on one common sample; Hayes 2018, models 4 and 6):

    * total: ``y = c x``;
    * parallel: ``m_j = a_j x`` for each j, and ``y = c' x + sum_j b_j m_j``;
      indirect effect of m_j = a_j b_j;
    * serial (order as given, e.g. ``["land_transfer", "capital_inflow"]``):
      ``m_1 = a_1 x``; ``m_j = a_j x + sum_{l<j} d_{j,l} m_l``; ``y = c' x + sum_j b_j m_j``;
      each chain x -> m_s1 -> ... -> m_sr -> y has effect a_s1 · d_s2,s1 ··· d_sr,s(r-1) · b_sr.

    With OLS on one sample ``total = direct + sum of indirect paths`` exactly (``stats["identity_gap"]``).
    All paths are re-estimated on the same bootstrap draws (resampling ``cluster``), so the CIs of
    the individual paths, their sum and their differences are joint.

    Parameters
    ----------
    mediators
        Two or more mediator columns (one mediator: use :func:`mediation`).
    model
        ``"parallel"`` or ``"serial"``.
    n_boot, seed
        Bootstrap draws (at least 50) and seed.

    Returns
    -------
    MultipleMediationResult
        ``summary()`` prints the estimates and, beside them, the identification warnings (sequential
        ignorability, Imai, Keele and Tingley 2010; total effect first; Hayes 2018).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(50), 6), "year": np.tile(np.arange(2010, 2016), 50)})
    >>> d["x"] = rng.normal(size=len(d))
    >>> d["m1"] = 0.5 * d["x"] + rng.normal(scale=0.5, size=len(d))
    >>> d["m2"] = 0.4 * d["x"] + rng.normal(scale=0.5, size=len(d))
    >>> d["y"] = d["m1"] + 0.5 * d["m2"] + 0.2 * d["x"] + rng.normal(scale=0.1, size=len(d))
    >>> res = multiple_mediation(d, "y", "x", ["m1", "m2"], n_draws=99, seed=0)
    >>> tab = res.table().set_index("path")  # indirect effects 0.5 * 1 and 0.4 * 0.5
    >>> np.round(tab.loc[["ind: x->m1->y", "ind: x->m2->y", "direct"], "estimate"], 1).tolist()
    [0.5, 0.2, 0.2]
    """
    n_boot = n_draws  # the body's name for the number of draws (vocabulary: n_draws)
    check_choice("model", model, ("parallel", "serial"))
    mediators = list(as_tuple(mediators))
    if len(mediators) < 2:
        raise SpecificationError("multiple_mediation needs two or more mediators; for one use mediation().")
    if not isinstance(n_boot, (int, np.integer)) or n_boot < 50:
        raise SpecificationError(f"n_boot must be an integer >= 50 for percentile intervals, got {n_boot!r}.")
    inp = _mediation_inputs(data, y, x, mediators, controls, entity=entity, time=time, fe=fe, cluster=cluster,
                            alpha=alpha)
    frame, sample, y_col, controls = inp.frame, inp.sample, inp.y, inp.controls
    rhs = lambda cols: " + ".join(cols + controls)  # noqa: E731
    eqs = {"total": inp.fit(f"{y_col} ~ {rhs([x])}")}
    for j, mj in enumerate(mediators):
        prior = mediators[:j] if model == "serial" else []
        eqs[mj] = inp.fit(f"{mj} ~ {rhs([x] + prior)}")
    eqs["outcome"] = inp.fit(f"{y_col} ~ {rhs([x] + mediators)}")
    inp.check_common(eqs)

    def combine(total, a, d, b, direct):
        """Path effects from coefficient arrays (works on scalars and on bootstrap vectors)."""
        vals = {"total": total, "direct": direct}
        ind_sum = 0.0
        for path in _paths(mediators, model):
            eff = a[path[0]]
            for prev, nxt in zip(path[:-1], path[1:]):
                eff = eff * d[(nxt, prev)]
            eff = eff * b[path[-1]]
            label = "ind: " + "->".join([x] + [mediators[p] for p in path] + [y])
            vals[label] = eff
            ind_sum = ind_sum + eff
        vals["total_indirect"] = ind_sum
        for j, mj in enumerate(mediators):
            vals[f"a[{mj}]"] = a[j]
            vals[f"b[{mj}]"] = b[j]
        for (nxt, prev), v in d.items():
            vals[f"d[{mediators[nxt]}<-{mediators[prev]}]"] = v
        return vals

    a = [eqs[mj].params[x] for mj in mediators]
    d = {(j, q): eqs[mediators[j]].params[mediators[q]] for j in range(len(mediators)) for q in range(j)} \
        if model == "serial" else {}
    b = [eqs["outcome"].params[mj] for mj in mediators]
    point = combine(eqs["total"].params[x], a, d, b, eqs["outcome"].params[x])

    # joint bootstrap on the same draws
    rng = _generator(seed)
    cols = [y_col, x] + mediators + controls
    Z = frame[cols].to_numpy(dtype=float)
    pos = {c: i for i, c in enumerate(cols)}
    ctrl = [pos[c] for c in controls]
    specs = [(pos[y_col], [pos[x]] + ctrl)]
    for j, mj in enumerate(mediators):
        prior = mediators[:j] if model == "serial" else []
        specs.append((pos[mj], [pos[x]] + [pos[p] for p in prior] + ctrl))
    specs.append((pos[y_col], [pos[x]] + [pos[mj] for mj in mediators] + ctrl))
    fe_codes = inp.fe_codes()
    cl = pd.factorize(frame[cluster], sort=True)[0]
    coefs, _ = _boot_specs(Z, fe_codes, cl, specs, int(n_boot), rng)
    k = len(mediators)
    a_b = [coefs[1 + j][:, 0] for j in range(k)]
    d_b = {(j, q): coefs[1 + j][:, 1 + q] for j in range(k) for q in range(j)} if model == "serial" else {}
    b_b = [coefs[1 + k][:, 1 + j] for j in range(k)]
    boot = pd.DataFrame(combine(coefs[0][:, 0], a_b, d_b, b_b, coefs[1 + k][:, 0]))
    boot = boot.replace([np.inf, -np.inf], np.nan)
    n_bad = int(boot.isna().any(axis=1).sum())
    boot = boot.dropna()

    params = pd.Series(point, dtype=float)
    ses = boot.std(ddof=1).reindex(params.index)
    settings = {
        "model": f"{model} ({'Hayes model 4' if model == 'parallel' else 'Hayes model 6'})",
        "outcome": y, "treatment": x, "mediators": " -> ".join(mediators) if model == "serial" else ", ".join(mediators),
        "controls": ", ".join(controls) or "none", "fixed_effects": ", ".join(sample.fe),
        "std_errors": (f"{cluster}-cluster pairs bootstrap SE, {len(boot)} joint draws, seed={seed!r}; "
                       "percentile CIs in table()" + (f"; {n_bad} singular draws dropped" if n_bad else "")),
    }
    total_indirect = point["total_indirect"]
    res = MultipleMediationResult(
        params=params, std_errors=ses, model=f"Multiple mediation with fixed effects ({model})",
        df_resid=None, statistic_name="z", rows=sample.rows, settings=settings,
        reference=("Hayes (2018) models 4 and 6; Preacher and Hayes (2008) Behavior Research Methods 40(3); "
                   "Imai, Keele and Tingley (2010) Psychological Methods 15(4); equations as Stata reghdfe "
                   "absorb(county year) vce(cluster county)"),
        stats={"N": int(len(frame)), "identity_gap": float(point["total"] - point["direct"] - total_indirect),
               "proportion_mediated": float(total_indirect / point["total"]) if point["total"] != 0 else float("nan")},
        alpha=alpha, equations=eqs, boot=boot, n_boot=len(boot),
        outcome=y, fixed_effects=split_names(fe) if fe else (), vcov_type="bootstrap",
        cluster=split_names(cluster) if cluster else (),
        seed=seed if isinstance(seed, (int, np.integer)) else None,
    )
    return res
