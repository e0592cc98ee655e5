"""Streamed exports to NDJSON, Parquet and CSV: bounded memory, atomic files, checkpoints and resume.

``export(stream, "users.parquet")`` pages the listing, converts each page (into the fixed user schema for Parquet
and CSV, into NDJSON lines of the API's own records for NDJSON), and writes it out while the next page is being
fetched. Memory stays flat whatever the org's size: at most ``chunk_rows`` rows (Parquet, at most ~8 MB) or ~4 MB
of rows (NDJSON, CSV) are held before they go to disk.

Nothing ever appears under the final name until the export has succeeded:

* NDJSON and CSV are appended to ``<name>.part``; Parquet chunks of ``chunk_rows`` rows go into small files in a
  ``<name>.parts/`` folder and are merged row group by row group into ``<name>.merging`` at the end. The finished
  file is then moved onto the final name with ``os.replace`` (atomic on one file system).
* After data reaches the disk (flush + fsync), ``<name>.checkpoint.json`` is replaced atomically: it holds the resume
  token of the last page written, the byte offset (or the number of Parquet parts), counts, and the query's
  fingerprint. When the export fails (an API error after retries, a full disk, Ctrl-C), everything already fetched
  is written out and checkpointed first; the final name is left untouched.
* ``resume=True`` truncates the partial file to the checkpointed offset (dropping any half-written tail), continues
  the listing after the checkpointed page (``stream.resumed(token)``) and finishes the file: no record is written
  twice, none is lost. A checkpoint from another query (state, expand, page size or filter) is refused.

Everything that can be checked is checked before the first request: the format, the folder, an existing file
(``overwrite=True`` to replace it), an existing checkpoint (``resume=True`` to continue, ``overwrite=True`` to start
over). Errors are :class:`~genesys_nb.errors.ExportError` with a message saying what to do; API errors keep their
own type (with a note on how to resume).

File contents: NDJSON is the lossless format: one record per line exactly as the API returned it (every field,
``addresses``, ``images``, ``primaryContactInfo``, ``chat`` and nested objects included), for users and for any
other listing. Parquet and CSV are the tabular formats with the fixed user schema: Parquet keeps it exactly (nested
columns as Struct/List, timestamps as UTC timestamps); CSV has the same columns, nested ones as JSON text,
timestamps as ``2025-06-01T12:00:00.000Z``. Listings other than users get inferred columns in Parquet and CSV
(Parquet unifies them across chunks; CSV keeps the first chunk's). ``where=`` works for every format: for NDJSON an
expression is evaluated on the page's frame and selects which of the API's records are written.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import io
import logging
import os
import shutil
import signal
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import orjson
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq

from .errors import ExportError, GenesysError
from .frames import PageConverter, native_pages
from .paging import Stream
from .progress import progress_bar
from .schema import user_arrow_schema

__all__ = ["export", "ExportSummary", "check_target", "Target", "FORMATS"]

log = logging.getLogger("genesys_nb.export")

FORMATS: dict[str, tuple[str, ...]] = {"parquet": (".parquet", ".pq"), "ndjson": (".ndjson", ".jsonl"),
                                       "csv": (".csv",)}
CHECKPOINT_VERSION = 1
NDJSON_CONTENT = "api-records"  # checkpoints of NDJSON exports that write the API's own records say so
TEXT_FLUSH_BYTES = 4 << 20    # NDJSON/CSV: write out and checkpoint at least every 4 MB of rows in memory ...
TEXT_FLUSH_SECONDS = 0.5      # ... or every half second
PARQUET_ROLL_SECONDS = 300.0  # Parquet: close and checkpoint the part being written at least every 5 minutes
ROW_GROUP_BYTES = 8 << 20     # Parquet: a row group holds chunk_rows rows, or fewer if they take more than 8 MB
PARQUET_COMPRESSION = "zstd"
CSV_DATETIME = "%Y-%m-%dT%H:%M:%S%.3fZ"


# -- the summary ---------------------------------------------------------------------------------------------------
@dataclass
class ExportSummary:
    """What an export wrote. ``rows``, ``pages``, ``requests`` and ``seconds`` cover every run of a resumed export."""

    path: Path
    format: str
    rows: int
    bytes: int
    seconds: float
    pages: int
    requests: int
    resumed: bool
    warnings: list[str] = field(default_factory=list)
    records: int = 0  # records fetched, before where= filtered them

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data

    def __repr__(self) -> str:
        size = _human_bytes(self.bytes)
        more = f", {len(self.warnings)} warning(s)" if self.warnings else ""
        again = ", resumed" if self.resumed else ""
        return (f"ExportSummary({self.format} {str(self.path)!r}: {self.rows:,} rows, {size}, {self.pages:,} pages, "
                f"{self.requests:,} requests, {self.seconds:.1f} s{again}{more})")

    def _repr_html_(self) -> str:
        import html

        rows = [("file", str(self.path)), ("format", self.format), ("rows", f"{self.rows:,}"),
                ("size", _human_bytes(self.bytes)), ("pages", f"{self.pages:,}"),
                ("requests", f"{self.requests:,}"), ("time", f"{self.seconds:.1f} s"),
                ("rate", f"{self.rows_per_second:,.0f} rows/s"), ("resumed", "yes" if self.resumed else "no")]
        rows += [("warning", w) for w in self.warnings]
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
                       f"{html.escape(v)}</td></tr>" for k, v in rows)
        return f"<table><caption>Export summary</caption>{body}</table>"


def _human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{n} B"


# -- validating the target -----------------------------------------------------------------------------------------
@dataclass
class Target:
    """A validated output: the final path, its format, and the names of its partial files."""

    path: Path
    format: str
    checkpoint: Path
    part: Path          # NDJSON/CSV partial file
    parts_dir: Path     # Parquet chunk files
    merging: Path       # Parquet file being merged
    state: dict | None  # the checkpoint to resume from, if any
    overwrite: bool

    def leftovers(self) -> list[Path]:
        return [p for p in (self.checkpoint, self.part, self.parts_dir, self.merging) if p.exists()]

    def clean(self) -> None:
        for p in (self.part, self.merging, self.checkpoint):
            p.unlink(missing_ok=True)
        shutil.rmtree(self.parts_dir, ignore_errors=True)


def _format_of(path: Path, fmt: str | None) -> str:
    if fmt is not None:
        name = str(fmt).lower().lstrip(".")
        name = {"jsonl": "ndjson", "json": "ndjson", "pq": "parquet"}.get(name, name)
        if name not in FORMATS:
            raise ExportError(f"Unknown export format {fmt!r}: use 'parquet', 'ndjson' or 'csv'.")
        return name
    suffix = path.suffix.lower()
    for name, suffixes in FORMATS.items():
        if suffix in suffixes:
            return name
    raise ExportError(f"Cannot tell the format of {path.name!r} from its suffix {suffix or '(none)'}: name the file "
                      f".parquet, .ndjson (or .jsonl) or .csv, or pass format='parquet' / 'ndjson' / 'csv'.")


def check_target(path: str | os.PathLike, *, format: str | None = None, overwrite: bool = False,
                 resume: bool = False, fingerprint: str | None = None, where_key: str = "") -> Target:
    """Check an export's output before any request and return it; raise ExportError saying what to do otherwise."""
    try:
        path = Path(os.fspath(path)).expanduser()
    except TypeError:
        raise ExportError(f"The output path must be a file name such as 'users.parquet', not {path!r}.") from None
    fmt = _format_of(path, format)
    path = path.absolute()
    folder = path.parent
    if not folder.exists():
        raise ExportError(f"The folder {str(folder)!r} does not exist. Create it first (mkdir -p {folder}) or "
                          f"choose another path.")
    if not folder.is_dir():
        raise ExportError(f"{str(folder)!r} is not a folder, so {path.name!r} cannot be written there.")
    if path.is_dir():
        raise ExportError(f"{str(path)!r} is a folder; give a file name such as {str(path / ('users.' + fmt))!r}.")
    _probe_writable(folder)
    target = Target(path=path, format=fmt, checkpoint=path.with_name(path.name + ".checkpoint.json"),
                    part=path.with_name(path.name + ".part"), parts_dir=path.with_name(path.name + ".parts"),
                    merging=path.with_name(path.name + ".merging"), state=None, overwrite=overwrite)
    state = _read_checkpoint(target.checkpoint) if target.checkpoint.exists() else None
    if state is not None and resume:
        if state.get("format") != fmt:
            raise ExportError(f"The checkpoint {target.checkpoint.name} is for a {state.get('format')} export, not "
                              f"{fmt}. Resume with the same file name, or pass overwrite=True to start over.")
        if fingerprint is not None and state.get("fingerprint") != fingerprint:
            raise ExportError(f"The checkpoint {target.checkpoint.name} belongs to a different query (another "
                              f"state, expand or page size). Resume with the arguments of the interrupted export, or "
                              f"pass overwrite=True to start over.")
        if where_key and state.get("where") and state["where"] != where_key:
            raise ExportError(f"The checkpoint {target.checkpoint.name} was written with another where= filter. "
                              f"Resume with the same filter, or pass overwrite=True to start over.")
        if fmt == "ndjson" and state.get("content") != NDJSON_CONTENT:
            raise ExportError(f"The checkpoint {target.checkpoint.name} is from an NDJSON export that wrote "
                              f"flattened columns (an earlier version); it cannot be finished with the API's own "
                              f"records. Pass overwrite=True (--overwrite) to start over.")
        if path.exists() and not (overwrite or state.get("overwrite")):
            raise ExportError(f"{str(path)!r} already exists. Pass overwrite=True (--overwrite) to replace it when "
                              f"the resumed export finishes.")
        target.state = state
        target.overwrite = overwrite or bool(state.get("overwrite"))
        return target
    if state is not None and not overwrite:
        raise ExportError(f"An interrupted export of {path.name!r} is waiting to be finished ({state.get('rows', 0):,} "
                          f"rows so far, checkpoint {target.checkpoint.name}). Pass resume=True (--resume) to "
                          f"continue it, or overwrite=True (--overwrite) to start over.")
    if path.exists() and not overwrite:
        raise ExportError(f"{str(path)!r} already exists. Pass overwrite=True (--overwrite) to replace it, or choose "
                          f"another name.")
    return target


def _probe_writable(folder: Path) -> None:
    probe = folder / f".genesys-nb-probe-{os.getpid()}"
    try:
        with open(probe, "wb"):
            pass
    except OSError as exc:
        raise ExportError(f"Cannot write into the folder {str(folder)!r} ({exc.strerror or exc}). Choose a folder "
                          f"you can write to.") from None
    finally:
        try:
            probe.unlink()
        except OSError:
            pass


def _read_checkpoint(path: Path) -> dict:
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError) as exc:
        raise ExportError(f"The checkpoint {path.name} cannot be read ({exc}). Pass overwrite=True to start over.") \
            from None
    if not isinstance(data, dict) or data.get("version") != CHECKPOINT_VERSION:
        raise ExportError(f"{path.name} is not a genesys-nb export checkpoint this version can resume. Pass "
                          f"overwrite=True to start over.")
    return data


# -- low-level file helpers (one place writes bytes, so a full disk is recognised everywhere) ----------------------
def _write_bytes(fh: Any, data: bytes) -> None:
    fh.write(data)


def _sync(fh: Any) -> None:
    fh.flush()
    os.fsync(fh.fileno())


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        _write_bytes(fh, data)
        _sync(fh)
    os.replace(tmp, path)


def _is_disk_full(exc: BaseException) -> bool:
    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    return isinstance(exc, OSError) and "no space left" in str(exc).lower()


@contextlib.contextmanager
def _interrupts_deferred() -> Iterator[None]:
    """Hold Ctrl-C (SIGINT) back until the block is done, then raise it; only where Python lets us (main thread)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    received: list[int] = []
    try:
        previous = signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    except (ValueError, TypeError):
        yield
        return
    try:
        yield
    except BaseException:
        signal.signal(signal.SIGINT, previous)
        raise
    signal.signal(signal.SIGINT, previous)
    if received:
        if callable(previous) and previous is not signal.default_int_handler:
            previous(signal.SIGINT, None)
        elif previous != signal.SIG_IGN:
            raise KeyboardInterrupt


class _SyncedFile(io.RawIOBase):
    """A write-only file that sends every write through :func:`_write_bytes` (used by pyarrow's ParquetWriter)."""

    def __init__(self, path: Path) -> None:
        self._fh = open(path, "wb")
        self._pos = 0

    def writable(self) -> bool:
        return True

    def write(self, data: Any) -> int:
        view = bytes(data)
        _write_bytes(self._fh, view)
        self._pos += len(view)
        return len(view)

    def tell(self) -> int:
        return self._pos

    def fileno(self) -> int:
        return self._fh.fileno()

    def flush(self) -> None:
        if not self._fh.closed:
            self._fh.flush()

    def close(self) -> None:
        if not self.closed:
            super().close()  # flushes
        if not self._fh.closed:
            self._fh.close()


# -- format writers ------------------------------------------------------------------------------------------------
def _csv_ready(df: pl.DataFrame) -> pl.DataFrame:
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


class _Writer:
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
        with _interrupts_deferred():
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
        _atomic_write(self.target.checkpoint, orjson.dumps(state, option=orjson.OPT_INDENT_2))

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


class _TextWriter(_Writer):
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
        _write_bytes(self.fh, data)
        _sync(self.fh)
        self.offset += len(data)

    def position(self) -> dict:
        return {"offset": self.offset}

    def finish(self) -> None:
        self.before_finish()
        self.fh.truncate(self.offset)
        _sync(self.fh)
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


class _NdjsonWriter(_TextWriter):
    """The API's own records, one JSON object a line, encoded as each page arrives."""

    def encode(self, piece: list[dict]) -> bytes:
        return b"".join([orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE) for record in piece])

    def encode_all(self, pieces: list[bytes]) -> bytes:
        return b"".join(pieces)


class _CsvWriter(_TextWriter):
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
        _csv_ready(df).write_csv(buf, include_header=header, datetime_format=CSV_DATETIME, date_format="%Y-%m-%d")
        return buf.getvalue()

    def before_finish(self) -> None:
        columns = self.state.get("columns")
        if self.offset == 0 and columns:  # no rows at all: still write the header line
            self.write((",".join(_csv_quote(c) for c in columns) + "\n").encode())


def _csv_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"' if any(c in name for c in ',"\n\r') else name


class _ParquetWriter(_Writer):
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
        self.part_file: _SyncedFile | None = None
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
            self.part_file = _SyncedFile(self._open_path())
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
        out = _SyncedFile(self.target.merging)
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
def export(stream: Stream, path: str | os.PathLike, *, format: str | None = None, overwrite: bool = False,
           resume: bool = False, progress: bool = True, where: Any = None, chunk_rows: int = 50_000) -> ExportSummary:
    """Stream ``stream`` into ``path`` (.parquet, .ndjson/.jsonl or .csv, or ``format=``) with bounded memory and
    an atomic rename at the end; ``resume=True`` continues an interrupted export from its checkpoint. See the module
    docs. Returns an :class:`ExportSummary`."""
    started = time.monotonic()
    if isinstance(chunk_rows, bool) or not isinstance(chunk_rows, int) or chunk_rows < 1:
        raise ExportError(f"chunk_rows must be a whole number >= 1, not {chunk_rows!r}.")
    converter = PageConverter.for_stream(stream, where)
    target = check_target(path, format=format, overwrite=overwrite, resume=resume,
                          fingerprint=getattr(stream, "fingerprint", None), where_key=converter.where.key)
    resuming = target.state is not None
    source = stream
    if target.state is not None:
        state = target.state
        if not state.get("complete") and state.get("pages"):
            try:
                source = stream.resumed(state.get("resume_token"))
            except GenesysError as exc:
                raise ExportError(f"This stream cannot be resumed ({exc}). Pass overwrite=True to start over.") \
                    from None
    else:
        target.clean()
        schema_names = user_arrow_schema(converter.expand).names if converter.users else None
        state = {"version": CHECKPOINT_VERSION, "format": target.format, "path": target.path.name,
                 "fingerprint": getattr(stream, "fingerprint", None), "where": converter.where.key,
                 "users": converter.users, "expand": list(converter.expand), "overwrite": target.overwrite,
                 "resume_token": None, "complete": False, "records": 0, "rows": 0, "pages": 0, "requests": 0,
                 "seconds": 0.0, "offset": 0, "parts": 0,
                 "columns": schema_names if target.format == "csv" else None}
        if target.format == "ndjson":
            state["content"] = NDJSON_CONTENT
    previous_seconds = float(state.get("seconds", 0.0))
    previous_requests = int(state.get("requests", 0))
    writer: _Writer
    if target.format == "parquet":
        schema = user_arrow_schema(converter.expand) if converter.users else None
        writer = _ParquetWriter(target, state, schema, chunk_rows)
    elif target.format == "csv":
        writer = _CsvWriter(target, state)
    else:
        writer = _NdjsonWriter(target, state)

    def progress_fields() -> dict[str, Any]:
        return {"seconds": round(previous_seconds + time.monotonic() - started, 3),
                "requests": previous_requests + _requests(source)}

    bar = None
    try:
        writer.open(resuming)
        writer.opened = True
        if not resuming:
            writer.flush()  # the first checkpoint: the export exists from now on
        bar = progress_bar(stream, enabled=progress, desc=target.path.name, initial=int(state.get("records", 0)),
                           initial_pages=int(state.get("pages", 0)), written=int(state.get("rows", 0)))
        if not writer.state.get("complete"):
            if resuming and writer.state.get("pages"):
                log.info("resuming %s after %s rows (%s pages)", target.path.name, writer.state["rows"],
                         writer.state["pages"])
            if target.format == "ndjson":  # the API's own records
                convert, pages = converter.select, source.pages()
            else:  # frames: parsed straight from the page bytes into Arrow when the converter allows
                convert, pages = converter, native_pages(source, converter).pages()
            for page in pages:
                writer.add(convert(page.items), page.resume_token, len(page.items))
                if writer.due(chunk_rows):
                    writer.flush(**progress_fields())
                bar.page(len(page.items), writer.rows)
            writer.flush(final=True, complete=True, **progress_fields())
        writer.finish()
    except BaseException as exc:
        _save_what_was_fetched(writer, progress_fields)
        writer.close()
        target.merging.unlink(missing_ok=True)
        if isinstance(exc, ExportError):
            raise
        rows = int(writer.state.get("rows", 0))
        if _is_disk_full(exc):
            raise ExportError(f"The disk is full: {target.path.name} could not be written ({exc}). The {rows:,} "
                              f"rows written so far are kept with their checkpoint ({target.checkpoint.name}); free "
                              f"some space, then run the same export with resume=True (--resume).") from exc
        if isinstance(exc, (GenesysError, KeyboardInterrupt, OSError)):
            hint = (f"The export of {target.path.name} stopped after {rows:,} rows; they are kept with the checkpoint "
                    f"{target.checkpoint.name}. Run the same export with resume=True (--resume) to continue where "
                    f"it stopped.")
            log.warning("%s", hint)
            if hasattr(exc, "add_note"):
                exc.add_note(hint)
        raise
    finally:
        if bar is not None:
            bar.close()
        source.close()
    final = writer.state
    writer.close()
    for leftover in (target.checkpoint, target.part, target.merging):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(target.parts_dir, ignore_errors=True)
    _sync_folder(target.path.parent)
    stats = getattr(source, "stats", None)
    warnings = list(getattr(stats, "warnings", None) or []) + writer.warnings
    fields = progress_fields()
    return ExportSummary(path=target.path, format=target.format, rows=int(final["rows"]),
                         bytes=target.path.stat().st_size, seconds=fields["seconds"], pages=int(final["pages"]),
                         requests=fields["requests"], resumed=resuming, warnings=warnings,
                         records=int(final["records"]))


def _requests(stream: Any) -> int:
    stats = getattr(stream, "stats", None)
    return int(getattr(stats, "requests", 0) or 0)


def _save_what_was_fetched(writer: _Writer, progress_fields: Any) -> None:
    """After a failure: write out the pages already fetched and checkpoint them, if the disk lets us."""
    if not writer.opened:
        return
    try:
        writer.flush(final=True, **progress_fields())
    except BaseException as exc:  # the disk may be full: the previous checkpoint stays valid
        log.debug("could not save the buffered pages after a failure: %s", exc)
