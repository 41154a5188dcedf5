"""`python check.pyz FILE` in a subprocess where importing grader, reference, solutions,
exercises (and numpy) fails: the documented exit statuses and messages for a correct, a
broken and an endless-looping exercise.py and for answers; then the same verdicts with the
Linux-only facilities (pidfd, `resource`, /proc) unavailable, standing in for macOS and
Windows."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from grader.tomlfmt import toml_value

BROKEN = '''

print("exercise.py prints while it is imported")


def diffusion_loss(eps_pred, eps):
    return ((eps_pred - eps) ** 2).sum()


def layer_norm(x, gamma, beta, eps=1e-5):
    while True:
        pass


def fgsm(model, x, y, eps, targeted=False):
    raise ValueError("boom [bold]not markup[/bold]")


del skipgram_pairs
'''


def flat(text: str) -> str:
    return " ".join(text.split())


def blocks(output: str) -> dict[str, str]:
    """function -> its block of the report (head line and table), wrapping undone."""
    found: dict[str, str] = {}
    for block in output.split("\n\n"):
        head = block.split(":", 1)[0].strip()
        if re.fullmatch(r"[a-z_0-9]+", head):
            found[head] = flat(block)
    return found


def kit(quiz: Path) -> Path:
    return quiz / "students" / "ana" / "check.pyz"


def student_file(quiz: Path, tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    path = folder / ("exercise.py" if name != "answers" else "answers.toml")
    path.write_text(text, encoding="utf-8")
    return path


def public_tests() -> int:
    from grader.bank import default_bank

    from .conftest import CODE

    return sum(len(e.public_tests) for e in default_bank().select(kind="code") if e.id in CODE)


def test_the_instructors_solution_passes_and_the_stubs_do_not(exam_quiz, run_kit, tmp_path) -> None:
    total = public_tests()
    solution = student_file(exam_quiz, tmp_path, "solution", (exam_quiz / "key/ana/exercise.py").read_text())
    done = run_kit(kit(exam_quiz), solution)
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{total} of {total} public tests passed" in flat(done.stdout)
    assert all(len(line) <= 80 for line in done.stdout.splitlines())
    stubs = run_kit(kit(exam_quiz), exam_quiz / "students/ana/exercise.py")
    assert stubs.returncode == 1
    assert f"0 of {total} public tests passed" in flat(stubs.stdout)
    assert flat(stubs.stdout).count("raises NotImplementedError (not written yet)") == total


@pytest.mark.parametrize("linux", [True, False], ids=["linux", "no-pidfd-resource-proc"])
def test_a_broken_file_gets_every_verdict_at_once(exam_quiz, run_kit, tmp_path, linux: bool) -> None:
    text = (exam_quiz / "key/ana/exercise.py").read_text() + BROKEN
    path = student_file(exam_quiz, tmp_path, f"broken-{linux}", text)
    done = run_kit(kit(exam_quiz), path, "--time-limit", "3", linux=linux)
    assert done.returncode == 1, done.stdout + done.stderr
    found = blocks(done.stdout)
    assert found["conv2d"].startswith("conv2d: correct, 3 of 3") or "conv2d: correct" in found["conv2d"]
    assert found["dropout"].startswith("dropout: correct")
    loss = found["diffusion_loss"]
    assert loss.startswith("diffusion_loss: incorrect, 0 of 2")
    assert "The loss is the mean of the squared errors, not their sum." in loss  # the hint
    # matrix test: squared errors 0.25, 0, 1, 1 -> mean 0.5625, sum 2.25
    assert "expected 0.5625, got 2.25" in loss and "got tensor of shape () and dtype float64: [2.25]" in loss
    assert "layer_norm: timeout" in found["layer_norm"]
    assert "took too long (time limit exceeded): still running after 3 s" in found["layer_norm"]
    assert "fgsm: error" in found["fgsm"] and "ValueError: boom [bold]not markup[/bold]" in found["fgsm"]
    assert "skipgram_pairs: missing" in found["skipgram_pairs"]
    assert "exercise.py prints while it is imported" not in done.stdout
    assert all(len(line) <= 80 for line in done.stdout.splitlines())


def test_a_syntax_error_and_an_import_error_are_reported_with_every_function(exam_quiz, run_kit, tmp_path) -> None:
    syntax = student_file(exam_quiz, tmp_path, "syntax", "import torch\n\ndef conv2d(x:\n    return x\n")
    done = run_kit(kit(exam_quiz), syntax)
    assert done.returncode == 1
    assert "problem: syntax error on line 3" in flat(done.stdout)
    assert flat(done.stdout).count("not run: the file cannot be used") == public_tests()
    failing = student_file(exam_quiz, tmp_path, "importerror", "import torch\nraise RuntimeError('at import')\n")
    done = run_kit(kit(exam_quiz), failing)
    assert done.returncode == 1
    assert "problem: exercise.py fails when it is imported: RuntimeError: at import" in flat(done.stdout)


def test_answers_in_exam_mode(exam_quiz, run_kit, tmp_path) -> None:
    public = json.loads((exam_quiz / "students/ana/quiz.json").read_text())
    ids = [q["question"] for q in public["questions"]]
    key = (exam_quiz / "key/ana/answers.toml").read_text()
    sheet = student_file(exam_quiz, tmp_path, "answers", key)
    done = run_kit(kit(exam_quiz), sheet)
    assert done.returncode == 0, done.stdout
    assert "All answers are present and readable." in done.stdout
    assert "never whether they are right" in flat(done.stdout) and "correct" not in done.stdout
    broken = key.replace(f"{ids[0]} =", f"{ids[0]} = \"twelve\"\n#", 1) + "\nbonus = 1\nq99 = [1, \n"
    sheet.write_text(broken.replace(f"{ids[1]} =", f"{ids[1]} = \"\"\n#", 1), encoding="utf-8")
    done = run_kit(kit(exam_quiz), sheet)
    assert done.returncode == 1
    out = flat(done.stdout)
    assert "not valid TOML" in out and "answers to unknown questions: bonus" in out  # file problems ...
    assert re.search(rf"{ids[0]} invalid .*twelve", out) and re.search(rf"{ids[1]} missing no answer yet", out)  # ... and each answer


def test_answers_in_practice_mode_are_graded_from_values(practice_quiz, run_kit, tmp_path) -> None:
    variant = json.loads((practice_quiz / "key/ana/variant.json").read_text())
    answers = {q["question"]: q["answer"] for q in variant["questions"]}
    sheet = student_file(practice_quiz, tmp_path, "answers", "".join(f"{k} = {toml_value(v)}\n" for k, v in answers.items()))
    done = run_kit(kit(practice_quiz), sheet)
    assert done.returncode == 0, done.stdout
    total = sum(q["points"] for q in variant["questions"])
    assert f"Score: {total:g} / {total:g}" in done.stdout
    wrong = next(q for q in variant["questions"] if q["misconceptions"])
    tag, mistake = next(iter(wrong["misconceptions"].items()))
    answers[wrong["question"]] = mistake
    sheet.write_text("".join(f"{k} = {toml_value(v)}\n" for k, v in answers.items()), encoding="utf-8")
    done = run_kit(kit(practice_quiz), sheet)
    assert done.returncode == 0  # present and readable; being wrong is not a problem of the file
    assert f"[misconception: {tag}]" in flat(done.stdout)
    assert f"Score: {total - wrong['points']:g} / {total:g}" in done.stdout


def test_usage_errors_exit_2(exam_quiz, run_kit, tmp_path) -> None:
    notes = tmp_path / "notes.txt"
    notes.write_text("hi")
    assert run_kit(kit(exam_quiz), notes).returncode == 2
    absent = run_kit(kit(exam_quiz), tmp_path / "absent.py")
    assert absent.returncode == 2 and "cannot read" in absent.stderr


PYTHON_310 = Path.home() / ".pyenv" / "versions" / "3.10.13" / "bin" / "python"


@pytest.mark.skipif(not PYTHON_310.exists(), reason="no Python 3.10 interpreter here")
def test_python_310_without_torch_checks_answers_and_says_what_code_needs(exam_quiz, tmp_path) -> None:
    """A real Python 3.10 (no tomllib; here without torch): the answers check runs; the code
    check says to install torch, with status 2."""
    import subprocess

    sheet = student_file(exam_quiz, tmp_path, "answers", (exam_quiz / "key/ana/answers.toml").read_text())
    done = subprocess.run([str(PYTHON_310), str(kit(exam_quiz)), str(sheet)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "All answers are present and readable." in done.stdout
    code = subprocess.run([str(PYTHON_310), str(kit(exam_quiz)), str(exam_quiz / "key/ana/exercise.py")],
                          capture_output=True, text=True, timeout=300)
    assert code.returncode == 2 and "this check needs torch" in code.stderr
