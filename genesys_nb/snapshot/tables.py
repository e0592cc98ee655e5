"""The snapshot contract in one place: the folder's file names, its format marker, and every table's columns.

``docs/snapshot-tables.md`` describes the contract in words; this module is the same contract as code, used by the
writer (``client.snapshot()``) and by every reader (``open_snapshot``, findings, diffs). Columns may be added to a
table, never renamed: a reader checks that the columns below are present, each of its kind (text, number, UTC
time, list, struct).
"""

from __future__ import annotations

import polars as pl

from ..resources import REGISTRY
from ..resources.users import ACCESS_EXPAND

__all__ = ["FORMAT", "FORMAT_VERSION", "MANIFEST_FILE", "USER_EXPAND", "TABLES", "TABLE_NAMES", "STATUSES",
           "COMPLETE", "SKIPPED", "ALL_DIVISIONS", "DIRECT", "LISTED", "DERIVED", "table_file", "schema_of",
           "empty_table"]

#: ``manifest.json``'s ``format`` marker and the newest format version this toolkit reads and writes.
FORMAT = "genesys-nb-snapshot"
FORMAT_VERSION = 1
MANIFEST_FILE = "manifest.json"

#: A table's status in the manifest: written in full, or skipped (e.g. 403) with no Parquet file.
COMPLETE, SKIPPED = "complete", "skipped"
STATUSES = (COMPLETE, SKIPPED)

#: ``division_id`` meaning every division; ``via`` of a ``user_roles`` row granted to the user itself.
ALL_DIVISIONS = "*"
DIRECT = "direct"

#: The expand values the users table is listed with.
USER_EXPAND = ACCESS_EXPAND

#: Tables listed from the API: table -> the resource that lists it (its columns are the table's).
LISTED: dict[str, str] = {"users": "users", "divisions": "divisions", "roles": "roles", "role_grants": "role_grants",
                          "groups": "groups", "group_members": "group_members", "queues": "queues",
                          "queue_members": "queue_members", "user_licenses": "licenses"}
#: Tables computed from others in the snapshot (no request of their own): table -> the tables they need.
DERIVED: dict[str, tuple[str, ...]] = {"user_roles": ("role_grants", "group_members"), "user_skills": ("users",),
                                       "user_languages": ("users",)}

_S = pl.String
_F = pl.Float64
_DERIVED_SCHEMAS = {
    "user_roles": pl.Schema({"user_id": _S, "role_id": _S, "division_id": _S, "via": _S}),
    "user_skills": pl.Schema({"user_id": _S, "skill_id": _S, "skill_name": _S, "proficiency": _F, "state": _S}),
    "user_languages": pl.Schema({"user_id": _S, "language_id": _S, "language_name": _S, "proficiency": _F,
                                 "state": _S}),
}
_ORDER = ("users", "divisions", "roles", "role_grants", "user_roles", "groups", "group_members", "queues",
          "queue_members", "user_skills", "user_languages", "user_licenses")


def _schema(name: str) -> pl.Schema:
    if name in DERIVED:
        return _DERIVED_SCHEMAS[name]
    table = REGISTRY[LISTED[name]].table
    assert table is not None
    return table.polars_schema(USER_EXPAND if name == "users" else ())


#: Every table of a snapshot with its columns and types, in the contract's order.
TABLES: dict[str, pl.Schema] = {name: _schema(name) for name in _ORDER}
TABLE_NAMES: tuple[str, ...] = tuple(TABLES)


def table_file(name: str) -> str:
    """The Parquet file name of a table inside the snapshot folder."""
    return f"{name}.parquet"


def schema_of(name: str) -> pl.Schema:
    """The contract's columns of table ``name`` (KeyError for a name the contract does not know)."""
    return TABLES[name]


def empty_table(name: str) -> pl.DataFrame:
    """An empty frame with table ``name``'s columns: what a reader uses for a table with no rows to compare."""
    return pl.DataFrame(schema=TABLES[name])
