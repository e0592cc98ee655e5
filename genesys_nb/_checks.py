"""The checks every layer makes of its arguments, in one place (the lowest layer, beside the errors)."""

from __future__ import annotations

from typing import Any

from .errors import ConfigError, GenesysError

__all__ = ["whole_number"]


def whole_number(value: Any, what: str, *, minimum: int = 0, maximum: int | None = None, allow_none: bool = False,
                 advice: str = "", error: type[GenesysError] = ConfigError) -> Any:
    """``value`` if it is a whole number (not a bool, not a float) from ``minimum`` to ``maximum`` (or None when
    ``allow_none``); else ``error`` naming ``what`` (an argument, a flag, a checkpoint field) and adding ``advice``."""
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum or (
            maximum is not None and value > maximum):
        bounds = f">= {minimum:,}" if maximum is None else f"from {minimum:,} to {maximum:,}"
        none = " or None" if allow_none else ""
        raise error(f"{what} must be a whole number {bounds}{none}, not {value!r}.{' ' + advice if advice else ''}")
    return value
