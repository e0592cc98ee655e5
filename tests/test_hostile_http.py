"""A hostile server on real sockets: links to other hosts, trickled answers, refused ports, huge bodies.

The server is a small scriptable HTTP server bound to 127.0.0.1 only: each test gives it a ``route(handler)``
function. Every loop in it is bounded and the fixture stops it (and any trickle still running) at the end.
"""

from __future__ import annotations

import http.server
import socket
import threading
import time

import orjson
import pytest

import genesys_nb as gnb

SECRET = "hostile-Secret-5531"


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: "_Server"

    def log_message(self, *args):  # quiet
        pass

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.seen.append((self.command, self.path, self.headers.get("Authorization", "")))
        if self.path == "/oauth/token" and self.server.token is not None:
            return self.reply(200, {"access_token": "hostile-token-7", "token_type": "bearer", "expires_in": 3600})
        self.server.route(self)

    do_GET = do_POST = do_CONNECT = _serve

    def reply(self, status, body, headers=()):
        data = orjson.dumps(body)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def trickle(self, data: bytes, every: float):
        """Write ``data`` one byte at a time, ``every`` seconds apart, until the client leaves or the test ends."""
        for i in range(len(data)):
            if self.server.stopping.wait(every):
                return
            try:
                self.wfile.write(data[i:i + 1])
                self.wfile.flush()
            except OSError:
                return


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.seen: list[tuple[str, str, str]] = []
        self.stopping = threading.Event()
        self.token: object = True  # serve /oauth/token itself unless a test sets None
        self.route = lambda h: h.reply(200, {"entities": []})

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@pytest.fixture
def hostile():
    servers = []

    def start() -> _Server:
        server = _Server()
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stopping.set()
        server.shutdown()
        server.server_close()


def connect(server, **kw):
    kw.setdefault("retry", gnb.RetryPolicy(base_delay=0.01, max_delay=0.05))
    return gnb.connect(api_url=server.url, client_id="cid", client_secret=SECRET, **kw)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# -- item 1: the token stays on the configured host ----------------------------------------------------------------
def test_next_uri_to_another_host_is_refused_and_never_contacted(hostile):
    api, other = hostile(), hostile()
    api.route = lambda h: h.reply(200, {"entities": [{"id": "1"}], "nextUri": f"{other.url}/api/v2/steal"})
    with connect(api) as client, pytest.raises(gnb.PagingError) as info:
        list(client.paginate("/api/v2/routing/queues", strategy="next_uri"))
    assert other.url in str(info.value) and "API paths on" in str(info.value)
    assert other.seen == []
    assert all("hostile-token-7" not in auth for _, path, auth in other.seen)


@pytest.mark.parametrize("link", ["http://127.0.0.2:{port}/api/v2/steal", "https://127.0.0.1:{port}/api/v2/x",
                                  "//evil.example/api/v2/x", "/api/v2/../../oauth/token",
                                  "http://u:p@127.0.0.1:{port}/api/v2/x"])
def test_every_foreign_or_escaping_next_page_is_refused(hostile, link):
    api = hostile()
    port = api.server_address[1]
    first = {"results": [{"id": "1"}], "pageNumber": 1, "pageCount": 3, "nextPage": link.format(port=port)}
    api.route = lambda h: h.reply(200, first)
    with connect(api) as client, pytest.raises(gnb.PagingError) as info:
        list(client.search_users([{"type": "EXACT", "fields": ["state"], "values": ["active"]}]))
    assert ":p@" not in str(info.value)
    assert [p for _, p, _ in api.seen if p != "/oauth/token"] == ["/api/v2/users/search"]


def test_get_takes_api_paths_or_same_origin_urls_only(hostile):
    api, other = hostile(), hostile()
    api.route = lambda h: h.reply(200, {"path": h.path})
    with connect(api) as client:
        assert client.get(f"{api.url}/api/v2/organizations/me")["path"] == "/api/v2/organizations/me"
        assert client.get("/api/v2/users/../groups")["path"] == "/api/v2/groups"  # normalised, still an API path
        for bad in (f"{other.url}/api/v2/organizations/me", "/api/v2/../../oauth/token", "/oauth/token",
                    "ftp://127.0.0.1/api/v2/x", "/api/v2/%2e%2e/%2e%2e/oauth/token"):
            with pytest.raises(gnb.ConfigError, match="Refused to send the access token"):
                client.get(bad)
    assert other.seen == []


# -- item 5: every wait bounded ------------------------------------------------------------------------------------
def _trickled_body(h):
    h.send_response(200)
    h.send_header("Content-Type", "application/json")
    h.send_header("Content-Length", "40")
    h.end_headers()
    h.wfile.flush()
    h.trickle(b'{"entities": [], "pad": "xxxxxxxxxxxxx"}', 0.4)


def _trickled_headers(h):
    h.trickle(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}", 0.4)


@pytest.mark.parametrize("route", [_trickled_body, _trickled_headers])
def test_a_trickling_server_fails_within_the_timeout(hostile, route):
    """A byte every 0.4 s never trips a 1 s read timeout; the attempt's deadline does."""
    api = hostile()
    api.route = route
    started = time.monotonic()
    with connect(api, timeout=1.0, retry=gnb.RetryPolicy(max_fault_retries=0)) as client:
        with pytest.raises(gnb.NetworkError, match="within the 1 s timeout"):
            client.get("/api/v2/x")
    assert time.monotonic() - started < 2.5


def test_max_elapsed_is_a_deadline_for_the_whole_request(hostile):
    api = hostile()
    api.route = _trickled_body
    started = time.monotonic()
    with connect(api, timeout=1.0, retry=gnb.RetryPolicy(base_delay=0.01, max_delay=0.05, max_elapsed=2.5)) as client:
        with pytest.raises(gnb.NetworkError):
            client.get("/api/v2/x")
    assert time.monotonic() - started < 4.0


@pytest.mark.parametrize("headers, ignored", [
    ({"inin-ratelimit-allowed": "300", "inin-ratelimit-count": "1000", "inin-ratelimit-reset": "1000000000"},
     "reset"),
    ({"inin-ratelimit-allowed": "-5", "inin-ratelimit-count": "1", "inin-ratelimit-reset": "60"}, "allowed"),
    ({"inin-ratelimit-allowed": "inf", "inin-ratelimit-count": "1", "inin-ratelimit-reset": "60"}, "allowed"),
    ({"inin-ratelimit-allowed": "nan", "inin-ratelimit-count": "nan", "inin-ratelimit-reset": "-3"}, "allowed"),
])
def test_rate_headers_of_a_hostile_server_do_not_park_the_client(hostile, caplog, headers, ignored):
    api = hostile()
    api.route = lambda h: h.reply(200, {"entities": []}, list(headers.items()))
    started = time.monotonic()
    with connect(api) as client:
        for _ in range(3):
            client.get("/api/v2/x")  # no hold of 10^9 s, no 60 s per request, no OverflowError
        assert client.governor.window <= 300 and client.governor.allowed >= 1
    assert time.monotonic() - started < 3.0
    assert caplog.text.count(f"implausible inin-ratelimit-{ignored}") == 1, "logged once"


# -- proxies from the environment, as httpx reads them -------------------------------------------------------------
@pytest.fixture
def proxy_env(monkeypatch):
    return monkeypatch  # conftest has cleared the runner's own proxy variables


def test_the_environments_https_proxy_carries_the_requests(hostile, proxy_env):
    """An analyst behind a corporate proxy: the login and API requests go through HTTPS_PROXY as a tunnel (the
    proxy sees the host names, never the credentials), and a proxy that refuses is a clear error."""
    proxy = hostile()
    proxy.token = None
    proxy.route = lambda h: h.reply(403, {"message": "proxy says no"})
    proxy_env.setenv("HTTPS_PROXY", proxy.url)
    with gnb.connect("us-east-1", client_id="cid", client_secret=SECRET,
                     retry=gnb.RetryPolicy(base_delay=0.01, max_delay=0.05, max_fault_retries=1)) as client:
        with pytest.raises(gnb.NetworkError, match="proxy from the environment .* refused to connect to "
                                                   "https://login.mypurecloud.com.*403") as info:
            client.get("/api/v2/organizations/me")
    assert proxy.seen == [("CONNECT", "login.mypurecloud.com:443", "")]  # a refusal is not retried
    assert SECRET not in str(info.value)


def test_the_attempt_deadline_holds_through_a_proxy(hostile, proxy_env):
    proxy = hostile()
    proxy.token = None
    proxy.route = _trickled_headers
    proxy_env.setenv("HTTPS_PROXY", proxy.url)
    started = time.monotonic()
    with gnb.connect("us-east-1", client_id="cid", client_secret=SECRET, timeout=1.0,
                     retry=gnb.RetryPolicy(max_fault_retries=0)) as client:
        with pytest.raises(gnb.GenesysError):
            client.get("/api/v2/organizations/me")
    assert proxy.seen and time.monotonic() - started < 2.5


def test_loopback_hosts_are_reached_directly_whatever_the_proxy(hostile, proxy_env):
    api, proxy = hostile(), hostile()
    api.route = lambda h: h.reply(200, {"id": "org-1", "name": "Local"})
    proxy_env.setenv("HTTP_PROXY", proxy.url)
    proxy_env.setenv("ALL_PROXY", proxy.url)
    with connect(api) as client:
        assert client.get("/api/v2/organizations/me")["name"] == "Local"
    with gnb.connect(sandbox={"users": 20, "http": True}) as client:
        assert client.users().to_polars().height == 20
    assert proxy.seen == []


def test_proxy_settings_httpx_cannot_use_are_a_config_error(proxy_env):
    proxy_env.setenv("HTTPS_PROXY", "ftp://proxy.example:21")
    with pytest.raises(gnb.ConfigError, match="HTTPS_PROXY"):
        gnb.connect("us-east-1", client_id="cid", client_secret=SECRET)


# -- item 10: a refused login port fails fast ----------------------------------------------------------------------
def test_a_refused_port_fails_at_once(hostile):
    sleeps = []
    dead = f"http://127.0.0.1:{free_port()}"
    api = hostile()
    with gnb.connect(api_url=api.url, login_url=dead, client_id="cid", client_secret=SECRET,
                     sleep=sleeps.append) as client:
        with pytest.raises(gnb.NetworkError, match="refuses connections"):
            client.users().total_hint() or client.get("/api/v2/users")
    assert sleeps == [] and api.seen == []
    with gnb.connect(api_url=dead, client_id="cid", client_secret=SECRET, sleep=sleeps.append) as client:
        with pytest.raises(gnb.NetworkError, match="refuses connections"):
            client.get("/api/v2/users")
    assert sleeps == []


# -- item 11: the body read is capped ------------------------------------------------------------------------------
def test_a_huge_body_is_refused_while_it_streams(hostile):
    api = hostile()

    def chunked(h):
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        piece = b"x" * 65536
        for _ in range(64):  # up to 4 MiB, stopped early when the client hangs up
            try:
                h.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
            except OSError:
                return
        h.wfile.write(b"0\r\n\r\n")

    api.route = chunked
    with connect(api, retry=gnb.RetryPolicy(max_body_bytes=256 * 1024)) as client:
        with pytest.raises(gnb.ServerError, match="larger than 262,144 bytes"):
            client.get("/api/v2/x")
    assert len([p for _, p, _ in api.seen if p == "/api/v2/x"]) == 1, "not retried"


# -- item 14: integers beyond 64 bits stay exact end to end --------------------------------------------------------
BIG = 1180591620717411303424  # 2**70


def test_ndjson_keeps_integers_beyond_64_bits(hostile, tmp_path):
    api = hostile()

    def route(h):
        data = (b'{"entities": [{"id": "1", "big": %d, "neg": -%d, "small": 5, "ratio": 0.5, "text": "12345678901234567890"},'
                b' {"id": "2", "nested": {"n": [%d]}, "name": "J\\u00f6rg"}], "total": 2}') % (BIG, BIG, BIG * 3)
        h.send_response(200)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    api.route = route
    out = tmp_path / "things.ndjson"
    with connect(api) as client:
        records = list(client.paginate("/api/v2/things", strategy="single"))
        assert records[0]["big"] == BIG and isinstance(records[0]["big"], int)
        client.paginate("/api/v2/things", strategy="single").to_ndjson(out, progress=False)
    text = out.read_text(encoding="utf-8")
    assert f'"big":{BIG}' in text and f'"neg":-{BIG}' in text and f"[{BIG * 3}]" in text
    assert '"text":"12345678901234567890"' in text and '"ratio":0.5' in text and "Jörg" in text
    assert "e+21" not in text and len(text.splitlines()) == 2


# -- item 12: an abandoned or interrupted stream stops its workers ---------------------------------------------------
SLOW_RETRIES = gnb.RetryPolicy(base_delay=0.2, max_delay=0.3, max_fault_retries=40)


def _first_page_then_failures(api):
    def route(h):
        if "pageNumber=1&" in h.path or h.path.endswith("pageNumber=1"):
            return h.reply(200, {"entities": [{"id": "1"}], "pageCount": 50, "total": 50})
        return h.reply(503, {"message": "busy"})

    api.route = route


def _requests_after_grace(api, grace: float = 0.8, watch: float = 1.5) -> list:
    """The requests that reach the server after ``grace`` seconds, during the ``watch`` seconds that follow."""
    time.sleep(grace)
    with api.lock:
        before = len(api.seen)
    time.sleep(watch)
    with api.lock:
        return api.seen[before:]


def test_an_abandoned_concurrent_stream_stops_retrying(hostile):
    import gc

    api = hostile()
    _first_page_then_failures(api)
    with connect(api, retry=SLOW_RETRIES) as client:
        stream = client.paginate("/api/v2/things", {"pageSize": 1}, strategy="pages", concurrency=8)
        with pytest.raises(KeyboardInterrupt):
            for _record in stream:
                raise KeyboardInterrupt  # as the consumer sees Ctrl-C
        assert len(api.seen) > 2  # pages 2..8 were in flight, retrying
        del stream, _record
        gc.collect()
        assert _requests_after_grace(api) == []


def test_a_real_sigint_while_waiting_stops_the_workers(hostile):
    import os
    import signal

    api = hostile()
    _first_page_then_failures(api)
    with connect(api, retry=SLOW_RETRIES) as client:
        stream = client.paginate("/api/v2/things", {"pageSize": 1}, strategy="pages", concurrency=8)
        timer = threading.Timer(0.6, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt):
                list(stream)  # blocked on page 2, which keeps failing
        finally:
            timer.cancel()
        assert _requests_after_grace(api) == []


def test_closing_a_stream_stops_its_requests(hostile):
    api = hostile()
    _first_page_then_failures(api)
    with connect(api, retry=SLOW_RETRIES) as client:
        stream = client.paginate("/api/v2/things", {"pageSize": 1}, strategy="pages", concurrency=8)
        pages = stream.pages()
        next(pages)
        stream.close()
        assert _requests_after_grace(api) == []


def test_closing_a_fan_out_stops_its_childrens_requests(hostile):
    """Members of five groups: the first group's page comes, every other group's listing keeps failing; closing the
    fan-out stops the children's retries at once, not when each child's own budget runs out."""
    api = hostile()

    def route(h):
        if "/groups/g1/members" in h.path:
            return h.reply(200, {"entities": [{"id": "u1", "name": "One"}], "pageNumber": 1, "pageCount": 1,
                                 "total": 1})
        return h.reply(503, {"message": "busy"})

    api.route = route
    with connect(api, retry=SLOW_RETRIES) as client:
        stream = client.group_members(group_ids=["g1", "g2", "g3", "g4", "g5"], concurrency=4)
        pages = stream.pages()
        assert [r["user_id"] for r in next(pages).items] == ["u1"]
        assert len(api.seen) > 2  # g2..g4 were in flight, retrying
        stream.close()
        assert _requests_after_grace(api) == []


def _workers_alive(besides: set) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("genesys-nb-") and t.is_alive() and t not in besides]


def test_closing_a_stream_ends_the_waits_for_a_turn_under_the_rate_limit(hostile):
    """Workers waiting for their turn under the rate limit stop waiting when the stream is closed, and never send."""
    api = hostile()
    headers = [("inin-ratelimit-allowed", "3"), ("inin-ratelimit-count", "3"), ("inin-ratelimit-reset", "40")]
    api.route = lambda h: h.reply(200, {"entities": [{"id": h.path[-3:]}], "pageCount": 50, "total": 50}, headers)
    earlier = set(threading.enumerate())  # other tests' workers may still be ending
    with connect(api) as client:
        stream = client.paginate("/api/v2/things", {"pageSize": 1}, strategy="pages", concurrency=4)
        pages = stream.pages()
        next(pages)
        time.sleep(0.3)  # the window's other pages are now waiting for their turn
        assert _workers_alive(earlier)
        stream.close()
        assert _requests_after_grace(api, grace=0.5, watch=1.0) == []
        assert _workers_alive(earlier) == []
