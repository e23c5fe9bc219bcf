"""Print how long `make hub` takes to answer, over a few starts (run as root from the repository).

Each start uses a fresh state directory and exchange under /tmp and free loopback ports, so
the figure includes creating the hub's database and cookie secret, as a first start does.
The time runs from launching `make hub` to the hub's REST API answering through the proxy.

    .venv/bin/python hub/measure_startup.py [runs]
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_once() -> float:
    with tempfile.TemporaryDirectory(prefix="nnkit-hub-measure-") as tmp:
        url = f"http://127.0.0.1:{_port()}"
        env = {
            **os.environ,
            "NNKIT_HUB_URL": url,
            "NNKIT_HUB_API_PORT": str(_port()),
            "NNKIT_PROXY_API_PORT": str(_port()),
            "NNKIT_HUB_STATE": f"{tmp}/state",
        }
        command = ["make", "--no-print-directory", "hub", f"HUB_EXCHANGE={tmp}/exchange"]
        started = time.monotonic()
        process = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            while time.monotonic() - started < 120:
                if process.poll() is not None:
                    raise RuntimeError(f"make hub exited with {process.returncode}")
                try:
                    with urllib.request.urlopen(f"{url}/hub/api/", timeout=5):
                        return time.monotonic() - started
                except (urllib.error.URLError, ConnectionError, TimeoutError):
                    time.sleep(0.05)
            raise RuntimeError("the hub did not answer within 120 s")
        finally:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=30)


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 3
    times = [start_once() for _ in range(runs)]
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"make hub start-up, {runs} runs: " + ", ".join(f"{t:.2f} s" for t in times))
    print(f"median {sorted(times)[len(times) // 2]:.2f} s; load average {' '.join(load)}")


if __name__ == "__main__":
    main()
