"""Grade submissions with real nbgrader in a throwaway course directory.

``build_course`` lays out a course like the repository (nbgrader_config.py and
solutions/<assignment>/) with ``submitted/<student>/<assignment>/<notebook>.ipynb``
for each submission. ``start_grading`` then runs, in a child process, what
``make grade`` runs: generate_assignment --force, autograde, generate_feedback. The
child imports nbgrader once and drives its command-line apps in-process, the way
nbgrader's own test-suite does, and writes every per-cell score from the gradebook
to ``scores.json`` as ``[score, max_score, needs_manual_grade]``.

Run as ``python -m tests.exercise_corpus.course COURSE_DIR ASSIGNMENT``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from . import ASSIGNMENTS, ROOT

STEPS = (
    ["generate_assignment", "{assignment}", "--force"],
    ["autograde", "{assignment}", "--force"],
    ["generate_feedback", "{assignment}", "--force"],
)


def build_course(course: Path, assignment: str, submissions: dict) -> Path:
    """Write the course directory; ``submissions`` maps student id to notebook."""
    (course / "solutions").mkdir(parents=True)
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "grader", course / "grader")
    shutil.copytree(ROOT / "solutions" / assignment, course / "solutions" / assignment)
    name = ASSIGNMENTS[assignment]
    for student, nb in submissions.items():
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{name}.ipynb")
    return course


def start_grading(course: Path, assignment: str) -> subprocess.Popen:
    """Start the child process that grades ``course``; its output goes to nbgrader.log."""
    env = dict(os.environ)
    # nbgrader starts `alembic` from PATH to create the gradebook
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env["JUPYTER_PLATFORM_DIRS"] = "1"
    with (course / "nbgrader.log").open("w") as log:  # the child keeps its own handle
        return subprocess.Popen(
            [sys.executable, "-m", "tests.exercise_corpus.course", str(course), assignment],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )


def _run_steps(course: Path, assignment: str) -> int:
    from jupyter_core.application import NoStart
    from nbgrader.api import Gradebook
    from nbgrader.apps import NbGraderApp

    os.chdir(course)
    worst = 0
    for step in STEPS:
        args = [arg.format(assignment=assignment) for arg in step]
        print(f"$ nbgrader {' '.join(args)}", flush=True)
        app = NbGraderApp.instance()
        code = 0
        try:
            app.initialize(args)
            app.start()
        except NoStart:  # how a subcommand that ran says it is done
            pass
        except SystemExit as exc:
            code = exc.code or 0
        finally:
            app.reset()
        print(f"exit status {code}", flush=True)
        worst = max(worst, code)
    scores = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        notebook = ASSIGNMENTS[assignment]
        for student in gb.students:
            submission = gb.find_submission_notebook(notebook, assignment, student.id)
            scores[student.id] = {
                grade.name: [grade.score, grade.max_score, grade.needs_manual_grade]
                for grade in submission.grades
            }
    (course / "scores.json").write_text(json.dumps(scores, indent=1, sort_keys=True))
    return worst


if __name__ == "__main__":
    sys.exit(_run_steps(Path(sys.argv[1]).resolve(), sys.argv[2]))
