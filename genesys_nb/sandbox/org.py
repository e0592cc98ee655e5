"""The synthetic org: compact per-user arrays, the listing order, and directory churn.

Memory is a few bytes per user (state, division, two int64 order arrays); records are rendered
on demand by `records.py`. Base user i has sort key i << 20, which leaves room to insert
churn-created users between neighbours without renumbering anybody.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from . import vocab
from .config import Churn, SandboxConfig
from .ids import IdCodec, entity_id
from .traits import ACTIVE, DELETED, INACTIVE, NO_LOGIN_OVERRIDE, PURGED, REF_MS, Traits

KEY_SHIFT = 20
_STATE_FILTERS = {"active": (ACTIVE,), "inactive": (INACTIVE,), "deleted": (DELETED,),
                  "any": (ACTIVE, INACTIVE, DELETED)}
_LISTING_CACHE = 8


class ChurnEvent(NamedTuple):
    """One directory change: kind is created, deleted or purged; `at` the API request number."""

    kind: str
    user_id: str
    at: int


@dataclass(frozen=True)
class Listing:
    """A snapshot of one filtered listing: sorted positions into the org's order arrays."""

    positions: np.ndarray
    order: np.ndarray
    order_keys: np.ndarray

    def __len__(self) -> int:
        return len(self.positions)

    def indices(self, start: int, stop: int, desc: bool = False) -> np.ndarray:
        """User indices at listing offsets [start, stop) in the given direction."""
        n = len(self.positions)
        start, stop = max(0, min(start, n)), max(0, min(stop, n))
        if desc:
            pos = self.positions[n - stop:n - start][::-1]
        else:
            pos = self.positions[start:stop]
        return self.order[pos]

    def keys(self, start: int, stop: int, desc: bool = False) -> np.ndarray:
        """Sort keys at listing offsets [start, stop) in the given direction."""
        n = len(self.positions)
        start, stop = max(0, min(start, n)), max(0, min(stop, n))
        pos = self.positions[n - stop:n - start][::-1] if desc else self.positions[start:stop]
        return self.order_keys[pos]

    def offset_after(self, key: int, desc: bool = False) -> int:
        """Listing offset of the first user strictly after sort key `key` in the direction."""
        gpos = np.searchsorted(self.order_keys, key, side="left" if desc else "right")
        asc = int(np.searchsorted(self.positions, gpos, side="left"))
        return len(self.positions) - asc if desc else asc


class Org:
    """Ground truth of the synthetic org; thread-safe for concurrent readers and churn."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.seed = config.seed
        self.base_users = config.users
        self.name = f"Sandbox Org {config.seed}"
        self.short_name = f"sandbox-{config.seed}".replace("--", "-m")
        self.domain = f"{self.short_name}.example.com"
        # The size is part of the org's identity: two sandboxes differing in seed or in users are two orgs.
        self.org_id = entity_id(self.seed, "organization", config.users)
        self.codec = IdCodec(self.seed)
        self.traits = Traits(self.seed, config.users, config.divisions, config.groups, self.domain)
        self.division_ids = [entity_id(self.seed, "division", k) for k in range(config.divisions)]
        self.division_names = [_division_name(k) for k in range(config.divisions)]
        self.group_ids = [entity_id(self.seed, "group", k) for k in range(config.groups)]
        self.group_names = [_group_name(k) for k in range(config.groups)]
        idx = np.arange(config.users, dtype=np.int64)
        self._state = self.traits.initial_state(idx)
        self._division = self.traits.initial_division(idx)
        self._count = config.users
        self._order = idx
        self._order_keys = idx << KEY_SHIFT
        self._version_bump: dict[int, int] = {}
        self._lock = threading.RLock()
        self._listings: OrderedDict[tuple, Listing] = OrderedDict()
        self.version = 0
        self.events: list[ChurnEvent] = []
        self._access = None
        self.now_ms = REF_MS
        self.steps = 0

    @property
    def access(self):
        """The access model (roles, grants, groups, queues, licences), built on first use."""
        if self._access is None:
            with self._lock:
                if self._access is None:
                    from .access import Access
                    self._access = Access(self)
        return self._access

    # -- ground truth ------------------------------------------------------------------------
    @property
    def size(self) -> int:
        """Users currently in the org (any state; purged users are gone)."""
        return len(self._order)

    def ids(self, state: str = "any") -> list[str]:
        """Ids of all users in `state` (active|inactive|deleted|any), in listing order."""
        listing = self.listing(state)
        return self.codec.encode_many(listing.indices(0, len(listing)))

    @property
    def index_limit(self) -> int:
        """One past the highest user index ever allocated (base users plus churn creations)."""
        return self._count

    def user_index(self, user_id: str) -> int | None:
        """Index of a live (not purged) user, or None."""
        index = self.codec.decode(user_id)
        if index is None or index >= self.index_limit or self._state[index] == PURGED:
            return None
        return index

    def states_of(self, idx: np.ndarray) -> np.ndarray:
        """Current state codes of the given users."""
        return self._state[idx]

    def divisions_of(self, idx: np.ndarray) -> np.ndarray:
        """Division indices of the given users."""
        return self._division[idx]

    @property
    def version_bumps(self) -> dict[int, int]:
        """Per changed user, how many times churn bumped its record version (read-only)."""
        return self._version_bump

    def division_index(self, ref: int | str) -> int:
        """Resolve a division given as index, name or id."""
        if isinstance(ref, int):
            if 0 <= ref < len(self.division_ids):
                return ref
        elif ref in self.division_ids:
            return self.division_ids.index(ref)
        elif ref in self.division_names:
            return self.division_names.index(ref)
        raise ValueError(f"unknown division {ref!r}")

    def listing(self, state: str = "any", divisions: frozenset[int] | None = None) -> Listing:
        """The users in `state` (and in `divisions`, None = all), as a cached snapshot."""
        if state not in _STATE_FILTERS:
            raise ValueError(f"unknown state {state!r}")
        with self._lock:
            key = (state, divisions, self.version)
            hit = self._listings.get(key)
            if hit is not None:
                self._listings.move_to_end(key)
                return hit
            order = self._order
            codes = _STATE_FILTERS[state]
            if state == "any" and divisions is None:
                positions = np.arange(len(order), dtype=np.int64)
            else:
                st = self._state[order]
                mask = st == codes[0] if len(codes) == 1 else st != PURGED
                if divisions is not None:
                    mask &= np.isin(self._division[order], np.fromiter(divisions, dtype=np.uint8))
                positions = np.flatnonzero(mask)
            listing = Listing(positions, order, self._order_keys)
            self._listings[key] = listing
            while len(self._listings) > _LISTING_CACHE:
                self._listings.popitem(last=False)
            return listing

    def group_member_counts(self) -> list[int]:
        """Members per group among live users (what expand=groups shows), cached per version."""
        return self.access.group_member_counts()

    # -- churn -------------------------------------------------------------------------------
    def apply_churn(self, churn: Churn, round_no: int, at: int) -> list[int]:
        """One round of churn; returns the indices whose records changed. Deterministic from
        churn.seed, the org seed and the round number."""
        rng = np.random.default_rng([churn.seed & 0xFFFFFFFF, self.seed & 0xFFFFFFFF, round_no])
        changed: list[int] = []
        with self._lock:
            for _ in range(churn.creates):
                index = self._create(rng)
                if index is not None:
                    changed.append(index)
                    self.events.append(ChurnEvent("created", self.codec.encode(index), at))
            active = np.flatnonzero(self._state[self._order] == ACTIVE)
            k = min(churn.deletes, len(active))
            for pos in rng.choice(active, size=k, replace=False).tolist() if k else []:
                index = int(self._order[pos])
                self._state[index] = DELETED
                self._version_bump[index] = self._version_bump.get(index, 0) + 1
                changed.append(index)
                self.events.append(ChurnEvent("deleted", self.codec.encode(index), at))
            k = min(churn.purges, len(self._order))
            if k:
                gone = np.sort(rng.choice(len(self._order), size=k, replace=False))
                for index in self._order[gone].tolist():
                    self._state[index] = PURGED
                    changed.append(index)
                    self.events.append(ChurnEvent("purged", self.codec.encode(index), at))
                self._order = np.delete(self._order, gone)
                self._order_keys = np.delete(self._order_keys, gone)
            self.version += 1
            self._listings.clear()
        return changed

    def _create(self, rng: np.random.Generator) -> int | None:
        keys, n = self._order_keys, len(self._order_keys)
        for _ in range(32):
            p = int(rng.integers(0, n + 1))
            lo = int(keys[p - 1]) if p > 0 else (int(keys[0]) if n else 0) - (2 << KEY_SHIFT)
            hi = int(keys[p]) if p < n else (int(keys[-1]) if n else 0) + (2 << KEY_SHIFT)
            if hi - lo >= 2:
                break
        else:
            return None
        index = self._count
        self._grow(index + 1)
        self._state[index] = ACTIVE
        self._division[index] = self.traits.initial_division(np.array([index]))[0]
        self._count += 1
        self._order = np.insert(self._order, p, index)
        self._order_keys = np.insert(self._order_keys, p, (lo + hi) // 2)
        return index

    def _grow(self, need: int) -> None:
        if need <= len(self._state):
            return
        cap = max(need, len(self._state) * 5 // 4 + 64)
        for name in ("_state", "_division"):
            old = getattr(self, name)
            new = np.zeros(cap, dtype=old.dtype)
            new[: len(old)] = old
            setattr(self, name, new)
        ov = self.traits.login_override
        if ov is not None and len(ov) < cap:
            grown = np.full(cap, NO_LOGIN_OVERRIDE, dtype=np.int64)
            grown[: len(ov)] = ov
            self.traits.login_override = grown


def _division_name(k: int) -> str:
    names = vocab.DIVISION_NAMES
    return names[k] if k < len(names) else f"Division {k + 1}"


def _group_name(k: int) -> str:
    words = vocab.GROUP_WORDS
    base = words[k % len(words)]
    return base if k < len(words) else f"{base} {k // len(words) + 1}"
