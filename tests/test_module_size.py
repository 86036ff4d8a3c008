"""Readable modules (docs/CONVENTIONS.md): a function of more than 120 lines of code says why in its docstring.

Lines are counted from ``def`` to the function's last line, without its docstring (a long example
in a docstring is welcome and does not make a function long). The reason is a sentence of the
docstring that starts with "Long because".
"""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIBRARY = ROOT / "analysis"
MAX_LINES = 120
REASON = "Long because"



def code_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    """Lines of a function without its docstring."""
    n = node.end_lineno - node.lineno + 1
    first = node.body[0] if node.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        n -= first.end_lineno - first.lineno + 1
    return n


def long_functions(root: Path = LIBRARY, limit: int = MAX_LINES) -> dict[str, tuple[int, bool]]:
    """``{"path::name": (code lines, has a reason)}`` for every function over ``limit`` lines under ``root``."""
    out = {}
    for path in sorted(root.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                n = code_lines(node)
                if n > limit:
                    key = f"{path.relative_to(root.parent).as_posix()}::{node.name}"
                    out[key] = (n, REASON in (ast.get_docstring(node) or ""))
    return out


def test_every_long_function_says_why():
    found = long_functions()
    missing = {k: n for k, (n, why) in found.items() if not why}
    assert not missing, (f"functions over {MAX_LINES} lines of code without a '{REASON} ...' sentence in their "
                         f"docstring (split them or say why): {missing}")


def test_the_counter_sees_a_long_function_and_its_reason(tmp_path):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES))
    short = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES - 1))   # def + body = MAX_LINES: not long
    (tmp_path / "m.py").write_text(f'def f():\n    """Doc."""\n{body}\n\n\ndef g():\n    """Doc.\n\n    {REASON} '
                                   f'it is a test.\n    """\n{body}\n\n\ndef h():\n{short}\n', encoding="utf-8")
    found = {k.split("::")[1]: v for k, v in long_functions(tmp_path).items()}
    assert found == {"f": (MAX_LINES + 1, False), "g": (MAX_LINES + 1, True)}


@pytest.mark.parametrize("n_extra", [0, 1])
def test_limit_is_exclusive(tmp_path, n_extra):
    body = "\n".join(f"    x{i} = {i}" for i in range(MAX_LINES - 1 + n_extra))
    (tmp_path / "m.py").write_text(f'def f():\n    """A long\n    docstring.\n    """\n{body}\n', encoding="utf-8")
    assert bool(long_functions(tmp_path)) == bool(n_extra)
