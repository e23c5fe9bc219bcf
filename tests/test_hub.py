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
import json
import os
import pwd
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from tests.autograde_corpus import release, solution_answers, total, written_total

pytestmark = pytest.mark.hub

ROOT = Path(__file__).resolve().parents[1]
VENV = Path(sys.prefix)
ASSIGNMENT, NOTEBOOK = "ps1_forward", "forward.ipynb"
# ps1's autograded points, and all its points: its written answers are graded by hand
AUTOGRADED = total(release(ASSIGNMENT))
POINTS = AUTOGRADED + written_total(release(ASSIGNMENT))
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
    assert os.geteuid() == 0, (
        "tests/test_hub.py needs root, as the hub does (Unix accounts, PostgreSQL as the "
        "postgres account, servers started as students); CI runs as root"
    )
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
    """A course directory as an instructor clones it: config, Makefile, solutions, release,
    the answer key.

    It has no .venv of its own: `make grade VENV=...` uses the course environment the hub
    runs on (copy2 keeps pyproject.toml older than that environment's install stamp).
    """
    dest.mkdir(parents=True)
    for name in ("nbgrader_config.py", "Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, dest / name)
    for name in ("solutions", "exercises", "grader"):
        shutil.copytree(ROOT / name, dest / name, copy_function=shutil.copy2)
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
    assert expected["s1"] == AUTOGRADED and expected["s2"] == 0 and 0 < expected["s3"] < AUTOGRADED

    # the Canvas CSV, read back from Postgres
    canvas = scratch / "merge" / "canvas.csv"
    lms = [str(VENV / "bin" / "python"), "-m", "nnkit.autograde.lms", "canvas"]
    run([*lms, "--course", str(course), "--to", str(canvas)], cwd=course, env=env)
    rows = read_csv(canvas)
    assert rows[0]["Student"].strip() == "Points Possible" and rows[0][ASSIGNMENT] == f"{POINTS:g}"
    assert {r["SIS Login ID"]: float(r[ASSIGNMENT]) for r in rows[1:]} == expected
    assert all(r["status"] for r in rows[1:])
    moodle = scratch / "merge" / "moodle.csv"
    run([*lms[:-1], "moodle", "--course", str(course), "--to", str(moodle)], cwd=course, env=env)
    assert {r["Username"]: float(r[ASSIGNMENT]) for r in read_csv(moodle)} == expected


def test_the_exchange_secret_is_not_an_extra_file(scratch):
    """What nbgrader's exchange puts beside a collected notebook (timestamp.txt and, since
    0.9, submission_secret.txt) is not the student's: the engine must not flag it."""
    from nnkit.autograde.submissions import prepare

    base = scratch / "secret"
    course = make_course(base / "course")
    exchange = base / "exchange"
    exchange.mkdir(mode=0o777)
    env = course_env(f"sqlite:///{base / 'gradebook.db'}")
    args = [f"--Exchange.root={exchange}", "--CourseDirectory.course_id=nnkit"]
    nbgrader = str(VENV / "bin" / "nbgrader")
    run([nbgrader, "generate_assignment", ASSIGNMENT, "--force"], cwd=course, env=env)
    run([nbgrader, "release_assignment", ASSIGNMENT, *args], cwd=course, env=env)
    student = base / "student"
    student.mkdir()
    run([nbgrader, "fetch_assignment", ASSIGNMENT, *args], cwd=student, env=env)
    run([nbgrader, "submit", ASSIGNMENT, *args], cwd=student, env=env)
    run([nbgrader, "collect", ASSIGNMENT, *args], cwd=course, env=env)
    (collected,) = (course / "submitted").iterdir()
    assert (collected / ASSIGNMENT / "submission_secret.txt").exists()
    prepared = prepare(
        collected / ASSIGNMENT, base / "out", ["forward"], course / "exercises" / ASSIGNMENT
    )
    assert [i.detail for i in prepared.issues if i.kind == "extra-files"] == []


# ----------------------------------------------------------------------------- the hub

INSTRUCTOR = "nkt-teach"
STUDENT_A, STUDENT_B, STUDENT_C = "nkt-ada", "nkt-ben", "nkt-cy"
GROUPS = {"instructors": "nkt-instructors", "students": "nkt-students"}
SPAWN_MS = 240_000  # a first login starts a JupyterLab; two shared cores make that slow
UI_MS = 60_000


def _processes_of(uid: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                if entry.stat().st_uid == uid:
                    pids.append(int(entry.name))
    return pids


def _remove_account(name: str) -> None:
    try:
        uid = pwd.getpwnam(name).pw_uid
    except KeyError:
        return
    # the hub stops every server it started; whatever survived a crash is ended here, by pid
    for pid in _processes_of(uid):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    subprocess.run(["userdel", "--remove", name], capture_output=True)


@contextlib.contextmanager
def unix_accounts(members: dict[str, str]) -> Iterator[dict[str, str]]:
    """Unix accounts {name: group} with home directories and random passwords (chpasswd);
    yields {name: password}; removed with their homes when the block exits."""
    for name in members:  # leftovers of a run that was killed
        _remove_account(name)
    for group in set(members.values()):
        subprocess.run(["groupdel", group], capture_output=True)
        run(["groupadd", group])
    passwords = {name: secrets.token_urlsafe(12) for name in members}
    try:
        for name, group in members.items():
            run(["useradd", "--create-home", "--shell", "/bin/bash", "--groups", group, name])
        lines = "".join(f"{n}:{p}\n" for n, p in passwords.items())
        run(["chpasswd"], input=lines)
        yield passwords
    finally:
        for name in members:
            _remove_account(name)
        for group in set(members.values()):
            subprocess.run(["groupdel", group], capture_output=True)


@contextlib.contextmanager
def traversable(*paths: Path) -> Iterator[None]:
    """Let every account pass through (not list) the directories above each of ``paths``.

    The course environment (.venv, nnkit/, hub/, and the Python the venv was made from) must
    be readable by the students' servers. A repository or a pyenv Python under /root (mode
    0700) is not: for the test's duration the directories above them get o+x, and get their
    modes back afterwards. A class installs the course in a world-readable place instead
    (docs/instructors.md, "Running a class").
    """
    changed = []
    parents = {p for path in paths for p in Path(path).resolve().parents}
    for parent in sorted(parents, key=lambda p: len(p.parts)):
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(stat.S_IMODE(mode) | stat.S_IXOTH)
            changed.append((parent, stat.S_IMODE(mode)))
    try:
        yield
    finally:
        for parent, mode in reversed(changed):
            parent.chmod(mode)


@dataclass
class Hub:
    url: str
    process: subprocess.Popen
    log: Path
    startup_seconds: float

    def log_tail(self, lines: int = 60) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def running_hub(env: dict[str, str], state: Path) -> Iterator[Hub]:
    """``jupyterhub -f hub/jupyterhub_config.py`` (as `make hub` runs it), in its own process
    group; stopped with SIGTERM (it stops every server it started and its proxy)."""
    from tests.browser.lab import stop

    proxy = ROOT / "hub" / "node_modules" / ".bin" / "configurable-http-proxy"
    assert proxy.exists(), "configurable-http-proxy missing: run `make hub-proxy`"
    log = state / "jupyterhub.log"
    started = time.monotonic()
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(VENV / "bin" / "jupyterhub"), "-f", str(ROOT / "hub" / "jupyterhub_config.py")],
            cwd=state,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    hub = Hub(env["NNKIT_HUB_URL"], process, log, 0.0)
    try:
        deadline = started + 120
        while True:
            assert process.poll() is None, f"jupyterhub exited:\n{hub.log_tail()}"
            assert time.monotonic() < deadline, f"jupyterhub did not answer:\n{hub.log_tail()}"
            try:
                with urllib.request.urlopen(f"{hub.url}/hub/api/", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.1)
        hub.startup_seconds = time.monotonic() - started
        yield hub
    finally:
        stop(process)


class Term:
    """One browser, used by each person in turn (log in, act, log out), and the screenshots."""

    def __init__(self, page, hub: Hub, passwords: dict[str, str]):
        self.page, self.hub, self.passwords = page, hub, passwords
        self.shots = 0
        self.timings: dict[str, float] = {}

    def shot(self, name: str) -> None:
        self.shots += 1
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(ARTIFACTS / f"{self.shots:02d}-{name}.png"))

    def login(self, user: str) -> None:
        """Log in through the hub's form; wait for the user's JupyterLab."""
        page = self.page
        page.goto(f"{self.hub.url}/hub/logout")
        page.goto(f"{self.hub.url}/hub/login")
        page.fill("#username_input", user)
        page.fill("#password_input", self.passwords[user])
        started = time.monotonic()
        page.click("#login_submit")
        page.wait_for_url(f"**/user/{user}/lab**", timeout=SPAWN_MS)
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for(timeout=SPAWN_MS)
        self.timings.setdefault(f"login to JupyterLab ({user})", time.monotonic() - started)

    def restart_server(self, user: str) -> None:
        """Stop and start the user's server from the hub's home page (Stop / Start My Server)."""
        page = self.page
        page.goto(f"{self.hub.url}/hub/home")
        page.click("#stop")
        page.locator("#start").wait_for(state="visible", timeout=UI_MS)
        page.wait_for_function(
            "() => !document.querySelector('#stop') || "
            "document.querySelector('#stop').offsetParent === null",
            timeout=UI_MS,
        )
        page.click("#start")
        page.wait_for_url(f"**/user/{user}/lab**", timeout=SPAWN_MS)
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").wait_for(timeout=SPAWN_MS)

    def menu(self, item: str) -> None:
        page = self.page
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
        page.locator(".lm-Menu-itemLabel", has_text=item).first.click()

    def menu_items(self) -> list[str]:
        page = self.page
        page.locator(".lm-MenuBar-itemLabel", has_text="Nbgrader").click()
        labels = page.locator(".lm-Menu-content .lm-Menu-itemLabel")
        labels.first.wait_for(timeout=UI_MS)
        items = labels.all_inner_texts()
        page.keyboard.press("Escape")
        return items

    def assignment_list(self):
        self.menu("Assignment List")
        released = self.page.locator("#released_assignments_list")
        released.wait_for(timeout=UI_MS)
        self.page.locator("#course_list_default", has_text="nnkit").wait_for(timeout=UI_MS)
        return released

    def contents(self, user: str, path: str, model: dict | None = None) -> dict:
        """GET (or PUT ``model``) ``path`` through the user's Jupyter contents API, from the
        page itself: the request carries the user's login cookie and the server's XSRF token."""
        js = """async ([url, body]) => {
            const m = document.cookie.match(/(?:^|; )_xsrf=([^;]*)/);
            const headers = {'Content-Type': 'application/json'};
            if (m) headers['X-XSRFToken'] = decodeURIComponent(m[1]);
            const init = body === null
                ? {headers} : {method: 'PUT', headers, body: JSON.stringify(body)};
            const r = await fetch(url, init);
            if (!r.ok) throw new Error(`${r.status} ${await r.text()}`);
            return await r.json();
        }"""
        url = f"/user/{user}/api/contents/{path}"
        return self.page.evaluate(js, [url, model])

    def write_notebook(self, user: str, path: str, nb: nbformat.NotebookNode) -> None:
        model = {"type": "notebook", "format": "json", "content": json.loads(nbformat.writes(nb))}
        self.contents(user, path, model)

    def read_notebook(self, user: str, path: str) -> nbformat.NotebookNode:
        return nbformat.from_dict(self.contents(user, path)["content"])


def as_user(user: str, command: list[str], env: dict[str, str], cwd: Path):
    """Run ``command`` as ``user`` (their HOME and USER set by runuser), like their terminal."""
    return run(["runuser", "-u", user, "--", *command], env=env, cwd=cwd)


def formgrader_action(page, row, action: str) -> None:
    """Click the formgrader's ``action`` icon in ``row``; fail with nbgrader's message if it
    answers with its error dialog, close its success dialog otherwise."""
    row.locator(f"td.{action} a").click()
    outcome = page.locator("#success-modal, #error-modal")
    outcome.wait_for(timeout=UI_MS * 3)
    if outcome.get_attribute("id") == "error-modal":
        pytest.fail(f"formgrader {action}: {outcome.inner_text()}")
    outcome.locator(".modal-footer button", has_text="OK").click()
    outcome.wait_for(state="detached")


def _cell_sources(nb: nbformat.NotebookNode) -> str:
    return "\n".join(c.source for c in nb.cells)


def test_a_term_on_the_hub(postgres, scratch, browser_executable):
    """Release, fetch, submit (twice, late), collect, `make grade`, feedback, Canvas CSV:
    the whole loop through the hub, by an instructor and three students in Chromium."""
    from tests.browser.lab import chromium

    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    url = postgres.database("term")
    members = {INSTRUCTOR: GROUPS["instructors"]}
    members |= dict.fromkeys((STUDENT_A, STUDENT_B, STUDENT_C), GROUPS["students"])
    exchange = scratch / "exchange"
    exchange.mkdir(mode=0o777)
    exchange.chmod(0o1777)  # nbgrader's exchange root: everyone writes, sticky (make hub does it)
    lectures = scratch / "lectures"  # the course's lectures as the hub hands them out
    shutil.copytree(ROOT / "lectures", lectures)
    state = scratch / "hub"
    state.mkdir()
    env = course_env(url) | {
        "NNKIT_HUB_URL": f"http://127.0.0.1:{free_port()}",
        "NNKIT_HUB_API_PORT": str(free_port()),
        "NNKIT_PROXY_API_PORT": str(free_port()),
        "NNKIT_HUB_STATE": str(state / "state"),
        "NNKIT_EXCHANGE": str(exchange),
        "NNKIT_LECTURES": str(lectures),
        "NNKIT_INSTRUCTORS": GROUPS["instructors"],
        "NNKIT_STUDENTS": GROUPS["students"],
    }
    timings: dict[str, float] = {}
    with (
        traversable(ROOT, Path(sys.base_prefix)),
        unix_accounts(members) as passwords,
        running_hub(env, state) as hub,
        chromium(scratch / "chromium", browser_executable) as browser,
    ):
        timings["hub start-up (process start to API answering)"] = hub.startup_seconds
        teach_home = Path(pwd.getpwnam(INSTRUCTOR).pw_dir)
        course = make_course(teach_home / "nnkit")
        run(["chown", "-R", f"{INSTRUCTOR}:{INSTRUCTOR}", str(course)])
        teach_env = {**env, "HOME": str(teach_home)}
        # the term starts with the roster in the gradebook (first, last, email)
        roster = course / "roster.csv"
        roster.write_text(
            "id,first_name,last_name,email\n"
            f"{STUDENT_A},Ada,Lovelace,ada@example.org\n"
            f"{STUDENT_B},Ben,Okafor,ben@example.org\n"
            f"{STUDENT_C},Cy,Young,cy@example.org\n"
        )
        nbgrader = str(VENV / "bin" / "nbgrader")
        as_user(INSTRUCTOR, [nbgrader, "db", "student", "import", str(roster)], teach_env, course)

        page = browser.new_page()
        page.set_default_timeout(UI_MS)
        term = Term(page, hub, passwords)
        try:
            _play_the_term(term, course, lectures, teach_env, timings)
        except Exception:
            with contextlib.suppress(Exception):
                term.shot("failure")
            print(hub.log_tail(120))
            raise
        finally:
            timings |= term.timings
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            (ARTIFACTS / "timings.json").write_text(json.dumps(timings, indent=1))
            print(json.dumps(timings, indent=1))


def _play_the_term(term: Term, course: Path, lectures: Path, teach_env, timings) -> None:
    page, hub = term.page, term.hub
    nbgrader = str(VENV / "bin" / "nbgrader")

    # -- the instructor releases ps1 from the formgrader -------------------------------------
    term.login(INSTRUCTOR)
    assert "Formgrader" in term.menu_items()
    term.menu("Formgrader")
    page.frame_locator("iframe").locator("body").wait_for(timeout=UI_MS)
    term.shot("instructor-formgrader-in-lab")
    page.goto(f"{hub.url}/user/{INSTRUCTOR}/formgrader/manage_assignments")
    row = page.locator("table tr", has=page.locator("td.name", has_text=ASSIGNMENT))
    for action in ("assign", "release"):  # generate the student version, then release it
        formgrader_action(page, row, action)
    row.locator("td.status", has_text="released").wait_for()
    term.shot("instructor-released-ps1")
    assert (Path(teach_env["NNKIT_EXCHANGE"]) / "nnkit" / "outbound" / ASSIGNMENT).is_dir()

    # -- student A: fetch, answer, submit; edits a lecture -----------------------------------
    term.login(STUDENT_A)
    assert "Formgrader" not in term.menu_items(), "students must not get the formgrader"
    assert page.request.get(f"{hub.url}/user/{STUDENT_A}/formgrader").status == 404
    released = term.assignment_list()
    term.shot("student-a-assignment-list")
    started = round_trip = time.monotonic()
    released.locator(".list_item", has_text=ASSIGNMENT).get_by_role("button", name="Fetch").click()
    fetched = page.locator("#fetched_assignments_list")
    submit = fetched.locator(".list_item", has_text=ASSIGNMENT).get_by_role("button", name="Submit")
    submit.wait_for()
    timings["fetch (click to downloaded)"] = time.monotonic() - started
    path = f"{ASSIGNMENT}/{NOTEBOOK}"
    term.write_notebook(STUDENT_A, path, answered(term.read_notebook(STUDENT_A, path)))
    started = time.monotonic()
    submit.click()
    submitted = page.locator("#submitted_assignments_list .nested_list_item")
    submitted.first.wait_for()
    timings["submit (click to listed as submitted)"] = time.monotonic() - started
    timings["round trip: Fetch, answers saved, Submit, listed"] = time.monotonic() - round_trip
    term.shot("student-a-submitted")
    # her notes in lecture 01, before the course updates it
    first = sorted(p.name for p in lectures.glob("*.ipynb"))[0]
    notes = term.read_notebook(STUDENT_A, f"lectures/{first}")
    notes.cells.append(nbformat.v4.new_markdown_cell("Ada's notes: ask about the bias term."))
    term.write_notebook(STUDENT_A, f"lectures/{first}", notes)

    # -- student B: a wrong answer, then a better one after the due date ---------------------
    term.login(STUDENT_B)
    released = term.assignment_list()
    released.locator(".list_item", has_text=ASSIGNMENT).get_by_role("button", name="Fetch").click()
    submit.wait_for()
    release_nb = term.read_notebook(STUDENT_B, path)
    wrong = copy.deepcopy(release_nb)
    for cell in wrong.cells:
        if cell.get("metadata", {}).get("nbgrader", {}).get("solution"):
            cell.source = cell.source.replace("raise NotImplementedError", "return None  #")
    term.write_notebook(STUDENT_B, path, wrong)
    submit.click()
    submitted.first.wait_for()
    # the instructor's due date passes between B's two submissions
    due = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
    as_user(
        INSTRUCTOR,
        [nbgrader, "db", "assignment", "add", ASSIGNMENT, f"--duedate={due}"],
        teach_env,
        course,
    )
    time.sleep(1.5)
    term.write_notebook(STUDENT_B, path, answered(release_nb, wrong=("sigmoid",)))
    submit.click()
    page.locator("#submitted_assignments_list .nested_list_item").nth(1).wait_for()
    term.shot("student-b-submitted-twice")

    # -- the course updates its lectures mid-term --------------------------------------------
    second = sorted(p.name for p in lectures.glob("*.ipynb"))[1]
    for name in (first, second):
        nb = nbformat.read(lectures / name, as_version=4)
        nb.cells.append(nbformat.v4.new_markdown_cell(f"Erratum for {name}."))
        nbformat.write(nb, lectures / name)
    shutil.copyfile(lectures / second, lectures / "99_extra.ipynb")

    # -- student C logs in, sees ps1, never submits ------------------------------------------
    term.login(STUDENT_C)
    term.assignment_list().locator(".list_item", has_text=ASSIGNMENT).wait_for()
    term.shot("student-c-never-submits")

    # -- the instructor collects and grades --------------------------------------------------
    term.login(INSTRUCTOR)
    page.goto(f"{hub.url}/user/{INSTRUCTOR}/formgrader/manage_assignments")
    formgrader_action(page, row, "collect")
    row.locator("td.num-submissions", has_text="2").wait_for()
    term.shot("instructor-collected")
    assert sorted(p.name for p in (course / "submitted").iterdir()) == [STUDENT_A, STUDENT_B]
    started = time.monotonic()
    as_user(INSTRUCTOR, ["make", "grade", "WORKERS=2", f"VENV={VENV}"], teach_env, course)
    timings["make grade (2 submissions, Postgres)"] = time.monotonic() - started
    for name in ("grades.csv", "grading-report.md"):
        shutil.copyfile(course / name, ARTIFACTS / name)
    page.reload()
    formgrader_action(page, row, "release-feedback")
    page.goto(f"{hub.url}/user/{INSTRUCTOR}/formgrader/manage_students")
    page.locator("td", has_text=STUDENT_C).first.wait_for()
    term.shot("instructor-students-after-make-grade")

    # the Canvas CSV, from the Postgres gradebook
    canvas = course / "canvas.csv"
    lms = [
        str(VENV / "bin" / "python"),
        "-m",
        "nnkit.autograde.lms",
        "canvas",
        "--to",
        "canvas.csv",
    ]
    as_user(INSTRUCTOR, lms, teach_env, course)
    rows = {r["SIS Login ID"]: r for r in read_csv(canvas)[1:]}
    assert sorted(rows) == [STUDENT_A, STUDENT_B, STUDENT_C]
    assert rows[STUDENT_A][ASSIGNMENT] == f"{AUTOGRADED:g}"
    report = {r["student"]: r for r in json.loads((course / "grading-report.json").read_text())}
    assert report[STUDENT_A]["events"] == []
    # every autograded point, and written answers waiting for the instructor
    assert rows[STUDENT_A]["status"] == f"{ASSIGNMENT}: needs manual grading"
    b_score = float(rows[STUDENT_B][ASSIGNMENT])
    assert 0 < b_score < AUTOGRADED, "B's second (better) submission is the one graded"
    assert rows[STUDENT_B]["status"].startswith(f"{ASSIGNMENT}: late")
    assert rows[STUDENT_C][ASSIGNMENT] == "0"
    assert rows[STUDENT_C]["status"] == f"{ASSIGNMENT}: not submitted"
    assert rows[STUDENT_A]["Student"] == "Lovelace, Ada"
    (ARTIFACTS / "canvas.csv").write_text(canvas.read_text())

    # -- A comes back: her server restarts with the updated course, then her feedback --------
    term.login(STUDENT_A)
    term.restart_server(STUDENT_A)
    mine = term.read_notebook(STUDENT_A, f"lectures/{first}")
    assert "Ada's notes" in _cell_sources(mine) and "Erratum" not in _cell_sources(mine)
    stem = first.removesuffix(".ipynb")
    theirs = term.read_notebook(STUDENT_A, f"lectures/{stem}.updated.ipynb")
    assert f"Erratum for {first}" in _cell_sources(theirs)
    assert f"Erratum for {second}" in _cell_sources(
        term.read_notebook(STUDENT_A, f"lectures/{second}")
    )
    term.read_notebook(STUDENT_A, "lectures/99_extra.ipynb")
    for student, score in (
        (STUDENT_A, f"{AUTOGRADED:.1f} / {POINTS:.1f}"),
        (STUDENT_B, f"{b_score:.1f} / {POINTS:.1f}"),
    ):
        if student != STUDENT_A:
            term.login(student)
        term.assignment_list()
        page.get_by_role("button", name="Fetch Feedback").first.click()
        # "(view feedback)" opens the feedback folder in the file browser
        view = page.locator("#submitted_assignments_list a", has_text="view feedback").first
        view.click()
        page.locator(".jp-DirListing-item", has_text="forward.html").dblclick()
        html = page.frame_locator(".jp-HTMLViewer iframe")
        html.get_by_text(f"(Score: {score})").first.wait_for()
        term.shot(f"{student}-fetched-feedback")

    term.login(STUDENT_C)
    term.assignment_list()
    assert page.locator("#submitted_assignments_list .nested_list_item").count() == 0
    term.shot("student-c-nothing-submitted")


def test_merge_lock_serialises_merges_by_file_and_by_database(postgres, scratch):
    """nnkit.autograde.lock.merge_lock: a second holder waits for the first, whether they
    share the course directory (flock) or only the Postgres gradebook (advisory lock)."""
    import threading

    from nnkit.autograde.lock import merge_lock

    url = postgres.database("locks")
    roots = [scratch / "lock-a", scratch / "lock-b"]
    for root in roots:
        root.mkdir()
    for first, second in ((roots[0], roots[0]), (roots[0], roots[1])):
        events: list[str] = []
        held = threading.Event()

        def hold(root=first, events=events, held=held):
            with merge_lock(root, url, "nnkit"):
                events.append("first in")
                held.set()
                time.sleep(1.0)
                events.append("first out")

        def wait(root=second, events=events, held=held):
            held.wait(30)
            with merge_lock(root, url, "nnkit"):
                events.append("second in")

        threads = [threading.Thread(target=hold), threading.Thread(target=wait)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert events == ["first in", "first out", "second in"], (first, second)


def test_lecture_updates_keep_a_students_edits(tmp_path):
    """hub/singleuser.py's rule: copy what is missing, update what the student left alone,
    never overwrite an edit (the course's new version goes beside it)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("hub_singleuser", ROOT / "hub" / "singleuser.py")
    singleuser = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(singleuser)
    course, home = tmp_path / "course", tmp_path / "home"
    course.mkdir()
    (course / "a.ipynb").write_text("a1")
    (course / "b.ipynb").write_text("b1")
    (course / ".ipynb_checkpoints").mkdir()
    (course / ".ipynb_checkpoints" / "a-checkpoint.ipynb").write_text("x")
    assert singleuser.sync_lectures(course, home) == {"a.ipynb": "copied", "b.ipynb": "copied"}
    assert not (home / "lectures" / ".ipynb_checkpoints").exists()
    assert singleuser.sync_lectures(course, home) == {}

    (home / "lectures" / "a.ipynb").write_text("a1 + my notes")
    (course / "a.ipynb").write_text("a2")
    (course / "b.ipynb").write_text("b2")
    (course / "c.ipynb").write_text("c1")
    assert singleuser.sync_lectures(course, home) == {
        "a.ipynb": "kept yours",
        "b.ipynb": "updated",
        "c.ipynb": "copied",
    }
    lectures = home / "lectures"
    assert (lectures / "a.ipynb").read_text() == "a1 + my notes"
    assert (lectures / "a.updated.ipynb").read_text() == "a2"
    assert (lectures / "b.ipynb").read_text() == "b2"
    assert (lectures / "c.ipynb").read_text() == "c1"
    assert singleuser.sync_lectures(course, home) == {}
