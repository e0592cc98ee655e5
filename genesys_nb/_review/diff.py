"""``diff(old, new)``: what changed between two snapshots of one org, as polars frames.

Kinds of change (each a frame of :class:`SnapshotDiff`, in this order):

- ``joiners``: users in ``new`` and not in ``old`` (``reason`` "new user"), or whose state went to ``active``
  ("reactivated"); ``leavers``: users in ``old`` and not in ``new`` ("gone"), or whose state went from ``active``
  ("deactivated" or "deleted").
- ``changes``: one row per user in both and field that changed: ``user_id, name, field, old, new`` for the fields
  state, division, manager, email, title and department (division and manager are ids; ``old_name`` and
  ``new_name`` carry their names).
- ``roles_granted`` / ``roles_revoked``: rows of ``user_roles`` (the effective view) that appeared / disappeared,
  ``user_id, role_id, division_id, via``, with the user's, role's, division's ("all divisions" for ``*``) and
  group's names.
- ``group_members_added`` / ``_removed``, ``queue_members_added`` / ``_removed``, ``user_licenses_added`` /
  ``_removed``: pairs that appeared / disappeared.

Names of added rows come from ``new``, of removed rows from ``old``. A kind whose table one snapshot lacks is empty
and listed in ``not_compared`` with the reason.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import Arg, ConfigError
from ..export.textsafe import escape_controls
from ..snapshot.reader import Snapshot, as_snapshot
from ..snapshot.tables import ALL_DIVISIONS, DIRECT, empty_table

__all__ = ["diff", "check_pair", "moment", "SnapshotDiff", "KINDS", "USER_FIELDS", "PAIR_TABLES"]

#: The user fields compared, as the change's ``field`` -> the users column.
USER_FIELDS = {"state": "state", "division": "division_id", "manager": "manager_id", "email": "email",
               "title": "title", "department": "department"}
#: Membership tables compared as pairs: table -> its key columns.
PAIR_TABLES = {"group_members": ("group_id", "user_id"), "queue_members": ("queue_id", "user_id"),
               "user_licenses": ("user_id", "license_id")}
KINDS = ("joiners", "leavers", "changes", "roles_granted", "roles_revoked",
         *(f"{t}_{end}" for t in PAIR_TABLES for end in ("added", "removed")))
_ROLE_KEY = ["user_id", "role_id", "division_id", "via"]
_ACTIVE = "active"
_USER_COLUMNS = ("id", "name", "email", "state", "title", "department", "division_id", "division_name", "manager_id")


@dataclass
class SnapshotDiff:
    """The changes from snapshot ``old`` to snapshot ``new`` (frames per kind; see the module's documentation)."""

    old: Snapshot
    new: Snapshot
    frames: dict[str, pl.DataFrame]
    not_compared: dict[str, str] = field(default_factory=dict)

    def __getattr__(self, name: str) -> pl.DataFrame:
        frames = self.__dict__.get("frames", {})
        if name in frames:
            return frames[name]
        raise AttributeError(f"SnapshotDiff has no {name!r}; the kinds of change are {', '.join(KINDS)}.")

    def __getitem__(self, kind: str) -> pl.DataFrame:
        if kind not in self.frames:
            raise KeyError(f"No kind of change {kind!r}; the kinds are {', '.join(KINDS)}.")
        return self.frames[kind]

    def summary(self) -> dict[str, int]:
        """Rows per kind of change, in the order of KINDS."""
        return {kind: self.frames[kind].height for kind in KINDS}

    def __repr__(self) -> str:
        counts = ", ".join(f"{k} {n}" for k, n in self.summary().items())
        return f"SnapshotDiff({self.old.path} -> {self.new.path}: {counts})"

    def to_excel(self, path: str | os.PathLike[str], *, overwrite: bool = False) -> Path:
        """Write the changes as an ``.xlsx`` workbook (a Summary sheet and one sheet per kind that has rows)."""
        from .workbook import diff_workbook

        return diff_workbook(self, path, overwrite=overwrite)


class _Side:
    """One snapshot's tables, each read once; an absent table reads as empty with the contract's columns."""

    def __init__(self, snap: Snapshot) -> None:
        self.snap = snap
        self._cache: dict[str, pl.LazyFrame] = {}

    def has(self, name: str) -> bool:
        return self.snap.has(name)

    def table(self, name: str, *columns: str) -> pl.LazyFrame:
        if name not in self._cache:
            frame = self.snap.table(name).collect() if self.has(name) else empty_table(name)
            self._cache[name] = frame.lazy()
        return self._cache[name].select(columns) if columns else self._cache[name]

    def users(self) -> pl.LazyFrame:
        return self.table("users", *_USER_COLUMNS).rename({"id": "user_id"})

    def names(self, name: str, key: str, alias: str) -> pl.LazyFrame:
        return self.table(name, key, "name").rename({"name": alias}).unique(key)


def diff(old: Snapshot | str | os.PathLike[str], new: Snapshot | str | os.PathLike[str]) -> SnapshotDiff:
    """What changed from snapshot ``old`` to snapshot ``new`` of the same org (Snapshots or their folders)."""
    a, b = as_snapshot(old, "old"), as_snapshot(new, "new")
    check_pair(a, b)
    before, after = _Side(a), _Side(b)
    frames: dict[str, pl.LazyFrame] = {}
    frames["joiners"], frames["leavers"] = _movers(before, after)
    frames["changes"] = _changes(before, after)
    frames["roles_granted"] = _roles(after, before)
    frames["roles_revoked"] = _roles(before, after)
    for table, key in PAIR_TABLES.items():
        frames[f"{table}_added"] = _pairs(table, key, after, before)
        frames[f"{table}_removed"] = _pairs(table, key, before, after)
    skipped = _not_compared(a, b)
    # a table one side lacks would read as everything added or removed: such kinds stay empty, and say why
    frames = {k: f.limit(0) if k in skipped else f for k, f in frames.items()}
    collected = dict(zip(frames, pl.collect_all(list(frames.values()))))
    return SnapshotDiff(a, b, {k: collected[k] for k in KINDS}, skipped)


def check_pair(a: Snapshot, b: Snapshot, *, previous: Arg | None = None) -> None:
    """Refuse two snapshots of different orgs, or ``a`` finished after ``b``. ``previous`` names the argument that
    gave ``a`` when it is not diff's ``old`` (the review's ``previous=``)."""
    org_a, org_b = a.manifest.org, b.manifest.org
    if org_a.id != org_b.id:
        names = [escape_controls(f"{o.name or '?'} {o.id}") for o in (org_a, org_b)]  # from manifests: no codes
        raise ConfigError(f"These snapshots are of two different orgs ({names[0]} and {names[1]}); a diff compares "
                          f"two snapshots of the same org.")
    if a.manifest.finished and b.manifest.finished and a.manifest.finished > b.manifest.finished:
        old, new, advice = (("previous", "reviewed", "{previous} must be the older of the two") if previous else
                            ("old", "new", "pass the older snapshot first"))
        raise ConfigError(f"The {old} snapshot ({a.path}, finished {moment(a.manifest.finished)}) is newer than the "
                          f"{new} one ({b.path}, finished {moment(b.manifest.finished)}); {advice}.",
                          refers_to={"previous": previous} if previous else None)


def moment(value: dt.datetime) -> str:
    """A snapshot's time to the second (and its fraction when it has one), in UTC: two snapshots of one minute
    read apart."""
    return value.astimezone(dt.timezone.utc).replace(tzinfo=None).isoformat(sep=" ") + " UTC"


def _not_compared(a: Snapshot, b: Snapshot) -> dict[str, str]:
    needs = {"joiners": "users", "leavers": "users", "changes": "users", "roles_granted": "user_roles",
             "roles_revoked": "user_roles", **{f"{t}_{e}": t for t in PAIR_TABLES for e in ("added", "removed")}}
    out = {}
    for kind, table in needs.items():
        why = [f"the {side} snapshot {s.skipped.get(table, 'was taken without it')}"
               for side, s in (("old", a), ("new", b)) if not s.has(table)]
        if why:
            out[kind] = f"table {table}: {'; '.join(why)}"
    return out


# -- users -----------------------------------------------------------------------------------------------------------
def _movers(before: _Side, after: _Side) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    shown = ("name", "email", "division_name", "title", "department")
    old = before.users().select("user_id", "state", *shown).rename(lambda c: c if c == "user_id" else f"old_{c}")
    new = after.users().select("user_id", "state", *shown)
    both = new.join(old, on="user_id", how="full", coalesce=True)
    was, now = pl.col("old_state") == _ACTIVE, pl.col("state") == _ACTIVE
    joined = (pl.col("old_state").is_null() & pl.col("state").is_not_null()) | (now & ~was)
    left = (pl.col("state").is_null() & pl.col("old_state").is_not_null()) | (was & ~now)
    cols = ["user_id", "name", "email", "old_state", "state", "reason", "division_name", "title", "department"]
    joiners = (both.filter(joined.fill_null(False))
               .with_columns(reason=pl.when(pl.col("old_state").is_null()).then(pl.lit("new user"))
                             .otherwise(pl.lit("reactivated")))
               .select(cols).sort("name", "user_id"))
    leavers = (both.filter(left.fill_null(False))
               .with_columns(*(pl.coalesce(c, f"old_{c}").alias(c) for c in shown),
                             reason=pl.when(pl.col("state").is_null()).then(pl.lit("gone from the directory"))
                             .when(pl.col("state") == "deleted").then(pl.lit("deleted"))
                             .otherwise(pl.lit("deactivated")))
               .select(cols).sort("name", "user_id"))
    return joiners, leavers


def _changes(before: _Side, after: _Side) -> pl.LazyFrame:
    both = after.users().join(before.users(), on="user_id", how="inner", suffix="_old")
    managers_old = before.users().select(manager_id="user_id", manager_name="name")
    managers_new = after.users().select(manager_id="user_id", manager_name="name")
    both = (both.join(managers_new, on="manager_id", how="left")
            .join(managers_old.rename({"manager_id": "manager_id_old", "manager_name": "manager_name_old"}),
                  on="manager_id_old", how="left"))
    labels = {"division": "division_name", "manager": "manager_name"}
    parts = []
    for name, column in USER_FIELDS.items():
        label = labels.get(name)
        parts.append(both.filter(pl.col(column).ne_missing(pl.col(f"{column}_old"))).select(
            "user_id", "name", field=pl.lit(name), old=pl.col(f"{column}_old"), new=pl.col(column),
            old_name=pl.col(f"{label}_old") if label else pl.lit(None, pl.String),
            new_name=pl.col(label) if label else pl.lit(None, pl.String)))
    order = {name: i for i, name in enumerate(USER_FIELDS)}
    return (pl.concat(parts).with_columns(_o=pl.col("field").replace_strict(order, return_dtype=pl.Int32))
            .sort("name", "user_id", "_o").drop("_o"))


# -- memberships -----------------------------------------------------------------------------------------------------
def _roles(side: _Side, other: _Side) -> pl.LazyFrame:
    """Rows of ``side``'s user_roles that ``other`` lacks, with names from ``side``."""
    rows = side.table("user_roles", *_ROLE_KEY).join(other.table("user_roles", *_ROLE_KEY), on=_ROLE_KEY,
                                                     how="anti").unique()
    groups = side.names("groups", "group_id", "group_name").rename({"group_id": "via"})
    return (rows.join(side.users().select("user_id", "name", "email"), on="user_id", how="left")
            .join(side.names("roles", "role_id", "role_name"), on="role_id", how="left")
            .join(side.names("divisions", "division_id", "division_name"), on="division_id", how="left")
            .join(groups, on="via", how="left")
            .with_columns(group_name=pl.when(pl.col("via") != DIRECT).then(pl.col("group_name")),
                          division_name=pl.when(pl.col("division_id") == ALL_DIVISIONS).then(pl.lit("all divisions"))
                          .otherwise(pl.col("division_name")))
            .select("user_id", "name", "email", "role_id", "role_name", "division_id", "division_name", "via",
                    "group_name")
            .sort("name", "user_id", "role_id", "division_id", "via"))


_PAIR_NAMES: dict[str, tuple[str, str, str]] = {"group_id": ("groups", "group_id", "group_name"),
                                                "queue_id": ("queues", "queue_id", "queue_name")}


def _pairs(table: str, key: tuple[str, ...], side: _Side, other: _Side) -> pl.LazyFrame:
    """Key pairs of ``side``'s table that ``other`` lacks, with the user's (and group's or queue's) name."""
    rows = side.table(table, *key).join(other.table(table, *key), on=list(key), how="anti").unique()
    rows = rows.join(side.users().select("user_id", "name", "email"), on="user_id", how="left")
    extra: list[Any] = []
    for column in key:
        if column in _PAIR_NAMES:
            name, k, alias = _PAIR_NAMES[column]
            rows = rows.join(side.names(name, k, alias), on=column, how="left")
            extra.append(alias)
    return rows.select(*key, "name", "email", *extra).sort("name", *key)
