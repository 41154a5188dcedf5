"""Answer kinds for `answers.toml`: parse first (or raise AnswerParseError), grade second.

Every kind follows the `AnswerSpec` protocol of `grader.answers.base`.
"""

from .arrays import Matrix
from .base import AnswerParseError, AnswerSpec, Check
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
    "AnswerParseError",
    "AnswerSpec",
    "Check",
    "EvaluationError",
    "Expression",
    "Integer",
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
