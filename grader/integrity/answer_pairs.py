"""Copied answers across variants: pairs of students whose answers agree more than
independent students' would.

Every student has their own variant, so two kinds of agreement are evidence:

* `key`: student A's answer equals student B's key (within the question's tolerance: the
  question's own answer check decides, `answer_matches`) and is not A's own key;
* `wrong`: A and B gave the same wrong answer (same text, spaces and case aside).

Each such item has a chance level p: how often an independent student of this class
gives that value, estimated from the class's answers to the same exercise, the pair left
out: p = (c + 1) / (m + 1), where m students answered the exercise and c of them gave the
value. A pair's chance level is the product of its items' p (the items are independent
for independent students) and its score is -log10 of it. A pair is flagged when even the
luckiest of the class's n(n-1)/2 pairs would reach that score by chance less than once in
a hundred classes: score >= log10(pairs / ALPHA) (Bonferroni).

Choice and true/false questions are left out: their options are shuffled per variant, so
the same letter means different answers. Values also given by `MAX_GROUP` or more other
students are common answers (a misconception several variants share), not evidence.

Values are grouped through a coarse bucket (numbers by sign and log-magnitude in steps of
~6%, arrays by size and first entry, anything else by its text), so candidates are found
through an index, never by comparing every answer with every key; the answer check then
decides.
"""

from __future__ import annotations

import math
import numbers
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Hashable, Iterable, Sequence

from grader.answers.base import AnswerCheck, answer_matches

ALPHA = 0.01
MAX_GROUP = 10
SKIPPED_KINDS = frozenset({"single_choice", "multiple_choice", "true_false"})
_STEPS_PER_DECADE = 40
_ZERO_EDGE = -6 * _STEPS_PER_DECADE  # |x| < 1e-6 is the bucket "0"


@dataclass(frozen=True)
class AnswerRecord:
    """One student's answer to one question.

    parsed: the answer as the question's check parsed it (None when blank or unreadable);
    text: what the student wrote; key: the student's own key; correct: graded correct.
    """

    student: str
    item: str
    exercise: str
    check: AnswerCheck
    parsed: Any
    text: str
    key: Any
    correct: bool


@dataclass(frozen=True)
class Agreement:
    """One item of evidence. kind `key`: `a` answered `item_a` with `b`'s key to `item_b`;
    kind `wrong`: both gave the wrong answer `value`. `others`: how many other students
    of the class gave it too; `p`: its chance level."""

    kind: str
    a: str
    b: str
    item_a: str
    item_b: str
    exercise: str
    value: str
    others: int
    p: float

    def describe(self) -> str:
        value = self.value if len(self.value) <= 40 else self.value[:37] + "..."
        if self.kind == "key":
            return f"{self.a} {self.item_a} = {self.b}'s key of {self.item_b}: {value} (p={self.p:.2g})"
        return f"same wrong answer {self.item_a}/{self.item_b}: {value} (p={self.p:.2g})"


@dataclass(frozen=True)
class AnswerPair:
    """Two students and their agreements; `score` = -log10(chance), `chance`: the
    probability that two independent students agree like this; `source`: the student
    whose keys the other answered with, when the evidence points one way."""

    a: str
    b: str
    score: float
    chance: float
    flagged: bool
    agreements: tuple[Agreement, ...] = field(default_factory=tuple)

    @property
    def source(self) -> str | None:
        givers = {g.b for g in self.agreements if g.kind == "key"}
        takers = {g.a for g in self.agreements if g.kind == "key"}
        if len(givers) == 1 and not (givers & takers):
            return next(iter(givers))
        return None

    def evidence(self, limit: int = 6) -> str:
        parts = [g.describe() for g in self.agreements[:limit]]
        more = len(self.agreements) - limit
        return "; ".join(parts) + (f"; +{more} more" if more > 0 else "")


def threshold(students: int, alpha: float = ALPHA) -> float:
    """The score a pair needs to be flagged in a class of `students`."""
    pairs = max(1, students * (students - 1) // 2)
    return math.log10(pairs / alpha)


def _number_bucket(value: float) -> tuple[Hashable, ...]:
    if not math.isfinite(value):
        return ("nan", str(value))
    if abs(value) < 1e-6:
        return ("0",)
    return ("n", value > 0, math.floor(math.log10(abs(value)) * _STEPS_PER_DECADE))


def _flatten(value: Any) -> list[Any]:
    out: list[Any] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        else:
            out.append(item)
    return out


def _normal_text(text: str) -> str:
    return "".join(text.split()).lower()


def home_bucket(value: Any, text: str) -> Hashable:
    """The bucket of a value: numbers by sign and log-magnitude, arrays of numbers by size
    and first entry, anything else by `text` (its written form), spaces and case aside."""
    if isinstance(value, numbers.Real) and not isinstance(value, bool):
        return _number_bucket(float(value))
    if isinstance(value, (list, tuple)) and value:
        flat = _flatten(value)
        if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in flat):
            return ("a", len(flat), _number_bucket(float(flat[0])))
    return ("t", _normal_text(text))


def _near(bucket: tuple[Any, ...]) -> list[tuple[Any, ...]]:
    """A number bucket and its neighbours: a value within tolerance lies in one of them."""
    if bucket[0] == "0":
        return [bucket, ("n", True, _ZERO_EDGE), ("n", False, _ZERO_EDGE)]
    if bucket[0] != "n":
        return [bucket]
    near = [("n", bucket[1], bucket[2] + d) for d in (-1, 0, 1)]
    return near + ([("0",)] if bucket[2] <= _ZERO_EDGE + 1 else [])


def near_buckets(value: Any, text: str) -> list[Hashable]:
    """The buckets where a value within the question's tolerance of this one may lie."""
    home = home_bucket(value, text)
    assert isinstance(home, tuple)
    if home[0] == "a":
        return [("a", home[1], b) for b in _near(home[2])]
    return list(_near(home))


@dataclass
class _Group:
    """The records of one exercise, indexed by their answers' and keys' buckets."""

    records: list[AnswerRecord]
    by_answer: dict[Hashable, list[int]] = field(default_factory=lambda: defaultdict(list))
    by_key: dict[Hashable, list[int]] = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self) -> None:
        for i, r in enumerate(self.records):
            if r.parsed is not None:
                self.by_answer[home_bucket(r.parsed, r.text)].append(i)
            self.by_key[home_bucket(r.key, _key_text(r))].append(i)


def _key_text(record: AnswerRecord) -> str:
    try:
        return record.check.to_text(record.key)
    except Exception:  # a check that cannot show a key: compared by its repr
        return repr(record.key)


def _matches(record: AnswerRecord, key: Any) -> bool:
    try:
        return answer_matches(record.check, record.parsed, key)
    except Exception:  # answers of different shapes, a check that cannot compare them
        return False


def _key_agreements(group: _Group, answered: int) -> Iterable[Agreement]:
    """`key` agreements. How many students answered a given key is counted once per
    distinct key (keys repeat when parameter spaces are small) and a student's match with
    a key once per distinct key: popular values cost a dictionary lookup per pair."""
    records = group.records
    key_texts = [_normal_text(_key_text(r)) for r in records]
    own = [r.parsed is not None and _matches(r, r.key) for r in records]
    answering: dict[str, int] = {}

    def answered_with(j: int) -> int:
        text = key_texts[j]
        if text not in answering:
            key_of = records[j]
            answering[text] = sum(
                1 for bucket in near_buckets(key_of.key, _key_text(key_of))
                for i in group.by_answer.get(bucket, ()) if _matches(records[i], key_of.key)
            )
        return answering[text]

    for i, record in enumerate(records):
        if record.parsed is None or record.correct or own[i]:
            continue
        matched: dict[str, bool] = {}
        for bucket in near_buckets(record.parsed, record.text):
            for j in group.by_key.get(bucket, ()):
                other = records[j]
                if other.student == record.student:
                    continue
                # the students besides these two who gave this value: neither the copier
                # (who matches it) nor the key's owner (when they answered it)
                others = answered_with(j) - 1 - int(own[j])
                if others >= MAX_GROUP:
                    continue
                text = key_texts[j]
                if text not in matched:
                    matched[text] = _matches(record, other.key)
                if not matched[text]:
                    continue
                p = (others + 1) / (answered - 2 + 1)
                yield Agreement("key", record.student, other.student, record.item, other.item,
                                record.exercise, record.text, others, min(1.0, p))


def _wrong_agreements(group: _Group, answered: int) -> Iterable[Agreement]:
    by_text: dict[str, list[AnswerRecord]] = defaultdict(list)
    for record in group.records:
        if record.parsed is not None and not record.correct:
            by_text[_normal_text(record.text)].append(record)
    for same in by_text.values():
        if len(same) < 2 or len(same) - 2 >= MAX_GROUP:
            continue
        p = min(1.0, (len(same) - 2 + 1) / (answered - 2 + 1))
        for i, first in enumerate(same):
            for second in same[i + 1 :]:
                if first.student != second.student:
                    yield Agreement("wrong", first.student, second.student, first.item, second.item,
                                    first.exercise, first.text, len(same) - 2, p)


def find_pairs(records: Sequence[AnswerRecord], students: int | None = None, alpha: float = ALPHA) -> list[AnswerPair]:
    """Every pair with at least one agreement, best first (see the module docstring);
    `students`: the class size for the threshold (default: students with a record)."""
    by_exercise: dict[str, list[AnswerRecord]] = defaultdict(list)
    for r in records:
        if getattr(r.check, "kind", "") not in SKIPPED_KINDS:
            by_exercise[r.exercise].append(r)
    class_size = students if students is not None else len({r.student for r in records})
    cut = threshold(class_size, alpha)
    evidence: dict[tuple[str, str], dict[tuple[str, str], Agreement]] = defaultdict(dict)
    for exercise_records in by_exercise.values():
        group = _Group(exercise_records)
        answered = sum(1 for r in exercise_records if r.parsed is not None)
        for agreement in [*_key_agreements(group, answered), *_wrong_agreements(group, answered)]:
            pair = tuple(sorted((agreement.a, agreement.b)))
            forward = pair[0] == agreement.a
            items = (agreement.item_a, agreement.item_b) if forward else (agreement.item_b, agreement.item_a)
            known = evidence[pair].get(items)  # type: ignore[index]
            if known is None or agreement.p < known.p or (agreement.kind == "key" and known.kind != "key"):
                evidence[pair][items] = agreement  # type: ignore[index]
    pairs = []
    for (a, b), found in evidence.items():
        agreements = tuple(sorted(found.values(), key=lambda g: (g.kind != "key", g.p, g.item_a)))
        log_chance = sum(math.log10(g.p) for g in agreements)
        score = -log_chance
        pairs.append(AnswerPair(a, b, score, 10.0 ** log_chance, score >= cut, agreements))
    return sorted(pairs, key=lambda p: (-p.score, p.a, p.b))
