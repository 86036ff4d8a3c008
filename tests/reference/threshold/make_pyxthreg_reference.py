"""Regenerate pyxthreg_panel_small.csv: pyxthreg's single-threshold fit on its bundled panel_small.dta.

pyxthreg (PyPI, Kahindo048/pyxthreg, version printed in the CSV) is a third-party Python port of
Stata xthreg. It is not an authority (its bootstrap is a wild bootstrap, see
shared/methods/threshold-spatial-formulas.md A.5), so only the deterministic parts are recorded:
the grid, the threshold, the minimised SSR, the regime coefficients and their conventional SEs.
Run: .venv/bin/python tests/reference/threshold/make_pyxthreg_reference.py  (needs pip install pyxthreg)
"""
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import pyxthreg

HERE = Path(__file__).resolve().parent


def fit():
    d = pyxthreg.load_dataset("panel_small.dta")
    m = pyxthreg.ThresholdPanel(d, dep="y", rx="rx1", qx="q", indep=["x1"], entity_col="id", time_col="year")
    m.fit(thnum=1, trim=0.05, grid=300, bs=2, nobslog=True)  # bs only affects the p-value, not recorded
    return d, m


if __name__ == "__main__":
    d, m = fit()
    r = m.results
    src = f"pyxthreg {version('pyxthreg')} ThresholdPanel.fit(thnum=1, trim=0.05, grid=300) on its panel_small.dta"
    rows = [
        ("threshold", float(r["thresholds"][0])),
        ("ssr", float(r["ssrs"][0])),
        ("ssr_linear", float(r["ssr_linear"])),
        ("beta_x1", float(r["beta"][0, 0])),
        ("beta_rx1_regime0", float(r["beta"][1, 0])),
        ("beta_rx1_regime1", float(r["beta"][2, 0])),
        ("se_x1", float(r["se"][0, 0])),
        ("se_rx1_regime0", float(r["se"][1, 0])),
        ("se_rx1_regime1", float(r["se"][2, 0])),
        ("df_resid", float(r["df_resid"])),
    ]
    out = pd.DataFrame(rows, columns=["quantity", "value"]).assign(source=src)
    out.to_csv(HERE / "pyxthreg_panel_small.csv", index=False)
    print(out)
