"""Throughput of answer checks: parse + grade per second for Real, Matrix and Expression.

Run: ``python benchmarks/answer_checks.py`` (prints one line per case).
"""

from __future__ import annotations

import time
from typing import Any, Callable, Sequence

from grader.answers import Expression, Matrix, Real
from grader.answers.base import AnswerCheck


def rate(spec_factory: Callable[[], AnswerCheck], answers: Sequence[Any], key: Any, fresh: bool) -> float:
    """Gradings per second; `fresh` builds a new spec for every answer (no verdict cache)."""
    spec = spec_factory()
    spec.grade(spec.parse(answers[0]), key)  # warm-up: imports, key cache
    start = time.perf_counter()
    for raw in answers:
        if fresh:
            spec = spec_factory()
        spec.grade(spec.parse(raw), key)
    return len(answers) / (time.perf_counter() - start)


def main() -> None:
    n = 400
    cases: list[tuple[str, Callable[[], AnswerCheck], list[Any], Any, bool]] = [
        ("Real, TOML floats", Real, [0.25 + i * 1e-6 for i in range(n)], 0.25, False),
        ("Real, numeric strings", Real, [f"{0.25 + i * 1e-6:.7f}" for i in range(n)], 0.25, False),
        ("Real, expressions", Real, [f"1/4 + {i}/10^7" if i % 2 else "sqrt(2)/2" for i in range(n)], 0.25, False),
        ("Matrix 3x3, TOML floats", Matrix, [[[1.0 + i, 2, 3], [4, 5, 6], [7, 8, 9]] for i in range(n)], [[1.0, 2, 3], [4, 5, 6], [7, 8, 9]], False),
        ("Matrix 3x3, strings", Matrix, [[["1/2", "1/3", f"{i}"], ["0.5", "2", "3"], ["1", "1", "1"]] for i in range(n)], [[0.5, 1 / 3, 0], [0.5, 2, 3], [1, 1, 1]], False),
        ("Expression, wrong (numeric path)", Expression, [f"s*(1-s) + {i + 1}/1000" for i in range(n)], "s*(1-s)", False),
        ("Expression, polynomial (expand)", Expression, [f"s - s^2 + {i}*s - {i}*s" for i in range(n)], "s*(1-s)", False),
        ("Expression, sigmoid' (numerator)", Expression, [f"exp(-s)/(1+exp(-s))^2 + {i}*s - {i}*s" for i in range(n // 4)], "sigma(s)*(1-sigma(s))", False),
        ("Expression, tanh' (rewrite exp)", Expression, [f"4/(exp(s)+exp(-s))^2 + {i}*s - {i}*s" for i in range(n // 4)], "1 - tanh(s)^2", False),
        ("Expression, undecided (simplify + points)", Expression, [f"s - s^2 + {i + 1}e-12" for i in range(n // 8)], "s*(1-s)", False),
        ("Expression, class of 400 (8 distinct)", Expression, [["s - s^2", "s*(1-s)", "-s^2+s", "s*(1+s)", "s", "s-s*s", "(1-s)*s", "s^2"][i % 8] for i in range(n)], "s*(1-s)", False),
    ]
    for name, factory, answers, key, fresh in cases:
        print(f"{name:40s} {rate(factory, answers, key, fresh):10.0f} parse+grade/s")


if __name__ == "__main__":
    main()
