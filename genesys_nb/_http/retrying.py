"""The retry policy shared by the token fetch and every API request, built on tenacity.

What is retried follows Genesys's own guidance (the .NET/Java SDK retry class and the CLI): a 429 waits its
``Retry-After`` (3 s when the header is missing) unless that is over 180 s; 500/502/503/504, network faults and a
200 whose body is not JSON back off exponentially with jitter. 429s get their own, larger budget because they are
instructions to wait rather than failures.
"""

from __future__ import annotations

import email.utils
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

import tenacity
from tenacity import RetryCallState

__all__ = ["RetryPolicy", "Retryable", "parse_retry_after", "make_retrying", "unresolvable_host"]

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try before giving up. The defaults suit a long export against a real org."""

    max_fault_retries: int = 6  # 5xx, network errors, unparsable bodies, per request
    max_rate_limit_retries: int = 20  # 429s waited out, per request
    max_retry_after: float = 180.0  # a longer Retry-After raises RateLimited instead of blocking
    default_retry_after: float = 3.0  # a 429 without the header
    base_delay: float = 0.5  # first back-off for faults; doubles each time
    max_delay: float = 30.0
    max_elapsed: float = 600.0  # per request, all retries included

    def __post_init__(self) -> None:
        if self.max_fault_retries < 0 or self.max_rate_limit_retries < 0 or self.base_delay < 0:
            raise ValueError("retry counts and delays must not be negative")


class Retryable(Exception):
    """An attempt failed in a way worth retrying. ``kind`` is 'rate_limit', 'server', 'network' or 'body'."""

    def __init__(self, kind: str, detail: str, *, retry_after: float | None = None, status: int | None = None,
                 code: str | None = None, correlation_id: str | None = None) -> None:
        super().__init__(detail)
        self.kind = kind
        self.detail = detail
        self.retry_after = retry_after
        self.status = status
        self.code = code
        self.correlation_id = correlation_id


def parse_retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header (delta-seconds or an HTTP date); None when absent or unreadable."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, moment.timestamp() - time.time()) if moment else None


_NO_SUCH_HOST = {socket.EAI_NONAME, getattr(socket, "EAI_NODATA", socket.EAI_NONAME)}


def unresolvable_host(exc: BaseException) -> bool:
    """True when a connection failed because the host name does not exist (not a passing resolver hiccup:
    ``EAI_AGAIN`` is not counted). Before any answer from a host this is a setting to fix, not a fault to retry."""
    seen: BaseException | None = exc
    for _ in range(6):
        if seen is None:
            return False
        if isinstance(seen, socket.gaierror) and seen.errno in _NO_SUCH_HOST:
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class _Stop(tenacity.stop.stop_base):
    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy

    def __call__(self, state: RetryCallState) -> bool:
        exc = state.outcome.exception() if state.outcome else None
        counts = state.retry_object.statistics.setdefault("by_kind", {})
        if isinstance(exc, Retryable):
            counts[exc.kind] = counts.get(exc.kind, 0) + 1
        rate = counts.get("rate_limit", 0)
        faults = sum(v for k, v in counts.items() if k != "rate_limit")
        if rate > self.policy.max_rate_limit_retries or faults > self.policy.max_fault_retries:
            return True
        return state.seconds_since_start >= self.policy.max_elapsed


class _Wait(tenacity.wait.wait_base):
    def __init__(self, policy: RetryPolicy) -> None:
        self.policy = policy
        self.backoff = tenacity.wait_exponential_jitter(multiplier=policy.base_delay, max=policy.max_delay,
                                                        jitter=policy.base_delay)

    def __call__(self, state: RetryCallState) -> float:
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, Retryable) and exc.kind == "rate_limit":
            return exc.retry_after if exc.retry_after is not None else self.policy.default_retry_after
        if isinstance(exc, Retryable) and exc.retry_after is not None and state.attempt_number <= 5:
            return min(exc.retry_after, self.policy.max_delay)
        return self.backoff(state)


def make_retrying(policy: RetryPolicy, *, sleep: Callable[[float], None] = time.sleep,
                  before_sleep: Callable[[RetryCallState], None] | None = None) -> tenacity.Retrying:
    """A tenacity ``Retrying`` that retries :class:`Retryable` per ``policy`` and re-raises the last one."""
    return tenacity.Retrying(
        retry=tenacity.retry_if_exception_type(Retryable),
        wait=_Wait(policy),
        stop=_Stop(policy),
        sleep=sleep,
        reraise=True,
        before_sleep=before_sleep,
    )
