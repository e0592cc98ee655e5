"""Roles (``GET /api/v2/authorization/roles``) and their grants (``GET .../roles/{roleId}/subjectgrants``).

Grants are listed per role, not per user: ⌈roles/page⌉ + Σ⌈subjects/page⌉ requests instead of one per user, and a
grant to a group comes once, not once per member. One row per (role, subject, division); subjects are users
(``PC_USER``) or groups (``PC_GROUP``, not expanded: join with group members for the users behind them). A division
id of ``*`` means all divisions and is kept as it is.
"""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from .._tables.schema import S, Column, Derived, TableSchema
from .base import (FanOut, ListingSpec, Resource, all_of, children_of, fan_out_spec, page_number_plans, paged_spec,
                   record_id, register, total_of)

PATH = "/api/v2/authorization/roles"


def _permissions(records: list[dict]) -> pa.Array:
    """Per role, ``domain:entity:action`` for every action of every permission policy, in order, without repeats."""
    out = []
    for record in records:
        seen: dict[str, None] = {}
        policies = record.get("permissionPolicies") if isinstance(record, dict) else None
        for policy in policies if isinstance(policies, list) else ():
            if not isinstance(policy, dict):
                continue
            actions = policy.get("actionSet")
            for action in actions if isinstance(actions, list) else ():
                seen[f"{policy.get('domain')}:{policy.get('entityName')}:{action}"] = None
        out.append(list(seen))
    return pa.array(out, pa.list_(S))


ROLES = TableSchema("roles", (
    Column("role_id", ("id",), S),
    Column("name", ("name",), S),
    Column("description", ("description",), S),
    Column("default_role_id", ("defaultRoleId",), S, doc="internal id of a built-in role, e.g. employee"),
    Column("permissions", ("permissionPolicies",), pa.list_(S), doc="domain:entity:action of each policy action",
           derived=Derived((), _permissions)),
    Column("general_permissions", ("permissions",), pa.list_(S), doc="the role's general permissions"),
    Column("user_count", ("userCount",), pa.int64()),
    Column("default", ("default",), pa.bool_()),
    Column("base", ("base",), pa.bool_()),
))

ROLE_GRANTS = TableSchema("role_grants", tuple(Column(name, (name,), S) for name in (
    "role_id", "subject_id", "subject_type", "subject_name", "division_id", "division_name")))


def roles_spec(*, page_size: Any = 100, max_items: Any = None) -> ListingSpec:
    # userCount=false would be cheaper, but the count is what an access review reads first.
    return paged_spec("roles", page_size=page_size, max_items=max_items)


def subject_type(api_type: Any) -> str | None:
    """``PC_USER`` -> ``user``, ``PC_GROUP`` -> ``group``; other types lower-cased without ``PC_``."""
    if not isinstance(api_type, str):
        return None
    value = api_type.lower()
    return value[3:] if value.startswith("pc_") else value


def grant_rows(role_id: str, records: list[dict]) -> list[dict]:
    """One row per (role, subject, division) from a page of ``SubjectDivisionGrants``."""
    rows = []
    for record in records:
        if not isinstance(record, dict):
            continue
        base = {"role_id": role_id, "subject_id": record.get("id"), "subject_type": subject_type(record.get("type")),
                "subject_name": record.get("name")}
        divisions = [d for d in record.get("divisions") or () if isinstance(d, dict)]
        for division in divisions or [{}]:
            rows.append({**base, "division_id": division.get("id"), "division_name": division.get("name")})
    return rows


def grants_spec(*, role_ids: Any = None, page_size: Any = 100, max_items: Any = None,
                concurrency: Any = 4) -> ListingSpec:
    return fan_out_spec("role_grants", parents=role_ids, parents_name="role_ids", page_size=page_size,
                        max_items=max_items, concurrency=concurrency)


RESOURCE = register(Resource("roles", ROLES, permission="authorization:role:view",
                             plans=page_number_plans(PATH), total_request=total_of(PATH),
                             noun="roles"))
GRANTS = register(Resource("role_grants", ROLE_GRANTS, permission="authorization:role:view",
                             noun="grants", fan_out=FanOut(
    parents=all_of(roles_spec), parent_id=record_id, child=children_of(PATH, "subjectgrants"), rows=grant_rows)))
