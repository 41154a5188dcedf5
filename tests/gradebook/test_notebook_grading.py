"""exercise.ipynb in and out: the notebook handout, grading a notebook, checking one."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbformat import v4

from grader.gradebook.runner import grade_batch

from .conftest import make_quiz
from .test_batch_code import key_code, short_pool


@pytest.fixture(scope="module")
def notebook_quiz(tmp_path_factory: pytest.TempPathFactory, mini_bank: Path) -> Path:
    return make_quiz(tmp_path_factory.mktemp("nb") / "quiz", mini_bank, exercises=("gb_mse",), handout="notebook")


def _solution_notebook(quiz: Path, student: str, extra_cells: tuple[str, ...] = ()) -> str:
    """The key's exercise.py as a notebook: a magic and a shell line first, one cell per
    top-level block."""
    blocks = [b for b in key_code(quiz, student).split("\n\n\n") if b.strip()]
    cells = [v4.new_code_cell("%matplotlib inline\n!pip install torch")] + [v4.new_code_cell(b) for b in blocks]
    cells += [v4.new_code_cell(text) for text in extra_cells]
    return nbformat.writes(v4.new_notebook(cells=cells))


def _rows(out: Path) -> dict[str, dict[str, str]]:
    with (out / "grades.csv").open(encoding="utf-8", newline="") as handle:
        return {r["student"]: r for r in csv.DictReader(handle)}


def test_the_handout_holds_each_function_and_the_kit_check(notebook_quiz: Path) -> None:
    notebook = nbformat.read(notebook_quiz / "students" / "s1" / "exercise.ipynb", as_version=4)
    nbformat.validate(notebook)
    code = [c.source for c in notebook.cells if c.cell_type == "code"]
    stub = (notebook_quiz / "students" / "s1" / "exercise.py").read_text(encoding="utf-8")
    assert code[0].startswith("def diffusion_loss(eps_pred, eps):") and code[0].rstrip() in stub
    assert code[-1] == "!python check.pyz exercise.ipynb"
    assert any("Mean squared error" in c.source for c in notebook.cells if c.cell_type == "markdown")
    assert (notebook_quiz / "students" / "s1" / "exercise.py").exists()  # the script stays beside it


def test_a_notebook_of_the_solution_scores_full_and_a_broken_one_gets_a_message(tmp_path: Path, notebook_quiz: Path) -> None:
    subs = tmp_path / "subs"
    (subs / "s1").mkdir(parents=True)
    (subs / "s1" / "exercise.ipynb").write_text(_solution_notebook(notebook_quiz, "s1"), encoding="utf-8")
    (subs / "s2").mkdir()
    (subs / "s2" / "Exercise (1).ipynb").write_text("{not json", encoding="utf-8")
    (subs / "s3").mkdir()
    (subs / "s3" / "exercise.ipynb").write_text('{"nbformat": 3, "worksheets": []}', encoding="utf-8")
    summary = grade_batch(subs, notebook_quiz, out=tmp_path / "out", jobs=1, pool_factory=short_pool)
    assert sorted(summary.graded) == ["s1", "s2", "s3"]
    rows = _rows(tmp_path / "out")
    assert (rows["s1"]["status"], rows["s1"]["score"]) == ("correct", "1")
    assert rows["s2"]["status"] == "invalid" and rows["s3"]["status"] == "invalid"
    feedback = (tmp_path / "out" / "feedback" / "s1.html").read_text(encoding="utf-8")
    assert "%matplotlib inline" in feedback and "!pip install torch" in feedback  # the dropped lines are noted
    broken = (tmp_path / "out" / "feedback" / "s2.html").read_text(encoding="utf-8")
    assert "not valid JSON" in broken
    assert "nbformat 4" in (tmp_path / "out" / "feedback" / "s3.html").read_text(encoding="utf-8")


def test_the_kit_checks_a_notebook(tmp_path: Path, notebook_quiz: Path) -> None:
    folder = tmp_path / "s1"
    folder.mkdir()
    (folder / "exercise.ipynb").write_text(_solution_notebook(notebook_quiz, "s1"), encoding="utf-8")
    kit = notebook_quiz / "students" / "s1" / "check.pyz"
    done = subprocess.run([sys.executable, str(kit), "exercise.ipynb", "--width", "100"], cwd=folder,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "note: exercise.ipynb: cell 1, line 2: '!pip install torch'" in done.stdout
    (folder / "exercise.ipynb").write_text("[]", encoding="utf-8")
    broken = subprocess.run([sys.executable, str(kit), "exercise.ipynb"], cwd=folder, capture_output=True,
                            text=True, timeout=300)
    assert broken.returncode == 1 and "not an nbformat 4 notebook" in broken.stdout
