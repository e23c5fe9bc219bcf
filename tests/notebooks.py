"""Run a notebook the way a student does: a fresh kernel, top to bottom.

Shared by tests/test_lectures.py and benchmarks/bench_lectures.py.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

ROOT = Path(__file__).resolve().parents[1]
LECTURES = ROOT / "lectures"


@dataclass
class NotebookRun:
    """What one execution of a notebook produced."""

    path: Path
    seconds: float
    nb: nbformat.NotebookNode
    error: str | None = None
    stderr: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return self.error is None and not self.stderr


def warm_up() -> None:
    """Build matplotlib's font cache in a throwaway process.

    On a fresh machine the first ``import matplotlib.pyplot`` writes "building the
    font cache" to stderr, which would be blamed on whichever notebook ran first.
    """
    subprocess.run([sys.executable, "-c", "import matplotlib.pyplot"], check=True)


def stderr_outputs(nb: nbformat.NotebookNode) -> list[str]:
    """Every stderr stream a cell printed, prefixed by the cell's index."""
    found = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                found.append(f"cell {index}: {output.get('text', '')[:500]}")
    return found


def run_notebook(path: Path, timeout: int = 300) -> NotebookRun:
    """Execute ``path`` in a fresh python3 kernel with the notebook's folder as cwd."""
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
    )
    error = None
    start = time.perf_counter()
    try:
        client.execute()
    except CellExecutionError as exc:
        error = str(exc)
    seconds = time.perf_counter() - start
    return NotebookRun(path, seconds, nb, error, stderr_outputs(nb))


def lecture_paths() -> list[Path]:
    return sorted(LECTURES.glob("[0-9][0-9]_*.ipynb"))
