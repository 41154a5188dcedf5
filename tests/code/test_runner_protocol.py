"""The judge's `Runner` protocol: who satisfies it, and that the judge runs a submission
through whichever runner it is given."""

from __future__ import annotations

import inspect
from typing import Sequence

from grader.code.check import _BackgroundPool
from grader.code.exercise import CodeExercise, TestCase
from grader.code.judge import Runner, grade_code_submission
from grader.gradebook.backend import NoSandbox
from grader.kit.runner import run_calls
from grader.sandbox import Call, ExecutorPool, SubmissionResult, run_in_process

SOURCE = "def double(x):\n    return 2 * x\n"


def _double() -> CodeExercise:
    return CodeExercise(
        id="toy_double", title="Double", section=1, function="double",
        signature="def double(x):", docstring="Return 2 * x.", reference=lambda x: 2 * x,
        public_tests=(TestCase("one", (1.5,)),),
        hidden_tests=lambda rng: [TestCase(f"v{i}", (float(rng.standard_normal()),)) for i in range(3)],
    )


def test_pools_are_runners_and_run_in_process_is_a_run_function() -> None:
    for pool_class in (ExecutorPool, _BackgroundPool, NoSandbox):
        assert issubclass(pool_class, Runner), pool_class
        inspect.signature(pool_class.run).bind(object(), b"source", [])  # (self, source, calls)
    assert not isinstance(run_in_process, Runner)
    inspect.signature(run_in_process).bind(b"source", [])
    inspect.signature(run_calls).bind("source", [])  # the kit's CallRunner


class Recording:
    """A Runner that runs in this process and remembers what it was asked to run."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, ...]] = []

    def run(self, source: bytes | str, calls: Sequence[Call]) -> SubmissionResult:
        self.seen.append(tuple(c.id for c in calls))
        return run_in_process(source, calls)


def test_the_judge_runs_the_submission_through_the_runner_it_is_given() -> None:
    exercise = _double()
    recording = Recording()
    assert isinstance(recording, Runner)
    (item,) = grade_code_submission(SOURCE, [exercise], {"toy_double": 4}, recording)
    hidden = [t.name for t in exercise.draw_hidden_tests(4)]
    assert recording.seen == [("double/public/one", *(f"double/hidden/{n}" for n in hidden))]
    assert item.status == "correct" and item.score == item.max_score

    called: list[int] = []

    def function(source: bytes | str, calls: Sequence[Call]) -> SubmissionResult:
        called.append(len(calls))
        return run_in_process(source, calls)

    (item,) = grade_code_submission("def double(x):\n    return x\n", [exercise], {"toy_double": 4}, function)
    assert called == [4] and item.status == "incorrect" and item.score == 0.0
