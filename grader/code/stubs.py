"""The student's `exercise.py` (stubs) and the key's (the instructor's solutions).

`stub_file` writes each exercise's signature, docstring and `raise NotImplementedError`.
`solution_file` copies, from `solutions/exercise.py`, the instructor's functions for the
given exercises, with the module's imports and every module-level helper they use
(found with `ast`, copied as source segments, never executed).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Sequence

from grader.code.exercise import CodeExercise

SOLUTION_PATH = Path(__file__).resolve().parents[2] / "solutions" / "exercise.py"

_HEADER = '''"""Code exercises: implement each function below, then check your work.

    grader check exercise.py

runs the public tests in a sandbox and reports, per function, which tests pass.  Your
grade comes from hidden tests (float64, random shapes, batch size 1 included) that do not
run here.  Keep every function's name, parameters and defaults; use tensor operations,
not the library call that would do the exercise (each docstring says which are not
allowed).
"""

import math

import torch
import torch.nn.functional as F
'''


def stub_file(exercises: Sequence[CodeExercise]) -> str:
    """The student's exercise.py: a header, the imports, then one stub per exercise."""
    stubs = "\n\n".join(exercise.stub for exercise in exercises)
    return f"{_HEADER}\n\n{stubs}"


class SolutionError(ValueError):
    """The solution file lacks a function the exercises need."""


def solution_file(
    exercises: Sequence[CodeExercise], solution_path: Path | None = None, *, module_docstring: bool = True
) -> str:
    """The key's exercise.py: the solution module's docstring (unless `module_docstring` is
    False) and imports, then the helpers and functions the exercises need, in the solution
    file's order."""
    path = solution_path or SOLUTION_PATH
    text = path.read_text(encoding="utf-8")
    tree = ast.parse(text)
    lines = text.splitlines(keepends=True)
    definitions = _definitions(tree)
    wanted: list[ast.stmt] = []
    for exercise in exercises:
        node = definitions.get(exercise.function)
        if node is None:
            raise SolutionError(f"{path} does not define {exercise.function}")
        wanted.append(node)
    needed = _closure(wanted, definitions)
    head: list[str] = []
    if module_docstring and ast.get_docstring(tree, clean=False) is not None:
        head.append(_segment(lines, tree.body[0]))
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    head.append("".join(_segment(lines, node) for node in imports))
    body = [_segment(lines, node).rstrip("\n") + "\n" for node in tree.body if any(node is n for n in needed)]
    return "\n".join(part for part in head if part) + "\n\n" + "\n\n".join(body)


def _definitions(tree: ast.Module) -> dict[str, ast.stmt]:
    """Top-level name -> its def or assignment statement."""
    found: dict[str, ast.stmt] = {}
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            found[node.name] = node
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for target in targets:
                if isinstance(target, ast.Name):
                    found[target.id] = node
    return found


def _closure(start: list[ast.stmt], definitions: dict[str, ast.stmt]) -> list[ast.stmt]:
    needed: list[ast.stmt] = []
    pending = list(start)
    while pending:
        node = pending.pop()
        if any(node is n for n in needed):
            continue
        needed.append(node)
        for sub in ast.walk(node):
            if isinstance(sub, ast.Name) and sub.id in definitions:
                pending.append(definitions[sub.id])
    return needed


def _segment(lines: list[str], node: ast.stmt) -> str:
    """The source lines of a statement, decorators included."""
    first = min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])
    return "".join(lines[first - 1 : node.end_lineno])
