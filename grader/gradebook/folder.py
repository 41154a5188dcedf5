"""The grading folder: where `grader grade` writes the gradebook, exports and pages."""

from __future__ import annotations

from pathlib import Path

DEFAULT_OUT_NAME = "grading"


def default_out(quiz_dir: Path) -> Path:
    """Where results go without --out: `<quiz>/grading`."""
    return Path(quiz_dir) / DEFAULT_OUT_NAME
