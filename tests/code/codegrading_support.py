"""Helpers of the code-exercise tests: paths, and assembling submissions from function
sources (parsed and unparsed with ast; nothing here runs student code)."""

from __future__ import annotations

import ast
import inspect
import textwrap
from pathlib import Path
from typing import Callable

from grader.code.exercise import CodeExercise

ROOT = Path(__file__).resolve().parents[2]
SOLUTION_PATH = ROOT / "solutions" / "exercise.py"
ALTERNATIVES_PATH = Path(__file__).parent / "alternatives.py"
HEADER = "import math\nimport torch\nimport torch.nn.functional as F\n\n\n"


def renamed_source(function: Callable, name: str) -> str:
    """The source of a module-level function, renamed to `name` (parsed, never run)."""
    tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
    node = tree.body[0]
    assert isinstance(node, ast.FunctionDef)
    node.name = name
    return ast.unparse(tree)


def replace_functions(source: str, replacements: dict[str, str]) -> str:
    """`source` with the top-level functions named in `replacements` swapped for new code."""
    tree = ast.parse(source)
    lines = source.splitlines(keepends=True)
    spans = sorted(
        (node.lineno, node.end_lineno, replacements[node.name])
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name in replacements
    )
    assert len(spans) == len(replacements), "every replaced function must exist in the source"
    out: list[str] = []
    cursor = 1
    for start, end, text in spans:
        out.extend(lines[cursor - 1 : start - 1])
        out.append(textwrap.dedent(text).strip("\n") + "\n")
        cursor = end + 1
    out.extend(lines[cursor - 1 :])
    return "".join(out)


def seeds(exercises: list[CodeExercise], seed: int) -> dict[str, int]:
    return {e.id: seed * 7919 + index for index, e in enumerate(exercises)}
