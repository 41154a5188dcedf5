"""How `grader check` prints its report: the student kit's text table
(`grader.kit.table`, shared with check.pyz so both print the same), one plain `Text` line
at a time, so nothing from the student's file is ever parsed as markup."""

from __future__ import annotations

from rich.console import Console
from rich.text import Text

from grader.kit.answer_report import AnswerReport
from grader.kit.report import CodeReport
from grader.kit.table import render_answers, render_code

PRACTICE_NOTE = "Practice mode: add --quiz DIR (the quiz folder) to see which answers are right."


def _print_lines(console: Console, lines: list[str]) -> None:
    for line in lines:
        console.print(Text(line), soft_wrap=True)


def print_check_report(console: Console, report: CodeReport | AnswerReport) -> None:
    """An exercise.py / exercise.ipynb report or an answers.toml report, at the console's
    width."""
    if isinstance(report, CodeReport):
        _print_lines(console, render_code(report, width=console.width))
    else:
        _print_lines(console, render_answers(report, width=console.width, practice_note=PRACTICE_NOTE))
