"""Check a built documentation site (run by ``make docs`` after Sphinx).

Opens the built ``index.html`` and checks that it links to the getting-started, command, API,
notebook, validation and benchmark pages; that the getting-started page gives the two commands, the
template command and ``pip install .``; that every method family has a page with formulas and
references; that the API pages document the package's functions (autodoc output, not empty pages);
that every notebook of ``notebooks/`` has a page showing code *and outputs* (an executed copy); and
that the validation table has a row per estimator of ``docs/validation.csv`` and the benchmark page
its table. Exits 1 and lists what is missing otherwise.

    python scripts/check_docs.py docs/_build/html
"""
from __future__ import annotations

import html as html_lib
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# one documented object per API page that must be there (autodoc ran and found the docstring)
API_OBJECTS = {
    "analysis.indicators.html": "analysis.indicators.index.build_index",
    "analysis.coupling.html": "analysis.coupling.coupling_coordination",
    "analysis.did.html": "analysis.did.callaway_santanna.callaway_santanna",
    "analysis.regression.html": "analysis.regression.fe.fe",
    "analysis.maps.html": "analysis.maps.county_map",
    "analysis.panel.html": "analysis.panel.reading.read_panel",
    "analysis.codes.html": "analysis.codes.harmonize.harmonize_codes",
    "analysis.cli.html": "module-analysis.cli",
}

#: one page per method family (docs/methods/), each with formulas and a References section
METHOD_PAGES = ("indices", "coupling", "disparity", "regression", "did", "spatial", "robustness", "maps")

#: what the getting-started page must show: the two commands, then the user's own data
GETTING_STARTED = ("make reproduce", "make test", "countyfusion template", "read_panel", "pip install .")


def _validation_rows(docs: Path = ROOT / "docs") -> int:
    import csv

    path = docs / "validation.csv"
    return len(list(csv.DictReader(path.open(encoding="utf-8")))) if path.is_file() else 0


def check(site: Path, notebooks: Path = ROOT / "notebooks") -> list[str]:
    problems: list[str] = []
    index = site / "index.html"
    if not index.is_file():
        return [f"no {index}: the build did not run"]
    html = index.read_text(encoding="utf-8")
    for target in ("api/index.html", "notebooks.html", "validation.html", "benchmarks.html",
                   "getting-started.html", "cli.html"):
        if f'href="{target}' not in html:
            problems.append(f"index.html does not link to {target}")
        if not (site / target).is_file():
            problems.append(f"page {target} is missing")
    start = site / "getting-started.html"
    if start.is_file():
        # the text as a reader sees it: code blocks are split into highlighting spans
        text = " ".join(html_lib.unescape(re.sub(r"<[^>]+>", "", start.read_text(encoding="utf-8"))).split())
        problems += [f"getting-started.html does not show {s!r}" for s in GETTING_STARTED if s not in text]
    for name in METHOD_PAGES:
        path = site / "methods" / f"{name}.html"
        if not path.is_file():
            problems.append(f"method page methods/{name}.html is missing")
            continue
        text = path.read_text(encoding="utf-8")
        if 'class="math' not in text:
            problems.append(f"method page methods/{name}.html has no formula")
        if 'id="references"' not in text:
            problems.append(f"method page methods/{name}.html has no References section")
        if f'href="methods/{name}.html' not in html:
            problems.append(f"index.html does not link to methods/{name}.html")
    for page, obj in API_OBJECTS.items():
        path = site / "api" / page
        if not path.is_file():
            problems.append(f"API page api/{page} is missing")
        elif f'id="{obj}"' not in path.read_text(encoding="utf-8"):
            problems.append(f"API page api/{page} does not document {obj}")
    for nb in sorted(notebooks.glob("[0-9]*.ipynb")):
        page = site / "notebooks" / f"{nb.stem}.html"
        if not page.is_file():
            problems.append(f"notebook page notebooks/{nb.stem}.html is missing")
        else:
            text = page.read_text(encoding="utf-8")
            if not re.search(r'class="cell_input|highlight-(i?python3?)\b', text):
                problems.append(f"notebook page notebooks/{nb.stem}.html shows no code cells")
            if 'class="cell_output' not in text:
                problems.append(f"notebook page notebooks/{nb.stem}.html shows no outputs (not executed)")
    validation = site / "validation.html"
    if validation.is_file():
        rows = re.findall(r"<tr", validation.read_text(encoding="utf-8"))
        need = max(2, _validation_rows() + 1)  # the header row and one row per estimator
        if len(rows) < need:
            problems.append(f"validation.html has {len(rows)} table rows, expected {need} (docs/validation.csv)")
    bench = site / "benchmarks.html"
    if bench.is_file() and "ratio" not in bench.read_text(encoding="utf-8"):
        problems.append("benchmarks.html has no benchmark table")
    return problems


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    site = Path(argv[0]) if argv else ROOT / "docs" / "_build" / "html"
    problems = check(site)
    if problems:
        print(f"documentation check FAILED for {site}:")
        for p in problems:
            print(f"  - {p}")
        return 1
    n_nb = len(list((site / "notebooks").glob("*.html")))
    n_api = len(list((site / "api").glob("*.html")))
    print(f"documentation check passed: {site}/index.html, {n_api} API pages, {n_nb} notebook pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
