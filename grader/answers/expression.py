"""Symbolic answers: an expression in named variables, graded by equivalence with a key.

Equivalence rule (in this order):

1. **Numeric test.** Both expressions are evaluated at `N_POINTS` fixed pseudo-random points
   drawn uniformly from the variables' domains (a deterministic RNG seeded by the variable
   names and domains).  A point where the *key* is undefined (domain error, overflow) is
   skipped.  If at any other point the answer is undefined, or differs from the key by more
   than ``atol + rtol * max(|answer|, |key|)``, the answer is **not equivalent** (score 0).
2. **Symbolic confirmation.** Otherwise sympy tries to show ``answer - key == 0``, cheapest
   first: ``expand`` (after rewriting sin, cos, tan and tanh with exp); then ``expand`` of
   the numerator over a common denominator (``as_numer_denom``: a zero numerator proves the
   difference zero wherever both sides are defined); then ``simplify``.  All of it runs
   under a wall-clock budget (`symbolic_budget` seconds, enforced with
   ``signal.setitimer``), and is skipped when that is impossible (off the main thread, or
   another timer is armed) or when a constant exponent exceeds `MAX_SYMBOLIC_EXPONENT`.
   If it shows zero, the answer is **equivalent**.
3. **Undecided** (sympy ran out of time, could not reduce the difference to 0, or was
   skipped): `N_EXTRA_POINTS` more points are tested as in step 1, and the answer is
   equivalent exactly when every usable point of both rounds agrees and at least one point
   was usable.  So "undecided" counts as *not equal* only when the numeric test failed.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from fractions import Fraction
from typing import TYPE_CHECKING, Any, Mapping, Sequence

from ._common import check_text, show, spec_repr
from ._timelimit import run_with_budget
from .base import AnswerParseError, Check
from .safe_expr import (
    RESERVED,
    EvaluationError,
    Neg,
    Node,
    Number,
    evaluate,
    format_expression,
    max_exponent,
    parse_expression,
    to_sympy,
)

if TYPE_CHECKING:  # pragma: no cover
    import sympy

N_POINTS = 8
N_EXTRA_POINTS = 56
MAX_SYMBOLIC_EXPONENT = 32.0
DEFAULT_DOMAIN = (0.1, 2.0)
_CACHE_SIZE = 1024


@dataclass
class _Key:
    """A parsed key with its values at the spec's points (None where undefined)."""

    node: Node
    values: tuple[float | None, ...]
    extra_values: tuple[float | None, ...] | None = None
    sympy_expr: Any = field(default=None)


class Expression:
    """An expression in `variables`.  Key: an expression string in the same grammar
    (``"s*(1-s)"``), written by the exercise author.

    `domains` maps a variable to the open interval ``(low, high)`` its test points come
    from (default `DEFAULT_DOMAIN`).  Symbols are positive when their domain is, else real.
    """

    kind = "expression"

    def __init__(
        self,
        variables: Sequence[str] = ("s",),
        domains: Mapping[str, tuple[float, float]] | None = None,
        *,
        rtol: float = 1e-6,
        atol: float = 1e-9,
        symbolic_budget: float = 0.25,
    ) -> None:
        if isinstance(variables, str):
            raise ValueError("variables must be a sequence of names, e.g. ('s',), not a string")
        self.variables = tuple(variables)
        if not self.variables or len(set(self.variables)) != len(self.variables):
            raise ValueError(f"variables must be distinct and not empty, got {self.variables!r}")
        for name in self.variables:
            if name in RESERVED or not (name.isascii() and name[:1].isalpha() and name.replace("_", "a").isalnum()) or "__" in name:
                raise ValueError(f"{name!r} cannot be a variable name")
        unknown = set(domains or {}) - set(self.variables)
        if unknown:
            raise ValueError(f"domains given for unknown variables {sorted(unknown)}")
        self.domains = {v: _check_domain(v, (domains or {}).get(v, DEFAULT_DOMAIN)) for v in self.variables}
        self.rtol = float(rtol)
        self.atol = float(atol)
        self.symbolic_budget = float(symbolic_budget)
        rng = random.Random(f"grader.answers.Expression:{self.domains!r}")
        self._points = [self._draw(rng) for _ in range(N_POINTS)]
        self._extra_points = [self._draw(rng) for _ in range(N_EXTRA_POINTS)]
        self._symbols: dict[str, Any] | None = None
        self._keys: dict[str, _Key] = {}
        self._verdicts: dict[tuple[Node, str], Check] = {}

    def _draw(self, rng: random.Random) -> dict[str, float]:
        return {v: rng.uniform(lo, hi) for v, (lo, hi) in self.domains.items()}

    def __repr__(self) -> str:
        if all(d == DEFAULT_DOMAIN for d in self.domains.values()):
            return spec_repr(self, variables=self.variables)
        return spec_repr(self, variables=self.variables, domains=self.domains)

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and repr(other) == repr(self)

    def __hash__(self) -> int:
        return hash(repr(self))

    # ------------------------------------------------------------------ protocol

    def describe(self, key: Any) -> str:
        return f"expression in {_join(self.variables)}"

    def parse(self, raw: Any) -> Node:
        if isinstance(raw, bool) or not isinstance(raw, (str, int, float)):
            raise AnswerParseError(
                f"expected an expression in {_join(self.variables)} as text, got {show(raw)}"
            )
        if isinstance(raw, (int, float)):
            return _number_node(raw)
        text = check_text(raw, "expression")
        try:
            return parse_expression(text, self.variables)
        except AnswerParseError as exc:
            raise AnswerParseError(f"expected an expression in {_join(self.variables)}: {exc}") from None

    def grade(self, parsed: Node, key: str) -> Check:
        cache_key = (parsed, key)
        verdict = self._verdicts.get(cache_key)
        if verdict is None:
            verdict = self._grade(parsed, self._key(key))
            if len(self._verdicts) >= _CACHE_SIZE:
                self._verdicts.clear()
            self._verdicts[cache_key] = verdict
        return verdict

    def to_toml(self, key: str) -> str:
        return key

    def to_text(self, key: str) -> str:
        return format_expression(self._key(key).node)

    # ------------------------------------------------------------------ grading

    def _key(self, key: str) -> _Key:
        cached = self._keys.get(key)
        if cached is None:
            try:
                node = parse_expression(key, self.variables)
            except AnswerParseError as exc:
                raise ValueError(f"invalid expression key {key!r}: {exc}") from None
            cached = _Key(node, self._values(node, self._points))
            if len(self._keys) >= _CACHE_SIZE:
                self._keys.clear()
            self._keys[key] = cached
        return cached

    def _grade(self, answer: Node, key: _Key) -> Check:
        usable, differing = self._compare(answer, key.values, self._points)
        if differing is not None:
            return _differs(differing)
        if self._symbolically_zero(answer, key):
            return Check(1.0)
        if key.extra_values is None:
            key.extra_values = self._values(key.node, self._extra_points)
        more, differing = self._compare(answer, key.extra_values, self._extra_points)
        if differing is not None:
            return _differs(differing)
        if usable + more == 0:
            return Check(0.0, "could not check the expression: the expected one is undefined on the test domain")
        return Check(1.0)

    @staticmethod
    def _values(node: Node, points: list[dict[str, float]]) -> tuple[float | None, ...]:
        values: list[float | None] = []
        for point in points:
            try:
                values.append(evaluate(node, point))
            except EvaluationError:
                values.append(None)
        return tuple(values)

    def _compare(
        self, answer: Node, key_values: tuple[float | None, ...], points: list[dict[str, float]]
    ) -> tuple[int, dict[str, float] | None]:
        """(number of usable points, the first point where the answer differs or None)."""
        usable = 0
        for expected, point in zip(key_values, points):
            if expected is None:
                continue
            usable += 1
            try:
                got = evaluate(answer, point)
            except EvaluationError:
                return usable, point
            if abs(got - expected) > self.atol + self.rtol * max(abs(got), abs(expected)):
                return usable, point
        return usable, None

    def _symbolically_zero(self, answer: Node, key: _Key) -> bool:
        if max(max_exponent(answer), max_exponent(key.node)) > MAX_SYMBOLIC_EXPONENT:
            return False
        import sympy  # noqa: F401  (imported before the timer: an import must never be interrupted)

        done, zero = run_with_budget(lambda: self._sympy_zero(answer, key), self.symbolic_budget)
        return bool(done and zero)

    def _sympy_zero(self, answer: Node, key: _Key) -> bool:
        import sympy

        symbols = self._sympy_symbols()
        if key.sympy_expr is None:
            key.sympy_expr = to_sympy(key.node, symbols)
        diff = to_sympy(answer, symbols) - key.sympy_expr
        if diff == 0:
            return True
        if diff.has(sympy.sin, sympy.cos, sympy.tan, sympy.tanh):
            reduced = sympy.expand(diff.rewrite(sympy.exp))
        else:
            reduced = sympy.expand(diff)
        if reduced == 0 or sympy.expand(reduced.as_numer_denom()[0]) == 0:
            return True
        return bool(sympy.simplify(diff) == 0)

    def _sympy_symbols(self) -> dict[str, Any]:
        if self._symbols is None:
            import sympy

            self._symbols = {
                v: sympy.Symbol(v, positive=True) if lo >= 0 else sympy.Symbol(v, real=True)
                for v, (lo, _) in self.domains.items()
            }
        return self._symbols


def _check_domain(name: str, domain: tuple[float, float]) -> tuple[float, float]:
    try:
        lo, hi = (float(x) for x in domain)
    except (TypeError, ValueError):
        raise ValueError(f"the domain of {name!r} must be a pair (low, high), got {domain!r}") from None
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"the domain of {name!r} must be finite with low < high, got {domain!r}")
    return lo, hi


def _number_node(raw: int | float) -> Node:
    if isinstance(raw, float) and not math.isfinite(raw):
        raise AnswerParseError(f"expected a finite number or an expression, got {show(raw)}")
    text = repr(raw) if isinstance(raw, float) else str(raw)
    if len(text) > 40:
        raise AnswerParseError(f"the number {show(raw)} is too long")
    value = Fraction(text)
    if abs(value) > 10**300:
        raise AnswerParseError(f"the number {show(raw)} is too large")
    if value < 0:
        return Neg(Number(-value, text[1:]))
    return Number(value, text)


def _differs(point: dict[str, float]) -> Check:
    where = ", ".join(f"{v} = {x:.3g}" for v, x in point.items())
    return Check(0.0, f"not equivalent to the expected expression (the values differ at {where})")


def _join(names: Sequence[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]
