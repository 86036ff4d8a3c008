"""Specification curves of the land-reform effect on the simulated panel.

Times, in one run:
1. 960 TWFE specifications (index weights x scope x method, controls, samples, clustering, FE sets):
   ours with one worker and with two workers (joblib), shared work done once; and fitting each
   specification from scratch (build the index with its settings, call analysis.regression.fe,
   pyfixest underneath), timed on a random sample of specifications and extrapolated (said below);
2. 240 mixed specifications, half of them Callaway-Sant'Anna (the expensive ones, where parallel
   workers pay off): one worker against two.
Prints the time per specification, the ratio against from-scratch fitting, and the speed-ups from one
to two workers.
"""
from __future__ import annotations

import time

import numpy as np

from analysis.datasets import load_county_panel
from analysis.regression import fe
from analysis.robustness import expand_grid, specification_curve
from analysis.robustness.curve import default_index_builder


def setup():
    panel = load_county_panel()
    panel["log_population"] = np.log(panel["population"])
    base = {
        "outcome": "index", "index.weights": "entropy", "index.scope": "pooled", "index.method": "weighted_sum",
        "treatment": "land_reform", "controls": "baseline", "sample": "full", "fe": ("county", "year"),
        "cluster": "county", "estimator": "twfe",
        "control_sets": {"none": (), "baseline": ("loans_gdp", "fiscal_selfsuff"),
                         "full": ("loans_gdp", "fiscal_selfsuff", "log_population", "digital_gov")},
        "samples": {"full": None, "no_districts": "county_type != 'district'", "end_2019": "year <= 2019",
                    "no_zones": "integration_zone == 0", "east_central": "region in ['east', 'central']"},
    }
    variations = {"index.weights": ["entropy", "critic", "cv", "equal"], "index.scope": ["pooled", "year"],
                  "index.method": ["weighted_sum", "topsis"], "controls": ["none", "baseline", "full"],
                  "sample": list(base["samples"]), "cluster": ["county", "province"],
                  "fe": [("county", "year"), ("county", "province^year")]}
    return panel, base, variations


def from_scratch(panel, base, spec):
    c = spec.choices
    data = panel if base["samples"][c["sample"]] is None else panel.query(base["samples"][c["sample"]])
    y = default_index_builder(panel, weights=c["index.weights"], scope=c["index.scope"], method=c["index.method"])
    data = data.assign(uri=y[panel.index.get_indexer(data.index)])
    rhs = " + ".join(["land_reform", *base["control_sets"][c["controls"]]])
    return fe(f"uri ~ {rhs}", data, fe=c["fe"], cluster=c["cluster"]).params["land_reform"]


def main():
    panel, base, variations = setup()
    n = len(expand_grid(base, variations))
    t0 = time.perf_counter()
    one = specification_curve(panel, base, variations, n_jobs=1, progress=False)
    t_one = time.perf_counter() - t0
    t0 = time.perf_counter()
    two = specification_curve(panel, base, variations, n_jobs=2, backend="loky", progress=False)
    t_two = time.perf_counter() - t0
    assert one.table.equals(two.table), "one and two workers disagree"
    specs = expand_grid(base, variations)
    rng = np.random.default_rng(0)
    sample = rng.choice(len(specs), size=12, replace=False)
    t0 = time.perf_counter()
    for i in sample:
        est = from_scratch(panel, base, specs[i])
        ours = one.table.loc[one.table["number"] == specs[i].number, "estimate"].iloc[0]
        assert abs(est - ours) < 1e-9, (i, est, ours)
    t_scratch = (time.perf_counter() - t0) / len(sample) * n
    print(f"specifications: {n} ({one.settings['groups']} shared-work groups)")
    print(f"ours, 1 worker : {t_one:7.1f} s  ({t_one / n * 1000:.1f} ms per specification)")
    print(f"ours, 2 workers: {t_two:7.1f} s  ({t_two / n * 1000:.1f} ms per specification)")
    print(f"from scratch   : {t_scratch:7.1f} s  (index + analysis.regression.fe per specification; "
          f"{len(sample)} specifications timed and extrapolated to {n})")
    print(f"RATIO spec_curve_vs_scratch: {t_scratch:.1f} / {t_one:.1f} = {t_scratch / t_one:.1f}x")
    print(f"RATIO spec_curve_two_vs_one_worker (TWFE only): {t_one:.1f} / {t_two:.1f} = {t_one / t_two:.2f}x")

    mixed = {"index.weights": ["entropy", "critic", "cv", "equal"], "controls": ["none", "baseline", "full"],
             "sample": list(base["samples"]), "cluster": ["county", "province"],
             "estimator": ["twfe", "callaway_santanna"]}
    base_cs = {**base, "adoption": "land_reform_year"}
    n_mixed = len(expand_grid(base_cs, mixed))
    t0 = time.perf_counter()
    m1 = specification_curve(panel, base_cs, mixed, n_jobs=1, progress=False)
    t_m1 = time.perf_counter() - t0
    t0 = time.perf_counter()
    m2 = specification_curve(panel, base_cs, mixed, n_jobs=2, backend="loky", progress=False)
    t_m2 = time.perf_counter() - t0
    assert m1.table.equals(m2.table), "one and two workers disagree (mixed)"
    print(f"mixed TWFE + Callaway-Sant'Anna: {n_mixed} specifications; 1 worker {t_m1:.1f} s "
          f"({t_m1 / n_mixed * 1000:.0f} ms each), 2 workers {t_m2:.1f} s")
    print(f"RATIO spec_curve_two_vs_one_worker (with CS): {t_m1:.1f} / {t_m2:.1f} = {t_m1 / t_m2:.2f}x")


if __name__ == "__main__":
    main()
