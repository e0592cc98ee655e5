"""Exception types of genesys-nb.

Every error the toolkit raises derives from :class:`GenesysError`. Errors that come from an API response carry the
HTTP status, the API's own ``code`` and ``message``, and the correlation id (``ININ-Correlation-Id``) that Genesys
support asks for. None of them ever carries a secret or a bearer token.

A message names the arguments it refers to with :class:`Arg` placeholders, so that one message reads right in the
interface the user is in: ``str(exc)`` says ``overwrite=True`` (Python), ``exc.spelled("shell")`` says
``--overwrite`` (the command line)::

    raise ExportError("{path!r} exists. Pass {overwrite} to replace it.", fields={"path": "a.csv"},
                      refers_to={"overwrite": Arg("overwrite", True)})
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

Interface = Literal["python", "shell"]

__all__ = [
    "Arg",
    "Interface",
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


@dataclass(frozen=True)
class Arg:
    """An argument a message refers to, spelled for the interface the user is in.

    ``Arg("overwrite", True)`` reads ``overwrite=True`` in Python and ``--overwrite`` at the shell;
    ``Arg("format", "parquet")`` reads ``format='parquet'`` and ``--format parquet``; ``Arg("api_url")`` (value None: no value)
    reads ``api_url=`` and ``--api-url``. ``flag`` is the shell spelling when it is not ``--`` + the name with
    dashes; ``python`` replaces the Python spelling (e.g. ``"a region"`` for a positional argument).
    """

    name: str
    value: Any = None
    flag: str | None = None
    python: str | None = None

    def spell(self, interface: Interface = "python") -> str:
        if interface == "shell":
            flag = self.flag or "--" + self.name.replace("_", "-")
            if self.value is None or self.value is True:
                return flag
            return f"{flag} {shlex.quote(str(self.value))}"
        if self.python is not None:
            return self.python
        return f"{self.name}=" if self.value is None else f"{self.name}={self.value!r}"


class GenesysError(Exception):
    """Base class: something went wrong talking to Genesys Cloud or using the toolkit.

    ``message`` may hold ``{name}`` placeholders: each is filled with ``refers_to[name]`` spelled for the interface
    (an :class:`Arg`), or with ``fields[name]`` (any value, with the usual format spec such as ``{path!r}``).
    """

    def __init__(
        self,
        message: str,
        *,
        status: int | None = None,
        code: str | None = None,
        api_message: str | None = None,
        correlation_id: str | None = None,
        url: str | None = None,
        refers_to: Mapping[str, Arg] | None = None,
        fields: Mapping[str, Any] | None = None,
    ) -> None:
        self.template = message
        self.refers_to = dict(refers_to or {})
        self.fields = dict(fields or {})
        super().__init__(self._render("python"))
        self.status = status
        self.code = code
        self.api_message = api_message
        self.correlation_id = correlation_id
        self.url = url

    @property
    def arguments(self) -> tuple[str, ...]:
        """The Python names of the arguments the message refers to."""
        return tuple(arg.name for arg in self.refers_to.values())

    def _render(self, interface: Interface) -> str:
        if not self.refers_to and not self.fields:
            return self.template
        values = {**self.fields, **{key: arg.spell(interface) for key, arg in self.refers_to.items()}}
        return self.template.format_map(values)

    def spelled(self, interface: Interface = "python") -> str:
        """The message for ``interface``: arguments as ``name=value`` (python) or as ``--flags`` (shell)."""
        return self._with_details(self._render(interface))

    def __str__(self) -> str:
        return self._with_details(super().__str__())

    def _with_details(self, text: str) -> str:
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
