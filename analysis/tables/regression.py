"""Regression tables in the layout Chinese and English economics journals use.

Coefficients with significance stars, standard errors in parentheses below them, fixed-effect rows
(县域固定效应 / 年份固定效应: 是 / 否), fit statistics (N, within R²) and a note that names the SE type
and clustering, in Chinese or English. Models may be CountyFusion results, pyfixest, statsmodels or
linearmodels results, mixed in one table (see :mod:`analysis.tables.adapters`). The layout matches
what Stata's ``esttab``/``outreg2`` and R's ``modelsummary``/``etable`` produce for a paper.
"""
from __future__ import annotations

import re
from typing import Mapping, Sequence

import numpy as np
import pandas as pd

from ..errors import SpecificationError, check_choice
from .adapters import ModelSummary, summarize_model
from .render import Table

__all__ = ["regression_table", "RegressionTable", "FE_LABELS", "STAT_LABELS"]

#: Row labels of the fixed-effect rows: name -> (English, Chinese).
FE_LABELS: dict[str, tuple[str, str]] = {
    "county": ("County FE", "县域固定效应"),
    "year": ("Year FE", "年份固定效应"),
    "province": ("Province FE", "省份固定效应"),
    "prefecture": ("Prefecture FE", "地级市固定效应"),
    "city": ("City FE", "城市固定效应"),
    "region": ("Region FE", "地区固定效应"),
    "entity": ("Entity FE", "个体固定效应"),
    "time": ("Time FE", "时间固定效应"),
    "industry": ("Industry FE", "行业固定效应"),
}

#: Row labels of the statistics rows: key -> (English, Chinese).
STAT_LABELS: dict[str, tuple[str, str]] = {
    "N": ("Observations", "观测值"),
    "r2": ("R²", "R²"),
    "r2_within": ("Within R²", "组内R²"),
    "adj_r2": ("Adj. R²", "调整R²"),
    "pseudo_r2": ("Pseudo R²", "伪R²"),
    "n_entities": ("Counties", "县域数"),
    "n_clusters": ("Clusters", "聚类数"),
}

_CLUSTER_NAMES = {
    "county": ("county", "县域"),
    "province": ("province", "省份"),
    "prefecture": ("prefecture", "地级市"),
    "city": ("city", "城市"),
    "year": ("year", "年份"),
    "entity": ("entity", "个体"),
    "time": ("time", "时间"),
}

_INT_STATS = {"N", "n_entities", "n_clusters", "T"}


class RegressionTable(Table):
    """A regression :class:`~analysis.tables.render.Table` that keeps its models' numbers.

    ``coefficients`` is a long frame (model, term, estimate, std_error, p_value) of what is shown.
    """

    coefficients: pd.DataFrame | None = None


def _label(name: str, labels: Mapping[str, tuple[str, str]], lang: str, suffix_en="", suffix_zh="") -> str:
    if "^" in name:  # interacted fixed effects, pyfixest syntax province^year
        parts = name.split("^")
        en = " x ".join(labels.get(p, (p, p))[0].replace(" FE", "") for p in parts)
        zh = "×".join(labels.get(p, (p, p))[1].replace("固定效应", "") for p in parts)
        return f"{en} FE" if lang == "en" else f"{zh}固定效应"
    if name in labels:
        return labels[name][0 if lang == "en" else 1]
    return f"{name}{suffix_en}" if lang == "en" else f"{name}{suffix_zh}"


def _star(p: float, stars: Sequence[float]) -> str:
    if p is None or not np.isfinite(p):
        return ""
    return "*" * sum(p < s for s in stars)


def _fmt(v: float, digits: int) -> str:
    if v is None or not np.isfinite(v):
        return ""
    s = f"{v:.{digits}f}"
    return "0." + "0" * digits if s == "-" + "0." + "0" * digits else s


def _se_note(ms: list[ModelSummary], lang: str, se_in: str) -> str:
    kinds = {(m.vcov, tuple(m.cluster)) for m in ms}
    where_zh = "括号内" if se_in == "parentheses" else "方括号内"
    where_en = "in parentheses" if se_in == "parentheses" else "in brackets"

    def one(kind, cl):
        names = [_CLUSTER_NAMES.get(c, (c, c)) for c in cl]
        if kind == "cluster":
            if not names:
                return ("cluster-robust standard errors", "聚类稳健标准误")
            en = " and ".join(n[0] for n in names)
            zh = "和".join(n[1] for n in names)
            return (f"standard errors clustered by {en}", f"聚类到{zh}层面的稳健标准误")
        if kind == "hetero":
            return ("heteroskedasticity-robust standard errors", "异方差稳健标准误")
        if kind == "driscoll_kraay":
            return ("Driscoll-Kraay standard errors", "Driscoll-Kraay标准误")
        if kind == "hac":
            return ("HAC standard errors", "HAC稳健标准误")
        return ("standard errors", "标准误")

    if len(kinds) == 1:
        en, zh = one(*next(iter(kinds)))
        return f"{en[0].upper() + en[1:]} {where_en}." if lang == "en" else f"{where_zh}为{zh}。"
    parts_en, parts_zh = [], []
    for i, m in enumerate(ms, start=1):
        en, zh = one(m.vcov, tuple(m.cluster))
        parts_en.append(f"({i}) {en}")
        parts_zh.append(f"第({i})列为{zh}")
    return (f"Standard errors {where_en}: " + "; ".join(parts_en) + "." if lang == "en"
            else f"{where_zh}为标准误：" + "；".join(parts_zh) + "。")


def _star_note(stars: Sequence[float], lang: str) -> str:
    levels = sorted(stars, reverse=True)  # 0.1, 0.05, 0.01 -> *, **, ***
    pct = [f"{s * 100:g}%" for s in levels]
    syms = ["*" * (i + 1) for i in range(len(levels))]
    if lang == "en":
        return f"{', '.join(syms[:-1])} and {syms[-1]} denote significance at the {', '.join(pct[:-1])} and {pct[-1]} levels."
    return f"{'、'.join(syms[::-1][:-1])}和{syms[0]}分别表示在{'、'.join(pct[::-1][:-1])}和{pct[0]}的水平上显著。"


def _select_terms(all_terms: list[str], keep) -> list[str]:
    if keep is None:
        return all_terms
    if isinstance(keep, str):
        keep = [keep]
    out: list[str] = []
    for k in keep:
        if k in all_terms:
            out.append(k)
            continue
        try:
            pat = re.compile(k)
        except re.error as exc:
            raise SpecificationError(f"keep entry {k!r} is neither a term nor a valid regular expression: {exc}")
        out += [t for t in all_terms if pat.search(t) and t not in out]
    return list(dict.fromkeys(out))


def regression_table(
    models,
    labels: Sequence[str] | None = None,
    stars: Sequence[float] = (0.1, 0.05, 0.01),
    stats: Sequence[str] = ("N", "r2_within"),
    fe_rows: bool = True,
    lang: str = "zh",
    keep: Sequence[str] | str | None = None,
    rename: Mapping[str, str] | None = None,
    se_in: str = "parentheses",
    *,
    digits: int = 3,
    title: str = "",
    notes: Sequence[str] | str | None = None,
    fe_labels: Mapping[str, str] | None = None,
    stat_labels: Mapping[str, str] | None = None,
) -> RegressionTable:
    """Side-by-side regression table; write it with ``.to_docx()``, ``.to_latex()``, ``.to_excel()`` ...

    Parameters
    ----------
    models
        One model, a list of models, or a dict {column label: model}. CountyFusion
        ``EstimationResult`` objects, pyfixest ``Feols``, statsmodels and linearmodels results; a
        :class:`~analysis.regression.HeterogeneityResult` gives one column per group.
    labels
        Column labels shown under (1), (2), ... (e.g. the dependent variables).
    stars
        Significance levels for *, **, *** (two-sided p-values of each model).
    stats
        Rows of fit statistics: keys of each model's statistics (``N``, ``r2``, ``r2_within``,
        ``adj_r2``, ``n_entities`` ...); a model without the statistic shows an empty cell.
    fe_rows
        Add one row per fixed effect (县域固定效应 是/否 ...).
    lang
        ``"zh"`` or ``"en"``: row labels, 是/否 or Yes/No, and the notes.
    keep
        Terms to show, in this order; entries that are not term names are regular expressions.
    rename
        Term -> label shown (e.g. ``{"loans_gdp": "金融深化"}``); the intercept (``Intercept``,
        ``const``, ``_cons``) is shown as 常数项 / Constant unless renamed.
    se_in
        ``"parentheses"`` (default) or ``"brackets"``.
    digits
        Decimals of coefficients, standard errors and R².
    title, notes
        Caption, and extra note lines after the standard one.
    fe_labels, stat_labels
        Override row labels of fixed effects / statistics (same label = one merged row).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from analysis.tables import regression_table
    >>> from analysis.regression import fe
    >>> rng = np.random.default_rng(0)
    >>> df = pd.DataFrame({"county": np.repeat(["a", "b", "c", "d"], 5),
    ...                    "year": np.tile(np.arange(2010, 2015), 4), "x": rng.normal(size=20)})
    >>> df["y"] = 0.5 * df["x"] + rng.normal(scale=0.1, size=20)  # true slope 0.5
    >>> fit = fe("y ~ x", df, cluster=None, vcov="hetero")
    >>> print(regression_table(fit, lang="en").to_markdown())
    | Variable | (1) |
    |:---|:---:|
    | x | 0.502*** |
    |  | (0.020) |
    | County FE | Yes |
    | Year FE | Yes |
    | Observations | 20 |
    | Within R² | 0.983 |
    <BLANKLINE>
    Notes: Heteroskedasticity-robust standard errors in parentheses. *, ** and *** denote significance at the 10%, 5% and 1% levels.
    """
    check_choice("lang", lang, ("zh", "en"))
    check_choice("se_in", se_in, ("parentheses", "brackets"))
    if callable(getattr(models, "models", None)):  # a result holding several fits (heterogeneity())
        models = models.models()
    if isinstance(models, Mapping):
        if labels is None:
            labels = [str(k) for k in models]
        models = list(models.values())
    elif not isinstance(models, (list, tuple)):
        models = [models]
    if not models:
        raise SpecificationError("regression_table needs at least one model.")
    ms = [summarize_model(m) for m in models]
    k = len(ms)
    if labels is not None and len(labels) != k:
        raise SpecificationError(f"labels has {len(labels)} entries for {k} models; give one label per model.")
    const = "常数项" if lang == "zh" else "Constant"
    rename = {"Intercept": const, "const": const, "_cons": const, **dict(rename or {})}
    open_, close = ("(", ")") if se_in == "parentheses" else ("[", "]")

    all_terms = list(dict.fromkeys(t for m in ms for t in m.params.index))
    terms = _select_terms(all_terms, keep)
    stub = "变量" if lang == "zh" else "Variable"
    header = [[""] + [f"({i})" for i in range(1, k + 1)]]
    if labels is not None:
        header.append([stub] + [str(x) for x in labels])
    else:
        header[0][0] = stub

    body: list[list[str]] = []
    long_rows = []
    for t in terms:
        coef_row = [rename.get(t, t)]
        se_row = [""]
        for i, m in enumerate(ms):
            if t in m.params.index:
                b, s, p = float(m.params[t]), float(m.std_errors.get(t, np.nan)), float(m.pvalues.get(t, np.nan))
                coef_row.append(_fmt(b, digits) + _star(p, stars))
                se_row.append(f"{open_}{_fmt(s, digits)}{close}" if np.isfinite(s) else "")
                long_rows.append((i + 1, t, b, s, p))
            else:
                coef_row.append("")
                se_row.append("")
        body += [coef_row, se_row]
    midrules = [len(body) - 1] if body else []

    if fe_rows:
        fe_labels = dict(fe_labels or {})
        rows: dict[str, list[bool]] = {}
        for i, m in enumerate(ms):
            for name in m.fixed_effects:
                lab = fe_labels.get(name) or _label(name, FE_LABELS, lang, " FE", "固定效应")
                rows.setdefault(lab, [False] * k)[i] = True
        yes, no = ("是", "否") if lang == "zh" else ("Yes", "No")
        for lab, flags in rows.items():
            body.append([lab] + [yes if f else no for f in flags])
        if rows:
            midrules.append(len(body) - 1)

    stat_labels = dict(stat_labels or {})
    for key in stats:
        lab = stat_labels.get(key) or _label(key, STAT_LABELS, lang)
        cells = []
        for m in ms:
            v = m.stats.get(key)
            if v is None or (isinstance(v, float) and not np.isfinite(v)):
                cells.append("")
            elif key in _INT_STATS:
                cells.append(str(int(round(float(v)))))
            else:
                cells.append(_fmt(float(v), digits))
        body.append([lab] + cells)

    note_lines = [("注：" if lang == "zh" else "Notes: ") + _se_note(ms, lang, se_in) + ("" if lang == "zh" else " ")
                  + _star_note(stars, lang)]
    if notes:
        note_lines += [notes] if isinstance(notes, str) else list(notes)
    table = RegressionTable(header=header, body=body, title=title, notes=note_lines, lang=lang, midrules=midrules)
    table.coefficients = pd.DataFrame(long_rows, columns=["model", "term", "estimate", "std_error", "p_value"])
    return table
