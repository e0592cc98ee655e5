"""Groups (``GET /api/v2/groups``) and their members (``GET /api/v2/groups/{groupId}/members``), page numbers.

Members are "individuals, owners, and dynamically included people": one row per (group, user).
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from .._tables.schema import S, TS, Column, TableSchema
from .base import (FanOut, ListingSpec, Resource, all_of, children_of, fan_out_spec, page_number_plans, paged_spec,
                   record_id, register, total_of)

PATH = "/api/v2/groups"

GROUPS = TableSchema("groups", (
    Column("group_id", ("id",), S),
    Column("name", ("name",), S),
    Column("description", ("description",), S),
    Column("state", ("state",), S),
    Column("type", ("type",), S),
    Column("visibility", ("visibility",), S),
    Column("member_count", ("memberCount",), pa.int64()),
    Column("roles_enabled", ("rolesEnabled",), pa.bool_()),
    Column("date_modified", ("dateModified",), TS),
))

GROUP_MEMBERS = TableSchema("group_members", tuple(Column(n, (n,), S) for n in (
    "group_id", "user_id", "user_name", "user_state")))


def groups_spec(*, page_size: Any = 100, max_items: Any = None) -> ListingSpec:
    return paged_spec("groups", page_size=page_size, max_items=max_items)


def member_rows(group_id: str, records: list[dict]) -> list[dict]:
    """One row per member of a page of ``/groups/{id}/members`` (User records)."""
    return [{"group_id": group_id, "user_id": r.get("id"), "user_name": r.get("name"), "user_state": r.get("state")}
            for r in records if isinstance(r, dict)]


def members_spec(*, group_ids: Any = None, page_size: Any = 100, max_items: Any = None,
                 concurrency: Any = 4) -> ListingSpec:
    return fan_out_spec("group_members", parents=group_ids, parents_name="group_ids", page_size=page_size,
                        max_items=max_items, concurrency=concurrency)


RESOURCE = register(Resource("groups", GROUPS, plans=page_number_plans(PATH), total_request=total_of(PATH),
                             noun="groups"))
MEMBERS = register(Resource("group_members", GROUP_MEMBERS, noun="members", fan_out=FanOut(
    parents=all_of(groups_spec), parent_id=record_id, child=children_of(PATH, "members"), rows=member_rows)))
