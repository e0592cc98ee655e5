"""GET /api/v2/users/query: cursor paging, its envelope, errors and permissions."""

from __future__ import annotations

import pytest

from .helpers import assert_error, cursor_all


def test_defaults_and_envelope(sb, api):
    body = api.get("/api/v2/users/query").json()
    assert list(body) == ["entities", "nextUri", "selfUri", "results", "cursor"]
    assert body["results"] == 25 == len(body["entities"])
    assert [u["id"] for u in body["entities"]] == sb.org.ids("active")[:25]
    assert body["nextUri"] == f"/api/v2/users/query?pageSize=25&cursor={body['cursor']}"
    assert body["selfUri"] == "/api/v2/users/query?pageSize=25"
    nxt = api.get(body["nextUri"]).json()
    assert nxt["selfUri"] == f"/api/v2/users/query?pageSize=25&cursor={body['cursor']}"


@pytest.mark.parametrize("state", ["active", "inactive", "deleted", "any"])
def test_page_through_each_state(sb, api, state):
    assert [u["id"] for u in cursor_all(api, state=state, pageSize=77)] == sb.org.ids(state)


@pytest.mark.parametrize("order", ["DESC", "descending"])
def test_descending(sb, api, order):
    got = [u["id"] for u in cursor_all(api, state="any", pageSize=100, sortOrder=order)]
    assert got == sb.org.ids("any")[::-1]


def test_last_page_has_no_cursor_and_no_empty_tail(sb, api):
    body = api.get("/api/v2/users/query", params={"state": "any", "pageSize": 300}).json()
    last = api.get("/api/v2/users/query", params={"state": "any", "pageSize": 300, "cursor": body["cursor"]}).json()
    assert last["results"] == 300 and "cursor" not in last and "nextUri" not in last


def test_cursor_is_followed_with_other_state_params(sb, api):
    first = api.get("/api/v2/users/query", params={"state": "inactive", "pageSize": 10}).json()
    assert "state" not in first["nextUri"]  # echo is off by default, like the real example
    second = api.get("/api/v2/users/query", params={"state": "inactive", "pageSize": 10,
                                                     "cursor": first["cursor"]}).json()
    assert [u["id"] for u in first["entities"] + second["entities"]] == sb.org.ids("inactive")[:20]


def test_echo_params_when_configured(make_sandbox):
    with make_sandbox(users=100, echo_params_in_uris=True).http_client() as api:
        body = api.get("/api/v2/users/query", params={"state": "any", "pageSize": 10, "expand": "groups"}).json()
    assert body["nextUri"] == f"/api/v2/users/query?pageSize=10&cursor={body['cursor']}&state=any&expand=groups"


@pytest.mark.parametrize("cursor", ["garbage", "AAAA", "AAAAAAAgAAAXuD8P", "!!!"])
def test_malformed_cursor(api, cursor):
    assert_error(api.get("/api/v2/users/query", params={"cursor": cursor}), 400, "bad.request")


def test_page_size_bounds_and_expand(api):
    assert_error(api.get("/api/v2/users/query", params={"pageSize": 501}), 400, "invalid.value")
    assert_error(api.get("/api/v2/users/query", params={"expand": "nope"}), 400, "invalid.value")
    body = api.get("/api/v2/users/query", params={"expand": "skills", "pageSize": 3}).json()
    assert all("skills" in u for u in body["entities"])


def test_empty_org(make_sandbox):
    with make_sandbox(users=0).http_client() as api:
        body = api.get("/api/v2/users/query").json()
    assert body == {"entities": [], "selfUri": "/api/v2/users/query?pageSize=25", "results": 0}
