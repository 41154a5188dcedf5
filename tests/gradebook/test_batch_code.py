"""`grade_batch` with code: the sandbox pool, typical bugs, hostile code, the Gradescope
split of public and hidden tests, and a grader failure that is recorded as not graded and retried."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import pytest

from grader.gradebook.runner import grade_batch
from grader.gradebook.store import Gradebook

from .conftest import key_answers, make_quiz, write_answers

SUM_BUG = "\n\ndef diffusion_loss(eps_pred, eps):\n    return ((eps_pred - eps) ** 2).sum()\n"
LOOP = "\n\ndef diffusion_loss(eps_pred, eps):\n    while True:\n        pass\n"


def short_pool(jobs: int) -> Any:
    from grader.sandbox import ExecutorPool, Limits

    return ExecutorPool(workers=jobs, limits=Limits(cpu_per_test=1.0, cpu_per_submission=10.0, wall_per_submission=20.0))


@pytest.fixture(scope="module")
def code_quiz(tmp_path_factory: pytest.TempPathFactory, mini_bank: Path) -> Path:
    return make_quiz(tmp_path_factory.mktemp("code") / "quiz", mini_bank, exercises=("gb_double", "gb_mse"))


def key_code(quiz: Path, student: str) -> str:
    return (quiz / "key" / student / "exercise.py").read_text(encoding="utf-8")


def table(out: Path) -> dict[tuple[str, str], dict[str, str]]:
    with (out / "grades.csv").open(encoding="utf-8", newline="") as handle:
        return {(r["student"], r["item"]): r for r in csv.DictReader(handle)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory, code_quiz: Path) -> Path:
    """s1: the key; s2: the sum bug; s3: a syntax error; s4: an infinite loop."""
    root = tmp_path_factory.mktemp("graded")
    subs = root / "subs"
    for student in ("s1", "s2", "s3", "s4"):
        write_answers(subs / student, key_answers(code_quiz, student))
    (subs / "s1" / "exercise.py").write_text(key_code(code_quiz, "s1"), encoding="utf-8")
    (subs / "s2" / "exercise.py").write_text(key_code(code_quiz, "s2") + SUM_BUG, encoding="utf-8")
    (subs / "s3" / "exercise.py").write_text("def diffusion_loss(a, b:\n", encoding="utf-8")
    (subs / "s4" / "exercise.py").write_text(key_code(code_quiz, "s4") + LOOP, encoding="utf-8")
    summary = grade_batch(subs, code_quiz, out=root / "out", jobs=2, pool_factory=short_pool)
    assert summary.complete and sorted(summary.graded) == ["s1", "s2", "s3", "s4"]
    return root / "out"


def test_code_items_are_graded_by_the_judge(graded: Path) -> None:
    rows = table(graded)
    assert (rows["s1", "diffusion_loss"]["score"], rows["s1", "diffusion_loss"]["status"]) == ("1", "correct")
    assert rows["s2", "diffusion_loss"]["status"] == "incorrect"
    assert rows["s2", "diffusion_loss"]["misconception"] == "sum_not_mean"
    assert rows["s3", "diffusion_loss"]["status"] == "error"
    assert rows["s4", "diffusion_loss"]["status"] == "timeout"
    assert {rows[s, "q1"]["status"] for s in ("s1", "s2", "s3", "s4")} == {"correct"}


def test_gradescope_splits_public_and_hidden_tests(graded: Path) -> None:
    document = json.loads((graded / "results" / "s2.json").read_text(encoding="utf-8"))
    tests = {t["name"]: t for t in document["tests"]}
    assert list(tests) == ["q1: Double a number", "diffusion_loss: public tests", "diffusion_loss: hidden tests"]
    assert tests["diffusion_loss: public tests"]["visibility"] == "visible"
    assert tests["diffusion_loss: hidden tests"]["visibility"] == "after_published"
    assert "expected" in tests["diffusion_loss: public tests"]["output"]
    assert "expected" not in tests["diffusion_loss: hidden tests"]["output"]
    assert document["score"] == pytest.approx(1.0)  # q1 only
    perfect = json.loads((graded / "results" / "s1.json").read_text(encoding="utf-8"))
    assert perfect["score"] == pytest.approx(2.0)
    assert sum(t["max_score"] for t in perfect["tests"]) == pytest.approx(2.0)
    assert {t["status"] for t in perfect["tests"]} == {"passed"}


def test_feedback_shows_public_values_and_hides_hidden_ones(graded: Path) -> None:
    page = (graded / "feedback" / "s2.html").read_text(encoding="utf-8")
    assert "The loss is a mean over the elements, not a sum." in page
    assert "random_0" in page and "(hidden test)" in page
    public = page.split('<span class="name mono">small</span>')[1].split('<div class="test">')[0]
    assert "expected" in public and "got" in public
    hidden = page.split('<span class="name mono">random_0</span>')[1].split("</div>\n")[0]
    assert "<pre>" not in hidden


def test_the_report_counts_timeouts(graded: Path) -> None:
    html = (graded / "report.html").read_text(encoding="utf-8")
    card = html.split("items timed out")[0].rsplit('<div class="v">', 1)[1]
    assert card.startswith("1<")
    assert "sum_not_mean" in html


class BrokenPool:
    """A sandbox that fails the way infrastructure fails (not the student's doing)."""

    isolation = "bwrap"

    def run(self, source: bytes, calls: list[Any]) -> Any:
        from grader.sandbox import SandboxError

        raise SandboxError("the sandbox worker (bwrap) did not start: no output")

    def close(self) -> None:
        pass


def test_a_grader_failure_is_recorded_as_not_graded_and_is_retried(tmp_path: Path, code_quiz: Path) -> None:
    subs = tmp_path / "subs"
    write_answers(subs / "s1", key_answers(code_quiz, "s1"))
    (subs / "s1" / "exercise.py").write_text(key_code(code_quiz, "s1"), encoding="utf-8")
    write_answers(subs / "s2", key_answers(code_quiz, "s2"))  # answers only: no sandbox needed
    out = tmp_path / "out"
    first = grade_batch(subs, code_quiz, out=out, jobs=1, pool_factory=lambda jobs: BrokenPool())
    assert not first.complete
    assert [s for s, _ in first.failed] == ["s1"] and "did not start" in first.failed[0][1]
    assert first.not_graded == [("s1", "not graded (grader failure: SandboxError: the sandbox worker (bwrap) "
                                       "did not start: no output)")]
    assert first.graded == ["s2"]
    with Gradebook(out / "gradebook.sqlite") as book:
        assert book.submission("s1").status == "failed" and book.submission("s1").graded_count == 0
        assert {r.item: r.status for r in book.results("s1")} == {"q1": "correct", "diffusion_loss": "not-graded"}
        assert book.db.execute("SELECT status FROM runs").fetchall() == [("incomplete",)]
    second = grade_batch(subs, code_quiz, out=out, jobs=1, pool_factory=short_pool)
    assert second.complete and second.graded == ["s1"] and second.skipped == ["s2"]
    assert second.not_graded == []
    assert table(out)["s1", "diffusion_loss"]["status"] == "correct"
    assert (out / "results" / "s1.json").is_file()
