"""The student's `exercise.py` (stubs) and the key's (the instructor's solutions).

`stub_file` writes each exercise's signature, docstring and `raise NotImplementedError`.
`solution_file` copies, from `solutions/exercise.py` (or an exercise's own `solution` file,
for an instructor's bank), the instructor's functions for the given exercises, with the
module's imports and every module-level helper they use (found with `ast`, copied as source
segments, never executed).
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Sequence

from grader.errors import GraderError
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


class SolutionError(GraderError, ValueError):
    """The solution file lacks a function the exercises need."""


def solution_file(
    exercises: Sequence[CodeExercise], solution_path: Path | None = None, *, module_docstring: bool = True
) -> str:
    """The key's exercise.py: the solution module's docstring (unless `module_docstring` is
    False) and imports, then the helpers and functions the exercises need, in the solution
    file's order.  Each exercise's code comes from `solution_path`, else its own `solution`
    file, else `solutions/exercise.py`; several files are merged (imports once each)."""
    by_file: dict[Path, list[CodeExercise]] = {}
    for exercise in exercises:
        by_file.setdefault(solution_path or exercise.solution or SOLUTION_PATH, []).append(exercise)
    docstring, imports, bodies, seen = "", [], [], {}
    for path, group in by_file.items():
        doc, file_imports, file_bodies = _solution_parts(group, path)
        docstring = docstring or doc
        imports += [line for line in file_imports if line not in imports]
        for name, body in file_bodies:
            if name in seen and seen[name][1] != body:
                raise SolutionError(f"{name} is defined differently in {seen[name][0]} and {path}")
            if name not in seen:
                seen[name] = (path, body)
                bodies.append(body)
    head = [docstring] if module_docstring and docstring else []
    head.append("".join(imports))
    return "\n".join(part for part in head if part) + "\n\n" + "\n\n".join(bodies)


def _solution_parts(exercises: Sequence[CodeExercise], path: Path) -> tuple[str, list[str], list[tuple[str, str]]]:
    """(module docstring, import statements, [(name, source)] of the needed definitions in file order)."""
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
    docstring = _segment(lines, tree.body[0]) if ast.get_docstring(tree, clean=False) is not None else ""
    imports = [_segment(lines, node) for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    names = {id(node): name for name, node in definitions.items()}
    bodies = [(names.get(id(node), str(node.lineno)), _segment(lines, node).rstrip("\n") + "\n")
              for node in tree.body if any(node is n for n in needed)]
    return docstring, imports, bodies


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
