"""Where the CPU time of one full-contract submission goes: the judge's process and the
sandbox's processes, and the judge's phases.

    python benchmarks/cpu_per_submission.py [--submissions N]

Grades N copies of solutions/exercise.py (28 functions, 191 tests each, hidden tests drawn
per student as in a quiz) one at a time through a one-worker `ExecutorPool`, after
`freeze_long_lived()` as `grade_batch` does, and prints per submission:

* the CPU seconds of the judge's process (`time.process_time`, all its threads) and of the
  sandbox's process tree (utime+stime+cutime+cstime from /proc of every process under the
  pool's bubblewrap processes, the reaped ones included), and their sum: on a machine with
  C cores, about C / sum submissions per second is the ceiling;
* the judge's phases, in this thread (`time.thread_time`), run in-process on the same
  submissions: planning the calls and drawing hidden tests, parsing, the static scans,
  encoding the job, the reference outputs, decoding and comparing the returned values.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
_spec = importlib.util.spec_from_file_location("bench_batch", Path(__file__).resolve().parent / "batch.py")
batch = importlib.util.module_from_spec(_spec)  # its /proc helpers (not on sys.path: distributed.py)
_spec.loader.exec_module(batch)

from grader.bank import default_bank  # noqa: E402
from grader.code import judge  # noqa: E402
from grader.heap import freeze_long_lived  # noqa: E402
from grader.sandbox import Call, ExecutorPool, Limits, codec, run_in_process  # noqa: E402
from grader.sandbox.pool import make_job  # noqa: E402
from grader.seeding import variant_seed  # noqa: E402
from grader.torch_threads import single_thread  # noqa: E402

SOLUTION = ROOT / "solutions" / "exercise.py"
SECRET = b"cpu-per-submission-benchmark-32b"


def tree_cpu(root: int) -> float:
    """CPU seconds of every process below `root` (each with its reaped children)."""
    ticks = sum(batch._cpu_ticks(pid) or 0 for pid in batch._children(root, batch._ppids()))
    return ticks / os.sysconf("SC_CLK_TCK")


def seeds_for(student: int, exercises: list) -> dict[str, int]:
    return {e.id: variant_seed(SECRET, "cpu", f"s{student:04d}", e.id, e.generator_version) for e in exercises}


def sandbox_split(source: bytes, exercises: list, n: int) -> tuple[float, float]:
    """(judge process CPU, sandbox tree CPU) per submission, in seconds."""
    seeds = [seeds_for(i, exercises) for i in range(n + 3)]
    with ExecutorPool(workers=1) as pool:
        for s in seeds[:3]:  # warm-up: the template learns the watched ops
            judge.grade_code_submission(source, exercises, s, pool)
        judge_start, sandbox_start = time.process_time(), tree_cpu(os.getpid())
        for s in seeds[3:]:
            results = judge.grade_code_submission(source, exercises, s, pool)
            assert all(r.score == r.max_score for r in results), [r.feedback for r in results if r.score < r.max_score]
        return (time.process_time() - judge_start) / n, (tree_cpu(os.getpid()) - sandbox_start) / n


def judge_phases(source: bytes, exercises: list, n: int) -> Counter:
    """Seconds per submission of each phase of the judge, in this thread."""
    spent: Counter = Counter()

    def timed(label: str, function, *args, **kwargs):
        start = time.thread_time()
        value = function(*args, **kwargs)
        spent[label] += time.thread_time() - start
        return value

    text = source.decode("utf-8")
    for i in range(n + 2):
        if i == 2:
            spent.clear()  # the first two warm up caches
        seeds = seeds_for(1000 + i, exercises)
        planned = timed("plan calls, draw hidden tests", judge._plan, exercises, seeds, True)
        checked = timed("parse (ast)", judge.check_source, source, compile_check=False)
        scan = timed("scan: names", judge.ModuleScan, checked.tree)
        timed("scan: not-allowed uses, dynamic access", judge.find_violations, checked.tree, exercises, scan)
        calls = [Call(p.call_id, p.exercise.function, p.test.args, p.test.kwargs, forbidden=judge._watched(p.exercise))
                 for p in planned]
        job, buffers = timed("encode the job", make_job, text, calls, Limits())
        expected = timed("reference outputs", lambda: {p.call_id: judge.expected_output(p.exercise, p.test) for p in planned})
        returned = run_in_process(source, calls)
        encoded = {cid: codec.encode(c.value) for cid, c in returned.calls.items()}
        values = timed("decode returned values", lambda: {cid: codec.decode(*e) for cid, e in encoded.items()})
        back = {cid: replace(call, value=values[cid]) for cid, call in returned.calls.items()}
        timed("compare, describe", lambda: [judge._judge_test(p, expected[p.call_id], back[p.call_id]) for p in planned])
        del job, buffers
    return Counter({label: seconds / n for label, seconds in spent.items()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=30)
    options = parser.parse_args()
    single_thread()
    exercises = default_bank().select(kind="code")
    source = SOLUTION.read_bytes()
    freeze_long_lived()
    judge_cpu, sandbox_cpu = sandbox_split(source, exercises, options.submissions)
    total = judge_cpu + sandbox_cpu
    print(f"{options.submissions} full-contract submissions, one worker, one at a time")
    print(f"CPU per submission: judge process {judge_cpu * 1e3:.1f} ms + sandbox processes {sandbox_cpu * 1e3:.1f} ms "
          f"= {total * 1e3:.1f} ms (ceiling on 2 cores: {2 / total:.1f} submissions/s)")
    phases = judge_phases(source, exercises, max(5, options.submissions // 3))
    print(f"judge phases (in-process, this thread): {sum(phases.values()) * 1e3:.1f} ms")
    for label, seconds in phases.most_common():
        print(f"  {label:42s} {seconds * 1e3:6.1f} ms")


if __name__ == "__main__":
    main()
