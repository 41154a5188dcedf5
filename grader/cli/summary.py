"""The end-of-run summary in the terminal: counts, class mean and median, the most common
misconceptions and where the files are. Messages that may carry student text (failure
messages, file names) are printed as `rich.text.Text`."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader.rounding import score_text
from grader.gradebook.runner import BatchSummary


def _score(value: float | None, maximum: float) -> str:
    if value is None:
        return "-"
    share = f" ({100.0 * value / maximum:.1f}%)" if maximum else ""
    return f"{score_text(value)} / {score_text(maximum)}{share}"


def print_summary(summary: BatchSummary, console: Console) -> None:
    """Print the summary table, the misconceptions and the output files."""
    table = Table(title=Text(f"Grading of {summary.title} ({summary.quiz_id})"), show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column()
    table.add_row("students on the roster", str(summary.students))
    table.add_row("graded in this run", str(len(summary.graded)))
    table.add_row("skipped (unchanged)", str(len(summary.skipped)))
    table.add_row("without a submission", str(len(summary.missing)))
    if summary.unrecognized:
        table.add_row(Text("submitted but not recognized", style="yellow"), str(len(summary.unrecognized)))
    if summary.failed:
        table.add_row(Text("failed (rerun to retry)", style="red"), str(len(summary.failed)))
    if summary.not_graded:
        table.add_row(Text("not graded (grader failure)", style="red"), str(len(summary.not_graded)))
    if summary.sandbox is not None:
        unconfined = summary.sandbox != "bwrap"
        table.add_row(Text("student code ran", style="bold red" if unconfined else ""),
                      Text("UNCONFINED (--no-sandbox)" if unconfined else "in the bwrap sandbox",
                           style="bold red" if unconfined else ""))
    table.add_row("unmatched files", str(len(summary.unmatched)))
    table.add_row("mean score", _score(summary.mean, summary.max_total))
    table.add_row("median score", _score(summary.median, summary.max_total))
    table.add_row("time", f"{summary.seconds:.1f} s")
    console.print(table)
    if summary.misconceptions:
        common = Table(title="Most common misconceptions", box=None)
        common.add_column("item")
        common.add_column("misconception")
        common.add_column("students", justify="right")
        for item, tag, count in summary.misconceptions:
            common.add_row(Text(item), Text(tag), str(count))
        console.print(common)
    for student, message in summary.failed:
        console.print(Text(f"failed: {student}: {message}", style="red"), soft_wrap=True)
    for student, names in summary.unrecognized:
        console.print(
            Text(f"submitted but not recognized: {student}: {', '.join(names)} "
                 "(expected answers.toml and/or exercise.py)", style="yellow"),
            soft_wrap=True,
        )
    failed_now = {student for student, _ in summary.failed}
    for student, text in summary.not_graded:
        if student not in failed_now:
            console.print(Text(f"{student}: {text}; run again to grade it", style="red"), soft_wrap=True)
    for item in summary.unmatched:
        console.print(Text(f"unmatched: {item.origin}: {item.reason}", style="yellow"), soft_wrap=True)
    if summary.files:
        console.print(Text("Files", style="bold"))
        width = max(len(what) for what in summary.files)
        for what, path in summary.files.items():
            # one unwrapped line each, so a long path stays whole (and clickable)
            console.print(Text(f"  {what.ljust(width)}  {path}"), soft_wrap=True)
    if summary.interrupted:
        console.print(Text("Interrupted: run the same command again to grade the rest.", style="yellow"))
