"""The one rich Console of the command line.  Markup is off: anything a student wrote is
printed as plain text, never interpreted as rich markup."""

from __future__ import annotations

from rich.console import Console

console = Console(markup=False, highlight=False, soft_wrap=False)
error_console = Console(stderr=True, markup=False, highlight=False)
