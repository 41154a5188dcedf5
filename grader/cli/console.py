"""The one rich Console of the command line, and the helpers that print through it.

Markup, emoji codes and highlighting are off (as in hatch): anything a student wrote is
printed as plain text, never interpreted.  Errors and warnings go to stderr through the
same console.  Nothing outside `grader.cli` prints; the engine returns data.
"""

from __future__ import annotations

import sys
from typing import Any, Callable, NoReturn

from rich.console import Console
from rich.text import Text

from grader.errors import GraderError

USAGE_ERROR = 2

console = Console(markup=False, emoji=False, highlight=False, soft_wrap=False)


def print_stderr(text: Text) -> None:
    """One line on stderr, never wrapped (so a long path stays whole)."""
    console.stderr = True
    try:
        console.print(text, soft_wrap=True)
    finally:
        console.stderr = False


def warn(message: str) -> None:
    """`warning: ...` on stderr."""
    print_stderr(Text(f"warning: {message}", style="yellow"))


def fail(message: str) -> NoReturn:
    """`error: ...` on stderr, exit status 2."""
    print_stderr(Text(f"error: {message}", style="bold red"))
    sys.exit(USAGE_ERROR)


def run_api(call: Callable[[], Any]) -> Any:
    """Run an API call; turn the project's input errors (`GraderError`) into one line and exit 2."""
    try:
        return call()
    except GraderError as error:
        fail(str(error))
