"""Building a student's kit, `students/<id>/check.pyz` (instructor side; not packed).

The zipapp holds `__main__.py`, the modules of `KIT_MODULES` (their source, under the
package name `gradekit` instead of `grader`) and `gradekit/data.json`: the student's quiz
as data.  For answer questions: id, points, format and the key-free check description;
in practice mode also the key and the misconceptions' answers, as values (the checks'
canonical answers in JSON).
For code functions: the def line, the tolerance, the not-allowed names, the hint sentences,
the hidden-test count, and the public tests with their inputs, the expected outputs and
each misconception's output on them, computed here by the trusted code.  No hidden test,
no generator, no reference, solution or misconception code is packed.

The same bytes come out on every run (fixed timestamps and order).
"""

from __future__ import annotations

import functools
import io
import json
import zipfile
from pathlib import Path
from typing import Any

from grader.kit import KIT_MODULES
from grader.kit.answer_report import describe
from grader.kit.main import DATA_FILE

PACKAGE = "gradekit"
KIT_FILE = "check.pyz"
_STAMP = (1980, 1, 1, 0, 0, 0)

MAIN = '''"""A student's check: python check.pyz answers.toml | exercise.py (needs Python >= 3.10)."""
import sys

if sys.version_info < (3, 10):
    sys.exit("check.pyz needs Python 3.10 or newer (this is " + sys.version.split()[0] + ")")
from gradekit.kit.main import main

sys.exit(main())
'''
PACKAGE_INIT = '"""The student kit\'s code (a copy of the grader\'s checks; see kit/__init__.py)."""\n'
CODE_INIT = '"""Reading a code file without running it (shared with the grader)."""\n'


def _entry(archive: zipfile.ZipFile, name: str, data: bytes) -> None:
    info = zipfile.ZipInfo(name, date_time=_STAMP)
    info.compress_type = zipfile.ZIP_DEFLATED
    info.external_attr = 0o644 << 16
    archive.writestr(info, data, compresslevel=9)


@functools.lru_cache(maxsize=1)
def code_archive() -> bytes:
    """The zip of the kit's code, without data (the same for every student)."""
    root = Path(__file__).resolve().parent.parent
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        _entry(archive, "__main__.py", MAIN.encode("utf-8"))
        _entry(archive, f"{PACKAGE}/__init__.py", PACKAGE_INIT.encode("utf-8"))
        _entry(archive, f"{PACKAGE}/code/__init__.py", CODE_INIT.encode("utf-8"))
        for module in KIT_MODULES:
            _entry(archive, f"{PACKAGE}/{module}", (root / module).read_bytes())
    return buffer.getvalue()


def kit_bytes(data: dict[str, Any]) -> bytes:
    """The whole check.pyz for one student's data."""
    buffer = io.BytesIO(code_archive())
    with zipfile.ZipFile(buffer, "a") as archive:
        _entry(archive, f"{PACKAGE}/{DATA_FILE}", json.dumps(data, sort_keys=True, allow_nan=False).encode("utf-8"))
    return buffer.getvalue()


# ----------------------------------------------------------------------------- data


def question_data(question: Any, practice: bool, rule: Any = None) -> dict[str, Any]:
    """One answer question: as in quiz.json, plus (practice) the key, the partial-credit rule
    (`rule`: the quiz's, None: the exercise's own) and the mistakes' answers and credit."""
    check, variant = question.check, question.variant
    entry: dict[str, Any] = {
        "question": question.qid,
        "points": question.points,
        "format": check.describe(variant.key),
        "check": describe(check, variant.key),
    }
    if practice:
        from grader.variant import jsonable

        declared = {m.tag: m for m in question.exercise.misconceptions}
        entry["key"] = jsonable(variant.key)
        entry["rule"] = str(rule or question.exercise.partial_credit)
        entry["misconceptions"] = [
            {"tag": tag, "feedback": declared[tag].feedback if tag in declared else "",
             "credit": declared[tag].credit if tag in declared else 0.0, "answer": jsonable(answer)}
            for tag, answer in variant.misconceptions.items()
        ]
    return entry


def _compare_kind(exercise: Any) -> str:
    from grader.kit.compare import compare_dropout

    if exercise.compare is None:
        return "values"
    if exercise.compare is compare_dropout:
        return "dropout"
    return "values" if exercise.deterministic else "unknown"


_FUNCTION_DATA: dict[tuple[str, int, int], tuple[Any, str]] = {}


def function_data(exercise: Any) -> dict[str, Any]:
    """One code function's data (see `grader.kit.verdict`), computed once per declaration."""
    key = (exercise.id, exercise.generator_version, id(exercise))
    cached = _FUNCTION_DATA.get(key)
    if cached is None or cached[0] is not exercise:
        cached = (exercise, json.dumps(_function_data_uncached(exercise), sort_keys=True, allow_nan=False))
        _FUNCTION_DATA[key] = cached
    return json.loads(cached[1])


def _function_data_uncached(exercise: Any) -> dict[str, Any]:
    import torch

    from grader.code.judge import run_trusted
    from grader.kit import values

    kind = _compare_kind(exercise)
    if kind == "unknown":
        raise ValueError(f"{exercise.id}: its comparison cannot be carried by the student kit")
    tests = []
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(0)
        for test in exercise.public_tests:
            expected = run_trusted(exercise.reference, test)
            tests.append({
                "name": test.name,
                "args": values.encode(tuple(test.args)),
                "kwargs": values.encode(dict(test.kwargs)),
                "expected": values.encode(expected),
                "misconceptions": _mistakes(exercise, test, expected, values),
            })
    return {
        "function": exercise.function,
        "signature": exercise.signature,
        "points": exercise.points,
        "hidden_tests": exercise.hidden_test_count,
        "rtol": exercise.tolerance.rtol,
        "atol": exercise.tolerance.atol,
        "outputs": list(exercise.outputs),
        "deterministic": exercise.deterministic,
        "compare": kind,
        "forbidden": list(exercise.forbidden),
        "hints": {m.tag: m.feedback for m in exercise.misconceptions},
        "tests": tests,
    }


def _mistakes(exercise: Any, test: Any, expected: Any, values: Any) -> list[dict[str, Any]]:
    """Each misconception's output on this public test, when it differs from the expected
    one (mistakes recognised by a matcher instead, dropout's, are left out)."""
    import warnings

    from grader.code.judge import comparison_for, run_trusted

    compare = comparison_for(exercise)
    found = []
    for mistake in exercise.misconceptions:
        if mistake.matches is not None:
            continue
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                wrong = run_trusted(mistake.implementation, test)
            if compare(test, expected, wrong, exercise.tolerance, False).ok:
                continue  # this test cannot show the mistake
            found.append({"tag": mistake.tag, "value": values.encode(wrong)})
        except Exception:
            continue  # the mistake does not apply to these inputs
    return found


def kit_data(spec: Any, quiz: Any) -> dict[str, Any]:
    """Everything one student's kit knows (see the module docstring)."""
    practice = spec.mode == "practice"
    return {
        "format": 1,
        "quiz_id": spec.quiz_id,
        "title": spec.title,
        "mode": spec.mode,
        "student": quiz.student.id,
        "questions": [question_data(q, practice) for q in quiz.questions],
        "code": [{**function_data(item.exercise), "points": item.points} for item in quiz.code],
    }


def write_kit(student_dir: Path, spec: Any, quiz: Any) -> Path:
    """Write `student_dir/check.pyz`; its path."""
    path = Path(student_dir) / KIT_FILE
    path.write_bytes(kit_bytes(kit_data(spec, quiz)))
    return path
