"""Build the SIMULATED county panel in data/synthetic/ (byte-reproducible).

    python scripts/build_synthetic.py [--seed 20261128] [--start 2010] [--end 2022] [--out DIR]

Writes ``county_panel.csv.gz`` (yearbook rounding), ``truth_effects.csv.gz``, ``truth.json`` and
``codebook.csv``, and the mechanism layer (H2-H6, :mod:`analysis.simulate.mechanisms`, own random
stream ``[seed, 17]``, new columns only) ``mechanisms.csv.gz`` and ``mechanisms_truth.json``.
Gzip is written with mtime=0 so the same seed gives identical bytes (the writer is
:mod:`analysis.simulate.files`; this script is its command line). Schema and
ground truth: ``docs/simulation.md`` and the ``data/synthetic/`` section of ``data/README.md``.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.simulate.columns import DEFAULT_SEED  # noqa: E402
from analysis.simulate.files import (  # noqa: E402,F401  (re-exported: tests and users call build/write here)
    EFFECT_DECIMALS,
    build,
    effects_for_file,
    write,
)
from analysis.simulate.files import write_csv_gz as _write_csv_gz  # noqa: E402,F401


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED)
    ap.add_argument("--start", type=int, default=2010)
    ap.add_argument("--end", type=int, default=2022)
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "synthetic")
    args = ap.parse_args(argv)
    sizes = build(args.out, args.seed, args.start, args.end)
    for name, size in sizes.items():
        print(f"{name:24s} {size / 1024:8.1f} KiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
