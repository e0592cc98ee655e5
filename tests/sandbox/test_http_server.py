"""The real threaded loopback HTTP server: keep-alive, concurrency, latency overlap, dropped sockets."""

from __future__ import annotations

import socket
import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import orjson
import pytest

from genesys_nb.sandbox import Faults, Sandbox

from .helpers import assert_error


def _token(http: httpx.Client, base: str) -> str:
    r = http.post(f"{base}/oauth/token", data={"grant_type": "client_credentials"},
                  auth=("sandbox-client", "sandbox-secret"))
    assert r.status_code == 200
    return r.json()["access_token"]


def test_serve_token_and_pages_over_http(make_sandbox):
    sb = make_sandbox(users=1200)
    url = sb.serve()
    assert url.startswith("http://127.0.0.1:") and sb.url == url == sb.base_url
    with httpx.Client(base_url=url) as http:
        http.headers["Authorization"] = f"Bearer {_token(http, url)}"
        ids, number = [], 1
        while True:
            r = http.get("/api/v2/users", params={"pageSize": 500, "pageNumber": number, "state": "any"})
            assert r.headers["ININ-Correlation-Id"] and r.headers["Content-Type"] == "application/json"
            body = r.json()
            ids += [u["id"] for u in body["entities"]]
            if "nextUri" not in body:
                break
            number += 1
        assert_error(http.get("/api/v2/users/unknown-id"), 404, "not.found")
    assert ids == sb.org.ids("any")
    assert sb.stats.api_requests == 4 and sb.stats.token_requests == 1


def test_keep_alive_reuses_one_connection(make_sandbox):
    sb = make_sandbox(users=50)
    url = sb.serve()
    with httpx.Client(base_url=url) as http:
        http.headers["Authorization"] = f"Bearer {_token(http, url)}"
        ports = set()
        for _ in range(5):
            r = http.get("/api/v2/users")
            ports.add(r.extensions["network_stream"].get_extra_info("client_addr")[1])
    assert len(ports) == 1


def test_concurrent_requests_overlap_latency(make_sandbox):
    sb = make_sandbox(users=200, latency_ms=200)
    url = sb.serve()
    token = sb.issue_token()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {token}"},
                      limits=httpx.Limits(max_connections=20)) as http:
        t = time.perf_counter()
        with ThreadPoolExecutor(10) as pool:
            codes = list(pool.map(lambda n: http.get("/api/v2/users", params={"pageNumber": n}).status_code,
                                  range(1, 11)))
        elapsed = time.perf_counter() - t
    assert codes == [200] * 10
    assert elapsed < 1.2  # 10 x 200 ms, overlapped
    assert sb.stats.peak_concurrent >= 5


def test_latency_jitter_is_seeded(make_sandbox):
    sb = make_sandbox(users=5, latency_ms=30, latency_jitter_ms=20)
    with sb.http_client() as api:
        t = time.perf_counter()
        for _ in range(5):
            api.get("/api/v2/users")
        elapsed = time.perf_counter() - t
    assert 0.05 < elapsed < 0.6


def test_dropped_connection_over_http(make_sandbox):
    sb = make_sandbox(users=5, faults=Faults(drops=1.0))
    url = sb.serve()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {sb.issue_token()}"}) as http:
        with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
            http.get("/api/v2/users")
    assert sb.request_log[-1].status == 0


def test_truncated_body_over_http(make_sandbox):
    sb = make_sandbox(users=50, faults=Faults(truncated=1.0))
    url = sb.serve()
    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {sb.issue_token()}"}) as http:
        r = http.get("/api/v2/users")
    assert r.status_code == 200 and int(r.headers["Content-Length"]) == len(r.content)
    with pytest.raises(orjson.JSONDecodeError):
        orjson.loads(r.content)


def test_raw_socket_request_and_close_releases_port():
    sb = Sandbox(users=3, rate_limit=None)
    url = sb.serve()
    port = int(url.rsplit(":", 1)[1])
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(b"GET /api/v2/users HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    assert data.startswith(b"HTTP/1.1 401") and b"authentication.required" in data
    sb.close()
    assert sb.url is None
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
    with Sandbox(users=3) as again:  # context manager form
        assert again.serve().startswith("http://")


def test_async_transport(make_sandbox):
    import asyncio

    sb = make_sandbox(users=100, latency_ms=200)

    async def main():
        headers = {"Authorization": f"Bearer {sb.issue_token()}"}
        async with httpx.AsyncClient(transport=sb.async_transport(), base_url=sb.base_url, headers=headers) as c:
            t = time.perf_counter()
            pages = await asyncio.gather(*(c.get("/api/v2/users", params={"pageNumber": n}) for n in range(1, 9)))
            return time.perf_counter() - t, pages

    elapsed, pages = asyncio.run(main())
    assert all(p.status_code == 200 for p in pages) and elapsed < 1.0  # 8 x 200 ms, overlapped


def test_chunked_request_body_over_http(make_sandbox):
    sb = make_sandbox(users=40)
    url = sb.serve()

    def chunks():
        yield b'{"query": [{"type": "MATCH_ALL"}],'
        yield b' "pageSize": 5}'

    with httpx.Client(base_url=url, headers={"Authorization": f"Bearer {sb.issue_token()}"}) as http:
        r = http.post("/api/v2/users/search", content=chunks(), headers={"Content-Type": "application/json"})
        assert r.status_code == 200 and r.json()["pageSize"] == 5
        assert http.get("/api/v2/organizations/me").status_code == 200  # same connection still in sync
