"""User records: default fields, expand shapes, date format, audit dirt, render speed, prerender."""

from __future__ import annotations

import re
import statistics
import time
from collections import Counter

import numpy as np
import orjson
import pytest

from genesys_nb.sandbox import SandboxConfig
from genesys_nb.sandbox.org import Org
from genesys_nb.sandbox.records import EXPAND_VALUES, Renderer

DATE_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
DEFAULT_ALWAYS = ["id", "name", "division", "chat", "primaryContactInfo", "addresses", "state", "username",
                  "version", "acdAutoAnswer", "selfUri"]
DEFAULT_SOMETIMES = ["email", "department", "title", "manager", "images"]
SDK_KEY_ORDER = ["id", "name", "division", "chat", "department", "email", "primaryContactInfo", "addresses",
                 "state", "title", "username", "manager", "images", "version", "certifications", "biography",
                 "employerInfo", "preferredName", "routingStatus", "presence", "integrationPresence",
                 "conversationSummary", "outOfOffice", "geolocation", "station", "authorization", "profileSkills",
                 "locations", "groups", "team", "workPlanBidRanks", "skills", "languages", "acdAutoAnswer",
                 "languagePreference", "lastTokenIssued", "dateLastLogin", "dateWelcomeSent", "selfUri"]
N = 20_000


@pytest.fixture(scope="module")
def org() -> Org:
    return Org(SandboxConfig(users=N))


@pytest.fixture(scope="module")
def users(org) -> list[dict]:
    return Renderer(org).render(np.arange(N), frozenset({"authorization", "dateLastLogin"}))


def _no_nulls(value) -> bool:
    if isinstance(value, dict):
        return all(v is not None and _no_nulls(v) for v in value.values())
    if isinstance(value, list):
        return all(_no_nulls(v) for v in value)
    return True


def test_default_fields(org):
    users = Renderer(org).render(np.arange(2000))
    for u in users:
        assert set(DEFAULT_ALWAYS) <= set(u) <= set(DEFAULT_ALWAYS + DEFAULT_SOMETIMES)
        assert list(u) == [k for k in SDK_KEY_ORDER if k in u]
        assert u["selfUri"] == f"/api/v2/users/{u['id']}"
        assert set(u["division"]) == {"id", "name", "selfUri"}
        assert u["division"]["selfUri"] == f"/api/v2/authorization/divisions/{u['division']['id']}"
        assert u["chat"]["jabberId"].endswith(".orgspan.com")
        assert u["state"] in ("active", "inactive", "deleted")
        assert isinstance(u["version"], int) and isinstance(u["acdAutoAnswer"], bool)
        assert "images" not in u or (u["images"] and all(set(i) == {"resolution", "imageUri"} for i in u["images"]))
        for c in u["primaryContactInfo"] + u["addresses"]:
            assert c["mediaType"] in ("EMAIL", "PHONE", "SMS") and c["type"] in ("PRIMARY", "WORK", "WORK2")
        if "email" in u:
            assert {"address": u["email"], "mediaType": "EMAIL", "type": "PRIMARY"} in u["primaryContactInfo"]
        assert _no_nulls(u)
    for key in DEFAULT_SOMETIMES:  # optional fields are there for most users, missing for some
        share = sum(key in u for u in users) / len(users)
        assert 0.5 < share < 0.995, key


def test_usernames_unique_and_names_realistic(users):
    assert len({u["username"] for u in users}) == N
    assert all(re.match(r"^[A-Z][a-z]+ [A-Z][a-z]+$", u["name"]) for u in users[:500])


def test_every_expand_value_is_accepted_and_shapes(org):
    users = Renderer(org).render(np.arange(300), frozenset(EXPAND_VALUES))
    for u in users:
        assert list(u) == [k for k in SDK_KEY_ORDER if k in u]
        assert _no_nulls(u)
        assert set(u["employerInfo"]) == {"officialName", "employeeId", "employeeType", "dateHire"}
        assert u["routingStatus"]["userId"] == u["id"] and DATE_RE.match(u["routingStatus"]["startTime"])
        assert u["presence"]["presenceDefinition"]["systemPresence"]
        assert set(u["authorization"]) >= {"roles", "permissions", "unusedRoles"}
        assert all(set(r) == {"id", "name"} for r in u["authorization"]["roles"])
        for s in u["skills"]:
            assert set(s) == {"id", "name", "proficiency", "state", "skillUri", "selfUri"}
        assert u["languages"] and all("languageUri" in lang for lang in u["languages"])
        assert all(set(g) == {"id", "name", "selfUri"} for g in u["groups"])
        assert u["locations"][0]["locationDefinition"]["name"]
        assert isinstance(u["profileSkills"], list) and isinstance(u["certifications"], list)
        assert isinstance(u["languagePreference"], str)
        for key in ("dateLastLogin", "dateWelcomeSent"):
            assert key not in u or DATE_RE.match(u[key])
        assert "lastTokenIssued" not in u or DATE_RE.match(u["lastTokenIssued"]["dateIssued"])
    assert any("biography" in u for u in users) and not all("biography" in u for u in users)
    assert any(u["groups"] for u in users) and any(u["skills"] for u in users)


def test_expand_fields_absent_by_default(org):
    u = Renderer(org).render(np.arange(50))
    expand_keys = set(SDK_KEY_ORDER) - set(DEFAULT_ALWAYS) - set(DEFAULT_SOMETIMES)
    assert not any(expand_keys & set(x) for x in u)


def test_dirt_no_email_and_duplicates(users):
    no_email = sum("email" not in u for u in users) / N
    assert 0.012 < no_email < 0.03
    counts = Counter(u["email"] for u in users if "email" in u)
    in_dupes = sum(c for c in counts.values() if c > 1) / N
    assert 0.01 < in_dupes < 0.03  # ~1% reuse another user's address, so ~2% of users share one


def test_dirt_never_logged_in(users):
    never = sum("dateLastLogin" not in u for u in users) / N
    assert 0.035 < never < 0.065


def test_dirt_inactive_managers_with_active_reports(users):
    by_id = {u["id"]: u for u in users}
    cases = [u for u in users if u["state"] == "active" and "manager" in u
             and by_id[u["manager"]["id"]]["state"] != "active"]
    assert len(cases) > 0.05 * N


def test_dirt_deactivated_users_holding_roles(users):
    # Everyone holds the default `employee` role; what deactivated users should have lost is the rest.
    assert all("employee" in {r["name"] for r in u["authorization"]["roles"]} for u in users)
    gone = [u for u in users if u["state"] != "active"]
    holding = [u for u in gone if {r["name"] for r in u["authorization"]["roles"]} - {"employee"}]
    assert 0.2 < len(holding) / len(gone) < 0.6
    assert all(len(u["authorization"]["roles"]) >= 2 for u in users if u["state"] == "active")


def test_render_speed_page_of_500():
    org = Org(SandboxConfig(users=1_000_000))
    renderer = Renderer(org)
    listing = org.listing("any")
    times = []
    for k in range(7):
        t = time.perf_counter()
        orjson.dumps({"entities": renderer.render_json(listing.indices(k * 500, k * 500 + 500))})
        times.append(time.perf_counter() - t)
    assert statistics.median(times) < 0.05, times


def test_prerender_gives_identical_bytes(org):
    plain, cached = Renderer(org), Renderer(org, prerender=True)
    idx = np.arange(100, 400)
    assert cached.prerender_all() == N
    for expand in (frozenset(), frozenset({"skills", "dateLastLogin"})):
        assert orjson.dumps(plain.render_json(idx, expand)) == orjson.dumps(cached.render_json(idx, expand))
    cached.forget([100])
    assert orjson.dumps(plain.render_json(idx)) == orjson.dumps(cached.render_json(idx))
