"""scripts/mutation.py: the decorator rewrite (so mutmut mutates decorated functions) and the Wilson
interval of sampled scores, each checked against an independent statement of what it must do."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("mutation_script", ROOT / "scripts" / "mutation.py")
mutation = importlib.util.module_from_spec(_spec)
sys.modules["mutation_script"] = mutation
_spec.loader.exec_module(mutation)

SOURCE = '''\
import functools


def twice(fn):
    @functools.wraps(fn)
    def wrapper(*a, **k):
        return 2 * fn(*a, **k)
    return wrapper


@renamed_kwargs(old="new")
def f(new=1):
    return new + 1


class C:
    @property
    def p(self):
        return 3

    @staticmethod
    def s():
        return 4

    @classmethod
    @renamed_kwargs(old="new")
    def c(cls, new=1):
        return (cls.__name__, new)

    @staticmethod
    @lru_cache(maxsize=2)
    def t(x):
        return x + 6

    @classmethod
    @twice
    def m(cls):
        return 7


class D(C):
    pass


@twice
def g():
    return 5
'''


def test_undecorate_applies_listed_decorators_by_assignment_and_keeps_others():
    out = mutation.undecorate(SOURCE)
    assert 'f = renamed_kwargs(old="new")(f)' in out
    assert "@property" not in out and "    p = property(p)" in out
    # classmethod/staticmethod on top of a listed decorator: rewritten with it, in the class body
    assert '    c = classmethod(renamed_kwargs(old="new")(c))' in out
    assert "    t = staticmethod(lru_cache(maxsize=2)(t))" in out
    assert "@renamed_kwargs" not in out and "@lru_cache" not in out
    # an inner function under functools.wraps (twice's wrapper): rewritten at its own indentation
    assert "@functools.wraps" not in out and "\n    wrapper = functools.wraps(fn)(wrapper)\n    return wrapper" in out
    # alone (s), or with a decorator not in the list (m, g): left as written
    assert out.count("@staticmethod") == 1 and out.count("@classmethod") == 1 and out.count("@twice") == 2
    # the rewritten module defines the same objects
    from functools import lru_cache

    from analysis._compat import renamed_kwargs

    before = {"renamed_kwargs": renamed_kwargs, "lru_cache": lru_cache}
    after = dict(before)
    exec(SOURCE, before)
    exec(out, after)
    for ns in (before, after):
        assert ns["f"](new=2) == 3 and ns["C"]().p == 3 and ns["C"].s() == 4 and ns["g"]() == 10
        assert isinstance(ns["C"].__dict__["p"], property)
        assert isinstance(ns["C"].__dict__["c"], classmethod) and isinstance(ns["C"].__dict__["t"], staticmethod)
        assert ns["D"].c(new=2) == ("D", 2) and ns["D"]().c() == ("D", 1)  # bound to the subclass
        assert ns["C"].t(1) == 7 and ns["C"]().t(2) == 8 and ns["C"].m() == 14
        assert ns["C"].c.__renamed_kwargs__ == {"old": "new"}
        assert ns["g"].__name__ == "g" and ns["g"].__wrapped__() == 5  # functools.wraps applied
        with pytest.warns(DeprecationWarning):
            assert ns["f"](old=5) == 6
        with pytest.warns(DeprecationWarning):
            assert ns["C"].c(old=5) == ("C", 5)


def test_undecorate_on_every_module_in_the_table_compiles_and_removes_the_decorators():
    """Every listed decorator is removed from every module in the table: no function that carries one is
    left whole (EventStudyResult.from_estimates, @classmethod + @renamed_kwargs, was until the rewrite
    took classmethod/staticmethod along), and what is left is only decorators mutmut handles or that
    are not listed."""
    import ast

    seen = set()
    for name, (module, _) in mutation.MODULES.items():
        src = (ROOT / module).read_text()
        out = mutation.undecorate(src)
        for node in ast.walk(ast.parse(out)):
            if isinstance(node, ast.FunctionDef) and node.decorator_list:
                decos = [ast.get_source_segment(out, d) for d in node.decorator_list]
                assert not any(mutation.UNDECORATE.match(d) for d in decos), (name, node.name, decos)
        if "def from_estimates" in src:
            seen.add(name)
            assert "    from_estimates = classmethod(renamed_kwargs(" in out
        if "@functools.wraps(fn)" in src:
            seen.add(name)
            assert "        wrapper = functools.wraps(fn)(wrapper)\n" in out
    assert seen == {"did_common", "did_treatment"}


@pytest.mark.parametrize("k, n", [(0, 10), (8, 8), (46, 50), (17, 20), (1, 3)])
def test_wilson_interval_matches_statsmodels(k, n):
    from statsmodels.stats.proportion import proportion_confint

    lo, hi = proportion_confint(k, n, alpha=0.05, method="wilson")
    got = mutation._wilson(k, n)
    assert got == pytest.approx((lo, hi), abs=2e-4)  # z = 1.96 here, 1.959964 in statsmodels
    assert mutation._wilson(0, 0) != mutation._wilson(0, 0)  # (nan, nan) for an empty sample


# ---- fresh-process mode (import-time mutants) ----

def test_fresh_verdict_and_score_count_timeouts_as_killed():
    assert mutation.fresh_verdict(None) == "timeout"
    assert mutation.fresh_verdict(0) == "survived"
    for code in (1, 2, 4, 5, -9):  # failed test, collection/import error, usage, nothing collected, signal
        assert mutation.fresh_verdict(code) == "killed"
    assert mutation.score({"killed": 3, "timeout": 2, "survived": 4, "no tests": 1, "not checked": 7}) == (5, 5)


def test_a_run_with_no_checked_mutant_is_refused_and_a_partial_one_named():
    """mutmut leaves every mutant "not checked" when the module's tests fail on the unmutated copy
    (seen with mediation: a nan score line was written); the script must refuse, naming the command."""
    tests = ["tests/test_a.py", "tests/test_b.py"]
    msg = mutation.unchecked_problem("mediation", {"not checked": 50}, tests)
    assert "none of the 50 selected mutants" in msg and "pytest tests/test_a.py tests/test_b.py" in msg
    assert "no score was written" in msg
    partial = mutation.unchecked_problem("fe", {"killed": 20, "survived": 3, "not checked": 7}, tests)
    assert partial.startswith("fe: 7 of the selected") and "only the checked ones" in partial
    assert mutation.unchecked_problem("fe", {"killed": 20, "timeout": 1, "survived": 3, "no tests": 2}, tests) is None


def test_a_mutation_only_run_scores_the_mutants_it_ran_not_the_whole_module():
    """MUTATION_ONLY without a sample: mutmut lists every mutant, the others as "not checked"; the
    score and the unchecked check must cover only the named mutants (seen: 333 "not checked" flagged
    on a run of 16 named mutants)."""
    statuses = {"m.x_f__mutmut_1": "killed", "m.x_f__mutmut_2": "survived", "m.x_g__mutmut_1": "not checked",
                "m.x_g__mutmut_2": "not checked"}
    scope = mutation.in_scope(statuses, [], ["m.x_f__*"])
    assert scope == ["m.x_f__mutmut_1", "m.x_f__mutmut_2"]
    assert mutation.unchecked_problem("m", mutation.tally(statuses, scope), ["t.py"]) is None
    assert mutation.in_scope(statuses, ["m.x_g__mutmut_1"], ["m.x_f__*"]) == ["m.x_g__mutmut_1"]  # a sample wins
    assert mutation.in_scope(statuses, [], []) is None
    assert mutation.tally(statuses, mutation.in_scope(statuses, [], [])) == {"killed": 1, "survived": 1,
                                                                            "not checked": 2}


def test_fresh_verdicts_replace_mutmut_artefacts_in_the_counts():
    """mutmut reports the never-switched-on import-time mutants as "timeout"/"survived"; the merged
    statuses carry the fresh-process verdicts for those and mutmut's for the rest, and a sampled run
    counts only the mutants of its sample."""
    text = ("    pkg.mod.x_f__mutmut_1: killed\n    pkg.mod.x_f__mutmut_2: survived\n"
            "    pkg.mod.x_f__mutmut_3: not checked\n"
            "    pkg.mod.x_deco__mutmut_1: timeout\n    pkg.mod.x_deco__mutmut_2: survived\n"
            "    pkg.mod.x_deco__mutmut_3: timeout\n    pkg.mod.xǁCǁm__mutmut_1: no tests\n")
    statuses = mutation.parse_results(text)
    assert len(statuses) == 7 and statuses["pkg.mod.x_f__mutmut_3"] == "not checked"
    assert statuses["pkg.mod.xǁCǁm__mutmut_1"] == "no tests"
    verdicts = {"pkg.mod.x_deco__mutmut_1": "survived", "pkg.mod.x_deco__mutmut_2": "killed",
                "pkg.mod.x_deco__mutmut_3": "timeout"}
    merged = mutation.merge_fresh(statuses, verdicts)
    assert merged["pkg.mod.x_deco__mutmut_1"] == "survived" and merged["pkg.mod.x_deco__mutmut_2"] == "killed"
    assert merged["pkg.mod.x_f__mutmut_2"] == "survived"
    assert mutation.tally(merged) == {"killed": 2, "survived": 2, "not checked": 1, "timeout": 1, "no tests": 1}
    assert mutation.score(mutation.tally(merged)) == (3, 3)  # mutmut's own counts would give (3, 2)
    sample = ["pkg.mod.x_f__mutmut_1", "pkg.mod.x_deco__mutmut_1", "pkg.mod.x_deco__mutmut_2"]
    assert mutation.tally(merged, sample) == {"killed": 2, "survived": 1}


FAKE_MODULE = '''\
import os

MUT = os.environ.get("MUTANT_UNDER_TEST", "")


def factory(k):  # runs at import, as treatment_input does
    if MUT == "pkg.deco.x_factory__mutmut_1":
        raise ValueError("mutant 1 breaks the import")
    if MUT == "pkg.deco.x_factory__mutmut_3":
        import time
        time.sleep(300)
    if MUT == "pkg.deco.x_factory__mutmut_2":
        k = k + 1  # changes what the test sees

    def deco(fn):
        def wrapper(x):
            return k * fn(x)
        wrapper.__doc__ = None if MUT == "pkg.deco.x_factory__mutmut_4" else fn.__doc__  # nobody looks
        return wrapper
    return deco


@factory(2)
def double(x):
    """x, doubled."""
    return x
'''


@pytest.mark.slow
def test_run_fresh_applies_the_mutant_at_import_in_a_new_process(tmp_path):
    """A fake scratch copy whose decorator factory reads MUTANT_UNDER_TEST at import: an import error and
    a changed result are killed, a hang is killed at the timeout, an invisible change survives."""
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    (tmp_path / "pkg" / "deco.py").write_text(FAKE_MODULE)
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_fake.py").write_text(
        "from pkg.deco import double\n\n\ndef test_double():\n    assert double(3) == 6\n")
    names = [f"pkg.deco.x_factory__mutmut_{i}" for i in (1, 2, 3, 4)]
    lines = []
    # 60 s: a fresh interpreter plus pytest start-up on a loaded 2-core machine, far below the 300 s hang
    got = mutation.run_fresh(tmp_path, names, ["tests/test_fake.py"], timeout=60.0, log=lines.append)
    assert got == dict(zip(names, ["killed", "killed", "timeout", "survived"]))
    assert len(lines) == 5 and "unmutated run passed" in lines[0]
    # the unmutated code must pass first
    (tmp_path / "tests" / "test_fake.py").write_text(
        "from pkg.deco import double\n\n\ndef test_double():\n    assert double(3) == 7\n")
    with pytest.raises(SystemExit, match="unmutated code fails"):
        mutation.run_fresh(tmp_path, names[:1], ["tests/test_fake.py"], timeout=60.0, log=lines.append)


def test_fresh_globs_select_the_import_time_mutants_only():
    """The treatment_input globs match its mutants and none of the converters' (which mutmut runs)."""
    globs = mutation.FRESH["did_treatment"]
    match = lambda n: any(__import__("fnmatch").fnmatch(n, g) for g in globs)  # noqa: E731
    assert match("analysis.did._treatment.x_treatment_input__mutmut_1")
    assert match("analysis.did._treatment.x_treatment_input__mutmut_35")
    assert not match("analysis.did._treatment.x_treatment_column__mutmut_1")
    assert not match("analysis.did._treatment.x_adoption_column__mutmut_3")
    assert set(mutation.FRESH) <= set(mutation.MODULES)
