"""Single and multiple choice, true/false, and deterministic option shuffling."""

from __future__ import annotations

from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.answers import (
    AnswerParseError,
    MultipleChoice,
    SingleChoice,
    TrueFalse,
    shuffle_options,
    shuffle_options_multi,
)

OPTIONS = ["ReLU", "sigmoid", "tanh", "softmax over the batch"]


@pytest.mark.parametrize(
    "raw, letter",
    [("B", "B"), ("b", "B"), (" b ", "B"), ("B)", "B"), ("(b)", "B"), ("B.", "B"),
     ("sigmoid", "B"), ("SIGMOID", "B"), ("softmax  over the batch", "D"), ("A", "A")],
)
def test_single_choice_accepted_forms(raw: str, letter: str) -> None:
    assert SingleChoice(OPTIONS).parse(raw) == letter


@pytest.mark.parametrize(
    "raw, message",
    [("E", "E is not an option; expected one of A, B, C, D"), ("swish", "expected one of A, B, C, D"),
     ("", "expected one of"), (["A"], "got a list"), (True, "got true"), ("A, B", "expected one of"),
     ("x" * 10_000, "long")],
)
def test_single_choice_rejections(raw: object, message: str) -> None:
    with pytest.raises(AnswerParseError) as info:
        SingleChoice(OPTIONS).parse(raw)
    assert message in str(info.value)


def test_single_choice_grading_and_output() -> None:
    spec = SingleChoice(OPTIONS)
    assert spec.grade("B", "B").fraction == 1.0
    assert spec.grade("C", "B") .message == "C is not the right choice"
    assert spec.describe("B") == "one of A, B, C, D"
    assert spec.to_toml("B") == "B" and spec.to_text("B") == "B) sigmoid"
    assert repr(spec) == "SingleChoice(options=('ReLU', 'sigmoid', 'tanh', 'softmax over the batch'))"
    assert SingleChoice(["1", "2", "3"]).parse(2) == "B"  # a TOML int naming an option text
    assert SingleChoice(["1", "2", "3"]).parse(2.0) == "B"
    assert SingleChoice(["0.5", "0.25"]).parse(0.25) == "B"
    with pytest.raises(ValueError):
        spec.to_toml("Z")
    with pytest.raises(ValueError):
        SingleChoice(["same", "Same"])
    with pytest.raises(ValueError):
        SingleChoice(["only one"])


@pytest.mark.parametrize(
    "raw, letters",
    [(["A", "C"], ("A", "C")), (["c", "a"], ("A", "C")), ("A, C", ("A", "C")), ("A C", ("A", "C")),
     ("AC", ("A", "C")), ("ca", ("A", "C")), (["A", "A", "C"], ("A", "C")), ([], ()), ("", ()),
     ("none", ()), (["ReLU", "tanh"], ("A", "C")), ("relu; tanh", ("A", "C")), ("softmax over the batch", ("D",))],
)
def test_multiple_choice_accepted_forms(raw: object, letters: tuple[str, ...]) -> None:
    assert MultipleChoice(OPTIONS).parse(raw) == letters


@pytest.mark.parametrize(
    "answer, fraction",
    [
        (("A", "C"), 1.0),
        (("A",), 0.5),            # 1 right of 2
        (("A", "B"), 0.0),        # (1 - 1) / 2
        (("A", "C", "D"), 0.5),   # (2 - 1) / 2
        (("B", "D"), 0.0),        # max(0, (0 - 2) / 2)
        ((), 0.0),
        (("A", "B", "C", "D"), 0.0),
    ],
)
def test_multiple_choice_partial_credit(answer: tuple[str, ...], fraction: float) -> None:
    assert MultipleChoice(OPTIONS).grade(answer, ("A", "C")).fraction == fraction


def test_multiple_choice_messages_and_output() -> None:
    spec = MultipleChoice(OPTIONS)
    assert spec.grade(("A", "C", "D"), ("A", "C")).message == "2 of 2 right options chosen, and 1 wrong option"
    assert spec.grade(("A",), ("A", "C")).message == "1 of 2 right options chosen"
    assert spec.grade((), ()).fraction == 1.0
    assert spec.grade(("A",), ()).fraction == 0.0
    assert spec.to_toml(("C", "A")) == ["A", "C"]
    assert spec.describe(("A",)) == 'letters among A, B, C, D, as ["A", "C"]'
    with pytest.raises(AnswerParseError, match="E is not an option"):
        spec.parse(["A", "E"])
    with pytest.raises(AnswerParseError, match="too many"):
        spec.parse(["A"] * 1000)


@settings(max_examples=100, deadline=None, database=None)
@given(st.sets(st.sampled_from("ABCD")))
def test_multiple_choice_round_trip(key: set[str]) -> None:
    spec = MultipleChoice(OPTIONS)
    canonical = tuple(sorted(key))
    assert spec.grade(spec.parse(spec.to_toml(canonical)), canonical).fraction == 1.0
    assert spec.grade(spec.parse(", ".join(canonical)), canonical).fraction == 1.0


@pytest.mark.parametrize("letter", ["A", "B", "C", "D"])
def test_single_choice_round_trip(letter: str) -> None:
    spec = SingleChoice(OPTIONS)
    assert spec.grade(spec.parse(spec.to_toml(letter)), letter).fraction == 1.0


@pytest.mark.parametrize(
    "raw, value",
    [(True, True), (False, False), ("true", True), ("False", False), ("yes", True), ("NO", False),
     ("t", True), ("f", False), (" y ", True), ("n", False)],
)
def test_true_false_forms(raw: object, value: bool) -> None:
    assert TrueFalse().parse(raw) is value


@pytest.mark.parametrize("raw", [1, 0, "maybe", "", None, [True], 1.0, "truee"])
def test_true_false_rejections(raw: object) -> None:
    with pytest.raises(AnswerParseError, match="expected true or false"):
        TrueFalse().parse(raw)


def test_true_false_grading() -> None:
    spec = TrueFalse()
    for key in (True, False):
        assert spec.grade(spec.parse(spec.to_toml(key)), key).fraction == 1.0
        assert spec.grade(spec.parse(not key), key).fraction == 0.0
    assert spec.describe(True) == "true or false" and repr(spec) == "TrueFalse()"


def test_shuffle_options_is_deterministic_and_keeps_the_key() -> None:
    correct, distractors = "tanh", ["ReLU", "sigmoid", "softmax"]
    first = shuffle_options(np.random.default_rng(7), correct, distractors)
    again = shuffle_options(np.random.default_rng(7), correct, distractors)
    assert first == again
    options, letter = first
    assert sorted(options) == sorted([correct, *distractors])
    assert options["ABCD".index(letter)] == correct


def test_shuffle_options_puts_the_correct_option_everywhere() -> None:
    positions = Counter(
        shuffle_options(np.random.default_rng(seed), "right", ["w1", "w2", "w3"])[1] for seed in range(400)
    )
    assert set(positions) == {"A", "B", "C", "D"}
    assert min(positions.values()) > 60  # about 100 each


def test_shuffle_options_multi() -> None:
    options, key = shuffle_options_multi(np.random.default_rng(3), ["dropout", "weight decay"], ["Adam", "ReLU"])
    assert key == tuple(sorted(key))
    assert {options["ABCD".index(k)] for k in key} == {"dropout", "weight decay"}
    with pytest.raises(ValueError):
        shuffle_options(np.random.default_rng(0), "same", ["same", "other"])
