"""genesys-nb: a Genesys Cloud org's user directory (and other listings) as streams, frames and files.

    import genesys_nb as gnb
    with gnb.connect(sandbox=True) as client:          # or gnb.connect("eu-west-1"), credentials from the environment
        df = client.users().to_polars()
    gnb.profiles()                                     # the profiles of ~/.gc/config.toml and genesys-nb's own file
    gnb.across(["prod", "test"], lambda c: c.users().to_polars()).concat()   # many orgs at once, an org column

The official SDK (``PureCloudPlatformClientV2``) is never imported unless you hand ``connect(api_client=...)`` an
ApiClient of it.
"""

from .client import Client, RecordStream, connect
from .orgs import AcrossResult, across
from ._http.profiles import Profile, list_profiles as profiles
from .errors import (AuthenticationError, BadRequest, ConfigError, DeepPagingLimit, ExportError, GenesysError,
                     NetworkError, NotFound, PagingError, PermissionDenied, RateLimited, ServerError)
from ._paging.stream import Page, Stream, StreamStats
from ._http.regions import REGIONS
from ._http.retrying import RetryPolicy

from ._version import __version__

__all__ = [
    "connect", "profiles", "across", "AcrossResult", "Profile", "Client", "RecordStream", "Stream", "Page", "StreamStats", "RetryPolicy", "REGIONS",
    "GenesysError", "ConfigError", "AuthenticationError", "PermissionDenied", "NotFound", "BadRequest",
    "RateLimited", "ServerError", "NetworkError", "PagingError", "DeepPagingLimit", "ExportError",
]


def __getattr__(name: str):
    """``gnb.widgets`` (the notebook panels) and ``gnb.active_with_email`` (a polars filter) load on first use, so
    that ``import genesys_nb`` needs neither ipywidgets nor polars."""
    import importlib

    if name == "widgets":
        return importlib.import_module(".widgets", __name__)
    if name == "active_with_email":
        return importlib.import_module("._tables.filters", __name__).active_with_email
    raise AttributeError(f"module 'genesys_nb' has no attribute {name!r}")
