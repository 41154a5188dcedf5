"""Turning what a sandbox worker reported into a SubmissionResult.

Trusted side.  The worker's messages are treated as untrusted: statuses are checked
against the known lists, strings and numbers are type-checked and clipped, values are
decoded by `codec.decode` with its caps on bytes and parts (per value and for the whole
submission) as each call's frame arrives (`Budget`, `checked_call`: only decoded values
are kept, never the parsed frames), and every requested call gets a result.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .api import CALL_STATUSES, SUBMISSION_STATUSES, Call, CallResult, Limits, SubmissionResult

MESSAGE_CHARS = 4000


@dataclass
class Budget:
    """What is left of a submission's caps on the bytes and parts of all its values."""

    value_bytes: int
    nodes: int


@dataclass
class Events:
    """What one worker said about one job.  `frames`: each call's frame as it came, index
    -> (header, buffers); `calls`: the same calls checked (`check`, done by `assemble`).
    `lost` is set (status, message) when the worker died or stopped answering before it
    was done."""

    load: tuple[str, str] | None = None
    frames: dict[int, tuple[dict[str, Any], list[bytes]]] = field(default_factory=dict)
    calls: dict[int, CallResult] = field(default_factory=dict)
    done: tuple[dict[str, Any], list[bytes]] | None = None
    lost: tuple[str, str] | None = None
    budget: Budget | None = None  # the submission's, from the first check on

    def check(self, limits: Limits) -> None:
        """`checked_call` the frames kept so far, in call order, against one budget for
        the submission (frames arrive in call order: checking in several goes is the same)."""
        if self.budget is None:
            self.budget = Budget(limits.results_total_bytes, limits.results_total_nodes)
        for index in sorted(self.frames):
            header, buffers = self.frames[index]
            self.calls[index] = checked_call(header, buffers, limits, self.budget)
        self.frames.clear()


def _text(value: Any) -> str:
    return value[:MESSAGE_CHARS] if type(value) is str else ""


def _output(buffers: list[bytes], index: int, cap: int) -> str:
    if index >= len(buffers):
        return ""
    return buffers[index][:cap].decode("utf-8", "replace")


def failed_submission(calls: Sequence[Call], status: str, message: str, isolation: str, duration: float,
                      stdout: str = "", stderr: str = "") -> SubmissionResult:
    """A submission none of whose calls ran: each carries the submission's status."""
    results = {call.id: CallResult(call.id, status, message=message) for call in calls}
    return SubmissionResult(status, message, results, stdout, stderr, duration, isolation)


def checked_call(header: dict[str, Any], buffers: list[bytes], limits: Limits, budget: Budget) -> CallResult:
    """One call's outcome from its frame (its id is filled in by `assemble`); the value is
    decoded within the per-value caps and what is left of `budget`."""
    from . import codec

    status = header.get("status")
    message = _text(header.get("message"))
    if status not in CALL_STATUSES:
        status, message = "error", "the sandbox reported an unknown status"
    duration = header.get("duration")
    duration = float(duration) if type(duration) in (int, float) and math.isfinite(duration) and duration >= 0 else 0.0
    forbidden = header.get("forbidden")
    forbidden_calls = tuple(_text(name) for name in forbidden[:50]) if type(forbidden) is list else ()
    value = None
    if status == "ok":
        budget.value_bytes -= sum(len(b) for b in buffers)
        if budget.value_bytes < 0:
            status, message = "bad-output", f"the submission's values exceed {limits.results_total_bytes} bytes in total"
        else:
            cap = max(0, min(limits.result_nodes, budget.nodes))
            try:
                value, nodes = codec.decode_counted(header.get("value"), buffers, max_bytes=limits.result_bytes,
                                                    max_nodes=cap)
                budget.nodes -= nodes
            except codec.CodecError as error:
                status = "bad-output"
                message = _text(codec.total_parts_message(error, cap, limits.result_nodes, limits.results_total_nodes))
    elif status == "forbidden" and not forbidden_calls:
        forbidden_calls = ("a function that is not allowed",)
    return CallResult("", status, value, message, duration, forbidden_calls)


def assemble(calls: Sequence[Call], events: Events, limits: Limits, isolation: str, duration: float) -> SubmissionResult:
    """The SubmissionResult for a job, from the worker's events (its call frames checked
    here: the pool assembles once the worker is free for its next job)."""
    events.check(limits)
    status, message = "ok", ""
    stdout = stderr = ""
    if events.load is not None and events.load[0] != "ok":
        status, message = events.load
    if events.done is not None:
        header, buffers = events.done
        reported = header.get("status")
        if status == "ok" and reported in SUBMISSION_STATUSES:
            status, message = reported, _text(header.get("message"))
        stdout = _output(buffers, 0, limits.output_bytes)
        stderr = _output(buffers, 1, limits.output_bytes)
    elif events.lost is not None:
        status, message = events.lost
    if status not in SUBMISSION_STATUSES:
        status, message = "crashed", "the sandbox reported an unknown status"
    results: dict[str, CallResult] = {}
    for index, call in enumerate(calls):
        reported_call = events.calls.get(index)
        if reported_call is not None:
            results[call.id] = dataclasses.replace(reported_call, id=call.id)
        else:
            missing = status if status != "ok" else "crashed"
            results[call.id] = CallResult(call.id, missing, message=message or "the call did not run")
    return SubmissionResult(status, message, results, stdout, stderr, duration, isolation)
