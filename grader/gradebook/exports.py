"""The files written from the gradebook at the end of every run, each atomically (a
temporary file beside it, then `os.replace`):

    grades.csv            student, item, score, max_score, status, misconception,
                          graded_score, adjustment  (plus a `late_penalty` row per late student)
    totals.csv            student, name, email, total, max, raw_total, late_penalty,
                          days_late, adjustments
    results/<id>.json     Gradescope's results.json schema
    feedback/<id>.html    the student's feedback page
    report.html           the class report

Every roster student gets a row and a file; a student the gradebook knows nothing about
yet (possible after `--only`) is exported as missing every item. Every file shows the
results with the instructor's adjustments applied (`adjust`); `total` is after the late
penalty, `raw_total` before it. Scores are rounded by `rounding.score_text`.
A submission that could not be graded (`ungraded`) shows "not graded (grader failure: ...)"
where a score would be: in grades.csv (score empty, that text as status) for its items that
were not graded, in totals.csv as its total; it gets no results/<id>.json (Gradescope would
read a score).

Gradescope tests: one per answer item ("q3: <title>", visible); a code item is split by
the visibility of its tests: "<function>: public tests" (visible) and "<function>: hidden
tests" (after_published), whose scores add up to the item's score. An item with no test
outcome (file missing, syntax error...) is one test.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any, Iterable

from grader.atomic_write import write_atomic
from grader.gradebook.adjust import Total, apply, late_text, totals
from grader.rounding import score_text
from grader.gradebook.store import Gradebook, ItemInfo, ResultRow
from grader.gradebook.ungraded import NOT_GRADED, failure_of

GRADES_CSV = "grades.csv"
TOTALS_CSV = "totals.csv"
RESULTS_DIR = "results"
FEEDBACK_DIR = "feedback"
REPORT_HTML = "report.html"

_OUTPUT_LIMIT = 4000


def class_results(gradebook: Gradebook, all_items: list[ItemInfo] | None = None) -> dict[str, list[ResultRow]]:
    """Every roster student's results in item order, with the instructor's adjustments
    applied; students not graded yet get `missing` rows built from their items
    (`all_items`: gradebook.items(), if already read)."""
    by_student: dict[str, list[ResultRow]] = {s: [] for s, _, _ in gradebook.students()}
    for row in gradebook.results():
        if row.student in by_student:
            by_student[row.student].append(row)
    items: dict[str, list[ItemInfo]] = {}
    for info in gradebook.items() if all_items is None else all_items:
        items.setdefault(info.student, []).append(info)
    for student, rows in by_student.items():
        if not rows:
            rows.extend(
                ResultRow(student, i.item, 0.0, i.max_score, "missing", None, "No submission.", "", "", 0.0, [])
                for i in items.get(student, [])
            )
    return apply(by_student, gradebook.adjustments())


_number = score_text


def grades_csv(results: dict[str, list[ResultRow]], final: dict[str, Total] | None = None) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "item", "score", "max_score", "status", "misconception", "graded_score", "adjustment"])
    for student, rows in results.items():
        for r in rows:
            if r.status == NOT_GRADED:
                writer.writerow([r.student, r.item, "", _number(r.max_score), r.feedback, "", "", ""])
                continue
            graded = "" if r.graded_score is None else _number(r.graded_score)
            writer.writerow([r.student, r.item, _number(r.score), _number(r.max_score), r.status,
                             r.misconception or "", graded, _cell(r.adjustment)])
        total = (final or {}).get(student)
        if total is not None and total.penalty > 0:
            writer.writerow([student, "late_penalty", _number(-total.penalty), "0", "late", "", "", late_text(total)])
    return buffer.getvalue()


def _cell(text: str) -> str:
    """Defuse spreadsheet formulas in a roster cell (=, +, -, @ at the start)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def totals_csv(gradebook: Gradebook, results: dict[str, list[ResultRow]], final: dict[str, Total] | None = None) -> str:
    final = totals(gradebook, results) if final is None else final
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "name", "email", "total", "max", "raw_total", "late_penalty", "days_late", "adjustments"])
    for student, name, email in gradebook.students():
        rows = results.get(student, [])
        t = final.get(student) or Total(sum(r.score for r in rows), sum(r.max_score for r in rows))
        adjusted = "; ".join(f"{r.item}: {r.status if r.status == 'dropped' else 'override'}" for r in rows if r.adjustment)
        shown = failure_of(rows) or _number(t.total)
        writer.writerow([student, _cell(name), _cell(email), shown, _number(t.maximum),
                         _number(t.raw), _number(t.penalty), t.late.days if t.late else 0, adjusted])
    return buffer.getvalue()


def _clip(text: str) -> str:
    return text if len(text) <= _OUTPUT_LIMIT else text[: _OUTPUT_LIMIT - 3] + "..."


def _test_lines(tests: Iterable[dict[str, Any]], reveal: bool) -> list[str]:
    lines = []
    for t in tests:
        line = f"{t['name']}: {t['status']}"
        if t.get("message"):
            line += f" - {t['message']}"
        if reveal and t.get("status") != "passed" and (t.get("expected") or t.get("got")):
            line += f"\n    expected: {t.get('expected', '')}\n    got:      {t.get('got', '')}"
        lines.append(line)
    return lines


def _gradescope_tests(row: ResultRow, title: str, kind: str) -> list[dict[str, Any]]:
    passed = "passed" if row.score >= row.max_score else "failed"
    test_total = sum(t["score"] for t in row.tests)
    if kind != "code" or not row.tests or (test_total <= 0 < row.score):
        lines = [f"status: {row.status}"]
        if row.answer:
            lines.append(f"your answer: {row.answer}")
        if row.expected and kind != "code":
            lines.append(f"expected: {row.expected}")
        if row.message:
            lines.append(row.message)
        name = f"{row.item}: {title}" if title else row.item
        return [_test(name, row.score, row.max_score, passed, "\n".join(lines), "visible")]
    entries = []
    groups = [(False, "public tests", "visible"), (True, "hidden tests", "after_published")]
    scale = row.score / test_total if test_total > 0 else 0.0
    for hidden, label, visibility in groups:
        tests = [t for t in row.tests if bool(t.get("hidden")) == hidden]
        if not tests:
            continue
        score = round(sum(t["score"] for t in tests) * scale, 6)
        maximum = round(sum(t["max_score"] for t in tests), 6)
        status = "passed" if all(t["status"] == "passed" for t in tests) and score >= maximum else "failed"
        lines = _test_lines(tests, reveal=not hidden)
        # The item's feedback may quote a public test's values: it goes with the public
        # tests, or with the hidden ones only when there are no public tests.
        carries_feedback = not hidden or not any(not t.get("hidden") for t in row.tests)
        if row.message and row.score < row.max_score and carries_feedback:
            lines.append(row.message)
        entries.append(_test(f"{row.item}: {label}", score, maximum, status, "\n".join(lines), visibility))
    return entries


def _test(name: str, score: float, max_score: float, status: str, output: str, visibility: str) -> dict[str, Any]:
    return {
        "name": name,
        "score": round(score, 6),
        "max_score": round(max_score, 6),
        "status": status,
        "output": _clip(output),
        "output_format": "text",
        "visibility": visibility,
    }


def gradescope_results(
    rows: list[ResultRow], items: dict[str, ItemInfo], duration: float, total: Total | None = None
) -> dict[str, Any]:
    """One student's results.json (https://gradescope-autograders.readthedocs.io/en/latest/specs/);
    `score` is after the late penalty, which the output states apart."""
    tests: list[dict[str, Any]] = []
    for row in rows:
        info = items.get(row.item)
        kind = info.kind if info else ("answer" if not row.tests else "code")
        tests.extend(_gradescope_tests(row, info.title if info else "", kind))
    total = total or Total(sum(r.score for r in rows), sum(r.max_score for r in rows))
    late = late_text(total)
    output = f"Total: {_number(total.total)} / {_number(total.maximum)}"
    if late:
        output += f" (raw score {_number(total.raw)}, {late})"
    return {
        "score": round(total.total, 6),
        "execution_time": round(duration, 3),
        "output": output,
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write_student_files(gradebook: Gradebook, out: Path) -> None:
    """Rewrite each student's results JSON (Gradescope's format) and feedback page."""
    all_items = gradebook.items()
    results = class_results(gradebook, all_items)
    _write_student_files(gradebook, Path(out), results, all_items, gradebook.submissions(), totals(gradebook, results))


def _write_student_files(gradebook: Gradebook, out: Path, results: dict[str, list[ResultRow]],
                         all_items: list[ItemInfo], submissions: dict[str, Any], final: dict[str, Total]) -> None:
    from grader.gradebook.feedback import feedback_page

    items_by_student: dict[str, dict[str, ItemInfo]] = {}
    for info in all_items:
        items_by_student.setdefault(info.student, {})[info.item] = info
    quiz_title = gradebook.quiz_title()
    students = {s: (name, email) for s, name, email in gradebook.students()}
    for student, rows in results.items():
        items = items_by_student.get(student, {})
        sub = submissions.get(student)
        if failure_of(rows) is None:
            document = gradescope_results(rows, items, sub.duration if sub else 0.0, final.get(student))
            write_atomic(out / RESULTS_DIR / f"{student}.json", json.dumps(document, ensure_ascii=False) + "\n")
        else:
            (out / RESULTS_DIR / f"{student}.json").unlink(missing_ok=True)
        page = feedback_page(quiz_title, student, students[student][0], rows, items, sub, final.get(student))
        write_atomic(out / FEEDBACK_DIR / f"{student}.html", page)


def write_outputs(gradebook: Gradebook, out: Path, *, student_files: bool = True) -> dict[str, Path]:
    """Rewrite every output file from the gradebook; returns {what: path}.
    `student_files=False`: all but each student's results JSON and feedback page (another
    process wrote those: `student_files`)."""
    from grader.gradebook.report import report_page

    out = Path(out)
    all_items = gradebook.items()
    results = class_results(gradebook, all_items)
    submissions = gradebook.submissions()
    final = totals(gradebook, results)
    write_atomic(out / GRADES_CSV, grades_csv(results, final))
    write_atomic(out / TOTALS_CSV, totals_csv(gradebook, results, final))
    if student_files:
        _write_student_files(gradebook, out, results, all_items, submissions, final)
    write_atomic(out / REPORT_HTML, report_page(gradebook, results, all_items, submissions, final))
    return {
        "gradebook": out / "gradebook.sqlite",
        "grades": out / GRADES_CSV,
        "totals": out / TOTALS_CSV,
        "results": out / RESULTS_DIR,
        "feedback": out / FEEDBACK_DIR,
        "report": out / REPORT_HTML,
    }
