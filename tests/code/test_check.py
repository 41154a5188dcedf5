"""`grader check exercise.py` through its API: file problems, signatures, public tests in
the sandbox, hidden test counts, the quiz restriction, and the printed report."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from grader.cli.check_report import print_check_report
from grader.code.check import CodeCheckReport, check_exercise_file
from grader.code.stubs import stub_file

from .codegrading_support import SOLUTION_PATH, replace_functions


def write(folder: Path, text: str | bytes, name: str = "exercise.py") -> Path:
    path = folder / name
    path.write_bytes(text.encode() if isinstance(text, str) else text)
    return path


def printed(report: CodeCheckReport) -> str:
    buffer = io.StringIO()
    print_check_report(Console(file=buffer, width=200, color_system=None), report)
    return buffer.getvalue()


def test_the_solution_passes_every_public_test(tmp_path, exercises, pool) -> None:
    report = check_exercise_file(write(tmp_path, SOLUTION_PATH.read_text()), pool=pool)
    assert report.exit_code == 0 and report.problems == []
    assert [f.function for f in report.functions] == [e.function for e in exercises]
    assert report.public_total == sum(len(e.public_tests) for e in exercises) == report.public_passed
    assert report.hidden_total == sum(e.hidden_test_count for e in exercises)
    assert all(f.present and f.signature_problems == () and f.status == "correct" for f in report.functions)
    assert f"hidden tests will grade these {len(exercises)} functions" in printed(report)


def test_the_stubs_fail_with_not_implemented(tmp_path, exercises, pool) -> None:
    report = check_exercise_file(write(tmp_path, stub_file(exercises)), pool=pool)
    assert report.exit_code == 1 and report.public_passed == 0
    assert {f.status for f in report.functions} == {"not-implemented"}
    assert all(f.signature_problems == () for f in report.functions)


def test_syntax_error_is_reported_with_its_line_and_nothing_runs(tmp_path) -> None:
    report = check_exercise_file(write(tmp_path, "import torch\n\ndef conv2d(x:\n    return x\n"), pool=object())
    assert report.exit_code == 1 and report.functions == []
    assert len(report.problems) == 1 and "line 3" in report.problems[0]


def test_errors_the_parser_accepts_are_caught_by_compiling(tmp_path) -> None:
    report = check_exercise_file(write(tmp_path, "import torch\nreturn 1\n"), pool=object())
    assert report.exit_code == 1 and "line 2" in report.problems[0]


@pytest.mark.parametrize(
    "content, words",
    [(b"x = '\xff\xfe'\n", "UTF-8"), (b"#" * 1_000_001, "too large (1000001 bytes; the limit is 1000000 bytes)"), (b"\n\n", "empty")],
)
def test_unreadable_files(tmp_path, content: bytes, words: str) -> None:
    report = check_exercise_file(write(tmp_path, content), pool=object())
    assert report.exit_code == 1 and words in report.problems[0]


def test_missing_file(tmp_path) -> None:
    report = check_exercise_file(tmp_path / "nope.py", pool=object())
    assert report.exit_code == 1 and "cannot read" in report.problems[0]


def test_signature_problems_missing_functions_and_failures(tmp_path, pool) -> None:
    text = replace_functions(
        SOLUTION_PATH.read_text(),
        {
            "relu_backward": "def relu_backward(grad, x):\n    return grad * (x > 0)\n",
            "conv2d": "",
            "diffusion_loss": "def diffusion_loss(eps_pred, eps):\n    return ((eps_pred - eps) ** 2).sum()\n",
        },
    )
    report = check_exercise_file(write(tmp_path, text), pool=pool)
    functions = {f.function: f for f in report.functions}
    assert report.exit_code == 1
    assert functions["relu_backward"].signature_problems and "(grad, x)" in functions["relu_backward"].signature_problems[0]
    assert not functions["conv2d"].present and functions["conv2d"].status == "missing"
    assert functions["diffusion_loss"].status == "incorrect"
    assert all(t.status == "failed" and t.expected and t.got for t in functions["diffusion_loss"].tests)
    assert functions["lstm_cell"].status == "correct"
    output = printed(report)
    assert "signature" in output and "sum_not_mean" not in output  # tags are for the gradebook
    assert "expected" in output


def test_student_text_is_printed_literally(tmp_path, pool) -> None:
    text = replace_functions(
        SOLUTION_PATH.read_text(),
        {"patchify": 'def patchify(images, patch_size):\n    raise ValueError("[bold red]boom[/bold red] [link=x]y[/link]")\n'},
    )
    report = check_exercise_file(write(tmp_path, text), pool=pool)
    assert "[bold red]boom[/bold red] [link=x]y[/link]" in printed(report)


def test_quiz_json_beside_the_file_restricts_the_functions(tmp_path, pool) -> None:
    write(tmp_path, json.dumps({"code": [{"function": "conv2d"}, {"function": "layer_norm"}]}), "quiz.json")
    report = check_exercise_file(write(tmp_path, SOLUTION_PATH.read_text()), pool=pool)
    assert [f.function for f in report.functions] == ["conv2d", "layer_norm"]


def test_quiz_dir_spec_restricts_the_functions(tmp_path, pool) -> None:
    quiz = tmp_path / "quiz"
    quiz.mkdir()
    write(quiz, 'title = "t"\nquiz_id = "t"\nselected = ["q_conv_size", "code_fgsm", "code_patchify"]\n', "quiz.toml")
    student = tmp_path / "student"
    student.mkdir()
    report = check_exercise_file(write(student, SOLUTION_PATH.read_text()), quiz_dir=quiz, pool=pool)
    assert [f.function for f in report.functions] == ["fgsm", "patchify"]
    assert report.exit_code == 0


def test_unknown_or_broken_quiz_information_checks_everything(tmp_path, exercises, pool) -> None:
    quiz = tmp_path / "quiz"
    quiz.mkdir()
    write(quiz, "this is [not toml", "quiz.toml")
    student = tmp_path / "student"
    student.mkdir()
    report = check_exercise_file(write(student, SOLUTION_PATH.read_text()), quiz_dir=quiz, pool=pool)
    assert len(report.functions) == len(exercises)
    assert report.notes and "quiz.toml" in report.notes[0]


def test_cold_check_starts_and_closes_its_own_worker(tmp_path) -> None:
    text = "import torch\n\ndef diffusion_loss(eps_pred, eps):\n    return ((eps_pred - eps) ** 2).mean()\n"
    write(tmp_path, json.dumps({"code": [{"function": "diffusion_loss"}]}), "quiz.json")
    report = check_exercise_file(write(tmp_path, text))
    assert report.exit_code == 0 and [f.function for f in report.functions] == ["diffusion_loss"]


def test_a_renamed_parameter_fails_the_check_even_when_public_tests_pass(tmp_path, pool) -> None:
    write(tmp_path, json.dumps({"code": [{"function": "layer_norm"}]}), "quiz.json")
    text = (
        "import torch\n\ndef layer_norm(x, gamma, beta, epsilon=1e-5):\n"
        "    mean = x.mean(-1, keepdim=True)\n"
        "    var = ((x - mean) ** 2).mean(-1, keepdim=True)\n"
        "    return gamma * (x - mean) / torch.sqrt(var + epsilon) + beta\n"
    )
    report = check_exercise_file(write(tmp_path, text), pool=pool)
    assert report.public_passed == report.public_total
    assert report.signature_problems == 1 and report.exit_code == 1
    assert "Fix the signatures" in printed(report)
