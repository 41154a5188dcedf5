"""The `grader` command line: a thin click layer over the Python API.

Errors in what the user gave (an unknown topic, a bad roster, a malformed file) print one
line on stderr and exit with status 2; `grader check` exits 1 when it found problems.

The package is the command line's wing: click commands (one module per group of
commands), the one console (`console`) and the printers of what the API returns.  Nothing
outside it prints or imports click or rich (`tests/test_layers.py`).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click
from rich.text import Text

from grader import __version__
from grader.cli.console import USAGE_ERROR, console, fail, run_api

__all__ = ["main", "fail", "run_api", "USAGE_ERROR"]


def _split(values: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (values or "").split(",") if v.strip())


bank_option = click.option(
    "--bank", "bank_dirs", multiple=True, type=click.Path(file_okay=False, path_type=Path),
    help="A folder of extra exercise files (repeatable).",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Generate, render and grade quizzes and code exercises for a deep-learning course."""


@main.command("list")
@click.option("--topic", help="Only this topic (name or section number).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array instead of a table.")
@bank_option
def list_command(topic: str | None, as_json: bool, bank_dirs: tuple[Path, ...]) -> None:
    """The exercise bank."""
    from grader.api import list_exercises
    from grader.cli.render import exercise_lines, exercise_table

    rows = run_api(lambda: list_exercises(topic=topic, bank_dirs=bank_dirs))
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    elif console.is_terminal:
        console.print(exercise_table(rows))
    else:
        click.echo("\n".join(exercise_lines(rows)))


@main.command()
@click.argument("exercise_id")
@click.option("--seed", type=int, default=0, show_default=True, help="Variant seed.")
@bank_option
def preview(exercise_id: str, seed: int, bank_dirs: tuple[Path, ...]) -> None:
    """One variant of an exercise, with its key and its misconceptions."""
    from grader.api import preview_exercise
    from grader.cli.render import print_preview

    preview_data = run_api(lambda: preview_exercise(exercise_id, seed=seed, bank_dirs=bank_dirs))
    print_preview(console, preview_data)


@main.command("new-quiz")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="The quiz folder to create.")
@click.option("--students", help="Comma-separated student ids.")
@click.option("--roster", type=click.Path(dir_okay=False, path_type=Path), help="CSV with an id column (name, email optional).")
@click.option("--topics", help="Comma-separated topics or section numbers.")
@click.option("--exercises", help="Comma-separated exercise ids.")
@click.option("--kind", type=click.Choice(["answer", "code", "all"]), default="all", show_default=True)
@click.option("--count", type=click.IntRange(min=0), default=0, help="Sample this many of the selected exercises, the same for every student (0: all).")
@click.option("--shuffle-exercises", is_flag=True, help="Sample and order the exercises per student instead.")
@click.option("--mode", type=click.Choice(["exam", "practice"]), default="exam", show_default=True)
@click.option("--handout", type=click.Choice(["script", "notebook"]), default="script", show_default=True,
              help="notebook: also write exercise.ipynb (each function's text and stub, then the kit's check).")
@click.option("--secret-file", type=click.Path(dir_okay=False, path_type=Path), help="Use this secret instead of a new one.")
@click.option("--title", default="Quiz", show_default=True)
@bank_option
def new_quiz_command(
    out: Path, students: str | None, roster: Path | None, topics: str | None, exercises: str | None,
    kind: str, count: int, shuffle_exercises: bool, mode: str, handout: str, secret_file: Path | None,
    title: str, bank_dirs: tuple[Path, ...],
) -> None:
    """Create a quiz folder: one variant per student (quiz.html, quiz.md, answers.toml,
    exercise.py), the keys, and the spec.  Nothing is written unless everything is."""
    from grader.api import create_quiz

    if bool(students) == bool(roster):
        fail("give exactly one of --students or --roster")
    from grader.cli.render import student_progress

    with student_progress(console) as progress:
        summary = run_api(
            lambda: create_quiz(
                out, title=title, student_ids=_split(students), roster=roster, topics=_split(topics),
                exercise_ids=_split(exercises), kind=kind, count=count,
                shuffle_exercises=shuffle_exercises, mode=mode, handout=handout, secret_file=secret_file,
                bank_dirs=bank_dirs, progress=progress,
            )
        )
    from grader.wording import plural

    console.print(
        Text(
            f"Wrote {summary.out}: {plural(summary.students, 'student')}, {plural(summary.questions, 'answer question')}"
            f" and {plural(summary.code_functions, 'code function')} each ({summary.spec.mode} mode)."
        ),
        soft_wrap=True,
    )
    if not secret_file:
        console.print(
            Text(f"The secret is {summary.out / 'secret.key'}: keep it, never hand it out."), soft_wrap=True
        )


@main.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--quiz", "quiz_dir", type=click.Path(exists=True, file_okay=False, path_type=Path), help="The quiz folder (practice mode: shows correctness).")
def check(file: Path, quiz_dir: Path | None) -> None:
    """Check answers.toml, exercise.py or exercise.ipynb before handing it in."""
    from grader.api import check_file
    from grader.cli.check_report import print_check_report

    report = run_api(lambda: check_file(file, quiz_dir))
    print_check_report(console, report)
    sys.exit(report.exit_code)


def _register_grading_commands() -> None:
    from grader.cli.grade import demo, grade

    from grader.cli.doctor import doctor
    from grader.cli.similarity import similarity

    for command in (grade, demo, doctor, similarity):
        main.add_command(command)


@main.group("export")
def export_group() -> None:
    """Exports of a quiz for other systems."""


def _register_export_commands() -> None:
    from grader.cli.course import EXPORT_COMMANDS
    from grader.cli.gradescope import gradescope_command

    for command in (*EXPORT_COMMANDS, gradescope_command):
        export_group.add_command(command)


_register_grading_commands()
_register_export_commands()


def _register_course_commands() -> None:
    from grader.cli.course import COMMANDS

    for command in COMMANDS:
        main.add_command(command)


_register_course_commands()
