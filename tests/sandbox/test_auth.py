"""POST /oauth/token (Basic header and form fields, error bodies and statuses) and bearer checks."""

from __future__ import annotations

import httpx
import pytest

from genesys_nb.sandbox import OAuthClient

from .helpers import assert_error

LOGIN = "https://login.mypurecloud.com/oauth/token"
GRANT = {"grant_type": "client_credentials"}


@pytest.fixture
def http(sb) -> httpx.Client:
    with httpx.Client(transport=sb.transport()) as client:
        yield client


def _token(http: httpx.Client, client_id: str = "sandbox-client", secret: str = "sandbox-secret") -> str:
    r = http.post(LOGIN, data=GRANT, auth=(client_id, secret))
    assert r.status_code == 200, r.text
    return r.json()["access_token"]


def test_basic_header_as_the_sdk_sends(http):
    r = http.post(LOGIN, content=b"grant_type=client_credentials",
                  headers={"Authorization": "Basic c2FuZGJveC1jbGllbnQ6c2FuZGJveC1zZWNyZXQ=",
                           "Content-Type": "application/x-www-form-urlencoded"})
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "bearer" and body["expires_in"] == 86399
    assert len(body["access_token"]) > 40
    assert r.headers["ININ-Correlation-Id"]


def test_form_fields_as_generic_oauth_clients_send(http):
    r = http.post(LOGIN, data={**GRANT, "client_id": "sandbox-client", "client_secret": "sandbox-secret"})
    assert r.status_code == 200 and r.json()["token_type"] == "bearer"


def test_tokens_are_opaque_and_distinct(http):
    assert _token(http) != _token(http)


def test_short_lived_client_expires_in(http):
    r = http.post(LOGIN, data=GRANT, auth=("short-lived-client", "short-lived-secret"))
    assert r.json()["expires_in"] == 3


@pytest.mark.parametrize("status", [400, 401])
@pytest.mark.parametrize("form", [False, True])
def test_invalid_client_bodies_and_configurable_status(make_sandbox, status, form):
    sb = make_sandbox(users=5, invalid_client_status=status)
    with httpx.Client(transport=sb.transport()) as http:
        for cid, secret, description in (("sandbox-client", "nope", "authentication failed"),
                                         ("who-is-this", "x", "client not found")):
            if form:
                r = http.post(LOGIN, data={**GRANT, "client_id": cid, "client_secret": secret})
            else:
                r = http.post(LOGIN, data=GRANT, auth=(cid, secret))
            assert r.status_code == status
            assert r.json() == {"error": "invalid_client", "description": description,
                                "error_description": description}


def test_wrong_or_missing_grant(http):
    r = http.post(LOGIN, data={"grant_type": "password"}, auth=("sandbox-client", "sandbox-secret"))
    assert r.status_code == 400 and r.json()["error"] == "unsupported_grant_type"
    r = http.post(LOGIN, data={}, auth=("sandbox-client", "sandbox-secret"))
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    r = http.post(LOGIN, data=GRANT)
    assert r.status_code == 400 and r.json()["error"] == "invalid_client"
    assert http.get(LOGIN).status_code == 405


def test_login_and_api_hosts_reach_the_same_app(http):
    token = _token(http)
    for base in ("https://api.mypurecloud.com", "https://api.usw2.pure.cloud", "http://localhost:1"):
        r = http.get(f"{base}/api/v2/users", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200


def test_lower_case_bearer_scheme_works(http):
    r = http.get("https://api.x/api/v2/users", headers={"Authorization": f"bearer {_token(http)}"})
    assert r.status_code == 200


def test_missing_token(http):
    r = http.get("https://api.x/api/v2/users")
    body = assert_error(r, 401, "authentication.required")
    assert body["message"] == "No authentication bearer token specified in authorization header."
    assert_error(http.get("https://api.x/api/v2/users", headers={"Authorization": "Basic abc"}), 401,
                 "authentication.required")


def test_unknown_token(http):
    r = http.get("https://api.x/api/v2/users", headers={"Authorization": "Bearer forged"})
    assert assert_error(r, 401, "bad.credentials")["message"] == "Invalid login credentials."


@pytest.mark.parametrize("code", ["bad.credentials", "credentials.expired"])
def test_expired_token(make_sandbox, clock, code):
    clients = (OAuthClient("c", "s", expires_in=10),)
    sb = make_sandbox(users=5, clients=clients, clock=clock, expired_token_code=code)
    with httpx.Client(transport=sb.transport(), base_url="https://api.x") as http:
        token = _token(http, "c", "s")
        auth = {"Authorization": f"Bearer {token}"}
        clock.advance(9.9)
        assert http.get("/api/v2/users", headers=auth).status_code == 200
        clock.advance(0.2)
        assert_error(http.get("/api/v2/users", headers=auth), 401, code)
        assert http.get("/api/v2/users", headers={"Authorization": f"Bearer {_token(http, 'c', 's')}"}).is_success
    assert sb.stats.unauthorized == 1 and sb.stats.token_requests == 2


def test_default_clients(sb):
    assert sb.default_client.client_id == "sandbox-client" and sb.default_client.client_secret == "sandbox-secret"
    assert set(sb.clients) == {"sandbox-client", "limited-client", "short-lived-client", "no-queues-client"}
    assert sb.clients["limited-client"].all_divisions is False
    assert sb.clients["short-lived-client"].expires_in == 3
