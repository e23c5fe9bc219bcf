"""The autograding engine against a class of broken and hostile submissions.

One course is built from the repository's problem sets (``nbgrader
generate_assignment`` in a temporary directory). Honest students and every case
of ``tests/autograde_corpus/cases.py`` are graded together, in one run of
``python -m nnkit.autograde grade`` with two workers, the sandbox and the judge,
with a secret planted in the grader's environment. Then:

- each hostile case has exactly its expected score, status and flags: attacks on
  the judge (the answer key, the caller's frames, forged replies, lying objects)
  earn nothing on the checks they attack, and delegation to a library is flagged;
- the honest students' grades and CSV rows are exactly what stock
  ``nbgrader autograde`` gives them in a course of their own, with the hidden
  tests run in the kernel the old way (``stock.py``);
- the same honest students graded as two shards by separate ``shard`` commands
  and one ``merge`` (the multi-machine path) get the same grades and outputs;
- the grader's secret is in no autograded notebook and no feedback page;
- nothing reached the listening socket the network case aimed at, and a kernel
  that searched its memory found nothing of the answer key.

The per-cell timeout is short (``NNKIT_TEST_CELL_TIMEOUT``, default 15 s) so the
runaway cases end quickly.
"""

from __future__ import annotations

import csv
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

import nbformat
import pytest
from nbgrader.api import Gradebook

from tests.autograde_corpus import NOTEBOOKS, cases
from tests.autograde_corpus.stock import write_stock_config

pytestmark = [pytest.mark.grading, pytest.mark.timeout(1800)]

ROOT = Path(__file__).resolve().parents[1]
# planted in the grader's environment: no student may ever see it
SECRET = "nnkit-grader-secret-5f1c0de"
TIMEOUT = os.environ.get("NNKIT_TEST_CELL_TIMEOUT", "15")
ENV = {
    **os.environ,
    "JUPYTER_PLATFORM_DIRS": "1",
    # nbgrader runs `alembic` from PATH when it creates a gradebook
    "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
}


def _run(args: list[str], cwd: Path, env: dict = ENV) -> subprocess.CompletedProcess:
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done


def _nbgrader(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "nbgrader"), *args]


def _engine(*args: str) -> list[str]:
    return [sys.executable, "-m", "nnkit.autograde", *args]


def _write(course: Path, student: str, assignment: str, files: dict) -> None:
    folder = course / "submitted" / student / assignment
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, cases.Symlink):
            os.symlink(data.target, folder / rel)
        else:
            (folder / rel).write_bytes(data)


def _scores(course: Path, student: str, assignment: str) -> dict[str, float | None]:
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "nnkit") as gb:
        submission = gb.find_submission(assignment, student)
        return {g.name: g.auto_score for nb in submission.notebooks for g in nb.grades}


def _outputs(course: Path, student: str, assignment: str) -> list:
    path = course / "autograded" / student / assignment / f"{NOTEBOOKS[assignment]}.ipynb"
    nb = nbformat.read(path, as_version=4)
    return [
        [{k: v for k, v in o.items() if k != "execution_count"} for o in c.get("outputs", [])]
        for c in nb.cells
    ]


def _csv_rows(course: Path, students: set[str]) -> list[list[str]]:
    _run(_nbgrader("export", "--to", "export.csv"), course)
    with (course / "export.csv").open(newline="") as handle:
        rows = list(csv.reader(handle))
    return [rows[0], *sorted(r for r in rows[1:] if r[3] in students)]


class _Listener:
    """A TCP server on the loopback that counts who connects (the sandbox must keep all out)."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(0.5)
        self.port = self.sock.getsockname()[1]
        self.connections = 0
        self.running = True
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        while self.running:
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            self.connections += 1
            conn.close()

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.sock.close()


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    base = tmp_path_factory.mktemp("autograde")
    template = base / "template"
    template.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", template)
    shutil.copytree(ROOT / "solutions", template / "solutions")
    shutil.copytree(ROOT / "grader", template / "grader")
    _run(_nbgrader("generate_assignment", "*", "--force"), template)

    honest = cases.good()
    course, alone, sharded = base / "course", base / "alone", base / "sharded"
    for target in (course, alone, sharded):
        shutil.copytree(template, target)
        for student, work in honest.items():
            for assignment, build in work.items():
                _write(target, student, assignment, build(target))
    listener = _Listener()
    corpus = cases.cases(listener.port)
    for case in corpus:
        _write(course, case.student, case.assignment, case.build(course))
    grader_env = {**ENV, "NNKIT_GRADER_TOKEN": SECRET}
    try:
        work = ["--work-dir", str(base / "work")]  # kept: the shards' memory figures
        grading = _engine("grade", "--workers", "2", "--timeout", TIMEOUT, "--force", *work)
        _run(grading, course, grader_env)
    finally:
        listener.close()
    feedback = subprocess.run(
        _nbgrader("generate_feedback", "*", "--force"), cwd=course, env=grader_env,
        capture_output=True, text=True, check=False,
    )  # fmt: skip

    # the honest students on their own: stock nbgrader, and the engine's multi-machine path
    write_stock_config(alone)
    _run(_nbgrader("autograde", "*", "--force"), alone)
    for index in (0, 1):
        shard = f"--out={base / f'shard-{index}'}"
        _run(_engine("shard", f"--index={index}", "--of=2", shard, "--timeout", TIMEOUT), sharded)
    _run(_engine("merge", str(base / "shard-0"), str(base / "shard-1")), sharded)

    from nnkit.autograde import report

    stats = (base / "work").glob("shard-*/stats.json")
    return {
        "peak": max(json.loads(path.read_text())["peak_rss_bytes"] for path in stats),
        "feedback_log": feedback.stdout + feedback.stderr,
        "course": course,
        "alone": alone,
        "sharded": sharded,
        "honest": honest,
        "cases": {c.student: c for c in corpus},
        "report": report.read(course),
        "connections": listener.connections,
    }


CASE_NAMES = [c.student for c in cases.cases(0)]


@pytest.mark.parametrize("name", CASE_NAMES)
def test_fault_or_attack_case(graded, name):
    """Each bad submission: its exact score, its status, and a flag saying why."""
    case = graded["cases"][name]
    record = graded["report"][(case.student, case.assignment)]
    expected = case.score(graded["course"])
    assert record.score == expected, f"{case.what}: {record}"
    assert record.status == case.status, f"{case.what}: {record}"
    kinds = {e.kind for e in record.events}
    assert case.flags <= kinds, f"{case.what}: expected flags {case.flags}, got {kinds}"
    assert all(e.detail for e in record.events)


def test_every_flag_reaches_the_csv_and_the_report(graded):
    course = graded["course"]
    _run(_nbgrader("export", "--exporter=nnkit.autograde.report.CsvWithFlags"), course)
    with (course / "grades.csv").open(newline="") as handle:
        rows = {(r["student_id"], r["assignment"]): r for r in csv.DictReader(handle)}
    markdown = (course / "grading-report.md").read_text()
    for case in graded["cases"].values():
        row = rows[(case.student, case.assignment)]
        assert row["status"] == case.status
        assert float(row["score"]) == case.score(course)
        if case.flags:
            assert row["flags"], case.student
            assert f"### {case.student.replace('_', chr(92) + '_')} / " in markdown


def test_honest_students_graded_exactly_as_stock_nbgrader_alone(graded):
    course, alone = graded["course"], graded["alone"]
    for student, work in graded["honest"].items():
        for assignment in work:
            record = graded["report"][(student, assignment)]
            assert record.status == "ok", record
            assert _scores(course, student, assignment) == _scores(alone, student, assignment)
    honest = set(graded["honest"])
    assert _csv_rows(course, honest) == _csv_rows(alone, honest)


def test_shards_graded_apart_and_merged_match_one_run(graded):
    sharded, course = graded["sharded"], graded["course"]
    for student, work in graded["honest"].items():
        for assignment in work:
            assert _scores(sharded, student, assignment) == _scores(course, student, assignment)
            assert _outputs(sharded, student, assignment) == _outputs(course, student, assignment)
    honest = set(graded["honest"])
    assert _csv_rows(sharded, honest) == _csv_rows(course, honest)


def _hidden_lines(course: Path) -> set[str]:
    """Lines of the instructor's hidden tests found nowhere else: not in the release, not in
    the answers, not outside the hidden regions."""
    hidden, shown = set(), []
    for assignment, name in NOTEBOOKS.items():
        release = nbformat.read(course / "exercises" / assignment / f"{name}.ipynb", as_version=4)
        shown += [cell.source for cell in release.cells]
        source = nbformat.read(course / "solutions" / assignment / f"{name}.ipynb", as_version=4)
        for cell in source.cells:
            inside = False
            for line in cell.source.splitlines():
                if "HIDDEN TESTS" in line:
                    inside = "BEGIN" in line
                elif inside:
                    hidden.add(line.strip())
                else:
                    shown.append(line)
    everywhere = "\n".join(shown)
    return {line for line in hidden if len(line) > 20 and line not in everywhere}


def test_feedback_for_every_graded_submission_and_no_hidden_test(graded):
    """generate_feedback exits 0 for the whole corpus: no marker, metadata or output of a
    submission stops it (issue 14), and no page shows a hidden test."""
    from bs4 import BeautifulSoup

    course = graded["course"]
    _run(_nbgrader("generate_feedback", "*", "--force"), course)
    hidden = _hidden_lines(course)
    assert hidden, "the problem sets have hidden tests; this test must find them"
    for (student, assignment), record in graded["report"].items():
        page = course / "feedback" / student / assignment / f"{NOTEBOOKS[assignment]}.html"
        if record.status not in ("ok", "flagged"):
            continue
        assert page.is_file(), f"no feedback for {student} / {assignment}"
        text = BeautifulSoup(page.read_text(), "html.parser").get_text()
        assert not [line for line in hidden if line in text], f"{student}: hidden tests shown"
        if student == "locked_edited":  # count_parameters returns 0: every check of it fails
            assert re.search(r"Grader: 0 / 1 points: 0 of (\d+) checks passed\.", text), text
            assert "[2] count_parameters(" in text  # each failing check is listed


def test_no_connection_left_the_sandbox(graded):
    assert graded["connections"] == 0


def test_the_graders_environment_reaches_no_student(graded):
    """A secret in the grader's environment is in no autograded notebook or feedback page."""
    course = graded["course"]
    pages = list((course / "feedback").rglob("*.html"))
    notebooks = list((course / "autograded").rglob("*.ipynb"))
    reader = ("reads_environment", "ps1_forward")
    assert course.joinpath("feedback", *reader, "forward.html").is_file(), graded["feedback_log"]
    printed = nbformat.read(course.joinpath("autograded", *reader, "forward.ipynb"), 4)
    assert any("/proc/1/environ" in str(c.get("outputs")) for c in printed.cells)
    assert pages and notebooks
    for path in pages + notebooks:
        assert SECRET not in path.read_text(errors="replace"), path


def test_a_kernel_finds_nothing_of_the_answer_key_in_its_memory(graded):
    path = graded["course"] / "autograded" / "snooper" / "ps1_forward" / "forward.ipynb"
    outputs = [
        o.get("text", "") for c in nbformat.read(path, 4).cells for o in c.get("outputs", [])
    ]
    report = next(text for text in outputs if "SNOOPED" in text)
    objects = int(report.split("objects=")[1].split()[0])
    assert objects > 10_000, report  # it really looked
    assert report.strip().endswith("leaks=[]"), report


# what one shard process of the grader may peak at, whatever its students print or display
PEAK_BOUND = 600 * 2**20


def test_the_graders_memory_stays_flat_whatever_a_submission_prints(graded):
    """The shards grade display_flood (250 MiB of displays) and print_flood among the others."""
    assert 0 < graded["peak"] < PEAK_BOUND, f"{graded['peak'] / 2**20:.0f} MiB"
