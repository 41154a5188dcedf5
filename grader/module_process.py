"""Running one of the grader's modules in a process of its own: `python -P -m MODULE`.

-P: the current folder (maybe a student's submission) is not put first on sys.path, so no
file there can stand in for a standard-library module. PYTHONPATH names this copy of the
grader, so the process runs the same code as its parent, installed or not.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path


def module_command(module: str, *args: str) -> tuple[list[str], dict[str, str]]:
    """The command line and environment that run `python -P -m module args...`."""
    package_root = str(Path(__file__).resolve().parents[1])
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [package_root, os.environ.get("PYTHONPATH")])))
    return [sys.executable, "-P", "-m", module, *args], env
