"""Tokens that are not tokens, and tokens kept out of texts: errors, reprs, and tracebacks printed with locals."""

from __future__ import annotations

import traceback

import httpx
import pytest

import genesys_nb as gnb
from genesys_nb._http.auth import AccessToken, is_bearer_token

SECRET = "tok-Secret-Marmot-2291"
TOKEN = "Tk7.Armadillo.Badger.Pangolin~9f2+x/y=="  # a made-up, valid RFC 6750 b64token (no secret)


def client_on(token_body, api=None, token_status=200, **kw):
    """A client whose token endpoint answers ``token_body`` and whose API answers ``api(request)`` (200 by default)."""
    calls = {"token": 0, "api": 0}

    def handle(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/oauth/token":
            calls["token"] += 1
            body = token_body() if callable(token_body) else token_body
            return body if isinstance(body, httpx.Response) else httpx.Response(token_status, json=body)
        calls["api"] += 1
        return api(request) if api else httpx.Response(200, json={"entities": []})

    kw.setdefault("retry", gnb.RetryPolicy(base_delay=0.001, max_delay=0.002))
    client = gnb.connect(api_url="http://127.0.0.1:9", client_id="cid", client_secret=SECRET,
                         transport=httpx.MockTransport(handle), sleep=lambda s: None, **kw)
    return client, calls


def printed_with_locals(exc: BaseException) -> str:
    """The traceback as ``--showlocals`` would print it, from the library's frames on (the test's own frame holds
    the token it made up)."""
    exc = exc.with_traceback(exc.__traceback__.tb_next)
    return "".join(traceback.TracebackException.from_exception(exc, capture_locals=True).format())


def assert_clean(exc: BaseException, *secrets: str) -> None:
    texts = (str(exc), repr(exc), printed_with_locals(exc))
    for secret in (SECRET, *secrets):
        for text in texts:
            assert secret not in text


@pytest.mark.parametrize("token, why", [
    ("abc\r\nX-Evil: 1", "not a bearer token"),
    ("tökén-with-ümlauts", "not a bearer token"),
    ("tok en", "not a bearer token"),
    ("x" * 20_000, "not a bearer token"),
    ("", "no access_token"),
    (None, "no access_token"),
])
def test_a_token_that_is_not_a_bearer_token_is_refused_when_fetched(token, why):
    client, calls = client_on({"access_token": token, "token_type": "bearer", "expires_in": 3600})
    with pytest.raises(gnb.AuthenticationError, match=why) as info:
        client.get("/api/v2/x")
    assert calls["api"] == 0, "never sent"
    if token:
        assert_clean(info.value, token, token[:12])


@pytest.mark.parametrize("expires_in", ["soon", 0, True, -5, float("nan"), 1e12, None, [3600]])
def test_expires_in_must_be_a_sane_number_of_seconds(expires_in):
    body = {"access_token": TOKEN, "token_type": "bearer", "expires_in": expires_in}
    if expires_in is not None and isinstance(expires_in, float) and expires_in != expires_in:
        body = httpx.Response(200, content=b'{"access_token": "%s", "expires_in": NaN}' % TOKEN.encode())
    client, calls = client_on(body)
    with pytest.raises((gnb.AuthenticationError, gnb.ServerError), match="expires_in|not JSON") as info:
        client.get("/api/v2/x")
    assert calls["api"] == 0
    assert_clean(info.value, TOKEN)


def test_a_missing_expires_in_means_the_usual_lifetime():
    client, _ = client_on({"access_token": TOKEN, "token_type": "bearer"})
    client.get("/api/v2/x")
    assert client.auth.expires_in == 86399


def test_api_failures_printed_with_locals_show_no_token():
    def api(request):
        assert request.headers["Authorization"] == f"Bearer {TOKEN}"
        return httpx.Response(403, json={"message": "You are missing the following permission(s): a:b:c"})

    client, _ = client_on({"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600}, api)
    with pytest.raises(gnb.PermissionDenied) as info:
        client.get("/api/v2/x")
    assert_clean(info.value, TOKEN)

    def drops(request):
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.")

    client, _ = client_on({"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600}, drops)
    with pytest.raises(gnb.NetworkError) as info:
        client.get("/api/v2/x")
    assert_clean(info.value, TOKEN)


def test_the_token_is_held_in_an_object_that_never_shows_it():
    token = AccessToken(TOKEN)
    assert TOKEN not in repr(token) and TOKEN not in str(token) and TOKEN not in f"{token}"
    assert token.header() == f"Bearer {TOKEN}" and token == AccessToken(TOKEN)
    with pytest.raises(TypeError):
        token.__reduce__()
    assert is_bearer_token(TOKEN) and not is_bearer_token("a\nb") and not is_bearer_token("ü")


def test_header_values_never_echoed_in_errors():
    def api(request):
        raise httpx.LocalProtocolError(f"Illegal header value b'Bearer {TOKEN}'")

    client, _ = client_on({"access_token": TOKEN, "token_type": "bearer", "expires_in": 3600}, api)
    with pytest.raises(gnb.NetworkError) as info:
        client.get("/api/v2/x")
    assert_clean(info.value, TOKEN)


def test_token_endpoint_503_costs_a_bounded_number_of_token_requests():
    client, calls = client_on(lambda: httpx.Response(503, json={}))
    with pytest.raises(gnb.ServerError, match="login host kept failing") as info:
        client.get("/api/v2/x")
    assert calls["token"] == 1 + gnb.RetryPolicy().max_fault_retries, "one budget: no retries inside retries"
    assert calls["api"] == 0
    assert_clean(info.value)


def test_token_retries_share_the_request_budget_with_api_faults():
    answers = iter([503, 503, 503, 503])

    def api(request):
        return httpx.Response(next(answers, 200), json={"entities": []})

    tokens = iter([httpx.Response(503, json={})] * 2)
    client, calls = client_on(lambda: next(tokens, None) or httpx.Response(
        200, json={"access_token": TOKEN, "expires_in": 3600}), api,
        retry=gnb.RetryPolicy(max_fault_retries=5, base_delay=0.001, max_delay=0.002))
    with pytest.raises(gnb.ServerError):
        client.get("/api/v2/x")
    assert calls["token"] == 3 and calls["api"] == 4, "2 token faults + 4 API faults = 6 attempts failed"


def test_token_endpoint_retry_after_is_capped():
    client, calls = client_on(lambda: httpx.Response(429, headers={"Retry-After": "1e9"}, json={}))
    with pytest.raises(gnb.RateLimited, match="login host") as info:
        client.get("/api/v2/x")
    assert calls["token"] == 1 and info.value.retry_after == 1e9


def test_an_adopted_token_is_checked():
    from genesys_nb._http.auth import StaticTokenAuth

    with pytest.raises(gnb.ConfigError, match="not a bearer token") as info:
        StaticTokenAuth("bad\ntoken")
    assert "bad\ntoken" not in str(info.value)
