"""The users resource: the user endpoints, their argument checks and plans, and the fixed user schema.

Users are listed through the cursor endpoint ``GET /api/v2/users/query`` when the OAuth client may use it (it
needs ``directory:user:view`` in all divisions), which returns each user exactly once even while the directory
changes. When that endpoint is missing (404) or forbidden (403) the listing falls back to page numbers on
``GET /api/v2/users``, which can skip or repeat users that are created or removed mid-run: repeats are dropped and
a warning says how many users may have been missed.

The fixed user schema: one set of columns and types for every page, chunk, frame and file.

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

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..errors import Arg, BadRequest, ConfigError, DeepPagingLimit, GenesysError, NotFound, PermissionDenied
from .._paging.paginators import CursorPaginator, PageNumberPaginator, PageRequest, SearchPaginator
from .._paging.stream import Plan
from .._tables.schema import (DATE, S, TS, Column, Derived, TableSchema, all_null, column_array, struct,
                              struct_child)
if TYPE_CHECKING:  # polars loads on first use
    import polars as pl

from .base import ListingSpec, Resource, check_choice, check_page_size as _check_page_size, register

__all__ = ["STATES", "EXPANDS", "MAX_PAGE_SIZE", "USERS", "USER_COLUMNS", "EXPAND_COLUMNS", "check_state",
           "check_expand", "check_page_size", "user_plans", "users_spec", "search_spec", "UsersPageNumberPaginator",
           "INACTIVE_CAP", "user_schema", "user_arrow_schema", "users_to_arrow", "users_to_polars",
           "users_page_to_arrow", "user_columns", "normalize_expand", "schema_table", "state_pushdown", "pushdown"]

#: The user states a listing can ask for; "any" lists every user.
STATES = ("active", "inactive", "deleted", "any")
#: The states a user record can be in.
RECORD_STATES = ("active", "inactive", "deleted")
EXPANDS = ("routingStatus", "presence", "integrationPresence", "conversationSummary", "outOfOffice", "geolocation",
           "station", "authorization", "lasttokenissued", "authorization.unusedRoles", "team", "workPlanBidRanks",
           "externalContactsSettings", "groups", "customAttributes", "profileSkills", "certifications", "locations",
           "skills", "languages", "languagePreference", "employerInfo", "biography", "dateLastLogin",
           "dateWelcomeSent")
#: The expands an access snapshot lists users with: roles, groups, skills and languages come with each user, so
#: nothing is ever asked per user.
ACCESS_EXPAND = ("authorization", "groups", "skills", "languages", "dateLastLogin")
MAX_PAGE_SIZE = 500
SEARCH_MAX_PAGE_SIZE = 100
INACTIVE_CAP = 10_000
STRATEGY_CHOICES = ("auto", "cursor", "pages")
USERS_PATH = "/api/v2/users"
QUERY_PATH = "/api/v2/users/query"
SEARCH_PATH = "/api/v2/users/search"
EXACT_ADVICE = (f"the cursor endpoint {QUERY_PATH} (the OAuth client needs directory:user:view in all divisions; "
                f"strategy='auto' or 'cursor')")


# -- primary_phone: derived from two contact lists ---------------------------------------------------------------
_CONTACT = struct(mediaType=S, address=S, display=S)
_CONTACTS = ("primaryContactInfo", "addresses")


def _arrow_phones(raw: pa.Table) -> pa.Array:
    """:func:`_phones` with Arrow compute on the contact lists: per user the address (else display) of the first
    PHONE contact with either, in ``primaryContactInfo``, else in ``addresses``."""
    n = raw.num_rows
    found = []
    for key in _CONTACTS:
        lists = column_array(raw, key)
        contacts = lists.flatten()
        if not len(contacts):
            continue
        address, display = struct_child(contacts, "address"), struct_child(contacts, "display")
        value = pc.if_else(pc.fill_null(pc.greater(pc.utf8_length(address), 0), False), address, display)
        usable = pc.and_(pc.fill_null(pc.equal(struct_child(contacts, "mediaType"), "PHONE"), False),
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
        return all_null(S, n)
    return found[0] if len(found) == 1 else pc.coalesce(*found)



def _phone_of(record: Any) -> str | None:
    """The address (else display) of a record's first PHONE contact in primaryContactInfo, else in addresses; None
    for records without one, or whose shapes are not the API's."""
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
    return pa.array([_phone_of(r) for r in records], S)



_PHONE = Derived(raw_fields=tuple(pa.field(k, pa.list_(_CONTACT)) for k in _CONTACTS), from_records=_phones,
                 from_raw=_arrow_phones)

_REF = struct(id=S, name=S)
_PRESENCE = struct(source=S, primary=pa.bool_(), presenceDefinition=struct(id=S, systemPresence=S), message=S,
                    modifiedDate=TS)
_ROUTING_ENTRY = pa.list_(struct(id=S, name=S, proficiency=pa.float64(), state=S))


#: Every user column, in output order. ``expand=None``: always present.
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
    Column("primary_phone", ("primaryContactInfo",), S, doc="first PHONE contact", derived=_PHONE),
    Column("chat_jabber_id", ("chat", "jabberId"), S),
    Column("acd_auto_answer", ("acdAutoAnswer",), pa.bool_()),
    Column("version", ("version",), pa.int64()),
    Column("date_last_login", ("dateLastLogin",), TS, needs="dateLastLogin"),
    Column("date_welcome_sent", ("dateWelcomeSent",), TS, needs="dateWelcomeSent"),
    Column("self_uri", ("selfUri",), S),
    # nested, only when expanded
    Column("routing_status", ("routingStatus",), struct(userId=S, status=S, startTime=TS), "routingStatus"),
    Column("presence", ("presence",), _PRESENCE, "presence"),
    Column("integration_presence", ("integrationPresence",), _PRESENCE, "integrationPresence"),
    Column("out_of_office", ("outOfOffice",),
           struct(id=S, active=pa.bool_(), indefinite=pa.bool_(), startDate=TS, endDate=TS), "outOfOffice"),
    Column("geolocation", ("geolocation",),
           struct(id=S, type=S, primary=pa.bool_(), latitude=pa.float64(), longitude=pa.float64(), country=S,
                   region=S, city=S), "geolocation"),
    Column("station", ("station",),
           struct(associatedStation=_REF, effectiveStation=_REF, defaultStation=_REF, lastAssociatedStation=_REF),
           "station"),
    Column("authorization", ("authorization",),
           struct(roles=pa.list_(_REF), unusedRoles=pa.list_(_REF), permissions=pa.list_(S)), "authorization"),
    Column("last_token_issued", ("lastTokenIssued", "dateIssued"), TS, "lasttokenissued"),
    Column("team", ("team",), _REF, "team"),
    Column("groups", ("groups",), pa.list_(_REF), "groups"),
    Column("profile_skills", ("profileSkills",), pa.list_(S), "profileSkills"),
    Column("certifications", ("certifications",), pa.list_(S), "certifications"),
    Column("locations", ("locations",),
           pa.list_(struct(id=S, floorplanId=S, notes=S, locationDefinition=_REF)), "locations"),
    Column("skills", ("skills",), _ROUTING_ENTRY, "skills"),
    Column("languages", ("languages",), _ROUTING_ENTRY, "languages"),
    Column("language_preference", ("languagePreference",), S, "languagePreference"),
    Column("employer_info", ("employerInfo",),
           struct(officialName=S, employeeId=S, employeeType=S, dateHire=DATE), "employerInfo"),
    Column("biography", ("biography",),
           struct(biography=S, interests=pa.list_(S), hobbies=pa.list_(S), spouse=S,
                   education=pa.list_(struct(school=S, fieldOfStudy=S, notes=S, dateStart=DATE, dateEnd=DATE))),
           "biography"),
)



#: The users table: every page, chunk, frame and file of users has these columns.
USERS = TableSchema("users", COLUMNS, expands=EXPANDS, aliases={"authorization.unusedRoles": "authorization"})

#: The flat columns, in order (present in every user frame and file).
USER_COLUMNS: list[str] = USERS.flat_column_names()
#: expand value -> the column(s) it adds or fills.
EXPAND_COLUMNS: dict[str, list[str]] = USERS.expand_columns()


def normalize_expand(expand: Iterable[str] | str | None) -> frozenset[str]:
    """The set of expand values that add columns, matched case-insensitively (``'groups,skills'`` works too)."""
    return USERS.normalize_expand(expand)


def user_columns(expand: Iterable[str] | str = ()) -> list[str]:
    """The column names of a user frame for these expand values, in order."""
    return USERS.column_names(expand)


def user_arrow_schema(expand: Iterable[str] | str = ()) -> pa.Schema:
    """The user schema as Arrow types (used for Parquet files and pandas ``ArrowDtype`` columns)."""
    return USERS.arrow_schema(expand)


def user_schema(expand: Iterable[str] | str = ()) -> pl.Schema:
    """The user schema as polars types: the flat columns plus Struct/List columns for the expand values."""
    return USERS.polars_schema(expand)


def users_to_arrow(records: list[dict], expand: Iterable[str] | str = ()) -> pa.Table:
    """User records (the API's JSON) as an Arrow table with exactly :func:`user_arrow_schema` (``expand``)."""
    return USERS.to_arrow(records, expand)


def users_to_polars(records: list[dict], expand: Iterable[str] | str = ()) -> pl.DataFrame:
    """User records as a polars DataFrame with exactly :func:`user_schema` (``expand``), even when empty."""
    return USERS.to_polars(records, expand)


def users_page_to_arrow(body: bytes, expand: Iterable[str] | str = ()) -> tuple[Any, pa.Table | None]:
    """A users listing page's raw bytes as ``(envelope, table)`` (see :meth:`TableSchema.page_to_arrow`)."""
    return USERS.page_to_arrow(body, expand)


def schema_table(expand: Iterable[str] | str = ()) -> str:
    """A plain-text table of the columns and polars types for these expand values (for docs and ``--help``)."""
    return USERS.describe(expand)


# -- argument checks ---------------------------------------------------------------------------------------------
def check_expand(expand: Any) -> tuple[str, ...]:
    """Expand values as a tuple, from a tuple/list or a comma-joined string; unknown values raise ConfigError."""
    return USERS.check_expand(expand)


def check_page_size(page_size: Any, *, maximum: int = MAX_PAGE_SIZE) -> int:
    return _check_page_size(page_size, maximum=maximum)


def check_state(state: Any) -> str:
    if not isinstance(state, str) or state.strip().lower() not in STATES:
        raise ConfigError(f"state must be one of {', '.join(STATES)}, not {state!r}. 'any' lists every user; the "
                          f"API's own default, 'active', silently leaves out inactive and deleted users.")
    return state.strip().lower()


def check_strategy(strategy: Any) -> str:
    return check_choice(strategy, "strategy", STRATEGY_CHOICES)


class UsersPageNumberPaginator(PageNumberPaginator):
    """Page numbers on /api/v2/users, explaining the 10,000-record cap on ``state=inactive``."""

    def explain(self, error: GenesysError, position: Any) -> GenesysError:
        page_size = int(self.params.get("pageSize", 25))
        if isinstance(error, BadRequest) and self.params.get("state") == "inactive" and int(position) > 1:
            reached = (int(position) - 1) * page_size
            return DeepPagingLimit(
                f"Genesys refused page {position} of inactive users (records from {reached:,} on) with page numbers "
                f"(GET {USERS_PATH}): it caps state=inactive paging at {INACTIVE_CAP:,} records, although its "
                f"pageCount counts more. The records past the cap are reachable only through the cursor endpoint "
                f"{QUERY_PATH}: use {{auto}} (or {{cursor}}), with an OAuth client that has directory:user:view "
                f"in all divisions. The first {reached:,} records were returned.",
                status=error.status, code=error.code, api_message=error.api_message,
                correlation_id=error.correlation_id, url=error.url,
                refers_to={"auto": Arg("strategy", "auto"), "cursor": Arg("strategy", "cursor")})
        return error


def _fallback_reason(error: GenesysError) -> str:
    if isinstance(error, PermissionDenied):
        why = "is forbidden to this OAuth client (it needs directory:user:view in all divisions)"
    else:
        why = "is not available in this org"
    return (f"The cursor endpoint {QUERY_PATH} {why}; listing with page numbers on {USERS_PATH} instead, which can "
            f"skip or repeat users created or removed during the run.")


def user_plans(strategy: str, *, state: str, expand: tuple[str, ...], page_size: int,
               sort_order: str | None = None) -> list[Plan]:
    """The plans for a users listing: cursor first, page numbers as the fallback (or just one, if forced)."""
    params: dict[str, Any] = {"pageSize": page_size, "state": state}
    if expand:
        params["expand"] = ",".join(expand)
    if sort_order:
        params["sortOrder"] = sort_order
    cursor = Plan(CursorPaginator(QUERY_PATH, params, items_key="entities"),
                  fall_back_on=(NotFound, PermissionDenied), why=_fallback_reason)
    pages = Plan(UsersPageNumberPaginator(USERS_PATH, params, items_key="entities"), exact=EXACT_ADVICE)
    if strategy == "cursor":
        return [Plan(cursor.paginator)]
    if strategy == "pages":
        return [pages]
    return [cursor, pages]


def users_spec(*, state: Any = "any", expand: Any = (), page_size: Any = MAX_PAGE_SIZE, max_items: Any = None,
               strategy: Any = "auto", concurrency: Any = 1, sort_order: Any = None) -> ListingSpec:
    """Check a users listing's arguments, before any request, into its spec."""
    from .._paging.stream import check_concurrency, check_max_items

    state = check_state(state)
    exp = check_expand(expand)
    size = check_page_size(page_size)
    strategy = check_strategy(strategy)
    if sort_order is not None and str(sort_order).upper() not in ("ASC", "DESC"):
        raise ConfigError(f"sort_order must be 'ASC' or 'DESC', not {sort_order!r}.")
    order = str(sort_order).upper() if sort_order else None
    if check_max_items(max_items):
        size = min(size, max_items)
    return ListingSpec.make("users", {"state": state, "pageSize": size, "sortOrder": order},
                            {"strategy": strategy}, expand=exp, max_items=max_items,
                            concurrency=check_concurrency(concurrency))


def _plans(spec: ListingSpec, api: Any = None) -> list[Plan]:
    return user_plans(spec.option("strategy", "auto"), state=spec.param("state"), expand=spec.expand,
                      page_size=spec.param("pageSize"), sort_order=spec.param("sortOrder"))


def _total_request(spec: ListingSpec) -> PageRequest:
    return PageRequest("GET", USERS_PATH, {"pageSize": 1, "state": spec.param("state")})


def search_spec(query: Any, *, expand: Any = (), page_size: Any = SEARCH_MAX_PAGE_SIZE, sort_by: str | None = None,
                sort_order: str | None = None, max_items: Any = None) -> ListingSpec:
    """Check a user search's arguments into its spec (the search body is an option: it is POSTed, not a query)."""
    from .._paging.stream import check_max_items

    if not isinstance(query, Sequence) or isinstance(query, (str, bytes)) or not all(
            isinstance(c, Mapping) and c.get("type") for c in query):
        raise ConfigError("query must be a list of criteria dicts, each with a 'type' such as 'EXACT', "
                          "'CONTAINS', 'STARTS_WITH' or 'RANGE', plus 'fields' and 'value'/'values'.")
    if len(query) > 10:
        raise ConfigError(f"The search API takes at most 10 criteria; {len(query)} were given.")
    exp = check_expand(expand)
    size = check_page_size(page_size, maximum=SEARCH_MAX_PAGE_SIZE)
    body: dict[str, Any] = {"query": [dict(c) for c in query], "pageSize": size, "pageNumber": 1}
    if exp:
        body["expand"] = list(exp)
    if sort_by:
        body["sortBy"] = sort_by
    if sort_order:
        body["sortOrder"] = sort_order
    check_max_items(max_items)
    return ListingSpec.make("user_search", options={"body": body}, expand=exp, max_items=max_items)


def _search_plans(spec: ListingSpec, api: Any = None) -> list[Plan]:
    return [Plan(SearchPaginator(SEARCH_PATH, spec.option("body")))]


# -- the polars scan's pushdown: state filters become ?state= ---------------------------------------------------
def state_pushdown(predicate: pl.Expr | None, spec: ListingSpec, conjuncts: Any) -> list[ListingSpec]:
    """The listings a scan with this predicate runs: ``state ==``/``is_in`` filters on a scan of all states become
    one listing per state the predicate allows (none when it allows none); anything else lists as the spec does."""
    import polars as pl

    state = spec.param("state")
    allowed = list(RECORD_STATES) if state == "any" else [state]
    for part in conjuncts(predicate):
        try:
            if set(part.meta.root_names()) != {"state"}:
                continue
            keep = pl.DataFrame({"state": list(RECORD_STATES)}).filter(part)["state"].to_list()
        except Exception:  # anything polars cannot evaluate on a probe is simply not pushed
            continue
        allowed = [s for s in allowed if s in keep]
    if len(allowed) == len(RECORD_STATES):
        return [spec.with_(params=_with_param(spec.params, "state", "any"))]
    return [spec.with_(params=_with_param(spec.params, "state", s)) for s in allowed]


def _with_param(params: tuple[tuple[str, Any], ...], name: str, value: Any) -> tuple[tuple[str, Any], ...]:
    return tuple(sorted({**dict(params), name: value}.items()))


RESOURCE = register(Resource("users", USERS, permission="directory:user:view",
                             plans=_plans, total_request=_total_request, noun="users", method="users"))
SEARCH = register(Resource("user_search", USERS, plans=_search_plans, noun="users", method="search_users"))


def pushdown(predicate: pl.Expr | None, state: str = "any") -> list[str]:
    """The API ``state`` values a users scan with this predicate would list, in order: ``["any"]`` (or the scan's
    own state) when nothing can be pushed, ``["inactive"]``, ``["active", "inactive"]``, or ``[]`` (no request)."""
    from .._tables.scan import conjuncts

    return [s.param("state") for s in state_pushdown(predicate, users_spec(state=state), conjuncts)]
