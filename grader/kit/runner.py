"""The portable runner: exercise.py and its calls in a child process with wall-clock limits.

Works wherever Python and torch run (Linux, macOS, Windows): the child is this interpreter
running `child_main` (started with the same interpreter flags), the job goes in on its
stdin as JSON, and each outcome comes back on its stdout as one JSON line (values encoded
by `values`, never pickle); the student's own prints go to stderr.  A call that runs past
its limit, or a child that dies, costs that call only: the child is killed and a new one
runs the remaining calls.  Where they exist, `os.pidfd_open`/`signal.pidfd_send_signal`
kill the child without a pid-reuse race and `resource` caps its CPU time and core dumps;
nothing here needs them, nor `/proc`.

The student runs their own code on their own machine: this is about robust results (an
endless loop must not hang the check), not about confinement.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
import time
import zlib
from dataclasses import dataclass, field
from typing import Any, Protocol

CALL_SECONDS = 10.0
IMPORT_SECONDS = 60.0
MAX_RESTARTS = 4
STDERR_CHARS = 4000
MESSAGE_CHARS = 2000
_MEMORY_MARKERS = ("can't allocate memory", "not enough memory", "DefaultCPUAllocator", "out of memory")


@dataclass
class CallOutcome:
    """status: ok | judged | error | not-implemented | missing-function | timeout | memory |
    crashed | bad-output | not-run; `value` is the decoded return value when ok, the test's
    `report.TestLine` when judged."""

    status: str
    message: str = ""
    value: Any = None


@dataclass
class RunResult:
    """load: ok | syntax-error | import-error | timeout | crashed (importing exercise.py)."""

    load: str
    message: str = ""
    calls: dict[str, CallOutcome] = field(default_factory=dict)
    stderr: str = ""


class CallRunner(Protocol):
    """What runs the kit's calls for `main.check_code`: `run_calls` (this portable runner)
    or `grader check`'s sandbox (`grader.code.check`).  `calls` are {id, function, args,
    kwargs} with encoded arguments."""

    def __call__(self, source: str, calls: list[dict[str, Any]]) -> RunResult: ...


# ----------------------------------------------------------------------------- parent side


def call_id(function: str, test: str) -> str:
    """The id of one public test's call."""
    return f"{function}/public/{test}"


def calls_for(functions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The calls to run for functions' data: {id, function, args, kwargs} (arguments stay
    encoded: only the child decodes them)."""
    return [
        {"id": call_id(f["function"], t["name"]), "function": f["function"], "args": t["args"], "kwargs": t["kwargs"]}
        for f in functions
        for t in f["tests"]
    ]


def _package_root() -> tuple[str, str]:
    """(directory or zip on sys.path that holds this package, the package's name)."""
    package = __name__.split(".")[0]
    here = os.path.dirname(os.path.abspath(__file__))  # <root>/<package>/kit
    return os.path.dirname(os.path.dirname(here)), package


def child_command() -> list[str]:
    """The command that starts a child: this interpreter, its flags, and `child_main`."""
    root, package = _package_root()
    boot = f"import sys; sys.path.insert(0, {root!r}); from {package}.kit.runner import child_main; child_main()"
    flags = subprocess._args_from_interpreter_flags()  # -I, -E, -X ... as this process got them
    return [sys.executable, *flags, "-c", boot]


class _Child:
    """One child process and the lines it sends."""

    def __init__(self, job: dict[str, Any]) -> None:
        kwargs: dict[str, Any] = {}
        if os.name == "posix":
            kwargs["start_new_session"] = True
        elif hasattr(subprocess, "CREATE_NEW_PROCESS_GROUP"):
            kwargs["creationflags"] = subprocess.CREATE_NEW_PROCESS_GROUP
        env = dict(os.environ)
        env.setdefault("OMP_NUM_THREADS", "1")
        self.process = subprocess.Popen(
            child_command(), stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, **kwargs
        )
        self.pidfd = _pidfd(self.process.pid)
        self.lines: queue.Queue[dict[str, Any] | None] = queue.Queue()
        self.stderr: list[bytes] = []
        threading.Thread(target=self._read_stdout, daemon=True).start()
        threading.Thread(target=self._read_stderr, daemon=True).start()
        try:
            assert self.process.stdin is not None
            self.process.stdin.write(json.dumps(job).encode("utf-8"))
            self.process.stdin.close()
        except OSError:
            pass  # it died at once: reported as a crash by next()

    def _read_stdout(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if isinstance(message, dict):
                self.lines.put(message)
        self.lines.put(None)

    def _read_stderr(self) -> None:
        assert self.process.stderr is not None
        kept = 0
        while True:
            chunk = self.process.stderr.read(4096)
            if not chunk:
                return
            if kept < STDERR_CHARS * 4:
                self.stderr.append(chunk)
                kept += len(chunk)

    def next(self, seconds: float) -> dict[str, Any] | str:
        """The next message, or "timeout", or "exited"."""
        try:
            message = self.lines.get(timeout=seconds)
        except queue.Empty:
            return "timeout"
        return "exited" if message is None else message

    def stderr_text(self) -> str:
        text = b"".join(self.stderr).decode("utf-8", "replace")
        return text[-STDERR_CHARS:]

    def exit_detail(self) -> str:
        try:
            code = self.process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "it stopped answering"
        if code is not None and code < 0:
            try:
                return f"killed by signal {signal.Signals(-code).name}"
            except ValueError:
                return f"killed by signal {-code}"
        tail = self.stderr_text().strip().splitlines()[-1:] or [""]
        return f"exit status {code}" + (f": {tail[0][:300]}" if tail[0] else "")

    def kill(self) -> None:
        if self.process.poll() is None:
            try:
                if self.pidfd is not None:
                    signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
                elif os.name == "posix":
                    os.killpg(self.process.pid, signal.SIGKILL)
                else:
                    self.process.kill()
            except (OSError, ProcessLookupError):
                self.process.kill()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:  # pragma: no cover - SIGKILL is not ignored
            pass
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None


def _pidfd(pid: int) -> int | None:
    """A pidfd for `pid` where the platform has them, else None."""
    if not (hasattr(os, "pidfd_open") and hasattr(signal, "pidfd_send_signal")):
        return None
    try:
        return os.pidfd_open(pid)
    except OSError:
        return None


def run_calls(
    source: str, calls: list[dict[str, Any]], *, call_seconds: float = CALL_SECONDS,
    import_seconds: float = IMPORT_SECONDS, functions: list[dict[str, Any]] = (),  # type: ignore[assignment]
) -> RunResult:
    """Run `calls` ({id, function, args, kwargs} with encoded arguments) of the module
    `source` in child processes (see the module docstring).  The calls of public tests of
    `functions` (the kit's data) are judged in the child: their outcome is "judged" with
    the test's line as value; other calls come back with their value."""
    pending = list(calls)
    result = RunResult("ok")
    restarts = 0
    stderr: list[str] = []
    while True:
        child = _Child({"source": source, "calls": pending, "functions": list(functions),
                        "cpu_seconds": import_seconds + call_seconds * (len(pending) + 1)})
        try:
            loaded = child.next(import_seconds)
            if loaded == "timeout" or loaded == "exited" or loaded.get("event") != "load":
                status = "timeout" if loaded == "timeout" else "crashed"
                child.kill()
                detail = f"took longer than {import_seconds:g} s" if status == "timeout" else child.exit_detail()
                result.load, result.message = status, f"importing exercise.py {detail}"
                for call in pending:
                    result.calls[call["id"]] = CallOutcome(status, result.message)
                break
            if loaded.get("status") != "ok":
                result.load, result.message = str(loaded.get("status")), _text(loaded.get("message"))
                for call in pending:
                    result.calls[call["id"]] = CallOutcome("not-run", result.message)
                break
            while pending:
                call = pending[0]
                message = child.next(call_seconds)
                if isinstance(message, dict):
                    pending.pop(0)
                    result.calls[call["id"]] = _outcome(message)
                    continue
                pending.pop(0)
                if message == "timeout":
                    child.kill()
                    result.calls[call["id"]] = CallOutcome("timeout", f"still running after {call_seconds:g} s (time limit)")
                else:
                    child.kill()
                    result.calls[call["id"]] = CallOutcome("crashed", f"the process running it ended ({child.exit_detail()})")
                break
        finally:
            child.kill()
            stderr.append(child.stderr_text())
        if not pending:
            break
        restarts += 1
        if restarts > MAX_RESTARTS:
            for call in pending:
                result.calls[call["id"]] = CallOutcome("not-run", "not run: too many calls timed out or crashed before it")
            break
    result.stderr = "".join(stderr)[-STDERR_CHARS:]
    return result


def _text(value: Any) -> str:
    return value[:MESSAGE_CHARS] if isinstance(value, str) else ""


def _outcome(message: dict[str, Any]) -> CallOutcome:
    status = message.get("status")
    if status not in ("ok", "judged", "error", "not-implemented", "missing-function", "memory", "bad-output"):
        return CallOutcome("error", "the child reported an unknown status")
    if status == "judged":
        from .report import TestLine

        try:
            return CallOutcome("judged", value=TestLine(**message["line"]))
        except (KeyError, TypeError):
            return CallOutcome("error", "the child reported a malformed line")
    if status != "ok":
        return CallOutcome(status, _text(message.get("message")))
    from . import values

    try:
        return CallOutcome("ok", value=values.decode(message.get("value")))
    except (ValueError, TypeError, RecursionError) as error:
        return CallOutcome("bad-output", f"the value could not be read back ({error})")


# ----------------------------------------------------------------------------- child side


def child_main() -> None:
    """Run a job from stdin: import the source as module `exercise`, then each call."""
    protocol = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)  # the student's prints go to stderr, never into the protocol
    sys.stdout = sys.stderr
    job = json.loads(sys.stdin.buffer.read().decode("utf-8"))
    _limit_resources(float(job.get("cpu_seconds", 0)))

    def send(message: dict[str, Any]) -> None:
        protocol.write(json.dumps(message) + "\n")
        protocol.flush()

    from . import values
    from ..torch_threads import single_thread

    single_thread()
    module = _load(job["source"], send)
    if module is None:
        return
    tests = {call_id(f["function"], t["name"]): (f, t) for f in job.get("functions", ()) for t in f["tests"]}
    for call in job["calls"]:
        outcome = _run_call(module, call, values)
        if call["id"] in tests and outcome["status"] == "ok":
            outcome = _judged(tests[call["id"]], outcome, values)
        send({"event": "call", "id": call["id"], **outcome})


def _judged(function_and_test: tuple[dict[str, Any], dict[str, Any]], outcome: dict[str, Any], values: Any) -> dict[str, Any]:
    """The test's line, judged here (the student's own process on the student's own
    machine: the parent then needs no torch)."""
    from dataclasses import asdict

    from .verdict import judge_test

    function, test = function_and_test
    value = values.decode(outcome["value"])
    line = judge_test(function, test, CallOutcome("ok", value=value))
    return {"status": "judged", "line": asdict(line)}


def _limit_resources(cpu_seconds: float) -> None:
    """CPU-time cap and no core dumps, where `resource` exists (a backstop to the wall clock)."""
    try:
        import resource
    except ImportError:
        return
    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        if cpu_seconds > 0:
            soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
            limit = int(cpu_seconds) + 1
            if hard == resource.RLIM_INFINITY or hard > limit:
                resource.setrlimit(resource.RLIMIT_CPU, (limit, hard))
    except (ValueError, OSError):
        pass


def _describe(error: BaseException) -> str:
    import traceback

    try:
        text = str(error)
    except BaseException:
        text = "<message unavailable>"
    try:
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == "exercise.py"][-3:]
        where = "".join(traceback.format_list(frames)).rstrip()
    except BaseException:
        where = ""
    head = f"{type(error).__name__}: {text}" if text else type(error).__name__
    return _text(head + ("\n" + where if where else ""))


def _load(source: str, send: Any) -> Any:
    import linecache
    import types

    linecache.cache["exercise.py"] = (len(source), None, source.splitlines(keepends=True), "exercise.py")
    try:
        code = compile(source, "exercise.py", "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        send({"event": "load", "status": "syntax-error", "message": _describe(error)})
        return None
    module = types.ModuleType("exercise")
    module.__file__ = "exercise.py"
    sys.modules["exercise"] = module
    try:
        exec(code, module.__dict__)
    except BaseException as error:  # SystemExit and KeyboardInterrupt too: the import failed
        send({"event": "load", "status": "import-error", "message": _describe(error)})
        return None
    send({"event": "load", "status": "ok"})
    return module


def _seed(call_id: str) -> None:
    import random

    import torch

    seed = zlib.crc32(call_id.encode("utf-8", "surrogatepass"))
    torch.manual_seed(seed)
    random.seed(seed)


def _run_call(module: Any, call: dict[str, Any], values: Any) -> dict[str, Any]:
    function = module.__dict__.get(call["function"])
    if not callable(function):
        return {"status": "missing-function", "message": f"exercise.py defines no function {call['function']!r}"}
    args = values.build_models(values.decode(call["args"]))
    kwargs = values.build_models(values.decode(call["kwargs"]))
    _seed(call["id"])
    started = time.perf_counter()
    try:
        value = function(*args, **kwargs)
    except BaseException as error:
        if isinstance(error, NotImplementedError):
            return {"status": "not-implemented", "message": _describe(error)}
        memory = isinstance(error, MemoryError) or (
            isinstance(error, RuntimeError) and any(m in str(error) for m in _MEMORY_MARKERS)
        )
        return {"status": "memory" if memory else "error", "message": _describe(error)}
    duration = time.perf_counter() - started
    try:
        encoded = values.encode(value)
    except (ValueError, TypeError, RecursionError) as error:
        return {"status": "bad-output", "message": _text(f"returned a value that is not plain data: {error}")}
    return {"status": "ok", "value": encoded, "seconds": duration}
