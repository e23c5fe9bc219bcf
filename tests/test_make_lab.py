"""`make lab`, the README's first command, starts JupyterLab: as root too (CI, containers).

Jupyter refuses root unless given --allow-root; the Makefile adds it for root and says so
in one line. Run as root (CI) this checks that line and that the server answers; run as
another user, that the line is absent and the server answers all the same.
"""

import os
import secrets
import shutil
import signal
import subprocess

from tests.browser.lab import (
    LabServer,
    free_port,
    server_env,
    wait_until_ready,
    write_user_settings,
)
from tests.notebooks import ROOT

ROOT_LINE = "make lab: running as root; JupyterLab starts with --allow-root"


def stop_group(process: subprocess.Popen) -> None:
    """SIGTERM make and jupyter (one process group), then SIGKILL whatever is left."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
    except ProcessLookupError:
        pass


def test_make_lab_starts_jupyterlab(tmp_path):
    """`make lab ARGS="--no-browser --port=N"` answers /api/status; root gets --allow-root."""
    make = shutil.which("make")
    assert make, "the README's commands need make (apt-get install -y make)"
    state = tmp_path / "jupyter-state"
    write_user_settings(state / "config")
    port, token = free_port(), secrets.token_hex(16)
    args = (
        f"--no-browser --port={port} --ServerApp.ip=127.0.0.1 --ServerApp.port_retries=0 "
        f"--IdentityProvider.token={token}"
    )
    log = tmp_path / "make-lab.log"
    with log.open("w") as out:
        process = subprocess.Popen(
            [make, "lab", f"ARGS={args}"],
            cwd=ROOT,
            env=server_env(state),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = LabServer(f"http://127.0.0.1:{port}", token, process, log)
    try:
        wait_until_ready(server)
        status = server.get("api/status")
    finally:
        stop_group(process)
    assert "started" in status, status
    printed = log.read_text(errors="replace")
    if os.getuid() == 0:
        assert ROOT_LINE in printed, printed[-2000:]
        assert "--allow-root" in printed  # make echoes the command it runs
    else:
        assert ROOT_LINE not in printed and "--allow-root" not in printed, printed[-2000:]
