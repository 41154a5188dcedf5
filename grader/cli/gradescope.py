"""`grader export gradescope`: a thin click command over `grader.gradescope.bundle.build_bundle`."""

from __future__ import annotations

from pathlib import Path

import click
from rich.text import Text

from grader.cli.console import console, run_api


@click.command("gradescope")
@click.option("--quiz", "quiz_dir", required=True, type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The quiz folder written by `grader new-quiz`.")
@click.option("--out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="The zip to write (upload it as the assignment's autograder).")
@click.option("--id-map", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="CSV lms_id,id mapping Gradescope SIDs or emails to roster ids.")
@click.option("--allow-unconfined", is_flag=True,
              help="Grade without the sandbox where bubblewrap cannot run on the image (recorded on each result).")
def gradescope_command(quiz_dir: Path, out: Path, id_map: Path | None, allow_unconfined: bool) -> None:
    """An autograder bundle for Gradescope: setup.sh, run_autograder, the quiz's keys and this
    grader. It holds every student's keys and hidden tests: never hand it to students."""
    from grader.gradescope.bundle import build_bundle

    info = run_api(lambda: build_bundle(quiz_dir, out, id_map=id_map, allow_unconfined=allow_unconfined))
    console.print(Text(f"Wrote {info.path} ({info.size / 1e6:.1f} MB, {info.students} students): upload it as the "
                       "autograder of the Gradescope assignment (base image with Python >= 3.11)."), soft_wrap=True)
