"""Checking a student's def line against the contract with ast only."""

from __future__ import annotations

import ast

import pytest

from grader.bank import default_bank
from grader.code.signature import check_signature, contract_parameters

SIGNATURES = {e.function: e.signature for e in default_bank().select(kind="code")}
CONV = SIGNATURES["conv2d"]
ADAM = SIGNATURES["adam_step"]


def problems(student_def: str, signature: str = CONV) -> list[str]:
    node = ast.parse(student_def + "\n    pass\n").body[0]
    return check_signature(node, signature)


def test_contract_signatures_match_the_reference_parameters() -> None:
    import inspect

    for exercise in default_bank().select(kind="code"):
        name, params = exercise.function, contract_parameters(exercise.signature)
        reference = list(inspect.signature(exercise.reference).parameters.values())
        # the reference may have extra keyword options (dropout's generator): compare the prefix
        assert [p.name for p in params] == [p.name for p in reference[: len(params)]], name


@pytest.mark.parametrize(
    "line",
    [
        "def conv2d(x, weight, bias=None, stride=1, padding=0):",
        "def conv2d(x: 'T', weight, bias: object = None, stride: int = 1, padding: int = 0) -> 'T':",
        "def conv2d(x, weight, bias=None, stride=1, padding=0, dilation=1):",
        "def conv2d(x, weight, bias=None, stride=1, padding=0, *, verbose=False):",
    ],
)
def test_compatible_definitions(line: str) -> None:
    assert problems(line) == []


def test_defaults_compare_by_value() -> None:
    assert problems("def adam_step(param, grad, m, v, t, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-08):", ADAM) == []
    found = problems("def adam_step(param, grad, m, v, t, lr=0.01, beta1=0.9, beta2=0.999, eps=1e-8):", ADAM)
    assert found == ["parameter 'lr' should default to 0.001, not 0.01"]


def test_renamed_and_missing_parameters() -> None:
    found = problems("def conv2d(inp, weight, bias=None, stride=1, padding=0):")
    assert len(found) == 1 and "(inp, weight, bias, stride, padding)" in found[0]
    assert problems("def conv2d(x, weight, bias=None, stride=1):")


def test_missing_or_changed_default() -> None:
    assert problems("def conv2d(x, weight, bias, stride=1, padding=0):") == ["parameter 'bias' needs the default None"]
    assert problems("def conv2d(x, weight, bias=None, stride=2, padding=0):") == [
        "parameter 'stride' should default to 1, not 2"
    ]
    assert problems("def conv2d(x, weight, bias=None, stride=True, padding=0):")


def test_adding_a_default_is_fine_but_keyword_only_is_not() -> None:
    assert problems("def max_pool2d(x, kernel_size, stride=None):", SIGNATURES["max_pool2d"]) == []
    found = problems("def max_pool2d(x, kernel_size, *, stride):", SIGNATURES["max_pool2d"])
    assert "must be positional" in " ".join(found)


def test_extra_parameter_without_default() -> None:
    found = problems("def conv2d(x, weight, bias=None, stride=1, padding=0, groups):".replace(", groups", ", groups=1"))
    assert found == []
    found = problems("def conv2d(x, weight, bias=None, stride=1, padding=0, *, groups):")
    assert found and "groups" in found[0]


def test_non_literal_default_is_reported_by_its_text() -> None:
    found = problems("def conv2d(x, weight, bias=None, stride=ONE, padding=0):")
    assert found == ["parameter 'stride' should default to 1, not ONE"]


def test_a_name_bound_by_assignment_is_not_checked() -> None:
    assert check_signature(ast.parse("conv2d = lambda *a: None").body[0], CONV) == []
