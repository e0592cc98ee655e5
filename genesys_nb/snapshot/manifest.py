"""``manifest.json``: what a snapshot holds, as a typed dataclass that the writer writes and every reader reads.

The JSON shape is the one of ``docs/snapshot-tables.md``. Times are UTC datetimes in Python and ISO 8601 with ``Z``
in the file. Keys this version does not know are kept in ``extra`` and written back, so a newer writer's additions
survive a round trip.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import orjson

from .._checks import whole_number
from ..errors import ConfigError
from .tables import COMPLETE, FORMAT, FORMAT_VERSION, SKIPPED, STATUSES, table_file

__all__ = ["Manifest", "TableEntry", "OrgRef", "format_time", "parse_time"]


def format_time(value: dt.datetime | None) -> str | None:
    """A timezone-aware datetime as ISO 8601 UTC with ``Z`` (``None`` stays ``None``)."""
    if value is None:
        return None
    if value.tzinfo is None:
        raise ConfigError(f"Snapshot times must be timezone-aware (UTC), not the naive datetime {value!r}.")
    return value.astimezone(dt.timezone.utc).isoformat().replace("+00:00", "Z")


def parse_time(text: Any, what: str) -> dt.datetime | None:
    """ISO 8601 text (``Z`` or an offset) as a UTC datetime; ``None`` stays ``None``."""
    if text is None:
        return None
    if not isinstance(text, str):
        raise ConfigError(f"{what} must be an ISO 8601 time such as 2026-12-02T10:00:00Z, not {text!r}.")
    try:
        value = dt.datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
        if value.tzinfo is None:
            raise ConfigError(f"{what} has no time zone: {text!r} (snapshot times are UTC, ending in Z).")
        return value.astimezone(dt.timezone.utc)
    except (ValueError, OverflowError):  # OverflowError: a time that is out of range once in UTC (9999-12-31T23-05)
        raise ConfigError(f"{what} is not an ISO 8601 time: {text!r}.") from None


#: The largest count a manifest may hold: what a 64-bit integer column (the Summary's rows, api_total) can take.
MAX_COUNT = 2**63 - 1


def _count(value: Any, what: str) -> int:
    """A count read from the manifest: a whole number from 0 to :data:`MAX_COUNT`."""
    count: int = whole_number(value, what, maximum=MAX_COUNT)
    return count


def _text(value: Any, what: str) -> str | None:
    """Text read from the manifest, or None."""
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"{what} must be text or null, not {value!r}.")
    return value


def _object(value: Any, what: str) -> dict[str, Any]:
    """A JSON object read from the manifest (absent or null is empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{what} must be an object, not {value!r}.")
    return dict(value)


def _file_name(value: Any, what: str) -> str | None:
    """A table's file: a plain file name inside the snapshot folder (no folder part, nothing like ``..``)."""
    name = _text(value, what)
    if name is not None and (name in ("", ".", "..") or "/" in name or "\\" in name or "\0" in name):
        raise ConfigError(f"{what} must be a file name inside the snapshot folder (such as users.parquet), not "
                          f"{name!r}.")
    return name


def _optional_count(value: Any, what: str) -> int | None:
    """A count that may be absent (None)."""
    return None if value is None else _count(value, what)


@dataclass(frozen=True)
class OrgRef:
    """The organisation a snapshot was taken of."""

    id: str
    name: str | None = None


@dataclass(frozen=True)
class TableEntry:
    """One table of the manifest: complete (with its Parquet file) or skipped (with why)."""

    status: str
    rows: int = 0
    file: str | None = None
    api_total: int | None = None
    requests: int = 0
    reason: str | None = None
    missing_permission: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    _KEYS = ("status", "file", "rows", "api_total", "requests", "reason", "missing_permission")

    @classmethod
    def complete(cls, name: str, rows: int, *, api_total: int | None = None, requests: int = 0) -> TableEntry:
        """A table written in full to ``<name>.parquet``."""
        return cls(COMPLETE, rows=rows, file=table_file(name), api_total=api_total, requests=requests)

    @classmethod
    def skipped(cls, reason: str, *, missing_permission: str | None = None, requests: int = 0) -> TableEntry:
        """A table that could not be read (e.g. ``403 Forbidden``): no file, and the reason."""
        return cls(SKIPPED, reason=reason, missing_permission=missing_permission, requests=requests)

    @property
    def is_complete(self) -> bool:
        return self.status == COMPLETE

    def why_skipped(self) -> str:
        """The reason in words, with the missing permission when the API named one."""
        text = self.reason or "no reason recorded"
        if not self.missing_permission or self.missing_permission in text:  # the API's words may name it already
            return text
        return f"{text}, missing permission {self.missing_permission}"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status}
        if self.file is not None:
            out["file"] = self.file
        out.update(rows=self.rows, api_total=self.api_total, requests=self.requests)
        if self.status == SKIPPED:
            out.update(reason=self.reason, missing_permission=self.missing_permission)
        return {**out, **self.extra}

    @classmethod
    def from_dict(cls, name: str, data: Any) -> TableEntry:
        what = f"tables.{name}"
        if not isinstance(data, dict):
            raise ConfigError(f"{what} must be an object, not {data!r}.")
        status = data.get("status")
        if status not in STATUSES:
            raise ConfigError(f"{what}.status must be one of {', '.join(STATUSES)}, not {status!r}.")
        file = _file_name(data.get("file"), f"{what}.file")
        if status == COMPLETE and file is None:
            raise ConfigError(f"{what} is complete but names no file.")
        return cls(status=status, file=file, rows=_count(data.get("rows", 0), f"{what}.rows"),
                   api_total=_optional_count(data.get("api_total"), f"{what}.api_total"),
                   requests=_count(data.get("requests", 0), f"{what}.requests"),
                   reason=_text(data.get("reason"), f"{what}.reason"),
                   missing_permission=_text(data.get("missing_permission"), f"{what}.missing_permission"),
                   extra={k: v for k, v in data.items() if k not in cls._KEYS})


@dataclass(frozen=True)
class Manifest:
    """What a snapshot holds: the org, when it was taken, what was asked and sent, and each table's status."""

    org: OrgRef
    started: dt.datetime
    finished: dt.datetime | None
    tables: dict[str, TableEntry]
    tool_version: str = ""
    api_host: str | None = None
    query: dict[str, Any] = field(default_factory=dict)
    plan: dict[str, Any] = field(default_factory=dict)
    requests_sent: int | None = None
    format: str = FORMAT
    format_version: int = FORMAT_VERSION
    extra: dict[str, Any] = field(default_factory=dict)

    _KEYS = ("format", "format_version", "tool_version", "org", "api_host", "started", "finished", "query", "plan",
             "requests_sent", "tables")

    @property
    def complete_tables(self) -> tuple[str, ...]:
        return tuple(name for name, entry in self.tables.items() if entry.is_complete)

    @property
    def skipped_tables(self) -> dict[str, TableEntry]:
        return {name: entry for name, entry in self.tables.items() if not entry.is_complete}

    @property
    def as_of(self) -> dt.datetime:
        """When the snapshot was taken by the API's own clock (its ``Date`` header, recorded as ``as_of``), else
        its finish time: the "today" of a review of it. On a real org the two agree to the second; the sandbox's
        clock is its synthetic org's."""
        recorded = self.extra.get("as_of")
        if isinstance(recorded, str):
            parsed = parse_time(recorded, "as_of")
            if parsed is not None:
                return parsed
        return self.finished or self.started

    def as_dict(self) -> dict[str, Any]:
        out = {"format": self.format, "format_version": self.format_version, "tool_version": self.tool_version,
               "org": {"id": self.org.id, "name": self.org.name}, "api_host": self.api_host,
               "started": format_time(self.started), "finished": format_time(self.finished), "query": self.query,
               "plan": self.plan, "requests_sent": self.requests_sent,
               "tables": {name: entry.as_dict() for name, entry in self.tables.items()}}
        return {**out, **self.extra}

    def to_json(self) -> str:
        """The manifest as ``manifest.json``'s text (indented, keys in the contract's order)."""
        return orjson.dumps(self.as_dict(), option=orjson.OPT_INDENT_2).decode() + "\n"

    @classmethod
    def from_json(cls, text: str | bytes) -> Manifest:
        """Parse ``manifest.json``'s text; anything that is not a genesys-nb snapshot manifest raises ConfigError."""
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError as exc:
            raise ConfigError(f"The manifest is not valid JSON ({exc}).") from None
        if not isinstance(data, dict) or data.get("format") != FORMAT:
            found = data.get("format") if isinstance(data, dict) else None
            raise ConfigError(f"This is not a genesys-nb snapshot manifest (format {found!r}, expected {FORMAT!r}).")
        version = data.get("format_version")
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise ConfigError(f"The manifest's format_version must be a whole number, not {version!r}.")
        if version > FORMAT_VERSION:
            raise ConfigError(f"The snapshot has format version {version}; this genesys-nb reads up to version "
                              f"{FORMAT_VERSION}. Upgrade genesys-nb to read it.")
        return cls._from_dict(data)

    @classmethod
    def _from_dict(cls, data: dict[str, Any]) -> Manifest:
        org = data.get("org")
        if not isinstance(org, dict) or not isinstance(org.get("id"), str) or not org["id"]:
            raise ConfigError(f"The manifest's org must be an object with an id, not {org!r}.")
        tables = data.get("tables")
        if not isinstance(tables, dict):
            raise ConfigError(f"The manifest's tables must be an object of table names, not {tables!r}.")
        started = parse_time(data.get("started"), "started")
        if started is None:
            raise ConfigError("The manifest has no start time (started).")
        return cls(org=OrgRef(org["id"], _text(org.get("name"), "org.name")), started=started,
                   finished=parse_time(data.get("finished"), "finished"),
                   tables={str(name): TableEntry.from_dict(str(name), entry) for name, entry in tables.items()},
                   tool_version=_text(data.get("tool_version"), "tool_version") or "",
                   api_host=_text(data.get("api_host"), "api_host"),
                   query=_object(data.get("query"), "query"), plan=_object(data.get("plan"), "plan"),
                   requests_sent=_optional_count(data.get("requests_sent"), "requests_sent"),
                   format=data["format"], format_version=data["format_version"],
                   extra={k: v for k, v in data.items() if k not in cls._KEYS})
