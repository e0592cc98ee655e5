"""Fan-out streams: one child listing per parent (members of each group, grants of each role) as one stream.

The parents' ids are listed first (they are few: roles, groups, queues), sorted so that a resume finds its place
again. Child listings run ``concurrency`` parents at a time through the same transport, so they share the client's
pacing governor and retries; their rows are yielded in parent order, one page at a time, each page with a resume
token that names the parent and the child listing's own position. A parent that disappears mid-run (404) is
skipped with a warning; any other error stops the stream. Memory: at most ``concurrency`` parents' rows at once.
"""

from __future__ import annotations

import bisect
import logging
import threading
import time
from collections.abc import Callable, Generator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from ..errors import NotFound
from .stream import (Page, Stream, StreamStats, records_of, check_concurrency, check_max_items, decode_token,
                     encode_token)

__all__ = ["FanOutStream"]

log = logging.getLogger("genesys_nb.paging")

STYLE = "fanout"
#: One parent's pages: (rows, the child's resume token after the page, the page's total), or None if it vanished.
_Collected = tuple[str, "list[tuple[list[dict], str | None, int | None]] | None", StreamStats]


class FanOutStream(Stream):
    """A stream of rows from one child listing per parent; see the module docs."""

    def __init__(self, *, parents: Callable[[], list[str]], child: Callable[[str, str | None], Stream],
                 rows: Callable[[str, list[dict]], list[dict]], fingerprint: str, max_items: int | None = None,
                 concurrency: int = 1, resume: str | None = None, description: str = "",
                 reopen: Callable[[str | None], Stream] | None = None, noun: str = "records",
                 endpoint: str = "") -> None:
        check_max_items(max_items)
        self.concurrency = check_concurrency(concurrency)
        self._parents, self._child, self._to_rows = parents, child, rows
        self.fingerprint = fingerprint
        self.max_items = max_items
        self.description = description
        self._reopen = reopen
        self._total_hint = None
        self._decode = None
        self._rows = None
        self._exact = None
        self.noun = noun
        self._start: tuple[str, Any, int, int] | None = None
        if resume is not None:
            data = decode_token(resume)
            if data["f"] != fingerprint or data["s"] != STYLE:
                raise_mismatch()
            self._start = (STYLE, _checked_position(data["p"]), data["n"], data["i"])
        self.stats = StreamStats(endpoint=endpoint, strategy=STYLE)
        self.resume_token = resume
        self._started = False
        self._generator = None
        self._records = None
        self._cancelled = threading.Event()
        self._children: set[Stream] = set()  # child listings running in the workers, cancelled with the fan-out
        self._children_lock = threading.Lock()

    @property
    def native_ok(self) -> bool:
        return False

    def native(self, decode: Callable[[bytes], Any]) -> Stream:
        return self  # rows are built per parent in Python

    def _token(self, parent: str, child_token: str | None, pages: int, items: int) -> str:
        return encode_token({"f": self.fingerprint, "s": STYLE, "p": [parent, child_token], "n": pages, "i": items})

    def _collect(self, parent: str, token: str | None) -> _Collected:
        stream = self._child(parent, token)
        with self._children_lock:
            self._children.add(stream)
        if self._cancelled.is_set():  # closed while this parent waited for a worker
            stream.cancel()
        pages: list[tuple[list[dict], str | None, int | None]] = []
        try:
            for page in stream.pages():
                if self._cancelled.is_set():  # the fan-out was closed: stop this parent's listing too
                    stream.close()
                    break
                pages.append((self._to_rows(parent, records_of(page)), page.resume_token, page.total))
        except NotFound:
            return parent, None, stream.stats
        finally:
            with self._children_lock:
                self._children.discard(stream)
        return parent, pages, stream.stats

    def cancel(self) -> None:
        """Stop the requests in flight of every child listing too (see :meth:`Stream.cancel`)."""
        self._cancelled.set()
        with self._children_lock:
            children = list(self._children)
        for child in children:
            child.cancel()

    def _run(self) -> Generator[Page, None, None]:
        s = self.stats
        s.started = time.monotonic()
        ids = sorted(set(self._parents()))
        first, child_token, pages_done, items_done = 0, None, 0, 0
        if self._start is not None:
            _, position, pages_done, items_done = self._start
            parent, child_token = (position or [None, None])[:2]
            first = bisect.bisect_left(ids, parent) if parent is not None else len(ids)
            if first >= len(ids) or ids[first] != parent:
                child_token = None  # that parent is gone: continue with the next one
        executor = ThreadPoolExecutor(max_workers=self.concurrency, thread_name_prefix="genesys-nb-fanout")
        window: list[Future] = []
        nxt = first
        yielded = 0
        try:
            def fill() -> None:
                nonlocal nxt
                while nxt < len(ids) and len(window) < self.concurrency:
                    window.append(executor.submit(self._collect, ids[nxt], child_token if nxt == first else None))
                    nxt += 1

            fill()
            index = first
            while window:
                parent, pages, child_stats = window.pop(0).result()
                fill()
                self._account_child(parent, child_stats)
                following = ids[index + 1] if index + 1 < len(ids) else None
                index += 1
                if pages is None:
                    self._warn(f"{self.description}: {parent} disappeared during the run (404); skipped.")
                    pages = [([], None, None)]
                for position, (rows, token, _total) in enumerate(pages):
                    if self.max_items is not None and yielded + len(rows) >= self.max_items:
                        rows = rows[:self.max_items - yielded]
                        token, following, window[:] = None, None, []
                    last_of_parent = position == len(pages) - 1 or token is None
                    if not last_of_parent:
                        resume = self._token(parent, token, pages_done + 1, items_done + yielded + len(rows))
                    elif following is not None:
                        resume = self._token(following, None, pages_done + 1, items_done + yielded + len(rows))
                    else:
                        resume = None
                    pages_done += 1
                    yielded += len(rows)
                    s.pages += 1
                    s.items += len(rows)
                    self.resume_token = resume
                    yield Page(rows, pages_done, resume)
                    if last_of_parent:
                        break
                if self.max_items is not None and yielded >= self.max_items:
                    break
        finally:
            self.cancel()  # nothing of it is wanted any more, at the end or not
            executor.shutdown(wait=False, cancel_futures=True)
            s.finished = time.monotonic()

    def _account_child(self, parent: str, child: StreamStats) -> None:
        s = self.stats
        s.requests += child.requests
        s.retries += child.retries
        s.rate_limited += child.rate_limited
        s.bytes += child.bytes
        s.duplicates_dropped += child.duplicates_dropped
        s.parent_requests[parent] = child.requests
        for warning in child.warnings:
            self._warn(warning)

    def _warn(self, message: str) -> None:
        self.stats.warnings.append(message)
        log.warning("%s", message)


def _checked_position(position: Any) -> list | None:
    """A fan-out position read from a token: ``[parent id, child token or None]`` (the child token is checked by
    the child stream when it opens), or None at the end."""
    if position is None:
        return None
    if not (isinstance(position, list) and len(position) == 2 and isinstance(position[0], str) and position[0]
            and (position[1] is None or isinstance(position[1], str))):
        from ..errors import ConfigError

        raise ConfigError("The resume token's position is not one a fan-out listing writes: the token was edited or "
                          "damaged. Take a fresh one from page.resume_token, or start without resume=.")
    return position


def raise_mismatch() -> None:
    from ..errors import ConfigError

    raise ConfigError("This resume token belongs to a different query (another listing, or other parents). Resume "
                      "with the same arguments the token came from.")
