"""UUID4-looking user ids that encode the user's index reversibly, plus stable entity ids.

The last 48 bits are (index * ODD + offset(seed)) mod 2^48, so decoding is a modular inverse
and `GET /api/v2/users/{id}` is O(1). The other 80 bits are a hash of those 48, so ids look
random and a forged id with the right tail but the wrong head is rejected.
"""

from __future__ import annotations

import uuid

import numpy as np

from .hashing import hash_array, hash_int, mix_int

_BITS = 48
_MASK = (1 << _BITS) - 1
_ODD = 0x9E3779B97F4B  # odd, so invertible mod 2^48
_INV = pow(_ODD, -1, 1 << _BITS)
_SALT_HEAD = 0x1D5
_SALT_TAIL = 0x1D6
_VARIANT = "89ab"


class IdCodec:
    """Encode user indices as ids and back, for one seed."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self._offset = mix_int(seed ^ 0xA5A5_5A5A_C3C3_3C3C) & _MASK

    def _low(self, index: int) -> int:
        return (index * _ODD + self._offset) & _MASK

    def _format(self, low: int, head: int, tail: int) -> str:
        h = f"{head:016x}{tail & 0xFFFF:04x}"
        return f"{h[0:8]}-{h[8:12]}-4{h[13:16]}-{_VARIANT[int(h[16], 16) & 3]}{h[17:20]}-{low:012x}"

    def encode(self, index: int) -> str:
        """The id of user `index`."""
        low = self._low(index)
        return self._format(low, hash_int(low, self.seed, _SALT_HEAD), hash_int(low, self.seed, _SALT_TAIL))

    def encode_many(self, indices: np.ndarray) -> list[str]:
        """Ids of many users at once (vectorised hashing)."""
        idx = np.asarray(indices, dtype=np.uint64)
        low = (idx * np.uint64(_ODD) + np.uint64(self._offset)) & np.uint64(_MASK)
        heads = hash_array(low, self.seed, _SALT_HEAD).tolist()
        tails = hash_array(low, self.seed, _SALT_TAIL).tolist()
        fmt = self._format
        return [fmt(lo, he, ta) for lo, he, ta in zip(low.tolist(), heads, tails)]

    def decode(self, user_id: str) -> int | None:
        """The index encoded in `user_id`, or None when it is not an id of this org."""
        if len(user_id) != 36 or user_id.count("-") != 4:
            return None
        try:
            low = int(user_id[24:], 16)
        except ValueError:
            return None
        index = ((low - self._offset) * _INV) & _MASK
        if self.encode(index) != user_id.lower():
            return None
        return index


def entity_id(seed: int, kind: str, k: int) -> str:
    """A stable UUID4 string for the k-th entity of a kind (division, group, skill, ...)."""
    salt = sum(ord(c) * 131**n for n, c in enumerate(kind)) & 0xFFFFFFFF
    value = (hash_int(k, seed, salt) << 64) | hash_int(k, seed, salt + 1)
    return str(uuid.UUID(int=value, version=4))
