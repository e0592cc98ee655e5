"""Reading a snapshot folder: its manifest, each table as a polars LazyFrame, and DuckDB views for SQL.

    snap = gnb.open_snapshot("snapshots/2026-q4")
    snap.tables                                   # ('users', 'roles', ...), the tables present
    snap.table("user_roles").filter(...).collect()
    snap.sql("select state, count(*) n from users group by state")
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import polars as pl

from ..errors import ConfigError
from .manifest import Manifest
from .tables import MANIFEST_FILE, TABLE_NAMES, TABLES

__all__ = ["Snapshot", "open_snapshot", "as_snapshot"]

_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class Snapshot:
    """A snapshot folder opened for reading. Nothing here ever talks to the API."""

    def __init__(self, path: str | os.PathLike[str], manifest: Manifest) -> None:
        self.path = Path(path)
        self.manifest = manifest
        self._duckdb: Any = None

    def __repr__(self) -> str:
        org = self.manifest.org.name or self.manifest.org.id
        when = self.manifest.finished.isoformat() if self.manifest.finished else "unfinished"
        return f"Snapshot({str(self.path)!r}, org {org!r}, finished {when}, tables {', '.join(self.tables)})"

    @property
    def tables(self) -> tuple[str, ...]:
        """The names of the tables present (complete), in the contract's order, then any others."""
        present = self.manifest.complete_tables
        return tuple(n for n in TABLE_NAMES if n in present) + tuple(n for n in present if n not in TABLES)

    @property
    def skipped(self) -> dict[str, str]:
        """Tables the snapshot skipped, with why (e.g. ``403 Forbidden, missing permission routing:queue:view``)."""
        return {name: entry.why_skipped() for name, entry in self.manifest.skipped_tables.items()}

    def has(self, name: str) -> bool:
        return name in self.manifest.complete_tables

    def rows(self, name: str) -> int:
        """The table's row count as the manifest records it."""
        self._entry(name)
        return self.manifest.tables[name].rows

    def table(self, name: str) -> pl.LazyFrame:
        """Table ``name`` as a polars LazyFrame over its Parquet file (the contract's columns are checked)."""
        path = self._file(name)
        scan = pl.scan_parquet(path)
        try:
            schema = scan.collect_schema()
        except pl.exceptions.PolarsError as exc:
            words = " ".join(str(exc).split("\n")[0].split())
            raise ConfigError(f"Table {name!r} of the snapshot {self.path} cannot be read as Parquet ({words}): the "
                              f"file {path.name} was changed after it was written. Take the snapshot again.") from None
        expected = TABLES.get(name)
        if expected is not None:
            missing = [c for c in expected if c not in schema]
            if missing:
                raise ConfigError(f"Table {name!r} of the snapshot {self.path} lacks the columns {', '.join(missing)}; "
                                  f"it was not written by a genesys-nb snapshot of this format.")
            wrong = [f"{c} is {schema[c]}, not {t}" for c, t in expected.items() if not _same_kind(schema[c], t)]
            if wrong:
                raise ConfigError(f"Table {name!r} of the snapshot {self.path} has columns of the wrong type "
                                  f"({'; '.join(wrong)}); it was not written by a genesys-nb snapshot of this format.")
        return scan

    def to_duckdb(self) -> Any:
        """A new in-memory DuckDB connection with one view per table (``select * from users``). Its time zone is
        UTC, as the snapshot's times are: DuckDB's default, this machine's zone, would hand times back in local
        time (``datetime[μs, Europe/Berlin]``)."""
        import duckdb

        con = duckdb.connect(":memory:")
        con.execute("SET TimeZone = 'UTC'")
        for name in self.tables:
            if not _IDENTIFIER.match(name):
                continue  # not a name a view can take safely; still readable with .table()
            path = str(self._file(name)).replace("'", "''")
            con.execute(f"CREATE VIEW \"{name}\" AS SELECT * FROM read_parquet('{path}')")
        return con

    def sql(self, query: str) -> pl.DataFrame:
        """Run a DuckDB SQL query over the snapshot's tables and return the result as a polars DataFrame."""
        import duckdb

        if not isinstance(query, str):
            raise ConfigError(f"The query is SQL text such as 'select count(*) from users', not "
                              f"{type(query).__name__}.")
        if self._duckdb is None:
            self._duckdb = self.to_duckdb()
        try:
            result = self._duckdb.sql(query)
            if result is not None:
                return result.pl()  # a relation runs here: errors while running (a failed cast) come from this
        except duckdb.Error as exc:
            words = " ".join(str(exc).split())
            absent = [n for n in TABLE_NAMES if n not in self.tables and re.search(rf"\b{n}\b", query)]
            if isinstance(exc, duckdb.CatalogException) and absent:
                try:
                    self._entry(absent[0])  # says the snapshot skipped it (and why) or was taken without it
                except ConfigError as why:
                    raise why from None
            raise ConfigError(f"The query failed ({words}). Tables: {', '.join(self.tables)}.") from None
        raise ConfigError(f"The query {query!r} has no statement to run (it is empty, or only comments); give one "
                          f"such as 'select count(*) from users'. Tables: {', '.join(self.tables)}.")

    def close(self) -> None:
        """Close the DuckDB connection that :meth:`sql` opened (the folder itself holds nothing open)."""
        if self._duckdb is not None:
            self._duckdb.close()
            self._duckdb = None

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- lookups -----------------------------------------------------------------------------------------------------
    def _entry(self, name: str) -> None:
        if not isinstance(name, str):
            raise ConfigError(f"A table name is text such as 'users', not {name!r}.")
        if name in self.manifest.complete_tables:
            return
        skipped = self.manifest.skipped_tables
        if name in skipped:
            raise ConfigError(f"The snapshot {self.path} skipped the table {name!r} ({skipped[name].why_skipped()}). "
                              f"Tables present: {', '.join(self.tables) or 'none'}.")
        if name in TABLES:
            raise ConfigError(f"The snapshot {self.path} was taken without the table {name!r}. Tables present: "
                              f"{', '.join(self.tables) or 'none'}.")
        raise ConfigError(f"There is no table {name!r}: the snapshot {self.path} has {', '.join(self.tables) or 'none'}"
                          f" (the contract's tables: {', '.join(TABLE_NAMES)}).")

    def _file(self, name: str) -> Path:
        self._entry(name)
        entry = self.manifest.tables[name]
        path = self.path / str(entry.file)
        if path.resolve().parent != self.path.resolve():  # a link planted under the table's name
            raise ConfigError(f"The snapshot {self.path} lists {name!r} in {entry.file}, which leads outside the "
                              f"folder (a symbolic link); a snapshot reads only its own files. Take the snapshot "
                              f"again, or copy the file into the folder.")
        if not path.is_file():
            raise ConfigError(f"The snapshot {self.path} lists {name!r} as complete but its file {entry.file} is "
                              f"missing: the folder was changed after it was written. Take the snapshot again.")
        return path


def _same_kind(found: Any, expected: Any) -> bool:
    """Whether a column's type is the contract's: the same kind (text, number, time in UTC, list of the same kind,
    struct); a struct may carry fields the contract does not name (columns and fields may be added)."""
    if found.base_type() != expected.base_type():
        return False
    if isinstance(expected, pl.Datetime):
        return isinstance(found, pl.Datetime) and found.time_zone == expected.time_zone
    if isinstance(expected, pl.List):
        return isinstance(found, pl.List) and _same_kind(found.inner, expected.inner)
    return True


def open_snapshot(path: str | os.PathLike[str]) -> Snapshot:
    """Open the snapshot folder at ``path``; a folder that is not a finished genesys-nb snapshot raises ConfigError."""
    if not isinstance(path, (str, os.PathLike)):
        raise ConfigError(f"open_snapshot takes the path of a snapshot folder, not {type(path).__name__}.")
    folder = Path(path)
    if not folder.exists():
        raise ConfigError(f"There is no snapshot at {folder}: the folder does not exist.")
    if not folder.is_dir():
        raise ConfigError(f"{folder} is a file; a snapshot is a folder with {MANIFEST_FILE} and one Parquet file "
                          f"per table.")
    manifest_path = folder / MANIFEST_FILE
    if not manifest_path.is_file():
        raise ConfigError(f"{folder} is not a snapshot: it has no {MANIFEST_FILE}. Take one with "
                          f"client.snapshot(path) or `genesys-nb snapshot DIR`.")
    try:
        manifest = Manifest.from_json(manifest_path.read_bytes())
    except ConfigError as exc:
        raise ConfigError(f"{manifest_path} cannot be read as a snapshot manifest: {exc}") from None
    if manifest.finished is None:
        raise ConfigError(f"The snapshot {folder} did not finish (its manifest has no finish time); continue it with "
                          f"client.snapshot(path, resume=True).")
    return Snapshot(folder, manifest)


def as_snapshot(value: Snapshot | str | os.PathLike[str], what: str = "snapshot") -> Snapshot:
    """A Snapshot as it is, or the snapshot at a path (for functions that take either)."""
    if isinstance(value, Snapshot):
        return value
    if isinstance(value, (str, os.PathLike)):
        return open_snapshot(value)
    raise ConfigError(f"{what} must be a Snapshot or the path of a snapshot folder, not {type(value).__name__}.")
