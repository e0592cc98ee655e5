"""A resource declared in one module, as a new listing is added: work teams (``GET /api/v2/teams``, ``after``
tokens). Nothing else in the package is edited for it (see tests/test_one_file_resource.py)."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from genesys_nb import ListingSpec
from genesys_nb._paging.paginators import AfterPaginator
from genesys_nb._paging.stream import Plan
from genesys_nb._tables.schema import S, TS, Column, TableSchema
from genesys_nb.resources.base import Resource, paged_spec, register

PATH = "/api/v2/teams"

TEAMS = TableSchema("teams", (
    Column("team_id", ("id",), S),
    Column("name", ("name",), S),
    Column("division_id", ("division", "id"), S),
    Column("member_count", ("memberCount",), pa.int64()),
    Column("date_created", ("dateCreated",), TS),
))


def teams_spec(*, page_size: Any = 25, max_items: Any = None) -> ListingSpec:
    return paged_spec("teams", page_size=page_size, max_items=max_items)


def _plans(spec: ListingSpec, api: Any = None) -> list[Plan]:
    return [Plan(AfterPaginator(PATH, spec.query, items_key="entities"))]


RESOURCE = register(Resource("teams", TEAMS, plans=_plans, noun="teams"))
