"""The limited client: no all-division view, so /users/query is 403 and listings are filtered."""

from __future__ import annotations

import numpy as np
import pytest

from genesys_nb.sandbox import OAuthClient

from .helpers import assert_error, page_all


@pytest.fixture
def limited(sb):
    with sb.http_client("limited-client") as client:
        yield client


def _in_divisions(sb, state: str, divisions: set[int]) -> list[str]:
    ids = sb.org.ids(state)
    idx = np.array([sb.org.user_index(u) for u in ids], dtype=np.int64)
    keep = np.isin(sb.org.divisions_of(idx), list(divisions)) if len(idx) else np.zeros(0, bool)
    return [u for u, k in zip(ids, keep.tolist()) if k]


def test_users_query_forbidden(limited):
    body = assert_error(limited.get("/api/v2/users/query"), 403, "missing.permissions")
    assert "directory:user:view" in body["message"] and "all divisions" in body["message"]


def test_users_listing_only_its_divisions(sb, limited):
    for state in ("active", "any"):
        expected = _in_divisions(sb, state, {0, 1})
        first = limited.get("/api/v2/users", params={"state": state, "pageSize": 100}).json()
        assert first["total"] == len(expected) and first["pageCount"] == -(-len(expected) // 100)
        assert [u["id"] for u in page_all(limited, state=state, pageSize=100)] == expected
    names = {u["division"]["name"] for u in page_all(limited, state="any", pageSize=500)}
    assert names == {sb.org.division_names[0], sb.org.division_names[1]}


def test_search_only_its_divisions(sb, limited):
    body = limited.post("/api/v2/users/search", json={"query": [{"type": "MATCH_ALL"}], "pageSize": 100}).json()
    assert body["total"] == len(_in_divisions(sb, "active", {0, 1}))


def test_user_outside_its_divisions_is_not_found(sb, limited):
    outside = _in_divisions(sb, "active", {2, 3, 4, 5})[0]
    inside = _in_divisions(sb, "active", {0, 1})[0]
    assert_error(limited.get(f"/api/v2/users/{outside}"), 404, "not.found")
    assert limited.get(f"/api/v2/users/{inside}").status_code == 200
    body = limited.get("/api/v2/users", params={"id": f"{outside},{inside}"}).json()
    assert [u["id"] for u in body["entities"]] == [inside]


def test_custom_limited_client_by_division_name(make_sandbox):
    client = OAuthClient("eu", "eu-secret", all_divisions=False, divisions=("EMEA",))
    sb = make_sandbox(users=300, clients=(client,))
    with sb.http_client("eu") as api:
        users = page_all(api, state="any", pageSize=500)
    assert users and {u["division"]["name"] for u in users} == {"EMEA"}
    assert sb.default_client.client_id == "eu"


def test_full_client_sees_everything(sb, api):
    assert api.get("/api/v2/users", params={"state": "any"}).json()["total"] == 600
    assert api.get("/api/v2/users/query").status_code == 200
