"""The seams of `grader.code`, read from the source with `ast` (every import counts, also
the ones inside functions): no import loop between its modules, and the declaration side
does not reach back into the judge side."""

from __future__ import annotations

import ast
from pathlib import Path

import grader

GRADER = Path(grader.__file__).parent


def imported_modules(path: Path) -> set[str]:
    """Every `grader...` module (or module.attribute) named by an import in `path`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name.split(".")[0] == "grader"}


def package_graph(package: str) -> dict[str, set[str]]:
    """module -> modules of the same package it imports (by dotted name)."""
    folder = GRADER.joinpath(*package.split(".")[1:])
    modules = {f"{package}.{p.stem}": p for p in folder.glob("*.py") if p.stem != "__init__"}
    return {
        name: {m for m in modules if m != name and any(i == m or i.startswith(m + ".") for i in imported_modules(path))}
        for name, path in modules.items()
    }


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One import loop of `graph` as a path that returns to its start, or None."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt):] + [nxt]
            if nxt not in state and (loop := visit(nxt)):
                return loop
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state and (loop := visit(node)):
            return loop
    return None


def test_find_cycle_sees_a_loop_and_its_absence() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_grader_code_has_no_import_loop() -> None:
    graph = package_graph("grader.code")
    assert "grader.code.judge" in graph and graph["grader.code.judge"]  # the graph was read
    assert find_cycle(graph) is None


def test_declarations_do_not_import_the_judge_side() -> None:
    imported = imported_modules(GRADER / "code" / "exercise.py")
    for judge_side in ("grader.code.compare", "grader.code.judge"):
        assert not any(i == judge_side or i.startswith(judge_side + ".") for i in imported), judge_side


def test_quiz_documents_and_preview_do_not_import_the_judge() -> None:
    """Hidden tests and their count are the declaration's (`CodeExercise.draw_hidden_tests`,
    `.hidden_test_count`): writing a quiz or a preview needs no judge."""
    for path in (GRADER / "quiz" / "documents.py", GRADER / "code" / "preview.py"):
        imported = imported_modules(path)
        assert not any(i == "grader.code.judge" or i.startswith("grader.code.judge.") for i in imported), path
