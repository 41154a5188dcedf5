"""Reading answers.toml: every readable answer, and every problem, at once.

The whole file is parsed as TOML (`tomllib`, or on Python 3.10 the small reader below,
which knows what an answer sheet holds: `key = value` with strings, numbers, booleans and
arrays).  When that fails, each `key = value` entry is read on its own, so one broken line
is reported with its number and the other answers are still checked.  Standard library only.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any

from ..student_file import BOM, MAX_BYTES, StudentFileError, decode, too_large_message

try:
    import tomllib as _tomllib
except ImportError:  # Python 3.10
    _tomllib = None  # type: ignore[assignment]

MAX_SHEET_BYTES = MAX_BYTES
"""The largest answers.toml read (larger files are refused unread): the student files' one limit."""


@dataclass
class SheetRead:
    """answers: question id -> TOML value; problems: file-level messages (with lines)."""

    answers: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


class TomlError(ValueError):
    """Not valid TOML (for the small reader)."""


def read_sheet_bytes(raw: bytes, name: str = "answers.toml") -> SheetRead:
    """The answers and problems of a sheet's bytes (see the module docstring)."""
    if len(raw) > MAX_SHEET_BYTES:
        return SheetRead(problems=[too_large_message(name, len(raw), MAX_SHEET_BYTES)])
    try:
        text = decode(raw, name)
    except StudentFileError as error:  # not UTF-8: say so, and still read what can be read
        body = raw[len(BOM):] if raw.startswith(BOM) else raw
        read = _read_entries(body.decode("utf-8", "replace"), name)
        read.problems.insert(0, str(error))
        return read
    try:
        return SheetRead(answers=loads(text))
    except (ValueError, RecursionError):
        return _read_entries(text, name)


def loads(text: str) -> dict[str, Any]:
    """The TOML table of `text` (tomllib where it exists); ValueError when invalid."""
    if _tomllib is not None:
        return _tomllib.loads(text)
    return _MiniToml(text).document()


_ENTRY_START = re.compile(r"^\s*(?:[A-Za-z0-9_-]+|\"[^\"\n]*\"|'[^'\n]*')\s*=")
_TABLE = re.compile(r"^\s*\[")


def _read_entries(text: str, name: str) -> SheetRead:
    """Each `key = value` entry (with its continuation lines) parsed on its own."""
    read = SheetRead()
    entries: list[tuple[int, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if _ENTRY_START.match(line) or (_TABLE.match(line) and not entries) or not entries:
            if line.strip() and not line.lstrip().startswith("#"):
                entries.append((number, [line]))
            continue
        if _TABLE.match(line) and not _open_brackets(entries[-1][1]):
            entries.append((number, [line]))
            continue
        entries[-1][1].append(line)
    for number, lines in entries:
        try:
            table = loads("\n".join(lines) + "\n")
        except (ValueError, RecursionError) as error:
            read.problems.append(f"{name}: line {number}: not valid TOML ({_short(error)})")
            continue
        for key, value in table.items():
            if key in read.answers:
                read.problems.append(f"{name}: line {number}: {key} is answered twice")
            else:
                read.answers[key] = value
    return read


def _open_brackets(lines: list[str]) -> bool:
    text = "\n".join(lines)
    return text.count("[") > text.count("]")


def _short(error: BaseException) -> str:
    text = str(error).split(" (at line")[0]
    return text[:200]


class _MiniToml:
    """The TOML an answer sheet uses, for Python 3.10: comments, `key = value` lines,
    basic and literal strings, integers, floats, booleans, arrays (nested, multi-line)."""

    _NUMBER = re.compile(r"[+-]?(?:inf|nan|0x[0-9A-Fa-f_]+|0o[0-7_]+|0b[01_]+|[0-9][0-9_]*(?:\.[0-9_]+)?(?:[eE][+-]?[0-9_]+)?)")
    _KEY = re.compile(r"[A-Za-z0-9_-]+")

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line = 1

    def fail(self, message: str) -> TomlError:
        return TomlError(f"{message} (at line {self.text.count(chr(10), 0, self.pos) + 1})")

    def skip(self, newlines: bool) -> None:
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char in " \t" or (newlines and char in "\r\n"):
                self.pos += 1
            elif char == "#":
                end = self.text.find("\n", self.pos)
                self.pos = len(self.text) if end < 0 else end
            else:
                return

    def document(self) -> dict[str, Any]:
        table: dict[str, Any] = {}
        while True:
            self.skip(newlines=True)
            if self.pos >= len(self.text):
                return table
            if self.text[self.pos] == "[":
                raise self.fail("tables are not used in answers.toml")
            key = self.key()
            self.skip(newlines=False)
            if not self.text.startswith("=", self.pos):
                raise self.fail("expected '=' after the key")
            self.pos += 1
            self.skip(newlines=False)
            if key in table:
                raise self.fail(f"{key} is defined twice")
            table[key] = self.value(0)
            self.skip(newlines=False)
            if self.pos < len(self.text) and self.text[self.pos] not in "\r\n":
                raise self.fail("expected the end of the line after the value")

    def key(self) -> str:
        char = self.text[self.pos]
        if char in "\"'":
            return self.string()
        match = self._KEY.match(self.text, self.pos)
        if not match:
            raise self.fail("invalid key")
        self.pos = match.end()
        return match.group()

    def value(self, depth: int) -> Any:
        if depth > 32:
            raise self.fail("nested too deeply")
        if self.pos >= len(self.text):
            raise self.fail("a value is missing")
        char = self.text[self.pos]
        if char in "\"'":
            return self.string()
        if char == "[":
            return self.array(depth)
        for word, value in (("true", True), ("false", False)):
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return value
        match = self._NUMBER.match(self.text, self.pos)
        if not match:
            raise self.fail("invalid value")
        self.pos = match.end()
        return self.number(match.group())

    def number(self, text: str) -> int | float:
        plain = text.replace("_", "")
        sign = -1 if plain.startswith("-") else 1
        body = plain.lstrip("+-")
        if body in ("inf", "nan"):
            return sign * math.inf if body == "inf" else math.nan
        if body[:2] in ("0x", "0o", "0b"):
            return sign * int(body[2:], {"0x": 16, "0o": 8, "0b": 2}[body[:2]])
        if any(c in body for c in ".eE"):
            return float(plain)
        if len(body) > 1 and body.startswith("0"):
            raise self.fail("leading zeros are not allowed")
        return int(plain)

    def array(self, depth: int) -> list[Any]:
        self.pos += 1
        items: list[Any] = []
        while True:
            self.skip(newlines=True)
            if self.text.startswith("]", self.pos):
                self.pos += 1
                return items
            items.append(self.value(depth + 1))
            self.skip(newlines=True)
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif not self.text.startswith("]", self.pos):
                raise self.fail("expected ',' or ']' in an array")

    _ESCAPES = {"b": "\b", "t": "\t", "n": "\n", "f": "\f", "r": "\r", '"': '"', "\\": "\\", "e": "\x1b"}

    def string(self) -> str:
        quote = self.text[self.pos]
        if self.text.startswith(quote * 3, self.pos):
            raise self.fail("multi-line strings are not used in answers.toml")
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            self.pos += 1
            if char == quote:
                return "".join(out)
            if char in "\r\n":
                break
            if char == "\\" and quote == '"':
                code = self.text[self.pos:self.pos + 1]
                self.pos += 1
                if code in self._ESCAPES:
                    out.append(self._ESCAPES[code])
                elif code in ("u", "U"):
                    size = 4 if code == "u" else 8
                    digits = self.text[self.pos:self.pos + size]
                    self.pos += size
                    try:
                        out.append(chr(int(digits, 16)))
                    except ValueError:
                        raise self.fail("invalid unicode escape") from None
                else:
                    raise self.fail("invalid escape in a string")
            else:
                out.append(char)
        raise self.fail("unterminated string")
