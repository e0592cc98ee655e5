"""Queues (``GET /api/v2/routing/queues``, page numbers) and their members
(``GET /api/v2/routing/queues/{queueId}/members``).

The members listing reports no ``total`` or ``pageCount`` (since SDK 137): pages are followed while a page has a
``nextUri``; a page without one ends the listing when it is short or empty. Page size at most 100. Each member's
``id`` is the user's id, also for members who come through a group (``memberBy: group``).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from .._paging.paginators import OpenEndedPagesPaginator
from .._tables.schema import S, TS, Column, TableSchema
from .base import (FanOut, ListingSpec, Resource, all_of, children_of, fan_out_spec, page_number_plans, paged_spec,
                   record_id, register, total_of)

PATH = "/api/v2/routing/queues"
MEMBERS_MAX_PAGE_SIZE = 100

QUEUES = TableSchema("queues", (
    Column("queue_id", ("id",), S),
    Column("name", ("name",), S),
    Column("division_id", ("division", "id"), S),
    Column("division_name", ("division", "name"), S),
    Column("member_count", ("memberCount",), pa.int64()),
    Column("date_created", ("dateCreated",), TS),
    Column("date_modified", ("dateModified",), TS),
))

QUEUE_MEMBERS = TableSchema("queue_members", (
    Column("queue_id", ("queue_id",), S),
    Column("user_id", ("user_id",), S),
    Column("user_name", ("user_name",), S),
    Column("joined", ("joined",), pa.bool_()),
    Column("member_by", ("member_by",), S),
    Column("ring_number", ("ring_number",), pa.int64()),
    Column("routing_status", ("routing_status",), S),
))


def queues_spec(*, page_size: Any = 100, max_items: Any = None) -> ListingSpec:
    return paged_spec("queues", page_size=page_size, max_items=max_items)


def member_rows(queue_id: str, records: list[dict]) -> list[dict]:
    """One row per member of a page of ``QueueMember`` records."""
    rows = []
    for r in records:
        if not isinstance(r, dict):
            continue
        status = r.get("routingStatus")
        rows.append({"queue_id": queue_id, "user_id": r.get("id"), "user_name": r.get("name"),
                     "joined": r.get("joined"), "member_by": r.get("memberBy"), "ring_number": r.get("ringNumber"),
                     "routing_status": status.get("status") if isinstance(status, dict) else None})
    return rows


def members_spec(*, queue_ids: Any = None, page_size: Any = MEMBERS_MAX_PAGE_SIZE, max_items: Any = None,
                 concurrency: Any = 4) -> ListingSpec:
    return fan_out_spec("queue_members", parents=queue_ids, parents_name="queue_ids", page_size=page_size,
                        max_items=max_items, concurrency=concurrency, maximum=MEMBERS_MAX_PAGE_SIZE)


RESOURCE = register(Resource("queues", QUEUES, permission="routing:queue:view",
                             plans=page_number_plans(PATH), total_request=total_of(PATH),
                             noun="queues"))
MEMBERS = register(Resource("queue_members", QUEUE_MEMBERS, permission="routing:queue:view",
                             noun="members", fan_out=FanOut(
    parents=all_of(queues_spec), parent_id=record_id,
    child=children_of(PATH, "members", OpenEndedPagesPaginator), rows=member_rows)))
