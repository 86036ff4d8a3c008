"""Benchmark: Callaway-Sant'Anna ATT(g,t) with 999 multiplier-bootstrap draws, ours vs ``csdid``.

Same data (the shipped SIMULATED county panel: ~2,850 counties x 13 years, digital-pilot cohorts
2014/2016/2018/2020 on ``nonfarm_emp_share``), same specification (never-treated controls, doubly
robust, varying base period, no covariates and then ``population`` as covariate, 999 Mammen draws
with uniform bands), timed in one run; prints the ratio csdid / ours (> 1 means ours is faster)
and the largest ATT(g,t) difference as a sanity check.

Run: ``.venv/bin/python benchmarks/bench_cs.py`` (not part of pytest).
"""
from __future__ import annotations

import time
import warnings

import numpy as np
import pandas as pd


def _panel() -> pd.DataFrame:
    from analysis.datasets import load_county_panel

    try:
        return load_county_panel()
    except Exception as exc:  # the shipped file is missing: simulate it (slower, same DGP)
        print(f"(load_county_panel failed: {exc}; simulating the panel instead)")
        from analysis.simulate import county_panel

        return county_panel()[0]


def _best(fn, repeat: int = 3) -> tuple[float, object]:
    best, out = np.inf, None
    for _ in range(repeat):
        t0 = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t0)
    return best, out


def main(repeat: int = 3, biters: int = 999) -> pd.DataFrame:
    from csdid.att_gt import ATTgt

    from analysis.did.callaway_santanna import callaway_santanna

    panel = _panel()
    df = panel[["county", "year", "nonfarm_emp_share", "digital_pilot_year", "population"]].copy()
    df["gvar"] = df["digital_pilot_year"].astype("Float64").fillna(0).astype(float)
    df["cid"] = pd.factorize(df["county"])[0] + 1  # csdid wants a numeric id
    print(f"panel: {df['county'].nunique()} counties x {df['year'].nunique()} years, cohorts "
          f"{sorted(int(g) for g in df['gvar'].unique() if g > 0)}; {biters} bootstrap draws")
    rows = []
    for label, covs in (("no covariates", []), ("covariate: population", ["population"])):
        def ours():
            return callaway_santanna(df, "nonfarm_emp_share", "gvar", entity="cid", time="year", controls=covs,
                                     method="dr", n_draws=biters, seed=1)

        def peer():
            m = ATTgt(yname="nonfarm_emp_share", tname="year", idname="cid", gname="gvar", data=df,
                      control_group=["nevertreated"], xformla=("nonfarm_emp_share ~ " + " + ".join(covs)) if covs else None,
                      cband=True, biters=biters)
            return m.fit(est_method="dr", base_period="varying", bstrap=True)

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t_ours, r_ours = _best(ours, repeat)
            t_peer, r_peer = _best(peer, repeat)
        try:
            peer_att = np.asarray(r_peer.results["att"], dtype=float)
        except Exception:
            peer_att = None
        diff = np.nan
        if peer_att is not None and len(peer_att) == len(r_ours.att_gt):
            diff = float(np.nanmax(np.abs(peer_att - r_ours.att_gt["att"].to_numpy())))
        rows.append({"specification": label, "ours_s": t_ours, "csdid_s": t_peer, "ratio_csdid_over_ours": t_peer / t_ours,
                     "max_abs_att_diff": diff})
        print(f"{label:>24}: ours {t_ours:7.3f} s | csdid {t_peer:7.3f} s | ratio csdid/ours {t_peer / t_ours:6.1f}x"
              f" | max |ATT diff| {diff:.2e}")
    return pd.DataFrame(rows)


if __name__ == "__main__":
    main()
