"""Execute every lecture in a fresh kernel and print its wall time.

Usage: .venv/bin/python benchmarks/bench_lectures.py
Targets: each lecture <= 30 s, all together <= 120 s on a 2-core machine. The machine's load
average is printed beside every time: on a shared machine a loaded core stretches every figure.
"""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.notebooks import lecture_paths, run_notebook, warm_up


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def main() -> None:
    warm_up()
    total = 0.0
    for path in lecture_paths():
        run = run_notebook(path)
        total += run.seconds
        status = "ok" if run.clean else "FAILED" if run.error else "STDERR"
        print(f"{path.name:<36} {run.seconds:6.1f} s  {status:<7} load {loadavg()}", flush=True)
    print(f"lectures total: {total:.1f} s   (load average {loadavg()})")


if __name__ == "__main__":
    main()
