"""Execute every notebook on the shipped data and check the tables against their expected copies.

``python -m analysis.reproduce`` (what ``make reproduce`` runs):

1. executes ``notebooks/*.ipynb`` in order with papermill (headless), passing the parameters given
   (none by default: the full run), saving the executed copies in ``results/notebooks/``;
2. every notebook writes its tables to ``results/tables/`` and its figures to ``results/figures/``;
3. compares each table with ``results/expected/<name>.csv`` within the tolerance below and writes
   ``results/REPORT.md``;
4. exits with status 1 when a notebook failed or a table differs or lacks an expected copy.

``--update-expected`` copies the tables just produced into ``results/expected/`` (maintainers only,
after checking the differences).
"""
from __future__ import annotations

import argparse
import datetime as _dt
import os
import platform
import shutil
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .reporting import project_root, results_dir

__all__ = ["RTOL", "ATOL", "list_notebooks", "run_notebook", "compare_table", "main"]

#: Tolerance for comparing a reproduced table with its expected copy: |a - b| <= ATOL + RTOL * |b|.
RTOL = 1e-6
ATOL = 1e-8


def list_notebooks(folder: Path | None = None) -> list[Path]:
    """The notebooks that make up the main job, in the order they run."""
    folder = folder or project_root() / "notebooks"
    return sorted(p for p in folder.glob("*.ipynb") if not p.name.startswith("_"))


def run_notebook(path: Path, out_dir: Path, parameters: dict | None = None, results: Path | None = None,
                 timeout: int = 3600) -> Path:
    """Execute one notebook with papermill; outputs go to ``results`` (``COUNTYFUSION_RESULTS``)."""
    import papermill as pm

    out_dir.mkdir(parents=True, exist_ok=True)
    target = out_dir / path.name
    env_before = os.environ.get("COUNTYFUSION_RESULTS")
    if results is not None:
        os.environ["COUNTYFUSION_RESULTS"] = str(results)
    try:
        pm.execute_notebook(
            str(path),
            str(target),
            parameters=parameters or {},
            cwd=str(path.parent),
            kernel_name="python3",
            progress_bar=False,
            execution_timeout=timeout,
        )
    finally:
        if results is not None:
            if env_before is None:
                os.environ.pop("COUNTYFUSION_RESULTS", None)
            else:
                os.environ["COUNTYFUSION_RESULTS"] = env_before
    return target


@dataclass
class TableCheck:
    name: str
    status: str  # "match" | "differs" | "no expected copy" | "missing" | "written" (a user's data: not compared)
    detail: str = ""


def compare_table(produced: Path, expected: Path, rtol: float = RTOL, atol: float = ATOL) -> TableCheck:
    """Compare two CSV tables: same shape and columns, numbers within tolerance, text equal."""
    name = produced.stem if produced.exists() else expected.stem
    if not produced.exists():
        return TableCheck(name, "missing", "expected copy exists but the notebooks did not write it")
    if not expected.exists():
        return TableCheck(name, "no expected copy", "run `make update-expected` after checking it")
    a = pd.read_csv(produced, dtype=str, keep_default_na=False)
    b = pd.read_csv(expected, dtype=str, keep_default_na=False)
    if list(a.columns) != list(b.columns):
        return TableCheck(name, "differs", f"columns {list(a.columns)} vs expected {list(b.columns)}")
    if a.shape != b.shape:
        return TableCheck(name, "differs", f"shape {a.shape} vs expected {b.shape}")
    worst, where = 0.0, ""
    for col in a.columns:
        x = pd.to_numeric(a[col], errors="coerce").to_numpy(dtype=float)
        y = pd.to_numeric(b[col], errors="coerce").to_numpy(dtype=float)
        numeric = ~np.isnan(x) & ~np.isnan(y)
        text_rows = ~numeric
        if (a[col].to_numpy()[text_rows] != b[col].to_numpy()[text_rows]).any():
            row = int(np.flatnonzero(a[col].to_numpy() != b[col].to_numpy())[0])
            return TableCheck(name, "differs", f"column {col!r} row {row}: {a[col][row]!r} vs {b[col][row]!r}")
        if numeric.any():
            diff = np.abs(x[numeric] - y[numeric])
            bound = atol + rtol * np.abs(y[numeric])
            if (diff > bound).any():
                i = int(np.argmax(diff - bound))
                row = int(np.flatnonzero(numeric)[i])
                return TableCheck(name, "differs", f"column {col!r} row {row}: {x[row]!r} vs {y[row]!r}")
            if diff.size and diff.max() > worst:
                worst, where = float(diff.max()), col
    return TableCheck(name, "match", f"max abs diff {worst:.2e}" + (f" ({where})" if where else ""))


def _write_report(path: Path, runs: list[tuple[str, str, float, str]], checks: list[TableCheck],
                  parameters: dict) -> None:
    ok_runs = sum(r[1] == "ok" for r in runs)
    ok_tables = sum(c.status == "match" for c in checks)
    lines = [
        "# CountyFusion reproduction report",
        "",
        f"- run at {_dt.datetime.now(_dt.timezone.utc):%Y-%m-%d %H:%M UTC} on {platform.platform()}, "
        f"Python {platform.python_version()}",
        f"- parameters passed to every notebook: {parameters or 'none (full run)'}",
        f"- notebooks: {ok_runs} of {len(runs)} ran",
        f"- tables: {ok_tables} of {len(checks)} match their expected copies "
        f"(tolerance |a - b| <= {ATOL:g} + {RTOL:g}·|b|; text must be equal)",
        ("- the data are the shipped SIMULATED county panel unless a notebook says otherwise (08 is real census data)"
         if parameters.get("data_path") in (None, "None") else
         f"- the data are the user's: {parameters.get('data_path')} (tables written, not compared)"),
        "",
        "## Notebooks",
        "",
        "| notebook | status | seconds | note |",
        "|---|---|---:|---|",
    ]
    lines += [f"| {n} | {s} | {t:.0f} | {note} |" for n, s, t, note in runs]
    from .notebook import sections_report

    skipped = sections_report(path.parent / "sections")
    lines += ["", "## Skipped sections", ""]
    if len(skipped):
        lines += ["| notebook | section | what is missing |", "|---|---|---|"]
        lines += [f"| {r.notebook} | {r.title} | {str(r.reason).replace('|', '/')} |" for r in skipped.itertuples()]
    else:
        lines += ["none: every section had its inputs."]
    lines += ["", "## Tables", "", "| table | status | detail |", "|---|---|---|"]
    lines += [f"| {c.name} | {c.status} | {c.detail} |" for c in checks]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--update-expected", action="store_true", help="copy produced tables to results/expected/")
    parser.add_argument("--only", nargs="*", help="run only notebooks whose name starts with these prefixes")
    parser.add_argument("-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
                        help="papermill parameter for every notebook (value parsed as Python literal)")
    args = parser.parse_args(argv)

    import ast

    parameters = {}
    for name, value in args.parameter:
        try:
            parameters[name] = ast.literal_eval(value)
        except (ValueError, SyntaxError):
            parameters[name] = value

    out = results_dir()
    tables, expected = out / "tables", out / "expected"
    for stale in (tables, out / "sections"):
        if stale.exists():
            shutil.rmtree(stale)
    own_data = parameters.get("data_path") not in (None, "None") or parameters.get("study_path") not in (None, "None")
    notebooks = list_notebooks()
    if args.only:
        notebooks = [p for p in notebooks if any(p.name.startswith(o) for o in args.only)]
    runs = []
    total = len(notebooks)
    start_all = time.time()
    for i, nb in enumerate(notebooks, 1):
        print(f"[{i}/{total}] {nb.name} ...", flush=True)
        start = time.time()
        try:
            run_notebook(nb, out / "notebooks", parameters)
            status, note = "ok", ""
        except Exception as exc:  # report every failing notebook, then fail at the end
            status = "FAILED"
            note = str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else type(exc).__name__
        took = time.time() - start
        runs.append((nb.name, status, took, note.replace("|", "/")))
        print(f"[{i}/{total}] {nb.name} {status} in {took:.0f} s {note}", flush=True)

    produced = sorted(tables.glob("*.csv")) if tables.exists() else []
    if args.update_expected:
        expected.mkdir(parents=True, exist_ok=True)
        for p in produced:
            shutil.copy2(p, expected / p.name)
        print(f"copied {len(produced)} tables to {expected}")
    names = sorted({p.name for p in produced} | {p.name for p in expected.glob("*.csv")} if expected.exists()
                   else {p.name for p in produced})
    if args.only:
        names = [n for n in names if any(n.startswith(o[:2]) for o in args.only)]
    if own_data:  # the expected copies belong to the shipped data: nothing to compare a user's tables with
        names = [p.name for p in produced]
        checks = [TableCheck(n, "written", "your data: no expected copy") for n in names]
    else:
        checks = [compare_table(tables / n, expected / n) for n in names]
    report = out / "REPORT.md"
    _write_report(report, runs, checks, parameters)
    failed_runs = [r for r in runs if r[1] != "ok"]
    bad = [c for c in checks if c.status not in ("match", "written")]
    print(f"\n{len(runs) - len(failed_runs)}/{len(runs)} notebooks ran, "
          f"{len(checks) - len(bad)}/{len(checks)} tables match, in {time.time() - start_all:.0f} s; "
          f"report: {report}")
    for c in bad:
        print(f"  table {c.name}: {c.status}: {c.detail}")
    return 1 if failed_runs or bad else 0


if __name__ == "__main__":
    sys.exit(main())
