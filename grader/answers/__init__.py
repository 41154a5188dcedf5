"""Answer kinds for `answers.toml`: parse first (or raise AnswerParseError), grade second.

Every kind follows the `AnswerSpec` protocol of `grader.answers.base`.
"""

from grader.answers.arrays import Matrix
from grader.answers.base import AnswerParseError, AnswerSpec, Check
from grader.answers.choice import (
    MultipleChoice,
    SingleChoice,
    TrueFalse,
    shuffle_options,
    shuffle_options_multi,
)
from grader.answers.expression import Expression
from grader.answers.numbers import Integer, Real, round_sig
from grader.answers.safe_expr import (
    EvaluationError,
    evaluate,
    format_expression,
    parse_expression,
    to_sympy,
)
from grader.answers.shapes import Shape
from grader.answers.words import Word, WordSequence

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
