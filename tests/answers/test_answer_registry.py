"""Answer checks registered by kind: every registered kind survives describe -> JSON ->
rebuild (an equal check that grades the key and wrong answers alike); a description this
version cannot rebuild is refused; a public=False setting never leaves the grader; the
validators' messages are exact."""

from __future__ import annotations

import json
from dataclasses import dataclass, fields
from typing import Any, ClassVar

import pytest

from grader.answers import (
    AnswerParseError,
    Expression,
    Integer,
    Matrix,
    MultipleChoice,
    Real,
    Shape,
    SingleChoice,
    TrueFalse,
    Word,
    WordSequence,
    registry,
)
from grader.answers.fields import Validated, is_public, setting
from grader.bank import default_bank
from grader.exercise import AnswerExercise
from grader.kit.answer_report import check_sheet
from grader.variant import make_variant

# (check, key, wrong answers): settings the bank may not use, so every field is exercised.
EXAMPLES: list[tuple[Any, Any, list[Any]]] = [
    (Integer(), 14, [13, -14]),
    (Real(rtol=0.01, atol=0.0), 0.25, [0.26, -0.25]),
    (Real(sig_figs=3), 0.12345, [0.1235, 0.12]),
    (Matrix(atol=1e-4), [[1.0, 2.0], [3.0, 4.0]], [[[1.0, 3.0], [2.0, 4.0]], [[1.0, 2.0], [3.0, 5.0]]]),
    (Expression(("h", "x"), {"h": (1.0, 50.0)}, rtol=1e-4), "4*h*(h+x+1)", ["4*h*(h+x)", "h*x"]),
    (Shape(), ("N", 64, 16, 16), [("N", 16, 16, 64), (64, 16, 16)]),
    (SingleChoice(["a", "b", "c", "d"]), "C", ["A", "D"]),
    (MultipleChoice(["a", "b", "c", "d"]), ("A", "C"), [("A",), ("A", "B", "C")]),
    (TrueFalse(), True, [False]),
    (Word(["queen", "king", "prince"]), "queen", ["king"]),
    (Word(), "queen", ["king"]),
    (WordSequence(ordered=False), ("the", "cat"), [("the", "dog"), ("the",)]),
    (WordSequence(), (("the", "cat"), ("cat", "the")), [(("cat", "the"), ("the", "cat"))]),
]


def _bank_cases() -> list[tuple[Any, Any, list[Any]]]:
    """Each answer exercise of the bank at two seeds: its check, key and misconceptions."""
    cases = []
    for exercise in default_bank():
        if isinstance(exercise, AnswerExercise):
            for seed in (1, 2):
                variant = make_variant(exercise, seed)
                check = exercise.check_for(variant.params)
                cases.append((check, variant.key, list(variant.misconceptions.values())))
    return cases


CASES = EXAMPLES + _bank_cases()


def _marking(check: Any, answer: Any, key: Any) -> Any:
    return check.grade(check.parse(check.to_toml(answer)), key)


@pytest.mark.parametrize("kind", registry.kinds())
def test_every_registered_kind_survives_describe_and_rebuild(kind: str) -> None:
    cases = [case for case in CASES if case[0].kind == kind]
    assert cases, f"no example of the answer kind {kind!r}: add one to EXAMPLES"
    for check, key, wrongs in cases:
        description = json.loads(json.dumps(registry.describe(check), allow_nan=False))  # as in quiz.json
        assert description["kind"] == kind
        rebuilt = registry.rebuild(description)
        assert type(rebuilt) is type(check) and rebuilt == check
        assert _marking(rebuilt, key, key) == _marking(check, key, key)
        assert _marking(check, key, key).fraction == 1.0
        for wrong in wrongs:
            assert _marking(rebuilt, wrong, key) == _marking(check, wrong, key)
            assert _marking(check, wrong, key).fraction < 1.0


def test_the_registry_holds_every_kind_the_bank_uses() -> None:
    used = {(type(check), check.kind) for check, _, _ in CASES}
    for cls, kind in used:
        assert registry.check_class(kind) is cls


@pytest.mark.parametrize(
    "description",
    [
        {"kind": "slider", "args": {}},  # a kind not in the registry
        {"kind": "unknown"},  # what describe gives for an unregistered check
        {"kind": "real", "args": {"rtol": 0.1, "code": "import os"}},  # an argument it does not take
        {"kind": "real", "args": {"rtol": -1}},  # an argument its validators refuse
        {"kind": "expression", "args": {"variables": [1, 2]}},
        {"kind": "single_choice", "args": {"options": "AB"}},
        {"kind": "single_choice", "args": {}},  # a required argument missing
        {"kind": "real", "args": ["rtol"]},
        {"kind": ["real"]},
        {"type": "Slider"},
        "real",
        None,
    ],
    ids=repr,
)
def test_a_description_this_version_cannot_rebuild_is_refused(description: Any) -> None:
    assert registry.rebuild(description) is None
    data = {"mode": "exam", "questions": [{"question": "q1", "points": 1, "format": "x", "check": description}]}
    line = check_sheet(b'q1 = "0.5"\n', data).lines[0]
    assert (line.status, line.message) == ("ok", "present (format not checked by this version)")


def test_a_description_written_before_kinds_is_still_read() -> None:
    old = {"type": "Real", "args": {"rtol": 0.01, "atol": 0.0, "sig_figs": None}}
    assert registry.rebuild(old) == Real(rtol=0.01, atol=0.0)
    assert registry.rebuild({"type": "SingleChoice", "args": {"options": ["x", "y"]}}) == SingleChoice(["x", "y"])


@dataclass(frozen=True)
class _Secretive(Validated):
    """A check with a key-bearing setting (no built-in kind has one)."""

    kind: ClassVar[str] = "secretive"
    tolerance: float = setting(0.5)
    secret: str = setting("the key", public=False)

    def parse(self, raw: Any) -> str:
        if not isinstance(raw, str):
            raise AnswerParseError("expected a text")
        return raw


def test_a_private_setting_never_leaves_the_grader(monkeypatch: pytest.MonkeyPatch) -> None:
    check = _Secretive(secret="s3cret-key")
    assert registry.describe(check) == {"kind": "unknown"}  # not registered
    monkeypatch.setitem(registry._CHECKS, "secretive", _Secretive)
    description = registry.describe(check)
    assert description == {"kind": "secretive", "args": {"tolerance": 0.5}}
    assert "s3cret" not in json.dumps(description)
    assert registry.rebuild({"kind": "secretive", "args": {"secret": "x"}}) is None  # not settable from data
    assert registry.rebuild(description) == _Secretive()  # the default, never the private value


def test_registering_needs_a_kind_a_frozen_dataclass_and_one_class_per_kind() -> None:
    @dataclass
    class Loose:
        kind: ClassVar[str] = "loose"

    class NoKind:
        pass

    @dataclass(frozen=True)
    class Impostor:
        kind: ClassVar[str] = "real"

    with pytest.raises(TypeError, match="Loose must be a frozen dataclass"):
        registry.register(Loose)
    with pytest.raises(TypeError, match="NoKind needs a class attribute kind"):
        registry.register(NoKind)
    with pytest.raises(ValueError, match="'real' is registered twice: Real and Impostor"):
        registry.register(Impostor)
    assert registry.check_class("real") is Real and registry.check_class("loose") is None


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: Real(rtol=-1), "Real: rtol must be >= 0, got -1"),
        (lambda: Real(atol=float("inf")), "Real: atol must be finite, got inf"),
        (lambda: Real(rtol="0.1"), "Real: rtol must be a number, got '0.1'"),
        (lambda: Real(rtol=True), "Real: rtol must be a number, got True"),
        (lambda: Real(sig_figs=0), "Real: sig_figs must be between 1 and 15, got 0"),
        (lambda: Real(sig_figs=2.0), "Real: sig_figs must be an integer, got 2.0"),
        (lambda: Matrix(atol=-0.5), "Matrix: atol must be >= 0, got -0.5"),
        (lambda: SingleChoice("AB"), "SingleChoice: options must be a list of texts, got 'AB'"),
        (lambda: SingleChoice(["only one"]), "SingleChoice: options must be 2 to 26 items, got ['only one']"),
        (lambda: MultipleChoice(["same", "Same "]), "MultipleChoice: options must be distinct, got ['same', 'Same ']"),
        (lambda: Word("queen"), "Word: options must be a list of texts, got 'queen'"),
        (lambda: WordSequence(ordered=1), "WordSequence: ordered must be true or false, got 1"),
        (lambda: Expression("s"), "Expression: variables must be a non-empty list of names, e.g. ('s',), got 's'"),
        (lambda: Expression(("s", "s")), "Expression: variables must be distinct, got ('s', 's')"),
        (lambda: Expression(("e",)),
         "Expression: variables must be names (a letter, then letters, digits or _; not a function or constant), got ('e',)"),
        (lambda: Expression(("s",), {"t": (0, 1)}), "Expression: domains must be given for the variables only (s), got {'t': (0, 1)}"),
        (lambda: Expression(("s",), {"s": (1, 0)}), "Expression: the domain of s must be a finite pair (low, high) with low < high, got (1, 0)"),
        (lambda: Expression(symbolic_budget=-1), "Expression: symbolic_budget must be >= 0, got -1"),
    ],
)
def test_validators_refuse_bad_settings_with_exact_messages(make: Any, message: str) -> None:
    with pytest.raises(ValueError) as raised:
        make()
    assert str(raised.value) == message


def test_checks_are_frozen_values() -> None:
    check = Real(rtol=0.01)
    with pytest.raises(AttributeError):
        check.rtol = 0.5  # type: ignore[misc]
    assert Real(rtol=0.01, atol=0) == Real(rtol=0.01, atol=0.0) and hash(Real(rtol=0.01)) == hash(check)
    assert Expression(("s",)) == Expression(("s",), {"s": (0.1, 2.0)})  # the default domain, spelled out
    assert len({Integer(), Integer(), Shape()}) == 2


@pytest.mark.parametrize("kind", registry.kinds())
def test_every_public_setting_is_validated(kind: str) -> None:
    """A description is data from outside the grader: each setting it can carry is checked."""
    cls = registry.check_class(kind)
    for item in fields(cls):
        if is_public(item):
            assert item.metadata.get("validators"), f"{cls.__name__}.{item.name} has no validator"
