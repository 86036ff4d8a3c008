"""Run every benchmark in this folder, one after the other, and print their ratio lines.

Each ``bench_*.py`` times CountyFusion's routine and its peer (pyfixest, linearmodels, csdid, spreg or a
naive loop) in the same run and prints ``RATIO <name>: <peer seconds> / <ours seconds> = <x>``.
``make bench`` runs this file; the figures are recorded in benchmarks/README.md by hand.
"""
from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv: list[str]) -> int:
    only = argv[1:]
    scripts = sorted(HERE.glob("bench_*.py"))
    if only:
        scripts = [s for s in scripts if any(o in s.stem for o in only)]
    failed = []
    ratios = []
    for i, script in enumerate(scripts, 1):
        print(f"[{i}/{len(scripts)}] {script.name}", flush=True)
        start = time.time()
        proc = subprocess.run([sys.executable, str(script)], cwd=HERE.parent, capture_output=True, text=True)
        print(proc.stdout, end="")
        if proc.returncode != 0:
            failed.append(script.name)
            print(proc.stderr[-3000:], file=sys.stderr)
        ratios += [line for line in proc.stdout.splitlines() if line.startswith("RATIO")]
        print(f"    ({time.time() - start:.0f} s)", flush=True)
    print("\nSummary:")
    print("\n".join(ratios) or "no ratios printed")
    if failed:
        print(f"failed: {failed}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
