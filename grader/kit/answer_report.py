"""Checking answers.toml against a quiz's public description (and, in practice mode, keys
given as values): the one implementation behind `grader check answers.toml` and the kit.

`data` is the student's quiz as plain data (what `students/<id>/quiz.json` holds): `mode`,
and per question `question`, `points`, `format` and `check` (the check's kind and public
settings, see `describe` and `grader.answers.registry`).  In practice mode a question may
also carry `key` (the check's canonical answer, as JSON) and `misconceptions`
(`[{tag, feedback, answer}]`, each answer in the same form): values only, never code.
Exam-mode output never depends on whether an answer is right.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..answers import registry
from ..answers._timelimit import within_budget
from ..answers.base import AnswerCheck, AnswerParseError, answer_matches
from ..answers.credit import CreditRuleError, parse_rule
from .sheet import read_sheet_bytes


@dataclass(frozen=True)
class AnswerLine:
    """One question: status ok | missing | invalid (exam) or correct | partial | incorrect |
    missing | invalid (graded); `read_as` says how the answer was understood."""

    question: str
    status: str
    message: str = ""
    read_as: str = ""
    score: float | None = None
    max_score: float | None = None
    misconception: str | None = None


@dataclass
class AnswerReport:
    path: str
    mode: str
    graded: bool
    lines: list[AnswerLine] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        """1 when a file-level problem, a missing or an unreadable answer was found, else 0."""
        bad = {"missing", "invalid"}
        return 1 if self.problems or any(line.status in bad for line in self.lines) else 0

    @property
    def score(self) -> tuple[float, float]:
        return (
            sum(line.score or 0.0 for line in self.lines),
            sum(line.max_score or 0.0 for line in self.lines),
        )


def is_blank(raw: Any) -> bool:
    """An unanswered question: absent, an empty string or an empty array."""
    if raw is None:
        return True
    if isinstance(raw, str):
        return raw.strip() == ""
    if isinstance(raw, list):
        return len(raw) == 0
    return False


def describe(check: AnswerCheck, key: Any = None) -> dict[str, Any]:
    """A check as plain data (`grader.answers.registry.describe`); with the key, also the
    shape a matrix answer must have (its format comment states it already)."""
    description = registry.describe(check)
    if description["kind"] == "matrix" and key is not None:
        description["shape"] = list(_shape(check.to_toml(key)))
    return description


def rebuild_check(description: Any) -> AnswerCheck | None:
    """The check again, or None for a description this version cannot rebuild."""
    return registry.rebuild(description)


def _shape(value: Any) -> tuple[int, ...]:
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(row, (list, tuple)) for row in value):
            return (len(value), len(value[0]))
        return (len(value),)
    return ()


def _shape_words(shape: tuple[int, ...]) -> str:
    if len(shape) == 1:
        return f"a vector of {shape[0]} numbers"
    if len(shape) == 2:
        return f"a {shape[0]}x{shape[1]} matrix"
    return "a single value"


def format_problem(description: dict[str, Any], parsed: Any) -> str | None:
    """Why a readable answer still does not have the announced form (a matrix of another
    shape), or None.  Says nothing about whether it is right."""
    expected = description.get("shape")
    if not isinstance(expected, list):
        return None
    got = _shape(parsed)
    if list(got) == expected:
        return None
    return f"the question asks for {_shape_words(tuple(expected))}, this is {_shape_words(got)}"


def read_as(check: AnswerCheck, parsed: Any) -> str:
    """How a parsed answer was understood, in a few words (`read as ["A", "C"]`)."""
    kind = check.kind
    try:
        if kind == "multiple_choice":
            return "read as [" + ", ".join(f'"{letter}"' for letter in parsed) + "]"
        if kind in ("single_choice", "word"):
            return f'read as "{parsed}"'
        if kind == "shape":
            sizes = len(parsed)
            return f"read as {check.to_text(parsed)}: a shape of {sizes} size{'s' if sizes != 1 else ''}"
        if kind == "matrix":
            return f"read as {_shape_words(_shape(parsed))} {check.to_text(parsed)}"
        text = check.to_text(parsed)
    except Exception:  # a check that cannot show a parsed value: no echo
        return ""
    return f"read as {text}"


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 3] + "..."


def check_sheet(raw: bytes, data: dict[str, Any], name: str = "answers.toml") -> AnswerReport:
    """Check one sheet's bytes against `data` (see the module docstring).  Every problem is
    reported: file-level ones (not UTF-8, broken lines, unknown questions) and each
    question's own line."""
    mode = str(data.get("mode", "exam"))
    questions = [q for q in data.get("questions", []) if isinstance(q, dict) and isinstance(q.get("question"), str)]
    graded = mode == "practice" and bool(questions) and all("key" in q for q in questions)
    report = AnswerReport(name, mode, graded)
    sheet = read_sheet_bytes(raw, name)
    report.problems.extend(sheet.problems)
    known = [q["question"] for q in questions]
    unknown = sorted(set(sheet.answers) - set(known))
    if unknown:
        report.problems.append(
            f"{name}: answers to unknown questions: {', '.join(unknown)} "
            f"(this quiz has {', '.join(known) or 'no answer questions'})"
        )
    report.lines, _ = within_budget(
        questions, lambda q: _check_one(q, sheet.answers.get(q["question"]), graded),
        lambda q, why: AnswerLine(q["question"], "invalid", why),
    )
    return report


def _check_one(question: dict[str, Any], raw: Any, graded: bool) -> AnswerLine:
    qid = question["question"]
    description = question.get("check", {})
    points = float(question.get("points", 0.0)) if graded else None
    zero = 0.0 if graded else None
    if is_blank(raw):
        return AnswerLine(qid, "missing", f"no answer yet ({question.get('format', '')})", score=zero, max_score=points)
    check = rebuild_check(description)
    if check is None:
        return AnswerLine(qid, "ok", "present (format not checked by this version)")
    try:
        parsed = check.parse(raw)
    except AnswerParseError as error:
        return AnswerLine(qid, "invalid", str(error), score=zero, max_score=points)
    echo = read_as(check, parsed)
    if graded:  # a matrix of another shape is graded (and may be a known mistake)
        return _graded(question, check, parsed, echo, points or 0.0)
    problem = format_problem(description, parsed)
    if problem:
        return AnswerLine(qid, "invalid", problem, echo)
    return AnswerLine(qid, "ok", "", echo)


def _graded(question: dict[str, Any], check: AnswerCheck, parsed: Any, echo: str, points: float) -> AnswerLine:
    """Practice mode: the answer against the key, and the misconception it matches."""
    qid = question["question"]
    key = question["key"]
    outcome = check.grade(parsed, key)
    try:
        rule = parse_rule(str(question.get("rule", "proportional")))
    except CreditRuleError:
        rule = parse_rule("proportional")
    fraction = rule.apply(outcome.fraction)
    message, tag = outcome.message, None
    if not outcome.correct:
        for mistake in question.get("misconceptions", []):
            try:
                if answer_matches(check, parsed, mistake["answer"]):
                    tag = str(mistake["tag"])
                    sentence = str(mistake.get("feedback", ""))
                    message = sentence if not message else f"{sentence} ({message})"
                    fraction = max(0.0, min(1.0, float(mistake.get("credit", 0.0))))
                    break
            except (AnswerParseError, KeyError, TypeError, ValueError):
                continue
    status = "correct" if fraction >= 1.0 else "incorrect" if fraction <= 0.0 else "partial"
    return AnswerLine(qid, status, message, echo, round(points * fraction, 6), points, tag)
