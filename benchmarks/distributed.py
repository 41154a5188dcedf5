"""Distributed grading benchmark: the local pool against a Dask LocalCluster on this machine.

Setup (not timed): the quiz and the 1 000 mixed submissions of `benchmarks/batch.py`
(10 answer questions, every code function, 10% broken or hostile), `--count` to shrink.

Measured, with the sandbox's per-test CPU limit at 2 s as in batch.py:
* local: `grade_batch(jobs=2)` on one `ExecutorPool` of 2 workers;
* dask: `grade_batch` through `grader.cluster.open_cluster` on a LocalCluster of 2
  single-threaded worker processes on loopback;
* both warm, as a standing pool or cluster would be: a first run grades 4 submissions
  (not timed), the timed run grades the others (it skips those 4 as unchanged); the cold
  costs (pool start, cluster start, registering the pools) are printed apart;
* the distributed path's overhead, by wall time and by CPU per submission (the machine
  may be shared), target <= 15%; and whether both grades.csv are identical;
* CPU per submission: on the workers (Dask worker processes and their sandboxes) and on
  the client (this process: the runner, answers, gradebook, and here also the scheduler);
  descendants' CPU is sampled every 0.2 s (batch.py's sampler), so it is slightly low;
* on paper: 100 000 submissions on N hosts of C cores, from those costs:
  n * max(worker CPU / (N * C), client CPU) (the client's part is serial).

Run: `python benchmarks/distributed.py [--count N]`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path


HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# this file's name is the `distributed` package's: keep its folder off the import path
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("bench_batch", HERE / "batch.py")
batch = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(batch)
_children, _cpu_ticks, _ppids, fabricate, make_quiz = (
    batch._children, batch._cpu_ticks, batch._ppids, batch.fabricate, batch.make_quiz)
TreeMemory = batch.TreeMemory

TICK = os.sysconf("SC_CLK_TCK")


def self_cpu() -> float:
    """CPU seconds of this process alone (all its threads)."""
    times = os.times()
    return times.user + times.system


def descendants_cpu(sampled: dict[int, int], baseline: dict[int, int]) -> float:
    """CPU seconds of this process's descendants since `baseline`, from the ticks last
    sampled (sandbox processes killed at the end take their counters with them)."""
    return sum(ticks - baseline.get(pid, 0) for pid, ticks in sampled.items()) / TICK


def ticks_now() -> dict[int, int]:
    me = os.getpid()
    return {pid: _cpu_ticks(pid) or 0 for pid in _children(me, _ppids())}


class KeptPool:
    """The local pool, kept warm across grade_batch calls (its close is deferred)."""

    def __init__(self, pool: object) -> None:
        self.pool = pool
        self.isolation = pool.isolation  # what the runner checks before it runs student code

    def run(self, source: object, calls: object) -> object:
        return self.pool.run(source, calls)

    def close(self) -> None:
        pass


def timed_run(grade: object, warm_ids: list[str]) -> tuple[float, float, float, object]:
    """Warm up on `warm_ids`, then time the run over everyone (the warm-up's submissions
    are skipped as unchanged): wall, client (this process) CPU, descendants' CPU, summary."""
    grade(warm_ids)
    baseline, self0, start = ticks_now(), self_cpu(), time.perf_counter()
    with TreeMemory() as sampler:
        summary = grade(None)
        wall = time.perf_counter() - start
    return wall, self_cpu() - self0, descendants_cpu(sampler.cpu_ticks, baseline), summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=1000, help="submissions (default 1 000)")
    parser.add_argument("--workers", type=int, default=2, help="local jobs = LocalCluster workers (default 2)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()

    from grader.torch_threads import single_thread

    single_thread()
    from grader.cluster import open_cluster
    from grader.cluster.backend import local_cluster
    from grader.gradebook.runner import grade_batch
    from grader.sandbox import ExecutorPool, Limits

    limits = Limits(cpu_per_test=2.0)
    work = Path(tempfile.mkdtemp(prefix="grader-dist-bench-"))
    print(f"work folder: {work}; {os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f} at start")
    quiz, functions = make_quiz(work, args.count)
    subs = work / "submissions"
    kinds = fabricate(quiz, subs, functions, args.count)
    ordinary = [f"u{i:04d}" for i, kind in enumerate(kinds) if kind == "ordinary"]
    warm_ids = ordinary[: 2 * args.workers]
    print(f"setup: {args.count} submissions, {len(functions)} code functions, "
          f"{args.count - len(ordinary)} hostile; {len(warm_ids)} graded first to warm up, not timed")

    start = time.perf_counter()
    pool = ExecutorPool(workers=args.workers, limits=limits)
    try:
        local_start = time.perf_counter() - start
        local_wall, local_judge, local_sandbox, local = timed_run(
            lambda only: grade_batch(subs, quiz, out=work / "local", jobs=args.workers, only=only,
                                     pool_factory=lambda jobs: KeptPool(pool)),
            warm_ids,
        )
    finally:
        pool.close()

    start = time.perf_counter()
    cluster = local_cluster(args.workers)
    startup = time.perf_counter() - start
    try:
        start = time.perf_counter()
        with open_cluster(cluster.scheduler_address, limits=limits) as backend_factory:
            registered = time.perf_counter() - start
            dask_wall, client_cpu, worker_cpu, remote = timed_run(
                lambda only: grade_batch(subs, quiz, out=work / "dask", only=only, backend_factory=backend_factory),
                warm_ids,
            )
    finally:
        cluster.close()

    n, n_local = len(remote.graded), len(local.graded)
    same = (work / "local" / "grades.csv").read_bytes() == (work / "dask" / "grades.csv").read_bytes()
    local_cost = (local_judge + local_sandbox) / n_local
    dask_cost = (client_cpu + worker_cpu) / n
    print(f"local pool ({args.workers} jobs): {n_local} graded, {len(local.failed)} failed, {local_wall:6.1f} s, "
          f"{n_local / local_wall:5.2f}/s; CPU each: judge process {local_judge / n_local:.3f} s, "
          f"sandboxes {local_sandbox / n_local:.3f} s (pool start {local_start:.1f} s, not counted)")
    print(f"LocalCluster ({args.workers} workers): {n} graded, {len(remote.failed)} failed, {dask_wall:6.1f} s, "
          f"{n / dask_wall:5.2f}/s; CPU each: workers {worker_cpu / n:.3f} s (judge + sandbox), client "
          f"{client_cpu / n:.3f} s (runner, answers, gradebook, and here the scheduler)")
    print(f"  not counted: cluster start-up {startup:.1f} s, connecting and registering the pools {registered:.1f} s")
    print(f"  overhead of the distributed path: wall {100 * (dask_wall / local_wall - 1):+.1f}%, "
          f"CPU {100 * (dask_cost / local_cost - 1):+.1f}% (target <= +15%)")
    print(f"  grades.csv identical: {'yes' if same else 'NO'}")
    per_worker, per_client = worker_cpu / n, client_cpu / n
    total = 100_000
    print(f"projection for {total:,} submissions: n x max(worker CPU / cores, client CPU), no network cost:")
    for cores in (2, 16):
        cells = []
        for hosts in (1, 4, 16, 64):
            seconds = total * max(per_worker / (hosts * cores), per_client)
            cells.append(f"{hosts} hosts {seconds / 3600:5.2f} h")
        print(f"  hosts of {cores:2d} cores: " + ", ".join(cells))
    print(f"  the client alone caps the rate at {1 / per_client:.0f} submissions/s "
          f"({total * per_client / 3600:.2f} h for {total:,})")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
