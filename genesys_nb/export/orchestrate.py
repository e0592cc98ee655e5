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

import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import durable
from .durable import CHECKPOINT_VERSION, Target, read_checkpoint
from ..errors import ExportError, GenesysError
from .._tables.frames import PageConverter, native_pages
from .._paging.stream import Stream
from .progress import progress_bar
from .writers import NDJSON_CONTENT, CsvWriter, NdjsonWriter, ParquetWriter, Writer

__all__ = ["export", "ExportSummary", "check_target", "Target", "FORMATS"]

log = logging.getLogger("genesys_nb.export")

FORMATS: dict[str, tuple[str, ...]] = {"parquet": (".parquet", ".pq"), "ndjson": (".ndjson", ".jsonl"),
                                       "csv": (".csv",)}


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
    state = read_checkpoint(target.checkpoint) if target.checkpoint.exists() else None
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
        schema_names = converter.table.arrow_schema(converter.expand).names if converter.table else None
        state = {"version": CHECKPOINT_VERSION, "format": target.format, "path": target.path.name,
                 "fingerprint": getattr(stream, "fingerprint", None), "where": converter.where.key,
                 "users": converter.table is not None, "expand": list(converter.expand), "overwrite": target.overwrite,
                 "resume_token": None, "complete": False, "records": 0, "rows": 0, "pages": 0, "requests": 0,
                 "seconds": 0.0, "offset": 0, "parts": 0,
                 "columns": schema_names if target.format == "csv" else None}
        if target.format == "ndjson":
            state["content"] = NDJSON_CONTENT
    previous_seconds = float(state.get("seconds", 0.0))
    previous_requests = int(state.get("requests", 0))
    writer: Writer
    if target.format == "parquet":
        schema = converter.table.arrow_schema(converter.expand) if converter.table else None
        writer = ParquetWriter(target, state, schema, chunk_rows)
    elif target.format == "csv":
        writer = CsvWriter(target, state)
    else:
        writer = NdjsonWriter(target, state)

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
        if durable.is_disk_full(exc):
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
    durable.sync_folder(target.path.parent)
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


def _save_what_was_fetched(writer: Writer, progress_fields: Any) -> None:
    """After a failure: write out the pages already fetched and checkpoint them, if the disk lets us."""
    if not writer.opened:
        return
    try:
        writer.flush(final=True, **progress_fields())
    except BaseException as exc:  # the disk may be full: the previous checkpoint stays valid
        log.debug("could not save the buffered pages after a failure: %s", exc)
