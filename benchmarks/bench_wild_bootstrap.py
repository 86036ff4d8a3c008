"""Benchmark: wild cluster restricted bootstrap at county scale (~2,850 clusters x 13 years, 999 draws).

Compares, in one run:

1. ours: ``analysis.regression.wild_bootstrap`` (fast K-matrix-free algorithm, batched draws);
2. a naive loop that refits the FE regression on every bootstrap sample (pyfixest via our ``fe``):
   only ``--loop-draws`` draws are timed and the time is extrapolated linearly to B draws;
3. ``wildboottest`` through pyfixest's ``Feols.wildboottest()`` (FEs re-expanded as dummies), in a
   subprocess with an address-space limit (``--mem-gb``) and a timeout (``--timeout``), because it
   is known to run out of memory / time at this size. Whatever happens is reported.

Run: ``python benchmarks/bench_wild_bootstrap.py [--B 999] [--loop-draws 10] [--mem-gb 8] [--timeout 600]``.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from analysis.regression import fe, wild_bootstrap  # noqa: E402


def make_panel(n=2850, T=13, seed=0) -> pd.DataFrame:
    """Panel of the shipped size; uses the simulated county panel when it is there."""
    try:
        from analysis.datasets import load_county_panel

        p = load_county_panel()
        p = p.assign(y=np.log(p.rural_income), x=p.land_reform.astype(float), z=p.loans_gdp)
        return p[["county", "year", "y", "x", "z"]]
    except Exception:
        rng = np.random.default_rng(seed)
        county = np.repeat([f"{100000 + i:06d}" for i in range(n)], T)
        year = np.tile(np.arange(2010, 2010 + T), n)
        x = rng.normal(size=n * T)
        z = rng.normal(size=n * T)
        y = 0.1 * x + 0.5 * z + np.repeat(rng.normal(size=n), T) + rng.normal(size=n * T)
        return pd.DataFrame({"county": county, "year": year, "y": y, "x": x, "z": z})


def naive_loop(d: pd.DataFrame, n_draws: int, seed: int) -> tuple[float, np.ndarray]:
    """Refit per draw: y* = restricted fit + restricted residual x Rademacher weight of its county."""
    rng = np.random.default_rng(seed)
    r = fe("y ~ z", d)  # restricted model (H0: beta_x = 0)
    ut = r.resid.reindex(d.index).to_numpy()
    yfit = d.y.to_numpy() - ut
    codes, uniq = pd.factorize(d.county, sort=True)
    t0 = time.perf_counter()
    ts = []
    for _ in range(n_draws):
        v = np.where(rng.random(len(uniq)) < 0.5, -1.0, 1.0)
        f = fe("y ~ x + z", d.assign(y=yfit + ut * v[codes]))
        ts.append(f.tstats["x"])
    return time.perf_counter() - t0, np.array(ts)


WBT_SCRIPT = textwrap.dedent(
    """
    import json, sys, time, resource
    import pandas as pd, pyfixest as pf
    d = pd.read_parquet(sys.argv[1])
    t0 = time.perf_counter()
    m = pf.feols("y ~ x + z | county + year", d, vcov={"CRV1": "county"})
    out = m.wildboottest(param="x", reps=int(sys.argv[2]), cluster="county", seed=1)
    el = time.perf_counter() - t0
    print(json.dumps({"seconds": el, "pvalue": float(out["Pr(>|t|)"]),
                      "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
    """
)


def run_wildboottest(d: pd.DataFrame, B: int, mem_gb: float, timeout: float) -> dict:
    try:
        import wildboottest  # noqa: F401
    except ImportError:
        return {"status": "not installed (pip install wildboottest)"}
    tmp = Path(os.environ.get("TMPDIR", "/tmp")) / "bench_wbt_panel.parquet"
    d.to_parquet(tmp)
    limit = int(mem_gb * 1024 ** 3)

    def cap():  # runs in the child before exec
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    t0 = time.perf_counter()
    try:
        proc = subprocess.run([sys.executable, "-c", WBT_SCRIPT, str(tmp), str(B)], capture_output=True,
                              text=True, timeout=timeout, preexec_fn=cap)
    except subprocess.TimeoutExpired:
        return {"status": f"timed out after {timeout:.0f} s (memory cap {mem_gb} GB)",
                "seconds": time.perf_counter() - t0}
    el = time.perf_counter() - t0
    if proc.returncode == 0:
        res = json.loads(proc.stdout.strip().splitlines()[-1])
        res["status"] = "ok"
        return res
    tail = (proc.stderr or "").strip().splitlines()[-3:]
    kind = "out of memory" if any("MemoryError" in s or "Unable to allocate" in s for s in tail) else "failed"
    return {"status": f"{kind} (exit {proc.returncode}, memory cap {mem_gb} GB): {' | '.join(tail)}",
            "seconds": el}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--B", type=int, default=999)
    ap.add_argument("--loop-draws", type=int, default=10)
    ap.add_argument("--mem-gb", type=float, default=8.0)
    ap.add_argument("--timeout", type=float, default=600.0)
    ap.add_argument("--skip-wildboottest", action="store_true")
    args = ap.parse_args()

    d = make_panel()
    G, T = d.county.nunique(), d.year.nunique()
    print(f"panel: {len(d)} rows, {G} clusters x {T} years; B = {args.B} Rademacher draws")
    fe("y ~ x + z", d)  # warm-up (numba compilation inside pyfixest)

    t0 = time.perf_counter()
    ours = wild_bootstrap("y ~ x + z", d, "x", B=args.B, seed=1)
    t_ours = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"ours (fast WCR):          {t_ours:8.2f} s  p = {ours.p_value:.4f}  t = {ours.t_stat:.3f}  "
          f"(process peak RSS so far {peak:.0f} MB)")

    t_loop, _ = naive_loop(d, args.loop_draws, seed=1)
    t_loop_B = t_loop / args.loop_draws * args.B
    print(f"naive refit loop:         {t_loop:8.2f} s for {args.loop_draws} draws -> extrapolated "
          f"{t_loop_B:8.1f} s for {args.B} draws (linear extrapolation, not run in full)")
    print(f"ratio naive / ours:       {t_loop_B / t_ours:8.1f}x")

    if not args.skip_wildboottest:
        w = run_wildboottest(d, args.B, args.mem_gb, args.timeout)
        print(f"wildboottest via pyfixest: {w}")
        if w.get("status") == "ok":
            print(f"ratio wildboottest / ours: {w['seconds'] / t_ours:8.1f}x (p = {w['pvalue']:.4f})")
        else:
            print(f"ratio wildboottest / ours: not available ({w['status'].split(':')[0]}); "
                  f"at least {w.get('seconds', float('nan')) / t_ours:.0f}x")


if __name__ == "__main__":
    main()
