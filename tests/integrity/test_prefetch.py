"""Fingerprints computed while grading runs (`Prefetch`): the cache then holds what the
analysis would have computed itself, the worker runs only on idle cores, stopping it
early only leaves work for the analysis, and `grade` writes the same similarity.csv
with it as without it."""

from __future__ import annotations

import os
import random
import time
from pathlib import Path

import pytest

from grader.code.stubs import SOLUTION_PATH, stub_file
from grader.gradebook import runner
from grader.gradebook.runner import grade_batch
from grader.integrity import cache, collect
from grader.integrity.prefetch import Prefetch
from grader.integrity.winnow import FilePrint, fingerprint_file
from grader.quiz.create import new_quiz
from grader.quiz.roster import Student
from grader.quiz.spec import QuizSpec

from .answer_classes import EXERCISES
from .planting import disguise

SOLUTION = SOLUTION_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def stub() -> FilePrint:
    from grader.bank import default_bank

    return fingerprint_file(stub_file(default_bank().select(kind="code")))


def _files(count: int) -> list[bytes]:
    rng = random.Random(11)
    return [disguise(SOLUTION, rng).encode() for _ in range(count)] + [b"def broken(:\n", b""]


def _plain(prints: FilePrint) -> tuple:
    return prints.text, prints.error, {n: (f.lines, f.hashes) for n, f in prints.functions.items()}


def _cached(folder: Path, stub: FilePrint, data: bytes) -> FilePrint | None:
    return cache.load(folder, cache.key(data, cache.stub_digest(stub)), data)


def test_the_cache_holds_the_fingerprints_this_process_computes(tmp_path: Path, stub: FilePrint) -> None:
    files = _files(6)
    prefetch = Prefetch(stub, tmp_path)
    for data in files + files[:2]:  # a file handed in twice is fingerprinted once
        prefetch.add(data)
    deadline = time.monotonic() + 120  # it runs only on idle cores: give a busy machine time
    while any(_cached(tmp_path, stub, d) is None for d in files) and time.monotonic() < deadline:
        time.sleep(0.05)
    prefetch.stop()
    for data in files:
        assert _plain(_cached(tmp_path, stub, data)) == _plain(fingerprint_file(data, stub))
    assert len(list(tmp_path.glob("*.json"))) == len(set(files))
    stub_key = cache.stub_digest(stub)  # what the analysis takes without reading the cache again
    assert {e: _plain(p) for e, p in prefetch.prints.items()} == {
        cache.key(d, stub_key): _plain(fingerprint_file(d, stub)) for d in files}


def test_the_worker_runs_only_when_a_core_is_idle(tmp_path: Path, stub: FilePrint) -> None:
    prefetch = Prefetch(stub, tmp_path)
    try:
        policy = os.sched_getscheduler(prefetch.process.pid)
        assert policy == os.SCHED_IDLE or os.getpriority(os.PRIO_PROCESS, prefetch.process.pid) == 19
    finally:
        prefetch.stop()
    assert prefetch.process.poll() is not None


def test_stopping_early_leaves_the_rest_to_the_analysis(tmp_path: Path, stub: FilePrint) -> None:
    files = _files(40)
    prefetch = Prefetch(stub, tmp_path)
    for data in files:
        prefetch.add(data)
    prefetch.stop()  # at once: most are not done
    assert prefetch.process.poll() is not None
    sources = {f"s{i}": data for i, data in enumerate(files)}
    prints = collect.fingerprints(sources, stub, tmp_path)
    assert {k: _plain(p) for k, p in prints.items()} == {k: _plain(fingerprint_file(d, stub)) for k, d in sources.items()}


def test_grade_writes_the_same_similarity_csv_with_and_without_it(tmp_path: Path, monkeypatch) -> None:
    quiz, subs = tmp_path / "quiz", tmp_path / "subs"
    students = tuple(Student(f"s{i:02d}", f"Student {i}") for i in range(4))
    new_quiz(quiz, QuizSpec(students=students, exercises=EXERCISES[:2] + ("code_relu_backward",), title="Prefetch"))
    rng = random.Random(5)
    for index, student in enumerate(students):
        (subs / student.id).mkdir(parents=True)
        text = SOLUTION if index < 2 else disguise(SOLUTION, rng)  # two copies: one flagged pair at least
        (subs / student.id / "exercise.py").write_text(text, encoding="utf-8")
    with_it = grade_batch(subs, quiz, out=tmp_path / "with", jobs=1)
    monkeypatch.setattr(runner, "start_prefetch", lambda quizzes, out: None)
    without = grade_batch(subs, quiz, out=tmp_path / "without", jobs=1)
    assert with_it.complete and without.complete
    csv_with = (tmp_path / "with" / "similarity.csv").read_text(encoding="utf-8")
    assert csv_with == (tmp_path / "without" / "similarity.csv").read_text(encoding="utf-8")
    assert "s00" in csv_with and "s01" in csv_with
