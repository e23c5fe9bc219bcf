"""The grades report: every submission's score and, for each flagged one, why.

``merge`` keeps ``grading-report.json`` in the course directory (one
:class:`~nnkit.autograde.records.SubmissionRecord` per student and assignment,
replaced when regraded) and writes it out readably as ``grading-report.md``.
Everything in the Markdown that came from a submission (student ids, messages,
file names) is escaped and bounded, so a submission cannot forge a heading, a
table row or a link in the instructor's report. :class:`CsvWithFlags` is an
nbgrader export plugin that writes nbgrader's ``grades.csv`` columns plus
``status`` and ``flags``::

    nbgrader export --exporter=nnkit.autograde.report.CsvWithFlags --to grades.csv

A submission graded by plain ``nbgrader autograde`` has an empty status.
"""

from __future__ import annotations

import csv
import datetime
import re
from pathlib import Path

from nbgrader.api import MissingEntry
from nbgrader.plugins import CsvExportPlugin

from .records import Status, SubmissionRecord, clip, dump, load

REPORT_JSON = "grading-report.json"
REPORT_MD = "grading-report.md"

_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()<>#+\-.!|~&])")


def escape(text: str, limit: int = 300) -> str:
    """``text`` as literal Markdown on one line: every markup character escaped, bounded."""
    one_line = " ".join(clip(str(text), limit).split())
    return _MARKDOWN_SPECIAL.sub(r"\\\1", one_line)


def _add_scores(course, records: list[SubmissionRecord]) -> None:
    with course.gradebook() as gb:
        for record in records:
            try:
                submission = gb.find_submission(record.assignment, record.student)
            except MissingEntry:
                record.score, record.max_score = 0.0, None
                continue
            record.score = float(submission.score)
            record.max_score = float(submission.max_score)


def read(root: Path) -> dict[tuple[str, str], SubmissionRecord]:
    """The course's report, by (student, assignment)."""
    path = Path(root) / REPORT_JSON
    if not path.exists():
        return {}
    return {(r.student, r.assignment): r for r in load(path.read_text())}


def write_report(course, records: list[SubmissionRecord]) -> None:
    """Fold ``records`` into the course's report files (JSON and Markdown)."""
    _add_scores(course, records)
    stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    known = read(course.root)
    for record in records:
        record.graded_at = stamp
        record.settle()
        known[(record.student, record.assignment)] = record
    everything = [known[k] for k in sorted(known)]
    (course.root / REPORT_JSON).write_text(dump(everything))
    (course.root / REPORT_MD).write_text(markdown(everything))


def _score(record: SubmissionRecord) -> str:
    if record.max_score is None:
        return "0"
    return f"{record.score:g} / {record.max_score:g}"


def markdown(records: list[SubmissionRecord]) -> str:
    """The report as Markdown: flagged submissions first, with reasons, then a table of all."""
    flagged = [r for r in records if r.status != Status.OK]
    lines = [
        "# Grading report",
        "",
        f"{len(records)} submissions; {len(flagged)} flagged. Scores are the judge's verdicts; "
        "a submission that could not be graded scores 0.",
        "",
        "## Flagged submissions",
        "",
    ]
    if not flagged:
        lines.append("None.")
    for record in flagged:
        lines.append(
            f"### {escape(record.student, 80)} / {escape(record.assignment, 80)}: "
            f"{_score(record)} ({record.status})"
        )
        lines.append("")
        lines += [f"- {escape(event.line(), 600)}" for event in record.events] or ["- (no details)"]
        not_run = [v.grade_id for v in record.failed if v.message.startswith("not graded")]
        lines += [
            f"- failed test: {escape(v.notebook + '/' + v.grade_id, 120)}: {escape(v.first_line())}"
            for v in record.failed
            if not v.message.startswith("not graded")
        ]
        if not_run:
            lines.append(f"- not graded after the kernel stopped: {escape(', '.join(not_run))}")
        lines.append("")
    lines += ["", "## All submissions", ""]
    lines += ["| student | assignment | score | status | failed tests |", "|---|---|---|---|---|"]
    for record in records:
        failed = ", ".join(v.grade_id for v in record.failed)
        lines.append(
            f"| {escape(record.student, 80)} | {escape(record.assignment, 80)} | {_score(record)} "
            f"| {record.status} | {escape(failed)} |"
        )
    return "\n".join(lines) + "\n"


class CsvWithFlags(CsvExportPlugin):
    """nbgrader's CSV export with two more columns, ``status`` and ``flags``, from the report."""

    def export(self, gradebook) -> None:
        super().export(gradebook)
        dest = Path(self.to or "grades.csv")
        root = Path(self.parent.coursedir.root) if self.parent is not None else Path.cwd()
        report = read(root)
        with dest.open(newline="") as handle:
            rows = list(csv.reader(handle))
        if not rows:
            return
        header, body = rows[0], rows[1:]
        a, s = header.index("assignment"), header.index("student_id")
        out = [[*header, "status", "flags"]]
        for row in body:
            record = report.get((row[s], row[a]))
            if record is not None:
                out.append([*row, str(record.status), record.summary()])
                continue
            try:
                gradebook.find_submission(row[a], row[s])
            except MissingEntry:
                out.append([*row, str(Status.NO_SUBMISSION), ""])
            else:  # graded before this engine, or by `nbgrader autograde` itself
                out.append([*row, "", ""])
        with dest.open("w", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(out)
