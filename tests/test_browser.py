"""End to end in a real JupyterLab: a lecture's widgets, a student's exercise, the formgrader.

Starts ``.venv/bin/jupyter lab`` on a temporary copy of the course (so nothing in
the working tree changes) and drives a headless Chromium (tests/browser/lab.py's
``find_browser``: the system's, Playwright's, or Debian's installed for root) through
Playwright, doing what a student and an instructor do:

1. open a lecture, run all cells, find no error and the widgets drawn as widgets;
2. drag an explorer's slider and see its picture change;
3. open a student exercise, type an answer into a stub, see its visible test pass,
   and press nbgrader's Validate button;
4. open nbgrader's formgrader from the menu and find the four assignments.

Screenshots go to test-artifacts/browser/ (gitignored), with the server's log
(jupyterlab.log) and the page's console messages (console.log); a failing test
leaves FAILED_<test>.png. The tests share one server and one page, in file order.
"""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from playwright.sync_api import expect

from tests.browser.lab import (
    KERNEL_START_MS,
    RUN_ALL_MS,
    Lab,
    cell_errors,
    chromium,
    running_lab,
)
from tests.notebooks import ROOT, warm_up

pytestmark = pytest.mark.browser

ARTIFACTS = ROOT / "test-artifacts" / "browser"
COURSE_FILES = ["lectures", "exercises", "solutions", "nbgrader_config.py"]
LECTURES = ["lectures/01_anatomy.ipynb", "lectures/02_activations.ipynb"]
EXPLORER_LECTURE = "lectures/02_activations.ipynb"
EXERCISE = "exercises/ps1_forward/forward.ipynb"
SOLUTION = "solutions/ps1_forward/forward.ipynb"
TASK = "count_parameters"
ASSIGNMENTS = ["ps1_forward", "ps2_backward", "ps3_training", "ps4_autograd"]
# The Lab plugins the course needs: widgets drawn as widgets, and nbgrader's menu,
# formgrader and Validate button.
REQUIRED_PLUGINS = [
    "@jupyter-widgets/jupyterlab-manager:plugin",
    "@jupyter-widgets/jupyterlab-manager:base-2.0.0",
    "@jupyter-widgets/jupyterlab-manager:controls-2.0.0",
    "@jupyter/nbgrader:menu",
    "@jupyter/nbgrader:formgrader",
    "@jupyter/nbgrader:validate-assignment",
]
WIDGET_MIME = "application/vnd.jupyter.widget-view+json"
# What JupyterLab prints instead of a widget when the widget manager is missing.
TEXT_FALLBACK = re.compile(r"^\s*\w+\((children|value|description)=")
DIALOG_MS = 180_000


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def artifacts() -> Path:
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """A copy of the course's files: Validate saves notebooks, formgrader writes gradebook.db."""
    missing = [name for name in COURSE_FILES if not (ROOT / name).exists()]
    assert not missing, f"the course is missing {missing} under {ROOT}"
    course = tmp_path_factory.mktemp("course")
    for name in COURSE_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, course / name, ignore=shutil.ignore_patterns(".ipynb*"))
        else:
            shutil.copy2(source, course / name)
    return course


@pytest.fixture(scope="module")
def server(course, artifacts, browser_executable, tmp_path_factory):
    warm_up()  # a first matplotlib import would print "building the font cache" to stderr
    state = tmp_path_factory.mktemp("jupyter-state")
    with running_lab(course, state, artifacts / "jupyterlab.log") as server:
        yield server


@pytest.fixture(scope="module")
def browser(server, browser_executable, tmp_path_factory):
    profile = tmp_path_factory.mktemp("chromium-profile")
    with chromium(profile, browser_executable) as context:
        yield context


@pytest.fixture(scope="module")
def page_lab(browser, server, artifacts):
    """One JupyterLab page for the module: loading Lab costs seconds on a busy machine."""
    lab = Lab(browser.new_page(), server)
    lab.start("course-test")
    yield lab
    (artifacts / "console.log").write_text("\n".join(lab.console) + "\n")
    lab.page.close()


@pytest.fixture
def lab(request, page_lab, artifacts):
    """The shared page; a failing test leaves a picture of it."""
    failed_before = request.session.testsfailed
    yield page_lab
    if request.session.testsfailed > failed_before:
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        page_lab.page.screenshot(path=artifacts / f"FAILED_{name}.png")


@pytest.fixture(scope="module")
def executed(page_lab):
    """Lectures already run on the shared page, so a later test need not run them again."""
    return {}


# --------------------------------------------------------------------------- helpers


def shoot(lab: Lab, name: str, locator=None) -> bytes:
    """Save a screenshot (of ``locator``, or the whole window) as an artefact."""
    path = ARTIFACTS / f"{name}.png"
    if locator is None:
        return lab.page.screenshot(path=path)
    return locator.screenshot(path=path)


def run_all_cleanly(lab: Lab, path: str, executed: dict) -> list[dict]:
    """Open ``path``, run every cell, and require no error, no stderr and no skipped cell."""
    lab.open_notebook(path)
    if path in executed:
        return executed[path]
    lab.run(path, "notebook:run-all-cells", timeout_ms=RUN_ALL_MS)
    cells = lab.cells(path)
    errors = cell_errors(cells)
    assert not errors, f"{path} in JupyterLab:\n" + "\n".join(errors)
    not_run = [c["index"] for c in cells if c["type"] == "code" and c["executionCount"] is None]
    assert not not_run, f"{path}: cells {not_run} did not run"
    executed[path] = cells
    return cells


def widget_outputs(cells: list[dict]) -> int:
    return sum(WIDGET_MIME in out.get("data", {}) for cell in cells for out in cell["outputs"])


def wait_for_stable_image(lab: Lab, path: str, image, quiet_s: float = 1.0) -> str:
    """Wait until the kernel is idle and the picture's src has not changed for ``quiet_s``."""
    deadline = time.monotonic() + KERNEL_START_MS / 1000
    last, since = None, time.monotonic()
    while time.monotonic() < deadline:
        lab.wait_kernel_idle(path)
        src = image.get_attribute("src")
        if src != last:
            last, since = src, time.monotonic()
        elif time.monotonic() - since >= quiet_s and image.evaluate(
            "img => img.complete && img.naturalWidth > 0"
        ):
            return src
        time.sleep(0.2)
    raise AssertionError(f"{path}: the explorer's picture kept changing or never loaded")


def nbgrader_cells(cells: list[dict]) -> list[tuple[dict, dict]]:
    return [(c, c["metadata"].get("nbgrader", {})) for c in cells]


def solution_sources(path: Path) -> dict[str, str]:
    """The instructor's answer of every answer cell (code, and written answers), by grade_id,
    markers removed."""
    marker = re.compile(r"^\s*#+\s*(BEGIN|END) SOLUTION\s*$")
    answers = {}
    for cell in nbformat.read(path, as_version=4).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            lines = [line for line in cell.source.splitlines() if not marker.match(line)]
            answers[meta["grade_id"]] = "\n".join(lines)
    return answers


def validate(lab: Lab, path: str, name: str) -> tuple[str, str]:
    """Press the notebook's Validate button; return the dialog's kind and text, then close it."""
    lab.notebook(path).locator("jp-button.validate-button").click()
    dialog = lab.page.locator(".nbgrader-SuccessDialog, .nbgrader-ErrorDialog")
    dialog.wait_for(timeout=DIALOG_MS)
    kind = "success" if "nbgrader-SuccessDialog" in dialog.get_attribute("class") else "error"
    text = lab.page.locator(".jp-Dialog-content").inner_text()
    shoot(lab, name)
    lab.page.locator(".jp-Dialog-content button.jp-Dialog-button").click()
    dialog.wait_for(state="detached")
    return kind, text


# --------------------------------------------------------------------------- tests


def test_jupyterlab_loads_the_widget_and_nbgrader_extensions(lab):
    """The widget manager and nbgrader's Lab plugins load; the Nbgrader menu is there."""
    assert lab.plugins_not_activated(REQUIRED_PLUGINS) == []
    assert lab.page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader").count() == 1
    shoot(lab, "00_jupyterlab")


@pytest.mark.parametrize("path", LECTURES)
def test_lecture_runs_cleanly_and_draws_its_widgets(lab, executed, path):
    """Run All gives no error or stderr, and every widget output is a live widget, not text."""
    cells = run_all_cleanly(lab, path, executed)
    notebook = lab.notebook(path)
    expected = widget_outputs(cells)
    texts = notebook.locator(".jp-OutputArea-output").all_text_contents()
    fallbacks = [t[:120] for t in texts if TEXT_FALLBACK.match(t) or "Error displaying widget" in t]
    assert not fallbacks, f"{path}: widgets shown as text: {fallbacks}"
    rendered = notebook.locator(".jp-OutputArea-output:has(> .jupyter-widgets)")
    assert rendered.count() == expected, (
        f"{path}: {expected} widget outputs in the notebook, {rendered.count()} drawn as widgets"
    )
    # the picture shows the first widget, or else the last output: the run reached the end
    shown = rendered.first if expected else notebook.locator(".jp-OutputArea-output").last
    shown.scroll_into_view_if_needed()
    shoot(lab, f"10_{Path(path).stem}_after_run_all")


def test_moving_an_explorer_slider_redraws_its_picture(lab, executed):
    """Dragging the first slider of the lecture's explorer changes the plot the page shows."""
    path = EXPLORER_LECTURE
    stem = Path(path).stem
    run_all_cleanly(lab, path, executed)
    explorer = (
        lab.notebook(path).locator(".widget-vbox:has(> img.widget-image):has(.widget-slider)").first
    )
    explorer.wait_for()
    image = explorer.locator("img.widget-image").first
    slider = explorer.locator(".widget-slider").first
    explorer.scroll_into_view_if_needed()
    src_before = wait_for_stable_image(lab, path, image)
    readout_before = slider.locator(".widget-readout").inner_text()
    shoot(lab, f"20_{stem}_explorer_before", explorer)
    picture_before = image.screenshot()

    # drag the handle to the far side of the track, as a student does with the mouse
    handle = slider.locator(".noUi-handle").bounding_box()
    track = slider.locator(".noUi-target").bounding_box()
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    right_half = x > track["x"] + track["width"] / 2
    target = track["x"] + (0.15 if right_half else 0.85) * track["width"]
    lab.page.mouse.move(x, y)
    lab.page.mouse.down()
    lab.page.mouse.move(target, y, steps=10)
    lab.page.mouse.up()

    readout_after = slider.locator(".widget-readout").inner_text()
    assert readout_after != readout_before, "the slider did not move"
    lab.page.wait_for_function(
        "([img, src]) => img.src !== src", arg=[image.element_handle(), src_before]
    )
    wait_for_stable_image(lab, path, image)
    shoot(lab, f"21_{stem}_explorer_after", explorer)
    assert image.screenshot() != picture_before, (
        f"slider {readout_before} -> {readout_after}, but the picture looks the same"
    )
    assert cell_errors(lab.cells(path)) == []


def test_student_answers_an_exercise_and_validates_it(lab, course):
    """A typed answer passes its visible test; Validate fails on stubs and passes when done."""
    lab.open_notebook(EXERCISE)
    cells = nbgrader_cells(lab.cells(EXERCISE))
    answer = next((c for c, m in cells if m.get("solution") and f"def {TASK}" in c["source"]), None)
    assert answer is not None, f"{EXERCISE} has no answer cell defining {TASK}"
    assert "NotImplementedError" in answer["source"], "the student release must ship a stub"
    test = next(
        (
            c
            for c, m in cells
            if c["index"] > answer["index"]
            and m.get("grade")
            and not m.get("solution")
            and TASK in c["source"]
        ),
        None,
    )
    assert test is not None, f"{EXERCISE} has no visible test of {TASK} after its answer"

    kind, text = validate(lab, EXERCISE, "30_exercise_validate_stubs")
    assert kind == "error" and TASK in text, text[:2000]

    # every code cell up to the test, except other tasks' tests, then the test on the stub
    setup = [
        c["index"]
        for c, m in cells
        if c["index"] < test["index"] and c["type"] == "code" and not m.get("grade")
    ]
    for index in [*setup, test["index"]]:
        lab.run(EXERCISE, "notebook:run-cell", cell=index)
    stub_errors = cell_errors([lab.cells(EXERCISE)[test["index"]]])
    assert any(TASK in e for e in stub_errors), f"the visible test passed the stub: {stub_errors}"

    solutions = solution_sources(course / SOLUTION)
    grade_id = answer["metadata"]["nbgrader"]["grade_id"]
    lab.set_cell_source(EXERCISE, answer["index"], solutions[grade_id])
    typed = lab.cells(EXERCISE)[answer["index"]]["source"]
    assert typed == solutions[grade_id], f"the editor holds:\n{typed}"
    for index in [answer["index"], test["index"]]:
        lab.run(EXERCISE, "notebook:run-cell", cell=index)
    passed = lab.cells(EXERCISE)[test["index"]]
    assert passed["executionCount"] is not None
    assert cell_errors([passed]) == [], f"the visible test of {TASK} failed on the answer"
    lab.notebook(EXERCISE).locator(".jp-Cell").nth(test["index"]).scroll_into_view_if_needed()
    shoot(lab, "31_exercise_visible_test_passes")

    # every answer, the written ones too: Validate counts an unanswered question as failing
    for cell, meta in cells:
        if meta.get("solution") and cell is not answer:
            lab.set_cell_source(EXERCISE, cell["index"], solutions[meta["grade_id"]])
    kind, text = validate(lab, EXERCISE, "32_exercise_validate_answers")
    assert kind == "success" and "passes all the tests" in text, text[:2000]


def test_instructor_finds_the_assignments_in_formgrader(lab):
    """Nbgrader > Formgrader opens the formgrader, which lists the four assignments."""
    lab.page.locator("#jp-MainMenu .lm-MenuBar-itemLabel", has_text="Nbgrader").click()
    lab.page.locator('#jp-mainmenu-nbgrader li[data-command="nbgrader:open-formgrader"]').click()
    tab = lab.page.locator("#jp-main-dock-panel .lm-TabBar-tab.lm-mod-current")
    expect(tab).to_have_text("Formgrader")
    frame = lab.page.frame_locator("#jp-main-dock-panel iframe")
    frame.locator("td.name").first.wait_for(timeout=KERNEL_START_MS)
    names = sorted(t.strip() for t in frame.locator("td.name").all_inner_texts())
    shoot(lab, "40_formgrader")
    assert names == ASSIGNMENTS
