"""The users as a polars ``LazyFrame``, on polars' IO-plugin API (``polars.io.plugins.register_io_source``).

Each ``collect()`` (or sink) pages the API again, one page at a time, and:

* converts every page into the fixed user schema, applies the query's predicate and keeps only the projected
  columns before handing the page to polars (polars does not filter plugin sources again, so the source must);
* pushes ``n_rows`` into the listing: ``lf.head(10).collect()`` sends one request with ``max_items=10``;
* pushes filters on ``state`` into the API query: ``pl.col("state") == "inactive"`` lists with ``state=inactive``,
  ``pl.col("state").is_in(["active", "inactive"])`` runs two listings (one per state); a filter that rules every
  state out sends no request. Only the parts of an ``&`` chain that touch nothing but ``state`` are pushed; the
  whole predicate is still applied to every page, so results never depend on what was pushed.

``lf.explain()`` shows the source as ``PYTHON[genesys_users] SCAN`` with an ``INFO`` line saying what the source
pushes, and polars' own lines show the projected columns and the predicate (``SELECTION``) it received.
:func:`pushdown` tells, for a given predicate, which API listings a collect would run.

Caveat from polars: with the streaming engine, a query that stops early (``filter(...).head(n)``) may leave the
page generator suspended (not closed) until a later query; at most the one request already in flight finishes.
Keep the client open (or its ``with`` block) for as long as you query, and close it when done.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import polars as pl
from polars.io.plugins import register_io_source

from ..errors import ConfigError
from .._paging.stream import Stream
from .schema import user_schema, users_to_arrow

__all__ = ["scan", "pushdown"]

log = logging.getLogger("genesys_nb.scan")

STATES = ("active", "inactive", "deleted")
EXPLAIN_NAME = "genesys_users"


def pushdown(predicate: pl.Expr | None, state: str = "any") -> list[str]:
    """The API ``state`` values a collect with this predicate would list, in order: ``["any"]`` (or the scan's own
    state) when nothing can be pushed, ``["inactive"]``, ``["active", "inactive"]``, or ``[]`` (no request)."""
    allowed = list(STATES) if state == "any" else [state]
    for part in _conjuncts(predicate):
        try:
            if set(part.meta.root_names()) != {"state"}:
                continue
            keep = pl.DataFrame({"state": list(STATES)}).filter(part)["state"].to_list()
        except Exception:  # anything polars cannot evaluate on a probe is simply not pushed
            continue
        allowed = [s for s in allowed if s in keep]
    if len(allowed) == len(STATES):
        return ["any"]
    return allowed


def _conjuncts(predicate: pl.Expr | None) -> list[pl.Expr]:
    """The parts of a top-level ``a & b & c`` chain (the predicate itself when it is not one)."""
    if predicate is None:
        return []
    try:
        node = json.loads(predicate.meta.serialize(format="json"))
        is_and = isinstance(node, dict) and node.get("BinaryExpr", {}).get("op") == "And"
    except Exception:  # the JSON layout is internal to polars: without it, push nothing rather than guess
        return [predicate]
    if not is_and:
        return [predicate]
    out: list[pl.Expr] = []
    for child in predicate.meta.pop():
        out.extend(_conjuncts(child))
    return out


def scan(open_stream: Callable[[Mapping[str, Any]], Stream], *, expand: tuple[str, ...] = (), state: str = "any",
         page_size: int = 500) -> pl.LazyFrame:
    """A LazyFrame over the users that ``open_stream(kwargs)`` lists (``kwargs`` may hold ``state``, ``max_items``
    and ``page_size``); see the module docs for what is pushed down."""
    if state not in (*STATES, "any"):
        raise ConfigError(f"state must be one of {', '.join((*STATES, 'any'))}, not {state!r}.")
    expand = tuple(expand)
    schema = user_schema(expand)

    def source(with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None,
               batch_size: int | None) -> Iterator[pl.DataFrame]:
        states = pushdown(predicate, state)
        remaining = n_rows
        log.info("scan: listing state=%s, max_items=%s, columns=%s, predicate=%s", ",".join(states) or "(none)",
                 n_rows, with_columns, predicate)
        for listing_state in states:
            if remaining is not None and remaining <= 0:
                return
            kwargs: dict[str, Any] = {"state": listing_state, "page_size": page_size}
            if remaining is not None:
                kwargs["max_items"] = remaining
                kwargs["page_size"] = max(1, min(page_size, remaining))
            stream = open_stream(kwargs)
            try:
                for page in stream.pages():
                    df = pl.from_arrow(users_to_arrow(page.items, expand))
                    if predicate is not None:
                        df = df.filter(predicate)
                    if with_columns is not None:
                        df = df.select(with_columns)
                    if remaining is not None:
                        df = df.head(remaining)
                        remaining -= df.height
                    if df.height:
                        yield df
                    if remaining is not None and remaining <= 0:
                        break
            finally:
                stream.close()

    where = "all states" if state == "any" else f"state={state}"
    detail = (f"{where}, page_size={page_size}" + (f", expand={','.join(expand)}" if expand else "") +
              "; pushed to the API: state ==/is_in filters (as ?state=), head(n) (as max_items); "
              "projection and predicate applied per page")
    return register_io_source(source, schema=schema, validate_schema=True, is_pure=False,
                              explain_name=EXPLAIN_NAME, explain_detail=detail)
