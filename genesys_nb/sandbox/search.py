"""User search (`POST /api/v2/users/search`, `GET ...?q64=`): request validation, q64 tokens,
and the cache of matching index lists (criteria themselves are evaluated in `criteria.py`).

Matching lists are cached per query, so paging a search over a big org is cheap after the first
page. A query that never names `state` covers `search_default_states` only (unconfirmed in the
real API, so configurable).
"""

from __future__ import annotations

import base64
import gzip
import re
import threading
import zlib
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import numpy as np
import orjson

from .criteria import COMPARE_TYPES, evaluate
from .errors import ApiError, invalid_value
from .org import Org
from .traits import STATE_CODES

TEXT_TYPES = ("EXACT", "STARTS_WITH", "CONTAINS", "REGEX", "TERM", "TERMS", "QUERY_STRING")
CRITERIA_TYPES = TEXT_TYPES[:6] + ("REQUIRED_FIELDS", "MATCH_ALL", "QUERY_STRING") + COMPARE_TYPES
FIELDS = ("id", "name", "email", "username", "state", "department", "title", "division.id", "division.name",
          "dateLastLogin", "version")
OPERATORS = ("AND", "OR", "NOT")
SORT_ORDERS = ("ASC", "DESC", "SCORE")
MAX_CRITERIA = 10
MAX_VALUES = 50
_CACHE_SIZE = 32


@dataclass(frozen=True)
class SearchQuery:
    """A validated UserSearchRequest."""

    raw: dict
    criteria: tuple
    page_size: int
    page_number: int
    sort_by: str | None
    sort_order: str
    expand: tuple[str, ...]

    def cache_key(self) -> bytes:
        """What decides the matching list (not the page)."""
        return orjson.dumps([self.raw.get("query") or [], self.sort_by, self.sort_order], option=orjson.OPT_SORT_KEYS)


def parse_request(body: Any, max_page_size: int, expand_allowed: tuple[str, ...], below_one: str) -> SearchQuery:
    """Validate a UserSearchRequest body; 400 with the real error codes when it is wrong."""
    if not isinstance(body, dict):
        raise ApiError(400, "bad.request", "The request body must be a UserSearchRequest object.")
    query = body.get("query") or []
    if not isinstance(query, list):
        raise invalid_value(query, "query", "a list of UserSearchCriteria")
    if len(query) > MAX_CRITERIA:
        raise ApiError(400, "bad.request", f"The query may contain at most {MAX_CRITERIA} criteria; got {len(query)}.")
    for crit in query:
        _validate(crit)
    size = _int_field(body, "pageSize", 25)
    if not 1 <= size <= max_page_size:
        raise invalid_value(size, "pageSize", f"1 to {max_page_size}")
    number = _int_field(body, "pageNumber", 1)
    if number < 1:
        if below_one == "error":
            raise invalid_value(number, "pageNumber", "1 or greater")
        number = 1
    sort_by, sort_order = body.get("sortBy"), str(body.get("sortOrder") or "ASC").upper()
    sort = body.get("sort")
    if sort_by is None and isinstance(sort, list) and sort and isinstance(sort[0], dict):
        sort_by, sort_order = sort[0].get("sortBy"), str(sort[0].get("sortOrder") or sort_order).upper()
    if sort_order not in SORT_ORDERS:
        raise invalid_value(sort_order, "sortOrder", ", ".join(SORT_ORDERS))
    if sort_by is not None and sort_by not in FIELDS:
        raise invalid_value(sort_by, "sortBy", ", ".join(FIELDS))
    expand = body.get("expand") or []
    if isinstance(expand, str):
        expand = [e for e in expand.split(",") if e]
    for value in expand:
        if value not in expand_allowed:
            raise invalid_value(value, "expand", ", ".join(expand_allowed))
    return SearchQuery(body, tuple(orjson.dumps(c) for c in query), size, number, sort_by, sort_order,
                       tuple(expand))


def _int_field(body: dict, name: str, default: int) -> int:
    value = body.get(name, default)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise invalid_value(value, name, "integer")
    try:
        return int(value)
    except ValueError:
        raise invalid_value(value, name, "integer") from None


def _validate(crit: Any, depth: int = 0) -> None:
    if not isinstance(crit, dict):
        raise invalid_value(crit, "query", "UserSearchCriteria objects")
    operator = str(crit.get("operator") or "AND").upper()
    if operator not in OPERATORS:
        raise invalid_value(crit.get("operator"), "operator", ", ".join(OPERATORS))
    group = crit.get("group")
    if group is not None:
        if not isinstance(group, list) or depth > 8:
            raise invalid_value(group, "group", "a list of UserSearchCriteria")
        for sub in group:
            _validate(sub, depth + 1)
        if crit.get("type") is None:
            return
    ctype = crit.get("type")
    if ctype not in CRITERIA_TYPES:
        raise invalid_value(ctype, "type", ", ".join(CRITERIA_TYPES))
    fields = crit.get("fields") or []
    if ctype not in ("MATCH_ALL", "QUERY_STRING") and not fields:
        raise ApiError(400, "bad.request", f"Criteria of type {ctype} need at least one field.")
    for name in fields:
        if name not in FIELDS:
            raise invalid_value(name, "fields", ", ".join(FIELDS))
    values = crit.get("values") or []
    if len(values) > MAX_VALUES:
        raise ApiError(400, "bad.request", f"A criterion may have at most {MAX_VALUES} values; got {len(values)}.")
    if ctype in TEXT_TYPES and crit.get("value") is None and not values:
        raise ApiError(400, "bad.request", f"Criteria of type {ctype} need a value or values.")
    if ctype == "RANGE" and crit.get("startValue") is None and crit.get("endValue") is None:
        raise ApiError(400, "bad.request", "RANGE criteria need a startValue or an endValue.")
    if ctype in COMPARE_TYPES[1:] and crit.get("value") is None:
        raise ApiError(400, "bad.request", f"Criteria of type {ctype} need a value.")
    if ctype == "REGEX":
        for pattern in values or [crit.get("value")]:
            try:
                re.compile(str(pattern))
            except re.error:
                raise invalid_value(pattern, "value", "a valid regular expression") from None


def _names_state(criteria: list) -> bool:
    for crit in criteria:
        if "state" in (crit.get("fields") or []) or _names_state(crit.get("group") or []):
            return True
    return False


# -- q64 tokens -----------------------------------------------------------------------------
def encode_q64(raw: dict, page_number: int) -> str:
    """URL-encoded base64 of the gzip of the request JSON with this pageNumber."""
    blob = orjson.dumps({**raw, "pageNumber": page_number}, option=orjson.OPT_SORT_KEYS)
    return quote(base64.b64encode(gzip.compress(blob, mtime=0)).decode(), safe="")


def decode_q64(token: str) -> Any:
    """The request JSON inside a q64 token (already URL-decoded), or 400."""
    try:
        return orjson.loads(gzip.decompress(base64.b64decode(token.replace(" ", "+"), validate=True)))
    except (ValueError, OSError, EOFError, zlib.error, orjson.JSONDecodeError):
        raise ApiError(400, "bad.request", "The q64 parameter is not a valid search token.") from None


def page_uri(raw: dict, page_number: int) -> str:
    """`/api/v2/users/search?q64=...` for one page of a search."""
    return f"/api/v2/users/search?q64={encode_q64(raw, page_number)}"


# -- matching ---------------------------------------------------------------------------------
class SearchIndex:
    """Evaluates queries over the org and caches the matching index lists."""

    def __init__(self, org: Org, default_states: tuple[str, ...]) -> None:
        self.org = org
        self.default_states = np.array([STATE_CODES[s] for s in default_states], dtype=np.uint8)
        self._cache: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._lock = threading.Lock()

    def matches(self, query: SearchQuery, divisions: frozenset[int] | None) -> np.ndarray:
        """User indices matching `query`, sorted as requested (cached)."""
        key = (query.cache_key(), divisions, self.org.version)
        with self._lock:
            hit = self._cache.get(key)
            if hit is not None:
                self._cache.move_to_end(key)
                return hit
        result = self._evaluate(query, divisions)
        with self._lock:
            self._cache[key] = result
            while len(self._cache) > _CACHE_SIZE:
                self._cache.popitem(last=False)
        return result

    def _evaluate(self, query: SearchQuery, divisions: frozenset[int] | None) -> np.ndarray:
        listing = self.org.listing("any", divisions)
        universe = listing.indices(0, len(listing))
        criteria = query.raw.get("query") or []
        mask, cols = evaluate(criteria, self.org, universe)
        if not _names_state(criteria):
            mask &= np.isin(cols.states, self.default_states)
        hits = np.flatnonzero(mask)
        if query.sort_by is not None and query.sort_order != "SCORE":
            rank, missing = cols.sort_rank(query.sort_by, hits)
            if query.sort_order == "DESC":
                rank = -rank
            hits = hits[np.lexsort((hits, rank, missing))]
        elif query.sort_order == "DESC":
            hits = hits[::-1]
        return universe[hits]
