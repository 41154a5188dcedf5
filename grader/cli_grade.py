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
from typing import Callable, NoReturn

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
@click.option("--scheduler", default=None, metavar="ADDRESS",
              help="Run the code on this Dask scheduler's workers (tcp://HOST:PORT; see docs/distributed.md).")
@click.option("--cluster", default=None, metavar="local:N",
              help="Start a Dask LocalCluster of N worker processes here and run the code on it.")
def grade(submissions: Path, quiz_dir: Path, out: Path | None, jobs: int | None, force: bool,
          only: str | None, id_map: Path | None, scheduler: str | None, cluster: str | None) -> None:
    """Grade every submission in SUBMISSIONS (one folder per student id, or an LMS export).

    Writes into OUT: gradebook.sqlite, grades.csv, totals.csv, results/<id>.json
    (Gradescope), feedback/<id>.html and report.html. Re-running skips unchanged
    submissions and resumes an interrupted run.

    With --scheduler or --cluster the code runs on a Dask cluster (pip install
    'grader[dask]'); answers are graded and results recorded here as always.

    Exit status: 0 when every submission was graded; 1 when some could not be graded
    (a grader or sandbox failure: run again); 2 for usage errors; 130 when interrupted.
    """
    from grader.gradebook.progress import reporter_for
    from grader.gradebook.runner import BatchError, grade_batch
    from grader.gradebook.summary import print_summary

    def run(backend_factory: object = None) -> object:
        return grade_batch(
            submissions, quiz_dir, out=out, jobs=jobs, force=force,
            only=only.split(",") if only is not None else None,
            id_map=id_map, progress=reporter_for(console), backend_factory=backend_factory,
        )

    try:
        if scheduler is None and cluster is None:
            summary = run()
        else:
            summary = _on_cluster(run, scheduler, cluster, jobs)
    except BatchError as error:
        error_console.print(Text(f"error: {error}", style="bold red"), soft_wrap=True)
        sys.exit(EXIT_USAGE)
    print_summary(summary, console)
    if summary.interrupted:
        sys.exit(EXIT_INTERRUPTED)
    if summary.failed:
        sys.exit(EXIT_FAILED)


def _on_cluster(run: Callable[[object], object], scheduler: str | None, cluster: str | None,
                jobs: int | None) -> object:
    """`run` with code graded on a Dask cluster; usage errors exit 2."""
    from grader.cluster import ClusterError, open_cluster

    def usage(message: str) -> NoReturn:
        error_console.print(Text(f"error: {message}", style="bold red"), soft_wrap=True)
        sys.exit(EXIT_USAGE)

    if jobs is not None:
        usage("--jobs applies to the local sandbox pool; on a cluster the workers' threads decide")
    try:
        with open_cluster(scheduler, cluster) as backend_factory:
            return run(backend_factory)
    except ClusterError as error:
        usage(str(error))


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
