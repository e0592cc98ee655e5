"""An exact, compact set of the ids a page-number stream has already returned.

Page-number paging repeats users whenever users are added before the page being read, and under heavy churn a
user can come back many pages later, so only an exact record of every id returned guarantees no duplicates. Ids
are kept as 16-byte keys (a UUID's own bytes; a 128-bit BLAKE2 digest for any other id) in a few sorted numpy
runs merged like a binary counter: 16 bytes a user (16 MiB per million), lookups a binary search per run.
Cursor streams use it too, as a guard: the cursor endpoint returns each user once, so a repeat there means a
server that cycles, and is dropped and counted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

__all__ = ["SeenIds", "id_key"]

_BUFFER = 8192
_HEX = frozenset("0123456789abcdefABCDEF")


def id_key(value: object) -> bytes:
    """16 bytes that identify ``value``: the UUID itself for UUID strings, else a 128-bit digest."""
    if isinstance(value, str) and len(value) == 36 and value[8] == value[13] == value[18] == value[23] == "-":
        compact = value.replace("-", "")
        if len(compact) == 32 and _HEX.issuperset(compact):
            return bytes.fromhex(compact)
    return hashlib.blake2b(repr(value).encode(), digest_size=16).digest()


class SeenIds:
    """Remembers ids; :meth:`first_time` says which ids of a page have not been seen before (and records them)."""

    def __init__(self) -> None:
        self._buffer: set[bytes] = set()
        self._runs: list[np.ndarray] = []

    def __len__(self) -> int:
        return len(self._buffer) + sum(len(r) for r in self._runs)

    @property
    def nbytes(self) -> int:
        return sum(r.nbytes for r in self._runs) + 16 * len(self._buffer)

    def first_time(self, ids: Iterable[object]) -> list[bool]:
        keys = [id_key(i) for i in ids]
        if not keys:
            return []
        seen = np.zeros(len(keys), dtype=bool)
        if self._runs:
            probe = np.array(keys, dtype="S16")
            for run in self._runs:
                at = np.searchsorted(run, probe)
                seen |= run[np.minimum(at, len(run) - 1)] == probe
        result = []
        for key, old in zip(keys, seen):
            new = not old and key not in self._buffer
            if new:
                self._buffer.add(key)
            result.append(new)
        if len(self._buffer) >= _BUFFER:
            self._flush()
        return result

    def _flush(self) -> None:
        run = np.sort(np.array(list(self._buffer), dtype="S16"))
        self._buffer.clear()
        self._runs.append(run)
        # Merge while the newest run is at least as large as the one before it: O(log n) runs, each id re-sorted
        # O(log n) times over a whole listing.
        while len(self._runs) >= 2 and len(self._runs[-1]) >= len(self._runs[-2]):
            last = self._runs.pop()
            self._runs[-1] = np.sort(np.concatenate((self._runs[-1], last)))
