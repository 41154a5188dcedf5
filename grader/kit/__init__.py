"""The student kit: `students/<id>/check.pyz`, run as `python check.pyz answers.toml` or
`python check.pyz exercise.py` with only Python >= 3.10 and torch installed.

The modules listed in `KIT_MODULES` are the kit's code.  They import only the standard
library, torch and each other (relative imports), and run on Python 3.10, so the same
source serves `grader check` (as `grader.kit`, `grader.answers`, ...) and the kit (packed
as `gradekit.kit`, `gradekit.answers`, ... by `grader.kit.build`).  The kit carries data
computed at generation time (formats, public tests with their expected outputs, and in
practice mode the keys) and no code of `reference/`, `solutions/` or `exercises/`.
"""

KIT_MODULES: tuple[str, ...] = (
    "answers/__init__.py",
    "answers/_common.py",
    "answers/_timelimit.py",
    "answers/arrays.py",
    "answers/base.py",
    "answers/choice.py",
    "answers/credit.py",
    "answers/expression.py",
    "answers/fields.py",
    "answers/numbers.py",
    "answers/registry.py",
    "answers/safe_expr.py",
    "answers/shapes.py",
    "answers/words.py",
    "code/signature.py",
    "code/scan.py",
    "code/source.py",
    "indices.py",
    "notebooks.py",
    "student_file.py",
    "torch_threads.py",
    "wording.py",
    "kit/__init__.py",
    "kit/values.py",
    "kit/sheet.py",
    "kit/answer_report.py",
    "kit/compare.py",
    "kit/report.py",
    "kit/verdict.py",
    "kit/runner.py",
    "kit/table.py",
    "kit/main.py",
)
"""The kit's modules, as paths under the `grader` package (the single list of what is packed)."""

EXIT_OK = 0
EXIT_PROBLEMS = 1
EXIT_USAGE = 2
