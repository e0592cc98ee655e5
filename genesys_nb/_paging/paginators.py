"""Paging styles of the Genesys Cloud API, each a small object that shapes requests and reads responses.

A strategy knows a *position* (a cursor, an ``after`` token, a page number, a ``nextUri`` or a search ``nextPage``):
:meth:`Paginator.request` turns a position into the request for that page, and :meth:`Paginator.advance` reads a
response and returns the next position, or ``None`` at the end. The stream loop knows none of the styles. Positions
are plain JSON values so that a stream can be resumed from one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ..errors import ConfigError, GenesysError, PagingError
from .._http.urls import check_api_path

__all__ = ["PageRequest", "Paginator", "CursorPaginator", "AfterPaginator", "PageNumberPaginator",
           "NextUriPaginator", "OpenEndedPagesPaginator", "SearchPaginator", "SinglePage", "DetectingPaginator", "STRATEGIES", "detect_strategy", "items_of",
           "Batch"]


@dataclass(frozen=True)
class PageRequest:
    method: str
    path: str
    params: dict[str, Any] | None = None
    json: Any = None


class Batch:
    """A page's records held natively (e.g. an Arrow table a decoder built from the page's bytes) instead of as a
    list of dicts. The paging loop needs only these four operations, so it never imports what holds the data."""

    def __len__(self) -> int:
        raise NotImplementedError

    def ids(self) -> list[Any]:
        """Each record's id, in order (None where a record has none)."""
        raise NotImplementedError

    def take(self, indices: list[int]) -> Batch:
        """The records at ``indices``, in that order."""
        raise NotImplementedError

    def head(self, n: int) -> Batch:
        """The first ``n`` records."""
        raise NotImplementedError


def items_of(body: Any, key: str | None = None) -> list | Batch:
    """The records of a listing body: ``entities``, ``results`` or the first list-valued field (a list of dicts,
    or a :class:`Batch` when the body was decoded natively)."""
    if not isinstance(body, dict):
        raise PagingError(f"Expected a JSON object for a listing page, got {type(body).__name__}.")
    if key is not None:
        value = body.get(key)
        if value is None:
            _check_not_withheld(body, key)
            return []
        if not isinstance(value, (list, Batch)):
            raise PagingError(f"The listing field {key!r} is not a list.")
        return value
    for name in ("entities", "results", "conversations", "items"):
        if isinstance(body.get(name), (list, Batch)):
            return body[name]
        if name in body and body[name] is None:
            _check_not_withheld(body, name)
    for value in body.values():
        if isinstance(value, list):
            return value
    return []


def _check_not_withheld(body: dict, key: str) -> None:
    """A record list that is null on a page that announces records would silently read as no records."""
    total = body.get("total")
    if isinstance(total, int) and not isinstance(total, bool) and total > 0:
        raise PagingError(f"The listing page announces {total:,} records but its {key!r} is null; stopping "
                          f"rather than report fewer records than there are. Run again; if it persists, the server "
                          f"is not answering as the API does.")


def _query_value(uri: str | None, name: str) -> str | None:
    if not uri:
        return None
    values = parse_qs(urlsplit(uri).query).get(name)
    return values[0] if values else None


def _following(path: str, position: Any, value: Any, what: str) -> Any:
    """The next position, None at the end; the same value as the current position would loop forever."""
    if not value:
        return None
    if value == position:
        raise PagingError(f"{path} returned the same {what} twice; stopping instead of looping forever.")
    return value


def _bad_position(style: str, position: Any) -> ConfigError:
    text = repr(position) if len(repr(position)) <= 80 else repr(position)[:77] + "..."
    return ConfigError(f"The resume token's position {text} is not one {style} paging writes: the token was edited "
                       f"or damaged. Take a fresh one from page.resume_token, or start without resume=.")


def _link_position(position: Any, what: str) -> Any:
    """A link position (``nextUri``, ``nextPage``) read back: a relative ``/api/v2/`` path, or None."""
    return None if position is None else check_api_path(position, what)


class Paginator:
    """Base class: a paging style for one endpoint and its query."""

    name = "base"
    #: True when pages can only come one after another (each needs the previous response).
    sequential = True
    #: True when the style can repeat records (page numbers shift under churn; search pages overlap): the stream
    #: then drops ids it has seen.
    dedupes = False
    #: True when a page identical to the previous one means the API is looping (not for search, whose pages may
    #: legitimately repeat records).
    guards_repeats = True
    #: True when the listing shifts under churn (page numbers, search pages): records added or removed during the
    #: run may be missed, so a changing total is worth a warning.
    shifts = False

    def __init__(self, path: str, params: Mapping[str, Any] | None = None, *, items_key: str | None = None) -> None:
        self.path = path
        self.params = dict(params or {})
        self.items_key = items_key

    start: Any = None

    def request(self, position: Any) -> PageRequest:
        raise NotImplementedError

    def check_position(self, position: Any) -> Any:
        """``position`` as read from a resume token or a checkpoint, or a ConfigError when this style could not
        have written it (a token edited by hand must not send a request anywhere else)."""
        if position is not None:
            raise _bad_position(self.name, position)
        return position

    def advance(self, position: Any, body: Any, items: list | Batch) -> Any:
        raise NotImplementedError

    def items(self, body: Any) -> list | Batch:
        return items_of(body, self.items_key)

    def total(self, body: Any) -> int | None:
        value = body.get("total") if isinstance(body, dict) else None
        return value if isinstance(value, int) else None

    def page_count(self, body: Any) -> int | None:
        """How many pages the listing says it has (page-number styles only)."""
        return None

    @property
    def page_size(self) -> int | None:
        """The page size asked for, when the style sends one."""
        size = self.params.get("pageSize")
        return size if isinstance(size, int) and not isinstance(size, bool) and size > 0 else None

    def following(self, position: Any, count: int, last: int | None = None) -> list[Any]:
        """Up to ``count`` positions after ``position`` that may be fetched before its page arrives (never past
        page ``last`` when known); empty for styles whose next position comes from the previous response."""
        return []

    def describe(self) -> str:
        return f"{self.name} paging of {self.path}"

    def explain(self, error: GenesysError, position: Any) -> GenesysError:
        """A clearer error for what this endpoint is known to do, or ``error`` itself."""
        return error


class _TokenPaginator(Paginator):
    """Shared logic of the opaque-token styles (``cursor`` and ``after``). Such an endpoint returns each record
    once; the stream still drops (and counts, and warns of) any id it returns again, so a server that cycles does
    not give duplicates."""

    param = "cursor"
    dedupes = True

    def request(self, position: Any) -> PageRequest:
        params = dict(self.params)
        if position is not None:
            params[self.param] = position
        return PageRequest("GET", self.path, params)

    def token_in(self, body: dict) -> str | None:
        raise NotImplementedError

    def check_position(self, position: Any) -> Any:
        if position is not None and not (isinstance(position, str) and position):
            raise _bad_position(self.name, position)
        return position

    def advance(self, position: Any, body: Any, items: list | Batch) -> Any:
        return _following(self.path, position, self.token_in(body) or _query_value(body.get("nextUri"), self.param),
                          self.param)


class CursorPaginator(_TokenPaginator):
    """``cursor`` parameter; the next cursor is ``cursor`` in the body or ``cursor=`` in ``nextUri``."""

    name = "cursor"
    param = "cursor"

    def token_in(self, body: dict) -> str | None:
        value = body.get("cursor")
        return value if isinstance(value, str) and value else None


class AfterPaginator(_TokenPaginator):
    """``after`` parameter; the next token is ``cursors.after`` in the body or ``after=`` in ``nextUri``."""

    name = "after"
    param = "after"

    def __init__(self, path: str, params: Mapping[str, Any] | None = None, *, items_key: str | None = None,
                 param: str = "after") -> None:
        super().__init__(path, params, items_key=items_key)
        self.param = param

    def token_in(self, body: dict) -> str | None:
        cursors = body.get("cursors")
        value = cursors.get("after") if isinstance(cursors, dict) else None
        return value if isinstance(value, str) and value else None


class PageNumberPaginator(Paginator):
    """``pageNumber`` from 1 to ``pageCount``. Each request is built from the stream's own parameters: a
    ``nextUri`` is not trusted to carry ``state`` or ``expand``."""

    name = "pages"
    sequential = False
    dedupes = True
    shifts = True
    guards_repeats = False
    start = 1

    def following(self, position: Any, count: int, last: int | None = None) -> list[Any]:
        stop = position + count
        if last is not None:
            stop = min(stop, last)
        return list(range(position + 1, stop + 1))

    def request(self, position: Any) -> PageRequest:
        return PageRequest("GET", self.path, {**self.params, "pageNumber": int(position)})

    def check_position(self, position: Any) -> Any:
        if isinstance(position, bool) or not isinstance(position, int) or position < 1:
            raise _bad_position(self.name, position)
        return position

    def page_count(self, body: Any) -> int | None:
        value = body.get("pageCount") if isinstance(body, dict) else None
        return value if isinstance(value, int) else None

    def advance(self, position: Any, body: Any, items: list | Batch) -> Any:
        count = self.page_count(body)
        if not items:
            return None
        if count is not None:
            return position + 1 if position < count else None
        return position + 1 if body.get("nextUri") else None


class OpenEndedPagesPaginator(PageNumberPaginator):
    """Page numbers on a listing that reports no ``total`` or ``pageCount`` (queue members): a page with a
    ``nextUri`` is followed; a page without one ends the listing when it is short or empty, and is followed when it
    is full (the last page's ``nextUri`` may be absent, null or, on some listings, always missing). Requests are
    built from the stream's own parameters, so a ``nextUri`` is never sent anywhere. Pages come one at a time."""

    name = "open_pages"
    sequential = True
    guards_repeats = True

    def following(self, position: Any, count: int, last: int | None = None) -> list[Any]:
        return []

    def advance(self, position: Any, body: Any, items: list | Batch) -> Any:
        if not items:
            return None
        if isinstance(body, dict) and body.get("nextUri"):
            return position + 1
        size = self.page_size
        return position + 1 if size is not None and len(items) >= size else None


class NextUriPaginator(Paginator):
    """Follow ``nextUri`` (or another link field such as ``nextPage``) until it is absent."""

    name = "next_uri"

    def __init__(self, path: str, params: Mapping[str, Any] | None = None, *, items_key: str | None = None,
                 link: str = "nextUri") -> None:
        super().__init__(path, params, items_key=items_key)
        self.link = link

    def request(self, position: Any) -> PageRequest:
        if position is None:
            return PageRequest("GET", self.path, self.params)
        return PageRequest("GET", position, None)

    def check_position(self, position: Any) -> Any:
        return _link_position(position, f"The resume token's {self.link}")

    def advance(self, position: Any, body: Any, items: list | Batch) -> Any:
        return _following(self.path, position, body.get(self.link) if isinstance(body, dict) else None, self.link)


class SearchPaginator(Paginator):
    """``POST .../search`` for the first page, then ``GET`` the ``nextPage`` URI (a ``q64`` token)."""

    name = "search"
    dedupes = True
    shifts = True
    guards_repeats = False

    def __init__(self, path: str, body: Mapping[str, Any], *, items_key: str | None = "results") -> None:
        super().__init__(path, None, items_key=items_key)
        self.body = dict(body)

    def request(self, position: Any) -> PageRequest:
        if position is None:
            return PageRequest("POST", self.path, None, self.body)
        return PageRequest("GET", position, None)

    def check_position(self, position: Any) -> Any:
        return _link_position(position, "The resume token's nextPage")

    def advance(self, position: Any, body: Any, items: list | Batch) -> Any:
        count, number = body.get("pageCount"), body.get("pageNumber")
        if isinstance(count, int) and isinstance(number, int) and number >= count:
            return None
        return _following(self.path, position, body.get("nextPage"), "nextPage")


class SinglePage(Paginator):
    """An endpoint that is not paged: one request."""

    name = "single"

    def request(self, position: Any) -> PageRequest:
        return PageRequest("GET", self.path, self.params)

    def advance(self, position: Any, body: Any, items: list | Batch) -> Any:
        return None


class DetectingPaginator(Paginator):
    """Reads the first response and continues in whatever style it shows (``strategy="auto"`` of ``paginate``).

    Positions after the first page are ``[style, position]`` pairs so that a resume token names the style."""

    name = "auto"
    dedupes = True
    shifts = True

    def __init__(self, path: str, params: Mapping[str, Any] | None = None, *, items_key: str | None = None) -> None:
        super().__init__(path, params, items_key=items_key)
        self._inner: dict[str, Paginator] = {}

    def inner(self, style: str) -> Paginator:
        if style not in self._inner:
            self._inner[style] = STRATEGIES[style](self.path, self.params, items_key=self.items_key)
        return self._inner[style]

    def request(self, position: Any) -> PageRequest:
        if position is None:
            return PageRequest("GET", self.path, self.params)
        style, inner_position = position
        return self.inner(style).request(inner_position)

    def check_position(self, position: Any) -> Any:
        if position is None:
            return None
        if not (isinstance(position, list) and len(position) == 2 and position[0] in STRATEGIES):
            raise _bad_position(self.name, position)
        self.inner(position[0]).check_position(position[1])
        return position

    def advance(self, position: Any, body: Any, items: list | Batch) -> Any:
        if position is None:
            style = detect_strategy(body)
            inner_position = self.inner(style).start
        else:
            style, inner_position = position
        following = self.inner(style).advance(inner_position, body, items)
        return None if following is None else [style, following]


STRATEGIES: dict[str, type[Paginator]] = {
    "cursor": CursorPaginator,
    "after": AfterPaginator,
    "pages": PageNumberPaginator,
    "next_uri": NextUriPaginator,
    "single": SinglePage,
    "open_pages": OpenEndedPagesPaginator,
}


def detect_strategy(body: Any) -> str:
    """Name the paging style a first response shows, as the official CLI does: cursor-like fields first."""
    if not isinstance(body, dict):
        return "single"
    next_uri = body.get("nextUri") or ""
    if isinstance(body.get("cursor"), str) or "cursor=" in next_uri:
        return "cursor"
    cursors = body.get("cursors")
    if (isinstance(cursors, dict) and cursors.get("after")) or "after=" in next_uri:
        return "after"
    if isinstance(body.get("pageCount"), int) or isinstance(body.get("pageNumber"), int):
        return "pages"
    if next_uri:
        return "next_uri"
    return "single"
