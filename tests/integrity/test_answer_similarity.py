"""Copied answers across variants: a student who handed in another student's keys is
flagged with that student's id; honest classes (keys, misconceptions, random slips) are
not flagged; the bucket index finds exactly the key agreements that comparing every
answer with every key finds."""

from __future__ import annotations

import itertools
import math

import pytest

from grader.answers.base import answer_matches
from grader.integrity.answer_pairs import MAX_GROUP, AnswerRecord, find_pairs, threshold

from .answer_classes import exercises, make_class, records


@pytest.fixture(scope="module")
def exs() -> list:
    return exercises()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_honest_classes_are_not_flagged(exs: list, seed: int) -> None:
    sheets = make_class(30, seed, exs=exs)
    pairs = find_pairs(records(sheets, exs))
    assert pairs, "an honest class still has chance agreements (shared misconceptions, equal keys)"
    assert [p for p in pairs if p.flagged] == []


@pytest.mark.parametrize("seed", [1, 2])
def test_a_student_with_another_students_keys_is_flagged_with_the_source(exs: list, seed: int) -> None:
    sheets = make_class(30, seed, copies={7: 3, 20: 11}, exs=exs)
    flagged = [p for p in find_pairs(records(sheets, exs)) if p.flagged]
    assert {(p.a, p.b) for p in flagged} == {("s003", "s007"), ("s011", "s020")}
    assert {p.source for p in flagged} == {"s003", "s011"}
    for pair in flagged:
        assert pair.chance == pytest.approx(10 ** -pair.score)
        assert pair.score >= threshold(30)
        assert all(g.kind != "key" or g.b == pair.source for g in pair.agreements)


def test_five_copied_items_in_a_class_of_60_are_flagged(exs: list) -> None:
    # Each copied item has p <= 1/59; five of them pass the threshold of 60 students (5.25).
    sheets = make_class(60, 4, copies={5: 9}, exs=exs)
    keep = {f"q{q}" for q in range(1, 9) if q > 5}
    for q in keep:  # the copier answers the last three questions honestly: their own key
        v = sheets[5].variants[q]
        sheets[5].answers[q] = exs[int(q[1:]) - 1].check_for(v.params).to_toml(v.key)
    flagged = [p for p in find_pairs(records(sheets, exs)) if p.flagged]
    assert [(p.a, p.b, p.source) for p in flagged] == [("s005", "s009", "s009")]


def test_the_bucket_index_finds_every_key_agreement(exs: list) -> None:
    sheets = make_class(24, 5, copies={1: 2}, exs=exs)
    recs = records(sheets, exs)
    found = {
        (g.a, g.b, g.item_a)
        for p in find_pairs(recs) for g in p.agreements if g.kind == "key"
    }
    expected = set()
    by_exercise: dict[str, list[AnswerRecord]] = {}
    for r in recs:
        by_exercise.setdefault(r.exercise, []).append(r)
    for group in by_exercise.values():
        for r, other in itertools.permutations(group, 2):
            if r.correct or not answer_matches(r.check, r.parsed, other.key):
                continue
            others = sum(
                1 for u in group
                if u.student not in (r.student, other.student) and answer_matches(u.check, u.parsed, other.key)
            )
            if others < MAX_GROUP:
                expected.add((r.student, other.student, r.item))
    assert ("s001", "s002", "q1") in expected
    assert found == expected


def test_chance_level_of_an_agreement_is_the_share_of_the_class_giving_that_value(exs: list) -> None:
    sheets = make_class(20, 6, copies={0: 1}, exs=exs)
    pair = next(p for p in find_pairs(records(sheets, exs)) if {p.a, p.b} == {"s000", "s001"})
    answered = 20
    for g in pair.agreements:
        assert g.p == pytest.approx((g.others + 1) / (answered - 1))
    assert pair.score == pytest.approx(-sum(math.log10(g.p) for g in pair.agreements))


def test_threshold_is_bonferroni_over_the_pairs_of_the_class() -> None:
    assert threshold(2) == pytest.approx(2.0)  # one pair, alpha 0.01
    assert threshold(1000) == pytest.approx(math.log10(1000 * 999 / 2 / 0.01))
