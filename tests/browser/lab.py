"""A real JupyterLab server, a headless Chromium, and the notebook actions a student takes.

The server runs from the project's .venv with every Jupyter directory (config,
runtime, data, IPython) under a temporary folder, so the test neither reads nor
changes ~/.jupyter. The browser is a Chromium driven by Playwright, found by
``find_browser`` (a system Chromium or Chrome, else Playwright's own download, else, for
root on Debian, the ``chromium`` package installed on the spot).

Notebook state is read from JupyterLab's models through ``window.jupyterapp``
(the server is started with ``LabApp.expose_app_in_browser``); everything a
student does (typing, dragging a slider, clicking a button or a menu) goes
through the page itself.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import BrowserContext, Locator, Page, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
VENV_BIN = ROOT / ".venv" / "bin"
# a system browser, looked up on PATH in this order
SYSTEM_BROWSERS = ("chromium", "chromium-browser", "google-chrome-stable", "google-chrome")
PLAYWRIGHT_INSTALL = ".venv/bin/python -m playwright install chromium"
APT_LOCK_SECONDS = 600  # another apt-get may be running on a shared machine
# --headless is added by Playwright; a fresh --user-data-dir comes from launch_persistent_context.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
VIEWPORT = {"width": 1440, "height": 900}

# Generous because two cores are shared with other work; a healthy run needs a fraction.
SERVER_START_SECONDS = 120
KERNEL_START_MS = 120_000
RUN_ALL_MS = 300_000
RUN_CELL_MS = 120_000
UI_MS = 30_000


# --------------------------------------------------------------------------- server


@dataclass
class LabServer:
    """A running ``jupyter lab`` process and how to reach it."""

    url: str
    token: str
    process: subprocess.Popen
    log: Path

    def get(self, path: str) -> dict:
        """GET a JSON endpoint of the server, authenticated with the token."""
        request = urllib.request.Request(
            f"{self.url}/{path.lstrip('/')}", headers={"Authorization": f"token {self.token}"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def log_tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_env(state: Path) -> dict[str, str]:
    """The environment of a student's ``make lab``, with every Jupyter directory under ``state``."""
    env = dict(os.environ)
    # conftest.py sets Agg for the test process; the kernel must get the inline backend
    # a student gets, or plt.show() would warn on stderr.
    env.pop("MPLBACKEND", None)
    env.update(
        # NOTE: nbgrader runs the `alembic` executable from PATH when it creates
        # gradebook.db, so formgrader fails unless the venv's bin is on PATH.
        PATH=f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}",
        JUPYTER_PLATFORM_DIRS="1",
        JUPYTER_CONFIG_DIR=str(state / "config"),
        JUPYTER_RUNTIME_DIR=str(state / "runtime"),
        JUPYTER_DATA_DIR=str(state / "data"),
        IPYTHONDIR=str(state / "ipython"),
    )
    return env


def write_user_settings(config_dir: Path) -> None:
    """Answer JupyterLab's first-run news question so its toast does not cover the page."""
    settings = config_dir / "lab" / "user-settings" / "@jupyterlab" / "apputils-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "notification.jupyterlab-settings").write_text(
        json.dumps({"fetchNews": "false", "checkForUpdates": False})
    )


@contextlib.contextmanager
def running_lab(root: Path, state: Path, log: Path) -> Iterator[LabServer]:
    """Run ``.venv/bin/jupyter lab`` on ``root`` (also its cwd) until the block exits.

    The working directory matters: nbgrader's server extensions read
    nbgrader_config.py from the server's cwd.
    """
    write_user_settings(state / "config")
    port, token = free_port(), secrets.token_hex(16)
    command = [
        str(VENV_BIN / "jupyter"),
        "lab",
        "--no-browser",
        "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}",
        "--ServerApp.port_retries=0",
        # CI runs as root; Jupyter refuses root without this
        "--ServerApp.allow_root=True",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",
        "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
    ]
    with log.open("w") as out:
        process = subprocess.Popen(
            command,
            cwd=root,
            env=server_env(state),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LabServer(f"http://127.0.0.1:{port}", token, process, log)
    try:
        wait_until_ready(server)
        yield server
    finally:
        stop(process)


def wait_until_ready(server: LabServer) -> None:
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(
                f"jupyter lab exited with code {server.process.returncode} before answering; "
                f"its log ends with:\n{server.log_tail()}"
            )
        try:
            server.get("api/status")
            return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(0.25)
    raise RuntimeError(
        f"jupyter lab did not answer /api/status within {SERVER_START_SECONDS} s; "
        f"its log ends with:\n{server.log_tail()}"
    )


def stop(process: subprocess.Popen) -> None:
    """Stop the server (it shuts its kernels down on SIGTERM), then anything left in its group."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


# --------------------------------------------------------------------------- browser


class BrowserUnavailableError(RuntimeError):
    """No Chromium to drive, and none could be installed; the message says how to get one."""


def system_browser() -> str | None:
    """A Chromium or Chrome on PATH (Debian's ``chromium``, a distribution's or Google's)."""
    for name in SYSTEM_BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    return None


def playwright_browser() -> str | None:
    """Playwright's own Chromium, if ``python -m playwright install chromium`` has run."""
    with sync_playwright() as playwright:
        path = playwright.chromium.executable_path
    return path if path and os.path.isfile(path) else None


def install_debian_chromium() -> str:
    """As root with apt-get: install Debian's ``chromium``; '' if done, else why not."""
    if os.geteuid() != 0 or shutil.which("apt-get") is None:
        return "not root with apt-get, so nothing was installed"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    lock = f"DPkg::Lock::Timeout={APT_LOCK_SECONDS}"
    for command in (
        ["apt-get", "-o", lock, "update"],
        ["apt-get", "-o", lock, "install", "-y", "--no-install-recommends", "chromium"],
    ):
        done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            return f"`{' '.join(command)}` failed:\n{(done.stderr or done.stdout)[-2000:]}"
    return ""


@functools.cache
def find_browser() -> str:
    """The Chromium the browser tests drive, installing Debian's when root can.

    In order: a system Chromium/Chrome on PATH; Playwright's own browser; as root with
    apt-get, Debian's ``chromium`` installed now (what CI does). Cached per session.

    Raises
    ------
    BrowserUnavailableError
        None of these worked; the message gives the one command to run.
    """
    found = system_browser() or playwright_browser()
    if found:
        return found
    why = install_debian_chromium() or "apt-get installed chromium, yet none is on PATH"
    found = system_browser()
    if found:
        return found
    raise BrowserUnavailableError(
        "The browser tests need Chromium: none on PATH "
        f"({', '.join(SYSTEM_BROWSERS)}), no Playwright browser, and {why}.\n"
        f"Run, in {ROOT}:\n    {PLAYWRIGHT_INSTALL}\n"
        "(or, as root on Debian/Ubuntu: apt-get install -y chromium)"
    )


@contextlib.contextmanager
def chromium(profile: Path, executable: str) -> Iterator[BrowserContext]:
    """A headless Chromium (the binary ``executable``) with a fresh profile in ``profile``."""
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(profile),
            executable_path=executable,
            headless=True,
            args=CHROMIUM_FLAGS,
            viewport=VIEWPORT,
        )
        try:
            yield context
        finally:
            context.close()


# The notebook panel showing `path`, found among the main area's widgets.
_PANEL = """
const panelFor = (path) => {
    for (const w of window.jupyterapp.shell.widgets('main')) {
        if (w.context && w.context.path === path && w.content && w.content.widgets) return w;
    }
    return null;
};
"""


def _js(body: str) -> str:
    """A page function ``(arg) => ...`` with ``panelFor`` in scope.

    Synchronous on purpose: wait_for_function takes a returned Promise as a truthy answer.
    """
    return f"(arg) => {{ {_PANEL} {body} }}"


_KERNEL_IDLE = _js("""
    const panel = panelFor(arg);
    const kernel = panel && panel.sessionContext.session && panel.sessionContext.session.kernel;
    return Boolean(kernel && panel.sessionContext.isReady && kernel.status === 'idle');
""")

_CELLS = _js("""
    const panel = panelFor(arg);
    return panel.content.widgets.map((cell, index) => {
        const model = cell.model;
        const outputs = [];
        if (model.type === 'code') {
            for (let k = 0; k < model.outputs.length; k++) {
                outputs.push(model.outputs.get(k).toJSON());
            }
        }
        return {
            index,
            type: model.type,
            source: model.sharedModel.getSource(),
            metadata: model.sharedModel.getMetadata(),
            executionCount: model.type === 'code' ? model.executionCount : null,
            outputs,
        };
    });
""")

# Starts a command and returns at once; `window.__labCommand` records how it ended, so
# Python can wait for it with a timeout (page.evaluate alone would wait forever).
_START_COMMAND = _js("""
    const panel = panelFor(arg.path);
    window.jupyterapp.shell.activateById(panel.id);
    if (arg.cell !== null) panel.content.activeCellIndex = arg.cell;
    window.__labCommand = {done: false};
    window.jupyterapp.commands.execute(arg.command).then(
        (result) => { window.__labCommand = {done: true, result: result}; },
        (error) => { window.__labCommand = {done: true, error: String(error)}; },
    );
""")


def cell_errors(cells: list[dict]) -> list[str]:
    """Every error and stderr output of the cells, named by cell index."""
    found = []
    for cell in cells:
        for out in cell["outputs"]:
            if out["output_type"] == "error":
                found.append(f"cell {cell['index']}: {out['ename']}: {out['evalue']}")
            elif out["output_type"] == "stream" and out["name"] == "stderr":
                text = "".join(out["text"]) if isinstance(out["text"], list) else out["text"]
                found.append(f"cell {cell['index']} wrote to stderr: {text[:500]}")
    return found


class Lab:
    """One browser page on the server, with the actions the tests take in JupyterLab."""

    def __init__(self, page: Page, server: LabServer):
        self.page, self.server = page, server
        self.console: list[str] = []
        page.on("console", lambda msg: self.console.append(f"{msg.type}: {msg.text}"))
        page.on("pageerror", lambda exc: self.console.append(f"pageerror: {exc}"))
        page.set_default_timeout(UI_MS)

    def url(self, path: str) -> str:
        sep = "&" if "?" in path else "?"
        return f"{self.server.url}/{path.lstrip('/')}{sep}token={self.server.token}"

    def start(self, workspace: str) -> None:
        """Load JupyterLab in a fresh, named workspace (so no earlier tabs are restored)."""
        self.page.goto(self.url(f"lab/workspaces/{workspace}?reset"))
        self.page.wait_for_function(
            "() => window.jupyterapp && window.jupyterapp.shell", timeout=KERNEL_START_MS
        )
        self.page.locator("#jp-main-dock-panel").wait_for()

    def plugins_not_activated(self, plugin_ids: list[str]) -> list[str]:
        """Those of ``plugin_ids`` that JupyterLab did not load and activate."""
        return self.page.evaluate(
            """(ids) => ids.filter((id) =>
                !(window.jupyterapp.hasPlugin(id) && window.jupyterapp.isPluginActivated(id)))""",
            plugin_ids,
        )

    def open_notebook(self, path: str) -> None:
        """Open ``path`` as a student does (File Browser → double click ends in this command)."""
        # returns nothing: the opened widget is too deep an object to send back to Python
        self.page.evaluate(
            "async (path) => { await jupyterapp.commands.execute('docmanager:open', {path}); }",
            path,
        )
        self.wait_kernel_idle(path)
        self.notebook(path).locator(".jp-Cell").first.wait_for()
        self.fail_on_dialog(f"opening {path}")

    def fail_on_dialog(self, doing: str) -> None:
        """Fail if JupyterLab is asking the user something (a student would be stuck too)."""
        dialog = self.page.locator(".jp-Dialog")
        if dialog.count():
            raise AssertionError(
                f"JupyterLab showed a dialog while {doing}:\n{dialog.inner_text()}"
            )

    def wait_kernel_idle(self, path: str, timeout_ms: int = KERNEL_START_MS) -> None:
        self.page.wait_for_function(_KERNEL_IDLE, arg=path, timeout=timeout_ms)

    def cells(self, path: str) -> list[dict]:
        return self.page.evaluate(_CELLS, path)

    def run(self, path: str, command: str, cell: int | None = None, timeout_ms: int = RUN_CELL_MS):
        """Run a notebook command (e.g. ``notebook:run-all-cells``) and wait for the kernel."""
        self.page.evaluate(_START_COMMAND, {"path": path, "command": command, "cell": cell})
        self.page.wait_for_function(
            "() => window.__labCommand.done || document.querySelector('.jp-Dialog') !== null",
            timeout=timeout_ms,
        )
        self.fail_on_dialog(f"running {command} in {path}")
        outcome = self.page.evaluate("() => window.__labCommand")
        if "error" in outcome:
            raise RuntimeError(f"JupyterLab command {command} failed: {outcome['error']}")
        self.wait_kernel_idle(path, timeout_ms)
        return outcome.get("result")

    def notebook(self, path: str) -> Locator:
        """The DOM of the notebook panel showing ``path``."""
        panel_id = self.page.evaluate(_js("return panelFor(arg).id;"), path)
        return self.page.locator(f"[id='{panel_id}']")

    def set_cell_source(self, path: str, index: int, source: str) -> None:
        """Replace a cell's text by typing into its editor, as a student does."""
        cell = self.notebook(path).locator(".jp-Cell").nth(index)
        if "jp-mod-rendered" in (cell.get_attribute("class") or ""):
            cell.scroll_into_view_if_needed()
            cell.dblclick()  # a rendered Markdown cell shows its editor on a double click
        editor = cell.locator(".cm-content")
        editor.scroll_into_view_if_needed()
        editor.click()
        self.page.keyboard.press("ControlOrMeta+a")
        self.page.keyboard.press("Delete")
        # insert_text delivers the text as one input event: no auto-indent or bracket closing
        self.page.keyboard.insert_text(source)
        self.page.keyboard.press("Escape")
