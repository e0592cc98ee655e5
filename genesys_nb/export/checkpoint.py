"""The checkpoint of an interrupted export: a typed, frozen record, read and written here and nowhere else.

``<name>.checkpoint.json`` (:func:`checkpoint_path`) sits next to the output while an export is unfinished. It says
which query wrote it (format, fingerprint, filter), how far the durable data goes (a byte offset, or a number of
Parquet parts), and what the last durable write was (:class:`Tail`: which file, which bytes, their SHA-256), so a
resume can verify the partial file before trusting it. Every field is type-checked when read: a checkpoint that is
damaged, edited or from another version is refused with an :class:`ExportError` that says to start over.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from ..errors import ExportError
from .checks import whole_number

__all__ = ["Checkpoint", "Tail", "CHECKPOINT_VERSION", "CHECKPOINT_SUFFIX", "checkpoint_path", "read_checkpoint",
           "write_checkpoint", "checkpoint_temp_name", "MAX_PARTS"]

CHECKPOINT_VERSION = 2          # 2: typed fields and the last durable write (version 1 had no Tail)
CHECKPOINT_SUFFIX = ".checkpoint.json"
MAX_PARTS = 999_999             # Parquet part names have six digits
_START_OVER = "Pass overwrite=True (--overwrite) to start over."


def checkpoint_path(path: str | os.PathLike) -> Path:
    """Where an unfinished export of ``path`` keeps its checkpoint."""
    path = Path(os.fspath(path)).expanduser()
    return path.with_name(path.name + CHECKPOINT_SUFFIX)


def checkpoint_temp_name(output_name: str, token: str | None = None) -> str:
    """A unique name for a checkpoint being written (then renamed onto :func:`checkpoint_path`)."""
    return f"{output_name}.checkpoint.{token or secrets.token_hex(4)}.json.tmp"


@dataclass(frozen=True)
class Tail:
    """The last durable write: bytes ``start`` to ``end`` of ``file`` (a name in the output's folder, or in its
    ``.parts`` folder for Parquet), whose SHA-256 is ``sha256``."""

    file: str
    start: int
    end: int
    sha256: str


@dataclass(frozen=True)
class Checkpoint:
    """Where an unfinished export got to. ``offset`` is the partial file's durable length (NDJSON, CSV); ``parts``
    the number of closed Parquet parts. ``rows``... ``seconds`` add up every run of the export."""

    format: str
    path: str                       # the final file's name
    fingerprint: str | None = None  # the query's (state, expand, page size...)
    where: str = ""                 # the record filter's key
    fixed_schema: bool = False      # a listing with a fixed schema (not inferred columns)
    expand: tuple[str, ...] = ()
    overwrite: bool = False         # replace an existing final file when done
    csv_safe: bool = True           # CSV cells that could run as formulas are neutralised
    content: str | None = None      # what the sink writes (NDJSON: the API's own records)
    columns: tuple[str, ...] | None = None  # CSV: the header
    resume_token: str | None = None  # the listing after the last durable page
    complete: bool = False           # every page is durable; only the finishing step is left
    records: int = 0
    rows: int = 0
    pages: int = 0
    requests: int = 0
    seconds: float = 0.0
    offset: int = 0
    parts: int = 0
    tail: Tail | None = None
    how: str = ""                    # how the listing paged (e.g. "strategy=pages"): a resume may change it
    drops_written: bool = False      # the listing restarted in another way: records the file holds are dropped
    updated: str = ""
    version: int = CHECKPOINT_VERSION

    def replace(self, **changes: Any) -> Checkpoint:
        return dataclasses.replace(self, **changes)

    def to_json(self) -> bytes:
        data = dataclasses.asdict(self)
        data["updated"] = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
        return orjson.dumps(data, option=orjson.OPT_INDENT_2)

    @classmethod
    def from_json(cls, raw: bytes, name: str) -> Checkpoint:
        """Parse and type-check a checkpoint file's bytes (``name`` is only for messages)."""
        try:
            data = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            raise ExportError(f"The checkpoint {name} cannot be read ({exc}). {_START_OVER}") from None
        if not isinstance(data, dict) or data.get("version") != CHECKPOINT_VERSION:
            raise ExportError(f"{name} is not a genesys-nb export checkpoint this version can resume. {_START_OVER}")
        fields = {f.name for f in dataclasses.fields(cls)}
        kwargs = {key: _checked(key, value, name) for key, value in data.items() if key in fields}
        for required in ("format", "path"):
            if required not in kwargs:
                raise ExportError(f"The checkpoint {name} lacks its {required!r} field. {_START_OVER}")
        checkpoint = cls(**kwargs)
        checkpoint._check_consistent(name)
        return checkpoint

    def _check_consistent(self, name: str) -> None:
        """Fields that contradict each other mean an edited or damaged checkpoint."""
        problem = None
        if self.rows > self.records:
            problem = f"it counts more rows ({self.rows:,}) than records fetched ({self.records:,})"
        elif self.records and not self.pages:
            problem = "it counts records but no pages"
        elif self.complete and self.resume_token is not None:
            problem = "it says the listing is complete but also where to continue it"
        elif self.tail is not None and not self.tail.start <= self.tail.end:
            problem = "its last write ends before it starts"
        elif self.parts > MAX_PARTS:
            problem = f"it counts {self.parts:,} Parquet parts (at most {MAX_PARTS:,} exist)"
        if problem:
            raise ExportError(f"The checkpoint {name} does not add up: {problem}. {_START_OVER}")


_STR_FIELDS = {"format", "path", "where", "updated", "how"}
_OPTIONAL_STR = {"fingerprint", "content", "resume_token"}
_BOOL_FIELDS = {"fixed_schema", "overwrite", "csv_safe", "complete", "drops_written"}
_INT_FIELDS = {"records", "rows", "pages", "requests", "offset", "parts", "version"}


def _checked(key: str, value: Any, name: str) -> Any:
    """One checkpoint field, type-checked (the JSON form turned into the dataclass's)."""
    def wrong(expected: str) -> ExportError:
        return ExportError(f"The checkpoint {name} is damaged: {key!r} should be {expected}, not {value!r}. "
                           f"{_START_OVER}")

    if key in _INT_FIELDS:
        return whole_number(value, f"The checkpoint {name}'s {key!r}", advice=_START_OVER)
    if key in _STR_FIELDS:
        if not isinstance(value, str):
            raise wrong("text")
        return value
    if key in _OPTIONAL_STR:
        if value is not None and not isinstance(value, str):
            raise wrong("text or null")
        return value
    if key in _BOOL_FIELDS:
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if key == "seconds":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
            raise wrong("a number of seconds")
        return float(value)
    if key in ("expand", "columns"):
        if value is None and key == "columns":
            return None
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise wrong("a list of names")
        return tuple(value)
    if key == "tail":
        if value is None:
            return None
        if not isinstance(value, dict) or set(value) != {"file", "start", "end", "sha256"} \
                or not isinstance(value["file"], str) or not isinstance(value["sha256"], str):
            raise wrong("the last write (file, start, end, sha256)")
        return Tail(file=value["file"], sha256=value["sha256"],
                    start=whole_number(value["start"], f"The checkpoint {name}'s tail start", advice=_START_OVER),
                    end=whole_number(value["end"], f"The checkpoint {name}'s tail end", advice=_START_OVER))
    return value  # pragma: no cover - every field is listed above


def read_checkpoint(path: Path) -> Checkpoint:
    """The checkpoint at ``path``, refusing a symbolic link or anything that is not a regular file."""
    from .safefiles import read_regular_file

    try:
        raw = read_regular_file(path)
    except OSError as exc:
        raise ExportError(f"The checkpoint {path.name} cannot be read ({exc.strerror or exc}). {_START_OVER}") \
            from None
    return Checkpoint.from_json(raw, path.name)


def write_checkpoint(path: Path, checkpoint: Checkpoint) -> None:
    """Replace the checkpoint at ``path`` atomically (a fresh, uniquely named file renamed onto it)."""
    from .durable import atomic_write

    atomic_write(path, checkpoint.to_json(), temp_name=checkpoint_temp_name(checkpoint.path))
