"""Heterogeneity: subgroup estimates and tests that a coefficient is equal across groups.

:func:`heterogeneity` splits the panel by any column (``region``, ``county_type``, a user grouping),
estimates the same FE regression in every group, and tests H0: the coefficient is the same in all
groups, two ways:

- ``"interaction"`` (default): one fully interacted model on the pooled sample. Every regressor is
  interacted with the group dummies and every fixed effect not nested in the groups is interacted
  with the group (``year^region``), so the group coefficients equal the subgroup estimates exactly;
  the Wald test of equality uses the model's cluster-robust (reghdfe CRV1) covariance, which also
  captures any cross-group correlation within clusters. F(q, G-1) as Stata ``test`` after
  ``reghdfe``.
- ``"suest"``: from the separate subgroup fits. When the clusters are nested in the groups
  (counties within regions) the subgroup estimates are independent, so the covariance of the
  stacked estimates is block-diagonal (what Stata ``suest`` gives in that case); the test is the
  chi-squared Wald test (a Chow-type z test for two groups). If clusters cross groups, this
  ignores their covariance and a warning says so; use ``"interaction"``.

References: Chow (1960); Stata ``suest`` (Weesie 1999); the grouped-regression tests of Chinese
empirical papers (分组回归系数差异检验: 交互项检验 / 似无相关 SUR 检验).
"""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np
import pandas as pd
from scipy import stats

from ..errors import SpecificationError, check_choice
from ..results import RowReport, TidyResult
from ..validation import require_columns
from ._sample import _bare_names, as_tuple, parse_formula
from .fe import FEResult
from .fe import fe as _fe

__all__ = ["HeterogeneityResult", "heterogeneity"]


REFERENCE = ("Subgroup regressions with a fully interacted pooled model (clustered Wald) or seemingly unrelated "
             "estimation (Stata suest; Weesie 1999); coefficients by reghdfe conventions")


@dataclass(repr=False)
class HeterogeneityResult(TidyResult):
    """Subgroup fits and equality tests.

    Attributes
    ----------
    groups : dict
        group value -> :class:`FEResult` of the subgroup regression.
    estimates : pandas.DataFrame
        Long table: group, term, estimate, std_error, statistic, p_value, ci_low, ci_high, N.
    tests : pandas.DataFrame
        One row per (method, term): statistic, df1, df2, p_value; ``term = "(joint)"`` tests all
        tested terms together.
    interacted : FEResult or None
        The fully interacted pooled model.
    """

    by: str
    terms: list
    groups: dict = field(default_factory=dict)
    estimates: pd.DataFrame | None = None
    tests: pd.DataFrame | None = None
    interacted: FEResult | None = None

    def summary(self) -> str:
        text = super().summary()
        if self.tests is not None:
            text += "\n" + self.tests.to_string(index=False, float_format=lambda v: f"{v:.6g}")
        return text

    def __repr__(self) -> str:  # pragma: no cover
        return self.summary()

    def to_frame(self) -> pd.DataFrame:
        """Long form: group, term, estimate, std_error, statistic, p_value, ci_low, ci_high, N."""
        return self.estimates.copy()

    def models(self) -> dict:
        """``{group: FEResult}`` of the subgroup fits, e.g. for :func:`~analysis.tables.regression_table`."""
        return dict(self.groups)

    def difference(self, term: str, group_a, group_b) -> dict:
        """Test of equal ``term`` in two groups from the interacted model (``lincom``).

        Returns ``{"estimate", "std_error", "p_value"}`` of b[group_b] - b[group_a]; needs the
        interacted model (``test="interaction"`` or ``"both"``).
        """
        if self.interacted is None:
            raise SpecificationError("difference() needs the interacted model: call heterogeneity(..., test='both').")
        w = {f"{term}__{_safe(group_b)}": 1.0, f"{term}__{_safe(group_a)}": -1.0}
        r = self.interacted.lincom(w, name=f"{term}[{group_b}] - {term}[{group_a}]").to_frame().iloc[0]
        return {"estimate": float(r["estimate"]), "std_error": float(r["std_error"]), "p_value": float(r["p_value"])}


def _safe(level) -> str:
    s = "".join(ch if ch.isalnum() else "_" for ch in str(level))
    return s or "g"


def heterogeneity(
    formula: str,
    data: pd.DataFrame,
    by: str,
    terms: Sequence[str] | str | None = None,
    *,
    entity: str = "county",
    time: str = "year",
    fe=("county", "year"),
    cluster="county",
    test: str = "interaction",
    min_group_size: int = 30,
    alpha: float = 0.05,
) -> HeterogeneityResult:
    """Subgroup FE regressions by ``by`` and tests of equal coefficients across the groups.

    Parameters
    ----------
    formula
        ``"y ~ x + controls"`` with bare column names (create transformed columns first).
    data
        Long panel.
    by
        Grouping column, e.g. ``"region"`` or ``"county_type"`` (rows with a missing group are
        dropped and counted).
    terms
        Coefficients whose equality is tested (default: the first regressor).
    fe, cluster, entity, time
        As :func:`~analysis.regression.fe`.
    test
        ``"interaction"`` (fully interacted pooled model, clustered Wald), ``"suest"`` (block-
        diagonal stacked subgroup estimates, chi-squared) or ``"both"``.
    min_group_size
        Groups with fewer rows are reported and left out.

    Returns
    -------
    HeterogeneityResult

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(90), 6), "year": np.tile(np.arange(2010, 2016), 90)})
    >>> d["east"] = (d["county"] < 45).astype(int)
    >>> d["x"] = rng.normal(size=len(d))
    >>> d["y"] = (0.5 + 0.3 * d["east"]) * d["x"] + rng.normal(scale=0.1, size=len(d))
    >>> res = heterogeneity("y ~ x", d, by="east")
    >>> np.round(res.estimates["estimate"], 1).tolist(), bool(res.tests["p_value"].iloc[0] < 0.05)
    ([0.5, 0.8], True)
    """
    check_choice("test", test, ("interaction", "suest", "both"))
    if not isinstance(data, pd.DataFrame):
        raise SpecificationError("data must be a pandas DataFrame.")
    require_columns(data, [by], what="heterogeneity() (the grouping column by=)")
    parsed = parse_formula(formula)
    fe_t = parsed.fe if parsed.fe is not None else as_tuple(fe)
    regressors = []
    for t in parsed.terms:
        names = _bare_names(t)
        if len(names) != 1 or names[0] != t.strip():
            raise SpecificationError(
                f"heterogeneity() needs bare column names as regressors; {t!r} is not one. Create the "
                "column first (e.g. data['log_x'] = np.log(data['x']))."
            )
        regressors.append(t.strip())
    terms = [regressors[0]] if terms is None else list(as_tuple(terms) if isinstance(terms, str) else terms)
    unknown = [t for t in terms if t not in regressors]
    if unknown:
        raise SpecificationError(f"terms {unknown} are not regressors of {formula!r} ({regressors}).")
    base = f"{parsed.lhs} ~ {' + '.join(regressors)}"
    kw = dict(entity=entity, time=time, fe=fe_t, cluster=cluster, alpha=alpha)

    work = data[data[by].notna()]
    n_missing_group = int(len(data) - len(work))
    sizes = work[by].value_counts(sort=False)
    levels = [g for g in sorted(sizes.index, key=str) if sizes[g] >= min_group_size]
    small = [g for g in sizes.index if sizes[g] < min_group_size]
    if len(levels) < 2:
        raise SpecificationError(
            f"{by!r} has fewer than two groups with at least {min_group_size} rows "
            f"({ {g: int(n) for g, n in sizes.items()} }); "
            "nothing to compare."
        )
    work = work[work[by].isin(levels)]

    groups: dict = {}
    rows = []
    for g in levels:
        r = _fe(base, work[work[by] == g], **kw)
        groups[g] = r
        tf = r.to_frame()
        tf.insert(0, "group", g)
        tf["N"] = r.nobs
        rows.append(tf)
    estimates = pd.concat(rows, ignore_index=True)

    tests = []
    interacted = None
    if test in ("interaction", "both"):
        interacted, tests = _interaction_tests(work, parsed, regressors, terms, levels, by, fe_t, kw)
    if test in ("suest", "both"):
        tests += _suest_tests(work, groups, terms, levels, by, cluster)
    settings = {
        "formula": base, "by": by, "groups": ", ".join(map(str, levels)),
        "fixed_effects": ", ".join(fe_t) or "none",
        "interacted_fixed_effects": ", ".join(interacted.fixed_effects) if interacted is not None else "-",
        "cluster": ", ".join(as_tuple(cluster)) if cluster else None,
        "vcov": next(iter(groups.values())).settings["vcov"].split(";")[0],
    }
    if n_missing_group:
        settings["rows_missing_group"] = n_missing_group
    if small:
        settings["groups_left_out"] = f"{small} (fewer than {min_group_size} rows)"
    n_used = int(sum(r.rows.n_used for r in groups.values()))
    dropped = {f"missing {by}": n_missing_group} if n_missing_group else {}
    n_small = int(len(data) - n_missing_group - len(work))
    if n_small:
        dropped[f"{by} groups with fewer than {min_group_size} rows"] = n_small
    for r in groups.values():
        for reason, count in (r.rows.dropped if r.rows is not None else {}).items():
            dropped[reason] = dropped.get(reason, 0) + int(count)
    return HeterogeneityResult(by=by, terms=terms, groups=groups, estimates=estimates,
                               tests=pd.DataFrame(tests), interacted=interacted, settings=settings,
                               model=f"Heterogeneity by {by}", reference=REFERENCE,
                               rows=RowReport(len(data), n_used, dropped))


def _interaction_tests(work, parsed, regressors, terms, levels, by, fe_t, kw):
    """Fully interacted pooled model and clustered Wald F tests of equal coefficients."""
    tests = []
    dummies = {g: (work[by] == g).to_numpy(dtype=float) for g in levels}
    cols = {}
    for x in regressors:
        for g in levels:
            cols[f"{x}__{_safe(g)}"] = work[x].to_numpy(dtype=float) * dummies[g]
    iw = work.assign(**cols)
    fe_int = []
    by_codes = pd.factorize(work[by])[0]
    for f in fe_t:
        parts = f.split("^")
        codes = work[parts].astype(str).agg("|".join, axis=1) if len(parts) > 1 else work[f]
        fcodes = pd.factorize(codes)[0]
        nested = np.unique(fcodes.astype(np.int64) * (by_codes.max() + 1) + by_codes).size == np.unique(fcodes).size
        fe_int.append(f if nested else f"{f}^{by}")
    rhs = " + ".join(cols)
    interacted = _fe(f"{parsed.lhs} ~ {rhs}", iw, **{**kw, "fe": tuple(fe_int)})
    names = list(interacted.params.index)
    all_R = []
    for x in terms:
        idx = [names.index(f"{x}__{_safe(g)}") for g in levels]
        R = np.zeros((len(levels) - 1, len(names)))
        for i in range(1, len(levels)):
            R[i - 1, idx[0]] = -1.0
            R[i - 1, idx[i]] = 1.0
        all_R.append(R)
        w = interacted.wald(R=R)
        tests.append({"method": "interaction (clustered Wald F)", "term": x, "statistic": w["F"],
                      "df1": w["df1"], "df2": w["df2"], "p_value": w["p_value"]})
    if len(terms) > 1:
        w = interacted.wald(R=np.vstack(all_R))
        tests.append({"method": "interaction (clustered Wald F)", "term": "(joint)", "statistic": w["F"],
                      "df1": w["df1"], "df2": w["df2"], "p_value": w["p_value"]})
    return interacted, tests


def _suest_tests(work, groups, terms, levels, by, cluster):
    """Block-diagonal (suest-style) Wald chi2 tests from the subgroup fits."""
    tests = []
    if cluster:
        cl = as_tuple(cluster)[0]
        crossing = work.groupby(cl)[by].nunique()
        if (crossing > 1).any():
            warnings.warn(
                f"clusters {cl!r} span several {by!r} groups; the 'suest' test ignores their "
                "covariance. Use test='interaction'.", stacklevel=3)
    all_d = []
    for x in terms:
        b = np.array([groups[g].params[x] for g in levels])
        V = np.diag([groups[g].std_errors[x] ** 2 for g in levels])
        R = np.zeros((len(levels) - 1, len(levels)))
        R[:, 0] = -1.0
        R[np.arange(len(levels) - 1), np.arange(1, len(levels))] = 1.0
        d = R @ b
        W = float(d @ np.linalg.solve(R @ V @ R.T, d))
        tests.append({"method": "suest (block-diagonal Wald chi2)", "term": x, "statistic": W,
                      "df1": float(len(levels) - 1), "df2": np.inf,
                      "p_value": float(stats.chi2.sf(W, len(levels) - 1))})
        all_d.append((x, b))
    if len(terms) > 1:
        # joint: stack group-by-term estimates with each group's own covariance block
        k = len(terms)
        bstack, Vblocks = [], []
        for g in levels:
            bstack.append(groups[g].params[terms].to_numpy())
            Vblocks.append(groups[g].cov.loc[terms, terms].to_numpy())
        bvec = np.concatenate(bstack)
        V = np.zeros((k * len(levels), k * len(levels)))
        for i, Vb in enumerate(Vblocks):
            V[i * k:(i + 1) * k, i * k:(i + 1) * k] = Vb
        R = np.zeros((k * (len(levels) - 1), k * len(levels)))
        for i in range(1, len(levels)):
            for t in range(k):
                R[(i - 1) * k + t, t] = -1.0
                R[(i - 1) * k + t, i * k + t] = 1.0
        d = R @ bvec
        W = float(d @ np.linalg.solve(R @ V @ R.T, d))
        tests.append({"method": "suest (block-diagonal Wald chi2)", "term": "(joint)", "statistic": W,
                      "df1": float(R.shape[0]), "df2": np.inf, "p_value": float(stats.chi2.sf(W, R.shape[0]))})
    return tests
