"""The user endpoints: `/api/v2/users` (page numbers), `/users/query` (cursor), `/users/search`
(q64) and `/users/{id}`.

Choices where the real API is unconfirmed: `id=` bulk fetches still apply `state` and paging;
the inactive cap's 400 uses code `bad.request`; a malformed cursor is a 400 `bad.request`; a user
outside a limited client's divisions answers 404 on `/users/{id}`.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

import numpy as np
import orjson

from . import search
from .errors import ApiError, invalid_value, missing_permissions
from .paging import (decode_cursor, echo_suffix, encode_cursor, expand_param, numbered_page, page_number, page_size,
                     sort_desc, state_param)
from .records import EXPAND_VALUES
from .traits import DELETED, INACTIVE, PURGED, STATE_CODES

if TYPE_CHECKING:
    from .app import Context

_ECHO = ("state", "expand", "sortOrder")
_CURSOR_KIND = "users.query"


def list_users(ctx: Context) -> dict:
    """GET /api/v2/users: page-number listing with state, expand, id and sortOrder."""
    req, cfg, org = ctx.request, ctx.config, ctx.org
    size = page_size(req, 25, cfg.max_page_size)
    number = page_number(req, cfg.page_below_one)
    state = state_param(req)
    expand = expand_param(req.params("expand"), EXPAND_VALUES)
    desc = sort_desc(req)
    start = (number - 1) * size
    ids = req.params("id")
    if ids:
        if len(ids) > cfg.max_ids:
            raise ApiError(400, "bad.request", f"At most {cfg.max_ids} ids may be requested at once; got {len(ids)}.")
        chosen = _bulk(ctx, ids, state)
        if desc:
            chosen = chosen[::-1]
        total, page = len(chosen), chosen[start:start + size]
    else:
        listing = org.listing(state, ctx.divisions)
        total = len(listing)
        if state == "inactive" and cfg.inactive_cap is not None and start >= cfg.inactive_cap:
            raise ApiError(400, "bad.request",
                           f"Paging state=inactive users is limited to the first {cfg.inactive_cap} records; "
                           f"pageNumber {number} with pageSize {size} starts at record {start + 1}.")
        page = listing.indices(start, start + size, desc)
    suffix = echo_suffix(req, _ECHO + ("id",)) if cfg.echo_params_in_uris else ""
    return numbered_page("/api/v2/users", ctx.renderer.render_json(page, expand), size, number, total, suffix)


def _bulk(ctx: Context, ids: list[str], state: str) -> np.ndarray:
    """Indices of the requested ids that exist, are in `state` and visible; in listing order."""
    org, divisions = ctx.org, ctx.divisions
    found = {i for i in (org.user_index(u) for u in ids) if i is not None}
    if not found:
        return np.zeros(0, dtype=np.int64)
    idx = np.array(sorted(found), dtype=np.int64)
    keep = org.states_of(idx) != PURGED
    if state != "any":
        keep &= org.states_of(idx) == STATE_CODES[state]
    if divisions is not None:
        keep &= np.isin(org.divisions_of(idx), list(divisions))
    idx = idx[keep]
    if len(idx) == 0:
        return idx
    listing = org.listing("any")
    order = listing.indices(0, len(listing))
    return order[np.isin(order, idx)]


def query_users(ctx: Context) -> dict:
    """GET /api/v2/users/query: cursor paging that never skips or repeats a user under churn."""
    if ctx.divisions is not None:
        raise missing_permissions("directory:user:view in all divisions")
    req, cfg, org = ctx.request, ctx.config, ctx.org
    size = page_size(req, 25, cfg.max_page_size)
    state = state_param(req)
    expand = expand_param(req.params("expand"), EXPAND_VALUES)
    desc = sort_desc(req)
    cursor = req.param("cursor") or None
    listing = org.listing(state)
    start = 0 if cursor is None else listing.offset_after(decode_cursor(_CURSOR_KIND, cursor, org.seed), desc)
    page = listing.indices(start, start + size, desc)
    more = start + len(page) < len(listing)
    suffix = echo_suffix(req, _ECHO) if cfg.echo_params_in_uris else ""
    body: dict = {"entities": ctx.renderer.render_json(page, expand)}
    next_cursor = None
    if more and len(page):
        last_key = int(listing.keys(start + len(page) - 1, start + len(page), desc)[0])
        next_cursor = encode_cursor(_CURSOR_KIND, last_key, org.seed)
        body["nextUri"] = f"/api/v2/users/query?pageSize={size}&cursor={next_cursor}{suffix}"
    body["selfUri"] = f"/api/v2/users/query?pageSize={size}" + (f"&cursor={cursor}" if cursor else "") + suffix
    body["results"] = len(page)
    if next_cursor:
        body["cursor"] = next_cursor
    return body


def get_user(ctx: Context) -> dict:
    """GET /api/v2/users/{userId}: O(1) via the id codec; 404 for unknown or purged users."""
    req, org = ctx.request, ctx.org
    user_id = ctx.path_params[0]
    expand = expand_param(req.params("expand"), EXPAND_VALUES)
    state = (req.param("state") or "active").lower()
    if state not in ("active", "inactive", "deleted", "any"):
        raise invalid_value(req.param("state"), "state", "active, inactive, deleted, any")
    index = org.user_index(user_id)
    if index is None:
        raise ApiError(404, "not.found")
    code = int(org.states_of(np.array([index]))[0])
    visible = {"active": code != DELETED, "inactive": code == INACTIVE, "deleted": code == DELETED, "any": True}
    if not visible[state]:
        raise ApiError(404, "not.found")
    if ctx.divisions is not None and int(org.divisions_of(np.array([index]))[0]) not in ctx.divisions:
        raise ApiError(404, "not.found")
    return ctx.renderer.render(np.array([index]), expand)[0]


def search_users(ctx: Context) -> dict:
    """POST /api/v2/users/search (JSON body) and GET /api/v2/users/search?q64=... (replay)."""
    req, cfg = ctx.request, ctx.config
    if req.method == "POST":
        try:
            body = orjson.loads(req.body or b"null")
        except orjson.JSONDecodeError:
            raise ApiError(400, "bad.request", "The request body is not valid JSON.") from None
    else:
        token = req.param("q64")
        if not token:
            raise ApiError(400, "bad.request", "The q64 parameter is required.")
        body = search.decode_q64(token)
        extra = req.params("expand")
        if extra and isinstance(body, dict):
            body = {**body, "expand": sorted(set(body.get("expand") or []) | set(extra))}
    query = search.parse_request(body, cfg.search_max_page_size, EXPAND_VALUES, cfg.page_below_one)
    hits = ctx.search.matches(query, ctx.divisions)
    size, number = query.page_size, query.page_number
    start = (number - 1) * size
    page = hits[start:start + size]
    count = math.ceil(len(hits) / size) if len(hits) else 0
    out: dict = {"total": len(hits), "pageCount": count, "pageSize": size, "pageNumber": number}
    if number > 1:
        out["previousPage"] = search.page_uri(query.raw, number - 1)
    out["currentPage"] = search.page_uri(query.raw, number)
    if number < count:
        out["nextPage"] = search.page_uri(query.raw, number + 1)
    out["types"] = ["users"]
    out["results"] = ctx.renderer.render_json(page, frozenset(query.expand))
    return out
