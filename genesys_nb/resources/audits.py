"""Audit events: ``POST /api/v2/audits/query`` starts a job, ``GET /api/v2/audits/query/{transactionId}`` is
polled until it has ``Succeeded``, then ``GET .../results`` is paged by ``cursor`` (page size at most 500).

A job that ``Failed``, was ``Cancelled`` or is still not done after ``poll_timeout`` seconds raises
:class:`~genesys_nb.errors.AuditQueryError` with its transaction id. A resume token remembers the transaction, so a
resumed stream continues that job's results rather than starting another.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pyarrow as pa

from ..errors import AuditQueryError, ConfigError
from .._paging.paginators import Batch, CursorPaginator, PageRequest
from .._paging.stream import Plan
from .._tables.schema import S, TS, Column, TableSchema, struct
from .base import ListingSpec, Resource, check_page_size, check_whole, quote_id, register

QUERY_PATH = "/api/v2/audits/query"
MAX_PAGE_SIZE = 500
FILTER_PROPERTIES = ("UserId", "TrusteeOrganizationId", "ClientId", "Action", "EntityType", "EntityId")
DONE, FAILED = "succeeded", ("failed", "cancelled")

AUDIT_EVENTS = TableSchema("audit_events", (
    Column("event_id", ("id",), S),
    Column("event_date", ("eventDate",), TS),
    Column("service_name", ("serviceName",), S),
    Column("level", ("level",), S),
    Column("action", ("action",), S),
    Column("entity_type", ("entityType",), S),
    Column("entity_id", ("entity", "id"), S),
    Column("entity_name", ("entity", "name"), S),
    Column("user_id", ("user", "id"), S),
    Column("user_name", ("user", "name"), S),
    Column("client_id", ("client", "id"), S),
    Column("status", ("status",), S),
    Column("application", ("application",), S),
    Column("remote_ip", ("remoteIp",), pa.list_(S)),
    Column("message", ("message", "message"), S),
    Column("property_changes", ("propertyChanges",),
           pa.list_(struct(property=S, oldValues=pa.list_(S), newValues=pa.list_(S)))),
))


def _instant(value: Any, name: str) -> str:
    """A moment as the API's ``YYYY-MM-DDThh:mm:ssZ`` (UTC); naive datetimes are taken as UTC."""
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"{name} must be a datetime or an ISO 8601 time such as '2026-09-01T00:00:00Z', "
                              f"not {value!r}.") from None
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        value = dt.datetime(value.year, value.month, value.day)
    if not isinstance(value, dt.datetime):
        raise ConfigError(f"{name} must be a datetime, a date or an ISO 8601 string, not {value!r}.")
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    return value.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _filters(filters: Any) -> list[dict[str, str]]:
    """``{"Action": "Delete"}`` or ``[{"property": "Action", "value": "Delete"}]`` as the API's filter list."""
    if filters is None:
        return []
    pairs = list(filters.items()) if isinstance(filters, Mapping) else None
    if pairs is None:
        if not isinstance(filters, Sequence) or isinstance(filters, (str, bytes)):
            raise ConfigError(f"filters must be a dict such as {{'Action': 'Delete'}} or a list of "
                              f"{{'property': ..., 'value': ...}}, not {filters!r}.")
        pairs = [(f.get("property"), f.get("value")) if isinstance(f, Mapping) else (None, None) for f in filters]
    out = []
    for prop, value in pairs:
        if prop not in FILTER_PROPERTIES or not isinstance(value, str):
            raise ConfigError(f"Each audit filter needs a property (one of {', '.join(FILTER_PROPERTIES)}) and a "
                              f"text value, not {prop!r}: {value!r}.")
        out.append({"property": prop, "value": value})
    return out


def audit_spec(*, service: Any, start: Any, end: Any, filters: Any = None, page_size: Any = MAX_PAGE_SIZE,
               max_items: Any = None, poll_timeout: Any = 600) -> ListingSpec:
    """Check an audit query's arguments into its spec."""
    from .._paging.stream import check_max_items

    if not isinstance(service, str) or not service.strip():
        raise ConfigError("service must be an audit service name such as 'PeoplePermissions', 'Groups' or "
                          "'Routing' (the API lists them at /api/v2/audits/query/servicemapping).")
    begin, finish = _instant(start, "start"), _instant(end, "end")
    if begin >= finish:
        raise ConfigError(f"start ({begin}) must come before end ({finish}).")
    body = {"interval": f"{begin}/{finish}", "serviceName": service.strip(), "filters": _filters(filters),
            "sort": [{"name": "Timestamp", "sortOrder": "ascending"}]}
    check_max_items(max_items)
    check_whole(poll_timeout, "poll_timeout", minimum=1, maximum=24 * 3600)
    return ListingSpec.make("audit_events", {"pageSize": check_page_size(page_size, maximum=MAX_PAGE_SIZE)},
                            {"body": body, "poll_timeout": poll_timeout}, max_items=max_items)


class AuditResultsPaginator(CursorPaginator):
    """The results of one audit job by cursor; the job is started (and waited for) when the first page is asked
    for. Positions are ``[transaction id, cursor]`` so that a resume continues the same job."""

    def __init__(self, params: Mapping[str, Any], start_job: Callable[[], str]) -> None:
        super().__init__(QUERY_PATH, params, items_key="entities")
        self._start_job = start_job
        self._transaction: str | None = None

    def request(self, position: Any) -> PageRequest:
        if position is None:
            if self._transaction is None:
                self._transaction = self._start_job()
            transaction, cursor = self._transaction, None
        else:
            transaction, cursor = position
        params = dict(self.params)
        if cursor:
            params["cursor"] = cursor
        return PageRequest("GET", f"{QUERY_PATH}/{quote_id(transaction)}/results", params)

    def check_position(self, position: Any) -> Any:
        if position is not None and not (isinstance(position, list) and len(position) == 2
                                         and all(isinstance(p, str) and p for p in position)):
            return super().check_position(position)  # a ConfigError naming the position
        return position

    def advance(self, position: Any, body: Any, items: list | Batch) -> Any:
        transaction = self._transaction if position is None else position[0]
        cursor = super().advance(None if position is None else position[1], body, items)
        return None if cursor is None or not transaction else [transaction, cursor]


def run_job(send: Callable[..., Any], body: Mapping[str, Any], *, poll_timeout: float,
            sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> str:
    """Start an audit job and wait until it has succeeded; its transaction id."""
    job = send("POST", QUERY_PATH, json=dict(body))
    transaction = job.get("id") if isinstance(job, dict) else None
    if not isinstance(transaction, str) or not transaction:
        raise AuditQueryError("The audit query was accepted but returned no transaction id.")
    deadline, wait = clock() + poll_timeout, 0.25
    while True:
        state = str(job.get("state") or "").lower()
        if state == DONE:
            return transaction
        if state in FAILED:
            raise AuditQueryError(f"The audit query {transaction} ended as {job.get('state')}: the API did not run "
                                  f"it. Check the service name and the interval, and try again.",
                                  transaction_id=transaction)
        if clock() >= deadline:
            raise AuditQueryError(f"The audit query {transaction} was still {job.get('state') or 'pending'} after "
                                  f"{poll_timeout:g} s; raise poll_timeout= or narrow the interval.",
                                  transaction_id=transaction)
        sleep(wait)
        wait = min(wait * 2, 5.0)
        job = send("GET", f"{QUERY_PATH}/{quote_id(transaction)}")


def _plans(spec: ListingSpec, api: Any) -> list[Plan]:
    body, timeout = spec.option("body"), spec.option("poll_timeout")
    return [Plan(AuditResultsPaginator(spec.query, lambda: run_job(api.send, body, poll_timeout=timeout,
                                                                   sleep=api.sleep)))]


RESOURCE = register(Resource("audit_events", AUDIT_EVENTS, permission="audits:audit:view", plans=_plans, noun="events"))
