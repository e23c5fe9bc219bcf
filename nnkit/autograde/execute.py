"""nbgrader's Execute step, made to survive any notebook and to say what went wrong.

:class:`GuardedExecute` replaces ``nbgrader.preprocessors.Execute`` in the
autograde pipeline. It runs the kernel in the sandbox (``sandbox.py``) and,
where stock nbgrader would give up on a student, finishes the notebook with a
recorded reason instead:

- a cell that runs past the timeout is interrupted (stock behaviour); a kernel
  that ignores the interrupt is killed, and every later cell is marked as not
  run, so its tests score 0;
- a kernel that dies (``os._exit``, a segfault, the CPU-time limit) marks the
  cell it died in and every later one the same way: the tests that passed
  before it keep their points, where stock nbgrader drops the whole submission;
- a cell printing without end keeps its first ``max_output_chars`` characters;
- each test cell's result is compared with the trusted checker's re-run
  (``checks.py``): a test that passed in the kernel but fails there gets an
  error output, so nbgrader scores it 0 and the feedback says why.

Every such event is appended to ``events_path`` (one JSON line per notebook),
which the engine turns into the grades report.
"""

from __future__ import annotations

import json
import os
import signal

from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import run_sync
from nbformat import NotebookNode
from nbgrader import utils
from nbgrader.preprocessors import Execute
from traitlets import Bool, Integer, Unicode

from .sandbox import Limits, Sandbox, SandboxedKernelManager


def _cell_name(cell: NotebookNode, index: int) -> str:
    grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
    return grade_id or f"cell {index}"


def is_test_cell(cell: NotebookNode) -> bool:
    """An autograded test: a grade cell of code that is not the student's answer."""
    return cell.cell_type == "code" and utils.is_grade(cell) and not utils.is_solution(cell)


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


class GuardedExecute(Execute):
    """nbgrader's Execute with a sandboxed kernel, a trusted re-check and recorded faults."""

    sandbox_enabled = Bool(True, help="Run kernels in bubblewrap.").tag(config=True)
    memory_limit = Integer(Limits.memory, help="Address-space limit per process, bytes.").tag(
        config=True
    )
    cpu_limit = Integer(Limits.cpu, help="CPU-time limit per process, seconds.").tag(config=True)
    check_tests = Bool(True, help="Re-run test cells with trusted checks.").tag(config=True)
    submissions_root = Unicode(
        "", help="Directory holding <student>/<assignment>/ with the files as submitted."
    ).tag(config=True)
    events_path = Unicode("", help="JSON-lines file the notebook's events are appended to.").tag(
        config=True
    )
    max_output_chars = Integer(
        1_000_000, help="Stream output kept per cell; the rest is dropped and reported."
    ).tag(config=True)

    # -------------------------------------------------------------- per-notebook set-up

    def _sandbox(self) -> Sandbox:
        limits = Limits(memory=self.memory_limit, cpu=self.cpu_limit)
        return Sandbox(enabled=self.sandbox_enabled, limits=limits)

    def _checker_payload(self, nb: NotebookNode) -> bytes:
        cells = [
            {
                "index": i,
                "grade_id": cell.metadata.get("nbgrader", {}).get("grade_id"),
                "test": is_test_cell(cell),
                "source": cell.source,
            }
            for i, cell in enumerate(nb.cells)
            if cell.cell_type == "code"
        ]
        tests = [i for i, c in enumerate(cells) if c["test"]]
        if not tests or not self.check_tests:
            return b""
        # ungraded cells after the last test (demos, plots) cannot change a grade
        cells = cells[: tests[-1] + 1]
        return json.dumps({"timeout": self.timeout or 30, "cells": cells}).encode()

    def create_kernel_manager(self):
        km = SandboxedKernelManager(kernel_name=self.kernel_name or "python3", config=self.config)
        km.sandbox = self._sandbox()
        km.submission = self._submission
        km.checker_payload = self._payload
        self.km = km
        return km

    def preprocess(self, nb, resources=None, km=None):
        info = (resources or {}).get("nbgrader", {})
        self._who = {k: info.get(k) for k in ("student", "assignment", "notebook")}
        self._submission = (
            os.path.join(self.submissions_root, info["student"], info["assignment"])
            if self.submissions_root and info
            else ""
        )
        self._payload = self._checker_payload(nb)
        self._events: list[dict] = []
        self._stopped: str | None = None
        self._stream_chars: dict[int, int] = {}
        self._exit_code: int | None = None
        self._checker_records: list[dict] = []
        nb, resources = super().preprocess(nb, resources, km)
        self._compare_with_checker(nb)
        self._write_events(nb)
        return nb, resources

    # -------------------------------------------------------------- running cells

    def _event(self, kind: str, cell: str, detail: str) -> None:
        self._events.append({"kind": kind, "cell": cell, "detail": detail})

    async def _kill_kernel(self) -> None:
        if self.km is not None and await self.km.is_alive():
            await self.km.shutdown_kernel(now=True)

    async def async_execute_cell(
        self, cell, cell_index, execution_count=None, store_history=True
    ) -> NotebookNode:
        if cell.cell_type != "code" or not cell.source.strip():
            return cell
        name = _cell_name(cell, cell_index)
        if self._stopped is not None:
            cell.outputs = [_error_output("CellNotRun", f"not run: {self._stopped}")]
            return cell
        self._stream_chars[cell_index] = 0
        try:
            cell = await super().async_execute_cell(
                cell, cell_index, execution_count=execution_count, store_history=store_history
            )
        except DeadKernelError:
            self._exit_code = getattr(self.km, "exit_code", None)
            reason = exit_reason(self._exit_code, self._sandbox().limits)
            self._stopped = f"{reason} in {name}"
            self._event("kernel-died", name, reason)
            cell.outputs.append(_error_output("KernelDied", f"{reason} while running this cell"))
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
        return cell

    execute_cell = run_sync(async_execute_cell)

    def output(self, outs, msg, display_id, cell_index):
        if msg["msg_type"] == "stream":
            used = self._stream_chars.get(cell_index, 0)
            if used > self.max_output_chars:
                return None
            self._stream_chars[cell_index] = used + len(msg["content"].get("text", ""))
            if self._stream_chars[cell_index] > self.max_output_chars:
                self._event(
                    "output",
                    _cell_name(self.nb.cells[cell_index], cell_index),
                    f"printed more than {self.max_output_chars:,} characters; the rest was dropped",
                )
        return super().output(outs, msg, display_id, cell_index)

    async def _async_cleanup_kernel(self) -> None:
        km = self.km
        await super()._async_cleanup_kernel()
        if isinstance(km, SandboxedKernelManager):
            self._checker_records = list(km.checker_records)
            self._exit_code = km.exit_code

    _cleanup_kernel = run_sync(_async_cleanup_kernel)

    # -------------------------------------------------------------- trusted re-check

    def _compare_with_checker(self, nb: NotebookNode) -> None:
        if not self._payload:
            return
        records = self._checker_records
        verdicts = {r["index"]: r for r in records if r.get("type") == "test"}
        for record in records:
            if record.get("type") in ("tamper", "audit"):
                self._event(record["type"], "", record["detail"])
        finished = any(r.get("type") == "done" for r in records)
        for index, cell in enumerate(nb.cells):
            if not is_test_cell(cell):
                continue
            score, _ = utils.determine_grade(cell, self.log)
            if not score:
                continue
            name = _cell_name(cell, index)
            verdict = verdicts.get(index)
            if verdict is None:
                if self._stopped is None:
                    self._event(
                        "unconfirmed",
                        name,
                        "passed, but the trusted re-check did not reach this test"
                        + ("" if finished else " (it stopped early)"),
                    )
            elif not verdict["passed"]:
                self._event(
                    "tamper",
                    name,
                    "passed in the notebook but fails when re-run with the original checks: "
                    + verdict.get("error", ""),
                )
                cell.outputs.append(
                    _error_output(
                        "TamperedTestError",
                        "this test passed in the notebook, but fails when the grader re-runs it "
                        "with the original numpy and nnkit.grading: code in an earlier cell "
                        "changed how the tests work. Re-run: " + verdict.get("error", ""),
                    )
                )

    def _failed_tests(self, nb: NotebookNode) -> list[dict]:
        """Test cells that lost points, each with the first line of its error."""
        failed = []
        for index, cell in enumerate(nb.cells):
            if not is_test_cell(cell):
                continue
            score, max_score = utils.determine_grade(cell, self.log)
            if score is not None and score >= max_score:
                continue
            errors = [o for o in cell.outputs if o.output_type == "error"]
            if errors:
                text = f"{errors[-1].ename}: {errors[-1].evalue}".strip()
            else:
                text = "wrote to stderr"
            first = text.splitlines()[0] if text else "failed"
            failed.append({"cell": _cell_name(cell, index), "error": first[:300]})
        return failed

    def _write_events(self, nb: NotebookNode) -> None:
        if not self.events_path:
            return
        record = {**self._who, "events": self._events, "failed": self._failed_tests(nb)}
        with open(self.events_path, "a", encoding="utf-8") as out:
            out.write(json.dumps(record) + "\n")
