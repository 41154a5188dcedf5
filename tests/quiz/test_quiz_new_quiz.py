"""`grader new-quiz`: the files of a quiz folder, their content, determinism, selection."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path

import pytest

from grader.quiz.spec import secret_fingerprint
from grader.seeding import SECRET_BYTES

from .conftest import FIXTURE_BANK, FIXTURE_IDS

ALL_FIXTURES = ",".join(FIXTURE_IDS)


def files_of(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_writes_every_file_of_the_layout(new_quiz) -> None:
    quiz = new_quiz("--students", "ana,ben", "--exercises", ALL_FIXTURES)
    expected = {"quiz.toml", "secret.key"}
    for student in ("ana", "ben"):
        expected |= {f"students/{student}/{name}" for name in ("quiz.html", "quiz.md", "answers.toml", "quiz.json", "check.pyz")}
        expected |= {f"key/{student}/{name}" for name in ("answers.toml", "variant.json")}
    assert set(files_of(quiz)) == expected
    assert not list(quiz.parent.glob(".quiz.*")), "the staging folder was left behind"


def test_secret_is_32_random_bytes_that_students_never_get(new_quiz, tmp_path: Path) -> None:
    first = new_quiz("--students", "ana,ben", "--exercises", ALL_FIXTURES, name="one")
    second = new_quiz("--students", "ana,ben", "--exercises", ALL_FIXTURES, name="two")
    secret = (first / "secret.key").read_bytes()
    assert len(secret) == SECRET_BYTES
    assert secret != (second / "secret.key").read_bytes()
    spec = tomllib.loads((first / "quiz.toml").read_text())
    assert spec["secret_fingerprint"] == secret_fingerprint(secret)
    fingerprint_hex = secret.hex()
    for path in (first / "students").rglob("*"):
        if path.is_file():
            data = path.read_bytes()
            assert secret not in data and fingerprint_hex.encode() not in data, path
            assert spec["secret_fingerprint"].encode() not in data, path
    assert not list((first / "students").rglob("secret*"))


def test_same_spec_and_secret_give_byte_identical_files(new_quiz, tmp_path: Path) -> None:
    secret = tmp_path / "course.secret"
    secret.write_bytes(bytes(range(32)))
    args = ("--students", "ana,ben,cy", "--exercises", ALL_FIXTURES, "--count", "3", "--title", "Midterm 1",
            "--secret-file", secret)
    first = files_of(new_quiz(*args, name="first"))
    second = files_of(new_quiz(*args, name="second"))
    assert "secret.key" not in first  # the instructor's secret file is used, not copied
    assert first == second
    other = files_of(new_quiz("--students", "ana,ben,cy", "--exercises", ALL_FIXTURES, "--count", "3",
                              "--title", "Midterm 1", name="other"))
    assert other["key/ana/variant.json"] != first["key/ana/variant.json"]  # another secret, other variants


def test_answer_sheet_has_a_header_and_one_blank_per_question_with_its_format(new_quiz) -> None:
    quiz = new_quiz("--students", "ana", "--exercises", ALL_FIXTURES, "--title", "Midterm 1")
    text = (quiz / "students/ana/answers.toml").read_text()
    assert text.startswith("# Answer sheet for Midterm 1 (quiz midterm-1)\n# Student: ana\n")
    assert tomllib.loads(text) == {"q1": "", "q2": "", "q3": "", "q4": ""}
    formats = dict(re.findall(r"^# (q\d): .* -- (.*)$", text, flags=re.M))
    # bank order: qfix_conv_size, qfix_linear_forward, qfix_sigmoid_derivative, qfix_critical_point
    assert formats == {
        "q1": "integer",
        "q2": "2x3 matrix as [[..], [..]]",
        "q3": "expression in s",
        "q4": "one of A, B, C",
    }
    assert "(2 points)" in text and "(0.5 points)" in text and "(1 point)" in text


def test_key_sheet_has_the_same_schema_filled_with_the_variant_answers(new_quiz) -> None:
    quiz = new_quiz("--students", "ana", "--exercises", ALL_FIXTURES)
    blank = tomllib.loads((quiz / "students/ana/answers.toml").read_text())
    key = tomllib.loads((quiz / "key/ana/answers.toml").read_text())
    assert key.keys() == blank.keys()
    variant = json.loads((quiz / "key/ana/variant.json").read_text())
    params = {q["question"]: q["params"] for q in variant["questions"]}
    # recompute every key from the parameters, independently of the bank's solvers
    conv = params["q1"]
    assert key["q1"] == (conv["n"] + 2 * conv["p"] - conv["k"]) // conv["s"] + 1
    lin = params["q2"]
    expected = [[sum(lin["x"][i][j] * lin["w"][j][c] for j in range(2)) + lin["b"][c] for c in range(3)] for i in range(2)]
    assert key["q2"] == expected
    assert key["q3"] == "s*(1-s)"
    assert params["q4"]["options"][ord(key["q4"]) - ord("A")] == "a saddle point"


def test_variant_json_records_parameters_answers_misconceptions_and_versions(new_quiz) -> None:
    quiz = new_quiz("--students", "ana", "--exercises", ALL_FIXTURES, "--title", "T")
    document = json.loads((quiz / "key/ana/variant.json").read_text())
    assert document["quiz_id"] == "t" and document["student"]["id"] == "ana"
    first = document["questions"][0]
    assert first["question"] == "q1" and first["exercise"] == "qfix_conv_size"
    assert first["generator_version"] == 1 and first["points"] == 2
    conv = first["params"]
    assert first["answer"] == (conv["n"] + 2 * conv["p"] - conv["k"]) // conv["s"] + 1
    assert first["misconceptions"] == {
        "forgot_plus_one": (conv["n"] + 2 * conv["p"] - conv["k"]) // conv["s"],
        "forgot_padding": (conv["n"] - conv["k"]) // conv["s"] + 1,
    }
    assert int(first["seed"]) > 0


def test_quiz_toml_is_the_spec(new_quiz, tmp_path: Path) -> None:
    quiz = new_quiz("--students", "ana,ben", "--exercises", ALL_FIXTURES, "--count", "2",
                    "--mode", "practice", "--title", "Week 3 practice", "--kind", "answer")
    spec = tomllib.loads((quiz / "quiz.toml").read_text())
    assert spec["title"] == "Week 3 practice" and spec["quiz_id"] == "week-3-practice"
    assert spec["mode"] == "practice" and spec["kind"] == "answer" and spec["count"] == 2
    assert spec["exercises"] == list(FIXTURE_IDS)
    assert len(spec["selected"]) == 2 and set(spec["selected"]) <= set(FIXTURE_IDS)
    assert [s["id"] for s in spec["students"]] == ["ana", "ben"]
    assert spec["bank_dirs"] == [str(FIXTURE_BANK.resolve())]


def _exercises_of(quiz: Path, student: str) -> list[str]:
    document = json.loads((quiz / "key" / student / "variant.json").read_text())
    return [q["exercise"] for q in document["questions"]]


def test_count_gives_every_student_the_same_exercises_with_different_variants(new_quiz) -> None:
    students = [f"s{i}" for i in range(8)]
    quiz = new_quiz("--students", ",".join(students), "--exercises", ALL_FIXTURES, "--count", "2")
    selections = {tuple(_exercises_of(quiz, s)) for s in students}
    assert len(selections) == 1
    (selection,) = selections
    assert len(selection) == 2
    spec = tomllib.loads((quiz / "quiz.toml").read_text())
    assert list(selection) == spec["selected"]
    # at most one of the two sampled exercises has fixed parameters (the sigmoid derivative)
    params_by_question = zip(*(
        [json.dumps(q["params"]) for q in json.loads((quiz / "key" / s / "variant.json").read_text())["questions"]]
        for s in students
    ))
    assert any(len(set(params)) > 1 for params in params_by_question), "every student got the same variant"


def test_shuffle_exercises_gives_students_their_own_sample_and_order(new_quiz) -> None:
    students = [f"s{i}" for i in range(12)]
    quiz = new_quiz("--students", ",".join(students), "--exercises", ALL_FIXTURES, "--count", "2",
                    "--shuffle-exercises")
    selections = [tuple(_exercises_of(quiz, s)) for s in students]
    assert all(len(s) == 2 and len(set(s)) == 2 for s in selections)
    assert len(set(selections)) > 1
    assert len({frozenset(s) for s in selections}) > 1, "only the order differs"


def test_topics_and_kind_filter_the_selection(new_quiz) -> None:
    quiz = new_quiz("--students", "ana", "--topics", "cnn", "--kind", "answer")
    assert _exercises_of(quiz, "ana") == ["qfix_conv_size"]
    quiz = new_quiz("--students", "ana", "--topics", "2", name="by-number")
    assert _exercises_of(quiz, "ana") == ["qfix_linear_forward", "qfix_sigmoid_derivative", "qfix_critical_point"]


def test_roster_gives_names_and_emails_shown_in_the_pages(new_quiz, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text("Email,ID,Name\nada@uni.edu,ada1,Ada Lovelace\n,alan2,Alan <b>Turing</b>\n", encoding="utf-8")
    quiz = new_quiz("--roster", roster, "--exercises", "qfix_conv_size")
    html = (quiz / "students/ada1/quiz.html").read_text()
    assert "Ada Lovelace" in html and "ada@uni.edu" in html and "ada1" in html
    markdown = (quiz / "students/ada1/quiz.md").read_text()
    assert "Ada Lovelace (ada1)" in markdown and "ada@uni.edu" in markdown
    alan = (quiz / "students/alan2/quiz.html").read_text()
    assert "Alan &lt;b&gt;Turing&lt;/b&gt;" in alan and "<b>Turing" not in alan
    assert "# Student: Ada Lovelace (ada1)" in (quiz / "students/ada1/answers.toml").read_text()
    spec = tomllib.loads((quiz / "quiz.toml").read_text())
    assert spec["students"][0] == {"id": "ada1", "name": "Ada Lovelace", "email": "ada@uni.edu"}


def test_quiz_page_shows_points_per_question_and_how_to_answer(new_quiz) -> None:
    quiz = new_quiz("--students", "ana", "--exercises", ALL_FIXTURES, "--mode", "practice", "--title", "Quiz <1>")
    html = (quiz / "students/ana/quiz.html").read_text()
    assert "<script" not in html.lower()
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", html), "the page must not load anything"
    assert "<title>Quiz &lt;1&gt; · ana</title>" in html
    heads = re.findall(r'<h2>Question (\d): (.*?)</h2><span class="points">(.*?)</span>', html)
    assert heads == [
        ("1", "Output size of a convolution", "2 points"),
        ("2", "Forward pass of a linear layer", "1 point"),
        ("3", "Derivative of the sigmoid", "0.5 points"),
        ("4", "A critical point", "1 point"),
    ]
    assert "answers.toml" in html and "grader check answers.toml" in html
    assert "Total: 4.5 points" in html and "Mode: practice" in html
    assert html.count("<math") >= 8 and "\\frac" not in html and "$" not in html
    assert 'class="fence-bracket"' in html  # matrices drawn with CSS brackets
    assert "@media print" in html


def test_quiz_markdown_keeps_latex_and_question_ids(new_quiz) -> None:
    quiz = new_quiz("--students", "ana", "--exercises", ALL_FIXTURES)
    markdown = (quiz / "students/ana/quiz.md").read_text()
    assert re.findall(r"^## Question (\d) · `(q\d)`", markdown, flags=re.M) == [(str(i), f"q{i}") for i in range(1, 5)]
    assert r"\begin{bmatrix}" in markdown and "$$" in markdown


def test_public_quiz_json_lists_formats_but_no_key(new_quiz) -> None:
    quiz = new_quiz("--students", "ana", "--exercises", ALL_FIXTURES)
    public = json.loads((quiz / "students/ana/quiz.json").read_text())
    assert [q["question"] for q in public["questions"]] == ["q1", "q2", "q3", "q4"]
    text = json.dumps(public)
    assert "answer" not in text and "params" not in text and "misconception" not in text
    key_text = (quiz / "key/ana/answers.toml").read_text()
    matrix = tomllib.loads(key_text)["q2"]
    assert json.dumps(matrix) not in text


@pytest.mark.parametrize("mode", ["exam", "practice"])
def test_summary_line_names_the_folder_and_counts(cli, tmp_path: Path, mode: str) -> None:
    result = cli("new-quiz", "--bank", FIXTURE_BANK, "--out", tmp_path / "q", "--students", "a,b,c",
                 "--exercises", ALL_FIXTURES, "--mode", mode)
    assert result.exit_code == 0
    assert f"Wrote {tmp_path / 'q'}: 3 students, 4 answer questions and 0 code functions each ({mode} mode)." in result.stdout
    assert "secret.key" in result.stdout


@pytest.mark.parametrize("separator", [";", "\t"])
def test_roster_from_a_spreadsheet_export(new_quiz, tmp_path: Path, separator: str) -> None:
    roster = tmp_path / "roster.csv"
    rows = [["Name", "id", "e-mail"], ["Grace Hopper", "gh", "gh@navy.mil"], ["Dennis", "dr", ""]]
    roster.write_bytes(("\ufeff" + "\r\n".join(separator.join(r) for r in rows) + "\r\n").encode("utf-8"))
    quiz = new_quiz("--roster", roster, "--exercises", "qfix_conv_size")
    spec = tomllib.loads((quiz / "quiz.toml").read_text())
    assert spec["students"] == [{"id": "gh", "name": "Grace Hopper", "email": ""}, {"id": "dr", "name": "Dennis", "email": ""}]


def test_line_breaks_in_title_and_names_do_not_break_the_answer_sheets(new_quiz, tmp_path: Path) -> None:
    roster = tmp_path / "roster.csv"
    roster.write_text('id,name\nada,"Ada\nLovelace\x07"\n', encoding="utf-8")
    quiz = new_quiz("--roster", roster, "--exercises", "qfix_conv_size", "--title", "Quiz\nq1 = 5")
    blank = (quiz / "students/ada/answers.toml").read_text()
    assert tomllib.loads(blank) == {"q1": ""}
    assert "# Answer sheet for Quiz q1 = 5 (quiz quiz-q1-5)" in blank and "# Student: Ada Lovelace (ada)" in blank
    assert set(tomllib.loads((quiz / "key/ada/answers.toml").read_text())) == {"q1"}
