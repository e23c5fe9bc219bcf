"""Command line: ``python -m nnkit.autograde {grade,shard,merge} ...`` (run in the course root).

``grade``  grade every submission that needs it, ``--workers N`` shards at a time, then merge.
``shard``  grade shard ``--index I --of N`` into ``--out DIR`` (a batch job on any machine).
``merge``  merge shard directories into the course's gradebook and ``autograded/``.
``validate`` grade the instructor's own solutions through the judge; exit 1 unless full marks.

``make grade`` runs ``grade``, then nbgrader's ``generate_feedback`` and ``export``.
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from .engine import Course, Options, grade, merge, run_shard
from .records import Status, SubmissionRecord
from .report import REPORT_MD


def _grading_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("assignments", nargs="*", help="assignments to grade (default: all)")
    parser.add_argument("--student", action="append", default=[], help="grade only this student")
    parser.add_argument("--timeout", type=int, help="seconds per cell (default: the course's)")
    parser.add_argument("--memory-mb", type=int, default=2048, help="memory limit per kernel")
    parser.add_argument("--cpu", type=int, default=600, help="CPU seconds per kernel process")
    parser.add_argument("--force", action="store_true", help="regrade submissions already graded")
    parser.add_argument(
        "--no-sandbox", action="store_true", help="run kernels without bubblewrap (trusted work)"
    )


def _options(args: argparse.Namespace) -> Options:
    return Options(
        workers=getattr(args, "workers", None) or os.cpu_count() or 1,
        timeout=args.timeout,
        memory=args.memory_mb * 1024**2,
        cpu=args.cpu,
        sandbox=not args.no_sandbox,
        force=args.force,
        assignments=args.assignments,
        students=args.student,
        dask=getattr(args, "dask", None),
    )


def _summary(records: list[SubmissionRecord]) -> str:
    flagged = sum(r.status != Status.OK for r in records)
    return f"graded {len(records)} submissions, {flagged} flagged: see {REPORT_MD}"


def validate(course: Course, assignments: list[str]) -> int:
    """Grade every source notebook as a student would be graded; 1 unless all get full marks.

    Runs in a copy of the course (nbgrader_config.py, the sources, the answer key), so
    the course's own gradebook and folders are not touched; the judge, the sandbox and
    the hidden tests are exactly those of ``make grade``. Full marks are the autograded
    points: written answers, graded by hand, only have their points counted.
    """
    from .execute import answer_key_folder

    source = course.path("source")
    names = assignments or sorted(p.name for p in source.iterdir() if p.is_dir())
    with tempfile.TemporaryDirectory(prefix="nnkit-validate-") as tmp:
        root = Path(tmp)
        shutil.copy(course.root / "nbgrader_config.py", root)
        shutil.copytree(source, root / course.coursedir.source_directory)
        shutil.copytree(answer_key_folder(course.config), root / "grader")
        nbgrader = [str(Path(sys.executable).parent / "nbgrader"), "generate_assignment"]
        for name in names:
            subprocess.run([*nbgrader, name, "--force"], cwd=root, check=True,
                           capture_output=True)  # fmt: skip
            submitted = root / "submitted" / "solution" / name
            submitted.mkdir(parents=True)
            for notebook in (source / name).glob("*.ipynb"):
                shutil.copy(notebook, submitted)
        copy = Course(root)
        config = copy.config
        config.Judge.answer_key = str(root / "grader")
        records = grade(copy, Options(force=True, assignments=names))
        autograded = _autograded_scores(copy, records)
    failures = 0
    for record in records:
        score, top, by_hand = autograded[record.assignment]
        full = top is not None and score == top
        line = f"{record.assignment}: {score:g} / {top or 0:g} autograded points"
        if by_hand:
            line += f" ({by_hand:g} more for written answers, graded by hand)"
        print(("ok     " if full else "FAILED ") + line)
        for verdict in record.failed:
            print(f"  {verdict.notebook}/{verdict.grade_id}: {verdict.first_line()}")
        for event in record.events:
            print(f"  {event.line()}")
        failures += not full
    return 1 if failures else 0


def _autograded_scores(course: Course, records: list[SubmissionRecord]) -> dict:
    """{assignment: (autograded score, autograded maximum or None, written points)}."""
    from nbgrader.api import MissingEntry

    scores = {}
    with course.gradebook() as gb:
        for record in records:
            try:
                submission = gb.find_submission(record.assignment, record.student)
            except MissingEntry:
                scores[record.assignment] = (0.0, None, 0.0)
                continue
            scores[record.assignment] = (
                float(submission.code_score),
                float(submission.max_code_score),
                float(submission.max_written_score),
            )
    return scores


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nnkit.autograde", description=__doc__)
    parser.add_argument("--course", default=".", help="course directory (default: .)")
    parser.add_argument("--db-url", help="gradebook to use instead of the course's db_url")
    commands = parser.add_subparsers(dest="command", required=True)
    p_grade = commands.add_parser("grade", help="grade in parallel and merge")
    p_grade.add_argument("--workers", type=int, default=0, help="parallel shards (default: cores)")
    p_grade.add_argument("--work-dir", type=Path, help="keep the shards here (default: temporary)")
    p_grade.add_argument("--dask", metavar="ADDRESS", help="grade on this Dask scheduler")
    _grading_options(p_grade)
    p_shard = commands.add_parser("shard", help="grade one shard into a directory")
    p_shard.add_argument("--index", type=int, required=True)
    p_shard.add_argument("--of", type=int, required=True)
    p_shard.add_argument("--out", type=Path, required=True)
    _grading_options(p_shard)
    p_merge = commands.add_parser("merge", help="merge shard directories into the course")
    p_merge.add_argument("shards", nargs="+", type=Path)
    p_validate = commands.add_parser("validate", help="grade the solutions; fail unless full marks")
    p_validate.add_argument("assignments", nargs="*", help="assignments (default: all)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(message)s")
    os.environ.setdefault("JUPYTER_PLATFORM_DIRS", "1")
    # nbgrader runs `alembic` from PATH when it creates a gradebook: use this environment's
    bin_dir = str(Path(sys.executable).parent)
    os.environ["PATH"] = bin_dir + os.pathsep + os.environ.get("PATH", "")
    course = Course(args.course, args.db_url)
    if args.command == "validate":
        return validate(course, args.assignments)
    if args.command == "grade":
        records = grade(course, _options(args), args.work_dir)
        print(_summary(records))
    elif args.command == "shard":
        if not 0 <= args.index < args.of:
            parser.error("--index must be in 0 .. --of - 1")
        records = run_shard(course, args.index, args.of, args.out.resolve(), _options(args))
        print(f"shard {args.index}/{args.of}: {len(records)} submissions into {args.out}")
    else:
        records = merge(course, [s.resolve() for s in args.shards])
        print(_summary(records))
    return 0


if __name__ == "__main__":
    sys.exit(main())
