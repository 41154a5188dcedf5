"""How `grader demo` tells its story on the terminal: the engine (`grader.demo.run_demo`)
narrates through `DemoNarrator`; this prints it, then the batch summary."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.demo import DemoResult
from grader.quiz.create import QuizSummary
from grader.quiz.roster import Student


class ConsoleNarrator:
    """A `grader.demo.DemoNarrator` that prints each step on `console`."""

    def __init__(self, console: Console) -> None:
        self.console = console

    def making_quiz(self, quiz: Path, students: int) -> None:
        self.console.print(Text(f"Making a quiz for {students} students in {quiz} ...", style="bold"))

    def quiz_made(self, summary: QuizSummary) -> None:
        self.console.print(Text(f"  {summary.questions} answer questions, {summary.code_functions} code functions"))

    def fabricated(self, students: Sequence[Student], story: dict[str, str]) -> None:
        table = Table(title="Fabricated submissions", box=None)
        table.add_column("student")
        table.add_column("what they did")
        for student in students:
            table.add_row(Text(f"{student.id} {student.name}"), Text(story[student.id]))
        self.console.print(table)


def print_demo_result(console: Console, result: DemoResult) -> None:
    """The batch summary, then where the reports are."""
    from grader.cli.summary import print_summary

    print_summary(result.summary, console)
    grading = result.out
    console.print(Text(f"Open the class report: {grading / 'report.html'}", style="bold"), soft_wrap=True)
    console.print(Text(f"Feedback pages: {grading / 'feedback'}/<id>.html; everything is in {result.root}"), soft_wrap=True)
