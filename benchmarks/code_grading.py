"""Code grading benchmark: 200 copies of solutions/exercise.py graded as separate submissions.

Each submission gets its own hidden tests (28 functions, seeds derived per student as in a
real quiz).  Measured:

* the sandbox: `grade_code_submission` through an `ExecutorPool(workers=2)`, two
  submissions at a time (as `grader grade --jobs 2` does): wall time, submissions/s, and
  the peak memory of the whole process tree (sampled every 0.1 s: the sum of VmRSS over
  this process and all its descendants, so pages shared by forked workers are counted
  once per process: an overestimate);
* the floor: the same submissions and tests, judged the same way, but every exercise.py
  run by `run_in_process` (no isolation, one process, one after the other);
* the overhead ratio: sandbox wall time / floor wall time;
* `grader check` from a cold start: `check_exercise_file` on the full solution in a fresh
  process (one sandbox worker), against a bare `python -c "import torch"`.

Targets: overhead ratio <= 1.3, peak RSS <= 1.5 GB, cold check <= 2.5x import torch.
Run: `python benchmarks/code_grading.py [--submissions N] [--skip-cold]`.
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

from exercises.code import all_code_exercises  # noqa: E402
from grader.code.judge import grade_code_submission  # noqa: E402
from grader.sandbox import ExecutorPool  # noqa: E402
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


def bench_pool(source: bytes, exercises: list, seeds: list[dict[str, int]], workers: int) -> tuple[float, int]:
    with ExecutorPool(workers=workers) as pool:
        with ThreadPoolExecutor(max_workers=workers) as threads:  # warm every worker (not timed)
            list(threads.map(lambda s: grade_code_submission(source, exercises, s, pool), seeds[:workers]))
        with PeakSampler() as sampler:
            start = time.perf_counter()
            with ThreadPoolExecutor(max_workers=workers) as threads:
                graded = list(threads.map(lambda s: grade_code_submission(source, exercises, s, pool), seeds))
            seconds = time.perf_counter() - start
    for results in graded:
        check_full_marks(results, "sandbox")
    return seconds, sampler.peak


def bench_floor(source: bytes, exercises: list, seeds: list[dict[str, int]]) -> float:
    grade_code_submission(source, exercises, seeds[0], None)  # warm-up (not timed)
    start = time.perf_counter()
    for s in seeds:
        check_full_marks(grade_code_submission(source, exercises, s, None), "floor")
    return time.perf_counter() - start


def _fresh(code: str) -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, capture_output=True)
    return time.perf_counter() - start


CHECK_CODE = (
    "from grader.code.check import check_exercise_file\n"
    f"report = check_exercise_file({str(SOLUTION)!r})\n"
    "assert report.exit_code == 0, report\n"
    "assert len(report.functions) == 28\n"
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
    parser.add_argument("--cold-repeats", type=int, default=3)
    parser.add_argument("--skip-cold", action="store_true", help="skip the grader check cold-start measurement")
    args = parser.parse_args()

    exercises = all_code_exercises()
    source = SOLUTION.read_bytes()
    seeds = [seeds_for(i, exercises) for i in range(args.submissions)]
    tests = sum(len(e.public_tests) for e in exercises) + sum(len(e.hidden_tests(__import__("numpy").random.default_rng(0))) for e in exercises)
    print(f"{args.submissions} submissions of {len(exercises)} functions ({tests} tests each), {args.workers} workers")

    pool_seconds, peak = bench_pool(source, exercises, seeds, args.workers)
    print(f"sandbox: {pool_seconds:.2f} s, {args.submissions / pool_seconds:.1f} submissions/s, "
          f"peak RSS of the process tree {peak / 2**20:.0f} MiB")
    floor_seconds = bench_floor(source, exercises, seeds)
    print(f"floor (run_in_process, one process): {floor_seconds:.2f} s, {args.submissions / floor_seconds:.1f} submissions/s")
    ratio = pool_seconds / floor_seconds
    print(f"overhead ratio: {ratio:.2f} (target <= 1.3)  peak RSS: {peak / 2**30:.2f} GB (target <= 1.5)")

    if not args.skip_cold:
        torch_s, check_s = bench_cold_check(args.cold_repeats)
        print(f"cold start: python -c 'import torch' {torch_s:.2f} s; check_exercise_file {check_s:.2f} s "
              f"= {check_s / torch_s:.2f}x (target <= 2.5x)")


if __name__ == "__main__":
    main()
