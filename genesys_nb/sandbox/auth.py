"""OAuth client-credentials grant and bearer-token checks, as the real login service answers."""

from __future__ import annotations

import base64
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import parse_qsl

import orjson

from .config import OAuthClient
from .errors import ApiError, oauth_error

_PRUNE_AT = 50_000


@dataclass
class Token:
    """An issued access token."""

    value: str
    client: OAuthClient
    expires_at: float
    revoked: bool = False


class OAuthError(Exception):
    """A token-endpoint failure with its OAuth-style body."""

    def __init__(self, status: int, error: str, description: str) -> None:
        super().__init__(description)
        self.status = status
        self.body = oauth_error(error, description)


class TokenStore:
    """Issues opaque random tokens and checks bearer headers against them (thread-safe)."""

    def __init__(self, clients: dict[str, OAuthClient], expired_code: str = "bad.credentials",
                 invalid_client_status: int = 400, clock: Callable[[], float] = time.monotonic) -> None:
        self.clients = clients
        self.expired_code = expired_code
        self.invalid_client_status = invalid_client_status
        self.clock = clock
        self._tokens: dict[str, Token] = {}
        self._lock = threading.Lock()

    def issue(self, client: OAuthClient) -> Token:
        """Mint a token for `client`."""
        token = Token(secrets.token_urlsafe(64), client, self.clock() + client.expires_in)
        with self._lock:
            if len(self._tokens) >= _PRUNE_AT:
                now = self.clock()
                for value in [v for v, t in self._tokens.items() if t.revoked or t.expires_at <= now]:
                    del self._tokens[value]
            self._tokens[token.value] = token
        return token

    def revoke(self, value: str) -> None:
        """Make a token unusable (it then answers like an expired one)."""
        with self._lock:
            token = self._tokens.get(value)
            if token is not None:
                token.revoked = True

    def grant(self, headers: dict[str, str], body: bytes) -> bytes:
        """Handle POST /oauth/token; returns the JSON body or raises OAuthError."""
        form = dict(parse_qsl(body.decode("latin-1"), keep_blank_values=True))
        grant_type = form.get("grant_type")
        if not grant_type:
            raise OAuthError(400, "invalid_request", "missing grant type")
        if grant_type != "client_credentials":
            raise OAuthError(400, "unsupported_grant_type", f"unsupported grant type: {grant_type}")
        client_id, secret = _credentials(headers.get("authorization", ""), form)
        if client_id is None:
            raise OAuthError(self.invalid_client_status, "invalid_client", "client credentials were not provided")
        client = self.clients.get(client_id)
        if client is None:
            raise OAuthError(self.invalid_client_status, "invalid_client", "client not found")
        if not secrets.compare_digest(secret or "", client.client_secret):
            raise OAuthError(self.invalid_client_status, "invalid_client", "authentication failed")
        token = self.issue(client)
        return orjson.dumps({"access_token": token.value, "token_type": "bearer", "expires_in": client.expires_in})

    def authenticate(self, authorization: str | None) -> Token:
        """The token of a `Bearer` header, or ApiError 401 with the real codes."""
        if not authorization:
            raise ApiError(401, "authentication.required")
        scheme, _, value = authorization.strip().partition(" ")
        value = value.strip()
        if scheme.lower() != "bearer" or not value:
            raise ApiError(401, "authentication.required")
        token = self._tokens.get(value)
        if token is None:
            raise ApiError(401, "bad.credentials")
        if token.revoked or self.clock() >= token.expires_at:
            raise ApiError(401, self.expired_code)
        return token


def _credentials(authorization: str, form: dict[str, str]) -> tuple[str | None, str | None]:
    """Client id and secret from a Basic header (as the SDK sends) or form fields (dlt, Airbyte)."""
    scheme, _, value = authorization.strip().partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("latin-1")
        except ValueError:
            return None, None
        client_id, sep, secret = decoded.partition(":")
        if sep:
            return client_id, secret
        return None, None
    if "client_id" in form:
        return form["client_id"], form.get("client_secret", "")
    return None, None
