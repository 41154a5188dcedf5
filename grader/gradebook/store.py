"""The gradebook: one SQLite file (WAL mode) that is the record of a class's grading.

Tables:

    meta(key, value)                  schema version
    quiz(quiz_id, title, mode, path, updated_at)       one row
    students(id, name, email, position)
    items(student, item, position, kind, exercise, title, max_score)
    misconceptions(exercise, tag, feedback)           the feedback sentence of each tag
    runs(id, started_at, finished_at, status, jobs, force, only_ids,
         graded, skipped, missing, failed, sandbox)
                                      sandbox: how student code ran: "bwrap", "unconfined"
                                      (--no-sandbox without a working sandbox), NULL: none ran
    submissions(student, content_hash, key_hash, files, notes, graded_at, duration, status,
                total, max_total, graded_count, run_id)
    results(student, item, score, max_score, status, misconception, feedback, answer,
            expected, duration, details, run_id, hint)  primary key (student, item)
                                      feedback: the grader's diagnosis; hint: the matched
                                      misconception's sentence (`ItemResult`)
    adjustments(id, kind, student, item, score, answer, note, author, created_at, detail)
                                      the audit trail of overrides, accepted answers,
                                      dropped items and key fixes (see `adjust`)

Schema 2 adds `adjustments`, `submissions.submitted_at` / `submissions.time_source` (when
the student handed the files in, and how that is known) and `items.prompt`; a schema-1
gradebook is migrated in place when it is opened.  Schema 3 keeps a result's misconception
sentence in `results.hint` (before, `feedback` held "sentence (diagnosis)"): an older
gradebook's results are split once, when it is opened.

`results` always holds what the grader computed; overrides, accepted answers and dropped
items are applied when the gradebook is read for the exports (`adjust.apply`), so a
regrade (`--force`) never loses them.

Durations are seconds spent grading, waiting excluded: a submission's is its answers'
plus its code run; an answer item's is its own check; a code item's is the whole code run
(every function of exercise.py runs in one sandbox process).

A submission's results are written by `record` in ONE transaction: the student's old results
are deleted, the new ones inserted and the submissions row updated (its `graded_count`
incremented). A run killed at any moment leaves each student either fully graded or not at
all, and the content hash in `submissions` tells the next run which ones to skip.
"""

from __future__ import annotations

import json
import sqlite3
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator, Sequence

from grader.errors import GraderError
from grader.results import ItemResult, join_hint

SCHEMA_VERSION = "3"
GRADEBOOK_FILE = "gradebook.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS quiz (
    quiz_id TEXT PRIMARY KEY, title TEXT NOT NULL, mode TEXT NOT NULL,
    path TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS students (
    id TEXT PRIMARY KEY, name TEXT NOT NULL, email TEXT NOT NULL, position INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS items (
    student TEXT NOT NULL, item TEXT NOT NULL, position INTEGER NOT NULL,
    kind TEXT NOT NULL, exercise TEXT NOT NULL, title TEXT NOT NULL, max_score REAL NOT NULL,
    prompt TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (student, item)
);
CREATE TABLE IF NOT EXISTS misconceptions (
    exercise TEXT NOT NULL, tag TEXT NOT NULL, feedback TEXT NOT NULL, PRIMARY KEY (exercise, tag)
);
CREATE TABLE IF NOT EXISTS runs (
    id INTEGER PRIMARY KEY AUTOINCREMENT, started_at TEXT NOT NULL, finished_at TEXT,
    status TEXT NOT NULL, jobs INTEGER NOT NULL, force INTEGER NOT NULL, only_ids TEXT,
    graded INTEGER NOT NULL DEFAULT 0, skipped INTEGER NOT NULL DEFAULT 0,
    missing INTEGER NOT NULL DEFAULT 0, failed INTEGER NOT NULL DEFAULT 0, sandbox TEXT
);
CREATE TABLE IF NOT EXISTS submissions (
    student TEXT PRIMARY KEY, content_hash TEXT, key_hash TEXT, files TEXT NOT NULL,
    notes TEXT NOT NULL, graded_at TEXT NOT NULL, duration REAL NOT NULL,
    status TEXT NOT NULL, total REAL NOT NULL, max_total REAL NOT NULL,
    graded_count INTEGER NOT NULL DEFAULT 0, run_id INTEGER,
    submitted_at TEXT, time_source TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS results (
    student TEXT NOT NULL, item TEXT NOT NULL, score REAL NOT NULL, max_score REAL NOT NULL,
    status TEXT NOT NULL, misconception TEXT, feedback TEXT NOT NULL, answer TEXT NOT NULL,
    expected TEXT NOT NULL, duration REAL NOT NULL, details TEXT NOT NULL, run_id INTEGER,
    hint TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (student, item)
);
CREATE TABLE IF NOT EXISTS adjustments (
    id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL, student TEXT, item TEXT NOT NULL,
    score REAL, answer TEXT, note TEXT NOT NULL, author TEXT NOT NULL, created_at TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT ''
);
"""

# Schema 1 -> 2: the columns schema 2 added to existing tables (new tables come from _SCHEMA).
_MIGRATE_1_TO_2 = (
    "ALTER TABLE items ADD COLUMN prompt TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE submissions ADD COLUMN submitted_at TEXT",
    "ALTER TABLE submissions ADD COLUMN time_source TEXT NOT NULL DEFAULT ''",
)


class GradebookError(GraderError, RuntimeError):
    """The gradebook cannot be used (another quiz's, newer schema, unreadable)."""


@dataclass(frozen=True)
class ItemInfo:
    student: str
    item: str
    position: int
    kind: str
    exercise: str
    title: str
    max_score: float
    prompt: str = ""


@dataclass(frozen=True)
class SubmissionRow:
    student: str
    content_hash: str | None
    key_hash: str | None
    files: list[dict[str, Any]]
    notes: list[str]
    graded_at: str
    duration: float
    status: str
    total: float
    max_total: float
    graded_count: int
    run_id: int | None
    submitted_at: str | None = None
    time_source: str = ""


@dataclass(frozen=True)
class ResultRow:
    student: str
    item: str
    score: float
    max_score: float
    status: str
    misconception: str | None
    feedback: str
    answer: str
    expected: str
    duration: float
    tests: list[dict[str, Any]]
    hint: str = ""  # the matched misconception's sentence (ItemResult.hint)
    adjustment: str = ""  # why the score is not the grader's (an override's note, ...)
    graded_score: float | None = None  # the grader's score when an adjustment changed it

    @property
    def message(self) -> str:
        """The hint and the feedback as one text (`grader.results.join_hint`)."""
        return join_hint(self.hint, self.feedback)


@dataclass(frozen=True)
class Adjustment:
    """One entry of the audit trail. kind: `override` (student, item, score), `accept`
    (item, answer), `drop` (item), `undrop` (item), `key-fix` (student, item, detail: what
    changed). Entries are never deleted; for one (student, item) the latest override wins."""

    id: int
    kind: str
    student: str | None
    item: str
    score: float | None
    answer: str | None
    note: str
    author: str
    created_at: str
    detail: str = ""


@dataclass(frozen=True)
class RunRow:
    id: int
    started_at: str
    finished_at: str | None
    status: str
    force: bool
    only_ids: str | None


def now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class Gradebook:
    """A connection to `gradebook.sqlite`; use from one thread (the batch's writer)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._class_results: tuple[tuple[int, int], list[ResultRow]] | None = None
        try:
            self.db = sqlite3.connect(self.path, timeout=30.0, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("PRAGMA foreign_keys=ON")
            self.db.executescript(_SCHEMA)
            version = self.db.execute("SELECT value FROM meta WHERE key='schema'").fetchone()
        except sqlite3.DatabaseError as error:
            raise GradebookError(f"{self.path}: not a usable gradebook ({error})") from None
        if version is None:
            self.db.execute("INSERT INTO meta VALUES ('schema', ?)", (SCHEMA_VERSION,))
        elif version[0] in ("1", "2"):
            self._migrate(version[0])
        elif version[0] != SCHEMA_VERSION:
            raise GradebookError(
                f"{self.path}: gradebook schema {version[0]}, this grader reads {SCHEMA_VERSION} "
                "(it was written by a newer grader: upgrade grader)"
            )
        columns = {row[1] for row in self.db.execute("PRAGMA table_info(runs)")}
        if "sandbox" not in columns:  # a gradebook written before runs recorded it
            self.db.execute("ALTER TABLE runs ADD COLUMN sandbox TEXT")

    def _migrate(self, version: str) -> None:
        """Bring a schema-1 or -2 gradebook to the current schema, in one transaction."""
        with self.transaction() as db:
            if version == "1":
                for statement in _MIGRATE_1_TO_2:
                    db.execute(statement)
            if "hint" not in {row[1] for row in db.execute("PRAGMA table_info(results)")}:
                db.execute("ALTER TABLE results ADD COLUMN hint TEXT NOT NULL DEFAULT ''")
            _split_hints(db)
            db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (SCHEMA_VERSION,))

    def meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Write one `meta` row. A meta row is no result: the class's results read before
        stay current (when nothing else was written meanwhile), not read again."""
        before = self._version()
        current = self._class_results is not None and self._class_results[0] == before
        self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))
        after = self._version()
        if current and self._class_results is not None and after == (before[0] + 1, before[1]):
            self._class_results = (after, self._class_results[1])

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> "Gradebook":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, or ROLLBACK on any exception."""
        self.db.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        self.db.execute("COMMIT")

    # -- the quiz, its students and items ---------------------------------------------

    def quiz_id(self) -> str | None:
        row = self.db.execute("SELECT quiz_id FROM quiz").fetchone()
        return row[0] if row else None

    def set_quiz(self, quiz_id: str, title: str, mode: str, path: str) -> None:
        """Record the quiz; a gradebook belongs to one quiz for life."""
        existing = self.quiz_id()
        if existing is not None and existing != quiz_id:
            raise GradebookError(
                f"{self.path} is the gradebook of quiz {existing!r}, not {quiz_id!r}; "
                "choose another --out"
            )
        with self.transaction() as db:
            db.execute("DELETE FROM quiz")
            db.execute("INSERT INTO quiz VALUES (?, ?, ?, ?, ?)", (quiz_id, title, mode, path, now_iso()))

    def set_roster(
        self,
        students: Sequence[tuple[str, str, str]],
        items: Sequence[ItemInfo],
        misconceptions: Sequence[tuple[str, str, str]] = (),
    ) -> None:
        """Replace the students (id, name, email), every student's items and the
        misconception sentences (exercise, tag, feedback)."""
        with self.transaction() as db:
            db.execute("DELETE FROM misconceptions")
            db.executemany("INSERT OR REPLACE INTO misconceptions VALUES (?, ?, ?)", misconceptions)
            db.execute("DELETE FROM students")
            db.executemany(
                "INSERT INTO students VALUES (?, ?, ?, ?)",
                [(sid, name, email, i) for i, (sid, name, email) in enumerate(students)],
            )
            db.execute("DELETE FROM items")
            db.executemany(
                "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(i.student, i.item, i.position, i.kind, i.exercise, i.title, i.max_score, i.prompt) for i in items],
            )

    def students(self) -> list[tuple[str, str, str]]:
        return [tuple(r) for r in self.db.execute("SELECT id, name, email FROM students ORDER BY position")]  # type: ignore[misc]

    def misconception_sentences(self) -> dict[tuple[str, str], str]:
        """(exercise, tag) -> the sentence a student with that misconception was shown."""
        return {(e, t): f for e, t, f in self.db.execute("SELECT exercise, tag, feedback FROM misconceptions")}

    def quiz_title(self) -> str:
        row = self.db.execute("SELECT title FROM quiz").fetchone()
        return row[0] if row else ""

    def items(self, student: str | None = None) -> list[ItemInfo]:
        sql = "SELECT student, item, position, kind, exercise, title, max_score, prompt FROM items"
        args: tuple[Any, ...] = ()
        if student is not None:
            sql += " WHERE student = ?"
            args = (student,)
        rows = self.db.execute(sql + " ORDER BY student, position", args)
        return [ItemInfo(*r) for r in rows]

    # -- runs ----------------------------------------------------------------------------

    def start_run(self, jobs: int, force: bool, only: Sequence[str] | None) -> int:
        with self.transaction() as db:
            cursor = db.execute(
                "INSERT INTO runs (started_at, status, jobs, force, only_ids) VALUES (?, 'running', ?, ?, ?)",
                (now_iso(), jobs, int(force), ",".join(only) if only else None),
            )
        return int(cursor.lastrowid or 0)

    def finish_run(self, run_id: int, status: str, graded: int, skipped: int, missing: int, failed: int) -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE runs SET finished_at=?, status=?, graded=?, skipped=?, missing=?, failed=? WHERE id=?",
                (now_iso(), status, graded, skipped, missing, failed, run_id),
            )

    def runs(self) -> list[RunRow]:
        """Every run, oldest first."""
        rows = self.db.execute("SELECT id, started_at, finished_at, status, force, only_ids FROM runs ORDER BY id")
        return [RunRow(r[0], r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows]

    # -- the audit trail ---------------------------------------------------------------------

    def add_adjustment(
        self, kind: str, item: str, *, author: str, note: str = "", student: str | None = None,
        score: float | None = None, answer: str | None = None, detail: str = "",
    ) -> int:
        """Append one entry to the audit trail; returns its id."""
        cursor = self.db.execute(
            "INSERT INTO adjustments (kind, student, item, score, answer, note, author, created_at, detail) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (kind, student, item, score, answer, note, author, now_iso(), detail),
        )
        return int(cursor.lastrowid or 0)

    def adjustments(self) -> list[Adjustment]:
        """The audit trail, oldest first."""
        rows = self.db.execute(
            "SELECT id, kind, student, item, score, answer, note, author, created_at, detail "
            "FROM adjustments ORDER BY id"
        )
        return [Adjustment(*r) for r in rows]
    def set_run_sandbox(self, run_id: int, sandbox: str) -> None:
        """Record how this run ran student code: "bwrap" or "unconfined"."""
        with self.transaction() as db:
            db.execute("UPDATE runs SET sandbox=? WHERE id=?", (sandbox, run_id))

    def run_sandboxes(self) -> dict[int, str | None]:
        """run id -> how that run ran student code (None: it ran none)."""
        return {run_id: sandbox for run_id, sandbox in self.db.execute("SELECT id, sandbox FROM runs")}

    # -- submissions and results -----------------------------------------------------------

    def submission(self, student: str) -> SubmissionRow | None:
        row = self.db.execute(
            f"SELECT {_SUBMISSION_COLUMNS} FROM submissions WHERE student = ?",
            (student,),
        ).fetchone()
        return _submission_row(row) if row else None

    def submissions(self) -> dict[str, SubmissionRow]:
        rows = self.db.execute(f"SELECT {_SUBMISSION_COLUMNS} FROM submissions")
        return {r[0]: _submission_row(r) for r in rows}

    def record(
        self,
        student: str,
        results: Sequence[ItemResult],
        *,
        status: str,
        content_hash: str | None,
        key_hash: str | None,
        files: list[dict[str, Any]],
        notes: Sequence[str],
        duration: float,
        durations: Sequence[float] | None = None,
        run_id: int | None = None,
        count_grading: bool = True,
        submitted_at: str | None = None,
        time_source: str = "",
    ) -> None:
        """Replace the student's results by `results` and update their submissions row, in
        one transaction. `count_grading` increments `graded_count` (a real grading, as
        opposed to marking a student without a submission as missing)."""
        durations = list(durations) if durations is not None else [0.0] * len(results)
        total = sum(r.score for r in results)
        max_total = sum(r.max_score for r in results)
        rows = [
            (
                student, r.item, float(r.score), float(r.max_score), r.status, r.misconception,
                r.feedback, r.answer, r.expected, float(d),
                json.dumps([dict(vars(t)) for t in r.tests], ensure_ascii=False), run_id, r.hint,  # flat: no asdict copy
            )
            for r, d in zip(results, durations)
        ]
        with self.transaction() as db:
            db.execute("DELETE FROM results WHERE student = ?", (student,))
            db.executemany("INSERT INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            db.execute(
                """INSERT INTO submissions (student, content_hash, key_hash, files, notes, graded_at,
                       duration, status, total, max_total, graded_count, run_id, submitted_at,
                       time_source)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT(student) DO UPDATE SET
                       content_hash=excluded.content_hash, key_hash=excluded.key_hash,
                       files=excluded.files, notes=excluded.notes, graded_at=excluded.graded_at,
                       duration=excluded.duration, status=excluded.status, total=excluded.total,
                       max_total=excluded.max_total,
                       graded_count=submissions.graded_count + excluded.graded_count,
                       run_id=excluded.run_id, submitted_at=excluded.submitted_at,
                       time_source=excluded.time_source""",
                (
                    student, content_hash, key_hash, json.dumps(files, ensure_ascii=False),
                    json.dumps(list(notes), ensure_ascii=False), now_iso(), float(duration),
                    status, total, max_total, int(count_grading), run_id, submitted_at, time_source,
                ),
            )

    def replace_result(self, student: str, result: ItemResult) -> None:
        """Replace one item's result of an already graded student (an accepted answer's
        regrade) and update the submission's total, in one transaction; the rest of the
        student's results, hashes and grading count are left as they are."""
        with self.transaction() as db:
            db.execute(
                "UPDATE results SET score=?, max_score=?, status=?, misconception=?, feedback=?, hint=? "
                "WHERE student=? AND item=?",
                (float(result.score), float(result.max_score), result.status, result.misconception,
                 result.feedback, result.hint, student, result.item),
            )
            db.execute(
                "UPDATE submissions SET total=(SELECT COALESCE(SUM(score), 0) FROM results WHERE student=?) "
                "WHERE student=?",
                (student, student),
            )

    def _version(self) -> tuple[int, int]:
        """Equal versions, equal contents: the rows this connection has changed so far,
        and sqlite's count of other connections' commits."""
        return self.db.total_changes, self.db.execute("PRAGMA data_version").fetchone()[0]

    def results(self, student: str | None = None) -> list[ResultRow]:
        """Results in item order (students in roster order). The whole class's are read
        once per version of the gradebook: writing a report reads them several times."""
        if student is not None:
            return self._read_results(student)
        version = self._version()
        if self._class_results is None or self._class_results[0] != version:
            self._class_results = (version, self._read_results(None))
        return list(self._class_results[1])

    def _read_results(self, student: str | None) -> list[ResultRow]:
        sql = """SELECT r.student, r.item, r.score, r.max_score, r.status, r.misconception,
                        r.feedback, r.answer, r.expected, r.duration, r.details, r.hint
                 FROM results r
                 LEFT JOIN items i ON i.student = r.student AND i.item = r.item
                 LEFT JOIN students s ON s.id = r.student"""
        args: tuple[Any, ...] = ()
        if student is not None:
            sql += " WHERE r.student = ?"
            args = (student,)
        sql += " ORDER BY s.position, r.student, i.position, r.item"
        return [
            ResultRow(*row[:10], tests=json.loads(row[10]), hint=row[11])  # type: ignore[arg-type]
            for row in self.db.execute(sql, args)
        ]


def _split_hints(db: sqlite3.Connection) -> None:
    """Results written before schema 3 kept the misconception's sentence inside feedback
    ("sentence (diagnosis)", or the sentence alone): move it to `hint`."""
    rows = db.execute(
        """SELECT r.student, r.item, r.feedback, m.feedback FROM results r
           JOIN items i ON i.student = r.student AND i.item = r.item
           JOIN misconceptions m ON m.exercise = i.exercise AND m.tag = r.misconception
           WHERE r.hint = ''"""
    ).fetchall()
    for student, item, feedback, sentence in rows:
        if feedback == sentence:
            rest = ""
        elif feedback.startswith(sentence + " (") and feedback.endswith(")"):
            rest = feedback[len(sentence) + 2:-1]
        else:
            continue
        db.execute("UPDATE results SET hint = ?, feedback = ? WHERE student = ? AND item = ?",
                   (sentence, rest, student, item))


_SUBMISSION_COLUMNS = (
    "student, content_hash, key_hash, files, notes, graded_at, duration, status, "
    "total, max_total, graded_count, run_id, submitted_at, time_source"
)


def _submission_row(row: Sequence[Any]) -> SubmissionRow:
    return SubmissionRow(
        student=row[0], content_hash=row[1], key_hash=row[2], files=json.loads(row[3]),
        notes=json.loads(row[4]), graded_at=row[5], duration=row[6], status=row[7],
        total=row[8], max_total=row[9], graded_count=row[10], run_id=row[11],
        submitted_at=row[12], time_source=row[13],
    )
