"""The code exercise declarations, checked in the trusted process (no sandbox) against the
contract documented in docs/design.md (names, order, sections, parameters, not-allowed
names), plus deterministic float64 hidden tests, and buggy implementations that each fail
some hidden test and are recognised as themselves."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path
from typing import Any

import pytest
import torch

from grader.code.exercise import CodeExercise, resolve_qualified_name
from grader.code.judge import comparison_for, run_trusted, _matching_misconception
from grader.code.signature import check_signature, contract_parameters
from grader.code.stubs import solution_file, stub_file
from grader.exercise import TOPICS
from tests.documented_contract import NO_DEFAULT, documented_contract, qualified_names

SEEDS = range(6)
DOCUMENTED = {row.name: row for row in documented_contract()}
FUNCTIONS = list(DOCUMENTED)
# functions without a batch dimension to test at size 1
NO_BATCH = {"regularized_loss", "skipgram_pairs", "negative_sampling_loss", "analogy", "sinusoidal_positional_encoding"}


def test_one_declaration_per_documented_function_in_the_documented_order(exercises: list[CodeExercise]) -> None:
    assert [e.function for e in exercises] == FUNCTIONS
    for exercise in exercises:
        row = DOCUMENTED[exercise.function]
        assert exercise.id == f"code_{exercise.function}"
        assert exercise.kind == "code"
        assert exercise.section == row.section
        assert exercise.topic == TOPICS[exercise.section]
        assert exercise.deterministic == (exercise.function != "dropout")


@pytest.mark.parametrize("function", FUNCTIONS)
def test_the_def_line_has_the_documented_parameters_and_defaults(by_function: dict[str, CodeExercise], function: str) -> None:
    params = contract_parameters(by_function[function].signature)
    documented = DOCUMENTED[function].parameters
    assert [p.name for p in params] == [name for name, _ in documented]
    for param, (name, default) in zip(params, documented):
        assert param.positional, name
        if default is NO_DEFAULT:
            assert not param.has_default, name
        else:
            assert param.default == default and type(param.default) is type(default), name


def test_each_reference_is_the_function_of_its_name_in_reference(exercises: list[CodeExercise]) -> None:
    for exercise in exercises:
        module = exercise.reference.__module__
        assert module.startswith("reference.") and exercise.reference.__name__ == exercise.function, exercise.id


def test_one_code_module_per_section_named_as_the_answer_module() -> None:
    import exercises.answer
    import exercises.code

    def stems(package: Any) -> set[str]:
        return {p.stem for p in Path(package.__file__).parent.glob("s[0-9][0-9]_*.py")}

    code = stems(exercises.code)
    assert code and code <= stems(exercises.answer)
    for stem in code:
        module = importlib.import_module(f"exercises.code.{stem}")
        assert {e.section for e in module.EXERCISES} == {int(stem[1:3])}, stem


@pytest.mark.parametrize("function", FUNCTIONS)
def test_declaration_shape(by_function: dict[str, CodeExercise], function: str) -> None:
    exercise = by_function[function]
    assert 2 <= len(exercise.public_tests) <= 3
    assert len(exercise.misconceptions) >= 2
    for entry in DOCUMENTED[function].not_allowed:  # each name, or a module or class holding it
        for name in qualified_names(entry):
            assert _forbids(exercise.forbidden, name), (function, name)
    for name in exercise.forbidden:
        assert resolve_qualified_name(name) is not None
    for test in exercise.public_tests:  # the reference accepts every public input
        run_trusted(exercise.reference, test)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_hidden_tests_are_deterministic_float64_and_finite(by_function: dict[str, CodeExercise], function: str) -> None:
    exercise = by_function[function]
    counts = set()
    batch_of_one = False
    for seed in SEEDS:
        first, again = exercise.draw_hidden_tests(seed), exercise.draw_hidden_tests(seed)
        assert [t.name for t in first] == [t.name for t in again]
        for a, b in zip(first, again):
            assert _same(a.args, b.args) and _same(a.kwargs, b.kwargs)
        counts.add(len(first))
        for test in first:
            assert test.hidden
            tensors = [v for v in _leaves((test.args, test.kwargs)) if isinstance(v, torch.Tensor)]
            assert all(t.dtype in (torch.float64, torch.int64, torch.bool) for t in tensors), test.name
            batch_of_one |= any(t.dim() >= 1 and t.shape[0] == 1 for t in tensors)
            expected = run_trusted(exercise.reference, test)
            for value in _leaves(expected):
                if isinstance(value, torch.Tensor) and value.is_floating_point():
                    assert torch.isfinite(value).all(), (function, test.name)
    assert counts == {exercise.hidden_test_count}
    assert exercise.hidden_test_count >= 4
    assert batch_of_one or function in NO_BATCH


@pytest.mark.filterwarnings("ignore:var\\(\\)")  # unbiased variance of one sample
@pytest.mark.parametrize("function", FUNCTIONS)
def test_each_misconception_fails_a_hidden_test_and_is_recognised(
    by_function: dict[str, CodeExercise], function: str
) -> None:
    exercise = by_function[function]
    compare = comparison_for(exercise)
    for seed in SEEDS:
        tests = exercise.draw_hidden_tests(seed)
        expected = [run_trusted(exercise.reference, t) for t in tests]
        for misconception in exercise.misconceptions:
            failing, recognised = 0, 0
            for test, want in zip(tests, expected):
                try:
                    got = run_trusted(misconception.implementation, test)
                except Exception:
                    continue  # e.g. dx = dout @ W needs a square W
                if not compare(test, want, got, exercise.tolerance, False).ok:
                    failing += 1
                    recognised += _matching_misconception(exercise, test, got) == misconception.tag
            assert failing >= 1, (function, misconception.tag, seed)
            assert recognised >= 1, (function, misconception.tag, seed)


def test_the_reference_passes_its_own_comparison(exercises: list[CodeExercise]) -> None:
    for exercise in exercises:
        compare = comparison_for(exercise)
        for test in [*exercise.public_tests, *exercise.draw_hidden_tests(11)]:
            want = run_trusted(exercise.reference, test)
            got = run_trusted(exercise.reference, test)  # dropout: a second random draw
            assert compare(test, want, got, exercise.tolerance, True).ok, (exercise.function, test.name)


def test_stubs_follow_the_contract(exercises: list[CodeExercise]) -> None:
    text = stub_file(exercises)
    tree = ast.parse(text)
    compile(tree, "exercise.py", "exec")
    defs = {node.name: node for node in tree.body if isinstance(node, ast.FunctionDef)}
    assert list(defs) == [e.function for e in exercises]
    for exercise in exercises:
        node = defs[exercise.function]
        assert check_signature(node, exercise.signature) == []
        assert ast.get_docstring(node) == ast.get_docstring(ast.parse(exercise.stub).body[0])
        raised = node.body[-1]
        assert isinstance(raised, ast.Raise) and ast.unparse(raised.exc) == "NotImplementedError"
    assert "grader check exercise.py" in text
    imports = {ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))}
    assert {"import torch", "import torch.nn.functional as F"} <= imports


def test_solution_file_holds_the_requested_functions_and_their_helpers(by_function: dict[str, CodeExercise]) -> None:
    chosen = [by_function["conv2d"], by_function["gan_generator_loss"]]
    text = solution_file(chosen)
    tree = ast.parse(text)
    compile(tree, "exercise.py", "exec")
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert {"conv2d", "gan_generator_loss", "_pair", "_clamped_log", "_clamped_log1m"} <= names
    assert not names & {"fgsm", "multi_head_attention", "dropout", "_attend"}
    assert "Tensor = torch.Tensor" in text  # annotations use it
    imports = {ast.unparse(n) for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom))}
    assert imports == {"import math", "import torch", "import torch.nn.functional as F"}


def test_solution_file_of_every_exercise_defines_all_functions(exercises: list[CodeExercise]) -> None:
    tree = ast.parse(solution_file(exercises))
    names = {n.name for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert set(FUNCTIONS) <= names


def _forbids(forbidden: tuple[str, ...], name: str) -> bool:
    """Is `name` forbidden: listed, inside a listed module or class, or (a module named by
    the table, like torch.optim) forbidden member by member."""
    if any(name == f or name.startswith(f + ".") for f in forbidden):
        return True
    return inspect.ismodule(resolve_qualified_name(name)) and any(f.startswith(name + ".") for f in forbidden)


def _leaves(value: Any) -> list[Any]:
    if isinstance(value, (tuple, list)):
        return [leaf for item in value for leaf in _leaves(item)]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in _leaves(item)]
    layers = getattr(value, "layers", None)
    if layers is not None:
        return _leaves(list(layers))
    return [value]


def _same(a: Any, b: Any) -> bool:
    left, right = _leaves(a), _leaves(b)
    if len(left) != len(right):
        return False
    for x, y in zip(left, right):
        if isinstance(x, torch.Tensor):
            if not (isinstance(y, torch.Tensor) and x.dtype == y.dtype and torch.equal(x, y)):
                return False
        elif x != y:
            return False
    return True


def test_preview_details(by_function: dict[str, CodeExercise]) -> None:
    from grader.code.preview import code_preview_details

    exercise = by_function["conv2d"]
    details = code_preview_details(exercise, 3)
    assert exercise.signature in details["prompt"]
    assert "def conv2d(" in details["solution"] and "def fgsm(" not in details["solution"]
    assert f"Hidden tests ({exercise.hidden_test_count}, seed 3)" in details["tests"]
    assert [row[0] for row in details["misconceptions"]] == [m.tag for m in exercise.misconceptions]


def test_malformed_declarations_are_rejected(by_function: dict[str, CodeExercise]) -> None:
    from dataclasses import replace

    from grader.code.exercise import CodeMisconception, TestCase
    from grader.exercise import DeclarationError

    good = by_function["diffusion_loss"]
    with pytest.raises(DeclarationError, match="qualified torch name"):
        replace(good, forbidden=("os.system",))
    with pytest.raises(DeclarationError, match="does not name a torch object"):
        replace(good, forbidden=("torch.nn.functional.no_such_function",))
    with pytest.raises(DeclarationError, match="def diffusion_loss"):
        replace(good, signature="def mse(a, b):")
    with pytest.raises(DeclarationError, match="unique"):
        replace(good, misconceptions=(good.misconceptions[0], good.misconceptions[0]))
    with pytest.raises(DeclarationError, match="public tests"):
        replace(good, public_tests=())
    with pytest.raises(DeclarationError, match="triple quotes"):
        replace(good, docstring='Say """hi""".')
    with pytest.raises(DeclarationError):
        TestCase("Bad Name!")
    with pytest.raises(DeclarationError):
        CodeMisconception("Bad-Tag", "feedback", lambda: None)
