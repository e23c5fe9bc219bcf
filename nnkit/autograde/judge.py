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
import contextlib
import importlib.util
import inspect
import io
import itertools
import math
import time
import types
import warnings
import weakref
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
# how many of the kernel's objects (RemoteObject proxies) one test cell may hold
MAX_PROXIES = 100_000
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

    Every check of the cell runs, whatever happened to the ones before it: each call
    of a ``check*`` or ``expect*`` function of ``grading`` is one check, and a failing
    check that stands as a statement of its own is noted and the cell goes on. A
    failure anywhere else (an assignment that needed the student's answer, a broken
    channel, an error the judge's own code hit on a strange student value) ends the
    cell; the checks it never reached count as failed, as many as the cell makes when
    it runs on the answer key.

    Returns a Verdict that passes when no check failed and the cell ran to its end;
    its message is ``k of n checks passed.`` followed by every failure's message.
    """
    tally = Tally()
    namespace = {
        "__name__": "__judge__",
        "np": np,
        "numpy": np,
        "math": math,
        "grading": _counting(grading_module, tally),
        "__judge_failed__": tally.statement_failed,
    }
    for name in free_names(source):
        if name in functions:
            namespace[name] = functions[name]
    with grading.record(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the judge's own arithmetic on student values
        try:
            exec(_compile_test(source, grade_id), namespace)
        except grading.GradingError as exc:
            tally.stop(str(exc), exc)
        except KernelLostError as exc:
            tally.stop(str(exc), exc)
        except NameError as exc:
            tally.stop(f"{exc}: run its answer cell (and every cell above it) first", exc)
        except Exception as exc:  # the judge's code choked on what the student returned
            tally.stop(f"the result could not be checked ({type(exc).__name__}: {exc})", exc)
    total = len(tally.outcomes)
    if tally.stopped is not None:
        total = max(total, _reference_checks(grade_id, source, grading_module))
    verdict = tally.verdict(grade_id, total)
    for function in functions.values():
        for call in getattr(function, "library_calls", ()):
            if call not in verdict.library:
                verdict.library.append(call)
    return verdict


# how many failures a verdict's message spells out in full
SHOWN_FAILURES = 5


class Tally:
    """The outcome of every check one run of a test cell made, in order."""

    def __init__(self):
        self.outcomes: list[str | None] = []  # None for a pass, else the failure's message
        self.stopped: str | None = None  # why the cell ended early
        self.depth = 0  # > 0 while inside a check (a check that calls others is one check)
        self._last: BaseException | None = None

    def passed(self) -> None:
        self.outcomes.append(None)

    def failed(self, exc: BaseException) -> None:
        """Note a failure once, however many handlers it passes through."""
        if exc is not self._last:
            self._last = exc
            self.outcomes.append(str(exc) or type(exc).__name__)

    def statement_failed(self, exc: Exception) -> None:
        """A check standing as a statement of its own failed: note it, and the cell goes on."""
        if isinstance(exc, KernelLostError | NameError):
            raise exc  # nothing later can run either
        if not isinstance(exc, grading.GradingError):  # the judge's code choked on the answer
            message = f"the result could not be checked ({type(exc).__name__}: {exc})"
            self.outcomes.append(message)
            self._last = exc
        else:
            self.failed(exc)

    def stop(self, message: str, exc: BaseException) -> None:
        if exc is not self._last:
            self._last = exc
            self.outcomes.append(message)
        self.stopped = message

    def verdict(self, grade_id: str, total: int) -> Verdict:
        failures = [m for m in self.outcomes if m is not None]
        passed_checks = len(self.outcomes) - len(failures)
        verdict = Verdict(grade_id, passed=not failures and self.stopped is None)
        verdict.passed_checks, verdict.total_checks = passed_checks, total
        verdict.failures = failures
        if verdict.passed:
            return verdict
        lines = [f"{passed_checks} of {total} checks passed."]
        for number, message in enumerate(failures[:SHOWN_FAILURES], 1):
            lines.append(f"[{number}] {message}" if len(failures) > 1 else message)
        if len(failures) > SHOWN_FAILURES:
            lines.append(f"... and {len(failures) - SHOWN_FAILURES} more failing checks.")
        unreached = total - len(self.outcomes)
        if unreached > 0:
            checks = "check" if unreached == 1 else "checks"
            lines.append(
                f"{unreached} later {checks} did not run: the cell stopped at the last failure."
            )
        verdict.message = "\n".join(lines)
        return verdict


def _is_check(name: str) -> bool:
    return name.startswith(("check", "expect"))


def _counting(grading_module: types.ModuleType, tally: Tally) -> types.ModuleType:
    """``grading_module`` whose ``check*`` and ``expect*`` functions note outcomes in ``tally``."""
    module = types.ModuleType("grading", grading_module.__doc__)
    module.__dict__.update(
        {k: v for k, v in vars(grading_module).items() if not k.startswith("__")}
    )
    for name, function in vars(grading_module).items():
        if _is_check(name) and callable(function) and not isinstance(function, type):
            setattr(module, name, _counted(function, tally))
    return module


def _counted(function: Callable, tally: Tally) -> Callable:
    def check(*args, **kwargs):
        __tracebackhide__ = True
        if tally.depth:
            return function(*args, **kwargs)
        tally.depth += 1
        try:
            result = function(*args, **kwargs)
        except grading.GradingError as exc:
            tally.failed(exc)
            raise
        except KernelLostError:
            raise
        except Exception as exc:  # the judge's code choked on what the student returned
            error = grading.GradingError(
                f"{function.__name__}: the result could not be checked "
                f"({type(exc).__name__}: {exc})"
            )
            tally.failed(error)
            raise error from None
        finally:
            tally.depth -= 1
        tally.passed()
        return result

    check.__name__ = check.__qualname__ = function.__name__
    check.__doc__ = function.__doc__
    return check


class _GoOnAfterFailedChecks(ast.NodeTransformer):
    """Wrap every call standing as a statement in ``try: ... except Exception: note it``.

    A check is a statement of its own (``grading.check(...)``): when it fails, or the
    judge's code fails on its way to it, the failure is noted and the next statement
    runs, in loops too. A failure in any other statement (an assignment) propagates
    and ends the cell, since what it was to compute is missing for the statements
    after it; so does a lost kernel.
    """

    def visit_Expr(self, node: ast.Expr):
        if not isinstance(node.value, ast.Call):
            return node
        handler = ast.ExceptHandler(
            type=ast.Name("Exception", ast.Load()),
            name="__judge_exc__",
            body=[
                ast.Expr(
                    ast.Call(
                        ast.Name("__judge_failed__", ast.Load()),
                        [ast.Name("__judge_exc__", ast.Load())],
                        [],
                    )
                )
            ],
        )
        return ast.Try(body=[node], handlers=[handler], orelse=[], finalbody=[])


def _compile_test(source: str, grade_id: str) -> types.CodeType:
    tree = ast.fix_missing_locations(_GoOnAfterFailedChecks().visit(ast.parse(source)))
    return compile(tree, f"<test {grade_id}>", "exec")


def _reference_checks(grade_id: str, source: str, grading_module: types.ModuleType) -> int:
    """How many checks the cell makes when the answer key answers it (0 if unknown)."""
    cache = _REFERENCE_CHECKS.setdefault(grading_module, {})
    key = (grade_id, source)
    answers = vars(grading_module).get("reference")
    if key not in cache and answers is not None:
        cache[key] = 0  # a reference run that stops early asks again: it gets 0
        answered = {n: getattr(answers, n) for n in free_names(source) if hasattr(answers, n)}
        with contextlib.redirect_stdout(io.StringIO()):
            cache[key] = run_test(grade_id, source, answered, grading_module).total_checks
    return cache.get(key, 0)


_REFERENCE_CHECKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


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
        self._proxies: dict[int, RemoteObject] = {}
        self.origin: RemoteFunction | None = None  # the student's function whose call is running

    def proxy(self, handle: int, name: str) -> RemoteObject:
        """The one proxy of the kernel's object ``handle`` (so ``a is b`` means the same object)."""
        if handle not in self._proxies:
            if len(self._proxies) >= MAX_PROXIES:
                raise ChannelError(f"more than {MAX_PROXIES:,} kernel objects in one test cell")
            self._proxies[handle] = RemoteObject(self, handle, name, self.origin)
        return self._proxies[handle]

    @staticmethod
    def reference(value) -> list | None:
        """How a proxy travels back to its kernel: by its handle."""
        return [value._handle, ""] if isinstance(value, RemoteObject) else None

    def end(self) -> None:
        """Tell the kernel's agent that this run of checks is over (its objects are dropped)."""
        self._proxies.clear()
        if self.broken is None:
            try:
                write_frame(self.write_fd, pack({"op": "end"}), time.monotonic() + self.grace)
            except ChannelError as exc:
                self.broken = f"the kernel stopped answering ({exc})"

    def _fail(self, reason: str):
        self.broken = reason
        raise KernelLostError(reason)

    def call(self, request: dict, args: tuple, kwargs: dict) -> tuple[dict, list]:
        """Send ``request`` (see ``agent.py``) with its arguments; return the reply and blobs."""
        if self.broken is not None:
            raise KernelLostError(self.broken)
        if time.monotonic() >= self.budget_end:  # the checks left fail without asking the kernel
            raise grading.StudentError(
                "Timeout", "not called: earlier calls used up this test cell's time"
            )
        callbacks: dict[int, Callable] = {}

        def function_id(function: Callable) -> int:
            callbacks[len(callbacks)] = function
            return len(callbacks) - 1

        encoder = Encoder(function_id, self.reference)
        call_id = next(self._ids)
        header = {**request, "id": call_id}
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
            args = decode(message.header.get("args", []), message.blobs, obj=self.proxy)
            kwargs = decode(
                message.header.get("kwargs", {"$dict": []}), message.blobs, obj=self.proxy
            )
            if not isinstance(args, list) or not isinstance(kwargs, dict):
                raise ChannelError("callback arguments are not a list and a dict")
            encoder = Encoder(object_id=self.reference)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                value = encoder.encode(function(*args, **kwargs))
            frame = pack({"op": "return", "value": value}, encoder.blobs)
        except Exception as exc:  # the test's function rejected what the student passed it
            frame = pack({"op": "raise", "message": f"{type(exc).__name__}: {exc}"[:500]})
        write_frame(self.write_fd, frame, time.monotonic() + self.timeout)


class _Remote:
    """What the judge's proxies of the kernel's things share: one request and its reply.

    Arguments are sent as data (or, for proxies, by handle). Arrays, dicts, lists and
    generators passed in are updated afterwards to what the student's code left them
    as, so the checks can see a mutated input; warnings the student's code emitted are
    re-emitted here; an exception comes back as :class:`grading.StudentError`. The
    library calls and audit events of a reply are noted on ``_origin``, the student's
    function the test cell called.
    """

    _connection: Connection
    _origin: RemoteFunction

    def _request(self, request: dict, args: tuple, kwargs: dict, what: str):
        connection = self._connection
        previous, connection.origin = connection.origin, self._origin
        try:
            header, blobs = connection.call(request, args, kwargs)
            return self._outcome(header, blobs, args, kwargs)
        except ChannelError as exc:  # a malformed reply is the student's kernel's doing
            raise grading.GradingError(
                f"{what}: the grader could not read what the kernel sent back ({exc})"
            ) from None
        finally:
            connection.origin = previous

    def _outcome(self, header: dict, blobs: list, args: tuple, kwargs: dict):
        origin = self._origin
        for event in _list(header.get("audit"))[:20]:
            if str(event)[:300] not in origin.audit:
                origin.audit.append(str(event)[:300])
        for call in _list(header.get("library"))[:5]:
            if str(call)[:200] not in origin.library_calls:
                origin.library_calls.append(str(call)[:200])
        proxy = self._connection.proxy
        after = decode(header.get("after", []), blobs, obj=proxy)
        for before, now in zip(args, after if isinstance(after, list) else [], strict=False):
            _write_back(before, now)
        kwafter = decode(header.get("kwafter", {"$dict": []}), blobs, obj=proxy)
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
        return decode(header.get("value"), blobs, obj=proxy)


class RemoteFunction(_Remote):
    """A student's function as the judge sees it: calling it calls the kernel's function.

    What it returns comes back as data; an object that is not data (an instance of
    the student's ``Value`` class) stays in the kernel and comes back as a
    :class:`RemoteObject`.
    """

    def __init__(self, name: str, connection: Connection, signature=None):
        self.__name__ = self.__qualname__ = name
        self._connection = connection
        self._origin = self
        if signature is not None:
            self.__signature__ = signature
        self.library_calls: list[str] = []
        self.audit: list[str] = []

    @property
    def connection(self) -> Connection:
        return self._connection

    def __repr__(self) -> str:
        return f"<student's {self.__name__}>"

    def __call__(self, *args, **kwargs):
        request = {"op": "call", "name": self.__name__}
        return self._request(request, args, kwargs, self.__name__)


def _operator(name: str, reflected: bool = False, unary: bool = False):
    """A special method of RemoteObject that has the kernel apply ``operator.<name>``."""

    def apply(self, *other):
        operands = (self,) if unary else (other[0], self) if reflected else (self, other[0])
        request = {"op": "call", "operator": name}
        return self._request(request, operands, {}, f"{self._name} ({name})")

    apply.__name__ = f"__{'r' if reflected else ''}{name}__"
    return apply


class RemoteObject(_Remote):
    """An object of the student's that stays in the kernel, as the judge sees it.

    The judge may read its public attributes (``v.data`` comes back as a float, a
    method as another RemoteObject), call it, and combine it with numbers and other
    proxies by ``+ - * / **`` in either order and unary ``-``: each is one request that
    the kernel carries out with Python's own rules. Nothing else is forwarded: ``==``,
    ``bool()``, ``len()``, ``float()`` and numpy see an ordinary object, so no answer
    of the student's can claim to equal an expected value. The same kernel object is
    always the same proxy, so ``is`` compares kernel objects.
    """

    def __init__(self, connection: Connection, handle: int, name: str, origin):
        object.__setattr__(self, "_connection", connection)
        object.__setattr__(self, "_handle", handle)
        object.__setattr__(self, "_name", name or "object")
        object.__setattr__(self, "_origin", origin or RemoteFunction(name, connection))

    def __getattr__(self, name: str):
        if name.startswith("_"):
            raise AttributeError(f"{self._name} proxies only public attributes, not {name!r}")
        request = {"op": "getattr", "target": self._handle, "name": name}
        return self._request(request, (), {}, f"{self._name}.{name}")

    def __setattr__(self, name: str, value) -> None:
        raise AttributeError(f"the judge does not set attributes of the student's {self._name}")

    def __call__(self, *args, **kwargs):
        request = {"op": "call", "target": self._handle}
        return self._request(request, args, kwargs, self._name)

    def __repr__(self) -> str:
        return f"<student's {self._name}>"

    @property
    def __name__(self) -> str:
        return self._name

    __add__, __radd__ = _operator("add"), _operator("add", reflected=True)
    __sub__, __rsub__ = _operator("sub"), _operator("sub", reflected=True)
    __mul__, __rmul__ = _operator("mul"), _operator("mul", reflected=True)
    __truediv__, __rtruediv__ = _operator("truediv"), _operator("truediv", reflected=True)
    __pow__, __rpow__ = _operator("pow"), _operator("pow", reflected=True)
    __neg__ = _operator("neg", unary=True)


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
    "RemoteObject",
    "Verdict",
    "free_names",
    "judge_grading",
    "load_answer_key",
    "run_test",
    "signatures",
]
