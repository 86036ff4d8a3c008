"""Prose check for executed notebooks: a markdown cell may state no number that no output holds.

Issue 14: notebook 04's text said p ≈ 0.2-0.3 while its tables gave 0.041; notebook 01 quoted 173
counties where its table had 336. Text that states numbers must be rendered from the results
(:func:`analysis.reporting.say`), so every figure in a markdown cell must appear in some output of
the same executed notebook (or in a table given with ``tables=``).

What counts as a stated number in markdown: digits with a decimal point (``0.041``), a percentage
(``23%``, ``23 %``, ``23％``) or an integer count above 9 (``173``, ``2,851``). Not counted: years
(four-digit integers 1900-2100 without decimals), numbers inside inline code or fenced code, link
targets and URLs, LaTeX math (``$...$``), heading/list numbering (``## 5.``, ``1.``), citation
volume/issue/pages (``36(3):793-810``), section references (``§1.2``) and conventional confidence
levels (``95% bands``). Anything else a notebook states on purpose goes in ``allow``.

A stated number is held when some number in the outputs, rounded to the stated number of decimals,
equals it (a percentage also matches a share: 23% is held by 0.23 or 0.2312 rounded to 0.23).
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import pandas as pd

_NUM = re.compile(r"(?<![\w.])[-−]?(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(\s*[%％])?")
_OUT_NUM = re.compile(r"[-−]?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?")


@dataclass
class Unheld:
    cell: int  # index of the markdown cell in the notebook
    number: str
    context: str

    def __str__(self) -> str:
        return f"markdown cell {self.cell}: {self.number!r} in “…{self.context}…”"


def _strip_markdown(text: str) -> str:
    text = re.sub(r"```.*?```", " ", text, flags=re.S)
    text = re.sub(r"`[^`]*`", " ", text)
    text = re.sub(r"\$\$.*?\$\$", " ", text, flags=re.S)
    text = re.sub(r"\$[^$]*\$", " ", text)
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    text = re.sub(r"https?://\S+", " ", text)
    text = re.sub(r"(?m)^\s*#+\s*[\d.]+\s", " ", text)  # heading numbers
    text = re.sub(r"(?m)^\s*\d+[.)]\s", " ", text)  # list numbering
    text = re.sub(r"\d+\s*\(\d+\)\s*:\s*\d+(?:\s*[-–]\s*\d+)?", " ", text)  # citation 36(3):793-810
    text = re.sub(r"§\s*\d+(?:\.\d+)*", " ", text)  # section references
    text = re.sub(r"\b(?:90|95|99)\s*[%％](?=\s*(?:confidence|CI|band|interval|置信))", " ", text)  # conventional levels
    return text


def stated_numbers(markdown: str) -> list[tuple[str, float, int, bool, str]]:
    """(text, value, decimals, is_percent, context) of every number the markdown states."""
    text = _strip_markdown(markdown)
    out = []
    for m in _NUM.finditer(text):
        whole, frac, pct = m.group(1), m.group(2) or "", bool(m.group(3))
        value = float(whole.replace(",", "") + frac)
        decimals = len(frac) - 1 if frac else 0
        if not frac and not pct:
            if value <= 9:
                continue
            if 1900 <= value <= 2100 and "," not in whole:  # a year, not a count
                continue
        ctx = text[max(0, m.start() - 30):m.end() + 30].replace("\n", " ")
        out.append((m.group(0).strip(), value, decimals, pct, ctx))
    return out


def _output_text(cell: dict) -> Iterable[str]:
    for o in cell.get("outputs", []):
        if "text" in o:
            yield "".join(o["text"]) if isinstance(o["text"], list) else o["text"]
        for key, val in o.get("data", {}).items():
            if key.startswith("text/"):
                yield "".join(val) if isinstance(val, list) else val


def held_values(notebook: dict, tables: Iterable[pd.DataFrame | str | Path] = ()) -> list[float]:
    """Every number printed in the notebook's outputs, plus the cells of ``tables``."""
    vals: list[float] = []
    texts = [t for c in notebook["cells"] if c["cell_type"] == "code" for t in _output_text(c)]
    for t in tables:
        frame = pd.read_csv(t) if isinstance(t, (str, Path)) else t
        texts.append(frame.to_csv(index=False))
        vals += [float(x) for x in frame.select_dtypes("number").to_numpy().ravel() if pd.notna(x)]
    for t in texts:
        for m in _OUT_NUM.finditer(t):
            try:
                vals.append(abs(float(m.group(0).replace(",", "").replace("−", "-"))))
            except ValueError:
                continue
    return vals


def unheld_numbers(notebook: dict | str | Path, tables=(), allow: Iterable[str] = ()) -> list[Unheld]:
    """Numbers stated in markdown cells that no output (or table) holds (``allow``: stated texts to skip)."""
    allow = set(allow)
    if not isinstance(notebook, dict):
        notebook = json.loads(Path(notebook).read_text(encoding="utf-8"))
    vals = held_values(notebook, tables)
    cache: dict[tuple[int, bool], set] = {}

    def rounded(d: int, pct: bool) -> set:
        if (d, pct) not in cache:
            cache[(d, pct)] = {round(100 * v, d) for v in vals if v <= 1} if pct else {round(v, d) for v in vals}
        return cache[(d, pct)]

    bad = []
    for i, cell in enumerate(notebook["cells"]):
        if cell["cell_type"] != "markdown":
            continue
        src = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        for text, value, d, pct, ctx in stated_numbers(src):
            if text in allow:
                continue
            ok = round(abs(value), d) in rounded(d, False)
            if not ok and pct:  # 23% held by a share 0.23 or 0.2312
                ok = round(abs(value), d) in rounded(d, True)
            if not ok:
                bad.append(Unheld(i, text, ctx))
    return bad


def assert_prose_matches_outputs(notebook, tables=(), allow: Iterable[str] = ()) -> None:
    """Fail listing every markdown number that no output holds."""
    bad = unheld_numbers(notebook, tables, allow)
    assert not bad, "markdown states numbers no output holds:\n" + "\n".join(map(str, bad))
