"""Adapters: one reader for every model type the table writer accepts.

Each adapter turns a fitted model into :class:`ModelSummary` (coefficients, standard errors,
p-values, fit statistics, fixed effects and the SE convention), so the writers never touch a
package's API. Accepted: CountyFusion :class:`~analysis.results.EstimationResult` (and subclasses),
pyfixest ``Feols``/``Fepois``, statsmodels results (``RegressionResults`` and friends), linearmodels
results (``PanelEffectsResults``, ``PanelResults``, ``OLSResults``/IV).

For :class:`EstimationResult` the writer reads
``stats`` (``N``, ``r2``, ``r2_within``, ``adj_r2`` ... any scalar), ``settings["fixed_effects"]``
(list of names, or a ``"county, year"`` / ``"county+year"`` string, ``"none ..."`` for none; also
``"fe"``/``"absorb"``), ``settings["vcov_type"]`` or ``settings["vcov"]`` (``"iid"``, ``"hetero"``,
``"cluster"``, ``"CRV1"``, ``"driscoll-kraay"``, a description in words, or a pyfixest-style
``{"CRV1": "county"}``), ``settings["cluster"]`` (name, list or ``"county, year"``) and
``settings["y"]``/``"depvar"`` or the attribute ``depvar``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as _st

from ..errors import SpecificationError
from ..results import EstimationResult

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
    if v is None or v is False:
        return []
    if isinstance(v, str):
        parts = [p.strip() for p in v.replace(",", "+").split("+")]
        return [p for p in parts if p and p != "0"]
    if isinstance(v, dict):
        return [str(k) for k, on in v.items() if on]
    return [str(p) for p in v]


def _norm_vcov(v) -> tuple[str, list[str]]:
    """Normalise a vcov description (a code or words) to (kind, cluster variables)."""
    if isinstance(v, dict):
        if not v:
            return "", []
        (k, c), *_ = v.items()
        kind, _ = _norm_vcov(k)
        return kind, _split_names(c)
    s = str(v or "").lower().replace("-", "_")
    if s in ("", "none"):
        return "", []
    if s.startswith("crv") or "cluster" in s:
        return "cluster", []
    if "driscoll" in s or "kraay" in s or s in ("dk", "kernel"):
        return "driscoll_kraay", []
    if s in ("hac", "nw") or "newey" in s:
        return "hac", []
    if any(w in s for w in ("iid", "nonrobust", "unadjusted", "homoskedastic", "conventional")) or s == "ols":
        return "iid", []
    if s.startswith("hc") or any(w in s for w in ("hetero", "robust", "white")):
        return "hetero", []
    return "other", []


def _from_estimation_result(m: EstimationResult) -> ModelSummary:
    st = dict(m.stats)
    set_ = m.settings
    fe_raw = set_.get("fixed_effects", set_.get("fe", set_.get("absorb")))
    if isinstance(fe_raw, str) and fe_raw.strip().lower().startswith("none"):
        fe_raw = None  # e.g. "none (pooled OLS with intercept)"
    fe = _split_names(fe_raw)
    # a short code ("vcov_type": cluster / hetero / iid / driscoll-kraay) wins over a description
    kind, cl = _norm_vcov(set_.get("vcov_type") or set_.get("vcov", set_.get("se", "")))
    cl = cl or _split_names(set_.get("cluster", set_.get("cluster_var", set_.get("clusters"))))
    if cl and kind in ("", "other"):
        kind = "cluster"
    if "N" not in st and m.rows is not None:
        st["N"] = m.rows.n_used
    return ModelSummary(
        params=m.params.astype(float),
        std_errors=m.std_errors.astype(float),
        pvalues=m.pvalues.astype(float),
        stats=st,
        fixed_effects=fe,
        vcov=kind,
        cluster=cl if kind == "cluster" else [],
        depvar=str(set_.get("y", set_.get("depvar", getattr(m, "depvar", "") or ""))),
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
    """Read any supported fitted model into a :class:`ModelSummary`."""
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
