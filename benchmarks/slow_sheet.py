"""Time `grader grade` on the answer sheet that used to stall a batch (issue 10 §2).

One student hands in a ~1 MB answers.toml of 3,066 matrix entries such as
``((3^630/2^999)^20)*...`` (a 73x42 matrix where the key is 3x3, and two 3x3 matrices of the
same entries); another hands in the key.  Prints the seconds the whole batch took and the
per-item verdicts of the slow sheet (the old code took minutes).

    python benchmarks/slow_sheet.py
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

from grader.gradebook.runner import grade_batch
from grader.gradebook.store import Gradebook
from grader.quiz.create import new_quiz
from grader.quiz.roster import Student
from grader.quiz.spec import QuizSpec

BANK = '''
from grader.answers import Matrix
from grader.exercise import AnswerExercise


def _matrix(i):
    return AnswerExercise(
        id=f"bench_matrix{i}", title="A 3x3 matrix", section=1,
        generate=lambda rng: {"a": int(rng.integers(2, 9))},
        prompt="Write {{ a }} times the 3x3 identity.",
        solve=lambda p: [[float(p["a"]) if i == j else 0.0 for j in range(3)] for i in range(3)],
        check=Matrix(),
    )


EXERCISES = [_matrix(i) for i in range(3)]
'''

ENTRY = json.dumps("*".join(["((3^630/2^999)^20)"] * 13))


def slow_sheet(rows: int = 73, cols: int = 42) -> str:
    row = "[" + ", ".join([ENTRY] * cols) + "]"
    small = "[" + ", ".join("[" + ", ".join([ENTRY] * 3) + "]" for _ in range(3)) + "]"
    return f"q1 = [{', '.join([row] * rows)}]\nq2 = {small}\nq3 = {small}\n"


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "bank").mkdir()
        (root / "bank" / "bench_bank.py").write_text(BANK, encoding="utf-8")
        quiz = root / "quiz"
        new_quiz(quiz, QuizSpec(students=(Student("s1"), Student("s2")), bank_dirs=(str(root / "bank"),),
                                exercises=("bench_matrix0", "bench_matrix1", "bench_matrix2"), title="bench"))
        subs = root / "subs"
        (subs / "s1").mkdir(parents=True)
        sheet = slow_sheet()
        (subs / "s1" / "answers.toml").write_text(sheet, encoding="utf-8")
        key = json.loads((quiz / "key" / "s2" / "variant.json").read_text(encoding="utf-8"))
        (subs / "s2").mkdir()
        (subs / "s2" / "answers.toml").write_text(
            "".join(f"{q['question']} = {json.dumps(q['answer'])}\n" for q in key["questions"]), encoding="utf-8")
        start = time.perf_counter()
        summary = grade_batch(subs, quiz, out=root / "out", jobs=1)
        seconds = time.perf_counter() - start
        print(f"slow sheet: {len(sheet.encode()):,} bytes, {sheet.count('((3^630') // 13:,} entries")
        print(f"batch of 2 students graded in {seconds:.2f} s (graded: {', '.join(summary.graded)})")
        with Gradebook(root / "out" / "gradebook.sqlite") as book:
            for r in book.results():
                print(f"  {r.student} {r.item}: {r.status} {r.score:g}/{r.max_score:g}  {r.feedback[:70]}")


if __name__ == "__main__":
    main()
