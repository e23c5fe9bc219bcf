"""Stock nbgrader, as an instructor without nnkit's engine grades: the baseline to compare with.

:func:`write_stock_config` turns a course directory's ``nbgrader_config.py`` into
what a course without the judge would run: nbgrader's own ``Execute`` and
``SaveAutoGrades``, the hidden tests executed in the kernel, and (so that they can
run there at all) the answer key attached to ``nnkit.grading`` when the kernel
starts, exactly the in-kernel grading this project had before the judge. The
judge's grades must agree with it on honest submissions; its speed is what the
grading benchmark measures the engine against.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# run once in every kernel before the notebook: the answer key and the hidden rng in the kernel
_STARTUP = (
    "import nnkit.grading as _g; "
    "from nnkit.autograde.judge import judge_grading as _j, load_answer_key as _l; "
    "_k = _l({key!r}); _g.reference = _k.reference; "
    "_g.hidden_rng = _j(_k, {seed}).hidden_rng; del _g, _j, _l, _k"
)

_STOCK = """

# ---- stock nbgrader (tests/autograde_corpus/stock.py): no judge, hidden tests in the kernel
from nbgrader.preprocessors import Execute as _Execute, SaveAutoGrades as _SaveAutoGrades

c.Autograde.autograde_preprocessors = [
    _Execute,
    IgnorePattern,
    ClearMetadataPreprocessor,
    LimitOutput,
    _SaveAutoGrades,
    AssignLatePenalties,
    CheckCellMetadata,
]
c.Autograde.pre_convert_hook = None
c.Execute.extra_arguments = [
    "--InteractiveShell.xmode=Minimal",
    "--IPKernelApp.code_to_run=" + {startup!r},
]
"""


def write_stock_config(course: Path, seed: int = 2026, key: Path = ROOT / "grader") -> None:
    """Append the stock overrides to ``course``'s nbgrader_config.py."""
    config = course / "nbgrader_config.py"
    startup = _STARTUP.format(key=str(key), seed=seed)
    config.write_text(config.read_text() + _STOCK.format(startup=startup))
