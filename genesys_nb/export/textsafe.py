"""Text that is safe where it lands: in a spreadsheet (formula injection) and on a terminal (control characters).

CSV (formula) injection: text cells a spreadsheet would run as a formula are written as plain text.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return can be evaluated by Excel, LibreOffice
or Google Sheets (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``, ``@SUM(1+1)``). Following OWASP's CSV injection
guidance, :func:`neutralise_formulas` puts a single quote in front of such a cell, which spreadsheets show as text
and never evaluate. A plain number (``-5``, ``+13175550100``, ``-2.5``) cannot run as a formula and is left as it
is, so phone numbers in E.164 form keep their value. Every text export (``to_csv``, ``genesys-nb users head
--format csv``) applies it unless ``csv_safe=False``; NDJSON is the lossless format and is never altered.

Terminal injection: text read from a snapshot or the API (an org named ``"\x1b[2J..."``) could clear the screen or
retitle the window when printed. :func:`escape_controls` writes control characters (and the invisible bidi controls
that reorder a line) as escapes such as ``\x1b``, so what is printed is what is there.
"""

from __future__ import annotations

import re

import polars as pl

__all__ = ["neutralise_formulas", "escape_controls", "FORMULA_START", "PLAIN_NUMBER"]

#: What a cell that a spreadsheet may evaluate begins with.
FORMULA_START = r"^[=+\-@\t\r]"
#: A signed decimal number: it begins with + or - but cannot run as a formula.
PLAIN_NUMBER = r"^[+-]?[0-9]+(\.[0-9]+)?$"


def neutralise_formulas(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with every text cell that could run as a spreadsheet formula prefixed with ``'`` (other columns,
    nulls and plain numbers unchanged). Categorical and Enum columns are text as well (what DuckDB's ``ENUM`` and
    polars' categories give): they come back as String, since a prefixed value is none of their categories. Pure: a
    new frame, one vectorised expression per text column."""
    exprs = []
    for name, dtype in df.schema.items():
        if dtype == pl.String or isinstance(dtype, (pl.Categorical, pl.Enum)):
            col = pl.col(name).cast(pl.String)
            risky = col.str.contains(FORMULA_START) & ~col.str.contains(PLAIN_NUMBER)
            exprs.append(pl.when(risky).then(pl.lit("'") + col).otherwise(col).alias(name))
        else:
            exprs.append(pl.col(name))
    return df.select(exprs) if exprs else df


#: Control characters (C0 but the newline, DEL, C1) and the bidi controls that reorder what a line shows.
_CONTROLS = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def escape_controls(text: str) -> str:
    """``text`` for a terminal: every control character but the newline written as an escape (``\x1b``,
    ``\u202e``), everything else as it is."""
    return _CONTROLS.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)
