"""A whitelist parser for the small arithmetic expressions students may type.

Nothing here evaluates a string.  A hand-written tokenizer and a recursive-descent parser
turn the text into a small immutable tree (`Number`, `Name`, `Neg`, `BinOp`, `Call`); only
that tree is ever evaluated (`evaluate`, float arithmetic) or turned into sympy
(`to_sympy`, built from sympy constructors).

Grammar (``^`` and ``**`` both mean power, which binds tighter than unary minus and is
right-associative, so ``-2^2 == -4`` and ``2^3^2 == 2^9``)::

    sum     := product (("+" | "-") product)*
    product := unary (("*" | "/") unary)*
    unary   := ("+" | "-") unary | power
    power   := primary (("^" | "**") unary)?
    primary := NUMBER | NAME | FUNCTION "(" sum ")" | "(" sum ")"

NUMBER is an ASCII decimal (``3``, ``0.25``, ``.5``, ``1.5e-3``); NAME is a letter followed by
letters, digits or underscores and must be an allowed variable or a constant (``e``, ``pi``);
FUNCTION is one of `FUNCTIONS` (``log`` and ``ln`` are both the natural logarithm, ``sigma``
and ``sigmoid`` are both the logistic function).  Implicit multiplication (``2x``) is an
error, as is every other character.

Limits, all checked before any deep work: at most `MAX_LENGTH` characters, `MAX_TOKENS`
tokens, `MAX_DEPTH` levels of nesting (parentheses, unary signs and exponents together; the
parenthesis depth is checked while tokenizing, so ``"(" * 10_000`` fails at once), numbers of
at most `MAX_NUMBER_CHARS` characters, and every constant exponent of magnitude at most
`MAX_EXPONENT`.  Every constant part of an expression must evaluate to a finite float, so
``9^9^9^9`` or ``1/0`` are rejected by `parse_expression` itself.
"""

from __future__ import annotations

import functools
import keyword
import math
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING, Callable, Iterable, Mapping, Union

from .base import AnswerParseError

if TYPE_CHECKING:  # pragma: no cover
    import sympy

MAX_LENGTH = 500
MAX_TOKENS = 250
MAX_DEPTH = 50
MAX_NUMBER_CHARS = 40
MAX_EXPONENT = 1000.0
MAX_NUMBER_EXPONENT = 400
MAX_EXACT_BITS = 20_000

CONSTANTS: Mapping[str, float] = {"e": math.e, "pi": math.pi}
FUNCTIONS: tuple[str, ...] = (
    "sqrt", "exp", "log", "ln", "sin", "cos", "tan", "tanh", "abs", "sigma", "sigmoid",
)
RESERVED: frozenset[str] = frozenset(CONSTANTS) | frozenset(FUNCTIONS)

_NUMBER_RE = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?", re.ASCII)
_NAME_RE = re.compile(r"[A-Za-z][A-Za-z0-9_]*", re.ASCII)
_SPACES = " \t\r\n"


class EvaluationError(AnswerParseError):
    """An expression has no finite value (a domain error, a division by zero, an overflow)."""


# --------------------------------------------------------------------------- tree


@dataclass(frozen=True, slots=True)
class Number:
    """A literal number; `value` is exact (``0.1`` is 1/10), `text` is what was written."""

    value: Fraction
    text: str


@dataclass(frozen=True, slots=True)
class Name:
    """A variable or one of the constants ``e`` and ``pi``."""

    id: str


@dataclass(frozen=True, slots=True)
class Neg:
    """Unary minus."""

    operand: "Node"


@dataclass(frozen=True, slots=True)
class BinOp:
    """A binary operation; `op` is one of ``+ - * / ^``."""

    op: str
    left: "Node"
    right: "Node"


@dataclass(frozen=True, slots=True)
class Call:
    """A call of one of `FUNCTIONS` on one argument."""

    func: str
    arg: "Node"


Node = Union[Number, Name, Neg, BinOp, Call]


# --------------------------------------------------------------------------- tokens


@dataclass(frozen=True, slots=True)
class _Token:
    kind: str  # "num", "name", "op", "(", ")", ","
    text: str
    pos: int  # 1-based column, for messages


def _fail(message: str) -> AnswerParseError:
    return AnswerParseError(message)


def tokenize(text: str) -> list[_Token]:
    """Split `text` into tokens, rejecting anything outside the grammar's alphabet."""
    if not isinstance(text, str):
        raise _fail(f"expected an expression as text, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise _fail(f"expression too long ({len(text)} characters, at most {MAX_LENGTH})")
    for i, ch in enumerate(text):
        if not ch.isascii():
            raise _fail(
                f"non-ASCII character {ch!r} (U+{ord(ch):04X}) at position {i + 1}; "
                "type the expression in plain ASCII"
            )
    tokens: list[_Token] = []
    depth = 0
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        pos = i + 1
        if ch in _SPACES:
            i += 1
            continue
        if ch.isdigit() or (ch == "." and i + 1 < n and text[i + 1].isdigit()):
            match = _NUMBER_RE.match(text, i)
            assert match is not None  # the first character is a digit or ".digit"
            tokens.append(_Token("num", match.group(), pos))
            i = match.end()
        elif ch.isalpha():
            match = _NAME_RE.match(text, i)
            assert match is not None
            word = match.group()
            if "__" in word:
                raise _fail(f"names with '__' are not allowed (position {pos})")
            if keyword.iskeyword(word) and word not in CONSTANTS:
                raise _fail(f"'{word}' is not allowed in an expression (position {pos})")
            tokens.append(_Token("name", word, pos))
            i = match.end()
        elif ch == "*":
            if text.startswith("**", i):
                tokens.append(_Token("op", "^", pos))
                i += 2
            else:
                tokens.append(_Token("op", "*", pos))
                i += 1
        elif ch in "+-/^":
            tokens.append(_Token("op", ch, pos))
            i += 1
        elif ch == "(":
            depth += 1
            if depth > MAX_DEPTH:
                raise _fail(f"too deeply nested (more than {MAX_DEPTH} parentheses)")
            tokens.append(_Token("(", ch, pos))
            i += 1
        elif ch == ")":
            depth -= 1
            if depth < 0:
                raise _fail(f"unmatched ')' at position {pos}")
            tokens.append(_Token(")", ch, pos))
            i += 1
        elif ch == ",":
            tokens.append(_Token(",", ch, pos))
            i += 1
        else:
            raise _fail(_unexpected_character(ch, pos, tokens))
        if len(tokens) > MAX_TOKENS:
            raise _fail(f"expression too long (more than {MAX_TOKENS} symbols)")
    if depth > 0:
        raise _fail("missing ')' at the end of the expression")
    return tokens


def _unexpected_character(ch: str, pos: int, tokens: list[_Token]) -> str:
    previous = tokens[-1] if tokens else None
    if ch == "." and previous is not None and previous.kind in ("name", ")"):
        return f"attribute access ('.') is not allowed (position {pos})"
    if ch == "_":
        return f"names must start with a letter ('_' at position {pos})"
    if ch in "[]":
        return f"brackets/subscripts ('{ch}') are not allowed in an expression (position {pos})"
    if ch in "'\"`":
        return f"quotes/strings are not allowed inside an expression (position {pos})"
    if ch == "=":
        return f"'=' is not allowed: write only the expression (position {pos})"
    if ch.isprintable():
        return f"unexpected character {ch!r} at position {pos}"
    return f"unexpected control character {ch!r} at position {pos}"


# --------------------------------------------------------------------------- parser


class _Parser:
    """Recursive descent over a token list; `depth` bounds the recursion."""

    def __init__(self, tokens: list[_Token], allowed: frozenset[str]) -> None:
        self.tokens = tokens
        self.allowed = allowed
        self.i = 0
        self.depth = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.tokens[self.i]
        self.i += 1
        return token

    def enter(self) -> None:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise _fail(f"too deeply nested (more than {MAX_DEPTH} levels)")

    def parse(self) -> Node:
        if not self.tokens:
            raise _fail("empty expression")
        node = self.sum()
        token = self.peek()
        if token is not None:
            if token.kind == ")":
                raise _fail(f"unmatched ')' at position {token.pos}")
            if token.kind == ",":
                raise _fail(
                    f"',' at position {token.pos} is not allowed here "
                    "(write decimals with '.', and functions take one argument)"
                )
            raise _fail(f"unexpected {token.text!r} at position {token.pos}")
        return node

    def sum(self) -> Node:
        node = self.product()
        while (token := self.peek()) is not None and token.text in ("+", "-") and token.kind == "op":
            self.take()
            node = BinOp(token.text, node, self.product())
        return node

    def product(self) -> Node:
        node = self.unary()
        while True:
            token = self.peek()
            if token is None:
                return node
            if token.kind == "op" and token.text in ("*", "/"):
                self.take()
                node = BinOp(token.text, node, self.unary())
            elif token.kind in ("num", "name", "("):
                raise _fail(
                    f"missing operator before {token.text!r} at position {token.pos} "
                    "(write '*' for multiplication, e.g. 2*x)"
                )
            else:
                return node

    def unary(self) -> Node:
        token = self.peek()
        if token is not None and token.kind == "op" and token.text in ("+", "-"):
            self.take()
            self.enter()
            operand = self.unary()
            self.depth -= 1
            return Neg(operand) if token.text == "-" else operand
        return self.power()

    def power(self) -> Node:
        base = self.primary()
        token = self.peek()
        if token is not None and token.kind == "op" and token.text == "^":
            self.take()
            self.enter()
            exponent = self.unary()
            self.depth -= 1
            return BinOp("^", base, exponent)
        return base

    def primary(self) -> Node:
        token = self.peek()
        if token is None:
            raise _fail("the expression ends too early (an operand is missing at the end)")
        self.take()
        if token.kind == "num":
            return _number(token)
        if token.kind == "name":
            return self.name_or_call(token)
        if token.kind == "(":
            self.enter()
            inner = self.sum()
            self.expect_close(token)
            self.depth -= 1
            return inner
        if token.kind == ")":
            raise _fail(f"missing operand before ')' at position {token.pos}")
        if token.kind == ",":
            raise _fail(f"',' at position {token.pos} is not allowed here")
        raise _fail(f"missing operand before {token.text!r} at position {token.pos}")

    def name_or_call(self, token: _Token) -> Node:
        word = token.text
        if word in FUNCTIONS:
            following = self.peek()
            if following is None or following.kind != "(":
                raise _fail(f"{word} must be followed by '(' (position {token.pos})")
            self.take()
            self.enter()
            arg = self.sum()
            self.expect_close(following, func=word)
            self.depth -= 1
            return Call(word, arg)
        if word in CONSTANTS or word in self.allowed:
            following = self.peek()
            if following is not None and following.kind == "(":
                raise _fail(
                    f"'{word}' is not a function (position {token.pos}); "
                    f"write '*' to multiply, e.g. {word}*(...)"
                )
            return Name(word)
        raise _fail(f"unknown name {word!r} at position {token.pos}; {_allowed_text(self.allowed)}")

    def expect_close(self, opening: _Token, func: str | None = None) -> None:
        token = self.peek()
        if token is not None and token.kind == ")":
            self.take()
            return
        if token is not None and token.kind == "," and func is not None:
            raise _fail(f"{func} takes exactly one argument (position {token.pos})")
        if token is None:
            raise _fail(f"missing ')' for the '(' at position {opening.pos}")
        raise _fail(f"expected ')' at position {token.pos}, found {token.text!r}")


def _allowed_text(allowed: Iterable[str]) -> str:
    names = sorted(allowed)
    if not names:
        return "no variables are allowed here (only numbers, e, pi and functions)"
    return "allowed variables: " + ", ".join(names)


def _number(token: _Token) -> Number:
    text = token.text
    if len(text) > MAX_NUMBER_CHARS:
        raise _fail(f"number too long at position {token.pos} (at most {MAX_NUMBER_CHARS} characters)")
    mantissa, _, exponent_text = text.lower().partition("e")
    exponent = int(exponent_text) if exponent_text else 0
    if abs(exponent) > MAX_NUMBER_EXPONENT:
        raise _fail(f"number out of range at position {token.pos} (the exponent is above {MAX_NUMBER_EXPONENT})")
    whole, _, decimals = mantissa.partition(".")
    value = Fraction(int((whole + decimals) or "0"), 10 ** len(decimals)) * Fraction(10) ** exponent
    return Number(value, text)


def parse_expression(text: str, allowed_names: Iterable[str] = ()) -> Node:
    """Parse `text` into a tree, allowing only the variables `allowed_names`.

    Raises AnswerParseError (with the position and what was expected) for anything outside
    the grammar or the limits, and for a constant part that has no finite value.
    """
    allowed = frozenset(allowed_names)
    clash = allowed & RESERVED
    if clash:
        raise ValueError(f"variable names clash with constants/functions: {sorted(clash)}")
    node = _Parser(tokenize(text), allowed).parse()
    _fold_constants(node)
    return node


# --------------------------------------------------------------------------- evaluation


def _sigmoid(x: float) -> float:
    if x >= 0:
        return 1.0 / (1.0 + math.exp(-x))
    z = math.exp(x)
    return z / (1.0 + z)


def _sqrt(x: float) -> float:
    if x < 0:
        raise EvaluationError("square root of a negative number")
    return math.sqrt(x)


def _log(x: float) -> float:
    if x <= 0:
        raise EvaluationError("logarithm of a number that is not positive")
    return math.log(x)


_FLOAT_FUNCTIONS: Mapping[str, Callable[[float], float]] = {
    "sqrt": _sqrt, "exp": math.exp, "log": _log, "ln": _log, "sin": math.sin,
    "cos": math.cos, "tan": math.tan, "tanh": math.tanh, "abs": abs,
    "sigma": _sigmoid, "sigmoid": _sigmoid,
}


def _power(base: float, exponent: float) -> float:
    if abs(exponent) > MAX_EXPONENT:
        raise EvaluationError(f"exponent too large (magnitude above {MAX_EXPONENT:g})")
    if base == 0 and exponent < 0:
        raise EvaluationError("division by zero (zero to a negative power)")
    if base < 0 and exponent != int(exponent):
        raise EvaluationError("a negative number to a fractional power")
    return math.pow(base, exponent)


def _apply(op: str, a: float, b: float) -> float:
    if op == "+":
        return a + b
    if op == "-":
        return a - b
    if op == "*":
        return a * b
    if op == "/":
        if b == 0:
            raise EvaluationError("division by zero")
        return a / b
    return _power(a, b)


def _finite(value: float) -> float:
    if not math.isfinite(value):
        raise EvaluationError("the value is too large (overflow)")
    return value


def evaluate(node: Node, env: Mapping[str, float]) -> float:
    """The float value of `node` with the variables taken from `env`.

    Raises EvaluationError (an AnswerParseError) on a domain error, a division by zero, an
    overflow or a non-finite result, and on a variable missing from `env`; nothing else.
    """
    try:
        return _finite(_evaluate(node, env))
    except EvaluationError:
        raise
    except OverflowError:
        raise EvaluationError("the value is too large (overflow)") from None
    except ZeroDivisionError:
        raise EvaluationError("division by zero") from None
    except ValueError as exc:
        raise EvaluationError(f"cannot evaluate the expression ({exc})") from None
    except KeyError as exc:
        raise EvaluationError(f"no value for the variable {exc.args[0]!r}") from None


def _evaluate(node: Node, env: Mapping[str, float]) -> float:
    if isinstance(node, Number):
        return _finite(float(node.value))
    if isinstance(node, Name):
        value = CONSTANTS.get(node.id)
        return float(env[node.id]) if value is None else value
    if isinstance(node, Neg):
        return -_evaluate(node.operand, env)
    if isinstance(node, BinOp):
        return _finite(_apply(node.op, _evaluate(node.left, env), _evaluate(node.right, env)))
    return _finite(_FLOAT_FUNCTIONS[node.func](_evaluate(node.arg, env)))


def _fold_constants(node: Node) -> float | None:
    """The value of a constant `node` (None if it has variables); rejects bad constants."""
    if isinstance(node, Number):
        try:
            return _finite(float(node.value))
        except OverflowError:
            raise EvaluationError(f"the number {node.text} is too large") from None
    if isinstance(node, Name):
        return CONSTANTS.get(node.id)
    if isinstance(node, Neg):
        inner = _fold_constants(node.operand)
        return None if inner is None else -inner
    if isinstance(node, Call):
        return None if _fold_constants(node.arg) is None else evaluate(node, {})
    left = _fold_constants(node.left)
    right = _fold_constants(node.right)
    if node.op == "^" and right is not None and abs(right) > MAX_EXPONENT:
        raise EvaluationError(f"exponent too large (magnitude above {MAX_EXPONENT:g})")
    if left is None or right is None:
        return None
    try:
        return _finite(_apply(node.op, left, right))
    except EvaluationError:
        raise
    except (OverflowError, ValueError, ZeroDivisionError):
        raise EvaluationError("a constant part of the expression is too large or undefined") from None


def free_names(node: Node) -> frozenset[str]:
    """The variables (not constants) that `node` uses."""
    if isinstance(node, Name):
        return frozenset() if node.id in CONSTANTS else frozenset((node.id,))
    if isinstance(node, Number):
        return frozenset()
    if isinstance(node, Neg):
        return free_names(node.operand)
    if isinstance(node, Call):
        return free_names(node.arg)
    return free_names(node.left) | free_names(node.right)


def max_exponent(node: Node) -> float:
    """The largest magnitude of a constant exponent in `node` (0 if there is none)."""
    if isinstance(node, (Number, Name)):
        return 0.0
    if isinstance(node, Neg):
        return max_exponent(node.operand)
    if isinstance(node, Call):
        return max_exponent(node.arg)
    own = 0.0
    if node.op == "^" and not free_names(node.right):
        own = abs(evaluate(node.right, {}))
    return max(own, max_exponent(node.left), max_exponent(node.right))


def exact_value(node: Node) -> Fraction | None:
    """The exact rational value of `node`, or None when it is not a rational expression.

    Only numbers, ``+ - * /`` and integer powers qualify.  Every intermediate value is
    bounded: a result whose numerator or denominator would exceed `MAX_EXACT_BITS` bits
    gives None (a power is refused before it is computed, any other operation right after),
    so no operand of any operation is ever larger than that, and the work stays small.
    """
    if isinstance(node, Number):
        return _bounded(node.value)
    if isinstance(node, Neg):
        inner = exact_value(node.operand)
        return None if inner is None else -inner
    if not isinstance(node, BinOp):
        return None
    left = exact_value(node.left)
    if left is None:
        return None
    right = exact_value(node.right)
    if right is None:
        return None
    if node.op == "+":
        return _bounded(left + right)
    if node.op == "-":
        return _bounded(left - right)
    if node.op == "*":
        return _bounded(left * right)
    if node.op == "/":
        return None if right == 0 else _bounded(left / right)
    if right.denominator != 1 or abs(right) > MAX_EXPONENT or (left == 0 and right < 0):
        return None
    if _bits(left) * abs(right.numerator) > MAX_EXACT_BITS:
        return None
    return _bounded(left ** int(right))


def _bits(value: Fraction) -> int:
    return max(value.numerator.bit_length(), value.denominator.bit_length())


def _bounded(value: Fraction) -> Fraction | None:
    """`value`, or None when it is larger than `MAX_EXACT_BITS` bits."""
    return value if _bits(value) <= MAX_EXACT_BITS else None


# --------------------------------------------------------------------------- output


def to_sympy(node: Node, symbols: Mapping[str, "sympy.Symbol"] | None = None) -> "sympy.Expr":
    """The sympy expression of `node`, built from sympy constructors (never from strings).

    Numbers become exact Rationals; variables come from `symbols` (default: real Symbols).
    Only call it on trees from `parse_expression`, whose constant parts are known to be small.
    """
    import sympy

    table = dict(symbols or {})

    def build(n: Node) -> sympy.Expr:
        if isinstance(n, Number):
            return sympy.Rational(n.value.numerator, n.value.denominator)
        if isinstance(n, Name):
            if n.id == "e":
                return sympy.E
            if n.id == "pi":
                return sympy.pi
            if n.id not in table:
                table[n.id] = sympy.Symbol(n.id, real=True)
            return table[n.id]
        if isinstance(n, Neg):
            return -build(n.operand)
        if isinstance(n, Call):
            arg = build(n.arg)
            if n.func in ("sigma", "sigmoid"):
                return 1 / (1 + sympy.exp(-arg))
            return _sympy_functions()[n.func](arg)
        left, right = build(n.left), build(n.right)
        if n.op == "+":
            return sympy.Add(left, right)
        if n.op == "-":
            return sympy.Add(left, -right)
        if n.op == "*":
            return sympy.Mul(left, right)
        if n.op == "/":
            return sympy.Mul(left, sympy.Pow(right, -1))
        return sympy.Pow(left, right)

    return build(node)


@functools.cache
def _sympy_functions() -> Mapping[str, Callable[["sympy.Expr"], "sympy.Expr"]]:
    import sympy

    return {
        "sqrt": sympy.sqrt, "exp": sympy.exp, "log": sympy.log, "ln": sympy.log,
        "sin": sympy.sin, "cos": sympy.cos, "tan": sympy.tan, "tanh": sympy.tanh,
        "abs": sympy.Abs,
    }


_PRECEDENCE = {"+": 1, "-": 1, "*": 2, "/": 2, "^": 4}


def format_expression(node: Node) -> str:
    """A canonical ASCII text for `node` that parses back to the same tree."""
    return _format(node, 0)


def _format(node: Node, outer: int) -> str:
    if isinstance(node, Number):
        return node.text
    if isinstance(node, Name):
        return node.id
    if isinstance(node, Call):
        return f"{node.func}({_format(node.arg, 0)})"
    if isinstance(node, Neg):
        text = "-" + _format(node.operand, 3)
        return f"({text})" if outer >= 3 else text
    prec = _PRECEDENCE[node.op]
    if node.op == "^":
        text = f"{_format(node.left, 5)}^{_format(node.right, 3)}"
    else:
        text = f"{_format(node.left, prec)} {node.op} {_format(node.right, prec + 1)}"
    return f"({text})" if prec < outer else text
