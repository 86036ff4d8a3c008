"""Regenerate spreg_produc_entity.csv: spreg.Panel_FE_Lag / Panel_FE_Error (entity FE) on Produc.

Run from the project root: ``.venv/bin/python tests/reference/spatial/make_spreg_produc.py``.
"""
from __future__ import annotations

import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))  # tests/, for the shared loader
from _spatial_support import PRODUC_X, produc_and_w  # noqa: E402  (the same Produc and W as the tests)


def main() -> None:
    import spreg

    d, w = produc_and_w()
    w.transform = "r"
    xs = PRODUC_X
    pos = {s: i for i, s in enumerate(w.id_order)}
    ds = d.assign(_p=d["state"].map(pos)).sort_values(["year", "_p"])
    y, X = ds[["ln_gsp"]].to_numpy(), ds[xs].to_numpy()
    rows = []
    for model, cls, sp in (("sar", spreg.Panel_FE_Lag, "rho"), ("sem", spreg.Panel_FE_Error, "lambda")):
        m = cls(y, X, w)
        se = np.sqrt(np.diag(m.vm))
        for term, b, s in zip(xs + [sp], m.betas.ravel(), se):
            rows.append({"model": model, "effects": "entity", "term": term, "estimate": b, "std_error": s,
                         "source": f"spreg {spreg.__version__} {cls.__name__} (Produc, queen us48.shp, row-standardised)"})
    out = Path(__file__).with_name("spreg_produc_entity.csv")
    pd.DataFrame(rows).to_csv(out, index=False, float_format="%.12g")
    print(out)


if __name__ == "__main__":
    main()
