"""The judge's hands inside a graded kernel: call a student's function on the judge's inputs.

The kernel launcher (``nnkit.autograde.kernel``) leaves two pipe descriptors in
:data:`CHANNEL` before any student code runs. After each test cell, the judge
(``nnkit.autograde.judge``, in the grader's process outside the sandbox) runs
:data:`SERVE` as a silent cell; :func:`serve` then answers its requests, one
frame each (``nnkit.autograde.channel``), until the judge says ``end``:

``call``
    call ``name`` (a function of the notebook's namespace), or ``target`` (an
    object sent before), or ``operator`` (``add``, ``mul``... of the ``operator``
    module) with the decoded arguments (a ``$fn`` argument becomes a stand-in
    that calls the judge back; an ``$obj`` is the object of that handle), consume
    a returned iterator, and reply ``result`` (the value, the arguments as they
    are afterwards, the warnings it emitted, the library code it used) or
    ``raised`` (the exception and the student's own lines of its traceback).
    A value that is not data stays here and is sent as an ``$obj`` handle.
``getattr``
    read the public attribute ``name`` of the object ``target``; replied to as
    a call.

Nothing here is trusted, and nothing here is secret: this module runs in the
student's process, which can replace any of it. The judge treats every reply
as hostile data. What this module never receives is anything worth stealing:
no reference answer, no expected value, and no input before its check runs.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import operator
import os
import signal
import sys
import sysconfig
import traceback
import warnings
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from .channel import (
    MAX_FRAME,
    ChannelError,
    Encoder,
    Message,
    decode,
    pack,
    read_frame,
    write_frame,
)

CHANNEL: tuple[int, int] | None = None
"""(read descriptor, write descriptor) of the judge's pipes; set by the kernel launcher."""

SERVE = "__import__('nnkit.autograde.agent', fromlist=['serve']).serve()"
"""The code the judge runs as a silent cell to hand the kernel over to :func:`serve`."""

# what the judge may ask the kernel to apply to its objects (RemoteObject's operators)
OPERATORS = {
    name: getattr(operator, name) for name in ("add", "sub", "mul", "truediv", "pow", "neg")
}
_MAX_AUDIT_EVENTS = 20
# libraries that implement what the exercises ask for: a graded function using them is flagged
LIBRARIES = ("nnkit", "torch", "scipy", "sklearn")
_MAX_LIBRARY_CALLS = 5
_HERE = Path(__file__).resolve().parent
_SYSTEM_DIRS = tuple(
    {sysconfig.get_paths()[key] for key in ("stdlib", "platstdlib", "purelib", "platlib")}
)


def _library_dirs() -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(directories of the LIBRARIES, nnkit's own grading code, which is not a library answer)."""
    dirs = []
    for name in LIBRARIES:
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            continue
        if spec is not None and spec.submodule_search_locations:
            dirs += [os.path.join(p, "") for p in spec.submodule_search_locations]
    nnkit_dir = _HERE.parent
    allowed = (str(nnkit_dir / "grading.py"), os.path.join(str(_HERE), ""))
    return tuple(dirs), allowed


class LibraryWatch:
    """Records the library functions a student's function calls (a ``sys.setprofile`` hook).

    Only the outermost library call of a chain is kept (``nnkit.activations.sigmoid``,
    not the scipy function it uses), and only calls made while the watch is active.
    """

    def __init__(self):
        self.dirs, self.allowed = _library_dirs()
        self.seen: list[str] = []

    def _is_library(self, filename: str) -> bool:
        return filename.startswith(self.dirs) and not filename.startswith(self.allowed)

    def _note(self, name: str) -> None:
        if name not in self.seen and len(self.seen) < _MAX_LIBRARY_CALLS:
            self.seen.append(name)

    def profile(self, frame, event, arg) -> None:
        if event == "call":
            if self._is_library(frame.f_code.co_filename):
                caller = frame.f_back
                if caller is None or not self._is_library(caller.f_code.co_filename):
                    module = frame.f_globals.get("__name__", "?")
                    self._note(f"{module}.{frame.f_code.co_qualname}")
        elif event == "c_call":
            module = getattr(arg, "__module__", None) or ""
            if module.split(".")[0] in LIBRARIES:
                self._note(f"{module}.{getattr(arg, '__name__', '?')}")

    def references(self, func) -> None:
        """Library modules and functions ``func``'s code names (ufuncs escape the profiler)."""
        code = getattr(func, "__code__", None)
        scope = getattr(func, "__globals__", {})
        stack = [code] if code is not None else []
        while stack:
            current = stack.pop()
            stack += [c for c in current.co_consts if hasattr(c, "co_names")]
            for name in current.co_names:
                value = scope.get(name)
                owner = getattr(value, "__name__", "") if _is_module(value) else ""
                owner = owner or getattr(value, "__module__", "") or ""
                top = owner.split(".")[0]
                if top in LIBRARIES and owner != "nnkit.grading":
                    self._note(f"{owner}.{name}" if not _is_module(value) else owner)

    @contextlib.contextmanager
    def active(self):
        previous = sys.getprofile()
        sys.setprofile(self.profile)
        try:
            yield
        finally:
            sys.setprofile(previous)


class AuditLog:
    """What the student's code tries to reach outside its submission (a PEP 578 audit hook).

    Installed by the kernel launcher before any student code runs (an audit hook cannot
    be removed); what it records rides along with the agent's next reply. The sandbox is
    what keeps those things out of reach; this only tells the instructor someone tried.
    """

    def __init__(self, allowed_roots: list[str]):
        # a root reached through a symlink (a linked venv) is allowed by both of its names
        roots = {os.path.realpath(r) for r in allowed_roots} | {
            os.path.abspath(r) for r in allowed_roots
        }
        self.allowed = tuple(os.path.join(r, "") for r in sorted(roots))
        self.events: list[str] = []
        self.active = False  # switched on once the kernel itself has started

    def _outside(self, path) -> str | None:
        if isinstance(path, int):
            return None
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        full = os.path.join(os.path.abspath(str(path)), "")
        return None if full.startswith(self.allowed) else full.rstrip("/")

    def _note(self, text: str) -> None:
        if text not in self.events and len(self.events) < _MAX_AUDIT_EVENTS:
            self.events.append(text)

    def hook(self, event: str, args: tuple) -> None:
        if not self.active:
            return
        if event in ("open", "os.listdir", "os.scandir", "glob.glob"):
            outside = self._outside(args[0]) if args and args[0] is not None else None
            if outside:
                self._note(f"tried to read {outside[:200]}, outside its submission")
        elif event in ("socket.connect", "socket.bind", "socket.getaddrinfo"):
            self._note("tried to open a network connection")
        elif event == "sqlite3.connect":
            self._note(f"tried to open a database ({str(args[0])[:200] if args else ''})")
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn"):
            self._note("tried to start another program")

    def drain(self) -> list[str]:
        events, self.events = self.events, []
        return events


AUDIT: AuditLog | None = None
"""The kernel's audit log, installed by the launcher."""


def watch(allowed_roots: list[str]) -> None:
    """Install the audit hook (once, for the rest of the process's life)."""
    global AUDIT
    AUDIT = AuditLog(allowed_roots)
    sys.addaudithook(AUDIT.hook)


def _is_module(value) -> bool:
    return type(value).__name__ == "module"


def student_frames(tb) -> list[str]:
    """The traceback lines of the student's own code, most recent last."""
    lines = []
    for frame in traceback.extract_tb(tb):
        name = frame.filename
        if name.startswith(str(_HERE)) or name.startswith(_SYSTEM_DIRS):
            continue
        code = f": {frame.line.strip()}" if frame.line else ""
        lines.append(f"  in {frame.name}, line {frame.lineno}{code}"[:300])
    return lines[-8:]


class _Null(io.TextIOBase):
    def write(self, text: str) -> int:
        return len(text)


class Agent:
    """Serves one run of the judge's requests on ``fds`` with the functions of ``namespace``."""

    def __init__(self, fds: tuple[int, int], namespace: dict):
        self.read_fd, self.write_fd = fds
        self.namespace = namespace
        self.objects: list = []  # the objects sent to the judge, by handle
        self._handles: dict[int, int] = {}  # id(object) -> handle

    def reference(self, value) -> list:
        """``[handle, name]`` of a value that stays here (registered on first sight)."""
        handle = self._handles.get(id(value))
        if handle is None:
            handle = self._handles[id(value)] = len(self.objects)
            self.objects.append(value)  # kept alive, so its id is never reused
        return [handle, _object_name(value)]

    def object(self, handle: int, name: str = ""):
        if handle >= len(self.objects):
            raise ChannelError(f"no object with handle {handle}")
        return self.objects[handle]

    def send(self, header: dict, blobs: list[bytes] = ()) -> None:
        frame = pack(header, list(blobs))
        if len(frame) > MAX_FRAME:
            frame = pack({"op": "raised", "id": header.get("id"), "type": "ResultTooLarge",
                          "message": f"the result takes {len(frame):,} bytes"})  # fmt: skip
        # an interrupt meant for the student's code must not cut a frame in half
        blocked = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
        try:
            write_frame(self.write_fd, frame)
        finally:
            signal.pthread_sigmask(signal.SIG_SETMASK, blocked)

    def receive(self) -> Message:
        return read_frame(self.read_fd, limit=1 << 40)

    def serve(self) -> None:
        while True:
            try:
                message = self.receive()
                if message.op == "end":
                    return
                if message.op in ("call", "getattr"):
                    self.call(message)
            except KeyboardInterrupt:  # an interrupt that came late: the call already returned
                continue

    # ------------------------------------------------------------------ one call

    def _callback(self, function_id: int):
        """A stand-in for one of the judge's functions: calling it asks the judge."""

        def judge_function(*args, **kwargs):
            encoder = Encoder(object_id=self.reference)
            header = {"op": "callback", "fn": function_id}
            header["args"] = encoder.encode(list(args))
            header["kwargs"] = encoder.encode(kwargs)
            self.send(header, encoder.blobs)
            reply = self.receive()
            if reply.op != "return":
                raise RuntimeError(str(reply.header.get("message", "the test's function failed")))
            return decode(reply.header.get("value"), reply.blobs, obj=self.object)

        judge_function.__name__ = judge_function.__qualname__ = "f"
        return judge_function

    def call(self, message: Message) -> None:
        header = message.header
        call_id = header.get("id")
        name = str(header.get("name", ""))
        try:
            args = decode(header.get("args", []), message.blobs, self._callback, obj=self.object)
            kwargs = decode(
                header.get("kwargs", {"$dict": []}), message.blobs, self._callback, obj=self.object
            )
            func = self._callee(message.op, header, name)
        except (ChannelError, NameError, AttributeError) as exc:
            kind = "ChannelError" if isinstance(exc, ChannelError) else type(exc).__name__
            self.send({"op": "raised", "id": call_id, "type": kind, "message": _text(exc)})
            return
        library = LibraryWatch()
        with contextlib.suppress(Exception):
            library.references(func)
        reply: dict = {"op": "result", "id": call_id}
        stdout, stderr = sys.stdout, sys.stderr
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            sys.stdout = sys.stderr = _Null()
            try:
                with library.active():
                    result = func(*args, **kwargs)
                    if isinstance(result, Iterator) and not isinstance(result, np.ndarray):
                        result = list(result)
            except BaseException as exc:  # KeyboardInterrupt and SystemExit are the student's too
                reply = {
                    "op": "raised",
                    "id": call_id,
                    "type": type(exc).__name__,
                    "message": _text(exc),
                    "frames": student_frames(exc.__traceback__),
                }
            finally:
                sys.stdout, sys.stderr = stdout, stderr
        reply["warnings"] = [
            {"category": w.category.__name__, "message": _text(w.message), "lineno": w.lineno}
            for w in caught[:5]
        ]
        reply["library"] = library.seen
        reply["audit"] = AUDIT.drain() if AUDIT is not None else []
        encoder = Encoder(object_id=self.reference)
        if reply["op"] == "result":
            reply["value"] = _encode_or_opaque(encoder, result)
        reply["after"] = [_encode_or_opaque(encoder, a) for a in args]
        reply["kwafter"] = _encode_or_opaque(encoder, kwargs)
        self.send(reply, encoder.blobs)

    def _callee(self, op: str, header: dict, name: str):
        """What a request asks to call: a function, an object, an attribute read, an operator."""
        if op == "getattr" or "target" in header:
            target = header.get("target")
            if not isinstance(target, int) or isinstance(target, bool) or target < 0:
                raise ChannelError("a request's target must be a handle")
            obj = self.object(target)
            if op == "call":
                return obj
            if not name.isidentifier() or name.startswith("_"):
                raise AttributeError(f"only public attributes can be read, not {name!r}")
            return lambda: getattr(obj, name)
        if "operator" in header:
            function = OPERATORS.get(str(header["operator"]))
            if function is None:
                raise ChannelError(f"unknown operator {str(header['operator'])[:20]!r}")
            return function
        func = self.namespace.get(name)
        if func is None:
            raise NameError(f"name '{name}' is not defined")
        return func


def _object_name(value) -> str:
    """A name to show for an object that stays in the kernel (``Value``, ``Value.backward``)."""
    try:
        owner = getattr(value, "__self__", None)
        method = getattr(value, "__name__", None)
        if owner is not None and isinstance(method, str):
            return f"{type(owner).__name__}.{method}"[:100]
        return type(value).__name__[:100]
    except Exception:  # a student's __getattr__ may raise anything
        return "object"


def _text(value) -> str:
    try:
        return str(value)[:2000]
    except Exception:  # a student's __str__ may raise
        return f"<{type(value).__name__} that cannot be printed>"


def _encode_or_opaque(encoder: Encoder, value):
    try:
        return encoder.encode(value)
    except Exception:  # a student's object may raise from __len__, __iter__, __float__...
        return {"$opaque": _text(type(value).__name__)}


def serve() -> None:
    """Answer the judge until it ends the run (see the module docstring)."""
    if CHANNEL is None:
        raise RuntimeError("no judge is attached to this kernel")
    shell = sys.modules["IPython"].get_ipython()
    Agent(CHANNEL, shell.user_ns).serve()


__all__ = [
    "AUDIT",
    "CHANNEL",
    "LIBRARIES",
    "SERVE",
    "Agent",
    "AuditLog",
    "LibraryWatch",
    "serve",
    "watch",
]
