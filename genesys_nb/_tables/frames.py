"""Streams as frames: chunked readers with one fixed schema, and whole-listing polars or pandas frames.

A stream whose resource declares a table (``stream.table``, a :class:`~genesys_nb._tables.schema.TableSchema`) is
converted page by page into that fixed schema, nested columns chosen by ``stream.expand``. A listing without one
(``client.paginate``) gets frames whose columns polars infers from the records, page by page, and relaxes across
chunks.

:func:`iter_frames` returns a :class:`FrameReader`, which works like ``pandas.read_csv(chunksize=...)``: iterate it
for chunks of ``chunk_size`` rows, ``get_chunk(n)`` for the next ``n`` rows, ``read()`` for the rest, and use it as a
context manager so that paging stops when you leave the block. It never holds more than one chunk plus one page.
pandas frames take ``dtype_backend=`` as pandas spells it: by default (None) the dtypes ``pd.read_parquet`` gives for
our own Parquet export (``str``, ``datetime64[us, UTC]``, ``bool``, ``int64``; lists and structs as objects), so
frames from the API and from files concatenate and compare alike; ``"numpy_nullable"`` gives pandas' nullable dtypes
(``string``, ``Int64``, ``boolean``); ``"pyarrow"`` gives ``pd.ArrowDtype`` columns (``string[pyarrow]``,
``timestamp[us, tz=UTC][pyarrow]``, typed lists and structs). Every chunk and an empty result keep the same columns
and dtypes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import polars as pl
import pyarrow as pa

from .._checks import whole_number
from ..errors import ConfigError
from .filters import Where, compile_where
from .._paging.stream import Batch, Page, Stream
from .schema import ITEM_KEYS, TableSchema

__all__ = ["FrameReader", "PageConverter", "ArrowBatch", "iter_frames", "to_polars", "to_pandas", "to_arrow",
           "table_decoder", "native_pages", "stream_table"]

BACKENDS = ("polars", "pandas", "arrow")
#: pandas' own ``dtype_backend`` values (None: pandas' default dtypes, those of ``pd.read_parquet``).
DTYPE_BACKENDS = ("numpy_nullable", "pyarrow")


def stream_table(stream: Any) -> TableSchema | None:
    """The fixed schema of a stream's records (None when the columns are inferred)."""
    table = getattr(stream, "table", None)
    return table if isinstance(table, TableSchema) else None


def stream_expand(stream: Any) -> tuple[str, ...]:
    return tuple(getattr(stream, "expand", None) or ())


class ArrowBatch(Batch):
    """A page's records already in the fixed schema, decoded from the page's bytes in the worker thread."""

    __slots__ = ("table", "id_column")

    def __init__(self, table: pa.Table, id_column: str | None = "id") -> None:
        self.table = table
        self.id_column = id_column

    def __len__(self) -> int:
        return self.table.num_rows

    def ids(self) -> list[Any]:
        if self.id_column is None:
            return [None] * self.table.num_rows
        return self.table.column(self.id_column).to_pylist()

    def take(self, indices: list[int]) -> ArrowBatch:
        return ArrowBatch(self.table.take(pa.array(indices, pa.int64())), self.id_column)

    def head(self, n: int) -> ArrowBatch:
        return ArrowBatch(self.table.slice(0, n), self.id_column)


def table_decoder(table: TableSchema, expand: tuple[str, ...]) -> Callable[[bytes], Any]:
    """A page decoder for :meth:`Stream.native`: the body's records as an :class:`ArrowBatch` in ``table``'s
    fixed schema."""

    def decode(body: bytes) -> Any:
        envelope, arrow = table.page_to_arrow(body, expand)
        if arrow is not None:
            for key in ITEM_KEYS:
                if envelope.get(key) is arrow:
                    envelope[key] = ArrowBatch(arrow, table.id_column)
        return envelope

    return decode


class PageConverter:
    """Turns one page of records into a filtered Arrow table in the stream's fixed schema or, for listings without
    one, a polars DataFrame with inferred columns."""

    def __init__(self, *, table: TableSchema | None, expand: tuple[str, ...] = (), where: Any = None,
                 listing: str | None = None) -> None:
        self.table = table
        self.expand = tuple(expand)
        self.schema: pl.Schema | None = table.polars_schema(self.expand) if table is not None else None
        self.where: Where = compile_where(where, columns=self.schema)
        if table is not None:
            check_filled(table, self.expand, self.where, listing)

    @classmethod
    def for_stream(cls, stream: Any, where: Any = None) -> PageConverter:
        return cls(table=stream_table(stream), expand=stream_expand(stream), where=where,
                   listing=getattr(stream, "listing", None))

    def decoder(self) -> Callable[[bytes], Any] | None:
        """The native page decoder when pages may skip Python records (a fixed schema that can be read natively,
        no record callable), else None."""
        if self.table is None or not self.table.native or self.where.record is not None:
            return None
        return table_decoder(self.table, self.expand)

    def to_arrow(self, records: list[dict]) -> pa.Table:
        assert self.table is not None
        return self.table.to_arrow(records, self.expand)

    def __call__(self, records: list[dict] | Batch) -> pa.Table | pl.DataFrame:
        if isinstance(records, ArrowBatch):
            return self.where.filter_arrow(records.table)
        if isinstance(records, Batch):  # pages are decoded natively only by table_decoder, into ArrowBatch
            raise TypeError(f"cannot convert a page of {type(records).__name__}: only ArrowBatch pages are native")
        records = self.where.filter_records(records)
        if self.table is not None:
            return self.where.filter_arrow(self.to_arrow(records))
        return self.where.filter_polars(infer_frame(records))

    def select(self, records: list[dict] | Batch) -> list[dict]:
        """The page's own records that ``where=`` keeps, unchanged (NDJSON writes these as the API returned them).

        A polars or text expression is evaluated on the page's frame (the fixed schema, if any) for a row mask."""
        if isinstance(records, Batch):  # a stream read for its records is never made native
            raise TypeError(f"cannot select records from a page of {type(records).__name__}: it holds none")
        records = self.where.filter_records(records)
        if self.where.expr is None or not records:
            return records
        table = self.to_arrow(records) if self.table is not None else infer_frame(records).to_arrow()
        keep = self.where.mask(table).fill_null(False).to_pylist()
        return [record for record, kept in zip(records, keep) if kept]

    def empty(self) -> pa.Table | pl.DataFrame:
        return self.to_arrow([]) if self.table is not None else pl.DataFrame()


def check_filled(table: TableSchema, expand: tuple[str, ...], where: Where, listing: str | None = None) -> None:
    """Refuse (ConfigError, before any request) a filter on a column the listing leaves empty: one that only its
    expand value fills, when the stream was listed without it. ``listing`` names the call that lists it again
    (``client.users``)."""
    missing = table.unfilled(where.columns, expand)
    if not missing:
        return
    wanted = list(expand) + [e for e in dict.fromkeys(missing.values()) if e not in expand]
    names = ", ".join(repr(c) for c in missing)
    values = ", ".join(repr(e) for e in dict.fromkeys(missing.values()))
    call = f"{listing or 'the listing'}(expand=[{', '.join(_quoted(e) for e in wanted)}])"
    raise ConfigError(f"where= refers to {names}, which the API fills only with expand {values}; this stream was "
                      f"listed without it, so every row would be null there. List with {call} (and your other "
                      f"arguments) to filter on it.")


def _quoted(text: str) -> str:
    """``text`` in double quotes, as one writes it in Python code."""
    import json

    return json.dumps(text)


def native_pages(stream: Stream, converter: PageConverter) -> Stream:
    """``stream`` set to decode its pages natively when ``converter`` allows it (see :meth:`PageConverter.decoder`);
    the converter takes either kind of page."""
    decode = converter.decoder()
    native = getattr(stream, "native", None)
    return native(decode) if decode is not None and native is not None else stream


def infer_frame(records: list[dict]) -> pl.DataFrame:
    """A polars frame from records of any listing, inferring the columns from every record of the page."""
    if not records:
        return pl.DataFrame()
    return pl.from_dicts(records, infer_schema_length=None)


def _concat(pieces: list[pa.Table | pl.DataFrame]) -> pa.Table | pl.DataFrame:
    if len(pieces) == 1:
        return pieces[0]
    if isinstance(pieces[0], pa.Table):
        return pa.concat_tables(pieces)
    return pl.concat(pieces, how="diagonal_relaxed")


def _height(piece: pa.Table | pl.DataFrame) -> int:
    return piece.num_rows if isinstance(piece, pa.Table) else piece.height


def _slice(piece: pa.Table | pl.DataFrame, start: int, length: int | None = None) -> pa.Table | pl.DataFrame:
    return piece.slice(start, length) if length is not None else piece.slice(start)


class FrameReader:
    """Chunks of a stream as frames: an iterator, ``get_chunk(n)``, ``read()``, ``close()``, a context manager.

    >>> with client.users().iter_frames(chunk_size=10_000) as reader:   # doctest: +SKIP
    ...     for df in reader:
    ...         handle(df)
    """

    def __init__(self, stream: Stream, *, chunk_size: int = 50_000, backend: str = "polars", where: Any = None,
                 dtype_backend: str | None = None) -> None:
        whole_number(chunk_size, "chunk_size", minimum=1)
        if backend not in BACKENDS:
            raise ConfigError(f"backend must be one of {', '.join(BACKENDS)}, not {backend!r}.")
        self.dtype_backend = check_dtype_backend(dtype_backend, backend)
        self.stream = stream
        self.chunk_size = chunk_size
        self.backend = backend
        self._convert = PageConverter.for_stream(stream, where)
        self._pages: Iterator[Page] | None = None
        self._pieces: list[pa.Table | pl.DataFrame] = []
        self._buffered = 0
        self._exhausted = False
        self._closed = False
        self.rows = 0  # rows handed out so far
        self.chunks = 0

    def __repr__(self) -> str:
        state = "closed" if self._closed else ("exhausted" if self._exhausted and not self._buffered else "open")
        return (f"<FrameReader {self.backend} chunk_size={self.chunk_size:,} {state}: {self.chunks} chunks, "
                f"{self.rows:,} rows>")

    @property
    def schema(self) -> pl.Schema | None:
        """The fixed polars schema of the frames (None for listings whose columns are inferred)."""
        return self._convert.schema

    @property
    def stats(self) -> Any:
        return self.stream.stats

    # -- the protocol ------------------------------------------------------------------------------------------------
    def __iter__(self) -> FrameReader:
        return self

    def __next__(self) -> Any:
        return self.get_chunk()

    def get_chunk(self, size: int | None = None) -> Any:
        """The next ``size`` rows (default ``chunk_size``) as a frame; StopIteration when nothing is left."""
        whole_number(size, "size", minimum=1, allow_none=True)
        n = size or self.chunk_size
        self._fill(n)
        if not self._buffered:
            raise StopIteration
        whole = _concat(self._pieces)
        chunk = _slice(whole, 0, n)
        rest = self._buffered - _height(chunk)
        self._pieces = [_slice(whole, n)] if rest else []
        self._buffered = rest
        return self._emit(chunk)

    def read(self) -> Any:
        """Every remaining row as one frame (the schema is kept when there are none)."""
        self._fill(None)
        whole = _concat(self._pieces) if self._pieces else self._convert.empty()
        self._pieces, self._buffered = [], 0
        return self._emit(whole)

    def close(self) -> None:
        """Stop paging (requests in flight are discarded) and drop buffered rows."""
        self._closed = True
        self._exhausted = True
        self._pieces, self._buffered = [], 0
        self.stream.close()

    def __enter__(self) -> FrameReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- internals ---------------------------------------------------------------------------------------------------
    def _fill(self, n: int | None) -> None:
        if self._closed:
            return
        if self._pages is None and not self._exhausted:
            self._pages = native_pages(self.stream, self._convert).pages()
        pages = self._pages  # None only once exhausted before the first page was asked for
        while pages is not None and not self._exhausted and (n is None or self._buffered < n):
            page = next(pages, None)
            if page is None:
                self._exhausted = True
                break
            piece = self._convert(page.items)
            if _height(piece):
                self._pieces.append(piece)
                self._buffered += _height(piece)

    def _emit(self, piece: pa.Table | pl.DataFrame) -> Any:
        start = self.rows
        self.rows += _height(piece)
        self.chunks += 1
        return _as_backend(piece, self.backend, start, self.dtype_backend)


def check_dtype_backend(dtype_backend: Any, backend: str = "pandas") -> str | None:
    """``dtype_backend`` as pandas spells it (None, ``"numpy_nullable"`` or ``"pyarrow"``), for pandas frames only."""
    if dtype_backend is None:
        return None
    if dtype_backend not in DTYPE_BACKENDS:
        raise ConfigError(f"dtype_backend must be None (pandas' default dtypes, as pd.read_parquet gives), "
                          f"'numpy_nullable' or 'pyarrow', not {dtype_backend!r}.")
    if backend != "pandas":
        raise ConfigError(f"dtype_backend= applies to pandas frames: pass backend='pandas' with it (not "
                          f"{backend!r}).")
    return dtype_backend


def _nullable_types() -> dict[pa.DataType, Any]:
    """Arrow types -> pandas' nullable dtypes (what ``dtype_backend="numpy_nullable"`` means in pandas' readers)."""
    import pandas as pd

    return {pa.int8(): pd.Int8Dtype(), pa.int16(): pd.Int16Dtype(), pa.int32(): pd.Int32Dtype(),
            pa.int64(): pd.Int64Dtype(), pa.uint8(): pd.UInt8Dtype(), pa.uint16(): pd.UInt16Dtype(),
            pa.uint32(): pd.UInt32Dtype(), pa.uint64(): pd.UInt64Dtype(), pa.bool_(): pd.BooleanDtype(),
            pa.string(): pd.StringDtype(), pa.large_string(): pd.StringDtype(), pa.float32(): pd.Float32Dtype(),
            pa.float64(): pd.Float64Dtype()}


def to_pandas_frame(table: pa.Table, dtype_backend: str | None = None) -> Any:
    """An Arrow table as a pandas frame with ``dtype_backend``'s dtypes (None: those of ``pd.read_parquet``)."""
    import pandas as pd

    if dtype_backend == "pyarrow":
        return table.to_pandas(types_mapper=pd.ArrowDtype)
    if dtype_backend == "numpy_nullable":
        return table.to_pandas(types_mapper=_nullable_types().get)
    return table.to_pandas()


def _as_backend(piece: pa.Table | pl.DataFrame, backend: str, start: int = 0,
                dtype_backend: str | None = None) -> Any:
    if backend == "arrow":
        return piece if isinstance(piece, pa.Table) else piece.to_arrow()
    if backend == "polars":
        return pl.from_arrow(piece) if isinstance(piece, pa.Table) else piece
    import pandas as pd

    frame = to_pandas_frame(piece if isinstance(piece, pa.Table) else piece.to_arrow(), dtype_backend)
    if start:
        frame.index = pd.RangeIndex(start, start + len(frame))
    return frame


def iter_frames(stream: Stream, *, chunk_size: int = 50_000, backend: str = "polars", where: Any = None,
                dtype_backend: str | None = None) -> FrameReader:
    """Chunks of ``chunk_size`` rows as polars (or ``backend="pandas"``/``"arrow"``) frames, every one with the
    same schema; ``where=`` filters each page (see :mod:`genesys_nb._tables.filters`); ``dtype_backend=`` chooses
    pandas' dtypes as pandas does (see the module docs)."""
    return FrameReader(stream, chunk_size=chunk_size, backend=backend, where=where, dtype_backend=dtype_backend)


def to_polars(stream: Stream, *, where: Any = None) -> pl.DataFrame:
    """The whole listing as one polars DataFrame (the fixed schema, also when empty)."""
    return FrameReader(stream, backend="polars", where=where).read()


def to_pandas(stream: Stream, *, where: Any = None, dtype_backend: str | None = None) -> Any:
    """The whole listing as one pandas DataFrame; ``dtype_backend`` as in pandas (None: the dtypes of
    ``pd.read_parquet`` of the Parquet export; ``"numpy_nullable"``; ``"pyarrow"`` for ``pd.ArrowDtype``)."""
    return FrameReader(stream, backend="pandas", where=where, dtype_backend=dtype_backend).read()


def to_arrow(stream: Stream, *, where: Any = None) -> pa.Table:
    """The whole listing as one Arrow table."""
    return FrameReader(stream, backend="arrow", where=where).read()
