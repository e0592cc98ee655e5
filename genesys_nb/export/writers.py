"""What every export format's writer shares: buffering pages, persisting them, and checkpointing what is durable.

A format's writer (in :mod:`genesys_nb.export.sinks`) takes converted pages, keeps at most a bounded amount in
memory, and persists it through :mod:`genesys_nb.export.durable` (data first, then the checkpoint that says how far
it got). :class:`TextWriter` is the base of the formats appended to one partial file (NDJSON, CSV).
:mod:`genesys_nb.export.orchestrate` drives them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from typing import Any, cast

import polars as pl
import pyarrow as pa

from . import durable
from .checkpoint import Checkpoint, Tail, write_checkpoint
from .durable import Target
from .safefiles import create_new, open_existing, same_file
from ..errors import ExportError

log = logging.getLogger("genesys_nb.export")

TEXT_FLUSH_BYTES = 4 << 20    # NDJSON/CSV: write out and checkpoint at least every 4 MB of rows in memory ...
TEXT_FLUSH_SECONDS = 0.5      # ... or every half second
PARQUET_ROLL_SECONDS = 300.0  # Parquet: close and checkpoint the part being written at least every 5 minutes
ROW_GROUP_BYTES = 8 << 20     # Parquet: a row group holds chunk_rows rows, or fewer if they take more than 8 MB
_START_OVER = "Pass overwrite=True (--overwrite) to start over."


def _nbytes(piece: Any) -> int:
    """About how much memory a converted page holds (for flush and row-group sizes). For Arrow, the size of its
    buffers: ``Table.nbytes`` walks every nested value to discount slices and cost 1.7 ms a page of 500 users."""
    if isinstance(piece, pa.Table):
        return piece.get_total_buffer_size()
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

    def __init__(self, target: Target, state: Checkpoint, **options: Any) -> None:
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

    @property
    def fetched(self) -> bool:
        """Whether anything was fetched by this export (in any run)."""
        return bool(self.state.pages or self.pending or self.buffer)

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
                new = self.state.replace(**self.position())
                for token, records, rows in self.pending:
                    new = new.replace(resume_token=token, records=new.records + records, rows=new.rows + rows,
                                      pages=new.pages + 1, complete=token is None)
                new = new.replace(**extra)
                write_checkpoint(self.target.checkpoint, new)
                self.state, self.pending, self.pending_rows = new, [], 0
            self.last_flush = time.monotonic()

    def persist(self, pieces: list[Any]) -> None:
        """Write the pieces after the data already handed to the file."""
        raise NotImplementedError

    def durable(self, final: bool) -> bool:
        """Whether everything handed to the file is on disk and may be checkpointed now."""
        return True

    def position(self) -> dict:
        """Where the durable data ends (a byte offset, or a number of Parquet parts) and its last write."""
        return {}

    @property
    def rows(self) -> int:
        """Rows written or buffered so far."""
        return self.state.rows + self.pending_rows + self.buffered_rows

    def finish(self) -> None:
        """Write the final file under its temporary name and move it onto the final name."""
        raise NotImplementedError

    def written_ids(self, key: str) -> set[str]:
        """The ``key`` (record id) of every row in the durable partial file, read once after :meth:`open` (for a
        resume that lists again from the start and must drop what is already written)."""
        raise ExportError(f"A {self.target.format} export cannot tell which records it holds; it cannot switch "
                          f"to another listing. {_START_OVER}")

    def close(self) -> None:
        pass


class TextWriter(Writer):
    """NDJSON and CSV: append to ``<name>.part`` (flushed and fsynced), truncated to the checkpoint on resume.

    Every write is recorded in the checkpoint (:class:`Tail`: its bytes' range and SHA-256), and a resume checks the
    partial file against it: a file that is shorter, or whose last write differs (another file, edited bytes), is
    refused instead of being finished."""

    def open(self, resuming: bool) -> None:
        part = self.target.part
        self.offset = self.state.offset
        self.tail = self.state.tail
        if resuming:
            try:
                self.fh = open_existing(part)
            except FileNotFoundError:
                raise ExportError(f"The partial file {part.name} is missing; the export cannot be resumed. "
                                  f"{_START_OVER}") from None
            self._verify()
        else:
            self.fh = create_new(part)

    def _verify(self) -> None:
        """The partial file is the one the checkpoint describes, up to its last durable write."""
        part, state, tail = self.target.part, self.state, self.state.tail
        size = os.fstat(self.fh.fileno()).st_size
        problem = None
        if size < self.offset:
            problem = f"it holds {size:,} bytes, fewer than the {self.offset:,} its checkpoint counts"
        elif self.offset and (tail is None or tail.file != part.name or tail.end != self.offset):
            problem = "its checkpoint does not record the last write"
        elif not self.offset and state.rows:
            problem = f"its checkpoint counts {state.rows:,} rows in an empty file"
        elif tail is not None and durable.sha256_of(self.fh, tail.start, tail.end) != tail.sha256:
            problem = "its last checkpointed write does not match its bytes (another file, or edited)"
        if problem:
            self.fh.close()
            raise ExportError(f"The partial file {part.name} does not match its checkpoint: {problem}. It cannot be "
                              f"resumed. {_START_OVER}")

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
            # An Arrow table converts to a DataFrame (pyarrow is untyped, so polars' overloads cannot tell).
            df = cast(pl.DataFrame, pl.from_arrow(pa.concat_tables(pieces, promote_options="permissive")))
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
        if data:
            self.tail = Tail(file=self.target.part.name, start=self.offset, end=self.offset + len(data),
                             sha256=hashlib.sha256(data).hexdigest())
        self.offset += len(data)

    def position(self) -> dict:
        return {"offset": self.offset, "tail": self.tail}

    def finish(self) -> None:
        self.before_finish()
        self.fh.truncate(self.offset)
        durable.sync(self.fh)
        if not same_file(self.fh, self.target.part) or os.fstat(self.fh.fileno()).st_size != self.offset:
            raise ExportError(f"{self.target.part.name} was replaced or changed by another program while it was "
                              f"written; the export was not finished. {_START_OVER}")
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


# The formats' writers and helpers, where earlier versions had them (looked up lazily: the sinks import this module).
_MOVED = {"CsvWriter": "csv", "csv_ready": "csv", "CSV_DATETIME": "csv", "NdjsonWriter": "ndjson",
          "NDJSON_CONTENT": "ndjson", "ParquetWriter": "parquet", "PARQUET_COMPRESSION": "parquet"}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        import importlib

        return getattr(importlib.import_module(f"{__package__}.sinks.{_MOVED[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["Writer", "TextWriter", "TEXT_FLUSH_BYTES", "TEXT_FLUSH_SECONDS", "PARQUET_ROLL_SECONDS",
           "ROW_GROUP_BYTES", *_MOVED]
