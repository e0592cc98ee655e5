"""The table engine: records (the API's camelCase JSON) into one fixed set of columns and types, for any listing.

A resource declares its columns as a :class:`TableSchema`: each :class:`Column` names where it comes from in a
record, its Arrow type, and the expand value that brings it. The engine knows no column of its own. Records become
an Arrow table through ``pyarrow.Table.from_pylist`` with a fixed *raw* schema (timestamps read as text, keys the
schema does not name are dropped); then the columns are picked out and typed with vectorised Arrow compute, with no
Python loop over records. The same schema comes out for an empty result, for a page where every optional field is
missing, and for every chunk of a long listing: nothing is inferred from the data.

A page's raw bytes can also be parsed natively (``pyarrow.json``, without a Python object per value) by
:meth:`TableSchema.page_to_arrow`; a page it cannot read exactly takes the dict path instead, with the same result.
A value of the wrong JSON type is converted when that is lossless (a number where text is expected) and otherwise
becomes null, with a warning in the log; a timestamp that does not parse becomes null.
"""

from __future__ import annotations

import difflib
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any, cast

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

from ..errors import ConfigError

if TYPE_CHECKING:  # polars loads on first use: `import genesys_nb` needs no polars
    import polars as pl

__all__ = ["Column", "Derived", "TableSchema", "S", "TS", "DATE", "struct", "all_null", "struct_child", "column_array", "ITEM_KEYS"]

log = logging.getLogger("genesys_nb.schema")

S = pa.string()
TS = pa.timestamp("us", tz="UTC")
DATE = pa.date32()


def struct(**fields: pa.DataType) -> pa.StructType:
    """An Arrow struct type from keyword fields, in order."""
    return pa.struct(list(fields.items()))


@dataclass(frozen=True)
class Derived:
    """A column computed from raw fields rather than read from one path (e.g. a user's primary phone).

    ``raw_fields`` are read into the raw schema for it; ``from_records`` computes it from the records (dict path),
    ``from_raw`` from the raw Arrow table (native path; None means pages of this table take the dict path)."""

    raw_fields: tuple[pa.Field, ...]
    from_records: Callable[[list[dict]], pa.Array]
    from_raw: Callable[[pa.Table], pa.Array] | None = None


@dataclass(frozen=True)
class Column:
    """One output column: its name, where it comes from in a record, its type, and the expand that brings it.

    ``expand`` set: the column exists only when that expand value is requested. ``needs`` set: the column always
    exists, but stays null unless that expand value is requested (e.g. ``date_last_login``)."""

    name: str
    source: tuple[str, ...]
    type: pa.DataType
    expand: str | None = None
    doc: str = ""
    derived: Derived | None = None
    needs: str | None = None


@dataclass(frozen=True, eq=False)
class TableSchema:
    """The columns of one listing's frames and files. Hashed by identity: one instance per resource."""

    name: str
    columns: tuple[Column, ...]
    #: Expand values that may be sent to the API (some add no column).
    expands: tuple[str, ...] = ()
    #: Other spellings of an expand value that bring the same column(s).
    aliases: Mapping[str, str] = field(default_factory=dict)

    # -- expand values -------------------------------------------------------------------------------------------
    def check_expand(self, expand: Any) -> tuple[str, ...]:
        """Expand values as a tuple, from a list or a comma-joined string; unknown values raise ConfigError."""
        if expand is None:
            return ()
        if isinstance(expand, str):
            expand = expand.split(",")
        if not isinstance(expand, Iterable):
            raise ConfigError(f"expand must be a list of names such as ('groups', 'skills'), not {expand!r}.")
        lookup = {e.lower(): e for e in self.expands}
        out: list[str] = []
        for value in expand:
            name = str(value).strip()
            if not name:
                continue
            canonical = lookup.get(name.lower())
            if canonical is None:
                if not self.expands:
                    raise ConfigError(f"The {self.name} listing takes no expand values, not {name!r}.")
                close = difflib.get_close_matches(name, self.expands, n=1, cutoff=0.6)
                hint = f" Did you mean {close[0]!r}?" if close else ""
                raise ConfigError(f"Unknown expand value {name!r}.{hint} Allowed: {', '.join(self.expands)}.")
            if canonical not in out:
                out.append(canonical)
        return tuple(out)

    def normalize_expand(self, expand: Iterable[str] | str | None) -> frozenset[str]:
        """The set of expand values that add or fill columns, matched case-insensitively."""
        if not expand:
            return frozenset()
        if isinstance(expand, str):
            expand = expand.split(",")
        known = {e.lower(): e for e in self.column_expands()}
        aliases = {k.lower(): v for k, v in self.aliases.items()}
        out = set()
        for value in expand:
            key = str(value).strip().lower()
            key = aliases.get(key, key).lower()
            if key in known:
                out.add(known[key])
        return frozenset(out)

    def column_expands(self) -> tuple[str, ...]:
        """Every expand value that adds or fills a column."""
        seen: list[str] = []
        for c in self.columns:
            for e in (c.expand, c.needs):
                if e and e not in seen:
                    seen.append(e)
        return tuple(seen)

    def expand_columns(self) -> dict[str, list[str]]:
        """expand value -> the column(s) it adds or fills."""
        out: dict[str, list[str]] = {}
        for c in self.columns:
            for e in (c.expand, c.needs):
                if e:
                    out.setdefault(e, []).append(c.name)
        return out

    def expands_for(self, names: Iterable[str]) -> tuple[str, ...]:
        """The expand values that the named columns need to be filled (``date_last_login`` -> ``dateLastLogin``)."""
        wanted = set(names)
        out: list[str] = []
        for c in self.columns:
            if c.name in wanted:
                for e in (c.expand, c.needs):
                    if e and e not in out:
                        out.append(e)
        return tuple(out)

    def unfilled(self, names: Iterable[str], expand: Iterable[str] | str = ()) -> dict[str, str]:
        """The named columns that stay null (``needs``) or are absent (``expand``) with these expand values:
        column -> the expand value it lacks. ``unfilled(["date_last_login"], ())`` -> ``{"date_last_login":
        "dateLastLogin"}``."""
        have = self.normalize_expand(expand)
        wanted = set(names)
        return {c.name: e for c in self.columns if c.name in wanted
                for e in (c.expand or c.needs,) if e and e not in have}

    def with_implied(self, expand: Iterable[str] | str, names: Iterable[str]) -> tuple[str, ...]:
        """``expand`` plus the expand values the named columns need to be filled, each addition logged (INFO):
        a column someone refers to is never silently empty."""
        out = list(self.check_expand(expand))
        for column, value in self.unfilled(names, out).items():
            if value not in out:
                log.info("%s needs expand=%s: requesting it", column, value)
                out.append(value)
        return tuple(out)

    def full_polars_schema(self) -> pl.Schema:
        """Every column, as if every expand value that adds one were requested (to name any column)."""
        return self.polars_schema(self.column_expands())

    @property
    def id_column(self) -> str | None:
        """The column that holds each record's own ``id`` (for dedupe of native batches), if any."""
        return next((c.name for c in self.columns if c.source == ("id",)), None)

    def all_column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    # -- schemas -------------------------------------------------------------------------------------------------
    def columns_for(self, expand: Iterable[str] | str = ()) -> tuple[Column, ...]:
        return _columns(self, self.normalize_expand(expand))

    def column_names(self, expand: Iterable[str] | str = ()) -> list[str]:
        """The column names of a frame for these expand values, in order."""
        return [c.name for c in self.columns_for(expand)]

    def flat_column_names(self) -> list[str]:
        """The columns present whatever is expanded."""
        return [c.name for c in self.columns if c.expand is None]

    def arrow_schema(self, expand: Iterable[str] | str = ()) -> pa.Schema:
        """The schema as Arrow types (Parquet files, pandas ``ArrowDtype`` columns)."""
        return _arrow_schema(self, self.normalize_expand(expand))

    def polars_schema(self, expand: Iterable[str] | str = ()) -> pl.Schema:
        """The schema as polars types."""
        return _polars_schema(self, self.normalize_expand(expand))

    def describe(self, expand: Iterable[str] | str = ()) -> str:
        """A plain-text table of the columns and polars types (for docs and ``--help``)."""
        schema = self.polars_schema(expand)
        width = max(len(n) for n in schema)
        return "\n".join(f"{name.ljust(width)}  {dtype}" for name, dtype in schema.items())

    @property
    def native(self) -> bool:
        """Whether pages of this table can be parsed natively from their bytes."""
        return all(c.derived is None or c.derived.from_raw is not None for c in self.columns)

    # -- conversion ----------------------------------------------------------------------------------------------
    def to_arrow(self, records: list[dict], expand: Iterable[str] | str = ()) -> pa.Table:
        """Records as an Arrow table with exactly :meth:`arrow_schema` (``expand``)."""
        exp = self.normalize_expand(expand)
        raw_schema = _raw_schema(self, exp)
        try:
            raw = pa.Table.from_pylist(records, schema=raw_schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
            raw = pa.Table.from_pylist(_coerce_records(records, raw_schema), schema=raw_schema)
        derived = {c.name: c.derived.from_records(records) for c in _columns(self, exp) if c.derived is not None}
        return _finish(self, raw, exp, derived)

    def to_polars(self, records: list[dict], expand: Iterable[str] | str = ()) -> pl.DataFrame:
        """Records as a polars DataFrame with exactly :meth:`polars_schema` (``expand``), even when empty."""
        import polars as pl
        # An Arrow table converts to a DataFrame (pyarrow is untyped, so polars' overloads cannot tell).
        return cast("pl.DataFrame", pl.from_arrow(self.to_arrow(records, expand)))

    def page_to_arrow(self, body: bytes, expand: Iterable[str] | str = ()) -> tuple[Any, pa.Table | None]:
        """A listing page's raw bytes as ``(envelope, table)``: ``table`` is exactly what
        ``to_arrow(orjson.loads(body)["entities"], expand)`` gives, and ``envelope`` holds the page's paging fields
        with ``entities`` set to ``table``. A page the native parse cannot read exactly (a value of the wrong JSON
        type, a duplicated key, a null record...) goes through ``orjson`` and :meth:`to_arrow`: same result,
        slower; ``(body, None)`` when the body has no list of records. ``ValueError`` when it is not JSON."""
        exp = self.normalize_expand(expand)
        try:
            native = read_page(self, body, exp) if body and self.native else None
        except _PARSE_ERRORS:
            native = None
        if native is not None:
            return native
        data = orjson.loads(body)
        if isinstance(data, dict):
            for key in ITEM_KEYS:
                if isinstance(data.get(key), list):
                    table = self.to_arrow(data[key], exp)
                    return {**data, key: table}, table
        return data, None


@lru_cache(maxsize=256)
def _columns(table: TableSchema, expand: frozenset[str]) -> tuple[Column, ...]:
    return tuple(c for c in table.columns if c.expand is None or c.expand in expand)


@lru_cache(maxsize=256)
def _arrow_schema(table: TableSchema, expand: frozenset[str]) -> pa.Schema:
    return pa.schema([pa.field(c.name, c.type) for c in _columns(table, expand)])


@lru_cache(maxsize=256)
def _polars_schema(table: TableSchema, expand: frozenset[str]) -> pl.Schema:
    import polars as pl

    # An Arrow table converts to a DataFrame (pyarrow is untyped, so polars' overloads cannot tell).
    # Table.from_batches, not Schema.empty_table(): that one imports pandas (a second's start-up for the CLI).
    frame = cast("pl.DataFrame", pl.from_arrow(pa.Table.from_batches([], schema=_arrow_schema(table, expand))))
    return pl.Schema(frame.schema)


# -- raw schema: what from_pylist reads ---------------------------------------------------------------------------
def _rawify(t: pa.DataType) -> pa.DataType:
    """The type a column is read as from JSON: timestamps and dates as text, recursively."""
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return S
    if pa.types.is_struct(t):
        return pa.struct([pa.field(f.name, _rawify(f.type)) for f in t])
    if pa.types.is_list(t):
        return pa.list_(_rawify(t.value_type))
    return t


def _temporal(t: pa.DataType) -> bool:
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return True
    if pa.types.is_struct(t):
        return any(_temporal(f.type) for f in t)
    if pa.types.is_list(t):
        return _temporal(t.value_type)
    return False


@lru_cache(maxsize=256)
def _raw_schema(table: TableSchema, expand: frozenset[str]) -> pa.Schema:
    tree: dict[str, Any] = {}
    for c in _columns(table, expand):
        if c.derived is not None:  # computed by its own functions, from fields the native parse reads for it
            continue
        node = tree
        for key in c.source[:-1]:
            node = node.setdefault(key, {})
        node[c.source[-1]] = _rawify(c.type)

    def build(node: dict) -> list[pa.Field]:
        return [pa.field(k, pa.struct(build(v)) if isinstance(v, dict) else v) for k, v in node.items()]

    return pa.schema(build(tree))


# -- native path: a page's bytes straight into Arrow ---------------------------------------------------------------
#: The fields of a listing page that hold records, in the order the paging layer looks for them.
ITEM_KEYS = ("entities", "results")
_PARSE_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)


@lru_cache(maxsize=256)
def _page_parse_options(table: TableSchema, expand: frozenset[str]) -> pj.ParseOptions:
    """The whole page as one JSON row: the records under ``entities`` with the raw schema (plus the fields derived
    columns read), and the envelope fields the paging styles read."""
    extra = [f for c in _columns(table, expand) if c.derived is not None for f in c.derived.raw_fields]
    record = pa.struct(list(_raw_schema(table, expand)) + extra)
    # Only ``entities`` is read natively: the cursor endpoint's ``results`` is a count, the search endpoint's a list
    # (search pages take the dict path).
    fields = [pa.field("entities", pa.list_(record))]
    fields += [pa.field(k, S) for k in ("cursor", "nextUri", "nextPage", "previousUri", "selfUri", "firstUri",
                                        "lastUri")]
    fields += [pa.field(k, pa.int64()) for k in ("pageSize", "pageNumber", "pageCount", "total")]
    fields.append(pa.field("cursors", struct(before=S, after=S)))
    return pj.ParseOptions(explicit_schema=pa.schema(fields), unexpected_field_behavior="ignore")


def read_page(table: TableSchema, body: bytes, exp: frozenset[str]) -> tuple[dict, pa.Table] | None:
    """The native parse of a page, or None when the page must take the dict path."""
    read = pj.ReadOptions(use_threads=False, block_size=max(len(body) + 1, 1 << 16))
    page = pj.read_json(pa.BufferReader(body), read_options=read, parse_options=_page_parse_options(table, exp))
    if page.num_rows != 1:
        return None
    envelope: dict[str, Any] = {}
    key = None
    for name in page.column_names:
        column = page.column(name)
        if column.null_count:
            continue
        if name == "entities":
            key = name
            continue
        envelope[name] = column[0].as_py()
    if key is None:
        return None
    records = column_array(page, key).flatten()
    if records.null_count:
        return None
    raw = pa.Table.from_struct_array(records)
    derived = {c.name: c.derived.from_raw(raw) for c in _columns(table, exp)
               if c.derived is not None and c.derived.from_raw is not None}
    result = _finish(table, raw, exp, derived)
    envelope[key] = result
    return envelope, result


# Column building avoids Arrow calls that release the GIL where it can: each release hands the interpreter to the
# thread fetching the next page, and getting it back can cost a whole switch interval (5 ms) per call.
_NULLS: dict[pa.DataType, pa.Array] = {}


def all_null(t: pa.DataType, n: int) -> pa.Array:
    cached = _NULLS.get(t)
    if cached is None or len(cached) < n:
        cached = _NULLS[t] = pa.nulls(max(n, 1024), t)
    return cached.slice(0, n)


def struct_child(arr: pa.StructArray, key: str) -> pa.Array:
    """A struct's field, null wherever the struct itself is null."""
    index = arr.type.get_field_index(key)
    if not arr.null_count:
        return arr.field(index)
    flattened = getattr(arr, "_flattened_field", None)
    return flattened(index) if flattened is not None else pc.struct_field(arr, [index])


def column_array(raw: pa.Table, name: str) -> pa.Array:
    col = raw.column(name)
    if col.num_chunks == 1:
        return col.chunk(0)
    return col.combine_chunks() if col.num_chunks else pa.array([], col.type)


def _finish(table: TableSchema, raw: pa.Table, exp: frozenset[str], derived: dict[str, pa.Array]) -> pa.Table:
    n = raw.num_rows
    arrays = []
    for c in _columns(table, exp):
        if c.derived is not None:
            arr = derived[c.name]
        else:
            arr = column_array(raw, c.source[0])
            for key in c.source[1:]:
                arr = struct_child(arr, key)
            if arr.null_count == n:
                arr = all_null(c.type, n)  # e.g. a date column that was not expanded: nothing to parse
            elif _temporal(c.type):
                arr = _to_final(arr, c.type)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=_arrow_schema(table, exp))


def _to_final(arr: pa.Array, target: pa.DataType) -> pa.Array:
    """Turn a raw column (temporal values as text) into its final type, recursively through structs and lists."""
    if pa.types.is_timestamp(target) or pa.types.is_date(target):
        return _parse_temporal(arr, target)
    if pa.types.is_struct(target):
        if not _temporal(target):
            return arr
        children = arr.flatten()  # children carry the parent's nulls
        fields = [pa.field(f.name, f.type) for f in target]
        kids = [_to_final(child, f.type) for child, f in zip(children, target)]
        return pa.StructArray.from_arrays(kids, fields=fields, mask=arr.is_null() if arr.null_count else None)
    if pa.types.is_list(target):
        if not _temporal(target):
            return arr
        values = _to_final(arr.values, target.value_type)
        return pa.ListArray.from_arrays(arr.offsets, values, type=target,
                                        mask=arr.is_null() if arr.null_count else None)
    return arr


def _parse_temporal(arr: pa.Array, target: pa.DataType) -> pa.Array:
    try:
        return arr.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    # Odd values (local times, nanoseconds, a date given as a timestamp...): parse leniently, null what fails.
    import polars as pl

    # An Arrow array converts to a Series (pyarrow is untyped, so polars' overloads cannot tell).
    series = cast("pl.Series", pl.from_arrow(arr)) if len(arr) else pl.Series([], dtype=pl.String)
    if pa.types.is_date(target):
        parsed = series.str.slice(0, 10).str.to_date("%Y-%m-%d", strict=False)
    else:
        parsed = series.str.to_datetime(time_unit="us", time_zone="UTC", strict=False)
    bad = int(parsed.null_count() - series.null_count())
    if bad:
        log.warning("%d timestamp value(s) did not parse and became null", bad)
    return parsed.to_arrow().cast(target)


# -- slow path: records whose values do not have the JSON types the schema expects -----------------------------------
def _coerce_records(records: list[dict], schema: pa.Schema) -> list[dict]:
    bad = [0]
    out = []
    for rec in records:
        if not isinstance(rec, dict):
            bad[0] += 1
            out.append({})
            continue
        out.append({f.name: _coerce(rec.get(f.name), f.type, bad) for f in schema})
    if bad[0]:
        log.warning("%d value(s) in %d record(s) did not have the expected JSON type; they were converted or "
                    "set to null", bad[0], len(records))
    return out


def _coerce(value: Any, t: pa.DataType, bad: list[int]) -> Any:
    if value is None:
        return None
    if pa.types.is_string(t):
        if isinstance(value, str):
            return value
        bad[0] += 1
        if isinstance(value, (bool, int, float)):
            return orjson.dumps(value).decode()
        return orjson.dumps(value, default=str).decode()
    if pa.types.is_boolean(t):
        if isinstance(value, bool):
            return value
        bad[0] += 1
        return {"true": True, "false": False}.get(str(value).lower())
    if pa.types.is_integer(t):
        if isinstance(value, int) and not isinstance(value, bool) and -(2 ** 63) <= value < 2 ** 63:
            return value
        bad[0] += 1
        try:
            f = float(value)
            return int(f) if f.is_integer() and abs(f) < 2 ** 63 else None
        except (TypeError, ValueError):
            return None
    if pa.types.is_floating(t):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        bad[0] += 1
        try:
            return float(value)
        except (TypeError, ValueError):
            return None
    if pa.types.is_struct(t):
        if isinstance(value, dict):
            return {f.name: _coerce(value.get(f.name), f.type, bad) for f in t}
        bad[0] += 1
        return None
    if pa.types.is_list(t):
        if isinstance(value, list):
            return [_coerce(v, t.value_type, bad) for v in value]
        bad[0] += 1
        return None
    return value
