"""Goodman-Bacon (2021) decomposition of the two-way fixed-effects DiD coefficient.

Goodman-Bacon, A. (2021). Difference-in-differences with variation in treatment timing. *Journal
of Econometrics* 225(2): 254-277, Theorem 1 and equations (10a)-(10g). Matches R
``bacondecomp::bacon(y ~ d, data, id_var, time_var)`` (Flack and Jee) and Stata ``bacondecomp``
(Goodman-Bacon, Goldring and Nichols) for the decomposition without covariates; units treated in
or before the first period are kept as a cohort with treated share 1, as R does ("Later vs Always
Treated").
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from ..demean import FixedEffects
from ..errors import SpecificationError, UnbalancedPanelError, describe_rows
from ..plots import new_figure, tr
from ..results import EstimationResult, RowReport
from ._common import TREATMENT_TERM, adoption_from_treatment, check_columns, check_keys, drop_missing, fe_ols
from ._treatment import treatment_input

__all__ = ["bacon_decomposition", "BaconResult", "BACON_TYPES"]

#: The comparison types, with R bacondecomp's labels.
BACON_TYPES = (
    "Treated vs Untreated",
    "Earlier vs Later Treated",
    "Later vs Earlier Treated",
    "Later vs Always Treated",
)
_TYPES_ZH = {
    "Treated vs Untreated": "处理组 vs 从未处理组",
    "Earlier vs Later Treated": "早处理组 vs 晚处理组（对照）",
    "Later vs Earlier Treated": "晚处理组 vs 早处理组（已处理对照）",
    "Later vs Always Treated": "晚处理组 vs 始终处理组",
}


@dataclass(repr=False)
class BaconResult(EstimationResult):
    """TWFE coefficient (``params``, county-clustered SE) and its decomposition.

    Attributes
    ----------
    decomposition
        One row per 2x2 comparison: ``type, treated, control, estimate, weight`` (``treated`` and
        ``control`` are adoption years; ``control`` is NaN for the never-treated group).
    twfe
        The TWFE coefficient; equals ``(decomposition.weight * decomposition.estimate).sum()``.
    """

    decomposition: pd.DataFrame = field(default_factory=pd.DataFrame)
    twfe: float = np.nan

    def by_type(self) -> pd.DataFrame:
        """Total weight and weighted-average estimate per type, as R ``bacon()`` prints them."""
        d = self.decomposition
        rows = []
        for typ, grp in d.groupby("type", sort=True):
            w = grp["weight"].sum()
            rows.append({"type": typ, "weight": w,
                         "avg_est": float((grp["weight"] * grp["estimate"]).sum() / w) if w > 0 else np.nan,
                         "n_comparisons": len(grp)})
        return pd.DataFrame(rows)

    def summary(self) -> str:
        by = self.by_type().to_string(index=False, float_format=lambda v: f"{v:.5f}")
        return (f"{super().summary()}\nGoodman-Bacon decomposition (weights sum to "
                f"{self.decomposition['weight'].sum():.12g}; weighted sum {self.weighted_sum():.12g})\n{by}")

    def weighted_sum(self) -> float:
        d = self.decomposition
        return float((d["weight"] * d["estimate"]).sum())

    def plot(self, lang: str = "zh", ax=None, title: str | None = None):
        """Scatter of every 2x2 estimate against its weight, marker by type, TWFE as a line."""
        if ax is None:
            fig, ax = new_figure(lang, figsize=(6.2, 4.0))
        else:
            fig = ax.figure
        markers = dict(zip(BACON_TYPES, ["o", "^", "s", "D"]))
        for i, (typ, grp) in enumerate(self.decomposition.groupby("type", sort=False)):
            ax.scatter(grp["weight"], grp["estimate"], marker=markers.get(typ, "o"), s=30, color=f"C{i}",
                       label=tr(typ, _TYPES_ZH.get(typ, typ), lang), alpha=0.85)
        ax.axhline(self.twfe, color="C3", lw=1.0, ls="--",
                   label=tr(f"TWFE = {self.twfe:.4f}", f"双向固定效应估计 = {self.twfe:.4f}", lang))
        ax.axhline(0, color="0.4", lw=0.6)
        ax.set_xlabel(tr("Weight", "权重", lang))
        ax.set_ylabel(tr("2x2 DiD estimate", "2×2 DID 估计值", lang))
        if title:
            ax.set_title(title)
        ax.legend(loc="best")
        return fig


@treatment_input("treat")
def bacon_decomposition(data: pd.DataFrame, y: str, treat: str, entity: str = "county",
                        time: str = "year") -> BaconResult:
    """Decompose the TWFE DiD coefficient into every 2x2 comparison (Goodman-Bacon 2021).

    Parameters
    ----------
    data
        Long panel, one row per unit-year. Must be balanced (every unit in every period) with no
        missing ``y`` or ``treat``: the decomposition is an identity only then.
    y, treat
        Outcome and 0/1 absorbing treatment (on from the adoption year, never off).
        Or give ``adoption=`` (the first treated year) instead;
        given both, they must agree (``docs/CONVENTIONS.md``).
    entity, time
        Unit and period columns.

    Returns
    -------
    BaconResult
        ``decomposition`` (type, treated, control, estimate, weight), ``twfe`` and ``by_type()``.
        The weights sum to one and the weighted sum of the estimates equals the TWFE coefficient
        (to floating-point precision).

    Notes
    -----
    With cohort shares n_k (of all units), treated-period shares D_k and the variance of the
    two-way-demeaned treatment V, the weights are (Goodman-Bacon 2021, eq. 10e-10g)
    s_kU = (n_k+n_U)^2 n_kU(1-n_kU) D_k(1-D_k) / V, s^k_kl = ((n_k+n_l)(1-D_l))^2 n_kl(1-n_kl)
    (D_k-D_l)/(1-D_l) (1-D_k)/(1-D_l) / V, s^l_kl = ((n_k+n_l)D_k)^2 n_kl(1-n_kl) D_l/D_k
    (D_k-D_l)/D_k / V. Reference: R ``bacondecomp::bacon`` 0.1.1; Stata ``bacondecomp``.

    Raises
    ------
    UnbalancedPanelError
        Missing unit-years or missing values (name them; the identity needs a balanced panel).
    TreatmentTimingError
        The treatment switches off.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> rng = np.random.default_rng(0)
    >>> d = pd.DataFrame({"county": np.repeat(np.arange(40), 6), "year": np.tile(np.arange(2010, 2016), 40)})
    >>> d["adoption"] = np.repeat(np.where(np.arange(40) < 20, 2013, 0), 6)
    >>> d["treat"] = ((d["adoption"] > 0) & (d["year"] >= 2013)).astype(int)
    >>> d["y"] = 0.5 * d["treat"] + rng.normal(scale=0.01, size=len(d))
    >>> res = bacon_decomposition(d, "y", "treat")
    >>> res.by_type()["type"].tolist(), round(float(res.by_type()["weight"].sum()), 3)
    (['Treated vs Untreated'], 1.0)
    >>> round(res.weighted_sum(), 2)
    0.5
    """
    check_columns(data, [y, treat, entity, time])
    check_keys(data, entity, time)
    n_input = len(data)
    frame, dropped = drop_missing(data[[entity, time, y, treat]], [y, treat])
    if dropped:
        miss = data.index.difference(frame.index)
        raise UnbalancedPanelError(
            f"the Goodman-Bacon decomposition needs a balanced panel without missing values; {len(miss)} rows have "
            f"missing values ({', '.join(f'{k}: {v}' for k, v in dropped.items())}; {describe_rows(miss)}). "
            "Drop those units entirely (or impute) before decomposing."
        )
    units = pd.Index(pd.unique(frame[entity]))
    years = np.sort(frame[time].unique())
    n, T = len(units), len(years)
    if n * T != len(frame):
        counts = frame.groupby(entity)[time].size()
        short = counts.index[counts < T]
        raise UnbalancedPanelError(
            f"the panel is unbalanced: {len(short)} {entity}(s) lack some of the {T} periods "
            f"({', '.join(map(str, short[:8]))}{' ...' if len(short) > 8 else ''}). The decomposition is an identity only "
            "for a balanced panel: keep units observed in every period."
        )
    g = adoption_from_treatment(frame, treat, entity, time).reindex(units)
    wide = frame.pivot(index=entity, columns=time, values=y).reindex(index=units, columns=years)
    Y = wide.to_numpy(dtype=float)
    G = g.to_numpy(dtype=float)
    G = np.where(np.isfinite(G) & (G <= years[0]), years[0], G)  # always treated: cohort at t_1 (R)
    D = (np.isfinite(G)[:, None] & (years[None, :] >= np.nan_to_num(G, nan=np.inf)[:, None])).astype(float)
    Dt = D - D.mean(1, keepdims=True) - D.mean(0, keepdims=True) + D.mean()
    VD = float((Dt ** 2).mean())
    if VD <= 0:
        raise SpecificationError(f"treatment {treat!r} has no within-unit, within-period variation; nothing to decompose.")
    twfe = float((Dt * Y).sum() / (Dt ** 2).sum())

    never = ~np.isfinite(G)
    cohorts = np.sort(np.unique(G[~never]))
    nU = never.mean()
    share = {k: float((G == k).mean()) for k in cohorts}
    dbar = {k: float((years >= k).mean()) for k in cohorts}

    def ybar(unit_mask, period_mask):
        return Y[unit_mask][:, period_mask].mean()

    def dd(a, b, pre, post):
        return (ybar(a, post) - ybar(a, pre)) - (ybar(b, post) - ybar(b, pre))

    rows = []
    for k in cohorts:
        if dbar[k] >= 1 or nU == 0:
            continue
        pre, post = years < k, years >= k
        nkU = share[k] / (share[k] + nU)
        s = (share[k] + nU) ** 2 * nkU * (1 - nkU) * dbar[k] * (1 - dbar[k]) / VD
        rows.append(("Treated vs Untreated", k, np.nan, dd(G == k, never, pre, post), s))
    for i, k in enumerate(cohorts):
        for l in cohorts[i + 1:]:
            nk, nl, Dk, Dl = share[k], share[l], dbar[k], dbar[l]
            nkl = nk / (nk + nl)
            if Dk < 1:  # k treated, later-treated l as control, window t < t_l
                pre, post = years < k, (years >= k) & (years < l)
                s = ((nk + nl) * (1 - Dl)) ** 2 * nkl * (1 - nkl) * ((Dk - Dl) / (1 - Dl)) * ((1 - Dk) / (1 - Dl)) / VD
                rows.append(("Earlier vs Later Treated", k, l, dd(G == k, G == l, pre, post), s))
            # l treated, already-treated k as control, window t >= t_k
            pre, post = (years >= k) & (years < l), years >= l
            s = ((nk + nl) * Dk) ** 2 * nkl * (1 - nkl) * (Dl / Dk) * ((Dk - Dl) / Dk) / VD
            typ = "Later vs Always Treated" if Dk >= 1 else "Later vs Earlier Treated"
            rows.append((typ, l, k, dd(G == l, G == k, pre, post), s))
    decomp = pd.DataFrame(rows, columns=["type", "treated", "control", "estimate", "weight"])

    # TWFE with county-clustered SE (reghdfe small-sample rules) for the table
    fe = FixedEffects(frame[[entity, time]])
    fit = fe_ols(frame[y].to_numpy(), frame[[treat]].to_numpy(), [treat], fe, frame[entity].to_numpy())
    return BaconResult(
        params=pd.Series({TREATMENT_TERM: twfe}),
        std_errors=pd.Series({TREATMENT_TERM: float(np.sqrt(fit.cov.iloc[0, 0]))}),
        outcome=y, fixed_effects=(entity, time), vcov_type="cluster", cluster=(entity,), n_clusters=fit.n_clusters,
        model="Goodman-Bacon decomposition of TWFE",
        df_resid=fit.df_resid,
        rows=RowReport(n_input=n_input, n_used=len(frame), dropped={}),
        settings={"y": y, "treat": treat, "entity": entity, "time": time, "fixed effects": f"{entity} + {time}",
                  "se": f"CRV1 clustered by {entity}, reghdfe small-sample factor",
                  "always-treated units": "kept as a cohort treated in the first period (R bacondecomp convention)"},
        reference="Goodman-Bacon (2021, J. Econometrics 225:254-277); R bacondecomp::bacon(), Stata bacondecomp",
        stats={"N": len(frame), "units": n, "periods": T, "V_D": VD, "weight_sum": float(decomp["weight"].sum())},
        decomposition=decomp,
        twfe=twfe,
    )
