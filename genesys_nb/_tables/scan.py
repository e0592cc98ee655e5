"""Any listing with a fixed schema as a polars ``LazyFrame``, on polars' IO-plugin API
(``polars.io.plugins.register_io_source``).

Each ``collect()`` (or sink) pages the API again, one page at a time, and:

* converts every page into the fixed schema, applies the query's predicate and keeps only the projected columns
  before handing the page to polars (polars does not filter plugin sources again, so the source must);
* asks only for the expand values that the projected and filtered columns need: a column that is filled only when
  expanded (``date_last_login`` by ``dateLastLogin``) gets its expand when the query reads it, and nested columns
  of expand values the scan was made with are requested only when the query reads them;
* pushes ``n_rows`` into the listing: ``lf.head(10).collect()`` sends one request with ``max_items=10``;
* hands the predicate to the resource's pushdown hook, which may turn parts of it into API parameters. For users,
  ``pl.col("state") == "inactive"`` lists with ``state=inactive``, ``pl.col("state").is_in(["active",
  "inactive"])`` runs two listings (one per state), and a filter that rules every state out sends no request. Only
  the parts of an ``&`` chain that touch nothing but those columns are pushed; the whole predicate is still applied
  to every page, so results never depend on what was pushed.

``lf.explain()`` shows the source as ``PYTHON[genesys_<table>] SCAN`` with an ``INFO`` line saying what the source
pushes, and polars' own lines show the projected columns and the predicate (``SELECTION``) it received.
:func:`pushdown` tells, for a given predicate, which API listings a collect would run.

Caveat from polars: with the streaming engine, a query that stops early (``filter(...).head(n)``) may leave the
page generator suspended (not closed) until a later query; at most the one request already in flight finishes.
Keep the client open (or its ``with`` block) for as long as you query, and close it when done.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from typing import Any, cast

import polars as pl
from polars.io.plugins import register_io_source

from .._paging.spec import ListingSpec
from .._paging.stream import Stream
from .schema import TableSchema

__all__ = ["scan", "conjuncts", "expand_for_query"]

log = logging.getLogger("genesys_nb.scan")

#: A resource's pushdown hook: (predicate, spec, conjuncts) -> the specs to list (several: one per pushed value).
Pushdown = Callable[[Any, Any, Callable[[Any], list]], list]


def conjuncts(predicate: pl.Expr | None) -> list[pl.Expr]:
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
        out.extend(conjuncts(child))
    return out


def expand_for_query(table: TableSchema, declared: tuple[str, ...], with_columns: list[str] | None,
                     predicate: pl.Expr | None) -> tuple[str, ...]:
    """The expand values one collect asks for: those the read columns need, among the scan's declared ones, plus
    the expands that fill always-present columns (``dateLastLogin``) when those are read."""
    read = set(with_columns) if with_columns is not None else set(table.column_names(declared))
    if predicate is not None:
        try:
            read |= set(predicate.meta.root_names())
        except Exception:  # an expression polars cannot name the columns of: read every declared column
            read |= set(table.column_names(declared))
    needed = table.expands_for(read)
    declared_keys = set(table.normalize_expand(declared))
    fill_only = {c.needs for c in table.columns if c.needs}
    keep = [e for e in declared if e in needed or e not in declared_keys]  # declared expands that add no column
    keep += [e for e in needed if e in fill_only and e not in keep]
    return tuple(keep)


def scan(open_stream: Callable[[ListingSpec], Stream], spec: ListingSpec, table: TableSchema, *,
         pushdown: Pushdown | None = None) -> pl.LazyFrame:
    """A LazyFrame over what ``open_stream(spec)`` lists; see the module docs for what is pushed down."""
    declared = tuple(spec.expand)
    schema = table.polars_schema(declared)
    page_size = spec.param("pageSize")

    def source(with_columns: list[str] | None, predicate: pl.Expr | None, n_rows: int | None,
               batch_size: int | None) -> Iterator[pl.DataFrame]:
        specs = pushdown(predicate, spec, conjuncts) if pushdown is not None else [spec]
        expand = expand_for_query(table, declared, with_columns, predicate)
        remaining = n_rows
        log.info("scan %s: %d listing(s), expand=%s, max_items=%s, columns=%s, predicate=%s", table.name,
                 len(specs), ",".join(expand) or "(none)", n_rows, with_columns, predicate)
        for listing in specs:
            if remaining is not None and remaining <= 0:
                return
            changes: dict[str, Any] = {"expand": expand}
            if remaining is not None:
                changes["max_items"] = remaining
                if isinstance(page_size, int):
                    params = {**dict(listing.params), "pageSize": max(1, min(page_size, remaining))}
                    changes["params"] = tuple(sorted(params.items()))
            stream = open_stream(listing.with_(**changes))
            try:
                for page in stream.pages():
                    # The scan's streams are never native (Stream.native): their pages hold record lists.
                    df = _conform(table.to_polars(cast("list[dict]", page.items), expand), schema)
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

    shown = [f"{k}={v}" for k, v in spec.params]
    detail = (" ".join(shown) + (f", expand={','.join(declared)}" if declared else "") +
              "; pushed to the API: " + ("the resource's filters, " if pushdown is not None else "") +
              "head(n) (as max_items), the expand values the query reads; projection and predicate applied per page")
    return register_io_source(source, schema=schema, validate_schema=True, is_pure=False,
                              explain_name=f"genesys_{table.name}", explain_detail=detail)


def _conform(df: pl.DataFrame, schema: pl.Schema) -> pl.DataFrame:
    """A page read with fewer expand values than the scan declares: the missing nested columns as nulls."""
    if df.columns == list(schema):
        return df
    return df.select([pl.col(n) if n in df.columns else pl.lit(None, dtype=t).alias(n) for n, t in schema.items()])
