"""Start one person's course server: update the lectures in their home, then run JupyterLab.

JupyterHub's LocalProcessSpawner runs this as the logged-in Unix user, in their home
directory (hub/jupyterhub_config.py, ``Spawner.cmd``). Before JupyterLab starts, the course's
lectures (``$NNKIT_LECTURES``) are copied into ``~/lectures`` by one rule, the one nbgitpuller
follows, without needing git:

- a lecture the home does not have is copied in;
- a lecture the student has not changed since it was copied is replaced by the course's
  newer version;
- a lecture the student has changed is never overwritten: the course's newer version is put
  beside it as ``<name>.updated.ipynb``, for the student to compare.

``~/.nnkit/lectures.json`` remembers the SHA-256 of what was copied, which is how a student's
edit is told apart from an old copy.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
from pathlib import Path

MANIFEST = Path(".nnkit") / "lectures.json"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def sync_lectures(source: Path, home: Path, folder: str = "lectures") -> dict[str, str]:
    """Bring ``home/folder`` up to date with ``source`` (rules in the module docstring).

    Returns {relative path: what happened} for every file that changed: ``"copied"``,
    ``"updated"`` or ``"kept yours"``.
    """
    manifest_path = home / MANIFEST
    copied = json.loads(manifest_path.read_text()) if manifest_path.exists() else {}
    actions = {}
    for src in sorted(p for p in source.rglob("*") if p.is_file()):
        rel = src.relative_to(source)
        if any(part.startswith(".") for part in rel.parts):  # .ipynb_checkpoints and the like
            continue
        dest = home / folder / rel
        new = _digest(src)
        key = rel.as_posix()
        if not dest.exists():
            action = "copied"
        elif copied.get(key) == new:
            continue  # the course has not changed it since the last copy
        elif _digest(dest) == copied.get(key):
            action = "updated"  # the student never touched the old copy
        else:
            theirs = dest.with_name(f"{dest.stem}.updated{dest.suffix}")
            if not theirs.exists() or _digest(theirs) != new:
                shutil.copyfile(src, theirs)
                actions[key] = "kept yours"
            copied[key] = new
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        copied[key] = new
        actions[key] = action
    manifest_path.parent.mkdir(parents=True, exist_ok=True)
    manifest_path.write_text(json.dumps(copied, indent=1, sort_keys=True))
    return actions


def main() -> None:
    default = Path(__file__).resolve().parents[1] / "lectures"
    source = Path(os.environ.get("NNKIT_LECTURES", default))
    if source.is_dir():
        try:
            for name, action in sync_lectures(source, Path.home()).items():
                print(f"nnkit: lectures/{name}: {action}", file=sys.stderr)
        except OSError as exc:  # a full disk must not keep a student out of their server
            print(f"nnkit: could not update lectures: {exc}", file=sys.stderr)
    os.execv(sys.executable, [sys.executable, "-m", "jupyterhub.singleuser", *sys.argv[1:]])


if __name__ == "__main__":
    main()
