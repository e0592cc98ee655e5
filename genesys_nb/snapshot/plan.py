"""The request plan of a snapshot: which listings it runs, how many requests each needs, and what it costs.

Planning reads what the counts depend on: each direct listing's ``total`` (one ``pageSize=1`` request), the roles,
groups and queues themselves (few pages), and each role's number of grant subjects (one request per role). The
snapshot then lists the fan-outs (grants per role, members per group and per queue) over exactly the parents the
plan saw, so the requests it sends equal the plan's count unless the org changes in between or requests are
retried. Grants are listed per role and skills, languages and roles come from the users listing's expands: no
request is ever made per user.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from ..errors import BadRequest, ConfigError, PermissionDenied
from ..resources import REGISTRY, groups, queues, roles
from ..resources import users as users_resource
from ..resources.base import ListingSpec
from ..resources.divisions import divisions_spec
from ..resources.licenses import PATH as LICENSES_PATH
from ..resources.licenses import licenses_spec
from .tables import DERIVED, LISTED, TABLE_NAMES, USER_EXPAND

__all__ = ["SnapshotPlan", "TablePlan", "plan_snapshot", "check_tables", "DEFAULT_RATE_PER_MINUTE"]

USERS_PAGE_SIZE = 500
GROUP_PAGE_SIZE = 100
#: Grants and group members are asked for in pages this large when the API takes them (no maximum is documented;
#: clients in the wild use 100 to 500), else in pages of SAFE_PAGE_SIZE.
LARGE_PAGE_SIZE = 500
SAFE_PAGE_SIZE = 100
QUEUE_MEMBER_PAGE_SIZE = queues.MEMBERS_MAX_PAGE_SIZE
#: Genesys Cloud's documented default rate limit for one OAuth client.
DEFAULT_RATE_PER_MINUTE = 300

TABLES = TABLE_NAMES


class Api(Protocol):
    """What planning needs of a client: one request's JSON body, and streams of specs."""

    def get(self, path: str, params: Any = None) -> Any: ...

    def stream(self, spec: ListingSpec, resume: str | None = None) -> Any: ...


def check_tables(tables: Sequence[str] | str | None) -> tuple[str, ...]:
    """The tables asked for (all when None), in the snapshot's order; unknown names raise ConfigError."""
    if tables is None:
        return TABLES
    names = [t.strip() for t in tables.split(",")] if isinstance(tables, str) else list(tables)
    unknown = [n for n in names if n not in TABLES]
    if unknown or not names:
        raise ConfigError(f"Unknown snapshot table(s) {', '.join(map(repr, unknown)) or '(none given)'}. "
                          f"Tables: {', '.join(TABLES)}.")
    return tuple(t for t in TABLES if t in names)


def _listed_for(tables: tuple[str, ...]) -> tuple[str, ...]:
    """The listed tables the asked-for tables need (a derived table brings the tables it is computed from)."""
    wanted = set(tables)
    for table in tables:
        wanted |= set(DERIVED.get(table, ()))
    return tuple(t for t in TABLES if t in wanted and t in LISTED)


@dataclass
class TablePlan:
    """One listed table: its spec, the requests it needs, the API's announced total, or why it is skipped."""

    table: str
    requests: int = 0
    api_total: int | None = None
    skipped: str | None = None
    missing_permission: str | None = None
    spec: ListingSpec | None = field(default=None, repr=False)


@dataclass
class SnapshotPlan:
    """What a snapshot will send: per table, and in all (the organisation request included)."""

    tables: tuple[str, ...]
    listed: dict[str, TablePlan]
    probe_requests: int = 0

    @property
    def requests(self) -> int:
        """Requests the snapshot itself will send: every listed table's pages, plus one for the org."""
        return 1 + sum(p.requests for p in self.listed.values() if not p.skipped)

    def seconds(self, rate_per_minute: float = DEFAULT_RATE_PER_MINUTE) -> float:
        """The shortest time the API's rate limit allows for these requests."""
        return self.requests / rate_per_minute * 60.0

    def as_dict(self) -> dict[str, Any]:
        return {"requests": self.requests, "probe_requests": self.probe_requests,
                "tables": {name: {k: v for k, v in asdict(p).items() if k not in ("spec", "table")}
                           for name, p in self.listed.items()}}

    def __str__(self) -> str:
        lines = [f"{'table':<15} {'requests':>9} {'API total':>10}  note"]
        for name, p in self.listed.items():
            total = "" if p.api_total is None else f"{p.api_total:,}"
            note = f"skipped: {p.skipped}" if p.skipped else ""
            lines.append(f"{name:<15} {p.requests:>9,} {total:>10}  {note}")
        derived = [t for t in self.tables if t in DERIVED]
        if derived:
            lines.append(f"{', '.join(derived)}: computed from the tables above (no requests)")
        minutes = self.seconds() / 60
        lines.append(f"total: {self.requests:,} requests (organisation included), at least {minutes:.1f} min at "
                     f"{DEFAULT_RATE_PER_MINUTE} requests a minute; planning sent {self.probe_requests:,}.")
        return "\n".join(lines)


def _pages(total: int, size: int) -> int:
    """Page-number requests for ``total`` records: at least one (an empty listing still answers once)."""
    return max(1, math.ceil(total / size))


def _open_pages(total: int, size: int) -> int:
    """Requests of a listing without totals that stops at a short page: a full last page needs one more."""
    return total // size + 1


class _Planner:
    """Counts requests for each listed table, tallying the requests planning itself sends."""

    def __init__(self, api: Api) -> None:
        self.api = api
        self.sent = 0

    def total(self, path: str, params: dict[str, Any] | None = None) -> int:
        self.sent += 1
        return _total(self.api.get(path, {**(params or {}), "pageSize": 1}))

    def served_page_size(self, path: str) -> tuple[int, Any]:
        """The page size ``path`` serves when asked for LARGE_PAGE_SIZE, and that probe's body (None after a 400).
        Whether the API refuses an over-cap size or clamps it is unconfirmed: a 400 means SAFE_PAGE_SIZE, a page
        that says (or shows) it holds fewer means that size, so the plan counts the pages the API will serve."""
        self.sent += 1
        try:
            body = self.api.get(path, {"pageSize": LARGE_PAGE_SIZE})
        except BadRequest:
            return SAFE_PAGE_SIZE, None
        return _served_size(body, LARGE_PAGE_SIZE), body

    def records(self, spec: ListingSpec) -> list[dict]:
        stream = self.api.stream(spec)
        out = list(stream)
        self.sent += stream.stats.requests
        return out

    def table(self, name: str) -> TablePlan:
        resource = REGISTRY[LISTED[name]]
        try:
            return getattr(self, f"_{name}")()
        except PermissionDenied as exc:
            return TablePlan(name, skipped=f"forbidden (HTTP 403): {exc.api_message or exc}",
                             missing_permission=_missing(exc) or resource.permission)

    def _users(self) -> TablePlan:
        total = self.total(users_resource.USERS_PATH, {"state": "any"})
        spec = users_resource.users_spec(expand=USER_EXPAND, page_size=USERS_PAGE_SIZE)
        return TablePlan("users", _pages(total, USERS_PAGE_SIZE), total, spec=spec)

    def _simple(self, name: str, path: str, spec: ListingSpec) -> TablePlan:
        total = self.total(path)
        return TablePlan(name, _pages(total, spec.param("pageSize")), total, spec=spec)

    def _divisions(self) -> TablePlan:
        return self._simple("divisions", "/api/v2/authorization/divisions", divisions_spec(page_size=100))

    def _user_licenses(self) -> TablePlan:
        """Licences come a page of users at a time; the probe for the page size also brings the ``total`` (which
        counts users, not the table's (user, licence) rows, so it is not the table's API total)."""
        size, body = self.served_page_size(LICENSES_PATH)
        total = _total(body) if body is not None else self.total(LICENSES_PATH)
        return TablePlan("user_licenses", _pages(total, size), spec=licenses_spec(page_size=size))

    def _listed_parents(self, name: str, spec: ListingSpec) -> tuple[TablePlan, list[dict]]:
        records = self.records(spec)
        total = len(records)
        return TablePlan(name, _pages(total, spec.param("pageSize")), total, spec=spec), records

    def _roles(self) -> TablePlan:
        plan, self.role_records = self._listed_parents("roles", roles.roles_spec(page_size=100))
        return plan

    def _groups(self) -> TablePlan:
        plan, self.group_records = self._listed_parents("groups", groups.groups_spec(page_size=GROUP_PAGE_SIZE))
        return plan

    def _queues(self) -> TablePlan:
        plan, self.queue_records = self._listed_parents("queues", queues.queues_spec(page_size=100))
        return plan

    def _role_grants(self) -> TablePlan:
        records = getattr(self, "role_records", None) or self.records(roles.roles_spec(page_size=100))
        ids = sorted(r["id"] for r in records if isinstance(r.get("id"), str))
        size = self.served_page_size(f"{roles.PATH}/{ids[0]}/subjectgrants")[0] if ids else SAFE_PAGE_SIZE
        requests = sum(_pages(self.total(f"{roles.PATH}/{i}/subjectgrants"), size) for i in ids)
        spec = roles.grants_spec(role_ids=ids or None, page_size=size)
        return TablePlan("role_grants", requests if ids else 0, spec=spec if ids else None)

    def _group_members(self) -> TablePlan:
        records = getattr(self, "group_records", None) or self.records(groups.groups_spec(page_size=GROUP_PAGE_SIZE))
        counts = {r["id"]: int(r.get("memberCount") or 0) for r in records if isinstance(r.get("id"), str)}
        size = self.served_page_size(f"{groups.PATH}/{min(counts)}/members")[0] if counts else SAFE_PAGE_SIZE
        spec = groups.members_spec(group_ids=sorted(counts) or None, page_size=size)
        return TablePlan("group_members", sum(_pages(n, size) for n in counts.values()),
                         spec=spec if counts else None)

    def _queue_members(self) -> TablePlan:
        records = getattr(self, "queue_records", None) or self.records(queues.queues_spec(page_size=100))
        counts = {r["id"]: int(r.get("memberCount") or 0) for r in records if isinstance(r.get("id"), str)}
        spec = queues.members_spec(queue_ids=sorted(counts) or None, page_size=QUEUE_MEMBER_PAGE_SIZE)
        return TablePlan("queue_members", sum(_open_pages(n, QUEUE_MEMBER_PAGE_SIZE) for n in counts.values()),
                         spec=spec if counts else None)


def _total(body: Any) -> int:
    """A page's announced ``total`` (0 when it announces none)."""
    total = body.get("total") if isinstance(body, dict) else None
    return total if isinstance(total, int) and not isinstance(total, bool) and total >= 0 else 0


def _served_size(body: Any, asked: int) -> int:
    """The page size a page was served at: its echoed ``pageSize`` when that is smaller than ``asked``, else the
    number of entities when fewer came than both ``asked`` and the ``total`` (a cap applied without saying so)."""
    if not isinstance(body, dict):
        return asked
    echoed = body.get("pageSize")
    if isinstance(echoed, int) and not isinstance(echoed, bool) and 0 < echoed < asked:
        return echoed
    entities, total = body.get("entities"), _total(body)
    if isinstance(entities, list) and 0 < len(entities) < min(asked, total):
        return len(entities)
    return asked


def _missing(exc: PermissionDenied) -> str | None:
    """The permission a 403 names (``domain:entity:action``), if it names one."""
    import re

    found = re.findall(r"\b[a-zA-Z]+:[a-zA-Z*]+:[a-zA-Z*]+\b", str(exc.api_message or exc))
    return found[0] if found else None


def plan_snapshot(api: Api, tables: Sequence[str] | str | None = None) -> SnapshotPlan:
    """The plan of a snapshot of ``tables`` (all when None): see the module docs."""
    wanted = check_tables(tables)
    planner = _Planner(api)
    listed = {name: planner.table(name) for name in _listed_for(wanted)}
    return SnapshotPlan(wanted, listed, planner.sent)
