"""The snapshot contract in one place: the folder's file names, its format marker, and every table's columns.

``docs/snapshot-tables.md`` describes the contract in words; this module is the same contract as code, used by the
writer (``client.snapshot()``) and by every reader (``open_snapshot``, findings, diffs). Columns may be added to a
table, never renamed: a reader checks that the columns below are present.
"""

from __future__ import annotations

import polars as pl

from .._tables.schema import user_schema

__all__ = ["FORMAT", "FORMAT_VERSION", "MANIFEST_FILE", "USER_EXPAND", "TABLES", "TABLE_NAMES", "STATUSES",
           "COMPLETE", "SKIPPED", "ALL_DIVISIONS", "DIRECT", "table_file", "schema_of", "empty_table"]

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
USER_EXPAND = ("authorization", "groups", "skills", "languages", "dateLastLogin")

_S = pl.String
_TS = pl.Datetime("us", "UTC")
_B = pl.Boolean
_I = pl.Int64
_F = pl.Float64


def _schema(**columns: pl.DataType | type[pl.DataType]) -> pl.Schema:
    return pl.Schema(columns)


#: Every table of a snapshot with its columns and types, in the contract's order.
TABLES: dict[str, pl.Schema] = {
    "users": user_schema(USER_EXPAND),
    "divisions": _schema(division_id=_S, name=_S, description=_S, home_division=_B),
    "roles": _schema(role_id=_S, name=_S, description=_S, default_role_id=_S, permissions=pl.List(_S),
                     user_count=_I, default=_B, base=_B),
    "role_grants": _schema(role_id=_S, subject_id=_S, subject_type=_S, subject_name=_S, division_id=_S,
                           division_name=_S),
    "user_roles": _schema(user_id=_S, role_id=_S, division_id=_S, via=_S),
    "groups": _schema(group_id=_S, name=_S, description=_S, state=_S, type=_S, visibility=_S, member_count=_I,
                      roles_enabled=_B, date_modified=_TS),
    "group_members": _schema(group_id=_S, user_id=_S),
    "queues": _schema(queue_id=_S, name=_S, division_id=_S, division_name=_S, member_count=_I, date_created=_TS,
                      date_modified=_TS),
    "queue_members": _schema(queue_id=_S, user_id=_S, joined=_B, member_by=_S, ring_number=_I, routing_status=_S),
    "user_skills": _schema(user_id=_S, skill_id=_S, skill_name=_S, proficiency=_F, state=_S),
    "user_languages": _schema(user_id=_S, language_id=_S, language_name=_S, proficiency=_F, state=_S),
    "user_licenses": _schema(user_id=_S, license_id=_S),
}
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
