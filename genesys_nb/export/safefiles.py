"""Files an export creates and removes, safe against planted symbolic links and other runs' files.

Every file is created new (``O_CREAT | O_EXCL | O_NOFOLLOW``), so a symbolic link or a file planted under one of
the export's names is never followed, truncated or overwritten; files are reopened with ``O_NOFOLLOW`` and must be
regular files; only names the export itself makes are ever deleted.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import IO, Any

from ..errors import ExportError

__all__ = ["NOFOLLOW", "create_new", "open_existing", "read_regular_file", "refuse_link", "remove_file",
           "nofollow_opener", "same_file"]

NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)


def nofollow_opener(path: str, flags: int) -> int:
    """An ``opener=`` for :func:`open` that never follows a symbolic link at the last component."""
    return os.open(path, flags | NOFOLLOW | _CLOEXEC, 0o644)


def create_new(path: Path) -> IO[bytes]:
    """A new, empty file at ``path`` opened for writing; FileExistsError if anything (a link too) is there."""
    return open(path, "xb", opener=nofollow_opener)


def open_existing(path: Path, mode: str = "r+b") -> IO[bytes]:
    """An existing regular file, not through a symbolic link (an ExportError otherwise)."""
    refuse_link(path)
    fh = open(path, mode, opener=nofollow_opener)
    if not stat.S_ISREG(os.fstat(fh.fileno()).st_mode):
        fh.close()
        raise ExportError(f"{path.name} is not a regular file; genesys-nb did not write it. Move it away, or pass "
                          f"overwrite=True (--overwrite) to start over.")
    return fh


def read_regular_file(path: Path) -> bytes:
    with open_existing(path, "rb") as fh:
        return fh.read()


def refuse_link(path: Path) -> None:
    """An ExportError when ``path`` is a symbolic link: the export never follows nor deletes one."""
    if path.is_symlink():
        raise ExportError(f"{str(path)!r} is a symbolic link, which genesys-nb neither follows nor deletes. Remove it "
                          f"(or move it away) yourself, then run the export again.")


def remove_file(path: Path) -> None:
    """Delete ``path`` if it is a regular file the export made (a link or a folder under its name is refused)."""
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISREG(mode):
        kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
        raise ExportError(f"{str(path)!r} is {kind}, so genesys-nb did not write it and will not delete it. Remove "
                          f"it (or move it away) yourself, then run the export again.")
    path.unlink(missing_ok=True)


def same_file(fh: Any, path: Path) -> bool:
    """Whether the open file ``fh`` is the regular file at ``path`` (not a file swapped in under its name)."""
    try:
        here, there = os.fstat(fh.fileno()), os.lstat(path)
    except OSError:
        return False
    return stat.S_ISREG(there.st_mode) and (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)
