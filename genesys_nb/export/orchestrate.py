"""Streamed exports to NDJSON, Parquet and CSV: bounded memory, atomic files, checkpoints and resume.

``export(stream, "users.parquet")`` pages the listing, converts each page (into the fixed user schema for Parquet
and CSV, into NDJSON lines of the API's own records for NDJSON), and writes it out while the next page is being
fetched. Memory stays flat whatever the org's size: at most ``chunk_rows`` rows (Parquet, at most ~8 MB) or ~4 MB
of rows (NDJSON, CSV) are held before they go to disk.

Nothing ever appears under the final name until the export has succeeded:

* One export writes to an output at a time: an exclusive lock (``<name>.lock``) is held for the whole run, and a
  second export of the same file (a second ``--overwrite``, or ``--resume`` while the first still runs) stops with
  "already running, pid N" before any request. Every file is created new (``O_EXCL | O_NOFOLLOW``): a planted
  symbolic link is never followed, and only names the export itself makes are deleted.
* NDJSON and CSV are appended to ``<name>.part``; Parquet chunks of ``chunk_rows`` rows go into small files in a
  ``<name>.parts/`` folder and are merged row group by row group into ``<name>.merging`` at the end. The finished
  file is then moved onto the final name with ``os.replace`` (atomic on one file system).
* After data reaches the disk (flush + fsync), ``<name>.checkpoint.json`` is replaced atomically: it holds the resume
  token of the last page written, the byte offset (or the number of Parquet parts), counts, and the query's
  fingerprint, and the last durable write's range and SHA-256 (:mod:`genesys_nb.export.checkpoint`). When the export
  fails (an API error after retries, a full disk, Ctrl-C), everything already fetched
  is written out and checkpointed first; the final name is left untouched.
* ``resume=True`` truncates the partial file to the checkpointed offset (dropping any half-written tail), continues
  the listing after the checkpointed page (``stream.resumed(token)``) and finishes the file: no record is written
  twice, none is lost. A checkpoint from another query (state, expand, page size or filter) is refused, and so is
  one that does not match its partial file (shorter, another file, edited) or has fields of the wrong type.

The formats come from the sink registry (:mod:`genesys_nb.export.sinks`). Progress and cancellation work the same
for every format and filter: ``on_page`` is called after every page (an :class:`ExportProgress`), and an exception it
raises stops the export with what was fetched kept and checkpointed.

Everything that can be checked is checked before the first request: the arguments, the format, the folder, the
file name's length, an existing file
(``overwrite=True`` to replace it), an existing checkpoint (``resume=True`` to continue, ``overwrite=True`` to start
over). Errors are :class:`~genesys_nb.errors.ExportError` with a message saying what to do; API errors keep their
own type (with a note on how to resume).

File contents: NDJSON is the lossless format: one record per line exactly as the API returned it (every field,
``addresses``, ``images``, ``primaryContactInfo``, ``chat`` and nested objects included), for users and for any
other listing. Parquet and CSV are the tabular formats with the listing's fixed schema: Parquet keeps it exactly (nested
columns as Struct/List, timestamps as UTC timestamps); CSV has the same columns, nested ones as JSON text,
timestamps as ``2025-06-01T12:00:00.000Z``, and text that a spreadsheet would run as a formula neutralised with a
leading ``'`` unless ``csv_safe=False`` (:mod:`genesys_nb.export.textsafe`). Listings without a fixed schema
(``client.paginate``) get inferred columns in Parquet and CSV (Parquet unifies them across chunks; CSV keeps the
first chunk's). ``where=`` works for every format: for NDJSON an
expression is evaluated on the page's frame and selects which of the API's records are written.
"""

from __future__ import annotations

import logging
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from . import durable
from .checkpoint import Checkpoint, checkpoint_path, checkpoint_temp_name, read_checkpoint, write_checkpoint
from .checks import human_bytes, plural, whole_number
from .durable import Target
from .lock import OutputLock
from .progress import ProgressBar, progress_bar
from .safefiles import nofollow_opener, remove_file
from .sinks import Sink, format_of
from .writers import Writer
from ..errors import DeepPagingLimit, ExportError, GenesysError
from .._paging.stream import Batch, Stream
from .._tables.frames import PageConverter, native_pages

__all__ = ["export", "ExportSummary", "ExportProgress", "check_target", "Target", "FORMATS"]

log = logging.getLogger("genesys_nb.export")


class _Formats(dict):
    """``{format: suffixes}`` read from the sink registry each time (kept for code that read ``FORMATS``)."""

    def _now(self) -> dict[str, tuple[str, ...]]:
        from .sinks import sinks
        return {s.name: s.suffixes for s in sinks()}

    def __getitem__(self, key: str) -> tuple[str, ...]:
        return self._now()[key]

    def __iter__(self) -> Any:
        return iter(self._now())

    def __len__(self) -> int:
        return len(self._now())

    def __contains__(self, key: object) -> bool:
        return key in self._now()

    def items(self) -> Any:
        return self._now().items()

    def keys(self) -> Any:
        return self._now().keys()

    def values(self) -> Any:
        return self._now().values()

    def __repr__(self) -> str:
        return repr(self._now())


FORMATS: dict[str, tuple[str, ...]] = _Formats()


# -- the summary and the progress ----------------------------------------------------------------------------------
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

    @property
    def size(self) -> str:
        """The file's size in words: ``117.1 MB``."""
        return human_bytes(self.bytes)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["path"] = str(self.path)
        return data

    def __repr__(self) -> str:
        more = f", {len(self.warnings)} warning(s)" if self.warnings else ""
        again = ", resumed" if self.resumed else ""
        return (f"ExportSummary({self.format} {str(self.path)!r}: {plural(self.rows, 'row')}, {self.size}, "
                f"{plural(self.pages, 'page')}, {plural(self.requests, 'request')}, {self.seconds:.1f} s{again}{more})")

    def _repr_html_(self) -> str:
        import html

        rows = [("file", str(self.path)), ("format", self.format), ("rows", f"{self.rows:,}"),
                ("size", self.size), ("pages", f"{self.pages:,}"),
                ("requests", f"{self.requests:,}"), ("time", f"{self.seconds:.1f} s"),
                ("rate", f"{self.rows_per_second:,.0f} rows/s"), ("resumed", "yes" if self.resumed else "no")]
        rows += [("warning", w) for w in self.warnings]
        body = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
                       f"{html.escape(v)}</td></tr>" for k, v in rows)
        return f"<table><caption>Export summary</caption>{body}</table>"


def _human_bytes(n: int) -> str:  # kept for callers of the earlier name
    return human_bytes(n)


@dataclass(frozen=True)
class ExportProgress:
    """Passed to ``on_page`` after every page: this page's records, and the totals so far (every run of a resumed
    export): records fetched, pages fetched, rows written or about to be."""

    page_records: int
    records: int
    pages: int
    rows: int


# -- validating the target -----------------------------------------------------------------------------------------
def _longest_name(name: str) -> str:
    """The longest name an export of ``name`` puts in its folder (its checkpoint being written)."""
    return checkpoint_temp_name(name, "0" * 8)


def _merging_name(name: str) -> str:
    return f"{name}.{secrets.token_hex(4)}.merging"


def _temporaries(name: str) -> re.Pattern[str]:
    """The temporary names an export of ``name`` makes (checkpoints being written, Parquet files being merged)."""
    base = re.escape(name)
    return re.compile(rf"{base}\.checkpoint\.[0-9a-f]{{8}}\.json\.tmp|{base}\.[0-9a-f]{{8}}\.merging")


def resolve_target(path: str | os.PathLike, *, format: str | None = None) -> tuple[Target, Sink]:
    """The output's names and its format, after checking the path (no file is read or written but a probe)."""
    try:
        path = Path(os.fspath(path)).expanduser()
    except TypeError:
        raise ExportError(f"The output path must be a file name such as 'users.parquet', not {path!r}.") from None
    sink = format_of(path, format)
    path = path.absolute()
    folder = path.parent
    if not folder.exists():
        raise ExportError(f"The folder {str(folder)!r} does not exist. Create it first (mkdir -p {folder}) or "
                          f"choose another path.")
    if not folder.is_dir():
        raise ExportError(f"{str(folder)!r} is not a folder, so {path.name!r} cannot be written there.")
    if path.is_dir():
        raise ExportError(f"{str(path)!r} is a folder; give a file name such as "
                          f"{str(path / ('users' + sink.suffix))!r}.")
    _check_name_length(path)
    _probe_writable(folder)
    target = Target(path=path, format=sink.name, checkpoint=checkpoint_path(path),
                    part=path.with_name(path.name + ".part"), parts_dir=path.with_name(path.name + ".parts"),
                    merging=path.with_name(_merging_name(path.name)), state=None, overwrite=False)
    return target, sink


def _check_name_length(path: Path) -> None:
    try:
        limit = os.pathconf(path.parent, "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):
        limit = 255
    extra = len(_longest_name(path.name)) - len(path.name)
    if len(path.name) + extra > limit:
        raise ExportError(f"The file name {path.name[:40]!r}... is {len(path.name)} characters long; an export also "
                          f"writes files named after it with up to {extra} more characters, and this folder allows "
                          f"{limit}. Choose a name of at most {limit - extra} characters.")


def check_target(path: str | os.PathLike, *, format: str | None = None, overwrite: bool = False,
                 resume: bool = False, fingerprint: str | None = None, where_key: str = "") -> Target:
    """Check an export's output before any request and return it; raise ExportError saying what to do otherwise.

    Also refuses an output that another export is writing now (its lock is held)."""
    _check_flags(overwrite, resume)
    target, sink = resolve_target(path, format=format)
    holder = OutputLock(target.path).holder()
    if holder is not None:
        raise ExportError(f"An export of {target.path.name!r} is already running"
                          f"{f', pid {holder}' if holder > 0 else ''}. Wait for it to finish, or stop it, before "
                          f"exporting to the same file.")
    return _with_checkpoint(target, sink, overwrite=overwrite, resume=resume, fingerprint=fingerprint,
                            where_key=where_key)


def _check_flags(overwrite: Any, resume: Any) -> None:
    for name, value in (("overwrite", overwrite), ("resume", resume)):
        if not isinstance(value, bool):
            raise ExportError(f"{name} must be True or False, not {value!r}.")
    if overwrite and resume:
        raise ExportError("overwrite=True (--overwrite) starts over and resume=True (--resume) continues an "
                          "interrupted export: pass one of them, not both.")


def _with_checkpoint(target: Target, sink: Sink, *, overwrite: bool, resume: bool, fingerprint: str | None,
                     where_key: str, csv_safe: bool | None = None) -> Target:
    """The target with the checkpoint to resume from (``target.state``), or a refusal saying what to do."""
    path, fmt = target.path, target.format
    present = os.path.lexists(target.checkpoint)
    state = read_checkpoint(target.checkpoint) if present and (resume or not overwrite) else None
    if state is not None and resume:
        if state.format != fmt:
            raise ExportError(f"The checkpoint {target.checkpoint.name} is for a {state.format} export, not "
                              f"{fmt}. Resume with the same file name, or pass overwrite=True to start over.")
        if fingerprint is not None and state.fingerprint != fingerprint:
            raise ExportError(f"The checkpoint {target.checkpoint.name} belongs to a different query (another "
                              f"state, expand or page size). Resume with the arguments of the interrupted export, or "
                              f"pass overwrite=True to start over.")
        if where_key and state.where and state.where != where_key:
            raise ExportError(f"The checkpoint {target.checkpoint.name} was written with another where= filter. "
                              f"Resume with the same filter, or pass overwrite=True to start over.")
        if sink.content is not None and state.content != sink.content:
            raise ExportError(f"The checkpoint {target.checkpoint.name} is from an NDJSON export that wrote "
                              f"flattened columns (an earlier version); it cannot be finished with the API's own "
                              f"records. Pass overwrite=True (--overwrite) to start over.")
        if sink.cells and csv_safe is not None and state.csv_safe != csv_safe:
            raise ExportError(f"The checkpoint {target.checkpoint.name} was written with csv_safe={state.csv_safe}; "
                              f"resume with the same setting, or pass overwrite=True to start over.")
        if path.exists() and not state.overwrite:
            raise ExportError(f"{str(path)!r} already exists. Pass overwrite=True (--overwrite) to replace it "
                              f"(starting over), or move it away and resume.")
        target.state = state
        target.overwrite = state.overwrite
        return target
    if state is not None and not overwrite:
        raise ExportError(f"An interrupted export of {path.name!r} is waiting to be finished ({state.rows:,} "
                          f"rows so far, checkpoint {target.checkpoint.name}). Pass resume=True (--resume) to "
                          f"continue it, or overwrite=True (--overwrite) to start over.")
    if path.exists() and resume:
        raise ExportError(f"{str(path)!r} is complete (no interrupted export of it is waiting to be finished): there "
                          f"is nothing to resume. To export it again from the start, pass overwrite=True "
                          f"(--overwrite) instead of resume=True.")
    if path.exists() and not overwrite:
        raise ExportError(f"{str(path)!r} already exists. Pass overwrite=True (--overwrite) to replace it, or choose "
                          f"another name.")
    target.overwrite = overwrite
    return target


def _probe_writable(folder: Path) -> None:
    """Create (never open an existing file or follow a link) and remove a uniquely named file in ``folder``."""
    for _ in range(5):
        probe = folder / f".genesys-nb-probe-{os.getpid()}-{secrets.token_hex(4)}"
        try:
            with open(probe, "xb", opener=nofollow_opener):
                pass
        except FileExistsError:
            continue
        except OSError as exc:
            raise ExportError(f"Cannot write into the folder {str(folder)!r} ({exc.strerror or exc}). Choose a "
                              f"folder you can write to.") from None
        probe.unlink(missing_ok=True)
        return
    raise ExportError(f"Cannot write into the folder {str(folder)!r}: every probe name was taken.")


# -- the export ----------------------------------------------------------------------------------------------------
def export(stream: Stream, path: str | os.PathLike, *, format: str | None = None, overwrite: bool = False,
           resume: bool = False, progress: bool = True, where: Any = None, chunk_rows: int = 50_000,
           csv_safe: bool = True, on_page: Callable[[ExportProgress], Any] | None = None) -> ExportSummary:
    """Stream ``stream`` into ``path`` (.parquet, .ndjson/.jsonl or .csv, or ``format=``) with bounded memory and
    an atomic rename at the end; ``resume=True`` continues an interrupted export from its checkpoint. CSV cells that
    a spreadsheet would run as formulas are neutralised unless ``csv_safe=False``. ``on_page(progress)`` is called
    after every page; an exception it raises (a Cancel button) stops the export, keeping what was fetched. See the
    module docs. Returns an :class:`ExportSummary`."""
    started = time.monotonic()
    chunk_rows = whole_number(chunk_rows, "chunk_rows", minimum=1)
    if not isinstance(csv_safe, bool):
        raise ExportError(f"csv_safe must be True or False, not {csv_safe!r}.")
    if on_page is not None and not callable(on_page):
        raise ExportError(f"on_page must be a function taking an ExportProgress, not {on_page!r}.")
    _check_flags(overwrite, resume)
    converter = PageConverter.for_stream(stream, where)
    target, sink = resolve_target(path, format=format)
    with OutputLock(target.path):
        target = _with_checkpoint(target, sink, overwrite=overwrite, resume=resume, csv_safe=csv_safe,
                                  fingerprint=getattr(stream, "fingerprint", None), where_key=converter.where.key)
        run = _Run(stream, target, sink, converter, chunk_rows=chunk_rows, csv_safe=csv_safe, started=started)
        return run.go(progress=progress, on_page=on_page)


class _Run:
    """One run of an export, under its lock: start or resume, the write loop, then finishing or the failure path."""

    def __init__(self, stream: Stream, target: Target, sink: Sink, converter: PageConverter, *, chunk_rows: int,
                 csv_safe: bool, started: float) -> None:
        self.stream, self.target, self.sink, self.converter = stream, target, sink, converter
        self.chunk_rows, self.started = chunk_rows, started
        self.resuming = target.state is not None
        self.how = _how(stream)
        state = target.state if target.state is not None else self._fresh_state(csv_safe)
        # A resume that lists in another way (strategy='pages' -> 'auto') starts that listing over and drops the
        # records the partial file already holds; so does every later resume of it.
        self.switching = self.resuming and not state.complete and state.how != self.how
        self.drop_written = self.switching or (self.resuming and state.drops_written and not state.complete)
        self.seen: set[str] | None = None
        self.source = stream if self.switching else (self._resumed_source(state) if self.resuming else stream)
        self.previous_seconds, self.previous_requests = state.seconds, state.requests
        self.writer: Writer = sink.make_writer(target, state, converter=converter, chunk_rows=chunk_rows)

    def _fresh_state(self, csv_safe: bool) -> Checkpoint:
        """A new export: what an earlier one left is removed (only the export's own names), the first checkpoint."""
        self.target.clean()
        self._remove_temporaries()
        c = self.converter
        return Checkpoint(format=self.target.format, path=self.target.path.name,
                          fingerprint=getattr(self.stream, "fingerprint", None), where=c.where.key, fixed_schema=c.table is not None,
                          expand=tuple(c.expand), overwrite=self.target.overwrite, csv_safe=csv_safe,
                          content=self.sink.content, how=self.how, **self.sink.start(c))

    def _resumed_source(self, state: Checkpoint) -> Stream:
        if state.complete or not state.pages:
            return self.stream
        try:
            return self.stream.resumed(state.resume_token)
        except GenesysError as exc:
            raise ExportError(f"This stream cannot be resumed ({exc}). Pass overwrite=True to start over.") from None

    def _start_dropping_written(self) -> None:
        """Read the ids the partial file holds (once; ids only) and, when the listing switches, checkpoint that it
        now lists from the start in the new way."""
        table = self.converter.table
        key = "id" if self.sink.records or table is None else (table.id_column or "id")
        self.seen = self.writer.written_ids(key)
        log.info("%s: %s rows already written; listing again (%s) and dropping them", self.target.path.name,
                 f"{len(self.seen):,}", self.how or "as given")
        if self.switching:
            self.writer.state = self.writer.state.replace(how=self.how, drops_written=True, resume_token=None)
            write_checkpoint(self.target.checkpoint, self.writer.state)

    def _remove_temporaries(self) -> None:
        pattern = _temporaries(self.target.path.name)
        for entry in os.scandir(self.target.path.parent):
            if pattern.fullmatch(entry.name) and entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)

    def fields(self) -> dict[str, Any]:
        """The counters a checkpoint and the summary carry across runs."""
        return {"seconds": round(self.previous_seconds + time.monotonic() - self.started, 3),
                "requests": self.previous_requests + _requests(self.source)}

    def go(self, *, progress: bool, on_page: Callable[[ExportProgress], Any] | None) -> ExportSummary:
        writer, bar = self.writer, None
        try:
            writer.open(self.resuming)
            writer.opened = True
            if not self.resuming:
                writer.flush()  # the first checkpoint: the export exists from now on
            if self.drop_written:
                self._start_dropping_written()
            state = writer.state
            bar = progress_bar(self.stream, enabled=progress, desc=self.target.path.name, initial=state.records,
                               initial_pages=state.pages, written=state.rows)
            if not state.complete:
                self._write_pages(bar, on_page)
            writer.finish()
        except BaseException as exc:
            self._failed(exc)
            raise
        finally:
            if bar is not None:
                bar.close()
            self.source.close()
        return self._finalise()

    def _write_pages(self, bar: ProgressBar, on_page: Callable[[ExportProgress], Any] | None) -> None:
        """The write loop: every page converted, buffered and flushed; the bar and ``on_page`` told of each."""
        writer, state = self.writer, self.writer.state
        if self.resuming and state.pages:
            log.info("resuming %s after %s rows (%s pages)", self.target.path.name, state.rows, state.pages)
        convert: Callable[[Any], Any]
        if self.sink.records:  # the API's own records
            convert, pages = self.converter.select, self.source.pages()
        else:  # frames: parsed straight from the page bytes into Arrow when the converter allows
            convert, pages = self.converter, native_pages(self.source, self.converter).pages()
        records, count = state.records, state.pages
        for page in pages:
            items = page.items if self.seen is None else _unseen(page.items, self.seen)
            writer.add(convert(items), page.resume_token, len(page.items))
            records, count = records + len(page.items), count + 1
            if writer.due(self.chunk_rows):
                writer.flush(**self.fields())
            bar.page(len(page.items), writer.rows)
            if on_page is not None:
                on_page(ExportProgress(page_records=len(page.items), records=records, pages=count, rows=writer.rows))
        writer.flush(final=True, complete=True, **self.fields())

    def _finalise(self) -> ExportSummary:
        target, writer = self.target, self.writer
        final = writer.state
        writer.close()
        for leftover in (target.checkpoint, target.part, target.merging):
            remove_file(leftover)
        durable.remove_parts_dir(target.parts_dir)
        durable.sync_folder(target.path.parent)
        stats = getattr(self.source, "stats", None)
        warnings = list(getattr(stats, "warnings", None) or []) + writer.warnings
        fields = self.fields()
        return ExportSummary(path=target.path, format=target.format, rows=final.rows,
                             bytes=target.path.stat().st_size, seconds=fields["seconds"], pages=final.pages,
                             requests=fields["requests"], resumed=self.resuming, warnings=warnings,
                             records=final.records)

    def _failed(self, exc: BaseException) -> None:
        """Keep what was fetched (written out and checkpointed) and say how to resume; or, when nothing was,
        remove the files this run made, so nothing suggests a resume."""
        writer, target = self.writer, self.target
        _save_what_was_fetched(writer, self.fields)
        writer.close()
        target.merging.unlink(missing_ok=True)
        kept = self.resuming or writer.fetched
        if not kept:
            try:
                target.clean()
            except (OSError, ExportError) as cleanup:  # the original error matters more
                log.debug("could not remove the empty export's files: %s", cleanup)
        if isinstance(exc, ExportError):
            return
        rows = writer.state.rows
        if durable.is_disk_full(exc):
            kept_words = (f"The {rows:,} rows written so far are kept with their checkpoint "
                          f"({target.checkpoint.name}); free some space, then run the same export with resume=True "
                          f"(--resume)." if kept else "Nothing was written; free some space and run it again.")
            raise ExportError(f"The disk is full: {target.path.name} could not be written ({exc}). "
                              f"{kept_words}") from exc
        if kept and isinstance(exc, DeepPagingLimit):
            hint = (f"The export of {target.path.name} stopped after {rows:,} rows; they are kept with the checkpoint "
                    f"{target.checkpoint.name}. List again with strategy='auto' (or 'cursor') and export with "
                    f"resume=True, e.g. client.users(..., strategy='auto').to_{target.format}(..., resume=True): "
                    f"the cursor listing finishes the file, dropping the users it already holds.")
            if hasattr(exc, "add_note"):  # Python 3.11+
                exc.add_note(hint)  # in Python's words; the command line says it in flags
        elif kept and isinstance(exc, (GenesysError, KeyboardInterrupt, OSError)):
            hint = (f"The export of {target.path.name} stopped after {rows:,} rows; they are kept with the checkpoint "
                    f"{target.checkpoint.name}. Run the same export with resume=True (--resume) to continue where "
                    f"it stopped.")
            log.warning("%s", hint)
            if hasattr(exc, "add_note"):
                exc.add_note(hint)


def _how(stream: Any) -> str:
    """How a stream's listing pages (its spec's strategy), as a checkpoint records it."""
    spec = getattr(stream, "spec", None)
    return spec.how() if spec is not None and hasattr(spec, "how") else ""


def _unseen(items: Any, seen: set[str]) -> Any:
    """The page without the records whose id is in ``seen`` (each is dropped once: the cursor gives it once)."""
    if isinstance(items, Batch):
        keep = [i for i, key in enumerate(items.ids()) if key not in seen]
        return items if len(keep) == len(items) else items.take(keep)
    return [r for r in items if not (isinstance(r, dict) and r.get("id") in seen)]


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
