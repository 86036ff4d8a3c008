"""Indicator systems (YAML) and build_index: validation, errors, missing cells, options."""
from __future__ import annotations

import re
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from analysis.errors import (
    ColumnError,
    DuplicateKeyError,
    MissingValueError,
    NegativeValueError,
    NonNumericError,
    SpecificationError,
)
from analysis.indicators import (
    ConstantColumnWarning,
    PerYearScopeWarning,
    build_index,
    combine_weights,
    cv_weights,
    entropy_weights,
    integration_index,
    load_system,
    normalize,
    shipped_systems,
    topsis_vector,
)

ROOT = Path(__file__).resolve().parents[1]
IND = {"label": "L", "label_zh": "标签", "unit": "u"}


def spec(*subsystems):
    return {"name": "t", "subsystems": [
        {"key": k, "label": k, "label_zh": k, "indicators": [dict(IND, **i) for i in inds]}
        for k, inds in subsystems]}


def simulation_md_directions() -> dict[str, str]:
    """Columns and directions of the 20 raw indicators, parsed from docs/simulation.md's table."""
    text = (ROOT / "docs" / "simulation.md").read_text(encoding="utf-8")
    out = {}
    for m in re.finditer(r"^\|[^|]*\|\s*`(\w+)`\s*\|[^|]*\|\s*([+−-])\s*\|", text, flags=re.M):
        out[m.group(1)] = "+" if m.group(2) == "+" else "-"
    return out


def small_panel(seed=0, n=6, years=(2018, 2019, 2020)):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        for t in years:
            rows.append({"county": f"{110100 + i:06d}", "year": t, "a": rng.uniform(1, 10) + t - 2018,
                         "b": rng.uniform(0, 5), "c": rng.uniform(10, 20), "d": rng.uniform(0, 1)})
    return pd.DataFrame(rows)


SYS = spec(("s1", [{"column": "a", "direction": "+"}, {"column": "b", "direction": "-"}]),
           ("s2", [{"column": "c", "direction": "+"}, {"column": "d", "direction": "+"}]))


# ---- shipped systems ----------------------------------------------------------------------------
def test_shipped_systems_match_simulation_md():
    assert {"county_uri", "urban_rural_two"} <= set(shipped_systems())
    doc = simulation_md_directions()
    assert len(doc) == 20
    for name, n_sub in [("county_uri", 5), ("urban_rural_two", 2)]:
        s = load_system(name)
        assert len(s.subsystems) == n_sub
        assert sorted(s.columns) == sorted(doc)
        assert s.directions == {c: doc[c] for c in s.columns}
        for i in s.indicators:
            assert i.label and i.label_zh and i.unit is not None
    assert [x.label_zh for x in load_system("urban_rural_two").subsystems] == ["城镇", "乡村"]


def test_load_from_path_and_dict(tmp_path):
    p = tmp_path / "mine.yaml"
    p.write_text(yaml.safe_dump(SYS, allow_unicode=True), encoding="utf-8")
    a, b = load_system(p), load_system(SYS)
    assert a.columns == b.columns == ["a", "b", "c", "d"]
    assert a.subsystem_of == {"a": "s1", "b": "s1", "c": "s2", "d": "s2"}
    assert load_system(a) is a


# ---- validation errors ----------------------------------------------------------------------------
@pytest.mark.parametrize("bad, match", [
    (spec(("s1", [{"column": "a"}])), "direction is missing"),
    (spec(("s1", [{"column": "a", "direction": "up"}])), "invalid direction"),
    (spec(("s1", [{"column": "a", "direction": "+"}]), ("s2", [{"column": "a", "direction": "+"}])),
     "duplicate indicator 'a'"),
    (spec(("s1", [{"column": "a", "direction": "+"}]), ("s2", [])), "has no indicator"),
    (spec(("s1", [{"column": "a", "direction": "moderate"}])), "needs a numeric 'target'"),
    (spec(("s1", [{"column": "a", "direction": "+", "target": 3}])), "only meaningful"),
    (spec(("s1", [{"column": "a", "direction": "+", "weight": 0.5},
                  {"column": "b", "direction": "+", "weight": 0.2}])), "sum to 0.7"),
    (spec(("s1", [{"column": "a", "direction": "+", "weight": 1.0},
                  {"column": "b", "direction": "+"}])), "not for b"),
    ({"name": "x", "subsystems": []}, "non-empty list"),
])
def test_validation_errors(bad, match):
    with pytest.raises(SpecificationError, match=match):
        load_system(bad)


def test_unquoted_minus_in_yaml_says_quote(tmp_path):
    p = tmp_path / "bad.yaml"
    p.write_text("name: x\nsubsystems:\n  - key: s\n    label: S\n    label_zh: S\n    indicators:\n"
                 "      - column: a\n        label: A\n        label_zh: A\n        direction: -\n")
    with pytest.raises(SpecificationError, match="quoted"):
        load_system(p)


def test_unknown_name_lists_shipped():
    with pytest.raises(SpecificationError, match="county_uri"):
        load_system("no_such_system")


def test_columns_checked_against_data():
    d = small_panel()
    with pytest.raises(ColumnError, match="'zz'|zz"):
        load_system(spec(("s1", [{"column": "zz", "direction": "+"}])), data=d)
    d2 = d.assign(a=d["a"].astype(str).where(d.index != 3, "n/a"))
    with pytest.raises(NonNumericError, match="'a'"):
        build_index(d2, SYS)


# ---- normalization, weights, options ------------------------------------------------------------
def test_moderate_indicator():
    s = spec(("s1", [{"column": "x", "direction": "moderate", "target": 50}]))
    z = normalize(pd.DataFrame({"x": [30.0, 50.0, 80.0]}), load_system(s).directions, {"x": 50})
    np.testing.assert_allclose(z["x"], [1 - 20 / 30, 1.0, 0.0])


def test_fixed_weights_from_yaml():
    s = spec(("s1", [{"column": "a", "direction": "+", "weight": 0.4},
                     {"column": "b", "direction": "-", "weight": 0.1}]),
             ("s2", [{"column": "c", "direction": "+", "weight": 0.3},
                     {"column": "d", "direction": "+", "weight": 0.2}]))
    r = build_index(small_panel(), s, weights="fixed")
    np.testing.assert_allclose(r.weight, [0.4, 0.1, 0.3, 0.2])
    np.testing.assert_allclose(r.subsystem_weights, [0.5, 0.5])
    with pytest.raises(SpecificationError, match="no 'weight'"):
        build_index(small_panel(), SYS, weights="fixed")


def test_subsystem_scores_compose_the_index():
    r = build_index(small_panel(), SYS)
    np.testing.assert_allclose((r.U * r.subsystem_weights).sum(axis=1), r.score, atol=1e-12)
    assert r.weights.groupby("subsystem")["weight_within"].sum().round(12).eq(1).all()
    assert list(r.weights_table("zh").columns)[:2] == ["子系统", "指标"]
    assert list(r.weights_table("en").columns)[:2] == ["subsystem", "indicator"]
    np.testing.assert_allclose(r.transform(small_panel()), r.score, atol=1e-12)


def test_weight_options_and_combinations():
    d = small_panel()
    for w in ["entropy", "critic", "cv", "equal", ["entropy", "critic"], ["entropy", "cv"]]:
        r = build_index(d, SYS, weights=w)
        assert abs(r.weight.sum() - 1) < 1e-12 and (r.weight >= 0).all()
    lin = build_index(d, SYS, weights=["entropy", "critic"], combine="linear", alpha=0.3).weight
    e = build_index(d, SYS, weights="entropy").weight
    c = build_index(d, SYS, weights="critic").weight
    np.testing.assert_allclose(lin, 0.3 * e + 0.7 * c)
    with pytest.raises(SpecificationError, match="sum to"):
        build_index(d, SYS, weights={"a": 0.5, "b": 0.5, "c": 0.5, "d": 0.5})
    with pytest.raises(SpecificationError, match="weights="):
        build_index(d, SYS, weights="ahp")
    with pytest.raises(SpecificationError, match="linearly"):
        combine_weights([e, e], "game")


def test_constant_and_all_missing_columns():
    d = small_panel().assign(d=3.0)
    with pytest.warns(ConstantColumnWarning, match="'?d'?"):
        r = build_index(d, SYS)
    assert r.weight["d"] == 0.0
    with pytest.raises(MissingValueError, match="entirely missing"):
        build_index(small_panel().assign(d=np.nan), SYS)
    with pytest.raises(MissingValueError, match="entirely missing"):
        entropy_weights(pd.DataFrame({"x": [np.nan, np.nan], "y": [0.1, 0.2]}))


def test_cv_rejects_negative_and_vector_topsis_rejects_moderate():
    with pytest.raises(NegativeValueError):
        cv_weights(pd.DataFrame({"x": [-1.0, 2.0, 3.0], "y": [1.0, 2.0, 4.0]}))
    with pytest.raises(SpecificationError, match="moderate"):
        topsis_vector(pd.DataFrame({"x": [1.0, 2.0]}), pd.Series({"x": 1.0}), {"x": "moderate"})


def test_per_year_scope_warns_on_panel():
    with pytest.warns(PerYearScopeWarning, match="NOT comparable"):
        build_index(small_panel(), SYS, scope="year")
    with warnings.catch_warnings():
        warnings.simplefilter("error", PerYearScopeWarning)
        build_index(small_panel(years=(2020,)), SYS, scope="year")  # one cross-section: no warning


# ---- keys and missing cells ---------------------------------------------------------------------
def test_duplicate_keys():
    d = small_panel()
    with pytest.raises(DuplicateKeyError, match="110100/2018"):
        build_index(pd.concat([d, d.iloc[[0]]], ignore_index=True), SYS)


def test_missing_cells_raise_with_columns_rows_and_fix():
    d = small_panel()
    d.loc[[1, 7], "b"] = np.nan
    d.loc[4, "c"] = np.nan
    with pytest.raises(MissingValueError) as exc:
        build_index(d, SYS)
    msg = str(exc.value)
    for part in ["b (2)", "c (1)", "110100/2019", "110102/2019", "analysis.panel.interpolate",
                 "missing='interpolate'", "missing='drop'"]:
        assert part in msg


def test_missing_drop_and_interpolate_report_counts():
    d = small_panel()
    d.loc[[1, 7], "b"] = np.nan      # interior gaps (2019 between 2018 and 2020)
    d.loc[3, "c"] = np.nan           # county 110101, 2018: leading edge
    d.loc[[12, 13, 14], "d"] = np.nan  # county 110104 has no d at all
    r = build_index(d, SYS, missing="drop")
    assert (r.rows.n_input, r.rows.n_used, r.rows.n_dropped) == (18, 12, 6)
    assert integration_index(d, SYS, missing="drop").isna().sum() == 6
    r = build_index(d, SYS, missing="interpolate")
    rep = r.settings["missing_report"]
    assert rep["cells_missing"] == {"b": 2, "c": 1, "d": 3}
    assert rep["interpolated"]["b"] == 2 and rep["edge_filled"]["c"] == 1
    assert r.rows.n_dropped == 3 and r.rows.n_used == 15
    s = integration_index(d, SYS, missing="interpolate")
    assert s.index.equals(d.index) and s.isna().sum() == 3 and s.name == "integration_index"
    # the same as interpolating first with analysis.panel.interpolate, then dropping what is left
    from analysis.panel import interpolate

    filled = interpolate(d, ["a", "b", "c", "d"])
    assert filled.loc[1, "b"] == pytest.approx((d.loc[0, "b"] + d.loc[2, "b"]) / 2)
    s2 = integration_index(filled, SYS, missing="drop")
    pd.testing.assert_series_equal(s, s2)


def test_topsis_method_in_unit_interval():
    r = build_index(small_panel(), SYS, method="topsis")
    assert r.score.between(0, 1).all() and r.U.stack().between(0, 1).all()
    rv = build_index(small_panel(), SYS, method="topsis", topsis_variant="vector")
    assert rv.score.between(0, 1).all()


def test_unknown_indicator_key_hints_at_commas():
    bad = spec(("s1", [{"column": "a", "direction": "+", "000": None}]))
    with pytest.raises(SpecificationError, match="quote values that contain commas"):
        load_system(bad)


def test_transform_fixed_index_for_counterfactuals():
    """transform() scores other data with the same bounds and weights (a fixed index)."""
    d = small_panel()
    for method in ["weighted_sum", "topsis"]:
        r = build_index(d, SYS, method=method)
        np.testing.assert_allclose(r.transform(d), r.score, atol=1e-12)
        better = d.assign(a=d["a"] + 1.0)  # a "+" indicator improves everywhere
        assert (r.transform(better) >= r.score - 1e-12).all()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ry = build_index(d, SYS, scope="year")
    with pytest.raises(SpecificationError, match="pooled"):
        ry.transform(d)


def test_obstacles_per_year_weights():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = build_index(small_panel(), SYS, scope="year")
        o = r.obstacles(top_k=2)
    np.testing.assert_allclose(o.indicator.sum(axis=1, min_count=1).dropna(), 1.0)
    assert set(o.top.columns) >= {"county", "year", "rank", "indicator", "obstacle", "tied", "subsystem"}
