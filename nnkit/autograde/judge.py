"""The judge: runs each test cell in the grader's own process, calling the student's code remotely.

A test cell of the instructor's source (visible and hidden tests together, read
from the gradebook, never from the submission) is executed here, outside the
sandbox, with ``grading`` bound to nnkit's checks plus the answer key
(``grading.reference``, loaded from the course's ``grader/`` folder, which no
kernel can see) and ``grading.hidden_rng`` (the hidden inputs, drawn from the
course offering's seed). Every other name the cell uses (``softmax``,
``mlp_backward``...) is a :class:`RemoteFunction`: calling it sends the
arguments into the sandboxed kernel over the channel (``channel.py``), where
``agent.py`` calls the student's function and sends back what it returned.

So the student's process receives inputs one check at a time and returns
values; the expected values, the tolerances, the hints and the reference stay
here. Patching anything in the kernel changes what the notebook shows, not the
verdict. A reply that is garbage, too large or late fails the check that asked
for it, with the reason; it never crashes the judge.

The same :func:`run_test` runs in-process with plain functions (``functions``
a dict), which is how the grader's own tests measure every corpus answer.
"""

from __future__ import annotations

import ast
import builtins
import importlib.util
import inspect
import itertools
import math
import time
import types
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path

import numpy as np

from nnkit import grading

from .channel import (
    ChannelClosedError,
    ChannelError,
    ChannelTimeoutError,
    Encoder,
    decode,
    pack,
    read_frame,
    write_frame,
)
from .records import Verdict

ANSWER_KEY_MODULE = "reference.py"
# how long one call of a student's function may take before the kernel is interrupted,
# and how long after the interrupt before the kernel is given up on
CALL_TIMEOUT = 30.0
INTERRUPT_GRACE = 5.0
_BUILTINS = frozenset(dir(builtins))


class JudgeUnavailableError(SystemExit):
    """Grading cannot go through the judge; nothing may be written to the gradebook.

    A SystemExit, so that nbgrader's per-submission ``except Exception`` does not
    turn it into a zero for every student: the whole run stops with this message.
    """

    def __init__(self, message: str):
        super().__init__(f"nnkit judge: {message}")


# ----------------------------------------------------------------------------- the answer key


def load_answer_key(folder: str | Path) -> types.ModuleType:
    """The course's reference answers (``<folder>/reference.py``), as a private module."""
    path = Path(folder) / ANSWER_KEY_MODULE
    if not path.is_file():
        raise JudgeUnavailableError(
            f"the answer key {path} does not exist: the hidden tests need it "
            "(set c.Judge.answer_key in nbgrader_config.py)"
        )
    spec = importlib.util.spec_from_file_location("nnkit_answer_key", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def judge_grading(answer_key: types.ModuleType, seed: int) -> types.ModuleType:
    """``grading`` as test cells see it in the judge: nnkit's checks, the key, the hidden rng."""
    module = types.ModuleType("grading", "nnkit.grading with the answer key (judge only)")
    module.__dict__.update({k: v for k, v in vars(grading).items() if not k.startswith("__")})
    module.reference = answer_key.reference

    def hidden_rng(n: int) -> np.random.Generator:
        """The generator of hidden inputs number ``n``, for this course offering's seed."""
        return np.random.default_rng([seed, n])

    module.hidden_rng = hidden_rng
    return module


# ----------------------------------------------------------------------------- test cells


def free_names(source: str) -> list[str]:
    """Names a cell uses but never binds (the student's functions, as far as it knows)."""
    tree = ast.parse(source)
    bound, used = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name):
            if isinstance(node.ctx, ast.Load):
                used.append(node.id)
            else:
                bound.add(node.id)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            bound.add(node.name)
        elif isinstance(node, ast.arg):
            bound.add(node.arg)
        elif isinstance(node, ast.alias):
            bound.add((node.asname or node.name).split(".")[0])
    skip = bound | _BUILTINS | {"np", "numpy", "math", "grading"}
    return list(dict.fromkeys(n for n in used if n not in skip))


def signatures(sources: list[str]) -> dict[str, inspect.Signature]:
    """{function name: signature} of every ``def`` at the top of the given cells."""
    found = {}
    for source in sources:
        try:
            tree = ast.parse(source)
        except SyntaxError:
            continue
        for node in tree.body:
            if isinstance(node, ast.FunctionDef):
                namespace: dict = {}
                stub = f"def {node.name}({ast.unparse(node.args)}): pass"
                try:
                    exec(stub, namespace)
                except Exception:  # defaults that need names we do not have
                    continue
                found[node.name] = inspect.signature(namespace[node.name])
    return found


def run_test(
    grade_id: str,
    source: str,
    functions: Mapping[str, Callable],
    grading_module: types.ModuleType,
) -> Verdict:
    """Execute test cell ``source`` here, its free names bound to ``functions``.

    Returns a passing Verdict when the cell runs to its end, a failing one with the
    message of whatever stopped it (a GradingError, a broken channel, or an error
    the judge's own code hit on a strange student value).
    """
    namespace = {
        "__name__": "__judge__",
        "np": np,
        "numpy": np,
        "math": math,
        "grading": grading_module,
    }
    for name in free_names(source):
        if name in functions:
            namespace[name] = functions[name]
    verdict = Verdict(grade_id, passed=False)
    with grading.record() as records, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the judge's own arithmetic on student values
        try:
            exec(compile(source, f"<test {grade_id}>", "exec"), namespace)
        except grading.GradingError as exc:
            verdict.message = str(exc)
        except KernelLostError as exc:
            verdict.message = str(exc)
        except NameError as exc:
            verdict.message = f"{exc}: run its answer cell (and every cell above it) first"
        except Exception as exc:  # the judge's code choked on what the student returned
            verdict.message = f"the result could not be checked ({type(exc).__name__}: {exc})"
        else:
            verdict.passed = True
    verdict.checks = len(records) + (not verdict.passed)
    for function in functions.values():
        for call in getattr(function, "library_calls", ()):
            if call not in verdict.library:
                verdict.library.append(call)
    return verdict


# ----------------------------------------------------------------------------- the channel


class KernelLostError(Exception):
    """The kernel stopped answering the judge; every later check fails with this reason."""


class Connection:
    """The judge's end of one kernel's channel: request, callbacks, reply, with deadlines.

    ``on_stall`` is called (from the judge's thread) when a call outlives
    ``timeout`` (or runs past ``budget_end``, the end of the test cell's time); it
    should interrupt the kernel. A call still unanswered ``grace`` seconds later
    loses the kernel: the connection is then broken and every later call fails at
    once.
    """

    def __init__(
        self,
        write_fd: int,
        read_fd: int,
        on_stall: Callable[[], None] = lambda: None,
        timeout: float = CALL_TIMEOUT,
        grace: float = INTERRUPT_GRACE,
    ):
        self.write_fd, self.read_fd = write_fd, read_fd
        self.on_stall = on_stall
        self.timeout, self.grace = timeout, grace
        self.broken: str | None = None
        self.budget_end = math.inf  # monotonic time by which the current test cell must end
        self._ids = itertools.count(1)

    def end(self) -> None:
        """Tell the kernel's agent that this run of checks is over."""
        if self.broken is None:
            try:
                write_frame(self.write_fd, pack({"op": "end"}), time.monotonic() + self.grace)
            except ChannelError as exc:
                self.broken = f"the kernel stopped answering ({exc})"

    def _fail(self, reason: str):
        self.broken = reason
        raise KernelLostError(reason)

    def call(self, name: str, args: tuple, kwargs: dict) -> tuple[dict, list]:
        """Ask the kernel to call ``name``; return the reply header and blobs."""
        if self.broken is not None:
            raise KernelLostError(self.broken)
        callbacks: dict[int, Callable] = {}

        def function_id(function: Callable) -> int:
            callbacks[len(callbacks)] = function
            return len(callbacks) - 1

        encoder = Encoder(function_id)
        call_id = next(self._ids)
        header = {"op": "call", "id": call_id, "name": name}
        header["args"] = encoder.encode(list(args))
        header["kwargs"] = encoder.encode(dict(kwargs))
        deadline = min(time.monotonic() + self.timeout, self.budget_end)
        stalled = False
        try:
            write_frame(self.write_fd, pack(header, encoder.blobs), deadline)
            while True:
                try:
                    reply = read_frame(self.read_fd, deadline)
                except ChannelTimeoutError:
                    if stalled:
                        self._fail(
                            f"the kernel did not answer within {self.timeout + self.grace:g} s "
                            "of a call, even after an interrupt: it was stopped"
                        )
                    stalled = True
                    self.on_stall()
                    deadline = time.monotonic() + self.grace
                    continue
                if reply.op == "callback":
                    self._answer_callback(reply, callbacks)
                    continue
                if reply.header.get("id") != call_id:
                    continue  # a late answer to a call already given up on
                if stalled and reply.header.get("type") == "KeyboardInterrupt":
                    reply.header["type"] = "Timeout"
                    reply.header["message"] = (
                        f"no result within {self.timeout:g} s: the call was interrupted"
                    )
                return reply.header, reply.blobs
        except ChannelClosedError:
            self._fail("the kernel closed its channel to the judge (it died, or its code did)")
        except KernelLostError:
            raise
        except ChannelError as exc:
            self._fail(f"the kernel broke the judge's protocol: {exc}")

    def _answer_callback(self, message, callbacks: dict[int, Callable]) -> None:
        """Evaluate one of the test's own functions for the student's code, here."""
        function = callbacks.get(message.header.get("fn"))
        try:
            if function is None:
                raise ChannelError("a callback to a function the judge never sent")
            args = decode(message.header.get("args", []), message.blobs)
            kwargs = decode(message.header.get("kwargs", {"$dict": []}), message.blobs)
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise ChannelError("callback arguments are not a list and a dict")
            encoder = Encoder()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = encoder.encode(function(*args, **kwargs))
            frame = pack({"op": "return", "value": value}, encoder.blobs)
        except Exception as exc:  # the test's function rejected what the student passed it
            frame = pack({"op": "raise", "message": f"{type(exc).__name__}: {exc}"[:500]})
        write_frame(self.write_fd, frame, time.monotonic() + self.timeout)


class RemoteFunction:
    """A student's function as the judge sees it: calling it calls the kernel's function.

    The arguments are sent as data. Arrays, dicts, lists and generators passed in
    are updated afterwards to what the student's function left them as, so the
    checks can see a mutated input; warnings the student's code emitted are
    re-emitted here; an exception comes back as :class:`grading.StudentError`.
    """

    def __init__(self, name: str, connection: Connection, signature=None):
        self.__name__ = self.__qualname__ = name
        self.connection = connection
        if signature is not None:
            self.__signature__ = signature
        self.library_calls: list[str] = []
        self.audit: list[str] = []

    def __repr__(self) -> str:
        return f"<student's {self.__name__}>"

    def __call__(self, *args, **kwargs):
        header, blobs = self.connection.call(self.__name__, args, kwargs)
        try:
            return self._outcome(header, blobs, args, kwargs)
        except ChannelError as exc:  # a malformed reply is the student's kernel's doing
            raise grading.GradingError(
                f"{self.__name__}: the grader could not read what the kernel sent back ({exc})"
            ) from None

    def _outcome(self, header: dict, blobs: list, args: tuple, kwargs: dict):
        for event in _list(header.get("audit"))[:20]:
            if str(event)[:300] not in self.audit:
                self.audit.append(str(event)[:300])
        for call in _list(header.get("library"))[:5]:
            if str(call)[:200] not in self.library_calls:
                self.library_calls.append(str(call)[:200])
        after = decode(header.get("after", []), blobs)
        for before, now in zip(args, after if isinstance(after, list) else [], strict=False):
            _write_back(before, now)
        kwafter = decode(header.get("kwafter", {"$dict": []}), blobs)
        for key, before in kwargs.items():
            if isinstance(kwafter, dict) and key in kwafter:
                _write_back(before, kwafter[key])
        for warning in _list(header.get("warnings"))[:5]:
            if isinstance(warning, dict):
                category = _WARNINGS.get(warning.get("category"), UserWarning)
                lineno = warning.get("lineno")
                line = lineno if isinstance(lineno, int) and not isinstance(lineno, bool) else 0
                text = str(warning.get("message", ""))[:500]
                warnings.warn_explicit(text, category, filename="<student>", lineno=line)
        if header.get("op") == "raised":
            frames = [str(f)[:300] for f in _list(header.get("frames"))[:8]]
            kind = str(header.get("type", "Exception"))[:100]
            raise grading.StudentError(kind, str(header.get("message", ""))[:2000], frames)
        if header.get("op") != "result":
            raise ChannelError(f"the kernel answered {str(header.get('op'))[:30]!r} to a call")
        return decode(header.get("value"), blobs)


_WARNINGS = {"RuntimeWarning": RuntimeWarning, "DeprecationWarning": DeprecationWarning}


def _list(value) -> list:
    return value if isinstance(value, list) else []


def _write_back(before, now) -> None:
    """Make the judge's copy of an argument what the student's function left it as."""
    if isinstance(before, np.ndarray) and isinstance(now, np.ndarray):
        if before.shape == now.shape and before.flags.writeable:
            with np.errstate(all="ignore"):
                np.copyto(before, now, casting="unsafe")
    elif isinstance(before, dict) and isinstance(now, dict):
        for key in list(before):
            if key not in now:
                del before[key]
        for key, value in now.items():
            if key in before and isinstance(before[key], np.ndarray | dict | list):
                _write_back(before[key], value)
                if not isinstance(value, type(before[key])):
                    before[key] = value
            else:
                before[key] = value
    elif isinstance(before, list) and isinstance(now, list):
        before[:] = now
    elif isinstance(before, np.random.Generator) and isinstance(now, np.random.Generator):
        before.bit_generator.state = now.bit_generator.state


class RemoteNamespace(Mapping):
    """{name: RemoteFunction} for any name: the kernel decides whether it exists."""

    def __init__(self, connection: Connection, known: dict[str, inspect.Signature]):
        self.connection = connection
        self.known = known
        self._functions: dict[str, RemoteFunction] = {}

    def __getitem__(self, name: str) -> RemoteFunction:
        if name not in self._functions:
            self._functions[name] = RemoteFunction(name, self.connection, self.known.get(name))
        return self._functions[name]

    def __contains__(self, name) -> bool:
        return isinstance(name, str)

    def __iter__(self):
        return iter(self._functions)

    def __len__(self) -> int:
        return len(self._functions)

    def values(self):
        return self._functions.values()


__all__ = [
    "CALL_TIMEOUT",
    "Connection",
    "JudgeUnavailableError",
    "KernelLostError",
    "RemoteFunction",
    "RemoteNamespace",
    "Verdict",
    "free_names",
    "judge_grading",
    "load_answer_key",
    "run_test",
    "signatures",
]
