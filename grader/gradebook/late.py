"""When a submission was handed in, and the late penalty that follows from the quiz's
`[late]` policy (`grader.quiz.policy.LatePolicy`).

Submission time: the latest modification time of the student's files (LMS bulk downloads
keep the upload time there), and Canvas's `LATE` marker when a file name carries it
(`doejane_LATE_12345_67890_answers.toml`). A file marked LATE whose time says it was on
time (the time was lost when the files were copied) counts as one day late, unless the
student has an extension (Canvas's marker does not know about it).

Penalty: `penalty_per_day` of the student's total for every started day after their
deadline (the quiz's, or their extension's) plus `grace_minutes`, capped at `max_penalty`.
It is taken off the total after overrides, and shown apart from the raw score.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from grader.gradebook.submissions import Found
from grader.quiz.policy import LatePolicy

FILE_TIME = "file time"
LATE_MARKER = "Canvas LATE marker"


@dataclass(frozen=True)
class Lateness:
    """days: started days after the deadline (0: on time); fraction: of the total taken off."""

    submitted_at: str | None
    deadline: str
    days: int
    fraction: float
    source: str

    @property
    def late(self) -> bool:
        return self.days > 0


def submission_time(found: Found) -> tuple[str | None, str]:
    """(ISO time of the latest file, how it is known) for the student's files."""
    times = []
    marker = False
    for ref in found.files.values():
        if "_LATE_" in os.path.basename(ref.origin):
            marker = True
        try:
            times.append(ref.path.stat().st_mtime)
        except OSError:
            continue
    when = datetime.fromtimestamp(max(times), timezone.utc).isoformat(timespec="seconds") if times else None
    return when, FILE_TIME + (f", {LATE_MARKER}" if marker else "")


def lateness(policy: LatePolicy, student: str, submitted_at: str | None, source: str) -> Lateness:
    """The student's lateness under `policy`; without a known time, on time unless marked LATE."""
    deadline = policy.deadline_of(student)
    limit = deadline + timedelta(minutes=policy.grace_minutes)
    days = 0
    if submitted_at is not None:
        after = (datetime.fromisoformat(submitted_at) - limit).total_seconds()
        days = math.ceil(after / 86400) if after > 0 else 0
    if days == 0 and LATE_MARKER in source and student not in policy.extensions:
        days = 1
    fraction = min(policy.max_penalty, policy.penalty_per_day * days)
    return Lateness(submitted_at, deadline.isoformat(timespec="minutes"), days, fraction, source)
