"""Check a built documentation site (run by ``make docs`` after Sphinx).

Opens the built ``index.html`` and checks that it links to the API reference, that the API pages
document the package's functions (autodoc output, not empty pages), that every notebook of
``notebooks/`` has a page, and that the validation and benchmark pages exist with their tables.
Exits 1 and lists what is missing otherwise.

    python scripts/check_docs.py docs/_build/html
"""
from __future__ import annotations

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
        elif not re.search(r'class="cell_input|highlight-(i?python3?)\b', page.read_text(encoding="utf-8")):
            problems.append(f"notebook page notebooks/{nb.stem}.html shows no code cells")
    validation = site / "validation.html"
    if validation.is_file():
        rows = re.findall(r"<tr", validation.read_text(encoding="utf-8"))
        if len(rows) < 3:
            problems.append("validation.html has no table rows")
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
