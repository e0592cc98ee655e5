"""NDJSON: the lossless format, one record per line exactly as the API returned it (every field, nested objects
included), for users and for any other listing; ``where=`` selects which records are written."""

from __future__ import annotations

import json
from typing import Any

import orjson

from . import Sink, register
from ..writers import TextWriter

__all__ = ["NdjsonWriter", "NDJSON_CONTENT", "SINK"]

NDJSON_CONTENT = "api-records"  # checkpoints of NDJSON exports that write the API's own records say so


class NdjsonWriter(TextWriter):
    """The API's own records, one JSON object a line, encoded as each page arrives."""

    def __init__(self, target: Any, state: Any, **options: Any) -> None:
        super().__init__(target, state)

    def encode(self, piece: list[dict]) -> bytes:
        return b"".join([_line(record) for record in piece])

    def encode_all(self, pieces: list[bytes]) -> bytes:
        return b"".join(pieces)

    def written_ids(self, key: str) -> set[str]:
        """The ids of the records in the durable part of the partial file, one line at a time."""
        ids: set[str] = set()
        with open(self.target.part, "rb") as fh:
            left = self.offset
            for line in fh:
                if left <= 0:
                    break
                left -= len(line)
                value = orjson.loads(line).get(key) if line.strip() else None
                if isinstance(value, str):
                    ids.add(value)
        return ids


def _line(record: dict) -> bytes:
    """One record as a JSON line: orjson, or the standard library for what orjson cannot encode exactly (integers
    beyond 64 bits), so that no value is lost."""
    try:
        return orjson.dumps(record, option=orjson.OPT_APPEND_NEWLINE)
    except TypeError:
        return (json.dumps(record, ensure_ascii=False, separators=(",", ":"), allow_nan=False) + "\n").encode()


SINK = register(Sink(name="ndjson", label="NDJSON (JSON lines)", suffixes=(".ndjson", ".jsonl"),
                     aliases=("jsonl", "json"), writer=NdjsonWriter, records=True, content=NDJSON_CONTENT))
