"""feedback/<id>.html: one student's results as a standalone page.

Each item shows the score and status; for an answer, what the student wrote and (when it
is not correct) the expected answer; for code, the failing tests: a public test with its
expected and returned values, a hidden test with its name and message only (never its
values). A matched misconception is named with its sentence. A submission that could not
be graded says so ("not graded (grader failure: ...)", without the failure's details, which
are for the instructor), never "no submission". Everything comes from the gradebook and is
HTML-escaped by the template (student text included).
"""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files
from typing import Any, Mapping, Sequence

from markupsafe import Markup

from grader.gradebook.adjust import Total, late_text
from grader.gradebook.report import css, environment
from grader.gradebook.store import ItemInfo, ResultRow, SubmissionRow
from grader.gradebook.ungraded import FAILED, NOT_GRADED, STUDENT_NOTICE
from grader.indices import INDEX_NOTE

_INDEX = re.compile(r"\[\d+(, \d+)*\]")


def _mentions_an_index(rows: Sequence[ResultRow]) -> bool:
    texts = [r.feedback for r in rows] + [str(t.get("message", "")) for r in rows for t in r.tests]
    return any(_INDEX.search(text) for text in texts)


@lru_cache(maxsize=1)
def math_css() -> Markup:
    """quiz.html's style for MathML (matrix brackets...), for the question texts."""
    return Markup(files("grader.quiz").joinpath("templates/math.css").read_text(encoding="utf-8"))


def _when(iso: str) -> str:
    return iso.replace("T", " ").replace("+00:00", " UTC")

MAX_FAILING_SHOWN = 5


def _item_context(row: ResultRow, info: ItemInfo | None) -> dict[str, Any]:
    tests = row.tests
    failing = [t for t in tests if t.get("status") != "passed"]
    hidden = [t for t in tests if t.get("hidden")]
    feedback = STUDENT_NOTICE if row.status == NOT_GRADED else row.feedback
    return {
        "item": row.item,
        "title": info.title if info else "",
        "prompt": Markup(info.prompt) if info and info.prompt else "",  # our own rendering of the quiz
        "adjustment": row.adjustment,
        "graded_score": row.graded_score,
        "kind": info.kind if info else ("code" if tests else "answer"),
        "score": row.score,
        "graded": row.status != NOT_GRADED,
        "max_score": row.max_score,
        "status": row.status,
        "answer": row.answer,
        "expected": row.expected,
        "feedback": feedback,
        "misconception": row.misconception,
        "sentence": row.hint,
        "tests": tests,
        "passed": sum(1 for t in tests if t.get("status") == "passed"),
        "hidden_total": len(hidden),
        "hidden_passed": sum(1 for t in hidden if t.get("status") == "passed"),
        "failing": failing[:MAX_FAILING_SHOWN],
        "more_failing": max(0, len(failing) - MAX_FAILING_SHOWN),
    }


def feedback_page(
    quiz_title: str,
    student: str,
    name: str,
    rows: Sequence[ResultRow],
    items: Mapping[str, ItemInfo],
    submission: SubmissionRow | None,
    total: Total | None = None,
) -> str:
    """The HTML of one student's feedback page (`total`: the student's total with the late
    penalty, from `adjust.totals`; without it, the sum of the rows)."""
    total = total or Total(sum(r.score for r in rows), sum(r.max_score for r in rows))
    failed = bool(submission and submission.status == FAILED)
    return environment().get_template("feedback.html.j2").render(
        css=css(),
        math_css=math_css(),
        title=quiz_title,
        student=student,
        name=name,
        graded_at=(submission.graded_at.replace("T", " ").replace("+00:00", " UTC")
                   if submission and submission.status == "graded" else ""),
        submitted=bool(submission and submission.status in ("graded", FAILED)),
        unrecognized=bool(submission and submission.status == "unrecognized"),
        not_graded=STUDENT_NOTICE if failed else "",
        notes=submission.notes if submission else [],
        total=total.total,
        raw=total.raw,
        penalty=total.penalty,
        late=late_text(total),
        submitted_at=_when(total.late.submitted_at or "") if total.late else "",
        deadline=_when(total.late.deadline) if total.late else "",
        maximum=total.maximum,
        index_note=INDEX_NOTE if _mentions_an_index(rows) else "",
        items=[_item_context(r, items.get(r.item)) for r in rows],
    )
