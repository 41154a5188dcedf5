"""Batch grading benchmark: 1 000 mixed submissions with 2 jobs, against the naive way.

Setup (not timed): a quiz of 10 answer questions and every code function of the bank for
1 000 students; each student submits answers.toml and the full exercise.py built from
their key. 90% are ordinary (some misconception answers, some functions with a typical
bug); 10% are broken or hostile: syntax errors, non-UTF-8 code, broken TOML, files over
the 1 MB cap, `os._exit` at import, a memory hog, an infinite loop, and output floods.

Measured:
* `grade_batch(..., jobs=2)`: wall time, submissions per second, and the peak memory of
  the whole process tree (sampled every 0.2 s: the sum of VmRSS over this process and all
  its descendants; shared pages of forked workers count once per process, so this
  overestimates; the sum of PSS is printed beside it);
* the naive way, for the ratio: one fresh `python -m pytest` process per submission over
  the same public and hidden tests (a generated test file that imports the student's
  exercise.py and asserts against expected values precomputed here), on 20 submissions,
  scaled to 1 000.

Targets: >= 10 submissions/s and <= 1.5 GB. Run: `python benchmarks/batch.py [--students N]`.
The sandbox's per-test CPU limit is lowered to 2 s (as an instructor would for short
exercises) so the infinite loops cost seconds each; everything else uses the defaults.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.bank import default_bank  # noqa: E402
from grader.exercise import AnswerExercise  # noqa: E402
from grader.quiz.create import new_quiz  # noqa: E402
from grader.quiz.roster import Student  # noqa: E402
from grader.quiz.spec import QuizSpec  # noqa: E402
from grader.tomlfmt import toml_value  # noqa: E402

HOSTILE_KINDS = (
    ("syntax-error", 20),
    ("not-utf8", 15),
    ("bad-toml", 15),
    ("oversized", 10),
    ("exit-at-import", 10),
    ("memory-hog", 10),
    ("infinite-loop", 10),
    ("output-flood", 10),
)


# ----------------------------------------------------------------------- memory sampling


def _children(pid: int, parents: dict[int, int]) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        current = frontier.pop()
        kids = [p for p, parent in parents.items() if parent == current]
        found.extend(kids)
        frontier.extend(kids)
    return found


SANDBOX_DEPTH = 4  # this process -> bwrap -> bwrap (pid 1 inside) -> worker -> template


def _depth(pid: int, root: int, parents: dict[int, int]) -> int:
    depth = 0
    while pid != root and pid in parents and depth < 64:
        pid, depth = parents[pid], depth + 1
    return depth


def _ppids() -> dict[int, int]:
    parents = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            parents[int(entry)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    return parents


def _field_kb(path: str, name: bytes) -> int:
    try:
        with open(path, "rb") as handle:
            for line in handle:
                if line.startswith(name):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def _cpu_ticks(pid: int) -> int | None:
    """CPU clock ticks of a process and of its waited-for children (utime+stime+cutime+cstime)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            fields = handle.read().rsplit(b")", 1)[1].split()
        return sum(int(f) for f in fields[11:15])
    except (OSError, IndexError, ValueError):
        return None


class TreeMemory:
    """Samples the memory of this process and all its descendants in a thread."""

    def __init__(self, interval: float = 0.2):
        self.interval = interval
        self.peak_rss_kb = 0
        self.peak_pss_kb = 0
        self.cpu_ticks: dict[int, int] = {}  # sandbox pid -> utime+stime+cutime+cstime last seen
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _loop(self) -> None:
        me = os.getpid()
        samples = 0
        while not self._stop.is_set():
            parents = _ppids()
            pids = [me, *_children(me, parents)]
            rss = sum(_field_kb(f"/proc/{p}/status", b"VmRSS:") for p in pids)
            for pid in pids[1:]:
                # the sandbox's long-lived processes only: bwrap, the worker and its template,
                # whose cutime holds every per-submission child the template reaped (counting
                # a child's own last-seen ticks as well would count it twice)
                if _depth(pid, me, parents) > SANDBOX_DEPTH:
                    continue
                ticks = _cpu_ticks(pid)
                if ticks is not None:
                    self.cpu_ticks[pid] = ticks
            self.peak_rss_kb = max(self.peak_rss_kb, rss)
            if samples % 10 == 0:  # smaps_rollup walks every page table: the sampler's main cost
                pss = sum(_field_kb(f"/proc/{p}/smaps_rollup", b"Pss:") for p in pids)
                self.peak_pss_kb = max(self.peak_pss_kb, pss)
            samples += 1
            self._stop.wait(self.interval)

    def __enter__(self) -> "TreeMemory":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


# ----------------------------------------------------------------------- setup


def make_quiz(root: Path, students: int) -> tuple[Path, list[str]]:
    bank = default_bank()
    answers = [e for e in bank if isinstance(e, AnswerExercise)]
    sections: dict[int, list[Any]] = {}
    for exercise in answers:
        sections.setdefault(exercise.section, []).append(exercise)
    chosen: list[Any] = []
    while len(chosen) < 10 and any(sections.values()):
        for section in sorted(sections):
            if sections[section] and len(chosen) < 10:
                chosen.append(sections[section].pop(0))
    code = [e for e in bank if e.kind == "code"]
    roster = tuple(Student(f"u{i:04d}", f"Student {i}") for i in range(students))
    spec = QuizSpec(title="Batch benchmark", students=roster, quiz_id="bench",
                    exercises=tuple(e.id for e in chosen + code))
    new_quiz(root / "quiz", spec, bank=bank)
    return root / "quiz", [e.function for e in code]


BUG = {
    "batchnorm_forward": "\ndef batchnorm_forward(x, gamma, beta, eps=1e-5):\n    m = x.mean(0)\n    v = x.var(0, unbiased=True)\n    return gamma * (x - m) / torch.sqrt(v + eps) + beta\n",
    "diffusion_loss": "\ndef diffusion_loss(eps_pred, eps):\n    return ((eps_pred - eps) ** 2).sum()\n",
}

HOSTILE_CODE = {
    "syntax-error": "def broken(:\n    pass\n",
    "exit-at-import": "import os\nos._exit(3)\n",
    "memory-hog": "\ndef {f}(*a, **k):\n    import torch\n    return torch.ones(1 << 34)\n",
    "infinite-loop": "\ndef {f}(*a, **k):\n    while True:\n        pass\n",
    "output-flood": "\ndef {f}(*a, **k):\n    while True:\n        print('x' * 10000)\n",
}


def fabricate(quiz: Path, subs: Path, functions: list[str], students: int) -> list[str]:
    """Write every submission; returns the list of kinds (ordinary or hostile), by student."""
    rng = np.random.default_rng(0)
    kinds = ["ordinary"] * students
    hostile = [k for k, n in HOSTILE_KINDS for _ in range(n)]
    count = round(students * 0.10)
    positions = rng.choice(students, size=count, replace=False)
    for i, position in enumerate(positions):
        kinds[int(position)] = hostile[int(i * len(hostile) / count)]
    for index in range(students):
        student = f"u{index:04d}"
        folder = subs / student
        folder.mkdir(parents=True)
        variant = json.loads((quiz / "key" / student / "variant.json").read_text(encoding="utf-8"))
        answers = {}
        for q in variant["questions"]:
            answers[q["question"]] = q["answer"]
            if q["misconceptions"] and rng.random() < 0.3:
                answers[q["question"]] = next(iter(q["misconceptions"].values()))
        code = (quiz / "key" / student / "exercise.py").read_text(encoding="utf-8")
        if rng.random() < 0.3:
            code += BUG[str(rng.choice(sorted(BUG)))] if set(BUG) <= set(functions) else ""
        kind = kinds[index]
        target = str(rng.choice(functions))
        if kind == "bad-toml":
            (folder / "answers.toml").write_text("q1 = [1, 2\n", encoding="utf-8")
        else:
            (folder / "answers.toml").write_text("".join(f"{k} = {toml_value(v)}\n" for k, v in answers.items()), encoding="utf-8")
        if kind == "not-utf8":
            (folder / "exercise.py").write_bytes(code.encode() + b"\n# \xff\xfe\n")
        elif kind == "oversized":
            (folder / "exercise.py").write_text(code + "#" * (1024 * 1024 + 10) + "\n", encoding="utf-8")
        elif kind in ("syntax-error", "exit-at-import"):
            (folder / "exercise.py").write_text(code + "\n" + HOSTILE_CODE[kind], encoding="utf-8")
        elif kind in HOSTILE_CODE:
            (folder / "exercise.py").write_text(code + HOSTILE_CODE[kind].format(f=target), encoding="utf-8")
        else:
            (folder / "exercise.py").write_text(code, encoding="utf-8")
    return kinds


# ----------------------------------------------------------------------- the naive way

NAIVE_TEST = '''
import importlib.util, sys
import pytest, torch

DATA = torch.load({data!r}, weights_only=False)
spec = importlib.util.spec_from_file_location("student_exercise", {source!r})
student = importlib.util.module_from_spec(spec)
spec.loader.exec_module(student)


def close(expected, got, rtol, atol):
    if isinstance(expected, torch.Tensor):
        torch.testing.assert_close(torch.as_tensor(got).to(expected.dtype), expected, rtol=rtol, atol=atol)
    elif isinstance(expected, (tuple, list)):
        assert len(got) == len(expected)
        for e, g in zip(expected, got):
            close(e, g, rtol, atol)
    elif isinstance(expected, float):
        assert abs(float(got) - expected) <= atol + rtol * abs(expected)
    elif expected is not None:
        assert got == expected


@pytest.mark.parametrize("index", range(len(DATA)))
def test_call(index):
    function, args, kwargs, expected, rtol, atol, compare = DATA[index]
    got = getattr(student, function)(*args, **kwargs)
    if compare:
        close(expected, got, rtol, atol)
'''


def naive_data(quiz: Path, student: str, path: Path) -> None:
    """Inputs and expected outputs of the student's public and hidden tests, precomputed."""
    import torch

    from grader.code.judge import expected_output, materialize
    from grader.quiz.load import load_quiz

    loaded = load_quiz(quiz, bank=default_bank())
    rows = []
    for item in loaded.student_quiz(student).code:
        exercise = item.exercise
        for test in [*exercise.public_tests, *exercise.draw_hidden_tests(item.seed)]:
            rows.append((
                exercise.function, materialize(test.args), materialize(test.kwargs),
                expected_output(exercise, test), exercise.tolerance.rtol, exercise.tolerance.atol,
                exercise.compare is None,
            ))
    torch.save(rows, path)


def run_naive(quiz: Path, subs: Path, students: list[str], work: Path) -> float:
    """Seconds for one fresh pytest process per submission, over `students`."""
    files = []
    for student in students:
        data = work / f"{student}.pt"
        naive_data(quiz, student, data)
        test = work / f"test_{student}.py"
        test.write_text(NAIVE_TEST.format(data=str(data), source=str(subs / student / "exercise.py")), encoding="utf-8")
        files.append(test)
    start = time.perf_counter()
    for test in files:
        subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-x", "--timeout=60", str(test)]
            if _has_pytest_timeout() else [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(test)],
            cwd=work, capture_output=True, timeout=600,
        )
    return time.perf_counter() - start


def _has_pytest_timeout() -> bool:
    try:
        import pytest_timeout  # noqa: F401
    except ImportError:
        return False
    return True


# ----------------------------------------------------------------------- main


def print_breakdown(gradebook: Path, kinds: list[str], wall: float, jobs: int) -> None:
    """Grading time (waiting excluded) by kind of submission, from the gradebook."""
    import sqlite3

    with sqlite3.connect(gradebook) as db:
        durations = dict(db.execute("SELECT student, duration FROM submissions"))
    by_kind: dict[str, list[float]] = {}
    for index, kind in enumerate(kinds):
        by_kind.setdefault(kind, []).append(durations.get(f"u{index:04d}", 0.0))
    total = sum(sum(v) for v in by_kind.values())
    print(f"  grading time by kind (sum over submissions; {jobs} jobs x {wall:.0f} s = {jobs * wall:.0f} s available):")
    for kind, values in sorted(by_kind.items(), key=lambda kv: -sum(kv[1])):
        print(f"    {kind:15s} n={len(values):4d}  mean {sum(values) / len(values):6.2f} s  "
              f"sum {sum(values):7.1f} s ({100 * sum(values) / total:4.1f}%)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--naive", type=int, default=20, help="submissions for the naive way (0: skip)")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    args = parser.parse_args()

    from grader.gradebook.runner import grade_batch
    from grader.sandbox import ExecutorPool, Limits

    work = Path(tempfile.mkdtemp(prefix="grader-bench-"))
    print(f"work folder: {work}")
    start = time.perf_counter()
    quiz, functions = make_quiz(work, args.students)
    subs = work / "submissions"
    kinds = fabricate(quiz, subs, functions, args.students)
    hostile = sum(1 for k in kinds if k != "ordinary")
    print(f"setup: {args.students} students, {len(functions)} code functions, {hostile} hostile "
          f"submissions, {time.perf_counter() - start:.0f} s")

    def pool(jobs: int) -> Any:
        return ExecutorPool(workers=jobs, limits=Limits(cpu_per_test=2.0))

    import resource

    before = (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    with TreeMemory() as memory:
        start = time.perf_counter()
        summary = grade_batch(subs, quiz, out=work / "grading", jobs=args.jobs, pool_factory=pool)
        wall = time.perf_counter() - start
    after = (resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN))
    judge_cpu = (after[0].ru_utime + after[0].ru_stime) - (before[0].ru_utime + before[0].ru_stime)
    sandbox_cpu = sum(memory.cpu_ticks.values()) / os.sysconf("SC_CLK_TCK")  # sampled every 0.2 s
    rate = len(summary.graded) / wall
    print(f"grade_batch: {len(summary.graded)} graded, {len(summary.failed)} failed, jobs={args.jobs}")
    print(f"  wall time          {wall:8.1f} s")
    print(f"  submissions/s      {rate:8.2f}   (target >= 10)")
    print(f"  peak RSS, tree     {memory.peak_rss_kb / 1024:8.0f} MB (target <= 1536; sum of VmRSS)")
    print(f"  peak PSS, tree     {memory.peak_pss_kb / 1024:8.0f} MB")
    print(f"  CPU: judge process {judge_cpu:.1f} s, sandbox workers {sandbox_cpu:.1f} s (sampled) "
          f"= {(judge_cpu + sandbox_cpu) / wall:.2f} of {os.cpu_count()} cores busy")
    print_breakdown(work / "grading" / "gradebook.sqlite", kinds, wall, args.jobs)
    if args.naive:
        sample = [f"u{i:04d}" for i, kind in enumerate(kinds) if kind == "ordinary"][: args.naive]
        naive_dir = work / "naive"
        naive_dir.mkdir()
        seconds = run_naive(quiz, subs, sample, naive_dir)
        per = seconds / len(sample)
        print(f"naive (fresh pytest per submission): {per:.2f} s each on {len(sample)}; "
              f"{per * args.students:.0f} s for {args.students}")
        print(f"  speed-up of grade_batch: {per * args.students / wall:.1f}x")
    if not args.keep:
        import shutil

        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
