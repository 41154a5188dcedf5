"""Code grading benchmark: 200 copies of solutions/exercise.py graded as separate submissions.

Each submission gets its own hidden tests (every code exercise of the bank, seeds derived per
student as in a real quiz). Measured:

* the sandbox: `grade_code_submission` through an `ExecutorPool(workers=2)`, four
  submissions at a time (two judge threads per worker, as `grader grade --jobs 2` does): wall time, submissions/s, and
  the peak memory of the whole process tree (sampled every 0.1 s: the sum of VmRSS over
  this process and all its descendants, so pages shared by forked workers are counted
  once per process: an overestimate);
* the floor: the same submissions and tests, judged the same way, but every exercise.py
  run by `run_in_process` (no isolation, one process, one after the other);
* the overhead ratio: sandbox wall time / floor wall time.  The submissions are graded in
  `--rounds` chunks, each by the sandbox and then by the floor, so that a change in the
  machine's load (other processes) weighs on both alike;
* `grader check` from a cold start: `check_exercise_file` on the full solution in a fresh
  process (one sandbox worker), against a bare `python -c "import torch"`.

Targets: overhead ratio <= 1.3, peak RSS <= 1.5 GB, cold check <= 2.5x import torch.
Run: `python benchmarks/code_grading.py [--submissions N] [--rounds R] [--skip-cold]`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.bank import default_bank  # noqa: E402
from grader.code.judge import grade_code_submission  # noqa: E402
from grader.sandbox import ExecutorPool  # noqa: E402
from grader.gradebook.backend import JUDGE_THREADS_PER_WORKER  # noqa: E402
from grader.heap import freeze_long_lived  # noqa: E402
from grader.seeding import variant_seed  # noqa: E402

SOLUTION = ROOT / "solutions" / "exercise.py"
SECRET = b"code-grading-benchmark-secret-32"


def tree_rss_bytes(root: int) -> int:
    """Sum of VmRSS over `root` and all its descendants (from /proc)."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        pid = int(entry)
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                stat = handle.read()
            parents[pid] = int(stat[stat.rindex(b")") + 2 :].split()[1])
            with open(f"/proc/{pid}/status", "rb") as handle:
                for line in handle:
                    if line.startswith(b"VmRSS:"):
                        rss[pid] = int(line.split()[1]) * 1024
                        break
        except (OSError, ValueError, IndexError):
            continue
    total = 0
    for pid, size in rss.items():
        node = pid
        for _ in range(64):
            if node == root:
                total += size
                break
            node = parents.get(node, 0)
            if node <= 1:
                break
    return total


class PeakSampler:
    """Samples the process tree's RSS in a background thread; `peak` is the maximum."""

    def __init__(self, interval: float = 0.1) -> None:
        self.interval = interval
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        me = os.getpid()
        while not self._stop.is_set():
            self.peak = max(self.peak, tree_rss_bytes(me))
            self._stop.wait(self.interval)

    def __enter__(self) -> "PeakSampler":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, tree_rss_bytes(os.getpid()))


def seeds_for(student: int, exercises: list) -> dict[str, int]:
    return {e.id: variant_seed(SECRET, "bench", f"s{student:04d}", e.id, e.generator_version) for e in exercises}


def check_full_marks(results: list, label: str) -> None:
    for result in results:
        if result.score != result.max_score:
            raise SystemExit(f"{label}: {result.item} scored {result.score}/{result.max_score}: {result.feedback}")


def grade_with_pool(source: bytes, exercises: list, seeds: list[dict[str, int]], pool: ExecutorPool, workers: int) -> float:
    """Seconds to grade every submission through the pool, `workers` at a time."""
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=JUDGE_THREADS_PER_WORKER * workers) as threads:  # as grade_batch does
        graded = list(threads.map(lambda s: grade_code_submission(source, exercises, s, pool), seeds))
    seconds = time.perf_counter() - start
    for results in graded:
        check_full_marks(results, "sandbox")
    return seconds


def grade_floor(source: bytes, exercises: list, seeds: list[dict[str, int]]) -> float:
    """Seconds to grade every submission with run_in_process, one after the other."""
    start = time.perf_counter()
    for s in seeds:
        check_full_marks(grade_code_submission(source, exercises, s, None), "floor")
    return time.perf_counter() - start


def bench(source: bytes, exercises: list, seeds: list[dict[str, int]], workers: int, rounds: int) -> tuple[float, float, int]:
    """(sandbox seconds, floor seconds, peak RSS bytes during the sandbox runs).  The
    submissions are split into `rounds` chunks, each graded by the sandbox then by the
    floor, so a change in the machine's load affects both alike."""
    chunks = [seeds[i::rounds] for i in range(rounds)]
    pool_seconds = floor_seconds = 0.0
    peak = 0
    with ExecutorPool(workers=workers) as pool:
        grade_with_pool(source, exercises, seeds[:workers], pool, workers)  # warm-up (not timed)
        grade_floor(source, exercises, seeds[:1])
        for chunk in chunks:
            with PeakSampler() as sampler:
                pool_seconds += grade_with_pool(source, exercises, chunk, pool, workers)
            peak = max(peak, sampler.peak)
            floor_seconds += grade_floor(source, exercises, chunk)
    return pool_seconds, floor_seconds, peak


def _fresh(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


CHECK_CODE = (
    "from grader.code.check import check_exercise_file\n"
    f"report = check_exercise_file({str(SOLUTION)!r})\n"
    "assert report.exit_code == 0, report\n"
    "from grader.bank import default_bank\n"
    "assert len(report.functions) == len(default_bank().select(kind='code'))\n"
)


def bench_cold_check(repeats: int) -> tuple[float, float]:
    """Median seconds of a fresh `import torch` and of a fresh cold `check_exercise_file`."""
    torch_times, check_times = [], []
    _fresh("import torch")  # page cache warm for both
    for _ in range(repeats):
        torch_times.append(_fresh("import torch"))
        check_times.append(_fresh(CHECK_CODE))
    return statistics.median(torch_times), statistics.median(check_times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--submissions", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--rounds", type=int, default=4, help="alternate sandbox and floor in this many chunks")
    parser.add_argument("--cold-repeats", type=int, default=3)
    parser.add_argument("--skip-cold", action="store_true", help="skip the grader check cold-start measurement")
    args = parser.parse_args()

    exercises = default_bank().select(kind="code")
    source = SOLUTION.read_bytes()
    seeds = [seeds_for(i, exercises) for i in range(args.submissions)]
    tests = sum(len(e.public_tests) + e.hidden_test_count for e in exercises)
    print(f"{args.submissions} submissions of {len(exercises)} functions ({tests} tests each), {args.workers} workers")

    freeze_long_lived()  # as grade_batch does before its first submission
    pool_seconds, floor_seconds, peak = bench(source, exercises, seeds, args.workers, args.rounds)
    n = args.submissions
    print(f"sandbox ({args.workers} workers): {pool_seconds:.2f} s, {n / pool_seconds:.1f} submissions/s, "
          f"peak RSS of the process tree {peak / 2**20:.0f} MiB")
    print(f"floor (run_in_process, one process): {floor_seconds:.2f} s, {n / floor_seconds:.1f} submissions/s")
    print(f"overhead ratio: {pool_seconds / floor_seconds:.2f} (target <= 1.3)  "
          f"peak RSS: {peak / 2**30:.2f} GB (target <= 1.5)")

    if not args.skip_cold:
        torch_s, check_s = bench_cold_check(args.cold_repeats)
        print(f"cold start: python -c 'import torch' {torch_s:.2f} s; check_exercise_file {check_s:.2f} s "
              f"= {check_s / torch_s:.2f}x (target <= 2.5x)")


if __name__ == "__main__":
    main()
