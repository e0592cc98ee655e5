"""Sends one API request and returns its parsed JSON, surviving what the real API does.

A request goes through small steps, as httpx's ``send -> _send_handling_auth -> _send_single_request`` do:
:meth:`Transport.request` resolves the URL (only API paths on the API host ever get the token, see
:mod:`genesys_nb._http.urls`) and runs attempts under one :class:`~genesys_nb._http.retrying.Budget`;
each attempt sends with the token and renews it on a 401 (``_send_handling_auth``), after the rate governor allows it
(``_send_single``); its status is classified once (``_check_status``: 429, 5xx, network faults and 200s whose body is
not JSON are retried, anything else becomes a precise :mod:`genesys_nb.errors` exception) and the body parsed
(``_parse``) with orjson (the standard library's parser for integers beyond 64 bits) or a caller's decoder, never read as an empty page when it does not parse. Every attempt is
bounded in time (the client's ``timeout``, in all) and in size (``RetryPolicy.max_body_bytes``); the whole request,
token fetches and waits included, by ``RetryPolicy.max_elapsed``.
"""

from __future__ import annotations

import functools
import json as stdlib_json
import logging
import math
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union

import httpx
import orjson
from tenacity import RetryCallState

from ..errors import (AuthenticationError, BadRequest, ConfigError, GenesysError, NetworkError, NotFound,
                      PermissionDenied, RateLimited)
from .auth import AccessToken, TokenSource
from .governor import PacingCancelled, PacingTimeout, RateGovernor, sleep_unless_cancelled
from .refusals import TokenRefusals
from .retrying import (Budget, RetryPolicy, Retryable, Verdict, classify, exhausted_error, make_retrying, path_of,
                       proxy_refused_error, refused_connection, retry_for, unresolvable_host)
from .sending import Answer, http_client, send
from .urls import UrlRefused, resolve

__all__ = ["Response", "Transport", "TransportCounters", "RequestCancelled", "http_client", "parse_json"]

log = logging.getLogger("genesys_nb.transport")

MAX_REPLAYS = 100  # 401s one request answers by sending again, however often renewals helped other requests
_PERMISSIONS = re.compile(r"permission\(s\):\s*(.+?)\s*$|permissions assigned:\s*(.+?)\s*$", re.I)

Scalar = Union[str, int, float, bool, None]
Params = Mapping[str, Union[Scalar, Sequence[Scalar]]]
Decoder = Callable[[bytes], Any]  # parses a successful body; a ValueError means "not a valid body"


@dataclass(frozen=True)
class Response:
    """A successful API response: the parsed body (JSON, or what ``decode`` made of it) and what it cost."""

    body: Any
    status: int
    headers: httpx.Headers
    nbytes: int
    attempts: int
    rate_limited: int
    url: str


class TransportCounters:
    """Running totals across every request of a client (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests = 0
        self.retries = 0
        self.rate_limited = 0
        self.token_renewals_on_401 = 0

    def add(self, *, requests: int = 0, retries: int = 0, rate_limited: int = 0, renewals: int = 0) -> None:
        with self._lock:
            self.requests += requests
            self.retries += retries
            self.rate_limited += rate_limited
            self.token_renewals_on_401 += renewals

    def as_dict(self) -> dict[str, int]:
        return {"requests": self.requests, "retries": self.retries, "rate_limited": self.rate_limited,
                "token_renewals_on_401": self.token_renewals_on_401}


@dataclass
class _Call:
    """One logical request: what to send, how to read it, and its budget."""

    method: str
    url: str
    params: Params | None
    content: bytes | None
    parse: Decoder
    budget: Budget
    cancel: threading.Event | None = None  # set when the stream the request is for was closed

    @property
    def path(self) -> str:
        return path_of(self.url)


class Transport:
    """The one place requests go out. Thread-safe: streams fetch pages from worker threads through it."""

    def __init__(self, api_url: str, auth: TokenSource, http: httpx.Client, *, policy: RetryPolicy = RetryPolicy(),
                 governor: RateGovernor | None = None, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.api_url = api_url.rstrip("/")
        self.auth = auth
        self.http = http
        self.policy = policy
        self.governor = governor or RateGovernor()
        self.counters = TransportCounters()
        self._sleep = sleep
        self._clock = clock
        self._refusals = TokenRefusals()
        self._reached = False  # has the API host ever answered? (a host that never did is a setting to fix)

    def __repr__(self) -> str:
        return f"Transport(api_url={self.api_url!r}, governor={self.governor!r})"

    def url_for(self, path_or_url: str, *, refuse_as: type[GenesysError] = ConfigError) -> str:
        """The absolute URL of an API path (or a URL on the API host); anything else is refused with ``refuse_as``,
        so that the token never goes to another scheme, host or port, nor outside ``/api/v2/``."""
        try:
            return resolve(self.api_url, path_or_url)
        except UrlRefused as exc:
            raise refuse_as(f"Refused to send the access token: {exc}. It goes to API paths on {self.api_url} "
                            f"only (such as '/api/v2/organizations/me').") from None

    def request(self, method: str, path: str, *, params: Params | None = None, json: object = None,
                decode: Decoder | None = None, refuse_as: type[GenesysError] = ConfigError,
                cancel: threading.Event | None = None) -> Response:
        """Send ``method path`` and return the parsed JSON body, retrying per the policy.

        ``path`` is an API path or a URL on the API host; a paging loop passes ``refuse_as=PagingError`` for the
        links it follows (``nextUri``, ``nextPage``). ``decode`` parses a successful body instead of
        ``orjson.loads`` (e.g. straight into Arrow, in the calling worker thread); a ``ValueError`` from it is
        retried like any body that is not JSON. Once ``cancel`` is set (a stream closed or abandoned), no further
        attempt is sent and a wait between attempts ends at once: :class:`RequestCancelled`."""
        if self.http.is_closed:
            raise ConfigError("This client is closed: connect() again (or keep using it inside its `with` block).")
        call = _Call(method, self.url_for(path, refuse_as=refuse_as), params,
                     orjson.dumps(json) if json is not None else None, decode or parse_json,
                     Budget(self.policy, clock=self._clock), cancel)
        sleep = self._sleep if cancel is None else functools.partial(_cancellable_sleep, cancel, call, self._sleep)
        retrying = make_retrying(call.budget, sleep=sleep, before_sleep=functools.partial(_log_retry, call))
        attempt = self._attempt if cancel is None else functools.partial(self._attempt_unless, cancel)
        try:
            return retrying(attempt, call)
        except Retryable as exc:
            raise exhausted_error(exc, sum(call.budget.counts.values())) from None
        finally:
            sent = call.budget.attempts
            self.counters.add(requests=sent, retries=max(0, sent - 1), rate_limited=call.budget.rate_limited)

    # -- one attempt ---------------------------------------------------------------------------------------------
    def _attempt_unless(self, cancel: threading.Event, call: _Call) -> Response:
        if cancel.is_set():
            raise RequestCancelled(f"{call.method} {call.path} was abandoned: its stream was closed.", url=call.url)
        return self._attempt(call)

    def _attempt(self, call: _Call) -> Response:
        answer = self._send_handling_auth(call)
        self._check_status(call, answer)
        return self._parse(call, answer)

    def _send_handling_auth(self, call: _Call) -> Answer:
        """Send with the current token; on a 401 renew it and send again, as far as :meth:`_may_replay` allows."""
        while True:
            token = self.auth.access_token()  # a token endpoint fault raises Retryable: retried in this budget
            first_use = self._refusals.sending(token)
            answer = self._send_single(call, token)
            if classify(answer.status) is not Verdict.RENEW:
                self._refusals.accepted(token)
                return answer
            renewing = self.auth.invalidate(token)  # False: another worker has renewed it already
            if not self._may_replay(call.budget, token, first_use):
                return answer
            self.counters.add(renewals=int(renewing))
            log.info("token rejected (401); %s it and replaying %s %s", "renewing" if renewing else "already renewed",
                     call.method, call.path)

    def _may_replay(self, budget: Budget, token: AccessToken, first_use: bool) -> bool:
        """Expired or revoked tokens are renewed and the request sent again, while the API still accepts something
        between its refusals (see :mod:`.refusals`); one request replays at most :data:`MAX_REPLAYS` times."""
        if budget.replays >= MAX_REPLAYS or not self._refusals.worth_renewing(token, first_use):
            return False
        budget.replays += 1
        return True

    def _send_single(self, call: _Call, token: AccessToken) -> Answer:
        """One request on the wire, after the governor allows it, within the attempt's time and size limits."""
        budget = call.budget
        try:
            sent_at = self.governor.acquire(max_wait=max(0.0, budget.remaining()), cancel=call.cancel)
            if call.cancel is not None and call.cancel.is_set():
                raise PacingCancelled()
        except PacingCancelled:
            raise RequestCancelled(f"{call.method} {call.path} was abandoned while it waited for its turn: its "
                                   f"stream was closed.", url=call.url) from None
        except PacingTimeout as exc:
            raise RateLimited(f"Pacing to the API's rate limit would hold {call.path} {exc.wait:.0f} s, past the "
                              f"request's time limit (RetryPolicy.max_elapsed = {self.policy.max_elapsed:g} s). "
                              f"Another process may be using the same OAuth client's quota.",
                              retry_after=exc.wait, url=call.url) from None
        budget.attempts += 1
        request = self.http.build_request(
            call.method, call.url, params=call.params, content=call.content,
            headers={"Authorization": token.header(), "Accept": "application/json",
                     **({"Content-Type": "application/json"} if call.content is not None else {})})
        try:
            answer = send(self.http, request, limit=self._attempt_limit(budget), max_bytes=self.policy.max_body_bytes)
        except httpx.TransportError as exc:
            raise self._network_fault(exc, call) from None
        except RuntimeError as exc:  # httpx: "Cannot send a request, as the client has been closed."
            if self.http.is_closed:
                raise ConfigError("This client was closed while a request was under way.") from None
            raise
        self._reached = True
        self.governor.observe(answer.headers, sent_at, answer.status)
        return answer

    def _attempt_limit(self, budget: Budget) -> float:
        """Seconds this attempt may take in all: the client's timeout, and never past the request's deadline."""
        per_attempt = self.http.timeout.read
        return min(per_attempt if per_attempt is not None else math.inf, max(0.0, budget.remaining()))

    def _network_fault(self, exc: httpx.TransportError, call: _Call) -> Exception:
        refused = proxy_refused_error(exc, self.api_url)
        if refused is not None:
            return refused
        if not self._reached and unresolvable_host(exc):
            return NetworkError(f"The API host in {self.api_url} does not exist (its name does not resolve). "
                                f"Check the region or api_url.", url=call.url)
        if not self._reached and refused_connection(exc):
            return NetworkError(f"The API host {self.api_url} refuses connections (nothing listens on that port). "
                                f"Check the region or api_url.", url=call.url)
        if isinstance(exc, httpx.TimeoutException):
            limit = self.http.timeout.read
            within = f"the {limit:g} s timeout" if limit is not None else "the request's time limit"
            return Retryable("network", f"{type(exc).__name__}: no complete answer within {within}", url=call.url)
        return Retryable("network", f"{type(exc).__name__}: {_safe(exc)}", url=call.url)

    def _check_status(self, call: _Call, answer: Answer) -> None:
        """Raise for anything but a 2xx: a Retryable for 429 and 5xx (a 429 also holds the governor), else the
        precise error."""
        verdict = classify(answer.status)
        if verdict is Verdict.OK:
            return
        if verdict in (Verdict.RATE_LIMITED, Verdict.SERVER_FAULT):
            if verdict is Verdict.RATE_LIMITED:
                call.budget.rate_limited += 1
            retry = retry_for(verdict, answer.headers, self.policy, url=call.url, status=answer.status,
                              where=f"The API at {call.path}", code=_code(answer.content))
            if verdict is Verdict.RATE_LIMITED and retry.retry_after is not None:
                self.governor.hold(retry.retry_after)
            raise retry
        raise _error(answer, call.url)

    @staticmethod
    def _parse(call: _Call, answer: Answer) -> Response:
        raw = answer.content
        try:
            body = call.parse(raw) if raw else None
        except ValueError:  # orjson.JSONDecodeError and Arrow's parse errors are ValueErrors
            raise Retryable("body", f"HTTP {answer.status} with a body that is not valid JSON "
                                    f"({len(raw)} bytes, starts {raw[:40]!r})", status=answer.status,
                            correlation_id=answer.headers.get("ININ-Correlation-Id"), url=call.url) from None
        return Response(body, answer.status, answer.headers, len(raw), call.budget.attempts,
                        call.budget.rate_limited, call.url)


class RequestCancelled(GenesysError):
    """A request abandoned because the stream it was for was closed (never retried)."""


def _cancellable_sleep(cancel: threading.Event, call: _Call, sleep: Callable[[float], None], seconds: float) -> None:
    """Wait between attempts, ending at once (with :class:`RequestCancelled`) when ``cancel`` is set."""
    if sleep_unless_cancelled(sleep, seconds, cancel):
        raise RequestCancelled(f"{call.method} {call.path} was abandoned: its stream was closed.", url=call.url)


_LONG_NUMBER = re.compile(rb"\d{19}")  # 19 digits or more: an integer that may not fit in 64 bits


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def parse_json(raw: bytes) -> Any:
    """A JSON body, exactly: orjson, or the standard library's parser when the body may hold an integer beyond
    64 bits (orjson reads those as floats, ``1180591620717411303424`` as ``1.18e+21``)."""
    if _LONG_NUMBER.search(raw) is None:
        return orjson.loads(raw)
    orjson.loads(raw)  # a body that is not JSON (or nested past orjson's limit) fails here, as any other
    try:
        return stdlib_json.loads(raw, parse_constant=_no_constant)
    except RecursionError:
        raise ValueError("the JSON body is nested too deeply") from None


def _log_retry(call: _Call, state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    log.info("retrying %s %s after %s (attempt %d)", call.method, call.path, getattr(exc, "detail", exc),
             state.attempt_number)


def _safe(exc: Exception) -> str:
    """An httpx error's text for a message, unless it may quote a header (h11 shows the offending value)."""
    text = str(exc)
    if "header" in text.lower():
        return "a header could not be sent or read (its value is not shown)"
    return text[:200] or type(exc).__name__


def _json_object(content: bytes) -> dict[str, Any]:
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        return {}
    return body if isinstance(body, dict) else {}


def _code(content: bytes) -> str | None:
    code = _json_object(content).get("code")
    return code if isinstance(code, str) else None


def _error(answer: Answer, url: str) -> GenesysError:
    """Map a final non-success response onto the exception a user can act on."""
    status = answer.status
    body = _json_object(answer.content)
    code = body.get("code") if isinstance(body.get("code"), str) else None
    message = body.get("message") if isinstance(body.get("message"), str) else None
    corr = answer.headers.get("ININ-Correlation-Id") or body.get("contextId")
    where = path_of(url)
    kw: dict[str, Any] = {"status": status, "code": code, "api_message": message, "correlation_id": corr, "url": url}
    said = f": {message}" if message else ""
    if status == 401:
        return AuthenticationError(f"The API rejected the access token at {where} even after renewing it{said}. "
                                   f"Check that the OAuth client is still active.", **kw)
    if status == 403:
        found = _PERMISSIONS.search(message or "")
        perms = tuple(p.strip() for p in re.split(r"[,\s]+", (found.group(1) or found.group(2))) if p.strip()) \
            if found else ()
        need = f" It needs: {', '.join(perms)}." if perms else ""
        return PermissionDenied(f"The OAuth client is not allowed to call {where}{said}.{need} Add a role with "
                                f"that permission to the OAuth client (Admin > Integrations > OAuth > Roles).",
                                missing_permissions=perms, **kw)
    if status == 404:
        return NotFound(f"Not found: {where}{said}.", **kw)
    if status == 400:
        return BadRequest(f"The API refused the request {where}{said}.", **kw)
    return GenesysError(f"Unexpected HTTP {status} from {where}{said}.", **kw)
