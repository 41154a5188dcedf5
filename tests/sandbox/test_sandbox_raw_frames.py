"""Red team 5: a student's exercise.py writes call frames by hand to the result pipe
(`child.RESULT_FD`, `framing.pack`'s format).  The worker forwards a call's value as the
child sent it; whatever the child writes, the verdict is "bad-output" for that call, the
judge never parses a value that is not a value tree within the caps, and the worker lives
on (a worker that dies or is retired makes every later call of the submission "crashed")."""

from __future__ import annotations


import pytest

from grader.sandbox import Call, ExecutorPool, Limits, framing

from .conftest import needs_bwrap

RAW_LIMITS = Limits(cpu_per_test=1.0, cpu_per_submission=8.0, wall_per_submission=8.0, result_bytes=1 << 20,
                    output_bytes=16 << 10, results_total_bytes=8 << 20, result_nodes=20_000, results_total_nodes=100_000)

# exercise.py's helpers: `_call(index, value_json, buffers)` writes an "ok" call frame whose
# value is the given JSON text, with that many empty buffers; the test's function then
# exits the child (its own frame never comes)
PRELUDE = '''
import os, struct
def _send(data):
    view = memoryview(data)
    while view:
        view = view[os.write(3, view):]
def _call(index, value_json, buffers=0):
    body = ('{"ev":"call","index":%d,"status":"ok","message":"","forbidden":[],"duration":0.0,"value":' % index
            + value_json + '}').encode("utf-8", "surrogatepass")
    _send(struct.pack(">II", len(body), buffers) + body + struct.pack(">Q", 0) * buffers)
def fine(x):
    return x * 2
'''


@pytest.fixture(scope="module")
def raw_pool():
    """One bwrap worker with small value caps (frames of a few hundred KB reach them)."""
    needs_bwrap()
    with ExecutorPool(workers=1, limits=RAW_LIMITS, isolation="bwrap") as shared:
        yield shared


@pytest.fixture
def parsed(monkeypatch):
    """The sizes of the frame headers the judge's process parses."""
    sizes: list[int] = []
    original = framing._parse_header

    def spy(raw: bytes):
        sizes.append(len(raw))
        return original(raw)

    monkeypatch.setattr(framing, "_parse_header", spy)
    return sizes


def _send_raw(pool: ExecutorPool, value_source: str):
    """Call 0 sends, raw, the JSON text that the Python expression `value_source` makes in
    exercise.py (a big value would not fit in its source), then exits; call 1 is then
    "crashed" (its child died with it) and call 2 runs in a fresh child of the same worker."""
    body = PRELUDE + f"def cheat():\n    _call(0, {value_source})\n    os._exit(0)\n"
    result = pool.run(body, [Call("cheat", "cheat"), Call("lost", "fine", (1,)), Call("fine", "fine", (21,))])
    assert result.status == "ok", result.message
    assert result.calls["lost"].status == "crashed"
    assert result.calls["fine"].status == "ok", result.calls["fine"].message  # the worker survived
    assert result.calls["fine"].value == 42
    return result.calls["cheat"]


def test_a_float_json_cannot_carry_is_refused_and_the_worker_lives(raw_pool):
    # 1e999 parses as inf, which the worker cannot write as JSON: it used to die of it
    cheat = _send_raw(raw_pool, repr('{"t":"float","v":1e999}'))
    assert cheat.status == "bad-output"


def test_escaped_commas_do_not_pass_the_judges_token_cap(raw_pool):
    # "\u002c" is no "," for the worker's count, but is one once written again: the judge
    # saw a frame over its token cap and retired the worker
    commas = RAW_LIMITS.frame_tokens + 10
    escaped = repr("\\u002c")  # six characters, a JSON escape of ","
    cheat = _send_raw(raw_pool, repr('{"t":"str","v":"') + f" + {escaped} * {commas} + " + repr('"}'))
    assert cheat.status == "bad-output"


def test_numbers_that_grow_when_written_again_stay_within_the_judges_frame_cap(raw_pool):
    # "-1e15" is written again as "-1000000000000000.0": a frame within the worker's cap
    # grew past the judge's, which then dropped the worker as garbled
    count = RAW_LIMITS.result_nodes - 1
    node = '{"t":"float","v":-1e15}'
    pad = RAW_LIMITS.result_bytes + (1 << 20) - count * (len(node) + 1) - 200
    source = (repr('{"t":"list","v":[') + f" + ','.join([{node!r}] * {count}) + "
              + repr(',{"t":"str","v":"') + f" + 'a' * {pad} + " + repr('"}]}'))
    cheat = _send_raw(raw_pool, source)
    assert cheat.status == "bad-output"


@pytest.mark.parametrize("wrapper", ['{"t":"list","v":%s}', '{"t":"int","v":1,"x":%s}', '{"t":"none","v":%s}'],
                         ids=["list", "extra-key", "none-with-v"])
def test_a_value_that_is_no_value_tree_never_reaches_the_judges_parser(raw_pool, parsed, wrapper):
    # 200 000 JSON items (within the worker's frame token cap, far over the value's parts)
    # in a shape the codec has no node for: refused in the sandbox, so the judge does not
    # pay for parsing them (about 1 s of its CPU per 5 MB of such frames, GIL held)
    before, after = wrapper.split("%s")
    cheat = _send_raw(raw_pool, f"{before!r} + '[' + '[],' * 100_000 + '[]]' + {after!r}")
    assert cheat.status == "bad-output"
    assert cheat.value is None
    assert max(parsed) < 64 << 10, f"the judge parsed a header of {max(parsed)} bytes"


def test_buffers_the_value_does_not_use_never_reach_the_judge(raw_pool, monkeypatch):
    # a frame of 100 000 empty buffers and the value None: each buffer costs the judge's
    # reader about 0.7 us (a million per 8 MB frame, ~22 s of its CPU per submission)
    from grader.sandbox import results

    counts: list[int] = []
    original = results.checked_call

    def spy(header, buffers, limits, budget):
        counts.append(len(buffers))
        return original(header, buffers, limits, budget)

    monkeypatch.setattr(results, "checked_call", spy)
    cheat = _send_raw(raw_pool, repr('{"t":"none"}') + ", 100_000")
    assert cheat.status == "bad-output"
    assert "does not use" in cheat.message
    assert max(counts) == 0


def test_a_string_over_the_value_cap_is_refused_as_the_childs_encoder_would(raw_pool):
    # the codec counts 4 bytes a character: a string of result_bytes / 4 characters and
    # more is refused when a child returns it, and was taken when written by hand
    chars = RAW_LIMITS.result_bytes // 4 + 1
    cheat = _send_raw(raw_pool, repr('{"t":"str","v":"') + f" + 'a' * {chars} + " + repr('"}'))
    assert cheat.status == "bad-output"
    assert f"larger than {RAW_LIMITS.result_bytes} bytes" in cheat.message


WORST_FRAMES = '''
import json
def _frame(header, buffers=()):
    body = json.dumps(header, ensure_ascii=False).encode("utf-8", "surrogatepass")
    parts = [struct.pack(">II", len(body), len(buffers)), body]
    for b in buffers:
        parts += [struct.pack(">Q", len(b)), b]
    return b"".join(parts)
def worst(values, errors):
    for index in range(values):  # the submission's values, up to their total cap
        _send(_frame({"ev": "call", "index": index, "status": "ok", "message": "", "forbidden": [], "duration": 0.0,
                      "value": {"t": "tensor", "dtype": "uint8", "shape": [1_000_000], "buf": 0}}, [bytes(1_000_000)]))
    for index in range(values, values + errors):  # the longest message and forbidden names the worker forwards
        _send(_frame({"ev": "call", "index": index, "status": "error", "message": "\\U0001f600" * 4000,
                      "forbidden": ["\\U0001f600" * 200] * 50, "duration": 0.0, "value": None}))
    _send(_frame({"ev": "end"}))
    os._exit(0)
'''


def test_the_longest_messages_the_worker_forwards_fit_the_judges_budget(raw_pool):
    # 4 000 characters of message and 50 names of 200, 4 bytes each: 56 KB a call frame,
    # where the judge allowed 32 KB; past its budget it dropped the worker as flooding
    values, errors = 8, 120
    calls = [Call("c0", "worst", (values, errors))] + [Call(f"c{i}", "worst", (0, 0)) for i in range(1, values + errors)]
    result = raw_pool.run(PRELUDE + WORST_FRAMES, calls)
    assert result.status == "ok", result.message
    statuses = [result.calls[f"c{i}"].status for i in range(values + errors)]
    assert statuses == ["ok"] * values + ["error"] * errors


def test_the_submissions_parts_are_capped_in_the_sandbox(raw_pool, parsed):
    per_call = RAW_LIMITS.result_nodes - 1  # the list and its items: result_nodes parts
    calls = [Call(f"c{i}", "many", (per_call,)) for i in range(6)]
    result = raw_pool.run("def many(n):\n    return list(range(n))\n", calls)
    statuses = [result.calls[f"c{i}"].status for i in range(6)]
    assert statuses == ["ok"] * 5 + ["bad-output"]  # 5 x 20 000 = results_total_nodes
    assert result.calls["c5"].message == f"the submission's values have more than {RAW_LIMITS.results_total_nodes} parts in total"
    assert result.calls["c4"].value == list(range(per_call))
    assert sorted(parsed)[-6] < 64 << 10  # the sixth value never reached the judge: five big headers
