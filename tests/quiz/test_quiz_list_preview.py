"""`grader list` and `grader preview` on the fixture bank."""

from __future__ import annotations

import json
import re

from .conftest import FIXTURE_BANK, FIXTURE_IDS


def test_list_json_is_the_bank_as_rows(cli) -> None:
    result = cli("list", "--json", "--bank", FIXTURE_BANK)
    assert result.exit_code == 0
    rows = json.loads(result.stdout)
    assert rows == [
        {"id": "qfix_conv_size", "title": "Output size of a convolution", "section": 4, "topic": "cnn", "kind": "answer", "points": 2},
        {"id": "qfix_linear_forward", "title": "Forward pass of a linear layer", "section": 2, "topic": "optimization", "kind": "answer", "points": 1},
        {"id": "qfix_sigmoid_derivative", "title": "Derivative of the sigmoid", "section": 2, "topic": "optimization", "kind": "answer", "points": 0.5},
        {"id": "qfix_critical_point", "title": "A critical point", "section": 2, "topic": "optimization", "kind": "answer", "points": 1},
    ]


def test_list_filters_by_topic_name_or_section_number(cli) -> None:
    by_name = json.loads(cli("list", "--json", "--topic", "optimization", "--bank", FIXTURE_BANK).stdout)
    by_number = json.loads(cli("list", "--json", "--topic", "2", "--bank", FIXTURE_BANK).stdout)
    assert [r["id"] for r in by_name] == list(FIXTURE_IDS[1:])
    assert by_number == by_name
    assert json.loads(cli("list", "--json", "--topic", "vit", "--bank", FIXTURE_BANK).stdout) == []


def test_list_piped_is_one_tab_separated_line_per_exercise(cli) -> None:
    result = cli("list", "--bank", FIXTURE_BANK)
    assert result.exit_code == 0
    header, *rows = [line.split("\t") for line in result.stdout.splitlines()]
    assert header == ["id", "title", "section", "topic", "kind", "pts"]
    assert sorted(row[0] for row in rows) == sorted(FIXTURE_IDS)
    for row in rows:
        assert len(row) == 6 and row[4] == "answer" and row[5] in ("1", "2", "0.5")
    assert {(row[2], row[3]) for row in rows} >= {("4", "cnn"), ("2", "optimization")}


def test_list_table_at_80_columns_keeps_ids_and_title_words_whole() -> None:
    from rich.console import Console

    from grader.api import list_exercises
    from grader.cli.render import exercise_table

    rows = list_exercises()
    console = Console(width=80, force_terminal=True, color_system=None, markup=False, record=True)
    console.print(exercise_table(rows))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80
    words = set(text.split())
    for row in rows:
        assert row["id"] in words
        for word in row["title"].split():
            assert word in words, (row["id"], word)


def test_preview_shows_prompt_with_readable_math_key_and_misconceptions(cli) -> None:
    result = cli("preview", "qfix_conv_size", "--seed", "3", "--bank", FIXTURE_BANK)
    assert result.exit_code == 0
    out = result.stdout
    assert "qfix_conv_size · section 4 (cnn) · answer · 2 pt · generator v1 · seed 3" in out
    assert "Output size of a convolution" in out
    assert "⌊ (n + 2p - k)/(s) ⌋ + 1." in out  # LaTeX made readable: no backslashes
    assert "\\frac" not in out and "$" not in out
    assert "Answer format: integer" in out
    # the key and the misconceptions, recomputed from the numbers printed in the prompt
    values = {name: int(value) for name, value in re.findall(r"\b([nkps]) = (\d+)", out)}
    n, k, p, s = values["n"], values["k"], values["p"], values["s"]
    assert f"Key: {(n + 2 * p - k) // s + 1}" in out
    assert "forgot_plus_one" in out and str((n + 2 * p - k) // s) in out
    assert "forgot_padding" in out and "Padding adds 2p to the input width." in out


def test_preview_is_deterministic_per_seed(cli) -> None:
    first = cli("preview", "qfix_linear_forward", "--seed", "7", "--bank", FIXTURE_BANK).stdout
    again = cli("preview", "qfix_linear_forward", "--seed", "7", "--bank", FIXTURE_BANK).stdout
    other = [cli("preview", "qfix_linear_forward", "--seed", str(seed), "--bank", FIXTURE_BANK).stdout for seed in range(8, 12)]
    assert first == again
    assert any(o != first for o in other)
    assert "Answer format: 2x3 matrix as [[..], [..]]" in first
    assert "X = [" in first and "\\begin" not in first  # matrices as rows


def test_preview_prints_student_text_literally(cli, tmp_path) -> None:
    bank = tmp_path / "bank"
    bank.mkdir()
    (bank / "markup_bank.py").write_text(
        "from grader.answers import Integer\n"
        "from grader.exercise import AnswerExercise, Misconception\n"
        "EXERCISES = [AnswerExercise(id='qfix_markup', title='[bold]not bold[/bold]', section=1,\n"
        "    generate=lambda rng: {}, prompt='Compute [red]2[/red].', solve=lambda p: 2, check=Integer(),\n"
        "    misconceptions=(Misconception('doubled', '[blink]x[/blink] feedback', lambda p: 4),))]\n",
        encoding="utf-8",
    )
    out = cli("preview", "qfix_markup", "--bank", bank).stdout
    assert "[bold]not bold[/bold]" in out and "[blink]x[/blink] feedback" in out
