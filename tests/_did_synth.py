"""Small simulated staggered-adoption panels for the DiD tests (not the shipped county panel)."""
from __future__ import annotations

import numpy as np
import pandas as pd


def staggered_panel(n_units: int = 120, years=range(2010, 2021), cohorts=(2014, 2016, 2018), share_treated: float = 0.4,
                    effect: float = 0.5, seed: int = 0, n_provinces: int = 6) -> pd.DataFrame:
    """Balanced panel: county (6-digit str), year, province, adoption (NaN never), treat, y, x1, x2.

    Treatment probability rises with x1 (so matching has work to do); y has unit and year effects,
    a linear effect of x1 and x2, and a constant treatment effect ``effect``.
    """
    rng = np.random.default_rng(seed)
    years = np.asarray(list(years))
    units = np.array([f"{110000 + i:06d}" for i in range(n_units)])
    x1_u = rng.normal(size=n_units)
    p = 1 / (1 + np.exp(-(np.log(share_treated / (1 - share_treated)) + 1.0 * x1_u)))
    treated = rng.random(n_units) < p
    adoption = np.where(treated, rng.choice(cohorts, size=n_units), np.nan)
    prov = np.array([f"P{i % n_provinces}" for i in range(n_units)])
    df = pd.DataFrame({"county": np.repeat(units, len(years)), "year": np.tile(years, n_units)})
    df["province"] = np.repeat(prov, len(years))
    df["adoption"] = np.repeat(adoption, len(years))
    df["treat"] = ((df["year"] >= df["adoption"]) & df["adoption"].notna()).astype(int)
    a_i = np.repeat(rng.normal(size=n_units) + 0.5 * x1_u, len(years))
    l_t = np.tile(0.1 * (years - years[0]) + rng.normal(scale=0.2, size=len(years)), n_units)
    df["x1"] = np.repeat(x1_u, len(years)) + rng.normal(scale=0.3, size=len(df))
    df["x2"] = rng.normal(size=len(df))
    df["y"] = a_i + l_t + 0.3 * df["x1"] - 0.2 * df["x2"] + effect * df["treat"] + rng.normal(scale=0.5, size=len(df))
    return df
