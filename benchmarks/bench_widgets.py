"""Drive every lecture explorer through its controls and time each redraw.

Usage: .venv/bin/python benchmarks/bench_widgets.py [--points K]
Target: every explorer redraws in <= 200 ms on a 2-core machine (median and worst).

Each explorer is built with the data its lecture gives it. Then every control is moved
through K values spread over its range (every option of a dropdown, both states of a
checkbox), one change at a time, exactly as a hand on the slider does: a change of
``control.value`` runs the redraw synchronously. Building the explorer (its precomputation)
is timed separately and reported as "build".
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import ipywidgets
import numpy as np
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import nnkit as nk
from nnkit import widgets


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def spread(control, k: int) -> list:
    """K values of a control spread over its range, ending where it started."""
    start = control.value
    if isinstance(control, ipywidgets.Checkbox):
        values = [not start, start]
    elif hasattr(control, "options"):  # Dropdown, SelectionSlider
        options = list(control.options)
        labels = [o[1] if isinstance(o, tuple) else o for o in options]
        picks = np.linspace(0, len(labels) - 1, min(k, len(labels))).round().astype(int)
        values = [labels[i] for i in dict.fromkeys(picks)]
    elif isinstance(control, ipywidgets.FloatLogSlider):
        values = list(control.base ** np.linspace(control.min, control.max, k))
    else:  # IntSlider, FloatSlider
        values = list(np.linspace(control.min, control.max, k))
        if isinstance(control, ipywidgets.IntSlider):
            values = [round(float(v)) for v in values]
    return [v for v in values if v != start] + [start]


def drive(explorer, k: int) -> tuple[list[float], list[float]]:
    """Wall-clock and CPU seconds per redraw while every control is moved through its range.

    On a shared machine the wall time includes waiting for a core; the CPU time of this
    process is what the redraw itself costs.
    """
    wall, cpu = [], []
    for control in explorer.controls.values():
        for value in spread(control, k):
            before, before_cpu = time.perf_counter(), time.process_time()
            control.value = value
            wall.append(time.perf_counter() - before)
            cpu.append(time.process_time() - before_cpu)
    return wall, cpu


def lecture_explorers():
    """(name, builder) for every explorer, with the data its lecture passes."""
    spiral, labels = nk.spirals(n_samples=300, n_classes=3, noise=0.2, rng=0)
    X_sp, _, y_sp, _ = nk.train_test_split(spiral, labels, test_size=0.25, rng=0, stratify=True)
    X_sp = nk.Standardizer().fit_transform(X_sp)

    x = np.linspace(0, 2 * np.pi, 1001)
    fits, units = {}, {}
    for M in [1, 2, 3, 4, 5, 6, 8, 10, 12, 16, 24, 32]:
        knots = np.linspace(0, 2 * np.pi, M + 1)
        slopes = np.diff(np.sin(knots)) / np.diff(knots)
        v = np.diff(slopes, prepend=0.0)
        units[M] = np.maximum(x[:, None] - knots[:-1], 0.0) * v
        fits[M] = units[M].sum(axis=1)

    X_dig, X_dig_test, y_dig, y_dig_test = nk.load_digits(test_size=0.2, rng=0)
    digits_model = nk.MLP([64, 64, 10], activation="relu", rng=0)
    nk.fit(digits_model, X_dig, y_dig, optimizer=nk.Adam(lr=0.003), epochs=5, progress=False)

    return [
        ("neuron_explorer (02)", lambda: widgets.neuron_explorer(activation="relu", b=-1.0)),
        (
            "temperature_explorer (03)",
            lambda: widgets.temperature_explorer(
                logits=[2.0, 1.0, 0.1, -1.0], labels=["dog", "pear", "house", "grass"]
            ),
        ),
        (
            "width_explorer (04)",
            lambda: widgets.width_explorer(x, np.sin(x), fits, units=units, width=4),
        ),
        ("optimizer_explorer (06)", lambda: widgets.optimizer_explorer()),
        (
            "landscape_explorer (07)",
            lambda: widgets.landscape_explorer(X_sp, y_sp, activation="tanh", width=16, depth=6),
        ),
        (
            "saturation_explorer (07)",
            lambda: widgets.saturation_explorer(X_sp, y_sp, scale=1.0, shift=4.0),
        ),
        (
            "digit_explorer (08)",
            lambda: widgets.digit_explorer(
                digits_model, X_dig_test, y_dig_test, image_shape=(8, 8)
            ),
        ),
        (
            "signal_explorer (09)",
            lambda: widgets.signal_explorer(depth=12, activation="relu", init="xavier"),
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=8, help="values per control (default 8)")
    args = parser.parse_args()
    # the lectures run their explorers under the default thread pools; so do we
    threadpool_limits(None)
    slowest = slowest_cpu = 0.0
    print(
        f"{'explorer':<28} {'build':>8} {'redraws':>8} {'median':>8} {'worst':>8}"
        f" {'cpu med':>8} {'cpu max':>8}   load"
    )
    for name, build in lecture_explorers():
        before = time.perf_counter()
        explorer = build()
        built = time.perf_counter() - before
        times, cpu = drive(explorer, args.points)
        median, worst = 1000 * statistics.median(times), 1000 * max(times)
        cpu_median, cpu_worst = 1000 * statistics.median(cpu), 1000 * max(cpu)
        slowest, slowest_cpu = max(slowest, worst), max(slowest_cpu, cpu_worst)
        print(
            f"{name:<28} {built:7.2f}s {len(times):8d} {median:6.0f}ms {worst:6.0f}ms"
            f" {cpu_median:6.0f}ms {cpu_worst:6.0f}ms   {loadavg()}",
            flush=True,
        )
    print(f"slowest redraw's CPU time: {slowest_cpu:.0f} ms")
    print(f"slowest explorer redraw: {slowest:.0f} ms   (load average {loadavg()})")


if __name__ == "__main__":
    main()
