"""Durable files for exports: an export's set of files, atomic writes, fsync, and full-disk detection.

One place writes bytes (:func:`write_bytes`), so a full disk is recognised everywhere; data reaches the disk
(flush + fsync) before a checkpoint says so, and a checkpoint is replaced atomically. Ctrl-C is held back while
a write and its checkpoint are in progress, so the two never disagree.
"""

from __future__ import annotations

import contextlib
import errno
import io
import os
import shutil
import signal
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import ExportError

__all__ = ["Target", "CHECKPOINT_VERSION", "read_checkpoint", "write_bytes", "sync", "sync_folder", "atomic_write",
           "is_disk_full", "interrupts_deferred", "SyncedFile"]

CHECKPOINT_VERSION = 1


@dataclass
class Target:
    """A validated output: the final path, its format, and the names of its partial files."""

    path: Path
    format: str
    checkpoint: Path
    part: Path          # NDJSON/CSV partial file
    parts_dir: Path     # Parquet chunk files
    merging: Path       # Parquet file being merged
    state: dict | None  # the checkpoint to resume from, if any
    overwrite: bool

    def leftovers(self) -> list[Path]:
        return [p for p in (self.checkpoint, self.part, self.parts_dir, self.merging) if p.exists()]

    def clean(self) -> None:
        for p in (self.part, self.merging, self.checkpoint):
            p.unlink(missing_ok=True)
        shutil.rmtree(self.parts_dir, ignore_errors=True)




def read_checkpoint(path: Path) -> dict:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ExportError(f"The checkpoint {path.name} cannot be read ({exc}). Pass overwrite=True to start over.") \
            from None
    if not isinstance(data, dict) or data.get("version") != CHECKPOINT_VERSION:
        raise ExportError(f"{path.name} is not a genesys-nb export checkpoint this version can resume. Pass "
                          f"overwrite=True to start over.")
    return data


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


def atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        write_bytes(fh, data)
        sync(fh)
    os.replace(tmp, path)


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
        self._fh = open(path, "wb")
        self._pos = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = bytes(data)
        write_bytes(self._fh, view)
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


# -- format writers ------------------------------------------------------------------------------------------------
