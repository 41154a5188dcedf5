"""Instructor adjustments on top of the grader's results, and each student's final total.

The audit trail (`Gradebook.adjustments`) holds every override, accepted answer, dropped
item and key fix with its time, author and note. `apply` turns it into the results the
exports show: a dropped item counts for no one (0 of 0 points, status `dropped`); an
override sets one student's item score (the latest one wins). Because it is applied when
reading, a regrade (`grade --force`) never loses it. Accepted answers change the grading
itself (`grading.grade_answer(alternatives=...)`), so they are not applied here.

`totals` is the one place a student's total is computed: raw (after adjustments), the late
penalty (`late`) and the final total.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, replace
from typing import Mapping, Sequence

from grader.gradebook.late import Lateness, lateness
from grader.rounding import score_text
from grader.gradebook.store import Adjustment, Gradebook, ResultRow
from grader.quiz.policy import LatePolicy
from grader.results import status_for_fraction

OVERRIDE, ACCEPT, DROP, UNDROP, KEY_FIX = "override", "accept", "drop", "undrop", "key-fix"
DROPPED = "dropped"
LATE_POLICY_META = "late_policy"


def author() -> str:
    """Who is making a change: $GRADER_AUTHOR, else the login name."""
    name = os.environ.get("GRADER_AUTHOR", "").strip()
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def dropped_items(adjustments: Sequence[Adjustment]) -> dict[str, Adjustment]:
    """item -> the drop in force (a later `undrop` cancels it)."""
    state: dict[str, Adjustment] = {}
    for a in adjustments:
        if a.kind == DROP:
            state[a.item] = a
        elif a.kind == UNDROP:
            state.pop(a.item, None)
    return state


def accepted_answers(adjustments: Sequence[Adjustment]) -> dict[str, list[str]]:
    """item -> the alternative answers accepted for it, in the order they were accepted."""
    accepted: dict[str, list[str]] = {}
    for a in adjustments:
        if a.kind == ACCEPT and a.answer is not None:
            accepted.setdefault(a.item, []).append(a.answer)
    return accepted


def _when(a: Adjustment) -> str:
    return a.created_at.replace("T", " ").replace("+00:00", " UTC")


def apply(results: Mapping[str, list[ResultRow]], adjustments: Sequence[Adjustment]) -> dict[str, list[ResultRow]]:
    """`results` (student -> rows) with drops and overrides applied; changed rows say why
    in `adjustment` and keep the grader's score in `graded_score`."""
    dropped = dropped_items(adjustments)
    overrides = {(a.student, a.item): a for a in adjustments if a.kind == OVERRIDE}
    out: dict[str, list[ResultRow]] = {}
    for student, rows in results.items():
        changed = []
        for row in rows:
            drop = dropped.get(row.item)
            override = overrides.get((student, row.item))
            if drop is not None:
                why = f"Dropped for everyone by {drop.author} on {_when(drop)}" + (f": {drop.note}" if drop.note else ".")
                row = replace(row, score=0.0, max_score=0.0, status=DROPPED, adjustment=why, graded_score=row.score)
            elif override is not None and override.score is not None:
                score = min(max(0.0, override.score), row.max_score)
                why = (f"Score set to {score_text(score)} by {override.author} on {_when(override)}"
                       + (f": {override.note}" if override.note else "."))
                status = status_for_fraction(score / row.max_score) if row.max_score else row.status
                row = replace(row, score=score, status=status, adjustment=why, graded_score=row.score)
            changed.append(row)
        out[student] = changed
    return out


@dataclass(frozen=True)
class Total:
    """A student's total: `raw` after adjustments, `penalty` points taken off for lateness,
    `total` = raw - penalty, out of `maximum`."""

    raw: float
    maximum: float
    penalty: float = 0.0
    late: Lateness | None = None

    @property
    def total(self) -> float:
        return self.raw - self.penalty


def late_policy(gradebook: Gradebook) -> LatePolicy | None:
    """The late policy recorded by the last `grade` run (None: no deadline)."""
    text = gradebook.meta(LATE_POLICY_META)
    return LatePolicy.from_json(text) if text else None


def totals(gradebook: Gradebook, results: Mapping[str, Sequence[ResultRow]]) -> dict[str, Total]:
    """Every student's total from their (adjusted) results and the late policy."""
    policy = late_policy(gradebook)
    submissions = gradebook.submissions()
    out: dict[str, Total] = {}
    for student, rows in results.items():
        raw = sum(r.score for r in rows)
        maximum = sum(r.max_score for r in rows)
        sub = submissions.get(student)
        if policy is None or sub is None or sub.status != "graded":
            out[student] = Total(raw, maximum)
            continue
        late = lateness(policy, student, sub.submitted_at, sub.time_source)
        out[student] = Total(raw, maximum, round(raw * late.fraction, 6), late)
    return out


def late_text(total: Total) -> str:
    """`late penalty -2 (2 days late)`, or "" when on time."""
    if total.late is None or not total.late.late:
        return ""
    days = f"{total.late.days} day{'s' if total.late.days != 1 else ''} late"
    return f"late penalty -{score_text(total.penalty)} ({days}, {100 * total.late.fraction:g}%)"
