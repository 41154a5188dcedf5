"""quiz.html in headless Chromium: every formula is laid-out MathML, the page logs no errors,
and it prints.  Driven over the DevTools protocol on a pipe (`--remote-debugging-pipe`) with
the standard library only.  Screenshots are kept in tests/artifacts/ (git-ignored).

Skipped only when chromium is not installed (CI installs it).
"""

from __future__ import annotations

import base64
import fcntl
import json
import os
import re
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from grader.api import create_quiz

from .conftest import FIXTURE_BANK, FIXTURE_IDS

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
CHROMIUM = next((shutil.which(name) for name in ("chromium", "chromium-browser", "google-chrome") if shutil.which(name)), None)
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--remote-debugging-pipe",
]
TIMEOUT = 30.0


class DevTools:
    """A minimal DevTools protocol client over Chromium's pipe (fd 3: commands in,
    fd 4: replies and events out, each message JSON ending with a NUL byte)."""

    def __init__(self, profile: Path) -> None:
        to_browser_read, self._to_browser = os.pipe()
        self._from_browser, from_browser_write = os.pipe()

        def map_fds() -> None:  # in the child: the pipe ends become fds 3 and 4
            high_read = fcntl.fcntl(to_browser_read, fcntl.F_DUPFD, 10)
            high_write = fcntl.fcntl(from_browser_write, fcntl.F_DUPFD, 10)
            os.dup2(high_read, 3)  # dup2 clears close-on-exec: these two are inherited
            os.dup2(high_write, 4)
            os.close(high_read)
            os.close(high_write)

        # close_fds=False keeps fds 3 and 4; Python's own descriptors are not inheritable
        self.process = subprocess.Popen(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            preexec_fn=map_fds, close_fds=False,
        )
        os.close(to_browser_read)
        os.close(from_browser_write)
        self._buffer = b""
        self._next_id = 0
        self.events: list[dict[str, Any]] = []

    def send(self, method: str, params: dict[str, Any] | None = None, session: str | None = None) -> dict[str, Any]:
        """Send a command and wait for its reply (events meanwhile go to `self.events`)."""
        self._next_id += 1
        message: dict[str, Any] = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        os.write(self._to_browser, json.dumps(message).encode() + b"\0")
        for reply in self._messages():
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]
            self.events.append(reply)
        raise AssertionError("unreachable")

    def wait_for(self, method: str) -> dict[str, Any]:
        for event in self.events:
            if event.get("method") == method:
                return event
        for event in self._messages():
            self.events.append(event)
            if event.get("method") == method:
                return event
        raise AssertionError("unreachable")

    def _messages(self) -> Iterator[dict[str, Any]]:
        deadline = time.monotonic() + TIMEOUT
        while True:
            while b"\0" in self._buffer:
                raw, self._buffer = self._buffer.split(b"\0", 1)
                yield json.loads(raw)
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self._from_browser], [], [], remaining)[0]:
                raise TimeoutError("chromium did not answer in time")
            chunk = os.read(self._from_browser, 1 << 20)
            if not chunk:
                raise ConnectionError("chromium closed the pipe")
            self._buffer += chunk

    def close(self) -> None:
        try:
            self.send("Browser.close")
        except (OSError, RuntimeError, TimeoutError, ConnectionError):
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


@pytest.fixture
def browser() -> Iterator[DevTools]:
    if CHROMIUM is None:
        pytest.skip("chromium is not installed")
    with tempfile.TemporaryDirectory(prefix="grader-chromium-") as profile:
        tools = DevTools(Path(profile))
        try:
            yield tools
        finally:
            tools.close()


def open_page(tools: DevTools, url: str) -> str:
    """A new tab on `url`, with console and errors recorded from before it loads."""
    target = tools.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = tools.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    for domain in ("Page", "Runtime", "Log"):
        tools.send(f"{domain}.enable", session=session)
    tools.send("Emulation.setDeviceMetricsOverride",
               {"width": 1000, "height": 1400, "deviceScaleFactor": 1, "mobile": False}, session=session)
    tools.events.clear()
    tools.send("Page.navigate", {"url": url}, session=session)
    tools.wait_for("Page.loadEventFired")
    return session


def evaluate(tools: DevTools, session: str, expression: str) -> Any:
    reply = tools.send("Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session)
    assert "exceptionDetails" not in reply, reply
    return reply["result"]["value"]


def errors_logged(tools: DevTools) -> list[str]:
    found = []
    for event in tools.events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            found.append(str(params.get("exceptionDetails", {}).get("text")))
        elif method == "Runtime.consoleAPICalled" and params.get("type") in ("error", "assert"):
            found.append(str(params.get("args")))
        elif method == "Log.entryAdded" and params.get("entry", {}).get("level") == "error":
            found.append(str(params["entry"].get("text")))
    return found


def screenshot(tools: DevTools, session: str, name: str) -> Path:
    """A full-page PNG in tests/artifacts/."""
    height = evaluate(tools, session, "Math.ceil(document.documentElement.scrollHeight)")
    tools.send("Emulation.setDeviceMetricsOverride",
               {"width": 1000, "height": int(height), "deviceScaleFactor": 1, "mobile": False}, session=session)
    data = tools.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True}, session=session)["data"]
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    path.write_bytes(base64.b64decode(data))
    return path


# For every question: its formulas' layout boxes, how many formulas there are, any
# unconverted formula, displayed formulas wider than the page, raw LaTeX left in its text,
# and the borders that draw matrix brackets.
LAYOUT = """
Array.from(document.querySelectorAll('section.question')).map(section => ({
  id: section.id,
  maths: Array.from(section.querySelectorAll('math')).map(m => {
    const box = m.getBoundingClientRect();
    return {width: box.width, height: box.height, right: box.right};
  }),
  formulas: section.querySelectorAll('math:not(.math-lines math), .math-lines').length,
  errors: section.querySelectorAll('.math-error').length,
  overflowing: Array.from(section.querySelectorAll('.math-display')).filter(d => d.scrollWidth > d.clientWidth + 1).length,
  latexLeft: /\\$|\\\\(frac|begin|sqrt|mathrm)/.test(section.innerText),
  fences: Array.from(section.querySelectorAll('mtable[class^="fence-"]')).map(t => {
    const style = getComputedStyle(t);
    return [parseFloat(style.borderLeftWidth), parseFloat(style.borderRightWidth), t.getBoundingClientRect().height];
  }),
}))
"""
CONTENT_RIGHT = "document.querySelector('header').getBoundingClientRect().right"


def formulas_per_question(markdown: str) -> dict[str, int]:
    """How many $...$ / $$...$$ formulas each question of quiz.md has (its own count, from
    the Markdown the page was made from)."""
    counts = {}
    for part in re.split(r"^## Question \d+ · ", markdown, flags=re.M)[1:]:
        qid = re.match(r"`(q\d+)`", part).group(1)  # type: ignore[union-attr]
        counts[qid] = len(re.findall(r"\$\$.+?\$\$|\$[^$\n]+?\$", part, flags=re.S))
    return counts


def check_page(tools: DevTools, page: Path, screenshot_name: str) -> list[dict[str, Any]]:
    session = open_page(tools, page.as_uri())
    layout = evaluate(tools, session, LAYOUT)
    expected = formulas_per_question(page.with_name("quiz.md").read_text(encoding="utf-8"))
    assert [q["id"] for q in layout] == list(expected)
    right_edge = evaluate(tools, session, CONTENT_RIGHT)
    for question in layout:
        # a display formula of several equations is one .math-lines of several <math>
        assert question["formulas"] == expected[question["id"]], question["id"]
        assert question["errors"] == 0, f"{question['id']}: a formula latex2mathml could not read"
        assert question["overflowing"] == 0, f"{question['id']}: a displayed formula is wider than the page"
        assert not question["latexLeft"], f"{question['id']}: raw LaTeX in the page"
        for box in question["maths"]:
            assert box["width"] > 0 and box["height"] > 0, f"{question['id']}: a formula with an empty box"
            assert box["right"] <= right_edge + 1, f"{question['id']}: a formula overflows the page"
        for left, right, height in question["fences"]:
            assert left > 0 and right > 0 and height > 0, f"{question['id']}: matrix brackets not drawn"
    assert errors_logged(tools) == []
    path = screenshot(tools, session, screenshot_name)
    print(f"screenshot: {path}")
    tools.send("Emulation.setEmulatedMedia", {"media": "print"}, session=session)
    printed = evaluate(tools, session, LAYOUT)
    assert all(box["width"] > 0 for q in printed for box in q["maths"])
    pdf = tools.send("Page.printToPDF", {}, session=session)["data"]
    assert len(pdf) > 1000
    return layout


def test_fixture_quiz_page_has_laid_out_mathml_and_no_errors(browser: DevTools, tmp_path: Path,
                                                             fixture_bank_only: Path) -> None:
    out = tmp_path / "quiz"
    create_quiz(out, title="Browser check", student_ids=["ana"], exercise_ids=FIXTURE_IDS,
                bank_dirs=[FIXTURE_BANK], mode="practice")
    layout = check_page(browser, out / "students/ana/quiz.html", "quiz_fixture_page.png")
    assert len(layout) == 4
    linear = layout[1]
    assert len(linear["fences"]) == 3  # X, W and b, each between CSS-drawn brackets


CODE_LAYOUT = """
Array.from(document.querySelectorAll('section.code')).map(section => {
  const signature = section.querySelector('pre.signature');
  return {id: section.id, wide: signature.scrollWidth > signature.clientWidth + 1,
          height: signature.getBoundingClientRect().height,
          doc: section.querySelector('.code-doc').innerText.trim().length};
})
"""


def test_every_exercise_of_the_bank_renders_in_the_browser(browser: DevTools, tmp_path: Path) -> None:
    out = tmp_path / "quiz"
    summary = create_quiz(out, title="All exercises", student_ids=["ana"], kind="all")
    layout = check_page(browser, out / "students/ana/quiz.html", "quiz_bank_page.png")
    assert len(layout) == summary.questions
    session = open_page(browser, (out / "students/ana/quiz.html").as_uri())
    code = evaluate(browser, session, CODE_LAYOUT)
    assert len(code) == summary.code_functions
    for section in code:
        assert not section["wide"], f"{section['id']}: the signature does not fit the page"
        assert section["height"] > 0 and section["doc"] > 0, section["id"]
