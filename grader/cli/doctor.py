"""`grader doctor`: a thin click command over `grader.doctor.diagnose`."""

from __future__ import annotations

import sys

import click
from rich.text import Text

from grader.cli.console import console


@click.command("doctor")
def doctor() -> None:
    """Check this machine: Python, torch, bwrap, cgroup delegation, chromium, a sandboxed
    worker's cold start.  One line each (ok / missing, and the fix).

    Exit status: 0 when grading can run confined (in the sandbox), 1 otherwise."""
    from grader.doctor import diagnose

    diagnosis = diagnose()
    for check in diagnosis.checks:
        state = "ok" if check.ok else ("missing" if check.required else "missing (optional)")
        line = Text(f"{state:<18} {check.name:<9} ", style="green" if check.ok else ("red" if check.required else "yellow"))
        line.append(check.detail, style="")
        if not check.ok and check.fix:
            line.append(f"; fix: {check.fix}", style="")
        console.print(line, soft_wrap=True)
    if diagnosis.ready:
        console.print(Text("Grading can run confined here."), soft_wrap=True)
    else:
        console.print(Text("Grading cannot run confined here: `grader grade` and `grader demo` will refuse "
                           "(or run unconfined with --no-sandbox).", style="bold red"), soft_wrap=True)
    sys.exit(0 if diagnosis.ready else 1)
