"""Small snapshot folders written from hand-made rows, so the snapshot, findings, diff and workbook tests need no API.

:func:`write_snapshot` writes any tables (rows as dicts; columns left out are null) with the contract's schemas and a
``manifest.json``. :func:`acme` builds a small org with exactly known problems (each rule's expected users are in
:data:`EXPECTED`), :func:`acme_next` the same org a quarter later with known changes (:data:`EXPECTED_CHANGES`), and
:func:`clean` an org with nothing to find.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import polars as pl

from genesys_nb.snapshot.manifest import Manifest, OrgRef, TableEntry
from genesys_nb.snapshot.tables import MANIFEST_FILE, TABLES, table_file

UTC = dt.timezone.utc
FINISHED = dt.datetime(2026, 6, 30, 12, 0, tzinfo=UTC)
NEXT_FINISHED = dt.datetime(2026, 9, 28, 12, 0, tzinfo=UTC)


def frame(name: str, rows: list[dict[str, Any]]) -> pl.DataFrame:
    """Rows of table ``name`` as a frame with the contract's columns and types (missing keys are null)."""
    schema = TABLES[name]
    return pl.DataFrame([{c: row.get(c) for c in schema} for row in rows], schema=schema, orient="row") \
        if rows else pl.DataFrame(schema=schema)


def write_snapshot(folder: Path, tables: dict[str, list[dict[str, Any]] | pl.DataFrame], *,
                   org: tuple[str, str] = ("org-acme", "Acme Test Org"), finished: dt.datetime = FINISHED,
                   skipped: dict[str, tuple[str, str | None]] | None = None,
                   api_totals: dict[str, int | None] | None = None) -> Path:
    """Write a snapshot folder: one Parquet file per table in ``tables`` and a manifest that lists them."""
    folder.mkdir(parents=True, exist_ok=True)
    entries: dict[str, TableEntry] = {}
    for name, rows in tables.items():
        df = rows if isinstance(rows, pl.DataFrame) else frame(name, rows)
        df.write_parquet(folder / table_file(name))
        total = (api_totals or {}).get(name, df.height)
        entries[name] = TableEntry.complete(name, df.height, api_total=total, requests=1)
    for name, (reason, permission) in (skipped or {}).items():
        entries[name] = TableEntry.skipped(reason, missing_permission=permission, requests=1)
    manifest = Manifest(org=OrgRef(*org), started=finished - dt.timedelta(minutes=4), finished=finished,
                        tables=entries, tool_version="0.1.0", api_host="https://api.mypurecloud.com",
                        query={"tables": list(entries), "page_size": 500}, plan={"requests": len(entries)},
                        requests_sent=len(entries))
    (folder / MANIFEST_FILE).write_text(manifest.to_json())
    return folder


def effective_roles(grants: list[dict], members: list[dict]) -> list[dict]:
    """``user_roles`` as the contract defines it: direct user grants plus one row per member of a granted group."""
    out = [{"user_id": g["subject_id"], "role_id": g["role_id"], "division_id": g["division_id"], "via": "direct"}
           for g in grants if g["subject_type"] == "user"]
    for g in grants:
        if g["subject_type"] == "group":
            out += [{"user_id": m["user_id"], "role_id": g["role_id"], "division_id": g["division_id"],
                     "via": g["subject_id"]} for m in members if m["group_id"] == g["subject_id"]]
    return out


def login(days_before: int | None, finished: dt.datetime = FINISHED) -> dt.datetime | None:
    return None if days_before is None else finished - dt.timedelta(days=days_before)


def user(uid: str, name: str, state: str = "active", *, email: Any = ..., last_login: int | None = 1,
         manager: str | None = None, division: str = "d-home", title: str = "Agent", department: str = "Support",
         finished: dt.datetime = FINISHED) -> dict:
    """A users row; the email is "<first name>@acme.test" unless given, ``last_login`` is days before the finish."""
    return {"id": uid, "name": name, "email": f"{name.split()[0].lower()}@acme.test"
            if email is ... else email,
            "username": f"{uid}@acme.test", "state": state, "title": title, "department": department,
            "division_id": division, "division_name": {"d-home": "Home", "d-east": "East"}[division],
            "manager_id": manager, "version": 1, "date_last_login": login(last_login, finished)}


ROLES = [
    {"role_id": "r-emp", "name": "employee", "default_role_id": "employee", "permissions": ["directory:user:view"],
     "default": True, "base": False},
    {"role_id": "r-master", "name": "Master Admin", "permissions": ["directory:user:view"]},        # admin by name
    {"role_id": "r-wild", "name": "Everything Routing", "permissions": ["routing:*:*"]},            # wildcard
    {"role_id": "r-grant", "name": "Role Manager", "permissions": ["authorization:grant:add",        # grants roles
                                                                   "authorization:role:view"]},
    {"role_id": "r-orgadmin", "name": "Org Settings", "permissions": ["directory:organization:admin"]},
    {"role_id": "r-agent", "name": "Agent", "permissions": ["routing:queue:view", "conversation:call:accept"]},
    {"role_id": "r-viewer", "name": "Auditor", "permissions": ["authorization:role:view", "authorization:grant:view"]},
]
ADMIN_ROLES = {"r-master", "r-wild", "r-grant", "r-orgadmin"}
DIVISIONS = [{"division_id": "d-home", "name": "Home", "home_division": True},
             {"division_id": "d-east", "name": "East", "home_division": False}]
GROUPS = [{"group_id": "g-ops", "name": "Ops", "state": "active"},
          {"group_id": "g-sales", "name": "Sales Team", "state": "active"}]
QUEUES = [{"queue_id": "q-support", "name": "Support", "division_id": "d-home"},
          {"queue_id": "q-sales", "name": "Sales", "division_id": "d-east"}]


def _grant(role: str, subject: str, division: str, kind: str = "user") -> dict:
    return {"role_id": role, "subject_id": subject, "subject_type": kind, "division_id": division}


def acme_rows() -> dict[str, list[dict]]:
    """The Acme org's rows: twenty users, each problem placed on purpose (see EXPECTED)."""
    users = [
        user("u01", "Alice Archer", last_login=1),
        user("u02", "Bob Baker", "inactive", last_login=171),
        user("u03", "Carol Cole", "deleted", last_login=400),
        user("u04", "Dave Dunn", last_login=149, manager="u01"),
        user("u05", "Erin Eng", last_login=None),
        user("u06", "Frank Fox", email="frank@acme.test"),
        user("u07", "Grace Gil", email="Frank@Acme.test "),
        user("u08", "Hank Hill", "deleted", email="frank@acme.test", last_login=300),
        user("u09", "Heidi Ho", email=None),
        user("u10", "Ivan Ito", "inactive", email="", last_login=60),
        user("u11", "Judy Jay", manager="u02"),
        user("u12", "Mallory Moe", manager="u03"),
        user("u13", "Niaj Nox", manager="u-ghost"),
        user("u14", "Olivia Oak", division="d-east"),
        user("u15", "Peggy Pan", division="d-east"),
        user("u16", "=1+1 Rupert", "inactive", last_login=211, email="@rupert@acme.test"),
        user("u17", "Sybil Sun"),
        user("u18", "Trent Toe"),
        user("u19", "Victor Vale"),
        user("u20", "Walter Wu", "inactive", last_login=121),
    ]
    members = [{"group_id": "g-ops", "user_id": "u14"}, {"group_id": "g-ops", "user_id": "u15"},
               {"group_id": "g-sales", "user_id": "u16"}, {"group_id": "g-sales", "user_id": "u17"},
               {"group_id": "g-sales", "user_id": "u18"}]
    grants = [_grant("r-emp", u["id"], "d-home") for u in users if u["state"] != "deleted"] + [
        _grant("r-agent", "u01", "d-home"), _grant("r-agent", "u02", "d-home"),
        _grant("r-master", "u03", "*"),
        _grant("r-wild", "g-ops", "d-east", "group"), _grant("r-wild", "u15", "d-east"),
        _grant("r-grant", "g-sales", "*", "group"), _grant("r-grant", "u17", "d-home"),
        _grant("r-grant", "u18", "*"), _grant("r-orgadmin", "u18", "d-home"),
        _grant("r-viewer", "u19", "d-home"),
    ]
    queue_members = [{"queue_id": "q-support", "user_id": "u01", "joined": True, "member_by": "user"},
                     {"queue_id": "q-support", "user_id": "u02", "joined": True, "member_by": "user"},
                     {"queue_id": "q-sales", "user_id": "u20", "joined": False, "member_by": "group"}]
    licenses = [{"user_id": "u01", "license_id": "cloudCX1"}, {"user_id": "u02", "license_id": "cloudCX1"},
                {"user_id": "u03", "license_id": "cloudCX3"}, {"user_id": "u04", "license_id": "cloudCX3"}]
    return {"users": users, "divisions": DIVISIONS, "roles": ROLES, "role_grants": grants,
            "user_roles": effective_roles(grants, members), "groups": GROUPS, "group_members": members,
            "queues": QUEUES, "queue_members": queue_members, "user_skills": [], "user_languages": [],
            "user_licenses": licenses}


#: Each rule's findings in the Acme org at FINISHED with stale_days=90: (user, evidence) pairs.
EXPECTED: dict[str, set[tuple]] = {
    "inactive_with_roles": {("u02", "r-agent", "d-home", None), ("u03", "r-master", "*", None),
                            ("u16", "r-grant", "*", "g-sales")},
    "admin_role_inactive": {("u03", "r-master", "*", None), ("u16", "r-grant", "*", "g-sales")},
    "role_via_group_only": {("u14", "r-wild", "d-east", "g-ops"), ("u16", "r-grant", "*", "g-sales"),
                            ("u17", "r-grant", "*", "g-sales")},
    "stale_login": {("u04",), ("u05",)},
    "never_logged_in": {("u05",)},
    "inactive_in_queue": {("u02", "q-support"), ("u20", "q-sales")},
    "licence_on_inactive": {("u02", "cloudCX1"), ("u03", "cloudCX3")},
    "duplicate_email": {("u06",), ("u07",)},
    "no_email": {("u09",), ("u10",)},
    "inactive_manager": {("u11",)},
    "missing_manager": {("u12",), ("u13",)},
}


def acme(folder: Path, **kw: Any) -> Path:
    return write_snapshot(folder, acme_rows(), **kw)


def acme_next_rows() -> dict[str, list[dict]]:
    """The Acme org a quarter later: the changes of EXPECTED_CHANGES, nothing else."""
    rows = acme_rows()
    later = NEXT_FINISHED - FINISHED
    users = []
    for u in rows["users"]:
        u = dict(u)
        if u["date_last_login"] is not None:
            u["date_last_login"] += later  # same gaps before the finish time: no login churn in the diff
        if u["id"] == "u19":
            continue                                     # leaver (gone)
        if u["id"] == "u01":
            u["state"] = "inactive"                      # leaver (deactivated), change of state
        if u["id"] == "u10":
            u["state"] = "active"                        # joiner (reactivated), change of state
        if u["id"] == "u04":
            u.update(title="Lead", department="Sales", division_id="d-east", division_name="East",
                     manager_id="u06", email="dave.dunn@acme.test")
        users.append(u)
    users.append(user("u21", "Xena Xu", finished=NEXT_FINISHED))  # joiner (new)
    members = [m for m in rows["group_members"] if m["user_id"] != "u15"] + [{"group_id": "g-sales",
                                                                             "user_id": "u21"}]
    revoked = [("u02", "r-agent"), ("u19", "r-emp"), ("u19", "r-viewer")]
    grants = [g for g in rows["role_grants"] if (g["subject_id"], g["role_id"]) not in revoked]
    grants += [_grant("r-agent", "u05", "d-home"), _grant("r-emp", "u21", "d-home")]
    queue_members = [m for m in rows["queue_members"] if m["user_id"] != "u20"] + [
        {"queue_id": "q-support", "user_id": "u21", "joined": True, "member_by": "user"}]
    licenses = [lic for lic in rows["user_licenses"] if lic["user_id"] != "u03"] + [
        {"user_id": "u21", "license_id": "cloudCX1"}]
    return rows | {"users": users, "role_grants": grants, "group_members": members,
                   "user_roles": effective_roles(grants, members), "queue_members": queue_members,
                   "user_licenses": licenses}


#: What diff(acme, acme_next) must find.
EXPECTED_CHANGES: dict[str, set[tuple]] = {
    "joiners": {("u21",), ("u10",)},
    "leavers": {("u19",), ("u01",)},
    "changes": {("u01", "state", "active", "inactive"), ("u10", "state", "inactive", "active"),
                ("u04", "title", "Agent", "Lead"), ("u04", "department", "Support", "Sales"),
                ("u04", "division", "d-home", "d-east"), ("u04", "manager", "u01", "u06"),
                ("u04", "email", "dave@acme.test", "dave.dunn@acme.test")},
    "roles_granted": {("u05", "r-agent", "d-home", "direct"), ("u21", "r-emp", "d-home", "direct"),
                      ("u21", "r-grant", "*", "g-sales")},
    "roles_revoked": {("u02", "r-agent", "d-home", "direct"), ("u19", "r-emp", "d-home", "direct"),
                      ("u19", "r-viewer", "d-home", "direct"), ("u15", "r-wild", "d-east", "g-ops")},
    "group_members_added": {("g-sales", "u21")},
    "group_members_removed": {("g-ops", "u15")},
    "queue_members_added": {("q-support", "u21")},
    "queue_members_removed": {("q-sales", "u20")},
    "user_licenses_added": {("u21", "cloudCX1")},
    "user_licenses_removed": {("u03", "cloudCX3")},
}


def acme_next(folder: Path, **kw: Any) -> Path:
    return write_snapshot(folder, acme_next_rows(), finished=NEXT_FINISHED, **kw)


def clean_rows() -> dict[str, list[dict]]:
    """An org with nothing to find: active users who logged in lately, with emails, active managers and no admin."""
    users = [user("c1", "Ann Able"), user("c2", "Ben Best", manager="c1"), user("c3", "Cat Cruz", manager="c1")]
    members = [{"group_id": "g-ops", "user_id": "c2"}]
    grants = [_grant("r-emp", u["id"], "d-home") for u in users] + [_grant("r-agent", "g-ops", "d-home", "group"),
                                                                     _grant("r-wild", "c1", "*")]
    return {"users": users, "divisions": DIVISIONS, "roles": ROLES, "role_grants": grants,
            "user_roles": effective_roles(grants, members), "groups": GROUPS, "group_members": members,
            "queues": QUEUES, "queue_members": [{"queue_id": "q-support", "user_id": "c2", "joined": True}],
            "user_skills": [], "user_languages": [], "user_licenses": [{"user_id": "c3", "license_id": "cloudCX1"}]}


def clean(folder: Path, **kw: Any) -> Path:
    return write_snapshot(folder, clean_rows(), **kw)
