"""`grader grade` and `grader demo`: thin click commands over
`grader.gradebook.runner.grade_batch` and `grader.demo.run_demo`.

Register them on the main group with `main.add_command(grade)` and
`main.add_command(demo)`; `python -m grader.cli_grade grade ...` also works.

Exit codes of `grade`: 0 when every submission was graded (whatever the students' files
held); 1 when some submissions could not be graded because of a grader or sandbox failure
(they are retried by the next run); 2 for usage errors and unusable quiz folders; 130 when
interrupted (committed submissions are kept; run again to resume).
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.text import Text

from grader.console import console, error_console

EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


@click.command("grade")
@click.argument("submissions", type=click.Path(path_type=Path))
@click.option("--quiz", "quiz_dir", required=True, type=click.Path(path_type=Path),
              help="The quiz folder written by `grader new-quiz` (not inside SUBMISSIONS).")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Where the gradebook and reports go (default: QUIZ/grading; not inside SUBMISSIONS).")
@click.option("--jobs", type=click.IntRange(min=1), default=None,
              help="Sandbox workers and grading threads (default: the number of cores).")
@click.option("--force", is_flag=True, help="Regrade every submission, changed or not.")
@click.option("--only", default=None, metavar="ID,...", help="Grade only these student ids.")
@click.option("--id-map", type=click.Path(path_type=Path), default=None,
              help="CSV with columns lms_id,id mapping LMS (Canvas/Moodle) ids to roster ids.")
def grade(submissions: Path, quiz_dir: Path, out: Path | None, jobs: int | None, force: bool,
          only: str | None, id_map: Path | None) -> None:
    """Grade every submission in SUBMISSIONS (one folder per student id, or an LMS export).

    Writes into OUT: gradebook.sqlite, grades.csv, totals.csv, results/<id>.json
    (Gradescope), feedback/<id>.html and report.html. Re-running skips unchanged
    submissions and resumes an interrupted run.

    Exit status: 0 when every submission was graded; 1 when some could not be graded
    (a grader or sandbox failure: run again); 2 for usage errors; 130 when interrupted.
    """
    from grader.gradebook.progress import reporter_for
    from grader.gradebook.runner import BatchError, grade_batch
    from grader.gradebook.summary import print_summary

    try:
        summary = grade_batch(
            submissions, quiz_dir, out=out, jobs=jobs, force=force,
            only=only.split(",") if only is not None else None,
            id_map=id_map, progress=reporter_for(console),
        )
    except BatchError as error:
        error_console.print(Text(f"error: {error}", style="bold red"), soft_wrap=True)
        sys.exit(EXIT_USAGE)
    print_summary(summary, console)
    if summary.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if summary.failed:
        sys.exit(EXIT_FAILED)


@click.command("demo")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Keep everything in this (new or empty) folder instead of a temporary one.")
def demo(out: Path | None) -> None:
    """Run the whole loop: a quiz for 6 students, fabricated submissions, grading, reports."""
    from grader.demo import DemoError, run_demo

    try:
        run_demo(out, console=console)
    except DemoError as error:
        error_console.print(Text(f"error: {error}", style="bold red"), soft_wrap=True)
        sys.exit(EXIT_USAGE)


@click.group()
def _standalone() -> None:
    """grade and demo, for `python -m grader.cli_grade`."""


_standalone.add_command(grade)
_standalone.add_command(demo)

if __name__ == "__main__":  # pragma: no cover
    _standalone()
