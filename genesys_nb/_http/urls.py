"""Which URLs may carry the bearer token: API paths on the configured API host, and nothing else.

Every URL the transport is asked to request goes through :func:`resolve`: a path (``/api/v2/users``) or an absolute
URL (a ``nextUri``, a search ``nextPage``, a ``selfUri``) is resolved against the API host; another scheme, host or
port, credentials in the URL, or a path that leaves ``/api/v2/`` once its dot segments are removed
(``/api/v2/../../oauth/token``) are refused. :func:`quote_segment` quotes a value put into a path
(``/api/v2/users/{id}``) so that it stays one segment; :func:`is_api_path` / :func:`check_api_path` validate a
position read back from a resume token or a checkpoint.
"""

from __future__ import annotations

import re
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from ..errors import ConfigError

__all__ = ["API_PREFIX", "UrlRefused", "resolve", "is_api_path", "check_api_path", "quote_segment", "shown"]

API_PREFIX = "/api/v2/"
_DEFAULT_PORTS = {"http": 80, "https": 443}
_UNSAFE = re.compile(r"[\x00-\x20\x7f\\]")  # control characters, spaces and backslashes (read as "/" by some servers)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")  # urlsplit silently drops some of these: refuse them before it


class UrlRefused(ValueError):
    """A URL that must not be requested with the token; the message says why (and never shows credentials)."""


def shown(url: str) -> str:
    """``url`` as it may appear in an error: without any user name or password, at most 200 characters."""
    try:
        parts = urlsplit(url)
        if "@" in parts.netloc:
            url = urlunsplit(parts._replace(netloc="***@" + parts.netloc.rpartition("@")[2]))
    except ValueError:
        url = "(an unreadable URL)"
    return url if len(url) <= 200 else url[:197] + "..."


def _origin(scheme: str, host: str | None, port: int | None) -> tuple[str, str, int | None]:
    scheme = scheme.lower()
    return scheme, (host or "").lower().rstrip("."), port or _DEFAULT_PORTS.get(scheme)


def _remove_dot_segments(path: str) -> str | None:
    """RFC 3986 5.2.4 (``%2e`` counts as a dot); None when ``..`` would climb above the root."""
    out: list[str] = []
    segments = path.split("/")[1:]
    for i, segment in enumerate(segments):
        last = i == len(segments) - 1
        plain = unquote(segment) if "%" in segment else segment
        if plain == ".":
            if last:
                out.append("")
            continue
        if plain == "..":
            if not out:
                return None
            out.pop()
            if last:
                out.append("")
            continue
        out.append(segment)
    return "/" + "/".join(out)


def _api_path(path: str) -> str | None:
    """The normalised path when it is an API path (under ``/api/v2/``), else None."""
    if not path.startswith("/") or _UNSAFE.search(path):
        return None
    normal = _remove_dot_segments(path)
    if normal is None or not normal.startswith(API_PREFIX):
        return None
    return normal


def resolve(api_url: str, path_or_url: str) -> str:
    """The absolute URL for ``path_or_url`` on ``api_url`` (``scheme://host[:port]``); :class:`UrlRefused` when it
    names another origin, carries credentials, or is not an API path."""
    if not isinstance(path_or_url, str) or not path_or_url or _CONTROL.search(path_or_url):
        raise UrlRefused(f"{shown(path_or_url) if isinstance(path_or_url, str) else path_or_url!r} is not an API path")
    try:
        parts = urlsplit(path_or_url)
        api = urlsplit(api_url)
        port = parts.port
    except ValueError:
        raise UrlRefused(f"{shown(path_or_url)!r} is not a readable URL") from None
    if parts.scheme or parts.netloc:
        if "@" in parts.netloc:
            raise UrlRefused(f"{shown(path_or_url)!r} carries a user name or password")
        if _origin(parts.scheme, parts.hostname, port) != _origin(api.scheme, api.hostname, api.port):
            raise UrlRefused(f"{shown(path_or_url)!r} is not on the API host {api_url}")
    path = parts.path if parts.scheme or parts.netloc or path_or_url.startswith("/") else "/" + parts.path
    normal = _api_path(path)
    if normal is None:
        raise UrlRefused(f"{shown(path_or_url)!r} is not an API path under {API_PREFIX} (after removing '..')")
    return urlunsplit((api.scheme, api.netloc, normal, parts.query, ""))


def is_api_path(value: object) -> bool:
    """True for a relative API path such as ``/api/v2/users?pageNumber=3`` (no scheme, no host, no ``..`` that
    leaves ``/api/v2/``): what a ``next_uri`` position read from a resume token or a checkpoint must be."""
    if not isinstance(value, str) or _CONTROL.search(value):
        return False
    try:
        parts = urlsplit(value)
    except ValueError:
        return False
    return not (parts.scheme or parts.netloc or parts.fragment) and _api_path(parts.path) is not None


def check_api_path(value: object, what: str) -> str:
    """``value`` when :func:`is_api_path` accepts it; otherwise a :class:`ConfigError` naming ``what`` it was."""
    if not is_api_path(value):
        text = shown(value) if isinstance(value, str) else type(value).__name__
        raise ConfigError(f"{what} must be a relative API path starting with {API_PREFIX}, not {text!r}: "
                          f"it may have been edited. Start again without it.")
    assert isinstance(value, str)
    return value


def quote_segment(value: str | int, what: str = "path parameter") -> str:
    """``value`` URL-quoted as one path segment (``/`` becomes ``%2F``, ``%`` becomes ``%25``), so that an id such as
    ``"../authorization/roles"`` cannot reach another endpoint. Empty, ``.`` and ``..`` are refused."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise ConfigError(f"{what} must be a string, not {type(value).__name__}.")
    text = str(value)
    if text.strip() in ("", ".", ".."):
        raise ConfigError(f"{what} must be an id, not {text!r}.")
    return quote(text, safe="")
