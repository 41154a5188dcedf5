"""How a sandbox worker is started: the bubblewrap command, or the rlimits-only fallback.

Trusted side.  The worker is `python -I -S -B -c BOOTSTRAP` (isolated mode, no site, no
user site, no .pth files); the bootstrap reads the sandbox's own modules (framing, codec,
harness, processes, child, template, session, worker) as source text from stdin, so the project's tree never needs to be
visible to it.

Under bwrap the worker sees: /usr (and the /lib*, /bin symlinks), the ld.so cache, the
interpreter's prefix and site-packages read-only, with the project's own packages covered
by empty tmpfs; a fresh /proc and /dev; a private /tmp and /sandbox (size-capped tmpfs);
nothing else.  The interpreter's directories keep their host paths, except those under a
place the sandbox owns (a virtual environment under /tmp): they appear under /hostfs
(`sandbox_path`), so that the private /tmp holds nothing but what submissions write.  It is alone in new pid, network (loopback only), ipc, uts and cgroup
namespaces, in a new session, under a seccomp filter (`seccomp`), and dies with the
trusted process.  Run as root, the worker
keeps just the capabilities it needs to run each submission as a distinct unprivileged
uid (so RLIMIT_NPROC holds and the student cannot signal or trace the worker); run as a
normal user, it gets a user namespace instead.
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import shutil
import site
import struct
import sys
import sysconfig
import threading
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from . import seccomp

BLOCKED_PACKAGES = ("grader", "reference", "solutions", "exercises")
"""The project's packages: never mounted in the sandbox, and refused by its import hook."""
MODULE_ORDER = ("framing", "codec", "harness", "processes", "child", "template", "session", "worker")
CHILD_UIDS = 1 << 20  # uids per worker: one per submission
SANDBOX_SCRATCH = "/sandbox"
SANDBOX_TMP = "/tmp"
HOST_MOUNTS = "/hostfs"
"""Where host directories that lie under the sandbox's own places are mounted instead."""
WORKER_CAPABILITIES = ("CAP_SETUID", "CAP_SETGID", "CAP_KILL", "CAP_DAC_OVERRIDE", "CAP_FOWNER", "CAP_CHOWN")
BASE_ENV = {
    "PATH": "/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}

BOOTSTRAP = r"""
import json, os, struct, sys, types
def _read(n):
    data = b""
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            raise SystemExit("sandbox bootstrap: no boot data")
        data += chunk
    return data
_boot = json.loads(_read(struct.unpack(">I", _read(4))[0]))
sys.path.extend(_boot["sys_path"])
_package = types.ModuleType("_sandbox")
_package.__path__ = []
sys.modules["_sandbox"] = _package
for _name in _boot["order"]:
    _module = types.ModuleType("_sandbox." + _name)
    _module.__package__ = "_sandbox"
    _module.__file__ = "<sandbox>/" + _name + ".py"
    sys.modules[_module.__name__] = _module
    setattr(_package, _name, _module)
    exec(compile(_boot["modules"][_name], _module.__file__, "exec"), _module.__dict__)
sys.modules["_sandbox.worker"].main(_boot["config"])
"""


class SandboxWarning(RuntimeWarning):
    """Student code is running without the bubblewrap namespace."""


_warned = False
_warn_lock = threading.Lock()


def warn_unisolated(reason: str) -> None:
    """Warn, once per process, that submissions run with rlimits only."""
    global _warned
    with _warn_lock:
        if _warned:
            return
        _warned = True
    warnings.warn(
        f"grader sandbox: {reason}; student code runs with resource limits and a private "
        "directory only (no namespace isolation: it can read files and use the network)",
        SandboxWarning,
        stacklevel=3,
    )


def python_executable() -> str:
    return os.path.realpath(sys.executable)


def site_dirs() -> list[str]:
    """The site-packages directories this process imports from (real paths, in order):
    a virtual environment's, the base interpreter's when the environment includes them, and
    the user site when it is enabled.  They go on the worker's sys.path and are mounted."""
    candidates: list[str] = []
    with contextlib.suppress(AttributeError):
        candidates += site.getsitepackages()
    if site.ENABLE_USER_SITE:
        with contextlib.suppress(AttributeError):
            candidates.append(site.getusersitepackages())
    candidates += [sysconfig.get_path(key) for key in ("purelib", "platlib")]
    dirs = []
    for path in candidates:
        if path and os.path.isdir(path):
            real = os.path.realpath(path)
            if real not in dirs:
                dirs.append(real)
    return dirs


def sandbox_path(path: str) -> str:
    """Where a host directory of the interpreter appears inside the bwrap sandbox: the same
    path, or under HOST_MOUNTS when it lies under a place the sandbox mounts its own
    (/tmp, /sandbox, /proc, /dev)."""
    for top in (SANDBOX_TMP, SANDBOX_SCRATCH, "/proc", "/dev", HOST_MOUNTS):
        if path == top or path.startswith(top + "/"):
            return HOST_MOUNTS + path
    return path


def boot_blob(config: dict[str, Any]) -> bytes:
    """What the bootstrap reads from stdin: the worker's modules and its configuration."""
    here = Path(__file__).resolve().parent
    modules = {name: (here / f"{name}.py").read_text("utf-8") for name in MODULE_ORDER}
    sites = site_dirs()
    if config.get("isolation") == "bwrap":
        sites = [sandbox_path(site) for site in sites]
    body = json.dumps({"order": list(MODULE_ORDER), "modules": modules, "sys_path": sites, "config": config}).encode()
    return struct.pack(">I", len(body)) + body


def _python_roots() -> list[str]:
    """Directories the interpreter needs, outside /usr, without nesting."""
    paths = {sys.base_prefix, sys.prefix, sys.base_exec_prefix, sys.exec_prefix, os.path.dirname(python_executable())}
    paths.update(sysconfig.get_path(key) for key in ("stdlib", "platstdlib", "purelib", "platlib"))
    paths.update(site_dirs())
    real = sorted({os.path.realpath(p) for p in paths if p and os.path.isdir(p)})
    roots: list[str] = []
    for path in real:
        if path == "/usr" or path.startswith("/usr/") or any(path.startswith(root + "/") for root in roots):
            continue
        roots.append(path)
    return roots


def _with_parents(path: str, made: set[str]) -> list[str]:
    """--dir for every missing ancestor of `path` (mode 0755, so any uid can traverse)."""
    args: list[str] = []
    parts = Path(path).parts
    for i in range(2, len(parts)):
        ancestor = str(Path(*parts[:i]))
        if ancestor not in made:
            made.add(ancestor)
            args += ["--perms", "0755", "--dir", ancestor]
    return args


def _hidden_entries() -> list[str]:
    """The project's own packages, its install metadata (which names the checkout) and
    editable-install hooks inside site-packages."""
    hidden = []
    for site in site_dirs():
        for name in BLOCKED_PACKAGES:
            for candidate in (os.path.join(site, name), os.path.join(site, name + ".py")):
                if os.path.lexists(candidate):
                    hidden.append(candidate)
        hidden += sorted(glob.glob(os.path.join(site, "__editable__*")))
        for pattern in ("grader-*.dist-info", "grader-*.egg-info", "grader.egg-link"):
            hidden += sorted(glob.glob(os.path.join(site, pattern)))
    return hidden


def privileged() -> bool:
    return os.geteuid() == 0


@contextlib.contextmanager
def seccomp_fd() -> Iterator[int | None]:
    """A readable fd holding the seccomp program (None where there is none), to pass to bwrap."""
    program = seccomp.program()
    if program is None:
        yield None
        return
    read_end, write_end = os.pipe()
    try:
        os.write(write_end, program)
        os.close(write_end)
        yield read_end
    finally:
        os.close(read_end)


def bwrap_command(tmpfs_bytes: int, seccomp_fd: int | None) -> list[str]:
    """The bwrap command line (without the program to run)."""
    args = [shutil.which("bwrap") or "bwrap", "--die-with-parent", "--new-session", "--clearenv"]
    if seccomp_fd is not None:
        args += ["--seccomp", str(seccomp_fd)]
    if privileged():
        args += ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
        args += ["--cap-drop", "ALL"]
        for capability in WORKER_CAPABILITIES:
            args += ["--cap-add", capability]
    else:
        args += ["--unshare-all", "--unshare-user", "--disable-userns"]
    args += ["--hostname", "sandbox"]
    for name, value in BASE_ENV.items():
        args += ["--setenv", name, value]
    args += ["--setenv", "HOME", SANDBOX_SCRATCH, "--setenv", "TMPDIR", SANDBOX_TMP]
    args += ["--ro-bind", "/usr", "/usr"]
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            args += ["--symlink", os.readlink(top), top]
        elif os.path.isdir(top):
            args += ["--ro-bind", top, top]
    for path in ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d"):
        args += ["--ro-bind-try", path, path]
    args += ["--proc", "/proc", "--dev", "/dev"]
    args += ["--size", str(tmpfs_bytes), "--tmpfs", SANDBOX_TMP]
    args += ["--size", str(tmpfs_bytes), "--perms", "0755", "--tmpfs", SANDBOX_SCRATCH]
    # The interpreter (a virtual environment under /tmp appears under /hostfs, outside the
    # private /tmp); then the project's packages inside it are covered.
    made: set[str] = {SANDBOX_TMP, SANDBOX_SCRATCH}
    for root in _python_roots():
        args += _with_parents(sandbox_path(root), made)
        args += ["--ro-bind", root, sandbox_path(root)]
    for path in _hidden_entries():
        if os.path.isdir(path) and not os.path.islink(path):
            # read-only: without root every sandbox process is its owner, and nothing wipes it
            args += ["--tmpfs", sandbox_path(path), "--remount-ro", sandbox_path(path)]
        else:
            args += ["--ro-bind", "/dev/null", sandbox_path(path)]
    args += ["--chdir", SANDBOX_SCRATCH, "--remount-ro", "/dev", "--remount-ro", "/"]
    return args


def worker_argv(isolation: str, tmpfs_bytes: int, seccomp_fd: int | None) -> list[str]:
    """The full command line of a worker."""
    if isolation != "bwrap":
        return [python_executable(), "-I", "-S", "-B", "-c", BOOTSTRAP]
    return bwrap_command(tmpfs_bytes, seccomp_fd) + [sandbox_path(python_executable()), "-I", "-S", "-B", "-c", BOOTSTRAP]


def worker_config(isolation: str, scratch: str | None = None) -> dict[str, Any]:
    """The configuration a worker receives with its modules."""
    if isolation == "bwrap":
        # a random range of uids per worker; each submission runs as the next one
        uids = [100_000 + secrets.randbelow(2**30), CHILD_UIDS] if privileged() else None
        child_filter = seccomp.child_program()
        return {"isolation": "bwrap", "child_uids": uids, "scratch": SANDBOX_SCRATCH, "tmpdir": SANDBOX_TMP,
                "blocked": list(BLOCKED_PACKAGES), "child_seccomp": child_filter.hex() if child_filter else None}
    return {"isolation": "rlimits", "child_uids": None, "scratch": scratch, "tmpdir": None, "blocked": list(BLOCKED_PACKAGES)}


def bwrap_problem() -> str | None:
    """None when sandboxed grading works here (a real worker started under bwrap and ran a
    submission: see `probe`); otherwise what is wrong.  Cached per process."""
    from .probe import probe

    return probe().problem or None


def choose(isolation: str) -> str:
    """"bwrap" or "rlimits" for a requested isolation ("auto", "bwrap" or "none")."""
    if isolation not in ("auto", "bwrap", "none"):
        raise ValueError(f"isolation must be 'auto', 'bwrap' or 'none', not {isolation!r}")
    if isolation == "none":
        warn_unisolated("isolation='none' was requested")
        return "rlimits"
    problem = bwrap_problem()
    if problem is None:
        return "bwrap"
    if isolation == "bwrap":
        from .api import SandboxError

        raise SandboxError(problem)
    warn_unisolated(problem)
    return "rlimits"
