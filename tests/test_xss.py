"""No script of a submission runs in the pages that show it: feedback and formgrader.

A class of three is graded as ``make grade`` does (``python -m nnkit.autograde
grade``, then ``nbgrader generate_feedback``): two honest students and one whose
notebook tries every way into the page (``tests/autograde_corpus/cases.py``:
``<script>``, ``onerror=``, ``javascript:`` links, inline SVG with script and
``onload``, an ``srcdoc`` iframe, a form, ``display(HTML(...))`` with and without
``isolated``, ``display(Javascript(...))``, an SVG image, a Markdown output, an
ipywidgets HTML widget, and a Markdown cell with raw ``<img onerror>``,
``<script>``, ``<iframe>``, SVG ``foreignObject`` and ``javascript:`` links).

Headless Chromium then opens that student's feedback page (as the student does,
from disk) and formgrader's manual-grading view of the submission (as the
instructor does, from a real Jupyter server with nbgrader's extension, the
course as its root). Each payload would set ``window.__pwned``, log ``PWNED`` and
call ``alert``; each page must show the submission (its text and the
``[removed: script output]`` notes) with no dialog, no such console message, no
marker set, even after its links and buttons are clicked.

Without ``nnkit.autograde.sanitize`` in ``nbgrader_config.py`` both tests fail:
alert dialogs, ``PWNED`` console messages and ``window.__pwned`` set.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from nbgrader.api import Gradebook

from nnkit.autograde.sanitize import REMOVED_SCRIPT
from tests.autograde_corpus import cases
from tests.browser.lab import chromium, running_lab
from tests.notebooks import warm_up

pytestmark = [pytest.mark.browser, pytest.mark.timeout(1200)]

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts" / "xss"
STUDENT, ASSIGNMENT, NOTEBOOK = "xss", cases.PS1, "forward"
ENV = {
    **os.environ,
    "JUPYTER_PLATFORM_DIRS": "1",
    # nbgrader runs `alembic` from PATH when it creates a gradebook
    "PATH": str(Path(sys.executable).parent) + os.pathsep + os.environ.get("PATH", ""),
}
PAGE_MS = 60_000


def _run(args: list[str], cwd: Path) -> None:
    done = subprocess.run(args, cwd=cwd, env=ENV, capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"{args} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


def _nbgrader(*args: str) -> list[str]:
    return [str(Path(sys.executable).parent / "nbgrader"), *args]


@pytest.fixture(scope="module")
def course(tmp_path_factory) -> Path:
    """The course, graded and with feedback written, as after `make grade`."""
    course = tmp_path_factory.mktemp("xss") / "course"
    course.mkdir()
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions", course / "solutions")
    shutil.copytree(ROOT / "grader", course / "grader")
    _run(_nbgrader("generate_assignment", "*", "--force"), course)
    submissions = {
        **cases.good(assignments=(cases.PS1,)),
        STUDENT: {ASSIGNMENT: cases.notebook(ASSIGNMENT, cases.xss)},
    }
    for student, work in submissions.items():
        for assignment, build in work.items():
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True)
            for name, data in build(course).items():
                (folder / name).write_bytes(data)
    grade = [sys.executable, "-m", "nnkit.autograde", "grade", "--workers", "2", "--force"]
    _run([*grade, "--timeout", "60"], course)
    _run(_nbgrader("generate_feedback", "*", "--force"), course)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return course


@pytest.fixture(scope="module")
def browser(course, tmp_path_factory, browser_executable):
    profile = tmp_path_factory.mktemp("chromium-profile")
    with chromium(profile, browser_executable) as context:
        yield context


class Watched:
    """A page with every dialog, console message and page error recorded."""

    def __init__(self, context):
        self.page = context.new_page()
        self.page.set_default_timeout(PAGE_MS)
        self.dialogs: list[str] = []
        self.console: list[str] = []

        def on_dialog(dialog):
            self.dialogs.append(f"{dialog.type}: {dialog.message}")
            dialog.dismiss()

        self.page.on("dialog", on_dialog)
        self.page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))
        self.page.on("pageerror", lambda exc: self.console.append(f"pageerror: {exc}"))

    def open(self, url: str) -> None:
        # "load", not "networkidle": the page asks a CDN for MathJax, which may not answer here
        self.page.goto(url, wait_until="load")
        self.page.wait_for_timeout(1500)  # onload/onerror handlers and timers have run by now

    def click_everything(self) -> None:
        """Click every link and button the submission put in the page."""
        for selector in ("a.pwn-link", "button.pwn-button", "a:text('click me too')"):
            for element in self.page.locator(selector).all():
                element.click(timeout=5_000, no_wait_after=True)
                self.page.wait_for_timeout(300)
                if self.page.url.startswith("javascript:"):  # pragma: no cover - would be a bug
                    self.page.go_back()

    def findings(self) -> list[str]:
        found = [f"dialog {d}" for d in self.dialogs]
        found += [f"console {c}" for c in self.console if "PWNED" in c]
        pwned = self.page.evaluate("() => window.__pwned")
        if pwned is not None:
            found.append(f"window.__pwned = {pwned!r}")
        scripts = self.page.evaluate(
            "() => [...document.querySelectorAll('script')].map(s => s.textContent)"
        )
        found += [f"<script> in the page: {s[:120]}" for s in scripts if "PWNED" in s]
        # the notebook's part of the page (the page's own scaffolding is nbgrader's)
        handlers = self.page.evaluate(
            """() => [...document.querySelectorAll('#notebook-container *')]
                .flatMap(el => [...el.attributes]
                .filter(a => /^on/i.test(a.name) || /^\\s*javascript:/i.test(a.value))
                .map(a => `${el.tagName} ${a.name}=${a.value.slice(0, 80)}`))"""
        )
        found += [f"active attribute {h}" for h in handlers]
        frames = self.page.locator(
            "#notebook-container :is(iframe, object, embed, form, svg, math)"
        ).count()
        if frames:
            found.append(f"{frames} iframe, object, embed, form, svg or math element(s)")
        return found


def _shows_the_submission(watched: Watched, name: str) -> None:
    """The page really holds the hostile student's notebook (so the test cannot pass empty)."""
    text = watched.page.locator("body").inner_text()
    watched.page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)
    assert "An answer with raw HTML in it." in text, text[:2000]
    assert "click me too" in text


def test_feedback_page_runs_no_student_script(course, browser):
    page = course / "feedback" / STUDENT / ASSIGNMENT / f"{NOTEBOOK}.html"
    watched = Watched(browser)
    watched.open(page.as_uri())
    _shows_the_submission(watched, "feedback")
    watched.click_everything()
    findings = watched.findings()
    assert not findings, "the submission ran in the feedback page:\n" + "\n".join(findings)
    assert REMOVED_SCRIPT in watched.page.locator("body").inner_text()


def test_formgrader_manual_grading_view_runs_no_student_script(course, browser, tmp_path_factory):
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}", "nnkit") as gb:
        submission = gb.find_submission_notebook(NOTEBOOK, ASSIGNMENT, STUDENT).id
    warm_up()
    state = tmp_path_factory.mktemp("jupyter-state")
    with running_lab(course, state, ARTIFACTS / "jupyter.log") as server:
        watched = Watched(browser)
        watched.open(f"{server.url}/formgrader/submissions/{submission}/?token={server.token}")
        title = watched.page.title()
        assert re.search(NOTEBOOK, watched.page.locator("body").inner_text()), title
        _shows_the_submission(watched, "formgrader")
        # formgrader's own page works: its grading form is there for the instructor
        assert watched.page.locator("textarea.comment").count() > 0
        watched.click_everything()
        findings = watched.findings()
        text = watched.page.locator("body").inner_text()
    assert not findings, "the submission ran in formgrader:\n" + "\n".join(findings)
    assert REMOVED_SCRIPT in text
