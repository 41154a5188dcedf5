"""Running exercise.py and its calls: the code that executes next to student code.

Used inside the sandbox (by the per-submission child) and, without isolation, by
`run_in_process`.  It imports only the standard library, torch, numpy and its sibling
`codec`, because inside the sandbox nothing else of the project exists.

Nothing computed here is trusted: the child reports outcomes, and the trusted process
decodes them as plain data.  Forbidden-call detection in particular happens in the
student's own process, so it is a second line behind the trusted static scan (which is
the rule): `ForbiddenGuard` wraps the forbidden names, `OpKernels` (with `OpWatch` when the
autograd engine is forbidden) records forbidden ATen ops.  Code that can reach these objects
could mute them; the scan rejects such code.
"""

from __future__ import annotations

import contextlib
import importlib
import linecache
import math
import random
import sys
import time
import traceback
import types
import zlib
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch.utils._python_dispatch import TorchDispatchMode

from . import codec

FILENAME = "exercise.py"
MODULE_NAME = "exercise"
MESSAGE_CHARS = 4000
_MEMORY_MARKERS = ("can't allocate memory", "not enough memory", "DefaultCPUAllocator", "out of memory")


# ----------------------------------------------------------------------------- imports


class ImportBlocker:
    """A meta-path finder that refuses the project's own packages (defence in depth: in
    the sandbox they are not mounted at all)."""

    def __init__(self, blocked: tuple[str, ...]) -> None:
        self.blocked = frozenset(blocked)

    def find_spec(self, name: str, path: Any = None, target: Any = None) -> None:
        if name.partition(".")[0] in self.blocked:
            raise ModuleNotFoundError(f"exercise.py may not import {name!r}: it is not available when grading", name=name)
        return None


# ----------------------------------------------------------------------------- forbidden calls


def resolve(name: str) -> tuple[Any, str, Any] | None:
    """(owner, attribute, object) for a qualified name like `torch.nn.functional.conv2d`,
    importing the longest module prefix; None when it does not resolve."""
    parts = name.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            owner: Any = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for part in parts[cut:-1]:
                owner = getattr(owner, part)
            return owner, parts[-1], getattr(owner, parts[-1])
        except AttributeError:
            return None
    return None


@dataclass
class ForbiddenGuard:
    """Wraps the callables behind qualified names so that calling one while it is
    `active` is recorded.  Install before exercise.py runs, so that names it imports
    (`from torch.nn.functional import conv2d`) are the wrappers."""

    names: tuple[str, ...]
    active: frozenset[str] = frozenset()
    hits: list[str] = field(default_factory=list)
    _undo: list[Callable[[], None]] = field(default_factory=list)

    def install(self) -> None:
        for name in sorted(set(self.names)):
            resolved = resolve(name)
            if resolved is not None:
                self._wrap(name, *resolved)

    def _record(self, name: str) -> None:
        if name in self.active and name not in self.hits:
            self.hits.append(name)

    def _wrap(self, name: str, owner: Any, attribute: str, target: Any) -> None:
        guard = self
        if isinstance(target, type):
            original_init = target.__init__

            def init(self: Any, *args: Any, **kwargs: Any) -> None:
                guard._record(name)
                original_init(self, *args, **kwargs)

            previous = target.__dict__.get("__init__")
            try:
                target.__init__ = init
            except TypeError:  # a C type: fall back to wrapping the name
                pass
            else:
                self._undo.append(lambda: _restore(target, "__init__", previous))
                return
        if not callable(target):
            return
        raw = owner.__dict__.get(attribute) if isinstance(owner, type) else None

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            guard._record(name)
            return target(*args, **kwargs)

        wrapper.__name__ = getattr(target, "__name__", attribute)
        wrapper.__qualname__ = getattr(target, "__qualname__", attribute)
        wrapper.__doc__ = getattr(target, "__doc__", None)
        replacement: Any = wrapper
        if isinstance(raw, staticmethod):
            replacement = staticmethod(wrapper)
        elif isinstance(raw, classmethod):
            original = raw.__func__

            def class_wrapper(cls: Any, *args: Any, **kwargs: Any) -> Any:
                guard._record(name)
                return original(cls, *args, **kwargs)

            replacement = classmethod(class_wrapper)
        try:
            setattr(owner, attribute, replacement)
        except (AttributeError, TypeError):
            return
        restore_to = raw if isinstance(owner, type) else target  # None: the class inherited it
        self._undo.append(lambda: _restore(owner, attribute, restore_to))

    def uninstall(self) -> None:
        """Put every wrapped name back (used by the in-process runner)."""
        while self._undo:
            self._undo.pop()()

    @contextmanager
    def watch(self, names: tuple[str, ...]) -> Iterator[list[str]]:
        """Record calls of `names` while the block runs; yields the list of hits."""
        self.hits = []
        self.active = frozenset(names)
        try:
            yield self.hits
        finally:
            self.active = frozenset()


AUTOGRAD_ENGINE = "autograd::engine"
WATCH_OFF = "a guard that switched off the ATen watch"
_OP_NAMES: dict[Any, str] = {}


class OpWatch(TorchDispatchMode):
    """Records, into `hits`, each forbidden ATen op (`aten::convolution`) that runs while
    the mode is active, whatever Python route called it (`torch.ops`, `torch._VF`, a
    module), and with `autograd::engine` any op the autograd engine runs (a backward pass).
    An op is seen after composite ops are decomposed: `aten::conv2d` shows as
    `aten::convolution`, SDPA's math path as plain `bmm` and `_safe_softmax`."""

    @classmethod
    def _should_skip_dynamo(cls) -> bool:
        return False  # else the base class wraps __torch_dispatch__ in torch._dynamo.disable: 3 s to import, slower ops

    def __init__(self, forbidden: frozenset[str], hits: list[str]) -> None:
        super().__init__()
        self.forbidden = forbidden
        self.engine = AUTOGRAD_ENGINE in forbidden
        self.hits = hits
        self._graph_task = torch._C._current_graph_task_id

    def __torch_dispatch__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        name = _OP_NAMES.get(func)
        if name is None:
            name = _OP_NAMES[func] = func._schema.name
        if name in self.forbidden:
            self._hit(name)
        if self.engine and self._graph_task() != -1:
            self._hit(AUTOGRAD_ENGINE)
        return func._op(*args, **kwargs) if kwargs else func._op(*args)  # the C++ op, no Python wrapper

    def _hit(self, name: str) -> None:
        if name not in self.hits:
            self.hits.append(name)


class OpKernels:
    """Records forbidden ATen ops, like `OpWatch`, at a fraction of its cost: a recording
    kernel is registered, in this process, at the `PreDispatch` dispatch key for every
    overload of each watched op, and the key is switched on (thread-locally) only while a
    watched call runs.  Every other op passes that key in C++ (torch's fallthrough), so
    only watched ops enter Python; an op is seen each time it is dispatched, as a
    composite op and as the ops it decomposes into (`aten::conv2d`, then
    `aten::convolution`), and in backward passes.  It cannot see the autograd engine
    itself: `watch_ops` uses `OpWatch` for that."""

    _AFTER = torch._C._dispatch_keyset_full_after(torch._C.DispatchKey.PreDispatch)

    def __init__(self) -> None:
        self._library: Any = None
        self._registered: set[str] = set()
        self.watched: frozenset[str] = frozenset()
        self.hits: list[str] | None = None

    def register(self, names: frozenset[str]) -> None:
        """Register the recording kernels of `names` not registered yet (unknown ops are
        skipped: nothing can run them)."""
        for name in sorted(names - self._registered):
            self._registered.add(name)
            namespace, _, op = name.partition("::")
            packet = getattr(getattr(torch.ops, namespace, None), op, None) if namespace == "aten" else None
            if packet is None:
                continue  # not an op of this torch: nothing can run it
            if self._library is None:
                self._library = torch.library.Library("aten", "IMPL")
            for overload_name in packet.overloads():
                overload = getattr(packet, overload_name)
                self._library.impl(overload, self._kernel(name, overload), "PreDispatch", with_keyset=True)

    def _kernel(self, name: str, overload: Any) -> Callable[..., Any]:
        after = self._AFTER

        def record(keyset: Any, *args: Any, **kwargs: Any) -> Any:
            hits = self.hits
            if hits is not None and name in self.watched and name not in hits:
                hits.append(name)
            return overload.redispatch(keyset & after, *args, **kwargs)

        return record

    @contextmanager
    def watch(self, names: frozenset[str], hits: list[str]) -> Iterator[list[str]]:
        self.register(names)
        self.watched, self.hits = names, hits
        try:
            with torch._C._EnablePreDispatch():
                try:
                    yield hits
                finally:
                    if not torch._C._dispatch_tls_is_dispatch_key_included(torch._C.DispatchKey.PreDispatch) \
                            and WATCH_OFF not in hits:
                        hits.append(WATCH_OFF)  # a dispatch-state guard restored keys without it
        finally:
            self.watched, self.hits = frozenset(), None


_KERNELS = OpKernels()


def aten_ops(names: Iterable[str]) -> frozenset[str]:
    """The names among `names` that the ATen watch handles (`aten::convolution`,
    `autograd::engine`); the others are Python names, for `ForbiddenGuard`."""
    return frozenset(name for name in names if "::" in name)


def prepare_op_watch(names: Iterable[str]) -> None:
    """Register the recording kernels of these ATen ops now (in the template: its children
    then inherit them instead of registering them each, about 8 ms for 56 ops)."""
    _KERNELS.register(aten_ops(names))


@contextmanager
def op_watch_key(forbidden: Iterable[str]) -> Iterator[None]:
    """Keep `OpKernels`' dispatch key on while exercise.py is imported and the calls run,
    when their `forbidden` names include ATen ops (else nothing: with the key on,
    higher-order ops such as `torch.cond` fail).  A dispatch-state guard
    (`torch.inference_mode(False)`, entered at import and closed in a call) restores the
    keys of the moment it was entered: entered with the key off, it would switch the watch
    off.  With the key on from before the import, every state a guard can restore has it on."""
    if not aten_ops(forbidden):
        yield
        return
    with torch._C._EnablePreDispatch():
        yield


def watch_ops(names: tuple[str, ...], hits: list[str]) -> Any:
    """A context that records the forbidden ATen ops among `names` (those with `::`) into
    `hits`; a no-op when there are none, so most calls pay nothing.  With
    `autograd::engine` among them every op must be looked at (`OpWatch`, with `OpKernels`
    for the named ones as well: a dispatch-state guard can drop the mode's key, not theirs);
    otherwise only the named ones are (`OpKernels`)."""
    ops = aten_ops(names)
    if not ops:
        return contextlib.nullcontext()
    if AUTOGRAD_ENGINE not in ops:
        return _KERNELS.watch(ops, hits)
    both = contextlib.ExitStack()  # the kernels too: their key stays on when a guard drops the mode's
    both.enter_context(_KERNELS.watch(ops - {AUTOGRAD_ENGINE}, hits))
    both.enter_context(OpWatch(ops, hits))
    return both


def _restore(owner: Any, attribute: str, previous: Any) -> None:
    if previous is None:
        try:
            delattr(owner, attribute)
        except AttributeError:
            pass
    else:
        setattr(owner, attribute, previous)


# ----------------------------------------------------------------------------- loading


@dataclass
class Loaded:
    """Outcome of importing exercise.py: status "ok" (with module), "syntax-error" or
    "import-error" (with message)."""

    status: str
    message: str = ""
    module: types.ModuleType | None = None


def _clip(text: str) -> str:
    return text if len(text) <= MESSAGE_CHARS else text[: MESSAGE_CHARS - 15] + " ... [clipped]"


def describe_exception(error: BaseException) -> str:
    """`Type: message` plus the last traceback lines inside exercise.py.  Survives
    hostile exceptions whose __str__ raises."""
    try:
        kind = type(error).__name__
        text = str(error)
    except BaseException:
        text = "<message unavailable>"
    try:
        frames = [f for f in traceback.extract_tb(error.__traceback__) if f.filename == FILENAME][-5:]
        where = "".join(traceback.format_list(frames))
    except BaseException:
        where = ""
    head = f"{kind}: {text}" if text else kind
    return _clip(head + ("\n" + where.rstrip() if where else ""))


def load(source: str) -> Loaded:
    """Compile and execute `source` as the module `exercise` (registered in sys.modules)."""
    lines = source.splitlines(keepends=True)
    linecache.cache[FILENAME] = (len(source), None, lines, FILENAME)
    try:
        code = compile(source, FILENAME, "exec", dont_inherit=True)
    except SyntaxError as error:
        where = f"line {error.lineno}" if error.lineno else "unknown line"
        detail = f"{where}: {error.msg}"
        if error.text:
            detail += "\n    " + error.text.rstrip("\n")
        return Loaded("syntax-error", _clip(detail))
    except (ValueError, RecursionError, MemoryError) as error:
        return Loaded("syntax-error", _clip(f"exercise.py cannot be compiled: {type(error).__name__}: {error}"))
    module = types.ModuleType(MODULE_NAME)
    module.__file__ = FILENAME
    sys.modules[MODULE_NAME] = module
    try:
        exec(code, module.__dict__)
    except BaseException as error:  # SystemExit and KeyboardInterrupt too: the import failed
        return Loaded("import-error", describe_exception(error))
    return Loaded("ok", module=module)


# ----------------------------------------------------------------------------- calls


@dataclass
class Outcome:
    """Outcome of one call; header/buffers hold the encoded value when status == "ok"."""

    status: str
    message: str = ""
    header: dict[str, Any] | None = None
    buffers: list[bytes] = field(default_factory=list)
    forbidden_calls: tuple[str, ...] = ()
    duration: float = 0.0


def seed_everything(call_id: str) -> None:
    """Seed torch, numpy and random from the call id, so a run is reproducible."""
    seed = zlib.crc32(call_id.encode("utf-8", "surrogatepass"))
    torch.default_generator.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)


def _build_models(value: Any) -> Any:
    if type(value) is codec.ModelSpec:
        return value.build()
    if type(value) is tuple:
        return tuple(_build_models(v) for v in value)
    if type(value) is list:
        return [_build_models(v) for v in value]
    if type(value) is dict:
        return {k: _build_models(v) for k, v in value.items()}
    return value


def _is_memory_error(error: BaseException) -> bool:
    if isinstance(error, MemoryError):
        return True
    if isinstance(error, RuntimeError):
        try:
            text = str(error)
        except BaseException:
            return False
        return any(marker in text for marker in _MEMORY_MARKERS)
    return False


def run_call(
    module: types.ModuleType,
    call: dict[str, Any],
    args_header: Any,
    buffers: list[bytes],
    guard: ForbiddenGuard,
    max_bytes: int,
) -> Outcome:
    """Run one call (`call` has "id", "function", "forbidden") on arguments decoded from
    `args_header` (a (args, kwargs) pair) and encode its value."""
    args, kwargs = codec.decode(args_header, buffers)
    args, kwargs = _build_models(args), _build_models(kwargs)
    function = module.__dict__.get(call["function"])
    if not callable(function):
        return Outcome("missing-function", f"exercise.py defines no function {call['function']!r}")
    seed_everything(call["id"])
    start = time.perf_counter()
    names = tuple(call.get("forbidden", ()))
    try:
        with guard.watch(names) as hits, watch_ops(names, hits):
            value = function(*args, **kwargs)
    except BaseException as error:
        duration = time.perf_counter() - start
        if hits:
            return Outcome("forbidden", _forbidden_message(hits), forbidden_calls=tuple(hits), duration=duration)
        if isinstance(error, NotImplementedError):
            return Outcome("not-implemented", describe_exception(error), duration=duration)
        status = "memory" if _is_memory_error(error) else "error"
        return Outcome(status, describe_exception(error), duration=duration)
    duration = time.perf_counter() - start
    if hits:
        return Outcome("forbidden", _forbidden_message(hits), forbidden_calls=tuple(hits), duration=duration)
    try:
        header, encoded = codec.encode(value, max_bytes=max_bytes)
    except codec.CodecError as error:
        return Outcome("bad-output", _clip(str(error)), duration=duration)
    except BaseException as error:  # a hostile value's hooks raised, or the copy ran out of memory
        status = "memory" if _is_memory_error(error) else "bad-output"
        return Outcome(status, f"the value could not be encoded: {describe_exception(error)}", duration=duration)
    return Outcome("ok", header=header, buffers=encoded, duration=duration)


def warm_up() -> None:
    """Run the common torch paths once (one thread), in the worker before it forks the
    template, so that every child forked afterwards finds them initialised."""
    import torch.nn.functional as F

    torch.set_num_threads(1)
    f64 = torch.float64
    x = torch.randn(2, 3, 6, 6, dtype=f64, requires_grad=True)
    w = torch.randn(4, 3, 3, 3, dtype=f64)
    y = F.conv2d(F.pad(x, (1, 1, 1, 1)), w, stride=2).relu().mean((2, 3))
    windows = x.unfold(2, 3, 1).unfold(3, 3, 1)
    z = torch.einsum("nchwij,ocij->nohw", windows, w).amax(dim=(2, 3))
    logits = y @ torch.randn(4, 3, dtype=f64) + z @ torch.randn(4, 3, dtype=f64)
    loss = F.cross_entropy(logits, torch.tensor([0, 1])) + logits.log_softmax(-1).mean() + logits.logsumexp(-1).sum()
    loss.backward()
    a = torch.randn(2, 4, 5, dtype=f64)
    scores = (a @ a.transpose(-2, -1)) / math.sqrt(5)
    scores = scores.masked_fill(torch.ones(4, 4, dtype=torch.bool).triu(1), float("-inf")).softmax(-1)
    normed = (a - a.mean(-1, keepdim=True)) / torch.sqrt(a.var(-1, unbiased=False, keepdim=True) + 1e-5)
    flat = normed.reshape(2, -1)
    both = torch.cat([a, a], 0).flatten(1)[:2] + torch.stack([a, a]).sum(0).view(2, -1)
    torch.where(flat > 0, flat, both).clamp(-1, 1).abs().sign()
    torch.sigmoid(a).tanh().exp().log1p().sqrt().norm()
    F.logsigmoid(torch.dot(a[0, 0], a[0, 1])) + torch.outer(a[0, 0], a[1, 0]).sum()
    (torch.rand(3, 3, dtype=f64) < 0.5).to(f64).mul(2).argmax(1).gather(0, torch.tensor([0, 1]))
    torch.arange(6, dtype=f64).sin().cos().pow(2).topk(2).values.sort().values.cumsum(0)
    torch.zeros_like(a).scatter(2, torch.zeros(2, 4, 1, dtype=torch.long), 1.0).bernoulli().ne(0).any()
    x_var = torch.randn(3, 4, dtype=f64, requires_grad=True)
    (grad,) = torch.autograd.grad((x_var**2).sum(), x_var)
    grad.sign().detach().clone().numpy()
    codec.ModelSpec(layers=(("linear", w[0, 0], None), ("relu",))).build()(torch.randn(1, 3, dtype=f64))
    codec.decode(*codec.encode(([x.detach()], {"a": 1.5}, np.zeros(2), scores)))
    seed_everything("warm-up")
    _warm_compiler()
    try:
        raise ValueError("warm-up")
    except ValueError as error:
        describe_exception(error)


_WARM_SOURCE = "import math\nimport torch\n" + "".join(
    f"def f{i}(x, y=1, *, z=None):\n"
    f'    """Doc {i}."""\n'
    f"    total = [x * k for k in range(y) if k % 2 == 0]\n"
    f"    for j, v in enumerate(total):\n"
    f"        if v > {i} and z is None:\n"
    f"            total[j] = math.sqrt(abs(v)) + torch.tensor([{i}.0, 2.0]).sum().item()\n"
    f"    return {{'n': len(total), 's': sum(total), 't': (x, y)}}\n\n"
    for i in range(60)
)


def _warm_compiler() -> None:
    """Compile and run a module about the size of an exercise.py (the compiler's and the
    allocator's memory then is this process's own)."""
    namespace: dict[str, Any] = {"__name__": "warm_up"}
    exec(compile(_WARM_SOURCE, "<warm-up>", "exec"), namespace)
    namespace["f7"](3.0, 4)


def _forbidden_message(hits: list[str]) -> str:
    return "called " + ", ".join(hits) + ", which is not allowed here"
