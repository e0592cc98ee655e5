"""The frozen :class:`ListingSpec`: one listing's checked arguments, which a stream is opened (and reopened) from,
and which resume tokens and checkpoints fingerprint."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import orjson

__all__ = ["ListingSpec", "HOW_OPTIONS"]

#: Options that say how a listing pages, not what it lists: a resume may change them.
HOW_OPTIONS = frozenset({"strategy"})


@dataclass(frozen=True)
class ListingSpec:
    """One listing's checked arguments: what is listed and how. Frozen, so a stream can be reopened from it.

    ``params`` are the API query parameters (sorted pairs); ``options`` the resource's own choices that are not
    query parameters (a strategy, parent ids of a fan-out, an audit job's body)."""

    resource: str
    params: tuple[tuple[str, Any], ...] = ()
    options: tuple[tuple[str, Any], ...] = ()
    expand: tuple[str, ...] = ()
    max_items: int | None = None
    concurrency: int = 1

    @classmethod
    def make(cls, resource: str, params: Mapping[str, Any] | None = None, options: Mapping[str, Any] | None = None,
             **kw: Any) -> ListingSpec:
        clean = {k: v for k, v in (params or {}).items() if v is not None}
        return cls(resource, tuple(sorted(clean.items())), tuple(sorted((options or {}).items())), **kw)

    def param(self, name: str, default: Any = None) -> Any:
        return dict(self.params).get(name, default)

    def option(self, name: str, default: Any = None) -> Any:
        return dict(self.options).get(name, default)

    @property
    def query(self) -> dict[str, Any]:
        """The API query parameters as a dict (expand comma-joined, as the SDK sends lists)."""
        out = dict(self.params)
        if self.expand:
            out["expand"] = ",".join(self.expand)
        return out

    def fingerprint(self) -> str:
        """A short digest of what is listed (not of how: the strategy, how fast), so a token or checkpoint fits
        only this query; a checkpoint may be resumed with another strategy (see :meth:`how`)."""
        options = [o for o in self.options if o[0] not in HOW_OPTIONS]
        what = [self.resource, list(self.params), options, list(self.expand)]
        return hashlib.sha256(orjson.dumps(what, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()[:16]

    def how(self) -> str:
        """How it is listed (the options that are not part of the query, e.g. ``strategy=pages``), as text."""
        return " ".join(f"{k}={v}" for k, v in self.options if k in HOW_OPTIONS)

    def with_(self, **changes: Any) -> ListingSpec:
        return replace(self, **changes)
