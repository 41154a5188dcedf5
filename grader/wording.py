"""Small pieces of English shared by prompts, messages, the terminal and the pages (stdlib only)."""

from __future__ import annotations

import re

_AN_NUMBER = re.compile(r"^(8|11|18|8\d|8\d\d|8\d{3}|11\d{3}|18\d{3}|8\d{4})(?!\d)")
_VOWEL_SOUND = re.compile(r"^[aeiouAEIOU]")


def article(word: object) -> str:
    """'a' or 'an' for the spoken form of `word`: an 8, an 11, an 18, an 80x80, an image; a 7, a 100.

    Numbers are read aloud digit group by digit group, so only those spoken starting with
    "eight", "eleven" or "eighteen" take "an".
    """
    text = str(word).lstrip()
    if text[:1].isdigit():
        return "an" if _AN_NUMBER.match(text) else "a"
    return "an" if _VOWEL_SOUND.match(text) else "a"


def with_article(word: object) -> str:
    """`word` preceded by its indefinite article: 'an 8', 'a 3'."""
    return f"{article(word)} {word}"
def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 student`, `2 students` (`nouns`: an irregular plural)."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"
