"""OAuth client credentials and the bearer tokens they buy.

Tokens are fetched lazily from the login host's ``/oauth/token`` (client id and secret in a Basic header, as the
official SDK sends them), checked (RFC 6750 characters, a sane ``expires_in``), cached, renewed shortly before
``expires_in`` runs out, and renewed when the API answers 401 (the transport decides how often a request may ask for
that). One lock makes this safe when several pages are fetched at once.

A token is held in an :class:`AccessToken`, whose repr and str never show it, so that no traceback printed with its
locals (``pytest --showlocals``, rich, IPython's verbose mode) carries it. :meth:`ClientCredentialsAuth.access_token`
makes at most one request to the token endpoint and raises :class:`~genesys_nb._http.retrying.Retryable` for a fault
worth retrying: the transport retries it within the budget of the API request it serves, so token retries never
multiply inside request retries. The secret and the tokens never appear in a repr, a log line or an exception.
"""

from __future__ import annotations

import base64
import logging
import math
import re
import threading
import time
from collections.abc import Callable
from typing import NamedTuple, Protocol

import httpx
import orjson

from ..errors import AuthenticationError, ConfigError, GenesysError, NetworkError
from .retrying import (Budget, RetryPolicy, Retryable, Verdict, classify, exhausted_error, make_retrying,
                       proxy_refused_error, refused_connection, retry_for, unresolvable_host)
from .sending import Answer, send

__all__ = ["AccessToken", "Credentials", "TokenSource", "ClientCredentialsAuth", "StaticTokenAuth",
           "is_bearer_token"]

log = logging.getLogger("genesys_nb.auth")

_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")  # RFC 6750 section 2.1
MAX_TOKEN_LENGTH = 16_384
MIN_EXPIRES_IN, MAX_EXPIRES_IN = 1.0, 366 * 86400.0
DEFAULT_EXPIRES_IN = 86399.0  # when the login host does not say (Genesys's own default lifetime)
MAX_TOKEN_BODY = 1 << 20  # a token response is a few hundred bytes


def is_bearer_token(value: object) -> bool:
    """True for a string of RFC 6750 ``b64token`` characters of a sane length: safe in an Authorization header."""
    return isinstance(value, str) and 0 < len(value) <= MAX_TOKEN_LENGTH and _B64TOKEN.fullmatch(value) is not None


class AccessToken:
    """A bearer token. Its repr and str never show it; compare two with ``==``."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def header(self) -> str:
        """The ``Authorization`` header value (build it inside the call that sends it, never into a local)."""
        return "Bearer " + self._value

    def reveal(self) -> str:
        return self._value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, AccessToken) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __repr__(self) -> str:
        return "AccessToken(<hidden>)"

    __str__ = __repr__

    def __reduce__(self):  # never pickle a token into a notebook or a cache
        raise TypeError("AccessToken cannot be pickled")


def _header_safe(value: str, name: str, env: str) -> None:
    """A ConfigError (naming neither the value nor its characters) when ``value`` cannot go in a Basic header."""
    try:
        value.encode("latin-1")
    except UnicodeEncodeError:
        raise ConfigError(f"The OAuth {name} holds a character that cannot be sent (HTTP Basic authentication takes "
                          f"Latin-1 characters only). Copy it again from Admin > Integrations > OAuth, or check "
                          f"{env}.") from None
    if any(ord(c) < 32 or ord(c) == 127 for c in value) or (name == "client_id" and ":" in value):
        raise ConfigError(f"The OAuth {name} holds a control character" + (" or a ':'" if name == "client_id" else "")
                          + f", which it never does. Copy it again from Admin > Integrations > OAuth, or check {env}.")


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
            _header_safe(value.strip(), name, env)
        self.client_id = client_id.strip()
        self._secret = client_secret.strip()

    def basic_header(self) -> str:
        return "Basic " + base64.b64encode(f"{self.client_id}:{self._secret}".encode("latin-1")).decode("ascii")

    def __repr__(self) -> str:
        return f"Credentials(client_id={self.client_id!r}, client_secret=<hidden>)"

    __str__ = __repr__

    def __reduce__(self):  # never pickle a secret into a notebook or a cache
        raise TypeError("Credentials cannot be pickled")


class TokenSource(Protocol):
    """What the transport needs from authentication."""

    def access_token(self) -> AccessToken:
        """A token valid for a while; at most one request to a token endpoint, a fault raised as Retryable."""
        ...

    def invalidate(self, token: AccessToken) -> bool:
        """Forget ``token`` after the API refused it; False when it was already forgotten (another worker renewed
        it)."""
        ...


class _Granted(NamedTuple):
    token: AccessToken
    expires_in: float


def _read_grant(content: bytes) -> _Granted | str | None:
    """A checked token and lifetime from a 200 token response; a description of what is wrong (never quoting the
    token), or None when the body is not JSON. Never raises: a traceback from here would show the body."""
    try:
        body = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    if not isinstance(body, dict):
        return "its body is not a JSON object"
    value = body.pop("access_token", None)
    if not isinstance(value, str) or not value:
        return "it holds no access_token"
    if not is_bearer_token(value):
        return ("its access_token is not a bearer token (RFC 6750 allows letters, digits and -._~+/ only, at most "
                f"{MAX_TOKEN_LENGTH:,} characters)")
    kind = body.get("token_type")
    if kind is not None and (not isinstance(kind, str) or kind.lower() != "bearer"):
        return "its token_type is not 'bearer'"
    expires = body.get("expires_in", DEFAULT_EXPIRES_IN)
    if isinstance(expires, bool) or not isinstance(expires, (int, float)) or not math.isfinite(expires) \
            or not MIN_EXPIRES_IN <= expires <= MAX_EXPIRES_IN:
        shown = type(expires).__name__ if not isinstance(expires, (int, float)) or isinstance(expires, bool) \
            else f"{expires:g}"
        return (f"its expires_in ({shown}) is not a number of seconds from {MIN_EXPIRES_IN:g} to "
                f"{MAX_EXPIRES_IN:g}")
    return _Granted(AccessToken(value), float(expires))


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
        self._token: AccessToken | None = None
        self._renew_at = 0.0
        self._answered = False  # has the login host ever answered? (a host that never did is a setting to fix)
        self.fetches = 0
        self.expires_in: float | None = None

    def __repr__(self) -> str:
        return f"ClientCredentialsAuth(client_id={self._credentials.client_id!r}, token_url={self._token_url!r})"

    @property
    def client_id(self) -> str:
        return self._credentials.client_id

    def adopt(self, token: str) -> None:
        """Use a token fetched elsewhere (an SDK ApiClient's) until the API refuses it; renew it then."""
        adopted = _adopted(token)
        with self._lock:
            self._token, self._renew_at = adopted, float("inf")

    def access_token(self) -> AccessToken:
        """A bearer token valid for at least the renewal margin, fetching one (one request) if needed."""
        with self._lock:
            if self._token is None or self._clock() >= self._renew_at:
                self._fetch_once()
            assert self._token is not None
            return self._token

    def token(self) -> str:
        """The bearer token itself, fetched with the whole retry policy if needed (for code that calls the API
        by other means; the toolkit itself keeps it in an :class:`AccessToken`)."""
        budget = Budget(self._policy)
        try:
            return make_retrying(budget, sleep=self._sleep)(self.access_token).reveal()
        except Retryable as exc:
            raise exhausted_error(exc, sum(budget.counts.values())) from None

    def invalidate(self, token: AccessToken) -> bool:
        """Forget ``token`` after the API rejected it; a token already renewed by another thread is kept (False)."""
        with self._lock:
            if self._token == token:
                self._token = None
                return True
            return False

    def _fetch_once(self) -> None:
        answer = self._post()
        self._answered = True
        verdict = classify(answer.status)
        if verdict in (Verdict.RATE_LIMITED, Verdict.SERVER_FAULT):
            raise retry_for(verdict, answer.headers, self._policy, url=self._token_url, status=answer.status,
                            where=f"The login host {self._token_url}")
        if verdict is not Verdict.OK:
            raise self._auth_error(answer.status, answer.content, answer.headers.get("ININ-Correlation-Id"))
        granted = _read_grant(answer.content)
        if granted is None:
            raise Retryable("body", "the login host sent a token response that is not JSON", status=200,
                            url=self._token_url)
        if isinstance(granted, str):
            raise AuthenticationError(f"The login host {self._token_url} answered with a token that cannot be used: "
                                      f"{granted}. Check login_url/api_url; this is not a Genesys Cloud login host "
                                      f"answering normally.", status=200, url=self._token_url)
        # Renew ahead of expiry: 10% of the lifetime, at most 5 minutes, so a page never goes out on a dying token.
        margin = min(300.0, 0.1 * granted.expires_in)
        self._token, self._renew_at = granted.token, self._clock() + granted.expires_in - margin
        self.expires_in = granted.expires_in
        self.fetches += 1
        log.debug("fetched an access token for client %s, valid %.0f s", self._credentials.client_id,
                  granted.expires_in)

    def _post(self) -> Answer:
        request = self._http.build_request(
            "POST", self._token_url, data={"grant_type": "client_credentials"},
            headers={"Authorization": self._credentials.basic_header(),
                     "Content-Type": "application/x-www-form-urlencoded"})
        try:
            return send(self._http, request, limit=self._http.timeout.read,
                        max_bytes=min(self._policy.max_body_bytes, MAX_TOKEN_BODY))
        except httpx.TransportError as exc:
            refused = proxy_refused_error(exc, self._token_url)
            if refused is not None:
                raise refused from None
            if not self._answered and (unresolvable_host(exc) or refused_connection(exc)):
                hint = f"region {self._region_hint}" if self._region_hint else "login_url/api_url"
                what = ("does not exist (its name does not resolve)" if unresolvable_host(exc)
                        else "refuses connections (nothing listens on that port)")
                raise NetworkError(f"The login host of {self._token_url} {what}. Check the {hint}.",
                                   url=self._token_url) from None
            raise Retryable("network", f"{type(exc).__name__} contacting the login host {self._token_url}",
                            url=self._token_url) from None

    def _auth_error(self, status: int, content: bytes, correlation_id: str | None) -> GenesysError:
        try:
            body = orjson.loads(content)
        except orjson.JSONDecodeError:
            body = None
        body = body if isinstance(body, dict) else {}
        code = body.get("error") if isinstance(body.get("error"), str) else None
        description = body.get("error_description") or body.get("description") or ""
        description = description[:300] if isinstance(description, str) else ""
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


def _adopted(token: object) -> AccessToken:
    if not token:
        raise ConfigError("The SDK ApiClient has no access token: call get_client_credentials_token() on it first.")
    if not is_bearer_token(token):
        raise ConfigError("The SDK ApiClient's access token is not a bearer token (RFC 6750 characters only); "
                          "authenticate the SDK client again.")
    assert isinstance(token, str)
    return AccessToken(token)


class StaticTokenAuth:
    """A token handed over by someone else (an authenticated official-SDK ApiClient). It cannot be renewed."""

    def __init__(self, token: str) -> None:
        self._token: AccessToken | None = _adopted(token)
        self.fetches = 0

    def __repr__(self) -> str:
        return "StaticTokenAuth(<token hidden>)"

    def access_token(self) -> AccessToken:
        if self._token is None:
            raise AuthenticationError(
                "The access token adopted from the SDK ApiClient was rejected (expired or revoked) and cannot be "
                "renewed here. Authenticate the SDK client again, or connect() with client_id=/client_secret=."
            )
        return self._token

    def token(self) -> str:
        """The adopted token itself."""
        return self.access_token().reveal()

    def invalidate(self, token: AccessToken) -> bool:
        if self._token == token:
            self._token = None
            return True
        return False
