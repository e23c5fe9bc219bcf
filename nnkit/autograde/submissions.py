"""Checks on a submission's files, made before any of its code runs.

:func:`prepare` copies one ``submitted/<student>/<assignment>/`` folder into a
shard's course directory, repairing what can be repaired and recording why:

- a notebook under another name (``forward (1).ipynb``, ``Forward.ipynb``) is
  graded under the expected name when it is the only candidate;
- a missing, empty, non-JSON or otherwise invalid notebook is left out, so it
  scores 0 with the reason recorded (stock nbgrader skips the student, and the
  CSV shows 0.0 with nothing to say why);
- only regular files are read, each through one ``O_NOFOLLOW`` descriptor: a
  notebook that is a symbolic link (to ``solutions/``, to another student's
  work, to ``/etc/passwd``), a named pipe or a device is refused, never
  followed; such extra files are skipped and listed. Submissions collected
  with ``tar``, ``unzip`` or ``rsync -a`` keep their symbolic links. Hard links
  are graded as the regular files they are: archive tools only make them
  between members of the same archive, and backups made with ``cp -al`` or
  ``rsync --link-dest`` give every file a second link;
- a cell whose ``nbgrader`` metadata nbgrader itself would reject (a string, a
  ``grade_id`` that is a list, a grade cell of the student's own making) gets
  the release's metadata back when its ``grade_id`` names a release cell, and
  loses it otherwise (nbgrader then restores a deleted locked cell); stock
  nbgrader stops on such a notebook, or on the whole batch;
- nbgrader's markers (``### BEGIN SOLUTION``, ``### BEGIN HIDDEN TESTS``...)
  in a cell the student wrote are listed: they are the student's text, not
  regions, and the course's feedback step leaves them alone; so is raw HTML in
  Markdown that would run in a page (``<script>``, ``onerror=``), which the
  pages show cleaned (``sanitize.py``);
- extra files are kept (a student may ship a data file) and listed; one that
  could shadow a module the tests import (``numpy.py``, ``nnkit/``) is flagged;
  a web page or SVG is not copied, because formgrader serves a submission's
  files from the instructor's own Jupyter server;
- locked cells that were edited, deleted or re-pointed are listed: nbgrader puts
  them back (``OverwriteCells``, with ``add_missing_cells``), the report says so;
- answer cells are scanned (parsed, never run) for code that reaches into the
  test machinery: assignments to ``np.*``/``grading.*``, ``__eq__`` overrides,
  IPython exception hooks, ``sys.modules`` edits, network or process modules.
  These are notes for the instructor; the trusted re-check decides the score.
"""

from __future__ import annotations

import ast
import copy
import errno
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .files import (
    MAX_ENTRIES,
    printable,
    read_regular,
    served_as_web_page,
    walk,
    write,
)
from .records import Event

# what nbgrader's exchange writes beside a submitted notebook: not the student's files
_EXCHANGE_FILES = {"timestamp.txt", "submission_secret.txt"}
# a notebook is text and answers; outputs are cleared before grading anyway
MAX_NOTEBOOK_BYTES = 64 * 1024**2
# raw HTML in Markdown that would run in a page; the pages show it cleaned (sanitize.py)
_ACTIVE_HTML = re.compile(
    r"<\s*(script|iframe|object|embed|form|svg|math)\b|<[a-z][^>]*\son\w+\s*=|javascript\s*:",
    flags=re.IGNORECASE,
)
# nbgrader's region markers; in a cell the student wrote they are text, never regions
_MARKERS = re.compile(
    r"(BEGIN|END) (SOLUTION|HIDDEN TESTS)|=== (BEGIN|END) MARK SCHEME ===", flags=re.IGNORECASE
)
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
class Prepared:
    """Outcome of :func:`prepare`: which notebooks can run, and what was found."""

    gradable: list[str] = field(default_factory=list)
    issues: list[Event] = field(default_factory=list)


def _read_notebook(path: Path) -> tuple[nbformat.NotebookNode | None, bytes, str]:
    """The notebook at ``path`` and its bytes, or None and the reason it cannot be graded."""
    try:
        raw = read_regular(path, MAX_NOTEBOOK_BYTES)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, b"", f"{path.name} is a symbolic link; it is not followed"
        return None, b"", f"{path.name} cannot be read as a file ({exc.strerror or exc})"
    if not raw.strip():
        return None, raw, f"{path.name} is empty ({len(raw)} bytes)"
    try:
        data = json.loads(raw)
    except (ValueError, RecursionError) as exc:  # JSONDecodeError, UnicodeDecodeError, nesting
        text = str(exc)[:200] or type(exc).__name__
        return None, raw, f"{path.name} is not valid JSON ({text}); it is not a notebook"
    if not isinstance(data, dict) or "cells" not in data:
        return None, raw, f"{path.name} is JSON but not a notebook (no cells)"
    try:
        nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        nbformat.validate(nb)
    except Exception as exc:  # nbformat raises several kinds for a broken notebook
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return None, raw, f"{path.name} is not a valid notebook ({first[:200]})"
    return nb, raw, ""


def _nbgrader_meta(cell) -> dict:
    """A cell's ``nbgrader`` metadata, or {} when it has none or it is not an object."""
    meta = cell.get("metadata", {})
    meta = meta.get("nbgrader", {}) if isinstance(meta, dict) else {}
    return meta if isinstance(meta, dict) else {}


def _grade_cells(nb: nbformat.NotebookNode) -> dict[str, nbformat.NotebookNode]:
    cells = {}
    for cell in nb.cells:
        grade_id = _nbgrader_meta(cell).get("grade_id")
        if grade_id and isinstance(grade_id, str):
            cells[grade_id] = cell
    return cells


def _metadata_problem(cell, release_ids: set[str] | None) -> str:
    """Why nbgrader would reject this cell's ``nbgrader`` metadata, or "" when it would not."""
    from nbgrader.nbgraderformat import MetadataValidator

    meta = cell.metadata["nbgrader"]
    if not isinstance(meta, dict):
        return f"its nbgrader metadata is {type(meta).__name__}, not an object"
    grade_id = meta.get("grade_id")
    if "grade_id" in meta and not isinstance(grade_id, str):
        return f"its grade_id is {type(grade_id).__name__}, not a string"
    try:
        probe = copy.deepcopy(cell)
        validator = MetadataValidator()
        validator.validate_cell(validator.upgrade_cell_metadata(probe))
    except Exception as exc:  # ValidationError, jsonschema's, or a KeyError of a bad upgrade
        text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"nbgrader rejects its metadata ({text[:160]})"
    graded = meta.get("grade") or meta.get("solution") or meta.get("locked") or meta.get("task")
    if release_ids is not None and graded and grade_id not in release_ids:
        return f"grade_id {grade_id!r} is not a cell of the assignment"
    return ""


def normalise_metadata(
    nb: nbformat.NotebookNode, release: nbformat.NotebookNode | None, notebook: str
) -> list[Event]:
    """Repair, in place, every cell metadata nbgrader would stop on; one issue per cell.

    A cell whose ``grade_id`` names a release cell gets the release's metadata
    back (nbgrader then restores a locked cell's source as usual); any other
    loses its ``nbgrader`` metadata and is graded as an ordinary cell.
    """
    originals = _grade_cells(release) if release is not None else {}
    release_ids = set(originals) if release is not None else None
    issues = []
    for index, cell in enumerate(nb.cells):
        if "nbgrader" not in cell.metadata:
            continue
        problem = _metadata_problem(cell, release_ids)
        if not problem:
            continue
        grade_id = _nbgrader_meta(cell).get("grade_id")
        where = f"cell {index}"
        if isinstance(grade_id, str) and grade_id in originals:
            cell.metadata["nbgrader"] = copy.deepcopy(originals[grade_id].metadata["nbgrader"])
            action = "the release's metadata put back"
            where = grade_id
        else:
            del cell.metadata["nbgrader"]
            action = "graded as an ordinary cell"
        issues.append(Event("metadata", f"{problem}; {action}", notebook, where))
    return issues


def marker_issues(nb: nbformat.NotebookNode, notebook: str) -> list[Event]:
    """nbgrader's region markers in cells the student wrote (listed, never acted on)."""
    issues = []
    for index, cell in enumerate(nb.cells):
        meta = _nbgrader_meta(cell)
        if meta.get("locked") or (meta.get("grade") and not meta.get("solution")):
            continue  # nbgrader puts the instructor's version back
        found = list(dict.fromkeys(m.group(0) for m in _MARKERS.finditer(cell.source)))
        if found:
            where = meta.get("grade_id") or f"cell {index}"
            text = (
                f"{cell.cell_type} cell holds nbgrader's marker(s) {', '.join(found[:4])}: "
                "kept as the student's text"
            )
            issues.append(Event("markers", text, notebook, where))
    return issues


def active_content_issues(nb: nbformat.NotebookNode, notebook: str) -> list[Event]:
    """Markdown and raw cells with HTML that would run in a page (the pages clean it)."""
    issues = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" or _nbgrader_meta(cell).get("locked"):
            continue
        found = list(dict.fromkeys(m.group(0).strip() for m in _ACTIVE_HTML.finditer(cell.source)))
        if found:
            where = _nbgrader_meta(cell).get("grade_id") or f"cell {index}"
            text = (
                f"{cell.cell_type} cell holds HTML that would run in a page "
                f"({', '.join(found[:4])}); feedback and formgrader show it cleaned"
            )
            issues.append(Event("active-content", text, notebook, where))
    return issues


def locked_cell_issues(
    submitted: nbformat.NotebookNode, release: nbformat.NotebookNode, notebook: str
) -> list[Event]:
    """Locked cells of the release that the submission edited, deleted or re-pointed."""
    issues = []
    mine = _grade_cells(submitted)
    for grade_id, original in _grade_cells(release).items():
        meta = _nbgrader_meta(original)
        if not meta.get("locked"):
            continue
        cell = mine.get(grade_id)
        if cell is None:
            text = "locked cell deleted; nbgrader restored it"
            issues.append(Event("locked-cell", text, notebook, grade_id))
            continue
        theirs = _nbgrader_meta(cell)
        if cell.source.strip() != original.source.strip():
            issues.append(
                Event("locked-cell", "locked cell edited; nbgrader restored it", notebook, grade_id)
            )
        if meta.get("grade") and theirs.get("points") != meta.get("points"):
            issues.append(
                Event(
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


def code_issues(nb: nbformat.NotebookNode, notebook: str) -> list[Event]:
    """Static notes on the notebook's answer cells (see :func:`scan_source`)."""
    issues = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        meta = _nbgrader_meta(cell)
        if meta.get("locked"):
            continue  # nbgrader replaces locked cells with the instructor's version
        notes = scan_source(cell.source)
        if notes:
            where = meta.get("grade_id") or f"cell {index}"
            issues.append(Event("suspicious-code", "; ".join(notes), notebook, where))
    return issues


def _shown(names: list[str], count: int = 8) -> str:
    more = f" and {len(names) - count} more" if len(names) > count else ""
    return ", ".join(printable(n) for n in names[:count]) + more


def _copy_extras(src: Path, dest: Path, files: list[Path], notebooks: set[Path]) -> list[Event]:
    issues = []
    extras, skipped = [], []
    packages = set()
    for path in files:
        rel = path.relative_to(src)
        if path in notebooks:
            continue
        if len(rel.parts) > 1 and rel.parts[0] in _SHADOWED:
            packages.add(rel.parts[0])
        if served_as_web_page(rel):
            skipped.append(str(rel))
            continue
        try:
            write(dest / rel, read_regular(path, MAX_NOTEBOOK_BYTES))
        except OSError as exc:
            issues.append(Event("extra-files", f"{rel} not copied ({exc.strerror or exc})"))
            continue
        if rel.name in _EXCHANGE_FILES and len(rel.parts) == 1:
            continue
        extras.append(str(rel))
        if rel.suffix == ".py" and rel.stem in _SHADOWED:
            issues.append(Event("extra-files", f"{rel} could shadow the module {rel.stem}"))
    for name in sorted(packages):
        if (dest / name / "__init__.py").exists():
            issues.append(Event("extra-files", f"package {name}/ could shadow the module {name}"))
    if extras:
        issues.append(Event("extra-files", f"extra files in the submission: {_shown(extras)}"))
    if skipped:
        text = (
            f"not copied for grading: {_shown(skipped)} (a web page or SVG that formgrader "
            "would serve from the instructor's Jupyter server)"
        )
        issues.append(Event("extra-files", text))
    return issues


def _prepare_notebook(
    path: Path, dest: Path, name: str, release: Path | None, result: Prepared
) -> None:
    nb, raw, problem = _read_notebook(path)
    if nb is None:
        kind = "symlink" if "symbolic link" in problem else "invalid-notebook"
        result.issues.append(Event(kind, problem, name))
        return
    release_nb = None
    release_file = release / f"{name}.ipynb" if release else None
    if release_file is not None and release_file.is_file():
        release_nb = nbformat.read(release_file, as_version=4)
    repairs = normalise_metadata(nb, release_nb, name)
    # unchanged notebooks are copied byte for byte, as stock nbgrader reads them
    write(dest / f"{name}.ipynb", nbformat.writes(nb).encode() if repairs else raw)
    result.gradable.append(name)
    result.issues += repairs
    if release_nb is not None:
        result.issues += locked_cell_issues(nb, release_nb, name)
    result.issues += marker_issues(nb, name)
    result.issues += active_content_issues(nb, name)
    result.issues += code_issues(nb, name)


def prepare(src: Path, dest: Path, notebooks: list[str], release: Path | None) -> Prepared:
    """Copy submission ``src`` to ``dest`` for grading, checking it on the way.

    Total: whatever ``src`` holds, this returns; a notebook it cannot check is
    left out (``not gradable`` when none is left) with the reason as an issue.

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
    first = notebooks[0] if notebooks else ""
    for folder in (src, src.parent):
        if folder.is_symlink():
            text = f"the submission folder {folder.name} is a symbolic link; it is not followed"
            result.issues.append(Event("symlink", text, first))
            return result
    if not src.is_dir():
        result.issues.append(Event("missing-notebook", "the submission is not a folder", first))
        return result
    try:
        files, refused, truncated = walk(src)
    except Exception as exc:  # an unreadable tree is the student's problem, not the batch's
        result.issues.append(Event("invalid-notebook", f"submission unreadable: {exc}", first))
        return result
    if truncated:
        text = f"more than {MAX_ENTRIES} files and folders; the rest were not looked at"
        result.issues.append(Event("extra-files", text, first))
    expected = {f"{name}.ipynb" for name in notebooks}
    refused_names = {rel for _, rel, _ in refused}
    spare = [p for p in files if p.suffix == ".ipynb" and p.name not in expected]
    used: set[Path] = set()
    for name in notebooks:
        filename = f"{name}.ipynb"
        path = src / filename
        if filename in refused_names:
            kind, reason = next((k, r) for k, rel, r in refused if rel == filename)
            result.issues.append(Event(kind, f"{reason}: not gradable", name))
            continue
        if path not in files:
            if len(spare) == 1 and len(notebooks) == 1:
                path = spare[0]
                text = f"graded {printable(str(path.relative_to(src)))} as {filename}"
                result.issues.append(Event("renamed", text, name))
            else:
                found = _shown([str(p.relative_to(src)) for p in spare]) or "no notebook"
                text = f"{filename} was not submitted (found: {found})"
                result.issues.append(Event("missing-notebook", text, name))
                continue
        used.add(path)
        try:
            _prepare_notebook(path, dest, name, release, result)
        except Exception as exc:  # a notebook we cannot check is not graded, and says why
            (dest / filename).unlink(missing_ok=True)
            if name in result.gradable:
                result.gradable.remove(name)
            text = f"{filename} could not be checked ({type(exc).__name__}: {str(exc)[:200]})"
            result.issues.append(Event("invalid-notebook", text, name))
    for kind, rel, reason in refused:
        if rel not in expected:
            result.issues.append(Event(kind, f"skipped: {reason}"))
    try:
        result.issues += _copy_extras(src, dest, files, used | {src / e for e in expected})
    except Exception as exc:  # extras are a courtesy; grading goes on without them
        result.issues.append(Event("extra-files", f"extra files not copied: {exc}"))
    return result
