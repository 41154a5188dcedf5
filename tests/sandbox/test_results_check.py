"""The judge's check of a job's call frames (`results.Events.check`): done in one go after
the run, or in several as frames arrive (`pool.DEFERRED_BYTES`), the submission's caps on
all its values are one budget."""

from __future__ import annotations

import torch

from grader.sandbox import Limits, codec
from grader.sandbox.results import Events


def _frame(value: torch.Tensor) -> tuple[dict, list[bytes]]:
    header, buffers = codec.encode(value)
    return {"ev": "call", "status": "ok", "value": header}, buffers


def _statuses(goes: list[list[int]]) -> list[str]:
    limits = Limits(result_bytes=10_000, results_total_bytes=20_000)
    events = Events()
    frames = [_frame(torch.full((1000,), float(i), dtype=torch.float64)) for i in range(3)]  # 8 000 bytes each
    for go in goes:
        for index in go:
            events.frames[index] = frames[index]
        events.check(limits)
    assert not events.frames
    return [events.calls[i].status for i in range(3)]


def test_the_total_cap_holds_across_checks():
    in_one_go = _statuses([[0, 1, 2]])
    assert in_one_go == ["ok", "ok", "bad-output"]  # 24 000 bytes against 20 000
    assert _statuses([[0, 1], [2]]) == in_one_go
    assert _statuses([[0], [1], [2]]) == in_one_go


def test_checked_values_are_the_values_sent():
    events = Events()
    events.frames[0] = _frame(torch.arange(6.0).reshape(2, 3))
    events.check(Limits())
    assert torch.equal(events.calls[0].value, torch.arange(6.0).reshape(2, 3))


def test_the_total_parts_cap_holds_on_the_judges_side_too():
    # the worker refuses values past the submission's parts, and the judge checks again
    limits = Limits(result_nodes=1_000, results_total_nodes=2_500)
    events = Events()
    for index in range(4):
        header, buffers = codec.encode(list(range(999)))  # 1 000 parts with its list
        events.frames[index] = ({"ev": "call", "status": "ok", "value": header}, buffers)
    events.check(limits)
    assert [events.calls[i].status for i in range(4)] == ["ok", "ok", "bad-output", "bad-output"]
    assert events.calls[2].message == "the submission's values have more than 2500 parts in total"
    assert events.calls[1].value == list(range(999))
