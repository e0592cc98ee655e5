"""Helpers shared by the sandbox tests."""

from __future__ import annotations

from typing import Any

import httpx


def page_all(client: httpx.Client, path: str = "/api/v2/users", **params: Any) -> list[dict]:
    """Follow page numbers to the end of a page-number listing; returns all entities."""
    out, number = [], 1
    while True:
        body = client.get(path, params={**params, "pageNumber": number}).json()
        out += body["entities"]
        if "nextUri" not in body:
            return out
        number += 1


def cursor_all(client: httpx.Client, **params: Any) -> list[dict]:
    """Follow /api/v2/users/query cursors to the end (same params each time); returns all entities."""
    out, body = [], client.get("/api/v2/users/query", params=params).json()
    while True:
        out += body["entities"]
        if "cursor" not in body:
            assert "nextUri" not in body
            return out
        assert body["nextUri"].endswith(f"cursor={body['cursor']}")
        body = client.get("/api/v2/users/query", params={**params, "cursor": body["cursor"]}).json()


def assert_error(resp: httpx.Response, status: int, code: str) -> dict:
    """The response is an ErrorBody with this status and code, contextId = correlation id."""
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert list(body) == ["message", "code", "status", "contextId", "details", "errors"]
    assert body["status"] == status and body["code"] == code, body
    assert body["contextId"] == resp.headers["ININ-Correlation-Id"]
    assert body["details"] == [] and body["errors"] == [] and body["message"]
    return body
