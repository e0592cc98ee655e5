"""Exception types of genesys-nb.

Every error the toolkit raises derives from :class:`GenesysError`. Errors that come from an API response carry the
HTTP status, the API's own ``code`` and ``message``, and the correlation id (``ININ-Correlation-Id``) that Genesys
support asks for. None of them ever carries a secret or a bearer token.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "GenesysError",
    "ConfigError",
    "AuthenticationError",
    "PermissionDenied",
    "NotFound",
    "BadRequest",
    "RateLimited",
    "ServerError",
    "NetworkError",
    "PagingError",
    "DeepPagingLimit",
    "ExportError",
    "AuditQueryError",
]


class GenesysError(Exception):
    """Base class: something went wrong talking to Genesys Cloud or using the toolkit."""

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        api_message: str | None = None,
        correlation_id: str | None = None,
        url: str | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.api_message = api_message
        self.correlation_id = correlation_id
        self.url = url

    def __str__(self) -> str:
        text = super().__str__()
        extra = []
        if self.status is not None:
            extra.append(f"HTTP {self.status}")
        if self.code:
            extra.append(f"code {self.code}")
        if self.correlation_id:
            extra.append(f"correlation id {self.correlation_id}")
        return f"{text} ({', '.join(extra)})" if extra else text


class ConfigError(GenesysError, ValueError):
    """Bad input caught before any request: an unknown region, a bad page size, a missing credential."""


class AuthenticationError(GenesysError):
    """The login host refused the client credentials, or a token was rejected and could not be renewed."""


class PermissionDenied(GenesysError):
    """403: the OAuth client lacks a permission. ``missing_permissions`` lists what the API named."""

    def __init__(self, message: str, *, missing_permissions: tuple[str, ...] = (), **kw) -> None:
        super().__init__(message, **kw)
        self.missing_permissions = tuple(missing_permissions)


class NotFound(GenesysError):
    """404: the endpoint or entity does not exist (or is not available in this org)."""


class BadRequest(GenesysError, ValueError):
    """400 from the API: a parameter value the API would not accept."""


class RateLimited(GenesysError):
    """429 that the toolkit will not wait out: ``retry_after`` seconds is above the wait budget."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kw) -> None:
        super().__init__(message, **kw)
        self.retry_after = retry_after


class ServerError(GenesysError):
    """5xx (or a 200 whose body was not valid JSON) that persisted through every retry."""


class NetworkError(GenesysError):
    """Connection failures and timeouts that persisted through every retry."""


class PagingError(GenesysError):
    """A listing did not page sanely: a repeated page, endless empty pages, or an endless ``nextUri``."""


class DeepPagingLimit(PagingError):
    """The API refuses to page this deep with page numbers (the 10,000-record cap on ``state=inactive``)."""


class ExportError(GenesysError):
    """An export could not start or finish: the output folder, an existing file, a checkpoint that does not match."""


class AuditQueryError(GenesysError):
    """An audit query job failed, was cancelled, or did not finish in time; ``transaction_id`` names the job."""

    def __init__(self, message: str, *, transaction_id: str | None = None, **kw: Any) -> None:
        super().__init__(message, **kw)
        self.transaction_id = transaction_id
