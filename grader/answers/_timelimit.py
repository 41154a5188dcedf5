"""Run a pure computation under a wall-clock budget, or not at all.

The budget is enforced with a one-shot ``ITIMER_REAL`` timer whose SIGALRM handler raises
inside the computation.  That is only possible on the main thread of a platform with
``signal.setitimer``, and only when no other real-time timer is armed (we never clobber
someone else's alarm).  Elsewhere the computation is *not run*: callers must have a
fallback that does not depend on it.

Budgets nest: a budget started inside another one (a symbolic check inside an answer's
budget inside a sheet's) ends at the earlier of the two deadlines; when the outer one is
the earlier, running out of time ends the outer computation, not only the inner one.
"""

from __future__ import annotations

import signal
import threading
import time
from typing import Callable, Sequence, TypeVar

T = TypeVar("T")
Item = TypeVar("Item")
Result = TypeVar("Result")

_deadlines: list[float] = []  # monotonic deadlines of the budgets being enforced, outermost first


class _OutOfTime(BaseException):
    """Raised by the alarm handler; a BaseException so library `except Exception` won't eat it."""


def _on_alarm(signum: int, frame: object) -> None:
    raise _OutOfTime()


def can_limit_time() -> bool:
    """Whether `run_with_budget` can enforce a budget here and now."""
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and (bool(_deadlines) or signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0))
    )


def _arm(deadline: float) -> None:
    signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), 1e-6))


def run_with_budget(compute: Callable[[], T], seconds: float) -> tuple[bool, T | None]:
    """``(True, compute())`` if it finished within `seconds`; ``(False, None)`` if it ran
    out of time, raised an ordinary exception, or could not be run under a budget."""
    if seconds <= 0 or not can_limit_time():
        return False, None
    outer = _deadlines[-1] if _deadlines else None
    deadline = time.monotonic() + seconds
    ours = outer is None or deadline < outer  # does our alarm, not the outer one, ring first?
    previous = signal.signal(signal.SIGALRM, _on_alarm) if outer is None else None
    _deadlines.append(deadline if ours else outer)  # type: ignore[arg-type]
    try:
        try:
            _arm(_deadlines[-1])
            try:
                result = compute()
            finally:
                if outer is None:
                    signal.setitimer(signal.ITIMER_REAL, 0)
                else:
                    _arm(outer)
            return True, result
        except _OutOfTime:
            if not ours or (outer is not None and time.monotonic() >= outer):
                raise  # the outer budget ran out: end its computation
            return False, None
        except Exception:
            return False, None
    finally:
        _deadlines.pop()
        if outer is None:
            signal.signal(signal.SIGALRM, previous)


# --- budgets for a sheet of answers (one per answer, one for the whole sheet) ---------------

ANSWER_SECONDS = 2.0
SHEET_SECONDS = 10.0


def over_answer_budget(seconds: float) -> str:
    return (f"This answer took more than {seconds:g} s to read and grade, so it was not graded; "
            "write it more simply (plain numbers).")


def over_sheet_budget(seconds: float) -> str:
    return (f"Not graded: the answers before it took the whole {seconds:g} s this answer sheet "
            "may take; write them more simply (plain numbers).")


def within_budget(
    items: Sequence[Item],
    work: Callable[[Item], Result],
    over: Callable[[Item, str], Result],
    *,
    answer_seconds: float = ANSWER_SECONDS,
    sheet_seconds: float = SHEET_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> tuple[list[Result], list[float]]:
    """`work(item)` for each item, in order, each within `answer_seconds` and all within
    `sheet_seconds`; an item over either budget gets `over(item, message)` instead.  Returns
    the results and the seconds each took.  An exception `work` raises is raised again."""
    results: list[Result] = []
    durations: list[float] = []
    deadline = clock() + sheet_seconds
    limited = can_limit_time()
    for item in items:
        start = clock()
        remaining = deadline - start
        if remaining <= 0:
            result = over(item, over_sheet_budget(sheet_seconds))
        elif not limited:
            result = work(item)
        else:
            budget = min(answer_seconds, remaining)
            raised: list[Exception] = []
            done, value = run_with_budget(lambda: _recording(work, item, raised), budget)
            if raised:
                raise raised[0]
            if done:
                result = value  # type: ignore[assignment]
            elif budget < answer_seconds:
                result = over(item, over_sheet_budget(sheet_seconds))
            else:
                result = over(item, over_answer_budget(answer_seconds))
        results.append(result)
        durations.append(clock() - start)
    return results, durations


def _recording(work: Callable[[Item], Result], item: Item, raised: list[Exception]) -> Result:
    try:
        return work(item)
    except Exception as error:  # run_with_budget swallows it; within_budget raises it again
        raised.append(error)
        raise
