"""Shard and merge: nbgrader's autograde on many workers, one gradebook at the end.

Stock ``nbgrader autograde`` grades one notebook after another and has no
parallel mode (nbgrader issue 174). Here the class is split into shards, each a
batch of students, and each shard is graded by nbgrader itself, in a process of
its own, in a temporary course directory of its own:

``run_shard``
    builds ``<out>/course/``: a sqlite gradebook holding the assignments (copied
    from the main gradebook through nbgrader's API, with the shard's students and
    their extensions), ``solutions/`` linked to the course's source directory,
    and ``submitted/`` with a checked copy of each submission
    (``submissions.prepare``). It then runs nbgrader's ``Autograde`` converter
    with the course's own configuration, whose ``JudgedExecute`` and
    ``JudgedSaveAutoGrades`` (``execute.py``) run each kernel in the sandbox and
    score each test cell by the judge's verdict. A submission nbgrader cannot
    grade at all still gets a submission in the gradebook with every grade 0
    and the reason in ``<out>/report.json``; one that cannot even be read is
    ``not gradable``, and no student's failure stops the shard.

``merge``
    copies each shard's submissions into the main gradebook (which may be the
    documented Postgres ``db_url`` of a multi-machine course) through
    nbgrader's ``Gradebook`` API, exactly the fields ``nbgrader autograde``
    writes (timestamp, auto scores, needs-manual-grade, auto comments, late
    penalty), moves ``autograded/<student>/<assignment>/`` into place, and
    rewrites the course's grading report.

``grade``
    checks that the judge can run at all (sandbox, answer key; otherwise it
    stops before touching anything), plans the shards, runs them as
    ``python -m nnkit.autograde shard`` processes (``workers`` at a time, one
    shard per worker) and merges them. Feedback and
    the CSV export then run as usual (``make grade``).
"""

from __future__ import annotations

import copy
import datetime
import json
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from .records import Event, Status, SubmissionRecord, Verdict, dump, load
from .report import write_report
from .submissions import prepare

log = logging.getLogger("nnkit.autograde")


@dataclass
class Options:
    """What ``python -m nnkit.autograde`` was asked to do.

    ``timeout`` (seconds per cell) overrides the course's ``Execute.timeout``
    when set; ``memory`` (bytes) and ``cpu`` (seconds) limit each kernel process.
    """

    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    timeout: int | None = None
    memory: int = 2 * 1024**3
    cpu: int = 600
    sandbox: bool = True
    force: bool = False
    assignments: list[str] = field(default_factory=list)
    students: list[str] = field(default_factory=list)
    dask: str | None = None  # a Dask scheduler's address: grade there (cluster.py)

    def as_args(self) -> list[str]:
        """The command-line form of these options (passed on to shard processes)."""
        args = ["--memory-mb", str(self.memory // 1024**2), "--cpu", str(self.cpu)]
        if self.timeout:
            args += ["--timeout", str(self.timeout)]
        if not self.sandbox:
            args.append("--no-sandbox")
        if self.force:
            args.append("--force")
        for student in self.students:
            args += ["--student", student]
        return args + list(self.assignments)


@dataclass(frozen=True, order=True)
class Job:
    """One submission to grade: ``submitted/<student>/<assignment>/``."""

    student: str
    assignment: str


# ----------------------------------------------------------------------------- the course


class Course:
    """An nbgrader course directory, configured by its ``nbgrader_config.py``."""

    def __init__(self, root: str | os.PathLike = ".", db_url: str | None = None):
        from nbgrader.coursedir import CourseDirectory
        from traitlets.config import Config, PyFileConfigLoader

        self.root = Path(root).resolve()
        config_file = self.root / "nbgrader_config.py"
        self.config = Config()
        if config_file.exists():
            self.config = PyFileConfigLoader(str(config_file), path=str(self.root)).load_config()
        self.config.CourseDirectory.root = str(self.root)
        if db_url:
            self.config.CourseDirectory.db_url = db_url
        self.coursedir = CourseDirectory(config=self.config)
        self.db_url = self.coursedir.db_url
        self.course_id = self.coursedir.course_id

    def path(self, step: str, student: str = ".", assignment: str = ".") -> Path:
        """``<root>/<step directory>/<student>/<assignment>`` for a CourseDirectory step name."""
        directory = getattr(self.coursedir, f"{step}_directory")
        return Path(self.coursedir.format_path(directory, student, assignment))

    def gradebook(self):
        from nbgrader.api import Gradebook

        return Gradebook(self.db_url, self.course_id)

    def notebooks(self) -> dict[str, list[str]]:
        """{assignment: [notebook names]} as the gradebook knows them (``generate_assignment``)."""
        with self.gradebook() as gb:
            return {a.name: sorted(nb.name for nb in a.notebooks) for a in gb.assignments}

    def submissions(self, options: Options) -> list[Job]:
        """Every ``submitted/<student>/<assignment>/`` of a known assignment, sorted."""
        known = self.notebooks()
        wanted = set(options.assignments) or set(known)
        unknown = wanted - set(known)
        if unknown:
            raise SystemExit(
                f"not in the gradebook: {', '.join(sorted(unknown))}; "
                "run `make exercises` (nbgrader generate_assignment) first"
            )
        root = self.path("submitted")
        jobs = []
        if root.is_dir():
            for student_dir in sorted(p for p in root.iterdir() if p.is_dir()):
                if options.students and student_dir.name not in options.students:
                    continue
                for assignment in sorted(wanted):
                    if (student_dir / assignment).is_dir():
                        jobs.append(Job(student_dir.name, assignment))
        return jobs


def _timestamp(folder: Path) -> datetime.datetime | None:
    from nbgrader.utils import parse_utc

    path = folder / "timestamp.txt"
    if not path.is_file():
        return None
    try:
        return parse_utc(path.read_text().strip())
    except (ValueError, OverflowError):
        return None


def needs_grading(course: Course, job: Job, force: bool) -> bool:
    """nbgrader's rule (``init_destination``): regrade if forced, new, or submitted again."""
    dest = course.path("autograded", job.student, job.assignment)
    if force or not dest.exists():
        return True
    new = _timestamp(course.path("submitted", job.student, job.assignment))
    old = _timestamp(dest)
    return new is not None and old is not None and new > old


def plan(course: Course, options: Options) -> list[Job]:
    """The submissions this run grades."""
    return [j for j in course.submissions(options) if needs_grading(course, j, options.force)]


def shard_of(jobs: list[Job], index: int, count: int) -> list[Job]:
    """Shard ``index`` of ``count``: every count-th student, in sorted order, with all their work.

    Dealing students round-robin spreads a class evenly whatever order the
    students submitted in; every machine computes the same split from the same
    ``submitted/`` folder, so shards can be graded anywhere.
    """
    students = sorted({j.student for j in jobs})
    mine = set(students[index::count])
    return [j for j in jobs if j.student in mine]


# ----------------------------------------------------------------------------- one shard


def _copy_definitions(course: Course, shard_url: str, jobs: list[Job]) -> None:
    """Put the assignments, the shard's students and their extensions in the shard gradebook."""
    from nbgrader.api import Gradebook, MissingEntry

    assignments = sorted({j.assignment for j in jobs})
    with course.gradebook() as main, Gradebook(shard_url, course.course_id) as shard:
        for name in assignments:
            assignment = main.find_assignment(name)
            shard.update_or_create_assignment(name, duedate=assignment.duedate)
            for notebook in assignment.notebooks:
                shard.update_or_create_notebook(notebook.name, name, kernelspec=notebook.kernelspec)
                for cell in notebook.grade_cells:
                    shard.update_or_create_grade_cell(
                        cell.name,
                        notebook.name,
                        name,
                        max_score=cell.max_score,
                        cell_type=cell.cell_type,
                    )
                for cell in notebook.solution_cells:
                    shard.update_or_create_solution_cell(cell.name, notebook.name, name)
                for cell in notebook.task_cells:
                    shard.update_or_create_task_cell(
                        cell.name,
                        notebook.name,
                        name,
                        max_score=cell.max_score,
                        cell_type=cell.cell_type,
                    )
                for cell in notebook.source_cells:
                    shard.update_or_create_source_cell(
                        cell.name,
                        notebook.name,
                        name,
                        cell_type=cell.cell_type,
                        locked=cell.locked,
                        source=cell.source,
                        checksum=cell.checksum,
                    )
        for job in jobs:
            try:
                student = main.find_student(job.student)
            except MissingEntry:
                shard.update_or_create_student(job.student)
                continue
            fields = ("first_name", "last_name", "email", "lms_user_id")
            shard.update_or_create_student(job.student, **{f: getattr(student, f) for f in fields})
            try:
                submission = main.find_submission(job.assignment, job.student)
            except MissingEntry:
                continue
            if submission.extension is not None:
                shard.update_or_create_submission(
                    job.assignment, job.student, extension=submission.extension
                )


class _ErrorLog(logging.Handler):
    """Keeps nbgrader's error messages, to say why a submission could not be graded."""

    def __init__(self):
        super().__init__(logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def _failure_reason(messages: list[str], job: Job) -> str:
    key = os.path.join(job.student, job.assignment)
    for i, message in enumerate(messages):
        if "error processing assignment" in message and key in message:
            trace = messages[i + 1] if i + 1 < len(messages) else ""
            lines = [ln for ln in trace.strip().splitlines() if ln.strip()]
            return lines[-1][:300] if lines else message
    return "nbgrader could not grade it (see the shard log)"


def _zero_submission(gb, job: Job, timestamp) -> None:
    """A submission whose every grade is 0 and needs no manual grading (nbgrader's own
    treatment of a missing notebook), so the CSV shows a real 0, not a blank."""
    gb.update_or_create_student(job.student)
    kwargs = {"timestamp": timestamp} if timestamp is not None else {}
    submission = gb.update_or_create_submission(job.assignment, job.student, **kwargs)
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            grade.auto_score = 0.0
            grade.needs_manual_grade = False
    gb.db.commit()


def _autograde(course: Course, shard_root: Path, options: Options, events: Path) -> list[str]:
    """Run nbgrader's Autograde converter over the shard; return its error messages."""
    from nbgrader.converters import Autograde
    from nbgrader.coursedir import CourseDirectory

    from .execute import Preflight, answer_key_folder

    config = copy.deepcopy(course.config)
    config.Judge.answer_key = str(answer_key_folder(course.config))
    config.CourseDirectory.root = str(shard_root)
    config.CourseDirectory.db_url = f"sqlite:///{shard_root / 'gradebook.db'}"
    config.CourseDirectory.assignment_id = "*"
    config.CourseDirectory.student_id = "*"
    executor = config.JudgedExecute
    executor.submissions_root = str(shard_root / "submitted")
    executor.events_path = str(events)
    executor.sandbox_enabled = options.sandbox
    executor.memory_limit = options.memory
    executor.cpu_limit = options.cpu
    if options.timeout:
        config.Execute.timeout = options.timeout
    config.Autograde.pre_convert_hook = Preflight(config)

    coursedir = CourseDirectory(config=config)
    converter = Autograde(coursedir=coursedir, config=config)
    errors = _ErrorLog()
    converter.log.addHandler(errors)
    try:
        converter.start()
    except Exception as exc:  # NbGraderException after per-student failures, or no notebooks
        log.info("nbgrader reported: %s", exc)
    finally:
        converter.log.removeHandler(errors)
    return errors.messages


def _intake(course: Course, job: Job, shard_root: Path, notebooks: list[str]) -> tuple:
    """Copy one submission into the shard; (record, gradable notebooks), whatever it holds."""
    record = SubmissionRecord(job.student, job.assignment)
    src = course.path("submitted", job.student, job.assignment)
    dest = shard_root / "submitted" / job.student / job.assignment
    release = course.path("release", ".", job.assignment)
    try:
        prepared = prepare(src, dest, notebooks, release)
    except Exception as exc:  # prepare is meant to be total; one student never stops a shard
        shutil.rmtree(dest, ignore_errors=True)
        record.status = Status.NOT_GRADABLE
        record.reason = f"the submission could not be read ({type(exc).__name__}: {exc})"
        record.events.append(Event("invalid-notebook", record.reason))
        return record, []
    for event in prepared.issues:
        event.notebook = event.notebook or notebooks[0]
        record.events.append(event)
    if not prepared.gradable:  # nbgrader would skip the student: nothing to run
        shutil.rmtree(dest, ignore_errors=True)
        record.status = Status.NOT_GRADABLE
        record.reason = "no notebook of the submission can be graded"
    return record, prepared.gradable


def run_shard(
    course: Course, index: int, count: int, out: Path, options: Options
) -> list[SubmissionRecord]:
    """Grade shard ``index`` of ``count`` into ``out`` (see the module docstring)."""
    from nbgrader.api import Gradebook

    jobs = shard_of(plan(course, options), index, count)
    if out.exists():
        shutil.rmtree(out)
    shard_root = out / "course"
    (shard_root / "submitted").mkdir(parents=True)
    source = course.path("source")
    os.symlink(source, shard_root / course.coursedir.source_directory)
    shard_url = f"sqlite:///{shard_root / 'gradebook.db'}"
    _copy_definitions(course, shard_url, jobs)
    notebooks = course.notebooks()

    records: dict[Job, SubmissionRecord] = {}
    gradable: dict[Job, list[str]] = {}
    for job in jobs:
        records[job], gradable[job] = _intake(course, job, shard_root, notebooks[job.assignment])

    events = out / "events.jsonl"
    events.touch()
    messages = _autograde(course, shard_root, options, events) if any(gradable.values()) else []
    for line in events.read_text().splitlines():
        entry = json.loads(line)
        job = Job(entry["student"], entry["assignment"])
        if job in records:
            records[job].events += [Event(**e) for e in entry["events"]]
            records[job].failed += [Verdict(**v) for v in entry["failed"]]

    with Gradebook(shard_url, course.course_id) as gb:
        for job, record in records.items():
            graded = shard_root / "autograded" / job.student / job.assignment
            if gradable[job] and graded.is_dir():
                continue
            if gradable[job]:
                record.reason = _failure_reason(messages, job)
                record.events.append(Event("grading-failed", record.reason, gradable[job][0]))
                record.status = Status.FAILED
            timestamp = _timestamp(course.path("submitted", job.student, job.assignment))
            _zero_submission(gb, job, timestamp)
    report = sorted(records.values(), key=lambda r: (r.student, r.assignment))
    (out / "report.json").write_text(dump(report))
    (out / "stats.json").write_text(json.dumps({"peak_rss_bytes": peak_memory()}))
    return report


def peak_memory() -> int:
    """This process's peak resident memory, bytes (VmHWM): what grading a shard cost it."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


# ----------------------------------------------------------------------------- merging


def _merge_gradebook(course: Course, shard_url: str, jobs: list[Job]) -> None:
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    with (
        warnings.catch_warnings(),
        course.gradebook() as main,
        Gradebook(shard_url, course.course_id) as shard,
    ):
        # nbgrader's add_submission trips SQLAlchemy's autoflush warnings (as in stock autograde)
        warnings.simplefilter("ignore", SAWarning)
        for job in jobs:
            try:
                theirs = shard.find_submission(job.assignment, job.student)
            except MissingEntry:
                continue
            main.update_or_create_student(job.student)
            stamp = {"timestamp": theirs.timestamp} if theirs.timestamp is not None else {}
            main.update_or_create_submission(job.assignment, job.student, **stamp)
            for notebook in theirs.notebooks:
                target = main.find_submission_notebook(notebook.name, job.assignment, job.student)
                target.late_submission_penalty = notebook.late_submission_penalty
                for grade in notebook.grades:
                    mine = main.find_grade(grade.name, notebook.name, job.assignment, job.student)
                    mine.auto_score = grade.auto_score
                    mine.needs_manual_grade = grade.needs_manual_grade
                for comment in notebook.comments:
                    mine = main.find_comment(
                        comment.name, notebook.name, job.assignment, job.student
                    )
                    mine.auto_comment = comment.auto_comment
        main.db.commit()


def merge(course: Course, shard_dirs: list[Path]) -> list[SubmissionRecord]:
    """Merge graded shards into the course (see the module docstring); return the report.

    Holds the course's merge lock (``lock.py``: a file lock in the course directory and,
    on Postgres, a database lock), so two merges at once neither lose a report record nor
    race to create the same student.
    """
    from .lock import merge_lock

    reports = {shard: load((shard / "report.json").read_text()) for shard in shard_dirs}
    # a serial run creates students in sorted order, and grades.csv lists them in that order
    everyone = sorted({r.student for report in reports.values() for r in report})
    with merge_lock(course.root, course.db_url, course.course_id):
        with course.gradebook() as gb:
            for student in everyone:
                gb.update_or_create_student(student)
        records = []
        for shard, report in reports.items():
            jobs = [Job(r.student, r.assignment) for r in report]
            _merge_gradebook(course, f"sqlite:///{shard / 'course' / 'gradebook.db'}", jobs)
            for job in jobs:
                dest = course.path("autograded", job.student, job.assignment)
                if dest.exists():
                    shutil.rmtree(dest)
                graded = shard / "course" / "autograded" / job.student / job.assignment
                if graded.is_dir():
                    dest.parent.mkdir(parents=True, exist_ok=True)
                    shutil.move(str(graded), str(dest))
            records += report
        write_report(course, records)
    return records


def preflight(course: Course, options: Options) -> None:
    """Stop before any student is touched if the judge cannot run (see execute.Preflight)."""
    from .execute import Preflight

    config = copy.deepcopy(course.config)
    config.JudgedExecute.sandbox_enabled = options.sandbox
    Preflight(config)()


def grade(course: Course, options: Options, work: Path | None = None) -> list[SubmissionRecord]:
    """Grade every submission that needs it, on ``options.workers`` local shard processes or,
    with ``options.dask``, on a Dask cluster (``cluster.py``); then merge."""
    from tqdm.auto import tqdm

    preflight(course, options)
    jobs = plan(course, options)
    students = sorted({j.student for j in jobs})
    keep = work is not None
    work = Path(work or tempfile.mkdtemp(prefix="nnkit-grade-"))
    work.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tqdm(total=len(students), unit="student", desc="grading", mininterval=1.0) as bar:
        if options.dask:
            from .cluster import grade_on_cluster

            shards = grade_on_cluster(course, options, jobs, options.dask, work, bar)
        else:
            shards = _grade_locally(course, options, jobs, work, bar)
    records = merge(course, shards)
    stats = [s / "stats.json" for s in shards if (s / "stats.json").exists()]
    if stats:
        peak = max(json.loads(path.read_text())["peak_rss_bytes"] for path in stats)
        log.info("peak memory of a shard process: %.0f MiB", peak / 1024**2)
    log.info(
        "graded %d submissions of %d students in %.1f s (%s)",
        len(jobs),
        len(students),
        time.perf_counter() - started,
        f"Dask at {options.dask}" if options.dask else f"{len(shards)} local workers",
    )
    if not keep:
        shutil.rmtree(work, ignore_errors=True)
    return records


def _grade_locally(course: Course, options: Options, jobs: list[Job], work: Path, bar) -> list:
    """Run the shards as ``python -m nnkit.autograde shard`` processes, counting students done."""
    students = sorted({j.student for j in jobs})
    count = max(1, min(options.workers, len(students)))
    shards = [work / f"shard-{i}" for i in range(count)]
    env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1"}
    procs = []
    for i, shard in enumerate(shards):
        cmd = [sys.executable, "-m", "nnkit.autograde", "--course", str(course.root), "shard"]
        cmd += ["--index", str(i), "--of", str(count), "--out", str(shard), *options.as_args()]
        shard.parent.mkdir(parents=True, exist_ok=True)
        logfile = open(work / f"shard-{i}.log", "w")  # noqa: SIM115 - closed below
        proc = subprocess.Popen(cmd, stdout=logfile, stderr=subprocess.STDOUT, env=env)
        procs.append((proc, logfile))
    # a shard appends one line to its events file per notebook graded: that is the progress
    notebooks = course.notebooks()
    total_notebooks = sum(len(notebooks[j.assignment]) for j in jobs)
    while any(proc.poll() is None for proc, _ in procs):
        done = sum(_lines(shard / "events.jsonl") for shard in shards)
        bar.n = min(len(students), round(len(students) * done / max(1, total_notebooks)))
        bar.refresh()
        time.sleep(1.0)
    bar.n = len(students)
    bar.refresh()
    failed = []
    for i, (proc, logfile) in enumerate(procs):
        if proc.wait() != 0:
            failed.append(i)
        logfile.close()
    if failed:
        names = ", ".join(str(work / f"shard-{i}.log") for i in failed)
        raise RuntimeError(f"shard(s) {failed} failed; see {names}")
    return shards


def _lines(path: Path) -> int:
    try:
        with path.open("rb") as handle:
            return sum(1 for _ in handle)
    except OSError:
        return 0


__all__ = [
    "Course",
    "Job",
    "Options",
    "grade",
    "merge",
    "plan",
    "preflight",
    "run_shard",
    "shard_of",
]
