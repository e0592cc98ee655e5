"""One module per endpoint family; each declares its paths, paging plan, argument checks, expands and columns.

Importing this package registers every resource in :data:`REGISTRY` (name -> :class:`Resource`).
"""

from . import audits, divisions, generic, groups, licenses, queues, roles, users  # noqa: F401  (registers them)
from .base import REGISTRY, FanOut, ListingSpec, Resource

__all__ = ["REGISTRY", "Resource", "ListingSpec", "FanOut"]
