"""Benchmark of `grader similarity`: 1 000 submissions of the full exercise.py
(with planted copies) and 1 000 answer sheets (with planted copiers). Prints the wall and
CPU time of each phase, the peak memory (this process and its fingerprinting workers) and
precision and recall on the planted set. Target: <= 30 s and <= 1 GB on 2 cores.

Code: an honest student writes every function in one of two independent ways
(tests/code/alternatives.py, or that file with one statement of its own per function) and
adds one to three statements of their own to each function, drawn from a pool of 150 per
function (so that some pairs share a few statements by chance, as study partners do).
Planted: 40 copies of another student's file disguised (names, order, comments, blank
lines, literals), 10 copies of two thirds of another student's functions, and 5 disguised
copies of the instructor's solution (these 5 also match each other: 10 more expected pairs).

Answers: 1 000 students x the 8 exercises of tests/integrity/answer_classes.py, honest
(key 60%, a misconception 25%, a slip 15%), and 20 copiers handing in another student's
keys.

    python benchmarks/similarity.py [--students 1000] [--jobs 2]
"""

from __future__ import annotations

import argparse
import os
import threading
import ast
import importlib.util
import random
import resource
import sys
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

# Nothing heavy at the top: the fingerprinting workers are spawned and import this file
# again (the grader's import only `grader.cli`).
from grader.integrity.winnow import fingerprint_file  # noqa: E402

SOLUTION_ID = "solution"
SOLUTION_PATH = ROOT / "solutions" / "exercise.py"

TESTS = ROOT / "tests" / "integrity"
API = ["torch.relu", "torch.tanh", "torch.exp", "torch.abs", "torch.sqrt", "torch.sigmoid", "torch.log1p",
       "torch.clamp", "torch.flatten", "torch.sign", "torch.square", "torch.cos"]
METHODS = ["sum", "mean", "max", "min", "std", "var", "amax", "norm", "prod", "cumsum", "argmax", "logsumexp"]


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, TESTS / f"{name}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _functions(source: str) -> dict[str, tuple[str, list[str]]]:
    """name -> (def line, body lines) of each top-level function."""
    return {name: (head, body) for name, (head, body, _) in _functions_with_starts(source).items()}


def _functions_with_starts(source: str) -> dict[str, tuple[str, list[str], list[int]]]:
    """name -> (def line, body lines, where each top-level statement of the body starts)."""
    tree = ast.parse(source)
    lines = source.splitlines()
    out = {}
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            first = node.body[0].lineno
            starts = [s.lineno - first for s in node.body]
            out[node.name] = (lines[node.lineno - 1], lines[first - 1 : node.end_lineno], starts)
    return out


def _statement(rng: random.Random) -> str:
    a, m = rng.choice(API), rng.choice(METHODS)
    n, k = rng.randint(0, 3), rng.randint(2, 9)
    shape = rng.choice(["", ".detach()", ".float()", f".view(-1, {k})", f"[{n}]", ".t()"])
    return f"    check_{k} = {a}(torch.ones({k}, {n + 1})){shape}.{m}(dim={n % 2}) * {k}"


def honest_files(students: int, rng: random.Random) -> list[str]:
    alternative = (ROOT / "tests" / "code" / "alternatives.py").read_text(encoding="utf-8")
    functions = _functions_with_starts(alternative)
    pools = {name: [_statement(rng) for _ in range(150)] for name in functions}
    second_way = {name: _statement(rng) for name in functions}
    files = []
    for _ in range(students):
        parts = ["import math\n\nimport torch\nimport torch.nn.functional as F\n"]
        for name, (head, original, starts) in functions.items():
            added: dict[int, list[str]] = {}
            if rng.random() < 0.5:
                added.setdefault(0, []).append(second_way[name])
            for _ in range(rng.randint(1, 3)):
                added.setdefault(rng.choice(starts), []).append(rng.choice(pools[name]))
            body = []
            for i, line in enumerate(original):
                body.extend(added.get(i, []))
                body.append(line)
            parts.append("\n".join([head, *body]))
        files.append("\n\n\n".join(parts) + "\n")
    return files


def plant_code(files: list[str], rng: random.Random, planting: ModuleType) -> set[frozenset[str]]:
    """Overwrite some files with copies; returns the pairs that should be found."""
    ids = list(range(len(files)))
    rng.shuffle(ids)
    expected: set[frozenset[str]] = set()
    solution = SOLUTION_PATH.read_text(encoding="utf-8")
    for i in range(40):
        copier, source = ids[2 * i], ids[2 * i + 1]
        files[copier] = planting.disguise(files[source], rng)
        expected.add(frozenset((f"c{copier:04d}", f"c{source:04d}")))
    for i in range(40, 50):
        copier, source = ids[2 * i], ids[2 * i + 1]
        mine, theirs = _functions(files[copier]), _functions(files[source])
        names = sorted(mine)
        taken = set(rng.sample(names, k=2 * len(names) // 3))
        parts = ["import math\n\nimport torch\nimport torch.nn.functional as F\n"]
        for name in names:
            head, body = (theirs if name in taken else mine)[name]
            parts.append("\n".join([head, *body]))
        files[copier] = planting.disguise("\n\n\n".join(parts) + "\n", rng)
        expected.add(frozenset((f"c{copier:04d}", f"c{source:04d}")))
    leakers = [ids[100 + i] for i in range(5)]
    for leaker in leakers:
        files[leaker] = planting.disguise(solution, rng)
        expected.add(frozenset((f"c{leaker:04d}", SOLUTION_ID)))
    for i, a in enumerate(leakers):
        for b in leakers[i + 1 :]:
            expected.add(frozenset((f"c{a:04d}", f"c{b:04d}")))
    return expected


class ChildPeak(threading.Thread):
    """Polls the peak RSS (VmHWM) of this process's children (the spawned fingerprinting
    workers) every 250 ms. getrusage(RUSAGE_CHILDREN) cannot be used: it also counts
    short-lived children forked from this (large) process by the libraries."""

    def __init__(self) -> None:
        super().__init__(daemon=True)
        self.peak_kb = 0
        self.stop = threading.Event()

    def run(self) -> None:
        me = str(os.getpid())
        while not self.stop.wait(0.25):
            for entry in os.listdir("/proc"):
                if not entry.isdigit():
                    continue
                try:
                    status = Path(f"/proc/{entry}/status").read_text()
                except OSError:
                    continue
                fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
                if fields.get("PPid", "").strip() == me and "VmHWM" in fields:
                    self.peak_kb = max(self.peak_kb, int(fields["VmHWM"].split()[0]))


def _scores(found: set[frozenset[str]], expected: set[frozenset[str]]) -> str:
    hits = len(found & expected)
    precision = hits / len(found) if found else 1.0
    recall = hits / len(expected) if expected else 1.0
    return f"precision {precision:.3f} ({hits}/{len(found)}), recall {recall:.3f} ({hits}/{len(expected)})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--students", type=int, default=1000)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    planting = _load("planting")
    classes = _load("answer_classes")

    from grader.bank import default_bank
    from grader.code.stubs import stub_file
    from grader.integrity import answer_pairs, code_pairs
    from grader.integrity.collect import fingerprint_many

    files = honest_files(args.students, rng)
    expected_code = plant_code(files, rng, planting)
    sources = {f"c{i:04d}": text.encode() for i, text in enumerate(files)}
    step = args.students // 20
    copiers = {k * step: k * step + step // 2 for k in range(20)}  # copier -> source
    sheets = classes.make_class(args.students, args.seed, copies=copiers)
    records = classes.records(sheets)
    expected_answers = {frozenset((f"s{c:03d}", f"s{s:03d}")) for c, s in copiers.items()}
    sources_of = {f"s{c:03d}": f"s{s:03d}" for c, s in copiers.items()}
    print(f"{args.students} exercise.py files ({sum(map(len, files)) / len(files) / 1024:.1f} KB each), "
          f"{len(expected_code)} planted code pairs; {len(records)} answers, {len(expected_answers)} planted copiers")

    wall, cpu = time.perf_counter(), time.process_time()
    workers = ChildPeak()
    workers.start()
    stub = fingerprint_file(stub_file(default_bank().select(kind="code")))
    prints = fingerprint_many(sources, stub, args.jobs)
    workers.stop.set()
    refs = {SOLUTION_ID: fingerprint_file(SOLUTION_PATH.read_bytes(), stub)}
    t_print = time.perf_counter() - wall
    pairs = code_pairs.find_pairs(prints, refs, uncapped=[SOLUTION_ID])
    t_code = time.perf_counter() - wall
    found_answers = answer_pairs.find_pairs(records, students=args.students)
    t_all = time.perf_counter() - wall
    cpu_main = time.process_time() - cpu
    cpu_workers = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
    own, children = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, workers.peak_kb / 1024

    fingerprints = sum(p.size for p in prints.values())
    print(f"fingerprinting: {t_print:.1f} s wall ({fingerprints} fingerprints, {args.jobs} processes)")
    print(f"code pairs via the index: {t_code - t_print:.1f} s wall; {len(pairs)} pairs flagged")
    print(f"answer pairs: {t_all - t_code:.1f} s wall; {sum(p.flagged for p in found_answers)} flagged "
          f"of {len(found_answers)} pairs with any agreement")
    print(f"total: {t_all:.1f} s wall, {cpu_main:.1f} s CPU in this process + {cpu_workers:.1f} s in the workers; "
          f"peak RSS {own:.0f} MB (this process), {children:.0f} MB (largest worker)")
    print("code:    " + _scores({frozenset((p.a, p.b)) for p in pairs}, expected_code))
    print("answers: " + _scores({frozenset((p.a, p.b)) for p in found_answers if p.flagged}, expected_answers))
    honest_code = code_pairs.find_pairs(prints, refs, uncapped=[SOLUTION_ID], threshold=0.0)
    top_code = max((p.score for p in honest_code if frozenset((p.a, p.b)) not in expected_code), default=0.0)
    top_answers = max((p.score for p in found_answers if frozenset((p.a, p.b)) not in expected_answers), default=0.0)
    lowest_code = min((p.score for p in pairs if frozenset((p.a, p.b)) in expected_code), default=0.0)
    lowest_answers = min((p.score for p in found_answers if frozenset((p.a, p.b)) in expected_answers), default=0.0)
    print(f"margins: code, planted >= {lowest_code:.2f}, others <= {top_code:.2f} (threshold {code_pairs.THRESHOLD}); "
          f"answers, planted >= {lowest_answers:.1f}, others <= {top_answers:.1f} "
          f"(threshold {answer_pairs.threshold(args.students):.1f})")
    sources_found = sum(
        1 for p in found_answers if p.flagged and p.source is not None
        and sources_of.get(p.a if p.source == p.b else p.b) == p.source
    )
    print(f"answers: the source named correctly in {sources_found} of {len(expected_answers)} planted pairs")


if __name__ == "__main__":
    main()
