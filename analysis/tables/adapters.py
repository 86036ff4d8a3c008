"""Adapters: one reader for every model type the table writer accepts.

Each adapter turns a fitted model into :class:`ModelSummary` (coefficients, standard errors,
p-values, fit statistics, fixed effects and the SE convention), so the writers never touch a
package's API. Accepted: CountyFusion :class:`~analysis.results.EstimationResult` (and subclasses),
pyfixest ``Feols``/``Fepois``, statsmodels results (``RegressionResults`` and friends), linearmodels
results (``PanelEffectsResults``, ``PanelResults``, ``OLSResults``/IV).

For :class:`EstimationResult` the writer reads ``stats`` (``N``, ``r2``, ``r2_within``, ``adj_r2``
... any scalar) and the typed provenance fields ``fixed_effects``, ``vcov_type``, ``cluster`` and
``outcome`` -- never the free-form ``settings`` dict, whose keys differ between estimators.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from ..errors import SpecificationError
from ..results import EstimationResult, normalize_vcov, split_names

__all__ = ["ModelSummary", "summarize_model"]


@dataclass
class ModelSummary:
    """What a regression table needs from one model."""

    params: pd.Series
    std_errors: pd.Series
    pvalues: pd.Series
    stats: dict[str, Any] = field(default_factory=dict)
    fixed_effects: list[str] = field(default_factory=list)
    vcov: str = ""  # normalised: iid, hetero, cluster, driscoll_kraay, hac, other
    cluster: list[str] = field(default_factory=list)
    depvar: str = ""


def _split_names(v) -> list[str]:
    return list(split_names(v))


def _norm_vcov(v) -> tuple[str, list[str]]:
    """Normalise a vcov description (a code or words) to (kind, cluster variables)."""
    kind, cl = normalize_vcov(v)
    return kind, list(cl)


def _from_estimation_result(m: EstimationResult) -> ModelSummary:
    """Read the typed provenance fields of an :class:`EstimationResult` (never the settings dict)."""
    st = dict(m.stats)
    if "N" not in st and m.rows is not None:
        st["N"] = m.rows.n_used
    kind = normalize_vcov(m.vcov_type)[0] if m.vcov_type else ""
    cl = list(m.cluster)
    if cl and kind in ("", "other"):
        kind = "cluster"
    return ModelSummary(
        params=m.params.astype(float),
        std_errors=m.std_errors.astype(float),
        pvalues=m.pvalues.astype(float),
        stats=st,
        fixed_effects=list(m.fixed_effects),
        vcov=kind,
        cluster=cl if kind == "cluster" else [],
        depvar=m.outcome,
    )


def _from_pyfixest(m) -> ModelSummary:
    kind, _ = _norm_vcov(getattr(m, "_vcov_type_detail", None) or getattr(m, "_vcov_type", ""))
    cl = list(getattr(m, "_clustervar", None) or [])
    st: dict[str, Any] = {"N": int(m._N)}
    for key, attr in (("r2", "_r2"), ("r2_within", "_r2_within"), ("adj_r2", "_adj_r2")):
        val = getattr(m, attr, None)
        if val is not None and np.isfinite(val):
            st[key] = float(val)
    return ModelSummary(
        params=m.coef().astype(float),
        std_errors=m.se().astype(float),
        pvalues=m.pvalue().astype(float),
        stats=st,
        fixed_effects=_split_names(getattr(m, "_fixef", None)),
        vcov=kind or "iid",
        cluster=cl if kind == "cluster" else [],
        depvar=str(getattr(m, "_depvar", "")),
    )


def _linearmodels_clusters(m) -> list[str]:
    """Which of entity/time the clusters of a linearmodels panel result are (best effort).

    linearmodels keeps the cluster ids only on its private covariance object; when that is not
    readable the note says "cluster-robust" without naming the level.
    """
    try:
        est = m._deferred_cov.__self__
        clusters = np.asarray(est._clusters)
        clusters = clusters.reshape(len(clusters), -1)
        out = []
        for j in range(clusters.shape[1]):
            c = pd.factorize(clusters[:, j])[0]
            for name, ids in (("entity", est._entity_ids), ("time", est._time_ids)):
                g = pd.factorize(np.asarray(ids).ravel())[0]
                if len(g) == len(c) and c.max() == g.max() and (pd.crosstab(c, g) > 0).sum(axis=1).eq(1).all():
                    out.append(name)
                    break
        return out
    except Exception:  # noqa: BLE001 - private API, best effort only
        return []


def _from_linearmodels(m) -> ModelSummary:
    st: dict[str, Any] = {"N": int(m.nobs)}
    for key, attr in (("r2", "rsquared"), ("r2_within", "rsquared_within")):
        try:
            val = getattr(m, attr)
        except Exception:  # noqa: BLE001 - not every result type has every statistic
            continue
        if val is not None and np.isfinite(val):
            st[key] = float(val)
    fe = []
    effects = [str(e).lower() for e in (getattr(m, "included_effects", None) or [])]
    if any("entity" in e for e in effects):
        fe.append("entity")
    if any("time" in e for e in effects):
        fe.append("time")
    cov = str(getattr(m, "_cov_type", "") or getattr(m, "cov_type", ""))
    kind, _ = _norm_vcov(cov)
    cl = _linearmodels_clusters(m) if kind == "cluster" else []
    try:
        depvar = str(m.model.dependent.vars[0])
    except Exception:  # noqa: BLE001
        depvar = ""
    return ModelSummary(
        params=m.params.astype(float),
        std_errors=m.std_errors.astype(float),
        pvalues=m.pvalues.astype(float),
        stats=st,
        fixed_effects=fe,
        vcov=kind,
        cluster=cl,
        depvar=depvar,
    )


def _from_statsmodels(m) -> ModelSummary:
    params = pd.Series(m.params, dtype=float)
    if not isinstance(m.params, pd.Series):
        params.index = list(getattr(m.model, "exog_names", None) or params.index)
    se = pd.Series(np.asarray(m.bse, dtype=float), index=params.index)
    pv = pd.Series(np.asarray(m.pvalues, dtype=float), index=params.index)
    st: dict[str, Any] = {"N": int(m.nobs)}
    for key, attr in (("r2", "rsquared"), ("adj_r2", "rsquared_adj"), ("pseudo_r2", "prsquared")):
        try:
            val = getattr(m, attr)
        except Exception:  # noqa: BLE001
            continue
        if val is not None and np.isfinite(val):
            st[key] = float(val)
    kind, _ = _norm_vcov(getattr(m, "cov_type", "nonrobust"))
    return ModelSummary(
        params=params, std_errors=se, pvalues=pv, stats=st, vcov=kind, cluster=[],
        depvar=str(getattr(m.model, "endog_names", "")),
    )


def summarize_model(model) -> ModelSummary:
    """Read any supported fitted model into a :class:`ModelSummary`.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.tables import summarize_model
    >>> from analysis.regression import fe
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"county": np.repeat(["a", "b", "c", "d"], 5),
    ...                    "year": np.tile(np.arange(2010, 2015), 4), "x": rng.normal(size=20)})
    >>> df["y"] = 0.5 * df["x"] + rng.normal(scale=0.1, size=20)  # true slope 0.5
    >>> fit = fe("y ~ x", df, cluster=None, vcov="hetero")
    >>> s = summarize_model(fit)
    >>> round(float(s.params["x"]), 3), round(float(s.std_errors["x"]), 3), s.stats["N"], s.fixed_effects
    (0.502, 0.02, 20, ['county', 'year'])
    >>> import statsmodels.formula.api as smf
    >>> round(float(summarize_model(smf.ols("y ~ x", df).fit()).params["x"]), 3)
    0.5
    """
    if isinstance(model, ModelSummary):
        return model
    if isinstance(model, EstimationResult):
        return _from_estimation_result(model)
    mod = type(model).__module__
    if mod.startswith("pyfixest"):
        return _from_pyfixest(model)
    if mod.startswith("linearmodels"):
        return _from_linearmodels(model)
    if mod.startswith("statsmodels"):
        return _from_statsmodels(model)
    if all(hasattr(model, a) for a in ("params", "std_errors")):  # duck-typed result
        params = pd.Series(model.params, dtype=float)
        se = pd.Series(model.std_errors, dtype=float)
        pv = getattr(model, "pvalues", None)
        if pv is None:
            pv = pd.Series(2 * _st.norm.sf(np.abs(params / se)), index=params.index)
        return ModelSummary(params, se, pd.Series(pv, dtype=float), dict(getattr(model, "stats", {}) or {}))
    raise SpecificationError(
        f"regression_table cannot read a {type(model).__name__} from {mod}; pass an EstimationResult, a "
        "pyfixest Feols, a statsmodels or a linearmodels result."
    )
