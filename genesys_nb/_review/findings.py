"""``findings(snapshot)``: every rule of :mod:`.rules` run over one snapshot, as one polars frame.

One row per finding, with the user (id, name, email, state, last login), a sentence (``detail``) and the evidence
ids with their names (role, division, group, queue, licence; null where they do not apply). Sorted by severity,
then rule, then user name. Only the snapshot is read: the same snapshot and ``today`` give the same answer forever.
"""

from __future__ import annotations

import datetime as dt
import os
import warnings
from collections.abc import Iterable
from dataclasses import dataclass, field

import polars as pl

from .._checks import whole_number
from ..errors import ConfigError
from ..snapshot.reader import Snapshot, as_snapshot
from .rules import DEFAULT_ROLE_IDS, RULES, SEVERITIES, Rule, Tables, admin_role_expr

__all__ = ["findings", "run_findings", "FindingsResult", "FINDING_SCHEMA", "EVIDENCE", "as_utc", "check_stale_days"]

_S = pl.String()
#: The columns of a findings frame, in order.
FINDING_SCHEMA = pl.Schema({
    "rule": _S, "severity": _S, "user_id": _S, "name": _S, "email": _S, "state": _S, "detail": _S,
    "date_last_login": pl.Datetime("us", "UTC"), "role_id": _S, "role_name": _S, "division_id": _S,
    "division_name": _S, "group_id": _S, "group_name": _S, "queue_id": _S, "queue_name": _S, "license_id": _S,
})
#: The evidence ids a rule may fill in (the others stay null).
EVIDENCE = ("role_id", "division_id", "group_id", "queue_id", "license_id")
_NAMES = {"role_id": ("roles", "name", "role_name"), "division_id": ("divisions", "name", "division_name"),
          "group_id": ("groups", "name", "group_name"), "queue_id": ("queues", "name", "queue_name")}


@dataclass(frozen=True)
class FindingsResult:
    """The findings frame with what produced it: the review date, the settings, and the rules that could not run."""

    frame: pl.DataFrame
    today: dt.datetime
    stale_days: int
    admin_role_ids: tuple[str, ...]
    admin_role_names: tuple[str, ...] = ()
    not_run: dict[str, str] = field(default_factory=dict)


def as_utc(value: dt.datetime | dt.date | str | None, default: dt.datetime, what: str = "today") -> dt.datetime:
    """A review date as a UTC datetime: a datetime (naive means UTC), a date (its midnight, UTC) or ISO text."""
    if value is None:
        return default
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise ConfigError(f"{what} must be a date or time such as 2026-12-31, not {value!r}.") from None
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.timezone.utc) if value.tzinfo is None else value.astimezone(dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    raise ConfigError(f"{what} must be a date or datetime, not {type(value).__name__}.")


def check_stale_days(value: object, what: str = "stale_days") -> int:
    """The days without a login that make a login stale: a whole number >= 0."""
    return whole_number(value, what, advice="It counts days without a login.")


def findings(snapshot: Snapshot | str | os.PathLike[str], today: dt.datetime | dt.date | str | None = None,
             stale_days: int = 90, admin_roles: Iterable[str] | None = None) -> pl.DataFrame:
    """Every finding of every rule in ``gnb.RULES`` over ``snapshot`` (a Snapshot or its folder's path).

    ``today`` is the review date (default: when the snapshot was taken, by the API's clock: ``manifest.as_of``); ``stale_days`` the days without a login
    after which an active user is stale; ``admin_roles`` role ids or names that replace the default definition of
    admin roles. A rule whose table the snapshot lacks is left out with a warning.
    """
    result = run_findings(snapshot, today=today, stale_days=stale_days, admin_roles=admin_roles)
    for rule_id, why in result.not_run.items():
        warnings.warn(f"The rule {rule_id} was not run: {why}", stacklevel=2)
    return result.frame


def run_findings(snapshot: Snapshot | str | os.PathLike[str], *, today: dt.datetime | dt.date | str | None = None,
                 stale_days: int = 90, admin_roles: Iterable[str] | None = None,
                 argument_names: dict[str, str] | None = None) -> FindingsResult:
    """:func:`findings` with what produced it (``argument_names`` renames arguments in errors, e.g. for flags)."""
    names = {"today": "today", "stale_days": "stale_days", "admin_roles": "admin_roles", **(argument_names or {})}
    snap = as_snapshot(snapshot)
    when = as_utc(today, snap.manifest.as_of, names["today"])
    days = check_stale_days(stale_days, names["stale_days"])
    if not snap.has("users"):
        why = snap.skipped.get("users", "it was not taken")
        raise ConfigError(f"The snapshot {snap.path} has no users table ({why}); findings need it.")
    roles = _roles(snap, admin_roles, names["admin_roles"])
    tables = Tables(users=_collect(snap, "users", "id", "name", "email", "state", "manager_id", "date_last_login"),
                    roles=roles, user_roles=_maybe(snap, "user_roles"), queue_members=_maybe(snap, "queue_members"),
                    user_licenses=_maybe(snap, "user_licenses"), today=when, stale_days=days)
    lookups = _lookups(snap, tables)
    frames, not_run = [], {}
    for r in RULES:
        missing = [n for n in r.needs if not snap.has(n)]
        if missing:
            not_run[r.id] = _why_missing(snap, missing)
            continue
        frames.append(_run(r, tables, lookups))
    frame = pl.concat(frames).collect() if frames else pl.DataFrame(schema=FINDING_SCHEMA)
    admin = roles.filter("is_admin").collect().sort("role_name", "role_id") if roles is not None else None
    ids = tuple(admin["role_id"]) if admin is not None else ()
    labels = tuple(n or i for i, n in admin.select("role_id", "role_name").iter_rows()) if admin is not None else ()
    return FindingsResult(_sorted(frame), when, days, ids, labels, not_run)


# -- loading ---------------------------------------------------------------------------------------------------------
def _collect(snap: Snapshot, name: str, *columns: str) -> pl.LazyFrame:
    """A table read once into memory (the rules join it several times)."""
    return snap.table(name).select(columns or pl.all()).collect().lazy()


def _maybe(snap: Snapshot, name: str) -> pl.LazyFrame | None:
    return _collect(snap, name) if snap.has(name) else None


def _roles(snap: Snapshot, admin_roles: Iterable[str] | None, arg: str) -> pl.LazyFrame | None:
    """role_id, role_name, is_admin, is_default: from the roles table, admin by definition or by the given list."""
    if not snap.has("roles"):
        if admin_roles is not None:
            raise ConfigError(f"{arg} names roles, but the snapshot {snap.path} has no roles table.")
        return None
    roles = snap.table("roles").select("role_id", "name", "default_role_id", "permissions").collect()
    if admin_roles is None:
        is_admin = admin_role_expr()
    else:
        wanted = _role_list(admin_roles, arg)
        by_id = roles["role_id"].is_in(list(wanted))
        by_name = roles["name"].str.to_lowercase().is_in([w.lower() for w in wanted])
        known = set(roles.filter(by_id)["role_id"]) | {n.lower() for n in roles.filter(by_name)["name"]}
        unknown = [w for w in wanted if w not in known and w.lower() not in known]
        if unknown:
            sample = ", ".join(f"{n!r}" for n in roles["name"].sort().head(12))
            raise ConfigError(f"{arg} names roles the snapshot does not have: {', '.join(unknown)}. Give role ids or "
                              f"names, e.g. {sample}.")
        is_admin = pl.lit(by_id | by_name)
    return roles.lazy().select("role_id", role_name="name", is_admin=is_admin,
                               is_default=pl.col("default_role_id").is_in(DEFAULT_ROLE_IDS).fill_null(False))


def _role_list(value: Iterable[str], arg: str) -> list[str]:
    items = [value] if isinstance(value, str) else value
    try:
        out = [str(v).strip() for v in items if str(v).strip()]
    except TypeError:
        raise ConfigError(f"{arg} must be a list of role ids or names, not {value!r}.") from None
    return out


def _lookups(snap: Snapshot, tables: Tables) -> dict[str, pl.LazyFrame]:
    """id -> name for roles, divisions, groups and queues (the ones the snapshot has)."""
    out = {"user": tables.users.select(user_id="id", name="name", email="email", state="state",
                                       date_last_login="date_last_login")}
    for key, (table, column, alias) in _NAMES.items():
        if key == "role_id" and tables.roles is not None:
            out[key] = tables.roles.select("role_id", "role_name")
        elif key != "role_id" and snap.has(table):
            out[key] = _collect(snap, table, key, column).rename({column: alias}).unique(key)
    return out


def _why_missing(snap: Snapshot, missing: list[str]) -> str:
    parts = [f"{n} ({snap.skipped[n]})" if n in snap.skipped else f"{n} (not taken)" for n in missing]
    return f"the snapshot lacks the table{'s' if len(parts) > 1 else ''} {', '.join(parts)}."


# -- running ---------------------------------------------------------------------------------------------------------
def _run(r: Rule, tables: Tables, lookups: dict[str, pl.LazyFrame]) -> pl.LazyFrame:
    """One rule's rows with the user, the names of the evidence, and the detail sentence, in FINDING_SCHEMA."""
    rows = r.select(tables)
    have = rows.collect_schema().names()
    rows = rows.select("user_id", *(pl.col(c) if c in have else pl.lit(None, _S).alias(c)
                                    for c in (*EVIDENCE, "info"))).unique(maintain_order=True)
    rows = rows.join(lookups["user"], on="user_id", how="left")
    for key, (_, _, alias) in _NAMES.items():
        rows = rows.join(lookups[key], on=key, how="left") if key in lookups \
            else rows.with_columns(pl.lit(None, _S).alias(alias))
    rows = rows.with_columns(rule=pl.lit(r.id), severity=pl.lit(r.severity),
                             today=pl.lit(tables.today, pl.Datetime("us", "UTC")))
    return rows.with_columns(detail=r.detail()).select(pl.col(c).cast(t) for c, t in FINDING_SCHEMA.items())


def _sorted(frame: pl.DataFrame) -> pl.DataFrame:
    order = {r.id: i for i, r in enumerate(RULES)}
    rank = {s: i for i, s in enumerate(SEVERITIES)}
    keys = [pl.col("severity").replace_strict(rank, return_dtype=pl.Int32),
            pl.col("rule").replace_strict(order, return_dtype=pl.Int32), "name", "user_id", *EVIDENCE]
    return frame.sort(keys, nulls_last=True)


def admin_roles(snapshot: Snapshot | str | os.PathLike[str],
                admin_roles: Iterable[str] | None = None) -> pl.DataFrame:
    """The roles the findings treat as admin roles (``role_id``, ``name``): by the default definition (see
    :mod:`genesys_nb._review.rules`), or the role ids or names given, exactly as ``findings(admin_roles=...)``."""
    snap = as_snapshot(snapshot)
    roles = _roles(snap, admin_roles, "admin_roles")
    if roles is None:
        raise ConfigError(f"The snapshot {snap.path} has no roles table; it is needed to tell admin roles.")
    return roles.filter("is_admin").select("role_id", name="role_name").collect().sort("name", "role_id")
