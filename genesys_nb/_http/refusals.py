"""When a 401 is worth renewing the token and sending again, judged from what every worker has seen.

Genesys answers 401 for an expired or revoked token, and for a token of an OAuth client that is refused. The first
is cured by renewing the token; the second is not, however often it is renewed. Concurrent workers share one token,
so a request's own history says little: a token may be revoked again and again before one worker's replay lands,
while the others' replays succeed. What tells the two apart is whether *any* request gets an answer other than 401
between the refusals. This module keeps that record for one transport.
"""

from __future__ import annotations

import threading
from collections import deque

from .auth import AccessToken

__all__ = ["TokenRefusals", "MAX_REFUSALS_IN_A_ROW", "MAX_FRESH_REFUSALS_IN_A_ROW"]

MAX_REFUSALS_IN_A_ROW = 10  # tokens refused with no other answer in between, from any request: it refuses every token
MAX_FRESH_REFUSALS_IN_A_ROW = 3  # renewed tokens refused on their very first use, with no other answer in between
_REMEMBERED = 16  # recent tokens kept to tell a token's first use (enough for any renewal burst)


class TokenRefusals:
    """Thread-safe record of which recent tokens were sent and accepted, and of the 401s in a row since the API last
    accepted one."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._sent: deque[AccessToken] = deque(maxlen=_REMEMBERED)
        self._accepted: deque[AccessToken] = deque(maxlen=_REMEMBERED)
        self._refused: deque[AccessToken] = deque(maxlen=_REMEMBERED)
        self._in_a_row = 0
        self._fresh_in_a_row = 0

    def sending(self, token: AccessToken) -> bool:
        """Note that a request goes out with ``token``; True when it is the first to (its 401 then speaks of the
        token itself; a later one's may come from an expiry that the first ones' uses led to)."""
        with self._lock:
            if token in self._sent:
                return False
            self._sent.append(token)
            return True

    def accepted(self, token: AccessToken) -> None:
        """The API answered a request sent with ``token`` with something other than 401: renewals have helped."""
        with self._lock:
            if token not in self._accepted:
                self._accepted.append(token)
            self._in_a_row = self._fresh_in_a_row = 0

    def worth_renewing(self, token: AccessToken, first_use: bool) -> bool:
        """Record a 401 for ``token`` and say whether renewing it may help: False once the API has refused
        :data:`MAX_REFUSALS_IN_A_ROW` tokens, or :data:`MAX_FRESH_REFUSALS_IN_A_ROW` new tokens on their first use,
        without accepting anything in between (the OAuth client itself is refused). A token counts once, however
        many workers were refused with it (32 requests in flight when it expires are one refusal, not 32)."""
        with self._lock:
            fresh = first_use and token not in self._accepted
            if self._in_a_row >= MAX_REFUSALS_IN_A_ROW or (
                    fresh and self._fresh_in_a_row >= MAX_FRESH_REFUSALS_IN_A_ROW):
                return False
            if token not in self._refused:
                self._refused.append(token)
                self._in_a_row += 1
                self._fresh_in_a_row += fresh
            return True
