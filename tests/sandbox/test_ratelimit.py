"""Per-token fixed-window rate limiting: headers, 429 body, Retry-After, windows, threads."""

from __future__ import annotations

import threading
import time

from .helpers import assert_error


def test_headers_on_every_api_response(make_sandbox, clock):
    sb = make_sandbox(users=20, rate_limit=300, rate_window=60, clock=clock)
    with sb.http_client() as api:
        r1 = api.get("/api/v2/users")
        clock.advance(10.2)
        r2 = api.get("/api/v2/organizations/me")
        r3 = api.get("/api/v2/nope-but-authenticated-is-404-first")
    assert (r1.headers["inin-ratelimit-allowed"], r1.headers["inin-ratelimit-count"],
            r1.headers["inin-ratelimit-reset"]) == ("300", "1", "60")
    assert (r2.headers["inin-ratelimit-count"], r2.headers["inin-ratelimit-reset"]) == ("2", "50")
    assert r3.status_code == 404 and "ININ-Correlation-Id" in r3.headers


def test_429_after_the_limit(make_sandbox, clock):
    sb = make_sandbox(users=20, rate_limit=3, rate_window=1.0, clock=clock)
    with sb.http_client() as api:
        for _ in range(3):
            assert api.get("/api/v2/users").status_code == 200
        clock.advance(0.25)
        r = api.get("/api/v2/users")
        body = assert_error(r, 429, "too.many.requests.retry.after")
        assert r.headers["Retry-After"] == "1"
        assert body["message"] == "Rate limit exceeded the maximum. Retry the request in [1] seconds"
        assert r.headers["inin-ratelimit-count"] == "4" and r.headers["inin-ratelimit-allowed"] == "3"
        clock.advance(0.76)  # the window opened at the first request: it is over now
        r = api.get("/api/v2/users")
        assert r.status_code == 200 and r.headers["inin-ratelimit-count"] == "1"
    s = sb.stats
    assert s.rate_limited == 1 and s.total_429s == 1 and s.statuses[429] == 1


def test_retry_after_is_whole_seconds_rounded_up(make_sandbox, clock):
    sb = make_sandbox(users=5, rate_limit=1, rate_window=60, clock=clock)
    with sb.http_client() as api:
        api.get("/api/v2/users")
        clock.advance(17.3)
        r = api.get("/api/v2/users")
    assert r.status_code == 429 and r.headers["Retry-After"] == "43"
    assert "[43] seconds" in r.json()["message"]


def test_each_token_has_its_own_window(make_sandbox, clock):
    sb = make_sandbox(users=5, rate_limit=2, rate_window=60, clock=clock)
    with sb.http_client() as a, sb.http_client() as b:
        assert [a.get("/api/v2/users").status_code for _ in range(3)] == [200, 200, 429]
        assert b.get("/api/v2/users").status_code == 200


def test_real_clock_small_window(make_sandbox):
    sb = make_sandbox(users=5, rate_limit=3, rate_window=1.0)
    with sb.http_client() as api:
        codes = [api.get("/api/v2/users").status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        time.sleep(float(api.get("/api/v2/users").headers["Retry-After"]) + 0.05)
        assert api.get("/api/v2/users").status_code == 200


def test_off_means_no_limit_and_an_unreachable_quota_in_the_headers(sb, api):
    for _ in range(5):
        r = api.get("/api/v2/users")
    assert r.status_code == 200 and r.headers["inin-ratelimit-count"] == "5"
    assert int(r.headers["inin-ratelimit-allowed"]) == 2**31 - 1


def test_default_is_300_per_minute(make_sandbox):
    sb = make_sandbox(users=5, rate_limit=300)
    assert (sb.config.rate_limit, sb.config.rate_window) == (300, 60.0)


def test_thread_safe_counting(make_sandbox, clock):
    sb = make_sandbox(users=50, rate_limit=100, rate_window=60, clock=clock)
    codes: list[int] = []
    lock = threading.Lock()
    with sb.http_client() as api:
        def worker():
            for _ in range(15):
                code = api.get("/api/v2/users", params={"pageSize": 1}).status_code
                with lock:
                    codes.append(code)
        threads = [threading.Thread(target=worker) for _ in range(10)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert codes.count(200) == 100 and codes.count(429) == 50
    assert sb.stats.rate_limited == 50

