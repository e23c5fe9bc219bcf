"""Intake of one submission (``nnkit.autograde.submissions.prepare``): total, and files only.

Each test writes a submission folder the way a broken or hostile student (or an
archive tool) leaves it and checks what ``prepare`` copies for grading and what it
reports. Nothing is executed; the metadata checks are nbgrader's own validator.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from nbgrader.nbgraderformat import MetadataValidator

from nnkit.autograde.submissions import prepare
from tests.autograde_corpus import ROOT, correct, dumps, index_of, insert_after

PS1 = "ps1_forward"
RELEASE = ROOT / "exercises" / PS1
NAME = "forward"
FILE = f"{NAME}.ipynb"
EMPTY_V4 = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}


def _prepare(tmp_path: Path, files: dict[str, bytes] | None = None):
    src = tmp_path / "submitted" / "student" / PS1
    src.mkdir(parents=True, exist_ok=True)
    for rel, data in (files or {}).items():
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes(data)
    dest = tmp_path / "shard" / "student" / PS1
    return src, dest, lambda: prepare(src, dest, [NAME], RELEASE)


def _kinds(prepared) -> set[str]:
    return {i.kind for i in prepared.issues}


def _nbgrader_accepts(path: Path) -> None:
    """nbgrader's CheckCellMetadata, the step that stopped on these notebooks."""
    nb = nbformat.read(path, as_version=4)
    validator = MetadataValidator()
    validator.validate_nb(validator.upgrade_notebook_metadata(nb))


def test_an_honest_notebook_is_copied_byte_for_byte(tmp_path):
    data = dumps(correct(PS1))
    _, dest, run = _prepare(tmp_path, {FILE: data})
    prepared = run()
    assert prepared.gradable == [NAME]
    assert prepared.issues == []
    assert (dest / FILE).read_bytes() == data


@pytest.mark.parametrize(
    ("meta", "says"),
    [
        ("x", "is str, not an object"),
        (["a"], "is list, not an object"),
        ({"grade": True, "grade_id": ["test_relu"], "points": 1, "solution": False}, "list"),
        ({"grade": "yes", "grade_id": "mine", "locked": False, "solution": False}, "rejects"),
        ({"grade": True, "grade_id": "my_own", "points": 5, "solution": False}, "my_own"),
    ],
)
def test_malformed_metadata_on_a_new_cell_is_dropped(tmp_path, meta, says):
    nb = insert_after(correct(PS1), "test_relu", "print('mine')")
    nb.cells[index_of(nb, "test_relu") + 1].metadata["nbgrader"] = meta
    _, dest, run = _prepare(tmp_path, {FILE: dumps(nb)})
    prepared = run()
    assert prepared.gradable == [NAME]
    [issue] = [i for i in prepared.issues if i.kind == "metadata"]
    assert says in issue.detail and "ordinary cell" in issue.detail
    graded = nbformat.read(dest / FILE, as_version=4)
    assert "nbgrader" not in graded.cells[index_of(nb, "test_relu") + 1].metadata
    _nbgrader_accepts(dest / FILE)


def test_a_broken_test_cell_gets_the_release_metadata_back(tmp_path):
    nb = correct(PS1)
    cell = nb.cells[index_of(nb, "test_relu")]
    cell.metadata["nbgrader"]["points"] = "all of them"
    _, dest, run = _prepare(tmp_path, {FILE: dumps(nb)})
    prepared = run()
    assert prepared.gradable == [NAME]
    [issue] = [i for i in prepared.issues if i.kind == "metadata"]
    assert issue.cell == "test_relu" and "release's metadata put back" in issue.detail
    graded = nbformat.read(dest / FILE, as_version=4)
    release = nbformat.read(RELEASE / FILE, as_version=4)
    restored = graded.cells[index_of(graded, "test_relu")].metadata["nbgrader"]
    assert restored == release.cells[index_of(release, "test_relu")].metadata["nbgrader"]
    _nbgrader_accepts(dest / FILE)


def test_a_string_as_the_metadata_of_a_test_cell_drops_it(tmp_path):
    """No grade_id to recognise it by: an ordinary cell, and nbgrader adds the test back."""
    nb = correct(PS1)
    nb.cells[index_of(nb, "test_relu")].metadata["nbgrader"] = "x"
    _, dest, run = _prepare(tmp_path, {FILE: dumps(nb)})
    prepared = run()
    assert prepared.gradable == [NAME]
    assert {"metadata", "locked-cell"} <= _kinds(prepared)
    _nbgrader_accepts(dest / FILE)


@pytest.mark.parametrize(
    "data",
    [
        b"[" * 100_000 + b"]" * 100_000,
        json.dumps(
            {**EMPTY_V4, "cells": [{"cell_type": "code", "source": 3, "metadata": {}}]}
        ).encode(),
        json.dumps({**EMPTY_V4, "cells": "none", "metadata": []}).encode(),
        b"\xff\xfe{}",
    ],
    ids=["deep-nesting", "bad-source", "bad-cells", "not-utf8"],
)
def test_malformed_json_structures_are_not_gradable_with_a_reason(tmp_path, data):
    _, dest, run = _prepare(tmp_path, {FILE: data})
    prepared = run()
    assert prepared.gradable == []
    [issue] = prepared.issues
    assert issue.kind == "invalid-notebook" and FILE in issue.detail
    assert not (dest / FILE).exists()


@pytest.mark.parametrize("target", ["solutions", "other", "passwd"])
def test_a_notebook_that_is_a_symlink_is_refused(tmp_path, target):
    other = tmp_path / "submitted" / "alice" / PS1 / FILE
    other.parent.mkdir(parents=True)
    other.write_bytes(dumps(correct(PS1)))
    targets = {
        "solutions": ROOT / "solutions" / PS1 / FILE,
        "other": Path("../../alice") / PS1 / FILE,
        "passwd": Path("/etc/passwd"),
    }
    src, dest, run = _prepare(tmp_path)
    os.symlink(targets[target], src / FILE)
    prepared = run()
    assert prepared.gradable == []
    [issue] = prepared.issues
    assert issue.kind == "symlink" and "not followed" in issue.detail
    assert not (dest / FILE).exists()


def test_a_renamed_notebook_that_is_a_symlink_is_not_a_candidate(tmp_path):
    src, dest, run = _prepare(tmp_path)
    os.symlink(ROOT / "solutions" / PS1 / FILE, src / "forward (1).ipynb")
    prepared = run()
    assert prepared.gradable == []
    assert {"missing-notebook", "symlink"} <= _kinds(prepared)
    assert list(dest.iterdir()) == []


def test_extra_links_pipes_and_web_pages_are_skipped_and_listed(tmp_path):
    src, dest, run = _prepare(tmp_path, {FILE: dumps(correct(PS1)), "data.csv": b"x\n1\n"})
    os.symlink("/etc/passwd", src / "passwd.txt")
    os.symlink(ROOT / "solutions", src / "answers")
    os.mkfifo(src / "pipe.txt")
    (src / "page.html").write_text("<script>alert(1)</script>")
    prepared = run()  # a pipe opened for reading would block forever
    assert prepared.gradable == [NAME]
    copied = sorted(str(p.relative_to(dest)) for p in dest.rglob("*"))
    assert copied == ["data.csv", FILE]
    details = " ".join(i.detail for i in prepared.issues)
    for name in ("passwd.txt", "answers", "pipe.txt", "page.html"):
        assert name in details
    assert {"symlink", "special-file", "extra-files"} <= _kinds(prepared)


def test_a_submission_folder_that_is_a_symlink_is_refused(tmp_path):
    real = tmp_path / "submitted" / "alice" / PS1
    real.mkdir(parents=True)
    (real / FILE).write_bytes(dumps(correct(PS1)))
    link = tmp_path / "submitted" / "mallory"
    link.mkdir()
    os.symlink(real, link / PS1)
    dest = tmp_path / "shard"
    prepared = prepare(link / PS1, dest, [NAME], RELEASE)
    assert prepared.gradable == []
    assert _kinds(prepared) == {"symlink"}


def test_markers_in_student_cells_are_listed(tmp_path):
    nb = correct(PS1)
    nb.cells.append(nbformat.v4.new_markdown_cell("### BEGIN HIDDEN TESTS\nmy notes"))
    nb.cells.append(nbformat.v4.new_raw_cell("### END SOLUTION"))
    _, _, run = _prepare(tmp_path, {FILE: dumps(nb)})
    prepared = run()
    assert prepared.gradable == [NAME]
    markers = [i for i in prepared.issues if i.kind == "markers"]
    assert [i.cell for i in markers] == [f"cell {len(nb.cells) - 2}", f"cell {len(nb.cells) - 1}"]
    assert "BEGIN HIDDEN TESTS" in markers[0].detail


def test_raw_html_that_would_run_is_listed(tmp_path):
    nb = correct(PS1)
    nb.cells.append(nbformat.v4.new_markdown_cell('see <img src="x" onerror="alert(1)">'))
    nb.cells.append(nbformat.v4.new_markdown_cell("a <b>bold</b> and <i>plain</i> note"))
    _, _, run = _prepare(tmp_path, {FILE: dumps(nb)})
    prepared = run()
    [issue] = [i for i in prepared.issues if i.kind == "active-content"]
    assert issue.cell == f"cell {len(nb.cells) - 2}" and "onerror=" in issue.detail
