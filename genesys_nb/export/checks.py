"""The small checks and words every export module shares: whole numbers, plurals, and sizes."""

from __future__ import annotations

from typing import Any

from .._checks import whole_number as _whole_number
from ..errors import ExportError

__all__ = ["whole_number", "plural", "human_bytes"]


def whole_number(value: Any, what: str, *, minimum: int = 0, maximum: int | None = None,
                 advice: str = "") -> int:
    """``value`` if it is a whole number (not a bool, not a float) from ``minimum`` to ``maximum``; else an
    :class:`ExportError` naming ``what`` (an argument, or a checkpoint field) and adding ``advice``."""
    return _whole_number(value, what, minimum=minimum, maximum=maximum, advice=advice, error=ExportError)


def plural(n: int, word: str, words: str | None = None) -> str:
    """``1 page``, ``2 pages``, ``1,000 pages``."""
    return f"{n:,} {word if n == 1 else (words or word + 's')}"


def human_bytes(n: int) -> str:
    """A file size in B, kB, MB or GB (decimal units): ``117.1 MB``, never ``117,147.7 kB``."""
    size = float(n)
    for unit in ("B", "kB", "MB", "GB"):
        if size < 1000 or unit == "GB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{n} B"  # pragma: no cover - the loop always returns
