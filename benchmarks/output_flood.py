"""What output floods cost the sandbox worker (the trusted side of the output pipes).

    python benchmarks/output_flood.py [--writes N] [--isolation auto|bwrap|none]

Runs each hostile submission below on a one-worker pool and prints, per submission, the
CPU seconds of the worker process itself (utime + stime; the student's processes and the
template that forks them are not counted), the wall time, the calls' statuses and the
bytes of stdout/stderr kept.  Every call returns 7 and must be `ok`: writing is allowed, only
what is kept is capped.  For comparison, an endless loop costs the worker next to nothing
(a wake-up per 20 ms poll).
"""

from __future__ import annotations

import argparse
import os
import time

from grader.sandbox import Call, ExecutorPool, Limits
from grader.torch_threads import single_thread

ATTACKS = {
    "print lines": "def f(n):\n    for i in range(n):\n        print(i)\n    return 7\n",
    "room reset, print": "import sys\ndef f(n):\n    for i in range(n):\n        sys.stdout.room = 10**9\n"
                         "        print(i)\n    return 7\n",
    "1-byte os.write under the caps": "import os\ndef f(n):\n    for i in range(min(n, 1 << 20)):\n"
                                      "        os.write(1, b'x')\n        os.write(2, b'x')\n    return 7\n",
    "fill, then 1-byte os.write": "import os\ndef f(n):\n    os.write(1, b'x' * (3 << 20))\n"
                                  "    for i in range(n):\n        os.write(1, b'x')\n    return 7\n",
    "fill, 8 threads of 1-byte writes": "import os, threading\ndef f(n):\n    os.write(2, b'x' * (3 << 20))\n"
                                        "    def w():\n        for i in range(n // 8):\n            os.write(2, b'e')\n"
                                        "    ts = [threading.Thread(target=w) for _ in range(8)]\n"
                                        "    [t.start() for t in ts]\n    [t.join() for t in ts]\n    return 7\n",
    "fill, 8 processes of 1-byte writes": "import os\ndef f(n):\n    os.write(1, b'x' * (3 << 20))\n"
                                          "    pids = []\n    for k in range(8):\n        pid = os.fork()\n"
                                          "        if pid == 0:\n            for i in range(n // 8):\n"
                                          "                os.write(1, b'p')\n            os._exit(0)\n"
                                          "        pids.append(pid)\n    for p in pids:\n        os.waitpid(p, 0)\n"
                                          "    return 7\n",
    "64 KiB os.write on both": "import os\ndef f(n):\n    b = b'z' * 65536\n    for i in range(n // 100):\n"
                               "        os.write(1, b)\n        os.write(2, b)\n    return 7\n",
}


def _own_cpu(pid: int) -> float:
    with open(f"/proc/{pid}/stat", "rb") as handle:
        fields = handle.read().rsplit(b")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _worker_pid(pool: ExecutorPool) -> int:
    """The sandbox worker: the first python process of the pool (under bwrap, if any)."""
    for pid in pool.processes():
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as handle:
                if os.path.basename(handle.read().split(b"\0")[0]).startswith(b"python"):
                    return pid
        except OSError:
            continue
    raise RuntimeError("no worker process found")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--writes", type=int, default=2_000_000, help="writes per flood call")
    parser.add_argument("--isolation", default="auto", choices=("auto", "bwrap", "none"))
    options = parser.parse_args()
    single_thread()
    limits = Limits(cpu_per_test=20.0, cpu_per_submission=60.0, wall_per_submission=60.0)
    with ExecutorPool(workers=1, limits=limits, isolation=options.isolation) as pool:
        pool.run("def g():\n    return 1\n", [Call("g", "g")])  # waits for the worker
        worker = _worker_pid(pool)
        print(f"{'submission':36s} {'worker CPU':>10s} {'wall':>7s}  statuses, kept stdout/stderr bytes")
        for name, source in ATTACKS.items():
            cpu, started = _own_cpu(worker), time.monotonic()
            result = pool.run(source, [Call("flood", "f", (options.writes,)), Call("after", "f", (10,))])
            wall, cpu = time.monotonic() - started, _own_cpu(worker) - cpu
            statuses = ",".join(f"{c.status}:{c.value}" for c in result.calls.values())
            print(f"{name:36s} {cpu:9.2f}s {wall:6.2f}s  {statuses}  {len(result.stdout.encode())}/"
                  f"{len(result.stderr.encode())}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
