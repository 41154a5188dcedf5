"""Caching conversions of text whose numbers change from student to student.

Two students' prompts usually differ only in their numbers.  `convert_masked` converts the
text with every number replaced by one placeholder (so the cached conversion serves every
variant) and puts the numbers back, in order, where the placeholder's converted form
appears.  When the converted text does not hold exactly one converted placeholder per
number (a number the converter treats specially), it returns None and the caller converts
the original text: masking never changes the result, it only makes it cheaper.
"""

from __future__ import annotations

import re
from typing import Callable


def convert_masked(
    text: str,
    numbers: re.Pattern[str],
    placeholder: str,
    converted_placeholder: str,
    restore: Callable[[str], str],
    convert: Callable[[str], str],
) -> str | None:
    """`convert(text)` computed as `convert(masked text)` with each `converted_placeholder`
    replaced by `restore(number)`; None when that cannot be done exactly."""
    found = numbers.findall(text)
    parts = convert(numbers.sub(placeholder, text)).split(converted_placeholder)
    if len(parts) != len(found) + 1:
        return None
    pieces = [parts[0]]
    for number, part in zip(found, parts[1:]):
        pieces += [restore(number), part]
    return "".join(pieces)
