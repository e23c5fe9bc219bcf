"""The autograding engine's parts, without running notebooks: sharding, file checks,
the static scan, the audit log, exit reasons, and the sandbox itself."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from nnkit.autograde import agent, submissions
from nnkit.autograde.engine import Job, shard_of
from nnkit.autograde.execute import exit_reason
from nnkit.autograde.sandbox import Limits, Sandbox, sandbox_works
from tests.autograde_corpus import NOTEBOOKS, correct, solution_answers

ROOT = Path(__file__).resolve().parents[1]


# ----------------------------------------------------------------------------- sharding


def test_shards_partition_the_class_and_keep_each_student_whole():
    jobs = [Job(f"s{i:02d}", a) for i in range(11) for a in ("ps1", "ps2", "ps3")]
    shards = [shard_of(jobs, i, 3) for i in range(3)]
    assert sorted(j for s in shards for j in s) == sorted(jobs)
    owners = {}
    for index, shard in enumerate(shards):
        for job in shard:
            assert owners.setdefault(job.student, index) == index
    sizes = sorted(len({j.student for j in s}) for s in shards)
    assert sizes == [3, 4, 4]
    # the same split whatever order the submissions were listed in
    assert shard_of(list(reversed(jobs)), 1, 3) == [j for j in reversed(jobs) if j in shards[1]]


# ----------------------------------------------------------------------------- submitted files


def _notebook(*cells) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def _graded(grade_id: str, source: str, points: float = 1.0, **meta):
    cell = nbformat.v4.new_code_cell(source)
    cell.metadata["nbgrader"] = {
        "grade": True,
        "grade_id": grade_id,
        "locked": True,
        "points": points,
        "schema_version": 3,
        "solution": False,
        "task": False,
        **meta,
    }
    return cell


RELEASE = _notebook(
    nbformat.v4.new_code_cell("import numpy as np"),
    _graded("test_a", "assert f() == 1", 2.0),
    _graded("test_b", "assert g() == 2", 1.0),
)


@pytest.fixture
def release_dir(tmp_path):
    folder = tmp_path / "release"
    folder.mkdir()
    nbformat.write(RELEASE, folder / "work.ipynb")
    return folder


def _submit(tmp_path, files: dict[str, bytes]) -> Path:
    folder = tmp_path / "submitted"
    for rel, data in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(data)
    folder.mkdir(exist_ok=True)
    return folder


def _kinds(prepared) -> set[str]:
    return {i.kind for i in prepared.issues}


@pytest.mark.parametrize(
    ("data", "words"),
    [
        (b"", "is empty"),
        (b'{"cells": [', "not valid JSON"),
        (b"[1, 2, 3]", "not a notebook"),
        (b'{"cells": [{"cell_type": "code"}], "nbformat": 4}', "not a valid notebook"),
    ],
)
def test_unreadable_notebooks_are_not_graded_and_say_why(tmp_path, release_dir, data, words):
    src = _submit(tmp_path, {"work.ipynb": data})
    prepared = submissions.prepare(src, tmp_path / "out", ["work"], release_dir)
    assert prepared.gradable == []
    (issue,) = [i for i in prepared.issues if i.kind == "invalid-notebook"]
    assert words in issue.detail
    assert not (tmp_path / "out" / "work.ipynb").exists()


def test_a_renamed_notebook_is_graded_under_its_name(tmp_path, release_dir):
    src = _submit(tmp_path, {"work (2).ipynb": nbformat.writes(RELEASE).encode()})
    prepared = submissions.prepare(src, tmp_path / "out", ["work"], release_dir)
    assert prepared.gradable == ["work"]
    assert _kinds(prepared) == {"renamed"}
    assert (tmp_path / "out" / "work.ipynb").exists()


def test_a_missing_notebook_and_extra_files_are_reported(tmp_path, release_dir):
    files = {"a.ipynb": b"{}", "b.ipynb": b"{}", "numpy.py": b"", "timestamp.txt": b"2025"}
    src = _submit(tmp_path, files)
    prepared = submissions.prepare(src, tmp_path / "out", ["work"], release_dir)
    assert prepared.gradable == []
    details = " ".join(i.detail for i in prepared.issues)
    assert _kinds(prepared) == {"missing-notebook", "extra-files"}
    assert "numpy.py could shadow the module numpy" in details
    assert "timestamp.txt" not in details  # nbgrader's own file is not an extra
    assert (tmp_path / "out" / "numpy.py").exists()  # kept: it may be a data file


def test_locked_cells_edited_deleted_or_repointed_are_listed(tmp_path, release_dir):
    nb = _notebook(
        nbformat.v4.new_code_cell("import numpy as np"),
        _graded("test_a", "pass", 2.0),  # edited
        # test_b deleted
    )
    nb.cells.append(_graded("test_c", "x = 1", 1.0))
    src = _submit(tmp_path, {"work.ipynb": nbformat.writes(nb).encode()})
    issues = submissions.prepare(src, tmp_path / "out", ["work"], release_dir).issues
    found = {(i.cell, i.detail.split(";")[0]) for i in issues if i.kind == "locked-cell"}
    assert found == {("test_a", "locked cell edited"), ("test_b", "locked cell deleted")}

    repointed = _notebook(
        RELEASE.cells[0], _graded("test_a", "assert f() == 1", 100.0), RELEASE.cells[2]
    )
    issues = submissions.locked_cell_issues(repointed, RELEASE, "work")
    assert [i.detail.split(";")[0] for i in issues] == ["points changed from 2.0 to 100.0"]


@pytest.mark.parametrize(
    ("source", "note"),
    [
        ("grading.check = lambda *a, **k: None", "assigns to grading.check"),
        ("np.testing.assert_allclose = print", "assigns to np.testing.assert_allclose"),
        ("setattr(grading, 'call', id)", "calls setattr on grading"),
        ("import sys\nsys.modules['numpy'] = None", "assigns to sys.modules['numpy']"),
        ("get_ipython().showtraceback = print", "replaces IPython's showtraceback"),
        ("get_ipython().set_custom_exc((Exception,), print)", "calls get_ipython().set_custom_exc"),
        ("class A:\n    def __eq__(self, other):\n        return True", "defines __eq__"),
        ("import socket", "imports socket (network)"),
        ("import os\nos._exit(0)", "calls os._exit"),
    ],
)
def test_static_scan_notes_reaching_into_the_tests(source, note):
    assert note in submissions.scan_source(source)


@pytest.mark.parametrize("assignment", sorted(NOTEBOOKS))
def test_static_scan_is_quiet_on_the_instructor_solutions(assignment):
    for grade_id, source in solution_answers(assignment).items():
        assert submissions.scan_source(source) == [], grade_id
    nb = correct(assignment)
    assert submissions.code_issues(nb, NOTEBOOKS[assignment]) == []


# ----------------------------------------------------------------------------- audit log


def test_audit_log_flags_paths_outside_the_allowed_roots(tmp_path):
    log = agent.AuditLog([str(tmp_path)])
    log.hook("open", ("/etc/shadow", "r", 0))  # the kernel's own start-up: not recorded
    log.active = True
    log.hook("open", (str(tmp_path / "mine.csv"), "r", 0))
    log.hook("open", ("/somewhere/solutions/ps1.ipynb", "r", 0))
    log.hook("socket.connect", (None, ("10.0.0.1", 80)))
    log.hook("sqlite3.connect", ("gradebook.db",))
    assert log.drain() == [
        "tried to read /somewhere/solutions/ps1.ipynb, outside its submission",
        "tried to open a network connection",
        "tried to open a database (gradebook.db)",
    ]
    assert log.drain() == []


@pytest.mark.parametrize(
    ("code", "words"),
    [
        (139, "segmentation fault (SIGSEGV)"),
        (152, "CPU-time limit (600 s, SIGXCPU)"),
        (137, "SIGKILL"),
        (3, "exited with status 3"),
        (None, "stopped responding"),
    ],
)
def test_exit_reasons_name_the_cause(code, words):
    assert words in exit_reason(code, Limits())


# ----------------------------------------------------------------------------- the sandbox

PROBE = """
import json, os, socket, sys
found = {"cwd": os.getcwd(), "files": sorted(os.listdir("."))}
for path in sys.argv[1:]:
    found[path] = os.path.exists(path)
try:
    socket.create_connection(("127.0.0.1", int(os.environ.get("PORT", "1"))), timeout=2)
    found["network"] = True
except OSError:
    found["network"] = False
try:
    open("/usr/lib/nnkit-sandbox-probe", "w")
    found["write_usr"] = True
except OSError:
    found["write_usr"] = False
open("scratch.txt", "w").write("ok")
found["scratch"] = open("scratch.txt").read()
for where in (".", "/tmp"):
    try:
        for i in range(4):
            with open(f"{where}/fill{i}.bin", "wb") as handle:
                handle.write(bytes(12 * 2**20))
        found["full " + where] = False
    except OSError as exc:
        found["full " + where] = exc.strerror
import nnkit.grading
print(json.dumps(found))
"""


@pytest.mark.grading
def test_the_sandbox_hides_the_course_and_the_network(tmp_path):
    sandbox = Sandbox(limits=Limits(disk=32 * 2**20))
    assert sandbox_works(sandbox) is None
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]
    dirs = [tmp_path / d for d in ("work", "run")]
    for d in dirs:
        d.mkdir()
    (dirs[0] / "mine.txt").write_text("mine")
    secrets = [
        str(ROOT / "solutions"),
        str(ROOT / "nbgrader_config.py"),
        str(ROOT / "grader"),
        str(tmp_path / "run"),
    ]
    inner = [sys.executable, "-c", PROBE.replace('"1"', f'"{port}"'), *secrets]
    cmd = sandbox.command(inner, *map(str, dirs))
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)
    server.close()
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["files"] == ["mine.txt"]
    assert not any(found[path] for path in secrets[:3])
    assert found[secrets[3]] is True  # the kernel's own socket directory
    assert found["network"] is False
    assert found["write_usr"] is False
    assert found["scratch"] == "ok"  # its working directory is writable...
    assert not (dirs[0] / "scratch.txt").exists()  # ...and what it writes stays in the sandbox
    # 48 MiB in 12 MiB files fills the 32 MiB tmpfs of the working directory and of /tmp
    assert found["full ."] == found["full /tmp"] == "No space left on device"


@pytest.mark.grading
def test_the_launcher_applies_the_memory_limit():
    script = "import resource; print(resource.getrlimit(resource.RLIMIT_AS)[0])"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = (
        "from nnkit.autograde.kernel import set_limits; set_limits(1 << 30, 60, 0); "
        f"exec({script!r})"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True
    )
    assert int(done.stdout) == 1 << 30


SEARCH = """
import os, sys
markers = [m.encode() for m in sys.argv[1:]]
found, files = [], 0
for top in ("/",):
    for folder, dirs, names in os.walk(top):
        dirs[:] = [d for d in dirs if os.path.join(folder, d) not in ("/proc", "/sys", "/dev")]
        for name in names:
            path = os.path.join(folder, name)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            files += 1
            if not name.endswith((".py", ".ipynb", ".json", ".txt", ".db", ".md", ".cfg")):
                continue
            try:
                with open(path, "rb") as handle:
                    data = handle.read(4_000_000)
            except OSError:
                continue
            found += [f"{path}: {m.decode()}" for m in markers if m in data]
print(files)
print("\\n".join(found))
"""


@pytest.mark.grading
def test_no_file_a_kernel_can_read_holds_the_answer_key_or_a_hidden_test(tmp_path):
    """Walk the sandbox's whole file system: nothing of grader/ or the hidden tests is there."""
    work, run = tmp_path / "work", tmp_path / "run"
    work.mkdir()
    run.mkdir()
    markers = [
        "The answer key: independent float64",  # grader/reference.py
        "def _ref_mlp_backward",
        "grading.hidden_rng(1001)",  # ps1's hidden tests
        "grading.hidden_rng(2008)",  # ps2's
        "grading.hidden_rng(3005)",  # ps3's
    ]
    for marker in markers[:2]:
        assert marker in (ROOT / "grader" / "reference.py").read_text()
    cmd = Sandbox().command([sys.executable, "-c", SEARCH, *markers], str(work), str(run))
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr
    files, *found = done.stdout.strip().split("\n")
    assert int(files) > 10_000  # the search saw the whole Python installation
    assert [line for line in found if line] == []


# ----------------------------------------------------------------------------- the report


def test_the_report_shows_what_a_submission_wrote_as_text_never_as_markdown():
    """A submission cannot forge a heading, a list item, a link or a table row of the report."""
    from nnkit.autograde.records import Event, Status, SubmissionRecord, Verdict
    from nnkit.autograde.report import markdown

    forged = "x\n\n### mallory / ps1_forward: 0 / 14 (flagged)\n- tampering: [see](javascript:x) |"
    record = SubmissionRecord("eve|<b>", "ps1_forward", Status.FLAGGED, 3.0, 14.0)
    record.events = [Event("extra-files", forged, "forward", "cell")]
    record.failed = [Verdict("test_softmax", False, forged * 100, notebook="forward")]
    text = markdown([record])
    lines = text.splitlines()
    assert [line for line in lines if line.startswith("### ")] == [
        "### eve\\|\\<b\\> / ps1\\_forward: 3 / 14 (flagged)"
    ]
    assert not any(line.startswith("- tampering") for line in lines)
    assert "](javascript" not in text and "\\[see\\]\\(javascript:x\\)" in text
    table = [line for line in lines if line.startswith("| eve")]
    assert len(table) == 1 and table[0].count(" | ") == 4  # one row, five cells
    assert max(map(len, lines)) < 1500  # every field from a submission is bounded
