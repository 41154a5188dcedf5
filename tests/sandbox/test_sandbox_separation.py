"""Nothing of one submission reaches the next one graded by the same warm worker.

Submission A carries a random canary in its source, its call arguments, its return value,
its stdout and an error message.  Submission B, graded next on the same worker, searches
everything it can reach: the objects the garbage collector knows, every frame up its
stack, and every writable or anonymous mapping of its memory (/proc/self/maps, read with ctypes).  B also plants a string
of the same form at run time and must find it everywhere (so a search that cannot see
anything does not pass).
"""

from __future__ import annotations

import secrets
import textwrap
import warnings

from grader.sandbox import Call, ExecutorPool, Limits, SandboxWarning

from .conftest import needs_bwrap

LIMITS = Limits(cpu_per_test=20.0, cpu_per_submission=40.0, wall_per_submission=60.0)

VICTIM = """
SECRET = "{canary}"
def answer(x):
    print("the answer is", SECRET)
    return [SECRET, x]
def broken():
    raise ValueError(SECRET)
"""

SEARCHER = textwrap.dedent(
    r'''
    import gc, re, sys
    PATTERN = re.compile(("c" + "nry").encode() + rb"[0-9a-f]{32}" + ("y" + "rnc").encode())
    KEEP = []

    def _texts(value, depth=0):
        if isinstance(value, (str, bytes, bytearray)):
            yield value.encode("utf-8", "surrogatepass") if isinstance(value, str) else bytes(value)
        elif depth < 3 and isinstance(value, dict):
            for key, item in list(value.items()):
                yield from _texts(key, depth + 1)
                yield from _texts(item, depth + 1)
        elif depth < 3 and isinstance(value, (list, tuple, set, frozenset)):
            for item in list(value):
                yield from _texts(item, depth + 1)

    def _found(texts):
        hits = set()
        for text in texts:
            hits.update(m.decode() for m in PATTERN.findall(text))
        return hits

    def in_gc():
        texts = []
        for obj in gc.get_objects():
            texts.extend(_texts(obj, 2))
            for referent in gc.get_referents(obj):
                texts.extend(_texts(referent, 2))
        return _found(texts)

    def in_frames():
        texts, names = [], []
        frame = sys._getframe()
        while frame is not None:
            names.append(frame.f_code.co_name)
            texts.extend(_texts(dict(frame.f_locals)))
            texts.extend(_texts(dict(frame.f_globals)))
            frame = frame.f_back
        return _found(texts), names

    def in_memory():
        """Every readable anonymous or writable mapping (read with ctypes: a process that
        changed uid may not open its own /proc/self/mem)."""
        import ctypes
        hits = set()
        with open("/proc/self/maps") as maps:
            lines = maps.read().splitlines()
        for line in lines:
            fields = line.split()
            perms, path = fields[1], fields[5] if len(fields) > 5 else ""
            if not perms.startswith("r") or path in ("[vvar]", "[vsyscall]", "[vvar_vclock]"):
                continue
            if path.startswith("/") and "w" not in perms:
                continue  # read-only file contents: no job data can be there
            start, end = (int(x, 16) for x in fields[0].split("-"))
            for offset in range(start, end, 1 << 24):
                chunk = ctypes.string_at(offset, min(end, offset + (1 << 24) + 64) - offset)
                hits.update(m.decode() for m in PATTERN.findall(chunk))
        return hits

    def search():
        own = "c" + "nry" + "".join("%x" % ((i * 7) % 16) for i in range(32)) + "yrnc"
        KEEP.append(own)
        frames, names = in_frames()
        where = {"gc": sorted(in_gc()), "frames": sorted(frames), "memory": sorted(in_memory())}
        return {"own": own, "where": where, "frames": names}

    def steal():
        """The attack from the issue: walk up to the worker's loop and take another job's
        source (this submission's own job is on the stack too, and is skipped)."""
        found = []
        frame = sys._getframe()
        while frame is not None:
            for value in list(frame.f_locals.values()):
                if isinstance(value, tuple) and value:
                    value = value[0]
                if isinstance(value, dict) and isinstance(value.get("source"), str):
                    found.append(value["source"])
                elif isinstance(value, (bytes, bytearray)) and len(value) > 100:
                    found.append(bytes(value).decode("utf-8", "replace"))
            frame = frame.f_back
        others = [text for text in found if "def st" + "eal" not in text]
        return others[0] if others else None
    '''
)


def _grade_two(pool: ExecutorPool, crash_first: bool = False) -> tuple[str, dict, object]:
    """Grade the victim, then the searcher (after a crashed call, when `crash_first`: the
    search then runs in a child made for the rest of the submission, not the warm spare)."""
    canary = "cnry" + secrets.token_hex(16) + "yrnc"
    victim = pool.run(
        VICTIM.format(canary=canary),
        [Call("answer", "answer", (canary,)), Call("broken", "broken")],
    )
    assert victim.calls["answer"].value == [canary, canary]
    assert canary in victim.stdout and canary in victim.calls["broken"].message
    calls = [Call("search", "search"), Call("steal", "steal")]
    if crash_first:
        calls.insert(0, Call("die", "die"))
    thief = pool.run(SEARCHER + "\nimport os\ndef die():\n    os._exit(9)\n", calls)
    assert thief.status == "ok", thief.message
    assert thief.calls["search"].status == "ok", thief.calls["search"].message
    return canary, thief.calls["search"].value, thief.calls["steal"].value


def _check(canary: str, seen: dict, stolen: object) -> None:
    own = seen["own"]
    for where, hits in seen["where"].items():
        assert own in hits, f"the search of {where} does not work: it missed B's own marker"
        assert canary not in hits, f"submission A's canary reached submission B through {where}"
    assert stolen is None or canary not in stolen
    assert "serve" not in seen["frames"]  # the worker's job loop is not on the child's stack


def test_next_submission_finds_nothing_of_the_previous_one_bwrap():
    needs_bwrap()
    with ExecutorPool(workers=1, limits=LIMITS, isolation="bwrap") as pool:
        for crash_first in (False, True):  # the warm spare child, then a child made mid-submission
            _check(*_grade_two(pool, crash_first))


def test_next_submission_finds_nothing_of_the_previous_one_rlimits():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SandboxWarning)
        with ExecutorPool(workers=1, limits=LIMITS, isolation="none") as pool:
            _check(*_grade_two(pool, crash_first=True))
