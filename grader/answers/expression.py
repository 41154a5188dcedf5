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
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar, Mapping, Sequence

from ._common import check_text, show
from ._timelimit import run_with_budget
from .base import AnswerParseError, Marking
from .fields import Validated, at_least, fail, number, setting
from .registry import register
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


def _variable_names(check: Any, name: str, value: Any) -> None:
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise fail(check, name, "a non-empty list of names, e.g. ('s',)", value)
    if len(set(value)) != len(value):
        raise fail(check, name, "distinct", value)
    for item in value:
        if not _is_name(item):
            raise fail(check, name, "names (a letter, then letters, digits or _; not a function or constant)", value)


def _is_name(item: Any) -> bool:
    return (
        isinstance(item, str) and item not in RESERVED and item.isascii() and item[:1].isalpha()
        and item.replace("_", "a").isalnum() and "__" not in item
    )


def _domains(check: Any, name: str, value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise fail(check, name, "a table of variable -> (low, high)", value)
    unknown = sorted(str(v) for v in set(value) - set(check.variables))
    if unknown:
        raise fail(check, name, f"given for the variables only ({_join(check.variables)})", value)
    for variable, domain in value.items():
        if not _is_domain(domain):
            raise fail(check, f"the domain of {variable}", "a finite pair (low, high) with low < high", domain)


def _is_domain(domain: Any) -> bool:
    if isinstance(domain, (str, bytes)) or not isinstance(domain, (list, tuple)) or len(domain) != 2:
        return False
    if any(isinstance(x, bool) or not isinstance(x, (int, float)) for x in domain):
        return False
    lo, hi = domain
    return math.isfinite(lo) and math.isfinite(hi) and lo < hi


@register
@dataclass(frozen=True)
class Expression(Validated):
    """An expression in `variables`.  Key: an expression string in the same grammar
    (``"s*(1-s)"``), written by the exercise author.

    `domains` maps a variable to the open interval ``(low, high)`` its test points come
    from (default `DEFAULT_DOMAIN`; every variable has one after construction).  Symbols
    are positive when their domain is, else real.
    """

    kind: ClassVar[str] = "expression"
    variables: tuple[str, ...] = setting(("s",), _variable_names, convert=tuple)
    domains: dict[str, tuple[float, float]] = setting(None, _domains, hash=False)
    rtol: float = setting(1e-6, number, at_least(0), convert=float, kw_only=True)
    atol: float = setting(1e-9, number, at_least(0), convert=float, kw_only=True)
    symbolic_budget: float = setting(0.25, number, at_least(0), convert=float, kw_only=True)

    def __post_init__(self) -> None:
        super().__post_init__()
        given = self.domains or {}
        filled = {v: tuple(float(x) for x in given.get(v, DEFAULT_DOMAIN)) for v in self.variables}
        object.__setattr__(self, "domains", filled)

    @cached_property
    def _points(self) -> list[dict[str, float]]:
        return self._draws()[0]

    @cached_property
    def _extra_points(self) -> list[dict[str, float]]:
        return self._draws()[1]

    def _draws(self) -> tuple[list[dict[str, float]], list[dict[str, float]]]:
        rng = random.Random(f"grader.answers.Expression:{self.domains!r}")
        points = [self._draw(rng) for _ in range(N_POINTS)]
        return points, [self._draw(rng) for _ in range(N_EXTRA_POINTS)]

    @cached_property
    def _keys(self) -> dict[str, _Key]:
        return {}

    @cached_property
    def _verdicts(self) -> dict[tuple[Node, str], Marking]:
        return {}

    def _draw(self, rng: random.Random) -> dict[str, float]:
        return {v: rng.uniform(lo, hi) for v, (lo, hi) in self.domains.items()}

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

    def grade(self, parsed: Node, key: str) -> Marking:
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

    def _grade(self, answer: Node, key: _Key) -> Marking:
        usable, differing = self._compare(answer, key.values, self._points)
        if differing is not None:
            return _differs(differing)
        if self._symbolically_zero(answer, key):
            return Marking(1.0)
        if key.extra_values is None:
            key.extra_values = self._values(key.node, self._extra_points)
        more, differing = self._compare(answer, key.extra_values, self._extra_points)
        if differing is not None:
            return _differs(differing)
        if usable + more == 0:
            return Marking(0.0, "could not check the expression: the expected one is undefined on the test domain")
        return Marking(1.0)

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

        symbols = self._symbols
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

    @cached_property
    def _symbols(self) -> dict[str, Any]:
        import sympy

        return {
            v: sympy.Symbol(v, positive=True) if lo >= 0 else sympy.Symbol(v, real=True)
            for v, (lo, _) in self.domains.items()
        }


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


def _differs(point: dict[str, float]) -> Marking:
    where = ", ".join(f"{v} = {x:.3g}" for v, x in point.items())
    return Marking(0.0, f"not equivalent to the expected expression (the values differ at {where})")


def _join(names: Sequence[str]) -> str:
    if len(names) == 1:
        return names[0]
    return ", ".join(names[:-1]) + " and " + names[-1]
