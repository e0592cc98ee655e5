"""Client-side pacing so a long run holds the API's allowed rate without being answered 429.

Genesys limits each token to a number of requests per window (300 a minute by default) and reports it on every
response in ``inin-ratelimit-allowed`` / ``-count`` / ``-reset``. The governor keeps a log of its own recent sends
and never lets more than the allowed number go out in any span of one window plus the spread of observed
latencies, which bounds the count in any fixed server window whatever its phase. It learns the window and the
quota from the headers, also stops when the server itself reports the quota used up (another process may share
the token), and after a 429 holds every worker until ``Retry-After`` has passed. One governor serves all streams
and workers of a client.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping

__all__ = ["RateGovernor", "PacingTimeout", "PacingCancelled", "sleep_unless_cancelled"]

log = logging.getLogger("genesys_nb.governor")

#: Rate headers outside these bounds are a server's mistake (or a hostile one) and are ignored: Genesys windows are
#: a minute long; a huge quota (2**31 - 1 is announced when limiting is off) merely leaves pacing idle.
PLAUSIBLE = {"inin-ratelimit-allowed": (1, 2**31), "inin-ratelimit-count": (0, 2**31),
             "inin-ratelimit-reset": (0, 300)}
MAX_HOLD = 180.0  # no pause the server asks for lasts longer than this (RetryPolicy.max_retry_after's default)
_WHOLE = re.compile(r"\s*\d{1,12}\s*")


class PacingTimeout(Exception):
    """Pacing would make a request wait longer than it has left; ``wait`` is how long it would have waited."""

    def __init__(self, wait: float) -> None:
        super().__init__(f"pacing needs {wait:.0f} s")
        self.wait = wait


def sleep_unless_cancelled(sleep: Callable[[float], None], seconds: float, cancel: threading.Event | None) -> bool:
    """Sleep ``seconds`` unless ``cancel`` is set first; True when it was (the wait then ends at once). A sleep
    function other than ``time.sleep`` (a test's fake clock) is kept, and ``cancel`` checked before it."""
    if cancel is None:
        sleep(seconds)
        return False
    if sleep is time.sleep:
        return cancel.wait(seconds)
    if cancel.is_set():
        return True
    sleep(seconds)
    return False


class PacingCancelled(Exception):
    """The request waiting for its turn was abandoned (its stream was closed) before the turn came."""


class RateGovernor:
    """Paces request starts for one token; thread-safe."""

    def __init__(self, allowed: int = 300, window: float = 60.0, *, enabled: bool = True,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep) -> None:
        self.enabled = enabled
        self.allowed = allowed
        self.window = window
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._sends: deque[float] = deque()
        self._max_reset_seen = 0.0
        self._hold_until = 0.0
        self._rtt_min = math.inf
        self._rtt_max = 0.0
        self.waited = 0.0
        self.waits = 0
        self._ignored: set[str] = set()  # implausible headers already logged

    def __repr__(self) -> str:
        return f"RateGovernor(allowed={self.allowed}, window={self.window:g}s, enabled={self.enabled})"

    @property
    def pad(self) -> float:
        """Extra span covering how much earlier or later than its send a request may reach the server."""
        spread = 0.0 if self._rtt_min is math.inf else self._rtt_max - self._rtt_min
        return min(spread, 5.0) + 0.05

    def acquire(self, max_wait: float = math.inf, cancel: threading.Event | None = None) -> float:
        """Block until a request may start; returns the send time to hand back to :meth:`observe`.

        Raises :class:`PacingTimeout` instead of waiting longer than ``max_wait`` seconds in all, and
        :class:`PacingCancelled` once ``cancel`` is set (a wait in real time ends at once)."""
        waited = 0.0
        while True:
            with self._lock:
                now = self._clock()
                wait = self._hold_until - now
                if self.enabled:
                    horizon = self.window + self.pad
                    while self._sends and self._sends[0] <= now - horizon:
                        self._sends.popleft()
                    budget = max(1, self.allowed - 1)  # one spare for clock rounding between us and the server
                    if len(self._sends) >= budget:
                        wait = max(wait, self._sends[len(self._sends) - budget] + horizon - now)
                if wait <= 0:
                    self._sends.append(now)
                    return now
                if waited + wait > max_wait:
                    raise PacingTimeout(waited + wait)
                waited += wait
                self.waits += 1
                self.waited += wait
            if sleep_unless_cancelled(self._sleep, wait, cancel):
                raise PacingCancelled()

    def observe(self, headers: Mapping[str, str], sent_at: float, status: int) -> None:
        """Learn quota and window from a response's rate-limit headers, and the latency spread from its timing."""
        now = self._clock()
        with self._lock:
            rtt = now - sent_at
            self._rtt_min = min(self._rtt_min, rtt)
            self._rtt_max = max(self._rtt_max, rtt)
            allowed, count, reset = (self._header(headers, name) for name in PLAUSIBLE)
            if allowed:
                self.allowed = allowed
            if reset is not None and reset > self._max_reset_seen:
                # The longest time-to-reset ever reported is the best estimate of the window length.
                self._max_reset_seen = float(reset)
                self.window = max(float(reset), 1.0)
            if (allowed and count is not None and reset is not None and count >= allowed - 1
                    and count > len(self._sends) + 1):
                # The server counts more requests than we sent: someone else shares this token. Our own log cannot
                # see those, so wait for the server's reset before sending more.
                self._hold_until = max(self._hold_until, now + min(reset + self.pad, MAX_HOLD))

    def hold(self, seconds: float) -> None:
        """After a 429: hold every request of this client for ``seconds`` (at most :data:`MAX_HOLD`)."""
        with self._lock:
            self._hold_until = max(self._hold_until, self._clock() + min(seconds, MAX_HOLD))

    def _header(self, headers: Mapping[str, str], name: str) -> int | None:
        """A rate header as a whole number within :data:`PLAUSIBLE` bounds; None when absent or implausible (the
        first implausible value of each header is logged, never its text)."""
        value = headers.get(name)
        if value is None:
            return None
        low, high = PLAUSIBLE[name]
        number = int(value) if _WHOLE.fullmatch(value) else None
        if number is not None and low <= number <= high:
            return number
        if name not in self._ignored:
            self._ignored.add(name)
            log.warning("ignoring an implausible %s header (not a whole number from %d to %d); pacing goes on "
                        "from what was seen before", name, low, high)
        return None
