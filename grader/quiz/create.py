"""`grader new-quiz`: write a quiz folder, all at once or not at all.

Everything is written into a temporary folder beside `--out` and moved into place at the
end, so a failure leaves nothing half-written.  The folder is private to its owner (it holds
the secret and the keys); hand out copies of `students/<id>/`.  Layout (docs/architecture.md):

    quiz.toml                    the spec (no secret)
    secret.key                   32 random bytes, unless --secret-file was given
    students/<id>/quiz.html      standalone page, math as MathML
    students/<id>/quiz.md
    students/<id>/answers.toml   one blank per question, with its expected format
    students/<id>/exercise.py    stubs of the code exercises (when there are any)
    students/<id>/quiz.json      question ids, points and formats for `grader check` (no key)
    students/<id>/check.pyz      the student kit (exam mode: no key; practice: the student's own)
    students/<id>/exercise.ipynb the notebook handout (with --handout notebook)
    key/<id>/answers.toml        the same sheet filled in: submitting it scores full marks
    key/<id>/variant.json        every question's parameters, answer and misconceptions
    key/<id>/exercise.py         the instructor's solution of the quiz's code exercises
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from grader.errors import GraderError
from grader.bank import Bank, load_bank
from grader.quiz.build import select_for_quiz
from grader.quiz.spec import SECRET_FILE, SPEC_FILE, QuizSpec, secret_fingerprint
from grader.quiz.write import CodeFilesError, Job, Progress, write_all
from grader.seeding import SECRET_BYTES, new_secret


class QuizError(GraderError, ValueError):
    """The quiz cannot be created; the message says why."""


@dataclass(frozen=True)
class QuizSummary:
    out: Path
    spec: QuizSpec
    students: int
    questions: int
    code_functions: int


def read_secret(path: Path) -> bytes:
    try:
        secret = Path(path).read_bytes()
    except OSError as error:
        raise QuizError(f"{path}: cannot read the secret file ({error.strerror})") from None
    if len(secret) < 16:
        raise QuizError(f"{path}: a secret must be at least 16 bytes (new ones are {SECRET_BYTES})")
    return secret


def _check_out(out: Path) -> Path:
    """The resolved parent folder the quiz folder will be created in."""
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise QuizError(f"{out}: already exists and is not empty; choose a new folder")
    parent = out.absolute().parent
    if not parent.is_dir():
        raise QuizError(f"{out}: the parent folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise QuizError(f"{out}: cannot write into {parent}")
    return parent


def _write_secret(path: Path, secret: bytes) -> None:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(secret)


def new_quiz(
    out: Path,
    spec: QuizSpec,
    *,
    secret_file: Path | None = None,
    bank: Bank | None = None,
    progress: Progress | None = None,
    workers: int | None = None,
) -> QuizSummary:
    """Create the quiz folder `out` for `spec` (see the module docstring).  `workers`: how
    many processes write the students' folders (default: 2 for a large class on Linux)."""
    out = Path(out)
    parent = _check_out(out)
    secret = read_secret(secret_file) if secret_file else new_secret()
    bank = bank or load_bank(spec.bank_dirs)
    selected = select_for_quiz(bank, spec, secret)
    spec = replace(
        spec, selected=tuple(e.id for e in selected), secret_fingerprint=secret_fingerprint(secret)
    )
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".partial", dir=parent))
    except OSError as error:
        raise QuizError(f"{out}: cannot write into {parent} ({error.strerror})") from None
    try:
        (staging / SPEC_FILE).write_text(spec.to_toml(), encoding="utf-8", newline="\n")
        if not secret_file:
            _write_secret(staging / SECRET_FILE, secret)
        questions, code = write_all(Job(staging, spec, secret, bank), workers=workers, progress=progress)
        if out.exists():
            out.rmdir()
        os.rename(staging, out)
    except OSError as error:
        shutil.rmtree(staging, ignore_errors=True)
        where = f" ({error.filename})" if error.filename else ""
        raise QuizError(f"{out}: cannot write the quiz: {error.strerror or error}{where}") from None
    except CodeFilesError as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise QuizError(str(error)) from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return QuizSummary(out, spec, len(spec.students), questions, code)
