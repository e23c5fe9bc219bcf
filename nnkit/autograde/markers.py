"""nbgrader's region markers where they do not belong: text, never a failure.

Stock ``ClearHiddenTests`` runs over every cell of the autograded notebook when
``generate_feedback`` writes the feedback page, and stops the whole command when
a cell holds ``### BEGIN HIDDEN TESTS`` without its ``### END HIDDEN TESTS``,
or holds one outside a test cell. A student's Markdown note can say that (an
innocent student quoting the course's notebooks does), and then nobody's
feedback or grades.csv is written.

Hidden tests only ever live in the instructor's autograder test cells, which
nbgrader restores from the gradebook before grading. So
:class:`ClearHiddenTestsFromTests` removes them there only, and where a region
is not closed it removes everything from its first marker on (never shows a
hidden line, never stops); every other cell is the student's text and is left as
written. ``submissions.prepare`` lists such markers in the grading report.
"""

from __future__ import annotations

from nbgrader import utils
from nbgrader.preprocessors import ClearHiddenTests


class ClearHiddenTestsFromTests(ClearHiddenTests):
    """``ClearHiddenTests`` on the autograder test cells only, and never raising."""

    def preprocess_cell(self, cell, resources, cell_index):
        if not utils.is_grade(cell) or utils.is_solution(cell):
            return cell, resources  # a student's cell: its markers are text
        try:
            self._remove_hidden_test_region(cell)
        except RuntimeError:  # nested or unclosed region: hide from the first marker on
            lines = cell.source.split("\n")
            first = next(i for i, ln in enumerate(lines) if self.begin_test_delimeter in ln)
            cell.source = "\n".join(lines[:first])
        return cell, resources
