"""Build the SIMULATED county panel in data/synthetic/ (byte-reproducible).

    python scripts/build_synthetic.py [--seed 20261128] [--start 2010] [--end 2022] [--out DIR]

Writes ``county_panel.csv.gz`` (yearbook rounding), ``truth_effects.csv.gz``, ``truth.json`` and
``codebook.csv``, and the mechanism layer (H2-H6, :mod:`analysis.simulate_mechanisms`, own random
stream ``[seed, 17]``, new columns only) ``mechanisms.csv.gz`` and ``mechanisms_truth.json``.
Gzip is written with mtime=0 so the same seed gives identical bytes. Schema and
ground truth: ``docs/simulation.md`` and the ``data/synthetic/`` section of ``data/README.md``.
"""
from __future__ import annotations

import argparse
import gzip
import io
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.simulate import DEFAULT_SEED, codebook, county_panel  # noqa: E402

#: decimals of the effect columns in truth_effects.csv.gz (log-scale columns keep 10)
EFFECT_DECIMALS = {"log": 10}


def _write_csv_gz(df, path: Path) -> None:
    text = df.to_csv(index=False, lineterminator="\n", float_format="%.12g")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    path.write_bytes(buf.getvalue())


def effects_for_file(effects):
    """Round the log-scale effect columns to 10 decimals (the level ones are already exact)."""
    out = effects.copy()
    for col in out.columns:
        if "_log_" in col:
            out[col] = out[col].round(10)
    return out


def build(out_dir: Path, seed: int = DEFAULT_SEED, start: int = 2010, end: int = 2022) -> dict:
    """Simulate with ``seed`` and write the four files to ``out_dir``; return their sizes."""
    return write(out_dir, *county_panel(seed=seed, start=start, end=end))


def write(out_dir: Path, panel, truth, effects) -> dict:
    """Write the output of :func:`analysis.simulate.county_panel` to ``out_dir``."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_csv_gz(panel, out_dir / "county_panel.csv.gz")
    _write_csv_gz(effects_for_file(effects), out_dir / "truth_effects.csv.gz")
    (out_dir / "truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    codebook(panel).to_csv(out_dir / "codebook.csv", index=False, lineterminator="\n")
    seed = truth.get("seed")
    if seed is not None:
        from analysis.simulate_mechanisms import mechanism_columns

        mech, mtruth = mechanism_columns(panel, effects, seed)
        _write_csv_gz(mech, out_dir / "mechanisms.csv.gz")
        (out_dir / "mechanisms_truth.json").write_text(
            json.dumps(json.loads(json.dumps(mtruth)), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    sizes = {p.name: p.stat().st_size for p in sorted(out_dir.iterdir()) if p.is_file()}
    return sizes


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
