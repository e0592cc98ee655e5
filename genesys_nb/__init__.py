"""genesys-nb: a Genesys Cloud org's directory and access data as streams, frames, files and snapshots.

    import genesys_nb as gnb
    with gnb.connect(sandbox=True) as client:          # or gnb.connect("eu-west-1"), credentials from the environment
        df = client.users().to_polars()
        snap = client.snapshot("snapshots/2026-q4")     # every access table, one Parquet file each
    gnb.review(snap).to_excel("review.xlsx")
    gnb.profiles()                                     # the profiles of ~/.gc/config.toml and genesys-nb's own file
    gnb.across(["prod", "test"], lambda c: c.users().to_polars()).concat()   # many orgs at once, an org column

This module is the public face: everything else in the package is private and may change. Names that need polars
(frames, exports, snapshots, reviews) load on first use, so ``import genesys_nb`` needs neither polars nor pandas.
The official SDK (``PureCloudPlatformClientV2``) is never imported unless you hand ``connect(api_client=...)`` an
ApiClient of it.
"""

from __future__ import annotations

import importlib
from typing import Any

from ._http.regions import REGIONS
from ._http.retrying import RetryPolicy
from ._paging.fanout import FanOutStream
from ._paging.spec import ListingSpec
from ._paging.stream import Page, Stream, StreamStats
from ._version import __version__
from ._http.profiles import Profile
from ._http.profiles import list_profiles as profiles
from .client import Client, FanOutRecordStream, RecordStream, connect
from .orgs import AcrossResult, across
from .errors import (AuditQueryError, AuthenticationError, BadRequest, ConfigError, DeepPagingLimit, ExportError,
                     GenesysError, NetworkError, NotFound, PagingError, PermissionDenied, RateLimited, ServerError)

#: Public names loaded on first use (they need polars, pandas or ipywidgets): name -> (module, attribute).
_LAZY: dict[str, tuple[str, str]] = {
    "ExportSummary": (".export", "ExportSummary"),
    "ExportProgress": (".export", "ExportProgress"),
    "neutralise_formulas": (".export", "neutralise_formulas"),
    "FrameReader": ("._tables.frames", "FrameReader"),
    "active_with_email": ("._tables.filters", "active_with_email"),
    "pushdown": (".resources.users", "pushdown"),
    "open_snapshot": (".snapshot", "open_snapshot"),
    "Snapshot": (".snapshot", "Snapshot"),
    "Manifest": (".snapshot", "Manifest"),
    "SnapshotPlan": (".snapshot.plan", "SnapshotPlan"),
    "findings": ("._review", "findings"),
    "admin_roles": ("._review", "admin_roles"),
    "RULES": ("._review", "RULES"),
    "diff": ("._review", "diff"),
    "SnapshotDiff": ("._review", "SnapshotDiff"),
    "review": ("._review", "review"),
    "Review": ("._review", "Review"),
}

__all__ = [
    "connect", "Client", "RecordStream", "FanOutRecordStream", "Stream", "FanOutStream", "Page", "StreamStats",
    "ListingSpec", "RetryPolicy", "REGIONS", "__version__", "profiles", "Profile", "across", "AcrossResult",
    "GenesysError", "ConfigError", "AuthenticationError", "PermissionDenied", "NotFound", "BadRequest",
    "RateLimited", "ServerError", "NetworkError", "PagingError", "DeepPagingLimit", "ExportError", "AuditQueryError",
    "widgets", *_LAZY,
]


def __getattr__(name: str) -> Any:
    """Load ``gnb.widgets`` (the notebook panels) and the names of :data:`_LAZY` on first use."""
    if name == "widgets":
        return importlib.import_module(".widgets", __name__)
    if name in _LAZY:
        module, attribute = _LAZY[name]
        return getattr(importlib.import_module(module, __name__), attribute)
    raise AttributeError(f"module 'genesys_nb' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
