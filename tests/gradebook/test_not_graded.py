"""A submission that could not be graded (a grader or sandbox failure) is never shown as a
missing submission with 0: totals.csv, grades.csv, the feedback page and the report say
"not graded (grader failure: ...)", and `grader grade` / `grader demo` exit non-zero."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from grader.cli.grade import demo, grade
from grader.gradebook import runner
from grader.gradebook.runner import grade_batch

from .conftest import key_answers, key_submission_with_code, make_quiz, write_answers

INTERNAL = "worker log: /srv/secret/path"


class BrokenPool:
    """A confined pool whose workers never start."""

    isolation = "bwrap"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        pass

    def run(self, source: bytes, calls: list[Any]) -> Any:
        from grader.sandbox import SandboxError

        raise SandboxError(f"the sandbox worker (bwrap) did not start: {INTERNAL}")

    def close(self) -> None:
        pass


def rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def failed_run(tmp_path_factory: pytest.TempPathFactory, mini_bank: Path) -> tuple[Path, Any]:
    """s1 hands in answers and code (its grading fails), s2 answers only, s3 and s4 nothing."""
    root = tmp_path_factory.mktemp("notgraded")
    quiz = make_quiz(root / "quiz", mini_bank, exercises=("gb_double", "gb_mse"))
    subs = root / "subs"
    for student in ("s1", "s2"):
        write_answers(subs / student, key_answers(quiz, student))
    (subs / "s1" / "exercise.py").write_text((quiz / "key" / "s1" / "exercise.py").read_text(encoding="utf-8"),
                                             encoding="utf-8")
    summary = grade_batch(subs, quiz, out=root / "out", jobs=1, pool_factory=BrokenPool)
    return root / "out", summary


def test_the_summary_lists_it_as_not_graded(failed_run: tuple[Path, Any]) -> None:
    _, summary = failed_run
    assert not summary.complete
    assert [s for s, _ in summary.not_graded] == ["s1"]
    assert summary.not_graded[0][1].startswith("not graded (grader failure: SandboxError: ")
    assert sorted(summary.missing) == ["s3", "s4"]


def test_totals_csv_shows_not_graded_instead_of_a_total(failed_run: tuple[Path, Any]) -> None:
    out, _ = failed_run
    totals = {r["student"]: r for r in rows(out / "totals.csv")}
    assert totals["s1"]["total"].startswith("not graded (grader failure: SandboxError: ")
    assert totals["s1"]["max"] == "2"  # q1 (1 point) + diffusion_loss (1 point)
    assert totals["s2"]["total"] == "1"  # graded: the key's answer, no code handed in
    assert totals["s3"]["total"] == "0"  # really missing


def test_grades_csv_marks_the_items_not_graded(failed_run: tuple[Path, Any]) -> None:
    out, _ = failed_run
    grades = {(r["student"], r["item"]): r for r in rows(out / "grades.csv")}
    code = grades["s1", "diffusion_loss"]
    assert code["score"] == "" and code["status"].startswith("not graded (grader failure: SandboxError: ")
    assert (grades["s1", "q1"]["score"], grades["s1", "q1"]["status"]) == ("1", "correct")
    assert grades["s3", "diffusion_loss"]["status"] == "missing"
    assert not (out / "results" / "s1.json").exists()  # Gradescope would read a score
    assert (out / "results" / "s2.json").is_file()


def test_the_feedback_page_says_not_graded_not_no_submission(failed_run: tuple[Path, Any]) -> None:
    out, _ = failed_run
    page = (out / "feedback" / "s1.html").read_text(encoding="utf-8")
    assert "not graded (grader failure:" in page
    assert "No submission was received" not in page
    assert INTERNAL not in page  # the failure's details are for the instructor
    assert "No submission was received" in (out / "feedback" / "s3.html").read_text(encoding="utf-8")


def test_the_report_shows_it_and_does_not_count_it_missing(failed_run: tuple[Path, Any]) -> None:
    out, _ = failed_run
    html = (out / "report.html").read_text(encoding="utf-8")
    student_row = html.split('<td class="mono">s1</td>')[1].split("</tr>")[0]
    assert "not graded (grader failure: SandboxError: " in student_row
    assert 'pill missing' not in student_row
    card = html.split("without a submission")[0].rsplit('<div class="v">', 1)[1]
    assert card.startswith("2<")  # s3 and s4, not s1
    assert "not graded (grader failure)" in html


def test_grade_exits_1_while_a_submission_is_not_graded(tmp_path: Path, mini_bank: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    quiz, subs = key_submission_with_code(tmp_path, mini_bank)
    monkeypatch.setattr(runner, "_default_pool", BrokenPool)
    args = [str(subs), "--quiz", str(quiz), "--out", str(tmp_path / "out"), "--jobs", "1"]
    first = CliRunner().invoke(grade, args)
    assert first.exit_code == 1, first.output
    assert "not graded" in first.output
    # --only another student: nothing fails in this run, but s1 is still not graded
    second = CliRunner().invoke(grade, args + ["--only", "s2"])
    assert second.exit_code == 1, second.output
    assert "s1: not graded (grader failure: SandboxError" in second.output


def test_demo_exits_1_when_its_workers_fail(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import grader.demo

    monkeypatch.setattr(grader.demo, "_demo_pool", BrokenPool)
    result = CliRunner().invoke(demo, ["--out", str(tmp_path / "demo")])
    assert result.exit_code == 1, result.output
    totals = {r["student"]: r["total"] for r in rows(tmp_path / "demo" / "grading" / "totals.csv")}
    # every student who handed in code is not graded; s5 (answers only) and s6 (nothing) are
    assert all(totals[s].startswith("not graded (grader failure:") for s in ("s1", "s2", "s3", "s4"))
    assert not totals["s5"].startswith("not graded") and totals["s6"] == "0"
