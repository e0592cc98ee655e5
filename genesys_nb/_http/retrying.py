"""The retry policy shared by the token fetch and every API request, built on tenacity.

What is retried follows Genesys's own guidance (the .NET/Java SDK retry class and the CLI): a 429 waits its
``Retry-After`` (3 s when the header is missing or unusable) unless that is over 180 s; 500/502/503/504, network
faults and a 200 whose body is not JSON back off exponentially with jitter. 429s get their own, larger budget because
they are instructions to wait rather than failures.

One logical request has one :class:`Budget`: the attempts at the API *and* at the token endpoint made on its behalf
count against the same limits and the same deadline (``max_elapsed``), and no wait runs past that deadline.
:func:`classify` is the one reading of an HTTP status that both the transport and the token fetch use.
"""

from __future__ import annotations

import email.utils
import enum
import errno
import math
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields

import tenacity
from tenacity import RetryCallState

import httpx

from ..errors import ConfigError, GenesysError, NetworkError, RateLimited, ServerError

__all__ = ["RetryPolicy", "Retryable", "Budget", "Verdict", "classify", "retry_for", "exhausted_error",
           "parse_retry_after", "make_retrying", "unresolvable_host", "refused_connection", "path_of"]

#: A ``Retry-After`` below this many seconds (0, negative, a past date) is raised to it (or to the policy's
#: ``default_retry_after`` when that is shorter): a server's "now" must not mean 20 retries in one second.
MIN_RETRY_AFTER = 1.0


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up, and how much a response may weigh. The defaults suit a long export."""

    max_fault_retries: int = 6  # 5xx, network errors, unparsable bodies, per request (token fetches included)
    max_rate_limit_retries: int = 20  # 429s waited out, per request
    max_retry_after: float = 180.0  # a longer Retry-After raises RateLimited instead of blocking
    default_retry_after: float = 3.0  # a 429 without a usable header
    base_delay: float = 0.5  # first back-off for faults; doubles each time
    max_delay: float = 30.0
    max_elapsed: float = 600.0  # per request, all attempts and waits included: a deadline, not a hint
    max_body_bytes: int = 64 * 2**20  # a larger response body is refused while it streams in

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if f.type == "int":
                ok = isinstance(value, int) and not isinstance(value, bool) and value >= (f.name == "max_body_bytes")
                kind = "a whole number" + (" of at least 1" if f.name == "max_body_bytes" else " (0 or more)")
            else:
                ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and (
                    value > 0 if f.name in ("max_retry_after", "max_elapsed") else value >= 0)
                kind = "a finite number of seconds" + (" above 0" if f.name in ("max_retry_after", "max_elapsed")
                                                       else " (0 or more)")
            if not ok:
                raise ConfigError(f"RetryPolicy({f.name}=...) must be {kind}, not {value!r}.")
        if self.max_delay < self.base_delay:
            raise ConfigError(f"RetryPolicy(max_delay={self.max_delay!r}) must not be below base_delay={self.base_delay!r}.")

    @property
    def min_retry_after(self) -> float:
        """The shortest wait a 429 gets, whatever its ``Retry-After`` says."""
        return min(MIN_RETRY_AFTER, self.default_retry_after)


class Retryable(Exception):
    """An attempt failed in a way worth retrying. ``kind`` is 'rate_limit', 'server', 'network' or 'body';
    ``url`` is where it failed (the API or the token endpoint)."""

    def __init__(self, kind: str, detail: str, *, retry_after: float | None = None, status: int | None = None,
                 code: str | None = None, correlation_id: str | None = None, url: str | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.retry_after = retry_after
        self.status = status
        self.code = code
        self.correlation_id = correlation_id
        self.url = url


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None when absent, unreadable or not
    finite (``nan``, ``inf``). Values in the past or below zero read as 0."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        seconds = moment.timestamp() - time.time()
    return max(0.0, seconds) if math.isfinite(seconds) else None


class Verdict(enum.Enum):
    """What one HTTP status means for the request that got it."""

    OK = "ok"  # 2xx: read the body
    RENEW = "renew"  # 401: the bearer token was refused
    RATE_LIMITED = "rate_limited"  # 429: wait and retry
    SERVER_FAULT = "server_fault"  # 500/502/503/504: back off and retry
    FINAL = "final"  # anything else: an error to report


def classify(status: int) -> Verdict:
    """The one reading of an HTTP status, shared by the API requests and the token fetch."""
    if 200 <= status < 300:
        return Verdict.OK
    if status == 401:
        return Verdict.RENEW
    if status == 429:
        return Verdict.RATE_LIMITED
    if status in (500, 502, 503, 504):
        return Verdict.SERVER_FAULT
    return Verdict.FINAL


def retry_for(verdict: Verdict, headers: Mapping[str, str], policy: RetryPolicy, *, url: str, where: str,
              status: int, code: str | None = None) -> Retryable:
    """The :class:`Retryable` for a 429 or a 5xx answer, its wait bounded both ways.

    A 429 asking for more than ``policy.max_retry_after`` raises :class:`RateLimited` at once (``where`` names the
    host in its message); a 429 asking for less than ``policy.min_retry_after`` waits that long."""
    correlation_id = headers.get("ININ-Correlation-Id")
    asked = parse_retry_after(headers.get("Retry-After"))
    if verdict is Verdict.RATE_LIMITED:
        wait = policy.default_retry_after if asked is None else max(asked, policy.min_retry_after)
        if wait > policy.max_retry_after:
            raise RateLimited(f"{where} asked to wait {wait:.0f} s, longer than the toolkit waits "
                              f"(RetryPolicy.max_retry_after = {policy.max_retry_after:g} s). A daily limit may be "
                              f"used up; try again later.", retry_after=wait, status=status, code=code,
                              correlation_id=correlation_id, url=url)
        return Retryable("rate_limit", "429 Too Many Requests", retry_after=wait, status=status, code=code,
                         correlation_id=correlation_id, url=url)
    return Retryable("server", f"HTTP {status}", retry_after=asked, status=status, code=code,
                     correlation_id=correlation_id, url=url)


_NO_SUCH_HOST = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


def _causes(exc: BaseException):
    seen: BaseException | None = exc
    for _ in range(8):
        if seen is None:
            return
        yield seen
        seen = seen.__cause__ or seen.__context__


def unresolvable_host(exc: BaseException) -> bool:
    """True when a connection failed because the host name does not exist (not a passing resolver hiccup:
    ``EAI_AGAIN`` is not counted). Before any answer from a host this is a setting to fix, not a fault to retry."""
    return any(isinstance(e, socket.gaierror) and e.errno in _NO_SUCH_HOST for e in _causes(exc))


def refused_connection(exc: BaseException) -> bool:
    """True when nothing listens on the host and port (``ECONNREFUSED``): before that host has ever answered, a
    setting to fix."""
    return any(isinstance(e, ConnectionRefusedError) or (isinstance(e, OSError) and e.errno == errno.ECONNREFUSED)
               for e in _causes(exc)) or "Connection refused" in str(exc)


def proxy_refusal(exc: BaseException) -> str | None:
    """The status an HTTP proxy (from ``HTTPS_PROXY``/``ALL_PROXY``) answered when it refused to open the tunnel with
    a 4xx (``407 Proxy Authentication Required``, its own rules): a setting to fix, not a fault to retry. A proxy's
    5xx is retried like any network fault."""
    if isinstance(exc, httpx.ProxyError):
        text = str(exc).strip()
        if len(text) >= 3 and text[0] == "4" and text[:3].isdigit():
            return text[:120]
    return None


def proxy_refused_error(exc: BaseException, host_url: str) -> NetworkError | None:
    """The NetworkError for a proxy that refused to reach ``host_url`` (see :func:`proxy_refusal`), else None."""
    refusal = proxy_refusal(exc)
    if refusal is None:
        return None
    return NetworkError(f"The HTTP proxy from the environment (HTTPS_PROXY, HTTP_PROXY or ALL_PROXY) refused to "
                        f"connect to {host_url}: {refusal}. Check the proxy's address and credentials, or list the "
                        f"host in NO_PROXY.", url=host_url)


@dataclass
class Budget:
    """What one logical request may still spend: attempts by kind and time until its deadline."""

    policy: RetryPolicy
    clock: Callable[[], float] = time.monotonic
    started: float = field(default=0.0)
    counts: dict[str, int] = field(default_factory=dict)
    attempts: int = 0  # every request sent: API and token endpoint
    rate_limited: int = 0
    replays: int = 0  # 401s answered by sending again (with a token renewed by this request or another)

    def __post_init__(self) -> None:
        self.started = self.clock()

    @property
    def deadline(self) -> float:
        return self.started + self.policy.max_elapsed

    def remaining(self) -> float:
        return self.deadline - self.clock()

    def wait(self, state: RetryCallState) -> float:
        """tenacity ``wait`` (worked out before ``stop``): the wait after the failure just seen."""
        exc = state.outcome.exception() if state.outcome else None
        return self._wait_for(exc, state) if isinstance(exc, Retryable) else 0.0

    def stop(self, state: RetryCallState) -> bool:
        """tenacity ``stop``: a kind's budget is spent, or the coming wait would run past the deadline."""
        exc = state.outcome.exception() if state.outcome else None
        if not isinstance(exc, Retryable):
            return True
        self.counts[exc.kind] = self.counts.get(exc.kind, 0) + 1
        faults = sum(v for k, v in self.counts.items() if k != "rate_limit")
        if self.counts.get("rate_limit", 0) > self.policy.max_rate_limit_retries or faults > self.policy.max_fault_retries:
            return True
        return state.upcoming_sleep >= self.remaining()

    def _wait_for(self, exc: Retryable, state: RetryCallState) -> float:
        if exc.kind == "rate_limit":
            return exc.retry_after if exc.retry_after is not None else self.policy.default_retry_after
        backoff = tenacity.wait_exponential_jitter(multiplier=self.policy.base_delay, max=self.policy.max_delay,
                                                   jitter=self.policy.base_delay)(state)
        if exc.retry_after is not None and state.attempt_number <= 5:
            return max(backoff, min(exc.retry_after, self.policy.max_delay))
        return backoff


def make_retrying(budget: Budget, *, sleep: Callable[[float], None] = time.sleep,
                  before_sleep: Callable[[RetryCallState], None] | None = None) -> tenacity.Retrying:
    """A tenacity ``Retrying`` that retries :class:`Retryable` within ``budget`` and re-raises the last one."""
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(Retryable),
        wait=budget.wait,
        stop=budget.stop,
        sleep=sleep,
        reraise=True,
        before_sleep=before_sleep,
    )


def path_of(url: str | None) -> str:
    """The path of ``url`` for messages (no host, no query)."""
    if not url:
        return "(unknown)"
    try:
        return httpx.URL(url).raw_path.decode("ascii", "replace").split("?")[0]
    except (httpx.InvalidURL, TypeError):
        return "(an unreadable URL)"


def exhausted_error(exc: Retryable, tries: int) -> GenesysError:
    """The error for a request whose last failure was ``exc`` after ``tries`` attempts, naming where it failed."""
    where = path_of(exc.url)
    login = where.endswith("/oauth/token")
    if exc.kind == "rate_limit":
        return RateLimited(f"Still rate-limited after {tries} attempts at {where}. Another process may be using "
                           f"the same OAuth client's quota; wait a minute and resume.", status=429,
                           retry_after=exc.retry_after, correlation_id=exc.correlation_id, url=exc.url)
    if exc.kind == "network":
        return NetworkError(f"Could not reach the {'login host' if login else 'API'} at {where} after {tries} "
                            f"attempts ({exc.detail}). Check the network or proxy, then resume.", url=exc.url)
    return ServerError(f"The {'login host' if login else 'API'} kept failing at {where} after {tries} attempts "
                       f"({exc.detail}). Genesys may be having trouble; resume later.", status=exc.status,
                       code=exc.code, correlation_id=exc.correlation_id, url=exc.url)
