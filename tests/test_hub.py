"""The course on a JupyterHub, tested the way a class uses it (hub/, docs/instructors.md).

Everything here is real and started by the test itself: Debian's PostgreSQL server on a
temporary data directory (127.0.0.1 and a private unix socket only), JupyterHub with its
npm proxy on loopback ports, Unix accounts for one instructor and three students (created
with useradd, passwords set with chpasswd, removed afterwards), nbgrader's exchange in a
temporary directory, `make grade`'s sandboxed engine, and Chromium driven by Playwright.
The tests need root, as the hub does; CI runs as root.

Screenshots of every step of the term go to test-artifacts/hub/.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import io
import os
import pwd
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from tests.autograde_corpus import solution_answers

pytestmark = pytest.mark.hub

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)
ASSIGNMENT, NOTEBOOK = "ps1_forward", "forward.ipynb"
ARTIFACTS = ROOT / "test-artifacts" / "hub"


def _pg_bin() -> Path:
    """The newest PostgreSQL server binaries Debian installed (/usr/lib/postgresql/<v>/bin)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"), key=lambda p: int(p.parts[-3]))
    assert found, "PostgreSQL server not installed: apt-get install postgresql (.ci/run does)"
    return found[-1].parent


def run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run ``command``; on failure the assertion shows its output."""
    kwargs.setdefault("capture_output", True)
    kwargs.setdefault("text", True)
    result = subprocess.run(command, check=False, **kwargs)
    assert result.returncode == 0, (
        f"{' '.join(map(str, command))} exited {result.returncode}\n"
        f"{result.stdout[-3000:] if result.stdout else ''}\n"
        f"{result.stderr[-3000:] if result.stderr else ''}"
    )
    return result


# ----------------------------------------------------------------------------- PostgreSQL


@dataclass
class Postgres:
    """A running PostgreSQL server of the test's own, owned by the ``postgres`` account."""

    bin: Path
    data: Path
    socket_dir: Path
    port: int
    password: str

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run ``sql`` as the server's superuser over its private unix socket."""
        command = [str(self.bin / "psql"), "-h", str(self.socket_dir), "-p", str(self.port)]
        command += ["-U", "postgres", "-d", database, "-Atq", "-v", "ON_ERROR_STOP=1", "-c", sql]
        return run(["runuser", "-u", "postgres", "--", *command]).stdout.strip()

    def database(self, name: str) -> str:
        """A new database owned by the graders' role; its SQLAlchemy URL over 127.0.0.1."""
        self.psql(f"CREATE DATABASE {name} OWNER nnkit")
        return f"postgresql://nnkit:{self.password}@127.0.0.1:{self.port}/{name}"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def running_postgres(base: Path) -> Iterator[Postgres]:
    """initdb + pg_ctl start on ``base``; stopped (fast) and removed when the block exits.

    Local (socket) logins are ``peer``: only the postgres account gets in that way. TCP
    logins are on 127.0.0.1 only and need a SCRAM password: the graders' role ``nnkit``.
    """
    pg = _pg_bin()
    owner = pwd.getpwnam("postgres")
    base.mkdir(parents=True)
    os.chown(base, owner.pw_uid, owner.pw_gid)
    server = Postgres(pg, base / "data", base / "socket", free_port(), secrets.token_hex(12))
    server.socket_dir.mkdir(mode=0o700)
    os.chown(server.socket_dir, owner.pw_uid, owner.pw_gid)
    as_pg = ["runuser", "-u", "postgres", "--"]
    run(
        [
            *as_pg,
            str(pg / "initdb"),
            "-D",
            str(server.data),
            "-U",
            "postgres",
            "--auth-local=peer",
            "--auth-host=scram-sha-256",
            "--no-sync",
            "-E",
            "UTF8",
        ]
    )
    options = (
        f"-c listen_addresses=127.0.0.1 -p {server.port} "
        f"-c unix_socket_directories={server.socket_dir} -c fsync=off"
    )
    log = base / "postgres.log"
    started = False
    try:
        run(
            [
                *as_pg,
                str(pg / "pg_ctl"),
                "-D",
                str(server.data),
                "-l",
                str(log),
                "-o",
                options,
                "-w",
                "-t",
                "60",
                "start",
            ]
        )
        started = True
        server.psql(f"CREATE ROLE nnkit LOGIN PASSWORD '{server.password}'")
        yield server
    finally:
        if started:
            subprocess.run(
                [*as_pg, str(pg / "pg_ctl"), "-D", str(server.data), "-m", "fast", "-w", "stop"],
                capture_output=True,
            )
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def scratch() -> Iterator[Path]:
    """A temporary directory every test account can traverse (pytest's tmp_path is 0700)."""
    base = Path(tempfile.mkdtemp(prefix="nnkit-hub-"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.fixture(scope="module")
def postgres(scratch) -> Iterator[Postgres]:
    with running_postgres(scratch / "postgres") as server:
        yield server


# ----------------------------------------------------------------------------- the course


def make_course(dest: Path) -> Path:
    """A course directory as an instructor clones it: config, Makefile, solutions, release.

    The environment is the repository's own .venv (a symlink), so `make grade` runs here
    without installing anything; copy2 keeps pyproject.toml older than .venv's stamp.
    """
    dest.mkdir(parents=True)
    for name in ("nbgrader_config.py", "Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("solutions", "exercises"):
        shutil.copytree(ROOT / name, dest / name, copy_function=shutil.copy2)
    (dest / ".venv").symlink_to(VENV)
    return dest


def answered(nb: nbformat.NotebookNode, wrong: tuple[str, ...] = ()) -> nbformat.NotebookNode:
    """``nb`` (a student's release) with the instructor's answers, except the ``wrong`` ones,
    which keep the release's stub (it raises NotImplementedError)."""
    nb = copy.deepcopy(nb)
    answers = solution_answers(ASSIGNMENT)
    for cell in nb.cells:
        grade_id = cell.get("metadata", {}).get("nbgrader", {}).get("grade_id")
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution") and grade_id not in wrong:
            cell.source = answers[grade_id]
    return nb


def course_env(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    env.pop("MPLBACKEND", None)
    env.update(
        NNKIT_GRADEBOOK_URL=db_url,
        JUPYTER_PLATFORM_DIRS="1",
        PATH=f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    return env


def submission_counts(pg: Postgres, database: str) -> dict[str, int]:
    """{student: number of submitted_assignment rows}, straight from Postgres."""
    out = pg.psql(
        "SELECT student_id, count(*) FROM submitted_assignment GROUP BY student_id", database
    )
    return {s: int(n) for s, n in (line.split("|") for line in out.splitlines() if line)}


def read_csv(path: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(path.read_text())))


# ----------------------------------------------------------------------------- grading


def test_two_merges_at_once_keep_every_grade_in_postgres(postgres, scratch):
    """Two graders merge their shards into one Postgres gradebook at the same moment: every
    student's grade lands exactly once, equal to the shard's, and the Canvas CSV reads it."""
    url = postgres.database("merge_race")
    course = make_course(scratch / "merge" / "course")
    env = course_env(url)
    nbgrader = [str(VENV / "bin" / "nbgrader")]
    run([*nbgrader, "generate_assignment", ASSIGNMENT, "--force"], cwd=course, env=env)
    release = nbformat.read(course / "exercises" / ASSIGNMENT / NOTEBOOK, as_version=4)
    work = {
        "s1": answered(release),
        "s2": release,
        "s3": answered(release, wrong=("sigmoid",)),
        "s4": answered(release, wrong=("softmax", "relu")),
    }
    for student, nb in work.items():
        folder = course / "submitted" / student / ASSIGNMENT
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / NOTEBOOK)
        (folder / "timestamp.txt").write_text("2026-11-01 10:00:00.000000 UTC")

    autograde = [str(VENV / "bin" / "python"), "-m", "nnkit.autograde", "--course", str(course)]
    shards = [scratch / "merge" / f"shard-{i}" for i in range(2)]
    graders = [
        subprocess.Popen(
            [*autograde, "shard", "--index", str(i), "--of", "2", "--out", str(shard)],
            cwd=course,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i, shard in enumerate(shards)
    ]
    for grader in graders:
        out, _ = grader.communicate(timeout=600)
        assert grader.returncode == 0, out[-3000:]

    # what each shard graded, from its own sqlite gradebook
    from nbgrader.api import Gradebook

    expected = {}
    for shard in shards:
        with Gradebook(f"sqlite:///{shard / 'course' / 'gradebook.db'}", "nnkit") as gb:
            for submission in gb.assignment_submissions(ASSIGNMENT):
                expected[submission.student.id] = submission.score
    assert sorted(expected) == sorted(work)

    merges = [
        subprocess.Popen(
            [*autograde, "merge", str(shard)],
            cwd=course,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for shard in shards
    ]
    for merge in merges:
        out, _ = merge.communicate(timeout=300)
        assert merge.returncode == 0, out[-3000:]

    assert submission_counts(postgres, "merge_race") == dict.fromkeys(work, 1)
    with Gradebook(url, "nnkit") as gb:
        merged = {s.student.id: s.score for s in gb.assignment_submissions(ASSIGNMENT)}
    assert merged == expected
    assert expected["s1"] == 14 and expected["s2"] == 0 and 0 < expected["s3"] < 14

    # the Canvas CSV, read back from Postgres
    canvas = scratch / "merge" / "canvas.csv"
    lms = [str(VENV / "bin" / "python"), "-m", "nnkit.autograde.lms", "canvas"]
    run([*lms, "--course", str(course), "--to", str(canvas)], cwd=course, env=env)
    rows = read_csv(canvas)
    assert rows[0]["Student"].strip() == "Points Possible" and rows[0][ASSIGNMENT] == "14"
    assert {r["SIS Login ID"]: float(r[ASSIGNMENT]) for r in rows[1:]} == expected
    assert all(r["status"] for r in rows[1:])
