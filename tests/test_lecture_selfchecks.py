"""The self-checking exercises of lectures 09 and 10: stub, solution and a wrong answer.

Each exercise is a markdown cell and a code cell tagged ``exercise``, a check cell tagged
``check`` and a ``<details>`` solution tagged ``solution``. A lecture run executes the stubs,
so here each check also runs against the solution (it must pass) and against a typical
wrong answer (it must fail). Checks use only ``np``, ``nk`` and the exercise's own names.
"""

import contextlib
import io
import re

import nbformat
import numpy as np
import pytest

import nnkit as nk
from tests.notebooks import LECTURES

LECTURES_WITH_CHECKS = ["09_initialisation_and_regularisation.ipynb", "10_debugging.ipynb"]

# a plausible mistake per exercise, in the order the exercises appear
WRONG = {
    "09_initialisation_and_regularisation.ipynb": [
        "def leaky_relu_variance(alpha, n_in):\n    return 2 / n_in\n",  # He, slope ignored
        # the best epoch plus the patience, even when training never gets that far
        "def stop_epoch(val_losses, patience):\n"
        "    return int(np.argmin(val_losses)) + 1 + patience\n",
        "def dropout_variance(x, p):\n    return x**2 * p\n",
    ],
    "10_debugging.ipynb": [
        "def expected_initial_loss(C):\n    return 1 / C\n",
        "def update_ratio(W, dW, lr):\n    return lr * np.abs(dW).max() / np.abs(W).max()\n",
    ],
}


def exercises(name):
    """(stub, check, solution) source triples of a lecture, in order."""
    nb = nbformat.read(LECTURES / name, as_version=4)
    by_tag = {"exercise": [], "check": [], "solution": []}
    for cell in nb.cells:
        for tag in cell.metadata.get("tags", []):
            if tag in by_tag and (tag != "exercise" or cell.cell_type == "code"):
                by_tag[tag].append(cell.source)
    solutions = []
    for text in by_tag["solution"]:
        assert "<details>" in text, "a solution must sit in a collapsed <details> block"
        solutions.append("\n".join(re.findall(r"```python\n(.*?)```", text, flags=re.S)))
    assert len(by_tag["exercise"]) == len(by_tag["check"]) == len(solutions)
    return list(zip(by_tag["exercise"], by_tag["check"], solutions, strict=True))


def run(*sources):
    """Execute the sources in one fresh namespace holding np and nk; return what they print."""
    namespace = {"np": np, "nk": nk}
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        for source in sources:
            exec(compile(source, "<exercise>", "exec"), namespace)
    return out.getvalue()


@pytest.mark.parametrize("name", LECTURES_WITH_CHECKS)
def test_each_lecture_has_two_or_three_exercises(name):
    assert 2 <= len(exercises(name)) <= 3
    assert len(WRONG[name]) == len(exercises(name))


@pytest.mark.parametrize("name", LECTURES_WITH_CHECKS)
def test_checks_say_not_answered_for_the_stub(name):
    for stub, check, _ in exercises(name):
        assert "not answered yet" in run(stub, check)


@pytest.mark.parametrize("name", LECTURES_WITH_CHECKS)
def test_checks_pass_the_solution(name):
    for k, (stub, check, solution) in enumerate(exercises(name), start=1):
        assert "correct" in run(stub, solution, check), f"exercise {k}"


@pytest.mark.parametrize("name", LECTURES_WITH_CHECKS)
def test_checks_fail_a_wrong_answer(name):
    for (stub, check, _), wrong in zip(exercises(name), WRONG[name], strict=True):
        with pytest.raises(AssertionError):
            run(stub, wrong, check)
