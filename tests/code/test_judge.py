"""The judge through the real sandbox: the instructor's solution and alternative correct
implementations score 100%, every misconception is caught and named, and hostile or broken
submissions cost only the functions they break."""

from __future__ import annotations

import re

import pytest

from grader.code.exercise import CodeExercise
from grader.code.judge import grade_code_submission, run_public_tests
from grader.results import ItemResult

from .codegrading_support import ALTERNATIVES_PATH, HEADER, renamed_source, replace_functions, seeds


def grade(source: str | bytes, exercises: list[CodeExercise], seed: int, pool) -> dict[str, ItemResult]:
    results = grade_code_submission(source, exercises, seeds(exercises, seed), pool)
    assert [r.item for r in results] == [e.function for e in exercises]
    return {r.item: r for r in results}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_solution_scores_full_marks(exercises, solution_source, pool, seed: int) -> None:
    results = grade(solution_source, exercises, seed, pool)
    for exercise in exercises:
        result = results[exercise.function]
        assert (result.status, result.score, result.max_score) == ("correct", exercise.points, exercise.points), result
        hidden = [t for t in result.tests if t.hidden]
        public = [t for t in result.tests if not t.hidden]
        assert len(hidden) == exercise.hidden_test_count and len(public) == len(exercise.public_tests)
        assert all(t.status == "passed" for t in result.tests)
        assert all(t.expected == "" and t.got == "" for t in hidden)
        assert all(t.got and (t.expected or not exercise.deterministic) for t in public)
        assert sum(t.max_score for t in result.tests) == pytest.approx(exercise.points)


@pytest.mark.parametrize("seed", [4, 5])
def test_alternative_implementations_score_full_marks(exercises, pool, seed: int) -> None:
    results = grade(ALTERNATIVES_PATH.read_bytes(), exercises, seed, pool)
    wrong = {name: r.feedback for name, r in results.items() if r.status != "correct"}
    assert wrong == {}


@pytest.mark.filterwarnings("ignore:var\\(\\)")
@pytest.mark.parametrize("seed", [6, 7])
def test_every_misconception_is_caught_and_tagged(exercises, pool, seed: int) -> None:
    depth = max(len(e.misconceptions) for e in exercises)
    for k in range(depth):
        chosen = [e for e in exercises if len(e.misconceptions) > k]
        source = HEADER + "\n\n".join(renamed_source(e.misconceptions[k].implementation, e.function) for e in chosen)
        results = grade(source, chosen, seed, pool)
        for exercise in chosen:
            misconception = exercise.misconceptions[k]
            result = results[exercise.function]
            assert result.score < result.max_score, (exercise.function, misconception.tag)
            assert result.misconception == misconception.tag, (exercise.function, result.misconception, misconception.tag)
            assert result.hint == misconception.feedback and misconception.feedback not in result.feedback
            tagged = [t for t in result.tests if t.misconception == misconception.tag]
            assert tagged and all(t.status == "failed" for t in tagged)


HOSTILE = {
    # an object that claims to equal anything
    "global_avg_pool": '''
def global_avg_pool(x):
    class Liar:
        def __eq__(self, other):
            return True
        def __ne__(self, other):
            return False
    return Liar()
''',
    # a str subclass that claims to equal anything, holding a wrong word
    "analogy": '''
def analogy(embeddings, vocab, a, b, c):
    class Word(str):
        def __eq__(self, other):
            return True
        __hash__ = str.__hash__
    return Word(a)
''',
    # a wrong answer, with the comparison functions patched at import (see below)
    "max_pool2d": '''
def max_pool2d(x, kernel_size, stride):
    return torch.zeros(x.shape[0], x.shape[1], (x.shape[2] - kernel_size) // stride + 1,
                       (x.shape[3] - kernel_size) // stride + 1, dtype=x.dtype)
''',
    # a forbidden call visible in the source
    "conv2d": '''
def conv2d(x, weight, bias=None, stride=1, padding=0):
    return F.conv2d(x, weight, bias, stride, padding)
''',
    # a forbidden call by a computed name: dynamic access, rejected by the scan
    "layer_norm": '''
def layer_norm(x, gamma, beta, eps=1e-5):
    function = getattr(F, "layer" + "_norm")
    return function(x, x.shape[-1:], gamma, beta, eps)
''',
    "patchify": '''
def patchify(images, patch_size):
    raise NotImplementedError
''',
    "relu_backward": '''
def relu_backward(dout, x):
    raise ValueError("boom: shapes do not match")
''',
}
PATCH_COMPARISONS = '''
torch.allclose = lambda *args, **kwargs: True
torch.isclose = lambda a, b, *args, **kwargs: torch.ones_like(a, dtype=torch.bool)
torch.equal = lambda *args, **kwargs: True
'''


@pytest.fixture(scope="module")
def hostile_results(exercises, solution_source, pool) -> dict[str, ItemResult]:
    text = replace_functions(solution_source.decode(), HOSTILE)
    text = replace_functions(text, {"lstm_cell": ""})  # deleted: missing
    return grade(text + PATCH_COMPARISONS, exercises, 8, pool)


def test_hostile_functions_score_zero_and_the_others_full_marks(exercises, hostile_results) -> None:
    broken = set(HOSTILE) | {"lstm_cell"}
    for exercise in exercises:
        result = hostile_results[exercise.function]
        if exercise.function in broken:
            assert result.score == 0.0, (exercise.function, result)
        else:
            assert result.status == "correct", (exercise.function, result.feedback)


def test_objects_claiming_equality_and_patched_comparisons_earn_nothing(hostile_results) -> None:
    for name in ("global_avg_pool", "analogy", "max_pool2d"):
        result = hostile_results[name]
        assert result.status in ("incorrect", "error"), (name, result.status)
        assert all(t.status != "passed" for t in result.tests), name


def test_forbidden_call_in_the_source_is_named(hostile_results) -> None:
    result = hostile_results["conv2d"]
    assert result.status == "forbidden"
    assert "F.conv2d" in result.feedback and "torch.nn.functional.conv2d" in result.feedback
    assert "line" in result.feedback
    assert all(t.status == "forbidden" and t.score == 0 for t in result.tests)


def test_forbidden_call_by_a_computed_name_is_named_with_its_line(hostile_results) -> None:
    result = hostile_results["layer_norm"]
    assert result.status == "forbidden"
    assert "getattr(F, 'layer' + '_norm')" in result.feedback and "computed" in result.feedback
    assert "line" in result.feedback


def test_missing_not_implemented_and_raising_functions(hostile_results) -> None:
    assert hostile_results["lstm_cell"].status == "missing"
    assert hostile_results["patchify"].status == "not-implemented"
    raising = hostile_results["relu_backward"]
    assert raising.status == "error"
    assert all(t.status == "error" and "boom" in t.message for t in raising.tests)


def test_syntax_error_costs_every_function_with_its_line(exercises, solution_source, pool) -> None:
    text = solution_source.decode()
    line = text.count("\n") + 2
    results = grade(text + "\ndef broken(:\n    pass\n", exercises, 1, pool)
    for result in results.values():
        assert (result.score, result.status) == (0.0, "error")
        assert f"line {line}" in result.feedback


def test_error_at_import_costs_every_function(exercises, solution_source, pool) -> None:
    results = grade(solution_source + b'\nraise RuntimeError("exercise.py refuses to load")\n', exercises, 1, pool)
    for result in results.values():
        assert (result.score, result.status) == (0.0, "error")
        assert "refuses to load" in result.feedback


@pytest.mark.parametrize(
    "source, status, words",
    [
        (b"   \n\n", "missing", "empty"),
        (b"def conv2d(x):\n    return '\xff'\n", "error", "UTF-8"),
        (b"#" * 1_000_001, "error", "too large"),
    ],
)
def test_unusable_files(exercises, pool, source: bytes, status: str, words: str) -> None:
    results = grade(source, exercises[:3], 1, pool)
    for result in results.values():
        assert (result.score, result.status) == (0.0, status) and words in result.feedback


def test_partial_credit_and_hidden_messages(by_function, pool) -> None:
    conv = by_function["conv2d"]
    forgot_padding = HEADER + renamed_source(conv.misconceptions[1].implementation, "conv2d")
    result = grade(forgot_padding, [conv], 3, pool)["conv2d"]
    passed = [t for t in result.tests if t.status == "passed"]
    assert result.status == "partial" and 0 < result.score < result.max_score
    assert result.score == pytest.approx(sum(t.max_score for t in passed))
    assert result.misconception == "forgot_padding"
    failed_public = [t for t in result.tests if not t.hidden and t.status == "failed"]
    failed_hidden = [t for t in result.tests if t.hidden and t.status == "failed"]
    assert failed_hidden
    for test in failed_hidden:
        assert test.expected == "" and test.got == ""
        assert not re.search(r"expected -?\d", test.message)
    for test in failed_public:
        assert "expected" in test.message or test.expected


def test_run_public_tests_runs_only_public_tests(exercises, solution_source, pool) -> None:
    results = run_public_tests(solution_source, exercises, pool)
    assert all(r.status == "correct" for r in results)
    for exercise, result in zip(exercises, results):
        assert [t.name for t in result.tests] == [t.name for t in exercise.public_tests]
        assert not any(t.hidden for t in result.tests)
