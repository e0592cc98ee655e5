"""The fixed user schema: one set of columns and types for every page, chunk, frame and file.

Records (the API's camelCase User JSON) become an Arrow table through ``pyarrow.Table.from_pylist`` with a fixed
*raw* schema (timestamps read as text, keys the schema does not name are dropped), then the columns are picked out
and typed with vectorised Arrow compute: no Python loop over records, so a page of 500 users converts in about a
millisecond. The same schema comes out for an empty result, for a page where every optional field is missing,
and for every chunk of a long listing: nothing is inferred from the data.

Flat columns (always present, in this order):

==================  =====================  ==========================================================================
column              type                   from the User JSON
==================  =====================  ==========================================================================
id                  String                 ``id``
name                String                 ``name``
email               String                 ``email`` (null when the user has none)
username            String                 ``username``
state               String                 ``state``: ``active``, ``inactive`` or ``deleted``
title               String                 ``title``
department          String                 ``department``
division_id         String                 ``division.id``
division_name       String                 ``division.name``
manager_id          String                 ``manager.id``
primary_phone       String                 first ``PHONE`` entry of ``primaryContactInfo``, else of ``addresses``:
                                           its ``address`` (E.164), else its ``display`` (e.g. an extension)
chat_jabber_id      String                 ``chat.jabberId``
acd_auto_answer     Boolean                ``acdAutoAnswer``
version             Int64                  ``version``
date_last_login     Datetime(us, UTC)      ``dateLastLogin``: only sent with ``expand=dateLastLogin``, null otherwise
date_welcome_sent   Datetime(us, UTC)      ``dateWelcomeSent``: only sent with ``expand=dateWelcomeSent``, null
                                           otherwise
self_uri            String                 ``selfUri``
==================  =====================  ==========================================================================

``date_last_login`` and ``date_welcome_sent`` are always present (null unless expanded) so that the flat part of
the schema never depends on ``expand``. Everything below appears only when its expand value is requested; nested
columns keep the API's own field names inside (camelCase), and their timestamps are real datetimes too:

=========================  ========================  ===========================================================
expand                     column                    type
=========================  ========================  ===========================================================
routingStatus              routing_status            Struct{userId, status, startTime: Datetime}
presence                   presence                  Struct{source, primary: Boolean, presenceDefinition:
                                                     Struct{id, systemPresence}, message, modifiedDate: Datetime}
integrationPresence        integration_presence      same as presence
outOfOffice                out_of_office             Struct{id, active: Boolean, indefinite: Boolean,
                                                     startDate: Datetime, endDate: Datetime}
geolocation                geolocation               Struct{id, type, primary: Boolean, latitude: Float64,
                                                     longitude: Float64, country, region, city}
station                    station                   Struct{associatedStation, effectiveStation, defaultStation,
                                                     lastAssociatedStation}, each Struct{id, name}
authorization              authorization             Struct{roles: List(Struct{id, name}), unusedRoles:
 (or authorization.                                  List(Struct{id, name}), permissions: List(String)}
 unusedRoles)
lasttokenissued            last_token_issued         Datetime (``lastTokenIssued.dateIssued``)
team                       team                      Struct{id, name}
groups                     groups                    List(Struct{id, name})
profileSkills              profile_skills            List(String)
certifications             certifications            List(String)
locations                  locations                 List(Struct{id, floorplanId, notes, locationDefinition:
                                                     Struct{id, name}})
skills                     skills                    List(Struct{id, name, proficiency: Float64, state})
languages                  languages                 List(Struct{id, name, proficiency: Float64, state})
languagePreference         language_preference       String
employerInfo               employer_info             Struct{officialName, employeeId, employeeType, dateHire: Date}
biography                  biography                 Struct{biography, interests: List(String), hobbies:
                                                     List(String), spouse, education: List(Struct{school,
                                                     fieldOfStudy, notes, dateStart: Date, dateEnd: Date})}
dateLastLogin              date_last_login           (flat column above)
dateWelcomeSent            date_welcome_sent         (flat column above)
=========================  ========================  ===========================================================

The expand values ``conversationSummary``, ``workPlanBidRanks``, ``externalContactsSettings`` and
``customAttributes`` are sent to the API when asked for, but their data is not kept in frames or files (their
shapes vary by org); any field the schema does not name is dropped, so unknown data never changes the schema.
A value of the wrong JSON type is converted when that is lossless (a number where text is expected) and
otherwise becomes null, with a warning in the log; a timestamp that does not parse becomes null.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np
import orjson
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pj

__all__ = ["USER_COLUMNS", "EXPAND_COLUMNS", "Column", "user_schema", "user_arrow_schema", "users_to_arrow",
           "users_page_to_arrow", "users_to_polars", "user_columns", "normalize_expand", "schema_table", "ITEM_KEYS"]

log = logging.getLogger("genesys_nb.schema")

S = pa.string()
TS = pa.timestamp("us", tz="UTC")
DATE = pa.date32()


def _struct(**fields: pa.DataType) -> pa.StructType:
    return pa.struct(list(fields.items()))


_REF = _struct(id=S, name=S)
_PRESENCE = _struct(source=S, primary=pa.bool_(), presenceDefinition=_struct(id=S, systemPresence=S), message=S,
                    modifiedDate=TS)
_ROUTING_ENTRY = pa.list_(_struct(id=S, name=S, proficiency=pa.float64(), state=S))


@dataclass(frozen=True)
class Column:
    """One output column: its name, where it comes from in the record, its type, and the expand that brings it."""

    name: str
    source: tuple[str, ...]
    type: pa.DataType
    expand: str | None = None
    doc: str = ""


#: Every column the toolkit knows, in output order. ``expand=None``: always present.
COLUMNS: tuple[Column, ...] = (
    Column("id", ("id",), S),
    Column("name", ("name",), S),
    Column("email", ("email",), S),
    Column("username", ("username",), S),
    Column("state", ("state",), S),
    Column("title", ("title",), S),
    Column("department", ("department",), S),
    Column("division_id", ("division", "id"), S),
    Column("division_name", ("division", "name"), S),
    Column("manager_id", ("manager", "id"), S),
    Column("primary_phone", ("primaryContactInfo",), S, doc="first PHONE contact"),
    Column("chat_jabber_id", ("chat", "jabberId"), S),
    Column("acd_auto_answer", ("acdAutoAnswer",), pa.bool_()),
    Column("version", ("version",), pa.int64()),
    Column("date_last_login", ("dateLastLogin",), TS),
    Column("date_welcome_sent", ("dateWelcomeSent",), TS),
    Column("self_uri", ("selfUri",), S),
    # nested, only when expanded
    Column("routing_status", ("routingStatus",), _struct(userId=S, status=S, startTime=TS), "routingStatus"),
    Column("presence", ("presence",), _PRESENCE, "presence"),
    Column("integration_presence", ("integrationPresence",), _PRESENCE, "integrationPresence"),
    Column("out_of_office", ("outOfOffice",),
           _struct(id=S, active=pa.bool_(), indefinite=pa.bool_(), startDate=TS, endDate=TS), "outOfOffice"),
    Column("geolocation", ("geolocation",),
           _struct(id=S, type=S, primary=pa.bool_(), latitude=pa.float64(), longitude=pa.float64(), country=S,
                   region=S, city=S), "geolocation"),
    Column("station", ("station",),
           _struct(associatedStation=_REF, effectiveStation=_REF, defaultStation=_REF, lastAssociatedStation=_REF),
           "station"),
    Column("authorization", ("authorization",),
           _struct(roles=pa.list_(_REF), unusedRoles=pa.list_(_REF), permissions=pa.list_(S)), "authorization"),
    Column("last_token_issued", ("lastTokenIssued", "dateIssued"), TS, "lasttokenissued"),
    Column("team", ("team",), _REF, "team"),
    Column("groups", ("groups",), pa.list_(_REF), "groups"),
    Column("profile_skills", ("profileSkills",), pa.list_(S), "profileSkills"),
    Column("certifications", ("certifications",), pa.list_(S), "certifications"),
    Column("locations", ("locations",),
           pa.list_(_struct(id=S, floorplanId=S, notes=S, locationDefinition=_REF)), "locations"),
    Column("skills", ("skills",), _ROUTING_ENTRY, "skills"),
    Column("languages", ("languages",), _ROUTING_ENTRY, "languages"),
    Column("language_preference", ("languagePreference",), S, "languagePreference"),
    Column("employer_info", ("employerInfo",),
           _struct(officialName=S, employeeId=S, employeeType=S, dateHire=DATE), "employerInfo"),
    Column("biography", ("biography",),
           _struct(biography=S, interests=pa.list_(S), hobbies=pa.list_(S), spouse=S,
                   education=pa.list_(_struct(school=S, fieldOfStudy=S, notes=S, dateStart=DATE, dateEnd=DATE))),
           "biography"),
)

#: The flat columns, in order (present in every user frame and file).
USER_COLUMNS: list[str] = [c.name for c in COLUMNS if c.expand is None]
#: expand value -> the column(s) it adds.
EXPAND_COLUMNS: dict[str, list[str]] = {}
for _c in COLUMNS:
    if _c.expand is not None:
        EXPAND_COLUMNS.setdefault(_c.expand, []).append(_c.name)
EXPAND_COLUMNS["dateLastLogin"] = ["date_last_login"]
EXPAND_COLUMNS["dateWelcomeSent"] = ["date_welcome_sent"]

# Expand spellings that bring the same column as another.
_ALIASES = {"authorization.unusedroles": "authorization"}


def normalize_expand(expand: Iterable[str] | str | None) -> frozenset[str]:
    """The set of expand values that add columns, matched case-insensitively (``'groups,skills'`` works too)."""
    if not expand:
        return frozenset()
    if isinstance(expand, str):
        expand = expand.split(",")
    known = {c.expand.lower(): c.expand for c in COLUMNS if c.expand}
    out = set()
    for value in expand:
        key = str(value).strip().lower()
        key = _ALIASES.get(key, key)
        if key in known:
            out.add(known[key])
    return frozenset(out)


@lru_cache(maxsize=64)
def _columns(expand: frozenset[str]) -> tuple[Column, ...]:
    return tuple(c for c in COLUMNS if c.expand is None or c.expand in expand)


def user_columns(expand: Iterable[str] | str = ()) -> list[str]:
    """The column names of a user frame for these expand values, in order."""
    return [c.name for c in _columns(normalize_expand(expand))]


def user_arrow_schema(expand: Iterable[str] | str = ()) -> pa.Schema:
    """The user schema as Arrow types (used for Parquet files and pandas ``ArrowDtype`` columns)."""
    return _arrow_schema(normalize_expand(expand))


@lru_cache(maxsize=64)
def _arrow_schema(expand: frozenset[str]) -> pa.Schema:
    return pa.schema([pa.field(c.name, c.type) for c in _columns(expand)])


def user_schema(expand: Iterable[str] | str = ()) -> pl.Schema:
    """The user schema as polars types: the flat columns plus Struct/List columns for the expand values."""
    return _polars_schema(normalize_expand(expand))


@lru_cache(maxsize=64)
def _polars_schema(expand: frozenset[str]) -> pl.Schema:
    return pl.Schema(pl.from_arrow(_arrow_schema(expand).empty_table()).schema)


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


@lru_cache(maxsize=64)
def _raw_schema(expand: frozenset[str]) -> pa.Schema:
    tree: dict[str, Any] = {}
    for c in _columns(expand):
        if c.name == "primary_phone":  # found by _phones(), straight from the records
            continue
        node = tree
        for key in c.source[:-1]:
            node = node.setdefault(key, {})
        node[c.source[-1]] = _rawify(c.type)

    def build(node: dict) -> list[pa.Field]:
        return [pa.field(k, pa.struct(build(v)) if isinstance(v, dict) else v) for k, v in node.items()]

    return pa.schema(build(tree))


# -- conversion ---------------------------------------------------------------------------------------------------
def users_to_arrow(records: list[dict], expand: Iterable[str] | str = ()) -> pa.Table:
    """User records (the API's JSON) as an Arrow table with exactly :func:`user_arrow_schema` (``expand``)."""
    exp = normalize_expand(expand)
    raw_schema = _raw_schema(exp)
    try:
        raw = pa.Table.from_pylist(records, schema=raw_schema)
    except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, OverflowError):
        raw = pa.Table.from_pylist(_coerce_records(records, raw_schema), schema=raw_schema)
    return _finish(raw, exp, _phones(records))


def users_to_polars(records: list[dict], expand: Iterable[str] | str = ()) -> pl.DataFrame:
    """User records as a polars DataFrame with exactly :func:`user_schema` (``expand``), even when empty."""
    return pl.from_arrow(users_to_arrow(records, expand))  # type: ignore[return-value]


# -- native path: a page's bytes straight into Arrow ---------------------------------------------------------------
#: The fields of a listing page that hold user records, in the order the paging layer looks for them.
ITEM_KEYS = ("entities", "results")
_CONTACT = _struct(mediaType=S, address=S, display=S)
_CONTACTS = ("primaryContactInfo", "addresses")
_PARSE_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError)


@lru_cache(maxsize=64)
def _page_parse_options(expand: frozenset[str]) -> pj.ParseOptions:
    """The whole page as one JSON row: the records under ``entities``/``results`` with the raw user schema (plus
    the contact lists that give ``primary_phone``), and the envelope fields the paging styles read."""
    user = pa.struct(list(_raw_schema(expand)) + [pa.field(k, pa.list_(_CONTACT)) for k in _CONTACTS])
    # Only ``entities`` is read natively: the cursor endpoint's ``results`` is a count, the search endpoint's a list
    # (search pages take the dict path).
    fields = [pa.field("entities", pa.list_(user))]
    fields += [pa.field(k, S) for k in ("cursor", "nextUri", "nextPage", "previousUri", "selfUri", "firstUri",
                                        "lastUri")]
    fields += [pa.field(k, pa.int64()) for k in ("pageSize", "pageNumber", "pageCount", "total")]
    fields.append(pa.field("cursors", _struct(before=S, after=S)))
    return pj.ParseOptions(explicit_schema=pa.schema(fields), unexpected_field_behavior="ignore")


def users_page_to_arrow(body: bytes, expand: Iterable[str] | str = ()) -> tuple[Any, pa.Table | None]:
    """A users listing page's raw bytes as ``(envelope, table)``: ``table`` is exactly what
    ``users_to_arrow(orjson.loads(body)["entities"], expand)`` gives, and ``envelope`` holds the page's paging fields
    with the records' field (``entities`` or ``results``) set to ``table``.

    ``pyarrow.json`` parses the page without building a Python object per value (and without the GIL, so it overlaps
    the thread that writes the previous page). A page it cannot read exactly (a value of the wrong JSON type, a
    duplicated key, a null record...) goes through ``orjson`` and :func:`users_to_arrow` instead: same result, slower.
    That fallback returns ``(body, None)`` when the body has no list of records; the body is then used as it is.
    Raises ``ValueError`` (``orjson.JSONDecodeError``) when the body is not JSON at all."""
    exp = normalize_expand(expand)
    try:
        native = _read_page(body, exp) if body else None
    except _PARSE_ERRORS:
        native = None
    if native is not None:
        return native
    data = orjson.loads(body)
    if isinstance(data, dict):
        for key in ITEM_KEYS:
            if isinstance(data.get(key), list):
                table = users_to_arrow(data[key], exp)
                return {**data, key: table}, table
    return data, None


def _read_page(body: bytes, exp: frozenset[str]) -> tuple[dict, pa.Table] | None:
    """The native parse, or None when the page must take the dict path."""
    read = pj.ReadOptions(use_threads=False, block_size=max(len(body) + 1, 1 << 16))
    page = pj.read_json(pa.BufferReader(body), read_options=read, parse_options=_page_parse_options(exp))
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
    users = _column(page, key).flatten()
    if users.null_count:
        return None
    raw = pa.Table.from_struct_array(users)
    table = _finish(raw, exp, _arrow_phones(raw))
    envelope[key] = table
    return envelope, table


def _arrow_phones(raw: pa.Table) -> pa.Array:
    """:func:`_phones` with Arrow compute on the contact lists: per user the address (else display) of the first
    PHONE contact with either, in ``primaryContactInfo``, else in ``addresses``."""
    n = raw.num_rows
    found = []
    for key in _CONTACTS:
        lists = _column(raw, key)
        contacts = lists.flatten()
        if not len(contacts):
            continue
        address, display = _child(contacts, "address"), _child(contacts, "display")
        value = pc.if_else(pc.fill_null(pc.greater(pc.utf8_length(address), 0), False), address, display)
        usable = pc.and_(pc.fill_null(pc.equal(_child(contacts, "mediaType"), "PHONE"), False),
                         pc.fill_null(pc.greater(pc.utf8_length(value), 0), False))
        at = np.flatnonzero(usable.to_numpy(zero_copy_only=False))
        if not len(at):
            continue
        owners = pc.list_parent_indices(lists).to_numpy()[at]
        first = np.ones(len(at), dtype=bool)
        first[1:] = owners[1:] != owners[:-1]
        pick = np.full(n, -1, dtype=np.int64)
        pick[owners[first]] = at[first]
        found.append(value.take(pa.array(pick, mask=pick < 0)))
    if not found:
        return _all_null(S, n)
    return found[0] if len(found) == 1 else pc.coalesce(*found)


# Column building avoids Arrow calls that release the GIL where it can: each release hands the interpreter to the
# thread fetching the next page, and getting it back can cost a whole switch interval (5 ms) per call.
_NULLS: dict[pa.DataType, pa.Array] = {}


def _all_null(t: pa.DataType, n: int) -> pa.Array:
    cached = _NULLS.get(t)
    if cached is None or len(cached) < n:
        cached = _NULLS[t] = pa.nulls(max(n, 1024), t)
    return cached.slice(0, n)


def _child(arr: pa.StructArray, key: str) -> pa.Array:
    """A struct's field, null wherever the struct itself is null."""
    index = arr.type.get_field_index(key)
    if not arr.null_count:
        return arr.field(index)
    flattened = getattr(arr, "_flattened_field", None)
    return flattened(index) if flattened is not None else pc.struct_field(arr, [index])


def _column(raw: pa.Table, name: str) -> pa.Array:
    col = raw.column(name)
    if col.num_chunks == 1:
        return col.chunk(0)
    return col.combine_chunks() if col.num_chunks else pa.array([], col.type)


def _finish(raw: pa.Table, exp: frozenset[str], phones: pa.Array) -> pa.Table:
    n = raw.num_rows
    arrays = []
    for c in _columns(exp):
        if c.name == "primary_phone":
            arr = phones
        else:
            arr = _column(raw, c.source[0])
            for key in c.source[1:]:
                arr = _child(arr, key)
            if arr.null_count == n:
                arr = _all_null(c.type, n)  # e.g. a date column that was not expanded: nothing to parse
            elif _temporal(c.type):
                arr = _to_final(arr, c.type)
        arrays.append(arr)
    return pa.Table.from_arrays(arrays, schema=_arrow_schema(exp))


def _phone_of(record: dict) -> str | None:
    for key in ("primaryContactInfo", "addresses"):
        for contact in record.get(key) or ():
            if contact.get("mediaType") == "PHONE":
                value = contact.get("address") or contact.get("display")
                if value:
                    return value
    return None


def _phone_of_any(record: Any) -> str | None:
    """:func:`_phone_of` for records that may not have the expected shapes."""
    if not isinstance(record, dict):
        return None
    for key in ("primaryContactInfo", "addresses"):
        contacts = record.get(key)
        for contact in contacts if isinstance(contacts, list) else ():
            if isinstance(contact, dict) and contact.get("mediaType") == "PHONE":
                value = contact.get("address") or contact.get("display")
                if isinstance(value, str) and value:
                    return value
    return None


def _phones(records: list[dict]) -> pa.Array:
    """Per record, the address (else display) of the first PHONE contact in primaryContactInfo, else in addresses.

    A plain loop over the few contacts of each user: cheaper than reading every contact list into Arrow."""
    try:
        return pa.array([_phone_of(r) for r in records], S)
    except (AttributeError, TypeError, pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([_phone_of_any(r) for r in records], S)


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
    series = pl.from_arrow(arr) if len(arr) else pl.Series([], dtype=pl.String)
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
        log.warning("%d value(s) in %d user record(s) did not have the expected JSON type; they were converted or "
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


def schema_table(expand: Iterable[str] | str = ()) -> str:
    """A plain-text table of the columns and polars types for these expand values (for docs and ``--help``)."""
    schema = user_schema(expand)
    width = max(len(n) for n in schema)
    return "\n".join(f"{name.ljust(width)}  {dtype}" for name, dtype in schema.items())
