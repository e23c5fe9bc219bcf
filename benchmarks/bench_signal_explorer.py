"""Time lecture 09's signal explorer: every control through its range, one redraw per value.

Usage: .venv/bin/python benchmarks/bench_signal_explorer.py
Target: every redraw <= 200 ms on the course's 2-core machine. Wall time depends on what
else the machine runs, so the CPU time of this process is printed beside it, and the load.
"""

import statistics
import time

import numpy as np

import nnkit as nk


def main() -> None:
    with open("/proc/loadavg") as f:
        load_before = f.read().split()[0]
    start = time.perf_counter()
    w = nk.widgets.signal_explorer()
    created = time.perf_counter() - start
    sweeps = {
        "depth": [1, 5, 10, 15, 20, 10],
        "activation": ["relu", "sigmoid", "linear", "tanh"],
        "init": ["he", "xavier"],
        "gain": [float(g) for g in 2.0 ** np.arange(-2, 2.25, 0.5)] + [1.0],
    }
    wall, cpu = [], []
    for _ in range(2):
        for name, values in sweeps.items():
            for value in values:
                if w.controls[name].value == value:
                    continue
                t, c = time.perf_counter(), time.process_time()
                w.controls[name].value = value
                wall.append(time.perf_counter() - t)
                cpu.append(time.process_time() - c)
    with open("/proc/loadavg") as f:
        load_after = f.read().split()[0]
    print(f"created and drawn in {created * 1e3:.0f} ms")
    print(
        f"{len(wall)} redraws: wall median {statistics.median(wall) * 1e3:.0f} ms, "
        f"worst {max(wall) * 1e3:.0f} ms; CPU median {statistics.median(cpu) * 1e3:.0f} ms, "
        f"worst {max(cpu) * 1e3:.0f} ms (load average {load_before} -> {load_after})"
    )
    print(f"slowest signal_explorer redraw: {max(wall) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
