"""The executor: runs untrusted exercise.py code in a sandbox and returns plain data.

Principle 3 of the design: untrusted code computes, the trusted process judges.  Student
code runs in warm sandbox workers (`ExecutorPool`) under bubblewrap where it exists and
rlimits always; only JSON and raw numeric bytes come back (`codec`), never pickle.

Importing this package is light: torch is imported only when the codec, ModelSpec or
`run_in_process` are first used, so a pool can start its workers (which import torch
inside the sandbox) while the trusted process is still importing its own.
"""

from __future__ import annotations

from typing import Any

from .api import Call, CallResult, Limits, SandboxError, SubmissionResult
from .isolation import SandboxWarning
from .mechanism import limits_mechanism
from .pool import ExecutorPool

__all__ = [
    "Call",
    "CallResult",
    "CodecError",
    "ExecutorPool",
    "Limits",
    "ModelSpec",
    "SandboxError",
    "SandboxWarning",
    "SubmissionResult",
    "decode",
    "encode",
    "limits_mechanism",
    "run_in_process",
]

_LAZY = {
    "CodecError": "codec",
    "ModelSpec": "codec",
    "encode": "codec",
    "decode": "codec",
    "run_in_process": "inprocess",
}


def __getattr__(name: str) -> Any:
    module_name = _LAZY.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module_name}"), name)
    globals()[name] = value
    return value
