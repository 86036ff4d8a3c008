"""The documentation checker run by ``make docs`` (scripts/check_docs.py), and the generated pages.

Sphinx itself runs only in ``make docs`` (it is a docs dependency, not a test one); here the
checker is tried on a small fake site, so that it is known to fail when a page is missing.
"""
from __future__ import annotations

import csv
import importlib.util
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _load(path: Path, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


check_docs = _load(ROOT / "scripts" / "check_docs.py", "check_docs")


def _fake_site(root: Path, notebooks: Path) -> Path:
    site = root / "html"
    (site / "api").mkdir(parents=True)
    (site / "notebooks").mkdir()
    (site / "methods").mkdir()
    links = ["api/index.html", "notebooks.html", "validation.html", "benchmarks.html",
             "getting-started.html", "cli.html"]
    methods = [f"methods/{m}.html" for m in check_docs.METHOD_PAGES]
    (site / "index.html").write_text("".join(f'<a href="{t}">x</a>' for t in links + methods), encoding="utf-8")
    n_rows = len(list(csv.DictReader((ROOT / "docs" / "validation.csv").open(encoding="utf-8")))) + 1
    for t in links:
        (site / t).write_text("<table><tr><td>ratio</td></tr>" + "<tr></tr>" * n_rows + "</table>",
                              encoding="utf-8")
    (site / "getting-started.html").write_text(" ".join(check_docs.GETTING_STARTED), encoding="utf-8")
    for t in methods:
        (site / t).write_text('<span class="math notranslate">x</span><section id="references">',
                              encoding="utf-8")
    for page, obj in check_docs.API_OBJECTS.items():
        (site / "api" / page).write_text(f'<dt id="{obj}">', encoding="utf-8")
    for nb in sorted(notebooks.glob("[0-9]*.ipynb")):
        (site / "notebooks" / f"{nb.stem}.html").write_text(
            '<div class="cell_input"></div><div class="cell_output docutils container">', encoding="utf-8")
    return site


def test_checker_passes_a_complete_site(tmp_path):
    site = _fake_site(tmp_path, ROOT / "notebooks")
    assert check_docs.check(site) == []
    assert check_docs.main([str(site)]) == 0


def test_checker_fails_on_missing_pages(tmp_path):
    site = _fake_site(tmp_path, ROOT / "notebooks")
    first = sorted((site / "notebooks").glob("*.html"))[0]
    first.unlink()
    (site / "api" / "analysis.maps.html").write_text("<p>empty</p>", encoding="utf-8")
    (site / "index.html").write_text('<a href="notebooks.html">x</a>', encoding="utf-8")
    problems = check_docs.check(site)
    assert any(first.stem in p for p in problems)
    assert any("analysis.maps.county_map" in p for p in problems)
    assert any("does not link to api/index.html" in p for p in problems)
    assert check_docs.main([str(site)]) == 1
    assert check_docs.check(tmp_path / "nowhere") == [f"no {tmp_path / 'nowhere' / 'index.html'}: the build did not run"]


def test_checker_fails_on_unexecuted_notebooks_and_thin_pages(tmp_path):
    site = _fake_site(tmp_path, ROOT / "notebooks")
    first = sorted((site / "notebooks").glob("*.html"))[0]
    first.write_text('<div class="cell_input">', encoding="utf-8")  # committed notebook, no outputs
    (site / "methods" / "maps.html").write_text("<p>no formula, no references</p>", encoding="utf-8")
    (site / "methods" / "did.html").unlink()
    (site / "getting-started.html").write_text("make reproduce make test", encoding="utf-8")
    (site / "validation.html").write_text("<table><tr></tr><tr></tr><tr></tr></table>", encoding="utf-8")
    problems = check_docs.check(site)
    assert any(first.stem in p and "no outputs" in p for p in problems)
    assert "method page methods/maps.html has no formula" in problems
    assert "method page methods/maps.html has no References section" in problems
    assert "method page methods/did.html is missing" in problems
    assert "getting-started.html does not show 'pip install .'" in problems
    assert any(p.startswith("validation.html has 3 table rows") for p in problems)


def test_validation_page_from_csv(tmp_path):
    sys.path.insert(0, str(ROOT / "docs"))
    try:
        generate = _load(ROOT / "docs" / "_generate.py", "docs_generate")
    finally:
        sys.path.remove(str(ROOT / "docs"))
    (tmp_path / "validation.csv").write_bytes((ROOT / "docs" / "validation.csv").read_bytes())
    generate.write_validation(tmp_path)
    page = (tmp_path / "validation.md").read_text(encoding="utf-8")
    rows = list(csv.DictReader((ROOT / "docs" / "validation.csv").open(encoding="utf-8")))
    assert len(rows) >= 7
    for r in rows:
        assert f"`{r['function']}`" in page
        # published sources only: no internal notes
        assert "shared/" not in r["source"] and "indices.md" not in r["source"]
        assert float(r["max_abs_diff"]) >= 0
    # estimators matched to printed precision: differences below half a printed unit
    diffs = {r["function"]: float(r["max_abs_diff"]) for r in rows}
    assert diffs["analysis.did.callaway_santanna"] < 5e-8
    assert diffs["analysis.regression.fe"] < 5e-5


def test_docs_pages_cite_no_internal_notes():
    pages = [ROOT / "docs" / f for f in ("index.md", "getting-started.md", "cli.md",
                                         "notebooks.md", "benchmarks.md")]
    pages += sorted((ROOT / "docs" / "methods").glob("*.md"))
    assert len(pages) >= 13
    for page in pages:
        text = page.read_text(encoding="utf-8")
        assert "shared/" not in text and "indices.md" not in text, page
    for page in sorted((ROOT / "docs" / "methods").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        assert "## References" in text or page.stem == "maps", page


def test_docstrings_point_to_no_files_outside_the_package():
    """The API reference is built from the docstrings: they cite papers and packages, never the
    project's internal notes (which users do not have)."""
    import importlib
    import inspect
    import pkgutil

    import analysis

    internal = ("shared/", "indices.md", "did-formulas", "threshold-spatial-formulas",
                "estimators.md", "methods/")
    offenders = []
    for info in pkgutil.walk_packages(analysis.__path__, "analysis."):
        module = importlib.import_module(info.name)
        objects = [module] + [getattr(module, n) for n in getattr(module, "__all__", [])
                              if hasattr(module, n)]
        for obj in objects:
            doc = inspect.getdoc(obj) or ""
            offenders += [f"{info.name}:{getattr(obj, '__name__', obj)!s:.40}: {word}"
                          for word in internal if word in doc]
    assert not offenders, offenders
