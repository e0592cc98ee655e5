"""Parquet: the tabular columns exactly (nested columns as Struct/List, timestamps as UTC timestamps), written in
row groups of ``chunk_rows`` rows into part files in ``<name>.parts/`` and merged at the end."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from . import Sink, register
from .. import durable, writers
from ..checkpoint import MAX_PARTS, Checkpoint, Tail
from ..durable import Target
from ..safefiles import open_existing, same_file
from ...errors import ExportError

__all__ = ["ParquetWriter", "PARQUET_COMPRESSION", "SINK"]

PARQUET_COMPRESSION = "zstd"
_START_OVER = "Pass overwrite=True (--overwrite) to start over."


class ParquetWriter(writers.Writer):
    """Parquet: row groups of ``chunk_rows`` rows streamed into a part file in ``<name>.parts/``.

    A part is closed (footer written, fsynced, renamed) and checkpointed at the end, when the export fails, and
    every ``PARQUET_ROLL_SECONDS`` in between, so a crash that skips every handler (kill -9, a kernel restart, a
    power cut) loses at most that much fetching. An export that needed one part (a run that was not interrupted
    and took under five minutes) is renamed into place as it is; several parts are copied row group by row group
    into one file, one row group in memory at a time. The checkpoint records the last closed part's size and SHA-256;
    a resume refuses a folder whose parts do not match it, or that holds anything the export did not write."""

    def __init__(self, target: Target, state: Checkpoint, *, converter: Any = None, chunk_rows: int = 50_000,
                 schema: pa.Schema | None = None) -> None:
        super().__init__(target, state)
        if schema is None and converter is not None and converter.table is not None:
            schema = converter.table.arrow_schema(converter.expand)
        self.schema = schema  # the fixed schema; None for listings with inferred columns (unified at the end)
        self.chunk_rows = chunk_rows
        self.parts = state.parts  # closed parts
        self.tail = state.tail
        self.part: pq.ParquetWriter | None = None
        self.part_file: durable.SyncedFile | None = None
        self.part_opened = 0.0
        self.carry: pa.Table | None = None  # rows short of a whole row group, written when the part closes
        self.broken = False

    def open(self, resuming: bool) -> None:
        folder = self.target.parts_dir
        if resuming:
            self._verify(folder)
        else:
            folder.mkdir()

    def written_ids(self, key: str) -> set[str]:
        """The ``key`` column of the closed parts the checkpoint counts, one part at a time."""
        ids: set[str] = set()
        for i in range(1, self.parts + 1):
            part = pq.ParquetFile(self.target.parts_dir / self._name(i))
            if key in part.schema_arrow.names:
                ids.update(v for v in part.read(columns=[key]).column(key).to_pylist() if v is not None)
        return ids

    def _verify(self, folder: Path) -> None:
        """The parts folder holds the parts the checkpoint counts, the last one as recorded; a part that was never
        checkpointed is deleted (its pages are fetched again)."""
        if self.parts > MAX_PARTS:
            raise ExportError(f"The checkpoint counts {self.parts:,} Parquet parts; at most {MAX_PARTS:,} exist. "
                              f"{_START_OVER}")
        try:
            names = set(durable.scan_parts(folder))
        except (FileNotFoundError, NotADirectoryError):
            raise ExportError(f"The partial export folder {folder.name} is missing; the export cannot be resumed. "
                              f"{_START_OVER}") from None
        keep = {self._name(i) for i in range(1, self.parts + 1)}
        missing = sorted(keep - names)
        if missing:
            raise ExportError(f"The partial export folder {folder.name} lacks {missing[0]}; it cannot be resumed. "
                              f"{_START_OVER}")
        if self.parts:
            last, tail = folder / self._name(self.parts), self.tail
            with open_existing(last, "rb") as fh:
                size = os.fstat(fh.fileno()).st_size
                ok = (tail is not None and tail.file == last.name and (tail.start, tail.end) == (0, size)
                      and durable.sha256_of(fh, 0, size) == tail.sha256)
            if not ok:
                raise ExportError(f"The part {last.name} in {folder.name} does not match the checkpoint (another file, "
                                  f"or changed); the export cannot be resumed. {_START_OVER}")
        for extra in sorted(names - keep):  # our own names only (scan_parts refused anything else)
            (folder / extra).unlink()

    @staticmethod
    def _name(i: int) -> str:
        return f"part-{i:06d}.parquet"

    def _open_path(self) -> Path:
        return self.target.parts_dir / (self._name(self.parts + 1) + ".open")

    def encode(self, piece: Any) -> pa.Table:
        return piece if isinstance(piece, pa.Table) else piece.to_arrow()

    def due(self, chunk_rows: int) -> bool:
        return (self.buffered_rows >= chunk_rows or self.buffered_bytes >= writers.ROW_GROUP_BYTES
                or (self.part is not None and time.monotonic() - self.part_opened >= writers.PARQUET_ROLL_SECONDS))

    def group_rows(self, table: pa.Table) -> int:
        """Rows per row group: chunk_rows, or fewer when they would take more than ROW_GROUP_BYTES."""
        per_row = table.nbytes / table.num_rows if table.num_rows else 1
        return max(1, min(self.chunk_rows, int(writers.ROW_GROUP_BYTES // max(per_row, 1))))

    def persist(self, pieces: list[pa.Table]) -> None:
        if self.broken:
            raise ExportError("The Parquet part being written is damaged after an earlier error.")
        tables = [t for t in ([self.carry] if self.carry is not None else []) + pieces if t.num_rows]
        if not tables:
            return
        self.carry = None  # folded into this write
        table = pa.concat_tables(tables, promote_options="permissive") if len(tables) > 1 else tables[0]
        size = self.group_rows(table)
        whole = table.num_rows - table.num_rows % size
        part = self._part(table.schema)
        try:
            if whole:
                part.write_table(table.slice(0, whole), row_group_size=size)
        except BaseException:
            self.broken = True
            raise
        self.carry = table.slice(whole) if whole < table.num_rows else None

    def _part(self, schema: pa.Schema) -> pq.ParquetWriter:
        if self.part is None:
            self.part_file = durable.SyncedFile(self._open_path())
            self.part = pq.ParquetWriter(self.part_file, self.schema or schema, compression=PARQUET_COMPRESSION)
            self.part_opened = time.monotonic()
        elif self.schema is None and not self.part.schema.equals(schema):
            self._close_part()  # another listing's columns changed: start a new part (unified when merged)
            return self._part(schema)
        return self.part

    def durable(self, final: bool) -> bool:
        if self.part is None and self.carry is not None and final:
            self._part(self.carry.schema)
        if self.part is None:
            return True  # nothing in an open part: the pending pages (if any) are in closed parts or empty
        if final or time.monotonic() - self.part_opened >= writers.PARQUET_ROLL_SECONDS:
            self._close_part()
            return True
        return False

    def _close_part(self) -> None:
        assert self.part is not None and self.part_file is not None
        part_file = self.part_file
        try:
            if self.carry is not None:
                self.part.write_table(self.carry, row_group_size=self.group_rows(self.carry))
            self.part.close()
            part_file.flush()
            os.fsync(part_file.fileno())
            if not same_file(part_file, self._open_path()):
                raise ExportError(f"{self._open_path().name} was replaced by another program while it was written.")
            part_file.close()
        except BaseException:
            self.broken = True
            self.part.is_open = False
            raise
        name = self._name(self.parts + 1)
        os.replace(self._open_path(), self.target.parts_dir / name)
        self.tail = Tail(file=name, start=0, end=part_file.tell(), sha256=part_file.digest.hexdigest())
        self.parts += 1
        self.part, self.part_file, self.carry = None, None, None

    def position(self) -> dict:
        return {"parts": self.parts, "tail": self.tail}

    def finish(self) -> None:
        parts = [self.target.parts_dir / self._name(i) for i in range(1, self.parts + 1)]
        for p in parts:
            open_existing(p, "rb").close()  # each a regular file, not a link planted since
        schema = self.schema
        if schema is None:
            schemas = [pq.read_schema(p) for p in parts]
            try:
                schema = pa.unify_schemas(schemas, promote_options="permissive") if schemas else pa.schema([])
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise ExportError(f"The records' columns changed type between chunks ({exc}); export this listing "
                                  f"to NDJSON instead.") from None
        if len(parts) == 1 and pq.read_schema(parts[0]).equals(schema):
            os.replace(parts[0], self.target.path)  # one part: it already is the whole file
            return
        out = durable.SyncedFile(self.target.merging)
        try:
            writer = pq.ParquetWriter(out, schema, compression=PARQUET_COMPRESSION)
            for p in parts:  # row group by row group: one in memory at a time
                source = pq.ParquetFile(p, pre_buffer=False)
                for i in range(source.num_row_groups):
                    group = _conform(source.read_row_group(i, use_threads=False), schema)
                    writer.write_table(group, row_group_size=max(group.num_rows, 1))
                    del group
                source.close()
            if not parts:
                writer.write_table(schema.empty_table())
            writer.close()
            out.flush()
            os.fsync(out.fileno())
            if not same_file(out, self.target.merging):
                raise ExportError(f"{self.target.merging.name} was replaced by another program while it was written.")
        finally:
            out.close()
        os.replace(self.target.merging, self.target.path)

    def close(self) -> None:
        """After a failure: drop the open part (its pages were not checkpointed and will be fetched again)."""
        if self.part is not None:
            self.part.is_open = False  # no footer: the file is deleted (and pyarrow must not write one later)
        if self.part_file is not None:
            self.part_file.close()
            self._open_path().unlink(missing_ok=True)
        self.part, self.part_file, self.carry = None, None, None


def _conform(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The table with exactly ``schema``'s columns (missing ones null), for parts of listings whose columns vary."""
    if table.schema.equals(schema):
        return table
    columns = [table.column(f.name).cast(f.type) if f.name in table.schema.names else pa.nulls(table.num_rows, f.type)
               for f in schema]
    return pa.Table.from_arrays(columns, schema=schema)


SINK = register(Sink(name="parquet", label="Parquet", suffixes=(".parquet", ".pq"), aliases=("pq",),
                     writer=ParquetWriter))
