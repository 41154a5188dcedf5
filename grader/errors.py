"""The one base of the errors the command line reports as a single line (exit status 2).

Every error that means "what you gave cannot be used" (a bank, a roster, a quiz folder, an
option) derives from `GraderError`, besides the built-in class it always had (ValueError or
RuntimeError), so `grader.cli.run_api` catches one class.  Errors about a student's file are
not among them: they become that student's verdicts, never an exception of the run.
"""

from __future__ import annotations


class GraderError(Exception):
    """A usage error or an unusable input; the message says what and, where it can, the fix."""
