"""Commands for running a course after `grader grade`: `override`, `accept`, `drop`,
`fix-keys`, `history` and `export canvas|moodle`; thin click layers over
`grader.gradebook.course` and `grader.gradebook.lms`. Usage errors print one line on
stderr and exit 2. The author of a change is $GRADER_AUTHOR, else the login name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from rich.text import Text

from grader.cli.console import console, run_api

quiz_option = click.option("--quiz", "quiz_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
                           help="The quiz folder.")
out_option = click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=None,
                          help="The grading folder given to `grader grade --out` (default: QUIZ/grading).")
note_option = click.option("--note", default="", help="Why (kept in the audit trail and shown to the student).")


def _report(change: Any) -> None:
    console.print(Text(change.message), soft_wrap=True)
    if change.changed:
        console.print(Text(f"grade changed: {', '.join(change.changed)}"), soft_wrap=True)
    for student, reason in change.skipped:
        console.print(Text(f"not regraded: {student}: {reason}", style="yellow"), soft_wrap=True)


@click.command("override")
@quiz_option
@click.option("--student", required=True, help="The student id.")
@click.option("--item", required=True, help="The item (q3, or a code function's name).")
@click.option("--score", required=True, type=float, help="The new score, in points.")
@note_option
@out_option
def override(quiz_dir: Path, student: str, item: str, score: float, note: str, out: Path | None) -> None:
    """Set one student's score on one item; it survives regrades."""
    from grader.gradebook.course import override as run

    _report(run_api(lambda: run(quiz_dir, student, item, score, note, out)))


@click.command("accept")
@quiz_option
@click.option("--item", required=True, help="The answer item (q3).")
@click.option("--answer", required=True, help="The answer to accept, as written in answers.toml.")
@note_option
@out_option
def accept(quiz_dir: Path, item: str, answer: str, note: str, out: Path | None) -> None:
    """Accept an alternative answer for everyone; regrades the students it affects."""
    from grader.gradebook.course import accept as run

    _report(run_api(lambda: run(quiz_dir, item, answer, note, out)))


@click.command("drop")
@quiz_option
@click.option("--item", required=True, help="The item to drop (q3, or a code function's name).")
@click.option("--undo", is_flag=True, help="Count the item again.")
@note_option
@out_option
def drop(quiz_dir: Path, item: str, undo: bool, note: str, out: Path | None) -> None:
    """Make an item count for no one (0 of 0 points)."""
    from grader.gradebook.course import drop as run

    _report(run_api(lambda: run(quiz_dir, item, note, out, undo)))


@click.command("fix-keys")
@quiz_option
@click.option("--dry-run", is_flag=True, help="Only list the keys that changed.")
@note_option
@out_option
def fix_keys(quiz_dir: Path, dry_run: bool, note: str, out: Path | None) -> None:
    """Record the keys that changed since the quiz was made (a fixed key or exercise);
    then `grader grade` regrades only the students concerned."""
    from grader.gradebook.course import record_key_fixes

    change = run_api(lambda: record_key_fixes(quiz_dir, note, out, dry_run))
    for fix in change.fixes:
        console.print(Text(f"{fix.student} {fix.item}: {fix.describe()}"), soft_wrap=True)
    console.print(Text(change.message + ("" if dry_run or not change.fixes else
                                          "; run `grader grade` again to regrade those students")), soft_wrap=True)


@click.command("history")
@quiz_option
@out_option
def history(quiz_dir: Path, out: Path | None) -> None:
    """The audit trail: every override, accepted answer, dropped item and key fix."""
    from grader.gradebook.course import audit_trail

    for a in run_api(lambda: audit_trail(quiz_dir, out)):
        change = a.detail or (f"score {a.score:g}" if a.score is not None else (f"answer {a.answer}" if a.answer else ""))
        when = a.created_at.replace("T", " ").replace("+00:00", " UTC")
        target = f"{a.student} {a.item}" if a.student else f"{a.item} (everyone)"
        line = f"{when}  {a.author}  {a.kind:<8}  {target}" + (f": {change}" if change else "") + (f"  — {a.note}" if a.note else "")
        console.print(Text(line), soft_wrap=True)


def _lms_export(fmt: str) -> click.Command:
    """`grader export canvas|moodle`: the final totals in that LMS's gradebook-import CSV."""

    @click.command(fmt, help=f"Write the final totals in {fmt.capitalize()}'s gradebook-import CSV format.")
    @quiz_option
    @click.option("--out", "target", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="The CSV file to write.")
    @click.option("--roster", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                  help="A roster CSV with LMS id columns (canvas_id, sis_user_id, sis_login_id, section, idnumber).")
    @click.option("--id-map", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
                  help="CSV lms_id,id (the LMS id is Canvas's user ID).")
    @click.option("--assignment", default=None,
                  help='The grade column header (Canvas: "Name (assignment id)"; default: the quiz title).')
    @click.option("--grading", "out", type=click.Path(file_okay=False, path_type=Path), default=None,
                  help="The grading folder given to `grader grade --out` (default: QUIZ/grading).")
    def export(quiz_dir: Path, target: Path, roster: Path | None, id_map: Path | None,
               assignment: str | None, out: Path | None) -> None:
        from grader.gradebook.course import export_lms

        path = run_api(lambda: export_lms(quiz_dir, fmt, target, out=out, roster=roster, id_map=id_map,
                                       assignment=assignment))
        console.print(Text(f"Wrote {path} ({fmt} gradebook import)."), soft_wrap=True)

    return export


EXPORT_COMMANDS = (_lms_export("canvas"), _lms_export("moodle"))


COMMANDS = (override, accept, drop, fix_keys, history)
