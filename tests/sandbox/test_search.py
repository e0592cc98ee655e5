"""POST /api/v2/users/search and GET ?q64=: criteria, operators, paging tokens and limits."""

from __future__ import annotations

import base64
import gzip
import json
from urllib.parse import unquote

import numpy as np
import pytest

from genesys_nb.sandbox.records import Renderer

from .helpers import assert_error

SEARCH = "/api/v2/users/search"


@pytest.fixture(scope="module")
def big(request):
    from genesys_nb.sandbox import Sandbox
    sb = Sandbox(users=3000, rate_limit=None)
    everyone = Renderer(sb.org).render(np.arange(3000), frozenset({"dateLastLogin"}))
    with sb.http_client() as api:
        yield sb, api, everyone


def _search(api, *criteria, **body):
    body.setdefault("pageSize", 100)
    r = api.post(SEARCH, json={"query": list(criteria), **body})
    assert r.status_code == 200, r.text
    return r.json()


def _all_ids(api, *criteria, **body) -> list[str]:
    page = _search(api, *criteria, **body)
    ids = [u["id"] for u in page["results"]]
    while "nextPage" in page:
        page = api.get(page["nextPage"]).json()
        ids += [u["id"] for u in page["results"]]
    return ids


def _expect(everyone, pred, states=("active",)) -> list[str]:
    return [u["id"] for u in everyone if u["state"] in states and pred(u)]


def test_envelope_and_q64_tokens(big):
    sb, api, everyone = big
    body = _search(api, {"type": "CONTAINS", "fields": ["name"], "value": "an"}, pageSize=10)
    assert list(body) == ["total", "pageCount", "pageSize", "pageNumber", "currentPage", "nextPage", "types",
                          "results"]
    assert body["types"] == ["users"] and body["pageNumber"] == 1 and body["pageSize"] == 10
    assert body["pageCount"] == -(-body["total"] // 10)
    token = body["nextPage"].split("q64=")[1]
    assert body["nextPage"].startswith(f"{SEARCH}?q64=H4sI")
    request = json.loads(gzip.decompress(base64.b64decode(unquote(token))))
    assert request["pageNumber"] == 2 and request["query"][0]["value"] == "an"
    second = api.get(body["nextPage"]).json()
    assert second["pageNumber"] == 2 and second["previousPage"].startswith(f"{SEARCH}?q64=")
    assert {u["id"] for u in second["results"]}.isdisjoint(u["id"] for u in body["results"])


def test_paging_to_the_end_returns_total_exactly_once(big):
    sb, api, everyone = big
    crit = {"type": "STARTS_WITH", "fields": ["email"], "value": "m"}
    ids = _all_ids(api, crit, pageSize=37)
    assert ids == _expect(everyone, lambda u: u.get("email", "").startswith("m"))
    last = _search(api, crit, pageSize=37, pageNumber=-(-len(ids) // 37))
    assert "nextPage" not in last and last["total"] == len(ids)


def test_exact_contains_starts_with(big):
    sb, api, everyone = big
    target = next(u for u in everyone if u["state"] == "active" and "email" in u)
    assert [u["id"] for u in _search(api, {"type": "EXACT", "fields": ["id"], "value": target["id"]})["results"]] \
        == [target["id"]]
    assert target["id"] in _all_ids(api, {"type": "EXACT", "fields": ["email"], "values": [target["email"].upper()]})
    assert _all_ids(api, {"type": "CONTAINS", "fields": ["name", "title"], "value": "lead"}) == \
        _expect(everyone, lambda u: "lead" in u["name"].lower() or "lead" in u.get("title", "").lower())
    assert _all_ids(api, {"type": "STARTS_WITH", "fields": ["department"], "values": ["bill", "sal"]}) == \
        _expect(everyone, lambda u: u.get("department", "").lower().startswith(("bill", "sal")))


def test_exact_address_lookups_find_duplicates(big):
    sb, api, everyone = big
    active = [u for u in everyone if u["state"] == "active" and "email" in u]
    emails = [u["email"] for u in active]
    dup = next(e for e in emails if emails.count(e) > 1)
    assert _all_ids(api, {"type": "EXACT", "fields": ["email"], "value": dup}) == \
        [u["id"] for u in active if u["email"] == dup]
    names = [active[3]["username"], active[9]["username"].upper(), "nobody@nowhere.example"]
    assert _all_ids(api, {"type": "TERMS", "fields": ["username"], "values": names}) == \
        [active[3]["id"], active[9]["id"]]
    assert _all_ids(api, {"type": "EXACT", "fields": ["email", "username"], "value": "x.y99999999@z"}) == []


def test_range_on_dates_and_numbers(big):
    sb, api, everyone = big
    crit = {"type": "RANGE", "fields": ["dateLastLogin"], "startValue": "2025-12-10T00:00:00.000Z",
            "endValue": "2025-12-20"}
    assert _all_ids(api, crit) == _expect(
        everyone, lambda u: "2025-12-10T00:00:00.000Z" <= u.get("dateLastLogin", "") <= "2025-12-20T00:00:00.000Z")
    assert _all_ids(api, {"type": "RANGE", "fields": ["version"], "startValue": 3, "endValue": "4"}) == \
        _expect(everyone, lambda u: 3 <= u["version"] <= 4)
    assert _all_ids(api, {"type": "GREATER_THAN", "fields": ["version"], "value": 10}) == \
        _expect(everyone, lambda u: u["version"] > 10)
    assert_error(api.post(SEARCH, json={"query": [{"type": "RANGE", "fields": ["dateLastLogin"],
                                                   "startValue": "yesterday"}]}), 400, "invalid.date")


def test_operators_and_nested_groups(big):
    sb, api, everyone = big
    sales = {"type": "EXACT", "fields": ["department"], "value": "Sales"}
    agent = {"type": "EXACT", "fields": ["title"], "value": "Agent"}
    lead = {"type": "EXACT", "fields": ["title"], "value": "Team Lead"}
    assert _all_ids(api, sales, {**agent, "operator": "NOT"}) == \
        _expect(everyone, lambda u: u.get("department") == "Sales" and u.get("title") != "Agent")
    assert _all_ids(api, {**agent, "operator": "OR"}, {**lead, "operator": "OR"}) == \
        _expect(everyone, lambda u: u.get("title") in ("Agent", "Team Lead"))
    nested = {"operator": "AND", "group": [{**agent, "operator": "OR"}, {**lead, "operator": "OR"}]}
    assert _all_ids(api, sales, nested) == \
        _expect(everyone, lambda u: u.get("department") == "Sales" and u.get("title") in ("Agent", "Team Lead"))


def test_state_and_division_criteria(big):
    sb, api, everyone = big
    states = {"type": "EXACT", "fields": ["state"], "values": ["inactive", "deleted"]}
    assert _all_ids(api, states) == _expect(everyone, lambda u: True, ("inactive", "deleted"))
    div = sb.org.division_ids[2]
    assert _all_ids(api, {"type": "EXACT", "fields": ["division.id"], "value": div}) == \
        _expect(everyone, lambda u: u["division"]["id"] == div)
    assert _all_ids(api, {"type": "MATCH_ALL"}) == _expect(everyone, lambda u: True)
    required = _all_ids(api, {"type": "REQUIRED_FIELDS", "fields": ["email"]})
    assert required == _expect(everyone, lambda u: "email" in u)


def test_sort_by_and_expand(big):
    sb, api, everyone = big
    crit = {"type": "STARTS_WITH", "fields": ["name"], "value": "a"}
    body = _search(api, crit, sortBy="name", sortOrder="DESC", expand=["skills"], pageSize=100)
    names = [u["name"].lower() for u in body["results"]]
    assert names == sorted(names, reverse=True) and all("skills" in u for u in body["results"])
    replay = api.get(body["currentPage"]).json()
    assert replay["results"] == body["results"]
    with_expand = api.get(body["currentPage"] + "&expand=groups").json()
    assert all("groups" in u and "skills" in u for u in with_expand["results"])


@pytest.mark.parametrize("body,code", [
    ({"query": [{"type": "MATCH_ALL"}] * 11}, "bad.request"),
    ({"query": [{"type": "FUZZY", "fields": ["name"], "value": "x"}]}, "invalid.value"),
    ({"query": [{"type": "EXACT", "fields": ["shoeSize"], "value": "x"}]}, "invalid.value"),
    ({"query": [{"type": "EXACT", "fields": ["name"]}]}, "bad.request"),
    ({"query": [{"type": "EXACT", "fields": ["name"], "value": "x", "operator": "XOR"}]}, "invalid.value"),
    ({"query": [{"type": "EXACT", "fields": ["name"], "values": ["x"] * 51}]}, "bad.request"),
    ({"query": [{"type": "MATCH_ALL"}], "pageSize": 101}, "invalid.value"),
    ({"query": [{"type": "MATCH_ALL"}], "sortBy": "shoeSize"}, "invalid.value"),
    ({"query": [{"type": "MATCH_ALL"}], "expand": ["bogus"]}, "invalid.value"),
    ([1, 2], "bad.request"),
])
def test_bad_requests(big, body, code):
    assert_error(big[1].post(SEARCH, json=body), 400, code)


def test_bad_json_and_bad_q64(big):
    api = big[1]
    assert_error(api.post(SEARCH, content=b"{nope", headers={"Content-Type": "application/json"}), 400,
                 "bad.request")
    assert_error(api.get(SEARCH, params={"q64": "H4sInotreally"}), 400, "bad.request")
    assert_error(api.get(SEARCH), 400, "bad.request")


def test_ten_criteria_is_fine_and_default_page_size(big):
    body = _search(big[1], *[{"type": "MATCH_ALL"}] * 10, pageSize=None)
    assert body["pageSize"] == 25 and len(body["results"]) == 25


def test_matches_are_cached_per_query(big):
    sb, api, _ = big
    crit = {"type": "CONTAINS", "fields": ["username"], "value": "9"}
    first = _search(api, crit)
    cached = len(sb.app.search._cache)
    api.get(first["nextPage"])
    assert len(sb.app.search._cache) == cached  # page 2 reused the matching list


def test_search_page_size_limit_configurable(make_sandbox):
    with make_sandbox(users=200, search_max_page_size=200).http_client() as api:
        body = api.post(SEARCH, json={"query": [{"type": "MATCH_ALL"}], "pageSize": 200}).json()
    assert body["pageSize"] == 200
