"""The lectures' self-checking exercises: unanswered as committed, and their solutions pass.

The pattern, the same in every lecture: a code cell tagged ``exercise`` ends with
``name = None`` (the student replaces None); the next cell, tagged ``exercise-check``,
runs its asserts only once ``name`` is not None and then prints ``exercise K: correct``;
then a markdown cell tagged ``solution`` holds the answer in a collapsed ``<details>``
block with one fenced python block. The committed lecture runs clean unanswered
(tests/test_lectures.py); here every solution is put in place of its exercise and the
lecture runs again, so a check that rejects its own solution fails, and so does a
solution that no longer matches the code around it.
"""

import re

import nbformat
import pytest

from tests.notebooks import ROOT, lecture_paths, run_notebook

# Lectures 01-08 each have two or three exercises; later lectures are checked when they
# use the pattern.
WITH_EXERCISES = [p for p in lecture_paths() if p.name[:2] <= "08"]
FENCED = re.compile(r"```python\n(.*?)```", re.DOTALL)


def tagged(nb, tag):
    return [i for i, c in enumerate(nb.cells) if tag in c.get("metadata", {}).get("tags", [])]


def exercise_cells(path):
    """(exercise, check, solution) cell indices of the lecture at ``path``, in order."""
    nb = nbformat.read(path, as_version=4)
    return nb, list(
        zip(
            tagged(nb, "exercise"),
            tagged(nb, "exercise-check"),
            tagged(nb, "solution"),
            strict=True,
        )
    )


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_exercises_are_committed_unanswered_and_follow_the_pattern(path):
    """Two or three exercises; each ends `name = None`, then its check, then a hidden solution."""
    nb, triples = exercise_cells(path)
    assert 2 <= len(triples) <= 3, f"{path.name}: {len(triples)} exercises"
    for k, (ex, check, sol) in enumerate(triples, start=1):
        answer = nb.cells[ex].source.strip().splitlines()[-1]
        match = re.fullmatch(r"(\w+) = None(\s+#.*)?", answer)
        assert match, f"{path.name}: exercise {k} does not end with 'name = None': {answer!r}"
        assert check == ex + 1 and sol == ex + 2, f"{path.name}: exercise {k} cells out of order"
        assert f"if {match.group(1)} is not None:" in nb.cells[check].source
        solution = nb.cells[sol].source
        assert solution.startswith("<details>") and solution.rstrip().endswith("</details>")
        assert len(FENCED.findall(solution)) == 1


@pytest.mark.notebooks
@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_published_solutions_pass_their_checks(path, tmp_path):
    """With every solution in place of its exercise, each check prints that it is correct."""
    nb, triples = exercise_cells(path)
    for ex, _, sol in triples:
        nb.cells[ex].source = FENCED.findall(nb.cells[sol].source)[0]
    # cells after the last check cannot change the verdict: leave them out
    nb.cells = nb.cells[: triples[-1][1] + 1]
    answered = tmp_path / path.name
    nbformat.write(nb, answered)
    run = run_notebook(answered)
    assert run.error is None, f"{path.name} with its solutions failed:\n{run.error}"
    printed = [
        "".join(o.get("text", "") for o in run.nb.cells[check].outputs).strip()
        for _, check, _ in triples
    ]
    expected = [f"exercise {number}: correct" for number in exercise_numbers(nb, triples)]
    assert printed == expected


def exercise_numbers(nb, triples):
    """The number each check cell names, e.g. "5.1" from "# check of exercise 5.1: ..."."""
    return [
        re.search(r"# check of exercise ([\w.]+):", nb.cells[check].source).group(1)
        for _, check, _ in triples
    ]


PS_LINK = re.compile(r"\]\((\.\./exercises/[^)]+\.ipynb)\)")


@pytest.mark.parametrize("path", WITH_EXERCISES, ids=lambda p: p.name)
def test_lecture_prompts_predictions_and_ends_with_its_practice(path):
    """At least two "predict, then run" prompts; the last text names the problem sets to do."""
    nb = nbformat.read(path, as_version=4)
    markdown = [c.source for c in nb.cells if c.cell_type == "markdown"]
    assert sum(text.count("**Predict, then run.**") for text in markdown) >= 2
    assert "**Practice.**" in markdown[-1], f"{path.name}: no practice paragraph at the end"
    for link in PS_LINK.findall(markdown[-1]):
        target = (path.parent / link).resolve()
        assert target.is_file(), f"{path.name}: {link} does not exist"


def test_every_problem_set_is_the_practice_of_a_lecture():
    """Each problem set in exercises/ is linked from a lecture's closing practice paragraph;
    lecture 05 links both sets that practise backpropagation, ps2_backward and ps4_autograd."""
    linked = {}
    for path in lecture_paths():
        nb = nbformat.read(path, as_version=4)
        last = [c.source for c in nb.cells if c.cell_type == "markdown"][-1]
        linked[path.stem] = {link.split("/")[2] for link in PS_LINK.findall(last)}
    problem_sets = {p.parent.name for p in (ROOT / "exercises").glob("*/*.ipynb")}
    assert problem_sets <= set().union(*linked.values()), "a problem set no lecture links"
    assert {"ps2_backward", "ps4_autograd"} <= linked["05_backprop"]
