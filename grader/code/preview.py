"""What `grader preview` shows for a code exercise (used by `grader.api` when present): the
stub as the prompt, the instructor's solution as the key, the public tests, how many hidden
tests a variant has (with the names of this seed's), the not-allowed calls and the
misconceptions."""

from __future__ import annotations

from typing import Any

from grader.code.exercise import CodeExercise
from grader.code.stubs import SolutionError, solution_file


def code_preview_details(exercise: CodeExercise, seed: int) -> dict[str, Any]:
    """A dict with prompt (Markdown), solution (Python), tests (one line), forbidden and
    misconceptions as (tag, behaviour, feedback) rows."""
    hidden = exercise.draw_hidden_tests(seed)
    try:
        solution = solution_file([exercise], module_docstring=False)
    except (SolutionError, OSError):
        solution = ""
    public = ", ".join(t.name for t in exercise.public_tests)
    tests = f"Public tests: {public}. Hidden tests ({len(hidden)}, seed {seed}): {', '.join(t.name for t in hidden)}."
    if exercise.forbidden:
        tests += f" Not allowed: {', '.join(exercise.forbidden)}."
    return {
        "prompt": f"```python\n{exercise.signature}\n```\n\n{exercise.docstring.strip()}",
        "solution": solution,
        "tests": tests,
        "forbidden": list(exercise.forbidden),
        "misconceptions": [(m.tag, "(buggy implementation)", m.feedback) for m in exercise.misconceptions],
    }
