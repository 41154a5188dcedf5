"""A quiz's grading policy, read from optional tables of its `quiz.toml`:

    [grading]
    partial_credit = "all-or-nothing"        # proportional | all-or-nothing | threshold:T
    [grading.exercises]
    cnn_conv_output_size = "threshold:0.5"   # per exercise id, wins over the quiz's rule

    [late]
    deadline = 2026-12-01T23:59:00+01:00     # TOML date-time (or text); no offset means UTC
    penalty_per_day = 0.10                   # share of the total per started day late
    max_penalty = 0.5                        # the cap (default 1: everything)
    grace_minutes = 0
    extensions_file = "roster.csv"           # optional, relative to the quiz folder
    extension_column = "extension"           # days (a number) or a new deadline (date-time)
    [late.extensions]                        # optional, the same per student id
    u2024007 = 2

The partial-credit rule of an item: the quiz's per-exercise entry, else the quiz's rule,
else the exercise's own declaration (`AnswerExercise.partial_credit`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any, Mapping

from grader.answers.credit import CreditRule, CreditRuleError, parse_rule
from grader.quiz.roster import RosterError, read_csv
from grader.quiz.spec import SpecError, read_spec_table


@dataclass(frozen=True)
class LatePolicy:
    """deadline: the quiz's (aware) deadline; extensions: student id -> their own deadline."""

    deadline: datetime
    penalty_per_day: float
    max_penalty: float = 1.0
    grace_minutes: float = 0.0
    extensions: Mapping[str, datetime] = field(default_factory=dict)

    def deadline_of(self, student: str) -> datetime:
        return self.extensions.get(student, self.deadline)

    def to_json(self) -> str:
        return json.dumps({
            "deadline": self.deadline.isoformat(), "penalty_per_day": self.penalty_per_day,
            "max_penalty": self.max_penalty, "grace_minutes": self.grace_minutes,
            "extensions": {s: d.isoformat() for s, d in sorted(self.extensions.items())},
        }, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> "LatePolicy":
        data = json.loads(text)
        return cls(
            datetime.fromisoformat(data["deadline"]), float(data["penalty_per_day"]),
            float(data["max_penalty"]), float(data["grace_minutes"]),
            {s: datetime.fromisoformat(d) for s, d in data["extensions"].items()},
        )


@dataclass(frozen=True)
class QuizPolicy:
    partial_credit: CreditRule | None = None
    per_exercise: Mapping[str, CreditRule] = field(default_factory=dict)
    late: LatePolicy | None = None

    def rule_for(self, exercise_id: str) -> CreditRule | None:
        """The quiz's rule for this exercise; None: the exercise's own."""
        return self.per_exercise.get(exercise_id, self.partial_credit)

    def grading_fingerprint(self) -> str:
        """What grades depend on in this policy (the late policy is applied afterwards)."""
        rules = {k: str(v) for k, v in sorted(self.per_exercise.items())}
        return json.dumps([str(self.partial_credit or ""), rules])


def _when(value: Any, where: str) -> datetime:
    """A TOML date-time, date (end of that day) or ISO text -> an aware datetime (UTC when
    no offset is given)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise SpecError(f"{where}: {value!r} is not a date-time like 2026-12-01T23:59:00+01:00") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        value = datetime.combine(value, time(23, 59, 59))
    if not isinstance(value, datetime):
        raise SpecError(f"{where}: expected a date-time, got {value!r}")
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


def _extension(value: Any, deadline: datetime, where: str) -> datetime:
    """A number of days after the deadline, or a new deadline."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return deadline + timedelta(days=float(value))
    if isinstance(value, str):
        try:
            return deadline + timedelta(days=float(value))
        except ValueError:
            pass
    return _when(value, where)


def _share(table: Mapping[str, Any], key: str, default: float, where: str) -> float:
    value = table.get(key, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise SpecError(f"{where}: {key} must be a number between 0 and 1, got {value!r}")
    return float(value)


def _late(table: Mapping[str, Any], quiz_dir: Path, path: Path) -> LatePolicy:
    where = f"{path} [late]"
    if "deadline" not in table:
        raise SpecError(f"{where}: a deadline is required")
    deadline = _when(table["deadline"], f"{where} deadline")
    extensions: dict[str, datetime] = {}
    if "extensions_file" in table:
        column = str(table.get("extension_column", "extension")).lower()
        file = quiz_dir / str(table["extensions_file"])
        try:
            rows, columns = read_csv(file, RosterError)
        except RosterError as error:
            raise SpecError(f"{where}: {error}") from None
        if "id" not in columns or column not in columns:
            raise SpecError(f"{where}: {file} needs the columns id and {column}")
        for line, row in rows:
            cell = (row.get(columns[column]) or "").strip()
            if cell:
                student = (row.get(columns["id"]) or "").strip()
                extensions[student] = _extension(cell, deadline, f"{file} line {line}")
    for student, value in dict(table.get("extensions", {})).items():
        extensions[str(student)] = _extension(value, deadline, f"{where} extensions.{student}")
    grace = table.get("grace_minutes", 0)
    if isinstance(grace, bool) or not isinstance(grace, (int, float)) or grace < 0:
        raise SpecError(f"{where}: grace_minutes must be a number of minutes")
    return LatePolicy(
        deadline, _share(table, "penalty_per_day", 0.1, where), _share(table, "max_penalty", 1.0, where),
        float(grace), extensions,
    )


def read_policy(quiz_dir: Path) -> QuizPolicy:
    """The `[grading]` and `[late]` tables of `quiz_dir/quiz.toml` (both optional)."""
    quiz_dir = Path(quiz_dir)
    path, data = read_spec_table(quiz_dir)
    grading = data.get("grading", {})
    try:
        quiz_rule = parse_rule(grading["partial_credit"]) if "partial_credit" in grading else None
        per_exercise = {str(k): parse_rule(v) for k, v in dict(grading.get("exercises", {})).items()}
    except (CreditRuleError, TypeError, ValueError) as error:
        raise SpecError(f"{path} [grading]: {error}") from None
    late = _late(data["late"], quiz_dir, path) if "late" in data else None
    return QuizPolicy(quiz_rule, per_exercise, late)
