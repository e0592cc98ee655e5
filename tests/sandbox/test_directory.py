"""GET /users/{id}, divisions, groups, organizations/me, teams (after), contact scans (cursor), 404s."""

from __future__ import annotations

import numpy as np
import pytest

from genesys_nb.sandbox.records import Renderer

from .helpers import assert_error, page_all


def test_user_by_id(sb, api):
    uid = sb.org.ids("active")[7]
    body = api.get(f"/api/v2/users/{uid}").json()
    assert body["id"] == uid and body["selfUri"] == f"/api/v2/users/{uid}"
    assert body == Renderer(sb.org).render(np.array([sb.org.user_index(uid)]))[0]
    expanded = api.get(f"/api/v2/users/{uid}", params={"expand": "groups,authorization"}).json()
    assert "groups" in expanded and "authorization" in expanded


def test_user_by_id_states(sb, api):
    inactive, deleted = sb.org.ids("inactive")[0], sb.org.ids("deleted")[0]
    assert api.get(f"/api/v2/users/{inactive}").json()["state"] == "inactive"
    assert_error(api.get(f"/api/v2/users/{deleted}"), 404, "not.found")
    assert api.get(f"/api/v2/users/{deleted}", params={"state": "deleted"}).json()["state"] == "deleted"
    assert_error(api.get(f"/api/v2/users/{inactive}", params={"state": "bogus"}), 400, "invalid.value")


@pytest.mark.parametrize("uid", ["00000000-0000-4000-8000-000000000000", "nope", "x" * 36])
def test_user_by_id_unknown(api, uid):
    body = assert_error(api.get(f"/api/v2/users/{uid}"), 404, "not.found")
    assert body["message"] == "The requested operation failed with status 404"


def test_user_beyond_org_size_is_unknown(make_sandbox):
    sb = make_sandbox(users=10)
    uid = sb.org.codec.encode(10)
    with sb.http_client() as api:
        assert_error(api.get(f"/api/v2/users/{uid}"), 404, "not.found")


def test_divisions(sb, api):
    body = api.get("/api/v2/authorization/divisions").json()
    assert body["total"] == 6 and body["pageCount"] == 1 and "nextUri" not in body
    assert body["entities"][0]["name"] == "Home" and body["entities"][0]["homeDivision"] is True
    assert [d["id"] for d in body["entities"]] == sb.org.division_ids
    one = api.get(f"/api/v2/authorization/divisions/{sb.org.division_ids[3]}").json()
    assert one == body["entities"][3]
    paged = api.get("/api/v2/authorization/divisions", params={"pageSize": 4, "pageNumber": 2}).json()
    assert len(paged["entities"]) == 2 and paged["previousUri"] == "/api/v2/authorization/divisions?pageSize=4&pageNumber=1"


def test_groups_listing_and_member_counts(sb, api):
    groups = page_all(api, "/api/v2/groups", pageSize=7)
    assert len(groups) == 40 == len({g["id"] for g in groups})
    expanded = page_all(api, state="any", expand="groups", pageSize=500)
    counts = {g["id"]: 0 for g in groups}
    for u in expanded:
        for g in u["groups"]:
            counts[g["id"]] += 1
    assert {g["id"]: g["memberCount"] for g in groups} == counts
    one = api.get(f"/api/v2/groups/{groups[5]['id']}").json()
    assert one == groups[5]
    assert_error(api.get("/api/v2/groups/not-a-group"), 404, "not.found")


def test_organization_me(sb, api):
    body = api.get("/api/v2/organizations/me").json()
    assert body["id"] == sb.org.org_id and body["state"] == "active"
    assert body["selfUri"] == f"/api/v2/organizations/{body['id']}"


def test_teams_after_paging(sb, api):
    first = api.get("/api/v2/teams").json()
    assert list(first) == ["entities", "nextUri", "selfUri"] and len(first["entities"]) == 25
    assert first["selfUri"] == "/api/v2/teams?pageSize=25" and "&after=" in first["nextUri"]
    seen, uri = [], "/api/v2/teams?pageSize=25"
    while uri:
        body = api.get(uri).json()
        seen += [t["id"] for t in body["entities"]]
        uri = body.get("nextUri")
    assert len(seen) == 57 == len(set(seen))
    assert_error(api.get("/api/v2/teams", params={"after": "bogus"}), 400, "bad.request")


def test_contact_scan_cursor_paging(sb, api):
    first = api.get("/api/v2/externalcontacts/scan/contacts").json()
    assert len(first["entities"]) == 100 and first["cursors"]["after"] in first["nextUri"]
    seen, params = [], {"limit": 200}
    while True:
        body = api.get("/api/v2/externalcontacts/scan/contacts", params=params).json()
        seen += [c["id"] for c in body["entities"]]
        after = body.get("cursors", {}).get("after")
        if not after:
            assert "nextUri" not in body
            break
        params = {"limit": 200, "cursor": after}
    assert len(seen) == 1234 == len(set(seen))
    for limit in (9, 201):
        assert_error(api.get("/api/v2/externalcontacts/scan/contacts", params={"limit": limit}), 400, "invalid.value")
    assert_error(api.get("/api/v2/externalcontacts/scan/contacts", params={"cursor": "zzz"}), 400, "bad.request")


def test_small_listing_sizes_configurable(make_sandbox):
    with make_sandbox(users=1, teams=3, contacts=15).http_client() as api:
        assert len(api.get("/api/v2/teams").json()["entities"]) == 3
        body = api.get("/api/v2/externalcontacts/scan/contacts", params={"limit": 10}).json()
        body2 = api.get("/api/v2/externalcontacts/scan/contacts",
                        params={"limit": 10, "cursor": body["cursors"]["after"]}).json()
        assert len(body2["entities"]) == 5 and "cursors" not in body2


@pytest.mark.parametrize("path", ["/api/v2/nope", "/api/v2/users/a/b/c", "/", "/api/v2"])
def test_unknown_paths(api, path):
    assert_error(api.get(path), 404, "not.found")


def test_wrong_method_is_not_found(api):
    assert_error(api.delete("/api/v2/users"), 404, "not.found")
