"""A submission's folder read as regular files only, never following a link.

Submissions collected with ``tar``, ``unzip`` or ``rsync -a`` keep symbolic links,
and a folder may hold named pipes or devices: a link to ``solutions/`` followed
would grade the instructor's answers, a pipe opened for reading blocks forever,
``/dev/zero`` never ends. :func:`walk` lists a folder without following links
and says what it refused; :func:`read_regular` reads one file through a single
``O_NOFOLLOW`` descriptor and decides on that descriptor's ``fstat``, so the file
checked is the file read.
"""

from __future__ import annotations

import errno
import mimetypes
import os
import stat
from pathlib import Path

CHECKPOINTS = ".ipynb_checkpoints"
# a submission is a handful of files: stop walking a tree that is not one
MAX_ENTRIES = 2000
# formgrader serves a submission's files from the instructor's server: a browser runs these
_ACTIVE_WEB_FILES = {".html", ".htm", ".xhtml", ".shtml", ".svg", ".svgz", ".xml", ".xsl", ".js"}


def kind_of(mode: int) -> str:
    """What an ``st_mode`` is, in words (for the reasons given to the instructor)."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def printable(text: str, limit: int = 200) -> str:
    """A file name or link target as one line: control characters shown as ``?``."""
    return "".join(c if c.isprintable() else "?" for c in text[:limit])


def refusal(path: Path, rel: str) -> tuple[str, str]:
    """(kind, reason) why ``path`` is not read: it is a link or a special file."""
    mode = os.lstat(path).st_mode
    what = kind_of(mode)
    if stat.S_ISLNK(mode):
        try:
            target = os.readlink(path)
        except OSError:
            target = "?"
        return "symlink", f"{printable(rel)} is {what} (to {printable(target)}), not followed"
    return "special-file", f"{printable(rel)} is {what}, not read"


def read_regular(path: Path, limit: int) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``limit`` bytes.

    One descriptor opened with ``O_NOFOLLOW`` (a symbolic link fails) and
    ``O_NONBLOCK`` (a named pipe does not block); ``fstat`` on that descriptor
    decides, so the file checked is the file read.

    Raises
    ------
    OSError
        ``ELOOP`` for a symbolic link, ``EINVAL`` for anything but a regular file,
        ``EFBIG`` when the file is over ``limit``.
    """
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise OSError(errno.EINVAL, f"{path.name} is {kind_of(info.st_mode)}")
        if info.st_size > limit:
            raise OSError(errno.EFBIG, f"{path.name} is {info.st_size} bytes, over {limit}")
        chunks, size = [], 0
        while chunk := os.read(fd, 1 << 20):
            size += len(chunk)
            if size > limit:  # grew while we read
                raise OSError(errno.EFBIG, f"{path.name} is over {limit} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def write(dest: Path, data: bytes) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(data)


def walk(src: Path) -> tuple[list[Path], list[tuple[str, str, str]], bool]:
    """Regular files under ``src``, and the entries refused, without following any link.

    Returns
    -------
    files : list of Path
        Regular files, sorted, checkpoints left out.
    refused : list of (kind, relative path, reason)
        Symbolic links and special files (pipes, devices, sockets).
    truncated : bool
        True when the walk stopped at ``MAX_ENTRIES`` entries.
    """
    files: list[Path] = []
    refused: list[tuple[str, str, str]] = []
    stack, seen = [src], 0
    while stack:
        folder = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as exc:
            refused.append(("special-file", str(folder.relative_to(src)), f"unreadable: {exc}"))
            continue
        for entry in entries:
            seen += 1
            if seen > MAX_ENTRIES:
                return sorted(files), refused, True
            path = Path(entry.path)
            rel = str(path.relative_to(src))
            if entry.name == CHECKPOINTS:
                continue
            if entry.is_dir(follow_symlinks=False):
                stack.append(path)
            elif entry.is_file(follow_symlinks=False):
                files.append(path)
            else:
                kind, reason = refusal(path, rel)
                refused.append((kind, rel, reason))
    return sorted(files), refused, False


def served_as_web_page(rel: Path) -> bool:
    """Would a web server (formgrader's file handler) send ``rel`` as a page a browser runs?"""
    kind, _ = mimetypes.guess_type(rel.name)
    kind = kind or ""
    return (
        rel.suffix.lower() in _ACTIVE_WEB_FILES
        or kind == "text/html"
        or kind.endswith("xml")
        or "javascript" in kind
    )
