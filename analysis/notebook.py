"""The preamble every notebook shares: load the study, run or skip sections, write tables, say results.

A notebook opens with::

    nb = open_notebook("04", data_path=data_path, study_path=study_path, lang=lang, fast=fast, seed=seed)
    panel, roles = nb.panel, nb.roles

and then, for each section::

    if nb.section("robust", {"zh": "稳健估计量", "en": "Heterogeneity-robust estimators"},
                  needs=["policy", "outcome"]):
        ...
        nb.table(results, "04_robust", title={"zh": "...", "en": "..."})
        nb.say({"zh": "估计值为 {b:.4f}。", "en": "The estimate is {b:.4f}."}, b=result["did"])

A section whose inputs the study lacks prints one plain sentence saying what is missing and how to
supply it, and is recorded in ``results/sections/<notebook>.json``; ``make reproduce`` lists the
skipped sections in ``results/REPORT.md``. Nothing crashes for want of a column. Sentences that state
numbers go through :meth:`Notebook.say` so that the text is rendered from the computed numbers.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

import pandas as pd

from .reporting import results_dir, save_table, say
from .study import Study

__all__ = ["Notebook", "open_notebook", "sections_report"]


def _display_markdown(text: str) -> None:
    try:  # in a notebook (a running IPython kernel): rendered Markdown; elsewhere: plain text
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:  # pragma: no cover - IPython is a dependency
        print(text)
        return
    if get_ipython() is None:  # a script or pytest: display() would print the object's repr
        print(text)
    else:
        display(Markdown(text))


@dataclass
class Notebook:
    """What a running notebook knows: its number, language, the loaded study and the skipped sections."""

    number: str
    lang: str
    fast: bool
    seed: int
    study: Study
    panel: pd.DataFrame
    roles: dict
    notes: list = field(default_factory=list)
    skipped: list = field(default_factory=list)
    ran: list = field(default_factory=list)

    @property
    def simulated(self) -> bool:
        """True when the panel is the shipped simulated one (no ``data_path``)."""
        return self.study.data_path is None

    def text(self, zh: str, en: str) -> str:
        """The sentence in the notebook's language."""
        return zh if self.lang == "zh" else en

    def say(self, template: "str | Mapping[str, str]", **numbers) -> str:
        """Render a sentence from numbers (:func:`analysis.reporting.say`) and display it as Markdown."""
        sentence = say(template, self.lang, **numbers)
        _display_markdown(sentence)
        return sentence

    def section(self, key: str, title: "str | Mapping[str, str]", needs: Sequence[str] = (),
                columns: Sequence[str] = ()) -> bool:
        """Start a section: True if its inputs are there; else print what is missing and record the skip.

        ``needs`` lists study roles (``"policy"``, ``"outcome"``, ``"mediators"``, ``"moderators"``,
        ``"controls"``); ``columns`` lists panel columns the section uses (canonical names).
        """
        heading = title[self.lang] if isinstance(title, Mapping) else title
        reason = None
        if needs:
            items = {}
            for role in needs:
                if role == "policy":
                    items[role] = self.roles.get("did")
                elif role in ("mediators", "moderators", "controls"):
                    items[role] = self.roles.get(role) or []
                else:
                    items[role] = self.roles.get(role)
            reason = self.study.missing(items, section=heading, lang=self.lang)
        absent = [c for c in columns if c not in self.panel.columns]
        if reason is None and absent:
            reason = self.text(
                f"“{heading}”需要数据中的列 {', '.join(absent)}，当前面板没有；请在数据文件中加入这些列（年鉴列名见 "
                "data/templates/column_mapping.csv）后重新运行。",
                f"“{heading}” needs the columns {', '.join(absent)}, which the panel lacks; add them to your file "
                "(yearbook names in data/templates/column_mapping.csv) and run again.")
        if reason:
            self.skipped.append({"notebook": self.number, "section": key, "title": heading, "reason": reason})
            _display_markdown(f"**{self.text('本节跳过', 'Section skipped')}:** {reason}")
            self._write_sections()
            return False
        self.ran.append(key)
        self._write_sections()
        return True

    def skip(self, key: str, title: "str | Mapping[str, str]", reason: str) -> None:
        """Record and show a section that cannot run for a reason other than a missing role or column
        (too few treated counties, a parameter not given): the sentence is displayed and listed in
        ``results/sections/`` like the skips of :meth:`section`.
        """
        heading = title[self.lang] if isinstance(title, Mapping) else title
        if key in self.ran:
            self.ran.remove(key)
        self.skipped.append({"notebook": self.number, "section": key, "title": heading, "reason": reason})
        _display_markdown(f"**{self.text('本节跳过', 'Section skipped')}:** {reason}")
        self._write_sections()

    def table(self, table, name: str, title: "str | Mapping[str, str] | None" = None, **writer) -> Path:
        """Save a table as CSV under ``results/tables/``; estimation results also as Word (three-line),
        Excel and LaTeX through :func:`analysis.tables.regression_table` beside the CSV.
        """
        if not name.startswith(self.number):
            raise ValueError(f"table name {name!r} must start with the notebook number {self.number!r}.")
        results = table if isinstance(table, (list, tuple)) else [table]
        if all(hasattr(r, "params") and hasattr(r, "std_errors") for r in results):
            from .tables import regression_table

            heading = title[self.lang] if isinstance(title, Mapping) else (title or "")
            reg = regression_table(list(results), lang=self.lang, title=heading, **writer)
            folder = results_dir() / "tables"
            folder.mkdir(parents=True, exist_ok=True)
            reg.to_docx(folder / f"{name}.docx")
            reg.to_excel(folder / f"{name}.xlsx")
            (folder / f"{name}.tex").write_text(reg.to_latex(), encoding="utf-8")
            frame = pd.concat([r.to_frame().assign(model=i + 1) for i, r in enumerate(results)], ignore_index=True)
            return save_table(frame, name)
        return save_table(table, name)

    def _write_sections(self) -> None:
        out = results_dir() / "sections"
        out.mkdir(parents=True, exist_ok=True)
        (out / f"{self.number}.json").write_text(json.dumps(
            {"notebook": self.number, "ran": self.ran, "skipped": self.skipped}, ensure_ascii=False, indent=1),
            encoding="utf-8")


def open_notebook(number: str, data_path=None, study_path=None, lang: str = "zh", fast: bool = False,
                  seed: int = 20261128, **overrides) -> Notebook:
    """Load the study (``study_path`` YAML, else the defaults with ``data_path``) and print where the data
    come from: the shipped SIMULATED panel or the user's file, with rows, counties and years.

    Examples
    --------
    A user's file of two counties (110115 大兴区 is a 2015 land-reform pilot); outputs go to a
    temporary folder, and what the preamble prints is captured:

    >>> import contextlib, io, os, tempfile
    >>> from unittest import mock
    >>> import pandas as pd
    >>> from analysis.notebook import open_notebook
    >>> panel = pd.DataFrame({"county": ["110101", "110101", "110115", "110115"],
    ...                       "year": [2015, 2016] * 2, "urbanization_rate": [98.0, 98.5, 70.0, 72.0]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     with mock.patch.dict(os.environ, {"COUNTYFUSION_RESULTS": tmp}):
    ...         panel.to_csv(os.path.join(tmp, "panel.csv"), index=False)
    ...         with contextlib.redirect_stdout(io.StringIO()) as log:
    ...             nb = open_notebook("04", data_path=os.path.join(tmp, "panel.csv"), lang="en")
    >>> nb.simulated, nb.panel.shape, nb.panel["did"].tolist()
    (False, (4, 7), [0, 0, 1, 1])
    >>> "1 of 33 treated units found" in log.getvalue()
    True
    """
    study = Study.from_yaml(study_path) if study_path else Study.default()
    if data_path is not None:
        study.data_path = str(data_path)
    for key, value in overrides.items():
        setattr(study, key, value)
    loaded = study.load()
    panel, roles = loaded
    nb = Notebook(number=str(number), lang=lang, fast=bool(fast), seed=int(seed), study=study, panel=panel,
                  roles=roles, notes=list(getattr(loaded, "notes", [])))
    source = (nb.text("内置模拟面板（SIMULATED，非真实数据）", "the shipped SIMULATED panel (not real data)")
              if nb.simulated else nb.text(f"用户数据 {study.data_path}", f"your file {study.data_path}"))
    years = sorted(panel["year"].unique())
    nb.say({"zh": "数据：{src}；{n} 行，{c} 个县级单位，{y0}–{y1} 年。",
            "en": "Data: {src}; {n} rows, {c} county-level units, {y0}-{y1}."},
           src=source, n=len(panel), c=panel["county"].nunique(), y0=int(years[0]), y1=int(years[-1]))
    for note in nb.notes:
        print(note)
    nb._write_sections()
    return nb


def sections_report(folder: Path | None = None) -> pd.DataFrame:
    """Every skipped section recorded under ``results/sections/`` (notebook, section, title, reason).

    Examples
    --------
    >>> import json, tempfile
    >>> from pathlib import Path
    >>> from analysis.notebook import sections_report
    >>> skipped = [{"notebook": "05", "section": "mediation", "title": "Mechanisms",
    ...             "reason": "no mediators given"}]
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     _ = (Path(folder) / "05.json").write_text(json.dumps({"notebook": "05", "ran": [],
    ...                                                           "skipped": skipped}))
    ...     report = sections_report(Path(folder))
    >>> report[["notebook", "section", "reason"]].values.tolist()
    [['05', 'mediation', 'no mediators given']]
    """
    folder = folder or results_dir() / "sections"
    rows = []
    for f in sorted(Path(folder).glob("*.json")):
        rows += json.loads(f.read_text(encoding="utf-8")).get("skipped", [])
    return pd.DataFrame(rows, columns=["notebook", "section", "title", "reason"])
