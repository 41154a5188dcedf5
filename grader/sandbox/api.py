"""The executor's public data types: limits, calls and their results.

Trusted side only.  Everything here is plain data; nothing in it is ever built from bytes
sent by the sandbox except through `grader.sandbox.codec.decode`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from grader.errors import GraderError
from grader.student_file import MAX_BYTES

CALL_STATUSES = (
    "ok",  # returned plain data; `value` holds it
    "error",  # raised; message: exception type + message + last traceback lines inside exercise.py
    "not-implemented",  # raised NotImplementedError
    "missing-function",  # exercise.py defines no callable of that name
    "timeout",  # over the per-call CPU or wall limit, or the submission ran out of time
    "memory",  # ran out of its address space (MemoryError or a failed tensor allocation)
    "forbidden",  # called a function named in Call.forbidden while running
    "bad-output",  # returned something that is not plain data, or too large
    "crashed",  # the process died during the call (exit, kill, signal)
)
"""Statuses of one call.  A call that never ran carries its submission's failure status."""

SUBMISSION_STATUSES = (
    "ok",  # exercise.py was imported; the calls carry their own statuses
    "syntax-error",  # exercise.py does not compile; message names the line
    "import-error",  # exercise.py raised at import (SystemExit included)
    "timeout",  # the import, or the whole submission, ran out of time
    "crashed",  # the process died at import, or the sandbox worker died
    "too-large",  # more than Limits.source_bytes
    "not-utf8",  # not valid UTF-8
    "empty",  # nothing but whitespace
)


class SandboxError(GraderError, RuntimeError):
    """The sandbox itself failed (a worker could not start, bwrap is unusable): not the
    student's doing, so it is raised instead of being reported as a verdict."""


@dataclass(frozen=True)
class Limits:
    """Resource limits of one submission.

    CPU limits are seconds of CPU time; a call (or the import of exercise.py) that sleeps
    or blocks is stopped after `wall_per_test` = 2 * cpu_per_test + 1 seconds of wall-clock
    time.  Byte sizes are bytes: `address_space` per process, `file_size` per file written,
    `output_bytes` kept of each of stdout and stderr, `result_bytes` per returned value,
    `results_total_bytes` for all values of a submission, `source_bytes` for exercise.py.
    `address_space` also caps the memory of all the processes of a submission together.
    `result_nodes` caps the parts (scalars, strings, containers, tensors) of one returned
    value and `results_total_nodes` those of all values of a submission.
    """

    cpu_per_test: float = 10.0
    cpu_per_submission: float = 60.0
    wall_per_submission: float = 90.0
    address_space: int = 2 * 1024**3
    processes: int = 64
    file_size: int = 16 * 1024**2
    output_bytes: int = 1024**2
    result_bytes: int = 64 * 1024**2
    source_bytes: int = MAX_BYTES  # grader.student_file: one limit for every student file
    results_total_bytes: int = 256 * 1024**2
    result_nodes: int = 200_000
    results_total_nodes: int = 1_000_000

    def __post_init__(self) -> None:
        for name in ("cpu_per_test", "cpu_per_submission", "wall_per_submission"):
            if not getattr(self, name) > 0:
                raise ValueError(f"Limits.{name} must be positive")
        for name in ("address_space", "processes", "file_size", "output_bytes", "result_bytes", "source_bytes",
                     "result_nodes", "results_total_nodes"):
            if getattr(self, name) < 1:
                raise ValueError(f"Limits.{name} must be at least 1")

    @property
    def wall_per_test(self) -> float:
        """Wall-clock limit of one call (and of the import)."""
        return 2 * self.cpu_per_test + 1

    @property
    def frame_tokens(self) -> int:
        """JSON structure (`[`, `{`, `,`) allowed in the header of one call's result, checked
        before it is parsed: a few per part of a value of `result_nodes` parts."""
        return 16 * self.result_nodes + 4096

    def to_json(self) -> dict[str, Any]:
        """The limits as a JSON object (sent to the sandbox worker)."""
        derived = {"wall_per_test": self.wall_per_test, "frame_tokens": self.frame_tokens}
        return {name: getattr(self, name) for name in self.__dataclass_fields__} | derived


@dataclass(frozen=True)
class Call:
    """One call of a function of exercise.py.

    `args`/`kwargs` are plain data (see `grader.sandbox.codec`); a `ModelSpec` among them
    reaches the student's function as the `torch.nn.Sequential` it builds.  `forbidden` lists
    qualified names whose call, while this call runs, makes its status "forbidden", and ATen
    ops (`aten::convolution`, or `autograd::engine`) that do the same (`harness.watch_ops`).
    """

    id: str
    function: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    forbidden: tuple[str, ...] = ()


@dataclass(frozen=True)
class CallResult:
    """The outcome of one Call; `value` is the decoded plain value when status == "ok"."""

    id: str
    status: str
    value: Any = None
    message: str = ""
    duration: float = 0.0
    forbidden_calls: tuple[str, ...] = ()


@dataclass(frozen=True)
class SubmissionResult:
    """The outcome of one submission: one CallResult per requested Call, always complete."""

    status: str
    message: str
    calls: dict[str, CallResult]
    stdout: str
    stderr: str
    duration: float
    isolation: str
