"""HonestDiD (Rambachan-Roth 2023): the Delta^SD FLCI and the Delta^RM C-LF confidence sets against the
published Medicaid example of the R HonestDiD README (tests/reference/did/honestdid_medicaid_readme.csv),
plus properties."""
from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.did.honest import flci, folded_normal_quantile, honest_did, rm_confidence_set
from analysis.errors import SpecificationError

REF = Path(__file__).parent / "reference" / "did"


@pytest.fixture(scope="module")
def medicaid():
    """betahat and sigma of the README's TWFE event study, recomputed from the ehec data.

    ``feols(dins ~ i(year, D, ref = 2013) | stfips + year, cluster = "stfips")`` on years < 2016
    without the 2015 cohort (README); pyfixest's CRV1 equals fixest's.
    """
    md = importlib.import_module("moderndid")
    pf = importlib.import_module("pyfixest")
    e = md.load_ehec()
    e = e.to_pandas() if hasattr(e, "to_pandas") else e
    d = e[(e["year"] < 2016) & (e["yexp2"].isna() | (e["yexp2"] != 2015))].copy()
    d["D"] = (d["yexp2"] == 2014).astype(int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = pf.feols("dins ~ i(year, D, ref=2013) | stfips + year", data=d, vcov={"CRV1": "stfips"},
                     ssc=pf.ssc(k_adj=False, G_adj=False), fixef_tol=1e-12)
    # reghdfe/fixest small-sample factor G/(G-1) (N-1)/(N-K), K = 7 coefficients + 8 year levels (the
    # state FE is nested in the cluster); pyfixest 0.60's own factor here depends on PYTHONHASHSEED
    N, G, K = m._N, d["stfips"].nunique(), 7 + d["year"].nunique()
    return m.coef().to_numpy(), np.asarray(m._vcov) * G / (G - 1) * (N - 1) / (N - K)


def _tol(text: str) -> float:
    """Half a unit in the last printed significant digit, plus 3e-5 for R's grid search (100 points)
    and simulated folded-normal quantile, against our exact optimisation."""
    s = text.lstrip("-")
    dec = len(s.split(".")[1]) if "." in s else 0
    return 0.5 * 10.0 ** (-dec) + 3e-5


def test_flci_matches_published_medicaid(medicaid):
    b, S = medicaid
    ref = pd.read_csv(REF / "honestdid_medicaid_readme.csv", dtype={"lb": str, "ub": str})
    sd = ref[ref["delta"] == "DeltaSD"]
    res = honest_did(betahat=b, sigma=S, n_pre=5, method="smoothness", m_values=sd["M"].to_numpy())
    for (_, row), (_, ours) in zip(sd.iterrows(), res.table.iterrows()):
        assert abs(ours["lb"] - float(row["lb"])) <= _tol(row["lb"]), (row.to_dict(), ours.to_dict())
        assert abs(ours["ub"] - float(row["ub"])) <= _tol(row["ub"]), (row.to_dict(), ours.to_dict())
    # breakdown value as the README reads it: significant up to M = 0.02, not at 0.03
    assert res.breakdown() == pytest.approx(0.02)


def test_relative_magnitudes_match_published_medicaid(medicaid):
    """C-LF hybrid under Delta^RM on the README's 1,000-point grid. R and we simulate the
    least-favourable critical value with different random streams, so the bounds can differ by a
    grid step or so (observed over 8 seeds: at most 1.6 steps); we allow 2 steps (~8e-4)."""
    b, S = medicaid
    ref = pd.read_csv(REF / "honestdid_medicaid_readme.csv", dtype={"lb": str, "ub": str})
    rm = ref[ref["delta"] == "DeltaRM"]
    res = honest_did(betahat=b, sigma=S, n_pre=5, method="relative_magnitude", m_values=rm["M"].to_numpy())
    for (_, row), (_, ours) in zip(rm.iterrows(), res.table.iterrows()):
        step = rm_confidence_set(b, S, 5, 2, float(row["M"]), grid_points=1000)["grid"]
        tol = 2 * (step[1] - step[0])
        assert abs(ours["lb"] - float(row["lb"])) <= tol, (row.to_dict(), ours.to_dict())
        assert abs(ours["ub"] - float(row["ub"])) <= tol, (row.to_dict(), ours.to_dict())
    # breakdown as the README reads it: significant up to Mbar = 1.5, not at 2
    assert res.breakdown() == pytest.approx(1.5)


def test_rm_mbar_zero_and_monotone(medicaid):
    b, S = medicaid
    widths = []
    for mbar in (0.0, 0.5, 1.0):
        r = rm_confidence_set(b, S, 5, 2, mbar, grid_points=400)
        widths.append(r["ub"] - r["lb"])
    assert np.all(np.diff(widths) > 0)


def test_flci_properties(medicaid):
    b, S = medicaid
    z = stats.norm.ppf(0.975)
    # M = 0: linear-trend-adjusted estimator with a normal interval
    r0 = flci(b, S, 5, 2, 0.0)
    assert r0["ub"] - r0["lb"] == pytest.approx(2 * z * r0["sd"])
    c = r0["weights"]
    s = np.r_[np.arange(-5, 0), np.arange(1, 3)]
    assert abs(c @ s) < 1e-10  # invariant to linear trends
    # lengths grow with M
    lengths = [flci(b, S, 5, 2, M)["half_length"] for M in (0.0, 0.005, 0.01, 0.03)]
    assert np.all(np.diff(lengths) > 0)
    # average of the two post periods
    r = honest_did(betahat=b, sigma=S, n_pre=5, m_values=[0.0, 0.01], l_vec=[0.5, 0.5])
    assert r.original["estimate"] == pytest.approx(0.5 * (b[5] + b[6]))


def test_folded_normal_quantile():
    assert folded_normal_quantile(0.0, 0.05) == pytest.approx(stats.norm.ppf(0.975), abs=1e-12)
    c = folded_normal_quantile(1.3, 0.05)
    assert stats.norm.cdf(c - 1.3) - stats.norm.cdf(-c - 1.3) == pytest.approx(0.95, abs=1e-12)


def test_honest_from_event_study_and_plot():
    from analysis.did.sun_abraham import sun_abraham

    rng = np.random.default_rng(2)
    n, years = 200, np.arange(2010, 2018)
    g = rng.choice([0, 2014, 2016], size=n)
    G, yr = np.repeat(g, len(years)), np.tile(years, n)
    te = np.where((G > 0) & (yr >= G), 1.0 + 0.3 * (yr - G), 0.0)
    y = np.repeat(rng.normal(size=n), len(years)) + np.tile(np.cumsum(rng.normal(size=len(years))), n) + te \
        + rng.normal(0, 0.5, n * len(years))
    panel = pd.DataFrame({"county": np.repeat([f"{i:06d}" for i in range(n)], len(years)), "year": yr, "g": G, "y": y})
    r = sun_abraham(panel, "y", "g", window=(-4, 3))
    h = honest_did(r, method="smoothness", m_values=[0, 0.05, 0.1])
    assert h.settings["n_pre"] == 3 and h.settings["n_post"] == 4
    assert (h.table["ub"] - h.table["lb"]).is_monotonic_increasing
    hr = honest_did(r, method="relative_magnitude", m_values=[0.5, 1.0])
    assert (hr.table["lb"] <= hr.original["estimate"]).all() and (hr.table["ub"] >= hr.original["estimate"]).all()
    for lang in ("en", "zh"):
        try:
            fig = h.plot(lang=lang)
        except SpecificationError:  # no CJK font installed
            continue
        assert fig.axes
    with pytest.raises(SpecificationError):
        honest_did(r, method="bogus")
