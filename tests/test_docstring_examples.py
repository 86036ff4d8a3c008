"""Every public function of the library carries a runnable example (issue: "docstrings carry a short
runnable example for every public function, run as doctests in make test").

Public = the names a package or module exports in ``__all__``; the examples themselves run as doctests
(``--doctest-modules`` in pytest's configuration), so an example that stops working fails the suite.
"""
from __future__ import annotations

import importlib
import inspect

import pytest

PUBLIC_MODULES = [
    "analysis.did", "analysis.regression", "analysis.spatial", "analysis.indicators", "analysis.disparity",
    "analysis.coupling", "analysis.robustness", "analysis.panel", "analysis.codes", "analysis.tables",
    "analysis.datasets", "analysis.study", "analysis.notebook", "analysis.maps", "analysis.plots",
    "analysis.simulate", "analysis.reporting", "analysis.validation",
]

#: functions allowed without an example, each with its reason (the list may only shrink)
WITHOUT_EXAMPLE: dict[str, str] = {}


def public_functions() -> dict[str, object]:
    out = {}
    for name in PUBLIC_MODULES:
        mod = importlib.import_module(name)
        for attr in getattr(mod, "__all__", []):
            obj = getattr(mod, attr, None)
            if inspect.isfunction(obj):
                out[f"{name}.{attr}"] = obj
    return out


def test_every_public_function_has_an_example():
    missing = sorted(k for k, f in public_functions().items() if ">>>" not in (f.__doc__ or "") and k not in WITHOUT_EXAMPLE)
    assert not missing, f"{len(missing)} public functions have no '>>>' example in their docstring: {missing}"


def test_the_exemption_list_only_names_functions_still_without_an_example():
    funcs = public_functions()
    stale = [k for k in WITHOUT_EXAMPLE if k not in funcs or ">>>" in (funcs[k].__doc__ or "")]
    assert not stale, f"remove from WITHOUT_EXAMPLE: {stale}"
    assert all(len(why) > 20 for why in WITHOUT_EXAMPLE.values())


@pytest.mark.parametrize("module", PUBLIC_MODULES)
def test_the_checker_sees_each_module_exports(module):
    assert any(k.startswith(module + ".") for k in public_functions()), f"{module} exports no function"
