"""run_in_process: exercise.py and its calls in the current process, without any isolation.

The floor for overhead benchmarks and a convenience for trusted code (the instructor's
solution).  Same statuses and values as the sandbox on well-behaved code: arguments and
values go through the codec both ways, ModelSpecs are built, forbidden calls are watched,
each call is seeded from its id.  No limit is enforced; never use it for student code.
"""

from __future__ import annotations

import contextlib
import io
import random
import sys
import time
from collections.abc import Sequence

import numpy as np
import torch

from . import codec, harness
from .api import Call, CallResult, Limits, SubmissionResult
from .pool import _check_calls
from .results import failed_submission
from .source import check_source


class _BoundedText(io.StringIO):
    """A text sink that keeps its first `cap` characters."""

    def __init__(self, cap: int) -> None:
        super().__init__()
        self.cap = cap

    def write(self, text: str) -> int:
        room = self.cap - self.tell()
        if room > 0:
            super().write(text[:room])
        return len(text)


@contextlib.contextmanager
def _private_state(cap: int):
    """Captured stdout/stderr, and the RNG states and `sys.modules['exercise']` put back."""
    saved_module = sys.modules.get(harness.MODULE_NAME)
    python_state, numpy_state = random.getstate(), np.random.get_state()
    out, err = _BoundedText(cap), _BoundedText(cap)
    try:
        with torch.random.fork_rng(devices=[]), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            yield out, err
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        if saved_module is None:
            sys.modules.pop(harness.MODULE_NAME, None)
        else:
            sys.modules[harness.MODULE_NAME] = saved_module


def run_in_process(source: bytes | str, calls: Sequence[Call], limits: Limits = Limits()) -> SubmissionResult:
    """Run `calls` of exercise.py `source` here, unisolated (isolation "none")."""
    started = time.perf_counter()
    calls = tuple(calls)
    _check_calls(calls)
    checked = check_source(source, limits.source_bytes)
    if checked.text is None:
        return failed_submission(calls, checked.status, checked.message, "none", time.perf_counter() - started)
    forbidden = tuple(name for call in calls for name in call.forbidden)
    guard = harness.ForbiddenGuard(forbidden)
    guard.install()
    try:
        with _private_state(limits.output_bytes) as (out, err), harness.op_watch_key(forbidden):
            loaded = harness.load(checked.text)
            results: dict[str, CallResult] = {}
            if loaded.module is not None:
                for call in calls:
                    results[call.id] = _run_one(loaded.module, call, guard, limits)
    finally:
        guard.uninstall()
    duration = time.perf_counter() - started
    if loaded.module is None:
        return failed_submission(calls, loaded.status, loaded.message, "none", duration, out.getvalue(), err.getvalue())
    return SubmissionResult("ok", "", results, out.getvalue(), err.getvalue(), duration, "none")


def _run_one(module: object, call: Call, guard: harness.ForbiddenGuard, limits: Limits) -> CallResult:
    header, buffers = codec.encode((tuple(call.args), dict(call.kwargs)))
    spec = {"id": call.id, "function": call.function, "forbidden": list(call.forbidden)}
    started = time.perf_counter()
    outcome = harness.run_call(module, spec, header, buffers, guard, limits.result_bytes)
    duration = time.perf_counter() - started
    value = None
    status, message = outcome.status, outcome.message
    if status == "ok":
        try:
            value = codec.decode(outcome.header, outcome.buffers, max_bytes=limits.result_bytes)
        except codec.CodecError as error:
            status, message = "bad-output", str(error)
    return CallResult(call.id, status, value, message, duration, outcome.forbidden_calls)
