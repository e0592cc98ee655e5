"""Licences (``GET /api/v2/license/users``, page numbers by ``pageCount``: no ``nextUri``): one row per user and
licence."""

from __future__ import annotations

from typing import Any

from .._tables.schema import S, Column, TableSchema
from .base import ListingSpec, Resource, page_number_plans, paged_spec, register, total_of

PATH = "/api/v2/license/users"

USER_LICENSES = TableSchema("user_licenses", (Column("user_id", ("user_id",), S),
                                              Column("license_id", ("license_id",), S)))


def licenses_spec(*, page_size: Any = 100, max_items: Any = None) -> ListingSpec:
    return paged_spec("licenses", page_size=page_size, max_items=max_items)


def license_rows(records: list[dict]) -> list[dict]:
    """``{id, licenses: [...]}`` records as one row per licence (a user with none gives no row)."""
    return [{"user_id": r.get("id"), "license_id": lic} for r in records if isinstance(r, dict)
            for lic in (r.get("licenses") or ()) if isinstance(lic, str)]


RESOURCE = register(Resource("licenses", USER_LICENSES, plans=page_number_plans(PATH), total_request=total_of(PATH),
                             rows=license_rows, noun="licence rows"))
