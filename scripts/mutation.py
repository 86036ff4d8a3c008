"""Mutation testing of the core numeric modules with mutmut (``make mutation``).

Each module is mutated on its own and its mutants are run only against the tests that cover it
(the table ``MODULES`` below), in a scratch copy of the project under ``build/mutation/<name>``
(mutmut 3 reads its settings from ``pyproject.toml``, so every module gets its own).
The score (killed / (killed + survived), timeouts counted as killed, "no tests" as survived) is
printed and appended to ``build/mutation/scores.tsv``; record it in ``tests/README.md`` with the
review of the survivors (killed by a new test, or equivalent with a one-line reason).

Usage::

    python scripts/mutation.py                     # every module in MODULES (hours on 2 cores)
    python scripts/mutation.py coupling fe         # only these
    MUTATION_CHILDREN=2 python scripts/mutation.py coupling
    MUTATION_ONLY='analysis.regression.wild_bootstrap.x_draw_weights*' python scripts/mutation.py wild_bootstrap
        (only the mutants whose names match these space-separated glob patterns;
        MUTATION_TESTS='tests/x.py::test_y ...' replaces the module's test selection)
    MUTATION_SAMPLE=80 python scripts/mutation.py event_study
        (a seeded random sample of 80 mutants, MUTATION_SEED to change it; the score is then an
        estimate, printed with its Wilson 95% interval: random mutant sampling estimates the full
        score without bias, Acree et al. 1979; L. Zhang, Hou, Hu, Xie & Mei 2010, ICSE "Is operator-based mutant
        selection superior to random mutant selection?")

Decorated functions are rewritten in the scratch copy so that mutmut mutates them (:func:`undecorate`).
"""
from __future__ import annotations

import ast
import fnmatch
import math
import os
import random
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "build" / "mutation"

#: name -> (module to mutate, tests that cover it)
MODULES: dict[str, tuple[str, list[str]]] = {
    "coupling": ("analysis/coupling.py", ["tests/test_coupling.py", "tests/test_mutation_coupling.py"]),
    "fe": ("analysis/regression/fe.py",
           ["tests/test_mutation_fe.py", "tests/test_regression_fe.py", "tests/test_bad_input.py",
            "tests/test_mutation_regression.py"]),
    "vcov": ("analysis/regression/vcov.py", ["tests/test_mutation_vcov.py", "tests/test_regression_fe.py"]),
    "wild_bootstrap": ("analysis/regression/wild_bootstrap.py",
                       ["tests/test_regression_wild_bootstrap.py", "tests/test_mutation_regression.py"]),
    "did_common": ("analysis/did/_common.py",
                   ["tests/test_did_event_bacon.py", "tests/test_bad_input.py", "tests/test_mutation_did_core.py"]),
    "event_study": ("analysis/did/event_study.py",
                    ["tests/test_did_event_bacon.py", "tests/test_mutation_did_core.py",
                     "tests/test_mutation_did_confirm.py"]),
    "cs_estimation": ("analysis/did/callaway_santanna/estimation.py",
                     ["tests/test_did_cs.py", "tests/test_mutation_did_modern.py"]),
    "cs_two_by_two": ("analysis/did/callaway_santanna/two_by_two.py",
                     ["tests/test_did_cs.py", "tests/test_mutation_did_modern.py",
                      "tests/test_mutation_did_confirm.py"]),
    "cs_aggregation": ("analysis/did/callaway_santanna/aggregation.py",
                      ["tests/test_did_cs.py", "tests/test_mutation_did_modern.py"]),
    "cs_bootstrap": ("analysis/did/callaway_santanna/bootstrap.py",
                    ["tests/test_did_cs.py", "tests/test_mutation_did_modern.py"]),
    "cs_results": ("analysis/did/callaway_santanna/results.py",
                  ["tests/test_did_cs.py", "tests/test_mutation_did_modern.py"]),
    "sun_abraham": ("analysis/did/sun_abraham.py",
                    ["tests/test_did_sa_imputation.py", "tests/test_mutation_did_modern.py"]),
    "imputation": ("analysis/did/imputation.py",
                   ["tests/test_did_sa_imputation.py", "tests/test_mutation_did_modern.py"]),
    "bacon": ("analysis/did/bacon.py", ["tests/test_did_event_bacon.py", "tests/test_mutation_did_core.py"]),
    "did_treatment": ("analysis/did/_treatment.py",
                      ["tests/test_vocabulary.py", "tests/test_did_event_bacon.py", "tests/test_mutation_did_core.py"]),
    "did_compare": ("analysis/did/compare.py",
                    ["tests/test_did_event_bacon.py", "tests/test_did_sa_imputation.py",
                     "tests/test_mutation_did_core.py"]),
    "placebo": ("analysis/did/placebo.py", ["tests/test_did_placebo.py", "tests/test_mutation_did_core.py",
                                         "tests/test_mutation_did_confirm.py"]),
    "long_difference": ("analysis/did/long_difference.py",
                        ["tests/test_did_long_difference.py", "tests/test_mutation_did_core.py"]),
    "honest": ("analysis/did/honest.py", ["tests/test_did_honest.py", "tests/test_mutation_did_modern.py"]),
    "psm": ("analysis/did/psm.py", ["tests/test_did_psm.py", "tests/test_mutation_did_designs.py",
                                 "tests/test_mutation_did_confirm.py"]),
    "ddd": ("analysis/did/ddd.py", ["tests/test_did_ddd.py", "tests/test_mutation_did_designs.py"]),
    "synthetic_did": ("analysis/did/synthetic_did.py",
                     ["tests/test_did_synthetic.py", "tests/test_mutation_did_designs.py"]),
    "synth_core": ("analysis/did/_synth_core.py",
                  ["tests/test_did_synthetic.py", "tests/test_mutation_did_designs.py"]),
    "synthetic_control": ("analysis/did/synthetic_control.py",
                         ["tests/test_did_synthetic.py", "tests/test_mutation_did_designs.py"]),
    "autocorrelation": ("analysis/spatial/autocorrelation.py",
                        ["tests/test_mutation_spatial.py", "tests/test_spatial_autocorrelation.py",
                         "tests/test_bad_input.py"]),
    "spatial_weights": ("analysis/spatial/weights.py",
                        ["tests/test_spatial_weights.py", "tests/test_mutation_spatial.py"]),
    "panel_models": ("analysis/spatial/panel_models.py",
                     ["tests/test_spatial_panel.py", "tests/test_spatial_recovery.py",
                      "tests/test_spatial_published.py"]),
    "sac_panel": ("analysis/spatial/sac_panel.py", ["tests/test_spatial_panel.py", "tests/test_mutation_spatial.py"]),
    "spatial_effects": ("analysis/spatial/effects.py",
                        ["tests/test_spatial_panel.py", "tests/test_spatial_recovery.py",
                         "tests/test_mutation_spatial.py"]),
    "lm_tests": ("analysis/spatial/lm_tests.py", ["tests/test_spatial_lm.py", "tests/test_mutation_spatial.py"]),
    "spatial_did": ("analysis/spatial/spatial_did.py",
                   ["tests/test_spatial_did.py", "tests/test_mutation_did_designs.py"]),
    "mediation": ("analysis/regression/mediation.py",
                  ["tests/test_regression_mechanisms.py", "tests/test_mediation_multiple.py",
                   "tests/test_mutation_regression.py"]),
    "moderation": ("analysis/regression/moderation.py",
                   ["tests/test_regression_mechanisms.py", "tests/test_mutation_regression.py"]),
    "heterogeneity": ("analysis/regression/heterogeneity.py",
                      ["tests/test_regression_mechanisms.py", "tests/test_mutation_regression.py"]),
    "hausman": ("analysis/regression/hausman.py",
                ["tests/test_regression_hausman.py", "tests/test_mutation_regression.py"]),
    "regression_sample": ("analysis/regression/_sample.py",
                          ["tests/test_regression_fe.py", "tests/test_bad_input.py",
                           "tests/test_mutation_regression.py"]),
    "threshold_estimate": ("analysis/regression/threshold/_estimate.py",
                           ["tests/test_threshold.py", "tests/test_mutation_regression.py"]),
    "threshold_search": ("analysis/regression/threshold/_search.py",
                         ["tests/test_threshold.py", "tests/test_mutation_regression.py"]),
    "threshold_grid": ("analysis/regression/threshold/_grid.py",
                       ["tests/test_threshold.py", "tests/test_mutation_regression.py"]),
    "threshold_inputs": ("analysis/regression/threshold/_inputs.py",
                         ["tests/test_threshold.py", "tests/test_mutation_regression.py"]),
    "threshold_result": ("analysis/regression/threshold/_result.py",
                         ["tests/test_threshold.py", "tests/test_mutation_regression.py"]),
    "threshold_bootstrap": ("analysis/regression/threshold/_bootstrap.py",
                            ["tests/test_threshold.py", "tests/test_mutation_regression.py"]),
    "indicators_weights": ("analysis/indicators/weights.py",
                           ["tests/test_indicators_reference.py", "tests/test_indicators_properties.py",
                            "tests/test_indicators_system.py", "tests/test_mutation_indicators.py"]),
    "normalize": ("analysis/indicators/normalize.py",
                  ["tests/test_indicators_reference.py", "tests/test_indicators_properties.py",
                   "tests/test_indicators_system.py", "tests/test_mutation_indicators.py"]),
    "topsis": ("analysis/indicators/topsis.py",
               ["tests/test_indicators_reference.py", "tests/test_indicators_system.py",
                "tests/test_mutation_indicators.py"]),
    "indicators_index": ("analysis/indicators/index.py",
                         ["tests/test_indicators_system.py", "tests/test_indicators_panel.py",
                          "tests/test_indicators_reference.py", "tests/test_mutation_indicators.py"]),
    "theil": ("analysis/disparity/theil.py", ["tests/test_disparity.py", "tests/test_mutation_disparity.py"]),
    "dagum": ("analysis/disparity/dagum.py", ["tests/test_disparity.py", "tests/test_mutation_disparity.py"]),
    "markov": ("analysis/disparity/markov.py", ["tests/test_disparity.py", "tests/test_mutation_disparity.py"]),
    "convergence": ("analysis/disparity/convergence.py",
                    ["tests/test_disparity.py", "tests/test_mutation_disparity.py"]),
    "indicators_system": ("analysis/indicators/system.py",
                          ["tests/test_indicators_system.py", "tests/test_indicators_panel.py",
                           "tests/test_indicators_reference.py", "tests/test_mutation_indicators.py"]),
    "kde": ("analysis/disparity/kde.py", ["tests/test_disparity.py", "tests/test_mutation_disparity.py"]),
    "spatial_null": ("analysis/disparity/spatial_null.py",
                     ["tests/test_geodetector_spatial.py", "tests/test_mutation_disparity.py"]),
    "geodetector": ("analysis/disparity/geodetector.py",
                    ["tests/test_disparity.py", "tests/test_geodetector_spatial.py",
                     "tests/test_mutation_disparity.py"]),
}


def _pyproject(module: str, tests: list[str], preload: str) -> str:
    sel = ", ".join(f'"{t}"' for t in tests)
    return (
        "[tool.mutmut]\n"
        'source_paths = ["analysis"]\n'
        f'only_mutate = ["{module}"]\n'
        f"pytest_add_cli_args_test_selection = [{sel}]\n"
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x", "-p", "no:randomly", "-m", "not stack_frames"]\n'
        'also_copy = ["data", "tests", "docs"]\n'
        "use_git_change_detection = false\n"
        # Fork server without test collection: forking after collection (which starts polars' and
        # numba's thread pools through pyfixest) left each mutant's child deadlocked until the wall
        # timeout, so mutants were reported as "timeout" (= killed) without a verdict. The fork server
        # pre-imports only thread-free libraries (PRELOAD); each child imports the rest.
        'process_isolation = "forkserver"\n'
        'forkserver_warmup = "import"\n'
        f'preload_modules_file = "{preload}"\n'
        f"timeout_multiplier = {float(os.environ.get('MUTATION_TIMEOUT_MULTIPLIER', '30'))}\n"
        "\n[tool.pytest.ini_options]\n"
        'testpaths = ["tests"]\n'
        'filterwarnings = ["ignore::DeprecationWarning"]\n'
    )


#: modules the fork server imports before forking (no thread pools: not pyfixest, polars, numba)
PRELOAD = ["numpy", "pandas", "scipy.stats", "scipy.sparse", "scipy.linalg", "statsmodels.api",
           "pytest", "hypothesis"]
#: one thread per library in the children (2 shared cores; also avoids pools inherited across fork)
THREAD_ENV = {k: "1" for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS",
                               "NUMBA_NUM_THREADS", "POLARS_MAX_THREADS")}


#: decorators that mutmut 3.8.1 would make it skip the whole function; in the scratch copy they are
#: applied by assignment after the definition instead (``f = deco(f)``: the same object at import)
UNDECORATE = re.compile(r"^(property|lru_cache\b.*|treatment_input\b.*|renamed_kwargs\b.*|_friendly)$")


def undecorate(source: str) -> str:
    """``@deco`` + ``def f`` -> ``def f`` + ``f = deco(f)``, for the decorators in :data:`UNDECORATE`.

    mutmut 3.8.1 does not mutate a decorated function (the decorator would wrap its trampoline),
    so without this the bodies of ``moran``, of every DiD estimator (``@treatment_input``) and of
    every property were never mutated. Applying the decorator after the definition gives the same
    object at import time; only functions whose decorators all match are rewritten.
    """
    lines = source.splitlines(keepends=True)
    nodes = [n for n in ast.walk(ast.parse(source))
             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.decorator_list]
    edits = []
    for n in nodes:
        decos = [ast.get_source_segment(source, d) for d in n.decorator_list]
        if not all(d and UNDECORATE.match(d) for d in decos):
            continue
        indent = " " * n.col_offset
        applied = n.name
        for d in reversed(decos):
            applied = f"{d}({applied})"
        first = min(d.lineno for d in n.decorator_list)
        edits.append((first, n.lineno, n.end_lineno, f"{indent}{n.name} = {applied}\n"))
    for first, def_line, end, assign in sorted(edits, reverse=True):
        lines.insert(end, assign)
        del lines[first - 1:def_line - 1]
    return "".join(lines)


def _wilson(k: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson 95% interval of a proportion k/n (the sampled mutation score)."""
    if n == 0:
        return float("nan"), float("nan")
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return centre - half, centre + half


def _mutant_names(work: Path, env: dict) -> list[str]:
    res = subprocess.run([sys.executable, "-m", "mutmut", "results", "--all", "true"], cwd=work,
                         capture_output=True, text=True, env=env)
    return [m.group(1) for line in res.stdout.splitlines() if (m := re.match(r"\s*(\S+):\s*\w", line))]


def run_one(name: str) -> dict[str, int]:
    module, tests = MODULES[name]
    work = OUT / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for d in ("analysis", "tests", "data", "docs"):  # docs/: a test of the indicator systems reads it
        shutil.copytree(ROOT / d, work / d,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "_build", "_executed"))
    target = work / module
    target.write_text(undecorate(target.read_text()))
    sel = os.environ.get("MUTATION_TESTS", "").split() or [t for t in tests if (ROOT / t.split("::")[0]).exists()]
    (work / "pyproject.toml").write_text(_pyproject(module, sel, str(work / "preload_modules.txt")))
    (work / "preload_modules.txt").write_text("\n".join(PRELOAD) + "\n")
    env = {**os.environ, **THREAD_ENV}
    children = os.environ.get("MUTATION_CHILDREN", "1")
    mutmut = [sys.executable, "-m", "mutmut"]
    only = os.environ.get("MUTATION_ONLY", "").split()
    sample = int(os.environ.get("MUTATION_SAMPLE", "0"))
    if sample:
        # generate every mutant and the test map without running a mutant, then draw the sample
        subprocess.run(mutmut + ["run", "--max-children", children, "no-such-mutant-*"], cwd=work, check=False,
                       env=env, capture_output=True)
        names = _mutant_names(work, env)
        if only:
            names = [n for n in names if any(fnmatch.fnmatch(n, g) for g in only)]
        if not names:
            # an empty list would make `mutmut run` mutate everything: refuse instead
            raise SystemExit(f"{name}: no mutant matches MUTATION_ONLY={' '.join(only)!r} (mutmut names a "
                             "function f as x_f and a private _f as x__f, e.g. 'analysis.regression.fe.x__estimate*')")
        rng = random.Random(int(os.environ.get("MUTATION_SEED", "20261206")))
        only = sorted(rng.sample(names, min(sample, len(names))))
        print(f"{name}: sampled {len(only)} of {len(names)} mutants (seed {rng_seed()})")
    subprocess.run(mutmut + ["run", "--max-children", children, *only], cwd=work, check=False, env=env)
    res = subprocess.run(mutmut + ["results", "--all", "true"], cwd=work, capture_output=True, text=True, env=env)
    (work / "results.txt").write_text(res.stdout)
    counts: dict[str, int] = {}
    for line in res.stdout.splitlines():
        m = re.match(r"\s*(\S+):\s*(\w[\w ]*)$", line)
        if m and (not sample or m.group(1) in only):
            counts[m.group(2).strip()] = counts.get(m.group(2).strip(), 0) + 1
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    survived = counts.get("survived", 0) + counts.get("no tests", 0)
    score = killed / (killed + survived) if killed + survived else float("nan")
    lo, hi = _wilson(killed, killed + survived)
    scope = f"sample of {killed + survived} (seed {rng_seed()})" if sample else "all run"
    with open(OUT / "scores.tsv", "a") as fh:
        fh.write(f"{name}\t{module}\t{killed}\t{survived}\t{score:.3f}\t{lo:.3f}\t{hi:.3f}\t{scope}\t{counts}\n")
    print(f"{name}: {killed} killed, {survived} survived, score {score:.1%} "
          f"(95% CI {lo:.1%}-{hi:.1%}; {scope}) {counts}")
    return counts


def rng_seed() -> int:
    return int(os.environ.get("MUTATION_SEED", "20261206"))


def main(argv: list[str]) -> int:
    names = argv or list(MODULES)
    unknown = [n for n in names if n not in MODULES]
    if unknown:
        print(f"unknown module(s) {unknown}; choose from {list(MODULES)}", file=sys.stderr)
        return 2
    OUT.mkdir(parents=True, exist_ok=True)
    for n in names:
        run_one(n)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
