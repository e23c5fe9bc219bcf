"""Kernel launcher that runs inside the sandbox: limits, trusted imports, checker, kernel.

Started by :class:`nnkit.autograde.sandbox.SandboxedKernelManager` as::

    python -m nnkit.autograde.kernel --limits AS,CPU,FSIZE --checker IN,OUT \
        --checker-dir DIR --allow ROOT:ROOT... -- <ipykernel arguments>

In order, before any student code exists in the process:

1. resource limits (address space, CPU seconds, file size) are set, so every
   process below inherits them;
2. numpy, nnkit.grading and IPython are imported: the checker keeps references
   to these genuine modules, and the kernel gets them for free;
3. a child is forked to be the trusted checker (:func:`nnkit.autograde.checks.serve`),
   reading the notebook's cells from pipe IN and writing verdicts to pipe OUT;
4. a second child becomes the IPython kernel (it never sees the checker's pipes).

This process then waits: when the kernel exits it gives the checker a few
seconds to finish, and exits with the kernel's status (128 + signal number if
a signal killed it), which is what the engine reports as the reason.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import sys
import time

# after the kernel dies, how long the checker may go on to finish the cells it was given
CHECKER_GRACE = 5.0


def _parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(prog="python -m nnkit.autograde.kernel")
    parser.add_argument("--limits", default="0,0,0", help="AS bytes, CPU s, FSIZE bytes (0: none)")
    parser.add_argument("--checker", default="", help="IN,OUT pipe descriptors of the checker")
    parser.add_argument("--checker-dir", default="", help="the checker's working directory")
    parser.add_argument("--allow", default="", help="readable directories, :-separated")
    return parser.parse_args(argv[:split]), argv[split + 1 :]


def set_limits(address_space: int, cpu_seconds: int, file_size: int) -> None:
    """Apply RLIMIT_AS, RLIMIT_CPU and RLIMIT_FSIZE to this process and its children."""
    for kind, value in (
        (resource.RLIMIT_AS, address_space),
        (resource.RLIMIT_CPU, cpu_seconds),
        (resource.RLIMIT_FSIZE, file_size),
    ):
        if value > 0:
            resource.setrlimit(kind, (value, value))


def _exit_code(status: int) -> int:
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1


def main(argv: list[str]) -> None:
    opts, kernel_argv = _parse(argv)
    set_limits(*(int(v) for v in opts.limits.split(",")))
    # the genuine modules, imported before any student code (see checks.py)
    import numpy
    import numpy.linalg
    import numpy.random
    import numpy.testing  # noqa: F401
    from IPython.core import interactiveshell  # noqa: F401

    from nnkit import grading  # noqa: F401

    pipes = [int(fd) for fd in opts.checker.split(",")] if opts.checker else []
    checker_pid = 0
    if pipes:
        checker_pid = os.fork()
        if checker_pid == 0:
            from nnkit.autograde.checks import serve

            try:
                serve(*pipes, opts.checker_dir, [r for r in opts.allow.split(":") if r])
            finally:
                os._exit(0)
        for fd in pipes:
            os.close(fd)

    # ipykernel watches this process and exits with it
    os.environ["JPY_PARENT_PID"] = str(os.getpid())
    kernel_pid = os.fork()
    if kernel_pid == 0:
        from ipykernel import kernelapp

        # what `python -m ipykernel_launcher` would have done; numpy and nnkit are already in
        # sys.modules, so a submitted nnkit/ or numpy.py cannot replace them
        sys.path.insert(0, os.getcwd())
        try:
            kernelapp.launch_new_instance(argv=kernel_argv)
        finally:
            os._exit(0)

    # interrupts go to the kernel by message; this process only waits
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _, status = os.waitpid(kernel_pid, 0)
    deadline = time.monotonic() + CHECKER_GRACE
    while checker_pid and time.monotonic() < deadline:
        if os.waitpid(checker_pid, os.WNOHANG)[0]:
            break
        time.sleep(0.05)
    else:
        if checker_pid:
            os.kill(checker_pid, signal.SIGKILL)
    sys.exit(_exit_code(status))


if __name__ == "__main__":
    main(sys.argv[1:])
