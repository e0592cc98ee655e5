"""The org's access model: role grants (to users and groups), group and queue membership, licences.

Per-user relations are hash-derived from (seed, index) like every other trait, so nothing per user
is stored until `advance()` changes a user: a changed user's rows are then kept explicitly (an
override replacing its derived rows). Whole-org views (members of a group or queue, holders of a
role) are computed vectorised over the live users and cached per org and access version.
Groups and queues are few and stored as small Python objects.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Callable, TypeVar, cast

import numpy as np

from . import catalog
from .catalog import ALL_DIVISIONS, EMPLOYEE
from .hashing import hash_array
from .ids import entity_id
from .traits import ACTIVE, DELETED

S_GRANTS, S_QUEUES, S_LICENCES, S_QJOIN = 40, 41, 42, 43  # + 50.. for extra grants
T = TypeVar("T")

_RING = np.array([1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 3, 3, 4, 5, 6, 6], dtype=np.int64)
ADMIN_BOOST = 5  # deactivated users who kept their roles were admins more often than average


class Relation:
    """Rows (ints, `width` columns) per user: derived by `base`, replaced per user by overrides."""

    def __init__(self, base: Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]], width: int) -> None:
        self.base = base
        self.width = width
        self.overrides: dict[int, np.ndarray] = {}

    def rows(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions into idx, values (m, width)), sorted by position."""
        idx = np.asarray(idx, dtype=np.int64)
        pos, vals = self.base(idx)
        if not self.overrides or len(idx) == 0:
            return pos, vals
        keys = np.fromiter(self.overrides, dtype=np.int64, count=len(self.overrides))
        hit = np.flatnonzero(np.isin(idx, keys))
        if len(hit) == 0:
            return pos, vals
        keep = ~np.isin(pos, hit)
        extra_pos = [pos[keep]]
        extra_vals = [vals[keep]]
        for p in hit.tolist():
            rows = self.overrides[int(idx[p])]
            extra_pos.append(np.full(len(rows), p, dtype=np.int64))
            extra_vals.append(rows)
        pos = np.concatenate(extra_pos)
        vals = np.concatenate(extra_vals).reshape(-1, self.width)
        order = np.argsort(pos, kind="stable")
        return pos[order], vals[order]

    def of(self, index: int) -> np.ndarray:
        """The rows of one user, (k, width)."""
        if index in self.overrides:
            return self.overrides[index]
        return self.base(np.array([index], dtype=np.int64))[1]

    def set(self, index: int, rows: np.ndarray | list) -> None:
        """Replace one user's rows (unique, sorted)."""
        arr = np.asarray(rows, dtype=np.int64).reshape(-1, self.width)
        self.overrides[index] = np.unique(arr, axis=0) if len(arr) else arr


@dataclass
class GroupInfo:
    """A group's mutable definition (membership lives in the users' relation)."""

    state: str
    type: str
    visibility: str
    roles_enabled: bool
    grants: list[tuple[int, int]] = field(default_factory=list)  # (role, division code)


@dataclass
class QueueInfo:
    """A queue's definition; members come from the users' relation and from `member_groups`."""

    id: str
    name: str
    division: int
    member_groups: list[int]
    created_days_ago: int
    modified_days_ago: int


@dataclass(frozen=True)
class Everyone:
    """A relation over all live users: user indices (listing order) and rows pointing into them."""

    idx: np.ndarray
    pos: np.ndarray
    vals: np.ndarray

    def users(self) -> np.ndarray:
        """User index of each row."""
        return self.idx[self.pos]


class Access:
    """Access facts of one org; thread-safe readers, mutated only by `advance`."""

    def __init__(self, org) -> None:  # org: Org (not imported: org.py imports this module)
        self.org = org
        self.seed = org.seed
        self.traits = org.traits
        self.ndiv = len(org.division_ids)
        self.role_ids = [entity_id(self.seed, "role", k) for k in range(len(catalog.ROLES))]
        self.groups = [self._group_info(k) for k in range(len(org.group_ids))]
        self.queues = [self._queue_info(k) for k in range(org.config.queues)]
        self.user_groups = Relation(self._groups_base, 1)
        self.user_grants = Relation(self._grants_base, 2)
        self.user_queues = Relation(self._queues_base, 3)
        self.user_licences = Relation(self._licences_base, 1)
        self.version = 0
        self._lock = threading.RLock()
        self._cache: dict[tuple, object] = {}

    # -- definitions -------------------------------------------------------------------------
    def _group_info(self, k: int) -> GroupInfo:
        roles_enabled = k % 3 == 1
        grants: list[tuple[int, int]] = []
        if roles_enabled:
            r = k // 3
            for j in range(1 + (r % 2 == 0)):
                role, mode = catalog.GROUP_GRANTS[(r + 3 * j) % len(catalog.GROUP_GRANTS)]
                grants.append((role, self._div_code(mode, k + j)))
        vis = {5: "members", 6: "owners"}.get(k % 7, "public")
        return GroupInfo("inactive" if k % 11 == 10 else "active", "social" if k % 5 == 3 else "official", vis,
                         roles_enabled, sorted(set(grants)))

    def _div_code(self, mode: str, k: int) -> int:
        if mode == "home":
            return 0
        if mode == "all":
            return ALL_DIVISIONS
        return k % self.ndiv

    def _queue_info(self, k: int) -> QueueInfo:
        words = catalog.QUEUE_WORDS
        name = words[k % len(words)] + ("" if k < len(words) else f" {k // len(words) + 1}")
        ng = len(self.org.group_ids)
        groups = [(k * 7 + 1) % ng] if ng and k % 3 == 0 else []
        return QueueInfo(entity_id(self.seed, "queue", k), name, k % self.ndiv, groups, 400 + 11 * k, k % 40)

    # -- hash-derived base rows ----------------------------------------------------------------
    def _groups_base(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        pos, grp = self.traits.group_pairs(idx)
        return pos, grp.reshape(-1, 1)

    def _grants_base(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Everyone holds employee in Home; active users (and ~35% of deactivated ones, who kept
        theirs) hold a primary role in their first division and a few extras."""
        t, n = self.traits, len(idx)
        if n == 0:
            return np.zeros(0, np.int64), np.zeros((0, 2), np.int64)
        created = idx >= t.base_users
        init_active = (t.initial_state(idx) == ACTIVE) | created
        div = t.initial_division(idx).astype(np.int64)
        h = hash_array(idx, self.seed, S_GRANTS)
        holds = init_active | (h % np.uint64(100) < 35)
        ar = np.arange(n, dtype=np.int64)
        pos = [ar]
        role = [np.full(n, EMPLOYEE, np.int64)]
        dv = [np.zeros(n, np.int64)]
        prim = np.array(catalog.PRIMARY_ROLES, np.int64)[((h >> np.uint64(8)) % np.uint64(3)).astype(np.int64)]
        pos.append(ar[holds])
        role.append(prim[holds])
        dv.append(div[holds])
        for j, (r, per_mille, mode) in enumerate(catalog.EXTRA_GRANTS):
            hj = hash_array(idx, self.seed, 50 + j)
            pm = np.full(n, per_mille, np.int64)
            if r in catalog.ADMIN_ROLES:
                pm = np.where(init_active, pm, pm * ADMIN_BOOST)
            take = holds & ((hj % np.uint64(1000)).astype(np.int64) < pm)
            if mode == "home":
                d = np.zeros(n, np.int64)
            elif mode == "own":
                d = div
            elif mode == "all":
                d = np.full(n, ALL_DIVISIONS, np.int64)
            elif mode == "other":
                d = (div + 1 + ((hj >> np.uint64(20)) % np.uint64(max(self.ndiv - 1, 1))).astype(np.int64)) % self.ndiv
            else:  # mixed
                d = np.where((hj >> np.uint64(12)) & np.uint64(1), ALL_DIVISIONS, 0)
            pos.append(ar[take])
            role.append(np.full(int(take.sum()), r, np.int64))
            dv.append(d[take])
        return _unique_rows(np.concatenate(pos), np.stack([np.concatenate(role), np.concatenate(dv)], axis=1))

    def _queues_base(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """0..3 direct queue memberships per user: (queue, joined 0/1, ringNumber)."""
        nq = len(self.queues)
        if nq == 0 or len(idx) == 0:
            return np.zeros(0, np.int64), np.zeros((0, 3), np.int64)
        h = hash_array(idx, self.seed, S_QUEUES)
        count = (h % np.uint64(4)).astype(np.int64)
        pos, vals = [], []
        for j in range(3):
            p = np.flatnonzero(count > j)
            hp = h[p]
            q = ((hp >> np.uint64(8 + 8 * j)) % np.uint64(nq)).astype(np.int64)
            joined = (((hp >> np.uint64(40 + 2 * j)) & np.uint64(3)) != 0).astype(np.int64)
            ring = _RING[((hp >> np.uint64(48 + 4 * j)) & np.uint64(15)).astype(np.int64)]
            pos.append(p)
            vals.append(np.stack([q, joined, ring], axis=1))
        pos_a, vals_a = np.concatenate(pos), np.concatenate(vals)
        # one row per (user, queue): keep the first drawn
        key = pos_a * nq + vals_a[:, 0]
        _, first = np.unique(key, return_index=True)
        return pos_a[first], vals_a[first]

    def _licences_base(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """~92% hold one base licence; some hold add-ons on top."""
        if len(idx) == 0:
            return np.zeros(0, np.int64), np.zeros((0, 1), np.int64)
        h = hash_array(idx, self.seed, S_LICENCES)
        r = (h % np.uint64(100)).astype(np.int64)
        base = np.select([r < 8, r < 38, r < 78, r < 90], [-1, 0, 1, 2], 3)
        has = base >= 0
        pos = [np.flatnonzero(has)]
        lic = [base[has]]
        for j, (lid, pct) in enumerate(((4, 15), (5, 10), (6, 12))):
            take = has & (((h >> np.uint64(8 + 8 * j)) % np.uint64(100)).astype(np.int64) < pct)
            pos.append(np.flatnonzero(take))
            lic.append(np.full(int(take.sum()), lid, np.int64))
        return _unique_rows(np.concatenate(pos), np.concatenate(lic).reshape(-1, 1))

    # -- whole-org views -------------------------------------------------------------------------
    def bump(self) -> None:
        """Mark the access facts changed (drops cached views)."""
        with self._lock:
            self.version += 1
            self._cache.clear()

    def _cached(self, key: str, make: Callable[[], T]) -> T:
        """What ``make`` builds, kept under ``key`` until the org or the grants change."""
        with self._lock:
            full = (key, self.org.version, self.version)
            hit = self._cache.get(full)
            if hit is None:
                if len(self._cache) > 64:
                    self._cache.clear()
                hit = self._cache[full] = make()
            return cast(T, hit)  # a key is always made by the same `make`

    def live(self) -> np.ndarray:
        """Indices of all live users, in listing order."""
        listing = self.org.listing("any")
        return listing.indices(0, len(listing))

    def everyone(self, rel: Relation, name: str) -> Everyone:
        """`rel` over every live user (cached)."""
        def make() -> Everyone:
            idx = self.live()
            pos, vals = rel.rows(idx)
            return Everyone(idx, pos, vals)
        return self._cached(name, make)

    def _by_column(self, rel: Relation, name: str, n: int, keep_state: Callable[[np.ndarray], np.ndarray] | None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """CSR over column 0: (offsets (n+1), user indices, row values), users in listing order."""
        def make():
            ev = self.everyone(rel, name)
            users = ev.users()
            vals = ev.vals
            if keep_state is not None and len(users):
                keep = keep_state(users)
                users, vals, pos = users[keep], vals[keep], ev.pos[keep]
            else:
                pos = ev.pos
            order = np.lexsort((pos, vals[:, 0])) if len(vals) else np.zeros(0, np.int64)
            col = vals[order, 0] if len(vals) else np.zeros(0, np.int64)
            offsets = np.searchsorted(col, np.arange(n + 1))
            return offsets, users[order], vals[order]
        return self._cached("csr:" + name, make)

    def group_members(self, g: int) -> np.ndarray:
        """User indices in group g, in listing order (all live users, any state)."""
        off, users, _ = self._by_column(self.user_groups, "groups", len(self.groups), None)
        return users[off[g]:off[g + 1]]

    def group_member_counts(self) -> list[int]:
        """Members per group."""
        off, _, _ = self._by_column(self.user_groups, "groups", len(self.groups), None)
        return np.diff(off).tolist()

    def queue_members(self, q: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(user indices, joined bool, member_by_group bool, ringNumber) of queue q in listing order.

        Deleted users are in no queue. A member through a group is listed once, as `group`, even
        when also added directly. Group members' `joined` is hash-derived; their ringNumber is
        the `queue_group_ring_number` setting."""
        def make():
            off, users, vals = self._by_column(self.user_queues, "queues", len(self.queues), self._not_deleted)
            direct_u, direct_v = users[off[q]:off[q + 1]], vals[off[q]:off[q + 1]]
            via = [self.group_members(g) for g in self.queues[q].member_groups]
            gu = np.unique(np.concatenate(via)) if via else np.zeros(0, np.int64)
            if len(gu):
                gu = gu[self._not_deleted(gu)]
            keep = ~np.isin(direct_u, gu)
            hj = hash_array(gu * 131 + q, self.seed, S_QJOIN)
            u = np.concatenate([direct_u[keep], gu])
            joined = np.concatenate([direct_v[keep, 1] == 1, hj % np.uint64(4) != 0])
            by_group = np.concatenate([np.zeros(int(keep.sum()), bool), np.ones(len(gu), bool)])
            ring = np.concatenate([direct_v[keep, 2],
                                   np.full(len(gu), self.org.config.queue_group_ring_number, np.int64)])
            rank = self._rank(u)
            order = np.argsort(rank, kind="stable")
            return u[order], joined[order], by_group[order], ring[order]
        return self._cached(f"queue:{q}", make)

    def _not_deleted(self, users: np.ndarray) -> np.ndarray:
        return self.org.states_of(users) != DELETED

    def _rank(self, users: np.ndarray) -> np.ndarray:
        """Listing position of each user (for ordering)."""
        live = self.live()
        order = np.argsort(live, kind="stable")
        return order[np.searchsorted(live[order], users)]

    def licences_everyone(self) -> Everyone:
        """Licence rows of all live users who are not deleted (deleted users' licences are freed)."""
        def make() -> Everyone:
            ev = self.everyone(self.user_licences, "licences")
            keep = self._not_deleted(ev.users()) if len(ev.pos) else np.zeros(0, bool)
            return Everyone(ev.idx, ev.pos[keep], ev.vals[keep])
        return self._cached("licences-live", make)

    def user_licence_rows(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(pos, licence) for the given users; none for deleted users."""
        pos, vals = self.user_licences.rows(idx)
        keep = self.org.states_of(np.asarray(idx, np.int64)[pos]) != DELETED if len(pos) else np.zeros(0, bool)
        return pos[keep], vals[keep, 0]

    def effective(self, idx: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Effective grants of the given users: (pos, role, division code, via: -1 direct or group)."""
        idx = np.asarray(idx, dtype=np.int64)
        pos, vals = self.user_grants.rows(idx)
        out_pos, out_role, out_div, out_via = [pos], [vals[:, 0]], [vals[:, 1]], [np.full(len(pos), -1, np.int64)]
        gpos, gvals = self.user_groups.rows(idx)
        for p, g in zip(gpos.tolist(), gvals[:, 0].tolist()):
            info = self.groups[g]
            if info.roles_enabled:
                for r, d in info.grants:
                    out_pos.append(np.array([p]))
                    out_role.append(np.array([r]))
                    out_div.append(np.array([d]))
                    out_via.append(np.array([g]))
        P = np.concatenate(out_pos).astype(np.int64)
        R, D, V = (np.concatenate(a).astype(np.int64) for a in (out_role, out_div, out_via))
        order = np.lexsort((V, D, R, P))
        return P[order], R[order], D[order], V[order]

    def role_holders(self, role: int, via_groups: bool) -> np.ndarray:
        """User indices holding `role` directly (and through groups when asked), listing order."""
        def make():
            ev = self.everyone(self.user_grants, "grants")
            users = ev.users()[ev.vals[:, 0] == role] if len(ev.pos) else np.zeros(0, np.int64)
            if via_groups:
                extra = [self.group_members(g) for g, info in enumerate(self.groups)
                         if info.roles_enabled and any(r == role for r, _ in info.grants)]
                users = np.concatenate([users, *extra])
            users = np.unique(users)
            return users[np.argsort(self._rank(users), kind="stable")]
        return self._cached(f"holders:{role}:{via_groups}", make)

    def role_subjects(self, role: int) -> list[tuple[str, int, list[int]]]:
        """Subjects holding `role`: ("user", index, division codes) in listing order, then
        ("group", group index, codes) for roles-enabled groups."""
        def make() -> list[tuple[str, int, list[int]]]:
            ev = self.everyone(self.user_grants, "grants")
            sel = ev.vals[:, 0] == role
            users, divs = ev.users()[sel], ev.vals[sel, 1]
            out: list[tuple[str, int, list[int]]] = []
            cur: int | None = None
            acc: list[int] = []
            for u, d in zip(users.tolist(), divs.tolist()):
                if u != cur:
                    if cur is not None:
                        out.append(("user", cur, acc))
                    cur, acc = u, []
                acc.append(d)
            if cur is not None:
                out.append(("user", cur, acc))
            for g, info in enumerate(self.groups):
                codes = sorted(d for r, d in info.grants if r == role)
                if info.roles_enabled and codes:
                    out.append(("group", g, codes))
            return out
        return self._cached(f"subjects:{role}", make)


def _unique_rows(pos: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop duplicate (pos, row) pairs; sorted by pos then values."""
    if len(pos) == 0:
        return pos.astype(np.int64), vals.astype(np.int64)
    both = np.column_stack([pos, vals]).astype(np.int64)
    both = np.unique(both, axis=0)
    return both[:, 0], both[:, 1:]
