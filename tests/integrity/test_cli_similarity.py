"""End to end: `grader grade` runs the similarity analysis, `grader similarity` reruns it
(with `--against` an earlier term): similarity.csv, the pair pages with highlighted lines,
and the Similarity section of report.html."""

from __future__ import annotations

import csv
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from grader.code.stubs import SOLUTION_PATH
from grader.gradebook.runner import grade_batch
from grader.quiz.create import new_quiz
from grader.quiz.roster import Student
from grader.quiz.spec import QuizSpec
from grader.tomlfmt import toml_value

from .answer_classes import EXERCISES
from .planting import disguise, reorder

ALTERNATIVES = Path(__file__).resolve().parents[1] / "code" / "alternatives.py"
STUDENTS = tuple(Student(f"s{i:02d}", f"Student {i}") for i in range(14))


def _variant(quiz: Path, student: str) -> dict[str, Any]:
    return json.loads((quiz / "key" / student / "variant.json").read_text(encoding="utf-8"))


def _write(folder: Path, answers: dict[str, Any]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    text = "".join(f"{q} = {toml_value(v)}\n" for q, v in answers.items())
    (folder / "answers.toml").write_text(text, encoding="utf-8")


def _rows(out: Path) -> list[dict[str, str]]:
    with (out / "similarity.csv").open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture(scope="module")
def graded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """14 students; honest ones answer with their key or a misconception; s07 hands in
    s03's keys; s01 hands in the instructor's solution, s02 their own implementation and
    s05 a disguised copy of s02's."""
    root = tmp_path_factory.mktemp("similarity")
    quiz, subs, out = root / "quiz", root / "subs", root / "out"
    new_quiz(quiz, QuizSpec(students=STUDENTS, exercises=EXERCISES, title="Integrity test"))
    rng = random.Random(11)
    for student in STUDENTS:
        answers = {}
        for q in _variant(quiz, student.id)["questions"]:
            wrong = [v for v in q["misconceptions"].values()]
            answers[q["question"]] = rng.choice(wrong) if wrong and rng.random() < 0.3 else q["answer"]
        _write(subs / student.id, answers)
    _write(subs / "s07", {q["question"]: q["answer"] for q in _variant(quiz, "s03")["questions"]})
    alternative = ALTERNATIVES.read_text(encoding="utf-8")
    (subs / "s01" / "exercise.py").write_text(SOLUTION_PATH.read_text(encoding="utf-8"), encoding="utf-8")
    (subs / "s02" / "exercise.py").write_text(alternative, encoding="utf-8")
    (subs / "s05" / "exercise.py").write_text(disguise(alternative, random.Random(3)), encoding="utf-8")
    summary = grade_batch(subs, quiz, out=out, jobs=1)
    assert summary.complete and len(summary.graded) == len(STUDENTS)
    return quiz, subs, out


def test_grade_writes_similarity_csv_with_exactly_the_planted_pairs(graded: tuple[Path, Path, Path]) -> None:
    _quiz, _subs, out = graded
    flagged = {(r["student_a"], r["student_b"], r["kind"]) for r in _rows(out) if r["flagged"] == "1"}
    assert flagged == {("s07", "s03", "answers"), ("s01", "solution", "solution"), ("s02", "s05", "code")}
    answers = next(r for r in _rows(out) if r["kind"] == "answers")
    assert "s07 q1 = s03's key of q1" in answers["evidence"]
    assert float(answers["chance"]) == pytest.approx(10 ** -float(answers["score"]), rel=1e-2)


def test_pair_pages_show_both_sides_with_matching_lines_highlighted(graded: tuple[Path, Path, Path]) -> None:
    _quiz, _subs, out = graded
    pages = {r["kind"]: out / r["page"] for r in _rows(out) if r["flagged"] == "1"}
    assert all(page.is_file() for page in pages.values())
    code = pages["code"].read_text(encoding="utf-8")
    assert "never a penalty" in code
    assert code.count('class="hit"') > 100
    assert "my_" in code and "def conv2d" in code  # the disguised copy's side, beside the original
    answers = pages["answers"].read_text(encoding="utf-8")
    assert "s07 answered with s03" in answers and "(key " in answers


def test_report_has_the_similarity_section_with_links(graded: tuple[Path, Path, Path]) -> None:
    _quiz, _subs, out = graded
    report = (out / "report.html").read_text(encoding="utf-8")
    assert ">Similarity</h2>" in report and "3 flagged pairs" in report
    for row in _rows(out):
        if row["flagged"] == "1":
            assert f'href="{row["page"]}"' in report


def test_similarity_command_compares_with_an_earlier_term(graded: tuple[Path, Path, Path], tmp_path: Path) -> None:
    quiz, _subs, out = graded
    earlier = tmp_path / "2025"
    (earlier / "x17").mkdir(parents=True)
    (earlier / "x17" / "exercise.py").write_text(reorder(ALTERNATIVES.read_text(encoding="utf-8"), random.Random(1)))
    result = subprocess.run(
        [sys.executable, "-m", "grader.cli", "similarity", "--quiz", str(quiz), "--out", str(out),
         "--against", str(earlier)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "5 flagged pairs" in result.stdout
    flagged = {(r["student_a"], r["student_b"], r["kind"]) for r in _rows(out) if r["flagged"] == "1"}
    earlier_file = "earlier:2025/x17/exercise.py"
    assert {("s02", earlier_file, "earlier"), ("s05", earlier_file, "earlier")} <= flagged
    assert "5 flagged pairs" in (out / "report.html").read_text(encoding="utf-8")


def test_similarity_without_a_gradebook_is_a_usage_error(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "grader.cli", "similarity", "--quiz", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 2 and "no gradebook" in result.stderr


def test_grade_reruns_the_analysis_only_when_a_submission_changed(
    graded: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    quiz, subs, _out = graded
    out = tmp_path / "out"
    assert grade_batch(subs, quiz, out=out, jobs=1).complete
    page = out / "similarity" / "s02--s05--code.html"
    page.unlink()
    grade_batch(subs, quiz, out=out, jobs=1)  # nothing changed: the analysis is skipped
    assert not page.exists()
    changed = tmp_path / "subs"
    subprocess.run(["cp", "-r", str(subs), str(changed)], check=True)
    (changed / "s04" / "exercise.py").write_text("def conv2d(x, w):\n    return x\n", encoding="utf-8")
    grade_batch(changed, quiz, out=out, jobs=1)
    assert page.is_file()


def test_pages_escape_what_students_wrote() -> None:
    from grader.integrity.code_pairs import compare
    from grader.integrity.pages import code_page
    from grader.integrity.winnow import fingerprint_file

    hostile = (
        "def f(x):\n    y = '</pre><script>alert(1)</script>'\n    z = torch.relu(x) + torch.tanh(x)\n"
        "    return (z * y).sum(dim=0) + z.mean(dim=1) - x.std()\n"
    )
    a, b = fingerprint_file(hostile), fingerprint_file(hostile)
    page = code_page("t", compare(a, b, with_lines=True), "code", a, b)
    assert "<script>" not in page and "&lt;script&gt;" in page


def test_a_symlink_swapped_in_after_grading_is_not_followed_out_of_the_submissions(
    graded: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    from grader.integrity.api import run_similarity

    quiz, subs, out = graded
    swapped = tmp_path / "subs"
    subprocess.run(["cp", "-r", str(subs), str(swapped)], check=True)
    # s01 handed in the solution; now their file points at the solution outside the folder
    target = swapped / "s01" / "exercise.py"
    target.unlink()
    target.symlink_to(SOLUTION_PATH)
    copy_out = tmp_path / "out"
    subprocess.run(["cp", "-r", str(out), str(copy_out)], check=True)
    result = run_similarity(quiz, copy_out, submissions=swapped)
    assert result.unread == ["s01"]
    assert ("s01", "solution") not in {(p.a, p.b) for p in result.code_pairs}


def test_fingerprints_are_cached_per_file_content(graded: tuple[Path, Path, Path]) -> None:
    _quiz, _subs, out = graded
    entries = sorted((out / "similarity" / ".fingerprints").glob("*.json"))
    assert len(entries) == 3  # s01, s02, s05 handed in exercise.py


@pytest.mark.parametrize("separator", ["\x0c", "\x0b", "\x1c", "\x85", "\u2028"])
def test_a_page_shows_the_copied_lines_whatever_else_a_comment_holds(separator: str) -> None:
    """Python ends a line at LF (CR) only; a comment full of characters that `splitlines`
    also takes for line ends must not shift the lines a page shows away from the code."""
    from grader.integrity.code_pairs import compare
    from grader.integrity.pages import code_page
    from grader.integrity.winnow import fingerprint_file

    body = "    z = torch.relu(x) + torch.tanh(x)\n    return (z * x).sum(dim=0) + z.mean(dim=1) - x.std()\n"
    plain = "import torch\n\n\ndef f(x):\n" + body
    shifted = f"import torch\n# {separator * 40}\n\ndef f(x):\n" + body
    a, b = fingerprint_file(plain), fingerprint_file(shifted)
    page = code_page("t", compare(a, b, with_lines=True), "code", a, b)
    assert page.count("def f(x):") == 2 and page.count("z.mean(dim=1)") == 2
