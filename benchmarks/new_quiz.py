"""Benchmark of `grader new-quiz`: 1 000 students x 10 answer questions, every file written.

    python benchmarks/new_quiz.py [--students 1000] [--count 10] [--workers N] [--strict]

Prints the wall time (imports and bank loading apart from writing the quiz), the CPU time
(independent of other work on the machine) and the load average, and the peak resident
memory of the main process and of the largest worker.  Targets: writing under
10 s, under 500 MB per process.  --strict exits with status 1 when a target is missed.
--compare-serial also writes the quiz in one process and checks the files are identical.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

STARTED = time.perf_counter()

from grader.api import bank_for  # noqa: E402  (imports are part of the timing)

TARGET_SECONDS = 10.0
TARGET_MB = 500.0


def peak_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024  # kilobytes on Linux


def cpu_seconds() -> float:
    """CPU time of this process and its finished workers (a load-independent measure)."""
    own, workers = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + workers.ru_utime + workers.ru_stime


def digest(folder: Path) -> tuple[int, str]:
    """(number of files, a hash of every file's path and bytes)."""
    total = hashlib.sha256()
    paths = sorted(p for p in folder.rglob("*") if p.is_file())
    for path in paths:
        total.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return len(paths), total.hexdigest()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--workers", type=int, default=None, help="default: automatic (2 on Linux with 2 cores)")
    parser.add_argument("--strict", action="store_true")
    parser.add_argument("--compare-serial", action="store_true")
    args = parser.parse_args()

    bank = bank_for()
    loaded = time.perf_counter()
    students = [f"student{i:04d}" for i in range(args.students)]
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as temp:
        root = Path(temp)
        secret = root / "secret.key"
        secret.write_bytes(bytes(range(32)))
        start, cpu_start = time.perf_counter(), cpu_seconds()
        summary = _create(root / "quiz", students, secret, args.count, args.workers)
        seconds, cpu = time.perf_counter() - start, cpu_seconds() - cpu_start
        files, fingerprint = digest(root / "quiz")
        expected_files = 1 + args.students * 7  # quiz.toml; 5 student files (check.pyz too) and 2 key files each
        print(f"bank: {len(bank)} exercises; selected: {', '.join(summary.spec.selected)}")
        print(f"{args.students} students x {summary.questions} questions: {files} files written "
              f"(expected {expected_files})")
        print(f"imports and bank: {loaded - STARTED:.2f} s")
        print(f"writing the quiz: {seconds:.2f} s (target < {TARGET_SECONDS:g} s), {cpu:.2f} s of CPU time")
        print(f"load average while writing: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
        main_mb, worker_mb = peak_mb(resource.RUSAGE_SELF), peak_mb(resource.RUSAGE_CHILDREN)
        print(f"peak memory: main process {main_mb:.0f} MB, largest worker {worker_mb:.0f} MB "
              f"(target < {TARGET_MB:g} MB each)")
        ok = files == expected_files and seconds < TARGET_SECONDS and max(main_mb, worker_mb) < TARGET_MB
        if args.compare_serial:
            start = time.perf_counter()
            _create(root / "serial", students, secret, args.count, workers=1)
            same = digest(root / "serial") == (files, fingerprint)
            print(f"one process: {time.perf_counter() - start:.2f} s, files identical: {same}")
            ok = ok and same
    print("OK" if ok else "TARGET MISSED")
    return 0 if ok or not args.strict else 1


def _create(out: Path, students: list[str], secret: Path, count: int, workers: int | None):  # type: ignore[no-untyped-def]
    from grader.quiz.create import new_quiz
    from grader.quiz.roster import students_from_ids
    from grader.quiz.spec import QuizSpec

    spec = QuizSpec(title="Benchmark", students=tuple(students_from_ids(students)), kind="answer", count=count)
    return new_quiz(out, spec, secret_file=secret, bank=bank_for(), workers=workers)


if __name__ == "__main__":
    sys.exit(main())
