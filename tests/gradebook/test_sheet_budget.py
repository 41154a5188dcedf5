"""Issue 10 §2: an answer sheet cannot stall a batch.

The attack: a 1 MB answers.toml of 3,066 matrix entries like ``((3^630/2^999)^20)*...``
(each entry a few hundred thousand bits of exact arithmetic) took 581 s on the old code.
Now exact arithmetic is bounded after every operation, a matrix's shape is checked against
the key before its entries are read, and each answer and each sheet has a time budget.
"""

from __future__ import annotations

import json
import signal
import time
from fractions import Fraction
from pathlib import Path

import pytest

from grader.answers._timelimit import can_limit_time, run_with_budget
from grader.answers.safe_expr import MAX_EXACT_BITS, exact_value, parse_expression
from grader.gradebook.runner import grade_batch
from grader.gradebook.store import Gradebook
from grader.quiz.load import load_quiz
from grader.answers._timelimit import over_answer_budget, over_sheet_budget, within_budget
from grader.sheet_grading import grade_sheet

from .conftest import make_quiz

MATRIX_BANK = '''
import time
from grader.answers import Integer, Matrix
from grader.exercise import AnswerExercise, Misconception


class Slow(Integer):
    """An answer check that never finishes reading an answer of "slow"."""

    def parse(self, raw):
        if raw == "slow":
            while True:
                time.sleep(0.001)
        return super().parse(raw)


def _matrix(i):
    return AnswerExercise(
        id=f"hb_matrix{i}", title="A 3x3 matrix", section=1,
        generate=lambda rng: {"a": int(rng.integers(2, 9))},
        prompt="Write {{ a }} times the 3x3 identity.",
        solve=lambda p: [[float(p["a"]) if i == j else 0.0 for j in range(3)] for i in range(3)],
        check=Matrix(),
        misconceptions=(Misconception("ones", "Scale the identity.", lambda p: [[1.0] * 3] * 3),),
    )


def _slow(i):
    return AnswerExercise(
        id=f"hb_slow{i}", title="Slow to read", section=1,
        generate=lambda rng: {"n": int(rng.integers(3, 9))},
        prompt="Write {{ n }}.",
        solve=lambda p: p["n"], check=Slow(),
        misconceptions=(Misconception("plus_one", "Not that one.", lambda p: p["n"] + 1),),
    )


EXERCISES = [_matrix(i) for i in range(3)] + [_slow(i) for i in range(4)]
'''

FACTOR = "((3^630/2^999)^20)"
SLOW_ENTRY = "*".join([FACTOR] * 13)  # 246 characters, ~0.1 s each on the old code
ROWS, COLS = 73, 42  # 3,066 entries


@pytest.fixture(scope="module")
def matrix_quiz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    bank = tmp_path_factory.mktemp("hbank")
    (bank / "hb_bank.py").write_text(MATRIX_BANK, encoding="utf-8")
    root = tmp_path_factory.mktemp("hquiz")
    return make_quiz(root / "quiz", bank, exercises=("hb_matrix0", "hb_matrix1", "hb_matrix2"))


def _slow_sheet() -> str:
    """The attack sheet: q1 a 73x42 matrix (3,066 slow entries), q2 and q3 3x3 matrices of
    slow entries (the right shape, so their entries are read)."""
    row = "[" + ", ".join(json.dumps(SLOW_ENTRY) for _ in range(COLS)) + "]"
    big = "[" + ",\n".join([row] * ROWS) + "]"
    small = "[" + ", ".join("[" + ", ".join([json.dumps(SLOW_ENTRY)] * 3) + "]" for _ in range(3)) + "]"
    return f"q1 = {big}\nq2 = {small}\nq3 = {small}\n"


def test_the_slow_sheet_is_about_a_megabyte_of_3066_entries() -> None:
    text = _slow_sheet()
    assert 700_000 < len(text.encode()) <= 1_000_000
    assert text.count(FACTOR) == 13 * (ROWS * COLS + 18)


def test_exact_arithmetic_is_bounded_after_every_operation() -> None:
    node = parse_expression(SLOW_ENTRY)
    assert exact_value(node) is None  # 13 factors of 20,000 bits: over the bound, not computed
    small = parse_expression("(3^6/2^9)^2 * (1/3 + 2/7) - 5")
    assert exact_value(small) == (Fraction(3**6, 2**9) ** 2) * (Fraction(1, 3) + Fraction(2, 7)) - 5
    # one factor is within the bound and exact
    one = exact_value(parse_expression(FACTOR))
    assert one == Fraction(3**630, 2**999) ** 20
    assert max(one.numerator.bit_length(), one.denominator.bit_length()) <= MAX_EXACT_BITS


def test_the_slow_sheet_is_graded_and_the_batch_goes_on(tmp_path: Path, matrix_quiz: Path) -> None:
    subs = tmp_path / "subs"
    (subs / "s1").mkdir(parents=True)
    (subs / "s1" / "answers.toml").write_text(_slow_sheet(), encoding="utf-8")
    key = json.loads((matrix_quiz / "key" / "s2" / "variant.json").read_text(encoding="utf-8"))
    (subs / "s2").mkdir()
    (subs / "s2" / "answers.toml").write_text(
        "".join(f"{q['question']} = {json.dumps(q['answer'])}\n" for q in key["questions"]), encoding="utf-8"
    )
    summary = grade_batch(subs, matrix_quiz, out=tmp_path / "out", jobs=1)
    assert sorted(summary.graded) == ["s1", "s2"]
    with Gradebook(tmp_path / "out" / "gradebook.sqlite") as book:
        rows = {(r.student, r.item): r for r in book.results()}
    # the wrong shape is refused from its structure, before 3,066 entries are read
    assert rows[("s1", "q1")].status == "incorrect"
    assert "expected a 3x3 matrix, got a 73x42 matrix" in rows[("s1", "q1")].feedback
    # right shape: the entries are read (each is ~8.52e-38, so the six zeros of the key
    # are matched within atol and the diagonal is not) within the budget
    value = float(Fraction(3**630, 2**999) ** 20) ** 13
    for item in ("q2", "q3"):
        row = rows[("s1", item)]
        assert row.status == "partial", row.feedback
        assert row.score == pytest.approx(row.max_score * 6 / 9, abs=1e-6)
        assert f"{value / float(row.expected.split(',')[0].strip('[ ')):.4g} times the expected one" in row.feedback
    assert all(rows[("s2", q)].status == "correct" for q in ("q1", "q2", "q3"))


def test_an_answer_over_its_budget_and_a_sheet_over_its_budget_are_invalid(tmp_path: Path) -> None:
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "hb_bank.py").write_text(MATRIX_BANK, encoding="utf-8")
    quiz = make_quiz(tmp_path / "quiz", bank, exercises=tuple(f"hb_slow{i}" for i in range(4)))
    questions = load_quiz(quiz).student_quiz("s1").questions
    key = {q.qid: q.variant.key for q in questions}
    answers = {"q1": key["q1"], "q2": "slow", "q3": "slow", "q4": key["q4"]}
    results, durations = grade_sheet(questions, answers, answer_seconds=0.3, sheet_seconds=0.5)
    by_item = {r.item: r for r in results}
    assert by_item["q1"].status == "correct"
    assert by_item["q2"].status == "invalid" and by_item["q2"].feedback == over_answer_budget(0.3)
    # q3 starts with ~0.2 s of the sheet left: it runs out of the sheet's budget
    assert by_item["q3"].status == "invalid" and by_item["q3"].feedback == over_sheet_budget(0.5)
    # nothing is left for q4, so even the right answer is not graded
    assert by_item["q4"].status == "invalid" and by_item["q4"].feedback == over_sheet_budget(0.5)
    assert len(durations) == 4


@pytest.mark.skipif(not can_limit_time(), reason="needs SIGALRM on the main thread")
def test_budgets_nest_the_earlier_deadline_wins() -> None:
    def spin() -> None:
        while True:
            time.sleep(0.001)

    # the inner budget runs out first: only the inner computation ends
    done, value = run_with_budget(lambda: (run_with_budget(spin, 0.05), "outer went on"), 5.0)
    assert done and value == ((False, None), "outer went on")
    # the outer budget runs out during a longer inner one: the outer computation ends
    trace: list[str] = []

    def outer() -> None:
        run_with_budget(spin, 5.0)
        trace.append("after inner")

    assert run_with_budget(outer, 0.05) == (False, None)
    assert trace == []
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_the_matrix_precheck_passes_the_key_its_transpose_and_misconception_shapes() -> None:
    from grader.answers import Matrix

    check = Matrix()
    key = [[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]
    keys = [key, [[0.0, 0.0, 0.0]]]  # a misconception of another shape (1x3)
    for shape_ok in ([[1, 2, 3], [4, 5, 6]], [[1, 4], [2, 5], [3, 6]], [[7, 8, 9]]):
        assert check.precheck(shape_ok, keys) == ""
    # refused from the structure: the entry that cannot be read is never looked at
    assert check.precheck([["oops"] * 4] * 4, keys) == "expected a 2x3 matrix, got a 4x4 matrix"
    assert check.precheck([1, 2, 3], keys) == "expected a 2x3 matrix, got a vector of 3 numbers"
    assert check.precheck([[1, 2], [3]], keys) == ""  # ragged: parse() says why
    assert check.precheck("[[1, 2]]", keys) == ""  # text (bounded in length): parse() reads it
    # the transposed key still gets its diagnosis, after the precheck let it through
    transposed = check.grade(check.parse([[1, 4], [2, 5], [3, 6]]), key)
    assert transposed.fraction == 0 and "transpose" in transposed.message


@pytest.mark.skipif(not can_limit_time(), reason="needs SIGALRM on the main thread")
def test_within_budget_marks_slow_items_and_raises_real_errors_again() -> None:

    def work(i: int) -> str:
        while i == 1:
            time.sleep(0.001)
        return str(10 * i)

    results, durations = within_budget([1, 2], work, lambda i, why: why, answer_seconds=0.1, sheet_seconds=5.0)
    assert results == [over_answer_budget(0.1), "20"]
    assert durations[0] >= 0.1
    with pytest.raises(ZeroDivisionError):
        within_budget([0], lambda i: str(1 / i), lambda i, why: why)
