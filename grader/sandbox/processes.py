"""Reading a submission's processes from /proc: who they are, their CPU time and memory.

Runs inside the sandbox, in the worker.  This is the "proc" limits mechanism (see
`mechanism`): without a delegated cgroup, the worker sums over every process of the
submission

* CPU: utime + stime + cutime + cstime from /proc/<pid>/stat (a process's own time plus
  that of the children it reaped), plus the rusage of the orphans the worker, a child
  subreaper, reaps itself;
* memory: anonymous and shmem memory, which is what a submission allocates (tensors,
  heaps, the tmpfs/shm it maps); file-backed pages (torch's libraries) are shared by
  every process and reclaimable, and summing them (VmRSS) would count the same libraries
  once per process.  First RssAnon + RssShmem from /proc/<pid>/status, cheap but an
  overestimate: the ~200 MB a forked child shares copy-on-write with the template count
  once per process.  Only when that sum is over the limit, Pss_Anon + Pss_Shmem from
  /proc/<pid>/smaps_rollup decides (shared pages divided among their sharers, private
  ones, copied-on-write included, counted whole); the worker reads it with the
  submission's uid as its filesystem uid (`as_fs_uid`), the child being dumpable.

A process that exists but cannot be measured makes the total `None`: the caller counts
that as over the limit.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
from collections.abc import Iterator
from dataclasses import dataclass

CLOCK_TICK = os.sysconf("SC_CLK_TCK")
_GONE = (errno.ENOENT, errno.ESRCH)


@dataclass(frozen=True)
class Stat:
    """The fields of /proc/<pid>/stat the worker uses."""

    pid: int
    ppid: int
    state: str
    own_cpu: float  # utime + stime, seconds
    children_cpu: float  # cutime + cstime: the children it reaped

    @property
    def cpu(self) -> float:
        return self.own_cpu + self.children_cpu


def parse_stat(pid: int, raw: bytes) -> Stat:
    fields = raw.rsplit(b")", 1)[1].split()
    return Stat(pid, int(fields[1]), fields[0].decode(), (int(fields[11]) + int(fields[12])) / CLOCK_TICK,
                (int(fields[13]) + int(fields[14])) / CLOCK_TICK)


def read_stat(pid: int) -> Stat | None:
    """The process's stat; None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            return parse_stat(pid, handle.read())
    except (FileNotFoundError, ProcessLookupError):
        return None
    except (OSError, IndexError, ValueError):
        return None


def all_stats() -> list[Stat]:
    """Every process visible in /proc."""
    stats = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            stat = read_stat(int(entry))
            if stat is not None:
                stats.append(stat)
    return stats


def descendants(root: int, stats: list[Stat]) -> list[Stat]:
    """The processes below `root`."""
    children: dict[int, list[Stat]] = {}
    for stat in stats:
        children.setdefault(stat.ppid, []).append(stat)
    found, todo = [], [root]
    while todo:
        for stat in children.get(todo.pop(), []):
            found.append(stat)
            todo.append(stat.pid)
    return found


def _kilobytes(path: str, keys: tuple[bytes, bytes]) -> int | None:
    """The sum of two "Key: N kB" lines of a /proc file in bytes (0 once the process is
    gone or a zombie); None when the process exists but the file cannot be read."""
    try:
        with open(path, "rb") as handle:
            text = handle.read()
    except OSError as error:
        return 0 if error.errno in _GONE else None
    total, seen = 0, 0
    for line in text.splitlines():
        if line.startswith(keys):
            parts = line.split()
            if len(parts) < 2 or not parts[1].isdigit():
                return None
            total += int(parts[1]) * 1024
            seen += 1
    if seen == 2:
        return total
    stat = read_stat(int(path.split("/")[2]))
    if stat is None or stat.state in ("Z", "X"):  # no memory lines: a zombie, or gone
        return 0
    return None


def resident(pid: int) -> int | None:
    """RssAnon + RssShmem of a process, in bytes (see `_kilobytes` for 0 and None)."""
    return _kilobytes(f"/proc/{pid}/status", (b"RssAnon:", b"RssShmem:"))


def proportional(pid: int) -> int | None:
    """Pss_Anon + Pss_Shmem of a process, in bytes (see `_kilobytes` for 0 and None)."""
    return _kilobytes(f"/proc/{pid}/smaps_rollup", (b"Pss_Anon:", b"Pss_Shmem:"))


def total(measure, pids: list[int]) -> int | None:
    """The sum of `measure` over `pids`; None when any of them cannot be measured."""
    result = 0
    for pid in pids:
        used = measure(pid)
        if used is None:
            return None
        result += used
    return result


PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_CHILD_SUBREAPER = 36


def prctl(option: int, value: int) -> None:
    """`prctl(option, value)` for this process; ignored where libc has none."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)
    except (OSError, AttributeError):
        pass


@contextlib.contextmanager
def as_fs_uid(uid: int | None) -> Iterator[None]:
    """Run the block with `uid` as filesystem uid and gid (the ptrace access check of
    /proc/<pid>/smaps_rollup then passes for that uid's dumpable processes); None: as we are."""
    if uid is None:
        yield
        return
    libc = ctypes.CDLL(None, use_errno=True)
    old_gid, old_uid = libc.setfsgid(uid), libc.setfsuid(uid)
    try:
        yield
    finally:
        libc.setfsuid(old_uid)
        libc.setfsgid(old_gid)
