"""The four nbgrader assignments: structure, release, and grading by real nbgrader.

The fast tests read the notebooks. The ``grading`` tests build one throwaway course
per assignment and run nbgrader on it (generate_assignment, autograde,
generate_feedback), the four courses side by side, with these submissions:

- the instructor's solution notebook, five times (full marks every time);
- the unchanged student release (zero);
- a blank notebook whose answer cells are empty (zero, and no hidden test leaks
  through its NameErrors);
- a tampered one: test cells deleted or replaced by ``pass`` are put back;
- the corpus of tests/exercise_corpus: every wrong answer must lose points on its
  function's test cell, every alternative right answer must get full marks.

Problem sets 1-3 have one answer cell and one test cell per function of the
contract. Problem set 4 writes one class across several answer cells and tests it
skill by skill, so its answer cells and test cells are listed separately (PS4_ANSWERS,
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
    answer_cells,
    grade_id,
    grade_in_process,
    graded_cells,
    load_corpus,
    release_path,
    rounds,
    solution_path,
    substitute,
    without_demo,
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
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.DOTALL)


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
    """The test cells' names without "test_": the contract's functions, ps4's skills."""
    return PS4_TESTS if assignment == "ps4_autograd" else list(CONTRACT[assignment])


def subjects(source: str) -> set[str]:
    """What a test cell checks: the first argument of each grading.check... call in it."""
    return {
        node.args[0].id
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr.startswith("check")
        and node.args
        and isinstance(node.args[0], ast.Name)
    }


# --------------------------------------------------------------------------- structure


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_graded_function_has_an_answer_cell_and_a_test_cell(assignment):
    """Each contract function: its answer cell (the contract's signature) and a test cell
    with points, a one-line docstring, visible tests and hidden tests."""
    nb = read(solution_path(assignment))
    answers, tests = answer_cells(nb), graded_cells(nb)
    for cell_name, functions in answer_functions(assignment).items():
        assert cell_name in answers, f"{assignment}: no answer cell {cell_name}"
        for function, params in functions.items():
            assert signature(answers[cell_name].source, function) == params
    for name in skills_of(assignment):
        assert name in tests, f"{assignment}: no test cell test_{name}"
        cell = tests[name]
        assert cell.metadata.nbgrader["points"] > 0
        first = cell.source.splitlines()[0]
        match = re.fullmatch(rf'"""{name} \((\d) points?\): .+\."""', first)
        assert match, f"test_{name} must open with a one-line docstring: {first}"
        assert int(match[1]) == cell.metadata.nbgrader["points"], "docstring and points disagree"
        visible = "\n".join(HIDDEN.sub("", cell.source).splitlines()[1:])
        assert subjects(visible), f"no visible test in test_{name}"
        assert len(HIDDEN.findall(cell.source)) == 1, f"test_{name} needs one hidden block"
    assert set(tests) == set(skills_of(assignment)), "a test cell for nothing in the contract"


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
    for name, cell in graded_cells(nb).items():
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
                assert draws, f"test_{name}: hidden random graphs without a visible one"
                siblings |= {n.id for n in ast.walk(node.targets[0]) if isinstance(n, ast.Name)}
        for node in ast.walk(ast.parse(hidden)):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
                position = PROGRAM_ARGUMENT.get(node.func.attr)
                if position is None:
                    continue
                program = node.args[position]
                if isinstance(program, ast.Constant):
                    assert program.value in shown, f"test_{name} hides {program.value!r}"
                else:
                    assert isinstance(program, ast.Name) and program.id in siblings, (
                        f"test_{name}: {ast.unparse(node)} builds a program no visible test shows"
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
    """At least three known-wrong answers per test cell, and a valid alternative for every
    answer cell."""
    answers = load_corpus(assignment)
    for name in skills_of(assignment):
        wrong = [a for a in answers if a.kind == "wrong" and a.target == name]
        assert len(wrong) >= 3, f"test_{name}: {len(wrong)} wrong answers"
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
    """Judged in-process, each wrong answer fails its test cell with a GradingError about what
    that cell checks (not a NameError of broken corpus code), showing its hint, and each right
    answer passes (every test cell, when others depend on it), whatever the seed of the hidden
    inputs."""
    nb = read(solution_path(assignment))
    wrongly = []
    assert all(r.passed for r in grade_in_process(nb, seed=seed).values())
    checked = {name: subjects(cell.source) for name, cell in graded_cells(nb).items()}
    for answer in load_corpus(assignment):
        cells = None if answer.function in DEPENDENT else {answer.target}
        graded = grade_in_process(substitute(nb, [answer]), cells, seed)
        if answer.kind == "right":
            failed = [f"{name}: {r.message[:300]}" for name, r in graded.items() if not r.passed]
            if failed:
                wrongly.append(f"{answer.label} failed " + "; ".join(failed))
        else:
            result = graded[answer.target]
            first = result.failures[0] if result.failures else ""
            if result.passed or not first.startswith(tuple(checked[answer.target])):
                wrongly.append(f"{answer.label}: {'passed' if result.passed else first}")
            elif "NameError" in result.message:
                wrongly.append(f"{answer.label} is broken: {first}")
            elif answer.hint and answer.hint not in result.message:
                wrongly.append(f"{answer.label}: no hint {answer.hint!r} in {result.message}")
    assert not wrongly, "\n".join(wrongly)


# --------------------------------------------------------------------------- nbgrader


@dataclass
class Plan:
    """What each student of a course submits, and why."""

    notebooks: dict
    answers: dict  # student -> corpus answers in the submission
    tampered: dict  # function -> what the tampered submission did to its test cell


def tampered_submission(assignment: str, nb):
    """Delete or blank out test cells; returns the notebook and what happened where.

    Two test cells get a wrong answer (the first of the corpus for each, in two different
    answer cells) and are deleted or replaced by `pass`; a third, whose answers are right,
    is deleted. No other test cell depends on the answers of these three.
    """
    independent = [name for name in graded_cells(nb) if name not in DEPENDENT]
    wrong = {}  # test cell -> the wrong answer it gets
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
    graded_cells(nb)[edited_wrong].source = "pass"
    drop = {f"test_{deleted_wrong}", f"test_{deleted_right}"}
    nb.cells = [cell for cell in nb.cells if grade_id(cell) not in drop]
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
    for cell in answer_cells(blank).values():
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
    """Every assignment's course, graded by nbgrader (the four run concurrently)."""
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
    return {cell: score for cell, (score, top) in cells.items() if score < top}


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
    """The instructor's notebook, submitted by five students, gets every point each time."""
    scores = graded[assignment].scores
    for k in range(1, 6):
        cells = scores[f"instructor{k}"]
        tests = {f"test_{name}" for name in skills_of(assignment)}
        assert tests <= set(cells), "a test cell was not graded"
        autograded = {cell: cells[cell] for cell in tests}
        assert not lost_points(autograded), f"instructor{k} lost points: {lost_points(autograded)}"


@pytest.mark.grading
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_unchanged_release_and_blank_answers_get_zero(graded, assignment):
    """The release as handed out, and a notebook with empty answer cells, score nothing."""
    for student in ("release", "blank"):
        cells = graded[assignment].scores[student]
        assert all(top > 0 for _, top in cells.values())
        assert sum(score for score, _ in cells.values()) == 0, f"{student}: {cells}"


@pytest.mark.grading
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_deleted_or_edited_test_cells_are_put_back(graded, assignment):
    """A test cell the student deleted or replaced by `pass` is restored and graded."""
    cells = graded[assignment].scores["tampered"]
    for function, what in graded[assignment].plan.tampered.items():
        score, top = cells[f"test_{function}"]
        assert top > 0
        assert (score == top) if what == "deleted" else (score == 0), f"{function} {what}: {score}"


@pytest.mark.grading
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_wrong_answer_loses_points_on_its_own_cell(graded, assignment):
    """Kill rate 100%: each known-wrong answer costs points on its function's test cell."""
    result = graded[assignment]
    survivors, total = [], 0
    for student, group in result.plan.answers.items():
        for answer in group:
            if answer.kind == "wrong":
                total += 1
                score, top = result.scores[student][f"test_{answer.target}"]
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
