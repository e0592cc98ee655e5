"""One attempt on the wire, bounded in time and size: what httpx's per-read timeout and ``.content`` do not bound.

httpx's ``timeout`` limits each socket read, so a server that trickles one byte a second holds a request forever.
:func:`http_client` builds the httpx client with a network backend (httpcore's own extension point) that shortens
every connect, read and write to the time left before the current attempt's deadline; :func:`send` sets that
deadline, streams the body and stops reading past ``max_bytes``. The token fetch and the API requests both use it.
"""

from __future__ import annotations

import contextvars
import math
import time
from collections.abc import Iterable, Mapping
from typing import Any

import httpcore
import httpx

from ..errors import ConfigError, ServerError

__all__ = ["http_client", "send", "Answer", "BodyTooLarge", "check_timeout"]

_deadline: contextvars.ContextVar[float | None] = contextvars.ContextVar("genesys_nb_attempt_deadline", default=None)


class BodyTooLarge(ServerError):
    """A response body beyond the configured cap (``RetryPolicy.max_body_bytes``)."""


def _bounded(timeout: float | None, expired: type[Exception]) -> float | None:
    """``timeout`` shortened to what is left of this thread's attempt; ``expired`` is raised when nothing is left."""
    deadline = _deadline.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise expired("the attempt ran out of time")
    return left if timeout is None else min(timeout, left)


class _DeadlineStream(httpcore.NetworkStream):
    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self._inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, _bounded(timeout, httpcore.ReadTimeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, _bounded(timeout, httpcore.WriteTimeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(self, ssl_context: Any, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.start_tls(ssl_context, server_hostname,
                                                     _bounded(timeout, httpcore.ConnectTimeout)))

    def get_extra_info(self, info: str) -> Any:
        return self._inner.get_extra_info(info)


class _DeadlineBackend(httpcore.NetworkBackend):
    def __init__(self, inner: httpcore.NetworkBackend) -> None:
        self._inner = inner

    def connect_tcp(self, host: str, port: int, timeout: float | None = None, local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_tcp(host, port, _bounded(timeout, httpcore.ConnectTimeout),
                                                       local_address, socket_options))

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        return _DeadlineStream(self._inner.connect_unix_socket(path, _bounded(timeout, httpcore.ConnectTimeout),
                                                               socket_options))

    def sleep(self, seconds: float) -> None:
        self._inner.sleep(seconds)


def check_timeout(timeout: object) -> float:
    """``timeout`` as seconds: a finite number above 0, or a ConfigError saying so."""
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or not math.isfinite(timeout) \
            or timeout <= 0:
        raise ConfigError(f"timeout= must be a number of seconds above 0 (each attempt of a request gives up after "
                          f"it), not {timeout!r}.")
    return float(timeout)


#: Loopback hosts (the sandbox over HTTP, a local gateway) are reached directly: no proxy can reach them for us.
_DIRECT = {"all://127.0.0.1": None, "all://localhost": None, "all://[::1]": None}


def http_client(timeout: float = 30.0, *, transport: httpx.BaseTransport | None = None,
                headers: Mapping[str, str] | None = None) -> httpx.Client:
    """The httpx client every request of a connection goes through. ``timeout`` bounds each attempt in all
    (connect, send, headers and body together; connecting alone at most 10 s). httpx reads the proxy settings
    (``HTTPS_PROXY``, ``ALL_PROXY``, ``NO_PROXY``) and CA bundle (``SSL_CERT_FILE``) from the environment as it
    always does. A ``transport`` given (a test double, the in-process sandbox) is used as it is."""
    seconds = check_timeout(timeout)
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
    try:
        client = httpx.Client(timeout=httpx.Timeout(seconds, connect=min(seconds, 10.0)), headers=headers,
                              limits=limits, transport=transport, mounts=None if transport else dict(_DIRECT))
    except (ImportError, ValueError) as exc:  # a proxy variable httpx cannot use (a bad URL, SOCKS without socksio)
        raise ConfigError(f"The proxy settings in the environment (HTTPS_PROXY, HTTP_PROXY, ALL_PROXY) cannot be "
                          f"used: {exc}. Fix or unset them.") from None
    if transport is None:
        _bound_attempts(client)
    return client


def _bound_attempts(client: httpx.Client) -> None:
    """Give every connection pool of ``client`` (direct and per proxy) the deadline-aware network backend: httpcore's
    extension point, which httpx keeps on each transport's pool."""
    for transport in (client._transport, *client._mounts.values()):
        pool = getattr(transport, "_pool", None)
        backend = getattr(pool, "_network_backend", None)
        if isinstance(backend, httpcore.NetworkBackend) and not isinstance(backend, _DeadlineBackend):
            pool._network_backend = _DeadlineBackend(backend)  # type: ignore[union-attr]


class _Body:
    """A body being read; its repr shows only its size (it may hold a token response)."""

    __slots__ = ("parts", "size")

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.size = 0

    def __repr__(self) -> str:
        return f"<{self.size} bytes>"


class Answer:
    """A response whose body has been read whole. Its repr shows the status and size only: the body may be a token
    response, and a traceback printed with its locals must not show it."""

    __slots__ = ("response", "content")

    def __init__(self, response: httpx.Response, content: bytes) -> None:
        self.response = response
        self.content = content

    @property
    def status(self) -> int:
        return self.response.status_code

    @property
    def headers(self) -> httpx.Headers:
        return self.response.headers

    def __repr__(self) -> str:
        return f"<Answer {self.response.status_code}, {len(self.content)} bytes>"


def send(http: httpx.Client, request: httpx.Request, *, limit: float | None, max_bytes: int) -> Answer:
    """Send ``request`` and read its whole body within ``limit`` seconds (None: no limit) and ``max_bytes``.

    Raises httpx's ``TimeoutException`` when the attempt runs out of time (also mid-body), :class:`BodyTooLarge` when
    the body is larger than ``max_bytes``, and httpx's other transport errors as they come."""
    deadline = None if limit is None else time.monotonic() + max(limit, 0.0)
    token = _deadline.set(deadline)
    try:
        response = http.send(request, stream=True)
        try:
            return Answer(response, _read(response, max_bytes, deadline))
        finally:
            response.close()
    finally:
        _deadline.reset(token)


def _read(response: httpx.Response, max_bytes: int, deadline: float | None) -> bytes:
    declared = response.headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise _too_large(response, max_bytes)
    body = _Body()
    for chunk in response.iter_bytes():
        body.parts.append(chunk)
        body.size += len(chunk)
        if body.size > max_bytes or (deadline is not None and time.monotonic() > deadline):
            break
    else:
        return b"".join(body.parts)
    chunk = b""  # noqa: F841 - the last piece read stays out of a traceback's locals
    if body.size > max_bytes:
        raise _too_large(response, max_bytes)
    raise httpx.ReadTimeout("the attempt ran out of time while the body was arriving", request=response.request)


def _too_large(response: httpx.Response, max_bytes: int) -> BodyTooLarge:
    path = response.request.url.raw_path.decode("ascii", "replace")[:200]
    return BodyTooLarge(f"The response to {path} is larger than {max_bytes:,} bytes "
                        f"(RetryPolicy.max_body_bytes); stopped reading it. Raise max_body_bytes if such a body "
                        f"is expected.", status=response.status_code, url=str(response.request.url))
