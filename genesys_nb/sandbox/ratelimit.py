"""Fixed-window rate limiting per access token, as the inin-ratelimit-* headers describe it."""

from __future__ import annotations

import math
import threading
import time
from dataclasses import dataclass
from typing import Callable

_PRUNE_AT = 10_000
UNLIMITED = 2**31 - 1  # the quota announced when rate limiting is off


@dataclass(frozen=True)
class RateDecision:
    """Outcome of one request against its token's window."""

    allowed: bool
    limit: int
    count: int
    reset: int  # whole seconds until the window resets

    def headers(self) -> list[tuple[str, str]]:
        """The inin-ratelimit-* headers for this request."""
        return [("inin-ratelimit-allowed", str(self.limit)), ("inin-ratelimit-count", str(self.count)),
                ("inin-ratelimit-reset", str(self.reset))]


class RateLimiter:
    """`limit` requests per `window` seconds per token; the window opens at the token's first
    request after the previous window ended."""

    def __init__(self, limit: int, window: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._windows: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def hit(self, token: str) -> RateDecision:
        """Count one request of `token` and say whether it is within the limit."""
        now = self.clock()
        with self._lock:
            w = self._windows.get(token)
            if w is None or now >= w[0] + self.window:
                if len(self._windows) >= _PRUNE_AT:
                    self._prune(now)
                w = self._windows[token] = [now, 0]
            w[1] += 1
            count = int(w[1])
            left = w[0] + self.window - now
        return RateDecision(count <= self.limit, self.limit, count, max(1, math.ceil(left)))

    def reset(self) -> None:
        """Forget all windows."""
        with self._lock:
            self._windows.clear()

    def _prune(self, now: float) -> None:
        for token in [t for t, w in self._windows.items() if now >= w[0] + self.window]:
            del self._windows[token]
