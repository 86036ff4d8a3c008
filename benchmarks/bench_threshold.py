"""Benchmark: Hansen (1999) single-threshold model, ours vs a straightforward loop (and pyxthreg).

Run: ``python benchmarks/bench_threshold.py [--loop-draws 3] [--n-boot 300] [--grid 300]``

Data: the simulated county panel (``analysis.datasets.load_county_panel()``), model
log(rural_income) ~ loans_gdp x regime(log(gdp_pc)); if the panel has not been built yet, a panel
of the same shape (2,851 counties x 13 years) from Hansen's design is used instead, and this is
printed.

* ours: ``analysis.regression.threshold.threshold`` with grid 300 and 300 bootstrap draws (the
  vectorised search and batched bootstrap).
* loop: the textbook implementation, one within-OLS per grid point, and per bootstrap draw again one
  OLS per grid point. The point estimate is timed in full; the bootstrap is timed on
  ``--loop-draws`` draws and extrapolated linearly to ``--n-boot`` draws (said in the output).
* pyxthreg (if importable): ``ThresholdPanel.fit(thnum=1, grid=300, bs=300)``, numba-compiled,
  timed after a warm-up run so compilation is excluded. Its bootstrap is a different procedure (wild
  bootstrap), and its grid differs from ours, so this is a speed comparison only.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from analysis.regression.threshold import threshold, threshold_grid


def load_data():
    try:
        from analysis.datasets import load_county_panel

        p = load_county_panel()
        d = pd.DataFrame(
            {
                "county": p["county"],
                "year": p["year"],
                "y": np.log(p["rural_income"].to_numpy(float)),
                "q": np.log(p["gdp_pc"].to_numpy(float)),
                "r": p["loans_gdp"].to_numpy(float),
            }
        )
        return d, "simulated county panel (data/synthetic)"
    except Exception as exc:  # noqa: BLE001 - benchmark fallback
        rng = np.random.default_rng(0)
        n, T = 2851, 13
        ids = np.repeat(np.arange(n), T)
        mu = rng.normal(size=n)[ids]
        q = rng.normal(size=n * T)
        r = rng.normal(size=n * T)
        y = mu + np.where(q <= 0, 1.0, 2.0) * r + rng.normal(size=n * T)
        d = pd.DataFrame({"county": [f"{100000 + i:06d}" for i in ids], "year": np.tile(np.arange(T), n), "y": y, "q": q, "r": r})
        return d, f"Hansen-design panel of the same shape (simulated county panel unavailable: {exc})"


def loop_ssr_path(yd, r, q, ids, grid):
    """One within regression per grid point (the straightforward implementation)."""
    out = np.empty(len(grid))
    g_ids = pd.Series(ids)
    for k, g in enumerate(grid):
        low = q <= g
        Z = np.column_stack([r * low, r * ~low])
        Zd = Z - pd.DataFrame(Z).groupby(g_ids).transform("mean").to_numpy()
        b, *_ = np.linalg.lstsq(Zd, yd, rcond=None)
        e = yd - Zd @ b
        out[k] = e @ e
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--grid", type=int, default=300)
    ap.add_argument("--n-boot", type=int, default=300)
    ap.add_argument("--loop-draws", type=int, default=3)
    args = ap.parse_args()
    d, source = load_data()
    n, T = d["county"].nunique(), d["year"].nunique()
    print(f"data: {source}; n={n}, T={T}, N={len(d)}; grid={args.grid}, bootstrap draws={args.n_boot}")

    threshold(d, "y", "q", "r", n_boot=5, grid=args.grid, seed=0)  # warm-up
    t0 = time.perf_counter()
    res = threshold(d, "y", "q", "r", n_boot=args.n_boot, grid=args.grid, seed=1)
    t_ours = time.perf_counter() - t0
    print(f"ours: {t_ours:.2f} s  (threshold {res.thresholds[0]:.6f}, F {res.f_table.F.iloc[0]:.2f}, "
          f"p {res.f_table.p_value.iloc[0]:.3f})")

    # loop implementation
    d = d.sort_values(["county", "year"])
    ids = pd.factorize(d["county"], sort=True)[0]
    y, r, q = d["y"].to_numpy(), d["r"].to_numpy(), d["q"].to_numpy()
    gids = pd.Series(ids)
    yd = y - pd.Series(y).groupby(gids).transform("mean").to_numpy()
    grid = threshold_grid(q, 0.05, args.grid)
    t0 = time.perf_counter()
    S = loop_ssr_path(yd, r, q, ids, grid)
    t_point = time.perf_counter() - t0
    rd = r - pd.Series(r).groupby(gids).transform("mean").to_numpy()
    b = rd @ yd / (rd @ rd)
    e0 = yd - rd * b
    fit = yd - e0
    E = e0.reshape(n, T)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for _ in range(args.loop_draws):
        ys = fit + E[rng.integers(0, n, n)].ravel()
        loop_ssr_path(ys, r, q, ids, grid)
    t_draw = (time.perf_counter() - t0) / args.loop_draws
    t_loop = t_point + t_draw * args.n_boot
    print(f"loop: point estimate {t_point:.2f} s; {t_draw:.2f} s per bootstrap draw, timed on "
          f"{args.loop_draws} draws and extrapolated to {args.n_boot}: total {t_loop:.1f} s")
    ours_ssr = res.lr_curve.loc[res.lr_curve["stage"] == "Th-1", "ssr"].to_numpy()
    print(f"check: max |SSR ours - SSR loop| over the grid = {np.max(np.abs(ours_ssr - S)):.2e}")
    print(f"ratio loop / ours = {t_loop / t_ours:.0f}x")

    try:
        import pyxthreg
    except ImportError:
        print("pyxthreg: not installed (pip install pyxthreg to include it)")
        return
    dd = d.rename(columns={"county": "id"})
    dd["id"] = ids
    m = pyxthreg.ThresholdPanel(dd, dep="y", rx="r", qx="q", entity_col="id", time_col="year")
    m.fit(thnum=1, trim=0.05, grid=args.grid, bs=5, nobslog=True)  # warm-up: numba compilation
    t0 = time.perf_counter()
    m = pyxthreg.ThresholdPanel(dd, dep="y", rx="r", qx="q", entity_col="id", time_col="year")
    m.fit(thnum=1, trim=0.05, grid=args.grid, bs=args.n_boot, nobslog=True)
    t_pyx = time.perf_counter() - t0
    print(f"pyxthreg: {t_pyx:.2f} s (threshold {float(m.results['thresholds'][0]):.6f}, own grid and wild bootstrap)")
    print(f"ratio pyxthreg / ours = {t_pyx / t_ours:.1f}x")


if __name__ == "__main__":
    main()
