"""Generate and grade 10 000 answer variants over the whole bank; print the throughput.

Targets (issue 3): >= 2 000 variants/s generated; >= 5 000/s graded for non-symbolic
answers; >= 200/s for symbolic (expression) answers.  Each variant is graded twice: once
with the key (correct) and once with a misconception's answer when it has one (the slower
path: the wrong answer is also matched against the misconceptions).

    python benchmarks/answers.py [--variants 10000]
"""

from __future__ import annotations

import argparse
import time

from grader.bank import default_bank
from grader.exercise import AnswerExercise
from grader.grading import grade_answer
from grader.variant import make_variant


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--variants", type=int, default=10_000)
    args = parser.parse_args()
    exercises = [e for e in default_bank() if isinstance(e, AnswerExercise)]
    plan = [(exercises[i % len(exercises)], 1_000_003 * i) for i in range(args.variants)]

    start = time.perf_counter()
    variants = [(exercise, make_variant(exercise, seed)) for exercise, seed in plan]
    generation = time.perf_counter() - start

    submissions = []
    for exercise, variant in variants:
        check = exercise.check_for(variant.params)
        submissions.append((exercise, variant, check.to_toml(variant.key)))
        for answer in list(variant.misconceptions.values())[:1]:
            submissions.append((exercise, variant, check.to_toml(answer)))

    timings = {"symbolic": [0.0, 0], "non-symbolic": [0.0, 0]}
    for exercise, variant, raw in submissions:
        kind = "symbolic" if exercise.check_for(variant.params).kind == "expression" else "non-symbolic"
        start = time.perf_counter()
        grade_answer(exercise, variant, raw)
        timings[kind][0] += time.perf_counter() - start
        timings[kind][1] += 1

    print(f"exercises in the bank:   {len(exercises)}")
    print(f"variants generated:      {len(variants)} in {generation:.2f} s = {len(variants) / generation:,.0f} variants/s (target >= 2,000)")
    for kind, target in (("non-symbolic", 5000), ("symbolic", 200)):
        seconds, count = timings[kind]
        rate = count / seconds if seconds else float("nan")
        print(f"graded ({kind + '):':14} {count} answers in {seconds:.2f} s = {rate:,.0f} answers/s (target >= {target:,})")


if __name__ == "__main__":
    main()
