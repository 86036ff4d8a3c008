"""Spatial DID inside a two-way FE SDM: recovery of direct and spillover effects; input checks."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from _spatial_support import lattice_weights

from analysis.errors import TreatmentTimingError
from analysis.spatial import effects_point, spatial_did


def _did_panel(w, T=12, rho=0.3, delta=1.0, phi=0.6, seed=0, starts=(4, 6, 8, 99), probs=(0.2, 0.2, 0.2, 0.4)):
    """Staggered spatial DiD panel: adoption period drawn from ``starts`` (99 = never) with ``probs``."""
    rng = np.random.default_rng(seed)
    N = w.n
    start = rng.choice(list(starts), size=N, p=list(probs))
    D = (np.arange(T)[:, None] >= start[None, :]).astype(float)
    x = rng.standard_normal((T, N))
    Wd = w.full()
    A = np.linalg.inv(np.eye(N) - rho * Wd)
    mu, al = rng.standard_normal(N), rng.standard_normal(T)
    Y = np.array([A @ (delta * D[t] + phi * Wd @ D[t] + 0.5 * x[t] + 0.2 * Wd @ x[t] + mu + al[t]
                       + 0.3 * rng.standard_normal(N)) for t in range(T)])
    return pd.DataFrame({"county": np.tile(w.ids, T), "year": np.repeat(np.arange(2010, 2010 + T), N),
                         "y": Y.ravel(), "treat": D.ravel(), "x": x.ravel()})


def test_spatial_did_recovers_direct_and_spillover():
    w = lattice_weights(14, 14)
    df = _did_panel(w, seed=3)
    r = spatial_did(df, "y", "treat", w, controls=["x"], n_draws=500, seed=1)
    did = r.extra["did"].set_index("term")
    d_true, i_true, t_true = effects_point(np.array([1.0]), np.array([0.6]), 0.3, w.eigenvalues())
    assert abs(did.loc["direct", "estimate"] - d_true[0]) < 4 * did.loc["direct", "std_error"]
    assert abs(did.loc["spillover", "estimate"] - i_true[0]) < 4 * did.loc["spillover", "std_error"]
    assert abs(did.loc["total", "estimate"] - t_true[0]) < 4 * did.loc["total", "std_error"]
    assert abs(did.loc["delta (D)", "estimate"] - 1.0) < 4 * did.loc["delta (D)", "std_error"]
    assert list(did.index) == ["direct", "spillover", "total", "delta (D)", "phi (W*D)"]


def test_spatial_did_checks_treatment():
    w = lattice_weights(5, 5)
    df = _did_panel(w, T=6, seed=1)
    bad = df.copy()
    bad.loc[bad.index[-1], "treat"] = 2
    with pytest.raises(TreatmentTimingError, match="0/1"):
        spatial_did(bad, "y", "treat", w, n_draws=0)
    off = df.copy()
    first = off["county"] == w.ids[0]
    off.loc[first, "treat"] = [0, 1, 1, 0, 1, 1]
    with pytest.raises(TreatmentTimingError, match="switches off"):
        spatial_did(off, "y", "treat", w, n_draws=0)
    with pytest.raises(TreatmentTimingError, match="does not vary"):
        spatial_did(df.assign(treat=0.0), "y", "treat", w, n_draws=0)
