"""Grades for a learning-management system: one row per student, one column per problem set.

nbgrader's own ``grades.csv`` has one row per student *and* assignment; a university's
gradebook wants one row per student. This module reads the course's gradebook (sqlite or
the hub's Postgres, whatever ``CourseDirectory.db_url`` says) and writes

Canvas (``canvas``)
    the columns of Canvas's own gradebook export, which its "Import" accepts back:
    ``Student`` ("Last, First"), ``ID`` (Canvas's internal id: left blank, Canvas matches on
    the next two), ``SIS User ID`` (nbgrader's ``lms_user_id``), ``SIS Login ID`` (the hub
    login, nbgrader's student id), ``Section``, then one column per assignment named as in
    nbgrader, and a second row ``Points Possible`` with each assignment's maximum.
Moodle (``moodle``)
    ``Username``, ``Email address``, one column per assignment; Moodle's "Import grades
    from CSV" maps the username column to the user and each assignment column to a grade
    item.

Both end with a ``status`` column for the instructor, per assignment: ``not submitted``,
``late <h:mm:ss>``, ``needs manual grading``, or the autograder's flag (``flagged``,
``failed``, ``not gradable``; grading-report.md says why); ``ok`` when there is nothing to
say. Canvas offers to create an assignment from a column it does not know: choose
"Ignore" for ``status`` on its import page (or export with ``--no-status``).

A problem set not handed in counts 0, as in nbgrader's own export, once it is assigned
(someone handed it in, or its due date has passed); before that its cells stay blank.

Run it in the course directory::

    python -m nnkit.autograde.lms canvas --to canvas.csv
    nbgrader export --exporter=nnkit.autograde.lms.CanvasExport --to canvas.csv
"""

from __future__ import annotations

import argparse
import csv
import datetime
import sys
from dataclasses import dataclass, field
from pathlib import Path

from nbgrader.api import Gradebook, MissingEntry
from nbgrader.plugins import ExportPlugin

from .records import SubmissionRecord
from .report import read

FORMATS = ("canvas", "moodle")


@dataclass
class StudentGrades:
    """One student's row: their gradebook record, a score and a status per assignment."""

    student_id: str
    first_name: str
    last_name: str
    email: str
    lms_user_id: str
    scores: dict[str, float | None] = field(default_factory=dict)
    status: dict[str, str] = field(default_factory=dict)

    @property
    def display_name(self) -> str:
        """ "Last, First" as Canvas lists students, or the login when the gradebook has no name."""
        if self.last_name or self.first_name:
            return ", ".join(x for x in (self.last_name, self.first_name) if x)
        return self.student_id

    def status_text(self) -> str:
        notes = [f"{a}: {s}" for a, s in self.status.items() if s != "ok"]
        return "; ".join(notes) or "ok"


def _late(seconds: float) -> str:
    return f"late {datetime.timedelta(seconds=round(seconds))}"


def _assigned(gradebook: Gradebook, assignment, now: datetime.datetime) -> bool:
    """Someone handed it in, or its due date has passed: not submitting now counts."""
    if assignment.duedate is not None and assignment.duedate <= now:
        return True
    return len(gradebook.assignment_submissions(assignment.name)) > 0


def collect(
    gradebook: Gradebook, report: dict[tuple[str, str], SubmissionRecord] | None = None
) -> tuple[dict[str, float], list]:
    """({assignment: max score}, [StudentGrades, ...]) from ``gradebook``, sorted by login.

    ``report`` is the autograder's ``grading-report.json`` keyed by (student, assignment)
    (:func:`nnkit.autograde.report.read`); its statuses go into the status column. A problem
    set nobody has handed in before its due date (or that has none) is not assigned yet:
    its cells stay blank, which Canvas's and Moodle's imports leave alone.
    """
    report = report or {}
    assignments = sorted(gradebook.assignments, key=lambda a: a.name)
    maxima = {a.name: float(a.max_score) for a in assignments}
    now = datetime.datetime.now(datetime.UTC).replace(tzinfo=None)  # nbgrader stores naive UTC
    assigned = {a.name for a in assignments if _assigned(gradebook, a, now)}
    rows = []
    for student in sorted(gradebook.students, key=lambda s: s.id):
        row = StudentGrades(
            student.id,
            student.first_name or "",
            student.last_name or "",
            student.email or "",
            student.lms_user_id or "",
        )
        for name in maxima:
            try:
                submission = gradebook.find_submission(name, student.id)
            except MissingEntry:
                if name in assigned:
                    row.scores[name], row.status[name] = 0.0, "not submitted"
                else:
                    row.scores[name], row.status[name] = None, "ok"
                continue
            row.scores[name] = float(submission.score)
            record = report.get((student.id, name))
            flag = str(record.status) if record is not None else "ok"
            if flag == "no submission":
                flag = "not submitted"
            late = submission.total_seconds_late
            if flag == "ok" and submission.needs_manual_grade:
                flag = "needs manual grading"
            if late > 0 and flag != "not submitted":
                flag = _late(late) if flag == "ok" else f"{_late(late)}, {flag}"
            row.status[name] = flag
        rows.append(row)
    return maxima, rows


def _number(x: float | None) -> str:
    return "" if x is None else f"{x:g}"


def table(kind: str, maxima: dict[str, float], rows: list, status: bool = True) -> list[list[str]]:
    """The CSV rows (header first) of format ``kind`` (``canvas`` or ``moodle``)."""
    if kind not in FORMATS:
        raise ValueError(f"table: argument 'kind' must be one of {FORMATS}, got {kind!r}")
    names = list(maxima)
    extra = ["status"] if status else []
    if kind == "canvas":
        out = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *names, *extra]]
        # Canvas's own export has this row; its import reads the maxima from it
        out.append(
            ["    Points Possible", "", "", "", "", *(_number(maxima[n]) for n in names)]
            + [""] * len(extra)
        )
        for r in rows:
            cells = [r.display_name, "", r.lms_user_id, r.student_id, ""]
            cells += [_number(r.scores[n]) for n in names]
            out.append(cells + ([r.status_text()] if status else []))
        return out
    out = [["Username", "Email address", *names, *extra]]
    for r in rows:
        cells = [r.student_id, r.email, *(_number(r.scores[n]) for n in names)]
        out.append(cells + ([r.status_text()] if status else []))
    return out


def export(
    gradebook: Gradebook, dest: str | Path, kind: str = "canvas", course_root=None, status=True
) -> Path:
    """Write the ``kind`` CSV of ``gradebook`` to ``dest``; flags come from ``course_root``'s
    grading report when there is one. Returns ``dest``."""
    report = read(Path(course_root)) if course_root is not None else {}
    maxima, rows = collect(gradebook, report)
    dest = Path(dest)
    with dest.open("w", newline="") as handle:
        csv.writer(handle, lineterminator="\n").writerows(table(kind, maxima, rows, status))
    return dest


class _LmsExport(ExportPlugin):
    kind = "canvas"

    def export(self, gradebook: Gradebook) -> None:
        root = self.parent.coursedir.root if self.parent is not None else Path.cwd()
        export(gradebook, self.to or f"{self.kind}.csv", self.kind, root)


class CanvasExport(_LmsExport):
    """``nbgrader export --exporter=nnkit.autograde.lms.CanvasExport --to canvas.csv``"""

    kind = "canvas"


class MoodleExport(_LmsExport):
    """``nbgrader export --exporter=nnkit.autograde.lms.MoodleExport --to moodle.csv``"""

    kind = "moodle"


def course_gradebook(root: str | Path = ".") -> tuple[Gradebook, Path]:
    """The gradebook named by ``root``'s nbgrader_config.py (``db_url``, ``course_id``)."""
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config, PyFileConfigLoader

    root = Path(root).resolve()
    config = Config()
    if (root / "nbgrader_config.py").exists():
        config = PyFileConfigLoader("nbgrader_config.py", path=str(root)).load_config()
    config.CourseDirectory.root = str(root)
    coursedir = CourseDirectory(config=config)
    return Gradebook(coursedir.db_url, coursedir.course_id), root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnkit.autograde.lms", description=__doc__)
    parser.add_argument("kind", choices=FORMATS)
    parser.add_argument("--course", default=".", help="course directory (default: .)")
    parser.add_argument("--to", type=Path, help="output file (default: <kind>.csv)")
    parser.add_argument("--no-status", action="store_true", help="leave out the status column")
    args = parser.parse_args(argv)
    gradebook, root = course_gradebook(args.course)
    with gradebook as gb:
        dest = export(gb, args.to or f"{args.kind}.csv", args.kind, root, not args.no_status)
    print(f"wrote {dest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
