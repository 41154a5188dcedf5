"""`grader grade` and `grader demo`: thin click commands over
`grader.gradebook.runner.grade_batch` and `grader.demo.run_demo`.

Exit codes of `grade`: 0 when every submission was graded (whatever the students' files
held); 1 when some submissions could not be graded because of a grader or sandbox failure
(they are retried by the next run); 2 for usage errors, unusable quiz folders and a missing
or broken sandbox (without --no-sandbox); 130 when interrupted (committed submissions are
kept; run again to resume).  `demo` exits 2 without a working sandbox and 1 when a
submission could not be graded.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.text import Text

from grader.cli.console import console, print_stderr, run_api

EXIT_FAILED = 1
EXIT_INTERRUPTED = 130

NO_SANDBOX = click.option(
    "--no-sandbox", is_flag=True,
    help="Grade even without a working sandbox (bubblewrap): student code then runs unconfined, "
         "with resource limits only, and the run is recorded as unconfined.",
)


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
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run the code on this Dask scheduler's workers (tcp://HOST:PORT; see docs/distributed.md).")
@click.option("--cluster", default=None, metavar="local:N",
              help="Start a Dask LocalCluster of N worker processes here and run the code on it.")
@NO_SANDBOX
def grade(submissions: Path, quiz_dir: Path, out: Path | None, jobs: int | None, force: bool,
          only: str | None, id_map: Path | None, scheduler: str | None, cluster: str | None,
          no_sandbox: bool) -> None:
    """Grade every submission in SUBMISSIONS (one folder per student id, or an LMS export).

    Writes into OUT: gradebook.sqlite, grades.csv, totals.csv, results/<id>.json
    (Gradescope), feedback/<id>.html and report.html. Re-running skips unchanged
    submissions and resumes an interrupted run.

    Student code runs only in the bubblewrap sandbox: without a working one the command
    stops (exit 2) unless --no-sandbox is given.

    With --scheduler or --cluster the code runs on a Dask cluster (pip install
    'grader[dask]'), in every worker's bubblewrap sandbox; answers are graded and results
    recorded here as always.

    Exit status: 0 when every submission was graded; 1 when some could not be graded
    (a grader or sandbox failure: run again); 2 for usage errors and a missing sandbox;
    130 when interrupted.
    """
    from grader.api import grade_submissions
    from grader.cli.progress import reporter_for
    from grader.cli.summary import print_summary

    if scheduler is None and cluster is None:
        _banner_if_unconfined(no_sandbox)
    summary = run_api(lambda: grade_submissions(
        submissions, quiz_dir, out=out, jobs=jobs, force=force,
        only=only.split(",") if only is not None else None, id_map=id_map,
        progress=reporter_for(console), confined=not no_sandbox, scheduler=scheduler, cluster=cluster,
    ))
    print_summary(summary, console)
    if summary.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if summary.failed or summary.not_graded:
        sys.exit(EXIT_FAILED)


@click.command("demo")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Keep everything in this (new or empty) folder instead of a temporary one.")
@NO_SANDBOX
def demo(out: Path | None, no_sandbox: bool) -> None:
    """Run the whole loop: a quiz for 6 students, fabricated submissions, grading, reports.

    Exit status: 0 when every submission was graded, 1 when some could not be, 2 without a
    working sandbox (unless --no-sandbox) or for an --out folder that is not empty."""
    from grader.api import run_demo
    from grader.cli.demo import ConsoleNarrator, print_demo_result
    from grader.cli.progress import reporter_for

    _banner_if_unconfined(no_sandbox)
    result = run_api(lambda: run_demo(out, confined=not no_sandbox, narrator=ConsoleNarrator(console),
                                      progress=reporter_for(console)))
    print_demo_result(console, result)
    if not result.summary.complete:
        sys.exit(EXIT_FAILED)


def _banner_if_unconfined(no_sandbox: bool) -> None:
    """With --no-sandbox on a machine without a working sandbox: say so, loudly."""
    if not no_sandbox:
        return
    from grader.gradebook.confinement import UNCONFINED_BANNER, sandbox_problem

    found = sandbox_problem()
    if found is not None:
        print_stderr(Text(UNCONFINED_BANNER.format(problem=found[0]), style="bold white on red"))

