"""The lectures' self-checking exercises, and the prompts and pointers around them.

Every lecture uses one pattern for its two or three exercises; write new ones the same way:

1. A markdown cell opening with ``**Exercise N.K.**`` (N the lecture, K = 1, 2, ... in order)
   states the task and says what to replace.
2. The next cell, a code cell tagged ``exercise``, ends with the line ``name = None``. The
   student replaces None by a value, or the line by a function ``def name(...)``.
3. The next cell, tagged ``exercise-check``, opens with ``# check of exercise N.K: <what it
   checks>``. While ``name is None`` it prints ``exercise N.K: not answered yet``; otherwise it
   asserts, with messages that hint at the mistake, and prints ``exercise N.K: correct``. It may
   use anything the lecture defined above it.
4. The next cell, a markdown cell tagged ``solution``, is a collapsed
   ``<details><summary>Solution N.K</summary>`` block: an explanation where one helps, and one
   fenced python block that replaces the exercise cell.

The committed lecture runs clean unanswered (tests/test_lectures.py). Here each lecture runs
once more in a fresh kernel where, after each exercise, its check runs three times: on the
unanswered cell (it must say so), after a typical wrong answer from ``WRONG`` (it must raise
AssertionError) and after the solution (it must print that it is correct). The rest of the
lecture then runs on with the solutions in place, as it does for a student who answered.

Each lecture also asks for a prediction before its key cells (at least two markdown prompts
``**Predict, then run.**``) and ends with a ``**Practice.**`` paragraph linking the problem sets
that practise it.
"""

import re

import nbformat
import pytest

from tests.notebooks import ROOT, lecture_paths, run_notebook

LECTURES = lecture_paths()
FENCED = re.compile(r"```python\n(.*?)```", re.DOTALL)
CHECK_HEADER = re.compile(r"# check of exercise (\d+\.\d+): \S")

# A typical student mistake per exercise, run after the exercise cell as committed (so it may use
# what that cell sets up). Its check must reject it with an AssertionError.
WRONG = {
    # the biases forgotten: weights only
    "1.1": "n_params = 64 * 32 + 32 * 32 + 32 * 10",
    # the first bias dropped instead of passed through W2
    "1.2": "folded = (W1 @ W2, b2)",
    # the index of the minimum, not the z where it is reached
    "2.1": "z_fine = np.linspace(-3, 3, 60001)\n"
    "g = nk.gelu(z_fine)\n"
    "gelu_min = (g.min(), g.argmin())",
    # sigma(0) = 1/2 taken for the slope sigma'(0) = 1/4
    "2.2": "bound_10 = 0.5**10",
    # log base 10
    "3.1": "uniform_loss = np.log10(10)",
    # the logits multiplied by T: that finds the inverse temperature
    "3.2": "from scipy.optimize import brentq\n\n"
    "z = np.array([2.0, 1.0, 0.1, -1.0])\n"
    "T_90 = brentq(lambda T: nk.softmax(z * T)[0] - 0.9, 0.5, 10.0)",
    # the 1/8 of the chord bound forgotten
    "4.1": "bound_8 = (2 * np.pi / 8) ** 2",
    # L hidden-to-hidden matrices counted instead of L - 1
    "4.2": "P_3_6 = 2 * 6 + 3 * (6**2 + 6) + 6 + 1",
    # w's rule copied: the local derivative of z with respect to x is w, not x
    "5.1": "x_bar = z_bar * x",
    # dX given the shape of the weights it multiplies
    "5.2": "shapes = ((6, 5), (2, 5))",
    # the largest stable step 2 / lam_max, not the best one
    "6.1": "kappa = lam_max / lam_min\nbest_step = (2 / lam_max, (kappa - 1) / (kappa + 1))",
    # the geometric series started one term late: beta alpha / (1 - beta)
    "6.2": "terminal_step = 0.9 * 0.01 / (1 - 0.9)",
    # the whole matrix normalised at once, not column by column
    "7.1": "d_normalised = d / np.linalg.norm(d) * np.linalg.norm(W)",
    # the square root forgotten
    "7.2": "c = 4 / 12",
    # the biases forgotten
    "8.1": "n_params = D * 64 + 64 * C",
    # column 3 (predicted 3) read instead of row 3 (true 3)
    "8.2": "mistakes = (K.sum(), K[:, 3].sum())",
    # He's variance, the slope ignored
    "9.1": "def leaky_relu_variance(alpha, n_in):\n    return 2 / n_in",
    # the best epoch plus the patience, even when training never gets that far
    "9.2": "def stop_epoch(val_losses, patience):\n"
    "    return int(np.argmin(val_losses)) + 1 + patience",
    # the second moment of a kept entry times the drop rate, the mean not subtracted
    "9.3": "def dropout_variance(x, p):\n    return x**2 * p",
    # the probability 1/C instead of its negative log
    "10.1": "def expected_initial_loss(C):\n    return 1 / C",
    # the largest entries compared, not the norms
    "10.2": "def update_ratio(W, dW, lr):\n    return lr * np.abs(dW).max() / np.abs(W).max()",
}


def tagged(nb, tag):
    return [i for i, cell in enumerate(nb.cells) if tag in cell.metadata.get("tags", [])]


def exercises(nb):
    """(exercise, check, solution) cell indices of a lecture, in order."""
    return list(
        zip(
            tagged(nb, "exercise"),
            tagged(nb, "exercise-check"),
            tagged(nb, "solution"),
            strict=True,
        )
    )


def number(check_cell):
    """The exercise number a check cell names, e.g. "5.1"."""
    return CHECK_HEADER.match(check_cell.source).group(1)


def lecture_number(path):
    return str(int(path.name[:2]))


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.name)
def test_exercises_follow_the_pattern(path):
    """Two or three exercises numbered in order, each unanswered, then its check and solution."""
    nb = nbformat.read(path, as_version=4)
    triples = exercises(nb)
    assert 2 <= len(triples) <= 3, f"{path.name}: {len(triples)} exercises"
    for k, (ex, check, sol) in enumerate(triples, start=1):
        expected = f"{lecture_number(path)}.{k}"
        where = f"{path.name}, exercise {expected}"
        assert (check, sol) == (ex + 1, ex + 2), f"{where}: exercise, check, solution out of order"
        assert nb.cells[ex - 1].source.startswith(f"**Exercise {expected}.**"), where
        assert nb.cells[ex].cell_type == "code" and nb.cells[sol].cell_type == "markdown", where
        last_line = nb.cells[ex].source.strip().splitlines()[-1]
        answer = re.fullmatch(r"(\w+) = None(\s+#.*)?", last_line)
        assert answer, f"{where}: the exercise cell does not end with 'name = None': {last_line!r}"
        check_source = nb.cells[check].source
        assert CHECK_HEADER.match(check_source), f"{where}: no '# check of exercise N.K: ...' line"
        assert number(nb.cells[check]) == expected, f"{where}: its check names another number"
        assert f"if {answer.group(1)} is None:" in check_source, where
        assert f'print("exercise {expected}: not answered yet")' in check_source, where
        assert f'print("exercise {expected}: correct")' in check_source, where
        solution = nb.cells[sol].source
        assert solution.startswith(f"<details><summary>Solution {expected}</summary>"), where
        assert solution.rstrip().endswith("</details>"), where
        assert len(FENCED.findall(solution)) == 1, f"{where}: the solution needs one python block"


def test_every_exercise_has_one_wrong_answer():
    """WRONG lists the exercises of all lectures, in order, and nothing else."""
    numbers = []
    for path in LECTURES:
        nb = nbformat.read(path, as_version=4)
        numbers += [number(nb.cells[check]) for _, check, _ in exercises(nb)]
    assert list(WRONG) == numbers


def code_cell(source, raises=False):
    cell = nbformat.v4.new_code_cell(source)
    if raises:
        cell.metadata["tags"] = ["raises-exception"]
    return cell


def answered_three_ways(nb):
    """The lecture with each check run unanswered, on a wrong answer and on the solution.

    Returns the new notebook and, per exercise, its number and the indices of the three
    runs of its check.
    """
    cells, runs = [], []
    solution_of = {check: sol for _, check, sol in exercises(nb)}
    for index, cell in enumerate(nb.cells):
        cells.append(cell)
        if index not in solution_of:
            continue
        sol = solution_of[index]
        key = number(cell)
        unanswered = len(cells) - 1
        cells += [code_cell(WRONG[key]), code_cell(cell.source, raises=True)]
        wrong = len(cells) - 1
        cells += [code_cell(FENCED.findall(nb.cells[sol].source)[0]), code_cell(cell.source)]
        runs.append((key, unanswered, wrong, len(cells) - 1))
    nb.cells = cells
    return nb, runs


def printed(cell):
    return "".join(output.get("text", "") for output in cell.outputs).strip()


@pytest.mark.notebooks
@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.name)
def test_checks_reject_a_wrong_answer_and_accept_the_solution(path, tmp_path):
    """Each check says "not answered yet", raises on a typical mistake, passes its solution."""
    nb, runs = answered_three_ways(nbformat.read(path, as_version=4))
    answered = tmp_path / path.name
    nbformat.write(nb, answered)
    run = run_notebook(answered)
    assert run.error is None, f"{path.name} with its solutions failed:\n{run.error}"
    for key, unanswered, wrong, solved in runs:
        assert printed(run.nb.cells[unanswered]) == f"exercise {key}: not answered yet"
        errors = [o.ename for o in run.nb.cells[wrong].outputs if o.output_type == "error"]
        assert errors == ["AssertionError"], f"exercise {key}: its wrong answer gave {errors}"
        assert printed(run.nb.cells[solved]) == f"exercise {key}: correct"


PROBLEM_SET_LINK = re.compile(r"\]\((\.\./exercises/ps\d_\w+/\w+\.ipynb)\)")


@pytest.mark.parametrize("path", LECTURES, ids=lambda p: p.name)
def test_lecture_prompts_predictions_and_ends_with_its_practice(path):
    """At least two "predict, then run" prompts; the last text links the problem sets to do."""
    nb = nbformat.read(path, as_version=4)
    markdown = [cell.source for cell in nb.cells if cell.cell_type == "markdown"]
    assert sum(text.count("**Predict, then run.**") for text in markdown) >= 2
    assert "**Practice.**" in markdown[-1], f"{path.name}: no practice paragraph at the end"
    links = PROBLEM_SET_LINK.findall(markdown[-1])
    assert links, f"{path.name}: the practice paragraph links no problem set"
    for link in links:
        assert (path.parent / link).resolve().is_file(), f"{path.name}: {link} does not exist"


def test_every_problem_set_is_the_practice_of_a_lecture():
    """Each problem set in exercises/ is linked from a lecture's closing practice paragraph;
    lecture 05 links both sets that practise backpropagation, ps2_backward and ps4_autograd."""
    linked = {}
    for path in lecture_paths():
        nb = nbformat.read(path, as_version=4)
        last = [c.source for c in nb.cells if c.cell_type == "markdown"][-1]
        linked[path.stem] = {link.split("/")[2] for link in PROBLEM_SET_LINK.findall(last)}
    problem_sets = {p.parent.name for p in (ROOT / "exercises").glob("*/*.ipynb")}
    assert problem_sets <= set().union(*linked.values()), "a problem set no lecture links"
    assert {"ps2_backward", "ps4_autograd"} <= linked["05_backprop"]
