"""The sandbox application: routing, and the gateway pipeline every API request goes through
(request numbering, faults, latency, bearer auth, rate limit, churn, headers, stats).

Both servers (the in-process httpx transport and the threaded HTTP server) call `App.handle`
with a transport-neutral `Request` and write out the `Response` it returns.
"""

from __future__ import annotations

import re
import threading
import time
import traceback
import uuid
from dataclasses import dataclass
from typing import Any, Callable

import orjson

from . import access_api, audit_api, directory_api, users_api
from .auth import OAuthError, Token, TokenStore
from .config import SandboxConfig
from .errors import ApiError, error_body, rate_limit_message
from .faults import DROP, FORBIDDEN, NON_JSON, SERVER_ERROR, STORM, TOKEN_EXPIRY, TRUNCATED, FaultPlan, gateway_page
from .hashing import unit_float
from .messages import Request, Response
from .org import Org
from .ratelimit import UNLIMITED, RateDecision, RateLimiter
from .records import Renderer
from .search import SearchIndex
from .stats import StatsCollector

Handler = Callable[["Context"], Any]
_JSON = ("Content-Type", "application/json")
_LATENCY_SALT = 0x1A7
_ID = r"([^/]+)"

ROUTES: list[tuple[str, str, Handler, bool]] = [
    # (method, path pattern, handler, counts as a user listing for churn)
    ("GET", "/api/v2/users", users_api.list_users, True),
    ("GET", "/api/v2/users/query", users_api.query_users, True),
    ("GET", "/api/v2/users/search", users_api.search_users, True),
    ("POST", "/api/v2/users/search", users_api.search_users, True),
    ("GET", f"/api/v2/users/{_ID}", users_api.get_user, False),
    ("GET", f"/api/v2/users/{_ID}/queues", access_api.user_queues, False),
    ("GET", f"/api/v2/users/{_ID}/routingskills", access_api.user_skills, False),
    ("GET", f"/api/v2/users/{_ID}/routinglanguages", access_api.user_languages, False),
    ("GET", "/api/v2/authorization/roles", access_api.list_roles, False),
    ("GET", f"/api/v2/authorization/roles/{_ID}", access_api.get_role, False),
    ("GET", f"/api/v2/authorization/roles/{_ID}/subjectgrants", access_api.role_subjectgrants, False),
    ("GET", f"/api/v2/authorization/roles/{_ID}/users", access_api.role_users, False),
    ("GET", f"/api/v2/authorization/subjects/{_ID}", access_api.get_subject, False),
    ("GET", "/api/v2/authorization/divisions/home", access_api.home_division, False),
    ("GET", "/api/v2/authorization/divisions", directory_api.list_divisions, False),
    ("GET", f"/api/v2/authorization/divisions/{_ID}", directory_api.get_division, False),
    ("GET", "/api/v2/groups", directory_api.list_groups, False),
    ("GET", f"/api/v2/groups/{_ID}", directory_api.get_group, False),
    ("GET", f"/api/v2/groups/{_ID}/members", access_api.group_members, False),
    ("GET", f"/api/v2/groups/{_ID}/individuals", access_api.group_individuals, False),
    ("GET", "/api/v2/routing/queues", access_api.list_queues, False),
    ("GET", f"/api/v2/routing/queues/{_ID}", access_api.get_queue, False),
    ("GET", f"/api/v2/routing/queues/{_ID}/members", access_api.queue_members, False),
    ("GET", "/api/v2/license/users", access_api.license_users, False),
    ("GET", "/api/v2/license/definitions", access_api.license_definitions, False),
    ("POST", "/api/v2/audits/query", audit_api.post_query, False),
    ("GET", "/api/v2/audits/query/servicemapping", audit_api.service_mapping, False),
    ("GET", f"/api/v2/audits/query/{_ID}", audit_api.get_query, False),
    ("GET", f"/api/v2/audits/query/{_ID}/results", audit_api.get_results, False),
    ("GET", "/api/v2/organizations/me", directory_api.organization, False),
    ("GET", "/api/v2/teams", directory_api.list_teams, False),
    ("GET", "/api/v2/externalcontacts/scan/contacts", directory_api.scan_contacts, False),
]
_COMPILED = [(m, re.compile(p + r"/?\Z"), p.replace(_ID, "{id}"), h, lst) for m, p, h, lst in ROUTES]


@dataclass
class Context:
    """What an endpoint handler gets: the request, the caller's token and the app's parts."""

    app: App
    request: Request
    token: Token
    path_params: tuple[str, ...]
    divisions: frozenset[int] | None

    @property
    def config(self) -> SandboxConfig:
        """The sandbox configuration."""
        return self.app.config

    @property
    def org(self) -> Org:
        """The synthetic org."""
        return self.app.org

    @property
    def renderer(self) -> Renderer:
        """The user-record renderer."""
        return self.app.renderer

    @property
    def search(self) -> SearchIndex:
        """The user-search index."""
        return self.app.search


class App:
    """One sandbox's request handler; thread-safe."""

    def __init__(self, config: SandboxConfig, org: Org | None = None) -> None:
        self.config = config
        clock = config.clock or time.monotonic
        self.clock = clock
        self.org = org or Org(config)
        self.renderer = Renderer(self.org, prerender=config.prerender)
        self.search = SearchIndex(self.org, config.search_default_states)
        self.clients = {c.client_id: c for c in config.clients}
        self._divisions = {c.client_id: (None if c.all_divisions else
                                         frozenset(self.org.division_index(d) for d in (c.divisions or (0,))))
                           for c in config.clients}
        self.tokens = TokenStore(self.clients, config.expired_token_code, config.invalid_client_status, clock)
        # With limiting off the headers still come, announcing a quota that is never reached: the real API always
        # sends them, and clients that pace from them (or assume 300 a minute without them) then run at full speed.
        self.limiter = RateLimiter(config.rate_limit or UNLIMITED, config.rate_window, clock)
        self.faults = FaultPlan(config.faults, stream=0)
        self.token_faults = FaultPlan(config.faults, stream=1)
        self.stats = StatsCollector()
        self.audit_jobs: audit_api.AuditJobs | None = None  # made on the first audit query
        self._lock = threading.Lock()
        self._api_count = 0
        self._token_count = 0
        self._listing_count = 0
        self._churn_rounds = 0

    @property
    def api_requests(self) -> int:
        """API requests numbered so far (the number fault plans and churn events refer to)."""
        return self._api_count

    # -- entry point ---------------------------------------------------------------------------
    def handle(self, req: Request) -> Response:
        """Answer one request (never raises for client errors)."""
        self.stats.enter()
        try:
            if req.path.rstrip("/") == "/oauth/token":
                return self._token_endpoint(req)
            return self._api(req)
        finally:
            self.stats.leave()

    # -- /oauth/token ----------------------------------------------------------------------------
    def _token_endpoint(self, req: Request) -> Response:
        cid = str(uuid.uuid4())
        with self._lock:
            self._token_count += 1
            n = self._token_count
        fault = self.token_faults.decide(n, api=False) if self.config.faults.apply_to_token_endpoint else None
        resp = self._gateway_fault(fault, n, cid, self.token_faults)
        if resp is None:
            if req.method != "POST":
                resp = Response(405, b'{"error":"invalid_request","description":"method not allowed",'
                                     b'"error_description":"method not allowed"}', [("Allow", "POST")])
            else:
                try:
                    resp = Response(200, self.tokens.grant(req.headers, req.body))
                except OAuthError as e:
                    resp = Response(e.status, e.body)
            if fault == TRUNCATED and resp.status == 200:
                resp.body = self.token_faults.truncate(resp.body, n)
            else:
                fault = None
        resp.headers = [("ININ-Correlation-Id", cid), *_content_type(resp), *resp.headers]
        self.stats.record("POST /oauth/token", req.method, req.path, req.query_dict(), 0 if resp.drop else resp.status,
                          api=False, fault=fault)
        return resp

    # -- /api/v2 -------------------------------------------------------------------------------
    def _api(self, req: Request) -> Response:
        cid = str(uuid.uuid4())
        with self._lock:
            self._api_count += 1
            n = self._api_count
        name, handler, params, is_listing = self._route(req)
        fault = self.faults.decide(n)
        self._sleep(n)
        decision: RateDecision | None = None
        injected: str | None = None
        resp = self._gateway_fault(fault, n, cid, self.faults)
        if resp is not None:
            injected = fault
        else:
            try:
                if handler is None:
                    raise ApiError(404, "not.found")
                token = self.tokens.authenticate(req.headers.get("authorization"))
                if fault == TOKEN_EXPIRY:
                    self.tokens.revoke(token.value)
                    injected = fault
                    raise ApiError(401, self.config.expired_token_code)
                if self.limiter is not None:
                    decision = self.limiter.hit(token.value)
                    if not decision.allowed:
                        raise _too_many(decision.reset)
                if fault == FORBIDDEN:
                    injected = fault
                    raise ApiError(403, "not.authorized")
                ctx = Context(self, req, token, params, self._divisions.get(token.client.client_id))
                resp = Response(200, orjson.dumps(handler(ctx)))
                if is_listing:
                    self._count_listing(n)
            except ApiError as e:
                resp = _error_response(e, cid)
            except Exception:  # a sandbox bug: answer like the real API would, and say why on stderr
                traceback.print_exc()
                resp = _error_response(ApiError(500, "internal.server.error"), cid)
            if fault == TRUNCATED and resp.status == 200:
                resp.body = self.faults.truncate(resp.body, n)
                injected = fault
        headers = [("ININ-Correlation-Id", cid), ("Date", self._date()), *_content_type(resp)]
        if decision is not None:
            headers += decision.headers()
        resp.headers = headers + resp.headers
        limited = decision is not None and not decision.allowed
        self.stats.record(name, req.method, req.path, req.query_dict(), 0 if resp.drop else resp.status, api=True,
                          fault=injected, limited=limited)
        return resp

    def _route(self, req: Request) -> tuple[str, Handler | None, tuple[str, ...], bool]:
        for method, pattern, name, handler, is_listing in _COMPILED:
            m = pattern.match(req.path)
            if m and method == req.method:
                return f"{method} {name}", handler, m.groups(), is_listing
        return "unknown", None, (), False

    def _gateway_fault(self, fault: str | None, n: int, cid: str, plan: FaultPlan) -> Response | None:
        """Faults answered before the request reaches auth or an endpoint."""
        if fault == DROP:
            return Response(0, drop=True)
        if fault == SERVER_ERROR:
            status, code = plan.server_error(n)
            return _error_response(ApiError(status, code), cid)
        if fault == NON_JSON:
            return Response(200, gateway_page(), [("Content-Type", "text/html")])
        if fault == STORM:
            seconds = self.config.faults.storm_retry_after
            return _error_response(_too_many(seconds), cid)
        return None

    def _sleep(self, n: int) -> None:
        base, jitter = self.config.latency_ms, self.config.latency_jitter_ms
        if base <= 0 and jitter <= 0:
            return
        ms = base + jitter * (2.0 * unit_float(n, self.config.seed, _LATENCY_SALT) - 1.0)
        if ms > 0:
            time.sleep(ms / 1000.0)

    def _count_listing(self, n: int) -> None:
        churn = self.config.churn
        if churn is None:
            return
        with self._lock:
            self._listing_count += 1
            due = self._listing_count % churn.every == 0
            if due:
                self._churn_rounds += 1
                round_no = self._churn_rounds
        if due:
            changed = self.org.apply_churn(churn, round_no, n)
            self.renderer.forget(changed)

    def _date(self) -> str:
        """The ``Date`` header: the org's own clock (fixed, and moved by ``advance``), as a real server sends its
        own; snapshots read it as the API's time."""
        from email.utils import formatdate

        return formatdate(self.org.now_ms / 1000, usegmt=True)

    def reset_stats(self) -> None:
        """Zero the counters and the request log."""
        self.stats.reset()


def _too_many(seconds: int) -> ApiError:
    return ApiError(429, "too.many.requests.retry.after", rate_limit_message(seconds),
                    [("Retry-After", str(seconds))])


def _error_response(e: ApiError, cid: str) -> Response:
    return Response(e.status, error_body(e.status, e.code, e.message, cid), list(e.headers))


def _content_type(resp: Response) -> list[tuple[str, str]]:
    if resp.drop or resp.header("content-type"):
        return []
    return [_JSON]
