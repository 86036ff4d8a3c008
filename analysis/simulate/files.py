"""Writing and reading the SIMULATED data files of ``data/synthetic/``.

:func:`write` writes one build (``county_panel.csv.gz``, ``truth_effects.csv.gz``, ``truth.json``,
``codebook.csv`` and the mechanism layer ``mechanisms.csv.gz``, ``mechanisms_truth.json``)
byte-reproducibly: gzip with ``mtime=0``, Unix line ends, floats as ``%.12g``; :func:`build`
simulates and writes (``scripts/build_synthetic.py`` is its command line); :func:`load_effects`
reads the shipped effects table.
"""
from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pandas as pd

from ..errors import SpecificationError
from .columns import DEFAULT_SEED, codebook

__all__ = ["build", "write", "write_csv_gz", "effects_for_file", "load_effects"]

#: decimals of the effect columns in truth_effects.csv.gz (log-scale columns keep 10)
EFFECT_DECIMALS = {"log": 10}


def write_csv_gz(df: pd.DataFrame, path: Path) -> None:
    """Write ``df`` as gzip-compressed CSV with fixed bytes (mtime 0, level 9, ``%.12g``).

    Examples
    --------
    Writing the same frame twice gives the same bytes:

    >>> import tempfile
    >>> from pathlib import Path
    >>> import pandas as pd
    >>> from analysis.simulate.files import write_csv_gz
    >>> df = pd.DataFrame({"county": ["110101"], "x": [1 / 3]})
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_csv_gz(df, Path(tmp) / "a.csv.gz")
    ...     write_csv_gz(df, Path(tmp) / "b.csv.gz")
    ...     same = (Path(tmp) / "a.csv.gz").read_bytes() == (Path(tmp) / "b.csv.gz").read_bytes()
    ...     text = pd.read_csv(Path(tmp) / "a.csv.gz", dtype={"county": str})
    >>> same, text["x"].tolist()
    (True, [0.333333333333])
    """
    text = df.to_csv(index=False, lineterminator="\n", float_format="%.12g")
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=9) as gz:
        gz.write(text.encode("utf-8"))
    path.write_bytes(buf.getvalue())


def effects_for_file(effects: pd.DataFrame) -> pd.DataFrame:
    """Round the log-scale effect columns to 10 decimals (the level ones are already exact).

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.simulate.files import effects_for_file
    >>> eff = pd.DataFrame({"te_land_log_gdp_pc": [0.98765432109876], "te_land_gdp_pc": [0.98765432109876]})
    >>> effects_for_file(eff).iloc[0].tolist()
    [0.9876543211, 0.98765432109876]
    """
    out = effects.copy()
    for col in out.columns:
        if "_log_" in col:
            out[col] = out[col].round(10)
    return out


def build(out_dir: Path, seed: int = DEFAULT_SEED, start: int = 2010, end: int = 2022) -> dict:
    """Simulate with ``seed`` and write the files to ``out_dir``; return their sizes in bytes.

    Examples
    --------
    Not run as a doctest (the simulation takes several seconds); the default seed rebuilds the
    shipped files byte for byte:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from analysis.datasets import DATA_DIR
    >>> from analysis.simulate.files import build
    >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +SKIP
    ...     sizes = build(Path(tmp))
    ...     same = all((Path(tmp) / n).read_bytes() == (DATA_DIR / "synthetic" / n).read_bytes() for n in sizes)
    >>> sorted(sizes), same  # doctest: +SKIP
    (['codebook.csv', 'county_panel.csv.gz', 'mechanisms.csv.gz', 'mechanisms_truth.json', 'truth.json', 'truth_effects.csv.gz'], True)
    """
    from .panel import county_panel

    return write(out_dir, *county_panel(seed=seed, start=start, end=end))


def write(out_dir: Path, panel, truth, effects) -> dict:
    """Write the output of :func:`analysis.simulate.county_panel` to ``out_dir``; return the sizes.

    Examples
    --------
    Not run as a doctest (compressing the panel takes about three seconds). Writing the shipped
    panel, truth and effects again gives the shipped files byte for byte:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from analysis.datasets import DATA_DIR, load_county_panel, load_truth, load_truth_effects
    >>> from analysis.simulate.files import write
    >>> with tempfile.TemporaryDirectory() as tmp:  # doctest: +SKIP
    ...     sizes = write(Path(tmp), load_county_panel(), load_truth(), load_truth_effects())
    ...     same = all((Path(tmp) / n).read_bytes() == (DATA_DIR / "synthetic" / n).read_bytes() for n in sizes)
    >>> len(sizes), same  # doctest: +SKIP
    (6, True)
    """
    from .mechanisms import mechanism_columns

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv_gz(panel, out_dir / "county_panel.csv.gz")
    write_csv_gz(effects_for_file(effects), out_dir / "truth_effects.csv.gz")
    (out_dir / "truth.json").write_text(
        json.dumps(truth, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    codebook(panel).to_csv(out_dir / "codebook.csv", index=False, lineterminator="\n")
    seed = truth.get("seed")
    if seed is not None:
        mech, mtruth = mechanism_columns(panel, effects, seed)
        write_csv_gz(mech, out_dir / "mechanisms.csv.gz")
        (out_dir / "mechanisms_truth.json").write_text(
            json.dumps(json.loads(json.dumps(mtruth)), ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    sizes = {p.name: p.stat().st_size for p in sorted(out_dir.iterdir()) if p.is_file()}
    return sizes


def load_effects(effects):
    """The effects table: ``effects`` itself, or the shipped one for None (or the shipped truth dict).

    Examples
    --------
    >>> from analysis.simulate.files import load_effects
    >>> effects = load_effects(None)
    >>> effects.shape, effects.columns.tolist()[:3]
    ((37063, 14), ['county', 'year', 'te_land_land_transfer_rate'])
    >>> load_effects(effects) is effects
    True
    """
    if effects is None:
        from .. import datasets
        path = datasets.DATA_DIR / "synthetic" / "truth_effects.csv.gz"
        if not path.exists():
            raise FileNotFoundError(f"{path} is missing; run `python scripts/build_synthetic.py`.")
        effects = pd.read_csv(path, dtype={"county": str})
    if isinstance(effects, dict):
        # the truth dict of the shipped build stands for the shipped effects table
        from .. import datasets
        try:
            shipped = datasets.load_truth()
        except FileNotFoundError:
            shipped = None
        if shipped is not None and effects == shipped:
            return load_effects(None)
        raise SpecificationError(
            "pass the effects table (the third value of county_panel(), or "
            "pd.read_csv('data/synthetic/truth_effects.csv.gz', dtype={'county': str})), not the "
            "truth dict; or pass None to use the shipped file.")
    return effects
