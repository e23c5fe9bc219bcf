"""Checks on a submission's files, made before any of its code runs.

:func:`prepare` copies one ``submitted/<student>/<assignment>/`` folder into a
shard's course directory, repairing what can be repaired and recording why:

- a notebook under another name (``forward (1).ipynb``, ``Forward.ipynb``) is
  graded under the expected name when it is the only candidate;
- a missing, empty, non-JSON or otherwise invalid notebook is left out, so it
  scores 0 with the reason recorded (stock nbgrader skips the student, and the
  CSV shows 0.0 with nothing to say why);
- extra files are kept (a student may ship a data file) and listed; one that
  could shadow a module the tests import (``numpy.py``, ``nnkit/``) is flagged;
- locked cells that were edited, deleted or re-pointed are listed: nbgrader puts
  them back (``OverwriteCells``, with ``add_missing_cells``), the report says so;
- answer cells are scanned (parsed, never run) for code that reaches into the
  test machinery: assignments to ``np.*``/``grading.*``, ``__eq__`` overrides,
  IPython exception hooks, ``sys.modules`` edits, network or process modules.
  These are notes for the instructor; the trusted re-check decides the score.
"""

from __future__ import annotations

import ast
import json
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

_CHECKPOINTS = ".ipynb_checkpoints"
# module names a test cell imports; a submitted file by that name would shadow it
_SHADOWED = {"numpy", "nnkit", "math", "sklearn", "scipy", "matplotlib", "IPython"}
_TEST_MODULE_NAMES = {"np", "numpy", "grading", "nnkit", "math", "builtins", "sys"}
_IPYTHON_HOOKS = {
    "set_custom_exc",
    "showtraceback",
    "_showtraceback",
    "showsyntaxerror",
    "run_cell",
    "run_code",
    "run_ast_nodes",
    "excepthook",
    "custom_exceptions",
    "CustomTB",
    "InteractiveTB",
}
_WATCHED_CALLS = {"os._exit", "sys.exit", "signal.signal", "os.kill"}
_RISKY_IMPORTS = {
    "ctypes": "loads C code (ctypes)",
    "socket": "imports socket (network)",
    "urllib": "imports urllib (network)",
    "http": "imports http (network)",
    "requests": "imports requests (network)",
    "subprocess": "starts programs (subprocess)",
    "sqlite3": "opens databases (sqlite3)",
    "gc": "walks the interpreter's objects (gc)",
    "inspect": "inspects the calling code (inspect)",
}


@dataclass
class Issue:
    """Something the report should mention; ``kind`` groups them (see report.KINDS)."""

    kind: str
    detail: str
    notebook: str = ""
    cell: str = ""

    def as_dict(self) -> dict:
        return {"kind": self.kind, "cell": self.cell, "detail": self.detail}


@dataclass
class Prepared:
    """Outcome of :func:`prepare`: which notebooks can run, and what was found."""

    gradable: list[str] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)


def _read_notebook(path: Path) -> tuple[nbformat.NotebookNode | None, str]:
    """The notebook at ``path``, or None and the reason it cannot be graded."""
    raw = path.read_bytes()
    if not raw.strip():
        return None, f"{path.name} is empty ({len(raw)} bytes)"
    try:
        data = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, f"{path.name} is not valid JSON ({exc}); it cannot be opened as a notebook"
    if not isinstance(data, dict) or "cells" not in data:
        return None, f"{path.name} is JSON but not a notebook (no cells)"
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several kinds for a broken notebook
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, f"{path.name} is not a valid notebook ({first[:200]})"
    return nb, ""


def _candidates(folder: Path, expected: set[str]) -> list[Path]:
    return sorted(
        p for p in folder.rglob("*.ipynb") if _CHECKPOINTS not in p.parts and p.name not in expected
    )


def _grade_cells(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    cells = {}
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if meta.get("grade_id"):
            cells[meta["grade_id"]] = cell
    return cells


def locked_cell_issues(
    submitted: nbformat.NotebookNode, release: nbformat.NotebookNode, notebook: str
) -> list[Issue]:
    """Locked cells of the release that the submission edited, deleted or re-pointed."""
    issues = []
    mine = _grade_cells(submitted)
    for grade_id, original in _grade_cells(release).items():
        meta = original.metadata["nbgrader"]
        if not meta.get("locked"):
            continue
        cell = mine.get(grade_id)
        if cell is None:
            text = "locked cell deleted; nbgrader restored it"
            issues.append(Issue("locked-cell", text, notebook, grade_id))
            continue
        theirs = cell.metadata.get("nbgrader", {})
        if cell.source.strip() != original.source.strip():
            issues.append(
                Issue("locked-cell", "locked cell edited; nbgrader restored it", notebook, grade_id)
            )
        if meta.get("grade") and theirs.get("points") != meta.get("points"):
            issues.append(
                Issue(
                    "locked-cell",
                    f"points changed from {meta.get('points')} to {theirs.get('points')}; "
                    "nbgrader restored them",
                    notebook,
                    grade_id,
                )
            )
    return issues


def _root_name(node: ast.AST) -> str | None:
    while isinstance(node, ast.Attribute | ast.Subscript):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # unparse of odd nodes; only for the message
        return "?"


def scan_source(source: str) -> list[str]:
    """Notes on code that reaches into the test machinery (parsed, never executed)."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    try:
        tree = ast.parse("\n".join(lines))
    except SyntaxError:
        return []
    notes: list[str] = []
    for node in ast.walk(tree):
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = node.targets
        elif isinstance(node, ast.AugAssign | ast.AnnAssign):
            targets = [node.target]
        elif isinstance(node, ast.Delete):
            targets = node.targets
        for target in targets:
            if isinstance(target, ast.Attribute | ast.Subscript):
                root = _root_name(target)
                text = _dotted(target)
                if root in _TEST_MODULE_NAMES or text.startswith("sys.modules"):
                    notes.append(f"assigns to {text}")
                elif isinstance(target, ast.Attribute) and target.attr in _IPYTHON_HOOKS:
                    notes.append(f"replaces IPython's {target.attr}")
        if isinstance(node, ast.Call):
            func = node.func
            name = _dotted(func)
            if name in ("setattr", "delattr") and node.args:
                if _root_name(node.args[0]) in _TEST_MODULE_NAMES:
                    notes.append(f"calls {name} on {_dotted(node.args[0])}")
            elif name in _WATCHED_CALLS or (
                isinstance(func, ast.Attribute) and func.attr in ("set_custom_exc", "register")
            ):
                notes.append(f"calls {name}")
        if isinstance(node, ast.FunctionDef) and node.name in ("__eq__", "__ne__", "__bool__"):
            notes.append(f"defines {node.name}")
        if isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module]
            for imported in names:
                top = (imported or "").split(".")[0]
                if top in _RISKY_IMPORTS:
                    notes.append(_RISKY_IMPORTS[top])
    return list(dict.fromkeys(notes))


def code_issues(nb: nbformat.NotebookNode, notebook: str) -> list[Issue]:
    """Static notes on the notebook's answer cells (see :func:`scan_source`)."""
    issues = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("locked"):
            continue  # nbgrader replaces locked cells with the instructor's version
        notes = scan_source(cell.source)
        if notes:
            where = meta.get("grade_id") or f"cell {index}"
            issues.append(Issue("suspicious-code", "; ".join(notes), notebook, where))
    return issues


def _copy_extras(src: Path, dest: Path, notebooks: set[Path]) -> list[Issue]:
    issues = []
    extras = []
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if path in notebooks or _CHECKPOINTS in rel.parts or path.is_symlink():
            continue
        if path.is_dir():
            if rel.name in _SHADOWED and (path / "__init__.py").exists():
                issues.append(
                    Issue("extra-files", f"package {rel}/ could shadow the module {rel.name}")
                )
            continue
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, target)
        if rel.name == "timestamp.txt" and len(rel.parts) == 1:
            continue
        extras.append(str(rel))
        if rel.suffix == ".py" and rel.stem in _SHADOWED:
            issues.append(Issue("extra-files", f"{rel} could shadow the module {rel.stem}"))
    if extras:
        shown = ", ".join(extras[:8]) + (f" and {len(extras) - 8} more" if len(extras) > 8 else "")
        issues.append(Issue("extra-files", f"extra files in the submission: {shown}"))
    return issues


def prepare(src: Path, dest: Path, notebooks: list[str], release: Path | None) -> Prepared:
    """Copy submission ``src`` to ``dest`` for grading, checking it on the way.

    Parameters
    ----------
    src : Path
        ``submitted/<student>/<assignment>/`` as the student handed it in (never modified).
    dest : Path
        Where the shard's copy goes (created).
    notebooks : list of str
        The assignment's notebook names, without ``.ipynb``, from the gradebook.
    release : Path or None
        The assignment's release folder (``exercises/<assignment>/``), for the locked cells.

    Returns
    -------
    Prepared
        The notebooks that can be graded and the issues found.
    """
    result = Prepared()
    dest.mkdir(parents=True, exist_ok=True)
    expected = {f"{name}.ipynb" for name in notebooks}
    spare = _candidates(src, expected) if src.is_dir() else []
    used: set[Path] = set()
    for name in notebooks:
        filename = f"{name}.ipynb"
        path = src / filename
        if not path.is_file():
            if len(spare) == 1 and len(notebooks) == 1:
                path = spare[0]
                result.issues.append(
                    Issue("renamed", f"graded {path.relative_to(src)} as {filename}", name)
                )
            else:
                found = ", ".join(str(p.relative_to(src)) for p in spare) or "no notebook"
                text = f"{filename} was not submitted (found: {found})"
                result.issues.append(Issue("missing-notebook", text, name))
                continue
        used.add(path)
        nb, problem = _read_notebook(path)
        if nb is None:
            result.issues.append(Issue("invalid-notebook", problem, name))
            continue
        result.gradable.append(name)
        shutil.copy2(path, dest / filename)
        release_nb = release / filename if release else None
        if release_nb is not None and release_nb.is_file():
            original = nbformat.read(release_nb, as_version=4)
            result.issues += locked_cell_issues(nb, original, name)
        result.issues += code_issues(nb, name)
    if src.is_dir():
        result.issues += _copy_extras(src, dest, used | {src / e for e in expected})
    return result
