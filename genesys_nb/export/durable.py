"""Durable files for exports: an export's set of files, atomic writes, fsync, and full-disk detection.

One place writes bytes (:func:`write_bytes`), so a full disk is recognised everywhere; data reaches the disk
(flush + fsync) before a checkpoint says so, and a checkpoint is replaced atomically. Ctrl-C is held back while
a write and its checkpoint are in progress, so the two never disagree.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import re
import signal
import stat
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ExportError
from .checkpoint import Checkpoint
from .safefiles import create_new, refuse_link, remove_file, same_file

__all__ = ["Target", "PART_NAME", "remove_parts_dir", "scan_parts", "write_bytes", "sync", "sync_folder",
           "atomic_write", "is_disk_full", "interrupts_deferred", "SyncedFile", "sha256_of"]


@dataclass
class Target:
    """A validated output: the final path, its format, and the names of the files an export of it makes."""

    path: Path
    format: str
    checkpoint: Path
    part: Path          # NDJSON/CSV partial file
    parts_dir: Path     # Parquet chunk files
    merging: Path       # Parquet file being merged (a unique name per run)
    state: Checkpoint | None  # the checkpoint to resume from, if any
    overwrite: bool

    @property
    def lock(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    def leftovers(self) -> list[Path]:
        return [p for p in (self.checkpoint, self.part, self.parts_dir, self.merging) if p.exists()]

    def clean(self) -> None:
        """Remove what an earlier export of this file left (only names the export makes; never through a link)."""
        for p in (self.part, self.merging, self.checkpoint):
            remove_file(p)
        remove_parts_dir(self.parts_dir)


#: The names of the files an export puts in its ``.parts`` folder (closed parts, and the one being written).
PART_NAME = re.compile(r"part-(\d{6})\.parquet(\.open)?")


def remove_parts_dir(folder: Path) -> None:
    """Delete a ``.parts`` folder the export made: its part files, then the folder; anything else is refused."""
    try:
        mode = os.lstat(folder).st_mode
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(mode):
        refuse_link(folder)
        raise ExportError(f"{str(folder)!r} is not a folder of Parquet parts; genesys-nb did not make it. Remove it "
                          f"(or move it away) yourself, then run the export again.")
    for entry in scan_parts(folder):
        os.unlink(folder / entry)
    folder.rmdir()


def scan_parts(folder: Path) -> list[str]:
    """The names in a ``.parts`` folder, all of them part files the export writes; an ExportError otherwise."""
    refuse_link(folder)
    names = []
    with os.scandir(folder) as entries:
        for entry in entries:
            if not PART_NAME.fullmatch(entry.name) or not entry.is_file(follow_symlinks=False):
                what = "a folder" if entry.is_dir(follow_symlinks=False) else \
                    "a symbolic link" if entry.is_symlink() else "a file"
                raise ExportError(f"The partial export folder {folder.name} holds {entry.name!r}, {what} that "
                                  f"genesys-nb did not write; it is left alone. Move it away to resume, or pass "
                                  f"overwrite=True (--overwrite) to start over (after removing it).")
            names.append(entry.name)
    return names


# -- low-level file helpers (one place writes bytes, so a full disk is recognised everywhere) ----------------------


def write_bytes(fh: Any, data: bytes) -> None:
    fh.write(data)


def sync(fh: Any) -> None:
    fh.flush()
    os.fsync(fh.fileno())


def sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, *, temp_name: str) -> None:
    """Replace ``path`` with ``data``: written to a new file ``temp_name`` (never an existing one or a link), synced,
    verified and renamed onto ``path``."""
    refuse_link(path)
    tmp = path.with_name(temp_name)
    try:
        with create_new(tmp) as fh:
            write_bytes(fh, data)
            sync(fh)
            if not same_file(fh, tmp):
                raise ExportError(f"{tmp.name} was replaced while it was being written; another program is writing "
                                  f"in {str(path.parent)!r}.")
        os.replace(tmp, path)
    except BaseException:
        if tmp.exists() and not tmp.is_symlink():
            tmp.unlink(missing_ok=True)
        raise


def is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(exc, OSError) and "no space left" in str(exc).lower()


@contextlib.contextmanager
def interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back until the block is done, then raise it; only where Python lets us (main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    except (ValueError, TypeError):
        yield
        return
    try:
        yield
    except BaseException:
        signal.signal(signal.SIGINT, previous)
        raise
    signal.signal(signal.SIGINT, previous)
    if received:
        if callable(previous) and previous is not signal.default_int_handler:
            previous(signal.SIGINT, None)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt


class SyncedFile(io.RawIOBase):
    """A write-only file that sends every write through :func:`write_bytes` (used by pyarrow's ParquetWriter)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fh = create_new(path)
        self._pos = 0
        self.digest = hashlib.sha256()  # of everything written: the checkpoint's record of the last durable write

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = bytes(data)
        write_bytes(self._fh, view)
        self.digest.update(view)
        self._pos += len(view)
        return len(view)

    def tell(self) -> int:
        return self._pos

    def fileno(self) -> int:
        return self._fh.fileno()

    def flush(self) -> None:
        if not self._fh.closed:
            self._fh.flush()

    def close(self) -> None:
        if not self.closed:
            super().close()  # flushes
        if not self._fh.closed:
            self._fh.close()



def sha256_of(fh: Any, start: int, end: int) -> str:
    """The SHA-256 of bytes ``start`` to ``end`` of the open file ``fh`` (read in 1 MB pieces)."""
    digest = hashlib.sha256()
    fh.seek(start)
    left = end - start
    while left > 0:
        chunk = fh.read(min(left, 1 << 20))
        if not chunk:
            break
        digest.update(chunk)
        left -= len(chunk)
    return digest.hexdigest()
