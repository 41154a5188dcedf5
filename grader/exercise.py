"""Exercise declarations: one declaration per exercise, read by rendering, keys, grading and
the self-test (docs/design.md, principle 1).

An answer exercise declares a parameter generator, a jinja2 prompt, a solver that computes the
key with `reference/`, the answer check, and the misconceptions (buggy solvers: the reference
computation with one named mistake, docs/design.md, principle 2).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, Mapping

import numpy as np

from grader.errors import GraderError
from grader.answers.base import AnswerCheck

Params = dict[str, Any]
Generator = Callable[[np.random.Generator], Params]
Solver = Callable[[Params], Any]

TOPICS: Mapping[int, str] = {
    1: "fundamentals",
    2: "optimization",
    3: "techniques",
    4: "cnn",
    5: "adversarial",
    6: "rnn",
    7: "word2vec",
    8: "attention",
    9: "transformers",
    10: "vit",
    11: "peft",
    12: "generative",
}

_ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{1,63}$")


class DeclarationError(GraderError, ValueError):
    """An exercise declaration is malformed (raised when it is constructed)."""


@dataclass(frozen=True)
class Misconception:
    """A typical mistake as a buggy solver.

    tag: short identifier recorded in the gradebook (`forgot_plus_one`).
    feedback: one sentence shown to a student whose answer matches this solver's answer.
    solve: the reference computation with the one mistake; returns an answer in the same
        form as the key, or None where the mistake does not apply to a variant.
    credit: the share of the points an answer recognized as this mistake earns (default
        0), whatever share of it happens to agree with the key.
    """

    tag: str
    feedback: str
    solve: Solver
    credit: float = 0.0

    def __post_init__(self) -> None:
        if not _ID_PATTERN.match(self.tag):
            raise DeclarationError(f"misconception tag {self.tag!r} must be a lowercase identifier")
        if not self.feedback.strip():
            raise DeclarationError(f"misconception {self.tag!r} needs a feedback sentence")
        if not 0.0 <= self.credit < 1.0:
            raise DeclarationError(f"misconception {self.tag!r}: credit must be in [0, 1)")


@dataclass(frozen=True, kw_only=True)
class Exercise:
    """What every exercise of the bank has: identity, place on the concept sheet, points."""

    kind: ClassVar[str] = "exercise"

    id: str
    title: str
    section: int
    points: float = 1.0
    generator_version: int = 1
    topic: str = ""
    excludes: tuple[str, ...] = ()
    """Ids of exercises that must not share a quiz with this one because this one gives
    their answer away (a docstring that states the formula a question asks for).  When
    both are selected, `new-quiz` keeps this one and leaves the excluded one out."""

    def __post_init__(self) -> None:
        if not _ID_PATTERN.match(self.id):
            raise DeclarationError(
                f"exercise id {self.id!r} must be 2-64 lowercase letters, digits or underscores"
            )
        if self.section not in TOPICS:
            raise DeclarationError(f"{self.id}: section must be 1-12, got {self.section!r}")
        if not self.topic:
            object.__setattr__(self, "topic", TOPICS[self.section])
        if self.points <= 0:
            raise DeclarationError(f"{self.id}: points must be positive")
        if self.generator_version < 1:
            raise DeclarationError(f"{self.id}: generator_version must be >= 1")
        object.__setattr__(self, "excludes", tuple(self.excludes))
        for other in self.excludes:
            if not isinstance(other, str) or not _ID_PATTERN.match(other) or other == self.id:
                raise DeclarationError(f"{self.id}: excludes must name other exercise ids, got {other!r}")


@dataclass(frozen=True, kw_only=True)
class AnswerExercise(Exercise):
    """An exercise answered with a value in answers.toml.

    generate: draws the parameters from a seeded numpy Generator; returns plain JSON-able
        values (ints, floats, strings, lists).
    prompt: jinja2 template (Markdown with LaTeX math in $...$) rendered with the parameters.
    solve: computes the key from the parameters with `reference/`.
    check: the answer check, or a function of the parameters that builds it (choice
        questions whose options are shuffled per variant).
    misconceptions: the typical mistakes, as buggy solvers.
    partial_credit: the partial-credit rule (`grader.answers.credit`): `proportional`,
        `all-or-nothing` or `threshold:T`; a quiz's own rule overrides it.
    """

    kind: ClassVar[str] = "answer"

    generate: Generator
    prompt: str
    solve: Solver
    check: AnswerCheck | Callable[[Params], AnswerCheck]
    misconceptions: tuple[Misconception, ...] = field(default_factory=tuple)
    partial_credit: str = "proportional"

    def __post_init__(self) -> None:
        super().__post_init__()
        from grader.answers.credit import CreditRuleError, parse_rule

        try:
            parse_rule(self.partial_credit)
        except CreditRuleError as error:
            raise DeclarationError(f"{self.id}: {error}") from None
        object.__setattr__(self, "misconceptions", tuple(self.misconceptions))
        tags = [m.tag for m in self.misconceptions]
        if len(set(tags)) != len(tags):
            raise DeclarationError(f"{self.id}: misconception tags must be unique")

    def check_for(self, params: Params) -> AnswerCheck:
        """The answer check of one variant."""
        check = self.check
        # A check object has `parse`; anything else is a function of the parameters.
        # (isinstance against the runtime-checkable Protocol is slow on this hot path.)
        return check if hasattr(check, "parse") else check(params)  # type: ignore[operator,return-value]
