"""Access-review endpoints: shapes, defaults, caps, paging to the end, filters, permissions, and
agreement with the ground truth in `truth.py`."""

from __future__ import annotations

import time

import polars as pl

from genesys_nb.sandbox import truth

from .helpers import assert_error, page_all

A = ["entities", "pageSize", "pageNumber", "total", "firstUri", "selfUri", "lastUri", "pageCount"]
B = ["entities", "pageSize", "pageNumber", "total", "pageCount"]


def _keys_a(body: dict) -> None:
    assert set(A) <= set(body) <= set(A) | {"nextUri", "previousUri"}, list(body)


def _queue_members_all(api, qid: str, **params) -> list[dict]:
    out, number = [], 1
    while True:
        body = api.get(f"/api/v2/routing/queues/{qid}/members", params={**params, "pageNumber": number}).json()
        assert set(body) <= {"entities", "pageNumber", "pageSize", "firstUri", "selfUri", "nextUri", "previousUri"}
        out += body["entities"]
        if not body.get("nextUri"):
            return out
        number += 1


def test_roles_listing(sb, api):
    body = api.get("/api/v2/authorization/roles").json()
    _keys_a(body)
    assert body["pageSize"] == 25 and body["pageNumber"] == 1 and 12 <= body["total"] <= 20
    by_name = {r["name"]: r for r in body["entities"]}
    emp = by_name["employee"]
    assert emp["defaultRoleId"] == "employee" and emp["default"] is True and emp["base"] is True
    assert emp["userCount"] == sb.org.size  # everyone holds employee in Home
    master = by_name["Master Admin"]
    actions = {(p["domain"], p["entityName"]): p["actionSet"] for p in master["permissionPolicies"]}
    assert ("authorization", "role") in actions and "*" not in str(actions)
    assert set(actions[("authorization", "grant")]) == {"add", "delete", "view"}
    assert {"Admin", "Supervisor", "Agent", "Quality Evaluator", "Reporting Admin", "Trusted User"} <= set(by_name)
    expected = truth.roles(sb)
    assert dict(zip(expected["name"], expected["user_count"])) == {r["name"]: r["userCount"] for r in body["entities"]}
    paged = page_all(api, "/api/v2/authorization/roles", pageSize=4, userCount="false")
    assert [r["id"] for r in paged] == [r["id"] for r in body["entities"]] and "userCount" not in paged[0]
    one = api.get("/api/v2/authorization/roles", params={"defaultRoleId": "employee", "pageSize": 1}).json()
    assert one["total"] == 1 and one["entities"][0]["id"] == emp["id"]
    assert api.get("/api/v2/authorization/roles", params={"name": "admin"}).json()["total"] >= 3
    assert api.get(f"/api/v2/authorization/roles/{emp['id']}").json() == emp


def test_subjectgrants_and_role_users_match_truth(sb, api):
    grants = truth.role_grants(sb)
    for role_id in truth.roles(sb)["role_id"].to_list()[:6]:
        got = page_all(api, f"/api/v2/authorization/roles/{role_id}/subjectgrants", pageSize=50)
        assert len({s["id"] for s in got}) == len(got)
        assert {s["type"] for s in got} <= {"PC_USER", "PC_GROUP"}
        rows = {(s["id"], d["id"]) for s in got for d in s["divisions"]}
        exp = grants.filter(pl.col("role_id") == role_id)
        assert rows == set(zip(exp["subject_id"], exp["division_id"]))
        users, number = [], 1
        while True:
            body = api.get(f"/api/v2/authorization/roles/{role_id}/users", params={"pageNumber": number}).json()
            assert list(body) == B
            users += [u["id"] for u in body["entities"]]
            if number >= body["pageCount"]:
                break
            number += 1
        assert set(users) == set(exp.filter(pl.col("subject_type") == "user")["subject_id"])
    assert "*" in set(grants["division_id"])


def test_subject_grants_with_and_without_duplicates(sb, api):
    ur = truth.user_roles(sb)
    via_group = ur.filter(pl.col("via") != "direct")["user_id"][0]
    mine = ur.filter(pl.col("user_id") == via_group)
    full = api.get(f"/api/v2/authorization/subjects/{via_group}", params={"includeDuplicates": "true"}).json()
    assert list(full) == ["id", "name", "grants", "version", "selfUri"]
    got = {(g["role"]["id"], g["division"]["id"], g["subjectId"]) for g in full["grants"]}
    exp = {(r, d, via_group if v == "direct" else v) for r, d, v in mine.select("role_id", "division_id", "via").rows()}
    assert got == exp
    collapsed = api.get(f"/api/v2/authorization/subjects/{via_group}").json()
    pairs = [(g["role"]["id"], g["division"]["id"]) for g in collapsed["grants"]]
    assert len(pairs) == len(set(pairs)) == len({(r, d) for r, d, _ in exp})
    assert "policies" not in collapsed["grants"][0]["role"]
    full_roles = api.get(f"/api/v2/authorization/subjects/{via_group}", params={"includeFullRoles": "true"}).json()
    assert "policies" in full_roles["grants"][0]["role"]
    gid = sb.org.group_ids[1]
    assert api.get(f"/api/v2/authorization/subjects/{gid}").json()["grants"]
    assert_error(api.get("/api/v2/authorization/subjects/nope"), 404, "not.found")


def test_home_division(sb, api):
    body = api.get("/api/v2/authorization/divisions/home").json()
    assert body["id"] == sb.org.division_ids[0] and body["homeDivision"] is True and "objectCounts" not in body


def test_groups_have_no_chat_and_members_match_truth(sb, api):
    groups = page_all(api, "/api/v2/groups", pageSize=100)
    assert all("chat" not in g for g in groups)
    assert {g["state"] for g in groups} == {"active", "inactive"} and any(g["rolesEnabled"] for g in groups)
    assert {g["visibility"] for g in groups} == {"public", "members", "owners"}
    members = truth.group_members(sb)
    for g in groups[:8]:
        exp = members.filter(pl.col("group_id") == g["id"])["user_id"].to_list()
        got = page_all(api, f"/api/v2/groups/{g['id']}/members", pageSize=7)
        assert [u["id"] for u in got] == exp and g["memberCount"] == len(exp)
        ind = api.get(f"/api/v2/groups/{g['id']}/individuals").json()
        assert [u["id"] for u in ind["entities"]] == exp
    first = api.get(f"/api/v2/groups/{groups[1]['id']}/members", params={"expand": "authorization"}).json()
    _keys_a(first)
    assert first["pageSize"] == 25 and all("authorization" in u for u in first["entities"])


def test_queues_and_members_match_truth(sb, api):
    queues = page_all(api, "/api/v2/routing/queues", pageSize=10)
    assert len(queues) == 24 == len({q["id"] for q in queues})
    assert [q["name"] for q in queues] == sorted(q["name"] for q in queues)
    qm = truth.queue_members(sb)
    for q in queues[:6]:
        got = _queue_members_all(api, q["id"], pageSize=13)
        exp = qm.filter(pl.col("queue_id") == q["id"])
        assert len(got) == len({m["id"] for m in got}) == exp.height == q["memberCount"]
        assert {(m["id"], m["joined"], m["memberBy"], m["ringNumber"], m["routingStatus"]["status"]) for m in got} == \
            set(exp.select("user_id", "joined", "member_by", "ring_number", "routing_status").rows())
        assert all(m["user"]["id"] == m["id"] for m in got)
        for mb in ("user", "group"):
            only = _queue_members_all(api, q["id"], memberBy=mb, pageSize=100)
            assert {m["memberBy"] for m in only} <= {mb}
            assert len(only) == exp.filter(pl.col("member_by") == mb).height
        unjoined = _queue_members_all(api, q["id"], joined="false")
        assert len(unjoined) == exp.filter(~pl.col("joined")).height
    assert set(qm["member_by"]) == {"user", "group"} and set(qm["ring_number"]) <= set(range(1, 7))


def test_queue_members_page_shape_and_cap(sb, api):
    qid = truth.queues(sb).sort("member_count", descending=True)["queue_id"][0]
    body = api.get(f"/api/v2/routing/queues/{qid}/members").json()
    assert list(body)[:2] == ["entities", "pageNumber"] and "total" not in body and "pageCount" not in body
    assert body["pageSize"] == 25 and "nextUri" in body
    assert_error(api.get(f"/api/v2/routing/queues/{qid}/members", params={"pageSize": 101}), 400, "invalid.value")
    last = api.get(f"/api/v2/routing/queues/{qid}/members", params={"pageSize": 100, "pageNumber": 50}).json()
    assert last["entities"] == [] and "nextUri" not in last


def test_queue_members_null_next_uri_and_clamp_settings(make_sandbox):
    sb = make_sandbox(users=200, queue_members_last_next_uri="null", over_cap="clamp")
    with sb.http_client() as api:
        qid = truth.queues(sb)["queue_id"][0]
        body = api.get(f"/api/v2/routing/queues/{qid}/members", params={"pageSize": 500}).json()
        assert body["pageSize"] == 100 and body["nextUri"] is None


def test_user_queues_skills_languages(sb, api):
    qm = truth.queue_members(sb)
    uid = qm.filter(~pl.col("joined"))["user_id"][0]
    mine = qm.filter(pl.col("user_id") == uid)
    joined = api.get(f"/api/v2/users/{uid}/queues").json()
    _keys_a(joined)
    assert {q["id"] for q in joined["entities"]} == set(mine.filter(pl.col("joined"))["queue_id"])
    assert all(q["joined"] is True for q in joined["entities"])
    unjoined = api.get(f"/api/v2/users/{uid}/queues", params={"joined": "false"}).json()
    assert {q["id"] for q in unjoined["entities"]} == set(mine.filter(~pl.col("joined"))["queue_id"])
    skills, langs = truth.user_skills(sb), truth.user_languages(sb)
    for uid in sb.org.ids("any")[:20]:
        got = api.get(f"/api/v2/users/{uid}/routingskills").json()
        _keys_a(got)
        assert {s["id"] for s in got["entities"]} == set(skills.filter(pl.col("user_id") == uid)["skill_id"])
        got = api.get(f"/api/v2/users/{uid}/routinglanguages").json()
        assert {s["id"] for s in got["entities"]} == set(langs.filter(pl.col("user_id") == uid)["language_id"])


def test_expands_agree_with_truth(sb, api):
    users = page_all(api, state="any", pageSize=500, expand="authorization,groups,skills,dateLastLogin")
    ur, gm = truth.user_roles(sb), truth.group_members(sb)
    roles = {u["id"]: {r["id"] for r in u["authorization"]["roles"]} for u in users}
    exp: dict[str, set] = {}
    for uid, rid in ur.select("user_id", "role_id").rows():
        exp.setdefault(uid, set()).add(rid)
    assert roles == exp
    groups = {(g["id"], u["id"]) for u in users for g in u["groups"]}
    assert groups == set(gm.select("group_id", "user_id").rows())
    tu = truth.users(sb)
    never = set(tu.filter(pl.col("date_last_login").is_null())["id"])
    assert {u["id"] for u in users if "dateLastLogin" not in u} == never


def test_licences(sb, api):
    lic = truth.user_licenses(sb)
    got, number = [], 1
    while True:
        body = api.get("/api/v2/license/users", params={"pageNumber": number, "pageSize": 100}).json()
        assert list(body) == B and "nextUri" not in body
        got += body["entities"]
        if number >= body["pageCount"]:
            break
        number += 1
    assert {(u["id"], x) for u in got for x in u["licenses"]} == set(lic.rows())
    assert len(got) == len({u["id"] for u in got})
    defs = api.get("/api/v2/license/definitions").json()
    assert isinstance(defs, list) and {d["id"] for d in defs} >= set(lic["license_id"])


def test_permissions_403(sb):
    with sb.http_client("no-queues-client") as api:
        for path in ("/api/v2/routing/queues", f"/api/v2/users/{sb.org.ids()[0]}/queues",
                     f"/api/v2/routing/queues/{truth.queues(sb)['queue_id'][0]}/members"):
            body = assert_error(api.get(path), 403, "missing.permissions")
            assert "routing:queue:view" in body["message"]
        assert api.get("/api/v2/authorization/roles").status_code == 200
        assert api.get("/api/v2/license/users").status_code == 200


def test_permission_wildcards(make_sandbox):
    from genesys_nb.sandbox import OAuthClient
    clients = (OAuthClient("c", "s", permissions=("authorization:*:view",)),)
    sb = make_sandbox(users=50, clients=clients)
    with sb.http_client("c") as api:
        assert api.get("/api/v2/authorization/roles").status_code == 200
        assert api.get("/api/v2/authorization/subjects/" + sb.org.ids()[0]).status_code == 200
        assert_error(api.post("/api/v2/audits/query", json={"interval": "2025-12-01T00:00:00Z/2026-01-01T00:00:00Z"}),
                     403, "missing.permissions")


def test_dirt_is_present_and_consistent(sb):
    d = truth.dirt(sb)
    expected = {"inactive_with_roles", "admin_role_inactive", "role_via_group_only", "stale_login", "never_logged_in",
                "inactive_in_queue", "licence_on_inactive", "licence_never_logged_in", "duplicate_email", "no_email",
                "inactive_manager"}
    assert set(d) == expected and all(d[k] for k in expected), {k: len(v) for k, v in d.items()}
    u = truth.users(sb)
    active = set(u.filter(pl.col("state") == "active")["id"])
    assert d["never_logged_in"] <= active and d["stale_login"] <= active and not d["admin_role_inactive"] & active
    assert not truth.dirt(sb, stale_days=10_000)["stale_login"]


def test_truth_columns_follow_the_contract(sb):
    t = truth.tables(sb)
    assert t["user_roles"].columns == ["user_id", "role_id", "division_id", "via"]
    assert t["role_grants"].columns == ["role_id", "subject_id", "subject_type", "subject_name", "division_id",
                                        "division_name"]
    assert t["queue_members"].columns == ["queue_id", "user_id", "joined", "member_by", "ring_number", "routing_status"]
    assert t["roles"].columns == ["role_id", "name", "description", "default_role_id", "permissions", "user_count",
                                  "default", "base"]
    assert t["groups"].columns[:3] == ["group_id", "name", "description"]
    assert t["queues"]["date_created"].dtype == pl.Datetime("us", "UTC")
    assert t["user_roles"].filter(pl.col("role_id") == t["roles"]["role_id"][0]).height == sb.org.size


def test_other_seed_other_org(make_sandbox):
    a, b, c = make_sandbox(users=300), make_sandbox(users=300, seed=7), make_sandbox(users=400)
    bodies = []
    for sb in (a, b, c):
        with sb.http_client() as api:
            bodies.append(api.get("/api/v2/organizations/me").json())
    assert len({x["id"] for x in bodies}) == 3
    assert bodies[0]["name"] != bodies[1]["name"]
    assert truth.user_roles(a)["user_id"].to_list() != truth.user_roles(b)["user_id"].to_list()


def test_smoke_50k_listings_page_quickly(make_sandbox):
    sb = make_sandbox(users=50_000)
    with sb.http_client() as api:
        qid = truth.queues(sb)["queue_id"][0]
        role = truth.roles(sb)["role_id"][0]
        gid = sb.org.group_ids[0]
        for path, params in (("/api/v2/authorization/roles", {}), (f"/api/v2/authorization/roles/{role}/subjectgrants", {}),
                             (f"/api/v2/routing/queues/{qid}/members", {"pageSize": 100}),
                             (f"/api/v2/groups/{gid}/members", {"pageSize": 500}), ("/api/v2/license/users", {"pageSize": 500}),
                             ("/api/v2/routing/queues", {"pageSize": 100})):
            api.get(path, params=params)  # warm the caches
            t = time.perf_counter()
            for n in (2, 3):
                assert api.get(path, params={**params, "pageNumber": n}).status_code == 200
            assert (time.perf_counter() - t) / 2 < 0.5, path
