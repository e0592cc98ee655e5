"""OAuth client credentials and the bearer tokens they buy.

Tokens are fetched lazily from the login host's ``/oauth/token`` (client id and secret in a Basic header, as the
official SDK sends them), cached, renewed shortly before ``expires_in`` runs out, and renewed when the API answers 401
(the transport decides how often a request may ask for that). One lock makes this safe when several pages are fetched at once. The secret and the tokens never
appear in a repr, a log line or an exception.
"""

from __future__ import annotations

import base64
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

import httpx
import orjson

from ..errors import AuthenticationError, ConfigError, GenesysError, NetworkError
from .retrying import RetryPolicy, Retryable, make_retrying, parse_retry_after, unresolvable_host

__all__ = ["Credentials", "TokenSource", "ClientCredentialsAuth", "StaticTokenAuth"]

log = logging.getLogger("genesys_nb.auth")


class Credentials:
    """An OAuth client id and secret. The secret is kept out of every repr and str."""

    __slots__ = ("client_id", "_secret")

    def __init__(self, client_id: str, client_secret: str) -> None:
        for value, name, env in ((client_id, "client_id", "GENESYSCLOUD_OAUTHCLIENT_ID"),
                                 (client_secret, "client_secret", "GENESYSCLOUD_OAUTHCLIENT_SECRET")):
            if not isinstance(value, str) or not value.strip():
                raise ConfigError(
                    f"No OAuth {name} given. Pass {name}= to connect(), or set {env}; the OAuth client must use "
                    f"the Client Credentials grant (Admin > Integrations > OAuth)."
                )
        self.client_id = client_id.strip()
        self._secret = client_secret.strip()

    @property
    def secret(self) -> str:
        return self._secret

    def basic_header(self) -> str:
        pair = f"{self.client_id}:{self._secret}".encode("latin-1", errors="strict")
        return "Basic " + base64.b64encode(pair).decode("ascii")

    def __repr__(self) -> str:
        return f"Credentials(client_id={self.client_id!r}, client_secret=<hidden>)"

    __str__ = __repr__

    def __reduce__(self):  # never pickle a secret into a notebook or a cache
        raise TypeError("Credentials cannot be pickled")


class TokenSource(Protocol):
    """What the transport needs from authentication."""

    def token(self) -> str: ...

    def invalidate(self, token: str) -> None: ...


class ClientCredentialsAuth:
    """Client-credentials grant with a cached token, renewed ahead of expiry and after a 401 (see invalidate)."""

    def __init__(self, credentials: Credentials, token_url: str, http: httpx.Client, *,
                 policy: RetryPolicy = RetryPolicy(), clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, region_hint: str | None = None) -> None:
        self._credentials = credentials
        self._token_url = token_url
        self._http = http
        self._policy = policy
        self._clock = clock
        self._sleep = sleep
        self._region_hint = region_hint
        self._lock = threading.Lock()
        self._token: str | None = None
        self._renew_at = 0.0
        self.fetches = 0
        self.expires_in: float | None = None

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth(client_id={self._credentials.client_id!r}, token_url={self._token_url!r})"

    @property
    def client_id(self) -> str:
        return self._credentials.client_id

    def adopt(self, token: str) -> None:
        """Use a token fetched elsewhere (an SDK ApiClient's) until the API refuses it; renew it then."""
        with self._lock:
            self._token, self._renew_at = token, float("inf")

    def token(self) -> str:
        """A bearer token valid for at least the renewal margin, fetching one if needed."""
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._fetch()
            assert self._token is not None
            return self._token

    def invalidate(self, token: str) -> None:
        """Forget ``token`` after the API rejected it; a token already renewed by another thread is kept."""
        with self._lock:
            if self._token == token:
                self._token = None

    def _fetch(self) -> None:
        retrying = make_retrying(self._policy, sleep=self._sleep)
        body = retrying(self._attempt)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise AuthenticationError("The token endpoint answered without an access_token.", url=self._token_url)
        expires_in = float(body.get("expires_in") or 86399)
        # Renew ahead of expiry: 10% of the lifetime, at most 5 minutes, so a page never goes out on a dying token.
        margin = min(300.0, 0.1 * expires_in)
        self._token, self._renew_at, self.expires_in = token, self._clock() + expires_in - margin, expires_in
        self.fetches += 1
        log.debug("fetched an access token for client %s, valid %.0f s", self._credentials.client_id, expires_in)

    def _attempt(self) -> dict:
        try:
            response = self._http.post(
                self._token_url,
                data={"grant_type": "client_credentials"},
                headers={"Authorization": self._credentials.basic_header(),
                         "Content-Type": "application/x-www-form-urlencoded"},
            )
        except httpx.TransportError as exc:
            if self.fetches == 0 and unresolvable_host(exc):
                hint = f"region {self._region_hint}" if self._region_hint else "login_url/api_url"
                raise NetworkError(f"The login host of {self._token_url} does not exist (its name does not resolve). "
                                   f"Check the {hint}.", url=self._token_url) from None
            raise Retryable("network", f"{type(exc).__name__} contacting the login host {self._token_url}") from None
        status = response.status_code
        if status == 429:
            raise Retryable("rate_limit", "the login host rate-limited the token request",
                            retry_after=parse_retry_after(response.headers.get("Retry-After")), status=429)
        if status in (500, 502, 503, 504):
            raise Retryable("server", f"the login host answered {status}", status=status)
        try:
            body = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            if status == 200:
                raise Retryable("body", "the login host sent a token response that is not JSON", status=200) from None
            body = {}
        if status == 200:
            return body
        raise self._auth_error(status, body, response.headers.get("ININ-Correlation-Id"))

    def _auth_error(self, status: int, body: dict, correlation_id: str | None) -> GenesysError:
        code = body.get("error") if isinstance(body, dict) else None
        description = (body.get("error_description") or body.get("description") or "") if isinstance(body, dict) else ""
        where = f"region {self._region_hint}" if self._region_hint else f"login host {self._token_url}"
        if code == "invalid_client":
            what = ("the client id is not known there" if "not found" in description
                    else "the client id or secret is wrong")
            message = (f"Authentication failed: {what}. Check GENESYSCLOUD_OAUTHCLIENT_ID and "
                       f"GENESYSCLOUD_OAUTHCLIENT_SECRET (or client_id=/client_secret=), and that the OAuth client "
                       f"was created in {where}: a client from another region fails the same way.")
        elif code == "unauthorized_client":
            message = ("Authentication failed: this OAuth client may not use the Client Credentials grant. "
                       "Create one with grant type 'Client Credentials' in Admin > Integrations > OAuth.")
        else:
            message = f"The login host refused the token request ({description or code or 'no reason given'})."
        return AuthenticationError(message, status=status, code=code, api_message=description or None,
                                   correlation_id=correlation_id, url=self._token_url)


class StaticTokenAuth:
    """A token handed over by someone else (an authenticated official-SDK ApiClient). It cannot be renewed."""

    def __init__(self, token: str) -> None:
        if not token:
            raise ConfigError("The SDK ApiClient has no access token: call get_client_credentials_token() on it first.")
        self._token: str | None = token
        self.fetches = 0

    def __repr__(self) -> str:
        return "StaticTokenAuth(<token hidden>)"

    def token(self) -> str:
        if self._token is None:
            raise AuthenticationError(
                "The access token adopted from the SDK ApiClient was rejected (expired or revoked) and cannot be "
                "renewed here. Authenticate the SDK client again, or connect() with client_id=/client_secret=."
            )
        return self._token

    def invalidate(self, token: str) -> None:
        if self._token == token:
            self._token = None
