"""The top-level namespace: what `import nnkit` loads, and what `dir(nnkit)` lists."""

import subprocess
import sys

import pytest

import nnkit as nk

# each lazily imported module and the slow dependency it brings
LAZY = {"plotting": "matplotlib", "widgets": "ipywidgets", "torch_interop": "torch"}


def run_python(code):
    """stdout of ``code`` run by a fresh interpreter (the test's environment, MPLBACKEND=Agg)."""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    return result.stdout.strip()


def test_dir_lists_the_lazy_modules_and_every_exported_name():
    names = dir(nk)
    assert set(LAZY) <= set(names)
    assert set(nk.__all__) <= set(names)
    assert names == sorted(names)


def test_import_nnkit_and_dir_load_no_slow_dependency():
    """`import nnkit` and `dir(nnkit)` leave matplotlib, ipywidgets and torch unimported."""
    code = (
        "import sys, nnkit\n"
        "listed = sorted(set(dir(nnkit)) & {'plotting', 'widgets', 'torch_interop'})\n"
        f"print(listed, [m for m in {sorted(LAZY.values())} if m in sys.modules])"
    )
    assert run_python(code) == "['plotting', 'torch_interop', 'widgets'] []"


@pytest.mark.parametrize(("module", "dependency"), LAZY.items())
def test_attribute_access_imports_a_lazy_module(module, dependency):
    code = (
        "import sys, nnkit\n"
        f"before = {dependency!r} in sys.modules\n"
        f"loaded = nnkit.{module}\n"
        f"print(before, {dependency!r} in sys.modules, loaded.__name__)"
    )
    assert run_python(code) == f"False True nnkit.{module}"


def test_an_unknown_attribute_is_still_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'nnkit' has no attribute 'plottting'"):
        nk.plottting  # noqa: B018 (the attribute access is the test)
