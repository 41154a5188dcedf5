"""How the command line shows previews and check reports (rich, markup off for anything a
student wrote)."""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator

from rich import box
from rich.console import Console
from rich.markdown import Markdown
from rich.panel import Panel
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.syntax import Syntax
from rich.table import Table
from rich.text import Text

from grader.cli.terminal_math import markdown_for_terminal

def exercise_table(rows: list[dict[str, Any]]) -> Table:
    """`grader list` in a terminal: one row per exercise under a row per section; ids are
    never cut (they are what you type) and titles wrap between words."""
    table = Table(title=f"{len(rows)} exercises", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True, show_edge=False)
    table.add_column("id", no_wrap=True)
    table.add_column("title", ratio=1, min_width=16, overflow="fold")
    table.add_column("kind", no_wrap=True)
    table.add_column("pts", justify="right", no_wrap=True)
    section = None
    for row in rows:
        if row["section"] != section:
            section = row["section"]
            table.add_row(Text(f"section {section}: {row['topic']}", style="bold"), end_section=False)
        table.add_row(Text(row["id"]), Text(row["title"]), Text(row["kind"]), Text(f"{row['points']:g}"))
    return table


EXERCISE_LINE_COLUMNS = ("id", "title", "section", "topic", "kind", "pts")


def exercise_lines(rows: list[dict[str, Any]]) -> list[str]:
    """`grader list` when piped: a header and one tab-separated line per exercise."""
    lines = ["\t".join(EXERCISE_LINE_COLUMNS)]
    for row in rows:
        fields = (row["id"], row["title"], str(row["section"]), row["topic"], row["kind"], f"{row['points']:g}")
        lines.append("\t".join(fields))
    return lines


@contextmanager
def student_progress(console: Console) -> Iterator[Callable[[int, int], None] | None]:
    """A progress bar of the students written, in a terminal only.  It is refreshed by the
    callback itself, never by a background thread: quiz writing may fork worker processes,
    and a thread holding the terminal's lock at that moment would hang them."""
    if not console.is_terminal:
        yield None
        return
    bar = Progress(
        TextColumn("Writing quizzes"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True, auto_refresh=False,
    )
    task = bar.add_task("students", total=None)
    with bar:
        def advance(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
            bar.refresh()

        yield advance


def print_preview(console: Console, preview: Any) -> None:
    """An exercise variant: prompt (math as Unicode), answer format, key, misconceptions."""
    exercise = preview.exercise
    about = (
        f"{exercise.id} · section {exercise.section} ({exercise.topic}) · {exercise.kind}"
        f" · {exercise.points:g} pt · generator v{exercise.generator_version} · seed {preview.seed}"
    )
    console.print(Text(about, style="dim"), soft_wrap=True)
    prompt = Markdown(markdown_for_terminal(preview.prompt))
    console.print(Panel(prompt, title=Text(exercise.title, style="bold"), title_align="left"))
    if preview.answer_format:
        console.print(Text("Answer format: ", style="bold") + Text(preview.answer_format))
    if preview.key and "\n" in str(preview.key):
        console.print(Text("Key:", style="bold green"))
        console.print(Syntax(str(preview.key).strip(), "python", theme="ansi_dark"))
    elif preview.key:
        console.print(Text("Key: ", style="bold green") + Text(str(preview.key)), soft_wrap=True)
    if preview.extra.get("tests"):
        console.print(Text(str(preview.extra["tests"])))
    if preview.misconceptions:
        with_answers = any(answer for _, answer, _ in preview.misconceptions)
        table = Table(title="Misconceptions", show_lines=True, title_justify="left")
        table.add_column("tag", no_wrap=True)
        if with_answers:
            table.add_column("answer")
        table.add_column("feedback", ratio=1)
        for tag, answer, feedback in preview.misconceptions:
            cells = [Text(tag), Text(answer), Text(feedback)] if with_answers else [Text(tag), Text(feedback)]
            table.add_row(*cells)
        console.print(table)

