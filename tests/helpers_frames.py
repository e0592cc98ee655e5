"""Shared fakes for the frames, scan, export and CLI tests: synthetic users, a counting transport, and streams.

The records have the shape of the real API's User JSON (camelCase, null fields left out, expand data only when
asked). The transport serves ``/api/v2/users`` by page number (``pageSize``, ``pageNumber``, ``state``,
``expand``), counts every request with its parameters, and can fail from a given page on.
"""

from __future__ import annotations

import hashlib
from typing import Any

import httpx

from genesys_nb.errors import ServerError
from genesys_nb._paging.stream import Plan, Stream, fingerprint
from genesys_nb.resources.users import USERS
from genesys_nb._paging.paginators import PageNumberPaginator
from genesys_nb._http.transport import Response

STATES = ("active", "active", "active", "active", "active", "active", "inactive", "inactive", "deleted")
DEPARTMENTS = ("Sales", "Support", "Billing", "IT", "Field Sales")


def _uid(i: int) -> str:
    h = hashlib.md5(str(i).encode()).hexdigest()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def iso(day: int, second: int = 0) -> str:
    return (f"2025-{1 + day % 12:02d}-{1 + day % 28:02d}T{second % 24:02d}:{second % 60:02d}:{(day * 7) % 60:02d}"
            f".{day % 1000:03d}Z")


def make_user(i: int, expand: tuple[str, ...] = ()) -> dict:
    """User number ``i`` as the API would return it (deterministic)."""
    uid = _uid(i)
    user: dict[str, Any] = {
        "id": uid, "name": f"User {i}",
        "division": {"id": f"div-{i % 3}", "name": ("Home", "East", "West")[i % 3],
                     "selfUri": f"/api/v2/authorization/divisions/div-{i % 3}"},
        "chat": {"jabberId": f"{uid[:8]}@org.orgspan.com"},
    }
    if i % 10:
        user["department"] = DEPARTMENTS[i % len(DEPARTMENTS)]
    primary = []
    if i % 50:
        user["email"] = f"user{i}@example.com"
        primary.append({"address": f"user{i}@example.com", "mediaType": "EMAIL", "type": "PRIMARY"})
    addresses = []
    if i % 7:
        phone = {"address": f"+1317555{i % 10000:04d}", "display": f"+1 317-555-{i % 10000:04d}",
                 "mediaType": "PHONE", "type": "PRIMARY"}
        primary.append(phone)
        addresses.append({**phone, "type": "WORK", "countryCode": "US"})
    elif i % 2:
        addresses.append({"display": str(1000 + i), "mediaType": "PHONE", "type": "WORK2", "extension": str(1000 + i)})
    user["primaryContactInfo"] = primary
    user["addresses"] = addresses
    user["state"] = STATES[i % len(STATES)]
    if i % 9:
        user["title"] = "Agent"
    user["username"] = f"user{i}@example.com"
    if i:
        user["manager"] = {"id": _uid(i // 8), "selfUri": f"/api/v2/users/{_uid(i // 8)}"}
    user["images"] = [{"resolution": "x96", "imageUri": f"https://img.example/{uid}.jpg"}]
    user["version"] = 1 + i % 12
    if "employerInfo" in expand:
        user["employerInfo"] = {"officialName": f"User {i}", "employeeId": f"E{i:07d}", "employeeType": "Full-time",
                                "dateHire": f"20{10 + i % 15}-0{1 + i % 9}-1{i % 10}"}
    if "routingStatus" in expand:
        user["routingStatus"] = {"userId": uid, "status": "IDLE", "startTime": iso(i, i)}
    if "presence" in expand:
        user["presence"] = {"source": "PURECLOUD", "primary": True,
                            "presenceDefinition": {"id": "p1", "systemPresence": "Available", "selfUri": "/x"},
                            "message": "", "modifiedDate": iso(i + 1, i), "selfUri": "/p"}
    if "authorization" in expand:
        user["authorization"] = {"roles": [{"id": "r1", "name": "employee"}] * (i % 3),
                                 "permissions": ["directory:user:view"] if i % 3 else []}
    if "locations" in expand:
        user["locations"] = [{"id": "loc1", "locationDefinition": {"id": "loc1", "name": "Indy", "selfUri": "/l"}}]
    if "groups" in expand:
        user["groups"] = [{"id": f"g{j}", "name": f"Group {j}", "selfUri": f"/api/v2/groups/g{j}"}
                          for j in range(i % 4)]
    if "skills" in expand:
        user["skills"] = [{"id": f"s{j}", "name": f"Skill {j}", "proficiency": float(1 + j), "state": "active",
                           "skillUri": "/s", "selfUri": "/s"} for j in range(i % 3)]
    if "languages" in expand:
        user["languages"] = [{"id": "l0", "name": "English", "proficiency": 5.0, "state": "active"}]
    if "profileSkills" in expand:
        user["profileSkills"] = ["Java", "SQL"][: i % 3]
    if "someFutureThing" in expand:
        user["someFutureThing"] = {"whatever": [1, 2, 3]}
    user["acdAutoAnswer"] = i % 10 == 0
    if "dateLastLogin" in expand and i % 20:
        user["dateLastLogin"] = iso(i, i * 3)
    if "dateWelcomeSent" in expand:
        user["dateWelcomeSent"] = iso(i + 2, i)
    user["selfUri"] = f"/api/v2/users/{uid}"
    return user


class FakeUsersTransport:
    """Serves ``GET /api/v2/users`` by page number over ``n`` synthetic users, counting requests.

    ``fail_at``: page numbers (1-based, counted per request path) that raise ``ServerError`` (as the real transport
    does once retries are exhausted), ``fail_times`` times each (default: always)."""

    def __init__(self, n: int, *, fail_at: tuple[int, ...] = (), fail_times: int | None = None) -> None:
        self.n = n
        self.requests: list[dict] = []
        self.fail_at = set(fail_at)
        self.fail_times = fail_times
        self._failed: dict[int, int] = {}
        self._cache: dict[tuple, list[dict]] = {}

    def users(self, state: str = "any", expand: tuple[str, ...] = ()) -> list[dict]:
        key = (state, tuple(expand))
        if key not in self._cache:
            every = [make_user(i, tuple(expand)) for i in range(self.n)]
            self._cache[key] = [u for u in every if state == "any" or u["state"] == state]
        return self._cache[key]

    def request(self, method: str, path: str, params: dict | None = None, json: Any = None) -> Response:
        params = dict(params or {})
        self.requests.append({"method": method, "path": path, **params})
        size = int(params.get("pageSize", 25))
        number = int(params.get("pageNumber", 1))
        if number in self.fail_at and (self.fail_times is None or self._failed.get(number, 0) < self.fail_times):
            self._failed[number] = self._failed.get(number, 0) + 1
            raise ServerError(f"The API kept failing at {path} (injected at page {number}).", status=503)
        expand = tuple(e for e in str(params.get("expand", "")).split(",") if e)
        users = self.users(params.get("state", "active"), expand)
        entities = users[(number - 1) * size: number * size]
        count = max(1, -(-len(users) // size))
        body = {"entities": entities, "pageSize": size, "pageNumber": number, "total": len(users),
                "pageCount": count}
        return Response(body, 200, httpx.Headers(), 1000 * len(entities), 1, 0, path)


def users_stream(transport: FakeUsersTransport, *, state: str = "any", expand: tuple[str, ...] = (),
                 page_size: int = 10, max_items: int | None = None, resume: str | None = None,
                 kind: str | None = "users") -> Stream:
    """A real :class:`Stream` over the fake transport, set up the way ``client.users()`` sets its streams up."""
    params: dict[str, Any] = {"pageSize": page_size, "state": state}
    if expand:
        params["expand"] = ",".join(expand)
    if max_items:
        params["pageSize"] = min(page_size, max_items)

    def reopen(token: str | None) -> Stream:
        return users_stream(transport, state=state, expand=expand, page_size=page_size, max_items=max_items,
                            resume=token, kind=kind)

    def total_hint() -> int | None:
        return len(transport.users(state))

    stream = Stream(transport, [Plan(PageNumberPaginator("/api/v2/users", params, items_key="entities"))],
                    fingerprint=fingerprint("users", state, expand, page_size), max_items=max_items, resume=resume,
                    reopen=reopen, total_hint=total_hint)
    stream.table = USERS if kind == "users" else None
    stream.expand = tuple(expand)
    return stream


def expected_ids(transport: FakeUsersTransport, state: str = "any") -> list[str]:
    return [u["id"] for u in transport.users(state)]
