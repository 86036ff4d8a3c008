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

Decorated functions are rewritten in the scratch copy so that mutmut mutates them (:func:`undecorate`),
``@classmethod``/``@staticmethod`` included when they sit on top of a rewritten decorator
(``EventStudyResult.from_estimates``: ``@classmethod @renamed_kwargs(...)``), and inner functions
under ``@functools.wraps(fn)`` (the ``wrapper`` of ``treatment_input``, whose mutants mutmut names
``x_treatment_input__mutmut_<n>`` like the factory's, so they fall under ``FRESH`` too).

Fresh-process mode (import-time functions, table ``FRESH``). mutmut forks each mutant's child after
the package is imported, and its trampoline reads ``MUTANT_UNDER_TEST`` only when the function is
called; a function that runs at import (a decorator factory such as ``treatment_input``, which runs
when ``analysis.did`` is imported) is therefore never called with its mutant switched on, and mutmut's
"survived"/"timeout" for its mutants are artefacts. The mutants whose names match the module's
``FRESH`` globs are left out of the mutmut run; each is run instead as
``python -m pytest <the module's tests> -x -q -p no:cacheprovider -p no:randomly -m "not stack_frames"``
in ``build/mutation/<name>/mutants`` in a NEW process with ``MUTANT_UNDER_TEST=<mutant>`` set before
the import (the trampoline reads the variable at call time, so the import itself runs the mutant).
Verdict: exit 0 -> survived; any other exit (failed test, failed import or collection) -> killed;
killed at the timeout (MUTATION_FRESH_TIMEOUT seconds, default 60 s + 5 x the unmutated run) ->
timeout (counted as killed). The unmutated code must pass the same command first. The runs are
one at a time (MUTATION_CHILDREN does not apply), each about as long as the tests. The verdicts
replace mutmut's in ``results.txt`` (also in ``fresh_results.txt``), in the counts and in
``scores.tsv`` (scope "...; n in fresh processes"); ``MUTATION_FRESH=0`` switches the mode off.
They combine with MUTATION_ONLY and MUTATION_SAMPLE (the sample is drawn from all the mutants)::

    MUTATION_ONLY='analysis.did._treatment.x_treatment_input__mutmut_*' python scripts/mutation.py did_treatment
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
    "coupling": ("analysis/coupling.py", [
        "tests/test_coupling.py", "tests/test_mutation_coupling.py",
    ]),
    "fe": ("analysis/regression/fe.py", [
        "tests/test_mutation_fe.py", "tests/test_regression_fe.py", "tests/test_bad_input.py",
        "tests/test_mutation_regression.py", "tests/test_mutation_w6_regression.py", "tests/test_mutation_w7.py",
        "tests/test_regression_wild_bootstrap.py",
    ]),
    "vcov": ("analysis/regression/vcov.py", [
        "tests/test_mutation_vcov.py", "tests/test_regression_fe.py",
    ]),
    "wild_bootstrap": ("analysis/regression/wild_bootstrap.py", [
        "tests/test_regression_wild_bootstrap.py", "tests/test_mutation_regression.py", "tests/test_mutation_w7.py",
    ]),
    "did_common": ("analysis/did/_common.py", [
        "tests/test_did_event_bacon.py", "tests/test_bad_input.py", "tests/test_mutation_did_core.py",
        "tests/test_mutation_w6_did_core.py", "tests/test_mutation_w7.py",
    ]),
    "event_study": ("analysis/did/event_study.py", [
        "tests/test_did_event_bacon.py", "tests/test_mutation_did_core.py",
        "tests/test_mutation_did_confirm.py", "tests/test_mutation_did_modern.py", "tests/test_bad_input.py",
        "tests/test_mutation_w7.py",
    ]),
    "cs_estimation": ("analysis/did/callaway_santanna/estimation.py", [
        "tests/test_did_cs.py", "tests/test_mutation_did_modern.py", "tests/test_bad_input.py",
        "tests/test_vocabulary.py", "tests/test_mutation_w6_did_core.py", "tests/test_mutation_w7.py",
    ]),
    "cs_two_by_two": ("analysis/did/callaway_santanna/two_by_two.py", [
        "tests/test_did_cs.py", "tests/test_mutation_did_modern.py", "tests/test_mutation_did_confirm.py",
    ]),
    "cs_aggregation": ("analysis/did/callaway_santanna/aggregation.py", [
        "tests/test_did_cs.py", "tests/test_mutation_did_modern.py", "tests/test_mutation_w7.py",
    ]),
    "cs_bootstrap": ("analysis/did/callaway_santanna/bootstrap.py", [
        "tests/test_did_cs.py", "tests/test_mutation_did_modern.py",
    ]),
    "cs_results": ("analysis/did/callaway_santanna/results.py", [
        "tests/test_did_cs.py", "tests/test_mutation_did_modern.py",
    ]),
    "sun_abraham": ("analysis/did/sun_abraham.py", [
        "tests/test_did_sa_imputation.py", "tests/test_mutation_did_modern.py", "tests/test_mutation_w7_sun_abraham.py",
    ]),
    "imputation": ("analysis/did/imputation.py", [
        "tests/test_did_sa_imputation.py", "tests/test_mutation_did_modern.py",
        "tests/test_mutation_w6_did_core.py",
    ]),
    "bacon": ("analysis/did/bacon.py", [
        "tests/test_did_event_bacon.py", "tests/test_mutation_did_core.py",
        "tests/test_mutation_w6_did_designs.py", "tests/test_mutation_w7.py",
    ]),
    "did_treatment": ("analysis/did/_treatment.py", [
        "tests/test_vocabulary.py", "tests/test_did_event_bacon.py", "tests/test_mutation_did_core.py",
        "tests/test_mutation_w6_did_core.py",
    ]),
    "did_compare": ("analysis/did/compare.py", [
        "tests/test_did_event_bacon.py", "tests/test_did_sa_imputation.py",
        "tests/test_mutation_did_core.py", "tests/test_mutation_did_designs.py",
        "tests/test_mutation_w6_did_designs.py", "tests/test_mutation_w7.py",
    ]),
    "placebo": ("analysis/did/placebo.py", [
        "tests/test_did_placebo.py", "tests/test_mutation_did_core.py", "tests/test_mutation_did_confirm.py",
        "tests/test_result_contract.py", "tests/test_mutation_w6_did_designs.py", "tests/test_mutation_w7.py",
    ]),
    "long_difference": ("analysis/did/long_difference.py", [
        "tests/test_did_long_difference.py", "tests/test_mutation_did_core.py",
        "tests/test_mutation_w6_did_designs.py", "tests/test_mutation_w7.py",
    ]),
    "honest": ("analysis/did/honest.py", [
        "tests/test_did_honest.py", "tests/test_mutation_did_modern.py", "tests/test_mutation_w7.py",
    ]),
    "psm": ("analysis/did/psm.py", [
        "tests/test_did_psm.py", "tests/test_mutation_did_designs.py", "tests/test_mutation_did_confirm.py",
        "tests/test_mutation_w6_did_designs.py", "tests/test_mutation_w7.py",
    ]),
    "ddd": ("analysis/did/ddd.py", [
        "tests/test_did_ddd.py", "tests/test_mutation_did_designs.py",
    ]),
    "synthetic_did": ("analysis/did/synthetic_did.py", [
        "tests/test_did_synthetic.py", "tests/test_mutation_did_designs.py",
        "tests/test_mutation_w6_did_designs.py", "tests/test_mutation_w7.py",
    ]),
    "synth_core": ("analysis/did/_synth_core.py", [
        "tests/test_did_synthetic.py", "tests/test_mutation_did_designs.py", "tests/test_mutation_w7.py",
    ]),
    "synthetic_control": ("analysis/did/synthetic_control.py", [
        "tests/test_did_synthetic.py", "tests/test_mutation_did_designs.py", "tests/test_mutation_w7.py",
    ]),
    "autocorrelation": ("analysis/spatial/autocorrelation.py", [
        "tests/test_mutation_spatial.py", "tests/test_spatial_autocorrelation.py", "tests/test_bad_input.py",
        "tests/test_mutation_w7_autocorrelation.py",
    ]),
    "spatial_weights": ("analysis/spatial/weights.py", [
        "tests/test_spatial_weights.py", "tests/test_mutation_spatial.py", "tests/test_bad_input.py",
        "tests/test_mutation_w6_spatial.py",
    ]),
    "panel_models": ("analysis/spatial/panel_models.py", [
        "tests/test_spatial_panel.py", "tests/test_spatial_recovery.py", "tests/test_spatial_published.py",
        "tests/test_mutation_spatial_panel.py", "tests/test_mutation_spatial.py", "tests/test_bad_input.py",
        "tests/test_mutation_w6_spatial.py", "tests/test_mutation_w7.py",
    ]),
    "sac_panel": ("analysis/spatial/sac_panel.py", [
        "tests/test_spatial_panel.py", "tests/test_mutation_spatial.py", "tests/test_mutation_w6_spatial.py",
    ]),
    "spatial_effects": ("analysis/spatial/effects.py", [
        "tests/test_spatial_panel.py", "tests/test_spatial_recovery.py", "tests/test_mutation_spatial.py",
        "tests/test_mutation_w6_spatial.py",
    ]),
    "lm_tests": ("analysis/spatial/lm_tests.py", [
        "tests/test_spatial_lm.py", "tests/test_mutation_spatial.py", "tests/test_mutation_w6_spatial.py",
    ]),
    "spatial_did": ("analysis/spatial/spatial_did.py", [
        "tests/test_spatial_did.py", "tests/test_mutation_did_designs.py",
        "tests/test_mutation_w6_spatial.py", "tests/test_mutation_w7.py",
    ]),
    "mediation": ("analysis/regression/mediation.py", [
        "tests/test_regression_mechanisms.py", "tests/test_mediation_multiple.py",
        "tests/test_mutation_regression.py", "tests/test_mutation_w6_regression.py",
    ]),
    "moderation": ("analysis/regression/moderation.py", [
        "tests/test_regression_mechanisms.py", "tests/test_mutation_regression.py",
        "tests/test_mutation_w6_regression.py", "tests/test_mutation_w7.py",
    ]),
    "heterogeneity": ("analysis/regression/heterogeneity.py", [
        "tests/test_regression_mechanisms.py", "tests/test_mutation_regression.py",
        "tests/test_mutation_w6_regression.py", "tests/test_mutation_w7.py",
    ]),
    "hausman": ("analysis/regression/hausman.py", [
        "tests/test_regression_hausman.py", "tests/test_mutation_regression.py",
        "tests/test_mutation_w6_regression.py", "tests/test_mutation_w7.py",
    ]),
    "regression_sample": ("analysis/regression/_sample.py", [
        "tests/test_regression_fe.py", "tests/test_bad_input.py", "tests/test_mutation_regression.py",
        "tests/test_mutation_threshold.py", "tests/test_mutation_w7.py",
    ]),
    "threshold_estimate": ("analysis/regression/threshold/_estimate.py", [
        "tests/test_threshold.py", "tests/test_mutation_regression.py", "tests/test_mutation_threshold.py",
        "tests/test_mutation_w7_threshold.py",
    ]),
    "threshold_search": ("analysis/regression/threshold/_search.py", [
        "tests/test_threshold.py", "tests/test_mutation_regression.py", "tests/test_mutation_threshold.py",
        "tests/test_mutation_w6_regression.py",
    ]),
    "threshold_grid": ("analysis/regression/threshold/_grid.py", [
        "tests/test_threshold.py", "tests/test_mutation_regression.py", "tests/test_mutation_threshold.py",
    ]),
    "threshold_inputs": ("analysis/regression/threshold/_inputs.py", [
        "tests/test_threshold.py", "tests/test_mutation_regression.py", "tests/test_mutation_threshold.py",
        "tests/test_mutation_w7.py",
    ]),
    "threshold_result": ("analysis/regression/threshold/_result.py", [
        "tests/test_threshold.py", "tests/test_mutation_regression.py", "tests/test_mutation_threshold.py",
        "tests/test_mutation_w6_regression.py",
    ]),
    "threshold_bootstrap": ("analysis/regression/threshold/_bootstrap.py", [
        "tests/test_threshold.py", "tests/test_mutation_regression.py", "tests/test_mutation_threshold.py",
    ]),
    "indicators_weights": ("analysis/indicators/weights.py", [
        "tests/test_indicators_reference.py", "tests/test_indicators_properties.py",
        "tests/test_indicators_system.py", "tests/test_mutation_indicators.py",
    ]),
    "normalize": ("analysis/indicators/normalize.py", [
        "tests/test_indicators_reference.py", "tests/test_indicators_properties.py",
        "tests/test_indicators_system.py", "tests/test_mutation_indicators.py", "tests/test_mutation_w7.py",
    ]),
    "topsis": ("analysis/indicators/topsis.py", [
        "tests/test_indicators_reference.py", "tests/test_indicators_system.py",
        "tests/test_mutation_indicators.py",
    ]),
    "indicators_index": ("analysis/indicators/index.py", [
        "tests/test_indicators_system.py", "tests/test_indicators_panel.py",
        "tests/test_indicators_reference.py", "tests/test_mutation_indicators.py",
        "tests/test_indicators_properties.py", "tests/test_mutation_w6_indicators.py",
    ]),
    "theil": ("analysis/disparity/theil.py", [
        "tests/test_disparity.py", "tests/test_mutation_disparity.py",
    ]),
    "dagum": ("analysis/disparity/dagum.py", [
        "tests/test_disparity.py", "tests/test_mutation_disparity.py",
    ]),
    "markov": ("analysis/disparity/markov.py", [
        "tests/test_disparity.py", "tests/test_mutation_disparity.py",
    ]),
    "convergence": ("analysis/disparity/convergence.py", [
        "tests/test_disparity.py", "tests/test_mutation_disparity.py",
        "tests/test_mutation_w6_indicators.py",
    ]),
    "indicators_system": ("analysis/indicators/system.py", [
        "tests/test_indicators_system.py", "tests/test_indicators_panel.py",
        "tests/test_indicators_reference.py", "tests/test_mutation_indicators.py",
        "tests/test_mutation_w6_indicators.py",
    ]),
    "kde": ("analysis/disparity/kde.py", [
        "tests/test_disparity.py", "tests/test_mutation_disparity.py",
        "tests/test_mutation_w6_indicators.py",
    ]),
    "spatial_null": ("analysis/disparity/spatial_null.py", [
        "tests/test_geodetector_spatial.py", "tests/test_mutation_disparity.py",
        "tests/test_mutation_w6_indicators.py", "tests/test_mutation_w7.py",
    ]),
    "geodetector": ("analysis/disparity/geodetector.py", [
        "tests/test_disparity.py", "tests/test_geodetector_spatial.py", "tests/test_mutation_disparity.py",
        "tests/test_mutation_w6_indicators.py", "tests/test_mutation_w7.py",
    ]),
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
#: (``functools.wraps(fn)`` on an inner ``wrapper``: else the body of treatment_input's wrapper, the
#: treat=/adoption= conversion itself, is never mutated)
UNDECORATE = re.compile(r"^(property|lru_cache\b.*|treatment_input\b.*|renamed_kwargs\b.*|_friendly"
                        r"|functools\.wraps\(\w+\))$")
#: decorators rewritten too, but only on a function that also carries one of :data:`UNDECORATE`
#: (alone, mutmut 3.8.1 mutates a ``@classmethod``/``@staticmethod`` itself)
UNDECORATE_WITH = re.compile(r"^(classmethod|staticmethod)$")


def undecorate(source: str) -> str:
    """``@deco`` + ``def f`` -> ``def f`` + ``f = deco(f)``, for the decorators in :data:`UNDECORATE`.

    mutmut 3.8.1 does not mutate a decorated function (the decorator would wrap its trampoline),
    so without this the bodies of ``moran``, of every DiD estimator (``@treatment_input``) and of
    every property were never mutated, nor an inner function under ``@functools.wraps(fn)`` (the
    ``wrapper`` that :func:`analysis.did._treatment.treatment_input` returns). Applying the decorator after the definition gives the same
    object at import time; only functions whose decorators all match are rewritten.
    ``@classmethod``/``@staticmethod`` are rewritten with the others when the function also carries a
    decorator of :data:`UNDECORATE` (``@classmethod @renamed_kwargs(...) def f`` ->
    ``f = classmethod(renamed_kwargs(...)(f))`` in the class body); alone they are left to mutmut.
    """
    lines = source.splitlines(keepends=True)
    nodes = [n for n in ast.walk(ast.parse(source))
             if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.decorator_list]
    edits = []
    for n in nodes:
        decos = [ast.get_source_segment(source, d) for d in n.decorator_list]
        if not all(d and (UNDECORATE.match(d) or UNDECORATE_WITH.match(d)) for d in decos):
            continue
        if not any(UNDECORATE.match(d) for d in decos):
            continue  # only classmethod/staticmethod: mutmut handles these itself
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


def parse_results(text: str) -> dict[str, str]:
    """``mutmut results --all true`` (or a ``results.txt``) -> {mutant name: status}."""
    return {m.group(1): m.group(2).strip() for line in text.splitlines()
            if (m := re.match(r"\s*(\S+):\s*(\w[\w ]*)$", line))}


#: Import-time functions (see "fresh-process mode" in the module docstring): name -> mutant-name globs
FRESH: dict[str, list[str]] = {
    "did_treatment": ["analysis.did._treatment.x_treatment_input__mutmut_*"],
}
#: pytest options of a fresh-process run (those mutmut is given in :func:`_pyproject`)
FRESH_PYTEST_ARGS = ["-x", "-q", "-p", "no:cacheprovider", "-p", "no:randomly", "-m", "not stack_frames"]


def fresh_verdict(returncode: int | None) -> str:
    """Verdict of one fresh-process run: ``None`` (timed out, process killed) -> "timeout" (counted as
    killed, as mutmut counts it), exit 0 -> "survived", any other exit (a test failed, the import or the
    collection failed) -> "killed"."""
    if returncode is None:
        return "timeout"
    return "survived" if returncode == 0 else "killed"


def _run_pytest(mutants: Path, tests: list[str], mutant: str, timeout: float) -> tuple[int | None, float]:
    """pytest over ``tests`` in a new Python process in ``mutants`` with MUTANT_UNDER_TEST=``mutant`` set
    from the start; (exit code or None when killed at ``timeout`` seconds, wall seconds)."""
    import time

    env = {**os.environ, **THREAD_ENV, "MUTANT_UNDER_TEST": mutant, "PYTHONPATH": str(mutants)}
    start = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "pytest", *tests, *FRESH_PYTEST_ARGS], cwd=mutants, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        code: int | None = proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, 9)  # its own session: pytest and anything it started
        proc.wait()
        code = None
    return code, time.monotonic() - start


def run_fresh(mutants: Path, names: list[str], tests: list[str],
              timeout: float | None = None, log=print) -> dict[str, str]:
    """Fresh-process verdicts {mutant name: "killed" | "survived" | "timeout"} of ``names``.

    The unmutated code runs first (``MUTANT_UNDER_TEST`` empty) and must pass, else SystemExit. The
    timeout of each mutant is ``timeout`` seconds, default MUTATION_FRESH_TIMEOUT or
    60 s + 5 x the unmutated run's wall time.
    """
    code, secs = _run_pytest(mutants, tests, "", timeout or 3600.0)
    if code != 0:
        raise SystemExit(f"fresh-process mode: the unmutated code fails its tests in {mutants} "
                         f"(pytest exit {code}): {' '.join(tests)}")
    if timeout is None:
        timeout = float(os.environ.get("MUTATION_FRESH_TIMEOUT", 0)) or 60.0 + 5.0 * secs
    log(f"fresh-process mode: unmutated run passed in {secs:.0f} s; {len(names)} mutants, timeout {timeout:.0f} s")
    out = {}
    for i, name in enumerate(names, 1):
        code, secs = _run_pytest(mutants, tests, name, timeout)
        out[name] = fresh_verdict(code)
        log(f"  [{i}/{len(names)}] {name}: {out[name]} (exit {code}, {secs:.0f} s)")
    return out


def merge_fresh(statuses: dict[str, str], verdicts: dict[str, str]) -> dict[str, str]:
    """mutmut's statuses with the fresh-process verdicts in place of its artefacts for those mutants."""
    return {**statuses, **verdicts}


def tally(statuses: dict[str, str], names: list[str] | None = None) -> dict[str, int]:
    """Counts of each status over ``names`` (default: all)."""
    counts: dict[str, int] = {}
    for n in (statuses if names is None else names):
        if n in statuses:
            counts[statuses[n]] = counts.get(statuses[n], 0) + 1
    return counts


def score(counts: dict[str, int]) -> tuple[int, int]:
    """(killed, survived): timeouts count as killed, "no tests" as survived; other statuses
    ("not checked", "suspicious", ...) are left out."""
    killed = counts.get("killed", 0) + counts.get("timeout", 0)
    survived = counts.get("survived", 0) + counts.get("no tests", 0)
    return killed, survived


def unchecked_problem(name: str, counts: dict[str, int], tests: list[str]) -> str | None:
    """Why the run gives no verdict for some selected mutants, or None.

    When the module's tests fail on the unmutated scratch copy, mutmut stops after "failed to
    collect stats" and leaves every mutant "not checked"; scoring that as 0 of 0 would write a
    ``nan`` line as if the module had been run. Partly unchecked runs (stopped by hand) are named too.
    """
    unchecked = sum(v for k, v in counts.items() if k not in ("killed", "timeout", "survived", "no tests"))
    if not unchecked:
        return None
    cmd = f"cd build/mutation/{name} && python -m pytest {' '.join(tests)} -x -q -m 'not stack_frames'"
    if sum(score(counts)) == 0:
        return (f"{name}: none of the {unchecked} selected mutants was checked: mutmut's first run of the "
                f"module's tests on the unmutated copy failed (\"failed to collect stats\"). Run `{cmd}` to "
                "see the failing test, fix it (or narrow MUTATION_TESTS), and run again; no score was written.")
    return (f"{name}: {unchecked} of the selected mutants have no verdict ({counts}); the score below counts "
            "only the checked ones.")


def in_scope(statuses: dict[str, str], names: list[str], only: list[str]) -> list[str] | None:
    """The mutants a run scores: the sample (or the fresh-process selection) when one was drawn, else
    those matching the ``MUTATION_ONLY`` globs, else all (None). mutmut's results list every mutant of
    the module, the ones not run as "not checked"."""
    if names:
        return names
    if only:
        return [n for n in statuses if any(fnmatch.fnmatch(n, g) for g in only)]
    return None


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
    fresh_globs = FRESH.get(name, []) if os.environ.get("MUTATION_FRESH", "1") != "0" else []
    names: list[str] = []
    if sample or fresh_globs:
        # generate every mutant and the test map without running a mutant, then select
        subprocess.run(mutmut + ["run", "--max-children", children, "no-such-mutant-*"], cwd=work, check=False,
                       env=env, capture_output=True)
        names = _mutant_names(work, env)
        if only:
            names = [n for n in names if any(fnmatch.fnmatch(n, g) for g in only)]
        if not names:
            # an empty list would make `mutmut run` mutate everything: refuse instead
            raise SystemExit(f"{name}: no mutant matches MUTATION_ONLY={' '.join(only)!r} (mutmut names a "
                             "function f as x_f and a private _f as x__f, e.g. 'analysis.regression.fe.x__estimate*')")
        if sample:
            pool = len(names)
            names = sorted(random.Random(rng_seed()).sample(names, min(sample, pool)))
            print(f"{name}: sampled {len(names)} of {pool} mutants (seed {rng_seed()})")
    fresh = [n for n in names if any(fnmatch.fnmatch(n, g) for g in fresh_globs)]
    if names:
        rest = [n for n in names if n not in fresh]
        if rest:
            subprocess.run(mutmut + ["run", "--max-children", children, *rest], cwd=work, check=False, env=env)
    else:
        subprocess.run(mutmut + ["run", "--max-children", children, *only], cwd=work, check=False, env=env)
    res = subprocess.run(mutmut + ["results", "--all", "true"], cwd=work, capture_output=True, text=True, env=env)
    statuses = parse_results(res.stdout)
    if fresh:
        verdicts = run_fresh(work / "mutants", fresh, sel)
        statuses = merge_fresh(statuses, verdicts)  # mutmut never switched these mutants on
        (work / "fresh_results.txt").write_text("".join(f"    {n}: {v}\n" for n, v in verdicts.items()))
    (work / "results.txt").write_text("".join(f"    {n}: {v}\n" for n, v in statuses.items()))
    counts = tally(statuses, in_scope(statuses, names, only))
    problem = unchecked_problem(name, counts, sel)
    if problem and sum(score(counts)) == 0:
        raise SystemExit(problem)
    if problem:
        print(problem, file=sys.stderr)
    killed, survived = score(counts)
    rate = killed / (killed + survived) if killed + survived else float("nan")
    lo, hi = _wilson(killed, killed + survived)
    scope = f"sample of {killed + survived} (seed {rng_seed()})" if sample else "all run"
    if fresh:
        scope += f"; {len(fresh)} in fresh processes"
    with open(OUT / "scores.tsv", "a") as fh:
        fh.write(f"{name}\t{module}\t{killed}\t{survived}\t{rate:.3f}\t{lo:.3f}\t{hi:.3f}\t{scope}\t{counts}\n")
    print(f"{name}: {killed} killed, {survived} survived, score {rate:.1%} "
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
