"""Cost of the not-allowed checks: the trusted static scan per submission, and the
ATen-level second line (`harness.watch_ops`: `OpKernels`, or `OpWatch` where the autograd
engine is forbidden) on the functions it watches, against `OpWatch` for every call.

    python benchmarks/forbidden_checks.py [--repeats N]

The scan: `find_violations` on solutions/exercise.py for the bank's code exercises (names and
dynamic access), against the names-only scan, best CPU time of N.

For every exercise with forbidden ATen ops, runs the public tests' calls of two honest
implementations, the instructor's solutions/exercise.py (vectorised) and
tests/code/alternatives.py (loops, einsum, F.unfold), in this process: plain, inside
`watch_ops` (what the sandbox does) and inside `OpWatch`, with the exercise's ops.  Prints,
per file, the total time of one pass over all calls for each (best of N, passes
interleaved), the ratios, the ATen ops seen per pass and the extra microseconds per op.
Exercises without forbidden ops are never watched.
"""

from __future__ import annotations

import argparse
import ast
import sys
import time
import types
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from grader.bank import default_bank  # noqa: E402
from grader.code.judge import _index_for, find_violations, materialize  # noqa: E402
from grader.code.scan import ModuleScan  # noqa: E402
from grader.sandbox.harness import OpWatch, watch_ops  # noqa: E402
from grader.torch_threads import single_thread  # noqa: E402


def _module(path: Path) -> types.ModuleType:
    module = types.ModuleType("bench_exercise")
    exec(compile(path.read_text("utf-8"), str(path), "exec"), module.__dict__)  # trusted files only
    return module


def _calls(module: types.ModuleType) -> list[tuple]:
    calls = []
    for exercise in default_bank().select(kind="code"):
        if exercise.forbidden_ops:
            for test in exercise.public_tests:
                calls.append((getattr(module, exercise.function), test, frozenset(exercise.forbidden_ops)))
    return calls


def _pass(calls: list[tuple], watch: str) -> float:
    """Seconds for one pass; `watch`: "plain", "watch_ops" or "OpWatch"."""
    start = time.perf_counter()
    for function, test, forbidden in calls:
        args, kwargs = materialize(test.args), materialize(test.kwargs)
        if watch == "plain":
            function(*args, **kwargs)
            continue
        hits: list[str] = []
        with watch_ops(tuple(forbidden), hits) if watch == "watch_ops" else OpWatch(forbidden, hits):
            function(*args, **kwargs)
        assert not hits, (function.__name__, hits)
    return time.perf_counter() - start


class _Counter(OpWatch):
    count = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # type: ignore[override]
        _Counter.count += 1
        return super().__torch_dispatch__(func, types, args, kwargs)


def _ops_per_pass(calls: list[tuple]) -> int:
    _Counter.count = 0
    for function, test, forbidden in calls:
        with _Counter(forbidden, []):
            function(*materialize(test.args), **materialize(test.kwargs))
    return _Counter.count


def _scan_cost(repeats: int) -> None:
    source = (ROOT / "solutions" / "exercise.py").read_text("utf-8")
    exercises = default_bank().select(kind="code")

    def names_only() -> None:
        scan = ModuleScan(ast.parse(source))
        for exercise in exercises:
            if exercise.forbidden:
                scan.forbidden_uses(exercise.function, _index_for(exercise))

    def everything() -> None:
        find_violations(ast.parse(source), exercises)

    for label, run in (("names only", names_only), ("names and dynamic access", everything)):
        run()
        best = float("inf")
        for _ in range(repeats * 3):
            start = time.process_time()
            run()
            best = min(best, time.process_time() - start)
        print(f"static scan of solutions/exercise.py, {label}: {best * 1e3:.1f} ms CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    options = parser.parse_args()
    single_thread()
    _scan_cost(options.repeats)
    print("ATen watch cost (one thread; timings on whatever load the machine has)")
    for path in (ROOT / "solutions" / "exercise.py", ROOT / "tests" / "code" / "alternatives.py"):
        calls = _calls(_module(path))
        kinds = ("plain", "watch_ops", "OpWatch")
        times: dict[str, list[float]] = {kind: [] for kind in kinds}
        for kind in kinds:
            _pass(calls, kind)  # warm up
        for _ in range(options.repeats):
            for kind in kinds:
                times[kind].append(_pass(calls, kind))
        ops = _ops_per_pass(calls)
        p, w, o = (min(times[kind]) for kind in kinds)
        print(
            f"{path.relative_to(ROOT)}: {len(calls)} calls, {ops} ATen ops per pass; plain {p * 1e3:.2f} ms, "
            f"watch_ops {w * 1e3:.2f} ms (ratio {w / p:.2f}, +{(w - p) / max(ops, 1) * 1e6:.1f} us per op), "
            f"OpWatch {o * 1e3:.2f} ms (ratio {o / p:.2f}, +{(o - p) / max(ops, 1) * 1e6:.1f} us per op)"
        )


if __name__ == "__main__":
    main()
