"""What a submission can see and touch under bwrap: no project files, no keys, no host
files written, no network, no host processes, no secrets in the environment."""

from __future__ import annotations

import os
import socket
import textwrap
import uuid
from pathlib import Path

import pytest

import solutions
from grader.sandbox import Call

from .conftest import assert_healthy

PROJECT = Path(solutions.__file__).resolve().parents[1]


def run_one(pool, body: str, *args):
    result = pool.run(textwrap.dedent(body), [Call("probe", "probe", args)])
    assert result.status == "ok", result.message
    call = result.calls["probe"]
    assert call.status == "ok", call.message
    return call.value


def test_keys_and_solutions_are_out_of_reach(pool, tmp_path):
    secret = f"secret-{uuid.uuid4()}"
    key = tmp_path / "quiz" / "key" / "alice" / "answers.toml"
    key.parent.mkdir(parents=True)
    key.write_text(f'q1 = "{secret}"\n')
    body = """
    import os, sys
    def probe(paths):
        report = {"read": [], "found": []}
        for path in paths:
            try:
                with open(path) as handle:
                    report["read"].append(path + ": " + handle.read(100))
            except OSError:
                pass
        skip = ("/proc", "/sys", "/dev", "/usr", sys.prefix, sys.base_prefix)
        for root, dirs, files in os.walk("/"):
            dirs[:] = [d for d in dirs if not os.path.join(root, d).startswith(skip)]
            for name in files:
                path = os.path.join(root, name)
                if name in ("exercise.py", "answers.toml", "variant.json", "quiz.toml", "gradebook.sqlite"):
                    report["found"].append(path)
                try:
                    with open(path, "rb") as handle:
                        if b"secret-" in handle.read(1 << 16):
                            report["found"].append(path)
                except OSError:
                    pass
        return report
    """
    targets = [str(key), str(PROJECT / "solutions" / "exercise.py"), str(PROJECT / "reference" / "__init__.py")]
    assert all(Path(p).exists() for p in targets)  # they are there for the trusted side
    report = run_one(pool, body, targets)
    assert report == {"read": [], "found": []}


def test_project_tree_is_not_mounted(pool):
    body = """
    import os
    def probe(paths):
        return [p for p in paths if os.path.exists(p)]
    """
    assert run_one(pool, body, [str(PROJECT), str(PROJECT / "grader"), "/work", str(Path.home() / ".ssh")]) == []


def test_writes_never_reach_the_host(pool, tmp_path):
    name = f"escape-{uuid.uuid4().hex}.txt"
    out_dir = tmp_path / "grading-output"
    out_dir.mkdir()
    body = """
    import os
    def probe(name, out_dir):
        attempts = ["/tmp/" + name, os.path.expanduser("~/" + name), "../" + name, "../../" + name,
                    os.path.join(out_dir, name), "/" + name, "/usr/" + name, name]
        wrote = []
        for path in attempts:
            try:
                os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
                with open(path, "w") as handle:
                    handle.write("escaped")
                wrote.append(path)
            except OSError:
                pass
        return wrote
    """
    wrote = run_one(pool, body, name, str(out_dir))
    assert "/tmp/" + name in wrote and name in wrote  # a private /tmp and cwd are writable...
    host_paths = [Path("/tmp") / name, Path.home() / name, out_dir / name, Path("/") / name, Path.cwd() / name]
    assert [p for p in host_paths if p.exists()] == []  # ...and nothing appears outside
    # and nothing survives into the next submission
    assert run_one(pool, "import os\ndef probe(n):\n    return os.path.exists('/tmp/' + n) or os.path.exists(n)\n", name) is False


def test_file_size_and_disk_are_limited(pool):
    body = """
    def probe():
        try:
            with open("big.bin", "wb") as handle:
                handle.write(b"x" * (17 * 1024**2))
        except OSError as error:
            return type(error).__name__ + " " + str(error.errno)
        return "wrote"
    """
    assert run_one(pool, body) == "OSError 27"  # EFBIG: RLIMIT_FSIZE, not a kill


def test_no_network_even_to_localhost(pool):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    body = """
    import socket
    def probe(port):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except OSError as error:
            return "refused: " + type(error).__name__
        return "connected"
    """
    try:
        assert run_one(pool, body, port).startswith("refused")
        with pytest.raises(socket.timeout):
            listener.accept()
    finally:
        listener.close()


def test_no_host_processes_or_secrets_visible(pool, monkeypatch):
    monkeypatch.setenv("GRADER_QUIZ_SECRET", "hunter2")
    body = """
    import os
    def probe():
        pids = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        return {"pids": pids, "env": dict(os.environ), "uid": os.getuid(), "cwd": os.getcwd()}
    """
    seen = run_one(pool, body)
    # its own pid namespace: bwrap's init, the worker, its template and the child alone
    assert os.getpid() not in seen["pids"] and seen["pids"][:2] == [1, 2] and len(seen["pids"]) <= 4
    assert "GRADER_QUIZ_SECRET" not in seen["env"] and "hunter2" not in str(seen["env"])
    assert set(seen["env"]) <= {"HOME", "TMPDIR", "PATH", "LANG"}
    if os.geteuid() == 0:
        assert seen["uid"] != 0
    assert not seen["cwd"].startswith(str(PROJECT))
    assert_healthy(pool)


def test_namespaces_and_tracing_are_refused_but_threads_and_forks_work(pool):
    from grader.sandbox import seccomp

    if seccomp.program() is None:
        pytest.skip("the seccomp filter covers x86-64 only")
    body = """
    import ctypes, os, subprocess, threading
    libc = ctypes.CDLL(None, use_errno=True)
    def probe():
        out = {}
        for name, flag in (("user", 0x10000000), ("mount", 0x20000), ("net", 0x40000000)):
            out[name] = (libc.unshare(flag), ctypes.get_errno())
        out["ptrace"] = (libc.ptrace(16, os.getppid(), 0, 0), ctypes.get_errno())  # PTRACE_ATTACH
        out["shmget"] = (libc.shmget(0, 1 << 20, 0o1600), ctypes.get_errno())  # IPC_PRIVATE, IPC_CREAT
        thread = threading.Thread(target=out.setdefault, args=("thread", "ran"))
        thread.start()
        thread.join()
        pid = os.fork()
        if pid == 0:
            os._exit(3)
        out["fork"] = os.waitpid(pid, 0)[1] >> 8
        out["exec"] = subprocess.run(["/bin/true"]).returncode
        return out
    """
    eperm = (-1, 1)
    assert run_one(pool, body) == {
        "user": eperm, "mount": eperm, "net": eperm, "ptrace": eperm, "shmget": eperm,
        "thread": "ran", "fork": 3, "exec": 0,
    }


def test_installed_project_packages_are_covered(monkeypatch, tmp_path):
    """A non-editable install puts grader/, reference/... into site-packages, which is
    mounted: each gets an empty tmpfs (or /dev/null) over it."""
    from grader.sandbox import isolation

    for name in ("grader", "reference", "solutions", "exercises"):
        (tmp_path / name).mkdir()
    (tmp_path / "__editable___grader_finder.py").write_text("MAPPING = {}\n")
    (tmp_path / "torch").mkdir()
    monkeypatch.setattr(isolation, "site_dirs", lambda: [str(tmp_path)])
    args = isolation.bwrap_command(1 << 20, None)
    pairs = {(args[i], args[i + 1]) for i in range(len(args) - 1)}
    inside = isolation.sandbox_path  # tmp_path is under /tmp: it appears under /hostfs
    for name in ("grader", "reference", "solutions", "exercises"):
        assert ("--tmpfs", inside(str(tmp_path / name))) in pairs
    assert ("/dev/null", inside(str(tmp_path / "__editable___grader_finder.py"))) in pairs
    assert ("--tmpfs", inside(str(tmp_path / "torch"))) not in pairs
    assert args[-2:] == ["--remount-ro", "/"]
