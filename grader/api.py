"""The Python API behind the command line: everything `grader` does is callable from here.

    list_exercises(topic=None)              -> [{id, title, section, topic, kind, points}]
    preview_exercise(exercise_id, seed=0)   -> Preview (prompt, key, misconceptions)
    make_variant(exercise, seed)            -> Variant            (grader.variant)
    render_prompt(exercise, variant)        -> Markdown with LaTeX (grader.prompts)
    grade_answer(exercise, variant, raw)    -> ItemResult          (grader.grading)
    create_quiz(out, ...)                   -> QuizSummary
    check_answers(path, quiz_dir=None)      -> AnswerCheckReport   (grader.quiz.check)
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Sequence

from grader.bank import Bank, default_bank, load_bank, resolve_topic
from grader.exercise import AnswerExercise, Exercise
from grader.grading import grade_answer
from grader.prompts import render_prompt
from grader.quiz.check import check_answers
from grader.quiz.create import QuizSummary, new_quiz
from grader.quiz.roster import read_roster, students_from_ids
from grader.quiz.spec import QuizSpec
from grader.variant import Variant, make_variant

__all__ = [
    "Preview", "list_exercises", "preview_exercise", "make_variant", "render_prompt",
    "grade_answer", "create_quiz", "check_answers", "bank_for",
]


def bank_for(bank_dirs: Sequence[str | Path] = ()) -> Bank:
    return load_bank(bank_dirs) if bank_dirs else default_bank()


def list_exercises(topic: str | None = None, bank_dirs: Sequence[str | Path] = ()) -> list[dict[str, Any]]:
    """The bank as rows of {id, title, section, topic, kind, points}."""
    bank = bank_for(bank_dirs)
    wanted = resolve_topic(topic) if topic else None
    return [
        {"id": e.id, "title": e.title, "section": e.section, "topic": e.topic, "kind": e.kind, "points": e.points}
        for e in bank
        if wanted is None or e.topic == wanted
    ]


@dataclass(frozen=True)
class Preview:
    """One variant of an exercise as an instructor previews it."""

    exercise: Exercise
    seed: int
    prompt: str
    answer_format: str = ""
    key: str = ""
    key_toml: Any = None
    misconceptions: list[tuple[str, str, str]] = field(default_factory=list)  # tag, answer, feedback
    extra: dict[str, Any] = field(default_factory=dict)


def _answer_preview(exercise: AnswerExercise, seed: int) -> Preview:
    variant: Variant = make_variant(exercise, seed)
    check = exercise.check_for(variant.params)
    feedback = {m.tag: m.feedback for m in exercise.misconceptions}
    return Preview(
        exercise=exercise,
        seed=seed,
        prompt=render_prompt(exercise, variant),
        answer_format=check.describe(variant.key),
        key=check.to_text(variant.key),
        key_toml=check.to_toml(variant.key),
        misconceptions=[(t, check.to_text(a), feedback[t]) for t, a in variant.misconceptions.items()],
    )


def _code_preview(exercise: Exercise, seed: int) -> Preview:
    try:
        from grader.code.preview import code_preview_details
    except ImportError:
        details = _basic_code_details(exercise)
    else:
        details = code_preview_details(exercise, seed)
    return Preview(
        exercise=exercise,
        seed=seed,
        prompt=details["prompt"],
        answer_format=f"function `{getattr(exercise, 'function', '?')}` in exercise.py",
        key=str(details.get("solution", details.get("key", ""))),
        misconceptions=[_misconception_row(m) for m in details.get("misconceptions", [])],
        extra=details,
    )


def _without_docstring(source: str) -> str:
    """A module's source without its docstring (the preview shows the code)."""
    tree = ast.parse(source)
    first = tree.body[0] if tree.body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        source = "".join(source.splitlines(keepends=True)[first.end_lineno or 0:])
    return source.strip() + "\n"


def _misconception_row(entry: Any) -> tuple[str, str, str]:
    """(tag, answer or behaviour, feedback) from a tuple or a dict."""
    if isinstance(entry, dict):
        behaviour = entry.get("answer", entry.get("behaviour", entry.get("output", "")))
        return str(entry.get("tag", "")), str(behaviour), str(entry.get("feedback", ""))
    tag, behaviour, feedback = (list(entry) + ["", "", ""])[:3]
    return str(tag), str(behaviour), str(feedback)


def _basic_code_details(exercise: Exercise) -> dict[str, Any]:
    """What the declaration alone says about a code exercise (used when the code package
    has no preview of its own): its stub, public tests and misconceptions."""
    signature = getattr(exercise, "signature", "")
    docstring = getattr(exercise, "docstring", "")
    tests = [t.name for t in getattr(exercise, "public_tests", ())]
    try:
        from grader.code.stubs import solution_file

        solution = _without_docstring(solution_file([exercise]))  # type: ignore[list-item]
    except (ImportError, OSError, ValueError, SyntaxError):
        solution = ""
    return {
        "prompt": f"```python\n{signature}\n```\n\n{docstring.strip()}",
        "solution": solution,
        "misconceptions": [(m.tag, "", m.feedback) for m in getattr(exercise, "misconceptions", ())],
        "tests": f"Public tests: {', '.join(tests)}" if tests else "",
    }


def preview_exercise(exercise_id: str, seed: int = 0, bank_dirs: Sequence[str | Path] = ()) -> Preview:
    exercise = bank_for(bank_dirs).get(exercise_id)
    if isinstance(exercise, AnswerExercise):
        return _answer_preview(exercise, seed)
    return _code_preview(exercise, seed)


def create_quiz(
    out: Path,
    *,
    title: str = "Quiz",
    student_ids: Iterable[str] = (),
    roster: Path | None = None,
    topics: Sequence[str] = (),
    exercise_ids: Sequence[str] = (),
    kind: str = "all",
    count: int = 0,
    shuffle_exercises: bool = False,
    mode: str = "exam",
    handout: str = "script",
    secret_file: Path | None = None,
    bank_dirs: Sequence[str | Path] = (),
    progress: Any = None,
    workers: int | None = None,
) -> QuizSummary:
    """`grader new-quiz`: see grader.quiz.create for the files written.  `progress(done,
    total)` is called as students are written; `workers` processes write them (default:
    2 for a large class on Linux)."""
    students = read_roster(roster) if roster else students_from_ids(student_ids)
    resolved_topics = tuple(resolve_topic(t) for t in topics)  # before the (slow) bank loads
    bank = bank_for(bank_dirs)
    spec = QuizSpec(
        title=title,
        students=tuple(students),
        mode=mode,
        kind=kind,
        topics=resolved_topics,
        exercises=tuple(exercise_ids),
        count=count,
        shuffle_exercises=shuffle_exercises,
        handout=handout,
        bank_dirs=tuple(str(Path(d).resolve()) for d in bank_dirs),
    )
    return new_quiz(Path(out), spec, secret_file=secret_file, bank=bank, progress=progress, workers=workers)
