"""CSV (formula) injection: text cells a spreadsheet would run as a formula are written as plain text.

A cell that begins with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return can be evaluated by Excel, LibreOffice
or Google Sheets (``=HYPERLINK(...)``, ``=cmd|' /C calc'!A0``, ``@SUM(1+1)``). Following OWASP's CSV injection
guidance, :func:`neutralise_formulas` puts a single quote in front of such a cell, which spreadsheets show as text
and never evaluate. A plain number (``-5``, ``+13175550100``, ``-2.5``) cannot run as a formula and is left as it
is, so phone numbers in E.164 form keep their value. Every text export (``to_csv``, ``genesys-nb users head
--format csv``) applies it unless ``csv_safe=False``; NDJSON is the lossless format and is never altered.
"""

from __future__ import annotations

import polars as pl

__all__ = ["neutralise_formulas", "FORMULA_START", "PLAIN_NUMBER"]

#: What a cell that a spreadsheet may evaluate begins with.
FORMULA_START = r"^[=+\-@\t\r]"
#: A signed decimal number: it begins with + or - but cannot run as a formula.
PLAIN_NUMBER = r"^[+-]?[0-9]+(\.[0-9]+)?$"


def neutralise_formulas(df: pl.DataFrame) -> pl.DataFrame:
    """``df`` with every text cell that could run as a spreadsheet formula prefixed with ``'`` (other columns,
    nulls and plain numbers unchanged). Pure: a new frame, one vectorised expression per text column."""
    exprs = []
    for name, dtype in df.schema.items():
        if dtype == pl.String:
            col = pl.col(name)
            risky = col.str.contains(FORMULA_START) & ~col.str.contains(PLAIN_NUMBER)
            exprs.append(pl.when(risky).then(pl.lit("'") + col).otherwise(col).alias(name))
        else:
            exprs.append(pl.col(name))
    return df.select(exprs) if exprs else df
