"""The trusted re-check: run a submission's test cells again with checks it cannot switch off.

A student's answer cell runs in the same process as the test cell after it, so
it can replace ``nnkit.grading.check`` or ``numpy.testing.assert_allclose`` by a
no-op, rebind ``grading`` to a fake, or patch IPython so that a failing test
shows no error; in stock nbgrader every one of those earns full marks. This
module is the defence. It runs inside the same sandbox as the kernel, in a
process forked from the kernel launcher *before* any student code has run
(``nnkit.autograde.kernel``), so it starts with the genuine modules:

1. :class:`Snapshot` keeps a reference to every attribute of the modules the
   tests rely on (``builtins``, ``math``, ``numpy``, ``numpy.testing``,
   ``nnkit.grading``...) and to their ``sys.modules`` entries.
2. The submission's code cells run in an IPython shell, in notebook order,
   with output thrown away and a time limit per cell. After each one the
   snapshot is compared with the live modules: a replaced function is
   recorded as tampering, naming the cell that did it, and put back.
3. Each test cell (hidden tests included) then runs with the genuine modules,
   ``np``/``grading``/``math`` rebound to them, outside IPython (so no display
   hook or custom exception handler can hide a failure). Its verdict, pass or
   fail with the error, is written out at once, one JSON line per event, so a
   crash later in the notebook loses nothing already decided.
4. An audit hook (PEP 578: it cannot be removed once installed) records the
   student code's attempts to open files outside its submission, to use the
   network or a database, or to start processes.

The engine compares these verdicts with the kernel's (``execute.py``): a test
that passed in the notebook but fails here is scored 0 and flagged. A student
who reads this file can still defeat it from inside the process (the verdict
pipe is open in the same process); the sandbox, not this check, is what keeps
hidden tests, solutions and the gradebook out of reach.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys
from types import ModuleType

# the modules whose functions test cells call, directly or through nnkit.grading
PROTECTED_MODULES = (
    "builtins",
    "math",
    "numpy",
    "numpy.testing",
    "numpy.linalg",
    "numpy.random",
    "nnkit",
    "nnkit.grading",
)
# names a test cell uses for those modules (the exercises' first cell imports them so)
TRUSTED_NAMES = {"np": "numpy", "numpy": "numpy", "grading": "nnkit.grading", "math": "math"}
# builtins that IPython itself rebinds while it runs a cell
_VOLATILE_BUILTINS = frozenset({"_", "__", "___", "exit", "quit", "get_ipython"})
_MAX_AUDIT_EVENTS = 20


class CheckTimeout(BaseException):
    """A cell ran past its time limit (a BaseException, so ``except Exception`` misses it)."""


class Snapshot:
    """References to the protected modules and their attributes, taken before student code."""

    def __init__(self, names=PROTECTED_MODULES):
        self.modules: dict[str, ModuleType] = {n: sys.modules[n] for n in names}
        self.attrs = {n: dict(vars(m)) for n, m in self.modules.items()}

    def changes(self) -> list[str]:
        """What differs from the snapshot: replaced modules and replaced or deleted attributes."""
        found = []
        for name, module in self.modules.items():
            if sys.modules.get(name) is not module:
                found.append(f"sys.modules[{name!r}] was replaced")
            live = vars(module)
            for key, value in self.attrs[name].items():
                if name == "builtins" and key in _VOLATILE_BUILTINS:
                    continue
                if key not in live:
                    found.append(f"{name}.{key} was deleted")
                elif live[key] is not value:
                    found.append(f"{name}.{key} was replaced")
        return found

    def restore(self) -> None:
        """Put every module and attribute back as it was when the snapshot was taken."""
        sys.modules.update(self.modules)
        for name, module in self.modules.items():
            saved = self.attrs[name]
            if name == "builtins":
                saved = {k: v for k, v in saved.items() if k not in _VOLATILE_BUILTINS}
            vars(module).update(saved)


class AuditLog:
    """Records what student code tries to reach outside its submission (PEP 578 audit hook)."""

    def __init__(self, allowed_roots: list[str]):
        self.allowed = tuple(os.path.join(os.path.realpath(r), "") for r in allowed_roots)
        self.events: list[str] = []
        self.active = False
        self.cell = ""

    def _outside(self, path) -> str | None:
        if isinstance(path, int):
            return None
        if isinstance(path, bytes):
            path = os.fsdecode(path)
        full = os.path.join(os.path.abspath(str(path)), "")
        return None if full.startswith(self.allowed) else full.rstrip("/")

    def _note(self, text: str) -> None:
        entry = f"{text} (in {self.cell})"
        if entry not in self.events and len(self.events) < _MAX_AUDIT_EVENTS:
            self.events.append(entry)

    def hook(self, event: str, args: tuple) -> None:
        if not self.active:
            return
        if event in ("open", "os.listdir", "os.scandir", "glob.glob"):
            outside = self._outside(args[0]) if args and args[0] is not None else None
            if outside:
                self._note(f"tried to read {outside}, outside its submission")
        elif event in ("socket.connect", "socket.bind", "socket.getaddrinfo"):
            self._note("tried to open a network connection")
        elif event == "sqlite3.connect":
            self._note(f"tried to open a database ({args[0] if args else ''})")
        elif event in ("subprocess.Popen", "os.system", "os.exec", "os.posix_spawn"):
            self._note("tried to start another program")


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise CheckTimeout in the block after ``seconds`` of wall time (SIGALRM)."""

    def expire(signum, frame):
        raise CheckTimeout

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _first_line(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}".strip()
    return text.splitlines()[0][:300] if text else type(exc).__name__


class Checker:
    """Runs one notebook's cells as described in the module docstring, reporting to ``emit``."""

    def __init__(self, emit, allowed_roots: list[str], timeout: float):
        from IPython.core.interactiveshell import InteractiveShell
        from traitlets.config import Config

        config = Config()
        config.HistoryManager.enabled = False  # no sqlite history file, no audit noise
        self.shell = InteractiveShell.instance(config=config)
        # bound now: a student's cell may replace the shell's run_cell attribute
        self._run_cell = self.shell.run_cell
        self.snapshot = Snapshot()
        self.audit = AuditLog(allowed_roots)
        sys.addaudithook(self.audit.hook)
        self.emit = emit
        self.timeout = timeout
        self.tampering: list[str] = []

    def _check_modules(self, where: str) -> None:
        for change in self.snapshot.changes():
            entry = f"{change} by {where}"
            if entry not in self.tampering:
                self.tampering.append(entry)
                self.emit({"type": "tamper", "detail": entry})
        self.snapshot.restore()

    def _trusted_namespace(self, where: str) -> dict:
        ns = self.shell.user_ns
        for name, module_name in TRUSTED_NAMES.items():
            trusted = self.snapshot.modules[module_name]
            if name in ns and ns[name] is not trusted:
                entry = f"the name {name!r} was rebound to a {type(ns[name]).__name__} by {where}"
                if entry not in self.tampering:
                    self.tampering.append(entry)
                    self.emit({"type": "tamper", "detail": entry})
            ns[name] = trusted
        ns["__builtins__"] = self.snapshot.modules["builtins"]
        return ns

    def run_code_cell(self, cell: dict) -> None:
        where = f"cell {cell['grade_id'] or cell['index']}"
        self.audit.cell = where
        self.audit.active = True
        try:
            with time_limit(self.timeout):
                self._run_cell(cell["source"], store_history=False)
        except CheckTimeout:
            self.emit({"type": "timeout", "index": cell["index"]})
        finally:
            self.audit.active = False
        self._check_modules(where)

    def run_test_cell(self, cell: dict, last_student_cell: str) -> None:
        ns = self._trusted_namespace(last_student_cell)
        verdict = {"type": "test", "index": cell["index"], "grade_id": cell["grade_id"]}
        self.audit.cell = f"test {cell['grade_id']}"
        self.audit.active = True  # student functions run inside the test
        try:
            code = compile(cell["source"], f"<test {cell['grade_id']}>", "exec")
            with time_limit(self.timeout):
                exec(code, ns)
        except CheckTimeout:
            verdict |= {"passed": False, "error": f"no result within {self.timeout:g} s"}
        except BaseException as exc:  # SystemExit and KeyboardInterrupt are failures too
            verdict |= {"passed": False, "error": _first_line(exc)}
        else:
            verdict["passed"] = True
        finally:
            self.audit.active = False
        self.emit(verdict)
        self._check_modules(f"the code called from test {cell['grade_id']}")

    def run(self, cells: list[dict]) -> None:
        last = "the notebook"
        for cell in cells:
            if cell["test"]:
                self.run_test_cell(cell, last)
            else:
                self.run_code_cell(cell)
                last = f"cell {cell['grade_id'] or cell['index']}"
        for event in self.audit.events:
            self.emit({"type": "audit", "detail": event})
        self.emit({"type": "done"})


def _silence_output() -> None:
    """Send this process's stdout and stderr to /dev/null (10 million prints cost nothing)."""
    null = os.open(os.devnull, os.O_WRONLY)
    os.dup2(null, 1)
    os.dup2(null, 2)
    os.close(null)
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - lives as long as the process
    sys.stderr = sys.stdout


def serve(in_fd: int, out_fd: int, workdir: str, allowed_roots: list[str]) -> None:
    """Entry point of the forked checker: read the cells from ``in_fd``, report to ``out_fd``.

    Input: one JSON document ``{"cells": [{"index", "grade_id", "test", "source"}],
    "timeout": seconds}`` (the code cells up to the last test cell, in order).
    Output: JSON lines ``{"type": "test" | "tamper" | "audit" | "timeout" | "done", ...}``.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupts are meant for the kernel
    os.environ["MPLBACKEND"] = "Agg"
    _silence_output()
    with os.fdopen(in_fd, "rb") as stream:
        payload = json.loads(stream.read() or b"{}")
    out = os.fdopen(out_fd, "w", buffering=1)

    def emit(record: dict) -> None:
        out.write(json.dumps(record) + "\n")

    os.chdir(workdir)
    # as in the kernel, the student's own modules can be imported (after the snapshot, so
    # they cannot stand in for a module already imported)
    sys.path.insert(0, workdir)
    checker = Checker(emit, [workdir, *allowed_roots], float(payload.get("timeout", 30)))
    checker.run(payload.get("cells", []))
    out.flush()
