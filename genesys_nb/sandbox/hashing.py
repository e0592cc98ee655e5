"""Seeded 64-bit hashing (splitmix64 finaliser), vectorised with numpy and as plain ints.

Every synthetic value of the org is a pure function of (seed, index, salt), so nothing per
user needs to be stored and any user can be rendered on demand.
"""

from __future__ import annotations

import numpy as np

M64 = (1 << 64) - 1
_GOLDEN = 0x9E3779B97F4A7C15
_C1 = 0xBF58476D1CE4E5B9
_C2 = 0x94D049BB133111EB


def mix_int(x: int) -> int:
    """splitmix64 finaliser on a Python int (wraps at 64 bits)."""
    x &= M64
    x = ((x ^ (x >> 30)) * _C1) & M64
    x = ((x ^ (x >> 27)) * _C2) & M64
    return x ^ (x >> 31)


def mix(x: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser on a uint64 array (wrapping arithmetic)."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(_C1)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(_C2)
    return x ^ (x >> np.uint64(31))


def salt_of(seed: int, salt: int) -> int:
    """A 64-bit stream offset for one (seed, field) pair."""
    return mix_int(seed * _GOLDEN + salt * 0xD1B54A32D192ED03 + 0x632BE59BD9B4E019)


def hash_array(idx: np.ndarray, seed: int, salt: int) -> np.ndarray:
    """Independent uniform uint64 per index for the given seed and field salt."""
    x = np.asarray(idx).astype(np.uint64, copy=False)
    return mix(x * np.uint64(_GOLDEN) + np.uint64(salt_of(seed, salt)))


def hash_int(i: int, seed: int, salt: int) -> int:
    """Scalar twin of hash_array."""
    return mix_int(i * _GOLDEN + salt_of(seed, salt))


def unit_float(i: int, seed: int, salt: int) -> float:
    """A uniform float in [0, 1) for (i, seed, salt)."""
    return (hash_int(i, seed, salt) >> 11) * (1.0 / (1 << 53))
