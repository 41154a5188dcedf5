"""What a batch run tells as it goes: the `Reporter` protocol `grade_batch` calls, and a
reporter that tells nothing.  The engine never prints; the command line supplies the
terminal implementations (`grader.cli.progress`)."""

from __future__ import annotations

from typing import Protocol


class Reporter(Protocol):
    """Receives the events of a batch run (all calls come from the run's main thread)."""

    def start(self, total: int) -> None:
        """`total` submissions are about to be graded."""

    def graded(self, student: str, detail: str) -> None:
        """One submission was graded and committed (detail: "7.5/10 in 1.2 s")."""

    def warn(self, message: str) -> None:
        """Something the instructor should know (an unmatched file, a failed submission)."""

    def finish(self) -> None:
        """The run is over (also after an interruption)."""


class SilentReporter:
    """Reports nothing."""

    def start(self, total: int) -> None:
        pass

    def graded(self, student: str, detail: str) -> None:
        pass

    def warn(self, message: str) -> None:
        pass

    def finish(self) -> None:
        pass
