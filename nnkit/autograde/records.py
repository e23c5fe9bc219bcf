"""The records that travel from a kernel to the gradebook's report, one type each.

Everything the grader learns about a submission is one of these, written and
read by this module only:

:class:`Event`
    something worth telling the instructor (a kernel that died, a renamed
    notebook, a library implementation used...), ``kind`` from :data:`KINDS`;
:class:`Verdict`
    the judge's decision on one test cell (``judge.py``); the points written to
    the gradebook come from it and nothing else;
:class:`SubmissionRecord`
    one student's work on one assignment: its status, score, events and the
    verdicts of the tests that lost points. Shards write them as JSON, the merge
    reads them, the report and the CSV export show them.

Statuses (:class:`Status`): ``ok`` (graded, nothing to report), ``flagged``
(graded, read the flags), ``failed`` (the grader could not run it: scored 0, with
the reason), ``not gradable`` (no valid notebook: scored 0) and ``no submission``.
"""

from __future__ import annotations

import enum
import json
from dataclasses import asdict, dataclass, field, fields

# kind of event -> a short title for the report
KINDS = {
    "missing-notebook": "missing notebook",
    "invalid-notebook": "invalid notebook",
    "grading-failed": "grading failed",
    "kernel-died": "kernel died",
    "timeout": "timeout",
    "memory": "memory limit",
    "exit": "sys.exit",
    "output": "too much output",
    "judge": "judge's channel",
    "library": "uses a library implementation",
    "audit": "outside access",
    "renamed": "renamed notebook",
    "locked-cell": "locked cell changed",
    "extra-files": "extra files",
    "suspicious-code": "suspicious code",
    "markers": "grading markers out of place",
    "metadata": "malformed cell metadata",
    "symlink": "symbolic link",
    "special-file": "not a regular file",
    "active-content": "HTML that would run in a page",
}
# longest text kept in any field that comes from a submission
MAX_DETAIL = 500


class Status(enum.StrEnum):
    OK = "ok"
    FLAGGED = "flagged"
    FAILED = "failed"
    NOT_GRADABLE = "not gradable"
    NO_SUBMISSION = "no submission"


def clip(text: str, limit: int = MAX_DETAIL) -> str:
    """``text`` cut to ``limit`` characters, with a visible mark where it was cut."""
    text = str(text)
    return text if len(text) <= limit else text[: limit - 15] + " [... truncated]"


@dataclass
class Event:
    """Something the report should mention about one notebook (or the whole submission)."""

    kind: str
    detail: str
    notebook: str = ""
    cell: str = ""

    def __post_init__(self):
        self.detail = clip(self.detail)
        self.cell = clip(self.cell, 100)

    @property
    def title(self) -> str:
        return KINDS.get(self.kind, self.kind)

    def line(self) -> str:
        """``title: notebook/cell: detail``."""
        where = "/".join(x for x in (self.notebook, self.cell) if x)
        return f"{self.title}: {where}: {self.detail}" if where else f"{self.title}: {self.detail}"


@dataclass
class Verdict:
    """What the judge decided about one test cell.

    ``passed_checks`` of ``total_checks`` checks passed (a check the cell never reached
    counts as failed); ``failures`` holds each failing check's message, in order, and
    ``message`` sums them up for the student; ``library`` lists library functions the
    student's code was seen to use.
    """

    grade_id: str
    passed: bool
    message: str = ""
    passed_checks: int = 0
    total_checks: int = 0
    failures: list[str] = field(default_factory=list)
    library: list[str] = field(default_factory=list)
    notebook: str = ""

    def first_line(self) -> str:
        """The count of checks passed and the first failure, on one line."""
        lines = self.message.splitlines() or ["failed"]
        if len(lines) > 1 and lines[0].endswith("checks passed."):
            return clip(f"{lines[0][:-1]}; {lines[1]}", 300)
        return clip(lines[0], 300)


@dataclass
class SubmissionRecord:
    """One student's submission of one assignment, as graded."""

    student: str
    assignment: str
    status: Status = Status.OK
    score: float = 0.0
    max_score: float | None = None
    reason: str = ""
    events: list[Event] = field(default_factory=list)
    failed: list[Verdict] = field(default_factory=list)
    graded_at: str = ""

    def settle(self) -> None:
        """Set ``ok``/``flagged`` for a graded submission from its events."""
        if self.status in (Status.OK, Status.FLAGGED):
            self.status = Status.FLAGGED if self.events else Status.OK

    def summary(self, width: int = 160) -> str:
        """One line for a CSV cell: each kind of event once, with its count and first detail."""
        firsts: dict[str, tuple[int, Event]] = {}
        for event in self.events:
            count, first = firsts.get(event.kind, (0, event))
            firsts[event.kind] = (count + 1, first)
        parts = []
        for count, event in firsts.values():
            text = event.title + (f" (x{count})" if count > 1 else "") + f": {event.detail}"
            parts.append(clip(text, width))
        return " | ".join(parts)

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> SubmissionRecord:
        known = {f.name for f in fields(cls)}
        record = cls(**{k: v for k, v in data.items() if k in known})
        record.status = Status(record.status)
        record.events = [Event(**e) for e in data.get("events", [])]
        record.failed = [Verdict(**v) for v in data.get("failed", [])]
        return record


def dump(records: list[SubmissionRecord]) -> str:
    return json.dumps([r.to_json() for r in records], indent=1)


def load(text: str) -> list[SubmissionRecord]:
    return [SubmissionRecord.from_json(item) for item in json.loads(text)]


__all__ = [
    "KINDS",
    "Event",
    "Status",
    "SubmissionRecord",
    "Verdict",
    "clip",
    "dump",
    "load",
]
