"""The late policy (issue 13 §3): a deadline, a penalty per started day with a cap, and
per-student extensions from a roster column; the submission time from the files' times or
Canvas's LATE marker; the penalty shown apart from the raw score everywhere."""

from __future__ import annotations

import csv
import json
import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from grader.gradebook.late import FILE_TIME, LATE_MARKER, lateness
from grader.gradebook.runner import BatchError, grade_batch
from grader.quiz.policy import LatePolicy, read_policy
from grader.quiz.spec import SpecError

from .conftest import key_answers, make_quiz, write_answers

DEADLINE = datetime(2026, 11, 20, 23, 59, tzinfo=timezone.utc)


def _set_time(folder: Path, when: datetime) -> None:
    for file in folder.iterdir():
        os.utime(file, (when.timestamp(), when.timestamp()))


def test_penalty_per_started_day_capped_with_extensions_and_the_late_marker() -> None:
    policy = LatePolicy(DEADLINE, 0.1, 0.3, grace_minutes=10, extensions={"ext": DEADLINE + timedelta(days=2)})

    def days_and_fraction(student: str, delay: timedelta | None, source: str = FILE_TIME) -> tuple[int, float]:
        when = None if delay is None else (DEADLINE + delay).isoformat()
        late = lateness(policy, student, when, source)
        return late.days, round(late.fraction, 9)

    assert days_and_fraction("a", timedelta(minutes=-5)) == (0, 0.0)
    assert days_and_fraction("a", timedelta(minutes=9)) == (0, 0.0)  # within the grace
    assert days_and_fraction("a", timedelta(minutes=11)) == (1, 0.1)  # a started day
    assert days_and_fraction("a", timedelta(days=1, minutes=11)) == (2, 0.2)
    assert days_and_fraction("a", timedelta(days=9)) == (9, 0.3)  # the cap
    assert days_and_fraction("ext", timedelta(days=1)) == (0, 0.0)
    assert days_and_fraction("ext", timedelta(days=2, hours=1)) == (1, 0.1)
    marked = f"{FILE_TIME}, {LATE_MARKER}"
    assert days_and_fraction("a", timedelta(hours=-1), marked) == (1, 0.1)  # the LMS says late
    assert days_and_fraction("a", timedelta(days=2, hours=1), marked) == (3, 0.3)
    assert days_and_fraction("ext", timedelta(hours=-1), marked) == (0, 0.0)  # Canvas did not know the extension
    assert days_and_fraction("a", None) == (0, 0.0)


def test_the_policy_is_read_from_quiz_toml_with_roster_extensions(tmp_path: Path) -> None:
    (tmp_path / "quiz.toml").write_text(
        'title = "T"\nquiz_id = "t"\n[late]\ndeadline = 2026-11-20T23:59:00+01:00\npenalty_per_day = 0.25\n'
        'extensions_file = "roster.csv"\n[late.extensions]\nc = "2026-11-25T12:00:00Z"\n', encoding="utf-8")
    (tmp_path / "roster.csv").write_text("id,name,extension\na,A,2\nb,B,\n", encoding="utf-8")
    late = read_policy(tmp_path).late
    assert late is not None
    assert late.deadline == datetime(2026, 11, 20, 22, 59, tzinfo=timezone.utc)
    assert (late.penalty_per_day, late.max_penalty) == (0.25, 1.0)
    assert late.extensions == {"a": late.deadline + timedelta(days=2), "c": datetime(2026, 11, 25, 12, tzinfo=timezone.utc)}
    assert LatePolicy.from_json(late.to_json()) == late
    (tmp_path / "quiz.toml").write_text('title = "T"\nquiz_id = "t"\n[late]\npenalty_per_day = 2\n', encoding="utf-8")
    with pytest.raises(SpecError, match="deadline is required"):
        read_policy(tmp_path)


def test_late_submissions_lose_points_shown_apart_from_the_raw_score(tmp_path: Path, mini_bank: Path) -> None:
    quiz = make_quiz(tmp_path / "quiz", mini_bank)
    with (quiz / "quiz.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[late]\ndeadline = 2026-11-20T23:59:00Z\npenalty_per_day = 0.1\nmax_penalty = 0.3\n'
                     'extensions_file = "extensions.csv"\n')
    (quiz / "extensions.csv").write_text("id,extension\ns4,3\n", encoding="utf-8")
    subs = tmp_path / "subs"
    delays = {"s1": timedelta(hours=-2), "s2": timedelta(days=1, hours=3), "s3": timedelta(days=6), "s4": timedelta(days=2)}
    for student, delay in delays.items():
        write_answers(subs / student, key_answers(quiz, student))
        _set_time(subs / student, DEADLINE + delay)
    out = tmp_path / "out"
    grade_batch(subs, quiz, out=out, jobs=1)

    with (out / "totals.csv").open(encoding="utf-8", newline="") as handle:
        totals = {r["student"]: r for r in csv.DictReader(handle)}
    got = {s: (r["raw_total"], r["late_penalty"], r["total"], r["days_late"]) for s, r in totals.items()}
    assert got == {"s1": ("4", "0", "4", "0"), "s2": ("4", "0.8", "3.2", "2"),
                   "s3": ("4", "1.2", "2.8", "6"), "s4": ("4", "0", "4", "0")}
    with (out / "grades.csv").open(encoding="utf-8", newline="") as handle:
        penalties = {r["student"]: r["score"] for r in csv.DictReader(handle) if r["item"] == "late_penalty"}
    assert penalties == {"s2": "-0.8", "s3": "-1.2"}
    feedback = (out / "feedback" / "s2.html").read_text(encoding="utf-8")
    assert "Total: 3.2 / 4" in feedback and "before the late penalty: 4 / 4" in feedback and "2 days late" in feedback
    report = (out / "report.html").read_text(encoding="utf-8")
    assert "-1.2" in report and "(raw 4)" in report
    result = json.loads((out / "results" / "s3.json").read_text(encoding="utf-8"))
    assert result["score"] == 2.8 and "raw score 4" in result["output"]


def test_a_bad_late_table_stops_the_run(tmp_path: Path, mini_bank: Path) -> None:
    quiz = make_quiz(tmp_path / "quiz", mini_bank)
    with (quiz / "quiz.toml").open("a", encoding="utf-8") as handle:
        handle.write('\n[late]\ndeadline = "next friday"\n')
    (tmp_path / "subs").mkdir()
    with pytest.raises(BatchError, match="not a date-time"):
        grade_batch(tmp_path / "subs", quiz, out=tmp_path / "out", jobs=1)
