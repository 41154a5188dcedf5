"""`grader.torch_threads`: the one torch single-thread guard."""

from __future__ import annotations

import ast
import subprocess
import sys
import threading
from pathlib import Path

import torch

import grader
from grader.kit import KIT_MODULES
from grader.torch_threads import one_thread, single_thread

GRADER = Path(grader.__file__).parent
# The sandbox cannot import the grader's packages (they are not mounted in it).
OWN_LINE = {"torch_threads.py", "sandbox/harness.py"}


def _restore(threads: int) -> None:
    torch.set_num_threads(threads)


def test_one_thread_inside_the_block_and_the_setting_back_after() -> None:
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(3)
        with one_thread():
            assert torch.get_num_threads() == 1
            with one_thread():  # nested
                assert torch.get_num_threads() == 1
            assert torch.get_num_threads() == 1
        assert torch.get_num_threads() == 3
    finally:
        _restore(before)


def test_every_thread_inside_runs_on_one_thread_and_gets_its_own_back() -> None:
    """torch keeps a count per OS thread once the thread has used torch: a thread that
    enters while another is inside must still be set to one thread."""
    before = torch.get_num_threads()
    worker_ready, main_inside, worker_done = threading.Event(), threading.Event(), threading.Event()
    seen: dict[str, int] = {}

    def worker() -> None:
        torch.set_num_threads(2)
        seen["before"] = torch.get_num_threads()  # this thread has used torch, with 2 threads
        worker_ready.set()
        main_inside.wait(10)
        with one_thread():
            seen["inside"] = torch.get_num_threads()
        seen["after"] = torch.get_num_threads()
        worker_done.set()

    try:
        torch.set_num_threads(3)
        thread = threading.Thread(target=worker)
        thread.start()
        worker_ready.wait(10)
        with one_thread():
            main_inside.set()
            worker_done.wait(10)
            assert torch.get_num_threads() == 1
        thread.join(10)
        assert seen == {"before": 2, "inside": 1, "after": 2}
        assert torch.get_num_threads() == 3
    finally:
        _restore(before)


def test_single_thread_lasts_beyond_an_open_block() -> None:
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(3)
        with one_thread():
            single_thread()
        assert torch.get_num_threads() == 1
    finally:
        _restore(before)


def test_importing_the_guard_does_not_import_torch() -> None:
    code = "import sys, grader.torch_threads; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert out.stdout.strip() == "False"
    assert "torch_threads.py" in KIT_MODULES  # so the kit uses it instead of a copy


def test_no_other_module_sets_torch_threads() -> None:
    setters = []
    for path in sorted(GRADER.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "set_num_threads":
                setters.append(path.relative_to(GRADER).as_posix())
    assert setters and set(setters) <= OWN_LINE, setters
