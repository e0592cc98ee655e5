"""Sends one API request and returns its parsed JSON, surviving what the real API does.

Each attempt waits for the rate governor, takes a bearer token from the auth layer, and sends with httpx. A 401
renews the token once and replays the request; 429, 5xx, network faults and 200s whose body is not JSON are retried
per :class:`~genesys_nb._http.retrying.RetryPolicy`; anything else becomes a precise :mod:`genesys_nb.errors` exception.
Bodies are parsed with orjson (or a caller's decoder) and never read as an empty page when they do not parse.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import orjson

from .auth import TokenSource
from ..errors import (AuthenticationError, BadRequest, GenesysError, NetworkError, NotFound, PermissionDenied,
                     RateLimited, ServerError)
from .governor import RateGovernor
from .retrying import RetryPolicy, Retryable, make_retrying, parse_retry_after, unresolvable_host

__all__ = ["Response", "Transport", "TransportCounters"]

log = logging.getLogger("genesys_nb.transport")

MAX_FRESH_REFUSALS = 3  # 401s per request for tokens refused on their first use: the client itself is refused
MAX_RENEWALS = 10  # 401s per request in all (tokens that had worked, then expired or were revoked)
_PERMISSIONS = re.compile(r"permission\(s\):\s*(.+?)\s*$|permissions assigned:\s*(.+?)\s*$", re.I)


@dataclass(frozen=True)
class Response:
    """A successful API response: the parsed body and what it cost to get it."""

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


class Transport:
    """The one place requests go out. Thread-safe: streams fetch pages from worker threads through it."""

    def __init__(self, api_url: str, auth: TokenSource, http: httpx.Client, *, policy: RetryPolicy = RetryPolicy(),
                 governor: RateGovernor | None = None, sleep: Callable[[float], None] = time.sleep) -> None:
        self.api_url = api_url.rstrip("/")
        self.auth = auth
        self.http = http
        self.policy = policy
        self.governor = governor or RateGovernor()
        self.counters = TransportCounters()
        self._sleep = sleep
        self._proven: deque[str] = deque(maxlen=16)  # tokens that have had a non-401 answer
        self._reached = False  # has the API host ever answered? (a name that never resolved is a setting to fix)

    def __repr__(self) -> str:
        return f"Transport(api_url={self.api_url!r}, governor={self.governor!r})"

    def url_for(self, path_or_url: str) -> str:
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.api_url}/{path_or_url.lstrip('/')}"

    def request(self, method: str, path: str, *, params: Mapping[str, Any] | None = None, json: Any = None,
                decode: Callable[[bytes], Any] | None = None) -> Response:
        """Send ``method path`` and return the parsed JSON body, retrying per the policy.

        ``decode`` parses a successful body instead of ``orjson.loads`` (e.g. straight into Arrow, in the calling
        worker thread); a ``ValueError`` from it is retried like any body that is not JSON."""
        parse = decode or orjson.loads
        url = self.url_for(path)
        content = orjson.dumps(json) if json is not None else None
        attempts = 0
        rate_limited = 0
        renewals = 0
        fresh_refusals = 0

        def attempt() -> Response:
            nonlocal attempts, rate_limited, renewals, fresh_refusals
            while True:
                attempts += 1
                token = self.auth.token()
                sent_at = self.governor.acquire()
                try:
                    response = self.http.request(
                        method, url, params=params, content=content,
                        headers={"Authorization": f"Bearer {token}", "Accept": "application/json",
                                 **({"Content-Type": "application/json"} if content is not None else {})},
                    )
                except httpx.TransportError as exc:
                    if not self._reached and unresolvable_host(exc):
                        raise NetworkError(f"The API host in {self.api_url} does not exist (its name does not "
                                           f"resolve). Check the region or api_url.", url=url) from None
                    raise Retryable("network", f"{type(exc).__name__}: {_safe(exc)}") from None
                self._reached = True
                self.governor.observe(response.headers, sent_at, response.status_code)
                if response.status_code != 401:
                    if token not in self._proven:
                        self._proven.append(token)
                elif renewals < MAX_RENEWALS and (token in self._proven or fresh_refusals < MAX_FRESH_REFUSALS):
                    # Expired or revoked token: renew it and replay. Another worker may have renewed it already, and
                    # a renewed token may itself be revoked before the replay lands. A token refused on its very
                    # first use, again and again, means the OAuth client itself is refused: that is an error.
                    renewals += 1
                    fresh_refusals += token not in self._proven
                    self.counters.add(renewals=1)
                    self.auth.invalidate(token)
                    log.info("token rejected (401); renewing it and replaying %s %s", method, _path(url))
                    continue
                break
            if response.status_code == 429:
                rate_limited += 1
                wait = parse_retry_after(response.headers.get("Retry-After"))
                wait = self.policy.default_retry_after if wait is None else wait
                if wait > self.policy.max_retry_after:
                    raise _error(response, url, retry_after=wait)
                self.governor.hold(wait)
                raise Retryable("rate_limit", "429 Too Many Requests", retry_after=wait, status=429,
                                correlation_id=response.headers.get("ININ-Correlation-Id"))
            if response.status_code in (500, 502, 503, 504):
                raise Retryable("server", f"HTTP {response.status_code}", status=response.status_code,
                                retry_after=parse_retry_after(response.headers.get("Retry-After")),
                                code=_code(response), correlation_id=response.headers.get("ININ-Correlation-Id"))
            if response.status_code >= 300:
                raise _error(response, url)
            raw = response.content
            try:
                body = parse(raw) if raw else None
            except ValueError:  # orjson.JSONDecodeError and Arrow's parse errors are ValueErrors
                raise Retryable("body", f"HTTP {response.status_code} with a body that is not valid JSON "
                                        f"({len(raw)} bytes, starts {raw[:40]!r})", status=response.status_code,
                                correlation_id=response.headers.get("ININ-Correlation-Id")) from None
            return Response(body, response.status_code, response.headers, len(raw), attempts, rate_limited, url)

        def before_sleep(state) -> None:
            exc = state.outcome.exception()
            log.info("retrying %s %s after %s (attempt %d)", method, _path(url), getattr(exc, "detail", exc),
                     state.attempt_number)

        retrying = make_retrying(self.policy, sleep=self._sleep, before_sleep=before_sleep)
        try:
            result = retrying(attempt)
        except Retryable as exc:
            raise _exhausted(exc, url, attempts) from None
        finally:
            self.counters.add(requests=attempts, retries=max(0, attempts - 1), rate_limited=rate_limited)
        return result


def _path(url: str) -> str:
    return httpx.URL(url).raw_path.decode("ascii", "replace")


def _safe(exc: Exception) -> str:
    return str(exc)[:200] or type(exc).__name__


def _code(response: httpx.Response) -> str | None:
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None
    return body.get("code") if isinstance(body, dict) else None


def _exhausted(exc: Retryable, url: str, attempts: int) -> GenesysError:
    where = _path(url)
    if exc.kind == "rate_limit":
        return RateLimited(f"Still rate-limited after {attempts} attempts at {where}. Another process may be using "
                           f"the same OAuth client's quota; wait a minute and resume.", status=429,
                           retry_after=exc.retry_after, correlation_id=exc.correlation_id, url=url)
    if exc.kind == "network":
        return NetworkError(f"Could not reach the API at {where} after {attempts} attempts ({exc.detail}). Check the "
                            f"network or proxy, then resume.", url=url)
    return ServerError(f"The API kept failing at {where} after {attempts} attempts ({exc.detail}). Genesys may be "
                       f"having trouble; resume later.", status=exc.status, code=exc.code,
                       correlation_id=exc.correlation_id, url=url)


def _error(response: httpx.Response, url: str, *, retry_after: float | None = None) -> GenesysError:
    """Map a final non-success response onto the exception a user can act on."""
    status = response.status_code
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = {}
    body = body if isinstance(body, dict) else {}
    code, message = body.get("code"), body.get("message")
    corr = response.headers.get("ININ-Correlation-Id") or body.get("contextId")
    where = _path(url)
    kw = {"status": status, "code": code, "api_message": message, "correlation_id": corr, "url": url}
    said = f": {message}" if message else ""
    if status == 429:
        return RateLimited(f"The API asked to wait {retry_after:.0f} s at {where}, longer than the toolkit waits "
                           f"(RetryPolicy.max_retry_after). A daily limit may be used up; try again later.",
                           retry_after=retry_after, **kw)
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
