"""Students of a quiz: from a roster CSV (a header row with at least an `id` column; `name`
and `email` used when present) or from a list of ids."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping
from grader.errors import GraderError

_STUDENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")


class RosterError(GraderError, ValueError):
    """The roster cannot be used; the message says why."""


@dataclass(frozen=True)
class Student:
    id: str
    name: str = ""
    email: str = ""

    @property
    def display(self) -> str:
        return f"{self.name} ({self.id})" if self.name else self.id


def _validated(students: list[Student]) -> list[Student]:
    if not students:
        raise RosterError("no students: give --students or a --roster with at least one row")
    seen: set[str] = set()
    for student in students:
        if not _STUDENT_ID.match(student.id):
            raise RosterError(
                f"student id {student.id!r} must be letters, digits, '.', '_', '-' or '@' "
                "(it names a folder)"
            )
        if student.id in seen:
            raise RosterError(f"duplicate student id {student.id!r}")
        seen.add(student.id)
    return students


def students_from_ids(ids: Iterable[str]) -> list[Student]:
    """`--students a,b,c`."""
    return _validated([Student(i.strip()) for i in ids if i.strip()])


def _delimiter(header: str) -> str:
    """`,` unless the header row is clearly separated by `;` or tabs (spreadsheet exports
    in many locales)."""
    if "," in header:
        return ","
    return max(";\t", key=header.count) if any(c in header for c in ";\t") else ","


CsvRows = list[tuple[int, Mapping[str, str]]]


def _next_line(lines: list[str], done: int) -> int:
    """The 1-based number of the first non-blank line after line `done` (where the csv
    reader's next row starts: it skips blank lines)."""
    line = done + 1
    while line <= len(lines) and not lines[line - 1].strip():
        line += 1
    return line


def read_csv(path: Path, error: type[ValueError]) -> tuple[CsvRows, dict[str, str]]:
    """A UTF-8 CSV file with a header row (`,`, `;` or tab separated; quoted fields may span
    lines): its rows as (line where the row starts, row) and {column name in lower case:
    the header as written}.  Unreadable files, and malformed quoting (a quote that is never
    closed, text after a closing quote), raise `error` naming the file and the line."""
    try:
        text = Path(path).read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise error(f"{path}: not UTF-8 text") from None
    except OSError as problem:
        raise error(f"{path}: {problem.strerror}") from None
    header = text.splitlines()[0] if text.strip() else ""
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=_delimiter(header), strict=True)
    lines = io.StringIO(text, newline="").readlines()  # the lines as the csv reader counts them
    rows: CsvRows = []
    start = 1
    try:
        columns = {(c or "").strip().lower(): c for c in (reader.fieldnames or [])}
        start = _next_line(lines, reader.line_num)
        for row in reader:
            rows.append((start, row))
            start = _next_line(lines, reader.line_num)
    except csv.Error as problem:
        if "end of data" in str(problem):
            raise error(f"{path}, line {start}: a quoted field is never closed (a \" is missing)") from None
        raise error(f"{path}, line {start}: malformed CSV ({problem})") from None
    return rows, columns


def read_roster(path: Path) -> list[Student]:
    """A CSV roster with a header row; `id` is required, `name` and `email` optional
    (column names are matched case-insensitively; `;` or tab separators are recognised)."""
    rows, columns = read_csv(path, RosterError)
    if "id" not in columns:
        raise RosterError(f"{path}: the roster needs a header row with an 'id' column")

    def cell(row: Mapping[str, str], name: str) -> str:
        """The cell on one line: line breaks and control characters become spaces."""
        key = columns.get(name)
        value = (row.get(key) or "") if key else ""
        return " ".join("".join(c if c.isprintable() else " " for c in value).split())

    filled = [row for _, row in rows if any((v or "").strip() for v in row.values() if isinstance(v, str))]
    return _validated([Student(cell(r, "id"), cell(r, "name"), cell(r, "email")) for r in filled])
