"""One writer per output: an exclusive lock held for the whole run of an export.

The lock is ``fcntl.flock`` on ``<name>.lock`` (opened without following links). The kernel drops it when the
process ends, however it ends, so a lock file left by a dead run (kill -9, a power cut) is simply taken over; a live
one makes a second export of the same file stop at once with "already running, pid N", before any request and
before it reads the checkpoint.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

from ..errors import ExportError
from .safefiles import NOFOLLOW

try:
    import fcntl
except ImportError:  # pragma: no cover - not on Windows: one writer per output is then not enforced
    fcntl = None  # type: ignore[assignment]

__all__ = ["OutputLock", "LOCK_SUFFIX"]

LOCK_SUFFIX = ".lock"
_FLAGS = os.O_RDWR | NOFOLLOW | getattr(os, "O_CLOEXEC", 0)


class OutputLock:
    """The lock of one output file: :meth:`acquire` (or ``with``), :meth:`release`; :meth:`holder` peeks."""

    def __init__(self, output: Path, *, noun: str = "An export") -> None:
        self.output = output
        self.noun = noun  # what runs, in the "already running" message: "An export", "A snapshot"
        self.path = output.with_name(output.name + LOCK_SUFFIX)
        self.fd: int | None = None

    def holder(self) -> int | None:
        """The pid of a live run holding the lock, else None (nothing is created or changed)."""
        try:
            fd = self._open(create=False)
        except FileNotFoundError:
            return None
        try:
            if self._try_lock(fd):
                fcntl.flock(fd, fcntl.LOCK_UN) if fcntl else None
                return None
            return _pid_in(fd) or -1
        finally:
            os.close(fd)

    def acquire(self) -> OutputLock:
        while True:
            fd = self._open(create=True)
            if not self._try_lock(fd):
                pid = _pid_in(fd)
                os.close(fd)
                raise ExportError(f"{self.noun} of {self.output.name!r} is already running"
                                  f"{f', pid {pid}' if pid else ''} (its lock is {self.path.name}). Wait for it to "
                                  f"finish, or stop it, before writing to the same place again.")
            try:  # the file may have been removed by the run that held it just before: lock the current one
                same = os.fstat(fd).st_ino == os.lstat(self.path).st_ino
            except FileNotFoundError:
                same = False
            if same:
                break
            os.close(fd)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self.fd = fd
        return self

    def release(self) -> None:
        """Remove the lock file (while still holding it) and let go."""
        if self.fd is None:
            return
        try:
            if os.fstat(self.fd).st_ino == os.lstat(self.path).st_ino:
                self.path.unlink()
        except OSError:
            pass
        os.close(self.fd)
        self.fd = None

    def __enter__(self) -> OutputLock:
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()

    def _open(self, *, create: bool) -> int:
        try:
            fd = os.open(self.path, _FLAGS | (os.O_CREAT if create else 0), 0o644)
        except OSError as exc:
            if exc.errno == errno.ELOOP:
                raise ExportError(f"{str(self.path)!r} is a symbolic link, which genesys-nb neither follows nor "
                                  f"deletes. Remove it yourself, then run the export again.") from None
            raise
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            os.close(fd)
            raise ExportError(f"{str(self.path)!r} is not a regular file; remove it, then run the export again.")
        return fd

    @staticmethod
    def _try_lock(fd: int) -> bool:
        if fcntl is None:  # pragma: no cover
            return True
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


def _pid_in(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None
