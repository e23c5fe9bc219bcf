"""Execute every lecture in a fresh kernel and print its wall time.

Usage: .venv/bin/python benchmarks/bench_lectures.py
Targets: each lecture <= 30 s, all together <= 120 s on a 2-core machine. The machine's load
average is printed beside every time: on a shared machine a loaded core stretches every figure.
The CPU seconds the lecture's kernel used (user + system, all its threads) are printed too:
they hardly depend on the load, and on an idle 2-core machine the wall time is close to them.
"""

import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.notebooks import lecture_paths, run_notebook, warm_up


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def kernel_cpu() -> float:
    """CPU seconds used by this process's finished children (the kernels)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    warm_up()
    total = total_cpu = 0.0
    for path in lecture_paths():
        before = kernel_cpu()
        run = run_notebook(path)
        cpu = kernel_cpu() - before  # the kernel is a child process, reaped when the run ends
        total, total_cpu = total + run.seconds, total_cpu + cpu
        status = "ok" if run.clean else "FAILED" if run.error else "STDERR"
        print(
            f"{path.name:<36} {run.seconds:6.1f} s  kernel CPU {cpu:5.1f} s  {status:<7} "
            f"load {loadavg()}",
            flush=True,
        )
    print(f"lectures total: {total:.1f} s, kernel CPU {total_cpu:.1f} s   (load {loadavg()})")


if __name__ == "__main__":
    main()
