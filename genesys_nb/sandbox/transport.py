"""In-process httpx transports: requests go straight to the app, no sockets, any host.

Latency sleeps happen in the calling thread (sync) or a worker thread (async), so concurrent
requests overlap as they would against a real server. A dropped-connection fault surfaces as
`httpx.RemoteProtocolError`, which is what httpx raises when a server hangs up.
"""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import parse_qsl

import httpx

from .app import App
from .messages import Request, Response

_ASYNC_THREADS = 256


def _to_request(request: httpx.Request, body: bytes) -> Request:
    query = parse_qsl(request.url.query.decode("ascii", "replace"), keep_blank_values=True)
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in request.headers.raw}
    return Request(request.method.upper(), request.url.path, query, headers, body)


def _to_response(resp: Response, request: httpx.Request) -> httpx.Response:
    if resp.drop:
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
    return httpx.Response(resp.status, headers=resp.headers, content=resp.body, request=request)


class SandboxTransport(httpx.BaseTransport):
    """Sync transport calling the app directly; thread-safe."""

    def __init__(self, app: App) -> None:
        self.app = app

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        return _to_response(self.app.handle(_to_request(request, body)), request)


class AsyncSandboxTransport(httpx.AsyncBaseTransport):
    """Async transport: the app runs in worker threads so latency does not block the loop."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._pool = ThreadPoolExecutor(max_workers=_ASYNC_THREADS, thread_name_prefix="genesys-sandbox")

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        loop = asyncio.get_running_loop()
        resp = await loop.run_in_executor(self._pool, self.app.handle, _to_request(request, body))
        return _to_response(resp, request)

    async def aclose(self) -> None:
        """Release the worker threads (requests in flight still finish)."""
        self._pool.shutdown(wait=False)
