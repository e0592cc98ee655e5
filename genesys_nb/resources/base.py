"""What every resource shares: the frozen :class:`ListingSpec` a listing's arguments are checked into, the
:class:`Resource` declaration, and the argument checks that every listing uses.

A resource module declares, in one place, the paths it lists, how they page (its plans), the checks of its
arguments, its expand values and its columns (a :class:`~genesys_nb._tables.schema.TableSchema`). The client's
listing methods are thin calls into :meth:`Resource.spec` and :meth:`Resource.plans`; a resume token and an export's
checkpoint fingerprint the spec, so neither is ever applied to another query.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any


from .._checks import whole_number
from ..errors import ConfigError
from .._paging.paginators import Paginator, PageRequest
from .._paging.spec import ListingSpec
from .._paging.stream import Plan
from .._tables.schema import TableSchema

__all__ = ["ListingSpec", "Resource", "FanOut", "check_whole", "check_page_size", "check_ids", "check_choice",
           "REGISTRY", "register"]


def check_whole(value: Any, name: str, *, minimum: int = 0, maximum: int | None = None,
                allow_none: bool = False) -> Any:
    """A whole number within bounds (booleans are not numbers), or a ConfigError naming the argument."""
    return whole_number(value, name, minimum=minimum, maximum=maximum, allow_none=allow_none)


def check_page_size(page_size: Any, *, maximum: int) -> int:
    """A page size from 1 to the endpoint's maximum."""
    if isinstance(page_size, bool) or not isinstance(page_size, int) or not 1 <= page_size <= maximum:
        raise ConfigError(f"page_size must be a whole number from 1 to {maximum} (the API's maximum), not "
                          f"{page_size!r}. Larger pages mean fewer requests against the rate limit.")
    return page_size  # worded apart from whole_number: it names the API's maximum and why large pages pay


def check_choice(value: Any, name: str, choices: Sequence[str], *, fold: bool = False) -> str:
    """One of ``choices`` (case-insensitively when ``fold``), or a ConfigError listing them."""
    key = value.strip().lower() if fold and isinstance(value, str) else value
    if key not in choices:
        raise ConfigError(f"{name} must be one of {', '.join(choices)}, not {value!r}.")
    return key


def check_ids(ids: Any, name: str) -> tuple[str, ...] | None:
    """A list of ids (or one id, or a comma-joined string) as a sorted tuple without repeats; None means all."""
    if ids is None:
        return None
    if isinstance(ids, str):
        ids = [part for part in ids.split(",")]
    if not isinstance(ids, (list, tuple, set, frozenset)) or not all(isinstance(i, str) for i in ids):
        raise ConfigError(f"{name} must be a list of id strings (or None for all), not {ids!r}.")
    clean = sorted({i.strip() for i in ids if i.strip()})
    if not clean:
        raise ConfigError(f"{name} is empty: give at least one id, or None for all.")
    return tuple(clean)


@dataclass(frozen=True)
class FanOut:
    """A listing of children per parent (members of each group, grants of each role): the parents' listing, the
    child listing of one parent, and how a child record becomes rows (each carrying its parent's id)."""

    parents: Callable[[ListingSpec], ListingSpec]
    parent_id: Callable[[dict], str | None]
    child: Callable[[ListingSpec, str], list[Plan]]
    rows: Callable[[str, list[dict]], list[dict]]


@dataclass(frozen=True)
class Resource:
    """A declared listing: its name, columns, plans and (for fan-outs) parents. See the module docs."""

    name: str
    table: TableSchema | None
    #: The ways to list, in order of preference; ``api`` offers ``send(method, path, **kw)`` and ``sleep`` to
    #: plans that need a request before paging (an audit job).
    plans: Callable[[ListingSpec, Any], list[Plan]] = field(default=lambda spec, api=None: [])
    #: The request whose ``total`` says how many records the listing holds (for progress bars), if any.
    total_request: Callable[[ListingSpec], PageRequest | None] = field(default=lambda spec: None)
    #: Records to rows (e.g. one row per user and licence), applied to each page; None keeps the records.
    rows: Callable[[list[dict]], list[dict]] | None = None
    fan_out: FanOut | None = None
    #: What the stream's records are called in messages ("users", "grants").
    noun: str = "records"
    #: The Client method that lists it, for messages that say how to list it again ("users": ``client.users``).
    method: str | None = None
    #: The permission the OAuth client needs to read it (None: the API documents none).
    permission: str | None = None

    def describe(self, spec: ListingSpec) -> str:
        shown = [f"{k}={v}" for k, v in spec.params if k not in ("pageSize",)]
        if spec.expand:
            shown.append("expand=" + ",".join(spec.expand))
        return " ".join([self.name, *shown])


#: Every resource by name (filled by the resource modules as they are imported).
REGISTRY: dict[str, Resource] = {}


def register(resource: Resource) -> Resource:
    REGISTRY[resource.name] = resource
    return resource


def page_plan(paginator: Paginator) -> list[Plan]:
    """The plans of a listing that pages one way only."""
    return [Plan(paginator)]


#: Page sizes the API documents no maximum for are capped here (clients in the wild use 100 to 500).
DEFAULT_MAX_PAGE_SIZE = 500


def paged_spec(resource: str, *, page_size: Any, maximum: int = DEFAULT_MAX_PAGE_SIZE, max_items: Any = None,
               params: Mapping[str, Any] | None = None, options: Mapping[str, Any] | None = None,
               expand: tuple[str, ...] = (), concurrency: Any = 1) -> ListingSpec:
    """The spec of a listing paged by page number, with its page size and limits checked."""
    from .._paging.stream import check_concurrency, check_max_items

    size = check_page_size(page_size, maximum=maximum)
    if check_max_items(max_items):
        size = min(size, max_items)
    return ListingSpec.make(resource, {**(params or {}), "pageSize": size}, options, expand=expand,
                            max_items=max_items, concurrency=check_concurrency(concurrency))


def page_number_plans(path: str) -> Callable[[ListingSpec, Any], list[Plan]]:
    """Plans that page ``path`` by page number with the spec's query."""
    from .._paging.paginators import PageNumberPaginator

    def plans(spec: ListingSpec, api: Any = None) -> list[Plan]:
        return [Plan(PageNumberPaginator(path, spec.query, items_key="entities"))]

    return plans


def total_of(path: str) -> Callable[[ListingSpec], PageRequest]:
    """The one-record request whose ``total`` counts ``path``'s records."""

    def request(spec: ListingSpec) -> PageRequest:
        return PageRequest("GET", path, {**dict(spec.params), "pageSize": 1})

    return request


def quote_id(value: str) -> str:
    """An id as one URL path segment: nothing in it can reach another endpoint."""
    from .._http.urls import quote_segment

    return quote_segment(value, "id")


def fan_out_spec(resource: str, *, parents: Any, parents_name: str, page_size: Any, max_items: Any, concurrency: Any,
                 maximum: int = DEFAULT_MAX_PAGE_SIZE) -> ListingSpec:
    """The spec of a fan-out listing: its page size and limits, and the parents chosen (None: all of them)."""
    return paged_spec(resource, page_size=page_size, maximum=maximum, max_items=max_items, concurrency=concurrency,
                      options={"parents": check_ids(parents, parents_name)})


def children_of(path: str, child: str, paginator: type[Paginator] | None = None) -> Callable[[ListingSpec, str],
                                                                                            list[Plan]]:
    """The child listing of one parent, ``{path}/{parent id}/{child}``, paged by page number (or ``paginator``)."""
    from .._paging.paginators import PageNumberPaginator

    kind = paginator or PageNumberPaginator

    def plans(spec: ListingSpec, parent: str) -> list[Plan]:
        return [Plan(kind(f"{path}/{quote_id(parent)}/{child}", {"pageSize": spec.param("pageSize")},
                          items_key="entities"))]

    return plans


def all_of(spec_of: Callable[[], ListingSpec]) -> Callable[[ListingSpec], ListingSpec]:
    """A fan-out's parents: every record of the parent listing (its ids are read with ``record["id"]``)."""
    return lambda spec: spec_of()


def record_id(record: dict) -> str | None:
    """A record's own id."""
    value = record.get("id")
    return value if isinstance(value, str) else None
