"""The `grader` command line: a thin click layer over the Python API."""

from __future__ import annotations

import click

from grader import __version__


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Generate, render and grade quizzes and code exercises for a deep-learning course."""


if __name__ == "__main__":  # pragma: no cover
    main()
