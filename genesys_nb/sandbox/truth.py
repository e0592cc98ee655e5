"""Ground truth for tests: the expected snapshot tables (docs/snapshot-tables.md) and the dirt an
access review should find, computed from the org's model directly (never through HTTP).

Every function takes a `Sandbox` (or its `Org`) and returns polars DataFrames with the contract's
column names. polars is imported here only, so the sandbox itself does not need it.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import numpy as np
import polars as pl

from . import catalog, vocab
from .catalog import ALL_DIVISIONS
from .traits import ACTIVE, DAY_MS, PURGED, REF_MS, STATE_NAMES

_DT = pl.Datetime("us", "UTC")


def _org(sb: Any):
    return getattr(sb, "org", sb)


def _div_id(org, code: int) -> str:
    return "*" if code == ALL_DIVISIONS else org.division_ids[code]


def _ms_to_dt(values: list[int | None]) -> pl.Series:
    return pl.Series([None if v is None or v < 0 else v * 1000 for v in values], dtype=pl.Int64).cast(_DT)


def users(sb: Any) -> pl.DataFrame:
    """Key columns of `users`: id, name, email, username, state, title, department, division_id,
    division_name, manager_id, date_last_login (all live users, listing order)."""
    org = _org(sb)
    acc = org.access
    idx = acc.live()
    t = org.traits
    states = org.states_of(idx)
    first, last = t.name_codes(idx)
    names = [f"{vocab.FIRST_NAMES[f]} {vocab.LAST_NAMES[g]}" for f, g in zip(first.tolist(), last.tolist())]
    titles = [vocab.TITLES[c] if c >= 0 else None for c in t.title_codes(idx).tolist()]
    depts = [vocab.DEPARTMENTS[c] if c >= 0 else None for c in t.department_codes(idx).tolist()]
    divs = org.divisions_of(idx).tolist()
    mgr = t.managers(idx)
    live_mgr = (mgr >= 0) & (org.states_of(np.where(mgr >= 0, mgr, 0)) != PURGED)
    mgr_ids: list[str | None] = [None] * len(idx)
    for p, m in zip(np.flatnonzero(live_mgr).tolist(), org.codec.encode_many(mgr[live_mgr])):
        mgr_ids[p] = m
    login = t.last_login_ms(idx, states).tolist()
    return pl.DataFrame({
        "id": org.codec.encode_many(idx), "name": names, "email": t.emails(idx), "username": t.canonical_emails(idx),
        "state": [STATE_NAMES[s] for s in states.tolist()], "title": titles, "department": depts,
        "division_id": [org.division_ids[d] for d in divs], "division_name": [org.division_names[d] for d in divs],
        "manager_id": mgr_ids, "date_last_login": _ms_to_dt(login),
    }, schema_overrides={"email": pl.String, "title": pl.String, "department": pl.String, "manager_id": pl.String})


def divisions(sb: Any) -> pl.DataFrame:
    """division_id, name, description, home_division."""
    org = _org(sb)
    n = len(org.division_ids)
    return pl.DataFrame({"division_id": org.division_ids, "name": org.division_names,
                         "description": ["Default division" if k == 0 else f"{org.division_names[k]} users"
                                         for k in range(n)],
                         "home_division": [k == 0 for k in range(n)]})


def roles(sb: Any) -> pl.DataFrame:
    """role_id, name, description, default_role_id, permissions, user_count, default, base."""
    org = _org(sb)
    acc = org.access
    via = org.config.role_users_via_groups
    rs = catalog.ROLES
    return pl.DataFrame({
        "role_id": acc.role_ids, "name": [r.name for r in rs], "description": [r.description for r in rs],
        "default_role_id": [r.default_role_id for r in rs],
        "permissions": [catalog.role_permissions(k) for k in range(len(rs))],
        "user_count": [len(acc.role_holders(k, via)) for k in range(len(rs))],
        "default": [r.default for r in rs], "base": [r.base for r in rs],
    }, schema_overrides={"default_role_id": pl.String, "permissions": pl.List(pl.String), "user_count": pl.Int64})


def role_grants(sb: Any) -> pl.DataFrame:
    """role_id, subject_id, subject_type (user|group), subject_name, division_id, division_name."""
    org = _org(sb)
    acc = org.access
    ev = acc.everyone(acc.user_grants, "grants")
    users_idx = ev.users()
    ids = org.codec.encode_many(users_idx)
    first, last = org.traits.name_codes(users_idx)
    names = [f"{vocab.FIRST_NAMES[f]} {vocab.LAST_NAMES[g]}" for f, g in zip(first.tolist(), last.tolist())]
    rows: dict[str, list] = {"role_id": [], "subject_id": [], "subject_type": [], "subject_name": [],
                             "division_id": [], "division_name": []}
    allname = org.config.all_divisions_name

    def add(role: int, sid: str, typ: str, name: str, code: int) -> None:
        rows["role_id"].append(acc.role_ids[role])
        rows["subject_id"].append(sid)
        rows["subject_type"].append(typ)
        rows["subject_name"].append(name)
        rows["division_id"].append(_div_id(org, code))
        rows["division_name"].append(allname if code == ALL_DIVISIONS else org.division_names[code])

    for k, (role, code) in enumerate(ev.vals.tolist()):
        add(role, ids[k], "user", names[k], code)
    for g, info in enumerate(acc.groups):
        if info.roles_enabled:
            for role, code in info.grants:
                add(role, org.group_ids[g], "group", org.group_names[g], code)
    return pl.DataFrame(rows, schema={c: pl.String for c in rows})


def user_roles(sb: Any) -> pl.DataFrame:
    """user_id, role_id, division_id, via ("direct" or the group id): the effective view."""
    org = _org(sb)
    acc = org.access
    idx = acc.live()
    pos, role, div, via = acc.effective(idx)
    ids = org.codec.encode_many(idx)
    return pl.DataFrame({
        "user_id": [ids[p] for p in pos.tolist()], "role_id": [acc.role_ids[r] for r in role.tolist()],
        "division_id": [_div_id(org, d) for d in div.tolist()],
        "via": ["direct" if v < 0 else org.group_ids[v] for v in via.tolist()],
    }, schema={"user_id": pl.String, "role_id": pl.String, "division_id": pl.String, "via": pl.String})


def groups(sb: Any) -> pl.DataFrame:
    """group_id, name, description, state, type, visibility, member_count, roles_enabled, date_modified."""
    org = _org(sb)
    acc = org.access
    n = len(org.group_ids)
    counts = acc.group_member_counts()
    return pl.DataFrame({
        "group_id": org.group_ids, "name": org.group_names, "description": [f"{x} group" for x in org.group_names],
        "state": [g.state for g in acc.groups], "type": [g.type for g in acc.groups],
        "visibility": [g.visibility for g in acc.groups], "member_count": counts,
        "roles_enabled": [g.roles_enabled for g in acc.groups],
        "date_modified": _ms_to_dt([REF_MS - (k * 7 + 3) * DAY_MS for k in range(n)]),
    }, schema_overrides={"member_count": pl.Int64, "state": pl.String, "type": pl.String,
                         "visibility": pl.String, "roles_enabled": pl.Boolean})


def group_members(sb: Any) -> pl.DataFrame:
    """group_id, user_id."""
    org = _org(sb)
    acc = org.access
    gid, uid = [], []
    for g in range(len(org.group_ids)):
        members = org.codec.encode_many(acc.group_members(g))
        gid += [org.group_ids[g]] * len(members)
        uid += members
    return pl.DataFrame({"group_id": gid, "user_id": uid}, schema={"group_id": pl.String, "user_id": pl.String})


def queues(sb: Any) -> pl.DataFrame:
    """queue_id, name, division_id, division_name, member_count, date_created, date_modified."""
    org = _org(sb)
    acc = org.access
    qs = acc.queues
    return pl.DataFrame({
        "queue_id": [q.id for q in qs], "name": [q.name for q in qs],
        "division_id": [org.division_ids[q.division] for q in qs],
        "division_name": [org.division_names[q.division] for q in qs],
        "member_count": [len(acc.queue_members(k)[0]) for k in range(len(qs))],
        "date_created": _ms_to_dt([REF_MS - q.created_days_ago * DAY_MS for q in qs]),
        "date_modified": _ms_to_dt([org.now_ms - q.modified_days_ago * DAY_MS for q in qs]),
    }, schema_overrides={"queue_id": pl.String, "name": pl.String, "division_id": pl.String,
                         "division_name": pl.String, "member_count": pl.Int64})


def queue_members(sb: Any) -> pl.DataFrame:
    """queue_id, user_id, joined, member_by, ring_number, routing_status."""
    org = _org(sb)
    acc = org.access
    out: dict[str, list] = {"queue_id": [], "user_id": [], "joined": [], "member_by": [], "ring_number": [],
                            "routing_status": []}
    from .traits import S_PRESENCE
    for q, info in enumerate(acc.queues):
        users_idx, joined, by_group, ring = acc.queue_members(q)
        states = org.states_of(users_idx).tolist()
        pres = org.traits.hashes(users_idx, S_PRESENCE)[0]
        out["queue_id"] += [info.id] * len(users_idx)
        out["user_id"] += org.codec.encode_many(users_idx)
        out["joined"] += joined.tolist()
        out["member_by"] += ["group" if b else "user" for b in by_group.tolist()]
        out["ring_number"] += ring.tolist()
        out["routing_status"] += [vocab.ROUTING_STATUSES[h % 5] if s == ACTIVE else "OFF_QUEUE"
                                  for s, h in zip(states, pres)]
    return pl.DataFrame(out, schema={"queue_id": pl.String, "user_id": pl.String, "joined": pl.Boolean,
                                     "member_by": pl.String, "ring_number": pl.Int64, "routing_status": pl.String})


def _skills_or_languages(sb: Any, kind: str) -> pl.DataFrame:
    from .records import Renderer
    from .traits import S_LANGS, S_SKILLS
    org = _org(sb)
    renderer = Renderer(org)
    idx = org.access.live()
    ids = org.codec.encode_many(idx)
    hs = org.traits.hashes(idx, S_SKILLS if kind == "skill" else S_LANGS)[0]
    rows: dict[str, list] = {"user_id": [], f"{kind}_id": [], f"{kind}_name": [], "proficiency": [], "state": []}
    make = renderer._skills if kind == "skill" else renderer._languages
    for uid, h in zip(ids, hs):
        for item in make(uid, h):
            rows["user_id"].append(uid)
            rows[f"{kind}_id"].append(item["id"])
            rows[f"{kind}_name"].append(item["name"])
            rows["proficiency"].append(item["proficiency"])
            rows["state"].append(item["state"])
    return pl.DataFrame(rows, schema={"user_id": pl.String, f"{kind}_id": pl.String, f"{kind}_name": pl.String,
                                      "proficiency": pl.Float64, "state": pl.String})


def user_skills(sb: Any) -> pl.DataFrame:
    """user_id, skill_id, skill_name, proficiency, state."""
    return _skills_or_languages(sb, "skill")


def user_languages(sb: Any) -> pl.DataFrame:
    """user_id, language_id, language_name, proficiency, state."""
    return _skills_or_languages(sb, "language")


def user_licenses(sb: Any) -> pl.DataFrame:
    """user_id, license_id (deleted users hold none)."""
    org = _org(sb)
    ev = org.access.licences_everyone()
    ids = org.codec.encode_many(ev.users())
    return pl.DataFrame({"user_id": ids, "license_id": [catalog.LICENCES[v].id for v in ev.vals[:, 0].tolist()]},
                        schema={"user_id": pl.String, "license_id": pl.String})


TABLES = ("users", "divisions", "roles", "role_grants", "user_roles", "groups", "group_members", "queues",
          "queue_members", "user_skills", "user_languages", "user_licenses")


def tables(sb: Any) -> dict[str, pl.DataFrame]:
    """Every table above by name."""
    return {name: globals()[name](sb) for name in TABLES}


# -- dirt -----------------------------------------------------------------------------------------
def admin_role_ids(sb: Any) -> set[str]:
    """Ids of admin roles: a `*` wildcard in the role's original permission specs, or "Admin" in its name."""
    acc = _org(sb).access
    return {acc.role_ids[k] for k in catalog.ADMIN_ROLES}


def dirt(sb: Any, today: datetime | None = None, stale_days: int = 90) -> dict[str, set[str]]:
    """Rule name -> ids of the users it flags. "Inactive" means state inactive or deleted (not
    active); roles are the effective `user_roles` (direct and through groups); `today` defaults to
    the org's now.

    - `inactive_with_roles`: inactive users holding any role besides the default `employee`.
    - `admin_role_inactive`: inactive users holding an admin role (see `admin_role_ids`).
    - `role_via_group_only`: users holding an admin role only through groups (no direct grant of
      that role in any division), whatever their state.
    - `stale_login`: active users whose dateLastLogin is before `today - stale_days` days.
    - `never_logged_in`: active users without dateLastLogin.
    - `inactive_in_queue`: inactive users who are members of a queue (any joined, any memberBy).
    - `licence_on_inactive`: inactive users holding a licence (deleted users hold none).
    - `licence_never_logged_in`: users of any state holding a licence who never logged in.
    - `duplicate_email`: users whose email is also another live user's email (case-insensitive).
    - `no_email`: users without an email.
    - `inactive_manager`: active users whose manager is a live user who is not active.
    """
    org = _org(sb)
    u = users(org)
    now = today or datetime.fromtimestamp(org.now_ms / 1000, tz=timezone.utc)
    inactive = set(u.filter(pl.col("state") != "active")["id"].to_list())
    active = set(u.filter(pl.col("state") == "active")["id"].to_list())
    ur = user_roles(org)
    acc = org.access
    employee = acc.role_ids[catalog.EMPLOYEE]
    admins = admin_role_ids(org)
    non_default = set(ur.filter(pl.col("role_id") != employee)["user_id"].to_list())
    admin_rows = ur.filter(pl.col("role_id").is_in(list(admins)))
    has_admin = set(admin_rows["user_id"].to_list())
    per = admin_rows.group_by(["user_id", "role_id"]).agg((pl.col("via") == "direct").any().alias("direct"))
    via_only = set(per.filter(~pl.col("direct"))["user_id"].to_list())
    cutoff = now.timestamp() - stale_days * 86400
    logins = u.select("id", "state", "date_last_login")
    stale = set(logins.filter((pl.col("state") == "active") & pl.col("date_last_login").is_not_null()
                              & (pl.col("date_last_login").dt.epoch("ms") < int(cutoff * 1000)))["id"].to_list())
    never_any = set(logins.filter(pl.col("date_last_login").is_null())["id"].to_list())
    in_queue = set(queue_members(org)["user_id"].to_list())
    licensed = set(user_licenses(org)["user_id"].to_list())
    emails = u.filter(pl.col("email").is_not_null()).with_columns(pl.col("email").str.to_lowercase().alias("e"))
    dup = set(emails.filter(pl.col("e").is_duplicated())["id"].to_list())
    states = dict(zip(u["id"].to_list(), u["state"].to_list()))
    inactive_mgr = {i for i, m, s in zip(u["id"].to_list(), u["manager_id"].to_list(), u["state"].to_list())
                    if s == "active" and m is not None and m in states and states[m] != "active"}
    return {
        "inactive_with_roles": inactive & non_default,
        "admin_role_inactive": inactive & has_admin,
        "role_via_group_only": via_only,
        "stale_login": stale,
        "never_logged_in": active & never_any,
        "inactive_in_queue": inactive & in_queue,
        "licence_on_inactive": inactive & licensed,
        "licence_never_logged_in": licensed & never_any,
        "duplicate_email": dup,
        "no_email": set(u.filter(pl.col("email").is_null())["id"].to_list()),
        "inactive_manager": inactive_mgr,
    }


__all__ = [*TABLES, "tables", "dirt", "admin_role_ids"]
