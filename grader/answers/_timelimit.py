"""Run a pure computation under a wall-clock budget, or not at all.

The budget is enforced with a one-shot ``ITIMER_REAL`` timer whose SIGALRM handler raises
inside the computation.  That is only possible on the main thread of a platform with
``signal.setitimer``, and only when no other real-time timer is armed (we never clobber
someone else's alarm).  Elsewhere the computation is *not run*: callers must have a
fallback that does not depend on it.
"""

from __future__ import annotations

import signal
import threading
from typing import Callable, TypeVar

T = TypeVar("T")


class _OutOfTime(BaseException):
    """Raised by the alarm handler; a BaseException so library `except Exception` won't eat it."""


def can_limit_time() -> bool:
    """Whether `run_with_budget` can enforce a budget here and now."""
    return (
        hasattr(signal, "setitimer")
        and threading.current_thread() is threading.main_thread()
        and signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)
    )


def run_with_budget(compute: Callable[[], T], seconds: float) -> tuple[bool, T | None]:
    """``(True, compute())`` if it finished within `seconds`; ``(False, None)`` if it ran
    out of time, raised an ordinary exception, or could not be run under a budget."""
    if seconds <= 0 or not can_limit_time():
        return False, None

    def on_alarm(signum: int, frame: object) -> None:
        raise _OutOfTime()

    previous = signal.signal(signal.SIGALRM, on_alarm)
    try:
        signal.setitimer(signal.ITIMER_REAL, seconds)
        try:
            return True, compute()
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _OutOfTime:
        return False, None
    except Exception:
        return False, None
    finally:
        signal.signal(signal.SIGALRM, previous)
