"""The three export formats as writers: NDJSON and CSV appended to a partial file, Parquet in row groups.

Each writer takes converted pages, keeps at most a bounded amount in memory, and persists it through
:mod:`genesys_nb.export.durable` (data first, then the checkpoint that says how far it got). :mod:`genesys_nb.export.orchestrate`
drives them.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import time
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from . import durable
from .durable import Target
from ..errors import ExportError

log = logging.getLogger("genesys_nb.export")

NDJSON_CONTENT = "api-records"  # checkpoints of NDJSON exports that write the API's own records say so
TEXT_FLUSH_BYTES = 4 << 20    # NDJSON/CSV: write out and checkpoint at least every 4 MB of rows in memory ...
TEXT_FLUSH_SECONDS = 0.5      # ... or every half second
PARQUET_ROLL_SECONDS = 300.0  # Parquet: close and checkpoint the part being written at least every 5 minutes
ROW_GROUP_BYTES = 8 << 20     # Parquet: a row group holds chunk_rows rows, or fewer if they take more than 8 MB
PARQUET_COMPRESSION = "zstd"
CSV_DATETIME = "%Y-%m-%dT%H:%M:%S%.3fZ"


def csv_ready(df: pl.DataFrame) -> pl.DataFrame:
    """Nested columns as JSON text (CSV has no nesting)."""
    exprs = []
    for name, dtype in df.schema.items():
        if isinstance(dtype, pl.Struct):
            exprs.append(pl.when(pl.col(name).is_null()).then(None).otherwise(pl.col(name).struct.json_encode())
                         .alias(name))
        elif isinstance(dtype, (pl.List, pl.Array)):
            # polars encodes structs only: wrap the list in a one-field struct and cut the wrapper off again.
            wrapped = pl.struct(pl.col(name).alias("v")).struct.json_encode()
            exprs.append(pl.when(pl.col(name).is_null()).then(None)
                         .otherwise(wrapped.str.slice(5, wrapped.str.len_chars() - 6)).alias(name))
        elif dtype == pl.Object:
            exprs.append(pl.col(name).map_elements(lambda v: orjson.dumps(v, default=str).decode(),
                                                   return_dtype=pl.String))
        else:
            exprs.append(pl.col(name))
    return df.select(exprs)


def _nbytes(piece: Any) -> int:
    if isinstance(piece, pa.Table):
        return piece.nbytes
    if isinstance(piece, pl.DataFrame):
        return int(piece.estimated_size())
    return len(piece)


def _rows(piece: Any) -> int:
    """Rows of a converted page: an Arrow table, a polars frame, or a list of the API's records (NDJSON)."""
    if isinstance(piece, pa.Table):
        return piece.num_rows
    if isinstance(piece, pl.DataFrame):
        return piece.height
    return len(piece)


class Writer:
    """Buffers converted pages, hands them to the file, and checkpoints what is durable; one subclass per format.

    ``state`` is the last checkpoint written. Pages move from ``buffer`` (in memory) to ``pending`` (in the file,
    not yet checkpointed) to the checkpoint. Every step can be repeated after an interruption: data is written from
    the checkpointed position, and a checkpoint is written before the pages it covers are forgotten."""

    def __init__(self, target: Target, state: dict) -> None:
        self.target = target
        self.state = state
        self.buffer: list[tuple[Any, str | None, int, int]] = []  # (encoded piece, token, records, rows)
        self.pending: list[tuple[str | None, int, int]] = []      # (token, records, rows) in the file, unconfirmed
        self.buffered_rows = 0
        self.buffered_bytes = 0
        self.pending_rows = 0
        self.last_flush = time.monotonic()
        self.warnings: list[str] = []
        self.opened = False

    def open(self, resuming: bool) -> None:
        raise NotImplementedError

    def add(self, piece: Any, token: str | None, records: int) -> None:
        rows = _rows(piece)
        data = self.encode(piece)
        self.buffer.append((data, token, records, rows))
        self.buffered_rows += rows
        self.buffered_bytes += _nbytes(data)

    def encode(self, piece: Any) -> Any:
        return piece

    def due(self, chunk_rows: int) -> bool:
        raise NotImplementedError

    def flush(self, *, final: bool = False, **extra: Any) -> None:
        """Hand the buffer to the file, then checkpoint whatever is durable (data before its checkpoint, always).

        Ctrl-C is held back until the flush is done, so the file and its bookkeeping never disagree."""
        with durable.interrupts_deferred():
            if self.buffer:
                self.persist([b[0] for b in self.buffer])
                self.pending.extend(b[1:] for b in self.buffer)
                self.pending_rows += self.buffered_rows
                self.buffer, self.buffered_rows, self.buffered_bytes = [], 0, 0
            if self.durable(final):
                new = {**self.state, **self.position()}
                for token, records, rows in self.pending:
                    new["resume_token"] = token
                    new["records"] += records
                    new["rows"] += rows
                    new["pages"] += 1
                    new["complete"] = token is None
                new.update(extra)
                self.write_checkpoint(new)
                self.state, self.pending, self.pending_rows = new, [], 0
            self.last_flush = time.monotonic()

    def write_checkpoint(self, state: dict) -> None:
        state["updated"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        durable.atomic_write(self.target.checkpoint, orjson.dumps(state, option=orjson.OPT_INDENT_2))

    def persist(self, pieces: list[Any]) -> None:
        """Write the pieces after the data already handed to the file."""
        raise NotImplementedError

    def durable(self, final: bool) -> bool:
        """Whether everything handed to the file is on disk and may be checkpointed now."""
        return True

    def position(self) -> dict:
        """Where the durable data ends (a byte offset, or a number of Parquet parts)."""
        return {}

    @property
    def rows(self) -> int:
        """Rows written or buffered so far."""
        return int(self.state.get("rows", 0)) + self.pending_rows + self.buffered_rows

    def finish(self) -> None:
        """Write the final file under its temporary name and move it onto the final name."""
        raise NotImplementedError

    def close(self) -> None:
        pass


class TextWriter(Writer):
    """NDJSON and CSV: append to ``<name>.part`` (flushed and fsynced), truncated to the checkpoint on resume."""

    def open(self, resuming: bool) -> None:
        part = self.target.part
        self.offset = int(self.state.get("offset", 0))
        if resuming:
            if not part.exists() or part.stat().st_size < self.offset:
                raise ExportError(f"The partial file {part.name} is missing or shorter than its checkpoint says; it "
                                  f"cannot be resumed. Pass overwrite=True to start over.")
            self.fh = open(part, "r+b")
        else:
            self.fh = open(part, "wb")

    def due(self, chunk_rows: int) -> bool:
        return (self.buffered_bytes >= TEXT_FLUSH_BYTES or self.buffered_rows >= chunk_rows
                or time.monotonic() - self.last_flush >= TEXT_FLUSH_SECONDS)

    def persist(self, pieces: list[Any]) -> None:
        self.write(self.encode_all(pieces))

    def encode_all(self, pieces: list[Any]) -> bytes:
        """The buffered pages as text, encoded in one go (one polars call per flush, not per page)."""
        pieces = [p for p in pieces if (p.num_rows if isinstance(p, pa.Table) else p.height)] or pieces[:1]
        if not pieces:
            return b""
        if isinstance(pieces[0], pa.Table):
            df = pl.from_arrow(pa.concat_tables(pieces, promote_options="permissive"))
        else:
            df = pl.concat(pieces, how="diagonal_relaxed") if len(pieces) > 1 else pieces[0]
        return self.encode_frame(df)

    def encode_frame(self, df: pl.DataFrame) -> bytes:
        raise NotImplementedError

    def write(self, data: bytes) -> None:
        self.fh.seek(self.offset)
        self.fh.truncate()  # whatever an interrupted write left after the durable data goes
        durable.write_bytes(self.fh, data)
        durable.sync(self.fh)
        self.offset += len(data)

    def position(self) -> dict:
        return {"offset": self.offset}

    def finish(self) -> None:
        self.before_finish()
        self.fh.truncate(self.offset)
        durable.sync(self.fh)
        self.fh.close()
        os.replace(self.target.part, self.target.path)

    def before_finish(self) -> None:
        pass

    def close(self) -> None:
        fh = getattr(self, "fh", None)
        if fh is not None and not fh.closed:
            try:
                fh.close()
            except OSError:
                pass


class NdjsonWriter(TextWriter):
    """The API's own records, one JSON object a line, encoded as each page arrives."""

    def encode(self, piece: list[dict]) -> bytes:
        return b"".join([orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE) for record in piece])

    def encode_all(self, pieces: list[bytes]) -> bytes:
        return b"".join(pieces)


class CsvWriter(TextWriter):
    def encode_frame(self, df: pl.DataFrame) -> bytes:
        columns = self.state.get("columns")
        if columns is None:
            if not df.width:
                return b""
            columns = self.state["columns"] = list(df.columns)
        elif list(df.columns) != columns:  # listings other than users: keep the first chunk's columns
            dropped = [c for c in df.columns if c not in columns]
            if dropped:
                note = (f"CSV keeps the columns of the first rows; later columns were left out: "
                        f"{', '.join(dropped[:10])}. Export to Parquet or NDJSON to keep them.")
                if note not in self.warnings:
                    self.warnings.append(note)
            df = df.select([pl.col(c) if c in df.columns else pl.lit(None).alias(c) for c in columns])
        header = self.offset == 0
        if not df.height and not header:
            return b""
        buf = io.BytesIO()
        csv_ready(df).write_csv(buf, include_header=header, datetime_format=CSV_DATETIME, date_format="%Y-%m-%d")
        return buf.getvalue()

    def before_finish(self) -> None:
        columns = self.state.get("columns")
        if self.offset == 0 and columns:  # no rows at all: still write the header line
            self.write((",".join(_csv_quote(c) for c in columns) + "\n").encode())


def _csv_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"' if any(c in name for c in ',"\n\r') else name


class ParquetWriter(Writer):
    """Parquet: row groups of ``chunk_rows`` rows streamed into a part file in ``<name>.parts/``.

    A part is closed (footer written, fsynced, renamed) and checkpointed at the end, when the export fails, and
    every ``PARQUET_ROLL_SECONDS`` in between, so a crash that skips every handler (kill -9, a kernel restart, a
    power cut) loses at most that much fetching. An export that needed one part (a run that was not interrupted
    and took under five minutes) is renamed into place as it is; several parts are copied row group by row group
    into one file, one row group in memory at a time."""

    def __init__(self, target: Target, state: dict, schema: pa.Schema | None, chunk_rows: int) -> None:
        super().__init__(target, state)
        self.schema = schema  # the user schema; None for other listings (unified at the end)
        self.chunk_rows = chunk_rows
        self.parts = int(state.get("parts", 0))  # closed parts
        self.part: pq.ParquetWriter | None = None
        self.part_file: durable.SyncedFile | None = None
        self.part_opened = 0.0
        self.carry: pa.Table | None = None  # rows short of a whole row group, written when the part closes
        self.broken = False

    def open(self, resuming: bool) -> None:
        folder = self.target.parts_dir
        if resuming:
            keep = {self._name(i) for i in range(1, self.parts + 1)}
            missing = [n for n in sorted(keep) if not (folder / n).exists()]
            if missing:
                raise ExportError(f"The partial export folder {folder.name} lacks {missing[0]}; it cannot be "
                                  f"resumed. Pass overwrite=True to start over.")
            for extra in folder.iterdir():  # a part that was never closed: its pages are fetched again
                if extra.name not in keep:
                    extra.unlink()
        else:
            folder.mkdir(exist_ok=True)
        self.target.merging.unlink(missing_ok=True)

    @staticmethod
    def _name(i: int) -> str:
        return f"part-{i:06d}.parquet"

    def _open_path(self) -> Path:
        return self.target.parts_dir / (self._name(self.parts + 1) + ".open")

    def encode(self, piece: Any) -> pa.Table:
        return piece if isinstance(piece, pa.Table) else piece.to_arrow()

    def due(self, chunk_rows: int) -> bool:
        return (self.buffered_rows >= chunk_rows or self.buffered_bytes >= ROW_GROUP_BYTES
                or (self.part is not None and time.monotonic() - self.part_opened >= PARQUET_ROLL_SECONDS))

    def group_rows(self, table: pa.Table) -> int:
        """Rows per row group: chunk_rows, or fewer when they would take more than ROW_GROUP_BYTES."""
        per_row = table.nbytes / table.num_rows if table.num_rows else 1
        return max(1, min(self.chunk_rows, int(ROW_GROUP_BYTES // max(per_row, 1))))

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
        if final or time.monotonic() - self.part_opened >= PARQUET_ROLL_SECONDS:
            self._close_part()
            return True
        return False

    def _close_part(self) -> None:
        assert self.part is not None and self.part_file is not None
        try:
            if self.carry is not None:
                self.part.write_table(self.carry, row_group_size=self.group_rows(self.carry))
            self.part.close()
            self.part_file.flush()
            os.fsync(self.part_file.fileno())
            self.part_file.close()
        except BaseException:
            self.broken = True
            self.part.is_open = False
            raise
        os.replace(self._open_path(), self.target.parts_dir / self._name(self.parts + 1))
        self.parts += 1
        self.part, self.part_file, self.carry = None, None, None

    def position(self) -> dict:
        return {"parts": self.parts}

    def finish(self) -> None:
        parts = [self.target.parts_dir / self._name(i) for i in range(1, self.parts + 1)]
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


# -- the export ----------------------------------------------------------------------------------------------------
