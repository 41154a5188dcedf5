"""The quiz spec (`quiz.toml`): everything needed to regenerate a quiz from its secret.

The secret itself is never in the spec: it lives in `secret.key` beside it (or wherever
`--secret-file` points) and only its fingerprint is recorded, so a wrong secret is noticed.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.errors import GraderError
from grader import __version__
from grader.quiz.roster import Student
from grader.tomlfmt import dumps

MODES = ("exam", "practice")
KINDS = ("answer", "code", "all")
HANDOUTS = ("script", "notebook")
"""How the code exercises are handed out: exercise.py, or exercise.ipynb beside it."""
SPEC_FILE = "quiz.toml"
SECRET_FILE = "secret.key"


class SpecError(GraderError, ValueError):
    """quiz.toml is missing, unreadable or inconsistent."""


def slug(text: str) -> str:
    """`Midterm 2026: CNNs` -> `midterm-2026-cnns`."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:60] or "quiz"


def secret_fingerprint(secret: bytes) -> str:
    return hashlib.sha256(b"grader-secret-fingerprint\x00" + secret).hexdigest()[:16]


@dataclass(frozen=True)
class QuizSpec:
    """What `grader new-quiz` was asked for, and the exercises it chose."""

    title: str
    students: tuple[Student, ...]
    quiz_id: str = ""
    mode: str = "exam"
    kind: str = "all"
    topics: tuple[str, ...] = ()
    exercises: tuple[str, ...] = ()
    count: int = 0
    shuffle_exercises: bool = False
    handout: str = "script"
    bank_dirs: tuple[str, ...] = ()
    selected: tuple[str, ...] = ()
    secret_fingerprint: str = ""
    grader_version: str = __version__
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not self.quiz_id:
            object.__setattr__(self, "quiz_id", slug(self.title))
        if self.mode not in MODES:
            raise SpecError(f"mode must be exam or practice, got {self.mode!r}")
        if self.kind not in KINDS:
            raise SpecError(f"kind must be answer, code or all, got {self.kind!r}")
        if self.count < 0:
            raise SpecError("count must be positive")
        if self.handout not in HANDOUTS:
            raise SpecError(f"handout must be script or notebook, got {self.handout!r}")

    def to_toml(self) -> str:
        document = {
            "quiz_id": self.quiz_id,
            "title": self.title,
            "mode": self.mode,
            "kind": self.kind,
            "topics": list(self.topics),
            "exercises": list(self.exercises),
            "count": self.count,
            "shuffle_exercises": self.shuffle_exercises,
            "handout": self.handout,
            "bank_dirs": list(self.bank_dirs),
            "selected": list(self.selected),
            "secret_fingerprint": self.secret_fingerprint,
            "grader_version": self.grader_version,
            "students": [
                {"id": s.id, "name": s.name, "email": s.email} for s in self.students
            ],
        }
        header = "# grader quiz spec: regenerate with `grader new-quiz` and the same secret.\n"
        return header + dumps(document)


def read_spec_table(quiz_dir: Path) -> tuple[Path, dict[str, Any]]:
    """(path, parsed TOML) of `quiz_dir/quiz.toml`: the one reader of the file (SpecError
    when it is missing or unreadable)."""
    path = Path(quiz_dir) / SPEC_FILE
    try:
        return path, tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"{quiz_dir}: not a quiz folder (no {SPEC_FILE})") from None
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise SpecError(f"{path}: cannot read it: {error}") from None


def read_spec(quiz_dir: Path) -> QuizSpec:
    """Read `quiz_dir/quiz.toml`."""
    path, data = read_spec_table(quiz_dir)
    try:
        return QuizSpec(
            title=str(data["title"]),
            quiz_id=str(data["quiz_id"]),
            mode=str(data.get("mode", "exam")),
            kind=str(data.get("kind", "all")),
            topics=tuple(data.get("topics", ())),
            exercises=tuple(data.get("exercises", ())),
            count=int(data.get("count", 0)),
            shuffle_exercises=bool(data.get("shuffle_exercises", False)),
            handout=str(data.get("handout", "script")),
            bank_dirs=tuple(data.get("bank_dirs", ())),
            selected=tuple(data.get("selected", ())),
            secret_fingerprint=str(data.get("secret_fingerprint", "")),
            grader_version=str(data.get("grader_version", "")),
            students=tuple(
                Student(str(s["id"]), str(s.get("name", "")), str(s.get("email", "")))
                for s in data.get("students", ())
            ),
        )
    except (KeyError, TypeError, ValueError) as error:
        raise SpecError(f"{path}: malformed spec ({error})") from None
