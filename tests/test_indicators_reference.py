"""Every worked number of shared/methods/indices.md sections 1-3 and 5 (N1, E1-E3, W1, W-CV, W2, T1,
O1), read from tests/reference/indices/n1_expected.csv, reproduced at 1e-6."""
from __future__ import annotations

import functools
import warnings
from pathlib import Path

import pandas as pd
import pytest

from analysis.coupling import obstacle_degree
from analysis.indicators import (
    build_index,
    combine_weights,
    critic,
    cv,
    entropy,
    load_system,
    normalize,
    topsis,
    topsis_vector,
)

REF = Path(__file__).parent / "reference" / "indices"
TOL = 1e-6
X = ["x1", "x2", "x3", "x4"]


def n1_data() -> pd.DataFrame:
    d = pd.read_csv(REF / "n1_data.csv", dtype={"county": str}).drop(columns="source")
    d["row"] = d["county"] + "-" + d["year"].astype(str)
    return d


def n1_system():
    return load_system({
        "name": "n1",
        "subsystems": [{"key": "all", "label": "All", "label_zh": "全部", "indicators": [
            {"column": c, "label": c, "label_zh": c, "direction": d}
            for c, d in zip(X, ["+", "+", "-", "+"])]}],
    })


def expected() -> pd.DataFrame:
    return pd.read_csv(REF / "n1_expected.csv", dtype={"row": str, "item": str})


def _long(vec: str, qty: str, frame: pd.DataFrame) -> pd.DataFrame:
    """rows x items frame -> long (vector, quantity, row, item, value)."""
    s = frame.stack(future_stack=True)
    return pd.DataFrame({"vector": vec, "quantity": qty, "row": s.index.get_level_values(0).astype(str),
                         "item": s.index.get_level_values(1).astype(str), "value": s.to_numpy()})


def computed() -> pd.DataFrame:
    """Our implementation's value for every (vector, quantity, row, item) in the reference file."""
    d = n1_data()
    system = n1_system()
    dirs = system.directions
    y20 = d[d["year"] == 2020].set_index("row")
    pooled = d.set_index("row")
    out = []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        out.append(_long("N1", "z_year2020_noshift", normalize(y20, dirs)))
        out.append(_long("N1", "z_pooled_shift0.0001", normalize(pooled, dirs, shift=1e-4)))
        e1 = entropy(normalize(y20, dirs))
        out.append(_long("E1", "e", e1[["e"]].T.set_axis(["2020"])))
        out.append(_long("E1", "w", e1[["weight"]].T.set_axis(["2020"])))
        r = build_index(y20.reset_index(), system, entity="county", time="year")
        out.append(_long("E1", "S", pd.DataFrame({"score": r.score.to_numpy()},
                                                 index=y20.index)))
        for qty, kw in [("w_shift0.0001", {"shift": 1e-4}), ("w_rescale0.002", {"rescale": 0.002})]:
            w = entropy(normalize(y20, dirs, **kw))["weight"]
            out.append(_long("E1", qty, w.to_frame().T.set_axis(["2020"])))
        e2 = entropy(normalize(pooled, dirs, shift=1e-4))
        out.append(_long("E2", "e", e2[["e"]].T.set_axis(["pooled"])))
        out.append(_long("E2", "w", e2[["weight"]].T.set_axis(["pooled"])))
        r2 = build_index(d, system, shift=1e-4)
        out.append(_long("E2", "S", pd.DataFrame({"score": r2.score.to_numpy()}, index=d["row"])))
        for sh in ["0", "0.0001", "0.01", "1.0"]:
            w = build_index(d, system, shift=float(sh)).weight
            out.append(_long("E-shift", f"w_shift{sh}", w.to_frame().T.set_axis(["pooled"])))
        r3 = build_index(d, system, shift=1e-4, scope="year")
        out.append(_long("E3", "w", r3.weights.set_index("column")[["weight_2021"]].T.set_axis(["2021"])))
        out.append(_long("E3", "S", pd.DataFrame({"score": r3.score.to_numpy()}, index=d["row"])))
        zp = normalize(pooled, dirs)
        w1 = critic(zp)
        for q, c in [("sigma", "sigma"), ("conflict", "conflict"), ("w", "weight")]:
            out.append(_long("W1", q, w1[[c]].T.set_axis(["pooled"])))
        wcv = cv(pooled[X])
        for q, c in [("cv", "cv"), ("w", "weight")]:
            out.append(_long("W-CV", q, wcv[[c]].T.set_axis(["pooled"])))
        we, wc = e2["weight"], w1["weight"]
        g = combine_weights({"entropy": we, "critic": wc}, "game")
        out.append(_long("W2", "alpha_raw", pd.DataFrame([g.attrs["alpha_raw"]], index=["game"],
                                                         columns=["entropy", "critic"])))
        out.append(_long("W2", "alpha", pd.DataFrame([g.attrs["alpha"]], index=["game"],
                                                     columns=["entropy", "critic"])))
        out.append(_long("W2", "w_game", g.to_frame().T.set_axis(["pooled"])))
        out.append(_long("W2", "w_linear0.5", combine_weights([we, wc], "linear", alpha=0.5)
                         .to_frame().T.set_axis(["pooled"])))
        out.append(_long("W2", "w_multiplicative", combine_weights([we, wc], "multiplicative")
                         .to_frame().T.set_axis(["pooled"])))
        t1 = topsis(normalize(pooled, dirs, shift=1e-4), we)
        for q, c in [("d_plus", "d_plus"), ("d_minus", "d_minus"), ("closeness", "closeness")]:
            out.append(_long("T1", q, t1[[c]].set_axis(["topsis"], axis=1)))
        tv = topsis_vector(pooled[X], we, dirs)
        out.append(_long("T1", "closeness_vector", tv[["closeness"]].set_axis(["topsis"], axis=1)))
        o = obstacle_degree(zp, we)
        out.append(_long("O1", "obstacle", o.indicator))
    return pd.concat(out, ignore_index=True)


@functools.lru_cache(maxsize=1)
def _comparison() -> pd.DataFrame:
    exp = expected()
    got = computed()
    m = exp.merge(got, on=["vector", "quantity", "row", "item"], how="left",
                  suffixes=("_expected", "_ours"))
    m["abs_diff"] = (m["value_expected"] - m["value_ours"]).abs()
    return m


def comparison() -> pd.DataFrame:
    return _comparison().copy()


def test_every_reference_number_is_computed():
    m = comparison()
    assert len(m) == len(expected())
    missing = m[m["value_ours"].isna() & m["value_expected"].notna()]
    assert missing.empty, missing


@pytest.mark.parametrize("vector", ["N1", "E1", "E2", "E-shift", "E3", "W1", "W-CV", "W2", "T1", "O1"])
def test_worked_numbers(vector):
    m = comparison()
    m = m[m["vector"] == vector]
    assert len(m) > 0
    nan_exp = m["value_expected"].isna()
    # NaN where the reference says NaN (O1: the ideal row), equal at 1e-6 elsewhere
    assert m.loc[nan_exp, "value_ours"].isna().all()
    bad = m[~nan_exp & ~(m["abs_diff"] <= TOL)]
    assert bad.empty, bad[["quantity", "row", "item", "value_expected", "value_ours", "abs_diff"]]


def test_per_year_scope_destroys_trend_county_c():
    """indices.md §2.1: pooled -> every county rises; per-year -> county C falls (0.126 -> 0.071)."""
    d = n1_data()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pooled = build_index(d, n1_system(), shift=1e-4).to_frame()
        year = build_index(d, n1_system(), shift=1e-4, scope="year").to_frame()
    p = pooled.pivot(index="county", columns="year", values="score")
    y = year.pivot(index="county", columns="year", values="score")
    assert (p[2021] > p[2020]).all()
    assert y.loc["C", 2021] < y.loc["C", 2020]


if __name__ == "__main__":  # print max abs diff per vector (for the report)
    m = comparison()
    print(m.groupby("vector", sort=False)["abs_diff"].agg(["count", "max"]).to_string())
