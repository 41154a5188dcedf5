"""How a batch run reports on the terminal (`grader.gradebook.reporting.Reporter`): a rich
progress bar with counts and ETA on a terminal, one plain line per submission otherwise
(logs, CI, pipes).

Everything a student controls (ids come from the roster, but file names come from the
submissions folder) is printed as `rich.text.Text`, never as markup.
"""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text

from grader.gradebook.reporting import Reporter


class PlainReporter:
    """One line per event: `[3/40] s003 graded: 7.5/10 in 1.2 s`."""

    def __init__(self, console: Console):
        self.console = console
        self.total = 0
        self.done = 0

    def start(self, total: int) -> None:
        self.total = total
        self.console.print(Text(f"grading {total} submission{'s' if total != 1 else ''}"))

    def graded(self, student: str, detail: str) -> None:
        self.done += 1
        self.console.print(Text(f"[{self.done}/{self.total}] {student} graded: {detail}"))

    def warn(self, message: str) -> None:
        self.console.print(Text(f"warning: {message}"), soft_wrap=True)

    def finish(self) -> None:
        pass


class RichReporter:
    """A progress bar (done/total, elapsed, ETA) with warnings printed above it."""

    def __init__(self, console: Console):
        self.console = console
        self.progress = Progress(
            TextColumn("grading"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("elapsed"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=console,
            transient=False,
        )
        self.task: TaskID | None = None

    def start(self, total: int) -> None:
        self.progress.start()
        self.task = self.progress.add_task("grading", total=total)

    def graded(self, student: str, detail: str) -> None:
        if self.task is not None:
            self.progress.advance(self.task)

    def warn(self, message: str) -> None:
        self.progress.console.print(Text(f"warning: {message}", style="yellow"), soft_wrap=True)

    def finish(self) -> None:
        self.progress.stop()


def reporter_for(console: Console) -> Reporter:
    """A progress bar on a terminal, plain lines otherwise."""
    return RichReporter(console) if console.is_terminal else PlainReporter(console)
