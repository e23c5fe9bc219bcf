"""One writer at a time: a lock around everything ``merge`` writes.

``nnkit.autograde.engine.merge`` writes three things: the gradebook (one transaction per
shard), ``autograded/<student>/<assignment>/`` folders and the course's grading report, which it
reads, updates and writes back. Two merges at once (two graders on a course hub, two batch
jobs) can interleave the report's read and write and drop each other's records; on Postgres
they can also race to create the same student or submission row, and one of them fails on the
unique constraint. :func:`merge_lock` serialises them:

- always an exclusive ``flock`` on ``<course root>/.nnkit-merge.lock`` (merges on one machine,
  or on machines sharing the course directory over a filesystem with working locks);
- with a PostgreSQL gradebook, also a session-level advisory lock in that database (merges on
  machines that share only the database).

Use::

    with merge_lock(course.root, course.db_url):
        ...  # everything merge() does
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
from collections.abc import Iterator
from pathlib import Path

LOCK_FILE = ".nnkit-merge.lock"


def advisory_key(name: str) -> int:
    """A stable signed 64-bit key for ``pg_advisory_lock`` from a name (the course id)."""
    digest = hashlib.sha256(f"nnkit.autograde.merge:{name}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


@contextlib.contextmanager
def _postgres_lock(db_url: str, key: int) -> Iterator[None]:
    from sqlalchemy import create_engine, text

    engine = create_engine(db_url)
    try:
        with engine.connect() as connection:
            # session-level: held until unlocked or the connection closes (a crash frees it)
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": key})
            connection.commit()
            try:
                yield
            finally:
                connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
                connection.commit()
    finally:
        engine.dispose()


@contextlib.contextmanager
def merge_lock(root: str | Path, db_url: str = "", name: str = "") -> Iterator[None]:
    """Hold the course's merge lock (see the module docstring) for the ``with`` block.

    ``root`` is the course directory, ``db_url`` its gradebook's SQLAlchemy URL and ``name``
    what the database-wide lock is keyed on: the course id (default: ``db_url`` itself).
    """
    path = Path(root) / LOCK_FILE
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)  # blocks until the other merge is done
        try:
            if db_url.startswith("postgresql"):
                with _postgres_lock(db_url, advisory_key(name or db_url)):
                    yield
            else:
                yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
