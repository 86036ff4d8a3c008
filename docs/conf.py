"""Sphinx configuration of the CountyFusion documentation (built by ``make docs``).

Sphinx + MyST-NB + the PyData theme: Sphinx's autodoc (with napoleon for numpy-style docstrings)
builds the API reference from the docstrings the package already has; MyST lets every page be
Markdown, and MyST-NB renders executed notebooks without executing them again (``nb_execution_mode
= "off"``): the copies in ``results/notebooks/`` (written by ``make reproduce``) when they exist,
otherwise the fast-mode copies that ``make docs`` writes to ``docs/_executed/``
(``scripts/execute_notebooks.py``); ``scripts/check_docs.py`` fails a page without outputs.
Everything builds offline.
"""
from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(DOCS))

import analysis  # noqa: E402

project = "CountyFusion"
author = "CountyFusion contributors"
copyright = "2026, CountyFusion contributors"  # noqa: A001 - Sphinx's name
release = version = "0.1.0"
language = "en"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.viewcode",
    "myst_nb",
]
source_suffix = {".md": "myst-nb", ".ipynb": "myst-nb", ".rst": "restructuredtext"}
root_doc = "index"
exclude_patterns = ["_build", "_executed", "README.md", "CONVENTIONS.md", "did_heterogeneity_robust.md",
                    "simulation.md", "requirements.txt", "**.ipynb_checkpoints"]

# ---- MyST / MyST-NB: never execute a notebook while building the docs -------------------------
nb_execution_mode = "off"
nb_merge_streams = True
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
# the notebooks start with an H1 and number their sections freely; cross-file heading jumps in
# included READMEs point into the repository, not into the site
suppress_warnings = ["myst.header", "myst.xref_missing", "misc.highlighting_failure"]

# ---- autodoc: the API reference from the docstrings ---------------------------------------------
autodoc_default_options = {"members": True, "undoc-members": False, "show-inheritance": True}
autodoc_member_order = "bysource"
autodoc_typehints = "none"
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False
napoleon_use_ivar = True  # "Attributes" sections as fields: no duplicate attribute entries

# ---- HTML ---------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = "CountyFusion · 县域城乡融合"
html_theme_options = {"navigation_with_keys": False, "show_toc_level": 2,
                      "secondary_sidebar_items": ["page-toc"]}
html_static_path: list[str] = []


#: executed copies, in order of preference: `make reproduce` (full mode), then the fast-mode copies
#: that `make docs` writes with scripts/execute_notebooks.py
EXECUTED = [ROOT / "results" / "notebooks", DOCS / "_executed" / "notebooks"]


def _copy_notebooks() -> None:
    """Put the notebooks into docs/notebooks/ (git-ignored): the executed copies, else the committed ones."""
    target = DOCS / "notebooks"
    target.mkdir(exist_ok=True)
    for old in target.glob("*.ipynb"):
        old.unlink()
    for nb in sorted((ROOT / "notebooks").glob("[0-9]*.ipynb")):
        copies = [folder / nb.name for folder in EXECUTED if (folder / nb.name).is_file()]
        shutil.copyfile(copies[0] if copies else nb, target / nb.name)


def _write_generated() -> None:
    from _generate import write_pages

    write_pages(DOCS, ROOT)


# ---- docstrings are written as plain text with formulas (|a - b|, *, x_): keep them literal ----
_LITERAL = re.compile(r"(``.*?``)")
_ASTERISKS = re.compile(r"(?<=[\s(,])(\*{1,3})(?=[\s,;)]|$)")
_TRAILING_UNDERSCORE = re.compile(r"(?<=\w)_(?=[^\w`]|$)")


def _plain(segment: str) -> str:
    segment = segment.replace("|", "\\|")
    segment = _ASTERISKS.sub(lambda m: "\\*" * len(m.group(1)), segment)
    return _TRAILING_UNDERSCORE.sub("\\_", segment)


def _join_open_literals(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if out and out[-1].count("``") % 2 == 1 and line.strip():
            out[-1] = out[-1].rstrip() + " " + line.strip()
        else:
            out.append(line)
    return out


def _fix_plain_text(app, what, name, obj, options, lines):
    fixed = _join_open_literals(list(lines))
    for i, line in enumerate(fixed):
        stripped = line.strip()
        if re.fullmatch(r"-{3,}|={3,}", stripped) and i and fixed[i - 1].strip():
            fixed[i] = line[: len(line) - len(line.lstrip())] + stripped[0] * max(
                len(fixed[i - 1].strip()), len(stripped))
            continue
        if stripped.startswith((".. ", ":")):
            continue  # directives and field lists are real reST
        indent = len(line) - len(line.lstrip())
        body = line[indent:]
        lead = ""
        bullet = re.match(r"([*\-+] |\d+\. )", body)
        if bullet:  # a list item's marker stays a marker
            lead, body = body[: bullet.end()], body[bullet.end():]
        parts = _LITERAL.split(body)
        body = "".join(p if p.startswith("``") else _plain(p) for p in parts)
        fixed[i] = line[:indent] + lead + body
    lines[:] = fixed


def setup(app):
    app.connect("autodoc-process-docstring", _fix_plain_text, priority=100)  # before napoleon


_copy_notebooks()
_write_generated()
