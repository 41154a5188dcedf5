"""Overhead of the sandbox executor against running the same calls in-process.

    python benchmarks/sandbox_overhead.py [--repeats N] [--calls N] [--isolation auto|bwrap|none]

Grades the instructor's solutions/exercise.py (the contract functions, vectorised as a
strong student would write them) on about 100 calls with small float64 tensors, like the
hidden tests: in-process (`run_in_process`, the floor), then on a warm ExecutorPool.  Prints
median and best times per submission (in-process and sandboxed runs interleaved), the
overhead ratio (median of the pairwise ratios; ratio of the best times), the fixed cost of a
one-call submission,
and the throughput of a two-worker pool fed by two threads.  Target: ratio <= 1.3.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import threading
import time
from pathlib import Path

import torch

from grader.sandbox import Call, ExecutorPool, ModelSpec, run_in_process
from grader.torch_threads import single_thread

ROOT = Path(__file__).resolve().parents[1]
F64 = torch.float64


def _r(generator: torch.Generator, *shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=generator, dtype=F64)


def _arguments(g: torch.Generator, k: int) -> dict[str, tuple[tuple, dict]]:
    """One set of hidden-test-sized arguments per function, varied by `k`."""
    n, d, h = 1 + k % 4, 3 + k % 5, 4 + k % 3
    probs = torch.rand(n + 2, generator=g, dtype=F64) * 0.9 + 0.05
    model = ModelSpec(layers=(("linear", _r(g, h, d), _r(g, h)), ("relu",), ("linear", _r(g, 3, h), _r(g, 3))))
    vocab = [f"w{i}" for i in range(12)]
    return {
        "regularized_loss": ((torch.tensor(0.7, dtype=F64), [_r(g, d, h), _r(g, h)], 0.01), {"kind": "l2" if k % 2 else "l1"}),
        "softmax_cross_entropy": ((_r(g, n, 5), torch.randint(0, 5, (n,), generator=g)), {}),
        "relu_backward": ((_r(g, n, d), _r(g, n, d)), {}),
        "linear_backward": ((_r(g, n, d), _r(g, d, h), _r(g, n, h)), {}),
        "adam_step": ((_r(g, d), _r(g, d), _r(g, d), _r(g, d).abs(), 1 + k), {"lr": 1e-2}),
        "batchnorm_forward": ((_r(g, n + 1, d), _r(g, d), _r(g, d)), {}),
        "dropout": ((_r(g, n, d), 0.3, k % 2 == 0), {}),
        "conv2d": ((_r(g, n, 2, 7, 7), _r(g, 3, 2, 3, 3), _r(g, 3)), {"stride": 1 + k % 2, "padding": k % 2}),
        "max_pool2d": ((_r(g, n, 2, 6, 6), 2, 2), {}),
        "global_avg_pool": ((_r(g, n, 3, 5, 5),), {}),
        "fgsm": ((model, _r(g, n, d), torch.randint(0, 3, (n,), generator=g), 0.1), {"targeted": k % 2 == 1}),
        "project_linf": ((_r(g, n, d), _r(g, n, d), 0.2), {}),
        "lstm_cell": ((_r(g, n, d), _r(g, n, h), _r(g, n, h), _r(g, 4 * h, d), _r(g, 4 * h, h), _r(g, 4 * h), _r(g, 4 * h)), {}),
        "skipgram_pairs": ((list(range(6 + k)), 2), {}),
        "negative_sampling_loss": ((_r(g, d), _r(g, d), _r(g, 4, d)), {}),
        "analogy": ((_r(g, 12, d), vocab, "w1", "w2", "w3"), {}),
        "attention_context": ((_r(g, d), _r(g, 5, d)), {}),
        "scaled_dot_product_attention": ((_r(g, n, 4, d), _r(g, n, 5, d), _r(g, n, 5, d)), {}),
        "multi_head_attention": ((_r(g, n, 4, 8), _r(g, n, 5, 8), _r(g, 8, 8), _r(g, 8, 8), _r(g, 8, 8), _r(g, 8, 8), 2), {}),
        "sinusoidal_positional_encoding": ((5 + k, 8), {}),
        "layer_norm": ((_r(g, n, 4, d), _r(g, d), _r(g, d)), {}),
        "patchify": ((_r(g, n, 3, 8, 8), 4), {}),
        "lora_linear": ((_r(g, n, d), _r(g, h, d), _r(g, 2, d), _r(g, h, 2), 4.0), {}),
        "lora_merge": ((_r(g, h, d), _r(g, 2, d), _r(g, h, 2), 4.0), {}),
        "gan_discriminator_loss": ((probs[:n], probs[1 : n + 1]), {}),
        "gan_generator_loss": ((probs[:n],), {"non_saturating": k % 2 == 0}),
        "diffusion_q_sample": ((_r(g, n, 3), torch.randint(0, 10, (n,), generator=g), _r(g, n, 3), torch.rand(10, generator=g, dtype=F64)), {}),
        "diffusion_loss": ((_r(g, n, d), _r(g, n, d)), {}),
    }


def make_calls(count: int, seed: int = 0) -> list[Call]:
    """`count` calls cycling through the functions of `_arguments` with fresh arguments."""
    generator = torch.Generator().manual_seed(seed)
    calls: list[Call] = []
    k = 0
    while len(calls) < count:
        for name, (args, kwargs) in _arguments(generator, k).items():
            if len(calls) == count:
                break
            calls.append(Call(f"{name}/hidden-{k}", name, args, kwargs))
        k += 1
    return calls


def _times(run, repeats: int) -> list[float]:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return times


def _pool_cpu(pool: ExecutorPool) -> float:
    """CPU seconds used so far by the pool's processes (children they reaped included)."""
    total = 0.0
    for pid in pool.processes():
        try:
            with open(f"/proc/{pid}/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")
    return total


def _own_cpu() -> float:
    times = os.times()
    return times.user + times.system


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--calls", type=int, default=100)
    parser.add_argument("--isolation", default="auto", choices=("auto", "bwrap", "none"))
    parser.add_argument("--source", type=Path, default=ROOT / "solutions" / "exercise.py",
                        help="the exercise.py to grade (default: the instructor's solutions)")
    options = parser.parse_args()
    # The sandbox runs student code on one thread; so must the floor.  (With torch's default
    # threads, tiny tensor ops here cost tens of milliseconds of thread hand-offs.)
    single_thread()

    source = options.source.read_bytes()
    calls = make_calls(options.calls)
    floor_result = run_in_process(source, calls)
    bad = [c.id for c in floor_result.calls.values() if c.status != "ok"]
    if floor_result.status != "ok" or bad:
        print(f"in-process run failed: {floor_result.status} {floor_result.message} {bad[:5]}", file=sys.stderr)
        return 1

    with ExecutorPool(workers=2, isolation=options.isolation) as pool:
        first = pool.run(source, calls)  # also waits for the worker to be ready
        bad = [c.id for c in first.calls.values() if c.status != "ok"]
        if first.status != "ok" or bad:
            print(f"sandboxed run failed: {first.status} {first.message} {bad[:5]}", file=sys.stderr)
            return 1
        pool.run(source, calls[:1])  # the second worker warm too

        floors, sandboxed, floor_cpu, boxed_cpu = [], [], [], []
        for _ in range(options.repeats):  # interleaved, so that both see the same machine load
            time.sleep(0.1)  # let the workers finish cleaning up and forking their next child
            cpu = _own_cpu()
            floors += _times(lambda: run_in_process(source, calls), 1)
            floor_cpu.append(_own_cpu() - cpu)
            time.sleep(0.1)
            cpu = _own_cpu() + _pool_cpu(pool)
            sandboxed += _times(lambda: pool.run(source, calls), 1)
            time.sleep(0.1)  # its clean-up and next spare child count too
            boxed_cpu.append(_own_cpu() + _pool_cpu(pool) - cpu)
        ratios = [boxed / floor for floor, boxed in zip(floors, sandboxed)]
        one_call = statistics.median(_times(lambda: (time.sleep(0.1), pool.run(source, calls[:1])), options.repeats)) - 0.1
        one_call_floor = statistics.median(_times(lambda: run_in_process(source, calls[:1]), options.repeats))

        batch = 2 * options.repeats
        started = time.perf_counter()
        threads = [threading.Thread(target=lambda: [pool.run(source, calls) for _ in range(batch // 2)]) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        throughput = batch / (time.perf_counter() - started)
        isolation = first.isolation

    floor, best_floor = statistics.median(floors), min(floors)
    boxed, best_boxed = statistics.median(sandboxed), min(sandboxed)
    ms = 1000
    print(f"isolation: {isolation}; {len(calls)} calls per submission; {options.repeats} runs (median, best)")
    print(f"in-process (floor):        {floor * ms:8.1f} ms  {best_floor * ms:8.1f} ms per submission")
    print(f"sandboxed (warm pool):     {boxed * ms:8.1f} ms  {best_boxed * ms:8.1f} ms per submission")
    print(f"overhead ratio:            {statistics.median(ratios):8.2f}  {best_boxed / best_floor:8.2f}     (target <= 1.3)")
    print(f"CPU per submission:        {statistics.median(floor_cpu) * ms:8.1f} ms in-process, "
          f"{statistics.median(boxed_cpu) * ms:.1f} ms sandboxed (all processes, clean-up included)")
    print(f"one-call submission:       {one_call * ms:8.1f} ms sandboxed, {one_call_floor * ms:.1f} ms in-process")
    print(f"throughput:                {throughput:8.1f} submissions/s sandboxed (two workers, two threads), "
          f"{1 / floor:.1f}/s in-process (one thread)")
    print(f"machine load average:      {os.getloadavg()[0]:8.2f}  (on {os.cpu_count()} cores)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
