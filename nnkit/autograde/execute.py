"""nbgrader's autograde steps, judged outside the student's process, surviving any notebook.

Configured in the course's ``nbgrader_config.py``, so that ``make grade``,
``nbgrader autograde`` and formgrader's *Autograde* button all go through them:

:class:`JudgedExecute` (replaces nbgrader's ``Execute``)
    runs the notebook in a sandboxed kernel (``sandbox.py``) with the hidden
    tests removed from its test cells, so what a test cell prints is feedback
    computed from the visible tests only. After each test cell the judge
    (``judge.py``) runs that cell's full source from the gradebook, visible and
    hidden tests, in this process, calling the student's functions in the
    kernel; its :class:`~nnkit.autograde.records.Verdict` is appended to the
    cell as the grader's word and kept for the score. Where stock nbgrader gives
    up on a student it records a reason instead: a kernel that ignores an
    interrupt is killed and later cells are marked not run; a kernel that dies
    keeps the points of the tests before it; output past the notebook's budget
    is dropped with a visible marker. Cells after the last test cell are not
    run (they cannot change a grade).

:class:`JudgedSaveAutoGrades` (replaces ``SaveAutoGrades``)
    writes the judge's verdicts to the gradebook: full points for a passing test
    cell, 0 otherwise. Outputs are never read, so nothing a student's code
    displays can change a score. Without verdicts it refuses to write anything.

:class:`Preflight` (``Autograde.pre_convert_hook``)
    before the first submission is touched, checks that the sandbox starts and
    the answer key loads; otherwise the run stops with one clear message and
    nothing is written to the gradebook.

Events are appended to ``events_path`` (one JSON line per notebook) for the
engine's report.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import re
import signal
import time
from pathlib import Path

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.api import Gradebook
from nbgrader.preprocessors import Execute, SaveAutoGrades
from traitlets import Bool, Float, Integer, Unicode
from traitlets.config import Configurable

from .agent import SERVE
from .judge import (
    CALL_TIMEOUT,
    Connection,
    JudgeUnavailableError,
    RemoteNamespace,
    judge_grading,
    load_answer_key,
    run_test,
    signatures,
)
from .records import Event, Verdict, clip
from .sandbox import Limits, Sandbox, SandboxedKernelManager, sandbox_works

_HIDDEN = re.compile(
    r"^[ \t]*### BEGIN HIDDEN TESTS[ \t]*$.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?",
    flags=re.MULTILINE | re.DOTALL,
)
# how long the kernel may take to hand itself over to the judge after the judge is done
SERVE_GRACE = 10.0


class Judge(Configurable):
    """Where the answer key is and which hidden inputs this offering of the course uses."""

    answer_key = Unicode(
        "grader", help="Folder holding the answer key (reference.py), relative to the course root."
    ).tag(config=True)
    seed = Integer(0, help="Seed of the hidden inputs; change it every course offering.").tag(
        config=True
    )
    call_timeout = Float(
        CALL_TIMEOUT, help="Seconds one call of a student's function may take."
    ).tag(config=True)


@functools.cache
def _answer_key(folder: str):
    return load_answer_key(folder)


def answer_key_folder(config) -> Path:
    from nbgrader.coursedir import CourseDirectory

    root = Path(CourseDirectory(config=config).root)
    return root / Judge(config=config).answer_key


def strip_hidden_tests(source: str) -> str:
    """A test cell's source without its hidden tests (what the student's kernel runs)."""
    return _HIDDEN.sub("", source)


def is_test_cell(cell: NotebookNode) -> bool:
    """An autograded test: a grade cell of code that is not the student's answer."""
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


def _cell_name(cell: NotebookNode, index: int) -> str:
    meta = cell.metadata.get("nbgrader", {})
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    return grade_id if isinstance(grade_id, str) and grade_id else f"cell {index}"


def exit_reason(code: int | None, limits: Limits) -> str:
    """Words for a kernel's exit status (128 + N: killed by signal N)."""
    if code is None:
        return "the kernel stopped responding"
    if code > 128:
        number = code - 128
        try:
            name = signal.Signals(number).name
        except ValueError:
            name = f"signal {number}"
        what = {
            "SIGSEGV": "a segmentation fault (SIGSEGV)",
            "SIGXCPU": f"the CPU-time limit ({limits.cpu} s, SIGXCPU)",
            "SIGKILL": "SIGKILL (out of memory, or killed)",
            "SIGABRT": "an abort (SIGABRT)",
            "SIGXFSZ": "the file-size limit (SIGXFSZ)",
        }.get(name, name)
        return f"the kernel was killed by {what}"
    return f"the kernel exited with status {code} (os._exit or a crash)"


def _error_output(ename: str, text: str) -> NotebookNode:
    return NotebookNode(
        output_type="error", ename=ename, evalue=text, traceback=[f"\x1b[31m{ename}\x1b[0m: {text}"]
    )


def _stream(text: str) -> NotebookNode:
    return NotebookNode(output_type="stream", name="stdout", text=text)


def _output_size(msg: dict) -> int:
    content = msg.get("content", {})
    if msg["msg_type"] == "stream":
        return len(content.get("text", ""))
    data = content.get("data", {}) or {}
    size = sum(len(v) if isinstance(v, str) else len(json.dumps(v)) for v in data.values())
    return size + sum(len(line) for line in content.get("traceback", []) or [])


class JudgedExecute(Execute):
    """nbgrader's Execute with a sandboxed kernel, the judge after each test cell, and budgets."""

    sandbox_enabled = Bool(True, help="Run kernels in bubblewrap.").tag(config=True)
    memory_limit = Integer(Limits.memory, help="Address-space limit per process, bytes.").tag(
        config=True
    )
    cpu_limit = Integer(Limits.cpu, help="CPU-time limit per process, seconds.").tag(config=True)
    submissions_root = Unicode(
        "", help="Directory holding <student>/<assignment>/ with the files as submitted."
    ).tag(config=True)
    events_path = Unicode("", help="JSON-lines file the notebook's events are appended to.").tag(
        config=True
    )
    output_budget = Integer(
        4_000_000, help="Characters of output kept per notebook (all kinds); the rest is dropped."
    ).tag(config=True)

    # -------------------------------------------------------------- per-notebook set-up

    def _sandbox(self) -> Sandbox:
        limits = Limits(memory=self.memory_limit, cpu=self.cpu_limit)
        return Sandbox(enabled=self.sandbox_enabled, limits=limits)

    def create_kernel_manager(self):
        km = SandboxedKernelManager(kernel_name=self.kernel_name or "python3", config=self.config)
        km.sandbox = self._sandbox()
        km.submission = self._submission
        self.km = km
        return km

    def _load_tests(self, info: dict) -> None:
        """The autograded test cells of this notebook, as released (from the gradebook)."""
        with Gradebook(info["db_url"]) as gb:
            notebook = gb.find_notebook(info["notebook"], info["assignment"])
            sources = {c.name: c.source for c in notebook.source_cells}
            answers = {c.name for c in notebook.solution_cells}
            self._tests = {
                cell.name: (sources.get(cell.name, ""), float(cell.max_score))
                for cell in notebook.grade_cells
                if cell.cell_type == "code" and cell.name not in answers
            }
            self._signatures = signatures([c.source for c in notebook.source_cells])
        judge = Judge(config=self.config)
        self._grading = judge_grading(_answer_key(str(answer_key_folder(self.config))), judge.seed)
        self._call_timeout = judge.call_timeout

    def preprocess(self, nb, resources=None, km=None):
        info = (resources or {}).get("nbgrader", {})
        self._who = {k: info.get(k) for k in ("student", "assignment", "notebook")}
        self._submission = (
            os.path.join(self.submissions_root, info["student"], info["assignment"])
            if self.submissions_root and info
            else ""
        )
        self._load_tests(info)
        self._events: list[Event] = []
        self._verdicts: dict[str, Verdict] = {}
        self._stopped: str | None = None
        self._output_used = 0
        self._output_full = False
        self._connection: Connection | None = None
        self._audited: set[str] = set()
        tests = [i for i, cell in enumerate(nb.cells) if is_test_cell(cell)]
        self._last_test = max(tests, default=-1)
        for index in tests:
            nb.cells[index].source = strip_hidden_tests(nb.cells[index].source)
        nb, resources = super().preprocess(nb, resources, km)
        self._finish(nb)
        resources.setdefault("nnkit", {})["verdicts"] = self._verdicts
        self._write_events(nb)
        return nb, resources

    # -------------------------------------------------------------- running cells

    def _event(self, kind: str, cell: str, detail: str) -> None:
        self._events.append(Event(kind, detail, self._who.get("notebook") or "", cell))

    async def _kill_kernel(self) -> None:
        if self.km is not None and await self.km.is_alive():
            await self.km.shutdown_kernel(now=True)

    async def async_execute_cell(
        self, cell, cell_index, execution_count=None, store_history=True
    ) -> NotebookNode:
        if cell.cell_type != "code" or not cell.source.strip() or cell_index > self._last_test:
            return cell
        name = _cell_name(cell, cell_index)
        if self._stopped is not None:
            cell.outputs = [_error_output("CellNotRun", f"not run: {self._stopped}")]
            return cell
        try:
            cell = await super().async_execute_cell(
                cell, cell_index, execution_count=execution_count, store_history=store_history
            )
        except DeadKernelError:
            self._kernel_died(cell, name)
        except CellTimeoutError:
            # the interrupt after the timeout was ignored (e.g. SIGINT masked): stop the kernel
            self._stopped = f"the kernel ignored the interrupt after the timeout in {name}"
            self._event(
                "timeout", name, f"ran past {self.timeout} s and ignored the interrupt; killed"
            )
            cell.outputs.append(
                _error_output(
                    "CellTimeoutError",
                    f"no result within {self.timeout} s, and the kernel ignored the interrupt",
                )
            )
            await self._kill_kernel()
        else:
            enames = {o.get("ename") for o in cell.outputs if o.output_type == "error"}
            if "CellTimeoutError" in enames:
                self._event("timeout", name, f"ran past {self.timeout} s; interrupted")
            if "SystemExit" in enames:
                self._event("exit", name, "called sys.exit (the kernel carried on)")
            if "MemoryError" in enames:
                limit = self._sandbox().limits.memory / 1024**3
                self._event("memory", name, f"hit the memory limit ({limit:g} GiB): MemoryError")
        if is_test_cell(cell) and self._stopped is None:
            await self._judge_cell(cell, name)
        return cell

    execute_cell = run_sync(async_execute_cell)

    def _kernel_died(self, cell, name: str) -> None:
        self._exit_code = getattr(self.km, "exit_code", None)
        reason = exit_reason(self._exit_code, self._sandbox().limits)
        self._stopped = f"{reason} in {name}"
        self._event("kernel-died", name, reason)
        cell.outputs.append(_error_output("KernelDied", f"{reason} while running this cell"))

    # -------------------------------------------------------------- the judge

    async def _judge_cell(self, cell, name: str) -> None:
        test = self._tests.get(name)
        if test is None or not isinstance(self.km, SandboxedKernelManager):
            return
        source, _ = test
        loop = asyncio.get_running_loop()
        if self._connection is None:
            write_fd, read_fd = self.km.judge_fds

            def on_stall() -> None:
                asyncio.run_coroutine_threadsafe(self.km.interrupt_kernel(), loop)

            self._connection = Connection(write_fd, read_fd, on_stall, self._call_timeout)
        connection = self._connection
        # a cell's checks together get the course's cell timeout, however many calls they make
        connection.budget_end = time.monotonic() + (self.timeout or 300)
        msg_id = self.kc.execute(SERVE, silent=True, store_history=False, allow_stdin=False)
        functions = RemoteNamespace(connection, self._signatures)

        def judge() -> Verdict:
            verdict = run_test(name, source, functions, self._grading)
            connection.end()
            return verdict

        verdict = await asyncio.to_thread(judge)
        verdict.notebook = self._who.get("notebook") or ""
        self._verdicts[name] = verdict
        if verdict.library:
            self._event("library", name, "calls " + ", ".join(verdict.library))
        for function in functions.values():
            for attempt in function.audit:
                if attempt not in self._audited:
                    self._audited.add(attempt)
                    self._event("audit", "", attempt)
        if connection.broken is None and not await self._served(msg_id):
            connection.broken = "the kernel did not give the judge back its turn"
        if connection.broken is not None:
            self._event("judge", name, connection.broken)
            self._stopped = f"{connection.broken} (in {name})"
            await self._kill_kernel()

    async def _served(self, msg_id: str) -> bool:
        """Wait for the reply to the judge's silent cell; False if it never comes."""
        deadline = time.monotonic() + SERVE_GRACE
        while time.monotonic() < deadline:
            try:
                msg = await self.kc.shell_channel.get_msg(timeout=0.5)
            except Exception:  # queue.Empty, or the channel closed with the kernel
                if not await self.km.is_alive():
                    return False
                continue
            if msg["parent_header"].get("msg_id") == msg_id:
                return True
        await self.km.interrupt_kernel()
        return False

    def _finish(self, nb: NotebookNode) -> None:
        """A verdict for every test cell, shown in the cell as the grader's word."""
        for index, cell in enumerate(nb.cells):
            if not is_test_cell(cell):
                continue
            name = _cell_name(cell, index)
            if name not in self._tests:
                continue
            verdict = self._verdicts.get(name)
            if verdict is None:
                reason = self._stopped or "the kernel did not run this cell"
                verdict = Verdict(
                    name, False, f"not graded: {reason}", notebook=self._who["notebook"]
                )
                self._verdicts[name] = verdict
            points = self._tests[name][1]
            if verdict.passed:
                cell.outputs.append(_stream(f"Grader: {points:g} / {points:g} points.\n"))
            else:
                shown = any(o.get("evalue") == verdict.message for o in cell.outputs)
                text = "the failure above." if shown else verdict.message
                cell.outputs.append(
                    _error_output("GradingError", f"Grader: 0 / {points:g} points: {text}")
                )

    # -------------------------------------------------------------- outputs

    def output(self, outs, msg, display_id, cell_index):
        if self._output_full:
            return None
        self._output_used += _output_size(msg)
        if self._output_used > self.output_budget:
            self._output_full = True
            name = _cell_name(self.nb.cells[cell_index], cell_index)
            self._event(
                "output", name, f"printed more than {self.output_budget:,} characters; rest dropped"
            )
            outs.append(_stream(f"\n[output truncated: over {self.output_budget:,} characters]\n"))
            return None
        return super().output(outs, msg, display_id, cell_index)

    async def _async_cleanup_kernel(self) -> None:
        km = self.km
        await super()._async_cleanup_kernel()
        if isinstance(km, SandboxedKernelManager):
            self._exit_code = km.exit_code

    _cleanup_kernel = run_sync(_async_cleanup_kernel)

    # -------------------------------------------------------------- events

    def _write_events(self, nb: NotebookNode) -> None:
        if not self.events_path:
            return
        record = {
            **self._who,
            "events": [vars(e) for e in self._events],
            "failed": [vars(v) for v in self._verdicts.values() if not v.passed],
        }
        with open(self.events_path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")


class JudgedSaveAutoGrades(SaveAutoGrades):
    """nbgrader's SaveAutoGrades with the judge's verdicts as the only source of test scores."""

    def preprocess(self, nb, resources):
        verdicts = resources.get("nnkit", {}).get("verdicts")
        if verdicts is None:
            raise JudgeUnavailableError(
                "no verdicts from the judge: Autograde must run JudgedExecute "
                "(see the course's nbgrader_config.py); nothing was written"
            )
        self._verdicts = verdicts
        return super().preprocess(nb, resources)

    def _add_score(self, cell, resources) -> None:
        if not is_test_cell(cell):
            return super()._add_score(cell, resources)
        grade = self.gradebook.find_grade(
            cell.metadata["nbgrader"]["grade_id"],
            self.notebook_id,
            self.assignment_id,
            self.student_id,
        )
        verdict = self._verdicts.get(cell.metadata["nbgrader"]["grade_id"])
        grade.auto_score = grade.max_score if verdict is not None and verdict.passed else 0.0
        grade.needs_manual_grade = grade.manual_score is not None
        self.gradebook.db.commit()


class Preflight:
    """``Autograde.pre_convert_hook``: refuse the whole run if the judge cannot work.

    ``config`` is the course's configuration (read when the hook runs). The check
    runs once per process.
    """

    def __init__(self, config):
        self.config = config
        self._passed = False

    def __call__(self, **kwargs) -> None:
        if self._passed:
            return
        executor = self.config.get("JudgedExecute", {})
        if executor.get("sandbox_enabled", True):
            problem = sandbox_works(Sandbox())
            if problem is not None:
                raise JudgeUnavailableError(
                    f"the sandbox does not start, so no submission was graded: {clip(problem)}"
                )
        _answer_key(str(answer_key_folder(self.config)))
        self._passed = True


__all__ = [
    "Judge",
    "JudgedExecute",
    "JudgedSaveAutoGrades",
    "Preflight",
    "exit_reason",
    "is_test_cell",
    "strip_hidden_tests",
]
