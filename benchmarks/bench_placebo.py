"""Benchmark: randomization-inference placebo test, ours vs refitting pyfixest on every draw.

Run: ``python benchmarks/bench_placebo.py [--n-draws 1000] [--loop-draws 20] [--scheme units]``

Data: the SIMULATED county panel (``analysis.datasets.load_county_panel()``, 2,851 counties x 13
years), outcome log(rural_income), the 33 land-reform pilots with their adoption years, county and
year fixed effects, no controls (``--controls`` adds loans_gdp and fiscal_selfsuff).

* ours: :func:`analysis.did.placebo_test` with ``n_draws`` draws: y and controls demeaned once;
  default engine on this balanced panel = closed-form two-way demeaning of the pseudo treatment
  (O(treated units) per draw); also timed with ``engine="demean"`` (the pseudo-treatment columns of
  a batch of draws demeaned together, one FWL ratio per draw), the path unbalanced panels take.
* loop: the same draws (the assignments ours stored), each refitted with
  ``pyfixest.feols("y ~ d | county + year")``. Only ``--loop-draws`` draws are timed and the time is
  extrapolated linearly to ``n_draws`` (printed as such); the coefficients of those draws are
  compared with ours.
* unbalanced: the same comparison on an unbalanced version of the panel (``--drop-share`` = 2% of
  county-years removed, seeded), where ours takes the unbalanced closed form (exact two-way FWL,
  O(treated units x years) per draw) and the loop refits pyfixest on the unbalanced panel.
"""
from __future__ import annotations

import argparse
import time
import warnings

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-draws", type=int, default=1000)
    ap.add_argument("--loop-draws", type=int, default=20)
    ap.add_argument("--scheme", default="units")
    ap.add_argument("--controls", action="store_true")
    ap.add_argument("--seed", type=int, default=20261128)
    ap.add_argument("--drop-share", type=float, default=0.02)
    args = ap.parse_args()

    import pyfixest as pf

    from analysis.datasets import load_county_panel
    from analysis.did import placebo_test

    panel = load_county_panel()
    panel["log_rural_income"] = np.log(panel["rural_income"])
    controls = ["loans_gdp", "fiscal_selfsuff"] if args.controls else []
    print(f"data: simulated county panel, {panel['county'].nunique()} counties x {panel['year'].nunique()} years "
          f"= {len(panel)} rows; treated: {panel.groupby('county')['land_reform'].max().sum()} pilots; "
          f"controls: {controls or 'none'}; scheme: {args.scheme}")

    placebo_test(panel, "log_rural_income", adoption="land_reform_year", n_draws=20, scheme=args.scheme,
                 controls=controls, seed=1, progress=False)  # warm-up (imports, caches)
    t0 = time.perf_counter()
    res = placebo_test(panel, "log_rural_income", adoption="land_reform_year", n_draws=args.n_draws,
                       scheme=args.scheme, controls=controls, seed=args.seed, progress=False)
    t_ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    res_dm = placebo_test(panel, "log_rural_income", adoption="land_reform_year", n_draws=args.n_draws,
                          scheme=args.scheme, controls=controls, seed=args.seed, progress=False, engine="demean")
    t_dm = time.perf_counter() - t0
    assert abs(res_dm.draws - res.draws).max() < 1e-12

    frame = panel[["county", "year", "log_rural_income", *controls]].copy()
    rhs = " + ".join(["d", *controls])
    codes = res.units.get_indexer(frame["county"])
    years = frame["year"].to_numpy()
    pf.feols(f"log_rural_income ~ {rhs} | county + year", frame.assign(d=panel["land_reform"].astype(float)))  # warm-up
    diffs = []
    t0 = time.perf_counter()
    for b in range(args.loop_draws):
        g = res.assignments[b].astype(float)[codes]
        frame["d"] = ((g > 0) & (years >= g)).astype(float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = pf.feols(f"log_rural_income ~ {rhs} | county + year", frame, vcov={"CRV1": "county"})
        diffs.append(abs(float(fit.coef()["d"]) - res.draws[b]))
    t_loop_part = time.perf_counter() - t0
    t_loop = t_loop_part / args.loop_draws * args.n_draws

    print(f"ours : {args.n_draws} draws in {t_ours:.3f} s ({1e3 * t_ours / args.n_draws:.3f} ms/draw), engine "
          f"{res.settings['engine']} (balanced panel, the default)")
    print(f"ours : {args.n_draws} draws in {t_dm:.3f} s ({1e3 * t_dm / args.n_draws:.3f} ms/draw), engine demean "
          "(batch demeaning of the pseudo-treatment columns; the path for unbalanced panels)")
    print(f"loop : {args.loop_draws} pyfixest refits in {t_loop_part:.3f} s ({1e3 * t_loop_part / args.loop_draws:.1f} "
          f"ms/draw), extrapolated linearly to {args.n_draws} draws: {t_loop:.1f} s")
    print(f"max |ours - pyfixest| over the {args.loop_draws} refitted draws: {max(diffs):.2e}")
    print(f"ratio (loop / ours, closed form): {t_loop / t_ours:.0f}x  (issue requires >= 50x)")
    print(f"ratio (loop / ours, demean engine): {t_loop / t_dm:.0f}x")

    # ---- unbalanced panel: drop a seeded share of county-years ----
    rng = np.random.default_rng(args.seed)
    ub = panel.loc[rng.random(len(panel)) >= args.drop_share].reset_index(drop=True)
    print(f"\nunbalanced: {len(panel) - len(ub)} of {len(panel)} county-years removed ({args.drop_share:.0%}, seeded); "
          f"{len(ub)} rows, {ub['county'].nunique()} counties")
    placebo_test(ub, "log_rural_income", adoption="land_reform_year", n_draws=20, scheme=args.scheme,
                 controls=controls, seed=1, progress=False)  # warm-up
    t0 = time.perf_counter()
    res_ub = placebo_test(ub, "log_rural_income", adoption="land_reform_year", n_draws=args.n_draws,
                          scheme=args.scheme, controls=controls, seed=args.seed, progress=False)
    t_ub = time.perf_counter() - t0
    frame = ub[["county", "year", "log_rural_income", *controls]].copy()
    codes = res_ub.units.get_indexer(frame["county"])
    years = frame["year"].to_numpy()
    diffs = []
    t0 = time.perf_counter()
    for b in range(args.loop_draws):
        g = res_ub.assignments[b].astype(float)[codes]
        frame["d"] = ((g > 0) & (years >= g)).astype(float)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = pf.feols(f"log_rural_income ~ {rhs} | county + year", frame, vcov={"CRV1": "county"})
        diffs.append(abs(float(fit.coef()["d"]) - res_ub.draws[b]))
    t_loop_ub_part = time.perf_counter() - t0
    t_loop_ub = t_loop_ub_part / args.loop_draws * args.n_draws
    print(f"ours : {args.n_draws} draws in {t_ub:.3f} s ({1e3 * t_ub / args.n_draws:.3f} ms/draw), engine "
          f"{res_ub.settings['engine']} (unbalanced panel)")
    print(f"loop : {args.loop_draws} pyfixest refits in {t_loop_ub_part:.3f} s "
          f"({1e3 * t_loop_ub_part / args.loop_draws:.1f} ms/draw), extrapolated to {args.n_draws} draws: {t_loop_ub:.1f} s")
    print(f"max |ours - pyfixest| over the {args.loop_draws} refitted draws (pyfixest default fixef_tol 1e-8): "
          f"{max(diffs):.2e}")
    print(f"ratio (loop / ours, unbalanced panel): {t_loop_ub / t_ub:.0f}x  (issue requires >= 100x)")


if __name__ == "__main__":
    main()
