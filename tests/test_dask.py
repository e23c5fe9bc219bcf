"""Grading on a real Dask cluster: the same grades as one machine, and no student lost or doubled.

Each test starts a ``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1,
each worker in a working directory of its own, and grades a small class with
``python -m nnkit.autograde grade --dask ADDRESS``:

- the grades, autograded notebooks and CSV equal those of local grading, even when
  one worker is killed while it grades (its students are graded elsewhere, once);
- a submission that kills its worker (possible only without the sandbox, so that
  run uses ``--no-sandbox``) is graded ``failed`` after two tries, and everyone
  else is graded.
"""

from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.autograde_corpus import NOTEBOOKS, after_imports, cases, correct, dumps

pytestmark = [pytest.mark.grading, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
ENV = {
    **os.environ,
    "JUPYTER_PLATFORM_DIRS": "1",
    "PATH": str(BIN) + os.pathsep + os.environ.get("PATH", ""),
}
# kills the Dask worker that grades it: walks up from the kernel to the shard process
KILL_MY_WORKER = """\
import os
import signal

pid = os.getpid()
while pid > 1:
    with open(f"/proc/{pid}/cmdline", "rb") as handle:
        command = handle.read()
    with open(f"/proc/{pid}/stat") as handle:
        parent = int(handle.read().rsplit(")", 1)[1].split()[1])
    if b"nnkit.autograde" in command and b"shard" in command:
        os.kill(parent, signal.SIGKILL)
        break
    pid = parent
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    """A scheduler and two workers, each a process group of its own."""

    def __init__(self, base: Path):
        self.address = f"tcp://127.0.0.1:{_free_port()}"
        self.logs = []
        port = self.address.rsplit(":", 1)[1]
        scheduler = [BIN / "dask", "scheduler", "--host", "127.0.0.1", "--port", port]
        self.procs = [self._start([*scheduler, "--no-dashboard"], base / "scheduler")]
        self.workers = []
        for i in range(2):
            folder = base / f"worker-{i}"
            cmd = [BIN / "dask", "worker", self.address, "--nthreads", "1", "--nworkers", "1",
                   "--no-dashboard", "--local-directory", folder]  # fmt: skip
            self.workers.append(self._start(cmd, folder))
        self.procs += self.workers
        from distributed import Client

        with Client(self.address, timeout=60) as client:
            client.wait_for_workers(2, timeout=120)

    def _start(self, cmd: list, folder: Path) -> subprocess.Popen:
        folder.mkdir(parents=True)
        log = (folder / "log.txt").open("w")
        self.logs.append(log)
        return subprocess.Popen(
            [str(c) for c in cmd], cwd=folder, env=ENV, stdout=log, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def kill_worker_when_busy(self, index: int) -> threading.Thread:
        """Kill worker ``index`` (nanny and all) as soon as it is grading someone."""
        from distributed import Client

        def watch():
            with Client(self.address, timeout=60) as client:
                for _ in range(600):
                    busy = client.processing()
                    mine = [w for w, keys in busy.items() if keys]
                    if len(mine) == 2:  # both are grading: kill one of them mid-task
                        time.sleep(2)
                        os.killpg(self.workers[index].pid, signal.SIGKILL)
                        return
                    time.sleep(0.2)

        thread = threading.Thread(target=watch, daemon=True)
        thread.start()
        return thread

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        for log in self.logs:
            log.close()


@pytest.fixture
def cluster(tmp_path):
    running = Cluster(tmp_path / "cluster")
    yield running
    running.stop()


def _course(base: Path, submissions: dict) -> Path:
    template = base / "template"
    if not template.exists():
        template.mkdir(parents=True)
        for name in ("nbgrader_config.py",):
            (template / name).write_bytes((ROOT / name).read_bytes())
        for folder in ("solutions", "grader"):
            subprocess.run(["cp", "-r", str(ROOT / folder), str(template / folder)], check=True)
        subprocess.run([str(BIN / "nbgrader"), "generate_assignment", "*", "--force"],
                       cwd=template, env=ENV, check=True, capture_output=True)  # fmt: skip
    course = base / f"course-{len(list(base.iterdir()))}"
    subprocess.run(["cp", "-r", str(template), str(course)], check=True)
    for (student, assignment), make in submissions.items():
        folder = course / "submitted" / student / assignment
        folder.mkdir(parents=True)
        for name, data in make(course).items():
            (folder / name).write_bytes(data)
    return course


def _grade(course: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "nnkit.autograde", "grade", "--force", "--timeout", "20", *args]
    done = subprocess.run(cmd, cwd=course, env=ENV, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return done


def _results(course: Path) -> tuple:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "nnkit") as gb:
        scores = sorted(
            (s.student_id, s.assignment.name, g.name, g.auto_score)
            for a in gb.assignments
            for s in gb.assignment_submissions(a.name)
            for nb in s.notebooks
            for g in nb.grades
        )
    outputs = {}
    for path in sorted((course / "autograded").rglob("*.ipynb")):
        nb = nbformat.read(path, 4)
        outputs[str(path.relative_to(course))] = [
            [{k: v for k, v in o.items() if k != "execution_count"} for o in c.get("outputs", [])]
            for c in nb.cells
        ]
    subprocess.run([str(BIN / "nbgrader"), "export", "--to", "out.csv",
                    "--exporter=nnkit.autograde.report.CsvWithFlags"],
                   cwd=course, env=ENV, check=True, capture_output=True)  # fmt: skip
    with (course / "out.csv").open(newline="") as handle:
        rows = sorted(map(tuple, csv.reader(handle)))
    return scores, outputs, rows


def _class() -> dict:
    honest = cases.good()
    submissions = {(s, a): build for s, work in honest.items() for a, build in work.items()}
    chosen = {"os_exit", "delegates", "renamed"}
    for case in cases.cases(1):
        if case.student in chosen:
            submissions[(case.student, case.assignment)] = case.build
    for k in range(3):  # more students than workers, so a killed worker had work queued
        submissions[(f"extra{k}", "ps1_forward")] = lambda c: {
            "forward.ipynb": dumps(correct("ps1_forward", c))
        }
    return submissions


def test_a_dask_cluster_grades_as_one_machine_even_when_a_worker_dies(cluster, tmp_path):
    submissions = _class()
    local = _course(tmp_path / "courses", submissions)
    _grade(local, "--workers", "2")
    remote = _course(tmp_path / "courses", submissions)
    killer = cluster.kill_worker_when_busy(0)
    _grade(remote, "--dask", cluster.address)
    killer.join(timeout=5)
    assert cluster.workers[0].poll() is not None, "the worker was never killed mid-task"
    local_results, remote_results = _results(local), _results(remote)
    assert remote_results[0] == local_results[0]  # every grade, once (sorted rows, no doubles)
    assert remote_results[1] == local_results[1]  # every autograded notebook
    assert remote_results[2] == local_results[2]  # the CSV, status and flags included
    students = {(s, a) for s, a, _, _ in remote_results[0]}
    assert students == set(submissions)


def test_a_submission_that_kills_its_worker_fails_after_two_tries(cluster, tmp_path):
    submissions = {
        ("good_a", "ps1_forward"): lambda c: {"forward.ipynb": dumps(correct("ps1_forward", c))},
        ("killer", "ps1_forward"): lambda c: {
            "forward.ipynb": dumps(after_imports(correct("ps1_forward", c), KILL_MY_WORKER))
        },
    }
    course = _course(tmp_path / "courses", submissions)
    _grade(course, "--dask", cluster.address, "--no-sandbox")
    from nnkit.autograde import report

    records = report.read(course)
    killer, honest = records[("killer", "ps1_forward")], records[("good_a", "ps1_forward")]
    assert killer.status == "failed" and killer.score == 0
    assert "killed its Dask worker 2 times" in killer.reason
    # every autograded point; max_score also counts the 2 written points, graded by hand
    assert honest.status == "ok" and honest.score == 14 and honest.max_score == 16
    assert NOTEBOOKS["ps1_forward"] == "forward"
