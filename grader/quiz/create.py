"""`grader new-quiz`: write a quiz folder, all at once or not at all.

Everything is written into a temporary folder beside `--out` and moved into place at the
end, so a failure leaves nothing half-written.  Layout (DESIGN.md):

    quiz.toml                    the spec (no secret)
    secret.key                   32 random bytes, unless --secret-file was given
    students/<id>/quiz.html      standalone page, math as MathML
    students/<id>/quiz.md
    students/<id>/answers.toml   one blank per question, with its expected format
    students/<id>/exercise.py    stubs of the code exercises (when there are any)
    students/<id>/quiz.json      question ids, points and formats for `grader check` (no key)
    key/<id>/answers.toml        the same sheet filled in: submitting it scores full marks
    key/<id>/variant.json        every question's parameters, answer and misconceptions
    key/<id>/exercise.py         the instructor's solution of the quiz's code exercises
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from grader.bank import Bank, load_bank
from grader.quiz.answer_sheet import blank_sheet, key_sheet
from grader.quiz.build import build_student_quiz, select_for_quiz, select_for_student
from grader.quiz.model import StudentQuiz, variant_record
from grader.quiz.public_check import describe_check
from grader.quiz.render import render_pages
from grader.quiz.spec import SECRET_FILE, SPEC_FILE, QuizSpec, secret_fingerprint
from grader.seeding import SECRET_BYTES, new_secret

Progress = Callable[[int, int], None]


class QuizError(ValueError):
    """The quiz cannot be created; the message says why."""


@dataclass(frozen=True)
class QuizSummary:
    out: Path
    spec: QuizSpec
    students: int
    questions: int
    code_functions: int


def read_secret(path: Path) -> bytes:
    try:
        secret = Path(path).read_bytes()
    except OSError as error:
        raise QuizError(f"{path}: cannot read the secret file ({error.strerror})") from None
    if len(secret) < 16:
        raise QuizError(f"{path}: a secret must be at least 16 bytes (new ones are {SECRET_BYTES})")
    return secret


def _check_out(out: Path) -> None:
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise QuizError(f"{out}: already exists and is not empty; choose a new folder")
    parent = out.resolve().parent
    if not parent.is_dir():
        raise QuizError(f"{out}: the parent folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise QuizError(f"{out}: cannot write into {parent}")


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8", newline="\n")


def code_record(item: Any) -> dict[str, Any]:
    from grader.code.judge import hidden_test_count

    return {
        "function": item.function,
        "exercise": item.exercise.id,
        "points": item.points,
        "generator_version": item.exercise.generator_version,
        "seed": str(item.seed),
        "hidden_tests": hidden_test_count(item.exercise),
    }


def variant_document(spec: QuizSpec, quiz: StudentQuiz) -> dict[str, Any]:
    return {
        "quiz_id": spec.quiz_id,
        "student": {"id": quiz.student.id, "name": quiz.student.name, "email": quiz.student.email},
        "questions": [variant_record(q) for q in quiz.questions],
        "code": [code_record(c) for c in quiz.code],
    }


def public_document(spec: QuizSpec, quiz: StudentQuiz) -> dict[str, Any]:
    """students/<id>/quiz.json: what `grader check` needs, and no key."""
    return {
        "quiz_id": spec.quiz_id,
        "title": spec.title,
        "mode": spec.mode,
        "student": quiz.student.id,
        "questions": [
            {
                "question": q.qid,
                "points": q.points,
                "format": q.check.describe(q.variant.key),
                "check": describe_check(q.check),
            }
            for q in quiz.questions
        ],
        "code": [{"function": c.function, "points": c.points} for c in quiz.code],
    }


def write_student(root: Path, spec: QuizSpec, quiz: StudentQuiz) -> None:
    """The student's folder and the key folder of one student."""
    student_dir = root / "students" / quiz.student.id
    key_dir = root / "key" / quiz.student.id
    markdown, html = render_pages(spec.title, spec.quiz_id, spec.mode, quiz)
    _write(student_dir / "quiz.md", markdown)
    _write(student_dir / "quiz.html", html)
    if quiz.questions:
        _write(student_dir / "answers.toml", blank_sheet(spec.title, spec.quiz_id, quiz))
        _write(key_dir / "answers.toml", key_sheet(spec.title, spec.quiz_id, quiz))
    if quiz.code:
        from grader.code.stubs import solution_file, stub_file

        exercises = [item.exercise for item in quiz.code]
        _write(student_dir / "exercise.py", stub_file(exercises))
        _write(key_dir / "exercise.py", solution_file(exercises))
    public = json.dumps(public_document(spec, quiz), indent=2, ensure_ascii=False)
    _write(student_dir / "quiz.json", public + "\n")
    document = variant_document(spec, quiz)
    _write(key_dir / "variant.json", json.dumps(document, indent=2, ensure_ascii=False) + "\n")


def new_quiz(
    out: Path,
    spec: QuizSpec,
    *,
    secret_file: Path | None = None,
    bank: Bank | None = None,
    progress: Progress | None = None,
) -> QuizSummary:
    """Create the quiz folder `out` for `spec` (see the module docstring)."""
    out = Path(out)
    _check_out(out)
    secret = read_secret(secret_file) if secret_file else new_secret()
    bank = bank or load_bank(spec.bank_dirs)
    selected = select_for_quiz(bank, spec, secret)
    spec = replace(
        spec, selected=tuple(e.id for e in selected), secret_fingerprint=secret_fingerprint(secret)
    )
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.resolve().parent))
    try:
        _write(staging / SPEC_FILE, spec.to_toml())
        if not secret_file:
            (staging / SECRET_FILE).write_bytes(secret)
            os.chmod(staging / SECRET_FILE, 0o600)
        questions = code = 0
        for done, student in enumerate(spec.students, start=1):
            exercises = select_for_student(bank, spec, secret, student)
            quiz = build_student_quiz(exercises, spec, secret, student)
            write_student(staging, spec, quiz)
            questions, code = len(quiz.questions), len(quiz.code)
            if progress:
                progress(done, len(spec.students))
        if out.exists():
            out.rmdir()
        os.rename(staging, out)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return QuizSummary(out, spec, len(spec.students), questions, code)
