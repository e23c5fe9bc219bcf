"""Every way an instructor grades goes through the judge, or refuses before writing anything.

`make grade` (the engine) is covered by tests/test_autograde_corpus.py and `nbgrader
autograde` from the command line by tests/test_exercises.py; here are formgrader's
*Autograde* button (nbgrader's ``NbGraderAPI.autograde``, which the button's handler calls in
the instructor's Jupyter server) and the refusals: without the judge's answer key, neither
the engine nor nbgrader writes a grade.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook, MissingEntry, SubmittedAssignment

from tests import autograde_corpus as corpus
from tests.autograde_corpus import correct, stubs, with_answer

pytestmark = pytest.mark.grading

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENV = {
    **os.environ,
    "JUPYTER_PLATFORM_DIRS": "1",
    "PATH": str(BIN) + os.pathsep + os.environ.get("PATH", ""),
}
# hides every failure from the kernel's own view: the visible checks become no-ops
NO_OP_CHECKS = "grading.check = lambda *args, **kwargs: None\n"


def _course(tmp_path: Path) -> Path:
    course = tmp_path / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "grader", course / "grader")
    shutil.copytree(ROOT / "solutions" / "ps1_forward", course / "solutions" / "ps1_forward")
    subprocess.run(
        [str(BIN / "nbgrader"), "generate_assignment", "ps1_forward", "--force"],
        cwd=course, env=ENV, check=True, capture_output=True,
    )  # fmt: skip
    submissions = {
        "alice": correct("ps1_forward", course),
        "mallory": with_answer(stubs("ps1_forward", course), "count_parameters", NO_OP_CHECKS),
    }
    for student, nb in submissions.items():
        folder = course / "submitted" / student / "ps1_forward"
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / "forward.ipynb")
    return course


def _autograde_button(course: Path, student: str) -> dict:
    """What formgrader's Autograde button runs, in a process of its own like the server."""
    script = (
        "import json, sys\n"
        "from nbgrader.apps.api import NbGraderAPI\n"
        "from nbgrader.coursedir import CourseDirectory\n"
        "from traitlets.config import PyFileConfigLoader\n"
        "config = PyFileConfigLoader('nbgrader_config.py', path='.').load_config()\n"
        "api = NbGraderAPI(CourseDirectory(config=config), config=config)\n"
        f"result = api.autograde('ps1_forward', {student!r})\n"
        "print(json.dumps({k: result.get(k) for k in ('success', 'error', 'log')}))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=course, env=ENV, capture_output=True, text=True,
        timeout=600, check=True,
    )  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


def _scores(course: Path, student: str) -> dict[str, float | None]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "nnkit") as gb:
        submission = gb.find_submission_notebook("forward", "ps1_forward", student)
        return {grade.name: grade.auto_score for grade in submission.grades}


def _written(course: Path, student: str) -> dict[str, tuple[float | None, bool]]:
    """{grade id: (auto score, needs manual grade)} of the student's written answers."""
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "nnkit") as gb:
        submission = gb.find_submission_notebook("forward", "ps1_forward", student)
        return {
            grade.name: (grade.auto_score, grade.needs_manual_grade)
            for grade in submission.grades
            if grade.cell_type == "markdown"
        }


def test_formgraders_autograde_button_scores_with_the_judge(tmp_path):
    course = _course(tmp_path)
    for student in ("alice", "mallory"):
        result = _autograde_button(course, student)
        assert result["success"], result
    alice, mallory = _scores(course, "alice"), _scores(course, "mallory")
    release = corpus.release("ps1_forward", course)
    autograded = {grade_id for grade_id, _ in corpus.tests(release)}
    assert sum(alice[grade_id] for grade_id in autograded) == corpus.total(release)
    # the kernel saw no failure at all (its checks were no-ops); the judge saw stubs
    assert sum(mallory[grade_id] for grade_id in autograded) == 0
    graded = nbformat.read(course / "autograded" / "alice" / "ps1_forward" / "forward.ipynb", 4)
    verdicts = [o.get("text", "") for c in graded.cells for o in c.get("outputs", [])]
    assert sum("Grader: " in v for v in verdicts) == len(autograded)  # one verdict per test cell
    assert "BEGIN HIDDEN TESTS" not in str(graded)
    # the judge leaves the written answers alone: alice's wait for grading by hand, mallory's
    # (nbgrader's stub, unchanged) score 0 as unanswered
    written = _written(course, "alice")
    assert written and set(written) == set(alice) - autograded
    assert all(auto is None and needs_hand for auto, needs_hand in written.values()), written
    assert all(mallory[grade_id] == 0 for grade_id in written)


def test_without_the_answer_key_nothing_is_graded_or_written(tmp_path):
    course = _course(tmp_path)
    shutil.rmtree(course / "grader")
    result = _autograde_button(course, "alice")
    assert not result["success"]
    assert "nnkit judge: the answer key" in (result["error"] or "") + (result["log"] or "")
    engine = subprocess.run(
        [sys.executable, "-m", "nnkit.autograde", "grade", "--force"],
        cwd=course, env=ENV, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert engine.returncode != 0
    assert "nnkit judge: the answer key" in engine.stderr + engine.stdout
    assert not (course / "autograded").exists()
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "nnkit") as gb:
        for student in ("alice", "mallory"):
            with pytest.raises(MissingEntry):
                gb.find_submission("ps1_forward", student)


def test_validate_grades_the_solutions_and_leaves_the_course_gradebook_alone(tmp_path):
    """`make validate` (python -m nnkit.autograde validate): the instructor's solutions get every
    autograded point through the judge, in a copy of the course; the course's own gradebook,
    which `make exercises` needs free of submissions to add or remove cells, stays empty."""
    course = _course(tmp_path)
    shutil.rmtree(course / "submitted")
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "nnkit") as gb:
        assert gb.db.query(SubmittedAssignment).count() == 0
    done = subprocess.run(
        [sys.executable, "-m", "nnkit.autograde", "validate"], cwd=course, env=ENV,
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok     ps1_forward: 14 / 14 autograded points" in done.stdout
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "nnkit") as gb:
        assert gb.db.query(SubmittedAssignment).count() == 0, (
            "validate wrote its submission into the course's gradebook"
        )
