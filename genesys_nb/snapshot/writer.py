"""Writing a snapshot: every table of an org into one folder of Parquet files plus ``manifest.json``.

The tables are written one after another into a partial folder beside the final one (``<name>.partial``), each
through the Parquet export sink, checkpointed page by page; ``resume=True`` continues a snapshot that stopped, table
by table and page by page, with no duplicate rows (the plan is kept in the partial folder, so a resumed run lists
the same parents). Derived tables (``user_roles``, ``user_skills``, ``user_languages``) are computed from the
written ones with polars. A table the OAuth client may not read (403) is recorded in the manifest as skipped, with
the missing permission, and the snapshot goes on (``strict=True`` fails instead). The folder appears under its
final name only when every table is complete.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import secrets
import shutil
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson
import polars as pl

from .._version import __version__
from ..errors import ConfigError, ExportError, PermissionDenied
from ..export.durable import atomic_write, sync
from ..export.lock import OutputLock
from ..export.safefiles import create_new, read_regular_file, refuse_link
from ..resources import REGISTRY
from ..resources.base import ListingSpec
from .manifest import Manifest
from .plan import SnapshotPlan, TablePlan, check_tables, plan_snapshot
from .tables import DERIVED, FORMAT, FORMAT_VERSION, LISTED, MANIFEST_FILE, table_file

__all__ = ["write_snapshot", "partial_path"]

PLAN_FILE = "plan.json"
_OWN_TEMPORARY = re.compile(r".+\.[0-9a-f]{8}\.tmp")  # what _write_new and _write_frame write before renaming


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def partial_path(final: Path) -> Path:
    """Where a snapshot is written until it is complete."""
    return final.with_name(final.name + ".partial")


def _final_path(path: str | os.PathLike, *, resume: bool, overwrite: bool) -> Path:
    if resume and overwrite:
        raise ConfigError("resume=True continues a snapshot and overwrite=True replaces one: choose one.")
    final = Path(path).expanduser()
    if not final.parent.is_dir():
        raise ExportError(f"The folder {str(final.parent)!r} does not exist; create it first.")
    return final


def _check_target(final: Path, *, resume: bool, overwrite: bool) -> Path:
    """The partial folder, checked while this run holds the snapshot's lock (so no other run is writing it).

    ``resume=True`` with a partial folder beside an existing snapshot continues an overwrite that stopped: the old
    snapshot is replaced when the new one is complete (a run without ``overwrite=True`` never starts beside one)."""
    partial = partial_path(final)
    if partial.is_symlink():
        raise ExportError(f"{str(partial)!r} is a symbolic link; remove it and try again.")
    replacing = final.exists() and (overwrite or (resume and partial.is_dir()))
    if final.exists() and resume and not partial.exists() and (final / MANIFEST_FILE).is_file():
        raise ExportError(f"{str(final)!r} is a complete snapshot: there is nothing to resume. To take it again from "
                          f"the start, pass overwrite=True instead of resume=True (the old one stays until the new "
                          f"one is complete).")
    if final.exists() and not replacing:
        raise ExportError(f"{str(final)!r} exists already. Choose another folder, or pass overwrite=True to replace "
                          f"it once the new snapshot is complete.")
    if replacing:
        _clear_replaced(final)
    if partial.exists() and not resume:
        raise ExportError(f"A snapshot that stopped is in {str(partial)!r}. Pass resume=True to continue it, or "
                          f"delete that folder to start over.")
    return partial


def replaced_path(final: Path) -> Path:
    """Where ``overwrite=True`` moves the old snapshot for the moment it takes to put the new one in its place."""
    return final.with_name(final.name + ".replaced")


def _clear_replaced(final: Path) -> None:
    """Before any request: remove the old snapshot an earlier overwrite left in ``<name>.replaced`` (it stopped
    before deleting it), or refuse when that name holds anything else. A symbolic link is never followed."""
    old = replaced_path(final)
    if not os.path.lexists(old):
        return
    why = _not_a_replaced_snapshot(old)
    if why is not None:
        raise ExportError(f"{str(old)!r} is in the way: overwrite=True moves the old snapshot there before deleting "
                          f"it, and {why}. Remove it (or move it away) yourself, then run the snapshot again.")
    shutil.rmtree(old)  # a real folder of regular files: nothing in it is followed


def _not_a_replaced_snapshot(old: Path) -> str | None:
    """Why ``old`` is not a snapshot folder an overwrite moved aside (None when it is one)."""
    if old.is_symlink():
        return "it is a symbolic link, which genesys-nb neither follows nor deletes"
    if not old.is_dir():
        return "it is not a folder"
    with os.scandir(old) as entries:
        if any(not entry.is_file(follow_symlinks=False) for entry in entries):
            return "it holds more than a snapshot's files (a folder or a symbolic link)"
    try:
        Manifest.from_json(read_regular_file(old / MANIFEST_FILE))
    except (OSError, ConfigError, ExportError):
        return f"it holds no snapshot's {MANIFEST_FILE}"
    return None


def _write_new(path: Path, data: bytes) -> None:
    """Write one of the run's own files: created new under a temporary name (never through a link planted in the
    folder), synced and renamed onto ``path``."""
    atomic_write(path, data, temp_name=f"{path.name}.{secrets.token_hex(4)}.tmp")


# -- the plan, kept in the partial folder so that a resumed run lists exactly the same parents ----------------------
def _spec_json(spec: ListingSpec | None) -> Any:
    if spec is None:
        return None
    return {"resource": spec.resource, "params": [list(p) for p in spec.params],
            "options": [[k, list(v) if isinstance(v, tuple) else v] for k, v in spec.options],
            "expand": list(spec.expand), "concurrency": spec.concurrency}


def _spec_from(data: Any) -> ListingSpec | None:
    if data is None:
        return None
    options = tuple((k, tuple(v) if isinstance(v, list) else v) for k, v in data["options"])
    return ListingSpec(data["resource"], tuple((k, v) for k, v in data["params"]), options,
                       tuple(data["expand"]), None, data["concurrency"])


def _save_plan(partial: Path, plan: SnapshotPlan) -> None:
    data = {"tables": list(plan.tables), "probe_requests": plan.probe_requests,
            "listed": {n: {"requests": p.requests, "api_total": p.api_total, "skipped": p.skipped,
                           "missing_permission": p.missing_permission, "spec": _spec_json(p.spec)}
                       for n, p in plan.listed.items()}}
    _write_new(partial / PLAN_FILE, orjson.dumps(data))


def _load_plan(partial: Path) -> tuple[SnapshotPlan, str]:
    """The plan and the start time of the stopped snapshot in ``partial``."""
    try:
        data = orjson.loads(read_regular_file(partial / PLAN_FILE))
        listed = {n: TablePlan(n, p["requests"], p["api_total"], p["skipped"], p["missing_permission"],
                               _spec_from(p["spec"])) for n, p in data["listed"].items()}
        unknown = [n for n in [*listed, *data["tables"]] if n not in LISTED and n not in DERIVED]
        if unknown:
            raise ValueError(f"unknown tables {', '.join(map(str, unknown))}")
        started = orjson.loads(read_regular_file(partial / "started.json"))["started"]
        if not isinstance(started, str):
            raise TypeError(f"a start time of {started!r}")
        return SnapshotPlan(tuple(data["tables"]), listed, data["probe_requests"]), started
    except (OSError, ValueError, KeyError, TypeError, ExportError) as exc:
        raise ExportError(f"The stopped snapshot in {str(partial)!r} cannot be resumed ({exc}); delete that folder "
                          f"and start over.") from None


# -- tables ----------------------------------------------------------------------------------------------------------
def _write_listed(client: Any, partial: Path, name: str, plan: TablePlan, *, resume: bool,
                  progress: bool) -> dict[str, Any]:
    """List one table into ``<partial>/<name>.parquet``; its manifest entry."""
    entry: dict[str, Any] = {"status": "complete", "file": table_file(name), "rows": 0,
                             "api_total": plan.api_total, "requests": 0}
    target = partial / table_file(name)
    refuse_link(target)
    if target.exists():  # finished by an earlier run
        try:
            entry["rows"] = pl.scan_parquet(target).select(pl.len()).collect().item()
        except pl.exceptions.PolarsError:
            raise ExportError(f"{str(target)!r} was changed after the stopped snapshot wrote it (it is not Parquet); "
                              f"delete the folder {str(partial)!r} and start over.") from None
        entry.update(_read_side(partial, name))
        return entry
    resource = REGISTRY[LISTED[name]]
    if plan.spec is None:  # nothing to list (an org without roles, groups or queues)
        _write_frame(resource.table.to_polars([]), target)  # type: ignore[union-attr]
        return entry
    stream = client.stream(plan.spec)
    summary = stream.to_parquet(target, resume=resume, progress=progress)
    entry["rows"], entry["requests"] = summary.rows, summary.requests
    _write_new(partial / f"{name}.done.json", orjson.dumps({"requests": summary.requests}))
    return entry


def _read_side(partial: Path, name: str) -> dict[str, Any]:
    try:
        return {"requests": orjson.loads(read_regular_file(partial / f"{name}.done.json"))["requests"]}
    except (OSError, ValueError, KeyError, TypeError, ExportError):
        return {}


def _derive(partial: Path, name: str) -> pl.DataFrame:
    """A derived table from the listed ones in the partial folder."""
    if name == "user_roles":
        grants = pl.scan_parquet(partial / table_file("role_grants"))
        members = pl.scan_parquet(partial / table_file("group_members")).select("group_id", "user_id")
        direct = grants.filter(pl.col("subject_type") == "user").select(
            pl.col("subject_id").alias("user_id"), "role_id", "division_id", pl.lit("direct").alias("via"))
        via_groups = grants.filter(pl.col("subject_type") == "group").join(
            members, left_on="subject_id", right_on="group_id").select(
            "user_id", "role_id", "division_id", pl.col("subject_id").alias("via"))
        return pl.concat([direct, via_groups]).unique(maintain_order=True).collect()
    column, prefix = {"user_skills": ("skills", "skill"), "user_languages": ("languages", "language")}[name]
    return (pl.scan_parquet(partial / table_file("users")).select(pl.col("id").alias("user_id"), column)
            .explode(column).drop_nulls(column).unnest(column)
            .select("user_id", pl.col("id").alias(f"{prefix}_id"), pl.col("name").alias(f"{prefix}_name"),
                    "proficiency", "state").collect())


def _write_derived(partial: Path, name: str, listed: dict[str, dict[str, Any]]) -> dict[str, Any]:
    sources = DERIVED[name]
    skipped = [s for s in sources if listed.get(s, {}).get("status") != "complete"]
    if skipped:
        return {"status": "skipped", "reason": f"computed from {', '.join(skipped)}, which could not be read",
                "rows": 0, "api_total": None, "requests": 0}
    frame = _derive(partial, name)
    _write_frame(frame, partial / table_file(name))
    return {"status": "complete", "file": table_file(name), "rows": frame.height, "api_total": None, "requests": 0}


def _write_frame(frame: pl.DataFrame, target: Path) -> None:
    """A table written whole: into a new temporary file (never through a planted link), then renamed."""
    tmp = target.with_name(f"{target.name}.{secrets.token_hex(4)}.tmp")
    try:
        with create_new(tmp) as fh:
            frame.write_parquet(fh)
            sync(fh)
        os.replace(tmp, target)
    except BaseException:
        if tmp.is_file() and not tmp.is_symlink():
            tmp.unlink()
        raise


def _skipped(plan: TablePlan) -> dict[str, Any]:
    return {"status": "skipped", "reason": plan.skipped, "missing_permission": plan.missing_permission, "rows": 0,
            "api_total": None, "requests": 0}


def write_snapshot(client: Any, path: str | os.PathLike, *, tables: Sequence[str] | str | None = None,
                   resume: bool = False, overwrite: bool = False, strict: bool = False,
                   progress: bool = True) -> Path:
    """Write a snapshot folder (see the module docs) and return its final path."""
    wanted = check_tables(tables)
    final = _final_path(path, resume=resume, overwrite=overwrite)
    with OutputLock(final, noun="A snapshot"):  # one run per snapshot folder, for the whole run
        return _write_locked(client, final, wanted, tables, resume=resume, overwrite=overwrite, strict=strict,
                             progress=progress)


def _write_locked(client: Any, final: Path, wanted: tuple[str, ...], tables: Sequence[str] | str | None, *,
                  resume: bool, overwrite: bool, strict: bool, progress: bool) -> Path:
    partial = _check_target(final, resume=resume, overwrite=overwrite)
    started = _now()
    resuming = partial.is_dir()
    if resuming:
        plan, started = _load_plan(partial)
        if plan.tables != wanted and tables is not None:
            raise ExportError(f"The stopped snapshot in {str(partial)!r} was of the tables {', '.join(plan.tables)}; "
                              f"resume it with the same tables, or delete that folder to start over.")
    else:
        plan = plan_snapshot(client, wanted)
        _fail_if_strict(plan, strict)
        partial.mkdir()
        _save_plan(partial, plan)
        _write_new(partial / "started.json", orjson.dumps({"started": started}))
    sent_before = client.transport.counters.requests
    org, as_of = _organization(client)
    entries: dict[str, dict[str, Any]] = {}
    for name, table_plan in plan.listed.items():
        if table_plan.skipped:
            entries[name] = _skipped(table_plan)
            continue
        try:
            entries[name] = _write_listed(client, partial, name, table_plan, resume=resuming, progress=progress)
        except PermissionDenied as exc:
            if strict:
                raise
            from .plan import _missing
            entries[name] = _skipped(TablePlan(name, skipped=f"forbidden (HTTP 403): {exc.api_message or exc}",
                                               missing_permission=_missing(exc) or REGISTRY[LISTED[name]].permission))
            (partial / table_file(name)).unlink(missing_ok=True)
    for name in plan.tables:
        if name in DERIVED:
            entries[name] = _write_derived(partial, name, entries)
    manifest = {
        "format": FORMAT, "format_version": FORMAT_VERSION, "tool_version": __version__,
        "org": {"id": org.get("id"), "name": org.get("name")}, "api_host": client.hosts.api_url,
        "started": started, "finished": _now(), "as_of": as_of,
        "query": {"tables": list(plan.tables), "users_expand": list(_users_expand(plan))},
        "plan": {"requests": plan.requests, "probe_requests": plan.probe_requests},
        "requests_sent": 1 + sum(e.get("requests", 0) for e in entries.values()),
        "requests_this_run": client.transport.counters.requests - sent_before,
        "tables": {name: entries[name] for name in plan.tables if name in entries},
    }
    for extra in plan.listed:  # tables listed only because a derived table needs them stay too
        manifest["tables"].setdefault(extra, entries[extra])
    _finish(partial, final, manifest, overwrite or (resuming and final.exists()))  # see _check_target
    return final


def _organization(client: Any) -> tuple[dict[str, Any], str | None]:
    """The org (``GET /api/v2/organizations/me``), and the API's own time from that response's ``Date`` header:
    the moment a review of this snapshot is "today" by default (the clock the data's login dates follow)."""
    from email.utils import parsedate_to_datetime

    response = client.transport.request("GET", "/api/v2/organizations/me")
    body = response.body if isinstance(response.body, dict) else {}
    try:
        when = parsedate_to_datetime(response.headers.get("date", ""))
    except (TypeError, ValueError, IndexError):
        return body, None
    if when.tzinfo is None:
        return body, None
    return body, when.astimezone(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _users_expand(plan: SnapshotPlan) -> tuple[str, ...]:
    users = plan.listed.get("users")
    return users.spec.expand if users is not None and users.spec is not None else ()


def _fail_if_strict(plan: SnapshotPlan, strict: bool) -> None:
    skipped = [p for p in plan.listed.values() if p.skipped]
    if strict and skipped:
        first = skipped[0]
        raise PermissionDenied(f"The snapshot cannot read the {first.table} table ({first.skipped}); the OAuth client "
                               f"needs {first.missing_permission}. Without strict=True it is recorded as skipped.")


def _finish(partial: Path, final: Path, manifest: dict[str, Any], overwrite: bool) -> None:
    """Write the manifest, drop the run's bookkeeping, and move the folder under its final name."""
    for leftover in list(partial.iterdir()):
        if leftover.name in (PLAN_FILE, "started.json") or leftover.name.endswith(".done.json") or (
                _OWN_TEMPORARY.fullmatch(leftover.name) and leftover.is_file() and not leftover.is_symlink()):
            leftover.unlink()  # a temporary one is a run's that was killed while writing it
    text = Manifest.from_json(orjson.dumps(manifest)).to_json()  # the one serialisation of a manifest
    _write_new(partial / MANIFEST_FILE, text.encode())
    if final.exists() and overwrite:
        old = replaced_path(final)
        os.replace(final, old)
        os.replace(partial, final)
        shutil.rmtree(old, ignore_errors=True)
    else:
        os.replace(partial, final)
