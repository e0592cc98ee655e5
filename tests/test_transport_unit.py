"""Transport, auth and paging guards against scripted responses (httpx.MockTransport), with a fake sleep."""

import random
import threading
import time

import httpx
import pytest

import genesys_nb as gnb
from genesys_nb._http.retrying import RetryPolicy

SECRET = "s3cr3t-Zebra-Quokka-7781"


class Script:
    """A scripted API: token endpoint + a handler per path; records every request."""

    def __init__(self, handler, token_status=200, token_body=None, expires_in=86399):
        self.handler = handler
        self.requests = []
        self.tokens = 0
        self.token_status = token_status
        self.token_body = token_body
        self.expires_in = expires_in
        self.lock = threading.Lock()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        with self.lock:
            self.requests.append(request)
        if request.url.path == "/oauth/token":
            self.tokens += 1
            body = self.token_body or {"access_token": f"tok{self.tokens}", "token_type": "bearer",
                                       "expires_in": self.expires_in}
            return httpx.Response(self.token_status, json=body)
        return self.handler(request)

    def api_requests(self):
        return [r for r in self.requests if r.url.path != "/oauth/token"]


def client_for(script, sleeps=None, policy=None, **kw):
    """A client on the scripted API whose sleeps are recorded and advance a fake clock instead of waiting."""
    sleeps = [] if sleeps is None else sleeps
    clock = [1000.0]

    def sleep(seconds):
        sleeps.append(seconds)
        clock[0] += seconds

    client = gnb.connect(api_url="http://127.0.0.1:9", client_id="cid", client_secret=SECRET,
                         transport=httpx.MockTransport(script), sleep=sleep,
                         retry=policy or RetryPolicy(base_delay=0.01, max_delay=0.05), **kw)
    client.governor._clock = lambda: clock[0]
    return client


def page(entities, **extra):
    return httpx.Response(200, json={"entities": entities, **extra})


def test_no_request_until_first_use_and_token_cached():
    script = Script(lambda r: page([{"id": "1"}]))
    client = client_for(script)
    assert script.requests == []
    client.get("/api/v2/x")
    client.get("/api/v2/x")
    assert script.tokens == 1
    auth = script.requests[0]
    assert auth.headers["Authorization"].startswith("Basic ")
    assert auth.content == b"grant_type=client_credentials"
    assert script.requests[1].headers["Authorization"] == "Bearer tok1"


def test_token_renewed_before_expiry():
    clock = [0.0]
    script = Script(lambda r: page([]), expires_in=100)
    client = client_for(script)
    client.auth._clock = lambda: clock[0]
    client.get("/api/v2/x")
    clock[0] = 89.0  # still more than 10% of the lifetime left
    client.get("/api/v2/x")
    assert script.tokens == 1
    clock[0] = 91.0  # within the last 10%: renewed before use, not after a 401
    client.get("/api/v2/x")
    assert script.tokens == 2


def test_401_renews_once_and_replays():
    seen = []

    def handler(request):
        seen.append(request.headers["Authorization"])
        return httpx.Response(401, json={"code": "bad.credentials"}) if len(seen) == 1 else page([{"id": "a"}])

    script = Script(handler)
    client = client_for(script)
    assert client.get("/api/v2/x")["entities"] == [{"id": "a"}]
    assert seen == ["Bearer tok1", "Bearer tok2"]
    assert client.stats["token_renewals_on_401"] == 1


def test_token_refused_again_and_again_is_an_authentication_error():
    script = Script(lambda r: httpx.Response(401, json={"code": "bad.credentials", "message": "Invalid login credentials."}))
    with pytest.raises(gnb.AuthenticationError) as info:
        client_for(script).get("/api/v2/x")
    assert script.tokens == 4 and len(script.api_requests()) == 4 and SECRET not in str(info.value)


def test_401s_for_tokens_other_workers_already_renewed_do_not_use_up_this_requests_renewals():
    """Under concurrency a token may be revoked again and again before one worker's replay lands: those 401s are
    other workers' renewals, so this request keeps replaying (beyond its own limit of 10) and then succeeds."""
    client = None
    refusals = 15

    def handler(request):
        nonlocal refusals
        if request.url.path == "/api/v2/other" or refusals == 0:
            return page([{"id": "a"}])
        refusals -= 1
        client.auth.invalidate(client.auth.access_token())  # another worker saw the 401 first and renewed the token
        client.get("/api/v2/other")  # and its replay with the new token worked
        return httpx.Response(401, json={"code": "bad.credentials"})

    script = Script(handler)
    client = client_for(script)
    assert client.get("/api/v2/x")["entities"] == [{"id": "a"}]
    assert sum(r.url.path == "/api/v2/x" for r in script.api_requests()) == 16
    assert script.tokens == 16 and client.stats["token_renewals_on_401"] == 0  # each renewal was the other worker's


def test_a_token_revoked_after_every_use_is_renewed_for_as_long_as_renewing_helps():
    """No per-client cap on renewals: a 401 that a renewal cures is renewed, however often it happens."""
    calls = []

    def handler(request):
        calls.append(request.headers["Authorization"])
        return httpx.Response(401, json={"code": "bad.credentials"}) if len(calls) % 2 == 0 else page([{"id": "a"}])

    script = Script(handler)
    client = client_for(script)
    for _ in range(30):
        assert client.get("/api/v2/x")["entities"] == [{"id": "a"}]
    assert client.stats["token_renewals_on_401"] == 29 and script.tokens == 30


def test_401s_with_nothing_accepted_in_between_stop_every_worker():
    """Concurrent workers whose tokens are all refused give up together, after a bounded number of refusals."""
    script = Script(lambda r: httpx.Response(401, json={"code": "bad.credentials", "message": "Invalid login credentials."}))
    client = client_for(script)
    errors = []

    def work():
        try:
            client.get("/api/v2/x")
        except gnb.AuthenticationError as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(6)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(10)
    assert len(errors) == 6 and len(script.api_requests()) <= 6 + 10


@pytest.mark.parametrize("status, description, phrase", [
    (400, "authentication failed", "client id or secret is wrong"),
    (401, "client not found", "client id is not known"),
])
def test_bad_credentials_name_what_to_check(status, description, phrase):
    script = Script(lambda r: page([]), token_status=status,
                    token_body={"error": "invalid_client", "description": description, "error_description": description})
    with pytest.raises(gnb.AuthenticationError) as info:
        client_for(script).get("/api/v2/x")
    text = str(info.value)
    assert phrase in text and "GENESYSCLOUD_OAUTHCLIENT_ID" in text and SECRET not in text and "region" in text


def test_429_waits_retry_after_then_default_3s():
    answers = iter([httpx.Response(429, headers={"Retry-After": "7"}), httpx.Response(429), page([{"id": 1}])])
    sleeps = []
    script = Script(lambda r: next(answers))
    client = client_for(script, sleeps)
    client.get("/api/v2/x")
    assert sleeps[:2] == [7.0, 3.0]
    assert client.stats["rate_limited"] == 2 and client.stats["retries"] == 2


def test_429_over_180s_raises_rate_limited_naming_the_wait():
    script = Script(lambda r: httpx.Response(429, headers={"Retry-After": "3600"},
                                             json={"code": "too.many.requests.retry.after"}))
    with pytest.raises(gnb.RateLimited) as info:
        client_for(script).get("/api/v2/x")
    assert info.value.retry_after == 3600 and "3600" in str(info.value)
    assert len(script.api_requests()) == 1


def test_5xx_and_network_errors_back_off_then_succeed():
    answers = iter(["503", "drop", "502", "ok"])

    def handler(request):
        a = next(answers)
        if a == "drop":
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.")
        return page([{"id": 1}]) if a == "ok" else httpx.Response(int(a), json={"code": "service.unavailable"})

    sleeps = []
    client = client_for(Script(handler), sleeps)
    assert client.get("/api/v2/x")["entities"] == [{"id": 1}]
    assert len(sleeps) == 3 and all(0 <= s <= 0.2 for s in sleeps)


def test_persistent_5xx_exhausts_budget_as_server_error():
    script = Script(lambda r: httpx.Response(503, json={"code": "service.unavailable", "message": "down"}))
    with pytest.raises(gnb.ServerError) as info:
        client_for(script, policy=RetryPolicy(max_fault_retries=3, base_delay=0.0)).get("/api/v2/x")
    assert len(script.api_requests()) == 4 and info.value.status == 503


def test_truncated_or_html_200_is_retried_never_read_as_empty():
    answers = iter([httpx.Response(200, content=b'{"entities": [{"id": "a"}, {"id'),
                    httpx.Response(200, content=b"<html>502 Bad Gateway</html>"),
                    page([{"id": "a"}, {"id": "b"}])])
    client = client_for(Script(lambda r: next(answers)))
    assert [u["id"] for u in client.paginate("/api/v2/things", strategy="single")] == ["a", "b"]


def test_truncated_forever_is_a_server_error_not_an_empty_result():
    script = Script(lambda r: httpx.Response(200, content=b'{"entities": ['))
    with pytest.raises(gnb.ServerError, match="not valid JSON"):
        list(client_for(script, policy=RetryPolicy(max_fault_retries=2, base_delay=0)).paginate("/api/v2/t"))


def test_403_carries_missing_permissions():
    body = {"code": "missing.permissions", "status": 403,
            "message": "Unable to perform the requested action. You are missing the following permission(s): directory:user:view"}
    script = Script(lambda r: httpx.Response(403, json=body, headers={"ININ-Correlation-Id": "corr-1"}))
    with pytest.raises(gnb.PermissionDenied) as info:
        client_for(script).get("/api/v2/x")
    err = info.value
    assert err.missing_permissions == ("directory:user:view",) and err.correlation_id == "corr-1" and err.status == 403


def test_repeated_cursor_stops_with_paging_error():
    script = Script(lambda r: page([{"id": r.url.params.get("cursor", "0")}], cursor="same"))
    with pytest.raises(gnb.PagingError, match="same cursor twice"):
        list(client_for(script).paginate("/api/v2/c", strategy="cursor"))


def test_three_empty_pages_in_a_row_stop():
    counter = iter(range(100))
    script = Script(lambda r: page([], cursor=f"c{next(counter)}"))
    with pytest.raises(gnb.PagingError, match="3 empty pages"):
        list(client_for(script).paginate("/api/v2/c"))
    assert len(script.api_requests()) == 3


def test_endless_next_uri_stops():
    script = Script(lambda r: page([{"id": "x"}], nextUri="/api/v2/loop?page=2"))
    with pytest.raises(gnb.PagingError):
        list(client_for(script).paginate("/api/v2/loop", strategy="next_uri"))
    assert len(script.api_requests()) <= 3


def test_same_page_content_twice_stops():
    counter = iter(range(100))
    script = Script(lambda r: page([{"id": "x"}, {"id": "y"}], nextUri=f"/api/v2/loop?n={next(counter)}"))
    with pytest.raises(gnb.PagingError, match="same page twice"):
        list(client_for(script).paginate("/api/v2/loop"))


def test_auto_detection_of_each_style():
    data = list(range(23))

    def handler(request):
        p = request.url.params
        if request.url.path == "/api/v2/after":
            start = int(p.get("after", 0))
            chunk = data[start:start + 5]
            more = start + 5 < len(data)
            return page([{"id": i} for i in chunk], **({"cursors": {"after": str(start + 5)}} if more else {}))
        if request.url.path == "/api/v2/pages":
            n = int(p.get("pageNumber", 1))
            return page([{"id": i} for i in data[(n - 1) * 5:n * 5]], pageNumber=n, pageCount=5, total=23)
        if request.url.path == "/api/v2/next":
            start = int(p.get("s", 0))
            more = start + 5 < len(data)
            return page([{"id": i} for i in data[start:start + 5]], **({"nextUri": f"/api/v2/next?s={start + 5}"} if more else {}))
        raise AssertionError(request.url)

    client = client_for(Script(handler))
    for path, style in (("/api/v2/after", "after"), ("/api/v2/pages", "pages"), ("/api/v2/next", "next_uri")):
        stream = client.paginate(path)
        assert [r["id"] for r in stream] == data, path
        assert stream.stats.pages == 5


def test_page_numbers_concurrent_yield_in_order():
    rng = random.Random(3)
    lock = threading.Lock()
    active, peak = [0], [0]

    def handler(request):
        n = int(request.url.params["pageNumber"])
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(rng.random() * 0.02)
        with lock:
            active[0] -= 1
        return page([{"id": f"{n}-{i}"} for i in range(10)], pageNumber=n, pageCount=30, total=300)

    client = client_for(Script(handler))
    stream = client.paginate("/api/v2/p", {"pageSize": 10}, strategy="pages", concurrency=6)
    ids = [r["id"] for r in stream]
    assert ids == [f"{n}-{i}" for n in range(1, 31) for i in range(10)]
    assert 2 <= peak[0] <= 6


def test_max_items_sends_no_request_beyond_the_page_that_met_it():
    def handler(request):
        n = int(request.url.params.get("pageNumber", 1))
        return page([{"id": f"{n}-{i}"} for i in range(10)], pageNumber=n, pageCount=100)

    script = Script(handler)
    stream = client_for(script).paginate("/api/v2/p", strategy="pages", max_items=25, concurrency=4)
    assert len(list(stream)) == 25
    time.sleep(0.05)
    assert sorted(int(r.url.params["pageNumber"]) for r in script.api_requests()) == [1, 2, 3]
    assert stream.resume_token is None


def test_concurrent_page_numbers_open_the_whole_window_at_once():
    """Pages 1..concurrency go out together: no waiting for page 1's pageCount (one latency round fewer)."""
    started = []

    def handler(request):
        started.append((time.monotonic(), int(request.url.params["pageNumber"])))
        time.sleep(0.05)
        n = int(request.url.params["pageNumber"])
        return page([{"id": f"{n}-{i}"} for i in range(10)] if n <= 3 else [], pageNumber=n, pageCount=3)

    stream = client_for(Script(handler)).paginate("/api/v2/p", {"pageSize": 10}, strategy="pages", concurrency=6)
    assert len(list(stream)) == 30
    first_wave = [n for t, n in started if t - started[0][0] < 0.03]
    assert sorted(first_wave) == [1, 2, 3, 4, 5, 6]


def test_resume_token_refuses_another_query():
    script = Script(lambda r: page([{"id": 1}], pageNumber=1, pageCount=2))
    client = client_for(script)
    stream = client.paginate("/api/v2/p", strategy="pages")
    first = next(iter(stream.pages()))
    with pytest.raises(gnb.ConfigError, match="different query"):
        client.paginate("/api/v2/other", strategy="pages", resume=first.resume_token)
    with pytest.raises(gnb.ConfigError, match="not a genesys-nb resume token"):
        client.paginate("/api/v2/p", strategy="pages", resume="abc")


def test_page_numbers_stop_chasing_a_listing_that_grows_faster_than_it_is_paged():
    def handler(request):
        n = int(request.url.params["pageNumber"])
        return page([{"id": f"{n}-{i}"} for i in range(5)], pageNumber=n, pageCount=n + 3, total=(n + 3) * 5)

    stream = client_for(Script(handler)).paginate("/api/v2/grows", strategy="pages")
    assert len(list(stream)) == 5 * (2 * 4 + 10)
    assert "kept growing faster than it could be paged" in stream.stats.warnings[0]


def _no_such_host(request):
    import socket

    try:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    except socket.gaierror as exc:
        raise httpx.ConnectError("[Errno -2] Name or service not known") from exc


def test_a_login_host_that_does_not_exist_fails_at_once():
    sleeps = []
    client = client_for(Script(lambda r: page([])), sleeps)
    client.http._transport = httpx.MockTransport(_no_such_host)
    with pytest.raises(gnb.NetworkError, match="does not exist"):
        client.get("/api/v2/x")
    assert sleeps == [], "no retries for a name that does not resolve"


def test_an_api_host_that_does_not_exist_fails_at_once_but_is_retried_once_it_has_answered():
    answers = iter(["dns", "ok", "dns", "ok"])

    def handler(request):
        if next(answers) == "dns":
            return _no_such_host(request)
        return page([{"id": 1}])

    sleeps = []
    client = client_for(Script(handler), sleeps)
    with pytest.raises(gnb.NetworkError, match="does not exist"):
        client.get("/api/v2/x")
    assert sleeps == []
    client.get("/api/v2/x")                     # the host answered: from now on a DNS failure is a passing fault
    assert client.get("/api/v2/x")["entities"] == [{"id": 1}] and len(sleeps) == 1


# -- hostile answers, scripted (issue 15) ---------------------------------------------------------------------------
@pytest.mark.parametrize("retry_after", ["0", "-5", "nan", "inf", "Wed, 21 Oct 2015 07:28:00 GMT", "0.001"])
def test_a_retry_after_of_now_is_not_20_retries_in_a_second(retry_after):
    sleeps = []
    script = Script(lambda r: httpx.Response(429, headers={"Retry-After": retry_after}))
    with pytest.raises(gnb.RateLimited):
        client_for(script, sleeps).get("/api/v2/x")
    assert len(sleeps) == 20 and min(sleeps) >= 1.0


def test_a_5xx_retry_after_of_zero_still_backs_off():
    sleeps = []
    script = Script(lambda r: httpx.Response(503, headers={"Retry-After": "0"}))
    with pytest.raises(gnb.ServerError):
        client_for(script, sleeps, policy=RetryPolicy(base_delay=0.2, max_delay=1.0)).get("/api/v2/x")
    assert len(sleeps) == 6 and min(sleeps) >= 0.2


def test_max_elapsed_bounds_the_waits_of_a_request():
    """The 10-minute limit is a deadline: no wait starts that would end past it (old code checked between attempts,
    on the wall clock, and slept 20 x 100 s here)."""
    sleeps, clock = [], [0.0]
    script = Script(lambda r: httpx.Response(429, headers={"Retry-After": "100"}))
    client = client_for(script, sleeps, policy=RetryPolicy(max_elapsed=600))

    def sleep(seconds):
        sleeps.append(seconds)
        clock[0] += seconds

    client.transport._sleep = client.governor._sleep = sleep
    client.transport._clock = client.governor._clock = lambda: clock[0]
    with pytest.raises(gnb.RateLimited):
        client.get("/api/v2/x")
    assert sum(sleeps) <= 600 and len(script.api_requests()) == 6


def test_a_body_declared_larger_than_the_cap_is_refused_unread():
    script = Script(lambda r: httpx.Response(200, content=b"[" + b"1," * 600_000 + b"1]"))
    with pytest.raises(gnb.ServerError, match="RetryPolicy.max_body_bytes"):
        client_for(script, policy=RetryPolicy(max_body_bytes=1_000_000)).get("/api/v2/x")
    assert len(script.api_requests()) == 1


def test_a_request_on_a_closed_client_is_a_clear_error():
    client = client_for(Script(lambda r: page([])))
    client.close()
    with pytest.raises(gnb.ConfigError, match="client is closed"):
        client.get("/api/v2/x")


def test_path_parameters_are_quoted_into_one_segment():
    script = Script(lambda r: httpx.Response(200, json={"id": "x"}))
    client = client_for(script)
    client.user("../authorization/roles")
    assert script.api_requests()[-1].url.raw_path == b"/api/v2/users/..%2Fauthorization%2Froles"
    for bad in ("..", ".", ""):
        with pytest.raises(gnb.ConfigError):
            client.user(bad)


def test_api_path_validators_for_positions_read_back():
    from genesys_nb._http.urls import check_api_path, is_api_path, quote_segment

    assert is_api_path("/api/v2/users?pageNumber=3") and is_api_path("/api/v2/users/../groups")
    for bad in ("http://evil/api/v2/x", "//evil/api/v2/x", "/api/v2/../../oauth/token", "/oauth/token", 3, None,
                "/api/v2/%2e%2e/%2e%2e/oauth/token", "api/v2/x", "/api/v2/x\\..\\..", "/api/v2/x\n"):
        assert not is_api_path(bad), bad
    with pytest.raises(gnb.ConfigError, match="resume token position"):
        check_api_path("http://evil/api/v2/x", "resume token position")
    assert quote_segment("a/b c%") == "a%2Fb%20c%25" and quote_segment(42) == "42"


@pytest.mark.parametrize("field, value", [("max_elapsed", -1), ("max_retry_after", float("nan")),
                                          ("max_retry_after", float("inf")), ("max_fault_retries", -1),
                                          ("max_fault_retries", 2.5), ("base_delay", float("nan")),
                                          ("max_body_bytes", 0), ("max_elapsed", 0), ("default_retry_after", True)])
def test_a_retry_policy_that_disables_its_guards_is_refused(field, value):
    with pytest.raises(gnb.ConfigError, match=field):
        RetryPolicy(**{field: value})


@pytest.mark.parametrize("timeout", [0, -1, float("nan"), float("inf"), "30", True])
def test_timeout_must_be_positive_seconds(timeout):
    with pytest.raises(gnb.ConfigError, match="timeout="):
        gnb.connect(api_url="http://127.0.0.1:9", client_id="a", client_secret="b", timeout=timeout)


def test_one_expired_token_refused_to_many_workers_at_once_is_one_refusal():
    """32 requests in flight when the token expires: each is refused, the token is renewed, all of them succeed."""
    workers = 32
    expired, renewed = threading.Barrier(workers, timeout=5), threading.Barrier(workers, timeout=5)

    def handler(request):
        try:
            if request.headers["Authorization"] == "Bearer tok1":
                expired.wait()  # every worker has sent with the expired token before any answer comes
                return httpx.Response(401, json={"code": "bad.credentials"})
            renewed.wait()  # and every worker has judged its 401 before any replay is answered
        except threading.BrokenBarrierError:
            return httpx.Response(400, json={"message": "not every worker came back"})
        return page([{"id": "a"}])

    script = Script(handler)
    client = client_for(script)
    client.auth.access_token()  # tok1, before the workers start
    results, errors = [], []

    def work():
        try:
            results.append(client.get("/api/v2/x")["entities"])
        except gnb.GenesysError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert errors == [] and len(results) == workers
    assert script.tokens == 2  # one renewal served every worker
