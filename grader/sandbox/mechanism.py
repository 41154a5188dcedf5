"""Which mechanism enforces a submission's limits over its whole process tree, and why.

Trusted side (for `grader doctor` and the sandbox's own reports).  The sandbox enforces
memory, process and CPU limits over every process of a submission by reading /proc in
the worker ("proc", see `processes`): the sum of the processes' anonymous memory (checked
against their proportional share when over), their number, and their CPU time plus that
of the orphans the worker reaps.  cgroup v2 (memory.max, pids.max, cpu.stat) would let
the kernel do it, but only where this process's cgroup can be delegated to us: a
cgroup2 mount whose cgroup we may write, with the memory, pids and cpu controllers.
`cgroup_v2_problem` says why not (None when it could); the sandbox does not use cgroups
yet, so `limits_mechanism` reports "proc" either way, with the reason.
"""

from __future__ import annotations

import os

REQUIRED_CONTROLLERS = ("memory", "pids", "cpu")
CGROUP_FIX = ("run on the unified cgroup v2 hierarchy (systemd.unified_cgroup_hierarchy=1) and delegate a "
              "cgroup with memory, pids and cpu to the grader (systemd-run --scope -p Delegate=yes, or "
              "Docker --cgroupns=private)")


def _cgroup2_mounts(mountinfo: str) -> list[tuple[str, str]]:
    """(mount point, root inside the hierarchy) of every cgroup2 mount."""
    mounts = []
    for line in mountinfo.splitlines():
        left, _, right = line.partition(" - ")
        fields, tail = left.split(), right.split()
        if tail and tail[0] == "cgroup2" and len(fields) >= 5:
            mounts.append((fields[4], fields[3]))
    return mounts


def _own_cgroup(cgroup: str) -> str | None:
    """This process's cgroup v2 path ("0::/path" in /proc/self/cgroup)."""
    for line in cgroup.splitlines():
        if line.startswith("0::"):
            return line[3:]
    return None


def cgroup_v2_problem(proc: str = "/proc/self") -> str | None:
    """None when a cgroup v2 subtree with the memory, pids and cpu controllers could be
    delegated to the sandbox here; otherwise why not."""
    try:
        with open(f"{proc}/mountinfo") as handle:
            mounts = _cgroup2_mounts(handle.read())
        with open(f"{proc}/cgroup") as handle:
            own = _own_cgroup(handle.read())
    except OSError as error:
        return f"cannot read the process's cgroups ({error})"
    if not mounts:
        return "no cgroup v2 hierarchy is mounted"
    if own is None:
        return "this process is in no cgroup v2 (cgroup v1 only)"
    reasons = []
    for point, root in mounts:
        relative = os.path.relpath(own, root) if own.startswith(root) else None
        if relative is None or relative.startswith(".."):
            reasons.append(f"{point}: this process's cgroup is outside the mount")
            continue
        directory = os.path.normpath(os.path.join(point, relative))
        try:
            with open(os.path.join(directory, "cgroup.controllers")) as handle:
                available = handle.read().split()
        except OSError as error:
            reasons.append(f"{point}: {error.strerror or error}")
            continue
        missing = [name for name in REQUIRED_CONTROLLERS if name not in available]
        if missing:
            offered = ", ".join(available) or "none"
            reasons.append(f"cgroup v2 at {point} offers only {offered} (no {', '.join(missing)})")
            continue
        writable = all(os.access(os.path.join(directory, name), os.W_OK)
                       for name in ("cgroup.procs", "cgroup.subtree_control"))
        if not (writable and os.access(directory, os.W_OK)):
            reasons.append(f"{directory} is not delegated to this user (not writable)")
            continue
        return None
    return "; ".join(reasons)


def limits_mechanism() -> tuple[str, str]:
    """("proc", why) today: how limits over a submission's processes are enforced here."""
    problem = cgroup_v2_problem()
    if problem is None:
        why = "a cgroup v2 subtree could be delegated here, but the sandbox does not use cgroups yet"
    else:
        why = f"no delegated cgroup v2: {problem}"
    return "proc", why + "; limits are summed over the submission's processes from /proc by the worker"
