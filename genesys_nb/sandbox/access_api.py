"""Access-review endpoints: roles and grants, home division, group members, queues and their
members, per-user queues/skills/languages, licences.

Listing shapes follow the SDK 269 models: A (page numbers with URIs), B (counts, no URIs),
C (queue members: no totals). Permissions are checked against the OAuth client's
`permissions`; routes the spec marks "no permissions" check nothing. Choices where the real API is
unconfirmed are `SandboxConfig` settings (see there): page-size caps and over-cap behaviour,
`nextUri` on the last queue-members page, totals on group members, whether role users count
group-only holders, and the name of the `*` division. Further choices made here: `name` filters
are case-insensitive substring matches (roles) or `*`-wildcard matches (queues);
`includeDuplicates=false` keeps the user's own grant over a group's, else the first group's;
`AuthzGrantRole.policies` is only filled with `includeFullRoles=true`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from . import catalog, vocab
from .catalog import ALL_DIVISIONS
from .errors import ApiError, invalid_value, missing_permissions
from .hashing import hash_int
from .paging import expand_param, int_param, numbered_page, page_number, sort_desc
from .records import EXPAND_VALUES, routing_status
from .traits import DAY_MS, REF_MS, S_LANGS, S_PRESENCE, S_SKILLS, iso_ms

if TYPE_CHECKING:
    from .access import Access
    from .app import Context

_ROLES = "/api/v2/authorization/roles"
QUEUE_MEMBER_PERMISSIONS = ("routing:queue:view", "routing:queue:edit", "routing:queue:readonly",
                            "routing:queueMember:manage")
LICENCE_PERMISSIONS = ("authorization:grant:add", "authorization:license:view")


# -- helpers -------------------------------------------------------------------------------------
def require(ctx: Context, *any_of: str) -> None:
    """403 missing.permissions unless the client holds at least one of `any_of`."""
    client = ctx.token.client
    if not any(client.has_permission(p) for p in any_of):
        raise missing_permissions(*any_of)


def size_param(ctx: Context, default: int = 25, cap: int | None = None) -> int:
    """pageSize within 1..cap; over the cap a 400 or clamped, per `over_cap`."""
    cap = cap or ctx.config.access_max_page_size
    size = int_param(ctx.request, "pageSize", default)
    if size < 1:
        raise invalid_value(size, "pageSize", f"1 to {cap}")
    if size > cap:
        if ctx.config.over_cap == "error":
            raise invalid_value(size, "pageSize", f"1 to {cap}")
        size = cap
    return size


def bool_param(ctx: Context, name: str, default: bool | None) -> bool | None:
    """true/false (case-insensitive); absent gives `default`."""
    raw = ctx.request.param(name)
    if raw is None or raw == "":
        return default
    if raw.lower() not in ("true", "false"):
        raise invalid_value(raw, name, "true, false")
    return raw.lower() == "true"


def counts_page(entities: Any, size: int, number: int, total: int) -> dict:
    """Shape B: entities, pageSize, pageNumber, total, pageCount (no URIs)."""
    return {"entities": entities, "pageSize": size, "pageNumber": number, "total": total,
            "pageCount": math.ceil(total / size) if total else 0}


def _paged(ctx: Context, items: list, path: str, default: int = 25) -> dict:
    size = size_param(ctx, default)
    number = page_number(ctx.request, ctx.config.page_below_one)
    start = (number - 1) * size
    return numbered_page(path, items[start:start + size], size, number, len(items))


def division_ref(ctx: Context, code: int) -> dict:
    """Division {id, name, selfUri}; code -1 is the all-divisions `*`."""
    org = ctx.org
    if code == ALL_DIVISIONS:
        return {"id": "*", "name": ctx.config.all_divisions_name, "selfUri": "/api/v2/authorization/divisions/*"}
    did = org.division_ids[code]
    return {"id": did, "name": org.division_names[code], "selfUri": f"/api/v2/authorization/divisions/{did}"}


def user_names(ctx: Context, idx: np.ndarray) -> list[str]:
    """Display names of the given users."""
    first, last = ctx.org.traits.name_codes(np.asarray(idx, dtype=np.int64))
    fn, ln = vocab.FIRST_NAMES, vocab.LAST_NAMES
    return [f"{fn[f]} {ln[g]}" for f, g in zip(first.tolist(), last.tolist())]


def _user_index(ctx: Context, user_id: str) -> int:
    index = ctx.org.user_index(user_id)
    if index is None:
        raise ApiError(404, "not.found")
    return index


def _access(ctx: Context) -> Access:
    return ctx.org.access


# -- roles -----------------------------------------------------------------------------------------
def policies(k: int) -> list[dict]:
    """DomainPermissionPolicy list of role k, wildcards expanded."""
    return [{"domain": d, "entityName": e, "policyName": f"{d}:{e}", "policyDescription": f"{d} {e}",
             "actionSet": list(acts), "namedResources": [], "allowConditions": False}
            for d, e, acts in catalog.expand_specs(catalog.ROLES[k].specs)]


def role_user_count(ctx: Context, k: int) -> int:
    """Users holding role k in at least one division (through groups too, if configured)."""
    return len(_access(ctx).role_holders(k, ctx.config.role_users_via_groups))


def role_body(ctx: Context, k: int, user_count: bool, unused: bool = False) -> dict:
    """A DomainOrganizationRole."""
    r, rid = catalog.ROLES[k], _access(ctx).role_ids[k]
    body: dict[str, Any] = {"id": rid, "name": r.name, "description": r.description}
    if r.default_role_id:
        body["defaultRoleId"] = r.default_role_id
    body["permissions"] = list(r.general)
    if unused:
        body["unusedPermissions"] = []
    body["permissionPolicies"] = policies(k)
    if user_count:
        body["userCount"] = role_user_count(ctx, k)
    body["default"] = r.default
    body["base"] = r.base
    body["selfUri"] = f"{_ROLES}/{rid}"
    return body


def list_roles(ctx: Context) -> dict:
    """GET /api/v2/authorization/roles (shape A): name, permission, defaultRoleId, id filters."""
    require(ctx, "authorization:role:view")
    req = ctx.request
    ids = _access(ctx).role_ids
    chosen = list(range(len(catalog.ROLES)))
    name = (req.param("name") or "").lower()
    if name:
        chosen = [k for k in chosen if name in catalog.ROLES[k].name.lower()]
    if req.params("permission"):
        want = set(req.params("permission"))
        chosen = [k for k in chosen if want & set(catalog.role_permissions(k))]
    if req.params("defaultRoleId"):
        want = set(req.params("defaultRoleId"))
        chosen = [k for k in chosen if catalog.ROLES[k].default_role_id in want]
    if req.params("id"):
        want = set(req.params("id"))
        chosen = [k for k in chosen if ids[k] in want]
    if (req.param("sortBy") or "").lower() == "name":
        chosen.sort(key=lambda k: catalog.ROLES[k].name.lower())
    size = size_param(ctx)
    number = page_number(req, ctx.config.page_below_one)
    start = (number - 1) * size
    count = bool_param(ctx, "userCount", True)
    page = [role_body(ctx, k, bool(count)) for k in chosen[start:start + size]]
    return numbered_page(_ROLES, page, size, number, len(chosen))


def _role_index(ctx: Context) -> int:
    rid = ctx.path_params[0]
    ids = _access(ctx).role_ids
    if rid not in ids:
        raise ApiError(404, "not.found")
    return ids.index(rid)


def get_role(ctx: Context) -> dict:
    """GET /api/v2/authorization/roles/{roleId}: userCount (default true), expand=unusedPermissions."""
    require(ctx, "authorization:role:view")
    k = _role_index(ctx)
    expand = expand_param(ctx.request.params("expand"), ("unusedPermissions",))
    return role_body(ctx, k, bool(bool_param(ctx, "userCount", True)), "unusedPermissions" in expand)


def role_subjectgrants(ctx: Context) -> dict:
    """GET .../roles/{roleId}/subjectgrants (shape A): one entity per subject; groups as PC_GROUP."""
    require(ctx, "authorization:role:view")
    k = _role_index(ctx)
    subjects = _access(ctx).role_subjects(k)
    size = size_param(ctx)
    number = page_number(ctx.request, ctx.config.page_below_one)
    start = (number - 1) * size
    page = subjects[start:start + size]
    users = np.array([i for kind, i, _ in page if kind == "user"], dtype=np.int64)
    names = iter(user_names(ctx, users))
    org = ctx.org
    out = []
    for kind, i, codes in page:
        if kind == "user":
            sid, name, typ, uri = org.codec.encode(i), next(names), "PC_USER", "/api/v2/users/"
        else:
            sid, name, typ, uri = org.group_ids[i], org.group_names[i], "PC_GROUP", "/api/v2/groups/"
        out.append({"id": sid, "name": name, "divisions": [division_ref(ctx, c) for c in codes], "type": typ,
                    "selfUri": uri + sid})
    path = f"{_ROLES}/{ctx.path_params[0]}/subjectgrants"
    return numbered_page(path, out, size, number, len(subjects))


def role_users(ctx: Context) -> dict:
    """GET .../roles/{roleId}/users (shape B of {id, selfUri}); no permission needed."""
    k = _role_index(ctx)
    users = _access(ctx).role_holders(k, ctx.config.role_users_via_groups)
    size = size_param(ctx)
    number = page_number(ctx.request, ctx.config.page_below_one)
    start = (number - 1) * size
    ids = ctx.org.codec.encode_many(users[start:start + size])
    return counts_page([{"id": u, "selfUri": f"/api/v2/users/{u}"} for u in ids], size, number, len(users))


# -- subjects --------------------------------------------------------------------------------------
def _authz_division(ctx: Context, code: int) -> dict:
    ref = division_ref(ctx, code)
    if code == ALL_DIVISIONS:
        return {"id": "*", "name": ref["name"], "description": "All divisions", "homeDivision": False,
                "selfUri": ref["selfUri"]}
    return {"id": ref["id"], "name": ref["name"],
            "description": "Default division" if code == 0 else f"{ref['name']} users",
            "homeDivision": code == 0, "selfUri": ref["selfUri"]}


def _grant_role(ctx: Context, k: int, full: bool) -> dict:
    r, rid = catalog.ROLES[k], _access(ctx).role_ids[k]
    body: dict[str, Any] = {"id": rid, "name": r.name, "description": r.description}
    if full:
        body["policies"] = [{"actions": list(acts), "domain": d, "entityName": e}
                            for d, e, acts in catalog.expand_specs(r.specs)]
    body["default"] = r.default
    body["selfUri"] = f"{_ROLES}/{rid}"
    return body


def _grant_made_at(ctx: Context, subject: str, role: int, code: int) -> str:
    h = hash_int(role * 1000 + code + 1, ctx.org.seed, sum(map(ord, subject)) & 0xFFFFFF)
    return iso_ms(REF_MS - (30 + h % (900 * DAY_MS // 1000)) * 1000 - (h >> 40) % 1000)


def get_subject(ctx: Context) -> dict:
    """GET /api/v2/authorization/subjects/{subjectId} (AuthzSubject, unpaged): a user's grants
    (inherited ones carry the group's id as subjectId) or a group's."""
    require(ctx, "authorization:grant:view")
    sid = ctx.path_params[0]
    org, acc = ctx.org, _access(ctx)
    dupes = bool(bool_param(ctx, "includeDuplicates", False))
    full = bool(bool_param(ctx, "includeFullRoles", False))
    rows: list[tuple[str, int, int]] = []  # (subjectId, role, division)
    if sid in org.group_ids:
        g = org.group_ids.index(sid)
        name = org.group_names[g]
        info = acc.groups[g]
        rows = [(sid, r, d) for r, d in info.grants] if info.roles_enabled else []
        version = 1 + g % 4
    else:
        index = _user_index(ctx, sid)
        name = user_names(ctx, np.array([index]))[0]
        _, role, div, via = acc.effective(np.array([index], dtype=np.int64))
        seen: set[tuple[int, int]] = set()
        for r, d, v in zip(role.tolist(), div.tolist(), via.tolist()):
            if not dupes and (r, d) in seen:
                continue  # direct rows sort first (via -1), so the user's own grant is kept
            seen.add((r, d))
            rows.append((sid if v < 0 else org.group_ids[v], r, d))
        version = 1 + index % 7
    grants = [{"subjectId": s, "division": _authz_division(ctx, d), "role": _grant_role(ctx, r, full),
               "grantMadeAt": _grant_made_at(ctx, s, r, d)} for s, r, d in rows]
    return {"id": sid, "name": name, "grants": grants, "version": version,
            "selfUri": f"/api/v2/authorization/subjects/{sid}"}


def home_division(ctx: Context) -> dict:
    """GET /api/v2/authorization/divisions/home: no object counts, no permission."""
    return _authz_division(ctx, 0)


# -- groups ----------------------------------------------------------------------------------------
def _group_index(ctx: Context) -> int:
    gid = ctx.path_params[0]
    if gid not in ctx.org.group_ids:
        raise ApiError(404, "not.found")
    return ctx.org.group_ids.index(gid)


def group_members(ctx: Context) -> dict:
    """GET /api/v2/groups/{groupId}/members (shape A; totals per `group_members_totals`)."""
    g = _group_index(ctx)
    req = ctx.request
    expand = expand_param(req.params("expand"), EXPAND_VALUES)
    members = _access(ctx).group_members(g)
    if sort_desc(req):
        members = members[::-1]
    size = size_param(ctx)
    number = page_number(req, ctx.config.page_below_one)
    start = (number - 1) * size
    page = members[start:start + size]
    body = numbered_page(f"/api/v2/groups/{ctx.path_params[0]}/members", ctx.renderer.render_json(page, expand),
                         size, number, len(members))
    if not ctx.config.group_members_totals:
        body.pop("total")
        body.pop("pageCount")
        body.pop("lastUri")
    return body


def group_individuals(ctx: Context) -> dict:
    """GET /api/v2/groups/{groupId}/individuals: every member at once (no paging)."""
    g = _group_index(ctx)
    members = _access(ctx).group_members(g)
    size = max(len(members), 1)
    return numbered_page(f"/api/v2/groups/{ctx.path_params[0]}/individuals", ctx.renderer.render_json(members),
                         size, 1, len(members))


# -- queues ----------------------------------------------------------------------------------------
def queue_counts(ctx: Context, q: int) -> tuple[int, int, int]:
    """(memberCount, userMemberCount, joinedMemberCount) of queue q."""
    _, joined, by_group, _ = _access(ctx).queue_members(q)
    return len(joined), int((~by_group).sum()), int(joined.sum())


def queue_body(ctx: Context, q: int) -> dict:
    """A Queue (access-review fields)."""
    org, acc = ctx.org, _access(ctx)
    info = acc.queues[q]
    total, direct, joined = queue_counts(ctx, q)
    creator = org.codec.encode(q % org.base_users) if org.base_users else None
    body: dict[str, Any] = {"id": info.id, "name": info.name, "division": division_ref(ctx, info.division),
                            "description": f"{info.name} queue",
                            "dateCreated": iso_ms(REF_MS - info.created_days_ago * DAY_MS),
                            "dateModified": iso_ms(org.now_ms - info.modified_days_ago * DAY_MS)}
    if creator:
        body["modifiedBy"] = creator
        body["createdBy"] = creator
    body.update({"memberCount": total, "userMemberCount": direct, "joinedMemberCount": joined})
    groups = acc.group_member_counts()
    body["memberGroups"] = [{"id": org.group_ids[g], "name": org.group_names[g], "type": "GROUP",
                             "memberCount": groups[g], "selfUri": f"/api/v2/groups/{org.group_ids[g]}"}
                            for g in info.member_groups]
    body["selfUri"] = f"/api/v2/routing/queues/{info.id}"
    return body


def _name_match(pattern: str, name: str) -> bool:
    p, n = pattern.lower(), name.lower()
    if p.startswith("*") and p.endswith("*") and len(p) > 1:
        return p[1:-1] in n
    if p.endswith("*"):
        return n.startswith(p[:-1])
    if p.startswith("*"):
        return n.endswith(p[1:])
    return n == p


def _sorted_queues(ctx: Context) -> list[int]:
    acc = _access(ctx)
    order = sorted(range(len(acc.queues)), key=lambda q: (acc.queues[q].name.lower(), q))
    return order[::-1] if sort_desc(ctx.request) else order


def list_queues(ctx: Context) -> dict:
    """GET /api/v2/routing/queues (shape A), sorted by name; name, id, divisionId filters."""
    require(ctx, "routing:queue:view")
    req, org, acc = ctx.request, ctx.org, _access(ctx)
    chosen = _sorted_queues(ctx)
    if req.param("name"):
        chosen = [q for q in chosen if _name_match(req.param("name") or "", acc.queues[q].name)]
    if req.params("id"):
        want = set(req.params("id"))
        chosen = [q for q in chosen if acc.queues[q].id in want]
    if req.params("divisionId"):
        want = set(req.params("divisionId"))
        chosen = [q for q in chosen if org.division_ids[acc.queues[q].division] in want]
    size = size_param(ctx)
    number = page_number(req, ctx.config.page_below_one)
    start = (number - 1) * size
    return numbered_page("/api/v2/routing/queues", [queue_body(ctx, q) for q in chosen[start:start + size]],
                         size, number, len(chosen))


def get_queue(ctx: Context) -> dict:
    """GET /api/v2/routing/queues/{queueId}."""
    require(ctx, "routing:queue:view")
    return queue_body(ctx, _queue_index(ctx))


def _queue_index(ctx: Context) -> int:
    qid = ctx.path_params[0]
    for q, info in enumerate(_access(ctx).queues):
        if info.id == qid:
            return q
    raise ApiError(404, "not.found")


def queue_members(ctx: Context) -> dict:
    """GET /api/v2/routing/queues/{queueId}/members (shape C): sorted by name; memberBy, joined,
    name and routingStatus filters; pageSize at most 100; `nextUri` until the last page."""
    require(ctx, *QUEUE_MEMBER_PERMISSIONS)
    req, cfg, org = ctx.request, ctx.config, ctx.org
    q = _queue_index(ctx)
    qid = ctx.path_params[0]
    size = size_param(ctx, 25, 100)
    number = page_number(req, cfg.page_below_one)
    expand = expand_param(req.params("expand"), EXPAND_VALUES)
    users, joined, by_group, ring = _access(ctx).queue_members(q)
    names = np.array(user_names(ctx, users), dtype=object)
    keep = np.ones(len(users), bool)
    member_by = req.param("memberBy")
    if member_by:
        if member_by.lower() not in ("user", "group"):
            raise invalid_value(member_by, "memberBy", "user, group")
        keep &= by_group if member_by.lower() == "group" else ~by_group
    want_joined = bool_param(ctx, "joined", None)
    if want_joined is not None:
        keep &= joined == want_joined
    if req.param("name"):
        needle = (req.param("name") or "").lower()
        keep &= np.array([needle in n.lower() for n in names], bool)
    states = org.states_of(users)
    pres = org.traits.hashes(users, S_PRESENCE)[0]
    statuses = [routing_status("", int(s), h, org.now_ms) for s, h in zip(states.tolist(), pres)]
    if req.params("routingStatus"):
        want = {s.upper() for s in req.params("routingStatus")}
        keep &= np.array([st["status"] in want for st in statuses], bool)
    sel = np.flatnonzero(keep)
    order = sel[np.argsort(names[sel].astype(str), kind="stable")] if len(sel) else sel
    if sort_desc(req):
        order = order[::-1]
    start = (number - 1) * size
    page = order[start:start + size]
    ids = org.codec.encode_many(users[page])
    records = ctx.renderer.render(users[page], expand)
    entities = []
    for k, p in enumerate(page.tolist()):
        st = statuses[p]
        st["userId"] = ids[k]
        entities.append({"id": ids[k], "name": str(names[p]), "user": records[k], "ringNumber": int(ring[p]),
                         "joined": bool(joined[p]), "memberBy": "group" if by_group[p] else "user",
                         "routingStatus": st, "selfUri": f"/api/v2/routing/queues/{qid}/members/{ids[k]}"})
    path = f"/api/v2/routing/queues/{qid}/members"

    def uri(n: int) -> str:
        return f"{path}?pageSize={size}&pageNumber={n}"

    body: dict[str, Any] = {"entities": entities, "pageNumber": number, "pageSize": size, "firstUri": uri(1),
                            "selfUri": uri(number)}
    if start + size < len(order):
        body["nextUri"] = uri(number + 1)
    elif cfg.queue_members_last_next_uri == "null":
        body["nextUri"] = None
    if number > 1:
        body["previousUri"] = uri(number - 1)
    return body


# -- per-user routing data ------------------------------------------------------------------------
def user_queue_rows(ctx: Context, index: int) -> list[tuple[int, bool]]:
    """(queue, joined) of every queue the user is a member of (directly or through a group)."""
    acc = _access(ctx)
    out = []
    for q in range(len(acc.queues)):
        users, joined, _, _ = acc.queue_members(q)
        hit = np.flatnonzero(users == index)
        if len(hit):
            out.append((q, bool(joined[hit[0]])))
    return out


def user_queues(ctx: Context) -> dict:
    """GET /api/v2/users/{userId}/queues (shape A of UserQueue): joined=true by default."""
    require(ctx, "routing:queue:view")
    index = _user_index(ctx, ctx.path_params[0])
    want = bool_param(ctx, "joined", True)
    rows = [(q, j) for q, j in user_queue_rows(ctx, index) if j == want]
    if ctx.request.params("divisionId"):
        divs = set(ctx.request.params("divisionId"))
        acc = _access(ctx)
        rows = [(q, j) for q, j in rows if ctx.org.division_ids[acc.queues[q].division] in divs]
    rows.sort(key=lambda r: _access(ctx).queues[r[0]].name.lower())
    size = size_param(ctx)
    number = page_number(ctx.request, ctx.config.page_below_one)
    start = (number - 1) * size
    page = []
    for q, j in rows[start:start + size]:
        body = queue_body(ctx, q)
        uri = body.pop("selfUri")
        body["joined"] = j
        body["selfUri"] = uri
        page.append(body)
    return numbered_page(f"/api/v2/users/{ctx.path_params[0]}/queues", page, size, number, len(rows))


def _per_user_listing(ctx: Context, kind: str) -> dict:
    uid = ctx.path_params[0]
    index = _user_index(ctx, uid)
    h = ctx.org.traits.hashes(np.array([index]), S_SKILLS if kind == "skills" else S_LANGS)[0][0]
    items = ctx.renderer._skills(uid, h) if kind == "skills" else ctx.renderer._languages(uid, h)
    items.sort(key=lambda s: s["name"].lower(), reverse=sort_desc(ctx.request))
    path = f"/api/v2/users/{uid}/{'routingskills' if kind == 'skills' else 'routinglanguages'}"
    return _paged(ctx, items, path)


def user_skills(ctx: Context) -> dict:
    """GET /api/v2/users/{userId}/routingskills (shape A); no permission needed."""
    return _per_user_listing(ctx, "skills")


def user_languages(ctx: Context) -> dict:
    """GET /api/v2/users/{userId}/routinglanguages (shape A); no permission needed."""
    return _per_user_listing(ctx, "languages")


# -- licences --------------------------------------------------------------------------------------
def license_users(ctx: Context) -> dict:
    """GET /api/v2/license/users (shape B): users holding licences, in listing order."""
    ev = _access(ctx).licences_everyone()
    holders, first = np.unique(ev.pos, return_index=True)
    size = size_param(ctx)
    number = page_number(ctx.request, ctx.config.page_below_one)
    start = (number - 1) * size
    page = holders[start:start + size]
    bounds = np.append(first, len(ev.pos))
    ids = ctx.org.codec.encode_many(ev.idx[page])
    lic = catalog.LICENCES
    out = []
    for k, p in enumerate(range(start, min(start + size, len(holders)))):
        vals = ev.vals[bounds[p]:bounds[p + 1], 0].tolist()
        out.append({"id": ids[k], "licenses": [lic[v].id for v in vals], "selfUri": f"/api/v2/license/users/{ids[k]}"})
    return counts_page(out, size, number, len(holders))


def licence_definition(k: int) -> dict:
    """A LicenseDefinition."""
    d = catalog.LICENCES[k]
    body: dict[str, Any] = {"id": d.id, "description": d.description, "permissions": {"ids": list(d.permissions)}}
    if d.addon:
        body["prerequisites"] = [{"id": catalog.LICENCES[0].id,
                                  "selfUri": f"/api/v2/license/definitions/{catalog.LICENCES[0].id}"}]
    body["selfUri"] = f"/api/v2/license/definitions/{d.id}"
    return body


def license_definitions(ctx: Context) -> list[dict]:
    """GET /api/v2/license/definitions: a bare JSON array."""
    require(ctx, *LICENCE_PERMISSIONS)
    return [licence_definition(k) for k in range(len(catalog.LICENCES))]
