"""Small wording helpers shared by the terminal and the pages."""

from __future__ import annotations


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """`1 student`, `2 students` (`nouns`: an irregular plural)."""
    return f"{count} {noun if count == 1 else (nouns or noun + 's')}"
