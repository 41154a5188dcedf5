"""How the command line shows previews and check reports (rich, markup off for anything a
student wrote)."""

from __future__ import annotations

from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from grader.quiz.terminal_math import markdown_for_terminal

_STATUS_STYLE = {
    "ok": "green", "correct": "green", "partial": "yellow", "incorrect": "red",
    "invalid": "red", "missing": "yellow",
}


def print_preview(console: Console, preview) -> None:  # type: ignore[no-untyped-def]
    exercise = preview.exercise
    title = f"{exercise.id} · section {exercise.section} ({exercise.topic}) · {exercise.kind} · {exercise.points:g} pt · seed {preview.seed}"
    console.print(Panel(Markdown(markdown_for_terminal(preview.prompt)), title=Text(exercise.title), subtitle=Text(title)))
    if preview.answer_format:
        console.print(Text("Answer format: ", style="bold") + Text(preview.answer_format))
    if preview.key:
        console.print(Text("Key: ", style="bold green") + Text(str(preview.key)))
    if preview.extra.get("tests"):
        console.print(Text(str(preview.extra["tests"])))
    if preview.misconceptions:
        table = Table(title="Misconceptions", show_lines=True)
        table.add_column("tag")
        table.add_column("answer / behaviour")
        table.add_column("feedback")
        for tag, answer, feedback in preview.misconceptions:
            table.add_row(Text(tag), Text(answer), Text(feedback))
        console.print(table)


def print_answer_report(console: Console, report) -> None:  # type: ignore[no-untyped-def]
    for problem in report.problems:
        console.print(Text(f"✗ {problem}", style="red"))
    if report.lines:
        table = Table(title=str(report.path))
        table.add_column("question")
        table.add_column("status")
        if report.graded:
            table.add_column("score", justify="right")
        table.add_column("message")
        for line in report.lines:
            cells = [Text(line.question), Text(line.status, style=_STATUS_STYLE.get(line.status, ""))]
            if report.graded:
                cells.append(Text("" if line.score is None else f"{line.score:g}/{line.max_score:g}"))
            message = line.message + (f" [{line.misconception}]" if line.misconception else "")
            cells.append(Text(message))
            table.add_row(*cells)
        console.print(table)
    if report.graded:
        score, total = report.score
        console.print(Text(f"Score: {score:g} / {total:g}", style="bold"))
    elif report.mode == "exam":
        console.print(Text("Exam mode: this check says whether answers can be read, never whether they are right."))
    missing = sum(1 for line in report.lines if line.status == "missing")
    invalid = sum(1 for line in report.lines if line.status == "invalid")
    if report.exit_code == 0:
        console.print(Text("All answers are present and readable.", style="green"))
    else:
        console.print(Text(f"{missing} missing, {invalid} unreadable, {len(report.problems)} file problems.", style="yellow"))
