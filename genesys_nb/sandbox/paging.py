"""Parameter parsing and paging envelopes shared by the listing endpoints.

Page-number listings (`/users`, `/groups`, `/authorization/divisions`) answer with relative
`firstUri/selfUri/nextUri/previousUri/lastUri`, pageSize first; opaque cursors (`/users/query`,
`/teams` `after`, external-contact scans) are a value plus a seeded check, base64url-encoded.
"""

from __future__ import annotations

import base64
import math
import struct
from typing import Any
from urllib.parse import quote

from .errors import ApiError, invalid_value
from .hashing import hash_int
from .messages import Request

STATES = ("active", "inactive", "deleted", "any")
_SORT = {"asc": False, "ascending": False, "desc": True, "descending": True}


def int_param(req: Request, name: str, default: int) -> int:
    """An integer query parameter; 400 invalid.value when it is not one."""
    raw = req.param(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise invalid_value(raw, name, "integer") from None


def page_size(req: Request, default: int, maximum: int, name: str = "pageSize", minimum: int = 1) -> int:
    """pageSize within [minimum, maximum], else 400 invalid.value."""
    size = int_param(req, name, default)
    if not minimum <= size <= maximum:
        raise invalid_value(size, name, f"{minimum} to {maximum}")
    return size


def page_number(req: Request, below_one: str) -> int:
    """pageNumber (default 1); below 1 is clamped to 1 or a 400, per configuration."""
    number = int_param(req, "pageNumber", 1)
    if number < 1:
        if below_one == "error":
            raise invalid_value(number, "pageNumber", "1 or greater")
        return 1
    return number


def state_param(req: Request, default: str = "active") -> str:
    """state in active|inactive|deleted|any (case-insensitive)."""
    raw = req.param("state")
    if raw is None or raw == "":
        return default
    state = raw.lower()
    if state not in STATES:
        raise invalid_value(raw, "state", ", ".join(STATES))
    return state


def sort_desc(req: Request) -> bool:
    """sortOrder ASC|DESC|ascending|descending (case-insensitive); True for descending."""
    raw = req.param("sortOrder")
    if raw is None or raw == "":
        return False
    desc = _SORT.get(raw.lower())
    if desc is None:
        raise invalid_value(raw, "sortOrder", "ASC, DESC, ascending, descending")
    return desc


def expand_param(values: list[str], allowed: tuple[str, ...]) -> frozenset[str]:
    """Validated expand values; an unknown one is a 400 naming the allowed values."""
    for value in values:
        if value not in allowed:
            raise invalid_value(value, "expand", ", ".join(allowed))
    return frozenset(values)


def echo_suffix(req: Request, names: tuple[str, ...]) -> str:
    """`&name=value` for each of `names` present in the request (for echoed URIs)."""
    parts = []
    for name in names:
        value = req.param(name)
        values = req.params(name) if name in ("expand", "id") else ([value] if value else [])
        if values:
            parts.append(f"&{name}={quote(','.join(values), safe=',')}")
    return "".join(parts)


def numbered_page(path: str, entities: Any, size: int, number: int, total: int, suffix: str = "") -> dict:
    """A page-number listing envelope (SDK key order); URIs relative, pageSize first."""
    count = math.ceil(total / size) if total else 0

    def uri(n: int) -> str:
        return f"{path}?pageSize={size}&pageNumber={n}{suffix}"

    body: dict[str, Any] = {"entities": entities, "pageSize": size, "pageNumber": number, "total": total,
                            "firstUri": uri(1), "selfUri": uri(number)}
    if number < count:
        body["nextUri"] = uri(number + 1)
    if number > 1:
        body["previousUri"] = uri(number - 1)
    body["lastUri"] = uri(max(count, 1))
    body["pageCount"] = count
    return body


def encode_cursor(kind: str, value: int, seed: int) -> str:
    """An opaque cursor for a signed 64-bit value, checked on the way back."""
    check = hash_int(value & (2**64 - 1), seed, _kind_salt(kind)) & 0xFFFFFFFF
    return base64.urlsafe_b64encode(struct.pack(">qI", value, check)).decode().rstrip("=")


def decode_cursor(kind: str, token: str, seed: int, field: str = "cursor") -> int:
    """The value of a cursor made by encode_cursor, or 400 for anything else."""
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        value, check = struct.unpack(">qI", raw)
    except (ValueError, struct.error):
        raise ApiError(400, "bad.request", f"The {field} [{token}] is not valid.") from None
    if check != hash_int(value & (2**64 - 1), seed, _kind_salt(kind)) & 0xFFFFFFFF:
        raise ApiError(400, "bad.request", f"The {field} [{token}] is not valid.")
    return value


def _kind_salt(kind: str) -> int:
    return 0xC0 + sum(ord(c) for c in kind)
