"""The result types every CountyFusion estimator returns.

Modelled on linearmodels' split between model and result: estimators compute, these classes hold
and present. Two kinds:

* :class:`EstimationResult` -- a coefficient table (``params``, ``std_errors`` ...) with typed
  provenance fields (``outcome``, ``fixed_effects``, ``vcov_type``, ``cluster``, ``n_clusters``,
  ``seed``, ``reference``), the rows used and dropped (``rows``) and the remaining ``settings``.
* :class:`TidyResult` -- a result that is not a coefficient table (a decomposition, a transition
  matrix, a set of test statistics): ``to_frame()`` in long tidy form, ``summary()``, ``rows``,
  ``settings``, ``reference``.

The vocabulary (one name per concept) is written down in ``docs/CONVENTIONS.md``.

Examples
--------
>>> import pandas as pd
>>> r = EstimationResult(pd.Series({"did": 0.5, "x": 1.0}), pd.Series({"did": 0.1, "x": 0.5}),
...                      outcome="y", fixed_effects=("county", "year"), vcov_type="cluster",
...                      cluster=("county",), n_clusters=40)
>>> r.to_frame()[["term", "estimate", "std_error"]]
  term  estimate  std_error
0  did       0.5        0.1
1    x       1.0        0.5
>>> r.lincom({"did": 2}).to_frame()[["term", "estimate", "std_error"]]
    term  estimate  std_error
0  2*did       1.0        0.2
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd
from scipy import stats

from ._compat import TermAliasFrame, TermAliasSeries, renamed_term
from .errors import SpecificationError

__all__ = ["RowReport", "EstimationResult", "TidyResult", "FrameResult", "TIDY_COLUMNS", "VCOV_TYPES", "normalize_vcov",
           "split_names"]

TIDY_COLUMNS = ["term", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]

#: the values of :attr:`EstimationResult.vcov_type` (``""`` = not stated)
VCOV_TYPES = ("iid", "hetero", "cluster", "driscoll_kraay", "hac", "bootstrap", "randomization", "other", "")


def split_names(v) -> tuple[str, ...]:
    """Names from a list, a ``"county, year"`` / ``"county + year"`` string or a ``{name: on}`` dict.

    >>> split_names("county + year")
    ('county', 'year')
    >>> split_names("none (pooled OLS with intercept)")
    ()
    """
    if v is None or v is False:
        return ()
    if isinstance(v, str):
        if v.strip().lower().startswith("none") or v.strip() in ("-", "n/a"):
            return ()
        parts = [p.strip() for p in v.replace(",", "+").split("+")]
        return tuple(p for p in parts if p and p != "0")
    if isinstance(v, dict):
        return tuple(str(k) for k, on in v.items() if on)
    return tuple(str(p) for p in v)


def normalize_vcov(v) -> tuple[str, tuple[str, ...]]:
    """Normalise a covariance description (a code, words or ``{"CRV1": "county"}``) to (kind, clusters).

    ``kind`` is one of :data:`VCOV_TYPES`; cluster variables are read from the words
    ``"clustered by X"`` / ``"cluster X"`` or from a pyfixest-style dict.

    >>> normalize_vcov("CRV1 clustered by county, reghdfe small-sample factor")
    ('cluster', ('county',))
    >>> normalize_vcov("Driscoll-Kraay, lag 2")
    ('driscoll_kraay', ())
    """
    if isinstance(v, dict):
        if not v:
            return "", ()
        (k, c), *_ = v.items()
        kind, _ = normalize_vcov(k)
        return kind, split_names(c)
    s = str(v or "").lower().replace("-", "_")
    if s in ("", "none"):
        return "", ()
    if s.startswith("crv") or "cluster" in s:
        cl: tuple[str, ...] = ()
        for marker in ("clustered by ", "cluster by ", "clustered on "):
            if marker in s:
                tail = str(v)[s.index(marker) + len(marker):]
                cl = split_names(tail.split(",")[0].split(";")[0].split(" (")[0].replace(" and ", "+"))
                break
        return "cluster", cl
    if "driscoll" in s or "kraay" in s or s in ("dk", "kernel"):
        return "driscoll_kraay", ()
    if s in ("hac", "nw") or "newey" in s:
        return "hac", ()
    if "bootstrap" in s:
        return "bootstrap", ()
    if "permutation" in s or "randomization" in s:
        return "randomization", ()
    if any(w in s for w in ("iid", "nonrobust", "unadjusted", "homoskedastic", "conventional")) or s == "ols":
        return "iid", ()
    if s.startswith("hc") or any(w in s for w in ("hetero", "robust", "white")):
        return "hetero", ()
    return "other", ()


def _first(mapping: Mapping, *keys, default=None):
    for k in keys:
        if k in mapping and mapping[k] is not None:
            return mapping[k]
    return default


@dataclass
class RowReport:
    """Rows used by an estimator and rows dropped, each drop with its reason.

    ``dropped`` maps a reason (e.g. ``"missing y"``, ``"singleton county"``) to a count.
    """

    n_input: int
    n_used: int
    dropped: dict[str, int] = field(default_factory=dict)

    @property
    def n_dropped(self) -> int:
        return int(sum(self.dropped.values()))

    def __post_init__(self) -> None:
        if self.n_input != self.n_used + self.n_dropped:
            raise AssertionError(
                f"row accounting does not add up: {self.n_input} input rows, {self.n_used} used, "
                f"{self.n_dropped} dropped ({self.dropped})"
            )

    def __str__(self) -> str:
        if not self.dropped:
            return f"rows used: {self.n_used} of {self.n_input} (none dropped)"
        reasons = "; ".join(f"{k}: {v}" for k, v in self.dropped.items() if v)
        return f"rows used: {self.n_used} of {self.n_input}; dropped {self.n_dropped} ({reasons})"



def _fill_provenance(obj) -> None:
    """Fill empty typed provenance fields from the ``settings`` dict (older spellings included)."""
    s = obj.settings
    if not obj.outcome:
        obj.outcome = str(_first(s, "outcome", "y", "depvar", default="") or getattr(obj, "depvar", "") or "")
    if not obj.fixed_effects:
        obj.fixed_effects = split_names(_first(s, "fixed_effects", "fixed effects", "fe", "absorb"))
    else:
        obj.fixed_effects = split_names(obj.fixed_effects)
    kind, cl = normalize_vcov(_first(s, "vcov_type", "vcov", "se", "variance", default=""))
    if not obj.vcov_type:
        obj.vcov_type = kind
    obj.cluster = split_names(obj.cluster) or cl or split_names(_first(s, "cluster", "cluster_var", "clusters"))
    if obj.cluster and obj.vcov_type in ("", "other"):
        obj.vcov_type = "cluster"
    if obj.n_clusters is None:
        st = getattr(obj, "stats", {}) or {}
        n = _first(st, "n_clusters", "clusters", "N_clusters", "G")
        if isinstance(n, dict):
            n = min(n.values()) if n else None
        if isinstance(n, (int, np.integer)):
            obj.n_clusters = int(n)
    if obj.seed is None:
        seed = _first(s, "seed")
        if isinstance(seed, (int, np.integer)):
            obj.seed = int(seed)


@dataclass
class EstimationResult:
    """Coefficients with their inference, plus provenance.

    Parameters
    ----------
    params, std_errors
        Series indexed by term name.
    model
        What was estimated, in words (first line of :meth:`summary`).
    df_resid
        Degrees of freedom for t-based p-values and intervals; ``None`` means normal.
    statistic_name
        ``"t"`` or ``"z"``.
    rows
        :class:`RowReport` of the estimation sample (``n_used`` / ``n_dropped`` read from it).
    settings
        Everything else the user chose (and defaults applied), e.g. the number of draws.
    reference
        The paper and the Stata/R command the numbers match.
    stats
        Scalar fit statistics for tables, e.g. ``{"N": 37050, "r2_within": 0.12}``.
    cov
        Covariance matrix of ``params`` (needed by :meth:`lincom` for more than one term).
    extra
        Estimator-specific objects (event-time tables, bootstrap draws, ...).
    outcome
        The dependent variable.
    fixed_effects
        Absorbed fixed effects, e.g. ``("county", "year")``; ``()`` for none.
    vcov_type
        One of :data:`VCOV_TYPES`: ``"iid"``, ``"hetero"``, ``"cluster"``, ``"driscoll_kraay"``,
        ``"hac"``, ``"bootstrap"``, ``"randomization"``, ``"other"``.
    cluster
        Cluster variables (``()`` unless clustered).
    n_clusters
        Number of clusters (the smallest count for multi-way clustering).
    seed
        The seed of every random draw, when the estimator draws.
    term_aliases
        Old term names still accepted for one release, ``{old: new}`` (e.g. ``{"ATT": "did"}``):
        ``result[old]``, ``params[old]``, ``std_errors[old]`` and ``conf_int().loc[old]`` read the
        new term with a DeprecationWarning.

    Notes
    -----
    When a typed field is left empty it is read from ``settings`` (``"y"``, ``"fixed effects"``,
    ``"vcov"``/``"se"``, ``"cluster"``, ``"seed"``), so older estimators fill it too.
    """

    params: pd.Series
    std_errors: pd.Series
    model: str = ""
    df_resid: float | None = None
    statistic_name: str = "t"
    rows: RowReport | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    reference: str = ""
    stats: dict[str, Any] = field(default_factory=dict)
    cov: pd.DataFrame | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    alpha: float = 0.05
    outcome: str = ""
    fixed_effects: tuple = ()
    vcov_type: str = ""
    cluster: tuple = ()
    n_clusters: int | None = None
    seed: int | None = None
    term_aliases: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.params = pd.Series(self.params, dtype=float)
        self.std_errors = pd.Series(self.std_errors, dtype=float).reindex(self.params.index)
        if self.term_aliases:
            self.params = TermAliasSeries(self.params, term_aliases=self.term_aliases)
            self.std_errors = TermAliasSeries(self.std_errors, term_aliases=self.term_aliases)
        _fill_provenance(self)

    # rows --------------------------------------------------------------------------------
    @property
    def n_used(self) -> int | None:
        """Rows used (from :attr:`rows`)."""
        return None if self.rows is None else int(self.rows.n_used)

    @property
    def n_dropped(self) -> int | None:
        """Rows dropped, all reasons together (from :attr:`rows`)."""
        return None if self.rows is None else int(self.rows.n_dropped)

    # inference ---------------------------------------------------------------------------
    def _dist(self):
        return stats.norm if self.df_resid is None else stats.t(self.df_resid)

    @property
    def tstats(self) -> pd.Series:
        return self.params / self.std_errors

    @property
    def pvalues(self) -> pd.Series:
        return pd.Series(2 * self._dist().sf(np.abs(self.tstats)), index=self.params.index)

    def conf_int(self, alpha: float | None = None) -> pd.DataFrame:
        a = self.alpha if alpha is None else alpha
        q = self._dist().ppf(1 - a / 2)
        ci = {"ci_low": self.params - q * self.std_errors, "ci_high": self.params + q * self.std_errors}
        if self.term_aliases:
            return TermAliasFrame(ci, term_aliases=self.term_aliases)
        return pd.DataFrame(ci)

    def lincom(self, weights: Mapping[str, float] | pd.Series, value: float = 0.0,
               name: str | None = None) -> "EstimationResult":
        """Linear combination ``w'b - value`` with its standard error, as Stata ``lincom``.

        Parameters
        ----------
        weights
            ``{term: weight}``; terms not named get weight 0. E.g. ``{"x:high": 1, "x:low": -1}``
            for the difference between two regimes.
        value
            Subtracted from the combination (the null hypothesis), default 0.
        name
            Term name of the result (default: the combination written out).

        Returns
        -------
        EstimationResult
            One term; ``to_frame()`` gives estimate, std_error, statistic, p_value, ci_low, ci_high
            with this result's degrees of freedom (t) or the normal.

        Examples
        --------
        >>> import pandas as pd
        >>> cov = pd.DataFrame([[0.04, 0.01], [0.01, 0.09]], index=["a", "b"], columns=["a", "b"])
        >>> r = EstimationResult(pd.Series({"a": 1.0, "b": 0.5}), pd.Series({"a": 0.2, "b": 0.3}), cov=cov)
        >>> d = r.lincom({"a": 1, "b": -1})
        >>> round(float(d.params.iloc[0]), 3), round(float(d.std_errors.iloc[0]), 3)
        (0.5, 0.332)
        """
        w = pd.Series(weights, dtype=float)
        unknown = [t for t in w.index if t not in self.params.index]
        if unknown:
            raise SpecificationError(
                f"lincom: {unknown} are not terms of this result; the terms are {list(self.params.index)}.")
        w = w[w != 0]
        est = float(w @ self.params[w.index]) - value
        if len(w) == 1:
            se = abs(float(w.iloc[0])) * float(self.std_errors[w.index[0]])
        elif self.cov is None:
            raise SpecificationError(
                "lincom over more than one term needs the covariance matrix, and this result has none "
                "(cov=None); use a result from fe(), event_study() or psm_did().")
        else:
            V = self.cov.loc[w.index, w.index].to_numpy(dtype=float)
            se = float(np.sqrt(max(w.to_numpy() @ V @ w.to_numpy(), 0.0)))
        label = name or " ".join(f"{'+' if c >= 0 else '-'} {abs(c):g}*{t}" for t, c in w.items()).lstrip("+ ")
        if value:
            label += f" - {value:g}"
        return EstimationResult(
            pd.Series({label: est}), pd.Series({label: se}), model=f"lincom after {self.model or 'estimation'}",
            df_resid=self.df_resid, statistic_name=self.statistic_name, rows=self.rows,
            settings={"weights": w.to_dict(), "value": value}, reference="Stata lincom", alpha=self.alpha,
            outcome=self.outcome, fixed_effects=self.fixed_effects, vcov_type=self.vcov_type,
            cluster=self.cluster, n_clusters=self.n_clusters, seed=self.seed,
        )

    # presentation ------------------------------------------------------------------------
    def to_frame(self) -> pd.DataFrame:
        """Tidy table: term, estimate, std_error, statistic, p_value, ci_low, ci_high."""
        ci = self.conf_int()
        out = pd.DataFrame(
            {
                "term": self.params.index,
                "estimate": self.params.values,
                "std_error": self.std_errors.values,
                "statistic": self.tstats.values,
                "p_value": self.pvalues.values,
                "ci_low": ci["ci_low"].values,
                "ci_high": ci["ci_high"].values,
            }
        )
        return out.reset_index(drop=True)

    def _provenance_lines(self) -> list[str]:
        lines = []
        if self.outcome:
            lines.append(f"outcome: {self.outcome}")
        lines.append(f"fixed effects: {', '.join(self.fixed_effects) if self.fixed_effects else 'none'}")
        if self.vcov_type:
            cl = f" by {', '.join(self.cluster)}" if self.cluster else ""
            n = f" ({self.n_clusters} clusters)" if self.n_clusters else ""
            lines.append(f"vcov: {self.vcov_type}{cl}{n}")
        if self.seed is not None:
            lines.append(f"seed: {self.seed}")
        return lines

    def summary(self) -> str:
        lines = [self.model or type(self).__name__]
        if self.reference:
            lines.append(f"reference: {self.reference}")
        lines += self._provenance_lines()
        for key, value in self.settings.items():
            lines.append(f"{key}: {value}")
        if self.rows is not None:
            lines.append(str(self.rows))
        for key, value in self.stats.items():
            lines.append(f"{key}: {value:.6g}" if isinstance(value, float) else f"{key}: {value}")
        lines.append(self.to_frame().to_string(index=False, float_format=lambda v: f"{v:.6g}"))
        return "\n".join(lines)

    def __repr__(self) -> str:  # pragma: no cover - display only
        return self.summary()

    def __getitem__(self, term: str) -> float:
        return float(self.params[renamed_term(term, self.term_aliases, self.params.index, type(self).__name__)])

    def with_settings(self, **more: Mapping) -> "EstimationResult":
        self.settings.update(more)
        return self


@dataclass(kw_only=True)
class TidyResult:
    """Base of results that are not a coefficient table (decompositions, transition matrices, tests).

    Subclasses hold their numbers as attributes and implement :meth:`to_frame` in long tidy form:
    one row per reported number, identifying columns first (``quantity``, ``group``, ``year``, ...),
    then the numbers (``value``, or ``estimate``/``std_error``/``p_value``/... for test statistics).
    The base supplies :meth:`summary`, ``n_used`` / ``n_dropped`` and the provenance fields.

    Parameters
    ----------
    model
        What was computed, in words.
    rows
        :class:`RowReport` of the rows used and dropped.
    settings
        What the user chose (and defaults applied).
    reference
        The paper and the Stata/R command matched.
    seed
        The seed of every random draw, when the method draws.

    Examples
    --------
    >>> import pandas as pd
    >>> class Share(TidyResult):
    ...     def to_frame(self):
    ...         return pd.DataFrame({"quantity": ["share"], "value": [0.25]})
    >>> print(Share(model="a share", rows=RowReport(4, 4)).summary())
    a share
    rows used: 4 of 4 (none dropped)
    quantity  value
       share   0.25
    """

    model: str = ""
    rows: RowReport | None = None
    settings: dict[str, Any] = field(default_factory=dict)
    reference: str = ""
    seed: int | None = None

    @property
    def n_used(self) -> int | None:
        return None if self.rows is None else int(self.rows.n_used)

    @property
    def n_dropped(self) -> int | None:
        return None if self.rows is None else int(self.rows.n_dropped)

    def to_frame(self) -> pd.DataFrame:  # pragma: no cover - every subclass overrides
        raise NotImplementedError

    def summary(self) -> str:
        lines = [self.model or type(self).__name__]
        if self.reference:
            lines.append(f"reference: {self.reference}")
        if self.seed is not None:
            lines.append(f"seed: {self.seed}")
        for key, value in self.settings.items():
            lines.append(f"{key}: {value}")
        if self.rows is not None:
            lines.append(str(self.rows))
        lines.append(self.to_frame().to_string(index=False, float_format=lambda v: f"{v:.6g}"))
        return "\n".join(lines)

    def __str__(self) -> str:
        return self.summary()


@dataclass(kw_only=True)
class FrameResult(TidyResult):
    """A :class:`TidyResult` whose numbers are one long table (``table``), e.g. a statistic by year.

    For one release it also behaves like the DataFrame that older versions returned: column access
    (``res["sigma"]``) and DataFrame methods (``res.set_index(...)``, with a DeprecationWarning)
    are passed to :meth:`to_frame`.

    Examples
    --------
    >>> import pandas as pd
    >>> r = FrameResult(table=pd.DataFrame({"year": [2020, 2021], "value": [0.3, 0.2]}), model="σ")
    >>> r.to_frame()["value"].tolist()
    [0.3, 0.2]
    >>> r["year"].tolist()
    [2020, 2021]
    """

    table: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_frame(self) -> pd.DataFrame:
        """The table in long form (a named index, e.g. ``test``, becomes the first column)."""
        t = self.table.copy()
        return t.reset_index() if t.index.name is not None else t.reset_index(drop=True)

    def __getitem__(self, key):
        return self.table[key]

    def __len__(self) -> int:
        return len(self.table)

    def __getattr__(self, name: str):
        if name.startswith("_") or name in ("table", "model", "rows", "settings", "reference", "seed"):
            raise AttributeError(name)
        import warnings

        warnings.warn(f"{type(self).__name__}.{name}: this function now returns a result object; call "
                      f".to_frame().{name} (the DataFrame pass-through goes in the next release).",
                      DeprecationWarning, stacklevel=2)
        return getattr(self.table, name)
