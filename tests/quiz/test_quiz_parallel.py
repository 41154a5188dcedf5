"""Writing a large class with two forked workers gives the same bytes as one process, and a
worker's failure still leaves nothing behind."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

import grader.quiz.write as write
from grader.bank import BankError, load_bank
from grader.quiz.create import QuizError, new_quiz
from grader.quiz.roster import students_from_ids
from grader.quiz.spec import QuizSpec

from .conftest import FIXTURE_BANK, FIXTURE_IDS

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forked workers are used on Linux only")


def spec_for(count: int) -> QuizSpec:
    return QuizSpec(
        title="Parallel", students=tuple(students_from_ids([f"s{i:03d}" for i in range(count)])),
        exercises=FIXTURE_IDS, bank_dirs=(str(FIXTURE_BANK.resolve()),),
    )


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_two_workers_write_the_same_bytes_as_one(tmp_path: Path, fixture_bank_only: Path) -> None:
    secret = tmp_path / "secret"
    secret.write_bytes(b"k" * 32)
    bank = load_bank([FIXTURE_BANK])
    seen: list[tuple[int, int]] = []
    one = new_quiz(tmp_path / "one", spec_for(60), secret_file=secret, bank=bank, workers=1)
    two = new_quiz(tmp_path / "two", spec_for(60), secret_file=secret, bank=bank, workers=2,
                   progress=lambda done, total: seen.append((done, total)))
    assert (one.questions, two.questions) == (4, 4)
    first, second = files_of(tmp_path / "one"), files_of(tmp_path / "two")
    assert len(first) == 1 + 60 * 7  # quiz.toml; per student 5 files to hand out (check.pyz too), 2 keys
    assert first == second
    assert seen[-1] == (60, 60) and [d for d, _ in seen] == sorted(d for d, _ in seen)


def test_a_failing_worker_fails_the_quiz_and_leaves_nothing(tmp_path: Path, fixture_bank_only: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    real = write.build_student_quiz

    def fail_for_s041(exercises, spec, secret, student):  # type: ignore[no-untyped-def]
        if student.id == "s041":
            raise BankError("s041 cannot be built")
        return real(exercises, spec, secret, student)

    monkeypatch.setattr(write, "build_student_quiz", fail_for_s041)  # inherited by the forked workers
    with pytest.raises(BankError, match="s041 cannot be built"):
        new_quiz(tmp_path / "quiz", spec_for(60), bank=load_bank([FIXTURE_BANK]), workers=2)
    assert list(tmp_path.iterdir()) == []


def test_workers_only_for_a_large_class() -> None:
    assert write.default_workers(write.PARALLEL_FROM - 1) == 1
    assert write.default_workers(1000) == (2 if (os.cpu_count() or 1) >= 2 else 1)


def test_unwritable_staging_is_a_quiz_error(tmp_path: Path, fixture_bank_only: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr("tempfile.mkdtemp", refuse)
    with pytest.raises(QuizError, match="cannot write into .*Permission denied"):
        new_quiz(tmp_path / "quiz", spec_for(2), bank=load_bank([FIXTURE_BANK]))
