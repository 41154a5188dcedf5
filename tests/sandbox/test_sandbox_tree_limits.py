"""Limits over every process of a submission, one uid per submission, the worker's own
memory, and the template process the children come from."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings

import pytest

from grader.sandbox import Call, ExecutorPool, Limits, SandboxWarning

from .conftest import TEST_LIMITS, needs_bwrap

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture(scope="module")
def one_worker():
    needs_bwrap()
    limits = Limits(cpu_per_test=1.0, cpu_per_submission=20.0, wall_per_submission=30.0)
    with ExecutorPool(workers=1, limits=limits, isolation="bwrap") as pool:
        yield pool


# ----------------------------------------------------------------------------- memory


def test_three_processes_of_one_gigabyte_are_over_a_two_gigabyte_limit():
    needs_bwrap()
    limits = Limits(cpu_per_test=5.0, cpu_per_submission=20.0, wall_per_submission=30.0, address_space=2 * 1024**3)
    source = textwrap.dedent(
        """
        import os, time, torch
        def hog():
            for _ in range(2):
                if os.fork() == 0:
                    hold = torch.ones(2**27, dtype=torch.float64)  # 1 GiB, touched
                    time.sleep(30)
                    os._exit(0)
            hold = torch.ones(2**27, dtype=torch.float64)
            time.sleep(30)
            return "never"
        def fine():
            return 1
        """
    )
    with ExecutorPool(workers=1, limits=limits, isolation="bwrap") as pool:
        result = pool.run(source, [Call("hog", "hog"), Call("fine", "fine")])
    assert result.calls["hog"].status == "memory", result.calls["hog"].message
    assert "together used more memory" in result.calls["hog"].message
    assert result.calls["hog"].duration < limits.wall_per_test
    assert result.calls["fine"].status == "ok"


def test_several_small_processes_are_not_blamed_for_the_memory_they_share():
    """Forked children share the template's ~200 MB copy-on-write: counted once, not once
    per process (the proportional measure decides when the cheap one is over)."""
    needs_bwrap()
    limits = Limits(cpu_per_test=5.0, cpu_per_submission=20.0, wall_per_submission=30.0, address_space=1200 * 1024**2)
    source = textwrap.dedent(
        """
        import os, time
        def helpers():
            pids = []
            for _ in range(6):
                pid = os.fork()
                if pid == 0:
                    time.sleep(2)
                    os._exit(0)
                pids.append(pid)
            return sum(os.waitpid(pid, 0)[1] for pid in pids)
        """
    )
    with ExecutorPool(workers=1, limits=limits, isolation="bwrap") as pool:
        result = pool.run(source, [Call("helpers", "helpers")])
    assert result.calls["helpers"].status == "ok", result.calls["helpers"].message
    assert result.calls["helpers"].value == 0


# ----------------------------------------------------------------------------- CPU

GRANDCHILDREN = textwrap.dedent(
    """
    import os, time
    def _orphans(count, seconds):
        # each spinner is forked by a short-lived process: it ends up an orphan of the worker
        read_end, write_end = os.pipe()
        for _ in range(count):
            if os.fork() == 0:
                if os.fork() == 0:
                    os.close(read_end)
                    while time.process_time() < seconds:
                        pass
                    os._exit(0)
                os._exit(0)
            os.wait()
        os.close(write_end)
        os.read(read_end, 1)  # until every spinner is gone
        return "done"
    def spin_forever():
        return _orphans(8, float("inf"))
    def burn_and_exit():
        return _orphans(8, 0.15)
    def fine():
        return 1
    """
)


@pytest.fixture(scope="module")
def short_cpu():
    """A tight CPU limit (0.3 s a call, 1.6 s of wall clock): eight spinners pass it well
    before the wall-clock limit even on a loaded machine."""
    needs_bwrap()
    limits = Limits(cpu_per_test=0.3, cpu_per_submission=20.0, wall_per_submission=30.0)
    with ExecutorPool(workers=1, limits=limits, isolation="bwrap") as pool:
        yield pool


def test_cpu_burnt_in_grandchildren_is_a_timeout(short_cpu):
    result = short_cpu.run(GRANDCHILDREN, [Call("forever", "spin_forever"), Call("fine", "fine")])
    assert result.calls["forever"].status == "timeout"
    assert "CPU time limit" in result.calls["forever"].message
    assert result.calls["fine"].status == "ok"


def test_cpu_of_grandchildren_that_already_exited_counts(short_cpu):
    """1.2 CPU-s burnt by orphans that exit (the worker waits for them and counts their rusage)."""
    result = short_cpu.run(GRANDCHILDREN, [Call("exited", "burn_and_exit"), Call("fine", "fine")])
    assert result.calls["exited"].status == "timeout", result.calls["exited"]
    assert "CPU time limit" in result.calls["exited"].message


# ----------------------------------------------------------------------------- uids


def test_each_submission_runs_as_a_fresh_uid(one_worker):
    if os.geteuid() != 0:
        pytest.skip("distinct uids need a privileged grader (otherwise a user namespace)")
    source = "import os\ndef uid():\n    return os.getuid()\ndef die():\n    os._exit(1)\n"
    seen = []
    for _ in range(3):
        result = one_worker.run(source, [Call("a", "uid"), Call("die", "die"), Call("b", "uid")])
        assert result.calls["die"].status == "crashed"
        # the same uid for the whole submission (its files stay its own after a crash)
        assert result.calls["a"].value == result.calls["b"].value
        seen.append(result.calls["a"].value)
    assert len(set(seen)) == 3 and 0 not in seen


# ----------------------------------------------------------------------------- the template


def _stat(pid: int) -> list[str]:
    with open(f"/proc/{pid}/stat") as handle:
        return handle.read().rsplit(")", 1)[1].split()


def _worker_and_template(pool: ExecutorPool) -> tuple[int, int]:
    """(worker, template) host pids: the template is the worker's child in its session
    (processes of the last submission may still be going away: look again then)."""
    for _ in range(50):
        try:
            stats = {pid: _stat(pid) for pid in pool.processes()}
            for pid, stat in stats.items():
                if not open(f"/proc/{pid}/comm").read().startswith("python"):
                    continue
                same_session = [kid for kid, kid_stat in stats.items() if kid_stat[1] == str(pid) and kid_stat[3] == stat[3]]
                if same_session:
                    return pid, same_session[0]
        except FileNotFoundError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"no template process among {pool.processes()}")


@pytest.mark.parametrize("isolation", ["bwrap", "none"])
def test_a_worker_whose_template_dies_is_replaced(isolation):
    if isolation == "bwrap":
        needs_bwrap()
    source = "import os\ndef spawn():\n    pid = os.fork()\n    if pid == 0:\n        os._exit(0)\n    return os.waitpid(pid, 0)[1]\n"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SandboxWarning)
        with ExecutorPool(workers=1, limits=TEST_LIMITS, isolation=isolation) as pool:
            for _ in range(3):  # killing a submission's processes never kills the template
                assert pool.run(source, [Call("s", "spawn")]).calls["s"].value == 0
            worker, template = _worker_and_template(pool)
            assert _worker_and_template(pool) == (worker, template)
            os.kill(template, signal.SIGKILL)
            deadline = time.monotonic() + 10
            while os.path.exists(f"/proc/{worker}") and _stat(worker)[0] != "Z" and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not os.path.exists(f"/proc/{worker}") or _stat(worker)[0] == "Z"
            result = pool.run(source, [Call("s", "spawn")])
            assert result.status == "ok" and result.calls["s"].value == 0


# ----------------------------------------------------------------------------- values

BOMB = "def bomb():\n    return [0] * 3_000_000\ndef fine():\n    return [0.5] * 150_000\n"

MEASURE = textwrap.dedent(
    """
    import json, sys, warnings
    from grader.sandbox import Call, ExecutorPool, Limits
    source = sys.stdin.read()
    with ExecutorPool(workers=1, limits=Limits(cpu_per_test=20.0, cpu_per_submission=60.0,
                      wall_per_submission=90.0), isolation=sys.argv[1]) as pool:
        result = pool.run(source, [Call(f"bomb{i}", "bomb") for i in range(4)] + [Call("fine", "fine")])
    peak = [int(line.split()[1]) * 1024 for line in open("/proc/self/status") if line.startswith("VmHWM:")][0]
    fine = result.calls["fine"]
    print(json.dumps({"statuses": [result.calls[f"bomb{i}"].status for i in range(4)], "peak": peak,
                      "messages": [result.calls[f"bomb{i}"].message for i in range(4)],
                      "fine": [fine.status, fine.value == [0.5] * 150_000]}))
    """
)


def test_a_value_bomb_is_bad_output_and_the_grader_stays_small():
    """Four values of 3 million small ints each (within the byte caps) used to take the
    trusted process to gigabytes; they are refused in the sandbox, by their part count."""
    needs_bwrap()
    import json

    done = subprocess.run([sys.executable, "-c", MEASURE, "bwrap"], input=BOMB, capture_output=True, text=True,
                          timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-3000:]
    seen = json.loads(done.stdout.strip().splitlines()[-1])
    assert seen["statuses"] == ["bad-output"] * 4, seen["messages"]
    assert all("parts" in m for m in seen["messages"]), seen["messages"]
    assert seen["fine"] == ["ok", True]  # a large but reasonable value still passes
    assert seen["peak"] < 500 * 1024**2, f"the trusted process peaked at {seen['peak'] / 1024**2:.0f} MB"


def test_the_parts_of_all_values_of_a_submission_are_capped(one_worker):
    source = "def part():\n    return list(range(190_000))\n"
    result = one_worker.run(source, [Call(f"p{i}", "part") for i in range(6)])
    statuses = [result.calls[f"p{i}"].status for i in range(6)]
    assert statuses == ["ok"] * 5 + ["bad-output"]  # 5 x 190 001 parts fit in 1 000 000, 6 do not
    assert result.calls["p0"].value == list(range(190_000))
    assert "in total" in result.calls["p5"].message


def test_the_worker_runs_a_job_under_a_memory_limit(one_worker):
    source = (
        "def limits():\n"
        "    line = [l for l in open('/proc/2/limits') if l.startswith('Max address space')][0]\n"
        "    return line.split()[3:5]\n"
    )
    soft, hard = one_worker.run(source, [Call("limits", "limits")]).calls["limits"].value
    assert soft != "unlimited" and int(soft) < 16 * 1024**3  # its size + 1 GiB while a job runs
