"""The Client facade: ``connect()`` and everything a notebook does with an org.

``connect()`` resolves hosts and credentials (arguments first, then the ``GENESYSCLOUD_*`` environment variables
used by Genesys's own CLI and Terraform provider), checks them before any request, and returns a :class:`Client`
whose listings are memory-safe streams. ``connect(sandbox=True)`` starts the built-in emulator instead, so
everything works offline with no credentials.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from ._http.auth import ClientCredentialsAuth, Credentials, StaticTokenAuth, TokenSource
from .errors import ConfigError, NotFound, PermissionDenied
from ._http.governor import RateGovernor
from ._paging.stream import Plan, Stream, check_max_items, fingerprint
from ._http.regions import Hosts, resolve_hosts
from ._http.retrying import RetryPolicy
from ._paging.paginators import STRATEGIES, DetectingPaginator, SearchPaginator
from ._http.transport import Transport, http_client
from ._http.urls import quote_segment
from .resources.users import (QUERY_PATH, USERS_PATH, check_expand, check_page_size, check_state, check_strategy, user_plans)

if TYPE_CHECKING:  # frames and exports are imported when first used: they pull in polars and pandas
    import pandas as pd
    import polars as pl

    from .export.orchestrate import ExportSummary
    from ._tables.frames import FrameReader

__all__ = ["connect", "Client", "RecordStream"]

log = logging.getLogger("genesys_nb.client")

ENV_ID = "GENESYSCLOUD_OAUTHCLIENT_ID"
ENV_SECRET = "GENESYSCLOUD_OAUTHCLIENT_SECRET"
ENV_REGION = "GENESYSCLOUD_REGION"
SANDBOX_API = "http://api.sandbox.localhost"
USER_AGENT = "genesys-nb/0.1"


class RecordStream(Stream):
    """A stream of records that also turns into frames and files (see :mod:`genesys_nb._tables.frames`, ``export``)."""

    record_kind: str | None = None
    expand: tuple[str, ...] = ()

    def iter_frames(self, chunk_size: int = 50_000, backend: str = "polars", where: Any = None) -> FrameReader:
        """Chunked frames with one fixed schema; a reader that is also a context manager."""
        from ._tables.frames import iter_frames
        return iter_frames(self, chunk_size=chunk_size, backend=backend, where=where)

    def to_polars(self, where: Any = None) -> pl.DataFrame:
        """The whole listing as one polars DataFrame (holds every row: prefer iter_frames or exports for big orgs)."""
        from ._tables.frames import to_polars
        return to_polars(self, where=where)

    def to_pandas(self, where: Any = None) -> pd.DataFrame:
        """The whole listing as one pandas DataFrame with pyarrow-backed dtypes."""
        from ._tables.frames import to_pandas
        return to_pandas(self, where=where)

    def _export(self, path: str | os.PathLike, fmt: str, **kw: Any) -> ExportSummary:
        from .export.orchestrate import export
        return export(self, path, format=fmt, **kw)

    def to_ndjson(self, path: str | os.PathLike, **kw: Any) -> ExportSummary:
        """Stream the listing into a newline-delimited JSON file of the API's own records, one a line, lossless
        (atomic; ``resume=True`` continues a failed run)."""
        return self._export(path, "ndjson", **kw)

    def to_parquet(self, path: str | os.PathLike, **kw: Any) -> ExportSummary:
        """Stream the listing into a Parquet file with the fixed schema (atomic; resumable)."""
        return self._export(path, "parquet", **kw)

    def to_csv(self, path: str | os.PathLike, **kw: Any) -> ExportSummary:
        """Stream the listing into a CSV file; nested columns become JSON text (atomic; resumable)."""
        return self._export(path, "csv", **kw)


class Client:
    """A connection to one Genesys Cloud org (or the sandbox). Use as a context manager, or call :meth:`close`."""

    def __init__(self, hosts: Hosts, auth: TokenSource, *, http: httpx.Client, policy: RetryPolicy = RetryPolicy(),
                 governor: RateGovernor | None = None, sandbox: Any = None, sleep: Callable[[float], None] = time.sleep,
                 owns_http: bool = True) -> None:
        self.hosts = hosts
        self.auth = auth
        self.http = http
        self.sandbox = sandbox
        self.governor = governor or RateGovernor()
        self.transport = Transport(hosts.api_url, auth, http, policy=policy, governor=self.governor, sleep=sleep)
        self._owns_http = owns_http
        self._closed = False

    def __repr__(self) -> str:
        where = "sandbox" if self.sandbox is not None else (self.hosts.region or self.hosts.api_url)
        who = getattr(self.auth, "client_id", None)
        return f"<genesys_nb.Client {where} api={self.hosts.api_url}" + (f" client_id={who!r}>" if who else ">")

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close connections, and stop the sandbox if this client started it."""
        if self._closed:
            return
        self._closed = True
        if self._owns_http:
            self.http.close()
        if self.sandbox is not None:
            self.sandbox.close()

    @property
    def stats(self) -> dict[str, int]:
        """Totals across every request of this client: requests, retries, 429s, token renewals on 401."""
        return {**self.transport.counters.as_dict(), "token_fetches": getattr(self.auth, "fetches", 0)}

    # -- single requests ---------------------------------------------------------------------------------------------
    def get(self, path: str, params: Mapping[str, Any] | None = None) -> Any:
        """``GET`` one API path (e.g. ``/api/v2/organizations/me``) and return its JSON, with the usual retries."""
        return self.transport.request("GET", path, params=params).body

    def organization(self) -> dict:
        """The org this client is connected to (``GET /api/v2/organizations/me``)."""
        return self.get("/api/v2/organizations/me")

    def user(self, user_id: str, expand: Sequence[str] | str = ()) -> dict:
        """One user by id."""
        exp = check_expand(expand)
        return self.get(f"{USERS_PATH}/{quote_segment(user_id, 'user_id')}", {"expand": ",".join(exp)} if exp else None)

    def can_use_cursor(self) -> bool:
        """Whether this OAuth client may use the exact cursor listing (directory:user:view in all divisions)."""
        try:
            self.transport.request("GET", QUERY_PATH, params={"pageSize": 1})
        except (PermissionDenied, NotFound):
            return False
        return True

    # -- listings ---------------------------------------------------------------------------------------------------
    def users(self, state: str = "any", expand: Sequence[str] | str = (), page_size: int = 500,
              max_items: int | None = None, strategy: str = "auto", resume: str | None = None,
              concurrency: int = 1, sort_order: str | None = None) -> RecordStream:
        """Every user of the org, as a stream of the API's own JSON records.

        ``state="any"`` is the default here on purpose: the API's own default, ``active``, silently leaves out
        inactive and deleted users. ``strategy="auto"`` uses the exact cursor endpoint ``/api/v2/users/query``
        and falls back to page numbers on ``/api/v2/users`` when that endpoint is missing (404) or forbidden (403);
        ``"cursor"`` or ``"pages"`` force one. ``concurrency`` > 1 fetches that many pages at once and applies to
        page numbers only (the forced ``"pages"`` strategy or auto's fallback): cursor pages depend on each other,
        so the exact cursor path stays one request ahead of the consumer. ``max_items`` stops paging as soon as it
        is met. ``resume`` takes a ``page.resume_token`` / ``stream.resume_token`` and continues after it.
        """
        state = check_state(state)
        exp = check_expand(expand)
        size = check_page_size(page_size)
        strategy = check_strategy(strategy)
        if sort_order is not None and str(sort_order).upper() not in ("ASC", "DESC"):
            raise ConfigError(f"sort_order must be 'ASC' or 'DESC', not {sort_order!r}.")
        order = str(sort_order).upper() if sort_order else None
        if check_max_items(max_items):
            size = min(size, max_items)
        plans = user_plans(strategy, state=state, expand=exp, page_size=size, sort_order=order)
        key = fingerprint("users", state, exp, size, order)

        def reopen(token: str | None) -> RecordStream:
            return self.users(state=state, expand=exp, page_size=page_size, max_items=max_items, strategy=strategy,
                              resume=token, concurrency=concurrency, sort_order=sort_order)

        def total_hint() -> int | None:
            body = self.transport.request("GET", USERS_PATH, params={"pageSize": 1, "state": state}).body
            return body.get("total") if isinstance(body, dict) else None

        stream = RecordStream(self.transport, plans, fingerprint=key, max_items=max_items, concurrency=concurrency,
                              resume=resume, reopen=reopen, total_hint=total_hint,
                              description=f"users state={state}" + (f" expand={','.join(exp)}" if exp else ""))
        stream.record_kind, stream.expand = "users", exp
        return stream

    def search_users(self, query: Sequence[Mapping[str, Any]], *, expand: Sequence[str] | str = (),
                     page_size: int = 100, sort_by: str | None = None, sort_order: str | None = None,
                     max_items: int | None = None, resume: str | None = None) -> RecordStream:
        """Users matching search criteria (``POST /api/v2/users/search``, then its ``q64`` next pages).

        ``query`` is the API's own list of criteria, e.g. ``[{"type": "EXACT", "fields": ["state"], "values":
        ["active"]}, {"type": "CONTAINS", "fields": ["department"], "value": "Sales"}]``. Search pages can come back
        short or repeat users; repeats are dropped.
        """
        if not isinstance(query, Sequence) or isinstance(query, (str, bytes)) or not all(
                isinstance(c, Mapping) and c.get("type") for c in query):
            raise ConfigError("query must be a list of criteria dicts, each with a 'type' such as 'EXACT', "
                              "'CONTAINS', 'STARTS_WITH' or 'RANGE', plus 'fields' and 'value'/'values'.")
        if len(query) > 10:
            raise ConfigError(f"The search API takes at most 10 criteria; {len(query)} were given.")
        exp = check_expand(expand)
        size = check_page_size(page_size, maximum=100)
        body: dict[str, Any] = {"query": [dict(c) for c in query], "pageSize": size, "pageNumber": 1}
        if exp:
            body["expand"] = list(exp)
        if sort_by:
            body["sortBy"] = sort_by
        if sort_order:
            body["sortOrder"] = sort_order
        key = fingerprint("search", body)

        def reopen(token: str | None) -> RecordStream:
            return self.search_users(query, expand=exp, page_size=page_size, sort_by=sort_by, sort_order=sort_order,
                                     max_items=max_items, resume=token)

        stream = RecordStream(self.transport, [Plan(SearchPaginator("/api/v2/users/search", body))], fingerprint=key,
                              max_items=max_items, resume=resume, reopen=reopen, description="user search")
        stream.record_kind, stream.expand = "users", exp
        return stream

    def paginate(self, path: str, params: Mapping[str, Any] | None = None, *, strategy: str = "auto",
                 items_key: str | None = None, max_items: int | None = None, concurrency: int = 1,
                 resume: str | None = None) -> RecordStream:
        """Any listing endpoint as a stream. ``strategy="auto"`` reads the first page and continues in the style
        it shows (``cursor``, ``after``, ``pages``, ``next_uri``); name one to force it. ``concurrency`` applies to
        ``strategy="pages"``."""
        if not isinstance(path, str) or not path.startswith("/api/v2/"):
            raise ConfigError(f"path must be an API path starting with /api/v2/, not {path!r}.")
        if strategy != "auto" and strategy not in STRATEGIES:
            raise ConfigError(f"strategy must be 'auto' or one of {', '.join(STRATEGIES)}, not {strategy!r}.")
        params = dict(params or {})
        paginator = (DetectingPaginator(path, params, items_key=items_key) if strategy == "auto"
                     else STRATEGIES[strategy](path, params, items_key=items_key))
        key = fingerprint("paginate", path, params, strategy, items_key)

        def reopen(token: str | None) -> RecordStream:
            return self.paginate(path, params, strategy=strategy, items_key=items_key, max_items=max_items,
                                 concurrency=concurrency, resume=token)

        def total_hint() -> int | None:
            return None

        return RecordStream(self.transport, [Plan(paginator)], fingerprint=key, max_items=max_items,
                            concurrency=concurrency, resume=resume, reopen=reopen, total_hint=total_hint)

    def divisions(self) -> RecordStream:
        """The org's divisions (``GET /api/v2/authorization/divisions``)."""
        return self.paginate("/api/v2/authorization/divisions", {"pageSize": 100}, strategy="pages")

    def groups(self) -> RecordStream:
        """The org's groups (``GET /api/v2/groups``)."""
        return self.paginate("/api/v2/groups", {"pageSize": 100}, strategy="pages")

    def scan_users(self, expand: Sequence[str] | str = (), *, state: str = "any", page_size: int = 500,
                   strategy: str = "auto", concurrency: int = 1) -> pl.LazyFrame:
        """The users as a polars LazyFrame: projection and filters run per page, ``head(n)`` stops paging, and
        ``state`` filters are pushed into the API query. Every ``collect()`` pages the API again."""
        from ._tables.scan import scan
        exp = check_expand(expand)
        check_state(state)
        check_page_size(page_size)

        def open_stream(kw: Mapping[str, Any]) -> RecordStream:
            args = {"expand": exp, "strategy": strategy, "concurrency": concurrency, "page_size": page_size, **kw}
            return self.users(**args)

        return scan(open_stream, expand=exp, state=state, page_size=page_size)


def _from_sdk(api_client: Any) -> tuple[str, str, str | None, str | None]:
    """Host, bearer token, and (for client credentials) the id and secret of an official-SDK ``ApiClient``, read
    without importing the SDK."""
    config = getattr(api_client, "configuration", None)
    host = getattr(api_client, "host", None) or getattr(config, "host", None)
    token = getattr(api_client, "access_token", None) or getattr(config, "access_token", None)
    if not host:
        raise ConfigError("api_client does not look like a PureCloudPlatformClientV2.ApiClient (it has no host).")
    if not token:
        raise ConfigError("The SDK ApiClient has no access token: call get_client_credentials_token() on it first.")
    client_id, secret = getattr(api_client, "client_id", None), getattr(api_client, "client_secret", None)
    if not (isinstance(client_id, str) and client_id and isinstance(secret, str) and secret):
        client_id = secret = None
    return str(host), str(token), client_id, secret


def connect(region: str | None = None, *, client_id: str | None = None, client_secret: str | None = None,
            api_url: str | None = None, login_url: str | None = None, sandbox: bool | Mapping[str, Any] | None = None,
            api_client: Any = None, timeout: float = 30.0, retry: RetryPolicy | None = None,
            pace: bool = True, transport: httpx.BaseTransport | None = None,
            sleep: Callable[[float], None] = time.sleep) -> Client:
    """Connect to a Genesys Cloud org, or to the built-in sandbox.

    Credentials come from the arguments, then ``GENESYSCLOUD_OAUTHCLIENT_ID`` / ``GENESYSCLOUD_OAUTHCLIENT_SECRET``;
    the region from the argument (``"eu-west-1"``, ``"eu_west_1"`` or ``"mypurecloud.ie"``), then
    ``GENESYSCLOUD_REGION``; or give ``api_url=`` (and optionally ``login_url=``). ``sandbox=True`` (or a dict of
    sandbox settings such as ``{"users": 50_000, "latency_ms": 100, "http": True}``) starts the local emulator;
    ``api_client=`` adopts an authenticated official-SDK ``ApiClient``'s host and token; it is renewed when refused
    if ``client_id=``/``client_secret=`` are given too (the SDK does not keep client-credentials secrets). Nothing is sent until the
    first request; every argument is checked before that. ``pace=False`` turns off client-side rate pacing.
    """
    policy = retry or RetryPolicy()
    sb = None
    adopted: str | None = None  # a token taken over from an SDK ApiClient
    if sandbox:
        if api_client is not None or api_url or region:
            raise ConfigError("sandbox= starts the local emulator: do not combine it with a region, api_url or api_client.")
        from .sandbox import Churn, Faults, Sandbox  # the one place the client starts the sandbox

        settings = dict(sandbox) if isinstance(sandbox, Mapping) else {}
        over_http = bool(settings.pop("http", False))
        for name, kind in (("faults", Faults), ("churn", Churn)):  # plain dicts are welcome in notebooks
            if isinstance(settings.get(name), Mapping):
                settings[name] = kind(**settings[name])
        sb = Sandbox(**settings)
        if over_http:
            hosts = resolve_hosts(api_url=sb.serve())
        else:
            hosts = resolve_hosts(api_url=SANDBOX_API)
            transport = transport or sb.transport()
        client_id = client_id or sb.default_client.client_id
        if client_secret is None:
            client_secret = sb.clients[client_id].client_secret if client_id in sb.clients else "unknown"
    elif api_client is not None:
        host, adopted, sdk_id, sdk_secret = _from_sdk(api_client)
        if not (client_id and client_secret):  # credentials given as well: renew with them when the token is refused
            client_id, client_secret = sdk_id, sdk_secret
        hosts = resolve_hosts(api_url=host)
    else:
        region = region or (None if api_url else os.environ.get(ENV_REGION))
        hosts = resolve_hosts(region, api_url=api_url, login_url=login_url)
        client_id = client_id or os.environ.get(ENV_ID)
        client_secret = client_secret or os.environ.get(ENV_SECRET)
    http = http_client(timeout, transport=transport, headers={"User-Agent": USER_AGENT})
    auth: TokenSource
    if adopted is not None and not client_id:  # a token from another grant: usable until it expires, not renewable
        auth = StaticTokenAuth(adopted)
    else:
        auth = ClientCredentialsAuth(Credentials(client_id or "", client_secret or ""), hosts.token_url, http,
                                     policy=policy, sleep=sleep,
                                     region_hint=hosts.region.replace("_", "-") if hosts.region else None)
        if adopted is not None:
            auth.adopt(adopted)  # the SDK's token first; renewed with the credentials when refused
    return Client(hosts, auth, http=http, policy=policy, governor=RateGovernor(enabled=pace, sleep=sleep), sandbox=sb,
                  sleep=sleep)
