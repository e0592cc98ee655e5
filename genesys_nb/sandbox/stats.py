"""Counters and a bounded request log, so tests and benchmarks can see what the sandbox served."""

from __future__ import annotations

import threading
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

REQUEST_LOG_SIZE = 10_000


class LoggedRequest(NamedTuple):
    """One served request; status 0 means the connection was dropped without an answer."""

    method: str
    path: str
    query: dict[str, Any]
    status: int


@dataclass(frozen=True)
class StatsSnapshot:
    """A copy of the counters at one moment (also readable like a dict)."""

    requests_by_endpoint: dict[str, int] = field(default_factory=dict)
    statuses: dict[int, int] = field(default_factory=dict)
    api_requests: int = 0
    token_requests: int = 0
    rate_limited: int = 0
    storm_429s: int = 0
    faults: dict[str, int] = field(default_factory=dict)
    unauthorized: int = 0
    forbidden: int = 0
    peak_concurrent: int = 0

    @property
    def total_429s(self) -> int:
        """429s sent for the rate limit and by storms together."""
        return self.rate_limited + self.storm_429s

    def __getitem__(self, name: str) -> Any:
        return getattr(self, name)

    def as_dict(self) -> dict[str, Any]:
        """The snapshot as a plain dict."""
        return {**asdict(self), "total_429s": self.total_429s}


class StatsCollector:
    """Thread-safe counters plus the in-flight gauge behind `peak_concurrent`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.log: deque[LoggedRequest] = deque(maxlen=REQUEST_LOG_SIZE)
        self.reset()

    def reset(self) -> None:
        """Zero every counter and clear the log (the in-flight gauge keeps counting)."""
        with self._lock:
            self._endpoints: Counter[str] = Counter()
            self._statuses: Counter[int] = Counter()
            self._faults: Counter[str] = Counter()
            self._api = self._token = self._limited = self._storm = 0
            self._unauth = self._forbidden = 0
            self._inflight = getattr(self, "_inflight", 0)
            self._peak = self._inflight
            self.log.clear()

    def enter(self) -> None:
        """A request started."""
        with self._lock:
            self._inflight += 1
            self._peak = max(self._peak, self._inflight)

    def leave(self) -> None:
        """A request finished."""
        with self._lock:
            self._inflight -= 1

    def record(self, endpoint: str, method: str, path: str, query: dict[str, Any], status: int, *,
               api: bool, fault: str | None = None, limited: bool = False) -> None:
        """Count one answered (or dropped) request."""
        with self._lock:
            self._endpoints[endpoint] += 1
            self._statuses[status] += 1
            if api:
                self._api += 1
            else:
                self._token += 1
            if fault:
                self._faults[fault] += 1
                if fault == "rate_limit_storm":
                    self._storm += 1
            if limited:
                self._limited += 1
            if status == 401:
                self._unauth += 1
            elif status == 403:
                self._forbidden += 1
            self.log.append(LoggedRequest(method, path, query, status))

    def snapshot(self) -> StatsSnapshot:
        """Copy the counters."""
        with self._lock:
            return StatsSnapshot(dict(self._endpoints), dict(self._statuses), self._api, self._token,
                                 self._limited, self._storm, dict(self._faults), self._unauth,
                                 self._forbidden, self._peak)
