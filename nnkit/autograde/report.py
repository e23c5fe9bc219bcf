"""The grades report: every submission's score and, for each flagged one, why.

``merge`` keeps ``grading-report.json`` in the course directory (one record per
student and assignment, replaced when regraded) and writes it out readably as
``grading-report.md``. :class:`CsvWithFlags` is an nbgrader export plugin that
writes nbgrader's ``grades.csv`` columns plus ``status`` and ``flags``::

    nbgrader export --exporter=nnkit.autograde.report.CsvWithFlags --to grades.csv

``status`` is ``ok`` (graded, nothing to report), ``flagged`` (graded, read the
flags), ``failed`` (nbgrader could not run it: scored 0), ``not gradable``
(no valid notebook: scored 0) or ``no submission`` (nothing handed in: nbgrader's
0). A submission graded by plain ``nbgrader autograde`` has an empty status.
"""

from __future__ import annotations

import csv
import datetime
import json
from pathlib import Path

from nbgrader.api import MissingEntry
from nbgrader.plugins import CsvExportPlugin

REPORT_JSON = "grading-report.json"
REPORT_MD = "grading-report.md"

# kind of flag -> a short title for the report
KINDS = {
    "missing-notebook": "missing notebook",
    "invalid-notebook": "invalid notebook",
    "grading-failed": "grading failed",
    "kernel-died": "kernel died",
    "timeout": "timeout",
    "memory": "memory limit",
    "exit": "sys.exit",
    "output": "too much output",
    "tamper": "tampering",
    "audit": "outside access",
    "unconfirmed": "not confirmed",
    "renamed": "renamed notebook",
    "locked-cell": "locked cell changed",
    "extra-files": "extra files",
    "suspicious-code": "suspicious code",
}


def flags(record: dict) -> list[str]:
    """One readable line per event of a record: ``kind: notebook/cell: detail``."""
    lines = []
    for notebook, events in record.get("events", {}).items():
        for event in events:
            where = "/".join(x for x in (notebook, event.get("cell", "")) if x)
            title = KINDS.get(event["kind"], event["kind"])
            lines.append(f"{title}: {where}: {event['detail']}")
    return lines


def summary(record: dict, width: int = 160) -> str:
    """One line for a CSV cell: each kind of flag once, with its count and first detail."""
    firsts: dict[str, tuple[int, str]] = {}
    for events in record.get("events", {}).values():
        for event in events:
            count, detail = firsts.get(event["kind"], (0, event["detail"]))
            firsts[event["kind"]] = (count + 1, detail)
    parts = []
    for kind, (count, detail) in firsts.items():
        title = KINDS.get(kind, kind) + (f" (x{count})" if count > 1 else "")
        text = f"{title}: {detail}"
        parts.append(text if len(text) <= width else text[: width - 3] + "...")
    return " | ".join(parts)


def failed_tests(record: dict) -> list[str]:
    """``notebook/cell: first line of the error`` for every test that lost points."""
    return [
        f"{notebook}/{item['cell']}: {item['error']}"
        for notebook, items in record.get("failed", {}).items()
        for item in items
    ]


def status(record: dict) -> str:
    if record.get("status") != "graded":
        return record.get("status", "")
    return "flagged" if flags(record) else "ok"


def _add_scores(course, records: list[dict]) -> None:
    with course.gradebook() as gb:
        for record in records:
            try:
                submission = gb.find_submission(record["assignment"], record["student"])
            except MissingEntry:
                record["score"], record["max_score"] = 0.0, None
                continue
            record["score"] = float(submission.score)
            record["max_score"] = float(submission.max_score)


def load(root: Path) -> dict[tuple[str, str], dict]:
    path = Path(root) / REPORT_JSON
    if not path.exists():
        return {}
    return {(r["student"], r["assignment"]): r for r in json.loads(path.read_text())}


def write_report(course, records: list[dict]) -> None:
    """Fold ``records`` into the course's report files (JSON and Markdown)."""
    _add_scores(course, records)
    stamp = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    known = load(course.root)
    for record in records:
        record["graded_at"] = stamp
        record["status_text"] = status(record)
        known[(record["student"], record["assignment"])] = record
    everything = [known[k] for k in sorted(known)]
    (course.root / REPORT_JSON).write_text(json.dumps(everything, indent=1))
    (course.root / REPORT_MD).write_text(markdown(everything))


def _score(record: dict) -> str:
    if record.get("max_score") is None:
        return "0"
    return f"{record['score']:g} / {record['max_score']:g}"


def markdown(records: list[dict]) -> str:
    """The report as Markdown: flagged submissions first, with reasons, then a table of all."""
    flagged = [r for r in records if r["status_text"] != "ok"]
    lines = [
        "# Grading report",
        "",
        f"{len(records)} submissions; {len(flagged)} flagged. Scores are nbgrader's, after the "
        "trusted re-check; a submission that could not be graded scores 0.",
        "",
        "## Flagged submissions",
        "",
    ]
    if not flagged:
        lines.append("None.")
    for record in flagged:
        lines.append(
            f"### {record['student']} / {record['assignment']}: {_score(record)} "
            f"({record['status_text']})"
        )
        lines.append("")
        lines += [f"- {line}" for line in flags(record)] or ["- (no details)"]
        not_run = [
            i["cell"]
            for items in record.get("failed", {}).values()
            for i in items
            if i["error"].startswith("CellNotRun")
        ]
        lines += [
            f"- failed test: {line}" for line in failed_tests(record) if "CellNotRun" not in line
        ]
        if not_run:
            lines.append(f"- not run after the kernel stopped: {', '.join(not_run)}")
        lines.append("")
    lines += ["", "## All submissions", ""]
    lines += ["| student | assignment | score | status | failed tests |", "|---|---|---|---|---|"]
    for record in records:
        failed = ", ".join(
            item["cell"] for items in record.get("failed", {}).values() for item in items
        )
        lines.append(
            f"| {record['student']} | {record['assignment']} | {_score(record)} "
            f"| {record['status_text']} | {failed} |"
        )
    return "\n".join(lines) + "\n"


class CsvWithFlags(CsvExportPlugin):
    """nbgrader's CSV export with two more columns, ``status`` and ``flags``, from the report."""

    def export(self, gradebook) -> None:
        super().export(gradebook)
        dest = Path(self.to or "grades.csv")
        root = Path(self.parent.coursedir.root) if self.parent is not None else Path.cwd()
        report = load(root)
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
                out.append([*row, record["status_text"], summary(record)])
                continue
            try:
                gradebook.find_submission(row[a], row[s])
            except MissingEntry:
                out.append([*row, "no submission", ""])
            else:  # graded before this engine, or by `nbgrader autograde` itself
                out.append([*row, "", ""])
        with dest.open("w", newline="") as handle:
            csv.writer(handle, lineterminator="\n").writerows(out)
