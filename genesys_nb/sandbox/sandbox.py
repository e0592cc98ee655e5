"""The `Sandbox` facade: one synthetic org and app, served in-process or over loopback HTTP."""

from __future__ import annotations

from collections import deque
from typing import TYPE_CHECKING, Any

import httpx

from .app import App
from .config import OAuthClient, SandboxConfig
from .org import Org
from .server import SandboxServer
from .stats import LoggedRequest, StatsSnapshot
from .transport import AsyncSandboxTransport, SandboxTransport

if TYPE_CHECKING:  # advance loads polars: only on the first advance()
    from .advance import Changes

IN_PROCESS_URL = "https://api.sandbox.invalid"


class Sandbox:
    """A local Genesys Cloud org: `Sandbox(SandboxConfig(...))` or `Sandbox(users=..., ...)`.

    Keyword arguments override fields of the given (or default) config.
    """

    def __init__(self, config: SandboxConfig | None = None, /, **overrides: Any) -> None:
        base = config or SandboxConfig()
        self.config = base.with_overrides(**overrides) if overrides else base
        self.app = App(self.config)
        self._server: SandboxServer | None = None
        self.changes: Changes | None = None  # the Changes of the last advance()
        if self.config.prerender:
            self.app.renderer.prerender_all()

    # -- serving ---------------------------------------------------------------------------------
    def transport(self) -> httpx.BaseTransport:
        """An in-process httpx transport (no sockets); any host reaches the app."""
        return SandboxTransport(self.app)

    def async_transport(self) -> httpx.AsyncBaseTransport:
        """The same for httpx.AsyncClient; the app runs in worker threads."""
        return AsyncSandboxTransport(self.app)

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Start a threaded HTTP server in a daemon thread; returns its base URL (API and login)."""
        if self._server is None:
            self._server = SandboxServer(self.app, host, port)
        return self._server.url

    @property
    def url(self) -> str | None:
        """The served base URL, or None before `serve()`."""
        return self._server.url if self._server else None

    @property
    def base_url(self) -> str:
        """Where to point a client: the served URL, else a placeholder host for the transport."""
        return self.url or IN_PROCESS_URL

    def close(self) -> None:
        """Stop the HTTP server, if any."""
        if self._server is not None:
            self._server.close()
            self._server = None

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- org and clients ---------------------------------------------------------------------------
    @property
    def org(self) -> Org:
        """Ground truth: ids per state, size, churn events."""
        return self.app.org

    @property
    def clients(self) -> dict[str, OAuthClient]:
        """OAuth clients by client id."""
        return dict(self.app.clients)

    @property
    def default_client(self) -> OAuthClient:
        """The demo client (all-division view)."""
        return self.app.clients.get("sandbox-client") or next(iter(self.app.clients.values()))

    def issue_token(self, client_id: str | None = None) -> str:
        """Mint an access token directly (no HTTP request, not counted), for tests."""
        client = self.app.clients[client_id] if client_id else self.default_client
        return self.app.tokens.issue(client).value

    def http_client(self, client_id: str | None = None, **kwargs: Any) -> httpx.Client:
        """An httpx.Client on the in-process transport, already holding a bearer token."""
        headers = {"Authorization": f"Bearer {self.issue_token(client_id)}", **kwargs.pop("headers", {})}
        return httpx.Client(transport=self.transport(), base_url=self.base_url, headers=headers, **kwargs)

    def advance(self, days: int = 90) -> Changes:
        """Move the org forward `days` (deterministic from the seed and the step count): users leave,
        join, move and change; roles, groups, queues and licences change; the org's now moves.
        Returns (and keeps as `self.changes`) an `advance.Changes` of polars frames. Needs polars."""
        from .advance import advance
        self.changes = advance(self.app, days)
        return self.changes

    # -- observation -------------------------------------------------------------------------------
    @property
    def stats(self) -> StatsSnapshot:
        """A snapshot of the counters."""
        return self.app.stats.snapshot()

    @property
    def request_log(self) -> deque[LoggedRequest]:
        """The last 10,000 requests as (method, path, query dict, status); 0 = dropped."""
        return self.app.stats.log

    def reset_stats(self) -> None:
        """Zero the counters and clear the request log."""
        self.app.reset_stats()
