"""Benchmark: spatial Durbin panel with two-way FE on the simulated county panel (~2,850 x 13).

Times, in one run and on the same data and W (row-standardised queen contiguity of the real
counties, islands attached):

1. ours: ``spatial_panel(model="sdm", effects="twoways", lee_yu=True, n_draws=1000)``, starting
   from a cold eigenvalue cache (the eigendecomposition of W is included), with the 1,000-draw SEs
   of the direct/indirect/total effects;
2. peer: ``spreg.Panel_FE_Lag`` (PySAL spreg, ML FE spatial lag; entity FE only, it has no time
   effects and no effect SEs) on the same y and [X, WX];
3. ours in the peer's configuration (entity FE, no Lee-Yu, no draws), warm cache.

Prints the times and the ratios peer/ours. Run: ``.venv/bin/python benchmarks/bench_spatial.py``.
Not run by pytest.
"""
from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd

warnings.filterwarnings("ignore")


def load():
    from analysis.spatial import queen_weights

    w = queen_weights()
    try:
        from analysis.datasets import load_county_panel, load_truth

        panel = load_county_panel()
        panel = panel.assign(ln_gdp_pc=np.log(panel["gdp_pc"]))
        xs = list(load_truth()["spatial"]["regressors"])  # the simulated SDM: land_reform, loans_gdp
        source = "shipped simulated panel (data/synthetic/county_panel.csv.gz)"
        y = "ln_gdp_pc"
    except Exception as exc:  # noqa: BLE001 - panel not shipped yet: simulate on the same W
        print(f"(simulated panel not available: {exc}; simulating an SDM on the real W instead)")
        rng = np.random.default_rng(20261128)
        T, N = 13, w.n
        X = rng.standard_normal((T, N, 3))
        Wd = w.sparse
        from scipy import sparse
        from scipy.sparse.linalg import splu

        lu = splu(sparse.csc_matrix(sparse.identity(N) - 0.4 * Wd))
        mu, al = rng.standard_normal(N), rng.standard_normal(T)
        Y = np.array([lu.solve(X[t] @ [1, -0.5, 0.3] + Wd @ X[t] @ [0.5, 0.2, 0.0] + mu + al[t]
                               + 0.5 * rng.standard_normal(N)) for t in range(T)])
        panel = pd.DataFrame({"county": np.tile(w.ids, T), "year": np.repeat(np.arange(2010, 2010 + T), N),
                              "y": Y.ravel(), **{f"x{j + 1}": X[:, :, j].ravel() for j in range(3)}})
        xs, y, source = ["x1", "x2", "x3"], "y", "simulated SDM on the real queen W"
    return panel, w, y, xs, source


def main() -> None:
    import spreg

    from analysis.spatial import spatial_panel
    from analysis.spatial import weights as wmod

    panel, w, y, xs, source = load()
    print(f"data: {source}; N = {w.n}, T = {panel['year'].nunique()}, regressors = {xs}")

    wmod._SPECTRAL_CACHE.clear()
    t0 = time.perf_counter()
    w.eigenvalues()
    t_eig = time.perf_counter() - t0
    t0 = time.perf_counter()
    t_m = 0.0
    t0 = time.perf_counter()
    res = spatial_panel(panel, y, xs, w, model="sdm", effects="twoways", lee_yu=True, n_draws=1000, seed=1)
    t_fit = time.perf_counter() - t0
    t_ours = t_eig + t_m + t_fit
    print(f"ours  one-off per W: eigenvalues of W {t_eig:.2f} s")
    print(f"ours  SDM two-way FE + Lee-Yu + 1,000-draw effect SEs, given the eigenvalues:  {t_fit:8.2f} s")
    print(f"ours  total from a cold cache:                                                  {t_ours:8.2f} s")
    t0 = time.perf_counter()
    spatial_panel(panel, y, xs, w, model="sdm", effects="twoways", lee_yu=True, n_draws=0)
    print(f"ours  same fit without the effect draws:                                        "
          f"{time.perf_counter() - t0:8.2f} s")

    t0 = time.perf_counter()
    res_e = spatial_panel(panel, y, xs, w, model="sdm", effects="entity", lee_yu=False, n_draws=0)
    t_ours_e = time.perf_counter() - t0
    print(f"ours  SDM entity FE, no correction, no draws (warm eigen cache):                  {t_ours_e:8.2f} s")

    # spreg: same data, time-major in W's order, X augmented with WX (an SDM as a lag model)
    pos = {u: i for i, u in enumerate(w.ids)}
    ds = panel.assign(_p=panel["county"].astype(str).map(pos)).sort_values(["year", "_p"])
    T = ds["year"].nunique()
    X = ds[xs].to_numpy(float).reshape(T, w.n, len(xs))
    WX = np.stack([w.sparse @ X[t] for t in range(T)])
    Xa = np.concatenate([X, WX], axis=2).reshape(T * w.n, -1)
    pw = w.w
    pw.transform = "r"
    t0 = time.perf_counter()
    m = spreg.Panel_FE_Lag(ds[[y]].to_numpy(float), Xa, pw)
    t_spreg = time.perf_counter() - t0
    print(f"spreg Panel_FE_Lag (entity FE, SDM via [X, WX], no effect SEs):                   {t_spreg:8.2f} s")

    ours_b = res_e.params[xs + [f"W*{v}" for v in xs] + ["rho"]].to_numpy()
    print(f"max |ours - spreg| coefficients (entity FE): {np.max(np.abs(ours_b - m.betas.ravel())):.2e}")
    print(f"ratio spreg / ours (full two-way SDM with effect SEs, cold cache): {t_spreg / t_ours:6.2f}")
    print(f"ratio spreg / ours (full two-way SDM with effect SEs, warm cache): {t_spreg / t_fit:6.2f}")
    print(f"ratio spreg / ours (same entity-FE model):             {t_spreg / t_ours_e:6.2f}")
    print(res.effects_wide().to_string(float_format=lambda v: f"{v:.4f}"))


if __name__ == "__main__":
    main()
