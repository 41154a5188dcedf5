"""Code exercise declarations (docs/design.md, principle 1): one `CodeExercise` per contract
function gives the stub (signature and docstring), the public tests, the hidden-test
generator, the reference that computes every expected output, the tolerance, the library
calls that are not allowed, and the typical mistakes as buggy implementations.

Test inputs are plain data the sandbox can send: torch tensors, numbers, strings, lists,
tuples, dicts and `grader.sandbox.ModelSpec`.  Hidden tests are drawn in the trusted process
from `np.random.default_rng(seed)`, so a student never sees them.
"""

from __future__ import annotations

import ast
import functools
import importlib
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Mapping

from grader.exercise import DeclarationError, Exercise
from grader.kit.compare import Verdict  # the outcome of comparing one output (shared with the kit)

if TYPE_CHECKING:  # pragma: no cover
    import numpy as np

_TAG = re.compile(r"^[a-z][a-z0-9_]{1,63}$")
_TEST_NAME = re.compile(r"^[a-z0-9][a-z0-9_\-]{0,63}$")
_QUALIFIED = re.compile(r"^torch(\.[A-Za-z_][A-Za-z0-9_]*)+$")


@dataclass(frozen=True)
class TestCase:
    """One call of the student's function: `function(*args, **kwargs)`.

    name: short identifier, unique within the exercise (`stride_and_padding`); shown to
        students, so a hidden test's name says what it covers, never its values.
    points: weight of this test in the item's score.
    hidden: drawn from the variant seed and graded, never shown with its values.
    """

    __test__ = False  # not a pytest class

    name: str
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    points: float = 1.0
    hidden: bool = False

    def __post_init__(self) -> None:
        if not _TEST_NAME.match(self.name):
            raise DeclarationError(f"test name {self.name!r} must be a short lowercase identifier")
        if self.points <= 0:
            raise DeclarationError(f"test {self.name!r}: points must be positive")
        object.__setattr__(self, "args", tuple(self.args))
        object.__setattr__(self, "kwargs", dict(self.kwargs))

    def argument(self, position: int, name: str, default: Any = None) -> Any:
        """The value of one parameter of the call, given positionally or by name."""
        if position < len(self.args):
            return self.args[position]
        return self.kwargs.get(name, default)


@dataclass(frozen=True)
class Tolerance:
    """Values agree when `|got - expected| <= atol + rtol * |expected|` (torch.allclose)."""

    rtol: float = 1e-6
    atol: float = 1e-8

    def __post_init__(self) -> None:
        if not (self.rtol >= 0 and self.atol >= 0):
            raise DeclarationError(f"tolerances must be >= 0, got rtol={self.rtol}, atol={self.atol}")




# compare(test, expected, got, tolerance, reveal) -> Verdict; `reveal` is False for hidden
# tests, whose messages must not disclose expected values.
Compare = Callable[[TestCase, Any, Any, Tolerance, bool], Verdict]
# matches(test, got, tolerance) -> bool: does `got` show this misconception?
Matcher = Callable[[TestCase, Any, Tolerance], bool]
HiddenTests = Callable[["np.random.Generator"], list[TestCase]]


@dataclass(frozen=True)
class CodeMisconception:
    """A typical mistake as a buggy implementation of the contract function.

    implementation: the reference computation with one named mistake, self-contained (only
        `math`, `torch` and `torch.nn.functional as F`), same signature as the contract
        function.  A failing output that equals its output on the same inputs (under the
        exercise's tolerance) is diagnosed as this mistake.
    matches: optional direct test of a student's output, for functions whose outputs are
        random (dropout), where comparing with one run of `implementation` cannot work.
    """

    tag: str
    feedback: str
    implementation: Callable[..., Any]
    matches: Matcher | None = None

    def __post_init__(self) -> None:
        if not _TAG.match(self.tag):
            raise DeclarationError(f"misconception tag {self.tag!r} must be a lowercase identifier")
        if not self.feedback.strip():
            raise DeclarationError(f"misconception {self.tag!r} needs a feedback sentence")
        if not callable(self.implementation):
            raise DeclarationError(f"misconception {self.tag!r}: implementation must be callable")


@dataclass(frozen=True, kw_only=True)
class CodeExercise(Exercise):
    """A function of `exercise.py`, graded by running it in the sandbox.

    function: the contract name (`conv2d`); the graded item is named after it.
    signature: the `def` line students implement (names and defaults as in the contract).
    docstring: the contract: what to return, the shapes, the behaviour to agree with.
    reference: computes every expected output in the trusted process.
    public_tests: fixed small inputs students run with `grader check`.
    hidden_tests: draws the graded tests from a seeded numpy Generator (float64, several
        shapes including batch size 1, the edge cases that separate right from nearly right).
    forbidden: qualified names of library calls that would do the exercise (each must
        resolve to a real object; a module or class forbids its members and subclasses),
        checked in the source and at run time.
    forbidden_ops: ATen ops (`aten::convolution`) that the function may not run, or
        `autograd::engine` (any op of a backward pass): a second line at run time, in the
        student's process, behind the static scan (`grader.sandbox.harness.watch_ops`).
    misconceptions: typical mistakes, as buggy implementations.
    tolerance: how close values must be.
    compare: custom comparison for outputs that are not plain values (dropout); None uses
        `grader.code.compare.compare_outputs` (`grader.code.judge.comparison_for` picks).
    outputs: names of the elements of a tuple output, used in messages (`("dx", "dW", "db")`).
    deterministic: False when the output is random (dropout): the reference's output is
        then one possible answer, never shown as "the expected output".
    solution: the file holding the instructor's implementation of `function` (copied into
        each key's exercise.py); None: this project's `solutions/exercise.py`.  An
        instructor's bank folder sets it to its own `solutions/exercise.py` (see `grader.bank`).
    """

    kind: ClassVar[str] = "code"

    function: str
    signature: str
    docstring: str
    reference: Callable[..., Any]
    public_tests: tuple[TestCase, ...]
    hidden_tests: HiddenTests
    forbidden: tuple[str, ...] = ()
    forbidden_ops: tuple[str, ...] = ()
    misconceptions: tuple[CodeMisconception, ...] = ()
    tolerance: Tolerance = field(default_factory=Tolerance)
    compare: Compare | None = None
    outputs: tuple[str, ...] = ()
    deterministic: bool = True
    solution: Path | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("public_tests", "forbidden", "forbidden_ops", "misconceptions", "outputs"):
            object.__setattr__(self, name, tuple(getattr(self, name)))
        self._check_signature()
        if not self.docstring.strip() or '"""' in self.docstring or self.docstring.rstrip().endswith("\\"):
            raise DeclarationError(f"{self.id}: the docstring states the contract: non-empty, without triple quotes")
        if not callable(self.reference) or not callable(self.hidden_tests):
            raise DeclarationError(f"{self.id}: reference and hidden_tests must be callable")
        if not 1 <= len(self.public_tests) <= 5:
            raise DeclarationError(f"{self.id}: declare 1-5 public tests, got {len(self.public_tests)}")
        for test in self.public_tests:
            if not isinstance(test, TestCase) or test.hidden:
                raise DeclarationError(f"{self.id}: public tests must be TestCase(hidden=False)")
        _unique(self.id, "public test names", [t.name for t in self.public_tests])
        _unique(self.id, "misconception tags", [m.tag for m in self.misconceptions])
        for name in self.forbidden:
            resolve_qualified_name(name)
        for op in self.forbidden_ops:
            check_op_name(op)

    def _check_signature(self) -> None:
        try:
            tree = ast.parse(self.signature.strip() + "\n    ...\n")
        except SyntaxError as error:
            raise DeclarationError(f"{self.id}: signature is not a def line: {error}") from None
        node = tree.body[0] if len(tree.body) == 1 else None
        if not isinstance(node, ast.FunctionDef) or node.name != self.function:
            raise DeclarationError(f"{self.id}: signature must be `def {self.function}(...):`")

    @property
    def stub(self) -> str:
        """The stub students start from: signature, docstring, `raise NotImplementedError`."""
        body = "\n".join(f"    {line}".rstrip() for line in self.docstring.strip().splitlines())
        return f'{self.signature}\n    """{body.lstrip()}\n    """\n    raise NotImplementedError\n'

    def draw_hidden_tests(self, seed: int) -> list[TestCase]:
        """The hidden tests of one variant, drawn from `np.random.default_rng(seed)`, each
        marked hidden; ValueError when their names are not unique."""
        import numpy as np

        drawn = self.hidden_tests(np.random.default_rng(seed))
        tests = [t if t.hidden else replace(t, hidden=True) for t in drawn]
        names = [t.name for t in tests]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.id}: hidden test names must be unique: {names}")
        return tests

    @functools.cached_property
    def hidden_test_count(self) -> int:
        """How many hidden tests every variant has (drawn once, from seed 0)."""
        return len(self.draw_hidden_tests(0))


def _unique(owner: str, what: str, values: list[str]) -> None:
    if len(set(values)) != len(values):
        raise DeclarationError(f"{owner}: {what} must be unique, got {values}")


_OP = re.compile(r"^aten::[a-z_][a-z0-9_]*$")


def check_op_name(op: str) -> None:
    """DeclarationError unless `op` names an ATen op (`aten::convolution`) or is
    `autograd::engine` (`grader.sandbox.harness.AUTOGRAD_ENGINE`)."""
    from grader.sandbox.harness import AUTOGRAD_ENGINE

    if op == AUTOGRAD_ENGINE:
        return
    if not _OP.match(op):
        raise DeclarationError(f"forbidden op {op!r} must look like 'aten::name' or be {AUTOGRAD_ENGINE!r}")
    import torch

    try:
        getattr(torch.ops.aten, op.split("::", 1)[1])
    except (AttributeError, RuntimeError):
        raise DeclarationError(f"forbidden op {op!r} is not an ATen op") from None


def resolve_qualified_name(name: str) -> Any:
    """The object a qualified name like `torch.nn.functional.conv2d` denotes (importing the
    longest importable module prefix); DeclarationError when it does not exist."""
    if not _QUALIFIED.match(name):
        raise DeclarationError(f"forbidden name {name!r} must be a qualified torch name")
    parts = name.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for part in parts[cut:]:
                obj = getattr(obj, part)
        except AttributeError:
            break
        return obj
    raise DeclarationError(f"forbidden name {name!r} does not name a torch object")
