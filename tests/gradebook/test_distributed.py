"""`grader grade` on a Dask cluster (`grader.cluster`): a LocalCluster of 2 worker processes
on loopback gives the same grades as the local pool; a worker killed mid-run loses and
duplicates nothing; a client killed mid-run leaves no process behind (its LocalCluster's
workers and their sandboxes die with it) and a re-run grades nothing twice."""

from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import pytest
from distributed import Client, LocalCluster

from grader.bank import load_bank
from grader.cluster import ClusterError, open_cluster
from grader.cluster.backend import _check_sandboxes, local_cluster
from grader.cluster.bank_context import bank_for, read_context
from grader.cluster.worker import SandboxPoolPlugin, pool_info
from grader.gradebook.runner import grade_batch
from grader.quiz.roster import Student
from grader.torch_threads import single_thread
from grader.sandbox.pool import _descendants

from .conftest import key_answers, make_quiz, misconception_answers, write_answers
from .test_resume import SLOW, committed

SUM_BUG = "\n\ndef diffusion_loss(eps_pred, eps):\n    return ((eps_pred - eps) ** 2).sum()\n"
CLASS = tuple(Student(f"d{i}", f"Student {i}") for i in range(6))
SLOW_CLASS = tuple(Student(f"w{i}", f"Student {i}") for i in range(8))


@pytest.fixture(scope="module")
def cluster() -> Iterator[tuple[LocalCluster, Client]]:
    """2 single-threaded worker processes (behind nannies) on loopback."""
    single_thread()
    local = local_cluster(2)
    client = Client(local)
    yield local, client
    client.close()
    local.close()


def key_code(quiz: Path, student: str) -> str:
    return (quiz / "key" / student / "exercise.py").read_text(encoding="utf-8")


def mixed_class(root: Path, bank: Path) -> tuple[Path, Path]:
    """d0 the key, d1 the sum bug, d2 a syntax error, d3 os._exit at import (the sandbox
    worker dies), d4 not UTF-8 (an error), d5 no exercise.py; d1 also answers q1 with a misconception."""
    quiz = make_quiz(root / "quiz", bank, CLASS, exercises=("gb_double", "gb_mse"))
    subs = root / "subs"
    for student in CLASS:
        write_answers(subs / student.id, key_answers(quiz, student.id))
    write_answers(subs / "d1", {"q1": misconception_answers(quiz, "d1")["q1"][1]})
    code = {
        "d0": key_code(quiz, "d0").encode(),
        "d1": (key_code(quiz, "d1") + SUM_BUG).encode(),
        "d2": b"def diffusion_loss(a, b:\n",
        "d3": b"import os\nos._exit(3)\n",
        "d4": key_code(quiz, "d4").encode() + b"\n# \xff\xfe\n",
    }
    for student, data in code.items():
        (subs / student / "exercise.py").write_bytes(data)
    return quiz, subs


def address(cluster: tuple[LocalCluster, Client]) -> str:
    return cluster[0].scheduler_address


def graded_counts(gradebook: Path) -> dict[str, tuple[int, int]]:
    """student -> (times graded, result rows)."""
    with sqlite3.connect(gradebook) as db:
        graded = dict(db.execute("SELECT student, graded_count FROM submissions WHERE status = 'graded'"))
        rows = dict(db.execute("SELECT student, COUNT(*) FROM results GROUP BY student"))
    return {s: (graded[s], rows.get(s, 0)) for s in graded}


def test_a_local_cluster_gives_the_same_grades_as_the_local_pool(tmp_path: Path, mini_bank: Path, cluster: Any) -> None:
    quiz, subs = mixed_class(tmp_path, mini_bank)
    local = grade_batch(subs, quiz, out=tmp_path / "local", jobs=2)
    with open_cluster(address(cluster)) as backend_factory:
        remote = grade_batch(subs, quiz, out=tmp_path / "dask", backend_factory=backend_factory)
    assert local.complete and remote.complete
    assert sorted(remote.graded) == [s.id for s in CLASS]
    csv_local = (tmp_path / "local" / "grades.csv").read_text(encoding="utf-8")
    csv_dask = (tmp_path / "dask" / "grades.csv").read_text(encoding="utf-8")
    assert csv_dask == csv_local
    statuses = {(r["student"], r["item"]): [r["status"], r["misconception"]]
                for r in csv.DictReader(io.StringIO(csv_dask))}
    assert statuses["d0", "diffusion_loss"] == ["correct", ""]
    assert statuses["d1", "diffusion_loss"] == ["incorrect", "sum_not_mean"]
    assert statuses["d1", "q1"] == ["incorrect", "squared"]
    assert statuses["d3", "diffusion_loss"][0] == "crashed"
    assert statuses["d4", "diffusion_loss"][0] == "error"  # not UTF-8: refused before it runs
    assert statuses["d5", "diffusion_loss"][0] == "missing"
    for student in ("d0", "d1", "d2", "d3"):  # the feedback, test by test, is the same too
        assert gradescope(tmp_path / "dask", student) == gradescope(tmp_path / "local", student)


def gradescope(out: Path, student: str) -> dict[str, Any]:
    """A student's results/<id>.json without its timing."""
    document = json.loads((out / "results" / f"{student}.json").read_text(encoding="utf-8"))
    document.pop("execution_time")
    return document


def test_each_worker_keeps_one_warm_bubblewrap_pool(cluster: Any) -> None:
    from grader.sandbox import Limits

    name = SandboxPoolPlugin(Limits(), "bwrap").name
    with open_cluster(address(cluster)):
        first = cluster[1].run(pool_info, name)
    assert [info[0] for info in first.values()] == ["bwrap"] * 2
    assert all(info[1] for info in first.values())  # a live sandbox process on each worker
    with open_cluster(address(cluster)):  # a second run finds the same warm pools, still running
        second = cluster[1].run(pool_info, name)
    # the pools boot without waiting, so a worker's spare child may appear between the two
    # looks; a restarted pool would have lost every process of the first look
    for worker, (isolation, pids) in first.items():
        assert second[worker][0] == isolation
        assert set(pids) <= set(second[worker][1])


def test_workers_without_bubblewrap_are_refused_unless_unconfined_is_allowed(cluster: Any) -> None:
    from grader.sandbox import Limits, SandboxWarning

    client: Client = cluster[1]
    bare = SandboxPoolPlugin(Limits(), "none")  # as a host without bubblewrap would have
    client.register_plugin(bare)
    with pytest.raises(ClusterError, match="no working sandbox .* on the Dask workers .*--no-sandbox"):
        _check_sandboxes(client, bare, confined=True)
    with pytest.warns(SandboxWarning, match="no bubblewrap on the Dask workers"):
        _check_sandboxes(client, bare, confined=False)
    client.unregister_worker_plugin(bare.name)


def slow_class(root: Path, bank: Path) -> tuple[Path, Path]:
    """8 students whose correct code takes over half a second each to grade."""
    quiz = make_quiz(root / "quiz", bank, SLOW_CLASS, exercises=("gb_double", "gb_mse"))
    subs = root / "subs"
    for student in SLOW_CLASS:
        write_answers(subs / student.id, key_answers(quiz, student.id))
        (subs / student.id / "exercise.py").write_text(key_code(quiz, student.id) + SLOW, encoding="utf-8")
    return quiz, subs


@pytest.mark.slow
def test_a_worker_killed_mid_run_loses_nothing_and_duplicates_nothing(tmp_path: Path, mini_bank: Path,
                                                                       cluster: Any) -> None:
    quiz, subs = slow_class(tmp_path, mini_bank)
    out = tmp_path / "out"
    client: Client = cluster[1]
    killed: dict[str, Any] = {}

    def kill_a_busy_worker() -> None:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            if committed(out / "gradebook.sqlite"):  # the run is well under way
                busy = {w: keys for w, keys in client.processing().items()
                        if any(str(k).startswith("grader-code-") for k in keys)}
                if busy:
                    victim = sorted(busy)[0]
                    pid = client.run(os.getpid, workers=[victim])[victim]
                    os.kill(pid, signal.SIGKILL)
                    killed.update(worker=victim, pid=pid, keys=busy[victim])
            time.sleep(0.05)

    with open_cluster(address(cluster)) as backend_factory:
        killer = threading.Thread(target=kill_a_busy_worker, daemon=True)
        killer.start()
        summary = grade_batch(subs, quiz, out=out, backend_factory=backend_factory)
        killer.join(timeout=5)
    assert killed, "no worker was busy with a submission while the run was going"
    assert summary.complete, summary.failed
    assert sorted(summary.graded) == [s.id for s in SLOW_CLASS]
    assert graded_counts(out / "gradebook.sqlite") == {s.id: (1, 2) for s in SLOW_CLASS}
    rows = (out / "grades.csv").read_text(encoding="utf-8").splitlines()[1:]
    assert len(rows) == 2 * len(SLOW_CLASS) and all(",correct," in row for row in rows)
    client.wait_for_workers(2, timeout=120)  # the nanny restarted the killed worker


@pytest.mark.slow
def test_a_killed_client_leaves_no_process_behind_and_a_rerun_grades_nothing_twice(
    tmp_path: Path, mini_bank: Path, cluster: Any
) -> None:
    quiz, subs = slow_class(tmp_path, mini_bank)
    out = tmp_path / "out"
    command = [sys.executable, "-m", "grader.cli", "grade", str(subs), "--quiz", str(quiz), "--out", str(out)]
    process = subprocess.Popen([*command, "--cluster", "local:2"], stdout=subprocess.DEVNULL,
                               stderr=subprocess.DEVNULL, start_new_session=True)
    seen: set[int] = set()  # its LocalCluster's worker processes and their sandboxes
    try:
        deadline = time.monotonic() + 120
        while len(committed(out / "gradebook.sqlite")) < 2:
            assert process.poll() is None and time.monotonic() < deadline, "no 2 submissions committed in time"
            seen.update(_descendants([process.pid]))
            time.sleep(0.05)
        seen.update(_descendants([process.pid]))
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=60) == -signal.SIGKILL
        deadline = time.monotonic() + 30
        while (alive := [pid for pid in seen if Path(f"/proc/{pid}").exists()]) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(seen) >= 4 and not alive, f"{len(alive)} of its {len(seen)} processes outlived it"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
    before = committed(out / "gradebook.sqlite")
    assert 2 <= len(before) < len(SLOW_CLASS)

    rerun = subprocess.run([*command, "--scheduler", address(cluster)], capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stdout + rerun.stderr
    assert graded_counts(out / "gradebook.sqlite") == {s.id: (1, 2) for s in SLOW_CLASS}
    with sqlite3.connect(out / "gradebook.sqlite") as db:
        runs = db.execute("SELECT status, graded, skipped FROM runs ORDER BY id").fetchall()
    assert runs[0][0] == "running"  # the killed run never finished
    assert runs[1] == ("finished", len(SLOW_CLASS) - len(before), len(before))


def test_the_bank_is_shipped_by_content(tmp_path: Path, mini_bank: Path) -> None:
    context = read_context([mini_bank])
    shipped = bank_for(context)
    assert [e.id for e in shipped] == [e.id for e in load_bank([mini_bank])]
    assert bank_for(read_context([mini_bank])) is shipped  # loaded once per process
    changed = tmp_path / "bank"
    changed.mkdir()
    for path in mini_bank.glob("*.py"):
        (changed / path.name).write_bytes(path.read_bytes())
    (changed / "gb_code.py").write_text((mini_bank / "gb_code.py").read_text(encoding="utf-8") + "\n# v2\n",
                                        encoding="utf-8")
    assert read_context([changed]).digest != context.digest


@pytest.mark.parametrize(("options", "message"), [
    (["--cluster", "local:x"], "expected local:N"),
    (["--cluster", "local:0"], "expected local:N"),
    (["--cluster", "local:1", "--jobs", "2"], "--jobs applies to the local sandbox pool"),
    (["--cluster", "local:1", "--scheduler", "tcp://127.0.0.1:1"], "exactly one of"),
])
def test_cluster_usage_errors_exit_2(tmp_path: Path, shared_quiz: Path, options: list[str], message: str) -> None:
    (tmp_path / "subs").mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "grader.cli", "grade", str(tmp_path / "subs"), "--quiz", str(shared_quiz),
         "--out", str(tmp_path / "out"), *options],
        capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert message in result.stderr


def test_open_cluster_needs_exactly_one_address() -> None:
    with pytest.raises(ClusterError):
        with open_cluster():
            pass
