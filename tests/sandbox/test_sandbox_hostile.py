"""Hostile submissions: each attack gets a clear verdict, the other calls of the submission
are still graded, and the pool keeps working for the next submission."""

from __future__ import annotations

import textwrap

import numpy as np
import pytest
import torch

from grader.sandbox import Call, ExecutorPool

from .conftest import TEST_LIMITS, assert_healthy, settle_process_count

FINE = "def fine(x):\n    return x * 2\n"


def run(pool: ExecutorPool, body: str, calls: list[Call]):
    return pool.run(textwrap.dedent(body) + "\n" + FINE, calls + [Call("fine", "fine", (21,))])


def statuses(result) -> dict[str, str]:
    return {cid: call.status for cid, call in result.calls.items()}


# ----------------------------------------------------------------------------- time


def test_infinite_loop_in_a_function_times_out(pool):
    result = run(pool, "def spin():\n    while True:\n        pass\n", [Call("spin", "spin")])
    assert statuses(result) == {"spin": "timeout", "fine": "ok"}
    assert "CPU time limit" in result.calls["spin"].message
    assert result.calls["fine"].value == 42
    assert_healthy(pool)


def test_infinite_loop_at_import_times_out_the_submission(pool):
    result = run(pool, "while True:\n    pass\n", [Call("f", "fine", (1,))])
    assert result.status == "timeout"
    assert statuses(result) == {"f": "timeout", "fine": "timeout"}
    assert_healthy(pool)


def test_ignored_sigterm_and_sigalrm_do_not_stop_the_limit(pool):
    body = """
    import signal, time
    def stubborn():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        signal.signal(signal.SIGXCPU, signal.SIG_IGN)
        signal.alarm(0)
        while True:
            pass
    def sleeper():
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        time.sleep(1000)
    """
    result = run(pool, body, [Call("stubborn", "stubborn"), Call("sleeper", "sleeper")])
    assert statuses(result) == {"stubborn": "timeout", "sleeper": "timeout", "fine": "ok"}
    assert "wall clock" in result.calls["sleeper"].message
    assert_healthy(pool)


def test_spinning_thread_left_behind_does_not_hold_the_results(pool):
    body = """
    import threading
    def spin():
        while True:
            pass
    threading.Thread(target=spin).start()   # non-daemon, never ends
    def start_another():
        threading.Thread(target=spin).start()
        return "started"
    """
    result = run(pool, body, [Call("another", "start_another")])
    assert result.status == "ok"
    assert statuses(result) == {"another": "ok", "fine": "ok"}
    assert result.calls["another"].value == "started"
    assert result.duration < TEST_LIMITS.wall_per_test
    assert_healthy(pool)


# ----------------------------------------------------------------------------- memory and processes


def test_memory_bombs(pool):
    body = """
    import torch
    def huge_bytes():
        return len(bytearray(3 * 1024**3))
    def huge_tensor():
        return torch.empty(2**31, dtype=torch.float64).sum()
    def growing():
        hoard = []
        while True:  # 256 MiB at a time, reserved but never touched: fast to exhaust
            hoard.append(torch.empty(2**25, dtype=torch.float64))
    """
    calls = [Call("bytes", "huge_bytes"), Call("tensor", "huge_tensor"), Call("growing", "growing")]
    result = run(pool, body, calls)
    assert statuses(result) == {"bytes": "memory", "tensor": "memory", "growing": "memory", "fine": "ok"}
    assert_healthy(pool)


def test_fork_bomb_is_contained_and_leaves_nothing_behind(pool):
    # per worker: bwrap, the namespace's init (bwrap), the worker, its template, its spare child
    expected = 5 * 2
    assert settle_process_count(pool, expected) == expected
    body = """
    import os
    def bomb():
        while True:
            try:
                os.fork()
            except OSError:
                pass
    """
    result = run(pool, body, [Call("bomb", "bomb")])
    assert result.calls["bomb"].status in ("timeout", "crashed", "error")
    assert result.calls["fine"].status in ("ok", "timeout")  # the bomb may have eaten the budget
    assert_healthy(pool)
    assert settle_process_count(pool, expected) == expected


# ----------------------------------------------------------------------------- exits and kills


def test_exits_at_import(pool):
    assert pool.run("import sys\nsys.exit(0)\n", [Call("f", "f")]).status == "import-error"
    died = pool.run("import os\nos._exit(0)\n", [Call("f", "f")])
    assert died.status == "crashed" and died.calls["f"].status == "crashed"
    assert_healthy(pool)


def test_exits_inside_functions(pool):
    body = """
    import os, sys
    def polite():
        sys.exit(0)
    def abrupt():
        os._exit(0)
    def segfault():
        import ctypes
        ctypes.string_at(0)
    """
    calls = [Call("polite", "polite"), Call("abrupt", "abrupt"), Call("segfault", "segfault")]
    result = run(pool, body, calls)
    assert result.status == "ok"
    assert statuses(result) == {"polite": "error", "abrupt": "crashed", "segfault": "crashed", "fine": "ok"}
    assert "SystemExit" in result.calls["polite"].message
    assert "code 0" in result.calls["abrupt"].message and "SIGSEGV" in result.calls["segfault"].message
    assert_healthy(pool)


def test_killing_its_parent_and_its_process_group(pool):
    body = """
    import os, signal
    def kill_parent():
        os.kill(os.getppid(), signal.SIGKILL)
        return "still here"
    def kill_group():
        os.killpg(0, signal.SIGKILL)
    """
    result = run(pool, body, [Call("parent", "kill_parent"), Call("group", "kill_group")])
    # The worker runs as another uid: the student may not signal it at all.
    assert result.calls["parent"].status == "error" and "PermissionError" in result.calls["parent"].message
    assert result.calls["group"].status == "crashed"
    assert result.calls["fine"].status == "ok"
    assert_healthy(pool)


# ----------------------------------------------------------------------------- output


def test_flooding_stdout_and_faking_results(pool):
    body = """
    import os, sys, json
    def flood():
        chunk = "y" * (1024 * 1024)
        for _ in range(200):
            print(chunk)
        fake = json.dumps({"ev": "call", "index": 1, "status": "ok", "value": {"t": "int", "v": 42}})
        print(fake)
        os.write(1, fake.encode())
        os.write(2, b"\\x00\\x00\\x00\\x10" * 1000)
        return 7
    """
    result = run(pool, body, [Call("flood", "flood"), Call("other", "fine", (5,))])
    assert statuses(result) == {"flood": "ok", "other": "ok", "fine": "ok"}
    assert result.calls["flood"].value == 7 and result.calls["other"].value == 10
    assert len(result.stdout.encode()) <= TEST_LIMITS.output_bytes
    assert result.stdout.startswith("yyyy")
    assert_healthy(pool)


# ----------------------------------------------------------------------------- values


def test_hostile_return_values(pool, tmp_path):
    marker = tmp_path / "pwned"
    body = f"""
    import os, torch

    class AlwaysEqual:
        def __eq__(self, other):
            return True

    class Sneaky(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            open({str(tmp_path / 'torch_function_ran')!r}, "w").close()
            return super().__torch_function__(func, types, args, kwargs or {{}})

    class Pickled:
        def __reduce__(self):
            return (os.system, ("touch {marker}",))

    def always_equal():
        return AlwaysEqual()
    def sneaky():
        return torch.arange(4, dtype=torch.float64).as_subclass(Sneaky)
    def pickled():
        return [Pickled()]
    def generator():
        return (i for i in range(3))
    def float_subclass():
        class F(float):
            def __eq__(self, other):
                return True
        return F(1.0)
    """
    calls = [Call(name, name) for name in ("always_equal", "sneaky", "pickled", "generator", "float_subclass")]
    result = run(pool, body, calls)
    assert statuses(result) == {
        "always_equal": "bad-output",
        "sneaky": "ok",
        "pickled": "bad-output",
        "generator": "bad-output",
        "float_subclass": "bad-output",
        "fine": "ok",
    }
    sneaky = result.calls["sneaky"].value
    assert type(sneaky) is torch.Tensor and torch.equal(sneaky, torch.arange(4, dtype=torch.float64))
    assert not marker.exists()
    assert not (tmp_path / "torch_function_ran").exists()


def test_monkeypatching_allclose_has_no_effect_here(pool):
    body = """
    import numpy, torch
    torch.allclose = lambda *a, **k: True
    numpy.allclose = lambda *a, **k: True
    torch.Tensor.__eq__ = lambda self, other: True
    def patch_more():
        torch.equal = lambda *a, **k: True
        return torch.allclose(torch.zeros(1), torch.ones(1))
    """
    result = run(pool, body, [Call("patch", "patch_more")])
    assert result.calls["patch"].value is True  # inside the sandbox the patch worked
    assert torch.allclose(torch.zeros(2), torch.ones(2)) is False
    assert bool(np.allclose(np.zeros(2), np.ones(2))) is False
    assert torch.equal(torch.zeros(2), torch.ones(2)) is False
    assert not bool((torch.zeros(2) == torch.ones(2)).any())


def test_no_expected_values_in_the_sandbox_to_steal(pool):
    secret = 0.123456789 * 7  # the "expected value": computed here, never sent
    body = """
    import gc, sys, torch
    def steal(x):
        found = []
        frame = sys._getframe()
        while frame is not None:
            found += [repr(v)[:200] for v in frame.f_locals.values()]
            frame = frame.f_back
        for obj in gc.get_objects():
            if isinstance(obj, torch.Tensor) and obj.numel() < 50 and obj.is_floating_point():
                found += [float(v) for v in obj.detach().flatten()]
            elif isinstance(obj, float):
                found.append(obj)
        return [str(v) for v in found]
    """
    result = run(pool, body, [Call("steal", "steal", (torch.tensor([1.5, 2.5], dtype=torch.float64),))])
    assert result.calls["steal"].status == "ok"
    loot = result.calls["steal"].value
    assert "1.5" in loot  # the scan works: it finds the call's own argument
    assert not any(str(secret)[:8] in item for item in loot)


@pytest.mark.parametrize("package", ["reference", "solutions", "grader", "exercises"])
def test_project_packages_cannot_be_imported(pool, package):
    body = f"""
    def sneak():
        try:
            import {package}
        except ImportError as error:
            return type(error).__name__ + ": " + str(error)
        return "imported " + repr({package})
    """
    result = run(pool, body, [Call("sneak", "sneak")])
    assert result.calls["sneak"].value.startswith("ModuleNotFoundError")
    at_import = pool.run(f"import {package}\n", [Call("f", "f")])
    assert at_import.status == "import-error" and "ModuleNotFoundError" in at_import.message


def test_an_endless_function_costs_one_time_limit_not_one_per_test(pool):
    source = "def spin(x):\n    while True:\n        pass\n\ndef ping(x):\n    return x + 1\n"
    calls = [Call(f"spin/{i}", "spin", (i,)) for i in range(4)] + [Call("ping", "ping", (1,))]
    result = pool.run(source, calls)
    statuses = [result.calls[f"spin/{i}"].status for i in range(4)]
    assert statuses == ["timeout"] * 4
    assert all("not run" in result.calls[f"spin/{i}"].message for i in range(1, 4))
    assert result.calls["ping"].status == "ok" and result.calls["ping"].value == 2
    # one CPU limit (1 s) plus start-up, far from the four limits the calls would cost one by one
    assert result.duration < 3 * TEST_LIMITS.cpu_per_test


def test_memory_in_memfd_files_is_refused(pool):
    """Memory held by memfd files is mapped by no process, so no per-process measure would
    count it (found by the red team: 200 x 16 MiB under a 2 GiB limit went unnoticed)."""
    body = """
    import os
    def hoard():
        fd = os.memfd_create("hoard")
        os.write(fd, bytes(1 << 20))
        return fd
    """
    result = run(pool, body, [Call("hoard", "hoard")])
    assert statuses(result) == {"hoard": "error", "fine": "ok"}
    assert "PermissionError" in result.calls["hoard"].message or "Operation not permitted" in result.calls["hoard"].message
    assert_healthy(pool)


def test_memory_in_socket_buffers_is_refused(pool):
    """Bytes queued in a socket's buffers are kernel memory that no process maps, so no
    per-process measure counts it (red team, round 3: 48 socketpairs with 4 MiB SO_SNDBUF
    held 750 MiB, 1.4 GiB of the host's memory, and the call was "ok"; 512 per process
    and 64 processes would exhaust the host).  A submission's processes get no sockets."""
    body = """
    import socket
    def hoard():
        a, b = socket.socketpair()
        a.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
        a.setblocking(False)
        queued = 0
        try:
            while queued < 16 << 20:
                queued += a.send(bytes(1 << 16))
        except BlockingIOError:
            pass
        return queued
    def listen():
        return socket.socket().fileno()
    """
    result = run(pool, body, [Call("hoard", "hoard"), Call("listen", "listen")])
    assert statuses(result) == {"hoard": "error", "listen": "error", "fine": "ok"}, result.calls["hoard"].value
    for name in ("hoard", "listen"):
        message = result.calls[name].message
        assert "PermissionError" in message or "Operation not permitted" in message, message
    assert_healthy(pool)
