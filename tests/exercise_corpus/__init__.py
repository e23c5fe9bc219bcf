"""Wrong and alternative answers to the graded functions, and how to grade them.

Each assignment has a file ``<assignment>.py`` of answers in cells headed

    # %% wrong softmax: normalises each column (axis=0)
    # %% right softmax: log-sum-exp instead of the row max

A *wrong* answer is a mistake students really make; the test cells of its function
must take points off, and its visible tests alone (run without the answer key, as
in the student's kernel) must already fail it: nothing the hidden tests hold a
student to goes unannounced. A *right* answer is a different but valid
implementation; it must get full marks, and pass every visible test. Each body is
a complete ``def`` that replaces the answer cell of that function in the
instructor's solution notebook. The code before the first cell (imports) only
keeps the file importable and lintable.

Where an answer cell is not tested by the cells of the same name (problem set 4
writes a class across cells), the header names the test cell after ``->``:

    # %% wrong add_mul -> backward: the closures assign (=) instead of adding (+=)

Comment lines right under a header qualify it:

    # hint: keepdims=True
    # caught by hidden tests only

the first, words the grader's message about that wrong answer must contain; the
second, an exception to the rule above, to be justified in the description.

A function's test cells are ``test_<function>``, or ``test_<function>__<part>`` when
its points are split by skill (``test_sigmoid__values``, ``test_sigmoid__no_overflow``).
"""

from __future__ import annotations

import contextlib
import io
import math
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from nnkit import grading
from nnkit.autograde.execute import strip_hidden_tests
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
_HIDDEN_ONLY = "# caught by hidden tests only"
_HINT = re.compile(r"^# hint: (.+)$")


@dataclass(frozen=True)
class Answer:
    """One answer to one graded function."""

    assignment: str
    kind: str  # "wrong" or "right"
    function: str  # the answer cell it replaces
    description: str
    source: str
    target: str  # the function whose test cells must take points off, or give them all
    hint: str = ""  # words the grader's message must contain
    hidden_only: bool = False  # a wrong answer only the hidden tests catch

    @property
    def label(self) -> str:
        return f"{self.kind} {self.function}: {self.description}"


def load_corpus(assignment: str) -> list[Answer]:
    """Every answer in ``<assignment>.py``, in file order."""
    text = (HERE / f"{assignment}.py").read_text()
    heads = list(_HEADER.finditer(text))
    answers = []
    for head, following in zip(heads, [*heads[1:], None], strict=True):
        lines = text[head.end() : following.start() if following else len(text)].strip().split("\n")
        hint, hidden_only = "", False
        while lines and (lines[0] == _HIDDEN_ONLY or _HINT.match(lines[0])):
            qualifier = lines.pop(0)
            hidden_only = hidden_only or qualifier == _HIDDEN_ONLY
            hint = _HINT.match(qualifier)[1] if _HINT.match(qualifier) else hint
        source = "\n".join(lines).strip() + "\n"
        answers.append(
            Answer(
                assignment,
                head[1],
                head[2],
                head[4].strip(),
                source,
                head[3] or head[2],
                hint,
                hidden_only,
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
    """An autograded test cell (code, graded, not an answer)."""
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "code" and bool(meta.get("grade")) and not meta.get("solution")


def is_written(cell) -> bool:
    """A written answer that nbgrader collects for grading by hand (Markdown, graded)."""
    meta = cell.metadata.get("nbgrader", {})
    return cell.cell_type == "markdown" and bool(meta.get("grade")) and bool(meta.get("solution"))


def function_of(test_id: str) -> str:
    """The function a test cell grades: ``test_sigmoid__values`` -> ``sigmoid``."""
    return test_id.removeprefix("test_").split("__")[0]


def answer_cells(nb) -> dict[str, nbformat.NotebookNode]:
    """{function name: answer cell} of an nbgrader notebook (the code answers)."""
    return {
        grade_id(cell): cell
        for cell in nb.cells
        if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("solution")
    }


def written_cells(nb) -> dict[str, nbformat.NotebookNode]:
    """{grade id: written answer cell}, graded by hand."""
    return {grade_id(cell): cell for cell in nb.cells if is_written(cell)}


def autograded_cells(nb) -> dict[str, nbformat.NotebookNode]:
    """{grade id: autograded test cell}, in notebook order."""
    return {grade_id(cell): cell for cell in nb.cells if is_test(cell)}


def graded_cells(nb) -> dict[str, list[nbformat.NotebookNode]]:
    """{function name: its test cells, in notebook order}."""
    cells: dict[str, list[nbformat.NotebookNode]] = {}
    for test_id, cell in autograded_cells(nb).items():
        cells.setdefault(function_of(test_id), []).append(cell)
    return cells


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
    """What one function's test cells made of a submission, run in-process."""

    passed: bool  # every cell of the function passed
    ratio: float  # largest error / tolerance over the comparisons (inf: not numeric)
    message: str  # the first failing cell's message
    failed: tuple[str, ...] = ()  # grade ids of the failing cells
    messages: tuple[str, ...] = ()  # every failing cell's message
    failures: tuple[str, ...] = ()  # every failing check's message, cell after cell


def grade_in_process(
    nb, functions=None, seed: int = 0, visible_only: bool = False
) -> dict[str, CellResult]:
    """Run a notebook's answer cells in one namespace, and judge each test cell against it.

    This is the judge's comparison (``nnkit.autograde.judge.run_test``, the whole test
    cell with the answer key) without nbgrader, a kernel or the channel: fast enough to
    measure every corpus answer against every check, and to report by how much each
    passes or fails. Cells after the last test cell are skipped. ``visible_only`` runs
    what the student's kernel runs instead: the visible tests alone, with nnkit's
    ``grading`` and no answer key.
    """
    nb = without_demo(nb)
    namespace: dict = {"__name__": "__main__"}
    grading_module = grading if visible_only else judge_grading(ANSWER_KEY, seed)
    cells: dict[str, list[tuple[str, CellResult]]] = {}
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
            function = function_of(grade_id(cell))
            if functions is not None and function not in functions:
                continue
            source = strip_hidden_tests(cell.source) if visible_only else cell.source
            result = _judge(grade_id(cell), source, namespace, grading_module)
            cells.setdefault(function, []).append((grade_id(cell), result))
    return {function: _together(results) for function, results in cells.items()}


def _judge(test_id: str, source: str, namespace: dict, grading_module) -> CellResult:
    with grading.record() as records:
        verdict = run_test(test_id, source, namespace, grading_module)
    ratios = [r["ratio"] for r in records] or [0.0]
    if verdict.passed:
        return CellResult(True, max(ratios), "")
    # a failing comparison is recorded with its ratio; any other failure counts as infinite
    failing = [r for r in ratios if r > 1]
    ratio = max(failing) if failing else math.inf
    failures = tuple(verdict.failures)
    return CellResult(False, ratio, verdict.message, (test_id,), (verdict.message,), failures)


def _together(results: list[tuple[str, CellResult]]) -> CellResult:
    """One function's verdict from its cells'."""
    failed = [result for _, result in results if not result.passed]
    if not failed:
        return CellResult(True, max(result.ratio for _, result in results), "")
    return CellResult(
        False,
        max(result.ratio for result in failed),
        failed[0].message,
        tuple(test_id for test_id, result in results if not result.passed),
        tuple(result.message for result in failed),
        tuple(f for result in failed for f in result.failures),
    )
