"""Changing grades after a run, with an audit trail: overrides, accepted answers, dropped
items and key fixes. Each call opens the quiz's gradebook under the same lock as
`grader grade`, appends to the audit trail (`Gradebook.add_adjustment`: time, author from
$GRADER_AUTHOR or the login name, note) and rewrites every output file.

Accepting an answer regrades, in this process, the one item of the students whose answer
to it was not already right, from the answers.toml recorded by the last run; the others
are not touched. Later runs grade that item with the accepted answers too.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from grader.errors import GraderError
from grader.gradebook import exports
from grader.gradebook.adjust import ACCEPT, DROP, KEY_FIX, OVERRIDE, UNDROP, accepted_answers, author
from grader.gradebook.grade_one import parse_sheet
from grader.gradebook.folder import default_out
from grader.gradebook.runner import BatchError, _lock
from grader.gradebook.store import GRADEBOOK_FILE, Gradebook, GradebookError
from grader.gradebook.submissions import ANSWERS_FILE, FileRef, Found, load
from grader.grading import grade_answer
from grader.quiz.fix_keys import KeyFix, fix_keys
from grader.quiz.load import load_quiz
from grader.quiz.policy import read_policy
from grader.quiz.spec import SpecError


class CourseError(GraderError, ValueError):
    """The change cannot be made; the message says why."""


@dataclass
class Change:
    """What a command did: a sentence, the students whose grade changed, and any student
    that could not be regraded (with the reason)."""

    message: str
    changed: list[str] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    fixes: list[KeyFix] = field(default_factory=list)


def gradebook_dir(quiz_dir: Path, out: Path | None) -> Path:
    return Path(out) if out else default_out(Path(quiz_dir))


@contextmanager
def _opened(quiz_dir: Path, out: Path | None, create: bool = False) -> Iterator[tuple[Gradebook, Path]]:
    folder = gradebook_dir(quiz_dir, out)
    if not (folder / GRADEBOOK_FILE).is_file() and not create:
        raise CourseError(f"{folder}: no {GRADEBOOK_FILE} there; run `grader grade` first (or give --out)")
    try:
        lock = _lock(folder)
    except BatchError as error:
        raise CourseError(str(error)) from None
    try:
        with Gradebook(folder / GRADEBOOK_FILE) as gradebook:
            yield gradebook, folder
    except GradebookError as error:
        raise CourseError(str(error)) from None
    finally:
        os.close(lock)


def _item_kinds(gradebook: Gradebook, item: str) -> set[str]:
    kinds = {i.kind for i in gradebook.items() if i.item == item}
    if not kinds:
        known = sorted({i.item for i in gradebook.items()})
        raise CourseError(f"no item {item!r} in this quiz (items: {', '.join(known)})")
    return kinds


def override(quiz_dir: Path, student: str, item: str, score: float, note: str, out: Path | None = None) -> Change:
    """Set one student's score on one item (it survives regrades)."""
    with _opened(quiz_dir, out) as (gradebook, folder):
        if student not in {s for s, _, _ in gradebook.students()}:
            raise CourseError(f"{student!r} is not a student of this quiz")
        info = next((i for i in gradebook.items(student) if i.item == item), None)
        if info is None:
            raise CourseError(f"{student} has no item {item!r}")
        if not 0 <= score <= info.max_score:
            raise CourseError(f"--score must be between 0 and {info.max_score:g} (the item's points)")
        gradebook.add_adjustment(OVERRIDE, item, student=student, score=score, note=note, author=author())
        exports.write_outputs(gradebook, folder)
    return Change(f"{student} {item}: score set to {score:g} / {info.max_score:g}", [student])


def drop(quiz_dir: Path, item: str, note: str, out: Path | None = None, undo: bool = False) -> Change:
    """Make the item count for no one (or, with `undo`, count again)."""
    with _opened(quiz_dir, out) as (gradebook, folder):
        _item_kinds(gradebook, item)
        gradebook.add_adjustment(UNDROP if undo else DROP, item, note=note, author=author())
        exports.write_outputs(gradebook, folder)
        everyone = [s for s, _, _ in gradebook.students()]
    return Change(f"{item} {'counts again' if undo else 'counts for no one'}", everyone)


def accept(quiz_dir: Path, item: str, answer: str, note: str, out: Path | None = None) -> Change:
    """Accept `answer` (as written in answers.toml) for `item`, for everyone; regrade the
    students it may affect."""
    if not answer.strip():
        raise CourseError("--answer must not be empty")
    try:
        loaded, policy = load_quiz(quiz_dir), read_policy(quiz_dir)
    except SpecError as error:
        raise CourseError(str(error)) from None
    with _opened(quiz_dir, out) as (gradebook, folder):
        if _item_kinds(gradebook, item) != {"answer"}:
            raise CourseError(f"{item} is a code item: accept works on answer items (use override)")
        gradebook.add_adjustment(ACCEPT, item, answer=answer, note=note, author=author())
        alternatives = accepted_answers(gradebook.adjustments()).get(item, [])
        root_text = gradebook.meta("submissions_dir")
        change = Change(f"{item}: {answer!r} accepted")
        submissions = gradebook.submissions()
        for row in gradebook.results():
            if row.item != item or row.status not in ("partial", "incorrect"):
                continue
            sub = submissions.get(row.student)
            origin = next((f["origin"] for f in (sub.files if sub else []) if f.get("name") == ANSWERS_FILE), None)
            if root_text is None or origin is None:
                change.skipped.append((row.student, "its answers.toml is not recorded; run grader grade --force"))
                continue
            root = Path(root_text)
            file = load(Found(row.student, {ANSWERS_FILE: FileRef(ANSWERS_FILE, root / origin, origin)}), root)
            try:
                sheet = parse_sheet(file.files[ANSWERS_FILE])
            except ValueError as error:
                change.skipped.append((row.student, str(error)))
                continue
            question = next(q for q in loaded.student_quiz(row.student).questions if q.qid == item)
            result = grade_answer(
                question.exercise, question.variant, sheet.get(item), item=item,
                rule=policy.rule_for(question.exercise.id), alternatives=alternatives,
            )
            if result.score != row.score:
                gradebook.replace_result(row.student, result)
                change.changed.append(row.student)
        exports.write_outputs(gradebook, folder)
    return change


def record_key_fixes(quiz_dir: Path, note: str, out: Path | None = None, dry_run: bool = False) -> Change:
    """Re-record the keys that changed in the bank (`quiz.fix_keys`) and log each change
    in the audit trail; the next `grader grade` regrades those students."""
    try:
        fixes = fix_keys(quiz_dir, dry_run=dry_run)
    except SpecError as error:
        raise CourseError(str(error)) from None
    change = Change(f"{len(fixes)} key{'s' if len(fixes) != 1 else ''} changed", sorted({f.student for f in fixes}), fixes=fixes)
    if dry_run or not fixes:
        return change
    folder = gradebook_dir(quiz_dir, out)
    folder.mkdir(parents=True, exist_ok=True)
    with _opened(quiz_dir, out, create=True) as (gradebook, _):
        for fix in fixes:
            gradebook.add_adjustment(KEY_FIX, fix.item, student=fix.student, note=note, author=author(), detail=fix.describe())
            # the question text is rendered again by the next run (the exercise may have changed)
            gradebook.db.execute("UPDATE items SET prompt = '' WHERE student = ? AND item = ?", (fix.student, fix.item))
    return change


def audit_trail(quiz_dir: Path, out: Path | None = None) -> list:
    """Every entry of the audit trail, oldest first."""
    with _opened(quiz_dir, out) as (gradebook, _):
        return gradebook.adjustments()


def export_lms(
    quiz_dir: Path, fmt: str, target: Path, *, out: Path | None = None, roster: Path | None = None,
    id_map: Path | None = None, assignment: str | None = None,
) -> Path:
    """`lms.export_lms` on the quiz's gradebook."""
    from grader.gradebook.lms import export_lms as write

    with _opened(quiz_dir, out) as (gradebook, _):
        return write(gradebook, fmt, target, roster=roster, id_map=id_map, assignment=assignment)
