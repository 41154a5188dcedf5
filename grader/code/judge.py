"""The trusted judge of code submissions (docs/design.md, principle 3).

Student code only computes, in the sandbox; this module, in the grader's own process:
builds the calls (public tests, and hidden tests drawn from each exercise's seed), parses
the source to find functions and not-allowed calls (parse only, never execute), computes
every expected output with `reference/`, compares the returned values, and names the
misconception a wrong output matches.  A verdict depends only on the values the student's
functions return.

Item statuses: correct, partial, incorrect, error, timeout, memory, forbidden, crashed,
not-implemented, missing.  Test statuses: passed, failed, and the sandbox's call statuses
(error, timeout, memory, forbidden, bad-output, crashed, not-implemented, missing).
"""

from __future__ import annotations

import ast
import threading
import warnings
from collections import Counter
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping, Protocol, Sequence, Union, runtime_checkable

import torch

from grader.code.compare import compare_outputs, describe, first_difference
from grader.code.exercise import CodeExercise, Compare, TestCase, Tolerance, Verdict
from grader.code.dynamic import DynamicScan
from grader.code.scan import ForbiddenIndex, ForbiddenUse, ModuleScan
from grader.code.source import check_source
from grader.results import ItemResult, TestOutcome
from grader.sandbox import Call, ModelSpec, SubmissionResult
from grader.torch_threads import one_thread

_MESSAGE_LIMIT = 300


@runtime_checkable
class Runner(Protocol):
    """What runs a submission in isolation: `grader.sandbox.ExecutorPool` (and what stands
    for one: `grader.code.check`'s background pool, the gradebook's `NoSandbox`).  While it
    runs, the judge computes the expected outputs in this process."""

    def run(self, source: bytes | str, calls: Sequence[Call]) -> SubmissionResult: ...


class RunFunction(Protocol):
    """A function that runs a submission in this process, like
    `grader.sandbox.run_in_process` (no isolation; the reference runs after it)."""

    def __call__(self, source: bytes | str, calls: Sequence[Call]) -> SubmissionResult: ...


# What the judge's entry points accept: a Runner, a RunFunction, or None for run_in_process.
AnyRunner = Union[Runner, RunFunction, None]


@dataclass(frozen=True)
class PlannedTest:
    """One test of one exercise, with the id of its sandbox call."""

    exercise: CodeExercise
    test: TestCase
    call_id: str


def comparison_for(exercise: CodeExercise) -> Compare:
    """The comparison of `exercise`'s outputs: its custom one, or the default value
    comparison (`grader.code.compare.compare_outputs`, its outputs' names in messages)."""
    if exercise.compare is not None:
        return exercise.compare
    names = exercise.outputs

    def default(test: TestCase, expected: Any, got: Any, tol: Tolerance, reveal: bool) -> Verdict:
        return compare_outputs(expected, got, tol, reveal=reveal, names=names)

    return default


def materialize(value: Any) -> Any:
    """A private copy of test data for trusted code: tensors cloned, `ModelSpec`s built."""
    if isinstance(value, torch.Tensor):
        return value.clone()
    if isinstance(value, tuple):
        return tuple(materialize(v) for v in value)
    if isinstance(value, list):
        return [materialize(v) for v in value]
    if isinstance(value, dict):
        return {k: materialize(v) for k, v in value.items()}
    if isinstance(value, ModelSpec):
        return value.build()
    return value


def run_trusted(function: Callable[..., Any], test: TestCase) -> Any:
    """`function(*args, **kwargs)` on private copies of the test's inputs."""
    return function(*materialize(test.args), **materialize(test.kwargs))


def _plan(exercises: Sequence[CodeExercise], seeds: Mapping[str, int] | None, public: bool) -> list[PlannedTest]:
    planned: list[PlannedTest] = []
    for exercise in exercises:
        tests: list[TestCase] = list(exercise.public_tests) if public else []
        if seeds is not None:
            seed = seeds.get(exercise.id, seeds.get(exercise.function))
            if seed is None:
                raise KeyError(f"no seed for exercise {exercise.id!r}")
            tests.extend(exercise.draw_hidden_tests(int(seed)))
        planned.extend(PlannedTest(exercise, t, _call_id(exercise, t)) for t in tests)
    return planned


def _call_id(exercise: CodeExercise, test: TestCase) -> str:
    return f"{exercise.function}/{'hidden' if test.hidden else 'public'}/{test.name}"


_PUBLIC_EXPECTED: dict[tuple[int, str], tuple[CodeExercise, Any]] = {}


def expected_output(exercise: CodeExercise, test: TestCase) -> Any:
    """The reference output of one test (public tests' outputs are cached per process)."""
    if test.hidden:
        return run_trusted(exercise.reference, test)
    key = (id(exercise), test.name)
    cached = _PUBLIC_EXPECTED.get(key)
    if cached is None or cached[0] is not exercise:
        cached = (exercise, run_trusted(exercise.reference, test))
        _PUBLIC_EXPECTED[key] = cached
    return cached[1]


def _run(pool: AnyRunner, source: bytes | str, calls: list[Call]) -> SubmissionResult:
    if pool is None:
        from grader.sandbox import run_in_process

        return run_in_process(source, calls)
    if isinstance(pool, Runner):
        return pool.run(source, calls)
    return pool(source, calls)


def grade_code_submission(
    source: bytes | str,
    exercises: Sequence[CodeExercise],
    seeds: Mapping[str, int],
    pool: AnyRunner,
) -> list[ItemResult]:
    """Grade one `exercise.py` on the public tests and on the hidden tests drawn from
    `seeds` (exercise id, or function name -> seed).  One ItemResult per exercise, in order,
    named after the function.  Hidden TestOutcomes (hidden=True) carry no expected values;
    public ones store expected and got."""
    with one_thread():
        return grade_tests(source, _plan(exercises, seeds, public=True), exercises, pool)


def run_public_tests(source: bytes | str, exercises: Sequence[CodeExercise], pool: AnyRunner) -> list[ItemResult]:
    """Run only the public tests (what `grader check` does)."""
    return grade_tests(source, _plan(exercises, None, public=True), exercises, pool)


def grade_tests(
    source: bytes | str, planned: Sequence[PlannedTest], exercises: Sequence[CodeExercise], pool: AnyRunner
) -> list[ItemResult]:
    """Run the planned tests of a submission and judge every exercise."""
    with one_thread():
        return _grade_tests(source, planned, exercises, pool)


def _grade_tests(
    source: bytes | str, planned: Sequence[PlannedTest], exercises: Sequence[CodeExercise], pool: AnyRunner
) -> list[ItemResult]:
    checked = check_source(source, compile_check=False)  # the sandbox compiles it anyway
    if checked.tree is None:
        return [_whole_file_failure(e, planned, checked.error_status, checked.error) for e in exercises]
    scan = ModuleScan(checked.tree)
    bindings = scan.bindings
    violations = find_violations(checked.tree, exercises, scan)
    # Exercises with rules run first: the body of a function without rules is not scanned,
    # and run before them in the same process it could mute the in-sandbox lines and
    # plant a not-allowed computation behind an allowed name.
    allowed = [p for p in planned if not violations.get(p.exercise.function)]
    to_run = sorted(allowed, key=lambda p: not has_rules(p.exercise))
    calls = [
        Call(p.call_id, p.exercise.function, p.test.args, p.test.kwargs, forbidden=_watched(p.exercise))
        for p in to_run
    ]
    holder: dict[str, Any] = {}

    def execute() -> None:
        try:
            holder["result"] = _run(pool, source, calls)
        except BaseException as error:  # re-raised in the calling thread
            holder["error"] = error

    # With an isolated pool, the sandbox runs while this thread computes the expected
    # outputs.  In-process runners watch for forbidden calls process-wide, so the reference
    # (fgsm uses autograd) must not run beside them.
    overlap = bool(calls) and isinstance(pool, Runner)
    worker = threading.Thread(target=execute, name="grader-submission", daemon=True)
    if overlap:
        worker.start()
    try:
        expected = {p.call_id: expected_output(p.exercise, p.test) for p in to_run}
    finally:
        if overlap:
            worker.join()
    if calls and not overlap:
        execute()
    if "error" in holder:
        raise holder["error"]
    result = holder.get("result")
    if result is not None and result.status != "ok":
        status, message = _submission_failure(result)
        return [_whole_file_failure(e, planned, status, message) for e in exercises]
    results: list[ItemResult] = []
    for exercise in exercises:
        mine = [p for p in planned if p.exercise is exercise]
        if violations.get(exercise.function):
            results.append(_forbidden_item(exercise, mine, violations[exercise.function]))
            continue
        outcomes = [_judge_test(p, expected[p.call_id], result.calls.get(p.call_id)) for p in mine]
        results.append(_item(exercise, outcomes, present=exercise.function in bindings))
    return results


def find_violations(
    tree: ast.Module, exercises: Sequence[CodeExercise], scan: ModuleScan | None = None
) -> dict[str, list[ForbiddenUse]]:
    """What the trusted static scan rejects, per function of an exercise with rules: the
    not-allowed names it refers to (`ModuleScan.forbidden_uses`) and any dynamic access in
    it, its helpers or the code run at import (`grader.code.dynamic`).  Exercises without
    rules are not listed."""
    scan = scan or ModuleScan(tree)
    dynamic: DynamicScan | None = None
    found: dict[str, list[ForbiddenUse]] = {}
    for exercise in exercises:
        if not has_rules(exercise):
            continue
        dynamic = dynamic or DynamicScan(tree, scan)
        uses = scan.forbidden_uses(exercise.function, _index_for(exercise)) + dynamic.uses(exercise.function)
        found[exercise.function] = sorted(uses, key=lambda u: (u.line, u.name))
    return found


def has_rules(exercise: CodeExercise) -> bool:
    """Whether the exercise forbids library calls (names or ATen ops)."""
    return bool(exercise.forbidden or exercise.forbidden_ops)


def _watched(exercise: CodeExercise) -> tuple[str, ...]:
    """What the sandbox watches during a call: the forbidden names, then the ATen ops."""
    return exercise.forbidden + exercise.forbidden_ops


_INDEXES: dict[int, tuple[CodeExercise, ForbiddenIndex]] = {}


def _index_for(exercise: CodeExercise) -> ForbiddenIndex:
    from grader.code.exercise import resolve_qualified_name

    cached = _INDEXES.get(id(exercise))
    if cached is None or cached[0] is not exercise:
        objects = {name: resolve_qualified_name(name) for name in exercise.forbidden}
        cached = (exercise, ForbiddenIndex(exercise.forbidden, objects))
        _INDEXES[id(exercise)] = cached
    return cached[1]


# ----------------------------------------------------------------------- one test


@dataclass
class _Judged:
    planned: PlannedTest
    status: str
    message: str
    misconception: str | None = None
    expected: str = ""
    got: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "passed"


_CALL_MESSAGES = {
    "not-implemented": "raises NotImplementedError (not written yet)",
    "missing-function": "the function is not defined in exercise.py",
    "timeout": "took too long (time limit exceeded)",
    "memory": "used too much memory",
    "crashed": "the process running it crashed",
}


def _judge_test(planned: PlannedTest, expected: Any, call: Any) -> _Judged:
    exercise, test = planned.exercise, planned.test
    reveal = not test.hidden
    if call is None:
        return _Judged(planned, "crashed", "no result came back (the sandbox stopped before this test)")
    status = call.status
    if status == "ok":
        got = call.value
        try:
            verdict = comparison_for(exercise)(test, expected, got, exercise.tolerance, reveal)
        except Exception as error:  # a comparison must never crash the batch
            verdict = Verdict(False, f"the output could not be compared ({type(error).__name__})")
        focus = first_difference(expected, got, exercise.tolerance) if reveal and not verdict.ok else None
        shown = {"got": describe(got, focus=focus)} if reveal else {}
        if reveal and exercise.deterministic:
            shown["expected"] = describe(expected, focus=focus)
        if verdict.ok:
            return _Judged(planned, "passed", "", **shown)
        tag = _matching_misconception(exercise, test, got)
        return _Judged(planned, "failed", _clip(verdict.message), tag, **shown)
    if status == "forbidden":
        names = ", ".join(getattr(call, "forbidden_calls", ()) or ()) or "a not-allowed function"
        return _Judged(planned, "forbidden", f"called {names}, which is not allowed in {exercise.function}")
    if status == "missing-function":
        return _Judged(planned, "missing", _CALL_MESSAGES[status])
    if status in _CALL_MESSAGES:
        detail = _clip(call.message) if status == "crashed" and call.message else ""
        text = _CALL_MESSAGES[status] + (f": {detail}" if detail else "")
        return _Judged(planned, status, text)
    if status == "bad-output":
        return _Judged(planned, "bad-output", _clip(f"returned a value that is not plain data: {call.message}"))
    return _Judged(planned, "error", _clip(f"raised {call.message}" if call.message else "raised an exception"))


def _matching_misconception(exercise: CodeExercise, test: TestCase, got: Any) -> str | None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # buggy implementations warn (var with N=1, ...)
        return _first_match(exercise, test, got)


def _first_match(exercise: CodeExercise, test: TestCase, got: Any) -> str | None:
    compare = comparison_for(exercise)
    for misconception in exercise.misconceptions:
        if misconception.matches is not None:
            try:
                if misconception.matches(test, got, exercise.tolerance):
                    return misconception.tag
            except Exception:
                continue
            continue
        try:
            wrong = run_trusted(misconception.implementation, test)
        except Exception:
            continue  # the mistake does not apply to these inputs
        try:
            if compare(test, wrong, got, exercise.tolerance, False).ok:
                return misconception.tag
        except Exception:
            continue
    return None


def _clip(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= _MESSAGE_LIMIT else text[: _MESSAGE_LIMIT - 3] + "..."


# ----------------------------------------------------------------------- one item


def _test_max(exercise: CodeExercise, tests: Sequence[TestCase]) -> list[float]:
    total = sum(t.points for t in tests) or 1.0
    return [exercise.points * t.points / total for t in tests]


def _outcomes(exercise: CodeExercise, judged: Sequence[_Judged]) -> tuple[TestOutcome, ...]:
    maxima = _test_max(exercise, [j.planned.test for j in judged])
    return tuple(
        TestOutcome(
            name=j.planned.test.name,
            score=m if j.passed else 0.0,
            max_score=m,
            status=j.status,
            message=j.message,
            hidden=j.planned.test.hidden,
            misconception=j.misconception,
            expected=j.expected,
            got=j.got,
        )
        for j, m in zip(judged, maxima)
    )


def _item(exercise: CodeExercise, judged: list[_Judged], *, present: bool) -> ItemResult:
    outcomes = _outcomes(exercise, judged)
    points = exercise.points
    statuses = {j.status for j in judged}
    if "forbidden" in statuses:
        first = next(j for j in judged if j.status == "forbidden")
        return _zero(exercise, outcomes, "forbidden", f"{exercise.function} {first.message}; it scores 0.")
    if statuses == {"missing"} or (not judged and not present):
        return _zero(exercise, outcomes, "missing", f"{exercise.function} is not defined in exercise.py.")
    if statuses == {"not-implemented"}:
        return _zero(exercise, outcomes, "not-implemented", f"{exercise.function} still raises NotImplementedError.")
    score = round(sum(o.score for o in outcomes), 6)
    fraction = score / points if points else 0.0
    failing = [j for j in judged if not j.passed]
    tag = _most_frequent_tag(failing)
    if not failing:
        return ItemResult(exercise.function, points, points, "correct", "The test passed." if len(judged) == 1 else f"All {len(judged)} tests passed.", tests=outcomes)
    if fraction > 0:
        status = "partial"
    elif any(j.status == "failed" for j in failing):
        status = "incorrect"
    else:
        status = next(
            (s for s in ("timeout", "memory", "crashed", "not-implemented", "missing") if s in statuses), "error"
        )
    feedback = _item_feedback(judged, failing)
    hint = next(m.feedback for m in exercise.misconceptions if m.tag == tag) if tag else ""
    return ItemResult(exercise.function, score, points, status, feedback, tag, tests=outcomes, hint=hint)


def _most_frequent_tag(failing: Sequence[_Judged]) -> str | None:
    counts = Counter(j.misconception for j in failing if j.misconception)
    if not counts:
        return None
    order = [j.misconception for j in failing if j.misconception]
    best = max(counts.values())
    return next(tag for tag in order if counts[tag] == best)


def _item_feedback(judged: Sequence[_Judged], failing: Sequence[_Judged]) -> str:
    first = failing[0]
    return f"{len(failing)} of {len(judged)} tests failed; first: {first.planned.test.name}: {first.message}"


def _zero(exercise: CodeExercise, outcomes: tuple[TestOutcome, ...], status: str, feedback: str) -> ItemResult:
    zeroed = tuple(replace(o, score=0.0) for o in outcomes)
    return ItemResult(exercise.function, 0.0, exercise.points, status, feedback, tests=zeroed)


def _forbidden_item(exercise: CodeExercise, planned: Sequence[PlannedTest], uses: Sequence[Any]) -> ItemResult:
    names = "; ".join(u.describe() for u in uses[:3])
    message = f"uses {names}, which is not allowed in {exercise.function}"
    judged = [_Judged(p, "forbidden", message) for p in planned]
    return _zero(exercise, _outcomes(exercise, judged), "forbidden", f"{exercise.function} {message}; it scores 0.")


def _whole_file_failure(exercise: CodeExercise, planned: Sequence[PlannedTest], status: str, message: str) -> ItemResult:
    judged = [_Judged(p, status, message) for p in planned if p.exercise is exercise]
    return _zero(exercise, _outcomes(exercise, judged), status, message)


def _submission_failure(result: Any) -> tuple[str, str]:
    message = _clip(result.message or result.status)
    status = {
        "syntax-error": "error",
        "import-error": "error",
        "timeout": "timeout",
        "crashed": "crashed",
        "empty": "missing",
    }.get(result.status, "error")
    prefix = {
        "import-error": "exercise.py fails when it is imported: ",
        "timeout": "exercise.py took too long to import: ",
        "crashed": "the process running exercise.py crashed: ",
    }.get(result.status, "")
    return status, prefix + message
