"""The four nbgrader assignments: structure, release, and grading by real nbgrader.

The fast tests read the notebooks, and judge the corpus of tests/exercise_corpus
in-process: every wrong answer loses points and already fails a visible test (with
its hint, where one is promised), every right answer passes, and a mistake in a
function that another one composes costs its points once. The ``grading`` tests
build one throwaway course per assignment and run nbgrader on it
(generate_assignment, autograde, generate_feedback), the four courses side by
side, with these submissions:

- the instructor's solution notebook, five times (full marks on every autograded
  cell, the written answers left for grading by hand);
- the unchanged student release (zero);
- a blank notebook whose answer cells are empty (zero, and no hidden test leaks
  through its NameErrors);
- a tampered one: test cells deleted or replaced by ``pass`` are put back;
- the corpus: every wrong answer must lose points on its function's test cells,
  every alternative right answer must get full marks.

Problem sets 1-3 have one answer cell per function of the contract, and one test cell
per function (or several, ``test_f__part``, when its points are split by skill).
Problem set 4 writes one class across several answer cells and tests it skill by
skill, so its answer cells and test cells are listed separately (PS4_ANSWERS,
PS4_TESTS); answer_functions and skills_of give both for any problem set.
"""

from __future__ import annotations

import ast
import html
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

from tests.exercise_corpus import (
    ASSIGNMENTS,
    DEPENDENT,
    Answer,
    answer_cells,
    autograded_cells,
    function_of,
    grade_id,
    grade_in_process,
    graded_cells,
    is_test,
    load_corpus,
    release_path,
    rounds,
    solution_path,
    substitute,
    without_demo,
    written_cells,
)
from tests.exercise_corpus.course import build_course, start_grading

# The graded functions and their signatures, as fixed by the exercise contract.
CONTRACT = {
    "ps1_forward": {
        "count_parameters": "layer_sizes",
        "linear_forward": "X, W, b",
        "sigmoid": "z",
        "relu": "z",
        "tanh": "z",
        "gelu": "z",
        "softmax": "Z",
        "one_hot": "y, C",
        "cross_entropy": "P, Y",
        "mlp_forward": "X, params, activation='relu'",
    },
    "ps2_backward": {
        "sigmoid_backward": "dA, Z",
        "relu_backward": "dA, Z",
        "tanh_backward": "dA, Z",
        "linear_backward": "dZ, X, W",
        "softmax_cross_entropy_backward": "Z, y",
        "mlp_backward": "X, y, params",
        "numerical_gradient": "f, x, h=1e-05",
        "neuron_ridge_grads": "w, b, x, y, lam",
    },
    "ps3_training": {
        "sgd_step": "params, grads, lr",
        "momentum_step": "params, grads, velocity, lr, beta",
        "inverse_time_decay": "lr0, decay, step",
        "minibatches": "X, y, batch_size, rng",
        "train_mlp": "X, y, params, lr, epochs, batch_size, rng, beta=0.0, decay=0.0",
    },
    "ps4_autograd": {
        "topological_order": "root",
        "ridge_grads_autograd": "w, b, x, y, lam",
    },
}
# Problem set 4: {answer cell: {function: parameters}}, the Value methods included, and its
# test cells, one per skill, in notebook order.
PS4_ANSWERS = {
    "add_mul": {"__add__": "self, other", "__mul__": "self, other"},
    "topological_order": {"topological_order": "root"},
    "backward": {"backward": "self"},
    "arithmetic": {
        "__neg__": "self",
        "__sub__": "self, other",
        "__truediv__": "self, other",
        "__pow__": "self, k",
    },
    "reflected": {
        "__radd__": "self, other",
        "__rsub__": "self, other",
        "__rmul__": "self, other",
        "__rtruediv__": "self, other",
    },
    "exp_tanh_sigmoid_relu": {"exp": "self", "tanh": "self", "sigmoid": "self", "relu": "self"},
    "ridge_grads_autograd": {"ridge_grads_autograd": "w, b, x, y, lam"},
}
PS4_TESTS = [
    "add_mul",
    "topological_order",
    "backward",
    "arithmetic_values",
    "arithmetic_derivatives",
    "exp_tanh_sigmoid_relu",
    "ridge_grads_autograd",
]
LECTURES = {
    "ps1_forward": ["01_anatomy", "02_activations", "03_outputs_and_losses"],
    "ps2_backward": ["02_activations", "03_outputs_and_losses", "05_backprop"],
    "ps3_training": ["06_optimization", "08_digits"],
    "ps4_autograd": ["02_activations", "05_backprop"],
}
# The functions each composite function is built from, as its text says: it is also right when
# it equals their composition, so that a mistake in one of them costs that function's points only.
COMPOSED = {
    "mlp_forward": (
        "ps1_forward",
        ("linear_forward", "relu", "sigmoid", "tanh", "gelu", "softmax"),
    ),
    "mlp_backward": (
        "ps2_backward",
        ("linear_backward", "relu_backward", "softmax_cross_entropy_backward"),
    ),
    "train_mlp": ("ps3_training", ("minibatches", "inverse_time_decay", "momentum_step")),
}
# The kinds of input a check uses, which label every group of visible and hidden checks, e.g.
# `# [extremes] z = +-1000`. The hidden tests of a cell use only kinds its visible tests show.
FAMILIES = {
    "shapes": "other shapes and sizes: non-square, one row, two classes, 3-D arrays, other keys",
    "extremes": "the edges of float64: saturation, huge logits, tiny or exactly zero probabilities",
    "scales": "rows of very different scales in one batch",
    "edges": "cases a convention decides: the ReLU's kink, absent classes, lr = 0, one layer",
    "settings": "other values of the other arguments: h, activation, lr, beta, decay, batch size",
    "gradients": "agreement with central differences",
}
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.DOTALL)
LABELS = re.compile(r"^[ \t]*#[ \t]*((?:\[\w+\][ \t]*)+)", re.MULTILINE)
TITLE = r'"""{function}(?:, (?P<part>[^()]+))? \((?P<points>\d) points?\): .+\."""'


def read(path: Path):
    return nbformat.read(path, as_version=4)


def signature(source: str, function: str) -> str:
    """The parameter list of ``def function(...)`` in ``source``, as written by ast."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return ast.unparse(node.args)
    raise AssertionError(f"no def {function} in:\n{source}")


def hidden_lines(nb) -> set[str]:
    """Lines of hidden tests worth looking for: at least 12 characters, and not found
    anywhere in what students are meant to see (visible tests, text, given code)."""
    hidden = {
        line.strip()
        for cell in nb.cells
        for b in HIDDEN.findall(cell.source)
        for line in b.splitlines()
    }
    visible = normalise("\n".join(HIDDEN.sub("", cell.source) for cell in nb.cells))
    return {line for line in hidden if len(line) >= 12 and normalise(line) not in visible}


def normalise(text: str) -> str:
    return " ".join(text.split())


def answer_functions(assignment: str) -> dict[str, dict[str, str]]:
    """{answer cell: {function: parameters}}: one cell per contract function but in ps4."""
    if assignment == "ps4_autograd":
        return PS4_ANSWERS
    return {function: {function: params} for function, params in CONTRACT[assignment].items()}


def skills_of(assignment: str) -> list[str]:
    """What the test cells are named after: the contract's functions, ps4's skills."""
    return PS4_TESTS if assignment == "ps4_autograd" else list(CONTRACT[assignment])


def _is_check(call: ast.Call, helpers: set[str]) -> bool:
    """A call of grading.check*/expect*, or of one of the cell's helpers that makes one."""
    func = call.func
    if isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name):
        return func.value.id == "grading" and func.attr.startswith(("check", "expect"))
    return isinstance(func, ast.Name) and func.id in helpers


def _runs_a_check(node: ast.AST, helpers: set[str]) -> bool:
    return any(isinstance(n, ast.Call) and _is_check(n, helpers) for n in ast.walk(node))


def checking_helpers(source: str) -> set[str]:
    """The functions a test cell defines that make checks (directly or through each other)."""
    defs = [n for n in ast.walk(ast.parse(source)) if isinstance(n, ast.FunctionDef)]
    helpers: set[str] = set()
    while new := {d.name for d in defs if d.name not in helpers and _runs_a_check(d, helpers)}:
        helpers |= new
    return helpers


def check_groups(code: str, helpers: set[str]) -> list[set[str]]:
    """For each top-level statement of ``code`` that makes a check, the kinds of input named
    by the nearest label comment above it (``# [shapes] [extremes] ...``); empty if none."""
    labels = {
        code.count("\n", 0, m.start()) + 1: set(re.findall(r"\[(\w+)\]", m[1]))
        for m in LABELS.finditer(code)
    }
    groups = []
    for node in ast.parse(code).body:
        if isinstance(node, ast.FunctionDef) or not _runs_a_check(node, helpers):
            continue
        above = [line for line in labels if line < node.lineno]
        groups.append(labels[max(above)] if above else set())
    return groups


# --------------------------------------------------------------------------- structure


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_function_has_an_answer_cell_and_titled_test_cells(assignment):
    """Each contract function: its answer cell (the contract's signature), then one test cell
    ``test_f``, or several ``test_f__part`` (its points split by skill), each with points, a
    one-line docstring title ``f, part (N points): what it checks.``, visible tests and one
    hidden block."""
    nb = read(solution_path(assignment))
    answers, tests = answer_cells(nb), graded_cells(nb)
    for cell_name, functions in answer_functions(assignment).items():
        assert cell_name in answers, f"{assignment}: no answer cell {cell_name}"
        for function, params in functions.items():
            assert signature(answers[cell_name].source, function) == params
    for function in skills_of(assignment):
        assert function in tests, f"{assignment}: no test cell for {function}"
        parts = []
        for cell in tests[function]:
            test_id, points = grade_id(cell), cell.metadata.nbgrader["points"]
            assert points > 0
            first = cell.source.splitlines()[0]
            match = re.fullmatch(TITLE.format(function=function), first)
            assert match, f"{test_id} must open with a one-line docstring title: {first}"
            assert int(match["points"]) == points, f"{test_id}: docstring and points disagree"
            parts.append(match["part"])
            single = len(tests[function]) == 1
            assert (test_id == f"test_{function}") == single == (match["part"] is None), test_id
            assert single or re.fullmatch(rf"test_{function}__[a-z_]+", test_id), test_id
            visible = ast.parse(HIDDEN.sub("", cell.source))
            helpers = checking_helpers(cell.source)
            assert _runs_a_check(visible, helpers), f"{test_id}: no visible test"
            assert len(HIDDEN.findall(cell.source)) == 1, f"{test_id} needs one hidden block"
        assert len(set(parts)) == len(parts), f"{function}: two test cells with one title"
    assert set(tests) == set(skills_of(assignment)), "a test cell for nothing in the contract"


@pytest.mark.parametrize("assignment", [a for a in ASSIGNMENTS if a != "ps4_autograd"])
def test_every_hidden_input_family_has_a_visible_sibling(assignment):
    """Nothing hidden unannounced: every group of checks, visible or hidden, is labelled with
    the kinds of input it uses (``# [shapes]``, ``# [extremes]``...), every kind a cell's
    hidden tests use its visible tests show too, and the notebook's text explains each label.
    (Problem set 4's tests build programs: the test after this one holds them to the rule.)"""
    nb = read(solution_path(assignment))
    text = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    for test_id, cell in autograded_cells(nb).items():
        helpers = checking_helpers(cell.source)
        (hidden,) = HIDDEN.findall(cell.source)
        shown = check_groups(HIDDEN.sub("", cell.source), helpers)
        secret = check_groups(hidden, helpers)
        assert shown and secret, f"{test_id}: visible and hidden checks both"
        for where, groups in (("visible", shown), ("hidden", secret)):
            assert all(groups), f"{test_id}: a {where} check with no [kind] label above it"
            unknown = set().union(*groups) - set(FAMILIES)
            assert not unknown, f"{test_id}: unknown labels {sorted(unknown)}"
        missing = set().union(*secret) - set().union(*shown)
        assert not missing, f"{test_id}: hidden checks of kinds {sorted(missing)}, no visible one"
        for family in set().union(*shown):
            assert f"`[{family}]`" in text, f"{assignment}: the text never explains [{family}]"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_written_questions_are_left_to_grading_by_hand(assignment):
    """Two or three short questions per set: a Markdown question, then a Markdown answer cell
    worth 1 point that nbgrader collects for grading by hand (grade and solution); the release
    holds nbgrader's stub where the solution has a model answer."""
    nb = read(solution_path(assignment))
    written = written_cells(nb)
    assert 2 <= len(written) <= 3, f"{assignment}: {len(written)} written questions"
    for number, (answer_id, cell) in enumerate(written.items(), start=1):
        meta = cell.metadata.nbgrader
        assert answer_id.startswith("answer_") and meta["points"] == 1 and not meta["locked"]
        question = nb.cells[nb.cells.index(cell) - 1]
        assert question.cell_type == "markdown", answer_id
        assert question.source.startswith(f"**Question {number}** (1 point, graded by hand)."), (
            answer_id
        )
        assert len(cell.source.split()) > 30, f"{answer_id}: a model answer for the graders"
    released = written_cells(read(release_path(assignment)))
    assert set(released) == set(written)
    assert all(cell.source == "YOUR ANSWER HERE" for cell in released.values())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_stubs_raise_not_implemented_naming_their_function(assignment):
    """In the student release each answer cell keeps its def and raises NotImplementedError
    with the function's name, and no solution or hidden test is left."""
    nb = read(release_path(assignment))
    answers = answer_cells(nb)
    for cell_name, functions in answer_functions(assignment).items():
        source = answers[cell_name].source
        for function, params in functions.items():
            assert f'raise NotImplementedError("{function}: replace this line' in source
            assert signature(source, function) == params
    text = json.dumps(nb)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN", "END HIDDEN"):
        assert marker not in text


# where a ps4 check takes the program it builds: check_expression(Value, program, ...)
PROGRAM_ARGUMENT = {
    "check_expression": 1,
    "check_graph_gradient": 1,
    "evaluate": 1,
    "check_topological_order": 2,
}


def test_ps4_hidden_tests_check_only_programs_the_visible_tests_show():
    """Every hidden test of problem set 4 has a visible sibling: a program it builds is written
    in the visible tests of its cell (looped over at new inputs), or is a random graph of the
    kind the visible tests draw too."""
    nb = read(solution_path("ps4_autograd"))
    for test_id, cell in autograded_cells(nb).items():
        visible = ast.parse(HIDDEN.sub("", cell.source))
        (hidden,) = HIDDEN.findall(cell.source)
        shown = {n.value for n in ast.walk(visible) if isinstance(n, ast.Constant)}
        defined = {n.id for n in ast.walk(visible) if isinstance(n, ast.Name)}
        draws = "random_program" in ast.unparse(visible)
        siblings = set()  # names the hidden tests bind to visible programs or to random graphs
        for node in ast.walk(ast.parse(hidden)):
            if isinstance(node, ast.For) and ast.unparse(node.iter) in defined:
                siblings |= {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}
            elif isinstance(node, ast.Assign) and "random_program" in ast.unparse(node.value):
                assert draws, f"{test_id}: hidden random graphs without a visible one"
                siblings |= {n.id for n in ast.walk(node.targets[0]) if isinstance(n, ast.Name)}
        for node in ast.walk(ast.parse(hidden)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                position = PROGRAM_ARGUMENT.get(node.func.attr)
                if position is None:
                    continue
                program = node.args[position]
                if isinstance(program, ast.Constant):
                    assert program.value in shown, f"{test_id} hides {program.value!r}"
                else:
                    assert isinstance(program, ast.Name) and program.id in siblings, (
                        f"{test_id}: {ast.unparse(node)} builds a program no visible test shows"
                    )


@pytest.mark.parametrize(
    "path", [solution_path(a) for a in ASSIGNMENTS] + [release_path(a) for a in ASSIGNMENTS]
)
def test_notebooks_are_committed_without_outputs(path):
    """Instructor sources and releases carry no outputs or execution counts."""
    for cell in read(path).cells:
        if cell.cell_type == "code":
            assert not cell.outputs and cell.execution_count is None, cell.source[:80]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebooks_link_the_lectures_they_practise(assignment):
    """Each problem set links its lectures with relative links that resolve."""
    path = solution_path(assignment)
    text = "\n".join(c.source for c in read(path).cells if c.cell_type == "markdown")
    links = set(re.findall(r"\]\((\.\./\.\./lectures/[^)]+\.ipynb)\)", text))
    assert {Path(link).stem for link in links} == set(LECTURES[assignment])
    for link in links:
        assert (path.parent / link).resolve().is_file(), f"{path.name}: {link} does not exist"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_notebooks_state_the_tolerance_and_the_no_warning_rule(assignment):
    """Students read how close is close enough, and that stderr output scores zero."""
    text = "\n".join(
        c.source for c in read(release_path(assignment)).cells if c.cell_type == "markdown"
    )
    assert "**Tolerance.**" in text or "Floats pass when" in text
    assert "10^{-6}" in text and "10^{-9}" in text  # RTOL and ATOL of nnkit.grading
    assert "stderr" in text


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_corpus_has_three_wrong_answers_per_function_and_alternatives(assignment):
    """At least three known-wrong answers per tested function (ps4: per skill), and a valid
    alternative for every answer cell."""
    answers = load_corpus(assignment)
    for name in skills_of(assignment):
        wrong = [a for a in answers if a.kind == "wrong" and a.target == name]
        assert len(wrong) >= 3, f"{name}: {len(wrong)} wrong answers"
    for cell_name in answer_functions(assignment):
        right = [a for a in answers if a.kind == "right" and a.function == cell_name]
        assert right, f"{cell_name}: no alternative right answer"
    assert {a.function for a in answers} <= set(answer_functions(assignment))
    assert {a.target for a in answers if a.kind == "wrong"} <= set(skills_of(assignment))


# hidden inputs change with the course offering (c.Judge.seed): every seed must grade alike
SEEDS = (0, 2026, 31337)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_corpus_answers_are_told_apart_for_the_right_reason(assignment, seed):
    """Judged in-process, each wrong answer fails a test cell of its function (ps4: of its
    skill) with a GradingError about what that cell checks (not a NameError of broken corpus
    code), with its hint where it promises one, and each right answer passes (every test cell,
    when others depend on it), whatever the seed of the hidden inputs."""
    nb = read(solution_path(assignment))
    wrongly = []
    assert all(r.passed for r in grade_in_process(nb, seed=seed).values())
    for answer in load_corpus(assignment):
        cells = None if answer.function in DEPENDENT else {answer.target}
        wrongly += misjudged(answer, grade_in_process(substitute(nb, [answer]), cells, seed), nb)
    assert not wrongly, "\n".join(wrongly)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_visible_tests_alone_already_fail_every_known_mistake(assignment):
    """Run as the student's kernel runs them (visible tests only, no answer key), the test
    cells pass the instructor's solution and every right answer, and fail every wrong answer
    with its hint, except those marked as caught by hidden tests only."""
    nb = read(solution_path(assignment))
    assert all(r.passed for r in grade_in_process(nb, visible_only=True).values())
    wrongly = []
    for answer in load_corpus(assignment):
        if answer.hidden_only:
            continue
        cells = None if answer.function in DEPENDENT else {answer.target}
        graded = grade_in_process(substitute(nb, [answer]), cells, visible_only=True)
        wrongly += misjudged(answer, graded, nb)
    assert not wrongly, "\n".join(wrongly)


def subjects(cells) -> set[str]:
    """What test cells check: the first argument of each grading.check... call in them."""
    return {
        node.args[0].id
        for cell in cells
        for node in ast.walk(ast.parse(cell.source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr.startswith(("check", "expect"))
        and node.args
        and isinstance(node.args[0], ast.Name)
    }


def misjudged(answer: Answer, graded: dict, nb) -> list[str]:
    """What is wrong with how a corpus answer was graded (nothing, if it was graded right)."""
    if answer.kind == "right":
        failed = [f"{name}: {r.message[:300]}" for name, r in graded.items() if not r.passed]
        return [f"{answer.label} failed " + "; ".join(failed)] if failed else []
    result = graded[answer.target]
    first = result.failures[0] if result.failures else result.message
    checked = (answer.function, *subjects(graded_cells(nb)[answer.target]))
    if result.passed or not first.startswith(checked):
        return [f"{answer.label}: {'passed' if result.passed else first.splitlines()[0]}"]
    if "NameError" in result.message:
        return [f"{answer.label} is broken: {first.splitlines()[0]}"]
    if answer.hint and not any(answer.hint in message for message in result.messages):
        return [f"{answer.label}: no hint {answer.hint!r} in:\n" + "\n".join(result.messages)]
    return []


# A problem-set-2 mistake pasted into problem set 3: the loss and every gradient doubled.
DOUBLED_BACKWARD = """\
def mlp_backward(X, y, params):
    Z1 = X @ params["W1"] + params["b1"]
    A1 = relu(Z1)
    P = softmax(A1 @ params["W2"] + params["b2"])
    N = len(y)
    loss = -np.mean(np.log(P[np.arange(N), y]))
    dZ2 = (P - one_hot(y, P.shape[1])) / N
    dZ1 = (dZ2 @ params["W2"].T) * (Z1 > 0)
    grads = {"W1": X.T @ dZ1, "b1": dZ1.sum(axis=0), "W2": A1.T @ dZ2, "b2": dZ2.sum(axis=0)}
    return 2 * loss, {key: 2 * g for key, g in grads.items()}
"""
# Wrong pieces a composite cannot be graded against: they fail inside it as well (an exception,
# an overflow warning, a modified input are the composite's too), or give another result at
# every call.
NOISY = re.compile(r"\) (raised|emitted a warning|changed its input)|cannot be checked until")
UNCOMPOSABLE = {
    "numpy's global generator instead of rng": "np.random's state differs between two runs",
}


@pytest.mark.parametrize("composite", COMPOSED)
def test_a_mistake_in_a_piece_costs_its_own_points_only(composite):
    """mlp_forward, mlp_backward and train_mlp keep their points when a function they are built
    from is wrong, as long as that wrong piece runs silently and repeatably (ps3's train_mlp
    likewise with a wrong mlp_backward pasted from ps2); a composite that is itself wrong still
    fails, which the corpus tests above check."""
    assignment, pieces = COMPOSED[composite]
    nb = read(solution_path(assignment))
    wrong_pieces = [
        a for a in load_corpus(assignment) if a.kind == "wrong" and a.function in pieces
    ]
    if composite == "train_mlp":
        ps2_mistake = "a problem-set-2 mistake: loss and gradients doubled"
        wrong_pieces.append(
            Answer(
                assignment, "wrong", "mlp_backward", ps2_mistake, DOUBLED_BACKWARD, "mlp_backward"
            )
        )
    counted_again = []
    for piece in wrong_pieces:
        result = grade_in_process(substitute(nb, [piece]), {composite})[composite]
        noisy = any(NOISY.search(message) for message in result.messages)
        if not result.passed and not noisy and piece.description not in UNCOMPOSABLE:
            counted_again.append(f"{piece.label}: {composite} failed: {result.message[:500]}")
    assert len(wrong_pieces) >= 5
    assert not counted_again, "\n".join(counted_again)


# --------------------------------------------------------------------------- nbgrader


@dataclass
class Plan:
    """What each student of a course submits, and why."""

    notebooks: dict
    answers: dict  # student -> corpus answers in the submission
    tampered: dict  # function -> what the tampered submission did to its test cells


def tampered_submission(assignment: str, nb):
    """Delete or blank out test cells; returns the notebook and what happened where.

    The test cells of two functions (ps4: skills) get a wrong answer (the first of the corpus
    for each, in two different answer cells) and are deleted or replaced by `pass`; those of a
    third, whose answers are right, are deleted. No other test cell depends on these answers.
    """
    independent = [name for name in graded_cells(nb) if name not in DEPENDENT]
    wrong = {}  # function or skill -> the wrong answer it gets
    for answer in load_corpus(assignment):
        if (
            len(wrong) < 2
            and answer.kind == "wrong"
            and answer.target in independent
            and answer.target not in wrong
            and answer.function not in {a.function for a in wrong.values()}
        ):
            wrong[answer.target] = answer
    deleted_wrong, edited_wrong = wrong
    deleted_right = next(name for name in independent if name not in wrong)
    nb = substitute(nb, [wrong[deleted_wrong], wrong[edited_wrong]])
    for cell in graded_cells(nb)[edited_wrong]:
        cell.source = "pass"
    drop = {deleted_wrong, deleted_right}
    nb.cells = [
        cell for cell in nb.cells if not is_test(cell) or function_of(grade_id(cell)) not in drop
    ]
    plan = {
        deleted_wrong: "deleted, wrong",
        edited_wrong: "edited, wrong",
        deleted_right: "deleted",
    }
    return nb, plan


def plan_course(assignment: str) -> Plan:
    solution = read(solution_path(assignment))
    short = without_demo(solution)
    notebooks = {f"instructor{k}": solution for k in range(1, 6)}
    notebooks["release"] = read(release_path(assignment))
    blank = nbformat.from_dict(short)
    for cell in [*answer_cells(blank).values(), *written_cells(blank).values()]:
        cell.source = ""
    notebooks["blank"] = blank
    notebooks["tampered"], tampered = tampered_submission(assignment, short)
    answers = {}
    for k, group in enumerate(rounds(load_corpus(assignment)), start=1):
        student = f"{group[0].kind}{k:02d}"
        notebooks[student] = substitute(short, group)
        answers[student] = group
    return Plan(notebooks, answers, tampered)


@dataclass
class Graded:
    course: Path
    plan: Plan
    scores: dict  # student -> {cell: (score, max_score)}


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict[str, Graded]:
    """Every assignment's course, graded by nbgrader (the three run concurrently)."""
    running = {}
    results = {}
    try:
        for assignment in ASSIGNMENTS:
            plan = plan_course(assignment)
            course = build_course(tmp_path_factory.mktemp(assignment), assignment, plan.notebooks)
            running[assignment] = (course, plan, start_grading(course, assignment))
        for assignment, (course, plan, process) in running.items():
            status = process.wait(timeout=3600)
            log = (course / "nbgrader.log").read_text()
            assert status == 0, f"nbgrader failed on {assignment}:\n{log[-6000:]}"
            scores = json.loads((course / "scores.json").read_text())
            assert set(scores) == set(plan.notebooks), "a submission was not graded"
            results[assignment] = Graded(course, plan, scores)
    finally:
        for _, _, process in running.values():
            if process.poll() is None:
                process.kill()
                process.wait()
    return results


def lost_points(cells: dict) -> dict:
    """{autograded cell: score} of the cells that scored less than their points."""
    return {
        cell: score for cell, (score, top, _) in cells.items() if is_test_id(cell) and score < top
    }


def is_test_id(cell: str) -> bool:
    return cell.startswith("test_")


def function_score(cells: dict, function: str) -> tuple[float, float]:
    """(score, points) of all the test cells of ``function``."""
    mine = [
        (score, top)
        for cell, (score, top, _) in cells.items()
        if is_test_id(cell) and function_of(cell) == function
    ]
    return sum(score for score, _ in mine), sum(top for _, top in mine)


@pytest.mark.grading
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_release_is_what_generate_assignment_makes_of_the_solutions(graded, assignment):
    """exercises/ is exactly what `make exercises` (generate_assignment) makes of solutions/."""
    name = f"{ASSIGNMENTS[assignment]}.ipynb"
    fresh = read(graded[assignment].course / "exercises" / assignment / name)
    committed = read(release_path(assignment))
    assert committed.metadata == fresh.metadata
    assert len(committed.cells) == len(fresh.cells)
    for ours, theirs in zip(committed.cells, fresh.cells, strict=True):
        assert (ours.cell_type, ours.get("id"), ours.metadata, ours.source) == (
            theirs.cell_type,
            theirs.get("id"),
            theirs.metadata,
            theirs.source,
        ), f"exercises/{assignment}/{name} is stale: run `make exercises`"


@pytest.mark.grading
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_instructor_solution_gets_full_marks_five_times(graded, assignment):
    """The instructor's notebook, submitted by five students, gets every autograded point each
    time; its written answers wait for grading by hand."""
    solution = read(solution_path(assignment))
    scores = graded[assignment].scores
    for k in range(1, 6):
        cells = scores[f"instructor{k}"]
        assert set(cells) == set(autograded_cells(solution)) | set(written_cells(solution))
        tested = {function_of(cell) for cell in cells if is_test_id(cell)}
        assert tested == set(skills_of(assignment))
        assert not lost_points(cells), f"instructor{k} lost points: {lost_points(cells)}"
        written = {cell: v for cell, v in cells.items() if not is_test_id(cell)}
        assert all(needs_hand for _, _, needs_hand in written.values()), written


@pytest.mark.grading
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_unchanged_release_and_blank_answers_get_zero(graded, assignment):
    """The release as handed out, and a notebook with empty answer cells, score nothing."""
    for student in ("release", "blank"):
        cells = graded[assignment].scores[student]
        assert all(top > 0 for _, top, _ in cells.values())
        assert sum(score for score, _, _ in cells.values()) == 0, f"{student}: {cells}"


@pytest.mark.grading
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_deleted_or_edited_test_cells_are_put_back(graded, assignment):
    """Test cells the student deleted or replaced by `pass` are restored and graded."""
    cells = graded[assignment].scores["tampered"]
    for function, what in graded[assignment].plan.tampered.items():
        score, top = function_score(cells, function)
        assert top > 0
        assert (score == top) if what == "deleted" else (score < top), f"{function} {what}: {score}"


@pytest.mark.grading
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_wrong_answer_loses_points_on_its_own_cells(graded, assignment):
    """Kill rate 100%: each known-wrong answer costs points on its function's test cells."""
    result = graded[assignment]
    survivors, total = [], 0
    for student, group in result.plan.answers.items():
        for answer in group:
            if answer.kind == "wrong":
                total += 1
                score, top = function_score(result.scores[student], answer.target)
                if score >= top:
                    survivors.append(f"{student}: {answer.label}")
    assert total >= 3 * len(skills_of(assignment))
    assert not survivors, f"{len(survivors)}/{total} wrong answers kept full marks:\n" + "\n".join(
        survivors
    )


@pytest.mark.grading
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_alternative_right_answer_gets_full_marks(graded, assignment):
    """Acceptance 100%: einsum, loops, in-place updates... all get every point."""
    result = graded[assignment]
    right = {s: g for s, g in result.plan.answers.items() if g[0].kind == "right"}
    assert right
    for student, group in right.items():
        lost = lost_points(result.scores[student])
        assert not lost, f"{student} ({[a.label for a in group]}) lost {lost}"


@pytest.mark.grading
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_no_hidden_test_line_reaches_a_student(graded, assignment):
    """Neither the release nor any feedback page (failures included) shows hidden tests."""
    result = graded[assignment]
    secret = hidden_lines(read(solution_path(assignment)))
    assert len(secret) > 10
    name = ASSIGNMENTS[assignment]
    handed_out = {
        "committed release": json.dumps(read(release_path(assignment))),
        "generated release": json.dumps(
            read(result.course / "exercises" / assignment / f"{name}.ipynb")
        ),
    }
    pages = sorted((result.course / "feedback").glob(f"*/{assignment}/{name}.html"))
    assert len(pages) == len(result.plan.notebooks), "a student got no feedback"
    for page in pages:
        text = html.unescape(re.sub(r"<[^>]+>", "", page.read_text()))
        handed_out[str(page.relative_to(result.course))] = text
    failures_shown = 0
    for where, text in handed_out.items():
        flat = normalise(text.replace("\\n", "\n").replace('\\"', '"'))
        assert "HIDDEN TESTS" not in flat, f"{where} shows a hidden-tests marker"
        leaked = [line for line in secret if normalise(line) in flat]
        assert not leaked, f"{where} shows hidden tests:\n" + "\n".join(leaked[:5])
        failures_shown += flat.count("GradingError")
    assert failures_shown > 0, "no feedback page shows a failure: the leak check saw nothing"
