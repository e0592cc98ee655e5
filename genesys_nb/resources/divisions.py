"""Divisions (``GET /api/v2/authorization/divisions``, page numbers): one row per division."""

from __future__ import annotations

from typing import Any

import pyarrow as pa

from .._tables.schema import S, Column, TableSchema
from .base import ListingSpec, Resource, page_number_plans, paged_spec, register, total_of

PATH = "/api/v2/authorization/divisions"

DIVISIONS = TableSchema("divisions", (
    Column("division_id", ("id",), S),
    Column("name", ("name",), S),
    Column("description", ("description",), S),
    Column("home_division", ("homeDivision",), pa.bool_(), doc="the org's home (default) division"),
))


def divisions_spec(*, page_size: Any = 100, max_items: Any = None) -> ListingSpec:
    return paged_spec("divisions", page_size=page_size, max_items=max_items)


RESOURCE = register(Resource("divisions", DIVISIONS, plans=page_number_plans(PATH), total_request=total_of(PATH),
                             noun="divisions"))
