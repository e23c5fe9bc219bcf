"""Kernel launcher that runs inside the sandbox: limits, warm imports, the judge's channel, kernel.

Started by :class:`nnkit.autograde.sandbox.SandboxedKernelManager` as::

    python -P -m nnkit.autograde.kernel --limits AS,CPU,FSIZE --channel IN,OUT \
        -- <ipykernel arguments>

In order, before any student code exists in the process:

1. resource limits (address space, CPU seconds, file size) are set, so every
   process below inherits them;
2. numpy and IPython are imported once (the kernel starts warm, and a submitted
   ``numpy.py`` cannot stand in for them);
3. in a forked child that becomes the IPython kernel, the judge's pipe
   descriptors are handed to ``nnkit.autograde.agent`` and its audit hook is
   installed (what the student's code tries to reach outside its submission
   is reported to the judge).

This process then waits for the kernel and exits with its status (128 + signal
number if a signal killed it), which is what the engine reports as the reason.
"""

from __future__ import annotations

import argparse
import os
import resource
import signal
import sys


def _parse(argv: list[str]) -> tuple[argparse.Namespace, list[str]]:
    split = argv.index("--") if "--" in argv else len(argv)
    parser = argparse.ArgumentParser(prog="python -m nnkit.autograde.kernel")
    parser.add_argument("--limits", default="0,0,0", help="AS bytes, CPU s, FSIZE bytes (0: none)")
    parser.add_argument("--channel", default="", help="IN,OUT pipe descriptors of the judge")
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


def _readable_roots(kernel_argv: list[str]) -> list[str]:
    """What the kernel may read without it being worth a report (as seen inside the sandbox)."""
    roots = [os.getcwd(), sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(__file__))]
    roots += ["/usr", "/etc", "/proc", "/dev", "/tmp", "/lib", "/lib64", "/bin", "/sys"]
    if "-f" in kernel_argv:  # the connection file's directory
        roots.append(os.path.dirname(kernel_argv[kernel_argv.index("-f") + 1]))
    return roots


def main(argv: list[str]) -> None:
    opts, kernel_argv = _parse(argv)
    set_limits(*(int(v) for v in opts.limits.split(",")))
    import numpy  # noqa: F401 - imported before any student code, and warm
    from IPython.core import interactiveshell  # noqa: F401

    from nnkit.autograde import agent

    channel = tuple(int(fd) for fd in opts.channel.split(",")) if opts.channel else ()

    # ipykernel watches this process and exits with it
    os.environ["JPY_PARENT_PID"] = str(os.getpid())
    kernel_pid = os.fork()
    if kernel_pid == 0:
        from ipykernel import kernelapp

        agent.CHANNEL = channel or None
        agent.watch(_readable_roots(kernel_argv))
        # what `python -m ipykernel_launcher` would have done; numpy is already in
        # sys.modules, so a submitted numpy.py cannot replace it
        sys.path.insert(0, os.getcwd())
        try:
            app = kernelapp.IPKernelApp.instance()
            app.initialize(kernel_argv)
            agent.AUDIT.active = True  # from here on, only the notebook's code runs
            app.start()
        finally:
            os._exit(0)
    for fd in channel:
        os.close(fd)

    # interrupts go to the kernel by message; this process only waits
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _, status = os.waitpid(kernel_pid, 0)
    sys.exit(_exit_code(status))


if __name__ == "__main__":
    main(sys.argv[1:])
