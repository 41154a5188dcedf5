"""Gradebook files for an LMS's own grade import, from the gradebook (final totals: after
the instructor's adjustments and the late penalty).

Canvas (Grades > Import): a CSV with the columns of Canvas's own gradebook export,

    Student,ID,SIS User ID,SIS Login ID,Section,<Assignment Name (assignment id)>
    Points Possible,,,,,<max points>
    "Lovelace, Ada",1001,u2024001,ada@example.org,Section 1,8.5

Canvas matches a row by ID (its user id), else SIS User ID, else SIS Login ID; a header
"Name (id)" updates that existing assignment, a plain name creates a new one. Canvas's
import has no column for comments, so no feedback text is written.

Moodle (Grades > Import > CSV file): a CSV with a header row; on the import page map
"Email address" (or "ID number") to the user field of the same name, the grade column to
the quiz's grade item and "Feedback" to "Feedback for <item>":

    First name,Last name,ID number,Email address,<Quiz title>,Feedback

Ids come from roster columns when a roster CSV is given (Canvas: `canvas_id` or `lms_id`,
`sis_user_id`, `sis_login_id`, `section`; Moodle: `idnumber`), else from the `--id-map`
(`lms_id,id`: the LMS id as Canvas's ID), else the roster id is the SIS User ID (Canvas)
and the ID number (Moodle), and the email the SIS Login ID.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from grader.errors import GraderError
from grader.gradebook import exports
from grader.gradebook.adjust import Total, late_text, totals
from grader.rounding import score_text
from grader.gradebook.store import Gradebook, ResultRow
from grader.quiz.roster import read_csv

FORMATS = ("canvas", "moodle")


class LmsExportError(GraderError, ValueError):
    """The export cannot be written (bad roster or id map); the message says why."""


@dataclass(frozen=True)
class LmsIds:
    """A student's ids in the LMS ("" when unknown)."""

    canvas_id: str = ""
    sis_user_id: str = ""
    sis_login_id: str = ""
    section: str = ""
    idnumber: str = ""


def read_lms_ids(roster: Path | None, id_map: Path | None) -> dict[str, LmsIds]:
    """roster id -> LmsIds from a roster's extra columns and/or an `lms_id,id` map."""
    ids: dict[str, dict[str, str]] = {}
    if id_map is not None:
        rows, columns = read_csv(id_map, LmsExportError)
        if "lms_id" not in columns or "id" not in columns:
            raise LmsExportError(f"{id_map}: the id map needs a header row with columns lms_id,id")
        for _, row in rows:
            student = (row.get(columns["id"]) or "").strip()
            if student:
                ids.setdefault(student, {})["canvas_id"] = (row.get(columns["lms_id"]) or "").strip()
    if roster is not None:
        rows, columns = read_csv(roster, LmsExportError)
        if "id" not in columns:
            raise LmsExportError(f"{roster}: the roster needs an 'id' column")
        wanted = {"canvas_id": ("canvas_id", "lms_id"), "sis_user_id": ("sis_user_id", "sis user id"),
                  "sis_login_id": ("sis_login_id", "sis login id"), "section": ("section",),
                  "idnumber": ("idnumber", "id number")}
        for _, row in rows:
            student = (row.get(columns["id"]) or "").strip()
            if not student:
                continue
            for field, names in wanted.items():
                column = next((columns[n] for n in names if n in columns), None)
                value = (row.get(column) or "").strip() if column else ""
                if value:
                    ids.setdefault(student, {})[field] = value
    return {student: LmsIds(**values) for student, values in ids.items()}


def _cell(text: str) -> str:
    """Defuse spreadsheet formulas in text cells (=, +, -, @ at the start)."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _canvas_name(name: str, student: str) -> str:
    """"Ada Lovelace" -> "Lovelace, Ada" (Canvas's Student column); the id without a name."""
    parts = name.split()
    if len(parts) < 2:
        return name or student
    return f"{parts[-1]}, {' '.join(parts[:-1])}"


def canvas_csv(gradebook: Gradebook, ids: Mapping[str, LmsIds], assignment: str) -> str:
    results = exports.class_results(gradebook)
    final = totals(gradebook, results)
    maximum = max((t.maximum for t in final.values()), default=0.0)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", assignment])
    writer.writerow(["Points Possible", "", "", "", "", score_text(maximum)])
    for student, name, email in gradebook.students():
        lms = ids.get(student, LmsIds())
        writer.writerow([
            _cell(_canvas_name(name, student)), lms.canvas_id, lms.sis_user_id or student,
            _cell(lms.sis_login_id or email), _cell(lms.section), score_text(final[student].total),
        ])
    return buffer.getvalue()


def _feedback(rows: list[ResultRow], total: Total) -> str:
    """One paragraph: the total, the late penalty, each item's score."""
    text = f"Total {score_text(total.total)} / {score_text(total.maximum)}"
    late = late_text(total)
    if late:
        text += f" (raw score {score_text(total.raw)}; {late})"
    items = ", ".join(
        f"{r.item} {score_text(r.score)}/{score_text(r.max_score)}" + (" (dropped)" if r.status == "dropped" else "")
        for r in rows
    )
    return f"{text}. {items}." if items else text + "."


def moodle_csv(gradebook: Gradebook, ids: Mapping[str, LmsIds], grade_item: str) -> str:
    results = exports.class_results(gradebook)
    final = totals(gradebook, results)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["First name", "Last name", "ID number", "Email address", grade_item, "Feedback"])
    for student, name, email in gradebook.students():
        first, _, last = name.rpartition(" ") if " " in name.strip() else (name, "", "")
        lms = ids.get(student, LmsIds())
        writer.writerow([
            _cell(first.strip()), _cell(last.strip()), _cell(lms.idnumber or student), _cell(email),
            score_text(final[student].total), _cell(_feedback(results[student], final[student])),
        ])
    return buffer.getvalue()


def export_lms(
    gradebook: Gradebook, fmt: str, out: Path, *, roster: Path | None = None, id_map: Path | None = None,
    assignment: str | None = None,
) -> Path:
    """Write `out` in the LMS's import format; `assignment`: the grade column's header
    (default: the quiz title)."""
    if fmt not in FORMATS:
        raise LmsExportError(f"unknown format {fmt!r}: choose {' or '.join(FORMATS)}")
    ids = read_lms_ids(roster, id_map)
    column = assignment or gradebook.quiz_title() or "Quiz"
    text = canvas_csv(gradebook, ids, column) if fmt == "canvas" else moodle_csv(gradebook, ids, column)
    exports.write_atomic(Path(out), text)
    return Path(out)
