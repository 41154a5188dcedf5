"""`grader check answers.toml [--quiz DIR]`: validation in exam mode (never correctness),
grading with feedback in practice mode, exit codes 0 / 1 / 2."""

from __future__ import annotations

import json
import re
import shutil
import tomllib
from pathlib import Path

from grader.tomlfmt import toml_value

from .conftest import FIXTURE_IDS

ALL_FIXTURES = ",".join(FIXTURE_IDS)
CORRECTNESS_WORDS = ("correct", "incorrect", "score", "wrong", "right answer", "points")


def rows(output: str) -> dict[str, str]:
    """question id -> its row of the report's table, wrapped lines joined."""
    found: dict[str, str] = {}
    current = None
    for line in output.splitlines():
        if line.startswith("  q") and not line.startswith("  question"):
            current = line.split()[0]
            found[current] = line
        elif current and line.startswith("   "):
            found[current] += " " + line.strip()
        else:
            current = None
    return found


def flat(output: str) -> str:
    """The output with its line wrapping undone (the report wraps at spaces to fit 80 columns)."""
    return " ".join(output.split())


def without_echo(output: str) -> list[str]:
    """Each question's row without the echo of how its answer was read."""
    return [re.sub(r";? ?read as .*", "", row).rstrip() for row in rows(output).values()]


def write_sheet(path: Path, answers: dict[str, object]) -> Path:
    path.write_text("".join(f"{k} = {toml_value(v)}\n" for k, v in answers.items()), encoding="utf-8")
    return path


def key_answers(quiz: Path, student: str) -> dict[str, object]:
    return tomllib.loads((quiz / "key" / student / "answers.toml").read_text())


def variant(quiz: Path, student: str) -> dict[str, dict]:
    document = json.loads((quiz / "key" / student / "variant.json").read_text())
    return {q["question"]: q for q in document["questions"]}


def misconception_answers(quiz: Path, student: str) -> dict[str, object]:
    """A valid, wrong answer for every question: the first misconception's answer."""
    return {qid: next(iter(q["misconceptions"].values())) for qid, q in variant(quiz, student).items()}


def test_key_scores_full_marks_in_practice_mode(cli, new_quiz) -> None:
    quiz = new_quiz("--students", "ana,ben", "--exercises", ALL_FIXTURES, "--mode", "practice")
    for student in ("ana", "ben"):
        result = cli("check", quiz / "key" / student / "answers.toml", "--quiz", quiz)
        assert result.exit_code == 0, result.stdout
        assert "Score: 4.5 / 4.5" in result.stdout
        assert [line.split()[1:3] for line in rows(result.stdout).values()] == [
            ["correct", "2/2"], ["correct", "1/1"], ["correct", "0.5/0.5"], ["correct", "1/1"]
        ]


def test_practice_mode_shows_each_verdict_the_score_and_the_misconception(cli, new_quiz) -> None:
    quiz = new_quiz("--students", "ana", "--exercises", ALL_FIXTURES, "--mode", "practice")
    answers = key_answers(quiz, "ana")
    conv = variant(quiz, "ana")["q1"]
    answers["q1"] = conv["misconceptions"]["forgot_plus_one"]
    answers["q3"] = "s*(1+s)"
    sheet = write_sheet(quiz / "students/ana/answers.toml", answers)
    result = cli("check", sheet, "--quiz", quiz)
    assert result.exit_code == 0  # every answer present and readable; correctness is not an error
    lines = rows(result.stdout)
    assert "incorrect" in lines["q1"] and "0/2" in lines["q1"] and "forgot_plus_one" in lines["q1"]
    assert "incorrect" in lines["q3"] and "wrong_sign" in lines["q3"]
    assert "correct" in lines["q2"] and "1/1" in lines["q2"]
    assert "The output size ends with + 1." in flat(result.stdout)
    assert "Score: 2 / 4.5" in result.stdout  # q2 and q4 (1 point each) right; q1 (2) and q3 (0.5) wrong


def test_exam_mode_reports_missing_and_unreadable_answers_and_why(cli, new_quiz) -> None:
    quiz = new_quiz("--students", "ana", "--exercises", ALL_FIXTURES)
    sheet = write_sheet(quiz / "students/ana/answers.toml", {"q1": "twelve", "q2": [[1, 2], [3, 4]], "q3": "", "q4": "B"})
    result = cli("check", sheet)
    assert result.exit_code == 1
    out = result.stdout
    lines = rows(out)
    assert lines["q1"].split()[1] == "invalid" and "twelve" in lines["q1"]
    assert lines["q3"].split()[1] == "missing" and "expression in s" in lines["q3"]
    assert lines["q4"].split()[1] == "ok"
    assert lines["q2"].split()[1] == "invalid" and "2x3" in lines["q2"]  # 2x2 where 2x3 is asked
    assert "1 missing, 2 unreadable" in flat(out)
    assert "never whether they are right" in flat(out)


def test_exam_mode_output_is_the_same_for_right_and_wrong_answers(cli, new_quiz) -> None:
    quiz = new_quiz("--students", "ana", "--exercises", ALL_FIXTURES)
    right = write_sheet(quiz / "students/ana/answers.toml", key_answers(quiz, "ana"))
    outputs = []
    for with_quiz in (False, True):
        write_sheet(right, key_answers(quiz, "ana"))
        args = ("--quiz", quiz) if with_quiz else ()
        right_result = cli("check", right, *args)
        write_sheet(right, misconception_answers(quiz, "ana"))
        wrong_result = cli("check", right, *args)
        assert right_result.exit_code == wrong_result.exit_code == 0
        # the same rows, apart from the echo of what was written (never a verdict on it)
        assert without_echo(right_result.stdout) == without_echo(wrong_result.stdout)
        assert [line for line in right_result.stdout.splitlines() if not line.startswith("  ")] == [
            line for line in wrong_result.stdout.splitlines() if not line.startswith("  ")
        ]
        outputs.append(right_result.stdout)
    for out in outputs:
        lowered = out.lower()
        assert not any(word in flat(lowered).replace("never whether they are right", "") for word in CORRECTNESS_WORDS), out
        assert "All answers are present and readable." in out


def test_student_folder_alone_is_enough_to_validate(cli, new_quiz, tmp_path: Path) -> None:
    quiz = new_quiz("--students", "ana", "--exercises", ALL_FIXTURES)
    handed_out = tmp_path / "ana-home"
    shutil.copytree(quiz / "students" / "ana", handed_out)
    sheet = write_sheet(handed_out / "answers.toml", {"q1": 12, "q2": [[1, 2, 3], [4, 5, 6]], "q3": "s - s^2", "q4": "c"})
    result = cli("check", sheet)
    assert result.exit_code == 0, result.stdout
    assert [line.split()[1] for line in rows(result.stdout).values()] == ["ok"] * 4


def test_practice_mode_without_the_quiz_folder_only_validates(cli, new_quiz) -> None:
    quiz = new_quiz("--students", "ana", "--exercises", ALL_FIXTURES, "--mode", "practice")
    sheet = write_sheet(quiz / "students/ana/answers.toml", key_answers(quiz, "ana"))
    result = cli("check", sheet)
    assert result.exit_code == 0
    assert "Score" not in result.stdout and "add --quiz DIR" in flat(result.stdout)


def test_malformed_toml_is_one_problem_with_its_line(cli, new_quiz) -> None:
    quiz = new_quiz("--students", "ana", "--exercises", ALL_FIXTURES)
    sheet = quiz / "students/ana/answers.toml"
    sheet.write_text('q1 = 3\nq2 == [[1, 2, 3], [4, 5, 6]]\nq3 = "s"\n', encoding="utf-8")
    result = cli("check", sheet)
    assert result.exit_code == 1
    problems = [p for p in flat(result.stdout).split("problem: ")[1:]]
    assert len(problems) == 1 and "not valid TOML" in problems[0] and "line 2" in problems[0]
    # and every other answer is still checked
    assert [rows(result.stdout)[q].split()[1] for q in ("q1", "q2", "q3", "q4")] == ["ok", "missing", "ok", "missing"]


def test_non_utf8_sheet(cli, new_quiz) -> None:
    quiz = new_quiz("--students", "ana", "--exercises", ALL_FIXTURES)
    sheet = quiz / "students/ana/answers.toml"
    sheet.write_bytes('q1 = 12\nq3 = "caf\xe9"\n'.encode("latin-1"))
    for args in ((), ("--quiz", quiz)):
        result = cli("check", sheet, *args)
        assert result.exit_code == 1
        assert "not UTF-8 text (line 2, byte 10); save it as UTF-8" in flat(result.stdout)


def test_answers_to_unknown_questions(cli, new_quiz) -> None:
    quiz = new_quiz("--students", "ana", "--exercises", ALL_FIXTURES, "--mode", "practice")
    answers = key_answers(quiz, "ana") | {"q9": 1, "bonus": "x"}
    sheet = write_sheet(quiz / "students/ana/answers.toml", answers)
    for args in ((), ("--quiz", quiz)):
        result = cli("check", sheet, *args)
        assert result.exit_code == 1
        assert "answers to unknown questions: bonus, q9 (this quiz has q1, q2, q3, q4)" in flat(result.stdout)
        # every problem at once: the known questions are still checked (and graded with the quiz)
        assert [rows(result.stdout)[q].split()[1] for q in ("q1", "q2", "q3", "q4")] == (
            ["correct"] * 4 if args else ["ok"] * 4
        )


def test_usage_errors_exit_2(cli, new_quiz, tmp_path: Path) -> None:
    quiz = new_quiz("--students", "ana", "--exercises", ALL_FIXTURES)
    loose = write_sheet(tmp_path / "answers.toml", {"q1": 1})
    no_info = cli("check", loose)
    assert no_info.exit_code == 2 and "no readable quiz.json beside it" in no_info.stderr
    wrong_student = cli("check", loose, "--quiz", quiz)  # its folder name is not a student id
    assert wrong_student.exit_code == 2
    assert f"is {tmp_path.name!r} a student of this quiz?" in wrong_student.stderr
    missing = cli("check", tmp_path / "absent.toml")
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    other = tmp_path / "notes.txt"
    other.write_text("hi")
    assert cli("check", other).exit_code == 2
    (quiz / "quiz.toml").write_text("title = [unclosed\n")
    broken = cli("check", quiz / "students/ana/answers.toml", "--quiz", quiz)
    assert broken.exit_code == 2 and "quiz.toml: cannot read it" in broken.stderr


def test_a_sheet_checked_against_another_quiz_is_refused(cli, new_quiz) -> None:
    first = new_quiz("--students", "ana", "--exercises", ALL_FIXTURES, "--title", "First", name="first")
    second = new_quiz("--students", "ana", "--exercises", ALL_FIXTURES, "--title", "Second", name="second")
    result = cli("check", first / "students/ana/answers.toml", "--quiz", second)
    assert result.exit_code == 2
    assert "belongs to quiz 'first', but" in result.stderr and "is quiz 'second'" in result.stderr


def test_answers_of_the_wrong_toml_type_are_unreadable_with_the_reason(cli, new_quiz) -> None:
    quiz = new_quiz("--students", "ana", "--exercises", ALL_FIXTURES)
    sheet = quiz / "students/ana/answers.toml"
    sheet.write_text('q1 = 12\nq2 = "[[1, 2, 3], [4, 5, 6]]"\nq3 = true\n[q4]\nletter = "A"\n', encoding="utf-8")
    result = cli("check", sheet)
    assert result.exit_code == 1
    lines = rows(result.stdout)
    assert [lines[q].split()[1] for q in ("q1", "q2", "q3", "q4")] == ["ok", "ok", "invalid", "invalid"]
    assert "expression" in lines["q3"]
