"""Where notebooks write their tables and figures, and how they are named.

Every notebook saves its tables with :func:`save_table` and its figures with :func:`save_figure`.
Sentences that state numbers are rendered from the numbers with :func:`say` and :class:`Verdict`
(Chinese or English), so a notebook's text cannot disagree with its tables.
Outputs go under ``results/`` at the project root, or under the folder named by the environment
variable ``COUNTYFUSION_RESULTS`` (the test suite points it at a temporary folder). Table names start
with the notebook number (``"04_twfe_baseline"``); ``make reproduce`` compares each table with its
committed copy in ``results/expected/``.
"""
from __future__ import annotations

import math
import os
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

__all__ = ["project_root", "results_dir", "save_table", "save_figure", "TABLE_DECIMALS", "say", "significance",
           "Verdict", "SIGNIFICANCE_LEVELS"]

#: Tables are rounded to this many significant decimals before writing, so that the committed
#: expected copies do not carry floating-point noise from the last bits of BLAS.
TABLE_DECIMALS = 10


def project_root() -> Path:
    """The project's root folder (the one holding ``analysis/``).

    Examples
    --------
    >>> from analysis.reporting import project_root
    >>> (project_root() / "analysis" / "reporting.py").is_file()
    True
    """
    return Path(__file__).resolve().parent.parent


def results_dir() -> Path:
    """Root of all outputs: ``$COUNTYFUSION_RESULTS``, else ``<project>/results`` in a checkout,
    else ``./results`` (an installed package writes beside the user's work, never into
    ``site-packages``).

    Examples
    --------
    >>> import os, tempfile
    >>> from pathlib import Path
    >>> from analysis.reporting import results_dir
    >>> from unittest import mock
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with mock.patch.dict(os.environ, {"COUNTYFUSION_RESULTS": tmp}):
    ...         same = results_dir() == Path(tmp)
    >>> same
    True
    """
    env = os.environ.get("COUNTYFUSION_RESULTS")
    if env:
        return Path(env)
    root = project_root()
    in_checkout = (root / "pyproject.toml").is_file() and (root / "notebooks").is_dir()
    return root / "results" if in_checkout else Path.cwd() / "results"


def save_table(table: pd.DataFrame, name: str, index: bool = False) -> Path:
    """Write ``table`` to ``results/tables/<name>.csv`` and return the path.

    ``table`` may also be a CountyFusion result (its ``to_frame()`` is written). Floats are
    rounded to :data:`TABLE_DECIMALS` decimals. ``name`` must start with the notebook
    number, e.g. ``"01_weights"``.

    Examples
    --------
    >>> import os, tempfile
    >>> import pandas as pd
    >>> from analysis.reporting import save_table
    >>> from unittest import mock
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with mock.patch.dict(os.environ, {"COUNTYFUSION_RESULTS": tmp}):
    ...         path = save_table(pd.DataFrame({"a": [1 / 3]}), "01_example")
    ...         text = path.read_text()
    >>> path.parent.name, path.name, text.splitlines()
    ('tables', '01_example.csv', ['a', '0.3333333333'])
    """
    if not name or not name[:2].isdigit():
        raise ValueError(f"table name {name!r} must start with its notebook number, e.g. '01_weights'.")
    if not isinstance(table, pd.DataFrame) and hasattr(table, "to_frame"):
        table = table.to_frame()  # a CountyFusion result: its tidy table
    out = results_dir() / "tables" / f"{name}.csv"
    out.parent.mkdir(parents=True, exist_ok=True)
    frame = table.reset_index() if index else table
    frame = frame.round(TABLE_DECIMALS)
    frame.to_csv(out, index=False, encoding="utf-8")
    return out


def save_figure(fig, name: str, dpi: int = 150) -> Path:
    """Write a matplotlib figure to ``results/figures/<name>.png`` and return the path.

    Examples
    --------
    >>> import os, tempfile
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> import matplotlib.pyplot as plt
    >>> from analysis.reporting import save_figure
    >>> fig, ax = plt.subplots(figsize=(2, 2))
    >>> from unittest import mock
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with mock.patch.dict(os.environ, {"COUNTYFUSION_RESULTS": tmp}):
    ...         path = save_figure(fig, "01_example", dpi=50)
    ...         written = path.is_file()
    >>> plt.close(fig)
    >>> path.parent.name, path.name, written
    ('figures', '01_example.png', True)
    """
    out = results_dir() / "figures" / f"{name}.png"
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=dpi, bbox_inches="tight")
    return out


# ---------------------------------------------------------------------------------------------
# prose from numbers
# ---------------------------------------------------------------------------------------------
#: Conventional significance levels of applied economics tables (*** 1%, ** 5%, * 10%).
SIGNIFICANCE_LEVELS = (0.01, 0.05, 0.10)

_UNDEFINED = {"en": "n/a", "zh": "无法计算"}


def _is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) or hasattr(x, "dtype") and getattr(
        x, "ndim", 1) == 0


class _Formatter(string.Formatter):
    def __init__(self, lang: str):
        self.lang = lang

    def format_field(self, value, format_spec):
        if _is_number(value) and not math.isfinite(float(value)):
            return _UNDEFINED[self.lang]  # NaN / inf: an undefined statistic is said, not printed as "nan"
        return super().format_field(value, format_spec)


def say(template: "str | Mapping[str, str]", lang: str = "en", **numbers) -> str:
    """Render a sentence from numbers: ``say({"en": "p = {p:.3f}", "zh": "p 值为 {p:.3f}"}, lang, p=0.0412)``.

    ``template`` is a ``str.format`` template or a mapping ``{"zh": ..., "en": ...}``; every field
    must be given in ``numbers`` (a missing one raises ``KeyError`` naming it, a number is never
    typed into the text by hand). NaN and infinite numbers render as "n/a" / "无法计算".

    Examples
    --------
    >>> from analysis.reporting import say
    >>> say({"en": "p = {p:.3f}", "zh": "p 值为 {p:.3f}"}, "zh", p=0.0412)
    'p 值为 0.041'
    >>> say("the effect is {b:.2f}", b=float("nan"))
    'the effect is n/a'
    """
    from .errors import SpecificationError

    if lang not in ("zh", "en"):
        raise SpecificationError(f"lang={lang!r}: use 'zh' or 'en'.")
    if isinstance(template, Mapping):
        if lang not in template:
            raise SpecificationError(f"template has no {lang!r} version (keys: {sorted(template)}).")
        template = template[lang]
    fields = {f for _, f, _, _ in string.Formatter().parse(template) if f}
    missing = sorted({f.split(".")[0].split("[")[0] for f in fields} - set(numbers))
    if missing:
        raise KeyError(f"say(): no value given for {missing} in template {template!r}.")
    return _Formatter(lang).format(template, **numbers)


def significance(p: float, lang: str = "en", levels: Sequence[float] = SIGNIFICANCE_LEVELS) -> str:
    """Verdict phrase of a p-value: "significant at the 5% level" / "在5%水平上显著".

    The smallest level in ``levels`` that ``p`` is below; above all of them, "not significant at
    the 10% level" / "在10%水平上不显著"; NaN: "significance undefined" / "显著性无法判断".

    Examples
    --------
    >>> from analysis.reporting import significance
    >>> significance(0.03), significance(0.03, lang="zh")
    ('significant at the 5% level', '在5%水平上显著')
    >>> significance(0.2)
    'not significant at the 10% level'
    """
    levels = sorted(levels)
    if p is None or not math.isfinite(float(p)):
        return {"en": "significance undefined", "zh": "显著性无法判断"}[lang]
    pct = lambda a: f"{100 * a:g}%"  # noqa: E731
    for a in levels:
        if p < a:
            return {"en": f"significant at the {pct(a)} level", "zh": f"在{pct(a)}水平上显著"}[lang]
    return {"en": f"not significant at the {pct(levels[-1])} level", "zh": f"在{pct(levels[-1])}水平上不显著"}[lang]


@dataclass
class Verdict:
    """A sentence about one estimate: its sign, size, p-value and significance, in zh or en.

    >>> Verdict("the land reform", "the integration index", 0.00283, 0.041).render("en")
    'The effect of the land reform on the integration index is 0.00283 (p = 0.041), positive and significant at the 5% level.'
    """

    treatment: str
    outcome: str
    estimate: float
    p_value: float
    treatment_zh: str | None = None
    outcome_zh: str | None = None
    digits: int = 3
    levels: Sequence[float] = SIGNIFICANCE_LEVELS

    @classmethod
    def from_result(cls, result, term: str, treatment: str, outcome: str, **kw) -> "Verdict":
        """From an :class:`~analysis.results.EstimationResult` (its ``params`` and ``pvalues``)."""
        return cls(treatment, outcome, float(result.params[term]), float(result.pvalues[term]), **kw)

    def render(self, lang: str = "en") -> str:
        sig = significance(self.p_value, lang, self.levels)
        significant = math.isfinite(self.p_value) and self.p_value < max(self.levels)
        est = f"{self.estimate:.{self.digits}g}" if abs(self.estimate) < 1 else f"{self.estimate:.{self.digits}f}"
        if lang == "zh":
            t, o = self.treatment_zh or self.treatment, self.outcome_zh or self.outcome
            sign = ("正向" if self.estimate > 0 else "负向") if significant else ""
            return say("{t}对{o}的影响为 {est}（p = {p:.3f}），{sig}{sign}。", "zh", t=t, o=o, est=est,
                       p=self.p_value, sig=sig, sign=("，方向为" + sign) if sign else "")
        sign = ("positive and " if self.estimate > 0 else "negative and ") if significant else ""
        text = say("The effect of {t} on {o} is {est} (p = {p:.3f}), {sign}{sig}.", "en", t=self.treatment,
                   o=self.outcome, est=est, p=self.p_value, sign=sign, sig=sig)
        return text[0].upper() + text[1:]

    def __str__(self) -> str:
        return self.render("en")
