"""nbgrader's region markers outside the instructor's test cells never stop the feedback.

Stock ``ClearHiddenTests`` raises on a student's Markdown note saying ``### BEGIN
HIDDEN TESTS`` (and ``generate_feedback`` exits 1 for the whole class);
``ClearHiddenTestsFromTests`` leaves the student's text alone and still removes
every hidden line from the test cells, closed region or not.
"""

from __future__ import annotations

import nbformat
import pytest
from nbgrader.preprocessors import ClearHiddenTests

from nnkit.autograde.markers import ClearHiddenTestsFromTests

NOTE = "My notes:\n### BEGIN HIDDEN TESTS\nI have not seen them."
HIDDEN = "assert secret() == 42"


def _test_cell(source: str, grade_id: str) -> nbformat.NotebookNode:
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": grade_id,
        "locked": True,
        "points": 1,
        "solution": False,
        "schema_version": 3,
    }
    return cell


def _notebook() -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_markdown_cell(NOTE),
        nbformat.v4.new_code_cell("# ### END SOLUTION\nx = 1"),
        _test_cell(f"check(x)\n### BEGIN HIDDEN TESTS\n{HIDDEN}\n### END HIDDEN TESTS", "closed"),
        _test_cell(f"check(x)\n### BEGIN HIDDEN TESTS\n{HIDDEN}", "unclosed"),
    ]
    return nb


def test_stock_clear_hidden_tests_stops_on_a_student_note():
    with pytest.raises(RuntimeError):
        ClearHiddenTests().preprocess(_notebook(), {})


def test_student_text_kept_and_every_hidden_line_removed():
    nb, _ = ClearHiddenTestsFromTests().preprocess(_notebook(), {})
    assert nb.cells[0].source == NOTE
    assert nb.cells[1].source == "# ### END SOLUTION\nx = 1"
    assert nb.cells[2].source == "check(x)"
    assert nb.cells[3].source == "check(x)"
    assert not any(HIDDEN in cell.source for cell in nb.cells)
