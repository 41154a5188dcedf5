"""A seccomp filter for the bwrap sandbox (defence in depth; the namespaces are the boundary).

Trusted side.  `program()` is a classic-BPF program in the binary form bwrap's --seccomp
reads.  It refuses (EPERM) the system calls a grader never needs and a sandbox escape
usually does: new namespaces (unshare, setns, clone with CLONE_NEW*), mounts, ptrace and
cross-process memory access, kernel keyrings, bpf, userfaultfd, perf, io_uring, module
and kexec loading; System V / POSIX IPC objects, which would outlive the submission
(memory not bounded by any rlimit, or a message to the next student); and memfd files,
whose memory no per-process measure counts.  clone3 answers ENOSYS (its flags cannot be inspected), so the C
library falls back to clone.  Only x86-64 is covered; elsewhere there is no filter.
"""

from __future__ import annotations

import errno
import platform
import struct

AUDIT_ARCH_X86_64 = 0xC000003E
X32_SYSCALL_BIT = 0x40000000
CLONE_NEW_FLAGS = 0x7E020000  # NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET

DENIED_X86_64 = {
    "shmget": 29, "semget": 64, "msgget": 68, "mq_open": 240,  # IPC objects outlive their creator
    "ptrace": 101, "syslog": 103, "personality": 135, "pivot_root": 155, "chroot": 161, "acct": 163,
    "mount": 165, "umount2": 166, "swapon": 167, "swapoff": 168, "reboot": 169, "init_module": 175,
    "delete_module": 176, "kexec_load": 246, "add_key": 248, "request_key": 249, "keyctl": 250,
    "unshare": 272, "perf_event_open": 298, "open_by_handle_at": 304, "setns": 308,
    "process_vm_readv": 310, "process_vm_writev": 311, "finit_module": 313, "kexec_file_load": 320,
    "bpf": 321, "userfaultfd": 323, "io_uring_setup": 425, "io_uring_enter": 426,
    "io_uring_register": 427, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsconfig": 431,
    "fsmount": 432, "fspick": 433, "pidfd_getfd": 438, "mount_setattr": 442,
    "memfd_create": 319, "memfd_secret": 447,  # memory held by a file no process maps is counted by no limit
}
CLONE, CLONE3 = 56, 435
SOCKET, SOCKETPAIR = 41, 53
# The worker and the template talk over a socketpair, so sockets are refused only in the
# submission's processes (`child_program`, installed by each child before the job runs):
# bytes queued in a socket's buffers are kernel memory no per-process measure counts.

_LD_ABS, _JEQ, _JGE, _JSET, _RET = 0x20, 0x15, 0x35, 0x45, 0x06
_ALLOW, _KILL_PROCESS, _ERRNO = 0x7FFF0000, 0x80000000, 0x00050000


def _assemble(lines: list[tuple]) -> bytes:
    """Lines are (label,) or (code, k) or (code, k, true_label, false_label); jumps are
    resolved to the relative offsets classic BPF wants."""
    where: dict[str, int] = {}
    instructions = []
    for line in lines:
        if len(line) == 1:
            where[line[0]] = len(instructions)
        else:
            instructions.append(line)
    out = []
    for index, (code, k, *targets) in enumerate(instructions):
        jt = jf = 0
        if targets:
            jt, jf = (0 if t is None else where[t] - index - 1 for t in targets)
        out.append(struct.pack("<HBBI", code, jt, jf, k))
    return b"".join(out)


def program() -> bytes | None:
    """The filter for this machine, or None where there is none."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return None
    lines: list[tuple] = [
        (_LD_ABS, 4),  # seccomp_data.arch
        (_JEQ, AUDIT_ARCH_X86_64, None, "kill"),
        (_LD_ABS, 0),  # seccomp_data.nr
        (_JGE, X32_SYSCALL_BIT, "deny", None),
    ]
    for number in sorted(DENIED_X86_64.values()):
        lines.append((_JEQ, number, "deny", None))
    lines += [
        (_JEQ, CLONE3, "enosys", None),
        (_JEQ, CLONE, "clone", None),
        (_RET, _ALLOW),
        ("clone",),
        (_LD_ABS, 16),  # low half of the first argument: the flags
        (_JSET, CLONE_NEW_FLAGS, "deny", None),
        (_RET, _ALLOW),
        ("deny",),
        (_RET, _ERRNO | errno.EPERM),
        ("enosys",),
        (_RET, _ERRNO | errno.ENOSYS),
        ("kill",),
        (_RET, _KILL_PROCESS),
    ]
    return _assemble(lines)


def child_program() -> bytes | None:
    """The filter each submission's child adds to `program()`'s (None where there is none):
    socket and socketpair answer EPERM."""
    if platform.machine() not in ("x86_64", "AMD64"):
        return None
    return _assemble([
        (_LD_ABS, 4),  # seccomp_data.arch
        (_JEQ, AUDIT_ARCH_X86_64, None, "kill"),
        (_LD_ABS, 0),  # seccomp_data.nr
        (_JGE, X32_SYSCALL_BIT, "deny", None),
        (_JEQ, SOCKET, "deny", None),
        (_JEQ, SOCKETPAIR, "deny", None),
        (_RET, _ALLOW),
        ("deny",),
        (_RET, _ERRNO | errno.EPERM),
        ("kill",),
        (_RET, _KILL_PROCESS),
    ])
