"""Progress bars with ``tqdm.auto``: a widget in Jupyter, a text bar on stderr in a terminal, nothing when off.

The bar counts records fetched, shows pages and rows written as a postfix, its rate, and an ETA when the listing's
total is known (``stream.total_hint()``, asked only when the bar is on). It never shows credentials or URLs with
tokens. ``TQDM_DISABLE=1`` silences every bar (useful in CI).
"""

from __future__ import annotations

import os
import sys
from typing import Any

__all__ = ["ProgressBar", "progress_bar"]


class _NullBar:
    n = 0

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix_str(self, *args: Any, **kwargs: Any) -> None:
        pass

    def close(self) -> None:
        pass


class ProgressBar:
    """Progress of a paged listing: ``page(page, written)`` after each page, ``close()`` at the end."""

    def __init__(self, stream: Any = None, *, enabled: bool = True, desc: str = "records", initial: int = 0,
                 initial_pages: int = 0, written: int = 0, total: int | None = None) -> None:
        self.pages = initial_pages
        self.written = written
        if not enabled:
            self._bar: Any = _NullBar()
            return
        if total is None and stream is not None:
            total = _total(stream)
        from tqdm.auto import tqdm  # imported when a bar is shown: it probes for Jupyter widgets

        # tqdm reads TQDM_DISABLE once, when it is first imported; read it for every bar instead.
        off = os.environ.get("TQDM_DISABLE", "").strip().lower() in ("1", "true", "yes")
        self._bar = tqdm(total=total, initial=initial, desc=desc, unit=" rec", unit_scale=True, dynamic_ncols=True,
                         file=sys.stderr, smoothing=0.1, disable=off)

    def page(self, records: int, written: int | None = None) -> None:
        """One page of ``records`` records was fetched; ``written`` rows have been written so far."""
        self.pages += 1
        if written is not None:
            self.written = written
        self._bar.set_postfix_str(f"pages={self.pages:,}, rows={self.written:,}", refresh=False)
        self._bar.update(records)  # after the postfix: the redraw shows the count and the postfix of the same page

    def close(self) -> None:
        self._bar.close()

    def __enter__(self) -> ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _total(stream: Any) -> int | None:
    hint = getattr(stream, "total_hint", None)
    if hint is None:
        return None
    try:
        value = hint()
    except Exception:  # a progress bar never fails an export
        return None
    return value if isinstance(value, int) and value >= 0 else None


def progress_bar(stream: Any = None, *, enabled: bool = True, desc: str = "records", initial: int = 0,
                 initial_pages: int = 0, written: int = 0, total: int | None = None) -> ProgressBar:
    """A :class:`ProgressBar` for ``stream`` (its total asked only when ``enabled``). ``initial`` records and
    ``initial_pages`` pages were fetched by an earlier run (resume); ``written`` rows are already in the file."""
    return ProgressBar(stream, enabled=enabled, desc=desc, initial=initial, initial_pages=initial_pages,
                       written=written, total=total)
