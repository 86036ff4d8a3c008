"""Rebuild docs/validation.csv: CountyFusion against published numbers on public data.

Each row reruns one comparison of the test suite (same data, same options) and records the
largest absolute difference between our numbers and the published ones, beside the tolerance the
test enforces. Published values come from ``tests/reference/`` (each file names its source).

    .venv/bin/python scripts/validation_table.py       # writes docs/validation.csv
"""
from __future__ import annotations

import csv
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
REF = ROOT / "tests" / "reference"
FIELDS = ["estimator", "function", "source", "data", "n_values", "max_abs_diff", "tolerance"]


def _num(s) -> pd.Series:
    return pd.to_numeric(pd.Series(s), errors="coerce")


def grunfeld_within():
    from analysis.datasets import load_reference
    from analysis.regression import fe

    ref = pd.read_csv(REF / "regression" / "grunfeld_plm.csv").query("model == 'within'")
    res = fe("inv ~ value + capital", load_reference("grunfeld"), entity="firm", fe="firm",
             vcov="iid")
    d = [abs(res.params[r.term] - r.estimate) for r in ref.itertuples()]
    d += [abs(res.std_errors[r.term] - r.std_error) for r in ref.itertuples()]
    return dict(estimator="Within (one-way FE) regression, coefficients and SEs",
                function="analysis.regression.fe", source=ref["source"].iloc[0],
                data="Grunfeld (1958), 10 firms x 20 years", values=d,
                tolerance="half a unit of the last printed digit")


def produc_within():
    from analysis.datasets import load_reference
    from analysis.regression import fe

    ref = pd.read_csv(REF / "regression" / "produc_plm.csv").query("model == 'within'")
    fml = "np.log(gsp) ~ np.log(pcap) + np.log(pc) + np.log(emp) + unemp"
    res = fe(fml, load_reference("produc"), entity="state", fe="state", vcov="iid")
    names = {"log(pcap)": "np.log(pcap)", "log(pc)": "np.log(pc)", "log(emp)": "np.log(emp)",
             "unemp": "unemp"}
    d = [abs(res.params[names[r.term]] - r.estimate) for r in ref.itertuples()]
    d += [abs(res.std_errors[names[r.term]] - r.std_error) for r in ref.itertuples()]
    return dict(estimator="Within regression of the Munnell (1990) production function",
                function="analysis.regression.fe", source=ref["source"].iloc[0],
                data="Produc, 48 US states x 17 years", values=d,
                tolerance="half a unit of the last printed digit")


def grunfeld_hausman():
    from analysis.datasets import load_reference
    from analysis.regression import hausman

    ref = pd.read_csv(REF / "regression" / "grunfeld_hausman_plm.csv").iloc[0]
    res = hausman("inv ~ value + capital", load_reference("grunfeld"), entity="firm",
                  method=("classic",))
    row = res.tests.iloc[0]
    return dict(estimator="Hausman test (classic)", function="analysis.regression.hausman",
                source=ref["source"], data="Grunfeld (1958)",
                values=[abs(row.statistic - ref.statistic), abs(row.p_value - ref.p_value)],
                tolerance="half a unit of the last printed digit")


def bacon_castle():
    from analysis.datasets import load_reference
    from analysis.did import bacon_decomposition

    ref = pd.read_csv(REF / "did" / "bacon_castle.csv")
    d = load_reference("castle")[["sid", "year", "l_homicide", "post"]].copy()
    first_post = d.loc[d["post"] == 1].groupby("sid")["year"].min()
    d["adoption"] = d["sid"].map(first_post - 1)
    d["post_effective"] = ((d["year"] >= d["adoption"]) & d["adoption"].notna()).astype(int)
    res = bacon_decomposition(d, "l_homicide", "post_effective", entity="sid")
    by = res.by_type().set_index("type")
    diffs = []
    for r in ref.itertuples():
        if r.quantity in ("weight", "avg_est"):
            ours = by.loc[r.type, r.quantity]
        elif r.quantity == "weighted_sum":
            ours = res.weighted_sum()
        else:
            ours = res.twfe
        diffs.append(abs(ours - r.value))
    return dict(estimator="Goodman-Bacon (2021) decomposition", function=
                "analysis.did.bacon_decomposition", source=ref["source"].iloc[0],
                data="castle doctrine (Cheng & Hoekstra 2013)", values=diffs,
                tolerance="printed precision (4-5 decimals)")


def cs_mpdta():
    from analysis.datasets import load_reference
    from analysis.did import callaway_santanna

    ref = pd.read_csv(REF / "did" / "cs_mpdta_dripw_csdid.csv")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        r = callaway_santanna(load_reference("mpdta"), "lemp", "first.treat", entity="countyreal",
                              time="year", covariates=["lpop"], method="dr")
    a = ref[ref["table"] == "att_gt"]
    ours = r.att_gt.set_index(["group", "time"]).loc[
        list(zip(a["group"].astype(int), a["time"].astype(int)))]
    diffs = list(np.abs(ours["att"].to_numpy() - a["estimate"].astype(float).to_numpy()))
    diffs += list(np.abs(ours["std_error"].to_numpy() - a["std_error"].astype(float).to_numpy()))
    return dict(estimator="Callaway & Sant'Anna (2021) ATT(g,t), doubly robust, with SEs",
                function="analysis.did.callaway_santanna", source=a["source"].iloc[0],
                data="mpdta (Callaway & Sant'Anna 2021), 500 counties x 5 years", values=diffs,
                tolerance="half a unit of the 7th decimal")


def splm_produc():
    sys.path.insert(0, str(ROOT / "tests"))
    from _spatial_support import PRODUC_X, produc_and_w

    from analysis.spatial import as_spatial_weights, spatial_panel

    d, w = produc_and_w()
    w = as_spatial_weights(w)
    ref = pd.read_csv(REF / "spatial" / "splm_produc_within.csv")
    diffs = []
    for model in ("sar", "sem"):
        part = ref.query("model == @model").set_index("term")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            r = spatial_panel(d, "ln_gsp", PRODUC_X, w, model=model, effects="entity",
                              lee_yu=False, entity="state", n_draws=0)
        diffs += list(np.abs(r.params[part.index] - part["estimate"]))
        diffs += list(np.abs(r.std_errors[part.index] - part["std_error"]))
    return dict(estimator="Spatial panel SAR and SEM, entity FE (ML)",
                function="analysis.spatial.spatial_panel", source=ref["source"].iloc[0],
                data="Produc with US state contiguity", values=diffs, tolerance="5e-7")


def wang_table8():
    from analysis.coupling import coupling_coordination

    ref = pd.read_csv(REF / "indices" / "coupling_wang2021_table8.csv")
    diffs = []
    for _, r in ref.iterrows():
        u = np.array([[r["U_min_implied"], r["U_max_implied"]]])
        for model, col in (("traditional", "C_original"), ("wang", "C_modified")):
            c = coupling_coordination(u, model=model, warn=False).C.iloc[0]
            diffs.append(abs(c - r[col]))
    return dict(estimator="Coupling degree, traditional and Wang et al. (2021) corrected",
                function="analysis.coupling.coupling_coordination",
                source="Wang, Kong, Ren, Zhi & Dai (2021), 自然资源学报 36(3):793-810, Table 8",
                data="Table 8's examples, with U as implied to 3 decimals", values=diffs,
                tolerance="difference here comes from U rounded to 3 decimals; the test "
                          "back-solves U exactly and matches both C to 1e-9")


def synthdid_prop99():
    import synthdid.datasets as sd_data

    from analysis.did.synthetic_did import synthetic_did

    ref = pd.read_csv(REF / "did" / "synthdid_prop99.csv").query("quantity == 'estimate'")
    df = sd_data.load_california_prop99().rename(
        columns={"State": "state", "Year": "year", "PacksPerCapita": "packs"})
    d = []
    for r in ref.itertuples():
        res = synthetic_did(df, "packs", "treated", entity="state", time="year", method=r.estimator, se="none")
        d.append(abs(res["ATT"] - r.value))
    return dict(estimator="Synthetic DiD, synthetic control and DiD point estimates",
                function="analysis.did.synthetic_did",
                source="Arkhangelsky, Athey, Hirshberg, Imbens and Wager (2021) AER 111(12), Table 1 "
                       "(California Proposition 99: SDID -15.6, SC -19.6, DID -27.3); R synthdid README",
                data="California Proposition 99, 39 states x 31 years", values=d,
                tolerance="half a unit of the last printed digit (0.05)")


def geodetector_disease():
    from importlib import resources

    from analysis.disparity import factor_detector

    ref = pd.read_csv(REF / "disparity" / "geodetector_disease.csv").query("lambda_var_ddof == 0")
    disease = pd.read_csv(resources.files("geodetector") / "dataset" / "data" / "disease.csv", encoding="utf-8-sig")
    d = []
    for r in ref.itertuples():
        out = factor_detector(disease, "incidence", [r.factor], pvalue=r.pvalue_method,
                              lambda_var_ddof=int(r.lambda_var_ddof)).iloc[0]
        d += [abs(out["q"] - r.q), abs(out["p_value"] - r.p_value)]
    return dict(estimator="Geographical detector: factor detector q and p-value",
                function="analysis.disparity.factor_detector",
                source="Wang et al. (2010) geographical detector; CRAN geodetector demo data (CollectData) as "
                       "printed in the PyPI geodetector 0.2.0 README (q 0.3857 / 0.6378 / 0.6067)",
                data="neural-tube defects demo data (CRAN geodetector CollectData)", values=d,
                tolerance="printed precision (q 5e-5, p 5e-7)")


def hansen_threshold():
    from analysis.regression.threshold import threshold

    ref = pd.read_csv(REF / "threshold" / "hansen1999_tables.csv").set_index("quantity")
    a = np.loadtxt(REF / "threshold" / "hansen1999" / "invest.dat")
    df = pd.DataFrame(a, columns=["i", "q", "c", "d"])
    df["firm"] = np.repeat(np.arange(565), 15)
    df["year"] = np.tile(np.arange(1973, 1988), 565)
    df[["q1", "c1", "d1"]] = df.groupby("firm")[["q", "c", "d"]].shift(1).to_numpy()
    df = df.dropna().reset_index(drop=True)
    df["q2"], df["q3"], df["qd1"] = df.q1**2, df.q1**3, df.q1 * df.d1
    res = threshold(df, "i", "d1", "c1", n_thresholds=2, transform="hansen", controls=["q1", "q2", "q3", "d1", "qd1"],
                    entity="firm", time="year", n_draws=0, vcov="iid")
    got = {"gamma1_single": res.threshold_table.estimate.iloc[0], "F1": res.f_table.F.iloc[0],
           "gamma2_double": res.threshold_table.set_index("stage").loc["Th-22", "estimate"],
           "F2": res.f_table.F.iloc[1]}
    return dict(estimator="Panel threshold regression (single and double threshold, F statistics)",
                function="analysis.regression.threshold",
                source="Hansen (1999), Threshold effects in non-dynamic panels, J. Econometrics 93: 345-368, "
                       "Tables 2-3 (gamma 0.0157 and 0.5362; F 32.6 and 25.8)",
                data="Hansen (1999) investment panel, 565 firms x 14 years", values=[abs(got[k] - r.value) for k, r in ref.iterrows()],
                tolerance="half a unit of the last printed digit (gamma 5e-5, F 0.05)")


CHECKS = [grunfeld_within, produc_within, grunfeld_hausman, bacon_castle, cs_mpdta, splm_produc,
          wang_table8, synthdid_prop99, geodetector_disease, hansen_threshold]


def main() -> int:
    rows = []
    for check in CHECKS:
        out = check()
        values = np.asarray(out.pop("values"), dtype=float)
        rows.append({**out, "source": str(out["source"]).replace("|", "/"),
                     "n_values": len(values), "max_abs_diff": f"{np.nanmax(values):.3e}"})
        print(f"{rows[-1]['estimator']}: {rows[-1]['n_values']} values, max |diff| "
              f"{rows[-1]['max_abs_diff']}")
    path = ROOT / "docs" / "validation.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, FIELDS)
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
