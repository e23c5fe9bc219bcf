"""Grading on a Dask cluster: one task per student, results back as data, one merge at the client.

``python -m nnkit.autograde grade --dask ADDRESS`` (``make grade DASK=ADDRESS``) connects
to a running Dask scheduler (a ``LocalCluster``, an SSH cluster, ``dask-jobqueue`` on
Slurm or PBS: anything with an address) and grades there:

1. the client checks every worker first: one whose Python, nnkit, nbgrader or
   bubblewrap differs from the client's is refused by name, and no task is sent;
2. the course travels as data, once: ``nbgrader_config.py``, the sources, the
   answer key and a gradebook holding only the assignments' definitions (a
   worker never needs the course's database, Postgres or not);
3. each student is one task: the worker writes the student's submitted files
   into a scratch copy of the course and grades them with ``python -m
   nnkit.autograde shard`` (the sandbox and the judge, as on one machine), then
   returns the shard folder as a tar archive: grades, autograded notebooks and
   report rows;
4. only the client writes: it unpacks each archive and merges it into the
   course's gradebook (sqlite or Postgres) and ``autograded/``, exactly as a
   local ``grade`` does.

A worker that dies mid-task has its task re-run elsewhere by the scheduler; a
result is merged once, whoever produced it. A student whose task kills its
worker twice is graded ``failed`` with that reason, and the rest of the class
finishes (the scheduler's ``allowed_failures`` is set to 1 while the grader is
connected, and put back afterwards). Workers need the course's environment (the same ``.venv``) and
bubblewrap; docs/instructors.md has the one-line worker command.
"""

from __future__ import annotations

import hashlib
import io
import os
import platform
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

from .records import Event, Status, SubmissionRecord

# a task whose worker died this many times is not retried again
ALLOWED_FAILURES = 1


def _digest() -> str:
    """A hash of nnkit's source as this process loaded it."""
    digest = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted(package.rglob("*.py")):
        digest.update(path.relative_to(package).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


# taken at import: a worker still running older code than its files is caught too
NNKIT_DIGEST = _digest()


def environment() -> dict[str, str]:
    """What must be identical on the client and every worker."""
    import nbgrader

    import nnkit

    from .sandbox import Sandbox, SandboxUnavailableError, sandbox_works

    try:
        sandbox = sandbox_works(Sandbox()) or "works"
    except SandboxUnavailableError as exc:
        sandbox = str(exc)
    return {
        "python": platform.python_version(),
        "nnkit": f"{getattr(nnkit, '__version__', '?')} ({NNKIT_DIGEST})",
        "nbgrader": nbgrader.__version__,
        "sandbox": sandbox if sandbox == "works" else f"does not start: {sandbox[:200]}",
    }


def check_workers(client) -> int:
    """Refuse the cluster if any worker's environment differs; return the number of workers."""
    from .judge import JudgeUnavailableError

    mine = environment()
    theirs = client.run(environment)
    if not theirs:
        raise JudgeUnavailableError("the Dask cluster has no workers")
    for worker, found in sorted(theirs.items()):
        differ = {k: (mine[k], found.get(k)) for k in mine if found.get(k) != mine[k]}
        if differ:
            details = "; ".join(f"{k}: here {a}, there {b}" for k, (a, b) in differ.items())
            raise JudgeUnavailableError(
                f"worker {worker} differs from this machine ({details}): start every worker "
                "from the course's environment (docs/instructors.md, 'Grading on a cluster')"
            )
    return len(theirs)


def _tar(paths: dict[str, Path]) -> bytes:
    """A gzip tar of ``{name in archive: path}`` (symlinks stored as links, never followed)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, path in paths.items():
            if path.exists():
                archive.add(path, arcname=name)
    return buffer.getvalue()


def _untar(data: bytes, dest: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
        archive.extractall(dest, filter="data")  # refuses links and paths out of dest


def course_bundle(course, jobs) -> bytes:
    """The course as data: config, sources, release, answer key, the assignments' definitions."""
    from .engine import _copy_definitions
    from .execute import answer_key_folder

    with tempfile.TemporaryDirectory(prefix="nnkit-bundle-") as tmp:
        definitions = Path(tmp) / "gradebook.db"
        _copy_definitions(course, f"sqlite:///{definitions}", jobs)
        return _tar(
            {
                "nbgrader_config.py": course.root / "nbgrader_config.py",
                course.coursedir.source_directory: course.path("source"),
                course.coursedir.release_directory: course.path("release"),
                "grader": answer_key_folder(course.config),
                "gradebook.db": definitions,
            }
        )


def grade_student(bundle: bytes, student: str, files: bytes, args: list[str]) -> bytes:
    """The task: grade one student's submissions in a scratch course; the shard as a tar."""
    with tempfile.TemporaryDirectory(prefix="nnkit-task-") as tmp:
        root = Path(tmp) / "course"
        _untar(bundle, root)
        _untar(files, root / "submitted" / student)
        out = Path(tmp) / "shard"
        cmd = [sys.executable, "-m", "nnkit.autograde", "--course", str(root),
               "--db-url", f"sqlite:///{root / 'gradebook.db'}",
               "shard", "--index", "0", "--of", "1", "--out", str(out), *args]  # fmt: skip
        env = {**os.environ, "JUPYTER_PLATFORM_DIRS": "1"}
        env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
        done = subprocess.run(cmd, cwd=root, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            raise RuntimeError(f"grading {student} failed: {(done.stdout + done.stderr)[-1500:]}")
        # what the merge reads; not the shard's link to the sources
        keep = ["report.json", "stats.json", "course/gradebook.db", "course/autograded"]
        return _tar({f"shard/{name}": out / name for name in keep})


def grade_on_cluster(course, options, jobs, address: str, work: Path, progress) -> list[Path]:
    """Grade ``jobs`` on the Dask cluster at ``address``; return the shard folders to merge."""
    from distributed import Client

    students = sorted({j.student for j in jobs})
    args = options.as_args()
    shards, failed = [], []
    with Client(address, set_as_default=False) as client:
        check_workers(client)
        before = client.run_on_scheduler(_set_allowed_failures, value=ALLOWED_FAILURES)
        try:
            _run_tasks(client, course, jobs, students, args, work, progress, shards, failed)
        finally:
            client.run_on_scheduler(_set_allowed_failures, value=before)
    if failed:
        shards.append(_failed_shard(course, jobs, failed, work / "failed"))
    return shards


def _set_allowed_failures(value: int, dask_scheduler=None) -> int:
    """Runs on the scheduler: how often a task may be on a dying worker; returns the old value."""
    before = dask_scheduler.allowed_failures
    dask_scheduler.allowed_failures = value
    return before


def _run_tasks(client, course, jobs, students, args, work, progress, shards, failed) -> None:
    """Submit one task per student; unpack each result as it comes (``shards``, ``failed``)."""
    from distributed import as_completed

    bundle = client.scatter(course_bundle(course, jobs), broadcast=True)
    futures = {}
    for student in students:
        files = _tar({".": course.path("submitted", student)})
        # pure=False: a student graded twice in one run is two tasks, never a cached result
        future = client.submit(grade_student, bundle, student, files, args, pure=False,
                               key=f"grade-{student}-{os.urandom(4).hex()}")  # fmt: skip
        futures[future] = student
    for future in as_completed(futures, loop=client.loop):
        student = futures[future]
        shard = work / f"student-{len(shards) + len(failed):05d}"
        try:
            _untar(future.result(), shard)
            shards.append(shard / "shard")
        except Exception as exc:  # KilledWorker, or the task's own failure
            failed.append((student, _reason(exc)))
        progress.update(1)


def _reason(exc: BaseException) -> str:
    if type(exc).__name__ == "KilledWorker":
        return (
            f"grading this student killed its Dask worker {ALLOWED_FAILURES + 1} times; "
            "graded 0, the rest of the class went on"
        )
    return f"{type(exc).__name__}: {exc}"[:500]


def _failed_shard(course, jobs, failed: list[tuple[str, str]], folder: Path) -> Path:
    """A shard folder in which each failed student's work is graded 0 with the reason."""
    from nbgrader.api import Gradebook

    from .engine import _copy_definitions, _timestamp, _zero_submission
    from .records import dump

    root = folder / "course"
    root.mkdir(parents=True)
    url = f"sqlite:///{root / 'gradebook.db'}"
    reasons = dict(failed)
    mine = [j for j in jobs if j.student in reasons]
    _copy_definitions(course, url, mine)
    records = []
    with Gradebook(url, course.course_id) as gb:
        for job in mine:
            stamp = _timestamp(course.path("submitted", job.student, job.assignment))
            _zero_submission(gb, job, stamp)
            record = SubmissionRecord(job.student, job.assignment, Status.FAILED)
            record.reason = reasons[job.student]
            record.events.append(Event("grading-failed", record.reason))
            records.append(record)
    (folder / "report.json").write_text(dump(records))
    return folder


__all__ = ["check_workers", "course_bundle", "environment", "grade_on_cluster", "grade_student"]
