"""Per-user synthetic traits, computed vectorised from (seed, index) with no per-user storage.

The org keeps only what churn can change (state, division, sort key); every other attribute of
user `i` is derived here on demand, for a page of indices or a whole column at once (search).
The rates of the dirt audits look for (no email ~2%, duplicate email ~1%, never logged in ~5%,
deactivated users still holding roles) are fixed by the hash thresholds below.
"""

from __future__ import annotations

import calendar
import time
from typing import cast

import numpy as np

from . import vocab
from .hashing import hash_array

ACTIVE, INACTIVE, DELETED, PURGED = 0, 1, 2, 3
STATE_NAMES = ("active", "inactive", "deleted")
STATE_CODES = {name: code for code, name in enumerate(STATE_NAMES)}

REF_MS = calendar.timegm((2026, 1, 1, 0, 0, 0)) * 1000  # the org's fixed "now"
DAY_MS = 86_400_000

# Salts: one independent hash stream per trait.
S_STATE, S_DIV, S_NAME, S_EMAIL, S_DEPT, S_TITLE, S_MGR, S_IMG, S_PHONE, S_MISC = range(10)
S_LOGIN, S_HIRE, S_ROLES, S_SKILLS, S_LANGS, S_GROUPS, S_PRESENCE, S_BIO = range(10, 18)

EMAIL_NONE_PER_MILLE = 20  # ~2% without email
EMAIL_DUP_PER_MILLE = 10  # ~1% reusing another user's email
NEVER_LOGGED_IN_PCT = 5
KEEPS_ROLES_PCT = 35  # share of inactive/deleted users who still hold roles
NO_MANAGER_PCT = 4
STALE_ACTIVE_PCT = 8  # active users whose last login may be up to 400 days old
NO_LOGIN_OVERRIDE = -2
_MANAGER_FANOUT = 8
_MANAGER_PRIME = 2_750_159  # a prime above MAX_USERS: coprime with any org size


def iso_ms(ms: int) -> str:
    """Epoch milliseconds as ISO-8601 UTC `yyyy-MM-ddTHH:mm:ss.mmmZ`."""
    t = time.gmtime(ms // 1000)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}.{ms % 1000:03d}Z"


def iso_day(ms: int) -> str:
    """Epoch milliseconds as an ISO date `yyyy-MM-dd`."""
    t = time.gmtime(ms // 1000)
    return f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}"


def _pick(h: np.ndarray, n: int, shift: int = 0) -> np.ndarray:
    return ((h >> np.uint64(shift)) % np.uint64(n)).astype(np.int64)


class Traits:
    """Derives every non-mutable attribute of users from their index, for one seed."""

    def __init__(self, seed: int, base_users: int, divisions: int, groups: int, domain: str) -> None:
        self.seed = seed
        self.base_users = base_users
        self.divisions = divisions
        self.groups = groups
        self.domain = domain
        n = max(base_users, 1)
        self._perm_a = _MANAGER_PRIME % n if n > 1 else 0
        self._perm_b = (seed * 7919) % n
        self._perm_inv = pow(self._perm_a, -1, n) if n > 1 else 0
        # Changes made by Sandbox.advance(): per field, user index -> new value (codes for title and
        # department, an index or -1 for manager, a string or None for email); logins as a dense array.
        self.overrides: dict[str, dict[int, object]] = {"manager": {}, "title": {}, "department": {}, "email": {}}
        self.login_override: np.ndarray | None = None

    def _override(self, name: str, idx: np.ndarray, values: np.ndarray) -> np.ndarray:
        over = self.overrides[name]
        if not over:
            return values
        idx = np.asarray(idx, dtype=np.int64)
        keys = np.fromiter(over, dtype=np.int64, count=len(over))
        hit = np.flatnonzero(np.isin(idx, keys))
        if len(hit):
            values = values.copy()
            for p in hit.tolist():
                values[p] = over[int(idx[p])]
        return values

    # -- traits the org stores (initial values only) ---------------------------------------
    def initial_state(self, idx: np.ndarray) -> np.ndarray:
        """About 85% active, 10% inactive, 5% deleted."""
        r = hash_array(idx, self.seed, S_STATE) % np.uint64(100)
        return np.where(r < 85, ACTIVE, np.where(r < 95, INACTIVE, DELETED)).astype(np.uint8)

    def initial_division(self, idx: np.ndarray) -> np.ndarray:
        """Home gets about a third of users, the rest spread evenly."""
        h = hash_array(idx, self.seed, S_DIV)
        if self.divisions == 1:
            return np.zeros(len(h), dtype=np.uint8)
        other = 1 + _pick(h, self.divisions - 1, 8)
        return np.where(h % np.uint64(3) == 0, 0, other).astype(np.uint8)

    # -- columns used by rendering and search -----------------------------------------------
    def name_codes(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(first-name code, last-name code) per user."""
        h = hash_array(idx, self.seed, S_NAME)
        return _pick(h, len(vocab.FIRST_NAMES)), _pick(h, len(vocab.LAST_NAMES), 24)

    def department_codes(self, idx: np.ndarray) -> np.ndarray:
        """Department index, or -1 (about 8%) when unset."""
        h = hash_array(idx, self.seed, S_DEPT)
        return self._override("department", idx, np.where(h % np.uint64(100) < 92, _pick(h, len(vocab.DEPARTMENTS), 8), -1))

    def title_codes(self, idx: np.ndarray) -> np.ndarray:
        """Title index, or -1 (about 10%) when unset."""
        h = hash_array(idx, self.seed, S_TITLE)
        return self._override("title", idx, np.where(h % np.uint64(100) < 90, _pick(h, len(vocab.TITLES), 8), -1))

    def email_source(self, idx: np.ndarray) -> np.ndarray:
        """Index whose canonical address is this user's email; -1 when the user has none.

        Usually the user itself; for ~1% a nearby other user (a duplicate email)."""
        idx = np.asarray(idx, dtype=np.int64)
        h = hash_array(idx, self.seed, S_EMAIL)
        r = (h % np.uint64(1000)).astype(np.int64)
        back = idx - 1 - _pick(h, 50, 16)
        other = np.where(back >= 0, back, idx + 1)
        other = np.where(other < self.base_users, other, idx)
        src = np.where(r < EMAIL_NONE_PER_MILLE + EMAIL_DUP_PER_MILLE, other, idx)
        return np.where(r < EMAIL_NONE_PER_MILLE, -1, src)

    def canonical_emails(self, idx: np.ndarray) -> list[str]:
        """The login address of each user (also its username); unique per index."""
        first, last = self.name_codes(idx)
        fn, ln, dom = vocab.FIRST_NAMES, vocab.LAST_NAMES, self.domain
        return [f"{fn[f].lower()}.{ln[g].lower()}{i}@{dom}"
                for f, g, i in zip(first.tolist(), last.tolist(), np.asarray(idx).tolist())]

    def emails(self, idx: np.ndarray) -> list[str | None]:
        """The `email` field per user (None when absent)."""
        src = self.email_source(idx)
        has = src >= 0
        out: list[str | None] = [None] * len(src)
        if has.any():
            addrs = self.canonical_emails(src[has])
            for pos, addr in zip(np.flatnonzero(has).tolist(), addrs):
                out[pos] = addr
        over = self.overrides["email"]
        if over:
            for pos, i in enumerate(np.asarray(idx).tolist()):
                if i in over:
                    out[pos] = cast("str | None", over[i])  # email overrides are a string or None
        return out

    def managers(self, idx: np.ndarray) -> np.ndarray:
        """Manager index per user, or -1. A tree with fan-out 8 over a seeded permutation of the
        base users, so managers are real users scattered through the listing."""
        idx = np.asarray(idx, dtype=np.int64)
        n = self.base_users
        if n < 2:
            return np.full(len(idx), -1, dtype=np.int64)
        h = hash_array(idx, self.seed, S_MGR)
        base = idx < n
        pos = (idx % n * self._perm_a + self._perm_b) % n
        mpos = (pos - 1) // _MANAGER_FANOUT
        mgr = ((mpos - self._perm_b) % n * self._perm_inv) % n
        mgr = np.where(base, mgr, _pick(h, n, 8))  # churn-created users report to a base user
        none = (pos == 0) & base | (h % np.uint64(100) < NO_MANAGER_PCT)
        return self._override("manager", idx, np.where(none, -1, mgr))

    def last_login_ms(self, idx: np.ndarray, state: np.ndarray) -> np.ndarray:
        """Epoch ms of the last login, or -1 for users who never logged in (~5%). Active users
        logged in within 30 days, except ~8% (stale) within 400; deactivated ones 60-760 days ago."""
        h = hash_array(idx, self.seed, S_LOGIN)
        never = h % np.uint64(100) < NEVER_LOGGED_IN_PCT
        stale = (h >> np.uint64(56)) % np.uint64(100) < STALE_ACTIVE_PCT
        span = np.where(state == ACTIVE, np.where(stale, 400, 30), 700) * DAY_MS
        ago = ((h >> np.uint64(8)) % np.uint64(700 * DAY_MS)).astype(np.int64) % span
        out = np.where(never, -1, REF_MS - ago - DAY_MS * (state != ACTIVE) * 60)
        ov = self.login_override
        if ov is not None:
            idx = np.asarray(idx, dtype=np.int64)
            inside = idx < len(ov)
            got = np.where(inside, ov[np.where(inside, idx, 0)], NO_LOGIN_OVERRIDE)
            out = np.where(got != NO_LOGIN_OVERRIDE, got, out)
        return out

    def hire_ms(self, idx: np.ndarray) -> np.ndarray:
        """Hire date (epoch ms, midnight) within the last 15 years."""
        h = hash_array(idx, self.seed, S_HIRE)
        days = (h % np.uint64(15 * 365)).astype(np.int64) + 90
        return REF_MS - days * DAY_MS

    def versions(self, idx: np.ndarray) -> np.ndarray:
        """Record version (1..12)."""
        return 1 + _pick(hash_array(idx, self.seed, S_MISC), 12)

    def misc(self, idx: np.ndarray) -> np.ndarray:
        """A spare uint64 hash per user for small choices made while rendering."""
        return hash_array(idx, self.seed, S_MISC)

    def hashes(self, idx: np.ndarray, *salts: int) -> list[list[int]]:
        """Python-int hash lists for the given salts (rendering helpers)."""
        return [hash_array(idx, self.seed, s).tolist() for s in salts]

    def group_pairs(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Group memberships as (position in idx, group index) pairs, unique, sorted by position.

        Each user is in 0..3 groups drawn from its S_GROUPS hash; used by expand=groups and by
        the groups' memberCount, so both agree."""
        g = self.groups
        if g == 0 or len(idx) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        h = hash_array(idx, self.seed, S_GROUPS)
        n = h % np.uint64(4)
        pos = [np.flatnonzero(n > j) for j in range(3)]
        grp = [_pick(h[p], g, 8 + 10 * j) for j, p in enumerate(pos)]
        combo = np.unique(np.concatenate(pos) * g + np.concatenate(grp))
        return combo // g, combo % g

    def role_mask(self, h_roles: int, state: int) -> int:
        """Bitmask over vocab.ROLES; deactivated users mostly hold none, some still do."""
        if state != ACTIVE and h_roles % 100 >= KEEPS_ROLES_PCT:
            return 0
        mask = 1 | (1 << (1 + (h_roles >> 8) % 3))  # employee plus User/Agent/Supervisor
        extra = (h_roles >> 16) % 40
        if extra < len(vocab.ROLES) - 4:
            mask |= 1 << (4 + extra)
        return mask
