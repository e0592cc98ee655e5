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
from dataclasses import replace
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import httpx

from ._http.auth import ClientCredentialsAuth, Credentials, StaticTokenAuth, TokenSource
from ._http.credentials import ExplainedAuth, Resolved, Source, resolve
from ._http.governor import RateGovernor
from ._http.regions import Hosts, resolve_hosts
from ._http.retrying import RetryPolicy
from ._http.transport import Response, Transport, http_client
from ._http.urls import quote_segment
from ._paging.fanout import FanOutStream
from ._paging.stream import Stream, fingerprint
from ._tables.schema import TableSchema
from .errors import ConfigError, NotFound, PermissionDenied
from .resources import REGISTRY, ListingSpec, Resource, groups, queues, roles
from .resources import users as users_resource
from .resources.audits import audit_spec
from .resources.divisions import divisions_spec
from .resources.generic import paginate_spec
from .resources.licenses import licenses_spec

if TYPE_CHECKING:  # frames and exports are imported when first used: they pull in polars and pandas
    import pandas as pd
    import polars as pl

    from .export.orchestrate import ExportSummary
    from .snapshot import Snapshot
    from .snapshot.plan import SnapshotPlan
    from ._tables.frames import FrameReader

__all__ = ["connect", "Client", "RecordStream", "FanOutRecordStream", "TableViews"]

log = logging.getLogger("genesys_nb.client")

SANDBOX_API = "http://api.sandbox.localhost"
USER_AGENT = "genesys-nb/0.1"


class TableViews:
    """Frames and files of a stream of records (see :mod:`genesys_nb._tables.frames` and :mod:`genesys_nb.export`).

    ``table`` is the resource's fixed schema (None: columns inferred from the records), ``expand`` the expand
    values the listing asked for, ``spec`` what was listed."""

    table: TableSchema | None = None
    expand: tuple[str, ...] = ()
    spec: ListingSpec | None = None
    #: The call that lists it again, for messages (``client.users``).
    listing: str | None = None

    def iter_frames(self, chunk_size: int = 50_000, backend: str = "polars", where: Any = None,
                    dtype_backend: str | None = None) -> FrameReader:
        """Chunked frames with one fixed schema; a reader that is also a context manager. ``dtype_backend``
        (pandas frames) as in :meth:`to_pandas`."""
        from ._tables.frames import iter_frames
        return iter_frames(self, chunk_size=chunk_size, backend=backend, where=where,  # type: ignore[arg-type]
                           dtype_backend=dtype_backend)

    def to_polars(self, where: Any = None) -> pl.DataFrame:
        """The whole listing as one polars DataFrame (holds every row: prefer iter_frames or exports for big orgs)."""
        from ._tables.frames import to_polars
        return to_polars(self, where=where)  # type: ignore[arg-type]

    def to_pandas(self, where: Any = None, dtype_backend: str | None = None) -> pd.DataFrame:
        """The whole listing as one pandas DataFrame. ``dtype_backend`` as pandas spells it: None (default) gives
        the dtypes ``pd.read_parquet`` gives for the Parquet export (``str``, ``datetime64[us, UTC]``...),
        ``"numpy_nullable"`` pandas' nullable dtypes, ``"pyarrow"`` ``pd.ArrowDtype`` columns."""
        from ._tables.frames import to_pandas
        return to_pandas(self, where=where, dtype_backend=dtype_backend)  # type: ignore[arg-type]

    def to_arrow(self, where: Any = None) -> Any:
        """The whole listing as one Arrow table."""
        from ._tables.frames import to_arrow
        return to_arrow(self, where=where)  # type: ignore[arg-type]

    def _export(self, path: str | os.PathLike, fmt: str, **kw: Any) -> ExportSummary:
        from .export.orchestrate import export
        return export(self, path, format=fmt, **kw)  # type: ignore[arg-type]

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


class RecordStream(TableViews, Stream):
    """A stream of records that also turns into frames and files."""


class FanOutRecordStream(TableViews, FanOutStream):
    """A fan-out stream (members of each group, grants of each role) that also turns into frames and files."""


class _Api:
    """What a plan may use before paging (an audit job): one request's body, and the client's sleep. Each stream
    gets its own, so that these requests count in that stream's ``stats`` like its pages."""

    def __init__(self, transport: Transport, sleep: Callable[[float], None]) -> None:
        self._transport, self.sleep = transport, sleep
        self.count: Callable[[Response], None] | None = None

    def send(self, method: str, path: str, **kw: Any) -> Any:
        response = self._transport.request(method, path, **kw)
        if self.count is not None:
            self.count(response)
        return response.body


class Client:
    """A connection to one Genesys Cloud org (or the sandbox). Use as a context manager, or call :meth:`close`."""

    def __init__(self, hosts: Hosts, auth: TokenSource, *, http: httpx.Client, policy: RetryPolicy = RetryPolicy(),
                 governor: RateGovernor | None = None, sandbox: Any = None,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.hosts = hosts
        self.auth = auth
        self.http = http
        self.sandbox = sandbox
        self.governor = governor or RateGovernor()
        self.transport = Transport(hosts.api_url, auth, http, policy=policy, governor=self.governor, sleep=sleep)
        self._sleep = sleep
        self._closed = False
        #: The profile this client was connected with (``connect(profile=...)``), if any.
        self.profile: str | None = None

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
        exp = users_resource.check_expand(expand)
        path = f"{users_resource.USERS_PATH}/{quote_segment(user_id, 'user_id')}"
        return self.get(path, {"expand": ",".join(exp)} if exp else None)

    def can_use_cursor(self) -> bool:
        """Whether this OAuth client may use the exact cursor listing (directory:user:view in all divisions)."""
        try:
            self.transport.request("GET", users_resource.QUERY_PATH, params={"pageSize": 1})
        except (PermissionDenied, NotFound):
            return False
        return True

    # -- the one way a listing becomes a stream ----------------------------------------------------------------------
    def stream(self, spec: ListingSpec, resume: str | None = None) -> RecordStream:
        """The stream of a checked listing spec (what every listing method returns); ``resume`` continues after a
        ``page.resume_token``."""
        resource = REGISTRY[spec.resource]
        if resource.fan_out is not None:
            return self._fan_out(resource, spec, resume)  # type: ignore[return-value]

        def total_hint() -> int | None:
            request = resource.total_request(spec)
            if request is None:
                return None
            body = self.transport.request(request.method, request.path, params=request.params).body
            total = body.get("total") if isinstance(body, dict) else None
            return total if isinstance(total, int) else None

        api = _Api(self.transport, self._sleep)
        stream = RecordStream(self.transport, resource.plans(spec, api), fingerprint=spec.fingerprint(),
                              max_items=spec.max_items, concurrency=spec.concurrency, resume=resume,
                              reopen=lambda token: self.stream(spec, token), total_hint=total_hint,
                              description=resource.describe(spec), rows=resource.rows, noun=resource.noun)
        api.count = stream.count_request
        stream.table, stream.expand, stream.spec = resource.table, spec.expand, spec
        stream.listing = f"client.{resource.method}" if resource.method else None
        return stream

    def _fan_out(self, resource: Resource, spec: ListingSpec, resume: str | None) -> FanOutRecordStream:
        fan = resource.fan_out
        assert fan is not None

        def parents() -> list[str]:
            given = spec.option("parents")
            if given:
                return list(given)
            return [pid for pid in map(fan.parent_id, self.stream(fan.parents(spec))) if isinstance(pid, str)]

        def child(parent: str, token: str | None) -> Stream:
            return Stream(self.transport, fan.child(spec, parent), fingerprint=fingerprint(spec.fingerprint(), parent),
                          resume=token, description=f"{resource.name} of {parent}", noun=resource.noun)

        stream = FanOutRecordStream(parents=parents, child=child, rows=fan.rows, fingerprint=spec.fingerprint(),
                                    max_items=spec.max_items, concurrency=spec.concurrency, resume=resume,
                                    description=resource.describe(spec), noun=resource.noun,
                                    reopen=lambda token: self.stream(spec, token), endpoint=resource.name)
        stream.table, stream.expand, stream.spec = resource.table, spec.expand, spec
        return stream

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
        return self.stream(users_resource.users_spec(
            state=state, expand=expand, page_size=page_size, max_items=max_items, strategy=strategy,
            concurrency=concurrency, sort_order=sort_order), resume)

    def search_users(self, query: Sequence[Mapping[str, Any]], *, expand: Sequence[str] | str = (),
                     page_size: int = 100, sort_by: str | None = None, sort_order: str | None = None,
                     max_items: int | None = None, resume: str | None = None) -> RecordStream:
        """Users matching search criteria (``POST /api/v2/users/search``, then its ``q64`` next pages).

        ``query`` is the API's own list of criteria, e.g. ``[{"type": "EXACT", "fields": ["state"], "values":
        ["active"]}, {"type": "CONTAINS", "fields": ["department"], "value": "Sales"}]``. Search pages can come back
        short or repeat users; repeats are dropped.
        """
        return self.stream(users_resource.search_spec(query, expand=expand, page_size=page_size, sort_by=sort_by,
                                                      sort_order=sort_order, max_items=max_items), resume)

    def paginate(self, path: str, params: Mapping[str, Any] | None = None, *, strategy: str = "auto",
                 items_key: str | None = None, max_items: int | None = None, concurrency: int = 1,
                 resume: str | None = None) -> RecordStream:
        """Any listing endpoint as a stream. ``strategy="auto"`` reads the first page and continues in the style
        it shows (``cursor``, ``after``, ``pages``, ``next_uri``); name one to force it. ``concurrency`` applies to
        ``strategy="pages"``."""
        return self.stream(paginate_spec(path, params, strategy=strategy, items_key=items_key, max_items=max_items,
                                         concurrency=concurrency), resume)

    def divisions(self, *, page_size: int = 100, max_items: int | None = None,
                  resume: str | None = None) -> RecordStream:
        """The org's divisions (``GET /api/v2/authorization/divisions``): ``division_id, name, description,
        home_division``."""
        return self.stream(divisions_spec(page_size=page_size, max_items=max_items), resume)

    def roles(self, *, page_size: int = 100, max_items: int | None = None,
              resume: str | None = None) -> RecordStream:
        """The org's roles (``GET /api/v2/authorization/roles``), with their permissions and user counts."""
        return self.stream(roles.roles_spec(page_size=page_size, max_items=max_items), resume)

    def role_grants(self, role_ids: Sequence[str] | None = None, *, page_size: int = 100,
                    max_items: int | None = None, concurrency: int = 4, resume: str | None = None) -> RecordStream:
        """Who holds each role in which division: one row per (role, subject, division), from
        ``GET /api/v2/authorization/roles/{roleId}/subjectgrants`` for each role (all roles when ``role_ids`` is
        None). Subjects are users or groups; ``concurrency`` roles are listed at a time."""
        return self.stream(roles.grants_spec(role_ids=role_ids, page_size=page_size, max_items=max_items,
                                             concurrency=concurrency), resume)

    def groups(self, *, page_size: int = 100, max_items: int | None = None,
               resume: str | None = None) -> RecordStream:
        """The org's groups (``GET /api/v2/groups``)."""
        return self.stream(groups.groups_spec(page_size=page_size, max_items=max_items), resume)

    def group_members(self, group_ids: Sequence[str] | None = None, *, page_size: int = 100,
                      max_items: int | None = None, concurrency: int = 4, resume: str | None = None) -> RecordStream:
        """One row per (group, member), from ``GET /api/v2/groups/{groupId}/members`` for each group."""
        return self.stream(groups.members_spec(group_ids=group_ids, page_size=page_size, max_items=max_items,
                                               concurrency=concurrency), resume)

    def queues(self, *, page_size: int = 100, max_items: int | None = None,
               resume: str | None = None) -> RecordStream:
        """The org's queues (``GET /api/v2/routing/queues``)."""
        return self.stream(queues.queues_spec(page_size=page_size, max_items=max_items), resume)

    def queue_members(self, queue_ids: Sequence[str] | None = None, *, page_size: int = 100,
                      max_items: int | None = None, concurrency: int = 4, resume: str | None = None) -> RecordStream:
        """One row per (queue, member) with ``joined``, ``member_by`` and ``ring_number``, from
        ``GET /api/v2/routing/queues/{queueId}/members`` for each queue (page size at most 100)."""
        return self.stream(queues.members_spec(queue_ids=queue_ids, page_size=page_size, max_items=max_items,
                                               concurrency=concurrency), resume)

    def licenses(self, *, page_size: int = 100, max_items: int | None = None,
                 resume: str | None = None) -> RecordStream:
        """One row per (user, licence), from ``GET /api/v2/license/users``."""
        return self.stream(licenses_spec(page_size=page_size, max_items=max_items), resume)

    def audit_events(self, service: str, start: Any, end: Any, *, filters: Any = None, page_size: int = 500,
                     max_items: int | None = None, poll_timeout: float = 600,
                     resume: str | None = None) -> RecordStream:
        """Audit events of one service (e.g. ``"PeoplePermissions"``) between ``start`` and ``end``: an audit
        query job is started and waited for (``poll_timeout`` seconds at most), then its results are paged."""
        return self.stream(audit_spec(service=service, start=start, end=end, filters=filters, page_size=page_size,
                                      max_items=max_items, poll_timeout=poll_timeout), resume)

    # -- snapshots -----------------------------------------------------------------------------------------------------
    def plan_snapshot(self, tables: Sequence[str] | str | None = None) -> SnapshotPlan:
        """What :meth:`snapshot` would send, per table and in all, with the shortest time the rate limit allows
        (``print(client.plan_snapshot())``). Planning itself sends a few requests (totals, roles, groups, queues)."""
        from .snapshot.plan import plan_snapshot
        return plan_snapshot(self, tables)

    def snapshot(self, path: str | os.PathLike, tables: Sequence[str] | str | None = None, *, resume: bool = False,
                 overwrite: bool = False, strict: bool = False, progress: bool = True) -> Snapshot:
        """Write the org's access tables into a snapshot folder (one Parquet file per table and ``manifest.json``)
        and return it opened. The folder appears under its name only when every table is complete; ``resume=True``
        continues one that stopped; a table the OAuth client may not read is recorded as skipped (``strict=True``
        fails instead). See ``docs/snapshot-tables.md`` for the tables."""
        from .snapshot import open_snapshot
        from .snapshot.writer import write_snapshot
        return open_snapshot(write_snapshot(self, path, tables=tables, resume=resume, overwrite=overwrite,
                                            strict=strict, progress=progress))

    # -- lazy scans ---------------------------------------------------------------------------------------------------
    def scan_users(self, expand: Sequence[str] | str = (), *, state: str = "any", page_size: int = 500,
                   strategy: str = "auto", concurrency: int = 1) -> pl.LazyFrame:
        """The users as a polars LazyFrame: projection and filters run per page, ``head(n)`` stops paging, and
        ``state`` filters are pushed into the API query. Only the expand values that the projected and filtered
        columns need are requested (``date_last_login`` asks for ``dateLastLogin``). Every ``collect()`` pages the
        API again."""
        spec = users_resource.users_spec(state=state, expand=expand, page_size=page_size, strategy=strategy,
                                         concurrency=concurrency)
        return self.scan(spec, pushdown=users_resource.state_pushdown)

    def scan(self, spec: ListingSpec, *, pushdown: Any = None) -> pl.LazyFrame:
        """Any listing spec with a schema as a polars LazyFrame (see :mod:`genesys_nb._tables.scan`)."""
        from ._tables.scan import scan
        table = REGISTRY[spec.resource].table
        if table is None:
            raise ConfigError(f"The {spec.resource} listing has no fixed schema to scan; use to_polars().")
        return scan(self.stream, spec, table, pushdown=pushdown)


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
            profile: str | None = None, api_client: Any = None, timeout: float = 30.0,
            retry: RetryPolicy | None = None, pace: bool = True, transport: httpx.BaseTransport | None = None,
            sleep: Callable[[float], None] = time.sleep) -> Client:
    """Connect to a Genesys Cloud org, or to the built-in sandbox.

    Each setting comes from the arguments first, then the ``profile=`` named in a profile file (the Genesys Cloud
    CLI's ``~/.gc/config.toml`` or genesys-nb's own, see :func:`genesys_nb.profiles`), then the environment:
    ``GENESYSCLOUD_OAUTHCLIENT_ID`` / ``GENESYSCLOUD_OAUTHCLIENT_SECRET`` and ``GENESYSCLOUD_REGION``. A region may
    be ``"eu-west-1"``, ``"eu_west_1"`` or ``"mypurecloud.ie"``; or give ``api_url=`` (and optionally
    ``login_url=``). ``sandbox=True`` (or a dict of sandbox settings such as ``{"users": 50_000, "seed": 7,
    "latency_ms": 100, "http": True}``: each seed is a different org) starts the local emulator; it never reads the
    environment's credentials, and checks credentials given to it like a real org. ``api_client=`` adopts an
    authenticated official-SDK ``ApiClient``'s host and token; it is renewed when refused if
    ``client_id=``/``client_secret=`` are given too (the SDK does not keep client-credentials secrets). Nothing is
    sent until the first request; every argument is checked before that. ``pace=False`` turns off client-side rate
    pacing.
    """
    policy = retry or RetryPolicy()
    if api_client is not None:
        if sandbox or api_url or region or profile:
            raise ConfigError("api_client= adopts an SDK ApiClient's host and token: do not combine it with a region, "
                              "api_url, profile or sandbox.")
        return _adopt(api_client, client_id, client_secret, policy=policy, timeout=timeout, pace=pace,
                      transport=transport, sleep=sleep)
    resolved = resolve(region=region, api_url=api_url, login_url=login_url, client_id=client_id,
                       client_secret=client_secret, sandbox=sandbox, profile=profile)
    sb = None
    if resolved.sandbox is not None:
        sb, hosts, transport, resolved = _start_sandbox(resolved, transport)
    else:
        assert resolved.hosts is not None
        hosts = resolved.hosts
    http = http_client(timeout, transport=transport, headers={"User-Agent": USER_AGENT})
    auth = ExplainedAuth(Credentials(resolved.client_id or "", resolved.client_secret or ""), hosts.token_url, http,
                         policy=policy, sleep=sleep, origin=resolved.origin(),
                         sandbox_clients=list(sb.clients) if sb is not None else None,
                         sandbox_hint=resolved.sandbox_hint(),
                         region_label=hosts.region.replace("_", "-") if hosts.region else None,
                         region_hint=hosts.region.replace("_", "-") if hosts.region else None)
    client = Client(hosts, auth, http=http, policy=policy, governor=RateGovernor(enabled=pace, sleep=sleep),
                    sandbox=sb, sleep=sleep)
    client.profile = profile
    return client


def _start_sandbox(resolved: Resolved, transport: httpx.BaseTransport | None) -> tuple[Any, Hosts, Any, Resolved]:
    """Start the emulator with the resolved settings; a client id or secret left out is the sandbox's own."""
    from .sandbox import Churn, Faults, Sandbox  # the one place the client starts the sandbox

    settings = dict(resolved.sandbox or {})
    over_http = bool(settings.pop("http", False))
    for name, kind in (("faults", Faults), ("churn", Churn)):  # plain dicts are welcome in notebooks
        if isinstance(settings.get(name), Mapping):
            settings[name] = kind(**settings[name])
    try:
        sb = Sandbox(**settings)
    except (TypeError, ValueError) as exc:
        came = resolved.sources.get("sandbox")
        raise ConfigError(f"Bad sandbox settings{f' in {came}' if came else ''}: {exc}.") from None
    if over_http:
        hosts = resolve_hosts(api_url=sb.serve())
    else:
        hosts = resolve_hosts(api_url=SANDBOX_API)
        transport = transport or sb.transport()
    client_id, secret, found = resolved.client_id, resolved.client_secret, dict(resolved.sources)
    if not client_id:
        client_id = sb.default_client.client_id
        found["client_id"] = Source("sandbox", f"the sandbox's demo client ({client_id})")
    if secret is None:
        known = sb.clients.get(client_id)
        secret = known.client_secret if known else "unknown"
        found["client_secret"] = Source("sandbox", "the sandbox's own record of that client")
    return sb, hosts, transport, replace(resolved, client_id=client_id, client_secret=secret, sources=found)


def _adopt(api_client: Any, client_id: str | None, client_secret: str | None, *, policy: RetryPolicy, timeout: float,
           pace: bool, transport: httpx.BaseTransport | None, sleep: Callable[[float], None]) -> Client:
    """A client on an official-SDK ApiClient's host and token (renewable when client credentials are known)."""
    host, adopted, sdk_id, sdk_secret = _from_sdk(api_client)
    if not (client_id and client_secret):  # credentials given as well: renew with them when the token is refused
        client_id, client_secret = sdk_id, sdk_secret
    hosts = resolve_hosts(api_url=host)
    http = http_client(timeout, transport=transport, headers={"User-Agent": USER_AGENT})
    auth: TokenSource
    if not client_id:  # a token from another grant: usable until it expires, not renewable
        auth = StaticTokenAuth(adopted)
    else:
        auth = ClientCredentialsAuth(Credentials(client_id, client_secret or ""), hosts.token_url, http,
                                     policy=policy, sleep=sleep)
        auth.adopt(adopted)  # the SDK's token first; renewed with the credentials when refused
    return Client(hosts, auth, http=http, policy=policy, governor=RateGovernor(enabled=pace, sleep=sleep), sleep=sleep)
