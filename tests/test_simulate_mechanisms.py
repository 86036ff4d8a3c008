"""The mechanism layer of the simulated panel: new columns only, reproducible, and its truths recovered."""
from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from analysis import datasets
from analysis.did import triple_difference
from analysis.regression import fe, multiple_mediation
from analysis.simulate_mechanisms import MECHANISM_COLUMNS, mechanism_columns, mechanism_panel, mechanism_truth

ROOT = Path(__file__).resolve().parent.parent
SYN = ROOT / "data" / "synthetic"

# sha256 of the base files as they were before the mechanism layer was added (commit 3f34bba):
# the layer must not change one byte of them.
BASE_SHA256 = {
    "county_panel.csv.gz": "e1684bef9b1fd517d08beaedd6e97651a4d66b58757ebab2e51abdee96f6577c",
    "truth.json": "0f91f42e3532b6aff6edfaca47389af620e0a28005cf98c4f26861802fc5de30",
    "truth_effects.csv.gz": "4b893e29532834fe582342c606fecb95d7dd0da144ca80183f8f35167916717e",
    "codebook.csv": "cacfa84f0a3616fb38f77614f80d45db5fd20d8f30978e21dc6b8323d5a432dd",
}


@pytest.fixture(scope="module")
def mpanel():
    return mechanism_panel()


@pytest.fixture(scope="module")
def truth():
    return mechanism_truth()


def test_base_files_byte_identical():
    for name, digest in BASE_SHA256.items():
        assert hashlib.sha256((SYN / name).read_bytes()).hexdigest() == digest, name


def test_old_columns_unchanged_and_new_columns_added(mpanel):
    base = datasets.load_county_panel()
    pd.testing.assert_frame_equal(mpanel[base.columns], base)
    assert set(MECHANISM_COLUMNS) <= set(mpanel.columns)
    assert (SYN / "mechanisms.csv.gz").stat().st_size < 5 * 2**20


def test_mechanism_file_rebuilds_byte_identical(tmp_path):
    sys.path.insert(0, str(ROOT))
    from scripts.build_synthetic import _write_csv_gz

    base = datasets.load_county_panel()
    eff = datasets.load_truth_effects()
    seed = datasets.load_truth()["seed"]
    mech, _ = mechanism_columns(base, eff, seed)
    _write_csv_gz(mech, tmp_path / "m.csv.gz")
    assert (tmp_path / "m.csv.gz").read_bytes() == (SYN / "mechanisms.csv.gz").read_bytes()
    # a different seed changes the mechanism columns (and only those are drawn from [seed, 17])
    other, _ = mechanism_columns(base, eff, seed + 1)
    assert not np.allclose(other["integration_score"], mech["integration_score"])


def test_parallel_and_serial_mediation_recover_truth(mpanel, truth):
    """Each indirect effect within 3 bootstrap SEs of its simulated truth (a 3-SE band fails about
    0.3% of the time for one unbiased estimate)."""
    ind = truth["indirect"]
    par = multiple_mediation(mpanel, "integration_score", "land_reform",
                             ["migrant_share", "agri_loans_gdp", "agro_processing_ratio"], n_draws=199, seed=1)
    checks = {
        "ind: land_reform->migrant_share->integration_score": ind["people"],
        "ind: land_reform->agri_loans_gdp->integration_score": ind["money_direct"] + ind["money_chain_via_land"],
        "ind: land_reform->agro_processing_ratio->integration_score": ind["industry"],
    }
    for k, v in checks.items():
        assert abs(par.params[k] - v) < 3 * par.std_errors[k], (k, par.params[k], v)
    ser = multiple_mediation(mpanel, "integration_score", "land_reform", ["land_transfer_rate", "agri_loans_gdp"],
                             model="serial", n_draws=199, seed=1)
    chain = "ind: land_reform->land_transfer_rate->agri_loans_gdp->integration_score"
    assert abs(ser.params[chain] - ind["money_chain_via_land"]) < 3 * ser.std_errors[chain]
    direct = "ind: land_reform->agri_loans_gdp->integration_score"
    assert abs(ser.params[direct] - ind["money_direct"]) < 3 * ser.std_errors[direct]


def test_ddd_moderation_hub_and_hukou_null(mpanel, truth):
    p = mpanel.copy()
    first = p.groupby("county")["arable_pc"].transform("first")
    p["high_pressure"] = (first < p.groupby("county")["arable_pc"].first().median()).astype(int)
    r = triple_difference(p, "integration_score", "land_reform", "high_pressure")
    assert abs(r.params["DDD"] - truth["ddd"]) < 3 * r.std_errors["DDD"]
    hub = fe("county_seat_pop_share ~ land_reform", p)
    assert abs(hub.params["land_reform"] - truth["hub_a"]) < 3 * hub.std_errors["land_reform"]
    p["hukou_gap"] = p["urbanization_rate"] - p["hukou_urbanization"]
    gap = fe("hukou_gap ~ land_reform", p)
    assert abs(gap.params["land_reform"]) < 3 * gap.std_errors["land_reform"]
