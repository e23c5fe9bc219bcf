"""nbgrader configuration: the repository is the course directory.

Instructor sources live in solutions/, student releases are generated into
exercises/ (`make exercises`), and student work is collected under submitted/
(not committed); `make grade` autogrades it, writes feedback/ and grades.csv.
"""

import os
import re
from pathlib import Path

from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor
from nbgrader.preprocessors import (
    CheckCellMetadata,
    ClearHiddenTests,
    ClearMarkScheme,
    ClearOutput,
    ClearSolutions,
    ComputeChecksums,
    GetGrades,
    IncludeHeaderFooter,
    InstantiateTests,
    LockCells,
    SaveCells,
)

c = get_config()  # noqa: F821 - injected by nbgrader/traitlets

# nbgrader reads this file from the directory it is run in; an absolute root keeps it quiet.
c.CourseDirectory.root = str(Path(__file__).resolve().parent)
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.submitted_directory = "submitted"
c.CourseDirectory.autograded_directory = "autograded"
c.CourseDirectory.feedback_directory = "feedback"
# One instructor: gradebook.db here. On the course hub (hub/): the Postgres URL the hub gives
# instructors' servers, so formgrader, `make grade` and every grader share one gradebook.
c.CourseDirectory.db_url = os.environ.get("NNKIT_GRADEBOOK_URL") or "sqlite:///gradebook.db"
c.CourseDirectory.course_id = "nnkit"


class ClearSolutionsNamingTheTask(ClearSolutions):
    """ClearSolutions whose stub names the function it stands in for.

    nbgrader replaces every solution region with one fixed stub; this one puts the
    name of the enclosing ``def`` into the NotImplementedError, so a student who runs
    a test too early reads which function is still missing.
    """

    def _replace_solution_region(self, cell, language):
        head = cell.source.split(self.begin_solution_delimeter)[0]
        names = re.findall(r"^\s*def (\w+)\(", head, flags=re.MULTILINE)
        if not names:
            return super()._replace_solution_region(cell, language)
        generic = self.code_stub
        self.code_stub = {
            **generic,
            "python": "# YOUR CODE HERE\n"
            f'raise NotImplementedError("{names[-1]}: replace this line with your code")',
        }
        try:
            return super()._replace_solution_region(cell, language)
        finally:
            self.code_stub = generic


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

# Students are added to the gradebook the first time they are autograded.
c.Autograde.create_student = True
# A test cell a student deleted is put back (with its hidden tests) instead of going unscored.
c.OverwriteCells.add_missing_cells = True
# Every cell may take this long; the ungraded digits demo in ps3 is the slowest.
c.Execute.timeout = 300
# A traceback that escapes the grading helpers (e.g. a NameError when an answer cell failed)
# shows lines around the failing one, which can be hidden tests: keep it to the last line.
c.Execute.extra_arguments = ["--InteractiveShell.xmode=Minimal"]

# nbgrader's feedback shows the autograded notebook as it ran, hidden tests included:
# strip them again before the HTML is written (nnkit.grading keeps them out of the outputs).
c.GenerateFeedback.preprocessors = [GetGrades, ClearHiddenTests, CSSHTMLHeaderPreprocessor]
