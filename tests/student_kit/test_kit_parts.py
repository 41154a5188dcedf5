"""The kit's parts in this process: the 80-column table, the TOML reader for Python 3.10,
the value codec, practice grading from values against the grader's, the runner's limits."""

from __future__ import annotations

import math
import sys
import tomllib

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grader.kit import runner, sheet, table, values

WORD = st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=20)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(WORD, WORD, st.lists(WORD, max_size=40)), min_size=1, max_size=6), st.integers(40, 120))
def test_a_table_fits_the_width_and_cuts_no_word(rows, width) -> None:
    cells = [[name, status, " ".join(words)] for name, status, words in rows]
    lines = table.table(["test", "result", "message"], cells, width, indent="  ")
    assert all(len(line) <= width for line in lines)
    longest = [max(len(w) for w in [header, *[word for row in cells for word in row[i].split()]])
               for i, header in enumerate(["test", "result", "message"])]
    if sum(longest) + 2 + 2 * 2 > width:
        return  # the longest words cannot stand side by side: some word has to be split
    printed = set(" ".join(lines).split())
    for row in cells:
        for cell in row:
            for word in cell.split():
                assert word in printed  # whole, on one line


def test_a_word_longer_than_its_column_is_the_only_thing_ever_split() -> None:
    lines = table.wrap("short " + "x" * 30 + " end", 12)
    assert lines == ["short", "x" * 12, "x" * 12, "x" * 6, "end"]


SHEET_VALUE = st.recursive(
    st.one_of(
        st.integers(-10**12, 10**12), st.booleans(),
        st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cs")), max_size=15),
        st.floats(allow_nan=False, allow_infinity=True, width=64),
    ),
    lambda inner: st.lists(inner, max_size=4),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.from_regex(r"q[0-9]{1,3}", fullmatch=True), SHEET_VALUE, max_size=8))
def test_the_python_310_toml_reader_agrees_with_tomllib(answers) -> None:
    from grader.tomlfmt import toml_value

    text = "# answers\n" + "".join(f"{k} = {toml_value(v)}  # comment\n" for k, v in answers.items())
    assert sheet._MiniToml(text).document() == tomllib.loads(text)


@pytest.mark.parametrize("text", ["q1 = [1, 2\n", "q1 = what\n", "q1 = 1\nq1 = 2\n", 'q1 = "open\n', "q1 = 01\n"])
def test_the_python_310_toml_reader_refuses_what_tomllib_refuses(text) -> None:
    with pytest.raises(tomllib.TOMLDecodeError):
        tomllib.loads(text)
    with pytest.raises(ValueError):
        sheet._MiniToml(text).document()


def test_one_broken_line_leaves_the_other_answers_readable(monkeypatch) -> None:
    raw = b'q1 = 3\nq2 = [1, 2\nq3 = "x"\nq4 = what\nq1 = 4\n'
    for reader in (sheet._tomllib, None):
        monkeypatch.setattr(sheet, "_tomllib", reader)
        read = sheet.read_sheet_bytes(raw)
        assert read.answers == {"q1": 3, "q3": "x"}
        assert [p.split(":")[1].strip() for p in read.problems] == ["line 2", "line 4", "line 5"]


@pytest.mark.parametrize("value", [
    (torch.arange(6, dtype=torch.float64).reshape(2, 3).T, [1, 2.5, None], {"k": "v"}),
    torch.tensor([[True, False]]),
    torch.zeros(0, 3, dtype=torch.int64),
    torch.randn(4, dtype=torch.bfloat16),
    (float("nan"), float("inf"), -0.0),
])
def test_values_come_back_equal(value) -> None:
    import json

    back = values.decode(json.loads(json.dumps(values.encode(value), allow_nan=False)))

    def same(a, b) -> bool:
        if isinstance(a, torch.Tensor):
            return type(b) is torch.Tensor and a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b)
        if isinstance(a, float):
            return type(b) is float and (math.isnan(a) and math.isnan(b) or (a == b and math.copysign(1, a) == math.copysign(1, b)))
        if isinstance(a, (list, tuple)):
            return type(a) is type(b) and len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
        if isinstance(a, dict):
            return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
        return a == b and type(a) is type(b)

    assert same(value, back)


def test_a_model_rebuilt_by_the_kit_computes_what_the_sandbox_model_computes() -> None:
    from grader.sandbox import ModelSpec

    torch.manual_seed(0)
    spec = ModelSpec(layers=(
        ("conv2d", torch.randn(2, 1, 3, 3, dtype=torch.float64), torch.randn(2, dtype=torch.float64), 1, 1),
        ("relu",), ("flatten",), ("linear", torch.randn(3, 32, dtype=torch.float64), None), ("tanh",),
    ))
    x = torch.randn(2, 1, 4, 4, dtype=torch.float64)
    rebuilt = values.build_models(values.decode(values.encode(spec)))
    assert torch.equal(rebuilt(x), spec.build()(x))


@pytest.mark.parametrize("bad", [{"t": "t", "dtype": "float64", "shape": [3], "data": "AAAA"}, {"t": "x"}, [1], {"t": "m", "v": {"t": "v", "v": 1}}])
def test_malformed_values_are_refused(bad) -> None:
    with pytest.raises(ValueError):
        values.decode(bad)


def test_practice_grading_from_values_agrees_with_the_grader(tmp_path) -> None:
    """Every question of the bank, graded by the kit from JSON values and by grade_answer
    from the variant: the key, each misconception's answer."""
    import json

    from click.testing import CliRunner

    from grader.cli import main
    from grader.grading import grade_answer
    from grader.kit.answer_report import check_sheet
    from grader.kit.build import kit_data
    from grader.quiz.load import load_quiz
    from grader.tomlfmt import toml_value

    out = tmp_path / "quiz"
    result = CliRunner().invoke(main, ["new-quiz", "--out", str(out), "--students", "ana", "--kind", "answer", "--mode", "practice"])
    assert result.exit_code == 0, result.output
    loaded = load_quiz(out)
    quiz = loaded.student_quiz("ana")
    data = json.loads(json.dumps(kit_data(loaded.spec, quiz)))
    compared = 0
    for question in quiz.questions:
        check = question.check
        answers = [check.to_toml(question.variant.key)] + [check.to_toml(a) for a in question.variant.misconceptions.values()]
        for answer in answers:
            line = next(l for l in check_sheet(f"{question.qid} = {toml_value(answer)}\n".encode(), data).lines if l.question == question.qid)
            graded = grade_answer(question.exercise, question.variant, answer, item=question.qid)
            assert (line.status, line.score, line.misconception) == (graded.status, graded.score, graded.misconception)
            compared += 1
    assert compared > 150


def test_an_endless_call_costs_only_itself() -> None:
    source = "def spin():\n    while True:\n        pass\n\ndef one():\n    return 1\n"
    none = values.encode(())
    calls = [{"id": name, "function": name, "args": none, "kwargs": values.encode({})} for name in ("one", "spin", "one", "nope")]
    calls[2]["id"] = "one-again"
    result = runner.run_calls(source, calls, call_seconds=2)
    statuses = {key: (outcome.status, outcome.value) for key, outcome in result.calls.items()}
    assert statuses == {"one": ("ok", 1), "spin": ("timeout", None), "one-again": ("ok", 1), "nope": ("missing-function", None)}


def test_a_child_that_dies_costs_only_its_call() -> None:
    source = "import os\n\ndef die():\n    os._exit(3)\n\ndef two():\n    return 2.0\n"
    none = values.encode(())
    calls = [{"id": name, "function": name, "args": none, "kwargs": values.encode({})} for name in ("die", "two")]
    result = runner.run_calls(source, calls, call_seconds=30)
    assert result.calls["die"].status == "crashed" and "exit status 3" in result.calls["die"].message
    assert (result.calls["two"].status, result.calls["two"].value) == ("ok", 2.0)


def test_the_child_runs_with_this_interpreters_flags() -> None:
    command = runner.child_command()
    assert command[0] == sys.executable and command[-2] == "-c" and "child_main()" in command[-1]
