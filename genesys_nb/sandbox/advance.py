"""Moving the org forward in time: `Sandbox.advance(days)`.

One step deactivates, creates and moves users (division, manager, title, department, email),
grants and revokes roles (direct and through groups), changes group, queue and licence
membership, lets most active users log in again, and moves the org's now by `days`. It is
deterministic from the seed and the step counter. What changed is measured, not predicted: the
truth tables before and after are compared, so `Changes` is exactly what a snapshot diff sees.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from . import catalog, truth, vocab
from .catalog import ALL_DIVISIONS
from .traits import ACTIVE, DAY_MS, DELETED, INACTIVE, NO_LOGIN_OVERRIDE

_FIELDS = ("state", "division_id", "manager_id", "email", "title", "department")


@dataclass(frozen=True)
class Changes:
    """Ground truth of one `advance`: frames keyed as the snapshot tables are.

    joiners/leavers: `user_id`; changes: `user_id, field, old, new` (field one of state,
    division, manager, email, title, department; values as strings, None when absent);
    roles_*: `user_id, role_id, division_id, via`; group_members_*: `group_id, user_id`;
    queue_members_*: `queue_id, user_id`; user_licenses_*: `user_id, license_id`."""

    days: int
    step: int
    joiners: pl.DataFrame
    leavers: pl.DataFrame
    changes: pl.DataFrame
    roles_granted: pl.DataFrame
    roles_revoked: pl.DataFrame
    group_members_added: pl.DataFrame
    group_members_removed: pl.DataFrame
    queue_members_added: pl.DataFrame
    queue_members_removed: pl.DataFrame
    user_licenses_added: pl.DataFrame
    user_licenses_removed: pl.DataFrame


def _state(org) -> dict[str, pl.DataFrame]:
    return {"users": truth.users(org), "user_roles": truth.user_roles(org), "group_members": truth.group_members(org),
            "queue_members": truth.queue_members(org).select("queue_id", "user_id"),
            "user_licenses": truth.user_licenses(org)}


def advance(app, days: int = 90) -> Changes:
    """Apply one step of `days` to the app's org; returns what changed."""
    if days < 1:
        raise ValueError("days must be >= 1")
    org = app.org
    before = _state(org)
    with org._lock:
        org.steps += 1
        step = org.steps
        rng = np.random.default_rng([org.seed & 0xFFFFFFFF, step, days, 0xADA])
        _mutate(org, rng, days)
        org.now_ms += days * DAY_MS
        org.version += 1
        org._listings.clear()
        org.access.bump()
    app.renderer._cache.clear()
    after = _state(org)
    return _diff(before, after, days, step)


def _mutate(org, rng: np.random.Generator, days: int) -> None:
    acc, t = org.access, org.traits
    live = acc.live()
    states = org.states_of(live)
    active = live[states == ACTIVE]
    n_act = len(active)
    ndiv, nq, ng = len(org.division_ids), len(acc.queues), len(acc.groups)

    def some(pool: np.ndarray, share: float) -> list[int]:
        k = min(len(pool), max(1, int(round(len(pool) * share)))) if len(pool) else 0
        return rng.choice(pool, size=k, replace=False).tolist() if k else []

    bumped: set[int] = set()
    # leavers: deactivated (some deleted); half lose their extra roles, 40% their queues, half their licences
    leavers = some(active, 0.03)
    for i in leavers:
        org._state[i] = DELETED if rng.random() < 0.15 else INACTIVE
        bumped.add(i)
        if rng.random() < 0.5:
            acc.user_grants.set(i, [[catalog.EMPLOYEE, 0]])
        if rng.random() < 0.4:
            acc.user_queues.set(i, np.zeros((0, 3)))
        if rng.random() < 0.5:
            acc.user_licences.set(i, np.zeros((0, 1)))
    stay = np.setdiff1d(active, np.array(leavers, dtype=np.int64))
    # joiners
    for _ in range(max(1, int(round(n_act * 0.02)))):
        index = org._create(rng)
        if index is not None:
            org._state[index] = ACTIVE
    # moves and edits
    for i in some(stay, 0.03):
        cur = int(org._division[i])
        org._division[i] = (cur + 1 + int(rng.integers(0, max(ndiv - 1, 1)))) % ndiv if ndiv > 1 else cur
        bumped.add(i)
    base_pool = live[live < t.base_users]
    for i in some(stay, 0.03):
        if len(base_pool):
            m = int(rng.choice(base_pool))
            t.overrides["manager"][i] = m if m != i else -1
            bumped.add(i)
    for i in some(stay, 0.02):
        t.overrides["title"][i] = int(rng.integers(0, len(vocab.TITLES)))
        bumped.add(i)
    for i in some(stay, 0.02):
        t.overrides["department"][i] = int(rng.integers(0, len(vocab.DEPARTMENTS)))
        bumped.add(i)
    for i in some(stay, 0.01):
        if rng.random() < 0.25 and len(stay) > 1:  # takes over a colleague's address: a duplicate
            other = int(rng.choice(stay))
            t.overrides["email"][i] = t.emails(np.array([other]))[0]
        else:
            t.overrides["email"][i] = t.canonical_emails(np.array([i]))[0].replace("@", f".s{org.steps}@")
        bumped.add(i)
    # direct grants
    roles = [k for k in range(len(catalog.ROLES)) if k != catalog.EMPLOYEE]
    for i in some(stay, 0.02):
        rows = acc.user_grants.of(i).tolist()
        d = [0, ALL_DIVISIONS, int(org._division[i])][int(rng.integers(0, 3))]
        rows.append([int(rng.choice(roles)), d])
        acc.user_grants.set(i, rows)
    for i in some(stay, 0.015):
        rows = acc.user_grants.of(i).tolist()
        extra = [r for r in rows if r[0] != catalog.EMPLOYEE]
        if extra:
            rows.remove(extra[int(rng.integers(0, len(extra)))])
            acc.user_grants.set(i, rows)
    # group grants: one roles-enabled group gains a grant, another loses one
    enabled = [g for g, info in enumerate(acc.groups) if info.roles_enabled]
    if enabled:
        g = int(rng.choice(enabled))
        new = (int(rng.choice(roles)), [0, ALL_DIVISIONS][int(rng.integers(0, 2))])
        acc.groups[g].grants = sorted(set(acc.groups[g].grants) | {new})
        g2 = int(rng.choice(enabled))
        if acc.groups[g2].grants and g2 != g:
            acc.groups[g2].grants = acc.groups[g2].grants[1:]
    # group membership
    if ng:
        for i in some(stay, 0.02):
            rows = acc.user_groups.of(i).tolist()
            rows.append([int(rng.integers(0, ng))])
            acc.user_groups.set(i, rows)
        for i in some(stay, 0.015):
            rows = acc.user_groups.of(i).tolist()
            if rows:
                rows.pop(int(rng.integers(0, len(rows))))
                acc.user_groups.set(i, rows)
    # queue membership (direct) and one queue's member groups
    if nq:
        for i in some(stay, 0.02):
            rows = acc.user_queues.of(i).tolist()
            q = int(rng.integers(0, nq))
            if all(r[0] != q for r in rows):
                rows.append([q, int(rng.random() < 0.75), int(rng.integers(1, 7))])
                acc.user_queues.set(i, rows)
        for i in some(stay, 0.015):
            rows = acc.user_queues.of(i).tolist()
            if rows:
                rows.pop(int(rng.integers(0, len(rows))))
                acc.user_queues.set(i, rows)
        if ng and org.steps % 2 == 1:
            info = acc.queues[int(rng.integers(0, nq))]
            g = int(rng.integers(0, ng))
            if g not in info.member_groups:
                info.member_groups.append(g)
    # licences
    for i in some(stay, 0.015):
        rows = acc.user_licences.of(i).tolist()
        add = int(rng.integers(4, len(catalog.LICENCES)))
        if [add] not in rows:
            acc.user_licences.set(i, rows + [[add]])
    for i in some(stay, 0.01):
        rows = acc.user_licences.of(i).tolist()
        if rows:
            rows.pop(int(rng.integers(0, len(rows))))
            acc.user_licences.set(i, rows)
    # logins: ~80% of those still active (and new joiners) log in during the window
    org._listings.clear()
    now = org.now_ms + days * DAY_MS
    everyone = acc.live()
    act = everyone[org.states_of(everyone) == ACTIVE]
    if t.login_override is None:
        t.login_override = np.full(len(org._state), NO_LOGIN_OVERRIDE, dtype=np.int64)
    if len(t.login_override) < len(org._state):
        grown = np.full(len(org._state), NO_LOGIN_OVERRIDE, dtype=np.int64)
        grown[: len(t.login_override)] = t.login_override
        t.login_override = grown
    logs = act[rng.random(len(act)) < 0.8]
    window = min(days, 30) * DAY_MS
    t.login_override[logs] = now - rng.integers(0, window, size=len(logs))
    for i in bumped:
        org._version_bump[i] = org._version_bump.get(i, 0) + 1


def _anti(a: pl.DataFrame, b: pl.DataFrame) -> pl.DataFrame:
    return a.join(b, on=a.columns, how="anti", nulls_equal=True).unique(maintain_order=True)


def _diff(before: dict, after: dict, days: int, step: int) -> Changes:
    ub, ua = before["users"], after["users"]
    joiners = ua.join(ub, on="id", how="anti").select(pl.col("id").alias("user_id"))
    was_active = ub.filter(pl.col("state") == "active").select("id")
    still = ua.filter(pl.col("state") == "active").select("id")
    leavers = was_active.join(still, on="id", how="anti").select(pl.col("id").alias("user_id"))
    both = ub.join(ua, on="id", suffix="_new")
    frames = []
    for f in _FIELDS:
        old, new = pl.col(f).cast(pl.String), pl.col(f"{f}_new").cast(pl.String)
        frames.append(both.filter(old.ne_missing(new)).select(
            pl.col("id").alias("user_id"), pl.lit(f.removesuffix("_id")).alias("field"), old.alias("old"),
            new.alias("new")))
    changes = pl.concat(frames)
    return Changes(
        days, step, joiners, leavers, changes,
        _anti(after["user_roles"], before["user_roles"]), _anti(before["user_roles"], after["user_roles"]),
        _anti(after["group_members"], before["group_members"]), _anti(before["group_members"], after["group_members"]),
        _anti(after["queue_members"], before["queue_members"]), _anti(before["queue_members"], after["queue_members"]),
        _anti(after["user_licenses"], before["user_licenses"]), _anti(before["user_licenses"], after["user_licenses"]),
    )
