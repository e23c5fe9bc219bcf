"""Broken and hostile submissions, each with the grade and the flags it must end up with.

Every case is one student's submission of one assignment. ``build(course)``
returns the files of ``submitted/<student>/<assignment>/`` (path -> bytes);
``score(course)`` the exact score it must get; ``flags`` the kinds of flag the
grades report must show for it; ``status`` its status there. The student code
below is hostile on purpose: it is data, written into notebooks, never run by
the test process itself.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import (
    after_imports,
    correct,
    dumps,
    insert_after,
    points_before,
    points_of,
    stubs,
    total,
    with_answer,
)

PS1, PS2, PS3 = "ps1_forward", "ps2_backward", "ps3_training"
NB = {PS1: "forward.ipynb", PS2: "backward.ipynb", PS3: "training.ipynb"}


@dataclass
class Case:
    student: str
    assignment: str
    build: Callable[[Path], dict[str, bytes]]
    score: Callable[[Path], float]
    flags: set[str] = field(default_factory=set)
    status: str = "flagged"
    what: str = ""


def notebook(assignment: str, make: Callable[[Path], nbformat.NotebookNode]):
    """A build function submitting one notebook under its expected name."""
    return lambda course: {NB[assignment]: dumps(make(course))}


def full(assignment: str):
    return lambda course: total(correct(assignment, course))


def full_minus(assignment: str, test: str):
    return lambda course: (
        total(correct(assignment, course)) - points_of(correct(assignment, course), test)
    )


def up_to(assignment: str, grade_id: str):
    """Points of the tests before cell ``grade_id``: what survives a kernel stopped after it."""
    return lambda course: points_before(correct(assignment, course), grade_id)


def zero(course: Path) -> float:
    return 0.0


WRONG_COUNT = "def count_parameters(layer_sizes):\n    return 0\n"

LOOP = "while True:\n    pass\n"
LOOP_IGNORING_SIGINT = "import signal\n\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\n" + LOOP
SYS_EXIT = "def count_parameters(layer_sizes):\n    import sys\n\n    sys.exit('bye')\n"
OS_EXIT = "import os\n\nos._exit(3)\n"
SEGFAULT = "import ctypes\n\nctypes.string_at(0)\n"
# 4 GiB: fits in the machine's memory, not in the kernel's 2 GiB address-space limit
MEMORY = "import numpy as np\n\nhuge = np.ones(2**29)\n"
PRINT_FLOOD = "for i in range(10_000_000):\n    print(i)\n"
# outputs that are not printed text: 250 displays of 1 MiB each
DISPLAY_FLOOD = 'for i in range(250):\n    display({"text/plain": "A" * 2**20}, raw=True)\n'
NO_OP_GRADING = """\
def _pass(*args, **kwargs):
    return None


for _name in ["check", "call", "expect", "check_gradient", "check_minibatches"]:
    setattr(grading, _name, _pass)
"""
NO_OP_NUMPY_TESTING = """\
np.testing.assert_allclose = lambda *args, **kwargs: None
np.testing.assert_array_equal = lambda *args, **kwargs: None
np.allclose = lambda *args, **kwargs: True
"""
EQ_ALWAYS_TRUE = """\
class Anything:
    def __eq__(self, other):
        return True

    def __ne__(self, other):
        return False


def count_parameters(layer_sizes):
    return Anything()
"""
# makes every failing cell look clean to stock nbgrader: no traceback, status "ok"
HIDE_TRACEBACKS = """\
ip = get_ipython()
_run_cell_async = ip.run_cell_async
_run_cell = ip.run_cell


async def _quiet_async(*args, **kwargs):
    result = await _run_cell_async(*args, **kwargs)
    result.error_in_exec = None
    result.error_before_exec = None
    return result


def _quiet(*args, **kwargs):
    result = _run_cell(*args, **kwargs)
    result.error_in_exec = None
    result.error_before_exec = None
    return result


ip.run_cell_async = _quiet_async
ip.run_cell = _quiet
ip.showtraceback = lambda *args, **kwargs: None
"""
# passes only where the hidden tests can be read from disk (stock nbgrader's working directory)
READ_HIDDEN_TESTS = """\
import glob


def _peek():
    text = ""
    for pattern in ["*.ipynb", "../../../solutions/*/*.ipynb", "../../../source/*/*.ipynb"]:
        for path in glob.glob(pattern):
            try:
                with open(path) as handle:
                    text += handle.read()
            except OSError:
                pass
    # built from parts: this cell's own source must not contain what it looks for
    return "reference." + "count_parameters" in text


CHEAT = _peek()


def count_parameters(layer_sizes):
    if not CHEAT:
        return -1
    return sum((a + 1) * b for a, b in zip(layer_sizes[:-1], layer_sizes[1:]))
"""
READ_OTHERS_WRITE_GRADEBOOK = """\
import glob
import sqlite3

others = glob.glob("../../*/ps1_forward/*.ipynb") + glob.glob("../../../submitted/*/*/*.ipynb")
try:
    db = sqlite3.connect("../../../gradebook.db")
    db.execute("UPDATE grade SET auto_score = 100")
    db.commit()
except sqlite3.Error as exc:
    print("no gradebook here:", exc)
"""
NETWORK = """\
import socket

try:
    socket.create_connection(("127.0.0.1", {port}), timeout=3).sendall(b"hidden tests")
except OSError as exc:
    print("offline:", exc)
"""
FAKE_GRADING_PACKAGE = {
    "nnkit/__init__.py": b"",
    "nnkit/grading.py": (
        b"class _Anything:\n"
        b"    def __getattr__(self, name):\n"
        b"        return _Anything()\n\n"
        b"    def __call__(self, *args, **kwargs):\n"
        b"        return _Anything()\n\n\n"
        b"def __getattr__(name):\n"
        b"    return _Anything()\n"
    ),
    "data.csv": b"x,y\n1,2\n",
}


# --- against the judge: none of these may earn the points of the checks they attack
ANSWER_KEY_THIEF = """\
def softmax(Z):
    import glob
    import importlib

    from nnkit import grading

    for attempt in (
        lambda: grading.reference.softmax(Z),
        lambda: importlib.import_module("grader.reference").reference.softmax(Z),
    ):
        try:
            return attempt()
        except Exception:
            pass
    for path in glob.glob("/**/reference.py", recursive=True)[:50]:
        if "answer key" in open(path, errors="replace").read():
            namespace = {}
            exec(open(path).read(), namespace)
            return namespace["reference"].softmax(Z)
    return np.zeros_like(Z)
"""
# the expected value is a local a few frames up in an in-kernel check: take it from there
STACK_READER = """\
import sys


def softmax(Z):
    frame = sys._getframe(1)
    while frame is not None:
        for name in ("expected", "want", "reference"):
            value = frame.f_locals.get(name)
            if value is not None and np.shape(value) == np.shape(Z):
                return np.asarray(value, dtype=float)
        frame = frame.f_back
    return np.zeros_like(Z)
"""
# every reply the judge receives says 1.0, and the in-kernel checks are no-ops
FORGED_REPLIES = """\
import nnkit.autograde.agent as _agent
from nnkit import grading


def _forged_call(self, message):
    self.send({"op": "result", "id": message.header.get("id"), "value": 1.0, "after": [],
               "kwafter": {"$dict": []}, "warnings": [], "library": []})


_agent.Agent.call = _forged_call
grading.check = lambda *args, **kwargs: None
"""
CHANNEL_GARBAGE = """\
import os

import nnkit.autograde.agent as _agent

os.write(_agent.CHANNEL[1], b"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x10 not a frame at all")
"""
LYING_COUNT = """\
class Liar(int):
    def __eq__(self, other):
        return True

    __hash__ = int.__hash__


def count_parameters(layer_sizes):
    return Liar(0)
"""
LYING_ONE_HOT = """\
class Liar(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)


def one_hot(y, C):
    return np.zeros((len(y), C)).view(Liar)
"""
DELEGATING = {
    "sigmoid": "def sigmoid(z):\n    import nnkit as nk\n\n    return nk.sigmoid(z)\n",
    "tanh": (
        "def tanh(z):\n    import torch\n\n"
        "    return torch.tanh(torch.from_numpy(np.asarray(z, float))).numpy()\n"
    ),
    "gelu": (
        "import scipy.special\n\n\n"
        "def gelu(z):\n    c = np.sqrt(2 / np.pi) * (z + 0.044715 * z**3)\n"
        "    return z * scipy.special.expit(2 * c)\n"
    ),
}
# prints the environment of every process it can see, the sandbox's init (bwrap) included
READ_ENVIRONMENT = """\
import glob
import os

for path in ["/proc/1/environ", "/proc/self/environ", *glob.glob("/proc/[0-9]*/environ")]:
    try:
        print(path, open(path, "rb").read().replace(b"\\0", b" ").decode(errors="replace"))
    except OSError as exc:
        print(path, exc)
print(dict(os.environ))
"""
# looks through the kernel's memory for the answer key, hidden tests or the judge's helpers
# (tests/test_autograde.py searches the sandbox's whole file system)
SNOOPER = """\
import gc
import os
import sys

from nnkit import grading

markers = ("hidden_rng(" + "1001)", "_ref_" + "mlp_backward", "reference." + "softmax(")
leaks, objects = [], 0
for name, module in list(sys.modules.items()):
    if "answer_key" in name or hasattr(module, "_ref_" + "softmax"):
        leaks.append(f"module {name}")
if "reference" in vars(grading) or "hidden_rng" in vars(grading):
    leaks.append("nnkit.grading holds the key")
for thing in gc.get_objects():  # strings are not tracked: look inside the containers
    objects += 1
    if callable(thing) and getattr(thing, "__name__", "").startswith("_ref_"):
        leaks.append(f"function {thing.__name__}")
    items = thing.values() if isinstance(thing, dict) else thing
    for item in list(items) if isinstance(thing, dict | list | tuple) else ():
        if isinstance(item, str) and item not in markers and any(m in item for m in markers):
            leaks.append("a string holding hidden test code: " + item[:80])
list(os.walk("/srv"))  # and a look outside, which the audit reports
print(f"SNOOPED objects={objects} leaks={sorted(set(leaks))}")
"""
# Every way a submission could script a page that shows it (item 5 of issue 14). Each vector
# that runs sets window.__pwned and logs PWNED; alert() would open a dialog. JavaScript's
# backquotes keep the payload clear of Python's and HTML's quotes.
_PWN = "window.__pwned = `{0}`; console.log(`PWNED {0}`); alert(`PWNED`)"
XSS_OUTPUTS = f"""\
import ipywidgets
from IPython.display import HTML, SVG, Javascript, Markdown, display

display(HTML("<script>{_PWN.format("script")}</script>"))
display(HTML('<img src="nothing.png" onerror="{_PWN.format("onerror")}">'))
display(HTML('<a class="pwn-link" href="javascript:{_PWN.format("link")}">click me</a>'))
display(HTML('<svg onload="{_PWN.format("svg")}"><script>{_PWN.format("svgs")}</script></svg>'))
display(HTML('<iframe srcdoc="<script>parent.__pwned = 1</script>"></iframe>'))
display(HTML('<form action="javascript:alert(1)"><button class="pwn-button">go</button></form>'))
display(HTML("<b>isolated</b><script>{_PWN.format("isolated")}</script>"),
        metadata={{"isolated": True}})
display(SVG('<svg xmlns="http://www.w3.org/2000/svg" onload="{_PWN.format("svgimg")}">'
            '<script>{_PWN.format("svgimg")}</script></svg>'))
display(Javascript("{_PWN.format("javascript")}"))
display(Markdown('<img src="x" onerror="{_PWN.format("mdoutput")}">'))
display(ipywidgets.HTML('<img src="x" onerror="{_PWN.format("widget")}">'))
print("<script>alert('PWNED print')</script>")
"""
XSS_MARKDOWN = f"""\
An answer with raw HTML in it.

<img src="x" onerror="{_PWN.format("markdown")}">
<script>{_PWN.format("mdscript")}</script>
<iframe src="javascript:parent.__pwned = `iframe`"></iframe>
<svg><foreignObject><img src="x" onerror="{_PWN.format("fo")}"></foreignObject></svg>

[click me too](javascript:window.__pwned=`mdlink`) and <javascript:alert(`PWNED`)>
"""
# A note an innocent student could write; stock generate_feedback stops on it.
MARKER_NOTES = "My notes: the tests are between\n\n### BEGIN HIDDEN TESTS\n\nand nothing else."
MARKER_CODE = "# ### BEGIN SOLUTION\n# ### END HIDDEN TESTS\nx = 1\n"


def xss(course: Path) -> nbformat.NotebookNode:
    """A correct ps1 that also tries every way to run script in the pages that show it."""
    nb = insert_after(correct(PS1, course), "test_sigmoid__no_overflow", XSS_OUTPUTS)
    from . import index_of

    nb.cells.insert(
        index_of(nb, "test_sigmoid__no_overflow") + 2, nbformat.v4.new_markdown_cell(XSS_MARKDOWN)
    )
    return nb


def _markers(course: Path) -> nbformat.NotebookNode:
    nb = insert_after(correct(PS1, course), "test_sigmoid__no_overflow", MARKER_CODE)
    nb.cells.append(nbformat.v4.new_markdown_cell(MARKER_NOTES))
    nb.cells.append(nbformat.v4.new_raw_cell("### END SOLUTION"))
    return nb


def _metadata(value_of: Callable[[nbformat.NotebookNode], None]):
    """A correct ps1 whose cells' nbgrader metadata ``value_of`` breaks."""

    def make(course):
        nb = correct(PS1, course)
        value_of(nb)
        return nb

    return notebook(PS1, make)


def _string_metadata(nb: nbformat.NotebookNode) -> None:
    nb.cells.append(nbformat.v4.new_markdown_cell("a note"))
    nb.cells[-1].metadata["nbgrader"] = "x"


def _list_grade_id(nb: nbformat.NotebookNode) -> None:
    from . import index_of

    nb.cells[index_of(nb, "test_relu")].metadata["nbgrader"]["grade_id"] = ["test_relu"]


def _own_grade_cell(nb: nbformat.NotebookNode) -> None:
    nb.cells.append(nbformat.v4.new_code_cell("assert True"))
    meta = {"grade": True, "grade_id": "bonus", "points": 50, "solution": False, "locked": True}
    nb.cells[-1].metadata["nbgrader"] = {**meta, "schema_version": 3}


def _symlinks(targets: dict[str, str], notebook: bool = False):
    """A build function whose files are symbolic links (name -> target), and a correct
    notebook when ``notebook`` is set."""

    def build(course: Path) -> dict[str, bytes | Symlink]:
        out: dict[str, bytes | Symlink] = {}
        if notebook:
            out[NB[PS1]] = dumps(correct(PS1, course))
        for name, target in targets.items():
            out[name] = Symlink(target.format(course=course))
        return out

    return build


@dataclass(frozen=True)
class Symlink:
    """A symbolic link in a submission (a tar, unzip or rsync -a keeps them)."""

    target: str


def _raw(files: dict[str, bytes]):
    return lambda course: dict(files)


def _edit_test(nb: nbformat.NotebookNode, grade_id: str, **changes) -> nbformat.NotebookNode:
    from . import index_of

    cell = nb.cells[index_of(nb, grade_id)]
    if "source" in changes:
        cell.source = changes["source"]
    if "points" in changes:
        cell.metadata["nbgrader"]["points"] = changes["points"]
    if changes.get("delete"):
        del nb.cells[index_of(nb, grade_id)]
    return nb


def _inserted(source: str):
    """A correct ps1 with ``source`` in a new cell after sigmoid's tests (4 points before)."""
    return notebook(
        PS1, lambda c: insert_after(correct(PS1, c), "test_sigmoid__no_overflow", source)
    )


def _inserted_after(grade_id: str, source: str):
    """A correct ps1 with ``source`` in a new cell after cell ``grade_id``."""
    return notebook(PS1, lambda c: insert_after(correct(PS1, c), grade_id, source))


def _softmax(source: str):
    """A correct ps1 whose softmax answer cell holds ``source``."""
    return notebook(PS1, lambda c: with_answer(correct(PS1, c), "softmax", source))


def _answers(sources: dict[str, str]):
    """A correct ps1 with these answer cells replaced."""

    def make(course):
        nb = correct(PS1, course)
        for grade_id, source in sources.items():
            nb = with_answer(nb, grade_id, source)
        return nb

    return notebook(PS1, make)


def _minus(assignment: str, *tests: str):
    """Full marks less the points of ``tests``."""
    return lambda course: (
        total(correct(assignment, course))
        - sum(points_of(correct(assignment, course), t) for t in tests)
    )


def _count_parameters(source: str):
    """A correct ps1 whose count_parameters answer cell holds ``source`` (its test: 1 point)."""
    return notebook(PS1, lambda c: with_answer(correct(PS1, c), "count_parameters", source))


def _wrong_count_with_test(**changes):
    """ps1 with a wrong count_parameters, and its locked test changed as ``changes`` says."""

    def make(course):
        nb = with_answer(correct(PS1, course), "count_parameters", WRONG_COUNT)
        return _edit_test(nb, "test_count_parameters", **changes)

    return notebook(PS1, make)


def _delete_answer_and_test(course: Path) -> nbformat.NotebookNode:
    from . import index_of

    nb = correct(PS1, course)
    del nb.cells[index_of(nb, "test_relu")]
    del nb.cells[index_of(nb, "relu")]
    return nb


_answer_and_test_deleted = notebook(PS1, _delete_answer_and_test)
_test_worth_100 = notebook(
    PS1, lambda c: _edit_test(correct(PS1, c), "test_count_parameters", points=100)
)


def _after_imports(assignment: str, start, source: str):
    return notebook(assignment, lambda c: after_imports(start(assignment, c), source))


def cases(network_port: int) -> list[Case]:
    """The corpus; ``network_port`` is where the test listens for a leaked connection."""
    lose_count = full_minus(PS1, "test_count_parameters")
    before_loop = up_to(PS1, "test_sigmoid__no_overflow")
    wrong_count = lambda a, c: with_answer(correct(a, c), "count_parameters", WRONG_COUNT)  # noqa: E731
    softmax_tests = ("test_softmax__values", "test_softmax__huge_logits")
    # mlp_forward keeps its points: it composes the student's own softmax faithfully...
    lose_softmax = _minus(PS1, *softmax_tests)
    # ...unless that softmax searches the file system past the cell's time there too
    mlp_forward_tests = ("test_mlp_forward__network", "test_mlp_forward__activations")
    lose_slow_softmax = _minus(PS1, *softmax_tests, *mlp_forward_tests)
    lose_lies = _minus(PS1, "test_count_parameters", "test_one_hot")
    return [
        # runaway code
        Case("loop", PS1, _inserted(LOOP), full(PS1), {"timeout"},
             what="infinite loop, interrupted at the timeout"),
        Case("loop_nosigint", PS1, _inserted(LOOP_IGNORING_SIGINT), before_loop, {"timeout"},
             what="infinite loop ignoring SIGINT: the kernel is killed"),
        Case("sys_exit", PS1, _count_parameters(SYS_EXIT), lose_count, {"exit"},
             what="sys.exit in an answer"),
        Case("os_exit", PS1, _inserted(OS_EXIT), before_loop, {"kernel-died"},
             what="os._exit kills the kernel"),
        Case("segfault", PS1, _inserted(SEGFAULT), before_loop, {"kernel-died"},
             what="segmentation fault"),
        Case("memory", PS2, _after_imports(PS2, correct, MEMORY), full(PS2), {"memory"},
             what="4 GiB array against a 2 GiB limit"),
        Case("print_flood", PS1, _inserted(PRINT_FLOOD), full(PS1), {"output"},
             what="10 million printed lines"),
        Case("display_flood", PS1, _inserted(DISPLAY_FLOOD), full(PS1), {"output"},
             what="250 MiB of displayed (not printed) output"),
        # broken files
        Case("invalid_json", PS1, _raw({NB[PS1]: b'{"cells": [{"cell_type": "code", '}), zero,
             {"invalid-notebook"}, "not gradable", "notebook is not valid JSON"),
        Case("empty", PS1, _raw({NB[PS1]: b""}), zero, {"invalid-notebook"}, "not gradable",
             "empty notebook file"),
        Case("renamed", PS1, lambda c: {"forward (1).ipynb": dumps(correct(PS1, c))}, full(PS1),
             {"renamed"}, what="notebook renamed by a download"),
        Case("missing", PS2, _raw({"notes.txt": b"I could not finish."}), zero,
             {"missing-notebook", "extra-files"}, "not gradable", "no notebook at all"),
        Case("fake_package", PS1, lambda c: {NB[PS1]: dumps(stubs(PS1, c)), **FAKE_GRADING_PACKAGE},
             zero, {"extra-files"}, what="unanswered notebook plus a no-op nnkit/grading.py"),
        # locked cells
        Case("locked_edited", PS1, _wrong_count_with_test(source="pass"), lose_count,
             {"locked-cell"}, what="wrong answer, its test emptied"),
        Case("locked_deleted", PS1, _wrong_count_with_test(delete=True), lose_count,
             {"locked-cell"}, what="wrong answer, its test deleted"),
        Case("points_changed", PS1, _test_worth_100, full(PS1), {"locked-cell"},
             what="a test worth 100 points instead of 1"),
        Case("answer_and_test_deleted", PS1, _answer_and_test_deleted, zero,
             {"grading-failed", "locked-cell"}, "failed",
             "answer and test cell deleted: nbgrader itself cannot grade it"),
        # tampering with the checks
        Case("noop_grading", PS1, _after_imports(PS1, stubs, NO_OP_GRADING), zero,
             {"suspicious-code"}, what="unanswered, nnkit.grading checks replaced by no-ops"),
        Case("noop_numpy_testing", PS1, _after_imports(PS1, wrong_count, NO_OP_NUMPY_TESTING),
             lose_count, {"suspicious-code"}, what="np.testing and np.allclose replaced by no-ops"),
        Case("eq_always_true", PS1, _count_parameters(EQ_ALWAYS_TRUE), lose_count,
             {"suspicious-code"}, what="an answer whose __eq__ is always true"),
        Case("hide_tracebacks", PS2, _after_imports(PS2, stubs, HIDE_TRACEBACKS), zero,
             {"suspicious-code"}, what="unanswered, IPython made to report every cell as fine"),
        # reaching outside the submission
        Case("read_hidden_tests", PS1, _count_parameters(READ_HIDDEN_TESTS), lose_count, {"audit"},
             what="an answer that works only if the hidden tests can be read"),
        Case("others_and_gradebook", PS1, _inserted(READ_OTHERS_WRITE_GRADEBOOK), full(PS1),
             {"audit"}, what="reads other submissions, writes to the gradebook"),
        Case("network", PS1, _inserted(NETWORK.format(port=network_port)), full(PS1), {"audit"},
             what="opens a network connection"),
        # against the judge
        Case("answer_key_thief", PS1, _softmax(ANSWER_KEY_THIEF), lose_slow_softmax, {"audit"},
             what="softmax copied from the answer key, wherever it can be found"),
        Case("stack_reader", PS1, _softmax(STACK_READER), lose_softmax, set(), "ok",
             "softmax returns the expected value read off the checking code's frames"),
        Case("forged_replies", PS1, _after_imports(PS1, stubs, FORGED_REPLIES), zero,
             {"suspicious-code"}, what="unanswered; the kernel's agent forges every reply"),
        Case("channel_garbage", PS1, _inserted(CHANNEL_GARBAGE), before_loop, {"judge"},
             what="writes garbage into the judge's channel"),
        Case("lying_objects", PS1, _answers({"count_parameters": LYING_COUNT,
             "one_hot": LYING_ONE_HOT}), lose_lies, {"suspicious-code"},
             what="results whose __eq__ always says yes"),
        Case("delegates", PS1, _answers(DELEGATING), full(PS1), {"library"},
             what="sigmoid, tanh and gelu delegated to nnkit, torch and scipy"),
        Case("reads_environment", PS1, _inserted(READ_ENVIRONMENT), full(PS1), set(), "ok",
             "prints the environment of every process in the sandbox"),
        Case("snooper", PS1, _inserted_after("test_cross_entropy__exact", SNOOPER), full(PS1),
             {"audit"}, what="searches files and memory for the answer key"),
        # a batch no submission can break (issue 14)
        Case("metadata_string", PS1, _metadata(_string_metadata), full(PS1), {"metadata"},
             what="a cell whose nbgrader metadata is a string"),
        Case("metadata_list_id", PS1, _metadata(_list_grade_id), full(PS1),
             {"metadata", "locked-cell"}, what="a test cell whose grade_id is a list"),
        Case("metadata_own_cell", PS1, _metadata(_own_grade_cell), full(PS1), {"metadata"},
             what="a 50-point test cell of the student's own"),
        Case("markers", PS1, notebook(PS1, _markers), full(PS1), {"markers"},
             what="BEGIN HIDDEN TESTS in a markdown note, solution markers in code and raw cells"),
        Case("xss", PS1, notebook(PS1, xss), full(PS1), {"active-content"},
             what="scripts, handlers, javascript: links, SVG, widgets in outputs and Markdown"),
        Case("symlink_solutions", PS1,
             _symlinks({NB[PS1]: "{course}/solutions/ps1_forward/forward.ipynb"}), zero,
             {"symlink"}, "not gradable", "the notebook is a symlink to the solutions"),
        Case("symlink_other", PS1, _symlinks({NB[PS1]: "../../good_a/ps1_forward/forward.ipynb"}),
             zero, {"symlink"}, "not gradable", "the notebook is a symlink to another student's"),
        Case("symlink_extra", PS1, _symlinks({"passwd.txt": "/etc/passwd"}, notebook=True),
             full(PS1), {"symlink"}, what="an extra file links to /etc/passwd: skipped"),
    ]  # fmt: skip


def good(assignments=(PS1, PS2)) -> dict[str, dict[str, Callable[[Path], dict[str, bytes]]]]:
    """Honest students: {student: {assignment: build}}; their grades must be exactly stock's."""
    honest_partial = lambda c: with_answer(correct(PS1, c), "count_parameters", WRONG_COUNT)  # noqa: E731
    return {
        "good_a": {a: notebook(a, lambda c, a=a: correct(a, c)) for a in assignments},
        "good_b": {PS1: notebook(PS1, honest_partial)},
    }
