"""Wrong and alternative answers to the graded functions, and how to grade them.

Each assignment has a file ``<assignment>.py`` of answers in cells headed

    # %% wrong softmax: normalises each column (axis=0)
    # %% right softmax: log-sum-exp instead of the row max

A *wrong* answer is a mistake students really make; the test cell of its function
must take points off. A *right* answer is a different but valid implementation;
it must get full marks. Each body is a complete ``def`` that replaces the answer
cell of that function in the instructor's solution notebook. The code before the
first cell (imports) only keeps the file importable and lintable.

Where an answer cell is not tested by the cell of the same name (problem set 4
writes a class across cells), the header names the test cell after ``->``:

    # %% wrong add_mul -> backward: the closures assign (=) instead of adding (+=)

and a ``# hint: <text>`` line right under a wrong answer's header is text its
failure message must contain.
"""

from __future__ import annotations

import contextlib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from nnkit.autograde.judge import judge_grading, load_answer_key, run_test

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
ASSIGNMENTS = {
    "ps1_forward": "forward",
    "ps2_backward": "backward",
    "ps3_training": "training",
    "ps4_autograd": "autograd",
}
# Answer cells whose mistakes can cost points in other test cells (answers that call other
# graded functions, and problem set 4's Value class, which every later cell uses): their
# wrong answers are graded with every other answer correct, so a failure is theirs alone.
DEPENDENT = {"mlp_forward", "mlp_backward", "train_mlp"} | {
    "add_mul",
    "topological_order",
    "backward",
    "arithmetic",
    "reflected",
    "exp_tanh_sigmoid_relu",
}
ANSWER_KEY = load_answer_key(ROOT / "grader")
_HEADER = re.compile(r"^# %% (wrong|right) (\w+)(?: -> (\w+))?: (.+)$", re.MULTILINE)
_HINT = re.compile(r"\A\s*# hint: (.+)$", re.MULTILINE)


@dataclass(frozen=True)
class Answer:
    """One answer to one graded function."""

    assignment: str
    kind: str  # "wrong" or "right"
    function: str  # the answer cell it replaces
    description: str
    source: str
    target: str  # the test cell (without "test_") that must take points off, or give them all
    hint: str | None = None  # text a wrong answer's failure message must contain

    @property
    def label(self) -> str:
        return f"{self.kind} {self.function}: {self.description}"


def load_corpus(assignment: str) -> list[Answer]:
    """Every answer in ``<assignment>.py``, in file order."""
    text = (HERE / f"{assignment}.py").read_text()
    heads = list(_HEADER.finditer(text))
    answers = []
    for head, following in zip(heads, [*heads[1:], None], strict=True):
        body = text[head.end() : following.start() if following else len(text)]
        hint = _HINT.match(body)
        kind, function, target, description = head.groups()
        answers.append(
            Answer(
                assignment,
                kind,
                function,
                description.strip(),
                body.strip() + "\n",
                target or function,
                hint[1].strip() if hint else None,
            )
        )
    return answers


def solution_path(assignment: str) -> Path:
    return ROOT / "solutions" / assignment / f"{ASSIGNMENTS[assignment]}.ipynb"


def release_path(assignment: str) -> Path:
    return ROOT / "exercises" / assignment / f"{ASSIGNMENTS[assignment]}.ipynb"


def grade_id(cell) -> str | None:
    return cell.metadata.get("nbgrader", {}).get("grade_id")


def is_test(cell) -> bool:
    """An autograded test cell (manually graded answers are grade cells too, in markdown)."""
    return cell.cell_type == "code" and bool(cell.metadata.get("nbgrader", {}).get("grade"))


def answer_cells(nb) -> dict[str, nbformat.NotebookNode]:
    """{function name: answer cell} of an nbgrader notebook."""
    return {
        grade_id(cell): cell
        for cell in nb.cells
        if cell.metadata.get("nbgrader", {}).get("solution")
    }


def graded_cells(nb) -> dict[str, nbformat.NotebookNode]:
    """{function name: test cell}; test cells are named ``test_<function>``."""
    return {grade_id(cell).removeprefix("test_"): cell for cell in nb.cells if is_test(cell)}


def substitute(nb, answers: list[Answer]):
    """A copy of ``nb`` with each answer's source in its function's answer cell."""
    nb = nbformat.from_dict(nb)
    cells = answer_cells(nb)
    for answer in answers:
        if answer.function not in cells:
            raise KeyError(f"{answer.assignment} has no answer cell for {answer.function}")
        cells[answer.function].source = answer.source
    return nb


def without_demo(nb):
    """A copy of ``nb`` without the ungraded cells after the last test cell.

    ps3 ends with a digits demo that takes seconds and scores nothing; corpus
    submissions leave it out so a whole corpus grades in reasonable time.
    """
    nb = nbformat.from_dict(nb)
    graded = [i for i, cell in enumerate(nb.cells) if is_test(cell)]
    nb.cells = nb.cells[: max(graded) + 1]
    return nb


def rounds(answers: list[Answer]) -> list[list[Answer]]:
    """Group answers into submissions that can be graded together.

    Right answers are all valid, so the k-th right answer of every function shares a
    submission. Wrong answers of independent functions share one the same way (each
    test cell exercises only its own function); a wrong answer of a DEPENDENT function
    gets a submission of its own, where everything else is the instructor's solution.
    """
    groups: list[list[Answer]] = []
    for kind in ("wrong", "right"):
        by_function: dict[str, list[Answer]] = {}
        for answer in answers:
            if answer.kind != kind:
                continue
            if kind == "wrong" and answer.function in DEPENDENT:
                groups.append([answer])
            else:
                by_function.setdefault(answer.function, []).append(answer)
        depth = max((len(v) for v in by_function.values()), default=0)
        groups += [[v[k] for v in by_function.values() if k < len(v)] for k in range(depth)]
    return groups


@dataclass(frozen=True)
class CellResult:
    """What one function's test cell made of a submission, run in-process."""

    passed: bool
    ratio: float  # largest error / tolerance over the cell's comparisons (inf: not numeric)
    message: str
    failures: tuple[str, ...] = ()  # each failing check's message, in order


def grade_in_process(nb, functions=None, seed: int = 0) -> dict[str, CellResult]:
    """Run a notebook's answer cells in one namespace, and judge each test cell against it.

    This is the judge's comparison (``nnkit.autograde.judge.run_test``, the whole test
    cell with the answer key) without nbgrader, a kernel or the channel: fast enough to
    measure every corpus answer against every check, and to report by how much each
    passes or fails. Cells after the last test cell are skipped.
    """
    nb = without_demo(nb)
    namespace: dict = {"__name__": "__main__"}
    grading_module = judge_grading(ANSWER_KEY, seed)
    results = {}
    with contextlib.redirect_stdout(io.StringIO()):  # cells may print progress
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            if not is_test(cell):
                # a broken answer cell leaves its function undefined, as in Jupyter
                code = compile(cell.source, f"<cell {index}: {grade_id(cell) or 'code'}>", "exec")
                with contextlib.suppress(Exception):
                    exec(code, namespace)
                continue
            function = grade_id(cell).removeprefix("test_")
            if functions is not None and function not in functions:
                continue
            results[function] = _judge(cell, namespace, grading_module)
    return results


def _judge(cell, namespace: dict, grading_module) -> CellResult:
    from nnkit import grading

    with grading.record() as records:
        verdict = run_test(grade_id(cell), cell.source, namespace, grading_module)
    ratios = [r["ratio"] for r in records] or [0.0]
    if verdict.passed:
        return CellResult(True, max(ratios), "")
    # a failing comparison is recorded with its ratio; any other failure counts as infinite
    failing = [r for r in ratios if r > 1]
    ratio = max(failing) if failing else math.inf
    return CellResult(False, ratio, verdict.message, tuple(verdict.failures))
