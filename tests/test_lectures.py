"""Every lecture runs top to bottom in a fresh kernel, cleanly, and is committed clean."""

import json
import subprocess

import pytest

from tests.notebooks import LECTURES, ROOT, lecture_paths, run_notebook, warm_up

EXPECTED = [
    "01_anatomy.ipynb",
    "02_activations.ipynb",
    "03_outputs_and_losses.ipynb",
    "04_universal_approximation.ipynb",
    "05_backprop.ipynb",
    "06_optimization.ipynb",
    "07_loss_landscapes.ipynb",
    "08_digits.ipynb",
    "09_initialisation_and_regularisation.ipynb",
    "10_debugging.ipynb",
]


def committed_notebooks():
    listed = subprocess.run(
        ["git", "ls-files", "*.ipynb"], cwd=ROOT, capture_output=True, text=True, check=True
    )
    return [ROOT / name for name in listed.stdout.split()]


def test_the_ten_lectures_exist():
    """The course ships exactly the ten lectures of its syllabus, in order."""
    assert [p.name for p in lecture_paths()] == EXPECTED


@pytest.mark.parametrize("path", committed_notebooks(), ids=lambda p: str(p.relative_to(ROOT)))
def test_notebook_committed_without_outputs(path):
    """Committed notebooks carry no outputs and no execution counts."""
    nb = json.loads(path.read_text())
    dirty = [
        i
        for i, cell in enumerate(nb["cells"])
        if cell["cell_type"] == "code" and (cell.get("outputs") or cell.get("execution_count"))
    ]
    assert not dirty, f"{path.name}: cells {dirty} have outputs or execution counts"


@pytest.fixture(scope="module")
def warmed():
    warm_up()


@pytest.mark.notebooks
@pytest.mark.parametrize("name", EXPECTED)
def test_lecture_runs_clean(name, warmed):
    """A fresh kernel runs the lecture top to bottom with no error and nothing on stderr."""
    run = run_notebook(LECTURES / name)
    assert run.error is None, f"{name} failed:\n{run.error}"
    assert not run.stderr, f"{name} wrote to stderr:\n" + "\n".join(run.stderr)
