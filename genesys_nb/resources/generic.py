"""Any listing endpoint by path (``client.paginate``): paged in the style named, or the one its first page shows."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..errors import ConfigError
from .._paging.paginators import STRATEGIES, DetectingPaginator
from .._paging.stream import Plan, check_concurrency, check_max_items
from .base import ListingSpec, Resource, register


def paginate_spec(path: Any, params: Mapping[str, Any] | None = None, *, strategy: Any = "auto",
                  items_key: str | None = None, max_items: Any = None, concurrency: Any = 1) -> ListingSpec:
    if not isinstance(path, str) or not path.startswith("/api/v2/"):
        raise ConfigError(f"path must be an API path starting with /api/v2/, not {path!r}.")
    if strategy != "auto" and strategy not in STRATEGIES:
        raise ConfigError(f"strategy must be 'auto' or one of {', '.join(STRATEGIES)}, not {strategy!r}.")
    check_max_items(max_items)
    return ListingSpec("paginate", tuple(sorted(dict(params or {}).items())),
                       (("items_key", items_key), ("path", path), ("strategy", strategy)), max_items=max_items,
                       concurrency=check_concurrency(concurrency))


def _plans(spec: ListingSpec, api: Any = None) -> list[Plan]:
    path, strategy, key = spec.option("path"), spec.option("strategy"), spec.option("items_key")
    params = dict(spec.params)
    paginator = (DetectingPaginator(path, params, items_key=key) if strategy == "auto"
                 else STRATEGIES[strategy](path, params, items_key=key))
    return [Plan(paginator)]


RESOURCE = register(Resource("paginate", None, plans=_plans))
