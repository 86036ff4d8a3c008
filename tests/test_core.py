"""Shared building blocks: fixed-effects demeaning, the result type, row accounting, errors."""
import importlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.demean import FixedEffects
from analysis.errors import CountyFusionError, MissingValueError, SpecificationError, check_choice, describe_rows
from analysis.results import EstimationResult, RowReport


def _lsdv_residuals(x, factors):
    """Independent implementation: OLS on explicit dummies."""
    dummies = [pd.get_dummies(factors[c], drop_first=i > 0, dtype=float) for i, c in enumerate(factors)]
    d = np.column_stack(dummies)
    beta, *_ = np.linalg.lstsq(d, x, rcond=None)
    return x - d @ beta


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 10_000), st.integers(1, 3), st.booleans())
def test_demean_equals_dummy_regression(seed, n_fe, balanced):
    rng = np.random.default_rng(seed)
    if balanced:
        n_i, n_t = 12, 5
        factors = pd.DataFrame({"i": np.repeat(np.arange(n_i), n_t), "t": np.tile(np.arange(n_t), n_i)})
        if n_fe == 3:
            factors["g"] = factors["i"] % 3
        factors = factors.iloc[:, : max(n_fe, 1)]
    else:
        n = 80
        factors = pd.DataFrame({f"f{j}": rng.integers(0, 6 + 3 * j, n) for j in range(n_fe)})
    x = rng.normal(size=(len(factors), 2))
    ours = FixedEffects(factors).demean(x)
    np.testing.assert_allclose(ours, _lsdv_residuals(x, factors), atol=1e-8)


def test_demean_matches_pyfixest():
    pyfixest_demean = importlib.import_module("pyfixest.estimation").demean
    rng = np.random.default_rng(1)
    f = pd.DataFrame({"a": rng.integers(0, 40, 600), "b": rng.integers(0, 9, 600)})
    x = rng.normal(size=(600, 3))
    theirs, _ = pyfixest_demean(x, f.to_numpy().astype(np.uint64), np.ones(600), tol=1e-13)
    np.testing.assert_allclose(FixedEffects(f).demean(x), theirs, atol=1e-10)


def test_demean_rejects_missing_levels():
    with pytest.raises(MissingValueError, match="missing"):
        FixedEffects(pd.DataFrame({"a": [1, None, 2]}))


def test_row_report_must_add_up():
    r = RowReport(n_input=10, n_used=7, dropped={"missing y": 2, "singleton county": 1})
    assert r.n_dropped == 3 and "dropped 3" in str(r)
    with pytest.raises(AssertionError):
        RowReport(n_input=10, n_used=8, dropped={"missing y": 1})


def test_result_tidy_frame_and_inference():
    res = EstimationResult(params=pd.Series({"x": 2.0}), std_errors=pd.Series({"x": 1.0}), df_resid=None)
    row = res.to_frame().iloc[0]
    assert list(res.to_frame().columns) == ["term", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]
    assert row["statistic"] == pytest.approx(2.0)
    assert row["p_value"] == pytest.approx(0.0455002638963584, abs=1e-12)  # 2*(1-Phi(2))
    assert row["ci_low"] == pytest.approx(2.0 - 1.959963984540054, abs=1e-12)


def test_errors_are_value_errors_and_name_rows():
    assert issubclass(SpecificationError, CountyFusionError) and issubclass(CountyFusionError, ValueError)
    assert describe_rows(range(20), limit=3) == "rows 0, 1, 2 and 17 more"
    with pytest.raises(SpecificationError, match="'a', 'b'"):
        check_choice("model", "c", ("a", "b"))
