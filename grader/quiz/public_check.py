"""A check described without its key, so a student's copy of the quiz can validate answers.

`students/<id>/quiz.json` lists each question's id, points, format and this description
(the check's kind and its public settings, derived from its dataclass fields by
`grader.answers.registry`: tolerances, expression variables, the option texts already
printed in the quiz; for a matrix, the shape its format comment already states).  It never
contains a key or a parameter.  The implementation lives in `grader.kit.answer_report` and
`grader.answers.registry`, which the student kit carries.
"""

from __future__ import annotations

from grader.kit.answer_report import describe as describe_check
from grader.kit.answer_report import format_problem, rebuild_check

__all__ = ["describe_check", "format_problem", "rebuild_check"]
