"""Seeded fault injection: which API request fails how is a pure function of seed and number."""

from __future__ import annotations

from .config import Faults
from .hashing import hash_int, unit_float

SERVER_ERROR, DROP, TRUNCATED, NON_JSON, STORM = "server_error", "drop", "truncated", "non_json", "rate_limit_storm"
FORBIDDEN, TOKEN_EXPIRY = "forbidden", "token_expiry"
_SALT_KIND, _SALT_STATUS, _SALT_CUT = 0xFA1, 0xFA2, 0xFA3
_STATUS_CODES = {502: "bad.gateway", 503: "service.unavailable", 504: "request.timeout"}

GATEWAY_PAGE = (
    "<html>\r\n<head><title>{status} {reason}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {reason}</h1></center>\r\n<hr><center>gateway</center>\r\n</body>\r\n</html>\r\n"
)


class FaultPlan:
    """Decides the fault of each request number; `stream` separates API and token requests."""

    def __init__(self, faults: Faults, stream: int = 0) -> None:
        self.faults = faults
        self.stream = stream
        f = faults
        edges, acc = [], 0.0
        for kind, share in ((SERVER_ERROR, f.server_errors), (DROP, f.drops), (TRUNCATED, f.truncated),
                            (NON_JSON, f.non_json), (STORM, f.rate_limit_storm)):
            acc += share
            edges.append((acc, kind))
        self._edges = edges if acc > 0 else []
        self._forbidden = frozenset(f.forbidden_at)

    def _seed(self) -> int:
        return self.faults.seed * 2 + self.stream

    def decide(self, n: int, api: bool = True) -> str | None:
        """The fault for request number `n` (1-based), or None."""
        if api:
            if n in self._forbidden:
                return FORBIDDEN
            every = self.faults.token_expiry_every
            if every and n % every == 0:
                return TOKEN_EXPIRY
        if not self._edges:
            return None
        u = unit_float(n, self._seed(), _SALT_KIND)
        for edge, kind in self._edges:
            if u < edge:
                return kind
        return None

    def server_error(self, n: int) -> tuple[int, str]:
        """(status, ErrorBody code) of a 5xx fault: a seeded mix of 502, 503 and 504."""
        status = (502, 503, 504)[hash_int(n, self._seed(), _SALT_STATUS) % 3]
        return status, _STATUS_CODES[status]

    def truncate(self, body: bytes, n: int) -> bytes:
        """The body cut at a seeded point between 10% and 90% of its length (at least 1 byte gone)."""
        if len(body) < 2:
            return b""
        frac = 0.1 + 0.8 * unit_float(n, self._seed(), _SALT_CUT)
        return body[: min(len(body) - 1, max(1, int(len(body) * frac)))]


def gateway_page(status: int = 502, reason: str = "Bad Gateway") -> bytes:
    """An HTML page as a misbehaving gateway would send it."""
    return GATEWAY_PAGE.format(status=status, reason=reason).encode()
