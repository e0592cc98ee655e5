"""Seeded fault injection: every kind, determinism, shares, stats, and the token endpoint."""

from __future__ import annotations

import httpx
import orjson
import pytest

from genesys_nb.sandbox import Faults
from genesys_nb.sandbox.faults import FaultPlan

from .helpers import assert_error


def _statuses(sb, n=40, **params) -> list[int]:
    out = []
    with sb.http_client() as api:
        for _ in range(n):
            try:
                out.append(api.get("/api/v2/users", params=params or None).status_code)
            except httpx.RemoteProtocolError:
                out.append(0)
    return out


def test_server_errors(make_sandbox):
    sb = make_sandbox(users=30, faults=Faults(server_errors=1.0))
    seen = set()
    with sb.http_client() as api:
        for _ in range(30):
            r = api.get("/api/v2/users")
            seen.add(r.status_code)
            body = r.json()
            assert body["status"] == r.status_code and body["contextId"] == r.headers["ININ-Correlation-Id"]
            assert body["code"] in ("bad.gateway", "service.unavailable", "request.timeout")
            assert "Retry-After" not in r.headers
    assert seen == {502, 503, 504}
    assert sb.stats.faults == {"server_error": 30}


def test_drops_in_process(make_sandbox):
    sb = make_sandbox(users=30, faults=Faults(drops=1.0))
    with sb.http_client() as api, pytest.raises(httpx.RemoteProtocolError):
        api.get("/api/v2/users")
    assert sb.stats.faults == {"drop": 1} and sb.request_log[-1].status == 0


def test_truncated_bodies(make_sandbox):
    sb = make_sandbox(users=100, faults=Faults(truncated=1.0))
    with sb.http_client() as api:
        r = api.get("/api/v2/users", params={"pageSize": 50})
    assert r.status_code == 200 and r.headers["Content-Length"] == str(len(r.content))
    assert r.content.startswith(b'{"entities":[')
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(r.content)


def test_truncation_only_hits_successes(make_sandbox):
    sb = make_sandbox(users=10, faults=Faults(truncated=1.0))
    with sb.http_client() as api:
        r = api.get("/api/v2/users", params={"pageSize": 0})
    assert_error(r, 400, "invalid.value")
    assert sb.stats.faults == {}


def test_non_json_gateway_page(make_sandbox):
    sb = make_sandbox(users=10, faults=Faults(non_json=1.0))
    with sb.http_client() as api:
        r = api.get("/api/v2/users")
    assert r.status_code == 200 and r.headers["Content-Type"].startswith("text/html")
    assert r.text.lstrip().startswith("<html>")


@pytest.mark.parametrize("retry_after", [0, 1, 7])
def test_rate_limit_storm(make_sandbox, retry_after):
    sb = make_sandbox(users=10, faults=Faults(rate_limit_storm=1.0, storm_retry_after=retry_after))
    with sb.http_client() as api:
        r = api.get("/api/v2/users")
    body = assert_error(r, 429, "too.many.requests.retry.after")
    assert r.headers["Retry-After"] == str(retry_after)
    assert body["message"] == f"Rate limit exceeded the maximum. Retry the request in [{retry_after}] seconds"
    s = sb.stats
    assert s.storm_429s == 1 and s.rate_limited == 0 and s.faults == {"rate_limit_storm": 1}


def test_token_expiry_every(make_sandbox):
    sb = make_sandbox(users=10, faults=Faults(token_expiry_every=3))
    with sb.http_client() as api:
        codes = [api.get("/api/v2/users").status_code for _ in range(4)]
        assert codes == [200, 200, 401, 401]  # revoked for good, not just once
        token = api.post("/oauth/token", data={"grant_type": "client_credentials"},
                         auth=("sandbox-client", "sandbox-secret")).json()["access_token"]
        api.headers["Authorization"] = f"Bearer {token}"
        assert api.get("/api/v2/users").status_code == 200  # request 5
        assert_error(api.get("/api/v2/users"), 401, "bad.credentials")  # request 6
    assert sb.stats.faults == {"token_expiry": 2} and sb.stats.unauthorized == 3


def test_forbidden_at(make_sandbox):
    sb = make_sandbox(users=10, faults=Faults(forbidden_at=(2, 4)))
    codes = _statuses(sb, 5)
    assert codes == [200, 403, 200, 403, 200]
    assert sb.stats.forbidden == 2 and sb.stats.faults == {"forbidden": 2}


def test_shares_mix_and_determinism(make_sandbox):
    faults = Faults(seed=5, server_errors=0.1, drops=0.1, truncated=0.1, non_json=0.1, rate_limit_storm=0.1)
    a = _statuses(make_sandbox(users=10, faults=faults), 300)
    b = _statuses(make_sandbox(users=10, faults=faults), 300)
    c = _statuses(make_sandbox(users=10, faults=Faults(seed=6, server_errors=0.1, drops=0.1, truncated=0.1,
                                                       non_json=0.1, rate_limit_storm=0.1)), 300)
    assert a == b and a != c
    plan = FaultPlan(faults)
    kinds = [plan.decide(n) for n in range(1, 5001)]
    for kind in ("server_error", "drop", "truncated", "non_json", "rate_limit_storm"):
        assert 0.08 < kinds.count(kind) / 5000 < 0.12, kind
    assert 0.47 < kinds.count(None) / 5000 < 0.53


def test_faults_do_not_touch_the_token_endpoint_by_default(make_sandbox):
    sb = make_sandbox(users=10, faults=Faults(server_errors=1.0))
    with httpx.Client(transport=sb.transport()) as http:
        r = http.post("https://login.x/oauth/token", data={"grant_type": "client_credentials"},
                      auth=("sandbox-client", "sandbox-secret"))
    assert r.status_code == 200


def test_faults_on_the_token_endpoint_when_asked(make_sandbox):
    sb = make_sandbox(users=10, faults=Faults(server_errors=1.0, apply_to_token_endpoint=True))
    with httpx.Client(transport=sb.transport()) as http:
        r = http.post("https://login.x/oauth/token", data={"grant_type": "client_credentials"},
                      auth=("sandbox-client", "sandbox-secret"))
    assert r.status_code in (502, 503, 504)
    assert sb.stats.faults == {"server_error": 1} and sb.stats.token_requests == 1


def test_invalid_fault_config():
    with pytest.raises(ValueError):
        Faults(server_errors=0.7, drops=0.5)
    with pytest.raises(ValueError):
        Faults(drops=-0.1)
    with pytest.raises(ValueError):
        Faults(token_expiry_every=0)
