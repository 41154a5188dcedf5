"""`grader similarity`: a thin click command over `grader.integrity.api.run_similarity`."""

from __future__ import annotations

from pathlib import Path

import click
from rich.text import Text

from grader.cli.console import console, run_api, warn


@click.command("similarity")
@click.option("--quiz", "quiz_dir", required=True, type=click.Path(path_type=Path),
              help="The quiz folder written by `grader new-quiz`.")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="The grading folder (default: QUIZ/grading); similarity.csv and the pages go there.")
@click.option("--against", multiple=True, type=click.Path(path_type=Path),
              help="A folder of earlier terms' submissions: every .py file in it is compared (repeatable).")
@click.option("--submissions", type=click.Path(path_type=Path), default=None,
              help="Where the students' files are (default: the folder `grader grade` read).")
def similarity(quiz_dir: Path, out: Path | None, against: tuple[Path, ...], submissions: Path | None) -> None:
    """Evidence of copied answers (another student's key, shared unusual wrong answers)
    and copied code (per-function token fingerprints) in a graded quiz.

    Writes OUT/similarity.csv, OUT/similarity/<pair>.html for each flagged pair and the
    Similarity section of OUT/report.html. Evidence for a person, never a penalty.
    """
    from grader.integrity.api import run_similarity

    result = run_api(lambda: run_similarity(quiz_dir, out, submissions, against))
    flagged = result.flagged
    console.print(Text(
        f"{len(flagged)} flagged pair{'s' if len(flagged) != 1 else ''} "
        f"({sum(r.kind == 'answers' for r in flagged)} answers, {sum(r.kind != 'answers' for r in flagged)} code) "
        f"from {result.code_files} code files and {result.references} references in {result.seconds:.1f} s; "
        f"see {result.files.get('similarity')}",
    ), soft_wrap=True)
    if result.unread:
        shown = ", ".join(result.unread[:10]) + (" ..." if len(result.unread) > 10 else "")
        warn(f"exercise.py no longer readable, left out: {shown}")
    for row in flagged[:10]:
        console.print(Text(f"  {row.a} <-> {row.b}  {row.kind}  {row.score:.2f}  {row.evidence[:120]}"), soft_wrap=True)
