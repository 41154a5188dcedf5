"""The check reports as plain text that fits the terminal: the one rendering used by
`grader check` and the kit.

Columns are sized to the width given (80 by default); long cells wrap at spaces, so no word
is cut, except a single word longer than its whole column.  Everything printed is plain
text: what comes from the student's file is never interpreted as markup.
"""

from __future__ import annotations

import textwrap
from typing import TYPE_CHECKING, Sequence

from .report import CodeReport, FunctionReport

if TYPE_CHECKING:  # pragma: no cover
    from .answer_report import AnswerReport

DEFAULT_WIDTH = 80
_GAP = "  "


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width` characters, broken at spaces (a longer word is
    split only when it cannot fit on a line of its own)."""
    width = max(width, 1)
    lines: list[str] = []
    for paragraph in str(text).splitlines() or [""]:
        words = textwrap.wrap(paragraph, width, break_long_words=False, break_on_hyphens=False) or [""]
        for line in words:
            while len(line) > width:  # one word longer than the column
                lines.append(line[:width])
                line = line[width:]
            lines.append(line)
    return lines


def table(headers: Sequence[str], rows: Sequence[Sequence[str]], width: int = DEFAULT_WIDTH, indent: str = "") -> list[str]:
    """Rows under headers in `width` columns.  Every column is at least as wide as its
    longest word (so no word is cut whenever those fit side by side); the other columns
    then grow to their longest cell while the last keeps a third of the width, and the
    last column takes the rest.  Cells wrap at spaces."""
    columns = len(headers)
    cells = [[str(c) for c in row] for row in rows]
    natural = [max([len(headers[i])] + [len(w) for r in cells for w in r[i].split()]) for i in range(columns)]
    full = [max([len(headers[i])] + [len(r[i]) for r in cells]) for i in range(columns)]
    room = width - len(indent) - len(_GAP) * (columns - 1)
    if sum(natural) <= room:
        widths = list(natural)
        spare = room - sum(natural)
        for i in range(columns - 1):
            keep = max(0, room // 3 - widths[-1])  # what the last column still needs for its third
            grow = max(0, min(full[i] - widths[i], spare - keep))
            widths[i] += grow
            spare -= grow
        widths[-1] += spare
    else:  # the longest words cannot fit side by side: some must be split
        widths = [max(1, n * room // sum(natural)) for n in natural]
    out = []
    for row in [list(headers), *cells]:
        wrapped = [wrap(cell, widths[i]) for i, cell in enumerate(row)]
        height = max(len(c) for c in wrapped)
        for k in range(height):
            parts = [(wrapped[i][k] if k < len(wrapped[i]) else "").ljust(widths[i]) for i in range(columns)]
            out.append((indent + _GAP.join(parts)).rstrip())
    return out


# ----------------------------------------------------------------------------- answers


PRACTICE_WITHOUT_KEYS = "Practice mode: this copy of the quiz holds no keys, so it only checks that answers can be read."


def render_answers(report: AnswerReport, width: int = DEFAULT_WIDTH, practice_note: str = PRACTICE_WITHOUT_KEYS) -> list[str]:
    """answers.toml: the file's problems, one row per question, then the summary
    (`practice_note` ends an ungraded practice-mode report)."""
    lines = wrap(f"Checking {report.path} ({report.mode} mode)", width)
    for problem in report.problems:
        lines += wrap(f"problem: {problem}", width)
    headers = ["question", "status"] + (["score"] if report.graded else []) + ["message"]
    rows = []
    for line in report.lines:
        message = line.message
        if line.misconception:
            message = f"{message} [misconception: {line.misconception}]".strip()
        if line.read_as:
            message = f"{message}; {line.read_as}" if message else line.read_as
        score = [f"{line.score:g}/{line.max_score:g}" if line.score is not None and line.max_score is not None else ""]
        rows.append([line.question, line.status] + (score if report.graded else []) + [message])
    if rows:
        lines += table(headers, rows, width, indent="  ")
    if report.graded:
        score, total = report.score
        lines.append(f"Score: {score:g} / {total:g}")
    elif report.mode == "exam":
        lines += wrap("Exam mode: this check says whether answers can be read, never whether they are right.", width)
    else:
        lines += wrap(practice_note, width)
    missing = sum(1 for line in report.lines if line.status == "missing")
    invalid = sum(1 for line in report.lines if line.status == "invalid")
    if report.exit_code == 0:
        lines.append("All answers are present and readable.")
    else:
        lines += wrap(f"{missing} missing, {invalid} unreadable, {len(report.problems)} file problems.", width)
    return lines


# ----------------------------------------------------------------------------- code


def _test_rows(function: FunctionReport) -> list[list[str]]:
    rows = []
    for problem in function.signature_problems:
        rows.append(["signature", "wrong", problem])
    for test in function.tests:
        message = test.message
        if test.status != "passed" and test.got:
            if test.expected:
                message = f"{message} | expected {test.expected}".lstrip(" |")
            message = f"{message} | got {test.got}".lstrip(" |")
        rows.append([test.name, test.status, message])
    if function.hint:
        rows.append(["hint", "", function.hint])
    return rows


def render_code(report: CodeReport, width: int = DEFAULT_WIDTH) -> list[str]:
    """exercise.py: the file's problems, a block per function (its def line, each public
    test with expected and got, the hint of the typical mistake), then the summary."""
    lines = wrap(f"Checking {report.path}", width)
    for problem in report.problems:
        lines += wrap(f"problem: {problem}", width)
    for note in report.notes:
        lines += wrap(f"note: {note}", width)
    for function in report.functions:
        head = f"{function.function}: {function.status}, {function.passed} of {len(function.tests)} public tests passed"
        if not function.present:
            head += " (not defined in the file)"
        lines += [""] + wrap(head, width)
        lines += table(["test", "result", "message"], _test_rows(function), width, indent="  ")
    if report.functions:
        lines.append("")
        summary = (
            f"{report.public_passed} of {report.public_total} public tests passed. "
            f"{report.hidden_total} hidden tests will grade these {len(report.functions)} functions; they do not run here."
        )
        if report.signature_problems:
            summary += " Fix the signatures: hidden tests pass some arguments by name."
        if any(f.forbidden for f in report.functions):
            summary += " Not-allowed calls score 0."
        lines += wrap(summary, width)
    return lines

