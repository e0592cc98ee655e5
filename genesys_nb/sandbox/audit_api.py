"""Audit endpoints: the asynchronous `POST /api/v2/audits/query` job, its polls and cursor-paged
results, and `GET /api/v2/audits/query/servicemapping`.

Events are synthetic and deterministic: day `d` (days since the epoch) holds about
`audit_events_per_day` events, each a pure function of (seed, d, j), dated up to the org's now
(which `Sandbox.advance` moves). A job answers `Queued` on the POST and for `audit_queued_polls`
GET polls, then `Running` for `audit_running_polls`, then `audit_outcome` ("never" keeps it
Running). Unconfirmed choices: results before `Succeeded` are a 400 `bad.request`; the last page's
cursor per `audit_last_cursor`; intervals are not length-capped; filters match exactly (Action,
EntityType case-insensitively); `serviceName` is any string (unknown ones match nothing); the default
sort is Timestamp ascending.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson

from . import catalog
from .access_api import require
from .errors import ApiError
from .hashing import hash_int
from .ids import entity_id
from .paging import decode_cursor, encode_cursor
from .traits import DAY_MS, iso_ms

if TYPE_CHECKING:
    from .app import Context

_PERM = "audits:audit:view"
_CURSOR = "audits.results"
_SALT = 0xA0D1
_SERVICES = [(s, e, a) for s, ents in catalog.AUDIT_SERVICES.items() for e, acts in ents.items() for a in acts]
_FILTERS = ("UserId", "TrusteeOrganizationId", "ClientId", "Action", "EntityType", "EntityId")


@dataclass
class AuditJob:
    """One submitted query: its request, how often it was polled, and its matches once computed."""

    id: str
    request: dict
    start_ms: int
    polls: int = 0
    matches: list[tuple[int, int]] | None = None


@dataclass
class AuditJobs:
    """The app's audit jobs (thread-safe)."""

    jobs: dict[str, AuditJob] = field(default_factory=dict)
    count: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)


def _jobs(ctx: Context) -> AuditJobs:
    app = ctx.app
    if app.audit_jobs is None:
        app.audit_jobs = AuditJobs()
    return app.audit_jobs


def parse_iso(value: str) -> int:
    """`YYYY-MM-DDThh:mm:ss[.mmm]Z` as epoch ms; ValueError otherwise."""
    import calendar
    import re
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,3}))?Z", value.strip())
    if not m:
        raise ValueError(value)
    y, mo, d, h, mi, s = (int(x) for x in m.groups()[:6])
    ms = int((m.group(7) or "0").ljust(3, "0"))
    return calendar.timegm((y, mo, d, h, mi, s)) * 1000 + ms


def _interval(raw: Any) -> tuple[int, int]:
    if not isinstance(raw, str) or "/" not in raw:
        raise ApiError(400, "bad.request", "The interval is required, as YYYY-MM-DDThh:mm:ssZ/YYYY-MM-DDThh:mm:ssZ.")
    a, b = raw.split("/", 1)
    try:
        start, end = parse_iso(a), parse_iso(b)
    except ValueError:
        raise ApiError(400, "bad.request", f"The interval [{raw}] is not valid.") from None
    if end <= start:
        raise ApiError(400, "bad.request", f"The interval [{raw}] ends before it starts.")
    return start, end


# -- synthetic events ------------------------------------------------------------------------------
def day_count(ctx: Context, day: int) -> int:
    """Events on day `day` (0..2x the configured mean)."""
    mean = ctx.config.audit_events_per_day
    return hash_int(day, ctx.org.seed, _SALT) % (2 * mean + 1) if mean else 0


def event_facts(ctx: Context, day: int, j: int) -> dict:
    """The raw facts of event j of `day`: service, entity type, action, date, actor, entity."""
    org = ctx.org
    h = hash_int(day * 4096 + j, org.seed, _SALT + 1)
    service, etype, action = _SERVICES[h % len(_SERVICES)]
    at = day * DAY_MS + (h >> 16) % DAY_MS
    actor = (h >> 44) % max(org.base_users, 1)
    k = (h >> 8) & 0xFFFF
    acc = org.access
    if etype == "Role":
        eid, ename, uri = acc.role_ids[k % len(acc.role_ids)], catalog.ROLES[k % len(catalog.ROLES)].name, \
            "/api/v2/authorization/roles/"
    elif etype == "Group" and org.group_ids:
        eid, ename, uri = org.group_ids[k % len(org.group_ids)], org.group_names[k % len(org.group_ids)], \
            "/api/v2/groups/"
    elif etype == "Queue" and acc.queues:
        info = acc.queues[k % len(acc.queues)]
        eid, ename, uri = info.id, info.name, "/api/v2/routing/queues/"
    elif etype in ("OAuthClient", "AuthUser"):
        eid, ename, uri = entity_id(org.seed, "oauthclient", k % 5), f"Integration client {k % 5 + 1}", \
            "/api/v2/oauth/clients/"
    else:
        target = k * 7919 % max(org.base_users, 1)
        eid, ename, uri = org.codec.encode(target), None, "/api/v2/users/"
    return {"id": entity_id(org.seed, "audit", day * 4096 + j), "service": service, "entityType": etype,
            "action": action, "at": at, "actor": actor, "entity": (eid, ename, uri),
            "client": entity_id(org.seed, "oauthclient", h % 5), "h": h}


def events_between(ctx: Context, start: int, end: int) -> list[tuple[int, int]]:
    """(day, j) of every event in [start, end) that happened by the org's now, in time order."""
    now = ctx.org.now_ms
    end = min(end, now + 1)
    out = []
    for day in range(max(start, 0) // DAY_MS, (end - 1) // DAY_MS + 1 if end > 0 else 0):
        facts = [(event_facts(ctx, day, j)["at"], day, j) for j in range(day_count(ctx, day))]
        out += [(at, day, j) for at, day, j in facts if start <= at < end]
    out.sort()
    return [(d, j) for _, d, j in out]


def _matches(ctx: Context, request: dict, start: int, end: int) -> list[tuple[int, int]]:
    service = (request.get("serviceName") or "").lower()
    filters = [(f.get("property"), str(f.get("value"))) for f in request.get("filters") or []]
    org = ctx.org
    keep = []
    for day, j in events_between(ctx, start, end):
        e = event_facts(ctx, day, j)
        if service and e["service"].lower() != service:
            continue
        ok = True
        for prop, value in filters:
            got = {"UserId": org.codec.encode(e["actor"]), "ClientId": e["client"], "Action": e["action"],
                   "EntityType": e["entityType"], "EntityId": e["entity"][0],
                   "TrusteeOrganizationId": None}[prop]
            if got is None or (got.lower() != value.lower() if prop in ("Action", "EntityType") else got != value):
                ok = False
                break
        if ok:
            keep.append((day, j))
    sort = request.get("sort") or []
    if sort and str(sort[0].get("sortOrder", "ascending")).lower().startswith("desc"):
        keep.reverse()
    return keep


def render_event(ctx: Context, day: int, j: int) -> dict:
    """An AuditLogMessage."""
    org = ctx.org
    e = event_facts(ctx, day, j)
    actor_id = org.codec.encode(e["actor"])
    from .access_api import user_names
    import numpy as np
    actor_name = user_names(ctx, np.array([e["actor"]]))[0]
    eid, ename, uri = e["entity"]
    entity: dict[str, Any] = {"id": eid}
    if ename:
        entity["name"] = ename
    entity["selfUri"] = uri + eid
    h = e["h"]
    text = f"{e['action']} {e['entityType']} {ename or eid}"
    body: dict[str, Any] = {
        "id": e["id"], "userHomeOrgId": org.org_id,
        "user": {"id": actor_id, "name": actor_name, "selfUri": f"/api/v2/users/{actor_id}"},
        "client": {"id": e["client"], "selfUri": f"/api/v2/oauth/clients/{e['client']}"},
        "remoteIp": [f"203.0.113.{h % 250 + 1}"], "serviceName": e["service"], "level": "USER",
        "eventDate": iso_ms(e["at"]),
        "message": {"localizableMessageCode": f"{e['service']}.{e['entityType']}.{e['action']}".upper(),
                    "message": text, "messageWithParams": "{action} {entityType} {entity}",
                    "messageParams": {"action": e["action"], "entityType": e["entityType"], "entity": ename or eid}},
        "action": e["action"], "entity": entity, "entityType": e["entityType"], "status": "SUCCESS",
        "application": "PureCloud", "transactionInitiator": True,
        "propertyChanges": [], "context": {},
    }
    if e["action"] in ("Update", "AuthorizationChanged", "LicenseUpdate"):
        body["propertyChanges"] = [{"property": "version", "oldValues": [str(h % 9 + 1)],
                                    "newValues": [str(h % 9 + 2)]}]
    return body


# -- handlers -------------------------------------------------------------------------------------
def _status(job: AuditJob, state: str) -> dict:
    req = job.request
    body: dict[str, Any] = {"id": job.id, "state": state, "startDate": iso_ms(job.start_ms),
                            "interval": req["interval"]}
    if req.get("serviceName"):
        body["serviceName"] = req["serviceName"]
    if req.get("filters"):
        body["filters"] = req["filters"]
    if req.get("sort"):
        body["sort"] = req["sort"]
    return body


def post_query(ctx: Context) -> dict:
    """POST /api/v2/audits/query: validates the body and answers `Queued`."""
    require(ctx, _PERM)
    try:
        body = orjson.loads(ctx.request.body or b"null")
    except orjson.JSONDecodeError:
        raise ApiError(400, "bad.request", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise ApiError(400, "bad.request", "The request body must be an AuditQueryRequest object.")
    _interval(body.get("interval"))
    for f in body.get("filters") or []:
        if not isinstance(f, dict) or f.get("property") not in _FILTERS or "value" not in f:
            raise ApiError(400, "bad.request", f"Invalid filter {f!r}; property must be one of {', '.join(_FILTERS)}.")
    for s in body.get("sort") or []:
        if not isinstance(s, dict) or s.get("name") != "Timestamp" or \
                str(s.get("sortOrder", "ascending")).lower() not in ("ascending", "descending"):
            raise ApiError(400, "bad.request", f"Invalid sort {s!r}.")
    jobs = _jobs(ctx)
    with jobs.lock:
        jobs.count += 1
        job = AuditJob(entity_id(ctx.org.seed, "auditquery", jobs.count), body, ctx.org.now_ms)
        jobs.jobs[job.id] = job
    return _status(job, "Queued")


def _job(ctx: Context) -> AuditJob:
    job = _jobs(ctx).jobs.get(ctx.path_params[0])
    if job is None:
        raise ApiError(404, "not.found")
    return job


def _state(ctx: Context, polls: int) -> str:
    cfg = ctx.config
    if polls <= cfg.audit_queued_polls:
        return "Queued"
    if polls <= cfg.audit_queued_polls + cfg.audit_running_polls or cfg.audit_outcome == "never":
        return "Running"
    return cfg.audit_outcome


def get_query(ctx: Context) -> dict:
    """GET /api/v2/audits/query/{transactionId}: each poll moves the job on."""
    require(ctx, _PERM)
    job = _job(ctx)
    with _jobs(ctx).lock:
        job.polls += 1
        polls = job.polls
    return _status(job, _state(ctx, polls))


def get_results(ctx: Context) -> dict:
    """GET /api/v2/audits/query/{transactionId}/results (shape D): `cursor` paging, pageSize <= 500."""
    require(ctx, _PERM)
    from .access_api import size_param
    job = _job(ctx)
    state = _state(ctx, job.polls)
    if state != "Succeeded":
        raise ApiError(400, "bad.request", f"The audit query {job.id} is {state}; results exist once it Succeeded.")
    size = size_param(ctx, 25, 500)
    if job.matches is None:
        start, end = _interval(job.request["interval"])
        job.matches = _matches(ctx, job.request, start, end)
    cursor = ctx.request.param("cursor") or None
    offset = 0 if cursor is None else decode_cursor(_CURSOR, cursor, ctx.org.seed)
    page = job.matches[offset:offset + size]
    body: dict[str, Any] = {"id": job.id, "pageSize": size}
    if offset + size < len(job.matches):
        body["cursor"] = encode_cursor(_CURSOR, offset + size, ctx.org.seed)
    elif ctx.config.audit_last_cursor == "empty":
        body["cursor"] = ""
    elif ctx.config.audit_last_cursor == "null":
        body["cursor"] = None
    body["entities"] = [render_event(ctx, d, j) for d, j in page]
    return body


def service_mapping(ctx: Context) -> dict:
    """GET /api/v2/audits/query/servicemapping: services, their entities and actions."""
    require(ctx, _PERM)
    return {"services": [{"name": s, "entities": [{"name": e, "actions": list(a)} for e, a in ents.items()]}
                         for s, ents in catalog.AUDIT_SERVICES.items()]}
