"""CSV: the tabular columns as text, nested columns as JSON text, timestamps as ``2025-06-01T12:00:00.000Z``.

Rows are appended to ``<name>.part`` (see :class:`~genesys_nb.export.writers.TextWriter`). Cells that a spreadsheet
would run as a formula are neutralised unless the export was started with ``csv_safe=False``
(:mod:`genesys_nb.export.textsafe`). Listings other than users keep the first chunk's columns.
"""

from __future__ import annotations

import io
from typing import Any

import orjson
import polars as pl

from . import Sink, register
from ..textsafe import neutralise_formulas
from ..writers import TextWriter

__all__ = ["CsvWriter", "csv_ready", "CSV_DATETIME", "SINK"]

CSV_DATETIME = "%Y-%m-%dT%H:%M:%S%.3fZ"


def csv_ready(df: pl.DataFrame, *, csv_safe: bool = True) -> pl.DataFrame:
    """``df`` as CSV cells: nested columns as JSON text (CSV has no nesting), and, unless ``csv_safe=False``, text
    that a spreadsheet would run as a formula neutralised with a leading ``'``."""
    exprs = []
    for name, dtype in df.schema.items():
        if isinstance(dtype, pl.Struct):
            exprs.append(pl.when(pl.col(name).is_null()).then(None).otherwise(pl.col(name).struct.json_encode())
                         .alias(name))
        elif isinstance(dtype, (pl.List, pl.Array)):
            # polars encodes structs only: wrap the list in a one-field struct and cut the wrapper off again.
            wrapped = pl.struct(pl.col(name).alias("v")).struct.json_encode()
            exprs.append(pl.when(pl.col(name).is_null()).then(None)
                         .otherwise(wrapped.str.slice(5, wrapped.str.len_chars() - 6)).alias(name))
        elif dtype == pl.Object:
            exprs.append(pl.col(name).map_elements(lambda v: orjson.dumps(v, default=str).decode(),
                                                   return_dtype=pl.String))
        else:
            exprs.append(pl.col(name))
    cells = df.select(exprs)
    return neutralise_formulas(cells) if csv_safe else cells


class CsvWriter(TextWriter):
    def __init__(self, target: Any, state: Any, **options: Any) -> None:
        super().__init__(target, state)

    def written_ids(self, key: str) -> set[str]:
        """The ``key`` column of the durable partial file (the file is cut to its checkpoint when opened)."""
        if self.offset == 0 or (self.state.columns is not None and key not in self.state.columns):
            return set()
        column = pl.scan_csv(self.target.part, infer_schema=False).select(key).collect()[key]
        return set(column.drop_nulls().to_list())

    def encode_frame(self, df: pl.DataFrame) -> bytes:
        columns = list(self.state.columns) if self.state.columns is not None else None
        if columns is None:
            if not df.width:
                return b""
            columns = list(df.columns)
            self.state = self.state.replace(columns=tuple(columns))
        elif list(df.columns) != columns:  # listings other than users: keep the first chunk's columns
            dropped = [c for c in df.columns if c not in columns]
            if dropped:
                note = (f"CSV keeps the columns of the first rows; later columns were left out: "
                        f"{', '.join(dropped[:10])}. Export to Parquet or NDJSON to keep them.")
                if note not in self.warnings:
                    self.warnings.append(note)
            df = df.select([pl.col(c) if c in df.columns else pl.lit(None).alias(c) for c in columns])
        header = self.offset == 0
        if not df.height and not header:
            return b""
        buf = io.BytesIO()
        csv_ready(df, csv_safe=self.state.csv_safe).write_csv(buf, include_header=header,
                                                             datetime_format=CSV_DATETIME, date_format="%Y-%m-%d")
        return buf.getvalue()

    def before_finish(self) -> None:
        columns = self.state.columns
        if self.offset == 0 and columns:  # no rows at all: still write the header line
            self.write((",".join(_csv_quote(c) for c in columns) + "\n").encode())


def _csv_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"' if any(c in name for c in ',"\n\r') else name


def _start(converter: Any) -> dict[str, Any]:
    """The header of a listing with a fixed schema is known before the first page: an empty export has it."""
    table = converter.table
    return {"columns": tuple(table.arrow_schema(converter.expand).names) if table is not None else None}


SINK = register(Sink(name="csv", label="CSV", suffixes=(".csv",), writer=CsvWriter, cells=True, start=_start))
