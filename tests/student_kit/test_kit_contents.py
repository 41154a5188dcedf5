"""What `students/<id>/check.pyz` holds: the kit's own modules (the grader's source, as
is), the student's data, and nothing of reference/, solutions/, exercises/, no hidden
test input and, in exam mode, no key."""

from __future__ import annotations

import ast
import base64
import json
import zipfile
from pathlib import Path

import numpy as np
import torch

from grader.kit import KIT_MODULES
from grader.kit.build import PACKAGE
from grader.quiz.load import load_quiz

ROOT = Path(__file__).resolve().parents[2]
FORBIDDEN_PACKAGES = ("reference", "solutions", "exercises")


def members(quiz: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(quiz / "students" / "ana" / "check.pyz") as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def data_of(quiz: Path) -> dict:
    return json.loads(members(quiz)[f"{PACKAGE}/data.json"])


class _Normalize(ast.NodeTransformer):
    """A function's AST without its name, docstring, annotations and argument names."""

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        self.generic_visit(node)
        node.name = "f"
        node.returns = None
        node.decorator_list = []
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            body = body[1:] or [ast.Pass()]
        node.body = body
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.annotation = None
        return node


def function_shapes(source: str) -> set[str]:
    """ast.dump of every function of a module, normalized (non-trivial ones: 2+ statements)."""
    found = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            normal = _Normalize().visit(ast.parse(ast.unparse(node)).body[0])
            if len(normal.body) >= 2 or not isinstance(normal.body[0], (ast.Pass, ast.Return)):
                found.add(ast.dump(normal, annotate_fields=False))
    return found


def test_the_archive_holds_the_kits_modules_as_in_the_grader_and_the_data(exam_quiz) -> None:
    files = members(exam_quiz)
    expected = {"__main__.py", f"{PACKAGE}/__init__.py", f"{PACKAGE}/code/__init__.py", f"{PACKAGE}/data.json"}
    expected |= {f"{PACKAGE}/{module}" for module in KIT_MODULES}
    assert set(files) == expected
    for module in KIT_MODULES:  # one implementation: the very source grader check runs
        assert files[f"{PACKAGE}/{module}"] == (ROOT / "grader" / module).read_bytes(), module
    for name in files:
        parts = Path(name).parts
        assert not set(parts) & set(FORBIDDEN_PACKAGES) and "grader" not in parts, name


def test_the_kits_modules_run_on_python_310_and_import_no_project_package(exam_quiz) -> None:
    for name, raw in members(exam_quiz).items():
        if not name.endswith(".py"):
            continue
        tree = ast.parse(raw.decode("utf-8"), feature_version=(3, 10))
        typing_only = {
            id(inner) for node in ast.walk(tree)
            if isinstance(node, ast.If) and isinstance(node.test, ast.Name) and node.test.id == "TYPE_CHECKING"
            for inner in ast.walk(node)
        }
        for node in ast.walk(tree):
            if id(node) in typing_only:
                continue
            if isinstance(node, ast.Import):
                roots = {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                roots = {node.module.split(".")[0]}
            else:
                continue
            assert not roots & {"grader", "numpy", *FORBIDDEN_PACKAGES}, (name, roots)


def test_no_function_of_the_solution_or_the_reference_is_in_the_kit(exam_quiz) -> None:
    theirs: set[str] = set(function_shapes((ROOT / "solutions" / "exercise.py").read_text()))
    for path in sorted((ROOT / "reference").glob("*.py")):
        theirs |= function_shapes(path.read_text())
    assert len(theirs) > 28
    ours: set[str] = set()
    for name, raw in members(exam_quiz).items():
        if name.endswith(".py"):
            ours |= function_shapes(raw.decode("utf-8"))
    assert ours and not ours & theirs


def _tensors(node: object) -> list[bytes]:
    """The raw bytes of every tensor in a JSON tree made by grader.kit.values."""
    found: list[bytes] = []
    if isinstance(node, dict):
        if node.get("t") == "t":
            found.append(base64.b64decode(node["data"]))
        for value in node.values():
            found += _tensors(value)
    elif isinstance(node, list):
        for value in node:
            found += _tensors(value)
    return found


def _hidden_inputs(quiz: Path) -> list[torch.Tensor]:
    loaded = load_quiz(quiz)
    tensors: list[torch.Tensor] = []
    for item in loaded.student_quiz("ana").code:
        for test in item.exercise.draw_hidden_tests(item.seed):
            for value in [*test.args, *test.kwargs.values()]:
                layers = getattr(value, "layers", None)
                for part in ([value] if layers is None else [x for layer in layers for x in layer[1:]]):
                    if isinstance(part, torch.Tensor) and part.numel() >= 2:
                        tensors.append(part)
    return tensors


def test_no_hidden_test_input_is_in_the_kit(exam_quiz) -> None:
    raw = members(exam_quiz)[f"{PACKAGE}/data.json"]
    packed = _tensors(json.loads(raw))
    assert packed  # the public tests' inputs and outputs are there
    hidden = _hidden_inputs(exam_quiz)
    assert len(hidden) > 20
    # the same search finds the public tests' inputs (a control: it can see a packed tensor)
    public = [a for item in load_quiz(exam_quiz).student_quiz("ana").code for t in item.exercise.public_tests
              for a in t.args if isinstance(a, torch.Tensor) and a.numel() >= 2]
    assert public and all(a.contiguous().numpy().tobytes() in packed for a in public)
    for tensor in hidden:
        if not tensor.is_floating_point() and tensor.numel() < 4:
            continue  # a few small integers (labels, steps) can equal a public test's by chance
        data = tensor.contiguous().numpy().tobytes()
        assert data not in packed
        assert base64.b64encode(data) not in raw
        # nor any of its rows (a slice of it packed as a test of its own)
        if tensor.dim() >= 2 and tensor.shape[-1] >= 3:
            row = np.ascontiguousarray(tensor.numpy().reshape(-1, tensor.shape[-1])[0]).tobytes()
            assert not any(row in blob for blob in packed)


def test_exam_mode_holds_no_key_and_practice_mode_holds_keys_as_values(exam_quiz, practice_quiz) -> None:
    exam = data_of(exam_quiz)
    public = json.loads((exam_quiz / "students" / "ana" / "quiz.json").read_text())
    assert [q["question"] for q in exam["questions"]] == [q["question"] for q in public["questions"]]
    for question in exam["questions"]:
        assert set(question) == {"question", "points", "format", "check"}
    variant = json.loads((practice_quiz / "key" / "ana" / "variant.json").read_text())
    practice = data_of(practice_quiz)
    for question, record in zip(practice["questions"], variant["questions"]):
        assert set(question) == {"question", "points", "format", "check", "key", "rule", "misconceptions"}
        assert {m["tag"] for m in question["misconceptions"]} == set(record["misconceptions"])
        assert all(set(m) == {"tag", "feedback", "credit", "answer"} for m in question["misconceptions"])
    for function in exam["code"]:  # code: public tests only, their data is plain values
        assert {t["name"] for t in function["tests"]} and set(function) >= {"tests", "hints", "hidden_tests"}
        assert not any(isinstance(v, str) and "def " in v and v != function["signature"] for v in function.values())


def test_the_same_options_give_the_same_kit(exam_quiz, tmp_path) -> None:
    from click.testing import CliRunner

    from grader.cli import main

    from .conftest import ANSWER, CODE

    again = tmp_path / "again"
    result = CliRunner().invoke(main, [
        "new-quiz", "--out", str(again), "--students", "ana", "--exercises", ",".join(CODE + ANSWER),
        "--secret-file", str(exam_quiz / "secret.key"),
    ], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    first = (exam_quiz / "students" / "ana" / "check.pyz").read_bytes()
    assert (again / "students" / "ana" / "check.pyz").read_bytes() == first
