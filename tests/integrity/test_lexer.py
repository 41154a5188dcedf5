"""The fingerprinting lexer yields what `tokenize` yields (comments, blank lines and
indentation aside) on this repository's Python files and tricky snippets, and never fails
on text that is not Python."""

from __future__ import annotations

import io
import token
import tokenize
from pathlib import Path

import pytest

from grader.integrity import lexer

ROOT = Path(__file__).resolve().parents[2]
SKIPPED = {token.COMMENT, token.NL, token.INDENT, token.DEDENT, token.ENDMARKER, token.ENCODING}
KINDS = {token.NAME: lexer.NAME, token.NUMBER: lexer.NUMBER, token.STRING: lexer.STRING,
         token.OP: lexer.OP, token.NEWLINE: lexer.NEWLINE}
SNIPPETS = [
    'x = """\\\nabc"""  # comment\ny = rb\'\\x00\' + f"{a!r:>{w}}"\n',
    "def f(a,\n      b=(1,\n         2)):  # c\n    return a[...] ** -1.5e-3j if b else a @ b\n",
    "s = 'a\\\nb'\nt = x \\\n    + 1_000 + 0x_ff + .5 + 5. + 0o17\n",
    "class C:\n    def m(self) -> 'C':\n        x: int = 1; y = x >>= 2\n        return (lambda z=..., *q: z)(x)\n",
    "d = {k: v for k, v in zip('ab', b'cd')}\nif (n := len(d)) >= 2 != 3: pass\n",
    "é = 'unicode names'\nλ = é + \"\"\"\n\ntriple\n\"\"\"\n",
]


def expected(text: str) -> list[tuple[str, str, int]]:
    out = []
    for tok in tokenize.generate_tokens(io.StringIO(text).readline):
        if tok.type in SKIPPED:
            continue
        out.append((KINDS[tok.type], "" if tok.type == token.NEWLINE else tok.string, tok.start[0]))
    return out


@pytest.mark.parametrize("snippet", SNIPPETS)
def test_snippets_lex_like_tokenize(snippet: str) -> None:
    assert list(lexer.tokens(snippet)) == expected(snippet)


def test_the_repository_lexes_like_tokenize() -> None:
    files = [ROOT / "solutions" / "exercise.py", ROOT / "tests" / "code" / "alternatives.py",
             *sorted((ROOT / "grader").rglob("*.py")), *sorted((ROOT / "reference").glob("*.py"))]
    for path in files:
        text = path.read_text(encoding="utf-8")
        assert list(lexer.tokens(text)) == expected(text), path


def test_text_that_is_not_python_never_fails() -> None:
    for junk in ["'unterminated", '"""never closed', "$ ? ` \x00 \\", "((((", "\ufeff x = 1"]:
        assert all(kind in {lexer.NAME, lexer.NUMBER, lexer.STRING, lexer.OP, lexer.NEWLINE}
                   for kind, _, _ in lexer.tokens(junk))
