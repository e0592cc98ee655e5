"""Transport-neutral request and response values passed between the servers and the app."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import parse_qsl


@dataclass
class Request:
    """An HTTP request as the app sees it: path already percent-decoded, headers lower-cased."""

    method: str
    path: str
    query: list[tuple[str, str]] = field(default_factory=list)
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    @classmethod
    def build(cls, method: str, path: str, query_string: str = "", headers: dict[str, str] | None = None,
              body: bytes = b"") -> Request:
        """Parse a raw query string and normalise header names."""
        return cls(method.upper(), path, parse_qsl(query_string, keep_blank_values=True),
                   {k.lower(): v for k, v in (headers or {}).items()}, body)

    def param(self, name: str) -> str | None:
        """Last value of a query parameter, or None."""
        value = None
        for k, v in self.query:
            if k == name:
                value = v
        return value

    def params(self, name: str) -> list[str]:
        """All values of a list parameter, whether repeated or comma-joined."""
        out: list[str] = []
        for k, v in self.query:
            if k == name:
                out.extend(p.strip() for p in v.split(",") if p.strip())
        return out

    def query_dict(self) -> dict[str, str | list[str]]:
        """Query as a dict: a single value as str, a repeated parameter as a list."""
        out: dict[str, str | list[str]] = {}
        for k, v in self.query:
            if k in out:
                prev = out[k]
                out[k] = [*prev, v] if isinstance(prev, list) else [prev, v]
            else:
                out[k] = v
        return out


@dataclass
class Response:
    """An HTTP response; `drop=True` means close the connection without answering."""

    status: int
    body: bytes = b""
    headers: list[tuple[str, str]] = field(default_factory=list)
    drop: bool = False

    def header(self, name: str) -> str | None:
        """First header value by case-insensitive name."""
        name = name.lower()
        for k, v in self.headers:
            if k.lower() == name:
                return v
        return None
