"""answers.toml: the blank sheet a student fills in, the filled key, and reading a sheet back.

The blank sheet has one key per question, empty, with a comment giving the expected format;
the key sheet has the same schema filled with the correct answers (submitting it scores
full marks).
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, Sequence

from grader.errors import GraderError
from grader.kit.sheet import MAX_SHEET_BYTES  # the student files' one limit, shared with the kit
from grader.quiz.model import Question, StudentQuiz
from grader.student_file import MAX_BYTES, StudentFileError, decode
from grader.student_file import read_within as read_student_file
from grader.tomlfmt import toml_value


class SheetError(GraderError, ValueError):
    """answers.toml cannot be read; the message says why (and where)."""


def _comment(text: str) -> str:
    """Text that stays inside one TOML comment line (no line breaks or control characters)."""
    if not text.isprintable():
        text = "".join(c if c.isprintable() else " " for c in text)
    return " ".join(text.split())


def _header(title: str, quiz_id: str, quiz: StudentQuiz, what: str) -> list[str]:
    return [
        f"# {what} for {_comment(title)} (quiz {quiz_id})",
        f"# Student: {_comment(quiz.student.display)}",
        "# Write each answer after its '=' in TOML: numbers as 14 or 0.25, expressions and",
        '# fractions in quotes ("1/3", "s*(1-s)"), matrices as [[1, 2], [3, 4]], choices as "B".',
        "# Check the file with: grader check answers.toml",
        "",
    ]


def _question_comment(question: Question) -> str:
    fmt = question.check.describe(question.variant.key)
    points = f"{question.points:g} point{'s' if question.points != 1 else ''}"
    return f"# {question.qid}: {_comment(question.exercise.title)} ({points}) -- {_comment(fmt)}"


def blank_sheet(title: str, quiz_id: str, quiz: StudentQuiz) -> str:
    lines = _header(title, quiz_id, quiz, "Answer sheet")
    for question in quiz.questions:
        lines += [_question_comment(question), f'{question.qid} = ""', ""]
    return "\n".join(lines)


def key_sheet(title: str, quiz_id: str, quiz: StudentQuiz) -> str:
    lines = _header(title, quiz_id, quiz, "Answer KEY")
    for question in quiz.questions:
        value = question.check.to_toml(question.variant.key)
        lines += [_question_comment(question), f"{question.qid} = {toml_value(value)}", ""]
    return "\n".join(lines)


def parse_sheet(raw: bytes, name: str) -> dict[str, Any]:
    """The TOML table of a sheet's bytes (`name` prefixes the messages); SheetError when the
    bytes are over the size limit, not UTF-8 (a BOM is dropped: `grader.student_file.decode`)
    or not valid TOML."""
    try:
        text = decode(raw, name)
    except StudentFileError as error:
        raise SheetError(str(error)) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise SheetError(f"{name}: not valid TOML: {error}") from None
    except RecursionError:
        raise SheetError(f"{name}: nested too deeply to be read") from None


def read_sheet(path: Path, known: Sequence[str] | None = None) -> dict[str, Any]:
    """The answers of a sheet as {question id: TOML value}.

    Raises SheetError for a file that is too large, not UTF-8, not valid TOML (with the
    line), or that answers questions the quiz does not have (when `known` is given).
    """
    path = Path(path)
    try:
        raw = read_student_file(path)
    except StudentFileError as error:
        raise SheetError(f"{path}: {error}") from None
    answers = parse_sheet(raw, str(path))
    if known is not None:
        unknown = sorted(set(answers) - set(known))
        if unknown:
            raise SheetError(
                f"{path}: answers to unknown questions: {', '.join(unknown)} "
                f"(this quiz has {', '.join(known) or 'no answer questions'})"
            )
    return answers
