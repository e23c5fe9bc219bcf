"""nbgrader configuration: the repository is the course directory.

Instructor sources live in solutions/, student releases are generated into
exercises/ (`make exercises`), and student work is collected under submitted/
(not committed); `make grade` autogrades it, writes feedback/ and grades.csv.

Every way of autograding (`make grade`, `nbgrader autograde`, formgrader's
Autograde button) reads this file, and so goes through nnkit's judge: the
student's notebook runs in a sandboxed kernel without its hidden tests, and each
test cell is judged in the grader's process against the answer key in grader/,
which no kernel can see (nnkit/autograde/execute.py).
"""

import os
import re
from pathlib import Path

import nbformat
from nbconvert.preprocessors import ClearMetadataPreprocessor, CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    AssignLatePenalties,
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    GetGrades,
    IgnorePattern,
    IncludeHeaderFooter,
    InstantiateTests,
    LimitOutput,
    LockCells,
    SaveCells,
)

from nnkit.autograde.execute import JudgedExecute, JudgedSaveAutoGrades, Preflight
from nnkit.autograde.markers import ClearHiddenTestsFromTests
from nnkit.autograde.sanitize import SanitizeStudentOutput

c = get_config()  # noqa: F821 - injected by nbgrader/traitlets

# nbgrader reads this file from the directory it is run in; an absolute root keeps it quiet.
c.CourseDirectory.root = str(Path(__file__).resolve().parent)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# One instructor: gradebook.db here (by absolute path: a relative one would follow the working
# directory, and a course copied elsewhere, as `make validate` does, would write to this one's).
# On the course hub (hub/): the Postgres URL the hub gives instructors' servers, so formgrader,
# `make grade` and every grader share one gradebook.
c.CourseDirectory.db_url = (
    os.environ.get("NNKIT_GRADEBOOK_URL")
    or f"sqlite:///{Path(c.CourseDirectory.root) / 'gradebook.db'}"
)
c.CourseDirectory.course_id = "nnkit"


class ClearSolutionsNamingTheTask(ClearSolutions):
    """ClearSolutions whose stubs name the function each one stands in for.

    nbgrader replaces every solution region with one fixed stub; this one puts the
    name of the ``def`` enclosing each region into its NotImplementedError, so a
    student who runs a test too early reads which function is still missing (a cell
    may hold several functions, one region each).
    """

    def _replace_solution_region(self, cell, language):
        if self.begin_solution_delimeter not in cell.source:
            return super()._replace_solution_region(cell, language)
        # one piece per region, each ending with its END line; the last piece is the rest
        pieces, current = [], []
        for line in cell.source.split("\n"):
            current.append(line)
            if self.end_solution_delimeter in line:
                pieces.append(current)
                current = []
        if current:
            pieces.append(current)
        generic, done = self.code_stub, []
        try:
            for piece in pieces:
                before = "\n".join(done + piece).split(self.begin_solution_delimeter)[0]
                names = re.findall(r"^\s*def (\w+)\(", before, flags=re.MULTILINE)
                stub = (
                    "# YOUR CODE HERE\n"
                    f'raise NotImplementedError("{names[-1]}: replace this line with your code")'
                )
                self.code_stub = {**generic, "python": stub} if names else generic
                part = nbformat.NotebookNode(cell_type=cell.cell_type, source="\n".join(piece))
                super()._replace_solution_region(part, language)
                done.append(part.source)
        finally:
            self.code_stub = generic
        cell.source = "\n".join(done)
        return True


c.ClearSolutions.code_stub = {
    "python": '# YOUR CODE HERE\nraise NotImplementedError("replace this line with your code")'
}
# nbgrader's own list, with the stub-naming ClearSolutions in place of the stock one.
c.GenerateAssignment.preprocessors = [
    IncludeHeaderFooter,
    InstantiateTests,
    LockCells,
    ClearSolutionsNamingTheTask,
    ClearOutput,
    CheckCellMetadata,
    ComputeChecksums,
    SaveCells,
    ClearHiddenTests,
    ClearMarkScheme,
    ComputeChecksums,
    CheckCellMetadata,
]

# The judge: the answer key's folder (never mounted in a sandbox, not part of the installed
# nnkit) and the seed of the hidden inputs. Change the seed every offering of the course, so
# that feedback kept from an earlier year does not give this year's hidden values away.
c.Judge.answer_key = "grader"
c.Judge.seed = 2026

# nbgrader's own autograde list with the judge's two steps in place of Execute and
# SaveAutoGrades: scores come from the judge's verdicts, never from what a kernel displayed.
c.Autograde.autograde_preprocessors = [
    JudgedExecute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    JudgedSaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
    # last: the autograded notebook that formgrader and the feedback show keeps no student
    # script, event handler, widget or active SVG (nnkit/autograde/sanitize.py)
    SanitizeStudentOutput,
]
# Before the first submission is touched: no sandbox or no answer key stops the whole run,
# with one message, and nothing is written to the gradebook.
c.Autograde.pre_convert_hook = Preflight(c)

# Students are added to the gradebook the first time they are autograded.
c.Autograde.create_student = True
# A test cell a student deleted is put back (with its hidden tests) instead of going unscored.
c.OverwriteCells.add_missing_cells = True
# Every cell may take this long while grading (cells after the last test are not run).
c.Execute.timeout = 300
# A traceback that escapes the grading helpers (e.g. a NameError when an answer cell failed)
# shows lines around the failing one, which can be hidden tests: keep it to the last line.
c.Execute.extra_arguments = ["--InteractiveShell.xmode=Minimal"]

# The autograded notebook already holds no hidden tests (the kernel never ran them); clearing
# them again is for notebooks graded before the judge existed. ClearHiddenTestsFromTests does it
# in the instructor's test cells only and never stops on a marker a student typed into a cell of
# their own (nnkit/autograde/markers.py); the student's output is sanitised again, for notebooks
# autograded before SanitizeStudentOutput existed.
c.GenerateFeedback.preprocessors = [
    GetGrades,
    ClearHiddenTestsFromTests,
    SanitizeStudentOutput,
    CSSHTMLHeaderPreprocessor,
]
# Every HTML export made with this configuration (the feedback pages, and formgrader's
# manual-grading view, which renders autograded/ in the instructor's own Jupyter server):
# outputs sanitised, and Markdown rendered by nbconvert then cleaned (mistune keeps raw HTML).
c.HTMLExporter.preprocessors = [SanitizeStudentOutput]
c.HTMLExporter.filters = {"markdown2html": "nnkit.autograde.sanitize.SanitizedMarkdown"}
