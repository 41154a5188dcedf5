"""Word and word-sequence answers."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.answers import AnswerParseError, Word, WordSequence


@pytest.mark.parametrize("raw", ["queen", "Queen", "  QUEEN ", "queen\n"])
def test_word_is_compared_case_insensitively_after_stripping(raw: str) -> None:
    spec = Word()
    assert spec.grade(spec.parse(raw), "queen").fraction == 1.0


def test_word_grading_options_and_rejections() -> None:
    spec = Word()
    assert spec.grade(spec.parse("king"), "queen") .message == "'king' is not the expected word"
    for raw in ["", "   ", 3, None, ["queen"], "x" * 101, "a\x00b"]:
        with pytest.raises(AnswerParseError):
            spec.parse(raw)
    limited = Word(["queen", "king", "prince"])
    assert limited.parse("King") == "king"
    with pytest.raises(AnswerParseError, match="not one of the allowed words"):
        limited.parse("duke")
    assert limited.describe("queen") == "one word out of: queen, king, prince"
    assert repr(limited) == "Word(options=('queen', 'king', 'prince'))" and repr(spec) == "Word(options=None)"


PAIRS = (("the", "cat"), ("cat", "the"), ("cat", "sat"))


@pytest.mark.parametrize(
    "raw, fraction",
    [
        ([["the", "cat"], ["cat", "the"], ["cat", "sat"]], 1.0),
        ([["The", "Cat"], ["cat", "the"], ["cat", " sat"]], 1.0),
        ([["the", "cat"], ["cat", "the"]], 2 / 3),                                  # one missing
        ([["the", "cat"], ["cat", "the"], ["cat", "sat"], ["sat", "cat"]], 2 / 3),  # one extra: (3 - 1) / 3
        ([["cat", "sat"], ["the", "cat"], ["cat", "the"]], 0.5),                    # wrong order
        ([["a", "b"], ["c", "d"]], 0.0),
        ([], 0.0),
    ],
)
def test_sequence_partial_credit(raw: object, fraction: float) -> None:
    spec = WordSequence()
    assert spec.grade(spec.parse(raw), PAIRS).fraction == pytest.approx(fraction)


def test_sequence_messages() -> None:
    spec = WordSequence()
    assert spec.grade(spec.parse([["the", "cat"]]), PAIRS).message == "2 expected items are missing"
    marking = spec.grade(spec.parse([list(p) for p in PAIRS] + [["sat", "cat"]]), PAIRS)
    assert marking.message == "1 item is not expected ((sat, cat))"
    assert spec.grade(spec.parse([list(p) for p in reversed(PAIRS)]), PAIRS).message == (
        "all the right items, but in the wrong order"
    )
    assert WordSequence(ordered=False).grade(spec.parse([list(p) for p in reversed(PAIRS)]), PAIRS).fraction == 1.0


def test_sequence_of_words() -> None:
    spec = WordSequence()
    key = ("the", "cat", "sat")
    assert spec.grade(spec.parse("the cat sat"), key).fraction == 1.0
    assert spec.grade(spec.parse("the, cat, sat"), key).fraction == 1.0
    assert spec.grade(spec.parse(["the", "cat"]), key).fraction == pytest.approx(2 / 3)
    assert spec.describe(key) == 'list of words as ["a", "b", ..]'
    assert spec.describe(PAIRS) == 'list of pairs as [["a", "b"], ..]'


@pytest.mark.parametrize(
    "raw, message",
    [
        ([["the", "cat"], "sat"], "mixed items"),
        ([["the", 1]], "item 1: expected a word"),
        ([[]], "item 1: expected a list of 1 to 10 words"),
        (["ok", ""], "item 2: empty word"),
        (3, "expected a list"),
        (["w"] * 6000, "too many items"),
        ("w " * 60_000, "too long"),
    ],
)
def test_sequence_rejections(raw: object, message: str) -> None:
    with pytest.raises(AnswerParseError) as info:
        WordSequence().parse(raw)
    assert message in str(info.value)


words = st.from_regex(r"[a-z]{1,8}", fullmatch=True)


@settings(max_examples=150, deadline=None, database=None)
@given(st.one_of(st.lists(words, max_size=10), st.lists(st.tuples(words, words), max_size=10)))
def test_round_trip(key: list[object]) -> None:
    spec = WordSequence()
    assert spec.grade(spec.parse(spec.to_toml(key)), key).fraction == 1.0
    word = Word()
    for item in key:
        if isinstance(item, str):
            assert word.grade(word.parse(word.to_toml(item)), item).fraction == 1.0
