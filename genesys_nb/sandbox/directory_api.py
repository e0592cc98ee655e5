"""The org's other endpoints: divisions, groups, organizations/me, and two small listings with
other paging styles (`/teams` with `after`, `/externalcontacts/scan/contacts` with `cursor`) so a
generic pager can be tested against them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from . import vocab
from .errors import ApiError
from .ids import entity_id
from .paging import decode_cursor, encode_cursor, numbered_page, page_number, page_size
from .traits import DAY_MS, REF_MS, iso_ms

if TYPE_CHECKING:
    from .app import Context

_TEAMS_AFTER = "teams.after"
_CONTACTS_CURSOR = "contacts.cursor"


def _numbered(ctx: Context, path: str, items: list[dict]) -> dict:
    req = ctx.request
    size = page_size(req, 25, ctx.config.max_page_size)
    number = page_number(req, ctx.config.page_below_one)
    start = (number - 1) * size
    return numbered_page(path, items[start:start + size], size, number, len(items))


def division(ctx: Context, k: int) -> dict:
    """An AuthzDivision."""
    org = ctx.org
    did = org.division_ids[k]
    return {"id": did, "name": org.division_names[k],
            "description": "Default division" if k == 0 else f"{org.division_names[k]} users",
            "homeDivision": k == 0, "selfUri": f"/api/v2/authorization/divisions/{did}"}


def list_divisions(ctx: Context) -> dict:
    """GET /api/v2/authorization/divisions."""
    return _numbered(ctx, "/api/v2/authorization/divisions",
                     [division(ctx, k) for k in range(len(ctx.org.division_ids))])


def get_division(ctx: Context) -> dict:
    """GET /api/v2/authorization/divisions/{divisionId}."""
    org = ctx.org
    did = ctx.path_params[0]
    if did not in org.division_ids:
        raise ApiError(404, "not.found")
    return division(ctx, org.division_ids.index(did))


def group(ctx: Context, k: int, members: int) -> dict:
    """A Group (no `chat`: the SDK's Group model has none). Owners are the group's first one or two
    members, so with includeOwners they are counted once."""
    org = ctx.org
    gid = org.group_ids[k]
    info = org.access.groups[k]
    body = {"id": gid, "name": org.group_names[k], "description": f"{org.group_names[k]} group",
            "dateModified": iso_ms(REF_MS - (k * 7 + 3) * DAY_MS), "memberCount": members, "state": info.state,
            "version": 1 + k % 4, "type": info.type, "rulesVisible": True, "visibility": info.visibility,
            "rolesEnabled": info.roles_enabled, "includeOwners": True, "callsEnabled": False}
    owners = org.access.group_members(k)[: 1 + (k % 4 == 0)]
    if len(owners):
        ids = org.codec.encode_many(owners)
        from .access_api import user_names
        body["owners"] = [{"id": u, "name": n, "selfUri": f"/api/v2/users/{u}"}
                          for u, n in zip(ids, user_names(ctx, owners))]
    body["selfUri"] = f"/api/v2/groups/{gid}"
    return body


def list_groups(ctx: Context) -> dict:
    """GET /api/v2/groups."""
    counts = ctx.org.group_member_counts()
    return _numbered(ctx, "/api/v2/groups", [group(ctx, k, counts[k]) for k in range(len(ctx.org.group_ids))])


def get_group(ctx: Context) -> dict:
    """GET /api/v2/groups/{groupId}."""
    gid = ctx.path_params[0]
    if gid not in ctx.org.group_ids:
        raise ApiError(404, "not.found")
    k = ctx.org.group_ids.index(gid)
    return group(ctx, k, ctx.org.group_member_counts()[k])


def organization(ctx: Context) -> dict:
    """GET /api/v2/organizations/me."""
    org = ctx.org
    return {"id": org.org_id, "name": org.name, "defaultLanguage": "en-us", "defaultCountryCode": "US",
            "thirdPartyOrgName": org.short_name, "domain": org.short_name, "version": 3, "state": "active",
            "defaultSiteId": entity_id(org.seed, "site", 0), "voicemailEnabled": True,
            "productPlatform": "PureCloud", "features": {"directory": True, "purecloud": True},
            "selfUri": f"/api/v2/organizations/{org.org_id}"}


def team(ctx: Context, k: int) -> dict:
    """A Team (work team)."""
    org = ctx.org
    tid = entity_id(org.seed, "team", k)
    words = vocab.TEAM_WORDS
    name = words[k % len(words)] + ("" if k < len(words) else f" {k // len(words) + 1}")
    d = k % len(org.division_ids)
    return {"id": tid, "name": name,
            "division": {"id": org.division_ids[d], "name": org.division_names[d],
                         "selfUri": f"/api/v2/authorization/divisions/{org.division_ids[d]}"},
            "description": f"Work team {name}", "dateCreated": iso_ms(REF_MS - (400 + 3 * k) * DAY_MS),
            "dateModified": iso_ms(REF_MS - (k % 30) * DAY_MS), "memberCount": 5 + (k * 37) % 20,
            "selfUri": f"/api/v2/teams/{tid}"}


def list_teams(ctx: Context) -> dict:
    """GET /api/v2/teams: `pageSize` and an opaque `after`; nextUri carries `after=`."""
    req, seed = ctx.request, ctx.org.seed
    size = page_size(req, 25, ctx.config.max_page_size)
    after = req.param("after") or None
    start = 0 if after is None else decode_cursor(_TEAMS_AFTER, after, seed, "after") + 1
    total = ctx.config.teams
    stop = min(max(start, 0) + size, total)
    body: dict[str, Any] = {"entities": [team(ctx, k) for k in range(max(start, 0), stop)]}
    if stop < total:
        body["nextUri"] = f"/api/v2/teams?pageSize={size}&after={encode_cursor(_TEAMS_AFTER, stop - 1, seed)}"
    body["selfUri"] = f"/api/v2/teams?pageSize={size}" + (f"&after={after}" if after else "")
    return body


def contact(ctx: Context, k: int) -> dict:
    """An ExternalContact."""
    seed = ctx.org.seed
    cid = entity_id(seed, "contact", k)
    first = vocab.FIRST_NAMES[(k * 31 + 7) % len(vocab.FIRST_NAMES)]
    last = vocab.LAST_NAMES[(k * 17 + 3) % len(vocab.LAST_NAMES)]
    c = (k * 13) % len(vocab.COMPANIES)
    oid = entity_id(seed, "externalorganization", c)
    line = 100 + k % 100
    return {"id": cid, "firstName": first, "lastName": last, "title": vocab.TITLES[k % len(vocab.TITLES)],
            "workPhone": {"display": f"+1 212-555-0{line}", "e164": f"+12125550{line}", "countryCode": "US"},
            "workEmail": f"{first.lower()}.{last.lower()}{k}@{vocab.COMPANIES[c].split()[0].lower()}.example.net",
            "externalOrganization": {"id": oid, "name": vocab.COMPANIES[c],
                                     "selfUri": f"/api/v2/externalcontacts/organizations/{oid}"},
            "type": "Curated", "createDate": iso_ms(REF_MS - (900 - k % 800) * DAY_MS),
            "modifyDate": iso_ms(REF_MS - (k % 90) * DAY_MS),
            "selfUri": f"/api/v2/externalcontacts/contacts/{cid}"}


def scan_contacts(ctx: Context) -> dict:
    """GET /api/v2/externalcontacts/scan/contacts: `limit` 10..200 (default 100) and `cursor`."""
    req, seed = ctx.request, ctx.org.seed
    limit = page_size(req, 100, 200, name="limit", minimum=10)
    cursor = req.param("cursor") or None
    start = 0 if cursor is None else decode_cursor(_CONTACTS_CURSOR, cursor, seed) + 1
    total = ctx.config.contacts
    stop = min(max(start, 0) + limit, total)
    body: dict[str, Any] = {"entities": [contact(ctx, k) for k in range(max(start, 0), stop)]}
    path = "/api/v2/externalcontacts/scan/contacts"
    after = encode_cursor(_CONTACTS_CURSOR, stop - 1, seed) if stop < total else None
    if after:
        body["nextUri"] = f"{path}?limit={limit}&cursor={after}"
    body["selfUri"] = f"{path}?limit={limit}" + (f"&cursor={cursor}" if cursor else "")
    if after:
        body["cursors"] = {"after": after}
    return body
