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
"""
from __future__ import annotations

import os
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
           ["tests/test_mutation_fe.py", "tests/test_regression_fe.py", "tests/test_bad_input.py"]),
    "vcov": ("analysis/regression/vcov.py", ["tests/test_mutation_vcov.py", "tests/test_regression_fe.py"]),
    "wild_bootstrap": ("analysis/regression/wild_bootstrap.py", ["tests/test_regression_wild_bootstrap.py"]),
    "did_common": ("analysis/did/_common.py", ["tests/test_did_event_bacon.py", "tests/test_bad_input.py"]),
    "event_study": ("analysis/did/event_study.py", ["tests/test_did_event_bacon.py"]),
    "cs_estimation": ("analysis/did/callaway_santanna/estimation.py", ["tests/test_did_cs.py"]),
    "cs_two_by_two": ("analysis/did/callaway_santanna/two_by_two.py", ["tests/test_did_cs.py"]),
    "cs_aggregation": ("analysis/did/callaway_santanna/aggregation.py", ["tests/test_did_cs.py"]),
    "cs_bootstrap": ("analysis/did/callaway_santanna/bootstrap.py", ["tests/test_did_cs.py"]),
    "sun_abraham": ("analysis/did/sun_abraham.py", ["tests/test_did_sa_imputation.py"]),
    "imputation": ("analysis/did/imputation.py", ["tests/test_did_sa_imputation.py"]),
    "autocorrelation": ("analysis/spatial/autocorrelation.py",
                        ["tests/test_mutation_spatial.py", "tests/test_spatial_autocorrelation.py",
                         "tests/test_bad_input.py"]),
    "spatial_weights": ("analysis/spatial/weights.py", ["tests/test_spatial_weights.py"]),
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
        'pytest_add_cli_args = ["-p", "no:cacheprovider", "-q", "-x", "-p", "no:randomly"]\n'
        'also_copy = ["data", "tests"]\n'
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


def run_one(name: str) -> dict[str, int]:
    module, tests = MODULES[name]
    work = OUT / name
    if work.exists():
        shutil.rmtree(work)
    work.mkdir(parents=True)
    for d in ("analysis", "tests", "data"):
        shutil.copytree(ROOT / d, work / d, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    sel = os.environ.get("MUTATION_TESTS", "").split() or [t for t in tests if (ROOT / t.split("::")[0]).exists()]
    (work / "pyproject.toml").write_text(_pyproject(module, sel, str(work / "preload_modules.txt")))
    (work / "preload_modules.txt").write_text("\n".join(PRELOAD) + "\n")
    env = {**os.environ, **THREAD_ENV}
    children = os.environ.get("MUTATION_CHILDREN", "1")
    mutmut = [sys.executable, "-m", "mutmut"]
    only = os.environ.get("MUTATION_ONLY", "").split()
    subprocess.run(mutmut + ["run", "--max-children", children, *only], cwd=work, check=False, env=env)
    res = subprocess.run(mutmut + ["results", "--all", "true"], cwd=work, capture_output=True, text=True, env=env)
    (work / "results.txt").write_text(res.stdout)
    counts: dict[str, int] = {}
    for line in res.stdout.splitlines():
        m = re.match(r"\s*(\S+):\s*(\w[\w ]*)$", line)
        if m:
            counts[m.group(2).strip()] = counts.get(m.group(2).strip(), 0) + 1
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    survived = counts.get("survived", 0) + counts.get("no tests", 0)
    score = killed / (killed + survived) if killed + survived else float("nan")
    with open(OUT / "scores.tsv", "a") as fh:
        fh.write(f"{name}\t{module}\t{killed}\t{survived}\t{score:.3f}\t{counts}\n")
    print(f"{name}: {killed} killed, {survived} survived, score {score:.1%} ({counts})")
    return counts


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
