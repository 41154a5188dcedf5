"""Writing the students' and the keys' folders of a quiz, in this process or, for a large
class on Linux, in two forked worker processes (each writes its own students; the files are
the same bytes either way).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable, Sequence

from grader.errors import GraderError
from grader.bank import Bank
from grader.kit.build import write_kit
from grader.notebooks import NOTEBOOK_FILE, handout_notebook
from grader.quiz.answer_sheet import blank_sheet, key_sheet
from grader.quiz.build import build_student_quiz, select_for_student
from grader.quiz.documents import json_text, public_document, variant_document
from grader.quiz.model import StudentQuiz
from grader.quiz.render import render_pages
from grader.quiz.roster import Student
from grader.quiz.spec import QuizSpec
from grader.torch_threads import one_thread

Progress = Callable[[int, int], None]
PARALLEL_FROM = 64  # fewer students are written in this process
_CHUNK = 25


class CodeFilesError(GraderError, RuntimeError):
    """The quiz has code exercises but their stubs or solutions cannot be written."""


@dataclass(frozen=True)
class Job:
    """Everything a worker needs; inherited through fork, never pickled."""

    root: Path
    spec: QuizSpec
    secret: bytes
    bank: Bank


_job: Job | None = None


def _write(path: Path, text: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        handle.write(text)


def _code_files(quiz: StudentQuiz) -> tuple[str, str]:
    """(students' exercise.py, key's exercise.py)."""
    try:
        from grader.code.stubs import solution_file, stub_file
    except ImportError as error:
        raise CodeFilesError(f"the quiz has code exercises but their stubs cannot be written ({error})") from None
    exercises = [item.exercise for item in quiz.code]
    try:
        return stub_file(exercises), solution_file(exercises)
    except (OSError, ValueError, SyntaxError) as error:
        raise CodeFilesError(f"cannot write the code exercises' files: {error}") from None


def _notebook(spec: QuizSpec, quiz: StudentQuiz) -> str:
    """exercise.ipynb: each function's title, docstring and stub, then the kit's check."""
    functions = [(item.exercise.title, item.exercise.docstring, item.exercise.stub) for item in quiz.code]
    return handout_notebook(spec.title, functions, f"python check.pyz {NOTEBOOK_FILE}")


def write_student(root: Path, spec: QuizSpec, quiz: StudentQuiz) -> None:
    """students/<id>/ and key/<id>/ of one student."""
    student_dir = root / "students" / quiz.student.id
    key_dir = root / "key" / quiz.student.id
    student_dir.mkdir(parents=True)
    key_dir.mkdir(parents=True)
    markdown, html = render_pages(spec.title, spec.quiz_id, spec.mode, quiz)
    _write(student_dir / "quiz.md", markdown)
    _write(student_dir / "quiz.html", html)
    if quiz.questions:
        _write(student_dir / "answers.toml", blank_sheet(spec.title, spec.quiz_id, quiz))
        _write(key_dir / "answers.toml", key_sheet(spec.title, spec.quiz_id, quiz))
    if quiz.code:
        stubs, solution = _code_files(quiz)
        _write(student_dir / "exercise.py", stubs)
        _write(key_dir / "exercise.py", solution)
        if spec.handout == "notebook":
            _write(student_dir / NOTEBOOK_FILE, _notebook(spec, quiz))
    _write(student_dir / "quiz.json", json_text(public_document(spec, quiz)))
    write_kit(student_dir, spec, quiz)
    _write(key_dir / "variant.json", json_text(variant_document(spec, quiz)))


def _write_students(job: Job, students: Sequence[Student]) -> tuple[int, int]:
    """Write these students; (answer questions, code functions) of the last one."""
    counts = (0, 0)
    for student in students:
        exercises = select_for_student(job.bank, job.spec, job.secret, student)
        quiz = build_student_quiz(exercises, job.spec, job.secret, student)
        write_student(job.root, job.spec, quiz)
        counts = (len(quiz.questions), len(quiz.code))
    return counts


def _worker_chunk(students: Sequence[Student]) -> tuple[int, int]:
    assert _job is not None, "worker started without a job"
    return _write_students(_job, students)


def default_workers(students: int) -> int:
    """2 forked workers for a large class where fork is safe and there are 2 cores, else 1."""
    if students < PARALLEL_FROM or not sys.platform.startswith("linux"):
        return 1
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    return 2 if (os.cpu_count() or 1) >= 2 else 1


def write_all(job: Job, *, workers: int | None = None, progress: Progress | None = None) -> tuple[int, int]:
    """Write every student's folders; (answer questions, code functions) per student."""
    students = list(job.spec.students)
    workers = default_workers(len(students)) if workers is None else workers
    chunks = [students[i:i + _CHUNK] for i in range(0, len(students), _CHUNK)]
    with one_thread():  # not fork-safe with several; and it slows the tiny tensors of variant generation
        if workers <= 1:
            results = map(lambda chunk: _write_students(job, chunk), chunks)
            return _drain(chunks, results, len(students), progress)
        global _job
        _job = job
        try:
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                return _drain(chunks, pool.imap(_worker_chunk, chunks), len(students), progress)
        finally:
            _job = None


def _drain(
    chunks: list[list[Student]], results: Iterable[tuple[int, int]], total: int, progress: Progress | None
) -> tuple[int, int]:
    counts, done = (0, 0), 0
    for chunk, counts in zip(chunks, results):
        done += len(chunk)
        if progress:
            progress(done, total)
    return counts


