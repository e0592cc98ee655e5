"""Audit query jobs (states, settings, cursor results) and Sandbox.advance()."""

from __future__ import annotations

import polars as pl
import pytest

from genesys_nb.sandbox import truth

from .helpers import assert_error, page_all

INTERVAL = "2025-12-01T00:00:00Z/2026-01-01T00:00:00Z"


def _submit(api, **body) -> str:
    resp = api.post("/api/v2/audits/query", json={"interval": INTERVAL, **body})
    assert resp.status_code == 200 and resp.json()["state"] == "Queued", resp.text
    return resp.json()["id"]


def _states(api, tid: str, n: int) -> list[str]:
    return [api.get(f"/api/v2/audits/query/{tid}").json()["state"] for _ in range(n)]


def _results(api, tid: str, **params) -> tuple[list[dict], dict]:
    out, cursor = [], None
    while True:
        body = api.get(f"/api/v2/audits/query/{tid}/results", params={**params, **({"cursor": cursor} if cursor else {})}).json()
        out += body["entities"]
        cursor = body.get("cursor")
        if not cursor:
            return out, body


def test_job_states_then_results(sb, api):
    tid = _submit(api, serviceName="Groups")
    assert_error(api.get(f"/api/v2/audits/query/{tid}/results"), 400, "bad.request")
    assert _states(api, tid, 5) == ["Queued", "Running", "Running", "Succeeded", "Succeeded"]
    first = api.get(f"/api/v2/audits/query/{tid}/results").json()
    assert list(first) == ["id", "pageSize", "cursor", "entities"] and first["pageSize"] == 25
    events, last = _results(api, tid, pageSize=7)
    assert "cursor" not in last
    assert events and len({e["id"] for e in events}) == len(events)
    assert {e["serviceName"] for e in events} == {"Groups"}
    dates = [e["eventDate"] for e in events]
    assert dates == sorted(dates) and dates[0] >= "2025-12-01" and dates[-1] < "2026-01-01"
    assert_error(api.get(f"/api/v2/audits/query/{tid}/results", params={"pageSize": 501}), 400, "invalid.value")
    assert_error(api.get(f"/api/v2/audits/query/{tid}/results", params={"cursor": "junk"}), 400, "bad.request")


def test_filters_and_sort(sb, api):
    tid = _submit(api, filters=[{"property": "Action", "value": "MemberAdd"}],
                  sort=[{"name": "Timestamp", "sortOrder": "descending"}])
    _states(api, tid, 4)
    events, _ = _results(api, tid, pageSize=500)
    assert events and {e["action"] for e in events} == {"MemberAdd"}
    dates = [e["eventDate"] for e in events]
    assert dates == sorted(dates, reverse=True)
    assert_error(api.post("/api/v2/audits/query", json={"interval": "yesterday"}), 400, "bad.request")
    assert_error(api.post("/api/v2/audits/query", json={"interval": INTERVAL, "filters": [{"property": "Nope",
                                                                                          "value": "x"}]}),
                 400, "bad.request")


@pytest.mark.parametrize("outcome", ["Failed", "Cancelled", "never"])
def test_outcome_settings(make_sandbox, outcome):
    sb = make_sandbox(users=50, audit_outcome=outcome, audit_queued_polls=0, audit_running_polls=1)
    with sb.http_client() as api:
        tid = _submit(api)
        final = "Running" if outcome == "never" else outcome
        assert _states(api, tid, 4) == ["Running", final, final, final]
        assert_error(api.get(f"/api/v2/audits/query/{tid}/results"), 400, "bad.request")


@pytest.mark.parametrize("style,check", [("empty", lambda b: b["cursor"] == ""), ("null", lambda b: b["cursor"] is None)])
def test_last_cursor_settings(make_sandbox, style, check):
    sb = make_sandbox(users=50, audit_last_cursor=style, audit_queued_polls=0, audit_running_polls=0)
    with sb.http_client() as api:
        tid = _submit(api)
        _states(api, tid, 1)
        events, last = _results(api, tid, pageSize=500)
        assert events and check(last)


def test_servicemapping_and_permission(sb, api):
    body = api.get("/api/v2/audits/query/servicemapping").json()
    names = {s["name"] for s in body["services"]}
    assert {"PeoplePermissions", "Groups", "Routing"} <= names
    with sb.http_client("limited-client") as other:
        assert other.get("/api/v2/audits/query/servicemapping").status_code == 200
    assert_error(api.get("/api/v2/audits/query/00000000-0000-4000-8000-000000000000"), 404, "not.found")


def test_advance_changes_are_served(make_sandbox):
    sb = make_sandbox(users=800)
    before_now = sb.org.now_ms
    before_roles = truth.user_roles(sb)
    ch = sb.advance(days=90)
    assert sb.changes is ch and sb.org.now_ms == before_now + 90 * 86_400_000
    for name in ("joiners", "leavers", "changes", "roles_granted", "roles_revoked", "group_members_added",
                 "group_members_removed", "queue_members_added", "queue_members_removed", "user_licenses_added",
                 "user_licenses_removed"):
        assert getattr(ch, name).height > 0, name
    assert set(ch.changes["field"]) == {"state", "division", "manager", "email", "title", "department"}
    assert ch.roles_granted.columns == ["user_id", "role_id", "division_id", "via"]
    after_roles = truth.user_roles(sb)
    rebuilt = pl.concat([before_roles.join(ch.roles_revoked, on=before_roles.columns, how="anti"), ch.roles_granted])
    assert set(rebuilt.rows()) == set(after_roles.rows())
    with sb.http_client() as api:
        users = page_all(api, state="any", pageSize=500, expand="authorization,groups,dateLastLogin")
        assert {u["id"] for u in users} >= set(ch.joiners["user_id"])
        by_id = {u["id"]: u for u in users}
        assert all(by_id[u]["state"] != "active" for u in ch.leavers["user_id"] if u in by_id)
        for uid, field, _, new in ch.changes.filter(pl.col("field") == "email").rows():
            assert by_id[uid].get("email") == new
        assert max(u.get("dateLastLogin", "") for u in users) > "2026-02-01"
        granted = ch.roles_granted.filter(pl.col("via") == "direct").row(0)
        got = api.get(f"/api/v2/authorization/subjects/{granted[0]}", params={"includeDuplicates": "true"}).json()
        assert (granted[1], granted[2]) in {(g["role"]["id"], g["division"]["id"]) for g in got["grants"]}
        qadd = ch.queue_members_added.row(0)
        members = []
        number = 1
        while True:
            body = api.get(f"/api/v2/routing/queues/{qadd[0]}/members", params={"pageSize": 100, "pageNumber": number}).json()
            members += [m["id"] for m in body["entities"]]
            if not body.get("nextUri"):
                break
            number += 1
        assert qadd[1] in members
    assert all(truth.dirt(sb).values())


def test_advance_is_deterministic(make_sandbox):
    a, b = make_sandbox(users=300), make_sandbox(users=300)
    ca, cb = a.advance(30), b.advance(30)
    assert ca.changes.equals(cb.changes) and ca.roles_granted.equals(cb.roles_granted)
    assert a.advance(30).changes.equals(b.advance(30).changes)
    assert a.org.ids("any") == b.org.ids("any")
