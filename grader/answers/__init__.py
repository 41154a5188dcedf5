"""Answer kinds for `answers.toml`: parse first (or raise AnswerParseError), grade second.

Every kind follows the `AnswerCheck` protocol of `grader.answers.base`, is a frozen
dataclass (settings declared with `grader.answers.fields`) and is registered by its `kind`
in `grader.answers.registry`; grading returns a `Marking`.
"""

from .arrays import Matrix
from .base import AnswerCheck, AnswerParseError, Marking
from .choice import (
    MultipleChoice,
    SingleChoice,
    TrueFalse,
    shuffle_options,
    shuffle_options_multi,
)
from .expression import Expression
from .numbers import Integer, Real, round_sig
from .safe_expr import (
    EvaluationError,
    evaluate,
    format_expression,
    parse_expression,
    to_sympy,
)
from .shapes import Shape
from .words import Word, WordSequence

__all__ = [
    "AnswerCheck",
    "AnswerParseError",
    "EvaluationError",
    "Expression",
    "Integer",
    "Marking",
    "Matrix",
    "MultipleChoice",
    "Real",
    "Shape",
    "SingleChoice",
    "TrueFalse",
    "Word",
    "WordSequence",
    "evaluate",
    "format_expression",
    "parse_expression",
    "round_sig",
    "shuffle_options",
    "shuffle_options_multi",
    "to_sympy",
]
