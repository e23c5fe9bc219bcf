"""How far apart the grader keeps right and wrong answers, function by function.

Every answer of the exercise corpus (tests/exercise_corpus/), plus the instructor's
own, is substituted into its solution notebook and its test cell (visible and hidden
tests; every cell, for a right answer other cells depend on) is run in-process with
``nnkit.grading.record()``. The
error of a comparison is measured in units of its tolerance (``|got - expected| /
(atol + rtol |expected|)``, 1 = the pass/fail line):

- worst right: the largest error any correct answer makes in any check (must be < 1);
- best wrong: the smallest error by which a wrong answer fails (must be > 1);
  ``inf`` means every wrong answer fails a non-numeric check (exception, warning,
  shape, dtype, modified input);
- gap: log10(best wrong / worst right), orders of magnitude between the two.

Usage: .venv/bin/python benchmarks/grader_margins.py
"""

import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nbformat

from tests.exercise_corpus import (
    ASSIGNMENTS,
    DEPENDENT,
    Answer,
    grade_in_process,
    load_corpus,
    solution_path,
    substitute,
)


def measure(assignment: str) -> list[dict]:
    """One row per test cell: the right and wrong answers' errors and misgradings.

    A wrong answer counts in the row of the test cell it must fail; a right answer in the
    row of every test cell it reaches (all of them when other cells depend on its answer).
    """
    nb = nbformat.read(solution_path(assignment), as_version=4)
    instructor = grade_in_process(nb)
    rows = {
        function: {"function": function, "right": [result.ratio], "wrong": [], "misgraded": []}
        for function, result in instructor.items()
    }
    for function, result in instructor.items():
        if not result.passed:
            rows[function]["misgraded"].append(f"instructor's answer: {result.message}")
    answers: list[Answer] = load_corpus(assignment)
    for answer in answers:
        if answer.kind == "wrong":
            result = grade_in_process(substitute(nb, [answer]), {answer.target})[answer.target]
            rows[answer.target]["wrong"].append(result.ratio)
            if result.passed:
                rows[answer.target]["misgraded"].append(f"{answer.label}: passed")
            continue
        cells = None if answer.function in DEPENDENT else {answer.target}
        for function, result in grade_in_process(substitute(nb, [answer]), cells).items():
            rows[function]["right"].append(result.ratio)
            if not result.passed:
                rows[function]["misgraded"].append(f"{answer.label}: {result.message}")
    return list(rows.values())


def _fmt(x: float) -> str:
    return "inf" if math.isinf(x) else f"{x:.1e}"


def main() -> None:
    start = time.perf_counter()
    header = ("function", "right", "worst right", "wrong", "best wrong", "gap")
    print("{:<32} {:>5} {:>11} {:>5} {:>10} {:>6}".format(*header))
    problems = []
    for assignment in ASSIGNMENTS:
        print(f"-- {assignment}")
        for row in measure(assignment):
            worst_right, best_wrong = max(row["right"]), min(row["wrong"], default=math.nan)
            if not best_wrong > worst_right:
                gap = "NONE"  # a wrong answer does as well as a right one
            elif worst_right == 0 or math.isinf(best_wrong):
                gap = "inf"
            else:
                gap = f"{math.log10(best_wrong / worst_right):.1f}"
            print(
                f"{row['function']:<32} {len(row['right']):>5} {_fmt(worst_right):>11} "
                f"{len(row['wrong']):>5} {_fmt(best_wrong):>10} {gap:>6}"
            )
            problems += [f"{assignment}: {m}" for m in row["misgraded"]]
    print(f"\nmisgraded answers: {len(problems)}  ({time.perf_counter() - start:.1f} s)")
    for problem in problems:
        print(" ", problem[:400])


if __name__ == "__main__":
    main()
