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
from ..errors import SpecificationError
from ..results import EstimationResult
from ._sample import as_tuple, prepare_sample
from .fe import FEResult
from .fe import fe as _fe

__all__ = ["MediationResult", "mediation", "CAUSAL_NOTE"]

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
    """
    controls = list(as_tuple(controls))
    if not isinstance(cluster, str):
        raise SpecificationError("mediation bootstraps one cluster variable; pass cluster='county'.")
    # a y expression (e.g. np.log(...)) becomes a column so that all equations share one sample
    work = data
    y_col = y
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
    full = f"{y_col} ~ {' + '.join([x, m] + controls)}"
    sample = prepare_sample(work, full, fe, extra_columns=[cluster], entity=entity, time=time)
    frame = sample.frame
    rhs_c = " + ".join([x] + controls)
    kw = dict(entity=entity, time=time, fe=fe, cluster=cluster, alpha=alpha)
    eq_total: FEResult = _fe(f"{y_col} ~ {rhs_c}", frame, **kw)
    eq_a: FEResult = _fe(f"{m} ~ {rhs_c}", frame, **kw)
    eq_b: FEResult = _fe(f"{y_col} ~ {' + '.join([x, m] + controls)}", frame, **kw)
    for eq in (eq_total, eq_a, eq_b):
        if eq.nobs != len(frame):
            raise SpecificationError(
                f"the three equations do not share one sample ({eq.nobs} vs {len(frame)} rows); check "
                "for singletons created by the controls."
            )
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
        rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
        fe_codes = [pd.factorize(frame[f] if "^" not in f else frame[f.split("^")].astype(str).agg("|".join, axis=1),
                                 sort=True)[0] for f in sample.fe]
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
