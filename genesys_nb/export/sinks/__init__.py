"""The export formats: one module per format declares a :class:`Sink` and registers it here.

The export orchestration, the CLI's ``--format`` choices and the export panel's format list all read this
registry, so a new format is one module that calls :func:`register` (and a format registered at run time, by a
plugin or a test, shows up in all three)::

    register(Sink(name="tsv", label="TSV", suffixes=(".tsv",), writer=TsvWriter))
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ...errors import Arg, ExportError

if TYPE_CHECKING:
    from ..checkpoint import Checkpoint
    from ..durable import Target
    from ..writers import Writer

__all__ = ["Sink", "register", "unregister", "sinks", "names", "sink_named", "sink_for_suffix", "format_of"]


@dataclass(frozen=True)
class Sink:
    """One export format.

    ``writer(target, checkpoint, converter=..., chunk_rows=...)`` builds its :class:`~genesys_nb.export.writers.Writer`;
    ``records`` says it takes the API's own records (NDJSON) rather than frames; ``content`` is stored in its
    checkpoints (one that says otherwise is not resumed); ``start(converter)`` gives the first checkpoint's
    format-specific fields; ``cells`` says it writes text cells a spreadsheet may evaluate (``csv_safe`` applies)."""

    name: str
    label: str
    suffixes: tuple[str, ...]
    writer: Callable[..., Writer]
    aliases: tuple[str, ...] = ()
    records: bool = False
    content: str | None = None
    cells: bool = False
    start: Callable[[Any], dict[str, Any]] = field(default=lambda converter: {})

    def __post_init__(self) -> None:
        if not self.name or not self.suffixes or not all(s.startswith(".") for s in self.suffixes):
            raise ValueError(f"A sink needs a name and suffixes that start with a dot, not {self!r}.")

    @property
    def suffix(self) -> str:
        """The suffix new files of this format get."""
        return self.suffixes[0]

    def make_writer(self, target: Target, checkpoint: Checkpoint, *, converter: Any, chunk_rows: int) -> Writer:
        return self.writer(target, checkpoint, converter=converter, chunk_rows=chunk_rows)


_REGISTRY: dict[str, Sink] = {}


def register(sink: Sink, *, replace: bool = False) -> Sink:
    """Add ``sink`` to the formats (``replace=True`` to redefine one); returns it."""
    if not replace:
        taken = {n for s in _REGISTRY.values() for n in (s.name, *s.aliases)}
        suffixes = {x for s in _REGISTRY.values() for x in s.suffixes}
        clash = ({sink.name, *sink.aliases} & taken) or (set(sink.suffixes) & suffixes)
        if clash:
            raise ValueError(f"The export format {sink.name!r} clashes with a registered one on {sorted(clash)}.")
    _REGISTRY[sink.name] = sink
    return sink


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def sinks() -> tuple[Sink, ...]:
    """The registered formats, in the order they were registered."""
    return tuple(_REGISTRY.values())


def names() -> tuple[str, ...]:
    return tuple(_REGISTRY)


def _listing() -> str:
    quoted = [f"'{n}'" for n in _REGISTRY]
    return ", ".join(quoted[:-1]) + f" or {quoted[-1]}" if len(quoted) > 1 else "".join(quoted)


def sink_named(name: Any) -> Sink:
    """The format called ``name`` (or one of its aliases, any case, with or without a dot)."""
    key = str(name).lower().lstrip(".")
    for sink in _REGISTRY.values():
        if key == sink.name or key in sink.aliases:
            return sink
    raise ExportError(f"Unknown export format {name!r}: use {_listing()}.")


def sink_for_suffix(suffix: str) -> Sink | None:
    suffix = suffix.lower()
    return next((s for s in _REGISTRY.values() if suffix in s.suffixes), None)


def format_of(path: str | os.PathLike, fmt: str | None = None) -> Sink:
    """The sink of ``fmt`` when given, else the one ``path``'s suffix names."""
    if fmt is not None:
        return sink_named(fmt)
    suffix = Path(os.fspath(path)).suffix.lower()
    found = sink_for_suffix(suffix)
    if found is None:
        suffixes = ", ".join(x for s in _REGISTRY.values() for x in s.suffixes)
        names = [s.name for s in _REGISTRY.values()]
        spoken = ", ".join(names[:-1]) + (" or " if len(names) > 1 else "") + names[-1]
        choice = Arg("format", flag=f"--format {spoken}", python=f"format={_listing()}")
        raise ExportError(f"Cannot tell the format of {Path(os.fspath(path)).name!r} from its suffix "
                          f"{suffix or '(none)'}: name the file {suffixes}, or pass {{format}}.",
                          refers_to={"format": choice})
    return found


from . import parquet, ndjson, csv  # noqa: E402,F401  (the built-in formats register themselves)
