"""`freeze_long_lived`: what it exempts from collection is alive, never garbage (a process
that grades several batches freezes once per batch)."""

from __future__ import annotations

import gc
import weakref

from grader.heap import freeze_long_lived


class _Node:
    def __init__(self) -> None:
        self.partner: _Node | None = None


def test_cyclic_garbage_of_an_earlier_batch_is_not_frozen_for_ever() -> None:
    gc.disable()  # no automatic collection before the freeze
    try:
        first, second = _Node(), _Node()
        first.partner, second.partner = second, first  # a cycle: only the collector frees it
        alive = weakref.ref(first)
        del first, second
        freeze_long_lived()
        gc.collect()
        assert alive() is None
    finally:
        gc.unfreeze()
        gc.enable()
