"""Execute the notebooks for the documentation site (run by ``make docs``).

The site shows executed notebooks. A notebook already executed by ``make reproduce`` (full mode,
``results/notebooks/``) is used as it is; every other one is executed here in fast mode into
``OUT/notebooks/`` with its tables and figures under ``OUT/results/``, so the repository's
``results/`` is left alone. An executed copy newer than its notebook is kept (a second ``make
docs`` does not run it again). Exits 1 naming the notebooks that failed.

    python scripts/execute_notebooks.py docs/_executed
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def executed_copy(nb: Path, out: Path) -> Path | None:
    """The executed copy the site should show for ``nb``, or None if there is none up to date."""
    for folder in (ROOT / "results" / "notebooks", out / "notebooks"):
        copy = folder / nb.name
        if copy.is_file() and copy.stat().st_mtime >= nb.stat().st_mtime:
            return copy
    return None


def main(argv: list[str] | None = None) -> int:
    from analysis.reproduce import list_notebooks, run_notebook

    argv = sys.argv[1:] if argv is None else argv
    out = Path(argv[0]) if argv else ROOT / "docs" / "_executed"
    notebooks = list_notebooks()
    failed = []
    for i, nb in enumerate(notebooks, 1):
        copy = executed_copy(nb, out)
        if copy is not None:
            print(f"[{i}/{len(notebooks)}] {nb.name}: executed copy {copy.relative_to(ROOT) if copy.is_relative_to(ROOT) else copy}")
            continue
        start = time.time()
        print(f"[{i}/{len(notebooks)}] {nb.name}: executing (fast mode) ...", flush=True)
        try:
            run_notebook(nb, out / "notebooks", {"fast": True}, results=out / "results", timeout=1800)
        except Exception as exc:  # report every failing notebook, then fail at the end
            failed.append(nb.name)
            print(f"    FAILED: {str(exc).strip().splitlines()[-1][:200] if str(exc).strip() else type(exc).__name__}")
            (out / "notebooks" / nb.name).unlink(missing_ok=True)
            continue
        print(f"    done in {time.time() - start:.0f} s", flush=True)
    if failed:
        print(f"notebooks that failed: {failed}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
