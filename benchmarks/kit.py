"""Benchmark of the student kit: `python check.pyz exercise.py` on the full
solution against `python -c "import torch"`, and the size of check.pyz.

    python benchmarks/kit.py [--runs 5] [--strict]

Makes a code quiz with every function (`grader new-quiz --kind code`), then runs, in turn,
the kit on the instructor's solution and a bare torch import, `--runs` times each, and
prints the median wall time of each, their ratio, the median CPU time of each (the process
and its children: less sensitive to other work on the machine) and the kit's size.
Target: a ratio of at most 1.5.  --strict exits with status 1 when it is missed.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

TARGET_RATIO = 1.5


def timed(command: list[str], cwd: Path) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the command and its children, exit status)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, done.returncode


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--strict", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        quiz = Path(tmp) / "quiz"
        subprocess.run(
            [sys.executable, "-m", "grader.cli", "new-quiz", "--out", str(quiz), "--students", "ana", "--kind", "code"],
            check=True, stdout=subprocess.DEVNULL,
        )
        student = Path(tmp) / "ana"
        student.mkdir()
        kit = quiz / "students" / "ana" / "check.pyz"
        (student / "exercise.py").write_text((quiz / "key" / "ana" / "exercise.py").read_text())
        env_python = [sys.executable]
        kit_command = [*env_python, str(kit), "exercise.py"]
        torch_command = [*env_python, "-c", "import torch"]
        kit_runs, torch_runs = [], []
        for _ in range(args.runs):
            kit_runs.append(timed(kit_command, student))
            torch_runs.append(timed(torch_command, student))
        if any(status != 0 for _, _, status in kit_runs):
            print("the kit did not pass the solution", file=sys.stderr)
            return 1
        with zipfile.ZipFile(kit) as archive:
            data = archive.getinfo("gradekit/data.json")
            code = sum(i.compress_size for i in archive.infolist() if i.filename.endswith(".py"))
        size = kit.stat().st_size
    kit_wall = statistics.median(w for w, _, _ in kit_runs)
    torch_wall = statistics.median(w for w, _, _ in torch_runs)
    kit_cpu = statistics.median(c for _, c, _ in kit_runs)
    torch_cpu = statistics.median(c for _, c, _ in torch_runs)
    ratio = kit_wall / torch_wall
    print(f"kit check of every function: median {kit_wall:.2f} s wall, {kit_cpu:.2f} s CPU ({args.runs} runs)")
    print(f"python -c 'import torch':  median {torch_wall:.2f} s wall, {torch_cpu:.2f} s CPU")
    print(f"ratio (wall): {ratio:.2f} (target <= {TARGET_RATIO}); ratio (CPU): {kit_cpu / torch_cpu:.2f}")
    print(f"check.pyz: {size / 1024:.0f} KiB ({code / 1024:.0f} KiB of code, data.json {data.compress_size / 1024:.0f} KiB"
          f" compressed, {data.file_size / 1024:.0f} KiB raw); load average {os.getloadavg()[0]:.1f}")
    return 1 if args.strict and ratio > TARGET_RATIO else 0


if __name__ == "__main__":
    sys.exit(main())
