"""Grade a synthetic class with stock serial nbgrader and with `make grade`'s engine.

    .venv/bin/python benchmarks/bench_grading.py [--students 100] [--workers N] [--keep DIR]
    .venv/bin/python benchmarks/bench_grading.py --class-size 300 [--workers N]
    .venv/bin/python benchmarks/bench_grading.py --dask [--students 20]

Builds a course from the repository's three problem sets (``nbgrader
generate_assignment`` in a temporary directory) and a class of ``--students``
students who each submit all three: most answers are the instructor's, some
students left one answer unanswered (wrong), a few have a syntax error in one
answer cell (broken). Two identical copies are graded:

- serial: ``nbgrader autograde "*" --force``, what an instructor without this
  project runs: stock nbgrader with its own executor, one notebook after another,
  the hidden tests executed in the kernel (``tests/autograde_corpus/stock.py``);
- engine: ``python -m nnkit.autograde grade --workers N --force`` (sandbox and
  judge, as ``make grade`` runs it).

It then checks that both gave every student the same score in every cell and the
same ``nbgrader export`` CSV (exit status 1 if not; the autograded notebooks differ
by design: the judged ones hold no hidden tests and carry the grader's verdict
lines), and prints the times, submissions per minute, and last
``grading speed-up vs serial nbgrader: R``.

``--class-size N`` grades a class of N students x every problem set with the
engine alone and prints last ``class of N x K graded in M min``.

``--dask`` grades the class with the engine twice, with local workers and through a
Dask ``LocalCluster`` of as many single-threaded worker processes, checks that the
grades agree, and prints submissions per minute for both, then a capacity
estimate (students per hour per worker core) for planning a large class.

Timings on a shared machine are noisy: the load average is printed beside them.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.autograde_corpus import NOTEBOOKS, correct, release  # noqa: E402
from tests.autograde_corpus.stock import write_stock_config  # noqa: E402

ENV = {
    **os.environ,
    "JUPYTER_PLATFORM_DIRS": "1",
    "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
}


def run(args: list[str], cwd: Path) -> float:
    """Run a command in ``cwd``; return its wall-clock seconds (fail loudly on error)."""
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        sys.exit(f"{' '.join(args)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return time.perf_counter() - start


def make_class(course: Path, students: int, seed: int = 0) -> dict[str, int]:
    """Write submitted/<student>/<assignment>/; return how many of each kind were made."""
    rng = random.Random(seed)
    kinds = {"correct": 0, "wrong": 0, "broken": 0}
    good = {a: correct(a, course) for a in NOTEBOOKS}
    stubs = {a: release(a, course) for a in NOTEBOOKS}
    for i in range(students):
        for assignment, name in NOTEBOOKS.items():
            nb = nbformat.from_dict(good[assignment])
            answers = [
                j for j, c in enumerate(nb.cells) if c.metadata.get("nbgrader", {}).get("solution")
            ]
            roll = rng.random()
            if roll < 0.15:  # left one answer as handed out
                j = rng.choice(answers)
                nb.cells[j].source = stubs[assignment].cells[j].source
                kinds["wrong"] += 1
            elif roll < 0.20:  # a syntax error in one answer
                j = rng.choice(answers)
                nb.cells[j].source = nb.cells[j].source.replace("def ", "def (", 1)
                kinds["broken"] += 1
            else:
                kinds["correct"] += 1
            folder = course / "submitted" / f"student{i:03d}" / assignment
            folder.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, folder / f"{name}.ipynb")
    return kinds


def scores(course: Path) -> dict[tuple, float | None]:
    from nbgrader.api import Gradebook

    found = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "nnkit") as gb:
        for assignment in gb.assignments:
            for submission in gb.assignment_submissions(assignment.name):
                for notebook in submission.notebooks:
                    for grade in notebook.grades:
                        key = (submission.student_id, assignment.name, grade.name)
                        found[key] = grade.auto_score
    return found


def export(course: Path) -> list[list[str]]:
    run([str(Path(sys.executable).parent / "nbgrader"), "export", "--to", "bench.csv"], course)
    with (course / "bench.csv").open(newline="") as handle:
        return list(csv.reader(handle))


def load() -> str:
    return "load average " + " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--students", type=int, default=100)
    parser.add_argument("--class-size", type=int, help="engine only, for a class of this size")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--keep", type=Path, help="build the courses here and keep them")
    parser.add_argument("--dask", action="store_true", help="local workers vs a Dask cluster")
    args = parser.parse_args()
    students = args.class_size or args.students

    base = args.keep or Path(tempfile.mkdtemp(prefix="bench-grading-"))
    base.mkdir(parents=True, exist_ok=True)
    template = base / "template"
    if template.exists():
        shutil.rmtree(template)
    template.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", template)
    shutil.copytree(ROOT / "solutions", template / "solutions")
    shutil.copytree(ROOT / "grader", template / "grader")
    nbgrader = str(Path(sys.executable).parent / "nbgrader")
    run([nbgrader, "generate_assignment", "*", "--force"], template)
    kinds = make_class(template, students)
    count = students * len(NOTEBOOKS)
    print(
        f"class: {students} students x {len(NOTEBOOKS)} assignments = {count} submissions "
        f"({kinds['correct']} correct, {kinds['wrong']} wrong, {kinds['broken']} broken); "
        f"{os.cpu_count()} cores; {load()}"
    )
    engine_cmd = [sys.executable, "-m", "nnkit.autograde", "grade", "--force"]
    if args.class_size:
        t_engine = run([*engine_cmd, "--workers", str(args.workers)], template)
        print(f"engine, {args.workers} workers: {t_engine:8.1f} s  "
              f"{60 * count / t_engine:6.1f} submissions/min; {load()}")  # fmt: skip
        if args.keep is None:
            shutil.rmtree(base, ignore_errors=True)
        print(f"class of {students} x {len(NOTEBOOKS)} graded in {t_engine / 60:.1f} min")
        return 0

    if args.dask:
        return compare_dask(base, template, engine_cmd, args.workers, count, students)

    serial, engine = base / "serial", base / "engine"
    for target in (serial, engine):
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(template, target)
    write_stock_config(serial)

    t_serial = run([nbgrader, "autograde", "*", "--force"], serial)
    rate = 60 * count / t_serial
    print(f"stock serial nbgrader autograde: {t_serial:8.1f} s  {rate:6.1f} submissions/min; "
          f"{load()}")  # fmt: skip
    t_engine = run([*engine_cmd, "--workers", str(args.workers)], engine)
    print(
        f"engine, {args.workers} workers:             {t_engine:8.1f} s  "
        f"{60 * count / t_engine:6.1f} submissions/min; {load()}"
    )

    same_scores = scores(serial) == scores(engine)
    same_csv = export(serial) == export(engine)
    print(f"identical grades: {same_scores}; CSV: {same_csv}")
    if args.keep is None:
        shutil.rmtree(base, ignore_errors=True)
    print(f"grading speed-up vs serial nbgrader: {t_serial / t_engine:.2f}")
    return 0 if same_scores and same_csv else 1


def compare_dask(base: Path, template: Path, engine_cmd, workers: int, count: int, students):
    """Local workers against a LocalCluster of as many worker processes; same grades."""
    from distributed import LocalCluster

    local, remote = base / "local", base / "dask"
    for target in (local, remote):
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(template, target)
    t_local = run([*engine_cmd, "--workers", str(workers)], local)
    print(f"engine, {workers} local workers: {t_local:8.1f} s  "
          f"{60 * count / t_local:6.1f} submissions/min; {load()}")  # fmt: skip
    with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True) as cluster:
        t_dask = run([*engine_cmd, "--dask", cluster.scheduler_address], remote)
    rate = 60 * count / t_dask
    print(f"engine on Dask, {workers} workers: {t_dask:8.1f} s  {rate:6.1f} submissions/min; "
          f"{load()}")  # fmt: skip
    same = scores(local) == scores(remote)
    print(f"identical grades: {same}")
    per_core_hour = 3600 * students / t_dask / workers
    print(f"capacity: {per_core_hour:.0f} students (x {len(NOTEBOOKS)} problem sets) per hour "
          f"per worker core; a class of 1,000 in {1000 / per_core_hour / workers:.1f} h on "
          f"{workers} cores, {1000 / per_core_hour / 32 * 60:.0f} min on 32")  # fmt: skip
    print(f"dask/local time ratio: {t_dask / t_local:.2f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
