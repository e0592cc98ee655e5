"""Streams: memory-safe generators of records over any paged listing.

A :class:`Stream` walks a :class:`~genesys_nb._paging.paginators.Paginator` through the transport and yields records (plain
dicts, the API's own JSON) or :class:`Page` objects. It holds only the current page plus a bounded prefetch window:
while the consumer handles page *k*, the request for page *k+1* is already in flight, and page-number listings may
fetch a window of pages at once and still yield them in order. After every page it exposes a resume token from
which a new stream continues with no duplicates. Page-number listings drop repeated ids and warn when the total
changes under them; every style stops with a :class:`~genesys_nb.errors.PagingError` instead of looping forever.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import logging
import threading
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import orjson

from typing import TYPE_CHECKING

from .dedupe import SeenIds
from ..errors import ConfigError, GenesysError, PagingError
from .paginators import Batch
from .._http.transport import Response, Transport

if TYPE_CHECKING:  # the loop drives any paginator through its interface and names no style
    from .paginators import Paginator

__all__ = ["Page", "Stream", "StreamStats", "Plan", "Batch", "encode_token", "decode_token", "check_max_items",
           "check_concurrency", "MAX_CONCURRENCY"]

log = logging.getLogger("genesys_nb.paging")

TOKEN_PREFIX = "gnb1."
MAX_EMPTY_PAGES = 3
MAX_CONCURRENCY = 32
_TOKEN_FIELDS = frozenset("fspni")  # fingerprint, style, position, pages done, items done


@dataclass(frozen=True)
class Page:
    """One page of records. ``resume_token`` continues after this page (None when it was the last).

    ``items`` is a list of the API's records, or a :class:`Batch` on a stream set to :meth:`Stream.native`."""

    items: list[dict] | Batch
    number: int
    resume_token: str | None
    total: int | None = None
    nbytes: int = 0

    def __len__(self) -> int:
        return len(self.items)


@dataclass
class StreamStats:
    """What a stream did so far: requests, retries, 429s, pages, records, the strategy, fallbacks, warnings."""

    endpoint: str = ""
    strategy: str | None = None
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    pages: int = 0
    items: int = 0
    bytes: int = 0
    duplicates_dropped: int = 0
    total: int | None = None
    fallbacks: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    #: Fan-out listings: requests sent per parent (group, queue, role) id.
    parent_requests: dict[str, int] = field(default_factory=dict)
    started: float | None = None
    finished: float | None = None

    @property
    def elapsed(self) -> float:
        if self.started is None:
            return 0.0
        return (self.finished or time.monotonic()) - self.started

    def as_dict(self) -> dict[str, Any]:
        return {"endpoint": self.endpoint, "strategy": self.strategy, "requests": self.requests,
                "retries": self.retries, "rate_limited": self.rate_limited, "pages": self.pages,
                "items": self.items, "bytes": self.bytes, "duplicates_dropped": self.duplicates_dropped,
                "total": self.total, "fallbacks": list(self.fallbacks), "warnings": list(self.warnings),
                "parent_requests": dict(self.parent_requests), "elapsed_s": round(self.elapsed, 3)}

    def __repr__(self) -> str:
        parts = [f"{k}={v!r}" for k, v in self.as_dict().items() if v not in (None, [], {}, 0) or k == "items"]
        return f"StreamStats({', '.join(parts)})"


@dataclass(frozen=True)
class Plan:
    """One way to list: a paginator, and the errors on its first page that send the stream to the next plan."""

    paginator: Paginator
    fall_back_on: tuple[type[GenesysError], ...] = ()
    why: Callable[[GenesysError], str] | None = None
    #: For advice when this plan's page numbers shift: what lists exactly instead (e.g. "the cursor endpoint ...").
    exact: str | None = None


def encode_token(data: dict[str, Any]) -> str:
    return TOKEN_PREFIX + base64.urlsafe_b64encode(orjson.dumps(data)).decode("ascii").rstrip("=")


def decode_token(token: str) -> dict[str, Any]:
    """Read a resume token, or raise ConfigError saying what is wrong with it."""
    if not isinstance(token, str) or not token.startswith(TOKEN_PREFIX):
        raise ConfigError(f"{token!r} is not a genesys-nb resume token (they start with {TOKEN_PREFIX!r}); "
                          f"take one from page.resume_token or stream.resume_token.")
    raw = token[len(TOKEN_PREFIX):]
    try:
        data = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (ValueError, orjson.JSONDecodeError):
        raise ConfigError("The resume token is damaged (it does not decode); copy it whole.") from None
    if not isinstance(data, dict) or not _TOKEN_FIELDS.issubset(data):
        raise ConfigError("The resume token is damaged (fields are missing); copy it whole.")
    for key, kind in (("f", str), ("s", str), ("n", int), ("i", int)):
        value = data[key]
        if not isinstance(value, kind) or isinstance(value, bool) or (isinstance(value, int) and value < 0):
            raise ConfigError(f"The resume token is damaged (its field {key!r} is {type(value).__name__} "
                              f"{str(value)[:40]!r}); take a fresh one from page.resume_token, or start without it.")
    return data


def check_max_items(max_items: Any) -> int | None:
    """``max_items`` as given, or a ConfigError before any request."""
    if max_items is not None and (not isinstance(max_items, int) or isinstance(max_items, bool) or max_items < 0):
        raise ConfigError(f"max_items must be a whole number >= 0 or None, not {max_items!r}.")
    return max_items


def check_concurrency(concurrency: Any) -> int:
    """``concurrency`` as given, or a ConfigError before any request."""
    if not isinstance(concurrency, int) or isinstance(concurrency, bool) or not 1 <= concurrency <= MAX_CONCURRENCY:
        raise ConfigError(f"concurrency must be a whole number from 1 to {MAX_CONCURRENCY}, not {concurrency!r}.")
    return concurrency


def fingerprint(*parts: Any) -> str:
    """A short digest of what a stream lists, so a token or checkpoint is never applied to another query."""
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]


# The loop's few operations on a page's items, for lists of records and native batches alike.
def _page_ids(items: list | Batch) -> tuple:
    """The ids of a page, to recognise a page that comes back twice."""
    if isinstance(items, Batch):
        return tuple(items.ids())
    return tuple(item.get("id") for item in items if isinstance(item, dict))


def _keyed(items: list | Batch) -> list[tuple[int, Any]]:
    """(position, id) of every record that has an id."""
    if isinstance(items, Batch):
        return [(i, key) for i, key in enumerate(items.ids()) if key is not None]
    return [(i, item.get("id")) for i, item in enumerate(items) if isinstance(item, dict) and "id" in item]


def _without(items: list | Batch, drop: set[int]) -> list | Batch:
    """The page without the records at the positions in ``drop``."""
    if isinstance(items, Batch):
        return items.take([i for i in range(len(items)) if i not in drop])
    return [item for i, item in enumerate(items) if i not in drop]


def records_of(page: Page) -> list[dict]:
    """A page's records as dicts: a stream iterated for records is never set to decode natively."""
    if isinstance(page.items, Batch):
        raise GenesysError("This stream decodes its pages natively (for frames and files); iterate .pages() for "
                           "their batches, or list again without native() for records.")
    return page.items


def _head(items: list | Batch, n: int) -> list | Batch:
    return items.head(n) if isinstance(items, Batch) else items[:n]


def _fetch(transport: Any, paginator: Paginator, extra: dict[str, Any], position: Any) -> Response:
    req = paginator.request(position)
    try:
        return transport.request(req.method, req.path, params=req.params, json=req.json, **extra)
    except GenesysError as exc:
        better = paginator.explain(exc, position)
        if better is exc:
            raise
        raise better from exc


class _LoopGuard:
    """Stops a listing whose server pages forever, in bounded memory: a position (cursor, ``nextUri``, page)
    that comes back, pages of nothing but repeated records, records far beyond the announced total, a page far
    larger than the page size asked for (a null record list is refused by :func:`items_of`)."""

    def __init__(self, paginator: Paginator, start: Any) -> None:
        self.paginator = paginator
        self.positions: set[bytes] = {_digest(start)}  # 16 bytes a page
        self.received = 0
        self.most = 0
        self.total: int | None = None
        self.stale = 0

    def check_page(self, items: list | Batch, total: int | None, next_position: Any) -> PagingError | None:
        """Raise for a page that must not be used; return the error that ends a looping listing once this page
        (whose records may be new) has been handed over."""
        p = self.paginator
        size = p.page_size
        if size is not None and len(items) > 2 * size + 10:
            raise PagingError(f"{p.path} returned {len(items):,} records on a page of {size:,} asked for; refusing "
                              f"a page that large (the server is not honouring pageSize).")
        self.received += len(items)
        self.most = max(self.most, len(items), size or 0)
        if total is not None:
            self.total = max(total, self.total or 0)
        if next_position is None:
            return None
        key = _digest(next_position)
        if key in self.positions:
            return PagingError(f"{p.path} sent a next-page position it had sent before ({p.name} paging); it pages "
                               f"in a circle, so the listing stops here instead of looping forever.")
        self.positions.add(key)
        if p.guards_repeats and self.total is not None \
                and self.received > 2 * self.total + MAX_EMPTY_PAGES * max(self.most, 1):
            return PagingError(f"{p.path} has returned {self.received:,} records although it announced "
                               f"{self.total:,}, and still offers a next page; stopping instead of looping forever.")
        return None

    def check_fresh(self, received: int, fresh: int, next_position: Any) -> None:
        """After dedupe: pages of only repeated records, in a row, mean the server pages over the same records."""
        self.stale = self.stale + 1 if received and not fresh else 0
        if self.paginator.guards_repeats and self.stale >= MAX_EMPTY_PAGES and next_position is not None:
            raise PagingError(f"{self.paginator.path} returned only records it had already returned, "
                              f"{MAX_EMPTY_PAGES} pages in a row, and still offers a next page; stopping instead of "
                              f"looping forever.")


def _digest(position: Any) -> bytes:
    return hashlib.blake2b(orjson.dumps(position), digest_size=16).digest()


class _FirstPageFailed(Exception):
    def __init__(self, error: GenesysError) -> None:
        super().__init__(str(error))
        self.error = error


class Stream:
    """An iterator of records over a paged listing; ``.pages()`` gives the pages. Consumed once."""

    def __init__(self, transport: Transport, plans: list[Plan], *, fingerprint: str, max_items: int | None = None,
                 concurrency: int = 1, resume: str | None = None, description: str = "",
                 reopen: Callable[[str | None], Stream] | None = None,
                 total_hint: Callable[[], int | None] | None = None,
                 decode: Callable[[bytes], Any] | None = None,
                 rows: Callable[[list[dict]], list[dict]] | None = None, noun: str = "records") -> None:
        if not plans:
            raise ValueError("a stream needs at least one plan")
        check_max_items(max_items)
        check_concurrency(concurrency)
        self._transport = transport
        self._plans = list(plans)
        self._exact = next((p.exact for p in plans if p.exact), None)
        self.fingerprint = fingerprint
        self.max_items = max_items
        self.concurrency = concurrency
        self.description = description or plans[0].paginator.describe()
        self._reopen = reopen
        self._total_hint = total_hint
        self._decode = decode
        self._rows = rows
        self.noun = noun
        self._start: tuple[str, Any, int, int] | None = None  # strategy, position, pages done, items done
        if resume is not None:
            data = decode_token(resume)
            if data["f"] != fingerprint:
                raise ConfigError("This resume token belongs to a different query (other endpoint, state, expand or "
                                  "page size). Resume with the same arguments the token came from.")
            names = [p.paginator.name for p in self._plans]
            if data["s"] not in names:
                raise ConfigError(f"The resume token is for {data['s']} paging, which this query does not use.")
            self._plans = [p for p in self._plans if p.paginator.name == data["s"]]
            position = self._plans[0].paginator.check_position(data["p"])  # before any request
            self._start = (data["s"], position, data["n"], data["i"])
        self.stats = StreamStats(endpoint=self._plans[0].paginator.path)
        self.resume_token: str | None = resume
        self._started = False
        self._generator: Generator[Page, None, None] | None = None
        self._records: Iterator[dict] | None = None
        #: Set when the stream is closed, abandoned (garbage collected) or interrupted before its end: requests
        #: still in flight in worker threads then send no further attempt.
        self._cancelled = threading.Event()

    def __repr__(self) -> str:
        state = "done" if self.stats.finished else ("running" if self._started else "not started")
        return f"<Stream {self.description}: {state}, {self.stats.items} records, {self.stats.pages} pages>"

    # -- public views ----------------------------------------------------------------------------------------------
    def pages(self) -> Iterator[Page]:
        """The pages, in order. A stream is consumed once; ``client.users(...)`` again gives a fresh one."""
        if self._started:
            raise GenesysError("This stream has already been consumed (or is being consumed). Call the listing "
                               "again, e.g. client.users(...), for a fresh stream, or resume=stream.resume_token.")
        self._started = True
        self._generator = self._run()
        return self._generator

    @property
    def native_ok(self) -> bool:
        """Whether pages may be decoded natively (not when records become rows in Python)."""
        return self._rows is None

    def __iter__(self) -> Iterator[dict]:
        if self._records is None or self.stats.finished:  # a used stream raises as pages() does, never gives nothing
            self._records = (item for page in self.pages() for item in records_of(page))
        return self._records

    def __next__(self) -> dict:
        return next(self._records if self._records is not None else iter(self))

    def native(self, decode: Callable[[bytes], Any]) -> Stream:
        """Have every page's raw bytes parsed by ``decode`` (in the worker thread that fetched it) and return this
        stream. ``decode`` returns the page's body with its records as a :class:`Batch` (e.g. an Arrow table built
        without a Python object per value); the loop's guards, dedupe, ``max_items`` and resume tokens work on it
        as on lists. For frames and files, not for records: ``page.items`` may then be a Batch. A transport that only
        gives parsed bodies (a test double), or a stream already started, keeps its lists."""
        if not self._started and isinstance(self._transport, Transport) and self.native_ok:
            self._decode = decode
        return self

    def cancel(self) -> None:
        """Stop the requests in flight: no further attempt is sent, and a wait for one ends at once. Safe from any
        thread (a fan-out cancels its children's listings while they run in its workers)."""
        self._cancelled.set()

    def close(self) -> None:
        """Stop paging now: requests in flight send no further attempt, and what they bring is discarded."""
        self.cancel()
        if self._generator is not None:
            self._generator.close()

    def __enter__(self) -> Stream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def resumed(self, token: str | None) -> Stream:
        """A fresh stream of the same query that continues after ``token`` (from the start when None)."""
        if self._reopen is None:
            raise GenesysError("This stream cannot be reopened.")
        return self._reopen(token)

    def total_hint(self) -> int | None:
        """The number of records the listing will give, when the API can tell (for progress bars and ETAs)."""
        if self.stats.total is not None:
            return self.stats.total
        if self._total_hint is None:
            return None
        try:
            return self._total_hint()
        except GenesysError:
            return None

    # -- the loop ----------------------------------------------------------------------------------------------------
    def _token(self, strategy: str, position: Any, pages: int, items: int) -> str:
        return encode_token({"f": self.fingerprint, "s": strategy, "p": position, "n": pages, "i": items})

    def _fetcher(self, paginator: Paginator) -> Callable[[Any], Response]:
        """What a worker thread runs for one position. It holds no reference to the stream, so that an abandoned
        stream is garbage collected (which closes its generator and cancels the requests in flight)."""
        extra: dict[str, Any] = {"decode": self._decode} if self._decode is not None else {}
        if isinstance(self._transport, Transport):
            extra["refuse_as"] = PagingError  # a link the API sent to another host is a paging fault
            extra["cancel"] = self._cancelled  # a closed stream's workers stop retrying at once
        return functools.partial(_fetch, self._transport, paginator, extra)

    def count_request(self, response: Response) -> None:
        """Count a request the listing sent besides its pages (an audit job's start and polls) in ``stats``."""
        self._account(response)

    def _account(self, response: Response) -> None:
        s = self.stats
        s.requests += response.attempts
        s.retries += response.attempts - 1
        s.rate_limited += response.rate_limited
        s.bytes += response.nbytes

    def _run(self) -> Generator[Page, None, None]:
        self.stats.started = time.monotonic()
        executor = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="genesys-nb-page")
        completed = False
        try:
            plans = list(self._plans)
            while True:
                plan = plans.pop(0)
                try:
                    yield from self._walk(plan.paginator, executor, first_try=bool(plans))
                    break
                except _FirstPageFailed as failed:  # only a plan's very first page may send us to the next plan
                    exc = failed.error
                    if not isinstance(exc, plan.fall_back_on):
                        raise exc from None
                    reason = plan.why(exc) if plan.why else str(exc)
                    self.stats.fallbacks.append(reason)
                    log.warning("%s", reason)
            completed = True
        finally:
            # A finished stream leaves nothing running: requests already in flight past the end (a concurrent
            # window's guesses) are waited for, at most one request's time. A stream closed early or failing does
            # not wait; its in-flight requests end in the background and are discarded.
            if not completed:
                self._cancelled.set()
            executor.shutdown(wait=completed, cancel_futures=True)
            self.stats.finished = time.monotonic()

    def _walk(self, paginator: Paginator, executor: ThreadPoolExecutor, first_try: bool) -> Iterator[Page]:
        s = self.stats
        s.strategy, s.endpoint = paginator.name, paginator.path
        if self._start is not None:
            _, position, pages_done, items_done = self._start
        else:
            position, pages_done, items_done = paginator.start, 0, 0
        if self.max_items is not None and self.max_items == 0:
            self.resume_token = None
            return
        concurrent = self.concurrency > 1 and not paginator.sequential
        dedupe = paginator.dedupes
        seen = SeenIds()
        totals: list[int] = []
        empties = 0
        yielded = 0
        previous_ids: tuple | None = None
        pending: dict[bytes, Future] = {}
        fetch = self._fetcher(paginator)

        def submit(pos: Any) -> None:
            key = orjson.dumps(pos)  # positions are JSON values; some (auto's [style, position]) are unhashable
            if key not in pending:
                pending[key] = executor.submit(fetch, pos)

        submit(position)
        if concurrent:
            # Open the whole window at once rather than waiting for page 1's pageCount: one latency round fewer.
            # Pages past the end come back empty and are discarded; max_items bounds the guess.
            span = self.concurrency
            size = paginator.page_size
            if self.max_items is not None:  # never request beyond the page that meets max_items
                span = min(span, -(-self.max_items // size)) if size else 1
            for ahead in paginator.following(position, span - 1):
                submit(ahead)
        first = True
        page_limit: int | None = None  # page numbers: how far to follow a pageCount that keeps growing
        fetched = 0  # pages read by this run
        guard = _LoopGuard(paginator, position)
        while True:
            future = pending.pop(orjson.dumps(position))
            try:
                response = future.result()
            except GenesysError as exc:
                if first and first_try:
                    raise _FirstPageFailed(exc) from exc
                raise
            first = False
            self._account(response)
            body = response.body
            items = paginator.items(body)
            total = paginator.total(body)
            if total is not None:
                totals.append(total)
                s.total = total if s.total is None else s.total
            next_position = paginator.advance(position, body, items)
            looping = guard.check_page(items, total, next_position)  # raised after this page is handed over
            fetched += 1
            count = paginator.page_count(body)
            if count is not None and page_limit is None:
                page_limit = 2 * count + 10
            if page_limit is not None and next_position is not None and fetched >= page_limit:
                self._warn_growth(paginator, page_limit)
                next_position = None
            # Guards against APIs that page forever.
            if paginator.guards_repeats:
                ids = _page_ids(items)
                if ids and ids == previous_ids:
                    raise PagingError(f"{paginator.path} returned the same page twice; stopping instead of looping.")
                previous_ids = ids
                empties = empties + 1 if not items else 0
                if empties >= MAX_EMPTY_PAGES and next_position is not None:
                    raise PagingError(f"{paginator.path} returned {MAX_EMPTY_PAGES} empty pages in a row but still "
                                      f"offers a next page; stopping instead of looping forever.")
            page_length = len(items)  # before dedupe: the API's page size, for sizing the window
            if dedupe:
                items = self._drop_repeats(items, seen)
                guard.check_fresh(page_length, len(items), next_position)
            if self.max_items is not None and yielded + len(items) >= self.max_items:
                items = _head(items, self.max_items - yielded)
                next_position = None  # met: no request goes out beyond this page
            # Keep the pipeline full before handing the page over: the next request(s) fly while the consumer works.
            if next_position is not None:
                submit(next_position)
                if concurrent:
                    extra = self.concurrency - 1
                    if self.max_items is not None and page_length:
                        # Pages still needed after this one, at this page's length: none beyond max_items.
                        left = self.max_items - yielded - len(items)
                        extra = min(extra, -(-left // page_length) - 1)
                    for ahead in paginator.following(next_position, extra, count):
                        submit(ahead)
            pages_done += 1
            yielded += len(items)
            s.pages += 1
            s.items += len(items)
            token = self._token(paginator.name, next_position, pages_done, items_done + yielded) \
                if next_position is not None else None
            self.resume_token = token
            if self._rows is not None and isinstance(items, list):
                items = self._rows(items)
            yield Page(items, pages_done, token, total, response.nbytes)
            if looping is not None:
                raise looping
            if next_position is None:
                break
            position = next_position
        # Anything fetched beyond the end (concurrent windows) is dropped.
        for f in pending.values():
            f.cancel()
        if paginator.shifts and totals:
            self._warn_on_churn(paginator, totals)
        elif self.stats.duplicates_dropped:
            self._warn_repeats(paginator)

    def _drop_repeats(self, items: list | Batch, seen: SeenIds) -> list | Batch:
        """Drop records whose id this stream has returned already (records without an id are kept)."""
        keyed = _keyed(items)
        fresh = seen.first_time(key for _, key in keyed)
        repeated = {i for (i, _), new in zip(keyed, fresh) if not new}
        if not repeated:
            return items
        self.stats.duplicates_dropped += len(repeated)
        return _without(items, repeated)

    def _warn_repeats(self, paginator: Paginator) -> None:
        message = (f"{paginator.path} returned {self.stats.duplicates_dropped:,} {self.noun} it had already returned "
                   f"in this listing; the repeats were dropped.")
        self.stats.warnings.append(message)
        log.warning("%s", message)

    def _exact_advice(self) -> str:
        """What lists this exactly, from the plan the stream fell back from (e.g. the users cursor endpoint)."""
        return f"For an exact listing use {self._exact}. " if self._exact else ""

    def _warn_growth(self, paginator: Paginator, pages: int) -> None:
        message = (f"{self.description} ({paginator.path}) kept growing faster than it could be paged by page "
                   f"number: stopped after {pages:,} pages, twice the page count at the start. {self.noun.capitalize()}"
                   f" added or moved during the run may be missing. {self._exact_advice()}Run again when the org is "
                   f"quieter.")
        self.stats.warnings.append(message)
        log.warning("%s", message)

    def _warn_on_churn(self, paginator: Paginator, totals: list[int]) -> None:
        changes = sum(abs(b - a) for a, b in zip(totals, totals[1:]))
        dups = self.stats.duplicates_dropped
        if not changes and not dups:
            return
        missed = max(changes, dups)
        message = (f"The listing {self.description} changed while it was paged by page number (total "
                   f"{totals[0]:,} at the start, {totals[-1]:,} at the end; {dups:,} repeated records dropped). "
                   f"Page-number paging shifts when {self.noun} are added or removed, so up to {missed:,} "
                   f"{self.noun} may have been missed. {self._exact_advice()}Or run the export again.")
        self.stats.warnings.append(message)
        log.warning("%s", message)
