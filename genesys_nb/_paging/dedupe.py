"""An exact, compact set of the ids a page-number stream has already returned.

Page-number paging repeats users whenever users are added before the page being read, and under heavy churn a
user can come back many pages later, so only an exact record of every id returned guarantees no duplicates. Ids
are kept as 16-byte keys (a UUID's own bytes, decoded for a whole page at once; a 128-bit BLAKE2 digest for any
other id) in a few sorted numpy runs merged like a binary counter: 16 bytes a user (16 MiB per million), lookups a
binary search per run.
Cursor streams use it too, as a guard: the cursor endpoint returns each user once, so a repeat there means a
server that cycles, and is dropped and counted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence

import numpy as np

__all__ = ["SeenIds", "id_key", "id_keys"]

_HEX = frozenset("0123456789abcdefABCDEF")
_DASHES = (8, 13, 18, 23)
_HEX_AT = np.array([i for i in range(36) if i not in _DASHES])
_NIBBLE = np.full(128, 255, dtype=np.uint8)  # a code point's hex value; 255 for anything that is not a hex digit
_NIBBLE[np.frombuffer(b"0123456789", np.uint8)] = np.arange(10)
_NIBBLE[np.frombuffer(b"abcdef", np.uint8)] = np.arange(10, 16)
_NIBBLE[np.frombuffer(b"ABCDEF", np.uint8)] = np.arange(10, 16)


def id_key(value: object) -> bytes:
    """16 bytes that identify ``value``: the UUID itself for UUID strings, else a 128-bit digest."""
    if isinstance(value, str) and len(value) == 36 and value[8] == value[13] == value[18] == value[23] == "-":
        compact = value.replace("-", "")
        if len(compact) == 32 and _HEX.issuperset(compact):
            return bytes.fromhex(compact)
    return hashlib.blake2b(repr(value).encode(), digest_size=16).digest()


def id_keys(ids: Sequence[object]) -> np.ndarray:
    """:func:`id_key` of every id, as a ``S16`` array: UUID strings (nearly every id of the API) are decoded in one
    vectorised step, any other id one at a time."""
    keys = np.empty(len(ids), dtype="S16")
    if not len(ids):
        return keys
    uuid_rows = np.zeros(len(ids), dtype=bool)
    if all(type(i) is str for i in ids):
        text = np.array(ids)
        if text.dtype.itemsize == 36 * 4:  # no id longer than a UUID (shorter ones are padded with NULs)
            points = text.view(np.uint32).reshape(len(ids), 36)
            digits = points[:, _HEX_AT]
            nibbles = _NIBBLE[np.minimum(digits, 127)]
            uuid_rows = ((points[:, _DASHES] == ord("-")).all(axis=1) & (digits < 128).all(axis=1)
                         & (nibbles != 255).all(axis=1))
            rows = nibbles[uuid_rows]
            keys[uuid_rows] = np.ascontiguousarray((rows[:, 0::2] << 4) | rows[:, 1::2]).view("S16").ravel()
    for i in np.flatnonzero(~uuid_rows).tolist():
        keys[i] = id_key(ids[i])
    return keys


class SeenIds:
    """Remembers ids; :meth:`first_time` says which ids of a page have not been seen before (and records them)."""

    def __init__(self) -> None:
        self._runs: list[np.ndarray] = []

    def __len__(self) -> int:
        return sum(len(r) for r in self._runs)

    @property
    def nbytes(self) -> int:
        return sum(r.nbytes for r in self._runs)

    def first_time(self, ids: Iterable[object]) -> list[bool]:
        keys = id_keys(ids if isinstance(ids, Sequence) else list(ids))
        if not len(keys):
            return []
        new = np.zeros(len(keys), dtype=bool)
        new[np.unique(keys, return_index=True)[1]] = True  # a repeat within the page counts once
        for run in self._runs:
            at = np.minimum(np.searchsorted(run, keys), len(run) - 1)
            new &= run[at] != keys
        if new.any():
            self._add(np.sort(keys[new]))
        return new.tolist()

    def _add(self, run: np.ndarray) -> None:
        self._runs.append(run)
        # Merge while the newest run is at least as large as the one before it: O(log n) runs, each id re-sorted
        # O(log n) times over a whole listing.
        while len(self._runs) >= 2 and len(self._runs[-1]) >= len(self._runs[-2]):
            last = self._runs.pop()
            self._runs[-1] = np.sort(np.concatenate((self._runs[-1], last)))
