"""Building blocks for submissions made from the course's own notebooks.

A submission starts from the student release (``exercises/``) with every answer
cell filled in from the instructor's solution (:func:`correct`), or left as the
release's stubs (:func:`stubs`), and is then changed the way a broken or
hostile student would change it. Everything is derived from the notebooks at
test time, so the corpus follows the problem sets as they evolve.
"""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = {
    "ps1_forward": "forward",
    "ps2_backward": "backward",
    "ps3_training": "training",
    "ps4_autograd": "autograd",
}
_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*(\n|\Z)", flags=re.MULTILINE)


def _meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def release(assignment: str, course: Path = ROOT) -> nbformat.NotebookNode:
    """The student release of ``assignment`` (answer cells are stubs)."""
    path = course / "exercises" / assignment / f"{NOTEBOOKS[assignment]}.ipynb"
    return nbformat.read(path, as_version=4)


def solution_answers(assignment: str, course: Path = ROOT) -> dict[str, str]:
    """{grade_id: instructor's answer, solution markers removed} for every answer cell."""
    path = course / "solutions" / assignment / f"{NOTEBOOKS[assignment]}.ipynb"
    nb = nbformat.read(path, as_version=4)
    return {
        _meta(c)["grade_id"]: _MARKER.sub("", c.source)
        for c in nb.cells
        if _meta(c).get("solution")
    }


def stubs(assignment: str, course: Path = ROOT) -> nbformat.NotebookNode:
    """The release as handed out: every answer raises NotImplementedError."""
    return release(assignment, course)


def correct(assignment: str, course: Path = ROOT) -> nbformat.NotebookNode:
    """The release with every answer cell holding the instructor's solution."""
    nb = release(assignment, course)
    answers = solution_answers(assignment, course)
    for cell in nb.cells:
        if _meta(cell).get("solution"):
            cell.source = answers[_meta(cell)["grade_id"]]
    return nb


def index_of(nb: nbformat.NotebookNode, grade_id: str) -> int:
    for i, cell in enumerate(nb.cells):
        if _meta(cell).get("grade_id") == grade_id:
            return i
    raise KeyError(grade_id)


def with_answer(nb: nbformat.NotebookNode, grade_id: str, source: str) -> nbformat.NotebookNode:
    """A copy of ``nb`` whose cell ``grade_id`` holds ``source``."""
    nb = copy.deepcopy(nb)
    nb.cells[index_of(nb, grade_id)].source = source
    return nb


def insert_after(nb: nbformat.NotebookNode, grade_id: str, source: str) -> nbformat.NotebookNode:
    """A copy of ``nb`` with a new, ungraded code cell after cell ``grade_id``."""
    nb = copy.deepcopy(nb)
    nb.cells.insert(index_of(nb, grade_id) + 1, nbformat.v4.new_code_cell(source))
    return nb


def after_imports(nb: nbformat.NotebookNode, source: str) -> nbformat.NotebookNode:
    """A copy of ``nb`` with a new code cell right after its first code cell (the imports)."""
    nb = copy.deepcopy(nb)
    first = next(i for i, c in enumerate(nb.cells) if c.cell_type == "code")
    nb.cells.insert(first + 1, nbformat.v4.new_code_cell(source))
    return nb


def tests(nb: nbformat.NotebookNode) -> list[tuple[str, float]]:
    """(grade_id, points) of the autograded test cells, in notebook order."""
    return [
        (_meta(c)["grade_id"], float(_meta(c)["points"]))
        for c in nb.cells
        if _meta(c).get("grade") and not _meta(c).get("solution")
    ]


def total(nb: nbformat.NotebookNode) -> float:
    """The points of the autograded test cells."""
    return sum(p for _, p in tests(nb))


def written_total(nb: nbformat.NotebookNode) -> float:
    """The points of the written answers, which are graded by hand."""
    return sum(
        float(_meta(c)["points"])
        for c in nb.cells
        if c.cell_type == "markdown" and _meta(c).get("grade") and _meta(c).get("solution")
    )


def points_before(nb: nbformat.NotebookNode, grade_id: str) -> float:
    """Points of the tests that come before cell ``grade_id`` (inclusive when it is a test)."""
    stop = index_of(nb, grade_id)
    return sum(
        float(_meta(c)["points"])
        for c in nb.cells[: stop + 1]
        if _meta(c).get("grade") and not _meta(c).get("solution")
    )


def points_of(nb: nbformat.NotebookNode, grade_id: str) -> float:
    return float(_meta(nb.cells[index_of(nb, grade_id)])["points"])


def dumps(nb: nbformat.NotebookNode) -> bytes:
    return nbformat.writes(nb).encode()
